/* store_pg.c: the PostgreSQL backend of the store.
 *
 * The location is a libpq connection string, URI (postgres://user@host:port/db?...) or key=value ("host=...
 * dbname=..."), plus hookd's own parameter schema=NAME (URI query or key=value; default "public"), which is taken
 * out before libpq sees the string: hookd's tables live in that schema, created if missing, and every connection
 * sets its search_path to it. Several hookd databases can share one PostgreSQL database, one schema each (the
 * contract suite gives each test its own).
 *
 * One write connection, used only by the committer thread: a batch is BEGIN ... COMMIT (synchronous_commit on,
 * so COMMIT returns once the server has flushed the WAL: what lets hookd answer 2xx after batch_commit) and each
 * job a SAVEPOINT inside it. A statement error aborts a PostgreSQL transaction, so the savepoints are not optional
 * here: a failed job rolls back to its savepoint, and the statements that may fail on a unique key held by another
 * row (app, endpoint and source uids) run inside a savepoint of their own, so a job can go on after the conflict
 * (for example to release its idempotency key). Every other conflict is an INSERT ... ON CONFLICT, which
 * reports without failing. Reads go through a pool of read connections (store_pg_conn.c); each read is one
 * statement, so it sees one committed snapshot.
 *
 * Several nodes may open one schema at once: which node sends for which endpoint is decided by leases
 * (store_pg_cluster.c, sched_pg.c), and every uniqueness by the database's indexes.
 *
 * Schema changes are numbered migrations recorded in the table hookd_schema (one row per version applied),
 * applied in one transaction under pg_advisory_xact_lock, so nodes starting together do not race: append to
 * `migrations`, never edit one. The types: ids TEXT COLLATE "C" (ids sort bytewise, as the pages need), times
 * BIGINT unix ms, flags BOOLEAN, statuses SMALLINT, JSON columns TEXT (the exact text hookd wrote), message
 * payloads, inbound bodies and attempt responses BYTEA (any bytes), delivery keys BIGINT GENERATED ALWAYS AS
 * IDENTITY (a sequence: monotonic, never reused, also after a rollback or a delete).
 */
#include "store_pg_int.h"
#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID "TEXT COLLATE \"C\""

