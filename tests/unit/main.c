/* main.c: run every unit suite; Check prints its summary line ("100%: Checks: N, Failures: 0, Errors: 0"). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "tests.h"

struct store *tests_sqlite_store(char dir[64], const char *name)
{
	char url[128], err[256] = "";
	snprintf(dir, 64, "/tmp/hookd-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct store *st = store_open(url, err, sizeof err);
	ck_assert_msg(st != NULL, "open %s: %s", url, err);
	return st;
}

void tests_rmdir(const char *d)
{
	DIR *dp = opendir(d);
	if (dp == NULL)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", d, e->d_name);
		unlink(p);
	}
	closedir(dp);
	rmdir(d);
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	srunner_add_suite(sr, sign_suite());
	srunner_add_suite(sr, id_suite());
	srunner_add_suite(sr, filter_suite());
	srunner_add_suite(sr, pfilter_suite());
	srunner_add_suite(sr, backoff_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, evtypes_suite());
	srunner_add_suite(sr, source_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, seal_suite());
	srunner_add_suite(sr, netguard_suite());
	srunner_add_suite(sr, cache_suite());
	srunner_add_suite(sr, commit_suite());
	srunner_add_suite(sr, scheduler_suite());
	srunner_add_suite(sr, apiver_suite());
	srunner_add_suite(sr, xform_suite());
	srunner_add_suite(sr, request_suite());
	srunner_add_suite(sr, openapi_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
