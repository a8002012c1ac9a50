/* test_openapi.c: docs/openapi.json (as built into the binary) and src/api.c's route table agree both ways: every
 * route is documented with the capability an app-scoped token needs for it, every documented operation is
 * routed (or is one of the paths dispatched before the table), and each operation has answers. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "openapi.h"
#include "tests.h"

/* Dispatched before the route table (api.c's dispatch), documented with GET (and HEAD for the health checks). */
static const char *const special[] = {"/api/v1/health", "/api/v1/health/ping", "/api/v1/health/ready",
				      "/api/v1/openapi.json", "/metrics", "/in/{source_id}"};

static json_t *doc(void)
{
	json_error_t err;
	json_t *d = json_loadb((const char *)openapi_json, openapi_json_len, 0, &err);
	ck_assert_msg(d != NULL, "docs/openapi.json: %s (line %d)", err.text, err.line);
	return d;
}

/* "/api/v1/app/{app_id}/msg" -> "app/ * /msg" without the spaces; false outside /api/v1/. */
static bool pattern_of(const char *path, char *out, size_t cap)
{
	if (strncmp(path, "/api/v1/", 8) != 0)
		return false;
	size_t n = 0;
	for (const char *p = path + 8; *p != '\0' && n + 2 < cap; p++) {
		if (*p == '{') {
			out[n++] = '*';
			p = strchr(p, '}');
			ck_assert_ptr_nonnull(p);
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return true;
}

static const char *cap_name(unsigned cap)
{
	switch (cap) {
	case OPERATOR_ONLY: return "operator only";
	case CAP_VIEW: return "ViewBase";
	case CAP_VIEW_SECRET: return "ViewEndpointSecret";
	case CAP_MANAGE_SECRET: return "ManageEndpointSecret";
	case CAP_MANAGE_TRANSFORM: return "ManageTransformations";
	case CAP_CREATE_ATTEMPTS: return "CreateAttempts";
	case CAP_MANAGE_ENDPOINT: return "ManageEndpoint";
	default: return "?";
	}
}

START_TEST(test_every_route_documented)
{
	json_t *d = doc(), *paths = json_object_get(d, "paths");
	ck_assert(json_is_object(paths));
	size_t n;
	const struct route *rt = api_routes(&n);
	ck_assert_uint_gt(n, 50);
	for (size_t i = 0; i < n; i++) {
		json_t *op = NULL;
		const char *path;
		json_t *item;
		char pat[256], method[16];
		size_t k = 0;
		for (; rt[i].method[k] != '\0' && k + 1 < sizeof method; k++)
			method[k] = (char)(rt[i].method[k] | 0x20); /* lower case, as OpenAPI names them */
		method[k] = '\0';
		json_object_foreach (paths, path, item)
			if (pattern_of(path, pat, sizeof pat) && strcmp(pat, rt[i].pattern) == 0)
				op = json_object_get(item, method);
		ck_assert_msg(op != NULL, "route %s %s is not in docs/openapi.json (node scripts/openapi.mjs)",
			      rt[i].method, rt[i].pattern);
		const char *want = cap_name(rt[i].cap);
		const char *got = json_string_value(json_object_get(op, "x-hookd-app-token"));
		ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s %s: x-hookd-app-token %s, the table says %s",
			      rt[i].method, rt[i].pattern, got ? got : "(none)", want);
	}
	json_decref(d);
}
END_TEST

START_TEST(test_every_operation_routed)
{
	json_t *d = doc(), *paths = json_object_get(d, "paths");
	size_t n, ops = 0;
	const struct route *rt = api_routes(&n);
	const char *path;
	json_t *item;
	for (size_t s = 0; s < sizeof special / sizeof special[0]; s++)
		ck_assert_msg(json_is_object(json_object_get(json_object_get(paths, special[s]), "get")) ||
				      json_is_object(json_object_get(json_object_get(paths, special[s]), "post")),
			      "%s is not documented", special[s]);
	json_object_foreach (paths, path, item) {
		const char *method;
		json_t *op;
		json_object_foreach (item, method, op) {
			ops++;
			ck_assert_msg(json_object_size(json_object_get(op, "responses")) > 0, "%s %s: no responses",
				      method, path);
			bool is_special = false;
			for (size_t s = 0; s < sizeof special / sizeof special[0]; s++)
				is_special |= strcmp(path, special[s]) == 0;
			if (is_special)
				continue;
			char pat[256];
			ck_assert_msg(pattern_of(path, pat, sizeof pat), "%s is outside /api/v1/", path);
			bool routed = false;
			for (size_t i = 0; i < n && !routed; i++)
				routed = strcasecmp(rt[i].method, method) == 0 && strcmp(rt[i].pattern, pat) == 0;
			ck_assert_msg(routed, "documented %s %s has no route in src/api.c", method, path);
		}
	}
	ck_assert_uint_ge(ops, n);
	json_decref(d);
}
END_TEST

START_TEST(test_document_shape)
{
	json_t *d = doc();
	ck_assert(strncmp(json_string_value(json_object_get(d, "openapi")), "3.1.", 4) == 0);
	ck_assert(json_is_string(json_object_get(json_object_get(d, "info"), "title")));
	ck_assert_uint_eq(strlen((const char *)openapi_json), openapi_json_len);
	json_decref(d);
}
END_TEST

Suite *openapi_suite(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("openapi");
	tcase_add_test(tc, test_every_route_documented);
	tcase_add_test(tc, test_every_operation_routed);
	tcase_add_test(tc, test_document_shape);
	suite_add_tcase(s, tc);
	return s;
}
