/* evtypes.h: the event type registry in memory, kept in step with committed writes (like cache.h for apps and
 * endpoints). Endpoint validation and send-example read it; nothing on the ingest path does. Thread-safe. */
#ifndef HOOKD_EVTYPES_H
#define HOOKD_EVTYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "store.h"

void evtypes_dispose(void);
/* Take ownership of every event type loaded from the store at start-up (v is freed). */
void evtypes_load(struct event_type *v, size_t n);
/* Insert or replace by name (copies); remove. For registry.c: writers record a struct change (registry.h). */
void evtypes_put(const struct event_type *t);
void evtypes_delete(const char *name);
/* Copy out (caller disposes). STORE_OK or STORE_NOTFOUND. */
int evtypes_get(const char *name, struct event_type *out);
/* A page in name order (pg->before / pg->after are names); archived types only if asked. Array malloc'd, each
 * element disposed by the caller. */
void evtypes_list(const struct page *pg, bool include_archived, struct event_type **out, size_t *n);
/* The first exact name in patterns that is not an active (unarchived) type, or NULL if every one is, or if the
 * registry has no active type at all (hookd then takes any name, as before). Wildcards always pass. */
const char *evtypes_unknown(const struct strlist *patterns);
/* The payload of a type's first schema example (schemas' first value, examples[0], an object) as compact JSON,
 * malloc'd; NULL if the type or the example is absent. */
char *evtypes_example(const char *name);

#endif
