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
 * Schema changes are numbered migrations tracked in PRAGMA user_version: append to `migrations`, never edit one.
 * Times are unix ms. JSON columns hold compact jansson text; a string list that is absent is NULL, an empty one
 * "[]". A message's payload is stored once, in messages; its deliveries point at it.
 */
#include "store.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The SQL below writes these statuses as literals: partial indexes are only used for literal WHERE terms. */
_Static_assert(DS_SUCCESS == 0 && DS_PENDING == 1 && DS_FAIL == 2 && DS_SENDING == 3 && DS_CANCELED == 4,
	       "statuses in SQL");
_Static_assert(TASK_RUNNING == 0 && TASK_FAILED == 2 && TRIGGER_SCHEDULED == 0, "task statuses in SQL");

#define BUSY_TIMEOUT_MS 5000
#define POOL_IDLE_MAX 8 /* idle read connections kept; more are closed on release */

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
};
#define MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- statements ---- */

#define APP_COLS "id, uid, name, metadata, throttle_rate, created_ms, updated_ms"
#define EP_COLS                                                                                              \
	"id, app_id, uid, url, description, disabled, event_types, channels, secret, metadata, headers, "    \
	"throttle_rate, created_ms, updated_ms, scheme, scheme_options, old_secrets, fifo, retry_schedule"
#define MSG_COLS(p)                                                                                          \
	p "id, " p "app_id, " p "event_type, " p "event_id, " p "channels, " p "tags, " p "payload, "        \
	p "created_ms, " p "deliver_at_ms, " p "content_type, " p "extra_headers"
#define ATT_COLS                                                                                             \
	"id, msg_id, endpoint_id, app_id, url, status_code, duration_ms, response, status, trigger_type, "   \
	"created_ms"
#define EVT_COLS "name, description, archived, deprecated, schemas, feature_flag, group_name, created_ms, updated_ms"
#define TASK_COLS "id, kind, status, app_id, endpoint_id, since_ms, until_ms, processed, created_ms, updated_ms"
#define SET(c) c " = excluded." c
#define INR_COLS "id, source_id, dedup_key, method, headers, body, received_ms, verify_rc, duplicate, msg_id"
/* A forwarded request's body is its message's payload (stored once); lists read only its size. */
#define INR_FWD(st) "(SELECT count(*) FROM deliveries d WHERE d.msg_id = r.msg_id AND d.status IN " st ")"
#define INR_SELECT(body)                                                                                     \
	"SELECT r.id, r.source_id, r.dedup_key, r.method, r.headers, " body ","                                 \
	" coalesce(length(r.body), length(m.payload), 0), r.received_ms, r.verify_rc, r.duplicate, r.msg_id, "  \
	INR_FWD("(0)") ", " INR_FWD("(1, 3)") ", " INR_FWD("(2, 4)")                                           \
	" FROM inbound_requests r LEFT JOIN messages m ON m.id = r.msg_id"
#define INR_LIST(order)                                                                                      \
	INR_SELECT("NULL") " WHERE r.source_id = ?1 AND r.id > ?2 AND r.id < ?3 ORDER BY r.id " order " LIMIT ?4"

struct stmt_def {
	const char *name; /* for log lines */
	const char *sql;
};

enum wstmt {
	WS_BEGIN, WS_COMMIT, WS_ROLLBACK, WS_SAVEPOINT, WS_RELEASE, WS_ROLLBACK_TO,
	WS_APP_PUT, WS_APP_DEL_ATTEMPTS, WS_APP_DEL_DELIVERIES, WS_APP_DEL_MESSAGES, WS_APP_DEL_ENDPOINTS, WS_APP_DEL,
	WS_EP_PUT, WS_EP_CANCEL, WS_EP_DEL,
	WS_MSG_FIND_EVENT, WS_MSG_INSERT, WS_DLV_INSERT, WS_DLV_UPDATE, WS_ATT_INSERT,
	WS_IDEM_GET, WS_IDEM_PUT, WS_IDEM_PURGE, WS_MSG_EXPUNGE, WS_EP_DISABLE, WS_EP_FAILING,
	WS_APPS_LOAD, WS_EPS_LOAD, WS_DLV_RESET, WS_DLV_SCAN,
	WS_EVT_PUT, WS_EVT_CREATE, WS_EVT_DEL, WS_EVTS_LOAD,
	WS_PURGE_MSG, WS_PURGE_MSG_OWN, WS_PURGE_ATT,
	WS_TASK_PUT, WS_TASKS_FAIL, WS_RECOVER_SCAN, WS_RECOVER_SET, WS_REPLAY_SCAN,
	WS_SRC_PUT, WS_SRC_DEL, WS_SRC_DEL_REQS, WS_SRCS_LOAD, WS_INR_INSERT, WS_INR_SEEN, WS_INR_PURGE,
	WS_COUNT
};

