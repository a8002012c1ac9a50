/* test_store_misc.c: the store contract suite (test_store.c) on the smaller tables: idempotency keys, app portal
 * tokens, poller sinks (cursors and reads), event types (and their create conflict), inbound sources' dedup keys
 * and requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"

/* ---- idempotency ---- */

static int claim(const char *key, int64_t min_created, int64_t now, int *status, char **body)
{
	*status = -1;
	*body = NULL;
	return st->w->idem_claim(st, key, min_created, now, 0, NULL, status, body);
}

START_TEST(test_app_tokens)
{
	struct app_token t = {.caps = CAP_VIEW | CAP_MANAGE_ENDPOINT, .expires_ms = 10000, .created_ms = 1000};
	snprintf(t.hash, sizeof t.hash, "%064d", 1);
	snprintf(t.app_id, sizeof t.app_id, "app_tok1");
	t.session_id = xstrdup("s1");
	strlist_add(&t.feature_flags, "beta");
	begin();
	ck_assert_int_eq(st->w->token_put(st, &t), STORE_OK);
	snprintf(t.hash, sizeof t.hash, "%064d", 2);
	free(t.session_id);
	t.session_id = xstrdup("s2");
	ck_assert_int_eq(st->w->token_put(st, &t), STORE_OK);
	snprintf(t.hash, sizeof t.hash, "%064d", 3);
	snprintf(t.app_id, sizeof t.app_id, "app_tok2");
	ck_assert_int_eq(st->w->token_put(st, &t), STORE_OK);
	commit();
	app_token_dispose(&t);

	struct app_token g = {0};
	char h1[APP_TOKEN_HASH_MAX];
	snprintf(h1, sizeof h1, "%064d", 1);
	ck_assert_int_eq(st->q->token_get(st, h1, &g), STORE_OK);
	ck_assert_str_eq(g.hash, h1);
	ck_assert_str_eq(g.app_id, "app_tok1");
	ck_assert_str_eq(g.session_id, "s1");
	ck_assert_uint_eq(g.caps, CAP_VIEW | CAP_MANAGE_ENDPOINT);
	ck_assert_uint_eq(g.feature_flags.n, 1);
	ck_assert_str_eq(g.feature_flags.v[0], "beta");
	ck_assert_int_eq(g.expires_ms, 10000);
	app_token_dispose(&g);

	/* expire app_tok1's tokens of session s2 only, then all of them; never later than they were */
	struct strlist sessions = {0};
	strlist_add(&sessions, "s2");
	begin();
	ck_assert_int_eq(st->w->tokens_expire(st, "app_tok1", &sessions, 5000), STORE_OK);
	commit();
	strlist_dispose(&sessions);
	char h2[APP_TOKEN_HASH_MAX], h3[APP_TOKEN_HASH_MAX];
	snprintf(h2, sizeof h2, "%064d", 2);
	snprintf(h3, sizeof h3, "%064d", 3);
	ck_assert_int_eq(st->q->token_get(st, h1, &g), STORE_OK);
	ck_assert_int_eq(g.expires_ms, 10000);
	app_token_dispose(&g);
	ck_assert_int_eq(st->q->token_get(st, h2, &g), STORE_OK);
	ck_assert_int_eq(g.expires_ms, 5000);
	app_token_dispose(&g);
	begin();
	ck_assert_int_eq(st->w->tokens_expire(st, "app_tok1", NULL, 7000), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->token_get(st, h1, &g), STORE_OK);
	ck_assert_int_eq(g.expires_ms, 7000);
	app_token_dispose(&g);
	ck_assert_int_eq(st->q->token_get(st, h2, &g), STORE_OK);
	ck_assert_int_eq(g.expires_ms, 5000); /* not moved later */
	app_token_dispose(&g);
	ck_assert_int_eq(st->q->token_get(st, h3, &g), STORE_OK); /* another app's: untouched */
	ck_assert_int_eq(g.expires_ms, 10000);
	app_token_dispose(&g);

	begin();
	ck_assert_int_eq(st->w->token_delete(st, h1), STORE_OK);
	ck_assert_int_eq(st->w->token_delete(st, h1), STORE_NOTFOUND);
	ck_assert_int_eq(st->w->tokens_purge(st, 6000), STORE_OK); /* h2 (5000) goes, h3 (10000) stays */
	commit();
	ck_assert_int_eq(st->q->token_get(st, h1, &g), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->token_get(st, h2, &g), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->token_get(st, h3, &g), STORE_OK);
	app_token_dispose(&g);
}
END_TEST

