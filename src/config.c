/* config.c: one table of settings; flags, environment, defaults, --help and the README's table all come from it. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hookd.h"
#include "log.h"
#include "util.h"

/* offsetof(struct config, f), and a compile error unless the field has type T: the kind and the field agree. */
#define FIELD(f, T) \
	(offsetof(struct config, f) + 0 * sizeof(char[_Generic(((struct config *)0)->f, T: 1, default: -1)]))
#define STR(f) FIELD(f, char *)
#define DAY (86400LL * 1000)
#define CSP_SOURCES_MAX 1024 /* bytes of a CSP source list (SETTING_CSP_SOURCES) */

const struct setting config_settings[] = {
	{"listen", "HOOKD_LISTEN", "ADDR:PORT", SETTING_LISTEN, STR(listen), 0, 0, "127.0.0.1:8071", NULL,
	 "where the API listens", NULL},
	{"data", "HOOKD_DATA", "DIR", SETTING_STRING, STR(data_dir), 0, 0, "./data", NULL, "data directory",
	 "data directory (database, generated token, node id)"},
	{"db", "HOOKD_DB", "URL", SETTING_STRING, STR(db_url), 0, 0, NULL, "`sqlite:DIR/hookd.db`",
	 "the database: sqlite:PATH or postgres://...",
	 "the database: `sqlite:PATH`, or PostgreSQL as `postgres://user@host/db` or libpq's `key=value` form "
	 "(`schema=NAME` picks a schema; several nodes may share one: docs/scaling.md)"},
	{"token", "HOOKD_TOKEN", "TOKEN", SETTING_STRING, STR(token), 8, 0, NULL, "`DIR/token`, made at first start",
	 "API bearer token, 8+ characters", NULL},
	{"retry-schedule", "HOOKD_RETRY_SCHEDULE", "LIST", SETTING_SCHEDULE, FIELD(backoff, struct backoff), 0, 0,
	 "5s,5m,30m,2h,5h,10h,10h", NULL, "delays between attempts",
	 "delays between attempts (durations: `ms`, `s`, `m`, `h`, `d`; empty: no retries)"},
	{"retry-jitter", "HOOKD_RETRY_JITTER", "F", SETTING_FRACTION, FIELD(backoff.jitter, double), 0, 1, "0.2", NULL,
	 "+- fraction of each delay (0 to 1)", NULL},
	{"throttled-min-delay", "HOOKD_THROTTLED_MIN_DELAY", "D", SETTING_DURATION,
	 FIELD(backoff.throttled_min_ms, int64_t), 0, 0, "60s", NULL, "least wait after a 429 or a timeout", NULL},
	{"request-timeout", "HOOKD_REQUEST_TIMEOUT", "D", SETTING_DURATION, FIELD(request_timeout_ms, int64_t), 1, 0,
	 "30s", NULL, "per delivery request", NULL},
	{"connect-timeout", "HOOKD_CONNECT_TIMEOUT", "D", SETTING_DURATION, FIELD(connect_timeout_ms, int64_t), 1, 0,
	 "5s", NULL, "per delivery connection (at most the request timeout)",
	 "per delivery connection: an address that does not answer fails the attempt sooner than a slow answer would "
	 "(at most the request timeout)"},
	{"drain-timeout", "HOOKD_DRAIN_TIMEOUT", "D", SETTING_DURATION, FIELD(drain_timeout_ms, int64_t), 0, 0, "10s",
	 NULL, "how long SIGTERM waits for deliveries in flight", NULL},
	{"max-body", "HOOKD_MAX_BODY", "BYTES", SETTING_SIZE, FIELD(max_body, size_t), 1024, 1L << 30, "1048576", NULL,
	 "API request body cap in bytes (413 beyond)", NULL},
	{"max-inflight", "HOOKD_MAX_INFLIGHT", "N", SETTING_INT, FIELD(max_inflight, int), 1, 100000, "256", NULL,
	 "deliveries in flight, all endpoints", NULL},
	{"endpoint-inflight", "HOOKD_ENDPOINT_INFLIGHT", "N", SETTING_INT, FIELD(endpoint_inflight, int), 1, 100000, "32",
	 NULL, "deliveries in flight per endpoint", NULL},
	{"app-inflight", "HOOKD_APP_INFLIGHT", "N", SETTING_INT, FIELD(app_inflight, int), 0, 100000, NULL,
	 "half of `--max-inflight`", "deliveries in flight per app (0: half of --max-inflight)",
	 "deliveries in flight per app, so that one app's slow endpoints leave the others room (0: half of "
	 "`--max-inflight`; docs/security.md)"},
	{"http-threads", "HOOKD_HTTP_THREADS", "N", SETTING_INT, FIELD(http_threads, int), 1, 64, "2", NULL,
	 "API threads", NULL},
	{"transform-workers", "HOOKD_TRANSFORM_WORKERS", "N", SETTING_INT, FIELD(transform_workers, int), 1, 64, "2",
	 NULL, "threads that run transformations and api-version downgrades",
	 "threads that run transformations and api-version downgrades (Lua), off the dispatcher thread "
	 "(docs/transformations.md)"},
	{"transform-budget", "HOOKD_TRANSFORM_BUDGET", "N", SETTING_INT, FIELD(transform_budget, int), 10000,
	 2000000000, "10000000", NULL, "Lua instructions a handler call may run",
	 "Lua instructions a handler call may run before it fails (an endless loop stops there)"},
	{"transform-memory", "HOOKD_TRANSFORM_MEMORY", "BYTES", SETTING_SIZE, FIELD(transform_memory, size_t), 65536,
	 1L << 30, "16777216", NULL, "bytes a handler call may hold",
	 "bytes a handler call may hold (the payload as Lua tables included; also the cap of the body it makes)"},
	{"max-connections", "HOOKD_MAX_CONNECTIONS", "N", SETTING_INT, FIELD(max_connections, int), 16, 1000000, "4096",
	 NULL, "API connections open at once, all clients",
	 "API connections open at once, all clients (hookd raises its open-file limit to fit, as far as the hard "
	 "limit allows; docs/security.md)"},
	{"max-connections-per-ip", "HOOKD_MAX_CONNECTIONS_PER_IP", "N", SETTING_INT, FIELD(max_connections_per_ip, int),
	 0, 1000000, "256", NULL, "API connections open at once from one address (0: no cap)",
	 "API connections open at once from one client address; more are closed at once (0: no cap; behind a "
	 "reverse proxy every client has the proxy's address: docs/security.md)"},
	{"receive-timeout", "HOOKD_RECEIVE_TIMEOUT", "D", SETTING_DURATION, FIELD(receive_timeout_ms, int64_t), 100,
	 3600000, "10s", NULL, "an API request must arrive whole (headers and body) within this",
	 "an API request must arrive whole (request line, headers and body) within this, however its bytes trickle, "
	 "or its connection is closed (100 ms to 1 h; docs/security.md)"},
	{"disable-after", "HOOKD_DISABLE_AFTER", "D", SETTING_DURATION, FIELD(disable_after_ms, int64_t), 1, 0, "5d",
	 NULL, "disable an endpoint failing continuously this long",
	 "an endpoint failing continuously this long is disabled (a 410 answer disables at once)"},
	{"breaker-failures", "HOOKD_BREAKER_FAILURES", "N", SETTING_INT, FIELD(breaker_failures, int), 1, 1000000, "10",
	 NULL, "failures in a row (for at least the cooldown) that pause an endpoint",
	 "failures in a row, with no success for at least the cooldown, that pause an endpoint (circuit breaker)"},
	{"breaker-cooldown", "HOOKD_BREAKER_COOLDOWN", "D", SETTING_DURATION, FIELD(breaker_cooldown_ms, int64_t), 1, 0,
	 "30s", NULL, "pause before probing it again; doubles up to 10m",
	 "the pause before one probe delivery; doubles on each failed probe, up to 10 min"},
	{"operational-url", "HOOKD_OPERATIONAL_URL", "URL", SETTING_URL, STR(operational_url), 0, 0, NULL, "off",
	 "where operational webhooks (endpoint.disabled, ...) go",
	 "operational webhooks (`endpoint.created/updated/deleted/disabled`, "
	 "`message.attempt.failing/exhausted/recovered`) go here, signed"},
	{"operational-secret", "HOOKD_OPERATIONAL_SECRET", "S", SETTING_SECRET, STR(operational_secret), 0, 0, NULL,
	 "made at first start and logged", "their signing secret (whsec_...)",
	 "their Standard Webhooks secret (`whsec_...`)"},
	{"public-url", "HOOKD_PUBLIC_URL", "URL", SETTING_BASE_URL, STR(public_url), 0, 0, NULL, "unknown",
	 "how providers reach hookd (for URL-signing schemes: twilio)",
	 "how providers reach hookd (`https://hooks.example.com`); URL-signing inbound schemes (Twilio) verify "
	 "`<public-url>/in/<source>?<query>` unless the source sets its own `publicUrl`"},
	{"secret-key", "HOOKD_SECRET_KEY", "KEY", SETTING_STRING, STR(secret_key), 1, 0, NULL,
	 "`DIR/secret.key`, made at first start", "the key sealing stored secrets: base64 of 32 bytes",
	 "the key that encrypts the stored secrets (endpoint secrets and header values, source secrets) with "
	 "AES-256-GCM: base64 of 32 bytes (`openssl rand -base64 32`); every node on one database needs the same "
	 "(docs/security.md)"},
	{"secret-key-previous", "HOOKD_SECRET_KEY_PREVIOUS", "KEYS", SETTING_STRING, STR(secret_key_previous), 0, 0,
	 NULL, "none", "older keys (comma-separated) that still decrypt, for rotation",
	 "older keys (base64, comma-separated) that still decrypt stored secrets but never encrypt: key rotation, "
	 "then `hookd rekey` (docs/security.md)"},
	{"retention", "HOOKD_RETENTION", "D", SETTING_DURATION, FIELD(retention_ms, int64_t), 1, 0, "90d", NULL,
	 "purge payloads and response bodies older than this",
	 "payloads and attempt response bodies older than this are purged in the background (the message then reads "
	 "`payload {}`, the attempt `response \"\"`); a message's `payloadRetentionPeriod` (days) overrides it for its "
	 "payload"},
	{"commit-wait", "HOOKD_COMMIT_WAIT", "D", SETTING_DURATION, FIELD(commit_wait_ms, int64_t), 0, 100, "1ms", NULL,
	 "several nodes: under load, how long a commit waits for more writes (0 to 100ms)",
	 "several nodes on PostgreSQL, group commit under load: when the last transaction carried 8 writes or more "
	 "and more came during its commit, the next one waits this long for more to join it, so that fewer, larger "
	 "transactions cost the shared database less per message, for this much latency; a node alone, or one whose "
	 "writer was idle, never waits (0: never; 0 to 100 ms; docs/scaling.md)"},
	{"chore-interval", "HOOKD_CHORE_INTERVAL", "D", SETTING_DURATION, FIELD(chore_interval_ms, int64_t), 10, 3600000,
	 "60s", NULL, "how often background chores run (10ms to 1h)",
	 "how often the background chores run (idempotency expiry, retention purge; 10 ms to 1 h)"},
	{"lease-time", "HOOKD_LEASE_TIME", "D", SETTING_DURATION, FIELD(lease_time_ms, int64_t), 1000, 600000, "10s",
	 NULL, "PostgreSQL: how long a dead node keeps its endpoints (1s to 10m)",
	 "several nodes on PostgreSQL: each endpoint is owned by one live node through a lease renewed about every "
	 "tenth of this; a node that dies (kill -9) loses its endpoints to the others within it (1 s to 10 min); a "
	 "node that stops gracefully hands them over at once (docs/scaling.md)"},
	{"allow-network", "HOOKD_ALLOW_NETWORK", "CIDR[,CIDR...]", SETTING_NETS, FIELD(guard, struct netguard), 0, 0,
	 NULL, "none", "ranges deliveries may reach despite the SSRF guard (e.g. 127.0.0.0/8)",
	 "ranges (IPv4 or IPv6 CIDRs; a bare address is /32 or /128) that deliveries may reach although the SSRF "
	 "guard blocks them: by default no delivery connects to loopback, private, link-local (cloud metadata), "
	 "CGNAT, unique-local, multicast or reserved addresses, checked on the address connected to "
	 "(docs/security.md)"},
	{"require-https", "HOOKD_REQUIRE_HTTPS", "BOOL", SETTING_BOOL, FIELD(guard.require_https, bool), 0, 0, "false",
	 NULL, "refuse http:// endpoint and destination URLs",
	 "endpoint, destination and operational URLs must be `https://`: `http://` ones are refused (422), and "
	 "attempts to those already stored fail"},
	{"proxy", "HOOKD_PROXY", "URL", SETTING_PROXY, STR(proxy), 0, 0, NULL, "none (direct)",
	 "send deliveries through this egress proxy (http, https, socks5, socks5h)",
	 "deliveries go through this egress proxy (`http://`, `https://`, `socks5://`, `socks5h://`); the SSRF "
	 "guard then checks the proxy's address only, so the proxy must enforce its own policy (docs/security.md); "
	 "`http_proxy` and the like in the environment are ignored either way"},
	{"metrics-public", "HOOKD_METRICS_PUBLIC", "BOOL", SETTING_BOOL, FIELD(metrics_public, bool), 0, 0, "false",
	 NULL, "serve GET /metrics without the API token",
	 "`GET /metrics` answers without the API token (by default it needs `Authorization: Bearer <token>` like the "
	 "API: it lists endpoint ids and their delivery counts; docs/operations.md)"},
	{"portal-frame-ancestors", "HOOKD_PORTAL_FRAME_ANCESTORS", "SOURCES", SETTING_CSP_SOURCES,
	 STR(portal_frame_ancestors), 0, 0, "'none'", NULL, "who may put the app portal in a frame (CSP sources)",
	 "the `frame-ancestors` of the app portal's Content-Security-Policy: the origins whose pages may embed "
	 "`/portal/` in an iframe, e.g. `https://app.example.com` (space-separated CSP sources; docs/ui.md)"},
	{"log-level", "HOOKD_LOG_LEVEL", "LEVEL", SETTING_LOG_LEVEL, FIELD(log_level, int), 0, 0, "info", NULL,
	 "error, warn, info or debug", "`error`, `warn`, `info`, `debug`"},
	{"log-format", "HOOKD_LOG_FORMAT", "FORMAT", SETTING_LOG_FORMAT, FIELD(log_json, bool), 0, 0, "text", NULL,
	 "text or json (one JSON object a line)",
	 "`text`, or `json`: one JSON object a line with `time`, `level`, `msg` and, for deliveries and API "
	 "errors, their fields (docs/operations.md)"},
	{"config", "HOOKD_CONFIG", "FILE", SETTING_STRING, STR(config_file), 0, 0, NULL, "none",
	 "a config file: `name = value` lines, the flags' names",
	 "a config file of `name = value` lines with the flags' names (`#` starts a comment); flags win over the "
	 "environment, the environment over the file (docs/operations.md)"},
};

