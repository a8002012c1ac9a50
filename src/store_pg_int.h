/* store_pg_int.h: what the files of the PostgreSQL backend share (src/store_pg*.c only: nothing else includes
 * libpq-fe.h).
 *
 *   store_pg.c        the connection string and hookd's schema= parameter, open (the single-node lock, the
 *                     schema and its migrations), close, the backend's tables
 *   store_pg_write.c  the write path (the committer thread; the start-up group before it runs)
 *   store_pg_batch.c  a batch's message inserts in one pipeline (msg_prefetch)
 *   store_pg_read.c   the query side (any thread, through the read pool)
 *   store_pg_conn.c   connections, the read pool, parameters, statements (prepared, pipelined, streamed),
 *                     columns and rows
 */
#ifndef HOOKD_STORE_PG_INT_H
#define HOOKD_STORE_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_sql.h"

#define PG_STATEMENT_TIMEOUT_MS 30000
#define PG_POOL_MAX 8       /* read connections at most; a reader waits for one beyond that */
#define PG_ROWS_MAX 1024    /* rows per statement of a batch's writes (one array per column) */

/* ---- columns (store_sql.h has the lists both backends share) ---- */

#define DLV_COLS(p)                                                                                          \
	p "id, " p "msg_id, " p "endpoint_id, " p "app_id, " p "status, " p "attempts, " p "trigger_type, "  \
	p "next_ms"

/* ---- statements: prepared once per connection, named w<n> (writer) and r<n> (readers) ---- */

struct pg_stmt {
	const char *name; /* for log lines */
	const char *sql;
};

enum pg_wstmt {
	PW_APP_PUT, PW_APP_DEL, PW_EP_PUT, PW_EP_CANCEL, PW_EP_DEL, PW_EP_DISABLE, PW_EP_FAILING,
	PW_MSGS_INSERT, PW_MSGS_CLAIM, PW_MSG_INSERT, PW_MSG_FIND_EVENT, PW_DLV_INSERT, PW_MSG_EXPUNGE, PW_ATT_EXPUNGE, PW_OUTCOMES, PW_OUTCOME,
	PW_IDEM_CLAIM, PW_KEYS_LOCK, PW_IDEM_GET, PW_IDEM_PUT, PW_IDEM_RELEASE, PW_IDEM_PURGE,
	PW_TOKEN_PUT, PW_TOKENS_EXPIRE, PW_TOKEN_DEL, PW_TOKENS_PURGE, PW_POLL_PUT,
	PW_PURGE, PW_TASK_PUT, PW_TASKS_ADOPT, PW_RECOVER, PW_REPLAY_SCAN, PW_DLV_STATES,
	PW_EVT_PUT, PW_EVT_CREATE, PW_EVT_DEL,
	PW_SRC_PUT, PW_SRC_DEL, PW_INR_INSERT, PW_INR_DEDUP, PW_INR_PURGE,
	PW_APPS_LOAD, PW_EPS_LOAD, PW_EVTS_LOAD, PW_SRCS_LOAD, PW_APP_ONE, PW_EP_ONE, PW_EVT_ONE, PW_SRC_ONE,
	 PW_DLV_RESET, PW_DLV_SCAN, PW_NOTIFY, PW_NOTIFY_AFTER, PW_CHORE_LOCK,
	PW_AV_LOCK, PW_AV_CREATE, PW_AV_SET, PW_AV_DEL, PW_AVS_LOAD, PW_AV_ONE,
	PW_COUNT
};
extern const struct pg_stmt pg_wdefs[PW_COUNT]; /* store_pg_write.c, prepared at open on the writer */

/* Lists come in ascending/descending pairs (descending = ascending + 1). */
enum pg_rstmt {
	PR_DLV_LOAD, PR_DLVS_LOAD, PR_MSG_GET, PR_ATT_GET,
	PR_MSG_LIST, PR_MSG_LIST_DESC,
	PR_ATT_LIST_APP, PR_ATT_LIST_APP_DESC,
	PR_ATT_LIST_EP, PR_ATT_LIST_EP_DESC,
	PR_ATT_LIST_MSG, PR_ATT_LIST_MSG_DESC,
	PR_COUNTS_EP, PR_COUNTS_APP, PR_COUNTS_ALL, PR_MSG_DLVS, PR_OLDEST_PENDING, PR_ATT_FIGURES,
	PR_EP_MSGS, PR_EP_MSGS_DESC,
	PR_TASK_GET, PR_TASK_LIST, PR_TASK_LIST_DESC, PR_TOKEN_GET, PR_POLL_GET, PR_POLL_READ,
	PR_INR_LIST, PR_INR_LIST_DESC, PR_INR_GET,
	PR_COUNT
};
extern const struct pg_stmt pg_rdefs[PR_COUNT]; /* store_pg_read.c, prepared by each read connection on first use */

