/* api.c: libmicrohttpd glue: request lifecycle, auth, routing, idempotency, suspended writes, lists. */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "feed.h"
#include "filter.h"
#include "id.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "seal.h"
#include "source.h"
#include "ui.h"

#define IDEMPOTENCY_TTL_MS (12LL * 3600 * 1000)

struct api {
	struct MHD_Daemon *mhd;
};

static const struct config *cfg;
static struct store *store;
static unsigned char token_hash[SHA256_DIGEST_LENGTH];
static int suspended; /* atomic: writes waiting for their commit */
static int stopping;  /* atomic: api_stop began: new writes are refused with 503, every answer closes its connection */

/* How long api_stop waits for the writes it accepted to be committed and answered. */
#define STOP_WAIT_MS 60000

struct store *api_store(void) { return store; }
const struct config *api_config(void) { return cfg; }

/* ---- answers ---- */

void api_reply(struct req *r, int status, char *body)
{
	free(r->resp);
	r->status = status;
	r->resp = body;
	r->ready = true;
}

void api_reply_json(struct req *r, int status, json_t *j)
{
	api_reply(r, status, json_dump(j));
	json_decref(j);
}

void api_error(struct req *r, int status, const char *code, const char *detail)
{
	api_reply(r, status, json_error_body(code, detail));
}


/* An error answer, one log line: its code and detail (a 422's details as compact JSON). */
static void log_error_answer(const struct req *r)
{
	json_t *j = r->resp != NULL ? json_loads(r->resp, 0, NULL) : NULL, *detail = json_object_get(j, "detail");
	char *d = json_is_string(detail) || detail == NULL ? NULL : json_dumps(detail, JSON_COMPACT);
	log_api_error(r->method, r->url, r->status, json_string_value(json_object_get(j, "code")),
		      d != NULL ? d : json_string_value(detail));
	free(d);
	json_decref(j);
}

static enum MHD_Result queue(struct req *r)
{
	if (r->mhd_resp != NULL) { /* made whole by its handler (ui.c) */
		struct MHD_Response *own = r->mhd_resp;
		r->mhd_resp = NULL;
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
			MHD_add_response_header(own, "Connection", "close");
		histogram_observe(&hist_api, mono_us() - r->start_us);
		enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)r->status, own);
		MHD_destroy_response(own);
		return rc;
	}
	size_t len = r->resp ? strlen(r->resp) : 0;
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, r->resp ? r->resp : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (r->resp != NULL)
		MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
	if (r->allow != NULL)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
		MHD_add_response_header(resp, "Connection", "close"); /* a kept-alive client moves to another node */
	int64_t took = mono_us() - r->start_us;
	histogram_observe(&hist_api, took);
	if (r->ingest && r->status == 202)
		histogram_observe(&hist_ingest, took);
	if (r->status >= 400)
		log_error_answer(r);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- requests ---- */

const char *api_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void api_query_error(struct req *r, const char *name, const char *msg)
{
	json_t *d = json_pack("{s:s,s:[{s:[s,s],s:s,s:s}]}", "code", "validation_error", "detail", "loc", "query",
			      name, "msg", msg, "type", "value_error");
	api_reply_json(r, 422, d);
}

int api_query_bool(struct req *r, const char *name, bool def)
{
	const char *v = api_query(r, name);
	if (v == NULL)
		return def;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	api_query_error(r, name, "value could not be parsed to a boolean");
	return -1;
}

json_t *api_body_object(struct req *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &err);
	if (j == NULL) {
		char detail[256];
		snprintf(detail, sizeof detail, "invalid JSON body: %s (line %d, column %d)", err.text, err.line,
			 err.column);
		api_error(r, 400, "generic_error", detail);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		struct verr ve = {0};
		verr_add(&ve, "body", "value is not a valid dict", "type_error.dict");
		api_reply(r, 422, verr_body(&ve));
		return NULL;
	}
	return j;
}

