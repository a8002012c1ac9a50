/* store_pg_cluster.c: what several nodes on one PostgreSQL share beyond the tables: the notifications a batch
 * sends when it commits (deliveries made pending, registry changes). */
#include "store_pg_int.h"

#include "log.h"
#include "node.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note_add(struct pg_store *s, const char *entry, size_t len)
{
	if (s->notes_len + len + 1 > s->notes_cap) {
		s->notes_cap = (s->notes_len + len + 1) * 2 + 256;
		s->notes = xrealloc(s->notes, s->notes_cap);
	}
	memcpy(s->notes + s->notes_len, entry, len);
	s->notes_tx |= entry[0] != 'p'; /* a registry entry */
	s->notes_len += len;
	s->notes[s->notes_len++] = '\n';
}

/* "p <endpoint> <due> <key>": a delivery made pending for endpoint, due at due (0: at once). The owner schedules it
 * straight from the note, with no read of its own until it is due. note_merge joins a batch's entries. */
static int pnote_fmt(char *e, size_t cap, const char *endpoint_id, int64_t due_ms, int64_t key)
{
	int len = snprintf(e, cap, "p %s %" PRId64 " %" PRId64, endpoint_id, due_ms, key);
	return key > 0 && len > 0 && (size_t)len < cap && strchr(endpoint_id, ' ') == NULL ? len : -1; /* e[len]: NUL */
}

void pg_note_ep(struct pg_store *s, const char *endpoint_id, int64_t due_ms, int64_t key)
{
	char e[ID_MAX + 64];
	int len = pnote_fmt(e, sizeof e, endpoint_id, due_ms, key);
	if (len > 0) {
		note_add(s, e, (size_t)len);
		s->notes_now = true;
	}
}

enum note_class pg_note_class(const struct pg_store *s, const char *endpoint_id)
{
	return s->note_class != NULL ? s->note_class(endpoint_id) : NOTE_NOW;
}

/* NOTE_LATER: with the batch's notes while it is open (held once it commits), or held at once after a folded
 * COMMIT. Either way the owner hears of it within STORE_NOTE_LATER_MS, and the clients need not wait for that:
 * nothing is ordered by it (a lost note only delays: the owners' scan). */
void pg_note_dlv(struct pg_store *s, const char *endpoint_id, int64_t due_ms, int64_t key)
{
	enum note_class c = pg_note_class(s, endpoint_id);
	if (c == NOTE_NOW) {
		pg_note_ep(s, endpoint_id, due_ms, key);
		return;
	}
	char e[ID_MAX + 64];
	int len = c == NOTE_LATER ? pnote_fmt(e, sizeof e, endpoint_id, due_ms, key) : -1;
	if (len <= 0)
		return;
	if (s->folded) {
		e[len] = '\n'; /* pnote_fmt left room for it */
		buf_append(&s->held, e, (size_t)len + 1);
	} else {
		note_add(s, e, (size_t)len);
	}
}

void pg_note_rows(struct pg_store *s, const PGresult *res, int lo, int hi, int64_t due_ms)
{
	int64_t due = due_ms > now_ms() ? due_ms : 0;
	for (int i = lo; i < hi; i++)
		if (pg_col_int(res, i, 0) == 0)
			pg_note_dlv(s, PQgetvalue(res, i, 2), due, pg_col_i64(res, i, 1));
}

/* "c <kind> <id>": a registry row changed (the endpoints': nodes under their fair share claim a new one at once) */
void pg_note_change(struct pg_store *s, const char *kind, const char *id)
{
	char e[96];
	int len = snprintf(e, sizeof e, "c %s %s", kind, id);
	if (len > 0 && (size_t)len < sizeof e)
		note_add(s, e, (size_t)len);
}

void pg_note_change_op(struct store *st, const char *kind, const char *id) { pg_note_change(to_pg(st), kind, id); }

void pg_note_op(struct store *st, const char *entry) { note_add(to_pg(st), entry, strlen(entry)); }

void pg_notes_job_begin(struct pg_store *s) { s->notes_job = s->notes_len; }

void pg_notes_job_drop(struct pg_store *s) { s->notes_len = s->notes_job; }

void pg_notes_clear(struct pg_store *s)
{
	s->notes_len = s->notes_job = 0;
	s->notes_tx = s->notes_now = s->notes_sending = s->held_sending = false;
}

