/* test_store.c: the store's contract suite. It goes through the public tables only (store.h: st->w, st->q; never
 * a backend's own types), opened with store_open(url), so every backend must pass it unchanged; HOOKD_TEST_STORE
 * picks the backend (SQLite by default; store_fixture.c). This file builds the suite and holds its core: opening
 * and migrations, apps and endpoints, messages, deliveries and their outcomes, delivery counts. The rest, one file
 * a subject: test_store_lists.c (lists, deletes), test_store_txn.c (jobs, batches, concurrent readers, eventId
 * conflicts), test_store_tasks.c (start-up scan, retention, tasks, recover and replay), test_store_misc.c
 * (idempotency, app tokens, poller sinks, event types, inbound dedup), test_store_cluster.c (batch prefetch,
 * leases, notifications), test_store_seal.c (secrets at rest), test_store_apiver.c (payload versions).
 *
 * The "contract" case runs on any backend; the "sqlite" case (files, permissions, schema versions) only on
 * SQLite. Tests of per-job rollback run only on a backend with savepoints (job_begin != NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "store_fixture.h"
#include "tests.h"

static uint32_t header_user_version(void)
{
	unsigned char b[4] = {0};
	FILE *f = fopen(store_fixture_path(), "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 60, SEEK_SET), 0);
	ck_assert_uint_eq(fread(b, 1, 4, f), 4);
	fclose(f);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void header_set_user_version(uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff};
	FILE *f = fopen(store_fixture_path(), "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 60, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(b, 1, 4, f), 4);
	fclose(f);
}

/* ---- open and migrations ---- */

START_TEST(test_open_creates_and_migrates)
{
	const char *path = store_fixture_path(), *url = store_fixture_url();
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 077, 0); /* holds secrets */
	ck_assert_int_eq(put_app(1, NULL), STORE_OK);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", path);
	ck_assert_int_eq(stat(wal, &sb), 0); /* WAL mode */
	store_close(st);
	st = NULL;
	ck_assert_uint_ge(header_user_version(), 1);
	uint32_t v = header_user_version();
	st = open_store(); /* reopening an up-to-date database migrates nothing */
	store_close(st);
	st = NULL;
	ck_assert_uint_eq(header_user_version(), v);

	header_set_user_version(999);
	char err[256] = "";
	ck_assert_ptr_null(store_open(url, err, sizeof err));
	ck_assert_msg(strstr(err, "newer") != NULL, "err: %s", err);
	header_set_user_version(v);
	st = open_store();
}
END_TEST

