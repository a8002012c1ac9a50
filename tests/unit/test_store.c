/* test_store.c: the store's contract suite. It goes through the public tables only (store.h: st->w, st->q; never
 * a backend's own types), opened with store_open(url), so every backend must pass it unchanged.
 *
 *   HOOKD_TEST_STORE unset, empty or "sqlite:..."  SQLite, a fresh database in its own temp dir per test (the
 *                                                  path given is ignored)
 *   HOOKD_TEST_STORE=postgres://...                that backend; each test appends "schema=hookd_t<pid>_<n>" to
 *                                                  the URL's query, which the backend must take as a fresh, empty
 *                                                  namespace (created and migrated on open)
 *
 * The "contract" case runs on any backend; the "sqlite" case (files, permissions, schema versions) only on
 * SQLite. Tests of per-job rollback run only on a backend with savepoints (job_begin != NULL). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "node.h"
#include "seal.h"
#include "tests.h"

static struct store *st;
static char dir[64];   /* sqlite: the test's temp dir */
static char path[128]; /* sqlite: its database file */
static char url[1024]; /* what store_open gets */

/* ---- fixture ---- */

static bool on_sqlite(void)
{
	const char *u = getenv("HOOKD_TEST_STORE");
	return u == NULL || *u == '\0' || strncmp(u, "sqlite:", 7) == 0;
}

static struct store *open_store(void)
{
	char err[256] = "";
	struct store *s = store_open(url, err, sizeof err);
	ck_assert_msg(s != NULL, "open %s: %s", url, err);
	ck_assert_ptr_eq(s->w, s->be->write);
	ck_assert_ptr_eq(s->q, s->be->query);
	return s;
}

