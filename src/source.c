/* source.c: inbound sources: validation, snapshots, the in-memory registry, dedup keys. */
#include "source.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "signer.h"

/* ---- validation ---- */

static void validate_scheme(json_t *in, json_t *out, struct verr *ve)
{
	const char *scheme = NULL;
	if (!jfield_string(in, "scheme", 1, 64, ve, &scheme)) {
		if (jfield_missing(in, "scheme"))
			verr_add(ve, "scheme", "field required", "value_error.missing");
		return;
	}
	struct hookd_config *hc = NULL;
	bool none = strcmp(scheme, "none") == 0;
	json_t *opts = json_object_get(in, "schemeOptions");
	struct hookd_options o;
	if (signer_options(opts, &o) < 0 || (none && json_object_size(opts) > 0)) {
		verr_add(ve, "schemeOptions", "an object of header, timestampHeader, idHeader, prefix, hash, encoding",
			 "value_error");
		return;
	}
	if (!none && hookd_config_new(scheme, &o, &hc) != HOOKD_OK) {
		if (hookd_config_new(scheme, NULL, &hc) == HOOKD_OK)
			verr_add(ve, "schemeOptions", "these options do not fit the signature scheme", "value_error");
		else
			verr_add(ve, "scheme", "unknown signature scheme", "value_error");
		hookd_config_free(hc);
		return;
	}
	json_object_set_new(out, "scheme", json_string(none ? "none" : hookd_config_scheme(hc)));
	json_object_set_new(out, "schemeOptions", json_object_size(opts) > 0 ? json_deep_copy(opts) : json_null());
	json_t *secrets = json_object_get(in, "secrets");
	json_t *norm = json_array();
	if (secrets != NULL && !json_is_null(secrets) && !json_is_array(secrets))
		verr_add(ve, "secrets", "value is not a valid list", "type_error.list");
	size_t i;
	json_t *v;
	json_array_foreach(secrets, i, v) {
		if (none || !json_is_string(v) || hookd_config_add_secret(hc, json_string_value(v)) != HOOKD_OK) {
			verr_add(ve, "secrets", none ? "scheme none takes no secret" : "a secret is not valid for the scheme",
				 "value_error");
			break;
		}
		json_array_append(norm, v);
	}
	if (!none && json_array_size(norm) == 0)
		verr_add(ve, "secrets", "at least one secret is required", "value_error.missing");
	json_object_set_new(out, "secrets", norm);
	int64_t tol;
	if (jfield_int(in, "tolerance", 0, 366LL * 86400, ve, &tol)) {
		if (none || hookd_config_set_window(hc, tol, tol) != HOOKD_OK)
			verr_add(ve, "tolerance", "the scheme has no timestamp", "value_error");
		json_object_set_new(out, "tolerance", json_integer(tol));
	} else {
		json_object_set_new(out, "tolerance", json_null());
	}
	hookd_config_free(hc);
}

/* The scheme's own event id, else a hash of the body. */
static json_t *default_dedup(const char *scheme, json_t *opts)
{
	const char *id_header = json_string_value(json_object_get(opts, "idHeader"));
	if (id_header != NULL)
		return json_pack("{s:s}", "header", id_header);
	static const char *const by_header[][2] = {
		{"standard", "webhook-id"}, {"ed25519", "webhook-id"}, {"svix", "svix-id"},
		{"github", "X-GitHub-Delivery"}, {"shopify", "X-Shopify-Webhook-Id"},
		{"twilio", "I-Twilio-Idempotency-Token"},
	};
	for (size_t i = 0; scheme != NULL && i < sizeof by_header / sizeof by_header[0]; i++)
		if (strcmp(scheme, by_header[i][0]) == 0)
			return json_pack("{s:s}", "header", by_header[i][1]);
	if (scheme != NULL && strcmp(scheme, "stripe") == 0)
		return json_pack("{s:s}", "jsonPointer", "/id");
	return json_pack("{s:b}", "bodyHash", 1);
}