START_TEST(test_open_errors)
{
	const char *dir = store_fixture_dir();
	char err[256] = "";
	ck_assert_ptr_null(store_open("sqlite:/nonexistent-hookd/x/y.db", err, sizeof err));
	ck_assert_msg(strncmp(err, "cannot open database /nonexistent-hookd/x/y.db: ", 48) == 0, "err: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));

	char junk[160];
	snprintf(junk, sizeof junk, "sqlite:%s/junk.db", dir);
	FILE *f = fopen(junk + 7, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database file at all. ", f);
	fclose(f);
	err[0] = '\0';
	ck_assert_ptr_null(store_open(junk, err, sizeof err));
	ck_assert_msg(strstr(err, "not a database") != NULL, "err: %s", err);

	err[0] = '\0';
	ck_assert_ptr_null(store_open("sqlite::memory:", err, sizeof err));
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	ck_assert_int_eq(put_app(1, "acme"), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	int eps[] = {1};
	int64_t dkey = 0;
	ck_assert_int_eq(insert_msg(1, 1, "evt-1", eps, 1, 9000, &dkey), STORE_OK);
	store_close(st);
	st = open_store();

	struct app *apps;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &apps, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(apps[0].uid, "acme");
	app_dispose(&apps[0]);
	free(apps);
	struct endpoint *eps_out;
	ck_assert_int_eq(st->w->endpoints_load(st, &eps_out, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	endpoint_dispose(&eps_out[0]);
	free(eps_out);
	ck_assert_int_eq(delivery_status(dkey), DS_PENDING);
	char app[ID_MAX];
	mk_id(app, "app_", 1);
	struct message m;
	ck_assert_int_eq(st->q->msg_get(st, app, "evt-1", &m), STORE_OK);
	message_dispose(&m);
}
END_TEST

/* ---- apps and endpoints ---- */

START_TEST(test_app_roundtrip)
{
	ck_assert_int_eq(put_app(2, "acme"), STORE_OK);
	ck_assert_int_eq(put_app(1, NULL), STORE_OK);
	struct app *v;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	struct app want;
	app_init(&want, 1, NULL);
	ck_assert_str_eq(v[0].id, want.id); /* ordered by id */
	ck_assert_ptr_null(v[0].uid);
	ck_assert_str_eq(v[0].name, "Acme");
	ck_assert(json_equal(v[0].metadata, want.metadata));
	ck_assert_int_eq(v[0].throttle_rate, 7);
	ck_assert_int_eq(v[0].created_ms, 1001);
	ck_assert_int_eq(v[0].updated_ms, 2001);
	ck_assert_str_eq(v[1].uid, "acme");
	for (size_t i = 0; i < n; i++)
		app_dispose(&v[i]);
	free(v);

	/* put again: replaces by id */
	free(want.name);
	want.name = xstrdup("Renamed");
	json_decref(want.metadata);
	want.metadata = json_object();
	begin();
	ck_assert_int_eq(st->w->app_put(st, &want), STORE_OK);
	commit();
	app_dispose(&want);
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "Renamed");
	ck_assert_uint_eq(json_object_size(v[0].metadata), 0);
	for (size_t i = 0; i < n; i++)
		app_dispose(&v[i]);
	free(v);
}
END_TEST

START_TEST(test_app_uid_conflict)
{
	ck_assert_int_eq(put_app(1, "acme"), STORE_OK);
	ck_assert_int_eq(put_app(2, "acme"), STORE_CONFLICT);
	ck_assert_int_eq(put_app(1, "acme"), STORE_OK); /* its own uid is no conflict */
	ck_assert_int_eq(put_app(2, NULL), STORE_OK);
	ck_assert_int_eq(put_app(3, NULL), STORE_OK); /* several apps without uid */
	struct app *v;
	size_t n;
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].uid, "acme"); /* the holder was not replaced away */
	for (size_t i = 0; i < n; i++)
		app_dispose(&v[i]);
	free(v);
}
END_TEST

static void check_list(const struct strlist *l, const struct strlist *want)
{
	ck_assert_int_eq(l->v == NULL, want->v == NULL);
	ck_assert_uint_eq(l->n, want->n);
	for (size_t i = 0; i < l->n; i++)
		ck_assert_str_eq(l->v[i], want->v[i]);
}

static void check_retry(const struct endpoint *e, const struct endpoint *want)
{
	ck_assert_int_eq(e->has_retry, want->has_retry);
	ck_assert_int_eq(e->retry_steps, want->retry_steps);
	for (int i = 0; i < want->retry_steps; i++)
		ck_assert_int_eq(e->retry_ms[i], want->retry_ms[i]);
}

START_TEST(test_endpoint_roundtrip)
{
	struct endpoint in[3];
	endpoint_init(&in[0], 1, 1, NULL); /* lists absent */
	endpoint_init(&in[1], 2, 1, "second"); /* lists empty */
	in[1].event_types.v = xcalloc(1, sizeof(char *));
	in[1].channels.v = xcalloc(1, sizeof(char *));
	endpoint_init(&in[2], 3, 1, "third"); /* lists filled, everything set */
	strlist_add(&in[2].event_types, "user.signup");
	strlist_add(&in[2].event_types, "user.deleted");
	strlist_add(&in[2].channels, "project_1");
	free(in[2].description);
	in[2].description = xstrdup("the \"third\" one");
	in[2].disabled = true;
	in[2].throttle_rate = 100;
	json_object_set_new(in[2].metadata, "team", json_string("core"));
	json_object_set_new(in[2].headers, "X-Api-Key", json_string("k1"));
	in[1].has_retry = true; /* retrySchedule [] (no retries), unlike in[0]'s null (the server's) */
	in[2].has_retry = true;
	in[2].retry_steps = 3;
	memcpy(in[2].retry_ms, (int64_t[]){50, 300000, 0}, 3 * sizeof(int64_t));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(put_endpoint(&in[i]), STORE_OK);

	struct endpoint *v;
	size_t n;
	ck_assert_int_eq(st->w->endpoints_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(v[i].id, in[i].id);
		ck_assert_str_eq(v[i].app_id, in[i].app_id);
		if (in[i].uid == NULL)
			ck_assert_ptr_null(v[i].uid);
		else
			ck_assert_str_eq(v[i].uid, in[i].uid);
		ck_assert_str_eq(v[i].url, in[i].url);
		ck_assert_str_eq(v[i].description, in[i].description);
		ck_assert_int_eq(v[i].disabled, in[i].disabled);
		check_list(&v[i].event_types, &in[i].event_types);
		check_list(&v[i].channels, &in[i].channels);
		ck_assert_str_eq(v[i].secret, in[i].secret);
		ck_assert(json_equal(v[i].metadata, in[i].metadata));
		ck_assert(json_equal(v[i].headers, in[i].headers));
		ck_assert_int_eq(v[i].throttle_rate, in[i].throttle_rate);
		ck_assert_int_eq(v[i].created_ms, in[i].created_ms);
		ck_assert_int_eq(v[i].updated_ms, in[i].updated_ms);
		check_retry(&v[i], &in[i]);
	}
	/* and a second round trip keeps absent absent and empty empty */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(put_endpoint(&v[i]), STORE_OK);
	struct endpoint *w;
	ck_assert_int_eq(st->w->endpoints_load(st, &w, &n), STORE_OK);
	for (int i = 0; i < 3; i++) {
		check_list(&w[i].event_types, &in[i].event_types);
		check_list(&w[i].channels, &in[i].channels);
		check_retry(&w[i], &in[i]);
		endpoint_dispose(&w[i]);
		endpoint_dispose(&v[i]);
		endpoint_dispose(&in[i]);
	}
	free(w);
	free(v);
}
END_TEST

START_TEST(test_endpoint_uid_conflict)
{
	struct endpoint e;
	endpoint_init(&e, 1, 1, "hook");
	ck_assert_int_eq(put_endpoint(&e), STORE_OK);
	endpoint_dispose(&e);
	endpoint_init(&e, 2, 1, "hook");
	ck_assert_int_eq(put_endpoint(&e), STORE_CONFLICT);
	endpoint_dispose(&e);
	endpoint_init(&e, 2, 2, "hook"); /* another app may use it */
	ck_assert_int_eq(put_endpoint(&e), STORE_OK);
	endpoint_dispose(&e);
	ck_assert_int_eq(put_plain_endpoint(3, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(4, 1), STORE_OK);
	/* the unique key decides, not a read: an update taking a held uid, two puts of one uid in one batch */
	endpoint_init(&e, 3, 1, "hook");
	ck_assert_int_eq(put_endpoint(&e), STORE_CONFLICT);
	endpoint_dispose(&e);
	struct endpoint a, b;
	endpoint_init(&a, 5, 1, "twin");
	endpoint_init(&b, 6, 1, "twin");
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	job_begin();
	ck_assert_int_eq(st->w->endpoint_put(st, &a), STORE_OK);
	job_end(true);
	job_begin();
	ck_assert_int_eq(st->w->endpoint_put(st, &b), STORE_CONFLICT);
	job_end(false);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	endpoint_dispose(&a);
	endpoint_dispose(&b);
	struct endpoint *v;
	size_t n;
	ck_assert_int_eq(st->w->endpoints_load(st, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_null(v[2].uid); /* endpoint 3 kept no uid */
	for (size_t i = 0; i < n; i++)
		endpoint_dispose(&v[i]);
	free(v);
}
END_TEST

/* ---- messages and deliveries ---- */

START_TEST(test_msg_insert)
{
	int eps[] = {1, 2, 3};
	int64_t dkeys[3] = {0};
	ck_assert_int_eq(insert_msg(1, 1, "evt-1", eps, 3, 9000, dkeys), STORE_OK);
	ck_assert_int_gt(dkeys[0], 0);
	ck_assert_int_gt(dkeys[1], dkeys[0]);
	ck_assert_int_gt(dkeys[2], dkeys[1]);
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 3);

	char app[ID_MAX], want[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(want, "msg_", 1);
	ck_assert_int_eq(insert_msg(5, 1, "evt-2", eps, 0, 9000, NULL), STORE_OK);
	ck_assert_str_eq(last_existing, ""); /* nothing taken */

	int64_t r2[3] = {0};
	ck_assert_int_eq(insert_msg(2, 1, "evt-1", eps, 3, 9000, r2), STORE_CONFLICT); /* eventId taken */
	ck_assert_str_eq(last_existing, want);                                         /* by message 1 */
	ck_assert_int_eq(r2[0], 0);
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 3, 9000, r2), STORE_CONFLICT);    /* id taken */
	ck_assert_str_eq(last_existing, "");
	ck_assert_int_eq(insert_msg(2, 2, "evt-1", eps, 1, 9000, r2), STORE_OK);       /* other app */
	ck_assert_int_eq(insert_msg(3, 1, NULL, eps, 0, 9000, NULL), STORE_OK);        /* no endpoints */
	ck_assert_int_eq(insert_msg(4, 1, NULL, eps, 1, 9000, NULL), STORE_OK);        /* no dkeys wanted */
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 4); /* the failed jobs left nothing */
	(void)app;
}
END_TEST

START_TEST(test_delivery_load)
{
	struct message m;
	msg_init(&m, 1, 1, "evt-1");
	strlist_add(&m.channels, "ch1");
	m.tags.v = xcalloc(1, sizeof(char *)); /* empty, not absent */
	m.deliver_at_ms = 8500;
	char ep[ID_MAX];
	mk_id(ep, "ep_", 1);
	const char *eps[] = {ep};
	int64_t dkey;
	begin();
	ck_assert_int_eq(st->w->msg_insert(st, &m, eps, 1, 9000, &dkey, NULL), STORE_OK);
	commit();

	struct delivery d;
	struct message got;
	ck_assert_int_eq(st->q->delivery_load(st, dkey, &d, &got), STORE_OK);
	ck_assert_int_eq(d.dkey, dkey);
	ck_assert_str_eq(d.msg_id, m.id);
	ck_assert_str_eq(d.endpoint_id, ep);
	ck_assert_str_eq(d.app_id, m.app_id);
	ck_assert_int_eq(d.status, DS_PENDING);
	ck_assert_int_eq(d.attempts, 0);
	ck_assert_int_eq(d.trigger, TRIGGER_SCHEDULED);
	ck_assert_int_eq(d.next_ms, 9000);
	ck_assert_str_eq(got.id, m.id);
	ck_assert_str_eq(got.app_id, m.app_id);
	ck_assert_str_eq(got.event_type, "user.signup");
	ck_assert_str_eq(got.event_id, "evt-1");
	ck_assert_uint_eq(got.payload_len, m.payload_len);
	ck_assert_str_eq(got.payload, m.payload);
	check_list(&got.channels, &m.channels);
	check_list(&got.tags, &m.tags);
	ck_assert_int_eq(got.created_ms, m.created_ms);
	ck_assert_int_eq(got.deliver_at_ms, 8500);
	message_dispose(&got);
	ck_assert_int_eq(st->q->delivery_load(st, dkey + 100, &d, NULL), STORE_NOTFOUND);
	ck_assert_int_eq(st->q->delivery_load(st, dkey, &d, NULL), STORE_OK); /* the message is optional */
	message_dispose(&m);

	/* an expunged payload and absent lists load as NULL */
	msg_init(&m, 2, 1, NULL);
	free(m.payload);
	m.payload = NULL;
	m.payload_len = 0;
	begin();
	ck_assert_int_eq(st->w->msg_insert(st, &m, eps, 1, 9000, &dkey, NULL), STORE_OK);
	commit();
	ck_assert_int_eq(st->q->delivery_load(st, dkey, &d, &got), STORE_OK);
	ck_assert_ptr_null(got.payload);
	ck_assert_ptr_null(got.event_id);
	ck_assert_ptr_null(got.channels.v);
	ck_assert_ptr_null(got.tags.v);
	message_dispose(&got);
	message_dispose(&m);
}
END_TEST

/* The scheduler's batch load: one query for any number of keys, in the caller's order, with holes. */
START_TEST(test_deliveries_load)
{
	int eps[] = {1, 2};
	int64_t r1[2], r2[2];
	ck_assert_int_eq(insert_msg(1, 1, "evt-1", eps, 2, 9000, r1), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, NULL, eps, 2, 9500, r2), STORE_OK);
	int64_t keys[] = {r2[1], r1[0] + r2[1] + 1000, r1[0], r2[1], r1[1]};
	size_t n = sizeof keys / sizeof keys[0];
	struct delivery d[5];
	struct message m[5];
	ck_assert_int_eq(st->q->deliveries_load(st, keys, n, d, m), STORE_OK);
	ck_assert_int_eq(d[0].dkey, r2[1]);
	ck_assert_int_eq(d[0].status, DS_PENDING);
	ck_assert_int_eq(d[0].next_ms, 9500);
	ck_assert_str_eq(d[0].endpoint_id, "ep_000000000000000000000000002");
	ck_assert_str_eq(m[0].id, d[0].msg_id);
	ck_assert_str_eq(m[0].payload, "{\"n\":2}");
	ck_assert_int_eq(d[1].status, -1); /* no such key */
	ck_assert_str_eq(m[1].id, "");
	ck_assert_ptr_null(m[1].payload);
	ck_assert_int_eq(d[2].dkey, r1[0]);
	ck_assert_str_eq(m[2].event_id, "evt-1");
	ck_assert_str_eq(m[2].payload, "{\"n\":1}");
	ck_assert_int_eq(d[3].dkey, r2[1]); /* a key given twice is filled twice */
	ck_assert_str_eq(m[3].payload, "{\"n\":2}");
	ck_assert_int_eq(d[4].dkey, r1[1]);
	ck_assert_str_eq(d[4].endpoint_id, "ep_000000000000000000000000002");
	for (size_t i = 0; i < n; i++)
		message_dispose(&m[i]);
	/* without messages, and with none at all */
	ck_assert_int_eq(st->q->deliveries_load(st, keys, 1, d, NULL), STORE_OK);
	ck_assert_int_eq(d[0].dkey, r2[1]);
	ck_assert_int_eq(st->q->deliveries_load(st, keys, 0, d, m), STORE_OK);
	/* many keys in one call */
	int64_t many[600];
	struct delivery *dv = xcalloc(600, sizeof *dv);
	for (int i = 0; i < 600; i++)
		many[i] = i % 2 ? r1[i % 4 / 2] : 100000 + i;
	ck_assert_int_eq(st->q->deliveries_load(st, many, 600, dv, NULL), STORE_OK);
	for (int i = 0; i < 600; i++)
		ck_assert_int_eq(dv[i].status, i % 2 ? DS_PENDING : -1);
	free(dv);
}
END_TEST

/* Outcomes: each delivery's new state and its attempt row, in one call; run twice, the second time as the batch's
 * last job (job_last), where a backend may send the COMMIT with them. */
/* Outcomes for one delivery twice in a batch (a retry made and failed again while the first waited): the last
 * one sets the delivery, both attempts are kept; and a delivery ended before (success) stays ended. */
START_TEST(test_outcomes_twice)
{
	int eps[] = {1, 2};
	int64_t r[2];
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 2, 9000, r), STORE_OK);
	struct outcome o[4] = {
		mk_outcome(r[0], 1, 1, 1, 1, DS_PENDING, 1, 15000),
		mk_outcome(r[1], 2, 1, 2, 1, DS_SUCCESS, 1, 0),
		mk_outcome(r[0], 3, 1, 1, 1, DS_FAIL, 2, 0),
		mk_outcome(r[1], 4, 1, 2, 1, DS_PENDING, 2, 20000), /* after its success: not revived */
	};
	record(o, 4);
	struct delivery d;
	ck_assert_int_eq(st->q->delivery_load(st, r[0], &d, NULL), STORE_OK);
	ck_assert_int_eq(d.status, DS_FAIL);
	ck_assert_int_eq(d.attempts, 2);
	ck_assert_int_eq(delivery_status(r[1]), DS_SUCCESS);
	char app[ID_MAX], msg[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(msg, "msg_", 1);
	struct attempt *v;
	size_t n;
	ck_assert_int_eq(st->q->attempt_list(st, app, NULL, msg, NULL, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 4);
	free_attempts(v, n);
}
END_TEST

START_TEST(test_outcomes_record)
{
	int eps[] = {1, 2, 3};
	int64_t r[3];
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 3, 9000, r), STORE_OK);
	struct outcome o[3] = {
		mk_outcome(r[0], 1, 1, 1, 1, DS_SUCCESS, 1, 0),
		mk_outcome(r[1], 2, 1, 2, 1, DS_PENDING, 1, 15000),
		mk_outcome(r[2], 0, 0, 0, 0, DS_CANCELED, 0, 0), /* no attempt row */
	};
	o[1].attempt.request_body = "{\"transformed\":true}"; /* the body as sent, when not the payload */
	o[1].attempt.request_headers = "{\"content-type\":\"application/json\",\"authorization\":\"[redacted]\"}";
	o[1].attempt.response_headers = "{\"x-receiver\":\"r1\"}";
	o[1].attempt.request_method = "PUT";
	if (_i == 1 && st->w->job_last != NULL) { /* the batch's last job: its write carries the COMMIT */
		ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
		st->w->job_last(st);
		job_begin();
		ck_assert_int_eq(st->w->outcomes_record(st, o, 3), STORE_OK);
		ck_assert_int_eq(delivery_status(r[0]), DS_SUCCESS); /* committed: a reader sees it before batch_commit */
		commit();
	} else {
		record(o, 3);
	}

	struct delivery d;
	ck_assert_int_eq(st->q->delivery_load(st, r[1], &d, NULL), STORE_OK);
	ck_assert_int_eq(d.status, DS_PENDING);
	ck_assert_int_eq(d.attempts, 1);
	ck_assert_int_eq(d.next_ms, 15000);
	ck_assert_int_eq(delivery_status(r[0]), DS_SUCCESS);
	ck_assert_int_eq(delivery_status(r[2]), DS_CANCELED);

	char app[ID_MAX], msg[ID_MAX], att[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(msg, "msg_", 1);
	struct attempt *v;
	size_t n;
	ck_assert_int_eq(st->q->attempt_list(st, app, NULL, msg, NULL, &v, &n), STORE_OK);
	ck_assert_uint_eq(n, 2);
	free_attempts(v, n);

	struct attempt a;
	mk_id(att, "atmpt_", 2);
	ck_assert_int_eq(st->q->attempt_get(st, app, msg, att, &a), STORE_OK);
	ck_assert_str_eq(a.id, att);
	ck_assert_str_eq(a.msg_id, msg);
	ck_assert_str_eq(a.endpoint_id, o[1].attempt.endpoint_id);
	ck_assert_str_eq(a.app_id, app);
	ck_assert_str_eq(a.url, "https://example.com/hook");
	ck_assert_int_eq(a.status_code, 500);
	ck_assert_int_eq(a.duration_ms, 12);
	ck_assert_uint_eq(a.response_len, strlen("{\"ok\":true}"));
	ck_assert_str_eq(a.response, "{\"ok\":true}");
	ck_assert_int_eq(a.status, DS_FAIL);
	ck_assert_int_eq(a.trigger, TRIGGER_SCHEDULED);
	ck_assert_int_eq(a.created_ms, 6002);
	ck_assert_str_eq(a.request_body, "{\"transformed\":true}");
	ck_assert_str_eq(a.request_headers, o[1].attempt.request_headers);
	ck_assert_str_eq(a.response_headers, "{\"x-receiver\":\"r1\"}");
	ck_assert_str_eq(a.request_method, "PUT");
	attempt_dispose(&a);
	mk_id(att, "atmpt_", 1);
	ck_assert_int_eq(st->q->attempt_get(st, app, msg, att, &a), STORE_OK);
	ck_assert_ptr_null(a.request_body);
	ck_assert_ptr_null(a.request_headers);
	ck_assert_ptr_null(a.response_headers);
	ck_assert_ptr_null(a.request_method);
	attempt_dispose(&a);
	mk_id(att, "atmpt_", 2);
	char other[ID_MAX];
	mk_id(other, "app_", 2);
	ck_assert_int_eq(st->q->attempt_get(st, other, msg, att, &a), STORE_NOTFOUND); /* another app's attempt */
	mk_id(other, "msg_", 2);
	ck_assert_int_eq(st->q->attempt_get(st, app, other, att, &a), STORE_NOTFOUND); /* another message's */
	mk_id(att, "atmpt_", 9);
	ck_assert_int_eq(st->q->attempt_get(st, app, msg, att, &a), STORE_NOTFOUND);

	/* an outcome for a delivery that is gone writes no attempt */
	struct outcome gone = mk_outcome(r[2] + 1000, 3, 1, 3, 1, DS_SUCCESS, 1, 0);
	record(&gone, 1);
	mk_id(att, "atmpt_", 3);
	ck_assert_int_eq(st->q->attempt_get(st, app, msg, att, &a), STORE_NOTFOUND);

	/* the list reads them back too */
	ck_assert_int_eq(st->q->attempt_list(st, app, NULL, msg, NULL, &v, &n), STORE_OK);
	size_t with = 0;
	for (size_t i = 0; i < n; i++)
		with += v[i].response_headers != NULL && strcmp(v[i].response_headers, "{\"x-receiver\":\"r1\"}") == 0;
	ck_assert_uint_eq(with, 1);
	free_attempts(v, n);

	/* the retention purge drops the body and the headers as sent with the response */
	bool more = false;
	begin();
	ck_assert_int_eq(st->w->retention_purge(st, 7000, 100, 10, &more), STORE_OK);
	commit();
	mk_id(att, "atmpt_", 2);
	ck_assert_int_eq(st->q->attempt_get(st, app, msg, att, &a), STORE_OK);
	ck_assert_ptr_null(a.request_body);
	ck_assert_ptr_null(a.request_headers);
	ck_assert_ptr_null(a.response_headers);
	attempt_dispose(&a);
}
END_TEST

