/* signer.h: an endpoint's signing configuration (libhookd) from its scheme, options and secrets. */
#ifndef HOOKD_SIGNER_H
#define HOOKD_SIGNER_H

#include <jansson.h>

#include "hookd.h"
#include "model.h"

/* The default scheme: Standard Webhooks. */
#define SIGNER_DEFAULT_SCHEME "standard"

/* Map an options object {header, timestampHeader, idHeader, prefix, hash, encoding} onto o (pointers into
 * opts). -1 for an unknown key or a value that is not a string. */
int signer_options(json_t *opts, struct hookd_options *o);

/* Build e's config for signing at now_ms: its secret first, then every old secret still in its grace period.
 * *valid_until_ms is when the next old secret expires (INT64_MAX if none). HOOKD_OK or a hookd_err. */
int signer_build(const struct endpoint *e, int64_t now_ms, struct hookd_config **out, int64_t *valid_until_ms);

#endif
