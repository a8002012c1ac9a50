/* api.h: the HTTP management API (Svix-compatible) on libmicrohttpd.
 *
 * Each request gets a struct req. A handler either answers at once (reads come from the cache or a read
 * connection) or prepares a write and calls api_submit(): the connection is suspended, the committer runs the
 * write in its next group commit, and the answer goes out only after the commit is durable.
 */
#ifndef HOOKD_API_H
#define HOOKD_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "commit.h"
#include "config.h"
#include "json.h"
#include "store.h"

#define API_MAX_SEGS 8

struct req {
	struct MHD_Connection *conn;
	const char *method;
	char *url;
	char *query;                    /* /in/ only: the raw query string, or NULL */
	char *raw_path;                 /* the path as sent, before percent-decoding */
	size_t raw_len;                 /* the URI's length as the URI callback saw it (up to a NUL byte) */
	bool nul;                       /* the URI as sent has a NUL byte (%00, or the byte itself) */
	char *segs_buf;
	const char *seg[API_MAX_SEGS]; /* path segments after /api/v1 */
	int nseg;
	struct buf body;
	size_t discarded;               /* bytes dropped after the body passed its cap */
	char *idem_key;                 /* hashed (path, idempotency-key), or NULL */
	/* the answer */
	int status;
	char *resp;                     /* JSON, or NULL for an empty body (204) */
	const char *content_type;       /* NULL: application/json */
	char *allow;                    /* a 405's Allow header, or NULL */
	struct MHD_Response *mhd_resp;  /* a ready answer with its own headers (ui.c), instead of resp */
	bool ready;
	/* a write in flight */
	struct commit_job job;
	struct store_claim claim;       /* job.pre_claim's, when the job announces its idempotency claim */
	int (*run)(struct store *st, struct req *r); /* on the committer, inside the batch */
	void (*after)(struct req *r);   /* after commit, if run succeeded and this was not an idempotent replay */
	void (*cleanup)(struct req *r); /* frees op */
	void *op;
	bool replayed;
	uint64_t ack_token; /* a registry write on a shared database: answered once the other nodes acked it */
	int64_t start_us;              /* monotonic, when the request arrived */
	bool ingest;                   /* POST .../msg: timed as ingest */
	bool resp_sealed;              /* the answer holds a secret: kept for idempotent replays sealed (seal.h) */
	/* the caller: the operator's token (tok.app_id ""), or an app-scoped token (api_auth.c) */
	struct app_token tok;
};

/* api_auth.c: app-scoped tokens. A route names the capability an app token needs for it (0: the operator's token
 * only); a route under app/{app} also needs the path's app to be the token's. */
struct route {
	const char *method;
	const char *pattern; /* segments; "*" matches one */
	void (*handler)(struct req *r);
	unsigned cap;        /* enum app_cap bits an app token needs; OPERATOR_ONLY: none can */
};
#define OPERATOR_ONLY 0u
/* The route table of api.c, read-only: n routes (tests/unit/test_openapi.c compares it with docs/openapi.json). */
const struct route *api_routes(size_t *n);
/* api_openapi.c: GET /api/v1/openapi.json, no token: docs/openapi.json as built into the binary. */
void api_openapi(struct req *r);
/* Who sent r: 1 the operator, 2 an app token (r->tok filled), 0 neither; -1 the store could not tell. */
int api_auth_identify(struct req *r, const unsigned char operator_hash[32]);
/* May r's app token use this route? */
bool api_auth_permits(struct req *r, const struct route *rt);
/* An app token sees an event type with a feature flag only if it holds that flag. */
bool api_auth_sees_flag(const struct req *r, const char *feature_flag);
void api_auth_portal_access(struct req *r);
void api_auth_dashboard_access(struct req *r);
void api_auth_expire_all(struct req *r);
void api_auth_logout(struct req *r);

/* api_conn.c: deadlines on slow connections (--receive-timeout), the file limit. */
#define API_IDLE_S 60 /* a kept-alive connection's wait for its next request (and libmicrohttpd's idle timeout) */
/* MHD_OPTION_NOTIFY_CONNECTION: a connection opens (its receive deadline starts) or closes. */
void api_conn_event(void *cls, struct MHD_Connection *mc, void **socket_context,
		    enum MHD_ConnectionNotificationCode code);
/* A request line arrived (the URI callback): a kept-alive connection's next request gets --receive-timeout. */
void api_conn_request(struct MHD_Connection *mc);
/* The request is in (about to be answered): no deadline while it is answered. False if the watchdog already
 * shut the connection down (drop it: answer nothing). */
