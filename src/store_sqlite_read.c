/* store_sqlite_read.c: the SQLite backend's query side. Each call takes a connection of the read pool, reads one
 * committed snapshot (WAL lets it run beside the writer) and gives the connection back. */
#include "store_sqlite_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DLV_LOAD                                                                                             \
	"SELECT d.id, d.msg_id, d.endpoint_id, d.app_id, d.status, d.attempts, d.trigger_type, d.next_ms, "  \
	MSG_COLS("m.") " FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.msg_id"
#define PAGED(from, filter, order) from " WHERE app_id = ?1 AND id > ?2 AND id < ?3" filter TIME_FILTER \
	" ORDER BY id " order " LIMIT ?4"
/* Filters are parameters that are NULL when unused, so each list keeps one prepared statement. */
#define TIME_FILTER " AND (?7 IS NULL OR created_ms < ?7) AND (?8 IS NULL OR created_ms > ?8)"
#define MSG_FILTER                                                                                           \
	" AND (?9 IS NULL OR event_type IN (SELECT value FROM json_each(?9)))"                               \
	" AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(channels) WHERE value = ?10))"                 \
	" AND (?11 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?11))"
#define ATT_FILTER                                                                                           \
	" AND (?12 IS NULL OR status = ?12)"                                                                 \
	" AND (?13 IS NULL OR (status_code / 100) * 100 = ?13)"                                              \
	" AND (?9 IS NULL AND ?10 IS NULL AND ?11 IS NULL OR EXISTS (SELECT 1 FROM messages m"               \
	" WHERE m.app_id = attempts.app_id"                                                                   \
	" AND m.id = attempts.msg_id AND (?9 IS NULL OR m.event_type IN (SELECT value FROM json_each(?9)))"   \
	" AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?10))"                \
	" AND (?11 IS NULL OR EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?11))))"
#define EP_MSGS(order)                                                                                       \
	"SELECT d.id, d.msg_id, d.endpoint_id, d.app_id, d.status, d.attempts, d.trigger_type, d.next_ms, "  \
	MSG_COLS("m.") " FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.msg_id"        \
	" WHERE d.app_id = ?1 AND d.endpoint_id = ?5 AND d.trigger_type = 0 AND d.msg_id > ?2 AND d.msg_id < ?3" \
	" AND (?7 IS NULL OR m.created_ms < ?7) AND (?8 IS NULL OR m.created_ms > ?8)"                         \
	" AND (?9 IS NULL OR m.event_type IN (SELECT value FROM json_each(?9)))"                               \
	" AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ?10))"                 \
	" AND (?11 IS NULL OR EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?11))"                     \
	" AND (?12 IS NULL OR d.status = ?12) ORDER BY d.msg_id " order " LIMIT ?4"
#define POLL_FILTER                                                                                          \
	" AND (?7 IS NULL OR event_type IN (SELECT value FROM json_each(?7)))"                               \
	" AND (?8 IS NULL OR EXISTS (SELECT 1 FROM json_each(channels) WHERE value = ?8))"
#define MSG_LIST(order) PAGED("SELECT " MSG_COLS("") " FROM messages", MSG_FILTER, order)
#define ATT_LIST(filter, order) PAGED("SELECT " ATT_COLS " FROM attempts", filter ATT_FILTER, order)
#define ATT_BY_EP " AND endpoint_id = ?5"
#define ATT_BY_MSG " AND msg_id = ?6 AND (?5 IS NULL OR endpoint_id = ?5)"
#define COUNTS "SELECT status, count(*) FROM deliveries"
/* ?1 is unused: the page parameters keep their numbers */
#define TASK_LIST(order) "SELECT " TASK_COLS " FROM tasks WHERE id > ?2 AND id < ?3 AND (?5 IS NULL OR status = ?5)" \
	" AND (?6 IS NULL OR kind = ?6) ORDER BY id " order " LIMIT ?4"

