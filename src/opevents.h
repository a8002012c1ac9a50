/* opevents.h: operational webhooks. Events about endpoints and deliveries (endpoint.created, .updated,
 * .deleted, .disabled; message.attempt.exhausted, .failing, .recovered) are messages of an internal app
 * (uid "hookd.operational") whose one endpoint is the operator's URL, so they are stored, signed, retried and
 * logged by the same engine as everything else. */
#ifndef HOOKD_OPEVENTS_H
#define HOOKD_OPEVENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "store.h"

#define OPEVENTS_APP_UID "hookd.operational"
/* The uid of the endpoint --operational-url sets; others are made through /api/v1/operational-webhook/endpoint. */
#define OPEVENTS_URL_UID "operational-url"

/* Create the internal app if absent and, with --operational-url, update its endpoint (before the committer
 * starts). 0, or -1 with a reason. */
int opevents_init(const struct config *cfg, struct store *st, char *err, size_t errlen);
/* True if app_id is the internal app (no events about its own deliveries). */
bool opevents_is_internal(const char *app_id);
/* Queue an event; data is stolen. A no-op when no operational endpoint takes its type. Thread-safe. */
void opevents_emit(const char *type, json_t *data);
/* {appId, appUid, endpointId, endpointUid} for an endpoint event. */
json_t *opevents_endpoint_data(const char *app_id, const char *endpoint_id, const char *endpoint_uid);

#endif