/* Poller sinks: a consumer's cursor, per (sink, consumer), replaced on each put; gone with its sink or app. */
START_TEST(test_poll_cursors)
{
	char c[ID_MAX], s1[ID_MAX], s2[ID_MAX], s3[ID_MAX], app1[ID_MAX];
	ck_assert_int_eq(put_app(1, NULL), STORE_OK);
	ck_assert_int_eq(put_app(2, NULL), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(3, 2), STORE_OK);
	mk_id(s1, "ep_", 1);
	mk_id(s2, "ep_", 2);
	mk_id(s3, "ep_", 3);
	mk_id(app1, "app_", 1);
	ck_assert_int_eq(st->q->poll_cursor_get(st, s1, "w1", c), STORE_NOTFOUND);
	begin();
	ck_assert_int_eq(st->w->poll_cursor_put(st, s1, "w1", "msg_a", 1000), STORE_OK);
	ck_assert_int_eq(st->w->poll_cursor_put(st, s1, "w2", "msg_b", 1000), STORE_OK);
	ck_assert_int_eq(st->w->poll_cursor_put(st, s2, "w1", "msg_c", 1000), STORE_OK);
	ck_assert_int_eq(st->w->poll_cursor_put(st, s3, "w1", "msg_e", 1000), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->poll_cursor_get(st, s1, "w1", c), STORE_OK);
	ck_assert_str_eq(c, "msg_a");
	begin();
	ck_assert_int_eq(st->w->poll_cursor_put(st, s1, "w1", "msg_d", 2000), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->poll_cursor_get(st, s1, "w1", c), STORE_OK);
	ck_assert_str_eq(c, "msg_d");
	ck_assert_int_eq(st->q->poll_cursor_get(st, s1, "w2", c), STORE_OK);
	ck_assert_str_eq(c, "msg_b");
	ck_assert_int_eq(st->q->poll_cursor_get(st, s2, "w1", c), STORE_OK);
	ck_assert_str_eq(c, "msg_c");
	begin();
	ck_assert_int_eq(st->w->endpoint_delete(st, s1), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->poll_cursor_get(st, s1, "w1", c), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->poll_cursor_get(st, s2, "w1", c), STORE_OK);
	begin();
	ck_assert_int_eq(st->w->app_delete(st, app1), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->poll_cursor_get(st, s2, "w1", c), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->poll_cursor_get(st, s3, "w1", c), STORE_OK); /* another app's */
	ck_assert_str_eq(c, "msg_e");
}
END_TEST

