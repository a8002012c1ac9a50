/* test_store_tasks.c: the store contract suite (test_store.c) on work the server does over many deliveries: the
 * start-up reset and scan, the retention purge, tasks (kept, adopted, listed), the recover and replay scans, and
 * bulk-replay's delivery states. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"

/* ---- start-up ---- */

/* seen: count, sum of keys, sum of due times, then the endpoint numbers (ep_...N) summed */
static void collect_pending(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	int64_t *seen = arg;
	seen[0]++;
	seen[1] += dkey;
	seen[2] += next_ms;
	ck_assert_ptr_nonnull(endpoint_id);
	ck_assert_int_eq(strncmp(endpoint_id, "ep_", 3), 0);
	seen[3] += atoi(endpoint_id + 3);
}

START_TEST(test_reset_and_scan)
{
	int eps[] = {1, 2, 3};
	int64_t r[3];
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 3, 9000, r), STORE_OK);
	struct outcome o[2] = {
		mk_outcome(r[0], 0, 0, 0, 0, DS_SENDING, 0, 9000),
		mk_outcome(r[1], 1, 1, 2, 1, DS_SUCCESS, 1, 0),
	};
	record(o, 2);
	int64_t seen[4] = {0};
	ck_assert_int_eq(st->w->deliveries_scan_pending(st, collect_pending, seen), STORE_OK);
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], r[2]);
	ck_assert_int_eq(seen[2], 9000);
	ck_assert_int_eq(seen[3], 3); /* the endpoint of each */

	ck_assert_int_eq(st->w->deliveries_reset_sending(st), STORE_OK);
	ck_assert_int_eq(delivery_status(r[0]), DS_PENDING);
	memset(seen, 0, sizeof seen);
	ck_assert_int_eq(st->w->deliveries_scan_pending(st, collect_pending, seen), STORE_OK);
	ck_assert_int_eq(seen[0], 2);
	ck_assert_int_eq(seen[1], r[0] + r[2]);
	ck_assert_int_eq(seen[3], 1 + 3);
}
END_TEST

/* ---- retention, tasks, recover and replay ---- */

START_TEST(test_retention_purge)
{
	put_app(1, NULL);
	int ep = 1;
	for (int n = 1; n <= 5; n++)
		insert_msg(n, 1, NULL, &ep, 1, 0, NULL); /* created at 5001..5005 */
	struct message m;
	msg_init(&m, 6, 1, NULL); /* created at 5006, with its own retention of 10 s */
	m.retention_ms = 10000;
	begin();
	ck_assert_int_eq(st->w->msg_insert(st, &m, NULL, 0, 0, NULL, NULL), STORE_OK);
	commit();
	message_dispose(&m);
	bool more = false;
	/* the server's retention of 1000 ms at 6004: messages 1..3 are old; at most 2 rows a call */
	begin();
	ck_assert_int_eq(st->w->retention_purge(st, 6004, 1000, 2, &more), STORE_OK);
	commit();
	ck_assert(more);
	begin();
	ck_assert_int_eq(st->w->retention_purge(st, 6004, 1000, 2, &more), STORE_OK);
	commit();
	ck_assert(!more);
	char id[ID_MAX];
	for (int n = 1; n <= 6; n++) {
		mk_id(id, "msg_", n);
		ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id, &m), STORE_OK);
		ck_assert_msg((m.payload == NULL) == (n <= 3), "message %d", n);
		message_dispose(&m);
	}
	begin(); /* message 6 expires at 15006 by its own period, whatever the server's */
	ck_assert_int_eq(st->w->retention_purge(st, 15007, 1000000, 10, &more), STORE_OK);
	commit();
	mk_id(id, "msg_", 6);
	ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id, &m), STORE_OK);
	ck_assert_ptr_null(m.payload);
	message_dispose(&m);
}
END_TEST

