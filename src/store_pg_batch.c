/* store_pg_batch.c: a batch's writes in one statement each: its message inserts, its outcomes.
 *
 * The committer announces a run of consecutive jobs whose only write is a message insert (msg_prefetch). They
 * go as one statement (PW_MSGS_INSERT: one array per column) inside a savepoint of their own: SAVEPOINT p, the
 * insert, RELEASE p, one round trip and one statement for all of them. The statement writes nothing for a taken
 * id or eventId (ON CONFLICT DO NOTHING), so a conflict is no error and is told apart afterwards, per job, from
 * its rows; each job's msg_insert then reads its own rows from here (its delivery keys, its notes, its
 * conflict), in its own place in the batch. Any error in the pipeline rolls back to p: nothing of it stays, and
 * every job runs its insert alone, so a failing job still fails alone.
 *
 * A batch's outcomes go the same way (PW_OUTCOMES). A batch of one message or one outcome, the usual at low
 * rates, takes a plainer statement (PW_MSG_INSERT, PW_OUTCOME): unnest and its joins cost PostgreSQL more for a
 * single row than the rows themselves. */
#include "store_pg_int.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* PW_MSGS_INSERT's parameters for v[0..n), or PW_MSGS_CLAIM's with claims. */
static void msgs_params(struct pgp *p, const struct pg_ins *v, size_t n, bool claims)
{
	enum { ID, APP, TYPE, EVID, CHANNELS, TAGS, PAYLOAD, CREATED, DELIVER_AT, CTYPE, XHDRS, EXPIRES, DUE, DMSG,
	       DEP, IKEY, ISTATUS, IANSWER, ICREATED, NCOLS };
	static const uint32_t oid[NCOLS] = {
		[ID] = PG_OID_TEXT, [APP] = PG_OID_TEXT, [TYPE] = PG_OID_TEXT, [EVID] = PG_OID_TEXT,
		[CHANNELS] = PG_OID_TEXT, [TAGS] = PG_OID_TEXT, [PAYLOAD] = PG_OID_BYTEA, [CREATED] = PG_OID_INT8,
		[DELIVER_AT] = PG_OID_INT8, [CTYPE] = PG_OID_TEXT, [XHDRS] = PG_OID_TEXT, [EXPIRES] = PG_OID_INT8,
		[DUE] = PG_OID_INT8, [DMSG] = PG_OID_INT4, [DEP] = PG_OID_TEXT, [IKEY] = PG_OID_TEXT,
		[ISTATUS] = PG_OID_INT4, [IANSWER] = PG_OID_TEXT, [ICREATED] = PG_OID_INT8};
	int ncols = claims ? NCOLS : IKEY;
	int64_t min = INT64_MAX; /* the oldest claim kept: the smallest of the claims' own */
	struct pgarr c[NCOLS];
	for (int k = 0; k < ncols; k++)
		pgarr_init(&c[k], oid[k]);
	for (size_t i = 0; i < n; i++) {
		if (claims) {
			const struct store_claim *cl = v[i].claim;
			pgarr_str(&c[IKEY], cl != NULL ? cl->key : NULL);
			pgarr_i32(&c[ISTATUS], cl != NULL ? cl->status : 0);
			pgarr_str(&c[IANSWER], cl != NULL ? cl->answer : NULL);
			pgarr_i64(&c[ICREATED], cl != NULL ? cl->now_ms : 0);
			if (cl != NULL && cl->min_created_ms < min)
				min = cl->min_created_ms;
		}
		const struct message *m = v[i].m;
		pgarr_str(&c[ID], m->id);
		pgarr_str(&c[APP], m->app_id);
		pgarr_str(&c[TYPE], m->event_type);
		pgarr_str(&c[EVID], m->event_id);
		char *channels = pg_list_json(&m->channels), *tags = pg_list_json(&m->tags);
		pgarr_str(&c[CHANNELS], channels);
		pgarr_str(&c[TAGS], tags);
		free(channels);
		free(tags);
		pgarr_bytes(&c[PAYLOAD], m->payload, m->payload_len);
		pgarr_i64(&c[CREATED], m->created_ms);
		pgarr_i64(&c[DELIVER_AT], m->deliver_at_ms);
		pgarr_str(&c[CTYPE], m->content_type);
		pgarr_str(&c[XHDRS], m->extra_headers);
		if (m->retention_ms > 0)
			pgarr_i64(&c[EXPIRES], m->created_ms + m->retention_ms);
		else
			pgarr_bytes(&c[EXPIRES], NULL, 0);
		pgarr_i64(&c[DUE], v[i].due_ms);
		for (size_t e = 0; e < v[i].n; e++) {
			pgarr_i32(&c[DMSG], (int32_t)i + 1);
			pgarr_str(&c[DEP], v[i].eps != NULL ? v[i].eps[e] : v[i].epa[e]);
		}
	}
	pgp_init(p);
	for (int k = 0; k < ncols; k++)
		pgp_arr(p, &c[k]);
	if (claims)
		pgp_i64(p, min);
}

