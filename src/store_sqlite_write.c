/* store_sqlite_write.c: the SQLite backend's write path: batches and jobs, writes, the start-up group.
 * Everything here runs on the write connection: the committer thread, or the main thread before it starts. */
#include "store_sqlite_int.h"
#include "log.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upserts, not INSERT OR REPLACE: REPLACE would delete another row holding the uid instead of failing. */
const struct stmt_def sq_wdefs[WS_COUNT] = {
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
	/* a sink's consumer cursors go with it */
	[WS_APP_DEL_POLL] = {"app_delete", "DELETE FROM poll_consumers WHERE sink_id IN"
					   " (SELECT id FROM endpoints WHERE app_id = ?1)"},
	[WS_EP_DEL_POLL] = {"endpoint_delete", "DELETE FROM poll_consumers WHERE sink_id = ?1"},
	[WS_EP_PUT] = {"endpoint_put",
		       "INSERT INTO endpoints (" EP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		       " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) ON CONFLICT (id) DO UPDATE SET " SET("app_id") ", " SET("uid") ", "
		       SET("url") ", " SET("description") ", " SET("disabled") ", " SET("event_types") ", "
		       SET("channels") ", " SET("secret") ", " SET("metadata") ", " SET("headers") ", "
		       SET("throttle_rate") ", " SET("created_ms") ", " SET("updated_ms") ", " SET("scheme") ", "
		       SET("scheme_options") ", " SET("old_secrets") ", " SET("fifo") ", " SET("retry_schedule") ", "
		       SET("payload_filter") ", " SET("transformation") ", " SET("transformation_enabled") ", "
		       SET("api_version")},
	/* app_id from the endpoint row so the (app_id, endpoint_id, status) index applies */
	[WS_EP_CANCEL] = {"endpoint_cancel",
			  "UPDATE deliveries SET status = 4, updated_ms = ?2"
			  " WHERE app_id = (SELECT app_id FROM endpoints WHERE id = ?1) AND endpoint_id = ?1"
			  " AND status IN (1, 3)"},
	[WS_EP_DEL] = {"endpoint_delete", "DELETE FROM endpoints WHERE id = ?1"},
	/* the eventId's unique (partial) index decides: a taken one inserts nothing, and the message holding it is
	 * read back for the report. (A taken message id still fails the statement: STORE_CONFLICT too.) */
	[WS_MSG_INSERT] = {"msg_insert", "INSERT INTO messages (" MSG_COLS("") ", expires_ms)"
					  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
					  " ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING"},
	[WS_MSG_FIND_EVENT] = {"msg_insert", "SELECT id FROM messages WHERE app_id = ?1 AND event_id = ?2"},
	[WS_DLV_INSERT] = {"delivery_insert",
			   "INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, attempts, trigger_type,"
			   " next_ms, updated_ms) VALUES (?1, ?2, ?3, 1, 0, ?6, ?4, ?5)"},
	[WS_EP_FAILING] = {"endpoint_set_failing", "UPDATE endpoints SET failing_since = ?2 WHERE id = ?1"},
	[WS_EP_DISABLE] = {"endpoint_set_disabled", "UPDATE endpoints SET disabled = ?2, updated_ms = ?3 WHERE id = ?1"},
	[WS_MSG_EXPUNGE] = {"msg_expunge", "UPDATE messages SET payload = NULL WHERE app_id = ?1 AND id = ?2"},
	[WS_ATT_EXPUNGE] = {"attempt_expunge",
			    "UPDATE attempts SET response = NULL, request_body = NULL WHERE app_id = ?1 AND msg_id = ?2 AND id = ?3"},
	/* a retry must not revive a delivery canceled while its attempt was in flight */
	[WS_DLV_UPDATE] = {"outcomes_record",
			   "UPDATE deliveries SET status = CASE WHEN status = 4 AND ?2 = 1 THEN 4 WHEN status = 0 THEN 0"
			   " ELSE ?2 END,"
			   " attempts = ?3, next_ms = ?4, updated_ms = ?5 WHERE id = ?1"},
	[WS_ATT_INSERT] = {"attempt_insert",
			   "INSERT INTO attempts (" ATT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			   " ?13, ?14, ?15)"
			   " ON CONFLICT DO NOTHING"},
	/* a claim is a row with status 0, or with the answer when it is known before the request runs (?4, ?5); it
	 * takes over a record that has expired (created before ?2) */
	[WS_IDEM_CLAIM] = {"idem_claim", "INSERT INTO idempotency (key, status, body, created_ms) VALUES (?1, ?4, ?5, ?3)"
					 " ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body,"
					 " created_ms = excluded.created_ms WHERE idempotency.created_ms < ?2"},
	[WS_IDEM_GET] = {"idem_claim", "SELECT status, body FROM idempotency WHERE key = ?1"},
	[WS_IDEM_PUT] = {"idem_put", "INSERT INTO idempotency (key, status, body, created_ms) VALUES (?1, ?2, ?3, ?4)"
				     " ON CONFLICT (key) DO UPDATE SET " SET("status") ", " SET("body") ", "
				     SET("created_ms")},
	/* only ever the claimer's own row, in the claim's transaction (it may hold the answer already) */
	[WS_IDEM_RELEASE] = {"idem_release", "DELETE FROM idempotency WHERE key = ?1"},
	[WS_IDEM_PURGE] = {"idem_purge", "DELETE FROM idempotency WHERE created_ms < ?1"},
	[WS_TOKEN_PUT] = {"token_put", "INSERT INTO app_tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
	[WS_TOKENS_EXPIRE] = {"tokens_expire", "UPDATE app_tokens SET expires_ms = ?2 WHERE app_id = ?1 AND expires_ms > ?2"
					       " AND (?3 IS NULL OR session_id IN (SELECT value FROM json_each(?3)))"},
	[WS_TOKEN_DEL] = {"token_delete", "DELETE FROM app_tokens WHERE hash = ?1"},
	[WS_TOKENS_PURGE] = {"tokens_purge", "DELETE FROM app_tokens WHERE expires_ms < ?1"},
	[WS_POLL_PUT] = {"poll_cursor_put", "INSERT INTO poll_consumers (sink_id, consumer_id, cursor, updated_ms)"
					    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sink_id, consumer_id) DO UPDATE SET "
					    SET("cursor") ", " SET("updated_ms")},
	[WS_APPS_LOAD] = {"apps_load", "SELECT " APP_COLS " FROM apps ORDER BY id"},
	[WS_EPS_LOAD] = {"endpoints_load", "SELECT " EP_COLS ", failing_since FROM endpoints ORDER BY id"},
	[WS_DLV_RESET] = {"deliveries_reset_sending", "UPDATE deliveries SET status = 1 WHERE status = 3"},
	[WS_DLV_SCAN] = {"deliveries_scan_pending", "SELECT id, next_ms, endpoint_id FROM deliveries WHERE status = 1"},
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
				      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
	/* one node: every running task is its own, cut short by its last stop */
	[WS_TASKS_ADOPT] = {"tasks_adopt", "UPDATE tasks SET updated_ms = ?1 WHERE status = 0 RETURNING " TASK_COLS},
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
	/* the ids are a JSON array (json_each's key: the position); each lookup is an index range, newest first */
	[WS_DLV_STATES] = {"delivery_states",
			   "SELECT j.key, coalesce((SELECT d.status FROM deliveries d WHERE d.msg_id = j.value"
			   " AND d.endpoint_id = ?2 ORDER BY d.id DESC LIMIT 1), -1), coalesce((SELECT a.status_code"
			   " FROM attempts a WHERE a.app_id = ?1 AND a.msg_id = j.value AND a.endpoint_id = ?2"
			   " ORDER BY a.id DESC LIMIT 1), -1) FROM json_each(?3) j"},
	[WS_SRC_PUT] = {"source_put", "INSERT INTO sources (id, uid, config) VALUES (?1, ?2, ?3)"
				      " ON CONFLICT (id) DO UPDATE SET " SET("uid") ", " SET("config")},
	[WS_SRC_DEL] = {"source_delete", "DELETE FROM sources WHERE id = ?1"},
	[WS_SRC_DEL_REQS] = {"source_delete", "DELETE FROM inbound_requests WHERE source_id = ?1"},
	[WS_SRC_DEL_DEDUP] = {"source_delete", "DELETE FROM inbound_dedup WHERE source_id = ?1"},
	[WS_SRCS_LOAD] = {"sources_load", "SELECT config FROM sources ORDER BY id"},
	[WS_INR_INSERT] = {"inreq_insert", "INSERT INTO inbound_requests (" INR_COLS ")"
					   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
	/* the key's row holds when it was last claimed; a claim takes it only if that was before the window */
	[WS_INR_DEDUP] = {"inreq_dedup", "INSERT INTO inbound_dedup (source_id, dedup_key, received_ms) VALUES (?1, ?2, ?3)"
					 " ON CONFLICT (source_id, dedup_key) DO UPDATE SET " SET("received_ms")
					 " WHERE inbound_dedup.received_ms < ?4"},
	[WS_DEDUP_PURGE] = {"inreq_purge", "DELETE FROM inbound_dedup WHERE (source_id, dedup_key) IN (SELECT source_id,"
					   " dedup_key FROM inbound_dedup WHERE received_ms < ?1 LIMIT ?2)"},
	/* ids sort by time: the primary key finds the old rows */
	[WS_INR_PURGE] = {"inreq_purge", "DELETE FROM inbound_requests WHERE rowid IN (SELECT rowid FROM"
					 " inbound_requests WHERE id < ?1 LIMIT ?2)"},
	/* the newest-only rule is in the write: of two creates in one batch, the one that sorts first fails */
	[WS_AV_CREATE] = {"api_version_create", "INSERT INTO api_versions (name, downgrade, created_ms) SELECT ?1, ?2, ?3"
						 " WHERE NOT EXISTS (SELECT 1 FROM api_versions WHERE name >= ?1)"},
	[WS_AV_SET] = {"api_version_set_downgrade", "UPDATE api_versions SET downgrade = ?2 WHERE name = ?1"},
	/* no pin may lose its shape: none on the version, nor (unless it is the newest) on an older one */
	[WS_AV_DEL] = {"api_version_delete",
		       "DELETE FROM api_versions WHERE name = ?1 AND NOT EXISTS (SELECT 1 FROM endpoints"
		       " WHERE api_version = ?1) AND (NOT EXISTS (SELECT 1 FROM api_versions WHERE name > ?1)"
		       " OR NOT EXISTS (SELECT 1 FROM endpoints WHERE api_version < ?1))"},
	[WS_AV_ONE] = {"api_version_delete", "SELECT 1 FROM api_versions WHERE name = ?1"},
	[WS_AVS_LOAD] = {"api_versions_load", "SELECT name, downgrade, created_ms FROM api_versions ORDER BY name"},
	[WS_PURGE_ATT] = {"retention_purge",
			  "UPDATE attempts SET response = NULL, request_body = NULL, request_headers = NULL,"
			  " response_headers = NULL WHERE rowid IN (SELECT rowid FROM"
			  " attempts WHERE response IS NOT NULL AND created_ms < ?1 LIMIT ?2)"},
};


/* ---- transactions (committer thread) ---- */

static void sq_batch_rollback(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	/* some errors (disk full, I/O) already rolled the transaction back */
	if (!sqlite3_get_autocommit(s->db))
		sq_run(s->st[WS_ROLLBACK], "rollback");
}

static int sq_batch_begin(struct store *st)
{
	struct sqlite_store *s = to_sq(st);
	if (!sqlite3_get_autocommit(s->db)) {
		log_warnx("sqlite: a transaction was left open; rolling it back");
		sq_batch_rollback(st);
	}
	return sq_run(s->st[WS_BEGIN], "begin");
}

static int sq_batch_commit(struct store *st)
{
	int rc = sq_run(to_sq(st)->st[WS_COMMIT], "commit");
	if (rc != STORE_OK)
		sq_batch_rollback(st); /* never leave the connection inside a half-failed transaction */
	return rc;
}

static int sq_job_begin(struct store *st) { return sq_run(to_sq(st)->st[WS_SAVEPOINT], "savepoint"); }

static void sq_job_end(struct store *st, bool ok)
{
	struct sqlite_store *s = to_sq(st);
	if (!ok)
		sq_run(s->st[WS_ROLLBACK_TO], "rollback to");
	sq_run(s->st[WS_RELEASE], "release");
}

/* ---- writes (committer thread) ---- */

static int sq_app_put(struct store *st, const struct app *a)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_APP_PUT];
	int rc = sq_bind_str(q, 1, a->id) | sq_bind_str(q, 2, a->uid) | sq_bind_str(q, 3, a->name) |
		 sq_bind_json(q, 4, a->metadata) | sqlite3_bind_int64(q, 5, a->throttle_rate) |
		 sqlite3_bind_int64(q, 6, a->created_ms) | sqlite3_bind_int64(q, 7, a->updated_ms);
	return rc ? sq_bind_failed(q, "app_put") : sq_run(q, "app_put");
}

