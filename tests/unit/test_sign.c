/* test_sign.c: libhookd signing, verification, base64 and hex. First the original Standard Webhooks v1
 * functions against the documented vector, the negative cases of signatures.md and an independent one-shot
 * HMAC; then every scheme: the table of vectors and negative cases in sign_cases.txt, and properties checked for
 * each scheme (round trips over odd bytes, rotation, each header missing, signatures of every wrong length). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hookd.h"
#include "scheme.h" /* hookd__window */
#include "tests.h"

#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS 1614265330
#define VEC_TS_STR "1614265330"
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static uint8_t vkey[HOOKD_KEY_MAX];
static size_t vkeylen;

static void load_vector_key(void)
{
	ck_assert_int_eq(hookd_secret_decode(VEC_SECRET, vkey, &vkeylen), HOOKD_OK);
	ck_assert_uint_eq(vkeylen, 24);
}

/* Verify the vector body with a given signature header at a given time. */
static int verify_vec(const char *sig, int64_t now)
{
	return hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, sig, VEC_BODY, strlen(VEC_BODY), now, 300);
}

START_TEST(test_vector_sign)
{
	char sig[HOOKD_SIG_V1_LEN];
	load_vector_key();
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig),
			 HOOKD_OK);
	ck_assert_str_eq(sig, VEC_SIG);
	ck_assert_uint_eq(strlen(sig), HOOKD_SIG_V1_LEN - 1);
}
END_TEST

START_TEST(test_vector_verify)
{
	load_vector_key();
	ck_assert_int_eq(verify_vec(VEC_SIG, VEC_TS), HOOKD_OK);
	ck_assert_int_eq(verify_vec(VEC_SIG, VEC_TS + 300), HOOKD_OK);
	ck_assert_int_eq(verify_vec(VEC_SIG, VEC_TS - 300), HOOKD_OK);
	/* One byte of the body changed. */
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, VEC_SIG, "{\"test\": 2432232315}",
					 strlen(VEC_BODY), VEC_TS, 300),
			 HOOKD_ERR_MISMATCH);
	/* Another id. */
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, "msg_other", VEC_TS_STR, VEC_SIG, VEC_BODY,
					 strlen(VEC_BODY), VEC_TS, 300),
			 HOOKD_ERR_MISMATCH);
}
END_TEST

START_TEST(test_secret_prefix_optional)
{
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen = 0;
	load_vector_key();
	ck_assert_int_eq(hookd_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen), HOOKD_OK);
	ck_assert_uint_eq(keylen, vkeylen);
	ck_assert_mem_eq(key, vkey, vkeylen);
}
END_TEST

START_TEST(test_missing_headers)
{
	load_vector_key();
	const void *b = VEC_BODY;
	size_t n = strlen(VEC_BODY);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, NULL, VEC_TS_STR, VEC_SIG, b, n, VEC_TS, 300),
			 HOOKD_ERR_MISSING);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, NULL, VEC_SIG, b, n, VEC_TS, 300), HOOKD_ERR_MISSING);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, NULL, b, n, VEC_TS, 300),
			 HOOKD_ERR_MISSING);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, "", VEC_TS_STR, VEC_SIG, b, n, VEC_TS, 300),
			 HOOKD_ERR_MISSING);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, "", VEC_SIG, b, n, VEC_TS, 300), HOOKD_ERR_MISSING);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, "", b, n, VEC_TS, 300),
			 HOOKD_ERR_MISSING);
}
END_TEST

START_TEST(test_bad_signatures)
{
	static const char *bad[] = {
	    "v1,dawfeoifkpqwoekfpqoekf",
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O", /* truncated */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE==", /* too long */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA",  /* 44 chars, 33 bytes */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",  /* non-canonical padding bits */
	    "v1,",
	    "v1",
	    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* no version */
	    "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* url alphabet */
	    "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* one bit off */
	    "   ",
	    ",,,",
	};
	load_vector_key();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(verify_vec(bad[i], VEC_TS) == HOOKD_ERR_MISMATCH, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_list_one_valid)
{
	load_vector_key();
	ck_assert_int_eq(verify_vec("v1,dawfeoifkpqwoekfpqoekf " VEC_SIG, VEC_TS), HOOKD_OK);
	ck_assert_int_eq(verify_vec(VEC_SIG " v1,dawfeoifkpqwoekfpqoekf", VEC_TS), HOOKD_OK);
	ck_assert_int_eq(
	    verify_vec("v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== "
		       "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=  " VEC_SIG " v1,",
		       VEC_TS),
	    HOOKD_OK);
	ck_assert_int_eq(verify_vec("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,dawfeoifkpqwoekfpqoekf",
				    VEC_TS),
			 HOOKD_ERR_MISMATCH);
}
END_TEST

/* Sign at ts, verify at now; the signature is right, so only the clock decides. */
static int verify_at(int64_t ts, int64_t now)
{
	char sig[HOOKD_SIG_V1_LEN], tsbuf[32];
	snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, VEC_ID, ts, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig),
			 HOOKD_OK);
	return hookd_verify_v1(vkey, vkeylen, VEC_ID, tsbuf, sig, VEC_BODY, strlen(VEC_BODY), now, 300);
}

START_TEST(test_timestamp_window)
{
	load_vector_key();
	ck_assert_int_eq(verify_at(VEC_TS, VEC_TS + 300), HOOKD_OK);
	ck_assert_int_eq(verify_at(VEC_TS, VEC_TS - 300), HOOKD_OK);
	ck_assert_int_eq(verify_at(VEC_TS, VEC_TS + 301), HOOKD_ERR_STALE);
	ck_assert_int_eq(verify_at(VEC_TS, VEC_TS - 301), HOOKD_ERR_FUTURE);
	ck_assert_int_eq(verify_at(0, INT64_MAX), HOOKD_ERR_STALE);
	ck_assert_int_eq(verify_at(VEC_TS, INT64_MIN), HOOKD_ERR_FUTURE);
	/* Tolerance 0: only the exact second. */
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
					 VEC_TS, 0),
			 HOOKD_OK);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
					 VEC_TS + 1, 0),
			 HOOKD_ERR_STALE);
}
END_TEST

START_TEST(test_timestamp_malformed)
{
	static const char *bad[] = {"abc", "1614265330a", " 1614265330", "1614265330 ", "-1614265330",
				    "+1614265330", "1614265330.5", "0x10", "99999999999999999999999"};
	load_vector_key();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(hookd_verify_v1(vkey, vkeylen, VEC_ID, bad[i], VEC_SIG, VEC_BODY, strlen(VEC_BODY),
					      VEC_TS, 300) == HOOKD_ERR_MALFORMED,
			      "timestamp \"%s\" not rejected as malformed", bad[i]);
	/* Leading zeros are still the same number, as in the reference libraries. */
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, "0" VEC_TS_STR, VEC_SIG, VEC_BODY, strlen(VEC_BODY),
					 VEC_TS, 300),
			 HOOKD_OK);
}
END_TEST

static void round_trip(const void *body, size_t n)
{
	char sig[HOOKD_SIG_V1_LEN];
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, VEC_ID, VEC_TS, body, n, sig, sizeof sig), HOOKD_OK);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, sig, body, n, VEC_TS, 300), HOOKD_OK);
	if (n > 0) /* the same bytes minus the last must not verify */
		ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, sig, body, n - 1, VEC_TS, 300),
				 HOOKD_ERR_MISMATCH);
}

START_TEST(test_binary_bodies)
{
	static const uint8_t not_utf8[] = {0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x00, 0xed, 0xa0, 0x80};
	static const char emoji[] = "{\"msg\": \"h\xc3\xa9llo \xf0\x9f\x8e\x89\xf0\x9f\x91\x8d\"}";
	load_vector_key();
	round_trip(not_utf8, sizeof not_utf8);
	round_trip(emoji, strlen(emoji));
	round_trip(NULL, 0);
	round_trip("", 0);
}
END_TEST

/* The streamed MAC must equal a one-shot HMAC over the concatenation. */
START_TEST(test_matches_oneshot_hmac)
{
	uint8_t key[40], body[300], md[EVP_MAX_MD_SIZE], msg[400];
	unsigned mdlen = 0;
	char sig[HOOKD_SIG_V1_LEN], want[64];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 31);
	int hdr = snprintf((char *)msg, sizeof msg, "msg_x.%d.", 1700000000);
	memcpy(msg + hdr, body, sizeof body);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, sizeof key, msg, (size_t)hdr + sizeof body, md, &mdlen));
	ck_assert_uint_eq(mdlen, 32);
	memcpy(want, "v1,", 3);
	ck_assert_int_eq(hookd_base64_encode(md, mdlen, want + 3, sizeof want - 3), 44);
	ck_assert_int_eq(hookd_sign_v1(key, sizeof key, "msg_x", 1700000000, body, sizeof body, sig, sizeof sig),
			 HOOKD_OK);
	ck_assert_str_eq(sig, want);
}
END_TEST

