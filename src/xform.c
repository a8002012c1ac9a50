/* xform.c: the Lua sandbox (xform.h). */
#include "xform.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "luajson.h"
#include "util.h"

#define HOOK_EVERY 1000   /* instructions between two looks at the budget */
#define CACHE_MAX 64      /* compiled chunks kept per state; past it the cache starts over */
#define HEADERS_MAX 64    /* extra headers a handler may set */

struct xform {
	lua_State *L;
	int64_t budget, spent;
	size_t memory;
	size_t used, limit;   /* bytes the state holds; what the allocator lets it reach */
	int cached;
};

static const char K_SAFE = 's', K_CACHE = 'c';

/* ---- the allocator and the budget ---- */

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct xform *x = ud;
	size_t old = ptr != NULL ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		x->used -= old;
		return NULL;
	}
	if (nsize > old && x->used + (nsize - old) > x->limit)
		return NULL; /* Lua collects garbage and tries again, then raises "not enough memory" */
	void *p = realloc(ptr, nsize);
	if (p != NULL)
		x->used = x->used - old + nsize;
	return p;
}

static struct xform *of(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ud;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct xform *x = of(L);
	x->spent += HOOK_EVERY;
	if (x->spent <= x->budget)
		return;
	/* from now on at every instruction: a pcall that caught this one does not get far */
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	luaL_error(L, "instruction budget of %I exceeded (an endless loop?)", (lua_Integer)x->budget);
}

/* ---- the libraries ---- */

static int l_print(lua_State *L)
{
	(void)L;
	return 0;
}

/* setmetatable without __gc: a finalizer would run later, outside its call's budget and environment */
static int l_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed");
	}
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

static const char *const BASE_KEPT[] = {"assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
					 "rawequal", "rawget", "rawlen", "rawset", "select", "tonumber",
					 "tostring", "type", "xpcall", "_VERSION", NULL};

/* Copy the named entries of the table at src into the table at dst. */
static void copy_names(lua_State *L, int src, int dst, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		lua_getfield(L, src, names[i]);
		lua_setfield(L, dst, names[i]);
	}
}

static void copy_table(lua_State *L, int src, int dst)
{
	lua_pushnil(L);
	while (lua_next(L, src)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, dst);
	}
}

/* ---- C functions that run long without a VM instruction ----
 * The count hook sees VM instructions only: a pattern match (string.find and co.), a sort or a concat runs in C
 * however long it takes, and Lua's matcher backtracks (".-.-.-b" over 3,000 bytes runs for minutes). So the
 * sandbox's copies of these functions are wrapped: the CPU time each call took is charged to the budget
 * (NS_PER_INSTR per instruction), and a pattern whose worst case over its subject is beyond PATTERN_FACTOR times
 * the budget is refused before it starts. */
#define NS_PER_INSTR 10
#define PATTERN_FACTOR 10

static int64_t thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void charge(lua_State *L, int64_t t0)
{
	struct xform *x = of(L);
	x->spent += (thread_ns() - t0) / NS_PER_INSTR;
	if (x->spent > x->budget) {
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "instruction budget of %I exceeded", (lua_Integer)x->budget);
	}
}

/* Does anything but captures follow position i of pattern p? */
static bool more_items(const char *p, size_t len, size_t i)
{
	while (i < len && (p[i] == '(' || p[i] == ')'))
		i++;
	return i < len;
}

/* Items of a Lua pattern that expand (x*, x+, x-, %bxy) with more items after them: each may try every length
 * and backtrack when what follows fails. (An expander at the very end does not: it matches at once.) */
