/* store_sqlite.c: the SQLite backend of the store.
 *
 * One write connection, used only by the committer thread. A batch is BEGIN IMMEDIATE ... COMMIT and each job a
 * savepoint inside it, so a failed job rolls back alone. WAL with synchronous=FULL fsyncs the WAL before COMMIT
 * returns: that is what lets hookd answer 2xx after batch_commit. Every write statement is prepared at open and
 * reused (reset + clear_bindings), so the hot path builds no SQL text.
 *
 * Reads from other threads go through a pool of read-only connections: WAL lets each read a committed snapshot
 * beside the writer. A connection prepares its statements on first use and goes back to the pool afterwards.
 * The start-up functions run before any other thread exists and use the write connection.
 *
 * The backend is four files: this one (open, the schema and its migrations, close, the backend's tables),
 * store_sqlite_write.c (the write path), store_sqlite_read.c (the query side) and store_sqlite_conn.c
 * (connections, the read pool, statement helpers, the checkpointer); store_sqlite_int.h is what they share.
 *
 * Schema changes are numbered migrations tracked in PRAGMA user_version: append to `migrations`, never edit one.
 * Times are unix ms. JSON columns hold compact jansson text; a string list that is absent is NULL, an empty one
 * "[]". A message's payload is stored once, in messages; its deliveries point at it.
 */