START_TEST(test_retry_keeps_canceled)
{
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	int eps[] = {1};
	int64_t r;
	ck_assert_int_eq(insert_msg(1, 1, NULL, eps, 1, 9000, &r), STORE_OK);
	char ep[ID_MAX];
	mk_id(ep, "ep_", 1);
	begin();
	ck_assert_int_eq(st->w->endpoint_cancel_pending(st, ep), STORE_OK);
	commit();
	struct outcome o = mk_outcome(r, 1, 1, 1, 1, DS_PENDING, 1, 20000); /* the in-flight attempt failed */
	record(&o, 1);
	ck_assert_int_eq(delivery_status(r), DS_CANCELED);

	/* a success is final: a late outcome of the same delivery (a node that lost the endpoint) does not undo it */
	int64_t r2;
	ck_assert_int_eq(insert_msg(2, 1, NULL, eps, 1, 9000, &r2), STORE_OK);
	struct outcome ok = mk_outcome(r2, 2, 2, 1, 1, DS_SUCCESS, 1, 0);
	record(&ok, 1);
	struct outcome late = mk_outcome(r2, 3, 2, 1, 1, DS_PENDING, 2, 20000);
	record(&late, 1);
	ck_assert_int_eq(delivery_status(r2), DS_SUCCESS);
}
END_TEST

