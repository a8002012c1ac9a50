/* mac.c: the cryptography and the clock checks under every libhookd scheme: HMAC fed piece by piece,
 * Ed25519 over the joined message, SHA-256 of a body (Twilio), strict unix timestamps and the two-sided
 * timestamp window. OpenSSL libcrypto and libc only. */
#include "scheme.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

size_t hookd__hash_len(const char *hash)
{
	if (strcmp(hash, "SHA1") == 0)
		return 20;
	if (strcmp(hash, "SHA256") == 0)
		return 32;
	if (strcmp(hash, "SHA512") == 0)
		return 64;
	return 0;
}

static int mac_feed(EVP_MAC_CTX *ctx, const void *p, size_t n)
{
	/* An empty body may come as NULL; skip it rather than hand OpenSSL a NULL pointer. */
	return n == 0 || EVP_MAC_update(ctx, p, n);
}

int hookd__hmac(const char *hash, const uint8_t *key, size_t keylen, const struct msg *m, uint8_t *out,
		size_t outlen)
{
	char digest[8]; /* OSSL_PARAM wants a mutable string */
	size_t want = hookd__hash_len(hash), got = 0, namelen = strlen(hash);
	if (want == 0 || outlen < want || namelen >= sizeof digest)
		return HOOKD_ERR_INVALID;
	memcpy(digest, hash, namelen + 1);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params);
	for (size_t i = 0; ok && i < m->n; i++)
		ok = mac_feed(ctx, m->part[i].p, m->part[i].n);
	ok = ok && EVP_MAC_final(ctx, out, &got, outlen) && got == want;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return ok ? HOOKD_OK : HOOKD_ERR_CRYPTO;
}

/* Twilio's bodySHA256: the hash of a body that its signature covers only through the URL. */
int hookd__sha256(const void *p, size_t n, uint8_t out[HOOKD_SHA256_LEN])
{
	unsigned len = 0;
	int ok = EVP_Digest(n > 0 ? p : "", n, out, &len, EVP_sha256(), NULL) == 1 && len == HOOKD_SHA256_LEN;
	return ok ? HOOKD_OK : HOOKD_ERR_CRYPTO;
}

/* Ed25519 signs the whole message in one call (PureEdDSA hashes it twice), so the pieces are joined. */
uint8_t *hookd__msg_join(const struct msg *m, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->part[i].n > SIZE_MAX - 1 - n)
			return NULL;
		n += m->part[i].n;
	}
	uint8_t *p = malloc(n + 1), *o = p;
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		if (m->part[i].n > 0)
			memcpy(o, m->part[i].p, m->part[i].n);
		o += m->part[i].n;
	}
	*len = n;
	return p;
}

static EVP_PKEY *ed25519_private(const uint8_t seed[HOOKD_ED25519_KEY])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, HOOKD_ED25519_KEY);
}

int hookd__ed25519_public(const uint8_t seed[HOOKD_ED25519_KEY], uint8_t pub[HOOKD_ED25519_KEY])
{
	EVP_PKEY *pk = ed25519_private(seed);
	size_t n = HOOKD_ED25519_KEY;
	int ok = pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 && n == HOOKD_ED25519_KEY;
	EVP_PKEY_free(pk);
	return ok ? HOOKD_OK : HOOKD_ERR_CRYPTO;
}

int hookd__ed25519_sign(const uint8_t seed[HOOKD_ED25519_KEY], const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_PKEY *pk = ed25519_private(seed);
	EVP_MD_CTX *md = pk != NULL ? EVP_MD_CTX_new() : NULL;
	size_t n = 64;
	int ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
		 EVP_DigestSign(md, sig, &n, msg, len) == 1 && n == 64;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return ok ? HOOKD_OK : HOOKD_ERR_CRYPTO;
}

bool hookd__ed25519_verify(const uint8_t pub[HOOKD_ED25519_KEY], const uint8_t *msg, size_t len,
			   const uint8_t sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, HOOKD_ED25519_KEY);
	EVP_MD_CTX *md = pk != NULL ? EVP_MD_CTX_new() : NULL;
	bool ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	/* A forged signature is an expected outcome here: leave no error behind in the caller's queue. */
	if (!ok)
		ERR_clear_error();
	return ok;
}

/* Unix seconds: digits only (no sign, no spaces), so "12abc" cannot pass as 12. */
int hookd__parse_ts(const char *s, size_t n, int64_t *ts)
{
	int64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ts = v;
	return 0;
}

/* past and future are limits in seconds, or HOOKD_WINDOW_NONE (negative) for none. */
int hookd__window(int64_t ts, int64_t now, int64_t past, int64_t future)
{
	int64_t age;
	if (__builtin_sub_overflow(now, ts, &age)) {
		if (now > ts)
			return past < 0 ? HOOKD_OK : HOOKD_ERR_STALE;
		return future < 0 ? HOOKD_OK : HOOKD_ERR_FUTURE;
	}
	if (past >= 0 && age > past)
		return HOOKD_ERR_STALE;
	if (future >= 0 && age < -future)
		return HOOKD_ERR_FUTURE;
	return HOOKD_OK;
}