static void validate_dedup(json_t *in, json_t *out, struct verr *ve)
{
	json_t *d = json_object_get(in, "dedup");
	if (d == NULL || json_is_null(d)) {
		json_object_set_new(out, "dedup", default_dedup(json_string_value(json_object_get(out, "scheme")),
								    json_object_get(out, "schemeOptions")));
		return;
	}
	const char *h = json_string_value(json_object_get(d, "header"));
	const char *p = json_string_value(json_object_get(d, "jsonPointer"));
	bool body = json_is_true(json_object_get(d, "bodyHash"));
	if (!json_is_object(d) || json_object_size(d) != 1 || (h == NULL && p == NULL && !body) ||
	    (h != NULL && (*h == '\0' || strlen(h) > HOOKD_HEADER_NAME_MAX)) ||
	    (p != NULL && (p[0] != '/' || strlen(p) > 256))) {
		verr_add(ve, "dedup", "one of {header}, {jsonPointer: \"/...\"}, {bodyHash: true}", "value_error");
		return;
	}
	json_object_set(out, "dedup", d);
}

static bool ctype_valid(const char *s) { return *s != '\0' && strlen(s) <= 128 && strchr(s, ';') == NULL; }

static bool url_valid(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7] != '\0') || (strncmp(u, "https://", 8) == 0 && u[8] != '\0');
}

static bool token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A destination's header rewrites: name -> value (set or replace) or null (do not forward it). */
static bool dest_headers_valid(json_t *h)
{
	const char *k;
	json_t *v;
	if (!json_is_object(h) || json_object_size(h) > 32)
		return false;
	json_object_foreach(h, k, v) {
		size_t n = strlen(k);
		for (size_t i = 0; i < n; i++)
			if (!token_char(k[i]))
				return false;
		if (n == 0 || n > HOOKD_HEADER_NAME_MAX || !(json_is_null(v) || json_is_string(v)) ||
		    (json_is_string(v) && (json_string_length(v) > 4096 || strpbrk(json_string_value(v), "\r\n"))))
			return false;
	}
	return true;
}

static void validate_destinations(json_t *in, json_t *out, struct verr *ve)
{
	json_t *d = json_object_get(in, "destinations");
	size_t n = json_array_size(d);
	if (!json_is_array(d) || n < 1 || n > SOURCE_DEST_MAX) {
		verr_add(ve, "destinations", "a list of 1 to 10 destinations", "value_error");
		return;
	}
	json_t *norm = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(d, i, v) {
		const char *url = json_string_value(json_object_get(v, "url"));
		json_t *headers = json_object_get(v, "headers");
		if (!json_is_object(v) || url == NULL || strlen(url) > 2048 || !url_valid(url)) {
			verr_add(ve, "destinations", "each destination needs an http(s) url", "value_error");
			break;
		}
		if (headers != NULL && !json_is_null(headers) && !dest_headers_valid(headers)) {
			verr_add(ve, "destinations", "headers: up to 32 of name -> string or null", "value_error");
			break;
		}
		json_t *retry = json_object_get(v, "retrySchedule"); /* checked by the endpoint's rules (api_source.c) */
		json_array_append_new(norm, json_pack("{s:s,s:o,s:O}", "url", url, "headers",
						      json_is_object(headers) ? json_deep_copy(headers) : json_object(),
						      "retrySchedule", retry ? retry : json_null()));
	}
	json_object_set_new(out, "destinations", norm);
}

static void validate_limits(json_t *in, json_t *out, struct verr *ve)
{
	int64_t n;
	if (!jfield_int(in, "dedupWindow", 0, 90LL * 86400, ve, &n))
		n = SOURCE_DEDUP_WINDOW_DEFAULT;
	json_object_set_new(out, "dedupWindow", json_integer(n));
	if (!jfield_int(in, "maxBody", 1, SOURCE_MAX_BODY_LIMIT, ve, &n))
		n = SOURCE_MAX_BODY_DEFAULT;
	json_object_set_new(out, "maxBody", json_integer(n));
	struct strlist ct = {0};
	if (jfield_strlist(in, "contentTypes", 10, ctype_valid, ve, &ct) && ct.n > 0)
		json_object_set_new(out, "contentTypes", strlist_to_json(&ct));
	else
		json_object_set_new(out, "contentTypes", json_null());
	strlist_dispose(&ct);
}

