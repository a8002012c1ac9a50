/* api_source.c: /source (inbound sources: create, list, get, patch, delete, received requests) and the ingest
 * route /in/{source}, which providers call without the API token.
 *
 * A source's destinations are the endpoints of its internal app (uid "hookd.source.<id>"); a verified,
 * non-duplicate request becomes a message of that app carrying the original bytes, content type and provider
 * headers, so the dispatcher forwards, signs, retries and records it like any message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "source.h"

/* ---- writes of a source: the source row, its internal app and endpoints, in one job ---- */

struct src_op {
	struct source *src;        /* the new snapshot (NULL: delete) */
	char id[ID_MAX];
	char app_id[ID_MAX];
	struct app *new_app;       /* created with the source */
	struct endpoint *eps;      /* endpoints to put */
	size_t neps;
	char (*dead)[ID_MAX];      /* endpoints to delete */
	size_t ndead;
	char *config_text;
};

static void src_cleanup(struct req *r)
{
	struct src_op *op = r->op;
	if (op == NULL)
		return;
	source_unref(op->src);
	if (op->new_app) {
		app_dispose(op->new_app);
		free(op->new_app);
	}
	for (size_t i = 0; i < op->neps; i++)
		endpoint_dispose(&op->eps[i]);
	free(op->eps);
	free(op->dead);
	free(op->config_text);
	free(op);
}

static int src_run(struct store *st, struct req *r)
{
	struct src_op *op = r->op;
	const struct store_write_ops *o = st->w;
	int rc = STORE_OK;
	if (op->src == NULL) {
		rc = o->source_delete(st, op->id);
		if (rc == STORE_OK)
			rc = o->app_delete(st, op->app_id);
		if (rc == STORE_NOTFOUND)
			api_not_found(r);
		return rc;
	}
	if (op->new_app != NULL)
		rc = o->app_put(st, op->new_app);
	for (size_t i = 0; rc == STORE_OK && i < op->ndead; i++)
		rc = o->endpoint_delete(st, op->dead[i]);
	for (size_t i = 0; rc == STORE_OK && i < op->neps; i++)
		rc = o->endpoint_put(st, &op->eps[i]);
	if (rc == STORE_OK)
		rc = o->source_put(st, op->id, op->src->uid, op->config_text);
	if (rc == STORE_CONFLICT)
		api_error(r, 409, "conflict", "A source with this uid already exists");
	return rc;
}

static void src_after(struct req *r)
{
	struct src_op *op = r->op;
	if (op->src == NULL) {
		sources_del(op->id);
		cache_app_delete(op->app_id);
		return;
	}
	if (op->new_app != NULL)
		cache_app_put(op->new_app);
	for (size_t i = 0; i < op->ndead; i++)
		cache_endpoint_delete(op->dead[i]);
	for (size_t i = 0; i < op->neps; i++)
		cache_endpoint_put(&op->eps[i]);
	sources_put(op->src);
}

static struct src_op *src_op_new(struct req *r)
{
	struct src_op *op = xcalloc(1, sizeof *op);
	r->op = op;
	r->cleanup = src_cleanup;
	r->run = src_run;
	r->after = src_after;
	return op;
}

/* One endpoint of the internal app per destination; each endpointId is written back into the config. */
static void make_endpoints(struct src_op *op, json_t *dests, int64_t now)
{
	op->neps = json_array_size(dests);
	op->eps = xcalloc(op->neps + 1, sizeof *op->eps);
	for (size_t i = 0; i < op->neps; i++) {
		json_t *d = json_array_get(dests, i);
		struct endpoint *e = &op->eps[i];
		char secret[HOOKD_SECRET_MAX];
		hookd_secret_new(24, secret, sizeof secret);
		id_new("ep_", e->id);
		memcpy(e->app_id, op->app_id, ID_MAX);
		e->url = xstrdup(json_string_value(json_object_get(d, "url")));
		e->description = xstrdup("inbound source destination");
		e->secret = xstrdup(secret);
		e->metadata = json_object();
		e->headers = json_deep_copy(json_object_get(d, "headers"));
		struct verr ve = {0};
		api_endpoint_retry_parse(d, e, false, &ve); /* validated already */
		verr_dispose(&ve);
		e->created_ms = e->updated_ms = now;
		json_object_set_new(d, "endpointId", json_string(e->id));
	}
}

