/* commit.c: writer threads, group commit.
 * Each lane has a queue (a mutex-protected singly linked list) and a thread that swaps it out whole, runs every
 * job in one transaction (each in a savepoint when the backend has them), commits once, then for each job in
 * order applies the changes it recorded (if it succeeded) and calls its done(). The main lane takes every job
 * unless another lane was started for it: on PostgreSQL, outcomes commit in a lane of their own, on a second
 * write connection, so that ingest's transactions no longer carry them (one node's ingest was bound by its one
 * writer: the writer's backend ran or waited for a CPU 93% of the time; docs/performance.md). */
#include "commit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "outmsg.h"
#include "util.h"

#define BATCH_MAX 4096 /* bounds the latency of the last job in a batch */
#define PREFETCH_MAX 256 /* message inserts announced to the backend at once (msg_prefetch) */
#define COMMIT_RETRIES 5 /* runs again of a job that met a transient conflict (STORE_RETRY) */
#define WAIT_FROM 8      /* jobs in the last batch (by their items) from which the next one waits for more */
#define FILL_ALONE_MAX_NS 50000000LL /* the longest an outcomes' batch waits, however many nodes there are */

/* A lane: a queue, its committer thread and the store handle (write connection) it commits on. */
struct lane {
	const char *name;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct commit_job *head, *tail;
	size_t queued;       /* jobs queued */
	bool filling;        /* the committer waits for more jobs (fill_batch): only a full batch wakes it */
	size_t last_n;       /* the committer's: jobs in the last batch, each counted by its items (commit.h) */
	int64_t wait_ns;     /* how long a batch waits to fill (fill_batch) */
	bool fill_alone;     /* it waits to fill under load even without siblings */
	bool stopping, running;
	bool started;        /* between commit_start/commit_lane_start and commit_stop: jobs of the lane go here */
	pthread_t thread;
	struct store *store;
	uint64_t n_batches, n_jobs;
};

static struct lane lanes[COMMIT_LANES] = {
	[COMMIT_MAIN] = {.name = "committer", .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER},
	[COMMIT_OUTCOMES] = {.name = "outcomes", .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER},
};
static int siblings; /* other nodes writing to the database (commit_siblings) */
static _Thread_local struct commit_job *current; /* the job whose run() is running, on a committer thread */
static _Thread_local struct lane *current_lane;   /* the lane of the committer thread this is */

struct commit_change_rec {
	struct change c; /* the committer's copy */
	struct commit_change_rec *next;
};

void commit_change(struct commit_job *job, const struct change *c)
{
	if (job == NULL || job != current)
		fatalx("commit_change: called outside the job's run()");
	struct store *store = current_lane->store;
	if (!job->replay && store->w->note_change != NULL) { /* a shared database: tell the other nodes */
		const char *key, *kind = change_note(c, &key);
		store->w->note_change(store, kind, key);
	}
	struct commit_change_rec *rec = xmalloc(sizeof *rec);
	change_copy(&rec->c, c);
	rec->next = NULL;
	if (job->changes_last != NULL)
		job->changes_last->next = rec;
	else
		job->changes = rec;
	job->changes_last = rec;
}

/* Apply (if apply) then free the changes job recorded. */
static void changes_finish(struct commit_job *job, bool apply)
{
	for (struct commit_change_rec *rec = job->changes, *next; rec != NULL; rec = next) {
		next = rec->next;
		if (apply)
			registry_apply(&rec->c);
		change_dispose(&rec->c);
		free(rec);
	}
	job->changes = job->changes_last = NULL;
}

/* The lane a job goes to: its own if started, else the main one. */
static struct lane *lane_of(const struct commit_job *job)
{
	struct lane *l = &lanes[job->lane < COMMIT_LANES ? job->lane : COMMIT_MAIN];
	return __atomic_load_n(&l->started, __ATOMIC_ACQUIRE) ? l : &lanes[COMMIT_MAIN];
}

