/* test_filter.c: event type patterns, channel rules, absent vs empty lists, name validation. */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "tests.h"

/* A list from a NULL-terminated array of strings; an empty array gives an empty (present) list. */
static struct strlist list_of(const char *const *items)
{
	struct strlist l = {xcalloc(1, sizeof(char *)), 0};
	for (; *items != NULL; items++)
		strlist_add(&l, *items);
	return l;
}

START_TEST(test_type_match)
{
	ck_assert(filter_type_match("order.created", "order.created"));
	ck_assert(!filter_type_match("order.created", "order.create"));
	ck_assert(!filter_type_match("order.created", "order.created.x"));
	ck_assert(!filter_type_match("Order.created", "order.created"));
	ck_assert(filter_type_match("*", "order.created"));
	ck_assert(filter_type_match("*", "x"));
	ck_assert(filter_type_match("order.*", "order.created"));
	ck_assert(filter_type_match("order.*", "order.item.added"));
	ck_assert(!filter_type_match("order.*", "order"));
	ck_assert(!filter_type_match("order.*", "order."));
	ck_assert(!filter_type_match("order.*", "orders.x"));
	ck_assert(!filter_type_match("order.*", "xorder.created"));
	ck_assert(!filter_type_match("order.*", "invoice.paid"));
	ck_assert(filter_type_match("order.item.*", "order.item.added"));
	ck_assert(!filter_type_match("order.item.*", "order.created"));
	/* "*" is only special alone or after a final dot. */
	ck_assert(!filter_type_match("order*", "order.created"));
	ck_assert(!filter_type_match("*.created", "order.created"));
	ck_assert(!filter_type_match(NULL, "order.created"));
	ck_assert(!filter_type_match("*", NULL));
}
END_TEST

START_TEST(test_types_match_lists)
{
	static const char *const none[] = {NULL};
	static const char *const some[] = {"invoice.paid", "order.*", NULL};
	struct strlist absent = {NULL, 0}, empty = list_of(none), l = list_of(some);
	ck_assert(filter_types_match(&absent, "anything"));
	ck_assert(filter_types_match(NULL, "anything"));
	ck_assert(filter_types_match(&empty, "anything"));
	ck_assert(filter_types_match(&l, "invoice.paid"));
	ck_assert(filter_types_match(&l, "order.created"));
	ck_assert(!filter_types_match(&l, "invoice.created"));
	ck_assert(!filter_types_match(&l, "order"));
	strlist_dispose(&empty);
	strlist_dispose(&l);
}
END_TEST

START_TEST(test_channels)
{
	static const char *const none[] = {NULL};
	static const char *const ab[] = {"a", "project:1", NULL};
	static const char *const b[] = {"project:1", NULL};
	static const char *const c[] = {"c", "project:2", NULL};
	struct strlist absent = {NULL, 0}, empty = list_of(none), lab = list_of(ab), lb = list_of(b), lc = list_of(c);
	/* An endpoint without channels (absent or empty) gets everything, channels or not. */
	ck_assert(filter_channels_match(&absent, &absent));
	ck_assert(filter_channels_match(&absent, &lc));
	ck_assert(filter_channels_match(&empty, &empty));
	ck_assert(filter_channels_match(&empty, &lc));
	ck_assert(filter_channels_match(NULL, NULL));
	/* An endpoint with channels gets only messages that share one. */
	ck_assert(filter_channels_match(&lab, &lb));
	ck_assert(filter_channels_match(&lb, &lab));
	ck_assert(!filter_channels_match(&lab, &lc));
	ck_assert(!filter_channels_match(&lab, &absent));
	ck_assert(!filter_channels_match(&lab, &empty));
	ck_assert(!filter_channels_match(&lab, NULL));
	strlist_dispose(&empty);
	strlist_dispose(&lab);
	strlist_dispose(&lb);
	strlist_dispose(&lc);
}
END_TEST

/* A string of n copies of c followed by tail. */
static char *repeat(char c, size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s = xmalloc(n + t + 1);
	memset(s, c, n);
	memcpy(s + n, tail, t + 1);
	return s;
}

START_TEST(test_event_type_valid)
{
	ck_assert(filter_event_type_valid("order.created"));
	ck_assert(filter_event_type_valid("user-1_v2.X"));
	ck_assert(!filter_event_type_valid(""));
	ck_assert(!filter_event_type_valid(NULL));
	ck_assert(!filter_event_type_valid("*"));
	ck_assert(!filter_event_type_valid("order.*"));
	ck_assert(!filter_event_type_valid("order created"));
	ck_assert(!filter_event_type_valid("order:created"));
	ck_assert(!filter_event_type_valid("order/created"));
	ck_assert(!filter_event_type_valid("caf\xc3\xa9"));
	char *s = repeat('a', 256, "");
	ck_assert(filter_event_type_valid(s));
	free(s);
	s = repeat('a', 257, "");
	ck_assert(!filter_event_type_valid(s));
	free(s);
}
END_TEST

START_TEST(test_pattern_valid)
{
	ck_assert(filter_pattern_valid("*"));
	ck_assert(filter_pattern_valid("order.created"));
	ck_assert(filter_pattern_valid("order.*"));
	ck_assert(filter_pattern_valid("order.item.*"));
	ck_assert(!filter_pattern_valid(""));
	ck_assert(!filter_pattern_valid(NULL));
	ck_assert(!filter_pattern_valid(".*"));
	ck_assert(!filter_pattern_valid("order*"));
	ck_assert(!filter_pattern_valid("*.created"));
	ck_assert(!filter_pattern_valid("order.*.created"));
	ck_assert(!filter_pattern_valid("**"));
	ck_assert(!filter_pattern_valid("order .*"));
	char *s = repeat('a', 254, ".*");
	ck_assert(filter_pattern_valid(s));
	free(s);
	s = repeat('a', 255, ".*");
	ck_assert(!filter_pattern_valid(s));
	free(s);
}
END_TEST

START_TEST(test_channel_valid)
{
	ck_assert(filter_channel_valid("project:123"));
	ck_assert(filter_channel_valid("a-b_c.d"));
	ck_assert(!filter_channel_valid(""));
	ck_assert(!filter_channel_valid(NULL));
	ck_assert(!filter_channel_valid("a b"));
	ck_assert(!filter_channel_valid("a*"));
	ck_assert(!filter_channel_valid("a/b"));
	char *s = repeat('c', 128, "");
	ck_assert(filter_channel_valid(s));
	free(s);
	s = repeat('c', 129, "");
	ck_assert(!filter_channel_valid(s));
	free(s);
}
END_TEST

Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("filter");
	tcase_add_test(tc, test_type_match);
	tcase_add_test(tc, test_types_match_lists);
	tcase_add_test(tc, test_channels);
	tcase_add_test(tc, test_event_type_valid);
	tcase_add_test(tc, test_pattern_valid);
	tcase_add_test(tc, test_channel_valid);
	suite_add_tcase(s, tc);
	return s;
}
