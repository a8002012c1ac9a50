/* fuzz_verify.c: libFuzzer harness for the header parsers of one scheme, built once per scheme with
 * -DFUZZ_SCHEME="stripe" (build/fuzz/fuzz_verify_stripe, ...).
 *
 * Input: byte 0 moves the clock (now = T0 + (int8_t)byte * 8), then the values of the scheme's headers in the
 * order hookd_sign emits them (for GitHub one more: the legacy X-Hub-Signature), each ended by '\n'; the rest
 * is the body. A value not ended by '\n' is the last one given; the headers after it are absent.
 *
 * Checks, besides the sanitizers: hookd_verify returns one of its documented codes; and for the input's body,
 * what hookd_sign makes verifies, and no longer verifies once a byte is appended.
 *
 * Schemes that sign the URL (twilio, -DFUZZ_SCHEME="twilio"): the headers are the signature and Content-Type,
 * then one more line is the URL (an empty one stands for https://example.com/hook). The round trip signs the
 * body as a form to that URL (it verifies; one more byte may or may not change what a form signs, since
 * Twilio counts a repeated value once), then as JSON to the URL with the body's bodySHA256 appended (it
 * verifies, and one more byte is a mismatch). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hookd.h"

#ifndef FUZZ_SCHEME
#define FUZZ_SCHEME "standard"
#endif

#define T0 1700000000
#define MAX_HEADERS (HOOKD_SIGN_HEADERS_MAX + 1)
#define DEFAULT_URL "https://example.com/hook"
#define FORM "application/x-www-form-urlencoded"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hookd_config *cfg;
static const char *names[MAX_HEADERS];
static size_t nnames;
static char namebuf[HOOKD_SIGN_BUF_MAX];
static bool signs_url; /* hookd_sign refuses the scheme: it signs the URL */

/* Secrets fixed for the seed corpus: fuzz/corpus/verify_<scheme>/ was signed with them. */
static const char *secret_for(const char *scheme)
{
	if (strcmp(scheme, "standard") == 0 || strcmp(scheme, "svix") == 0)
		return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	if (strcmp(scheme, "ed25519") == 0)
		return "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
	return "fuzz-secret";
}

/* The config and the header names, learned from one signature. */
static void setup(void)
{
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	if (hookd_config_new(FUZZ_SCHEME, NULL, &cfg) != HOOKD_OK ||
	    hookd_config_add_secret(cfg, secret_for(FUZZ_SCHEME)) != HOOKD_OK)
		abort();
	int n = hookd_sign(cfg, "msg_fuzz", T0, "", 0, h, HOOKD_SIGN_HEADERS_MAX, namebuf, sizeof namebuf);
	if (n == HOOKD_ERR_INVALID) {
		signs_url = true;
		n = hookd_sign_url(cfg, DEFAULT_URL, NULL, "msg_fuzz", T0, "", 0, h, HOOKD_SIGN_HEADERS_MAX, namebuf,
				   sizeof namebuf);
	}
	if (n <= 0)
		abort();
	for (int i = 0; i < n; i++)
		names[nnames++] = h[i].name;
	if (strcmp(FUZZ_SCHEME, "github") == 0)
		names[nnames++] = "X-Hub-Signature";
	if (signs_url)
		names[nnames++] = "Content-Type";
}

static void check_code(int rc)
{
	if (rc != HOOKD_OK && rc != HOOKD_ERR_MISSING && rc != HOOKD_ERR_MALFORMED && rc != HOOKD_ERR_STALE &&
	    rc != HOOKD_ERR_FUTURE && rc != HOOKD_ERR_MISMATCH)
		abort();
}

/* body with one more byte, or NULL. */
static uint8_t *longer_body(const uint8_t *body, size_t len)
{
	uint8_t *longer = malloc(len + 1);
	if (longer == NULL)
		return NULL;
	if (len > 0)
		memcpy(longer, body, len);
	longer[len] = '\n';
	return longer;
}

/* Sign to url with a content type; the result verifies. Returns hookd_verify_url's code for one more byte, or 1
 * when the URL or body cannot be signed (a bad escape, too many parameters, a URL too long). */