static int sq_app_delete(struct store *st, const char *app_id)
{
	struct sqlite_store *s = to_sq(st);
	static const enum wstmt order[] = {WS_APP_DEL_ATTEMPTS, WS_APP_DEL_DELIVERIES, WS_APP_DEL_MESSAGES,
					   WS_APP_DEL_POLL, WS_APP_DEL_ENDPOINTS, WS_APP_DEL};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		sqlite3_stmt *q = s->st[order[i]];
		int rc = sq_bind_str(q, 1, app_id) ? sq_bind_failed(q, "app_delete") : sq_run(q, "app_delete");
		if (rc != STORE_OK)
			return rc;
	}
	return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

static int sq_endpoint_put(struct store *st, const struct endpoint *e)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_PUT];
	struct sealed_endpoint se;
	seal_endpoint(e, &se);
	int rc = sq_bind_str(q, 1, e->id) | sq_bind_str(q, 2, e->app_id) | sq_bind_str(q, 3, e->uid) |
		 sq_bind_str(q, 4, e->url) |
		 sq_bind_str(q, 5, e->description) | sqlite3_bind_int(q, 6, e->disabled) |
		 sq_bind_strlist(q, 7, &e->event_types) | sq_bind_strlist(q, 8, &e->channels) |
		 (se.secret ? sqlite3_bind_text(q, 9, se.secret, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, 9)) |
		 sq_bind_json(q, 10, e->metadata) | sq_bind_json(q, 11, se.headers) |
		 sqlite3_bind_int64(q, 12, e->throttle_rate) | sqlite3_bind_int64(q, 13, e->created_ms) |
		 sqlite3_bind_int64(q, 14, e->updated_ms) | sq_bind_str(q, 15, e->scheme) |
		 (e->scheme_options ? sq_bind_json(q, 16, e->scheme_options) : sqlite3_bind_null(q, 16)) |
		 (se.old_secrets ? sq_bind_json(q, 17, se.old_secrets) : sqlite3_bind_null(q, 17)) |
		 sqlite3_bind_int(q, 18, e->fifo) | sq_bind_retry(q, 19, e) | sq_bind_str(q, 20, e->payload_filter) |
		 sq_bind_str(q, 21, e->transformation) | sqlite3_bind_int(q, 22, e->transformation_enabled) |
		 sq_bind_str(q, 23, e->api_version);
	seal_endpoint_dispose(&se);
	return rc ? sq_bind_failed(q, "endpoint_put") : sq_run(q, "endpoint_put");
}

