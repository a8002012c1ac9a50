/* store_sqlite_int.h: what the files of the SQLite backend share (src/store_sqlite*.c only: nothing else
 * includes sqlite3.h).
 *
 *   store_sqlite.c        open, the schema and its migrations, close, the backend's tables
 *   store_sqlite_write.c  the write path (the committer thread; the start-up group before it runs)
 *   store_sqlite_read.c   the query side (any thread, through the read pool)
 *   store_sqlite_conn.c   connections, the read pool, statement helpers (bind, step, columns, rows), the
 *                         checkpointer
 */
#ifndef HOOKD_STORE_SQLITE_INT_H
#define HOOKD_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_sql.h"

/* ---- statements (store_sql.h has the column lists both backends share) ---- */

/* A forwarded request's body is its message's payload (stored once); lists read only its size. */
#define INR_FWD(st) "(SELECT count(*) FROM deliveries d WHERE d.msg_id = r.msg_id AND d.status IN " st ")"
#define INR_SELECT(body)                                                                                     \
	"SELECT r.id, r.source_id, r.dedup_key, r.method, r.headers, " body ","                                 \
	" coalesce(length(r.body), length(m.payload), 0), r.received_ms, r.verify_rc, r.duplicate, r.msg_id, "  \
	INR_FWD("(0)") ", " INR_FWD("(1, 3)") ", " INR_FWD("(2, 4)")                                           \
	" FROM inbound_requests r LEFT JOIN messages m ON m.id = r.msg_id"
#define INR_LIST(order)                                                                                      \
	INR_SELECT("NULL") " WHERE r.source_id = ?1 AND r.id > ?2 AND r.id < ?3 ORDER BY r.id " order " LIMIT ?4"

struct stmt_def {
	const char *name; /* for log lines */
	const char *sql;
};

enum wstmt {
	WS_BEGIN, WS_COMMIT, WS_ROLLBACK, WS_SAVEPOINT, WS_RELEASE, WS_ROLLBACK_TO,
	WS_APP_PUT, WS_APP_DEL_ATTEMPTS, WS_APP_DEL_DELIVERIES, WS_APP_DEL_MESSAGES, WS_APP_DEL_ENDPOINTS, WS_APP_DEL, WS_APP_DEL_POLL, WS_EP_DEL_POLL,
	WS_EP_PUT, WS_EP_CANCEL, WS_EP_DEL,
	WS_MSG_FIND_EVENT, WS_MSG_INSERT, WS_DLV_INSERT, WS_DLV_UPDATE, WS_ATT_INSERT,
	WS_IDEM_CLAIM, WS_IDEM_GET, WS_IDEM_PUT, WS_IDEM_RELEASE, WS_IDEM_PURGE, WS_MSG_EXPUNGE, WS_ATT_EXPUNGE, WS_EP_DISABLE, WS_EP_FAILING,
	WS_APPS_LOAD, WS_EPS_LOAD, WS_DLV_RESET, WS_DLV_SCAN,
	WS_EVT_PUT, WS_EVT_CREATE, WS_EVT_DEL, WS_EVTS_LOAD,
	WS_PURGE_MSG, WS_PURGE_MSG_OWN, WS_PURGE_ATT,
	WS_TASK_PUT, WS_TASKS_ADOPT, WS_RECOVER_SCAN, WS_RECOVER_SET, WS_REPLAY_SCAN, WS_DLV_STATES,
	WS_SRC_PUT, WS_SRC_DEL, WS_SRC_DEL_REQS, WS_SRC_DEL_DEDUP, WS_SRCS_LOAD, WS_INR_INSERT, WS_INR_DEDUP, WS_INR_PURGE,
	WS_DEDUP_PURGE,
	WS_TOKEN_PUT, WS_TOKENS_EXPIRE, WS_TOKEN_DEL, WS_TOKENS_PURGE, WS_POLL_PUT,
	WS_AV_CREATE, WS_AV_SET, WS_AV_DEL, WS_AV_ONE, WS_AVS_LOAD,
	WS_COUNT
};

extern const struct stmt_def sq_wdefs[WS_COUNT]; /* store_sqlite_write.c, prepared at open on the writer */
/* store_sqlite_apiver.c: payload versions (store.h). */
int sq_api_version_create(struct store *st, const struct api_version *v);
int sq_api_version_set_downgrade(struct store *st, const char *name, const char *downgrade);
int sq_api_version_delete(struct store *st, const char *name);
int sq_api_versions_load(struct store *st, struct api_version **out, size_t *n);

/* Read statements. Lists come in ascending/descending pairs (descending = ascending + 1) and share parameter
 * numbers: ?1 app, ?2 after, ?3 before, ?4 limit, ?5 endpoint, ?6 message. */
enum rstmt {
	RS_DLV_LOAD, RS_DLVS_LOAD, RS_MSG_GET, RS_ATT_GET,
	RS_MSG_LIST, RS_MSG_LIST_DESC,
	RS_ATT_LIST_APP, RS_ATT_LIST_APP_DESC,
	RS_ATT_LIST_EP, RS_ATT_LIST_EP_DESC,
	RS_ATT_LIST_MSG, RS_ATT_LIST_MSG_DESC,
	RS_COUNTS_EP, RS_COUNTS_APP, RS_COUNTS_ALL, RS_MSG_DLVS, RS_OLDEST_PENDING, RS_ATT_FIGURES, RS_EP_MSGS,
	RS_EP_MSGS_DESC,
	RS_TASK_GET, RS_TASK_LIST, RS_TASK_LIST_DESC, RS_TOKEN_GET, RS_POLL_GET, RS_POLL_READ,
	RS_INR_LIST, RS_INR_LIST_DESC, RS_INR_GET,
	RS_COUNT
};

