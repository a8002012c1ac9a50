/* sched_core.c: the heap, inbox and loader every scheduler backend shares (sched_core.h).
 *
 * The store is the truth; this is its index of what is due when. Committed messages arrive with their payload
 * and, when due soon, keep it in memory, so a fresh delivery costs no read; retries and later deliveries are
 * known by key only (32 bytes each). A key that comes due goes to the loader thread, which reads such deliveries
 * from the store in batches (a read connection, never the dispatcher thread) and hands them back ready to send.
 * The loader works at most LOAD_AHEAD deliveries ahead of the dispatcher, so a backlog that all comes due at once
 * (a restart after an outage) is read as fast as it is sent, not all at once into memory.
 *
 * Threads: insert and push from any thread (an inbox under a mutex); take, wait_ms and count on the dispatcher
 * thread, which alone touches the heap; the loader's lists under their own mutex.
 */
#include "sched_core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define HOLD_PAYLOAD_MS 5000
#define HOLD_PAYLOAD_BYTES (32 << 20) /* beyond this, fresh deliveries too are loaded when due */
#define LOAD_AHEAD 1024               /* deliveries being loaded or loaded and not yet taken */
#define LOAD_BATCH 256                /* keys per store read */
#define LOAD_RETRY_MS 1000            /* after a failed read */

void sched_vec_add(struct sched_vec *q, const struct sched_item *it)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xrealloc(q->v, q->cap * sizeof *q->v);
	}
	q->v[q->n++] = *it;
}

static struct store *store;
static void (*wake_fn)(void);
static struct sched_core_hooks hooks;
static struct heap heap; /* dispatcher thread */


/* the inbox: committed messages and retries, from the committer thread */
static pthread_mutex_t in_mu = PTHREAD_MUTEX_INITIALIZER;
static struct outmsg *in_head, *in_tail;
static struct sched_vec in_items;

/* the loader: keys to read, and deliveries read */
static pthread_mutex_t ld_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ld_cv = PTHREAD_COND_INITIALIZER;
static struct sched_vec ld_todo, ld_ready;
static size_t ld_outstanding; /* in todo, being loaded, or in ready (atomic reads for the gauge) */
static bool ld_stop, ld_running;
static pthread_t ld_thread;

void core_init(struct store *st, void (*wake)(void), const struct sched_core_hooks *h)
{
	store = st;
	wake_fn = wake;
	memset(&hooks, 0, sizeof hooks);
	if (h != NULL)
		hooks = *h;
	heap_init(&heap);
}

void core_fill(int64_t dkey, int64_t due_ms)
{
	struct sched_item it = {.due_ms = due_ms, .dkey = dkey, .msg = NULL, .attempts = -1};
	heap_push(&heap, &it);
}

size_t core_filled(void) { return heap.n; }

/* ---- the loader ---- */

/* Read a batch of due deliveries by key (one store read per LOAD_BATCH); those still pending go into done, ready
 * to send. Returns how many left the loader without being ready: dropped (sent, failed or canceled meanwhile, or
 * gone), or put back in the schedule for later when the read failed. */
static size_t load_batch(const struct sched_item *v, size_t n, struct sched_vec *done)
{
	int64_t keys[LOAD_BATCH] = {0};
	struct delivery d[LOAD_BATCH];
	struct message m[LOAD_BATCH];
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++)
		keys[i] = v[i].dkey;
	memset(m, 0, n * sizeof *m);
	if (store->q->deliveries_load(store, keys, n, d, m) != STORE_OK) {
		/* the store failed, not the deliveries: they stay pending there; try them again in a while */
		struct sched_item again[LOAD_BATCH];
		int64_t later = now_ms() + LOAD_RETRY_MS;
		for (size_t i = 0; i < n; i++) {
			again[i] = v[i];
			again[i].due_ms = later;
		}
		log_warnx("sched: %zu due deliveries could not be read; again in %d ms", n, LOAD_RETRY_MS);
		core_push(again, n);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (d[i].status != DS_PENDING) {
			message_dispose(&m[i]);
			if (hooks.dropped != NULL)
				hooks.dropped(v[i].dkey);
			dropped++;
			continue;
		}
		char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
		memcpy(ids[0], d[i].endpoint_id, ID_MAX);
		struct sched_item it = v[i];
		it.msg = outmsg_new(&m[i], ids, 1);
		it.msg->dkeys[0] = d[i].dkey;
		it.msg->trigger = d[i].trigger;
		it.ep_idx = 0;
		if (it.attempts < 0)
			it.attempts = d[i].attempts;
		sched_vec_add(done, &it);
	}
	return dropped;
}

static void *loader_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sched-loader");
	struct sched_vec work = {0}, done = {0};
	pthread_mutex_lock(&ld_mu);
	for (;;) {
		while (!ld_stop && ld_todo.n == 0)
			pthread_cond_wait(&ld_cv, &ld_mu);
		if (ld_stop)
			break;
		struct sched_vec t = work; /* swap: the dispatcher fills a fresh list while we read */
		work = ld_todo;
		ld_todo = t;
		ld_todo.n = 0;
		pthread_mutex_unlock(&ld_mu);
		size_t dropped = 0;
		done.n = 0;
		for (size_t i = 0; i < work.n; i += LOAD_BATCH)
			dropped += load_batch(work.v + i, work.n - i < LOAD_BATCH ? work.n - i : LOAD_BATCH, &done);
		pthread_mutex_lock(&ld_mu);
		for (size_t i = 0; i < done.n; i++)
			sched_vec_add(&ld_ready, &done.v[i]);
		ld_outstanding -= dropped;
		bool any = done.n > 0;
		pthread_mutex_unlock(&ld_mu);
		if (any)
			wake_fn();
		pthread_mutex_lock(&ld_mu);
	}
	pthread_mutex_unlock(&ld_mu);
	free(work.v);
	free(done.v);
	return NULL;
}

