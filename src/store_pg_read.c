/* store_pg_read.c: the PostgreSQL backend's query side. Each call is one statement on a connection of the read
 * pool, so it reads one committed snapshot. */
#include "store_pg_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DLV_LOAD                                                                                             \
	"SELECT " DLV_COLS("d.") ", " MSG_COLS("m.") " FROM deliveries d JOIN messages m"                    \
	" ON m.app_id = d.app_id AND m.id = d.msg_id"
/* Every list: $1 the owner (app, source), $2 after, $3 before, $4 limit; filters are parameters that are NULL
 * when unused, so each list keeps one prepared statement. Then $5 created before, $6 created after. */
#define PAGED(from, filter, order) from " WHERE app_id = $1 AND id > $2 AND id < $3" TIME_FILTER filter \
	" ORDER BY id " order " LIMIT $4"
#define TIME_FILTER " AND ($5::bigint IS NULL OR created_ms < $5) AND ($6::bigint IS NULL OR created_ms > $6)"
#define IN_JSON(col, param) col " IN (SELECT json_array_elements_text(" param "::json))"
#define HAS(col, param) "EXISTS (SELECT 1 FROM json_array_elements_text(" col "::json) AS e(v) WHERE e.v = " param ")"
/* messages: $7 event types (a JSON array), $8 channel, $9 tag */
#define MSG_FILTER                                                                                           \
	" AND ($7::text IS NULL OR " IN_JSON("event_type", "$7") ")"                                          \
	" AND ($8::text IS NULL OR " HAS("channels", "$8") ")"                                                \
	" AND ($9::text IS NULL OR " HAS("tags", "$9") ")"
/* attempts: $7 event types and $8 channel (of their messages), $9 status, $10 status code class, $11 a tag (of
 * their messages); then $12 the endpoint and $13 the message for the lists by those */
#define ATT_FILTER                                                                                           \
	" AND ($9::int IS NULL OR status = $9) AND ($10::int IS NULL OR (status_code / 100) * 100 = $10)"     \
	" AND ($7::text IS NULL AND $8::text IS NULL AND $11::text IS NULL OR EXISTS (SELECT 1 FROM messages m" \
	" WHERE m.app_id = attempts.app_id AND m.id = attempts.msg_id"                                        \
	" AND ($7::text IS NULL OR " IN_JSON("m.event_type", "$7") ")"                                        \
	" AND ($8::text IS NULL OR " HAS("m.channels", "$8") ")"                                              \
	" AND ($11::text IS NULL OR " HAS("m.tags", "$11") ")))"
#define POLL_FILTER                                                                                          \
	" AND ($7::text IS NULL OR " IN_JSON("event_type", "$7") ")"                                          \
	" AND ($8::text IS NULL OR " HAS("channels", "$8") ")"
#define MSG_LIST(order) PAGED("SELECT " MSG_COLS("") " FROM messages", MSG_FILTER, order)
#define ATT_LIST(filter, order) PAGED("SELECT " ATT_COLS " FROM attempts", ATT_FILTER filter, order)
#define ATT_BY_EP " AND endpoint_id = $12"
#define ATT_BY_MSG " AND msg_id = $13 AND ($12::text IS NULL OR endpoint_id = $12)"
/* an endpoint's messages: $5/$6 their time, $7-$9 as MSG_FILTER, $10 the delivery's status, $11 the endpoint */
#define EP_MSGS(order)                                                                                       \
	DLV_LOAD " WHERE d.app_id = $1 AND d.endpoint_id = $11 AND d.trigger_type = 0 AND d.msg_id > $2"      \
	" AND d.msg_id < $3 AND ($5::bigint IS NULL OR m.created_ms < $5)"                                    \
	" AND ($6::bigint IS NULL OR m.created_ms > $6) AND ($7::text IS NULL OR " IN_JSON("m.event_type", "$7") ")" \
	" AND ($8::text IS NULL OR " HAS("m.channels", "$8") ") AND ($9::text IS NULL OR " HAS("m.tags", "$9") ")" \
	" AND ($10::int IS NULL OR d.status = $10) ORDER BY d.msg_id " order " LIMIT $4"