const struct stmt_def sq_rdefs[RS_COUNT] = {
	[RS_DLV_LOAD] = {"delivery_load", DLV_LOAD " WHERE d.id = ?1"},
	/* the keys are a JSON array: one statement for any number of them, each a rowid lookup */
	[RS_DLVS_LOAD] = {"deliveries_load", DLV_LOAD " WHERE d.id IN (SELECT value FROM json_each(?1))"},
	/* the id wins over an eventId that happens to equal another message's id */
	[RS_MSG_GET] = {"msg_get",
			"SELECT " MSG_COLS("") " FROM messages WHERE id = ?2 AND app_id = ?1 UNION ALL"
			" SELECT " MSG_COLS("") " FROM messages WHERE app_id = ?1 AND event_id = ?2 LIMIT 1"},
	[RS_ATT_GET] = {"attempt_get",
			"SELECT " ATT_COLS " FROM attempts WHERE app_id = ?2 AND msg_id = ?3 AND id = ?1"},
	[RS_MSG_LIST] = {"msg_list", MSG_LIST("ASC")},
	[RS_MSG_LIST_DESC] = {"msg_list", MSG_LIST("DESC")},
	[RS_ATT_LIST_APP] = {"attempt_list", ATT_LIST("", "ASC")},
	[RS_ATT_LIST_APP_DESC] = {"attempt_list", ATT_LIST("", "DESC")},
	[RS_ATT_LIST_EP] = {"attempt_list", ATT_LIST(ATT_BY_EP, "ASC")},
	[RS_ATT_LIST_EP_DESC] = {"attempt_list", ATT_LIST(ATT_BY_EP, "DESC")},
	[RS_ATT_LIST_MSG] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "ASC")},
	[RS_ATT_LIST_MSG_DESC] = {"attempt_list", ATT_LIST(ATT_BY_MSG, "DESC")},
	[RS_COUNTS_EP] = {"delivery_counts", COUNTS " WHERE app_id = coalesce(?1, (SELECT app_id FROM endpoints"
				      " WHERE id = ?2)) AND endpoint_id = ?2 AND (?3 IS NULL OR msg_id > ?3)"
				      " AND (?4 IS NULL OR msg_id < ?4) GROUP BY status"},
	[RS_COUNTS_APP] = {"delivery_counts", COUNTS " WHERE app_id = ?1 GROUP BY status"},
	/* store-wide, only what the gauges use: each count reads a partial index */
	[RS_COUNTS_ALL] = {"delivery_counts", COUNTS " WHERE status = 1 UNION ALL " COUNTS " WHERE status = 2"},
	[RS_INR_LIST] = {"inreq_list", INR_LIST("ASC")},
	[RS_INR_LIST_DESC] = {"inreq_list", INR_LIST("DESC")},
	[RS_INR_GET] = {"inreq_get", INR_SELECT("coalesce(r.body, m.payload)") " WHERE r.source_id = ?1 AND r.id = ?2"},
	[RS_TASK_GET] = {"task_get", "SELECT " TASK_COLS " FROM tasks WHERE id = ?1"},
	[RS_TOKEN_GET] = {"token_get", "SELECT " TOKEN_COLS " FROM app_tokens WHERE hash = ?1"},
	[RS_POLL_GET] = {"poll_cursor_get", "SELECT cursor FROM poll_consumers WHERE sink_id = ?1 AND consumer_id = ?2"},
	/* immediate ones along the (app_id, id) key, deferred ones along the messages_deferred partial index (whose
	 * predicate the WHERE repeats); ?7 event types, ?8 channel as MSG_FILTER's ?9 and ?10 */
	[RS_POLL_READ] = {"poll_read",
			  "SELECT * FROM (SELECT " MSG_COLS("") " FROM messages WHERE app_id = ?1 AND id > ?2 AND id < ?3"
			  " AND deliver_at_ms <= created_ms" POLL_FILTER " ORDER BY id LIMIT ?4)"
			  " UNION ALL SELECT * FROM (SELECT " MSG_COLS("") " FROM messages WHERE app_id = ?1"
			  " AND deliver_at_ms > created_ms AND (deliver_at_ms > ?5 OR (deliver_at_ms = ?5 AND id > ?6))"
			  " AND deliver_at_ms < ?9" POLL_FILTER " ORDER BY deliver_at_ms, id LIMIT ?4)"},
	[RS_TASK_LIST] = {"task_list", TASK_LIST("ASC")},
	[RS_TASK_LIST_DESC] = {"task_list", TASK_LIST("DESC")},
	/* the (app_id, endpoint_id, status) index ends in the rowid, so min(id) is its first entry */
	/* ids sort by time: the window is a range of the (app_id, endpoint_id, id) index */
	/* the endpoint's deliveries (the app_id, endpoint_id index), sorted by message id */
	[RS_EP_MSGS] = {"endpoint_msgs", EP_MSGS("ASC")},
	[RS_EP_MSGS_DESC] = {"endpoint_msgs", EP_MSGS("DESC")},
	[RS_ATT_FIGURES] = {"attempt_figures", "SELECT created_ms, duration_ms, status_code, status FROM attempts"
					       " WHERE app_id = ?1 AND endpoint_id = ?2 AND id >= ?3"},
	[RS_OLDEST_PENDING] = {"delivery_oldest_pending",
			       "SELECT min(id) FROM deliveries WHERE app_id = (SELECT app_id FROM endpoints WHERE id = ?1)"
			       " AND endpoint_id = ?1 AND status = 1"},
	[RS_MSG_DLVS] = {"msg_deliveries",
			 "SELECT id, msg_id, endpoint_id, app_id, status, attempts, trigger_type, next_ms"
			 " FROM deliveries WHERE msg_id = ?2 AND app_id = ?1 ORDER BY endpoint_id"},
};