/* ---- parameters: text, except BYTEA (binary); a NULL string is SQL NULL ---- */

#define PG_MAXP 24

struct pgp {
	int n;
	const char *v[PG_MAXP];
	int len[PG_MAXP];
	int fmt[PG_MAXP];
	char num[PG_MAXP][24];
	char *own[PG_MAXP]; /* freed by pgp_free */
};

/* ---- the store ---- */

struct pg_rconn {
	PGconn *c;
	bool prepared[PR_COUNT];
	struct pg_rconn *next;
};

struct pg_store {
	struct store base; /* first, so a struct store * is a struct pg_store * */
	char *conninfo;    /* the URL or key=value string, without hookd's schema= */
	char schema[64];
	char channel[80]; /* the notifications' channel: hookd_<schema> */
	PGconn *w;         /* the write connection: the committer thread only (and start-up before it) */
	bool release_pending; /* the last job's savepoint is still to be released (job_end(true) defers it) */
	bool savepoint_pending; /* the job's SAVEPOINT is not sent yet: it goes in one pipeline with its first write */
	bool begin_pending;     /* the batch's BEGIN is not sent yet: it goes in one pipeline with the batch's first write */
	bool keys_pending;      /* and its key locks (keys_lock) go right after it, with keys_p */
	struct pgp keys_p;
	bool folded;            /* the batch was committed by a pipeline of its last job's (its COMMIT folded in) */
	bool job_last;          /* the running job is the batch's last (job_last): its outcomes may carry COMMIT */
	int doomed;             /* STORE_OK, or what every later job of the batch gets: a folded COMMIT failed */
	int64_t reconnect_at_ms; /* mono_ms before which the writer does not try to reconnect again */
	PGconn *cl;              /* the cluster connection (LISTENs): the cluster thread only; NULL until used */
	int64_t cl_retry_at_ms;  /* mono_ms before which it is not opened again */
	bool cl_pending_in_ready; /* pending_in is prepared on it */
	bool cl_fresh;           /* opened since the last wait: that wait reports a resync */
	/* message inserts run ahead by msg_prefetch (store_pg_batch.c): their one result, and each job's rows in it
	 * (lo..hi) for its msg_insert */
	PGresult *pre_res;
	struct pg_pre {
		const struct message *m;
		const char *key; /* the idempotency key its job claims first (PW_MSGS_CLAIM), or NULL */
		int lo, hi;
	} *pre;
	size_t pre_n, pre_at;
	const char *pre_claimed; /* the running job's key, claimed by msg_prefetch's statement (pg_pre_claim) */
	enum note_class (*note_class)(const char *endpoint_id); /* store_cluster_ops.set_note_class */
	/* notifications to send with the batch's COMMIT (store_pg_cluster.c): entries, one per line */
	char *notes;
	size_t notes_len, notes_cap, notes_job; /* notes_job: where the current job's entries start */
	bool notes_tx;  /* an entry other than "p": the notes must commit with the batch (pg_commit_steps) */
	bool notes_now; /* a NOTE_NOW entry: the notes go with the COMMIT, before the clients are answered */
	bool notes_sending, held_sending; /* pg_commit_steps sends the notes (and the held ones) */
	/* NOTE_LATER notes of committed batches, held until STORE_NOTE_LATER_MS after the last such NOTIFY */
	struct buf held;
	int64_t held_sent_ms; /* monotonic ms of the last NOTIFY that named deliveries */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct pg_rconn *idle; /* idle read connections */
	int pool_open;         /* read connections open, idle or in use */
};

static inline struct pg_store *to_pg(struct store *st) { return (struct pg_store *)st; }

extern const struct store_write_ops pg_write_ops;
extern const struct store_query_ops pg_query_ops;
extern const struct store_cluster_ops pg_cluster_ops; /* store_pg_cluster.c */


