/* test_cache.c: the cache (and the other registries) as the change feed moves them: every edit goes through
 * registry_apply, and the cache's reads see it. */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "evtypes.h"
#include "metrics.h"
#include "registry.h"
#include "source.h"
#include "tests.h"

static void setup(void) { cache_init(); }

static void teardown(void)
{
	cache_dispose();
	evtypes_dispose();
	sources_dispose();
}

/* ---- helpers: objects on the stack, borrowed by the change ---- */

static void app_apply(const char *id, const char *uid)
{
	struct app a = {.uid = (char *)uid, .name = "a", .created_ms = 1, .updated_ms = 1};
	snprintf(a.id, sizeof a.id, "%s", id);
	registry_apply(&(struct change){.kind = CHANGE_APP_PUT, .app = &a});
}

/* An endpoint of app_id taking type (NULL: every type); before, if given, receives the previous one. */
static void ep_apply(const char *id, const char *app_id, const char *url, const char *type, struct endpoint *before)
{
	struct endpoint e = {.url = (char *)url, .description = "", .created_ms = 1, .updated_ms = 2};
	snprintf(e.id, sizeof e.id, "%s", id);
	snprintf(e.app_id, sizeof e.app_id, "%s", app_id);
	if (type != NULL)
		strlist_add(&e.event_types, type);
	registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e, .before = before});
	strlist_dispose(&e.event_types);
}

static void apply_id(enum change_kind kind, const char *id)
{
	registry_apply(&(struct change){.kind = kind, .id = id});
}

static size_t fanout(const char *app_id, const char *type, char first[ID_MAX])
{
	char(*ids)[ID_MAX] = NULL;
	struct message m = {.event_type = (char *)type};
	snprintf(m.app_id, sizeof m.app_id, "%s", app_id);
	size_t n = cache_fanout(&m, NULL, &ids);
	if (n > 0 && first != NULL)
		memcpy(first, ids[0], ID_MAX);
	free(ids);
	return n;
}

/* An endpoint of app_id with a payloadFilter (text as stored). */
static void ep_filter_apply(const char *id, const char *app_id, const char *filter)
{
	struct endpoint e = {.url = "http://f/", .description = "", .payload_filter = (char *)filter};
	snprintf(e.id, sizeof e.id, "%s", id);
	snprintf(e.app_id, sizeof e.app_id, "%s", app_id);
	registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e});
}

/* The endpoints a payload reaches, as "ep_a,ep_c" (parsed by the caller when parse is set). */
static char *fanout_payload(const char *payload, bool parse)
{
	struct message m = {.event_type = "x", .payload = (char *)payload, .payload_len = strlen(payload)};
	snprintf(m.app_id, sizeof m.app_id, "app_1");
	json_t *p = parse ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
	char(*ids)[ID_MAX] = NULL;
	size_t n = cache_fanout(&m, p, &ids);
	json_decref(p);
	static char out[256];
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", ids[i]);
	free(ids);
	return out;
}

/* ---- apps ---- */

START_TEST(test_app_put_get)
{
	struct app a;
	ck_assert_int_eq(cache_app_get("app_1", &a), STORE_NOTFOUND);
	app_apply("app_1", "one");
	ck_assert_int_eq(cache_app_get("app_1", &a), STORE_OK);
	ck_assert_str_eq(a.uid, "one");
	app_dispose(&a);
	ck_assert_int_eq(cache_app_get("one", &a), STORE_OK); /* by uid too */
	ck_assert_str_eq(a.id, "app_1");
	app_dispose(&a);
	app_apply("app_1", "uno"); /* replaces: the old uid no longer resolves */
	char id[ID_MAX];
	ck_assert_int_eq(cache_app_resolve("one", id), STORE_NOTFOUND);
	ck_assert_int_eq(cache_app_resolve("uno", id), STORE_OK);
	ck_assert_str_eq(id, "app_1");
}
END_TEST

