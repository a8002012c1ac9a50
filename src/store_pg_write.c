/* store_pg_write.c: the PostgreSQL backend's write path: batches and jobs, writes, the start-up group.
 * Everything here runs on the write connection: the committer thread, or the main thread before it starts.
 *
 * Round trips: BEGIN goes with the batch's first write and COMMIT on its own, or, when the batch ends with a run
 * of message-insert jobs, in one pipeline with them (msg_prefetch, store_pg_batch.c: an ingest batch is one
 * round trip, its inserts one statement); any other job its SAVEPOINT (sent together with the RELEASE of the job
 * before it) in one pipeline with its first write, and each write one statement, however many rows it touches
 * (messages with all their deliveries, an app with everything it owns, all three retention purges, a batch's
 * outcomes: the dispatcher's outcomes join one job while it waits, queue.c, which runs ahead of the batch's
 * inserts, commit.c). The statements themselves are in store_pg_wsql.c. */
#include "store_pg_int.h"

#include "node.h"
#include "log.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- transactions (committer thread) ---- */

static void batch_reset(struct pg_store *s)
{
	s->release_pending = s->savepoint_pending = s->begin_pending = s->folded = s->job_last = false;
	s->keys_pending = false;
	pgp_free(&s->keys_p);
	s->doomed = STORE_OK;
	pg_notes_clear(s);
	pg_pre_clear(s);
}

static void pg_batch_rollback(struct store *st)
{
	struct pg_store *s = to_pg(st);
	batch_reset(s);
	if (PQstatus(s->w) == CONNECTION_OK && PQtransactionStatus(s->w) != PQTRANS_IDLE)
		pg_exec_simple(s->w, "ROLLBACK", "rollback");
}

/* BEGIN costs no round trip of its own: it goes in one pipeline with the batch's first write (pg_pipeline). A
 * connection the server closed while it was idle (a restart) is found here, without a round trip, by reading
 * what is waiting on it, and opened again before any job of the batch runs. */
static int pg_batch_begin(struct store *st)
{
	struct pg_store *s = to_pg(st);
	if (PQstatus(s->w) == CONNECTION_OK && PQconsumeInput(s->w) == 0) {
		log_warnx("postgres: the write connection was closed; opening it again");
		s->reconnect_at_ms = 0; /* nothing of the batch is lost yet: at once */
		PQfinish(s->w);
		s->w = NULL;
	}
	if (PQstatus(s->w) != CONNECTION_OK && pg_writer_reconnect(s) != STORE_OK)
		return STORE_UNAVAILABLE;
	if (PQtransactionStatus(s->w) != PQTRANS_IDLE) {
		log_warnx("postgres: a transaction was left open; rolling it back");
		pg_batch_rollback(st);
	}
	batch_reset(s);
	s->begin_pending = true;
	return STORE_OK;
}

/* COMMIT of a transaction that had an error (and was not rolled back to a savepoint) answers ROLLBACK without an
 * error: only the tag "COMMIT" means committed. A batch that wrote nothing has nothing to commit (its notes go
 * on their own); one whose COMMIT went with its message inserts (msg_prefetch) is done. */
static int pg_batch_commit(struct store *st)
{
	struct pg_store *s = to_pg(st);
	s->release_pending = s->savepoint_pending = false;
	pg_pre_clear(s);
	if (s->doomed != STORE_OK)
		return s->doomed;
	if (s->folded && s->notes_len == 0) {
		batch_reset(s);
		return STORE_OK;
	}
	if (s->folded) { /* notes recorded after the folded COMMIT (not expected): sent on their own */
		s->folded = false;
		s->begin_pending = true;
	}
	if (s->begin_pending && s->notes_len == 0) {
		s->begin_pending = false;
		return STORE_OK;
	}
	int rc;
	if (s->notes_len > 0 || pg_notes_due(st) == 0) {
		rc = pg_commit_notes(s); /* with BEGIN if the batch wrote nothing: one round trip */
	} else {
		PGresult *res = PQexec(s->w, "COMMIT");
		rc = pg_result_rc(res, "commit");
		if (rc == STORE_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			log_warnx("postgres: commit: the transaction had failed and was rolled back");
			rc = STORE_ERR;
		}
		PQclear(res);
	}
	if (rc != STORE_OK && PQstatus(s->w) != CONNECTION_OK)
		return STORE_UNAVAILABLE; /* lost during the batch or its COMMIT: not committed, or not known to be */
	if (rc != STORE_OK)
		pg_batch_rollback(st); /* never leave the connection inside a half-failed transaction */
	return rc == STORE_CONFLICT ? STORE_ERR : rc;
}

