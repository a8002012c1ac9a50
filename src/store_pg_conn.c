/* store_pg_conn.c: the PostgreSQL backend's connections, read pool, parameters, statements, columns and rows.
 *
 * Every statement is prepared once per connection (the writer prepares all of its own at open, a read connection
 * each of its statements on first use) and run with PQexecPrepared: parameters in text format except BYTEA ones
 * (payloads, bodies, responses: binary, so any bytes go as they are) and a batch's arrays (store_pg_arr.c),
 * results in binary format (integers big-endian, text and BYTEA as their bytes). */
#include "store_pg_int.h"
#include "json.h"
#include "log.h"

#include <endian.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- messages ---- */

/* libpq's messages end in newlines and may span several lines: one line for the log and for err. */
void pg_oneline(const char *msg, char *out, size_t outlen)
{
	size_t o = 0;
	bool space = false, newline = false;
	for (const char *p = msg != NULL ? msg : ""; *p != '\0' && o + 3 < outlen; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
			space = true;
			newline |= *p == '\n';
			continue;
		}
		if (space && o > 0) {
			if (newline)
				out[o++] = ';';
			out[o++] = ' ';
		}
		space = newline = false;
		out[o++] = *p;
	}
	if (outlen > 0)
		out[o] = '\0';
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	char line[512];
	pg_oneline(msg, line, sizeof line);
	log_debug("postgres: %s", line);
}

/* ---- parameters ---- */

void pgp_init(struct pgp *p) { memset(p, 0, sizeof *p); }

void pgp_free(struct pgp *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->own[i]);
	p->n = 0;
}

static int pgp_slot(struct pgp *p)
{
	if (p->n >= PG_MAXP)
		fatalx("postgres: too many statement parameters");
	int i = p->n++;
	p->v[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 0;
	p->own[i] = NULL;
	return i;
}

void pgp_null(struct pgp *p) { pgp_slot(p); }

void pgp_str(struct pgp *p, const char *s) { p->v[pgp_slot(p)] = s; }

void pgp_own(struct pgp *p, char *s)
{
	int i = pgp_slot(p);
	p->v[i] = p->own[i] = s;
}

void pgp_i64(struct pgp *p, int64_t v)
{
	int i = pgp_slot(p);
	snprintf(p->num[i], sizeof p->num[i], "%" PRId64, v);
	p->v[i] = p->num[i];
}

void pgp_i64_pos(struct pgp *p, int64_t v)
{
	if (v > 0)
		pgp_i64(p, v);
	else
		pgp_null(p);
}

void pgp_int_opt(struct pgp *p, int v)
{
	if (v >= 0)
		pgp_i64(p, v);
	else
		pgp_null(p);
}

void pgp_bool(struct pgp *p, bool v) { p->v[pgp_slot(p)] = v ? "t" : "f"; }

/* Binary: the bytes as they are (a NULL pointer is SQL NULL, an empty value is ''). */
void pgp_bytes(struct pgp *p, const char *data, size_t len)
{
	int i = pgp_slot(p);
	if (data == NULL)
		return;
	if (len > (size_t)INT32_MAX)
		fatalx("postgres: a value of %zu bytes", len);
	p->v[i] = data;
	p->len[i] = (int)len;
	p->fmt[i] = 1;
}

void pgp_json(struct pgp *p, const json_t *j)
{
	if (j == NULL)
		pgp_null(p);
	else
		pgp_own(p, json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY));
}

