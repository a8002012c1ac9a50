/* test_netguard.c: the SSRF guard: every blocked range, an address just outside each, the IPv6 forms that embed
 * an IPv4 address, the other spellings of an IPv4 literal, localhost, the allow list, --require-https. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "netguard.h"
#include "tests.h"

/* The verdict on a textual address through the socket check (the path of every connection); why unless NULL. */
static int check_addr(const struct netguard *g, const char *text, char *why)
{
	char scratch[NETGUARD_WHY_MAX];
	struct sockaddr_storage ss = {0};
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		ck_assert_msg(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1, "bad test address %s", text);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		ck_assert_msg(inet_pton(AF_INET, text, &in->sin_addr) == 1, "bad test address %s", text);
	}
	return netguard_check_sockaddr(g, (struct sockaddr *)&ss, why != NULL ? why : scratch, NETGUARD_WHY_MAX);
}

static void assert_blocked(const struct netguard *g, const char *addr, const char *reason)
{
	char why[NETGUARD_WHY_MAX] = "", shown[INET6_ADDRSTRLEN];
	uint8_t bytes[16];
	int af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(af, addr, bytes);
	inet_ntop(af, bytes, shown, sizeof shown); /* as the message spells it: 64:ff9b::7f00:1 */
	ck_assert_msg(check_addr(g, addr, why) == -1, "%s should be blocked", addr);
	ck_assert_msg(strstr(why, shown) != NULL && strstr(why, reason) != NULL && strstr(why, "--allow-network"),
		      "%s: '%s' should name the address, '%s' and the flag", addr, why, reason);
}

static void assert_allowed(const struct netguard *g, const char *addr)
{
	char why[NETGUARD_WHY_MAX] = "";
	ck_assert_msg(check_addr(g, addr, why) == 0, "%s should be allowed: %s", addr, why);
}

