/* task.h: the engine of background tasks (task.c). A task runs as a chain of committer jobs, one batch each,
 * recording its progress in the same transaction as the batch; its HTTP calls are in api_task.c. */
#ifndef HOOKD_TASK_H
#define HOOKD_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "commit.h"
#include "queue.h"
#include "model.h"

struct pfilter;

#define TASK_KIND_RECOVER "endpoint.recover"
#define TASK_KIND_REPLAY "endpoint.replay"
#define TASK_KIND_SOURCE_REPLAY "source.replay" /* app_id: the source's app; no endpoint */
#define TASK_KIND_BULK_REPLAY "endpoint.bulk-replay" /* params: {"eventTypes"?, "channel"?, "tag"?, "status"?,
						      * "statusCodeClass"?} */
#define TASK_KIND_PURGE "application.purge_content" /* every message payload of app_id forgotten; no endpoint */
#define ID_SLACK_MS 1000 /* an id's time may run ahead of created_ms: widen the id bounds of a window by this */

struct task_run {
	struct commit_job job;
	struct task t;
	int64_t committed;          /* t.processed as last committed */
	char after_id[ID_MAX];      /* replay: the message cursor (t.after_id, or the window's lower id bound) */
	char before_id[ID_MAX];     /* replay: the window's upper id bound */
	struct endpoint ep;         /* replay: the endpoint's filters, as the task started */
	struct pfilter *pf;         /* replay: ep.payload_filter compiled */
	struct outmsg **out;        /* this batch's deliveries, for the queue after the commit */
	size_t nout;
	bool failing;               /* the job only records that the task failed */
	struct strlist bulk_types;  /* bulk-replay: t.params parsed (v NULL: any type) */
	char *bulk_channel, *bulk_tag; /* bulk-replay: NULL: any */
	int bulk_status;            /* bulk-replay: the delivery's status to the endpoint (-1: any) */
	int bulk_code_class;        /* bulk-replay: its last attempt's status code class, 0 no answer (-1: any) */
};

/* A runner for task t over its window, from its cursor; ep (moved in, or NULL) the endpoint as the task started. */
struct task_run *task_run_new(const struct task *t, struct endpoint *ep);
/* Once its task row is committed, the runner owns itself: its batches run as committer jobs until it ends. */
void task_run_start(struct task_run *tr);
/* A runner not started (or ended). */
void task_run_free(struct task_run *tr);
/* Take over the running tasks that have no runner (store_write_ops.tasks_adopt) and resume each from its
 * cursor, in a committer job: at start-up (own_too: this node's own, cut short by its last stop), and, on a
 * shared database, about once a lease time for the tasks of nodes that died. A call while the last one is
 * still at work does nothing. */
void tasks_adopt(bool own_too);
/* Running tasks stop queueing batches (shutdown: they stay "running" in the store, resumed at the next start
 * or by another node). */
void tasks_stop(void);

#endif