START_TEST(test_sign_args)
{
	char sig[HOOKD_SIG_V1_LEN];
	load_vector_key();
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, VEC_ID, VEC_TS, "x", 1, sig, sizeof sig - 1), HOOKD_ERR_NOSPACE);
	ck_assert_int_eq(hookd_sign_v1(vkey, 0, VEC_ID, VEC_TS, "x", 1, sig, sizeof sig), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign_v1(NULL, 24, VEC_ID, VEC_TS, "x", 1, sig, sizeof sig), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, NULL, VEC_TS, "x", 1, sig, sizeof sig), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign_v1(vkey, vkeylen, VEC_ID, VEC_TS, NULL, 1, sig, sizeof sig), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_v1(vkey, 0, VEC_ID, VEC_TS_STR, VEC_SIG, VEC_BODY, 20, VEC_TS, 300),
			 HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_v1(vkey, vkeylen, VEC_ID, VEC_TS_STR, VEC_SIG, VEC_BODY, 20, VEC_TS, -1),
			 HOOKD_ERR_INVALID);
}
END_TEST

START_TEST(test_bad_secrets)
{
	static const char *bad[] = {
	    "",
	    "whsec_",
	    "whsec_!!!!9r8GKYqrTwjUPD8ILPZIo2LaLaSw",         /* bad characters */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",          /* length not a multiple of 4 */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",        /* stray padding */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa==",         /* bad padding */
	    "whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",        /* whitespace */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
	    "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",          /* 23 bytes */
	    "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",          /* another prefix */
	};
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen = 99;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(hookd_secret_decode(bad[i], key, &keylen) == HOOKD_ERR_INVALID, "accepted \"%s\"",
			      bad[i]);
		ck_assert_uint_eq(keylen, 99);
	}
	ck_assert_int_eq(hookd_secret_decode(NULL, key, &keylen), HOOKD_ERR_INVALID);
}
END_TEST

/* "whsec_" + base64 of n bytes of 0x5a. */
static void make_secret(size_t n, char *out, size_t outlen)
{
	uint8_t raw[100];
	memset(raw, 0x5a, sizeof raw);
	memcpy(out, "whsec_", 6);
	ck_assert_int_ge(hookd_base64_encode(raw, n, out + 6, outlen - 6), 0);
}

START_TEST(test_secret_lengths)
{
	char s[200];
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen = 0;
	for (size_t n = 0; n <= 70; n++) {
		make_secret(n, s, sizeof s);
		int rc = hookd_secret_decode(s, key, &keylen);
		if (n < HOOKD_KEY_MIN || n > HOOKD_KEY_MAX) {
			ck_assert_msg(rc == HOOKD_ERR_INVALID, "%zu-byte secret accepted", n);
		} else {
			ck_assert_msg(rc == HOOKD_OK, "%zu-byte secret rejected", n);
			ck_assert_uint_eq(keylen, n);
			ck_assert_uint_eq(key[0], 0x5a);
			ck_assert_uint_eq(key[n - 1], 0x5a);
		}
	}
}
END_TEST

START_TEST(test_secret_new)
{
	char a[6 + 88 + 1], b[sizeof a];
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen = 0;
	ck_assert_int_eq(hookd_secret_new(24, a, sizeof a), HOOKD_OK);
	ck_assert_uint_eq(strlen(a), 6 + 32);
	ck_assert_int_eq(strncmp(a, "whsec_", 6), 0);
	ck_assert_int_eq(hookd_secret_decode(a, key, &keylen), HOOKD_OK);
	ck_assert_uint_eq(keylen, 24);
	ck_assert_int_eq(hookd_secret_new(24, b, sizeof b), HOOKD_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(hookd_secret_new(64, a, sizeof a), HOOKD_OK);
	ck_assert_uint_eq(strlen(a), 6 + 88);
	ck_assert_int_eq(hookd_secret_decode(a, key, &keylen), HOOKD_OK);
	ck_assert_uint_eq(keylen, 64);
	ck_assert_int_eq(hookd_secret_new(64, a, 6 + 88), HOOKD_ERR_NOSPACE);
	ck_assert_int_eq(hookd_secret_new(23, a, sizeof a), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_secret_new(65, a, sizeof a), HOOKD_ERR_INVALID);
}
END_TEST

START_TEST(test_strerror)
{
	for (int e = HOOKD_ERR_NOMEM; e <= HOOKD_OK; e++) {
		ck_assert_ptr_nonnull(hookd_strerror(e));
		ck_assert_str_ne(hookd_strerror(e), "unknown error");
		for (int f = e + 1; f <= HOOKD_OK; f++)
			ck_assert_str_ne(hookd_strerror(e), hookd_strerror(f));
	}
	ck_assert_str_eq(hookd_strerror(HOOKD_ERR_MISMATCH), "signature mismatch");
	ck_assert_str_eq(hookd_strerror(-100), "unknown error");
}
END_TEST

START_TEST(test_base64_rfc4648)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];
	uint8_t dec[16];
	for (size_t i = 0; i < 7; i++) {
		size_t n = strlen(plain[i]);
		ck_assert_int_eq(hookd_base64_encode(plain[i], n, out, sizeof out), (long)strlen(enc[i]));
		ck_assert_str_eq(out, enc[i]);
		ck_assert_int_eq(hookd_base64_decode(enc[i], strlen(enc[i]), dec, sizeof dec), (long)n);
		ck_assert_mem_eq(dec, plain[i], n);
	}
	ck_assert_int_eq(hookd_base64_encode("\xfb\xff\xbf", 3, out, sizeof out), 4);
	ck_assert_str_eq(out, "+/+/");
}
END_TEST

START_TEST(test_base64_rejects)
{
	static const char *bad[] = {"Zg", "Zg=", "Zm9", "Z===", "====", "=Zg=", "Zg=A", "Zm9v=", "Zg==Zg==",
				    "Zm9v Zm9v", "Zm9v\n", "Zm-_", "Zh==", "Zm9=", "Zm8 ", "Zm\x80v", "Zm9v===="};
	uint8_t dec[16];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(hookd_base64_decode(bad[i], strlen(bad[i]), dec, sizeof dec) == -1, "accepted \"%s\"",
			      bad[i]);
	/* An embedded NUL is a bad character, not an end. */
	ck_assert_int_eq(hookd_base64_decode("Zm\0v", 4, dec, sizeof dec), -1);
}
END_TEST

START_TEST(test_base64_buffers)
{
	char out[9];
	uint8_t dec[6];
	ck_assert_int_eq(hookd_base64_encode("foobar", 6, out, 9), 8);
	ck_assert_int_eq(hookd_base64_encode("foobar", 6, out, 8), -1); /* no room for the NUL */
	ck_assert_int_eq(hookd_base64_decode("Zm9vYmFy", 8, dec, 6), 6);
	ck_assert_int_eq(hookd_base64_decode("Zm9vYmFy", 8, dec, 5), -1);
	ck_assert_int_eq(hookd_base64_decode("Zm9vYg==", 8, dec, 4), 4);
	ck_assert_int_eq(hookd_base64_decode("Zm9vYg==", 8, dec, 3), -1);
	ck_assert_int_eq(hookd_base64_decode("", 0, NULL, 0), 0);
}
END_TEST

START_TEST(test_base64_all_bytes)
{
	uint8_t raw[256], dec[256];
	char enc[4 * 86 + 1];
	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)i;
	for (size_t n = 0; n <= sizeof raw; n++) {
		long len = hookd_base64_encode(raw + (256 - n), n, enc, sizeof enc);
		ck_assert_int_eq(len, (long)((n + 2) / 3 * 4));
		ck_assert_int_eq(hookd_base64_decode(enc, (size_t)len, dec, sizeof dec), (long)n);
		ck_assert_mem_eq(dec, raw + (256 - n), n);
	}
}
END_TEST

/* ---- Every scheme: the table in sign_cases.txt ------------------------------------------------------------ */

#define CASE_HEADERS 8
#define CASE_SECRETS 4
#define CASE_WANTS 4

struct sign_case {
	char name[160];
	int line;
	char scheme[32];
	char opt[6][128];
	bool opt_set[6];
	char secrets[CASE_SECRETS][600];
	size_t nsecrets;
	bool has_window;
	int64_t past, future, now, ts;
	uint8_t body[1024];
	size_t bodylen;
	char hname[CASE_HEADERS][80], hval[CASE_HEADERS][600];
	size_t nheaders;
	bool sign, has_id, has_expect, has_expect_config;
	char id[300];
	char want[CASE_WANTS][700];
	size_t nwant;
	int expect, expect_config;
	char url[1024], content_type[128];
	bool has_url, has_content_type;
};

static const char *const option_keys[6] = {"header", "timestamp_header", "id_header", "prefix", "hash", "encoding"};

/* \xNN, \n, \r, \t and \\; anything else as is. Returns the length. */
static size_t unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; *s != '\0' && n < cap; s++) {
		unsigned v;
		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
			out[n++] = (uint8_t)v;
			s += 3;
		} else if (s[0] == '\\' && s[1] != '\0' && strchr("nrt\\", s[1]) != NULL) {
			out[n++] = (uint8_t)(s[1] == 'n' ? '\n' : s[1] == 'r' ? '\r' : s[1] == 't' ? '\t' : '\\');
			s++;
		} else {
			out[n++] = (uint8_t)*s;
		}
	}
	return n;
}

