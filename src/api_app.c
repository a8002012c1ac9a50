/* api_app.c: /app — applications. Reads come from the cache; writes go through the committer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "json.h"
#include "opevents.h"
#include "source.h"

int api_app_lookup(struct req *r, const char *id_or_uid, struct app *out)
{
	if (cache_app_get(id_or_uid, out) != STORE_OK) {
		api_not_found(r);
		return -1;
	}
	return 0;
}

/* Apply an ApplicationIn / ApplicationPatch body onto a. */
void api_app_parse(json_t *body, struct app *a, bool patch, struct verr *ve)
{
	const char *s;
	int64_t n;
	json_t *meta = NULL;
	if (jfield_string(body, "name", 1, 256, ve, &s)) {
		free(a->name);
		a->name = xstrdup(s);
	} else if (a->name == NULL && jfield_missing(body, "name")) {
		verr_add(ve, "name", "field required", "value_error.missing");
	}
	if (jfield_string(body, "uid", 1, 256, ve, &s)) {
		if (!uid_valid(s)) {
			verr_add(ve, "uid", "uid must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
		} else {
			free(a->uid);
			a->uid = xstrdup(s);
		}
	} else if (jfield_is_null(body, "uid") || (!patch && !json_object_get(body, "uid"))) {
		free(a->uid);
		a->uid = NULL;
	}
	if (jfield_string_map(body, "metadata", ve, &meta)) {
		json_decref(a->metadata);
		a->metadata = meta;
	} else if (!patch && !json_object_get(body, "metadata")) {
		json_decref(a->metadata);
		a->metadata = json_object();
	}
	const char *rate_field = json_object_get(body, "throttleRate") ? "throttleRate" : "rateLimit";
	if (jfield_int(body, rate_field, 1, 1000000, ve, &n))
		a->throttle_rate = n;
	else if (jfield_is_null(body, rate_field) || (!patch && !json_object_get(body, rate_field)))
		a->throttle_rate = 0;
	if (a->metadata == NULL)
		a->metadata = json_object();
}

static int app_put_run(struct store *st, struct req *r)
{
	int rc = st->w->app_put(st, r->op);
	if (rc == STORE_CONFLICT)
		api_error(r, 409, "conflict", "An application with this uid already exists");
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_APP_PUT, .app = r->op});
	return rc;
}

static void app_cleanup(struct req *r)
{
	if (r->op != NULL) {
		app_dispose(r->op);
		free(r->op);
	}
}

/* Write a (moved into the request) and answer status with it once committed. */
static void app_submit(struct req *r, struct app *a, int status)
{
	struct app *op = xmalloc(sizeof *op);
	*op = *a;
	memset(a, 0, sizeof *a);
	r->op = op;
	r->cleanup = app_cleanup;
	if (op->uid != NULL) {
		struct app other;
		if (cache_app_get(op->uid, &other) == STORE_OK) {
			bool taken = strcmp(other.id, op->id) != 0;
			app_dispose(&other);
			if (taken) {
				api_error(r, 409, "conflict", "An application with this uid already exists");
				return;
			}
		}
	}
	api_reply_json(r, status, app_to_json(op));
	r->run = app_put_run;
	api_submit(r);
}

/* An app the list shows: not an internal one (operational webhooks, inbound sources' destinations), and as the
 * exclude_apps_with_* flags ask. */
static bool app_listed(const struct app *a, int no_endpoints, int disabled_endpoints)
{
	if (a->uid != NULL && (strcmp(a->uid, OPEVENTS_APP_UID) == 0 ||
			       strncmp(a->uid, SOURCE_APP_UID_PREFIX, strlen(SOURCE_APP_UID_PREFIX)) == 0))
		return false;
	if (!no_endpoints && !disabled_endpoints)
		return true;
	struct endpoint *eps = NULL;
	size_t n = 0;
	cache_endpoint_list(a->id, &(struct page){.limit = INT32_MAX, .ascending = true}, &eps, &n);
	bool keep = !(no_endpoints && n == 0);
	for (size_t i = 0; i < n; i++) {
		if (disabled_endpoints && eps[i].disabled)
			keep = false;
		endpoint_dispose(&eps[i]);
	}
	free(eps);
	return keep;
}