#include "store_sqlite_int.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const migrations[] = {
	/* 1: the initial schema. deliveries.id is AUTOINCREMENT so a deleted delivery's key is never reused: the
	 * scheduler may still hold it in memory. */
	"CREATE TABLE apps ("
	" id TEXT PRIMARY KEY, uid TEXT UNIQUE, name TEXT, metadata TEXT,"
	" throttle_rate INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE TABLE endpoints ("
	" id TEXT PRIMARY KEY, app_id TEXT NOT NULL, uid TEXT, url TEXT, description TEXT,"
	" disabled INTEGER NOT NULL DEFAULT 0, event_types TEXT, channels TEXT, secret TEXT, metadata TEXT,"
	" headers TEXT, throttle_rate INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL, UNIQUE (app_id, uid));"
	"CREATE TABLE messages ("
	" id TEXT NOT NULL, app_id TEXT NOT NULL, event_type TEXT, event_id TEXT, channels TEXT, tags TEXT,"
	" payload BLOB, created_ms INTEGER NOT NULL, deliver_at_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX messages_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;"
	/* every lookup of a message names its app: this index is the key, and no other is kept on the id */
	"CREATE UNIQUE INDEX messages_app ON messages (app_id, id);"
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL, app_id TEXT NOT NULL,"
	" endpoint_id TEXT NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" trigger_type INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	/* covers scan_pending; the sending one is empty in steady state and makes the start-up reset free */
	"CREATE INDEX deliveries_pending ON deliveries (next_ms) WHERE status = 1;"
	"CREATE INDEX deliveries_sending ON deliveries (status) WHERE status = 3;"
	/* one index serves app_delete, endpoint cancel and delivery_counts */
	"CREATE INDEX deliveries_app ON deliveries (app_id, endpoint_id, status);"
	/* attempted destinations: a message's deliveries */
	"CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);"
	"CREATE TABLE attempts ("
	" id TEXT NOT NULL, msg_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, app_id TEXT NOT NULL, url TEXT,"
	" status_code INTEGER NOT NULL DEFAULT 0, duration_ms INTEGER NOT NULL DEFAULT 0, response BLOB,"
	" status INTEGER NOT NULL, trigger_type INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);"
	"CREATE INDEX attempts_endpoint ON attempts (app_id, endpoint_id, id);"
	/* attempts are found through their app and endpoint or message; an index on the id alone would cost a
	 * third b-tree insert per attempt for nothing */
	"CREATE UNIQUE INDEX attempts_msg ON attempts (app_id, msg_id, id);"
	"CREATE TABLE idempotency ("
	" key TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT, created_ms INTEGER NOT NULL);"
	"CREATE INDEX idempotency_created ON idempotency (created_ms);",
	/* 2: per-endpoint signature scheme and options, and the old secrets of a rotation with their expiry */
	"ALTER TABLE endpoints ADD COLUMN scheme TEXT;"
	"ALTER TABLE endpoints ADD COLUMN scheme_options TEXT;"
	"ALTER TABLE endpoints ADD COLUMN old_secrets TEXT;",
	/* 3: the event type registry (few rows, all loaded at start-up) */
	"CREATE TABLE event_types ("
	" name TEXT PRIMARY KEY, description TEXT, archived INTEGER NOT NULL DEFAULT 0,"
	" deprecated INTEGER NOT NULL DEFAULT 0, schemas TEXT, feature_flag TEXT, group_name TEXT,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);",
	/* 4: retention. A message with its own payloadRetentionPeriod has expires_ms; the others expire by the
	 * server's setting. The partial indexes hold only what is still to be purged, so a purge pass reads
	 * nothing it purged before. */
	"ALTER TABLE messages ADD COLUMN expires_ms INTEGER;"
	"CREATE INDEX messages_retention ON messages (created_ms) WHERE payload IS NOT NULL AND expires_ms IS NULL;"
	"CREATE INDEX messages_expires ON messages (expires_ms) WHERE payload IS NOT NULL AND expires_ms IS NOT NULL;"
	"CREATE INDEX attempts_retention ON attempts (created_ms) WHERE response IS NOT NULL;",
	/* 5: background tasks (recover, replay-missing), kept so their status outlives a restart */
	"CREATE TABLE tasks ("
	" id TEXT PRIMARY KEY, kind TEXT NOT NULL, status INTEGER NOT NULL, app_id TEXT NOT NULL,"
	" endpoint_id TEXT NOT NULL, since_ms INTEGER NOT NULL, until_ms INTEGER NOT NULL,"
	" processed INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);",
	/* 6: ordered delivery per endpoint */
	"ALTER TABLE endpoints ADD COLUMN fifo INTEGER NOT NULL DEFAULT 0;",
	/* 7: when an endpoint started failing (0: it is not), so auto-disable counts across restarts. Written only
	 * by the dispatcher (endpoint_set_failing), never by endpoint_put. */
	"ALTER TABLE endpoints ADD COLUMN failing_since INTEGER NOT NULL DEFAULT 0;",
	/* 8: inbound. A forwarded message keeps the provider's content type and headers; sources hold their JSON
	 * config (all loaded at start-up); every request received is a row, found by dedup key within a window. */
	"ALTER TABLE messages ADD COLUMN content_type TEXT;"
	"ALTER TABLE messages ADD COLUMN extra_headers TEXT;"
	"CREATE TABLE sources (id TEXT PRIMARY KEY, uid TEXT UNIQUE, config TEXT NOT NULL);"
	"CREATE TABLE inbound_requests ("
	" id TEXT PRIMARY KEY, source_id TEXT NOT NULL, dedup_key TEXT, method TEXT, headers TEXT, body BLOB,"
	" received_ms INTEGER NOT NULL, verify_rc INTEGER NOT NULL, duplicate INTEGER NOT NULL, msg_id TEXT);"
	"CREATE INDEX inbound_source ON inbound_requests (source_id, id);"
	"CREATE INDEX inbound_dedup ON inbound_requests (source_id, dedup_key, received_ms)"
	" WHERE duplicate = 0 AND verify_rc = 0;",
	/* 9: an endpoint's own retry schedule, a JSON array of delays in ms ("[]": no retries); NULL: the server's */
	"ALTER TABLE endpoints ADD COLUMN retry_schedule TEXT;",
	/* 10: the dead letter has its own partial index (like pending's), so the store-wide gauges count only the
	 * pending and failed rows instead of scanning every delivery ever made */
	"CREATE INDEX deliveries_failed ON deliveries (status) WHERE status = 2;",
	/* 11: inbound dedup decided by a unique key, not by a read: a source's dedup key has one row holding when a
	 * request last claimed it (inreq_dedup), so two nodes or two jobs cannot both forward one event. Seeded from
	 * the requests already received; the index that the old read used goes. The other unique keys were unique
	 * indexes from the start (apps.uid, endpoints (app_id, uid), messages (app_id, event_id), sources.uid,
	 * idempotency.key, event_types.name). */
	"DROP INDEX inbound_dedup;"
	"CREATE TABLE inbound_dedup (source_id TEXT NOT NULL, dedup_key TEXT NOT NULL, received_ms INTEGER NOT NULL,"
	" PRIMARY KEY (source_id, dedup_key)) WITHOUT ROWID;"
	"INSERT INTO inbound_dedup (source_id, dedup_key, received_ms) SELECT source_id, dedup_key, max(received_ms)"
	" FROM inbound_requests WHERE duplicate = 0 AND verify_rc = 0 AND dedup_key IS NOT NULL"
	" GROUP BY source_id, dedup_key;"
	"CREATE INDEX inbound_dedup_received ON inbound_dedup (received_ms);",
	/* 12: a task's cursor, committed with each batch, so that a task cut short resumes where it was */
	("ALTER TABLE tasks ADD COLUMN after_key INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE tasks ADD COLUMN after_id TEXT;"),
	/* 13: payload filters, transformations and payload versions: an endpoint's payloadFilter (JSON text), its
	 * transformation (Lua) and the apiVersion it is pinned to; the body as sent when it differs from the
	 * message's payload; the registry of payload versions (each with the Lua that turns the next newer shape into
	 * its own) */
	("ALTER TABLE endpoints ADD COLUMN payload_filter TEXT;"
	 "ALTER TABLE endpoints ADD COLUMN transformation TEXT;"
	 "ALTER TABLE endpoints ADD COLUMN transformation_enabled INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE endpoints ADD COLUMN api_version TEXT;"
	 "ALTER TABLE attempts ADD COLUMN request_body TEXT;"
	 "CREATE TABLE api_versions (name TEXT PRIMARY KEY, downgrade TEXT, created_ms INTEGER NOT NULL);"),
	/* 14: app-scoped tokens (the app portal's), by the SHA-256 of the token */
	("CREATE TABLE app_tokens (hash TEXT PRIMARY KEY, app_id TEXT NOT NULL, session_id TEXT,"
	 " caps INTEGER NOT NULL, feature_flags TEXT, expires_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
	 "CREATE INDEX app_tokens_app ON app_tokens (app_id);"
	 "CREATE INDEX app_tokens_expires ON app_tokens (expires_ms);"),
	/* 15: poller sinks: each consumer's committed cursor (a message id) */
	"CREATE TABLE poll_consumers (sink_id TEXT NOT NULL, consumer_id TEXT NOT NULL, cursor TEXT NOT NULL,"
	" updated_ms INTEGER NOT NULL, PRIMARY KEY (sink_id, consumer_id)) WITHOUT ROWID;",
	/* 16: a task's parameters (bulk-replay's filters), JSON text */
	("ALTER TABLE tasks ADD COLUMN params TEXT;"),
	/* 17: an attempt's request headers as sent and the answer's headers (JSON object texts), and its method
	 * when a transformation chose another than POST */
	("ALTER TABLE attempts ADD COLUMN request_headers TEXT;"
	 "ALTER TABLE attempts ADD COLUMN response_headers TEXT;"
	 "ALTER TABLE attempts ADD COLUMN request_method TEXT;"),
	/* 18: poller sinks read the messages whose deliverAt is after their creation (deferred) in deliverAt order:
	 * a partial index holds only those few */
	("CREATE INDEX messages_deferred ON messages (app_id, deliver_at_ms, id) WHERE deliver_at_ms > created_ms;"),
};
#define MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- open, migrate, close ---- */

