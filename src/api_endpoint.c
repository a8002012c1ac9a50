/* api_endpoint.c: /app/{app}/endpoint — endpoints. Reads from the cache; writes through the committer. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "cache.h"
#include "filter.h"
#include "hookd.h"
#include "json.h"
#include "opevents.h"

#define URL_MAX 4096

static bool url_valid(const char *url)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = h != NULL && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		  (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0] != '\0';
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	return ok;
}

/* Secrets match ^(whsec_)?[A-Za-z0-9+/=]{32,100}$ and decode to 24..64 bytes. */
static bool secret_valid(const char *s)
{
	const char *b = strncmp(s, "whsec_", 6) == 0 ? s + 6 : s;
	size_t n = strlen(b);
	if (n < 32 || n > 100 || strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return false;
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen;
	return hookd_secret_decode(s, key, &keylen) == HOOKD_OK;
}

static bool header_name_valid(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 256 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~") == n;
}

static void headers_check(json_t *headers, struct verr *ve)
{
	const char *k;
	json_t *v;
	json_object_foreach(headers, k, v) {
		if (!header_name_valid(k) || strpbrk(json_string_value(v), "\r\n") != NULL) {
			verr_add(ve, "headers", "invalid header name or value", "value_error");
			return;
		}
	}
}

static void parse_list(json_t *body, const char *field, const char *alias, bool (*valid)(const char *),
		       bool patch, struct verr *ve, struct strlist *out)
{
	const char *f = json_object_get(body, field) ? field : alias;
	struct strlist l = {0};
	if (jfield_strlist(body, f, 256, valid, ve, &l)) {
		strlist_dispose(out);
		*out = l;
		if (out->n == 0) /* an empty filter means every type, as no filter does */
			strlist_dispose(out);
	} else if (jfield_is_null(body, f) || (!patch && jfield_missing(body, f))) {
		strlist_dispose(out);
	}
}

static void string_field(json_t *body, const char *field, size_t max, struct verr *ve, char **out)
{
	const char *s;
	if (jfield_string(body, field, 0, max, ve, &s)) {
		free(*out);
		*out = xstrdup(s);
	}
}

/* Apply an EndpointIn / EndpointUpdate / EndpointPatch body onto e. */
static void endpoint_parse(json_t *body, struct endpoint *e, bool patch, struct verr *ve)
{
	const char *s;
	int64_t n;
	string_field(body, "url", URL_MAX, ve, &e->url);
	if (e->url == NULL && jfield_missing(body, "url"))
		verr_add(ve, "url", "field required", "value_error.missing");
	else if (e->url != NULL && !url_valid(e->url))
		verr_add(ve, "url", "invalid or missing URL scheme (http or https)", "value_error.url");
	string_field(body, "description", 4096, ve, &e->description);
	if (e->description == NULL)
		e->description = xstrdup("");
	if (jfield_string(body, "uid", 1, 256, ve, &s)) {
		if (!uid_valid(s)) {
			verr_add(ve, "uid", "uid must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
		} else {
			free(e->uid);
			e->uid = xstrdup(s);
		}
	} else if (jfield_is_null(body, "uid") || (!patch && jfield_missing(body, "uid"))) {
		free(e->uid);
		e->uid = NULL;
	}
	bool disabled;
	if (jfield_bool(body, "disabled", ve, &disabled))
		e->disabled = disabled;
	else if (!patch && jfield_missing(body, "disabled"))
		e->disabled = false;
	parse_list(body, "eventTypes", "filterTypes", filter_pattern_valid, patch, ve, &e->event_types);
	parse_list(body, "channels", "channels", filter_channel_valid, patch, ve, &e->channels);
	if (jfield_string(body, "secret", 0, 200, ve, &s)) {
		if (!secret_valid(s)) {
			verr_add(ve, "secret", "secret must be whsec_ + base64 of 24 to 64 bytes", "value_error");
		} else {
			free(e->secret);
			e->secret = xstrdup(s);
		}
	}
	json_t *map = NULL;
	if (jfield_string_map(body, "metadata", ve, &map)) {
		json_decref(e->metadata);
		e->metadata = map;
	}
	if (jfield_string_map(body, "headers", ve, &map)) {
		headers_check(map, ve);
		json_decref(e->headers);
		e->headers = map;
	}
	const char *rate_field = json_object_get(body, "throttleRate") ? "throttleRate" : "rateLimit";
	if (jfield_int(body, rate_field, 1, 1000000, ve, &n))
		e->throttle_rate = n;
	else if (jfield_is_null(body, rate_field) || (!patch && jfield_missing(body, rate_field)))
		e->throttle_rate = 0;
	if (e->metadata == NULL)
		e->metadata = json_object();
	if (e->headers == NULL)
		e->headers = json_object();
}

static void endpoint_cleanup(struct req *r)
{
	if (r->op != NULL) {
		endpoint_dispose(r->op);
		free(r->op);
	}
}

static int endpoint_put_run(struct store *st, struct req *r)
{
	int rc = st->ops->endpoint_put(st, r->op);
	if (rc == STORE_CONFLICT)
		api_error(r, 409, "conflict", "An endpoint with this uid already exists");
	return rc;
}

/* After an endpoint write: the cache, then the operational events. */
static void endpoint_put_after(struct req *r)
{
	struct endpoint *e = r->op;
	struct endpoint before = {0};
	bool existed = cache_endpoint_get(e->app_id, e->id, &before) == STORE_OK;
	cache_endpoint_put(e);
	if (opevents_is_internal(e->app_id))
		return;
	opevents_emit(existed ? "endpoint.updated" : "endpoint.created",
		      opevents_endpoint_data(e->app_id, e->id, e->uid));
	if (existed && e->disabled && !before.disabled) {
		json_t *d = opevents_endpoint_data(e->app_id, e->id, e->uid);
		json_object_set_new(d, "trigger", json_string("manual"));
		opevents_emit("endpoint.disabled", d);
	}
	if (existed)
		endpoint_dispose(&before);
}

static void endpoint_submit(struct req *r, struct endpoint *e, int status)
{
	struct endpoint *op = xmalloc(sizeof *op);
	*op = *e;
	memset(e, 0, sizeof *e);
	r->op = op;
	r->cleanup = endpoint_cleanup;
	if (op->uid != NULL && cache_endpoint_uid_taken(op->app_id, op->uid, op->id)) {
		api_error(r, 409, "conflict", "An endpoint with this uid already exists");
		return;
	}
	if (op->secret == NULL) {
		char secret[128];
		if (hookd_secret_new(24, secret, sizeof secret) != HOOKD_OK) {
			api_error(r, 500, "internal_error", "could not make a secret");
			return;
		}
		op->secret = xstrdup(secret);
	}
	if (status == 204)
		api_reply(r, 204, NULL);
	else
		api_reply_json(r, status, endpoint_to_json(op));
	r->run = endpoint_put_run;
	r->after = endpoint_put_after;
	api_submit(r);
}

/* The path's app and, with want_endpoint, its endpoint; answers 404 and returns -1 if absent. */
static int lookup(struct req *r, struct app *a, struct endpoint *e)
{
	if (api_app_lookup(r, r->seg[1], a) < 0)
		return -1;
	if (e != NULL && cache_endpoint_get(a->id, r->seg[3], e) != STORE_OK) {
		app_dispose(a);
		api_not_found(r);
		return -1;
	}
	return 0;
}

void api_endpoint_list(struct req *r)
{
	struct app a;
	struct list_req lr;
	if (lookup(r, &a, NULL) < 0)
		return;
	if (api_list_begin(r, true, &lr) == 0) {
		struct endpoint *eps;
		size_t n;
		cache_endpoint_list(a.id, &lr.pg, &eps, &n);
		json_t **items = xcalloc(n + 1, sizeof *items);
		const char **ids = xcalloc(n + 1, sizeof *ids);
		for (size_t i = 0; i < n; i++) {
			items[i] = endpoint_to_json(&eps[i]);
			ids[i] = eps[i].id;
		}
		api_list_reply(r, &lr, items, ids, n);
		for (size_t i = 0; i < n; i++)
			endpoint_dispose(&eps[i]);
		free(eps);
		free(items);
		free(ids);
	}
	app_dispose(&a);
}

/* path_uid: the uid a PUT to a missing endpoint creates it with, or NULL. */
static void endpoint_write(struct req *r, struct app *a, struct endpoint *e, bool exists, bool patch,
			   const char *path_uid)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	endpoint_parse(body, e, patch, &ve);
	json_decref(body);
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	e->updated_ms = now_ms();
	if (!exists) {
		if (e->uid == NULL && path_uid != NULL)
			e->uid = xstrdup(path_uid);
		snprintf(e->app_id, sizeof e->app_id, "%s", a->id);
		id_new("ep_", e->id);
		e->created_ms = e->updated_ms;
	}
	endpoint_submit(r, e, exists ? 200 : 201);
}

void api_endpoint_create(struct req *r)
{
	struct app a;
	struct endpoint e = {0};
	if (lookup(r, &a, NULL) < 0)
		return;
	endpoint_write(r, &a, &e, false, false, NULL);
	endpoint_dispose(&e);
	app_dispose(&a);
}

void api_endpoint_get(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (lookup(r, &a, &e) < 0)
		return;
	api_reply_json(r, 200, endpoint_to_json(&e));
	endpoint_dispose(&e);
	app_dispose(&a);
}

static void endpoint_update(struct req *r, bool patch)
{
	struct app a;
	struct endpoint e = {0};
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	bool exists = cache_endpoint_get(a.id, r->seg[3], &e) == STORE_OK;
	if (!exists && patch) {
		api_not_found(r);
	} else {
		/* PUT .../endpoint/{uid} creates the endpoint with that uid */
		bool is_uid = !id_is("ep_", r->seg[3]) && uid_valid(r->seg[3]);
		endpoint_write(r, &a, &e, exists, patch, is_uid ? r->seg[3] : NULL);
	}
	endpoint_dispose(&e);
	app_dispose(&a);
}

void api_endpoint_put(struct req *r) { endpoint_update(r, false); }
void api_endpoint_patch(struct req *r) { endpoint_update(r, true); }

static int endpoint_delete_run(struct store *st, struct req *r)
{
	return st->ops->endpoint_delete(st, ((struct endpoint *)r->op)->id);
}

static void endpoint_delete_after(struct req *r)
{
	struct endpoint *e = r->op;
	cache_endpoint_delete(e->id);
	if (!opevents_is_internal(e->app_id))
		opevents_emit("endpoint.deleted", opevents_endpoint_data(e->app_id, e->id, e->uid));
}

void api_endpoint_delete(struct req *r)
{
	struct app a;
	struct endpoint *e = xcalloc(1, sizeof *e);
	r->op = e;
	r->cleanup = endpoint_cleanup;
	if (lookup(r, &a, e) < 0)
		return;
	app_dispose(&a);
	api_reply(r, 204, NULL);
	r->run = endpoint_delete_run;
	r->after = endpoint_delete_after;
	api_submit(r);
}

void api_endpoint_secret(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (lookup(r, &a, &e) < 0)
		return;
	api_reply_json(r, 200, json_pack("{s:s}", "key", e.secret));
	endpoint_dispose(&e);
	app_dispose(&a);
}

/* Svix EndpointStats: deliveries by state. A delivery in flight counts as pending (hookd does not write the
 * short-lived sending state). */
void api_endpoint_stats(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (lookup(r, &a, &e) < 0)
		return;
	int64_t c[5] = {0};
	if (api_store()->ops->delivery_counts(api_store(), a.id, e.id, c) != STORE_OK)
		api_error(r, 500, "internal_error", "the database failed");
	else
		api_reply_json(r, 200, json_pack("{s:I,s:I,s:I,s:I,s:I}", "success", (json_int_t)c[DS_SUCCESS],
						 "pending", (json_int_t)c[DS_PENDING], "sending",
						 (json_int_t)c[DS_SENDING], "fail", (json_int_t)c[DS_FAIL], "canceled",
						 (json_int_t)c[DS_CANCELED]));
	endpoint_dispose(&e);
	app_dispose(&a);
}

/* ---- custom headers: GET shows sensitive ones by name only; PUT replaces; PATCH merges (null deletes) ---- */

static bool header_sensitive(const char *name)
{
	static const char *const names[] = {"authorization", "proxy-authorization", "cookie", "x-api-key",
					    "api-key", "x-auth-token", "x-access-token"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

void api_endpoint_headers_get(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (lookup(r, &a, &e) < 0)
		return;
	json_t *shown = json_object(), *sensitive = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(e.headers, k, v) {
		if (header_sensitive(k))
			json_array_append_new(sensitive, json_string(k));
		else
			json_object_set(shown, k, v);
	}
	api_reply_json(r, 200, json_pack("{s:o,s:o}", "headers", shown, "sensitive", sensitive));
	endpoint_dispose(&e);
	app_dispose(&a);
}

static void headers_write(struct req *r, bool patch)
{
	struct app a;
	struct endpoint e;
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	json_t *in = json_object_get(body, "headers");
	if (!json_is_object(in)) {
		verr_add(&ve, "headers", in ? "value is not a valid dict" : "field required", "value_error");
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(in, k, v) {
			if (!header_name_valid(k) || (!json_is_string(v) && !(patch && json_is_null(v))) ||
			    (json_is_string(v) && strpbrk(json_string_value(v), "\r\n") != NULL))
				verr_add(&ve, "headers", "invalid header name or value", "value_error");
		}
	}
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (lookup(r, &a, &e) == 0) {
		if (!patch)
			json_object_clear(e.headers);
		const char *k;
		json_t *v;
		json_object_foreach(in, k, v) {
			if (json_is_null(v))
				json_object_del(e.headers, k);
			else
				json_object_set(e.headers, k, v);
		}
		e.updated_ms = now_ms();
		endpoint_submit(r, &e, 204);
		endpoint_dispose(&e);
		app_dispose(&a);
	}
	json_decref(body);
}

void api_endpoint_headers_put(struct req *r) { headers_write(r, false); }
void api_endpoint_headers_patch(struct req *r) { headers_write(r, true); }
