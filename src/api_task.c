/* api_task.c: background tasks: POST .../endpoint/{ep}/recover and .../replay-missing, GET /background-task.
 *
 * The call commits a task row and answers 202 at once. The work then runs as a chain of committer jobs, each
 * doing one batch (TASK_BATCH deliveries) and recording the task's progress in the same transaction; after its
 * commit a job hands the batch's deliveries to the dispatcher and queues the next job behind the writes that
 * arrived meanwhile, so live traffic shares every commit with the task instead of waiting for it. A task cut
 * short by a shutdown stays "running" in the store and is marked failed at the next start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "deliver.h"
#include "filter.h"
#include "json.h"
#include "log.h"
#include "source.h"

#define TASK_BATCH 500
#define TASK_BATCH_BYTES (8 << 20) /* payloads a batch holds until the dispatcher takes them */
#define ID_SLACK_MS 1000 /* an id's time may run ahead of created_ms: widen the id bounds of a window by this */

static const char KIND_RECOVER[] = "endpoint.recover";
static const char KIND_REPLAY[] = "endpoint.replay";
static const char KIND_SOURCE_REPLAY[] = "source.replay"; /* app_id: the source's app; no endpoint */

struct task_run {
	struct commit_job job;
	struct task t;
	int64_t committed;          /* t.processed as last committed */
	int64_t after_dkey;        /* recover: the key cursor */
	char after_id[ID_MAX];      /* replay: the message cursor (from the window's lower id bound) */
	char before_id[ID_MAX];     /* replay: the window's upper id bound */
	struct endpoint ep;         /* replay: the endpoint's filters, as the task started */
	struct outmsg **out;        /* this batch's deliveries, for the dispatcher after the commit */
	size_t nout;
	bool failing;               /* the job only records that the task failed */
};

static int stopping; /* atomic: no further batches after tasks_stop */

void tasks_stop(void) { __atomic_store_n(&stopping, 1, __ATOMIC_RELEASE); }

static json_t *task_json(const struct task *t, bool with_data)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:o}", "id", t->id, "status", task_status_text(t->status), "task",
			      t->kind, "updatedAt", time_to_json(t->updated_ms));
	if (with_data)
		json_object_set_new(j, "data", json_pack("{s:I}", "processed", (json_int_t)t->processed));
	return j;
}

static void run_free(struct task_run *tr)
{
	for (size_t i = 0; i < tr->nout; i++)
		outmsg_unref(tr->out[i]);
	free(tr->out);
	endpoint_dispose(&tr->ep);
	free(tr);
}

/* One delivery (dkey) of m (moved in) to the task's endpoint, for the dispatcher. */
static void out_add(struct task_run *tr, struct message *m, int64_t dkey)
{
	char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
	memcpy(ids[0], tr->t.endpoint_id, ID_MAX);
	struct outmsg *om = outmsg_new(m, ids, 1);
	om->dkeys[0] = dkey;
	tr->out[tr->nout++] = om;
}

static int recover_step(struct store *st, struct task_run *tr, int64_t now, bool *last)
{
	struct message *msgs;
	int64_t *dkeys;
	size_t n;
	bool more = false;
	int rc = st->w->recover_batch(st, &tr->t, &tr->after_dkey, TASK_BATCH, TASK_BATCH_BYTES, now, &msgs,
					&dkeys, &n, &more);
	tr->out = xcalloc(n + 1, sizeof *tr->out);
	for (size_t i = 0; i < n; i++) {
		msgs[i].deliver_at_ms = 0; /* due now, as the store has it */
		out_add(tr, &msgs[i], dkeys[i]);
	}
	tr->t.processed += (int64_t)n;
	*last = !more;
	free(msgs);
	free(dkeys);
	return rc;
}

/* One batch of the window's messages (replay_scan), each handed to per_msg, which may move it out. */
static int scan_window(struct store *st, struct task_run *tr, int64_t now, bool *last,
		       int (*per_msg)(struct store *, struct task_run *, struct message *, int64_t))
{
	struct message *msgs;
	size_t n;
	bool more = false;
	int rc = st->w->replay_scan(st, &tr->t, tr->after_id, tr->before_id, TASK_BATCH, TASK_BATCH_BYTES, &msgs,
				      &n, &more);
	tr->out = xcalloc(n + 1, sizeof *tr->out);
	for (size_t i = 0; i < n; i++) {
		memcpy(tr->after_id, msgs[i].id, ID_MAX);
		if (rc == STORE_OK)
			rc = per_msg(st, tr, &msgs[i], now);
		message_dispose(&msgs[i]);
	}
	*last = !more;
	free(msgs);
	return rc;
}