void commit_submit(struct commit_job *job)
{
	struct lane *l = lane_of(job);
	job->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (!l->running) {
		pthread_mutex_unlock(&l->mu);
		job->done(job->arg, STORE_ERR);
		return;
	}
	if (l->tail)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
	l->queued++;
	if (!l->filling || l->queued >= BATCH_MAX)
		pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* The main lane: with other nodes writing to the same database, under load (the last batch held WAIT_FROM jobs or
 * more, and jobs came during its commit), wait wait_ns for more jobs, as PostgreSQL's commit_delay does with
 * commit_siblings: each node's batches hold only its share of the load, and the database pays per transaction
 * (a WAL flush, each statement's fixed cost) for all of them. A node alone never waits: its batches hold all
 * the load already, and the wait only lengthened its cycle (one node 13% slower in the bench). Not "until the
 * batch is as large as the last" either: that lock-steps the clients. The outcomes' lane (fill_alone) waits
 * under load even alone (its last batch held WAIT_FROM outcomes: a job counts by its items): no client waits for
 * it, and its jobs merge while they wait (queue.c joins outcomes to the batch not yet started). A few outcomes
 * still commit at once, so that a node killed right after them sends none of them twice. With n nodes, such a
 * lane waits n times as long (up to FILL_ALONE_MAX_NS): each node holds 1/n of the cluster's outcomes, and the
 * database sees about as many outcome transactions as from one node (two nodes on one machine spent 20% more
 * of PostgreSQL's CPU on outcomes with 10 ms each than with 25 ms; docs/performance.md). l->mu held. */
static void fill_batch(struct lane *l)
{
	if (l->wait_ns <= 0 || l->stopping)
		return;
	int sib = __atomic_load_n(&siblings, __ATOMIC_RELAXED);
	if (l->last_n < WAIT_FROM || (!l->fill_alone && sib <= 0))
		return;
	int64_t wait_ns = l->wait_ns;
	if (l->fill_alone && sib > 0)
		wait_ns = wait_ns * (1 + sib) < FILL_ALONE_MAX_NS ? wait_ns * (1 + sib) : FILL_ALONE_MAX_NS;
	struct timespec until = mono_after_ns(wait_ns);
	l->filling = true;
	while (l->queued < BATCH_MAX && !l->stopping &&
	       pthread_cond_clockwait(&l->cv, &l->mu, CLOCK_MONOTONIC, &until) == 0)
		;
	l->filling = false;
}

/* Wait for a job. Notes the store holds back (store_write_ops.notes_due) go once due, if no batch took them.
 * l->mu held. */
static void wait_job(struct lane *l)
{
	const struct store_write_ops *w = l->store->w;
	while (l->head == NULL && !l->stopping) {
		int64_t due = w->notes_due != NULL ? w->notes_due(l->store) : -1;
		if (due == 0) {
			pthread_mutex_unlock(&l->mu);
			w->notes_flush(l->store);
			pthread_mutex_lock(&l->mu);
			continue;
		}
		if (due < 0) {
			pthread_cond_wait(&l->cv, &l->mu);
			continue;
		}
		struct timespec until = mono_after_ns(due * 1000000);
		pthread_cond_clockwait(&l->cv, &l->mu, CLOCK_MONOTONIC, &until);
	}
}

/* Take up to BATCH_MAX jobs off the lane's queue; NULL once stopping and empty. */
static struct commit_job *take_batch(struct lane *l)
{
	pthread_mutex_lock(&l->mu);
	bool idle = l->head == NULL; /* nothing came during the last commit: no load, no waiting to fill */
	wait_job(l);
	if (l->head == NULL)
		l->running = false; /* stopping and drained: later submits are refused */
	else if (!idle)
		fill_batch(l);
	struct commit_job *batch = l->head, *last = l->head;
	size_t n = l->head != NULL;
	for (; last != NULL && last->next != NULL && n < BATCH_MAX; n++)
		last = last->next;
	if (last != NULL) {
		l->head = last->next;
		if (l->head == NULL)
			l->tail = NULL;
		last->next = NULL;
	}
	l->queued -= n;
	pthread_mutex_unlock(&l->mu);
	return batch;
}

/* Does c claim a key one of ins[0..n) claims? A run ends before such a job: its claim must see the other's. */
static bool claimed_in(const struct store_msg_ins *ins, size_t n, const struct store_claim *c)
{
	for (size_t i = 0; c != NULL && i < n; i++)
		if (ins[i].claim != NULL && strcmp(ins[i].claim->key, c->key) == 0)
			return true;
	return false;
}

/* Announce the run of message-insert jobs starting at j (msg_prefetch); how many. A run that ends the batch is
 * announced even alone: the backend may send the batch's COMMIT with it. */
static size_t prefetch(struct store *store, struct commit_job *j)
{
	struct store_msg_ins ins[PREFETCH_MAX];
	size_t n = 0;
	for (; j != NULL && j->pre_om != NULL && n < PREFETCH_MAX && !claimed_in(ins, n, j->pre_claim); j = j->next, n++)
		ins[n] = (struct store_msg_ins){.m = &j->pre_om->m, .ep_ids = (const char(*)[ID_MAX])j->pre_om->ep_ids,
						.n = j->pre_om->n, .due_ms = j->pre_due, .claim = j->pre_claim};
	bool ends = j == NULL;
	if (n > 1 || (n == 1 && ends))
		store->w->msg_prefetch(store, ins, n, ends);
	return n;
}

/* Early jobs move ahead of the run of message inserts just before them (stable): [i i o i o] -> [o o i i i]. */
static struct commit_job *early_first(struct commit_job *batch)
{
	struct commit_job *head_ = NULL, **tailp = &head_; /* the new order */
	struct commit_job **spot = &head_;                 /* where an early job goes: before the trailing inserts */
	for (struct commit_job *j = batch, *next; j != NULL; j = next) {
		next = j->next;
		if (j->early && j->pre_om == NULL) {
			j->next = *spot;
			if (*spot == NULL)
				tailp = &j->next;
			*spot = j;
			spot = &j->next;
			continue;
		}
		j->next = NULL;
		*tailp = j;
		tailp = &j->next;
		if (j->pre_om == NULL)
			spot = tailp; /* nothing moves ahead of a job that is neither */
	}
	return head_;
}

/* The keys the batch's jobs claim, locked before any of them runs (store_write_ops.keys_lock). */
static int lock_keys(struct store *store, struct commit_job *batch)
{
	size_t n = 0;
	for (struct commit_job *j = batch; j != NULL; j = j->next)
		n += (j->lock_keys[0] != NULL) + (j->lock_keys[1] != NULL);
	const struct store_write_ops *w = store->w;
	if (n == 0 || w->keys_lock == NULL)
		return STORE_OK;
	const char **keys = xcalloc(n, sizeof *keys);
	n = 0;
	for (struct commit_job *j = batch; j != NULL; j = j->next)
		for (int k = 0; k < 2; k++)
			if (j->lock_keys[k] != NULL)
				keys[n++] = j->lock_keys[k];
	int rc = w->keys_lock(store, keys, n);
	free(keys);
	return rc;
}

/* Returns the batch's jobs, each counted by its items. */
static size_t run_batch(struct lane *l, struct commit_job *batch)
{
	struct store *store = l->store;
	const struct store_write_ops *w = store->w;
	uint64_t njobs = 0;
	size_t items = 0;
	size_t announced = 0; /* jobs left of the last prefetched run */
	int brc = w->batch_begin(store), jrc = STORE_OK;
	if (brc == STORE_OK && (jrc = lock_keys(store, batch)) != STORE_OK)
		brc = jrc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERR;
	for (struct commit_job *j = batch; j != NULL; j = j->next, njobs++) {
		j->rc = STORE_ERR;
		j->changes = j->changes_last = NULL;
		if (announced > 0)
			announced--;
		else if (brc == STORE_OK && j->pre_om != NULL && w->msg_prefetch != NULL)
			announced = prefetch(store, j) - 1;
		if (brc == STORE_OK && j->next == NULL && j->pre_om == NULL && w->job_last != NULL)
			w->job_last(store);
		if (brc != STORE_OK || (w->job_begin != NULL && (jrc = w->job_begin(store)) != STORE_OK)) {
			if (brc == STORE_OK)
				brc = jrc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERR;
			continue;
		}
		current = j;
		j->rc = j->run(store, j->arg);
		current = NULL;
		items += j->items > 0 ? j->items : 1;
		if (w->job_end != NULL) /* a backend without per-job savepoints: jobs validate before they write */
			w->job_end(store, j->rc == STORE_OK);
	}
	if (brc == STORE_OK)
		brc = w->batch_commit(store);
	if (brc != STORE_OK) {
		w->batch_rollback(store);
		log_warnx("commit: a batch of %llu jobs failed%s; each gets an error", (unsigned long long)njobs,
			  brc == STORE_UNAVAILABLE ? " (the database is unavailable)" : "");
	}
	__atomic_add_fetch(&l->n_batches, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->n_jobs, njobs, __ATOMIC_RELAXED);
	for (struct commit_job *j = batch, *next; j != NULL; j = next) {
		next = j->next; /* done() may free j */
		int rc = brc == STORE_OK ? j->rc : brc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERR;
		if (rc == STORE_RETRY && j->retries < COMMIT_RETRIES) { /* again behind this batch's commit */
			j->retries++;
			changes_finish(j, false);
			commit_submit(j);
			continue;
		}
		if (rc == STORE_RETRY)
			rc = STORE_ERR;
		j->retries = 0; /* a job submitted again (a task's next batch) starts afresh */
		changes_finish(j, rc == STORE_OK);
		j->done(j->arg, rc);
	}
	return items;
}

static void *commit_main(void *arg)
{
	struct lane *l = arg;
	current_lane = l;
	pthread_setname_np(pthread_self(), l->name);
	struct commit_job *batch;
	while ((batch = take_batch(l)) != NULL)
		l->last_n = run_batch(l, early_first(batch));
	if (l->store->w->notes_flush != NULL) /* a node that stops tells the others of what it held back */
		l->store->w->notes_flush(l->store);
	return NULL;
}

static void lane_start(struct lane *l, struct store *st, int64_t wait_ms, bool fill_alone)
{
	l->store = st;
	l->fill_alone = fill_alone;
	l->stopping = false;
	l->running = true;
	l->wait_ns = wait_ms * 1000000;
	l->queued = l->last_n = 0;
	l->filling = false;
	if (pthread_create(&l->thread, NULL, commit_main, l) != 0)
		fatal("commit: pthread_create");
	__atomic_store_n(&l->started, true, __ATOMIC_RELEASE);
}

void commit_start(struct store *st, int64_t wait_ms)
{
	__atomic_store_n(&siblings, 0, __ATOMIC_RELAXED);
	lane_start(&lanes[COMMIT_MAIN], st, wait_ms, false);
}

void commit_lane_start(enum commit_lane lane, struct store *st, int64_t wait_ms)
{
	if (lane != COMMIT_MAIN && lane < COMMIT_LANES && !lanes[lane].started)
		lane_start(&lanes[lane], st, wait_ms, true);
}

/* Commit what the lane has queued, then stop its thread; its jobs go to the main lane from here on (refused
 * once that one stops too). */
static void lane_stop(struct lane *l)
{
	pthread_mutex_lock(&l->mu);
	if (!l->running || l->stopping) {
		pthread_mutex_unlock(&l->mu);
		return;
	}
	l->stopping = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	__atomic_store_n(&l->started, false, __ATOMIC_RELEASE);
}

void commit_stop(void)
{
	/* the main lane's jobs submit none of the others' (an outcome comes from a delivery, after deliver_stop) */
	lane_stop(&lanes[COMMIT_MAIN]);
	for (int i = 0; i < COMMIT_LANES; i++)
		if (i != COMMIT_MAIN)
			lane_stop(&lanes[i]);
}

void commit_siblings(int n) { __atomic_store_n(&siblings, n, __ATOMIC_RELAXED); }

void commit_lane_stats(enum commit_lane lane, uint64_t *batches, uint64_t *jobs)
{
	*batches = __atomic_load_n(&lanes[lane].n_batches, __ATOMIC_RELAXED);
	*jobs = __atomic_load_n(&lanes[lane].n_jobs, __ATOMIC_RELAXED);
}

void commit_stats(uint64_t *batches, uint64_t *jobs)
{
	*batches = *jobs = 0;
	for (int i = 0; i < COMMIT_LANES; i++) {
		uint64_t b, j;
		commit_lane_stats((enum commit_lane)i, &b, &j);
		*batches += b;
		*jobs += j;
	}
}