static void sq_close(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	if (s == NULL)
		return;
	sq_ckpt_stop(s);
	while (s->pool != NULL) {
		struct rconn *c = s->pool;
		s->pool = c->next;
		sq_rconn_close(c);
	}
	for (int i = 0; i < WS_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	/* the last connection to close checkpoints the WAL into the database */
	if (sqlite3_close(s->db) != SQLITE_OK)
		sq_log_err(s->db, "close");
	pthread_mutex_destroy(&s->pool_lock);
	free(s->path);
	free(s);
}

/* Create the file ourselves when missing: it holds endpoint secrets, and SQLite gives its -wal and -shm files the
 * database file's permissions. */
static int create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot open database %s: %s", path, strerror(errno));
	return -1;
}

/* WAL lets readers run beside the writer; FULL makes each COMMIT durable before it returns. temp_store MEMORY
 * keeps the sub-journal of each job's SAVEPOINT in memory: on disk, every page a job touches was written to
 * a temporary file (and spilled there past 64 KiB), four times the WAL's own writes. */
static int configure(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	bool wal = rc == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
	if (rc != SQLITE_ROW)
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
	else if (!wal)
		snprintf(err, errlen, "database %s: cannot use WAL mode", path);
	sqlite3_finalize(q);
	if (!wal)
		return -1;
	return sq_exec_sql(db, "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY",
			path, err, errlen);
}

