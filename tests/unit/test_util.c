/* test_util.c: RFC 3339 times, durations, capped buffers, string lists (absent vs empty), monotonic deadlines. */
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "util.h"

#define T_2026 INT64_C(1795428000000) /* 2026-11-23T10:00:00Z */

START_TEST(test_rfc3339_format)
{
	char out[RFC3339_LEN];
	rfc3339_format(T_2026 + 123, out);
	ck_assert_str_eq(out, "2026-11-23T10:00:00.123Z");
	rfc3339_format(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
	rfc3339_format(INT64_C(951868799) * 1000 + 7, out);
	ck_assert_str_eq(out, "2000-02-29T23:59:59.007Z");
}
END_TEST

START_TEST(test_rfc3339_round_trip)
{
	static const int64_t times[] = {0, 1, 999, 1000, T_2026 + 123, INT64_C(951868799) * 1000 + 7,
					INT64_C(4102444799999)};
	char out[RFC3339_LEN];
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		int64_t back = -1;
		rfc3339_format(times[i], out);
		ck_assert_int_eq(rfc3339_parse(out, &back), 0);
		ck_assert_int_eq(back, times[i]);
	}
}
END_TEST

START_TEST(test_rfc3339_offsets)
{
	int64_t ms = 0;
	ck_assert_int_eq(rfc3339_parse("2026-11-23T10:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, T_2026);
	ck_assert_int_eq(rfc3339_parse("2026-11-23T12:30:00+02:30", &ms), 0);
	ck_assert_int_eq(ms, T_2026);
	ck_assert_int_eq(rfc3339_parse("2026-11-23T05:00:00-05:00", &ms), 0);
	ck_assert_int_eq(ms, T_2026);
	ck_assert_int_eq(rfc3339_parse("2026-11-23T10:00:00+00:00", &ms), 0);
	ck_assert_int_eq(ms, T_2026);
	ck_assert_int_eq(rfc3339_parse("2026-11-23t10:00:00z", &ms), 0);
	ck_assert_int_eq(ms, T_2026);
	/* Fractions: fewer than 3 digits scale up, more than 3 are truncated. */
	ck_assert_int_eq(rfc3339_parse("2026-11-23T10:00:00.5Z", &ms), 0);
	ck_assert_int_eq(ms, T_2026 + 500);
	ck_assert_int_eq(rfc3339_parse("2026-11-23T10:00:00.123456Z", &ms), 0);
	ck_assert_int_eq(ms, T_2026 + 123);
	ck_assert_int_eq(rfc3339_parse("2026-11-23T10:00:00.25+01:00", &ms), 0);
	ck_assert_int_eq(ms, T_2026 - 3600 * 1000 + 250);
}
END_TEST

START_TEST(test_rfc3339_malformed)
{
	static const char *bad[] = {"", "2026", "2026-11-23", "2026-11-23T10:00:00", "2026-11-23T10:00Z",
				    "2026-11-23T10:00:00.Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
				    "2026-11-32T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z",
				    "2026-11-23X10:00:00Z", "2026-11-23T10:00:00+0100", "2026-11-23T10:00:00+01",
				    "2026-11-23T10:00:00Zjunk", " 2026-11-23T10:00:00Z", "26-11-23T10:00:00Z",
				    "2026/11/23T10:00:00Z", "2026-1a-23T10:00:00Z", "2026-02-31T00:00:00Z",
				    "2026-11-23T10:00:00+99:99", "2026-11-23T10:00:00+01:60"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 42;
		ck_assert_msg(rfc3339_parse(bad[i], &ms) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(ms, 42);
	}
}
END_TEST

START_TEST(test_duration)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {{"250ms", 250}, {"5s", 5000}, {"5m", 300000}, {"2h", 7200000}, {"1d", 86400000},
		    {"1.5s", 1500}, {"0.1", 100}, {"30", 30000}, {"0", 0}, {"0ms", 0}};
	static const char *bad[] = {"", " 5s", "5 s", "5x", "s", "-1s", "5sec", "inf", "nan", "1e300h", "5s5",
				    "0x10", "1e3", "1.2.3s", ".5s"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t ms = -1;
		ck_assert_msg(duration_parse(good[i].s, &ms) == 0, "rejected \"%s\"", good[i].s);
		ck_assert_int_eq(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 42;
		ck_assert_msg(duration_parse(bad[i], &ms) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(ms, 42);
	}
	int64_t ms;
	ck_assert_int_eq(duration_parse(NULL, &ms), -1);
}
END_TEST

START_TEST(test_buf_cap)
{
	struct buf b;
	buf_init(&b, 10);
	ck_assert_int_eq(buf_append(&b, "hello", 5), 0);
	ck_assert_int_eq(buf_append(&b, "world", 5), 0); /* exactly at the cap */
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "helloworld");
	ck_assert(!b.toobig);
	ck_assert_int_eq(buf_append(&b, "!", 1), -1);
	ck_assert(b.toobig);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "helloworld");
	/* Once too big, stays too big until reset, even for an empty append. */
	ck_assert_int_eq(buf_append(&b, "", 0), -1);
	buf_reset(&b);
	ck_assert(!b.toobig);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_append(&b, "0123456789A", 11), -1); /* one chunk over the cap */
	ck_assert(b.toobig);
	ck_assert_uint_eq(b.len, 0);
	buf_dispose(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_buf_growth)
{
	struct buf b;
	char chunk[100];
	memset(chunk, 'z', sizeof chunk);
	buf_init(&b, 100000);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append(&b, chunk, sizeof chunk), 0);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_uint_eq(strlen(b.data), 100000); /* NUL-terminated after the data */
	ck_assert_int_eq(buf_append(&b, chunk, 1), -1);
	buf_dispose(&b);
}
END_TEST

/* Appending nothing from an empty buffer's NULL data (a buffer copied into another before its first append) is
 * fine: under UBSan, a memcpy from NULL fails this test even with a length of 0. */
START_TEST(test_buf_empty_append)
{
	struct buf from, to;
	buf_init(&from, 100);
	buf_init(&to, 100);
	ck_assert_ptr_null(from.data);
	ck_assert_int_eq(buf_append(&to, from.data, from.len), 0);
	ck_assert_uint_eq(to.len, 0);
	ck_assert_int_eq(buf_append(&to, "ab", 2), 0);
	ck_assert_int_eq(buf_append(&to, from.data, from.len), 0);
	ck_assert_str_eq(to.data, "ab");
	buf_dispose(&to);
}
END_TEST

/* A deadline: normalized, and about ns from now (whole seconds and the rest). */
START_TEST(test_mono_after_ns)
{
	const int64_t waits[] = {0, 1, 999999999, 1000000000, 2500000000LL};
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		struct timespec now, t = mono_after_ns(waits[i]);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert(t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
		int64_t left = ((int64_t)t.tv_sec - now.tv_sec) * 1000000000 + (t.tv_nsec - now.tv_nsec);
		ck_assert_msg(left <= waits[i] && left > waits[i] - 100000000, "wait %lld: %lld left", (long long)waits[i],
			      (long long)left);
	}
}
END_TEST

START_TEST(test_strlist)
{
	struct strlist absent = {NULL, 0}, copy, empty = {xcalloc(1, sizeof(char *)), 0};
	/* Absent copies as absent, empty as empty: the two must stay distinct. */
	strlist_copy(&copy, &absent);
	ck_assert_ptr_null(copy.v);
	ck_assert_uint_eq(copy.n, 0);
	strlist_copy(&copy, &empty);
	ck_assert_ptr_nonnull(copy.v);
	ck_assert_uint_eq(copy.n, 0);
	ck_assert(!strlist_contains(&copy, "a"));
	strlist_dispose(&copy);
	ck_assert_ptr_null(copy.v);
	strlist_add(&empty, "a");
	strlist_add(&empty, "b");
	ck_assert_uint_eq(empty.n, 2);
	ck_assert(strlist_contains(&empty, "b"));
	ck_assert(!strlist_contains(&empty, "c"));
	ck_assert(!strlist_contains(&absent, "a"));
	strlist_copy(&copy, &empty);
	ck_assert_uint_eq(copy.n, 2);
	ck_assert_str_eq(copy.v[1], "b");
	ck_assert_ptr_ne(copy.v[1], empty.v[1]); /* deep copy */
	strlist_dispose(&copy);
	strlist_dispose(&empty);
	ck_assert_ptr_null(empty.v);
	ck_assert_uint_eq(empty.n, 0);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, test_rfc3339_format);
	tcase_add_test(tc, test_rfc3339_round_trip);
	tcase_add_test(tc, test_rfc3339_offsets);
	tcase_add_test(tc, test_rfc3339_malformed);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_buf_cap);
	tcase_add_test(tc, test_buf_growth);
	tcase_add_test(tc, test_buf_empty_append);
	tcase_add_test(tc, test_mono_after_ns);
	tcase_add_test(tc, test_strlist);
	suite_add_tcase(s, tc);
	return s;
}
