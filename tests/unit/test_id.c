/* test_id.c: id format, strict monotonicity (one thread and two), time round trip, sort order, uid names. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "tests.h"
#include "util.h"

#define MANY 100000
#define PER_THREAD 50000

static bool all_base62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

START_TEST(test_format)
{
	char id[ID_MAX];
	id_new("msg_", id);
	ck_assert_uint_eq(strlen(id), 4 + ID_BODY_LEN);
	ck_assert_int_eq(strncmp(id, "msg_", 4), 0);
	ck_assert(all_base62(id + 4, ID_BODY_LEN));
	ck_assert(id_is("msg_", id));
	ck_assert(!id_is("ep_", id));
	ck_assert(!id_is("msg", id + 1));
	id_new("", id);
	ck_assert_uint_eq(strlen(id), ID_BODY_LEN);
	ck_assert(id_is("", id));
	id_new("longprefix_", id); /* the longest prefix ID_MAX allows is 12 */
	ck_assert(id_is("longprefix_", id));
}
END_TEST

START_TEST(test_is_rejects)
{
	char id[ID_MAX], bad[ID_MAX + 8];
	id_new("msg_", id);
	strcpy(bad, id);
	bad[strlen(bad) - 1] = '\0'; /* 26 digits */
	ck_assert(!id_is("msg_", bad));
	snprintf(bad, sizeof bad, "%s0", id); /* 28 digits */
	ck_assert(!id_is("msg_", bad));
	strcpy(bad, id);
	bad[10] = '-';
	ck_assert(!id_is("msg_", bad));
	ck_assert_int_eq(id_time_ms("msg_", bad), -1);
	/* 27 base62 digits, but above 2^160: not an id. */
	ck_assert(!id_is("msg_", "msg_zzzzzzzzzzzzzzzzzzzzzzzzzzz"));
	ck_assert_int_eq(id_time_ms("msg_", "msg_zzzzzzzzzzzzzzzzzzzzzzzzzzz"), -1);
	ck_assert(id_is("msg_", "msg_000000000000000000000000000"));
	ck_assert(!id_is("msg_", ""));
	ck_assert(!id_is("msg_", NULL));
	ck_assert_int_eq(id_time_ms("msg_", "msg_"), -1);
}
END_TEST

START_TEST(test_monotonic)
{
	char prev[ID_MAX], cur[ID_MAX];
	id_new("msg_", prev);
	for (int i = 0; i < MANY; i++) {
		id_new("msg_", cur);
		ck_assert_msg(strcmp(prev, cur) < 0, "id %d not increasing: %s then %s", i, prev, cur);
		memcpy(prev, cur, ID_MAX);
	}
}
END_TEST

struct gen {
	char (*ids)[ID_MAX];
	bool increasing;
};

static void *gen_run(void *arg)
{
	struct gen *g = arg;
	g->increasing = true;
	for (int i = 0; i < PER_THREAD; i++) {
		id_new("msg_", g->ids[i]);
		if (i > 0 && strcmp(g->ids[i - 1], g->ids[i]) >= 0)
			g->increasing = false;
	}
	return NULL;
}

static int cmp_ids(const void *a, const void *b) { return strcmp(a, b); }

/* Two threads: each sees its own ids strictly increase, and no id is made twice. */
START_TEST(test_threads)
{
	char(*ids)[ID_MAX] = calloc(2 * PER_THREAD, ID_MAX);
	ck_assert_ptr_nonnull(ids);
	struct gen g[2] = {{ids, false}, {ids + PER_THREAD, false}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, gen_run, &g[i]), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert(g[0].increasing);
	ck_assert(g[1].increasing);
	qsort(ids, 2 * PER_THREAD, ID_MAX, cmp_ids);
	for (int i = 1; i < 2 * PER_THREAD; i++)
		ck_assert_msg(strcmp(ids[i - 1], ids[i]) < 0, "duplicate id %s", ids[i]);
	free(ids);
}
END_TEST