#define COUNTS "SELECT status, count(*) FROM deliveries"
/* tasks: $1 after, $2 before, $3 limit, $4 status, $5 kind */
#define TASK_LIST(order) "SELECT " TASK_COLS " FROM tasks WHERE id > $1 AND id < $2"                          \
	" AND ($4::int IS NULL OR status = $4) AND ($5::text IS NULL OR kind = $5) ORDER BY id " order " LIMIT $3"
/* A forwarded request's body is its message's payload (stored once); lists read only its size. */
#define INR_FWD(st) "(SELECT count(*) FROM deliveries d WHERE d.msg_id = r.msg_id AND d.status IN " st ")"
#define INR_SELECT(body)                                                                                     \
	"SELECT r.id, r.source_id, r.dedup_key, r.method, r.headers, " body ","                                 \
	" coalesce(octet_length(r.body), octet_length(m.payload), 0), r.received_ms, r.verify_rc, r.duplicate,"  \
	" r.msg_id, " INR_FWD("(0)") ", " INR_FWD("(1, 3)") ", " INR_FWD("(2, 4)")                             \
	" FROM inbound_requests r LEFT JOIN messages m ON m.id = r.msg_id"
#define INR_LIST(order)                                                                                      \
	INR_SELECT("NULL::bytea") " WHERE r.source_id = $1 AND r.id > $2 AND r.id < $3 ORDER BY r.id " order    \
	" LIMIT $4"

const struct pg_stmt pg_rdefs[PR_COUNT] = {
	[PR_DLV_LOAD] = {"delivery_load", DLV_LOAD " WHERE d.id = $1"},
	/* any number of keys in one statement, each a primary key lookup */
	[PR_DLVS_LOAD] = {"deliveries_load", DLV_LOAD " WHERE d.id = ANY ($1::bigint[])"},
	/* the id wins over an eventId that happens to equal another message's id */
	[PR_MSG_GET] = {"msg_get",
			"SELECT " MSG_COLS("") " FROM (SELECT 0 AS k, " MSG_COLS("") " FROM messages"
			" WHERE app_id = $1 AND id = $2 UNION ALL SELECT 1, " MSG_COLS("") " FROM messages"
			" WHERE app_id = $1 AND event_id = $2) s ORDER BY k LIMIT 1"},
	[PR_ATT_GET] = {"attempt_get", "SELECT " ATT_COLS " FROM attempts WHERE app_id = $1 AND msg_id = $2 AND id = $3"},
	[PR_MSG_LIST] = {"msg_list", MSG_LIST("ASC")},
	[PR_MSG_LIST_DESC] = {"msg_list", MSG_LIST("DESC")},
	[PR_ATT_LIST_APP] = {"attempt_list", ATT_LIST("", "ASC")},
	[PR_ATT_LIST_APP_DESC] = {"attempt_list", ATT_LIST("", "DESC")},
	[PR_ATT_LIST_EP] = {"attempt_list", ATT_LIST(ATT_BY_EP, "ASC")},
	[PR_ATT_LIST_EP_DESC] = {"attempt_list", ATT_LIST(ATT_BY_EP, "DESC")},
	[PR_ATT_LIST_MSG] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "ASC")},
	[PR_ATT_LIST_MSG_DESC] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "DESC")},
	[PR_COUNTS_EP] = {"delivery_counts", COUNTS " WHERE app_id = coalesce($1::text, (SELECT app_id FROM endpoints"
				      " WHERE id = $2)) AND endpoint_id = $2 AND ($3::text IS NULL OR msg_id > $3)"
				      " AND ($4::text IS NULL OR msg_id < $4) GROUP BY status"},
	[PR_COUNTS_APP] = {"delivery_counts", COUNTS " WHERE app_id = $1 GROUP BY status"},
	/* store-wide, only what the gauges use: each count reads a partial index */
	[PR_COUNTS_ALL] = {"delivery_counts", COUNTS " WHERE status = 1 GROUP BY status UNION ALL " COUNTS
				       " WHERE status = 2 GROUP BY status"},
	[PR_MSG_DLVS] = {"msg_deliveries",
			 "SELECT " DLV_COLS("") " FROM deliveries WHERE msg_id = $2 AND app_id = $1 ORDER BY endpoint_id"},
	/* the (app_id, endpoint_id, status, id) index: min(id) is its first entry */
	[PR_OLDEST_PENDING] = {"delivery_oldest_pending",
			       "SELECT min(id) FROM deliveries WHERE app_id = (SELECT app_id FROM endpoints WHERE id = $1)"
			       " AND endpoint_id = $1 AND status = 1"},
	/* ids sort by time: the window is a range of the (app_id, endpoint_id, id) index */
	[PR_ATT_FIGURES] = {"attempt_figures", "SELECT created_ms, duration_ms, status_code, status FROM attempts"
					       " WHERE app_id = $1 AND endpoint_id = $2 AND id >= $3"},
	[PR_EP_MSGS] = {"endpoint_msgs", EP_MSGS("ASC")},
	[PR_EP_MSGS_DESC] = {"endpoint_msgs", EP_MSGS("DESC")},
	[PR_TASK_GET] = {"task_get", "SELECT " TASK_COLS " FROM tasks WHERE id = $1"},
	[PR_TOKEN_GET] = {"token_get", "SELECT " TOKEN_COLS " FROM app_tokens WHERE hash = $1"},
	[PR_POLL_GET] = {"poll_cursor_get", "SELECT cursor FROM poll_consumers WHERE sink_id = $1 AND consumer_id = $2"},
	/* as SQLite's: immediate ones along the primary key, deferred ones along messages_deferred; $7 event types
	 * (a JSON array), $8 channel */
	[PR_POLL_READ] = {"poll_read",
			  "(SELECT " MSG_COLS("") " FROM messages WHERE app_id = $1 AND id > $2 AND id < $3"
			  " AND deliver_at_ms <= created_ms" POLL_FILTER " ORDER BY id LIMIT $4)"
			  " UNION ALL (SELECT " MSG_COLS("") " FROM messages WHERE app_id = $1"
			  " AND deliver_at_ms > created_ms AND (deliver_at_ms > $5 OR (deliver_at_ms = $5 AND id > $6))"
			  " AND deliver_at_ms < $9" POLL_FILTER " ORDER BY deliver_at_ms, id LIMIT $4)"},
	[PR_TASK_LIST] = {"task_list", TASK_LIST("ASC")},
	[PR_TASK_LIST_DESC] = {"task_list", TASK_LIST("DESC")},
	[PR_INR_LIST] = {"inreq_list", INR_LIST("ASC")},
	[PR_INR_LIST_DESC] = {"inreq_list", INR_LIST("DESC")},
	[PR_INR_GET] = {"inreq_get", INR_SELECT("coalesce(r.body, m.payload)") " WHERE r.source_id = $1 AND r.id = $2"},
};