char *pg_list_json(const struct strlist *l)
{
	if (l->v == NULL)
		return NULL; /* absent, unlike an empty list */
	json_t *a = json_array();
	for (size_t k = 0; k < l->n; k++)
		json_array_append_new(a, json_string(l->v[k]));
	char *out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

void pgp_strlist(struct pgp *p, const struct strlist *l)
{
	char *j = pg_list_json(l);
	if (j != NULL)
		pgp_own(p, j);
	else
		pgp_null(p);
}

void pgp_retry(struct pgp *p, const struct endpoint *e)
{
	json_t *a = endpoint_retry_to_json(e); /* NULL: the server's schedule, unlike "[]" (no retries) */
	pgp_json(p, a);
	json_decref(a);
}

/* Ids are ASCII and the id columns sort bytewise (COLLATE "C"): "" is below every id, DEL above. The bounds stay
 * plain range terms of the indexes. */
void pgp_page(struct pgp *p, const struct page *pg)
{
	pgp_str(p, pg->after != NULL ? pg->after : "");
	pgp_str(p, pg->before != NULL ? pg->before : "\x7f");
	if (pg->limit >= 0)
		pgp_i64(p, pg->limit);
	else
		pgp_null(p); /* LIMIT NULL: all */
}

/* ---- running statements ---- */

/* The rc of a result; a taken unique key is the caller's business, not a failure. */
int pg_result_rc(PGresult *res, const char *what)
{
	ExecStatusType t = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_SINGLE_TUPLE)
		return STORE_OK;
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0)
		return STORE_CONFLICT;
	/* two nodes' batches took row locks in opposite orders (or a serialization failure): run the job again */
	if (state != NULL && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)) {
		static uint64_t retries; /* each cost the database's deadlock_timeout: worth seeing */
		log_info("postgres: %s: %s; the job runs again (%llu so far)", what,
			 strcmp(state, "40P01") == 0 ? "deadlock" : "serialization failure",
			 (unsigned long long)__atomic_add_fetch(&retries, 1, __ATOMIC_RELAXED));
		return STORE_RETRY;
	}
	char line[512];
	pg_oneline(res != NULL ? PQresultErrorMessage(res) : "no result (out of memory or connection lost)", line,
		   sizeof line);
	log_warnx("postgres: %s: %s", what, t == PGRES_PIPELINE_ABORTED ? "skipped after an earlier error" : line);
	return STORE_ERR;
}

int pg_exec_simple(PGconn *c, const char *sql, const char *what)
{
	PGresult *res = PQexec(c, sql);
	int rc = pg_result_rc(res, what);
	PQclear(res);
	return rc;
}

static void stmt_name(char out[16], char kind, int i) { snprintf(out, 16, "%c%d", kind, i); }

PGresult *pg_wexec(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int *rc)
{
	if (s->savepoint_pending || s->begin_pending) { /* the job's first write: with its SAVEPOINT (and the
							  * batch's BEGIN), one round trip */
		struct pg_step step = {.w = w, .p = p};
		*rc = pg_pipeline(s, &step, 1);
		if (*rc != STORE_OK) {
			PQclear(step.res);
			step.res = NULL;
		}
		return step.res;
	}
	char name[16];
	stmt_name(name, 'w', (int)w);
	PGresult *res = PQexecPrepared(s->w, name, p->n, p->v, p->len, p->fmt, 1);
	*rc = pg_result_rc(res, pg_wdefs[w].name);
	if (*rc != STORE_OK) {
		PQclear(res);
		res = NULL;
	}
	return res;
}

int64_t pg_changes(PGresult *res)
{
	const char *n = PQcmdTuples(res);
	return n != NULL && *n != '\0' ? strtoll(n, NULL, 10) : 0;
}

int pg_wcmd(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int64_t *changes)
{
	int rc;
	PGresult *res = pg_wexec(s, w, p, &rc);
	if (changes != NULL)
		*changes = res != NULL ? pg_changes(res) : 0;
	PQclear(res);
	return rc;
}

/* A statement that fails on a unique key held by another row, inside a savepoint of its own (one pipeline):
 * STORE_CONFLICT leaves the job's transaction usable. */
int pg_wguarded(struct pg_store *s, enum pg_wstmt w, struct pgp *p)
{
	struct pg_step steps[3] = {{.sql = "SAVEPOINT u"}, {.w = w, .p = p}, {.sql = "RELEASE u"}};
	int rc = pg_pipeline(s, steps, 3);
	for (int i = 0; i < 3; i++)
		PQclear(steps[i].res);
	if (rc != STORE_OK && pg_exec_simple(s->w, "ROLLBACK TO u; RELEASE u", "rollback to") != STORE_OK)
		rc = STORE_ERR;
	pgp_free(p);
	return rc;
}

/* A statement that returns no rows; its params are freed. */
int pg_wcmd_free(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int64_t *changes)
{
	int rc = pg_wcmd(s, w, p, changes);
	pgp_free(p);
	return rc;
}

/* The same, STORE_NOTFOUND if it changed no row. */
int pg_wcmd_found(struct pg_store *s, enum pg_wstmt w, struct pgp *p)
{
	int64_t n = 0;
	int rc = pg_wcmd_free(s, w, p, &n);
	return rc == STORE_OK && n == 0 ? STORE_NOTFOUND : rc;
}