/* A destination's sensitive header values are shown by name only, as an endpoint's are. */
static void redact_headers(json_t *dest)
{
	json_t *h = json_object_get(dest, "headers"), *names = json_array();
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(h, tmp, k, v) {
		if (json_is_string(v) && api_header_sensitive(k)) {
			json_array_append_new(names, json_string(k));
			json_object_del(h, k);
		}
	}
	json_object_set_new(dest, "sensitiveHeaders", names);
}

/* SourceOut: the config without the provider's secrets (GET .../secret shows them, like an endpoint's) nor the
 * destinations' sensitive header values. */
static json_t *source_out(const struct source *s)
{
	json_t *j = json_deep_copy(s->config);
	json_object_set_new(j, "secretCount", json_integer((json_int_t)json_array_size(json_object_get(j, "secrets"))));
	json_object_del(j, "secrets");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(j, "destinations"), i, d)
		redact_headers(d);
	return j;
}

static void reply_source(struct req *r, int status, const struct src_op *op)
{
	api_reply_json(r, status, source_out(op->src));
}

/* Finish a create or patch: the snapshot from config (stolen), answer, submit. */
static void src_submit(struct req *r, struct src_op *op, json_t *config, int status)
{
	snprintf(op->id, sizeof op->id, "%s", json_string_value(json_object_get(config, "id")));
	op->config_text = json_dump(config);
	op->src = source_new(config);
	if (op->src == NULL) {
		api_error(r, 500, "internal_error", "the source could not be built");
		return;
	}
	reply_source(r, status, op);
	api_submit(r);
}

/* source_validate, plus what depends on the server: a scheme that signs the URL needs to know it. */
static json_t *validate(json_t *in, struct verr *ve)
{
	json_t *cfg = source_validate(in, ve);
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(cfg, "destinations"), i, d) {
		struct endpoint scratch = {0};
		api_endpoint_retry_parse(d, &scratch, false, ve);
	}
	if (cfg != NULL && verr_any(ve)) {
		json_decref(cfg);
		return NULL;
	}
	if (cfg != NULL && strcmp(json_string_value(json_object_get(cfg, "scheme")), "twilio") == 0 &&
	    json_is_null(json_object_get(cfg, "publicUrl")) && api_config()->public_url == NULL) {
		verr_add(ve, "publicUrl", "twilio signs the URL it posts to: set publicUrl (or start with --public-url)",
			 "value_error.missing");
		json_decref(cfg);
		return NULL;
	}
	return cfg;
}

void api_source_create(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	json_t *cfg = validate(body, &ve);
	json_decref(body);
	if (cfg == NULL) {
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	struct src_op *op = src_op_new(r);
	char id[ID_MAX], uid[ID_MAX + 32];
	int64_t now = now_ms();
	id_new("src_", id);
	id_new("app_", op->app_id);
	snprintf(uid, sizeof uid, SOURCE_APP_UID_PREFIX "%s", id);
	op->new_app = xcalloc(1, sizeof *op->new_app);
	memcpy(op->new_app->id, op->app_id, ID_MAX);
	op->new_app->uid = xstrdup(uid);
	op->new_app->name = xstrdup("hookd inbound source");
	op->new_app->metadata = json_object();
	op->new_app->created_ms = op->new_app->updated_ms = now;
	make_endpoints(op, json_object_get(cfg, "destinations"), now);
	json_object_set_new(cfg, "id", json_string(id));
	json_object_set_new(cfg, "appId", json_string(op->app_id));
	json_object_set_new(cfg, "createdAt", time_to_json(now));
	json_object_set_new(cfg, "updatedAt", time_to_json(now));
	src_submit(r, op, cfg, 201);
}

static struct source *src_lookup(struct req *r)
{
	struct source *s = sources_lookup(r->seg[1]);
	if (s == NULL)
		api_not_found(r);
	return s;
}

void api_source_get(struct req *r)
{
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	api_reply_json(r, 200, source_out(s));
	source_unref(s);
}

void api_source_secret(struct req *r)
{
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	api_reply_json(r, 200, json_pack("{s:O}", "secrets", json_object_get(s->config, "secrets")));
	source_unref(s);
}

void api_source_list(struct req *r)
{
	struct list_req lr;
	if (api_list_begin(r, true, &lr) < 0)
		return;
	struct source **v;
	size_t n = sources_list(&lr.pg, &v);
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		items[i] = source_out(v[i]);
		ids[i] = v[i]->id;
	}
	api_list_reply(r, &lr, items, ids, n);
	for (size_t i = 0; i < n; i++)
		source_unref(v[i]);
	free(v);
	free(items);
	free(ids);
}

