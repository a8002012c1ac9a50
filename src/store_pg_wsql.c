/* store_pg_wsql.c: the SQL of the PostgreSQL backend's write path (store_pg_write.c runs it): one prepared
 * statement per write, named by enum pg_wstmt, prepared on the write connection at open. Every conflict is
 * decided by the statement itself (ON CONFLICT, a unique key), never by a read before it. */
#include "store_pg_int.h"

/* PW_MSGS_INSERT's parts: x the messages, one array per column (and extra ones), then the inserts of those of
 * src (x, or a subset named x) and the rows they give, but for the ORDER BY. */
#define MSGS_X(arrays, cols)                                                                                 \
	"WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"        \
	" $6::text[], $7::bytea[], $8::int8[], $9::int8[], $10::text[], $11::text[], $12::int8[],"           \
	" $13::int8[]" arrays ") WITH ORDINALITY AS x(" MSG_COLS("") ", expires_ms, due_ms" cols ", ord)),"
#define MSGS_REST(src)                                                                                       \
	" m AS (INSERT INTO messages (" MSG_COLS("") ", expires_ms) SELECT " MSG_COLS("")                    \
	", expires_ms FROM " src " ORDER BY ord ON CONFLICT DO NOTHING RETURNING id, app_id),"               \
	" d AS (INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, attempts, trigger_type,"        \
	" next_ms, updated_ms) SELECT x.id, x.app_id, e.ep, 1, 0, 0, x.due_ms, x.created_ms"                  \
	" FROM unnest($14::int4[], $15::text[]) WITH ORDINALITY AS e(mi, ep, eo)"                            \
	" JOIN x ON x.ord = e.mi JOIN m ON m.id = x.id AND m.app_id = x.app_id ORDER BY e.eo"                \
	" RETURNING id, msg_id, app_id, endpoint_id)"                                                        \
	" SELECT 0, d.id, d.endpoint_id, x.ord FROM d JOIN x ON x.id = d.msg_id AND x.app_id = d.app_id"     \
	" UNION ALL SELECT 1, NULL, NULL, x.ord FROM m JOIN x ON x.id = m.id AND x.app_id = m.app_id"        \
	" UNION ALL SELECT 2, NULL, h.id, x.ord FROM " src " JOIN messages h ON h.app_id = x.app_id"          \
	" AND h.event_id = x.event_id WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.id = x.id"                   \
	" AND m.app_id = x.app_id)"