int api_list_begin(struct req *r, bool ascending_by_default, const char *id_prefix, struct list_req *lr)
{
	memset(lr, 0, sizeof *lr);
	lr->limit = 50;
	const char *v = api_query(r, "limit");
	if (v != NULL) {
		char *end;
		long n = strtol(v, &end, 10);
		if (end == v || *end != '\0' || n < 1 || n > 250) {
			api_query_error(r, "limit", "limit must be between 1 and 250");
			return -1;
		}
		lr->limit = (int)n;
	}
	bool ascending = ascending_by_default;
	const char *order = api_query(r, "order");
	if (order != NULL) {
		if (strcmp(order, "ascending") != 0 && strcmp(order, "descending") != 0) {
			api_query_error(r, "order", "order must be ascending or descending");
			return -1;
		}
		ascending = strcmp(order, "ascending") == 0;
	}
	const char *it = api_query(r, "iterator");
	if (it != NULL && *it != '\0') {
		lr->reversed = it[0] == '-';
		if (lr->reversed)
			it++;
		/* one of the list's own ids (or names): anything else would page from an arbitrary string */
		if (strlen(it) >= sizeof lr->bound || !(id_prefix ? id_is(id_prefix, it) : filter_event_type_valid(it))) {
			api_query_error(r, "iterator", "invalid iterator");
			return -1;
		}
		snprintf(lr->bound, sizeof lr->bound, "%s", it);
	}
	lr->pg.ascending = lr->reversed ? !ascending : ascending;
	if (lr->bound[0] != '\0') {
		if (lr->pg.ascending)
			lr->pg.after = lr->bound;
		else
			lr->pg.before = lr->bound;
	}
	lr->pg.limit = lr->limit + 1; /* one more tells whether we are done */
	return 0;
}

struct types_arg {
	json_t *arr;
	bool bad; /* a name that no event type can have */
};

static enum MHD_Result collect_types(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct types_arg *ta = cls;
	if (strcmp(key, "event_types") != 0 || value == NULL)
		return MHD_YES;
	char *copy = xstrdup(value), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (!filter_event_type_valid(t))
			ta->bad = true;
		json_array_append_new(ta->arr, json_string(t));
	}
	free(copy);
	return MHD_YES;
}

static int query_time(struct req *r, const char *name, int64_t *ms)
{
	const char *v = api_query(r, name);
	*ms = 0;
	if (v == NULL)
		return 0;
	if (rfc3339_parse(v, ms) < 0 || *ms <= 0) {
		api_query_error(r, name, "invalid datetime (RFC 3339 expected)");
		return -1;
	}
	return 0;
}

static int query_int(struct req *r, const char *name, int min, int max, int *out)
{
	const char *v = api_query(r, name);
	*out = -1;
	if (v == NULL)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max) {
		api_query_error(r, name, "integer out of range");
		return -1;
	}
	*out = (int)n;
	return 0;
}

int api_list_filter(struct req *r, struct list_filter *f, char **types_json)
{
	memset(f, 0, sizeof *f);
	*types_json = NULL;
	if (query_time(r, "before", &f->before_ms) < 0 || query_time(r, "after", &f->after_ms) < 0 ||
	    query_int(r, "status", 0, 4, &f->status) < 0 ||
	    query_int(r, "status_code_class", 0, 500, &f->status_code_class) < 0)
		return -1;
	if (f->status_code_class > 0 && f->status_code_class % 100 != 0) {
		api_query_error(r, "status_code_class", "one of 0, 100, 200, 300, 400, 500");
		return -1;
	}
	f->channel = api_query(r, "channel");
	f->tag = api_query(r, "tag");
	struct types_arg ta = {json_array(), false};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_types, &ta);
	if (ta.bad) {
		json_decref(ta.arr);
		api_query_error(r, "event_types", "event type names are 1-256 of [a-zA-Z0-9-_.]");
		return -1;
	}
	if (json_array_size(ta.arr) > 0)
		*types_json = json_dump(ta.arr);
	json_decref(ta.arr);
	f->event_types_json = *types_json;
	return 0;
}

void api_list_reply(struct req *r, const struct list_req *lr, json_t **items, const char *const *ids, size_t n)
{
	bool done = n <= (size_t)lr->limit;
	size_t take = done ? n : (size_t)lr->limit;
	json_t *data = json_array();
	for (size_t i = 0; i < take; i++)
		json_array_append_new(data, items[lr->reversed ? take - 1 - i : i]);
	for (size_t i = take; i < n; i++)
		json_decref(items[i]);
	const char *first = take ? ids[lr->reversed ? take - 1 : 0] : NULL;
	const char *last = take ? ids[lr->reversed ? 0 : take - 1] : NULL;
	char prev[LIST_BOUND_MAX + 1];
	snprintf(prev, sizeof prev, "-%s", first ? first : lr->bound);
	json_t *j = json_pack("{s:o,s:o,s:o,s:b}", "data", data, "iterator", last ? json_string(last) : json_null(),
			      "prevIterator", (first || lr->bound[0]) ? json_string(prev) : json_null(), "done",
			      done);
	api_reply_json(r, 200, j);
}