START_TEST(test_tasks)
{
	struct task t = {.status = TASK_RUNNING, .since_ms = 1, .until_ms = 2, .processed = 7, .created_ms = 10,
			 .updated_ms = 11, .after_key = 4242};
	mk_id(t.after_id, "msg_", 9);
	mk_id(t.id, "qtask_", 1);
	snprintf(t.kind, sizeof t.kind, "endpoint.recover");
	snprintf(t.params, sizeof t.params, "{\"tag\":\"x\"}");
	mk_id(t.app_id, "app_", 1);
	mk_id(t.endpoint_id, "ep_", 1);
	begin();
	ck_assert_int_eq(st->w->task_put(st, &t), STORE_OK);
	mk_id(t.id, "qtask_", 2);
	t.status = TASK_FINISHED;
	ck_assert_int_eq(st->w->task_put(st, &t), STORE_OK);
	commit();
	/* a running task of this node's is adopted only at its start-up (own_too), with its cursor */
	struct task *adopted = NULL;
	size_t nadopted = 0;
	begin();
	ck_assert_int_eq(st->w->tasks_adopt(st, 98, false, &adopted, &nadopted), STORE_OK);
	commit();
	ck_assert_uint_eq(nadopted, 0);
	free(adopted);
	begin();
	ck_assert_int_eq(st->w->tasks_adopt(st, 99, true, &adopted, &nadopted), STORE_OK);
	commit();
	ck_assert_uint_eq(nadopted, 1); /* not the finished one */
	mk_id(t.id, "qtask_", 1);
	ck_assert_str_eq(adopted[0].id, t.id);
	ck_assert_int_eq(adopted[0].status, TASK_RUNNING);
	ck_assert_int_eq(adopted[0].after_key, 4242);
	ck_assert_str_eq(adopted[0].after_id, t.after_id);
	ck_assert_int_eq(adopted[0].processed, 7);
	ck_assert_str_eq(adopted[0].params, "{\"tag\":\"x\"}");
	free(adopted);
	struct task got;
	ck_assert_int_eq(st->q->task_get(st, t.id, &got), STORE_OK);
	ck_assert_int_eq(got.status, TASK_RUNNING);
	ck_assert_int_eq(got.updated_ms, 99);
	ck_assert_int_eq(got.processed, 7);
	ck_assert_int_eq(got.after_key, 4242);
	ck_assert_str_eq(got.kind, "endpoint.recover");
	ck_assert_str_eq(got.params, "{\"tag\":\"x\"}");
	/* the runner that adopted it writes on (it is this node's) */
	got.processed = 8;
	got.status = TASK_FAILED;
	begin();
	ck_assert_int_eq(st->w->task_put(st, &got), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->task_get(st, t.id, &got), STORE_OK);
	ck_assert_int_eq(got.status, TASK_FAILED);
	ck_assert_int_eq(got.processed, 8);
	struct task *v;
	size_t n;
	ck_assert_int_eq(st->q->task_list(st, &(struct page){.limit = 10}, TASK_FINISHED, NULL, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].app_id, t.app_id);
	free(v);
	ck_assert_int_eq(st->q->task_get(st, "qtask_nope", &got), STORE_NOTFOUND);
}
END_TEST

START_TEST(test_recover_and_replay_scans)
{
	put_app(1, NULL);
	int ep = 1;
	int64_t dkeys[4];
	for (int n = 1; n <= 4; n++)
		insert_msg(n, 1, NULL, &ep, 1, 0, &dkeys[n - 1]); /* created at 5001..5004 */
	insert_msg(5, 1, NULL, NULL, 0, 0, NULL);                  /* no delivery at all */
	struct outcome o[3];
	for (int i = 0; i < 3; i++)
		o[i] = mk_outcome(dkeys[i], 0, 0, 0, 0, DS_FAIL, 8, 0);
	record(o, 3);
	struct task t = {.since_ms = 5002, .until_ms = 6000};
	mk_id(t.app_id, "app_", 1);
	mk_id(t.endpoint_id, "ep_", 1);
	struct message *msgs;
	int64_t *keys, after = 0;
	size_t n;
	bool more;
	/* failed and in the window: messages 2 and 3; one payload reaches max_bytes, so one a call */
	begin();
	ck_assert_int_eq(st->w->recover_batch(st, &t, &after, 10, 1, 7000, &msgs, &keys, &n, &more), STORE_OK);
	commit();
	ck_assert_uint_eq(n, 1);
	ck_assert(more);
	ck_assert_int_eq(keys[0], dkeys[1]);
	ck_assert_str_eq(msgs[0].payload, "{\"n\":2}");
	message_dispose(&msgs[0]);
	free(msgs);
	free(keys);
	begin();
	ck_assert_int_eq(st->w->recover_batch(st, &t, &after, 10, 1000, 7000, &msgs, &keys, &n, &more), STORE_OK);
	commit();
	ck_assert_uint_eq(n, 1);
	ck_assert(!more);
	ck_assert_int_eq(keys[0], dkeys[2]);
	message_dispose(&msgs[0]);
	free(msgs);
	free(keys);
	struct delivery d;
	ck_assert_int_eq(st->q->delivery_load(st, dkeys[1], &d, NULL), STORE_OK);
	ck_assert_int_eq(d.status, DS_PENDING);
	ck_assert_int_eq(d.attempts, 0);
	ck_assert_int_eq(d.next_ms, 7000);
	ck_assert_int_eq(st->q->delivery_load(st, dkeys[0], &d, NULL), STORE_OK);
	ck_assert_int_eq(d.status, DS_FAIL); /* before the window */

	/* replay: in the window, messages without a delivery to the endpoint: only 5 */
	char lo[ID_MAX], hi[ID_MAX];
	mk_id(lo, "msg_", 0);
	mk_id(hi, "msg_", 99);
	begin();
	ck_assert_int_eq(st->w->replay_scan(st, &t, lo, hi, 10, 1 << 20, &msgs, &n, &more), STORE_OK);
	commit();
	ck_assert_uint_eq(n, 1);
	ck_assert(!more);
	char id5[ID_MAX];
	mk_id(id5, "msg_", 5);
	ck_assert_str_eq(msgs[0].id, id5);
	message_dispose(&msgs[0]);
	free(msgs);
}
END_TEST

