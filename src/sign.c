/* sign.c: Standard Webhooks v1 (HMAC-SHA256 over "id.timestamp.body") for libhookd.
 * Stands alone on OpenSSL libcrypto: no daemon allocation or logging helpers. The body is fed to the MAC in
 * place, never copied, and digests are compared in constant time. */
#include "hookd.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN 6
#define SIG_V1_PREFIX "v1,"
#define SIG_V1_PREFIX_LEN 3
#define MAC_LEN 32     /* SHA-256 */
#define MAC_B64_LEN 44 /* base64 of 32 bytes */

const char *hookd_strerror(int err)
{
	switch (err) {
	case HOOKD_OK:
		return "success";
	case HOOKD_ERR_INVALID:
		return "invalid argument";
	case HOOKD_ERR_NOSPACE:
		return "output buffer too small";
	case HOOKD_ERR_MISSING:
		return "missing header";
	case HOOKD_ERR_MALFORMED:
		return "malformed header";
	case HOOKD_ERR_STALE:
		return "timestamp too old";
	case HOOKD_ERR_FUTURE:
		return "timestamp too far in the future";
	case HOOKD_ERR_MISMATCH:
		return "signature mismatch";
	case HOOKD_ERR_CRYPTO:
		return "crypto library failure";
	default:
		return "unknown error";
	}
}

int hookd_secret_decode(const char *secret, uint8_t *key, size_t *keylen)
{
	if (secret == NULL || key == NULL || keylen == NULL)
		return HOOKD_ERR_INVALID;
	if (strncmp(secret, SECRET_PREFIX, SECRET_PREFIX_LEN) == 0)
		secret += SECRET_PREFIX_LEN;
	/* Decoding into HOOKD_KEY_MAX bytes already rejects anything longer than 64 bytes. */
	long n = hookd_base64_decode(secret, strlen(secret), key, HOOKD_KEY_MAX);
	if (n < HOOKD_KEY_MIN) {
		OPENSSL_cleanse(key, HOOKD_KEY_MAX);
		return HOOKD_ERR_INVALID;
	}
	*keylen = (size_t)n;
	return HOOKD_OK;
}

int hookd_secret_new(size_t nbytes, char *out, size_t outlen)
{
	uint8_t raw[HOOKD_KEY_MAX];
	if (nbytes < HOOKD_KEY_MIN || nbytes > HOOKD_KEY_MAX || out == NULL)
		return HOOKD_ERR_INVALID;
	if (outlen < SECRET_PREFIX_LEN + (nbytes + 2) / 3 * 4 + 1)
		return HOOKD_ERR_NOSPACE;
	if (RAND_bytes(raw, (int)nbytes) != 1)
		return HOOKD_ERR_CRYPTO;
	memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
	hookd_base64_encode(raw, nbytes, out + SECRET_PREFIX_LEN, outlen - SECRET_PREFIX_LEN);
	OPENSSL_cleanse(raw, sizeof raw);
	return HOOKD_OK;
}

static int mac_feed(EVP_MAC_CTX *ctx, const void *p, size_t n)
{
	/* An empty body may come as NULL; skip it rather than hand OpenSSL a NULL pointer. */
	return n == 0 || EVP_MAC_update(ctx, p, n);
}

/* HMAC-SHA256(key, msg_id "." ts "." body), fed piece by piece so the body is never copied. */
static int mac_v1(const uint8_t *key, size_t keylen, const char *msg_id, int64_t ts, const void *body,
		  size_t bodylen, uint8_t mac[MAC_LEN])
{
	char tsbuf[24], digest[] = "SHA256";
	int tslen = snprintf(tsbuf, sizeof tsbuf, "%" PRId64, ts);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	size_t outl = 0;
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) &&
		 mac_feed(ctx, msg_id, strlen(msg_id)) && mac_feed(ctx, ".", 1) &&
		 mac_feed(ctx, tsbuf, (size_t)tslen) && mac_feed(ctx, ".", 1) && mac_feed(ctx, body, bodylen) &&
		 EVP_MAC_final(ctx, mac, &outl, MAC_LEN) && outl == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return ok ? HOOKD_OK : HOOKD_ERR_CRYPTO;
}

