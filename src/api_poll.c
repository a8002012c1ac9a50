/* api_poll.c: poller sinks, Svix's "Message Poller" (/app/{app}/poller/{sink}...).
 *
 * A sink is an endpoint whose URL is "poll:" (model.h: endpoint_is_poller). The fan-out gives it no deliveries
 * (cache.c): its "deliveries" are the app's messages, in the order they come due, that pass its filters (event
 * types, channels, payload filter) at the time they are read. A message is due when created, or at its
 * deliverAt if that is later (a deferred message): its place in the stream is (its id's time, its id), or
 * (deliverAt, its id) for a deferred one, so a deferred message stays out of every read until it is due and
 * then comes after every position a consumer could have reached by then (none is lost behind a cursor that
 * moved on; it is ordered by when it became readable, not by when it was created). A read takes the places
 * after a position up to POLL_SETTLE_MS ago: a message created (or due) before then has committed, so a
 * position never skips one that commits later. Nothing here waits (no long-poll): a call answers at once with
 * what there is.
 *
 * Consumers: GET .../consumer/{c} reads after the consumer's committed cursor; ?iterator=X (the iterator an
 * earlier answer gave) first commits X as the cursor and then reads after it, in a committer job, answered
 * after the commit. A consumer that never comes back with the iterator re-reads the batch: at least once.
 * The iterator is a message id (the last one read; a deferred one's place is found from its row), so a client
 * may also commit a position inside a batch by passing a message's id. .../seek {"after": time} moves the cursor to that time.
 *
 * A disabled sink answers every call 409 endpoint_disabled (Svix's spec lists 409 and says no more); its
 * cursors stay, so once enabled again each consumer reads on from where it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "filter.h"
#include "pfilter.h"

#define POLL_LIMIT_DEFAULT 50
#define POLL_LIMIT_MAX 250
#define POLL_SCAN_MAX 1000  /* messages a call reads at most, matching or not (a sink with narrow filters) */
#define POLL_SETTLE_MS 1000 /* how old a message's id must be before a read returns it (see above) */
#define CONSUMER_ID_MAX 256

struct poll_read {
	const char *event_type; /* ?event_type (not on consumer reads); NULL: any */
	const char *channel;    /* ?channel; NULL: any */
	int limit;
	/* the answer */
	json_t *data;
	char iterator[ID_MAX];
	bool done;
};

/* The path's app and its poller sink, referenced; NULL after a 404. */
static struct ep_snap *sink_lookup(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return NULL;
	struct ep_snap *s = NULL;
	if (cache_endpoint_get(a.id, r->seg[3], &e) == STORE_OK) {
		if (endpoint_is_poller(&e))
			s = cache_endpoint_ref(e.id);
		endpoint_dispose(&e);
	}
	if (s == NULL) {
		char detail[600];
		snprintf(detail, sizeof detail, "poller sink %.256s not found in app %.256s", r->seg[3], r->seg[1]);
		api_error(r, 404, "not_found", detail);
	} else if (s->ep.disabled) { /* its consumers' cursors stay: re-enabled, it reads on from them */
		char detail[600];
		snprintf(detail, sizeof detail, "poller sink %.256s is disabled: enable it to poll it again", r->seg[3]);
		api_error(r, 409, "endpoint_disabled", detail);
		ep_snap_unref(s);
		s = NULL;
	}
	app_dispose(&a);
	return s;
}

static bool sink_match(const struct ep_snap *s, const struct message *m)
{
	const struct endpoint *e = &s->ep;
	if (!filter_types_match(&e->event_types, m->event_type) || !filter_channels_match(&e->channels, &m->channels))
		return false;
	if (e->payload_filter == NULL)
		return true;
	if (s->pf == NULL || m->payload == NULL) /* a filter that did not compile takes nothing, as in the fan-out */
		return false;
	json_t *p = json_loadb(m->payload, m->payload_len, JSON_DECODE_ANY, NULL);
	bool ok = p != NULL && pfilter_match(s->pf, p);
	json_decref(p);
	return ok;
}

/* A place in a sink's stream (see the top): an immediate message's is (its id's time, its id), a deferred one's
 * (its deliverAt, its id); a floor id's (from a seek, a time, the sink's creation) is its time and itself. */
struct poll_pos {
	int64_t ms;
	char id[ID_MAX];
};

static bool msg_deferred(const struct message *m) { return m->deliver_at_ms > m->created_ms; }

static void msg_pos(const struct message *m, struct poll_pos *p)
{
	p->ms = msg_deferred(m) ? m->deliver_at_ms : id_time_ms("msg_", m->id);
	memcpy(p->id, m->id, ID_MAX);
}

static int pos_cmp(const struct poll_pos *a, const struct poll_pos *b)
{
	return a->ms != b->ms ? (a->ms < b->ms ? -1 : 1) : strcmp(a->id, b->id);
}

static int msg_pos_cmp(const void *a, const void *b)
{
	struct poll_pos pa, pb;
	msg_pos(a, &pa);
	msg_pos(b, &pb);
	return pos_cmp(&pa, &pb);
}

