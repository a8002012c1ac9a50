/* json.c: request validation and response shapes, matching the Svix wire format. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "seal.h"
#include "util.h"

void verr_add(struct verr *v, const char *field, const char *msg, const char *type)
{
	if (v->detail == NULL)
		v->detail = json_array();
	json_array_append_new(v->detail, json_pack("{s:[s,s],s:s,s:s}", "loc", "body", field, "msg", msg, "type",
						   type));
}

bool verr_any(const struct verr *v) { return v->detail != NULL; }

char *verr_body(struct verr *v)
{
	json_t *j = json_pack("{s:s,s:o}", "code", "validation_error", "detail", v->detail ? v->detail : json_array());
	v->detail = NULL;
	char *s = json_dump(j);
	json_decref(j);
	return s;
}

void verr_dispose(struct verr *v)
{
	json_decref(v->detail);
	v->detail = NULL;
}

char *json_dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL)
		s = xstrdup("{}");
	return s;
}

static size_t skip_ws(const char *t, size_t n, size_t i)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* Past the end of the string starting at t[i] == '"' (n + 1 if it does not end). memchr finds each quote (a
 * payload is mostly long strings); one preceded by an odd run of backslashes is escaped. The scan never counts
 * back past where it started, which is always just after a quote. */
static size_t skip_string(const char *t, size_t n, size_t i)
{
	for (i++; i < n;) {
		const char *q = memchr(t + i, '"', n - i);
		if (q == NULL)
			break;
		size_t j = (size_t)(q - t), bs = 0;
		while (j - bs > i && t[j - bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			return j + 1;
		i = j + 1;
	}
	return n + 1;
}

/* Past the end of the value starting at t[i] (> n if it does not end). */
static size_t skip_value(const char *t, size_t n, size_t i)
{
	if (i >= n)
		return n + 1;
	if (t[i] == '"')
		return skip_string(t, n, i);
	if (t[i] == '{' || t[i] == '[') {
		int depth = 0;
		for (; i < n; i++) {
			if (t[i] == '"')
				i = skip_string(t, n, i) - 1;
			else if (t[i] == '{' || t[i] == '[')
				depth++;
			else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
				return i + 1;
		}
		return n + 1;
	}
	while (i < n && strchr(",}] \t\r\n", t[i]) == NULL) /* a number, true, false or null */
		i++;
	return i;
}

int json_raw_member(const char *t, size_t n, const char *key, size_t *start, size_t *len)
{
	size_t klen = strlen(key), i = skip_ws(t, n, 0);
	int found = -1;
	if (i >= n || t[i] != '{')
		return -1;
	for (i = skip_ws(t, n, i + 1); i < n && t[i] == '"';) {
		size_t kend = skip_string(t, n, i);
		bool match = kend - i - 2 == klen && memcmp(t + i + 1, key, klen) == 0;
		i = skip_ws(t, n, kend);
		if (i >= n || t[i] != ':')
			return -1;
		i = skip_ws(t, n, i + 1);
		size_t vend = skip_value(t, n, i);
		if (vend > n || vend <= i)
			return -1;
		if (match) {
			*start = i;
			*len = vend - i;
			found = 0;
		}
		i = skip_ws(t, n, vend);
		if (i < n && t[i] == ',')
			i = skip_ws(t, n, i + 1);
	}
	return i < n && t[i] == '}' ? found : -1;
}

char *json_error_body(const char *code, const char *detail)
{
	json_t *j = json_pack("{s:s,s:s}", "code", code, "detail", detail);
	char *s = json_dump(j);
	json_decref(j);
	return s;
}

static json_t *jget(json_t *obj, const char *field)
{
	json_t *f = json_object_get(obj, field);
	return json_is_null(f) ? NULL : f;
}

bool jfield_missing(json_t *obj, const char *field) { return jget(obj, field) == NULL; }

bool jfield_is_null(json_t *obj, const char *field)
{
	return json_is_null(json_object_get(obj, field));
}

bool jfield_string(json_t *obj, const char *field, size_t minlen, size_t maxlen, struct verr *v, const char **out)
{
	json_t *f = jget(obj, field);
	if (f == NULL)
		return false;
	if (!json_is_string(f)) {
		verr_add(v, field, "str type expected", "type_error.str");
		return false;
	}
	size_t n = json_string_length(f);
	const char *s = json_string_value(f);
	if (n < minlen || n > maxlen) {
		verr_add(v, field, n < minlen ? "ensure this value has at least the minimum length"
					      : "ensure this value has at most the maximum length",
			 "value_error.any_str");
		return false;
	}
	if (strlen(s) != n) {
		verr_add(v, field, "string contains a NUL character", "value_error");
		return false;
	}
	*out = s;
	return true;
}

bool jfield_bool(json_t *obj, const char *field, struct verr *v, bool *out)
{
	json_t *f = jget(obj, field);
	if (f == NULL)
		return false;
	if (!json_is_boolean(f)) {
		verr_add(v, field, "value could not be parsed to a boolean", "type_error.bool");
		return false;
	}
	*out = json_is_true(f);
	return true;
}

bool jfield_int(json_t *obj, const char *field, int64_t min, int64_t max, struct verr *v, int64_t *out)
{
	json_t *f = jget(obj, field);
	if (f == NULL)
		return false;
	if (!json_is_integer(f)) {
		verr_add(v, field, "value is not a valid integer", "type_error.integer");
		return false;
	}
	json_int_t n = json_integer_value(f);
	if (n < min || n > max) {
		verr_add(v, field, "integer out of range", "value_error.number");
		return false;
	}
	*out = (int64_t)n;
	return true;
}

bool jfield_strlist(json_t *obj, const char *field, size_t max, bool (*valid)(const char *), struct verr *v,
		    struct strlist *out)
{
	json_t *f = jget(obj, field);
	if (f == NULL)
		return false;
	if (!json_is_array(f) || json_array_size(f) > max) {
		verr_add(v, field, json_is_array(f) ? "too many items" : "value is not a valid list",
			 json_is_array(f) ? "value_error.list.max_items" : "type_error.list");
		return false;
	}
	size_t i;
	json_t *item;
	json_array_foreach(f, i, item) {
		if (!json_is_string(item) || (valid != NULL && !valid(json_string_value(item)))) {
			verr_add(v, field, "invalid item in list", "value_error");
			return false;
		}
	}
	strlist_dispose(out);
	out->v = xcalloc(json_array_size(f) + 1, sizeof *out->v);
	json_array_foreach(f, i, item) {
		if (!strlist_contains(out, json_string_value(item)))
			out->v[out->n++] = xstrdup(json_string_value(item));
	}
	return true;
}

bool jfield_string_map(json_t *obj, const char *field, struct verr *v, json_t **out)
{
	json_t *f = jget(obj, field);
	if (f == NULL)
		return false;
	if (!json_is_object(f)) {
		verr_add(v, field, "value is not a valid dict", "type_error.dict");
		return false;
	}
	const char *k;
	json_t *val;
	json_object_foreach(f, k, val) {
		if (!json_is_string(val)) {
			verr_add(v, field, "values must be strings", "type_error.str");
			return false;
		}
	}
	*out = json_deep_copy(f);
	return true;
}

json_t *time_to_json(int64_t ms)
{
	char buf[RFC3339_LEN];
	rfc3339_format(ms, buf);
	return json_string(buf);
}

json_t *strlist_to_json(const struct strlist *l)
{
	if (l->v == NULL)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *opt_string(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *opt_rate(int64_t r) { return r > 0 ? json_integer(r) : json_null(); }

json_t *app_to_json(const struct app *a)
{
	return json_pack("{s:s,s:o,s:s,s:O,s:o,s:o,s:o,s:o}", "id", a->id, "uid", opt_string(a->uid), "name",
			 a->name ? a->name : "", "metadata", a->metadata, "throttleRate", opt_rate(a->throttle_rate),
			 "rateLimit", opt_rate(a->throttle_rate), "createdAt", time_to_json(a->created_ms),
			 "updatedAt", time_to_json(a->updated_ms));
}

json_t *endpoint_to_json(const struct endpoint *e)
{
	json_t *j = json_pack("{s:s,s:o,s:s,s:s,s:b,s:o,s:o,s:o,s:O,s:o,s:o,s:i,s:o,s:o}", "id", e->id, "uid",
			 opt_string(e->uid), "url", e->url, "description", e->description ? e->description : "",
			 "disabled", e->disabled, "eventTypes", strlist_to_json(&e->event_types), "filterTypes",
			 strlist_to_json(&e->event_types), "channels", strlist_to_json(&e->channels), "metadata",
			 e->metadata, "throttleRate", opt_rate(e->throttle_rate), "rateLimit",
			 opt_rate(e->throttle_rate), "version", 1, "createdAt", time_to_json(e->created_ms),
			 "updatedAt", time_to_json(e->updated_ms));
	/* hookd's additions; Svix clients ignore them */
	json_object_set_new(j, "signatureScheme", json_string(e->scheme ? e->scheme : "standard"));
	json_object_set_new(j, "signatureOptions", e->scheme_options ? json_deep_copy(e->scheme_options) : json_null());
	json_object_set_new(j, "ordering", json_string(e->fifo ? "fifo" : "parallel"));
	json_object_set_new(j, "apiVersion", opt_string(e->api_version));
	json_t *pf = e->payload_filter ? json_loads(e->payload_filter, 0, NULL) : NULL;
	json_object_set_new(j, "payloadFilter", pf ? pf : json_null());
	return j;
}

json_t *message_to_json(const struct message *m, bool with_content)
{
	json_t *payload = NULL;
	if (with_content && m->payload != NULL)
		payload = json_loadb(m->payload, m->payload_len, JSON_DECODE_ANY, NULL);
	if (payload == NULL)
		payload = json_object();
	json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "id", m->id, "eventType", m->event_type, "payload",
			      payload, "eventId", opt_string(m->event_id), "channels",
			      strlist_to_json(&m->channels), "tags", strlist_to_json(&m->tags), "timestamp",
			      time_to_json(m->created_ms));
	if (m->deliver_at_ms > 0)
		json_object_set_new(j, "deliverAt", time_to_json(m->deliver_at_ms));
	return j;
}

json_t *attempt_to_json(const struct attempt *a)
{
	/* A receiver may answer with bytes that are not UTF-8; the JSON string must be valid. */
	json_t *resp = json_stringn(a->response ? a->response : "", a->response ? a->response_len : 0);
	if (resp == NULL)
		resp = json_string("<response body is not UTF-8>");
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:i,s:I,s:i,s:s,s:i,s:o}", "id", a->id, "msgId", a->msg_id,
			      "endpointId", a->endpoint_id, "url", a->url ? a->url : "", "response", resp,
			      "responseStatusCode", a->status_code, "responseDurationMs", (json_int_t)a->duration_ms,
			      "status", a->status, "statusText", delivery_status_text(a->status), "triggerType",
			      a->trigger, "timestamp", time_to_json(a->created_ms));
	/* hookd's extension: the body as sent, when handlers (docs/transformations.md) made it differ */
	json_t *rb = a->request_body != NULL ? json_string(a->request_body) : NULL;
	if (rb != NULL)
		json_object_set_new(j, "requestBody", rb);
	if (a->request_method != NULL)
		json_object_set_new(j, "requestMethod", json_string(a->request_method));
	/* and the headers as sent and received (JSON object texts hookd wrote; a bad one is left out) */
	char *plain = NULL, err[128];
	if (a->request_headers != NULL && seal_open(a->request_headers, &plain, err, sizeof err) != 0)
		log_warnx("attempt %s: its request headers cannot be opened: %s", a->id, err);
	json_t *h = plain != NULL ? json_loads(plain, 0, NULL) : NULL;
	free(plain);
	if (json_is_object(h))
		json_object_set(j, "requestHeaders", h);
	json_decref(h);
	h = a->response_headers != NULL ? json_loads(a->response_headers, 0, NULL) : NULL;
	if (json_is_object(h))
		json_object_set(j, "responseHeaders", h);
	json_decref(h);
	return j;
}

void strlist_from_json(struct strlist *l, const json_t *a)
{
	if (l->v == NULL)
		l->v = xcalloc(1, sizeof *l->v);
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (json_is_string(e))
			strlist_add(l, json_string_value(e));
	}
}