/* A job's savepoint costs no round trip of its own: its SAVEPOINT (and the previous job's RELEASE) go in one
 * pipeline with the job's first write (pg_pipeline), and a job that writes nothing sends neither. The RELEASE of
 * a job that succeeded waits for the next job's SAVEPOINT, or for the COMMIT, which ends every savepoint. */
static int pg_job_begin(struct store *st)
{
	struct pg_store *s = to_pg(st);
	if (s->doomed != STORE_OK)
		return s->doomed;
	if (PQstatus(s->w) != CONNECTION_OK)
		return STORE_UNAVAILABLE;
	s->savepoint_pending = true;
	s->pre_claimed = NULL;
	pg_notes_job_begin(s);
	return STORE_OK;
}

static void pg_job_end(struct store *st, bool ok)
{
	struct pg_store *s = to_pg(st);
	const char *claimed = s->pre_claimed; /* its claim went with the batch's inserts, outside its savepoint */
	s->pre_claimed = NULL;
	if (s->savepoint_pending) { /* it wrote nothing: no savepoint of its own to release or roll back to */
		s->savepoint_pending = false;
	} else if (ok) {
		s->release_pending = true;
	} else if (!s->folded) { /* after a folded COMMIT a job wrote nothing (its read ran on its own) */
		pg_notes_job_drop(s);
		pg_exec_simple(s->w, "ROLLBACK TO j; RELEASE j", "rollback to");
	}
	if (!ok && claimed != NULL && s->doomed == STORE_OK) { /* undone with the job, as if in its savepoint */
		struct pgp p = {0};
		pgp_str(&p, claimed);
		if (pg_wcmd_free(s, PW_IDEM_RELEASE, &p, NULL) != STORE_OK) {
			log_warnx("postgres: a failed job's idempotency claim could not be undone; the batch fails");
			s->doomed = STORE_ERR; /* never a key kept for a message not written */
		}
	}
}

static void pg_job_last(struct store *st) { to_pg(st)->job_last = true; }

/* ---- writes (committer thread) ---- */

static int pg_app_put(struct store *st, const struct app *a)
{
	struct pgp p = {0};
	pgp_str(&p, a->id);
	pgp_str(&p, a->uid);
	pgp_str(&p, a->name);
	pgp_json(&p, a->metadata);
	pgp_i64(&p, a->throttle_rate);
	pgp_i64(&p, a->created_ms);
	pgp_i64(&p, a->updated_ms);
	return pg_wguarded(to_pg(st), PW_APP_PUT, &p);
}

static int pg_app_delete(struct store *st, const char *app_id)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	return pg_wcmd_found(to_pg(st), PW_APP_DEL, &p);
}

static int pg_endpoint_put(struct store *st, const struct endpoint *e)
{
	struct pgp p = {0};
	struct sealed_endpoint se;
	seal_endpoint(e, &se);
	pgp_str(&p, e->id);
	pgp_str(&p, e->app_id);
	pgp_str(&p, e->uid);
	pgp_str(&p, e->url);
	pgp_str(&p, e->description);
	pgp_bool(&p, e->disabled);
	pgp_strlist(&p, &e->event_types);
	pgp_strlist(&p, &e->channels);
	pgp_own(&p, se.secret); /* the parameters own it now */
	se.secret = NULL;
	pgp_json(&p, e->metadata);
	pgp_json(&p, se.headers);
	pgp_i64(&p, e->throttle_rate);
	pgp_i64(&p, e->created_ms);
	pgp_i64(&p, e->updated_ms);
	pgp_str(&p, e->scheme);
	pgp_json(&p, e->scheme_options);
	pgp_json(&p, se.old_secrets);
	pgp_bool(&p, e->fifo);
	pgp_retry(&p, e);
	pgp_str(&p, e->payload_filter);
	pgp_str(&p, e->transformation);
	pgp_bool(&p, e->transformation_enabled);
	pgp_str(&p, e->api_version);
	seal_endpoint_dispose(&se);
	return pg_wguarded(to_pg(st), PW_EP_PUT, &p);
}