/* Parameters are cast where the statement alone does not fix their type (INSERT ... SELECT, IS NULL). */
const struct pg_stmt pg_wdefs[PW_COUNT] = {
	[PW_APP_PUT] = {"app_put", "INSERT INTO apps (" APP_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
				   " ON CONFLICT (id) DO UPDATE SET " SET("uid") ", " SET("name") ", " SET("metadata") ", "
				   SET("throttle_rate") ", " SET("created_ms") ", " SET("updated_ms")},
	/* one statement: every sub-statement sees the same snapshot and all of them run */
	[PW_APP_DEL] = {"app_delete", "WITH a AS (DELETE FROM attempts WHERE app_id = $1),"
				      " d AS (DELETE FROM deliveries WHERE app_id = $1),"
				      " m AS (DELETE FROM messages WHERE app_id = $1),"
				      " p AS (DELETE FROM poll_consumers WHERE sink_id IN"
				      " (SELECT id FROM endpoints WHERE app_id = $1)),"
				      " e AS (DELETE FROM endpoints WHERE app_id = $1)"
				      " DELETE FROM apps WHERE id = $1"},
	[PW_EP_PUT] = {"endpoint_put",
		       "INSERT INTO endpoints (" EP_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
		       " $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) ON CONFLICT (id) DO UPDATE SET " SET("app_id") ", " SET("uid")
		       ", " SET("url") ", " SET("description") ", " SET("disabled") ", " SET("event_types") ", "
		       SET("channels") ", " SET("secret") ", " SET("metadata") ", " SET("headers") ", "
		       SET("throttle_rate") ", " SET("created_ms") ", " SET("updated_ms") ", " SET("scheme") ", "
		       SET("scheme_options") ", " SET("old_secrets") ", " SET("fifo") ", " SET("retry_schedule") ", "
		       SET("payload_filter") ", " SET("transformation") ", " SET("transformation_enabled") ", "
		       SET("api_version")},
	/* app_id from the endpoint row so the (app_id, endpoint_id, status) index applies */
	[PW_EP_CANCEL] = {"endpoint_cancel",
			  "UPDATE deliveries SET status = 4, updated_ms = $2"
			  " WHERE app_id = (SELECT app_id FROM endpoints WHERE id = $1) AND endpoint_id = $1"
			  " AND status IN (1, 3)"},
	[PW_EP_DEL] = {"endpoint_delete",
		       "WITH c AS (UPDATE deliveries SET status = 4, updated_ms = $2"
		       " WHERE app_id = (SELECT app_id FROM endpoints WHERE id = $1) AND endpoint_id = $1"
		       " AND status IN (1, 3)), p AS (DELETE FROM poll_consumers WHERE sink_id = $1)"
		       " DELETE FROM endpoints WHERE id = $1"},
	[PW_EP_DISABLE] = {"endpoint_set_disabled", "UPDATE endpoints SET disabled = $2, updated_ms = $3 WHERE id = $1"},
	[PW_EP_FAILING] = {"endpoint_set_failing", "UPDATE endpoints SET failing_since = $2 WHERE id = $1"},
	/* Messages and their deliveries in one statement, one array per column: $1-$13 a message each (x.ord its
	 * place), $14/$15 a delivery each (its message's place, its endpoint). ON CONFLICT DO NOTHING covers both
	 * unique keys (the id, the eventId), so a taken one fails nothing: no message row, hence no delivery. The
	 * rows say what happened, in the messages' order (the last column): kind 0 a delivery (key, endpoint),
	 * kind 1 the message was written, kind 2 the eventId's holder (read in the statement's snapshot;
	 * PW_MSG_FIND_EVENT reads again if a concurrent writer, or a message before it in the statement, took it). */
	[PW_MSGS_INSERT] = {"msg_insert", MSGS_X("", "") MSGS_REST("x") " ORDER BY 4"},
	/* The same, each message's job claiming its idempotency key first ($16-$19: key or NULL, the answer kept
	 * with the claim, its time; $20 the oldest claim kept, older ones are taken over, as PW_IDEM_CLAIM does).
	 * Only the messages whose claim held (y, kind 4) are inserted; kind 3 is a held key's answer (status,
	 * body), in the statement's snapshot: a keyed message with neither kind 4 nor 3 lost its claim to one
	 * committed since. The keys are distinct (msg_prefetch's contract): ON CONFLICT DO UPDATE may not touch a
	 * row twice. */
	[PW_MSGS_CLAIM] = {"msg_insert",
			   MSGS_X(", $16::text[], $17::int4[], $18::text[], $19::int8[]",
				  ", ikey, istatus, ianswer, icreated")
			   " c AS (INSERT INTO idempotency (key, status, body, created_ms) SELECT ikey, istatus, ianswer,"
			   " icreated FROM x WHERE ikey IS NOT NULL ORDER BY ord ON CONFLICT (key) DO UPDATE SET"
			   " status = excluded.status, body = excluded.body, created_ms = excluded.created_ms"
			   " WHERE idempotency.created_ms < $20 RETURNING key),"
			   " y AS (SELECT * FROM x WHERE ikey IS NULL OR EXISTS (SELECT 1 FROM c WHERE c.key = x.ikey)),"
			   MSGS_REST("y x")
			   " UNION ALL SELECT 3, i.status::int8, i.body, x.ord FROM x JOIN idempotency i ON i.key = x.ikey"
			   " WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.key = x.ikey)"
			   " UNION ALL SELECT 4, NULL, NULL, x.ord FROM x JOIN c ON c.key = x.ikey ORDER BY 4"},
	/* The same for one message (a batch of one, at low rates: a plainer statement costs PostgreSQL less):
	 * $1-$12 its columns, $13 its endpoints, $14 when due. */
	[PW_MSG_INSERT] = {"msg_insert",
			   "WITH m AS (INSERT INTO messages (" MSG_COLS("") ", expires_ms)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"
			   " RETURNING id, app_id),"
			   " d AS (INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, attempts, trigger_type,"
			   " next_ms, updated_ms) SELECT m.id, m.app_id, e.ep, 1, 0, 0, $14::bigint, $8::bigint"
			   " FROM m CROSS JOIN unnest($13::text[]) WITH ORDINALITY AS e(ep, ord) ORDER BY e.ord"
			   " RETURNING id, endpoint_id)"
			   " SELECT 0, id, endpoint_id, 1::int8 FROM d UNION ALL SELECT 1, NULL, NULL, 1 FROM m"
			   " UNION ALL SELECT 2, NULL, id, 1 FROM messages WHERE $4::text IS NOT NULL AND app_id = $2"
			   " AND event_id = $4 AND NOT EXISTS (SELECT 1 FROM m)"},
	[PW_MSG_FIND_EVENT] = {"msg_insert", "SELECT id FROM messages WHERE app_id = $1 AND event_id = $2"},
	[PW_DLV_INSERT] = {"delivery_add",
			   "INSERT INTO deliveries (msg_id, app_id, endpoint_id, status, attempts, trigger_type,"
			   " next_ms, updated_ms) VALUES ($1, $2, $3, 1, 0, $4, $5, $6) RETURNING id"},
	[PW_MSG_EXPUNGE] = {"msg_expunge", "UPDATE messages SET payload = NULL WHERE app_id = $1 AND id = $2"},
	[PW_ATT_EXPUNGE] = {"attempt_expunge",
			    "UPDATE attempts SET response = NULL, request_body = NULL WHERE app_id = $1 AND msg_id = $2 AND id = $3"},
	/* A batch of outcomes in one statement, one array per column: $1-$6 a delivery each, in key order (two
	 * writers lock them in one order), $7 now, $8-$23 an attempt each. A delivery named more than once in the
	 * batch comes as their sum (outcomes_params): any success ($5), the last status, and the last that was not
	 * pending ($6), so that it ends as if they were written one after the other. The delivery first, then its
	 * attempts only if the delivery is still there (its app may be gone). A retry must not revive a delivery
	 * canceled while its attempt was in flight, and a success is final (an endpoint's earlier owner reporting
	 * late must not undo it). Recording a batch again (its first COMMIT's fate was unknown) writes the same
	 * attempts once. */
	[PW_OUTCOMES] = {"outcomes_record",
			 "WITH x AS (SELECT * FROM unnest($1::int8[], $2::int4[], $3::int4[], $4::int8[], $5::bool[],"
			 " $6::int4[]) AS x(dkey, st, attempts, next_ms, ok, held)),"
			 " u AS (UPDATE deliveries d SET status = CASE WHEN d.status = 0 OR x.ok THEN 0"
			 " WHEN x.st <> 1 THEN x.st WHEN coalesce(x.held, d.status) = 4 THEN 4 ELSE 1 END,"
			 " attempts = x.attempts, next_ms = x.next_ms, updated_ms = $7 FROM x WHERE d.id = x.dkey"
			 " RETURNING d.id)"
			 " INSERT INTO attempts (" ATT_COLS ") SELECT " ATT_COLS " FROM unnest($8::int8[], $9::text[],"
			 " $10::text[], $11::text[], $12::text[], $13::text[], $14::int4[], $15::int8[], $16::bytea[],"
			 " $17::int2[], $18::int2[], $19::int8[], $20::text[], $21::text[], $22::text[], $23::text[])"
			 " WITH ORDINALITY AS a(dkey, " ATT_COLS ", ord) WHERE a.dkey IN (SELECT id FROM u) ORDER BY ord"
			 " ON CONFLICT DO NOTHING"},
	/* The same for one outcome: $1-$5 the delivery's, $6-$20 the attempt's ($6 NULL: none). */
	[PW_OUTCOME] = {"outcomes_record",
			"WITH u AS (UPDATE deliveries SET status = CASE WHEN status = 4 AND $2::int = 1 THEN 4"
			" WHEN status = 0 THEN 0 ELSE $2::int END, attempts = $3, next_ms = $4, updated_ms = $5"
			" WHERE id = $1 RETURNING id)"
			" INSERT INTO attempts (" ATT_COLS ") SELECT $6::text, $7::text, $8::text, $9::text, $10::text,"
			" $11::int, $12::bigint, $13::bytea, $14::smallint, $15::smallint, $16::bigint, $17::text, $18::text,"
			" $19::text, $20::text FROM u WHERE $6::text IS NOT NULL ON CONFLICT DO NOTHING"},
	/* A claim is a row with status 0, or with the answer when it is known before the request runs ($4, $5); it
	 * takes over a record created before $2 (expired). When the key is held, the holder's row comes back (the
	 * statement's snapshot: PW_IDEM_GET reads again if a concurrent claimer committed it since). */
	[PW_IDEM_CLAIM] = {"idem_claim",
			   "WITH c AS (INSERT INTO idempotency (key, status, body, created_ms) VALUES ($1, $4, $5, $3)"
			   " ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body,"
			   " created_ms = excluded.created_ms WHERE idempotency.created_ms < $2 RETURNING 1)"
			   " SELECT true, 0, NULL::text FROM c UNION ALL SELECT false, status, body FROM idempotency"
			   " WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM c)"},
	/* the keys a batch's jobs claim, locked one after the other in one order (of their hashes, prefixed $2) */
	[PW_KEYS_LOCK] = {"keys_lock", "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT"
				       " hashtextextended($2 || k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s"},
	[PW_IDEM_GET] = {"idem_claim", "SELECT false, status, body FROM idempotency WHERE key = $1"},
	[PW_IDEM_PUT] = {"idem_put", "INSERT INTO idempotency (key, status, body, created_ms) VALUES ($1, $2, $3, $4)"
				     " ON CONFLICT (key) DO UPDATE SET " SET("status") ", " SET("body") ", "
				     SET("created_ms")},
	/* only ever the claimer's own row, in the claim's transaction (it may hold the answer already) */
	[PW_IDEM_RELEASE] = {"idem_release", "DELETE FROM idempotency WHERE key = $1"},
	[PW_IDEM_PURGE] = {"idem_purge", "DELETE FROM idempotency WHERE created_ms < $1"},
	[PW_TOKEN_PUT] = {"token_put", "INSERT INTO app_tokens (" TOKEN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)"},
	[PW_TOKENS_EXPIRE] = {"tokens_expire", "UPDATE app_tokens SET expires_ms = $2 WHERE app_id = $1 AND expires_ms > $2"
					       " AND ($3::text IS NULL OR session_id IN (SELECT json_array_elements_text($3::json)))"},
	[PW_TOKEN_DEL] = {"token_delete", "DELETE FROM app_tokens WHERE hash = $1"},
	[PW_TOKENS_PURGE] = {"tokens_purge", "DELETE FROM app_tokens WHERE expires_ms < $1"},
	[PW_POLL_PUT] = {"poll_cursor_put", "INSERT INTO poll_consumers (sink_id, consumer_id, cursor, updated_ms)"
					    " VALUES ($1, $2, $3, $4) ON CONFLICT (sink_id, consumer_id) DO UPDATE SET "
					    SET("cursor") ", " SET("updated_ms")},
	/* The three purges at once, at most $3 rows each; each WHERE repeats its partial index's terms literally,
	 * so the planner picks that index. $1: the server's bound, $2: now. */
	[PW_PURGE] = {"retention_purge",
		      "WITH a AS (UPDATE messages SET payload = NULL WHERE (app_id, id) IN (SELECT app_id, id FROM messages"
		      " WHERE payload IS NOT NULL AND expires_ms IS NULL AND created_ms < $1 LIMIT $3) RETURNING 1),"
		      " b AS (UPDATE messages SET payload = NULL WHERE (app_id, id) IN (SELECT app_id, id FROM messages"
		      " WHERE payload IS NOT NULL AND expires_ms IS NOT NULL AND expires_ms < $2 LIMIT $3) RETURNING 1),"
		      " c AS (UPDATE attempts SET response = NULL, request_body = NULL, request_headers = NULL,"
		      " response_headers = NULL WHERE (app_id, msg_id, id) IN (SELECT app_id, msg_id, id"
		      " FROM attempts WHERE response IS NOT NULL AND created_ms < $1 LIMIT $3) RETURNING 1)"
		      " SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)"},
	/* only while the task is this node's: a runner whose task another node took over writes nothing */
	[PW_TASK_PUT] = {"task_put", "INSERT INTO tasks (" TASK_COLS ", node_id)"
				     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
				     " ON CONFLICT (id) DO UPDATE SET " SET("kind") ", " SET("status") ", " SET("app_id")
				     ", " SET("endpoint_id") ", " SET("since_ms") ", " SET("until_ms") ", "
				     SET("processed") ", " SET("created_ms") ", " SET("updated_ms") ", " SET("after_key")
				     ", " SET("after_id") ", " SET("params") " WHERE tasks.node_id IS NOT DISTINCT FROM EXCLUDED.node_id"},
	/* running tasks of nodes that are not alive (a live node's go on there), and ($3) this node's own; a second
	 * claimer waits on the row lock and then finds it a live node's */
	[PW_TASKS_ADOPT] = {"tasks_adopt", "UPDATE tasks t SET node_id = $2, updated_ms = $1 WHERE status = 0 AND"
					   " ((t.node_id = $2 AND $3) OR (t.node_id IS DISTINCT FROM $2 AND"
					   " NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = t.node_id"
					   " AND n.expires_at > clock_timestamp()))) RETURNING " TASK_COLS},
	/* Scan and set in one statement: up to $6 failed scheduled deliveries after key $3, in key order (the
	 * (app_id, endpoint_id, status, id) index), cut where the payloads before a row reach $7 bytes; those
	 * become pending again, due at $8. */
	[PW_RECOVER] = {"recover_batch",
			"WITH c AS (SELECT d.id AS dkey, " MSG_COLS("m.") ", coalesce(octet_length(m.payload), 0) AS len"
			" FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.msg_id"
			" WHERE d.app_id = $1 AND d.endpoint_id = $2 AND d.status = 2 AND d.id > $3"
			" AND d.trigger_type = 0 AND m.created_ms >= $4 AND m.created_ms < $5 ORDER BY d.id LIMIT $6),"
			" s AS (SELECT * FROM (SELECT c.*, sum(len) OVER (ORDER BY dkey) - len AS before FROM c) w"
			" WHERE before < $7),"
			" u AS (UPDATE deliveries d SET status = 1, attempts = 0, next_ms = $8, updated_ms = $8 FROM s"
			" WHERE d.id = s.dkey AND d.status = 2)"
			" SELECT dkey, " MSG_COLS("") " FROM s ORDER BY dkey"},
	/* ids sort by time, so the window's id bounds keep the scan to the window; the byte cap as above */
	[PW_REPLAY_SCAN] = {"replay_scan",
			    "WITH c AS (SELECT " MSG_COLS("m.") ", coalesce(octet_length(m.payload), 0) AS len"
			    " FROM messages m WHERE m.app_id = $1 AND m.id > $2 AND m.id < $3"
			    " AND m.created_ms >= $4 AND m.created_ms < $5 AND NOT EXISTS (SELECT 1 FROM deliveries d"
			    " WHERE d.msg_id = m.id AND d.endpoint_id = $6) ORDER BY m.id LIMIT $7)"
			    " SELECT " MSG_COLS("") " FROM (SELECT c.*, sum(len) OVER (ORDER BY id) - len AS before"
			    " FROM c) w WHERE before < $8 ORDER BY id"},
	/* each lookup an index range, newest first; COLLATE "C" as the id columns, so that their indexes serve */
	[PW_DLV_STATES] = {"delivery_states",
			   "SELECT x.ord, coalesce((SELECT d.status FROM deliveries d WHERE d.msg_id = x.id COLLATE \"C\""
			   " AND d.endpoint_id = $2 ORDER BY d.id DESC LIMIT 1), -1)::int4, coalesce((SELECT a.status_code"
			   " FROM attempts a WHERE a.app_id = $1 AND a.msg_id = x.id COLLATE \"C\" AND a.endpoint_id = $2"
			   " ORDER BY a.id DESC LIMIT 1), -1)::int4 FROM unnest($3::text[]) WITH ORDINALITY AS x(id, ord)"},
	[PW_EVT_PUT] = {"event_type_put", "INSERT INTO event_types (" EVT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
					  " ON CONFLICT (name) DO UPDATE SET " SET("description") ", " SET("archived") ", "
					  SET("deprecated") ", " SET("schemas") ", " SET("feature_flag") ", "
					  SET("group_name") ", " SET("created_ms") ", " SET("updated_ms")},
	/* a create revives an archived type, never a live one: the check is in the write */
	[PW_EVT_CREATE] = {"event_type_create",
			   "INSERT INTO event_types (" EVT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			   " ON CONFLICT (name) DO UPDATE SET " SET("description") ", " SET("archived") ", "
			   SET("deprecated") ", " SET("schemas") ", " SET("feature_flag") ", " SET("group_name") ", "
			   SET("created_ms") ", " SET("updated_ms") " WHERE event_types.archived"},
	[PW_EVT_DEL] = {"event_type_delete", "DELETE FROM event_types WHERE name = $1"},
	[PW_SRC_PUT] = {"source_put", "INSERT INTO sources (id, uid, config) VALUES ($1, $2, $3)"
				      " ON CONFLICT (id) DO UPDATE SET " SET("uid") ", " SET("config")},
	/* the requests and keys go only with the source */
	[PW_SRC_DEL] = {"source_delete",
			"WITH s AS (DELETE FROM sources WHERE id = $1 RETURNING id),"
			" r AS (DELETE FROM inbound_requests WHERE source_id IN (SELECT id FROM s)),"
			" k AS (DELETE FROM inbound_dedup WHERE source_id IN (SELECT id FROM s))"
			" SELECT count(*) FROM s"},
	[PW_INR_INSERT] = {"inreq_insert", "INSERT INTO inbound_requests (" INR_COLS ")"
					   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	/* the key's row holds when it was last claimed; a claim takes it only if that was before the window */
	[PW_INR_DEDUP] = {"inreq_dedup",
			  "INSERT INTO inbound_dedup (source_id, dedup_key, received_ms) VALUES ($1, $2, $3)"
			  " ON CONFLICT (source_id, dedup_key) DO UPDATE SET " SET("received_ms")
			  " WHERE inbound_dedup.received_ms < $4"},
	/* ids sort by time: the primary key finds the old requests ($1 an id made at the bound) */
	[PW_INR_PURGE] = {"inreq_purge",
			  "WITH r AS (DELETE FROM inbound_requests WHERE id IN (SELECT id FROM inbound_requests"
			  " WHERE id < $1 LIMIT $3) RETURNING 1),"
			  " k AS (DELETE FROM inbound_dedup WHERE (source_id, dedup_key) IN (SELECT source_id, dedup_key"
			  " FROM inbound_dedup WHERE received_ms < $2 LIMIT $3) RETURNING 1)"
			  " SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM k)"},
	[PW_APPS_LOAD] = {"apps_load", "SELECT " APP_COLS " FROM apps ORDER BY id"},
	[PW_EPS_LOAD] = {"endpoints_load", "SELECT " EP_COLS ", failing_since FROM endpoints ORDER BY id"},
	[PW_EVTS_LOAD] = {"event_types_load", "SELECT " EVT_COLS " FROM event_types ORDER BY name"},
	[PW_SRCS_LOAD] = {"sources_load", "SELECT config FROM sources ORDER BY id"},
	[PW_APP_ONE] = {"app_row", "SELECT " APP_COLS " FROM apps WHERE id = $1"},
	[PW_EP_ONE] = {"endpoint_row", "SELECT " EP_COLS ", failing_since FROM endpoints WHERE id = $1"},
	[PW_EVT_ONE] = {"event_type_row", "SELECT " EVT_COLS " FROM event_types WHERE name = $1"},
	[PW_SRC_ONE] = {"source_row", "SELECT config FROM sources WHERE id = $1"},
	[PW_DLV_RESET] = {"deliveries_reset_sending", "UPDATE deliveries SET status = 1 WHERE status = 3"},
	[PW_DLV_SCAN] = {"deliveries_scan_pending", "SELECT id, next_ms, endpoint_id FROM deliveries WHERE status = 1"},
	[PW_NOTIFY] = {"notify", "SELECT pg_notify($1, x) FROM unnest($2::text[]) x"},
	/* the same after the batch's COMMIT, in an implicit transaction whose commit does not wait for the disk */
	[PW_NOTIFY_AFTER] = {"notify_after", "SELECT pg_notify($1, x) FROM set_config('synchronous_commit', 'off', true), "
					     "unnest($2::text[]) x"},
	[PW_CHORE_LOCK] = {"chore_lock", "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"},
	/* payload versions: names compare bytewise (COLLATE "C", as SQLite's); a create locks the table until the
	 * batch ends, so that two nodes' creates cannot both see themselves the newest */
	[PW_AV_LOCK] = {"api_version_create", "LOCK TABLE api_versions IN EXCLUSIVE MODE"},
	[PW_AV_CREATE] = {"api_version_create",
			  "INSERT INTO api_versions (name, downgrade, created_ms) SELECT $1::text, $2::text, $3::bigint"
			  " WHERE NOT EXISTS (SELECT 1 FROM api_versions WHERE name >= $1::text COLLATE \"C\")"
			  " ON CONFLICT (name) DO NOTHING"},
	[PW_AV_SET] = {"api_version_set_downgrade", "UPDATE api_versions SET downgrade = $2 WHERE name = $1"},
	/* no pin may lose its shape: none on the version, nor (unless it is the newest) on an older one; the second
	 * count sees the row as it was, to tell kept from absent */
	[PW_AV_DEL] = {"api_version_delete",
		       "WITH d AS (DELETE FROM api_versions WHERE name = $1::text AND NOT EXISTS (SELECT 1 FROM endpoints"
		       " WHERE api_version = $1::text) AND (NOT EXISTS (SELECT 1 FROM api_versions"
		       " WHERE name > $1::text COLLATE \"C\") OR NOT EXISTS (SELECT 1 FROM endpoints"
		       " WHERE api_version < $1::text COLLATE \"C\")) RETURNING 1)"
		       " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM api_versions WHERE name = $1::text)"},
	[PW_AVS_LOAD] = {"api_versions_load",
			 "SELECT name, downgrade, created_ms FROM api_versions ORDER BY name COLLATE \"C\""},
	[PW_AV_ONE] = {"api_version_row", "SELECT name, downgrade, created_ms FROM api_versions WHERE name = $1"},
};
