/* api_event_import.c: POST /event-type/import/openapi — the webhooks of an OpenAPI 3.1 document become event
 * types (Svix EventTypeImportOpenApiIn/Out; the answer's to_modify is snake_case on the wire, as Svix's). Each webhooks entry names a type; its POST operation gives the
 * description, deprecated, x-svix-feature-flag(s), x-svix-group-name and, from the request body's
 * application/json schema (local $refs inlined), the type's schema version "1". replaceAll archives the types the
 * document does not name; dryRun answers what would change and writes nothing. One commit for all of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "evtypes.h"
#include "filter.h"

#define IMPORT_MAX 1000  /* webhooks in one document */
#define REF_DEPTH 32     /* nested $refs inlined before giving up (a cycle) */

struct import_op {
	struct event_type *v;
	size_t n;
};

static void import_cleanup(struct req *r)
{
	struct import_op *op = r->op;
	if (op == NULL)
		return;
	for (size_t i = 0; i < op->n; i++)
		event_type_dispose(&op->v[i]);
	free(op->v);
	free(op);
}

/* A copy of s with each local "$ref": "#/components/schemas/X" replaced by X (recursively); NULL on a cycle or a
 * reference the document does not hold. */
static json_t *inline_refs(const json_t *s, const json_t *components, int depth)
{
	if (depth > REF_DEPTH)
		return NULL;
	if (json_is_object(s)) {
		const char *ref = json_string_value(json_object_get(s, "$ref"));
		if (ref != NULL) {
			const char *prefix = "#/components/schemas/";
			if (strncmp(ref, prefix, strlen(prefix)) != 0)
				return NULL;
			json_t *target = json_object_get(components, ref + strlen(prefix));
			return target ? inline_refs(target, components, depth + 1) : NULL;
		}
		json_t *out = json_object();
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)s, k, v) {
			json_t *c = inline_refs(v, components, depth + 1);
			if (c == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, k, c);
		}
		return out;
	}
	if (json_is_array(s)) {
		json_t *out = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(s, i, v) {
			json_t *c = inline_refs(v, components, depth + 1);
			if (c == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, c);
		}
		return out;
	}
	return json_deep_copy(s);
}

static const char *opt_name(const json_t *op, const char *field)
{
	const char *s = json_string_value(json_object_get(op, field));
	return s != NULL && filter_event_type_valid(s) ? s : NULL;
}

/* One webhooks entry into t; false (with a 422 detail in ve) if it cannot be one. */
static bool from_webhook(const char *name, json_t *item, const json_t *components, struct event_type *t,
			 struct verr *ve)
{
	if (!filter_event_type_valid(name)) {
		verr_add(ve, "spec", "a webhooks name is not an event type name (1-256 of [a-zA-Z0-9-_.])", "value_error");
		return false;
	}
	json_t *op = json_object_get(item, "post");
	if (!json_is_object(op)) {
		verr_add(ve, "spec", "a webhooks entry has no post operation", "value_error");
		return false;
	}
	const char *d = json_string_value(json_object_get(op, "description"));
	if (d == NULL)
		d = json_string_value(json_object_get(op, "summary"));
	t->name = xstrdup(name);
	t->description = xstrdup(d ? d : "");
	t->deprecated = json_is_true(json_object_get(op, "deprecated"));
	const char *flag = opt_name(op, "x-svix-feature-flag");
	json_t *flags = json_object_get(op, "x-svix-feature-flags");
	if (flag == NULL && json_is_array(flags) && json_array_size(flags) > 0)
		flag = json_string_value(json_array_get(flags, 0));
	t->feature_flag = flag && filter_event_type_valid(flag) ? xstrdup(flag) : NULL;
	const char *group = opt_name(op, "x-svix-group-name");
	t->group_name = group ? xstrdup(group) : NULL;
	json_t *schema = json_object_get(
		json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"), "application/json"),
		"schema");
	if (schema != NULL) {
		json_t *s = inline_refs(schema, components, 0);
		if (s == NULL) {
			verr_add(ve, "spec", "a schema has a $ref that is not #/components/schemas/... of the document, or a cycle",
				 "value_error");
			return false;
		}
		t->schemas = json_pack("{s:o}", "1", s);
	}
	return true;
}

