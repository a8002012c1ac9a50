/* test_apiver.c: the payload version registry: the downgrade chain of a pin (newest first), pins to versions that
 * are gone, names, the code check, paging. */
#include <stdlib.h>
#include <string.h>

#include "apiver.h"
#include "registry.h"
#include "tests.h"

static void put(const char *name, const char *code)
{
	apiver_put(&(struct api_version){.name = (char *)name, .downgrade = (char *)code, .created_ms = 1});
}

static void teardown(void) { apiver_dispose(); }

/* The chain of pinned as "header:code,code" for compact asserts. */
static char *chain(const char *pinned)
{
	struct strlist codes = {0};
	char *name = apiver_chain(pinned, &codes);
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append(&b, name ? name : "(none)", strlen(name ? name : "(none)"));
	buf_append(&b, ":", 1);
	for (size_t i = 0; i < codes.n; i++) {
		if (i > 0)
			buf_append(&b, ",", 1);
		buf_append(&b, codes.v[i], strlen(codes.v[i]));
	}
	buf_append(&b, "", 1);
	free(name);
	strlist_dispose(&codes);
	return b.data;
}

#define CHAIN_IS(pinned, want)                                                                                 \
	do {                                                                                                   \
		char *got_ = chain(pinned);                                                                    \
		ck_assert_str_eq(got_, want);                                                                  \
		free(got_);                                                                                    \
	} while (0)

START_TEST(test_chain_empty)
{
	CHAIN_IS(NULL, "(none):");
	CHAIN_IS("2025-01-01", "(none):");
}
END_TEST

/* The chain's lock-free "no version" answer follows the registry both ways, through every way it changes: put and
 * delete (registry.c; the feed's changes from other nodes too), a load (start-up), dispose. */
START_TEST(test_chain_any_follows)
{
	put("v1", NULL);
	CHAIN_IS(NULL, "v1:");
	apiver_delete("v1");
	CHAIN_IS(NULL, "(none):");
	struct change c = {.kind = CHANGE_API_VERSION_PUT, .api_version = &(struct api_version){.name = "v2"}};
	registry_apply(&c);
	CHAIN_IS("v1", "v2:");
	registry_apply(&(struct change){.kind = CHANGE_API_VERSION_DELETE, .id = "v2"});
	CHAIN_IS("v2", "(none):");
	struct api_version *v = xcalloc(2, sizeof *v);
	api_version_copy(&v[0], &(struct api_version){.name = "v4", .downgrade = "d4"});
	api_version_copy(&v[1], &(struct api_version){.name = "v3"});
	apiver_load(v, 2);
	CHAIN_IS("v3", "v3:d4");
	apiver_load(NULL, 0);
	CHAIN_IS(NULL, "(none):");
	put("v5", NULL);
	apiver_dispose();
	CHAIN_IS(NULL, "(none):");
}
END_TEST

START_TEST(test_chain_newest_first)
{
	put("2025-03-01", "d3"); /* out of order on purpose: the registry sorts */
	put("2025-01-01", NULL);
	put("2025-02-01", "d2");
	put("2025-04-01", "d4");
	CHAIN_IS(NULL, "2025-04-01:");
	CHAIN_IS("2025-04-01", "2025-04-01:");
	CHAIN_IS("2025-03-01", "2025-03-01:d4");
	CHAIN_IS("2025-02-01", "2025-02-01:d4,d3");
	CHAIN_IS("2025-01-01", "2025-01-01:d4,d3,d2");
}
END_TEST

/* A pin to a version that is gone: the oldest existing newer one; past the newest: the newest. */
START_TEST(test_chain_missing_pin)
{
	put("2025-01-01", NULL);
	put("2025-03-01", "d3");
	put("2025-04-01", "d4");
	CHAIN_IS("2025-02-01", "2025-03-01:d4");
	CHAIN_IS("2024-01-01", "2025-01-01:d4,d3");
	CHAIN_IS("2026-01-01", "2025-04-01:");
	apiver_delete("2025-04-01");
	CHAIN_IS(NULL, "2025-03-01:");
	CHAIN_IS("2025-01-01", "2025-01-01:d3");
}
END_TEST

/* The codes are copies: the registry may change while a delivery runs them. */
START_TEST(test_chain_copies)
{
	put("a", NULL);
	put("b", "db");
	struct strlist codes = {0};
	char *name = apiver_chain("a", &codes);
	put("b", "db2");
	apiver_delete("a");
	ck_assert_str_eq(name, "a");
	ck_assert_uint_eq(codes.n, 1);
	ck_assert_str_eq(codes.v[0], "db");
	free(name);
	strlist_dispose(&codes);
}
END_TEST

