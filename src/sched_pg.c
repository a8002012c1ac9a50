/* sched_pg.c: the schedule of a shared database (PostgreSQL): this node sends for the endpoints it holds a lease
 * on, and several nodes share the endpoints fairly (docs/scaling.md, "Several nodes").
 *
 * The cluster thread, on the store's cluster connection, ticks about every tenth of the lease time: heartbeat,
 * renew, claim up to the fair share ceil(endpoints / live nodes), shed what is over it. Between ticks it listens
 * for other nodes' commits ("p <endpoint> <due> <keys>": deliveries made pending, sent after each commit) and
 * schedules those of its endpoints straight from the note (sched_pg_notes.c; each is read when it comes due); a
 * periodic scan of its endpoints' pending deliveries is the safety net for a notification lost with the listening
 * connection or with the node that sent it (and runs after it reconnects).
 *
 * Each key in the schedule is in a key set with its endpoint and a state (scheduled, or out: handed to the
 * dispatcher), so the overlapping sources (the claim's read, local commits, notifications, scans, retries)
 * never put a delivery in twice; a final outcome (settled) takes it out. An endpoint's record is made before its
 * claim's read, so a commit that the read misses is admitted when it arrives; deliveries of an endpoint whose
 * read is still running wait (deferred), so fifo's head is known before anything of it starts.
 *
 * Fifo endpoints: this node's own commits for them are not scheduled as they are made (payload in memory) but read
 * when their own notification comes back (while this node owns a fifo endpoint, its own "p" entries are read).
 * PostgreSQL delivers notifications in the order they commit, and a node answers 202 only once its notification
 * is sent, so a message another node accepted before this node accepted the next one is heard first, in the same
 * wake-up or an earlier one, and comes due first: the local one cannot overtake it. A commit whose notification
 * went by before this node knew it owned a fifo endpoint waits for a later one (a node's commits are one
 * committer's, so its keys grow in commit order: a key is echoed once a notification of this node named a key at
 * least as high), or a second.
 *
 * Losing an endpoint (shed, a lease not renewed, or no renewal for most of the lease time): its keys leave the
 * set at once and the dispatcher drops what comes due of it; once its transfers in flight are done and their
 * outcomes committed (the dispatcher's release, a committer barrier behind them), the lease row is deleted and
 * the next owner reads everything that is pending.
 *
 * Threads: the record map, the key set and the lost/release lists under pg_mu; the heap and inbox are the core's
 * (sched_core.h); the deferred list is the dispatcher's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "commit.h"
#include "feed.h"
#include "keyset.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "sched_core.h"
#include "scheduler.h"
#include "sched_pg_int.h"

#define SCAN_MS 30000 /* the safety-net scan of owned endpoints' pending deliveries */
#define LISTEN_MS 250 /* the longest wait for notifications: how soon the thread sees a stop */

static struct store *store;
static void (*wake_fn)(void);
/* A lease row lives row_ms = lease - tick from its renewal: the others claim at their first tick after it
 * expires, so a dead node's endpoints are taken over within the lease time (--lease-time), not a tick later. */
static int64_t lease_ms, tick_ms, row_ms;

pthread_mutex_t pg_mu = PTHREAD_MUTEX_INITIALIZER;
struct hmap pg_owned;
struct keyset pg_keys;
static struct idvec lost_q, release_q;

static pthread_t cl_thread;
static bool cl_running;
static int cl_stop; /* atomic */


static struct sched_vec deferred; /* dispatcher thread: items of endpoints whose claim's read is running */

static bool owner_gone(const void *owner) { return ((const struct own *)owner)->state == OWN_GONE; }

/* ---- the core's hooks ---- */

static bool fifo_endpoint(const char *endpoint_id)
{
	struct ep_snap *s = cache_endpoint_ref(endpoint_id);
	bool fifo = s != NULL && s->ep.fifo;
	ep_snap_unref(s);
	return fifo;
}

