/* task.c: the engine of background tasks (recover, replay-missing, source replay, expunge-all-contents); api_task.c
 * has the calls.
 *
 * The call commits a task row and answers 202 at once. The work then runs as a chain of committer jobs, each
 * doing one batch (TASK_BATCH deliveries) and recording the task's progress in the same transaction; after its
 * commit a job hands the batch's deliveries to the dispatcher and queues the next job behind the writes that
 * arrived meanwhile, so live traffic shares every commit with the task instead of waiting for it. The task's
 * cursor is committed with each batch: a task cut short (a shutdown, a crash, its node's death on a shared
 * database) stays "running" in the store and is taken over and resumed exactly where it was (tasks_adopt).
 * Only one runner writes a task: on a shared database task_put answers STORE_CONFLICT to a runner whose task
 * another node took over, and that runner stops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "filter.h"
#include "id.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "task.h"

#define TASK_BATCH 500
#define TASK_BATCH_BYTES (8 << 20) /* payloads a batch holds until the dispatcher takes them */

static int stopping; /* atomic: no further batches after tasks_stop */

void tasks_stop(void) { __atomic_store_n(&stopping, 1, __ATOMIC_RELEASE); }

void task_run_free(struct task_run *tr)
{
	for (size_t i = 0; i < tr->nout; i++)
		outmsg_unref(tr->out[i]);
	free(tr->out);
	endpoint_dispose(&tr->ep);
	pfilter_free(tr->pf);
	strlist_dispose(&tr->bulk_types);
	free(tr->bulk_channel);
	free(tr->bulk_tag);
	free(tr);
}

/* One delivery of m (moved in) to the task's endpoint, kept in the batch for the queue to schedule after the
 * commit. */
static struct outmsg *out_add(struct task_run *tr, struct message *m)
{
	char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
	memcpy(ids[0], tr->t.endpoint_id, ID_MAX);
	struct outmsg *om = outmsg_new(m, ids, 1);
	tr->out[tr->nout++] = om;
	return om;
}

static int recover_step(struct store *st, struct task_run *tr, int64_t now, bool *last)
{
	struct message *msgs;
	int64_t *dkeys;
	size_t n;
	bool more = false;
	int rc = st->w->recover_batch(st, &tr->t, &tr->t.after_key, TASK_BATCH, TASK_BATCH_BYTES, now, &msgs,
					&dkeys, &n, &more);
	tr->out = xcalloc(n + 1, sizeof *tr->out);
	for (size_t i = 0; i < n; i++) {
		msgs[i].deliver_at_ms = 0; /* due now, as the store has it */
		out_add(tr, &msgs[i])->dkeys[0] = dkeys[i]; /* made pending again by recover_batch */
	}
	tr->t.processed += (int64_t)n;
	*last = !more;
	free(msgs);
	free(dkeys);
	return rc;
}

static bool has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* bulk-replay (Svix: "replays messages sent to the endpoint"): which messages of the batch were sent to the
 * endpoint before and pass the status filters, from one store call for the batch. */
static bool *states_filter(struct store *st, struct task_run *tr, const struct message *msgs, size_t n, int *rc)
{
	if (*rc != STORE_OK || n == 0 || strcmp(tr->t.kind, TASK_KIND_BULK_REPLAY) != 0)
		return NULL;
	char(*ids)[ID_MAX] = xcalloc(n, sizeof *ids);
	int *status = xcalloc(n, sizeof *status), *code = xcalloc(n, sizeof *code);
	bool *pass = xcalloc(n, sizeof *pass);
	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], msgs[i].id, ID_MAX);
	*rc = st->w->delivery_states(st, tr->t.app_id, tr->t.endpoint_id, (const char(*)[ID_MAX])ids, n, status, code);
	for (size_t i = 0; i < n; i++)
		pass[i] = status[i] >= 0 && (tr->bulk_status < 0 || status[i] == tr->bulk_status) &&
			  (tr->bulk_code_class < 0 || (code[i] >= 0 && code[i] / 100 * 100 == tr->bulk_code_class));
	free(ids);
	free(status);
	free(code);
	return pass;
}

/* One batch of the window's messages (replay_scan), each handed to per_msg, which may move it out. */
static int scan_window(struct store *st, struct task_run *tr, int64_t now, bool *last,
		       int (*per_msg)(struct store *, struct task_run *, struct message *, int64_t))
{
	struct message *msgs;
	size_t n;
	bool more = false;
	struct task every = tr->t; /* bulk-replay: every message of the window (states_filter keeps those it sent) */
	if (strcmp(tr->t.kind, TASK_KIND_BULK_REPLAY) == 0)
		every.endpoint_id[0] = '\0';
	int rc = st->w->replay_scan(st, &every, tr->after_id, tr->before_id, TASK_BATCH, TASK_BATCH_BYTES, &msgs,
				      &n, &more);
	bool *pass = states_filter(st, tr, msgs, n, &rc);
	tr->out = xcalloc(n + 1, sizeof *tr->out);
	for (size_t i = 0; i < n; i++) {
		memcpy(tr->after_id, msgs[i].id, ID_MAX);
		memcpy(tr->t.after_id, msgs[i].id, ID_MAX);
		if (rc == STORE_OK && (pass == NULL || pass[i]))
			rc = per_msg(st, tr, &msgs[i], now);
		message_dispose(&msgs[i]);
	}
	*last = !more;
	free(pass);
	free(msgs);
	return rc;
}

