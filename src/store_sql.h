/* store_sql.h: what the SQL backends share (src/store_sqlite*.c, src/store_pg*.c only): the status literals their
 * SQL writes, and the column lists, in the same order on both, so that each backend's row readers stay in step
 * with one schema. */
#ifndef HOOKD_STORE_SQL_H
#define HOOKD_STORE_SQL_H

#include "model.h"

/* The SQL writes these statuses as literals: partial indexes are only used for literal WHERE terms. */
_Static_assert(DS_SUCCESS == 0 && DS_PENDING == 1 && DS_FAIL == 2 && DS_SENDING == 3 && DS_CANCELED == 4,
	       "statuses in SQL");
_Static_assert(TASK_RUNNING == 0 && TASK_FAILED == 2 && TRIGGER_SCHEDULED == 0, "task statuses in SQL");

#define APP_COLS "id, uid, name, metadata, throttle_rate, created_ms, updated_ms"
#define EP_COLS                                                                                              \
	"id, app_id, uid, url, description, disabled, event_types, channels, secret, metadata, headers, "    \
	"throttle_rate, created_ms, updated_ms, scheme, scheme_options, old_secrets, fifo, retry_schedule, "                   \
	"payload_filter, transformation, transformation_enabled, api_version"
#define MSG_COLS(p)                                                                                          \
	p "id, " p "app_id, " p "event_type, " p "event_id, " p "channels, " p "tags, " p "payload, "        \
	p "created_ms, " p "deliver_at_ms, " p "content_type, " p "extra_headers"
#define ATT_COLS                                                                                             \
	"id, msg_id, endpoint_id, app_id, url, status_code, duration_ms, response, status, trigger_type, "   \
	"created_ms, request_body, request_headers, response_headers, request_method"
#define EVT_COLS "name, description, archived, deprecated, schemas, feature_flag, group_name, created_ms, updated_ms"
#define TASK_COLS                                                                                                  \
	"id, kind, status, app_id, endpoint_id, since_ms, until_ms, processed, created_ms, updated_ms, after_key, after_id," \
	" params"
#define INR_COLS "id, source_id, dedup_key, method, headers, body, received_ms, verify_rc, duplicate, msg_id"
#define TOKEN_COLS "hash, app_id, session_id, caps, feature_flags, expires_ms, created_ms"
#define SET(c) c " = excluded." c

#endif
