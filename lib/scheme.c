/* scheme.c: the table of signature schemes and the life of a struct hookd_config: options, secrets (validated
 * when added, so a bad secret fails at configuration time and never at the first delivery) and the window.
 * OpenSSL libcrypto and libc only. */
#include "scheme.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define STD_WINDOW 300 /* Standard Webhooks: +-5 minutes */

static const struct scheme schemes[] = {
	{.name = "standard", .aliases = {"v1", "standardwebhooks"}, .key = KEY_STANDARD, .msg = MSG_ID_TS,
	 .layout = LAYOUT_LIST, .hash = "SHA256", .base64 = true, .header = "webhook-signature",
	 .ts_header = "webhook-timestamp", .id_header = "webhook-id", .prefix = "v1,", .seps = " ",
	 .past = STD_WINDOW, .future = STD_WINDOW, .options = OPT_HEADER | OPT_TS_HEADER | OPT_ID_HEADER},
	{.name = "svix", .key = KEY_STANDARD, .msg = MSG_ID_TS, .layout = LAYOUT_LIST, .hash = "SHA256",
	 .base64 = true, .header = "svix-signature", .ts_header = "svix-timestamp", .id_header = "svix-id",
	 .prefix = "v1,", .seps = " ", .past = STD_WINDOW, .future = STD_WINDOW,
	 .options = OPT_HEADER | OPT_TS_HEADER | OPT_ID_HEADER},
	{.name = "ed25519", .aliases = {"v1a"}, .key = KEY_ED25519, .msg = MSG_ID_TS, .layout = LAYOUT_LIST,
	 .base64 = true, .header = "webhook-signature", .ts_header = "webhook-timestamp", .id_header = "webhook-id",
	 .prefix = "v1a,", .seps = " ", .past = STD_WINDOW, .future = STD_WINDOW,
	 .options = OPT_HEADER | OPT_TS_HEADER | OPT_ID_HEADER},
	/* Stripe's libraries check only the age of t=, with a 300 s default. */
	{.name = "stripe", .key = KEY_STRING, .msg = MSG_TS, .layout = LAYOUT_STRIPE, .hash = "SHA256",
	 .header = "Stripe-Signature", .prefix = "v1=", .seps = ", ", .past = 300, .future = HOOKD_WINDOW_NONE,
	 .options = OPT_HEADER},
	{.name = "split", .key = KEY_STRING, .msg = MSG_TS, .layout = LAYOUT_SINGLE, .hash = "SHA256",
	 .header = "X-Webhook-Signature", .ts_header = "X-Webhook-Timestamp", .prefix = "v1=", .seps = ", ",
	 .past = 300, .future = 300, .options = OPT_HEADER | OPT_TS_HEADER | OPT_PREFIX},
	{.name = "github", .key = KEY_STRING, .msg = MSG_BODY, .layout = LAYOUT_SINGLE, .hash = "SHA256",
	 .header = "X-Hub-Signature-256", .prefix = "sha256=", .seps = ", ", .past = HOOKD_WINDOW_NONE,
	 .future = HOOKD_WINDOW_NONE, .options = OPT_HEADER, .legacy_header = "X-Hub-Signature",
	 .legacy_prefix = "sha1=", .legacy_hash = "SHA1"},
	{.name = "shopify", .key = KEY_STRING, .msg = MSG_BODY, .layout = LAYOUT_SINGLE, .hash = "SHA256",
	 .base64 = true, .header = "X-Shopify-Hmac-Sha256", .prefix = "", .seps = ", ", .past = HOOKD_WINDOW_NONE,
	 .future = HOOKD_WINDOW_NONE, .options = OPT_HEADER},
	/* Slack's SDKs reject requests older than 5 minutes and do not look at the future. */
	{.name = "slack", .key = KEY_STRING, .msg = MSG_SLACK, .layout = LAYOUT_SINGLE, .hash = "SHA256",
	 .header = "X-Slack-Signature", .ts_header = "X-Slack-Request-Timestamp", .prefix = "v0=", .seps = ", ",
	 .past = 300, .future = HOOKD_WINDOW_NONE, .options = OPT_HEADER | OPT_TS_HEADER},
	{.name = "hmac", .key = KEY_STRING, .msg = MSG_BODY, .layout = LAYOUT_SINGLE, .hash = "SHA256",
	 .header = "X-Signature", .prefix = "", .seps = ", ", .past = HOOKD_WINDOW_NONE,
	 .future = HOOKD_WINDOW_NONE, .options = OPT_HEADER | OPT_PREFIX | OPT_HASH | OPT_ENCODING},
	/* Twilio signs the URL it was configured with, not the raw body: hookd_sign_url, hookd_verify_url. */
	{.name = "twilio", .key = KEY_STRING, .msg = MSG_URL, .layout = LAYOUT_SINGLE, .hash = "SHA1", .base64 = true,
	 .header = "X-Twilio-Signature", .prefix = "", .seps = ", ", .past = HOOKD_WINDOW_NONE,
	 .future = HOOKD_WINDOW_NONE, .options = OPT_HEADER},
};

