/* json_plain.c: is a payload plain JSON? One PCRE2 pattern recognizes a subset of RFC 8259 that jansson surely
 * accepts: strings of printable ASCII with the two-character escapes only (no \u, no byte over 0x7f), integers
 * that fit in 64 bits, decimals without an exponent, nesting as deep as PCRE2's JIT stack allows (a few hundred
 * levels, well under jansson's 2048). Ingest then parses only the envelope around the payload: jansson's lexer
 * takes ~15 us for a 1 KB body, the pattern ~3 us (docs/performance.md). Anything outside the subset, valid or
 * not, is left to jansson, so the answer to a body is the same either way; tests/unit/test_json.c and
 * fuzz/fuzz_jsonplain.c hold the subset to that. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "util.h"

/* Possessive and atomic throughout: every token starts with its own character, so nothing needs to backtrack. */
static const char PLAIN[] =
	"(?(DEFINE)"
	"(?<w>[ \\t\\n\\r]*+)"
	"(?<s>\"(?:[^\"\\\\\\x00-\\x1f\\x80-\\xff]++|\\\\[\"\\\\/bfnrt])*+\")"
	/* below 9e18 (19 digits from 1 to 8, or 18): inside int64_t */
	"(?<n>-?+(?:0|[1-8][0-9]{18}+|[1-9][0-9]{0,17}+)(?:\\.[0-9]{1,30}+)?+(?![0-9.eE]))"
	"(?<v>(?&s)|(?&n)|true|false|null|(?&o)|(?&a))"
	"(?<o>\\{(?&w)(?:(?&s)(?&w):(?&w)(?&v)(?&w)(?:,(?&w)(?&s)(?&w):(?&w)(?&v)(?&w))*+)?+\\})"
	"(?<a>\\[(?&w)(?:(?&v)(?&w)(?:,(?&w)(?&v)(?&w))*+)?+\\])"
	")\\A(?&w)(?&o)(?&w)\\z";

static pcre2_code *re; /* NULL: no JIT here, and the interpreter's depth is not bounded as tightly: never plain */
static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key;

static void md_free(void *p) { pcre2_match_data_free(p); }

static void re_init(void)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)PLAIN, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (c == NULL)
		fatalx("json_plain: the pattern does not compile (at %zu)", (size_t)off);
	if (pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) {
		pcre2_code_free(c);
		return;
	}
	if (pthread_key_create(&md_key, md_free) != 0)
		fatalx("json_plain: pthread_key_create");
	re = c;
}

bool json_plain_object(const char *text, size_t n)
{
	pthread_once(&re_once, re_init);
	if (re == NULL)
		return false;
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (md == NULL) {
		if ((md = pcre2_match_data_create(1, NULL)) == NULL)
			fatalx("out of memory (pcre2 match data)");
		pthread_setspecific(md_key, md);
	}
	/* a negative result is no match, or the JIT stack ran out (too deep): jansson decides */
	return pcre2_match(re, (PCRE2_SPTR)text, n, 0, 0, md, NULL) >= 0;
}

json_t *json_plain_envelope(const char *text, size_t n, const char *key, size_t *start, size_t *len)
{
	if (json_raw_member(text, n, key, start, len) != 0 || text[*start] != '{' ||
	    !json_plain_object(text + *start, *len))
		return NULL;
	size_t rest = n - *start - *len, en = *start + 2 + rest;
	char stack[512]; /* the envelope alone, usually a few fields: no allocation */
	char *env = en <= sizeof stack ? stack : xmalloc(en);
	memcpy(env, text, *start);
	memcpy(env + *start, "{}", 2);
	memcpy(env + *start + 2, text + *start + *len, rest);
	json_t *j = json_loadb(env, en, 0, NULL);
	if (env != stack)
		free(env);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}