static int pattern_expanders(const char *p, size_t len, bool *anchored)
{
	int q = 0;
	size_t i = 0;
	*anchored = len > 0 && p[0] == '^';
	if (*anchored)
		i++;
	while (i < len) {
		char c = p[i];
		if (c == '(' || c == ')') {
			i++;
			continue;
		}
		if (c == '%' && i + 1 < len) {
			char n = p[i + 1];
			if (n == 'b') { /* %bxy scans ahead */
				i += 4;
				q += more_items(p, len, i);
				continue;
			}
			i += 2;
			if (n != 'f' || i >= len || p[i] != '[') /* %f[set]: the set is skipped below */
				goto quant;
			c = '[';
		}
		if (c == '[') {
			i++;
			if (i < len && p[i] == '^')
				i++;
			do { /* a ']' first is a member */
				if (i < len && p[i] == '%')
					i++;
				i++;
			} while (i < len && p[i] != ']');
			i++;
		} else {
			i++;
		}
	quant:
		if (i < len && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
			i++;
			q += more_items(p, len, i);
		} else if (i < len && p[i] == '?') {
			i++;
		}
	}
	return q;
}

/* Refuse a pattern call whose worst case is far beyond the budget: about n^e / e! steps, e the expanders with
 * something after them, plus one unless anchored (each start position). */
static void pattern_check(lua_State *L, int subject, int pattern, int init)
{
	size_t n, plen;
	const char *s = lua_tolstring(L, subject, &n);
	const char *p = lua_tolstring(L, pattern, &plen);
	if (s == NULL || p == NULL)
		return; /* the function itself complains */
	if (init > 0 && lua_isinteger(L, init)) {
		lua_Integer at = lua_tointeger(L, init);
		if (at > 1 && (size_t)at <= n)
			n -= (size_t)at - 1;
	}
	bool anchored;
	int q = pattern_expanders(p, plen, &anchored);
	if (q == 0)
		return;
	int e = q + (anchored ? 0 : 1);
	double cost = 1;
	for (int k = 1; k <= e && cost < 1e300; k++)
		cost *= ((double)n + 1) / k;
	struct xform *x = of(L);
	if (cost > (double)x->budget * PATTERN_FACTOR)
		luaL_error(L, "pattern too costly over a string of %I bytes for the instruction budget "
			   "(%d items that may backtrack)", (lua_Integer)n, q);
}

/* upvalue 1: the library function; 2, 3, 4: where its pattern, init and plain arguments are (0: none) */
static int l_timed(lua_State *L)
{
	int pat = (int)lua_tointeger(L, lua_upvalueindex(2));
	int plain = (int)lua_tointeger(L, lua_upvalueindex(4));
	if (pat > 0 && !(plain > 0 && lua_toboolean(L, plain)))
		pattern_check(L, 1, pat, (int)lua_tointeger(L, lua_upvalueindex(3)));
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	int64_t t0 = thread_ns();
	lua_call(L, n, LUA_MULTRET);
	charge(L, t0);
	return lua_gettop(L);
}

/* string.gmatch: the iterator it returns searches on each call: timed too */
static int l_gmatch(lua_State *L)
{
	pattern_check(L, 1, 2, 3);
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, 1);
	lua_pushinteger(L, 0);
	lua_pushinteger(L, 0);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, l_timed, 4);
	return 1;
}

static void wrap(lua_State *L, int lib, const char *name, int pattern, int init, int plain)
{
	lua_getfield(L, lib, name);
	lua_pushinteger(L, pattern);
	lua_pushinteger(L, init);
	lua_pushinteger(L, plain);
	lua_pushcclosure(L, l_timed, 4);
	lua_setfield(L, lib, name);
}

static void guard_libs(lua_State *L, int safe)
{
	lua_getfield(L, safe, "string");
	int str = lua_gettop(L);
	wrap(L, str, "find", 2, 3, 4);
	wrap(L, str, "match", 2, 3, 0);
	wrap(L, str, "gsub", 2, 0, 0);
	wrap(L, str, "rep", 0, 0, 0);
	lua_getfield(L, str, "gmatch");
	lua_pushcclosure(L, l_gmatch, 1);
	lua_setfield(L, str, "gmatch");
	lua_getfield(L, safe, "table");
	int tab = lua_gettop(L);
	wrap(L, tab, "sort", 0, 0, 0);
	wrap(L, tab, "concat", 0, 0, 0);
	lua_pop(L, 2);
}

