/* config.h: settings from flags, then HOOKD_* environment, then defaults. */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "backoff.h"

struct config {
	char *listen;              /* "127.0.0.1:8071" */
	char *data_dir;            /* "./data" */
	char *db_url;              /* "sqlite:<data_dir>/hookd.db" unless given */
	char *token;               /* HOOKD_TOKEN, or NULL: read or make <data_dir>/token */
	struct backoff backoff;    /* HOOKD_RETRY_SCHEDULE, HOOKD_RETRY_JITTER, HOOKD_THROTTLED_MIN_DELAY */
	int64_t request_timeout_ms;/* HOOKD_REQUEST_TIMEOUT, default 30 s */
	int64_t drain_timeout_ms;  /* HOOKD_DRAIN_TIMEOUT: how long SIGTERM waits for transfers in flight */
	size_t max_body;           /* HOOKD_MAX_BODY, default 1 MiB */
	int max_inflight;          /* HOOKD_MAX_INFLIGHT: transfers in flight, all endpoints */
	int endpoint_inflight;     /* HOOKD_ENDPOINT_INFLIGHT: transfers in flight per endpoint */
	int http_threads;          /* HOOKD_HTTP_THREADS: the API's thread pool */
	int64_t disable_after_ms;  /* HOOKD_DISABLE_AFTER: an endpoint failing this long is disabled (5 days) */
	int breaker_failures;      /* HOOKD_BREAKER_FAILURES: failures in a row (for at least the cooldown,
				    * with no success) that pause an endpoint */
	int64_t breaker_cooldown_ms; /* HOOKD_BREAKER_COOLDOWN: first pause before a probe; doubles, max 10 min */
	int64_t retention_ms;      /* HOOKD_RETENTION: payloads and response bodies older than this are purged (90 d) */
	int64_t chore_interval_ms; /* HOOKD_CHORE_INTERVAL: how often the main thread runs its chores (60 s) */
	int log_level;             /* HOOKD_LOG_LEVEL */
	char *operational_url;     /* HOOKD_OPERATIONAL_URL: where operational webhooks go; NULL: off */
	char *operational_secret;  /* HOOKD_OPERATIONAL_SECRET: their signing secret (whsec_...) */
	char *public_url;          /* HOOKD_PUBLIC_URL: how providers reach hookd ("https://hooks.example.com"), for
				    * the schemes that sign the URL (twilio); NULL: unknown */
};

void config_init(struct config *c);
void config_dispose(struct config *c);
/* Apply HOOKD_* variables; then `serve` flags from argv (starting after "serve"). 0, or -1 with a one-line
 * message in err. */
int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen);
/* Split "host:port" (IPv6 as "[::1]:port"); -1 if malformed. */
int config_split_listen(const char *listen, char *host, size_t hostlen, int *port);

#endif
