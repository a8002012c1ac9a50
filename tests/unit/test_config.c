/* test_config.c: the settings table: names, variables and help unique and consistent; defaults parse and match
 * what the modules expect; flags beat the environment; bad values give one line naming the flag; --help lists
 * every setting; the README's table is the generated one (run from the repo root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "config.h"
#include "log.h"
#include "tests.h"

#define DAY (INT64_C(86400) * 1000)


/* No HOOKD_* setting in the environment. */
static void env_clear(void)
{
	for (size_t i = 0; i < config_nsettings; i++)
		unsetenv(config_settings[i].env);
}

/* What f wrote, malloc'd. */
static char *capture(void (*fn)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	fn(f);
	fclose(f);
	return text;
}

START_TEST(test_table_unique)
{
	ck_assert_uint_gt(config_nsettings, 20);
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		char env[64] = "HOOKD_";
		size_t n = strlen(env);
		for (const char *p = s->name; *p != '\0'; p++)
			env[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		env[n] = '\0';
		ck_assert_str_eq(s->env, env);
		ck_assert_ptr_nonnull(s->arg);
		ck_assert_ptr_nonnull(s->help);
		ck_assert_uint_gt(strlen(s->help), 0);
		ck_assert_ptr_null(strchr(s->help, '\n'));
		ck_assert_msg(s->dflt != NULL || s->dflt_doc != NULL, "--%s says nothing of its default", s->name);
		for (size_t j = 0; j < i; j++) {
			ck_assert_str_ne(s->name, config_settings[j].name);
			ck_assert_str_ne(s->env, config_settings[j].env);
			ck_assert_str_ne(s->help, config_settings[j].help);
		}
	}
}
END_TEST

START_TEST(test_defaults_parse)
{
	struct config c;
	char err[256];
	config_init(&c);
	for (size_t i = 0; i < config_nsettings; i++) {
		const struct setting *s = &config_settings[i];
		if (s->dflt != NULL)
			ck_assert_msg(config_set(&c, s->name, s->dflt, err, sizeof err) == 0, "--%s %s: %s", s->name,
				      s->dflt, err);
	}
	config_dispose(&c);
}
END_TEST

/* The defaults as they were before the table, and as backoff.c has them. */
START_TEST(test_defaults_values)
{
	struct config c;
	struct backoff b;
	config_init(&c);
	backoff_default(&b);
	ck_assert_str_eq(c.listen, "127.0.0.1:8071");
	ck_assert_str_eq(c.data_dir, "./data");
	ck_assert_ptr_null(c.db_url);
	ck_assert_ptr_null(c.token);
	ck_assert_ptr_null(c.operational_url);
	ck_assert_ptr_null(c.operational_secret);
	ck_assert_ptr_null(c.public_url);
	ck_assert_int_eq(memcmp(&c.backoff, &b, sizeof b), 0);
	ck_assert_int_eq(c.request_timeout_ms, 30000);
	ck_assert_int_eq(c.drain_timeout_ms, 10000);
	ck_assert_uint_eq(c.max_body, 1024 * 1024);
	ck_assert_int_eq(c.max_inflight, 256);
	ck_assert_int_eq(c.endpoint_inflight, 32);
	ck_assert_int_eq(c.http_threads, 2);
	ck_assert_int_eq(c.disable_after_ms, 5 * DAY);
	ck_assert_int_eq(c.breaker_failures, 10);
	ck_assert_int_eq(c.breaker_cooldown_ms, 30000);
	ck_assert_int_eq(c.retention_ms, 90 * DAY);
	ck_assert_int_eq(c.chore_interval_ms, 60000);
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert_uint_eq(c.guard.nallow, 0); /* the SSRF guard blocks every internal range */
	ck_assert(!c.guard.require_https);
	ck_assert_ptr_null(c.proxy);
	ck_assert_int_eq(c.max_connections, 4096);
	ck_assert_int_eq(c.max_connections_per_ip, 256);
	ck_assert_int_eq(c.receive_timeout_ms, 10000);
	ck_assert(!c.metrics_public);
	ck_assert_str_eq(c.portal_frame_ancestors, "'none'");
	config_dispose(&c);
}
END_TEST

