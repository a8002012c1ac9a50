/* gate.c: the per-endpoint gate (gate.h): fifo order, in-flight caps, token buckets, the circuit breaker and
 * endpoint health, held deliveries and their release. Dispatcher thread only. */
#include "gate.h"

#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "hookd.h"
#include "json.h"
#include "log.h"
#include "opevents.h"
#include "outmsg.h"
#include "registry.h"
#include "scheduler.h"

static const struct config *cfg;
static struct hmap ep_states;
static struct hmap app_states;      /* struct app_state: each app's share (fair shares, below) */
static struct heap released;        /* held deliveries whose turn came, for gate_take */
static struct ep_state **throttled; /* endpoints with deliveries parked for want of a token or a pause's end */
static size_t nthrottled, capthrottled;

void gate_init(const struct config *c)
{
	cfg = c;
	hmap_init(&ep_states);
	hmap_init(&app_states);
	heap_init(&released);
}

struct ep_state *gate_state(const char *ep_id)
{
	struct ep_state *es = hmap_get(&ep_states, ep_id);
	if (es == NULL) {
		es = xcalloc(1, sizeof *es);
		es->boot_oldest = sched->boot_oldest(ep_id);
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
	heap_push(&released, &es->parked[es->head]);
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

/* ---- fair shares ---- */

#define WINDOW_START 4 /* slots of an endpoint that has not answered yet: a hanging one holds no more */
#define STARVED_SCAN 16 /* starved endpoints looked at per freed slot */

struct app_state {
	int inflight;
};

static int total_inflight;
static struct ep_state **starved; /* held back by their app's share or the reserve, oldest first */
static size_t nstarved, capstarved;

static struct app_state *app_state(const char *app_id)
{
	struct app_state *as = hmap_get(&app_states, app_id);
	if (as == NULL) {
		as = xcalloc(1, sizeof *as);
		hmap_put(&app_states, app_id, as);
	}
	return as;
}

/* The endpoint's in-flight limit now: its window, grown by answers and halved by timeouts. */
static int window_of(struct ep_state *es)
{
	if (es->window == 0)
		es->window = WINDOW_START;
	return es->window < cfg->endpoint_inflight ? es->window : cfg->endpoint_inflight;
}

/* May an app start one more transfer? Under its share, and, when the budget is nearly spent, only if it holds
 * few: the reserve keeps room for apps that come with something to send while others hold the rest. */
static bool app_may_start(const struct app_state *as)
{
	int share = cfg->app_inflight > 0 ? cfg->app_inflight : cfg->max_inflight / 2;
	if (share < 1)
		share = 1;
	int reserve = cfg->max_inflight / 8, few = cfg->max_inflight / 16;
	return as->inflight < share && (cfg->max_inflight - total_inflight > reserve || as->inflight < few);
}

static void starve(struct ep_state *es)
{
	if (es->starved)
		return;
	es->starved = true;
	if (nstarved == capstarved) {
		capstarved = capstarved ? capstarved * 2 : 16;
		starved = xrealloc(starved, capstarved * sizeof *starved);
	}
	starved[nstarved++] = es;
}

static void starved_remove(size_t i)
{
	starved[i]->starved = false;
	memmove(starved + i, starved + i + 1, (nstarved - i - 1) * sizeof *starved);
	nstarved--;
}

/* A slot freed: the first starved endpoint that may start now sends its oldest held delivery. One that may not
 * yet goes to the back of the queue; one whose own window is full is woken by its own transfers' ends. */
static void starved_wake(void)
{
	for (size_t k = 0; k < STARVED_SCAN && nstarved > 0; k++) {
		struct ep_state *es = starved[0];
		if (es->n == 0 || es->inflight >= window_of(es)) {
			starved_remove(0);
			continue;
		}
		if (app_may_start(es->app)) {
			starved_remove(0);
			unpark(es);
			return;
		}
		memmove(starved, starved + 1, (nstarved - 1) * sizeof *starved);
		starved[nstarved - 1] = es;
	}
}

/* ---- ordered delivery ---- */

/* True if this delivery must wait for the endpoint's head (it is queued, keeping its reference). The first
 * time, the head is the endpoint's oldest delivery pending at start-up if it is older: after a restart the order
 * holds. (An endpoint made fifo later starts with the first of its deliveries that comes due.) */
static bool fifo_waits(struct ep_state *es, const struct sched_item *it)
{
	if (!es->fifo_init) {
		es->fifo_init = true;
		if (es->boot_oldest != 0 && es->boot_oldest < it->dkey)
			es->fifo_head = es->boot_oldest;
		es->boot_oldest = 0;
	}
	if (es->fifo_head == 0)
		es->fifo_head = it->dkey;
	if (es->fifo_head == it->dkey)
		return false;
	struct sched_item w = *it;
	w.due_ms = it->dkey; /* the heap orders by due_ms first: order by key */
	w.dkey = it->due_ms;
	heap_push(&es->fifo_wait, &w);
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
	heap_pop(&es->fifo_wait, &next);
	nparked--;
	int64_t key = next.due_ms, now = now_ms();
	next.due_ms = next.dkey > now ? next.dkey : now;
	next.dkey = key;
	es->fifo_head = key;
	heap_push(&released, &next);
}

/* The endpoint left fifo ordering: everything waiting goes out as usual. */
static void fifo_release_all(struct ep_state *es)
{
	while (es->fifo_wait.n > 0)
		fifo_next(es);
	es->fifo_head = 0;
	es->fifo_init = false;
	es->boot_oldest = 0; /* delivered out of order now: no longer a head to wait for */
}

void gate_outcome(const char *endpoint_id, int64_t dkey, int new_status)
{
	struct ep_state *es = hmap_get(&ep_states, endpoint_id);
	if (es != NULL && es->fifo_head == dkey && new_status != DS_PENDING)
		fifo_next(es);
}

/* ---- endpoint health: circuit breaker and auto-disable ---- */

#define COOLDOWN_MAX_MS (10 * 60 * 1000)
#define PROBING_WAIT_MS (3600 * 1000) /* parked behind a probe: woken by its outcome, not by time */

/* Publish es's health on the board (ephealth.h) when it changed, for the API's figures. */
static void publish(struct ep_state *es, const char *endpoint_id)
{
	struct ephealth h;
	memset(&h, 0, sizeof h); /* compared whole, padding included */
	h.breaker = es->paused_until == 0 ? BREAKER_CLOSED : es->probing ? BREAKER_HALF_OPEN : BREAKER_OPEN;
	h.failures = es->failures;
	h.failing_since = es->failing_since;
	h.opened_ms = es->opened_ms;
	h.retry_ms = es->paused_until != 0 && !es->probing ? es->retry_ms : 0;
	h.closed_ms = es->closed_ms;
	h.disabled_reason = es->disabled_reason;
	h.disabled_ms = es->disabled_ms;
	if (es->published && memcmp(&h, &es->pub, sizeof h) == 0)
		return;
	es->pub = h;
	es->published = true;
	ephealth_put(endpoint_id, &h);
}

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
	if (rc == STORE_OK)
		commit_change(&d->job, &(struct change){.kind = CHANGE_ENDPOINT_DISABLED, .id = d->endpoint_id,
							.disabled = true, .updated_ms = d->at});
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static void disable_done(void *arg, int rc)
{
	struct disable_job *d = arg;
	struct ep_snap *s = rc == STORE_OK ? cache_endpoint_ref(d->endpoint_id) : NULL;
	if (s != NULL) {
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

static void endpoint_disable(struct ep_state *es, const struct endpoint *e, int reason, const char *why)
{
	if (es->disabling)
		return;
	es->disabling = true;
	log_warnx("deliver: endpoint %s (%s) disabled: %s", e->id, e->url, why);
	struct disable_job *d = xcalloc(1, sizeof *d);
	memcpy(d->endpoint_id, e->id, ID_MAX);
	d->at = now_ms();
	es->disabled_reason = reason;
	es->disabled_ms = d->at;
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
	int rc = st->w->endpoint_set_failing(st, f->endpoint_id, f->since);
	/* a shared database: the other nodes reload the endpoint, so that its next owner counts on from here */
	if (rc == STORE_OK && st->w->note_change != NULL)
		st->w->note_change(st, "endpoint", f->endpoint_id);
	return rc;
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
 * starts with a clean bill of health. A snapshot of the same version (updated_ms), reloaded because another
 * node wrote it (its failing_since) or after a resync, is no edit. */
static void health_check_snapshot(struct ep_state *es, const struct ep_snap *s)
{
	if (es->seen_gen == s->gen)
		return;
	bool first = es->seen_gen == 0;
	es->seen_gen = s->gen;
	if (!first && s->ep.updated_ms == es->seen_updated_ms)
		return;
	es->seen_updated_ms = s->ep.updated_ms;
	es->failures = 0;
	es->window = 0;
	if (first)
		es->failing_since = s->ep.failing_since;
	else
		failing_set(es, s->ep.id, 0);
	es->paused_until = 0;
	es->cooldown = 0;
	es->probing = false;
	es->disabling = false;
	if (!(s->ep.disabled && s->ep.updated_ms == es->disabled_ms)) { /* not the snapshot of its own disable */
		es->disabled_reason = DISABLED_NONE;
		es->disabled_ms = 0;
	}
}

void gate_health(struct ep_state *es, const struct endpoint *e, bool ok, long status, bool timed_out)
{
	/* the window: one more slot per answer (doubling per round trip, as TCP's slow start), half on a timeout */
	window_of(es); /* set if an edit reset it since the last admission */
	if (ok && es->window < cfg->endpoint_inflight)
		es->window++;
	else if (timed_out && es->window > 1)
		es->window /= 2;
	if (ok) {
		bool was_paused = es->paused_until != 0;
		es->failures = 0;
		failing_set(es, e->id, 0);
		es->paused_until = 0;
		es->cooldown = 0;
		es->probing = false;
		if (was_paused) {
			es->closed_ms = now_ms();
			log_info("deliver: endpoint %s answers again; resuming", e->id);
			unpark_all(es);
		}
		publish(es, e->id);
		return;
	}
	int64_t now = now_ms();
	es->failures++;
	if (es->failing_since == 0)
		failing_set(es, e->id, now);
	if (status == 410)
		endpoint_disable(es, e, DISABLED_GONE, "it answered 410 Gone");
	else if (now - es->failing_since >= cfg->disable_after_ms)
		endpoint_disable(es, e, DISABLED_FAILING, "it has failed continuously for the disable-after period");
	/* Trip on a run of failures that has also lasted a while with no success in between: an endpoint that
	 * fails a message's first tries but takes its retries keeps succeeding, and must not be paused. */
	bool tripped = es->paused_until == 0 && es->failures >= cfg->breaker_failures &&
		       now - es->failing_since >= cfg->breaker_cooldown_ms;
	if (es->probing || tripped) {
		int64_t c = es->cooldown ? es->cooldown * 2 : cfg->breaker_cooldown_ms;
		es->cooldown = c > COOLDOWN_MAX_MS ? COOLDOWN_MAX_MS : c;
		es->paused_until = mono_ms() + es->cooldown;
		if (!es->probing)
			es->opened_ms = now;
		es->retry_ms = now + es->cooldown;
		es->probing = false;
		es->wake_mono = es->paused_until;
		if (es->n > 0)
			enlist(es);
		log_info("deliver: endpoint %s paused for %lld ms after %d failures in a row", e->id,
			 (long long)es->cooldown, es->failures);
	}
	publish(es, e->id);
}

/* ---- the dispatcher's calls ---- */

bool gate_admit(struct ep_state *es, const struct ep_snap *ep, int trigger, const struct sched_item *it)
{
	health_check_snapshot(es, ep);
	if (!ep->ep.fifo && (es->fifo_head != 0 || es->fifo_wait.n > 0 || es->boot_oldest != 0))
		fifo_release_all(es);
	if (ep->ep.fifo && trigger != TRIGGER_MANUAL && fifo_waits(es, it))
		return false;
	bool held = breaker_holds(es, it);
	publish(es, ep->ep.id); /* an edit's reset, a probe let through */
	if (held)
		return false;
	if (es->inflight >= window_of(es)) {
		park(es, it);
		return false;
	}
	if (es->app == NULL)
		es->app = app_state(ep->ep.app_id);
	if (!app_may_start(es->app)) {
		park(es, it);
		starve(es);
		return false;
	}
	int64_t rate = ep->ep.throttle_rate > 0 ? ep->ep.throttle_rate : cache_app_throttle(ep->ep.app_id);
	if (rate > 0 && !bucket_take(es, rate)) {
		throttle(es, it);
		return false;
	}
	return true;
}

void gate_started(struct ep_state *es)
{
	es->inflight++;
	es->app->inflight++;
	total_inflight++;
}

void gate_finished(struct ep_state *es)
{
	es->inflight--;
	es->app->inflight--;
	total_inflight--;
	/* as many as its window has room for: an answer may have just grown it */
	for (int room = window_of(es) - es->inflight; room > 0 && es->n > 0; room--)
		unpark(es);
	starved_wake();
}

size_t gate_take(int64_t now, struct sched_item *out, size_t max)
{
	throttled_wake();
	size_t n = 0;
	const struct sched_item *top;
	while (n < max && (top = heap_peek(&released)) != NULL && top->due_ms <= now)
		heap_pop(&released, &out[n++]);
	return n;
}

int64_t gate_wait_ms(int64_t now)
{
	int64_t w = throttled_next();
	const struct sched_item *top = heap_peek(&released);
	if (top != NULL) {
		int64_t r = top->due_ms > now ? top->due_ms - now : 0;
		if (w < 0 || r < w)
			w = r;
	}
	return w;
}

size_t gate_held(void) { return (size_t)nparked + released.n; }

static void state_free(struct ep_state *es)
{
	for (size_t k = 0; k < es->n; k++)
		outmsg_unref(es->parked[es->head + k].msg);
	nparked -= (int64_t)(es->n + es->fifo_wait.n);
	free(es->parked);
	heap_dispose(&es->fifo_wait);
	hookd_config_free(es->signer);
	for (size_t i = 0; i < nstarved; i++)
		if (starved[i] == es) {
			starved_remove(i);
			break;
		}
	for (size_t i = 0; i < nthrottled; i++)
		if (throttled[i] == es) {
			throttled[i] = throttled[--nthrottled];
			break;
		}
	free(es);
}

bool gate_drop(const char *endpoint_id)
{
	struct ep_state *es = hmap_get(&ep_states, endpoint_id);
	if (es == NULL)
		return true;
	if (es->inflight > 0)
		return false; /* still draining: dropped when asked again */
	hmap_del(&ep_states, endpoint_id);
	state_free(es);
	ephealth_forget(endpoint_id);
	return true;
}

void gate_dispose(void)
{
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&ep_states, e, &i)) != NULL;)
		state_free(e->val);
	hmap_dispose(&ep_states);
	ephealth_dispose();
	i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&app_states, e, &i)) != NULL;)
		free(e->val);
	hmap_dispose(&app_states);
	free(starved);
	starved = NULL;
	nstarved = capstarved = 0;
	total_inflight = 0;
	heap_dispose(&released);
	free(throttled);
	throttled = NULL;
	nthrottled = capthrottled = 0;
	nparked = 0;
}