static const char *const migrations[] = {
	/* 1: the schema of SQLite's migrations 1-11 */
	"CREATE TABLE apps ("
	" id " ID " PRIMARY KEY, uid " ID " UNIQUE, name TEXT, metadata TEXT,"
	" throttle_rate BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
	"CREATE TABLE endpoints ("
	" id " ID " PRIMARY KEY, app_id " ID " NOT NULL, uid " ID ", url TEXT, description TEXT,"
	" disabled BOOLEAN NOT NULL DEFAULT false, event_types TEXT, channels TEXT, secret TEXT, metadata TEXT,"
	" headers TEXT, throttle_rate BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL,"
	" updated_ms BIGINT NOT NULL, scheme TEXT, scheme_options TEXT, old_secrets TEXT,"
	" fifo BOOLEAN NOT NULL DEFAULT false, failing_since BIGINT NOT NULL DEFAULT 0, retry_schedule TEXT,"
	" UNIQUE (app_id, uid));"
	/* every lookup of a message names its app: (app_id, id) is the key */
	"CREATE TABLE messages ("
	" app_id " ID " NOT NULL, id " ID " NOT NULL, event_type " ID ", event_id " ID ", channels TEXT,"
	" tags TEXT, payload BYTEA, created_ms BIGINT NOT NULL, deliver_at_ms BIGINT NOT NULL DEFAULT 0,"
	" expires_ms BIGINT, content_type TEXT, extra_headers TEXT, PRIMARY KEY (app_id, id));"
	"CREATE UNIQUE INDEX messages_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;"
	/* retention: only what is still to be purged, so a purge pass reads nothing it purged before */
	"CREATE INDEX messages_retention ON messages (created_ms) WHERE payload IS NOT NULL AND expires_ms IS NULL;"
	"CREATE INDEX messages_expires ON messages (expires_ms) WHERE payload IS NOT NULL AND expires_ms IS NOT NULL;"
	"CREATE TABLE deliveries ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, msg_id " ID " NOT NULL, app_id " ID " NOT NULL,"
	" endpoint_id " ID " NOT NULL, status SMALLINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" trigger_type SMALLINT NOT NULL DEFAULT 0, next_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
	/* the pending and failed ones for the start-up scan and the gauges; sending is empty in steady state */
	"CREATE INDEX deliveries_pending ON deliveries (next_ms) WHERE status = 1;"
	"CREATE INDEX deliveries_sending ON deliveries (status) WHERE status = 3;"
	"CREATE INDEX deliveries_failed ON deliveries (status) WHERE status = 2;"
	/* app_delete, endpoint cancel, counts; ending in the key: the oldest pending one, the recover scan */
	"CREATE INDEX deliveries_app ON deliveries (app_id, endpoint_id, status, id);"
	"CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);"
	"CREATE TABLE attempts ("
	" id " ID " NOT NULL, msg_id " ID " NOT NULL, endpoint_id " ID " NOT NULL, app_id " ID " NOT NULL,"
	" url TEXT, status_code INTEGER NOT NULL DEFAULT 0, duration_ms BIGINT NOT NULL DEFAULT 0, response BYTEA,"
	" status SMALLINT NOT NULL, trigger_type SMALLINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL,"
	" PRIMARY KEY (app_id, msg_id, id));"
	"CREATE INDEX attempts_endpoint ON attempts (app_id, endpoint_id, id);"
	"CREATE INDEX attempts_retention ON attempts (created_ms) WHERE response IS NOT NULL;"
	"CREATE TABLE idempotency ("
	" key " ID " PRIMARY KEY, status INTEGER NOT NULL, body TEXT, created_ms BIGINT NOT NULL);"
	"CREATE INDEX idempotency_created ON idempotency (created_ms);"
	"CREATE TABLE event_types ("
	" name " ID " PRIMARY KEY, description TEXT, archived BOOLEAN NOT NULL DEFAULT false,"
	" deprecated BOOLEAN NOT NULL DEFAULT false, schemas TEXT, feature_flag TEXT, group_name TEXT,"
	" created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
	"CREATE TABLE tasks ("
	" id " ID " PRIMARY KEY, kind TEXT NOT NULL, status SMALLINT NOT NULL, app_id " ID " NOT NULL,"
	" endpoint_id " ID " NOT NULL, since_ms BIGINT NOT NULL, until_ms BIGINT NOT NULL,"
	" processed BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
	"CREATE TABLE sources (id " ID " PRIMARY KEY, uid " ID " UNIQUE, config TEXT NOT NULL);"
	"CREATE TABLE inbound_requests ("
	" id " ID " PRIMARY KEY, source_id " ID " NOT NULL, dedup_key TEXT, method TEXT, headers TEXT, body BYTEA,"
	" received_ms BIGINT NOT NULL, verify_rc INTEGER NOT NULL, duplicate BOOLEAN NOT NULL, msg_id " ID ");"
	"CREATE INDEX inbound_source ON inbound_requests (source_id, id);"
	/* a source's dedup key: one row holding when a request last claimed it (inreq_dedup) */
	"CREATE TABLE inbound_dedup (source_id " ID " NOT NULL, dedup_key TEXT NOT NULL, received_ms BIGINT NOT NULL,"
	" PRIMARY KEY (source_id, dedup_key));"
	"CREATE INDEX inbound_dedup_received ON inbound_dedup (received_ms);",
	/* 2: several nodes: a heartbeat per node, a lease per endpoint owned (times from the database's clock) */
	"CREATE TABLE nodes (id " ID " PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL);"
	"CREATE TABLE leases (endpoint_id " ID " PRIMARY KEY, node_id " ID " NOT NULL,"
	" expires_at TIMESTAMPTZ NOT NULL);"
	"CREATE INDEX leases_node ON leases (node_id);",
	/* 3: the node running a task and its cursor (committed with each batch), so that a task whose node died is
	 * taken over by a live node and resumed where it was */
	"ALTER TABLE tasks ADD COLUMN node_id " ID ", ADD COLUMN after_key BIGINT NOT NULL DEFAULT 0,"
	" ADD COLUMN after_id " ID ";",
	/* 4: payload filters, transformations and payload versions (as SQLite's 13) */
	"ALTER TABLE endpoints ADD COLUMN payload_filter TEXT, ADD COLUMN transformation TEXT,"
	" ADD COLUMN transformation_enabled BOOLEAN NOT NULL DEFAULT false, ADD COLUMN api_version TEXT;"
	"ALTER TABLE attempts ADD COLUMN request_body TEXT;"
	"CREATE TABLE api_versions (name TEXT PRIMARY KEY, downgrade TEXT, created_ms BIGINT NOT NULL);",
	/* 5: app-scoped tokens (as SQLite's 14) */
	"CREATE TABLE app_tokens (hash TEXT PRIMARY KEY, app_id " ID " NOT NULL, session_id TEXT,"
	" caps INTEGER NOT NULL, feature_flags TEXT, expires_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL);"
	"CREATE INDEX app_tokens_app ON app_tokens (app_id);"
	"CREATE INDEX app_tokens_expires ON app_tokens (expires_ms);",
	/* 6: poller sinks' consumer cursors (as SQLite's 15) */
	"CREATE TABLE poll_consumers (sink_id " ID " NOT NULL, consumer_id TEXT NOT NULL, cursor " ID " NOT NULL,"
	" updated_ms BIGINT NOT NULL, PRIMARY KEY (sink_id, consumer_id));",
	/* 7: a task's parameters (as SQLite's 16) */
	"ALTER TABLE tasks ADD COLUMN params TEXT;",
	/* 8: an attempt's request headers, the answer's headers and its method (as SQLite's 17) */
	("ALTER TABLE attempts ADD COLUMN request_headers TEXT, ADD COLUMN response_headers TEXT,"
	 " ADD COLUMN request_method TEXT;"),
	/* 9: poller sinks' deferred messages (as SQLite's 18) */
	"CREATE INDEX messages_deferred ON messages (app_id, deliver_at_ms, id) WHERE deliver_at_ms > created_ms;",
};
#define MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- the connection string ---- */