static int round_trip_url(const char *url, const char *type, const uint8_t *body, size_t len)
{
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX + 1];
	char buf[HOOKD_SIGN_BUF_MAX];
	int n = hookd_sign_url(cfg, url, type, "msg_fuzz", T0, body, len, h, HOOKD_SIGN_HEADERS_MAX, buf, sizeof buf);
	if (n == HOOKD_ERR_INVALID)
		return 1;
	if (n <= 0)
		abort();
	h[n] = (struct hookd_header){"Content-Type", type};
	if (hookd_verify_url(cfg, url, h, (size_t)n + 1, body, len, T0) != HOOKD_OK)
		abort();
	uint8_t *longer = longer_body(body, len);
	if (longer == NULL)
		return 1;
	int rc = hookd_verify_url(cfg, url, h, (size_t)n + 1, longer, len + 1, T0);
	free(longer);
	return rc;
}

/* The URL with the body's bodySHA256 appended to its query, as Twilio sends JSON; NULL for a URL with a fragment,
 * where it would not be in the query. */
static char *url_with_hash(const char *url, const uint8_t *body, size_t len)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n = strlen(url);
	char *out = strchr(url, '#') == NULL ? malloc(n + 80) : NULL;
	if (out == NULL || EVP_Digest(len > 0 ? body : (const uint8_t *)"", len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		free(out);
		return NULL;
	}
	int k = snprintf(out, n + 80, "%s%cbodySHA256=", url, strchr(url, '?') != NULL ? '&' : '?');
	for (unsigned i = 0; i < mdlen; i++)
		k += snprintf(out + k, n + 80 - (size_t)k, "%02x", md[i]);
	return out;
}

static void round_trip_twilio(const char *url, const uint8_t *body, size_t len)
{
	int rc = round_trip_url(url, FORM, body, len);
	if (rc != 1)
		check_code(rc);
	char *json_url = url_with_hash(url, body, len);
	if (json_url == NULL)
		return;
	rc = round_trip_url(json_url, "application/json", body, len);
	if (rc != 1 && rc != HOOKD_ERR_MISMATCH)
		abort();
	free(json_url);
}

/* Sign the body; the result verifies, and fails with one more byte. */
static void round_trip(const uint8_t *body, size_t len)
{
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	char buf[HOOKD_SIGN_BUF_MAX];
	int n = hookd_sign(cfg, "msg_fuzz", T0, body, len, h, HOOKD_SIGN_HEADERS_MAX, buf, sizeof buf);
	if (n <= 0 || hookd_verify(cfg, h, (size_t)n, body, len, T0) != HOOKD_OK)
		abort();
	uint8_t *longer = longer_body(body, len);
	if (longer == NULL)
		return;
	if (hookd_verify(cfg, h, (size_t)n, longer, len + 1, T0) != HOOKD_ERR_MISMATCH)
		abort();
	free(longer);
}

/* The line at off (to '\n' or the end) in a heap block of its exact size, so ASan sees any read past its NUL.
 * Returns the offset after it. */
static size_t take_line(const uint8_t *data, size_t size, size_t off, char **out)
{
	const uint8_t *nl = memchr(data + off, '\n', size - off);
	size_t len = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
	*out = malloc(len + 1);
	if (*out == NULL)
		abort();
	memcpy(*out, data + off, len);
	(*out)[len] = '\0';
	return off + len + (nl != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hookd_header h[MAX_HEADERS];
	char *values[MAX_HEADERS] = {0};
	size_t n = 0, off = 1;
	if (cfg == NULL)
		setup();
	if (size == 0)
		return 0;
	int64_t now = T0 + (int8_t)data[0] * 8;
	bool more = true;
	while (n < nnames && off < size && more) {
		more = memchr(data + off, '\n', size - off) != NULL;
		off = take_line(data, size, off, &values[n]);
		h[n].name = names[n];
		h[n].value = values[n];
		n++;
	}
	char *url = NULL;
	if (signs_url && n == nnames && off < size)
		off = take_line(data, size, off, &url);
	const char *u = url != NULL && url[0] != '\0' ? url : DEFAULT_URL;
	const uint8_t *body = data + off;
	size_t bodylen = size - off;
	if (signs_url) {
		check_code(hookd_verify_url(cfg, u, h, n, body, bodylen, now));
		round_trip_twilio(u, body, bodylen);
	} else {
		check_code(hookd_verify(cfg, h, n, body, bodylen, now));
		round_trip(body, bodylen);
	}
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	free(url);
	return 0;
}
