/* store_sqlite_conn.c: the SQLite backend's connections, read pool, statement helpers and checkpointer. */
#include "store_sqlite_int.h"
#include "json.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define POOL_IDLE_MAX 8 /* idle read connections kept; more are closed on release */

int sq_log_err(sqlite3 *db, const char *what)
{
	log_warnx("sqlite: %s: %s", what, sqlite3_errmsg(db));
	return STORE_ERR;
}

void sq_stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Map a step result that is neither ROW nor DONE; a taken unique key is the caller's business, not a failure. */
int sq_step_error(sqlite3_stmt *q, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_CONFLICT;
	return sq_log_err(sqlite3_db_handle(q), what);
}

/* Run a statement that returns no rows, then make it ready for reuse. */
int sq_run(sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	int ret = rc == SQLITE_DONE ? STORE_OK : sq_step_error(q, rc, what);
	sq_stmt_done(q);
	return ret;
}

/* Step to the first row: STORE_OK on a row (the caller reads it, then calls stmt_done), else NOTFOUND or ERR. */
int sq_step_row(sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : sq_step_error(q, rc, what);
}

/* Bind failures (no memory, too big) are rare; the bind_* helpers return nonzero for them and callers OR them. */
int sq_bind_failed(sqlite3_stmt *q, const char *what)
{
	int rc = sq_log_err(sqlite3_db_handle(q), what); /* before the reset, which may replace the message */
	sq_stmt_done(q);
	return rc;
}

/* ---- binding ---- */

int sq_bind_str(sqlite3_stmt *q, int i, const char *s)
{
	return s != NULL ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

int sq_bind_bytes(sqlite3_stmt *q, int i, const char *p, size_t len)
{
	return p != NULL ? sqlite3_bind_blob64(q, i, p, len, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

/* jansson documents that json_dumps' result is freed with free(), so SQLite can own it. */
int sq_bind_json(sqlite3_stmt *q, int i, const json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	return text != NULL ? sqlite3_bind_text(q, i, text, -1, free) : sqlite3_bind_null(q, i);
}

int sq_bind_retry(sqlite3_stmt *q, int i, const struct endpoint *e)
{
	json_t *a = endpoint_retry_to_json(e); /* NULL: the server's schedule, unlike "[]" (no retries) */
	int rc = sq_bind_json(q, i, a);
	json_decref(a);
	return rc;
}

int sq_bind_strlist(sqlite3_stmt *q, int i, const struct strlist *l)
{
	if (l->v == NULL)
		return sqlite3_bind_null(q, i); /* absent, unlike an empty list */
	json_t *a = json_array();
	for (size_t k = 0; k < l->n; k++)
		json_array_append_new(a, json_string(l->v[k]));
	int rc = sq_bind_json(q, i, a);
	json_decref(a);
	return rc;
}

/* Bind only if given: a statement variant without the parameter is chosen when it is NULL. */
int sq_bind_opt(sqlite3_stmt *q, int i, const char *s)
{
	return s != NULL ? sq_bind_str(q, i, s) : SQLITE_OK;
}

/* Page bounds stay plain index range terms: "" sorts before every id and a BLOB after every TEXT value. */
int sq_bind_page(sqlite3_stmt *q, const struct page *pg)
{
	int rc = sqlite3_bind_text(q, 2, pg->after != NULL ? pg->after : "", -1, SQLITE_STATIC);
	if (pg->before != NULL)
		rc |= sqlite3_bind_text(q, 3, pg->before, -1, SQLITE_STATIC);
	else
		rc |= sqlite3_bind_zeroblob(q, 3, 0);
	rc |= sqlite3_bind_int(q, 4, pg->limit);
	const struct list_filter *f = pg->filter;
	if (f == NULL)
		return rc;
	if (f->before_ms > 0)
		rc |= sqlite3_bind_int64(q, 7, f->before_ms);
	if (f->after_ms > 0)
		rc |= sqlite3_bind_int64(q, 8, f->after_ms);
	rc |= sq_bind_opt(q, 9, f->event_types_json) | sq_bind_opt(q, 10, f->channel) | sq_bind_opt(q, 11, f->tag);
	if (sqlite3_bind_parameter_count(q) >= 13) { /* attempts */
		if (f->status >= 0)
			rc |= sqlite3_bind_int(q, 12, f->status);
		if (f->status_code_class >= 0)
			rc |= sqlite3_bind_int(q, 13, f->status_code_class);
	}
	return rc;
}

/* ---- reading columns: NULLs and odd values become safe defaults, never a crash ---- */

void sq_col_id(sqlite3_stmt *q, int c, char out[ID_MAX])
{
	const unsigned char *t = sqlite3_column_text(q, c);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(q, c) : 0;
	if (n >= ID_MAX)
		n = ID_MAX - 1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = '\0';
}

/* NULL stays NULL (optional fields). */
char *sq_col_str(sqlite3_stmt *q, int c)
{
	const unsigned char *t = sqlite3_column_text(q, c);
	return t != NULL ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(q, c)) : NULL;
}

/* NULL becomes "" (fields the callers use as strings). */
char *sq_col_str0(sqlite3_stmt *q, int c)
{
	char *s = sq_col_str(q, c);
	return s != NULL ? s : xstrdup("");
}

/* A BLOB copied and NUL-terminated; NULL for SQL NULL. */
char *sq_col_bytes(sqlite3_stmt *q, int c, size_t *len)
{
	*len = 0;
	if (sqlite3_column_type(q, c) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(q, c);
	size_t n = p != NULL ? (size_t)sqlite3_column_bytes(q, c) : 0;
	char *out = xmalloc(n + 1);
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	*len = n;
	return out;
}

json_t *sq_col_object(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);
	json_t *j = t != NULL ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_object(j))
		return j;
	json_decref(j);
	return json_object();
}

json_t *sq_col_array(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);
	json_t *j = t != NULL ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_array(j))
		return j;
	json_decref(j);
	return json_array();
}