/* One message: PW_MSG_INSERT's parameters. */
static void msg_params(struct pgp *p, const struct pg_ins *v)
{
	const struct message *m = v->m;
	pgp_init(p);
	pgp_str(p, m->id);
	pgp_str(p, m->app_id);
	pgp_str(p, m->event_type);
	pgp_str(p, m->event_id);
	pgp_strlist(p, &m->channels);
	pgp_strlist(p, &m->tags);
	pgp_bytes(p, m->payload, m->payload_len);
	pgp_i64(p, m->created_ms);
	pgp_i64(p, m->deliver_at_ms);
	pgp_str(p, m->content_type);
	pgp_str(p, m->extra_headers);
	if (m->retention_ms > 0)
		pgp_i64(p, m->created_ms + m->retention_ms);
	else
		pgp_null(p);
	const char *stack[64];
	const char **eps = v->n <= 64 ? stack : xcalloc(v->n, sizeof *eps);
	for (size_t e = 0; e < v->n; e++)
		eps[e] = v->eps != NULL ? v->eps[e] : v->epa[e];
	pgp_text_array(p, eps, v->n);
	if (eps != stack)
		free(eps);
	pgp_i64(p, v->due_ms);
}

/* The statement for v[0..n) and its parameters: the plainer one for a single message, the one that claims
 * idempotency keys first if any of them has one. */
static enum pg_wstmt insert_params(struct pgp *p, const struct pg_ins *v, size_t n)
{
	bool claims = false;
	for (size_t i = 0; i < n && !claims; i++)
		claims = v[i].claim != NULL;
	if (n == 1 && !claims) {
		msg_params(p, v);
		return PW_MSG_INSERT;
	}
	msgs_params(p, v, n, claims);
	return claims ? PW_MSGS_CLAIM : PW_MSGS_INSERT;
}

PGresult *pg_msgs_insert(struct pg_store *s, const struct pg_ins *v, size_t n, int *rc)
{
	struct pgp p;
	enum pg_wstmt w = insert_params(&p, v, n);
	PGresult *res = pg_wexec(s, w, &p, rc);
	pgp_free(&p);
	return res;
}

void pg_pre_clear(struct pg_store *s)
{
	PQclear(s->pre_res);
	s->pre_res = NULL;
	free(s->pre);
	s->pre = NULL;
	s->pre_n = s->pre_at = 0;
}

const PGresult *pg_pre_take(struct pg_store *s, const struct message *m, int *lo, int *hi)
{
	if (s->pre_at >= s->pre_n)
		return NULL;
	if (s->pre[s->pre_at].m != m) { /* not the announced order: never expected; the rest run one by one */
		log_warnx("postgres: a prefetched message insert was not taken in order");
		pg_pre_clear(s);
		return NULL;
	}
	*lo = s->pre[s->pre_at].lo;
	*hi = s->pre[s->pre_at].hi;
	s->pre_at++;
	return s->pre_res;
}