json_t *source_validate(json_t *in, struct verr *ve)
{
	json_t *out = json_object();
	const char *s;
	if (jfield_string(in, "name", 1, 256, ve, &s))
		json_object_set_new(out, "name", json_string(s));
	else if (jfield_missing(in, "name"))
		verr_add(ve, "name", "field required", "value_error.missing");
	if (jfield_string(in, "uid", 1, 256, ve, &s)) {
		if (uid_valid(s) && !id_is("src_", s))
			json_object_set_new(out, "uid", json_string(s));
		else
			verr_add(ve, "uid", "uid must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
	} else {
		json_object_set_new(out, "uid", json_null());
	}
	validate_scheme(in, out, ve);
	if (jfield_string(in, "publicUrl", 1, 2048, ve, &s)) {
		if (url_valid(s) && strchr(s, '?') == NULL && strchr(s, '#') == NULL)
			json_object_set_new(out, "publicUrl", json_string(s));
		else
			verr_add(ve, "publicUrl", "an http(s) URL without query: the request's own is appended",
				 "value_error");
	} else {
		json_object_set_new(out, "publicUrl", json_null());
	}
	validate_dedup(in, out, ve);
	validate_limits(in, out, ve);
	validate_destinations(in, out, ve);
	if (verr_any(ve)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* ---- snapshots ---- */

static int make_verifier(struct source *s)
{
	const char *scheme = json_string_value(json_object_get(s->config, "scheme"));
	if (scheme == NULL)
		return -1;
	struct hookd_options o;
	if (strcmp(scheme, "none") == 0)
		return 0;
	if (signer_options(json_object_get(s->config, "schemeOptions"), &o) < 0 ||
	    hookd_config_new(scheme, &o, &s->verifier) != HOOKD_OK)
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s->config, "secrets"), i, v) {
		if (hookd_config_add_secret(s->verifier, json_string_value(v)) != HOOKD_OK)
			return -1;
	}
	json_t *tol = json_object_get(s->config, "tolerance");
	if (json_is_integer(tol))
		hookd_config_set_window(s->verifier, json_integer_value(tol), json_integer_value(tol));
	return 0;
}

static void set_dedup(struct source *s)
{
	json_t *d = json_object_get(s->config, "dedup");
	const char *h = json_string_value(json_object_get(d, "header"));
	const char *p = json_string_value(json_object_get(d, "jsonPointer"));
	s->dedup_kind = h ? DEDUP_HEADER : p ? DEDUP_POINTER : DEDUP_BODY;
	s->dedup_arg = h ? xstrdup(h) : p ? xstrdup(p) : NULL;
	s->dedup_window_ms = json_integer_value(json_object_get(s->config, "dedupWindow")) * 1000;
	s->max_body = (size_t)json_integer_value(json_object_get(s->config, "maxBody"));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s->config, "contentTypes"), i, v)
		strlist_add(&s->content_types, json_string_value(v));
}

struct source *source_new(json_t *config)
{
	struct source *s = xcalloc(1, sizeof *s);
	s->refs = 1;
	pthread_mutex_init(&s->reject_mu, NULL);
	s->reject_tokens = SOURCE_REJECT_BURST;
	s->config = config;
	const char *id = json_string_value(json_object_get(config, "id"));
	const char *app = json_string_value(json_object_get(config, "appId"));
	const char *uid = json_string_value(json_object_get(config, "uid"));
	if (id == NULL || app == NULL || strlen(id) >= ID_MAX || strlen(app) >= ID_MAX || make_verifier(s) < 0) {
		source_unref(s);
		return NULL;
	}
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->app_id, sizeof s->app_id, "%s", app);
	s->uid = uid ? xstrdup(uid) : NULL;
	const char *pub = json_string_value(json_object_get(config, "publicUrl"));
	s->public_url = pub ? xstrdup(pub) : NULL;
	set_dedup(s);
	return s;
}