/* A statement whose one row counts what each of its parts changed: *more if any part reached limit. */
int pg_wcounted(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int limit, bool *more)
{
	int rc;
	PGresult *res = pg_wexec(s, w, p, &rc);
	pgp_free(p);
	*more = false;
	for (int c = 0; rc == STORE_OK && PQntuples(res) > 0 && c < PQnfields(res); c++)
		if (pg_col_i64(res, 0, c) >= limit)
			*more = true;
	PQclear(res);
	return rc;
}

/* Read one query's results up to its terminating NULL: the first is kept, any other dropped. */
static PGresult *pipeline_result(PGconn *c)
{
	PGresult *first = PQgetResult(c), *more;
	if (first != NULL && PQresultStatus(first) == PGRES_PIPELINE_SYNC)
		return first; /* a sync has no NULL after it */
	while ((more = PQgetResult(c)) != NULL)
		PQclear(more);
	return first;
}

/* The batch's deferred BEGIN and key locks (pg_keys_lock), and the job's deferred savepoint commands, sent ahead
 * of its first write in the same pipeline. After a folded COMMIT (msg_prefetch) there is no transaction left: a
 * read runs on its own. */
static size_t savepoint_steps(struct pg_store *s, struct pg_step pre[4])
{
	size_t n = 0;
	if (s->begin_pending && !s->folded) {
		pre[n++] = (struct pg_step){.sql = "BEGIN"};
		if (s->keys_pending) /* the batch's first statement: before any job's savepoint */
			pre[n++] = (struct pg_step){.w = PW_KEYS_LOCK, .p = &s->keys_p};
	}
	s->begin_pending = s->keys_pending = false;
	if (!s->savepoint_pending || s->folded) {
		s->savepoint_pending = false;
		return n;
	}
	if (s->release_pending)
		pre[n++] = (struct pg_step){.sql = "RELEASE j"};
	pre[n++] = (struct pg_step){.sql = "SAVEPOINT j"};
	s->savepoint_pending = s->release_pending = false;
	return n;
}

/* Send one step of a pipeline. */
static bool step_send(PGconn *c, const struct pg_step *st)
{
	if (st->sql != NULL)
		return PQsendQueryParams(c, st->sql, 0, NULL, NULL, NULL, NULL, 1) == 1;
	char name[16];
	stmt_name(name, 'w', (int)st->w);
	return PQsendQueryPrepared(c, name, st->p->n, st->p->v, st->p->len, st->p->fmt, 1) == 1;
}

/* A pipeline's statements leave in as few TCP segments as its bytes need (libpq sends every 8 KiB): corked while
 * they are written (many statements, or a batch's arrays), uncorked at the sync. Not TCP (a Unix socket):
 * nothing to do. */