int pg_pre_claim(struct pg_store *s, const char *key, int *status, char **body)
{
	if (s->pre_at >= s->pre_n || s->pre[s->pre_at].key == NULL || strcmp(s->pre[s->pre_at].key, key) != 0)
		return -1;
	const struct pg_pre *e = &s->pre[s->pre_at];
	int held = -1; /* the row of the key's holder */
	for (int i = e->lo; i < e->hi; i++) {
		int kind = pg_col_int(s->pre_res, i, 0);
		if (kind == 4) {
			s->pre_claimed = e->key; /* undone by job_end if the job fails */
			return 1;
		}
		if (kind == 3)
			held = i;
	}
	s->pre_at++; /* its job inserts nothing */
	if (held < 0)
		return 0;
	*status = pg_col_int(s->pre_res, held, 1);
	*body = pg_col_str0(s->pre_res, held, 2);
	return 2;
}

/* The fate of a pipeline that carried the batch's COMMIT: committed; or something before the COMMIT failed, so
 * the transaction goes on (rolled back to the savepoint with rollback, or left to the job's own rollback when
 * rollback is NULL); or not committed, or not known to be (every job of the batch gets the error). */
void pg_fold_fate(struct pg_store *s, int rc, const PGresult *commit, const char *rollback)
{
	if (rc == STORE_OK && commit != NULL && strcmp(PQcmdStatus((PGresult *)commit), "COMMIT") == 0) {
		s->folded = true;
		return;
	}
	if (rc == STORE_UNAVAILABLE || PQstatus(s->w) != CONNECTION_OK) {
		s->doomed = STORE_UNAVAILABLE;
		return;
	}
	if (commit != NULL && PQresultStatus(commit) == PGRES_PIPELINE_ABORTED) { /* something before it failed */
		if (rollback == NULL)
			return;
		pg_exec_simple(s->w, rollback, "rollback to");
		if (PQtransactionStatus(s->w) == PQTRANS_INTRANS)
			return;
	}
	log_warnx("postgres: commit: a batch was not committed");
	s->doomed = STORE_ERR;
}