/* ---- reads (any thread) ---- */

static int sq_delivery_load(struct store *st, int64_t dkey, struct delivery *d, struct message *m)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_DLV_LOAD);
	int rc = STORE_ERR;
	if (q != NULL && sqlite3_bind_int64(q, 1, dkey) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK) {
		sq_row_delivery(q, 0, d);
		if (m != NULL)
			sq_row_message(q, 8, m);
	}
	sq_rq_end(&r);
	return rc;
}

static void deliveries_clear(size_t n, struct delivery *d, struct message *m, bool dispose)
{
	for (size_t i = 0; i < n; i++) {
		memset(&d[i], 0, sizeof d[i]);
		d[i].status = -1;
		if (m != NULL && dispose)
			message_dispose(&m[i]);
		if (m != NULL)
			memset(&m[i], 0, sizeof m[i]);
	}
}

static int sq_deliveries_load(struct store *st, const int64_t *dkeys, size_t n, struct delivery *d,
			      struct message *m)
{
	deliveries_clear(n, d, m, false);
	if (n == 0)
		return STORE_OK;
	struct store_key_slot *ks = store_key_slots(dkeys, n);
	char *keys = xmalloc(n * 22 + 3), *p = keys;
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%s%lld", i ? "," : "", (long long)dkeys[i]);
	}
	*p++ = ']';
	*p = '\0';
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_DLVS_LOAD);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	if (q != NULL && sqlite3_bind_text(q, 1, keys, (int)(p - keys), SQLITE_STATIC) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			int64_t key = sq_col_i64(q, 0);
			size_t cnt, lo = store_key_slot_find(ks, n, key, &cnt);
			for (size_t k = lo; k < lo + cnt; k++) {
				sq_row_delivery(q, 0, &d[ks[k].i]);
				if (m != NULL)
					sq_row_message(q, 8, &m[ks[k].i]);
			}
		}
		rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(r.c->db, r.what);
	}
	sq_rq_end(&r);
	if (rc != STORE_OK)
		deliveries_clear(n, d, m, true);
	free(keys);
	free(ks);
	return rc;
}

static int sq_msg_get(struct store *st, const char *app_id, const char *id_or_event_id, struct message *out)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_MSG_GET);
	int rc = STORE_ERR;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, id_or_event_id)) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK)
		sq_row_message(q, 0, out);
	sq_rq_end(&r);
	return rc;
}