START_TEST(test_app_delete_takes_endpoints)
{
	app_apply("app_1", NULL);
	app_apply("app_2", NULL);
	ep_apply("ep_1", "app_1", "http://a/1", NULL, NULL);
	ep_apply("ep_2", "app_1", "http://a/2", NULL, NULL);
	ep_apply("ep_3", "app_2", "http://b/3", NULL, NULL);
	apply_id(CHANGE_APP_DELETE, "app_1");
	struct app a;
	ck_assert_int_eq(cache_app_get("app_1", &a), STORE_NOTFOUND);
	ck_assert_ptr_null(cache_endpoint_ref("ep_1"));
	ck_assert_ptr_null(cache_endpoint_ref("ep_2"));
	struct ep_snap *s = cache_endpoint_ref("ep_3"); /* another app's stays */
	ck_assert_ptr_nonnull(s);
	ep_snap_unref(s);
	ck_assert_uint_eq(fanout("app_1", "x", NULL), 0);
	ck_assert_uint_eq(fanout("app_2", "x", NULL), 1);
}
END_TEST

/* ---- payload filters at fan-out ---- */

START_TEST(test_fanout_payload_filter)
{
	app_apply("app_1", NULL);
	ep_filter_apply("ep_a", "app_1", NULL);
	ep_filter_apply("ep_b", "app_1", "{\"amount\":{\"$gt\":100}}");
	ep_filter_apply("ep_c", "app_1", "{\"tier\":\"gold\"}");
	ep_filter_apply("ep_d", "app_1", "{\"$bogus\":1}"); /* stored but not compiling: takes nothing */
	uint64_t filtered = metrics.deliveries_filtered;
	for (int parse = 0; parse < 2; parse++) {
		ck_assert_str_eq(fanout_payload("{\"amount\":150,\"tier\":\"gold\"}", parse), "ep_a,ep_b,ep_c");
		ck_assert_str_eq(fanout_payload("{\"amount\":50,\"tier\":\"gold\"}", parse), "ep_a,ep_c");
		ck_assert_str_eq(fanout_payload("{\"amount\":500}", parse), "ep_a,ep_b");
	}
	ck_assert_str_eq(fanout_payload("not json", false), "ep_a"); /* no filter takes a payload that is not JSON */
	ck_assert_uint_eq(metrics.deliveries_filtered - filtered, 2 * (1 + 2 + 2) + 3);
	/* an endpoint's filter replaced, then removed */
	ep_filter_apply("ep_b", "app_1", "{\"amount\":{\"$lt\":100}}");
	ck_assert_str_eq(fanout_payload("{\"amount\":50}", false), "ep_a,ep_b");
	ep_filter_apply("ep_c", "app_1", NULL);
	ck_assert_str_eq(fanout_payload("{\"amount\":500}", false), "ep_a,ep_c");
	apply_id(CHANGE_ENDPOINT_DELETE, "ep_a");
	ck_assert_str_eq(fanout_payload("{\"amount\":500}", false), "ep_c");
	ep_filter_apply("ep_c", "app_1", "{\"amount\":1}");
	ck_assert_str_eq(fanout_payload("{\"amount\":500}", false), "");
}
END_TEST

/* ---- endpoints ---- */

START_TEST(test_endpoint_put_delete)
{
	app_apply("app_1", NULL);
	ep_apply("ep_nowhere", "app_none", "http://x/", NULL, NULL); /* no such app: ignored */
	ck_assert_ptr_null(cache_endpoint_ref("ep_nowhere"));
	ep_apply("ep_1", "app_1", "http://a/1", NULL, NULL);
	ep_apply("ep_2", "app_1", "http://a/2", NULL, NULL);
	struct endpoint e;
	ck_assert_int_eq(cache_endpoint_get("app_1", "ep_1", &e), STORE_OK);
	ck_assert_str_eq(e.url, "http://a/1");
	endpoint_dispose(&e);
	ck_assert_int_eq(cache_endpoint_get("app_2", "ep_1", &e), STORE_NOTFOUND); /* another app's path */
	ep_apply("ep_1", "app_1", "http://a/one", NULL, NULL);
	ck_assert_int_eq(cache_endpoint_get("app_1", "ep_1", &e), STORE_OK);
	ck_assert_str_eq(e.url, "http://a/one");
	endpoint_dispose(&e);
	struct endpoint *v;
	size_t n;
	cache_endpoint_list("app_1", &(struct page){.limit = 10, .ascending = true}, &v, &n);
	ck_assert_uint_eq(n, 2); /* replaced in place, not added */
	for (size_t i = 0; i < n; i++)
		endpoint_dispose(&v[i]);
	free(v);
	apply_id(CHANGE_ENDPOINT_DELETE, "ep_1");
	ck_assert_int_eq(cache_endpoint_get("app_1", "ep_1", &e), STORE_NOTFOUND);
	ck_assert_ptr_null(cache_endpoint_ref("ep_1"));
	ck_assert_int_eq(cache_endpoint_get("app_1", "ep_2", &e), STORE_OK);
	endpoint_dispose(&e);
	apply_id(CHANGE_ENDPOINT_DELETE, "ep_1"); /* again: nothing to do */
}
END_TEST