static bool pg_admit(int64_t dkey, const char *endpoint_id)
{
	bool ok = false;
	pthread_mutex_lock(&pg_mu); /* then the cache's lock: never the other way round */
	struct own *o = hmap_get(&pg_owned, endpoint_id);
	if (!own_active(o)) {
		/* another node's: it hears of the commit */
	} else if (fifo_endpoint(endpoint_id)) { /* read in commit order with the other nodes' commits, once echoed */
		__atomic_store_n(&pg_owns_fifo, 1, __ATOMIC_RELAXED);
		pg_echo_add(dkey, mono_ms());
	} else {
		ok = keyset_add(&pg_keys, dkey, o, K_SCHED);
	}
	pthread_mutex_unlock(&pg_mu);
	return ok;
}

static void pg_dropped(int64_t dkey)
{
	pthread_mutex_lock(&pg_mu);
	struct kent *e = keyset_get(&pg_keys, dkey);
	if (e != NULL && e->state == K_SCHED)
		keyset_del(&pg_keys, dkey);
	pthread_mutex_unlock(&pg_mu);
}

static const struct sched_core_hooks hooks = {.admit = pg_admit, .dropped = pg_dropped};

/* ---- keys from the store (the cluster thread) ---- */

/* A pending delivery read from the store: scheduled if its endpoint is ours and it is not in the set yet. */
static void found_cb(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	struct found *f = arg;
	pthread_mutex_lock(&pg_mu);
	struct own *o = hmap_get(&pg_owned, endpoint_id);
	if (own_active(o)) {
		if (f->claim && o->state == OWN_LOADING && (o->boot_oldest == 0 || dkey < o->boot_oldest))
			o->boot_oldest = dkey;
		if (keyset_add(&pg_keys, dkey, o, K_SCHED))
			sched_vec_add(&f->items, &(struct sched_item){due_at(next_ms), dkey, NULL, 0, -1});
	}
	pthread_mutex_unlock(&pg_mu);
}

static void found_push(struct found *f)
{
	core_push(f->items.v, f->items.n);
	free(f->items.v);
	f->items = (struct sched_vec){0};
}

/* ---- ownership (the cluster thread) ---- */

static struct own *own_new(const char *id)
{
	struct own *o = xcalloc(1, sizeof *o);
	snprintf(o->id, sizeof o->id, "%s", id);
	o->state = OWN_LOADING;
	hmap_put(&pg_owned, o->id, o);
	return o;
}

/* Under mu: the endpoint is no longer ours to send; the dispatcher drains it and calls release. */
static void own_lose(struct own *o)
{
	o->state = OWN_GONE;
	o->boot_oldest = 0;
	idvec_add(&lost_q, o->id);
}

/* Claimed (or found held): ours from now; a record being released is taken back. */
static void own_take(const char *id)
{
	struct own *o = hmap_get(&pg_owned, id);
	if (o == NULL)
		o = own_new(id);
	else if (o->state == OWN_GONE)
		o->state = OWN_LOADING;
	o->seen = true;
}

static size_t count_active(void)
{
	size_t n = 0, i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;)
		n += own_active(e->val);
	return n;
}

/* Every endpoint lost at once (the lease could not be renewed in time). */
static void lose_all(const char *why)
{
	pthread_mutex_lock(&pg_mu);
	size_t n = 0, i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;)
		if (own_active(e->val)) {
			own_lose(e->val);
			n++;
		}
	keyset_drop_owners(&pg_keys, owner_gone);
	pthread_mutex_unlock(&pg_mu);
	if (n > 0) {
		log_warnx("sched: %zu endpoints given up: %s", n, why);
		wake_fn(); /* the dispatcher drains them now */
	}
}

/* The renewal's answer is the truth: what it returned is ours (even a lease whose claim's answer was lost),
 * the rest is not. */