static void setup(void)
{
	static int n;
	dir[0] = path[0] = '\0';
	if (on_sqlite()) {
		snprintf(dir, sizeof dir, "/tmp/hookd-store-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(path, sizeof path, "%s/hookd.db", dir);
		snprintf(url, sizeof url, "sqlite:%s", path);
	} else {
		const char *u = getenv("HOOKD_TEST_STORE");
		snprintf(url, sizeof url, "%s%sschema=hookd_t%ld_%d", u, strchr(u, '?') ? "&" : "?", (long)getpid(), ++n);
	}
	/* every contract test runs with secrets sealed at rest, as hookd does (test_store_seal.c tests the rest) */
	char err[128];
	ck_assert_int_eq(seal_keys_set(STORE_TEST_KEY, NULL, err, sizeof err), 0);
	st = open_store();
}

struct store **store_fixture(void) { return &st; }
const char *store_fixture_url(void) { return url; }
const char *store_fixture_path(void) { return path; }

/* A backend may have no per-job savepoints (store.h): then a job's writes are not undone alone. */
static bool has_savepoints(void) { return st->w->job_begin != NULL; }

static void teardown(void)
{
	store_close(st);
	st = NULL;
	seal_keys_clear();
	if (dir[0] != '\0')
		tests_rmdir(dir);
}

/* ---- helpers ---- */

static void mk_id(char out[ID_MAX], const char *prefix, int n) { snprintf(out, ID_MAX, "%s%027d", prefix, n); }

static void job_begin(void)
{
	if (st->w->job_begin != NULL)
		ck_assert_int_eq(st->w->job_begin(st), STORE_OK);
}

static void job_end(bool ok)
{
	if (st->w->job_end != NULL)
		st->w->job_end(st, ok);
}

static void begin(void)
{
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	job_begin();
}

static void commit(void)
{
	job_end(true);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
}

static void app_init(struct app *a, int n, const char *uid)
{
	memset(a, 0, sizeof *a);
	mk_id(a->id, "app_", n);
	a->uid = uid ? xstrdup(uid) : NULL;
	a->name = xstrdup("Acme");
	a->metadata = json_pack("{s:s}", "tier", "gold");
	a->throttle_rate = 7;
	a->created_ms = 1000 + n;
	a->updated_ms = 2000 + n;
}

static int put_app(int n, const char *uid)
{
	struct app a;
	app_init(&a, n, uid);
	begin();
	int rc = st->w->app_put(st, &a);
	job_end(rc == STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	app_dispose(&a);
	return rc;
}

static void endpoint_init(struct endpoint *e, int n, int app, const char *uid)
{
	memset(e, 0, sizeof *e);
	mk_id(e->id, "ep_", n);
	mk_id(e->app_id, "app_", app);
	e->uid = uid ? xstrdup(uid) : NULL;
	e->url = xstrdup("https://example.com/hook");
	e->description = xstrdup("");
	e->secret = xstrdup("whsec_c2VjcmV0");
	e->metadata = json_object();
	e->headers = json_object();
	e->created_ms = 3000 + n;
	e->updated_ms = 4000 + n;
}

static int put_endpoint(struct endpoint *e)
{
	begin();
	int rc = st->w->endpoint_put(st, e);
	job_end(rc == STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	return rc;
}

static int put_plain_endpoint(int n, int app)
{
	struct endpoint e;
	endpoint_init(&e, n, app, NULL);
	int rc = put_endpoint(&e);
	endpoint_dispose(&e);
	return rc;
}

static void msg_init(struct message *m, int n, int app, const char *event_id)
{
	memset(m, 0, sizeof *m);
	mk_id(m->id, "msg_", n);
	mk_id(m->app_id, "app_", app);
	m->event_type = xstrdup("user.signup");
	m->event_id = event_id ? xstrdup(event_id) : NULL;
	char payload[64];
	snprintf(payload, sizeof payload, "{\"n\":%d}", n);
	m->payload = xstrdup(payload);
	m->payload_len = strlen(payload);
	m->created_ms = 5000 + n;
}

static char last_existing[ID_MAX]; /* what the last insert_msg reported as the eventId's holder */

/* Insert message n of app with deliveries to the given endpoint numbers; returns the store's rc. */
static int insert_msg(int n, int app, const char *event_id, const int *eps, size_t neps, int64_t due,
		      int64_t *dkeys)
{
	struct message m;
	msg_init(&m, n, app, event_id);
	char ids[8][ID_MAX];
	const char *ptrs[8];
	ck_assert_uint_le(neps, 8);
	for (size_t i = 0; i < neps; i++) {
		mk_id(ids[i], "ep_", eps[i]);
		ptrs[i] = ids[i];
	}
	begin();
	memset(last_existing, 'x', sizeof last_existing);
	int rc = st->w->msg_insert(st, &m, ptrs, neps, due, dkeys, last_existing);
	job_end(rc == STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	message_dispose(&m);
	return rc;
}

static const char *app_id_of(int n)
{
	static char id[ID_MAX];
	mk_id(id, "app_", n);
	return id;
}

static struct outcome mk_outcome(int64_t dkey, int att, int msg, int ep, int app, int status, int attempts,
				 int64_t next)
{
	struct outcome o;
	memset(&o, 0, sizeof o);
	o.dkey = dkey;
	if (att > 0) {
		mk_id(o.attempt.id, "atmpt_", att);
		mk_id(o.attempt.msg_id, "msg_", msg);
		mk_id(o.attempt.endpoint_id, "ep_", ep);
		mk_id(o.attempt.app_id, "app_", app);
		o.attempt.url = "https://example.com/hook";
		o.attempt.status_code = status == DS_SUCCESS ? 200 : 500;
		o.attempt.duration_ms = 12;
		o.attempt.response = "{\"ok\":true}";
		o.attempt.response_len = strlen(o.attempt.response);
		o.attempt.status = status == DS_SUCCESS ? DS_SUCCESS : DS_FAIL;
		o.attempt.created_ms = 6000 + att;
	}
	o.new_status = status;
	o.attempts = attempts;
	o.next_ms = next;
	return o;
}

static void record(const struct outcome *o, size_t n)
{
	begin();
	ck_assert_int_eq(st->w->outcomes_record(st, o, n), STORE_OK);
	commit();
}

static void counts_of(int app, int ep, int64_t c[5])
{
	char a[ID_MAX], e[ID_MAX];
	mk_id(a, "app_", app);
	mk_id(e, "ep_", ep);
	ck_assert_int_eq(st->q->delivery_counts(st, app ? a : NULL, ep ? e : NULL, c), STORE_OK);
}

static int delivery_status(int64_t dkey)
{
	struct delivery d;
	struct message m;
	ck_assert_int_eq(st->q->delivery_load(st, dkey, &d, &m), STORE_OK);
	message_dispose(&m);
	return d.status;
}

static void free_messages(struct message *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		message_dispose(&v[i]);
	free(v);
}

static void free_attempts(struct attempt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		attempt_dispose(&v[i]);
	free(v);
}

static uint32_t header_user_version(void)
{
	unsigned char b[4] = {0};
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 60, SEEK_SET), 0);
	ck_assert_uint_eq(fread(b, 1, 4, f), 4);
	fclose(f);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void header_set_user_version(uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff};
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 60, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(b, 1, 4, f), 4);
	fclose(f);
}

/* ---- open and migrations ---- */

START_TEST(test_open_creates_and_migrates)
{
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
	record(o, 3);

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

/* ---- idempotency ---- */

static int claim(const char *key, int64_t min_created, int64_t now, int *status, char **body)
{
	*status = -1;
	*body = NULL;
	return st->w->idem_claim(st, key, min_created, now, status, body);
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
	ck_assert_int_eq(claim("k1", 0, 3000, &status, &body), STORE_OK);
	ck_assert_int_eq(st->w->idem_put(st, "k1", 409, "again", 3000), STORE_OK);
	ck_assert_int_eq(st->w->idem_release(st, "k1"), STORE_OK); /* a kept response is not released */
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

static void wait_cb(void *arg, const char *payload);

/* Does a notification in seen ("...|"-separated payloads) name key in a "d K" or "d LO-HI" entry? */
static bool notified_key(const char *seen, int64_t key)
{
	for (const char *p = strstr(seen, "\nd "); p != NULL; p = strstr(p + 1, "\nd ")) {
		char *end;
		long long lo = strtoll(p + 3, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoll(end + 1, NULL, 10);
		if (key >= lo && key <= hi)
			return true;
	}
	return false;
}

/* A batch's message inserts announced ahead (msg_prefetch, where the backend has it): each job still gets its own
 * answer, a conflict in the middle writes nothing and touches neither neighbour. Run twice: in the middle of a
 * batch, and as its end (_i == 1), where the backend may commit the batch with them; then the notification of a
 * shared database names the keys written (the server names them) and batch_commit has nothing left to do. */
START_TEST(test_msg_prefetch)
{
	bool ends = _i == 1;
	char seen[4096] = "";
	bool resync = false;
	if (st->c != NULL)
		ck_assert_int_eq(st->c->wait(st, 0, wait_cb, seen, &resync), STORE_OK); /* opens and LISTENs */
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	int eps[] = {1};
	ck_assert_int_eq(insert_msg(1, 1, "p-1", eps, 1, 9000, NULL), STORE_OK);
	struct message m[3];
	msg_init(&m[0], 2, 1, "p-2");
	msg_init(&m[1], 3, 1, "p-1"); /* taken by message 1 */
	msg_init(&m[2], 4, 1, NULL);
	char ep[1][ID_MAX];
	mk_id(ep[0], "ep_", 1);
	const char *ptrs[1] = {ep[0]};
	struct store_msg_ins ins[3];
	for (int i = 0; i < 3; i++)
		ins[i] = (struct store_msg_ins){.m = &m[i], .ep_ids = (const char(*)[ID_MAX])ep, .n = 1, .due_ms = 9000};
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	if (st->w->msg_prefetch != NULL)
		st->w->msg_prefetch(st, ins, 3, ends);
	int rc[3];
	int64_t dk[3] = {0};
	char existing[3][ID_MAX];
	for (int i = 0; i < 3; i++) {
		job_begin();
		rc[i] = st->w->msg_insert(st, &m[i], ptrs, 1, 9000, &dk[i], existing[i]);
		job_end(rc[i] == STORE_OK);
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	char want[ID_MAX];
	mk_id(want, "msg_", 1);
	ck_assert_int_eq(rc[0], STORE_OK);
	ck_assert_int_eq(rc[1], STORE_CONFLICT);
	ck_assert_str_eq(existing[1], want);
	ck_assert_int_eq(rc[2], STORE_OK);
	ck_assert_int_gt(dk[0], 0);
	ck_assert_int_gt(dk[2], dk[0]);
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 3); /* messages 1, 2 and 4 */
	struct message got;
	char id3[ID_MAX];
	mk_id(id3, "msg_", 3);
	ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id3, &got), STORE_NOTFOUND);
	for (int i = 0; i < 3; i++)
		message_dispose(&m[i]);
	for (int i = 0; st->c != NULL && i < 50 && !(notified_key(seen, dk[0]) && notified_key(seen, dk[2])); i++)
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
	if (st->c != NULL)
		ck_assert_msg(notified_key(seen, dk[0]) && notified_key(seen, dk[2]), "notified: %s", seen);
}
END_TEST

/* ---- the cluster side (a shared database only) ---- */

static void wait_cb(void *arg, const char *payload)
{
	char *seen = arg;
	size_t len = strlen(seen);
	snprintf(seen + len, 4096 - len, "%s|", payload);
}

static size_t pending_n;
static char pending_ep[ID_MAX];
static void pending_cb(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	(void)arg;
	ck_assert_int_gt(dkey, 0);
	ck_assert_int_eq(next_ms, 9000);
	snprintf(pending_ep, sizeof pending_ep, "%s", endpoint_id);
	pending_n++;
}

START_TEST(test_cluster_leases)
{
	if (st->c == NULL)
		return; /* one writer: nothing to share */
	put_app(1, NULL);
	for (int i = 1; i <= 3; i++)
		ck_assert_int_eq(put_plain_endpoint(i, 1), STORE_OK);
	int live = 0;
	int64_t eps = 0;
	ck_assert_int_eq(st->c->beat(st, "node_a", 5000, &live, &eps), STORE_OK);
	ck_assert_int_eq(live, 1);
	ck_assert_int_eq(eps, 3);

	struct idvec got = {0}, held = {0};
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 2, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 10, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 3); /* the one left */
	ck_assert_int_eq(st->c->claim(st, "node_b", 5000, 10, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 3); /* every lease is live: nothing for b */
	ck_assert_int_eq(st->c->beat(st, "node_b", 5000, &live, &eps), STORE_OK);
	ck_assert_int_eq(live, 2);
	ck_assert_int_eq(st->c->renew(st, "node_a", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 3);

	/* a lease given up goes to the next claimer */
	ck_assert_int_eq(st->c->release(st, "node_a", (const char(*)[ID_MAX])got.v, 1), STORE_OK);
	struct idvec b = {0};
	ck_assert_int_eq(st->c->claim(st, "node_b", 5000, 10, &b), STORE_OK);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_str_eq(b.v[0], got.v[0]);

	/* an expired lease too: b's lapses, a takes it */
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_b", 1, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 1);
	usleep(20 * 1000);
	struct idvec a2 = {0};
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 10, &a2), STORE_OK);
	ck_assert_uint_eq(a2.n, 1);
	ck_assert_str_eq(a2.v[0], got.v[0]);
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_b", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 0); /* b lost it */

	/* the lease of an endpoint that is gone is dropped */
	begin();
	ck_assert_int_eq(st->w->endpoint_delete(st, got.v[1]), STORE_OK);
	commit();
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_a", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 2);

	idvec_free(&got);
	idvec_free(&held);
	idvec_free(&b);
	idvec_free(&a2);
}
END_TEST

START_TEST(test_cluster_pending_and_notify)
{
	if (st->c == NULL)
		return;
	char ndir[] = "/tmp/hookd-node-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(ndir));
	ck_assert_int_eq(node_init(ndir), 0); /* the sender's id in the payloads */
	char file[64];
	snprintf(file, sizeof file, "%s/node", ndir);
	unlink(file);
	rmdir(ndir);
	char seen[4096] = "";
	bool resync = false;
	ck_assert_int_eq(st->c->wait(st, 0, wait_cb, seen, &resync), STORE_OK); /* opens and LISTENs */
	ck_assert(resync);
	int eps[] = {1, 2};
	int64_t dkeys[2] = {0};
	ck_assert_int_eq(insert_msg(1, 1, "e-1", eps, 2, 9000, dkeys), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, "e-1", eps, 2, 9000, NULL), STORE_CONFLICT); /* notifies nothing */

	char want[128];
	snprintf(want, sizeof want, "\nd %lld-%lld|", (long long)dkeys[0], (long long)dkeys[1]);
	for (int i = 0; i < 50 && strstr(seen, want) == NULL; i++) {
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
		ck_assert(!resync);
	}
	ck_assert_msg(strstr(seen, want) != NULL, "notified: %s", seen);
	ck_assert_msg(strncmp(seen, node_id(), strlen(node_id())) == 0 && seen[strlen(node_id())] == '\n',
		      "the sender's node id first: %s", seen);
	ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
	ck_assert_msg(strchr(strchr(seen, '|') + 1, '|') == NULL, "one notification only: %s", seen);

	char ep[1][ID_MAX];
	mk_id(ep[0], "ep_", 2);
	pending_n = 0;
	ck_assert_int_eq(st->c->pending_of(st, (const char(*)[ID_MAX])ep, 1, pending_cb, NULL), STORE_OK);
	ck_assert_uint_eq(pending_n, 1);
	ck_assert_str_eq(pending_ep, ep[0]);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_app_roundtrip);
	tcase_add_test(tc, test_app_uid_conflict);
	tcase_add_test(tc, test_endpoint_roundtrip);
	tcase_add_test(tc, test_endpoint_uid_conflict);
	tcase_add_test(tc, test_msg_insert);
	tcase_add_test(tc, test_delivery_load);
	tcase_add_test(tc, test_deliveries_load);
	tcase_add_test(tc, test_outcomes_record);
	tcase_add_test(tc, test_retry_keeps_canceled);
	tcase_add_test(tc, test_msg_list_paging);
	tcase_add_test(tc, test_msg_get);
	tcase_add_test(tc, test_attempt_list_paging);
	tcase_add_test(tc, test_reset_and_scan);
	tcase_add_test(tc, test_endpoint_delete_cancels);
	tcase_add_test(tc, test_app_delete_cascades);
	tcase_add_test(tc, test_delivery_keys_not_reused);
	tcase_add_test(tc, test_idempotency);
	tcase_add_test(tc, test_app_tokens);
	tcase_add_test(tc, test_poll_cursors);
	tcase_add_test(tc, test_job_rollback);
	tcase_add_test(tc, test_batch_rollback);
	tcase_add_test(tc, test_readers_see_only_commits);
	tcase_add_test(tc, test_delivery_counts);
	tcase_add_test(tc, test_msg_deliveries);
	tcase_add_test(tc, test_concurrent_reads);
	tcase_add_test(tc, test_retention_purge);
	tcase_add_test(tc, test_tasks);
	tcase_add_test(tc, test_recover_and_replay_scans);
	tcase_add_test(tc, test_delivery_states);
	tcase_add_test(tc, test_poll_read);
	tcase_add_test(tc, test_event_types);
	tcase_add_test(tc, test_msg_event_id_conflict);
	tcase_add_test(tc, test_inbound_dedup);
	tcase_add_test(tc, test_event_type_create_conflict);
	tcase_add_loop_test(tc, test_msg_prefetch, 0, 2);
	tcase_add_test(tc, test_cluster_leases);
	tcase_add_test(tc, test_cluster_pending_and_notify);
	store_seal_tests(tc);
	store_apiver_tests(tc);
	suite_add_tcase(s, tc);
	if (on_sqlite()) {
		TCase *sq = tcase_create("sqlite");
		tcase_add_checked_fixture(sq, setup, teardown);
		tcase_set_timeout(sq, 30);
		tcase_add_test(sq, test_open_creates_and_migrates);
		tcase_add_test(sq, test_open_errors);
		suite_add_tcase(s, sq);
	}
	return s;
}