static int pg_endpoint_cancel_pending(struct store *st, const char *endpoint_id)
{
	struct pgp p = {0};
	pgp_str(&p, endpoint_id);
	pgp_i64(&p, now_ms());
	return pg_wcmd_free(to_pg(st), PW_EP_CANCEL, &p, NULL);
}

static int pg_endpoint_delete(struct store *st, const char *endpoint_id)
{
	struct pgp p = {0};
	pgp_str(&p, endpoint_id);
	pgp_i64(&p, now_ms());
	return pg_wcmd_found(to_pg(st), PW_EP_DEL, &p);
}

static int pg_endpoint_set_disabled(struct store *st, const char *endpoint_id, bool disabled, int64_t updated_ms)
{
	struct pgp p = {0};
	pgp_str(&p, endpoint_id);
	pgp_bool(&p, disabled);
	pgp_i64(&p, updated_ms);
	return pg_wcmd_found(to_pg(st), PW_EP_DISABLE, &p);
}

static int pg_endpoint_set_failing(struct store *st, const char *endpoint_id, int64_t since_ms)
{
	struct pgp p = {0};
	pgp_str(&p, endpoint_id);
	pgp_i64(&p, since_ms);
	return pg_wcmd_free(to_pg(st), PW_EP_FAILING, &p, NULL);
}

static int pg_msg_expunge(struct store *st, const char *app_id, const char *msg_id)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, msg_id);
	return pg_wcmd_found(to_pg(st), PW_MSG_EXPUNGE, &p);
}

static int pg_attempt_expunge(struct store *st, const char *app_id, const char *msg_id, const char *attempt_id)
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, msg_id);
	pgp_str(&p, attempt_id);
	return pg_wcmd_found(to_pg(st), PW_ATT_EXPUNGE, &p);
}

/* The id of the message of app holding event_id ("" if none): a fresh snapshot. */
static int find_event_id(struct pg_store *s, const char *app_id, const char *event_id, char msg_id[ID_MAX])
{
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, event_id);
	int rc;
	PGresult *res = pg_wexec(s, PW_MSG_FIND_EVENT, &p, &rc);
	pgp_free(&p);
	msg_id[0] = '\0';
	if (res != NULL && PQntuples(res) > 0)
		pg_col_id(res, 0, 0, msg_id);
	PQclear(res);
	return rc;
}

struct keyed_row {
	int64_t key;
	int row;
};

