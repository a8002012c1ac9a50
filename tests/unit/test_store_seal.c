/* test_store_seal.c: secrets at rest through a store, on either backend (the store contract suite's fixture):
 * sealed on write and opened on load; plaintext from before sealed when a store opens; a key id the process lacks
 * fails the open, naming it; re-sealing with a new key (hookd rekey). On SQLite, the files are read too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "store.h"
#include "tests.h"

#define KEY_B "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define ID_A "66687aad" /* STORE_TEST_KEY's */
#define MARK "marker-6f1d2c"
#define SRC_CONFIG                                                                                             \
	"{\"name\":\"s\",\"scheme\":\"github\",\"secrets\":[\"gh-" MARK "\"],\"destinations\":[{\"url\":"        \
	"\"http://x\",\"headers\":{\"X-Token\":\"tok-" MARK "\"}}]}"

static struct store *st(void) { return *store_fixture(); }

static void reopen(void)
{
	char err[256] = "";
	store_close(st());
	*store_fixture() = store_open(store_fixture_url(), err, sizeof err);
	ck_assert_msg(st() != NULL, "open: %s", err);
}

/* Whether the SQLite files hold MARK in the clear (false on PostgreSQL: the e2e test reads its tables). */
static bool files_hold_marker(void)
{
	const char *path = store_fixture_path();
	static const char *const sfx[] = {"", "-wal"};
	bool found = false;
	for (size_t i = 0; path[0] != '\0' && i < 2; i++) {
		char p[256];
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		FILE *f = fopen(p, "rb");
		if (f == NULL)
			continue;
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		found |= memmem(buf, n, MARK, strlen(MARK)) != NULL;
	}
	return found;
}

static void write_all(void)
{
	struct app a = {.name = "Acme", .metadata = json_object()};
	snprintf(a.id, ID_MAX, "app_%027d", 1);
	struct endpoint e = {.url = "http://x/hook", .description = "", .secret = "whsec_" MARK};
	snprintf(e.id, ID_MAX, "ep_%028d", 1);
	memcpy(e.app_id, a.id, ID_MAX);
	e.metadata = json_object();
	e.headers = json_pack("{s:s}", "Authorization", "Bearer " MARK);
	e.old_secrets = json_pack("[{s:s,s:I}]", "key", "whsec_old" MARK, "expiresAt", (json_int_t)99);
	ck_assert_int_eq(st()->w->batch_begin(st()), STORE_OK);
	ck_assert_int_eq(st()->w->app_put(st(), &a), STORE_OK);
	ck_assert_int_eq(st()->w->endpoint_put(st(), &e), STORE_OK);
	ck_assert_int_eq(st()->w->source_put(st(), "src_1", "s", SRC_CONFIG), STORE_OK);
	ck_assert_int_eq(st()->w->batch_commit(st()), STORE_OK);
	json_decref(a.metadata);
	json_decref(e.metadata);
	json_decref(e.headers);
	json_decref(e.old_secrets);
}

/* What was written, read back in plaintext. */
static void check_all(void)
{
	struct endpoint *eps = NULL;
	size_t n = 0;
	ck_assert_int_eq(st()->w->endpoints_load(st(), &eps, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(eps[0].secret, "whsec_" MARK);
	ck_assert_str_eq(json_string_value(json_object_get(eps[0].headers, "Authorization")), "Bearer " MARK);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(eps[0].old_secrets, 0), "key")),
			 "whsec_old" MARK);
	endpoint_dispose(&eps[0]);
	free(eps);
	char **cfgs = NULL;
	ck_assert_int_eq(st()->w->sources_load(st(), &cfgs, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	json_t *want = json_loads(SRC_CONFIG, 0, NULL), *got = json_loads(cfgs[0], 0, NULL);
	ck_assert_msg(json_equal(want, got), "%s", cfgs[0]);
	json_decref(want);
	json_decref(got);
	free(cfgs[0]);
	free(cfgs);
}

START_TEST(test_seal_at_rest)
{
	write_all();
	check_all();
	reopen(); /* SQLite: the last close checkpoints the WAL into the file */
	ck_assert(!files_hold_marker());
	check_all();
}
END_TEST

START_TEST(test_seal_plaintext_sealed_at_open)
{
	char err[128];
	seal_keys_clear(); /* a hookd from before: stored as it is */
	write_all();
	reopen();
	if (store_fixture_path()[0] != '\0')
		ck_assert(files_hold_marker());
	check_all();
	ck_assert_int_eq(seal_keys_set(STORE_TEST_KEY, NULL, err, sizeof err), 0);
	reopen(); /* the open seals them, and leaves no copy in the files */
	check_all();
	store_close(st());
	*store_fixture() = NULL;
	ck_assert(!files_hold_marker());
	seal_keys_clear(); /* without the key, nothing opens now */
	char oerr[256] = "";
	ck_assert_ptr_null(store_open(store_fixture_url(), oerr, sizeof oerr));
	ck_assert_int_eq(seal_keys_set(STORE_TEST_KEY, NULL, err, sizeof err), 0);
	reopen();
	check_all();
}
END_TEST

START_TEST(test_seal_unknown_key_and_rekey)
{
	char err[256] = "";
	int64_t values = 0;
	write_all();
	store_close(st());
	*store_fixture() = NULL;
	ck_assert_int_eq(seal_keys_set(KEY_B, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(store_open(store_fixture_url(), err, sizeof err));
	ck_assert_msg(strstr(err, "key id " ID_A) != NULL, "%s", err);
	ck_assert_int_eq(seal_keys_set(KEY_B, STORE_TEST_KEY, err, sizeof err), 0);
	reopen();
	check_all();
	ck_assert_int_eq(st()->w->secrets_reseal(st(), SEAL_NOT_CURRENT, &values, err, sizeof err), STORE_OK);
	ck_assert_int_eq(values, 5); /* the secret, a header, an old secret; the source's secret and header */
	values = 0;
	ck_assert_int_eq(st()->w->secrets_reseal(st(), SEAL_NOT_CURRENT, &values, err, sizeof err), STORE_OK);
	ck_assert_int_eq(values, 0);
	ck_assert_int_eq(seal_keys_set(KEY_B, NULL, err, sizeof err), 0);
	reopen();
	check_all();
}
END_TEST

void store_seal_tests(TCase *tc)
{
	tcase_add_test(tc, test_seal_at_rest);
	tcase_add_test(tc, test_seal_plaintext_sealed_at_open);
	tcase_add_test(tc, test_seal_unknown_key_and_rekey);
}