void pg_msg_prefetch(struct store *st, const struct store_msg_ins *ins, size_t n, bool ends)
{
	struct pg_store *s = to_pg(st);
	pg_pre_clear(s);
	if (n == 0 || PQstatus(s->w) != CONNECTION_OK || s->savepoint_pending || s->doomed != STORE_OK)
		return;
	/* the rest of the batch: its COMMIT (with the notes of the jobs before) goes in this pipeline too, unless
	 * a fifo endpoint's owner must hear of these deliveries before their clients are answered: their keys are
	 * known only from the insert's result, so those batches send COMMIT with their notification after it (a
	 * server-side query naming the keys in the same pipeline cost more of PostgreSQL's CPU, on two nodes, than
	 * the round trip). Other nodes' endpoints' notes are held for a later NOTIFY (NOTE_LATER). */
	bool fold = ends;
	for (size_t i = 0; fold && i < n; i++) /* a claimed key is released after a failed insert: not folded */
		fold = ins[i].claim == NULL;
	for (size_t i = 0; fold && i < n; i++)
		for (size_t e = 0; fold && e < ins[i].n; e++)
			fold = pg_note_class(s, ins[i].ep_ids[e]) != NOTE_NOW;
	struct pg_ins *v = xcalloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (struct pg_ins){.m = ins[i].m, .epa = ins[i].ep_ids, .n = ins[i].n, .due_ms = ins[i].due_ms,
				       .claim = ins[i].claim};
	struct pgp p[2];
	enum pg_wstmt w = insert_params(&p[0], v, n);
	free(v);
	pgp_init(&p[1]);
	struct pg_step steps[6]; /* RELEASE j, SAVEPOINT p, the inserts, RELEASE p, [NOTIFY], COMMIT, [NOTIFY] */
	size_t k = 0, at, commit = 0;
	if (s->release_pending)
		steps[k++] = (struct pg_step){.sql = "RELEASE j"};
	s->release_pending = false; /* sent here, or, if this pipeline fails, ended by the batch's fate */
	steps[k++] = (struct pg_step){.sql = "SAVEPOINT p"};
	at = k;
	steps[k++] = (struct pg_step){.w = w, .p = &p[0]};
	steps[k++] = (struct pg_step){.sql = "RELEASE p"};
	if (fold) /* with the earlier jobs' notes (kept here until the fate is known) */
		commit = pg_commit_steps(s, steps, &k, &p[1]);
	int rc = pg_pipeline(s, steps, k);
	pgp_free(&p[0]);
	pgp_free(&p[1]);
	if (fold)
		pg_fold_fate(s, rc, steps[commit].res, "ROLLBACK TO p; RELEASE p");
	if (s->folded)
		pg_notes_committed(s); /* they went with the COMMIT, or are held */
	if (rc == STORE_OK) { /* each job's rows: the result is in the messages' order (its last column) */
		s->pre_res = steps[at].res;
		steps[at].res = NULL;
		s->pre = xcalloc(n, sizeof *s->pre);
		int rows = PQntuples(s->pre_res), r = 0;
		for (size_t i = 0; i < n; i++) {
			s->pre[i] = (struct pg_pre){.m = ins[i].m, .key = ins[i].claim ? ins[i].claim->key : NULL, .lo = r};
			while (r < rows && pg_col_i64(s->pre_res, r, 3) == (int64_t)i + 1)
				r++;
			s->pre[i].hi = r;
		}
		s->pre_n = n;
	} else if (!fold && PQstatus(s->w) == CONNECTION_OK) {
		/* nothing of the pipeline stays; if even the savepoint failed, the batch is lost anyway */
		pg_exec_simple(s->w, "ROLLBACK TO p; RELEASE p", "rollback to");
	}
	for (size_t i = 0; i < k; i++)
		PQclear(steps[i].res);
}

/* ---- outcomes ---- */

/* One outcome: PW_OUTCOME's parameters. */
static void outcome_params(struct pgp *p, const struct outcome *o, int64_t now)
{
	const struct attempt *a = &o->attempt;
	pgp_init(p);
	pgp_i64(p, o->dkey);
	pgp_i64(p, o->new_status);
	pgp_i64(p, o->attempts);
	pgp_i64(p, o->next_ms);
	pgp_i64(p, now);
	pgp_str(p, a->id[0] != '\0' ? a->id : NULL);
	pgp_str(p, a->msg_id);
	pgp_str(p, a->endpoint_id);
	pgp_str(p, a->app_id);
	pgp_str(p, a->url);
	pgp_i64(p, a->status_code);
	pgp_i64(p, a->duration_ms);
	pgp_bytes(p, a->response, a->response_len);
	pgp_i64(p, a->status);
	pgp_i64(p, a->trigger);
	pgp_i64(p, a->created_ms);
	pgp_str(p, a->request_body);
	pgp_str(p, a->request_headers);
	pgp_str(p, a->response_headers);
	pgp_str(p, a->request_method);
}

static int by_dkey(const void *a, const void *b, void *outcomes)
{
	const struct outcome *o = outcomes;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int64_t x = o[i].dkey, y = o[j].dkey;
	return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}

