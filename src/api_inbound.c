/* api_inbound.c: the ingest route POST /in/{source}, which providers call without the API token, with its
 * committer job (dedup, the message and the received request in one transaction), and the replay of a received
 * request (POST /source/{id}/request/{req}/replay).
 *
 * A source's destinations are the endpoints of its internal app (uid "hookd.source.<id>"); a verified,
 * non-duplicate request becomes a message of that app carrying the original bytes, content type and provider
 * headers, so the dispatcher forwards, signs, retries and records it like any message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "metrics.h"
#include "queue.h"
#include "source.h"

/* ---- ingest: POST /in/{source} ---- */

struct in_op {
	struct source *src;
	struct inreq rq;
	struct outmsg *om;        /* the message to forward */
	char *dedup_lock;         /* "d <source id> <dedup key>": the unique key the job claims (commit_job.lock_keys) */
};

static void in_cleanup(struct req *r)
{
	struct in_op *op = r->op;
	source_unref(op->src);
	inreq_dispose(&op->rq);
	free(op->dedup_lock);
	outmsg_unref(op->om);
	free(op);
}

static int in_forward(struct store *st, struct in_op *op)
{
	int rc = st->w->inreq_dedup(st, op->src->id, op->rq.dedup_key, op->rq.received_ms,
				    op->rq.received_ms - op->src->dedup_window_ms);
	if (rc == STORE_CONFLICT) {
		op->rq.duplicate = true;
		return STORE_OK;
	}
	if (rc != STORE_OK)
		return rc;
	struct message *m = &op->om->m;
	rc = queue_write_msg(st, op->om, m->created_ms, NULL);
	if (rc == STORE_OK)
		memcpy(op->rq.msg_id, m->id, ID_MAX);
	return rc;
}

static enum inbound_outcome in_outcome(int verify_rc, bool duplicate)
{
	switch (verify_rc) {
	case HOOKD_OK:
		return duplicate ? IN_DUPLICATE : IN_ACCEPTED;
	case HOOKD_ERR_MISSING:
		return IN_MISSING_SIGNATURE;
	case HOOKD_ERR_MALFORMED:
		return IN_MALFORMED_SIGNATURE;
	case HOOKD_ERR_STALE:
		return IN_STALE;
	case HOOKD_ERR_FUTURE:
		return IN_FUTURE;
	default:
		return IN_INVALID_SIGNATURE;
	}
}

/* A signature header that does not parse is a malformed request (400); a missing, stale or wrong one is 401. */
static void reply_rejected(struct req *r, int verify_rc)
{
	bool malformed = verify_rc == HOOKD_ERR_MALFORMED;
	api_reply_json(r, malformed ? 400 : 401,
		       json_pack("{s:s,s:s}", "code", malformed ? "malformed_signature" : "invalid_signature", "detail",
				 hookd_strerror(verify_rc)));
}

static int in_run(struct store *st, struct req *r)
{
	struct in_op *op = r->op;
	struct inreq *q = &op->rq;
	int rc = q->verify_rc == HOOKD_OK ? in_forward(st, op) : STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (q->duplicate) { /* a forwarded request's body is its message's payload; a duplicate keeps its own */
		q->body = op->om->m.payload;
		q->body_len = op->om->m.payload_len;
	}
	rc = st->w->inreq_insert(st, q);
	q->body = NULL; /* borrowed */
	if (rc != STORE_OK)
		return rc;
	metrics_inbound(in_outcome(q->verify_rc, q->duplicate));
	if (q->verify_rc != HOOKD_OK)
		reply_rejected(r, q->verify_rc);
	else
		api_reply_json(r, 200, json_pack("{s:s,s:b}", "id", q->id, "duplicate", q->duplicate));
	return STORE_OK;
}

static void in_after(struct req *r)
{
	struct in_op *op = r->op;
	if (op->rq.msg_id[0] != '\0') {
		queue_committed(op->om, STORE_OK);
		op->om = NULL;
	}
}