/* Upserts, not INSERT OR REPLACE: REPLACE would delete another row holding the uid instead of failing. */
static const struct stmt_def wdefs[WS_COUNT] = {
	[WS_BEGIN] = {"begin", "BEGIN IMMEDIATE"},
	[WS_COMMIT] = {"commit", "COMMIT"},
	[WS_ROLLBACK] = {"rollback", "ROLLBACK"},
	[WS_SAVEPOINT] = {"savepoint", "SAVEPOINT j"},
	[WS_RELEASE] = {"release", "RELEASE j"},
	[WS_ROLLBACK_TO] = {"rollback to", "ROLLBACK TO j"},
	[WS_APP_PUT] = {"app_put", "INSERT INTO apps (" APP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
				   " ON CONFLICT (id) DO UPDATE SET " SET("uid") ", " SET("name") ", "
				   SET("metadata") ", " SET("throttle_rate") ", " SET("created_ms") ", "
				   SET("updated_ms")},
	[WS_APP_DEL_ATTEMPTS] = {"app_delete", "DELETE FROM attempts WHERE app_id = ?1"},
	[WS_APP_DEL_DELIVERIES] = {"app_delete", "DELETE FROM deliveries WHERE app_id = ?1"},
	[WS_APP_DEL_MESSAGES] = {"app_delete", "DELETE FROM messages WHERE app_id = ?1"},
	[WS_APP_DEL_ENDPOINTS] = {"app_delete", "DELETE FROM endpoints WHERE app_id = ?1"},
	[WS_APP_DEL] = {"app_delete", "DELETE FROM apps WHERE id = ?1"},
	[WS_EP_PUT] = {"endpoint_put",
		       "INSERT INTO endpoints (" EP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		       " ?13, ?14, ?15, ?16, ?17, ?18, ?19) ON CONFLICT (id) DO UPDATE SET " SET("app_id") ", " SET("uid") ", "
		       SET("url") ", " SET("description") ", " SET("disabled") ", " SET("event_types") ", "
		       SET("channels") ", " SET("secret") ", " SET("metadata") ", " SET("headers") ", "
		       SET("throttle_rate") ", " SET("created_ms") ", " SET("updated_ms") ", " SET("scheme") ", "
		       SET("scheme_options") ", " SET("old_secrets") ", " SET("fifo") ", " SET("retry_schedule")},
	/* app_id from the endpoint row so the (app_id, endpoint_id, status) index applies */
	[WS_EP_CANCEL] = {"endpoint_cancel",
			  "UPDATE deliveries SET status = 4, updated_ms = ?2"
			  " WHERE app_id = (SELECT app_id FROM endpoints WHERE id = ?1) AND endpoint_id = ?1"
			  " AND status IN (1, 3)"},
	[WS_EP_DEL] = {"endpoint_delete", "DELETE FROM endpoints WHERE id = ?1"},
	[WS_MSG_FIND_EVENT] = {"msg_find_event_id", "SELECT id FROM messages WHERE app_id = ?1 AND event_id = ?2"},
	[WS_MSG_INSERT] = {"msg_insert", "INSERT INTO messages (" MSG_COLS("") ", expires_ms)"
					  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
	[WS_DLV_INSERT] = {"delivery_insert",
			   "INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, attempts, trigger_type,"
			   " next_ms, updated_ms) VALUES (?1, ?2, ?3, 1, 0, ?6, ?4, ?5)"},
	[WS_EP_FAILING] = {"endpoint_set_failing", "UPDATE endpoints SET failing_since = ?2 WHERE id = ?1"},
	[WS_EP_DISABLE] = {"endpoint_set_disabled", "UPDATE endpoints SET disabled = ?2, updated_ms = ?3 WHERE id = ?1"},
	[WS_MSG_EXPUNGE] = {"msg_expunge", "UPDATE messages SET payload = NULL WHERE app_id = ?1 AND id = ?2"},
	/* a retry must not revive a delivery canceled while its attempt was in flight */
	[WS_DLV_UPDATE] = {"outcomes_record",
			   "UPDATE deliveries SET status = CASE WHEN status = 4 AND ?2 = 1 THEN 4 ELSE ?2 END,"
			   " attempts = ?3, next_ms = ?4, updated_ms = ?5 WHERE id = ?1"},
	[WS_ATT_INSERT] = {"attempt_insert",
			   "INSERT INTO attempts (" ATT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
	[WS_IDEM_GET] = {"idem_get", "SELECT status, body FROM idempotency WHERE key = ?1 AND created_ms >= ?2"},
	[WS_IDEM_PUT] = {"idem_put", "INSERT OR REPLACE INTO idempotency (key, status, body, created_ms)"
				     " VALUES (?1, ?2, ?3, ?4)"},
	[WS_IDEM_PURGE] = {"idem_purge", "DELETE FROM idempotency WHERE created_ms < ?1"},
	[WS_APPS_LOAD] = {"apps_load", "SELECT " APP_COLS " FROM apps ORDER BY id"},
	[WS_EPS_LOAD] = {"endpoints_load", "SELECT " EP_COLS ", failing_since FROM endpoints ORDER BY id"},
	[WS_DLV_RESET] = {"deliveries_reset_sending", "UPDATE deliveries SET status = 1 WHERE status = 3"},
	[WS_DLV_SCAN] = {"deliveries_scan_pending", "SELECT id, next_ms FROM deliveries WHERE status = 1"},
	[WS_EVT_PUT] = {"event_type_put", "INSERT OR REPLACE INTO event_types (" EVT_COLS ")"
					  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
	/* a create revives an archived type, never a live one: the check is in the write, so two creates of one
	 * name in one batch cannot both succeed */
	[WS_EVT_CREATE] = {"event_type_create", "INSERT INTO event_types (" EVT_COLS ")"
						" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (name) DO UPDATE SET "
						SET("description") ", " SET("archived") ", " SET("deprecated") ", "
						SET("schemas") ", " SET("feature_flag") ", " SET("group_name") ", "
						SET("created_ms") ", " SET("updated_ms") " WHERE event_types.archived = 1"},
	[WS_EVT_DEL] = {"event_type_delete", "DELETE FROM event_types WHERE name = ?1"},
	[WS_EVTS_LOAD] = {"event_types_load", "SELECT " EVT_COLS " FROM event_types ORDER BY name"},
	/* each WHERE repeats its partial index's terms literally, so the planner picks that index */
	[WS_PURGE_MSG] = {"retention_purge",
			  "UPDATE messages SET payload = NULL WHERE rowid IN (SELECT rowid FROM messages"
			  " WHERE payload IS NOT NULL AND expires_ms IS NULL AND created_ms < ?1 LIMIT ?2)"},
	[WS_PURGE_MSG_OWN] = {"retention_purge",
			      "UPDATE messages SET payload = NULL WHERE rowid IN (SELECT rowid FROM messages"
			      " WHERE payload IS NOT NULL AND expires_ms IS NOT NULL AND expires_ms < ?1 LIMIT ?2)"},
	[WS_TASK_PUT] = {"task_put", "INSERT OR REPLACE INTO tasks (" TASK_COLS ")"
				      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
	[WS_TASKS_FAIL] = {"tasks_fail_running", "UPDATE tasks SET status = 2, updated_ms = ?1 WHERE status = 0"},
	/* the (app_id, endpoint_id, status) index, in key order from the cursor; a failed manual resend stays failed */
	[WS_RECOVER_SCAN] = {"recover_batch",
			     "SELECT d.id, " MSG_COLS("m.") " FROM deliveries d JOIN messages m"
			     " ON m.app_id = d.app_id AND m.id = d.msg_id"
			     " WHERE d.app_id = ?1 AND d.endpoint_id = ?2 AND d.status = 2 AND d.id > ?3"
			     " AND d.trigger_type = 0 AND m.created_ms >= ?4 AND m.created_ms < ?5"
			     " ORDER BY d.id LIMIT ?6"},
	[WS_RECOVER_SET] = {"recover_batch", "UPDATE deliveries SET status = 1, attempts = 0, next_ms = ?2,"
					     " updated_ms = ?2 WHERE id = ?1 AND status = 2"},
	/* ids sort by time, so the window's id bounds keep the scan to the window */
	[WS_REPLAY_SCAN] = {"replay_scan",
			    "SELECT " MSG_COLS("m.") " FROM messages m WHERE m.app_id = ?1 AND m.id > ?2 AND m.id < ?3"
			    " AND m.created_ms >= ?4 AND m.created_ms < ?5 AND NOT EXISTS (SELECT 1 FROM deliveries d"
			    " WHERE d.msg_id = m.id AND d.endpoint_id = ?6) ORDER BY m.id LIMIT ?7"},
	[WS_SRC_PUT] = {"source_put", "INSERT INTO sources (id, uid, config) VALUES (?1, ?2, ?3)"
				      " ON CONFLICT (id) DO UPDATE SET " SET("uid") ", " SET("config")},
	[WS_SRC_DEL] = {"source_delete", "DELETE FROM sources WHERE id = ?1"},
	[WS_SRC_DEL_REQS] = {"source_delete", "DELETE FROM inbound_requests WHERE source_id = ?1"},
	[WS_SRCS_LOAD] = {"sources_load", "SELECT config FROM sources ORDER BY id"},
	[WS_INR_INSERT] = {"inreq_insert", "INSERT INTO inbound_requests (" INR_COLS ")"
					   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
	[WS_INR_SEEN] = {"inreq_seen", "SELECT 1 FROM inbound_requests WHERE source_id = ?1 AND dedup_key = ?2"
				       " AND received_ms >= ?3 AND duplicate = 0 AND verify_rc = 0 LIMIT 1"},
	/* ids sort by time: the primary key finds the old rows */
	[WS_INR_PURGE] = {"inreq_purge", "DELETE FROM inbound_requests WHERE rowid IN (SELECT rowid FROM"
					 " inbound_requests WHERE id < ?1 LIMIT ?2)"},
	[WS_PURGE_ATT] = {"retention_purge",
			  "UPDATE attempts SET response = NULL WHERE rowid IN (SELECT rowid FROM attempts"
			  " WHERE response IS NOT NULL AND created_ms < ?1 LIMIT ?2)"},
};

/* Read statements. Lists come in ascending/descending pairs (descending = ascending + 1) and share parameter
 * numbers: ?1 app, ?2 after, ?3 before, ?4 limit, ?5 endpoint, ?6 message. */
enum rstmt {
	RS_DLV_LOAD, RS_MSG_GET, RS_ATT_GET,
	RS_MSG_LIST, RS_MSG_LIST_DESC,
	RS_ATT_LIST_APP, RS_ATT_LIST_APP_DESC,
	RS_ATT_LIST_EP, RS_ATT_LIST_EP_DESC,
	RS_ATT_LIST_MSG, RS_ATT_LIST_MSG_DESC,
	RS_COUNTS_EP, RS_COUNTS_APP, RS_COUNTS_ALL, RS_MSG_DLVS, RS_OLDEST_PENDING, RS_ATT_FIGURES, RS_EP_MSGS,
	RS_EP_MSGS_DESC,
	RS_TASK_GET, RS_TASK_LIST, RS_TASK_LIST_DESC,
	RS_INR_LIST, RS_INR_LIST_DESC, RS_INR_GET,
	RS_COUNT
};

#define PAGED(from, filter, order) from " WHERE app_id = ?1 AND id > ?2 AND id < ?3" filter TIME_FILTER \
	" ORDER BY id " order " LIMIT ?4"
/* Filters are parameters that are NULL when unused, so each list keeps one prepared statement. */
#define TIME_FILTER " AND (?7 IS NULL OR created_ms < ?7) AND (?8 IS NULL OR created_ms > ?8)"
#define MSG_FILTER                                                                                           \
	" AND (?9 IS NULL OR event_type IN (SELECT value FROM json_each(?9)))"                               \
	" AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(channels) WHERE value = ?10))"                 \
	" AND (?11 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?11))"
#define ATT_FILTER                                                                                           \
	" AND (?12 IS NULL OR status = ?12)"                                                                 \
	" AND (?13 IS NULL OR (status_code / 100) * 100 = ?13)"                                              \
	" AND (?9 IS NULL AND ?10 IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.app_id = attempts.app_id" \
	" AND m.id = attempts.msg_id AND (?9 IS NULL OR m.event_type IN (SELECT value FROM json_each(?9)))"   \
	" AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?10))))"
#define EP_MSGS(order)                                                                                       \
	"SELECT d.id, d.msg_id, d.endpoint_id, d.app_id, d.status, d.attempts, d.trigger_type, d.next_ms, "  \
	MSG_COLS("m.") " FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.msg_id"        \
	" WHERE d.app_id = ?1 AND d.endpoint_id = ?5 AND d.trigger_type = 0 AND d.msg_id > ?2 AND d.msg_id < ?3" \
	" ORDER BY d.msg_id " order " LIMIT ?4"
#define MSG_LIST(order) PAGED("SELECT " MSG_COLS("") " FROM messages", MSG_FILTER, order)
#define ATT_LIST(filter, order) PAGED("SELECT " ATT_COLS " FROM attempts", filter ATT_FILTER, order)
#define ATT_BY_EP " AND endpoint_id = ?5"
#define ATT_BY_MSG " AND msg_id = ?6 AND (?5 IS NULL OR endpoint_id = ?5)"
#define COUNTS "SELECT status, count(*) FROM deliveries"
/* ?1 is unused: the page parameters keep their numbers */
#define TASK_LIST(order) "SELECT " TASK_COLS " FROM tasks WHERE id > ?2 AND id < ?3 AND (?5 IS NULL OR status = ?5)" \
	" AND (?6 IS NULL OR kind = ?6) ORDER BY id " order " LIMIT ?4"

static const struct stmt_def rdefs[RS_COUNT] = {
	[RS_DLV_LOAD] = {"delivery_load",
			 "SELECT d.id, d.msg_id, d.endpoint_id, d.app_id, d.status, d.attempts, d.trigger_type,"
			 " d.next_ms, " MSG_COLS("m.") " FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.msg_id"
			 " WHERE d.id = ?1"},
	/* the id wins over an eventId that happens to equal another message's id */
	[RS_MSG_GET] = {"msg_get",
			"SELECT " MSG_COLS("") " FROM messages WHERE id = ?2 AND app_id = ?1 UNION ALL"
			" SELECT " MSG_COLS("") " FROM messages WHERE app_id = ?1 AND event_id = ?2 LIMIT 1"},
	[RS_ATT_GET] = {"attempt_get",
			"SELECT " ATT_COLS " FROM attempts WHERE app_id = ?2 AND msg_id = ?3 AND id = ?1"},
	[RS_MSG_LIST] = {"msg_list", MSG_LIST("ASC")},
	[RS_MSG_LIST_DESC] = {"msg_list", MSG_LIST("DESC")},
	[RS_ATT_LIST_APP] = {"attempt_list", ATT_LIST("", "ASC")},
	[RS_ATT_LIST_APP_DESC] = {"attempt_list", ATT_LIST("", "DESC")},
	[RS_ATT_LIST_EP] = {"attempt_list", ATT_LIST(ATT_BY_EP, "ASC")},
	[RS_ATT_LIST_EP_DESC] = {"attempt_list", ATT_LIST(ATT_BY_EP, "DESC")},
	[RS_ATT_LIST_MSG] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "ASC")},
	[RS_ATT_LIST_MSG_DESC] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "DESC")},
	[RS_COUNTS_EP] = {"delivery_counts", COUNTS " WHERE app_id = coalesce(?1, (SELECT app_id FROM endpoints"
				      " WHERE id = ?2)) AND endpoint_id = ?2 GROUP BY status"},
	[RS_COUNTS_APP] = {"delivery_counts", COUNTS " WHERE app_id = ?1 GROUP BY status"},
	/* store-wide, only what the gauges use: each count reads a partial index */
	[RS_COUNTS_ALL] = {"delivery_counts", COUNTS " WHERE status = 1 UNION ALL " COUNTS " WHERE status = 2"},
	[RS_INR_LIST] = {"inreq_list", INR_LIST("ASC")},
	[RS_INR_LIST_DESC] = {"inreq_list", INR_LIST("DESC")},
	[RS_INR_GET] = {"inreq_get", INR_SELECT("coalesce(r.body, m.payload)") " WHERE r.source_id = ?1 AND r.id = ?2"},
	[RS_TASK_GET] = {"task_get", "SELECT " TASK_COLS " FROM tasks WHERE id = ?1"},
	[RS_TASK_LIST] = {"task_list", TASK_LIST("ASC")},
	[RS_TASK_LIST_DESC] = {"task_list", TASK_LIST("DESC")},
	/* the (app_id, endpoint_id, status) index ends in the rowid, so min(id) is its first entry */
	/* ids sort by time: the window is a range of the (app_id, endpoint_id, id) index */
	/* the endpoint's deliveries (the app_id, endpoint_id index), sorted by message id */
	[RS_EP_MSGS] = {"endpoint_msgs", EP_MSGS("ASC")},
	[RS_EP_MSGS_DESC] = {"endpoint_msgs", EP_MSGS("DESC")},
	[RS_ATT_FIGURES] = {"attempt_figures", "SELECT created_ms, duration_ms, status_code, status FROM attempts"
					       " WHERE app_id = ?1 AND endpoint_id = ?2 AND id >= ?3"},
	[RS_OLDEST_PENDING] = {"delivery_oldest_pending",
			       "SELECT min(id) FROM deliveries WHERE app_id = (SELECT app_id FROM endpoints WHERE id = ?1)"
			       " AND endpoint_id = ?1 AND status = 1"},
	[RS_MSG_DLVS] = {"msg_deliveries",
			 "SELECT id, msg_id, endpoint_id, app_id, status, attempts, trigger_type, next_ms"
			 " FROM deliveries WHERE msg_id = ?2 AND app_id = ?1 ORDER BY endpoint_id"},
};

/* ---- the store ---- */

struct rconn {
	sqlite3 *db;
	sqlite3_stmt *st[RS_COUNT]; /* prepared on first use */
	struct rconn *next;
};

struct sqlite_store {
	struct store base; /* first, so a struct store * is a struct sqlite_store * */
	char *path;
	sqlite3 *db;                /* the write connection */
	sqlite3_stmt *st[WS_COUNT];
	pthread_mutex_t pool_lock;
	struct rconn *pool;         /* idle read connections */
	int pool_len;
	/* the checkpointer: copies the WAL back into the database off the commit path */
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_stop, ckpt_wanted;
	int ckpt_caught_up; /* atomic: the last background pass copied every frame it saw */
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

static struct sqlite_store *to_sq(struct store *st) { return (struct sqlite_store *)st; }

static int log_err(sqlite3 *db, const char *what)
{
	log_warnx("sqlite: %s: %s", what, sqlite3_errmsg(db));
	return STORE_ERR;
}

static void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Map a step result that is neither ROW nor DONE; a taken unique key is the caller's business, not a failure. */
static int step_error(sqlite3_stmt *q, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_CONFLICT;
	return log_err(sqlite3_db_handle(q), what);
}

/* Run a statement that returns no rows, then make it ready for reuse. */
static int run(sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	int ret = rc == SQLITE_DONE ? STORE_OK : step_error(q, rc, what);
	stmt_done(q);
	return ret;
}

/* Step to the first row: STORE_OK on a row (the caller reads it, then calls stmt_done), else NOTFOUND or ERR. */
static int step_row(sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : step_error(q, rc, what);
}

/* Bind failures (no memory, too big) are rare; the bind_* helpers return nonzero for them and callers OR them. */
static int bind_failed(sqlite3_stmt *q, const char *what)
{
	int rc = log_err(sqlite3_db_handle(q), what); /* before the reset, which may replace the message */
	stmt_done(q);
	return rc;
}

/* ---- binding ---- */

static int bind_str(sqlite3_stmt *q, int i, const char *s)
{
	return s != NULL ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

static int bind_bytes(sqlite3_stmt *q, int i, const char *p, size_t len)
{
	return p != NULL ? sqlite3_bind_blob64(q, i, p, len, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

/* jansson documents that json_dumps' result is freed with free(), so SQLite can own it. */
static int bind_json(sqlite3_stmt *q, int i, const json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	return text != NULL ? sqlite3_bind_text(q, i, text, -1, free) : sqlite3_bind_null(q, i);
}

static int bind_retry(sqlite3_stmt *q, int i, const struct endpoint *e)
{
	if (!e->has_retry)
		return sqlite3_bind_null(q, i); /* the server's schedule, unlike "[]" (no retries) */
	json_t *a = json_array();
	for (int k = 0; k < e->retry_steps && k < BACKOFF_MAX_STEPS; k++)
		json_array_append_new(a, json_integer(e->retry_ms[k]));
	int rc = bind_json(q, i, a);
	json_decref(a);
	return rc;
}

static int bind_strlist(sqlite3_stmt *q, int i, const struct strlist *l)
{
	if (l->v == NULL)
		return sqlite3_bind_null(q, i); /* absent, unlike an empty list */
	json_t *a = json_array();
	for (size_t k = 0; k < l->n; k++)
		json_array_append_new(a, json_string(l->v[k]));
	int rc = bind_json(q, i, a);
	json_decref(a);
	return rc;
}

/* Bind only if given: a statement variant without the parameter is chosen when it is NULL. */
static int bind_opt(sqlite3_stmt *q, int i, const char *s)
{
	return s != NULL ? bind_str(q, i, s) : SQLITE_OK;
}

/* Page bounds stay plain index range terms: "" sorts before every id and a BLOB after every TEXT value. */
static int bind_page(sqlite3_stmt *q, const struct page *pg)
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
	rc |= bind_opt(q, 9, f->event_types_json) | bind_opt(q, 10, f->channel);
	if (sqlite3_bind_parameter_count(q) >= 13) { /* attempts */
		if (f->status >= 0)
			rc |= sqlite3_bind_int(q, 12, f->status);
		if (f->status_code_class >= 0)
			rc |= sqlite3_bind_int(q, 13, f->status_code_class);
	} else {
		rc |= bind_opt(q, 11, f->tag);
	}
	return rc;
}

/* ---- reading columns: NULLs and odd values become safe defaults, never a crash ---- */

static void col_id(sqlite3_stmt *q, int c, char out[ID_MAX])
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
static char *col_str(sqlite3_stmt *q, int c)
{
	const unsigned char *t = sqlite3_column_text(q, c);
	return t != NULL ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(q, c)) : NULL;
}

/* NULL becomes "" (fields the callers use as strings). */
static char *col_str0(sqlite3_stmt *q, int c)
{
	char *s = col_str(q, c);
	return s != NULL ? s : xstrdup("");
}

/* A BLOB copied and NUL-terminated; NULL for SQL NULL. */
static char *col_bytes(sqlite3_stmt *q, int c, size_t *len)
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

static json_t *col_object(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);
	json_t *j = t != NULL ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_object(j))
		return j;
	json_decref(j);
	return json_object();
}

static json_t *col_array(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);
	json_t *j = t != NULL ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_array(j))
		return j;
	json_decref(j);
	return json_array();
}