/* replay-missing: the message goes to the task's endpoint if its filters take it. */
static int replay_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	int64_t due = m->deliver_at_ms > now ? m->deliver_at_ms : now;
	if (!filter_types_match(&tr->ep.event_types, m->event_type) ||
	    !filter_channels_match(&tr->ep.channels, &m->channels))
		return STORE_OK;
	json_t *parsed = NULL;
	bool take = cache_payload_match(&tr->ep, tr->pf, m, NULL, &parsed);
	json_decref(parsed);
	if (!take)
		return STORE_OK;
	int rc = queue_write_deliveries(st, out_add(tr, m), due);
	if (rc == STORE_OK)
		tr->t.processed++;
	return rc;
}

/* bulk-replay: the message goes to the task's endpoint again if the task's filters and the endpoint's take it. */
static int bulk_replay_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	if ((tr->bulk_types.v != NULL && !has(&tr->bulk_types, m->event_type)) ||
	    (tr->bulk_channel != NULL && !has(&m->channels, tr->bulk_channel)) ||
	    (tr->bulk_tag != NULL && !has(&m->tags, tr->bulk_tag)))
		return STORE_OK;
	return replay_msg(st, tr, m, now);
}

/* Source replay: a forwarded request (its message, while the payload is kept) goes again to each of the
 * source's current destinations. (The scan's "no delivery to endpoint ''" always holds.) */
static int source_replay_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	char(*ids)[ID_MAX];
	size_t k = m->payload != NULL ? cache_fanout(m, NULL, &ids) : 0;
	if (k == 0)
		return STORE_OK;
	m->deliver_at_ms = 0;
	struct outmsg *om = outmsg_new(m, ids, k);
	tr->out[tr->nout++] = om;
	tr->t.processed += (int64_t)k;
	return queue_write_deliveries(st, om, now);
}

/* expunge-all-contents: the message's payload is forgotten (the record stays). */
static int purge_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	(void)now;
	if (m->payload == NULL)
		return STORE_OK;
	int rc = st->w->msg_expunge(st, tr->t.app_id, m->id);
	if (rc == STORE_NOTFOUND) /* deleted since the scan read it */
		return STORE_OK;
	if (rc == STORE_OK)
		tr->t.processed++;
	return rc;
}

/* The task's target is gone: its endpoint (or, for the tasks of a whole app, that app). */
static bool target_gone(const struct task *t)
{
	if (strcmp(t->kind, TASK_KIND_SOURCE_REPLAY) == 0 || strcmp(t->kind, TASK_KIND_PURGE) == 0)
		return cache_app_resolve(t->app_id, (char[ID_MAX]){0}) != STORE_OK;
	struct ep_snap *ep = cache_endpoint_ref(t->endpoint_id);
	ep_snap_unref(ep);
	return ep == NULL;
}

static int task_job_run(struct store *st, void *arg)
{
	struct task_run *tr = arg;
	int64_t now = now_ms();
	bool last = false;
	int rc = STORE_OK;
	tr->nout = 0;
	if (!tr->failing && target_gone(&tr->t)) {
		log_warnx("task %s: its target was deleted; the task fails", tr->t.id);
		tr->failing = true;
	}
	if (!tr->failing)
		rc = strcmp(tr->t.kind, TASK_KIND_RECOVER) == 0 ? recover_step(st, tr, now, &last)
		     : scan_window(st, tr, now, &last,
				   strcmp(tr->t.kind, TASK_KIND_SOURCE_REPLAY) == 0 ? source_replay_msg
				   : strcmp(tr->t.kind, TASK_KIND_PURGE) == 0    ? purge_msg
				   : strcmp(tr->t.kind, TASK_KIND_BULK_REPLAY) == 0 ? bulk_replay_msg
										 : replay_msg);
	if (rc != STORE_OK)
		return rc;
	tr->t.status = tr->failing ? TASK_FAILED : last ? TASK_FINISHED : TASK_RUNNING;
	tr->t.updated_ms = now;
	return st->w->task_put(st, &tr->t);
}

