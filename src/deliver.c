/* deliver.c: the dispatcher: outbound HTTP on one thread with curl multi.
 *
 * Loop: take what is due from the gate (deliveries it held back whose turn came) and from the schedule (scheduler.h),
 * while under the global cap; the gate (gate.c) decides whether each may start now; wait in curl_multi_poll
 * until a transfer finishes, the next delivery is due, or the schedule wakes us; turn each finished transfer
 * into an outcome. Outcomes of one pass go back through the queue (queue.h) as one committer job.
 */
#include "deliver.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "apiver.h"
#include "backoff.h"
#include "cache.h"
#include "gate.h"
#include "hookd.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "netguard.h"
#include "opevents.h"
#include "queue.h"
#include "seal.h"
#include "request.h"
#include "scheduler.h"
#include "xform_pool.h"

struct xfer {
	CURL *easy;
	struct xfer *next_free;
	struct xfer *next_all;
	int64_t dkey;
	struct outmsg *msg;
	struct ep_snap *ep;
	struct ep_state *es;
	int attempts; /* before this one */
	struct hdrset hdrs;
	struct buf resp;
	struct buf rhdrs;  /* the answer's header lines, "name: value\0" each, up to ATTEMPT_RESP_HDRS_* */
	int rhdrs_n;
	int64_t start_mono;
	int64_t retry_after_ms;
	char errbuf[CURL_ERROR_SIZE];
	char blocked[NETGUARD_WHY_MAX]; /* why the guard refused this transfer's last address, or "" */
	bool capped; /* on_body stopped reading at ATTEMPT_RESPONSE_MAX: the status code decides */
	/* handlers (api-version downgrades, the endpoint's transformation): docs/transformations.md */
	struct xform_job *job;  /* while its chain runs on a transformation worker */
	char *api_version;      /* webhook-api-version to send, or NULL */
	char *body;             /* the handlers' body, or NULL: the message's payload */
	size_t body_len;
	char *url;              /* the handlers' URL, or NULL: the endpoint's */
	json_t *xheaders;       /* the handlers' extra headers, or NULL */
	bool put;               /* a handler chose PUT */
};

#define TAKE_BATCH 64
#define UNKNOWN_ENDPOINT_WAIT_MS 200
#define XFORM_BUSY_WAIT_MS 20 /* the transformation queue is full: try a delivery that needs it this much later */

static const struct config *cfg;
static CURLM *multi;
static pthread_t thread;
static struct xfer *free_xfers, *all_xfers;
static int inflight;
static uint64_t rng;
static int stopping; /* atomic */

static double rand01(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

int deliver_init(const struct config *c)
{
	cfg = c;
	gate_init(c);
	if (RAND_bytes((unsigned char *)&rng, sizeof rng) != 1 || rng == 0)
		rng = (uint64_t)now_ms() | 1;
	multi = curl_multi_init();
	if (multi == NULL)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_inflight * 2);
	return 0;
}

void deliver_wake(void) { curl_multi_wakeup(multi); }

/* ---- one transfer ---- */


/* Keep the first ATTEMPT_RESPONSE_MAX bytes of the answer and stop reading there: a short count makes curl
 * abort the transfer (CURLE_WRITE_ERROR) and close the connection, so a receiver that streams an endless body
 * costs at most the cap and one connection. xfer_done judges a capped transfer by its status code. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	size_t room = ATTEMPT_RESPONSE_MAX - x->resp.len;
	if (n <= room) {
		buf_append(&x->resp, p, n);
		return n;
	}
	buf_append(&x->resp, p, room);
	x->capped = true;
	return room;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[64];
		size_t len = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
		memcpy(v, p + 12, len);
		v[len] = '\0';
		char *s = v;
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		x->retry_after_ms = backoff_retry_after_ms(s, now_ms());
	}
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a status line: the headers kept are the last answer's */
		buf_reset(&x->rhdrs);
		x->rhdrs_n = 0;
	} else if (x->rhdrs_n < ATTEMPT_RESP_HDRS_N && memchr(p, ':', n) != NULL) {
		size_t l = n;
		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
			l--;
		if (x->rhdrs.len + l + 1 <= ATTEMPT_RESP_HDRS_MAX) { /* a line past the cap is left out whole */
			buf_append(&x->rhdrs, p, l);
			buf_append(&x->rhdrs, "", 1);
			x->rhdrs_n++;
		}
	}
	return n;
}