static void apply_renewal(const struct idvec *held)
{
	pthread_mutex_lock(&pg_mu);
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;)
		((struct own *)e->val)->seen = false;
	for (size_t k = 0; k < held->n; k++) {
		struct own *o = hmap_get(&pg_owned, held->v[k]);
		if (o == NULL || o->state != OWN_GONE) /* a shed one stays gone until released */
			own_take(held->v[k]);
		else
			o->seen = true;
	}
	size_t lost = 0;
	i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;) {
		struct own *o = e->val;
		if (own_active(o) && !o->seen) {
			own_lose(o);
			lost++;
		}
	}
	if (lost > 0)
		keyset_drop_owners(&pg_keys, owner_gone);
	pthread_mutex_unlock(&pg_mu);
	if (lost > 0) {
		log_warnx("sched: %zu endpoint leases lost (expired or taken over)", lost);
		wake_fn();
	}
}

/* Over the fair share: give up the excess (drained, then released). */
static void shed(size_t excess)
{
	pthread_mutex_lock(&pg_mu);
	size_t n = 0, i = 0;
	for (struct hent *e = NULL; n < excess && (e = hmap_next(&pg_owned, e, &i)) != NULL;) {
		struct own *o = e->val;
		if (o->state == OWN_OWNED) {
			own_lose(o);
			n++;
		}
	}
	keyset_drop_owners(&pg_keys, owner_gone);
	pthread_mutex_unlock(&pg_mu);
	if (n > 0) {
		log_info("sched: handing %zu endpoints over to other nodes", n);
		wake_fn(); /* drained and released without waiting for the dispatcher's next round */
	}
}

static bool is_loading(const struct own *o) { return o->state == OWN_LOADING; }
static bool is_owned(const struct own *o) { return o->state == OWN_OWNED; }

/* The ids of the endpoint records for which pick is true, copied out under pg_mu. */
static void ids_where(bool (*pick)(const struct own *), struct idvec *ids)
{
	pthread_mutex_lock(&pg_mu);
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;)
		if (pick(e->val))
			idvec_add(ids, ((struct own *)e->val)->id);
	pthread_mutex_unlock(&pg_mu);
}

/* Read the pending deliveries of the endpoints just claimed; then they are owned (their deferred items go). */
static void load_claimed(void)
{
	struct idvec ids = {0};
	ids_where(is_loading, &ids);
	if (ids.n == 0)
		return;
	struct found f = {.claim = true};
	int rc = store->c->pending_of(store, (const char(*)[ID_MAX])ids.v, ids.n, found_cb, &f);
	size_t found = f.items.n;
	found_push(&f);
	if (rc == STORE_OK) {
		pthread_mutex_lock(&pg_mu);
		for (size_t k = 0; k < ids.n; k++) {
			struct own *o = hmap_get(&pg_owned, ids.v[k]);
			if (o != NULL && o->state == OWN_LOADING)
				o->state = OWN_OWNED;
		}
		pthread_mutex_unlock(&pg_mu);
		log_info("sched: %zu endpoints claimed, %zu deliveries pending", ids.n, found);
		wake_fn();
	}
	idvec_free(&ids);
}

/* Leases drained by the dispatcher (release_q): delete their rows, forget the records. */
static void release_drained(void)
{
	struct idvec ids = {0};
	pthread_mutex_lock(&pg_mu);
	for (size_t k = 0; k < release_q.n; k++) {
		struct own *o = hmap_get(&pg_owned, release_q.v[k]);
		if (o != NULL && o->state == OWN_GONE) /* not taken back meanwhile */
			idvec_add(&ids, o->id);
	}
	release_q.n = 0;
	pthread_mutex_unlock(&pg_mu);
	if (ids.n == 0)
		return;
	int rc = store->c->release(store, node_id(), (const char(*)[ID_MAX])ids.v, ids.n);
	pthread_mutex_lock(&pg_mu);
	for (size_t k = 0; k < ids.n; k++) {
		if (rc != STORE_OK) { /* again at the next tick */
			idvec_add(&release_q, ids.v[k]);
			continue;
		}
		struct own *o = hmap_get(&pg_owned, ids.v[k]);
		if (o != NULL && o->state == OWN_GONE) {
			hmap_del(&pg_owned, ids.v[k]);
			free(o);
		}
	}
	pthread_mutex_unlock(&pg_mu);
	idvec_free(&ids);
}

