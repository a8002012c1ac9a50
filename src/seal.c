/* seal.c: secrets encrypted at rest: AES-256-GCM on OpenSSL EVP, the key ring, and which fields of the model
 * are secrets (seal.h). */
#include "seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define PREFIX_LEN (sizeof SEAL_PREFIX - 1)
#define HEAD_LEN (PREFIX_LEN + SEAL_KEYID_LEN + 1) /* "enc:v1:" <id> ":" */

struct key {
	unsigned char k[SEAL_KEY_LEN];
	char id[SEAL_KEYID_LEN + 1];
};

/* Written once at start-up before other threads run; read-only afterwards. */
static struct {
	bool set;
	struct key cur;
	struct key prev[SEAL_PREVIOUS_MAX];
	size_t nprev;
} ring;

void seal_key_id(const unsigned char key[SEAL_KEY_LEN], char out[SEAL_KEYID_LEN + 1])
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256(key, SEAL_KEY_LEN, h);
	for (int i = 0; i < SEAL_KEYID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Base64 of exactly 32 bytes (padding optional, surrounding blanks ignored). */
static int key_parse(const char *s, size_t n, struct key *k)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	char buf[48];
	if (n != 43 && n != 44)
		return -1;
	memcpy(buf, s, n);
	if (n == 43)
		buf[n++] = '=';
	buf[n] = '\0';
	if (buf[42] == '=' || buf[43] != '=' || strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						   "0123456789+/") != 43)
		return -1;
	unsigned char out[36];
	if (EVP_DecodeBlock(out, (const unsigned char *)buf, 44) != 33) /* 33: the padding's zero byte counted */
		return -1;
	memcpy(k->k, out, SEAL_KEY_LEN);
	OPENSSL_cleanse(out, sizeof out);
	OPENSSL_cleanse(buf, sizeof buf);
	seal_key_id(k->k, k->id);
	return 0;
}

int seal_keys_set(const char *current_b64, const char *previous_b64, char *err, size_t errlen)
{
	struct key cur, prev[SEAL_PREVIOUS_MAX];
	size_t nprev = 0;
	if (current_b64 == NULL || key_parse(current_b64, strlen(current_b64), &cur) < 0) {
		snprintf(err, errlen, "the secret key must be base64 of 32 bytes (openssl rand -base64 32 makes one)");
		return -1;
	}
	for (const char *p = previous_b64; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ",");
		if (nprev == SEAL_PREVIOUS_MAX || key_parse(p, n, &prev[nprev]) < 0) {
			snprintf(err, errlen, nprev == SEAL_PREVIOUS_MAX
					      ? "at most %d previous secret keys"
					      : "each previous secret key must be base64 of 32 bytes (key %d is not)",
				 nprev == SEAL_PREVIOUS_MAX ? SEAL_PREVIOUS_MAX : (int)nprev + 1);
			OPENSSL_cleanse(&cur, sizeof cur);
			OPENSSL_cleanse(prev, sizeof prev);
			return -1;
		}
		nprev++;
		p += n + (p[n] == ',');
	}
	seal_keys_clear();
	ring.cur = cur;
	memcpy(ring.prev, prev, nprev * sizeof prev[0]);
	ring.nprev = nprev;
	ring.set = true;
	OPENSSL_cleanse(&cur, sizeof cur);
	OPENSSL_cleanse(prev, sizeof prev);
	return 0;
}

void seal_keys_clear(void)
{
	OPENSSL_cleanse(&ring, sizeof ring);
	ring.set = false;
	ring.nprev = 0;
}

bool seal_enabled(void) { return ring.set; }

const char *seal_current_id(void) { return ring.set ? ring.cur.id : ""; }

int seal_key_new(char out[64])
{
	unsigned char k[SEAL_KEY_LEN];
	if (RAND_bytes(k, sizeof k) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, k, sizeof k);
	OPENSSL_cleanse(k, sizeof k);
	return 0;
}

bool seal_is_sealed(const char *s) { return s != NULL && strncmp(s, SEAL_PREFIX, PREFIX_LEN) == 0; }

static const struct key *key_find(const char *id)
{
	if (!ring.set)
		return NULL;
	if (memcmp(ring.cur.id, id, SEAL_KEYID_LEN) == 0)
		return &ring.cur;
	for (size_t i = 0; i < ring.nprev; i++)
		if (memcmp(ring.prev[i].id, id, SEAL_KEYID_LEN) == 0)
			return &ring.prev[i];
	return NULL;
}