/* The safe globals, kept in the registry; each call's environment copies them (make_env). */
static int open_safe(lua_State *L)
{
	luaL_requiref(L, "_G", luaopen_base, 1);
	int g = lua_gettop(L);
	lua_newtable(L);
	int safe = lua_gettop(L);
	copy_names(L, g, safe, BASE_KEPT);
	lua_pushcfunction(L, l_print);
	lua_setfield(L, safe, "print");
	lua_getfield(L, g, "setmetatable");
	lua_pushcclosure(L, l_setmetatable, 1);
	lua_setfield(L, safe, "setmetatable");
	static const struct {
		const char *name;
		lua_CFunction open;
	} libs[] = {{"string", luaopen_string}, {"table", luaopen_table}, {"math", luaopen_math},
		    {"utf8", luaopen_utf8}};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		luaL_requiref(L, libs[i].name, libs[i].open, 0);
		lua_setfield(L, safe, libs[i].name);
	}
	lua_getfield(L, safe, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	guard_libs(L, safe);
	/* ("").x reads the real string table through the string metatable: lock it so no script reaches it */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushliteral(L, "string");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	luajson_open(L);
	lua_setfield(L, safe, "json");
	/* what the state's own global table had (load, require, ...) goes: only the registry's copy is used */
	lua_pushvalue(L, safe);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &K_SAFE);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &K_CACHE);
	lua_pushnil(L);
	lua_setfield(L, g, "load");
	lua_pushnil(L);
	lua_setfield(L, g, "dofile");
	lua_pushnil(L);
	lua_setfield(L, g, "loadfile");
	return 0;
}

/* A fresh global table: the safe globals, each library table a copy. */
static void make_env(lua_State *L)
{
	lua_createtable(L, 0, 32);
	int env = lua_gettop(L);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &K_SAFE);
	int safe = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, safe)) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			lua_createtable(L, 0, 32);
			copy_table(L, lua_gettop(L) - 1, lua_gettop(L));
			lua_remove(L, -2);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, env);
	}
	lua_pop(L, 1);
	lua_pushvalue(L, env);
	lua_setfield(L, env, "_G");
}

struct xform *xform_new(int64_t budget, size_t memory)
{
	struct xform *x = xcalloc(1, sizeof *x);
	x->budget = budget;
	x->memory = memory;
	x->limit = SIZE_MAX;
	x->L = lua_newstate(l_alloc, x);
	if (x->L == NULL) {
		free(x);
		return NULL;
	}
	lua_pushcfunction(x->L, open_safe);
	if (lua_pcall(x->L, 0, 0, 0) != LUA_OK) {
		lua_close(x->L);
		free(x);
		return NULL;
	}
	return x;
}

void xform_free(struct xform *x)
{
	if (x == NULL)
		return;
	lua_close(x->L);
	free(x);
}

void xform_hook_dispose(struct xform_hook *w)
{
	json_decref(w->payload);
	free(w->event_type);
	free(w->url);
	free(w->method);
	json_decref(w->headers);
	memset(w, 0, sizeof *w);
}

/* ---- one call ---- */

struct call {
	const char *code;
	struct xform_hook *w; /* in; out when ok */
	bool check_only;
	struct xform_hook out;
	char err[XFORM_ERR_MAX]; /* a result that would not convert */
};

/* Push the compiled chunk of code, from the cache or compiled now (text only: no bytecode). */
static void chunk(lua_State *L, const char *code)
{
	struct xform *x = of(L);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &K_CACHE);
	lua_pushstring(L, code);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, -3) == LUA_TFUNCTION) {
		lua_replace(L, -3);
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	if (luaL_loadbufferx(L, code, strlen(code), "=handler", "t") != LUA_OK)
		lua_error(L);
	if (++x->cached > CACHE_MAX) { /* start over rather than track use */
		lua_newtable(L);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &K_CACHE);
		x->cached = 1;
		lua_rawgetp(L, LUA_REGISTRYINDEX, &K_CACHE);
		lua_replace(L, -4);
	}
	lua_pushvalue(L, -1);
	lua_insert(L, -3); /* cache fn code fn */
	lua_rawset(L, -4);
	lua_replace(L, -2);
}

