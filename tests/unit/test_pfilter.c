/* test_pfilter.c: payload filters: every operator, paths over objects and arrays, types, errors and limits. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfilter.h"
#include "tests.h"
#include "util.h"

static const char doc[] =
	"{\"type\":\"order\",\"amount\":120,\"price\":9.5,\"big\":9007199254740993,\"ok\":true,\"none\":null,"
	"\"customer\":{\"tier\":\"gold\",\"name\":\"Ana\",\"address\":{\"country\":\"PT\"}},"
	"\"tags\":[\"new\",\"vip\"],\"scores\":[3,7,11],"
	"\"items\":[{\"sku\":\"A1\",\"qty\":2,\"opts\":[{\"c\":\"red\"}]},{\"sku\":\"B2\",\"qty\":5}],"
	"\"matrix\":[[1,2],[3,4]],\"empty\":{},\"text\":\"héllo wörld\"}";

/* 1 if filter matches payload, 0 if not; fails the test if the filter does not compile. */
static int m_on(const char *filter, const char *payload)
{
	char err[PFILTER_ERR_MAX];
	struct pfilter *f = pfilter_compile_text(filter, strlen(filter), "payloadFilter", err);
	ck_assert_msg(f != NULL, "%s: %s", filter, err);
	json_t *p = payload ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
	int r = pfilter_match(f, p);
	json_decref(p);
	pfilter_free(f);
	return r;
}

static int m(const char *filter) { return m_on(filter, doc); }

/* The filter fails to compile with exactly this message. */
static void bad(const char *filter, const char *want)
{
	char err[PFILTER_ERR_MAX];
	struct pfilter *f = pfilter_compile_text(filter, strlen(filter), "payloadFilter", err);
	ck_assert_msg(f == NULL, "%s compiled", filter);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: got \"%s\", want \"%s\"", filter, err, want);
}

START_TEST(test_eq_ne)
{
	ck_assert(m("{}"));
	ck_assert(m("{\"type\":\"order\"}"));
	ck_assert(!m("{\"type\":\"Order\"}"));
	ck_assert(m("{\"type\":{\"$eq\":\"order\"}}"));
	ck_assert(m("{\"amount\":120}"));
	ck_assert(m("{\"amount\":120.0}")); /* integers and reals compare as numbers */
	ck_assert(m("{\"price\":{\"$eq\":9.5}}"));
	ck_assert(!m("{\"amount\":\"120\"}")); /* mismatched types never match */
	ck_assert(m("{\"ok\":true}"));
	ck_assert(!m("{\"ok\":false}"));
	ck_assert(m("{\"customer\":{\"tier\":\"gold\",\"name\":\"Ana\",\"address\":{\"country\":\"PT\"}}}"));
	ck_assert(!m("{\"customer\":{\"tier\":\"gold\"}}")); /* a literal object is equal as a whole */
	ck_assert(m("{\"empty\":{}}"));
	ck_assert(m("{\"none\":null}"));
	ck_assert(m("{\"missing\":null}")); /* null also matches a missing field */
	ck_assert(!m("{\"type\":null}"));
	ck_assert(m("{\"tags\":[\"new\",\"vip\"]}")); /* the array itself */
	ck_assert(m("{\"tags\":\"vip\"}"));           /* or one of its elements */
	ck_assert(!m("{\"tags\":\"old\"}"));
	ck_assert(m("{\"type\":{\"$ne\":\"refund\"}}"));
	ck_assert(!m("{\"type\":{\"$ne\":\"order\"}}"));
	ck_assert(m("{\"missing\":{\"$ne\":1}}"));
	ck_assert(!m("{\"tags\":{\"$ne\":\"vip\"}}"));
	ck_assert(m("{\"amount\":{\"$ne\":\"120\"}}"));
	ck_assert(m("{\"text\":\"héllo wörld\"}"));
	ck_assert(m("{\"big\":9007199254740993}"));
	ck_assert(!m("{\"big\":9007199254740992}")); /* integers compare exactly */
}
END_TEST

