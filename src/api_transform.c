/* api_transform.c: an endpoint's transformation (Svix's routes; docs/transformations.md):
 *   GET   /api/v1/app/{app}/endpoint/{ep}/transformation           {"code", "enabled"}
 *   PATCH /api/v1/app/{app}/endpoint/{ep}/transformation           {"code"?, "enabled"?}: 204
 *   POST  /api/v1/app/{app}/endpoint/{ep}/transformation/simulate  {"code", "payload", "eventType"}
 * Code is checked when stored (it compiles in the sandbox and defines handler), and simulate runs it on this
 * API thread in a sandbox of its own, with the same instruction budget and memory cap as the workers. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "util.h"
#include "xform_pool.h"

void api_transformation_get(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (api_endpoint_lookup(r, &a, &e) < 0)
		return;
	api_reply_json(r, 200,
		       json_pack("{s:o,s:b}", "code", e.transformation ? json_string(e.transformation) : json_null(),
				 "enabled", e.transformation_enabled));
	endpoint_dispose(&e);
	app_dispose(&a);
}

/* code must fit the sandbox: problems into ve */
static void code_check(const char *code, struct verr *ve)
{
	const struct config *cfg = api_config();
	char err[XFORM_ERR_MAX];
	if (strlen(code) > XFORM_CODE_MAX) {
		snprintf(err, sizeof err, "code longer than %d bytes", XFORM_CODE_MAX);
		verr_add(ve, "code", err, "value_error");
	} else if (xform_check_once(code, cfg->transform_budget, cfg->transform_memory, err, sizeof err) < 0) {
		verr_add(ve, "code", err, "value_error");
	}
}

void api_transformation_patch(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	json_t *code = json_object_get(body, "code"), *enabled = json_object_get(body, "enabled");
	if (code != NULL && !json_is_string(code) && !json_is_null(code))
		verr_add(&ve, "code", "str type expected", "type_error.str");
	else if (json_is_string(code))
		code_check(json_string_value(code), &ve);
	if (enabled != NULL && !json_is_boolean(enabled))
		verr_add(&ve, "enabled", "value could not be parsed to a boolean", "type_error.bool");
	struct app a;
	struct endpoint e;
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (api_endpoint_lookup(r, &a, &e) == 0) {
		if (code != NULL) {
			free(e.transformation);
			e.transformation = json_is_string(code) ? xstrdup(json_string_value(code)) : NULL;
		}
		if (enabled != NULL)
			e.transformation_enabled = json_is_true(enabled);
		e.updated_ms = now_ms();
		api_endpoint_submit(r, &e, 204);
		endpoint_dispose(&e);
		app_dispose(&a);
	}
	json_decref(body);
}

void api_transformation_simulate(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	json_t *code = json_object_get(body, "code"), *payload = json_object_get(body, "payload");
	json_t *event_type = json_object_get(body, "eventType");
	if (!json_is_string(code))
		verr_add(&ve, "code", code ? "str type expected" : "field required", "value_error");
	else if (strlen(json_string_value(code)) > XFORM_CODE_MAX)
		verr_add(&ve, "code", "code longer than 65536 bytes", "value_error");
	if (!json_is_object(payload))
		verr_add(&ve, "payload", payload ? "value is not a valid dict" : "field required", "value_error");
	if (event_type != NULL && !json_is_string(event_type))
		verr_add(&ve, "eventType", "str type expected", "type_error.str");
	struct app a;
	struct endpoint e;
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		json_decref(body);
		return;
	}
	if (api_endpoint_lookup(r, &a, &e) < 0) {
		json_decref(body);
		return;
	}
	const struct config *cfg = api_config();
	struct xform *x = xform_new(cfg->transform_budget, cfg->transform_memory);
	struct xform_job *j = xcalloc(1, sizeof *j);
	strlist_add(&j->codes, json_string_value(code));
	j->hook.payload = json_incref(payload);
	j->hook.url = xstrdup(e.url);
	j->hook.method = xstrdup("POST");
	j->hook.event_type = event_type ? xstrdup(json_string_value(event_type)) : NULL;
	if (x == NULL) {
		api_error(r, 500, "internal_error", "cannot start Lua");
	} else {
		xform_chain_run(x, j);
		if (j->rc < 0)
			api_error(r, 400, "transformation_failed", j->err);
		else
			api_reply_json(
				r, 200,
				json_pack("{s:s,s:s,s:s%,s:O,s:b,s:s?}", "method", j->hook.method, "url", j->hook.url,
					  "payload", j->body, j->body_len, "headers", j->hook.headers, "cancel",
					  j->hook.cancel, "eventType", j->hook.event_type));
	}
	xform_job_free(j);
	xform_free(x);
	endpoint_dispose(&e);
	app_dispose(&a);
	json_decref(body);
}
