/* test_json.c: request validation (422 details) and the wire shape of objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "seal.h"
#include "tests.h"
#include "util.h"

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(test_verr_body_shape)
{
	struct verr ve = {0};
	ck_assert(!verr_any(&ve));
	verr_add(&ve, "url", "field required", "value_error.missing");
	ck_assert(verr_any(&ve));
	char *body = verr_body(&ve);
	json_t *j = parse(body);
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_error");
	json_t *d = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "loc"), 0)), "body");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "loc"), 1)), "url");
	ck_assert_str_eq(json_string_value(json_object_get(d, "type")), "value_error.missing");
	json_decref(j);
	free(body);
}
END_TEST

START_TEST(test_error_body)
{
	char *body = json_error_body("not_found", "Entity not found");
	ck_assert_str_eq(body, "{\"code\":\"not_found\",\"detail\":\"Entity not found\"}");
	free(body);
}
END_TEST

START_TEST(test_jfield_string)
{
	json_t *o = parse("{\"a\":\"x\",\"b\":5,\"c\":null,\"d\":\"\"}");
	struct verr ve = {0};
	const char *s = NULL;
	ck_assert(jfield_string(o, "a", 1, 10, &ve, &s));
	ck_assert_str_eq(s, "x");
	ck_assert(!jfield_string(o, "missing", 1, 10, &ve, &s));
	ck_assert(!verr_any(&ve));
	ck_assert(!jfield_string(o, "c", 1, 10, &ve, &s)); /* null is absent */
	ck_assert(!verr_any(&ve));
	ck_assert(!jfield_string(o, "b", 1, 10, &ve, &s));
	ck_assert(verr_any(&ve));
	verr_dispose(&ve);
	ck_assert(!jfield_string(o, "d", 1, 10, &ve, &s)); /* too short */
	ck_assert(verr_any(&ve));
	verr_dispose(&ve);
	ck_assert(jfield_missing(o, "c") && jfield_missing(o, "zz") && !jfield_missing(o, "a"));
	json_decref(o);
}
END_TEST

START_TEST(test_jfield_int_bool)
{
	json_t *o = parse("{\"n\":7,\"big\":99999999,\"f\":1.5,\"t\":true,\"s\":\"true\"}");
	struct verr ve = {0};
	int64_t n = 0;
	bool b = false;
	ck_assert(jfield_int(o, "n", 1, 10, &ve, &n) && n == 7);
	ck_assert(!jfield_int(o, "big", 1, 10, &ve, &n));
	ck_assert(!jfield_int(o, "f", 1, 10, &ve, &n));
	ck_assert(jfield_bool(o, "t", &ve, &b) && b);
	ck_assert_int_eq(json_array_size(ve.detail), 2);
	ck_assert(!jfield_bool(o, "s", &ve, &b));
	ck_assert_int_eq(json_array_size(ve.detail), 3);
	verr_dispose(&ve);
	json_decref(o);
}
END_TEST

static bool no_x(const char *s) { return strchr(s, 'x') == NULL; }

START_TEST(test_jfield_strlist)
{
	json_t *o = parse("{\"a\":[\"p\",\"q\",\"p\"],\"e\":[],\"bad\":[\"x\"],\"num\":[1],\"s\":\"p\"}");
	struct verr ve = {0};
	struct strlist l = {0};
	ck_assert(jfield_strlist(o, "a", 10, no_x, &ve, &l));
	ck_assert_int_eq(l.n, 2); /* duplicates folded */
	ck_assert(jfield_strlist(o, "e", 10, no_x, &ve, &l));
	ck_assert_ptr_nonnull(l.v);
	ck_assert_int_eq(l.n, 0);
	ck_assert(!verr_any(&ve));
	ck_assert(!jfield_strlist(o, "bad", 10, no_x, &ve, &l));
	ck_assert(!jfield_strlist(o, "num", 10, no_x, &ve, &l));
	ck_assert(!jfield_strlist(o, "s", 10, no_x, &ve, &l));
	ck_assert(!jfield_strlist(o, "a", 1, no_x, &ve, &l)); /* too many */
	ck_assert_int_eq(json_array_size(ve.detail), 4);
	verr_dispose(&ve);
	strlist_dispose(&l);
	json_decref(o);
}
END_TEST

