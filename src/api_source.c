/* api_source.c: /source (inbound sources: create, list, get, patch, delete, received requests). The ingest
 * route /in/{source}, which providers call without the API token, and replays are in api_inbound.c.
 *
 * A source's destinations are the endpoints of its internal app (uid "hookd.source.<id>"); a verified,
 * non-duplicate request becomes a message of that app carrying the original bytes, content type and provider
 * headers, so the dispatcher forwards, signs, retries and records it like any message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
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

/* The registries follow the job's writes once it commits: recorded in the order of the writes. */
static void src_changes(struct req *r, const struct src_op *op)
{
	struct commit_job *job = &r->job;
	if (op->src == NULL) {
		commit_change(job, &(struct change){.kind = CHANGE_SOURCE_DELETE, .id = op->id});
		commit_change(job, &(struct change){.kind = CHANGE_APP_DELETE, .id = op->app_id});
		return;
	}
	if (op->new_app != NULL)
		commit_change(job, &(struct change){.kind = CHANGE_APP_PUT, .app = op->new_app});
	for (size_t i = 0; i < op->ndead; i++)
		commit_change(job, &(struct change){.kind = CHANGE_ENDPOINT_DELETE, .id = op->dead[i]});
	for (size_t i = 0; i < op->neps; i++)
		commit_change(job, &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &op->eps[i]});
	commit_change(job, &(struct change){.kind = CHANGE_SOURCE_PUT, .source = op->src});
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
		if (rc == STORE_OK)
			src_changes(r, op);
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
	if (rc == STORE_OK)
		src_changes(r, op);
	return rc;
}

static struct src_op *src_op_new(struct req *r)
{
	struct src_op *op = xcalloc(1, sizeof *op);
	r->op = op;
	r->cleanup = src_cleanup;
	r->run = src_run;
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
		api_url_guard(json_string_value(json_object_get(d, "url")), "destinations", ve);
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

struct source *api_source_lookup(struct req *r)
{
	struct source *s = sources_lookup(r->seg[1]);
	if (s == NULL)
		api_not_found(r);
	return s;
}

void api_source_get(struct req *r)
{
	struct source *s = api_source_lookup(r);
	if (s == NULL)
		return;
	api_reply_json(r, 200, source_out(s));
	source_unref(s);
}

void api_source_secret(struct req *r)
{
	struct source *s = api_source_lookup(r);
	if (s == NULL)
		return;
	api_reply_json(r, 200, json_pack("{s:O}", "secrets", json_object_get(s->config, "secrets")));
	source_unref(s);
}

void api_source_list(struct req *r)
{
	struct list_req lr;
	if (api_list_begin(r, true, "src_", &lr) < 0)
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
	struct source *s = api_source_lookup(r);
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
	struct source *s = api_source_lookup(r);
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
	struct source *s = api_source_lookup(r);
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
	struct source *s = api_source_lookup(r);
	if (s == NULL)
		return;
	if (api_list_begin(r, false, "inr_", &lr) == 0) {
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
