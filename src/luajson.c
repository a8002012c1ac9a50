/* luajson.c: JSON <-> Lua values (luajson.h). */
#include "luajson.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* registry keys (their addresses) */
static const char K_OBJ = 'o', K_ARR = 'a', K_ORDER = 'k';
/* json.null: a light userdata nothing else can make */
static const char K_NULL = 'n';

static void mark(lua_State *L, int idx, const void *kind)
{
	idx = lua_absindex(L, idx);
	lua_rawgetp(L, LUA_REGISTRYINDEX, kind);
	lua_setmetatable(L, idx);
}

static int l_mark(lua_State *L, const void *kind)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_settop(L, 1);
	}
	mark(L, 1, kind);
	return 1;
}

static int l_array(lua_State *L) { return l_mark(L, &K_ARR); }
static int l_object(lua_State *L) { return l_mark(L, &K_OBJ); }

static void new_mt(lua_State *L, const void *key, const char *name)
{
	lua_createtable(L, 0, 2);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__metatable"); /* getmetatable shows the name; setmetatable refuses: shared, so locked */
	lua_pushstring(L, name);
	lua_setfield(L, -2, "__name");
	lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void luajson_open(lua_State *L)
{
	new_mt(L, &K_OBJ, "json.object");
	new_mt(L, &K_ARR, "json.array");
	lua_createtable(L, 0, 3);
	lua_pushlightuserdata(L, (void *)&K_NULL);
	lua_setfield(L, -2, "null");
	lua_pushcfunction(L, l_array);
	lua_setfield(L, -2, "array");
	lua_pushcfunction(L, l_object);
	lua_setfield(L, -2, "object");
}

void luajson_begin(lua_State *L)
{
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k"); /* weak keys: a table the script drops takes its key list with it */
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &K_ORDER);
}

void luajson_end(lua_State *L)
{
	lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &K_ORDER);
}

/* ---- JSON -> Lua ---- */

static void push(lua_State *L, const json_t *v, int depth)
{
	if (depth > LUAJSON_DEPTH_MAX)
		luaL_error(L, "payload nested deeper than %d levels", LUAJSON_DEPTH_MAX);
	luaL_checkstack(L, 6, "payload nested too deep");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		lua_createtable(L, 0, n > INT32_MAX ? 0 : (int)n);
		lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0); /* the keys in order */
		const char *k;
		json_t *e;
		json_object_foreach((json_t *)v, k, e) {
			lua_pushstring(L, k);
			lua_pushvalue(L, -1);
			lua_rawseti(L, -3, (lua_Integer)++i);
			push(L, e, depth + 1);
			lua_rawset(L, -4);
		}
		if (lua_rawgetp(L, LUA_REGISTRYINDEX, &K_ORDER) == LUA_TTABLE) {
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_rawset(L, -3);
		}
		lua_pop(L, 2);
		mark(L, -1, &K_OBJ);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
		for (size_t i = 0; i < n; i++) {
			push(L, json_array_get(v, i), depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		mark(L, -1, &K_ARR);
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
		lua_pushlightuserdata(L, (void *)&K_NULL);
		break;
	}
}

void luajson_push(lua_State *L, const json_t *v) { push(L, v, 0); }

/* ---- Lua -> JSON ---- */

struct enc {
	size_t bytes, max;
	char *err;
	size_t errlen;
	bool failed;
};

static json_t *fail(struct enc *e, const char *fmt, const char *what)
{
	if (!e->failed)
		snprintf(e->err, e->errlen, fmt, what);
	e->failed = true;
	return NULL;
}

static bool grow(struct enc *e, size_t n)
{
	e->bytes += n;
	if (e->bytes <= e->max)
		return true;
	char lim[32];
	snprintf(lim, sizeof lim, "%zu", e->max);
	fail(e, "result larger than %s bytes", lim);
	return false;
}

static json_t *to(lua_State *L, int idx, int depth, struct enc *e);

/* 0: not marked (or a script's own metatable), 1: object, 2: array */
static int kind_of(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx))
		return 0;
	int k = 0;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &K_OBJ);
	if (lua_rawequal(L, -1, -2))
		k = 1;
	lua_pop(L, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &K_ARR);
	if (lua_rawequal(L, -1, -2))
		k = 2;
	lua_pop(L, 2);
	return k;
}

/* An unmarked table is an array when its keys are exactly 1..n, n >= 1: its length then, else -1. */
static lua_Integer seq_len(lua_State *L, int idx)
{
	lua_Integer count = 0, top = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1)) {
			lua_pop(L, 1);
			return -1;
		}
		lua_Integer k = lua_tointeger(L, -1);
		if (k < 1) {
			lua_pop(L, 1);
			return -1;
		}
		if (k > top)
			top = k;
		count++;
	}
	return count > 0 && top == count ? count : -1;
}

static json_t *to_array(lua_State *L, int idx, lua_Integer n, int depth, struct enc *e)
{
	json_t *a = json_array();
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		json_t *v = grow(e, 1) ? to(L, lua_gettop(L), depth + 1, e) : NULL;
		lua_pop(L, 1);
		if (v == NULL || json_array_append_new(a, v) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A new key (one not in the table's remembered order). */
struct nkey {
	char *s;
	bool is_int;
	lua_Integer i;
};

static int nkey_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nkey *)a)->s, ((const struct nkey *)b)->s);
}

