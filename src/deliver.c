/* deliver.c: outbound HTTP on one thread with curl multi.
 *
 * Loop: move new messages from the inbox into the heap; start every due delivery while under the global cap
 * (one that finds its endpoint at its cap is parked on the endpoint until a slot frees); wait in
 * curl_multi_poll until a transfer finishes, the next delivery is due, or deliver_submit wakes us; turn each
 * finished transfer into an outcome. Outcomes of one pass go to the committer as one job.
 */
#include "deliver.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backoff.h"
#include "cache.h"
#include "commit.h"
#include "hookd.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "opevents.h"
#include "signer.h"

/* Deliveries of one endpoint waiting for a free slot or for a token of its rate limit, in due order. */
struct ep_state {
	int inflight;
	struct sched_item *parked;
	size_t head, n, cap;
	/* throttleRate: a token bucket holding up to one second of sends */
	double tokens;
	int64_t refill_mono;
	int64_t wake_mono; /* when a throttled or paused endpoint may send again; 0 if neither */
	/* health: consecutive failures pause the endpoint (circuit breaker); failing for long disables it */
	int failures;            /* consecutive */
	int64_t failing_since;   /* unix ms of the first failure since the last success; 0 when healthy */
	int64_t paused_until;    /* monotonic ms; 0: not paused */
	int64_t cooldown;        /* the current pause, doubled by each failed probe */
	bool probing;            /* one delivery is testing a paused endpoint */
	bool disabling;          /* a disable is on its way to the store */
	uint64_t seen_gen;       /* the endpoint's snapshot: an edit (say, re-enabling it) resets health */
	/* signing: the endpoint's libhookd config, rebuilt when the endpoint changes or an old secret expires */
	struct hookd_config *signer;
	uint64_t signer_gen;
	int64_t signer_until;
	/* ordering "fifo": only the head delivery is ever started; the rest wait in acceptance (key) order */
	int64_t fifo_head;       /* 0: none */
	bool fifo_init;          /* the head after a restart came from the store */
	struct sched fifo_wait;  /* keyed by delivery key: due_ms holds the key, dkey the due time */
};

/* A transfer's request headers as the curl_slist libcurl reads: lines in one buffer and nodes in one array, both
 * kept by the transfer and reused, so a delivery's headers cost no allocation once they have grown. */
struct hdrset {
	char *buf;                 /* "name: value\0" lines */
	size_t len, cap;
	size_t *off;               /* where each line starts in buf */
	struct curl_slist *nodes;
	size_t n, ncap;
};

struct xfer {
	CURL *easy;
	struct xfer *next_free;
	struct xfer *next_all;
	int64_t dkey;
	struct outmsg *msg;
	size_t idx;
	struct ep_snap *ep;
	struct ep_state *es;
	int attempts; /* before this one */
	struct hdrset hdrs;
	struct buf resp;
	int64_t start_mono;
	int64_t retry_after_ms;
	char errbuf[CURL_ERROR_SIZE];
};

#define HOLD_PAYLOAD_MS 5000
#define HOLD_PAYLOAD_BYTES (32 << 20) /* beyond this, fresh deliveries too are reloaded when due */

struct outcome_batch {
	struct commit_job job;
	struct outcome *v;
	size_t n, cap;
};

static const struct config *cfg;
static struct store *store;
static CURLM *multi;
static pthread_t thread;
static struct sched heap;
static struct hmap ep_states;
static struct xfer *free_xfers, *all_xfers;
static int inflight;
static struct ep_state **throttled; /* endpoints with deliveries parked for want of a token */
static size_t nthrottled, capthrottled;
static struct outcome_batch *pending_outcomes;
static uint64_t rng;

static pthread_mutex_t inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static struct outmsg *inbox_head, *inbox_tail;
static int stopping; /* atomic */