static int keyed_row_cmp(const void *a, const void *b)
{
	const struct keyed_row *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* The delivery rows (lo..hi) come back in any order: by ascending key, each goes to the first slot of its
 * endpoint not yet filled. The keys were drawn in the endpoints' order, so the slot is almost always the next. */
static void place_dkeys(const PGresult *res, int lo, int hi, const char *const *endpoint_ids, size_t n,
			int64_t *dkeys)
{
	struct keyed_row *kr = xcalloc((size_t)(hi - lo) + 1, sizeof *kr);
	size_t nk = 0;
	for (int i = lo; i < hi; i++)
		if (pg_col_int(res, i, 0) == 0)
			kr[nk++] = (struct keyed_row){pg_col_i64(res, i, 1), i};
	qsort(kr, nk, sizeof *kr, keyed_row_cmp);
	bool *filled = xcalloc(n + 1, sizeof *filled);
	size_t next = 0;
	for (size_t j = 0; j < nk; j++) {
		const char *ep = PQgetvalue(res, kr[j].row, 2);
		size_t k = next;
		if (k >= n || filled[k] || strcmp(endpoint_ids[k], ep) != 0)
			for (k = 0; k < n && (filled[k] || strcmp(endpoint_ids[k], ep) != 0); k++)
				;
		if (k < n) {
			dkeys[k] = kr[j].key;
			filled[k] = true;
			next = k + 1;
		}
	}
	free(filled);
	free(kr);
}

/* One round trip: the message and every delivery, or nothing if the id or the eventId is taken (none if its job
 * was announced: msg_prefetch ran it with the batch's others). */
static int pg_msg_insert(struct store *st, const struct message *m, const char *const *endpoint_ids, size_t n,
			 int64_t due_ms, int64_t *dkeys, char existing_id[ID_MAX])
{
	struct pg_store *s = to_pg(st);
	int rc = STORE_OK, lo = 0, hi = 0;
	PGresult *own = NULL;
	const PGresult *res = pg_pre_take(s, m, &lo, &hi);
	if (res == NULL) {
		struct pg_ins one = {.m = m, .eps = endpoint_ids, .n = n, .due_ms = due_ms};
		res = own = pg_msgs_insert(s, &one, 1, &rc);
		hi = res != NULL ? PQntuples(res) : 0;
	}
	char found[ID_MAX] = "";
	bool written = false;
	for (int i = lo; res != NULL && i < hi; i++) {
		int kind = pg_col_int(res, i, 0);
		written |= kind == 1;
		if (kind == 2)
			pg_col_id(res, i, 2, found);
	}
	if (rc == STORE_OK && written && dkeys != NULL)
		place_dkeys(res, lo, hi, endpoint_ids, n, dkeys);
	if (rc == STORE_OK && written) /* after a folded COMMIT, only NOTE_LATER ones (held) */
		pg_note_rows(s, res, lo, hi, due_ms);
	PQclear(own);
	if (rc == STORE_OK && !written) {
		rc = STORE_CONFLICT;
		if (found[0] == '\0' && m->event_id != NULL && find_event_id(s, m->app_id, m->event_id, found) != STORE_OK)
			rc = STORE_ERR;
	}
	if (existing_id != NULL)
		memcpy(existing_id, rc == STORE_CONFLICT ? found : "", rc == STORE_CONFLICT ? ID_MAX : 1);
	return rc;
}

static int pg_delivery_add(struct store *st, const char *app_id, const char *msg_id, const char *endpoint_id,
			   int trigger, int64_t due_ms, int64_t *dkey)
{
	struct pgp p = {0};
	pgp_str(&p, msg_id);
	pgp_str(&p, app_id);
	pgp_str(&p, endpoint_id);
	pgp_i64(&p, trigger);
	pgp_i64(&p, due_ms);
	pgp_i64(&p, now_ms());
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_DLV_INSERT, &p, &rc);
	pgp_free(&p);
	int64_t k = rc == STORE_OK && PQntuples(res) > 0 ? pg_col_i64(res, 0, 0) : 0;
	if (rc == STORE_OK && dkey != NULL)
		*dkey = k;
	if (k > 0)
		pg_note_dlv(to_pg(st), endpoint_id, due_ms > now_ms() ? due_ms : 0, k);
	PQclear(res);
	return rc;
}

/* All the outcomes in one statement (PG_ROWS_MAX rows each, all in one pipeline): one round trip. When this job
 * ends the batch (job_last), the pipeline carries the batch's COMMIT too (with the notes of the jobs before
 * it): RELEASE j, [NOTIFY], COMMIT after the outcomes. */
static int pg_outcomes_record(struct store *st, const struct outcome *o, size_t n)
{
	struct pg_store *s = to_pg(st);
	int64_t now = now_ms();
	size_t stmts = (n + PG_ROWS_MAX - 1) / PG_ROWS_MAX, total = 0;
	struct pgp *p = xcalloc(stmts + 1, sizeof *p);
	struct pg_step *steps = xcalloc(stmts + 3, sizeof *steps);
	for (size_t at = 0, i = 0; at < n; at += PG_ROWS_MAX, i++) {
		enum pg_wstmt w = pg_outcomes_params(&p[i], o + at, n - at < PG_ROWS_MAX ? n - at : PG_ROWS_MAX, now);
		steps[total++] = (struct pg_step){.w = w, .p = &p[i]};
	}
	bool fold = s->job_last && s->doomed == STORE_OK && !s->folded;
	size_t commit = 0;
	if (fold) {
		steps[total++] = (struct pg_step){.sql = "RELEASE j"};
		commit = pg_commit_steps(s, steps, &total, &p[stmts]);
	}
	int rc = total > 0 ? pg_pipeline(s, steps, total) : STORE_OK;
	if (fold)
		pg_fold_fate(s, rc, steps[commit].res, NULL); /* a failed outcome: job_end rolls back to j */
	for (size_t i = 0; i < total; i++)
		PQclear(steps[i].res);
	for (size_t i = 0; i <= stmts; i++)
		pgp_free(&p[i]);
	free(steps);
	free(p);
	if (s->folded)
		pg_notes_committed(s); /* they went with the COMMIT, or are held */
	return rc == STORE_CONFLICT ? STORE_ERR : rc;
}

