/* test_store_lists.c: the store contract suite (test_store.c) on lists and deletes: messages and attempts a page
 * at a time in either direction, a message by id or eventId; deleting an endpoint cancels its pending deliveries,
 * deleting an app takes everything of it; delivery keys are never reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"

/* ---- lists ---- */

static void check_msg_page(const struct page *pg, const int *want, size_t nwant)
{
	char app[ID_MAX], id[ID_MAX];
	mk_id(app, "app_", 1);
	struct message *v;
	size_t n;
	ck_assert_int_eq(st->q->msg_list(st, app, pg, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, nwant);
	for (size_t i = 0; i < n; i++) {
		mk_id(id, "msg_", want[i]);
		ck_assert_str_eq(v[i].id, id);
		ck_assert_ptr_nonnull(v[i].payload);
	}
	free_messages(v, n);
}

START_TEST(test_msg_list_paging)
{
	for (int i = 1; i <= 7; i++)
		ck_assert_int_eq(insert_msg(i, 1, NULL, NULL, 0, 0, NULL), STORE_OK);
	ck_assert_int_eq(insert_msg(8, 2, NULL, NULL, 0, 0, NULL), STORE_OK); /* another app */
	char before[ID_MAX], after[ID_MAX];
	mk_id(before, "msg_", 4);
	mk_id(after, "msg_", 2);

	check_msg_page(&(struct page){.limit = 3}, (int[]){7, 6, 5}, 3);
	check_msg_page(&(struct page){.before = before, .limit = 10}, (int[]){3, 2, 1}, 3);
	check_msg_page(&(struct page){.after = after, .limit = 2, .ascending = true}, (int[]){3, 4}, 2);
	check_msg_page(&(struct page){.after = after, .before = before, .limit = 10}, (int[]){3}, 1);
	check_msg_page(&(struct page){.before = before, .limit = 2, .ascending = true}, (int[]){1, 2}, 2);
	check_msg_page(&(struct page){.after = after, .limit = 2}, (int[]){7, 6}, 2);
	check_msg_page(&(struct page){.limit = 0}, NULL, 0);
	check_msg_page(NULL, (int[]){7, 6, 5, 4, 3, 2, 1}, 7);

	char none[ID_MAX];
	mk_id(none, "app_", 9);
	struct message *v = (struct message *)1;
	size_t n = 1;
	ck_assert_int_eq(st->q->msg_list(st, none, &(struct page){.limit = 5}, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(v);
}
END_TEST

START_TEST(test_msg_get)
{
	ck_assert_int_eq(insert_msg(1, 1, "evt-1", NULL, 0, 0, NULL), STORE_OK);
	char id1[ID_MAX], id2[ID_MAX], app[ID_MAX], other[ID_MAX];
	mk_id(id1, "msg_", 1);
	mk_id(id2, "msg_", 2);
	mk_id(app, "app_", 1);
	mk_id(other, "app_", 2);
	/* message 2's eventId is message 1's id: the id wins */
	ck_assert_int_eq(insert_msg(2, 1, id1, NULL, 0, 0, NULL), STORE_OK);

	struct message m;
	ck_assert_int_eq(st->q->msg_get(st, app, id1, &m), STORE_OK);
	ck_assert_str_eq(m.id, id1);
	ck_assert_str_eq(m.event_id, "evt-1");
	message_dispose(&m);
	ck_assert_int_eq(st->q->msg_get(st, app, "evt-1", &m), STORE_OK);
	ck_assert_str_eq(m.id, id1);
	message_dispose(&m);
	ck_assert_int_eq(st->q->msg_get(st, app, id2, &m), STORE_OK);
	ck_assert_str_eq(m.id, id2);
	message_dispose(&m);
	ck_assert_int_eq(st->q->msg_get(st, other, id1, &m), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->msg_get(st, other, "evt-1", &m), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->msg_get(st, app, "evt-9", &m), STORE_NOTFOUND);
}
END_TEST

static void check_att_page(int ep, int msg, const struct page *pg, const int *want, size_t nwant)
{
	char app[ID_MAX], e[ID_MAX], m[ID_MAX], id[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(e, "ep_", ep);
	mk_id(m, "msg_", msg);
	struct attempt *v;
	size_t n;
	ck_assert_int_eq(st->q->attempt_list(st, app, ep ? e : NULL, msg ? m : NULL, pg, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, nwant);
	for (size_t i = 0; i < n; i++) {
		mk_id(id, "atmpt_", want[i]);
		ck_assert_str_eq(v[i].id, id);
	}
	free_attempts(v, n);
}

START_TEST(test_attempt_list_paging)
{
	/* messages 1 and 2 to endpoints 1 and 2 of app 1; message 3 of app 2 */
	int eps[] = {1, 2};
	int64_t r1[2], r2[2], r3[2];
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 2, 0, r1), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, NULL, eps, 2, 0, r2), STORE_OK);
	ck_assert_int_eq(insert_msg(3, 2, NULL, eps, 2, 0, r3), STORE_OK);
	/* attempts 1..8 alternate: odd = ep 1, even = ep 2; 1-4 msg 1, 5-8 msg 2; 9 is app 2's */
	struct outcome o[9];
	for (int i = 1; i <= 8; i++) {
		int ep = i % 2 ? 1 : 2, msg = i <= 4 ? 1 : 2;
		int64_t dkey = msg == 1 ? r1[ep - 1] : r2[ep - 1];
		o[i - 1] = mk_outcome(dkey, i, msg, ep, 1, DS_PENDING, i, 0);
	}
	o[8] = mk_outcome(r3[0], 9, 3, 1, 2, DS_SUCCESS, 1, 0);
	record(o, 9);
	char b[ID_MAX], a[ID_MAX];
	mk_id(b, "atmpt_", 5);
	mk_id(a, "atmpt_", 2);

	check_att_page(1, 0, &(struct page){.limit = 3}, (int[]){7, 5, 3}, 3);
	check_att_page(1, 0, &(struct page){.before = b, .limit = 3}, (int[]){3, 1}, 2);
	check_att_page(1, 0, &(struct page){.after = a, .limit = 2, .ascending = true}, (int[]){3, 5}, 2);
	check_att_page(2, 0, &(struct page){.after = a, .before = b, .limit = 9}, (int[]){4}, 1);
	check_att_page(0, 1, &(struct page){.limit = 9}, (int[]){4, 3, 2, 1}, 4);
	check_att_page(0, 2, &(struct page){.after = b, .limit = 2, .ascending = true}, (int[]){6, 7}, 2);
	check_att_page(2, 2, &(struct page){.limit = 9}, (int[]){8, 6}, 2);
	check_att_page(0, 0, &(struct page){.limit = 4}, (int[]){8, 7, 6, 5}, 4);
	check_att_page(0, 0, &(struct page){.before = a, .limit = 4, .ascending = true}, (int[]){1}, 1);
	check_att_page(0, 3, &(struct page){.limit = 9}, NULL, 0); /* app 2's message, asked as app 1 */
}
END_TEST

/* ---- deletes ---- */

START_TEST(test_endpoint_delete_cancels)
{
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	int eps[] = {1, 2};
	int64_t r1[2], r2[2], r3[2];
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 2, 0, r1), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, NULL, eps, 2, 0, r2), STORE_OK);
	ck_assert_int_eq(insert_msg(3, 1, NULL, eps, 2, 0, r3), STORE_OK);
	struct outcome o[2] = {
		mk_outcome(r1[0], 1, 1, 1, 1, DS_SUCCESS, 1, 0),
		mk_outcome(r2[0], 0, 0, 0, 0, DS_SENDING, 0, 0),
	};
	record(o, 2);

	char ep1[ID_MAX], ep2[ID_MAX];
	mk_id(ep1, "ep_", 1);
	mk_id(ep2, "ep_", 2);
	begin();
	ck_assert_int_eq(st->w->endpoint_delete(st, ep1), STORE_OK);
	commit();
	int64_t c[5];
	counts_of(1, 1, c);
	ck_assert_int_eq(c[DS_SUCCESS], 1);
	ck_assert_int_eq(c[DS_CANCELED], 2); /* the pending and the sending one */
	ck_assert_int_eq(c[DS_PENDING] + c[DS_SENDING], 0);
	counts_of(1, 2, c);
	ck_assert_int_eq(c[DS_PENDING], 3);

	struct endpoint *v;
	size_t n;
	ck_assert_int_eq(st->w->endpoints_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].id, ep2);
	endpoint_dispose(&v[0]);
	free(v);
	begin();
	ck_assert_int_eq(st->w->endpoint_delete(st, ep1), STORE_NOTFOUND);
	job_end(false);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);

	/* disabling cancels without deleting */
	begin();
	ck_assert_int_eq(st->w->endpoint_cancel_pending(st, ep2), STORE_OK);
	commit();
	counts_of(1, 2, c);
	ck_assert_int_eq(c[DS_PENDING], 0);
	ck_assert_int_eq(c[DS_CANCELED], 3);
	ck_assert_int_eq(st->w->endpoints_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	endpoint_dispose(&v[0]);
	free(v);
}
END_TEST