START_TEST(test_compare)
{
	ck_assert(m("{\"amount\":{\"$gt\":100}}"));
	ck_assert(!m("{\"amount\":{\"$gt\":120}}"));
	ck_assert(m("{\"amount\":{\"$gte\":120}}"));
	ck_assert(m("{\"amount\":{\"$lt\":120.5}}"));
	ck_assert(!m("{\"amount\":{\"$lt\":120}}"));
	ck_assert(m("{\"amount\":{\"$lte\":120}}"));
	ck_assert(m("{\"amount\":{\"$gt\":100,\"$lt\":200}}"));
	ck_assert(!m("{\"amount\":{\"$gt\":100,\"$lt\":110}}"));
	ck_assert(m("{\"price\":{\"$gt\":9}}"));
	ck_assert(!m("{\"price\":{\"$gt\":9.5}}"));
	ck_assert(!m("{\"amount\":{\"$gt\":\"1\"}}")); /* number vs string */
	ck_assert(!m("{\"type\":{\"$gt\":1}}"));
	ck_assert(!m("{\"ok\":{\"$gt\":0}}"));
	ck_assert(!m("{\"missing\":{\"$lt\":1}}"));
	ck_assert(m("{\"type\":{\"$gt\":\"ord\"}}")); /* strings bytewise */
	ck_assert(m("{\"type\":{\"$lt\":\"p\"}}"));
	ck_assert(!m("{\"type\":{\"$lt\":\"order\"}}"));
	ck_assert(m("{\"type\":{\"$lte\":\"order\"}}"));
	ck_assert(!m("{\"type\":{\"$gt\":\"order\"}}"));
	ck_assert(m("{\"type\":{\"$gt\":\"Order\"}}")); /* 'o' > 'O' */
	ck_assert(m("{\"scores\":{\"$gt\":10}}"));      /* any element */
	ck_assert(!m("{\"scores\":{\"$gt\":11}}"));
	ck_assert(m("{\"scores\":{\"$gt\":8,\"$lt\":5}}")); /* each operator by any element, as MongoDB */
}
END_TEST

START_TEST(test_in_nin_exists)
{
	ck_assert(m("{\"type\":{\"$in\":[\"refund\",\"order\"]}}"));
	ck_assert(!m("{\"type\":{\"$in\":[\"refund\"]}}"));
	ck_assert(!m("{\"type\":{\"$in\":[]}}"));
	ck_assert(m("{\"amount\":{\"$in\":[1,120.0]}}"));
	ck_assert(m("{\"tags\":{\"$in\":[\"vip\"]}}"));
	ck_assert(!m("{\"missing\":{\"$in\":[null]}}")); /* $in tests values; a missing field has none */
	ck_assert(m("{\"type\":{\"$nin\":[\"refund\"]}}"));
	ck_assert(!m("{\"type\":{\"$nin\":[\"order\"]}}"));
	ck_assert(m("{\"type\":{\"$nin\":[]}}"));
	ck_assert(m("{\"missing\":{\"$nin\":[1]}}"));
	ck_assert(!m("{\"tags\":{\"$nin\":[\"new\"]}}"));
	ck_assert(m("{\"customer.tier\":{\"$exists\":true}}"));
	ck_assert(!m("{\"customer.tier\":{\"$exists\":false}}"));
	ck_assert(m("{\"customer.vat\":{\"$exists\":false}}"));
	ck_assert(m("{\"none\":{\"$exists\":true}}")); /* null exists */
	ck_assert(m("{\"items.sku\":{\"$exists\":true}}"));
	ck_assert(!m("{\"items.color\":{\"$exists\":true}}"));
}
END_TEST