/* Every connection a transfer opens, after DNS (or to the proxy): the guard's verdict on the very address
 * connected to, so a name that resolves to an internal address, or re-resolves to one later, is refused. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	(void)purpose;
	if (netguard_check_sockaddr(&cfg->guard, &a->addr, x->blocked, sizeof x->blocked) < 0) {
		log_debug("deliver: %s", x->blocked);
		return CURL_SOCKET_BAD; /* curl: CURLE_COULDNT_CONNECT, unless another address connects */
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* The options every transfer shares, set once per easy handle: a handle is reused without curl_easy_reset
 * (which frees and rebuilds its state), and each transfer sets only what differs (xfer_begin). */
static void xfer_setup(struct xfer *x)
{
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->request_timeout_ms);
	/* an address that takes no connection fails sooner than a slow answer: its slot is free for others */
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_ms < cfg->request_timeout_ms
								    ? cfg->connect_timeout_ms
								    : cfg->request_timeout_ms));
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* --require-https: an http:// URL stored before fails at once (CURLE_UNSUPPORTED_PROTOCOL) */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, cfg->guard.require_https ? "https" : "http,https");
	/* "" rather than unset: http_proxy and the like in the environment would take the guard's view of where a
	 * delivery goes away */
	curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy != NULL ? cfg->proxy : "");
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
}

static struct xfer *xfer_get(void)
{
	struct xfer *x = free_xfers;
	if (x != NULL) {
		free_xfers = x->next_free;
	} else {
		x = xcalloc(1, sizeof *x);
		x->easy = curl_easy_init();
		if (x->easy == NULL)
			fatalx("curl_easy_init failed");
		buf_init(&x->resp, ATTEMPT_RESPONSE_MAX);
		buf_init(&x->rhdrs, ATTEMPT_RESP_HDRS_MAX);
		x->next_all = all_xfers;
		all_xfers = x;
		xfer_setup(x);
	}
	buf_reset(&x->resp);
	buf_reset(&x->rhdrs);
	x->rhdrs_n = 0;
	x->errbuf[0] = '\0';
	x->blocked[0] = '\0';
	x->capped = false;
	x->retry_after_ms = -1;
	return x;
}

/* The delivery counts as in flight from here: its request, or first its handlers on a worker. */
static void xfer_account(struct xfer *x)
{
	x->start_mono = mono_ms();
	gate_started(x->es);
	inflight++;
}

/* Start the request: the handlers' body, URL, method and headers if they ran, else the message's payload. */
static void xfer_send(struct xfer *x)
{
	CURL *e = x->easy;
	const struct message *m = &x->msg->m;
	struct request_body rb = {.headers = x->xheaders, .api_version = x->api_version};
	if (x->body != NULL) {
		rb.body = x->body;
		rb.len = x->body_len;
	} else {
		rb.body = m->payload ? m->payload : "{}";
		rb.len = m->payload ? m->payload_len : 2;
	}
	curl_easy_setopt(e, CURLOPT_URL, x->url ? x->url : x->ep->ep.url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, rb.body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rb.len);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->put ? "PUT" : NULL);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, request_headers(&x->hdrs, x->es, x->ep, m, &rb));
	x->start_mono = mono_ms();
	if (curl_multi_add_handle(multi, e) != CURLM_OK)
		fatalx("curl_multi_add_handle failed");
}

static void xfer_begin(struct xfer *x)
{
	xfer_account(x);
	xfer_send(x);
}

static void xfer_done(struct xfer *x, CURLcode code, const char *xerr);

/* Hand the delivery's chain to the transformation workers: codes (taken) are the api-version downgrades,
 * then the endpoint's transformation if with_ep. The queue had room (start_item looked). */
static void xfer_transform(struct xfer *x, struct strlist *codes, bool with_ep)
{
	const struct message *m = &x->msg->m;
	struct xform_job *j = xcalloc(1, sizeof *j);
	j->codes = *codes;
	memset(codes, 0, sizeof *codes);
	j->n_downgrades = j->codes.n;
	if (with_ep)
		strlist_add(&j->codes, x->ep->ep.transformation);
	j->api_version = x->api_version ? xstrdup(x->api_version) : NULL;
	j->payload_text = m->payload ? xstrndup(m->payload, m->payload_len) : xstrdup("{}");
	j->hook.url = xstrdup(x->ep->ep.url);
	j->hook.method = xstrdup("POST");
	j->hook.event_type = m->event_type ? xstrdup(m->event_type) : NULL;
	j->arg = x;
	xfer_account(x);
	x->job = j;
	if (!xform_pool_submit(j)) {
		x->job = NULL;
		xform_job_free(j);
		xfer_done(x, CURLE_OK, "transformation failed: the transformation workers are not running");
	}
}