/* ---- writes ---- */

static int req_run(struct store *st, void *arg)
{
	struct req *r = arg;
	int64_t now = now_ms();
	char *early = NULL; /* the answer known before the request runs (a message's 202), kept with the claim */
	int early_status = 0;
	if (r->idem_key != NULL) { /* claim the key first: a second request with it replays the first's answer */
		int status = 0;
		char *body = NULL;
		if (r->status >= 200 && r->status < 300 && r->resp != NULL && !r->resp_sealed) {
			early = xstrdup(r->resp);
			early_status = r->status;
		}
		int64_t min = now - IDEMPOTENCY_TTL_MS;
		if (r->job.pre_claim != NULL) { /* as announced (api_submit) */
			min = r->claim.min_created_ms;
			now = r->claim.now_ms;
		}
		int rc = st->w->idem_claim(st, r->idem_key, min, now, early_status, early, &status, &body);
		if (rc != STORE_OK) {
			free(early);
			early = NULL;
		}
		if (rc == STORE_CONFLICT) {
			r->replayed = true;
			if (status == 0) {
				free(body);
				api_error(r, 409, "conflict", "A request with this idempotency key is in progress");
			} else if (seal_is_sealed(body)) { /* an answer that holds a secret (resp_sealed) */
				char *plain = NULL, err[128];
				if (seal_open(body, &plain, err, sizeof err) != 0) {
					log_warnx("api: idempotent replay: %s", err);
					api_error(r, 500, "internal_error", "the stored answer cannot be opened");
				} else {
					api_reply(r, status, plain);
				}
				free(body);
			} else {
				api_reply(r, status, body);
			}
			return STORE_OK;
		}
		if (rc != STORE_OK)
			return rc;
	}
	int rc = r->run(st, r);
	if (rc == STORE_OK && r->job.changes != NULL && st->w->note != NULL && (r->ack_token = feed_token()) != 0) {
		/* a registry write on a shared database: answered once the other nodes applied it (feed.h) */
		char e[32];
		snprintf(e, sizeof e, "a %llu", (unsigned long long)r->ack_token);
		st->w->note(st, e);
	}
	bool kept = early != NULL && rc == STORE_OK && r->status == early_status && !r->resp_sealed && r->resp != NULL &&
		    strcmp(r->resp, early) == 0; /* the answer kept with the claim is the one given */
	free(early);
	if (r->idem_key == NULL || rc == STORE_ERR || rc == STORE_UNAVAILABLE || rc == STORE_RETRY || kept)
		return rc;
	if (rc == STORE_OK && r->status >= 200 && r->status < 300 && r->resp_sealed && r->resp != NULL) {
		char *sealed = seal_value(r->resp); /* kept for replays, encrypted like every stored secret */
		rc = st->w->idem_put(st, r->idem_key, r->status, sealed, now);
		free(sealed);
		return rc;
	}
	if (rc == STORE_OK && r->status >= 200 && r->status < 300)
		return st->w->idem_put(st, r->idem_key, r->status, r->resp ? r->resp : "", now);
	int rel = st->w->idem_release(st, r->idem_key); /* only 2xx answers are kept: a retry runs again */
	return rel != STORE_OK ? rel : rc;
}

static void req_resume(void *arg)
{
	struct req *r = arg;
	r->ready = true;
	MHD_resume_connection(r->conn);
	__atomic_sub_fetch(&suspended, 1, __ATOMIC_ACQ_REL);
}

static void req_done(void *arg, int rc)
{
	struct req *r = arg;
	if (rc == STORE_ERR)
		api_error(r, 500, "internal_error", "the write could not be committed");
	else if (rc == STORE_UNAVAILABLE) /* never a 2xx for what may not be durable: the client tries again */
		api_error(r, 503, "store_unavailable", "the database cannot be reached; try again");
	else if (rc == STORE_OK && !r->replayed && r->after != NULL)
		r->after(r);
	uint64_t token = r->ack_token;
	r->ack_token = 0; /* a job run again after STORE_RETRY takes a new one */
	if (rc == STORE_OK && token != 0)
		feed_await(token, req_resume, r);
	else
		req_resume(r);
}

