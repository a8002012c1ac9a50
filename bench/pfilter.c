/* pfilter.c (bench): what a payload filter costs per endpoint at fan-out, in ns: a three-clause filter (an
 * equality, a comparison, an $in over a nested path) evaluated against a parsed 1 KiB payload, the same with a
 * $regex for its third clause, and, for scale, parsing that payload (done once per message, not per endpoint).
 * Prints one JSON object; run.mjs shows it beside the fan-out figures. Figures only, nothing asserted. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfilter.h"

static const char filter3[] =
	"{\"type\":\"order.created\",\"amount\":{\"$gt\":100},\"customer.tier\":{\"$in\":[\"gold\",\"platinum\"]}}";
static const char filter3re[] =
	"{\"type\":\"order.created\",\"amount\":{\"$gt\":100},\"customer.email\":{\"$regex\":\"@example\\\\.com$\"}}";

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ns per evaluation of filter f against payload p over n runs; *hits: how many matched (so nothing is elided). */
static double per_eval(const char *ftext, const json_t *p, long n, long *hits)
{
	char err[PFILTER_ERR_MAX];
	struct pfilter *f = pfilter_compile_text(ftext, strlen(ftext), "payloadFilter", err);
	if (f == NULL) {
		fprintf(stderr, "bench/pfilter: %s\n", err);
		exit(1);
	}
	*hits = 0;
	int64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		*hits += pfilter_match(f, p);
	double ns = (double)(now_ns() - t0) / (double)n;
	pfilter_free(f);
	return ns;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n < 1)
		n = 1;
	char pad[700];
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	char body[2048];
	snprintf(body, sizeof body,
		 "{\"type\":\"order.created\",\"id\":\"ord_123456\",\"amount\":250,\"currency\":\"EUR\","
		 "\"customer\":{\"id\":\"cus_42\",\"tier\":\"gold\",\"email\":\"ana@example.com\",\"country\":\"PT\"},"
		 "\"items\":[{\"sku\":\"A1\",\"qty\":2},{\"sku\":\"B2\",\"qty\":1}],\"note\":\"%s\"}",
		 pad);
	json_t *p = json_loads(body, 0, NULL);
	long hits3, hitsre;
	double e3 = per_eval(filter3, p, n, &hits3);
	double ere = per_eval(filter3re, p, n, &hitsre);
	long pn = n / 20 > 0 ? n / 20 : 1;
	int64_t t0 = now_ns();
	for (long i = 0; i < pn; i++)
		json_decref(json_loads(body, 0, NULL));
	double parse = (double)(now_ns() - t0) / (double)pn;
	printf("{\"runs\":%ld,\"eval3_ns\":%.1f,\"eval3_regex_ns\":%.1f,\"parse_ns\":%.1f,\"payload_bytes\":%zu,"
	       "\"matched\":%s}\n",
	       n, e3, ere, parse, strlen(body), hits3 == n && hitsre == n ? "true" : "false");
	json_decref(p);
	return hits3 == n && hitsre == n ? 0 : 1;
}