/* replay-missing: the message goes to the task's endpoint if its filters take it. */
static int replay_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	int64_t dkey, due = m->deliver_at_ms > now ? m->deliver_at_ms : now;
	if (!filter_types_match(&tr->ep.event_types, m->event_type) ||
	    !filter_channels_match(&tr->ep.channels, &m->channels))
		return STORE_OK;
	int rc = st->w->delivery_add(st, m->app_id, m->id, tr->t.endpoint_id, TRIGGER_SCHEDULED, due, &dkey);
	if (rc == STORE_OK) {
		out_add(tr, m, dkey);
		tr->t.processed++;
	}
	return rc;
}

/* Source replay: a forwarded request (its message, while the payload is kept) goes again to each of the
 * source's current destinations. (The scan's "no delivery to endpoint ''" always holds.) */
static int source_replay_msg(struct store *st, struct task_run *tr, struct message *m, int64_t now)
{
	char(*ids)[ID_MAX];
	size_t k = m->payload != NULL ? cache_fanout(m->app_id, m->event_type, &m->channels, &ids) : 0;
	if (k == 0)
		return STORE_OK;
	m->deliver_at_ms = 0;
	struct outmsg *om = outmsg_new(m, ids, k);
	tr->out[tr->nout++] = om;
	tr->t.processed += (int64_t)k;
	int rc = STORE_OK;
	for (size_t j = 0; rc == STORE_OK && j < k; j++)
		rc = st->w->delivery_add(st, om->m.app_id, om->m.id, om->ep_ids[j], TRIGGER_SCHEDULED, now,
					   &om->dkeys[j]);
	return rc;
}

/* The task's target is gone: its endpoint (or, replaying a source, the source's app). */
static bool target_gone(const struct task *t)
{
	if (strcmp(t->kind, KIND_SOURCE_REPLAY) == 0)
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
		rc = strcmp(tr->t.kind, KIND_RECOVER) == 0 ? recover_step(st, tr, now, &last)
		     : scan_window(st, tr, now, &last,
				   strcmp(tr->t.kind, KIND_SOURCE_REPLAY) == 0 ? source_replay_msg : replay_msg);
	if (rc != STORE_OK)
		return rc;
	tr->t.status = tr->failing ? TASK_FAILED : last ? TASK_FINISHED : TASK_RUNNING;
	tr->t.updated_ms = now;
	return st->w->task_put(st, &tr->t);
}