/* ---- reads (any thread) ---- */

/* One row read by fn, STORE_NOTFOUND if none. */
static int read_one(struct store *st, enum pg_rstmt r, struct pgp *p, void (*fn)(const PGresult *, int, int, void *),
		    void *out)
{
	int rc;
	PGresult *res = pg_read(st, r, p, &rc);
	pgp_free(p);
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK)
		fn(res, 0, 0, out);
	PQclear(res);
	return rc;
}

/* Every row into a malloc'd array. */
static int read_all(struct store *st, enum pg_rstmt r, struct pgp *p, const struct pg_row_kind *k, void **out,
		    size_t *n)
{
	int rc;
	PGresult *res = pg_read(st, r, p, &rc);
	pgp_free(p);
	*out = pg_collect(res, k, n);
	PQclear(res);
	return rc;
}

static int pg_delivery_load(struct store *st, int64_t dkey, struct delivery *d, struct message *m)
{
	struct pgp p = {0};
	pgp_i64(&p, dkey);
	int rc;
	PGresult *res = pg_read(st, PR_DLV_LOAD, &p, &rc);
	pgp_free(&p);
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK) {
		pg_row_delivery(res, 0, 0, d);
		if (m != NULL)
			pg_row_message(res, 0, 8, m);
	}
	PQclear(res);
	return rc;
}

static void deliveries_clear(size_t n, struct delivery *d, struct message *m)
{
	for (size_t i = 0; i < n; i++) {
		memset(&d[i], 0, sizeof d[i]);
		d[i].status = -1;
		if (m != NULL)
			memset(&m[i], 0, sizeof m[i]);
	}
}