static void cork(PGconn *c, int on)
{
	int fd = PQsocket(c);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

/* Read up to and including the pipeline's next sync. */
static void sync_result(PGconn *c)
{
	PGresult *sync;
	while ((sync = PQgetResult(c)) != NULL) {
		bool done = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
		PQclear(sync);
		if (done)
			break;
	}
}

int pg_pipeline(struct pg_store *s, struct pg_step *steps, size_t n)
{
	PGconn *c = s->w;
	for (size_t i = 0; i < n; i++)
		steps[i].res = NULL;
	if (PQenterPipelineMode(c) != 1) {
		log_warnx("postgres: cannot enter pipeline mode: %s", PQerrorMessage(c));
		return STORE_ERR;
	}
	struct pg_step pre[4];
	size_t npre = savepoint_steps(s, pre), pre_sent = 0, sent = 0, bytes = 0, first_after = n;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; steps[i].p != NULL && k < steps[i].p->n; k++)
			bytes += steps[i].p->fmt[k] == 1 ? (size_t)steps[i].p->len[k] : 0; /* arrays, bytea */
		if (steps[i].after && first_after == n)
			first_after = i;
	}
	/* a sync before the steps `after` (libpq flushes at each sync): corked, so it costs no segment of its own */
	bool ok = true, corked = n > 8 || bytes > 8192 || first_after < n, sync_mid = false;
	if (corked)
		cork(c, 1);
	while (ok && pre_sent < npre && (ok = step_send(c, &pre[pre_sent])))
		pre_sent++;
	while (ok && sent < n) {
		if (sent == first_after && (npre > 0 || sent > 0))
			ok = sync_mid = PQpipelineSync(c) == 1;
		if (ok && (ok = step_send(c, &steps[sent])))
			sent++;
	}
	ok = PQpipelineSync(c) == 1 && ok;
	if (corked)
		cork(c, 0);
	int rc = ok ? STORE_OK : STORE_ERR;
	if (!ok)
		log_warnx("postgres: cannot send a pipeline: %s", PQerrorMessage(c));
	for (size_t i = 0; i < pre_sent; i++) {
		PGresult *res = pipeline_result(c);
		if (rc == STORE_OK)
			rc = pg_result_rc(res, pre[i].sql != NULL ? pre[i].sql : pg_wdefs[pre[i].w].name);
		PQclear(res);
	}
	for (size_t i = 0; i < sent; i++) {
		const char *what = steps[i].sql != NULL ? steps[i].sql : pg_wdefs[steps[i].w].name;
		if (i == first_after && sync_mid)
			sync_result(c);
		steps[i].res = pipeline_result(c);
		/* after a failure the rest are skipped (aborted): only the first one is logged; a step after the
		 * sync is logged only if all before it went well (else it failed in the aborted transaction) */
		if (i < first_after && rc == STORE_OK)
			rc = pg_result_rc(steps[i].res, what);
		else if (i >= first_after && rc == STORE_OK && PQstatus(c) == CONNECTION_OK)
			(void)pg_result_rc(steps[i].res, what);
	}
	sync_result(c);
	if (PQexitPipelineMode(c) != 1) {
		/* the server went away mid-pipeline: the connection is stuck in pipeline mode and would fail every
		 * later statement without looking broken; dropped, so the next batch reconnects */
		log_warnx("postgres: cannot leave pipeline mode: %s; the write connection is dropped", PQerrorMessage(c));
		PQfinish(c);
		s->w = NULL;
		return STORE_UNAVAILABLE;
	}
	return rc;
}

int pg_wstream(struct pg_store *s, enum pg_wstmt w, struct pgp *p, void (*cb)(void *arg, PGresult *row), void *arg)
{
	if ((s->savepoint_pending || s->begin_pending) && pg_pipeline(s, NULL, 0) != STORE_OK) /* BEGIN, savepoint */
		return STORE_ERR;
	char name[16];
	stmt_name(name, 'w', (int)w);
	if (PQsendQueryPrepared(s->w, name, p->n, p->v, p->len, p->fmt, 1) != 1) {
		log_warnx("postgres: %s: %s", pg_wdefs[w].name, PQerrorMessage(s->w));
		return STORE_ERR;
	}
	PQsetSingleRowMode(s->w);
	int rc = STORE_OK;
	PGresult *res;
	while ((res = PQgetResult(s->w)) != NULL) {
		if (PQresultStatus(res) == PGRES_SINGLE_TUPLE)
			cb(arg, res);
		else if (rc == STORE_OK)
			rc = pg_result_rc(res, pg_wdefs[w].name);
		PQclear(res);
	}
	return rc;
}

/* ---- connections ---- */

PGconn *pg_connect(const char *conninfo, const char *schema, bool writer, char *err, size_t errlen)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *vals[] = {conninfo, "hookd", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	char line[512];
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_oneline(c != NULL ? PQerrorMessage(c) : "out of memory", line, sizeof line);
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", line);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	/* the schema name is checked (letters, digits, _) before it gets here, so quoting it is enough; a COMMIT is
	 * durable only with synchronous_commit on, whatever the server's default. No statement chooses a
	 * sequential scan where an index serves: a prepared statement's generic plan made while the tables were
	 * nearly empty would otherwise scan them whole per call until the next ANALYZE (planning each call for its
	 * parameters instead cost more than running it). No JIT: hookd's statements are short, and a plan priced
	 * with a disabled scan would compile for 150 ms. */
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SET search_path = \"%s\"; SET statement_timeout = %d; SET client_encoding = 'UTF8';"
		 " SET synchronous_commit = on; SET jit = off; SET enable_seqscan = off; %s",
		 schema, PG_STATEMENT_TIMEOUT_MS,
		 writer ? "" : "SET default_transaction_read_only = on");
	PGresult *res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_oneline(PQresultErrorMessage(res), line, sizeof line);
		snprintf(err, errlen, "cannot set up a PostgreSQL session: %s", line);
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