/* bulk-replay's filters: each message's latest delivery status to the endpoint and its latest attempt's code
 * there, for a batch of ids in one call, in the ids' order; never sent there: -1 and -1. */
START_TEST(test_delivery_states)
{
	put_app(1, NULL);
	int ep1 = 1, ep2 = 2;
	int64_t k[4];
	insert_msg(1, 1, NULL, &ep1, 1, 0, &k[0]);
	insert_msg(2, 1, NULL, &ep1, 1, 0, &k[1]);
	insert_msg(3, 1, NULL, &ep1, 1, 0, &k[2]); /* pending, never attempted */
	insert_msg(4, 1, NULL, &ep2, 1, 0, &k[3]); /* another endpoint's */
	struct outcome o[4] = {mk_outcome(k[0], 1, 1, 1, 1, DS_SUCCESS, 1, 0),
			       mk_outcome(k[1], 2, 2, 1, 1, DS_PENDING, 1, 9000),
			       mk_outcome(k[1], 3, 2, 1, 1, DS_FAIL, 2, 0), mk_outcome(k[3], 4, 4, 2, 1, DS_FAIL, 1, 0)};
	o[2].attempt.status_code = 0; /* the last attempt got no HTTP answer */
	record(o, 4);
	char app[ID_MAX], ep[ID_MAX], mid[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(ep, "ep_", 1);
	mk_id(mid, "msg_", 1);
	int64_t again;
	begin(); /* a manual resend of 1, pending: its latest delivery */
	ck_assert_int_eq(st->w->delivery_add(st, app, mid, ep, TRIGGER_MANUAL, 9000, &again), STORE_OK);
	commit();
	char ids[5][ID_MAX];
	const int order[5] = {3, 1, 2, 4, 9};
	for (int i = 0; i < 5; i++)
		mk_id(ids[i], "msg_", order[i]);
	int status[5], code[5];
	begin();
	ck_assert_int_eq(st->w->delivery_states(st, app, ep, (const char(*)[ID_MAX])ids, 5, status, code), STORE_OK);
	commit();
	const int want_status[5] = {DS_PENDING, DS_PENDING, DS_FAIL, -1, -1}, want_code[5] = {-1, 200, 0, -1, -1};
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(status[i], want_status[i]);
		ck_assert_int_eq(code[i], want_code[i]);
	}
	begin(); /* none asked: nothing read */
	ck_assert_int_eq(st->w->delivery_states(st, app, ep, (const char(*)[ID_MAX])ids, 0, status, code), STORE_OK);
	commit();
}
END_TEST

void store_task_tests(TCase *tc)
{
	tcase_add_test(tc, test_reset_and_scan);
	tcase_add_test(tc, test_retention_purge);
	tcase_add_test(tc, test_tasks);
	tcase_add_test(tc, test_recover_and_replay_scans);
	tcase_add_test(tc, test_delivery_states);
}