/* The place of an iterator or cursor (a message id or a floor id): one read, to tell a deferred message's. */
static int pos_of(const char *app_id, const char *it, struct poll_pos *p)
{
	struct store *st = api_store();
	struct message m;
	int rc = st->q->msg_get(st, app_id, it, &m);
	p->ms = id_time_ms("msg_", it);
	snprintf(p->id, ID_MAX, "%s", it);
	if (rc == STORE_OK && strcmp(m.id, it) == 0 && msg_deferred(&m))
		p->ms = m.deliver_at_ms;
	if (rc == STORE_OK)
		message_dispose(&m);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* Read up to pr->limit messages of the sink after the place of iterator from; STORE_* on failure. Each batch
 * reads both kinds from the place on and walks them merged, no further than where a kind that filled its batch
 * stopped (the next batch reads on from there). */
static int poll_scan(const struct ep_snap *s, const char *from, struct poll_read *pr)
{
	struct store *st = api_store();
	struct poll_pos pos;
	int rc = pos_of(s->ep.app_id, from, &pos);
	int64_t upper_ms = now_ms() - POLL_SETTLE_MS;
	char upper[ID_MAX];
	id_floor("msg_", upper_ms, upper);
	char *types = NULL;
	if (pr->event_type != NULL) {
		json_t *a = json_pack("[s]", pr->event_type);
		types = json_dumps(a, JSON_COMPACT);
		json_decref(a);
	}
	pr->data = json_array();
	pr->done = false;
	int scanned = 0;
	/* without filters of its own every row read is one returned: read no more than the batch needs */
	const struct endpoint *e = &s->ep;
	bool narrow = e->event_types.v != NULL || e->channels.v != NULL || e->payload_filter != NULL;
	while (rc == STORE_OK && !pr->done && (int)json_array_size(pr->data) < pr->limit && scanned < POLL_SCAN_MAX) {
		int want = narrow ? POLL_LIMIT_MAX : pr->limit - (int)json_array_size(pr->data);
		if (want > POLL_SCAN_MAX - scanned)
			want = POLL_SCAN_MAX - scanned;
		char lo[ID_MAX]; /* an immediate message after pos: id > pos.id, and at or after pos.ms */
		id_floor("msg_", pos.ms, lo);
		if (strcmp(pos.id, lo) > 0)
			memcpy(lo, pos.id, ID_MAX);
		struct poll_window w = {.after_id = lo, .before_id = upper, .after_ms = pos.ms, .after_def_id = pos.id,
					.before_ms = upper_ms, .event_types_json = types, .channel = pr->channel,
					.limit = want};
		struct message *msgs = NULL;
		size_t n = 0, kinds[2] = {0, 0};
		if ((rc = st->q->poll_read(st, s->ep.app_id, &w, &msgs, &n)) != STORE_OK)
			break;
		if (n > 1)
			qsort(msgs, n, sizeof *msgs, msg_pos_cmp);
		struct poll_pos horizon = {.ms = INT64_MAX}, last[2] = {{0}, {0}};
		for (size_t i = 0; i < n; i++) { /* sorted: the last of each kind is its furthest */
			int k = msg_deferred(&msgs[i]);
			msg_pos(&msgs[i], &last[k]);
			kinds[k]++;
		}
		for (int k = 0; k < 2; k++)
			if (kinds[k] == (size_t)want && pos_cmp(&last[k], &horizon) < 0)
				horizon = last[k];
		size_t i = 0;
		for (; i < n && (int)json_array_size(pr->data) < pr->limit; i++) {
			struct poll_pos p;
			msg_pos(&msgs[i], &p);
			if (pos_cmp(&p, &horizon) > 0)
				break;
			scanned++;
			pos = p;
			if (sink_match(s, &msgs[i]))
				json_array_append_new(pr->data, message_to_json(&msgs[i], true));
		}
		if (i == n && horizon.ms == INT64_MAX)
			pr->done = true;
		for (size_t k = 0; k < n; k++)
			message_dispose(&msgs[k]);
		free(msgs);
	}
	snprintf(pr->iterator, ID_MAX, "%s", pos.id);
	free(types);
	return rc;
}

static void poll_answer(struct req *r, struct poll_read *pr)
{
	json_t *j = json_pack("{s:o,s:s,s:b}", "data", pr->data, "iterator", pr->iterator, "done", pr->done);
	pr->data = NULL;
	api_reply_json(r, 200, j);
}

/* ?limit; -1 after a 422. */
static int poll_limit(struct req *r)
{
	const char *v = api_query(r, "limit");
	if (v == NULL)
		return POLL_LIMIT_DEFAULT;
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 1 || n > POLL_LIMIT_MAX) {
		api_error(r, 422, "validation_error", "limit must be between 1 and 250");
		return -1;
	}
	return (int)n;
}

/* ?iterator into it (a message id); false after a 422. Absent: it is left as it was. */
static bool poll_iterator(struct req *r, char it[ID_MAX])
{
	const char *v = api_query(r, "iterator");
	if (v == NULL || *v == '\0')
		return true;
	if (!id_is("msg_", v)) {
		api_error(r, 422, "validation_error", "iterator must be one an answer gave (a message id)");
		return false;
	}
	snprintf(it, ID_MAX, "%s", v);
	return true;
}

