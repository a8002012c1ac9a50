/* api_msg.c: /app/{app}/msg — message ingest (the hot path) and reads.
 *
 * Ingest parses once, computes the fan-out from the cache, builds the answer, and hands the message to the
 * queue (queue.h) inside one committer job: eventId check, message row, one delivery row per endpoint. After the
 * commit the queue schedules it with its payload in memory, so a fresh delivery costs no read. */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api.h"
#include "cache.h"
#include "evtypes.h"
#include "filter.h"
#include "json.h"
#include "metrics.h"
#include "queue.h"
#include "registry.h"

struct msg_op {
	struct outmsg *om;
	struct app *new_app;  /* MessageIn.application for an app that does not exist yet */
	int64_t due_ms;
	char *event_key;      /* "e <app id> <eventId>": the unique key the insert claims (commit_job.lock_keys) */
};

static void msg_cleanup(struct req *r)
{
	struct msg_op *op = r->op;
	if (op == NULL)
		return;
	outmsg_unref(op->om);
	if (op->new_app) {
		app_dispose(op->new_app);
		free(op->new_app);
	}
	free(op->event_key);
	free(op);
}

static int msg_run(struct store *st, struct req *r)
{
	struct msg_op *op = r->op;
	int rc;
	if (op->new_app != NULL && (rc = st->w->app_put(st, op->new_app)) != STORE_OK) {
		if (rc == STORE_CONFLICT)
			api_error(r, 409, "conflict", "An application with this uid already exists");
		return rc;
	}
	if (op->new_app != NULL)
		commit_change(&r->job, &(struct change){.kind = CHANGE_APP_PUT, .app = op->new_app});
	char existing[ID_MAX] = "";
	rc = queue_write_msg(st, op->om, op->due_ms, existing);
	if (rc == STORE_CONFLICT && existing[0] != '\0') /* the eventId is taken: nothing was written */
		api_error(r, 409, "conflict", "A message with this eventId already exists");
	return rc;
}

static void msg_after(struct req *r)
{
	struct msg_op *op = r->op;
	METRIC_ADD(messages_accepted, 1);
	queue_committed(op->om, STORE_OK);
	op->om = NULL;
}

