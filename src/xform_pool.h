/* xform_pool.h: the transformation workers: N threads, each with its own sandbox (xform.h), a bounded job queue
 * and a completion list. The dispatcher submits a delivery's chain (the endpoint's api-version downgrades,
 * newest first, then its transformation) and is woken when it is done, so a slow script never holds up the
 * dispatcher thread nor other endpoints (docs/transformations.md). */
#ifndef HOOKD_XFORM_POOL_H
#define HOOKD_XFORM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "xform.h"

/* One delivery's chain of handlers, each one's output the next one's input. */
struct xform_job {
	/* in: set by the submitter, all owned by the job (xform_job_free) */
	struct strlist codes;     /* the handlers' code, in order */
	size_t n_downgrades;      /* codes.v[0..n_downgrades) are api-version downgrades, the rest transformations */
	char *api_version;        /* the version name that error messages of downgrades name, or NULL */
	struct strlist names;     /* optional: names.v[i] is downgrade i's own version, named by its error instead */
	char *payload_text;       /* the payload as JSON text (parsed by the worker), or NULL: hook.payload */
	struct xform_hook hook;   /* in: url, method, eventType (and payload unless payload_text); out: the result */
	void *arg;                /* the submitter's */
	/* out */
	int rc;                   /* 0: ran; -1: a handler failed (err) */
	char err[XFORM_ERR_MAX + 96]; /* "transformation failed: ..." / "api-version NAME downgrade failed: ..." */
	char *body;               /* rc 0: hook.payload as compact JSON text (key order kept) */
	size_t body_len;
	struct xform_job *next;
};
void xform_job_free(struct xform_job *j);

/* Run j's chain in x on this thread (the pool's workers; the API's simulate with a sandbox of its own). */
void xform_chain_run(struct xform *x, struct xform_job *j);

/* Start `workers` threads with sandboxes of budget instructions and memory bytes per call; at most queue_max
 * jobs wait. wake is called (from a worker) after a job is added to the completion list. -1 on failure. */
int xform_pool_start(int workers, int64_t budget, size_t memory, size_t queue_max, void (*wake)(void));
/* Queue j (ownership passes to the pool until it comes back from xform_pool_done). False when the queue is
 * full or the pool is not running: j stays the caller's. */
bool xform_pool_submit(struct xform_job *j);
/* Is there room for one more job? (Only the submitter adds jobs, so a true answer holds until it submits.) */
bool xform_pool_room(void);
/* The jobs done since the last call, as a list through next (the caller's again), or NULL. */
struct xform_job *xform_pool_done(void);
/* Finish the jobs being run, join the workers; jobs still queued come back from xform_pool_done unrun
 * (rc -1, err "shutting down"). */
void xform_pool_stop(void);

#endif
