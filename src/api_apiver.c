/* api_apiver.c: /api-version, payload versions (hookd's own API, Svix-like shapes; docs/versions.md), and the
 * endpoint field apiVersion. Reads come from the registry in memory (apiver.c); writes go through the committer
 * and update it after the commit. Versions are named, not id'd: lists page by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "apiver.h"
#include "cache.h"

static json_t *api_version_to_json(const struct api_version *v)
{
	return json_pack("{s:s,s:o,s:o}", "name", v->name, "downgrade",
			 v->downgrade ? json_string(v->downgrade) : json_null(), "createdAt",
			 time_to_json(v->created_ms));
}

/* downgrade: absent or null (*code NULL), or a string that compiles; false after a 422 entry. */
static bool downgrade_field(json_t *body, struct verr *ve, const char **code)
{
	*code = NULL;
	json_t *f = json_object_get(body, "downgrade");
	if (f == NULL || json_is_null(f))
		return true;
	if (!jfield_string(body, "downgrade", 1, APIVER_CODE_MAX, ve, code))
		return false;
	char err[512];
	if (apiver_code_check(*code, strlen(*code), err, sizeof err) < 0) {
		char msg[600];
		snprintf(msg, sizeof msg, "the downgrade is not valid Lua: %s", err);
		verr_add(ve, "downgrade", msg, "value_error");
		*code = NULL;
		return false;
	}
	return true;
}

static void version_cleanup(struct req *r)
{
	if (r->op != NULL) {
		api_version_dispose(r->op);
		free(r->op);
	}
}

/* Hand v (moved) to the request as its op. */
static struct api_version *take(struct req *r, struct api_version *v)
{
	struct api_version *op = xmalloc(sizeof *op);
	*op = *v;
	memset(v, 0, sizeof *v);
	r->op = op;
	r->cleanup = version_cleanup;
	return op;
}

void api_apiver_list(struct req *r)
{
	struct list_req lr;
	if (api_list_begin(r, false, NULL, &lr) < 0) /* newest first unless ?order=ascending */
		return;
	struct api_version *v;
	size_t n;
	apiver_list(&lr.pg, &v, &n);
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		items[i] = api_version_to_json(&v[i]);
		names[i] = v[i].name;
	}
	api_list_reply(r, &lr, items, names, n);
	for (size_t i = 0; i < n; i++)
		api_version_dispose(&v[i]);
	free(v);
	free(items);
	free(names);
}

static int create_run(struct store *st, struct req *r)
{
	struct api_version *v = r->op;
	int rc = st->w->api_version_create(st, v);
	if (rc == STORE_CONFLICT) { /* another write committed first (the registry's checks saw neither) */
		char msg[160];
		snprintf(msg, sizeof msg, "an API version named %s, or a newer one, exists", v->name);
		api_error(r, 409, "conflict", msg);
	}
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_API_VERSION_PUT, .api_version = v});
	return rc;
}

/* A new version becomes the newest: its name must sort after every existing one (409 otherwise). It needs a
 * downgrade to the version before it, unless it is the first (which must have none). */
void api_apiver_create(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	const char *name = NULL, *code = NULL;
	if (jfield_string(body, "name", 1, API_VERSION_NAME_MAX, &ve, &name) && !apiver_name_valid(name))
		verr_add(&ve, "name", "must be 1-64 of [A-Za-z0-9._-]", "value_error");
	else if (name == NULL && jfield_missing(body, "name"))
		verr_add(&ve, "name", "field required", "value_error.missing");
	bool code_ok = downgrade_field(body, &ve, &code);
	char *newest = apiver_newest();
	if (code_ok && newest == NULL && code != NULL)
		verr_add(&ve, "downgrade", "the first version has no older version to downgrade to: leave it out",
			 "value_error");
	else if (code_ok && newest != NULL && code == NULL)
		verr_add(&ve, "downgrade",
			 "field required: every version but the oldest turns its payloads into the previous version's shape",
			 "value_error.missing");
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (newest != NULL && strcmp(name, newest) <= 0) {
		char msg[256];
		if (strcmp(name, newest) == 0)
			snprintf(msg, sizeof msg, "an API version named %s already exists", name);
		else
			snprintf(msg, sizeof msg,
				 "a new version must sort after the newest, %s (names sort bytewise, in time order)", newest);
		api_error(r, 409, "conflict", msg);
	} else {
		struct api_version v = {.name = xstrdup(name), .downgrade = code ? xstrdup(code) : NULL,
					.created_ms = now_ms()};
		api_reply_json(r, 201, api_version_to_json(take(r, &v)));
		r->run = create_run;
		api_submit(r);
	}
	free(newest);
	json_decref(body);
}

void api_apiver_get(struct req *r)
{
	struct api_version v;
	if (apiver_get(r->seg[1], &v, NULL) != STORE_OK) {
		api_not_found(r);
		return;
	}
	api_reply_json(r, 200, api_version_to_json(&v));
	api_version_dispose(&v);
}

static int patch_run(struct store *st, struct req *r)
{
	struct api_version *v = r->op;
	int rc = st->w->api_version_set_downgrade(st, v->name, v->downgrade);
	if (rc == STORE_NOTFOUND)
		api_not_found(r);
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_API_VERSION_PUT, .api_version = v});
	return rc;
}