static int pg_deliveries_load(struct store *st, const int64_t *dkeys, size_t n, struct delivery *d,
			      struct message *m)
{
	deliveries_clear(n, d, m);
	if (n == 0)
		return STORE_OK;
	struct pgp p = {0};
	pgp_i64_array(&p, dkeys, n);
	int rc;
	PGresult *res = pg_read(st, PR_DLVS_LOAD, &p, &rc);
	pgp_free(&p);
	if (rc != STORE_OK)
		return rc;
	struct store_key_slot *ks = store_key_slots(dkeys, n);
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t key = pg_col_i64(res, row, 0);
		size_t cnt, lo = store_key_slot_find(ks, n, key, &cnt);
		for (size_t k = lo; k < lo + cnt; k++) {
			pg_row_delivery(res, row, 0, &d[ks[k].i]);
			if (m != NULL)
				pg_row_message(res, row, 8, &m[ks[k].i]);
		}
	}
	PQclear(res);
	free(ks);
	return STORE_OK;
}

static int pg_msg_get(struct store *st, const char *app_id, const char *id_or_event_id, struct message *out)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, id_or_event_id);
	return read_one(st, PR_MSG_GET, &p, pg_row_message, out);
}

static int pg_attempt_get(struct store *st, const char *app_id, const char *msg_id, const char *attempt_id,
			  struct attempt *out)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, msg_id);
	pgp_str(&p, attempt_id);
	return read_one(st, PR_ATT_GET, &p, pg_row_attempt, out);
}

/* A NULL page lists everything, newest first. */
static const struct page *page_or_all(const struct page *pg)
{
	static const struct page all = {.limit = -1, .ascending = false};
	return pg != NULL ? pg : &all;
}

/* $1-$6 of a list: the owner, the page, the time filters. */
static void list_params(struct pgp *p, const char *owner, const struct page *pg)
{
	const struct list_filter *f = pg->filter;
	pgp_init(p);
	pgp_str(p, owner);
	pgp_page(p, pg);
	pgp_i64_pos(p, f != NULL ? f->before_ms : 0);
	pgp_i64_pos(p, f != NULL ? f->after_ms : 0);
}

static int pg_msg_list(struct store *st, const char *app_id, const struct page *pg, struct message **out,
		       size_t *n)
{
	pg = page_or_all(pg);
	const struct list_filter *f = pg->filter;
	struct pgp p;
	list_params(&p, app_id, pg);
	pgp_str(&p, f != NULL ? f->event_types_json : NULL);
	pgp_str(&p, f != NULL ? f->channel : NULL);
	pgp_str(&p, f != NULL ? f->tag : NULL);
	return read_all(st, pg->ascending ? PR_MSG_LIST : PR_MSG_LIST_DESC, &p, &pg_message_rows, (void **)out, n);
}

static int pg_poll_read(struct store *st, const char *app_id, const struct poll_window *w, struct message **out,
			size_t *n)
{
	struct pgp p;
	pgp_init(&p);
	pgp_str(&p, app_id);
	pgp_str(&p, w->after_id);
	pgp_str(&p, w->before_id);
	pgp_i64(&p, w->limit);
	pgp_i64(&p, w->after_ms);
	pgp_str(&p, w->after_def_id);
	pgp_str(&p, w->event_types_json);
	pgp_str(&p, w->channel);
	pgp_i64(&p, w->before_ms);
	return read_all(st, PR_POLL_READ, &p, &pg_message_rows, (void **)out, n);
}

static int pg_attempt_list(struct store *st, const char *app_id, const char *endpoint_id, const char *msg_id,
			   const struct page *pg, struct attempt **out, size_t *n)
{
	pg = page_or_all(pg);
	const struct list_filter *f = pg->filter;
	enum pg_rstmt which = msg_id != NULL ? PR_ATT_LIST_MSG : endpoint_id != NULL ? PR_ATT_LIST_EP : PR_ATT_LIST_APP;
	struct pgp p;
	list_params(&p, app_id, pg);
	pgp_str(&p, f != NULL ? f->event_types_json : NULL);
	pgp_str(&p, f != NULL ? f->channel : NULL);
	pgp_int_opt(&p, f != NULL ? f->status : -1);
	pgp_int_opt(&p, f != NULL ? f->status_code_class : -1);
	pgp_str(&p, f != NULL ? f->tag : NULL);
	if (which != PR_ATT_LIST_APP)
		pgp_str(&p, endpoint_id);
	if (which == PR_ATT_LIST_MSG)
		pgp_str(&p, msg_id);
	return read_all(st, which + !pg->ascending, &p, &pg_attempt_rows, (void **)out, n);
}

