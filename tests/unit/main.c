/* main.c: run every unit suite; Check prints its summary line ("100%: Checks: N, Failures: 0, Errors: 0"). */
#include <stdlib.h>

#include "tests.h"

Suite *config_suite(void); /* test_config.c */

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	srunner_add_suite(sr, sign_suite());
	srunner_add_suite(sr, id_suite());
	srunner_add_suite(sr, filter_suite());
	srunner_add_suite(sr, backoff_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, evtypes_suite());
	srunner_add_suite(sr, source_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, cache_suite());
	srunner_add_suite(sr, commit_suite());
	srunner_add_suite(sr, scheduler_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
