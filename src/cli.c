/* cli.c: hookd sign, hookd verify and hookd secret: libhookd from a shell, for scripts, for checking a
 * provider's delivery by hand, and as the seam the e2e tests use to hold hookd against the providers' own
 * libraries. Flags come from one table; each names the subcommands that take it. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hookd.h"
#include "id.h"
#include "util.h"

#define CLI_HEADERS_MAX 32
#define SECRET_FILE_MAX 4096

enum { CMD_SIGN = 1, CMD_VERIFY = 2, CMD_SECRET = 4 };

struct cli {
	const char *cmd; /* "sign", ... for messages */
	const char *scheme;
	struct hookd_options opts;
	char *secrets[HOOKD_SECRETS_MAX]; /* owned copies, wiped at the end */
	size_t nsecrets;
	const char *id;
	const char *url, *content_type; /* schemes that sign the request URL (twilio) */
	int64_t timestamp, now, past, future;
	bool has_timestamp, has_now, has_past, has_future;
	struct hookd_header headers[CLI_HEADERS_MAX]; /* owned strings */
	size_t nheaders;
};

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hookd %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see hookd --help)\n", stderr);
	return 2;
}

/* Unix seconds or a count of seconds: digits only. */
static bool parse_seconds(const char *s, int64_t *v)
{
	int64_t n = 0;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (*s - '0');
	}
	*v = n;
	return true;
}

/* A window side: seconds, or "none" for no limit. */
static bool parse_limit(const char *s, int64_t *v)
{
	if (strcmp(s, "none") == 0) {
		*v = HOOKD_WINDOW_NONE;
		return true;
	}
	return parse_seconds(s, v);
}

static int add_secret(struct cli *c, const char *s)
{
	if (c->nsecrets == HOOKD_SECRETS_MAX)
		return cli_usage(c->cmd, "at most %d secrets", HOOKD_SECRETS_MAX);
	c->secrets[c->nsecrets++] = xstrdup(s);
	return 0;
}

/* The first line of a file, without its line ending: secrets kept out of argv (and so out of ps). */
static int add_secret_file(struct cli *c, const char *path)
{
	char line[SECRET_FILE_MAX + 2];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return cli_usage(c->cmd, "--secret-file %s: %s", path, strerror(errno));
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	if (n == 0 || n > SECRET_FILE_MAX)
		return cli_usage(c->cmd, "--secret-file %s: no secret on the first line", path);
	line[n] = '\0';
	int rc = add_secret(c, line);
	explicit_bzero(line, sizeof line);
	return rc;
}

static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* "Name: value", as curl -H takes it; spaces around either are dropped. */
static int add_header(struct cli *c, const char *line)
{
	const char *colon = strchr(line, ':');
	if (colon == NULL)
		return cli_usage(c->cmd, "--header '%s': expected 'Name: value'", line);
	if (c->nheaders == CLI_HEADERS_MAX)
		return cli_usage(c->cmd, "at most %d headers", CLI_HEADERS_MAX);
	size_t nlen = (size_t)(colon - line), vlen = strlen(colon + 1);
	const char *name = trim(line, &nlen), *value = trim(colon + 1, &vlen);
	if (nlen == 0)
		return cli_usage(c->cmd, "--header '%s': no name", line);
	c->headers[c->nheaders].name = xstrndup(name, nlen);
	c->headers[c->nheaders].value = xstrndup(value, vlen);
	c->nheaders++;
	return 0;
}

static int set_seconds(struct cli *c, const char *flag, const char *v, int64_t *dst, bool *has)
{
	if (!parse_seconds(v, dst))
		return cli_usage(c->cmd, "%s '%s': expected unix seconds", flag, v);
	*has = true;
	return 0;
}

static int set_limit(struct cli *c, const char *flag, const char *v, int64_t *dst, bool *has)
{
	if (!parse_limit(v, dst))
		return cli_usage(c->cmd, "%s '%s': expected seconds or 'none'", flag, v);
	*has = true;
	return 0;
}