/* --portal-frame-ancestors goes into a CSP header: a list of sources, nothing that ends the directive or the line */
START_TEST(test_portal_frame_ancestors)
{
	struct config c;
	char err[256];
	env_clear();
	config_init(&c);
	ck_assert_int_eq(config_set(&c, "portal-frame-ancestors", "https://a.example.com 'self'", err, sizeof err), 0);
	ck_assert_str_eq(c.portal_frame_ancestors, "https://a.example.com 'self'");
	const char *bad[] = {"", "'self'; script-src *", "a,b", "a\r\nSet-Cookie: x", "caf\xc3\xa9", "a\tb"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(config_set(&c, "portal-frame-ancestors", bad[i], err, sizeof err), -1);
	char long_list[1100];
	memset(long_list, 'a', sizeof long_list - 1);
	long_list[sizeof long_list - 1] = '\0';
	ck_assert_int_eq(config_set(&c, "portal-frame-ancestors", long_list, err, sizeof err), -1); /* over 1 KiB */
	ck_assert_str_eq(c.portal_frame_ancestors, "https://a.example.com 'self'");
	config_dispose(&c);
}
END_TEST

START_TEST(test_http_settings)
{
	struct config c;
	char err[256];
	char *argv[] = {"--max-connections-per-ip", "0", "--receive-timeout=500ms", "--metrics-public", "yes"};
	env_clear();
	setenv("HOOKD_MAX_CONNECTIONS", "20000", 1);
	setenv("HOOKD_MAX_CONNECTIONS_PER_IP", "64", 1);
	setenv("HOOKD_METRICS_PUBLIC", "false", 1);
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 5, argv, err, sizeof err), 0);
	ck_assert_int_eq(c.max_connections, 20000);
	ck_assert_int_eq(c.max_connections_per_ip, 0); /* the flag wins: no cap */
	ck_assert_int_eq(c.receive_timeout_ms, 500);
	ck_assert(c.metrics_public);
	env_clear();
	config_dispose(&c);
}
END_TEST

START_TEST(test_guard_settings)
{
	struct config c;
	char err[256];
	char *argv[] = {"--allow-network", "127.0.0.0/8,::1", "--require-https=yes", "--proxy", "socks5h://10.0.0.3:1080"};
	env_clear();
	setenv("HOOKD_ALLOW_NETWORK", "10.0.0.0/8", 1);
	setenv("HOOKD_REQUIRE_HTTPS", "false", 1);
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 5, argv, err, sizeof err), 0);
	ck_assert_uint_eq(c.guard.nallow, 2); /* the flag's list replaces the environment's */
	ck_assert(c.guard.require_https);
	ck_assert_str_eq(c.proxy, "socks5h://10.0.0.3:1080");
	ck_assert(netguard_allows_loopback(&c.guard));
	ck_assert_int_eq(config_set(&c, "allow-network", "10.0.0.0/33", err, sizeof err), -1);
	ck_assert_str_eq(err, "invalid value for --allow-network: '10.0.0.0/33'");
	ck_assert_uint_eq(c.guard.nallow, 2);
	ck_assert_int_eq(config_set(&c, "require-https", "maybe", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&c, "proxy", "ftp://p", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&c, "require-https", "0", err, sizeof err), 0);
	ck_assert(!c.guard.require_https);
	unsetenv("HOOKD_ALLOW_NETWORK");
	unsetenv("HOOKD_REQUIRE_HTTPS");
	config_dispose(&c);
}
END_TEST

START_TEST(test_load)
{
	struct config c;
	char err[256];
	char *argv[] = {"--data", "/tmp/d", "--max-inflight=9", "--public-url", "https://h.example/x//",
			"--retry-schedule", "1s,2s", "--log-level", "debug"};
	env_clear();
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 9, argv, err, sizeof err), 0);
	ck_assert_str_eq(c.data_dir, "/tmp/d");
	ck_assert_str_eq(c.db_url, "sqlite:/tmp/d/hookd.db");
	ck_assert_int_eq(c.max_inflight, 9);
	ck_assert_str_eq(c.public_url, "https://h.example/x");
	ck_assert_int_eq(c.backoff.steps, 2);
	ck_assert_int_eq(c.backoff.delay_ms[1], 2000);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	config_dispose(&c);
}
END_TEST

START_TEST(test_flags_beat_env)
{
	struct config c;
	char err[256];
	char *argv[] = {"--max-inflight", "9"};
	env_clear();
	setenv("HOOKD_MAX_INFLIGHT", "7", 1);
	setenv("HOOKD_ENDPOINT_INFLIGHT", "5", 1);
	setenv("HOOKD_HTTP_THREADS", "", 1); /* empty: not set */
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 2, argv, err, sizeof err), 0);
	ck_assert_int_eq(c.max_inflight, 9);
	ck_assert_int_eq(c.endpoint_inflight, 5);
	ck_assert_int_eq(c.http_threads, 2);
	config_dispose(&c);
	env_clear();
}
END_TEST