/* ---- counts ---- */

START_TEST(test_delivery_counts)
{
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(3, 2), STORE_OK);
	int64_t r[2], s[1];
	ck_assert_int_eq(insert_msg(1, 1, NULL, (int[]){1, 2}, 2, 0, r), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 2, NULL, (int[]){3}, 1, 0, s), STORE_OK);
	struct outcome o[2] = {
		mk_outcome(r[0], 1, 1, 1, 1, DS_FAIL, 5, 0),
		mk_outcome(s[0], 2, 2, 3, 2, DS_SUCCESS, 1, 0),
	};
	record(o, 2);
	int64_t c[5];
	counts_of(1, 1, c);
	ck_assert_int_eq(c[DS_FAIL], 1);
	ck_assert_int_eq(c[DS_PENDING], 0);
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_FAIL], 1);
	ck_assert_int_eq(c[DS_PENDING], 1);
	counts_of(0, 3, c); /* endpoint only: its app is looked up */
	ck_assert_int_eq(c[DS_SUCCESS], 1);
	counts_of(2, 1, c); /* endpoint of another app */
	ck_assert_int_eq(c[0] + c[1] + c[2] + c[3] + c[4], 0);
	counts_of(0, 0, c); /* store-wide: the gauges' pending and failed only, from their partial indexes */
	ck_assert_int_eq(c[DS_PENDING], 1);
	ck_assert_int_eq(c[DS_FAIL], 1);
	ck_assert_int_eq(c[DS_SUCCESS] + c[DS_SENDING] + c[DS_CANCELED], 0);
}
END_TEST