static int set_flag(struct cli *c, const char *flag, const char *v)
{
	if (strcmp(flag, "--scheme") == 0)
		c->scheme = v;
	else if (strcmp(flag, "--secret") == 0)
		return add_secret(c, v);
	else if (strcmp(flag, "--secret-file") == 0)
		return add_secret_file(c, v);
	else if (strcmp(flag, "--header") == 0)
		return add_header(c, v);
	else if (strcmp(flag, "--id") == 0)
		c->id = v;
	else if (strcmp(flag, "--url") == 0)
		c->url = v;
	else if (strcmp(flag, "--content-type") == 0)
		c->content_type = v;
	else if (strcmp(flag, "--timestamp") == 0)
		return set_seconds(c, flag, v, &c->timestamp, &c->has_timestamp);
	else if (strcmp(flag, "--now") == 0)
		return set_seconds(c, flag, v, &c->now, &c->has_now);
	else if (strcmp(flag, "--tolerance") == 0)
		return set_limit(c, flag, v, &c->past, &c->has_past) != 0 ? 2
									   : set_limit(c, flag, v, &c->future, &c->has_future);
	else if (strcmp(flag, "--max-age") == 0)
		return set_limit(c, flag, v, &c->past, &c->has_past);
	else if (strcmp(flag, "--max-future") == 0)
		return set_limit(c, flag, v, &c->future, &c->has_future);
	else if (strcmp(flag, "--header-name") == 0)
		c->opts.header = v;
	else if (strcmp(flag, "--timestamp-header") == 0)
		c->opts.timestamp_header = v;
	else if (strcmp(flag, "--id-header") == 0)
		c->opts.id_header = v;
	else if (strcmp(flag, "--prefix") == 0)
		c->opts.prefix = v;
	else if (strcmp(flag, "--hash") == 0)
		c->opts.hash = v;
	else if (strcmp(flag, "--encoding") == 0)
		c->opts.encoding = v;
	return 0;
}

/* Which subcommands take which flag; every flag takes a value. */
static const struct {
	const char *name;
	unsigned cmds;
} flags[] = {
	{"--scheme", CMD_SIGN | CMD_VERIFY | CMD_SECRET},
	{"--secret", CMD_SIGN | CMD_VERIFY},
	{"--secret-file", CMD_SIGN | CMD_VERIFY},
	{"--header-name", CMD_SIGN | CMD_VERIFY},
	{"--timestamp-header", CMD_SIGN | CMD_VERIFY},
	{"--id-header", CMD_SIGN | CMD_VERIFY},
	{"--prefix", CMD_SIGN | CMD_VERIFY},
	{"--hash", CMD_SIGN | CMD_VERIFY},
	{"--encoding", CMD_SIGN | CMD_VERIFY},
	{"--id", CMD_SIGN},
	{"--timestamp", CMD_SIGN},
	{"--url", CMD_SIGN | CMD_VERIFY},
	{"--content-type", CMD_SIGN},
	{"--header", CMD_VERIFY},
	{"--tolerance", CMD_VERIFY},
	{"--max-age", CMD_VERIFY},
	{"--max-future", CMD_VERIFY},
	{"--now", CMD_VERIFY},
};

static bool flag_known(const char *name, size_t n, unsigned cmd)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0)
			return (flags[i].cmds & cmd) != 0;
	return false;
}

