/* store_fixture.c: the store contract suite's fixture and the helpers its files share (store_fixture.h). Each
 * test opens the store named by HOOKD_TEST_STORE:
 *
 *   unset, empty or "sqlite:..."  SQLite, a fresh database in its own temp dir per test (the path given is ignored)
 *   postgres://...                that backend; each test appends "schema=hookd_t<pid>_<n>" to the URL's query,
 *                                 which the backend must take as a fresh, empty namespace (created and migrated on
 *                                 open) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seal.h"
#include "store_fixture.h"
#include "tests.h"

struct store *st;
static char dir[64];   /* sqlite: the test's temp dir */
static char path[128]; /* sqlite: its database file */
static char url[1024]; /* what store_open gets */

bool on_sqlite(void)
{
	const char *u = getenv("HOOKD_TEST_STORE");
	return u == NULL || *u == '\0' || strncmp(u, "sqlite:", 7) == 0;
}

struct store *open_store(void)
{
	char err[256] = "";
	struct store *s = store_open(url, err, sizeof err);
	ck_assert_msg(s != NULL, "open %s: %s", url, err);
	ck_assert_ptr_eq(s->w, s->be->write);
	ck_assert_ptr_eq(s->q, s->be->query);
	return s;
}

void store_setup(void)
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
const char *store_fixture_dir(void) { return dir; }

bool has_savepoints(void) { return st->w->job_begin != NULL; }

void store_teardown(void)
{
	store_close(st);
	st = NULL;
	seal_keys_clear();
	if (dir[0] != '\0')
		tests_rmdir(dir);
}

void mk_id(char out[ID_MAX], const char *prefix, int n) { snprintf(out, ID_MAX, "%s%027d", prefix, n); }

void job_begin(void)
{
	if (st->w->job_begin != NULL)
		ck_assert_int_eq(st->w->job_begin(st), STORE_OK);
}

void job_end(bool ok)
{
	if (st->w->job_end != NULL)
		st->w->job_end(st, ok);
}

void begin(void)
{
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	job_begin();
}

void commit(void)
{
	job_end(true);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
}

void app_init(struct app *a, int n, const char *uid)
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

int put_app(int n, const char *uid)
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

void endpoint_init(struct endpoint *e, int n, int app, const char *uid)
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

int put_endpoint(struct endpoint *e)
{
	begin();
	int rc = st->w->endpoint_put(st, e);
	job_end(rc == STORE_OK);
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	return rc;
}

int put_plain_endpoint(int n, int app)
{
	struct endpoint e;
	endpoint_init(&e, n, app, NULL);
	int rc = put_endpoint(&e);
	endpoint_dispose(&e);
	return rc;
}

void msg_init(struct message *m, int n, int app, const char *event_id)
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

char last_existing[ID_MAX];

int insert_msg(int n, int app, const char *event_id, const int *eps, size_t neps, int64_t due, int64_t *dkeys)
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

const char *app_id_of(int n)
{
	static char id[ID_MAX];
	mk_id(id, "app_", n);
	return id;
}

struct outcome mk_outcome(int64_t dkey, int att, int msg, int ep, int app, int status, int attempts,
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

void record(const struct outcome *o, size_t n)
{
	begin();
	ck_assert_int_eq(st->w->outcomes_record(st, o, n), STORE_OK);
	commit();
}

void counts_of(int app, int ep, int64_t c[5])
{
	char a[ID_MAX], e[ID_MAX];
	mk_id(a, "app_", app);
	mk_id(e, "ep_", ep);
	ck_assert_int_eq(st->q->delivery_counts(st, app ? a : NULL, ep ? e : NULL, c), STORE_OK);
}

int delivery_status(int64_t dkey)
{
	struct delivery d;
	struct message m;
	ck_assert_int_eq(st->q->delivery_load(st, dkey, &d, &m), STORE_OK);
	message_dispose(&m);
	return d.status;
}

void free_messages(struct message *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		message_dispose(&v[i]);
	free(v);
}

void free_attempts(struct attempt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		attempt_dispose(&v[i]);
	free(v);
}
