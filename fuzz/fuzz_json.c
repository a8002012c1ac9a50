/* fuzz_json.c: json_raw_member, which finds the raw bytes of a MessageIn's payload in every ingested body, and the
 * plain subset (json_plain.c) that lets ingest parse only the envelope around it.
 * Any input: no crash, no read out of bounds. A body jansson accepts as an object: when json_raw_member finds
 * the key, its span must parse to the very value jansson kept for that key (the last of duplicates); when it
 * does not, jansson must not have an unescaped top-level key of that name (json_raw_member gives up only on
 * escaped keys and on NUL bytes, which jansson skips as blanks; the caller then serializes the parsed value). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {"payload", "a", ""};

static void check(const char *text, size_t n, json_t *parsed, const char *key)
{
	size_t at = 0, len = 0;
	int rc = json_raw_member(text, n, key, &at, &len);
	if (rc == 0 && (at > n || len > n - at))
		abort();
	if (parsed == NULL)
		return;
	json_t *want = json_object_get(parsed, key);
	if (rc == 0) {
		json_t *got = json_loadb(text + at, len, JSON_DECODE_ANY, NULL);
		if (want == NULL || got == NULL || !json_equal(want, got))
			abort();
		json_decref(got);
	} else if (want != NULL && memchr(text, '\\', n) == NULL && memchr(text, '\0', n) == NULL) {
		abort(); /* no escapes (and no NUL, which jansson skips) anywhere: the key had to be found */
	}
}

/* json_plain_envelope: when it takes a body, jansson takes the whole of it, the span parses to the value jansson
 * kept for the key, and every other key is the same in both. */
static void check_envelope(const char *text, size_t n, json_t *parsed, const char *key)
{
	size_t at = 0, len = 0;
	json_t *env = json_plain_envelope(text, n, key, &at, &len);
	if (env == NULL)
		return;
	json_t *value = json_loadb(text + at, len, 0, NULL), *want = json_object_get(parsed, key);
	if (parsed == NULL || value == NULL || want == NULL || !json_equal(want, value) ||
	    json_object_size(env) != json_object_size(parsed))
		abort();
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v) {
		if (strcmp(k, key) != 0 && !json_equal(v, json_object_get(parsed, k)))
			abort();
	}
	json_decref(value);
	json_decref(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *parsed = json_loadb(text, size, 0, NULL);
	if (parsed != NULL && !json_is_object(parsed)) {
		json_decref(parsed);
		parsed = NULL;
	}
	/* the plain subset: never a text jansson refuses */
	if (json_plain_object(text, size) && parsed == NULL)
		abort();
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		check(text, size, parsed, keys[i]);
		check_envelope(text, size, parsed, keys[i]);
	}
	json_decref(parsed);
	return 0;
}
