/* test_scheduler.c: the heap, and the in-memory schedule (sched_ram) on a real SQLite store: filled from the
 * store at start-up, fresh messages taken with their payload, keys read back by the loader thread in batches
 * (never by the caller of take), deliveries no longer pending dropped, fifo's boot head, the wait. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "heap.h"
#include "queue.h"
#include "scheduler.h"
#include "store.h"
#include "tests.h"

START_TEST(test_heap_order)
{
	struct heap h;
	heap_init(&h);
	int64_t due[] = {50, 10, 30, 10, 20, 40, 10};
	for (int i = 0; i < 7; i++)
		heap_push(&h, &(struct sched_item){.due_ms = due[i], .dkey = 100 - i, .attempts = -1});
	int64_t last_due = -1, last_key = -1;
	for (int i = 0; i < 7; i++) {
		struct sched_item it;
		heap_pop(&h, &it);
		ck_assert_int_ge(it.due_ms, last_due);
		if (it.due_ms == last_due)
			ck_assert_int_gt(it.dkey, last_key); /* ties: the smaller key first */
		last_due = it.due_ms;
		last_key = it.dkey;
	}
	ck_assert_ptr_null(heap_peek(&h));
	heap_dispose(&h);
}
END_TEST

/* ---- the in-memory schedule on a store ---- */

static struct store *st;
static char dir[64];
static struct config cfg;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int wakes;

