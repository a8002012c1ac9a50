/* test_seal.c: secrets at rest: round trip, key ids, wrong and previous keys, tampering, plaintext from before,
 * the model's fields and the re-seal of stored columns. */
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "tests.h"

#define KEY_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* 32 zero bytes */
#define ID_A "66687aad"
#define KEY_B "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* bytes 0..31 */
#define ID_B "630dcd29"
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static void keys(const char *cur, const char *prev)
{
	char err[256] = "";
	ck_assert_msg(seal_keys_set(cur, prev, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_seal_key_id)
{
	char err[256] = "";
	keys(KEY_A, NULL);
	ck_assert_str_eq(seal_current_id(), ID_A);
	keys(KEY_B, KEY_A);
	ck_assert_str_eq(seal_current_id(), ID_B);
	keys("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", NULL); /* no padding, a newline: a key file's line */
	ck_assert_str_eq(seal_current_id(), ID_B);
	static const char *const bad[] = {"", "AAAA", KEY_A "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
					  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*="};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(seal_keys_set(bad[i], NULL, err, sizeof err) == -1, "accepted '%s'", bad[i]);
	ck_assert_int_eq(seal_keys_set(KEY_A, KEY_B ",nope", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "key 2"));
	ck_assert_str_eq(seal_current_id(), ID_B); /* a failed set changes nothing */
	char fresh[64];
	ck_assert_int_eq(seal_key_new(fresh), 0);
	keys(fresh, NULL);
	ck_assert_uint_eq(strlen(seal_current_id()), SEAL_KEYID_LEN);
	seal_keys_clear();
	ck_assert(!seal_enabled());
}
END_TEST

START_TEST(test_seal_round_trip)
{
	char err[256] = "", *plain = NULL;
	keys(KEY_A, NULL);
	char *s1 = seal_value(SECRET), *s2 = seal_value(SECRET);
	ck_assert(seal_is_sealed(s1));
	ck_assert_int_eq(strncmp(s1, SEAL_PREFIX ID_A ":", strlen(SEAL_PREFIX ID_A ":")), 0);
	ck_assert_str_ne(s1, s2); /* a fresh nonce each time */
	ck_assert_ptr_null(strstr(s1, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
	ck_assert_int_eq(seal_open(s1, &plain, err, sizeof err), 0);
	ck_assert_str_eq(plain, SECRET);
	free(plain);
	char *empty = seal_value("");
	ck_assert_int_eq(seal_open(empty, &plain, err, sizeof err), 0);
	ck_assert_str_eq(plain, "");
	free(plain);
	free(empty);
	free(s1);
	free(s2);
	seal_keys_clear();
}
END_TEST

START_TEST(test_seal_wrong_key)
{
	char err[256] = "", *plain = NULL;
	keys(KEY_A, NULL);
	char *s = seal_value(SECRET);
	keys(KEY_B, NULL);
	ck_assert_int_eq(seal_open(s, &plain, err, sizeof err), -1);
	ck_assert_ptr_null(plain);
	ck_assert_msg(strstr(err, "key id " ID_A) != NULL, "%s", err);
	keys(KEY_B, KEY_A); /* rotation: the old key still opens */
	ck_assert_int_eq(seal_open(s, &plain, err, sizeof err), 0);
	ck_assert_str_eq(plain, SECRET);
	free(plain);
	seal_keys_clear();
	ck_assert_int_eq(seal_open(s, &plain, err, sizeof err), -1); /* no key at all */
	free(s);
}
END_TEST

START_TEST(test_seal_tampered)
{
	char err[256] = "", *plain = NULL;
	keys(KEY_A, KEY_B);
	char *s = seal_value(SECRET);
	size_t n = strlen(s), head = strlen(SEAL_PREFIX ID_A ":");
	/* a byte of the nonce, of the ciphertext, of the tag (base64 digits: 'A' <-> 'B' changes the bits) */
	size_t at[] = {head + 2, head + 20, n - 6};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		char *t = strdup(s);
		t[at[i]] = t[at[i]] == 'A' ? 'B' : 'A';
		ck_assert_msg(seal_open(t, &plain, err, sizeof err) == -1, "tampered at %zu opened", at[i]);
		ck_assert_ptr_null(plain);
		free(t);
	}
	/* the key id is authenticated: another known key's id does not open it */
	char *t = strdup(s);
	memcpy(t + strlen(SEAL_PREFIX), ID_B, SEAL_KEYID_LEN);
	ck_assert_int_eq(seal_open(t, &plain, err, sizeof err), -1);
	free(t);
	/* cut short, or not base64 */
	t = strndup(s, head + 8);
	ck_assert_int_eq(seal_open(t, &plain, err, sizeof err), -1);
	free(t);
	ck_assert_int_eq(seal_open(SEAL_PREFIX ID_A ":!!!!", &plain, err, sizeof err), -1);
	ck_assert_int_eq(seal_open(SEAL_PREFIX "xyz", &plain, err, sizeof err), -1);
	free(s);
	seal_keys_clear();
}
END_TEST

START_TEST(test_seal_plaintext)
{
	char err[256] = "", *plain = NULL;
	/* a value from before sealing is passed through, with or without a key */
	ck_assert_int_eq(seal_open(SECRET, &plain, err, sizeof err), 0);
	ck_assert_str_eq(plain, SECRET);
	free(plain);
	keys(KEY_A, NULL);
	ck_assert_int_eq(seal_open("Bearer abc", &plain, err, sizeof err), 0);
	ck_assert_str_eq(plain, "Bearer abc");
	free(plain);
	seal_keys_clear();
	char *s = seal_value(SECRET); /* no key: stored as it is */
	ck_assert_str_eq(s, SECRET);
	free(s);
}
END_TEST

START_TEST(test_seal_endpoint)
{
	char err[256] = "";
	keys(KEY_A, NULL);
	struct endpoint e = {0};
	e.secret = strdup(SECRET);
	e.headers = json_pack("{s:s,s:s}", "Authorization", "Bearer marker-123", "X-Other", "x");
	e.old_secrets = json_pack("[{s:s,s:I}]", "key", "whsec_old", "expiresAt", (json_int_t)42);
	struct sealed_endpoint se;
	seal_endpoint(&e, &se);
	ck_assert(seal_is_sealed(se.secret));
	ck_assert(seal_is_sealed(json_string_value(json_object_get(se.headers, "Authorization"))));
	ck_assert(seal_is_sealed(json_string_value(json_object_get(json_array_get(se.old_secrets, 0), "key"))));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(se.old_secrets, 0), "expiresAt")), 42);
	ck_assert_str_eq(json_string_value(json_object_get(e.headers, "Authorization")), "Bearer marker-123");
	struct endpoint back = {0};
	back.secret = strdup(se.secret);
	back.headers = json_deep_copy(se.headers);
	back.old_secrets = json_deep_copy(se.old_secrets);
	ck_assert_int_eq(seal_endpoint_open(&back, err, sizeof err), 0);
	ck_assert_str_eq(back.secret, SECRET);
	ck_assert(json_equal(back.headers, e.headers));
	ck_assert(json_equal(back.old_secrets, e.old_secrets));
	keys(KEY_B, NULL);
	struct endpoint other = {0};
	other.headers = json_deep_copy(se.headers);
	ck_assert_int_eq(seal_endpoint_open(&other, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ID_A));
	json_decref(other.headers);
	seal_endpoint_dispose(&se);
	endpoint_dispose(&back);
	endpoint_dispose(&e);
	seal_keys_clear();
}
END_TEST

START_TEST(test_seal_source)
{
	char err[256] = "", *back = NULL;
	keys(KEY_A, NULL);
	const char *cfg = "{\"name\":\"s\",\"secrets\":[\"ghs-marker\"],\"destinations\":[{\"url\":\"http://x\","
			  "\"headers\":{\"X-Token\":\"tok-marker\",\"X-Drop\":null}}]}";
	char *sealed = seal_source(cfg);
	ck_assert_ptr_null(strstr(sealed, "marker"));
	ck_assert_ptr_nonnull(strstr(sealed, "\"X-Drop\":null"));
	ck_assert_int_eq(seal_source_open(sealed, &back, err, sizeof err), 0);
	json_t *a = json_loads(cfg, 0, NULL), *b = json_loads(back, 0, NULL);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(back);
	ck_assert_ptr_null(seal_source("[1]"));
	free(sealed);
	seal_keys_clear();
}
END_TEST

START_TEST(test_seal_reseal)
{
	char err[256] = "", *out = NULL;
	int64_t values = 0;
	keys(KEY_A, NULL);
	/* plaintext: sealed by the start-up pass */
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, SECRET, SEAL_PLAINTEXT, &out, &values, err, sizeof err), 0);
	ck_assert(seal_is_sealed(out));
	ck_assert_int_eq(values, 1);
	char *sealed_a = out;
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, sealed_a, SEAL_PLAINTEXT, &out, &values, err, sizeof err), 0);
	ck_assert_ptr_null(out); /* already sealed: left alone */
	ck_assert_int_eq(seal_reseal(SEAL_COL_HEADERS, "{\"A\":\"b\",\"C\":\"d\"}", SEAL_PLAINTEXT, &out, &values, err,
				     sizeof err), 0);
	ck_assert_int_eq(values, 3);
	free(out);
	ck_assert_int_eq(seal_reseal(SEAL_COL_HEADERS, "{}", SEAL_PLAINTEXT, &out, &values, err, sizeof err), 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(seal_reseal(SEAL_COL_OLD_SECRETS, NULL, SEAL_PLAINTEXT, &out, &values, err, sizeof err), 0);
	ck_assert_ptr_null(out);
	/* rekey: key B current, A previous: A's values move to B */
	keys(KEY_B, KEY_A);
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, sealed_a, SEAL_PLAINTEXT, &out, &values, err, sizeof err), 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, sealed_a, SEAL_NOT_CURRENT, &out, &values, err, sizeof err), 0);
	ck_assert_int_eq(strncmp(out, SEAL_PREFIX ID_B, strlen(SEAL_PREFIX ID_B)), 0);
	ck_assert_int_eq(values, 4);
	char *sealed_b = out;
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, sealed_b, SEAL_NOT_CURRENT, &out, &values, err, sizeof err), 0);
	ck_assert_ptr_null(out);
	/* a value of a key this process lacks fails, naming the key id */
	keys(KEY_B, NULL);
	ck_assert_int_eq(seal_reseal(SEAL_COL_SECRET, sealed_a, SEAL_PLAINTEXT, &out, &values, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "key id " ID_A));
	free(sealed_a);
	free(sealed_b);
	seal_keys_clear();
}
END_TEST

Suite *seal_suite(void)
{
	Suite *s = suite_create("seal");
	TCase *tc = tcase_create("seal");
	tcase_add_test(tc, test_seal_key_id);
	tcase_add_test(tc, test_seal_round_trip);
	tcase_add_test(tc, test_seal_wrong_key);
	tcase_add_test(tc, test_seal_tampered);
	tcase_add_test(tc, test_seal_plaintext);
	tcase_add_test(tc, test_seal_endpoint);
	tcase_add_test(tc, test_seal_source);
	tcase_add_test(tc, test_seal_reseal);
	suite_add_tcase(s, tc);
	return s;
}