static void outcome_canceled(int64_t dkey, int attempts)
{
	struct outcome *o = queue_outcome_add();
	o->dkey = dkey;
	o->new_status = DS_CANCELED;
	o->attempts = attempts;
	METRIC_ADD(deliveries_canceled, 1);
}

/* Start a due delivery (its message loaded), let the gate hold it, or cancel it. Consumes the item's reference. */
static void start_item(struct sched_item *it)
{
	struct outmsg *om = it->msg;
	const char *ep_id = om->ep_ids[it->ep_idx];
	if (!sched->owns(ep_id)) { /* another node's now: it sends what is pending */
		outmsg_unref(om);
		return;
	}
	struct ep_snap *ep = cache_endpoint_ref(ep_id);
	if (ep == NULL && sched->shared) {
		/* another node's new endpoint, not in this node's registry yet (the feed brings it): a moment later. A
		 * deleted one's deliveries were canceled with it, and its lease goes at the next renewal. */
		it->due_ms = now_ms() + UNKNOWN_ENDPOINT_WAIT_MS;
		sched->retry(it, 1);
		return;
	}
	if (ep == NULL || ep->ep.disabled || endpoint_is_poller(&ep->ep)) { /* a sink now: its consumers read it */
		outcome_canceled(it->dkey, it->attempts);
		if (ep != NULL)
			gate_outcome(ep->ep.id, it->dkey, DS_CANCELED);
		ep_snap_unref(ep);
		outmsg_unref(om);
		return;
	}
	/* handlers to run first: the api-version downgrades, the endpoint's transformation */
	struct strlist codes = {0};
	/* operational webhooks are hookd's own events: the users' payload versions are not theirs */
	char *version = opevents_is_internal(om->m.app_id) ? NULL : apiver_chain(ep->ep.api_version, &codes);
	bool with_ep = ep->ep.transformation_enabled && ep->ep.transformation != NULL && ep->ep.transformation[0];
	bool handlers = with_ep || codes.n > 0;
	if (handlers && !xform_pool_room()) { /* the workers are behind: this one a moment later */
		strlist_dispose(&codes);
		free(version);
		ep_snap_unref(ep);
		it->due_ms = now_ms() + XFORM_BUSY_WAIT_MS;
		sched->retry(it, 1);
		return;
	}
	struct ep_state *es = gate_state(ep->ep.id);
	if (!gate_admit(es, ep, om->trigger, it)) {
		strlist_dispose(&codes);
		free(version);
		ep_snap_unref(ep);
		return;
	}
	struct xfer *x = xfer_get();
	x->dkey = it->dkey;
	x->msg = om;
	x->ep = ep;
	x->es = es;
	x->attempts = it->attempts;
	x->api_version = version;
	if (handlers)
		xfer_transform(x, &codes, with_ep);
	else
		xfer_begin(x);
}

/* xerr: the attempt failed before its request (a handler's error), with this text */
static void fill_attempt(struct attempt *a, const struct xfer *x, long status, CURLcode code, const char *xerr)
{
	const struct message *m = &x->msg->m;
	id_new("atmpt_", a->id);
	memcpy(a->msg_id, m->id, ID_MAX);
	memcpy(a->endpoint_id, x->ep->ep.id, ID_MAX);
	memcpy(a->app_id, m->app_id, ID_MAX);
	a->url = xstrdup(x->url ? x->url : x->ep->ep.url);
	/* the body as sent, when it is not the payload */
	if (x->body != NULL && (m->payload == NULL || x->body_len != m->payload_len ||
				memcmp(x->body, m->payload, x->body_len) != 0))
		a->request_body = xstrndup(x->body, x->body_len);
	if (xerr == NULL) { /* the request went (or was tried): its headers as built, sealed when they hold a custom
			     * header's value, which the store keeps sealed (docs/security.md); the reader tells a
			     * sealed record ("enc:v1:...") from a plain one ("{...}") */
		a->request_headers = request_headers_json(&x->hdrs);
		if (a->request_headers != NULL && request_headers_secret(&x->hdrs)) {
			char *plain = a->request_headers;
			a->request_headers = seal_value(plain);
			free(plain);
		}
	}
	if (xerr == NULL && x->put)
		a->request_method = xstrdup("PUT");
	if (code == CURLE_OK && xerr == NULL && x->rhdrs_n > 0)
		a->response_headers = headers_json(x->rhdrs.data, x->rhdrs.len, 0, false);
	a->status_code = code == CURLE_OK && xerr == NULL ? (int)status : 0;
	a->duration_ms = mono_ms() - x->start_mono;
	if (xerr != NULL) {
		a->response = xstrdup(xerr);
		a->response_len = strlen(xerr);
	} else if (code == CURLE_OK) {
		a->response = xstrndup(x->resp.data ? x->resp.data : "", x->resp.len);
		a->response_len = x->resp.len;
	} else {
		const char *err = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
		if (code == CURLE_UNSUPPORTED_PROTOCOL && cfg->guard.require_https)
			err = "http:// URL refused: only https:// (see --require-https)";
		else if (code == CURLE_COULDNT_CONNECT && x->blocked[0] != '\0')
			err = x->blocked;
		a->response = xstrdup(err);
		a->response_len = strlen(err);
	}
	a->trigger = x->msg->trigger;
	a->created_ms = now_ms();
}