static void wake(void)
{
	pthread_mutex_lock(&mu);
	wakes++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void mk_id(char out[ID_MAX], const char *prefix, int n) { snprintf(out, ID_MAX, "%s%027d", prefix, n); }

static void write_setup(bool fifo)
{
	struct app a = {.name = "a", .metadata = json_object(), .created_ms = 1, .updated_ms = 1};
	mk_id(a.id, "app_", 1);
	struct endpoint e = {.url = "http://127.0.0.1:9/", .description = "", .secret = "whsec_c2VjcmV0",
			     .metadata = json_object(), .headers = json_object(), .fifo = fifo};
	mk_id(e.id, "ep_", 1);
	memcpy(e.app_id, a.id, ID_MAX);
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	ck_assert_int_eq(st->w->app_put(st, &a), STORE_OK);
	ck_assert_int_eq(st->w->endpoint_put(st, &e), STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	json_decref(a.metadata);
	json_decref(e.metadata);
	json_decref(e.headers);
}

/* Message n to endpoint 1, pending, due at due; its delivery key. */
static int64_t write_msg(int n, int64_t due)
{
	struct message m = {0};
	char payload[32];
	mk_id(m.id, "msg_", n);
	mk_id(m.app_id, "app_", 1);
	m.event_type = "t";
	snprintf(payload, sizeof payload, "{\"n\":%d}", n);
	m.payload = payload;
	m.payload_len = strlen(payload);
	m.created_ms = 1000 + n;
	char ep[ID_MAX];
	mk_id(ep, "ep_", 1);
	const char *ptrs[1] = {ep};
	int64_t dkey = 0;
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	ck_assert_int_eq(st->w->msg_insert(st, &m, ptrs, 1, due, &dkey, NULL), STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	return dkey;
}

static void write_outcome(int64_t dkey, int status, int attempts)
{
	struct outcome o = {.dkey = dkey, .new_status = status, .attempts = attempts};
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	ck_assert_int_eq(st->w->outcomes_record(st, &o, 1), STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
}

static void setup(void)
{
	st = tests_sqlite_store(dir, "sched");
	config_init(&cfg);
	wakes = 0;
}

static void teardown(void)
{
	sched->dispose();
	store_close(st);
	config_dispose(&cfg);
	tests_rmdir(dir);
}

/* Take until want items came (the loader works in the background: wait for its wakeups), at most 5 s. */
static size_t take_until(struct sched_item *out, size_t want)
{
	size_t n = 0;
	int64_t deadline = mono_ms() + 5000;
	while (n < want && mono_ms() < deadline) {
		n += sched->take(now_ms(), out + n, want - n);
		if (n < want) {
			pthread_mutex_lock(&mu);
			int seen = wakes;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			while (wakes == seen && pthread_cond_timedwait(&cv, &mu, &ts) == 0)
				;
			pthread_mutex_unlock(&mu);
		}
	}
	return n;
}

START_TEST(test_fill_at_start_and_load_in_background)
{
	write_setup(false);
	int64_t k1 = write_msg(1, 1000), k2 = write_msg(2, 2000);
	write_outcome(k2, DS_PENDING, 2); /* a retry: two attempts made */
	ck_assert_int_eq(sched_init(&cfg, st, wake), 0);
	ck_assert_uint_eq(sched->count(), 2);
	struct sched_item out[4];
	/* without the loader nothing keyed comes back: take never reads the store itself */
	ck_assert_uint_eq(sched->take(now_ms(), out, 4), 0);
	sched->start();
	size_t n = take_until(out, 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(sched->count(), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(out[i].msg);
		ck_assert_int_eq(out[i].msg->dkeys[0], out[i].dkey);
		bool first = out[i].dkey == k1;
		ck_assert_str_eq(out[i].msg->m.payload, first ? "{\"n\":1}" : "{\"n\":2}");
		ck_assert_int_eq(out[i].attempts, first ? 0 : 2); /* the store's count */
		outmsg_unref(out[i].msg);
	}
	ck_assert_int_gt(wakes, 0);
}
END_TEST

START_TEST(test_fresh_message_keeps_its_payload)
{
	write_setup(false);
	ck_assert_int_eq(sched_init(&cfg, st, wake), 0);
	/* no store row: a fresh message due now is taken with the payload it came with, no read */
	struct message m = {0};
	mk_id(m.id, "msg_", 9);
	m.payload = xstrdup("{\"fresh\":true}");
	m.payload_len = strlen(m.payload);
	char(*ids)[ID_MAX] = xcalloc(2, sizeof *ids);
	mk_id(ids[0], "ep_", 1);
	mk_id(ids[1], "ep_", 2);
	struct outmsg *om = outmsg_new(&m, ids, 2);
	om->dkeys[0] = 77;
	om->dkeys[1] = 78;
	sched->insert(om);
	ck_assert_int_eq(wakes, 1);
	struct sched_item out[4];
	ck_assert_uint_eq(sched->take(now_ms(), out, 4), 2);
	ck_assert_ptr_eq(out[0].msg, out[1].msg);
	ck_assert_int_eq(out[0].dkey, 77);
	ck_assert_int_eq(out[1].ep_idx, 1);
	ck_assert_str_eq(out[0].msg->m.payload, "{\"fresh\":true}");
	outmsg_unref(out[0].msg);
	outmsg_unref(out[1].msg);
}
END_TEST

START_TEST(test_retry_by_key_dropped_when_no_longer_pending)
{
	write_setup(false);
	int64_t k1 = write_msg(1, 1000), k2 = write_msg(2, 1000);
	ck_assert_int_eq(sched_init(&cfg, st, wake), 0);
	struct sched_item out[4];
	sched->start();
	ck_assert_uint_eq(take_until(out, 2), 2);
	outmsg_unref(out[0].msg);
	outmsg_unref(out[1].msg);
	/* k1 succeeded meanwhile (another path); k2 is retried: only k2 comes back, with the attempts it carries */
	write_outcome(k1, DS_SUCCESS, 1);
	write_outcome(k2, DS_PENDING, 1);
	int64_t now = now_ms();
	struct sched_item retries[2] = {{now, k1, NULL, 0, 1}, {now, k2, NULL, 0, 1}};
	sched->retry(retries, 2);
	ck_assert_uint_eq(take_until(out, 1), 1);
	ck_assert_int_eq(out[0].dkey, k2);
	ck_assert_int_eq(out[0].attempts, 1);
	outmsg_unref(out[0].msg);
	/* k1 is dropped by the loader: the count goes back to 0 */
	int64_t deadline = mono_ms() + 5000;
	while (sched->count() > 0 && mono_ms() < deadline)
		usleep(1000);
	ck_assert_uint_eq(sched->count(), 0);
}
END_TEST

START_TEST(test_wait_until_due)
{
	write_setup(false);
	ck_assert_int_eq(sched_init(&cfg, st, wake), 0);
	ck_assert_int_eq(sched->wait_ms(now_ms(), 1000), 1000); /* nothing: the cap */
	int64_t now = now_ms();
	struct sched_item later = {now + 400, 5, NULL, 0, 1};
	sched->retry(&later, 1);
	struct sched_item out[1];
	ck_assert_uint_eq(sched->take(now, out, 1), 0); /* not due */
	int64_t w = sched->wait_ms(now, 1000);
	ck_assert_int_gt(w, 300);
	ck_assert_int_le(w, 400);
	ck_assert_int_eq(sched->wait_ms(now + 500, 1000), 0);
	ck_assert(sched->owns("ep_any"));
	char lost[2][ID_MAX];
	ck_assert_uint_eq(sched->lost(lost, 2), 0);
}
END_TEST

START_TEST(test_fifo_boot_head)
{
	write_setup(true);
	int64_t k1 = write_msg(1, 9000);
	write_msg(2, 1000);
	ck_assert_int_eq(sched_init(&cfg, st, wake), 0);
	char ep[ID_MAX];
	mk_id(ep, "ep_", 1);
	ck_assert_int_eq(sched->boot_oldest(ep), k1);
	ck_assert_int_eq(sched->boot_oldest(ep), 0); /* taken once */
	ck_assert_int_eq(sched->boot_oldest("ep_other"), 0);
}
END_TEST

Suite *scheduler_suite(void)
{
	Suite *s = suite_create("scheduler");
	TCase *tc = tcase_create("heap");
	tcase_add_test(tc, test_heap_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("ram");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_fill_at_start_and_load_in_background);
	tcase_add_test(tc, test_fresh_message_keeps_its_payload);
	tcase_add_test(tc, test_retry_by_key_dropped_when_no_longer_pending);
	tcase_add_test(tc, test_wait_until_due);
	tcase_add_test(tc, test_fifo_boot_head);
	suite_add_tcase(s, tc);
	return s;
}