static bool set_member(lua_State *L, json_t *o, const char *k, size_t klen, int depth, struct enc *e)
{
	if (!grow(e, klen + 4))
		return false;
	json_t *v = to(L, lua_gettop(L), depth + 1, e);
	if (v == NULL)
		return false;
	if (memchr(k, '\0', klen) != NULL || json_object_setn_new(o, k, klen, v) < 0) {
		fail(e, "%s", "object key is not valid UTF-8");
		return false;
	}
	return true;
}

static json_t *to_object(lua_State *L, int idx, int depth, struct enc *e)
{
	json_t *o = json_object();
	/* the keys the JSON had, in its order */
	int base = lua_gettop(L);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &K_ORDER) == LUA_TTABLE) {
		lua_pushvalue(L, idx);
		if (lua_rawget(L, -2) == LUA_TTABLE) {
			int keys = lua_gettop(L);
			lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
			for (lua_Integer i = 1; i <= n; i++) {
				lua_rawgeti(L, keys, i); /* the string stays alive in keys */
				size_t klen;
				const char *k = lua_tolstring(L, -1, &klen);
				lua_rawget(L, idx);
				bool ok = lua_isnil(L, -1) || set_member(L, o, k, klen, depth, e);
				lua_pop(L, 1);
				if (!ok) {
					lua_settop(L, base);
					json_decref(o);
					return NULL;
				}
			}
		}
	}
	lua_settop(L, base);
	/* then the others, sorted */
	struct nkey *nk = NULL;
	size_t nn = 0, cap = 0;
	bool ok = true;
	lua_pushnil(L);
	while (ok && lua_next(L, idx)) {
		lua_pop(L, 1);
		struct nkey k = {0};
		if (lua_type(L, -1) == LUA_TSTRING) {
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);
			if (json_object_getn(o, s, len) != NULL)
				continue;
			k.s = xstrndup(s, len);
		} else if (lua_isinteger(L, -1)) {
			char b[32];
			k.is_int = true;
			k.i = lua_tointeger(L, -1);
			snprintf(b, sizeof b, "%" PRId64, (int64_t)k.i);
			k.s = xstrdup(b);
		} else {
			fail(e, "object keys must be strings, not %s", luaL_typename(L, -1));
			ok = false;
			lua_pop(L, 1);
			break;
		}
		if (nn == cap) {
			cap = cap ? cap * 2 : 8;
			nk = xrealloc(nk, cap * sizeof *nk);
		}
		nk[nn++] = k;
	}
	if (ok && nn > 1)
		qsort(nk, nn, sizeof *nk, nkey_cmp);
	for (size_t i = 0; i < nn; i++) {
		if (ok) {
			if (nk[i].is_int)
				lua_pushinteger(L, nk[i].i);
			else
				lua_pushstring(L, nk[i].s);
			lua_rawget(L, idx);
			ok = set_member(L, o, nk[i].s, strlen(nk[i].s), depth, e);
			lua_pop(L, 1);
		}
		free(nk[i].s);
	}
	free(nk);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *to(lua_State *L, int idx, int depth, struct enc *e)
{
	if (depth > LUAJSON_DEPTH_MAX) {
		char d[16];
		snprintf(d, sizeof d, "%d", LUAJSON_DEPTH_MAX);
		return fail(e, "result nested deeper than %s levels (or a table contains itself)", d);
	}
	luaL_checkstack(L, 8, "result nested too deep");
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return grow(e, 4) ? json_null() : NULL;
	case LUA_TBOOLEAN:
		return grow(e, 5) ? json_boolean(lua_toboolean(L, idx)) : NULL;
	case LUA_TNUMBER:
		if (!grow(e, 24))
			return NULL;
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx)))
			return fail(e, "%s", "a number is NaN or infinite: JSON has neither");
		return json_real(lua_tonumber(L, idx));
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		if (!grow(e, len + 2))
			return NULL;
		json_t *j = json_stringn(s, len);
		return j != NULL ? j : fail(e, "%s", "a string is not valid UTF-8");
	}
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == &K_NULL)
			return grow(e, 4) ? json_null() : NULL;
		break;
	case LUA_TTABLE: {
		if (!grow(e, 2))
			return NULL;
		int kind = kind_of(L, idx);
		if (kind == 2)
			return to_array(L, idx, (lua_Integer)lua_rawlen(L, idx), depth, e);
		lua_Integer n = kind == 1 ? -1 : seq_len(L, idx);
		return n > 0 ? to_array(L, idx, n, depth, e) : to_object(L, idx, depth, e);
	}
	default:
		break;
	}
	return fail(e, "cannot turn a %s into JSON", luaL_typename(L, idx));
}

json_t *luajson_to(lua_State *L, int idx, size_t max_bytes, char *err, size_t errlen)
{
	struct enc e = {.max = max_bytes, .err = err, .errlen = errlen};
	err[0] = '\0';
	return to(L, lua_absindex(L, idx), 0, &e);
}
