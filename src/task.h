/* task.h: the engine of background tasks (task.c). A task runs as a chain of committer jobs, one batch each,
 * recording its progress in the same transaction as the batch; its HTTP calls are in api_task.c. */
#ifndef HOOKD_TASK_H
#define HOOKD_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "commit.h"
#include "queue.h"
#include "model.h"

#define TASK_KIND_RECOVER "endpoint.recover"
#define TASK_KIND_REPLAY "endpoint.replay"
#define TASK_KIND_SOURCE_REPLAY "source.replay" /* app_id: the source's app; no endpoint */

struct task_run {
	struct commit_job job;
	struct task t;
	int64_t committed;          /* t.processed as last committed */
	int64_t after_dkey;        /* recover: the key cursor */
	char after_id[ID_MAX];      /* replay: the message cursor (from the window's lower id bound) */
	char before_id[ID_MAX];     /* replay: the window's upper id bound */
	struct endpoint ep;         /* replay: the endpoint's filters, as the task started */
	struct outmsg **out;        /* this batch's deliveries, for the queue after the commit */
	size_t nout;
	bool failing;               /* the job only records that the task failed */
};

/* Once its task row is committed, the runner owns itself: its batches run as committer jobs until it ends. */
void task_run_start(struct task_run *tr);
/* A runner not started (or ended). */
void task_run_free(struct task_run *tr);
/* Running tasks stop queueing batches (shutdown: they stay "running" in the store, failed at next start). */
void tasks_stop(void);

#endif
