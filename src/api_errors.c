/* api_errors.c: 404s and 405s that say what is missing. A handler that finds nothing calls api_not_found; the
 * path's segments tell which entity it was: the first of them (app, endpoint, message) that does not exist, or
 * the last one named. Only on the error path: the lookups cost nothing to an answer that succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"

/* A collection segment and the kind its id names. */
static const struct {
	const char *seg, *kind;
} kinds[] = {
	{"app", "app"},
	{"endpoint", "endpoint"},
	{"msg", "message"},
	{"attempt", "attempt"},
	{"event-type", "event type"},
	{"source", "source"},
	{"request", "request"},
	{"background-task", "background task"},
	{"api-version", "api version"},
	{"app-portal-access", "app"},
	{"dashboard-access", "app"},
	{"operational-webhook", NULL}, /* operational-webhook/endpoint/{id} */
};

static const char *kind_of(const char *seg)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kinds[i].seg, seg) == 0)
			return kinds[i].kind;
	return NULL;
}

static void say(struct req *r, const char *kind, const char *id, const char *app)
{
	char detail[700];
	if (app != NULL)
		snprintf(detail, sizeof detail, "%s %.200s not found in app %.200s", kind, id, app);
	else
		snprintf(detail, sizeof detail, "%s %.200s not found", kind, id);
	api_error(r, 404, "not_found", detail);
}

/* Does the entity (kind, id) under app_id exist? -1: not a kind checked here. */
static int exists(const char *kind, const char *id, const char *app_id)
{
	if (strcmp(kind, "app") == 0) {
		char got[ID_MAX];
		return cache_app_resolve(id, got) == STORE_OK;
	}
	if (strcmp(kind, "endpoint") == 0 && app_id != NULL) {
		struct endpoint e = {0};
		int rc = cache_endpoint_get(app_id, id, &e);
		endpoint_dispose(&e);
		return rc == STORE_OK;
	}
	if (strcmp(kind, "message") == 0 && app_id != NULL) {
		struct message m = {0};
		struct store *st = api_store();
		int rc = st->q->msg_get(st, app_id, id, &m);
		message_dispose(&m);
		return rc == STORE_OK || rc != STORE_NOTFOUND; /* a failing database: not this one's fault */
	}
	return -1;
}

void api_not_found(struct req *r)
{
	const char *app_arg = NULL; /* the app as the path names it */
	char app_id[ID_MAX] = "";
	const char *last_kind = NULL, *last_id = NULL;
	for (int i = 0; i + 1 < r->nseg; i++) {
		const char *kind = kind_of(r->seg[i]);
		if (kind == NULL)
			continue;
		/* attempt/endpoint/{ep}, attempt/msg/{msg}: the kind is the next segment's */
		if (strcmp(r->seg[i], "attempt") == 0 && i + 2 < r->nseg && kind_of(r->seg[i + 1]) != NULL &&
		    strcmp(r->seg[i + 1], "attempt") != 0)
			continue;
		const char *id = r->seg[i + 1];
		if (kind_of(id) != NULL && strcmp(kind, "app") != 0)
			continue; /* a collection after a collection: "auth/app/x/..." */
		int ok = exists(kind, id, app_id[0] ? app_id : NULL);
		if (ok == 0) {
			say(r, kind, id, strcmp(kind, "app") == 0 ? NULL : app_arg);
			return;
		}
		if (strcmp(kind, "app") == 0 && ok == 1) {
			app_arg = id;
			cache_app_resolve(id, app_id);
		}
		last_kind = kind;
		last_id = id;
		i++;
	}
	const char *ep = api_query(r, "endpoint_id"); /* attempts by message, filtered by an endpoint */
	if (ep != NULL && app_id[0] != '\0' && exists("endpoint", ep, app_id) == 0) {
		say(r, "endpoint", ep, app_arg);
		return;
	}
	if (last_kind != NULL && exists(last_kind, last_id, app_id[0] ? app_id : NULL) != 1) {
		say(r, last_kind, last_id, strcmp(last_kind, "app") == 0 ? NULL : app_arg);
		return;
	}
	api_error(r, 404, "not_found", "Entity not found");
}

void api_no_route(struct req *r, const char *allow)
{
	char detail[600];
	const char *path = r->raw_path != NULL ? r->raw_path : r->url;
	if (allow == NULL) {
		snprintf(detail, sizeof detail, "no route %s %.500s", r->method, path);
		api_error(r, 404, "not_found", detail);
		return;
	}
	snprintf(detail, sizeof detail, "%s is not allowed on %.400s; it takes %s", r->method, path, allow);
	api_error(r, 405, "method_not_allowed", detail);
	free(r->allow);
	r->allow = xstrdup(allow);
}