/* An endpoint's retry schedule: NULL is the server's; entries that are not whole ms >= 0 are skipped. */
static void col_retry(sqlite3_stmt *q, int c, struct endpoint *e)
{
	e->has_retry = sqlite3_column_type(q, c) != SQLITE_NULL;
	e->retry_steps = 0;
	if (!e->has_retry)
		return;
	json_t *a = col_array(q, c);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (json_is_integer(v) && json_integer_value(v) >= 0 && e->retry_steps < BACKOFF_MAX_STEPS)
			e->retry_ms[e->retry_steps++] = json_integer_value(v);
	}
	json_decref(a);
}

/* NULL is an absent list; anything else is present, with its string elements (none if unreadable). */
static void col_strlist(sqlite3_stmt *q, int c, struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
	if (sqlite3_column_type(q, c) == SQLITE_NULL)
		return;
	l->v = xcalloc(1, sizeof *l->v);
	json_t *a = json_loads((const char *)sqlite3_column_text(q, c), 0, NULL);
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (json_is_string(e))
			strlist_add(l, json_string_value(e));
	}
	json_decref(a);
}

static int64_t col_i64(sqlite3_stmt *q, int c) { return sqlite3_column_int64(q, c); }
static int col_int(sqlite3_stmt *q, int c) { return sqlite3_column_int(q, c); }