static int counts_between(struct store *st, const char *app_id, const char *endpoint_id, const char *after_id,
			  const char *before_id, int64_t counts[5]);

static int pg_delivery_counts(struct store *st, const char *app_id, const char *endpoint_id, int64_t counts[5])
{
	return counts_between(st, app_id, endpoint_id, NULL, NULL, counts);
}

static int pg_delivery_counts_window(struct store *st, const char *app_id, const char *endpoint_id,
				     const char *after_id, const char *before_id, int64_t counts[5])
{
	return counts_between(st, app_id, endpoint_id, after_id, before_id, counts);
}

static int counts_between(struct store *st, const char *app_id, const char *endpoint_id, const char *after_id,
			  const char *before_id, int64_t counts[5])
{
	memset(counts, 0, 5 * sizeof counts[0]);
	enum pg_rstmt which = endpoint_id != NULL ? PR_COUNTS_EP : app_id != NULL ? PR_COUNTS_APP : PR_COUNTS_ALL;
	struct pgp p = {0};
	if (which != PR_COUNTS_ALL)
		pgp_str(&p, app_id);
	if (which == PR_COUNTS_EP) {
		pgp_str(&p, endpoint_id);
		pgp_str(&p, after_id);
		pgp_str(&p, before_id);
	}
	int rc;
	PGresult *res = pg_read(st, which, &p, &rc);
	pgp_free(&p);
	for (int row = 0; rc == STORE_OK && row < PQntuples(res); row++) {
		int status = pg_col_int(res, row, 0);
		if (status >= 0 && status < 5)
			counts[status] += pg_col_i64(res, row, 1);
	}
	PQclear(res);
	return rc;
}

static int pg_task_get(struct store *st, const char *id, struct task *out)
{
	struct pgp p = {0};
	pgp_str(&p, id);
	return read_one(st, PR_TASK_GET, &p, pg_row_task, out);
}

static int pg_token_get(struct store *st, const char *hash, struct app_token *out)
{
	struct pgp p = {0};
	pgp_str(&p, hash);
	return read_one(st, PR_TOKEN_GET, &p, pg_row_token, out);
}

static void row_cursor(const PGresult *res, int row, int col, void *out)
{
	snprintf(out, ID_MAX, "%s", PQgetvalue(res, row, col));
}

static int pg_poll_cursor_get(struct store *st, const char *sink_id, const char *consumer_id, char cursor[ID_MAX])
{
	struct pgp p = {0};
	pgp_str(&p, sink_id);
	pgp_str(&p, consumer_id);
	return read_one(st, PR_POLL_GET, &p, row_cursor, cursor);
}

static int pg_task_list(struct store *st, const struct page *pg, int status, const char *kind, struct task **out,
			size_t *n)
{
	pg = page_or_all(pg);
	struct pgp p = {0};
	pgp_page(&p, pg);
	pgp_int_opt(&p, status);
	pgp_str(&p, kind);
	return read_all(st, pg->ascending ? PR_TASK_LIST : PR_TASK_LIST_DESC, &p, &pg_task_rows, (void **)out, n);
}

static int pg_msg_deliveries(struct store *st, const char *app_id, const char *msg_id, struct delivery **out,
			     size_t *n)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, msg_id);
	int rc;
	PGresult *res = pg_read(st, PR_MSG_DLVS, &p, &rc);
	pgp_free(&p);
	int rows = res != NULL ? PQntuples(res) : 0;
	*out = rows > 0 ? xcalloc((size_t)rows, sizeof **out) : NULL;
	*n = (size_t)rows;
	for (int i = 0; i < rows; i++)
		pg_row_delivery(res, i, 0, &(*out)[i]);
	PQclear(res);
	return rc;
}