static int pg_idem_claim(struct store *st, const char *key, int64_t min_created_ms, int64_t now, int answer_status,
			 const char *answer, int *status, char **body)
{
	struct pg_store *s = to_pg(st);
	struct pgp p = {0};
	int pre = pg_pre_claim(s, key, status, body);
	if (pre == 1)
		return STORE_OK;
	if (pre == 2)
		return STORE_CONFLICT;
	pgp_str(&p, key);
	int rc = STORE_OK;
	PGresult *res = NULL;
	if (pre < 0) {
		pgp_i64(&p, min_created_ms);
		pgp_i64(&p, now);
		pgp_i64(&p, answer != NULL ? answer_status : 0);
		pgp_str(&p, answer);
		res = pg_wexec(s, PW_IDEM_CLAIM, &p, &rc);
	}
	if (rc == STORE_OK && (res == NULL || PQntuples(res) == 0)) { /* held by a claim committed after the snapshot */
		PQclear(res);
		pgp_free(&p);
		pgp_str(&p, key);
		res = pg_wexec(s, PW_IDEM_GET, &p, &rc);
	}
	pgp_free(&p);
	if (rc == STORE_OK && PQntuples(res) == 0)
		rc = STORE_ERR;
	if (rc == STORE_OK && pg_col_i64(res, 0, 0) == 0) { /* held: the stored answer */
		*status = pg_col_int(res, 0, 1);
		*body = pg_col_str0(res, 0, 2);
		rc = STORE_CONFLICT;
	}
	PQclear(res);
	return rc;
}

static int pg_keys_lock(struct store *st, const char *const *keys, size_t n)
{
	struct pg_store *s = to_pg(st);
	char prefix[96];
	snprintf(prefix, sizeof prefix, "hookd-key:%s:", s->schema);
	bool defer = s->begin_pending && !s->folded; /* no statement yet: after the BEGIN, with the first write */
	struct pgp local = {0}, *p = defer ? &s->keys_p : &local;
	pgp_free(p);
	pgp_text_array(p, keys, n);
	pgp_own(p, xstrdup(prefix));
	if (!defer)
		return pg_wcmd_free(s, PW_KEYS_LOCK, p, NULL);
	s->keys_pending = true;
	return STORE_OK;
}

static int pg_idem_put(struct store *st, const char *key, int status, const char *body, int64_t created_ms)
{
	struct pgp p = {0};
	pgp_str(&p, key);
	pgp_i64(&p, status);
	pgp_str(&p, body);
	pgp_i64(&p, created_ms);
	return pg_wcmd_free(to_pg(st), PW_IDEM_PUT, &p, NULL);
}

static int pg_idem_release(struct store *st, const char *key)
{
	struct pgp p = {0};
	pgp_str(&p, key);
	return pg_wcmd_free(to_pg(st), PW_IDEM_RELEASE, &p, NULL);
}

static int pg_token_put(struct store *st, const struct app_token *t)
{
	struct pgp p = {0};
	pgp_str(&p, t->hash);
	pgp_str(&p, t->app_id);
	pgp_str(&p, t->session_id);
	pgp_i64(&p, t->caps);
	pgp_strlist(&p, &t->feature_flags);
	pgp_i64(&p, t->expires_ms);
	pgp_i64(&p, t->created_ms);
	return pg_wcmd_free(to_pg(st), PW_TOKEN_PUT, &p, NULL);
}

static int pg_tokens_expire(struct store *st, const char *app_id, const struct strlist *sessions, int64_t expires_ms)
{
	struct pgp p = {0};
	struct strlist none = {0};
	pgp_str(&p, app_id);
	pgp_i64(&p, expires_ms);
	pgp_strlist(&p, sessions != NULL && sessions->n > 0 ? sessions : &none);
	return pg_wcmd_free(to_pg(st), PW_TOKENS_EXPIRE, &p, NULL);
}

static int pg_token_delete(struct store *st, const char *hash)
{
	struct pgp p = {0};
	pgp_str(&p, hash);
	return pg_wcmd_found(to_pg(st), PW_TOKEN_DEL, &p);
}