START_TEST(test_msg_deliveries)
{
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	int64_t r[2];
	ck_assert_int_eq(insert_msg(1, 1, NULL, (int[]){2, 1}, 2, 0, r), STORE_OK);
	struct outcome o = mk_outcome(r[0], 1, 1, 2, 1, DS_FAIL, 3, 0);
	record(&o, 1);
	char app[ID_MAX], msg[ID_MAX], ep1[ID_MAX], ep2[ID_MAX];
	mk_id(app, "app_", 1);
	mk_id(msg, "msg_", 1);
	mk_id(ep1, "ep_", 1);
	mk_id(ep2, "ep_", 2);
	struct delivery *d = NULL;
	size_t n = 0;
	ck_assert_int_eq(st->q->msg_deliveries(st, app, msg, &d, &n), STORE_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(d[0].endpoint_id, ep1); /* ordered by endpoint */
	ck_assert_int_eq(d[0].status, DS_PENDING);
	ck_assert_str_eq(d[1].endpoint_id, ep2);
	ck_assert_int_eq(d[1].status, DS_FAIL);
	ck_assert_int_eq(d[1].attempts, 3);
	free(d);
	mk_id(app, "app_", 2); /* another app sees nothing */
	ck_assert_int_eq(st->q->msg_deliveries(st, app, msg, &d, &n), STORE_OK);
	ck_assert_int_eq(n, 0);
	free(d);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_app_roundtrip);
	tcase_add_test(tc, test_app_uid_conflict);
	tcase_add_test(tc, test_endpoint_roundtrip);
	tcase_add_test(tc, test_endpoint_uid_conflict);
	tcase_add_test(tc, test_msg_insert);
	tcase_add_test(tc, test_delivery_load);
	tcase_add_test(tc, test_deliveries_load);
	tcase_add_loop_test(tc, test_outcomes_record, 0, 2);
	tcase_add_test(tc, test_outcomes_twice);
	tcase_add_test(tc, test_retry_keeps_canceled);
	tcase_add_test(tc, test_delivery_counts);
	tcase_add_test(tc, test_msg_deliveries);
	store_list_tests(tc);
	store_txn_tests(tc);
	store_task_tests(tc);
	store_misc_tests(tc);
	store_cluster_tests(tc);
	store_seal_tests(tc);
	store_apiver_tests(tc);
	suite_add_tcase(s, tc);
	if (on_sqlite()) {
		TCase *sq = tcase_create("sqlite");
		tcase_add_checked_fixture(sq, store_setup, store_teardown);
		tcase_set_timeout(sq, 30);
		tcase_add_test(sq, test_open_creates_and_migrates);
		tcase_add_test(sq, test_open_errors);
		suite_add_tcase(s, sq);
	}
	return s;
}