void pgp_init(struct pgp *p);
void pgp_free(struct pgp *p);
void pgp_null(struct pgp *p);
void pgp_str(struct pgp *p, const char *s);
void pgp_own(struct pgp *p, char *s); /* a malloc'd string the params free */
void pgp_i64(struct pgp *p, int64_t v);
void pgp_i64_pos(struct pgp *p, int64_t v); /* NULL unless > 0 (time filters) */
void pgp_int_opt(struct pgp *p, int v);     /* NULL if < 0 */
void pgp_bool(struct pgp *p, bool v);
void pgp_bytes(struct pgp *p, const char *data, size_t len);
void pgp_json(struct pgp *p, const json_t *j);
void pgp_strlist(struct pgp *p, const struct strlist *l);
char *pg_list_json(const struct strlist *l); /* as its column holds it: a JSON array, or NULL (absent) */
void pgp_retry(struct pgp *p, const struct endpoint *e);
void pgp_text_array(struct pgp *p, const char *const *v, size_t n); /* a text[] literal */
void pgp_i64_array(struct pgp *p, const int64_t *v, size_t n);       /* a bigint[] literal */
/* A one-dimensional array parameter in binary format (store_pg_arr.c): pgarr_init with the element type's OID,
 * one call per element (a NULL pointer is SQL NULL), then pgp_arr hands the buffer to the params. */
#define PG_OID_BOOL 16
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_TEXT 25
struct pgarr {
	char *buf;
	size_t len, cap;
	uint32_t oid;
	int32_t n;
	bool nulls;
};
void pgarr_init(struct pgarr *a, uint32_t elem_oid);
void pgarr_bytes(struct pgarr *a, const void *data, size_t len);
void pgarr_str(struct pgarr *a, const char *s);
void pgarr_i64(struct pgarr *a, int64_t v);
void pgarr_i32(struct pgarr *a, int32_t v);
void pgarr_i16(struct pgarr *a, int16_t v);
void pgarr_bool(struct pgarr *a, bool v);
void pgp_arr(struct pgp *p, struct pgarr *a);
/* Page bounds: after ("" if none), before (past every id if none), limit (NULL: none if < 0). */
void pgp_page(struct pgp *p, const struct page *pg);

/* ---- running statements: results are binary; a taken unique key (23505) is STORE_CONFLICT ---- */

int pg_result_rc(PGresult *res, const char *what);
int pg_exec_simple(PGconn *c, const char *sql, const char *what);
/* A prepared write statement on the write connection: its result (the caller clears it) or NULL, with *rc. */
PGresult *pg_wexec(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int *rc);
/* The same for a statement that returns no rows: *changes (may be NULL) gets the rows it changed. */
int pg_wcmd(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int64_t *changes);
int64_t pg_changes(PGresult *res);
/* Write helpers that free the params: a statement that returns no rows (*changes, may be NULL, the rows it
 * changed); the same, STORE_NOTFOUND if it changed none; one inside a savepoint of its own (a uid conflict
 * leaves the job's transaction usable); one whose row counts what each of its parts changed (*more if any
 * reached limit). */
int pg_wcmd_free(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int64_t *changes);
int pg_wcmd_found(struct pg_store *s, enum pg_wstmt w, struct pgp *p);
int pg_wguarded(struct pg_store *s, enum pg_wstmt w, struct pgp *p);
int pg_wcounted(struct pg_store *s, enum pg_wstmt w, struct pgp *p, int limit, bool *more);

/* One statement of a pipeline: a prepared write statement (sql NULL) or a parameterless command. */
struct pg_step {
	enum pg_wstmt w;
	const char *sql;
	struct pgp *p;
	PGresult *res; /* set by pg_pipeline; the caller clears it */
	bool after;    /* after a sync, in a transaction of its own: its failure is logged, not returned (last steps) */
};
/* Send the steps in one pipeline (one round trip) and read every result; the first failure's rc. A failure
 * skips the steps after it (their res is NULL or aborted) and leaves the transaction aborted; steps marked
 * `after` run anyway (in an aborted transaction block they fail, harmlessly). */
int pg_pipeline(struct pg_store *s, struct pg_step *steps, size_t n);
/* Stream a write statement's rows one at a time to cb (single-row mode). */
int pg_wstream(struct pg_store *s, enum pg_wstmt w, struct pgp *p, void (*cb)(void *arg, PGresult *row),
	       void *arg);
/* A prepared read statement on a pooled connection (the connection goes back before this returns). */
PGresult *pg_read(struct store *st, enum pg_rstmt r, struct pgp *p, int *rc);

/* ---- message inserts (store_pg_batch.c) ---- */

