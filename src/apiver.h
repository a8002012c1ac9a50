/* apiver.h: payload versions (api-version): the registry of named versions (names sort in time order), each but
 * the oldest with the Lua handler (its downgrade) that turns a payload of its own shape into the next older
 * version's. Messages are posted in the newest shape; a delivery to an endpoint pinned to an older version passes
 * through the downgrade of every newer version, newest first. Thread-safe.
 *
 * The registry mirrors the store's api_versions table in memory, sorted by name behind a rwlock (a handful of
 * versions: binary search and memmove); with no version at all (most servers) apiver_chain takes no lock. It
 * changes only through registry.c (CHANGE_API_VERSION_PUT / _DELETE), after the commit; other nodes of a shared
 * database learn of it through the feed (kind "apiver"). docs/versions.md has the rules. */
#ifndef HOOKD_APIVER_H
#define HOOKD_APIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "store.h"
#include "util.h"

/* The downgrades a delivery to an endpoint pinned to `pinned` (NULL: not pinned, the newest shape) passes
 * through, newest first: copies of their Lua code appended to *codes. Returns the name to send in the
 * webhook-api-version header (malloc'd; the caller frees it), or NULL when no version exists.
 * A pin naming a version that no longer exists (deleted while pinned, which DELETE refuses but a race between
 * nodes can leave) counts as the oldest existing version newer than it, or as the newest if none is. */
char *apiver_chain(const char *pinned, struct strlist *codes);

/* ---- the registry ---- */
void apiver_dispose(void);
/* Take ownership of every version loaded from the store at start-up (v is freed). */
void apiver_load(struct api_version *v, size_t n);
/* Insert or replace by name (copies); remove. For registry.c only. */
void apiver_put(const struct api_version *v);
void apiver_delete(const char *name);

/* Where a version sits in the chain. */
struct apiver_pos {
	bool oldest, newest;
	size_t older;  /* how many versions are older */
};
/* Copy out (caller disposes) with its position (pos may be NULL). STORE_OK or STORE_NOTFOUND. */
int apiver_get(const char *name, struct api_version *out, struct apiver_pos *pos);
/* The newest version's name (malloc'd), or NULL when there is none. */
char *apiver_newest(void);
/* A page in name order (pg->before / pg->after are names). Array malloc'd, each element disposed by the caller. */
void apiver_list(const struct page *pg, struct api_version **out, size_t *n);

/* ---- rules ---- */
/* A version name: 1-64 of [A-Za-z0-9._-]. */
bool apiver_name_valid(const char *s);
#define APIVER_CODE_MAX (64 * 1024)
/* A downgrade's code: at most APIVER_CODE_MAX bytes that compile as Lua text (never bytecode). 0, or -1 with
 * the reason (Lua's message) in err. */
int apiver_code_check(const char *code, size_t len, char *err, size_t errlen);

#endif
