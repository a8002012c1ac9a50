/* netguard.c: the SSRF guard: the blocked ranges with a reason each, the allow list, and the two checks (a
 * URL's literal host; a connected address). Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6, so a range
 * check is one prefix compare whatever the family, and ::ffff:127.0.0.1 is 127.0.0.1 by construction. */
#include "netguard.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "util.h"

/* A blocked range. embed: where an IPv4 address sits inside it (byte offset), 0 for none: such an address is
 * judged by that IPv4 address, since the network it reaches is the IPv4 one. First match wins. */
struct range_text {
	const char *cidr;
	const char *reason;
	int embed;
};

static const struct range_text blocked_text[] = {
	{"0.0.0.0/8", "unspecified", 0},
	{"10.0.0.0/8", "private network", 0},
	{"100.64.0.0/10", "shared address space (CGNAT)", 0},
	{"127.0.0.0/8", "loopback", 0},
	{"169.254.169.254/32", "cloud metadata service", 0},
	{"169.254.0.0/16", "link-local", 0},
	{"172.16.0.0/12", "private network", 0},
	{"192.0.0.0/24", "reserved (IETF protocol assignments)", 0},
	{"192.0.2.0/24", "reserved (documentation)", 0},
	{"192.88.99.0/24", "reserved (6to4 relay anycast)", 0},
	{"192.168.0.0/16", "private network", 0},
	{"198.18.0.0/15", "reserved (benchmarking)", 0},
	{"198.51.100.0/24", "reserved (documentation)", 0},
	{"203.0.113.0/24", "reserved (documentation)", 0},
	{"224.0.0.0/4", "multicast", 0},
	{"255.255.255.255/32", "broadcast", 0},
	{"240.0.0.0/4", "reserved", 0},
	{"::/128", "unspecified", 0},
	{"::1/128", "loopback", 0},
	{"::/96", "IPv4-compatible", 12},
	{"64:ff9b::/96", "NAT64", 12},
	{"64:ff9b:1::/48", "reserved (local-use NAT64)", 0},
	{"100::/64", "reserved (discard-only)", 0},
	{"2001:db8::/32", "reserved (documentation)", 0},
	{"2002::/16", "6to4", 2},
	{"3fff::/20", "reserved (documentation)", 0},
	{"fc00::/7", "unique-local", 0},
	{"fe80::/10", "link-local", 0},
	{"fec0::/10", "site-local (deprecated)", 0},
	{"ff00::/8", "multicast", 0},
};
#define NBLOCKED (sizeof blocked_text / sizeof blocked_text[0])

static struct netguard_net blocked[NBLOCKED];
static pthread_once_t blocked_once = PTHREAD_ONCE_INIT;

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void addr_from_v4(uint8_t a[16], const void *v4)
{
	memcpy(a, mapped_prefix, 12);
	memcpy(a + 12, v4, 4);
}

static bool addr_is_v4(const uint8_t a[16]) { return memcmp(a, mapped_prefix, 12) == 0; }

/* One "addr[/prefix]", strictly (inet_pton: dotted quads only); host bits cleared. */
static int net_parse(const char *s, size_t len, struct netguard_net *n)
{
	char text[INET6_ADDRSTRLEN + 8];
	if (len == 0 || len >= sizeof text)
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	char *slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	bool v6 = strchr(text, ':') != NULL;
	int max = v6 ? 128 : 32;
	if (v6) {
		if (inet_pton(AF_INET6, text, n->addr) != 1)
			return -1;
	} else {
		struct in_addr in;
		if (inet_pton(AF_INET, text, &in) != 1)
			return -1;
		addr_from_v4(n->addr, &in);
	}
	int prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p))
			return -1;
		prefix = atoi(p);
		if (prefix > max)
			return -1;
	}
	n->prefix = v6 ? prefix : prefix + 96;
	for (int bit = n->prefix; bit < 128; bit++)
		n->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	return 0;
}

static void blocked_init(void)
{
	for (size_t i = 0; i < NBLOCKED; i++)
		if (net_parse(blocked_text[i].cidr, strlen(blocked_text[i].cidr), &blocked[i]) < 0)
			fatalx("netguard: bad range in the table: %s", blocked_text[i].cidr);
}

static bool net_contains(const struct netguard_net *n, const uint8_t a[16])
{
	int full = n->prefix / 8, rest = n->prefix % 8;
	if (memcmp(n->addr, a, (size_t)full) != 0)
		return false;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return rest == 0 || (n->addr[full] & mask) == (a[full] & mask);
}

static bool allowed(const struct netguard *g, const uint8_t a[16])
{
	for (size_t i = 0; i < g->nallow; i++)
		if (net_contains(&g->allow[i], a))
			return true;
	return false;
}

static const struct range_text *lookup(const uint8_t a[16])
{
	pthread_once(&blocked_once, blocked_init);
	for (size_t i = 0; i < NBLOCKED; i++)
		if (net_contains(&blocked[i], a))
			return &blocked_text[i];
	return NULL;
}