struct source *source_ref(struct source *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	return s;
}

void source_unref(struct source *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	json_decref(s->config);
	hookd_config_free(s->verifier);
	free(s->uid);
	free(s->public_url);
	free(s->dedup_arg);
	strlist_dispose(&s->content_types);
	pthread_mutex_destroy(&s->reject_mu);
	free(s);
}

bool source_reject_budget(struct source *s, int64_t now)
{
	pthread_mutex_lock(&s->reject_mu);
	if (s->reject_last_ms != 0)
		s->reject_tokens += (double)(now - s->reject_last_ms) * SOURCE_REJECT_RATE / 1000.0;
	if (s->reject_tokens > SOURCE_REJECT_BURST)
		s->reject_tokens = SOURCE_REJECT_BURST;
	s->reject_last_ms = now;
	bool ok = s->reject_tokens >= 1.0;
	if (ok)
		s->reject_tokens -= 1.0;
	pthread_mutex_unlock(&s->reject_mu);
	return ok;
}

/* ---- the registry: few sources, a sorted array under a mutex ---- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct source **reg;
static size_t nreg, capreg;

static size_t reg_find(const char *id)
{
	for (size_t i = 0; i < nreg; i++)
		if (strcmp(reg[i]->id, id) == 0)
			return i;
	return nreg;
}

void sources_put(struct source *s)
{
	pthread_mutex_lock(&reg_mu);
	size_t i = reg_find(s->id);
	if (i < nreg) {
		source_unref(reg[i]);
	} else {
		if (nreg == capreg) {
			capreg = capreg ? capreg * 2 : 16;
			reg = xrealloc(reg, capreg * sizeof *reg);
		}
		for (i = nreg; i > 0 && strcmp(reg[i - 1]->id, s->id) > 0; i--)
			reg[i] = reg[i - 1];
		nreg++;
	}
	reg[i] = source_ref(s);
	pthread_mutex_unlock(&reg_mu);
}

void sources_del(const char *id)
{
	pthread_mutex_lock(&reg_mu);
	size_t i = reg_find(id);
	if (i < nreg) {
		source_unref(reg[i]);
		memmove(&reg[i], &reg[i + 1], (nreg - i - 1) * sizeof *reg);
		nreg--;
	}
	pthread_mutex_unlock(&reg_mu);
}

int64_t sources_max_window_ms(void)
{
	int64_t w = 0;
	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < nreg; i++)
		if (reg[i]->dedup_window_ms > w)
			w = reg[i]->dedup_window_ms;
	pthread_mutex_unlock(&reg_mu);
	return w;
}

struct source *sources_lookup(const char *id_or_uid)
{
	struct source *found = NULL;
	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < nreg && found == NULL; i++)
		if (strcmp(reg[i]->id, id_or_uid) == 0 || (reg[i]->uid && strcmp(reg[i]->uid, id_or_uid) == 0))
			found = source_ref(reg[i]);
	pthread_mutex_unlock(&reg_mu);
	return found;
}

size_t sources_list(const struct page *pg, struct source ***out)
{
	pthread_mutex_lock(&reg_mu);
	*out = xcalloc(nreg + 1, sizeof **out);
	size_t n = 0;
	for (size_t k = 0; k < nreg && (int)n < pg->limit; k++) {
		struct source *s = reg[pg->ascending ? k : nreg - 1 - k];
		if ((pg->after && strcmp(s->id, pg->after) <= 0) || (pg->before && strcmp(s->id, pg->before) >= 0))
			continue;
		(*out)[n++] = source_ref(s);
	}
	pthread_mutex_unlock(&reg_mu);
	return n;
}

int sources_load(struct store *st)
{
	char **cfgs = NULL;
	size_t n = 0;
	if (st->w->sources_load(st, &cfgs, &n) != STORE_OK) {
		free(cfgs);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(cfgs[i], 0, NULL);
		struct source *s = j ? source_new(j) : NULL;
		if (s == NULL)
			log_warnx("sources: a stored source could not be loaded");
		else
			sources_put(s);
		source_unref(s);
		free(cfgs[i]);
	}
	free(cfgs);
	return 0;
}

void sources_dispose(void)
{
	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < nreg; i++)
		source_unref(reg[i]);
	free(reg);
	reg = NULL;
	nreg = capreg = 0;
	pthread_mutex_unlock(&reg_mu);
}

/* ---- pure helpers ---- */

