/* fuzz_codec.c: libFuzzer harness for libhookd's base64 and hex decoders (and encoders).
 * Byte 0 picks the codec, the rest is the text. Checks: a decoder never writes past outlen; what decodes
 * encodes back to the same text (base64 exactly, since it is canonical; hex up to case); any bytes encode
 * and decode back to themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hookd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void base64_checks(const char *text, size_t n, const uint8_t *raw, size_t rawlen)
{
	size_t cap = n / 4 * 3;
	uint8_t *out = malloc(cap + 1);
	char *back = malloc(n + 1);
	long got = hookd_base64_decode(text, n, out, cap);
	if (got >= 0 && (hookd_base64_encode(out, (size_t)got, back, n + 1) != (long)n || memcmp(back, text, n) != 0))
		abort();
	/* A buffer one byte short must be refused, not overrun. */
	if (got > 0 && hookd_base64_decode(text, n, out, (size_t)got - 1) != -1)
		abort();
	free(out);
	free(back);
	char *enc = malloc((rawlen + 2) / 3 * 4 + 1);
	uint8_t *dec = malloc(rawlen + 1);
	long e = hookd_base64_encode(raw, rawlen, enc, (rawlen + 2) / 3 * 4 + 1);
	if (e < 0 || hookd_base64_decode(enc, (size_t)e, dec, rawlen) != (long)rawlen || memcmp(dec, raw, rawlen) != 0)
		abort();
	free(enc);
	free(dec);
}

static void hex_checks(const char *text, size_t n, const uint8_t *raw, size_t rawlen)
{
	uint8_t *out = malloc(n / 2 + 1);
	char *back = malloc(n + 1);
	long got = hookd_hex_decode(text, n, out, n / 2);
	if (got >= 0 && hookd_hex_encode(out, (size_t)got, back, n + 1) != (long)n)
		abort();
	for (long i = 0; got >= 0 && i < (long)n; i++)
		if (lower((unsigned char)text[i]) != back[i])
			abort();
	free(out);
	free(back);
	char *enc = malloc(2 * rawlen + 1);
	uint8_t *dec = malloc(rawlen + 1);
	if (hookd_hex_encode(raw, rawlen, enc, 2 * rawlen + 1) != (long)(2 * rawlen) ||
	    hookd_hex_decode(enc, 2 * rawlen, dec, rawlen) != (long)rawlen || memcmp(dec, raw, rawlen) != 0)
		abort();
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The text in a block of its exact size (no NUL: the decoders take a length). */
	size_t n = size - 1;
	char *text = malloc(n + 1);
	memcpy(text, data + 1, n);
	if (data[0] & 1)
		hex_checks(text, n, data + 1, n);
	else
		base64_checks(text, n, data + 1, n);
	free(text);
	return 0;
}
