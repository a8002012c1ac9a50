/* api_task.c: background tasks: POST .../endpoint/{ep}/recover and .../replay-missing, POST
 * /source/{id}/replay, GET /background-task. The call commits a task row and answers 202 at once; the work then
 * runs in task.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "filter.h"
#include "json.h"
#include "source.h"
#include "task.h"


static json_t *task_json(const struct task *t, bool with_data)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:o}", "id", t->id, "status", task_status_text(t->status), "task",
			      t->kind, "updatedAt", time_to_json(t->updated_ms));
	if (with_data && strcmp(t->kind, "application.stats") == 0)
		json_object_set_new(j, "data", api_stats_task_data(t));
	else if (with_data && strcmp(t->kind, "event-type.aggregate") == 0)
		json_object_set_new(j, "data", api_stats_event_types_data());
	else if (with_data)
		json_object_set_new(j, "data", json_pack("{s:I}", "processed", (json_int_t)t->processed));
	return j;
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
	task_run_start(tr);
}

static void task_cleanup(struct req *r)
{
	if (r->op != NULL)
		task_run_free(r->op);
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
			int64_t until, const char *params)
{
	struct task t = {.since_ms = since, .until_ms = until, .created_ms = now_ms()};
	if (params != NULL)
		snprintf(t.params, sizeof t.params, "%s", params);
	id_new("qtask_", t.id);
	snprintf(t.kind, sizeof t.kind, "%s", kind);
	memcpy(t.app_id, app_id, ID_MAX);
	t.updated_ms = t.created_ms;
	if (e != NULL)
		memcpy(t.endpoint_id, e->id, ID_MAX);
	struct task_run *tr = task_run_new(&t, e);
	r->op = tr;
	r->cleanup = task_cleanup;
	api_reply_json(r, 202, task_json(&tr->t, false));
	r->run = task_create_run;
	r->after = task_create_after;
	api_submit(r);
}

static void task_start(struct req *r, const char *kind, const char *params)
{
	int64_t since = 0, until = 0;
	struct app a;
	struct endpoint e;
	if (window_parse(r, &since, &until) < 0 || api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (cache_endpoint_get(a.id, r->seg[3], &e) != STORE_OK) {
		api_not_found(r);
	} else if (endpoint_is_poller(&e)) { /* nothing to send again: its consumers read every message */
		api_error(r, 422, "validation_error", "a poller sink takes no deliveries: its consumers read the messages");
		endpoint_dispose(&e);
	} else {
		task_launch(r, kind, a.id, &e, since, until, params);
	}
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
		task_launch(r, TASK_KIND_SOURCE_REPLAY, s->app_id, NULL, since, until, NULL);
	source_unref(s);
}

/* POST .../msg/expunge-all-contents: every message payload of the app forgotten, as a task (once per cluster,
 * resumed from its cursor if cut short). */
void api_msg_expunge_all(struct req *r)
{
	char app_id[ID_MAX];
	if (cache_app_resolve(r->seg[1], app_id) != STORE_OK)
		api_not_found(r);
	else
		task_launch(r, TASK_KIND_PURGE, app_id, NULL, 1, now_ms() + 1, NULL);
}

/* Every fail delivery of the endpoint whose message is in the window goes back to pending, due now. */
void api_endpoint_recover(struct req *r) { task_start(r, TASK_KIND_RECOVER, NULL); }
/* Every message of the app in the window that the endpoint's filters take and that never went to it. */
void api_endpoint_replay_missing(struct req *r) { task_start(r, TASK_KIND_REPLAY, NULL); }

/* POST .../endpoint/{ep}/bulk-replay (Svix BulkReplayIn): every message of the app created in the window that
 * the filters (eventTypes, channel, tag) and the endpoint's own take goes to it again, sent before or not; with
 * status (MessageStatus) and/or statusCodeClass, only those whose latest delivery to this endpoint has that
 * status and/or whose latest attempt there got a code of that class (0: no HTTP answer). */
void api_endpoint_bulk_replay(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	struct strlist types = {0};
	const char *channel = NULL, *tag = NULL;
	jfield_strlist(body, "eventTypes", 100, filter_event_type_valid, &ve, &types);
	jfield_string(body, "channel", 1, 128, &ve, &channel);
	jfield_string(body, "tag", 1, 128, &ve, &tag);
	int64_t status = -1, code_class = -1;
	jfield_int(body, "status", DS_SUCCESS, DS_CANCELED, &ve, &status); /* Svix's MessageStatus */
	if (jfield_int(body, "statusCodeClass", 0, 500, &ve, &code_class) && code_class % 100 != 0)
		verr_add(&ve, "statusCodeClass", "one of 0, 100, 200, 300, 400, 500", "value_error");
	json_t *p = json_object();
	if (types.v != NULL)
		json_object_set_new(p, "eventTypes", strlist_to_json(&types));
	if (channel != NULL)
		json_object_set_new(p, "channel", json_string(channel));
	if (tag != NULL)
		json_object_set_new(p, "tag", json_string(tag));
	if (status >= 0)
		json_object_set_new(p, "status", json_integer(status));
	if (code_class >= 0)
		json_object_set_new(p, "statusCodeClass", json_integer(code_class));
	char *params = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	json_decref(body);
	strlist_dispose(&types);
	if (strlen(params) >= TASK_PARAMS_MAX)
		verr_add(&ve, "eventTypes", "the filters are too long", "value_error");
	if (verr_any(&ve))
		api_reply(r, 422, verr_body(&ve));
	else
		task_start(r, TASK_KIND_BULK_REPLAY, params);
	free(params);
}

void api_task_get(struct req *r)
{
	struct task t;
	int rc = api_store()->q->task_get(api_store(), r->seg[1], &t);
	if (rc == STORE_OK && r->tok.app_id[0] != '\0' && strcmp(t.app_id, r->tok.app_id) != 0)
		rc = STORE_NOTFOUND; /* an app token sees its own app's tasks only */
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
	if (list_filters(r, &status, &kind) < 0 || api_list_begin(r, false, "qtask_", &lr) < 0)
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