void api_source_delete(struct req *r)
{
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	struct src_op *op = src_op_new(r);
	memcpy(op->id, s->id, ID_MAX);
	memcpy(op->app_id, s->app_id, ID_MAX);
	source_unref(s);
	api_reply(r, 204, NULL);
	api_submit(r);
}

/* The endpoints of the old destinations, to delete when the destinations change. */
static void old_endpoints(struct src_op *op)
{
	struct endpoint *eps = NULL;
	size_t n = 0;
	cache_endpoint_list(op->app_id, &(struct page){.limit = SOURCE_DEST_MAX * 4, .ascending = true}, &eps, &n);
	op->dead = xcalloc(n + 1, sizeof *op->dead);
	for (size_t i = 0; i < n; i++) {
		memcpy(op->dead[op->ndead++], eps[i].id, ID_MAX);
		endpoint_dispose(&eps[i]);
	}
	free(eps);
}

void api_source_patch(struct req *r)
{
	struct source *s = src_lookup(r);
	json_t *body = s ? api_body_object(r) : NULL;
	if (body == NULL) {
		source_unref(s);
		return;
	}
	json_t *merged = json_deep_copy(s->config);
	json_object_update(merged, body);
	struct verr ve = {0};
	json_t *cfg = validate(merged, &ve);
	json_decref(merged);
	if (cfg == NULL) {
		api_reply(r, 422, verr_body(&ve));
	} else {
		struct src_op *op = src_op_new(r);
		memcpy(op->app_id, s->app_id, ID_MAX);
		if (json_object_get(body, "destinations") != NULL) {
			old_endpoints(op);
			make_endpoints(op, json_object_get(cfg, "destinations"), now_ms());
		} else {
			json_object_set(cfg, "destinations", json_object_get(s->config, "destinations"));
		}
		const char *const keep[] = {"id", "appId", "createdAt"};
		for (size_t i = 0; i < 3; i++)
			json_object_set(cfg, keep[i], json_object_get(s->config, keep[i]));
		json_object_set_new(cfg, "updatedAt", time_to_json(now_ms()));
		src_submit(r, op, cfg, 200);
	}
	json_decref(body);
	source_unref(s);
}

/* ---- received requests ---- */

static const char *forward_status(const struct inreq *q)
{
	if (q->msg_id[0] == '\0' || q->fwd[0] + q->fwd[1] + q->fwd[2] == 0)
		return "none";
	if (q->fwd[1] > 0)
		return "pending";
	return q->fwd[2] > 0 ? "failed" : "success";
}

static json_t *inreq_to_json(const struct inreq *q)
{
	json_t *h = q->headers ? json_loads(q->headers, 0, NULL) : NULL;
	return json_pack("{s:s,s:s,s:o,s:s?,s:o,s:s?,s:b,s:s,s:b,s:o,s:s,s:I}", "id", q->id, "sourceId", q->source_id,
			 "receivedAt", time_to_json(q->received_ms), "method", q->method, "headers",
			 h ? h : json_object(), "dedupKey", q->dedup_key, "verified", q->verify_rc == HOOKD_OK,
			 "verification", q->verify_rc == HOOKD_OK ? "ok" : hookd_strerror(q->verify_rc),
			 "duplicate", q->duplicate, "msgId", q->msg_id[0] ? json_string(q->msg_id) : json_null(),
			 "forwardStatus", forward_status(q), "bodySize", (json_int_t)q->body_len);
}

/* GET .../request/{id}: one request with its body (text when it is UTF-8, else base64). */
void api_source_request_get(struct req *r)
{
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	struct inreq q = {0};
	int rc = api_store()->q->inreq_get(api_store(), s->id, r->seg[3], &q);
	if (rc == STORE_OK) {
		json_t *j = inreq_to_json(&q);
		json_t *text = q.body ? json_stringn(q.body, q.body_len) : NULL;
		if (text != NULL) {
			json_object_set_new(j, "body", text);
		} else if (q.body != NULL) {
			char *b64 = xmalloc(4 * (q.body_len / 3 + 1) + 1);
			hookd_base64_encode(q.body, q.body_len, b64, 4 * (q.body_len / 3 + 1) + 1);
			json_object_set_new(j, "bodyBase64", json_string(b64));
			free(b64);
		} else {
			json_object_set_new(j, "body", json_null());
		}
		api_reply_json(r, 200, j);
	} else if (rc == STORE_NOTFOUND) {
		api_not_found(r);
	} else {
		api_error(r, 500, "internal_error", "the database failed");
	}
	inreq_dispose(&q);
	source_unref(s);
}