static void task_job_done(void *arg, int rc)
{
	struct task_run *tr = arg;
	if (rc == STORE_CONFLICT) { /* another node took the task over (ours was thought dead): it goes on there */
		log_warnx("task %s: taken over by another node; this node stops running it", tr->t.id);
		task_run_free(tr);
		return;
	}
	if (rc == STORE_OK && !tr->failing) {
		tr->committed = tr->t.processed;
		for (size_t i = 0; i < tr->nout; i++)
			queue_committed(tr->out[i], STORE_OK);
		tr->nout = 0;
	}
	for (size_t i = 0; i < tr->nout; i++) /* a rolled-back batch: nothing was queued in the store */
		outmsg_unref(tr->out[i]);
	free(tr->out);
	tr->out = NULL;
	tr->nout = 0;
	bool stop = __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
	if (tr->failing || stop || (rc == STORE_OK && tr->t.status != TASK_RUNNING)) {
		task_run_free(tr);
		return;
	}
	if (rc != STORE_OK) {
		log_warnx("task %s (%s) failed after %lld deliveries", tr->t.id, tr->t.kind,
			  (long long)tr->committed);
		tr->failing = true;
		tr->t.processed = tr->committed;
	}
	commit_submit(&tr->job);
}

void task_run_start(struct task_run *tr)
{
	tr->job = (struct commit_job){.run = task_job_run, .done = task_job_done, .arg = tr};
	commit_submit(&tr->job);
}

struct task_run *task_run_new(const struct task *t, struct endpoint *ep)
{
	struct task_run *tr = xcalloc(1, sizeof *tr);
	tr->t = *t;
	tr->committed = t->processed;
	/* the id bounds hold every message created in the window (ids carry their creation time) */
	if (t->after_id[0] != '\0')
		memcpy(tr->after_id, t->after_id, ID_MAX);
	else
		id_new_at("msg_", t->since_ms - ID_SLACK_MS, tr->after_id);
	id_new_at("msg_", t->until_ms + ID_SLACK_MS, tr->before_id);
	tr->bulk_status = tr->bulk_code_class = -1;
	if (t->params[0] != '\0') {
		json_t *p = json_loads(t->params, 0, NULL);
		json_t *types = json_object_get(p, "eventTypes");
		if (json_is_array(types))
			strlist_from_json(&tr->bulk_types, types);
		const char *s = json_string_value(json_object_get(p, "channel"));
		tr->bulk_channel = s ? xstrdup(s) : NULL;
		s = json_string_value(json_object_get(p, "tag"));
		tr->bulk_tag = s ? xstrdup(s) : NULL;
		json_t *v = json_object_get(p, "status");
		tr->bulk_status = json_is_integer(v) ? (int)json_integer_value(v) : -1;
		v = json_object_get(p, "statusCodeClass");
		tr->bulk_code_class = json_is_integer(v) ? (int)json_integer_value(v) : -1;
		json_decref(p);
	}
	if (ep != NULL) {
		tr->ep = *ep;
		memset(ep, 0, sizeof *ep);
		char err[PFILTER_ERR_MAX];
		if (tr->ep.payload_filter != NULL) /* not compiling: it takes nothing, as at fan-out */
			tr->pf = pfilter_compile_text(tr->ep.payload_filter, strlen(tr->ep.payload_filter),
						      "payloadFilter", err);
	}
	return tr;
}

/* ---- taking over tasks without a runner ---- */

struct adopt_job {
	struct commit_job job;
	bool own_too;
	struct task *v;
	size_t n;
};

static struct adopt_job adopt_job;
static int adopt_busy; /* atomic */

static int adopt_run(struct store *st, void *arg)
{
	struct adopt_job *a = arg;
	free(a->v);
	a->v = NULL;
	a->n = 0;
	return st->w->tasks_adopt(st, now_ms(), a->own_too, &a->v, &a->n);
}

static void adopt_done(void *arg, int rc)
{
	struct adopt_job *a = arg;
	bool stop = __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
	for (size_t i = 0; rc == STORE_OK && !stop && i < a->n; i++) {
		const struct task *t = &a->v[i];
		struct endpoint ep = {0};
		bool have_ep = t->endpoint_id[0] != '\0' && cache_endpoint_get(t->app_id, t->endpoint_id, &ep) == STORE_OK;
		struct task_run *tr = task_run_new(t, have_ep ? &ep : NULL); /* no endpoint: target_gone fails it */
		log_info("task %s (%s): resumed after %lld deliveries", t->id, t->kind, (long long)t->processed);
		task_run_start(tr);
	}
	/* on a stop, the adopted tasks stay running in the store, this node's: resumed at its next start or by
	 * another node once this one is gone */
	free(a->v);
	a->v = NULL;
	a->n = 0;
	__atomic_store_n(&adopt_busy, 0, __ATOMIC_RELEASE);
}

void tasks_adopt(bool own_too)
{
	if (__atomic_exchange_n(&adopt_busy, 1, __ATOMIC_ACQ_REL))
		return;
	adopt_job = (struct adopt_job){.job = {.run = adopt_run, .done = adopt_done, .arg = &adopt_job},
				       .own_too = own_too};
	commit_submit(&adopt_job.job);
}