static int pg_poll_cursor_put(struct store *st, const char *sink_id, const char *consumer_id, const char *cursor,
			      int64_t updated_ms)
{
	struct pgp p = {0};
	pgp_str(&p, sink_id);
	pgp_str(&p, consumer_id);
	pgp_str(&p, cursor);
	pgp_i64(&p, updated_ms);
	return pg_wcmd_free(to_pg(st), PW_POLL_PUT, &p, NULL);
}

static int pg_tokens_purge(struct store *st, int64_t before_ms)
{
	struct pgp p = {0};
	pgp_i64(&p, before_ms);
	return pg_wcmd_free(to_pg(st), PW_TOKENS_PURGE, &p, NULL);
}

static int pg_idem_purge(struct store *st, int64_t before_ms)
{
	struct pgp p = {0};
	pgp_i64(&p, before_ms);
	return pg_wcmd_free(to_pg(st), PW_IDEM_PURGE, &p, NULL);
}

static int pg_retention_purge(struct store *st, int64_t now, int64_t retention_ms, int limit, bool *more)
{
	struct pgp p = {0};
	pgp_i64(&p, now - retention_ms);
	pgp_i64(&p, now);
	pgp_i64(&p, limit);
	return pg_wcounted(to_pg(st), PW_PURGE, &p, limit, more);
}

static int pg_task_put(struct store *st, const struct task *t)
{
	struct pgp p = {0};
	pgp_str(&p, t->id);
	pgp_str(&p, t->kind);
	pgp_i64(&p, t->status);
	pgp_str(&p, t->app_id);
	pgp_str(&p, t->endpoint_id);
	pgp_i64(&p, t->since_ms);
	pgp_i64(&p, t->until_ms);
	pgp_i64(&p, t->processed);
	pgp_i64(&p, t->created_ms);
	pgp_i64(&p, t->updated_ms);
	pgp_i64(&p, t->after_key);
	pgp_str(&p, t->after_id[0] ? t->after_id : NULL);
	pgp_str(&p, t->params[0] ? t->params : NULL);
	pgp_str(&p, node_id());
	int rc = pg_wcmd_found(to_pg(st), PW_TASK_PUT, &p);
	return rc == STORE_NOTFOUND ? STORE_CONFLICT : rc;
}

static int64_t byte_cap(size_t max_bytes) { return max_bytes > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max_bytes; }

/* The task scans' rows: messages (after a delivery key in column 0 when keyed). The statement already cut them
 * at limit rows and at max_bytes; *more: it stopped at either, so rows may remain. */
static struct message *scan_msgs(PGresult *res, bool keyed, int limit, size_t max_bytes, int64_t **dkeys, size_t *n,
				 bool *more)
{
	int rows = PQntuples(res);
	size_t bytes = 0;
	struct message *v = rows > 0 ? xcalloc((size_t)rows, sizeof *v) : NULL;
	if (dkeys != NULL)
		*dkeys = rows > 0 ? xcalloc((size_t)rows, sizeof **dkeys) : NULL;
	for (int i = 0; i < rows; i++) {
		if (keyed)
			(*dkeys)[i] = pg_col_i64(res, i, 0);
		pg_row_message(res, i, keyed ? 1 : 0, &v[i]);
		bytes += v[i].payload_len;
	}
	*n = (size_t)rows;
	*more = rows >= limit || bytes >= max_bytes;
	return v;
}

static int pg_recover_batch(struct store *st, const struct task *t, int64_t *after, int limit, size_t max_bytes,
			    int64_t now, struct message **msgs, int64_t **dkeys, size_t *n, bool *more)
{
	struct pgp p = {0};
	pgp_str(&p, t->app_id);
	pgp_str(&p, t->endpoint_id);
	pgp_i64(&p, *after);
	pgp_i64(&p, t->since_ms);
	pgp_i64(&p, t->until_ms);
	pgp_i64(&p, limit);
	pgp_i64(&p, byte_cap(max_bytes));
	pgp_i64(&p, now);
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_RECOVER, &p, &rc);
	pgp_free(&p);
	*msgs = NULL;
	*dkeys = NULL;
	*n = 0;
	*more = false;
	if (rc != STORE_OK)
		return rc;
	*msgs = scan_msgs(res, true, limit, max_bytes, dkeys, n, more);
	if (*n > 0)
		*after = (*dkeys)[*n - 1];
	for (size_t i = 0; i < *n; i++) /* due at once */
		pg_note_ep(to_pg(st), t->endpoint_id, 0, (*dkeys)[i]);
	PQclear(res);
	return STORE_OK;
}