static int sq_attempt_get(struct store *st, const char *app_id, const char *msg_id, const char *attempt_id,
			  struct attempt *out)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_ATT_GET);
	int rc = STORE_ERR;
	if (q != NULL && (sq_bind_str(q, 1, attempt_id) | sq_bind_str(q, 2, app_id) | sq_bind_str(q, 3, msg_id)) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK)
		sq_row_attempt(q, 0, out);
	sq_rq_end(&r);
	return rc;
}

/* A NULL page lists everything, newest first. */
static const struct page *page_or_all(const struct page *pg)
{
	static const struct page all = {.limit = -1, .ascending = false};
	return pg != NULL ? pg : &all;
}

static int sq_msg_list(struct store *st, const char *app_id, const struct page *pg, struct message **out,
		       size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, pg->ascending ? RS_MSG_LIST : RS_MSG_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_page(q, pg)) == SQLITE_OK)
		*out = sq_collect(q, r.what, &sq_message_rows, n, &rc);
	sq_rq_end(&r);
	return rc;
}

static int sq_attempt_list(struct store *st, const char *app_id, const char *endpoint_id, const char *msg_id,
			   const struct page *pg, struct attempt **out, size_t *n)
{
	pg = page_or_all(pg);
	enum rstmt which = msg_id != NULL ? RS_ATT_LIST_MSG : endpoint_id != NULL ? RS_ATT_LIST_EP : RS_ATT_LIST_APP;
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, which + !pg->ascending);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_page(q, pg) | sq_bind_opt(q, 5, endpoint_id) |
			  sq_bind_opt(q, 6, msg_id)) == SQLITE_OK)
		*out = sq_collect(q, r.what, &sq_attempt_rows, n, &rc);
	sq_rq_end(&r);
	return rc;
}

static int counts_between(struct store *st, const char *app_id, const char *endpoint_id, const char *after_id,
			  const char *before_id, int64_t counts[5]);

static int sq_delivery_counts(struct store *st, const char *app_id, const char *endpoint_id, int64_t counts[5])
{
	return counts_between(st, app_id, endpoint_id, NULL, NULL, counts);
}

static int sq_delivery_counts_window(struct store *st, const char *app_id, const char *endpoint_id,
				     const char *after_id, const char *before_id, int64_t counts[5])
{
	return counts_between(st, app_id, endpoint_id, after_id, before_id, counts);
}

static int counts_between(struct store *st, const char *app_id, const char *endpoint_id, const char *after_id,
			  const char *before_id, int64_t counts[5])
{
	memset(counts, 0, 5 * sizeof counts[0]);
	enum rstmt which = endpoint_id != NULL ? RS_COUNTS_EP : app_id != NULL ? RS_COUNTS_APP : RS_COUNTS_ALL;
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, which);
	int rc = STORE_ERR;
	int brc = q == NULL ? SQLITE_ERROR
			    : sq_bind_opt(q, 1, which != RS_COUNTS_ALL ? app_id : NULL) | sq_bind_opt(q, 2, endpoint_id);
	if (q != NULL && which == RS_COUNTS_EP)
		brc |= sq_bind_opt(q, 3, after_id) | sq_bind_opt(q, 4, before_id);
	if (q != NULL && brc == SQLITE_OK) {
		int step;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			int status = sq_col_int(q, 0);
			if (status >= 0 && status < 5)
				counts[status] += sq_col_i64(q, 1);
		}
		rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(r.c->db, r.what);
	}
	sq_rq_end(&r);
	return rc;
}

static int sq_task_get(struct store *st, const char *id, struct task *out)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_TASK_GET);
	int rc = STORE_ERR;
	if (q != NULL && sq_bind_str(q, 1, id) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK)
		sq_row_task(q, 0, out);
	sq_rq_end(&r);
	return rc;
}

static int sq_token_get(struct store *st, const char *hash, struct app_token *out)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_TOKEN_GET);
	int rc = STORE_ERR;
	if (q != NULL && sq_bind_str(q, 1, hash) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK)
		sq_row_token(q, 0, out);
	sq_rq_end(&r);
	return rc;
}

