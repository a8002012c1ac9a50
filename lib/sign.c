/* sign.c: signing for libhookd: hookd_sign for every scheme of a struct hookd_config (hookd_sign_url for
 * Twilio, which signs the URL), and the original Standard Webhooks v1 functions (HMAC-SHA256 over
 * "id.timestamp.body") that the daemon calls, with the error texts and Standard Webhooks secrets. Stands alone
 * on OpenSSL libcrypto: no daemon allocation or logging helpers. The body is fed to the MAC in place, never
 * copied (Ed25519 aside, which needs it whole). */
#include "scheme.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN 6
#define SIG_V1_PREFIX "v1,"
#define SIG_V1_PREFIX_LEN 3
#define MAC_LEN 32 /* SHA-256 */

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
	case HOOKD_ERR_NOMEM:
		return "out of memory";
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

int hookd_sign_v1(const uint8_t *key, size_t keylen, const char *msg_id, int64_t timestamp, const void *body,
		  size_t bodylen, char *out, size_t outlen)
{
	uint8_t mac[MAC_LEN];
	struct msg m;
	if (key == NULL || keylen == 0 || msg_id == NULL || (body == NULL && bodylen > 0) || out == NULL)
		return HOOKD_ERR_INVALID;
	if (outlen < HOOKD_SIG_V1_LEN)
		return HOOKD_ERR_NOSPACE;
	hookd__msg_build(MSG_ID_TS, msg_id, timestamp, body, bodylen, &m);
	int rc = hookd__hmac("SHA256", key, keylen, &m, mac, sizeof mac);
	if (rc != HOOKD_OK)
		return rc;
	memcpy(out, SIG_V1_PREFIX, SIG_V1_PREFIX_LEN);
	hookd_base64_encode(mac, MAC_LEN, out + SIG_V1_PREFIX_LEN, outlen - SIG_V1_PREFIX_LEN);
	OPENSSL_cleanse(mac, sizeof mac);
	return HOOKD_OK;
}

struct v1_headers {
	const char *id, *ts, *sig;
};

static const char *v1_lookup(void *ctx, const char *name)
{
	const struct v1_headers *h = ctx;
	if (strcmp(name, "webhook-id") == 0)
		return h->id;
	if (strcmp(name, "webhook-timestamp") == 0)
		return h->ts;
	return strcmp(name, "webhook-signature") == 0 ? h->sig : NULL;
}

/* The general verifier with a "standard" config on the stack holding this one key. */
int hookd_verify_v1(const uint8_t *key, size_t keylen, const char *msg_id, const char *timestamp_header,
		    const char *signature_header, const void *body, size_t bodylen, int64_t now, int64_t tolerance_s)
{
	struct hookd_config cfg;
	struct v1_headers h = {msg_id, timestamp_header, signature_header};
	if (key == NULL || keylen == 0 || keylen > HOOKD_SECRET_LEN_MAX || tolerance_s < 0 ||
	    hookd__config_init(&cfg, "standard") != HOOKD_OK)
		return HOOKD_ERR_INVALID;
	memcpy(cfg.keys[0].bytes, key, keylen);
	cfg.keys[0].len = keylen;
	cfg.nkeys = 1;
	cfg.past = cfg.future = tolerance_s;
	int rc = hookd_verify_lookup(&cfg, v1_lookup, &h, body, bodylen, now);
	OPENSSL_cleanse(&cfg, sizeof cfg);
	return rc;
}