static void task_job_done(void *arg, int rc)
{
	struct task_run *tr = arg;
	if (rc == STORE_OK && !tr->failing) {
		tr->committed = tr->t.processed;
		for (size_t i = 0; i < tr->nout; i++)
			deliver_submit(tr->out[i]);
		tr->nout = 0;
	}
	for (size_t i = 0; i < tr->nout; i++) /* a rolled-back batch: nothing was queued in the store */
		outmsg_unref(tr->out[i]);
	free(tr->out);
	tr->out = NULL;
	tr->nout = 0;
	bool stop = __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
	if (tr->failing || stop || (rc == STORE_OK && tr->t.status != TASK_RUNNING)) {
		run_free(tr);
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

/* ---- the calls ---- */

static int task_create_run(struct store *st, struct req *r)
{
	return st->w->task_put(st, &((struct task_run *)r->op)->t);
}

/* After the task row is committed, the runner owns itself. */
static void task_create_after(struct req *r)
{
	struct task_run *tr = r->op;
	r->op = NULL;
	tr->job = (struct commit_job){.run = task_job_run, .done = task_job_done, .arg = tr};
	commit_submit(&tr->job);
}

static void task_cleanup(struct req *r)
{
	if (r->op != NULL)
		run_free(r->op);
}

/* {"since", "until"?} (RFC 3339): until defaults to now, and must come after since. */
static int window_parse(struct req *r, int64_t *since, int64_t *until)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return -1;
	struct verr ve = {0};
	const char *s;
	*until = now_ms() + 1;
	if (jfield_string(body, "since", 1, 64, &ve, &s) && rfc3339_parse(s, since) < 0)
		verr_add(&ve, "since", "invalid datetime format", "value_error.datetime");
	else if (!verr_any(&ve) && jfield_missing(body, "since"))
		verr_add(&ve, "since", "field required", "value_error.missing");
	if (jfield_string(body, "until", 1, 64, &ve, &s) && rfc3339_parse(s, until) < 0)
		verr_add(&ve, "until", "invalid datetime format", "value_error.datetime");
	if (!verr_any(&ve) && *until <= *since)
		verr_add(&ve, "until", "until must be after since", "value_error");
	json_decref(body);
	if (!verr_any(&ve))
		return 0;
	api_reply(r, 422, verr_body(&ve));
	return -1;
}

/* A task of kind on app_id (and endpoint e, moved in, if given) for the window, answered 202 and submitted. */
static void task_launch(struct req *r, const char *kind, const char *app_id, struct endpoint *e, int64_t since,
			int64_t until)
{
	struct task_run *tr = xcalloc(1, sizeof *tr);
	struct task *t = &tr->t;
	id_new("qtask_", t->id);
	snprintf(t->kind, sizeof t->kind, "%s", kind);
	memcpy(t->app_id, app_id, ID_MAX);
	t->since_ms = since;
	t->until_ms = until;
	t->created_ms = t->updated_ms = now_ms();
	id_new_at("msg_", since - ID_SLACK_MS, tr->after_id);
	id_new_at("msg_", until + ID_SLACK_MS, tr->before_id);
	if (e != NULL) {
		memcpy(t->endpoint_id, e->id, ID_MAX);
		tr->ep = *e;
		memset(e, 0, sizeof *e);
	}
	r->op = tr;
	r->cleanup = task_cleanup;
	api_reply_json(r, 202, task_json(t, false));
	r->run = task_create_run;
	r->after = task_create_after;
	api_submit(r);
}

static void task_start(struct req *r, const char *kind)
{
	int64_t since = 0, until = 0;
	struct app a;
	struct endpoint e;
	if (window_parse(r, &since, &until) < 0 || api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (cache_endpoint_get(a.id, r->seg[3], &e) != STORE_OK)
		api_not_found(r);
	else
		task_launch(r, kind, a.id, &e, since, until);
	app_dispose(&a);
}

/* POST /source/{id}/replay {"since", "until"?}: every forwarded request received in the window again. */
void api_source_replay(struct req *r)
{
	int64_t since = 0, until = 0;
	struct source *s = sources_lookup(r->seg[1]);
	if (s == NULL)
		api_not_found(r);
	else if (window_parse(r, &since, &until) == 0)
		task_launch(r, KIND_SOURCE_REPLAY, s->app_id, NULL, since, until);
	source_unref(s);
}

/* Every fail delivery of the endpoint whose message is in the window goes back to pending, due now. */
void api_endpoint_recover(struct req *r) { task_start(r, KIND_RECOVER); }
/* Every message of the app in the window that the endpoint's filters take and that never went to it. */
void api_endpoint_replay_missing(struct req *r) { task_start(r, KIND_REPLAY); }

void api_task_get(struct req *r)
{
	struct task t;
	int rc = api_store()->q->task_get(api_store(), r->seg[1], &t);
	if (rc == STORE_OK)
		api_reply_json(r, 200, task_json(&t, true));
	else if (rc == STORE_NOTFOUND)
		api_not_found(r);
	else
		api_error(r, 500, "internal_error", "the database failed");
}

/* ?status= (running, finished, failed) and ?task= narrow the list; newest first by default. */
static int list_filters(struct req *r, int *status, const char **kind)
{
	const char *s = api_query(r, "status");
	*status = -1;
	*kind = api_query(r, "task");
	for (int i = TASK_RUNNING; s != NULL && i <= TASK_FAILED; i++)
		if (strcmp(s, task_status_text(i)) == 0)
			*status = i;
	if (s == NULL || *status >= 0)
		return 0;
	api_reply_json(r, 422, json_pack("{s:s,s:[{s:[s,s],s:s,s:s}]}", "code", "validation_error", "detail", "loc",
					 "query", "status", "msg", "one of running, finished, failed", "type",
					 "value_error"));
	return -1;
}

void api_task_list(struct req *r)
{
	struct list_req lr;
	int status;
	const char *kind;
	if (list_filters(r, &status, &kind) < 0 || api_list_begin(r, false, &lr) < 0)
		return;
	struct task *v = NULL;
	size_t n = 0;
	if (api_store()->q->task_list(api_store(), &lr.pg, status, kind, &v, &n) != STORE_OK) {
		api_error(r, 500, "internal_error", "the database failed");
		return;
	}
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		items[i] = task_json(&v[i], true);
		ids[i] = v[i].id;
	}
	api_list_reply(r, &lr, items, ids, n);
	free(items);
	free(ids);
	free(v);
}