START_TEST(test_get_position_and_list)
{
	put("v1", NULL);
	put("v2", "x");
	put("v3", "y");
	struct api_version v;
	struct apiver_pos pos;
	ck_assert_int_eq(apiver_get("v2", &v, &pos), STORE_OK);
	ck_assert(!pos.oldest && !pos.newest && pos.older == 1);
	api_version_dispose(&v);
	ck_assert_int_eq(apiver_get("v1", &v, &pos), STORE_OK);
	ck_assert(pos.oldest && !pos.newest);
	api_version_dispose(&v);
	ck_assert_int_eq(apiver_get("v9", &v, &pos), STORE_NOTFOUND);
	char *newest = apiver_newest();
	ck_assert_str_eq(newest, "v3");
	free(newest);
	/* newest first, two a page, from before v3 */
	struct api_version *l;
	size_t n;
	apiver_list(&(struct page){.limit = 2, .ascending = false, .before = "v3"}, &l, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[0].name, "v2");
	ck_assert_str_eq(l[1].name, "v1");
	for (size_t i = 0; i < n; i++)
		api_version_dispose(&l[i]);
	free(l);
}
END_TEST

START_TEST(test_names_and_code)
{
	ck_assert(apiver_name_valid("2025-01-01"));
	ck_assert(apiver_name_valid("v1.2_beta-3"));
	ck_assert(!apiver_name_valid(""));
	ck_assert(!apiver_name_valid("2025 01"));
	ck_assert(!apiver_name_valid("a/b"));
	char long_name[66];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	ck_assert(!apiver_name_valid(long_name));
	long_name[64] = '\0';
	ck_assert(apiver_name_valid(long_name));

	char err[256];
	const char *ok = "function handler(w) w.payload.old = w.payload.new; return w end";
	ck_assert_int_eq(apiver_code_check(ok, strlen(ok), err, sizeof err), 0);
	const char *bad = "function handler(w) return w";
	ck_assert_int_eq(apiver_code_check(bad, strlen(bad), err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected"));
	/* precompiled chunks are refused: text only */
	const char bytecode[] = "\x1bLua\x54\x00";
	ck_assert_int_eq(apiver_code_check(bytecode, sizeof bytecode - 1, err, sizeof err), -1);
	/* the size cap */
	size_t big = APIVER_CODE_MAX + 1;
	char *s = malloc(big + 1);
	memset(s, ' ', big);
	s[big] = '\0';
	ck_assert_int_eq(apiver_code_check(s, big, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer"));
	free(s);
}
END_TEST

/* The one way the registry changes: a change through registry_apply, also as the committer holds it (a copy). */
START_TEST(test_registry_changes)
{
	struct api_version v = {.name = "2025-01-01", .created_ms = 5};
	struct change c, held;
	c = (struct change){.kind = CHANGE_API_VERSION_PUT, .api_version = &v};
	change_copy(&held, &c);
	registry_apply(&held);
	const char *key;
	ck_assert_str_eq(change_note(&held, &key), "apiver");
	ck_assert_str_eq(key, "2025-01-01");
	change_dispose(&held);
	struct api_version got;
	ck_assert_int_eq(apiver_get("2025-01-01", &got, NULL), STORE_OK);
	ck_assert_int_eq(got.created_ms, 5);
	api_version_dispose(&got);
	c = (struct change){.kind = CHANGE_API_VERSION_DELETE, .id = "2025-01-01"};
	change_copy(&held, &c);
	registry_apply(&held);
	ck_assert_str_eq(change_note(&held, &key), "apiver");
	change_dispose(&held);
	ck_assert_int_eq(apiver_get("2025-01-01", &got, NULL), STORE_NOTFOUND);
}
END_TEST

Suite *apiver_suite(void)
{
	Suite *s = suite_create("apiver");
	TCase *tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_chain_empty);
	tcase_add_test(tc, test_chain_any_follows);
	tcase_add_test(tc, test_chain_newest_first);
	tcase_add_test(tc, test_chain_missing_pin);
	tcase_add_test(tc, test_chain_copies);
	tcase_add_test(tc, test_get_position_and_list);
	tcase_add_test(tc, test_names_and_code);
	tcase_add_test(tc, test_registry_changes);
	suite_add_tcase(s, tc);
	return s;
}