void pg_notes_committed(struct pg_store *s)
{
	if (s->notes_sending) {
		if (s->held_sending)
			buf_reset(&s->held);
		s->held_sent_ms = mono_ms();
	} else { /* NOTE_LATER entries alone: held for a later NOTIFY */
		buf_append(&s->held, s->notes, s->notes_len);
	}
	pg_notes_clear(s);
}

int64_t pg_notes_due(struct store *st)
{
	struct pg_store *s = to_pg(st);
	if (s->held.len == 0)
		return -1;
	int64_t d = s->held_sent_ms + STORE_NOTE_LATER_MS - mono_ms();
	return d > 0 ? d : 0;
}

/* A notification's payload is at most 8000 bytes: the notes go in chunks of whole lines, each starting with the
 * sending node's id (a node skips its own). */
#define NOTE_CHUNK 7900

/* One "p" entry of the batch's notes, parsed for note_merge. */
struct pnote {
	const char *ep;
	size_t eplen;
	int64_t due, key;
};

/* The same endpoint and due time: one line. */
static int pnote_group(const struct pnote *x, const struct pnote *y)
{
	size_t n = x->eplen < y->eplen ? x->eplen : y->eplen;
	int c = memcmp(x->ep, y->ep, n);
	if (c == 0 && x->eplen != y->eplen)
		c = x->eplen < y->eplen ? -1 : 1;
	return c != 0 ? c : (x->due > y->due) - (x->due < y->due);
}

static int pnote_cmp(const void *a, const void *b)
{
	const struct pnote *x = a, *y = b;
	int c = pnote_group(x, y);
	return c != 0 ? c : (x->key > y->key) - (x->key < y->key);
}

#define PLINE_MAX 2000 /* a merged "p" line is cut here (well under a chunk) */

/* The batch's notes with its "p" entries merged: one line per endpoint and due time, its keys as runs
 * ("p <endpoint> <due> K1-K2,K3,..."), after the other entries in their order. Malloc'd, *len its length. */
static char *note_merge(const char *notes, size_t notes_len, size_t *len)
{
	size_t n = 0, cap = 0, olen = 0;
	struct pnote *v = NULL;
	char *out = xmalloc(notes_len + 1);
	for (size_t i = 0; i < notes_len;) {
		const char *l = notes + i, *nl = memchr(l, '\n', notes_len - i), *sp;
		size_t line = (size_t)(nl - l);
		i += line + 1;
		if (line > 2 && l[0] == 'p' && l[1] == ' ' && (sp = memchr(l + 2, ' ', line - 2)) != NULL) {
			char *end;
			struct pnote pn = {.ep = l + 2, .eplen = (size_t)(sp - l - 2), .due = strtoll(sp + 1, &end, 10)};
			pn.key = strtoll(end, NULL, 10);
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xrealloc(v, cap * sizeof *v);
			}
			v[n++] = pn;
		} else {
			memcpy(out + olen, l, line + 1);
			olen += line + 1;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, pnote_cmp);
	size_t ocap = notes_len + 1;
	for (size_t i = 0; i < n;) {
		char head[ID_MAX + 32];
		int hl = snprintf(head, sizeof head, "p %.*s %" PRId64 " ", (int)v[i].eplen, v[i].ep, v[i].due);
		size_t start = 0, j = i;
		for (; j < n && pnote_group(&v[i], &v[j]) == 0;) {
			size_t r = j + 1; /* a run of consecutive keys: j..r-1 */
			while (r < n && v[r].key == v[r - 1].key + 1 && pnote_group(&v[i], &v[r]) == 0)
				r++;
			char run[48];
			int rl = r - j == 1 ? snprintf(run, sizeof run, "%" PRId64, v[j].key)
					    : snprintf(run, sizeof run, "%" PRId64 "-%" PRId64, v[j].key, v[r - 1].key);
			if (olen + (size_t)hl + (size_t)rl + 3 > ocap) {
				ocap = (olen + (size_t)hl + (size_t)rl + 3) * 2;
				out = xrealloc(out, ocap);
			}
			if (j == i || olen - start + (size_t)rl + 1 > PLINE_MAX) { /* a new line */
				if (j != i)
					out[olen++] = '\n';
				start = olen;
				memcpy(out + olen, head, (size_t)hl);
				olen += (size_t)hl;
			} else {
				out[olen++] = ',';
			}
			memcpy(out + olen, run, (size_t)rl);
			olen += (size_t)rl;
			j = r;
		}
		out[olen++] = '\n';
		i = j;
	}
	free(v);
	*len = olen;
	return out;
}