static int sq_endpoint_cancel_pending(struct store *st, const char *endpoint_id)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_CANCEL];
	int rc = sq_bind_str(q, 1, endpoint_id) | sqlite3_bind_int64(q, 2, now_ms());
	return rc ? sq_bind_failed(q, "endpoint_cancel") : sq_run(q, "endpoint_cancel");
}

static int sq_endpoint_delete(struct store *st, const char *endpoint_id)
{
	struct sqlite_store *s = to_sq(st);
	int rc = sq_endpoint_cancel_pending(st, endpoint_id); /* first: it finds the app through the endpoint row */
	if (rc != STORE_OK)
		return rc;
	sqlite3_stmt *q = s->st[WS_EP_DEL_POLL];
	rc = sq_bind_str(q, 1, endpoint_id) ? sq_bind_failed(q, "endpoint_delete") : sq_run(q, "endpoint_delete");
	if (rc != STORE_OK)
		return rc;
	q = s->st[WS_EP_DEL];
	rc = sq_bind_str(q, 1, endpoint_id) ? sq_bind_failed(q, "endpoint_delete") : sq_run(q, "endpoint_delete");
	if (rc != STORE_OK)
		return rc;
	return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOTFOUND;
}

/* The id of the message of app holding event_id, after an insert found it taken. */
static int find_event_id(struct sqlite_store *s, const char *app_id, const char *event_id, char msg_id[ID_MAX])
{
	sqlite3_stmt *q = s->st[WS_MSG_FIND_EVENT];
	if (sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, event_id))
		return sq_bind_failed(q, "msg_insert");
	int rc = sq_step_row(q, "msg_insert");
	if (rc == STORE_OK)
		sq_col_id(q, 0, msg_id);
	sq_stmt_done(q);
	return rc;
}