/* Messages to insert with their deliveries (PW_MSGS_INSERT): endpoints from eps, or else from epa. */
struct pg_ins {
	const struct message *m;
	const char *const *eps;
	const char (*epa)[ID_MAX];
	size_t n;
	int64_t due_ms;
	const struct store_claim *claim; /* or NULL */
};
/* Insert v[0..n) (PW_MSGS_INSERT, or PW_MSG_INSERT for one): the result's rows in v's order, the last column
 * each one's place (from 1). */
PGresult *pg_msgs_insert(struct pg_store *s, const struct pg_ins *v, size_t n, int *rc);
/* outcomes_record's statement for o[0..n) and its parameters (one array per column; the plainer statement for
 * a single outcome). */
enum pg_wstmt pg_outcomes_params(struct pgp *p, const struct outcome *o, size_t n, int64_t now);
/* store_write_ops.msg_prefetch: the inserts in one pipeline inside a savepoint of their own; if any fails, it
 * is rolled back and each msg_insert runs as usual. */
void pg_msg_prefetch(struct store *st, const struct store_msg_ins *ins, size_t n, bool ends);
/* After a pipeline that carried the batch's COMMIT (commit: its result): sets folded, or doomed, or leaves the
 * transaction going (rolled back with rollback, or to the job's own rollback if NULL) when a step before the
 * COMMIT failed. */
void pg_fold_fate(struct pg_store *s, int rc, const PGresult *commit, const char *rollback);
/* The kept result of m's insert (rows *lo..*hi of it; not the caller's to clear), or NULL: then run it. */
const PGresult *pg_pre_take(struct pg_store *s, const struct message *m, int *lo, int *hi);
/* Drop what is kept (batch begin, commit, rollback). */
void pg_pre_clear(struct pg_store *s);
/* The claim of key by the next announced job, if that job announced it (PW_MSGS_CLAIM): -1 not announced (claim
 * it as usual); 1 the claim held (its msg_insert reads its rows next); 2 held by another, whose answer is in
 * *status and *body (malloc'd); 0 held by a claim committed since the statement's snapshot (read it again). In
 * 0 and 2 the job inserts nothing: its announced rows are passed. */
int pg_pre_claim(struct pg_store *s, const char *key, int *status, char **body);

/* ---- notifications (store_pg_cluster.c) ---- */

/* Committer thread, inside a batch: deliveries made pending by this batch (new, or due again), so that their
 * endpoints' owners hear of them when it commits. Every write that makes a delivery pending calls it. */
/* store_pg_load.c: the write connection's reads (store_write_ops) */
int pg_apps_load(struct store *st, struct app **out, size_t *n);
int pg_endpoints_load(struct store *st, struct endpoint **out, size_t *n);
int pg_event_types_load(struct store *st, struct event_type **out, size_t *n);
int pg_sources_load(struct store *st, char ***out, size_t *n);
/* store.h's secrets_reseal (store_pg.c). */
int pg_secrets_reseal(struct store *st, int mode, int64_t *values, char *err, size_t errlen);
int pg_tasks_adopt(struct store *st, int64_t now, bool own_too, struct task **out, size_t *n);
int pg_deliveries_reset_sending(struct store *st);
int pg_deliveries_scan_pending(struct store *st,
			       void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg);
int pg_registry_row(struct store *st, const char *kind, const char *id, void *out, bool *found);
void pg_note_change_op(struct store *st, const char *kind, const char *id);
void pg_note_op(struct store *st, const char *entry);

void pg_note_change(struct pg_store *s, const char *kind, const char *id);
/* A delivery made pending for endpoint_id (key), due at due_ms (0: at once), for its owner's notification. */
void pg_note_ep(struct pg_store *s, const char *endpoint_id, int64_t due_ms, int64_t key);
/* The same as its endpoint's note class says (none for this node's own; held back for another node's, or, after
 * a folded COMMIT, held at once), for one delivery or for the deliveries in rows lo..hi of PW_MSGS_INSERT's result
 * (kind 0: kind, key, endpoint). */