/* ---- rows ---- */

static void row_app(sqlite3_stmt *q, int c, void *out)
{
	struct app *a = out;
	col_id(q, c, a->id);
	a->uid = col_str(q, c + 1);
	a->name = col_str0(q, c + 2);
	a->metadata = col_object(q, c + 3);
	a->throttle_rate = col_i64(q, c + 4);
	a->created_ms = col_i64(q, c + 5);
	a->updated_ms = col_i64(q, c + 6);
}

static void row_endpoint(sqlite3_stmt *q, int c, void *out)
{
	struct endpoint *e = out;
	col_id(q, c, e->id);
	col_id(q, c + 1, e->app_id);
	e->uid = col_str(q, c + 2);
	e->url = col_str0(q, c + 3);
	e->description = col_str0(q, c + 4);
	e->disabled = col_int(q, c + 5) != 0;
	col_strlist(q, c + 6, &e->event_types);
	col_strlist(q, c + 7, &e->channels);
	e->secret = col_str0(q, c + 8);
	e->metadata = col_object(q, c + 9);
	e->headers = col_object(q, c + 10);
	e->throttle_rate = col_i64(q, c + 11);
	e->created_ms = col_i64(q, c + 12);
	e->updated_ms = col_i64(q, c + 13);
	e->scheme = col_str(q, c + 14);
	e->scheme_options = sqlite3_column_type(q, c + 15) == SQLITE_NULL ? NULL : col_object(q, c + 15);
	e->old_secrets = sqlite3_column_type(q, c + 16) == SQLITE_NULL ? NULL : col_array(q, c + 16);
	e->fifo = col_int(q, c + 17) != 0;
	col_retry(q, c + 18, e);
	if (sqlite3_column_count(q) > c + 19) /* only the start-up load reads it */
		e->failing_since = col_i64(q, c + 19);
}

static void row_message(sqlite3_stmt *q, int c, void *out)
{
	struct message *m = out;
	col_id(q, c, m->id);
	col_id(q, c + 1, m->app_id);
	m->event_type = col_str0(q, c + 2);
	m->event_id = col_str(q, c + 3);
	col_strlist(q, c + 4, &m->channels);
	col_strlist(q, c + 5, &m->tags);
	m->payload = col_bytes(q, c + 6, &m->payload_len);
	m->created_ms = col_i64(q, c + 7);
	m->deliver_at_ms = col_i64(q, c + 8);
	m->content_type = col_str(q, c + 9);
	m->extra_headers = col_str(q, c + 10);
}

static void row_attempt(sqlite3_stmt *q, int c, void *out)
{
	struct attempt *a = out;
	col_id(q, c, a->id);
	col_id(q, c + 1, a->msg_id);
	col_id(q, c + 2, a->endpoint_id);
	col_id(q, c + 3, a->app_id);
	a->url = col_str0(q, c + 4);
	a->status_code = col_int(q, c + 5);
	a->duration_ms = col_i64(q, c + 6);
	a->response = col_bytes(q, c + 7, &a->response_len);
	a->status = col_int(q, c + 8);
	a->trigger = col_int(q, c + 9);
	a->created_ms = col_i64(q, c + 10);
}

static void row_event_type(sqlite3_stmt *q, int c, void *out)
{
	struct event_type *t = out;
	t->name = col_str0(q, c);
	t->description = col_str0(q, c + 1);
	t->archived = col_int(q, c + 2) != 0;
	t->deprecated = col_int(q, c + 3) != 0;
	t->schemas = sqlite3_column_type(q, c + 4) == SQLITE_NULL ? NULL : col_object(q, c + 4);
	t->feature_flag = col_str(q, c + 5);
	t->group_name = col_str(q, c + 6);
	t->created_ms = col_i64(q, c + 7);
	t->updated_ms = col_i64(q, c + 8);
}

static void row_task(sqlite3_stmt *q, int c, void *out)
{
	struct task *t = out;
	col_id(q, c, t->id);
	const unsigned char *k = sqlite3_column_text(q, c + 1);
	snprintf(t->kind, sizeof t->kind, "%s", k != NULL ? (const char *)k : "");
	t->status = col_int(q, c + 2);
	col_id(q, c + 3, t->app_id);
	col_id(q, c + 4, t->endpoint_id);
	t->since_ms = col_i64(q, c + 5);
	t->until_ms = col_i64(q, c + 6);
	t->processed = col_i64(q, c + 7);
	t->created_ms = col_i64(q, c + 8);
	t->updated_ms = col_i64(q, c + 9);
}

static void row_delivery(sqlite3_stmt *q, int c, struct delivery *d)
{
	d->dkey = col_i64(q, c);
	col_id(q, c + 1, d->msg_id);
	col_id(q, c + 2, d->endpoint_id);
	col_id(q, c + 3, d->app_id);
	d->status = col_int(q, c + 4);
	d->attempts = col_int(q, c + 5);
	d->trigger = col_int(q, c + 6);
	d->next_ms = col_i64(q, c + 7);
}

static void dispose_app(void *p) { app_dispose(p); }
static void dispose_endpoint(void *p) { endpoint_dispose(p); }
static void dispose_message(void *p) { message_dispose(p); }
static void dispose_attempt(void *p) { attempt_dispose(p); }
static void dispose_event_type(void *p) { event_type_dispose(p); }
static void dispose_nothing(void *p) { (void)p; }

struct row_kind {
	size_t size;
	void (*read)(sqlite3_stmt *, int col, void *elem);
	void (*dispose)(void *elem);
};
static const struct row_kind app_rows = {sizeof(struct app), row_app, dispose_app};
static const struct row_kind endpoint_rows = {sizeof(struct endpoint), row_endpoint, dispose_endpoint};
static const struct row_kind message_rows = {sizeof(struct message), row_message, dispose_message};
static const struct row_kind attempt_rows = {sizeof(struct attempt), row_attempt, dispose_attempt};
static const struct row_kind task_rows = {sizeof(struct task), row_task, dispose_nothing};
static const struct row_kind event_type_rows = {sizeof(struct event_type), row_event_type, dispose_event_type};

/* Read every row of a bound statement into a malloc'd array (NULL if none), then reset the statement.
 * On error nothing is returned. */
static void *collect(sqlite3_stmt *q, const char *what, const struct row_kind *k, size_t *n, int *ret)
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
	*ret = rc == SQLITE_DONE ? STORE_OK : log_err(sqlite3_db_handle(q), what);
	stmt_done(q);
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

static int conn_open(const char *path, int flags, sqlite3 **out)
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

static sqlite3_stmt *prepare(sqlite3 *db, const struct stmt_def *def)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v3(db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK) {
		log_err(db, def->name);
		return NULL;
	}
	return q;
}

