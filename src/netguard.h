/* netguard.h: the SSRF guard. Which addresses hookd may send webhooks to: not loopback, private networks,
 * link-local (the cloud metadata service), CGNAT, unique-local, multicast, unspecified or reserved ranges, nor
 * the IPv6 forms that embed such an IPv4 address (mapped, compatible, NAT64, 6to4), unless an allow list
 * (--allow-network) names them. Checked twice: on a URL's literal host when it is stored (a 422 that names the
 * address), and on every address a delivery actually connects to, after DNS (deliver.c's open-socket callback),
 * so a name that resolves, or later re-resolves, to a blocked address is refused too. docs/security.md. */
#ifndef HOOKD_NETGUARD_H
#define HOOKD_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* A range, IPv4 kept as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix + 96), so one compare serves both families. */
struct netguard_net {
	uint8_t addr[16];
	int prefix; /* 0..128 */
};

/* The guard's settings, part of struct config (--allow-network, --require-https); read-only once serving. */
struct netguard {
	struct netguard_net *allow; /* ranges allowed even if blocked */
	size_t nallow;
	bool require_https;         /* refuse http:// URLs */
};

#define NETGUARD_WHY_MAX 160 /* room for what a refusal says */

/* Parse "CIDR[,CIDR...]" (IPv4 or IPv6, spaces around commas allowed; a bare address is /32 or /128; host bits
 * past the prefix are cleared) and replace g's allow list with it. 0, or -1 with g unchanged. An empty text is
 * an empty list. */
int netguard_allow_parse(struct netguard *g, const char *list);
void netguard_dispose(struct netguard *g);

/* May hookd connect to sa (AF_INET or AF_INET6; any other family is refused)? 0 if so; else -1 and why gets
 * "blocked address 10.0.0.5 (private network; see --allow-network)". */
int netguard_check_sockaddr(const struct netguard *g, const struct sockaddr *sa, char *why, size_t whylen);

/* May url be stored as a delivery target? Checks what can be known without DNS: the scheme against
 * require_https, and a literal host: an IPv4 address in any form inet_aton takes (2130706433, 127.1,
 * 0177.0.0.1, 0x7f.1), an IPv6 one in brackets, and localhost or *.localhost (loopback). Any other name passes
 * here and is checked on connect. 0, or -1 with the reason in why. A URL curl cannot parse passes: validating
 * it is the caller's job. */
int netguard_check_url(const struct netguard *g, const char *url, char *why, size_t whylen);

/* Is url an http:// or https:// URL (scheme any case) with a non-empty host, as curl parses it? What any
 * delivery target must be before the checks above (an endpoint's URL, a transformation's webhook.url). */
bool netguard_url_is_http(const char *url);

/* The allow list as text ("127.0.0.0/8, ::1/128"), "" when empty. */
void netguard_allow_format(const struct netguard *g, char *out, size_t outlen);
/* Does the allow list open loopback (127.0.0.1)? For the start-up banner. */
bool netguard_allows_loopback(const struct netguard *g);

#endif