/* An endpoint's retry schedule: NULL is the server's; entries that are not whole ms >= 0 are skipped. */
void sq_col_retry(sqlite3_stmt *q, int c, struct endpoint *e)
{
	json_t *a = sqlite3_column_type(q, c) != SQLITE_NULL ? sq_col_array(q, c) : NULL;
	endpoint_retry_from_json(e, a);
	json_decref(a);
}

/* NULL is an absent list; anything else is present, with its string elements (none if unreadable). */
void sq_col_strlist(sqlite3_stmt *q, int c, struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
	if (sqlite3_column_type(q, c) == SQLITE_NULL)
		return;
	json_t *a = json_loads((const char *)sqlite3_column_text(q, c), 0, NULL);
	strlist_from_json(l, a);
	json_decref(a);
}

int64_t sq_col_i64(sqlite3_stmt *q, int c) { return sqlite3_column_int64(q, c); }
int sq_col_int(sqlite3_stmt *q, int c) { return sqlite3_column_int(q, c); }

/* ---- rows ---- */

void sq_row_app(sqlite3_stmt *q, int c, void *out)
{
	struct app *a = out;
	sq_col_id(q, c, a->id);
	a->uid = sq_col_str(q, c + 1);
	a->name = sq_col_str0(q, c + 2);
	a->metadata = sq_col_object(q, c + 3);
	a->throttle_rate = sq_col_i64(q, c + 4);
	a->created_ms = sq_col_i64(q, c + 5);
	a->updated_ms = sq_col_i64(q, c + 6);
}

void sq_row_endpoint(sqlite3_stmt *q, int c, void *out)
{
	struct endpoint *e = out;
	sq_col_id(q, c, e->id);
	sq_col_id(q, c + 1, e->app_id);
	e->uid = sq_col_str(q, c + 2);
	e->url = sq_col_str0(q, c + 3);
	e->description = sq_col_str0(q, c + 4);
	e->disabled = sq_col_int(q, c + 5) != 0;
	sq_col_strlist(q, c + 6, &e->event_types);
	sq_col_strlist(q, c + 7, &e->channels);
	e->secret = sq_col_str0(q, c + 8);
	e->metadata = sq_col_object(q, c + 9);
	e->headers = sq_col_object(q, c + 10);
	e->throttle_rate = sq_col_i64(q, c + 11);
	e->created_ms = sq_col_i64(q, c + 12);
	e->updated_ms = sq_col_i64(q, c + 13);
	e->scheme = sq_col_str(q, c + 14);
	e->scheme_options = sqlite3_column_type(q, c + 15) == SQLITE_NULL ? NULL : sq_col_object(q, c + 15);
	e->old_secrets = sqlite3_column_type(q, c + 16) == SQLITE_NULL ? NULL : sq_col_array(q, c + 16);
	e->fifo = sq_col_int(q, c + 17) != 0;
	sq_col_retry(q, c + 18, e);
	e->payload_filter = sq_col_str(q, c + 19);
	e->transformation = sq_col_str(q, c + 20);
	e->transformation_enabled = sq_col_int(q, c + 21) != 0;
	e->api_version = sq_col_str(q, c + 22);
	if (sqlite3_column_count(q) > c + 23) /* only the start-up load reads it */
		e->failing_since = sq_col_i64(q, c + 23);
}