void api_submit(struct req *r)
{
	r->ready = false;
	r->job.run = req_run;
	r->job.done = req_done;
	r->job.arg = r;
	r->job.lock_keys[0] = r->idem_key;
	r->job.pre_claim = NULL;
	if (r->job.pre_om != NULL && r->idem_key != NULL) { /* a message insert that claims its key first */
		if (r->status >= 200 && r->status < 300 && r->resp != NULL && !r->resp_sealed) {
			int64_t now = now_ms();
			r->claim = (struct store_claim){.key = r->idem_key, .min_created_ms = now - IDEMPOTENCY_TTL_MS,
							.now_ms = now, .status = r->status, .answer = r->resp};
			r->job.pre_claim = &r->claim;
		} else {
			r->job.pre_om = NULL; /* its claim is a write of its own */
		}
	}
	/* Counted before stopping is read, and api_stop sets stopping before it reads the count (both sequentially
	 * consistent): either api_stop waits for this write, or this write sees the stop and is refused. A connection
	 * still suspended when MHD_stop_daemon runs aborts the process. */
	__atomic_add_fetch(&suspended, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&suspended, 1, __ATOMIC_SEQ_CST);
		api_error(r, 503, "shutting_down", "this node is stopping; nothing was written: try again");
		return;
	}
	MHD_suspend_connection(r->conn); /* before submitting: the commit may finish at once */
	commit_submit(&r->job);
}

/* ---- routing ---- */