/* AES-256-GCM of n bytes in or out (enc: encrypt in into out and write the tag; else decrypt and check it). */
static bool gcm(bool enc, const struct key *k, const unsigned char *nonce, const char *aad, size_t aadlen,
		const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0;
	bool ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		  EVP_CipherInit_ex(c, NULL, NULL, k->k, nonce, enc) == 1 &&
		  EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad, (int)aadlen) == 1 &&
		  (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1) &&
		  (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1) &&
		  EVP_CipherFinal_ex(c, out + (n == 0 ? 0 : len), &len) == 1 &&
		  (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok;
}

char *seal_value(const char *plain)
{
	if (!ring.set)
		return xstrdup(plain);
	size_t n = strlen(plain), raw_len = NONCE_LEN + n + TAG_LEN;
	unsigned char *raw = xmalloc(raw_len);
	char head[HEAD_LEN + 1];
	snprintf(head, sizeof head, SEAL_PREFIX "%s:", ring.cur.id);
	if (RAND_bytes(raw, NONCE_LEN) != 1 ||
	    !gcm(true, &ring.cur, raw, head, HEAD_LEN, (const unsigned char *)plain, n, raw + NONCE_LEN,
		 raw + NONCE_LEN + n))
		fatalx("seal: AES-256-GCM failed");
	char *out = xmalloc(HEAD_LEN + 4 * ((raw_len + 2) / 3) + 1);
	memcpy(out, head, HEAD_LEN);
	EVP_EncodeBlock((unsigned char *)out + HEAD_LEN, raw, (int)raw_len);
	free(raw);
	return out;
}

int seal_open(const char *stored, char **plain, char *err, size_t errlen)
{
	*plain = NULL;
	if (!seal_is_sealed(stored)) {
		*plain = xstrdup(stored);
		return 0;
	}
	const char *id = stored + PREFIX_LEN, *b64 = stored + HEAD_LEN;
	size_t blen = strlen(stored) < HEAD_LEN ? 0 : strlen(b64);
	if (blen == 0 || stored[HEAD_LEN - 1] != ':' || strspn(id, "0123456789abcdef") != SEAL_KEYID_LEN ||
	    blen % 4 != 0) {
		snprintf(err, errlen, "a stored secret is damaged (not a sealed value hookd wrote)");
		return -1;
	}
	char idtext[SEAL_KEYID_LEN + 1];
	memcpy(idtext, id, SEAL_KEYID_LEN);
	idtext[SEAL_KEYID_LEN] = '\0';
	const struct key *k = key_find(idtext);
	if (k == NULL) {
		snprintf(err, errlen,
			 "a stored secret is sealed with key id %s, which this node does not have (give that key with "
			 "--secret-key or --secret-key-previous; docs/security.md)",
			 idtext);
		return -1;
	}
	unsigned char *raw = xmalloc(blen / 4 * 3 + 1);
	int rn = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)blen);
	size_t pad = rn < 0 ? 0 : (b64[blen - 1] == '=') + (b64[blen - 2] == '=');
	size_t n = rn < 0 ? 0 : (size_t)rn - pad;
	char *out = NULL;
	bool ok = rn >= 0 && n >= NONCE_LEN + TAG_LEN;
	if (ok) {
		size_t clen = n - NONCE_LEN - TAG_LEN;
		out = xmalloc(clen + 1);
		ok = gcm(false, k, raw, stored, HEAD_LEN, raw + NONCE_LEN, clen, (unsigned char *)out,
			 raw + NONCE_LEN + clen) &&
		     memchr(out, '\0', clen) == NULL;
		out[clen] = '\0';
	}
	free(raw);
	if (!ok) {
		if (out != NULL)
			OPENSSL_cleanse(out, strlen(out));
		free(out);
		snprintf(err, errlen, "a stored secret sealed with key id %s does not open (damaged, or a different key "
				      "with the same id)", idtext);
		return -1;
	}
	*plain = out;
	return 0;
}

/* ---- which fields are secrets ---- */

/* fn on every string of col's shape in root (the secret column: root itself); stops at the first -1. */
static int walk(enum seal_column col, json_t *root, int (*fn)(json_t *s, void *ctx), void *ctx)
{
	const char *k;
	json_t *v, *d;
	size_t i, j;
	switch (col) {
	case SEAL_COL_SECRET:
		return json_is_string(root) ? fn(root, ctx) : 0;
	case SEAL_COL_HEADERS:
		json_object_foreach(root, k, v) {
			if (json_is_string(v) && fn(v, ctx) < 0)
				return -1;
		}
		return 0;
	case SEAL_COL_OLD_SECRETS:
		json_array_foreach(root, i, v) {
			json_t *key = json_object_get(v, "key");
			if (json_is_string(key) && fn(key, ctx) < 0)
				return -1;
		}
		return 0;
	case SEAL_COL_SOURCE:
		json_array_foreach(json_object_get(root, "secrets"), i, v) {
			if (json_is_string(v) && fn(v, ctx) < 0)
				return -1;
		}
		json_array_foreach(json_object_get(root, "destinations"), j, d) {
			if (walk(SEAL_COL_HEADERS, json_object_get(d, "headers"), fn, ctx) < 0)
				return -1;
		}
		return 0;
	}
	return 0;
}