static double rand01(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void scan_cb(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	(void)arg;
	(void)endpoint_id;
	struct sched_item it = {.due_ms = next_ms, .dkey = dkey, .msg = NULL, .attempts = -1};
	sched_push(&heap, &it);
}

int deliver_init(const struct config *c, struct store *st)
{
	cfg = c;
	store = st;
	sched_init(&heap);
	hmap_init(&ep_states);
	if (RAND_bytes((unsigned char *)&rng, sizeof rng) != 1 || rng == 0)
		rng = (uint64_t)now_ms() | 1;
	multi = curl_multi_init();
	if (multi == NULL)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_inflight * 2);
	if (st->w->deliveries_reset_sending(st) != STORE_OK ||
	    st->w->deliveries_scan_pending(st, scan_cb, NULL) != STORE_OK)
		return -1;
	if (heap.n > 0)
		log_info("deliver: %zu pending deliveries loaded", heap.n);
	return 0;
}

void deliver_submit(struct outmsg *om)
{
	om->next = NULL;
	pthread_mutex_lock(&inbox_mu);
	bool was_empty = inbox_head == NULL;
	if (inbox_tail)
		inbox_tail->next = om;
	else
		inbox_head = om;
	inbox_tail = om;
	pthread_mutex_unlock(&inbox_mu);
	/* the dispatcher drains the whole inbox once woken: only the first message needs the wakeup (a syscall) */
	if (was_empty)
		curl_multi_wakeup(multi);
}

static void inbox_drain(void)
{
	pthread_mutex_lock(&inbox_mu);
	struct outmsg *om = inbox_head;
	inbox_head = inbox_tail = NULL;
	pthread_mutex_unlock(&inbox_mu);
	int64_t now = now_ms();
	while (om != NULL) {
		struct outmsg *next = om->next;
		int64_t due = om->m.deliver_at_ms > now ? om->m.deliver_at_ms : now;
		/* Keep the payload in memory only for what is due soon; the rest is reloaded when due, like a retry,
		 * so a backlog scheduled for later costs 32 bytes a delivery, not its payload. */
		bool keep = due - now <= HOLD_PAYLOAD_MS && outmsg_held_bytes < HOLD_PAYLOAD_BYTES;
		if (keep && !om->held) {
			om->held = true;
			outmsg_held_bytes += (int64_t)om->m.payload_len;
		}
		for (size_t i = 0; i < om->n; i++) {
			if (keep)
				om->refs++;
			struct sched_item it = {due, om->dkeys[i], keep ? om : NULL, (uint32_t)i, keep ? 0 : -1};
			sched_push(&heap, &it);
		}
		outmsg_unref(om);
		om = next;
	}
}

/* ---- outcomes ---- */

static int outcomes_run(struct store *st, void *arg)
{
	struct outcome_batch *b = arg;
	return st->w->outcomes_record(st, b->v, b->n);
}

static void outcomes_done(void *arg, int rc)
{
	struct outcome_batch *b = arg;
	if (rc != STORE_OK)
		log_warnx("deliver: %zu outcomes were not recorded; they will be retried after restart", b->n);
	for (size_t i = 0; i < b->n; i++)
		attempt_dispose(&b->v[i].attempt);
	free(b->v);
	free(b);
}