static int64_t renewed_at; /* monotonic ms when the last successful renewal was sent */

/* Whether this node owns a fifo endpoint now (or an endpoint became fifo: pg_admit sets it at once). */
static void check_fifo(void)
{
	struct idvec ids = {0};
	ids_where(own_active, &ids);
	bool any = false;
	for (size_t k = 0; k < ids.n && !any; k++)
		any = fifo_endpoint(ids.v[k]);
	__atomic_store_n(&pg_owns_fifo, any, __ATOMIC_RELAXED);
	idvec_free(&ids);
}

/* Returns whether fewer nodes live than at the last tick: one that died may have held back notes of deliveries
 * for endpoints of ours (NOTE_LATER), so the caller scans at once rather than within SCAN_MS. */
static bool tick(void)
{
	static int last_live;
	int live = 1;
	int64_t endpoints = 0, sent = mono_ms();
	struct idvec held = {0};
	if (store->c->beat(store, node_id(), row_ms, &live, &endpoints) != STORE_OK ||
	    store->c->renew(store, node_id(), row_ms, &held) != STORE_OK) {
		idvec_free(&held);
		/* stop sending well before the leases expire, so two nodes never both send for an endpoint */
		if (mono_ms() > renewed_at + row_ms - 2 * tick_ms)
			lose_all("the leases could not be renewed");
		release_drained();
		return false;
	}
	bool left = live < last_live;
	last_live = live;
	renewed_at = sent;
	apply_renewal(&held);
	idvec_free(&held);
	feed_peers(live - 1); /* the nodes a registry write waits for (feed.h) */
	commit_siblings(live - 1); /* whether a busy batch waits for more (commit.h) */
	METRIC_SET(cluster_nodes, live);
	if (live < 1)
		live = 1;
	size_t share = (size_t)((endpoints + live - 1) / live);
	pthread_mutex_lock(&pg_mu);
	size_t have = count_active();
	pthread_mutex_unlock(&pg_mu);
	if (have < share) {
		struct idvec got = {0};
		if (store->c->claim(store, node_id(), row_ms, share - have, &got) == STORE_OK) {
			pthread_mutex_lock(&pg_mu);
			for (size_t k = 0; k < got.n; k++)
				own_take(got.v[k]);
			pthread_mutex_unlock(&pg_mu);
		}
		idvec_free(&got);
	} else if (have > share) {
		shed(have - share);
	}
	load_claimed();
	release_drained();
	pthread_mutex_lock(&pg_mu);
	METRIC_SET(cluster_endpoints, (int64_t)count_active());
	pthread_mutex_unlock(&pg_mu);
	check_fifo();
	return left;
}

/* Every pending delivery of the endpoints owned (the safety net; after the listening connection came back). */
static void scan_owned(void)
{
	struct idvec ids = {0};
	ids_where(is_owned, &ids);
	struct found f = {0};
	if (ids.n > 0 && store->c->pending_of(store, (const char(*)[ID_MAX])ids.v, ids.n, found_cb, &f) == STORE_OK &&
	    f.items.n > 0)
		log_info("sched: the scan found %zu pending deliveries not yet scheduled", f.items.n);
	found_push(&f);
	idvec_free(&ids);
}