static int import_run(struct store *st, struct req *r)
{
	struct import_op *op = r->op;
	for (size_t i = 0; i < op->n; i++) {
		int rc = st->w->event_type_put(st, &op->v[i]);
		if (rc != STORE_OK)
			return rc;
		commit_change(&r->job, &(struct change){.kind = CHANGE_EVENT_TYPE_PUT, .event_type = &op->v[i]});
	}
	return STORE_OK;
}

static json_t *from_openapi_json(const struct event_type *t)
{
	return json_pack("{s:s,s:s,s:b,s:o,s:o,s:o,s:o}", "name", t->name, "description", t->description, "deprecated",
			 t->deprecated, "schemas", t->schemas ? json_deep_copy(t->schemas) : json_null(), "featureFlag",
			 t->feature_flag ? json_string(t->feature_flag) : json_null(), "featureFlags",
			 t->feature_flag ? json_pack("[s]", t->feature_flag) : json_null(), "groupName",
			 t->group_name ? json_string(t->group_name) : json_null());
}

/* The document: spec (an object) or specRaw (JSON text; YAML is not read). */
static json_t *document(json_t *body, struct verr *ve)
{
	json_t *spec = json_object_get(body, "spec");
	if (json_is_object(spec))
		return json_incref(spec);
	const char *raw = json_string_value(json_object_get(body, "specRaw"));
	if (raw == NULL) {
		verr_add(ve, "spec", "spec (an object) or specRaw (a string) is required", "value_error.missing");
		return NULL;
	}
	json_t *j = json_loads(raw, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		verr_add(ve, "specRaw", "specRaw must be an OpenAPI document in JSON (hookd does not read YAML)",
			 "value_error");
		return NULL;
	}
	return j;
}

void api_event_type_import(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	bool dry = false, replace = false;
	jfield_bool(body, "dryRun", &ve, &dry);
	jfield_bool(body, "replaceAll", &ve, &replace);
	json_t *spec = document(body, &ve);
	json_decref(body);
	json_t *hooks = json_object_get(spec, "webhooks");
	json_t *components = json_object_get(json_object_get(spec, "components"), "schemas");
	if (spec != NULL && hooks != NULL && !json_is_object(hooks))
		verr_add(&ve, "spec", "webhooks must be an object", "type_error.dict");
	else if (json_object_size(hooks) > IMPORT_MAX)
		verr_add(&ve, "spec", "more than 1000 webhooks in one document", "value_error");
	struct import_op *op = xcalloc(1, sizeof *op);
	r->op = op;
	r->cleanup = import_cleanup;
	op->v = xcalloc(json_object_size(hooks) + 1, sizeof *op->v);
	const char *name;
	json_t *item;
	int64_t now = now_ms();
	if (!verr_any(&ve)) {
		json_object_foreach(hooks, name, item) {
			struct event_type *t = &op->v[op->n];
			if (!from_webhook(name, item, components, t, &ve)) {
				event_type_dispose(t);
				break;
			}
			struct event_type old;
			t->created_ms = t->updated_ms = now;
			if (evtypes_get(name, &old) == STORE_OK) {
				t->created_ms = old.created_ms;
				event_type_dispose(&old);
			}
			op->n++;
		}
	}
	if (verr_any(&ve)) {
		json_decref(spec);
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	if (replace) { /* the active types the document does not name are archived */
		struct event_type *all;
		size_t n;
		evtypes_list(&(struct page){.limit = INT32_MAX, .ascending = true}, false, &all, &n);
		op->v = xrealloc(op->v, (op->n + n + 1) * sizeof *op->v);
		for (size_t i = 0; i < n; i++) {
			bool named = json_object_get(hooks, all[i].name) != NULL;
			if (named) {
				event_type_dispose(&all[i]);
				continue;
			}
			all[i].archived = true;
			all[i].updated_ms = now;
			op->v[op->n++] = all[i];
		}
		free(all);
	}
	json_decref(spec);
	json_t *modified = json_array(), *to_modify = dry ? json_array() : json_null();
	for (size_t i = 0; i < op->n; i++) {
		json_array_append_new(modified, json_string(op->v[i].name));
		if (dry)
			json_array_append_new(to_modify, from_openapi_json(&op->v[i]));
	}
	api_reply_json(r, 200, json_pack("{s:{s:o,s:o}}", "data", "modified", dry ? json_array() : modified,
					 "to_modify", to_modify));
	if (dry) {
		json_decref(modified);
		return;
	}
	r->run = import_run;
	api_submit(r);
}