#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static int ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* ASCII only: header and scheme names are ASCII, and the C library's idea of case depends on the locale. */
bool hookd__strcaseeq(const char *a, const char *b)
{
	for (; *a != '\0' && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b); a++, b++)
		;
	return ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b);
}

/* The same over n bytes, for strings that are not NUL-terminated where they end (a media type). */
bool hookd__strncaseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

const char *hookd_scheme_name(size_t i) { return i < NSCHEMES ? schemes[i].name : NULL; }

static const struct scheme *scheme_find(const char *name)
{
	for (size_t i = 0; i < NSCHEMES; i++) {
		if (hookd__strcaseeq(name, schemes[i].name))
			return &schemes[i];
		for (size_t a = 0; a < 3 && schemes[i].aliases[a] != NULL; a++)
			if (hookd__strcaseeq(name, schemes[i].aliases[a]))
				return &schemes[i];
	}
	return NULL;
}

/* RFC 9110 token characters: what a header name may contain. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int set_header_name(char dst[HOOKD_HEADER_NAME_MAX + 1], const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > HOOKD_HEADER_NAME_MAX)
		return HOOKD_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)name[i]))
			return HOOKD_ERR_INVALID;
	memcpy(dst, name, n + 1);
	return HOOKD_OK;
}

/* Printable ASCII without the list separators, so a prefix can never split an entry. */
static int set_prefix(struct hookd_config *cfg, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n > HOOKD_PREFIX_MAX)
		return HOOKD_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (prefix[i] < 0x21 || prefix[i] > 0x7e || strchr(cfg->s->seps, prefix[i]) != NULL)
			return HOOKD_ERR_INVALID;
	memcpy(cfg->prefix, prefix, n + 1);
	return HOOKD_OK;
}