static void *cluster_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sched-cluster");
	int64_t next_tick = 0, next_scan = mono_ms() + SCAN_MS;
	bool scan = false;
	struct heard h = {0};
	while (!__atomic_load_n(&cl_stop, __ATOMIC_ACQUIRE)) {
		int64_t now = mono_ms();
		if (now >= next_tick || h.claim) {
			h.claim = false;
			scan |= tick();
			if (feed_again()) /* at most once a tick while the database does not answer */
				feed_resync();
			next_tick = mono_ms() + tick_ms;
		}
		if (scan || now >= next_scan) {
			scan = false;
			scan_owned();
			next_scan = mono_ms() + SCAN_MS;
		}
		int64_t wait = next_tick - mono_ms();
		wait = wait < 0 ? 0 : wait > LISTEN_MS ? LISTEN_MS : wait;
		bool resync = false;
		h.n = 0;
		h.scan = h.own_scan = false;
		h.own_max = 0;
		store->c->wait(store, (int)wait, pg_heard_cb, &h, &resync);
		scan |= resync || h.scan;
		if (resync)
			feed_resync(); /* notifications may have been missed: every registry is read again */
		feed_flush();
		feed_expire();
		size_t foreign = h.n;
		pg_echoes_ready(&h);
		/* one push for what the notes named and what was read, so fifo's order is that of the notes */
		if (h.n > 0 && store->c->pending_in(store, h.lo, h.hi, h.n, found_cb, &h.found) != STORE_OK)
			pg_echoes_again(&h, foreign); /* the other nodes' keys: the scan after the reconnect */
		if (h.found.items.n > 0)
			found_push(&h.found);
	}
	free(h.found.items.v);
	free(h.lo);
	free(h.hi);
	return NULL;
}

/* ---- the backend ---- */

/* A commit of this node's for an endpoint it holds needs no notification: it is scheduled from memory. A fifo
 * endpoint's deliveries are named before their clients are answered, whoever owns it (its owner reads its own in
 * commit order from their notification); another node's other endpoints' a little later, several batches'
 * notes in one NOTIFY. */
static enum note_class pg_note_class_of(const char *endpoint_id)
{
	pthread_mutex_lock(&pg_mu);
	bool own = own_active(hmap_get(&pg_owned, endpoint_id));
	pthread_mutex_unlock(&pg_mu);
	if (fifo_endpoint(endpoint_id)) /* the cache's lock after mu, never under it */
		return NOTE_NOW;
	return own ? NOTE_NONE : NOTE_LATER;
}

static int pg_init(const struct config *cfg, struct store *st, void (*wake)(void))
{
	store = st;
	wake_fn = wake;
	lease_ms = cfg->lease_time_ms;
	tick_ms = lease_ms / 10 < 1000 ? lease_ms / 10 : 1000;
	row_ms = lease_ms - tick_ms;
	hmap_init(&pg_owned);
	core_init(st, wake, &hooks);
	st->c->set_note_class(st, pg_note_class_of);
	renewed_at = mono_ms();
	log_info("sched: node %s; endpoints shared with the other nodes by leases of %lld ms", node_id(),
		 (long long)lease_ms);
	return 0;
}

static void pg_start(void)
{
	core_start();
	__atomic_store_n(&cl_stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&cl_thread, NULL, cluster_main, NULL) != 0)
		fatal("sched: pthread_create");
	cl_running = true;
}

static void pg_stop(void)
{
	if (cl_running) {
		__atomic_store_n(&cl_stop, 1, __ATOMIC_RELEASE);
		pthread_join(cl_thread, NULL);
		cl_running = false;
	}
	core_stop();
}

/* Committed retries: back in the schedule if the endpoint is still ours (an endpoint lost meanwhile is read by its
 * next owner, after these outcomes' commit). */
static void pg_retry(const struct sched_item *v, size_t n)
{
	struct sched_item *keep = n > 0 ? xmalloc(n * sizeof *keep) : NULL;
	size_t k = 0;
	pthread_mutex_lock(&pg_mu);
	for (size_t i = 0; i < n; i++) {
		struct kent *e = keyset_get(&pg_keys, v[i].dkey);
		if (e != NULL && e->state == K_OUT) {
			e->state = K_SCHED;
			keep[k++] = v[i];
		} else if (v[i].msg != NULL) {
			outmsg_unref(v[i].msg); /* no longer ours */
		}
	}
	pthread_mutex_unlock(&pg_mu);
	core_push(keep, k);
	free(keep);
}