START_TEST(test_paths)
{
	ck_assert(m("{\"customer.tier\":\"gold\"}"));
	ck_assert(m("{\"customer.address.country\":\"PT\"}"));
	ck_assert(!m("{\"customer.address.country\":\"ES\"}"));
	ck_assert(!m("{\"customer.tier.x\":\"gold\"}")); /* through a string: nothing */
	ck_assert(m("{\"items.sku\":\"B2\"}"));          /* over every element */
	ck_assert(!m("{\"items.sku\":\"C3\"}"));
	ck_assert(m("{\"items.qty\":{\"$gte\":5}}"));
	ck_assert(m("{\"items.opts.c\":\"red\"}"));
	ck_assert(m("{\"items.0.sku\":\"A1\"}")); /* a numeric segment indexes */
	ck_assert(!m("{\"items.0.sku\":\"B2\"}"));
	ck_assert(m("{\"items.1.qty\":5}"));
	ck_assert(!m("{\"items.2.sku\":{\"$exists\":true}}"));
	ck_assert(m("{\"tags.1\":\"vip\"}"));
	ck_assert(!m("{\"tags.0\":\"vip\"}"));
	ck_assert(m("{\"matrix.1.0\":3}"));
	ck_assert(m("{\"matrix\":[3,4]}")); /* an element that is an array equals */
	ck_assert(m_on("{\"a.0\":\"x\"}", "{\"a\":{\"0\":\"x\"}}")); /* "0" is also a key of an object */
	ck_assert(m_on("{\"a.b\":1}", "{\"a\":[{\"b\":[0,1]}]}"));
	ck_assert(m_on("{\"a.b\":1}", "[{\"a\":{\"b\":1}}]")); /* a top-level array descends too */
	ck_assert(!m_on("{\"k.x\":1}", "{\"k.x\":1,\"k\":{\"x\":2}}")); /* dots always split */
}
END_TEST

START_TEST(test_logic)
{
	ck_assert(m("{\"type\":\"order\",\"amount\":{\"$gt\":100},\"customer.tier\":\"gold\"}"));
	ck_assert(!m("{\"type\":\"order\",\"amount\":{\"$gt\":100},\"customer.tier\":\"silver\"}"));
	ck_assert(m("{\"$or\":[{\"type\":\"refund\"},{\"amount\":{\"$gt\":100}}]}"));
	ck_assert(!m("{\"$or\":[{\"type\":\"refund\"},{\"amount\":{\"$gt\":500}}]}"));
	ck_assert(m("{\"$and\":[{\"type\":\"order\"},{\"amount\":120}]}"));
	ck_assert(!m("{\"$and\":[{\"type\":\"order\"},{\"amount\":121}]}"));
	ck_assert(m("{\"$not\":{\"type\":\"refund\"}}"));
	ck_assert(!m("{\"$not\":{\"type\":\"order\",\"amount\":120}}"));
	ck_assert(m("{\"$not\":{\"type\":\"order\",\"amount\":121}}"));
	ck_assert(m("{\"amount\":{\"$not\":{\"$gt\":500}}}"));
	ck_assert(!m("{\"amount\":{\"$not\":{\"$gt\":5}}}"));
	ck_assert(m("{\"missing\":{\"$not\":{\"$gt\":5}}}")); /* $not matches a missing field */
	ck_assert(m("{\"amount\":{\"$not\":{\"$gt\":100,\"$lt\":110}}}"));
	ck_assert(m("{\"$or\":[{\"$and\":[{\"type\":\"x\"}]},{\"$not\":{\"ok\":false}}]}"));
}
END_TEST