static int parse_expect(const char *s)
{
	static const struct {
		const char *name;
		int rc;
	} names[] = {{"ok", HOOKD_OK},
		     {"missing", HOOKD_ERR_MISSING},
		     {"malformed", HOOKD_ERR_MALFORMED},
		     {"stale", HOOKD_ERR_STALE},
		     {"future", HOOKD_ERR_FUTURE},
		     {"mismatch", HOOKD_ERR_MISMATCH},
		     {"invalid", HOOKD_ERR_INVALID},
		     {"nospace", HOOKD_ERR_NOSPACE}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].rc;
	ck_abort_msg("sign_cases.txt: unknown result '%s'", s);
	return 1;
}

static int64_t parse_limit(const char *s) { return strcmp(s, "none") == 0 ? HOOKD_WINDOW_NONE : atoll(s); }

static void split_header(const char *line, char *name, size_t nlen, char *value, size_t vlen)
{
	const char *colon = strchr(line, ':');
	ck_assert_ptr_nonnull(colon);
	snprintf(name, nlen, "%.*s", (int)(colon - line), line);
	colon++;
	colon += strspn(colon, " ");
	uint8_t raw[700];
	size_t n = unescape(colon, raw, sizeof raw - 1);
	ck_assert_uint_lt(n, vlen);
	memcpy(value, raw, n);
	value[n] = '\0';
}

/* One "key value" line of a case. */
static void case_line(struct sign_case *c, const char *key, const char *v)
{
	if (strcmp(key, "scheme") == 0) {
		snprintf(c->scheme, sizeof c->scheme, "%s", v);
	} else if (strcmp(key, "option") == 0) {
		size_t k = strcspn(v, " ");
		for (size_t i = 0; i < 6; i++)
			if (strlen(option_keys[i]) == k && strncmp(v, option_keys[i], k) == 0) {
				snprintf(c->opt[i], sizeof c->opt[i], "%s", v[k] != '\0' ? v + k + 1 : "");
				c->opt_set[i] = true;
			}
	} else if (strcmp(key, "secret") == 0) {
		ck_assert_uint_lt(c->nsecrets, CASE_SECRETS);
		snprintf(c->secrets[c->nsecrets++], sizeof c->secrets[0], "%s", v);
	} else if (strcmp(key, "window") == 0) {
		char a[32], b[32];
		ck_assert_int_eq(sscanf(v, "%31s %31s", a, b), 2);
		c->past = parse_limit(a);
		c->future = parse_limit(b);
		c->has_window = true;
	} else if (strcmp(key, "now") == 0) {
		c->now = atoll(v);
	} else if (strcmp(key, "body") == 0) {
		c->bodylen = unescape(v, c->body, sizeof c->body);
	} else if (strcmp(key, "header") == 0) {
		ck_assert_uint_lt(c->nheaders, CASE_HEADERS);
		split_header(v, c->hname[c->nheaders], sizeof c->hname[0], c->hval[c->nheaders], sizeof c->hval[0]);
		c->nheaders++;
	} else if (strcmp(key, "expect") == 0) {
		c->expect = parse_expect(v);
		c->has_expect = true;
	} else if (strcmp(key, "expect-config") == 0) {
		c->expect_config = parse_expect(v);
		c->has_expect_config = true;
	} else if (strcmp(key, "sign") == 0) {
		char id[300];
		long long ts;
		ck_assert_int_eq(sscanf(v, "%299s %lld", id, &ts), 2);
		c->sign = true;
		c->ts = ts;
		c->has_id = strcmp(id, "-") != 0;
		size_t n = unescape(id, (uint8_t *)c->id, sizeof c->id - 1);
		c->id[n] = '\0';
	} else if (strcmp(key, "url") == 0) {
		snprintf(c->url, sizeof c->url, "%s", v);
		c->has_url = true;
	} else if (strcmp(key, "content-type") == 0) {
		snprintf(c->content_type, sizeof c->content_type, "%s", v);
		c->has_content_type = true;
	} else if (strcmp(key, "want") == 0) {
		ck_assert_uint_lt(c->nwant, CASE_WANTS);
		snprintf(c->want[c->nwant++], sizeof c->want[0], "%s", v);
	} else {
		ck_abort_msg("sign_cases.txt line %d: unknown key '%s'", c->line, key);
	}
}

static int case_config(const struct sign_case *c, struct hookd_config **cfg)
{
	struct hookd_options o = {0};
	const char **fields[6] = {&o.header, &o.timestamp_header, &o.id_header, &o.prefix, &o.hash, &o.encoding};
	for (size_t i = 0; i < 6; i++)
		if (c->opt_set[i])
			*fields[i] = c->opt[i];
	int rc = hookd_config_new(c->scheme, &o, cfg);
	for (size_t i = 0; rc == HOOKD_OK && i < c->nsecrets; i++)
		rc = hookd_config_add_secret(*cfg, c->secrets[i]);
	if (rc == HOOKD_OK && c->has_window)
		rc = hookd_config_set_window(*cfg, c->past, c->future);
	return rc;
}

/* Sign; compare with the wanted headers; the output must verify at now = ts. Returns a failure count. */
static int case_sign(const struct sign_case *c, const struct hookd_config *cfg)
{
	struct hookd_header out[HOOKD_SIGN_HEADERS_MAX + 1];
	char buf[HOOKD_SIGN_BUF_MAX], line[800];
	int want = c->has_expect ? c->expect : HOOKD_OK, fails = 0;
	const char *id = c->has_id ? c->id : NULL, *ct = c->has_content_type ? c->content_type : NULL;
	int n = c->has_url ? hookd_sign_url(cfg, c->url, ct, id, c->ts, c->body, c->bodylen, out, HOOKD_SIGN_HEADERS_MAX,
					    buf, sizeof buf)
			   : hookd_sign(cfg, id, c->ts, c->body, c->bodylen, out, HOOKD_SIGN_HEADERS_MAX, buf, sizeof buf);
	if (want != HOOKD_OK || n < 0) {
		if (n != want)
			fprintf(stderr, "  [%s] line %d: hookd_sign gave %d, want %d\n", c->name, c->line, n, want);
		return n != want;
	}
	if (c->nwant > 0 && (size_t)n != c->nwant) {
		fprintf(stderr, "  [%s] line %d: %d headers, want %zu\n", c->name, c->line, n, c->nwant);
		return 1;
	}
	for (size_t i = 0; i < c->nwant; i++) {
		snprintf(line, sizeof line, "%s: %s", out[i].name, out[i].value);
		if (strcmp(line, c->want[i]) != 0) {
			fprintf(stderr, "  [%s] line %d: got '%s'\n      want '%s'\n", c->name, c->line, line, c->want[i]);
			fails++;
		}
	}
	if (c->has_content_type) { /* the verifier reads the type from the headers */
		out[n].name = "Content-Type";
		out[n++].value = c->content_type;
	}
	int rc = hookd_verify_url(cfg, c->has_url ? c->url : NULL, out, (size_t)n, c->body, c->bodylen, c->ts);
	if (rc != HOOKD_OK && !(rc == HOOKD_ERR_INVALID && strncmp(c->secrets[0], "whpk_", 5) == 0)) {
		fprintf(stderr, "  [%s] line %d: its own signature gave %d\n", c->name, c->line, rc);
		fails++;
	}
	return fails;
}

static int case_verify(const struct sign_case *c, const struct hookd_config *cfg)
{
	struct hookd_header h[CASE_HEADERS + 1];
	size_t n = c->nheaders;
	for (size_t i = 0; i < n; i++) {
		h[i].name = c->hname[i];
		h[i].value = c->hval[i];
	}
	if (c->has_content_type) {
		h[n].name = "Content-Type";
		h[n++].value = c->content_type;
	}
	ck_assert_msg(c->has_expect, "[%s] line %d: no expect", c->name, c->line);
	int rc = c->has_url ? hookd_verify_url(cfg, c->url, h, n, c->body, c->bodylen, c->now)
			    : hookd_verify(cfg, h, n, c->body, c->bodylen, c->now);
	if (rc != c->expect)
		fprintf(stderr, "  [%s] line %d: hookd_verify gave %d (%s), want %d (%s)\n", c->name, c->line, rc,
			hookd_strerror(rc), c->expect, hookd_strerror(c->expect));
	return rc != c->expect;
}

static int case_run(const struct sign_case *c)
{
	struct hookd_config *cfg = NULL;
	int rc = case_config(c, &cfg), fails = 0;
	if (c->has_expect_config) {
		fails = rc != c->expect_config;
		if (fails)
			fprintf(stderr, "  [%s] line %d: configuring gave %d, want %d\n", c->name, c->line, rc,
				c->expect_config);
	} else if (rc != HOOKD_OK) {
		fprintf(stderr, "  [%s] line %d: configuring gave %d (%s)\n", c->name, c->line, rc, hookd_strerror(rc));
		fails = 1;
	} else {
		fails = c->sign ? case_sign(c, cfg) : case_verify(c, cfg);
	}
	hookd_config_free(cfg);
	return fails;
}