static bool schema_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int hexval(int c) { return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1; }

/* Percent-decoding of a URI's query value (bounded by out's size). */
static void uri_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* URI: drop schema=... from the query (after '?', '&'-separated). */
static void split_uri(const char *in, char *out, char *schema, size_t schemalen)
{
	const char *q = strchr(in, '?');
	if (q == NULL) {
		strcpy(out, in);
		return;
	}
	size_t o = (size_t)(q - in);
	memcpy(out, in, o);
	bool first = true;
	for (const char *p = q + 1; *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > 7 && strncmp(p, "schema=", 7) == 0) {
			uri_decode(p + 7, n - 7, schema, schemalen);
		} else if (n > 0) {
			out[o++] = first ? '?' : '&';
			memcpy(out + o, p, n);
			o += n;
			first = false;
		}
		p += n + (end != NULL);
	}
	out[o] = '\0';
}

/* key=value: drop the schema setting (values may be 'quoted', with \ escapes). */
static void split_kv(const char *in, char *out, char *schema, size_t schemalen)
{
	size_t o = 0;
	const char *p = in;
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		const char *start = p, *key = p;
		while (*p != '\0' && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t keylen = (size_t)(p - key);
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '=')
			p++;
		while (isspace((unsigned char)*p))
			p++;
		char val[256];
		size_t v = 0;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (v + 1 < sizeof val)
					val[v++] = *p;
			}
			if (*p == '\'')
				p++;
		} else {
			for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (v + 1 < sizeof val)
					val[v++] = *p;
			}
		}
		val[v] = '\0';
		if (keylen == 6 && strncmp(key, "schema", 6) == 0) {
			size_t k = v < schemalen ? v : schemalen - 1; /* too long is refused later */
			memcpy(schema, val, k);
			schema[k] = '\0';
			continue;
		}
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, start, (size_t)(p - start));
		o += (size_t)(p - start);
	}
	out[o] = '\0';
}

/* 64-bit FNV-1a: advisory lock keys from the schema name, so each hookd database has its own. */
static int64_t lock_key(const char *tag, const char *schema)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *s = tag; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (const char *s = schema; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (int64_t)h;
}

/* ---- open, migrate, close ---- */

static void pg_close(struct store *st)
{
	struct pg_store *s = to_pg(st);
	if (s == NULL)
		return;
	pg_pool_close(s);
	if (s->cl != NULL)
		PQfinish(s->cl);
	if (s->w != NULL) {
		if (PQtransactionStatus(s->w) != PQTRANS_IDLE)
			pg_exec_simple(s->w, "ROLLBACK", "close");
		PQfinish(s->w);
	}
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	free(s->conninfo);
	free(s->notes);
	buf_dispose(&s->held);
	pgp_free(&s->keys_p);
	free(s);
}

/* One row, one column of a simple query, as text: NULL (with err) on failure. */
static char *query_value(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(c, sql);
	char *v = NULL;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1)
		v = xstrdup(PQgetvalue(res, 0, 0));
	else {
		char line[512];
		pg_oneline(PQresultErrorMessage(res), line, sizeof line);
		snprintf(err, errlen, "postgres: %s", line[0] ? line : "unexpected result");
	}
	PQclear(res);
	return v;
}

static int exec_err(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok) {
		char line[512];
		pg_oneline(PQresultErrorMessage(res), line, sizeof line);
		snprintf(err, errlen, "postgres: %s: %s", what, line);
	}
	PQclear(res);
	return ok ? 0 : -1;
}

