/* test_backoff.c: default schedule, schedule parsing, jitter bounds, Retry-After, throttling, the last step. */
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "tests.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define RFC9110_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define RFC9110_MS (INT64_C(784111777) * 1000)

START_TEST(test_defaults)
{
	static const int64_t want[] = {5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR};
	struct backoff b;
	backoff_default(&b);
	ck_assert_int_eq(b.steps, 7);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(b.delay_ms[i], want[i]);
	ck_assert_double_eq_tol(b.jitter, 0.2, 1e-12);
	ck_assert_int_eq(b.throttled_min_ms, 60 * SEC);
	ck_assert_int_eq(b.retry_after_max_ms, 24 * HOUR);
}
END_TEST

START_TEST(test_parse)
{
	struct backoff b;
	backoff_default(&b);
	ck_assert_int_eq(backoff_parse_schedule(&b, "5s,5m,30m"), 0);
	ck_assert_int_eq(b.steps, 3);
	ck_assert_int_eq(b.delay_ms[0], 5 * SEC);
	ck_assert_int_eq(b.delay_ms[1], 5 * MIN);
	ck_assert_int_eq(b.delay_ms[2], 30 * MIN);
	ck_assert_double_eq_tol(b.jitter, 0.2, 1e-12); /* only the schedule changes */
	ck_assert_int_eq(backoff_parse_schedule(&b, "0.1,0.2"), 0);
	ck_assert_int_eq(b.steps, 2);
	ck_assert_int_eq(b.delay_ms[0], 100);
	ck_assert_int_eq(b.delay_ms[1], 200);
	ck_assert_int_eq(backoff_parse_schedule(&b, " 250ms , 1.5s,2h "), 0);
	ck_assert_int_eq(b.steps, 3);
	ck_assert_int_eq(b.delay_ms[0], 250);
	ck_assert_int_eq(b.delay_ms[1], 1500);
	ck_assert_int_eq(b.delay_ms[2], 2 * HOUR);
	ck_assert_int_eq(backoff_parse_schedule(&b, ""), 0);
	ck_assert_int_eq(b.steps, 0);
}
END_TEST

START_TEST(test_parse_rejects)
{
	static const char *bad[] = {"5s,,5m", "5s,", ",5s", ",", "abc", "5x", "5s;5m", "-5s", "5s 5m"};
	struct backoff b;
	backoff_default(&b);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(backoff_parse_schedule(&b, bad[i]) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(b.steps, 7); /* a bad spec leaves the schedule alone */
		ck_assert_int_eq(b.delay_ms[0], 5 * SEC);
	}
	ck_assert_int_eq(backoff_parse_schedule(&b, NULL), -1);
}
END_TEST

START_TEST(test_parse_limit)
{
	char spec[200] = "";
	struct backoff b;
	backoff_default(&b);
	for (int i = 0; i < BACKOFF_MAX_STEPS; i++)
		strcat(spec, i ? ",1s" : "1s");
	ck_assert_int_eq(backoff_parse_schedule(&b, spec), 0);
	ck_assert_int_eq(b.steps, BACKOFF_MAX_STEPS);
	strcat(spec, ",1s");
	ck_assert_int_eq(backoff_parse_schedule(&b, spec), -1);
	ck_assert_int_eq(b.steps, BACKOFF_MAX_STEPS);
}
END_TEST

START_TEST(test_jitter_bounds)
{
	struct backoff b;
	backoff_default(&b);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.0, -1, false), 4000);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, -1, false), 5000);
	int64_t hi = backoff_next_ms(&b, 1, 0.9999999, -1, false);
	ck_assert_int_ge(hi, 5999);
	ck_assert_int_le(hi, 6000);
	ck_assert_int_eq(backoff_next_ms(&b, 2, 0.0, -1, false), 4 * MIN);
	ck_assert_int_eq(backoff_next_ms(&b, 7, 0.5, -1, false), 10 * HOUR);
	for (double r = 0; r < 1; r += 0.001) {
		int64_t d = backoff_next_ms(&b, 3, r, -1, false);
		ck_assert_int_ge(d, 24 * MIN);
		ck_assert_int_le(d, 36 * MIN);
	}
	/* Out-of-range random numbers are clamped, never stretched. */
	ck_assert_int_eq(backoff_next_ms(&b, 1, -3.0, -1, false), 4000);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 7.0, -1, false), 6000);
	b.jitter = 0;
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.0, -1, false), 5000);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.99, -1, false), 5000);
}
END_TEST

START_TEST(test_retry_after_parse)
{
	ck_assert_int_eq(backoff_retry_after_ms("120", 0), 120 * SEC);
	ck_assert_int_eq(backoff_retry_after_ms("0", 0), 0);
	ck_assert_int_eq(backoff_retry_after_ms(" 7 ", 0), 7 * SEC);
	ck_assert_int_eq(backoff_retry_after_ms(RFC9110_DATE, RFC9110_MS - 10 * SEC), 10 * SEC);
	ck_assert_int_eq(backoff_retry_after_ms(RFC9110_DATE, RFC9110_MS - 1), 1);
	ck_assert_int_eq(backoff_retry_after_ms(RFC9110_DATE, RFC9110_MS), 0);
	ck_assert_int_eq(backoff_retry_after_ms(RFC9110_DATE, RFC9110_MS + HOUR), 0); /* past */
	ck_assert_int_eq(backoff_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", INT64_C(1445412480) * 1000 - MIN),
			 MIN);
	/* Huge delta-seconds saturate (at 10^12 s) instead of overflowing. */
	ck_assert_int_eq(backoff_retry_after_ms("999999999999", 0), INT64_C(999999999999) * SEC);
	ck_assert_int_eq(backoff_retry_after_ms("1000000000000", 0), INT64_C(1000000000000) * SEC);
	ck_assert_int_eq(backoff_retry_after_ms("99999999999999999999999999", 0), INT64_C(1000000000000) * SEC);
}
END_TEST

