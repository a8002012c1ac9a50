/* api_stats.c: POST /stats/usage/app (Svix AppUsageStatsIn/Out): the message destinations (deliveries) of each app
 * for the messages created in a window. The call records a finished task (application.stats) holding the
 * window and the apps; GET /background-task/{id} shows the figures as its data, read when asked (the window is
 * closed, so they change only as retention drops deliveries). PUT /stats/usage/event-types (Svix's
 * aggregateEventTypes) records a finished task (event-type.aggregate) whose data, read the same way, is the event
 * types the endpoints of every app subscribe to. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "id.h"
#include "opevents.h"
#include "source.h"

/* An app's deliveries of the messages created in [since, until). */
static int64_t app_destinations(struct store *st, const char *app_id, const char *after, const char *before)
{
	struct endpoint *eps = NULL;
	size_t n = 0;
	int64_t total = 0;
	cache_endpoint_list(app_id, &(struct page){.limit = INT32_MAX, .ascending = true}, &eps, &n);
	for (size_t i = 0; i < n; i++) {
		int64_t c[5] = {0};
		if (st->q->delivery_counts_window(st, app_id, eps[i].id, after, before, c) == STORE_OK)
			total += c[0] + c[1] + c[2] + c[3] + c[4];
		endpoint_dispose(&eps[i]);
	}
	free(eps);
	return total;
}

static json_t *app_row(struct store *st, const struct app *a, const char *after, const char *before)
{
	return json_pack("{s:s,s:o,s:I}", "appId", a->id, "appUid", a->uid ? json_string(a->uid) : json_null(),
			 "messageDestinations", (json_int_t)app_destinations(st, a->id, after, before));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool internal(const struct app *a)
{
	return a->uid != NULL && (strcmp(a->uid, OPEVENTS_APP_UID) == 0 ||
				  strncmp(a->uid, SOURCE_APP_UID_PREFIX, strlen(SOURCE_APP_UID_PREFIX)) == 0);
}

json_t *api_stats_task_data(const struct task *t)
{
	struct store *st = api_store();
	char after[ID_MAX], before[ID_MAX];
	id_new_at("msg_", t->since_ms - 1, after);
	id_new_at("msg_", t->until_ms, before);
	json_t *apps = json_array();
	json_t *p = json_loads(t->params, 0, NULL);
	json_t *ids = json_object_get(p, "appIds");
	if (json_is_array(ids)) {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v) {
			struct app a;
			if (cache_app_get(json_string_value(v) ? json_string_value(v) : "", &a) == STORE_OK) {
				json_array_append_new(apps, app_row(st, &a, after, before));
				app_dispose(&a);
			}
		}
	} else {
		struct app *all = NULL;
		size_t n = 0;
		cache_app_list(&(struct page){.limit = INT32_MAX, .ascending = true}, &all, &n);
		for (size_t i = 0; i < n; i++) {
			if (!internal(&all[i]))
				json_array_append_new(apps, app_row(st, &all[i], after, before));
			app_dispose(&all[i]);
		}
		free(all);
	}
	json_decref(p);
	return json_pack("{s:o,s:o,s:o}", "since", time_to_json(t->since_ms), "until", time_to_json(t->until_ms),
			 "apps", apps);
}

/* The event type filters of every endpoint of the customers' apps: {"eventTypes": [{"name", "endpoints"}] by name,
 * "endpoints": n, "endpointsWithoutFilter": n} (an endpoint without a filter takes every type). */