static struct outcome *outcome_add(void)
{
	struct outcome_batch *b = pending_outcomes;
	if (b == NULL) {
		b = pending_outcomes = xcalloc(1, sizeof *b);
		b->job.run = outcomes_run;
		b->job.done = outcomes_done;
		b->job.arg = b;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	struct outcome *o = &b->v[b->n++];
	memset(o, 0, sizeof *o);
	return o;
}

static void outcomes_flush(void)
{
	if (pending_outcomes != NULL)
		commit_submit(&pending_outcomes->job);
	pending_outcomes = NULL;
}

/* ---- per-endpoint slots ---- */

static struct ep_state *ep_state_get(const char *ep_id)
{
	struct ep_state *es = hmap_get(&ep_states, ep_id);
	if (es == NULL) {
		es = xcalloc(1, sizeof *es);
		hmap_put(&ep_states, ep_id, es);
	}
	return es;
}

static int64_t nparked; /* deliveries waiting on an endpoint, counted in the scheduled gauge */

static void park(struct ep_state *es, const struct sched_item *it)
{
	nparked++;
	if (es->head + es->n == es->cap) {
		if (es->head > 0) {
			memmove(es->parked, es->parked + es->head, es->n * sizeof *es->parked);
			es->head = 0;
		} else {
			es->cap = es->cap ? es->cap * 2 : 16;
			es->parked = xrealloc(es->parked, es->cap * sizeof *es->parked);
		}
	}
	es->parked[es->head + es->n++] = *it;
}

/* A slot of es freed: its oldest parked delivery goes back to the heap. */
static void unpark(struct ep_state *es)
{
	if (es->n == 0)
		return;
	nparked--;
	sched_push(&heap, &es->parked[es->head]);
	es->head++;
	if (--es->n == 0)
		es->head = 0;
}

/* ---- rate limits ---- */

/* Take a token of es's bucket at rate per second; false (and es->wake_mono set) if none is left. */
static bool bucket_take(struct ep_state *es, int64_t rate)
{
	int64_t now = mono_ms();
	if (es->refill_mono == 0) {
		es->tokens = (double)rate;
	} else {
		es->tokens += (double)(now - es->refill_mono) * (double)rate / 1000.0;
		if (es->tokens > (double)rate)
			es->tokens = (double)rate;
	}
	es->refill_mono = now;
	if (es->tokens >= 1.0) {
		es->tokens -= 1.0;
		return true;
	}
	es->wake_mono = now + (int64_t)((1.0 - es->tokens) * 1000.0 / (double)rate) + 1;
	return false;
}

/* Put es on the list of endpoints woken at es->wake_mono. */
static void enlist(struct ep_state *es)
{
	for (size_t i = 0; i < nthrottled; i++)
		if (throttled[i] == es)
			return;
	if (nthrottled == capthrottled) {
		capthrottled = capthrottled ? capthrottled * 2 : 16;
		throttled = xrealloc(throttled, capthrottled * sizeof *throttled);
	}
	throttled[nthrottled++] = es;
}

static void throttle(struct ep_state *es, const struct sched_item *it)
{
	park(es, it);
	enlist(es);
}

/* Endpoints whose bucket has refilled send their oldest parked delivery again (it takes its token then). */
static void throttled_wake(void)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < nthrottled;) {
		struct ep_state *es = throttled[i];
		if (es->wake_mono > now && es->n > 0) {
			i++;
			continue;
		}
		es->wake_mono = 0;
		unpark(es);
		throttled[i] = throttled[--nthrottled];
	}
}

/* ms until the next throttled endpoint has a token, or -1 */
static int64_t throttled_next(void)
{
	int64_t next = -1, now = mono_ms();
	for (size_t i = 0; i < nthrottled; i++) {
		int64_t w = throttled[i]->wake_mono - now;
		if (next < 0 || w < next)
			next = w < 0 ? 0 : w;
	}
	return next;
}

/* ---- ordered delivery ---- */

/* True if this delivery must wait for the endpoint's head (it is queued, keeping its reference). The first
 * time, the head is the endpoint's oldest pending delivery in the store: after a restart the order holds. */
static bool fifo_waits(struct ep_state *es, const struct endpoint *e, const struct sched_item *it)
{
	if (!es->fifo_init) {
		int64_t oldest;
		es->fifo_init = true;
		if (store->q->delivery_oldest_pending(store, e->id, &oldest) == STORE_OK && oldest < it->dkey)
			es->fifo_head = oldest;
	}
	if (es->fifo_head == 0)
		es->fifo_head = it->dkey;
	if (es->fifo_head == it->dkey)
		return false;
	struct sched_item w = *it;
	w.due_ms = it->dkey; /* the heap orders by due_ms first: order by key */
	w.dkey = it->due_ms;
	sched_push(&es->fifo_wait, &w);
	nparked++;
	return true;
}

/* The head is done for good (delivered, failed, canceled): the next in order becomes the head. */
static void fifo_next(struct ep_state *es)
{
	es->fifo_head = 0;
	if (es->fifo_wait.n == 0)
		return;
	struct sched_item next;
	sched_pop(&es->fifo_wait, &next);
	nparked--;
	int64_t key = next.due_ms, now = now_ms();
	next.due_ms = next.dkey > now ? next.dkey : now;
	next.dkey = key;
	es->fifo_head = key;
	sched_push(&heap, &next);
}

/* The endpoint left fifo ordering: everything waiting goes out as usual. */
static void fifo_release_all(struct ep_state *es)
{
	while (es->fifo_wait.n > 0)
		fifo_next(es);
	es->fifo_head = 0;
	es->fifo_init = false;
}