static int message_insert(struct sqlite_store *s, const struct message *m)
{
	sqlite3_stmt *q = s->st[WS_MSG_INSERT];
	int rc = sq_bind_str(q, 1, m->id) | sq_bind_str(q, 2, m->app_id) | sq_bind_str(q, 3, m->event_type) |
		 sq_bind_str(q, 4, m->event_id) | sq_bind_strlist(q, 5, &m->channels) | sq_bind_strlist(q, 6, &m->tags) |
		 sq_bind_bytes(q, 7, m->payload, m->payload_len) | sqlite3_bind_int64(q, 8, m->created_ms) |
		 sqlite3_bind_int64(q, 9, m->deliver_at_ms) | sq_bind_str(q, 10, m->content_type) |
		 sq_bind_str(q, 11, m->extra_headers) |
		 (m->retention_ms > 0 ? sqlite3_bind_int64(q, 12, m->created_ms + m->retention_ms)
				      : sqlite3_bind_null(q, 12));
	return rc ? sq_bind_failed(q, "msg_insert") : sq_run(q, "msg_insert");
}

static int delivery_insert(struct sqlite_store *s, const char *app_id, const char *msg_id, const char *endpoint_id,
			   int trigger, int64_t due_ms, int64_t now_ms, int64_t *dkey)
{
	sqlite3_stmt *q = s->st[WS_DLV_INSERT];
	int rc = sq_bind_str(q, 1, msg_id) | sq_bind_str(q, 2, app_id) | sq_bind_str(q, 3, endpoint_id) |
		 sqlite3_bind_int64(q, 4, due_ms) | sqlite3_bind_int64(q, 5, now_ms) | sqlite3_bind_int(q, 6, trigger);
	rc = rc ? sq_bind_failed(q, "delivery_insert") : sq_run(q, "delivery_insert");
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
	int rc = sq_bind_str(q, 1, endpoint_id) | sqlite3_bind_int(q, 2, disabled) | sqlite3_bind_int64(q, 3, updated_ms);
	rc = rc ? sq_bind_failed(q, "endpoint_set_disabled") : sq_run(q, "endpoint_set_disabled");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

static int sq_endpoint_set_failing(struct store *st, const char *endpoint_id, int64_t since_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_EP_FAILING];
	int rc = sq_bind_str(q, 1, endpoint_id) | sqlite3_bind_int64(q, 2, since_ms);
	return rc ? sq_bind_failed(q, "endpoint_set_failing") : sq_run(q, "endpoint_set_failing");
}

static int sq_msg_expunge(struct store *st, const char *app_id, const char *msg_id)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_MSG_EXPUNGE];
	int rc = sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, msg_id);
	rc = rc ? sq_bind_failed(q, "msg_expunge") : sq_run(q, "msg_expunge");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

static int sq_attempt_expunge(struct store *st, const char *app_id, const char *msg_id, const char *attempt_id)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_ATT_EXPUNGE];
	int rc = sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, msg_id) | sq_bind_str(q, 3, attempt_id);
	rc = rc ? sq_bind_failed(q, "attempt_expunge") : sq_run(q, "attempt_expunge");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* A taken eventId inserts nothing. A failure part-way leaves rows behind: the caller's job_end(false) rolls the
 * job back. */
