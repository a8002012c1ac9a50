/* queue.c: the one door for a message. Producers hand messages in; they are written through the committer and,
 * once durable, scheduled; the dispatcher's outcomes come back here to be recorded, and the retries among them
 * are scheduled after their commit. See queue.h. */
#include "queue.h"

#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "log.h"
#include "scheduler.h"

/* ---- writing (committer thread) ---- */

#define PTRS_ON_STACK 64

int queue_write_msg(struct store *st, struct outmsg *om, int64_t due_ms, char existing[ID_MAX])
{
	const struct message *m = &om->m;
	const char *stack[PTRS_ON_STACK] = {NULL};
	const char **ptrs = om->n <= PTRS_ON_STACK ? stack : xcalloc(om->n, sizeof *ptrs);
	for (size_t i = 0; i < om->n; i++)
		ptrs[i] = om->ep_ids[i];
	int rc = st->w->msg_insert(st, m, ptrs, om->n, due_ms, om->dkeys, existing);
	if (ptrs != stack)
		free(ptrs);
	return rc;
}

int queue_write_deliveries(struct store *st, struct outmsg *om, int64_t due_ms)
{
	int rc = STORE_OK;
	for (size_t i = 0; rc == STORE_OK && i < om->n; i++)
		rc = st->w->delivery_add(st, om->m.app_id, om->m.id, om->ep_ids[i], om->trigger, due_ms,
					   &om->dkeys[i]);
	return rc;
}

void queue_committed(struct outmsg *om, int rc)
{
	if (om == NULL)
		return;
	if (rc == STORE_OK && om->n > 0)
		sched->insert(om);
	else
		outmsg_unref(om);
}

/* ---- a producer without a job of its own ---- */

struct submit_job {
	struct commit_job job;
	struct outmsg *om;
};

static int submit_run(struct store *st, void *arg)
{
	struct submit_job *j = arg;
	return queue_write_msg(st, j->om, j->om->m.created_ms, NULL);
}

static void submit_done(void *arg, int rc)
{
	struct submit_job *j = arg;
	if (rc != STORE_OK)
		log_warnx("queue: message %s (%s) could not be stored", j->om->m.id, j->om->m.event_type);
	queue_committed(j->om, rc);
	free(j);
}

void queue_submit(struct outmsg *om)
{
	struct submit_job *j = xcalloc(1, sizeof *j);
	j->om = om;
	j->job = (struct commit_job){.run = submit_run, .done = submit_done, .arg = j, .pre_om = om,
				     .pre_due = om->m.created_ms};
	commit_submit(&j->job);
}

/* ---- outcomes (dispatcher thread; done on the committer thread) ---- */

struct outcome_batch {
	struct commit_job job;
	struct outcome *v;
	size_t n, cap;
	int64_t retry_mono;         /* kept after a failed commit: when to write it again */
	struct outcome_batch *next; /* the kept list */
};

/* Outcomes whose commit failed (the database was unavailable) are kept and written again, up to this many; past
 * it a batch is let go and its deliveries are scheduled again instead (they are still pending in the store, so
 * they are sent again: at-least-once). */
#define OUTCOMES_KEPT_MAX 100000
#define OUTCOMES_RETRY_MS 1000
#define OUTCOMES_JOIN_MAX 4096 /* a waiting batch takes others' outcomes up to this many */

static struct outcome_batch *pending_outcomes; /* the dispatcher's */
/* The batch last submitted, until the committer starts it: a dispatcher pass's outcomes join it rather than make
 * a job (a round trip) of their own, so a commit writes every outcome that came while it waited in one go. */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct outcome_batch *open_batch;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static struct outcome_batch *kept_head, *kept_tail;
static size_t kept_n;

static void batch_free(struct outcome_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		attempt_dispose(&b->v[i].attempt);
	free(b->v);
	free(b);
}

/* A batch that could not be written: kept for another try, or (over the cap) its deliveries sent again. */
static void outcomes_keep(struct outcome_batch *b, int rc)
{
	pthread_mutex_lock(&kept_mu);
	bool keep = kept_n + b->n <= OUTCOMES_KEPT_MAX;
	if (keep) {
		b->retry_mono = mono_ms() + OUTCOMES_RETRY_MS;
		b->next = NULL;
		if (kept_tail)
			kept_tail->next = b;
		else
			kept_head = b;
		kept_tail = b;
		kept_n += b->n;
	}
	size_t total = kept_n;
	pthread_mutex_unlock(&kept_mu);
	if (keep) {
		log_warnx("queue: %zu outcomes not recorded (%s); kept (%zu in all), written again in %d ms", b->n,
			  rc == STORE_UNAVAILABLE ? "database unavailable" : "write failed", total, OUTCOMES_RETRY_MS);
		return;
	}
	log_warnx("queue: %zu outcomes not recorded and over the %d kept; their deliveries are sent again", b->n,
		  OUTCOMES_KEPT_MAX);
	struct sched_item *again = xmalloc(b->n * sizeof *again);
	int64_t later = now_ms() + OUTCOMES_RETRY_MS;
	for (size_t i = 0; i < b->n; i++)
		again[i] = (struct sched_item){later, b->v[i].dkey, NULL, 0, -1};
	sched->retry(again, b->n);
	free(again);
	batch_free(b);
}