static void pg_settled(const int64_t *dkeys, size_t n)
{
	pthread_mutex_lock(&pg_mu);
	for (size_t i = 0; i < n; i++) {
		struct kent *e = keyset_get(&pg_keys, dkeys[i]);
		if (e != NULL && e->state == K_OUT)
			keyset_del(&pg_keys, dkeys[i]);
	}
	pthread_mutex_unlock(&pg_mu);
}

enum verdict { V_TAKE, V_DROP, V_DEFER };

/* Under mu: may this due item (message loaded) go to the dispatcher? */
static enum verdict judge(const struct sched_item *it)
{
	struct own *o = hmap_get(&pg_owned, it->msg->ep_ids[it->ep_idx]);
	struct kent *e = keyset_get(&pg_keys, it->dkey);
	if (!own_active(o) || e == NULL || e->owner != o || e->state != K_SCHED)
		return V_DROP; /* not ours, or a copy of one that is out already */
	if (o->state == OWN_LOADING)
		return V_DEFER;
	e->state = K_OUT;
	return V_TAKE;
}

static size_t pg_take(int64_t now, struct sched_item *out, size_t max)
{
	size_t n = 0, kept = 0;
	struct outmsg *drop[64];
	size_t ndrop = 0;
	pthread_mutex_lock(&pg_mu);
	for (size_t i = 0; i < deferred.n; i++) {
		enum verdict v = n < max ? judge(&deferred.v[i]) : V_DEFER;
		if (v == V_TAKE)
			out[n++] = deferred.v[i];
		else if (v == V_DEFER)
			deferred.v[kept++] = deferred.v[i];
		else
			outmsg_unref(deferred.v[i].msg);
	}
	deferred.n = kept;
	pthread_mutex_unlock(&pg_mu);
	while (n < max) {
		size_t k = core_take(now, out + n, max - n);
		if (k == 0)
			break;
		pthread_mutex_lock(&pg_mu);
		size_t w = n;
		for (size_t i = n; i < n + k; i++) {
			enum verdict v = judge(&out[i]);
			if (v == V_TAKE)
				out[w++] = out[i];
			else if (v == V_DEFER)
				sched_vec_add(&deferred, &out[i]);
			else if (ndrop < 64)
				drop[ndrop++] = out[i].msg;
			else
				outmsg_unref(out[i].msg);
		}
		pthread_mutex_unlock(&pg_mu);
		for (size_t i = 0; i < ndrop; i++)
			outmsg_unref(drop[i]);
		ndrop = 0;
		n = w;
	}
	return n;
}

static size_t pg_count(void) { return core_count() + deferred.n; }

static int64_t pg_boot_oldest(const char *endpoint_id)
{
	pthread_mutex_lock(&pg_mu);
	struct own *o = hmap_get(&pg_owned, endpoint_id);
	int64_t k = o != NULL ? o->boot_oldest : 0;
	if (o != NULL)
		o->boot_oldest = 0;
	pthread_mutex_unlock(&pg_mu);
	return k;
}

static bool pg_owns(const char *endpoint_id)
{
	pthread_mutex_lock(&pg_mu);
	bool ok = own_active(hmap_get(&pg_owned, endpoint_id));
	pthread_mutex_unlock(&pg_mu);
	return ok;
}

/* Releases whose barrier failed (the database unavailable), to be drained and released again: until then the
 * record stays gone and this node keeps renewing the lease, so nobody else would ever send for the endpoint. The
 * next try waits until the outcomes kept by that failure (queue.c: written again after a second) have been
 * submitted again, ahead of the next barrier. Under mu. */
#define RELEASE_AGAIN_MS 1500

struct again {
	char id[ID_MAX];
	int64_t at; /* monotonic ms */
};
static struct again *again_v;
static size_t again_n, again_cap;

