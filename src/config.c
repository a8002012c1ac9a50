/* config.c: one table of settings, each settable by flag and by environment. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookd.h"
#include "log.h"
#include "util.h"

void config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = xstrdup("127.0.0.1:8071");
	c->data_dir = xstrdup("./data");
	backoff_default(&c->backoff);
	c->request_timeout_ms = 30000;
	c->drain_timeout_ms = 10000;
	c->max_body = 1024 * 1024;
	c->max_inflight = 256;
	c->endpoint_inflight = 32;
	c->http_threads = 2;
	c->disable_after_ms = 5LL * 86400 * 1000;
	c->breaker_failures = 10;
	c->breaker_cooldown_ms = 30000;
	c->retention_ms = 90LL * 86400 * 1000;
	c->chore_interval_ms = 60000;
	c->log_level = LOG_INFO;
}

void config_dispose(struct config *c)
{
	free(c->listen);
	free(c->data_dir);
	free(c->db_url);
	free(c->token);
	free(c->operational_url);
	free(c->public_url);
	free(c->operational_secret);
	memset(c, 0, sizeof *c);
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

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* Apply one setting by its name (the flag without "--"). */
static int config_set(struct config *c, const char *name, const char *v, char *err, size_t errlen)
{
	long n;
	int64_t ms;
	double d;
	char *end;
	if (strcmp(name, "listen") == 0) {
		char host[256];
		int port;
		if (config_split_listen(v, host, sizeof host, &port) < 0)
			goto bad;
		set_str(&c->listen, v);
	} else if (strcmp(name, "data") == 0) {
		set_str(&c->data_dir, v);
	} else if (strcmp(name, "db") == 0) {
		set_str(&c->db_url, v);
	} else if (strcmp(name, "token") == 0) {
		if (strlen(v) < 8)
			goto bad;
		set_str(&c->token, v);
	} else if (strcmp(name, "retry-schedule") == 0) {
		if (backoff_parse_schedule(&c->backoff, v) < 0)
			goto bad;
	} else if (strcmp(name, "retry-jitter") == 0) {
		d = strtod(v, &end);
		if (end == v || *end != '\0' || d < 0 || d > 1)
			goto bad;
		c->backoff.jitter = d;
	} else if (strcmp(name, "throttled-min-delay") == 0) {
		if (duration_parse(v, &ms) < 0)
			goto bad;
		c->backoff.throttled_min_ms = ms;
	} else if (strcmp(name, "request-timeout") == 0) {
		if (duration_parse(v, &ms) < 0 || ms < 1)
			goto bad;
		c->request_timeout_ms = ms;
	} else if (strcmp(name, "drain-timeout") == 0) {
		if (duration_parse(v, &ms) < 0)
			goto bad;
		c->drain_timeout_ms = ms;
	} else if (strcmp(name, "max-body") == 0) {
		if (parse_int(v, 1024, 1L << 30, &n) < 0)
			goto bad;
		c->max_body = (size_t)n;
	} else if (strcmp(name, "max-inflight") == 0) {
		if (parse_int(v, 1, 100000, &n) < 0)
			goto bad;
		c->max_inflight = (int)n;
	} else if (strcmp(name, "endpoint-inflight") == 0) {
		if (parse_int(v, 1, 100000, &n) < 0)
			goto bad;
		c->endpoint_inflight = (int)n;
	} else if (strcmp(name, "http-threads") == 0) {
		if (parse_int(v, 1, 64, &n) < 0)
			goto bad;
		c->http_threads = (int)n;
	} else if (strcmp(name, "disable-after") == 0) {
		if (duration_parse(v, &ms) < 0 || ms < 1)
			goto bad;
		c->disable_after_ms = ms;
	} else if (strcmp(name, "breaker-failures") == 0) {
		if (parse_int(v, 1, 1000000, &n) < 0)
			goto bad;
		c->breaker_failures = (int)n;
	} else if (strcmp(name, "breaker-cooldown") == 0) {
		if (duration_parse(v, &ms) < 0 || ms < 1)
			goto bad;
		c->breaker_cooldown_ms = ms;
	} else if (strcmp(name, "retention") == 0) {
		if (duration_parse(v, &ms) < 0 || ms < 1)
			goto bad;
		c->retention_ms = ms;
	} else if (strcmp(name, "chore-interval") == 0) {
		if (duration_parse(v, &ms) < 0 || ms < 10 || ms > 3600 * 1000)
			goto bad;
		c->chore_interval_ms = ms;
	} else if (strcmp(name, "public-url") == 0) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			goto bad;
		set_str(&c->public_url, v);
		size_t len = strlen(c->public_url);
		while (len > 0 && c->public_url[len - 1] == '/') /* "https://h/" + "/in/x" */
			c->public_url[--len] = '\0';
	} else if (strcmp(name, "operational-url") == 0) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			goto bad;
		set_str(&c->operational_url, v);
	} else if (strcmp(name, "operational-secret") == 0) {
		uint8_t key[HOOKD_KEY_MAX];
		size_t keylen;
		if (hookd_secret_decode(v, key, &keylen) != HOOKD_OK)
			goto bad;
		set_str(&c->operational_secret, v);
	} else if (strcmp(name, "log-level") == 0) {
		int lvl = log_level_parse(v);
		if (lvl < 0)
			goto bad;
		c->log_level = lvl;
	} else {
		snprintf(err, errlen, "unknown option --%s (see hookd --help)", name);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid value for --%s: '%s'", name, v);
	return -1;
}

static const char *const settings[] = {"listen", "data", "db", "token", "retry-schedule", "retry-jitter",
				       "throttled-min-delay", "request-timeout", "drain-timeout", "max-body",
				       "max-inflight", "endpoint-inflight", "http-threads", "disable-after",
				       "breaker-failures", "breaker-cooldown", "operational-url", "operational-secret", "public-url",
				       "retention", "chore-interval", "log-level"};

/* HOOKD_RETRY_SCHEDULE for "retry-schedule". */
static void env_name(const char *setting, char *out, size_t outlen)
{
	size_t i = (size_t)snprintf(out, outlen, "HOOKD_");
	for (const char *p = setting; *p && i + 1 < outlen; p++)
		out[i++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	out[i] = '\0';
}

int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	char name[64];
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		env_name(settings[i], name, sizeof name);
		const char *v = getenv(name);
		if (v != NULL && *v != '\0' && config_set(c, settings[i], v, err, errlen) < 0) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " (from %s)", name);
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
