/* tests.h: the unit suites; main.c runs them all. One file per module: tests/unit/test_<module>.c. */
#ifndef HOOKD_TESTS_H
#define HOOKD_TESTS_H
#include <check.h>

Suite *util_suite(void);
Suite *sign_suite(void);
Suite *id_suite(void);
Suite *filter_suite(void);
Suite *pfilter_suite(void);
Suite *backoff_suite(void);
Suite *store_suite(void);
Suite *json_suite(void);
Suite *evtypes_suite(void);
Suite *source_suite(void);
Suite *cache_suite(void);
Suite *commit_suite(void);
Suite *scheduler_suite(void);
Suite *config_suite(void);
Suite *seal_suite(void);
Suite *netguard_suite(void);
Suite *apiver_suite(void);
Suite *xform_suite(void);
Suite *request_suite(void);
Suite *openapi_suite(void);

struct store;
/* A fresh SQLite store in a new temp dir (/tmp/hookd-NAME-XXXXXX, written into dir); fails the test if it
 * cannot be opened. */
struct store *tests_sqlite_store(char dir[64], const char *name);
/* The store contract suite's fixture (store_fixture.c, for test_store*.c): the store under test (closed and
 * reopened by a test as it needs), its URL, its SQLite file ("" on PostgreSQL). Every test starts with
 * STORE_TEST_KEY sealing. */
#define STORE_TEST_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
struct store **store_fixture(void);
const char *store_fixture_url(void);
const char *store_fixture_path(void);
/* The contract tests of secrets at rest (test_store_seal.c), added to the suite's contract case. */
void store_seal_tests(TCase *tc);
/* The contract tests of payload versions (test_store_apiver.c). */
void store_apiver_tests(TCase *tc);

/* Remove a test's temp dir and the files in it. */
void tests_rmdir(const char *dir);

#endif