START_TEST(test_idempotency)
{
	int status;
	char *body;
	begin();
	if (st->w->keys_lock != NULL) { /* a batch's keys, locked at its start (twice the same: once) */
		const char *keys[] = {"k2", "k1", "k2"};
		ck_assert_int_eq(st->w->keys_lock(st, keys, 3), STORE_OK);
	}
	ck_assert_int_eq(claim("k1", 0, 1000, &status, &body), STORE_OK); /* claimed */
	ck_assert_int_eq(st->w->idem_put(st, "k1", 202, "{\"id\":1}", 1000), STORE_OK);
	ck_assert_int_eq(claim("k1", 500, 1100, &status, &body), STORE_CONFLICT); /* sees its own batch */
	ck_assert_int_eq(status, 202);
	ck_assert_str_eq(body, "{\"id\":1}");
	free(body);
	ck_assert_int_eq(claim("k2", 0, 2000, &status, &body), STORE_OK);
	ck_assert_int_eq(st->w->idem_put(st, "k2", 201, NULL, 2000), STORE_OK);
	commit();

	begin();
	ck_assert_int_eq(claim("k1", 1000, 3000, &status, &body), STORE_CONFLICT); /* at the cutoff */
	free(body);
	ck_assert_int_eq(claim("k2", 0, 3000, &status, &body), STORE_CONFLICT);
	ck_assert_int_eq(status, 201);
	ck_assert_str_eq(body, "");
	free(body);
	ck_assert_int_eq(claim("k1", 1001, 3000, &status, &body), STORE_OK); /* expired: taken over */
	ck_assert_ptr_null(body);
	/* a claim in flight shows as status 0 to another claimer of the same transaction */
	ck_assert_int_eq(claim("k1", 0, 3000, &status, &body), STORE_CONFLICT);
	ck_assert_int_eq(status, 0);
	free(body);
	ck_assert_int_eq(st->w->idem_release(st, "k1"), STORE_OK); /* the request failed: the key is free */
	/* a claim that keeps the answer at once (known before the request runs): shown as such, released whole */
	ck_assert_int_eq(st->w->idem_claim(st, "k1", 0, 3000, 202, "{\"early\":1}", &status, &body), STORE_OK);
	ck_assert_int_eq(claim("k1", 0, 3000, &status, &body), STORE_CONFLICT);
	ck_assert_int_eq(status, 202);
	ck_assert_str_eq(body, "{\"early\":1}");
	free(body);
	ck_assert_int_eq(st->w->idem_release(st, "k1"), STORE_OK);
	ck_assert_int_eq(claim("k1", 0, 3000, &status, &body), STORE_OK);
	ck_assert_int_eq(st->w->idem_put(st, "k1", 409, "again", 3000), STORE_OK);
	commit();

	begin();
	ck_assert_int_eq(st->w->idem_purge(st, 2500), STORE_OK);
	ck_assert_int_eq(claim("k2", 0, 4000, &status, &body), STORE_OK); /* purged */
	ck_assert_int_eq(claim("k1", 0, 4000, &status, &body), STORE_CONFLICT);
	ck_assert_int_eq(status, 409);
	ck_assert_str_eq(body, "again");
	free(body);
	commit();

	if (!has_savepoints())
		return;
	/* a claim rolled back with its job leaves the key free */
	begin();
	ck_assert_int_eq(claim("k3", 0, 5000, &status, &body), STORE_OK);
	job_end(false);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	begin();
	ck_assert_int_eq(claim("k3", 0, 5000, &status, &body), STORE_OK);
	commit();
}
END_TEST

/* ---- poller sinks ---- */

/* A poller sink's read: the immediate messages of an id range and the deferred ones (deliverAt after creation)
 * after a (deliverAt, id) place, up to a time, each kind up to the limit, filtered by event type and channel. */
