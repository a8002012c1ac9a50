/* request.h: building one delivery's request: the headers, signed at send time with the endpoint's scheme
 * (the signature covers this attempt's timestamp), and the custom and forwarded headers. Dispatcher thread. */
#ifndef HOOKD_REQUEST_H
#define HOOKD_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "cache.h"
#include "gate.h"
#include "model.h"
#include <jansson.h>

/* A transfer's request headers as the curl_slist libcurl reads: lines in one buffer and nodes in one array, both
 * kept by the transfer and reused, so a delivery's headers cost no allocation once they have grown. */
struct hdrset {
	char *buf;                 /* "name: value\0" lines */
	size_t len, cap;
	size_t *off;               /* where each line starts in buf */
	struct curl_slist *nodes;
	size_t n, ncap;
	size_t own;                /* the first own lines are hookd's (content type, signature, ids): never redacted */
	size_t custom;             /* lines from custom on are the endpoint's and handlers' headers (after the
				    * forwarded ones): their values are kept sealed at rest */
};

/* What one delivery sends, beyond its message: the body (the payload, or a handler's result) and what the
 * handlers added. */
struct request_body {
	const char *body;         /* what is sent and signed */
	size_t len;
	json_t *headers;          /* a handler's extra headers (object), or NULL */
	const char *api_version;  /* webhook-api-version, or NULL */
};

/* The headers of one delivery of m to ep with body rb, built into h (reused: no allocation once it has grown),
 * as the list libcurl reads; the signature covers rb->body. es keeps the endpoint's signer between requests. */
struct curl_slist *request_headers(struct hdrset *h, struct ep_state *es, const struct ep_snap *ep,
				   const struct message *m, const struct request_body *rb);
void hdrset_dispose(struct hdrset *h);

/* Whether a custom header's value is a credential (Authorization, cookies, API keys): the API shows it by name
 * only, and an attempt's recorded request shows it as "[redacted]". */
bool request_header_sensitive(const char *name);

/* The headers of h as sent (a JSON object text, malloc'd), for the attempt's record: the custom headers whose
 * value is sensitive read "[redacted]"; hookd's own (the signature too: it proves, it does not unlock) are kept;
 * the header curl adds (user-agent) is named, the ones it is told to leave out (an empty value) are not. */
char *request_headers_json(const struct hdrset *h);
/* Whether that record holds a value stored only sealed (docs/security.md): a custom header's (the endpoint's, a
 * source destination's, a handler's) that the record shows, i.e. not empty and not redacted. Most endpoints have
 * none: their records (hookd's own headers, a forwarded message's, which the message keeps in the clear anyway)
 * are stored as they are, and only the others pay for the seal. */
bool request_headers_secret(const struct hdrset *h);

/* lines (n "name: value" strings, each ended by '\0', one after the other in len bytes) as a JSON object text,
 * malloc'd: one allocation whatever n; a name seen again joins its values with ", " (RFC 9110 5.3); bytes
 * outside printable ASCII are \u00XX escapes, so the text is valid JSON whatever the peer sent. The first keep
 * lines are never redacted; the others are when redact and their name is sensitive. n is at most
 * HEADERS_JSON_MAX (the rest are left out). */
#define HEADERS_JSON_MAX 128
char *headers_json(const char *lines, size_t len, size_t keep, bool redact);

#endif