/* Split the notes (len bytes, each line ending with a newline) into chunks of whole lines (malloc'd strings into
 * out, at most max); how many. */
static size_t note_chunks(const char *notes, size_t notes_len, char **out, size_t max, bool *all)
{
	const char *node = node_id();
	size_t nlen = strlen(node), k = 0, i = 0;
	while (i < notes_len && k < max) {
		char *c = xmalloc(NOTE_CHUNK + 1);
		memcpy(c, node, nlen);
		size_t len = nlen;
		while (i < notes_len) {
			const char *nl = memchr(notes + i, '\n', notes_len - i);
			size_t line = (size_t)(nl - (notes + i));
			if (len + 1 + line > NOTE_CHUNK)
				break;
			c[len++] = '\n';
			memcpy(c + len, notes + i, line);
			len += line;
			i += line + 1;
		}
		c[len] = '\0';
		out[k++] = c;
	}
	*all = i >= notes_len;
	return k;
}

#define CHUNKS_MAX 256 /* beyond this many (about 2 MB of notes), the rest go as "scan": everyone rescans */

/* PW_NOTIFY's parameters for the notes (len bytes of lines), into p. */
static void notes_params(const struct pg_store *s, const char *notes, size_t len, struct pgp *p)
{
	char **chunks = xcalloc(CHUNKS_MAX, sizeof *chunks);
	bool all;
	size_t mlen;
	char *merged = note_merge(notes, len, &mlen);
	size_t n = note_chunks(merged, mlen, chunks, CHUNKS_MAX, &all);
	free(merged);
	if (!all) { /* more than fit: the last chunk says so */
		size_t nlen = strlen(node_id());
		free(chunks[n - 1]);
		chunks[n - 1] = xmalloc(nlen + 8);
		snprintf(chunks[n - 1], nlen + 8, "%s\nscan", node_id());
	}
	pgp_str(p, s->channel);
	pgp_text_array(p, (const char *const *)chunks, n);
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	free(chunks);
}

size_t pg_commit_steps(struct pg_store *s, struct pg_step *steps, size_t *k, struct pgp *p)
{
	pgp_init(p);
	bool due = s->notes_len + s->held.len > 0 && mono_ms() >= s->held_sent_ms + STORE_NOTE_LATER_MS;
	bool notes = s->notes_now || s->notes_tx || due;
	s->notes_sending = notes;
	s->held_sending = notes && s->held.len > 0;
	if (notes && !s->held_sending) {
		notes_params(s, s->notes, s->notes_len, p);
	} else if (notes) { /* with the held ones, which stay held until the COMMIT is known (pg_notes_committed) */
		struct buf all;
		buf_init(&all, SIZE_MAX);
		buf_append(&all, s->held.data, s->held.len);
		buf_append(&all, s->notes, s->notes_len);
		notes_params(s, all.data, all.len, p);
		buf_dispose(&all);
	}
	if (notes && s->notes_tx)
		steps[(*k)++] = (struct pg_step){.w = PW_NOTIFY, .p = p};
	size_t at = *k;
	steps[(*k)++] = (struct pg_step){.sql = "COMMIT"};
	if (notes && !s->notes_tx)
		steps[(*k)++] = (struct pg_step){.w = PW_NOTIFY_AFTER, .p = p, .after = true};
	return at;
}

int pg_commit_notes(struct pg_store *s)
{
	struct pgp p;
	struct pg_step steps[2];
	size_t k = 0, at = pg_commit_steps(s, steps, &k, &p);
	int rc = pg_pipeline(s, steps, k);
	pgp_free(&p);
	if (rc == STORE_OK && (steps[at].res == NULL || strcmp(PQcmdStatus(steps[at].res), "COMMIT") != 0)) {
		log_warnx("postgres: commit: the transaction had failed and was rolled back");
		rc = STORE_ERR;
	}
	for (size_t i = 0; i < k; i++)
		PQclear(steps[i].res);
	if (rc == STORE_OK)
		pg_notes_committed(s);
	else
		pg_notes_clear(s);
	return rc;
}

/* Between batches: the held notes, once due, in a transaction of their own. If they cannot go, they are dropped:
 * the owners' scan finds those deliveries (the connection's loss makes every listener scan anyway). */