static int pg_replay_scan(struct store *st, const struct task *t, const char *after_id, const char *before_id,
			  int limit, size_t max_bytes, struct message **out, size_t *n, bool *more)
{
	struct pgp p = {0};
	pgp_str(&p, t->app_id);
	pgp_str(&p, after_id);
	pgp_str(&p, before_id);
	pgp_i64(&p, t->since_ms);
	pgp_i64(&p, t->until_ms);
	pgp_str(&p, t->endpoint_id);
	pgp_i64(&p, limit);
	pgp_i64(&p, byte_cap(max_bytes));
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_REPLAY_SCAN, &p, &rc);
	pgp_free(&p);
	*out = NULL;
	*n = 0;
	*more = false;
	if (rc != STORE_OK)
		return rc;
	*out = scan_msgs(res, false, limit, max_bytes, NULL, n, more);
	PQclear(res);
	return STORE_OK;
}

static int pg_delivery_states(struct store *st, const char *app_id, const char *endpoint_id,
			      const char (*msg_ids)[ID_MAX], size_t n, int *status, int *code)
{
	const char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		ids[i] = msg_ids[i];
		status[i] = code[i] = -1;
	}
	struct pgp p = {0};
	pgp_str(&p, app_id);
	pgp_str(&p, endpoint_id);
	pgp_text_array(&p, ids, n);
	free(ids);
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_DLV_STATES, &p, &rc);
	pgp_free(&p);
	if (rc != STORE_OK)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t i = pg_col_i64(res, r, 0) - 1; /* ordinality counts from 1 */
		if (i >= 0 && (size_t)i < n) {
			status[i] = pg_col_int(res, r, 1);
			code[i] = pg_col_int(res, r, 2);
		}
	}
	PQclear(res);
	return STORE_OK;
}

static void event_type_params(struct pgp *p, const struct event_type *t)
{
	pgp_init(p);
	pgp_str(p, t->name);
	pgp_str(p, t->description);
	pgp_bool(p, t->archived);
	pgp_bool(p, t->deprecated);
	pgp_json(p, t->schemas);
	pgp_str(p, t->feature_flag);
	pgp_str(p, t->group_name);
	pgp_i64(p, t->created_ms);
	pgp_i64(p, t->updated_ms);
}

static int pg_event_type_put(struct store *st, const struct event_type *t)
{
	struct pgp p;
	event_type_params(&p, t);
	return pg_wcmd_free(to_pg(st), PW_EVT_PUT, &p, NULL);
}

static int pg_event_type_create(struct store *st, const struct event_type *t)
{
	struct pgp p;
	event_type_params(&p, t);
	int64_t n = 0;
	int rc = pg_wcmd_free(to_pg(st), PW_EVT_CREATE, &p, &n);
	return rc == STORE_OK && n == 0 ? STORE_CONFLICT : rc;
}

static int pg_event_type_delete(struct store *st, const char *name)
{
	struct pgp p = {0};
	pgp_str(&p, name);
	return pg_wcmd_found(to_pg(st), PW_EVT_DEL, &p);
}

/* ---- inbound ---- */

static int pg_source_put(struct store *st, const char *id, const char *uid, const char *config)
{
	struct pgp p = {0};
	pgp_str(&p, id);
	pgp_str(&p, uid);
	char *sealed = seal_source(config);
	if (sealed != NULL)
		pgp_own(&p, sealed);
	else
		pgp_str(&p, config);
	return pg_wguarded(to_pg(st), PW_SRC_PUT, &p);
}

static int pg_source_delete(struct store *st, const char *id)
{
	struct pgp p = {0};
	pgp_str(&p, id);
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_SRC_DEL, &p, &rc);
	pgp_free(&p);
	if (rc == STORE_OK && (PQntuples(res) == 0 || pg_col_i64(res, 0, 0) == 0))
		rc = STORE_NOTFOUND;
	PQclear(res);
	return rc;
}

static int pg_inreq_insert(struct store *st, const struct inreq *r)
{
	struct pgp p = {0};
	pgp_str(&p, r->id);
	pgp_str(&p, r->source_id);
	pgp_str(&p, r->dedup_key);
	pgp_str(&p, r->method);
	pgp_str(&p, r->headers);
	pgp_bytes(&p, r->body, r->body_len);
	pgp_i64(&p, r->received_ms);
	pgp_i64(&p, r->verify_rc);
	pgp_bool(&p, r->duplicate);
	pgp_str(&p, r->msg_id[0] ? r->msg_id : NULL);
	return pg_wcmd_free(to_pg(st), PW_INR_INSERT, &p, NULL);
}