/* ---- secrets at rest: the re-seal pass (seal.h) ---- */

struct reseal_upd {
	char *id;
	char *out[3];
};

/* One table's rows re-sealed as mode says, inside the caller's transaction: read every row first, then update
 * those that change (each column only if it changes). */
static int reseal_table(sqlite3 *db, const struct store_sealed_table *t, int mode, int64_t *values, char *err,
			size_t errlen)
{
	char sel[256], upd[512];
	int o = snprintf(sel, sizeof sel, "SELECT id"), u = snprintf(upd, sizeof upd, "UPDATE %s SET ", t->table);
	for (size_t i = 0; i < t->ncols; i++) {
		o += snprintf(sel + o, sizeof sel - (size_t)o, ", %s", t->cols[i]);
		u += snprintf(upd + u, sizeof upd - (size_t)u, "%s%s = coalesce(?%zu, %s)", i ? ", " : "", t->cols[i],
			      i + 2, t->cols[i]);
	}
	snprintf(sel + o, sizeof sel - (size_t)o, " FROM %s", t->table);
	snprintf(upd + u, sizeof upd - (size_t)u, " WHERE id = ?1");
	sqlite3_stmt *q = NULL;
	struct reseal_upd *v = NULL;
	size_t n = 0, cap = 0;
	int rc = sqlite3_prepare_v2(db, sel, -1, &q, NULL), ret = 0;
	while (rc == SQLITE_OK && ret == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		rc = SQLITE_OK; /* the next row */
		const char *stored[3];
		for (size_t i = 0; i < t->ncols; i++)
			stored[i] = (const char *)sqlite3_column_text(q, (int)i + 1);
		struct reseal_upd r = {0};
		int any = store_reseal_row(t, stored, mode, r.out, values, err, errlen);
		if (any < 0)
			ret = -1;
		if (any <= 0)
			continue;
		r.id = xstrdup((const char *)sqlite3_column_text(q, 0));
		if (n == cap)
			v = xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
		v[n++] = r;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_OK) {
		snprintf(err, errlen, "re-sealing secrets in %s: %s", t->table, sqlite3_errmsg(db));
		ret = -1;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (ret == 0 && n > 0 && sqlite3_prepare_v2(db, upd, -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "re-sealing secrets in %s: %s", t->table, sqlite3_errmsg(db));
		ret = -1;
	}
	for (size_t k = 0; k < n; k++) {
		if (ret == 0) {
			sqlite3_bind_text(q, 1, v[k].id, -1, SQLITE_STATIC);
			for (size_t i = 0; i < t->ncols; i++)
				sqlite3_bind_text(q, (int)i + 2, v[k].out[i], -1, SQLITE_STATIC); /* NULL: SQL NULL */
			if (sqlite3_step(q) != SQLITE_DONE) {
				snprintf(err, errlen, "re-sealing secrets in %s: %s", t->table, sqlite3_errmsg(db));
				ret = -1;
			}
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
		}
		free(v[k].id);
		for (size_t i = 0; i < t->ncols; i++)
			free(v[k].out[i]);
	}
	sqlite3_finalize(q);
	free(v);
	return ret;
}

/* Every sealed table re-sealed inside the caller's transaction. secure_delete zeroes what the old values
 * occupied in the pages, so a plaintext value sealed here leaves no copy behind in the file (sq_wal_truncate
 * after the commit does the same for the WAL). */
static int reseal_all(sqlite3 *db, int mode, int64_t *values, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int was = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		was = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof store_sealed_tables / sizeof store_sealed_tables[0]; i++)
		rc = reseal_table(db, &store_sealed_tables[i], mode, values, err, errlen);
	char restore[64];
	snprintf(restore, sizeof restore, "PRAGMA secure_delete = %d", was);
	sqlite3_exec(db, restore, NULL, NULL, NULL);
	return rc;
}