/* cap: what an app-scoped token needs for the route (api_auth.c); none: the operator's token only */
static const struct route routes[] = {
	{"GET", "app", api_app_list, OPERATOR_ONLY},
	{"POST", "app", api_app_create, OPERATOR_ONLY},
	{"GET", "app/*", api_app_get, CAP_VIEW},
	{"PUT", "app/*", api_app_put, OPERATOR_ONLY},
	{"PATCH", "app/*", api_app_patch, OPERATOR_ONLY},
	{"DELETE", "app/*", api_app_delete, OPERATOR_ONLY},
	{"GET", "app/*/endpoint", api_endpoint_list, CAP_VIEW},
	{"POST", "app/*/endpoint", api_endpoint_create, CAP_MANAGE_ENDPOINT},
	{"GET", "app/*/endpoint/*", api_endpoint_get, CAP_VIEW},
	{"PUT", "app/*/endpoint/*", api_endpoint_put, CAP_MANAGE_ENDPOINT},
	{"PATCH", "app/*/endpoint/*", api_endpoint_patch, CAP_MANAGE_ENDPOINT},
	{"DELETE", "app/*/endpoint/*", api_endpoint_delete, CAP_MANAGE_ENDPOINT},
	{"GET", "app/*/endpoint/*/secret", api_endpoint_secret, CAP_VIEW_SECRET},
	{"POST", "app/*/endpoint/*/secret/rotate", api_endpoint_secret_rotate, CAP_MANAGE_SECRET},
	{"GET", "app/*/endpoint/*/stats", api_endpoint_stats, CAP_VIEW},
	{"GET", "app/*/endpoint/*/figures", api_endpoint_figures, CAP_VIEW},
	{"GET", "app/*/endpoint/*/msg", api_endpoint_msgs, CAP_VIEW},
	{"GET", "app/*/endpoint/*/headers", api_endpoint_headers_get, CAP_VIEW},
	{"PUT", "app/*/endpoint/*/headers", api_endpoint_headers_put, CAP_MANAGE_ENDPOINT},
	{"PATCH", "app/*/endpoint/*/headers", api_endpoint_headers_patch, CAP_MANAGE_ENDPOINT},
	{"GET", "app/*/endpoint/*/transformation", api_transformation_get, CAP_MANAGE_TRANSFORM},
	{"PATCH", "app/*/endpoint/*/transformation", api_transformation_patch, CAP_MANAGE_TRANSFORM},
	{"POST", "app/*/endpoint/*/transformation/simulate", api_transformation_simulate, CAP_MANAGE_TRANSFORM},
	{"POST", "app/*/endpoint/*/send-example", api_endpoint_send_example, CAP_CREATE_ATTEMPTS},
	{"POST", "app/*/endpoint/*/recover", api_endpoint_recover, CAP_CREATE_ATTEMPTS},
	{"POST", "app/*/endpoint/*/replay-missing", api_endpoint_replay_missing, CAP_CREATE_ATTEMPTS},
	{"POST", "app/*/endpoint/*/bulk-replay", api_endpoint_bulk_replay, CAP_CREATE_ATTEMPTS},
	{"GET", "app/*/msg", api_msg_list, CAP_VIEW},
	{"POST", "app/*/msg", api_msg_create, OPERATOR_ONLY},
	{"POST", "app/*/msg/precheck/active", api_msg_precheck, CAP_VIEW},
	{"POST", "app/*/msg/expunge-all-contents", api_msg_expunge_all, OPERATOR_ONLY},
	{"POST", "app/*/msg/bulk-expunge", api_msg_bulk_expunge, OPERATOR_ONLY},
	{"GET", "app/*/msg/*", api_msg_get, CAP_VIEW},
	{"GET", "app/*/msg/*/attempt/*", api_attempt_get, CAP_VIEW},
	{"DELETE", "app/*/msg/*/attempt/*/content", api_attempt_expunge, OPERATOR_ONLY},
	{"GET", "app/*/msg/*/endpoint", api_msg_destinations, CAP_VIEW},
	{"POST", "app/*/msg/*/endpoint/*/resend", api_msg_resend, CAP_CREATE_ATTEMPTS},
	{"DELETE", "app/*/msg/*/content", api_msg_expunge, OPERATOR_ONLY},
	/* a consumer's cursor is its own state, not the app's configuration: reading is enough to move it */
	{"GET", "app/*/poller/*", api_poll, CAP_VIEW},
	{"GET", "app/*/poller/*/consumer/*", api_poll_consumer, CAP_VIEW},
	{"POST", "app/*/poller/*/consumer/*/seek", api_poll_seek, CAP_VIEW},
	{"GET", "app/*/attempt/endpoint/*", api_attempt_list_by_endpoint, CAP_VIEW},
	{"GET", "app/*/attempt/msg/*", api_attempt_list_by_msg, CAP_VIEW},
	{"GET", "source", api_source_list, OPERATOR_ONLY},
	{"POST", "source", api_source_create, OPERATOR_ONLY},
	{"GET", "source/*", api_source_get, OPERATOR_ONLY},
	{"PATCH", "source/*", api_source_patch, OPERATOR_ONLY},
	{"DELETE", "source/*", api_source_delete, OPERATOR_ONLY},
	{"GET", "source/*/request", api_source_requests, OPERATOR_ONLY},
	{"GET", "source/*/request/*", api_source_request_get, OPERATOR_ONLY},
	{"POST", "source/*/request/*/replay", api_source_request_replay, OPERATOR_ONLY},
	{"POST", "source/*/replay", api_source_replay, OPERATOR_ONLY},
	{"GET", "source/*/secret", api_source_secret, OPERATOR_ONLY},
	{"POST", "stats/usage/app", api_stats_usage_app, OPERATOR_ONLY},
	{"PUT", "stats/usage/event-types", api_stats_usage_event_types, OPERATOR_ONLY},
	{"GET", "background-task", api_task_list, OPERATOR_ONLY},
	{"GET", "background-task/*", api_task_get, CAP_VIEW},
	{"GET", "event-type", api_event_type_list, CAP_VIEW},
	{"POST", "event-type", api_event_type_create, OPERATOR_ONLY},
	{"POST", "event-type/import/openapi", api_event_type_import, OPERATOR_ONLY},
	{"GET", "event-type/*", api_event_type_get, CAP_VIEW},
	{"PUT", "event-type/*", api_event_type_put, OPERATOR_ONLY},
	{"PATCH", "event-type/*", api_event_type_patch, OPERATOR_ONLY},
	{"DELETE", "event-type/*", api_event_type_delete, OPERATOR_ONLY},
	{"POST", "auth/app-portal-access/*", api_auth_portal_access, OPERATOR_ONLY},
	{"POST", "auth/dashboard-access/*", api_auth_dashboard_access, OPERATOR_ONLY},
	{"POST", "auth/app/*/expire-all", api_auth_expire_all, OPERATOR_ONLY},
	{"POST", "auth/logout", api_auth_logout, CAP_VIEW},
	{"GET", "operational-webhook/endpoint", api_opwebhook_list, OPERATOR_ONLY},
	{"POST", "operational-webhook/endpoint", api_opwebhook_create, OPERATOR_ONLY},
	{"GET", "operational-webhook/endpoint/*", api_opwebhook_get, OPERATOR_ONLY},
	{"PUT", "operational-webhook/endpoint/*", api_opwebhook_put, OPERATOR_ONLY},
	{"DELETE", "operational-webhook/endpoint/*", api_opwebhook_delete, OPERATOR_ONLY},
	{"GET", "operational-webhook/endpoint/*/secret", api_opwebhook_secret, OPERATOR_ONLY},
	{"POST", "operational-webhook/endpoint/*/secret/rotate", api_opwebhook_secret_rotate, OPERATOR_ONLY},
	{"GET", "operational-webhook/endpoint/*/headers", api_opwebhook_headers_get, OPERATOR_ONLY},
	{"PUT", "operational-webhook/endpoint/*/headers", api_opwebhook_headers_put, OPERATOR_ONLY},
	{"PATCH", "operational-webhook/endpoint/*/headers", api_opwebhook_headers_patch, OPERATOR_ONLY},
	{"GET", "api-version", api_apiver_list, CAP_VIEW},
	{"POST", "api-version", api_apiver_create, OPERATOR_ONLY},
	{"GET", "api-version/*", api_apiver_get, CAP_VIEW},
	{"PATCH", "api-version/*", api_apiver_patch, OPERATOR_ONLY},
	{"DELETE", "api-version/*", api_apiver_delete, OPERATOR_ONLY},
};