const size_t config_nsettings = sizeof config_settings / sizeof config_settings[0];

static const struct setting *setting_find(const char *name)
{
	for (size_t i = 0; i < config_nsettings; i++)
		if (strcmp(config_settings[i].name, name) == 0)
			return &config_settings[i];
	return NULL;
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static bool is_http_url(const char *v) { return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0; }

static bool is_proxy_url(const char *v)
{
	return is_http_url(v) || strncmp(v, "socks5://", 9) == 0 || strncmp(v, "socks5h://", 10) == 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/* Parse v as s says and store it in its field; -1 if it is not a valid value. */
static int setting_parse(const struct setting *s, struct config *c, const char *v)
{
	void *field = (char *)c + s->offset;
	char **str = field;
	long n;
	int64_t ms;
	char host[256], *end;
	int port;
	switch (s->kind) {
	case SETTING_STRING:
		if (strlen(v) < (size_t)s->min)
			return -1;
		break;
	case SETTING_LISTEN:
		if (config_split_listen(v, host, sizeof host, &port) < 0)
			return -1;
		break;
	case SETTING_URL:
	case SETTING_BASE_URL:
		if (!is_http_url(v))
			return -1;
		break;
	case SETTING_PROXY:
		if (!is_proxy_url(v))
			return -1;
		break;
	case SETTING_CSP_SOURCES: /* it goes into a header: nothing that ends the directive or the line */
		if (*v == '\0' || strlen(v) > CSP_SOURCES_MAX || v[strspn(v, " !\"#$%&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
					  "abcdefghijklmnopqrstuvwxyz{|}~")] != '\0')
			return -1;
		break;
	case SETTING_BOOL:
		return parse_bool(v, field);
	case SETTING_NETS:
		return netguard_allow_parse(field, v);
	case SETTING_SECRET: {
		uint8_t key[HOOKD_KEY_MAX];
		size_t keylen;
		int rc = hookd_secret_decode(v, key, &keylen);
		explicit_bzero(key, sizeof key);
		if (rc != HOOKD_OK)
			return -1;
		break;
	}
	case SETTING_INT:
	case SETTING_SIZE:
		if (parse_int(v, (long)s->min, (long)s->max, &n) < 0)
			return -1;
		if (s->kind == SETTING_INT)
			*(int *)field = (int)n;
		else
			*(size_t *)field = (size_t)n;
		return 0;
	case SETTING_FRACTION: {
		double d = strtod(v, &end);
		if (end == v || *end != '\0' || !(d >= (double)s->min && d <= (double)s->max)) /* NaN fails too */
			return -1;
		*(double *)field = d;
		return 0;
	}
	case SETTING_DURATION:
		if (duration_parse(v, &ms) < 0 || ms < s->min || (s->max > 0 && ms > s->max))
			return -1;
		*(int64_t *)field = ms;
		return 0;
	case SETTING_SCHEDULE:
		return backoff_parse_schedule(field, v);
	case SETTING_LOG_LEVEL:
		n = log_level_parse(v);
		if (n < 0)
			return -1;
		*(int *)field = (int)n;
		return 0;
	case SETTING_LOG_FORMAT:
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return -1;
		*(bool *)field = strcmp(v, "json") == 0;
		return 0;
	}
	/* the string kinds, checked */
	free(*str);
	*str = xstrdup(v);
	if (s->kind == SETTING_BASE_URL) { /* "https://h/" + "/in/x" */
		size_t len = strlen(*str);
		while (len > 0 && (*str)[len - 1] == '/')
			(*str)[--len] = '\0';
	}
	return 0;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	backoff_default(&c->backoff); /* what no setting covers (the Retry-After cap) */
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		if (s->dflt != NULL && setting_parse(s, c, s->dflt) < 0)
			fatalx("config: the default of --%s does not parse: '%s'", s->name, s->dflt);
	}
}

void config_dispose(struct config *c)
{
	free(c->listen);
	free(c->data_dir);
	free(c->db_url);
	free(c->token);
	free(c->operational_url);
	free(c->public_url);
	free(c->secret_key);
	free(c->secret_key_previous);
	free(c->operational_secret);
	free(c->proxy);
	free(c->portal_frame_ancestors);
	free(c->config_file);
	netguard_dispose(&c->guard);
	memset(c, 0, sizeof *c);
}

int config_set(struct config *c, const char *name, const char *v, char *err, size_t errlen)
{
	const struct setting *s = setting_find(name);
	if (s == NULL) {
		snprintf(err, errlen, "unknown option --%s (see hookd --help)", name);
		return -1;
	}
	if (setting_parse(s, c, v) < 0) {
		snprintf(err, errlen, "invalid value for --%s: '%s'", name, v);
		return -1;
	}
	return 0;
}

#define CONFIG_LINE_MAX 4096

static char *trim_ws(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* The config file: "name = value" lines with the flags' names; '#' at a line's start (after blanks) is a
 * comment; a value may be wrapped in double quotes (to keep blanks at its ends). */
static int config_file_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(errno));
		return -1;
	}
	char line[CONFIG_LINE_MAX + 2];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strlen(line) > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno, CONFIG_LINE_MAX);
			rc = -1;
			break;
		}
		char *l = trim_ws(line), *eq = strchr(l, '=');
		if (*l == '\0' || *l == '#')
			continue;
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *name = trim_ws(l), *v = trim_ws(eq + 1);
		size_t vn = strlen(v);
		if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
			v[vn - 1] = '\0';
			v++;
		}
		if (strncmp(name, "--", 2) == 0)
			name += 2;
		char e[400];
		if (strcmp(name, "config") == 0) {
			snprintf(err, errlen, "%s:%d: a config file cannot name another", path, lineno);
			rc = -1;
		} else if (config_set(c, name, v, e, sizeof e) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
			rc = -1;
		}
	}
	explicit_bzero(line, sizeof line); /* it may have held a secret */
	fclose(f);
	return rc;
}