int hookd_sign_v1(const uint8_t *key, size_t keylen, const char *msg_id, int64_t timestamp, const void *body,
		  size_t bodylen, char *out, size_t outlen)
{
	uint8_t mac[MAC_LEN];
	if (key == NULL || keylen == 0 || msg_id == NULL || (body == NULL && bodylen > 0) || out == NULL)
		return HOOKD_ERR_INVALID;
	if (outlen < HOOKD_SIG_V1_LEN)
		return HOOKD_ERR_NOSPACE;
	int rc = mac_v1(key, keylen, msg_id, timestamp, body, bodylen, mac);
	if (rc != HOOKD_OK)
		return rc;
	memcpy(out, SIG_V1_PREFIX, SIG_V1_PREFIX_LEN);
	hookd_base64_encode(mac, MAC_LEN, out + SIG_V1_PREFIX_LEN, outlen - SIG_V1_PREFIX_LEN);
	OPENSSL_cleanse(mac, sizeof mac);
	return HOOKD_OK;
}

/* Unix seconds: digits only (no sign, no spaces), so "12abc" cannot pass as 12. */
static int parse_timestamp(const char *s, int64_t *ts)
{
	int64_t v = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*ts = v;
	return 0;
}

static int check_window(int64_t ts, int64_t now, int64_t tolerance_s)
{
	int64_t age;
	if (__builtin_sub_overflow(now, ts, &age))
		return now > ts ? HOOKD_ERR_STALE : HOOKD_ERR_FUTURE;
	if (age > tolerance_s)
		return HOOKD_ERR_STALE;
	if (age < -tolerance_s)
		return HOOKD_ERR_FUTURE;
	return HOOKD_OK;
}

/* True if one list entry is "v1," + base64 of exactly the expected digest. A candidate of any other length is
 * a mismatch; it is decoded into a fixed buffer, so a long or short one cannot overrun anything. */
static bool entry_matches(const char *e, size_t len, const uint8_t mac[MAC_LEN])
{
	uint8_t got[MAC_LEN + 2]; /* 44 characters without padding decode to 33 bytes */
	if (len < SIG_V1_PREFIX_LEN || memcmp(e, SIG_V1_PREFIX, SIG_V1_PREFIX_LEN) != 0 ||
	    len - SIG_V1_PREFIX_LEN != MAC_B64_LEN)
		return false;
	long n = hookd_base64_decode(e + SIG_V1_PREFIX_LEN, MAC_B64_LEN, got, sizeof got);
	return n == MAC_LEN && CRYPTO_memcmp(got, mac, MAC_LEN) == 0;
}

static bool list_matches(const char *list, const uint8_t mac[MAC_LEN])
{
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, " ");
		if (entry_matches(p, len, mac))
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

int hookd_verify_v1(const uint8_t *key, size_t keylen, const char *msg_id, const char *timestamp_header,
		    const char *signature_header, const void *body, size_t bodylen, int64_t now, int64_t tolerance_s)
{
	int64_t ts;
	uint8_t mac[MAC_LEN];
	if (key == NULL || keylen == 0 || (body == NULL && bodylen > 0) || tolerance_s < 0)
		return HOOKD_ERR_INVALID;
	/* An empty header is as good as none (the reference libraries treat "" as missing too). */
	if (msg_id == NULL || *msg_id == '\0' || timestamp_header == NULL || *timestamp_header == '\0' ||
	    signature_header == NULL || *signature_header == '\0')
		return HOOKD_ERR_MISSING;
	if (parse_timestamp(timestamp_header, &ts) < 0)
		return HOOKD_ERR_MALFORMED;
	int rc = check_window(ts, now, tolerance_s);
	if (rc == HOOKD_OK)
		rc = mac_v1(key, keylen, msg_id, ts, body, bodylen, mac);
	if (rc == HOOKD_OK && !list_matches(signature_header, mac))
		rc = HOOKD_ERR_MISMATCH;
	OPENSSL_cleanse(mac, sizeof mac);
	return rc;
}