static size_t pg_lost(char (*out)[ID_MAX], size_t max)
{
	pthread_mutex_lock(&pg_mu);
	int64_t now = mono_ms();
	size_t kept = 0;
	for (size_t i = 0; i < again_n; i++) {
		struct own *o = hmap_get(&pg_owned, again_v[i].id);
		if (o == NULL || o->state != OWN_GONE)
			continue; /* released meanwhile, or taken back */
		if (again_v[i].at <= now)
			idvec_add(&lost_q, again_v[i].id);
		else
			again_v[kept++] = again_v[i];
	}
	again_n = kept;
	size_t n = lost_q.n < max ? lost_q.n : max;
	if (n == 0) {
		pthread_mutex_unlock(&pg_mu);
		return 0;
	}
	memcpy(out, lost_q.v, n * sizeof *out);
	memmove(lost_q.v, lost_q.v + n, (lost_q.n - n) * sizeof *lost_q.v);
	lost_q.n -= n;
	pthread_mutex_unlock(&pg_mu);
	return n;
}

/* A committer job that writes nothing, in the outcomes' lane: its done() runs once every outcome submitted before
 * it has committed (the drained endpoint's), and only then is the lease given up. */
struct barrier {
	struct commit_job job;
	char id[ID_MAX];
};

static int barrier_run(struct store *st, void *arg)
{
	(void)st;
	(void)arg;
	return STORE_OK;
}

static void barrier_done(void *arg, int rc)
{
	struct barrier *b = arg;
	pthread_mutex_lock(&pg_mu);
	if (rc == STORE_OK) {
		idvec_add(&release_q, b->id);
	} else { /* the outcomes before it may not be written: drained and released again later */
		if (again_n == again_cap) {
			again_cap = again_cap ? again_cap * 2 : 16;
			again_v = xrealloc(again_v, again_cap * sizeof *again_v);
		}
		memcpy(again_v[again_n].id, b->id, ID_MAX);
		again_v[again_n++].at = mono_ms() + RELEASE_AGAIN_MS;
	}
	pthread_mutex_unlock(&pg_mu);
	free(b);
}

static void pg_release(const char *endpoint_id)
{
	struct barrier *b = xcalloc(1, sizeof *b);
	snprintf(b->id, sizeof b->id, "%s", endpoint_id);
	b->job = (struct commit_job){.run = barrier_run, .done = barrier_done, .arg = b, .lane = COMMIT_OUTCOMES};
	commit_submit(&b->job);
}

static void pg_dispose(void)
{
	pg_stop();
	core_dispose(); /* before the records: draining the inbox asks pg_admit */
	feed_dispose();
	for (size_t i = 0; i < deferred.n; i++)
		outmsg_unref(deferred.v[i].msg);
	free(deferred.v);
	deferred = (struct sched_vec){0};
	/* the outcomes are committed (the committer stopped first): the others may take everything over now */
	if (store != NULL && store->c->leave(store, node_id()) != STORE_OK)
		log_warnx("sched: could not give the leases up; the other nodes take them over when they expire");
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&pg_owned, e, &i)) != NULL;)
		free(e->val);
	hmap_dispose(&pg_owned);
	keyset_dispose(&pg_keys);
	idvec_free(&lost_q);
	idvec_free(&release_q);
	pg_echoes_dispose();
	free(again_v);
	again_v = NULL;
	again_n = again_cap = 0;
	store = NULL;
}

const struct sched_backend sched_pg = {
	.name = "pg",
	.shared = true,
	.init = pg_init,
	.start = pg_start,
	.stop = pg_stop,
	.dispose = pg_dispose,
	.insert = core_insert,
	.retry = pg_retry,
	.settled = pg_settled,
	.take = pg_take,
	.wait_ms = core_wait_ms,
	.count = pg_count,
	.boot_oldest = pg_boot_oldest,
	.owns = pg_owns,
	.release = pg_release,
	.lost = pg_lost,
};
