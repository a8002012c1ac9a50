/* xform.h: the Lua 5.4 sandbox that runs transformations and api-version downgrades (docs/transformations.md).
 *
 * One struct xform is one lua_State, used by one thread at a time and reused call after call. It has only the
 * safe libraries (base without load/dofile/loadfile/require/collectgarbage/warn and with a silent print;
 * string without dump; table; math; utf8; json from luajson.h), no os, io, package or debug, and loads text
 * only (no bytecode). Each call gets a fresh global table (copies of the library tables, so nothing one call
 * sets is seen by the next), an instruction budget (a count hook raises once it is spent, and again at every
 * instruction after, so pcall cannot swallow it) and a memory cap (the allocator refuses bytes beyond the
 * state's use at the call's start plus the cap). Compiled chunks are cached per state by code.
 *
 * The handler contract (Svix's): the code defines `function handler(webhook) ... return webhook end`;
 * webhook.payload is the payload as a table, and webhook.eventType, .url, .method ("POST" or "PUT"), .headers
 * (extra request headers, initially empty) and .cancel (false) may be changed. */
#ifndef HOOKD_XFORM_H
#define HOOKD_XFORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XFORM_CODE_MAX (64 * 1024) /* a handler's source, bytes */
#define XFORM_ERR_MAX 512          /* an error message, bytes */

/* The webhook a handler sees and returns; every field owned. */
struct xform_hook {
	json_t *payload;  /* any JSON value (a message's payload: an object) */
	char *event_type; /* may be NULL */
	char *url;
	char *method;     /* "POST" or "PUT" */
	json_t *headers;  /* object of string values, never NULL */
	bool cancel;
};
void xform_hook_dispose(struct xform_hook *w);

struct xform;
/* A sandbox with budget instructions and memory bytes per call (NULL if Lua cannot start). */
struct xform *xform_new(int64_t budget, size_t memory);
void xform_free(struct xform *x);

/* Does code compile, and does running its top level (bounded like a call) define function handler? 0, or -1
 * with the Lua message in err. */
int xform_check(struct xform *x, const char *code, char *err, size_t errlen);
/* Run code's handler over *w, which it replaces with the handler's result. 0, or -1 with the message in err
 * (*w then unchanged). */
int xform_call(struct xform *x, const char *code, struct xform_hook *w, char *err, size_t errlen);

/* Convenience for the API threads: check code / run a chain in a sandbox of their own made for the call. */
int xform_check_once(const char *code, int64_t budget, size_t memory, char *err, size_t errlen);

#endif