/* --config FILE or --config=FILE among the flags, else $HOOKD_CONFIG; NULL if none. */
static const char *config_file_arg(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	if (path == NULL)
		path = getenv("HOOKD_CONFIG");
	return path != NULL && *path != '\0' ? path : NULL;
}

int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	const char *file = config_file_arg(argc, argv); /* precedence: flag > environment > file > default */
	if (file != NULL && config_file_load(c, file, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		const char *v = getenv(s->env);
		if (v != NULL && *v != '\0' && config_set(c, s->name, v, err, errlen) < 0) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " (from %s)", s->env);
			return -1;
		}
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s' (see hookd --help)", a);
			return -1;
		}
		const char *eq = strchr(a, '=');
		char flag[64];
		const char *v;
		if (eq != NULL) {
			snprintf(flag, sizeof flag, "%.*s", (int)(eq - a - 2), a + 2);
			v = eq + 1;
		} else {
			snprintf(flag, sizeof flag, "%s", a + 2);
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option --%s needs a value", flag);
				return -1;
			}
			v = argv[++i];
		}
		if (config_set(c, flag, v, err, errlen) < 0)
			return -1;
	}
	if (c->db_url == NULL) {
		size_t n = strlen(c->data_dir) + 32;
		c->db_url = xmalloc(n);
		snprintf(c->db_url, n, "sqlite:%s/hookd.db", c->data_dir);
	}
	return 0;
}

