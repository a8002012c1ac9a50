/* verify.c: check a received delivery against a struct hookd_config, for every scheme by one path:
 * find the headers (missing?), read the timestamp and the signature entries (malformed?), check the window
 * (stale? future?), then compare each candidate with what each secret signs (mismatch?).
 *
 * Peer input only ever lands in fixed-size buffers: a candidate is decoded only if its text has exactly the
 * length of an encoded digest, and there are at most HOOKD_CANDIDATES_MAX of them. Digests are compared with
 * CRYPTO_memcmp. The one exception is Twilio's form body, whose parameters are signed decoded and sorted: it is
 * decoded into one block that the body's size bounds (twice the body, plus at most HOOKD_FORM_PARAMS_MAX
 * entries). OpenSSL libcrypto and libc only. */
#include "scheme.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct lookup {
	hookd_lookup_fn *fn;
	void *ctx;
};

/* What the headers of one delivery say. */
struct found {
	const char *id, *ts_text, *sig;
	int64_t ts;
	const char *prefix, *hash; /* of the header found: GitHub's legacy one differs */
	size_t maclen;
	size_t ncand;
	bool cand_ok[HOOKD_CANDIDATES_MAX]; /* decoded to exactly maclen bytes */
	uint8_t cand[HOOKD_CANDIDATES_MAX][HOOKD_DIGEST_MAX];
};