const struct route *api_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}

/* Match segments against a pattern; 1 if they match. */
static int route_match(const struct req *r, const char *pattern)
{
	int i = 0;
	const char *p = pattern;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (i >= r->nseg)
			return 0;
		if (!(n == 1 && *p == '*') && (strlen(r->seg[i]) != n || strncmp(r->seg[i], p, n) != 0))
			return 0;
		i++;
		p += n + (p[n] == '/');
	}
	return i == r->nseg;
}

/* The segments after /api/v1/, split on the path as sent and then percent-decoded one by one, so that an encoded
 * '/' stays inside its segment. -1 (not routed) for another prefix, too many segments, or an empty one ("//",
 * a trailing "/"): "//app//x" is not "app/x". */
static int split_path(struct req *r)
{
	const char *prefix = "/api/v1/";
	const char *path = r->raw_path != NULL ? r->raw_path : r->url;
	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return -1;
	r->segs_buf = xstrdup(path + strlen(prefix));
	for (char *s = r->segs_buf;;) {
		char *slash = strchr(s, '/');
		if (slash != NULL)
			*slash = '\0';
		if (*s == '\0' || r->nseg == API_MAX_SEGS)
			return -1;
		MHD_http_unescape(s); /* no NUL comes out: a URI with %00 was refused */
		r->seg[r->nseg++] = s;
		if (slash == NULL)
			return 0;
		s = slash + 1;
	}
}

static bool authorized(struct req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	unsigned char got[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)h + 7, strlen(h + 7), got);
	return CRYPTO_memcmp(got, token_hash, sizeof got) == 0;
}

static void set_idempotency_key(struct req *r)
{
	const char *k = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "idempotency-key");
	if (k == NULL || *k == '\0' || strcmp(r->method, "POST") != 0)
		return;
	unsigned char d[SHA256_DIGEST_LENGTH];
	size_t ul = strlen(r->url), kl = strlen(k);
	char *scope = xmalloc(ul + kl + 2);
	memcpy(scope, r->url, ul);
	scope[ul] = '\n';
	memcpy(scope + ul + 1, k, kl + 1);
	SHA256((const unsigned char *)scope, ul + kl + 1, d);
	free(scope);
	r->idem_key = xmalloc(2 * sizeof d + 1);
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(r->idem_key + 2 * i, 3, "%02x", d[i]);
}

/* GET /api/v1/health/ready, no token: 200 once the store answers a query. The API starts listening only
 * after the store opened and ran its migrations, so an answer here also means they are done; 503 when the
 * database does not answer (a load balancer takes the node out). */
static void api_ready(struct req *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		api_error(r, 405, "method_not_allowed", "GET /api/v1/health/ready");
		return;
	}
	struct task t = {0};
	int rc = api_store()->q->task_get(api_store(), "qtask_ready_probe", &t);
	(void)t; /* a task holds nothing on the heap */
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		api_reply(r, 200, xstrdup("{\"status\":\"ready\",\"store\":\"ok\",\"migrations\":\"done\"}"));
	else
		api_error(r, 503, "not_ready", "the database does not answer");
}