START_TEST(test_string_map)
{
	json_t *o = parse("{\"m\":{\"a\":\"b\"},\"bad\":{\"a\":1},\"arr\":[]}");
	struct verr ve = {0};
	json_t *m = NULL;
	ck_assert(jfield_string_map(o, "m", &ve, &m));
	ck_assert_str_eq(json_string_value(json_object_get(m, "a")), "b");
	json_decref(m);
	ck_assert(!jfield_string_map(o, "bad", &ve, &m));
	ck_assert(!jfield_string_map(o, "arr", &ve, &m));
	ck_assert_int_eq(json_array_size(ve.detail), 2);
	verr_dispose(&ve);
	json_decref(o);
}
END_TEST

START_TEST(test_message_json)
{
	struct message m = {0};
	snprintf(m.id, sizeof m.id, "msg_x");
	m.event_type = xstrdup("user.created");
	m.payload = xstrdup("{\"a\":1}");
	m.payload_len = strlen(m.payload);
	m.created_ms = 1614265330123;
	json_t *j = message_to_json(&m, true);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "payload"), "a")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "timestamp")), "2021-02-25T15:02:10.123Z");
	ck_assert(json_is_null(json_object_get(j, "channels")));
	json_decref(j);
	j = message_to_json(&m, false);
	ck_assert_int_eq(json_object_size(json_object_get(j, "payload")), 0);
	json_decref(j);
	message_dispose(&m);
}
END_TEST

START_TEST(test_attempt_json_binary_response)
{
	struct attempt a = {0};
	snprintf(a.id, sizeof a.id, "atmpt_x");
	a.response = xstrndup("\xff\xfe ok", 5);
	a.response_len = 5;
	a.status = DS_FAIL;
	json_t *j = attempt_to_json(&a);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_string(json_object_get(j, "response")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "statusText")), "fail");
	json_decref(j);
	attempt_dispose(&a);
}
END_TEST

/* An attempt's request headers read back whether stored sealed (a custom header's value in them) or as they are;
 * one that cannot be opened is left out. */
START_TEST(test_attempt_json_request_headers)
{
	static const char plain[] = "{\"webhook-id\":\"msg_x\",\"X-Tier\":\"gold\"}";
	char err[128];
	ck_assert_msg(seal_keys_set("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", NULL, err, sizeof err) == 0, "%s", err);
	struct attempt a = {0};
	snprintf(a.id, sizeof a.id, "atmpt_x");
	a.status = DS_SUCCESS;
	for (int sealed = 0; sealed < 2; sealed++) {
		a.request_headers = sealed ? seal_value(plain) : xstrdup(plain);
		ck_assert(seal_is_sealed(a.request_headers) == (sealed == 1));
		json_t *j = attempt_to_json(&a);
		json_t *h = json_object_get(j, "requestHeaders");
		ck_assert_msg(json_is_object(h), "sealed %d", sealed);
		ck_assert_str_eq(json_string_value(json_object_get(h, "X-Tier")), "gold");
		ck_assert_str_eq(json_string_value(json_object_get(h, "webhook-id")), "msg_x");
		json_decref(j);
		free(a.request_headers);
	}
	a.request_headers = seal_value(plain);
	seal_keys_clear();
	json_t *j = attempt_to_json(&a);
	ck_assert_ptr_null(json_object_get(j, "requestHeaders"));
	json_decref(j);
	attempt_dispose(&a);
}
END_TEST

static char *raw(const char *text, const char *key)
{
	size_t at, len;
	if (json_raw_member(text, strlen(text), key, &at, &len) < 0)
		return NULL;
	return xstrndup(text + at, len);
}