START_TEST(test_endpoint_before)
{
	app_apply("app_1", NULL);
	struct endpoint before;
	memset(&before, 0xff, sizeof before.id);
	ep_apply("ep_1", "app_1", "http://a/1", NULL, &before);
	ck_assert_str_eq(before.id, ""); /* it did not exist */
	endpoint_dispose(&before);
	ep_apply("ep_1", "app_1", "http://a/2", NULL, &before);
	ck_assert_str_eq(before.id, "ep_1");
	ck_assert_str_eq(before.url, "http://a/1");
	endpoint_dispose(&before);
}
END_TEST

START_TEST(test_endpoint_disabled)
{
	app_apply("app_1", NULL);
	ep_apply("ep_1", "app_1", "http://a/1", NULL, NULL);
	struct ep_snap *old = cache_endpoint_ref("ep_1");
	ck_assert_ptr_nonnull(old);
	ck_assert(!old->ep.disabled);
	registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_DISABLED, .id = "ep_1", .disabled = true,
					.updated_ms = 99});
	struct ep_snap *cur = cache_endpoint_ref("ep_1");
	ck_assert(cur->ep.disabled);
	ck_assert_int_eq(cur->ep.updated_ms, 99);
	ck_assert_str_eq(cur->ep.url, "http://a/1");
	ck_assert(!old->ep.disabled); /* a held snapshot never changes */
	ck_assert_uint_gt(cur->gen, old->gen);
	ck_assert_uint_eq(fanout("app_1", "x", NULL), 0); /* disabled: no fan-out */
	ep_snap_unref(cur);
	registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_DISABLED, .id = "ep_1", .disabled = false,
					.updated_ms = 100});
	ck_assert_uint_eq(fanout("app_1", "x", NULL), 1);
	ep_snap_unref(old);
	registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_DISABLED, .id = "ep_gone", .disabled = true});
	ck_assert_ptr_null(cache_endpoint_ref("ep_gone"));
}
END_TEST

START_TEST(test_gen_grows)
{
	app_apply("app_1", NULL);
	uint64_t last = 0;
	for (int i = 0; i < 5; i++) {
		ep_apply("ep_1", "app_1", "http://a/1", NULL, NULL);
		struct ep_snap *s = cache_endpoint_ref("ep_1");
		ck_assert_uint_gt(s->gen, last);
		last = s->gen;
		ep_snap_unref(s);
	}
	ep_apply("ep_2", "app_1", "http://a/2", NULL, NULL);
	struct ep_snap *s = cache_endpoint_ref("ep_2");
	ck_assert_uint_gt(s->gen, last);
	ep_snap_unref(s);
}
END_TEST