static FILE *open_cases(void)
{
	const char *path = getenv("HOOKD_SIGN_CASES");
	FILE *f = fopen(path != NULL ? path : "tests/unit/sign_cases.txt", "r");
	if (f == NULL)
		f = fopen("../tests/unit/sign_cases.txt", "r");
	ck_assert_msg(f != NULL, "cannot open tests/unit/sign_cases.txt (run from the repository, or set HOOKD_SIGN_CASES)");
	return f;
}

START_TEST(test_cases)
{
	static struct sign_case c;
	char line[2048];
	int lineno = 0, ncases = 0, fails = 0;
	bool open = false;
	FILE *f = open_cases();
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			if (open)
				fails += case_run(&c), ncases++;
			memset(&c, 0, sizeof c);
			snprintf(c.name, sizeof c.name, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			c.line = lineno;
			open = true;
			continue;
		}
		size_t k = strcspn(line, " ");
		char key[32];
		snprintf(key, sizeof key, "%.*s", (int)k, line);
		case_line(&c, key, line[k] != '\0' ? line + k + 1 : "");
	}
	if (open)
		fails += case_run(&c), ncases++;
	fclose(f);
	ck_assert_int_ge(ncases, 90);
	ck_assert_msg(fails == 0, "%d of %d cases in sign_cases.txt failed (listed above)", fails, ncases);
}
END_TEST

/* ---- Every scheme: properties --------------------------------------------------------------------------- */

/* A config of a scheme with the given secrets (NULL-terminated). */
static struct hookd_config *config_with(const char *scheme, const char *const *secrets)
{
	struct hookd_config *cfg = NULL;
	ck_assert_int_eq(hookd_config_new(scheme, NULL, &cfg), HOOKD_OK);
	for (; *secrets != NULL; secrets++)
		ck_assert_msg(hookd_config_add_secret(cfg, *secrets) == HOOKD_OK, "%s: secret %s", scheme, *secrets);
	return cfg;
}

/* A signed delivery and the URL it went to: every scheme goes through hookd_sign_url and hookd_verify_url, and
 * for twilio the URL carries the body's hash (bodySHA256), as Twilio's JSON requests do. */
struct signed_msg {
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	size_t n;
	char buf[HOOKD_SIGN_BUF_MAX];
	char url[128];
};

#define T0 1700000000

/* "https://example.com/hook?bodySHA256=<hex SHA-256 of body>" */
static void url_for(const void *body, size_t len, char *url, size_t urllen)
{
	uint8_t md[32];
	char hex[65];
	unsigned mdlen = 0;
	ck_assert_int_eq(EVP_Digest(len > 0 ? body : "", len, md, &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_int_eq(hookd_hex_encode(md, mdlen, hex, sizeof hex), 64);
	snprintf(url, urllen, "https://example.com/hook?bodySHA256=%s", hex);
}

static void sign_msg(const struct hookd_config *cfg, const void *body, size_t len, struct signed_msg *m)
{
	url_for(body, len, m->url, sizeof m->url);
	int n = hookd_sign_url(cfg, m->url, "application/json", "msg_2bcdefGHIJ", T0, body, len, m->h,
			       HOOKD_SIGN_HEADERS_MAX, m->buf, sizeof m->buf);
	ck_assert_msg(n > 0, "%s: hookd_sign_url gave %d", hookd_config_scheme(cfg), n);
	m->n = (size_t)n;
}

static int verify_msg(const struct hookd_config *cfg, const struct signed_msg *m, const void *body, size_t len)
{
	return hookd_verify_url(cfg, m->url, m->h, m->n, body, len, T0);
}

/* Two fresh secrets of the scheme; for ed25519 also the public keys. */
struct secrets {
	char a[HOOKD_KEYTEXT_MAX], b[HOOKD_KEYTEXT_MAX], apub[HOOKD_KEYTEXT_MAX], bpub[HOOKD_KEYTEXT_MAX];
};

static void make_secrets(const char *scheme, struct secrets *s)
{
	memset(s, 0, sizeof *s);
	ck_assert_int_eq(hookd_secret_generate(scheme, s->a, sizeof s->a, s->apub, sizeof s->apub), HOOKD_OK);
	ck_assert_int_eq(hookd_secret_generate(scheme, s->b, sizeof s->b, s->bpub, sizeof s->bpub), HOOKD_OK);
	ck_assert_str_ne(s->a, s->b);
}

static const uint8_t odd_body[] = {0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0xf0, 0x9f, 0x8e, 0x89, 0xed, 0xa0, 0x80, '{'};

/* Sign, verify; flip each byte of the body in turn; a wrong secret; the public key alone (ed25519). */
static void round_trip_scheme(const char *scheme, const void *body, size_t len)
{
	struct secrets s;
	struct signed_msg m;
	uint8_t copy[64];
	make_secrets(scheme, &s);
	struct hookd_config *a = config_with(scheme, (const char *[]){s.a, NULL});
	struct hookd_config *b = config_with(scheme, (const char *[]){s.b, NULL});
	sign_msg(a, body, len, &m);
	ck_assert_msg(verify_msg(a, &m, body, len) == HOOKD_OK, "%s: round trip", scheme);
	ck_assert_msg(verify_msg(b, &m, body, len) == HOOKD_ERR_MISMATCH, "%s: wrong secret", scheme);
	ck_assert_uint_le(len, sizeof copy);
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, body, len);
		copy[i] ^= 0x01;
		ck_assert_msg(verify_msg(a, &m, copy, len) == HOOKD_ERR_MISMATCH, "%s: byte %zu flipped", scheme, i);
	}
	if (len > 0)
		ck_assert_msg(verify_msg(a, &m, body, len - 1) == HOOKD_ERR_MISMATCH, "%s: truncated body", scheme);
	if (s.apub[0] != '\0') {
		struct hookd_config *p = config_with(scheme, (const char *[]){s.apub, NULL});
		ck_assert_int_eq(verify_msg(p, &m, body, len), HOOKD_OK);
		ck_assert_int_eq(hookd_sign_url(p, m.url, NULL, "msg_x", T0, body, len, m.h, 3, m.buf, sizeof m.buf),
				 HOOKD_ERR_INVALID);
		hookd_config_free(p);
	}
	hookd_config_free(a);
	hookd_config_free(b);
}

START_TEST(test_every_scheme_round_trip)
{
	static const char emoji[] = "{\"msg\": \"h\xc3\xa9llo \xf0\x9f\x8e\x89\xf0\x9f\x91\x8d\"}";
	size_t i = 0;
	for (const char *scheme; (scheme = hookd_scheme_name(i)) != NULL; i++) {
		round_trip_scheme(scheme, odd_body, sizeof odd_body);
		round_trip_scheme(scheme, emoji, strlen(emoji));
		round_trip_scheme(scheme, NULL, 0);
	}
	ck_assert_uint_eq(i, 10);
}
END_TEST

static bool lists_signatures(const char *scheme)
{
	return strcmp(scheme, "standard") == 0 || strcmp(scheme, "svix") == 0 || strcmp(scheme, "ed25519") == 0 ||
	       strcmp(scheme, "stripe") == 0;
}

/* Old secret a, new secret b; the rotating config holds b then a. */
START_TEST(test_every_scheme_rotation)
{
	const char *scheme;
	for (size_t i = 0; (scheme = hookd_scheme_name(i)) != NULL; i++) {
		struct secrets s;
		struct signed_msg m;
		make_secrets(scheme, &s);
		struct hookd_config *a = config_with(scheme, (const char *[]){s.a, NULL});
		struct hookd_config *b = config_with(scheme, (const char *[]){s.b, NULL});
		struct hookd_config *ba = config_with(scheme, (const char *[]){s.b, s.a, NULL});
		sign_msg(a, "x", 1, &m);
		ck_assert_msg(verify_msg(ba, &m, "x", 1) == HOOKD_OK, "%s: old secret's signature", scheme);
		sign_msg(b, "x", 1, &m);
		ck_assert_msg(verify_msg(ba, &m, "x", 1) == HOOKD_OK, "%s: new secret's signature", scheme);
		sign_msg(ba, "x", 1, &m);
		ck_assert_msg(verify_msg(b, &m, "x", 1) == HOOKD_OK, "%s: the new secret signs", scheme);
		/* Lists carry one signature per secret; elsewhere the first secret alone signs. */
		ck_assert_msg(verify_msg(a, &m, "x", 1) == (lists_signatures(scheme) ? HOOKD_OK : HOOKD_ERR_MISMATCH),
			      "%s: the old secret during rotation", scheme);
		hookd_config_free(a);
		hookd_config_free(b);
		hookd_config_free(ba);
	}
}
END_TEST