extern const struct stmt_def sq_rdefs[RS_COUNT]; /* store_sqlite_read.c, prepared by each read connection */

/* ---- the store ---- */

struct rconn {
	sqlite3 *db;
	sqlite3_stmt *st[RS_COUNT]; /* prepared on first use */
	struct rconn *next;
};

struct sqlite_store {
	struct store base; /* first, so a struct store * is a struct sqlite_store * */
	char *path;
	sqlite3 *db;                /* the write connection */
	sqlite3_stmt *st[WS_COUNT];
	pthread_mutex_t pool_lock;
	struct rconn *pool;         /* idle read connections */
	int pool_len;
	/* the checkpointer: copies the WAL back into the database off the commit path */
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_stop, ckpt_wanted;
	int ckpt_caught_up; /* atomic: the last background pass copied every frame it saw */
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

static inline struct sqlite_store *to_sq(struct store *st) { return (struct sqlite_store *)st; }

extern const struct store_write_ops sq_write_ops;
extern const struct store_query_ops sq_query_ops;

/* ---- stepping (store_sqlite_conn.c) ---- */
int sq_log_err(sqlite3 *db, const char *what);
void sq_stmt_done(sqlite3_stmt *q);
int sq_step_error(sqlite3_stmt *q, int rc, const char *what);
int sq_run(sqlite3_stmt *q, const char *what);
int sq_step_row(sqlite3_stmt *q, const char *what);
int sq_bind_failed(sqlite3_stmt *q, const char *what);

/* ---- binding: nonzero on failure, so callers OR them ---- */
int sq_bind_str(sqlite3_stmt *q, int i, const char *s);
int sq_bind_bytes(sqlite3_stmt *q, int i, const char *p, size_t len);
int sq_bind_json(sqlite3_stmt *q, int i, const json_t *j);
int sq_bind_retry(sqlite3_stmt *q, int i, const struct endpoint *e);
int sq_bind_strlist(sqlite3_stmt *q, int i, const struct strlist *l);
int sq_bind_opt(sqlite3_stmt *q, int i, const char *s);
int sq_bind_page(sqlite3_stmt *q, const struct page *pg);

/* ---- reading columns: NULLs and odd values become safe defaults, never a crash ---- */
void sq_col_id(sqlite3_stmt *q, int c, char out[ID_MAX]);
char *sq_col_str(sqlite3_stmt *q, int c);
char *sq_col_str0(sqlite3_stmt *q, int c);
char *sq_col_bytes(sqlite3_stmt *q, int c, size_t *len);
json_t *sq_col_object(sqlite3_stmt *q, int c);
json_t *sq_col_array(sqlite3_stmt *q, int c);
void sq_col_retry(sqlite3_stmt *q, int c, struct endpoint *e);
void sq_col_strlist(sqlite3_stmt *q, int c, struct strlist *l);
int64_t sq_col_i64(sqlite3_stmt *q, int c);
int sq_col_int(sqlite3_stmt *q, int c);

/* ---- rows: each reads a model struct from the columns starting at c ---- */
void sq_row_app(sqlite3_stmt *q, int c, void *out);
void sq_row_endpoint(sqlite3_stmt *q, int c, void *out);
void sq_row_message(sqlite3_stmt *q, int c, void *out);
void sq_row_attempt(sqlite3_stmt *q, int c, void *out);
void sq_row_event_type(sqlite3_stmt *q, int c, void *out);
void sq_row_task(sqlite3_stmt *q, int c, void *out);
void sq_row_token(sqlite3_stmt *q, int c, void *out);
void sq_row_delivery(sqlite3_stmt *q, int c, struct delivery *d);

struct row_kind {
	size_t size;
	void (*read)(sqlite3_stmt *, int col, void *elem);
	void (*dispose)(void *elem);
};
extern const struct row_kind sq_app_rows, sq_endpoint_rows, sq_message_rows, sq_attempt_rows, sq_task_rows,
	sq_event_type_rows;
/* Read every row of a bound statement into a malloc'd array (NULL if none), then reset the statement.
 * On error nothing is returned. */
void *sq_collect(sqlite3_stmt *q, const char *what, const struct row_kind *k, size_t *n, int *ret);

/* ---- connections ---- */
int sq_conn_open(const char *path, int flags, sqlite3 **out);
sqlite3_stmt *sq_prepare(sqlite3 *db, const struct stmt_def *def);
void sq_rconn_close(struct rconn *c);
int sq_exec_sql(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen);
/* store.h's secrets_reseal (store_sqlite.c). */
int sq_secrets_reseal(struct store *st, int mode, int64_t *values, char *err, size_t errlen);
int sq_ckpt_start(struct sqlite_store *s, char *err, size_t errlen);
void sq_ckpt_stop(struct sqlite_store *s);

/* A read in progress: a pooled connection and one of its statements. */
struct rq {
	struct sqlite_store *s;
	struct rconn *c;
	sqlite3_stmt *q;
	const char *what;
};

sqlite3_stmt *sq_rq_begin(struct rq *r, struct store *st, enum rstmt which);
void sq_rq_end(struct rq *r);

#endif
