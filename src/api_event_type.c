/* api_event_type.c: /event-type — the event type registry (Svix EventTypeIn/Out). Reads come from the registry in
 * memory (evtypes.c); writes go through the committer and update it after the commit. Types are named, not
 * id'd: lists page by name. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "evtypes.h"
#include "filter.h"
#include "json.h"

static json_t *opt_str(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *event_type_to_json(const struct event_type *t, bool with_schemas)
{
	return json_pack("{s:o,s:s,s:s,s:b,s:b,s:o,s:o,s:o,s:o,s:o}", "featureFlags",
			 t->feature_flag ? json_pack("[s]", t->feature_flag) : json_null(), "name", t->name, "description",
			 t->description ? t->description : "", "archived", t->archived, "deprecated", t->deprecated,
			 "schemas", with_schemas && t->schemas ? json_deep_copy(t->schemas) : json_null(),
			 "createdAt", time_to_json(t->created_ms), "updatedAt", time_to_json(t->updated_ms),
			 "featureFlag", opt_str(t->feature_flag), "groupName", opt_str(t->group_name));
}

/* featureFlag and groupName: optional names like an event type's; null clears them; absent keeps them on a
 * PATCH and clears them otherwise. */
static void name_field(json_t *body, const char *field, bool patch, struct verr *ve, char **out)
{
	const char *s;
	if (jfield_string(body, field, 1, 256, ve, &s)) {
		if (!filter_event_type_valid(s)) {
			verr_add(ve, field, "must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
			return;
		}
		free(*out);
		*out = xstrdup(s);
	} else if (jfield_is_null(body, field) || (!patch && jfield_missing(body, field))) {
		free(*out);
		*out = NULL;
	}
}

static void schemas_field(json_t *body, bool patch, struct verr *ve, struct event_type *t)
{
	json_t *s = json_object_get(body, "schemas");
	if (json_is_object(s)) {
		json_decref(t->schemas);
		t->schemas = json_deep_copy(s);
	} else if (s != NULL && !json_is_null(s)) {
		verr_add(ve, "schemas", "value is not a valid dict", "type_error.dict");
	} else if (s != NULL || !patch) {
		json_decref(t->schemas);
		t->schemas = NULL;
	}
}

/* Apply an EventTypeIn / EventTypeUpdate / EventTypePatch body onto t (the name is the caller's). */
static void event_type_parse(json_t *body, struct event_type *t, bool patch, struct verr *ve)
{
	const char *s;
	bool b;
	if (jfield_string(body, "description", 0, 4096, ve, &s)) {
		free(t->description);
		t->description = xstrdup(s);
	} else if (!patch && jfield_missing(body, "description")) {
		verr_add(ve, "description", "field required", "value_error.missing");
	}
	if (jfield_bool(body, "archived", ve, &b))
		t->archived = b;
	else if (!patch)
		t->archived = false;
	if (jfield_bool(body, "deprecated", ve, &b))
		t->deprecated = b;
	else if (!patch)
		t->deprecated = false;
	schemas_field(body, patch, ve, t);
	json_t *flags = json_object_get(body, "featureFlags");
	if (json_is_array(flags) && json_array_size(flags) > 1) /* Svix's plural: hookd keeps one flag per type */
		verr_add(ve, "featureFlags", "at most one feature flag per event type", "value_error");
	else if (json_is_array(flags) && jfield_missing(body, "featureFlag"))
		json_object_set(body, "featureFlag", json_array_size(flags) ? json_array_get(flags, 0) : json_null());
	else if (flags != NULL && !json_is_array(flags) && !json_is_null(flags))
		verr_add(ve, "featureFlags", "value is not a valid list", "type_error.list");
	else if (json_is_null(flags) && jfield_missing(body, "featureFlag"))
		json_object_set_new(body, "featureFlag", json_null());
	name_field(body, "featureFlag", patch, ve, &t->feature_flag);
	name_field(body, "groupName", patch, ve, &t->group_name);
	if (t->description == NULL)
		t->description = xstrdup("");
}

static void event_type_cleanup(struct req *r)
{
	if (r->op != NULL) {
		event_type_dispose(r->op);
		free(r->op);
	}
}

/* After a successful write of r->op: the registry follows once committed. */
static int put_recorded(struct req *r, int rc)
{
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_EVENT_TYPE_PUT, .event_type = r->op});
	return rc;
}

static int put_run(struct store *st, struct req *r)
{
	return put_recorded(r, st->w->event_type_put(st, r->op));
}

static int create_run(struct store *st, struct req *r)
{
	int rc = st->w->event_type_create(st, r->op);
	if (rc == STORE_CONFLICT) /* another create of the name committed first (the check below saw neither) */
		api_error(r, 409, "conflict", "An event type with this name already exists");
	return put_recorded(r, rc);
}