/* An empty header is as good as none (the reference libraries treat "" as missing too). */
static const char *header(const struct lookup *l, const char *name)
{
	const char *v = l->fn(l->ctx, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

static int find_headers(const struct hookd_config *cfg, const struct lookup *l, struct found *f)
{
	f->prefix = cfg->prefix;
	f->hash = cfg->hash;
	f->maclen = cfg->maclen;
	f->sig = header(l, cfg->header);
	if (f->sig == NULL && cfg->s->legacy_header != NULL) {
		f->sig = header(l, cfg->s->legacy_header);
		f->prefix = cfg->s->legacy_prefix;
		f->hash = cfg->s->legacy_hash;
		f->maclen = hookd__hash_len(f->hash);
	}
	if (f->sig == NULL)
		return HOOKD_ERR_MISSING;
	if (cfg->id_header[0] != '\0' && (f->id = header(l, cfg->id_header)) == NULL)
		return HOOKD_ERR_MISSING;
	if (cfg->ts_header[0] != '\0' && (f->ts_text = header(l, cfg->ts_header)) == NULL)
		return HOOKD_ERR_MISSING;
	return HOOKD_OK;
}

/* The next entry of a list: skips separators, false at the end. */
static bool next_entry(const char **pos, const char *seps, const char **e, size_t *n)
{
	const char *p = *pos + strspn(*pos, seps);
	if (*p == '\0')
		return false;
	*e = p;
	*n = strcspn(p, seps);
	*pos = p + *n;
	return true;
}

static bool has_prefix(const char *e, size_t n, const char *prefix, size_t plen)
{
	return n >= plen && memcmp(e, prefix, plen) == 0;
}

/* Stripe: exactly one "t=" entry; two could make the signed and the checked time differ. */
static int stripe_timestamp(const struct hookd_config *cfg, struct found *f)
{
	const char *pos = f->sig, *e, *t = NULL;
	size_t n, tn = 0;
	while (next_entry(&pos, cfg->s->seps, &e, &n)) {
		if (!has_prefix(e, n, "t=", 2))
			continue;
		if (t != NULL)
			return HOOKD_ERR_MALFORMED;
		t = e + 2;
		tn = n - 2;
	}
	if (t == NULL || hookd__parse_ts(t, tn, &f->ts) < 0)
		return HOOKD_ERR_MALFORMED;
	return HOOKD_OK;
}

static int read_timestamp(const struct hookd_config *cfg, struct found *f)
{
	if (cfg->s->layout == LAYOUT_STRIPE)
		return stripe_timestamp(cfg, f);
	if (f->ts_text != NULL && hookd__parse_ts(f->ts_text, strlen(f->ts_text), &f->ts) < 0)
		return HOOKD_ERR_MALFORMED;
	return HOOKD_OK;
}

static bool decode(const struct hookd_config *cfg, const char *text, size_t n, uint8_t *out, size_t maclen)
{
	if (n != hookd__encoded_len(cfg, maclen))
		return false;
	long got = cfg->base64 ? hookd_base64_decode(text, n, out, maclen) : hookd_hex_decode(text, n, out, maclen);
	return got == (long)maclen;
}

/* Every entry with our prefix is a candidate; one that does not decode to a digest stays in the count but can
 * never match. */
static int collect(const struct hookd_config *cfg, struct found *f)
{
	const char *pos = f->sig, *e;
	size_t n, plen = strlen(f->prefix);
	while (next_entry(&pos, cfg->s->seps, &e, &n)) {
		if (!has_prefix(e, n, f->prefix, plen))
			continue;
		if (f->ncand == HOOKD_CANDIDATES_MAX)
			return HOOKD_ERR_MALFORMED;
		f->cand_ok[f->ncand] = decode(cfg, e + plen, n - plen, f->cand[f->ncand], f->maclen);
		f->ncand++;
	}
	/* Where a provider sends one signature, a header without it is malformed; in a list, entries of other
	 * versions are legitimately ignored and "none of ours" is a mismatch. */
	if (f->ncand == 0 && cfg->s->layout == LAYOUT_SINGLE)
		return HOOKD_ERR_MALFORMED;
	return HOOKD_OK;
}

static bool any_candidate(const struct found *f)
{
	for (size_t c = 0; c < f->ncand; c++)
		if (f->cand_ok[c])
			return true;
	return false;
}

static int match_hmac(const struct hookd_config *cfg, const struct found *f, const struct msg *m)
{
	uint8_t mac[HOOKD_DIGEST_MAX];
	bool hit = false;
	int rc = HOOKD_OK;
	for (size_t k = 0; k < cfg->nkeys && rc == HOOKD_OK && !hit; k++) {
		rc = hookd__hmac(f->hash, cfg->keys[k].bytes, cfg->keys[k].len, m, mac, sizeof mac);
		for (size_t c = 0; rc == HOOKD_OK && c < f->ncand; c++)
			hit |= f->cand_ok[c] && CRYPTO_memcmp(f->cand[c], mac, f->maclen) == 0;
	}
	OPENSSL_cleanse(mac, sizeof mac);
	if (rc != HOOKD_OK)
		return rc;
	return hit ? HOOKD_OK : HOOKD_ERR_MISMATCH;
}

static int match_ed25519(const struct hookd_config *cfg, const struct found *f, const struct msg *m)
{
	size_t len = 0;
	bool hit = false;
	if (!any_candidate(f))
		return HOOKD_ERR_MISMATCH; /* nothing to check: spare the copy */
	uint8_t *joined = hookd__msg_join(m, &len);
	if (joined == NULL)
		return HOOKD_ERR_NOMEM;
	for (size_t k = 0; k < cfg->nkeys && !hit; k++)
		for (size_t c = 0; c < f->ncand && !hit; c++)
			hit = f->cand_ok[c] && hookd__ed25519_verify(cfg->keys[k].pub, joined, len, f->cand[c]);
	free(joined);
	return hit ? HOOKD_OK : HOOKD_ERR_MISMATCH;
}

/* ---- Twilio: the URL and the form body ------------------------------------------------------------------ */

/* application/x-www-form-urlencoded, whatever the case and the parameters (charset=...). */
bool hookd__is_form(const char *content_type)
{
	static const char form[] = "application/x-www-form-urlencoded";
	if (content_type == NULL)
		return false;
	const char *t = content_type + strspn(content_type, " \t");
	size_t n = strcspn(t, ";");
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	return n == sizeof form - 1 && hookd__strncaseeq(t, form, n);
}

static bool url_prefix(const char *url, size_t n, const char *prefix)
{
	size_t plen = strlen(prefix);
	return n >= plen && hookd__strncaseeq(url, prefix, plen);
}

/* Twilio signs with or without the default port, inconsistently (twilio-node and twilio-python try both):
 * for http(s) URLs, the variant that adds the port when there is none, or drops it when it is the default. */
static void url_port_variant(struct url_msg *u)
{
	const char *url = u->url, *def;
	size_t n = u->urllen, start;
	if (url_prefix(url, n, "https://"))
		start = 8, def = ":443";
	else if (url_prefix(url, n, "http://"))
		start = 7, def = ":80";
	else
		return;
	size_t end = start + strcspn(url + start, "/?#"), host = start, dlen = strlen(def);
	for (size_t i = start; i < end; i++)
		if (url[i] == '@') /* user:password@ comes before the host */
			host = i + 1;
	if (url[host] == '[') /* an IPv6 literal has colons of its own */
		host += strcspn(url + host, "]");
	const char *colon = host < end ? memchr(url + host, ':', end - host) : NULL;
	if (colon == NULL) {
		u->cut_from = u->cut_to = end;
		u->insert = def;
		u->has_alt = true;
	} else if ((size_t)(url + end - colon) == dlen && memcmp(colon, def, dlen) == 0) {
		u->cut_from = (size_t)(colon - url);
		u->cut_to = end;
		u->insert = "";
		u->has_alt = true;
	}
}

/* The first bodySHA256 parameter of the URL's query, as text ("" for the bare name). */
static bool url_body_hash(const char *url, size_t n, const char **v, size_t *vn)
{
	static const char name[] = "bodySHA256";
	const size_t nlen = sizeof name - 1;
	const char *frag = memchr(url, '#', n), *end = frag != NULL ? frag : url + n;
	const char *q = memchr(url, '?', (size_t)(end - url));
	if (q == NULL)
		return false;
	for (const char *s = q + 1; s < end;) {
		const char *e = memchr(s, '&', (size_t)(end - s));
		e = e != NULL ? e : end;
		size_t len = (size_t)(e - s);
		if (len >= nlen && memcmp(s, name, nlen) == 0 && (len == nlen || s[nlen] == '=')) {
			*v = len == nlen ? e : s + nlen + 1;
			*vn = len == nlen ? 0 : len - nlen - 1;
			return true;
		}
		s = e + 1;
	}
	return false;
}

/* A body that is not a form is covered only through the hash that the signed URL carries. */
static int check_body_hash(const char *v, size_t vn, const void *body, size_t bodylen)
{
	uint8_t want[HOOKD_SHA256_LEN], got[HOOKD_SHA256_LEN];
	if (vn != 2 * HOOKD_SHA256_LEN || hookd_hex_decode(v, vn, want, sizeof want) != HOOKD_SHA256_LEN)
		return HOOKD_ERR_MISMATCH;
	int rc = hookd__sha256(body, bodylen, got);
	if (rc != HOOKD_OK)
		return rc;
	return CRYPTO_memcmp(want, got, sizeof got) == 0 ? HOOKD_OK : HOOKD_ERR_MISMATCH;
}

struct param {
	const uint8_t *name, *value;
	size_t nlen, vlen;
};

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Form decoding, appended to out at *len: '+' is a space, %XY a byte; a '%' without two hex digits is
 * malformed (a lenient decoder would make two different bodies sign alike). */
static bool form_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		int c = in[i] == '+' ? ' ' : in[i];
		if (in[i] == '%') {
			if (n - i < 3 || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
				return false;
			c = hexval(in[i + 1]) << 4 | hexval(in[i + 2]);
			i += 2;
		}
		out[(*len)++] = (uint8_t)c;
	}
	return true;
}

/* The non-empty '&'-separated fields of a form body. */
static size_t form_count(const uint8_t *b, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += b[i] != '&' && (i == 0 || b[i - 1] == '&');
	return count;
}

/* Decode every field into dec, its name then its value ("name" alone has an empty value); p points into dec. */
static bool form_split(const uint8_t *b, size_t n, uint8_t *dec, struct param *p)
{
	size_t len = 0;
	for (size_t i = 0; i < n;) {
		const uint8_t *f = b + i, *amp = memchr(f, '&', n - i);
		size_t flen = amp != NULL ? (size_t)(amp - f) : n - i;
		i += flen + 1;
		if (flen == 0)
			continue;
		const uint8_t *eq = memchr(f, '=', flen);
		size_t nlen = eq != NULL ? (size_t)(eq - f) : flen;
		p->name = dec + len;
		if (!form_decode(f, nlen, dec, &len))
			return false;
		p->nlen = (size_t)(dec + len - p->name);
		p->value = dec + len;
		if (eq != NULL && !form_decode(eq + 1, flen - nlen - 1, dec, &len))
			return false;
		p->vlen = (size_t)(dec + len - p->value);
		p++;
	}
	return true;
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c != 0 ? c : (an > bn) - (an < bn);
}

/* By name, then by value, bytewise: Twilio sorts the names, and the values of a repeated name. */
static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = bytes_cmp(x->name, x->nlen, y->name, y->nlen);
	return c != 0 ? c : bytes_cmp(x->value, x->vlen, y->value, y->vlen);
}