static void rconn_close(struct rconn *c)
{
	for (int i = 0; i < RS_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static struct rconn *rconn_open(const char *path)
{
	struct rconn *c = xcalloc(1, sizeof *c);
	if (conn_open(path, SQLITE_OPEN_READONLY, &c->db) != SQLITE_OK) {
		log_err(c->db, "open read connection");
		rconn_close(c);
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
		rconn_close(c);
}

/* A read in progress: a pooled connection and one of its statements. */
struct rq {
	struct sqlite_store *s;
	struct rconn *c;
	sqlite3_stmt *q;
	const char *what;
};

static sqlite3_stmt *rq_begin(struct rq *r, struct store *st, enum rstmt which)
{
	r->s = to_sq(st);
	r->c = rconn_get(r->s);
	r->q = NULL;
	r->what = rdefs[which].name;
	if (r->c != NULL && r->c->st[which] == NULL)
		r->c->st[which] = prepare(r->c->db, &rdefs[which]);
	if (r->c != NULL)
		r->q = r->c->st[which];
	return r->q;
}

/* Reset the statement (ending its read transaction, so checkpoints can proceed) and return the connection. */
static void rq_end(struct rq *r)
{
	if (r->q != NULL)
		stmt_done(r->q);
	rconn_put(r->s, r->c);
}

/* ---- the checkpointer ----
 * SQLite's automatic checkpoint runs inside COMMIT on the writer, which would stall every commit behind it.
 * Instead the writer's WAL hook wakes this thread, which checkpoints PASSIVE on its own connection while the
 * writer keeps committing. If the WAL still grows past WAL_HARD_PAGES (the checkpointer cannot catch up),
 * the writer checkpoints itself once between two transactions. */
static int exec_sql(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen);

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
	if (conn_open(s->path, SQLITE_OPEN_READWRITE, &db) != SQLITE_OK) {
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
			log_err(db, "checkpoint");
		if (rc == SQLITE_OK && nckpt >= nlog)
			__atomic_store_n(&s->ckpt_caught_up, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	sqlite3_close(db);
	return NULL;
}

static int ckpt_start(struct sqlite_store *s, char *err, size_t errlen)
{
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		return -1;
	}
	s->ckpt_running = true;
	/* the pragma is itself a WAL hook: set it first, or it would replace ours */
	if (exec_sql(s->db, "PRAGMA wal_autocheckpoint = 0", s->path, err, errlen) < 0)
		return -1;
	sqlite3_wal_hook(s->db, wal_hook, s);
	return 0;
}

static void ckpt_stop(struct sqlite_store *s)
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

/* ---- open, migrate, close ---- */

static void sq_close(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	if (s == NULL)
		return;
	ckpt_stop(s);
	while (s->pool != NULL) {
		struct rconn *c = s->pool;
		s->pool = c->next;
		rconn_close(c);
	}
	for (int i = 0; i < WS_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	/* the last connection to close checkpoints the WAL into the database */
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_err(s->db, "close");
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

static int exec_sql(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
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
	return exec_sql(db, "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY",
			path, err, errlen);
}

/* Apply the migrations the database lacks, all in one transaction (read the version inside it, too). */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	if (exec_sql(db, "BEGIN IMMEDIATE", path, err, errlen))
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
		ok = exec_sql(db, migrations[v], path, err, errlen) == 0 && exec_sql(db, sql, path, err, errlen) == 0;
	}
	if (ok && exec_sql(db, "COMMIT", path, err, errlen) == 0)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare_all(struct sqlite_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < WS_COUNT; i++) {
		s->st[i] = prepare(s->db, &wdefs[i]);
		if (s->st[i] == NULL) {
			snprintf(err, errlen, "database %s: cannot prepare %s: %s", s->path, wdefs[i].name,
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
	s->base = (struct store){&store_sqlite_backend, store_sqlite_backend.write, store_sqlite_backend.query};
	s->path = xstrdup(path);
	pthread_mutex_init(&s->pool_lock, NULL);
	int rc = conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->db);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	if (rc != SQLITE_OK || configure(s->db, path, err, errlen) || migrate(s->db, path, err, errlen) ||
	    prepare_all(s, err, errlen) || ckpt_start(s, err, errlen)) {
		sq_close(&s->base);
		return NULL;
	}
	return &s->base;
}

/* ---- transactions (committer thread) ---- */

static void sq_batch_rollback(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	/* some errors (disk full, I/O) already rolled the transaction back */
	if (!sqlite3_get_autocommit(s->db))
		run(s->st[WS_ROLLBACK], "rollback");
}

static int sq_batch_begin(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	if (!sqlite3_get_autocommit(s->db)) {
		log_warnx("sqlite: a transaction was left open; rolling it back");
		sq_batch_rollback(st);
	}
	return run(s->st[WS_BEGIN], "begin");
}

static int sq_batch_commit(struct store *st)
{
	int rc = run(to_sq(st)->st[WS_COMMIT], "commit");
	if (rc != STORE_OK)
		sq_batch_rollback(st); /* never leave the connection inside a half-failed transaction */
	return rc;
}

static int sq_job_begin(struct store *st) { return run(to_sq(st)->st[WS_SAVEPOINT], "savepoint"); }

static void sq_job_end(struct store *st, bool ok)
{
	struct sqlite_store *s = to_sq(st);
	if (!ok)
		run(s->st[WS_ROLLBACK_TO], "rollback to");
	run(s->st[WS_RELEASE], "release");
}

/* ---- writes (committer thread) ---- */

static int sq_app_put(struct store *st, const struct app *a)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_APP_PUT];
	int rc = bind_str(q, 1, a->id) | bind_str(q, 2, a->uid) | bind_str(q, 3, a->name) |
		 bind_json(q, 4, a->metadata) | sqlite3_bind_int64(q, 5, a->throttle_rate) |
		 sqlite3_bind_int64(q, 6, a->created_ms) | sqlite3_bind_int64(q, 7, a->updated_ms);
	return rc ? bind_failed(q, "app_put") : run(q, "app_put");
}

static int sq_app_delete(struct store *st, const char *app_id)
{
	struct sqlite_store *s = to_sq(st);
	static const enum wstmt order[] = {WS_APP_DEL_ATTEMPTS, WS_APP_DEL_DELIVERIES, WS_APP_DEL_MESSAGES,
					   WS_APP_DEL_ENDPOINTS, WS_APP_DEL};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		sqlite3_stmt *q = s->st[order[i]];
		int rc = bind_str(q, 1, app_id) ? bind_failed(q, "app_delete") : run(q, "app_delete");
		if (rc != STORE_OK)
			return rc;
	}
	return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

static int sq_endpoint_put(struct store *st, const struct endpoint *e)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_PUT];
	int rc = bind_str(q, 1, e->id) | bind_str(q, 2, e->app_id) | bind_str(q, 3, e->uid) | bind_str(q, 4, e->url) |
		 bind_str(q, 5, e->description) | sqlite3_bind_int(q, 6, e->disabled) |
		 bind_strlist(q, 7, &e->event_types) | bind_strlist(q, 8, &e->channels) | bind_str(q, 9, e->secret) |
		 bind_json(q, 10, e->metadata) | bind_json(q, 11, e->headers) |
		 sqlite3_bind_int64(q, 12, e->throttle_rate) | sqlite3_bind_int64(q, 13, e->created_ms) |
		 sqlite3_bind_int64(q, 14, e->updated_ms) | bind_str(q, 15, e->scheme) |
		 (e->scheme_options ? bind_json(q, 16, e->scheme_options) : sqlite3_bind_null(q, 16)) |
		 (e->old_secrets ? bind_json(q, 17, e->old_secrets) : sqlite3_bind_null(q, 17)) |
		 sqlite3_bind_int(q, 18, e->fifo) | bind_retry(q, 19, e);
	return rc ? bind_failed(q, "endpoint_put") : run(q, "endpoint_put");
}

static int sq_endpoint_cancel_pending(struct store *st, const char *endpoint_id)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_CANCEL];
	int rc = bind_str(q, 1, endpoint_id) | sqlite3_bind_int64(q, 2, now_ms());
	return rc ? bind_failed(q, "endpoint_cancel") : run(q, "endpoint_cancel");
}

static int sq_endpoint_delete(struct store *st, const char *endpoint_id)
{
	struct sqlite_store *s = to_sq(st);
	int rc = sq_endpoint_cancel_pending(st, endpoint_id); /* first: it finds the app through the endpoint row */
	if (rc != STORE_OK)
		return rc;
	sqlite3_stmt *q = s->st[WS_EP_DEL];
	rc = bind_str(q, 1, endpoint_id) ? bind_failed(q, "endpoint_delete") : run(q, "endpoint_delete");
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

static int sq_msg_find_event_id(struct store *st, const char *app_id, const char *event_id, char msg_id[ID_MAX])
{
	if (event_id == NULL)
		return STORE_NOTFOUND;
	sqlite3_stmt *q = to_sq(st)->st[WS_MSG_FIND_EVENT];
	if (bind_str(q, 1, app_id) | bind_str(q, 2, event_id))
		return bind_failed(q, "msg_find_event_id");
	int rc = step_row(q, "msg_find_event_id");
	if (rc == STORE_OK)
		col_id(q, 0, msg_id);
	stmt_done(q);
	return rc;
}

static int message_insert(struct sqlite_store *s, const struct message *m)
{
	sqlite3_stmt *q = s->st[WS_MSG_INSERT];
	int rc = bind_str(q, 1, m->id) | bind_str(q, 2, m->app_id) | bind_str(q, 3, m->event_type) |
		 bind_str(q, 4, m->event_id) | bind_strlist(q, 5, &m->channels) | bind_strlist(q, 6, &m->tags) |
		 bind_bytes(q, 7, m->payload, m->payload_len) | sqlite3_bind_int64(q, 8, m->created_ms) |
		 sqlite3_bind_int64(q, 9, m->deliver_at_ms) | bind_str(q, 10, m->content_type) |
		 bind_str(q, 11, m->extra_headers) |
		 (m->retention_ms > 0 ? sqlite3_bind_int64(q, 12, m->created_ms + m->retention_ms)
				      : sqlite3_bind_null(q, 12));
	return rc ? bind_failed(q, "msg_insert") : run(q, "msg_insert");
}

static int delivery_insert(struct sqlite_store *s, const char *app_id, const char *msg_id, const char *endpoint_id,
			   int trigger, int64_t due_ms, int64_t now_ms, int64_t *dkey)
{
	sqlite3_stmt *q = s->st[WS_DLV_INSERT];
	int rc = bind_str(q, 1, msg_id) | bind_str(q, 2, app_id) | bind_str(q, 3, endpoint_id) |
		 sqlite3_bind_int64(q, 4, due_ms) | sqlite3_bind_int64(q, 5, now_ms) | sqlite3_bind_int(q, 6, trigger);
	rc = rc ? bind_failed(q, "delivery_insert") : run(q, "delivery_insert");
	if (rc == STORE_OK && dkey != NULL)
		*dkey = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int sq_delivery_add(struct store *st, const char *app_id, const char *msg_id, const char *endpoint_id,
			   int trigger, int64_t due_ms, int64_t *dkey)
{
	return delivery_insert(to_sq(st), app_id, msg_id, endpoint_id, trigger, due_ms, now_ms(), dkey);
}

static int sq_endpoint_set_disabled(struct store *st, const char *endpoint_id, bool disabled, int64_t updated_ms)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_EP_DISABLE];
	int rc = bind_str(q, 1, endpoint_id) | sqlite3_bind_int(q, 2, disabled) | sqlite3_bind_int64(q, 3, updated_ms);
	rc = rc ? bind_failed(q, "endpoint_set_disabled") : run(q, "endpoint_set_disabled");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

static int sq_endpoint_set_failing(struct store *st, const char *endpoint_id, int64_t since_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_FAILING];
	int rc = bind_str(q, 1, endpoint_id) | sqlite3_bind_int64(q, 2, since_ms);
	return rc ? bind_failed(q, "endpoint_set_failing") : run(q, "endpoint_set_failing");
}

