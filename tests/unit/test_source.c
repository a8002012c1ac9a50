/* test_source.c: inbound sources: SourceIn validation and defaults, dedup keys, content types, headers. */
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "tests.h"

static json_t *valid(const char *text)
{
	json_t *in = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(in);
	struct verr ve = {0};
	json_t *out = source_validate(in, &ve);
	json_decref(in);
	if (out == NULL)
		verr_dispose(&ve);
	return out;
}

START_TEST(test_validate_defaults)
{
	json_t *s = valid("{\"name\":\"s\",\"scheme\":\"stripe\",\"secrets\":[\"whsec_x\"],"
			  "\"destinations\":[{\"url\":\"http://127.0.0.1:1/\"}]}");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "dedup"), "jsonPointer")), "/id");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "dedupWindow")), 86400);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "maxBody")), 1048576);
	ck_assert(json_is_null(json_object_get(s, "contentTypes")));
	json_decref(s);
	s = valid("{\"name\":\"s\",\"scheme\":\"github\",\"secrets\":[\"x\"],\"destinations\":[{\"url\":\"https://a\"}]}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "dedup"), "header")), "X-GitHub-Delivery");
	json_decref(s);
	s = valid("{\"name\":\"s\",\"scheme\":\"none\",\"destinations\":[{\"url\":\"https://a\"}]}");
	ck_assert(json_is_true(json_object_get(json_object_get(s, "dedup"), "bodyHash")));
	json_decref(s);
}
END_TEST

START_TEST(test_validate_rejects)
{
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"nope\",\"secrets\":[\"x\"],\"destinations\":[{\"url\":\"http://a\"}]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"standard\",\"secrets\":[\"whsec_!!\"],\"destinations\":[{\"url\":\"http://a\"}]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"stripe\",\"destinations\":[{\"url\":\"http://a\"}]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"stripe\",\"secrets\":[\"x\"],\"destinations\":[]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"stripe\",\"secrets\":[\"x\"],\"destinations\":[{\"url\":\"ftp://a\"}]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"github\",\"secrets\":[\"x\"],\"tolerance\":5,\"destinations\":[{\"url\":\"http://a\"}]}"));
	ck_assert_ptr_null(valid("{\"name\":\"s\",\"scheme\":\"none\",\"dedup\":{\"jsonPointer\":\"id\"},\"destinations\":[{\"url\":\"http://a\"}]}"));
}
END_TEST

START_TEST(test_validate_options_and_rewrites)
{
	json_t *s = valid("{\"name\":\"s\",\"scheme\":\"stripe\",\"secrets\":[\"x\"],"
			  "\"schemeOptions\":{\"header\":\"X-FC-Signature\"},\"publicUrl\":\"https://h/in/x\","
			  "\"destinations\":[{\"url\":\"http://a\",\"headers\":{\"x-a\":\"1\",\"stripe-signature\":null}}]}");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "schemeOptions"), "header")),
			 "X-FC-Signature");
	ck_assert_str_eq(json_string_value(json_object_get(s, "publicUrl")), "https://h/in/x");
	json_t *h = json_object_get(json_array_get(json_object_get(s, "destinations"), 0), "headers");
	ck_assert(json_is_null(json_object_get(h, "stripe-signature")));
	json_decref(s);
	/* an id header option is the default dedup header; twilio dedups on its idempotency token */
	s = valid("{\"name\":\"s\",\"scheme\":\"standard\",\"secrets\":[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"],"
		  "\"schemeOptions\":{\"idHeader\":\"x-id\"},\"destinations\":[{\"url\":\"http://a\"}]}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "dedup"), "header")), "x-id");
	json_decref(s);
	s = valid("{\"name\":\"s\",\"scheme\":\"twilio\",\"secrets\":[\"t\"],\"destinations\":[{\"url\":\"http://a\"}]}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "dedup"), "header")),
			 "I-Twilio-Idempotency-Token");
	json_decref(s);
	const char *const bad[] = {
		"\"scheme\":\"github\",\"secrets\":[\"x\"],\"schemeOptions\":{\"hash\":\"sha1\"}",
		"\"scheme\":\"stripe\",\"secrets\":[\"x\"],\"schemeOptions\":{\"nope\":\"x\"}",
		"\"scheme\":\"none\",\"schemeOptions\":{\"header\":\"x\"}",
		"\"scheme\":\"none\",\"publicUrl\":\"https://h/in?x=1\"",
		"\"scheme\":\"none\",\"publicUrl\":\"h/in\"",
	};
	char text[512];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{\"name\":\"s\",%s,\"destinations\":[{\"url\":\"http://a\"}]}", bad[i]);
		ck_assert_msg(valid(text) == NULL, "accepted %s", bad[i]);
	}
	const char *const bad_headers[] = {"{\"bad name\":\"x\"}", "{\"x\":1}", "{\"x\":\"a\\r\\nb\"}", "[]"};
	for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
		snprintf(text, sizeof text,
			 "{\"name\":\"s\",\"scheme\":\"none\",\"destinations\":[{\"url\":\"http://a\",\"headers\":%s}]}",
			 bad_headers[i]);
		ck_assert_msg(valid(text) == NULL, "accepted headers %s", bad_headers[i]);
	}
}
END_TEST