/* name value name value ..., no delimiters; a value repeated under one name counts once. */
static size_t form_tail(const struct param *p, size_t np, uint8_t *tail)
{
	size_t len = 0;
	for (size_t i = 0; i < np; i++) {
		if (i > 0 && param_cmp(&p[i - 1], &p[i]) == 0)
			continue;
		memcpy(tail + len, p[i].name, p[i].nlen);
		len += p[i].nlen;
		memcpy(tail + len, p[i].value, p[i].vlen);
		len += p[i].vlen;
	}
	return len;
}

/* One block: the parameters, the decoded fields (at most the body's size), the tail (no larger). */
static int url_msg_form(struct url_msg *u, const uint8_t *body, size_t bodylen)
{
	size_t np = form_count(body, bodylen);
	if (np > HOOKD_FORM_PARAMS_MAX)
		return HOOKD_ERR_MALFORMED;
	if (np == 0)
		return HOOKD_OK;
	if (bodylen > (SIZE_MAX - np * sizeof(struct param)) / 2)
		return HOOKD_ERR_NOMEM;
	struct param *p = malloc(np * sizeof *p + 2 * bodylen);
	if (p == NULL)
		return HOOKD_ERR_NOMEM;
	uint8_t *dec = (uint8_t *)(p + np), *tail = dec + bodylen;
	if (!form_split(body, bodylen, dec, p)) {
		free(p);
		return HOOKD_ERR_MALFORMED;
	}
	qsort(p, np, sizeof *p, param_cmp);
	u->taillen = form_tail(p, np, tail);
	u->tail = tail;
	u->mem = p;
	return HOOKD_OK;
}