void sq_row_message(sqlite3_stmt *q, int c, void *out)
{
	struct message *m = out;
	sq_col_id(q, c, m->id);
	sq_col_id(q, c + 1, m->app_id);
	m->event_type = sq_col_str0(q, c + 2);
	m->event_id = sq_col_str(q, c + 3);
	sq_col_strlist(q, c + 4, &m->channels);
	sq_col_strlist(q, c + 5, &m->tags);
	m->payload = sq_col_bytes(q, c + 6, &m->payload_len);
	m->created_ms = sq_col_i64(q, c + 7);
	m->deliver_at_ms = sq_col_i64(q, c + 8);
	m->content_type = sq_col_str(q, c + 9);
	m->extra_headers = sq_col_str(q, c + 10);
}

void sq_row_attempt(sqlite3_stmt *q, int c, void *out)
{
	struct attempt *a = out;
	sq_col_id(q, c, a->id);
	sq_col_id(q, c + 1, a->msg_id);
	sq_col_id(q, c + 2, a->endpoint_id);
	sq_col_id(q, c + 3, a->app_id);
	a->url = sq_col_str0(q, c + 4);
	a->status_code = sq_col_int(q, c + 5);
	a->duration_ms = sq_col_i64(q, c + 6);
	a->response = sq_col_bytes(q, c + 7, &a->response_len);
	a->status = sq_col_int(q, c + 8);
	a->trigger = sq_col_int(q, c + 9);
	a->created_ms = sq_col_i64(q, c + 10);
	a->request_body = sq_col_str(q, c + 11);
	a->request_headers = sq_col_str(q, c + 12);
	a->response_headers = sq_col_str(q, c + 13);
	a->request_method = sq_col_str(q, c + 14);
}

void sq_row_event_type(sqlite3_stmt *q, int c, void *out)
{
	struct event_type *t = out;
	t->name = sq_col_str0(q, c);
	t->description = sq_col_str0(q, c + 1);
	t->archived = sq_col_int(q, c + 2) != 0;
	t->deprecated = sq_col_int(q, c + 3) != 0;
	t->schemas = sqlite3_column_type(q, c + 4) == SQLITE_NULL ? NULL : sq_col_object(q, c + 4);
	t->feature_flag = sq_col_str(q, c + 5);
	t->group_name = sq_col_str(q, c + 6);
	t->created_ms = sq_col_i64(q, c + 7);
	t->updated_ms = sq_col_i64(q, c + 8);
}

void sq_row_task(sqlite3_stmt *q, int c, void *out)
{
	struct task *t = out;
	sq_col_id(q, c, t->id);
	const unsigned char *k = sqlite3_column_text(q, c + 1);
	snprintf(t->kind, sizeof t->kind, "%s", k != NULL ? (const char *)k : "");
	t->status = sq_col_int(q, c + 2);
	sq_col_id(q, c + 3, t->app_id);
	sq_col_id(q, c + 4, t->endpoint_id);
	t->since_ms = sq_col_i64(q, c + 5);
	t->until_ms = sq_col_i64(q, c + 6);
	t->processed = sq_col_i64(q, c + 7);
	t->created_ms = sq_col_i64(q, c + 8);
	t->updated_ms = sq_col_i64(q, c + 9);
	t->after_key = sq_col_i64(q, c + 10);
	sq_col_id(q, c + 11, t->after_id);
	const unsigned char *p = sqlite3_column_text(q, c + 12);
	snprintf(t->params, sizeof t->params, "%s", p != NULL ? (const char *)p : "");
}