static void xfer_release(struct xfer *x)
{
	curl_multi_remove_handle(multi, x->easy);
	gate_finished(x->es);
	inflight--;
	ep_snap_unref(x->ep);
	outmsg_unref(x->msg);
	x->ep = NULL;
	x->msg = NULL;
	free(x->api_version);
	free(x->body);
	free(x->url);
	json_decref(x->xheaders);
	x->api_version = x->body = x->url = NULL;
	x->xheaders = NULL;
	x->body_len = 0;
	x->put = false;
	x->next_free = free_xfers;
	free_xfers = x;
}

/* message.attempt.exhausted / .failing / .recovered for a user's delivery */
#define FAILING_AFTER 3 /* failed attempts before message.attempt.failing */

static void attempt_event(const char *type, const struct xfer *x, const struct attempt *a)
{
	const struct message *m = &x->msg->m;
	if (opevents_is_internal(m->app_id))
		return;
	json_t *data = opevents_endpoint_data(m->app_id, x->ep->ep.id, x->ep->ep.uid);
	json_object_set_new(data, "msgId", json_string(m->id));
	json_object_set_new(data, "msgEventId", m->event_id ? json_string(m->event_id) : json_null());
	json_object_set_new(data, "lastAttempt",
			    json_pack("{s:s,s:o,s:i,s:I}", "id", a->id, "timestamp", time_to_json(a->created_ms),
				      "responseStatusCode", a->status_code, "responseDurationMs",
				      (json_int_t)a->duration_ms));
	opevents_emit(type, data);
}

/* The wait before the next try after `attempts` failed ones, or -1 when none remains. The endpoint's own
 * retrySchedule, else the server's; jitter, the throttled minimum and the Retry-After cap are the server's.
 * The schedule is read from the endpoint's snapshot now, not the one the attempt started with, so a PATCH
 * made while a slow attempt was in flight already counts for its retry. */
static int64_t retry_delay(const struct xfer *x, int attempts, bool slow_down)
{
	struct ep_snap *cur = cache_endpoint_ref(x->ep->ep.id);
	const struct endpoint *e = cur != NULL ? &cur->ep : &x->ep->ep; /* deleted meanwhile: as it was */
	struct backoff own;
	const struct backoff *b = &cfg->backoff;
	if (e->has_retry) {
		backoff_with_schedule(&own, &cfg->backoff, e->retry_ms, e->retry_steps);
		b = &own;
	}
	int64_t delay = backoff_next_ms(b, attempts, rand01(), x->retry_after_ms, slow_down);
	ep_snap_unref(cur);
	return delay;
}

