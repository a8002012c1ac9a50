/* store_pg_batch.c: a batch's message inserts in one pipeline.
 *
 * The committer announces a run of consecutive jobs whose only write is a message insert (msg_prefetch). Their
 * statements go in one pipeline, inside a savepoint of their own: SAVEPOINT p, every PW_MSG_INSERT, RELEASE p,
 * one round trip for all of them instead of one each. The statement writes nothing for a taken id or eventId
 * (ON CONFLICT DO NOTHING), so a conflict is no error and is told apart afterwards, per job, from its rows;
 * each job's msg_insert then reads its own result from here (its delivery keys, its notes, its conflict), in
 * its own place in the batch. Any error in the pipeline rolls back to p: nothing of it stays, and every job runs
 * its insert as before, one statement each, so a failing job still fails alone. */
#include "store_pg_int.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

void pg_msg_params(struct pgp *p, const struct message *m, const char *const *endpoint_ids, size_t n,
		   int64_t due_ms)
{
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
	pgp_text_array(p, endpoint_ids, n);
	pgp_i64(p, due_ms);
}

void pg_pre_clear(struct pg_store *s)
{
	for (size_t i = s->pre_at; i < s->pre_n; i++)
		PQclear(s->pre[i].res);
	free(s->pre);
	s->pre = NULL;
	s->pre_n = s->pre_at = 0;
}

PGresult *pg_pre_take(struct pg_store *s, const struct message *m)
{
	if (s->pre_at >= s->pre_n)
		return NULL;
	if (s->pre[s->pre_at].m != m) { /* not the announced order: never expected; the rest run one by one */
		log_warnx("postgres: a prefetched message insert was not taken in order");
		pg_pre_clear(s);
		return NULL;
	}
	PGresult *res = s->pre[s->pre_at].res;
	s->pre[s->pre_at++].res = NULL;
	return res;
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
	 * another node (or a fifo read) must hear of these deliveries: their keys are known only from the inserts'
	 * results, so those batches send COMMIT with their notification after the inserts (a server-side query
	 * naming the keys in the same pipeline cost more of PostgreSQL's CPU, on two nodes, than the round trip) */
	bool fold = ends;
	for (size_t i = 0; fold && i < n; i++)
		for (size_t e = 0; fold && e < ins[i].n; e++)
			fold = s->quiet != NULL && s->quiet(ins[i].ep_ids[e]);
	size_t pre = s->release_pending ? 1 : 0, total = pre + n + 4; /* SAVEPOINT p, NOTIFY, RELEASE p, COMMIT */
	struct pgp *p = xcalloc(n + 1, sizeof *p);
	struct pg_step *steps = xcalloc(total, sizeof *steps);
	size_t k = 0;
	if (s->release_pending)
		steps[k++] = (struct pg_step){.sql = "RELEASE j"};
	s->release_pending = false; /* sent here, or, if this pipeline fails, ended by the batch's fate */
	steps[k++] = (struct pg_step){.sql = "SAVEPOINT p"};
	for (size_t i = 0; i < n; i++) {
		const char *stack[64];
		const char **ptrs = ins[i].n <= 64 ? stack : xcalloc(ins[i].n, sizeof *ptrs);
		for (size_t e = 0; e < ins[i].n; e++)
			ptrs[e] = ins[i].ep_ids[e];
		pg_msg_params(&p[i], ins[i].m, ptrs, ins[i].n, ins[i].due_ms);
		if (ptrs != stack)
			free(ptrs);
		steps[k++] = (struct pg_step){.w = PW_MSG_INSERT, .p = &p[i]};
	}
	if (fold && s->notes_len > 0) { /* the earlier jobs' notes: inside p (kept here until the fate is known) */
		pg_notes_params(s, s->channel, &p[n]);
		steps[k++] = (struct pg_step){.w = PW_NOTIFY, .p = &p[n]};
	}
	steps[k++] = (struct pg_step){.sql = "RELEASE p"};
	if (fold)
		steps[k++] = (struct pg_step){.sql = "COMMIT"};
	int rc = pg_pipeline(s, steps, k);
	for (size_t i = 0; i < n + 1; i++)
		pgp_free(&p[i]);
	free(p);
	if (fold)
		pg_fold_fate(s, rc, steps[k - 1].res, "ROLLBACK TO p; RELEASE p");
	if (s->folded)
		pg_notes_clear(s); /* they went with the COMMIT */
	if (rc == STORE_OK) {
		s->pre = xcalloc(n, sizeof *s->pre);
		for (size_t i = 0; i < n; i++) {
			s->pre[i] = (struct pg_pre){.m = ins[i].m, .res = steps[pre + 1 + i].res};
			steps[pre + 1 + i].res = NULL;
		}
		s->pre_n = n;
	} else if (!fold && PQstatus(s->w) == CONNECTION_OK) {
		/* nothing of the pipeline stays; if even the savepoint failed, the batch is lost anyway */
		pg_exec_simple(s->w, "ROLLBACK TO p; RELEASE p", "rollback to");
	}
	for (size_t i = 0; i < k; i++)
		PQclear(steps[i].res);
	free(steps);
}