START_TEST(test_time_round_trip)
{
	static const int64_t times[] = {0, 1, 999, 1614265330123, 1893456000000, (INT64_C(1) << 48) - 1};
	char id[ID_MAX];
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		id_new_at("atmpt_", times[i], id);
		ck_assert_int_eq(id_time_ms("atmpt_", id), times[i]);
		ck_assert_int_eq(id_time_ms("msg_", id), -1);
	}
	id_new_at("x_", -5, id); /* clamped */
	ck_assert_int_eq(id_time_ms("x_", id), 0);
	/* Time 0, counter 0: the value is under 2^96 < 62^17, so the first 10 digits are zero. */
	ck_assert_int_eq(strncmp(id + 2, "0000000000", 10), 0);
	int64_t before = now_ms();
	id_new("msg_", id);
	int64_t after = now_ms();
	ck_assert_int_ge(id_time_ms("msg_", id), before);
	ck_assert_int_le(id_time_ms("msg_", id), after);
}
END_TEST

START_TEST(test_sortable)
{
	static const int64_t times[] = {0, 1, 2, 61, 62, 1000, 65536, 1614265330123, 1614265330124, 1893456000000,
					(INT64_C(1) << 48) - 1};
	char a[ID_MAX], b[ID_MAX];
	for (size_t i = 1; i < sizeof times / sizeof times[0]; i++) {
		for (int rep = 0; rep < 50; rep++) { /* random tails must never outweigh the time */
			id_new_at("msg_", times[i - 1], a);
			id_new_at("msg_", times[i], b);
			ck_assert_msg(strcmp(a, b) < 0, "%s (t=%lld) >= %s", a, (long long)times[i - 1], b);
		}
	}
	id_new_at("msg_", now_ms() - 1, a);
	id_new("msg_", b);
	ck_assert_str_lt(a, b);
}
END_TEST

START_TEST(test_uid_valid)
{
	char s[300];
	ck_assert(uid_valid("a"));
	ck_assert(uid_valid("customer-42_v1.2"));
	ck_assert(!uid_valid(""));
	ck_assert(!uid_valid(NULL));
	ck_assert(!uid_valid("a b"));
	ck_assert(!uid_valid("a/b"));
	ck_assert(!uid_valid("a:b"));
	ck_assert(!uid_valid("caf\xc3\xa9"));
	memset(s, 'x', 256);
	s[256] = '\0';
	ck_assert(uid_valid(s));
	s[256] = 'x';
	s[257] = '\0';
	ck_assert(!uid_valid(s));
}
END_TEST

START_TEST(test_id_floor)
{
	char floor[ID_MAX], before[ID_MAX], at[ID_MAX], later[ID_MAX];
	int64_t ms = 1795400000123;
	id_floor("atmpt_", ms, floor);
	ck_assert(id_is("atmpt_", floor));
	ck_assert_int_eq(id_time_ms("atmpt_", floor), ms);
	for (int i = 0; i < 100; i++) {
		id_new_at("atmpt_", ms - 1, before);
		id_new_at("atmpt_", ms, at);
		id_new_at("atmpt_", ms + 1, later);
		ck_assert_int_lt(strcmp(before, floor), 0); /* made earlier: below the floor */
		ck_assert_int_ge(strcmp(at, floor), 0);     /* made at ms: at or above */
		ck_assert_int_gt(strcmp(later, floor), 0);
	}
}
END_TEST

Suite *id_suite(void)
{
	Suite *s = suite_create("id");
	TCase *tc = tcase_create("id");
	tcase_set_timeout(tc, 60); /* 100k ids under sanitizers */
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_is_rejects);
	tcase_add_test(tc, test_monotonic);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_time_round_trip);
	tcase_add_test(tc, test_sortable);
	tcase_add_test(tc, test_uid_valid);
	tcase_add_test(tc, test_id_floor);
	suite_add_tcase(s, tc);
	return s;
}