void api_source_requests(struct req *r)
{
	struct list_req lr;
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	if (api_list_begin(r, false, &lr) == 0) {
		struct inreq *v = NULL;
		size_t n = 0;
		if (api_store()->q->inreq_list(api_store(), s->id, &lr.pg, &v, &n) != STORE_OK) {
			api_error(r, 500, "internal_error", "the database failed");
		} else {
			json_t **items = xcalloc(n + 1, sizeof *items);
			const char **ids = xcalloc(n + 1, sizeof *ids);
			for (size_t i = 0; i < n; i++) {
				items[i] = inreq_to_json(&v[i]);
				ids[i] = v[i].id;
			}
			api_list_reply(r, &lr, items, ids, n);
			free(items);
			free(ids);
		}
		for (size_t i = 0; i < n; i++)
			inreq_dispose(&v[i]);
		free(v);
	}
	source_unref(s);
}

/* ---- ingest: POST /in/{source} ---- */

struct in_op {
	struct source *src;
	struct inreq rq;
	struct outmsg *om;        /* the message to forward */
	const char **ep_ptrs;
};

static void in_cleanup(struct req *r)
{
	struct in_op *op = r->op;
	source_unref(op->src);
	inreq_dispose(&op->rq);
	outmsg_unref(op->om);
	free(op->ep_ptrs);
	free(op);
}

static int in_forward(struct store *st, struct in_op *op)
{
	int rc = st->w->inreq_seen(st, op->src->id, op->rq.dedup_key, op->rq.received_ms - op->src->dedup_window_ms);
	if (rc == STORE_OK) {
		op->rq.duplicate = true;
		return STORE_OK;
	}
	if (rc != STORE_NOTFOUND)
		return rc;
	struct message *m = &op->om->m;
	rc = st->w->msg_insert(st, m, op->ep_ptrs, op->om->n, m->created_ms, op->om->dkeys);
	if (rc == STORE_OK)
		memcpy(op->rq.msg_id, m->id, ID_MAX);
	return rc;
}

static enum inbound_outcome in_outcome(int verify_rc, bool duplicate)
{
	switch (verify_rc) {
	case HOOKD_OK:
		return duplicate ? IN_DUPLICATE : IN_ACCEPTED;
	case HOOKD_ERR_MISSING:
		return IN_MISSING_SIGNATURE;
	case HOOKD_ERR_MALFORMED:
		return IN_MALFORMED_SIGNATURE;
	case HOOKD_ERR_STALE:
		return IN_STALE;
	case HOOKD_ERR_FUTURE:
		return IN_FUTURE;
	default:
		return IN_INVALID_SIGNATURE;
	}
}

/* A signature header that does not parse is a malformed request (400); a missing, stale or wrong one is 401. */
static void reply_rejected(struct req *r, int verify_rc)
{
	bool malformed = verify_rc == HOOKD_ERR_MALFORMED;
	api_reply_json(r, malformed ? 400 : 401,
		       json_pack("{s:s,s:s}", "code", malformed ? "malformed_signature" : "invalid_signature", "detail",
				 hookd_strerror(verify_rc)));
}

static int in_run(struct store *st, struct req *r)
{
	struct in_op *op = r->op;
	struct inreq *q = &op->rq;
	int rc = q->verify_rc == HOOKD_OK ? in_forward(st, op) : STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (q->duplicate) { /* a forwarded request's body is its message's payload; a duplicate keeps its own */
		q->body = op->om->m.payload;
		q->body_len = op->om->m.payload_len;
	}
	rc = st->w->inreq_insert(st, q);
	q->body = NULL; /* borrowed */
	if (rc != STORE_OK)
		return rc;
	metrics_inbound(in_outcome(q->verify_rc, q->duplicate));
	if (q->verify_rc != HOOKD_OK)
		reply_rejected(r, q->verify_rc);
	else
		api_reply_json(r, 200, json_pack("{s:s,s:b}", "id", q->id, "duplicate", q->duplicate));
	return STORE_OK;
}