#define RAW_EQ(text, key, want)                                                                              \
	do {                                                                                                 \
		char *got_ = raw(text, key);                                                                 \
		ck_assert_msg(got_ != NULL && strcmp(got_, want) == 0, "%s in %s: got %s", key, text,       \
			      got_ ? got_ : "(none)");                                                       \
		free(got_);                                                                                  \
	} while (0)

START_TEST(test_raw_member)
{
	RAW_EQ("{\"payload\":{\"a\":1}}", "payload", "{\"a\":1}");
	RAW_EQ(" { \"eventType\" : \"x\" ,\n \"payload\" :\t{ \"a\" : [1, {\"b\":\"}]\\\"\"}] } , \"z\":1}", "payload",
	       "{ \"a\" : [1, {\"b\":\"}]\\\"\"}] }");
	RAW_EQ("{\"a\":{\"payload\":1},\"payload\":{}}", "payload", "{}");          /* nested keys do not count */
	RAW_EQ("{\"payload\":{\"x\":1},\"payload\":{\"y\":2}}", "payload", "{\"y\":2}"); /* the last one wins */
	RAW_EQ("{\"n\":-1.5e3,\"t\":true,\"payload\":{}}", "n", "-1.5e3");
	RAW_EQ("{\"n\":null}", "n", "null");
	RAW_EQ("{\"s\":\"a\\\"b\"}", "s", "\"a\\\"b\"");
	/* runs of backslashes: an even run before a quote ends the string, an odd one escapes it */
	RAW_EQ("{\"s\":\"a\\\\\",\"t\":1}", "t", "1");
	RAW_EQ("{\"s\":\"a\\\\\\\"b\",\"t\":2}", "s", "\"a\\\\\\\"b\"");
	RAW_EQ("{\"s\":\"\\\"\\\"\",\"t\":3}", "t", "3");
	ck_assert_ptr_null(raw("{\"s\":\"abc\\\"}", "s")); /* the last quote is escaped: no end */
	RAW_EQ("{\"payload\":{\"emoji\":\"\xf0\x9f\x8e\x89\"}}", "payload", "{\"emoji\":\"\xf0\x9f\x8e\x89\"}");
	ck_assert_ptr_null(raw("{\"x\":\"payload\"}", "payload")); /* a value is not a key */
	ck_assert_ptr_null(raw("{\"pay\\u006coad\":{}}", "payload")); /* escaped keys fall back */
	ck_assert_ptr_null(raw("[1,2]", "payload"));
	ck_assert_ptr_null(raw("{\"payload\":{\"a\":1}", "payload")); /* truncated */
	ck_assert_ptr_null(raw("", "payload"));
}
END_TEST

/* The plain subset: every object it takes, jansson takes as it is; what it leaves (valid or not) goes to jansson. */
static bool jansson_object(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	bool ok = json_is_object(j);
	json_decref(j);
	return ok;
}

START_TEST(test_plain_object)
{
	static const char *const plain[] = {
		"{}", "{ }", "{\"a\":1}", " {\"a\" : true , \"b\":-0.5, \"c\":null, \"d\":false} ",
		"{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\n\\t\\\"\\\\\\/\\b\\f\\r\",\"e\":[],\"f\":[ ]}",
		"{\"sent_ns\":1765000000000000000,\"n\":-8999999999999999999,\"z\":0,\"m\":-0,\"r\":0.000001}",
		"{\"a\":1,\"a\":2}", "{\"\":\"\"}", "{\"del\":\"\x7f\"}",
	};
	/* valid JSON outside the subset (jansson decides), then invalid JSON */
	static const char *const not_plain[] = {
		"{\"a\":1e5}", "{\"a\":\"\\u0041\"}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":9300000000000000000}",
		"{\"a\":1.0E2}", "[1]", "1", "\"s\"",
		"{\"a\":01}", "{\"a\":1,}", "{\"a\":12345678901234567890}", "{\"a\":1.5.5}", "{\"a\":-}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"\\x\"}", "{\"a\" 1}", "{a:1}", "{\"a\":1}x", "{\"a\":tru}",
		"{\"a\":\"\\u0000\"}", "{\"a\":\"\xff\"}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "",
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		ck_assert_msg(json_plain_object(plain[i], strlen(plain[i])), "plain: %s", plain[i]);
		ck_assert_msg(jansson_object(plain[i], strlen(plain[i])), "jansson takes %s", plain[i]);
	}
	for (size_t i = 0; i < sizeof not_plain / sizeof not_plain[0]; i++)
		ck_assert_msg(!json_plain_object(not_plain[i], strlen(not_plain[i])), "not plain: %s", not_plain[i]);
	ck_assert(!json_plain_object("{\"a\":1}\0", 8)); /* the length is the text's: a NUL byte is outside it */
	/* nesting: jansson takes at most 2048 levels; the subset stops far below */
	size_t depth = 2048, n = 0;
	char *deep = xmalloc(2 * depth + 8);
	n += (size_t)sprintf(deep, "{\"a\":");
	memset(deep + n, '[', depth);
	memset(deep + n + depth, ']', depth);
	n += 2 * depth;
	deep[n++] = '}';
	ck_assert(!json_plain_object(deep, n));
	ck_assert(!jansson_object(deep, n));
	free(deep);
	const char *nested = "{\"a\":[[[[[[[[[[1]]]]]]]]]]}";
	ck_assert(json_plain_object(nested, strlen(nested)));
}
END_TEST