static int sq_msg_insert(struct store *st, const struct message *m, const char *const *endpoint_ids, size_t n,
			 int64_t due_ms, int64_t *dkeys, char existing_id[ID_MAX])
{
	struct sqlite_store *s = to_sq(st);
	char found[ID_MAX] = "";
	int rc = message_insert(s, m);
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0) { /* DO NOTHING: the eventId is taken */
		rc = find_event_id(s, m->app_id, m->event_id, found);
		rc = rc == STORE_OK || rc == STORE_NOTFOUND ? STORE_CONFLICT : rc;
	}
	if (existing_id != NULL)
		memcpy(existing_id, found, ID_MAX);
	for (size_t i = 0; rc == STORE_OK && i < n; i++)
		rc = delivery_insert(s, m->app_id, m->id, endpoint_ids[i], TRIGGER_SCHEDULED, due_ms, m->created_ms,
				     dkeys != NULL ? &dkeys[i] : NULL);
	return rc;
}

static int attempt_insert(struct sqlite_store *s, const struct attempt *a)
{
	sqlite3_stmt *q = s->st[WS_ATT_INSERT];
	int rc = sq_bind_str(q, 1, a->id) | sq_bind_str(q, 2, a->msg_id) | sq_bind_str(q, 3, a->endpoint_id) |
		 sq_bind_str(q, 4, a->app_id) | sq_bind_str(q, 5, a->url) | sqlite3_bind_int(q, 6, a->status_code) |
		 sqlite3_bind_int64(q, 7, a->duration_ms) | sq_bind_bytes(q, 8, a->response, a->response_len) |
		 sqlite3_bind_int(q, 9, a->status) | sqlite3_bind_int(q, 10, a->trigger) |
		 sqlite3_bind_int64(q, 11, a->created_ms) | sq_bind_str(q, 12, a->request_body) |
		 sq_bind_str(q, 13, a->request_headers) | sq_bind_str(q, 14, a->response_headers) |
		 sq_bind_str(q, 15, a->request_method);
	return rc ? sq_bind_failed(q, "attempt_insert") : sq_run(q, "attempt_insert");
}

/* The delivery first: if it is gone (its app was deleted meanwhile), no orphan attempt row is written. */
static int outcome_record(struct sqlite_store *s, const struct outcome *o, int64_t now)
{
	sqlite3_stmt *q = s->st[WS_DLV_UPDATE];
	int rc = sqlite3_bind_int64(q, 1, o->dkey) | sqlite3_bind_int(q, 2, o->new_status) |
		 sqlite3_bind_int(q, 3, o->attempts) | sqlite3_bind_int64(q, 4, o->next_ms) |
		 sqlite3_bind_int64(q, 5, now);
	rc = rc ? sq_bind_failed(q, "outcomes_record") : sq_run(q, "outcomes_record");
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

static int sq_idem_claim(struct store *st, const char *key, int64_t min_created_ms, int64_t now, int answer_status,
			 const char *answer, int *status, char **body)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_IDEM_CLAIM];
	int rc = sq_bind_str(q, 1, key) | sqlite3_bind_int64(q, 2, min_created_ms) | sqlite3_bind_int64(q, 3, now) |
		 sqlite3_bind_int(q, 4, answer != NULL ? answer_status : 0) | sq_bind_str(q, 5, answer);
	rc = rc ? sq_bind_failed(q, "idem_claim") : sq_run(q, "idem_claim");
	if (rc != STORE_OK || sqlite3_changes(s->db) > 0)
		return rc; /* claimed (or failed) */
	q = s->st[WS_IDEM_GET];
	if (sq_bind_str(q, 1, key))
		return sq_bind_failed(q, "idem_claim");
	rc = sq_step_row(q, "idem_claim");
	if (rc == STORE_OK) {
		*status = sq_col_int(q, 0);
		*body = sq_col_str0(q, 1);
	}
	sq_stmt_done(q);
	return rc == STORE_OK ? STORE_CONFLICT : rc == STORE_NOTFOUND ? STORE_ERR : rc;
}

static int sq_idem_put(struct store *st, const char *key, int status, const char *body, int64_t created_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_PUT];
	int rc = sq_bind_str(q, 1, key) | sqlite3_bind_int(q, 2, status) | sq_bind_str(q, 3, body) |
		 sqlite3_bind_int64(q, 4, created_ms);
	return rc ? sq_bind_failed(q, "idem_put") : sq_run(q, "idem_put");
}

static int sq_idem_release(struct store *st, const char *key)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_RELEASE];
	return sq_bind_str(q, 1, key) ? sq_bind_failed(q, "idem_release") : sq_run(q, "idem_release");
}

static int sq_idem_purge(struct store *st, int64_t before_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_IDEM_PURGE];
	return sqlite3_bind_int64(q, 1, before_ms) ? sq_bind_failed(q, "idem_purge") : sq_run(q, "idem_purge");
}