/* "--flag value" or "--flag=value". Returns 0, or the exit status of a usage error. */
static int parse_args(struct cli *c, unsigned cmd, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (strncmp(arg, "--", 2) != 0 || !flag_known(arg, n, cmd))
			return cli_usage(c->cmd, "unknown option '%.*s'", (int)n, arg);
		if (eq == NULL && i + 1 == argc)
			return cli_usage(c->cmd, "%s needs a value", arg);
		char flag[32];
		snprintf(flag, sizeof flag, "%.*s", (int)n, arg);
		int rc = set_flag(c, flag, eq != NULL ? eq + 1 : argv[++i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void cli_dispose(struct cli *c)
{
	for (size_t i = 0; i < c->nsecrets; i++) {
		explicit_bzero(c->secrets[i], strlen(c->secrets[i]));
		free(c->secrets[i]);
	}
	for (size_t i = 0; i < c->nheaders; i++) {
		free((char *)c->headers[i].name);
		free((char *)c->headers[i].value);
	}
}

static int add_secrets(struct cli *c, struct hookd_config *cfg)
{
	for (size_t i = 0; i < c->nsecrets; i++) {
		int rc = hookd_config_add_secret(cfg, c->secrets[i]);
		if (rc != HOOKD_OK)
			return cli_usage(c->cmd, "secret %zu is not a valid %s secret (%s)", i + 1, hookd_config_scheme(cfg),
					   hookd_strerror(rc));
	}
	return 0;
}

/* --tolerance, --max-age, --max-future: a side not given keeps the scheme's default. */
static int set_window(struct cli *c, struct hookd_config *cfg)
{
	int64_t past, future;
	if (!c->has_past && !c->has_future)
		return 0;
	if (hookd_config_window(cfg, &past, &future) != HOOKD_OK ||
	    hookd_config_set_window(cfg, c->has_past ? c->past : past, c->has_future ? c->future : future) != HOOKD_OK)
		return cli_usage(c->cmd, "scheme %s has no timestamp to check", hookd_config_scheme(cfg));
	return 0;
}

/* The config from --scheme, the naming flags and the secrets; every secret is checked here, by the library. */
static int make_config(struct cli *c, struct hookd_config **cfg)
{
	if (c->nsecrets == 0)
		return cli_usage(c->cmd, "--secret is required");
	int rc = hookd_config_new(c->scheme, NULL, cfg);
	hookd_config_free(*cfg);
	*cfg = NULL;
	if (rc != HOOKD_OK)
		return cli_usage(c->cmd, "unknown scheme '%s'", c->scheme);
	if (hookd_config_new(c->scheme, &c->opts, cfg) != HOOKD_OK)
		return cli_usage(c->cmd, "a naming option is malformed, repeats a header name, or does not apply to scheme %s",
				   c->scheme);
	rc = add_secrets(c, *cfg);
	return rc != 0 ? rc : set_window(c, *cfg);
}

/* The body: stdin as raw bytes, up to CLI_BODY_MAX. */
static int read_body(struct cli *c, struct buf *b)
{
	char chunk[65536];
	ssize_t n;
	buf_init(b, CLI_BODY_MAX);
	while ((n = read(STDIN_FILENO, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "hookd %s: reading the body from stdin: %s\n", c->cmd, strerror(errno));
			return 2;
		}
		if (buf_append(b, chunk, (size_t)n) < 0) {
			fprintf(stderr, "hookd %s: the body on stdin is larger than %u bytes\n", c->cmd, CLI_BODY_MAX);
			return 2;
		}
	}
	return 0;
}

/* The schemes whose signature covers the request URL: --url is required. */
static bool signs_url(const struct hookd_config *cfg) { return strcmp(hookd_config_scheme(cfg), "twilio") == 0; }

static int sign_run(struct cli *c, const struct hookd_config *cfg, const struct buf *b)
{
	struct hookd_header out[HOOKD_SIGN_HEADERS_MAX];
	char text[HOOKD_SIGN_BUF_MAX], id[ID_MAX];
	if (c->id == NULL) {
		id_new("msg_", id);
		c->id = id;
	}
	int n = hookd_sign_url(cfg, c->url, c->content_type, c->id, c->has_timestamp ? c->timestamp : (int64_t)time(NULL),
			       b->data, b->len, out, HOOKD_SIGN_HEADERS_MAX, text, sizeof text);
	if (n == HOOKD_ERR_INVALID && signs_url(cfg))
		return cli_usage(c->cmd, "cannot sign (scheme %s needs --url, at most %d bytes; a body that is not "
				      "--content-type application/x-www-form-urlencoded needs bodySHA256=<its hex "
				      "SHA-256> in the URL's query; a form needs well-formed %%XX escapes)",
				   hookd_config_scheme(cfg), HOOKD_URL_MAX);
	if (n == HOOKD_ERR_INVALID)
		return cli_usage(c->cmd, "cannot sign (--id must be 1-%d printable characters without spaces, and "
				      "ed25519 needs a whsk_ secret key)",
				   HOOKD_MSG_ID_MAX);
	if (n < 0) {
		fprintf(stderr, "hookd sign: %s\n", hookd_strerror(n));
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%s: %s\n", out[i].name, out[i].value);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int verify_run(struct cli *c, const struct hookd_config *cfg, const struct buf *b)
{
	int64_t now = c->has_now ? c->now : (int64_t)time(NULL);
	if (signs_url(cfg) && (c->url == NULL || c->url[0] == '\0'))
		return cli_usage(c->cmd, "scheme %s signs the request URL: --url is required", hookd_config_scheme(cfg));
	int rc = hookd_verify_url(cfg, c->url, c->headers, c->nheaders, b->data, b->len, now);
	if (rc != HOOKD_OK) {
		fprintf(stderr, "hookd verify: %s\n", hookd_strerror(rc));
		return rc == HOOKD_ERR_INVALID ? 2 : 1;
	}
	puts("ok");
	return 0;
}

/* sign and verify: parse, configure, read the body, run. */
static int body_command(const char *name, unsigned cmd, int argc, char **argv,
			int (*run)(struct cli *, const struct hookd_config *, const struct buf *))
{
	struct cli c = {.cmd = name, .scheme = "standard"};
	struct hookd_config *cfg = NULL;
	struct buf b = {0};
	int rc = parse_args(&c, cmd, argc, argv);
	if (rc == 0)
		rc = make_config(&c, &cfg);
	if (rc == 0)
		rc = read_body(&c, &b);
	if (rc == 0)
		rc = run(&c, cfg, &b);
	buf_dispose(&b);
	hookd_config_free(cfg);
	cli_dispose(&c);
	return rc;
}

int cli_sign(int argc, char **argv) { return body_command("sign", CMD_SIGN, argc, argv, sign_run); }

int cli_verify(int argc, char **argv) { return body_command("verify", CMD_VERIFY, argc, argv, verify_run); }

int cli_secret(int argc, char **argv)
{
	struct cli c = {.cmd = "secret", .scheme = "standard"};
	char secret[HOOKD_KEYTEXT_MAX], pub[HOOKD_KEYTEXT_MAX] = "";
	if (argc < 1 || strcmp(argv[0], "new") != 0)
		return cli_usage(c.cmd, "expected 'hookd secret new [--scheme S]'");
	int rc = parse_args(&c, CMD_SECRET, argc - 1, argv + 1);
	if (rc != 0)
		return rc;
	rc = hookd_secret_generate(c.scheme, secret, sizeof secret, pub, sizeof pub);
	if (rc != HOOKD_OK)
		return rc == HOOKD_ERR_INVALID ? cli_usage(c.cmd, "unknown scheme '%s'", c.scheme)
					       : (fprintf(stderr, "hookd secret: %s\n", hookd_strerror(rc)), 1);
	printf("%s\n", secret);
	if (pub[0] != '\0')
		printf("%s\n", pub);
	explicit_bzero(secret, sizeof secret);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* "2026-11-23T10:00:00Z" (RFC 3339), "2026-11-23" (that day's midnight, UTC), or an age before now: digits and
 * one unit of s, m, h, d or w ("90s", "1h", "2d"). */
int cli_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	char day[RFC3339_LEN];
	size_t n = strlen(s);
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		snprintf(day, sizeof day, "%sT00:00:00Z", s);
		return rfc3339_parse(day, ms);
	}
	if (n >= 2 && n < 12 && strchr("smhdw", s[n - 1]) != NULL) {
		static const int64_t unit[] = {1, 60, 3600, 86400, 604800};
		int64_t v = 0;
		for (size_t i = 0; i + 1 < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		v *= unit[strchr("smhdw", s[n - 1]) - "smhdw"];
		*ms = now_ms - v * 1000;
		return 0;
	}
	return rfc3339_parse(s, ms);
}

void cli_sig_words(FILE *f, const char *cmd)
{
	unsigned bit = strcmp(cmd, "sign") == 0 ? CMD_SIGN : strcmp(cmd, "verify") == 0 ? CMD_VERIFY : CMD_SECRET;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if ((flags[i].cmds & bit) != 0)
			fprintf(f, "%s ", flags[i].name);
	fputc('\n', f);
}
