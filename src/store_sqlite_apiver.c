/* store_sqlite_apiver.c: the SQLite backend's payload versions (store.h's api_version_*), on the write
 * connection. */
#include "store_sqlite_int.h"

#include <stdlib.h>

int sq_api_version_create(struct store *st, const struct api_version *v)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_AV_CREATE];
	int rc = sq_bind_str(q, 1, v->name) | sq_bind_str(q, 2, v->downgrade) | sqlite3_bind_int64(q, 3, v->created_ms);
	rc = rc ? sq_bind_failed(q, "api_version_create") : sq_run(q, "api_version_create");
	return rc == STORE_OK && sqlite3_changes(s->db) == 0 ? STORE_CONFLICT : rc;
}

int sq_api_version_set_downgrade(struct store *st, const char *name, const char *downgrade)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_AV_SET];
	int rc = sq_bind_str(q, 1, name) | sq_bind_str(q, 2, downgrade);
	rc = rc ? sq_bind_failed(q, "api_version_set_downgrade") : sq_run(q, "api_version_set_downgrade");
	return rc == STORE_OK && sqlite3_changes(s->db) == 0 ? STORE_NOTFOUND : rc;
}

int sq_api_version_delete(struct store *st, const char *name)
{
	struct sqlite_store *s = to_sq(st);
	sqlite3_stmt *q = s->st[WS_AV_DEL];
	int rc = sq_bind_str(q, 1, name) ? sq_bind_failed(q, "api_version_delete") : sq_run(q, "api_version_delete");
	if (rc != STORE_OK || sqlite3_changes(s->db) > 0)
		return rc;
	q = s->st[WS_AV_ONE]; /* nothing deleted: absent, or kept for its pins */
	if (sq_bind_str(q, 1, name))
		return sq_bind_failed(q, "api_version_delete");
	rc = sqlite3_step(q);
	int ret = rc == SQLITE_ROW ? STORE_CONFLICT
		  : rc == SQLITE_DONE ? STORE_NOTFOUND : sq_log_err(s->db, "api_version_delete");
	sq_stmt_done(q);
	return ret;
}

int sq_api_versions_load(struct store *st, struct api_version **out, size_t *n)
{
	sqlite3_stmt *q = to_sq(st)->st[WS_AVS_LOAD];
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = (struct api_version){.name = sq_col_str0(q, 0), .downgrade = sq_col_str(q, 1),
						      .created_ms = sq_col_i64(q, 2)};
	}
	rc = rc == SQLITE_DONE ? STORE_OK : sq_log_err(sqlite3_db_handle(q), "api_versions_load");
	sq_stmt_done(q);
	return rc;
}