/* The envelope: the body parsed with a plain payload replaced by {}, its span kept; else NULL (parse it all). */
START_TEST(test_plain_envelope)
{
	const char *body = "{\"eventType\":\"a.b\",\"payload\":{\"x\":[1,\"y\"]},\"tags\":[\"t\"]}";
	size_t at = 0, len = 0;
	json_t *env = json_plain_envelope(body, strlen(body), "payload", &at, &len);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(json_string_value(json_object_get(env, "eventType")), "a.b");
	ck_assert_int_eq(json_object_size(json_object_get(env, "payload")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(env, "tags")), 1);
	ck_assert_int_eq((int)len, (int)strlen("{\"x\":[1,\"y\"]}"));
	ck_assert(strncmp(body + at, "{\"x\":[1,\"y\"]}", len) == 0);
	json_decref(env);
	static const char *const whole[] = {
		"{\"eventType\":\"a.b\",\"payload\":{\"x\":\"\\u00e9\"}}", /* outside the subset */
		"{\"eventType\":\"a.b\",\"payload\":[1]}",                 /* not an object: the 422 says so */
		"{\"eventType\":a.b,\"payload\":{}}",                      /* broken elsewhere: the 400 says where */
		"{\"eventType\":\"a.b\"}",                                   /* none */
		"[{\"payload\":{}}]",
	};
	/* an envelope larger than the stack buffer */
	char big[1200];
	int bn = snprintf(big, sizeof big, "{\"eventType\":\"a.b\",\"description\":\"%0900d\",\"payload\":{\"k\":2}}", 7);
	env = json_plain_envelope(big, (size_t)bn, "payload", &at, &len);
	ck_assert_ptr_nonnull(env);
	ck_assert_int_eq((int)strlen(json_string_value(json_object_get(env, "description"))), 900);
	ck_assert(strncmp(big + at, "{\"k\":2}", len) == 0);
	json_decref(env);
	for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
		ck_assert_msg(json_plain_envelope(whole[i], strlen(whole[i]), "payload", &at, &len) == NULL, "%s", whole[i]);
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_verr_body_shape);
	tcase_add_test(tc, test_error_body);
	tcase_add_test(tc, test_jfield_string);
	tcase_add_test(tc, test_jfield_int_bool);
	tcase_add_test(tc, test_jfield_strlist);
	tcase_add_test(tc, test_string_map);
	tcase_add_test(tc, test_message_json);
	tcase_add_test(tc, test_attempt_json_binary_response);
	tcase_add_test(tc, test_attempt_json_request_headers);
	tcase_add_test(tc, test_raw_member);
	tcase_add_test(tc, test_plain_object);
	tcase_add_test(tc, test_plain_envelope);
	suite_add_tcase(s, tc);
	return s;
}