static const char *hdr_lookup(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	char name[HOOKD_HEADER_NAME_MAX + 1];
	size_t n = strlen(key);
	if (value == NULL || n == 0 || n > HOOKD_HEADER_NAME_MAX || !source_header_recorded(key))
		return MHD_YES;
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	json_object_set_new(cls, name, json_string(value));
	return MHD_YES;
}

/* What the destinations get besides the body: the provider's headers, its user agent renamed, and ours. */
static char *forward_headers(json_t *recorded, const struct in_op *op)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(recorded, k, v) {
		if (source_header_forwarded(k))
			json_object_set(out, k, v);
	}
	json_t *ua = json_object_get(recorded, "user-agent");
	if (ua != NULL)
		json_object_set(out, "x-forwarded-user-agent", ua);
	json_object_set_new(out, "x-hookd-source", json_string(op->src->id));
	json_object_set_new(out, "x-hookd-event-id", json_string(op->rq.dedup_key));
	char *text = json_dump(out);
	json_decref(out);
	return text;
}

static void in_message(struct req *r, struct in_op *op, json_t *recorded)
{
	struct message m = {0};
	id_new("msg_", m.id);
	memcpy(m.app_id, op->src->app_id, ID_MAX);
	m.event_type = xstrdup(SOURCE_EVENT_TYPE);
	m.created_ms = op->rq.received_ms;
	m.payload = xmalloc(r->body.len + 1);
	if (r->body.len > 0)
		memcpy(m.payload, r->body.data, r->body.len);
	m.payload[r->body.len] = '\0';
	m.payload_len = r->body.len;
	const char *ct = hdr_lookup(r->conn, "Content-Type");
	m.content_type = xstrdup(ct ? ct : "application/octet-stream");
	m.extra_headers = forward_headers(recorded, op);
	char(*ids)[ID_MAX];
	size_t n = cache_fanout(&m, NULL, &ids);
	op->om = outmsg_new(&m, ids, n);
}

/* The URL a URL-signing provider (Twilio) signed: the source's publicUrl, else --public-url and the path, then
 * the query string exactly as received. NULL if neither is known (such a scheme then fails to verify). */
static char *signed_url(const struct req *r, const struct source *s)
{
	const char *pub = api_config()->public_url;
	if (s->public_url == NULL && pub == NULL)
		return NULL;
	const char *q = r->query ? r->query : "";
	size_t n = strlen(s->public_url ? s->public_url : pub) + strlen(r->url) + strlen(q) + 2;
	char *u = xmalloc(n);
	if (s->public_url != NULL)
		snprintf(u, n, "%s%s%s", s->public_url, *q ? "?" : "", q);
	else
		snprintf(u, n, "%s%s%s%s", pub, r->url, *q ? "?" : "", q);
	return u;
}

static int in_verify(struct req *r, const struct source *s, int64_t now_s)
{
	if (s->verifier == NULL)
		return HOOKD_OK;
	char *url = signed_url(r, s);
	int rc = hookd_verify_lookup_url(s->verifier, url, hdr_lookup, r->conn, r->body.data ? r->body.data : "",
					 r->body.len, now_s);
	free(url);
	return rc;
}

static void in_record(struct req *r, struct in_op *op)
{
	struct source *s = op->src;
	struct inreq *q = &op->rq;
	id_new("inr_", q->id);
	memcpy(q->source_id, s->id, ID_MAX);
	q->method = xstrdup(r->method);
	q->received_ms = now_ms();
	q->verify_rc = in_verify(r, s, q->received_ms / 1000);
	json_t *recorded = json_object();
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, recorded);
	q->headers = json_dump(recorded);
	if (q->verify_rc == HOOKD_OK) {
		const char *hv = s->dedup_kind == DEDUP_HEADER ? hdr_lookup(r->conn, s->dedup_arg) : NULL;
		q->dedup_key = source_dedup_key(s->dedup_kind, s->dedup_arg, hv, r->body.data, r->body.len);
		in_message(r, op, recorded);
	}
	json_decref(recorded);
}

/* ---- replay: POST /source/{id}/request/{req}/replay sends a forwarded request again to every destination ---- */

static int replay_run(struct store *st, struct req *r)
{
	return queue_write_deliveries(st, ((struct in_op *)r->op)->om, now_ms());
}

