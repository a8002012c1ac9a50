/* config.h: the settings of hookd serve: flags, then HOOKD_* environment, then defaults, all from one table
 * (config_settings) that also gives hookd serve --help and the README's settings table. */
#ifndef HOOKD_CONFIG_H
#define HOOKD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backoff.h"
#include "netguard.h"

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
	int app_inflight;          /* HOOKD_APP_INFLIGHT: transfers in flight per app; 0: half of max_inflight */
	int64_t connect_timeout_ms;/* HOOKD_CONNECT_TIMEOUT: per delivery connection, capped by the request timeout */
	int http_threads;          /* HOOKD_HTTP_THREADS: the API's thread pool */
	int transform_workers;     /* HOOKD_TRANSFORM_WORKERS: threads that run transformations (2) */
	int transform_budget;      /* HOOKD_TRANSFORM_BUDGET: Lua instructions per handler call */
	size_t transform_memory;   /* HOOKD_TRANSFORM_MEMORY: bytes a handler call may hold */
	int max_connections;       /* HOOKD_MAX_CONNECTIONS: API connections open at once (4096) */
	int max_connections_per_ip;/* HOOKD_MAX_CONNECTIONS_PER_IP: of them from one address (256; 0: no cap) */
	int64_t receive_timeout_ms;/* HOOKD_RECEIVE_TIMEOUT: an API request must arrive whole within this (10 s) */
	int64_t disable_after_ms;  /* HOOKD_DISABLE_AFTER: an endpoint failing this long is disabled (5 days) */
	int breaker_failures;      /* HOOKD_BREAKER_FAILURES: failures in a row (for at least the cooldown,
				    * with no success) that pause an endpoint */
	int64_t breaker_cooldown_ms; /* HOOKD_BREAKER_COOLDOWN: first pause before a probe; doubles, max 10 min */
	int64_t retention_ms;      /* HOOKD_RETENTION: payloads and response bodies older than this are purged (90 d) */
	int64_t lease_time_ms;     /* HOOKD_LEASE_TIME: endpoint leases of several nodes on PostgreSQL (10 s) */
	int64_t commit_wait_ms;    /* HOOKD_COMMIT_WAIT: under load, how long a commit waits to fill (1 ms) */
	int64_t chore_interval_ms; /* HOOKD_CHORE_INTERVAL: how often the main thread runs its chores (60 s) */
	int log_level;             /* HOOKD_LOG_LEVEL */
	bool log_json;             /* HOOKD_LOG_FORMAT json */
	char *config_file;         /* HOOKD_CONFIG: read before the environment and the flags */
	char *operational_url;     /* HOOKD_OPERATIONAL_URL: where operational webhooks go; NULL: off */
	char *operational_secret;  /* HOOKD_OPERATIONAL_SECRET: their signing secret (whsec_...) */
	char *public_url;          /* HOOKD_PUBLIC_URL: how providers reach hookd ("https://hooks.example.com"), for
				    * the schemes that sign the URL (twilio); NULL: unknown */
	char *secret_key;          /* HOOKD_SECRET_KEY: base64 of the 32-byte key sealing stored secrets (seal.h); NULL:
				    * read or make <data_dir>/secret.key */
	char *secret_key_previous; /* HOOKD_SECRET_KEY_PREVIOUS: older keys, a comma list: they open, never seal */
	struct netguard guard;     /* HOOKD_ALLOW_NETWORK, HOOKD_REQUIRE_HTTPS: the SSRF guard (netguard.h) */
	char *proxy;               /* HOOKD_PROXY: deliveries go through this proxy; NULL: direct */
	char *portal_frame_ancestors; /* HOOKD_PORTAL_FRAME_ANCESTORS: CSP frame-ancestors of /portal/ */
	bool metrics_public;       /* HOOKD_METRICS_PUBLIC: GET /metrics without the token */
};

/* How a setting's text is parsed, and so the type of its field in struct config. */
enum setting_kind {
	SETTING_STRING,     /* char *: at least min characters */
	SETTING_LISTEN,     /* char *: "host:port", "[v6]:port" */
	SETTING_URL,        /* char *: http:// or https:// */
	SETTING_BASE_URL,   /* char *: http:// or https://, trailing slashes dropped */
	SETTING_SECRET,     /* char *: a signing secret hookd_secret_decode takes (whsec_...) */
	SETTING_INT,        /* int: digits in [min, max] */
	SETTING_SIZE,       /* size_t: digits in [min, max] */
	SETTING_FRACTION,   /* double: in [min, max] */
	SETTING_DURATION,   /* int64_t ms: "500ms", "5s", "2m", "1h", "5d" (plain: seconds) in [min, max]; max 0: none */
	SETTING_SCHEDULE,   /* struct backoff: comma-separated durations (backoff_parse_schedule) */
	SETTING_LOG_LEVEL,  /* int: error, warn, info, debug */
	SETTING_LOG_FORMAT, /* bool: "text" (false) or "json" (true) */
	SETTING_BOOL,       /* bool: true/false, yes/no, on/off, 1/0 */
	SETTING_NETS,       /* struct netguard: its allow list, "CIDR[,CIDR...]" (netguard_allow_parse) */
	SETTING_PROXY,      /* char *: http://, https://, socks5:// or socks5h:// */
	SETTING_CSP_SOURCES, /* char *: a CSP source list (printable ASCII and spaces, no ';' or ',') */
};

/* One setting of hookd serve. */
struct setting {
	const char *name;     /* the flag without "--": "retry-schedule" */
	const char *env;      /* HOOKD_ and the name in upper snake case: "HOOKD_RETRY_SCHEDULE" */
	const char *arg;      /* what the value is, in help: "D", "ADDR:PORT" */
	enum setting_kind kind;
	size_t offset;        /* of its field in struct config */
	int64_t min, max;     /* bounds, as the kind reads them */
	const char *dflt;     /* the default as text, parsed like a value by config_init; NULL: none (the field is 0) */
	const char *dflt_doc; /* the default as the docs say it, when dflt is NULL (markdown: `code`); NULL: dflt */
	const char *help;     /* one line for hookd serve --help */
	const char *doc;      /* the README's text (markdown); NULL: help */
};

extern const struct setting config_settings[];
extern const size_t config_nsettings;

/* Every setting at its default. */
void config_init(struct config *c);
void config_dispose(struct config *c);
/* Apply one setting by its name (the flag without "--"). 0, or -1 with "invalid value for --NAME: 'VALUE'" or
 * "unknown option --NAME (see hookd --help)" in err. */
int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);
/* Apply HOOKD_* variables; then `serve` flags from argv (starting after "serve"): "--name value" or
 * "--name=value"; flags win. 0, or -1 with a one-line message in err. */
int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen);
/* Split "host:port" (IPv6 as "[::1]:port"); -1 if malformed. */
int config_split_listen(const char *listen, char *host, size_t hostlen, int *port);
/* hookd serve --help: a usage line and one line per setting. */
void config_help(FILE *f);
/* The settings as a markdown table (the README's, between <!-- settings:begin --> and <!-- settings:end -->). */
/* The settings as a man page's option list (roff .TP entries): hookd help --man. */
void config_man(FILE *f);
void config_markdown(FILE *f);

#endif