/* Take each signed header away in turn. */
START_TEST(test_every_scheme_missing_headers)
{
	const char *scheme;
	for (size_t i = 0; (scheme = hookd_scheme_name(i)) != NULL; i++) {
		struct secrets s;
		struct signed_msg m;
		struct hookd_header rest[HOOKD_SIGN_HEADERS_MAX];
		make_secrets(scheme, &s);
		struct hookd_config *a = config_with(scheme, (const char *[]){s.a, NULL});
		sign_msg(a, "x", 1, &m);
		for (size_t drop = 0; drop < m.n; drop++) {
			size_t n = 0;
			for (size_t k = 0; k < m.n; k++)
				if (k != drop)
					rest[n++] = m.h[k];
			ck_assert_msg(hookd_verify_url(a, m.url, rest, n, "x", 1, T0) == HOOKD_ERR_MISSING, "%s without %s",
				      scheme, m.h[drop].name);
			rest[n] = m.h[drop];
			rest[n].value = "";
			ck_assert_msg(hookd_verify_url(a, m.url, rest, n + 1, "x", 1, T0) == HOOKD_ERR_MISSING,
				      "%s with empty %s", scheme, m.h[drop].name);
		}
		ck_assert_int_eq(hookd_verify_url(a, m.url, NULL, 0, "x", 1, T0), HOOKD_ERR_MISSING);
		hookd_config_free(a);
	}
}
END_TEST

/* The signature header's value cut at every length and grown by a few characters: never accepted, never a read
 * past the end (each variant sits in a heap block of its exact size, for ASan). */
static void try_value(const struct hookd_config *cfg, struct signed_msg *m, size_t sig, const char *text, size_t n)
{
	char *v = malloc(n + 1);
	const char *saved = m->h[sig].value;
	ck_assert_ptr_nonnull(v);
	memcpy(v, text, n);
	v[n] = '\0';
	m->h[sig].value = v;
	int rc = verify_msg(cfg, m, "x", 1);
	/* Stripe's cut "t=17" is a stale timestamp: any reason is fine, as long as it is a rejection. */
	ck_assert_msg(rc == HOOKD_ERR_MISMATCH || rc == HOOKD_ERR_MALFORMED || rc == HOOKD_ERR_MISSING ||
			  rc == HOOKD_ERR_STALE || rc == HOOKD_ERR_FUTURE,
		      "%s: '%s' gave %d", hookd_config_scheme(cfg), v, rc);
	m->h[sig].value = saved;
	free(v);
}

START_TEST(test_every_scheme_wrong_lengths)
{
	static const char *tails[] = {"A", "0", "=", "==", "AAAA", "00", " ", ",", "\xff"};
	const char *scheme;
	char grown[HOOKD_SIGN_BUF_MAX + 8];
	for (size_t i = 0; (scheme = hookd_scheme_name(i)) != NULL; i++) {
		struct secrets s;
		struct signed_msg m;
		make_secrets(scheme, &s);
		struct hookd_config *a = config_with(scheme, (const char *[]){s.a, NULL});
		sign_msg(a, "x", 1, &m);
		size_t sig = m.n - 1, len = strlen(m.h[sig].value); /* the signature header comes last */
		for (size_t n = 0; n < len; n++)
			try_value(a, &m, sig, m.h[sig].value, n);
		for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
			int n = snprintf(grown, sizeof grown, "%s%s", m.h[sig].value, tails[t]);
			if (strcmp(tails[t], " ") != 0 && strcmp(tails[t], ",") != 0) /* separators leave it valid */
				try_value(a, &m, sig, grown, (size_t)n);
		}
		hookd_config_free(a);
	}
}
END_TEST