/* Write t (moved into the request) with run and answer status with it once committed. */
static void event_type_submit(struct req *r, struct event_type *t, int status,
			      int (*run)(struct store *, struct req *))
{
	struct event_type *op = xmalloc(sizeof *op);
	*op = *t;
	memset(t, 0, sizeof *t);
	r->op = op;
	r->cleanup = event_type_cleanup;
	if (status == 204)
		api_reply(r, 204, NULL);
	else
		api_reply_json(r, status, event_type_to_json(op, true));
	r->run = run;
	api_submit(r);
}

void api_event_type_list(struct req *r)
{
	int archived = api_query_bool(r, "include_archived", false);
	int with_content = archived < 0 ? -1 : api_query_bool(r, "with_content", false);
	struct list_req lr;
	if (with_content < 0 || api_list_begin(r, true, NULL, &lr) < 0)
		return;
	struct event_type *v;
	size_t n;
	evtypes_list(&lr.pg, archived, &v, &n);
	for (size_t i = 0; i < n;) { /* an app token sees the types of its feature flags only */
		if (api_auth_sees_flag(r, v[i].feature_flag)) {
			i++;
			continue;
		}
		event_type_dispose(&v[i]);
		memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof *v);
		n--;
	}
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		items[i] = event_type_to_json(&v[i], with_content);
		names[i] = v[i].name;
	}
	api_list_reply(r, &lr, items, names, n);
	for (size_t i = 0; i < n; i++)
		event_type_dispose(&v[i]);
	free(v);
	free(items);
	free(names);
}

/* Svix: creating a type that exists but is archived brings it back, replacing its content. */
void api_event_type_create(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct event_type t = {0}, old = {0};
	struct verr ve = {0};
	const char *name;
	if (jfield_string(body, "name", 1, 256, &ve, &name) && filter_event_type_valid(name))
		t.name = xstrdup(name);
	else if (!verr_any(&ve))
		verr_add(&ve, "name",
			 jfield_missing(body, "name") ? "field required" : "must be 1-256 of [a-zA-Z0-9-_.]",
			 "value_error");
	event_type_parse(body, &t, false, &ve);
	json_decref(body);
	bool exists = !verr_any(&ve) && evtypes_get(t.name, &old) == STORE_OK;
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (exists && !old.archived) {
		api_error(r, 409, "conflict", "An event type with this name already exists");
	} else {
		t.created_ms = t.updated_ms = now_ms();
		event_type_submit(r, &t, 201, create_run);
	}
	event_type_dispose(&old);
	event_type_dispose(&t);
}

void api_event_type_get(struct req *r)
{
	struct event_type t;
	if (evtypes_get(r->seg[1], &t) != STORE_OK) {
		api_not_found(r);
		return;
	}
	if (!api_auth_sees_flag(r, t.feature_flag)) {
		event_type_dispose(&t);
		api_not_found(r);
		return;
	}
	api_reply_json(r, 200, event_type_to_json(&t, true));
	event_type_dispose(&t);
}

/* PUT creates the type named by the path when it is absent (201); PATCH needs it to exist. */
static void event_type_update(struct req *r, bool patch)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct event_type t = {0};
	bool exists = evtypes_get(r->seg[1], &t) == STORE_OK;
	struct verr ve = {0};
	if (!exists && (patch || !filter_event_type_valid(r->seg[1]))) {
		api_not_found(r);
	} else {
		event_type_parse(body, &t, patch, &ve);
		if (verr_any(&ve)) {
			api_reply(r, 422, verr_body(&ve));
		} else {
			t.updated_ms = now_ms();
			if (!exists) {
				t.name = xstrdup(r->seg[1]);
				t.created_ms = t.updated_ms;
			}
			event_type_submit(r, &t, exists ? 200 : 201, put_run);
		}
	}
	json_decref(body);
	event_type_dispose(&t);
}

void api_event_type_put(struct req *r) { event_type_update(r, false); }
void api_event_type_patch(struct req *r) { event_type_update(r, true); }

static int expunge_run(struct store *st, struct req *r)
{
	const char *name = ((struct event_type *)r->op)->name;
	int rc = st->w->event_type_delete(st, name);
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_EVENT_TYPE_DELETE, .id = name});
	return rc;
}

/* DELETE archives (the type stays listed with include_archived and can be brought back); ?expunge=true deletes
 * it for good. */
void api_event_type_delete(struct req *r)
{
	int expunge = api_query_bool(r, "expunge", false);
	struct event_type t;
	if (expunge < 0)
		return;
	if (evtypes_get(r->seg[1], &t) != STORE_OK) {
		api_not_found(r);
		return;
	}
	if (!expunge) {
		t.archived = true;
		t.updated_ms = now_ms();
		event_type_submit(r, &t, 204, put_run);
		return;
	}
	struct event_type *op = xmalloc(sizeof *op);
	*op = t;
	r->op = op;
	r->cleanup = event_type_cleanup;
	api_reply(r, 204, NULL);
	r->run = expunge_run;
	api_submit(r);
}