int hookd__url_msg_init(struct url_msg *u, const char *url, bool form, const void *body, size_t bodylen)
{
	const char *hash;
	size_t hashlen;
	memset(u, 0, sizeof *u);
	u->url = url;
	u->urllen = strnlen(url, HOOKD_URL_MAX + 1);
	if (u->urllen > HOOKD_URL_MAX)
		return HOOKD_ERR_MALFORMED;
	url_port_variant(u);
	/* As twilio-node does, a bodySHA256 in the URL means the URL alone is signed and the body must hash to it,
	 * whatever the Content-Type says: else an empty "form" could pass under a JSON request's signature. */
	if (url_body_hash(url, u->urllen, &hash, &hashlen))
		return check_body_hash(hash, hashlen, body, bodylen);
	if (form)
		return url_msg_form(u, body, bodylen);
	/* No body (a GET) signs the URL alone; any other body would go unsigned. */
	return bodylen == 0 ? HOOKD_OK : HOOKD_ERR_MISSING;
}

static void msg_part(struct msg *m, const void *p, size_t n)
{
	m->part[m->n].p = p;
	m->part[m->n].n = n;
	m->n++;
}

bool hookd__url_msg_build(const struct url_msg *u, int variant, struct msg *m)
{
	m->n = 0;
	m->ts[0] = '\0';
	if (variant == 0) {
		msg_part(m, u->url, u->urllen);
	} else if (variant == 1 && u->has_alt) {
		msg_part(m, u->url, u->cut_from);
		msg_part(m, u->insert, strlen(u->insert));
		msg_part(m, u->url + u->cut_to, u->urllen - u->cut_to);
	} else {
		return false;
	}
	msg_part(m, u->tail, u->taillen);
	return true;
}