static int fn_seal(json_t *s, void *ctx)
{
	(void)ctx;
	char *v = seal_value(json_string_value(s));
	json_string_set(s, v);
	free(v);
	return 0;
}

struct open_ctx {
	char *err;
	size_t errlen;
	enum seal_mode mode;
	int64_t need; /* values to seal anew under mode */
};

static int fn_open(json_t *s, void *arg)
{
	struct open_ctx *c = arg;
	const char *v = json_string_value(s);
	if (!seal_is_sealed(v) ||
	    (c->mode == SEAL_NOT_CURRENT && strncmp(v + PREFIX_LEN, ring.cur.id, SEAL_KEYID_LEN) != 0))
		c->need++;
	char *plain;
	if (seal_open(v, &plain, c->err, c->errlen) < 0)
		return -1;
	json_string_set(s, plain);
	OPENSSL_cleanse(plain, strlen(plain));
	free(plain);
	return 0;
}

static json_t *sealed_copy(enum seal_column col, const json_t *j)
{
	if (j == NULL)
		return NULL;
	json_t *c = json_deep_copy(j);
	walk(col, c, fn_seal, NULL);
	return c;
}

void seal_endpoint(const struct endpoint *e, struct sealed_endpoint *out)
{
	out->secret = e->secret != NULL ? seal_value(e->secret) : NULL;
	out->headers = sealed_copy(SEAL_COL_HEADERS, e->headers);
	out->old_secrets = sealed_copy(SEAL_COL_OLD_SECRETS, e->old_secrets);
}

void seal_endpoint_dispose(struct sealed_endpoint *s)
{
	free(s->secret);
	json_decref(s->headers);
	json_decref(s->old_secrets);
	*s = (struct sealed_endpoint){0};
}

int seal_endpoint_open(struct endpoint *e, char *err, size_t errlen)
{
	struct open_ctx c = {err, errlen, SEAL_PLAINTEXT, 0};
	if (e->secret != NULL && seal_is_sealed(e->secret)) {
		char *plain;
		if (seal_open(e->secret, &plain, err, errlen) < 0)
			return -1;
		free(e->secret);
		e->secret = plain;
	}
	return walk(SEAL_COL_HEADERS, e->headers, fn_open, &c) < 0 ||
			       walk(SEAL_COL_OLD_SECRETS, e->old_secrets, fn_open, &c) < 0
		       ? -1
		       : 0;
}

static char *dump(const json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY); }

char *seal_source(const char *config)
{
	json_t *j = json_loads(config, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	walk(SEAL_COL_SOURCE, j, fn_seal, NULL);
	char *out = dump(j);
	json_decref(j);
	return out;
}

int seal_source_open(const char *stored, char **config, char *err, size_t errlen)
{
	*config = NULL;
	json_t *j = json_loads(stored, 0, NULL);
	struct open_ctx c = {err, errlen, SEAL_PLAINTEXT, 0};
	if (j == NULL) { /* not ours to judge: the registry rejects it as it did before */
		*config = xstrdup(stored);
		return 0;
	}
	int rc = walk(SEAL_COL_SOURCE, j, fn_open, &c);
	if (rc == 0)
		*config = dump(j);
	json_decref(j);
	return rc;
}

int seal_reseal(enum seal_column col, const char *stored, enum seal_mode mode, char **out, int64_t *values,
		char *err, size_t errlen)
{
	*out = NULL;
	if (stored == NULL)
		return 0;
	json_t *j = col == SEAL_COL_SECRET ? json_string(stored) : json_loads(stored, 0, NULL);
	if (j == NULL)
		return 0; /* not JSON (nor valid UTF-8): no secret hookd could have stored there */
	struct open_ctx c = {err, errlen, mode, 0};
	int rc = walk(col, j, fn_open, &c);
	if (rc == 0 && c.need > 0 && ring.set) {
		walk(col, j, fn_seal, NULL);
		*out = col == SEAL_COL_SECRET ? xstrdup(json_string_value(j)) : dump(j);
		*values += c.need;
	}
	json_decref(j);
	return rc;
}