START_TEST(test_fanout_follows)
{
	char first[ID_MAX];
	app_apply("app_1", NULL);
	ck_assert_uint_eq(fanout("app_1", "user.created", NULL), 0);
	ep_apply("ep_1", "app_1", "http://a/1", "user.created", NULL);
	ck_assert_uint_eq(fanout("app_1", "user.created", first), 1);
	ck_assert_str_eq(first, "ep_1");
	ck_assert_uint_eq(fanout("app_1", "user.deleted", NULL), 0);
	ep_apply("ep_1", "app_1", "http://a/1", "user.deleted", NULL); /* its filter changed */
	ck_assert_uint_eq(fanout("app_1", "user.created", NULL), 0);
	ck_assert_uint_eq(fanout("app_1", "user.deleted", NULL), 1);
	ep_apply("ep_2", "app_1", "http://a/2", NULL, NULL); /* takes every type */
	ck_assert_uint_eq(fanout("app_1", "user.deleted", NULL), 2);
	ck_assert_uint_eq(fanout("app_1", "user.created", first), 1);
	ck_assert_str_eq(first, "ep_2");
	apply_id(CHANGE_ENDPOINT_DELETE, "ep_2");
	ck_assert_uint_eq(fanout("app_1", "user.created", NULL), 0);
	ck_assert_uint_eq(fanout("app_1", "user.deleted", NULL), 1);
}
END_TEST

/* ---- the other registries ---- */

START_TEST(test_event_types_and_sources)
{
	struct event_type t = {.name = "user.created", .description = "d"};
	registry_apply(&(struct change){.kind = CHANGE_EVENT_TYPE_PUT, .event_type = &t});
	struct event_type got;
	ck_assert_int_eq(evtypes_get("user.created", &got), STORE_OK);
	ck_assert_str_eq(got.description, "d");
	event_type_dispose(&got);
	apply_id(CHANGE_EVENT_TYPE_DELETE, "user.created");
	ck_assert_int_eq(evtypes_get("user.created", &got), STORE_NOTFOUND);

	json_t *in = json_loads("{\"name\":\"s\",\"scheme\":\"none\",\"destinations\":[{\"url\":\"http://a\"}]}", 0,
				NULL);
	struct verr ve = {0};
	json_t *cfg = source_validate(in, &ve);
	json_decref(in);
	ck_assert_ptr_nonnull(cfg);
	json_object_set_new(cfg, "id", json_string("src_1"));
	json_object_set_new(cfg, "appId", json_string("app_1"));
	struct source *s = source_new(cfg);
	ck_assert_ptr_nonnull(s);
	registry_apply(&(struct change){.kind = CHANGE_SOURCE_PUT, .source = s});
	source_unref(s); /* the registry holds its own reference */
	struct source *found = sources_lookup("src_1");
	ck_assert_ptr_eq(found, s);
	source_unref(found);
	apply_id(CHANGE_SOURCE_DELETE, "src_1");
	ck_assert_ptr_null(sources_lookup("src_1"));
}
END_TEST

/* ---- change_copy: what a holder of changes (the committer) keeps ---- */

START_TEST(test_change_copy)
{
	app_apply("app_1", NULL);
	struct endpoint e = {.url = "http://a/1", .description = ""};
	snprintf(e.id, sizeof e.id, "ep_1");
	snprintf(e.app_id, sizeof e.app_id, "app_1");
	struct change c;
	change_copy(&c, &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e});
	ck_assert_ptr_ne(c.endpoint, &e);
	e.url = "http://changed/"; /* the copy does not follow the caller's object */
	registry_apply(&c);
	change_dispose(&c);
	struct ep_snap *s = cache_endpoint_ref("ep_1");
	ck_assert_str_eq(s->ep.url, "http://a/1");
	ep_snap_unref(s);
	char id[ID_MAX] = "ep_1";
	change_copy(&c, &(struct change){.kind = CHANGE_ENDPOINT_DELETE, .id = id});
	id[0] = '\0';
	registry_apply(&c);
	change_dispose(&c);
	ck_assert_ptr_null(cache_endpoint_ref("ep_1"));
}
END_TEST

Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("changes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_app_put_get);
	tcase_add_test(tc, test_app_delete_takes_endpoints);
	tcase_add_test(tc, test_endpoint_put_delete);
	tcase_add_test(tc, test_endpoint_before);
	tcase_add_test(tc, test_endpoint_disabled);
	tcase_add_test(tc, test_gen_grows);
	tcase_add_test(tc, test_fanout_follows);
	tcase_add_test(tc, test_fanout_payload_filter);
	tcase_add_test(tc, test_event_types_and_sources);
	tcase_add_test(tc, test_change_copy);
	suite_add_tcase(s, tc);
	return s;
}