static int outcomes_run(struct store *st, void *arg)
{
	struct outcome_batch *b = arg;
	pthread_mutex_lock(&open_mu);
	if (open_batch == b)
		open_batch = NULL; /* closed: later outcomes make a batch of their own */
	pthread_mutex_unlock(&open_mu);
	b->job.items = b->n > UINT_MAX ? UINT_MAX : (unsigned)b->n; /* the lane waits to fill only under load */
	return st->w->outcomes_record(st, b->v, b->n);
}

/* After the commit: the retries go to the schedule, by key (their payload is read again when due, so a long
 * retry schedule does not pin payloads in memory). */
static void outcomes_done(void *arg, int rc)
{
	struct outcome_batch *b = arg;
	pthread_mutex_lock(&open_mu);
	if (open_batch == b) /* refused without running (the committer had stopped) */
		open_batch = NULL;
	pthread_mutex_unlock(&open_mu);
	if (rc != STORE_OK) {
		outcomes_keep(b, rc);
		return;
	}
	{
		struct sched_item *retries = NULL;
		int64_t *settled = NULL;
		size_t n = 0, ns = 0;
		for (size_t i = 0; i < b->n; i++) {
			const struct outcome *o = &b->v[i];
			if (o->new_status != DS_PENDING) {
				if (settled == NULL)
					settled = xmalloc(b->n * sizeof *settled);
				settled[ns++] = o->dkey;
				continue;
			}
			if (retries == NULL)
				retries = xmalloc(b->n * sizeof *retries);
			retries[n++] = (struct sched_item){o->next_ms, o->dkey, NULL, 0, o->attempts};
		}
		sched->retry(retries, n);
		sched->settled(settled, ns);
		free(retries);
		free(settled);
	}
	batch_free(b);
}

struct outcome *queue_outcome_add(void)
{
	struct outcome_batch *b = pending_outcomes;
	if (b == NULL) {
		b = pending_outcomes = xcalloc(1, sizeof *b);
		b->job = (struct commit_job){.run = outcomes_run, .done = outcomes_done, .arg = b, .early = true,
					    .lane = COMMIT_OUTCOMES};
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	struct outcome *o = &b->v[b->n++];
	memset(o, 0, sizeof *o);
	return o;
}

/* Under open_mu: the outcomes of b move to the end of open_batch (b is freed, its attempts now open_batch's). */
static void outcomes_join(struct outcome_batch *b)
{
	struct outcome_batch *o = open_batch;
	if (o->n + b->n > o->cap) {
		o->cap = (o->n + b->n) * 2;
		o->v = xrealloc(o->v, o->cap * sizeof *o->v);
	}
	memcpy(o->v + o->n, b->v, b->n * sizeof *b->v);
	o->n += b->n;
	free(b->v);
	free(b);
}

void queue_outcomes_flush(void)
{
	struct outcome_batch *pass = pending_outcomes;
	pending_outcomes = NULL;
	if (pass != NULL) {
		pthread_mutex_lock(&open_mu);
		bool joined = open_batch != NULL && open_batch->n + pass->n <= OUTCOMES_JOIN_MAX;
		if (joined)
			outcomes_join(pass);
		else
			open_batch = pass;
		pthread_mutex_unlock(&open_mu); /* the committer may start it from here on */
		if (!joined)
			commit_submit(&pass->job);
	}
	/* kept batches whose wait is over go again, in their order */
	int64_t now = mono_ms();
	pthread_mutex_lock(&kept_mu);
	while (kept_head != NULL && kept_head->retry_mono <= now) {
		struct outcome_batch *b = kept_head;
		kept_head = b->next;
		if (kept_head == NULL)
			kept_tail = NULL;
		kept_n -= b->n;
		commit_submit(&b->job);
	}
	pthread_mutex_unlock(&kept_mu);
}

void queue_dispose(void)
{
	size_t n = 0;
	while (kept_head != NULL) {
		struct outcome_batch *b = kept_head;
		kept_head = b->next;
		n += b->n;
		batch_free(b);
	}
	kept_tail = NULL;
	kept_n = 0;
	if (n > 0)
		log_warnx("queue: %zu outcomes were never recorded; their deliveries are sent again after restart", n);
}
