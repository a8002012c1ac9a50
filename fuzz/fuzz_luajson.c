/* fuzz_luajson.c: JSON -> Lua -> JSON (luajson.c through the sandbox, xform.c). Any input jansson parses runs
 * through an identity handler and one that reads every value: either the call fails cleanly (too deep, memory
 * cap) or the result is the very input: the same kinds (integer vs real, empty array vs empty object, null),
 * the same values, and objects' keys in their order. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const codes[] = {
	"function handler(w) return w end",
	/* walks the payload and copies it into new tables: a script's own tables keep the kinds too */
	"local function copy(v) if type(v) ~= 'table' then return v end local mt = getmetatable(v)"
	" local t = mt == 'json.array' and json.array() or json.object() for k, x in pairs(v) do t[k] = copy(x) end"
	" return t end function handler(w) w.payload = copy(w.payload) return w end",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (in == NULL)
		return 0;
	/* a sandbox per input: a kept one's garbage would make the leak check scan memory after every input */
	struct xform *x = xform_new(2000000, 8 * 1024 * 1024);
	char *want = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
	for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
		struct xform_hook w = {.payload = json_incref(in), .url = strdup("https://example.com/")};
		char err[XFORM_ERR_MAX];
		if (xform_call(x, codes[c], &w, err, sizeof err) == 0) {
			char *got = json_dumps(w.payload, JSON_COMPACT | JSON_ENCODE_ANY);
			/* the copy loses the order of keys (pairs): compare values only */
			if (!json_equal(in, w.payload) || (c == 0 && strcmp(want, got) != 0))
				abort();
			free(got);
		} else if (strstr(err, "deeper") == NULL && strstr(err, "memory") == NULL &&
			   strstr(err, "larger") == NULL && strstr(err, "stack") == NULL) {
			abort(); /* no other failure is expected of these handlers */
		}
		xform_hook_dispose(&w);
	}
	free(want);
	json_decref(in);
	xform_free(x);
	return 0;
}