static int set_hash(struct hookd_config *cfg, const char *hash)
{
	static const char *names[][2] = {{"sha1", "SHA1"}, {"sha256", "SHA256"}, {"sha512", "SHA512"}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (hookd__strcaseeq(hash, names[i][0])) {
			cfg->hash = names[i][1];
			cfg->maclen = hookd__hash_len(cfg->hash);
			return HOOKD_OK;
		}
	return HOOKD_ERR_INVALID;
}

static int set_encoding(struct hookd_config *cfg, const char *enc)
{
	if (hookd__strcaseeq(enc, "hex"))
		cfg->base64 = false;
	else if (hookd__strcaseeq(enc, "base64"))
		cfg->base64 = true;
	else
		return HOOKD_ERR_INVALID;
	return HOOKD_OK;
}

static void config_defaults(struct hookd_config *cfg, const struct scheme *s)
{
	cfg->s = s;
	set_header_name(cfg->header, s->header);
	if (s->ts_header != NULL)
		set_header_name(cfg->ts_header, s->ts_header);
	if (s->id_header != NULL)
		set_header_name(cfg->id_header, s->id_header);
	memcpy(cfg->prefix, s->prefix, strlen(s->prefix) + 1);
	cfg->hash = s->hash;
	cfg->maclen = s->hash != NULL ? hookd__hash_len(s->hash) : 64;
	cfg->base64 = s->base64;
	cfg->past = s->past;
	cfg->future = s->future;
}

/* One option: absent (NULL), or allowed for this scheme and well-formed. */
static int apply(struct hookd_config *cfg, unsigned opt, const char *value,
		 int (*set)(struct hookd_config *, const char *))
{
	if (value == NULL)
		return HOOKD_OK;
	if ((cfg->s->options & opt) == 0)
		return HOOKD_ERR_INVALID;
	return set(cfg, value);
}

static int set_header(struct hookd_config *cfg, const char *v) { return set_header_name(cfg->header, v); }
static int set_ts_header(struct hookd_config *cfg, const char *v) { return set_header_name(cfg->ts_header, v); }
static int set_id_header(struct hookd_config *cfg, const char *v) { return set_header_name(cfg->id_header, v); }

/* One header cannot carry two things: with the timestamp and the signature under one name, the receiver would
 * read one of them in place of the other (found by fuzz_config). */
static int check_distinct(const struct hookd_config *cfg)
{
	if (hookd__strcaseeq(cfg->header, cfg->ts_header) || hookd__strcaseeq(cfg->header, cfg->id_header) ||
	    (cfg->ts_header[0] != '\0' && hookd__strcaseeq(cfg->ts_header, cfg->id_header)))
		return HOOKD_ERR_INVALID;
	return HOOKD_OK;
}

static int apply_options(struct hookd_config *cfg, const struct hookd_options *o)
{
	int rc = apply(cfg, OPT_HEADER, o->header, set_header);
	if (rc == HOOKD_OK)
		rc = apply(cfg, OPT_TS_HEADER, o->timestamp_header, set_ts_header);
	if (rc == HOOKD_OK)
		rc = apply(cfg, OPT_ID_HEADER, o->id_header, set_id_header);
	if (rc == HOOKD_OK)
		rc = apply(cfg, OPT_PREFIX, o->prefix, set_prefix);
	if (rc == HOOKD_OK)
		rc = apply(cfg, OPT_HASH, o->hash, set_hash);
	if (rc == HOOKD_OK)
		rc = apply(cfg, OPT_ENCODING, o->encoding, set_encoding);
	return rc == HOOKD_OK ? check_distinct(cfg) : rc;
}

/* A config with the scheme's defaults in caller memory (hookd_verify_v1 keeps one on its stack). */
int hookd__config_init(struct hookd_config *cfg, const char *scheme)
{
	const struct scheme *s = scheme != NULL ? scheme_find(scheme) : NULL;
	if (s == NULL)
		return HOOKD_ERR_INVALID;
	memset(cfg, 0, sizeof *cfg);
	config_defaults(cfg, s);
	return HOOKD_OK;
}

int hookd_config_new(const char *scheme, const struct hookd_options *opts, struct hookd_config **out)
{
	if (scheme == NULL || scheme_find(scheme) == NULL || out == NULL)
		return HOOKD_ERR_INVALID;
	struct hookd_config *cfg = malloc(sizeof *cfg);
	if (cfg == NULL)
		return HOOKD_ERR_NOMEM;
	hookd__config_init(cfg, scheme);
	int rc = opts != NULL ? apply_options(cfg, opts) : HOOKD_OK;
	if (rc != HOOKD_OK) {
		hookd_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return HOOKD_OK;
}

void hookd_config_free(struct hookd_config *cfg)
{
	if (cfg == NULL)
		return;
	OPENSSL_cleanse(cfg, sizeof *cfg);
	free(cfg);
}

const char *hookd_config_scheme(const struct hookd_config *cfg) { return cfg != NULL ? cfg->s->name : NULL; }

static int key_standard(const char *secret, struct key *k)
{
	if (hookd_secret_decode(secret, k->bytes, &k->len) != HOOKD_OK)
		return HOOKD_ERR_INVALID;
	k->can_sign = true;
	return HOOKD_OK;
}

static int key_string(const char *secret, struct key *k)
{
	size_t n = strlen(secret);
	if (n == 0 || n > HOOKD_SECRET_LEN_MAX)
		return HOOKD_ERR_INVALID;
	memcpy(k->bytes, secret, n);
	k->len = n;
	k->can_sign = true;
	return HOOKD_OK;
}

/* Decode "<prefix><base64 of exactly want bytes>" into out. */
static bool decode_prefixed(const char *s, const char *prefix, uint8_t *out, size_t want)
{
	size_t plen = strlen(prefix);
	if (strncmp(s, prefix, plen) != 0)
		return false;
	s += plen;
	return hookd_base64_decode(s, strlen(s), out, want) == (long)want;
}

/* "whsk_": seed + public key, and the public half must be the seed's (a pasted mix of two keys would sign
 * what nobody can verify); "whpk_": a public key, for verifying only. */
static int key_ed25519(const char *secret, struct key *k)
{
	uint8_t both[2 * HOOKD_ED25519_KEY];
	int rc = HOOKD_ERR_INVALID;
	if (decode_prefixed(secret, "whpk_", k->pub, HOOKD_ED25519_KEY)) {
		k->can_sign = false;
		rc = HOOKD_OK;
	} else if (decode_prefixed(secret, "whsk_", both, sizeof both)) {
		memcpy(k->bytes, both, HOOKD_ED25519_KEY);
		k->len = HOOKD_ED25519_KEY;
		k->can_sign = true;
		rc = hookd__ed25519_public(k->bytes, k->pub);
		if (rc == HOOKD_OK && CRYPTO_memcmp(k->pub, both + HOOKD_ED25519_KEY, HOOKD_ED25519_KEY) != 0)
			rc = HOOKD_ERR_INVALID;
	}
	OPENSSL_cleanse(both, sizeof both);
	return rc;
}

int hookd_config_add_secret(struct hookd_config *cfg, const char *secret)
{
	if (cfg == NULL || secret == NULL)
		return HOOKD_ERR_INVALID;
	if (cfg->nkeys == HOOKD_SECRETS_MAX)
		return HOOKD_ERR_NOSPACE;
	struct key *k = &cfg->keys[cfg->nkeys];
	int rc;
	switch (cfg->s->key) {
	case KEY_STANDARD:
		rc = key_standard(secret, k);
		break;
	case KEY_ED25519:
		rc = key_ed25519(secret, k);
		break;
	default:
		rc = key_string(secret, k);
		break;
	}
	if (rc != HOOKD_OK) {
		OPENSSL_cleanse(k, sizeof *k);
		return rc;
	}
	cfg->nkeys++;
	return HOOKD_OK;
}

bool hookd__has_timestamp(const struct hookd_config *cfg)
{
	return cfg->s->msg != MSG_BODY && cfg->s->msg != MSG_URL;
}

int hookd_config_set_window(struct hookd_config *cfg, int64_t past_s, int64_t future_s)
{
	if (cfg == NULL || !hookd__has_timestamp(cfg) || past_s < HOOKD_WINDOW_NONE || future_s < HOOKD_WINDOW_NONE)
		return HOOKD_ERR_INVALID;
	cfg->past = past_s;
	cfg->future = future_s;
	return HOOKD_OK;
}

int hookd_config_window(const struct hookd_config *cfg, int64_t *past_s, int64_t *future_s)
{
	if (cfg == NULL || !hookd__has_timestamp(cfg) || past_s == NULL || future_s == NULL)
		return HOOKD_ERR_INVALID;
	*past_s = cfg->past;
	*future_s = cfg->future;
	return HOOKD_OK;
}

size_t hookd__encoded_len(const struct hookd_config *cfg, size_t maclen)
{
	return cfg->base64 ? (maclen + 2) / 3 * 4 : maclen * 2;
}

static void msg_add(struct msg *m, const void *p, size_t n)
{
	m->part[m->n].p = p;
	m->part[m->n].n = n;
	m->n++;
}

void hookd__msg_build(enum msg_kind kind, const char *id, int64_t ts, const void *body, size_t bodylen,
		      struct msg *m)
{
	int tslen = snprintf(m->ts, sizeof m->ts, "%" PRId64, ts);
	m->n = 0;
	switch (kind) {
	case MSG_ID_TS:
		msg_add(m, id, strlen(id));
		msg_add(m, ".", 1);
		/* fall through */
	case MSG_TS:
		msg_add(m, m->ts, (size_t)tslen);
		msg_add(m, ".", 1);
		break;
	case MSG_SLACK:
		msg_add(m, "v0:", 3);
		msg_add(m, m->ts, (size_t)tslen);
		msg_add(m, ":", 1);
		break;
	case MSG_BODY:
	case MSG_URL: /* never built here: see hookd__url_msg_build */
		break;
	}
	msg_add(m, body, bodylen);
}

static int ed25519_generate(char *secret, size_t secretlen, char *pub, size_t publen)
{
	uint8_t both[2 * HOOKD_ED25519_KEY];
	int rc = RAND_bytes(both, HOOKD_ED25519_KEY) == 1 ? HOOKD_OK : HOOKD_ERR_CRYPTO;
	if (rc == HOOKD_OK)
		rc = hookd__ed25519_public(both, both + HOOKD_ED25519_KEY);
	if (rc == HOOKD_OK && (secretlen < 6 || hookd_base64_encode(both, sizeof both, secret + 5, secretlen - 5) < 0))
		rc = HOOKD_ERR_NOSPACE;
	if (rc == HOOKD_OK && pub != NULL &&
	    (publen < 6 || hookd_base64_encode(both + HOOKD_ED25519_KEY, HOOKD_ED25519_KEY, pub + 5, publen - 5) < 0))
		rc = HOOKD_ERR_NOSPACE;
	if (rc == HOOKD_OK) {
		memcpy(secret, "whsk_", 5);
		if (pub != NULL)
			memcpy(pub, "whpk_", 5);
	}
	OPENSSL_cleanse(both, sizeof both);
	return rc;
}

/* 32 random bytes as hex: a string secret that survives any config file, shell or environment. */
static int string_generate(char *secret, size_t secretlen)
{
	uint8_t raw[32];
	if (secretlen < 2 * sizeof raw + 1)
		return HOOKD_ERR_NOSPACE;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return HOOKD_ERR_CRYPTO;
	hookd_hex_encode(raw, sizeof raw, secret, secretlen);
	OPENSSL_cleanse(raw, sizeof raw);
	return HOOKD_OK;
}

int hookd_secret_generate(const char *scheme, char *secret, size_t secretlen, char *pub, size_t publen)
{
	const struct scheme *s = scheme != NULL ? scheme_find(scheme) : NULL;
	if (s == NULL || secret == NULL)
		return HOOKD_ERR_INVALID;
	switch (s->key) {
	case KEY_STANDARD:
		return hookd_secret_new(HOOKD_KEY_MIN, secret, secretlen);
	case KEY_ED25519:
		return ed25519_generate(secret, secretlen, pub, publen);
	default:
		return string_generate(secret, secretlen);
	}
}