static char *body_hash(const char *body, size_t len)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)(body ? body : ""), len, d);
	char *out = xmalloc(7 + 2 * sizeof d + 1);
	memcpy(out, "sha256:", 7);
	hookd_hex_encode(d, sizeof d, out + 7, 2 * sizeof d + 1);
	return out;
}

/* The value at an RFC 6901 pointer ("~1" is '/', "~0" is '~'), or NULL. */
static json_t *pointer_get(json_t *j, const char *ptr)
{
	char tok[258];
	while (j != NULL && *ptr == '/') {
		ptr++;
		size_t n = 0;
		for (; *ptr && *ptr != '/' && n + 1 < sizeof tok; ptr++)
			tok[n++] = ptr[0] == '~' && ptr[1] == '1' ? (ptr++, '/') : ptr[0] == '~' && ptr[1] == '0' ? (ptr++, '~') : *ptr;
		tok[n] = '\0';
		if (json_is_object(j)) {
			j = json_object_get(j, tok);
		} else if (json_is_array(j)) {
			char *end;
			unsigned long k = strtoul(tok, &end, 10);
			j = (n > 0 && *end == '\0') ? json_array_get(j, k) : NULL;
		} else {
			j = NULL;
		}
	}
	return j;
}

/* A key also goes out as a header value: no control characters. */
static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static char *pointer_key(const char *ptr, const char *body, size_t len)
{
	json_t *root = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *v = pointer_get(root, ptr);
	char *key = NULL;
	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= SOURCE_KEY_MAX &&
	    printable(json_string_value(v), json_string_length(v)))
		key = xstrdup(json_string_value(v));
	else if (json_is_integer(v)) {
		key = xmalloc(32);
		snprintf(key, 32, "%lld", (long long)json_integer_value(v));
	}
	json_decref(root);
	return key;
}

char *source_dedup_key(enum dedup_kind kind, const char *arg, const char *header_value, const char *body,
		       size_t len)
{
	char *key = NULL;
	if (kind == DEDUP_HEADER && header_value != NULL && *header_value != '\0' &&
	    strlen(header_value) <= SOURCE_KEY_MAX && printable(header_value, strlen(header_value)))
		key = xstrdup(header_value);
	else if (kind == DEDUP_POINTER && arg != NULL)
		key = pointer_key(arg, body, len);
	return key ? key : body_hash(body, len);
}

bool source_content_type_ok(const struct strlist *allowed, const char *ct)
{
	if (allowed->v == NULL)
		return true;
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < allowed->n; i++)
		if (strlen(allowed->v[i]) == n && strncasecmp(allowed->v[i], ct, n) == 0)
			return true;
	return false;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return true;
	return false;
}

bool source_header_recorded(const char *name)
{
	static const char *const skip[] = {"host", "content-length", "connection", "transfer-encoding", "keep-alive",
					   "expect", "te", "upgrade", "authorization", "cookie",
					   "proxy-authorization", "proxy-connection"};
	return !in_list(name, skip, sizeof skip / sizeof skip[0]);
}

bool source_header_forwarded(const char *name)
{
	static const char *const skip[] = {"content-type", "user-agent", "accept", "accept-encoding",
					   "x-forwarded-user-agent"};
	return source_header_recorded(name) && strncasecmp(name, "x-hookd-", 8) != 0 &&
	       !in_list(name, skip, sizeof skip / sizeof skip[0]);
}
