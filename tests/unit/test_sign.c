/* test_sign.c: libhookd signing, verification and base64, against the Standard Webhooks test vector, the
 * negative cases in docs (signatures.md) and an independent one-shot HMAC. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hookd.h"
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
	for (int e = HOOKD_ERR_CRYPTO; e <= HOOKD_OK; e++) {
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
	suite_add_tcase(s, b64);
	return s;
}