static void replay_after(struct req *r)
{
	struct in_op *op = r->op;
	queue_committed(op->om, STORE_OK);
	op->om = NULL;
}

/* The message a request was forwarded as, or NULL after answering why there is none. */
static bool replay_message(struct req *r, const struct source *s, const struct inreq *q, struct message *m)
{
	if (q->msg_id[0] == '\0') {
		api_error(r, 409, "not_forwarded",
			  q->verify_rc != HOOKD_OK ? "a rejected request is never forwarded"
						   : "a duplicate was not forwarded: replay the original request");
		return false;
	}
	int rc = api_store()->q->msg_get(api_store(), s->app_id, q->msg_id, m);
	if (rc == STORE_OK && m->payload != NULL)
		return true;
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		api_error(r, 410, "gone", "the request's body is past its retention");
	else
		api_error(r, 500, "internal_error", "the database failed");
	return false;
}

void api_source_request_replay(struct req *r)
{
	struct source *s = api_source_lookup(r);
	if (s == NULL)
		return;
	struct inreq q = {0};
	struct message m = {0};
	int rc = api_store()->q->inreq_get(api_store(), s->id, r->seg[3], &q);
	if (rc != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			api_not_found(r);
		else
			api_error(r, 500, "internal_error", "the database failed");
	} else if (replay_message(r, s, &q, &m)) {
		struct in_op *op = xcalloc(1, sizeof *op);
		op->src = source_ref(s);
		r->op = op;
		r->cleanup = in_cleanup;
		char(*ids)[ID_MAX];
		size_t n = cache_fanout(&m, NULL, &ids);
		m.deliver_at_ms = 0;
		op->om = outmsg_new(&m, ids, n);
		api_reply_json(r, 202, json_pack("{s:s,s:s,s:I}", "id", q.id, "msgId", q.msg_id, "destinations",
						  (json_int_t)n));
		r->run = replay_run;
		r->after = replay_after;
		api_submit(r);
	}
	message_dispose(&m);
	inreq_dispose(&q);
	source_unref(s);
}

/* The source named by /in/{key}, or NULL. */
struct source *api_inbound_source(const char *url)
{
	char key[300];
	if (strncmp(url, "/in/", 4) != 0)
		return NULL;
	snprintf(key, sizeof key, "%s", url + 4);
	size_t n = strlen(key);
	if (n > 0 && key[n - 1] == '/')
		key[--n] = '\0';
	if (n == 0 || strchr(key, '/') != NULL)
		return NULL;
	return sources_lookup(key);
}

void api_inbound(struct req *r)
{
	struct source *s = api_inbound_source(r->url);
	if (s == NULL) {
		metrics_inbound(IN_UNKNOWN_SOURCE);
		api_not_found(r);
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		source_unref(s);
		api_error(r, 405, "method_not_allowed", "Method not allowed");
		return;
	}
	if (!source_content_type_ok(&s->content_types, hdr_lookup(r->conn, "Content-Type"))) {
		source_unref(s);
		metrics_inbound(IN_UNSUPPORTED_TYPE);
		api_error(r, 415, "unsupported_media_type", "this source does not take this content type");
		return;
	}
	struct in_op *op = xcalloc(1, sizeof *op);
	op->src = s;
	r->op = op;
	r->cleanup = in_cleanup;
	in_record(r, op);
	if (op->rq.verify_rc != HOOKD_OK && !source_reject_budget(s, now_ms())) {
		metrics_inbound(in_outcome(op->rq.verify_rc, false));
		reply_rejected(r, op->rq.verify_rc);
		return;
	}
	if (op->rq.verify_rc == HOOKD_OK && op->rq.dedup_key != NULL) { /* locked ahead: see commit_job.lock_keys */
		size_t len = strlen(op->src->id) + strlen(op->rq.dedup_key) + 4;
		op->dedup_lock = xmalloc(len);
		snprintf(op->dedup_lock, len, "d %s %s", op->src->id, op->rq.dedup_key);
		r->job.lock_keys[1] = op->dedup_lock;
	}
	r->run = in_run;
	r->after = in_after;
	api_submit(r);
}