/* ---- secrets at rest: the re-seal pass (seal.h) ---- */

static int reseal_fail(PGresult *res, const char *table, char *err, size_t errlen)
{
	char line[512];
	pg_oneline(PQresultErrorMessage(res), line, sizeof line);
	snprintf(err, errlen, "postgres: re-sealing secrets in %s: %s", table, line);
	PQclear(res);
	return -1;
}

/* One table's rows re-sealed as mode says, inside the caller's transaction. Other nodes may be running: a row's
 * update applies only if it still holds what was read (else a node rewrote it meanwhile, sealed). */
static int reseal_table(PGconn *c, const struct store_sealed_table *t, int mode, int64_t *values, char *err,
			size_t errlen)
{
	char sel[256], upd[1024];
	int o = snprintf(sel, sizeof sel, "SELECT id"), u = snprintf(upd, sizeof upd, "UPDATE %s SET ", t->table);
	for (size_t i = 0; i < t->ncols; i++) {
		o += snprintf(sel + o, sizeof sel - (size_t)o, ", %s", t->cols[i]);
		u += snprintf(upd + u, sizeof upd - (size_t)u, "%s%s = coalesce($%zu::text, %s)", i ? ", " : "",
			      t->cols[i], i + 2, t->cols[i]);
	}
	snprintf(sel + o, sizeof sel - (size_t)o, " FROM %s", t->table);
	u += snprintf(upd + u, sizeof upd - (size_t)u, " WHERE id = $1");
	for (size_t i = 0; i < t->ncols; i++)
		u += snprintf(upd + u, sizeof upd - (size_t)u, " AND %s IS NOT DISTINCT FROM $%zu::text", t->cols[i],
			      t->ncols + i + 2);
	PGresult *rows = PQexec(c, sel);
	if (PQresultStatus(rows) != PGRES_TUPLES_OK)
		return reseal_fail(rows, t->table, err, errlen);
	int ret = 0;
	for (int r = 0; ret == 0 && r < PQntuples(rows); r++) {
		const char *p[7], *stored[3];
		char *out[3];
		for (size_t i = 0; i < t->ncols; i++)
			stored[i] = PQgetisnull(rows, r, (int)i + 1) ? NULL : PQgetvalue(rows, r, (int)i + 1);
		int any = store_reseal_row(t, stored, mode, out, values, err, errlen);
		if (any <= 0) {
			ret = any;
			continue;
		}
		p[0] = PQgetvalue(rows, r, 0);
		for (size_t i = 0; i < t->ncols; i++) {
			p[i + 1] = out[i];
			p[t->ncols + i + 1] = stored[i];
		}
		PGresult *res = PQexecParams(c, upd, (int)(2 * t->ncols + 1), NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			ret = reseal_fail(res, t->table, err, errlen);
		else
			PQclear(res);
		for (size_t i = 0; i < t->ncols; i++)
			free(out[i]);
	}
	PQclear(rows);
	return ret;
}

static int reseal_all(PGconn *c, int mode, int64_t *values, char *err, size_t errlen)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof store_sealed_tables / sizeof store_sealed_tables[0]; i++)
		rc = reseal_table(c, &store_sealed_tables[i], mode, values, err, errlen);
	return rc;
}

int pg_secrets_reseal(struct store *st, int mode, int64_t *values, char *err, size_t errlen)
{
	struct pg_store *s = to_pg(st);
	int64_t before = *values;
	char sql[128];
	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
		 (long long)lock_key("hookd-migrate:", s->schema));
	if (exec_err(s->w, sql, "rekey", err, errlen) == 0 && reseal_all(s->w, mode, values, err, errlen) == 0 &&
	    exec_err(s->w, "COMMIT", "rekey", err, errlen) == 0)
		return STORE_OK;
	PQclear(PQexec(s->w, "ROLLBACK"));
	*values = before;
	return STORE_ERR;
}

/* Create the schema if missing and apply the migrations it lacks, in one transaction under a transaction-level
 * advisory lock: a second node starting at the same time waits, then finds everything done. */