static int sq_msg_expunge(struct store *st, const char *app_id, const char *msg_id)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_MSG_EXPUNGE];
	int rc = bind_str(q, 1, app_id) | bind_str(q, 2, msg_id);
	rc = rc ? bind_failed(q, "msg_expunge") : run(q, "msg_expunge");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* A failure part-way leaves rows behind: the caller's job_end(false) rolls the job back. */
static int sq_msg_insert(struct store *st, const struct message *m, const char *const *endpoint_ids, size_t n,
			 int64_t due_ms, int64_t *dkeys)
{
	struct sqlite_store *s = to_sq(st);
	int rc = message_insert(s, m);
	for (size_t i = 0; rc == STORE_OK && i < n; i++)
		rc = delivery_insert(s, m->app_id, m->id, endpoint_ids[i], TRIGGER_SCHEDULED, due_ms, m->created_ms,
				     dkeys != NULL ? &dkeys[i] : NULL);
	return rc;
}

static int attempt_insert(struct sqlite_store *s, const struct attempt *a)
{
	sqlite3_stmt *q = s->st[WS_ATT_INSERT];
	int rc = bind_str(q, 1, a->id) | bind_str(q, 2, a->msg_id) | bind_str(q, 3, a->endpoint_id) |
		 bind_str(q, 4, a->app_id) | bind_str(q, 5, a->url) | sqlite3_bind_int(q, 6, a->status_code) |
		 sqlite3_bind_int64(q, 7, a->duration_ms) | bind_bytes(q, 8, a->response, a->response_len) |
		 sqlite3_bind_int(q, 9, a->status) | sqlite3_bind_int(q, 10, a->trigger) |
		 sqlite3_bind_int64(q, 11, a->created_ms);
	return rc ? bind_failed(q, "attempt_insert") : run(q, "attempt_insert");
}

/* The delivery first: if it is gone (its app was deleted meanwhile), no orphan attempt row is written. */
static int outcome_record(struct sqlite_store *s, const struct outcome *o, int64_t now)
{
	sqlite3_stmt *q = s->st[WS_DLV_UPDATE];
	int rc = sqlite3_bind_int64(q, 1, o->dkey) | sqlite3_bind_int(q, 2, o->new_status) |
		 sqlite3_bind_int(q, 3, o->attempts) | sqlite3_bind_int64(q, 4, o->next_ms) |
		 sqlite3_bind_int64(q, 5, now);
	rc = rc ? bind_failed(q, "outcomes_record") : run(q, "outcomes_record");
	if (rc != STORE_OK || sqlite3_changes(s->db) == 0 || o->attempt.id[0] == '\0')
		return rc;
	return attempt_insert(s, &o->attempt);
}

static int sq_outcomes_record(struct store *st, const struct outcome *o, size_t n)
{
	int64_t now = now_ms();
	int rc = STORE_OK;
	for (size_t i = 0; rc == STORE_OK && i < n; i++)
		rc = outcome_record(to_sq(st), &o[i], now);
	return rc;
}

static int sq_idem_get(struct store *st, const char *key, int64_t min_created_ms, int *status, char **body)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_GET];
	if (bind_str(q, 1, key) | sqlite3_bind_int64(q, 2, min_created_ms))
		return bind_failed(q, "idem_get");
	int rc = step_row(q, "idem_get");
	if (rc == STORE_OK) {
		*status = col_int(q, 0);
		*body = col_str0(q, 1);
	}
	stmt_done(q);
	return rc;
}

static int sq_idem_put(struct store *st, const char *key, int status, const char *body, int64_t created_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_PUT];
	int rc = bind_str(q, 1, key) | sqlite3_bind_int(q, 2, status) | bind_str(q, 3, body) |
		 sqlite3_bind_int64(q, 4, created_ms);
	return rc ? bind_failed(q, "idem_put") : run(q, "idem_put");
}

static int sq_idem_purge(struct store *st, int64_t before_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_PURGE];
	return sqlite3_bind_int64(q, 1, before_ms) ? bind_failed(q, "idem_purge") : run(q, "idem_purge");
}

/* One purge statement: ?1 the time bound, ?2 the limit; *more if it hit the limit. */
static int purge_one(struct sqlite_store *s, enum wstmt which, int64_t bound, int limit, bool *more)
{
	sqlite3_stmt *q = s->st[which];
	int rc = sqlite3_bind_int64(q, 1, bound) | sqlite3_bind_int(q, 2, limit);
	rc = rc ? bind_failed(q, "retention_purge") : run(q, "retention_purge");
	if (rc == STORE_OK && sqlite3_changes(s->db) >= limit)
		*more = true;
	return rc;
}

static int sq_retention_purge(struct store *st, int64_t now, int64_t retention_ms, int limit, bool *more)
{
	struct sqlite_store *s = to_sq(st);
	*more = false;
	int rc = purge_one(s, WS_PURGE_MSG, now - retention_ms, limit, more);
	if (rc == STORE_OK)
		rc = purge_one(s, WS_PURGE_MSG_OWN, now, limit, more);
	if (rc == STORE_OK)
		rc = purge_one(s, WS_PURGE_ATT, now - retention_ms, limit, more);
	return rc;
}

static int sq_task_put(struct store *st, const struct task *t)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TASK_PUT];
	int rc = bind_str(q, 1, t->id) | bind_str(q, 2, t->kind) | sqlite3_bind_int(q, 3, t->status) |
		 bind_str(q, 4, t->app_id) | bind_str(q, 5, t->endpoint_id) | sqlite3_bind_int64(q, 6, t->since_ms) |
		 sqlite3_bind_int64(q, 7, t->until_ms) | sqlite3_bind_int64(q, 8, t->processed) |
		 sqlite3_bind_int64(q, 9, t->created_ms) | sqlite3_bind_int64(q, 10, t->updated_ms);
	return rc ? bind_failed(q, "task_put") : run(q, "task_put");
}

/* A delivery key and its message, as the task scans return them. */
struct keyed_msg {
	int64_t dkey;
	struct message m;
};

static void keyed_msgs_free(struct keyed_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		message_dispose(&v[i].m);
	free(v);
}

/* Rows of messages (after a delivery key in column 0 when keyed) until limit rows, or until the payloads read
 * reach max_bytes: a batch of large payloads must not pin hundreds of MB. *more: it stopped for either, so rows
 * may remain. Resets the statement; on error returns nothing. */
static struct keyed_msg *collect_msgs(sqlite3_stmt *q, const char *what, bool keyed, int limit, size_t max_bytes,
				      size_t *n, bool *more, int *rc)
{
	struct keyed_msg *v = xcalloc((size_t)limit + 1, sizeof *v);
	size_t bytes = 0;
	int step = SQLITE_DONE;
	*n = 0;
	while (*n < (size_t)limit && bytes < max_bytes && (step = sqlite3_step(q)) == SQLITE_ROW) {
		struct keyed_msg *k = &v[(*n)++];
		k->dkey = keyed ? col_i64(q, 0) : 0;
		row_message(q, keyed ? 1 : 0, &k->m);
		bytes += k->m.payload_len;
	}
	*more = *n == (size_t)limit || bytes >= max_bytes;
	*rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK : log_err(sqlite3_db_handle(q), what);
	stmt_done(q);
	if (*rc != STORE_OK) {
		keyed_msgs_free(v, *n);
		v = NULL;
		*n = 0;
	}
	return v;
}

/* Scan first, then update: the scan's rows are read in full before any of them changes. */
static int recover_set(struct sqlite_store *s, struct keyed_msg *v, size_t n, int64_t now)
{
	sqlite3_stmt *q = s->st[WS_RECOVER_SET];
	int rc = STORE_OK;
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		rc = sqlite3_bind_int64(q, 1, v[i].dkey) | sqlite3_bind_int64(q, 2, now);
		rc = rc ? bind_failed(q, "recover_batch") : run(q, "recover_batch");
	}
	return rc;
}