START_TEST(test_regex)
{
	ck_assert(m("{\"type\":{\"$regex\":\"^ord\"}}"));
	ck_assert(!m("{\"type\":{\"$regex\":\"^rd\"}}"));
	ck_assert(!m("{\"type\":{\"$regex\":\"^ORD\"}}"));
	ck_assert(m("{\"type\":{\"$regex\":\"^ORD\",\"$options\":\"i\"}}"));
	ck_assert(m("{\"text\":{\"$regex\":\"^h.llo w.rld$\"}}")); /* UTF mode: one dot per character */
	ck_assert(m("{\"tags\":{\"$regex\":\"^v\"}}"));
	ck_assert(m("{\"items.sku\":{\"$regex\":\"^B\\\\d$\"}}"));
	ck_assert(!m("{\"amount\":{\"$regex\":\"1\"}}")); /* only strings */
	ck_assert(!m("{\"missing\":{\"$regex\":\"\"}}"));
	ck_assert(m("{\"type\":{\"$not\":{\"$regex\":\"^x\"}}}"));
}
END_TEST

START_TEST(test_non_json)
{
	char err[PFILTER_ERR_MAX];
	struct pfilter *f = pfilter_compile_text("{}", 2, "payloadFilter", err);
	ck_assert(pfilter_match(f, NULL)); /* only {} matches a payload that is not JSON */
	pfilter_free(f);
	f = pfilter_compile_text("{\"a\":{\"$exists\":false}}", 23, "payloadFilter", err);
	ck_assert(!pfilter_match(f, NULL));
	pfilter_free(f);
	ck_assert(!m_on("{\"a\":1}", "\"a string\""));
	ck_assert(m_on("{\"a\":{\"$exists\":false}}", "42"));
}
END_TEST

START_TEST(test_errors)
{
	bad("[]", "payloadFilter: must be an object");
	bad("{\"a\":", "payloadFilter: not JSON");
	bad("{\"amount\":{\"$gt\":true}}", "payloadFilter.amount.$gt: must be a number or string");
	bad("{\"amount\":{\"$lte\":null}}", "payloadFilter.amount.$lte: must be a number or string");
	bad("{\"amount\":{\"$gt\":1,\"x\":2}}", "payloadFilter.amount.x: an operator expression cannot mix");
	bad("{\"amount\":{\"$foo\":1}}", "payloadFilter.amount.$foo: unknown operator");
	bad("{\"$foo\":1}", "payloadFilter.$foo: unknown operator");
	bad("{\"a\":{\"$in\":1}}", "payloadFilter.a.$in: must be an array");
	bad("{\"a\":{\"$nin\":{}}}", "payloadFilter.a.$nin: must be an array");
	bad("{\"a\":{\"$exists\":1}}", "payloadFilter.a.$exists: must be true or false");
	bad("{\"a\":{\"$regex\":1}}", "payloadFilter.a.$regex: must be a string");
	bad("{\"a\":{\"$regex\":\"(\"}}", "payloadFilter.a.$regex: invalid regular expression at offset 1");
	bad("{\"a\":{\"$regex\":\"x\",\"$options\":\"q\"}}", "payloadFilter.a.$options: must be a string of the flags");
	bad("{\"a\":{\"$options\":\"i\"}}", "payloadFilter.a.$options: $options needs $regex");
	bad("{\"a\":{\"$not\":5}}", "payloadFilter.a.$not: must be an operator expression");
	bad("{\"a\":{\"$not\":{\"b\":1}}}", "payloadFilter.a.$not: must be an operator expression");
	bad("{\"$or\":[]}", "payloadFilter.$or: must be a non-empty array of filters");
	bad("{\"$and\":{}}", "payloadFilter.$and: must be a non-empty array of filters");
	bad("{\"$or\":[{\"a\":1},{\"b\":{\"$gt\":[]}}]}", "payloadFilter.$or.1.b.$gt: must be a number or string");
	bad("{\"$not\":[1]}", "payloadFilter.$not: must be an object");
	bad("{\"a..b\":1}", "payloadFilter.a..b: a path needs a name between every two dots");
	bad("{\".a\":1}", "payloadFilter..a: a path needs a name");
	bad("{\"a.\":1}", "payloadFilter.a.: a path needs a name");
	bad("{\"\":1}", "payloadFilter: a path needs a name");
}
END_TEST

