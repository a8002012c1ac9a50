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
	s->notes_len += len;
	s->notes[s->notes_len++] = '\n';
}

/* "d LO-HI" per run of consecutive keys (a batch's keys come from one sequence: mostly one run) */
void pg_note_pending(struct pg_store *s, const int64_t *keys, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && keys[j] == keys[j - 1] + 1)
			j++;
		char e[64];
		int len = j - i == 1 ? snprintf(e, sizeof e, "d %" PRId64, keys[i])
				     : snprintf(e, sizeof e, "d %" PRId64 "-%" PRId64, keys[i], keys[j - 1]);
		if (keys[i] > 0)
			note_add(s, e, (size_t)len);
		i = j;
	}
}

/* The keys of the deliveries a msg_insert wrote (rows of kind 0), for their owners' notification. */
void pg_note_rows(struct pg_store *s, const PGresult *res, int lo, int hi)
{
	int64_t keys[64];
	size_t k = 0;
	for (int i = lo; i < hi; i++) {
		if (pg_col_int(res, i, 0) != 0 || (s->quiet != NULL && s->quiet(PQgetvalue(res, i, 2))))
			continue;
		keys[k++] = pg_col_i64(res, i, 1);
		if (k == 64) {
			pg_note_pending(s, keys, k);
			k = 0;
		}
	}
	pg_note_pending(s, keys, k);
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

void pg_notes_clear(struct pg_store *s) { s->notes_len = s->notes_job = 0; }

/* A notification's payload is at most 8000 bytes: the notes go in chunks of whole lines, each starting with the
 * sending node's id (a node skips its own). */
#define NOTE_CHUNK 7900

/* Split the notes into chunks of whole lines (malloc'd strings into out, at most max); how many. */
static size_t note_chunks(struct pg_store *s, char **out, size_t max, bool *all)
{
	const char *node = node_id();
	size_t nlen = strlen(node), k = 0, i = 0;
	while (i < s->notes_len && k < max) {
		char *c = xmalloc(NOTE_CHUNK + 1);
		memcpy(c, node, nlen);
		size_t len = nlen;
		while (i < s->notes_len) {
			const char *nl = memchr(s->notes + i, '\n', s->notes_len - i); /* every entry ends with one */
			size_t line = (size_t)(nl - (s->notes + i));
			if (len + 1 + line > NOTE_CHUNK)
				break;
			c[len++] = '\n';
			memcpy(c + len, s->notes + i, line);
			len += line;
			i += line + 1;
		}
		c[len] = '\0';
		out[k++] = c;
	}
	*all = i >= s->notes_len;
	return k;
}

#define CHUNKS_MAX 256 /* beyond this many (about 2 MB of notes), the rest go as "scan": everyone rescans */

void pg_notes_params(struct pg_store *s, const char *channel, struct pgp *p)
{
	char **chunks = xcalloc(CHUNKS_MAX, sizeof *chunks);
	bool all;
	size_t n = note_chunks(s, chunks, CHUNKS_MAX, &all);
	if (!all) { /* more than fit: the last chunk says so */
		size_t nlen = strlen(node_id());
		free(chunks[n - 1]);
		chunks[n - 1] = xmalloc(nlen + 8);
		snprintf(chunks[n - 1], nlen + 8, "%s\nscan", node_id());
	}
	pgp_init(p);
	pgp_str(p, channel);
	pgp_text_array(p, (const char *const *)chunks, n);
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	free(chunks);
}

int pg_commit_notes(struct pg_store *s, const char *channel)
{
	struct pgp p;
	pg_notes_params(s, channel, &p);
	struct pg_step steps[2] = {{.w = PW_NOTIFY, .p = &p}, {.sql = "COMMIT"}};
	int rc = pg_pipeline(s, steps, 2);
	pgp_free(&p);
	if (rc == STORE_OK && (steps[1].res == NULL || strcmp(PQcmdStatus(steps[1].res), "COMMIT") != 0)) {
		log_warnx("postgres: commit: the transaction had failed and was rolled back");
		rc = STORE_ERR;
	}
	PQclear(steps[0].res);
	PQclear(steps[1].res);
	pg_notes_clear(s);
	return rc;
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

static void pg_cl_set_quiet(struct store *st, bool (*quiet)(const char *endpoint_id)) { to_pg(st)->quiet = quiet; }

const struct store_cluster_ops pg_cluster_ops = {
	.set_quiet = pg_cl_set_quiet,
	.beat = pg_cl_beat,
	.renew = pg_cl_renew,
	.claim = pg_cl_claim,
	.release = pg_cl_release,
	.pending_of = pg_cl_pending_of,
	.pending_in = pg_cl_pending_in,
	.leave = pg_cl_leave,
	.wait = pg_cl_wait,
};
