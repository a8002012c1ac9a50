/* api_attempt.c: delivery attempts, by endpoint, by message, one. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "json.h"

static void attempts_reply(struct req *r, const char *app_id, const char *endpoint_id, const char *msg_id)
{
	struct list_req lr;
	struct list_filter filter;
	char *types = NULL;
	int with_content = api_query_bool(r, "with_content", true);
	int with_msg = with_content < 0 ? -1 : api_query_bool(r, "with_msg", false);
	if (with_content < 0 || with_msg < 0 || api_list_begin(r, false, "atmpt_", &lr) < 0 || api_list_filter(r, &filter, &types) < 0)
		return;
	lr.pg.filter = &filter;
	struct attempt *v = NULL;
	size_t n = 0;
	struct store *st = api_store();
	int rc = st->q->attempt_list(st, app_id, endpoint_id, msg_id, &lr.pg, &v, &n);
	free(types);
	if (rc != STORE_OK) {
		api_error(r, 500, "internal_error", "the database failed");
		return;
	}
	json_t **items = xcalloc(n + 1, sizeof *items);
	const char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		if (!with_content) {
			free(v[i].response);
			v[i].response = NULL;
			v[i].response_len = 0;
		}
		items[i] = attempt_to_json(&v[i]);
		ids[i] = v[i].id;
		struct message m = {0};
		if (with_msg > 0 && endpoint_id != NULL && msg_id == NULL && i < (size_t)lr.limit &&
		    st->q->msg_get(st, app_id, v[i].msg_id, &m) == STORE_OK) /* with_msg: Svix's attempts by endpoint */
			json_object_set_new(items[i], "msg", message_to_json(&m, with_content));
		message_dispose(&m);
	}
	api_list_reply(r, &lr, items, ids, n);
	for (size_t i = 0; i < n; i++)
		attempt_dispose(&v[i]);
	free(v);
	free(items);
	free(ids);
}

/* The message named in the path (id or eventId) -> its id; answers 404 and returns -1 if absent. */
static int resolve_msg(struct req *r, const char *app_id, const char *id_or_event_id, char out[ID_MAX])
{
	struct message m = {0};
	int rc = api_store()->q->msg_get(api_store(), app_id, id_or_event_id, &m);
	if (rc == STORE_OK)
		memcpy(out, m.id, ID_MAX);
	message_dispose(&m);
	if (rc == STORE_NOTFOUND)
		api_not_found(r);
	else if (rc != STORE_OK)
		api_error(r, 500, "internal_error", "the database failed");
	return rc == STORE_OK ? 0 : -1;
}

void api_attempt_list_by_endpoint(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (cache_endpoint_get(a.id, r->seg[4], &e) != STORE_OK) {
		api_not_found(r);
	} else {
		attempts_reply(r, a.id, e.id, NULL);
		endpoint_dispose(&e);
	}
	app_dispose(&a);
}

void api_attempt_list_by_msg(struct req *r)
{
	struct app a;
	char msg_id[ID_MAX];
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (resolve_msg(r, a.id, r->seg[4], msg_id) == 0) {
		const char *ep = api_query(r, "endpoint_id");
		struct endpoint e = {0};
		if (ep != NULL && cache_endpoint_get(a.id, ep, &e) != STORE_OK)
			api_not_found(r);
		else
			attempts_reply(r, a.id, ep ? e.id : NULL, msg_id);
		endpoint_dispose(&e);
	}
	app_dispose(&a);
}

void api_attempt_get(struct req *r)
{
	struct app a;
	char msg_id[ID_MAX];
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (resolve_msg(r, a.id, r->seg[3], msg_id) == 0) {
		struct attempt at = {0};
		int rc = api_store()->q->attempt_get(api_store(), a.id, msg_id, r->seg[5], &at);
		if (rc == STORE_OK)
			api_reply_json(r, 200, attempt_to_json(&at));
		else if (rc == STORE_NOTFOUND)
			api_not_found(r);
		else
			api_error(r, 500, "internal_error", "the database failed");
		attempt_dispose(&at);
	}
	app_dispose(&a);
}

