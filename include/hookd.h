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
	HOOKD_ERR_NOMEM = -9,         /* out of memory */
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
 * HOOKD_ERR_INVALID (no key, a key over HOOKD_SECRET_LEN_MAX bytes, negative tolerance), HOOKD_ERR_MISSING
 * (a header NULL or empty), HOOKD_ERR_MALFORMED (timestamp not all digits, more than HOOKD_CANDIDATES_MAX
 * entries), HOOKD_ERR_STALE / HOOKD_ERR_FUTURE, HOOKD_ERR_MISMATCH. Only candidates that decode to exactly 32
 * bytes are compared, in constant time. It is hookd_verify with a "standard" config holding this one key. */
int hookd_verify_v1(const uint8_t *key, size_t keylen, const char *msg_id, const char *timestamp_header,
		    const char *signature_header, const void *body, size_t bodylen, int64_t now, int64_t tolerance_s);

/* ---- Schemes, configurations, signing and verifying ------------------------------------------------------
 *
 * A struct hookd_config holds one scheme (how the signature is computed and carried), its header names, the
 * timestamp window and up to HOOKD_SECRETS_MAX secrets. Make it with hookd_config_new, add secrets (each one is
 * validated then, never later), optionally set the window, then sign and verify with it. A configured config is
 * only read by hookd_sign and hookd_verify, so threads may share it.
 *
 * Schemes by name (case-insensitive), with their default headers:
 *   "standard"  Standard Webhooks v1, HMAC-SHA256 base64. webhook-id, webhook-timestamp,
 *               webhook-signature: v1,<b64> [v1,<b64>...]. Secret "whsec_" + base64 of 24..64 bytes (prefix
 *               optional). Window +-300 s. Aliases "v1", "standardwebhooks".
 *   "svix"      the same with svix-id, svix-timestamp, svix-signature.
 *   "ed25519"   Standard Webhooks v1a: webhook-signature: v1a,<b64 of 64 bytes>. Secret "whsk_" + base64 of
 *               64 bytes (seed + public key: signs and verifies) or "whpk_" + base64 of the 32-byte public key
 *               (verifies only). Window +-300 s. Alias "v1a".
 *   "stripe"    Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...] over "t.body". Window: 300 s in the past, the
 *               future unchecked. With .header set, any Stripe-like provider (X-FC-Signature, ...).
 *   "split"     X-Webhook-Timestamp: <unix> and X-Webhook-Signature: v1=<hex> over "t.body". Window +-300 s.
 *   "github"    X-Hub-Signature-256: sha256=<hex> over the body. When that header is absent, the legacy
 *               X-Hub-Signature: sha1=<hex> is verified instead. No timestamp.
 *   "shopify"   X-Shopify-Hmac-Sha256: <base64> over the body. No timestamp.
 *   "slack"     X-Slack-Request-Timestamp and X-Slack-Signature: v0=<hex> over "v0:t:body". Window: 300 s in
 *               the past, the future unchecked.
 *   "hmac"      generic: X-Signature: <prefix><digest> over the body; hash sha256 (or sha512, sha1), hex (or
 *               base64), prefix empty. No timestamp.
 *   "twilio"    X-Twilio-Signature: base64(HMAC-SHA1(auth token, data)), where data is the full URL Twilio was
 *               configured with, then for a form body (Content-Type application/x-www-form-urlencoded) every
 *               parameter decoded, sorted by name then value (bytewise), as name + value with no delimiters (a
 *               repeated name contributes each distinct value once). A body of any other type is signed through
 *               the URL: Twilio adds bodySHA256=<hex SHA-256 of the body> to its query. The URL is signed, so
 *               this scheme needs hookd_sign_url and hookd_verify_url (hookd_sign, hookd_verify: INVALID). No
 *               timestamp.
 * The secrets of every scheme but standard, svix and ed25519 are strings whose bytes are the HMAC key as they are
 * (a Stripe "whsec_..." secret is NOT base64-decoded); they must be 1..HOOKD_SECRET_LEN_MAX bytes.
 *
 * Rotation: a config holds several secrets. hookd_verify accepts a delivery that any of them signed. hookd_sign
 * signs with every secret in the schemes whose header carries a list (standard, svix, ed25519, stripe), so that
 * receivers holding either the old or the new secret accept it, and with the first secret added elsewhere.
 *
 * Signature candidates are decoded into fixed-size buffers and compared in constant time (CRYPTO_memcmp); one
 * of the wrong length or encoding is a mismatch, never an error or a read out of bounds. */
struct hookd_config;

/* Options of hookd_config_new. A NULL field keeps the scheme's default; "" is an explicit empty value (only
 * meaningful for prefix). Strings are copied. An option that does not apply to the scheme is HOOKD_ERR_INVALID. */
struct hookd_options {
	const char *header;           /* the signature header (every scheme) */
	const char *timestamp_header; /* standard, svix, ed25519, split, slack */
	const char *id_header;        /* standard, svix, ed25519 */
	const char *prefix;           /* split, hmac: text before the digest ("v1=", "sha256="), printable ASCII */
	const char *hash;             /* hmac: "sha256", "sha512" or "sha1" */
	const char *encoding;         /* hmac: "hex" or "base64" */
};