START_TEST(test_retry_after_garbage)
{
	static const char *bad[] = {
	    "", "   ", "soon", "-5", "+5", "1.5", "5s", "5 0", "0x10",
	    "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37", "Sun, 32 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx", "06 Nov 1994 08:49:37 GMT",
	    "Sunday, 06 Nov 1994 08:49:37 GMT", /* IMF-fixdate only: no full day names, no RFC 850 */
	    "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(backoff_retry_after_ms(bad[i], RFC9110_MS - HOUR) == -1, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(backoff_retry_after_ms(NULL, 0), -1);
}
END_TEST

START_TEST(test_retry_after_delay)
{
	struct backoff b;
	backoff_default(&b);
	/* Retry-After above the schedule wins; below it the schedule wins. */
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 2 * MIN, false), 2 * MIN);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 1 * SEC, false), 5 * SEC);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 0, false), 5 * SEC);
	/* Capped at 24 h. */
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 48 * HOUR, false), 24 * HOUR);
	b.retry_after_max_ms = HOUR;
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 48 * HOUR, false), HOUR);
}
END_TEST

START_TEST(test_throttled)
{
	struct backoff b;
	backoff_default(&b);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, -1, true), 60 * SEC);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.0, -1, true), 60 * SEC);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, 2 * MIN, true), 2 * MIN);
	ck_assert_int_eq(backoff_next_ms(&b, 2, 0.5, -1, true), 5 * MIN); /* the schedule is already longer */
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, -1, false), 5 * SEC);
}
END_TEST

START_TEST(test_last_step)
{
	struct backoff b;
	backoff_default(&b);
	ck_assert_int_ge(backoff_next_ms(&b, 7, 0.5, -1, false), 0);
	ck_assert_int_eq(backoff_next_ms(&b, 8, 0.5, -1, false), -1);
	ck_assert_int_eq(backoff_next_ms(&b, 8, 0.5, 10 * SEC, true), -1);
	ck_assert_int_eq(backoff_next_ms(&b, 0, 0.5, -1, false), -1);
	ck_assert_int_eq(backoff_parse_schedule(&b, "1s"), 0);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, -1, false), 1000);
	ck_assert_int_eq(backoff_next_ms(&b, 2, 0.5, -1, false), -1);
	ck_assert_int_eq(backoff_parse_schedule(&b, ""), 0);
	ck_assert_int_eq(backoff_next_ms(&b, 1, 0.5, -1, false), -1);
}
END_TEST

START_TEST(test_with_schedule)
{
	struct backoff b, own;
	backoff_default(&b);
	b.jitter = 0;
	b.throttled_min_ms = 2 * SEC;
	const int64_t delays[] = {50, 100};
	backoff_with_schedule(&own, &b, delays, 2);
	ck_assert_int_eq(own.steps, 2);
	ck_assert_int_eq(backoff_next_ms(&own, 1, 0.5, -1, false), 50);
	ck_assert_int_eq(backoff_next_ms(&own, 2, 0.5, -1, false), 100);
	ck_assert_int_eq(backoff_next_ms(&own, 3, 0.5, -1, false), -1); /* exhausted by the endpoint's schedule */
	ck_assert_int_eq(backoff_next_ms(&own, 1, 0.5, -1, true), 2 * SEC); /* the server's throttled minimum */
	ck_assert_int_eq(backoff_next_ms(&own, 1, 0.5, 72 * HOUR, false), 24 * HOUR); /* and Retry-After cap */
	ck_assert_int_eq(b.steps, 7); /* the server's is untouched */
	backoff_with_schedule(&own, &b, delays, 0); /* [] : no retries */
	ck_assert_int_eq(backoff_next_ms(&own, 1, 0.5, -1, false), -1);
	backoff_with_schedule(&own, &b, delays, -3);
	ck_assert_int_eq(own.steps, 0);
	b.jitter = 0.2;
	backoff_with_schedule(&own, &b, delays, 1);
	ck_assert_int_eq(backoff_next_ms(&own, 1, 0.0, -1, false), 40); /* the server's jitter */
}
END_TEST

Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("backoff");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_parse_limit);
	tcase_add_test(tc, test_jitter_bounds);
	tcase_add_test(tc, test_retry_after_parse);
	tcase_add_test(tc, test_retry_after_garbage);
	tcase_add_test(tc, test_retry_after_delay);
	tcase_add_test(tc, test_throttled);
	tcase_add_test(tc, test_last_step);
	tcase_add_test(tc, test_with_schedule);
	suite_add_tcase(s, tc);
	return s;
}