json_t *api_stats_event_types_data(void)
{
	struct app *all = NULL;
	size_t napps = 0;
	json_t *counts = json_object();
	json_int_t eps_total = 0, unfiltered = 0;
	cache_app_list(&(struct page){.limit = INT32_MAX, .ascending = true}, &all, &napps);
	for (size_t a = 0; a < napps; a++) {
		struct endpoint *eps = NULL;
		size_t n = 0;
		if (!internal(&all[a]))
			cache_endpoint_list(all[a].id, &(struct page){.limit = INT32_MAX, .ascending = true}, &eps, &n);
		for (size_t i = 0; i < n; i++) {
			eps_total++;
			unfiltered += eps[i].event_types.v == NULL;
			for (size_t k = 0; k < eps[i].event_types.n; k++) {
				const char *name = eps[i].event_types.v[k];
				json_int_t c = json_integer_value(json_object_get(counts, name));
				json_object_set_new(counts, name, json_integer(c + 1));
			}
			endpoint_dispose(&eps[i]);
		}
		free(eps);
		app_dispose(&all[a]);
	}
	free(all);
	/* by name: json_object_keys are unordered, so sort them first */
	size_t nk = json_object_size(counts), i = 0;
	const char **names = xcalloc(nk ? nk : 1, sizeof *names);
	const char *k;
	json_t *v;
	json_object_foreach (counts, k, v)
		names[i++] = k;
	qsort(names, nk, sizeof *names, cmp_str);
	json_t *types = json_array();
	for (i = 0; i < nk; i++)
		json_array_append_new(types, json_pack("{s:s,s:O}", "name", names[i], "endpoints",
						       json_object_get(counts, names[i])));
	free(names);
	json_decref(counts);
	return json_pack("{s:o,s:I,s:I}", "eventTypes", types, "endpoints", eps_total, "endpointsWithoutFilter",
			 unfiltered);
}

static int stats_run(struct store *st, struct req *r) { return st->w->task_put(st, r->op); }
static void stats_cleanup(struct req *r) { free(r->op); }

void api_stats_usage_app(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	struct task *t = xcalloc(1, sizeof *t);
	r->op = t;
	r->cleanup = stats_cleanup;
	const char *s;
	const char *names[2] = {"since", "until"};
	int64_t *when[2] = {&t->since_ms, &t->until_ms};
	for (int i = 0; i < 2; i++) {
		if (jfield_string(body, names[i], 1, 64, &ve, &s) && rfc3339_parse(s, when[i]) < 0)
			verr_add(&ve, names[i], "invalid datetime format", "value_error.datetime");
		else if (jfield_missing(body, names[i]))
			verr_add(&ve, names[i], "field required", "value_error.missing");
	}
	if (!verr_any(&ve) && t->until_ms <= t->since_ms)
		verr_add(&ve, "until", "until must be after since", "value_error");
	struct strlist want = {0};
	jfield_strlist(body, "appIds", 50, uid_valid, &ve, &want);
	json_decref(body);
	json_t *resolved = json_array(), *unresolved = json_array();
	for (size_t i = 0; i < want.n; i++) {
		char id[ID_MAX];
		if (cache_app_resolve(want.v[i], id) == STORE_OK)
			json_array_append_new(resolved, json_string(id));
		else
			json_array_append_new(unresolved, json_string(want.v[i]));
	}
	if (want.v != NULL) {
		json_t *p = json_pack("{s:O}", "appIds", resolved);
		char *params = json_dumps(p, JSON_COMPACT);
		json_decref(p);
		if (strlen(params) >= sizeof t->params)
			verr_add(&ve, "appIds", "too many apps", "value_error");
		else
			snprintf(t->params, sizeof t->params, "%s", params);
		free(params);
	}
	strlist_dispose(&want);
	json_decref(resolved);
	if (verr_any(&ve)) {
		json_decref(unresolved);
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	id_new("qtask_", t->id);
	snprintf(t->kind, sizeof t->kind, "application.stats");
	t->status = TASK_FINISHED; /* the figures are read when the task is */
	t->created_ms = t->updated_ms = now_ms();
	api_reply_json(r, 202, json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", t->id, "status", task_status_text(t->status),
					 "task", t->kind, "updatedAt", time_to_json(t->updated_ms),
					 "unresolvedAppIds", unresolved));
	r->run = stats_run;
	api_submit(r);
}

void api_stats_usage_event_types(struct req *r)
{
	struct task *t = xcalloc(1, sizeof *t);
	r->op = t;
	r->cleanup = stats_cleanup;
	id_new("qtask_", t->id);
	snprintf(t->kind, sizeof t->kind, "event-type.aggregate");
	t->status = TASK_FINISHED; /* the figures are read when the task is */
	t->created_ms = t->updated_ms = now_ms();
	api_reply_json(r, 202, json_pack("{s:s,s:s,s:s,s:o}", "id", t->id, "status", task_status_text(t->status),
					 "task", t->kind, "updatedAt", time_to_json(t->updated_ms)));
	r->run = stats_run;
	api_submit(r);
}