void core_start(void)
{
	ld_stop = false;
	if (pthread_create(&ld_thread, NULL, loader_main, NULL) != 0)
		fatal("sched: pthread_create");
	ld_running = true;
}

void core_stop(void)
{
	if (!ld_running)
		return;
	pthread_mutex_lock(&ld_mu);
	ld_stop = true;
	pthread_cond_signal(&ld_cv);
	pthread_mutex_unlock(&ld_mu);
	pthread_join(ld_thread, NULL);
	ld_running = false;
}

/* ---- the inbox ---- */

void core_insert(struct outmsg *om)
{
	om->next = NULL;
	pthread_mutex_lock(&in_mu);
	bool was_empty = in_head == NULL && in_items.n == 0;
	if (in_tail)
		in_tail->next = om;
	else
		in_head = om;
	in_tail = om;
	pthread_mutex_unlock(&in_mu);
	/* the dispatcher drains the whole inbox once woken: only the first entry needs the wakeup (a syscall) */
	if (was_empty)
		wake_fn();
}

void core_push(const struct sched_item *v, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&in_mu);
	bool was_empty = in_head == NULL && in_items.n == 0;
	for (size_t i = 0; i < n; i++)
		sched_vec_add(&in_items, &v[i]);
	pthread_mutex_unlock(&in_mu);
	if (was_empty)
		wake_fn();
}

static void inbox_drain(int64_t now)
{
	pthread_mutex_lock(&in_mu);
	struct outmsg *om = in_head;
	in_head = in_tail = NULL;
	for (size_t i = 0; i < in_items.n; i++)
		heap_push(&heap, &in_items.v[i]);
	in_items.n = 0;
	pthread_mutex_unlock(&in_mu);
	while (om != NULL) {
		struct outmsg *next = om->next;
		int64_t due = om->m.deliver_at_ms > now ? om->m.deliver_at_ms : now;
		/* Keep the payload in memory only for what is due soon; the rest is loaded when due, like a retry, so
		 * a backlog scheduled for later costs 32 bytes a delivery, not its payload. */
		bool keep = due - now <= HOLD_PAYLOAD_MS && outmsg_held_bytes < HOLD_PAYLOAD_BYTES;
		if (keep && !om->held) {
			om->held = true;
			outmsg_held_bytes += (int64_t)om->m.payload_len;
		}
		for (size_t i = 0; i < om->n; i++) {
			if (hooks.admit != NULL && !hooks.admit(om->dkeys[i], om->ep_ids[i]))
				continue; /* not this node's to send */
			if (keep)
				om->refs++;
			struct sched_item it = {due, om->dkeys[i], keep ? om : NULL, (uint32_t)i, keep ? 0 : -1};
			heap_push(&heap, &it);
		}
		outmsg_unref(om);
		om = next;
	}
}

/* ---- the dispatcher's side ---- */

size_t core_take(int64_t now, struct sched_item *out, size_t max)
{
	inbox_drain(now);
	size_t n = 0;
	pthread_mutex_lock(&ld_mu);
	size_t k = ld_ready.n < max ? ld_ready.n : max;
	if (k > 0) {
		memcpy(out, ld_ready.v, k * sizeof *out);
		memmove(ld_ready.v, ld_ready.v + k, (ld_ready.n - k) * sizeof *out);
		ld_ready.n -= k;
	}
	ld_outstanding -= k;
	n = k;
	bool signal = false;
	const struct sched_item *top;
	while (n < max && (top = heap_peek(&heap)) != NULL && top->due_ms <= now) {
		if (top->msg == NULL && ld_outstanding >= LOAD_AHEAD)
			break; /* the loader is far enough ahead: wait for it */
		struct sched_item it;
		heap_pop(&heap, &it);
		if (it.msg != NULL) {
			out[n++] = it;
		} else {
			sched_vec_add(&ld_todo, &it);
			ld_outstanding++;
			signal |= ld_todo.n == 1 || ld_todo.n % LOAD_BATCH == 0;
		}
	}
	if (signal)
		pthread_cond_signal(&ld_cv);
	pthread_mutex_unlock(&ld_mu);
	return n;
}

int64_t core_wait_ms(int64_t now, int64_t cap)
{
	pthread_mutex_lock(&ld_mu);
	bool ready = ld_ready.n > 0, full = ld_outstanding >= LOAD_AHEAD;
	pthread_mutex_unlock(&ld_mu);
	if (ready)
		return 0;
	const struct sched_item *top = heap_peek(&heap);
	if (top == NULL || (top->msg == NULL && full))
		return cap; /* the loader wakes us */
	int64_t w = top->due_ms - now;
	return w < 0 ? 0 : w > cap ? cap : w;
}

size_t core_count(void) { return heap.n + __atomic_load_n(&ld_outstanding, __ATOMIC_RELAXED); }

void core_dispose(void)
{
	core_stop();
	inbox_drain(0);
	heap_dispose(&heap);
	for (size_t i = 0; i < ld_ready.n; i++)
		outmsg_unref(ld_ready.v[i].msg);
	free(ld_ready.v);
	free(ld_todo.v);
	free(in_items.v);
	memset(&ld_ready, 0, sizeof ld_ready);
	memset(&ld_todo, 0, sizeof ld_todo);
	memset(&in_items, 0, sizeof in_items);
	ld_outstanding = 0;
}
