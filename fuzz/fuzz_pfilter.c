/* fuzz_pfilter.c: payload filters, compiled and evaluated (src/pfilter.c). The input is a filter's JSON text, a
 * newline, then a payload's (anything: a payload that does not parse is evaluated as "not JSON").
 * Any input: no crash, no leak, no read out of bounds, no hang (regexes run under their match limits). A filter
 * that compiles must compile the same way twice, and its negation {"$not": F}, when within the limits, must give
 * the opposite answer on the payload and on a fixed document with every kind of value. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc[] =
	"{\"a\":1,\"b\":2.5,\"s\":\"x\",\"t\":true,\"n\":null,\"o\":{\"a\":[1,{\"b\":\"y\"}],\"s\":\"\\u00e9\"},"
	"\"arr\":[{\"a\":1},{\"a\":\"z\",\"c\":[[1,2],{}]}],\"e\":[],\"0\":{\"1\":2}}";

static void check(const struct pfilter *f, const struct pfilter *g, const struct pfilter *not_f, const json_t *p)
{
	bool m = pfilter_match(f, p);
	if (pfilter_match(g, p) != m)
		abort();
	if (not_f != NULL && p != NULL && pfilter_match(not_f, p) == m)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t flen = nl ? (size_t)(nl - text) : size;
	char err[PFILTER_ERR_MAX];
	struct pfilter *f = pfilter_compile_text(text, flen, "payloadFilter", err);
	if (f == NULL) {
		if (strlen(err) == 0 || strlen(err) >= PFILTER_ERR_MAX)
			abort(); /* a failure always says why */
		return 0;
	}
	struct pfilter *g = pfilter_compile_text(text, flen, "payloadFilter", err);
	if (g == NULL)
		abort();
	char *neg = malloc(flen + 16);
	memcpy(neg, "{\"$not\":", 8);
	memcpy(neg + 8, text, flen);
	memcpy(neg + 8 + flen, "}", 2);
	struct pfilter *not_f = pfilter_compile_text(neg, flen + 9, "payloadFilter", err);
	free(neg);
	json_t *p = nl ? json_loadb(nl + 1, size - flen - 1, JSON_DECODE_ANY, NULL) : NULL;
	json_t *d = json_loads(doc, 0, NULL);
	check(f, g, not_f, p);
	check(f, g, not_f, d);
	check(f, g, NULL, NULL);
	json_decref(p);
	json_decref(d);
	pfilter_free(f);
	pfilter_free(g);
	pfilter_free(not_f);
	return 0;
}