static void dispatch(struct req *r)
{
	if (r->nul) { /* decoded, it would end the path or the value early: "app/%00" is not "app/" */
		api_error(r, 400, "bad_request", "the URL has a NUL byte");
		return;
	}
	if (strcmp(r->url, "/api/v1/health") == 0 || strcmp(r->url, "/api/v1/health/") == 0 ||
	    strcmp(r->url, "/api/v1/health/ping") == 0 || strcmp(r->url, "/api/v1/health/ping/") == 0) {
		if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
			api_reply(r, 204, NULL);
		else
			api_no_route(r, "GET, HEAD");
		return;
	}
	if (strcmp(r->url, "/api/v1/health/ready") == 0) {
		api_ready(r);
		return;
	}
	if (strcmp(r->url, "/api/v1/openapi.json") == 0) {
		api_openapi(r);
		return;
	}
	if (strcmp(r->url, "/metrics") == 0 && strcmp(r->method, "GET") == 0) {
		if (!cfg->metrics_public && !authorized(r)) { /* it names endpoints and their traffic */
			api_error(r, 401, "authentication_failed", "Invalid or missing bearer token");
			return;
		}
		api_reply(r, 200, metrics_render());
		r->content_type = "text/plain; version=0.0.4";
		return;
	}
	if (strncmp(r->url, "/in/", 4) == 0) {
		api_inbound(r);
		return;
	}
	if (ui_dispatch(r))
		return;
	if (split_path(r) < 0) {
		api_no_route(r, NULL);
		return;
	}
	int who = api_auth_identify(r, token_hash);
	if (who < 0) {
		api_error(r, 503, "store_unavailable", "the database cannot check this token now; retry");
		return;
	}
	if (who == 0) {
		api_error(r, 401, "authentication_failed", "Invalid or missing bearer token");
		return;
	}
	char allow[64] = "";
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!route_match(r, routes[i].pattern))
			continue;
		if (strstr(allow, routes[i].method) == NULL) /* the methods this path takes, for the 405 */
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
				 routes[i].method);
		if (strcmp(routes[i].method, r->method) == 0) {
			if (who == 2 && !api_auth_permits(r, &routes[i])) {
				api_error(r, 403, "forbidden", "this app-scoped token does not grant this operation");
				return;
			}
			r->ingest = routes[i].handler == api_msg_create;
			set_idempotency_key(r);
			routes[i].handler(r);
			return;
		}
	}
	api_no_route(r, allow[0] ? allow : NULL);
}

/* A body over its cap is read and dropped up to this many times --max-body, for its 413; past that the connection
 * is dropped. */
#define DISCARD_FACTOR 16

/* The body cap: an inbound source's maxBody, else --max-body. */
static size_t body_cap(const char *url)
{
	struct source *s = api_inbound_source(url);
	size_t cap = s ? s->max_body : cfg->max_body;
	source_unref(s);
	return cap;
}

static void too_large(struct req *r)
{
	char detail[128];
	snprintf(detail, sizeof detail, "request body is larger than %zu bytes", r->body.max);
	api_error(r, 413, "payload_too_large", detail);
	if (strncmp(r->url, "/in/", 4) == 0)
		metrics_inbound(IN_TOO_LARGE);
}

/* A Content-Length over the cap that is answered before the body: when the client waits for "100 Continue"
 * (which libmicrohttpd would send unless an answer is queued now), or when the body is longer than what
 * on_request reads and drops before giving up on the connection. Other clients get their 413 after the body, as
 * one that does not read an early answer would lose it in the connection's reset. */
static bool declared_too_large(struct req *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL || *cl < '0' || *cl > '9')
		return false; /* none, or malformed: libmicrohttpd answers that one */
	errno = 0;
	unsigned long long n = strtoull(cl, NULL, 10); /* digits: libmicrohttpd refused anything else */
	if (errno == ERANGE)
		n = ULLONG_MAX;
	if (n <= r->body.max)
		return false;
	const char *expect = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	return (expect != NULL && strcasecmp(expect, "100-continue") == 0) || n > DISCARD_FACTOR * r->body.max;
}

#define QUERY_MAX 8192
/* libmicrohttpd's per-connection pool (request line, headers, read buffer) is zeroed for every request on a
 * kept-alive connection: 16 KiB rather than its 32 KiB default halves that, and still holds 8 KiB of headers. */
#define CONN_MEMORY (16 * 1024)