void pg_notes_flush(struct store *st)
{
	struct pg_store *s = to_pg(st);
	if (s->held.len == 0)
		return;
	if (PQstatus(s->w) == CONNECTION_OK && PQtransactionStatus(s->w) == PQTRANS_IDLE) {
		struct pgp p;
		pgp_init(&p);
		notes_params(s, s->held.data, s->held.len, &p);
		struct pg_step step = {.w = PW_NOTIFY_AFTER, .p = &p};
		if (pg_pipeline(s, &step, 1) != STORE_OK)
			log_warnx("postgres: the notes of %zu bytes to the other nodes could not be sent", s->held.len);
		PQclear(step.res);
		pgp_free(&p);
	}
	buf_reset(&s->held);
	s->held_sent_ms = mono_ms();
}

/* ---- chores: one node at a time ---- */

int pg_chore_lock(struct store *st, const char *name)
{
	struct pg_store *s = to_pg(st);
	char key[160];
	snprintf(key, sizeof key, "hookd-chore:%s:%s", s->schema, name);
	struct pgp p = {0};
	pgp_str(&p, key);
	int rc;
	PGresult *res = pg_wexec(s, PW_CHORE_LOCK, &p, &rc);
	pgp_free(&p);
	if (rc == STORE_OK && (PQntuples(res) != 1 || pg_col_i64(res, 0, 0) == 0))
		rc = STORE_CONFLICT;
	PQclear(res);
	return rc;
}

/* ---- the cluster side (the cluster thread, on its own connection) ---- */

#define MS " * interval '1 millisecond'"

static const char *const SQL_BEAT =
	"WITH b AS (INSERT INTO nodes (id, expires_at) VALUES ($1, clock_timestamp() + $2::bigint" MS ")"
	" ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at RETURNING id),"
	" old AS (DELETE FROM nodes WHERE expires_at < clock_timestamp() - interval '1 hour')"
	" SELECT (SELECT count(*) FROM nodes WHERE expires_at > clock_timestamp() AND id <> $1) + 1,"
	" (SELECT count(*) FROM endpoints) FROM b";
static const char *const SQL_DROP_GONE =
	"DELETE FROM leases l WHERE node_id = $1 AND NOT EXISTS (SELECT 1 FROM endpoints e WHERE e.id = l.endpoint_id)";
static const char *const SQL_RENEW =
	"UPDATE leases SET expires_at = clock_timestamp() + $2::bigint" MS " WHERE node_id = $1 RETURNING endpoint_id";
/* ON CONFLICT takes over only an expired lease: of two claimers, the second finds the first's live one */
static const char *const SQL_CLAIM =
	"INSERT INTO leases (endpoint_id, node_id, expires_at)"
	" SELECT e.id, $1, clock_timestamp() + $2::bigint" MS " FROM endpoints e WHERE NOT EXISTS"
	" (SELECT 1 FROM leases l WHERE l.endpoint_id = e.id AND l.expires_at > clock_timestamp())"
	" ORDER BY random() LIMIT $3"
	" ON CONFLICT (endpoint_id) DO UPDATE SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at"
	" WHERE leases.expires_at <= clock_timestamp() RETURNING endpoint_id";
static const char *const SQL_RELEASE = "DELETE FROM leases WHERE node_id = $1 AND endpoint_id = ANY($2::text[])";
static const char *const SQL_PENDING_OF =
	"SELECT id, next_ms, endpoint_id FROM deliveries WHERE status = 1 AND endpoint_id = ANY($1::text[])";
/* Each range on its own, through the primary key: the cost follows the keys named, never the pending backlog
 * (status + 0: not the partial index of pending deliveries, which a generic plan would scan whole per range;
 * OFFSET 0: not flattened into one scan of the table). */
static const char *const SQL_PENDING_IN =
	"SELECT d.id, d.next_ms, d.endpoint_id FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)"
	" CROSS JOIN LATERAL (SELECT id, next_ms, endpoint_id FROM deliveries"
	" WHERE id BETWEEN r.lo AND r.hi AND status + 0 = 1 OFFSET 0) d";
static const char *const SQL_LEAVE =
	"WITH l AS (DELETE FROM leases WHERE node_id = $1) DELETE FROM nodes WHERE id = $1";