static int sq_token_put(struct store *st, const struct app_token *t)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TOKEN_PUT];
	int rc = sq_bind_str(q, 1, t->hash) | sq_bind_str(q, 2, t->app_id) | sq_bind_str(q, 3, t->session_id) |
		 sqlite3_bind_int(q, 4, (int)t->caps) | sq_bind_strlist(q, 5, &t->feature_flags) |
		 sqlite3_bind_int64(q, 6, t->expires_ms) | sqlite3_bind_int64(q, 7, t->created_ms);
	return rc ? sq_bind_failed(q, "token_put") : sq_run(q, "token_put");
}

static int sq_tokens_expire(struct store *st, const char *app_id, const struct strlist *sessions, int64_t expires_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TOKENS_EXPIRE];
	struct strlist none = {0};
	int rc = sq_bind_str(q, 1, app_id) | sqlite3_bind_int64(q, 2, expires_ms) |
		 sq_bind_strlist(q, 3, sessions != NULL && sessions->n > 0 ? sessions : &none);
	return rc ? sq_bind_failed(q, "tokens_expire") : sq_run(q, "tokens_expire");
}

static int sq_token_delete(struct store *st, const char *hash)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_TOKEN_DEL];
	int rc = sq_bind_str(q, 1, hash) ? sq_bind_failed(q, "token_delete") : sq_run(q, "token_delete");
	return rc == STORE_OK && sqlite3_changes(s->db) == 0 ? STORE_NOTFOUND : rc;
}

static int sq_poll_cursor_put(struct store *st, const char *sink_id, const char *consumer_id, const char *cursor,
			      int64_t updated_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_POLL_PUT];
	int rc = sq_bind_str(q, 1, sink_id) | sq_bind_str(q, 2, consumer_id) | sq_bind_str(q, 3, cursor) |
		 sqlite3_bind_int64(q, 4, updated_ms);
	return rc ? sq_bind_failed(q, "poll_cursor_put") : sq_run(q, "poll_cursor_put");
}

static int sq_tokens_purge(struct store *st, int64_t before_ms)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TOKENS_PURGE];
	return sqlite3_bind_int64(q, 1, before_ms) ? sq_bind_failed(q, "tokens_purge") : sq_run(q, "tokens_purge");
}

/* One purge statement: ?1 the time bound, ?2 the limit; *more if it hit the limit. */
static int purge_one(struct sqlite_store *s, enum wstmt which, int64_t bound, int limit, bool *more)
{
	sqlite3_stmt *q = s->st[which];
	int rc = sqlite3_bind_int64(q, 1, bound) | sqlite3_bind_int(q, 2, limit);
	rc = rc ? sq_bind_failed(q, "retention_purge") : sq_run(q, "retention_purge");
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
	int rc = sq_bind_str(q, 1, t->id) | sq_bind_str(q, 2, t->kind) | sqlite3_bind_int(q, 3, t->status) |
		 sq_bind_str(q, 4, t->app_id) | sq_bind_str(q, 5, t->endpoint_id) | sqlite3_bind_int64(q, 6, t->since_ms) |
		 sqlite3_bind_int64(q, 7, t->until_ms) | sqlite3_bind_int64(q, 8, t->processed) |
		 sqlite3_bind_int64(q, 9, t->created_ms) | sqlite3_bind_int64(q, 10, t->updated_ms) |
		 sqlite3_bind_int64(q, 11, t->after_key) | sq_bind_str(q, 12, t->after_id[0] ? t->after_id : NULL) |
		 sq_bind_opt(q, 13, t->params[0] ? t->params : NULL);
	return rc ? sq_bind_failed(q, "task_put") : sq_run(q, "task_put");
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
		k->dkey = keyed ? sq_col_i64(q, 0) : 0;
		sq_row_message(q, keyed ? 1 : 0, &k->m);
		bytes += k->m.payload_len;
	}
	*more = *n == (size_t)limit || bytes >= max_bytes;
	*rc = step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), what);
	sq_stmt_done(q);
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
		rc = rc ? sq_bind_failed(q, "recover_batch") : sq_run(q, "recover_batch");
	}
	return rc;
}

static int sq_recover_batch(struct store *st, const struct task *t, int64_t *after, int limit, size_t max_bytes,
			    int64_t now, struct message **msgs, int64_t **dkeys, size_t *n, bool *more)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_RECOVER_SCAN];
	int rc = sq_bind_str(q, 1, t->app_id) | sq_bind_str(q, 2, t->endpoint_id) | sqlite3_bind_int64(q, 3, *after) |
		 sqlite3_bind_int64(q, 4, t->since_ms) | sqlite3_bind_int64(q, 5, t->until_ms) |
		 sqlite3_bind_int(q, 6, limit);
	*msgs = NULL;
	*dkeys = NULL;
	*n = 0;
	if (rc)
		return sq_bind_failed(q, "recover_batch");
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
	int rc = sq_bind_str(q, 1, t->app_id) | sq_bind_str(q, 2, after_id) | sq_bind_str(q, 3, before_id) |
		 sqlite3_bind_int64(q, 4, t->since_ms) | sqlite3_bind_int64(q, 5, t->until_ms) |
		 sq_bind_str(q, 6, t->endpoint_id) | sqlite3_bind_int(q, 7, limit);
	*out = NULL;
	*n = 0;
	if (rc)
		return sq_bind_failed(q, "replay_scan");
	struct keyed_msg *v = collect_msgs(q, "replay_scan", false, limit, max_bytes, n, more, &rc);
	if (*n > 0) {
		*out = xcalloc(*n, sizeof **out);
		for (size_t i = 0; i < *n; i++)
			(*out)[i] = v[i].m;
	}
	free(v);
	return rc;
}