void pg_note_dlv(struct pg_store *s, const char *endpoint_id, int64_t due_ms, int64_t key);
void pg_note_rows(struct pg_store *s, const PGresult *res, int lo, int hi, int64_t due_ms);
/* The class of an endpoint's new deliveries (NOTE_NOW until set_note_class). */
enum note_class pg_note_class(const struct pg_store *s, const char *endpoint_id);
/* The batch's notes: dropped with a failed job (from its start) or a failed batch; sent with COMMIT. */
void pg_notes_job_begin(struct pg_store *s);
void pg_notes_job_drop(struct pg_store *s);
void pg_notes_clear(struct pg_store *s);
/* The batch committed: what pg_commit_steps sent is done with, and its notes not sent are held. */
void pg_notes_committed(struct pg_store *s);
/* store_write_ops.notes_due and notes_flush */
int64_t pg_notes_due(struct store *st);
void pg_notes_flush(struct store *st);
/* COMMIT with the batch's notes, in one pipeline (pg_commit_steps). STORE_OK only if committed. */
int pg_commit_notes(struct pg_store *s);
/* The steps that end the batch, appended at steps[*k] (room for 2): its COMMIT and the NOTIFY of its notes (one
 * per chunk of at most 8000 bytes), with p its parameters (the caller frees it). Notes of NOTE_LATER deliveries
 * alone are held instead (pg_notes_committed), and go with the first COMMIT after they are due. Registry notes go
 * before the COMMIT, in the batch's transaction, so that they are heard exactly when it commits. Notes of
 * deliveries alone go after it, in a transaction of their own that does not wait for the disk: PostgreSQL
 * serializes committing NOTIFYs across the whole cluster until their commit record is flushed, so two nodes'
 * batches that both notify could never share a WAL flush. A lost one only delays (the owners' scan). The index
 * of the COMMIT step. */
size_t pg_commit_steps(struct pg_store *s, struct pg_step *steps, size_t *k, struct pgp *p);
/* store_write_ops.chore_lock: a transaction-level advisory lock named by the schema and the chore. */
int pg_chore_lock(struct store *st, const char *name);

/* ---- connections ---- */

/* Connect and set up a session (search_path, statement_timeout, ...); NULL with a one-line reason in err. */
PGconn *pg_connect(const char *conninfo, const char *schema, bool writer, char *err, size_t errlen);
int pg_prepare_writes(struct pg_store *s, char *err, size_t errlen);
void pg_pool_close(struct pg_store *s);
int pg_writer_reconnect(struct pg_store *s); /* store_pg.c */
void pg_oneline(const char *msg, char *out, size_t outlen);

/* ---- reading columns (binary results): NULLs and odd values become safe defaults, never a crash ---- */

bool pg_isnull(const PGresult *r, int row, int c);
void pg_col_id(const PGresult *r, int row, int c, char out[ID_MAX]);
char *pg_col_str(const PGresult *r, int row, int c);
char *pg_col_str0(const PGresult *r, int row, int c);
char *pg_col_bytes(const PGresult *r, int row, int c, size_t *len);
int64_t pg_col_i64(const PGresult *r, int row, int c); /* bool, int2, int4 or int8 */
int pg_col_int(const PGresult *r, int row, int c);

/* ---- rows: each reads a model struct from the columns starting at c ---- */

void pg_row_app(const PGresult *r, int row, int c, void *out);
void pg_row_endpoint(const PGresult *r, int row, int c, void *out);
void pg_row_message(const PGresult *r, int row, int c, void *out);
void pg_row_attempt(const PGresult *r, int row, int c, void *out);
void pg_row_event_type(const PGresult *r, int row, int c, void *out);
void pg_row_task(const PGresult *r, int row, int c, void *out);
void pg_row_token(const PGresult *r, int row, int c, void *out);
void pg_row_inreq(const PGresult *r, int row, int c, void *out);
void pg_row_delivery(const PGresult *r, int row, int c, struct delivery *d);

struct pg_row_kind {
	size_t size;
	void (*read)(const PGresult *, int row, int col, void *elem);
};
extern const struct pg_row_kind pg_app_rows, pg_endpoint_rows, pg_message_rows, pg_attempt_rows, pg_task_rows,
	pg_event_type_rows, pg_inreq_rows;
/* store_pg_apiver.c: payload versions (store.h), and their rows for registry_row. */
extern const struct pg_row_kind pg_api_version_rows;
int pg_api_version_create(struct store *st, const struct api_version *v);
int pg_api_version_set_downgrade(struct store *st, const char *name, const char *downgrade);
int pg_api_version_delete(struct store *st, const char *name);
int pg_api_versions_load(struct store *st, struct api_version **out, size_t *n);
/* Every row of a result into a malloc'd array (NULL if none). */
void *pg_collect(const PGresult *res, const struct pg_row_kind *k, size_t *n);

#endif
