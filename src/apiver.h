/* apiver.h: payload versions (api-version): the registry of named versions (names sort in time order), each but
 * the oldest with the Lua handler (its downgrade) that turns a payload of its own shape into the next older
 * version's. Messages are posted in the newest shape; a delivery to an endpoint pinned to an older version passes
 * through the downgrade of every newer version, newest first. Thread-safe. */
#ifndef HOOKD_APIVER_H
#define HOOKD_APIVER_H

#include "util.h"

/* The downgrades a delivery to an endpoint pinned to `pinned` (NULL: not pinned, the newest shape) passes
 * through, newest first: copies of their Lua code appended to *codes. Returns the name to send in the
 * webhook-api-version header (malloc'd; the caller frees it), or NULL when no version exists. */
char *apiver_chain(const char *pinned, struct strlist *codes);

#endif
