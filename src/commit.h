/* commit.h: the committer threads own the store's write path and commit in groups.
 *
 * Jobs that arrive while a commit is in progress wait and go together into the next transaction, so many
 * concurrent writers share one fsync. A job's done() runs on the committer thread after its batch is durable,
 * in the order the jobs ran (submission order, but for early jobs); it must be quick (resume a connection, hand
 * deliveries on).
 *
 * The in-memory registries (cache, event types, sources) change through the job too: run() records each change
 * it makes with commit_change(), and the committer applies a job's changes (registry_apply, registry.h) after
 * the batch is durable and just before that job's done(), only if the job succeeded.
 */
#ifndef HOOKD_COMMIT_H
#define HOOKD_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "store.h"

struct outmsg;

struct commit_change_rec;

/* A job's lane: each started lane has its own committer thread on its own write connection, so that one kind of
 * write does not wait for the other's transactions. A job whose lane is not started goes to the main one. */
enum commit_lane {
	COMMIT_MAIN,     /* everything but outcomes; the only lane on a backend with one writer */
	COMMIT_OUTCOMES, /* delivery outcomes (queue.c): with several writers, they commit beside ingest */
	COMMIT_LANES
};

struct commit_job {
	/* Runs inside the batch, in its own savepoint; a non-zero return rolls back this job only. */
	int (*run)(struct store *st, void *arg);
	/* After the batch: rc is run's result, or STORE_ERR if the batch failed to commit. */
	void (*done)(void *arg, int rc);
	void *arg;
	/* Optional: run()'s only write is queue_write_msg of this outmsg, due at pre_due (then the backend may insert
	 * it together with its neighbours in the batch: store_write_ops.msg_prefetch). */
	struct outmsg *pre_om;
	int64_t pre_due;
	/* Optional, with pre_om: run() first claims this idempotency key (idem_claim with these arguments), and
	 * writes nothing else but, if the insert fails, the key's release (idem_release). Announced with the insert:
	 * a backend may claim the key in the same statement, and insert only if the claim holds. */
	const struct store_claim *pre_claim;
	/* Optional: the job commutes with message inserts (pre_om jobs): it touches only rows committed before its
	 * batch (an outcome job), so it may run ahead of the inserts queued before it in its batch, never ahead of
	 * any other job. The inserts then end the batch, and a backend may send its COMMIT with them. */
	bool early;
	/* Optional: the unique keys this job claims (its idempotency key, its message's eventId or its inbound
	 * request's dedup key): locked with the batch's others at its start (store_write_ops.keys_lock). */
	const char *lock_keys[2];
	/* The changes are another node's, reloaded here (feed.c): applied, not announced to the nodes again. */
	bool replay;
	/* Optional: the lane it commits in (COMMIT_MAIN unless set). Jobs of different lanes share no batch and no
	 * order: a job goes to a lane other than the main one only if it needs neither. */
	enum commit_lane lane;
	/* Optional, set by run(): how many writes the job carried (an outcome batch's outcomes, which join it while it
	 * waits); 0 counts as one. Whether a lane's next batch waits to fill goes by these (commit_start). */
	unsigned items;
	struct commit_job *next; /* the committer's */
	int retries;             /* the committer's: how often it ran again after STORE_RETRY */
	int rc;                  /* the committer's */
	struct commit_change_rec *changes, *changes_last; /* the committer's: what run() recorded */
};

/* Start the committer thread on a store. With other nodes writing to the database (commit_siblings) and under
 * load (the last batch held 8 jobs or more, counted by their items, and more came during its commit), the next batch waits wait_ms (0:
 * never) for more jobs to join it (--commit-wait). */
void commit_start(struct store *st, int64_t wait_ms);
/* Under load, an outcomes' batch waits this long for more: they are many small writes that no client waits
 * for, and their transactions alone would otherwise outnumber ingest's. */
#define COMMIT_OUTCOMES_WAIT_MS 10
/* Start lane's committer thread on st, a store handle of its own on the same database (a write connection of
 * its own: store_open again). Only for a backend with several writers (store.c, cluster ops); without it, the
 * lane's jobs commit in the main lane. Under load (its last batch held 8 items or more), a batch waits wait_ms
 * for more, even without other nodes, and (1 + commit_siblings) times as long with them (at most 50 ms).
 * Stopped by commit_stop, after the main lane. */
void commit_lane_start(enum commit_lane lane, struct store *st, int64_t wait_ms);
/* How many other nodes write to the same database (the cluster thread, each tick; 0 at start). */
void commit_siblings(int n);
/* Queue a job (intrusive: no allocation; the job must live until done() runs). Thread-safe. */
void commit_submit(struct commit_job *job);
/* From job's run() only (on the committer thread, inside the batch): record a change to the registries, to be
 * applied once the batch is durable if this job succeeds, before its done(); dropped if the job fails or the
 * batch does not commit. A job's changes are applied in the order recorded. The change is copied at once (see
 * registry.h for what is copied, and for before); the caller keeps its own objects. */
void commit_change(struct commit_job *job, const struct change *c);
/* Commit everything queued so far, then stop the threads (the main lane's first). Jobs submitted after this are refused (done()
 * with STORE_ERR at once). */
void commit_stop(void);

/* Counters for tests and `make bench`: batches committed and jobs in them, all lanes together. */
void commit_stats(uint64_t *batches, uint64_t *jobs);
/* The same for one lane. */
void commit_lane_stats(enum commit_lane lane, uint64_t *batches, uint64_t *jobs);

#endif