/* Attempted destinations: each endpoint the message went to, with the delivery's state. */
static json_t *destination_json(const struct delivery *d)
{
	struct endpoint e = {0};
	json_t *j;
	if (cache_endpoint_get(d->app_id, d->endpoint_id, &e) == STORE_OK) {
		j = endpoint_to_json(&e);
		endpoint_dispose(&e);
	} else {
		j = json_pack("{s:s}", "id", d->endpoint_id); /* deleted since */
	}
	json_object_set_new(j, "status", json_integer(d->status));
	json_object_set_new(j, "statusText", json_string(delivery_status_text(d->status)));
	json_object_set_new(j, "nextAttempt", d->status == DS_PENDING ? time_to_json(d->next_ms) : json_null());
	return j;
}

void api_msg_destinations(struct req *r)
{
	struct app a;
	char msg_id[ID_MAX];
	struct list_req lr;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (resolve_msg(r, a.id, r->seg[3], msg_id) == 0 && api_list_begin(r, true, "ep_", &lr) == 0) {
		struct delivery *v = NULL;
		size_t n = 0, k = 0;
		struct store *st = api_store();
		if (st->q->msg_deliveries(st, a.id, msg_id, &v, &n) != STORE_OK) {
			api_error(r, 500, "internal_error", "the database failed");
		} else {
			json_t **items = xcalloc(n + 1, sizeof *items);
			const char **ids = xcalloc(n + 1, sizeof *ids);
			for (size_t i = 0; i < n && k < (size_t)lr.pg.limit; i++) {
				size_t j = lr.pg.ascending ? i : n - 1 - i;
				const char *id = v[j].endpoint_id;
				if ((lr.pg.after && strcmp(id, lr.pg.after) <= 0) ||
				    (lr.pg.before && strcmp(id, lr.pg.before) >= 0))
					continue;
				items[k] = destination_json(&v[j]);
				ids[k++] = id;
			}
			api_list_reply(r, &lr, items, ids, k);
			free(items);
			free(ids);
		}
		free(v);
	}
	app_dispose(&a);
}

/* Attempted messages: what an endpoint was sent, newest first, each with its delivery's state there. */
void api_endpoint_msgs(struct req *r)
{
	struct app a;
	struct endpoint e;
	struct list_req lr;
	int with_content = api_query_bool(r, "with_content", true);
	int with_msg = with_content < 0 ? -1 : api_query_bool(r, "with_msg", false);
	if (with_content < 0 || with_msg < 0 || api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (cache_endpoint_get(a.id, r->seg[3], &e) != STORE_OK) {
		api_not_found(r);
	} else {
		struct list_filter filter;
		char *types = NULL;
		if (api_list_begin(r, false, "msg_", &lr) == 0 && api_list_filter(r, &filter, &types) == 0) {
			struct endpoint_msg *v = NULL;
			size_t n = 0;
			struct store *st = api_store();
			lr.pg.filter = &filter; /* status (the delivery's), channel, tag, before, after, event_types */
			if (st->q->endpoint_msgs(st, a.id, e.id, &lr.pg, &v, &n) != STORE_OK) {
				api_error(r, 500, "internal_error", "the database failed");
			} else {
				json_t **items = xcalloc(n + 1, sizeof *items);
				const char **ids = xcalloc(n + 1, sizeof *ids);
				for (size_t i = 0; i < n; i++) {
					items[i] = message_to_json(&v[i].m, with_content);
					json_object_set_new(items[i], "status", json_integer(v[i].d.status));
					json_object_set_new(items[i], "statusText",
							    json_string(delivery_status_text(v[i].d.status)));
					json_object_set_new(items[i], "nextAttempt",
							    v[i].d.status == DS_PENDING ? time_to_json(v[i].d.next_ms)
											: json_null());
					ids[i] = v[i].m.id;
				}
				api_list_reply(r, &lr, items, ids, n);
				free(items);
				free(ids);
			}
			for (size_t i = 0; i < n; i++)
				message_dispose(&v[i].m);
			free(v);
		}
		free(types);
		endpoint_dispose(&e);
	}
	app_dispose(&a);
}
