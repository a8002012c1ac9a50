/* verify.c: check a received delivery against a struct hookd_config, for every scheme by one path:
 * find the headers (missing?), read the timestamp and the signature entries (malformed?), check the window
 * (stale? future?), then compare each candidate with what each secret signs (mismatch?).
 *
 * Peer input only ever lands in fixed-size buffers: a candidate is decoded only if its text has exactly the
 * length of an encoded digest, and there are at most HOOKD_CANDIDATES_MAX of them. Digests are compared with
 * CRYPTO_memcmp. OpenSSL libcrypto and libc only. */
#include "scheme.h"

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

static int check(const struct hookd_config *cfg, const struct lookup *l, const void *body, size_t bodylen,
		 int64_t now, struct found *f)
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
	hookd__msg_build(cfg->s->msg, f->id, f->ts, body, bodylen, &m);
	return cfg->s->key == KEY_ED25519 ? match_ed25519(cfg, f, &m) : match_hmac(cfg, f, &m);
}

int hookd_verify_lookup(const struct hookd_config *cfg, hookd_lookup_fn *lookup, void *ctx, const void *body,
			size_t bodylen, int64_t now)
{
	if (cfg == NULL || cfg->nkeys == 0 || lookup == NULL || (body == NULL && bodylen > 0))
		return HOOKD_ERR_INVALID;
	struct lookup l = {lookup, ctx};
	struct found f = {0}; /* about 2 KiB, all of it from the peer: nothing to wipe */
	return check(cfg, &l, body, bodylen, now, &f);
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

int hookd_verify(const struct hookd_config *cfg, const struct hookd_header *headers, size_t nheaders,
		 const void *body, size_t bodylen, int64_t now)
{
	if (headers == NULL && nheaders > 0)
		return HOOKD_ERR_INVALID;
	struct header_array a = {headers, nheaders};
	return hookd_verify_lookup(cfg, array_lookup, &a, body, bodylen, now);
}