void sq_row_token(sqlite3_stmt *q, int c, void *out)
{
	struct app_token *t = out;
	const unsigned char *h = sqlite3_column_text(q, c);
	snprintf(t->hash, sizeof t->hash, "%s", h != NULL ? (const char *)h : "");
	sq_col_id(q, c + 1, t->app_id);
	t->session_id = sq_col_str(q, c + 2);
	t->caps = (unsigned)sq_col_int(q, c + 3);
	sq_col_strlist(q, c + 4, &t->feature_flags);
	t->expires_ms = sq_col_i64(q, c + 5);
	t->created_ms = sq_col_i64(q, c + 6);
}

void sq_row_delivery(sqlite3_stmt *q, int c, struct delivery *d)
{
	d->dkey = sq_col_i64(q, c);
	sq_col_id(q, c + 1, d->msg_id);
	sq_col_id(q, c + 2, d->endpoint_id);
	sq_col_id(q, c + 3, d->app_id);
	d->status = sq_col_int(q, c + 4);
	d->attempts = sq_col_int(q, c + 5);
	d->trigger = sq_col_int(q, c + 6);
	d->next_ms = sq_col_i64(q, c + 7);
}

static void dispose_app(void *p) { app_dispose(p); }
static void dispose_endpoint(void *p) { endpoint_dispose(p); }
static void dispose_message(void *p) { message_dispose(p); }
static void dispose_attempt(void *p) { attempt_dispose(p); }
static void dispose_event_type(void *p) { event_type_dispose(p); }
static void dispose_nothing(void *p) { (void)p; }

const struct row_kind sq_app_rows = {sizeof(struct app), sq_row_app, dispose_app};
const struct row_kind sq_endpoint_rows = {sizeof(struct endpoint), sq_row_endpoint, dispose_endpoint};
const struct row_kind sq_message_rows = {sizeof(struct message), sq_row_message, dispose_message};
const struct row_kind sq_attempt_rows = {sizeof(struct attempt), sq_row_attempt, dispose_attempt};
const struct row_kind sq_task_rows = {sizeof(struct task), sq_row_task, dispose_nothing};
const struct row_kind sq_event_type_rows = {sizeof(struct event_type), sq_row_event_type, dispose_event_type};

/* Read every row of a bound statement into a malloc'd array (NULL if none), then reset the statement.
 * On error nothing is returned. */
void *sq_collect(sqlite3_stmt *q, const char *what, const struct row_kind *k, size_t *n, int *ret)
{
	char *arr = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			arr = xrealloc(arr, cap * k->size);
		}
		memset(arr + len * k->size, 0, k->size);
		k->read(q, 0, arr + len * k->size);
		len++;
	}
	*ret = rc == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), what);
	sq_stmt_done(q);
	if (*ret != STORE_OK) {
		for (size_t i = 0; i < len; i++)
			k->dispose(arr + i * k->size);
		free(arr);
		arr = NULL;
		len = 0;
	}
	*n = len;
	return arr;
}

/* ---- connections ---- */

/* Before SQLite initializes: no memory statistics, which take a global mutex around every allocation. */
static void sqlite_configure(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

int sq_conn_open(const char *path, int flags, sqlite3 **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_configure);
	int rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(*out, 1);
		sqlite3_busy_timeout(*out, BUSY_TIMEOUT_MS);
	}
	return rc;
}

sqlite3_stmt *sq_prepare(sqlite3 *db, const struct stmt_def *def)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v3(db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK) {
		sq_log_err(db, def->name);
		return NULL;
	}
	return q;
}