/* The parameters of PW_OUTCOMES for o[0..n): the deliveries in key order, each once, then the attempts. */
static void outcomes_params(struct pgp *p, const struct outcome *o, size_t n, int64_t now)
{
	enum { DKEY, ST, ATTEMPTS, NEXT, OK, HELD, A_DKEY, ID, MSG, EP, APP, URL, CODE, DUR, RESP, STATUS, TRIG,
	       CREATED, REQ_BODY, REQ_HDRS, RESP_HDRS, METHOD, NCOLS };
	static const uint32_t oid[NCOLS] = {
		[DKEY] = PG_OID_INT8, [ST] = PG_OID_INT4, [ATTEMPTS] = PG_OID_INT4, [NEXT] = PG_OID_INT8,
		[OK] = PG_OID_BOOL, [HELD] = PG_OID_INT4, [A_DKEY] = PG_OID_INT8, [ID] = PG_OID_TEXT,
		[MSG] = PG_OID_TEXT, [EP] = PG_OID_TEXT, [APP] = PG_OID_TEXT, [URL] = PG_OID_TEXT, [CODE] = PG_OID_INT4,
		[DUR] = PG_OID_INT8, [RESP] = PG_OID_BYTEA, [STATUS] = PG_OID_INT2, [TRIG] = PG_OID_INT2,
		[CREATED] = PG_OID_INT8, [REQ_BODY] = PG_OID_TEXT, [REQ_HDRS] = PG_OID_TEXT, [RESP_HDRS] = PG_OID_TEXT,
		[METHOD] = PG_OID_TEXT};
	struct pgarr c[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		pgarr_init(&c[k], oid[k]);
	size_t *order = xcalloc(n + 1, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, by_dkey, (void *)o);
	for (size_t g = 0, end; g < n; g = end) { /* one delivery: the sum of its outcomes, in their order */
		const struct outcome *last = &o[order[g]];
		bool ok = false;
		int held = -1;
		for (end = g; end < n && o[order[end]].dkey == last->dkey; end++) {
			last = &o[order[end]];
			ok |= last->new_status == DS_SUCCESS;
			if (last->new_status != DS_PENDING)
				held = last->new_status;
		}
		pgarr_i64(&c[DKEY], last->dkey);
		pgarr_i32(&c[ST], last->new_status);
		pgarr_i32(&c[ATTEMPTS], last->attempts);
		pgarr_i64(&c[NEXT], last->next_ms);
		pgarr_bool(&c[OK], ok);
		if (held >= 0)
			pgarr_i32(&c[HELD], held);
		else
			pgarr_bytes(&c[HELD], NULL, 0);
	}
	free(order);
	for (size_t i = 0; i < n; i++) {
		const struct attempt *a = &o[i].attempt;
		if (a->id[0] == '\0')
			continue; /* no attempt row (canceled before sending) */
		pgarr_i64(&c[A_DKEY], o[i].dkey);
		pgarr_str(&c[ID], a->id);
		pgarr_str(&c[MSG], a->msg_id);
		pgarr_str(&c[EP], a->endpoint_id);
		pgarr_str(&c[APP], a->app_id);
		pgarr_str(&c[URL], a->url);
		pgarr_i32(&c[CODE], a->status_code);
		pgarr_i64(&c[DUR], a->duration_ms);
		pgarr_bytes(&c[RESP], a->response, a->response_len);
		pgarr_i16(&c[STATUS], (int16_t)a->status);
		pgarr_i16(&c[TRIG], (int16_t)a->trigger);
		pgarr_i64(&c[CREATED], a->created_ms);
		pgarr_str(&c[REQ_BODY], a->request_body);
		pgarr_str(&c[REQ_HDRS], a->request_headers);
		pgarr_str(&c[RESP_HDRS], a->response_headers);
		pgarr_str(&c[METHOD], a->request_method);
	}
	pgp_init(p);
	for (int k = 0; k < NCOLS; k++) {
		if (k == A_DKEY)
			pgp_i64(p, now);
		pgp_arr(p, &c[k]);
	}
}

enum pg_wstmt pg_outcomes_params(struct pgp *p, const struct outcome *o, size_t n, int64_t now)
{
	if (n == 1) { /* the plainer statement for one (a batch of one, at low rates) */
		outcome_params(p, o, now);
		return PW_OUTCOME;
	}
	outcomes_params(p, o, n, now);
	return PW_OUTCOMES;
}