static int pg_inreq_dedup(struct store *st, const char *source_id, const char *dedup_key, int64_t received_ms,
			  int64_t since_ms)
{
	if (dedup_key == NULL)
		return STORE_OK;
	struct pgp p = {0};
	pgp_str(&p, source_id);
	pgp_str(&p, dedup_key);
	pgp_i64(&p, received_ms);
	pgp_i64(&p, since_ms);
	int64_t n = 0;
	int rc = pg_wcmd_free(to_pg(st), PW_INR_DEDUP, &p, &n);
	return rc == STORE_OK && n == 0 ? STORE_CONFLICT : rc;
}

static int pg_inreq_purge(struct store *st, int64_t before_ms, int limit, bool *more)
{
	char bound[ID_MAX];
	id_new_at("inr_", before_ms, bound);
	struct pgp p = {0};
	pgp_str(&p, bound);
	pgp_i64(&p, before_ms); /* the keys claimed before the bound: no window reaches back that far */
	pgp_i64(&p, limit);
	return pg_wcounted(to_pg(st), PW_INR_PURGE, &p, limit, more);
}

const struct store_write_ops pg_write_ops = {
	.batch_begin = pg_batch_begin,
	.batch_commit = pg_batch_commit,
	.batch_rollback = pg_batch_rollback,
	.job_begin = pg_job_begin,
	.job_last = pg_job_last,
	.job_end = pg_job_end,
	.app_put = pg_app_put,
	.app_delete = pg_app_delete,
	.endpoint_put = pg_endpoint_put,
	.endpoint_delete = pg_endpoint_delete,
	.endpoint_set_disabled = pg_endpoint_set_disabled,
	.endpoint_set_failing = pg_endpoint_set_failing,
	.endpoint_cancel_pending = pg_endpoint_cancel_pending,
	.msg_insert = pg_msg_insert,
	.msg_prefetch = pg_msg_prefetch,
	.notes_due = pg_notes_due,
	.notes_flush = pg_notes_flush,
	.delivery_add = pg_delivery_add,
	.msg_expunge = pg_msg_expunge,
	.attempt_expunge = pg_attempt_expunge,
	.outcomes_record = pg_outcomes_record,
	.idem_claim = pg_idem_claim,
	.keys_lock = pg_keys_lock,
	.idem_put = pg_idem_put,
	.idem_release = pg_idem_release,
	.chore_lock = pg_chore_lock,
	.idem_purge = pg_idem_purge,
	.token_put = pg_token_put,
	.tokens_expire = pg_tokens_expire,
	.token_delete = pg_token_delete,
	.poll_cursor_put = pg_poll_cursor_put,
	.tokens_purge = pg_tokens_purge,
	.retention_purge = pg_retention_purge,
	.task_put = pg_task_put,
	.recover_batch = pg_recover_batch,
	.replay_scan = pg_replay_scan,
	.delivery_states = pg_delivery_states,
	.event_type_put = pg_event_type_put,
	.event_type_create = pg_event_type_create,
	.event_type_delete = pg_event_type_delete,
	.api_version_create = pg_api_version_create,
	.api_version_set_downgrade = pg_api_version_set_downgrade,
	.api_version_delete = pg_api_version_delete,
	.source_put = pg_source_put,
	.source_delete = pg_source_delete,
	.inreq_insert = pg_inreq_insert,
	.inreq_dedup = pg_inreq_dedup,
	.inreq_purge = pg_inreq_purge,
	.apps_load = pg_apps_load,
	.endpoints_load = pg_endpoints_load,
	.event_types_load = pg_event_types_load,
	.sources_load = pg_sources_load,
	.api_versions_load = pg_api_versions_load,
	.secrets_reseal = pg_secrets_reseal,
	.note_change = pg_note_change_op,
	.note = pg_note_op,
	.registry_row = pg_registry_row,
	.tasks_adopt = pg_tasks_adopt,
	.deliveries_reset_sending = pg_deliveries_reset_sending,
	.deliveries_scan_pending = pg_deliveries_scan_pending,
};