void hookd__url_msg_free(struct url_msg *u)
{
	free(u->mem);
	u->mem = NULL;
}

/* Each URL variant in turn; the candidates and secrets as for every scheme. */
static int match_url(const struct hookd_config *cfg, const struct found *f, const char *url, bool form,
		     const void *body, size_t bodylen)
{
	struct url_msg u;
	struct msg m;
	int rc = hookd__url_msg_init(&u, url, form, body, bodylen);
	if (rc != HOOKD_OK)
		return rc;
	rc = HOOKD_ERR_MISMATCH;
	for (int v = 0; rc == HOOKD_ERR_MISMATCH && hookd__url_msg_build(&u, v, &m); v++)
		rc = match_hmac(cfg, f, &m);
	hookd__url_msg_free(&u);
	return rc;
}

static int check(const struct hookd_config *cfg, const struct lookup *l, const char *url, const void *body,
		 size_t bodylen, int64_t now, struct found *f)
{
	struct msg m;
	int rc = find_headers(cfg, l, f);
	if (rc == HOOKD_OK)
		rc = read_timestamp(cfg, f);
	if (rc == HOOKD_OK)
		rc = collect(cfg, f);
	if (rc == HOOKD_OK && hookd__has_timestamp(cfg))
		rc = hookd__window(f->ts, now, cfg->past, cfg->future);
	if (rc != HOOKD_OK)
		return rc;
	if (cfg->s->msg == MSG_URL)
		return match_url(cfg, f, url, hookd__is_form(header(l, "Content-Type")), body, bodylen);
	hookd__msg_build(cfg->s->msg, f->id, f->ts, body, bodylen, &m);
	return cfg->s->key == KEY_ED25519 ? match_ed25519(cfg, f, &m) : match_hmac(cfg, f, &m);
}

/* Twilio signs the URL: without one there is nothing to check it against. */
static bool needs_url(const struct hookd_config *cfg, const char *url)
{
	return cfg->s->msg == MSG_URL && (url == NULL || *url == '\0');
}

int hookd_verify_lookup_url(const struct hookd_config *cfg, const char *url, hookd_lookup_fn *lookup, void *ctx,
			    const void *body, size_t bodylen, int64_t now)
{
	if (cfg == NULL || cfg->nkeys == 0 || lookup == NULL || (body == NULL && bodylen > 0) || needs_url(cfg, url))
		return HOOKD_ERR_INVALID;
	struct lookup l = {lookup, ctx};
	struct found f = {0}; /* about 2 KiB, all of it from the peer: nothing to wipe */
	return check(cfg, &l, url, body, bodylen, now, &f);
}

int hookd_verify_lookup(const struct hookd_config *cfg, hookd_lookup_fn *lookup, void *ctx, const void *body,
			size_t bodylen, int64_t now)
{
	return hookd_verify_lookup_url(cfg, NULL, lookup, ctx, body, bodylen, now);
}

struct header_array {
	const struct hookd_header *h;
	size_t n;
};

static const char *array_lookup(void *ctx, const char *name)
{
	const struct header_array *a = ctx;
	for (size_t i = 0; i < a->n; i++)
		if (a->h[i].name != NULL && hookd__strcaseeq(a->h[i].name, name))
			return a->h[i].value;
	return NULL;
}

int hookd_verify_url(const struct hookd_config *cfg, const char *url, const struct hookd_header *headers,
		     size_t nheaders, const void *body, size_t bodylen, int64_t now)
{
	if (headers == NULL && nheaders > 0)
		return HOOKD_ERR_INVALID;
	struct header_array a = {headers, nheaders};
	return hookd_verify_lookup_url(cfg, url, array_lookup, &a, body, bodylen, now);
}

int hookd_verify(const struct hookd_config *cfg, const struct hookd_header *headers, size_t nheaders,
		 const void *body, size_t bodylen, int64_t now)
{
	return hookd_verify_url(cfg, NULL, headers, nheaders, body, bodylen, now);
}
