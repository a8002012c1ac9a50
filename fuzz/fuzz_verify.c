/* fuzz_verify.c: libFuzzer harness for the header parsers of one scheme, built once per scheme with
 * -DFUZZ_SCHEME="stripe" (build/fuzz/fuzz_verify_stripe, ...).
 *
 * Input: byte 0 moves the clock (now = T0 + (int8_t)byte * 8), then the values of the scheme's headers in the
 * order hookd_sign emits them (for GitHub one more: the legacy X-Hub-Signature), each ended by '\n'; the rest
 * is the body. A value not ended by '\n' is the last one given; the headers after it are absent.
 *
 * Checks, besides the sanitizers: hookd_verify returns one of its documented codes; and for the input's body,
 * what hookd_sign makes verifies, and no longer verifies once a byte is appended. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookd.h"

#ifndef FUZZ_SCHEME
#define FUZZ_SCHEME "standard"
#endif

#define T0 1700000000
#define MAX_HEADERS (HOOKD_SIGN_HEADERS_MAX + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hookd_config *cfg;
static const char *names[MAX_HEADERS];
static size_t nnames;
static char namebuf[HOOKD_SIGN_BUF_MAX];

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
	if (n <= 0)
		abort();
	for (int i = 0; i < n; i++)
		names[nnames++] = h[i].name;
	if (strcmp(FUZZ_SCHEME, "github") == 0)
		names[nnames++] = "X-Hub-Signature";
}

static void check_code(int rc)
{
	if (rc != HOOKD_OK && rc != HOOKD_ERR_MISSING && rc != HOOKD_ERR_MALFORMED && rc != HOOKD_ERR_STALE &&
	    rc != HOOKD_ERR_FUTURE && rc != HOOKD_ERR_MISMATCH)
		abort();
}

/* Sign the body; the result verifies, and fails with one more byte. */
static void round_trip(const uint8_t *body, size_t len)
{
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	char buf[HOOKD_SIGN_BUF_MAX];
	int n = hookd_sign(cfg, "msg_fuzz", T0, body, len, h, HOOKD_SIGN_HEADERS_MAX, buf, sizeof buf);
	if (n <= 0 || hookd_verify(cfg, h, (size_t)n, body, len, T0) != HOOKD_OK)
		abort();
	uint8_t *longer = malloc(len + 1);
	if (longer == NULL)
		return;
	if (len > 0)
		memcpy(longer, body, len);
	longer[len] = '\n';
	if (hookd_verify(cfg, h, (size_t)n, longer, len + 1, T0) != HOOKD_ERR_MISMATCH)
		abort();
	free(longer);
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
	/* Each value in a heap block of its exact size, so ASan sees any read past its NUL. */
	while (n < nnames && off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		values[n] = malloc(len + 1);
		if (values[n] == NULL)
			abort();
		memcpy(values[n], data + off, len);
		values[n][len] = '\0';
		h[n].name = names[n];
		h[n].value = values[n];
		n++;
		off += len + (nl != NULL);
		if (nl == NULL)
			break;
	}
	const uint8_t *body = data + off;
	size_t bodylen = size - off;
	check_code(hookd_verify(cfg, h, n, body, bodylen, now));
	round_trip(body, bodylen);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	return 0;
}
