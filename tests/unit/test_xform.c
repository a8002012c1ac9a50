/* test_xform.c: the JSON <-> Lua conversion (luajson.c), the sandbox (xform.c) and the chain (xform_pool.c). */
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "util.h"
#include "xform.h"
#include "xform_pool.h"

#define BUDGET 10000000 /* the default */
#define MEMORY (4 * 1024 * 1024)

/* Run code over payload (JSON text); the result's payload as compact JSON (malloc'd), or NULL with err set. */
static char *run1(struct xform *x, const char *code, const char *payload, char *err, size_t errlen)
{
	struct xform_hook w = {.payload = json_loads(payload, JSON_DECODE_ANY, NULL),
			       .url = xstrdup("https://example.com/"), .method = xstrdup("POST"),
			       .event_type = xstrdup("user.created")};
	char *out = NULL;
	if (xform_call(x, code, &w, err, errlen) == 0)
		out = json_dumps(w.payload, JSON_COMPACT | JSON_ENCODE_ANY);
	xform_hook_dispose(&w);
	return out;
}

#define IDENTITY "function handler(w) return w end"

static void roundtrip(struct xform *x, const char *in, const char *want)
{
	char err[XFORM_ERR_MAX];
	char *out = run1(x, IDENTITY, in, err, sizeof err);
	ck_assert_msg(out != NULL, "%s: %s", in, err);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(test_roundtrip)
{
	struct xform *x = xform_new(BUDGET, MEMORY);
	ck_assert_ptr_nonnull(x);
	roundtrip(x, "{\"a\":1,\"b\":1.5,\"c\":2.0,\"d\":null,\"e\":[],\"f\":{},\"g\":\"x\",\"h\":true}",
		  "{\"a\":1,\"b\":1.5,\"c\":2.0,\"d\":null,\"e\":[],\"f\":{},\"g\":\"x\",\"h\":true}");
	/* key order kept, whatever it is */
	roundtrip(x, "{\"z\":1,\"a\":2,\"m\":{\"y\":[1,{\"q\":1,\"b\":2}],\"c\":3}}",
		  "{\"z\":1,\"a\":2,\"m\":{\"y\":[1,{\"q\":1,\"b\":2}],\"c\":3}}");
	roundtrip(x, "{\"big\":9007199254740993,\"neg\":-9223372036854775808}",
		  "{\"big\":9007199254740993,\"neg\":-9223372036854775808}");
	roundtrip(x, "[null,null]", "[null,null]");
	xform_free(x);
}
END_TEST

START_TEST(test_changes)
{
	struct xform *x = xform_new(BUDGET, MEMORY);
	char err[XFORM_ERR_MAX];
	/* new keys after the known ones, sorted; removed ones gone; integers and floats as the script made them */
	char *out = run1(x,
			 "function handler(w) local p = w.payload; p.zz = 1; p.aa = 2.5; p.b = nil;"
			 " p.list = {1, 2, 3}; p.empty = {}; p.arr = json.array(); p.n = json.null;"
			 " p.c = p.c + 1; return w end",
			 "{\"c\":1,\"b\":2,\"a\":3}", err, sizeof err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "{\"c\":2,\"a\":3,\"aa\":2.5,\"arr\":[],\"empty\":{},\"list\":[1,2,3],\"n\":null,\"zz\":1}");
	free(out);
	/* json.null compares equal to what a JSON null became; integer keys of an object become strings */
	out = run1(x, "function handler(w) w.payload = {isnull = w.payload.x == json.null, [5] = 'five', k = 'v'}"
		      " return w end",
		   "{\"x\":null}", err, sizeof err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "{\"5\":\"five\",\"isnull\":true,\"k\":\"v\"}");
	free(out);
	/* other fields */
	struct xform_hook w = {.payload = json_object(), .url = xstrdup("https://a.example/"),
			       .method = xstrdup("POST")};
	ck_assert_int_eq(xform_call(x,
				    "function handler(w) w.url = 'https://b.example/x'; w.method = 'put';"
				    " w.headers['X-Test'] = 'yes'; w.eventType = 'renamed'; return w end",
				    &w, err, sizeof err),
			 0);
	ck_assert_str_eq(w.url, "https://b.example/x");
	ck_assert_str_eq(w.method, "PUT");
	ck_assert_str_eq(w.event_type, "renamed");
	ck_assert_str_eq(json_string_value(json_object_get(w.headers, "X-Test")), "yes");
	ck_assert(!w.cancel);
	ck_assert_int_eq(xform_call(x, "function handler(w) w.cancel = true return w end", &w, err, sizeof err), 0);
	ck_assert(w.cancel);
	xform_hook_dispose(&w);
	xform_free(x);
}
END_TEST

/* code fails with a message containing want */
static void fails(struct xform *x, const char *code, const char *payload, const char *want)
{
	char err[XFORM_ERR_MAX] = "";
	char *out = run1(x, code, payload, err, sizeof err);
	ck_assert_msg(out == NULL, "%s: should fail, gave %s", code, out ? out : "");
	ck_assert_msg(strstr(err, want) != NULL, "%s: error '%s' lacks '%s'", code, err, want);
	/* the state still works */
	char *ok = run1(x, IDENTITY, "{\"a\":1}", err, sizeof err);
	ck_assert_msg(ok != NULL, "after %s: %s", code, err);
	ck_assert_str_eq(ok, "{\"a\":1}");
	free(ok);
}

START_TEST(test_sandbox)
{
	struct xform *x = xform_new(BUDGET, MEMORY);
	const char *p = "{}";
	fails(x, "function handler(w) os.execute('touch /tmp/pwned') return w end", p, "os");
	fails(x, "function handler(w) io.open('/etc/passwd') return w end", p, "io");
	fails(x, "function handler(w) require('os') return w end", p, "require");
	fails(x, "function handler(w) load('return 1')() return w end", p, "load");
	fails(x, "function handler(w) loadstring('return 1')() return w end", p, "loadstring");
	fails(x, "function handler(w) dofile('/etc/passwd') return w end", p, "dofile");
	fails(x, "function handler(w) string.dump(handler) return w end", p, "dump");
	fails(x, "function handler(w) ('x'):dump() return w end", p, "dump");
	fails(x, "function handler(w) debug.getinfo(1) return w end", p, "debug");
	fails(x, "function handler(w) collectgarbage() return w end", p, "collectgarbage");
	fails(x, "function handler(w) package.loadlib('x', 'y') return w end", p, "package");
	fails(x, "function handler(w) local s = string.rep('x', 1 << 30) return w end", p, "memory limit");
	fails(x, "function handler(w) local t = {} for i = 1, 1e9 do t[i] = i end return w end", p, "memory limit");
	fails(x, "function handler(w) while true do end end", p, "instruction budget");
	fails(x, "function handler(w) while true do pcall(function() while true do end end) end end", p,
	      "instruction budget");
	fails(x, "local function f(n) return 1 + f(n + 1) end function handler(w) f(1) return w end", p, "memory limit");
	fails(x, "function handler(w) error({code = 1}) end", p, "error object is a table value");
	fails(x, "function handler(w) error('custom') end", p, "custom");
	fails(x, "function handler(w) return 5 end", p, "must return the webhook");
	fails(x, "function handler(w) w.payload.f = print return w end", p, "function");
	fails(x, "function handler(w) w.payload.f = 0/0 return w end", p, "NaN");
	fails(x, "function handler(w) w.payload.s = '\\xff' return w end", p, "UTF-8");
	fails(x, "function handler(w) local t = {} t.t = t w.payload = t return w end", p, "deeper");
	fails(x, "function handler(w) w.method = 'DELETE' return w end", p, "POST or PUT");
	fails(x, "function handler(w) w.headers = {['bad name'] = 'x'} return w end", p, "headers");
	fails(x, "function handler(w) w.headers = {x = 'a\\r\\nb: c'} return w end", p, "headers");
	fails(x, "function handler(w) setmetatable({}, {__gc = function() while true do end end}) return w end", p,
	      "__gc");
	/* C functions that backtrack or loop without a VM instruction: refused up front, or charged by CPU time */
	fails(x, "function handler(w) string.find(string.rep('a', 3000), '.-.-.-b') return w end", p, "pattern too costly");
	fails(x, "function handler(w) for a in string.gmatch(string.rep('a', 3000), '(.-)(.-)b') do end return w end", p,
	      "pattern too costly");
	fails(x, "function handler(w) local s = string.rep('a', 300) while true do s:find('a*b') end end", p,
	      "instruction budget of");
	fails(x, "function handler(w) local t = {} for i = 1, 3000 do t[i] = 'x' end"
		 " while true do table.concat(t) end end", p, "instruction budget of");
	fails(x, "x = ", p, "handler");
	fails(x, "y = 1", p, "no function handler");
	/* one big string many times: the output cap */
	fails(x, "function handler(w) local s = string.rep('x', 1 << 20) for i = 1, 100 do w.payload[i] = s end"
		 " return w end",
	      p, "larger than");
	/* ordinary patterns work, plain finds of anything too */
	char err[XFORM_ERR_MAX];
	char *out = run1(x, "function handler(w) local s = string.rep(' a b ', 2000)"
			    " w.payload.n = select(2, s:gsub('%s+', ' ')) w.payload.t = ('  x  '):match('^%s*(.-)%s*$')"
			    " w.payload.f = string.find(string.rep('a', 100000) .. '.-', '.-', 1, true)"
			    " local c = 0 for _ in string.gmatch('a,b,c', '[^,]+') do c = c + 1 end w.payload.c = c return w end",
			    p, err, sizeof err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "{\"c\":3,\"f\":100001,\"n\":4001,\"t\":\"x\"}");
	free(out);
	/* a call cannot leave globals or change the libraries for the next */
	out = run1(x, "leak = 1 string.upper = nil function handler(w) return w end", p, err, sizeof err);
	free(out);
	out = run1(x, "function handler(w) w.payload.v = tostring(leak) .. ('a'):upper() .. string.upper('b') return w end",
		   p, err, sizeof err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "{\"v\":\"nilAB\"}");
	free(out);
	/* getmetatable of a string gives no way into the string library */
	out = run1(x, "function handler(w) w.payload.v = getmetatable('') return w end", p, err, sizeof err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(out, "{\"v\":\"string\"}");
	free(out);
	xform_free(x);
}
END_TEST

START_TEST(test_deep_input)
{
	struct xform *x = xform_new(BUDGET, MEMORY);
	size_t depth = 300;
	char *in = xcalloc(depth * 2 + 1, 1);
	for (size_t i = 0; i < depth; i++) {
		in[i] = '[';
		in[depth + i] = ']';
	}
	fails(x, IDENTITY, in, "deeper");
	free(in);
	/* a big payload past the memory cap */
	size_t n = 300000;
	char *big = xcalloc(n * 4 + 3, 1);
	strcpy(big, "[");
	for (size_t i = 0; i < n; i++)
		strcat(big + (i ? 4 * i - 3 : 0), i ? ",1.5" : "1.5");
	strcat(big, "]");
	json_t *j = json_loads(big, 0, NULL);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	fails(x, IDENTITY, big, "memory limit");
	free(big);
	xform_free(x);
}
END_TEST

START_TEST(test_check_and_chain)
{
	char err[XFORM_ERR_MAX];
	ck_assert_int_eq(xform_check_once(IDENTITY, BUDGET, MEMORY, err, sizeof err), 0);
	ck_assert_int_eq(xform_check_once("function handler(w", BUDGET, MEMORY, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "handler:1:"));
	ck_assert_int_eq(xform_check_once("while true do end", BUDGET, MEMORY, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "budget"));
	struct xform *x = xform_new(BUDGET, MEMORY);
	struct xform_job *j = xcalloc(1, sizeof *j);
	strlist_add(&j->codes, "function handler(w) w.payload.v2 = w.payload.v3 * 2 w.payload.v3 = nil return w end");
	strlist_add(&j->codes, "function handler(w) w.payload.v1 = w.payload.v2 + 1 w.payload.v2 = nil return w end");
	strlist_add(&j->codes, "function handler(w) w.payload.t = true return w end");
	j->n_downgrades = 2;
	j->api_version = xstrdup("2024-01-01");
	j->payload_text = xstrdup("{\"id\":\"x\",\"v3\":5}");
	j->hook.url = xstrdup("https://example.com/");
	xform_chain_run(x, j);
	ck_assert_msg(j->rc == 0, "%s", j->err);
	ck_assert_str_eq(j->body, "{\"id\":\"x\",\"v1\":11,\"t\":true}");
	/* a failing downgrade names the version; a failing transformation says so */
	free(j->codes.v[1]);
	j->codes.v[1] = xstrdup("function handler(w) error('nope') end");
	xform_chain_run(x, j);
	ck_assert_int_eq(j->rc, -1);
	ck_assert_msg(strncmp(j->err, "api-version 2024-01-01 downgrade failed: handler:1: nope", 56) == 0, "%s", j->err);
	free(j->codes.v[1]);
	j->codes.v[1] = xstrdup(IDENTITY);
	free(j->codes.v[2]);
	j->codes.v[2] = xstrdup("function handler(w) error('nope') end");
	xform_chain_run(x, j);
	ck_assert_int_eq(j->rc, -1);
	ck_assert_msg(strncmp(j->err, "transformation failed: handler:1: nope", 38) == 0, "%s", j->err);
	xform_job_free(j);
	xform_free(x);
}
END_TEST

Suite *xform_suite(void)
{
	Suite *s = suite_create("xform");
	TCase *tc = tcase_create("xform");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_changes);
	tcase_add_test(tc, test_sandbox);
	tcase_add_test(tc, test_deep_input);
	tcase_add_test(tc, test_check_and_chain);
	suite_add_tcase(s, tc);
	return s;
}