static int sq_poll_read(struct store *st, const char *app_id, const struct poll_window *w, struct message **out,
			size_t *n)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_POLL_READ);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, w->after_id) | sq_bind_str(q, 3, w->before_id) |
			  sqlite3_bind_int(q, 4, w->limit) | sqlite3_bind_int64(q, 5, w->after_ms) |
			  sq_bind_str(q, 6, w->after_def_id) | sq_bind_opt(q, 7, w->event_types_json) |
			  sq_bind_opt(q, 8, w->channel) | sqlite3_bind_int64(q, 9, w->before_ms)) == SQLITE_OK)
		*out = sq_collect(q, r.what, &sq_message_rows, n, &rc);
	sq_rq_end(&r);
	return rc;
}

static int sq_poll_cursor_get(struct store *st, const char *sink_id, const char *consumer_id, char cursor[ID_MAX])
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_POLL_GET);
	int rc = STORE_ERR;
	if (q != NULL && (sq_bind_str(q, 1, sink_id) | sq_bind_str(q, 2, consumer_id)) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK) {
		const unsigned char *c = sqlite3_column_text(q, 0);
		snprintf(cursor, ID_MAX, "%s", c != NULL ? (const char *)c : "");
	}
	sq_rq_end(&r);
	return rc;
}

static int sq_task_list(struct store *st, const struct page *pg, int status, const char *kind, struct task **out,
			size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, pg->ascending ? RS_TASK_LIST : RS_TASK_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_page(q, pg) | (status >= 0 ? sqlite3_bind_int(q, 5, status) : SQLITE_OK) |
			  sq_bind_opt(q, 6, kind)) == SQLITE_OK)
		*out = sq_collect(q, r.what, &sq_task_rows, n, &rc);
	sq_rq_end(&r);
	return rc;
}

static int sq_msg_deliveries(struct store *st, const char *app_id, const char *msg_id, struct delivery **out,
			     size_t *n)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_MSG_DLVS);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, msg_id)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof **out);
			}
			sq_row_delivery(q, 0, &(*out)[(*n)++]);
		}
		rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(r.c->db, r.what);
	}
	sq_rq_end(&r);
	return rc;
}

static int sq_endpoint_msgs(struct store *st, const char *app_id, const char *endpoint_id, const struct page *pg,
			    struct endpoint_msg **out, size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, pg->ascending ? RS_EP_MSGS : RS_EP_MSGS_DESC);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	const struct list_filter *f = pg->filter;
	if (q != NULL && (sq_bind_str(q, 1, app_id) | sq_bind_page(q, pg) | sq_bind_str(q, 5, endpoint_id) |
			  (f != NULL && f->status >= 0 ? sqlite3_bind_int(q, 12, f->status) : SQLITE_OK)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof **out);
			}
			struct endpoint_msg *em = &(*out)[(*n)++];
			memset(em, 0, sizeof *em);
			sq_row_delivery(q, 0, &em->d);
			sq_row_message(q, 8, &em->m);
		}
		rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(r.c->db, r.what);
	}
	sq_rq_end(&r);
	return rc;
}

static int sq_attempt_figures(struct store *st, const char *app_id, const char *endpoint_id, int64_t since_ms,
			      void (*cb)(void *arg, const struct attempt_fig *f), void *arg)
{
	char floor[ID_MAX];
	id_floor("atmpt_", since_ms, floor);
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_ATT_FIGURES);
	int rc = STORE_ERR, step = SQLITE_ERROR;
	if (q != NULL &&
	    (sq_bind_str(q, 1, app_id) | sq_bind_str(q, 2, endpoint_id) | sq_bind_str(q, 3, floor)) == SQLITE_OK) {
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			struct attempt_fig f = {sq_col_i64(q, 0), sq_col_i64(q, 1), sq_col_int(q, 2), sq_col_int(q, 3)};
			cb(arg, &f);
		}
		rc = step == SQLITE_DONE ? STORE_OK : sq_log_err(r.c->db, r.what);
	}
	sq_rq_end(&r);
	return rc;
}