static int pg_endpoint_msgs(struct store *st, const char *app_id, const char *endpoint_id, const struct page *pg,
			    struct endpoint_msg **out, size_t *n)
{
	pg = page_or_all(pg);
	const struct list_filter *f = pg->filter;
	struct pgp p;
	list_params(&p, app_id, pg);
	pgp_str(&p, f != NULL ? f->event_types_json : NULL);
	pgp_str(&p, f != NULL ? f->channel : NULL);
	pgp_str(&p, f != NULL ? f->tag : NULL);
	pgp_int_opt(&p, f != NULL ? f->status : -1);
	pgp_str(&p, endpoint_id);
	int rc;
	PGresult *res = pg_read(st, pg->ascending ? PR_EP_MSGS : PR_EP_MSGS_DESC, &p, &rc);
	pgp_free(&p);
	int rows = res != NULL ? PQntuples(res) : 0;
	*out = rows > 0 ? xcalloc((size_t)rows, sizeof **out) : NULL;
	*n = (size_t)rows;
	for (int i = 0; i < rows; i++) {
		pg_row_delivery(res, i, 0, &(*out)[i].d);
		pg_row_message(res, i, 8, &(*out)[i].m);
	}
	PQclear(res);
	return rc;
}

static int pg_attempt_figures(struct store *st, const char *app_id, const char *endpoint_id, int64_t since_ms,
			      void (*cb)(void *arg, const struct attempt_fig *f), void *arg)
{
	char floor[ID_MAX];
	id_floor("atmpt_", since_ms, floor);
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, endpoint_id);
	pgp_str(&p, floor);
	int rc;
	PGresult *res = pg_read(st, PR_ATT_FIGURES, &p, &rc);
	pgp_free(&p);
	for (int i = 0; rc == STORE_OK && i < PQntuples(res); i++) {
		struct attempt_fig f = {pg_col_i64(res, i, 0), pg_col_i64(res, i, 1), pg_col_int(res, i, 2),
					pg_col_int(res, i, 3)};
		cb(arg, &f);
	}
	PQclear(res);
	return rc;
}

static int pg_delivery_oldest_pending(struct store *st, const char *endpoint_id, int64_t *dkey)
{
	struct pgp p = {0};
	pgp_str(&p, endpoint_id);
	int rc;
	PGresult *res = pg_read(st, PR_OLDEST_PENDING, &p, &rc);
	pgp_free(&p);
	if (rc == STORE_OK && (PQntuples(res) == 0 || pg_isnull(res, 0, 0)))
		rc = STORE_NOTFOUND;
	else if (rc == STORE_OK)
		*dkey = pg_col_i64(res, 0, 0);
	PQclear(res);
	return rc;
}

/* ---- inbound ---- */

static int pg_inreq_list(struct store *st, const char *source_id, const struct page *pg, struct inreq **out,
			 size_t *n)
{
	pg = page_or_all(pg);
	struct pgp p = {0};
	pgp_str(&p, source_id);
	pgp_page(&p, pg);
	return read_all(st, pg->ascending ? PR_INR_LIST : PR_INR_LIST_DESC, &p, &pg_inreq_rows, (void **)out, n);
}

static int pg_inreq_get(struct store *st, const char *source_id, const char *id, struct inreq *out)
{
	struct pgp p = {0};
	pgp_str(&p, source_id);
	pgp_str(&p, id);
	return read_one(st, PR_INR_GET, &p, pg_row_inreq, out);
}

const struct store_query_ops pg_query_ops = {
	.delivery_load = pg_delivery_load,
	.deliveries_load = pg_deliveries_load,
	.msg_get = pg_msg_get,
	.msg_list = pg_msg_list,
	.attempt_list = pg_attempt_list,
	.attempt_get = pg_attempt_get,
	.endpoint_msgs = pg_endpoint_msgs,
	.attempt_figures = pg_attempt_figures,
	.delivery_oldest_pending = pg_delivery_oldest_pending,
	.msg_deliveries = pg_msg_deliveries,
	.task_get = pg_task_get,
	.token_get = pg_token_get,
	.poll_read = pg_poll_read,
	.poll_cursor_get = pg_poll_cursor_get,
	.task_list = pg_task_list,
	.delivery_counts = pg_delivery_counts,
	.delivery_counts_window = pg_delivery_counts_window,
	.inreq_list = pg_inreq_list,
	.inreq_get = pg_inreq_get,
};