bool api_conn_received(struct MHD_Connection *mc);
/* The request was answered: the connection may wait API_IDLE_S for the next one. */
void api_conn_answered(struct MHD_Connection *mc);
/* Raise the soft open-file limit as --max-connections needs; the connection limit it allows (warns if less). */
unsigned api_conn_limit(const struct config *cfg);
/* Start and stop the watchdog that shuts down connections past their deadline. */
void api_conn_start(const struct config *cfg, unsigned max_connections);
void api_conn_stop(void);

/* The server, started and stopped by server.c. */
struct api;
struct api *api_start(const struct config *cfg, struct store *st, int listen_fd, const char *token);
/* Stop accepting; wait for writes in flight to be answered; stop. */
void api_stop(struct api *a);

/* The store, for handlers' reads. */
struct store *api_store(void);
const struct config *api_config(void);

/* Answer helpers; body/json ownership passes to the request. */
void api_reply(struct req *r, int status, char *body);
void api_reply_json(struct req *r, int status, json_t *j);
void api_error(struct req *r, int status, const char *code, const char *detail);
/* api_errors.c: 404 naming what is missing: the first entity of the path (app, endpoint, message) that does not
 * exist, else the last one the path names ("endpoint ep_x not found in app acme"). */
void api_not_found(struct req *r);
/* No route: 404 "no route METHOD /path" (allow NULL), or 405 naming the methods the path takes (allow). */
void api_no_route(struct req *r, const char *allow);
/* Suspend the connection and hand the write to the committer. */
void api_submit(struct req *r);
/* A query argument or NULL. */
const char *api_query(struct req *r, const char *name);
/* A 422 for a query parameter, as a validation error at ["query", name]. */
void api_query_error(struct req *r, const char *name, const char *msg);
/* A query flag (true/false); def when absent. -1 (after a 422) when malformed. */
int api_query_bool(struct req *r, const char *name, bool def);
/* The body as a JSON object; on failure answers 400/422 and returns NULL. */
json_t *api_body_object(struct req *r);

/* Lists: ?limit (1..250, default 50), ?iterator (an id; "-id" pages backwards), ?order. */
#define LIST_BOUND_MAX 258 /* an id, or an event type name (the registry pages by name) */
struct list_req {
	struct page pg;
	int limit;
	bool reversed;
	char bound[LIST_BOUND_MAX];
};
/* Fills lr; on bad input answers 422 and returns -1. id_prefix: what the list's ids look like ("app_"): an
 * iterator must be one (or "-" and one); NULL: the list pages by event type name. */
int api_list_begin(struct req *r, bool ascending_by_default, const char *id_prefix, struct list_req *lr);
/* List filters from the query: before, after (RFC 3339), event_types (repeated or comma-separated), channel,
 * tag, status, status_code_class. Fills f (strings point into the request; *types_json is malloc'd, free it);
 * on bad input answers 422 and returns -1. */
int api_list_filter(struct req *r, struct list_filter *f, char **types_json);
/* items[i] (stolen) with ids[i], in scan order; up to limit+1 of them. */
void api_list_reply(struct req *r, const struct list_req *lr, json_t **items, const char *const *ids, size_t n);

/* Handlers, by file. */
/* api_poll.c: poller sinks (GET .../poller/{sink}, .../consumer/{c}, POST .../consumer/{c}/seek) */
void api_poll(struct req *r);
void api_poll_consumer(struct req *r);
void api_poll_seek(struct req *r);
/* api_apiver.c: /api-version, and an endpoint body's apiVersion onto e (creating: absent means the newest) */
void api_apiver_list(struct req *r);
void api_apiver_create(struct req *r);
void api_apiver_get(struct req *r);
void api_apiver_patch(struct req *r);
void api_apiver_delete(struct req *r);
void api_apiver_endpoint_field(json_t *body, struct endpoint *e, bool creating, struct verr *ve);
/* api_app.c */
void api_app_list(struct req *r);
void api_app_create(struct req *r);
void api_app_get(struct req *r);
void api_app_put(struct req *r);
void api_app_patch(struct req *r);
void api_app_delete(struct req *r);
/* Apply an ApplicationIn (patch false) or ApplicationPatch body onto a; problems into ve. */
void api_app_parse(json_t *body, struct app *a, bool patch, struct verr *ve);
/* Looks the path's app up (id or uid); answers 404 and returns -1 if absent. */
int api_app_lookup(struct req *r, const char *id_or_uid, struct app *out);
/* api_endpoint.c */
void api_endpoint_list(struct req *r);
void api_endpoint_create(struct req *r);
void api_endpoint_get(struct req *r);
void api_endpoint_put(struct req *r);
void api_endpoint_patch(struct req *r);
void api_endpoint_delete(struct req *r);
void api_endpoint_secret(struct req *r);
void api_endpoint_secret_rotate(struct req *r);
void api_endpoint_stats(struct req *r);
/* A custom header whose value the API shows by name only (Authorization, Cookie, API keys). */
bool api_header_sensitive(const char *name);
/* body's retrySchedule onto e (absent: the server's, unless patch keeps e's); problems into ve. */
void api_endpoint_retry_parse(json_t *body, struct endpoint *e, bool patch, struct verr *ve);
/* The SSRF guard on a URL about to be stored (netguard_check_url with the server's settings): a blocked literal
 * address, or http:// under --require-https, goes into ve as field's 422 detail. */