int pg_prepare_writes(struct pg_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < PW_COUNT; i++) {
		char name[16];
		stmt_name(name, 'w', i);
		PGresult *res = PQprepare(s->w, name, pg_wdefs[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char line[512];
			pg_oneline(PQresultErrorMessage(res), line, sizeof line);
			snprintf(err, errlen, "postgres: cannot prepare %s: %s", pg_wdefs[i].name, line);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

/* ---- the read pool: at most PG_POOL_MAX connections, opened on demand; a reader waits for a free one ---- */

static struct pg_rconn *rconn_get(struct pg_store *s)
{
	pthread_mutex_lock(&s->pool_lock);
	while (s->idle == NULL && s->pool_open >= PG_POOL_MAX)
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	struct pg_rconn *rc = s->idle;
	if (rc != NULL)
		s->idle = rc->next;
	else
		s->pool_open++; /* reserve the slot, connect outside the lock */
	pthread_mutex_unlock(&s->pool_lock);
	if (rc != NULL)
		return rc;
	char err[512];
	PGconn *c = pg_connect(s->conninfo, s->schema, false, err, sizeof err);
	if (c == NULL) {
		log_warnx("postgres: read connection: %s", err);
		pthread_mutex_lock(&s->pool_lock);
		s->pool_open--;
		pthread_cond_signal(&s->pool_cond);
		pthread_mutex_unlock(&s->pool_lock);
		return NULL;
	}
	rc = xcalloc(1, sizeof *rc);
	rc->c = c;
	return rc;
}

/* A broken connection is closed, not kept: the next reader opens a fresh one. */
static void rconn_put(struct pg_store *s, struct pg_rconn *rc)
{
	bool bad = PQstatus(rc->c) != CONNECTION_OK;
	if (bad) {
		PQfinish(rc->c);
		free(rc);
	}
	pthread_mutex_lock(&s->pool_lock);
	if (bad) {
		s->pool_open--;
	} else {
		rc->next = s->idle;
		s->idle = rc;
	}
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

void pg_pool_close(struct pg_store *s)
{
	while (s->idle != NULL) {
		struct pg_rconn *rc = s->idle;
		s->idle = rc->next;
		PQfinish(rc->c);
		free(rc);
		s->pool_open--;
	}
}

/* One try on one pooled connection; *lost if that connection turned out to be broken. */
static PGresult *read_once(struct pg_store *s, enum pg_rstmt r, struct pgp *p, int *rc, bool *lost)
{
	struct pg_rconn *c = rconn_get(s);
	*rc = STORE_ERR;
	*lost = false;
	if (c == NULL)
		return NULL;
	char name[16];
	stmt_name(name, 'r', (int)r);
	PGresult *res = NULL;
	if (!c->prepared[r]) {
		res = PQprepare(c->c, name, pg_rdefs[r].sql, 0, NULL);
		c->prepared[r] = PQresultStatus(res) == PGRES_COMMAND_OK;
	}
	if (c->prepared[r]) {
		PQclear(res);
		res = PQexecPrepared(c->c, name, p->n, p->v, p->len, p->fmt, 1);
	}
	*lost = PQstatus(c->c) != CONNECTION_OK;
	if (!*lost)
		*rc = pg_result_rc(res, pg_rdefs[r].name);
	rconn_put(s, c);
	if (*rc != STORE_OK) {
		PQclear(res);
		res = NULL;
	}
	return res;
}

/* A read on a pooled connection that was broken meanwhile (PostgreSQL restarted) is tried once more on a fresh
 * one: reads change nothing. */
PGresult *pg_read(struct store *st, enum pg_rstmt r, struct pgp *p, int *rc)
{
	bool lost;
	PGresult *res = read_once(to_pg(st), r, p, rc, &lost);
	if (lost)
		res = read_once(to_pg(st), r, p, rc, &lost);
	if (lost)
		log_warnx("postgres: %s: the connection was lost", pg_rdefs[r].name);
	return res;
}

/* ---- columns ---- */

bool pg_isnull(const PGresult *r, int row, int c) { return PQgetisnull(r, row, c) != 0; }

void pg_col_id(const PGresult *r, int row, int c, char out[ID_MAX])
{
	size_t n = pg_isnull(r, row, c) ? 0 : (size_t)PQgetlength(r, row, c);
	if (n >= ID_MAX)
		n = ID_MAX - 1;
	if (n > 0)
		memcpy(out, PQgetvalue(r, row, c), n);
	out[n] = '\0';
}

/* NULL stays NULL (optional fields). */
char *pg_col_str(const PGresult *r, int row, int c)
{
	return pg_isnull(r, row, c) ? NULL : xstrndup(PQgetvalue(r, row, c), (size_t)PQgetlength(r, row, c));
}

/* NULL becomes "" (fields the callers use as strings). */
char *pg_col_str0(const PGresult *r, int row, int c)
{
	char *s = pg_col_str(r, row, c);
	return s != NULL ? s : xstrdup("");
}

/* BYTEA copied and NUL-terminated; NULL for SQL NULL. */
char *pg_col_bytes(const PGresult *r, int row, int c, size_t *len)
{
	*len = 0;
	if (pg_isnull(r, row, c))
		return NULL;
	size_t n = (size_t)PQgetlength(r, row, c);
	char *out = xmalloc(n + 1);
	if (n > 0)
		memcpy(out, PQgetvalue(r, row, c), n);
	out[n] = '\0';
	*len = n;
	return out;
}

/* Binary integers are big-endian; the width tells the type (bool 1, int2 2, int4 4, int8 8). */
int64_t pg_col_i64(const PGresult *r, int row, int c)
{
	if (pg_isnull(r, row, c))
		return 0;
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, c);
	switch (PQgetlength(r, row, c)) {
	case 1:
		return p[0];
	case 2:
		return (int16_t)(p[0] << 8 | p[1]);
	case 4:
		return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	case 8: {
		uint64_t v;
		memcpy(&v, p, 8);
		return (int64_t)be64toh(v);
	}
	default:
		return 0;
	}
}

int pg_col_int(const PGresult *r, int row, int c) { return (int)pg_col_i64(r, row, c); }

static json_t *col_json(const PGresult *r, int row, int c)
{
	if (pg_isnull(r, row, c))
		return NULL;
	return json_loadb(PQgetvalue(r, row, c), (size_t)PQgetlength(r, row, c), JSON_DECODE_ANY, NULL);
}

static json_t *col_object(const PGresult *r, int row, int c)
{
	json_t *j = col_json(r, row, c);
	if (json_is_object(j))
		return j;
	json_decref(j);
	return json_object();
}

static json_t *col_array(const PGresult *r, int row, int c)
{
	json_t *j = col_json(r, row, c);
	if (json_is_array(j))
		return j;
	json_decref(j);
	return json_array();
}

/* An endpoint's retry schedule: NULL is the server's; entries that are not whole ms >= 0 are skipped. */
static void col_retry(const PGresult *r, int row, int c, struct endpoint *e)
{
	json_t *a = pg_isnull(r, row, c) ? NULL : col_array(r, row, c);
	endpoint_retry_from_json(e, a);
	json_decref(a);
}

/* NULL is an absent list; anything else is present, with its string elements (none if unreadable). */
static void col_strlist(const PGresult *r, int row, int c, struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
	if (pg_isnull(r, row, c))
		return;
	json_t *a = col_array(r, row, c);
	strlist_from_json(l, a);
	json_decref(a);
}

/* ---- rows ---- */

void pg_row_app(const PGresult *r, int row, int c, void *out)
{
	struct app *a = out;
	pg_col_id(r, row, c, a->id);
	a->uid = pg_col_str(r, row, c + 1);
	a->name = pg_col_str0(r, row, c + 2);
	a->metadata = col_object(r, row, c + 3);
	a->throttle_rate = pg_col_i64(r, row, c + 4);
	a->created_ms = pg_col_i64(r, row, c + 5);
	a->updated_ms = pg_col_i64(r, row, c + 6);
}

void pg_row_endpoint(const PGresult *r, int row, int c, void *out)
{
	struct endpoint *e = out;
	pg_col_id(r, row, c, e->id);
	pg_col_id(r, row, c + 1, e->app_id);
	e->uid = pg_col_str(r, row, c + 2);
	e->url = pg_col_str0(r, row, c + 3);
	e->description = pg_col_str0(r, row, c + 4);
	e->disabled = pg_col_i64(r, row, c + 5) != 0;
	col_strlist(r, row, c + 6, &e->event_types);
	col_strlist(r, row, c + 7, &e->channels);
	e->secret = pg_col_str0(r, row, c + 8);
	e->metadata = col_object(r, row, c + 9);
	e->headers = col_object(r, row, c + 10);
	e->throttle_rate = pg_col_i64(r, row, c + 11);
	e->created_ms = pg_col_i64(r, row, c + 12);
	e->updated_ms = pg_col_i64(r, row, c + 13);
	e->scheme = pg_col_str(r, row, c + 14);
	e->scheme_options = pg_isnull(r, row, c + 15) ? NULL : col_object(r, row, c + 15);
	e->old_secrets = pg_isnull(r, row, c + 16) ? NULL : col_array(r, row, c + 16);
	e->fifo = pg_col_i64(r, row, c + 17) != 0;
	col_retry(r, row, c + 18, e);
	e->payload_filter = pg_col_str(r, row, c + 19);
	e->transformation = pg_col_str(r, row, c + 20);
	e->transformation_enabled = pg_col_i64(r, row, c + 21) != 0;
	e->api_version = pg_col_str(r, row, c + 22);
	if (PQnfields(r) > c + 23) /* only the start-up load reads it */
		e->failing_since = pg_col_i64(r, row, c + 23);
}

void pg_row_message(const PGresult *r, int row, int c, void *out)
{
	struct message *m = out;
	pg_col_id(r, row, c, m->id);
	pg_col_id(r, row, c + 1, m->app_id);
	m->event_type = pg_col_str0(r, row, c + 2);
	m->event_id = pg_col_str(r, row, c + 3);
	col_strlist(r, row, c + 4, &m->channels);
	col_strlist(r, row, c + 5, &m->tags);
	m->payload = pg_col_bytes(r, row, c + 6, &m->payload_len);
	m->created_ms = pg_col_i64(r, row, c + 7);
	m->deliver_at_ms = pg_col_i64(r, row, c + 8);
	m->content_type = pg_col_str(r, row, c + 9);
	m->extra_headers = pg_col_str(r, row, c + 10);
}

void pg_row_attempt(const PGresult *r, int row, int c, void *out)
{
	struct attempt *a = out;
	pg_col_id(r, row, c, a->id);
	pg_col_id(r, row, c + 1, a->msg_id);
	pg_col_id(r, row, c + 2, a->endpoint_id);
	pg_col_id(r, row, c + 3, a->app_id);
	a->url = pg_col_str0(r, row, c + 4);
	a->status_code = pg_col_int(r, row, c + 5);
	a->duration_ms = pg_col_i64(r, row, c + 6);
	a->response = pg_col_bytes(r, row, c + 7, &a->response_len);
	a->status = pg_col_int(r, row, c + 8);
	a->trigger = pg_col_int(r, row, c + 9);
	a->created_ms = pg_col_i64(r, row, c + 10);
	a->request_body = pg_col_str(r, row, c + 11);
	a->request_headers = pg_col_str(r, row, c + 12);
	a->response_headers = pg_col_str(r, row, c + 13);
	a->request_method = pg_col_str(r, row, c + 14);
}

void pg_row_event_type(const PGresult *r, int row, int c, void *out)
{
	struct event_type *t = out;
	t->name = pg_col_str0(r, row, c);
	t->description = pg_col_str0(r, row, c + 1);
	t->archived = pg_col_i64(r, row, c + 2) != 0;
	t->deprecated = pg_col_i64(r, row, c + 3) != 0;
	t->schemas = pg_isnull(r, row, c + 4) ? NULL : col_object(r, row, c + 4);
	t->feature_flag = pg_col_str(r, row, c + 5);
	t->group_name = pg_col_str(r, row, c + 6);
	t->created_ms = pg_col_i64(r, row, c + 7);
	t->updated_ms = pg_col_i64(r, row, c + 8);
}

void pg_row_task(const PGresult *r, int row, int c, void *out)
{
	struct task *t = out;
	pg_col_id(r, row, c, t->id);
	snprintf(t->kind, sizeof t->kind, "%.*s", PQgetlength(r, row, c + 1), PQgetvalue(r, row, c + 1));
	t->status = pg_col_int(r, row, c + 2);
	pg_col_id(r, row, c + 3, t->app_id);
	pg_col_id(r, row, c + 4, t->endpoint_id);
	t->since_ms = pg_col_i64(r, row, c + 5);
	t->until_ms = pg_col_i64(r, row, c + 6);
	t->processed = pg_col_i64(r, row, c + 7);
	t->created_ms = pg_col_i64(r, row, c + 8);
	t->updated_ms = pg_col_i64(r, row, c + 9);
	t->after_key = pg_col_i64(r, row, c + 10);
	pg_col_id(r, row, c + 11, t->after_id);
	snprintf(t->params, sizeof t->params, "%.*s", PQgetlength(r, row, c + 12), PQgetvalue(r, row, c + 12));
}

void pg_row_token(const PGresult *r, int row, int c, void *out)
{
	struct app_token *t = out;
	snprintf(t->hash, sizeof t->hash, "%.*s", PQgetlength(r, row, c), PQgetvalue(r, row, c));
	pg_col_id(r, row, c + 1, t->app_id);
	t->session_id = pg_col_str(r, row, c + 2);
	t->caps = (unsigned)pg_col_int(r, row, c + 3);
	col_strlist(r, row, c + 4, &t->feature_flags);
	t->expires_ms = pg_col_i64(r, row, c + 5);
	t->created_ms = pg_col_i64(r, row, c + 6);
}

/* A request with its body (NULL in lists), the body's size and the forwarded message's delivery counts. */
void pg_row_inreq(const PGresult *r, int row, int c, void *out)
{
	struct inreq *q = out;
	pg_col_id(r, row, c, q->id);
	pg_col_id(r, row, c + 1, q->source_id);
	q->dedup_key = pg_col_str(r, row, c + 2);
	q->method = pg_col_str(r, row, c + 3);
	q->headers = pg_col_str(r, row, c + 4);
	size_t len;
	q->body = pg_col_bytes(r, row, c + 5, &len);
	q->body_len = (size_t)pg_col_i64(r, row, c + 6);
	q->received_ms = pg_col_i64(r, row, c + 7);
	q->verify_rc = pg_col_int(r, row, c + 8);
	q->duplicate = pg_col_i64(r, row, c + 9) != 0;
	if (!pg_isnull(r, row, c + 10))
		pg_col_id(r, row, c + 10, q->msg_id);
	for (int i = 0; i < 3; i++)
		q->fwd[i] = pg_col_i64(r, row, c + 11 + i);
}

void pg_row_delivery(const PGresult *r, int row, int c, struct delivery *d)
{
	d->dkey = pg_col_i64(r, row, c);
	pg_col_id(r, row, c + 1, d->msg_id);
	pg_col_id(r, row, c + 2, d->endpoint_id);
	pg_col_id(r, row, c + 3, d->app_id);
	d->status = pg_col_int(r, row, c + 4);
	d->attempts = pg_col_int(r, row, c + 5);
	d->trigger = pg_col_int(r, row, c + 6);
	d->next_ms = pg_col_i64(r, row, c + 7);
}

const struct pg_row_kind pg_app_rows = {sizeof(struct app), pg_row_app};
const struct pg_row_kind pg_endpoint_rows = {sizeof(struct endpoint), pg_row_endpoint};
const struct pg_row_kind pg_message_rows = {sizeof(struct message), pg_row_message};
const struct pg_row_kind pg_attempt_rows = {sizeof(struct attempt), pg_row_attempt};
const struct pg_row_kind pg_task_rows = {sizeof(struct task), pg_row_task};
const struct pg_row_kind pg_event_type_rows = {sizeof(struct event_type), pg_row_event_type};
const struct pg_row_kind pg_inreq_rows = {sizeof(struct inreq), pg_row_inreq};

void *pg_collect(const PGresult *res, const struct pg_row_kind *k, size_t *n)
{
	int rows = res != NULL ? PQntuples(res) : 0;
	*n = (size_t)rows;
	if (rows == 0)
		return NULL;
	char *arr = xcalloc((size_t)rows, k->size);
	for (int i = 0; i < rows; i++)
		k->read(res, i, 0, arr + (size_t)i * k->size);
	return arr;
}
