/* base64.c: strict RFC 4648 base64 (standard alphabet, padded) and hex, the two encodings of libhookd.
 * No allocation and no daemon dependencies. Decoding is strict so that one byte string has exactly one text
 * form: signatures and secrets either decode cleanly or are rejected, never "repaired" (hex alone accepts
 * either case, as the providers that send it disagree). */
#include "hookd.h"

#include <limits.h>
#include <stdint.h>

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long hookd_base64_encode(const void *in, size_t n, char *out, size_t outlen)
{
	const uint8_t *p = in;
	if ((in == NULL && n > 0) || out == NULL || n / 3 >= (size_t)LONG_MAX / 4 - 1)
		return -1;
	size_t need = (n + 2) / 3 * 4;
	if (outlen < need + 1)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)p[i] << 16;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = left > 1 ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = left > 2 ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

/* 1 if lo <= c <= hi, else 0, without a branch. */
static int in_range(int c, int lo, int hi)
{
	return (int)((unsigned)((lo - 1 - c) & (c - hi - 1)) >> (sizeof(unsigned) * CHAR_BIT - 1));
}

/* The 6-bit value of a base64 character, or -1. Branch-free because secrets pass through here and their
 * characters should not show in timing. */
static int b64_value(unsigned char uc)
{
	int c = uc;
	return -1 + in_range(c, 'A', 'Z') * (c - 'A' + 1) + in_range(c, 'a', 'z') * (c - 'a' + 27) +
	       in_range(c, '0', '9') * (c - '0' + 53) + in_range(c, '+', '+') * 63 + in_range(c, '/', '/') * 64;
}

/* How many '=' end the text (0-2); any other '=' is caught as a bad character. */
static size_t b64_padding(const char *in, size_t n)
{
	if (n == 0 || in[n - 1] != '=')
		return 0;
	return in[n - 2] == '=' ? 2 : 1;
}

long hookd_base64_decode(const char *in, size_t n, uint8_t *out, size_t outlen)
{
	if ((in == NULL && n > 0) || n % 4 != 0 || n / 4 >= (size_t)LONG_MAX / 3)
		return -1;
	size_t pad = b64_padding(in, n), len = n / 4 * 3 - pad;
	if (len > outlen || (out == NULL && len > 0))
		return -1;
	int bad = 0;
	uint32_t v = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int last = i + 4 == n;
		int a = b64_value((unsigned char)in[i]), b = b64_value((unsigned char)in[i + 1]);
		int c = last && pad == 2 ? 0 : b64_value((unsigned char)in[i + 2]);
		int d = last && pad >= 1 ? 0 : b64_value((unsigned char)in[i + 3]);
		bad |= a | b | c | d; /* negative once any character was invalid */
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		for (int k = 0; k < 3 && o < len; k++)
			out[o++] = (uint8_t)(v >> (16 - 8 * k));
	}
	/* Reject non-canonical text such as "Zh==": the bits the padding drops must be zero. */
	if (bad < 0 || (pad == 2 && (v & 0xffff) != 0) || (pad == 1 && (v & 0xff) != 0))
		return -1;
	return (long)len;
}

static const char hex_digits[] = "0123456789abcdef";

long hookd_hex_encode(const void *in, size_t n, char *out, size_t outlen)
{
	const uint8_t *p = in;
	if ((in == NULL && n > 0) || out == NULL || n >= (size_t)LONG_MAX / 2 || outlen < 2 * n + 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[p[i] >> 4];
		out[2 * i + 1] = hex_digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return (long)(2 * n);
}

/* The value of a hex digit, or -1; branch-free like b64_value. */
static int hex_value(unsigned char uc)
{
	int c = uc;
	return -1 + in_range(c, '0', '9') * (c - '0' + 1) + in_range(c, 'a', 'f') * (c - 'a' + 11) +
	       in_range(c, 'A', 'F') * (c - 'A' + 11);
}

long hookd_hex_decode(const char *in, size_t n, uint8_t *out, size_t outlen)
{
	if ((in == NULL && n > 0) || n % 2 != 0 || n / 2 > outlen || n / 2 >= (size_t)LONG_MAX ||
	    (out == NULL && n > 0))
		return -1;
	int bad = 0;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value((unsigned char)in[i]), lo = hex_value((unsigned char)in[i + 1]);
		bad |= hi | lo;
		out[i / 2] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo); /* garbage if bad, discarded */
	}
	return bad < 0 ? -1 : (long)(n / 2);
}