/* {"downgrade": code} fixes a version's downgrade; the oldest has none (null), the others must have one. */
void api_apiver_patch(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct api_version v = {0};
	struct apiver_pos pos;
	struct verr ve = {0};
	const char *code = NULL;
	if (apiver_get(r->seg[1], &v, &pos) != STORE_OK) {
		api_not_found(r);
		json_decref(body);
		return;
	}
	bool given = json_object_get(body, "downgrade") != NULL;
	if (downgrade_field(body, &ve, &code) && given) {
		if (pos.oldest && code != NULL)
			verr_add(&ve, "downgrade", "the oldest version has no older version to downgrade to",
				 "value_error");
		else if (!pos.oldest && code == NULL)
			verr_add(&ve, "downgrade", "every version but the oldest needs a downgrade", "value_error");
	}
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (!given) {
		api_reply_json(r, 200, api_version_to_json(&v)); /* nothing to change */
	} else {
		free(v.downgrade);
		v.downgrade = code ? xstrdup(code) : NULL;
		api_reply_json(r, 200, api_version_to_json(take(r, &v)));
		r->run = patch_run;
		api_submit(r);
	}
	api_version_dispose(&v);
	json_decref(body);
}

/* The endpoints whose pin a delete would break (pinned to name, or older when older is set), for a 409's
 * detail: up to 5 ids into out, how many in all. */
static size_t pinned_to(const char *name, bool older, char *out, size_t outlen)
{
	const struct page all = {.limit = 1 << 30, .ascending = true};
	struct app *av = NULL;
	size_t na = 0, count = 0, used = 0;
	out[0] = '\0';
	cache_app_list(&all, &av, &na);
	for (size_t i = 0; i < na; i++) {
		struct endpoint *ev = NULL;
		size_t ne = 0;
		cache_endpoint_list(av[i].id, &all, &ev, &ne);
		for (size_t k = 0; k < ne; k++) {
			const char *pin = ev[k].api_version;
			if (pin != NULL && (older ? strcmp(pin, name) < 0 : strcmp(pin, name) == 0) && count++ < 5) {
				int w = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", ev[k].id);
				if (w > 0 && (size_t)w < outlen - used)
					used += (size_t)w;
			}
			endpoint_dispose(&ev[k]);
		}
		free(ev);
		app_dispose(&av[i]);
	}
	free(av);
	return count;
}

static int delete_run(struct store *st, struct req *r)
{
	struct api_version *v = r->op;
	int rc = st->w->api_version_delete(st, v->name);
	if (rc == STORE_NOTFOUND)
		api_not_found(r);
	else if (rc == STORE_CONFLICT)
		api_error(r, 409, "conflict", "endpoints are pinned to this version, or to an older one that needs it");
	if (rc == STORE_OK)
		commit_change(&r->job, &(struct change){.kind = CHANGE_API_VERSION_DELETE, .id = v->name});
	return rc;
}

/* Refused (409) while endpoints are pinned to the version, and, for any but the newest, while endpoints are
 * pinned to an older one: their payloads pass through this version's downgrade. */
void api_apiver_delete(struct req *r)
{
	struct api_version v;
	struct apiver_pos pos;
	if (apiver_get(r->seg[1], &v, &pos) != STORE_OK) {
		api_not_found(r);
		return;
	}
	char ids[5 * (ID_MAX + 2)], msg[sizeof ids + 320];
	size_t n = pinned_to(v.name, false, ids, sizeof ids);
	size_t n_older = n == 0 && !pos.newest ? pinned_to(v.name, true, ids, sizeof ids) : 0;
	if (n > 0 || n_older > 0) {
		size_t c = n > 0 ? n : n_older;
		snprintf(msg, sizeof msg,
			 n > 0 ? "API version %s is in use: endpoints pinned to it: %s%s (pin them to another version first)"
			       : "API version %s is not the newest and endpoints pinned to older versions need its "
				 "downgrade: %s%s",
			 v.name, ids, c > 5 ? ", ..." : "");
		api_error(r, 409, "conflict", msg);
		api_version_dispose(&v);
		return;
	}
	take(r, &v);
	api_reply(r, 204, NULL);
	r->run = delete_run;
	api_submit(r);
}

void api_apiver_endpoint_field(json_t *body, struct endpoint *e, bool creating, struct verr *ve)
{
	json_t *f = json_object_get(body, "apiVersion");
	if (f == NULL) { /* a new endpoint gets the shape of today; an existing one keeps its pin */
		if (creating) {
			free(e->api_version);
			e->api_version = apiver_newest();
		}
		return;
	}
	const char *name;
	if (json_is_null(f)) {
		free(e->api_version);
		e->api_version = NULL; /* unpinned: the newest shape, whatever it is when a message goes out */
	} else if (jfield_string(body, "apiVersion", 1, API_VERSION_NAME_MAX, ve, &name)) {
		struct api_version v = {0};
		if (!apiver_name_valid(name) || apiver_get(name, &v, NULL) != STORE_OK) {
			char msg[128];
			snprintf(msg, sizeof msg, "API version %s does not exist", name);
			verr_add(ve, "apiVersion", msg, "value_error");
		} else {
			free(e->api_version);
			e->api_version = xstrdup(name);
		}
		api_version_dispose(&v);
	}
}