static int sq_delivery_states(struct store *st, const char *app_id, const char *endpoint_id,
			      const char (*msg_ids)[ID_MAX], size_t n, int *status, int *code)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_string(msg_ids[i]));
		status[i] = code[i] = -1;
	}
	sqlite3_stmt *q = to_sq(st)->st[WS_DLV_STATES];
	int rc = sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, endpoint_id) | sq_bind_json(q, 3, a);
	json_decref(a);
	if (rc)
		return sq_bind_failed(q, "delivery_states");
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t i = sq_col_i64(q, 0);
		if (i >= 0 && (size_t)i < n) {
			status[i] = sq_col_int(q, 1);
			code[i] = sq_col_int(q, 2);
		}
	}
	rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), "delivery_states");
	sq_stmt_done(q);
	return rc;
}

static int event_type_write(struct sqlite_store *s, enum wstmt which, const struct event_type *t)
{
	sqlite3_stmt *q = s->st[which];
	int rc = sq_bind_str(q, 1, t->name) | sq_bind_str(q, 2, t->description) | sqlite3_bind_int(q, 3, t->archived) |
		 sqlite3_bind_int(q, 4, t->deprecated) |
		 (t->schemas ? sq_bind_json(q, 5, t->schemas) : sqlite3_bind_null(q, 5)) |
		 sq_bind_str(q, 6, t->feature_flag) | sq_bind_str(q, 7, t->group_name) |
		 sqlite3_bind_int64(q, 8, t->created_ms) | sqlite3_bind_int64(q, 9, t->updated_ms);
	return rc ? sq_bind_failed(q, sq_wdefs[which].name) : sq_run(q, sq_wdefs[which].name);
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
	int rc = sq_bind_str(q, 1, name) ? sq_bind_failed(q, "event_type_delete") : sq_run(q, "event_type_delete");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

/* ---- start-up (write connection; no other thread runs yet) ---- */

static int sq_tasks_adopt(struct store *st, int64_t now, bool own_too, struct task **out, size_t *n)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_TASKS_ADOPT];
	int rc;
	*out = NULL;
	*n = 0;
	if (!own_too) /* no other node: nobody else's to take over */
		return STORE_OK;
	if (sqlite3_bind_int64(q, 1, now))
		return sq_bind_failed(q, "tasks_adopt");
	*out = sq_collect(q, "tasks_adopt", &sq_task_rows, n, &rc);
	return rc;
}

static int sq_event_types_load(struct store *st, struct event_type **out, size_t *n)
{
	int rc;
	*out = sq_collect(to_sq(st)->st[WS_EVTS_LOAD], "event_types_load", &sq_event_type_rows, n, &rc);
	return rc;
}

static int sq_apps_load(struct store *st, struct app **out, size_t *n)
{
	int rc;
	*out = sq_collect(to_sq(st)->st[WS_APPS_LOAD], "apps_load", &sq_app_rows, n, &rc);
	return rc;
}

static int sq_endpoints_load(struct store *st, struct endpoint **out, size_t *n)
{
	int rc;
	*out = sq_collect(to_sq(st)->st[WS_EPS_LOAD], "endpoints_load", &sq_endpoint_rows, n, &rc);
	return rc == STORE_OK ? store_endpoints_unseal(*out, *n) : rc;
}

static int sq_deliveries_reset_sending(struct store *st)
{
	return sq_run(to_sq(st)->st[WS_DLV_RESET], "deliveries_reset_sending");
}

static int sq_deliveries_scan_pending(struct store *st,
				      void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id),
				      void *arg)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_DLV_SCAN];
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		cb(arg, sq_col_i64(q, 0), sq_col_i64(q, 1), (const char *)sqlite3_column_text(q, 2));
	int ret = rc == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), "deliveries_scan_pending");
	sq_stmt_done(q);
	return ret;
}

/* ---- inbound ---- */

static int sq_source_put(struct store *st, const char *id, const char *uid, const char *config)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_SRC_PUT];
	char *sealed = seal_source(config);
	int rc = sq_bind_str(q, 1, id) | sq_bind_str(q, 2, uid) |
		 sqlite3_bind_text(q, 3, sealed ? sealed : config, -1, SQLITE_TRANSIENT);
	free(sealed);
	return rc ? sq_bind_failed(q, "source_put") : sq_run(q, "source_put");
}

