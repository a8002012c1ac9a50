/* commit.c: one writer thread, group commit.
 * The queue is a mutex-protected singly linked list; the thread swaps it out whole, runs every job in one
 * transaction (each in a savepoint when the backend has them), commits once, then calls each done() in order. */
#include "commit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define BATCH_MAX 4096 /* bounds the latency of the last job in a batch */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct commit_job *head, *tail;

static bool stopping, running;
static pthread_t thread;
static struct store *store;
static uint64_t n_batches, n_jobs;

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
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* Take up to BATCH_MAX jobs off the queue; NULL once stopping and empty. */
static struct commit_job *take_batch(void)
{
	pthread_mutex_lock(&mu);
	while (head == NULL && !stopping)
		pthread_cond_wait(&cv, &mu);
	if (head == NULL)
		running = false; /* stopping and drained: later submits are refused */
	struct commit_job *batch = head, *last = head;
	for (int n = 1; last != NULL && last->next != NULL && n < BATCH_MAX; n++)
		last = last->next;
	if (last != NULL) {
		head = last->next;
		if (head == NULL)
			tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&mu);
	return batch;
}

static void run_batch(struct commit_job *batch)
{
	const struct store_write_ops *w = store->w;
	uint64_t njobs = 0;
	int brc = w->batch_begin(store);
	for (struct commit_job *j = batch; j != NULL; j = j->next, njobs++) {
		j->rc = STORE_ERR;
		if (brc != STORE_OK || (w->job_begin != NULL && w->job_begin(store) != STORE_OK)) {
			brc = STORE_ERR;
			continue;
		}
		j->rc = j->run(store, j->arg);
		if (w->job_end != NULL) /* a backend without per-job savepoints: jobs validate before they write */
			w->job_end(store, j->rc == STORE_OK);
	}
	if (brc == STORE_OK)
		brc = w->batch_commit(store);
	if (brc != STORE_OK) {
		w->batch_rollback(store);
		log_warnx("commit: a batch of %llu jobs failed; each gets an error", (unsigned long long)njobs);
	}
	__atomic_add_fetch(&n_batches, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n_jobs, njobs, __ATOMIC_RELAXED);
	for (struct commit_job *j = batch, *next; j != NULL; j = next) {
		next = j->next; /* done() may free j */
		j->done(j->arg, brc == STORE_OK ? j->rc : STORE_ERR);
	}
}

static void *commit_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "committer");
	struct commit_job *batch;
	while ((batch = take_batch()) != NULL)
		run_batch(batch);
	return NULL;
}

void commit_start(struct store *st)
{
	store = st;
	stopping = false;
	running = true;
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

void commit_stats(uint64_t *batches, uint64_t *jobs)
{
	*batches = __atomic_load_n(&n_batches, __ATOMIC_RELAXED);
	*jobs = __atomic_load_n(&n_jobs, __ATOMIC_RELAXED);
}
