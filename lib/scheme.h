/* scheme.h: libhookd's insides, shared by sign.c, verify.c, scheme.c and mac.c and hidden from the shared
 * library's exports. A scheme is data, not code: one row of a table says what is signed, how the digest is
 * encoded and where the headers carry it, so that sign.c and verify.c each run one path for every scheme. */
#ifndef HOOKD_SCHEME_H
#define HOOKD_SCHEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hookd.h"

#define HOOKD_HIDDEN __attribute__((visibility("hidden")))

#define HOOKD_DIGEST_MAX 64   /* SHA-512 and Ed25519 signatures */
#define HOOKD_ED25519_KEY 32  /* seed and public key */
#define HOOKD_TS_TEXT 24      /* an int64 in decimal, with its NUL */
#define HOOKD_SHA256_LEN 32   /* Twilio's bodySHA256 */

/* Where a secret's key bytes come from. */
enum key_kind {
	KEY_STANDARD, /* "whsec_" + base64, decoded (Standard Webhooks) */
	KEY_STRING,   /* the string's bytes as they are (Stripe, GitHub, Shopify, Slack, ...) */
	KEY_ED25519,  /* "whsk_" seed + public key, or "whpk_" public key */
};

/* What is signed, before the body. */
enum msg_kind {
	MSG_BODY,  /* body */
	MSG_TS,    /* ts "." body */
	MSG_ID_TS, /* id "." ts "." body */
	MSG_SLACK, /* "v0:" ts ":" body */
	MSG_URL,   /* Twilio: the URL, then the sorted form parameters (struct url_msg), never the raw body */
};

/* How the signature header carries the signatures. */
enum sig_layout {
	LAYOUT_LIST,   /* prefix+digest entries; others ignored; signed with every secret */
	LAYOUT_STRIPE, /* "t=<ts>" and "v1=<hex>" entries; signed with every secret */
	LAYOUT_SINGLE, /* one prefix+digest (a list is accepted); signed with the first secret */
};

enum scheme_option {
	OPT_HEADER = 1,
	OPT_TS_HEADER = 2,
	OPT_ID_HEADER = 4,
	OPT_PREFIX = 8,
	OPT_HASH = 16,
	OPT_ENCODING = 32,
};

struct scheme {
	const char *name;
	const char *aliases[3];
	enum key_kind key;
	enum msg_kind msg;
	enum sig_layout layout;
	const char *hash; /* OpenSSL digest name; NULL for Ed25519 */
	bool base64;      /* digest encoding: base64, else lowercase hex */
	const char *header, *ts_header, *id_header;
	const char *prefix; /* before each digest */
	const char *seps;   /* list separators in the signature header */
	int64_t past, future;
	unsigned options; /* enum scheme_option bits that hookd_options may set */
	/* GitHub: verified when header is absent. */
	const char *legacy_header, *legacy_prefix, *legacy_hash;
};

struct key {
	uint8_t bytes[HOOKD_SECRET_LEN_MAX]; /* HMAC key, or the Ed25519 seed */
	size_t len;
	uint8_t pub[HOOKD_ED25519_KEY]; /* Ed25519 */
	bool can_sign;
};

struct hookd_config {
	const struct scheme *s;
	char header[HOOKD_HEADER_NAME_MAX + 1];
	char ts_header[HOOKD_HEADER_NAME_MAX + 1]; /* "" if the timestamp has no header of its own */
	char id_header[HOOKD_HEADER_NAME_MAX + 1]; /* "" if there is no id */
	char prefix[HOOKD_PREFIX_MAX + 1];
	const char *hash;
	size_t maclen; /* decoded signature bytes */
	bool base64;
	int64_t past, future;
	size_t nkeys;
	struct key keys[HOOKD_SECRETS_MAX];
};

/* The signed bytes as pieces, fed to the MAC in place so the body is never copied. */
struct msg {
	struct {
		const void *p;
		size_t n;
	} part[5];
	size_t n;
	char ts[HOOKD_TS_TEXT];
};

/* Twilio: what one request signs, read from its URL and body. The URL as given is one variant; the same URL
 * with its default port added or dropped is the other, when there is one (url[0..cut_from) + insert +
 * url[cut_to..)). tail is the sorted, decoded "name value" pairs of a form body, in mem. */
struct url_msg {
	const char *url;
	size_t urllen;
	bool has_alt;
	size_t cut_from, cut_to;
	const char *insert;
	const uint8_t *tail;
	size_t taillen;
	void *mem;
};

/* scheme.c */
HOOKD_HIDDEN int hookd__config_init(struct hookd_config *cfg, const char *scheme);
HOOKD_HIDDEN void hookd__msg_build(enum msg_kind kind, const char *id, int64_t ts, const void *body,
				   size_t bodylen, struct msg *m);
HOOKD_HIDDEN bool hookd__has_timestamp(const struct hookd_config *cfg);
HOOKD_HIDDEN bool hookd__strcaseeq(const char *a, const char *b);
HOOKD_HIDDEN bool hookd__strncaseeq(const char *a, const char *b, size_t n);
HOOKD_HIDDEN size_t hookd__encoded_len(const struct hookd_config *cfg, size_t maclen);

/* verify.c: Twilio's URL and form body. init returns HOOKD_OK or HOOKD_ERR_MALFORMED, HOOKD_ERR_MISSING,
 * HOOKD_ERR_MISMATCH (the body's hash), HOOKD_ERR_NOMEM, HOOKD_ERR_CRYPTO; build gives variant 0 or 1 and
 * false when there is no such variant. */
HOOKD_HIDDEN bool hookd__is_form(const char *content_type);
HOOKD_HIDDEN int hookd__url_msg_init(struct url_msg *u, const char *url, bool form, const void *body,
				     size_t bodylen);
HOOKD_HIDDEN bool hookd__url_msg_build(const struct url_msg *u, int variant, struct msg *m);
HOOKD_HIDDEN void hookd__url_msg_free(struct url_msg *u);

/* mac.c */
HOOKD_HIDDEN size_t hookd__hash_len(const char *hash);
HOOKD_HIDDEN int hookd__hmac(const char *hash, const uint8_t *key, size_t keylen, const struct msg *m,
			     uint8_t *out, size_t outlen);
HOOKD_HIDDEN int hookd__sha256(const void *p, size_t n, uint8_t out[HOOKD_SHA256_LEN]);
HOOKD_HIDDEN uint8_t *hookd__msg_join(const struct msg *m, size_t *len);
HOOKD_HIDDEN int hookd__ed25519_public(const uint8_t seed[HOOKD_ED25519_KEY], uint8_t pub[HOOKD_ED25519_KEY]);
HOOKD_HIDDEN int hookd__ed25519_sign(const uint8_t seed[HOOKD_ED25519_KEY], const uint8_t *msg, size_t len,
				     uint8_t sig[64]);
HOOKD_HIDDEN bool hookd__ed25519_verify(const uint8_t pub[HOOKD_ED25519_KEY], const uint8_t *msg, size_t len,
					const uint8_t sig[64]);
HOOKD_HIDDEN int hookd__parse_ts(const char *s, size_t n, int64_t *ts);
HOOKD_HIDDEN int hookd__window(int64_t ts, int64_t now, int64_t past, int64_t future);

#endif