/* The earlier of two positions is moved up to the later one (positions compare as strings). */
static void pos_max(char pos[ID_MAX], const char *other)
{
	if (strcmp(other, pos) > 0)
		snprintf(pos, ID_MAX, "%s", other);
}

void api_poll(struct req *r)
{
	struct poll_read pr = {.event_type = api_query(r, "event_type"), .channel = api_query(r, "channel")};
	if ((pr.limit = poll_limit(r)) < 0)
		return;
	if (pr.event_type != NULL && !filter_event_type_valid(pr.event_type)) {
		api_error(r, 422, "validation_error", "event_type must be 1-256 of [a-zA-Z0-9-_.]");
		return;
	}
	const char *after = api_query(r, "after");
	int64_t after_ms = 0;
	if (after != NULL && rfc3339_parse(after, &after_ms) < 0) {
		api_error(r, 422, "validation_error", "after: invalid datetime format");
		return;
	}
	struct ep_snap *s = sink_lookup(r);
	if (s == NULL)
		return;
	char from[ID_MAX];
	id_floor("msg_", s->ep.created_ms, from); /* a sink's messages begin with it */
	if (after != NULL) {
		char a[ID_MAX];
		id_floor("msg_", after_ms, a);
		pos_max(from, a);
	}
	if (poll_iterator(r, from)) {
		if (poll_scan(s, from, &pr) == STORE_OK)
			poll_answer(r, &pr);
		else
			api_error(r, 500, "internal_error", "the database failed");
	}
	json_decref(pr.data);
	ep_snap_unref(s);
}

/* ---- consumers: a committed cursor each ---- */

struct cursor_op {
	char sink_id[ID_MAX];
	char consumer[CONSUMER_ID_MAX + 1];
	char cursor[ID_MAX];
};

static int cursor_run(struct store *st, struct req *r)
{
	struct cursor_op *op = r->op;
	return st->w->poll_cursor_put(st, op->sink_id, op->consumer, op->cursor, now_ms());
}

static void cursor_cleanup(struct req *r) { free(r->op); }

/* Answer (already set) once cursor is the consumer's committed cursor. */
static void cursor_submit(struct req *r, const struct ep_snap *s, const char *cursor)
{
	struct cursor_op *op = xcalloc(1, sizeof *op);
	memcpy(op->sink_id, s->ep.id, ID_MAX);
	snprintf(op->consumer, sizeof op->consumer, "%s", r->seg[5]);
	snprintf(op->cursor, ID_MAX, "%s", cursor);
	r->op = op;
	r->cleanup = cursor_cleanup;
	r->run = cursor_run;
	api_submit(r);
}

static struct ep_snap *consumer_lookup(struct req *r)
{
	if (!uid_valid(r->seg[5])) {
		api_error(r, 422, "validation_error", "a consumer id is 1-256 of [a-zA-Z0-9-_.]");
		return NULL;
	}
	return sink_lookup(r);
}

void api_poll_consumer(struct req *r)
{
	struct poll_read pr = {0};
	if ((pr.limit = poll_limit(r)) < 0)
		return;
	char ack[ID_MAX] = "";
	if (!poll_iterator(r, ack))
		return;
	struct ep_snap *s = consumer_lookup(r);
	if (s == NULL)
		return;
	char from[ID_MAX];
	struct store *st = api_store();
	int rc = STORE_OK;
	if (ack[0] != '\0') {
		memcpy(from, ack, ID_MAX);
	} else if ((rc = st->q->poll_cursor_get(st, s->ep.id, r->seg[5], from)) == STORE_NOTFOUND) {
		id_floor("msg_", s->ep.created_ms, from); /* a new consumer starts at the sink's beginning */
		rc = STORE_OK;
	}
	if (rc == STORE_OK)
		rc = poll_scan(s, from, &pr);
	if (rc != STORE_OK) {
		api_error(r, 500, "internal_error", "the database failed");
	} else {
		poll_answer(r, &pr);
		if (ack[0] != '\0')
			cursor_submit(r, s, ack); /* the answer goes out after the commit */
	}
	json_decref(pr.data);
	ep_snap_unref(s);
}

void api_poll_seek(struct req *r)
{
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct verr ve = {0};
	const char *after = NULL;
	int64_t ms = 0;
	if (jfield_string(body, "after", 1, 64, &ve, &after) && rfc3339_parse(after, &ms) < 0)
		verr_add(&ve, "after", "invalid datetime format", "value_error.datetime");
	else if (after == NULL && jfield_missing(body, "after"))
		verr_add(&ve, "after", "field required", "value_error.missing");
	struct ep_snap *s = NULL;
	if (verr_any(&ve)) {
		api_reply(r, 422, verr_body(&ve));
	} else if ((s = consumer_lookup(r)) != NULL) {
		char cursor[ID_MAX];
		id_floor("msg_", ms, cursor);
		api_reply_json(r, 200, json_pack("{s:s}", "iterator", cursor));
		cursor_submit(r, s, cursor);
		ep_snap_unref(s);
	}
	json_decref(body);
}
