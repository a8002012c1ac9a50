/* test_evtypes.c: the event type registry in memory. */
#include <stdlib.h>
#include <string.h>

#include "evtypes.h"
#include "tests.h"

static void put(const char *name, bool archived, json_t *schemas)
{
	struct event_type t = {.name = (char *)name, .description = "", .archived = archived, .schemas = schemas};
	evtypes_put(&t);
	json_decref(schemas);
}

static void teardown(void) { evtypes_dispose(); }

static struct strlist list_of(const char *a, const char *b)
{
	struct strlist l = {0};
	strlist_add(&l, a);
	if (b != NULL)
		strlist_add(&l, b);
	return l;
}

START_TEST(test_unknown)
{
	struct strlist l = list_of("user.created", "order.*");
	ck_assert_ptr_null(evtypes_unknown(&l)); /* empty registry: anything goes */
	put("user.gone", true, NULL);
	ck_assert_ptr_null(evtypes_unknown(&l)); /* archived types only: still empty */
	put("user.created", false, NULL);
	ck_assert_ptr_null(evtypes_unknown(&l)); /* the wildcard always passes */
	struct strlist bad = list_of("user.created", "user.gone");
	ck_assert_str_eq(evtypes_unknown(&bad), "user.gone");
	evtypes_delete("user.created");
	ck_assert_ptr_null(evtypes_unknown(&bad));
	strlist_dispose(&l);
	strlist_dispose(&bad);
}
END_TEST

START_TEST(test_list_pages_by_name)
{
	put("c", false, NULL);
	put("a", false, NULL);
	put("b", true, NULL);
	put("d", false, NULL);
	put("a", false, NULL); /* replaces */
	struct event_type *v;
	size_t n;
	evtypes_list(&(struct page){.limit = 10, .ascending = true}, false, &v, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].name, "a");
	ck_assert_str_eq(v[2].name, "d");
	for (size_t i = 0; i < n; i++)
		event_type_dispose(&v[i]);
	free(v);
	evtypes_list(&(struct page){.limit = 2, .after = "a", .ascending = false}, true, &v, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "d");
	ck_assert_str_eq(v[1].name, "c");
	for (size_t i = 0; i < n; i++)
		event_type_dispose(&v[i]);
	free(v);
}
END_TEST

START_TEST(test_example)
{
	put("with", false, json_pack("{s:{s:[{s:i},{s:i}]}}", "1", "examples", "x", 1, "y", 2));
	put("array", false, json_pack("{s:{s:[[]]}}", "1", "examples"));
	put("none", false, json_pack("{s:{}}", "1"));
	char *ex = evtypes_example("with");
	ck_assert_str_eq(ex, "{\"x\":1}");
	free(ex);
	ck_assert_ptr_null(evtypes_example("array")); /* a payload is an object */
	ck_assert_ptr_null(evtypes_example("none"));
	ck_assert_ptr_null(evtypes_example("absent"));
}
END_TEST

Suite *evtypes_suite(void)
{
	Suite *s = suite_create("evtypes");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_list_pages_by_name);
	tcase_add_test(tc, test_example);
	suite_add_tcase(s, tc);
	return s;
}