/* The attempt's outcome: its request's (code, and the status curl has), or xerr: it failed before sending. */
static void xfer_done(struct xfer *x, CURLcode code, const char *xerr)
{
	long status = 0;
	if (xerr == NULL)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (code == CURLE_WRITE_ERROR && x->capped && status != 0)
		code = CURLE_OK; /* we stopped reading at the cap: an answer, truncated, not a network error */
	bool ok = xerr == NULL && code == CURLE_OK && status >= 200 && status <= 299;
	struct outcome *o = queue_outcome_add();
	o->dkey = x->dkey;
	o->attempts = x->attempts + 1;
	fill_attempt(&o->attempt, x, status, code, xerr);
	o->attempt.status = ok ? DS_SUCCESS : DS_FAIL;
	gate_health(x->es, &x->ep->ep, ok, code == CURLE_OK ? status : 0, code == CURLE_OPERATION_TIMEDOUT);
	histogram_observe(&hist_attempt, o->attempt.duration_ms * 1000);
	if (ok) {
		o->new_status = DS_SUCCESS;
		METRIC_ADD(deliveries_success, 1);
		metrics_endpoint_outcome(x->ep->ep.id, 0);
		if (o->attempts > FAILING_AFTER)
			attempt_event("message.attempt.recovered", x, &o->attempt);
	} else {
		bool slow_down = (code == CURLE_OK && status == 429) || code == CURLE_OPERATION_TIMEDOUT;
		int64_t delay = x->msg->trigger == TRIGGER_MANUAL ? -1 : retry_delay(x, o->attempts, slow_down);
		o->new_status = delay < 0 ? DS_FAIL : DS_PENDING;
		if (delay < 0)
			METRIC_ADD(deliveries_fail, 1);
		else
			METRIC_ADD(deliveries_retry, 1);
		metrics_endpoint_outcome(x->ep->ep.id, delay < 0 ? 2 : 1);
		if (delay < 0 && x->msg->trigger == TRIGGER_SCHEDULED)
			attempt_event("message.attempt.exhausted", x, &o->attempt);
		else if (delay >= 0 && o->attempts == FAILING_AFTER)
			attempt_event("message.attempt.failing", x, &o->attempt);
		if (delay >= 0)
			o->next_ms = now_ms() + delay; /* scheduled by the queue once recorded */
	}
	struct log_delivery ld = {
		.app = x->msg->m.app_id, .endpoint = x->ep->ep.id, .message = x->msg->m.id,
		.outcome = ok ? "success" : o->new_status == DS_PENDING ? "retry" : "fail",
		.status = o->attempt.status_code, .duration_ms = o->attempt.duration_ms, .attempt = o->attempts,
		.error = ok || o->attempt.status_code != 0 ? NULL : o->attempt.response, /* the network error */
	};
	log_delivery(&ld); /* one line per outcome, built on the stack */
	gate_outcome(x->ep->ep.id, x->dkey, o->new_status);
	xfer_release(x);
}

static void reap(void)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		xfer_done(x, msg->data.result, NULL);
	}
}

/* May a handler send the delivery to url? What an endpoint's URL must be (http(s) with a host; the SSRF guard's
 * store-time checks); the connect-time check runs on every connection anyway. NULL, or why not. */
static const char *url_refused(const char *url, char *why, size_t whylen)
{
	if (!netguard_url_is_http(url)) {
		snprintf(why, whylen, "not an http(s) URL");
		return why;
	}
	return netguard_check_url(&cfg->guard, url, why, whylen) < 0 ? why : NULL;
}

/* A chain came back from the workers: cancel, fail the attempt, or send what the handlers made. */
static void xform_finish(struct xfer *x, struct xform_job *j)
{
	if (j->rc < 0) {
		xfer_done(x, CURLE_OK, j->err);
		return;
	}
	if (j->hook.cancel) {
		outcome_canceled(x->dkey, x->attempts);
		gate_outcome(x->ep->ep.id, x->dkey, DS_CANCELED);
		xfer_release(x);
		return;
	}
	x->body = j->body;
	x->body_len = j->body_len;
	j->body = NULL;
	if (strcmp(j->hook.url, x->ep->ep.url) != 0) {
		x->url = j->hook.url;
		j->hook.url = NULL;
		char why[NETGUARD_WHY_MAX], msg[NETGUARD_WHY_MAX + 64];
		if (url_refused(x->url, why, sizeof why) != NULL) {
			snprintf(msg, sizeof msg, "transformation failed: webhook.url refused: %s", why);
			xfer_done(x, CURLE_OK, msg);
			return;
		}
	}
	x->put = strcmp(j->hook.method, "PUT") == 0;
	if (json_object_size(j->hook.headers) > 0) {
		x->xheaders = j->hook.headers;
		j->hook.headers = NULL;
	}
	xfer_send(x);
}

static void xform_reap(void)
{
	struct xform_job *j = xform_pool_done();
	while (j != NULL) {
		struct xform_job *next = j->next;
		struct xfer *x = j->arg;
		x->job = NULL;
		if (x->msg != NULL)
			xform_finish(x, j);
		xform_job_free(j);
		j = next;
	}
}