int config_split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen)
		return -1;
	const char *h = listen;
	size_t hl = (size_t)(colon - listen);
	if (h[0] == '[') {
		if (hl < 3 || h[hl - 1] != ']')
			return -1;
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	long p;
	if (parse_int(colon + 1, 0, 65535, &p) < 0)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* ---- documentation ---- */

#define HELP_COLUMN 30 /* where the help text starts */
#define HELP_WIDTH 116 /* where it wraps */

/* Text without markdown's backticks; returns how many characters it put. */
static int put_plain(FILE *f, const char *s)
{
	int n = 0;
	for (; *s != '\0'; s++)
		if (*s != '`')
			fputc(*s, f), n++;
	return n;
}

void config_help(FILE *f)
{
	fputs("hookd serve [--check] [options]\n"
	      "  --check                     validate the settings (flags, environment, --config file) and exit 0, or 1\n"
	      "                              with a one-line error\n",
	      f);
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		char line[512], words[256];
		int n = snprintf(line, sizeof line, "  --%s %s", s->name, s->arg);
		snprintf(words, sizeof words, "%s (default%s %s)", s->help, s->dflt != NULL ? "" : ":",
			 s->dflt != NULL ? s->dflt : s->dflt_doc);
		fprintf(f, "%-*s", HELP_COLUMN - 1, line);
		int col = n < HELP_COLUMN - 1 ? HELP_COLUMN - 1 : n;
		/* word by word, wrapped under the help column */
		for (char *save, *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
			if (col + 1 + (int)strlen(w) > HELP_WIDTH && col > HELP_COLUMN) {
				fprintf(f, "\n%*s", HELP_COLUMN - 1, "");
				col = HELP_COLUMN - 1;
			}
			fputc(' ', f);
			col += 1 + put_plain(f, w);
		}
		fputc('\n', f);
	}
	fputs("Every option can also be set in the environment (--retry-schedule is HOOKD_RETRY_SCHEDULE) or in the\n"
	      "--config file (retry-schedule = 5s,1m); a flag beats the environment, which beats the file.\n"
	      "Durations: 500ms, 5s, 2m, 1h, 5d (a plain number is seconds).\n",
	      f);
}

void config_markdown(FILE *f)
{
	fputs("| flag | environment | default | meaning |\n|---|---|---|---|\n", f);
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		fprintf(f, "| `--%s %s` | `%s` | ", s->name, s->arg, s->env);
		if (s->dflt != NULL)
			fprintf(f, "`%s`", s->dflt);
		else
			fputs(s->dflt_doc, f);
		fprintf(f, " | %s |\n", s->doc != NULL ? s->doc : s->help);
	}
}

/* Text for roff: backslashes and hyphens escaped, markdown's backticks dropped. */
static void put_roff(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '`')
			continue;
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void config_man(FILE *f)
{
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		fputs(".TP\n.B \\-\\-", f);
		put_roff(f, s->name);
		fputs(" \\fI", f);
		put_roff(f, s->arg);
		fputs("\\fR\n", f);
		put_roff(f, s->doc != NULL ? s->doc : s->help);
		fputs(". Environment: \\fB", f);
		put_roff(f, s->env);
		fputs("\\fR; default: ", f);
		put_roff(f, s->dflt != NULL ? s->dflt : s->dflt_doc);
		fputs(".\n", f);
	}
}