/* The cluster connection, opened (and LISTENing) on first use and after a loss, at most once a second. Whichever
 * call opens it, the next wait reports a resync: what was committed before the LISTEN was heard by nobody. */
static PGconn *cl_conn(struct pg_store *s)
{
	if (s->cl != NULL && PQstatus(s->cl) == CONNECTION_OK)
		return s->cl;
	if (s->cl != NULL) {
		PQfinish(s->cl);
		s->cl = NULL;
		log_warnx("postgres: the cluster connection was lost");
	}
	int64_t now = mono_ms();
	if (now < s->cl_retry_at_ms)
		return NULL;
	s->cl_retry_at_ms = now + 1000;
	char err[512], sql[128];
	PGconn *c = pg_connect(s->conninfo, s->schema, true, err, sizeof err);
	if (c == NULL) {
		log_warnx("postgres: cluster connection: %s", err);
		return NULL;
	}
	snprintf(sql, sizeof sql, "LISTEN \"%s\"", s->channel); /* hookd_ + a checked schema name */
	if (pg_exec_simple(c, sql, "listen") != STORE_OK) {
		PQfinish(c);
		return NULL;
	}
	s->cl = c;
	s->cl_fresh = true;
	s->cl_pending_in_ready = false;
	return c;
}

/* A statement on the cluster connection; NULL (with *rc) on failure. The one run per notification (pending_in)
 * is prepared: parsing and planning it each time cost more than running it. */