/* Each blocked range: its first and last address, and one just outside each end (when that is public). */
START_TEST(test_ranges)
{
	struct netguard g = {0};
	static const struct {
		const char *in, *reason;
	} in[] = {
		{"127.0.0.1", "loopback"},
		{"127.255.255.255", "loopback"},
		{"10.0.0.0", "private network"},
		{"10.255.255.255", "private network"},
		{"172.16.0.0", "private network"},
		{"172.31.255.255", "private network"},
		{"192.168.0.1", "private network"},
		{"192.168.255.255", "private network"},
		{"169.254.0.1", "link-local"},
		{"169.254.255.255", "link-local"},
		{"169.254.169.254", "cloud metadata"},
		{"100.64.0.0", "CGNAT"},
		{"100.127.255.255", "CGNAT"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.255", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"0.255.255.255", "unspecified"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.254", "reserved"},
		{"255.255.255.255", "broadcast"},
		{"192.0.0.8", "reserved"},
		{"192.0.2.1", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.200", "documentation"},
		{"::1", "loopback"},
		{"::", "unspecified"},
		{"fe80::1", "link-local"},
		{"febf:ffff::1", "link-local"},
		{"fc00::1", "unique-local"},
		{"fd00::1", "unique-local"},
		{"fdff:ffff::1", "unique-local"},
		{"ff02::1", "multicast"},
		{"ff0e::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"2001:db8:ffff::1", "documentation"},
		{"fec0::1", "site-local"},
		{"64:ff9b:1::1", "reserved"},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		assert_blocked(&g, in[i].in, in[i].reason);
	static const char *const out[] = {
		"126.255.255.255", "128.0.0.0",     "9.255.255.255",  "11.0.0.0",      "172.15.255.255",
		"172.32.0.1",      "192.167.255.255", "192.169.0.0",  "169.253.255.255", "169.255.0.0",
		"100.63.255.255",  "100.128.0.1",   "223.255.255.255", "1.0.0.0",       "192.0.1.255",
		"192.0.3.0",       "198.17.255.255", "198.20.0.0",    "198.51.99.255", "198.51.101.0",
		"203.0.112.255",   "203.0.114.0",   "8.8.8.8",        "93.184.216.34", "fbff:ffff::1",
		"fe00::1",         "fe7f:ffff::1",
		"2001:db9::1",     "2001:db7:ffff::1", "2606:4700::1111", "::2:0:0:1", "fe::1",
	};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
		assert_allowed(&g, out[i]);
	netguard_dispose(&g);
}
END_TEST

/* IPv6 forms that carry an IPv4 address are judged by it: mapped, compatible, NAT64, 6to4. */
START_TEST(test_embedded)
{
	struct netguard g = {0};
	assert_blocked(&g, "::ffff:127.0.0.1", "loopback");
	assert_blocked(&g, "::ffff:10.1.2.3", "private network");
	assert_blocked(&g, "::ffff:169.254.169.254", "cloud metadata");
	assert_allowed(&g, "::ffff:8.8.8.8");
	assert_blocked(&g, "::127.0.0.1", "loopback");
	assert_blocked(&g, "::10.0.0.1", "IPv4-compatible");
	assert_allowed(&g, "::8.8.8.8");
	assert_blocked(&g, "64:ff9b::127.0.0.1", "NAT64");
	assert_blocked(&g, "64:ff9b::192.168.1.1", "private network");
	assert_allowed(&g, "64:ff9b::8.8.4.4");
	assert_blocked(&g, "2002:7f00:1::1", "6to4");
	assert_blocked(&g, "2002:a9fe:a9fe::", "cloud metadata");
	assert_allowed(&g, "2002:808:808::1");
	/* allowing the IPv4 range allows its IPv6 forms too */
	ck_assert_int_eq(netguard_allow_parse(&g, "127.0.0.0/8"), 0);
	assert_allowed(&g, "::ffff:127.0.0.1");
	assert_allowed(&g, "64:ff9b::127.0.0.2");
	assert_allowed(&g, "2002:7f00:1::1");
	assert_blocked(&g, "::1", "loopback"); /* IPv6 loopback is its own range */
	netguard_dispose(&g);
}
END_TEST

static void assert_url(const struct netguard *g, const char *url, int rc, const char *says)
{
	char why[NETGUARD_WHY_MAX] = "";
	ck_assert_msg(netguard_check_url(g, url, why, sizeof why) == rc, "%s: expected %d (%s)", url, rc, why);
	if (says != NULL)
		ck_assert_msg(strstr(why, says) != NULL, "%s: '%s' should say '%s'", url, why, says);
}

/* Literal hosts in URLs, in every spelling the resolver takes. */
START_TEST(test_urls)
{
	struct netguard g = {0};
	assert_url(&g, "http://127.0.0.1:8071/api/v1/app", -1, "blocked address 127.0.0.1 (loopback");
	assert_url(&g, "http://2130706433/", -1, "127.0.0.1");
	assert_url(&g, "http://127.1/", -1, "127.0.0.1");
	assert_url(&g, "http://0177.0.0.1/", -1, "127.0.0.1");
	assert_url(&g, "http://0x7f.1/", -1, "127.0.0.1");
	assert_url(&g, "http://0x7f000001/", -1, "loopback");
	assert_url(&g, "http://017700000001/", -1, "loopback");
	assert_url(&g, "http://0.0.0.0/", -1, "unspecified");
	assert_url(&g, "http://0/", -1, "unspecified");
	assert_url(&g, "http://10.1.2.3/", -1, "private network");
	assert_url(&g, "http://169.254.169.254/latest/meta-data", -1, "cloud metadata");
	assert_url(&g, "https://[::1]:8443/", -1, "loopback");
	assert_url(&g, "http://[::ffff:127.0.0.1]/", -1, "loopback");
	assert_url(&g, "http://[::ffff:7f00:1]/", -1, "loopback");
	assert_url(&g, "http://[fd00::1]/", -1, "unique-local");
	assert_url(&g, "http://[fe80::1%25eth0]/", -1, "link-local");
	assert_url(&g, "http://localhost/", -1, "blocked address localhost (loopback");
	assert_url(&g, "http://LocalHost.:9000/", -1, "loopback");
	assert_url(&g, "http://api.localhost/", -1, "loopback");
	assert_url(&g, "http://127.0.0.1./", -1, "loopback");
	assert_url(&g, "https://user:pw@10.0.0.5:99/x?y#z", -1, "10.0.0.5");
	/* public literals and names pass (names are checked on connect) */
	assert_url(&g, "https://8.8.8.8/", 0, NULL);
	assert_url(&g, "https://[2606:4700::1111]/", 0, NULL);
	assert_url(&g, "https://hooks.example.com/in", 0, NULL);
	assert_url(&g, "http://localhost.example.com/", 0, NULL);
	assert_url(&g, "http://mylocalhost/", 0, NULL);
	assert_url(&g, "http://172.32.0.1/", 0, NULL);
	assert_url(&g, "http://100.128.0.1/", 0, NULL);
	/* allowed */
	ck_assert_int_eq(netguard_allow_parse(&g, "127.0.0.0/8, fd00::/8"), 0);
	assert_url(&g, "http://127.0.0.1:9/", 0, NULL);
	assert_url(&g, "http://2130706433/", 0, NULL);
	assert_url(&g, "http://localhost/", 0, NULL);
	assert_url(&g, "http://[fd00::1]/", 0, NULL);
	assert_url(&g, "http://[::1]/", -1, "loopback");
	assert_url(&g, "http://10.0.0.1/", -1, "private network");
	netguard_dispose(&g);
}
END_TEST

START_TEST(test_require_https)
{
	struct netguard g = {.require_https = true};
	assert_url(&g, "http://hooks.example.com/", -1, "--require-https");
	assert_url(&g, "HTTP://hooks.example.com/", -1, "--require-https");
	assert_url(&g, "https://hooks.example.com/", 0, NULL);
	assert_url(&g, "https://127.0.0.1/", -1, "loopback");
	netguard_dispose(&g);
}
END_TEST

/* What any delivery target must be: http(s) with a host; no DNS, no range check. */
START_TEST(test_url_is_http)
{
	ck_assert(netguard_url_is_http("http://hooks.example.com/in"));
	ck_assert(netguard_url_is_http("https://user:pw@hooks.example.com:8443/x?y#z"));
	ck_assert(netguard_url_is_http("HTTPS://Hooks.Example.com/"));
	ck_assert(netguard_url_is_http("http://127.0.0.1:9/")); /* the range check is netguard_check_url's */
	ck_assert(netguard_url_is_http("https://[::1]/"));
	ck_assert(!netguard_url_is_http("ftp://hooks.example.com/"));
	ck_assert(!netguard_url_is_http("file:///etc/passwd"));
	ck_assert(!netguard_url_is_http("poll:sink"));
	ck_assert(!netguard_url_is_http("hooks.example.com/in")); /* no scheme */
	ck_assert(!netguard_url_is_http("http://"));
	ck_assert(!netguard_url_is_http(""));
	ck_assert(!netguard_url_is_http("not a url"));
}
END_TEST

START_TEST(test_allow_list)
{
	struct netguard g = {0};
	char text[256];
	ck_assert_int_eq(netguard_allow_parse(&g, "10.1.2.3"), 0);
	assert_allowed(&g, "10.1.2.3");
	assert_blocked(&g, "10.1.2.4", "private network");
	ck_assert_int_eq(netguard_allow_parse(&g, "172.16.0.0/12,::1, fe80::/10 ,192.168.1.7/24"), 0);
	ck_assert_uint_eq(g.nallow, 4);
	assert_allowed(&g, "172.31.0.1");
	assert_allowed(&g, "::1");
	assert_allowed(&g, "fe80::abcd");
	assert_allowed(&g, "192.168.1.200"); /* host bits cleared: 192.168.1.0/24 */
	assert_blocked(&g, "192.168.2.1", "private network");
	assert_blocked(&g, "10.1.2.3", "private network"); /* replaced, not added */
	ck_assert(!netguard_allows_loopback(&g));
	netguard_allow_format(&g, text, sizeof text);
	ck_assert_str_eq(text, "172.16.0.0/12, ::1/128, fe80::/10, 192.168.1.0/24");
	/* bad lists leave the list as it was */
	static const char *const bad[] = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "127.1", "2130706433",
					  "localhost", "10.0.0.1,", ",10.0.0.1", "10.0.0.1,,10.0.0.2", "1.2.3.4/-1",
					  "1.2.3.4/8/8", "fe80::1%eth0", " "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(netguard_allow_parse(&g, bad[i]) == -1, "'%s' should not parse", bad[i]);
	ck_assert_uint_eq(g.nallow, 4);
	ck_assert_int_eq(netguard_allow_parse(&g, "127.0.0.0/8"), 0);
	ck_assert(netguard_allows_loopback(&g));
	netguard_allow_format(&g, text, sizeof text);
	ck_assert_str_eq(text, "127.0.0.0/8");
	ck_assert_int_eq(netguard_allow_parse(&g, ""), 0);
	ck_assert_uint_eq(g.nallow, 0);
	netguard_allow_format(&g, text, sizeof text);
	ck_assert_str_eq(text, "");
	/* everything: 0.0.0.0/0 opens IPv4 only, ::/0 both (IPv4 is ::ffff:0:0/96 inside it) */
	ck_assert_int_eq(netguard_allow_parse(&g, "0.0.0.0/0"), 0);
	assert_allowed(&g, "127.0.0.1");
	assert_allowed(&g, "::ffff:10.0.0.1");
	assert_blocked(&g, "::1", "loopback");
	netguard_dispose(&g);
}
END_TEST

START_TEST(test_non_ip)
{
	struct netguard g = {0};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	char why[NETGUARD_WHY_MAX];
	ck_assert_int_eq(netguard_check_sockaddr(&g, &sa, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not IP"));
}
END_TEST

Suite *netguard_suite(void)
{
	Suite *s = suite_create("netguard");
	TCase *tc = tcase_create("netguard");
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_embedded);
	tcase_add_test(tc, test_urls);
	tcase_add_test(tc, test_require_https);
	tcase_add_test(tc, test_url_is_http);
	tcase_add_test(tc, test_allow_list);
	tcase_add_test(tc, test_non_ip);
	suite_add_tcase(s, tc);
	return s;
}