/* Start what is due while under the global cap: first what the gate released, then the schedule's. */
static void start_due(void)
{
	struct sched_item batch[TAKE_BATCH];
	int64_t now = now_ms();
	for (int from_gate = 1; from_gate >= 0; from_gate--) {
		size_t n;
		do {
			size_t room = (size_t)(cfg->max_inflight - inflight);
			if (room == 0 || (int)room < 0)
				return;
			if (room > TAKE_BATCH)
				room = TAKE_BATCH;
			n = from_gate ? gate_take(now, batch, room) : sched->take(now, batch, room);
			for (size_t i = 0; i < n; i++)
				start_item(&batch[i]);
		} while (n > 0);
	}
}

static int poll_timeout_ms(void)
{
	int64_t now = now_ms(), wait = 1000;
	if (inflight < cfg->max_inflight)
		wait = sched->wait_ms(now, 1000);
	int64_t g = gate_wait_ms(now);
	if (g >= 0 && g < wait && inflight < cfg->max_inflight)
		wait = g;
	return wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

static struct idvec draining; /* endpoints lost whose transfers are still in flight */

/* Endpoints this node lost (a shared database's rebalancing): once their transfers in flight are done, forget
 * their state, send their outcomes to the committer, and let the schedule release them behind those. */
static void drop_lost(void)
{
	char ids[16][ID_MAX];
	size_t n;
	while ((n = sched->lost(ids, 16)) > 0)
		for (size_t i = 0; i < n; i++)
			idvec_add(&draining, ids[i]);
	size_t kept = 0;
	bool flushed = false;
	for (size_t i = 0; i < draining.n; i++) {
		if (!gate_drop(draining.v[i])) {
			memmove(draining.v[kept++], draining.v[i], ID_MAX);
			continue;
		}
		if (!flushed)
			queue_outcomes_flush(); /* before the release: the next owner reads these outcomes */
		flushed = true;
		sched->release(draining.v[i]);
	}
	draining.n = kept;
}

/* Transfers still running at the drain deadline stay pending in the store, to be sent after restart. */
static void abort_inflight(void)
{
	for (struct xfer *x = all_xfers; x != NULL; x = x->next_all)
		if (x->msg != NULL)
			xfer_release(x);
}

static void *deliver_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "dispatcher");
	int64_t deadline = 0;
	for (;;) {
		bool stop = __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
		drop_lost();
		if (!stop)
			start_due();
		else if (deadline == 0)
			deadline = mono_ms() + cfg->drain_timeout_ms;
		queue_outcomes_flush();
		METRIC_SET(inflight, inflight);
		METRIC_SET(scheduled, (int64_t)(sched->count() + gate_held()));
		if (stop && (inflight == 0 || mono_ms() >= deadline))
			break;
		int running;
		curl_multi_poll(multi, NULL, 0, stop ? 100 : poll_timeout_ms(), NULL);
		curl_multi_perform(multi, &running);
		reap();
		log_delivery_flush(); /* this pass's outcome lines, in one write */
		xform_reap();
	}
	xform_pool_stop(); /* no worker holds a transfer after this */
	for (struct xform_job *j = xform_pool_done(), *n; j != NULL; j = n) {
		n = j->next;
		((struct xfer *)j->arg)->job = NULL;
		xform_job_free(j);
	}
	abort_inflight();
	queue_outcomes_flush();
	log_delivery_flush();
	return NULL;
}

void deliver_start(void)
{
	if (xform_pool_start(cfg->transform_workers > 0 ? cfg->transform_workers : 1, cfg->transform_budget,
			     cfg->transform_memory, (size_t)cfg->max_inflight, deliver_wake) < 0)
		fatalx("deliver: cannot start the transformation workers");
	if (pthread_create(&thread, NULL, deliver_main, NULL) != 0)
		fatal("deliver: pthread_create");
}

void deliver_stop(void)
{
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	curl_multi_wakeup(multi);
	pthread_join(thread, NULL);
}

void deliver_dispose(void)
{
	gate_dispose();
	idvec_free(&draining);
	free_xfers = NULL;
	while (all_xfers != NULL) {
		struct xfer *x = all_xfers;
		all_xfers = x->next_all;
		curl_easy_cleanup(x->easy);
		buf_dispose(&x->resp);
		buf_dispose(&x->rhdrs);
		hdrset_dispose(&x->hdrs);
		free(x);
	}
	if (multi)
		curl_multi_cleanup(multi);
	multi = NULL;
}
