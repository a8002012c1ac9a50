/* test_store_apiver.c: payload versions through a store, on either backend (the store contract suite's fixture):
 * a create must sort after every stored name (bytewise, whatever the database's collation), the name is unique,
 * the downgrade is replaced, a delete keeps every pin's chain whole, loads are in name order, and a shared
 * database's registry_row reads one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tests.h"

static struct store *st(void) { return *store_fixture(); }

/* One job in one batch: fn's rc, the job kept only if it succeeded. */
static int in_batch(int (*fn)(const void *arg), const void *arg)
{
	ck_assert_int_eq(st()->w->batch_begin(st()), STORE_OK);
	if (st()->w->job_begin != NULL)
		ck_assert_int_eq(st()->w->job_begin(st()), STORE_OK);
	int rc = fn(arg);
	if (st()->w->job_end != NULL)
		st()->w->job_end(st(), rc == STORE_OK);
	ck_assert_int_eq(st()->w->batch_commit(st()), STORE_OK);
	return rc;
}

static int do_create(const void *arg) { return st()->w->api_version_create(st(), arg); }
static int do_delete(const void *arg) { return st()->w->api_version_delete(st(), arg); }
static int do_endpoint(const void *arg) { return st()->w->endpoint_put(st(), arg); }

static int create(const char *name, const char *code, int64_t ms)
{
	struct api_version v = {.name = (char *)name, .downgrade = (char *)code, .created_ms = ms};
	return in_batch(do_create, &v);
}

struct set_arg {
	const char *name, *code;
};
static int do_set(const void *arg)
{
	const struct set_arg *a = arg;
	return st()->w->api_version_set_downgrade(st(), a->name, a->code);
}

/* Endpoint n pinned to version (NULL: unpinned). */
static void pin(int n, const char *version)
{
	struct endpoint e = {0};
	snprintf(e.id, sizeof e.id, "ep_%027d", n);
	snprintf(e.app_id, sizeof e.app_id, "app_%027d", 1);
	e.url = "https://example.com/hook";
	e.description = "";
	e.secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
	e.metadata = json_object();
	e.headers = json_object();
	e.api_version = (char *)version;
	ck_assert_int_eq(in_batch(do_endpoint, &e), STORE_OK);
	json_decref(e.metadata);
	json_decref(e.headers);
}

static void load(struct api_version **v, size_t *n) { ck_assert_int_eq(st()->w->api_versions_load(st(), v, n), STORE_OK); }

static void free_all(struct api_version *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		api_version_dispose(&v[i]);
	free(v);
}

START_TEST(test_api_version_create_newest_only)
{
	ck_assert_int_eq(create("2025-01-01", NULL, 10), STORE_OK);
	ck_assert_int_eq(create("2025-01-01", "function handler(w) return w end", 11), STORE_CONFLICT); /* taken */
	ck_assert_int_eq(create("2024-12-31", "x = 1", 12), STORE_CONFLICT); /* older than the newest */
	ck_assert_int_eq(create("2025-06-01", "x = 2", 13), STORE_OK);
	/* bytewise, not the database's collation: "B" < "a" < "b" in C order, not in en_US */
	ck_assert_int_eq(create("2025-06-01a", "x = 3", 14), STORE_OK);
	ck_assert_int_eq(create("2025-06-01B", "x = 4", 15), STORE_CONFLICT);
	struct api_version *v;
	size_t n;
	load(&v, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].name, "2025-01-01");
	ck_assert_ptr_null(v[0].downgrade);
	ck_assert_int_eq(v[0].created_ms, 10);
	ck_assert_str_eq(v[1].name, "2025-06-01");
	ck_assert_str_eq(v[1].downgrade, "x = 2");
	ck_assert_str_eq(v[2].name, "2025-06-01a");
	free_all(v, n);
}
END_TEST

/* Two creates in one batch: the one that sorts first loses to the newer one written before it. */
START_TEST(test_api_version_create_same_batch)
{
	struct api_version a = {.name = "v2", .downgrade = "x = 1", .created_ms = 1};
	struct api_version b = {.name = "v1", .created_ms = 2};
	ck_assert_int_eq(st()->w->batch_begin(st()), STORE_OK);
	if (st()->w->job_begin != NULL)
		ck_assert_int_eq(st()->w->job_begin(st()), STORE_OK);
	ck_assert_int_eq(st()->w->api_version_create(st(), &a), STORE_OK);
	if (st()->w->job_end != NULL) {
		st()->w->job_end(st(), true);
		ck_assert_int_eq(st()->w->job_begin(st()), STORE_OK);
	}
	ck_assert_int_eq(st()->w->api_version_create(st(), &b), STORE_CONFLICT);
	if (st()->w->job_end != NULL)
		st()->w->job_end(st(), false);
	ck_assert_int_eq(st()->w->batch_commit(st()), STORE_OK);
	struct api_version *v;
	size_t n;
	load(&v, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "v2");
	free_all(v, n);
}
END_TEST