static int sq_recover_batch(struct store *st, const struct task *t, int64_t *after, int limit, size_t max_bytes,
			    int64_t now, struct message **msgs, int64_t **dkeys, size_t *n, bool *more)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_RECOVER_SCAN];
	int rc = bind_str(q, 1, t->app_id) | bind_str(q, 2, t->endpoint_id) | sqlite3_bind_int64(q, 3, *after) |
		 sqlite3_bind_int64(q, 4, t->since_ms) | sqlite3_bind_int64(q, 5, t->until_ms) |
		 sqlite3_bind_int(q, 6, limit);
	*msgs = NULL;
	*dkeys = NULL;
	*n = 0;
	if (rc)
		return bind_failed(q, "recover_batch");
	struct keyed_msg *v = collect_msgs(q, "recover_batch", true, limit, max_bytes, n, more, &rc);
	if (rc == STORE_OK)
		rc = recover_set(s, v, *n, now);
	if (rc != STORE_OK || *n == 0) {
		keyed_msgs_free(v, *n);
		*n = 0;
		return rc;
	}
	*msgs = xcalloc(*n, sizeof **msgs);
	*dkeys = xcalloc(*n, sizeof **dkeys);
	for (size_t i = 0; i < *n; i++) {
		(*dkeys)[i] = v[i].dkey;
		(*msgs)[i] = v[i].m;
	}
	*after = v[*n - 1].dkey;
	free(v);
	return rc;
}

static int sq_replay_scan(struct store *st, const struct task *t, const char *after_id, const char *before_id,
			  int limit, size_t max_bytes, struct message **out, size_t *n, bool *more)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_REPLAY_SCAN];
	int rc = bind_str(q, 1, t->app_id) | bind_str(q, 2, after_id) | bind_str(q, 3, before_id) |
		 sqlite3_bind_int64(q, 4, t->since_ms) | sqlite3_bind_int64(q, 5, t->until_ms) |
		 bind_str(q, 6, t->endpoint_id) | sqlite3_bind_int(q, 7, limit);
	*out = NULL;
	*n = 0;
	if (rc)
		return bind_failed(q, "replay_scan");
	struct keyed_msg *v = collect_msgs(q, "replay_scan", false, limit, max_bytes, n, more, &rc);
	if (*n > 0) {
		*out = xcalloc(*n, sizeof **out);
		for (size_t i = 0; i < *n; i++)
			(*out)[i] = v[i].m;
	}
	free(v);
	return rc;
}

static int event_type_write(struct sqlite_store *s, enum wstmt which, const struct event_type *t)
{
	sqlite3_stmt *q = s->st[which];
	int rc = bind_str(q, 1, t->name) | bind_str(q, 2, t->description) | sqlite3_bind_int(q, 3, t->archived) |
		 sqlite3_bind_int(q, 4, t->deprecated) |
		 (t->schemas ? bind_json(q, 5, t->schemas) : sqlite3_bind_null(q, 5)) |
		 bind_str(q, 6, t->feature_flag) | bind_str(q, 7, t->group_name) |
		 sqlite3_bind_int64(q, 8, t->created_ms) | sqlite3_bind_int64(q, 9, t->updated_ms);
	return rc ? bind_failed(q, wdefs[which].name) : run(q, wdefs[which].name);
}

static int sq_event_type_put(struct store *st, const struct event_type *t)
{
	return event_type_write(to_sq(st), WS_EVT_PUT, t);
}

static int sq_event_type_create(struct store *st, const struct event_type *t)
{
	struct sqlite_store *s = to_sq(st);
	int rc = event_type_write(s, WS_EVT_CREATE, t);
	return rc == STORE_OK && sqlite3_changes(s->db) == 0 ? STORE_CONFLICT : rc;
}

static int sq_event_type_delete(struct store *st, const char *name)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_EVT_DEL];
	int rc = bind_str(q, 1, name) ? bind_failed(q, "event_type_delete") : run(q, "event_type_delete");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* ---- start-up (write connection; no other thread runs yet) ---- */

static int sq_tasks_fail_running(struct store *st, int64_t now)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TASKS_FAIL];
	return sqlite3_bind_int64(q, 1, now) ? bind_failed(q, "tasks_fail_running") : run(q, "tasks_fail_running");
}

static int sq_event_types_load(struct store *st, struct event_type **out, size_t *n)
{
	int rc;
	*out = collect(to_sq(st)->st[WS_EVTS_LOAD], "event_types_load", &event_type_rows, n, &rc);
	return rc;
}

static int sq_apps_load(struct store *st, struct app **out, size_t *n)
{
	int rc;
	*out = collect(to_sq(st)->st[WS_APPS_LOAD], "apps_load", &app_rows, n, &rc);
	return rc;
}

static int sq_endpoints_load(struct store *st, struct endpoint **out, size_t *n)
{
	int rc;
	*out = collect(to_sq(st)->st[WS_EPS_LOAD], "endpoints_load", &endpoint_rows, n, &rc);
	return rc;
}

static int sq_deliveries_reset_sending(struct store *st)
{
	return run(to_sq(st)->st[WS_DLV_RESET], "deliveries_reset_sending");
}

static int sq_deliveries_scan_pending(struct store *st, void (*cb)(void *arg, int64_t dkey, int64_t next_ms),
				      void *arg)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_DLV_SCAN];
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		cb(arg, col_i64(q, 0), col_i64(q, 1));
	int ret = rc == SQLITE_DONE ? STORE_OK : log_err(sqlite3_db_handle(q), "deliveries_scan_pending");
	stmt_done(q);
	return ret;
}

/* ---- reads (any thread) ---- */

static int sq_delivery_load(struct store *st, int64_t dkey, struct delivery *d, struct message *m)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_DLV_LOAD);
	int rc = STORE_ERR;
	if (q != NULL && sqlite3_bind_int64(q, 1, dkey) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK) {
		row_delivery(q, 0, d);
		if (m != NULL)
			row_message(q, 8, m);
	}
	rq_end(&r);
	return rc;
}

static int sq_msg_get(struct store *st, const char *app_id, const char *id_or_event_id, struct message *out)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_MSG_GET);
	int rc = STORE_ERR;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_str(q, 2, id_or_event_id)) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK)
		row_message(q, 0, out);
	rq_end(&r);
	return rc;
}

static int sq_attempt_get(struct store *st, const char *app_id, const char *msg_id, const char *attempt_id,
			  struct attempt *out)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_ATT_GET);
	int rc = STORE_ERR;
	if (q != NULL && (bind_str(q, 1, attempt_id) | bind_str(q, 2, app_id) | bind_str(q, 3, msg_id)) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK)
		row_attempt(q, 0, out);
	rq_end(&r);
	return rc;
}

/* A NULL page lists everything, newest first. */
static const struct page *page_or_all(const struct page *pg)
{
	static const struct page all = {.limit = -1, .ascending = false};
	return pg != NULL ? pg : &all;
}

static int sq_msg_list(struct store *st, const char *app_id, const struct page *pg, struct message **out,
		       size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, pg->ascending ? RS_MSG_LIST : RS_MSG_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_page(q, pg)) == SQLITE_OK)
		*out = collect(q, r.what, &message_rows, n, &rc);
	rq_end(&r);
	return rc;
}

static int sq_attempt_list(struct store *st, const char *app_id, const char *endpoint_id, const char *msg_id,
			   const struct page *pg, struct attempt **out, size_t *n)
{
	pg = page_or_all(pg);
	enum rstmt which = msg_id != NULL ? RS_ATT_LIST_MSG : endpoint_id != NULL ? RS_ATT_LIST_EP : RS_ATT_LIST_APP;
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, which + !pg->ascending);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_page(q, pg) | bind_opt(q, 5, endpoint_id) |
			  bind_opt(q, 6, msg_id)) == SQLITE_OK)
		*out = collect(q, r.what, &attempt_rows, n, &rc);
	rq_end(&r);
	return rc;
}

static int sq_delivery_counts(struct store *st, const char *app_id, const char *endpoint_id, int64_t counts[5])
{
	memset(counts, 0, 5 * sizeof counts[0]);
	enum rstmt which = endpoint_id != NULL ? RS_COUNTS_EP : app_id != NULL ? RS_COUNTS_APP : RS_COUNTS_ALL;
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, which);
	int rc = STORE_ERR;
	if (q != NULL && (bind_opt(q, 1, which != RS_COUNTS_ALL ? app_id : NULL) | bind_opt(q, 2, endpoint_id)) ==
				 SQLITE_OK) {
		int step;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			int status = col_int(q, 0);
			if (status >= 0 && status < 5)
				counts[status] += col_i64(q, 1);
		}
		rc = step == SQLITE_DONE ? STORE_OK : log_err(r.c->db, r.what);
	}
	rq_end(&r);
	return rc;
}

static int sq_task_get(struct store *st, const char *id, struct task *out)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_TASK_GET);
	int rc = STORE_ERR;
	if (q != NULL && bind_str(q, 1, id) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK)
		row_task(q, 0, out);
	rq_end(&r);
	return rc;
}

static int sq_task_list(struct store *st, const struct page *pg, int status, const char *kind, struct task **out,
			size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, pg->ascending ? RS_TASK_LIST : RS_TASK_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_page(q, pg) | (status >= 0 ? sqlite3_bind_int(q, 5, status) : SQLITE_OK) |
			  bind_opt(q, 6, kind)) == SQLITE_OK)
		*out = collect(q, r.what, &task_rows, n, &rc);
	rq_end(&r);
	return rc;
}

static int sq_msg_deliveries(struct store *st, const char *app_id, const char *msg_id, struct delivery **out,
			     size_t *n)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_MSG_DLVS);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_str(q, 2, msg_id)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof **out);
			}
			row_delivery(q, 0, &(*out)[(*n)++]);
		}
		rc = step == SQLITE_DONE ? STORE_OK : log_err(r.c->db, r.what);
	}
	rq_end(&r);
	return rc;
}

