/* test_store_txn.c: the store contract suite (test_store.c) on jobs and batches: a job rolled back alone, a batch
 * rolled back whole, readers that see only commits, readers beside the committer on other threads, and an eventId
 * conflict decided by the unique key (nothing of the losing message written). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"

/* ---- transactions ---- */

START_TEST(test_job_rollback)
{
	if (!has_savepoints())
		return;
	struct app a;
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	for (int i = 1; i <= 3; i++) {
		job_begin();
		app_init(&a, i, i == 3 ? "taken" : NULL);
		ck_assert_int_eq(st->w->app_put(st, &a), STORE_OK);
		app_dispose(&a);
		if (i == 2) {
			app_init(&a, 9, "taken");
			ck_assert_int_eq(st->w->app_put(st, &a), STORE_OK);
			app_dispose(&a);
			/* a later step of job 2 fails: all of job 2 goes, app 9 included */
			struct message m;
			msg_init(&m, 1, 2, NULL);
			ck_assert_int_eq(st->w->msg_insert(st, &m, NULL, 0, 0, NULL, NULL), STORE_OK);
			ck_assert_int_eq(st->w->msg_insert(st, &m, NULL, 0, 0, NULL, NULL), STORE_CONFLICT);
			message_dispose(&m);
		}
		job_end(i != 2);
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);

	struct app *v;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	char id1[ID_MAX], id3[ID_MAX], app2[ID_MAX], msg1[ID_MAX];
	mk_id(id1, "app_", 1);
	mk_id(id3, "app_", 3);
	ck_assert_str_eq(v[0].id, id1);
	ck_assert_str_eq(v[1].id, id3);
	ck_assert_str_eq(v[1].uid, "taken"); /* free again after job 2 rolled back */
	for (size_t i = 0; i < n; i++)
		app_dispose(&v[i]);
	free(v);
	mk_id(app2, "app_", 2);
	mk_id(msg1, "msg_", 1);
	struct message m;
	ck_assert_int_eq(st->q->msg_get(st, app2, msg1, &m), STORE_NOTFOUND);
}
END_TEST

START_TEST(test_batch_rollback)
{
	struct app a;
	app_init(&a, 1, NULL);
	begin();
	ck_assert_int_eq(st->w->app_put(st, &a), STORE_OK);
	job_end(true);
	st->w->batch_rollback(st);
	app_dispose(&a);
	struct app *v;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(v);
	/* a batch left open is rolled back by the next begin */
	ck_assert_int_eq(put_app(2, NULL), STORE_OK);
	begin();
	ck_assert_int_eq(put_app(3, NULL), STORE_OK);
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		app_dispose(&v[i]);
	free(v);
}
END_TEST

START_TEST(test_readers_see_only_commits)
{
	struct message m;
	msg_init(&m, 1, 1, NULL);
	char app[ID_MAX];
	mk_id(app, "app_", 1);
	begin();
	ck_assert_int_eq(st->w->msg_insert(st, &m, NULL, 0, 0, NULL, NULL), STORE_OK);
	struct message got;
	ck_assert_int_eq(st->q->msg_get(st, app, m.id, &got), STORE_NOTFOUND); /* a read connection */
	commit();
	ck_assert_int_eq(st->q->msg_get(st, app, m.id, &got), STORE_OK);
	message_dispose(&got);
	message_dispose(&m);
}
END_TEST

/* ---- concurrency: readers beside the committer ---- */

#define WRITER_BATCHES 20
#define PER_BATCH 10

struct reader_arg {
	volatile int *done;
	int errors;
	int reads;
};

/* Every message has two deliveries, committed together: a reader must never see an odd count. */
static void *reader(void *p)
{
	struct reader_arg *ra = p;
	char app[ID_MAX];
	mk_id(app, "app_", 1);
	while (!__atomic_load_n(ra->done, __ATOMIC_ACQUIRE)) {
		int64_t c[5];
		struct message *v;
		size_t n;
		if (st->q->delivery_counts(st, app, NULL, c) != STORE_OK || c[DS_PENDING] % 2 != 0)
			ra->errors++;
		if (st->q->msg_list(st, app, &(struct page){.limit = 5}, &v, &n) != STORE_OK)
			ra->errors++;
		for (size_t i = 0; i < n; i++)
			if (v[i].payload == NULL)
				ra->errors++;
		free_messages(v, n);
		struct delivery d;
		if (st->q->delivery_load(st, 1, &d, NULL) == STORE_ERR)
			ra->errors++;
		ra->reads++;
	}
	return NULL;
}

START_TEST(test_concurrent_reads)
{
	volatile int done = 0;
	struct reader_arg args[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		args[i] = (struct reader_arg){.done = &done};
		ck_assert_int_eq(pthread_create(&th[i], NULL, reader, &args[i]), 0);
	}
	char ep1[ID_MAX], ep2[ID_MAX];
	mk_id(ep1, "ep_", 1);
	mk_id(ep2, "ep_", 2);
	const char *eps[] = {ep1, ep2};
	for (int b = 0; b < WRITER_BATCHES; b++) {
		ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
		for (int i = 0; i < PER_BATCH; i++) {
			struct message m;
			msg_init(&m, b * PER_BATCH + i + 1, 1, NULL);
			int64_t r[2];
			job_begin();
			ck_assert_int_eq(st->w->msg_insert(st, &m, eps, 2, 0, r, NULL), STORE_OK);
			job_end(true);
			message_dispose(&m);
		}
		ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].errors, 0);
	}
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 2 * PER_BATCH * WRITER_BATCHES);
}
END_TEST

/* ---- the atomic conflict ops: a unique key decides, never a read before the write ---- */

START_TEST(test_msg_event_id_conflict)
{
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	int eps[] = {1, 2};
	int64_t r1[2] = {0}, r2[2] = {0};
	ck_assert_int_eq(insert_msg(1, 1, "order-7", eps, 2, 9000, r1), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, "order-7", eps, 2, 9000, r2), STORE_CONFLICT);
	char want[ID_MAX];
	mk_id(want, "msg_", 1);
	ck_assert_str_eq(last_existing, want);
	/* nothing of message 2 was written: no row, no delivery */
	struct message m;
	mk_id(want, "msg_", 2);
	ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), want, &m), STORE_NOTFOUND);
	struct delivery *d;
	size_t n;
	ck_assert_int_eq(st->q->msg_deliveries(st, app_id_of(1), want, &d, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(d);
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 2);
	/* two inserts of one eventId in one batch: the second conflicts */
	struct message a, b;
	msg_init(&a, 3, 1, "order-8");
	msg_init(&b, 4, 1, "order-8");
	char got[ID_MAX];
	begin();
	ck_assert_int_eq(st->w->msg_insert(st, &a, NULL, 0, 0, NULL, got), STORE_OK);
	ck_assert_int_eq(st->w->msg_insert(st, &b, NULL, 0, 0, NULL, got), STORE_CONFLICT);
	ck_assert_str_eq(got, a.id);
	ck_assert_int_eq(st->w->msg_insert(st, &b, NULL, 0, 0, NULL, NULL), STORE_CONFLICT); /* no out param */
	commit();
	message_dispose(&a);
	message_dispose(&b);
}
END_TEST

void store_txn_tests(TCase *tc)
{
	tcase_add_test(tc, test_job_rollback);
	tcase_add_test(tc, test_batch_rollback);
	tcase_add_test(tc, test_readers_see_only_commits);
	tcase_add_test(tc, test_concurrent_reads);
	tcase_add_test(tc, test_msg_event_id_conflict);
}