static void in_after(struct req *r)
{
	struct in_op *op = r->op;
	if (op->rq.msg_id[0] != '\0' && op->om->n > 0) {
		deliver_submit(op->om);
		op->om = NULL;
	}
}

static const char *hdr_lookup(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	char name[HOOKD_HEADER_NAME_MAX + 1];
	size_t n = strlen(key);
	if (value == NULL || n == 0 || n > HOOKD_HEADER_NAME_MAX || !source_header_recorded(key))
		return MHD_YES;
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	json_object_set_new(cls, name, json_string(value));
	return MHD_YES;
}

/* What the destinations get besides the body: the provider's headers, its user agent renamed, and ours. */
static char *forward_headers(json_t *recorded, const struct in_op *op)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(recorded, k, v) {
		if (source_header_forwarded(k))
			json_object_set(out, k, v);
	}
	json_t *ua = json_object_get(recorded, "user-agent");
	if (ua != NULL)
		json_object_set(out, "x-forwarded-user-agent", ua);
	json_object_set_new(out, "x-hookd-source", json_string(op->src->id));
	json_object_set_new(out, "x-hookd-event-id", json_string(op->rq.dedup_key));
	char *text = json_dump(out);
	json_decref(out);
	return text;
}

static void in_message(struct req *r, struct in_op *op, json_t *recorded)
{
	struct message m = {0};
	id_new("msg_", m.id);
	memcpy(m.app_id, op->src->app_id, ID_MAX);
	m.event_type = xstrdup(SOURCE_EVENT_TYPE);
	m.created_ms = op->rq.received_ms;
	m.payload = xmalloc(r->body.len + 1);
	if (r->body.len > 0)
		memcpy(m.payload, r->body.data, r->body.len);
	m.payload[r->body.len] = '\0';
	m.payload_len = r->body.len;
	const char *ct = hdr_lookup(r->conn, "Content-Type");
	m.content_type = xstrdup(ct ? ct : "application/octet-stream");
	m.extra_headers = forward_headers(recorded, op);
	char(*ids)[ID_MAX];
	size_t n = cache_fanout(m.app_id, m.event_type, &m.channels, &ids);
	op->om = outmsg_new(&m, ids, n);
	op->ep_ptrs = xcalloc(n + 1, sizeof *op->ep_ptrs);
	for (size_t i = 0; i < n; i++)
		op->ep_ptrs[i] = op->om->ep_ids[i];
}

/* The URL a URL-signing provider (Twilio) signed: the source's publicUrl, else --public-url and the path, then
 * the query string exactly as received. NULL if neither is known (such a scheme then fails to verify). */
static char *signed_url(const struct req *r, const struct source *s)
{
	const char *pub = api_config()->public_url;
	if (s->public_url == NULL && pub == NULL)
		return NULL;
	const char *q = r->query ? r->query : "";
	size_t n = strlen(s->public_url ? s->public_url : pub) + strlen(r->url) + strlen(q) + 2;
	char *u = xmalloc(n);
	if (s->public_url != NULL)
		snprintf(u, n, "%s%s%s", s->public_url, *q ? "?" : "", q);
	else
		snprintf(u, n, "%s%s%s%s", pub, r->url, *q ? "?" : "", q);
	return u;
}

static int in_verify(struct req *r, const struct source *s, int64_t now_s)
{
	if (s->verifier == NULL)
		return HOOKD_OK;
	char *url = signed_url(r, s);
	int rc = hookd_verify_lookup_url(s->verifier, url, hdr_lookup, r->conn, r->body.data ? r->body.data : "",
					 r->body.len, now_s);
	free(url);
	return rc;
}

static void in_record(struct req *r, struct in_op *op)
{
	struct source *s = op->src;
	struct inreq *q = &op->rq;
	id_new("inr_", q->id);
	memcpy(q->source_id, s->id, ID_MAX);
	q->method = xstrdup(r->method);
	q->received_ms = now_ms();
	q->verify_rc = in_verify(r, s, q->received_ms / 1000);
	json_t *recorded = json_object();
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, recorded);
	q->headers = json_dump(recorded);
	if (q->verify_rc == HOOKD_OK) {
		const char *hv = s->dedup_kind == DEDUP_HEADER ? hdr_lookup(r->conn, s->dedup_arg) : NULL;
		q->dedup_key = source_dedup_key(s->dedup_kind, s->dedup_arg, hv, r->body.data, r->body.len);
		in_message(r, op, recorded);
	}
	json_decref(recorded);
}

