/* fuzz_config.c: libFuzzer harness for configuration: scheme names, options and secrets as a peer (or a
 * careless operator) might give them. Input: '\n'-separated fields: scheme, header, timestamp header, id header,
 * prefix, hash, encoding, then secrets; an empty option field means "default". Checks: every call returns a
 * documented code; a config that took a signing secret signs what it then verifies (through hookd_sign_url and
 * hookd_verify_url, a form body to a fixed URL, so that twilio is covered too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hookd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 12

static int split(const uint8_t *data, size_t size, char *fields[FIELDS])
{
	int n = 0;
	size_t off = 0;
	while (n < FIELDS && off <= size) {
		const uint8_t *nl = off < size ? memchr(data + off, '\n', size - off) : NULL;
		size_t len = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		fields[n] = malloc(len + 1);
		memcpy(fields[n], data + off, len);
		fields[n][len] = '\0';
		n++;
		off += len + 1;
	}
	return n;
}

static const char *opt(char *fields[], int n, int i) { return i < n && fields[i][0] != '\0' ? fields[i] : NULL; }

/* Sign and verify through the URL entry points, which every scheme takes (twilio needs them). */
static void use(struct hookd_config *cfg)
{
	static const char url[] = "https://example.com/hook?x=1", form[] = "application/x-www-form-urlencoded";
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX + 1];
	char buf[HOOKD_SIGN_BUF_MAX];
	int n = hookd_sign_url(cfg, url, form, "msg_fuzz", 1700000000, "body", 4, h, HOOKD_SIGN_HEADERS_MAX, buf,
			       sizeof buf);
	if (n == HOOKD_ERR_INVALID) /* no secret, or only Ed25519 public keys */
		return;
	if (n <= 0)
		abort();
	h[n] = (struct hookd_header){"Content-Type", form};
	if (hookd_verify_url(cfg, url, h, (size_t)n + 1, "body", 4, 1700000000) != HOOKD_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FIELDS];
	int n = split(data, size, f);
	struct hookd_config *cfg = NULL;
	struct hookd_options o = {opt(f, n, 1), opt(f, n, 2), opt(f, n, 3), opt(f, n, 4), opt(f, n, 5), opt(f, n, 6)};
	int rc = hookd_config_new(f[0], &o, &cfg);
	if (rc != HOOKD_OK && rc != HOOKD_ERR_INVALID)
		abort();
	for (int i = 7; rc == HOOKD_OK && i < n; i++) {
		int r = hookd_config_add_secret(cfg, f[i]);
		if (r != HOOKD_OK && r != HOOKD_ERR_INVALID && r != HOOKD_ERR_NOSPACE)
			abort();
	}
	if (cfg != NULL)
		use(cfg);
	hookd_config_free(cfg);
	for (int i = 0; i < n; i++)
		free(f[i]);
	return 0;
}