static void fifo_done(const struct ep_snap *ep, int64_t dkey, int new_status)
{
	struct ep_state *es = hmap_get(&ep_states, ep->ep.id);
	if (es != NULL && es->fifo_head == dkey && new_status != DS_PENDING)
		fifo_next(es);
}

/* ---- endpoint health: circuit breaker and auto-disable ---- */

#define COOLDOWN_MAX_MS (10 * 60 * 1000)
#define PROBING_WAIT_MS (3600 * 1000) /* parked behind a probe: woken by its outcome, not by time */

static void unpark_all(struct ep_state *es)
{
	while (es->n > 0)
		unpark(es);
}

/* True if a paused endpoint holds this delivery back (parked); a paused endpoint whose pause is over lets one
 * delivery through as a probe. */
static bool breaker_holds(struct ep_state *es, const struct sched_item *it)
{
	if (es->paused_until == 0)
		return false;
	int64_t now = mono_ms();
	if (now >= es->paused_until && !es->probing) {
		es->probing = true;
		return false;
	}
	es->wake_mono = es->probing ? now + PROBING_WAIT_MS : es->paused_until;
	throttle(es, it);
	return true;
}

struct disable_job {
	struct commit_job job;
	char endpoint_id[ID_MAX];
	int64_t at, fail_since;
};

static int disable_run(struct store *st, void *arg)
{
	struct disable_job *d = arg;
	int rc = st->w->endpoint_set_disabled(st, d->endpoint_id, true, d->at);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static void disable_done(void *arg, int rc)
{
	struct disable_job *d = arg;
	struct ep_snap *s = rc == STORE_OK ? cache_endpoint_ref(d->endpoint_id) : NULL;
	if (s != NULL) {
		cache_endpoint_set_disabled(d->endpoint_id, true, d->at);
		if (!opevents_is_internal(s->ep.app_id)) {
			json_t *data = opevents_endpoint_data(s->ep.app_id, s->ep.id, s->ep.uid);
			json_object_set_new(data, "trigger", json_string("automatic"));
			json_object_set_new(data, "failSince", time_to_json(d->fail_since));
			opevents_emit("endpoint.disabled", data);
		}
		ep_snap_unref(s);
	}
	free(d);
}

static void endpoint_disable(struct ep_state *es, const struct endpoint *e, const char *why)
{
	if (es->disabling)
		return;
	es->disabling = true;
	log_warnx("deliver: endpoint %s (%s) disabled: %s", e->id, e->url, why);
	struct disable_job *d = xcalloc(1, sizeof *d);
	memcpy(d->endpoint_id, e->id, ID_MAX);
	d->at = now_ms();
	d->fail_since = es->failing_since;
	d->job = (struct commit_job){.run = disable_run, .done = disable_done, .arg = d};
	commit_submit(&d->job);
}

struct failing_job {
	struct commit_job job;
	char endpoint_id[ID_MAX];
	int64_t since;
};

static int failing_run(struct store *st, void *arg)
{
	struct failing_job *f = arg;
	return st->w->endpoint_set_failing(st, f->endpoint_id, f->since);
}

static void failing_done(void *arg, int rc)
{
	(void)rc;
	free(arg);
}

/* Keep failing_since in the store, so that "failing for 5 days" survives restarts. Only transitions write. */
static void failing_set(struct ep_state *es, const char *endpoint_id, int64_t since)
{
	if (es->failing_since == since)
		return;
	es->failing_since = since;
	struct failing_job *f = xcalloc(1, sizeof *f);
	memcpy(f->endpoint_id, endpoint_id, ID_MAX);
	f->since = since;
	f->job = (struct commit_job){.run = failing_run, .done = failing_done, .arg = f};
	commit_submit(&f->job);
}

/* The first snapshot seen takes the stored failing_since; a later one (the endpoint edited or re-enabled)
 * starts with a clean bill of health. */
static void health_check_snapshot(struct ep_state *es, const struct ep_snap *s)
{
	if (es->seen_gen == s->gen)
		return;
	bool first = es->seen_gen == 0;
	es->seen_gen = s->gen;
	es->failures = 0;
	if (first)
		es->failing_since = s->ep.failing_since;
	else
		failing_set(es, s->ep.id, 0);
	es->paused_until = 0;
	es->cooldown = 0;
	es->probing = false;
	es->disabling = false;
}

static void health_record(struct ep_state *es, const struct endpoint *e, bool ok, long status)
{
	if (ok) {
		bool was_paused = es->paused_until != 0;
		es->failures = 0;
		failing_set(es, e->id, 0);
		es->paused_until = 0;
		es->cooldown = 0;
		es->probing = false;
		if (was_paused) {
			log_info("deliver: endpoint %s answers again; resuming", e->id);
			unpark_all(es);
		}
		return;
	}
	int64_t now = now_ms();
	es->failures++;
	if (es->failing_since == 0)
		failing_set(es, e->id, now);
	if (status == 410)
		endpoint_disable(es, e, "it answered 410 Gone");
	else if (now - es->failing_since >= cfg->disable_after_ms)
		endpoint_disable(es, e, "it has failed continuously for the disable-after period");
	/* Trip on a run of failures that has also lasted a while with no success in between: an endpoint that
	 * fails a message's first tries but takes its retries keeps succeeding, and must not be paused. */
	bool tripped = es->paused_until == 0 && es->failures >= cfg->breaker_failures &&
		       now - es->failing_since >= cfg->breaker_cooldown_ms;
	if (es->probing || tripped) {
		int64_t c = es->cooldown ? es->cooldown * 2 : cfg->breaker_cooldown_ms;
		es->cooldown = c > COOLDOWN_MAX_MS ? COOLDOWN_MAX_MS : c;
		es->paused_until = mono_ms() + es->cooldown;
		es->probing = false;
		es->wake_mono = es->paused_until;
		if (es->n > 0)
			enlist(es);
		log_info("deliver: endpoint %s paused for %lld ms after %d failures in a row", e->id,
			 (long long)es->cooldown, es->failures);
	}
}

/* ---- one transfer ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	size_t room = ATTEMPT_RESPONSE_MAX - x->resp.len;
	buf_append(&x->resp, p, n < room ? n : room); /* keep the first 20,000 bytes, read the rest */
	return n;
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
	return n;
}

