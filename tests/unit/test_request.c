/* test_request.c: a delivery's headers (request.c) when handlers ran: signed over the body sent, the handler's
 * extra headers winning over the endpoint's own but never over hookd's, webhook-api-version. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hookd.h"
#include "request.h"
#include "signer.h"
#include "tests.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static int count(struct curl_slist *l, const char *line)
{
	int n = 0;
	for (; l != NULL; l = l->next)
		n += strcasecmp(l->data, line) == 0;
	return n;
}

START_TEST(test_handler_headers_and_signature)
{
	struct ep_state es;
	memset(&es, 0, sizeof es);
	struct ep_snap snap;
	memset(&snap, 0, sizeof snap);
	snap.gen = 1;
	struct endpoint *e = &snap.ep;
	strcpy(e->id, "ep_test");
	e->secret = SECRET;
	e->headers = json_pack("{s:s,s:s}", "X-Tier", "silver", "X-Other", "kept");
	struct message m;
	memset(&m, 0, sizeof m);
	strcpy(m.id, "msg_test");
	m.payload = "{\"a\":1}";
	m.payload_len = strlen(m.payload);
	const char *body = "{\"a\":1,\"added\":true}";
	json_t *xh = json_pack("{s:s,s:s,s:s}", "X-Tier", "gold", "webhook-id", "evil", "Content-Type", "text/evil");
	struct request_body rb = {.body = body, .len = strlen(body), .headers = xh, .api_version = "2024-01-01"};
	struct hdrset h = {0};
	struct curl_slist *l = request_headers(&h, &es, &snap, &m, &rb);
	ck_assert_int_eq(count(l, "webhook-api-version: 2024-01-01"), 1);
	ck_assert_int_eq(count(l, "X-Tier: gold"), 1);
	ck_assert_int_eq(count(l, "X-Tier: silver"), 0);
	ck_assert_int_eq(count(l, "X-Other: kept"), 1);
	ck_assert_int_eq(count(l, "webhook-id: msg_test"), 1);
	ck_assert_int_eq(count(l, "webhook-id: evil"), 0);
	ck_assert_int_eq(count(l, "Content-Type: text/evil"), 0);
	/* the signature verifies over the body sent, not over the payload */
	struct hookd_header hv[32];
	char copy[32][256];
	size_t n = 0;
	for (struct curl_slist *p = l; p != NULL && n < 32; p = p->next) {
		snprintf(copy[n], sizeof copy[n], "%s", p->data);
		char *colon = strchr(copy[n], ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		hv[n].name = copy[n];
		hv[n].value = colon + 2;
		n++;
	}
	struct hookd_config *cfg = NULL;
	int64_t until;
	ck_assert_int_eq(signer_build(e, now_ms(), &cfg, &until), HOOKD_OK);
	ck_assert_int_eq(hookd_verify(cfg, hv, n, body, strlen(body), now_ms() / 1000), HOOKD_OK);
	ck_assert_int_eq(hookd_verify(cfg, hv, n, m.payload, m.payload_len, now_ms() / 1000), HOOKD_ERR_MISMATCH);
	/* no handlers: no version header, the payload signed */
	struct request_body plain = {.body = m.payload, .len = m.payload_len};
	l = request_headers(&h, &es, &snap, &m, &plain);
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		ck_assert_msg(strncasecmp(p->data, "webhook-api-version", 19) != 0, "%s", p->data);
	hookd_config_free(cfg);
	hookd_config_free(es.signer);
	hdrset_dispose(&h);
	json_decref(xh);
	json_decref(e->headers);
}
END_TEST

/* The record of the headers as sent: hookd's own kept (the signature too), a sensitive custom value redacted,
 * curl's user-agent named, the left-out Expect not; an answer's headers: duplicates joined, odd bytes escaped. */