static int sq_endpoint_msgs(struct store *st, const char *app_id, const char *endpoint_id, const struct page *pg,
			    struct endpoint_msg **out, size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, pg->ascending ? RS_EP_MSGS : RS_EP_MSGS_DESC);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_page(q, pg) | bind_str(q, 5, endpoint_id)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof **out);
			}
			struct endpoint_msg *em = &(*out)[(*n)++];
			memset(em, 0, sizeof *em);
			row_delivery(q, 0, &em->d);
			row_message(q, 8, &em->m);
		}
		rc = step == SQLITE_DONE ? STORE_OK : log_err(r.c->db, r.what);
	}
	rq_end(&r);
	return rc;
}

static int sq_attempt_figures(struct store *st, const char *app_id, const char *endpoint_id, int64_t since_ms,
			      void (*cb)(void *arg, const struct attempt_fig *f), void *arg)
{
	char floor[ID_MAX];
	id_floor("atmpt_", since_ms, floor);
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_ATT_FIGURES);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	if (q != NULL && (bind_str(q, 1, app_id) | bind_str(q, 2, endpoint_id) | bind_str(q, 3, floor)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			struct attempt_fig f = {col_i64(q, 0), col_i64(q, 1), col_int(q, 2), col_int(q, 3)};
			cb(arg, &f);
		}
		rc = step == SQLITE_DONE ? STORE_OK : log_err(r.c->db, r.what);
	}
	rq_end(&r);
	return rc;
}

static int sq_delivery_oldest_pending(struct store *st, const char *endpoint_id, int64_t *dkey)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_OLDEST_PENDING);
	int rc = STORE_ERR;
	if (q != NULL && bind_str(q, 1, endpoint_id) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK && sqlite3_column_type(q, 0) == SQLITE_NULL)
		rc = STORE_NOTFOUND;
	else if (rc == STORE_OK)
		*dkey = sqlite3_column_int64(q, 0);
	rq_end(&r);
	return rc;
}

/* ---- inbound ---- */

static int sq_source_put(struct store *st, const char *id, const char *uid, const char *config)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_SRC_PUT];
	int rc = bind_str(q, 1, id) | bind_str(q, 2, uid) | bind_str(q, 3, config);
	return rc ? bind_failed(q, "source_put") : run(q, "source_put");
}

static int sq_source_delete(struct store *st, const char *id)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_SRC_DEL];
	int rc = bind_str(q, 1, id) ? bind_failed(q, "source_delete") : run(q, "source_delete");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		return STORE_NOTFOUND;
	q = s->st[WS_SRC_DEL_REQS];
	return rc != STORE_OK ? rc : bind_str(q, 1, id) ? bind_failed(q, "source_delete") : run(q, "source_delete");
}

static int sq_sources_load(struct store *st, char ***out, size_t *n)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_SRCS_LOAD];
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = col_str0(q, 0);
	}
	rc = rc == SQLITE_DONE ? STORE_OK : log_err(sqlite3_db_handle(q), "sources_load");
	stmt_done(q);
	return rc;
}

static int sq_inreq_insert(struct store *st, const struct inreq *r)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_INR_INSERT];
	int rc = bind_str(q, 1, r->id) | bind_str(q, 2, r->source_id) | bind_str(q, 3, r->dedup_key) |
		 bind_str(q, 4, r->method) | bind_str(q, 5, r->headers) | bind_bytes(q, 6, r->body, r->body_len) |
		 sqlite3_bind_int64(q, 7, r->received_ms) | sqlite3_bind_int(q, 8, r->verify_rc) |
		 sqlite3_bind_int(q, 9, r->duplicate) | bind_str(q, 10, r->msg_id[0] ? r->msg_id : NULL);
	return rc ? bind_failed(q, "inreq_insert") : run(q, "inreq_insert");
}

static int sq_inreq_seen(struct store *st, const char *source_id, const char *dedup_key, int64_t since_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_INR_SEEN];
	if (bind_str(q, 1, source_id) | bind_str(q, 2, dedup_key) | sqlite3_bind_int64(q, 3, since_ms))
		return bind_failed(q, "inreq_seen");
	int rc = step_row(q, "inreq_seen");
	stmt_done(q);
	return rc;
}

static void row_inreq(sqlite3_stmt *q, int c, void *out)
{
	struct inreq *r = out;
	col_id(q, c, r->id);
	col_id(q, c + 1, r->source_id);
	r->dedup_key = col_str(q, c + 2);
	r->method = col_str(q, c + 3);
	r->headers = col_str(q, c + 4);
	size_t len;
	r->body = col_bytes(q, c + 5, &len); /* NULL in lists */
	r->body_len = (size_t)col_i64(q, c + 6);
	r->received_ms = col_i64(q, c + 7);
	r->verify_rc = col_int(q, c + 8);
	r->duplicate = col_int(q, c + 9) != 0;
	if (sqlite3_column_type(q, c + 10) != SQLITE_NULL)
		col_id(q, c + 10, r->msg_id);
	for (int i = 0; i < 3; i++)
		r->fwd[i] = col_i64(q, c + 11 + i);
}

static void dispose_inreq(void *p) { inreq_dispose(p); }
static const struct row_kind inreq_rows = {sizeof(struct inreq), row_inreq, dispose_inreq};

static int sq_inreq_list(struct store *st, const char *source_id, const struct page *pg, struct inreq **out,
			 size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, pg->ascending ? RS_INR_LIST : RS_INR_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (bind_str(q, 1, source_id) | bind_page(q, pg)) == SQLITE_OK)
		*out = collect(q, r.what, &inreq_rows, n, &rc);
	rq_end(&r);
	return rc;
}

static int sq_inreq_get(struct store *st, const char *source_id, const char *id, struct inreq *out)
{
	struct rq r;
	sqlite3_stmt *q = rq_begin(&r, st, RS_INR_GET);
	int rc = STORE_ERR;
	if (q != NULL && (bind_str(q, 1, source_id) | bind_str(q, 2, id)) == SQLITE_OK)
		rc = step_row(q, r.what);
	if (rc == STORE_OK)
		row_inreq(q, 0, out);
	rq_end(&r);
	return rc;
}

static int sq_inreq_purge(struct store *st, int64_t before_ms, int limit, bool *more)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_INR_PURGE];
	char bound[ID_MAX];
	id_new_at("inr_", before_ms, bound);
	int rc = bind_str(q, 1, bound) | sqlite3_bind_int(q, 2, limit);
	rc = rc ? bind_failed(q, "inreq_purge") : run(q, "inreq_purge");
	*more = rc == STORE_OK && sqlite3_changes(s->db) >= limit;
	return rc;
}

static const struct store_write_ops sq_write_ops = {
	.batch_begin = sq_batch_begin,
	.batch_commit = sq_batch_commit,
	.batch_rollback = sq_batch_rollback,
	.job_begin = sq_job_begin,
	.job_end = sq_job_end,
	.app_put = sq_app_put,
	.app_delete = sq_app_delete,
	.endpoint_put = sq_endpoint_put,
	.endpoint_delete = sq_endpoint_delete,
	.endpoint_set_disabled = sq_endpoint_set_disabled,
	.endpoint_set_failing = sq_endpoint_set_failing,
	.endpoint_cancel_pending = sq_endpoint_cancel_pending,
	.msg_find_event_id = sq_msg_find_event_id,
	.msg_insert = sq_msg_insert,
	.delivery_add = sq_delivery_add,
	.msg_expunge = sq_msg_expunge,
	.outcomes_record = sq_outcomes_record,
	.idem_get = sq_idem_get,
	.idem_put = sq_idem_put,
	.idem_purge = sq_idem_purge,
	.retention_purge = sq_retention_purge,
	.task_put = sq_task_put,
	.recover_batch = sq_recover_batch,
	.replay_scan = sq_replay_scan,
	.event_type_put = sq_event_type_put,
	.event_type_create = sq_event_type_create,
	.event_type_delete = sq_event_type_delete,
	.source_put = sq_source_put,
	.source_delete = sq_source_delete,
	.inreq_insert = sq_inreq_insert,
	.inreq_seen = sq_inreq_seen,
	.inreq_purge = sq_inreq_purge,
	.apps_load = sq_apps_load,
	.endpoints_load = sq_endpoints_load,
	.event_types_load = sq_event_types_load,
	.sources_load = sq_sources_load,
	.tasks_fail_running = sq_tasks_fail_running,
	.deliveries_reset_sending = sq_deliveries_reset_sending,
	.deliveries_scan_pending = sq_deliveries_scan_pending,
};

static const struct store_query_ops sq_query_ops = {
	.delivery_load = sq_delivery_load,
	.msg_get = sq_msg_get,
	.msg_list = sq_msg_list,
	.attempt_list = sq_attempt_list,
	.attempt_get = sq_attempt_get,
	.endpoint_msgs = sq_endpoint_msgs,
	.attempt_figures = sq_attempt_figures,
	.delivery_oldest_pending = sq_delivery_oldest_pending,
	.msg_deliveries = sq_msg_deliveries,
	.task_get = sq_task_get,
	.task_list = sq_task_list,
	.delivery_counts = sq_delivery_counts,
	.inreq_list = sq_inreq_list,
	.inreq_get = sq_inreq_get,
};

const struct store_backend store_sqlite_backend = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.write = &sq_write_ops,
	.query = &sq_query_ops,
};