/* The options every transfer shares, set once per easy handle: a handle is reused without curl_easy_reset
 * (which frees and rebuilds its state), and each transfer sets only what differs (xfer_begin). */
static void xfer_setup(struct xfer *x)
{
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
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
		x->next_all = all_xfers;
		all_xfers = x;
		xfer_setup(x);
	}
	buf_reset(&x->resp);
	x->errbuf[0] = '\0';
	x->retry_after_ms = -1;
	return x;
}

/* Custom headers never replace hookd's own, nor the scheme's signature headers (signed[0..n)). */
static bool reserved_header(const char *name, const struct hookd_header *signed_hdrs, int n)
{
	static const char *const ours[] = {"content-type", "user-agent", "webhook-id", "webhook-timestamp",
					   "webhook-signature", "content-length", "host", "expect"};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strcasecmp(name, ours[i]) == 0)
			return true;
	for (int i = 0; i < n; i++)
		if (strcasecmp(name, signed_hdrs[i].name) == 0)
			return true;
	return false;
}

/* The endpoint's signing config, rebuilt only when the endpoint changed or an old secret's grace ended. */
static const struct hookd_config *ep_signer(struct ep_state *es, const struct ep_snap *s)
{
	int64_t now = now_ms();
	if (es->signer != NULL && es->signer_gen == s->gen && now < es->signer_until)
		return es->signer;
	hookd_config_free(es->signer);
	es->signer = NULL;
	es->signer_gen = s->gen;
	if (signer_build(&s->ep, now, &es->signer, &es->signer_until) != HOOKD_OK)
		log_warnx("deliver: endpoint %s cannot sign (scheme %s); sending unsigned", s->ep.id,
			  s->ep.scheme ? s->ep.scheme : SIGNER_DEFAULT_SCHEME);
	return es->signer;
}

#define HEADER_LINE_MAX 8192