START_TEST(test_app_delete_cascades)
{
	for (int app = 1; app <= 2; app++) {
		ck_assert_int_eq(put_app(app, NULL), STORE_OK);
		ck_assert_int_eq(put_plain_endpoint(app, app), STORE_OK);
	}
	int64_t r1, r2;
	ck_assert_int_eq(insert_msg(1, 1, "e", (int[]){1}, 1, 0, &r1), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 2, "e", (int[]){2}, 1, 0, &r2), STORE_OK);
	struct outcome o[2] = {
		mk_outcome(r1, 1, 1, 1, 1, DS_PENDING, 1, 100),
		mk_outcome(r2, 2, 2, 2, 2, DS_PENDING, 1, 100),
	};
	record(o, 2);

	char app1[ID_MAX], app2[ID_MAX], msg1[ID_MAX];
	mk_id(app1, "app_", 1);
	mk_id(app2, "app_", 2);
	mk_id(msg1, "msg_", 1);
	begin();
	ck_assert_int_eq(st->w->app_delete(st, app1), STORE_OK);
	commit();

	struct app *apps;
	struct endpoint *eps;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &apps, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(apps[0].id, app2);
	app_dispose(&apps[0]);
	free(apps);
	ck_assert_int_eq(st->w->endpoints_load(st, &eps, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(eps[0].app_id, app2);
	endpoint_dispose(&eps[0]);
	free(eps);
	struct message m;
	struct delivery d;
	ck_assert_int_eq(st->q->msg_get(st, app1, msg1, &m), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->delivery_load(st, r1, &d, NULL), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->msg_get(st, app1, "e", &m), STORE_NOTFOUND);
	check_att_page(0, 0, &(struct page){.limit = 9}, NULL, 0);
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[0] + c[1] + c[2] + c[3] + c[4], 0);
	counts_of(2, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 1);
	ck_assert_int_eq(delivery_status(r2), DS_PENDING);

	begin();
	ck_assert_int_eq(st->w->app_delete(st, app1), STORE_NOTFOUND);
	job_end(false);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
}
END_TEST

START_TEST(test_delivery_keys_not_reused)
{
	ck_assert_int_eq(put_app(1, NULL), STORE_OK);
	int64_t r1, r2;
	ck_assert_int_eq(insert_msg(1, 1, NULL, (int[]){1}, 1, 0, &r1), STORE_OK);
	char app[ID_MAX];
	mk_id(app, "app_", 1);
	begin();
	ck_assert_int_eq(st->w->app_delete(st, app), STORE_OK);
	commit();
	ck_assert_int_eq(insert_msg(2, 1, NULL, (int[]){1}, 1, 0, &r2), STORE_OK);
	ck_assert_int_gt(r2, r1); /* the scheduler may still hold r1 */
}
END_TEST

void store_list_tests(TCase *tc)
{
	tcase_add_test(tc, test_msg_list_paging);
	tcase_add_test(tc, test_msg_get);
	tcase_add_test(tc, test_attempt_list_paging);
	tcase_add_test(tc, test_endpoint_delete_cancels);
	tcase_add_test(tc, test_app_delete_cascades);
	tcase_add_test(tc, test_delivery_keys_not_reused);
}