#define HOOKD_SECRETS_MAX 8       /* secrets per config */
#define HOOKD_SECRET_LEN_MAX 512  /* bytes of a string secret */
#define HOOKD_HEADER_NAME_MAX 64  /* header names are 1..64 RFC 9110 token characters */
#define HOOKD_PREFIX_MAX 32       /* bytes of a signature prefix */
#define HOOKD_MSG_ID_MAX 256      /* bytes of a message id when signing */
#define HOOKD_CANDIDATES_MAX 32   /* signatures in one header; more is HOOKD_ERR_MALFORMED */
#define HOOKD_WINDOW_NONE (-1)    /* no limit in that direction of the timestamp window */
#define HOOKD_URL_MAX 8192        /* bytes of a signed URL (twilio); longer is HOOKD_ERR_MALFORMED */
#define HOOKD_FORM_PARAMS_MAX 1000 /* parameters of a signed form body (twilio); more is HOOKD_ERR_MALFORMED */

/* The canonical scheme names, for usage texts: the i-th one, or NULL past the last. */
const char *hookd_scheme_name(size_t i);

/* Make a config for a scheme (see above; opts may be NULL). *out is set on success only.
 * HOOKD_ERR_INVALID: unknown scheme, an option that is malformed or does not apply, or two of the scheme's
 * headers given one name. HOOKD_ERR_NOMEM. */
int hookd_config_new(const char *scheme, const struct hookd_options *opts, struct hookd_config **out);

/* Free a config and wipe its secrets. NULL is fine. */
void hookd_config_free(struct hookd_config *cfg);

/* The canonical name of the config's scheme ("standard", "stripe", ...). */
const char *hookd_config_scheme(const struct hookd_config *cfg);

/* Add a secret (rotation: add the new one first, so that it signs where only one does). It is validated now:
 * HOOKD_ERR_INVALID for bad base64, a key out of range, a whsk_ whose public half does not match its seed, an
 * empty or too long string secret; HOOKD_ERR_NOSPACE past HOOKD_SECRETS_MAX. */
int hookd_config_add_secret(struct hookd_config *cfg, const char *secret);

/* How far a timestamp may be in the past (past_s) and in the future (future_s), in seconds: >= 0, or
 * HOOKD_WINDOW_NONE for no limit. HOOKD_ERR_INVALID for other values or for a scheme without timestamps. */
int hookd_config_set_window(struct hookd_config *cfg, int64_t past_s, int64_t future_s);

/* The window in force (the scheme's default until set). HOOKD_ERR_INVALID for a scheme without timestamps. */
int hookd_config_window(const struct hookd_config *cfg, int64_t *past_s, int64_t *future_s);

/* One HTTP header. In hookd_sign's output both strings point into the caller's buffer. */
struct hookd_header {
	const char *name;
	const char *value;
};

#define HOOKD_SIGN_HEADERS_MAX 3 /* hookd_sign writes at most this many headers */
#define HOOKD_SIGN_BUF_MAX 4096  /* a buffer of this size always holds hookd_sign's strings */

/* Sign body for delivery: writes the headers to send into out[0..n) (names and values stored in buf) and
 * returns n (1..HOOKD_SIGN_HEADERS_MAX), or a negative hookd_err. msg_id is required by standard, svix and
 * ed25519 (1..HOOKD_MSG_ID_MAX printable ASCII characters, no spaces) and ignored by the others; timestamp is
 * unix seconds (>= 0), ignored by schemes without one. body may be NULL if bodylen is 0.
 * HOOKD_ERR_INVALID: bad arguments, no secret, or (ed25519) only public keys. HOOKD_ERR_NOSPACE: out or buf too
 * small. twilio: HOOKD_ERR_INVALID (it signs the URL: hookd_sign_url). */
int hookd_sign(const struct hookd_config *cfg, const char *msg_id, int64_t timestamp, const void *body,
	       size_t bodylen, struct hookd_header *out, size_t nout, char *buf, size_t buflen);

/* Verify a received delivery: headers[0..n) as received (names matched case-insensitively; the first match
 * wins), the exact body bytes, and now in unix seconds. Returns HOOKD_OK or, checked in this order:
 * HOOKD_ERR_INVALID (no config, no secret, NULL body with a length), HOOKD_ERR_MISSING (a required header is
 * absent or empty), HOOKD_ERR_MALFORMED (a timestamp that is not all digits, a Stripe header without exactly
 * one t=, a signature without the expected prefix where only one is sent, more than HOOKD_CANDIDATES_MAX
 * signatures), HOOKD_ERR_STALE / HOOKD_ERR_FUTURE (outside the window), HOOKD_ERR_MISMATCH (no signature matches
 * any secret), HOOKD_ERR_CRYPTO, HOOKD_ERR_NOMEM (ed25519 copies the signed bytes once). twilio:
 * HOOKD_ERR_INVALID (it signs the URL: hookd_verify_url). */