void api_app_list(struct req *r)
{
	struct list_req lr;
	if (api_list_begin(r, true, "app_", &lr) < 0)
		return;
	int no_eps = api_query_bool(r, "exclude_apps_with_no_endpoints", false);
	if (no_eps < 0)
		return;
	int disabled_eps = api_query_bool(r, "exclude_apps_with_disabled_endpoints", false);
	if (disabled_eps < 0)
		return;
	/* pages of the registry until limit+1 apps are kept (or it ends): a page is full even when some are left out */
	struct app *apps = xcalloc((size_t)lr.pg.limit, sizeof *apps);
	size_t n = 0;
	char bound[ID_MAX] = "";
	for (;;) {
		struct app *got;
		size_t k;
		cache_app_list(&lr.pg, &got, &k);
		for (size_t i = 0; i < k; i++) {
			snprintf(bound, sizeof bound, "%s", got[i].id);
			if (n < (size_t)lr.pg.limit && app_listed(&got[i], no_eps, disabled_eps))
				apps[n++] = got[i];
			else
				app_dispose(&got[i]);
		}
		free(got);
		if (k < (size_t)lr.pg.limit || n == (size_t)lr.pg.limit)
			break;
		if (lr.pg.ascending)
			lr.pg.after = bound;
		else
			lr.pg.before = bound;
	}
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		items[i] = app_to_json(&apps[i]);
		ids[i] = apps[i].id;
	}
	api_list_reply(r, &lr, items, ids, n);
	for (size_t i = 0; i < n; i++)
		app_dispose(&apps[i]);
	free(apps);
	free(items);
	free(ids);
}

void api_app_create(struct req *r)
{
	int get_if_exists = api_query_bool(r, "get_if_exists", false);
	if (get_if_exists < 0)
		return;
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct app a = {0};
	struct verr ve = {0};
	api_app_parse(body, &a, false, &ve);
	json_decref(body);
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		app_dispose(&a);
		return;
	}
	struct app existing;
	if (get_if_exists && a.uid != NULL && cache_app_get(a.uid, &existing) == STORE_OK) {
		api_reply_json(r, 200, app_to_json(&existing));
		app_dispose(&existing);
		app_dispose(&a);
		return;
	}
	id_new("app_", a.id);
	a.created_ms = a.updated_ms = now_ms();
	app_submit(r, &a, 201);
}

void api_app_get(struct req *r)
{
	struct app a;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	api_reply_json(r, 200, app_to_json(&a));
	app_dispose(&a);
}

static void app_write(struct req *r, bool patch)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct app a = {0};
	bool exists = cache_app_get(r->seg[1], &a) == STORE_OK;
	if (!exists && patch) {
		json_decref(body);
		api_not_found(r);
		return;
	}
	struct verr ve = {0};
	api_app_parse(body, &a, patch, &ve);
	json_decref(body);
	if (!exists && a.uid == NULL && !id_is("app_", r->seg[1])) {
		if (uid_valid(r->seg[1]))
			a.uid = xstrdup(r->seg[1]); /* PUT /app/{uid} creates the app with that uid */
	}
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		app_dispose(&a);
		return;
	}
	a.updated_ms = now_ms();
	if (!exists) {
		if (id_is("app_", r->seg[1]))
			snprintf(a.id, sizeof a.id, "%s", r->seg[1]);
		else
			id_new("app_", a.id);
		a.created_ms = a.updated_ms;
	}
	app_submit(r, &a, exists ? 200 : 201);
}

void api_app_put(struct req *r) { app_write(r, false); }
void api_app_patch(struct req *r) { app_write(r, true); }

static int app_delete_run(struct store *st, struct req *r)
{
	int rc = st->w->app_delete(st, ((struct app *)r->op)->id);
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_APP_DELETE, .id = ((struct app *)r->op)->id});
	return rc;
}

void api_app_delete(struct req *r)
{
	struct app *a = xcalloc(1, sizeof *a);
	r->op = a;
	r->cleanup = app_cleanup;
	if (api_app_lookup(r, r->seg[1], a) < 0)
		return;
	api_reply(r, 204, NULL);
	r->run = app_delete_run;
	api_submit(r);
}
