/* request.c: a delivery's request headers (request.h). */
#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hookd.h"
#include "json.h"
#include "log.h"
#include "signer.h"

/* Custom headers never replace hookd's own, nor the scheme's signature headers (signed[0..n)). */
static bool reserved_header(const char *name, const struct hookd_header *signed_hdrs, int n)
{
	static const char *const ours[] = {"content-type", "user-agent", "webhook-id", "webhook-timestamp",
					   "webhook-signature", "content-length", "host", "expect",
					   "webhook-api-version", "transfer-encoding"};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strcasecmp(name, ours[i]) == 0)
			return true;
	for (int i = 0; i < n; i++)
		if (strcasecmp(name, signed_hdrs[i].name) == 0)
			return true;
	return false;
}

/* The endpoint's signing config, rebuilt only when the endpoint changed or an old secret's grace ended. */
static const struct hookd_config *ep_signer(struct ep_state *es, const struct ep_snap *s)
{
	int64_t now = now_ms();
	if (es->signer != NULL && es->signer_gen == s->gen && now < es->signer_until)
		return es->signer;
	hookd_config_free(es->signer);
	es->signer = NULL;
	es->signer_gen = s->gen;
	if (signer_build(&s->ep, now, &es->signer, &es->signer_until) != HOOKD_OK)
		log_warnx("deliver: endpoint %s cannot sign (scheme %s); sending unsigned", s->ep.id,
			  s->ep.scheme ? s->ep.scheme : SIGNER_DEFAULT_SCHEME);
	return es->signer;
}

#define HEADER_LINE_MAX 8192

static void add_header(struct hdrset *h, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), need = nl + 2 + vl + 1;
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL || need > HEADER_LINE_MAX)
		return;
	if (h->len + need > h->cap) {
		h->cap = (h->len + need) * 2;
		h->buf = xrealloc(h->buf, h->cap);
	}
	if (h->n == h->ncap) {
		h->ncap = h->ncap ? h->ncap * 2 : 16;
		h->off = xrealloc(h->off, h->ncap * sizeof *h->off);
		h->nodes = xrealloc(h->nodes, h->ncap * sizeof *h->nodes);
	}
	char *p = h->buf + h->len;
	memcpy(p, name, nl);
	memcpy(p + nl, ": ", 2);
	memcpy(p + nl + 2, value, vl + 1);
	h->off[h->n++] = h->len;
	h->len += need;
}

/* Link the lines once the buffer stops moving. */
static struct curl_slist *hdrset_list(struct hdrset *h)
{
	for (size_t i = 0; i < h->n; i++) {
		h->nodes[i].data = h->buf + h->off[i];
		h->nodes[i].next = i + 1 < h->n ? &h->nodes[i + 1] : NULL;
	}
	return h->n > 0 ? &h->nodes[0] : NULL;
}

void hdrset_dispose(struct hdrset *h)
{
	free(h->buf);
	free(h->off);
	free(h->nodes);
}

/* The header called name in an object of headers (any case), or NULL. */
static json_t *header_get(json_t *headers, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach(headers, k, v) {
		if (strcasecmp(k, name) == 0)
			return v;
	}
	return NULL;
}

static bool extra_has(json_t *extra, const char *name) { return header_get(extra, name) != NULL; }

/* An inbound destination's null header: nobody sends it, the provider or hookd (so a destination can do
 * without hookd's signature: {"webhook-signature": null, "webhook-timestamp": null}). */
static bool dropped(json_t *ep_headers, const char *name) { return json_is_null(header_get(ep_headers, name)); }

/* A forwarded message sends this header itself: the provider's copy, or a destination's rewrite of it. */
static bool forwarded_has(json_t *extra, json_t *ep_headers, const char *name)
{
	json_t *v = header_get(ep_headers, name);
	return extra_has(extra, name) && (v == NULL || json_is_string(v));
}

/* A forwarded (inbound) message's own headers: they win over hookd's signature headers of the same name, but
 * an inbound destination's headers rewrite them (a string replaces one, null drops it). */
static void add_extra(struct hdrset *h, json_t *extra, json_t *ep_headers)
{
	const char *k;
	json_t *v;
	json_object_foreach(extra, k, v) {
		if (json_is_string(v) && !extra_has(ep_headers, k))
			add_header(h, k, json_string_value(v));
	}
}

struct curl_slist *request_headers(struct hdrset *l, struct ep_state *es, const struct ep_snap *ep,
				   const struct message *m, const struct request_body *rb)
{
	const struct hookd_config *signer = ep_signer(es, ep);
	struct hookd_header hs[HOOKD_SIGN_HEADERS_MAX];
	char sbuf[HOOKD_SIGN_BUF_MAX];
	int n = signer == NULL ? 0
			       : hookd_sign(signer, m->id, now_ms() / 1000, rb->body, rb->len,
					    hs, HOOKD_SIGN_HEADERS_MAX, sbuf, sizeof sbuf);
	if (n < 0) {
		log_warnx("deliver: signing %s for %s failed: %s", m->id, ep->ep.id, hookd_strerror(n));
		n = 0;
	}
	json_t *extra = m->extra_headers ? json_loads(m->extra_headers, 0, NULL) : NULL;
	l->n = l->len = 0;
	add_header(l, "content-type", m->content_type ? m->content_type : "application/json");
	json_t *eph = ep->ep.headers;
	bool has_id = forwarded_has(extra, eph, "webhook-id") || dropped(eph, "webhook-id");
	for (int i = 0; i < n; i++) {
		if (forwarded_has(extra, eph, hs[i].name) || dropped(eph, hs[i].name))
			continue;
		add_header(l, hs[i].name, hs[i].value);
		has_id |= strcasecmp(hs[i].name, "webhook-id") == 0;
	}
	if (!has_id) /* every scheme's receivers get the message id to deduplicate on */
		add_header(l, "webhook-id", m->id);
	add_header(l, "Expect", ""); /* no 100-continue round trip */
	if (rb->api_version != NULL)
		add_header(l, "webhook-api-version", rb->api_version);
	l->own = l->n;
	add_extra(l, extra, eph);
	l->custom = l->n;
	const char *k;
	json_t *v;
	json_object_foreach(eph, k, v) {
		if (json_is_string(v) && (extra_has(extra, k) || !reserved_header(k, hs, n)) &&
		    (rb->headers == NULL || header_get(rb->headers, k) == NULL)) /* a handler's header wins */
			add_header(l, k, json_string_value(v));
	}
	json_object_foreach(rb->headers, k, v) {
		if (json_is_string(v) && !reserved_header(k, hs, n) && !extra_has(extra, k))
			add_header(l, k, json_string_value(v));
	}
	json_decref(extra);
	return hdrset_list(l);
}