START_TEST(test_too_many_candidates)
{
	char list[40 * 48 + 64];
	size_t n = 0;
	load_vector_key();
	struct hookd_config *cfg = config_with("standard", (const char *[]){VEC_SECRET, NULL});
	struct hookd_header h[3] = {{"webhook-id", VEC_ID}, {"webhook-timestamp", VEC_TS_STR}, {"webhook-signature", list}};
	for (int i = 0; i < HOOKD_CANDIDATES_MAX - 1; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "v1,AAAA ");
	snprintf(list + n, sizeof list - n, "%s", VEC_SIG);
	ck_assert_int_eq(hookd_verify(cfg, h, 3, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_OK);
	snprintf(list + n, sizeof list - n, "v1,AAAA %s", VEC_SIG);
	ck_assert_int_eq(hookd_verify(cfg, h, 3, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_ERR_MALFORMED);
	/* Other versions do not count. */
	snprintf(list + n, sizeof list - n, "v2,AAAA %s", VEC_SIG);
	ck_assert_int_eq(hookd_verify(cfg, h, 3, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_OK);
	hookd_config_free(cfg);
}
END_TEST

START_TEST(test_windows)
{
	static const struct {
		const char *scheme;
		int64_t past, future;
	} defaults[] = {{"standard", 300, 300}, {"svix", 300, 300},  {"ed25519", 300, 300},
			{"stripe", 300, -1},    {"split", 300, 300}, {"slack", 300, -1}};
	struct hookd_config *cfg;
	int64_t past, future;
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		ck_assert_int_eq(hookd_config_new(defaults[i].scheme, NULL, &cfg), HOOKD_OK);
		ck_assert_int_eq(hookd_config_window(cfg, &past, &future), HOOKD_OK);
		ck_assert_msg(past == defaults[i].past && future == defaults[i].future, "%s", defaults[i].scheme);
		ck_assert_int_eq(hookd_config_set_window(cfg, -2, 0), HOOKD_ERR_INVALID);
		ck_assert_int_eq(hookd_config_set_window(cfg, 0, -2), HOOKD_ERR_INVALID);
		ck_assert_int_eq(hookd_config_set_window(cfg, HOOKD_WINDOW_NONE, 7), HOOKD_OK);
		ck_assert_int_eq(hookd_config_window(cfg, &past, &future), HOOKD_OK);
		ck_assert_int_eq(past, HOOKD_WINDOW_NONE);
		ck_assert_int_eq(future, 7);
		hookd_config_free(cfg);
	}
	static const char *untimed[] = {"github", "shopify", "hmac", "twilio"};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(hookd_config_new(untimed[i], NULL, &cfg), HOOKD_OK);
		ck_assert_int_eq(hookd_config_set_window(cfg, 1, 1), HOOKD_ERR_INVALID);
		ck_assert_int_eq(hookd_config_window(cfg, &past, &future), HOOKD_ERR_INVALID);
		hookd_config_free(cfg);
	}
	/* The edges of int64 arithmetic. */
	ck_assert_int_eq(hookd__window(0, INT64_MAX, HOOKD_WINDOW_NONE, 0), HOOKD_OK);
	ck_assert_int_eq(hookd__window(0, INT64_MAX, INT64_MAX - 1, 0), HOOKD_ERR_STALE);
	ck_assert_int_eq(hookd__window(INT64_MAX, INT64_MIN, 0, HOOKD_WINDOW_NONE), HOOKD_OK);
	ck_assert_int_eq(hookd__window(INT64_MAX, INT64_MIN, 0, INT64_MAX), HOOKD_ERR_FUTURE);
	ck_assert_int_eq(hookd__window(10, 0, 0, 10), HOOKD_OK);
	ck_assert_int_eq(hookd__window(11, 0, 0, 10), HOOKD_ERR_FUTURE);
	ck_assert_int_eq(hookd__window(0, 10, 10, 0), HOOKD_OK);
	ck_assert_int_eq(hookd__window(0, 11, 10, 0), HOOKD_ERR_STALE);
}
END_TEST

START_TEST(test_config_errors)
{
	struct hookd_config *cfg = NULL;
	char long_name[HOOKD_HEADER_NAME_MAX + 2], secret[HOOKD_SECRET_LEN_MAX + 2];
	ck_assert_int_eq(hookd_config_new(NULL, NULL, &cfg), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_config_new("standard", NULL, NULL), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_config_new("plivo", NULL, &cfg), HOOKD_ERR_INVALID);
	ck_assert_ptr_null(cfg);
	memset(long_name, 'X', sizeof long_name);
	long_name[HOOKD_HEADER_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(hookd_config_new("stripe", &(struct hookd_options){.header = long_name}, &cfg),
			 HOOKD_ERR_INVALID);
	long_name[HOOKD_HEADER_NAME_MAX] = '\0';
	ck_assert_int_eq(hookd_config_new("stripe", &(struct hookd_options){.header = long_name}, &cfg), HOOKD_OK);
	hookd_config_free(cfg);
	ck_assert_int_eq(hookd_config_new("Stripe", &(struct hookd_options){.header = "X-Sig\r\n"}, &cfg),
			 HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_config_new("STANDARDWEBHOOKS", NULL, &cfg), HOOKD_OK);
	ck_assert_str_eq(hookd_config_scheme(cfg), "standard");
	ck_assert_int_eq(hookd_config_add_secret(cfg, NULL), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_config_add_secret(NULL, VEC_SECRET), HOOKD_ERR_INVALID);
	for (int i = 0; i < HOOKD_SECRETS_MAX; i++)
		ck_assert_int_eq(hookd_config_add_secret(cfg, VEC_SECRET), HOOKD_OK);
	ck_assert_int_eq(hookd_config_add_secret(cfg, VEC_SECRET), HOOKD_ERR_NOSPACE);
	hookd_config_free(cfg);
	hookd_config_free(NULL);
	/* String secrets: 1..HOOKD_SECRET_LEN_MAX bytes. */
	ck_assert_int_eq(hookd_config_new("github", NULL, &cfg), HOOKD_OK);
	memset(secret, 's', sizeof secret);
	secret[HOOKD_SECRET_LEN_MAX + 1] = '\0';
	ck_assert_int_eq(hookd_config_add_secret(cfg, secret), HOOKD_ERR_INVALID);
	secret[HOOKD_SECRET_LEN_MAX] = '\0';
	ck_assert_int_eq(hookd_config_add_secret(cfg, secret), HOOKD_OK);
	ck_assert_int_eq(hookd_config_add_secret(cfg, ""), HOOKD_ERR_INVALID);
	hookd_config_free(cfg);
	/* Verify and sign without a secret. */
	ck_assert_int_eq(hookd_config_new("github", NULL, &cfg), HOOKD_OK);
	ck_assert_int_eq(hookd_verify(cfg, NULL, 0, "x", 1, 0), HOOKD_ERR_INVALID);
	struct signed_msg m;
	ck_assert_int_eq(hookd_sign(cfg, NULL, 0, "x", 1, m.h, 3, m.buf, sizeof m.buf), HOOKD_ERR_INVALID);
	hookd_config_free(cfg);
	ck_assert_ptr_null(hookd_scheme_name(100));
}
END_TEST

START_TEST(test_sign_buffers)
{
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	char id[HOOKD_MSG_ID_MAX + 2];
	struct hookd_config *cfg = config_with("standard", (const char *[]){VEC_SECRET, VEC_SECRET, NULL});
	int need = -1;
	/* Every buffer size: NOSPACE until it fits, then the same 3 headers; ASan watches each exact block. */
	for (size_t size = 0; need < 0; size++) {
		char *buf = malloc(size + 1);
		int n = hookd_sign(cfg, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), h, 3, buf, size);
		ck_assert_msg(n == 3 || n == HOOKD_ERR_NOSPACE, "size %zu: %d", size, n);
		if (n == 3)
			need = (int)size;
		free(buf);
	}
	ck_assert_int_lt(need, HOOKD_SIGN_BUF_MAX);
	char buf[HOOKD_SIGN_BUF_MAX];
	ck_assert_int_eq(hookd_sign(cfg, VEC_ID, VEC_TS, VEC_BODY, 20, h, 2, buf, sizeof buf), HOOKD_ERR_NOSPACE);
	ck_assert_int_eq(hookd_sign(cfg, VEC_ID, -1, VEC_BODY, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign(cfg, VEC_ID, VEC_TS, NULL, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign(cfg, NULL, VEC_TS, VEC_BODY, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign(NULL, VEC_ID, VEC_TS, VEC_BODY, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	memset(id, 'a', sizeof id);
	id[HOOKD_MSG_ID_MAX + 1] = '\0';
	ck_assert_int_eq(hookd_sign(cfg, id, VEC_TS, VEC_BODY, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	id[HOOKD_MSG_ID_MAX] = '\0';
	ck_assert_int_eq(hookd_sign(cfg, id, VEC_TS, VEC_BODY, 20, h, 3, buf, sizeof buf), 3);
	ck_assert_int_eq(hookd_sign(cfg, "msg\x7f", VEC_TS, VEC_BODY, 20, h, 3, buf, sizeof buf), HOOKD_ERR_INVALID);
	hookd_config_free(cfg);
	/* The largest output: 8 Ed25519 signatures and the longest id fit in HOOKD_SIGN_BUF_MAX. */
	char sk[HOOKD_KEYTEXT_MAX];
	ck_assert_int_eq(hookd_secret_generate("ed25519", sk, sizeof sk, NULL, 0), HOOKD_OK);
	cfg = config_with("ed25519", (const char *[]){sk, sk, sk, sk, sk, sk, sk, sk, NULL});
	ck_assert_int_eq(hookd_sign(cfg, id, INT64_MAX, VEC_BODY, 20, h, 3, buf, sizeof buf), 3);
	hookd_config_free(cfg);
}
END_TEST

struct pair_lookup {
	const char *names[3], *values[3];
	int calls;
};

static const char *pair_lookup_fn(void *ctx, const char *name)
{
	struct pair_lookup *l = ctx;
	l->calls++;
	for (int i = 0; i < 3; i++)
		if (l->names[i] != NULL && strcmp(l->names[i], name) == 0)
			return l->values[i];
	return NULL;
}

START_TEST(test_verify_lookup)
{
	struct pair_lookup l = {{"webhook-id", "webhook-timestamp", "webhook-signature"}, {VEC_ID, VEC_TS_STR, VEC_SIG}, 0};
	struct hookd_config *cfg = config_with("standard", (const char *[]){VEC_SECRET, NULL});
	ck_assert_int_eq(hookd_verify_lookup(cfg, pair_lookup_fn, &l, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_OK);
	ck_assert_int_eq(l.calls, 3);
	ck_assert_int_eq(hookd_verify_lookup(cfg, NULL, &l, VEC_BODY, 20, VEC_TS), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_lookup(cfg, pair_lookup_fn, &l, NULL, 20, VEC_TS), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_lookup(NULL, pair_lookup_fn, &l, VEC_BODY, 20, VEC_TS), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify(cfg, NULL, 3, VEC_BODY, 20, VEC_TS), HOOKD_ERR_INVALID);
	/* NULL names are skipped; the first of two same-named headers wins. */
	struct hookd_header h[5] = {{NULL, "x"}, {"webhook-id", VEC_ID}, {"webhook-timestamp", VEC_TS_STR},
				    {"webhook-signature", VEC_SIG}, {"webhook-signature", "v1,AAAA"}};
	ck_assert_int_eq(hookd_verify(cfg, h, 5, VEC_BODY, 20, VEC_TS), HOOKD_OK);
	h[3].value = "v1,AAAA";
	h[4].value = VEC_SIG;
	ck_assert_int_eq(hookd_verify(cfg, h, 5, VEC_BODY, 20, VEC_TS), HOOKD_ERR_MISMATCH);
	hookd_config_free(cfg);
}
END_TEST

START_TEST(test_secret_generate)
{
	char sec[HOOKD_KEYTEXT_MAX], pub[HOOKD_KEYTEXT_MAX];
	const char *scheme;
	for (size_t i = 0; (scheme = hookd_scheme_name(i)) != NULL; i++) {
		pub[0] = '\0';
		ck_assert_int_eq(hookd_secret_generate(scheme, sec, sizeof sec, pub, sizeof pub), HOOKD_OK);
		struct hookd_config *cfg = config_with(scheme, (const char *[]){sec, NULL});
		hookd_config_free(cfg);
		if (strcmp(scheme, "ed25519") == 0) {
			ck_assert_int_eq(strncmp(sec, "whsk_", 5), 0);
			ck_assert_uint_eq(strlen(sec), 5 + 88);
			ck_assert_int_eq(strncmp(pub, "whpk_", 5), 0);
			ck_assert_uint_eq(strlen(pub), 5 + 44);
			ck_assert_int_eq(hookd_secret_generate(scheme, sec, 5 + 88, pub, sizeof pub), HOOKD_ERR_NOSPACE);
			ck_assert_int_eq(hookd_secret_generate(scheme, sec, sizeof sec, pub, 5 + 44), HOOKD_ERR_NOSPACE);
		} else if (strcmp(scheme, "standard") == 0 || strcmp(scheme, "svix") == 0) {
			ck_assert_int_eq(strncmp(sec, "whsec_", 6), 0);
			ck_assert_str_eq(pub, "");
		} else {
			ck_assert_uint_eq(strlen(sec), 64);
			ck_assert_int_eq(hookd_secret_generate(scheme, sec, 64, NULL, 0), HOOKD_ERR_NOSPACE);
		}
	}
	ck_assert_int_eq(hookd_secret_generate("nope", sec, sizeof sec, NULL, 0), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_secret_generate("ed25519", NULL, 0, NULL, 0), HOOKD_ERR_INVALID);
}
END_TEST

START_TEST(test_hex)
{
	char out[16];
	uint8_t dec[8], raw[256], back[256];
	char enc[513];
	ck_assert_int_eq(hookd_hex_encode("\x00\x7f\x80\xff", 4, out, sizeof out), 8);
	ck_assert_str_eq(out, "007f80ff");
	ck_assert_int_eq(hookd_hex_encode("abcd", 4, out, 8), -1); /* no room for the NUL */
	ck_assert_int_eq(hookd_hex_decode("007F80fF", 8, dec, sizeof dec), 4);
	ck_assert_mem_eq(dec, "\x00\x7f\x80\xff", 4);
	static const char *bad[] = {"0", "0g", "g0", " 00", "00 ", "0x00", "+0", "\xff\xff", "0\0"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = i == 8 ? 2 : strlen(bad[i]);
		ck_assert_msg(hookd_hex_decode(bad[i], n, dec, sizeof dec) == -1, "accepted \"%s\"", bad[i]);
	}
	ck_assert_int_eq(hookd_hex_decode("0011", 4, dec, 1), -1);
	ck_assert_int_eq(hookd_hex_decode("", 0, NULL, 0), 0);
	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)i;
	ck_assert_int_eq(hookd_hex_encode(raw, 256, enc, sizeof enc), 512);
	ck_assert_int_eq(hookd_hex_decode(enc, 512, back, sizeof back), 256);
	ck_assert_mem_eq(raw, back, 256);
}
END_TEST

/* ---- Twilio: the URL and the form body ------------------------------------------------------------------- */

#define TW_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_FORM "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212"
#define TW_SIG "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
#define FORM_TYPE "application/x-www-form-urlencoded"

/* Sign body as a form sent to url; verify it as a form sent to url2. */
static int twilio_cross(const struct hookd_config *cfg, const char *url, const void *body, size_t len,
			const char *url2, const void *body2, size_t len2)
{
	struct hookd_header h[2];
	char buf[HOOKD_SIGN_BUF_MAX];
	int n = hookd_sign_url(cfg, url, FORM_TYPE, NULL, 0, body, len, h, 1, buf, sizeof buf);
	ck_assert_msg(n == 1, "signing %s gave %d", url, n);
	h[1] = (struct hookd_header){"content-type", FORM_TYPE "; charset=utf-8"};
	return hookd_verify_url(cfg, url2, h, 2, body2, len2, 0);
}

static int twilio_form(const struct hookd_config *cfg, const char *url, const char *body, const char *body2)
{
	return twilio_cross(cfg, url, body, strlen(body), url, body2, strlen(body2));
}

START_TEST(test_twilio_entry_points)
{
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	struct hookd_header h[2] = {{"X-Twilio-Signature", TW_SIG}, {"Content-Type", FORM_TYPE}};
	char buf[HOOKD_SIGN_BUF_MAX];
	size_t n = strlen(TW_FORM);
	ck_assert_int_eq(hookd_verify_url(cfg, TW_URL, h, 2, TW_FORM, n, 0), HOOKD_OK);
	/* The URL is signed: the entry points without one cannot check or make a signature. */
	ck_assert_int_eq(hookd_verify(cfg, h, 2, TW_FORM, n, 0), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_url(cfg, NULL, h, 2, TW_FORM, n, 0), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_url(cfg, "", h, 2, TW_FORM, n, 0), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_verify_url(cfg, TW_URL, h, 2, NULL, n, 0), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign(cfg, NULL, 0, TW_FORM, n, h, 1, buf, sizeof buf), HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign_url(cfg, NULL, FORM_TYPE, NULL, 0, TW_FORM, n, h, 1, buf, sizeof buf),
			 HOOKD_ERR_INVALID);
	ck_assert_int_eq(hookd_sign_url(cfg, TW_URL, FORM_TYPE, NULL, 0, TW_FORM, n, h, 0, buf, sizeof buf),
			 HOOKD_ERR_NOSPACE);
	ck_assert_int_eq(hookd_sign_url(cfg, TW_URL, FORM_TYPE, NULL, 0, TW_FORM, n, h, 1, buf, 20), HOOKD_ERR_NOSPACE);
	ck_assert_int_eq(hookd_sign_url(cfg, TW_URL, FORM_TYPE, NULL, 0, TW_FORM, n, h, 1, buf, sizeof buf), 1);
	ck_assert_str_eq(h[0].name, "X-Twilio-Signature");
	ck_assert_str_eq(h[0].value, TW_SIG);
	/* The lookup variant finds the Content-Type through the callback. */
	struct pair_lookup l = {{"X-Twilio-Signature", "Content-Type", NULL}, {TW_SIG, FORM_TYPE, NULL}, 0};
	ck_assert_int_eq(hookd_verify_lookup_url(cfg, TW_URL, pair_lookup_fn, &l, TW_FORM, n, 0), HOOKD_OK);
	ck_assert_int_eq(hookd_verify_lookup(cfg, pair_lookup_fn, &l, TW_FORM, n, 0), HOOKD_ERR_INVALID);
	l.values[1] = "application/x-www-form-urlencodedx";
	ck_assert_int_eq(hookd_verify_lookup_url(cfg, TW_URL, pair_lookup_fn, &l, TW_FORM, n, 0), HOOKD_ERR_MISSING);
	l.values[1] = "";
	ck_assert_int_eq(hookd_verify_lookup_url(cfg, TW_URL, pair_lookup_fn, &l, TW_FORM, n, 0), HOOKD_ERR_MISSING);
	hookd_config_free(cfg);
	/* Other schemes ignore the URL and the content type. */
	load_vector_key();
	cfg = config_with("standard", (const char *[]){VEC_SECRET, NULL});
	struct hookd_header v[3] = {{"webhook-id", VEC_ID}, {"webhook-timestamp", VEC_TS_STR}, {"webhook-signature", VEC_SIG}};
	ck_assert_int_eq(hookd_verify_url(cfg, NULL, v, 3, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_OK);
	ck_assert_int_eq(hookd_verify_url(cfg, "https://x/", v, 3, VEC_BODY, strlen(VEC_BODY), VEC_TS), HOOKD_OK);
	struct hookd_header o[3];
	ck_assert_int_eq(hookd_sign_url(cfg, NULL, FORM_TYPE, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), o, 3, buf,
					sizeof buf),
			 3);
	ck_assert_str_eq(o[2].value, VEC_SIG);
	hookd_config_free(cfg);
}
END_TEST

/* Every byte of the documented form flipped: a rejection each time (a flip may also break an escape). */
START_TEST(test_twilio_form_flips)
{
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	char body[sizeof TW_FORM];
	for (size_t i = 0; i < strlen(TW_FORM); i++) {
		memcpy(body, TW_FORM, sizeof body);
		body[i] ^= 0x01;
		int rc = twilio_form(cfg, TW_URL, TW_FORM, body);
		ck_assert_msg(rc == HOOKD_ERR_MISMATCH || rc == HOOKD_ERR_MALFORMED, "byte %zu: %d", i, rc);
	}
	for (size_t i = 0; i < strlen(TW_URL); i++) {
		char url[sizeof TW_URL];
		memcpy(url, TW_URL, sizeof url);
		url[i] ^= 0x01;
		ck_assert_msg(twilio_form(cfg, url, TW_FORM, TW_FORM) == HOOKD_OK, "%s", url);
		ck_assert_msg(twilio_cross(cfg, TW_URL, TW_FORM, strlen(TW_FORM), url, TW_FORM, strlen(TW_FORM)) ==
				  HOOKD_ERR_MISMATCH,
			      "URL byte %zu", i);
	}
	hookd_config_free(cfg);
}
END_TEST

START_TEST(test_twilio_form_rules)
{
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	static const char *const same[][2] = {
	    {"a=1", "a=1&a=1"},             /* a repeated value counts once */
	    {"a=1&a=2", "a=2&a=1&a=2"},      /* values sorted */
	    {"a=x y", "a=x+y"},              /* '+' is a space */
	    {"a=x+y", "a=x%20y"},
	    {"a=%2b", "a=%2B"},              /* escapes in either case */
	    {"a", "a="},                     /* a name alone has an empty value */
	    {"a=1&b=2", "&&b=2&&a=1&&"},     /* empty fields are nothing */
	    {"a=%00&b=%00%01", "b=%00%01&a=%00"}, /* NUL bytes decoded */
	    {"ab=c", "a=bc"},                /* no delimiters: Twilio's own ambiguity */
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		ck_assert_msg(twilio_form(cfg, "https://e.com/h", same[i][0], same[i][1]) == HOOKD_OK, "%s vs %s",
			      same[i][0], same[i][1]);
	static const char *const differ[][2] = {
	    {"a=1&a=2", "a=1"}, {"a=x+y", "a=x%2By"}, {"a=1", "A=1"}, {"a=1&b=2", "a=1&b=2&c="},
	};
	for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++)
		ck_assert_msg(twilio_form(cfg, "https://e.com/h", differ[i][0], differ[i][1]) == HOOKD_ERR_MISMATCH,
			      "%s vs %s", differ[i][0], differ[i][1]);
	static const char *const bad[] = {"a=%", "a=%1", "a=%1g", "%zz=1", "a=1&b=%%31", "a=%C3%A"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(twilio_form(cfg, "https://e.com/h", "a=1", bad[i]) == HOOKD_ERR_MALFORMED, "%s", bad[i]);
	hookd_config_free(cfg);
}
END_TEST

START_TEST(test_twilio_ports)
{
	static const struct {
		const char *signed_url, *checked_url;
		int rc;
	} cases[] = {
	    {"https://example.com/h", "https://example.com:443/h", HOOKD_OK},
	    {"https://example.com:443/h", "https://example.com/h", HOOKD_OK},
	    {"http://example.com/h", "http://example.com:80/h", HOOKD_OK},
	    {"HTTPS://Example.com/h", "HTTPS://Example.com:443/h", HOOKD_OK},
	    {"https://example.com", "https://example.com:443", HOOKD_OK},
	    {"https://example.com?x=1", "https://example.com:443?x=1", HOOKD_OK},
	    {"https://example.com#f", "https://example.com:443#f", HOOKD_OK},
	    {"https://u:p@example.com:443/h", "https://u:p@example.com/h", HOOKD_OK},
	    {"https://[::1]/h", "https://[::1]:443/h", HOOKD_OK},
	    {"https://[::1]:443/h", "https://[::1]/h", HOOKD_OK},
	    {"https://example.com/h", "https://example.com:80/h", HOOKD_ERR_MISMATCH},
	    {"http://example.com/h", "http://example.com:443/h", HOOKD_ERR_MISMATCH},
	    {"https://example.com:8443/h", "https://example.com/h", HOOKD_ERR_MISMATCH},
	    {"https://example.com/h", "https://example.com:8443/h", HOOKD_ERR_MISMATCH},
	    {"https://example.com:443/h", "https://example.com:80/h", HOOKD_ERR_MISMATCH},
	    {"wss://example.com/h", "wss://example.com:443/h", HOOKD_ERR_MISMATCH},
	    {"https://example.com/h", "https://example.com/h:443", HOOKD_ERR_MISMATCH},
	    {"https://example.com/h", "https://example.com.:443/h", HOOKD_ERR_MISMATCH},
	    {"https://example.com/h", "https://EXAMPLE.com/h", HOOKD_ERR_MISMATCH}, /* signed as given */
	};
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = twilio_cross(cfg, cases[i].signed_url, "A=1", 3, cases[i].checked_url, "A=1", 3);
		ck_assert_msg(rc == cases[i].rc, "signed %s, checked %s: %d", cases[i].signed_url, cases[i].checked_url,
			      rc);
	}
	hookd_config_free(cfg);
}
END_TEST

/* The caps: HOOKD_URL_MAX bytes of URL, HOOKD_FORM_PARAMS_MAX parameters; each variant in a block of its exact
 * size. */
START_TEST(test_twilio_caps)
{
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	char *url = malloc(HOOKD_URL_MAX + 2), *form = malloc(4 * HOOKD_FORM_PARAMS_MAX + 8);
	struct hookd_header h[2];
	char buf[HOOKD_SIGN_BUF_MAX];
	ck_assert_ptr_nonnull(url);
	ck_assert_ptr_nonnull(form);
	memset(url, 'a', HOOKD_URL_MAX + 1);
	memcpy(url, "https://e.com/", 14);
	url[HOOKD_URL_MAX] = '\0';
	ck_assert_int_eq(twilio_form(cfg, url, "a=1", "a=1"), HOOKD_OK);
	url[HOOKD_URL_MAX] = 'a';
	url[HOOKD_URL_MAX + 1] = '\0';
	ck_assert_int_eq(hookd_sign_url(cfg, url, FORM_TYPE, NULL, 0, "a=1", 3, h, 1, buf, sizeof buf), HOOKD_ERR_INVALID);
	h[0] = (struct hookd_header){"X-Twilio-Signature", TW_SIG};
	h[1] = (struct hookd_header){"Content-Type", FORM_TYPE};
	ck_assert_int_eq(hookd_verify_url(cfg, url, h, 2, "a=1", 3, 0), HOOKD_ERR_MALFORMED);
	size_t n = 0;
	for (int i = 0; i < HOOKD_FORM_PARAMS_MAX; i++)
		n += (size_t)sprintf(form + n, "&a=%c", 'a' + i % 26);
	ck_assert_int_eq(twilio_form(cfg, "https://e.com/h", form, form), HOOKD_OK);
	strcpy(form + n, "&&");
	ck_assert_int_eq(twilio_form(cfg, "https://e.com/h", form, form), HOOKD_OK);
	strcpy(form + n, "&b");
	ck_assert_int_eq(twilio_form(cfg, "https://e.com/h", "a=1", form), HOOKD_ERR_MALFORMED);
	ck_assert_int_eq(hookd_sign_url(cfg, "https://e.com/h", FORM_TYPE, NULL, 0, form, strlen(form), h, 1, buf,
					sizeof buf),
			 HOOKD_ERR_INVALID);
	free(url);
	free(form);
	hookd_config_free(cfg);
}
END_TEST

/* A JSON body: the URL carries its hash; any other body, or none, under that URL fails. */
START_TEST(test_twilio_body_hash)
{
	static const char body[] = "{\"a\":1}";
	struct hookd_config *cfg = config_with("twilio", (const char *[]){"12345", NULL});
	struct signed_msg m;
	sign_msg(cfg, body, strlen(body), &m);
	ck_assert_int_eq(verify_msg(cfg, &m, body, strlen(body)), HOOKD_OK);
	ck_assert_int_eq(verify_msg(cfg, &m, "", 0), HOOKD_ERR_MISMATCH);
	ck_assert_int_eq(verify_msg(cfg, &m, "{\"a\":2}", 7), HOOKD_ERR_MISMATCH);
	/* The hash's parameter may come first, or bare; only the first one counts. */
	char url[256];
	struct hookd_header h[HOOKD_SIGN_HEADERS_MAX];
	char buf[HOOKD_SIGN_BUF_MAX];
	snprintf(url, sizeof url, "https://e.com/h?%s&x=1", strchr(m.url, '?') + 1);
	ck_assert_int_eq(hookd_sign_url(cfg, url, NULL, NULL, 0, body, strlen(body), h, 1, buf, sizeof buf), 1);
	ck_assert_int_eq(hookd_verify_url(cfg, url, h, 1, body, strlen(body), 0), HOOKD_OK);
	snprintf(url, sizeof url, "https://e.com/h?bodySHA256&%s", strchr(m.url, '?') + 1);
	ck_assert_int_eq(hookd_sign_url(cfg, url, NULL, NULL, 0, body, strlen(body), h, 1, buf, sizeof buf),
			 HOOKD_ERR_INVALID);
	snprintf(url, sizeof url, "https://e.com/h?xbodySHA256=1&%s#bodySHA256=2", strchr(m.url, '?') + 1);
	ck_assert_int_eq(hookd_sign_url(cfg, url, NULL, NULL, 0, body, strlen(body), h, 1, buf, sizeof buf), 1);
	/* A hash after the fragment is not in the query. */
	snprintf(url, sizeof url, "https://e.com/h#?%s", strchr(m.url, '?') + 1);
	ck_assert_int_eq(hookd_sign_url(cfg, url, NULL, NULL, 0, body, strlen(body), h, 1, buf, sizeof buf),
			 HOOKD_ERR_INVALID);
	hookd_config_free(cfg);
}
END_TEST

Suite *sign_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("v1");
	tcase_add_test(tc, test_vector_sign);
	tcase_add_test(tc, test_vector_verify);
	tcase_add_test(tc, test_secret_prefix_optional);
	tcase_add_test(tc, test_missing_headers);
	tcase_add_test(tc, test_bad_signatures);
	tcase_add_test(tc, test_list_one_valid);
	tcase_add_test(tc, test_timestamp_window);
	tcase_add_test(tc, test_timestamp_malformed);
	tcase_add_test(tc, test_binary_bodies);
	tcase_add_test(tc, test_matches_oneshot_hmac);
	tcase_add_test(tc, test_sign_args);
	tcase_add_test(tc, test_bad_secrets);
	tcase_add_test(tc, test_secret_lengths);
	tcase_add_test(tc, test_secret_new);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	TCase *b64 = tcase_create("base64");
	tcase_add_test(b64, test_base64_rfc4648);
	tcase_add_test(b64, test_base64_rejects);
	tcase_add_test(b64, test_base64_buffers);
	tcase_add_test(b64, test_base64_all_bytes);
	tcase_add_test(b64, test_hex);
	suite_add_tcase(s, b64);
	TCase *sch = tcase_create("schemes");
	tcase_add_test(sch, test_cases);
	tcase_add_test(sch, test_every_scheme_round_trip);
	tcase_add_test(sch, test_every_scheme_rotation);
	tcase_add_test(sch, test_every_scheme_missing_headers);
	tcase_add_test(sch, test_every_scheme_wrong_lengths);
	tcase_add_test(sch, test_too_many_candidates);
	tcase_add_test(sch, test_windows);
	tcase_add_test(sch, test_config_errors);
	tcase_add_test(sch, test_sign_buffers);
	tcase_add_test(sch, test_verify_lookup);
	tcase_add_test(sch, test_secret_generate);
	suite_add_tcase(s, sch);
	TCase *tw = tcase_create("twilio");
	tcase_add_test(tw, test_twilio_entry_points);
	tcase_add_test(tw, test_twilio_form_flips);
	tcase_add_test(tw, test_twilio_form_rules);
	tcase_add_test(tw, test_twilio_ports);
	tcase_add_test(tw, test_twilio_caps);
	tcase_add_test(tw, test_twilio_body_hash);
	suite_add_tcase(s, tw);
	return s;
}
