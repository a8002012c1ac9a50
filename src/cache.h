/* cache.h: every application and endpoint, in memory, kept in step with committed writes.
 *
 * The API reads apps and endpoints from here (no query per message); fan-out is computed here; the dispatcher
 * takes endpoint snapshots from here. It changes only through the change feed (registry.h): a writer records
 * struct changes in its committer job, and the committer applies them through registry_apply() once the write is
 * durable, so the cache never shows what the store does not hold. All functions are thread-safe (a rwlock).
 */
#ifndef HOOKD_CACHE_H
#define HOOKD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "hookd.h"
#include "model.h"
#include "pfilter.h"
#include "store.h"

/* An endpoint as the dispatcher uses it: immutable and refcounted. gen grows with every snapshot, so a user of
 * snapshots can tell that an endpoint changed. */
struct ep_snap {
	int refs; /* atomic */
	uint64_t gen;
	struct endpoint ep;
	struct pfilter *pf; /* ep.payload_filter compiled (pfilter.h); NULL: none, or it did not compile (then the
			     * endpoint takes no message: see cache_fanout) */
};

void cache_init(void);
void cache_dispose(void);
/* Take ownership of everything loaded from the store at start-up. */
void cache_load(struct app *apps, size_t napps, struct endpoint *eps, size_t neps);

/* The mutations: for registry.c (registry_apply); everyone else goes through it. */
void cache_app_put(const struct app *a);          /* copies */
void cache_app_delete(const char *app_id);        /* with its endpoints */
void cache_endpoint_put(const struct endpoint *e); /* copies */
void cache_endpoint_delete(const char *endpoint_id);

/* Replace an endpoint's snapshot with one whose disabled flag and updated time are set. */
void cache_endpoint_set_disabled(const char *endpoint_id, bool disabled, int64_t updated_ms);

/* Copies out (caller disposes). STORE_OK or STORE_NOTFOUND. */
int cache_app_get(const char *id_or_uid, struct app *out);
int cache_endpoint_get(const char *app_id, const char *id_or_uid, struct endpoint *out);
/* Pages in id order (see struct page); arrays malloc'd, each element disposed by the caller. */
void cache_app_list(const struct page *pg, struct app **out, size_t *n);
void cache_endpoint_list(const char *app_id, const struct page *pg, struct endpoint **out, size_t *n);
/* Resolve an app's id or uid to its id without copying the app. STORE_OK or STORE_NOTFOUND. */
int cache_app_resolve(const char *id_or_uid, char id[ID_MAX]);
/* An app's throttleRate (0: none, or no such app). */
int64_t cache_app_throttle(const char *app_id);
/* True if some other endpoint of app_id has this uid. */
int cache_endpoint_uid_taken(const char *app_id, const char *uid, const char *except_id);

/* The enabled endpoints of m->app_id that take a message of m's type and channels and whose payloadFilter
 * matches m's payload: ids copied into a malloc'd array (NULL when none). Returns the count. payload is m's
 * payload parsed when the caller has it; NULL: m->payload is parsed here, once, and only if some candidate
 * endpoint has a filter (a payload that is not JSON matches no filter). Each endpoint a filter kept the message
 * from is counted in metrics (hookd_deliveries_filtered_total). */
size_t cache_fanout(const struct message *m, const json_t *payload, char (**ids)[ID_MAX]);
/* True if an enabled endpoint of m->app_id takes m's type and channels (payload filters aside: no payload yet). */
bool cache_precheck(const struct message *m);
/* True if endpoint e, whose payloadFilter compiled is pf (NULL: none or broken), takes m: payload as for
 * cache_fanout, else m->payload parsed into *parsed on demand (it starts NULL; the caller decrefs it). Counts a
 * message it keeps out, as cache_fanout does. */
bool cache_payload_match(const struct endpoint *e, const struct pfilter *pf, const struct message *m,
			 const json_t *payload, json_t **parsed);

/* A reference to an endpoint's current snapshot, or NULL if it is gone. Release with ep_snap_unref. */
struct ep_snap *cache_endpoint_ref(const char *endpoint_id);
void ep_snap_unref(struct ep_snap *s);

#endif