static int migrate(struct pg_store *s, char *err, size_t errlen)
{
	char sql[256];
	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
		 (long long)lock_key("hookd-migrate:", s->schema));
	if (exec_err(s->w, sql, "migrate", err, errlen))
		return -1;
	/* CREATE SCHEMA needs the CREATE privilege even when the schema exists: only when it is missing */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", s->schema);
	char *have = query_value(s->w, sql, err, errlen);
	int ok = have != NULL;
	if (ok && strcmp(have, "0") == 0) {
		snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", s->schema);
		ok = exec_err(s->w, sql, "create schema", err, errlen) == 0;
	}
	free(have);
	ok = ok && exec_err(s->w, "CREATE TABLE IF NOT EXISTS hookd_schema (version INTEGER PRIMARY KEY,"
				  " applied_ms BIGINT NOT NULL)", "migrate", err, errlen) == 0;
	char *v = ok ? query_value(s->w, "SELECT coalesce(max(version), 0) FROM hookd_schema", err, errlen) : NULL;
	int version = v != NULL ? atoi(v) : -1;
	free(v);
	ok = ok && version >= 0;
	if (ok && version > MIGRATIONS) {
		snprintf(err, errlen, "postgres: schema %s has version %d, newer than this hookd's %d", s->schema, version,
			 MIGRATIONS);
		ok = 0;
	}
	for (int m = version; ok && m < MIGRATIONS; m++) {
		char what[32];
		snprintf(what, sizeof what, "migration %d", m + 1);
		snprintf(sql, sizeof sql, "INSERT INTO hookd_schema (version, applied_ms) VALUES (%d, %lld)", m + 1,
			 (long long)now_ms());
		ok = exec_err(s->w, migrations[m], what, err, errlen) == 0 && exec_err(s->w, sql, what, err, errlen) == 0;
	}
	/* the secrets still in plaintext (from before hookd sealed them), sealed under the same lock */
	int64_t sealed = 0;
	ok = ok && reseal_all(s->w, SEAL_PLAINTEXT, &sealed, err, errlen) == 0;
	if (ok && exec_err(s->w, "COMMIT", "migrate", err, errlen) == 0) {
		if (sealed > 0)
			log_info("postgres: sealed %lld secrets stored in plaintext (docs/security.md)", (long long)sealed);
		return 0;
	}
	PQclear(PQexec(s->w, "ROLLBACK"));
	return -1;
}

/* The write connection lost (PostgreSQL restarted, the network): a new one with its session and its statements,
 * tried at most once a second. What was in flight failed with its batch. */
int pg_writer_reconnect(struct pg_store *s)
{
	int64_t now = mono_ms();
	if (now < s->reconnect_at_ms)
		return STORE_ERR;
	s->reconnect_at_ms = now + 1000;
	char err[512];
	PGconn *c = pg_connect(s->conninfo, s->schema, true, err, sizeof err);
	if (c == NULL) {
		log_warnx("postgres: the write connection is down: %s", err);
		return STORE_ERR;
	}
	PQfinish(s->w);
	s->w = c;
	if (pg_prepare_writes(s, err, sizeof err)) {
		log_warnx("postgres: reconnected, but: %s", err);
		PQfinish(s->w);
		s->w = NULL; /* libpq takes a NULL connection as a bad one: every statement fails until the next try */
		return STORE_ERR;
	}
	log_info("postgres: the write connection is back");
	return STORE_OK;
}

static struct store *pg_open(const char *location, char *err, size_t errlen)
{
	struct pg_store *s = xcalloc(1, sizeof *s);
	s->base = (struct store){&store_pg_backend, store_pg_backend.write, store_pg_backend.query,
				 store_pg_backend.cluster};
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	buf_init(&s->held, SIZE_MAX);
	s->conninfo = xmalloc(strlen(location) + 1);
	snprintf(s->schema, sizeof s->schema, "public");
	char schema[128] = "";
	if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
		split_uri(location, s->conninfo, schema, sizeof schema);
	else
		split_kv(location, s->conninfo, schema, sizeof schema);
	if (schema[0] != '\0' && !schema_valid(schema)) {
		snprintf(err, errlen, "postgres: schema '%s': 1-63 letters, digits and _, not starting with a digit",
			 schema);
		pg_close(&s->base);
		return NULL;
	}
	if (schema[0] != '\0')
		snprintf(s->schema, sizeof s->schema, "%.63s", schema); /* checked: at most 63 */
	snprintf(s->channel, sizeof s->channel, "hookd_%s", s->schema);
	s->w = pg_connect(s->conninfo, s->schema, true, err, errlen);
	if (s->w == NULL || migrate(s, err, errlen) ||
	    pg_prepare_writes(s, err, errlen)) {
		pg_close(&s->base);
		return NULL;
	}
	return &s->base;
}

const struct store_backend store_pg_backend = {
	.scheme = "postgres",
	.open = pg_open,
	.close = pg_close,
	.write = &pg_write_ops,
	.query = &pg_query_ops,
	.cluster = &pg_cluster_ops,
};
