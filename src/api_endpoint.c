/* api_endpoint.c: /app/{app}/endpoint — endpoints. Reads from the cache; writes through the committer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "request.h"
#include "cache.h"
#include "evtypes.h"
#include "filter.h"
#include "hookd.h"
#include "json.h"
#include "netguard.h"
#include "pfilter.h"
#include "signer.h"
#include "opevents.h"

#define URL_MAX 4096
#define RETRY_DELAY_MAX_S (30 * 86400) /* one retrySchedule entry: 30 days (and no int64 overflow) */

/* An http(s) URL with a host, or a poller sink's "poll:[name]" (printable ASCII). */
static bool url_valid(const char *url)
{
	if (strncmp(url, POLLER_URL_PREFIX, strlen(POLLER_URL_PREFIX)) == 0) {
		for (const char *p = url; *p != '\0'; p++)
			if (*p <= ' ' || *p > '~')
				return false;
		return true;
	}
	return netguard_url_is_http(url);
}

void api_url_guard(const char *url, const char *field, struct verr *ve)
{
	char why[NETGUARD_WHY_MAX];
	if (netguard_check_url(&api_config()->guard, url, why, sizeof why) < 0)
		verr_add(ve, field, why, "value_error.url");
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

/* Standard Webhooks secrets must match Svix's pattern; the other schemes' secrets are checked by libhookd. */
static bool scheme_uses_whsec(json_t *body, const struct endpoint *e)
{
	const char *s = json_string_value(json_object_get(body, "signatureScheme"));
	if (s == NULL)
		s = e->scheme ? e->scheme : SIGNER_DEFAULT_SCHEME;
	return strcasecmp(s, "standard") == 0 || strcasecmp(s, "svix") == 0 || strcasecmp(s, "v1") == 0 ||
	       strcasecmp(s, "standardwebhooks") == 0;
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

/* hookd's additions: signatureScheme (libhookd's scheme names) and signatureOptions (header names and the
 * like). Checked for what they are here; with the secret in endpoint_submit, by building the signer. */
static void scheme_parse(json_t *body, struct endpoint *e, bool patch, struct verr *ve)
{
	const char *s;
	if (jfield_string(body, "signatureScheme", 1, 32, ve, &s)) {
		struct hookd_config *cfg = NULL;
		if (hookd_config_new(s, NULL, &cfg) != HOOKD_OK) {
			verr_add(ve, "signatureScheme", "unknown signature scheme", "value_error");
		} else if (strcmp(hookd_config_scheme(cfg), "twilio") == 0) {
			/* it signs the URL, and a JSON body's hash inside it: a scheme to receive, not to send */
			verr_add(ve, "signatureScheme", "twilio is verified on inbound sources, not used to send",
				 "value_error");
		} else {
			free(e->scheme);
			e->scheme = xstrdup(hookd_config_scheme(cfg));
		}
		hookd_config_free(cfg);
	} else if (jfield_is_null(body, "signatureScheme") || (!patch && jfield_missing(body, "signatureScheme"))) {
		free(e->scheme);
		e->scheme = NULL;
	}
	json_t *opts = json_object_get(body, "signatureOptions");
	struct hookd_options o;
	if (opts != NULL && !json_is_null(opts)) {
		if (signer_options(opts, &o) < 0) {
			verr_add(ve, "signatureOptions", "unknown option or a value that is not a string", "value_error");
		} else {
			json_decref(e->scheme_options);
			e->scheme_options = json_deep_copy(opts);
		}
	} else if (opts != NULL || !patch) {
		json_decref(e->scheme_options);
		e->scheme_options = NULL;
	}
}

/* One retrySchedule array, seconds -> ms into e; -1 with a 422 detail if any entry is bad. */
static int retry_entries(json_t *a, struct endpoint *e, struct verr *ve)
{
	static const char field[] = "retrySchedule";
	if (json_array_size(a) > BACKOFF_MAX_STEPS) {
		char msg[64];
		snprintf(msg, sizeof msg, "ensure this value has at most %d items", BACKOFF_MAX_STEPS);
		verr_add(ve, field, msg, "value_error.list.max_items");
		return -1;
	}
	int64_t ms[BACKOFF_MAX_STEPS];
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		double sec = json_number_value(v);
		if (!json_is_number(v) || !isfinite(sec)) {
			verr_add(ve, field, "value is not a valid number", "type_error.float");
			return -1;
		}
		if (sec < 0 || sec > RETRY_DELAY_MAX_S) {
			verr_add(ve, field, sec < 0 ? "ensure every delay is greater than or equal to 0"
						    : "ensure every delay is at most 2592000 seconds (30 days)",
				 sec < 0 ? "value_error.number.not_ge" : "value_error.number.not_le");
			return -1;
		}
		ms[i] = llround(sec * 1000);
	}
	e->retry_steps = (int)json_array_size(a);
	memcpy(e->retry_ms, ms, (size_t)e->retry_steps * sizeof ms[0]);
	return 0;
}

/* hookd's addition: retrySchedule, the endpoint's own delays in seconds ([] no retries; null the server's). */
void api_endpoint_retry_parse(json_t *body, struct endpoint *e, bool patch, struct verr *ve)
{
	json_t *a = json_object_get(body, "retrySchedule");
	if (a == NULL ? !patch : json_is_null(a)) {
		e->has_retry = false;
		e->retry_steps = 0;
	} else if (a != NULL && !json_is_array(a)) {
		verr_add(ve, "retrySchedule", "value is not a valid list", "type_error.list");
	} else if (a != NULL && retry_entries(a, e, ve) == 0) {
		e->has_retry = true;
	}
}

/* retrySchedule as given (seconds), or null for the server's. */
static json_t *retry_to_json(const struct endpoint *e)
{
	if (!e->has_retry)
		return json_null();
	json_t *a = json_array();
	for (int i = 0; i < e->retry_steps; i++) {
		int64_t ms = e->retry_ms[i];
		json_array_append_new(a, ms % 1000 == 0 ? json_integer(ms / 1000) : json_real((double)ms / 1000));
	}
	return a;
}

/* hookd's addition: payloadFilter, an object (pfilter.h), stored as compact JSON; null, absent from a PUT, or {}
 * removes it. Compiled here only to validate: the cache compiles its own copy. */
static void payload_filter_parse(json_t *body, struct endpoint *e, bool patch, struct verr *ve)
{
	static const char field[] = "payloadFilter";
	json_t *f = json_object_get(body, field);
	if (f == NULL ? !patch : json_is_null(f) || (json_is_object(f) && json_object_size(f) == 0)) {
		free(e->payload_filter);
		e->payload_filter = NULL;
		return;
	}
	if (f == NULL)
		return;
	if (!json_is_object(f)) {
		verr_add(ve, field, "payloadFilter: must be an object", "type_error.dict");
		return;
	}
	char *text = json_dump(f);
	char err[PFILTER_ERR_MAX];
	struct pfilter *pf = strlen(text) > PFILTER_TEXT_MAX ? NULL : pfilter_compile(f, field, err);
	if (pf == NULL) {
		if (strlen(text) > PFILTER_TEXT_MAX)
			snprintf(err, sizeof err, "payloadFilter: longer than %d bytes of JSON", PFILTER_TEXT_MAX);
		verr_add(ve, field, err, "value_error");
		free(text);
		return;
	}
	pfilter_free(pf);
	free(e->payload_filter);
	e->payload_filter = text;
}

/* EndpointOut with hookd's fields that json.c's endpoint_to_json does not write. */
static json_t *endpoint_out(const struct endpoint *e)
{
	json_t *j = endpoint_to_json(e);
	json_object_set_new(j, "retrySchedule", retry_to_json(e));
	return j;
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
		verr_add(ve, "url", "invalid or missing URL scheme (http, https, or poll: for a poller sink)", "value_error.url");
	else if (e->url != NULL && json_is_string(json_object_get(body, "url")) && !endpoint_is_poller(e))
		api_url_guard(e->url, "url", ve); /* a PATCH of other fields leaves a stored URL be */
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
	if (jfield_string(body, "secret", 0, HOOKD_SECRET_LEN_MAX, ve, &s)) {
		if (!scheme_uses_whsec(body, e) ? s[0] == '\0' : !secret_valid(s)) {
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
	scheme_parse(body, e, patch, ve);
	if (jfield_string(body, "ordering", 1, 16, ve, &s)) {
		if (strcmp(s, "fifo") == 0 || strcmp(s, "parallel") == 0)
			e->fifo = strcmp(s, "fifo") == 0;
		else
			verr_add(ve, "ordering", "ordering must be fifo or parallel", "value_error");
	} else if (jfield_is_null(body, "ordering") || (!patch && jfield_missing(body, "ordering"))) {
		e->fifo = false;
	}
	api_endpoint_retry_parse(body, e, patch, ve);
	payload_filter_parse(body, e, patch, ve);
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

/* An endpoint write, and the endpoint as the cache held it when the write took effect (id "" if it held none). */
struct ep_put {
	struct endpoint e;
	struct endpoint before;
};

static void endpoint_put_cleanup(struct req *r)
{
	struct ep_put *op = r->op;
	if (op != NULL) {
		endpoint_dispose(&op->e);
		endpoint_dispose(&op->before);
		free(op);
	}
}

static int endpoint_put_run(struct store *st, struct req *r)
{
	struct ep_put *op = r->op;
	int rc = st->w->endpoint_put(st, &op->e);
	/* a sink takes no deliveries: what was pending for its push URL ends now, in the same commit (its messages
	 * are its consumers' to read); the dispatcher cancels any still in its queue as they come due */
	if (rc == STORE_OK && endpoint_is_poller(&op->e))
		rc = st->w->endpoint_cancel_pending(st, op->e.id);
	if (rc == STORE_CONFLICT)
		api_error(r, 409, "conflict", "An endpoint with this uid already exists");
	if (rc == STORE_OK)
		commit_change(&r->job,
			      &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &op->e, .before = &op->before});
	return rc;
}

/* After an endpoint write (the cache has it): the operational events. */
static void endpoint_put_after(struct req *r)
{
	struct ep_put *op = r->op;
	const struct endpoint *e = &op->e;
	bool existed = op->before.id[0] != '\0';
	if (opevents_is_internal(e->app_id))
		return;
	opevents_emit(existed ? "endpoint.updated" : "endpoint.created",
		      opevents_endpoint_data(e->app_id, e->id, e->uid));
	if (existed && e->disabled && !op->before.disabled) {
		json_t *d = opevents_endpoint_data(e->app_id, e->id, e->uid);
		json_object_set_new(d, "trigger", json_string("manual"));
		opevents_emit("endpoint.disabled", d);
	}
}

/* Make a secret for the scheme when there is none, or when the scheme changed and the old one does not fit
 * it; then check that the endpoint can sign. Answers 422/500 and returns -1 if not. */
static int signer_check(struct req *r, struct endpoint *e, bool secret_given)
{
	struct hookd_config *cfg = NULL;
	int64_t until;
	int rc = e->secret != NULL ? signer_build(e, now_ms(), &cfg, &until) : HOOKD_ERR_INVALID;
	hookd_config_free(cfg);
	if (rc != HOOKD_OK && !secret_given) {
		/* none yet, or one kept from another scheme: make one for this scheme */
		char secret[HOOKD_KEYTEXT_MAX];
		if (hookd_secret_generate(e->scheme ? e->scheme : SIGNER_DEFAULT_SCHEME, secret, sizeof secret, NULL,
					  0) != HOOKD_OK) {
			api_error(r, 500, "internal_error", "could not make a secret");
			return -1;
		}
		free(e->secret);
		e->secret = xstrdup(secret); /* old secrets of another scheme are skipped by signer_build */
		rc = signer_build(e, now_ms(), &cfg, &until);
		hookd_config_free(cfg);
	}
	if (rc == HOOKD_OK)
		return 0;
	struct verr ve = {0};
	verr_add(&ve, secret_given ? "secret" : "signatureOptions",
		 secret_given ? "the secret (or signatureOptions) does not fit the signature scheme"
			      : "these options do not fit the signature scheme",
		 "value_error");
	api_reply(r, 422, verr_body(&ve));
	return -1;
}

static void endpoint_submit(struct req *r, struct endpoint *e, int status, bool secret_given)
{
	struct ep_put *put = xcalloc(1, sizeof *put);
	struct endpoint *op = &put->e;
	*op = *e;
	memset(e, 0, sizeof *e);
	r->op = put;
	r->cleanup = endpoint_put_cleanup;
	if (op->uid != NULL && cache_endpoint_uid_taken(op->app_id, op->uid, op->id)) {
		api_error(r, 409, "conflict", "An endpoint with this uid already exists");
		return;
	}
	if (signer_check(r, op, secret_given) < 0)
		return;
	if (status == 204)
		api_reply(r, 204, NULL);
	else
		api_reply_json(r, status, endpoint_out(op));
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

int api_endpoint_lookup(struct req *r, struct app *a, struct endpoint *e) { return lookup(r, a, e); }

void api_endpoint_submit(struct req *r, struct endpoint *e, int status) { endpoint_submit(r, e, status, false); }

void api_endpoint_list(struct req *r)
{
	struct app a;
	struct list_req lr;
	if (lookup(r, &a, NULL) < 0)
		return;
	if (api_list_begin(r, true, "ep_", &lr) == 0) {
		struct endpoint *eps;
		size_t n;
		cache_endpoint_list(a.id, &lr.pg, &eps, &n);
		json_t **items = xcalloc(n + 1, sizeof *items);
		const char **ids = xcalloc(n + 1, sizeof *ids);
		for (size_t i = 0; i < n; i++) {
			items[i] = endpoint_out(&eps[i]);
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

/* As Svix: once the registry has event types, an endpoint may name only those (wildcards always pass). Only a
 * body that sets the filter is checked, so archiving a type does not block other edits of its endpoints. */
static void event_types_check(json_t *body, const struct endpoint *e, struct verr *ve)
{
	const char *field = json_object_get(body, "eventTypes") ? "eventTypes" : "filterTypes";
	if (jfield_missing(body, field) || e->event_types.v == NULL || verr_any(ve))
		return;
	const char *unknown = evtypes_unknown(&e->event_types);
	if (unknown != NULL) {
		char msg[320];
		snprintf(msg, sizeof msg, "event type %s does not exist", unknown);
		verr_add(ve, field, msg, "value_error");
	}
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
	event_types_check(body, e, &ve);
	api_apiver_endpoint_field(body, e, !exists, &ve);
	bool secret_given = json_is_string(json_object_get(body, "secret"));
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
	endpoint_submit(r, e, exists ? 200 : 201, secret_given);
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
	api_reply_json(r, 200, endpoint_out(&e));
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
	const char *id = ((struct endpoint *)r->op)->id;
	int rc = st->w->endpoint_delete(st, id);
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_ENDPOINT_DELETE, .id = id});
	return rc;
}

static void endpoint_delete_after(struct req *r)
{
	struct endpoint *e = r->op;
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

/* An Ed25519 "whsk_" secret key (seed + public key) -> its "whpk_" public key, or NULL. */
static json_t *public_key_of(const char *secret)
{
	uint8_t raw[96];
	char b64[64], out[80];
	if (strncmp(secret, "whsk_", 5) != 0 ||
	    hookd_base64_decode(secret + 5, strlen(secret + 5), raw, sizeof raw) != 64 ||
	    hookd_base64_encode(raw + 32, 32, b64, sizeof b64) < 0)
		return NULL;
	snprintf(out, sizeof out, "whpk_%s", b64);
	return json_string(out);
}

/* {"key"} as Svix has it; ed25519 endpoints also show "publicKey", which receivers verify with. */
void api_endpoint_secret(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (lookup(r, &a, &e) < 0)
		return;
	json_t *j = json_pack("{s:s}", "key", e.secret);
	json_t *pub = public_key_of(e.secret);
	if (pub != NULL)
		json_object_set_new(j, "publicKey", pub);
	api_reply_json(r, 200, j);
	endpoint_dispose(&e);
	app_dispose(&a);
}

#define GRACE_DEFAULT_S (24 * 3600)
#define GRACE_MAX_S (7 * 24 * 3600)

/* Keep the unexpired old secrets, add the one being replaced; at most HOOKD_SECRETS_MAX - 1 of them. */
static json_t *old_secrets_after_rotation(const struct endpoint *e, int64_t now, int64_t grace_ms)
{
	json_t *kept = json_array();
	size_t i;
	json_t *old;
	json_array_foreach(e->old_secrets, i, old) {
		if (json_integer_value(json_object_get(old, "expiresAt")) > now)
			json_array_append(kept, old);
	}
	if (grace_ms > 0)
		json_array_append_new(kept, json_pack("{s:s,s:I}", "key", e->secret, "expiresAt",
						      (json_int_t)(now + grace_ms)));
	while (json_array_size(kept) > HOOKD_SECRETS_MAX - 1)
		json_array_remove(kept, 0);
	return kept;
}

/* POST .../secret/rotate {"key"?, "gracePeriod"? (seconds, default 1 day, at most 7)}: the new secret signs from
 * now on; until the grace period ends each delivery also carries a signature made with the old one. */
void api_endpoint_secret_rotate(struct req *r)
{
	struct app a;
	struct endpoint e;
	json_t *body = r->body.len > 0 ? api_body_object(r) : json_object();
	if (body == NULL)
		return;
	struct verr ve = {0};
	const char *key = NULL;
	int64_t grace = GRACE_DEFAULT_S;
	jfield_string(body, "key", 1, HOOKD_SECRET_LEN_MAX, &ve, &key);
	jfield_int(body, "gracePeriod", 0, GRACE_MAX_S, &ve, &grace);
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (lookup(r, &a, &e) == 0) {
		int64_t now = now_ms();
		json_t *olds = old_secrets_after_rotation(&e, now, grace * 1000);
		json_decref(e.old_secrets);
		e.old_secrets = olds;
		free(e.secret);
		e.secret = key ? xstrdup(key) : NULL; /* NULL: endpoint_submit makes one for the scheme */
		e.updated_ms = now;
		endpoint_submit(r, &e, 204, key != NULL);
		endpoint_dispose(&e);
		app_dispose(&a);
	}
	json_decref(body);
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
	/* since/until: the messages created in that window (ids carry their creation time) */
	char after[ID_MAX], before[ID_MAX];
	int64_t since = 0, until = 0;
	const char *sv = api_query(r, "since"), *uv = api_query(r, "until");
	bool bad_since = sv != NULL && (rfc3339_parse(sv, &since) < 0 || since <= 0);
	if (bad_since || (uv != NULL && (rfc3339_parse(uv, &until) < 0 || until <= 0))) {
		api_query_error(r, bad_since ? "since" : "until", "invalid datetime (RFC 3339 expected)");
		endpoint_dispose(&e);
		app_dispose(&a);
		return;
	}
	if (since > 0)
		id_new_at("msg_", since - 1, after);
	if (until > 0)
		id_new_at("msg_", until, before);
	struct store *st = api_store();
	if (st->q->delivery_counts_window(st, a.id, e.id, since > 0 ? after : NULL, until > 0 ? before : NULL, c) !=
	    STORE_OK)
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

bool api_header_sensitive(const char *name) { return request_header_sensitive(name); }

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
		if (api_header_sensitive(k))
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
		endpoint_submit(r, &e, 204, false);
		endpoint_dispose(&e);
		app_dispose(&a);
	}
	json_decref(body);
}

void api_endpoint_headers_put(struct req *r) { headers_write(r, false); }
void api_endpoint_headers_patch(struct req *r) { headers_write(r, true); }