START_TEST(test_poll_read)
{
	put_app(1, NULL);
	for (int n = 1; n <= 4; n++)
		insert_msg(n, 1, NULL, NULL, 0, 0, NULL); /* immediate, created at 5001..5004 */
	const int64_t at[3] = {9000, 7000, 7000};      /* messages 5, 6 and 7: deferred */
	for (int n = 5; n <= 7; n++) {
		struct message m;
		msg_init(&m, n, 1, NULL);
		m.deliver_at_ms = at[n - 5];
		if (n == 7)
			strlist_add(&m.channels, "eu");
		begin();
		ck_assert_int_eq(st->w->msg_insert(st, &m, NULL, 0, m.deliver_at_ms, NULL, NULL), STORE_OK);
		commit();
		message_dispose(&m);
	}
	char lo[ID_MAX], hi[ID_MAX], def[ID_MAX], want[ID_MAX];
	mk_id(lo, "msg_", 1);
	mk_id(hi, "msg_", 4);
	mk_id(def, "msg_", 6);
	struct poll_window w = {.after_id = lo, .before_id = hi, .after_ms = 7000, .after_def_id = def, .before_ms = 9000,
				.limit = 10};
	struct message *v;
	size_t n;
	ck_assert_int_eq(st->q->poll_read(st, app_id_of(1), &w, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 3); /* 2 and 3; 7 (after 6 at the same time; 5 is not due before 9000) */
	bool seen[8] = {0};
	for (size_t i = 0; i < n; i++) {
		seen[atoi(v[i].id + 4)] = true;
		if (atoi(v[i].id + 4) == 7) {
			ck_assert_int_eq(v[i].deliver_at_ms, 7000);
			ck_assert_str_eq(v[i].payload, "{\"n\":7}");
		}
		message_dispose(&v[i]);
	}
	free(v);
	ck_assert(seen[2] && seen[3] && seen[7]);
	w.before_ms = 9001;
	w.limit = 1; /* each kind's first */
	ck_assert_int_eq(st->q->poll_read(st, app_id_of(1), &w, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		mk_id(want, "msg_", v[i].deliver_at_ms > 0 ? 7 : 2);
		ck_assert_str_eq(v[i].id, want);
		message_dispose(&v[i]);
	}
	free(v);
	w.limit = 10;
	w.channel = "eu";
	ck_assert_int_eq(st->q->poll_read(st, app_id_of(1), &w, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	mk_id(want, "msg_", 7);
	ck_assert_str_eq(v[0].id, want);
	message_dispose(&v[0]);
	free(v);
	w.channel = NULL;
	w.event_types_json = "[\"other\"]";
	ck_assert_int_eq(st->q->poll_read(st, app_id_of(1), &w, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(v);
}
END_TEST

/* ---- event types ---- */

START_TEST(test_event_types)
{
	struct event_type t = {.name = "a.b", .description = "d", .deprecated = true, .created_ms = 1, .updated_ms = 2};
	t.schemas = json_pack("{s:{s:[{s:i}]}}", "1", "examples", "x", 1);
	begin();
	ck_assert_int_eq(st->w->event_type_put(st, &t), STORE_OK);
	t.name = "c.d";
	ck_assert_int_eq(st->w->event_type_put(st, &t), STORE_OK);
	ck_assert_int_eq(st->w->event_type_delete(st, "c.d"), STORE_OK);
	ck_assert_int_eq(st->w->event_type_delete(st, "c.d"), STORE_NOTFOUND);
	commit();
	json_decref(t.schemas);
	struct event_type *v;
	size_t n;
	ck_assert_int_eq(st->w->event_types_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "a.b");
	ck_assert(v[0].deprecated && !v[0].archived);
	ck_assert_ptr_null(v[0].feature_flag);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(
				 json_object_get(v[0].schemas, "1"), "examples"), 0), "x")), 1);
	event_type_dispose(&v[0]);
	free(v);
}
END_TEST

START_TEST(test_event_type_create_conflict)
{
	struct event_type t = {.name = "a.b", .description = "d", .created_ms = 1, .updated_ms = 2};
	begin();
	ck_assert_int_eq(st->w->event_type_create(st, &t), STORE_OK);
	ck_assert_int_eq(st->w->event_type_create(st, &t), STORE_CONFLICT); /* a live one has the name */
	t.archived = true;
	ck_assert_int_eq(st->w->event_type_put(st, &t), STORE_OK);
	t.archived = false;
	t.description = "again";
	ck_assert_int_eq(st->w->event_type_create(st, &t), STORE_OK); /* an archived one is revived */
	ck_assert_int_eq(st->w->event_type_create(st, &t), STORE_CONFLICT);
	commit();
	struct event_type *v;
	size_t n;
	ck_assert_int_eq(st->w->event_types_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].description, "again");
	ck_assert(!v[0].archived);
	event_type_dispose(&v[0]);
	free(v);
}
END_TEST

/* ---- inbound sources ---- */

static struct inreq mk_inreq(const char *source, const char *key, int64_t at)
{
	struct inreq r;
	memset(&r, 0, sizeof r);
	id_new_at("inr_", at, r.id);
	snprintf(r.source_id, sizeof r.source_id, "%s", source);
	r.dedup_key = (char *)key;
	r.method = "POST";
	r.headers = "{}";
	r.received_ms = at;
	return r;
}

/* The ingest job's steps: claim the key, then record the request (a duplicate too). */
static int ingest(const char *source, const char *key, int64_t at, int64_t window)
{
	struct inreq r = mk_inreq(source, key, at);
	begin();
	int rc = st->w->inreq_dedup(st, source, key, at, at - window);
	ck_assert(rc == STORE_OK || rc == STORE_CONFLICT);
	r.duplicate = rc == STORE_CONFLICT;
	if (r.duplicate) {
		r.body = "dup";
		r.body_len = 3;
	}
	ck_assert_int_eq(st->w->inreq_insert(st, &r), STORE_OK);
	commit();
	return rc;
}

START_TEST(test_inbound_dedup)
{
	begin();
	ck_assert_int_eq(st->w->source_put(st, "src_a", NULL, "{}"), STORE_OK);
	ck_assert_int_eq(st->w->source_put(st, "src_b", NULL, "{}"), STORE_OK);
	commit();
	int64_t t0 = 1700000000000LL, win = 60000;
	ck_assert_int_eq(ingest("src_a", "evt_1", t0, win), STORE_OK);
	ck_assert_int_eq(ingest("src_a", "evt_1", t0 + 1000, win), STORE_CONFLICT);  /* within the window */
	ck_assert_int_eq(ingest("src_a", "evt_1", t0 + win, win), STORE_CONFLICT);   /* at its edge */
	ck_assert_int_eq(ingest("src_b", "evt_1", t0 + 2000, win), STORE_OK);        /* another source */
	ck_assert_int_eq(ingest("src_a", "evt_2", t0 + 2000, win), STORE_OK);        /* another key */
	ck_assert_int_eq(ingest("src_a", NULL, t0 + 2000, win), STORE_OK);           /* no key: never a duplicate */
	ck_assert_int_eq(ingest("src_a", NULL, t0 + 2000, win), STORE_OK);
	/* outside the window (a duplicate does not extend it): forwarded again, and the window starts anew */
	ck_assert_int_eq(ingest("src_a", "evt_1", t0 + win + 1, win), STORE_OK);
	ck_assert_int_eq(ingest("src_a", "evt_1", t0 + win + 2, win), STORE_CONFLICT);
	/* the duplicates are recorded as such, with their own body */
	struct inreq *v;
	size_t n;
	ck_assert_int_eq(st->q->inreq_list(st, "src_a", &(struct page){.limit = 20, .ascending = true}, &v, &n),
			 STORE_OK);
	ck_assert_uint_eq(n, 8);
	int dups = 0;
	for (size_t i = 0; i < n; i++) {
		dups += v[i].duplicate;
		if (v[i].duplicate)
			ck_assert_uint_eq(v[i].body_len, 3);
		inreq_dispose(&v[i]);
	}
	free(v);
	ck_assert_int_eq(dups, 3);
	/* two claims of one key in one batch: the second is the duplicate */
	begin();
	ck_assert_int_eq(st->w->inreq_dedup(st, "src_a", "evt_3", t0 + 5000, t0 + 5000 - win), STORE_OK);
	ck_assert_int_eq(st->w->inreq_dedup(st, "src_a", "evt_3", t0 + 5001, t0 + 5001 - win), STORE_CONFLICT);
	commit();
	/* a purge takes the old keys with the old requests: a window reaching back past it no longer sees them */
	bool more = true;
	begin();
	ck_assert_int_eq(st->w->inreq_purge(st, t0 + 3000, 100, &more), STORE_OK);
	commit();
	ck_assert(!more);
	ck_assert_int_eq(ingest("src_a", "evt_2", t0 + 9000, 1000000), STORE_OK); /* purged (claimed at t0+2000) */
	ck_assert_int_eq(ingest("src_a", "evt_1", t0 + 9000, 1000000), STORE_CONFLICT); /* kept (t0+win+1) */
	/* deleting a source forgets its keys */
	begin();
	ck_assert_int_eq(st->w->source_delete(st, "src_b"), STORE_OK);
	ck_assert_int_eq(st->w->source_put(st, "src_b", NULL, "{}"), STORE_OK);
	commit();
	ck_assert_int_eq(ingest("src_b", "evt_1", t0 + 9000, 1000000), STORE_OK);
}
END_TEST

void store_misc_tests(TCase *tc)
{
	tcase_add_test(tc, test_idempotency);
	tcase_add_test(tc, test_app_tokens);
	tcase_add_test(tc, test_poll_cursors);
	tcase_add_test(tc, test_poll_read);
	tcase_add_test(tc, test_event_types);
	tcase_add_test(tc, test_event_type_create_conflict);
	tcase_add_test(tc, test_inbound_dedup);
}