/* The verdict on a: 0, or -1 with why naming `shown`. */
static int check_addr(const struct netguard *g, const uint8_t a[16], const char *shown, char *why, size_t whylen)
{
	if (allowed(g, a))
		return 0;
	const struct range_text *r = lookup(a);
	if (r == NULL)
		return 0;
	if (r->embed == 0) {
		snprintf(why, whylen, "blocked address %s (%s; see --allow-network)", shown, r->reason);
		return -1;
	}
	uint8_t v4[16];
	addr_from_v4(v4, a + r->embed);
	const struct range_text *inner = allowed(g, v4) ? NULL : lookup(v4);
	if (inner == NULL)
		return 0;
	snprintf(why, whylen, "blocked address %s (%s, in an address of the %s range; see --allow-network)", shown,
		 inner->reason, r->reason);
	return -1;
}

static void addr_format(const uint8_t a[16], char *out, size_t outlen)
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
}

int netguard_allow_parse(struct netguard *g, const char *list)
{
	struct netguard_net *nets = NULL;
	size_t n = 0;
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		nets = xrealloc(nets, (n + 1) * sizeof *nets);
		if (net_parse(p, trimmed, &nets[n]) < 0) {
			free(nets);
			return -1;
		}
		n++;
		p += len;
		if (*p == ',' && *++p == '\0') { /* "a," */
			free(nets);
			return -1;
		}
	}
	free(g->allow);
	g->allow = nets;
	g->nallow = n;
	return 0;
}

void netguard_dispose(struct netguard *g)
{
	free(g->allow);
	g->allow = NULL;
	g->nallow = 0;
}

int netguard_check_sockaddr(const struct netguard *g, const struct sockaddr *sa, char *why, size_t whylen)
{
	uint8_t a[16];
	char shown[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		addr_from_v4(a, &in->sin_addr);
		inet_ntop(AF_INET, &in->sin_addr, shown, sizeof shown);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a, &in6->sin6_addr, 16);
		inet_ntop(AF_INET6, &in6->sin6_addr, shown, sizeof shown);
	} else {
		snprintf(why, whylen, "blocked address of family %d (not IP)", sa->sa_family);
		return -1;
	}
	return check_addr(g, a, shown, why, whylen);
}

static bool is_localhost(const char *h)
{
	size_t n = strlen(h);
	return strcmp(h, "localhost") == 0 || (n > 10 && strcmp(h + n - 10, ".localhost") == 0);
}

/* The verdict on a URL's host as curl parsed it (lowercased here; IPv6 in brackets). */
static int check_host(const struct netguard *g, char *host, char *why, size_t whylen)
{
	for (char *p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(host);
	if (n > 1 && host[n - 1] == '.') /* "localhost." and "127.0.0.1." are the same hosts */
		host[--n] = '\0';
	uint8_t a[16];
	char norm[INET6_ADDRSTRLEN], shown[2 * INET6_ADDRSTRLEN + 8];
	if (host[0] == '[') {
		host[strcspn(host, "]%")] = '\0';
		if (inet_pton(AF_INET6, host + 1, a) != 1)
			return 0; /* not an address curl could connect to: the URL's validation says so */
		return check_addr(g, a, host + 1, why, whylen);
	}
	if (is_localhost(host)) {
		uint8_t lo[16];
		addr_from_v4(lo, (const uint8_t[4]){127, 0, 0, 1});
		if (allowed(g, lo))
			return 0;
		snprintf(why, whylen, "blocked address %s (loopback; see --allow-network)", host);
		return -1;
	}
	struct in_addr in;
	if (inet_aton(host, &in) == 0) /* the resolver's own reading of a numeric host */
		return 0;
	addr_from_v4(a, &in);
	addr_format(a, norm, sizeof norm);
	if (strcmp(norm, host) == 0)
		snprintf(shown, sizeof shown, "%s", norm);
	else
		snprintf(shown, sizeof shown, "%s = %s", host, norm);
	return check_addr(g, a, shown, why, whylen);
}

int netguard_check_url(const struct netguard *g, const char *url, char *why, size_t whylen)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = 0;
	if (h != NULL && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (g->require_https && strcmp(scheme, "http") == 0) {
			snprintf(why, whylen, "http:// URL refused: only https:// (see --require-https)");
			rc = -1;
		} else {
			rc = check_host(g, host, why, whylen);
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	return rc;
}

bool netguard_url_is_http(const char *url)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = h != NULL && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		  (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0] != '\0';
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	return ok;
}

void netguard_allow_format(const struct netguard *g, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < g->nallow && used < outlen; i++) {
		const struct netguard_net *n = &g->allow[i];
		char a[INET6_ADDRSTRLEN];
		addr_format(n->addr, a, sizeof a);
		int w = snprintf(out + used, outlen - used, "%s%s/%d", i > 0 ? ", " : "", a,
				 addr_is_v4(n->addr) && n->prefix >= 96 ? n->prefix - 96 : n->prefix);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

bool netguard_allows_loopback(const struct netguard *g)
{
	uint8_t lo[16];
	addr_from_v4(lo, (const uint8_t[4]){127, 0, 0, 1});
	return allowed(g, lo);
}