static PGresult *cl_exec(struct pg_store *s, const char *sql, const char *what, struct pgp *p, int *rc)
{
	PGconn *c = cl_conn(s);
	if (c == NULL) {
		*rc = STORE_UNAVAILABLE;
		return NULL;
	}
	PGresult *res;
	if (sql == SQL_PENDING_IN && !s->cl_pending_in_ready) {
		res = PQprepare(c, "pending_in", sql, 0, NULL);
		s->cl_pending_in_ready = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	if (sql == SQL_PENDING_IN && s->cl_pending_in_ready)
		res = PQexecPrepared(c, "pending_in", p->n, p->v, p->len, p->fmt, 1);
	else
		res = PQexecParams(c, sql, p->n, NULL, p->v, p->len, p->fmt, 1);
	*rc = pg_result_rc(res, what);
	if (*rc != STORE_OK) {
		PQclear(res);
		if (PQstatus(c) != CONNECTION_OK)
			*rc = STORE_UNAVAILABLE;
		return NULL;
	}
	return res;
}

static void ids_of(const PGresult *res, struct idvec *out)
{
	for (int i = 0; i < PQntuples(res); i++) {
		char id[ID_MAX];
		pg_col_id(res, i, 0, id);
		idvec_add(out, id);
	}
}

static int pg_cl_beat(struct store *st, const char *node, int64_t lease_ms, int *live, int64_t *endpoints)
{
	struct pgp p = {0};
	pgp_str(&p, node);
	pgp_i64(&p, lease_ms);
	int rc;
	PGresult *res = cl_exec(to_pg(st), SQL_BEAT, "beat", &p, &rc);
	pgp_free(&p);
	if (res != NULL && PQntuples(res) == 1) {
		*live = (int)pg_col_i64(res, 0, 0);
		*endpoints = pg_col_i64(res, 0, 1);
	} else if (rc == STORE_OK) {
		rc = STORE_ERR;
	}
	PQclear(res);
	return rc;
}

static int pg_cl_renew(struct store *st, const char *node, int64_t lease_ms, struct idvec *held)
{
	struct pg_store *s = to_pg(st);
	struct pgp p = {0};
	pgp_str(&p, node);
	int rc;
	PQclear(cl_exec(s, SQL_DROP_GONE, "leases of endpoints gone", &p, &rc));
	if (rc == STORE_OK) {
		pgp_i64(&p, lease_ms);
		PGresult *res = cl_exec(s, SQL_RENEW, "renew", &p, &rc);
		if (res != NULL)
			ids_of(res, held);
		PQclear(res);
	}
	pgp_free(&p);
	return rc;
}

static int pg_cl_claim(struct store *st, const char *node, int64_t lease_ms, size_t max, struct idvec *got)
{
	struct pgp p = {0};
	pgp_str(&p, node);
	pgp_i64(&p, lease_ms);
	pgp_i64(&p, (int64_t)max);
	int rc;
	PGresult *res = cl_exec(to_pg(st), SQL_CLAIM, "claim", &p, &rc);
	pgp_free(&p);
	if (res != NULL)
		ids_of(res, got);
	PQclear(res);
	return rc;
}

static void id_array(struct pgp *p, const char (*ids)[ID_MAX], size_t n)
{
	const char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = ids[i];
	pgp_text_array(p, v, n);
	free(v);
}

static int pg_cl_release(struct store *st, const char *node, const char (*ids)[ID_MAX], size_t n)
{
	if (n == 0)
		return STORE_OK;
	struct pgp p = {0};
	pgp_str(&p, node);
	id_array(&p, ids, n);
	int rc;
	PQclear(cl_exec(to_pg(st), SQL_RELEASE, "release", &p, &rc));
	pgp_free(&p);
	return rc;
}

static void pending_rows(const PGresult *res,
			 void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg)
{
	for (int i = 0; res != NULL && i < PQntuples(res); i++) {
		char ep[ID_MAX];
		pg_col_id(res, i, 2, ep);
		cb(arg, pg_col_i64(res, i, 0), pg_col_i64(res, i, 1), ep);
	}
}

static int pg_cl_pending_of(struct store *st, const char (*ids)[ID_MAX], size_t n,
			    void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg)
{
	if (n == 0)
		return STORE_OK;
	struct pgp p = {0};
	id_array(&p, ids, n);
	int rc;
	PGresult *res = cl_exec(to_pg(st), SQL_PENDING_OF, "pending deliveries of endpoints", &p, &rc);
	pgp_free(&p);
	pending_rows(res, cb, arg);
	PQclear(res);
	return rc;
}

static int pg_cl_pending_in(struct store *st, const int64_t *lo, const int64_t *hi, size_t n,
			    void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg)
{
	if (n == 0)
		return STORE_OK;
	struct pgp p = {0};
	pgp_i64_array(&p, lo, n);
	pgp_i64_array(&p, hi, n);
	int rc;
	PGresult *res = cl_exec(to_pg(st), SQL_PENDING_IN, "pending deliveries by key", &p, &rc);
	pgp_free(&p);
	pending_rows(res, cb, arg);
	PQclear(res);
	return rc;
}

static int pg_cl_leave(struct store *st, const char *node)
{
	struct pgp p = {0};
	pgp_str(&p, node);
	int rc;
	PQclear(cl_exec(to_pg(st), SQL_LEAVE, "leave", &p, &rc));
	pgp_free(&p);
	return rc;
}

static void deliver_notes(PGconn *c, void (*cb)(void *arg, const char *payload), void *arg)
{
	PGnotify *n;
	while ((n = PQnotifies(c)) != NULL) {
		cb(arg, n->extra);
		PQfreemem(n);
	}
}

static int pg_cl_wait(struct store *st, int timeout_ms, void (*cb)(void *arg, const char *payload), void *arg,
		      bool *resync)
{
	struct pg_store *s = to_pg(st);
	PGconn *c = cl_conn(s);
	*resync = s->cl_fresh;
	s->cl_fresh = false;
	if (c == NULL) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms > 1000 ? 1000 : timeout_ms);
		return STORE_UNAVAILABLE;
	}
	deliver_notes(c, cb, arg); /* those that arrived with the results of other statements */
	if (*resync)
		return STORE_OK; /* at once: the caller reloads what it may have missed before anything else */
	struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
	int r = poll(&pfd, 1, timeout_ms);
	if (r > 0 && PQconsumeInput(c) != 1) {
		log_warnx("postgres: the cluster connection: %s", PQerrorMessage(c));
		return STORE_UNAVAILABLE; /* reopened by the next call */
	}
	deliver_notes(c, cb, arg);
	return PQstatus(c) == CONNECTION_OK ? STORE_OK : STORE_UNAVAILABLE;
}

static void pg_cl_set_note_class(struct store *st, enum note_class (*cls)(const char *endpoint_id))
{
	to_pg(st)->note_class = cls;
}

const struct store_cluster_ops pg_cluster_ops = {
	.set_note_class = pg_cl_set_note_class,
	.beat = pg_cl_beat,
	.renew = pg_cl_renew,
	.claim = pg_cl_claim,
	.release = pg_cl_release,
	.pending_of = pg_cl_pending_of,
	.pending_in = pg_cl_pending_in,
	.leave = pg_cl_leave,
	.wait = pg_cl_wait,
};