static int sq_source_delete(struct store *st, const char *id)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_SRC_DEL];
	int rc = sq_bind_str(q, 1, id) ? sq_bind_failed(q, "source_delete") : sq_run(q, "source_delete");
	if (rc == STORE_OK && sqlite3_changes(s->db) == 0)
		return STORE_NOTFOUND;
	for (enum wstmt w = WS_SRC_DEL_REQS; rc == STORE_OK && w <= WS_SRC_DEL_DEDUP; w++) {
		q = s->st[w];
		rc = sq_bind_str(q, 1, id) ? sq_bind_failed(q, "source_delete") : sq_run(q, "source_delete");
	}
	return rc;
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
		(*out)[(*n)++] = sq_col_str0(q, 0);
	}
	rc = rc == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), "sources_load");
	sq_stmt_done(q);
	return rc == STORE_OK ? store_sources_unseal(*out, *n) : rc;
}

static int sq_inreq_insert(struct store *st, const struct inreq *r)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_INR_INSERT];
	int rc = sq_bind_str(q, 1, r->id) | sq_bind_str(q, 2, r->source_id) | sq_bind_str(q, 3, r->dedup_key) |
		 sq_bind_str(q, 4, r->method) | sq_bind_str(q, 5, r->headers) | sq_bind_bytes(q, 6, r->body, r->body_len) |
		 sqlite3_bind_int64(q, 7, r->received_ms) | sqlite3_bind_int(q, 8, r->verify_rc) |
		 sqlite3_bind_int(q, 9, r->duplicate) | sq_bind_str(q, 10, r->msg_id[0] ? r->msg_id : NULL);
	return rc ? sq_bind_failed(q, "inreq_insert") : sq_run(q, "inreq_insert");
}

static int sq_inreq_dedup(struct store *st, const char *source_id, const char *dedup_key, int64_t received_ms,
			  int64_t since_ms)
{
	if (dedup_key == NULL)
		return STORE_OK;
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_INR_DEDUP];
	int rc = sq_bind_str(q, 1, source_id) | sq_bind_str(q, 2, dedup_key) | sqlite3_bind_int64(q, 3, received_ms) |
		 sqlite3_bind_int64(q, 4, since_ms);
	rc = rc ? sq_bind_failed(q, "inreq_dedup") : sq_run(q, "inreq_dedup");
	return rc == STORE_OK && sqlite3_changes(s->db) == 0 ? STORE_CONFLICT : rc;
}

static int sq_inreq_purge(struct store *st, int64_t before_ms, int limit, bool *more)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_INR_PURGE];
	char bound[ID_MAX];
	id_new_at("inr_", before_ms, bound);
	int rc = sq_bind_str(q, 1, bound) | sqlite3_bind_int(q, 2, limit);
	rc = rc ? sq_bind_failed(q, "inreq_purge") : sq_run(q, "inreq_purge");
	*more = rc == STORE_OK && sqlite3_changes(s->db) >= limit;
	if (rc != STORE_OK)
		return rc;
	q = s->st[WS_DEDUP_PURGE]; /* the keys claimed before the bound: no window reaches back that far */
	rc = sqlite3_bind_int64(q, 1, before_ms) | sqlite3_bind_int(q, 2, limit);
	rc = rc ? sq_bind_failed(q, "inreq_purge") : sq_run(q, "inreq_purge");
	if (rc == STORE_OK && sqlite3_changes(s->db) >= limit)
		*more = true;
	return rc;
}

const struct store_write_ops sq_write_ops = {
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
	.msg_insert = sq_msg_insert,
	.delivery_add = sq_delivery_add,
	.msg_expunge = sq_msg_expunge,
	.attempt_expunge = sq_attempt_expunge,
	.outcomes_record = sq_outcomes_record,
	.idem_claim = sq_idem_claim,
	.idem_put = sq_idem_put,
	.idem_release = sq_idem_release,
	.idem_purge = sq_idem_purge,
	.token_put = sq_token_put,
	.tokens_expire = sq_tokens_expire,
	.token_delete = sq_token_delete,
	.poll_cursor_put = sq_poll_cursor_put,
	.tokens_purge = sq_tokens_purge,
	.retention_purge = sq_retention_purge,
	.task_put = sq_task_put,
	.recover_batch = sq_recover_batch,
	.replay_scan = sq_replay_scan,
	.delivery_states = sq_delivery_states,
	.event_type_put = sq_event_type_put,
	.event_type_create = sq_event_type_create,
	.event_type_delete = sq_event_type_delete,
	.api_version_create = sq_api_version_create,
	.api_version_set_downgrade = sq_api_version_set_downgrade,
	.api_version_delete = sq_api_version_delete,
	.source_put = sq_source_put,
	.source_delete = sq_source_delete,
	.inreq_insert = sq_inreq_insert,
	.inreq_dedup = sq_inreq_dedup,
	.inreq_purge = sq_inreq_purge,
	.apps_load = sq_apps_load,
	.endpoints_load = sq_endpoints_load,
	.event_types_load = sq_event_types_load,
	.sources_load = sq_sources_load,
	.api_versions_load = sq_api_versions_load,
	.secrets_reseal = sq_secrets_reseal,
	.tasks_adopt = sq_tasks_adopt,
	.deliveries_reset_sending = sq_deliveries_reset_sending,
	.deliveries_scan_pending = sq_deliveries_scan_pending,
};