static void add_header(struct hdrset *h, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), need = nl + 2 + vl + 1;
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL || need > HEADER_LINE_MAX)
		return;
	if (h->len + need > h->cap) {
		h->cap = (h->len + need) * 2;
		h->buf = xrealloc(h->buf, h->cap);
	}
	if (h->n == h->ncap) {
		h->ncap = h->ncap ? h->ncap * 2 : 16;
		h->off = xrealloc(h->off, h->ncap * sizeof *h->off);
		h->nodes = xrealloc(h->nodes, h->ncap * sizeof *h->nodes);
	}
	char *p = h->buf + h->len;
	memcpy(p, name, nl);
	memcpy(p + nl, ": ", 2);
	memcpy(p + nl + 2, value, vl + 1);
	h->off[h->n++] = h->len;
	h->len += need;
}

/* Link the lines once the buffer stops moving. */
static struct curl_slist *hdrset_list(struct hdrset *h)
{
	for (size_t i = 0; i < h->n; i++) {
		h->nodes[i].data = h->buf + h->off[i];
		h->nodes[i].next = i + 1 < h->n ? &h->nodes[i + 1] : NULL;
	}
	return h->n > 0 ? &h->nodes[0] : NULL;
}

static void hdrset_dispose(struct hdrset *h)
{
	free(h->buf);
	free(h->off);
	free(h->nodes);
}

/* Signed at send time: the signature covers this attempt's timestamp. */
/* The header called name in an object of headers (any case), or NULL. */
static json_t *header_get(json_t *headers, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach(headers, k, v) {
		if (strcasecmp(k, name) == 0)
			return v;
	}
	return NULL;
}

static bool extra_has(json_t *extra, const char *name) { return header_get(extra, name) != NULL; }

/* An inbound destination's null header: nobody sends it, the provider or hookd (so a destination can do
 * without hookd's signature: {"webhook-signature": null, "webhook-timestamp": null}). */
static bool dropped(json_t *ep_headers, const char *name) { return json_is_null(header_get(ep_headers, name)); }

/* A forwarded message sends this header itself: the provider's copy, or a destination's rewrite of it. */
static bool forwarded_has(json_t *extra, json_t *ep_headers, const char *name)
{
	json_t *v = header_get(ep_headers, name);
	return extra_has(extra, name) && (v == NULL || json_is_string(v));
}

/* A forwarded (inbound) message's own headers: they win over hookd's signature headers of the same name, but
 * an inbound destination's headers rewrite them (a string replaces one, null drops it). */
static void add_extra(struct hdrset *h, json_t *extra, json_t *ep_headers)
{
	const char *k;
	json_t *v;
	json_object_foreach(extra, k, v) {
		if (json_is_string(v) && !extra_has(ep_headers, k))
			add_header(h, k, json_string_value(v));
	}
}

static struct curl_slist *build_headers(struct xfer *x)
{
	const struct message *m = &x->msg->m;
	const struct hookd_config *signer = ep_signer(x->es, x->ep);
	struct hookd_header hs[HOOKD_SIGN_HEADERS_MAX];
	char sbuf[HOOKD_SIGN_BUF_MAX];
	int n = signer == NULL ? 0
			       : hookd_sign(signer, m->id, now_ms() / 1000, m->payload, m->payload ? m->payload_len : 0,
					    hs, HOOKD_SIGN_HEADERS_MAX, sbuf, sizeof sbuf);
	if (n < 0) {
		log_warnx("deliver: signing %s for %s failed: %s", m->id, x->ep->ep.id, hookd_strerror(n));
		n = 0;
	}
	json_t *extra = m->extra_headers ? json_loads(m->extra_headers, 0, NULL) : NULL;
	struct hdrset *l = &x->hdrs;
	l->n = l->len = 0;
	add_header(l, "content-type", m->content_type ? m->content_type : "application/json");
	json_t *eph = x->ep->ep.headers;
	bool has_id = forwarded_has(extra, eph, "webhook-id") || dropped(eph, "webhook-id");
	for (int i = 0; i < n; i++) {
		if (forwarded_has(extra, eph, hs[i].name) || dropped(eph, hs[i].name))
			continue;
		add_header(l, hs[i].name, hs[i].value);
		has_id |= strcasecmp(hs[i].name, "webhook-id") == 0;
	}
	if (!has_id) /* every scheme's receivers get the message id to deduplicate on */
		add_header(l, "webhook-id", m->id);
	add_header(l, "Expect", ""); /* no 100-continue round trip */
	add_extra(l, extra, eph);
	const char *k;
	json_t *v;
	json_object_foreach(eph, k, v) {
		if (json_is_string(v) && (extra_has(extra, k) || !reserved_header(k, hs, n)))
			add_header(l, k, json_string_value(v));
	}
	json_decref(extra);
	return hdrset_list(l);
}

