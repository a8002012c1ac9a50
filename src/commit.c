/* commit.c: one writer thread, group commit.
 * The queue is a mutex-protected singly linked list; the thread swaps it out whole, runs every job in one
 * transaction (each in a savepoint when the backend has them), commits once, then for each job in order applies
 * the changes it recorded (if it succeeded) and calls its done(). */
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
#define WAIT_FROM 8      /* jobs in the last batch from which the next one waits for more (fill_batch) */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct commit_job *head, *tail;
static size_t queued;       /* jobs queued */
static bool filling;        /* the committer waits for more jobs (fill_batch): only a full batch wakes it */
static size_t last_n;       /* the committer's: jobs in the last batch */
static int64_t wait_ns;     /* commit_start's wait_ms */
static int siblings;        /* other nodes writing to the database (commit_siblings) */

static bool stopping, running;
static pthread_t thread;
static struct store *store;
static uint64_t n_batches, n_jobs;
static _Thread_local struct commit_job *current; /* the job whose run() is running, on the committer thread */

struct commit_change_rec {
	struct change c; /* the committer's copy */
	struct commit_change_rec *next;
};

void commit_change(struct commit_job *job, const struct change *c)
{
	if (job == NULL || job != current)
		fatalx("commit_change: called outside the job's run()");
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

void commit_submit(struct commit_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		job->done(job->arg, STORE_ERR);
		return;
	}
	if (tail)
		tail->next = job;
	else
		head = job;
	tail = job;
	queued++;
	if (!filling || queued >= BATCH_MAX)
		pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* With other nodes writing to the same database, under load (the last batch held WAIT_FROM jobs or more, and
 * jobs came during its commit), wait wait_ns for more jobs, as PostgreSQL's commit_delay does with
 * commit_siblings: each node's batches hold only its share of the load, and the database pays per transaction
 * (a WAL flush, each statement's fixed cost) for all of them. A node alone never waits: its batches hold all
 * the load already, and the wait only lengthened its cycle (one node 13% slower in the bench). Not "until the
 * batch is as large as the last" either: that lock-steps the clients. mu held. */
static void fill_batch(void)
{
	if (wait_ns <= 0 || __atomic_load_n(&siblings, __ATOMIC_RELAXED) <= 0 || last_n < WAIT_FROM || stopping)
		return;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += wait_ns;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	filling = true;
	while (queued < BATCH_MAX && !stopping && pthread_cond_clockwait(&cv, &mu, CLOCK_MONOTONIC, &until) == 0)
		;
	filling = false;
}

/* Take up to BATCH_MAX jobs off the queue; NULL once stopping and empty. */
static struct commit_job *take_batch(void)
{
	pthread_mutex_lock(&mu);
	bool idle = head == NULL; /* nothing came during the last commit: no load, no waiting to fill */
	while (head == NULL && !stopping)
		pthread_cond_wait(&cv, &mu);
	if (head == NULL)
		running = false; /* stopping and drained: later submits are refused */
	else if (!idle)
		fill_batch();
	struct commit_job *batch = head, *last = head;
	size_t n = head != NULL;
	for (; last != NULL && last->next != NULL && n < BATCH_MAX; n++)
		last = last->next;
	if (last != NULL) {
		head = last->next;
		if (head == NULL)
			tail = NULL;
		last->next = NULL;
	}
	queued -= n;
	last_n = n;
	pthread_mutex_unlock(&mu);
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
static size_t prefetch(const struct store_write_ops *w, struct commit_job *j)
{
	struct store_msg_ins ins[PREFETCH_MAX];
	size_t n = 0;
	for (; j != NULL && j->pre_om != NULL && n < PREFETCH_MAX && !claimed_in(ins, n, j->pre_claim); j = j->next, n++)
		ins[n] = (struct store_msg_ins){.m = &j->pre_om->m, .ep_ids = (const char(*)[ID_MAX])j->pre_om->ep_ids,
						.n = j->pre_om->n, .due_ms = j->pre_due, .claim = j->pre_claim};
	bool ends = j == NULL;
	if (n > 1 || (n == 1 && ends))
		w->msg_prefetch(store, ins, n, ends);
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
static int lock_keys(const struct store_write_ops *w, struct commit_job *batch)
{
	size_t n = 0;
	for (struct commit_job *j = batch; j != NULL; j = j->next)
		n += (j->lock_keys[0] != NULL) + (j->lock_keys[1] != NULL);
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

static void run_batch(struct commit_job *batch)
{
	const struct store_write_ops *w = store->w;
	uint64_t njobs = 0;
	size_t announced = 0; /* jobs left of the last prefetched run */
	int brc = w->batch_begin(store), jrc = STORE_OK;
	if (brc == STORE_OK && (jrc = lock_keys(w, batch)) != STORE_OK)
		brc = jrc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERR;
	for (struct commit_job *j = batch; j != NULL; j = j->next, njobs++) {
		j->rc = STORE_ERR;
		j->changes = j->changes_last = NULL;
		if (announced > 0)
			announced--;
		else if (brc == STORE_OK && j->pre_om != NULL && w->msg_prefetch != NULL)
			announced = prefetch(w, j) - 1;
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
	__atomic_add_fetch(&n_batches, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n_jobs, njobs, __ATOMIC_RELAXED);
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
}

static void *commit_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "committer");
	struct commit_job *batch;
	while ((batch = take_batch()) != NULL)
		run_batch(early_first(batch));
	return NULL;
}

void commit_start(struct store *st, int64_t wait_ms)
{
	store = st;
	stopping = false;
	running = true;
	wait_ns = wait_ms * 1000000;
	queued = last_n = 0;
	filling = false;
	__atomic_store_n(&siblings, 0, __ATOMIC_RELAXED);
	if (pthread_create(&thread, NULL, commit_main, NULL) != 0)
		fatal("commit: pthread_create");
}

void commit_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running || stopping) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
}

void commit_siblings(int n) { __atomic_store_n(&siblings, n, __ATOMIC_RELAXED); }

void commit_stats(uint64_t *batches, uint64_t *jobs)
{
	*batches = __atomic_load_n(&n_batches, __ATOMIC_RELAXED);
	*jobs = __atomic_load_n(&n_jobs, __ATOMIC_RELAXED);
}