static const struct {
	const char *name, *value;
} bad[] = {
	{"listen", "no-port"},         {"listen", "h:70000"},          {"token", "short"},
	{"retry-schedule", "5x"},      {"retry-jitter", "1.5"},         {"retry-jitter", "nan"},
	{"throttled-min-delay", "-1"}, {"request-timeout", "0"},        {"max-body", "1023"},
	{"max-inflight", "0"},         {"endpoint-inflight", "1e3"},    {"http-threads", "65"},
	{"disable-after", "0s"},       {"breaker-failures", ""},        {"breaker-cooldown", "0"},
	{"operational-url", "ftp://x"}, {"operational-secret", "short"}, {"public-url", "hooks.example.com"},
	{"retention", "1y"},           {"chore-interval", "5ms"},       {"chore-interval", "2h"},
	{"log-level", "loud"},          {"max-connections", "15"},       {"max-connections-per-ip", "-1"},
	{"receive-timeout", "50ms"},   {"receive-timeout", "2h"},       {"metrics-public", "maybe"},
};

START_TEST(test_bad_value)
{
	struct config c;
	char err[256], want[256];
	char *argv[2];
	env_clear();
	argv[1] = (char *)bad[_i].value;
	char flag[64];
	snprintf(flag, sizeof flag, "--%s", bad[_i].name);
	argv[0] = flag;
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 2, argv, err, sizeof err), -1);
	snprintf(want, sizeof want, "invalid value for --%s: '%s'", bad[_i].name, bad[_i].value);
	ck_assert_str_eq(err, want);
	config_dispose(&c);

	/* the same from the environment names the variable too */
	const struct setting *s = NULL;
	for (size_t i = 0; i < config_nsettings; i++)
		if (strcmp(config_settings[i].name, bad[_i].name) == 0)
			s = &config_settings[i];
	ck_assert_ptr_nonnull(s);
	if (bad[_i].value[0] == '\0') /* an empty variable is not set */
		return;
	setenv(s->env, bad[_i].value, 1);
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 0, NULL, err, sizeof err), -1);
	snprintf(want, sizeof want, "invalid value for --%s: '%s' (from %s)", bad[_i].name, bad[_i].value, s->env);
	ck_assert_str_eq(err, want);
	config_dispose(&c);
	env_clear();
}
END_TEST

START_TEST(test_bad_args)
{
	struct config c;
	char err[256];
	char *unknown[] = {"--no-such", "1"}, *novalue[] = {"--listen"}, *positional[] = {"extra"};
	env_clear();
	config_init(&c);
	ck_assert_int_eq(config_load(&c, 2, unknown, err, sizeof err), -1);
	ck_assert_str_eq(err, "unknown option --no-such (see hookd --help)");
	ck_assert_int_eq(config_load(&c, 1, novalue, err, sizeof err), -1);
	ck_assert_str_eq(err, "option --listen needs a value");
	ck_assert_int_eq(config_load(&c, 1, positional, err, sizeof err), -1);
	ck_assert_str_eq(err, "unexpected argument 'extra' (see hookd --help)");
	config_dispose(&c);
}
END_TEST

START_TEST(test_help_lists_all)
{
	char *help = capture(config_help);
	for (size_t i = 0; i < config_nsettings; i++) {
		char want[128];
		snprintf(want, sizeof want, "\n  --%s %s ", config_settings[i].name, config_settings[i].arg);
		ck_assert_msg(strstr(help, want) != NULL, "hookd serve --help lacks '%s'", want + 1);
	}
	ck_assert_ptr_null(strchr(help, '`'));
	for (const char *line = help; *line != '\0';) {
		const char *nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_le(nl - line, 116);
		line = nl + 1;
	}
	free(help);
}
END_TEST

/* README.md's table between the markers is what `make docs-settings` writes. */
START_TEST(test_readme_table)
{
	static const char begin[] = "<!-- settings:begin -->\n", end[] = "<!-- settings:end -->";
	FILE *f = fopen("README.md", "r");
	ck_assert_msg(f != NULL, "README.md: run the unit tests from the repository root");
	static char readme[1 << 20];
	size_t n = fread(readme, 1, sizeof readme - 1, f);
	fclose(f);
	readme[n] = '\0';
	char *b = strstr(readme, begin), *e = b != NULL ? strstr(b, end) : NULL;
	ck_assert_msg(b != NULL && e != NULL, "README.md has no settings markers");
	b += strlen(begin);
	*e = '\0';
	char *want = capture(config_markdown);
	ck_assert_msg(strcmp(b, want) == 0, "README.md's settings table is stale: run make docs-settings");
	free(want);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, test_table_unique);
	tcase_add_test(tc, test_defaults_parse);
	tcase_add_test(tc, test_defaults_values);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_guard_settings);
	tcase_add_test(tc, test_portal_frame_ancestors);
	tcase_add_test(tc, test_http_settings);
	tcase_add_test(tc, test_flags_beat_env);
	tcase_add_loop_test(tc, test_bad_value, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_help_lists_all);
	tcase_add_test(tc, test_readme_table);
	suite_add_tcase(s, tc);
	return s;
}