START_TEST(test_headers_json)
{
	struct ep_state es;
	memset(&es, 0, sizeof es);
	struct ep_snap snap;
	memset(&snap, 0, sizeof snap);
	snap.gen = 1;
	struct endpoint *e = &snap.ep;
	strcpy(e->id, "ep_test");
	e->secret = SECRET;
	e->headers = json_pack("{s:s,s:s}", "Authorization", "Bearer s3cret", "X-Tier", "gold");
	struct message m;
	memset(&m, 0, sizeof m);
	strcpy(m.id, "msg_test");
	m.payload = "{}";
	m.payload_len = 2;
	struct request_body rb = {.body = m.payload, .len = 2};
	struct hdrset h = {0};
	request_headers(&h, &es, &snap, &m, &rb);
	char *j = request_headers_json(&h);
	json_error_t err;
	json_t *o = json_loads(j, 0, &err);
	ck_assert_msg(json_is_object(o), "%s: %s", j, err.text);
	ck_assert_str_eq(json_string_value(json_object_get(o, "Authorization")), "[redacted]");
	ck_assert_str_eq(json_string_value(json_object_get(o, "X-Tier")), "gold");
	ck_assert_str_eq(json_string_value(json_object_get(o, "webhook-id")), "msg_test");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "webhook-signature")), "v1,"));
	ck_assert_str_eq(json_string_value(json_object_get(o, "user-agent")), "hookd/" HOOKD_VERSION);
	ck_assert_ptr_null(json_object_get(o, "Expect"));
	ck_assert_ptr_null(strstr(j, "s3cret"));
	json_decref(o);
	free(j);

	static const char lines[] = "Set-Cookie: a=1\0X-Odd: caf\xc3\xa9 \"q\"\r\n\0set-cookie: b=2\0no colon\0";
	j = headers_json(lines, sizeof lines - 1, 0, false);
	o = json_loads(j, 0, &err);
	ck_assert_msg(json_is_object(o), "%s: %s", j, err.text);
	ck_assert_int_eq(json_object_size(o), 2);
	ck_assert_str_eq(json_string_value(json_object_get(o, "Set-Cookie")), "a=1, b=2");
	ck_assert_str_eq(json_string_value(json_object_get(o, "X-Odd")), "caf\xc3\x83\xc2\xa9 \"q\"");
	json_decref(o);
	free(j);
	j = headers_json("", 0, 0, false);
	ck_assert_str_eq(j, "{}");
	free(j);
	hookd_config_free(es.signer);
	hdrset_dispose(&h);
	json_decref(e->headers);
}
END_TEST

/* Whether the record holds a custom header's value (then it is sealed at rest): hookd's own, a forwarded message's
 * and redacted or dropped custom headers do not count; a shown endpoint or handler header value does. */
static bool secret_with(const char *ep_headers, const char *extra, const char *handler_headers)
{
	struct ep_state es;
	memset(&es, 0, sizeof es);
	struct ep_snap snap;
	memset(&snap, 0, sizeof snap);
	snap.gen = 1;
	strcpy(snap.ep.id, "ep_test");
	snap.ep.secret = SECRET;
	snap.ep.headers = ep_headers != NULL ? json_loads(ep_headers, 0, NULL) : NULL;
	struct message m;
	memset(&m, 0, sizeof m);
	strcpy(m.id, "msg_test");
	m.payload = "{}";
	m.payload_len = 2;
	m.extra_headers = (char *)extra;
	json_t *hh = handler_headers != NULL ? json_loads(handler_headers, 0, NULL) : NULL;
	struct request_body rb = {.body = m.payload, .len = 2, .headers = hh, .api_version = "v1"};
	struct hdrset h = {0};
	request_headers(&h, &es, &snap, &m, &rb);
	bool secret = request_headers_secret(&h);
	/* and again into the same set, as a transfer reuses it: the answer is the new request's */
	json_t *none = snap.ep.headers;
	snap.ep.headers = NULL;
	rb.headers = NULL;
	m.extra_headers = NULL;
	request_headers(&h, &es, &snap, &m, &rb);
	ck_assert(!request_headers_secret(&h));
	hookd_config_free(es.signer);
	hdrset_dispose(&h);
	json_decref(none);
	json_decref(hh);
	return secret;
}

START_TEST(test_headers_secret)
{
	ck_assert(!secret_with(NULL, NULL, NULL));
	ck_assert(!secret_with("{}", NULL, NULL));
	ck_assert(!secret_with("{\"Authorization\":\"Bearer s3cret\",\"x-api-key\":\"k\"}", NULL, NULL));
	ck_assert(!secret_with("{\"webhook-signature\":null}", NULL, NULL)); /* a destination's drop */
	ck_assert(!secret_with("{\"X-Empty\":\"\"}", NULL, NULL));           /* left out of the record */
	ck_assert(!secret_with(NULL, "{\"x-github-event\":\"ping\",\"user-agent-provider\":\"GitHub\"}", NULL));
	ck_assert(!secret_with(NULL, NULL, "{\"Cookie\":\"c\"}"));
	ck_assert(secret_with("{\"X-Tier\":\"gold\"}", NULL, NULL));
	ck_assert(secret_with("{\"Authorization\":\"Bearer s3cret\",\"X-Dest-Token\":\"t\"}", NULL, NULL));
	ck_assert(secret_with("{\"x-github-event\":\"rewritten\"}", "{\"x-github-event\":\"ping\"}", NULL));
	ck_assert(secret_with(NULL, NULL, "{\"X-Added\":\"by-lua\"}"));
	char longname[80];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	char obj[128];
	snprintf(obj, sizeof obj, "{\"%s\":\"v\"}", longname);
	ck_assert(secret_with(obj, NULL, NULL));
}
END_TEST

Suite *request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, test_handler_headers_and_signature);
	tcase_add_test(tc, test_headers_json);
	tcase_add_test(tc, test_headers_secret);
	suite_add_tcase(s, tc);
	return s;
}