void sq_rconn_close(struct rconn *c)
{
	for (int i = 0; i < RS_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static struct rconn *rconn_open(const char *path)
{
	struct rconn *c = xcalloc(1, sizeof *c);
	if (sq_conn_open(path, SQLITE_OPEN_READONLY, &c->db) != SQLITE_OK) {
		sq_log_err(c->db, "open read connection");
		sq_rconn_close(c);
		return NULL;
	}
	return c;
}

/* Take an idle read connection, or open one: readers never wait for each other. */
static struct rconn *rconn_get(struct sqlite_store *s)
{
	pthread_mutex_lock(&s->pool_lock);
	struct rconn *c = s->pool;
	if (c != NULL) {
		s->pool = c->next;
		s->pool_len--;
	}
	pthread_mutex_unlock(&s->pool_lock);
	return c != NULL ? c : rconn_open(s->path);
}

static void rconn_put(struct sqlite_store *s, struct rconn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&s->pool_lock);
	bool keep = s->pool_len < POOL_IDLE_MAX;
	if (keep) {
		c->next = s->pool;
		s->pool = c;
		s->pool_len++;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!keep)
		sq_rconn_close(c);
}

sqlite3_stmt *sq_rq_begin(struct rq *r, struct store *st, enum rstmt which)
{
	r->s = to_sq(st);
	r->c = rconn_get(r->s);
	r->q = NULL;
	r->what = sq_rdefs[which].name;
	if (r->c != NULL && r->c->st[which] == NULL)
		r->c->st[which] = sq_prepare(r->c->db, &sq_rdefs[which]);
	if (r->c != NULL)
		r->q = r->c->st[which];
	return r->q;
}

/* Reset the statement (ending its read transaction, so checkpoints can proceed) and return the connection. */
void sq_rq_end(struct rq *r)
{
	if (r->q != NULL)
		sq_stmt_done(r->q);
	rconn_put(r->s, r->c);
}

int sq_exec_sql(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
	return -1;
}

/* ---- the checkpointer ----
 * SQLite's automatic checkpoint runs inside COMMIT on the writer, which would stall every commit behind it.
 * Instead the writer's WAL hook wakes this thread, which checkpoints PASSIVE on its own connection while the
 * writer keeps committing. If the WAL still grows past WAL_HARD_PAGES (the checkpointer cannot catch up),
 * the writer checkpoints itself once between two transactions. */

#define WAL_CKPT_PAGES 16384   /* ~64 MB: more page writes coalesce between checkpoints */
#define WAL_HARD_PAGES 65536   /* ~256 MB */

/* A background pass can never leave the WAL fully copied while the writer keeps appending, and SQLite only
 * restarts the WAL from its beginning when it is. So once the checkpointer has caught up with what it saw,
 * the writer copies the few frames committed since, between two transactions, and the next one restarts the
 * WAL: the file stays near WAL_CKPT_PAGES instead of growing. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sqlite_store *s = arg;
	if (pages >= WAL_HARD_PAGES || (pages >= WAL_CKPT_PAGES &&
					__atomic_exchange_n(&s->ckpt_caught_up, 0, __ATOMIC_ACQ_REL))) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= WAL_CKPT_PAGES) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_wanted = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct sqlite_store *s = arg;
	sqlite3 *db = NULL;
	pthread_setname_np(pthread_self(), "checkpointer");
	if (sq_conn_open(s->path, SQLITE_OPEN_READWRITE, &db) != SQLITE_OK) {
		log_warnx("sqlite: the checkpointer cannot open %s; the WAL is checkpointed by the writer", s->path);
		sqlite3_close(db);
		return NULL;
	}
	pthread_mutex_lock(&s->ckpt_lock);
	for (;;) {
		while (!s->ckpt_wanted && !s->ckpt_stop)
			pthread_cond_wait(&s->ckpt_cond, &s->ckpt_lock);
		if (s->ckpt_stop)
			break;
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->ckpt_lock);
		int nlog = 0, nckpt = 0;
		int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			sq_log_err(db, "checkpoint");
		if (rc == SQLITE_OK && nckpt >= nlog)
			__atomic_store_n(&s->ckpt_caught_up, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	sqlite3_close(db);
	return NULL;
}

int sq_ckpt_start(struct sqlite_store *s, char *err, size_t errlen)
{
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		return -1;
	}
	s->ckpt_running = true;
	/* the pragma is itself a WAL hook: set it first, or it would replace ours */
	if (sq_exec_sql(s->db, "PRAGMA wal_autocheckpoint = 0", s->path, err, errlen) < 0)
		return -1;
	sqlite3_wal_hook(s->db, wal_hook, s);
	return 0;
}

void sq_ckpt_stop(struct sqlite_store *s)
{
	if (!s->ckpt_running)
		return;
	pthread_mutex_lock(&s->ckpt_lock);
	s->ckpt_stop = true;
	pthread_cond_signal(&s->ckpt_cond);
	pthread_mutex_unlock(&s->ckpt_lock);
	pthread_join(s->ckpt_thread, NULL);
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_cond_destroy(&s->ckpt_cond);
	s->ckpt_running = false;
}