/* After values were re-sealed: the WAL's frames (where the old pages may sit) copied back and the file emptied. */
static void sq_wal_truncate(sqlite3 *db)
{
	if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK)
		log_warnx("sqlite: checkpoint after re-sealing secrets: %s", sqlite3_errmsg(db));
}

int sq_secrets_reseal(struct store *st, int mode, int64_t *values, char *err, size_t errlen)
{
	struct sqlite_store *s = to_sq(st);
	int64_t before = *values;
	if (sq_exec_sql(s->db, "BEGIN IMMEDIATE", s->path, err, errlen))
		return STORE_ERR;
	if (reseal_all(s->db, mode, values, err, errlen) == 0 && sq_exec_sql(s->db, "COMMIT", s->path, err, errlen) == 0) {
		if (*values > before)
			sq_wal_truncate(s->db);
		return STORE_OK;
	}
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	*values = before;
	return STORE_ERR;
}

/* Apply the migrations the database lacks, all in one transaction (read the version inside it, too). Then seal
 * the secrets still stored in plaintext (from before hookd sealed them), in the same transaction. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	if (sq_exec_sql(db, "BEGIN IMMEDIATE", path, err, errlen))
		return -1;
	sqlite3_stmt *q = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	else
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(q);
	if (version > MIGRATIONS)
		snprintf(err, errlen, "database %s has schema version %d, newer than this hookd's %d", path, version,
			 MIGRATIONS);
	int ok = version >= 0 && version <= MIGRATIONS;
	for (int v = version; ok && v < MIGRATIONS; v++) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		ok = sq_exec_sql(db, migrations[v], path, err, errlen) == 0 && sq_exec_sql(db, sql, path, err, errlen) == 0;
	}
	int64_t sealed = 0;
	if (ok && reseal_all(db, SEAL_PLAINTEXT, &sealed, err, errlen) < 0)
		ok = 0;
	if (ok && sq_exec_sql(db, "COMMIT", path, err, errlen) == 0) {
		if (sealed > 0) {
			log_info("sqlite: sealed %lld secrets stored in plaintext (docs/security.md)", (long long)sealed);
			sq_wal_truncate(db);
		}
		return 0;
	}
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < WS_COUNT; i++) {
		s->st[i] = sq_prepare(s->db, &sq_wdefs[i]);
		if (s->st[i] == NULL) {
			snprintf(err, errlen, "database %s: cannot prepare %s: %s", s->path, sq_wdefs[i].name,
				 sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

static struct store *sq_open(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, ":memory:") == 0) {
		snprintf(err, errlen, "an in-memory database cannot be shared by connections; give a file path");
		return NULL;
	}
	if (create_private(path, err, errlen))
		return NULL;
	struct sqlite_store *s = xcalloc(1, sizeof *s);
	s->base = (struct store){&store_sqlite_backend, store_sqlite_backend.write, store_sqlite_backend.query, NULL};
	s->path = xstrdup(path);
	pthread_mutex_init(&s->pool_lock, NULL);
	int rc = sq_conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->db);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	if (rc != SQLITE_OK || configure(s->db, path, err, errlen) || migrate(s->db, path, err, errlen) ||
	    prepare_all(s, err, errlen) || sq_ckpt_start(s, err, errlen)) {
		sq_close(&s->base);
		return NULL;
	}
	return &s->base;
}

const struct store_backend store_sqlite_backend = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.write = &sq_write_ops,
	.query = &sq_query_ops,
};