/* ---- replay: POST /source/{id}/request/{req}/replay sends a forwarded request again to every destination ---- */

static int replay_run(struct store *st, struct req *r)
{
	struct outmsg *om = ((struct in_op *)r->op)->om;
	int rc = STORE_OK;
	for (size_t i = 0; rc == STORE_OK && i < om->n; i++)
		rc = st->w->delivery_add(st, om->m.app_id, om->m.id, om->ep_ids[i], TRIGGER_SCHEDULED, now_ms(),
					   &om->dkeys[i]);
	return rc;
}

static void replay_after(struct req *r)
{
	struct in_op *op = r->op;
	if (op->om->n > 0) {
		deliver_submit(op->om);
		op->om = NULL;
	}
}

/* The message a request was forwarded as, or NULL after answering why there is none. */
static bool replay_message(struct req *r, const struct source *s, const struct inreq *q, struct message *m)
{
	if (q->msg_id[0] == '\0') {
		api_error(r, 409, "not_forwarded",
			  q->verify_rc != HOOKD_OK ? "a rejected request is never forwarded"
						   : "a duplicate was not forwarded: replay the original request");
		return false;
	}
	int rc = api_store()->q->msg_get(api_store(), s->app_id, q->msg_id, m);
	if (rc == STORE_OK && m->payload != NULL)
		return true;
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		api_error(r, 410, "gone", "the request's body is past its retention");
	else
		api_error(r, 500, "internal_error", "the database failed");
	return false;
}

void api_source_request_replay(struct req *r)
{
	struct source *s = src_lookup(r);
	if (s == NULL)
		return;
	struct inreq q = {0};
	struct message m = {0};
	int rc = api_store()->q->inreq_get(api_store(), s->id, r->seg[3], &q);
	if (rc != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			api_not_found(r);
		else
			api_error(r, 500, "internal_error", "the database failed");
	} else if (replay_message(r, s, &q, &m)) {
		struct in_op *op = xcalloc(1, sizeof *op);
		op->src = source_ref(s);
		r->op = op;
		r->cleanup = in_cleanup;
		char(*ids)[ID_MAX];
		size_t n = cache_fanout(m.app_id, m.event_type, &m.channels, &ids);
		m.deliver_at_ms = 0;
		op->om = outmsg_new(&m, ids, n);
		api_reply_json(r, 202, json_pack("{s:s,s:s,s:I}", "id", q.id, "msgId", q.msg_id, "destinations",
						  (json_int_t)n));
		r->run = replay_run;
		r->after = replay_after;
		api_submit(r);
	}
	message_dispose(&m);
	inreq_dispose(&q);
	source_unref(s);
}

/* The source named by /in/{key}, or NULL. */
struct source *api_inbound_source(const char *url)
{
	char key[300];
	if (strncmp(url, "/in/", 4) != 0)
		return NULL;
	snprintf(key, sizeof key, "%s", url + 4);
	size_t n = strlen(key);
	if (n > 0 && key[n - 1] == '/')
		key[--n] = '\0';
	if (n == 0 || strchr(key, '/') != NULL)
		return NULL;
	return sources_lookup(key);
}

void api_inbound(struct req *r)
{
	struct source *s = api_inbound_source(r->url);
	if (s == NULL) {
		metrics_inbound(IN_UNKNOWN_SOURCE);
		api_not_found(r);
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		source_unref(s);
		api_error(r, 405, "method_not_allowed", "Method not allowed");
		return;
	}
	if (!source_content_type_ok(&s->content_types, hdr_lookup(r->conn, "Content-Type"))) {
		source_unref(s);
		metrics_inbound(IN_UNSUPPORTED_TYPE);
		api_error(r, 415, "unsupported_media_type", "this source does not take this content type");
		return;
	}
	struct in_op *op = xcalloc(1, sizeof *op);
	op->src = s;
	r->op = op;
	r->cleanup = in_cleanup;
	in_record(r, op);
	if (op->rq.verify_rc != HOOKD_OK && !source_reject_budget(s, now_ms())) {
		metrics_inbound(in_outcome(op->rq.verify_rc, false));
		reply_rejected(r, op->rq.verify_rc);
		return;
	}
	r->run = in_run;
	r->after = in_after;
	api_submit(r);
}