START_TEST(test_reject_budget)
{
	json_t *cfg = valid("{\"name\":\"s\",\"scheme\":\"none\",\"destinations\":[{\"url\":\"http://a\"}]}");
	json_object_set_new(cfg, "id", json_string("src_x"));
	json_object_set_new(cfg, "appId", json_string("app_x"));
	struct source *s = source_new(cfg);
	ck_assert_ptr_nonnull(s);
	int ok = 0;
	for (int i = 0; i < 3 * SOURCE_REJECT_BURST; i++)
		ok += source_reject_budget(s, 1000000);
	ck_assert_int_eq(ok, SOURCE_REJECT_BURST); /* a burst, then nothing in the same ms */
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += source_reject_budget(s, 1000000 + 1000); /* a second later: RATE more */
	ck_assert_int_eq(ok, SOURCE_REJECT_RATE);
	source_unref(s);
}
END_TEST

START_TEST(test_dedup_key)
{
	const char *body = "{\"id\":\"evt_1\",\"data\":{\"n\":42,\"a/b\":\"x\"}}";
	char *k = source_dedup_key(DEDUP_POINTER, "/id", NULL, body, strlen(body));
	ck_assert_str_eq(k, "evt_1");
	free(k);
	k = source_dedup_key(DEDUP_POINTER, "/data/n", NULL, body, strlen(body));
	ck_assert_str_eq(k, "42");
	free(k);
	k = source_dedup_key(DEDUP_POINTER, "/data/a~1b", NULL, body, strlen(body));
	ck_assert_str_eq(k, "x");
	free(k);
	k = source_dedup_key(DEDUP_POINTER, "/missing", NULL, body, strlen(body));
	ck_assert(strncmp(k, "sha256:", 7) == 0 && strlen(k) == 7 + 64);
	free(k);
	k = source_dedup_key(DEDUP_HEADER, "X-Id", "abc", body, strlen(body));
	ck_assert_str_eq(k, "abc");
	free(k);
	k = source_dedup_key(DEDUP_HEADER, "X-Id", "a\nb", "", 0);
	ck_assert_str_eq(k, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(k);
	k = source_dedup_key(DEDUP_POINTER, "/id", NULL, "not json", 8);
	ck_assert(strncmp(k, "sha256:", 7) == 0);
	free(k);
}
END_TEST

START_TEST(test_content_type_and_headers)
{
	struct strlist any = {0}, json = {0};
	strlist_add(&json, "application/json");
	ck_assert(source_content_type_ok(&any, NULL));
	ck_assert(source_content_type_ok(&json, "application/json; charset=utf-8"));
	ck_assert(source_content_type_ok(&json, "Application/JSON"));
	ck_assert(!source_content_type_ok(&json, "application/jsonx"));
	ck_assert(!source_content_type_ok(&json, NULL));
	strlist_dispose(&json);
	ck_assert(source_header_recorded("Stripe-Signature"));
	ck_assert(!source_header_recorded("Authorization"));
	ck_assert(!source_header_recorded("content-length"));
	ck_assert(source_header_forwarded("x-github-event"));
	ck_assert(!source_header_forwarded("x-hookd-source"));
	ck_assert(!source_header_forwarded("content-type"));
}
END_TEST

Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_validate_defaults);
	tcase_add_test(tc, test_validate_rejects);
	tcase_add_test(tc, test_validate_options_and_rewrites);
	tcase_add_test(tc, test_reject_budget);
	tcase_add_test(tc, test_dedup_key);
	tcase_add_test(tc, test_content_type_and_headers);
	suite_add_tcase(s, tc);
	return s;
}