bool request_header_sensitive(const char *name)
{
	static const char *const names[] = {"authorization", "proxy-authorization", "cookie", "x-api-key",
					    "api-key", "x-auth-token", "x-access-token"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

struct hline {
	const char *name, *val;
	size_t nl, vl;
};

static char *esc(char *o, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) { /* as Latin-1: valid JSON whatever the bytes */
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		} else {
			*o++ = (char)c;
		}
	}
	return o;
}

char *headers_json(const char *lines, size_t len, size_t keep, bool redact)
{
	static const char red[] = "[redacted]";
	struct hline hl[HEADERS_JSON_MAX];
	bool done[HEADERS_JSON_MAX] = {0};
	size_t n = 0;
	size_t at = 0; /* the line's index */
	for (const char *p = lines, *end = lines + len; p < end && n < HEADERS_JSON_MAX; at++) {
		size_t ll = strnlen(p, (size_t)(end - p));
		const char *colon = memchr(p, ':', ll);
		if (colon != NULL && colon > p) {
			size_t nl = (size_t)(colon - p);
			const char *v = colon + 1, *ve = p + ll;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r' || ve[-1] == '\n'))
				ve--;
			bool hide = false;
			if (redact && at >= keep && nl < 64) {
				char nm[64];
				memcpy(nm, p, nl);
				nm[nl] = '\0';
				hide = request_header_sensitive(nm);
			}
			hl[n++] = (struct hline){.name = p, .nl = nl, .val = hide ? red : v,
						 .vl = hide ? sizeof red - 1 : (size_t)(ve - v)};
		}
		p += ll + 1;
	}
	/* every byte escapes to at most 6; per line: quotes, colon, comma, ", " and a "[redacted]" */
	char *out = xmalloc(6 * len + n * (8 + sizeof red) + 3), *o = out;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		if (o > out + 1)
			*o++ = ',';
		*o++ = '"';
		o = esc(o, hl[i].name, hl[i].nl);
		memcpy(o, "\":\"", 3);
		o = esc(o + 3, hl[i].val, hl[i].vl);
		for (size_t j = i + 1; j < n; j++) {
			if (!done[j] && hl[j].nl == hl[i].nl && strncasecmp(hl[j].name, hl[i].name, hl[i].nl) == 0) {
				done[j] = true;
				memcpy(o, ", ", 2);
				o = esc(o + 2, hl[j].val, hl[j].vl);
			}
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return xrealloc(out, (size_t)(o - out) + 1); /* the bound is ~6x: give the rest back (it is kept till commit) */
}

bool request_headers_secret(const struct hdrset *h)
{
	for (size_t i = h->custom; i < h->n; i++) {
		const char *line = h->buf + h->off[i];
		size_t ll = strlen(line), nl = strcspn(line, ":");
		if (ll >= 2 && line[ll - 1] == ' ' && line[ll - 2] == ':') /* left out of the record */
			continue;
		char nm[64];
		if (nl >= sizeof nm) /* headers_json shows such a value */
			return true;
		memcpy(nm, line, nl);
		nm[nl] = '\0';
		if (!request_header_sensitive(nm)) /* else "[redacted]" */
			return true;
	}
	return false;
}

char *request_headers_json(const struct hdrset *h)
{
	/* user-agent is curl's (xfer_setup), after hookd's own lines; the lines with an empty value are ones
	 * curl was told to leave out ("Expect:") and come out empty: they are dropped here */
	char ua[] = "user-agent: hookd/" HOOKD_VERSION;
	size_t len = h->len + sizeof ua;
	char *lines = len <= 16384 ? NULL : xmalloc(len);
	char stackbuf[16384];
	char *b = lines != NULL ? lines : stackbuf, *o = b;
	size_t n = 0, keep = 0;
	for (size_t i = 0; i < h->n; i++) {
		const char *line = h->buf + h->off[i];
		size_t ll = strlen(line);
		if (ll >= 2 && line[ll - 1] == ' ' && line[ll - 2] == ':') /* "Name: " */
			continue;
		memcpy(o, line, ll + 1);
		o += ll + 1;
		if (i < h->own)
			keep = n + 1;
		n++;
	}
	memcpy(o, ua, sizeof ua);
	o += sizeof ua;
	char *j = headers_json(b, (size_t)(o - b), keep, true);
	free(lines);
	return j;
}