START_TEST(test_limits)
{
	/* nesting */
	char f[4096] = "";
	for (int i = 0; i < PFILTER_DEPTH_MAX + 1; i++)
		strcat(f, "{\"$not\":");
	strcat(f, "{}");
	for (int i = 0; i < PFILTER_DEPTH_MAX + 1; i++)
		strcat(f, "}");
	bad(f, "payloadFilter.$not.$not");
	ck_assert(strstr(f, "$not") != NULL);
	/* clauses */
	strcpy(f, "{\"a\":{\"$in\":[");
	for (int i = 0; i < PFILTER_CLAUSES_MAX; i++)
		strcat(f, i ? ",1" : "1");
	strcat(f, "]}}");
	bad(f, "payloadFilter.a.$in: too many clauses (at most 256)");
	/* path segments */
	strcpy(f, "{\"a");
	for (int i = 0; i < PFILTER_SEGS_MAX; i++)
		strcat(f, ".a");
	strcat(f, "\":1}");
	bad(f, "payloadFilter.a.a");
	/* regex length */
	char *r = xcalloc(1, PFILTER_REGEX_MAX + 64);
	strcpy(r, "{\"a\":{\"$regex\":\"");
	memset(r + strlen(r), 'x', PFILTER_REGEX_MAX + 1);
	strcat(r, "\"}}");
	bad(r, "payloadFilter.a.$regex: the pattern is longer than 1024 bytes");
	free(r);
	/* text size */
	char *big = xcalloc(1, PFILTER_TEXT_MAX + 64);
	strcpy(big, "{\"a\":\"");
	memset(big + 6, 'x', PFILTER_TEXT_MAX);
	strcat(big, "\"}");
	bad(big, "payloadFilter: longer than 16384 bytes");
	free(big);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Catastrophic backtracking stops at the match limit: no match, promptly. */
START_TEST(test_regex_limits)
{
	char subject[200] = "{\"s\":\"";
	memset(subject + 6, 'a', 60);
	strcat(subject, "!\"}");
	const char *pats[] = {"{\"s\":{\"$regex\":\"^(a+)+$\"}}", "{\"s\":{\"$regex\":\"^(a|a)*$\"}}",
			      "{\"s\":{\"$regex\":\"^(a|aa)+$\"}}", "{\"s\":{\"$regex\":\"(?:a*)*b\"}}",
			      "{\"s\":{\"$regex\":\"^(\\\\w+\\\\s?)*$\"}}"};
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		double t0 = now_s();
		ck_assert(!m_on(pats[i], subject));
		double dt = now_s() - t0;
		ck_assert_msg(dt < 1.0, "%s took %.3f s", pats[i], dt);
	}
	ck_assert(m_on("{\"s\":{\"$regex\":\"^(a+)+!$\"}}", subject));
	/* a pattern that would match, but only past the match limit: no match, and promptly */
	char *big = xcalloc(1, 10100);
	strcpy(big, "{\"s\":\"");
	memset(big + 6, 'a', 10000);
	strcat(big, "\"}");
	double t0 = now_s();
	ck_assert(!m_on("{\"s\":{\"$regex\":\"(.*a){20}\"}}", big));
	ck_assert(now_s() - t0 < 1.0);
	ck_assert(m_on("{\"s\":{\"$regex\":\"(.*a){3}\"}}", big));
	free(big);
}
END_TEST

Suite *pfilter_suite(void)
{
	Suite *s = suite_create("pfilter");
	TCase *tc = tcase_create("pfilter");
	tcase_add_test(tc, test_eq_ne);
	tcase_add_test(tc, test_compare);
	tcase_add_test(tc, test_in_nin_exists);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_logic);
	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_non_json);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_regex_limits);
	suite_add_tcase(s, tc);
	return s;
}