/* hookd_sign's output: strings appended to the caller's buffer; once one does not fit, all is lost. */
struct writer {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_str(struct writer *w, const char *s) { put(w, s, strlen(s)); }

/* Message ids go into a header and into the signed bytes: printable ASCII, no spaces, bounded. */
static bool msg_id_valid(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;
	if (n == 0 || n > HOOKD_MSG_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			return false;
	return true;
}

/* One signature (prefix + encoded digest) by one key. joined: the message in one piece, for Ed25519. */
static int put_signature(const struct hookd_config *cfg, const struct key *k, const struct msg *m,
			 const uint8_t *joined, size_t jlen, struct writer *w)
{
	uint8_t sig[HOOKD_DIGEST_MAX];
	char text[2 * HOOKD_DIGEST_MAX + 1];
	int rc = cfg->s->key == KEY_ED25519 ? hookd__ed25519_sign(k->bytes, joined, jlen, sig)
					    : hookd__hmac(cfg->hash, k->bytes, k->len, m, sig, sizeof sig);
	if (rc == HOOKD_OK) {
		if (cfg->base64)
			hookd_base64_encode(sig, cfg->maclen, text, sizeof text);
		else
			hookd_hex_encode(sig, cfg->maclen, text, sizeof text);
		put_str(w, cfg->prefix);
		put_str(w, text);
	}
	OPENSSL_cleanse(sig, sizeof sig);
	return rc;
}

/* The signature header's value: every key that can sign for list layouts, the first one otherwise. */
static int put_signatures(const struct hookd_config *cfg, const struct msg *m, const uint8_t *joined, size_t jlen,
			  struct writer *w)
{
	size_t done = 0;
	int rc = HOOKD_OK;
	if (cfg->s->layout == LAYOUT_STRIPE) {
		put_str(w, "t=");
		put_str(w, m->ts);
	}
	for (size_t k = 0; k < cfg->nkeys && rc == HOOKD_OK; k++) {
		if (!cfg->keys[k].can_sign)
			continue;
		if (cfg->s->layout == LAYOUT_STRIPE || done > 0)
			put(w, cfg->s->seps, 1);
		rc = put_signature(cfg, &cfg->keys[k], m, joined, jlen, w);
		if (++done == 1 && cfg->s->layout == LAYOUT_SINGLE)
			break;
	}
	if (rc == HOOKD_OK && done == 0)
		rc = HOOKD_ERR_INVALID; /* only Ed25519 public keys */
	return rc;
}

/* Append "name\0value\0" and remember where both start. */
static void put_header(struct writer *w, const char *name, const char *value, size_t offs[2])
{
	offs[0] = w->len;
	put(w, name, strlen(name) + 1);
	offs[1] = w->len;
	put(w, value, strlen(value) + 1);
}

static int sign_into(const struct hookd_config *cfg, const char *msg_id, const struct msg *m,
		     const uint8_t *joined, size_t jlen, struct writer *w, size_t offs[][2], size_t *n)
{
	if (cfg->id_header[0] != '\0')
		put_header(w, cfg->id_header, msg_id, offs[(*n)++]);
	if (cfg->ts_header[0] != '\0')
		put_header(w, cfg->ts_header, m->ts, offs[(*n)++]);
	offs[*n][0] = w->len;
	put(w, cfg->header, strlen(cfg->header) + 1);
	offs[*n][1] = w->len;
	int rc = put_signatures(cfg, m, joined, jlen, w);
	put(w, "", 1);
	(*n)++;
	return rc;
}

/* Sign one message m (its pieces already in place) into out and buf. */
static int sign_msg(const struct hookd_config *cfg, const char *msg_id, const struct msg *m, struct hookd_header *out,
		    char *buf, size_t buflen)
{
	size_t n = 0, offs[3][2], jlen = 0;
	struct writer w = {buf, buflen, 0, false};
	uint8_t *joined = NULL;
	if (cfg->s->key == KEY_ED25519 && (joined = hookd__msg_join(m, &jlen)) == NULL)
		return HOOKD_ERR_NOMEM;
	int rc = sign_into(cfg, msg_id, m, joined, jlen, &w, offs, &n);
	free(joined);
	if (rc == HOOKD_OK && w.full)
		rc = HOOKD_ERR_NOSPACE;
	for (size_t i = 0; rc == HOOKD_OK && i < n; i++) {
		out[i].name = buf + offs[i][0];
		out[i].value = buf + offs[i][1];
	}
	return rc == HOOKD_OK ? (int)n : rc;
}

/* Twilio: the URL and the form parameters, read as the verifier reads them, so that what is signed verifies.
 * What the verifier would refuse is the caller's mistake here. */
static int sign_url_msg(const struct hookd_config *cfg, const char *url, const char *content_type,
			const void *body, size_t bodylen, struct hookd_header *out, char *buf, size_t buflen)
{
	struct url_msg u;
	struct msg m;
	int rc = hookd__url_msg_init(&u, url, hookd__is_form(content_type), body, bodylen);
	if (rc != HOOKD_OK)
		return rc == HOOKD_ERR_NOMEM || rc == HOOKD_ERR_CRYPTO ? rc : HOOKD_ERR_INVALID;
	hookd__url_msg_build(&u, 0, &m);
	rc = sign_msg(cfg, NULL, &m, out, buf, buflen);
	hookd__url_msg_free(&u);
	return rc;
}

int hookd_sign_url(const struct hookd_config *cfg, const char *url, const char *content_type, const char *msg_id,
		   int64_t timestamp, const void *body, size_t bodylen, struct hookd_header *out, size_t nout, char *buf,
		   size_t buflen)
{
	if (cfg == NULL || out == NULL || buf == NULL || (body == NULL && bodylen > 0) || timestamp < 0 ||
	    cfg->nkeys == 0 || (cfg->id_header[0] != '\0' && !msg_id_valid(msg_id)) ||
	    (cfg->s->msg == MSG_URL && (url == NULL || *url == '\0')))
		return HOOKD_ERR_INVALID;
	size_t need = 1 + (cfg->id_header[0] != '\0') + (cfg->ts_header[0] != '\0');
	if (nout < need)
		return HOOKD_ERR_NOSPACE;
	if (cfg->s->msg == MSG_URL)
		return sign_url_msg(cfg, url, content_type, body, bodylen, out, buf, buflen);
	struct msg m;
	hookd__msg_build(cfg->s->msg, msg_id, timestamp, body, bodylen, &m);
	return sign_msg(cfg, msg_id, &m, out, buf, buflen);
}

int hookd_sign(const struct hookd_config *cfg, const char *msg_id, int64_t timestamp, const void *body,
	       size_t bodylen, struct hookd_header *out, size_t nout, char *buf, size_t buflen)
{
	if (cfg != NULL && cfg->s->msg == MSG_URL)
		return HOOKD_ERR_INVALID; /* the URL is signed: hookd_sign_url */
	return hookd_sign_url(cfg, NULL, NULL, msg_id, timestamp, body, bodylen, out, nout, buf, buflen);
}