static int sq_delivery_oldest_pending(struct store *st, const char *endpoint_id, int64_t *dkey)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_OLDEST_PENDING);
	int rc = STORE_ERR;
	if (q != NULL && sq_bind_str(q, 1, endpoint_id) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK && sqlite3_column_type(q, 0) == SQLITE_NULL)
		rc = STORE_NOTFOUND;
	else if (rc == STORE_OK)
		*dkey = sqlite3_column_int64(q, 0);
	sq_rq_end(&r);
	return rc;
}

/* ---- inbound ---- */

static void row_inreq(sqlite3_stmt *q, int c, void *out)
{
	struct inreq *r = out;
	sq_col_id(q, c, r->id);
	sq_col_id(q, c + 1, r->source_id);
	r->dedup_key = sq_col_str(q, c + 2);
	r->method = sq_col_str(q, c + 3);
	r->headers = sq_col_str(q, c + 4);
	size_t len;
	r->body = sq_col_bytes(q, c + 5, &len); /* NULL in lists */
	r->body_len = (size_t)sq_col_i64(q, c + 6);
	r->received_ms = sq_col_i64(q, c + 7);
	r->verify_rc = sq_col_int(q, c + 8);
	r->duplicate = sq_col_int(q, c + 9) != 0;
	if (sqlite3_column_type(q, c + 10) != SQLITE_NULL)
		sq_col_id(q, c + 10, r->msg_id);
	for (int i = 0; i < 3; i++)
		r->fwd[i] = sq_col_i64(q, c + 11 + i);
}

static void dispose_inreq(void *p) { inreq_dispose(p); }
static const struct row_kind inreq_rows = {sizeof(struct inreq), row_inreq, dispose_inreq};

static int sq_inreq_list(struct store *st, const char *source_id, const struct page *pg, struct inreq **out,
			 size_t *n)
{
	pg = page_or_all(pg);
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, pg->ascending ? RS_INR_LIST : RS_INR_LIST_DESC);
	int rc = STORE_ERR;
	*out = NULL;
	*n = 0;
	if (q != NULL && (sq_bind_str(q, 1, source_id) | sq_bind_page(q, pg)) == SQLITE_OK)
		*out = sq_collect(q, r.what, &inreq_rows, n, &rc);
	sq_rq_end(&r);
	return rc;
}

static int sq_inreq_get(struct store *st, const char *source_id, const char *id, struct inreq *out)
{
	struct rq r;
	sqlite3_stmt *q = sq_rq_begin(&r, st, RS_INR_GET);
	int rc = STORE_ERR;
	if (q != NULL && (sq_bind_str(q, 1, source_id) | sq_bind_str(q, 2, id)) == SQLITE_OK)
		rc = sq_step_row(q, r.what);
	if (rc == STORE_OK)
		row_inreq(q, 0, out);
	sq_rq_end(&r);
	return rc;
}

const struct store_query_ops sq_query_ops = {
	.delivery_load = sq_delivery_load,
	.deliveries_load = sq_deliveries_load,
	.msg_get = sq_msg_get,
	.msg_list = sq_msg_list,
	.attempt_list = sq_attempt_list,
	.attempt_get = sq_attempt_get,
	.endpoint_msgs = sq_endpoint_msgs,
	.attempt_figures = sq_attempt_figures,
	.delivery_oldest_pending = sq_delivery_oldest_pending,
	.msg_deliveries = sq_msg_deliveries,
	.task_get = sq_task_get,
	.token_get = sq_token_get,
	.poll_read = sq_poll_read,
	.poll_cursor_get = sq_poll_cursor_get,
	.task_list = sq_task_list,
	.delivery_counts = sq_delivery_counts,
	.delivery_counts_window = sq_delivery_counts_window,
	.inreq_list = sq_inreq_list,
	.inreq_get = sq_inreq_get,
};

