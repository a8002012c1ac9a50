/* api_msg_ops.c: POST /app/{app}/msg/precheck/active (would a message of this type and channels reach an
 * endpoint? answered from the registry in memory; nothing is written), DELETE of an attempt's content and
 * POST .../msg/bulk-expunge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "filter.h"

void api_msg_precheck(struct req *r)
{
	char app_id[ID_MAX];
	if (cache_app_resolve(r->seg[1], app_id) != STORE_OK) {
		api_not_found(r);
		return;
	}
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct message m = {0};
	struct verr ve = {0};
	const char *type = NULL;
	if (jfield_string(body, "eventType", 1, 256, &ve, &type) && !filter_event_type_valid(type))
		verr_add(&ve, "eventType", "must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
	else if (type == NULL && jfield_missing(body, "eventType"))
		verr_add(&ve, "eventType", "field required", "value_error.missing");
	jfield_strlist(body, "channels", 10, filter_channel_valid, &ve, &m.channels);
	if (verr_any(&ve)) {
		json_decref(body);
		strlist_dispose(&m.channels);
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	memcpy(m.app_id, app_id, ID_MAX);
	m.event_type = (char *)type;
	bool active = cache_precheck(&m);
	m.event_type = NULL;
	strlist_dispose(&m.channels);
	json_decref(body);
	api_reply_json(r, 200, json_pack("{s:b}", "active", active));
}

/* DELETE .../msg/{msg}/attempt/{attempt}/content: forget the attempt's response body (its request body is the
 * message's payload: DELETE .../msg/{msg}/content forgets that one). */
struct attempt_expunge_op {
	char app_id[ID_MAX], msg_id[ID_MAX], attempt_id[ID_MAX];
};

static int attempt_expunge_run(struct store *st, struct req *r)
{
	struct attempt_expunge_op *op = r->op;
	int rc = st->w->attempt_expunge(st, op->app_id, op->msg_id, op->attempt_id);
	if (rc == STORE_NOTFOUND)
		api_not_found(r);
	return rc;
}

static void attempt_expunge_cleanup(struct req *r) { free(r->op); }

void api_attempt_expunge(struct req *r)
{
	char app_id[ID_MAX];
	if (cache_app_resolve(r->seg[1], app_id) != STORE_OK) {
		api_not_found(r);
		return;
	}
	struct message m = {0};
	struct store *st = api_store();
	int rc = st->q->msg_get(st, app_id, r->seg[3], &m); /* the path may name the eventId */
	if (rc != STORE_OK || strlen(r->seg[5]) >= ID_MAX) {
		message_dispose(&m);
		if (rc == STORE_OK || rc == STORE_NOTFOUND)
			api_not_found(r);
		else
			api_error(r, 500, "internal_error", "the database failed");
		return;
	}
	struct attempt_expunge_op *op = xcalloc(1, sizeof *op);
	memcpy(op->app_id, app_id, ID_MAX);
	memcpy(op->msg_id, m.id, ID_MAX);
	snprintf(op->attempt_id, ID_MAX, "%s", r->seg[5]);
	message_dispose(&m);
	r->op = op;
	r->cleanup = attempt_expunge_cleanup;
	api_reply(r, 204, NULL);
	r->run = attempt_expunge_run;
	api_submit(r);
}

/* POST /app/{app}/msg/bulk-expunge {"ids": [msg id or eventId, ...]} (Svix's BulkExpungeContentsIn): the payloads
 * of those messages dropped in one transaction; {"results": {"<id as given>": "expunged" | "not-found"}}. */
#define BULK_EXPUNGE_MAX 250

struct bulk_expunge {
	char app_id[ID_MAX];
	struct strlist given;  /* as sent */
	char (*ids)[ID_MAX];   /* the message each names, "" if none */
};

static int bulk_expunge_run(struct store *st, struct req *r)
{
	struct bulk_expunge *op = r->op;
	json_t *results = json_object();
	for (size_t i = 0; i < op->given.n; i++) {
		int rc = op->ids[i][0] ? st->w->msg_expunge(st, op->app_id, op->ids[i]) : STORE_NOTFOUND;
		if (rc != STORE_OK && rc != STORE_NOTFOUND) {
			json_decref(results);
			return rc;
		}
		json_object_set_new(results, op->given.v[i], json_string(rc == STORE_OK ? "expunged" : "not-found"));
	}
	api_reply_json(r, 200, json_pack("{s:o}", "results", results));
	return STORE_OK;
}

static void bulk_expunge_cleanup(struct req *r)
{
	struct bulk_expunge *op = r->op;
	strlist_dispose(&op->given);
	free(op->ids);
	free(op);
}

static bool msg_ref_valid(const char *s) { return *s != '\0' && strlen(s) <= 256; }

void api_msg_bulk_expunge(struct req *r)
{
	struct app a;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	json_t *body = api_body_object(r);
	if (body == NULL) {
		app_dispose(&a);
		return;
	}
	struct verr ve = {0};
	struct bulk_expunge *op = xcalloc(1, sizeof *op);
	memcpy(op->app_id, a.id, ID_MAX);
	app_dispose(&a);
	r->op = op;
	r->cleanup = bulk_expunge_cleanup;
	if (jfield_missing(body, "ids"))
		verr_add(&ve, "ids", "field required", "value_error.missing");
	else
		jfield_strlist(body, "ids", BULK_EXPUNGE_MAX, msg_ref_valid, &ve, &op->given);
	json_decref(body);
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	op->ids = xcalloc(op->given.n ? op->given.n : 1, sizeof *op->ids);
	for (size_t i = 0; i < op->given.n; i++) {
		struct message m = {0};
		int rc = api_store()->q->msg_get(api_store(), op->app_id, op->given.v[i], &m); /* an id or an eventId */
		if (rc == STORE_OK)
			memcpy(op->ids[i], m.id, ID_MAX);
		message_dispose(&m);
		if (rc != STORE_OK && rc != STORE_NOTFOUND) {
			api_error(r, 500, "internal_error", "the database failed");
			return;
		}
	}
	r->run = bulk_expunge_run;
	api_submit(r);
}