/* MessageIn -> m (event type, eventId, channels, tags, deliverAt); the payload object is returned. */
static json_t *msg_parse(json_t *body, struct message *m, struct verr *ve)
{
	const char *s;
	if (jfield_string(body, "eventType", 1, 256, ve, &s)) {
		if (filter_event_type_valid(s))
			m->event_type = xstrdup(s);
		else
			verr_add(ve, "eventType", "eventType must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
	} else if (jfield_missing(body, "eventType")) {
		verr_add(ve, "eventType", "field required", "value_error.missing");
	}
	if (jfield_string(body, "eventId", 1, 256, ve, &s))
		m->event_id = xstrdup(s);
	jfield_strlist(body, "channels", 10, filter_channel_valid, ve, &m->channels);
	jfield_strlist(body, "tags", 5, filter_channel_valid, ve, &m->tags);
	if (jfield_string(body, "deliverAt", 1, 64, ve, &s) && rfc3339_parse(s, &m->deliver_at_ms) < 0)
		verr_add(ve, "deliverAt", "invalid datetime format", "value_error.datetime");
	int64_t n;
	/* the payload's own retention (days, or Svix's newer hours, which win) instead of --retention */
	if (jfield_int(body, "payloadRetentionPeriod", 1, 365 * 5, ve, &n))
		m->retention_ms = n * 86400 * 1000;
	if (jfield_int(body, "payloadRetentionHours", 1, 24 * 365 * 5, ve, &n))
		m->retention_ms = n * 3600 * 1000;
	json_t *payload = json_object_get(body, "payload");
	if (payload == NULL)
		verr_add(ve, "payload", "field required", "value_error.missing");
	else if (!json_is_object(payload))
		verr_add(ve, "payload", "value is not a valid dict", "type_error.dict");
	return json_is_object(payload) ? payload : NULL;
}

/* The path's app, or (with MessageIn.application) a new one to create alongside the message. */
static int msg_app(struct req *r, json_t *body, struct app *a, struct msg_op *op)
{
	memset(a, 0, sizeof *a);
	if (cache_app_resolve(r->seg[1], a->id) == STORE_OK)
		return 0; /* only the id is needed: no copy of the app */
	json_t *in = json_object_get(body, "application");
	const char *name = json_string_value(json_object_get(in, "name"));
	if (!json_is_object(in) || name == NULL || *name == '\0') {
		api_not_found(r);
		return -1;
	}
	memset(a, 0, sizeof *a);
	const char *uid = json_string_value(json_object_get(in, "uid"));
	if (uid == NULL && !id_is("app_", r->seg[1]))
		uid = r->seg[1];
	if (uid != NULL && !uid_valid(uid)) {
		api_not_found(r);
		return -1;
	}
	id_new("app_", a->id);
	a->name = xstrdup(name);
	a->uid = uid ? xstrdup(uid) : NULL;
	a->metadata = json_object();
	a->created_ms = a->updated_ms = now_ms();
	op->new_app = xmalloc(sizeof *op->new_app);
	app_copy(op->new_app, a);
	return 0;
}

/* The 202 body. The payload text was already serialized for the store; splice it in rather than dumping the
 * parsed object a second time. */
static char *msg_answer(const struct message *m, bool with_content)
{
	json_t *j = message_to_json(m, false);
	json_object_del(j, "payload");
	char *rest = json_dump(j); /* "{...}", never empty: it has the id */
	json_decref(j);
	const char *payload = with_content ? m->payload : "{}";
	size_t plen = strlen(payload), rlen = strlen(rest);
	char *out = xmalloc(plen + rlen + 16);
	size_t n = (size_t)sprintf(out, "{\"payload\":");
	memcpy(out + n, payload, plen);
	n += plen;
	out[n++] = ',';
	memcpy(out + n, rest + 1, rlen); /* rest's own '}' and NUL close it */
	free(rest);
	return out;
}

/* Commit m (moved in) with one delivery per endpoint in ids (moved in, n of them) and answer 202 after. */
static void msg_submit(struct req *r, struct message *m, char (*ids)[ID_MAX], size_t n, bool with_content)
{
	struct msg_op *op = r->op;
	op->due_ms = m->deliver_at_ms > m->created_ms ? m->deliver_at_ms : m->created_ms;
	api_reply(r, 202, msg_answer(m, with_content));
	if (m->event_id != NULL) {
		size_t len = strlen(m->app_id) + strlen(m->event_id) + 4;
		op->event_key = xmalloc(len);
		snprintf(op->event_key, len, "e %s %s", m->app_id, m->event_id);
		r->job.lock_keys[1] = op->event_key;
	}
	op->om = outmsg_new(m, ids, n);
	r->run = msg_run;
	r->after = msg_after;
	if (op->new_app == NULL) { /* msg_run's only write is the message (with its key's claim: api_submit) */
		r->job.pre_om = op->om;
		r->job.pre_due = op->due_ms;
	}
	api_submit(r);
}

static void msg_op_init(struct req *r)
{
	r->op = xcalloc(1, sizeof(struct msg_op));
	r->cleanup = msg_cleanup;
}

/* A W3C Trace Context traceparent: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", ids not all
 * zeros; a later version may append fields after a dash (version ff is invalid). */
static bool traceparent_valid(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	if (n < 55 || (n > 55 && (strncmp(s, "00", 2) == 0 || s[55] != '-')) || n > 512 || strncmp(s, "ff", 2) == 0)
		return false;
	for (size_t i = 0; i < 55; i++) {
		bool dash = i == 2 || i == 35 || i == 52;
		if (dash ? s[i] != '-' : strchr(hex, s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return strspn(s + 3, "0") < 32 && strspn(s + 36, "0") < 16;
}

void api_msg_create(struct req *r)
{
	int with_content = api_query_bool(r, "with_content", true);
	if (with_content < 0)
		return;
	/* A plain payload (json_plain.h) is checked by a pattern and kept as sent; jansson parses only the rest. */
	size_t at = 0, len = 0;
	const char *text = r->body.data ? r->body.data : "";
	json_t *body = json_plain_envelope(text, r->body.len, "payload", &at, &len);
	bool plain = body != NULL;
	if (!plain && (body = api_body_object(r)) == NULL)
		return;
	struct message m = {0};
	struct verr ve = {0};
	json_t *payload = msg_parse(body, &m, &ve);
	if (plain)
		payload = NULL; /* its {} stand-in: a payload filter parses the real one (cache_fanout) */
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
		goto out;
	}
	msg_op_init(r);
	struct app a;
	if (msg_app(r, body, &a, r->op) < 0)
		goto out;
	id_new("msg_", m.id);
	memcpy(m.app_id, a.id, ID_MAX);
	m.created_ms = now_ms();
	const char *tp = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "traceparent");
	if (tp != NULL && traceparent_valid(tp)) { /* sent on with every delivery of the message (extra headers) */
		json_t *h = json_pack("{s:s}", "traceparent", tp);
		m.extra_headers = json_dumps(h, JSON_COMPACT);
		json_decref(h);
	}
	if (plain || json_raw_member(text, r->body.len, "payload", &at, &len) == 0) {
		m.payload = xstrndup(text + at, len); /* exactly as sent, not serialized again */
		m.payload_len = len;
	} else {
		m.payload = json_dumps(payload, JSON_COMPACT);
		m.payload_len = strlen(m.payload);
	}
	char(*ids)[ID_MAX];
	size_t n = cache_fanout(&m, payload, &ids);
	app_dispose(&a);
	msg_submit(r, &m, ids, n, with_content);
out:
	message_dispose(&m);
	json_decref(body);
}

/* The registry's example for the type (its first schema's examples[0]), else a generic one. */
static char *example_payload(const char *type)
{
	char *ex = evtypes_example(type);
	if (ex != NULL)
		return ex;
	json_t *p = json_pack("{s:s,s:{s:s,s:b}}", "type", type, "data", "message",
			      "This is an example event sent by hookd", "example", 1);
	char *out = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return out;
}

/* POST .../endpoint/{ep}/send-example: an example message of a type, to this endpoint only. */
void api_endpoint_send_example(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	const char *type = "webhook.test";
	if (jfield_string(body, "eventType", 1, 256, &ve, &type) && !filter_event_type_valid(type))
		verr_add(&ve, "eventType", "eventType must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
	struct app a;
	struct endpoint e;
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if (api_app_lookup(r, r->seg[1], &a) == 0) {
		if (cache_endpoint_get(a.id, r->seg[3], &e) != STORE_OK) {
			api_not_found(r);
		} else {
			struct message m = {0};
			id_new("msg_", m.id);
			memcpy(m.app_id, a.id, ID_MAX);
			m.event_type = xstrdup(type);
			m.created_ms = now_ms();
			m.payload = example_payload(type);
			m.payload_len = strlen(m.payload);
			char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
			memcpy(ids[0], e.id, ID_MAX);
			msg_op_init(r);
			/* a poller sink takes no delivery: its consumers read the message */
			msg_submit(r, &m, ids, endpoint_is_poller(&e) ? 0 : 1, true);
			message_dispose(&m);
			endpoint_dispose(&e);
		}
		app_dispose(&a);
	}
	json_decref(body);
}

/* ---- resend: one manual attempt of a message to one endpoint, filters bypassed, never retried ---- */

static int resend_run(struct store *st, struct req *r)
{
	return queue_write_deliveries(st, ((struct msg_op *)r->op)->om, now_ms());
}

static void resend_after(struct req *r)
{
	struct msg_op *op = r->op;
	queue_committed(op->om, STORE_OK);
	op->om = NULL;
}

void api_msg_resend(struct req *r)
{
	struct app a;
	struct endpoint e;
	struct message m = {0};
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	int rc = api_store()->q->msg_get(api_store(), a.id, r->seg[3], &m);
	if (rc != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			api_not_found(r);
		else
			api_error(r, 500, "internal_error", "the database failed");
	} else if (cache_endpoint_get(a.id, r->seg[5], &e) != STORE_OK) {
		api_not_found(r);
	} else if (endpoint_is_poller(&e)) {
		api_error(r, 422, "validation_error", "a poller sink takes no deliveries: its consumers read the message");
		endpoint_dispose(&e);
	} else {
		char(*ids)[ID_MAX] = xmalloc(sizeof *ids);
		memcpy(ids[0], e.id, ID_MAX);
		m.deliver_at_ms = 0; /* now, whatever the original deliverAt */
		msg_op_init(r);
		struct msg_op *op = r->op;
		op->om = outmsg_new(&m, ids, 1);
		op->om->trigger = TRIGGER_MANUAL;
		api_reply(r, 202, xstrdup("{}"));
		r->run = resend_run;
		r->after = resend_after;
		api_submit(r);
		endpoint_dispose(&e);
	}
	message_dispose(&m);
	app_dispose(&a);
}

/* DELETE .../msg/{msg}/content: forget the payload, keep the record. */
struct expunge_op {
	char app_id[ID_MAX];
	char msg_id[ID_MAX];
};

static int expunge_run(struct store *st, struct req *r)
{
	struct expunge_op *op = r->op;
	int rc = st->w->msg_expunge(st, op->app_id, op->msg_id);
	if (rc == STORE_NOTFOUND)
		api_not_found(r);
	return rc;
}

static void expunge_cleanup(struct req *r) { free(r->op); }

void api_msg_expunge(struct req *r)
{
	struct app a;
	struct message m = {0};
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	int rc = api_store()->q->msg_get(api_store(), a.id, r->seg[3], &m); /* the path may name the eventId */
	if (rc == STORE_OK) {
		struct expunge_op *op = xmalloc(sizeof *op);
		memcpy(op->app_id, a.id, ID_MAX);
		memcpy(op->msg_id, m.id, ID_MAX);
		r->op = op;
		r->cleanup = expunge_cleanup;
		api_reply(r, 204, NULL);
		r->run = expunge_run;
		api_submit(r);
	} else if (rc == STORE_NOTFOUND) {
		api_not_found(r);
	} else {
		api_error(r, 500, "internal_error", "the database failed");
	}
	message_dispose(&m);
	app_dispose(&a);
}

void api_msg_get(struct req *r)
{
	int with_content = api_query_bool(r, "with_content", true);
	struct app a;
	if (with_content < 0 || api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	struct message m = {0};
	int rc = api_store()->q->msg_get(api_store(), a.id, r->seg[3], &m);
	if (rc == STORE_OK)
		api_reply_json(r, 200, message_to_json(&m, with_content));
	else if (rc == STORE_NOTFOUND)
		api_not_found(r);
	else
		api_error(r, 500, "internal_error", "the database failed");
	message_dispose(&m);
	app_dispose(&a);
}

void api_msg_list(struct req *r)
{
	int with_content = api_query_bool(r, "with_content", true);
	struct app a;
	struct list_req lr;
	if (with_content < 0 || api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	struct list_filter filter;
	char *types = NULL;
	if (api_list_begin(r, false, "msg_", &lr) == 0 && api_list_filter(r, &filter, &types) == 0) {
		lr.pg.filter = &filter;
		struct message *msgs = NULL;
		size_t n = 0;
		if (api_store()->q->msg_list(api_store(), a.id, &lr.pg, &msgs, &n) != STORE_OK) {
			api_error(r, 500, "internal_error", "the database failed");
		} else {
			json_t **items = xcalloc(n + 1, sizeof *items);
			const char **ids = xcalloc(n + 1, sizeof *ids);
			for (size_t i = 0; i < n; i++) {
				items[i] = message_to_json(&msgs[i], with_content);
				ids[i] = msgs[i].id;
			}
			api_list_reply(r, &lr, items, ids, n);
			free(items);
			free(ids);
		}
		for (size_t i = 0; i < n; i++)
			message_dispose(&msgs[i]);
		free(msgs);
	}
	free(types);
	app_dispose(&a);
}