static void set_str(lua_State *L, int t, const char *k, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, t, k);
}

/* The string field k of the returned webhook into *out (absent: keeps none); false (err set) on a wrong type. */
static bool get_str(lua_State *L, int t, const char *k, char **out, struct call *c)
{
	int ty = lua_getfield(L, t, k);
	bool ok = ty == LUA_TSTRING || ty == LUA_TNIL;
	if (ty == LUA_TSTRING)
		*out = xstrdup(lua_tostring(L, -1));
	else if (!ok)
		snprintf(c->err, sizeof c->err, "webhook.%s must be a string, not %s", k, lua_typename(L, ty));
	lua_pop(L, 1);
	return ok;
}

static bool header_ok(const char *name, const json_t *v)
{
	if (!json_is_string(v) || strpbrk(json_string_value(v), "\r\n") != NULL || name[0] == '\0')
		return false;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?={}", *p) != NULL)
			return false;
	return true;
}

/* The handler's result into c->out; false with c->err set if it does not fit the contract. */
static bool take_result(lua_State *L, int t, struct call *c)
{
	struct xform *x = of(L);
	struct xform_hook *o = &c->out;
	if (!lua_istable(L, t)) {
		snprintf(c->err, sizeof c->err, "handler must return the webhook table, not %s", luaL_typename(L, t));
		return false;
	}
	lua_getfield(L, t, "payload");
	o->payload = luajson_to(L, -1, x->memory, c->err, sizeof c->err);
	lua_pop(L, 1);
	if (o->payload == NULL) {
		static const char pre[] = "webhook.payload: ";
		size_t n = strnlen(c->err, sizeof c->err - sizeof pre);
		memmove(c->err + sizeof pre - 1, c->err, n);
		memcpy(c->err, pre, sizeof pre - 1);
		c->err[sizeof pre - 1 + n] = '\0';
		return false;
	}
	if (!get_str(L, t, "eventType", &o->event_type, c) || !get_str(L, t, "url", &o->url, c) ||
	    !get_str(L, t, "method", &o->method, c))
		return false;
	if (o->url == NULL || o->url[0] == '\0') {
		snprintf(c->err, sizeof c->err, "webhook.url must be a URL");
		return false;
	}
	if (o->method == NULL)
		o->method = xstrdup("POST");
	for (char *p = o->method; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	if (strcmp(o->method, "POST") != 0 && strcmp(o->method, "PUT") != 0) {
		snprintf(c->err, sizeof c->err, "webhook.method must be POST or PUT");
		return false;
	}
	lua_getfield(L, t, "headers");
	if (lua_isnil(L, -1)) {
		o->headers = json_object();
	} else if (lua_istable(L, -1)) {
		o->headers = luajson_to(L, -1, x->memory, c->err, sizeof c->err);
		if (o->headers != NULL && json_is_array(o->headers) && json_array_size(o->headers) == 0) {
			json_decref(o->headers);
			o->headers = json_object();
		}
	}
	lua_pop(L, 1);
	const char *k;
	json_t *v;
	bool ok = json_is_object(o->headers) && json_object_size(o->headers) <= HEADERS_MAX;
	json_object_foreach(ok ? o->headers : NULL, k, v) ok = ok && header_ok(k, v);
	if (!ok) {
		snprintf(c->err, sizeof c->err,
			 "webhook.headers must be a table of at most %d header names to string values (no CR/LF)",
			 HEADERS_MAX);
		return false;
	}
	lua_getfield(L, t, "cancel");
	o->cancel = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return true;
}

static int run(lua_State *L)
{
	struct call *c = lua_touserdata(L, 1);
	struct xform *x = of(L);
	lua_settop(L, 0);
	luajson_begin(L);
	chunk(L, c->code);
	make_env(L);
	int env = lua_gettop(L);
	lua_pushvalue(L, env);
	if (lua_setupvalue(L, 1, 1) == NULL) /* the chunk's _ENV */
		lua_pop(L, 1);
	lua_pushvalue(L, 1);
	lua_call(L, 0, 0);
	if (lua_getfield(L, env, "handler") != LUA_TFUNCTION)
		return luaL_error(L, "the code defines no function handler(webhook)");
	if (c->check_only)
		return 0;
	struct xform_hook *w = c->w;
	lua_createtable(L, 0, 6);
	int hook = lua_gettop(L);
	luajson_push(L, w->payload);
	lua_setfield(L, hook, "payload");
	set_str(L, hook, "eventType", w->event_type);
	set_str(L, hook, "url", w->url);
	set_str(L, hook, "method", w->method ? w->method : "POST");
	luajson_push(L, w->headers);
	lua_setfield(L, hook, "headers");
	lua_pushboolean(L, w->cancel);
	lua_setfield(L, hook, "cancel");
	lua_call(L, 1, 1);
	/* the result: converted in C with no budget or cap (bounded by luajson's output cap) */
	lua_sethook(L, NULL, 0, 0);
	x->limit = SIZE_MAX;
	if (!take_result(L, lua_gettop(L), c))
		xform_hook_dispose(&c->out);
	return 0;
}

static void error_text(lua_State *L, int status, const struct xform *x, char *err, size_t errlen)
{
	if (status == LUA_ERRMEM) {
		snprintf(err, errlen, "memory limit of %zu bytes exceeded", x->memory);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		snprintf(err, errlen, "%s", lua_tostring(L, -1));
	} else {
		snprintf(err, errlen, "error object is a %s value", luaL_typename(L, -1));
	}
}

static int call(struct xform *x, struct call *c, char *err, size_t errlen)
{
	lua_State *L = x->L;
	size_t base = x->used;
	x->spent = 0;
	x->limit = base + x->memory;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	lua_pushcfunction(L, run);
	lua_pushlightuserdata(L, c);
	int status = lua_pcall(L, 1, 0, 0);
	lua_sethook(L, NULL, 0, 0);
	x->limit = SIZE_MAX;
	int rc = 0;
	if (status != LUA_OK) {
		error_text(L, status, x, err, errlen);
		xform_hook_dispose(&c->out);
		rc = -1;
	} else if (c->err[0] != '\0') {
		snprintf(err, errlen, "%s", c->err);
		rc = -1;
	}
	lua_settop(L, 0);
	luajson_end(L);
	/* a call that held much, or failed on the way, leaves no garbage for the next one's cap */
	if (rc < 0 || x->used > base + x->memory / 4)
		lua_gc(L, LUA_GCCOLLECT);
	return rc;
}

int xform_check(struct xform *x, const char *code, char *err, size_t errlen)
{
	if (strlen(code) > XFORM_CODE_MAX) {
		snprintf(err, errlen, "code longer than %d bytes", XFORM_CODE_MAX);
		return -1;
	}
	struct call c = {.code = code, .check_only = true};
	return call(x, &c, err, errlen);
}

int xform_call(struct xform *x, const char *code, struct xform_hook *w, char *err, size_t errlen)
{
	struct call c = {.code = code, .w = w};
	if (w->headers == NULL)
		w->headers = json_object();
	if (w->payload == NULL)
		w->payload = json_object();
	if (call(x, &c, err, errlen) < 0)
		return -1;
	xform_hook_dispose(w);
	*w = c.out;
	return 0;
}

int xform_check_once(const char *code, int64_t budget, size_t memory, char *err, size_t errlen)
{
	struct xform *x = xform_new(budget, memory);
	if (x == NULL) {
		snprintf(err, errlen, "cannot start Lua");
		return -1;
	}
	int rc = xform_check(x, code, err, errlen);
	xform_free(x);
	return rc;
}