int hookd_verify(const struct hookd_config *cfg, const struct hookd_header *headers, size_t nheaders,
		 const void *body, size_t bodylen, int64_t now);

/* The same with a lookup function: lookup(ctx, name) returns the value of the header called name (matched
 * case-insensitively, as libmicrohttpd's MHD_lookup_connection_value does), or NULL. The string must stay valid
 * until hookd_verify_lookup returns. */
typedef const char *hookd_lookup_fn(void *ctx, const char *name);
int hookd_verify_lookup(const struct hookd_config *cfg, hookd_lookup_fn *lookup, void *ctx, const void *body,
			size_t bodylen, int64_t now);

/* ---- Schemes that sign the request URL (twilio) ------------------------------------------------------------
 *
 * hookd_verify and hookd_verify_lookup with the URL the request was sent to, exactly as the provider was
 * configured with it (scheme, host, port, path and query string as sent, NUL-terminated): use the configured
 * URL rather than one rebuilt from the request, which a proxy may have changed and a peer may choose. Schemes
 * that do not sign the URL ignore url (it may be NULL); twilio with url NULL or "" is HOOKD_ERR_INVALID.
 * Whether the body is a form is read from the Content-Type header (media type
 * application/x-www-form-urlencoded, its parameters and case ignored).
 *
 * twilio verifies, in this order: HOOKD_ERR_INVALID (as hookd_verify, or no url), HOOKD_ERR_MISSING (no
 * X-Twilio-Signature), HOOKD_ERR_MALFORMED (more than HOOKD_CANDIDATES_MAX signatures, a url over
 * HOOKD_URL_MAX bytes, a form body with a '%' not followed by two hex digits or more than
 * HOOKD_FORM_PARAMS_MAX parameters), HOOKD_ERR_MISSING (a non-empty body that is not a form while the url's
 * query has no bodySHA256: nothing would sign the body), HOOKD_ERR_MISMATCH (the body's SHA-256 is not the
 * url's bodySHA256, or no signature matches). A URL with a bodySHA256 parameter signs the URL alone, whatever
 * the Content-Type; an empty body that is not a form (a GET) signs the URL alone. For http and https URLs the
 * signature is also accepted over the URL with the default port (:443, :80) added when it has none, or
 * removed when it has it, as twilio-node and twilio-python do. A form body is decoded into memory the size
 * of twice the body plus HOOKD_FORM_PARAMS_MAX small entries at most (HOOKD_ERR_NOMEM). */
int hookd_verify_url(const struct hookd_config *cfg, const char *url, const struct hookd_header *headers,
		     size_t nheaders, const void *body, size_t bodylen, int64_t now);
int hookd_verify_lookup_url(const struct hookd_config *cfg, const char *url, hookd_lookup_fn *lookup, void *ctx,
			    const void *body, size_t bodylen, int64_t now);

/* hookd_sign with the request's URL and Content-Type (NULL: not a form), for the schemes that sign them; the
 * others ignore both (either may be NULL). twilio writes one header, X-Twilio-Signature, signed with the first
 * secret over the url as given. A body that is not a form must be empty or hashed in the url's query
 * (bodySHA256=<hex SHA-256 of the body>, which the caller adds, as Twilio does). HOOKD_ERR_INVALID: as
 * hookd_sign, or no url, or a url, body or Content-Type that hookd_verify_url would refuse. */
int hookd_sign_url(const struct hookd_config *cfg, const char *url, const char *content_type, const char *msg_id,
		   int64_t timestamp, const void *body, size_t bodylen, struct hookd_header *out, size_t nout, char *buf,
		   size_t buflen);

/* A fresh random secret for a scheme: standard and svix "whsec_" + base64 of 24 bytes; ed25519 a "whsk_" secret
 * key, and its "whpk_" public key in pub (pub may be NULL to skip it); the string schemes (twilio too) 64 hex
 * characters.
 * HOOKD_KEYTEXT_MAX bytes always suffice for either buffer. */
#define HOOKD_KEYTEXT_MAX 96
int hookd_secret_generate(const char *scheme, char *secret, size_t secretlen, char *pub, size_t publen);

/* base64 (standard alphabet, padded). encode: out needs 4*ceil(n/3)+1; returns length written or -1.
 * decode: rejects bad characters, whitespace, missing or misplaced padding, and non-canonical text whose padding
 * drops non-zero bits ("Zh=="); returns decoded length or -1 (also if it does not fit in outlen). */
long hookd_base64_encode(const void *in, size_t n, char *out, size_t outlen);
long hookd_base64_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

/* hex. encode: lowercase, out needs 2n+1; returns length written or -1. decode: n even, digits of either case,
 * nothing else; returns decoded length or -1 (also if it does not fit in outlen). */
long hookd_hex_encode(const void *in, size_t n, char *out, size_t outlen);
long hookd_hex_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