static void xfer_begin(struct xfer *x)
{
	CURL *e = x->easy;
	const struct message *m = &x->msg->m;
	curl_easy_setopt(e, CURLOPT_URL, x->ep->ep.url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, m->payload ? m->payload : "{}");
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(m->payload ? m->payload_len : 2));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, build_headers(x));
	x->start_mono = mono_ms();
	if (curl_multi_add_handle(multi, e) != CURLM_OK)
		fatalx("curl_multi_add_handle failed");
	x->es->inflight++;
	inflight++;
}

static void outcome_canceled(int64_t dkey, int attempts)
{
	struct outcome *o = outcome_add();
	o->dkey = dkey;
	o->new_status = DS_CANCELED;
	o->attempts = attempts;
	METRIC_ADD(deliveries_canceled, 1);
}

/* Load a delivery the heap knows only by key; NULL if it is no longer pending. */
static struct outmsg *load_delivery(struct sched_item *it)
{
	struct delivery d;
	struct message m;
	memset(&m, 0, sizeof m);
	if (store->q->delivery_load(store, it->dkey, &d, &m) != STORE_OK)
		return NULL;
	if (d.status != DS_PENDING) {
		message_dispose(&m);
		return NULL;
	}
	char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
	memcpy(ids[0], d.endpoint_id, ID_MAX);
	struct outmsg *om = outmsg_new(&m, ids, 1);
	om->dkeys[0] = d.dkey;
	om->trigger = d.trigger;
	if (it->attempts < 0)
		it->attempts = d.attempts;
	return om;
}

/* Start a due delivery, park it, or cancel it. Consumes the item's reference. */
static void start_item(struct sched_item *it)
{
	if (it->msg == NULL) {
		it->msg = load_delivery(it);
		it->ep_idx = 0;
		if (it->msg == NULL)
			return;
	}
	struct outmsg *om = it->msg;
	struct ep_snap *ep = cache_endpoint_ref(om->ep_ids[it->ep_idx]);
	if (ep == NULL || ep->ep.disabled) {
		outcome_canceled(it->dkey, it->attempts);
		if (ep != NULL)
			fifo_done(ep, it->dkey, DS_CANCELED);
		ep_snap_unref(ep);
		outmsg_unref(om);
		return;
	}
	struct ep_state *es = ep_state_get(ep->ep.id);
	health_check_snapshot(es, ep);
	if (!ep->ep.fifo && (es->fifo_head != 0 || es->fifo_wait.n > 0))
		fifo_release_all(es);
	if (ep->ep.fifo && om->trigger != TRIGGER_MANUAL && fifo_waits(es, &ep->ep, it)) {
		ep_snap_unref(ep);
		return;
	}
	if (breaker_holds(es, it)) {
		ep_snap_unref(ep);
		return;
	}
	if (es->inflight >= cfg->endpoint_inflight) {
		park(es, it);
		ep_snap_unref(ep);
		return;
	}
	int64_t rate = ep->ep.throttle_rate > 0 ? ep->ep.throttle_rate : cache_app_throttle(ep->ep.app_id);
	if (rate > 0 && !bucket_take(es, rate)) {
		throttle(es, it);
		ep_snap_unref(ep);
		return;
	}
	struct xfer *x = xfer_get();
	x->dkey = it->dkey;
	x->msg = om;
	x->idx = it->ep_idx;
	x->ep = ep;
	x->es = es;
	x->attempts = it->attempts;
	xfer_begin(x);
}

