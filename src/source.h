/* source.h: inbound sources. A source is where a provider (Stripe, GitHub, ...) posts webhooks: /in/{source}
 * verifies each request with libhookd, deduplicates it on the provider's event id, records it, and forwards it
 * to the source's destinations, which are the endpoints of an internal app (uid "hookd.source.<id>") so that
 * retries, attempts, resend and the dead letter work as for any message.
 *
 * Sources live in memory (a registry kept in step with committed writes, like the cache); each one is an
 * immutable, refcounted snapshot. */
#ifndef HOOKD_SOURCE_H
#define HOOKD_SOURCE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "hookd.h"
#include "json.h"
#include "model.h"
#include "store.h"

#define SOURCE_APP_UID_PREFIX "hookd.source."
#define SOURCE_EVENT_TYPE "hookd.inbound"
#define SOURCE_DEST_MAX 10
#define SOURCE_MAX_BODY_DEFAULT (1024 * 1024)
#define SOURCE_MAX_BODY_LIMIT (64 * 1024 * 1024)
#define SOURCE_DEDUP_WINDOW_DEFAULT 86400
#define SOURCE_KEY_MAX 512 /* a provider's id longer than this is deduplicated by body hash */

enum dedup_kind { DEDUP_HEADER, DEDUP_POINTER, DEDUP_BODY };

struct source {
	int refs; /* atomic */
	char id[ID_MAX];
	char *uid;
	char app_id[ID_MAX];
	json_t *config; /* the normalized SourceIn plus id, appId, createdAt, updatedAt */
	struct hookd_config *verifier; /* NULL: scheme "none" */
	char *public_url;      /* the URL the provider posts to, for schemes that sign it; NULL: --public-url's */
	enum dedup_kind dedup_kind;
	char *dedup_arg; /* header name or JSON pointer */
	int64_t dedup_window_ms;
	size_t max_body;
	struct strlist content_types; /* v == NULL: any */
	/* rejected requests recorded: a token bucket of this snapshot (source_reject_budget) */
	pthread_mutex_t reject_mu;
	double reject_tokens;
	int64_t reject_last_ms;
};

/* Validate a SourceIn; on success returns its normalized form (every default filled in), else NULL with the
 * problems in ve. */
json_t *source_validate(json_t *in, struct verr *ve);
/* A snapshot from a normalized config that also holds id, appId, createdAt, updatedAt (stolen). NULL if the
 * config is not valid. */
struct source *source_new(json_t *config);
struct source *source_ref(struct source *s);
void source_unref(struct source *s);

/* The registry. put takes a reference of its own; put and del are for registry.c (writers record a struct change,
 * registry.h). lookup by id or uid returns a reference, or NULL. */
void sources_put(struct source *s);
void sources_del(const char *id);
struct source *sources_lookup(const char *id_or_uid);
/* A page of sources by id (references; release each). */
size_t sources_list(const struct page *pg, struct source ***out);
/* The longest dedup window of any source (0 if none). */
int64_t sources_max_window_ms(void);
/* Load every source at start-up; -1 on a store failure. */
int sources_load(struct store *st);
void sources_dispose(void);

/* Rejected requests are recorded for inspection, but a flood of junk must not turn into as many writes: true
 * while the source's bucket (SOURCE_REJECT_RATE a second, bursts of SOURCE_REJECT_BURST) has a token. */
#define SOURCE_REJECT_RATE 10
#define SOURCE_REJECT_BURST 100
bool source_reject_budget(struct source *s, int64_t now_ms);

/* Pure helpers (unit-tested). */
/* The dedup key: the header value (DEDUP_HEADER, header_value given), the value at the JSON pointer in the body
 * (DEDUP_POINTER: a string or an integer), else "sha256:<hex of the body>". malloc'd. */
char *source_dedup_key(enum dedup_kind kind, const char *arg, const char *header_value, const char *body,
		       size_t len);
/* True if the request's Content-Type (NULL if absent) has one of the allowed media types (v == NULL: any). */
bool source_content_type_ok(const struct strlist *allowed, const char *content_type);
/* True if a received header is recorded (not hop-by-hop, not a credential of the hop). */
bool source_header_recorded(const char *name);
/* True if a recorded header is forwarded as is (content-type and user-agent are carried otherwise). */
bool source_header_forwarded(const char *name);

#endif