/* Called once per request, before its headers, with the URI as sent: the request object starts here so that
 * /in/ keeps its raw query string, which schemes signing the URL (Twilio) cover byte for byte. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	struct req *r = xcalloc(1, sizeof *r);
	if (uri == NULL) /* a request line without a URI (libmicrohttpd refuses it first) */
		uri = "";
	const char *q = strchr(uri, '?');
	if (q != NULL && strncmp(uri, "/in/", 4) == 0 && strlen(q + 1) <= QUERY_MAX)
		r->query = xstrdup(q + 1);
	/* the URI fits in libmicrohttpd's per-connection pool (CONN_MEMORY), so these copies are bounded too */
	r->raw_path = q != NULL ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
	r->raw_len = strlen(uri);
	r->nul = strstr(uri, "%00") != NULL;
	api_conn_request(conn);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
	(void)cls;
	struct req *r = *ctx;
	if (r == NULL)
		*ctx = r = xcalloc(1, sizeof *r);
	if (r->conn == NULL) {
		r->conn = conn;
		r->method = method;
		r->url = xstrdup(url);
		r->start_us = mono_us();
		/* A NUL byte sent as such ends the URI libmicrohttpd hands over early. The request line is one buffer in
		 * which the version follows the URI and a space, so the URI as sent ran up to there. */
		if (r->raw_path != NULL && version[0] != '\0' && (size_t)(version - url) != r->raw_len + 1)
			r->nul = true;
		buf_init(&r->body, body_cap(url));
		*ctx = r;
		if (!declared_too_large(r))
			return MHD_YES; /* the body follows (after "100 Continue" if the client asked for it) */
		too_large(r); /* at once, before the body: libmicrohttpd then closes the connection after the answer */
		return api_conn_received(conn) ? queue(r) : MHD_NO;
	}
	if (*upload_size > 0) {
		if (buf_append(&r->body, upload, *upload_size) < 0) {
			r->discarded += *upload_size;
			if (r->discarded > DISCARD_FACTOR * r->body.max) /* the same cap as declared_too_large's */
				return MHD_NO; /* a peer that keeps sending: drop the connection */
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->ready && r->job.done == NULL) {
		if (!api_conn_received(conn))
			return MHD_NO; /* past its deadline, already shut down: nothing is done for it */
		if (r->body.toobig)
			too_large(r);
		else
			dispatch(r);
	}
	if (!r->ready)
		return MHD_YES; /* suspended until its commit */
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)toe;
	api_conn_answered(conn);
	struct req *r = *ctx;
	if (r == NULL)
		return;
	if (r->cleanup)
		r->cleanup(r);
	free(r->url);
	free(r->query);
	free(r->raw_path);
	free(r->segs_buf);
	free(r->idem_key);
	free(r->allow);
	free(r->resp);
	if (r->mhd_resp != NULL)
		MHD_destroy_response(r->mhd_resp);
	app_token_dispose(&r->tok);
	buf_dispose(&r->body);
	free(r);
	*ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

struct api *api_start(const struct config *c, struct store *st, int listen_fd, const char *token)
{
	cfg = c;
	store = st;
	SHA256((const unsigned char *)token, strlen(token), token_hash);
	struct api *a = xcalloc(1, sizeof *a);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned limit = api_conn_limit(cfg);
	api_conn_start(cfg, limit); /* before the first connection's notification */
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
				  MHD_OPTION_NOTIFY_CONNECTION, api_conn_event, NULL,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_S, MHD_OPTION_CONNECTION_LIMIT, limit,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (a->mhd == NULL) {
		api_conn_stop();
		free(a);
		return NULL;
	}
	return a;
}

void api_stop(struct api *a)
{
	if (a == NULL)
		return;
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	MHD_socket fd = MHD_quiesce_daemon(a->mhd);
	/* Writes already accepted are committed and answered before the connections close; new ones are refused
	 * (api_submit), so the count only goes down. */
	int64_t deadline = mono_ms() + STOP_WAIT_MS;
	while (__atomic_load_n(&suspended, __ATOMIC_SEQ_CST) > 0 && mono_ms() < deadline)
		usleep(1000);
	api_conn_stop(); /* the connections close below (or the process exits) */
	if (__atomic_load_n(&suspended, __ATOMIC_SEQ_CST) > 0)
		log_warnx("api: %d writes still wait for the database after %d s; exiting without closing their "
			  "connections", __atomic_load_n(&suspended, __ATOMIC_SEQ_CST), STOP_WAIT_MS / 1000);
	else
		MHD_stop_daemon(a->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(a);
}