static void fill_attempt(struct attempt *a, const struct xfer *x, long status, CURLcode code)
{
	id_new("atmpt_", a->id);
	memcpy(a->msg_id, x->msg->m.id, ID_MAX);
	memcpy(a->endpoint_id, x->ep->ep.id, ID_MAX);
	memcpy(a->app_id, x->msg->m.app_id, ID_MAX);
	a->url = xstrdup(x->ep->ep.url);
	a->status_code = code == CURLE_OK ? (int)status : 0;
	a->duration_ms = mono_ms() - x->start_mono;
	if (code == CURLE_OK) {
		a->response = xstrndup(x->resp.data ? x->resp.data : "", x->resp.len);
		a->response_len = x->resp.len;
	} else {
		const char *err = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
		a->response = xstrdup(err);
		a->response_len = strlen(err);
	}
	a->trigger = x->msg->trigger;
	a->created_ms = now_ms();
}

static void xfer_release(struct xfer *x)
{
	curl_multi_remove_handle(multi, x->easy);
	x->es->inflight--;
	inflight--;
	unpark(x->es);
	ep_snap_unref(x->ep);
	outmsg_unref(x->msg);
	x->ep = NULL;
	x->msg = NULL;
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

static void xfer_finish(struct xfer *x, CURLcode code)
{
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	bool ok = code == CURLE_OK && status >= 200 && status <= 299;
	struct outcome *o = outcome_add();
	o->dkey = x->dkey;
	o->attempts = x->attempts + 1;
	fill_attempt(&o->attempt, x, status, code);
	o->attempt.status = ok ? DS_SUCCESS : DS_FAIL;
	health_record(x->es, &x->ep->ep, ok, code == CURLE_OK ? status : 0);
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
		if (delay >= 0) {
			o->next_ms = now_ms() + delay;
			/* Reload from the store when due: a long retry schedule must not pin payloads in memory. */
			struct sched_item it = {o->next_ms, x->dkey, NULL, 0, o->attempts};
			sched_push(&heap, &it);
		}
		log_debug("deliver: %s -> %s: %s (attempt %d)", x->msg->m.id, x->ep->ep.id,
			  code == CURLE_OK ? "HTTP error" : curl_easy_strerror(code), o->attempts);
	}
	fifo_done(x->ep, x->dkey, o->new_status);
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
		xfer_finish(x, msg->data.result);
	}
}

static void start_due(void)
{
	int64_t now = now_ms();
	const struct sched_item *top;
	while (inflight < cfg->max_inflight && (top = sched_peek(&heap)) != NULL && top->due_ms <= now) {
		struct sched_item it;
		sched_pop(&heap, &it);
		start_item(&it);
	}
}

static int poll_timeout_ms(void)
{
	const struct sched_item *top = sched_peek(&heap);
	int64_t wait = 1000;
	if (top != NULL && inflight < cfg->max_inflight)
		wait = top->due_ms - now_ms();
	int64_t t = throttled_next();
	if (t >= 0 && t < wait)
		wait = t;
	return wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
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
		inbox_drain();
		throttled_wake();
		if (!stop)
			start_due();
		else if (deadline == 0)
			deadline = mono_ms() + cfg->drain_timeout_ms;
		outcomes_flush();
		METRIC_SET(inflight, inflight);
		METRIC_SET(scheduled, (int64_t)heap.n + nparked);
		if (stop && (inflight == 0 || mono_ms() >= deadline))
			break;
		int running;
		curl_multi_poll(multi, NULL, 0, stop ? 100 : poll_timeout_ms(), NULL);
		curl_multi_perform(multi, &running);
		reap();
	}
	abort_inflight();
	outcomes_flush();
	return NULL;
}

void deliver_start(void)
{
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
	inbox_drain();
	sched_dispose(&heap);
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&ep_states, e, &i)) != NULL;) {
		struct ep_state *es = e->val;
		for (size_t k = 0; k < es->n; k++)
			outmsg_unref(es->parked[es->head + k].msg);
		free(es->parked);
		sched_dispose(&es->fifo_wait);
		hookd_config_free(es->signer);
		free(es);
	}
	hmap_dispose(&ep_states);
	free(throttled);
	throttled = NULL;
	nthrottled = capthrottled = 0;
	free_xfers = NULL;
	while (all_xfers != NULL) {
		struct xfer *x = all_xfers;
		all_xfers = x->next_all;
		curl_easy_cleanup(x->easy);
		buf_dispose(&x->resp);
		hdrset_dispose(&x->hdrs);
		free(x);
	}
	if (multi)
		curl_multi_cleanup(multi);
	multi = NULL;
}