START_TEST(test_api_version_set_downgrade)
{
	ck_assert_int_eq(create("v1", NULL, 1), STORE_OK);
	ck_assert_int_eq(create("v2", "old()", 2), STORE_OK);
	ck_assert_int_eq(in_batch(do_set, &(struct set_arg){"v2", "new()"}), STORE_OK);
	ck_assert_int_eq(in_batch(do_set, &(struct set_arg){"v1", NULL}), STORE_OK);
	ck_assert_int_eq(in_batch(do_set, &(struct set_arg){"v9", "x()"}), STORE_NOTFOUND);
	struct api_version *v;
	size_t n;
	load(&v, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(v[0].downgrade);
	ck_assert_str_eq(v[1].downgrade, "new()");
	ck_assert_int_eq(v[1].created_ms, 2); /* unchanged */
	free_all(v, n);
}
END_TEST

/* A delete keeps every pin's chain whole: not the version an endpoint is pinned to, nor one in the middle while an
 * older one is pinned (its downgrade is on their path); the newest goes even then. */
START_TEST(test_api_version_delete_keeps_pins)
{
	ck_assert_int_eq(create("v1", NULL, 1), STORE_OK);
	ck_assert_int_eq(create("v2", "a()", 2), STORE_OK);
	ck_assert_int_eq(create("v3", "b()", 3), STORE_OK);
	pin(1, "v1");
	pin(2, NULL);
	ck_assert_int_eq(in_batch(do_delete, "v9"), STORE_NOTFOUND);
	ck_assert_int_eq(in_batch(do_delete, "v1"), STORE_CONFLICT); /* pinned */
	ck_assert_int_eq(in_batch(do_delete, "v2"), STORE_CONFLICT); /* v1's chain passes through it */
	ck_assert_int_eq(in_batch(do_delete, "v3"), STORE_OK);       /* the newest: v2 becomes it */
	pin(1, "v2");
	ck_assert_int_eq(in_batch(do_delete, "v1"), STORE_OK); /* the oldest, unpinned: nothing older needs it */
	ck_assert_int_eq(in_batch(do_delete, "v2"), STORE_CONFLICT);
	pin(1, NULL);
	ck_assert_int_eq(in_batch(do_delete, "v2"), STORE_OK);
	struct api_version *v;
	size_t n;
	load(&v, &n);
	ck_assert_uint_eq(n, 0);
	free(v);
}
END_TEST

/* The feed's reload of one entry (a shared database only). */
static int row_v2(const void *arg)
{
	struct api_version *out = (struct api_version *)arg;
	bool found = false;
	int rc = st()->w->registry_row(st(), "apiver", "v2", out, &found);
	ck_assert(found);
	ck_assert_int_eq(st()->w->registry_row(st(), "apiver", "v0", &(struct api_version){0}, &found), STORE_OK);
	ck_assert(!found);
	return rc;
}

START_TEST(test_api_version_registry_row)
{
	if (st()->w->registry_row == NULL)
		return;
	ck_assert_int_eq(create("v1", NULL, 1), STORE_OK);
	ck_assert_int_eq(create("v2", "x()", 2), STORE_OK);
	struct api_version v = {0};
	ck_assert_int_eq(in_batch(row_v2, &v), STORE_OK);
	ck_assert_str_eq(v.name, "v2");
	ck_assert_str_eq(v.downgrade, "x()");
	ck_assert_int_eq(v.created_ms, 2);
	api_version_dispose(&v);
}
END_TEST

void store_apiver_tests(TCase *tc)
{
	tcase_add_test(tc, test_api_version_create_newest_only);
	tcase_add_test(tc, test_api_version_create_same_batch);
	tcase_add_test(tc, test_api_version_set_downgrade);
	tcase_add_test(tc, test_api_version_delete_keeps_pins);
	tcase_add_test(tc, test_api_version_registry_row);
}
