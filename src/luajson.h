/* luajson.h: JSON (jansson) <-> Lua 5.4 values, for transformations (docs/transformations.md).
 *
 * JSON -> Lua: objects and arrays become tables marked with a shared, locked metatable (getmetatable gives
 * "json.object" / "json.array"), so an empty array stays an array; an object's key order is remembered (in a
 * per-call table, luajson_begin) and kept on the way back; integers stay integers, reals floats; null is the
 * sentinel json.null (a light userdata).
 * Lua -> JSON: a marked table keeps its kind; an unmarked (script-made) table is an array when its keys are
 * exactly 1..n (n >= 1), else an object (so {} is an object; json.array() makes an empty array); integer keys of
 * an object become decimal strings; other keys, functions, NaN/inf and invalid UTF-8 are errors. Object keys:
 * those known from the JSON first, in their order, then new ones sorted.
 * Both directions stop at LUAJSON_DEPTH_MAX levels (a cycle is too deep); Lua -> JSON stops past max_bytes of
 * output (a table can refer to one big string many times). The Lua side runs in protected mode (it may raise). */
#ifndef HOOKD_LUAJSON_H
#define HOOKD_LUAJSON_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#define LUAJSON_DEPTH_MAX 128

/* Once per lua_State: the two metatables, and a global-free `json` library table left on the stack:
 * json.null, json.array([t]), json.object([t]) (mark t, or a new table, as an array / object). */
void luajson_open(lua_State *L);
/* Start and end a conversion scope (the key-order memory); a call's conversions both ways go between them. */
void luajson_begin(lua_State *L);
void luajson_end(lua_State *L);
/* Push v as a Lua value. May raise (memory); raises "payload too deep" past the depth cap. */
void luajson_push(lua_State *L, const json_t *v);
/* The Lua value at idx as JSON (new reference), or NULL with the reason in err. May raise (memory). */
json_t *luajson_to(lua_State *L, int idx, size_t max_bytes, char *err, size_t errlen);

#endif
