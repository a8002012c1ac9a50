/* hookd.h: libhookd, sign and verify webhooks. Depends on OpenSSL libcrypto only.
 *
 * Conventions: functions return 0 (HOOKD_OK) on success and a negative enum hookd_err on failure.
 * All inputs are raw bytes with explicit lengths; nothing assumes NUL-terminated or UTF-8 bodies.
 * Output strings are written into caller buffers and NUL-terminated.
 */
#ifndef HOOKD_H
#define HOOKD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOOKD_VERSION "0.1.0"

enum hookd_err {
	HOOKD_OK = 0,
	HOOKD_ERR_INVALID = -1,       /* bad argument: secret not valid base64, key too short or long */
	HOOKD_ERR_NOSPACE = -2,       /* the output buffer is too small */
	HOOKD_ERR_MISSING = -3,       /* a required header is absent */
	HOOKD_ERR_MALFORMED = -4,     /* a header could not be parsed */
	HOOKD_ERR_STALE = -5,         /* timestamp older than the tolerance */
	HOOKD_ERR_FUTURE = -6,        /* timestamp further ahead than the tolerance */
	HOOKD_ERR_MISMATCH = -7,      /* no signature matched */
	HOOKD_ERR_CRYPTO = -8,        /* OpenSSL failed */
};

/* A short English description of an error code ("signature mismatch", ...). */
const char *hookd_strerror(int err);

/* Standard Webhooks secrets: "whsec_" + base64 of 24..64 random bytes (the prefix is optional on input). */
#define HOOKD_KEY_MIN 24
#define HOOKD_KEY_MAX 64

/* Decode a Standard Webhooks secret into key bytes. key must hold HOOKD_KEY_MAX bytes.
 * Returns HOOKD_ERR_INVALID if the base64 is malformed or decodes to fewer than 24 or more than 64 bytes. */
int hookd_secret_decode(const char *secret, uint8_t *key, size_t *keylen);

/* Make a fresh secret "whsec_" + base64(nbytes random bytes), nbytes in 24..64. out needs 6 + 4*ceil(n/3) + 1
 * bytes (HOOKD_SECRET_MAX always suffices); HOOKD_ERR_NOSPACE if it is shorter. */
#define HOOKD_SECRET_MAX (6 + 88 + 1)
int hookd_secret_new(size_t nbytes, char *out, size_t outlen);

/* Standard Webhooks v1: "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)).
 * out needs at least HOOKD_SIG_V1_LEN bytes. key must be non-empty (keylen >= 1); body may be NULL if bodylen is 0. */
#define HOOKD_SIG_V1_LEN 48
int hookd_sign_v1(const uint8_t *key, size_t keylen, const char *msg_id, int64_t timestamp, const void *body,
		  size_t bodylen, char *out, size_t outlen);

/* Verify a Standard Webhooks v1 signature header (a space-separated list of "v1,<b64>" entries, others ignored)
 * against a key, checking |now - timestamp| <= tolerance_s (>= 0). Returns HOOKD_OK or, checked in this order:
 * HOOKD_ERR_INVALID (no key, negative tolerance), HOOKD_ERR_MISSING (a header NULL or empty),
 * HOOKD_ERR_MALFORMED (timestamp not all digits), HOOKD_ERR_STALE / HOOKD_ERR_FUTURE, HOOKD_ERR_MISMATCH.
 * Only candidates that decode to exactly 32 bytes are compared, in constant time. */
int hookd_verify_v1(const uint8_t *key, size_t keylen, const char *msg_id, const char *timestamp_header,
		    const char *signature_header, const void *body, size_t bodylen, int64_t now, int64_t tolerance_s);

/* base64 (standard alphabet, padded). encode: out needs 4*ceil(n/3)+1; returns length written or -1.
 * decode: rejects bad characters, whitespace, missing or misplaced padding, and non-canonical text whose padding
 * drops non-zero bits ("Zh=="); returns decoded length or -1 (also if it does not fit in outlen). */
long hookd_base64_encode(const void *in, size_t n, char *out, size_t outlen);
long hookd_base64_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