void api_url_guard(const char *url, const char *field, struct verr *ve);
void api_endpoint_figures(struct req *r);
void api_endpoint_headers_get(struct req *r);
void api_endpoint_headers_put(struct req *r);
void api_endpoint_headers_patch(struct req *r);
/* The path's app (seg 1) and endpoint (seg 3); answers 404 and returns -1 if absent. */
int api_endpoint_lookup(struct req *r, struct app *a, struct endpoint *e);
/* Write e (its contents taken) as an endpoint update and answer status (204: no body) once committed. */
void api_endpoint_submit(struct req *r, struct endpoint *e, int status);
/* api_opwebhook.c: /operational-webhook/endpoint, the internal app's endpoints (opevents.h) */
void api_opwebhook_list(struct req *r);
void api_opwebhook_create(struct req *r);
void api_opwebhook_get(struct req *r);
void api_opwebhook_put(struct req *r);
void api_opwebhook_delete(struct req *r);
void api_opwebhook_secret(struct req *r);
void api_opwebhook_secret_rotate(struct req *r);
void api_opwebhook_headers_get(struct req *r);
void api_opwebhook_headers_put(struct req *r);
void api_opwebhook_headers_patch(struct req *r);
/* api_transform.c: an endpoint's transformation (docs/transformations.md) */
void api_transformation_get(struct req *r);
void api_transformation_patch(struct req *r);
void api_transformation_simulate(struct req *r);
/* api_msg.c */
void api_msg_list(struct req *r);
void api_msg_create(struct req *r);
void api_msg_get(struct req *r);
void api_msg_resend(struct req *r);
void api_msg_expunge(struct req *r);
void api_endpoint_send_example(struct req *r);
/* api_msg_ops.c */
void api_msg_precheck(struct req *r);
void api_attempt_expunge(struct req *r);
/* POST /app/{app}/msg/bulk-expunge: the payloads of the given messages, in one transaction */
void api_msg_bulk_expunge(struct req *r);
/* api_event_type.c */
void api_event_type_list(struct req *r);
void api_event_type_create(struct req *r);
void api_event_type_get(struct req *r);
void api_event_type_put(struct req *r);
void api_event_type_patch(struct req *r);
void api_event_type_delete(struct req *r);
/* api_event_import.c */
void api_event_type_import(struct req *r);
/* api_task.c */
void api_endpoint_recover(struct req *r);
void api_endpoint_replay_missing(struct req *r);
void api_msg_expunge_all(struct req *r);
void api_endpoint_bulk_replay(struct req *r);
void api_task_get(struct req *r);
void api_task_list(struct req *r);
/* api_stats.c: POST /stats/usage/app; the data of its task (application.stats), read when the task is */
void api_stats_usage_app(struct req *r);
json_t *api_stats_task_data(const struct task *t);
/* PUT /stats/usage/event-types; the data of its task (event-type.aggregate), read when the task is */
void api_stats_usage_event_types(struct req *r);
json_t *api_stats_event_types_data(void);
/* api_source.c */
void api_source_list(struct req *r);
void api_source_create(struct req *r);
void api_source_get(struct req *r);
void api_source_patch(struct req *r);
void api_source_delete(struct req *r);
void api_source_requests(struct req *r);
void api_source_request_get(struct req *r);
void api_source_secret(struct req *r);
/* The path's source (seg[1]), a reference; answers 404 and returns NULL if absent. */
struct source *api_source_lookup(struct req *r);
/* api_task.c */
void api_source_replay(struct req *r);
/* api_inbound.c */
void api_source_request_replay(struct req *r);
/* POST /in/{source}: no bearer token. */
void api_inbound(struct req *r);
/* The source named by an /in/ URL (a reference), or NULL. */
struct source *api_inbound_source(const char *url);
/* api_attempt.c */
void api_attempt_list_by_endpoint(struct req *r);
void api_attempt_list_by_msg(struct req *r);
void api_attempt_get(struct req *r);
void api_msg_destinations(struct req *r);
void api_endpoint_msgs(struct req *r);

#endif
