/* store_pg_load.c: what the write connection reads: the registries and the pending deliveries at start-up (no
 * other thread runs yet), and one registry row inside a batch (another node changed it). */
#include "store_pg_int.h"

#include "node.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int load(struct store *st, enum pg_wstmt w, const struct pg_row_kind *k, void **out, size_t *n)
{
	struct pgp p = {0};
	int rc;
	PGresult *res = pg_wexec(to_pg(st), w, &p, &rc);
	*out = pg_collect(res, k, n);
	PQclear(res);
	return rc;
}

int pg_apps_load(struct store *st, struct app **out, size_t *n)
{
	return load(st, PW_APPS_LOAD, &pg_app_rows, (void **)out, n);
}

int pg_endpoints_load(struct store *st, struct endpoint **out, size_t *n)
{
	int rc = load(st, PW_EPS_LOAD, &pg_endpoint_rows, (void **)out, n);
	return rc == STORE_OK ? store_endpoints_unseal(*out, *n) : rc;
}

int pg_event_types_load(struct store *st, struct event_type **out, size_t *n)
{
	return load(st, PW_EVTS_LOAD, &pg_event_type_rows, (void **)out, n);
}

int pg_sources_load(struct store *st, char ***out, size_t *n)
{
	struct pgp p = {0};
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_SRCS_LOAD, &p, &rc);
	*out = NULL;
	*n = 0;
	int rows = res != NULL ? PQntuples(res) : 0;
	if (rows > 0)
		*out = xcalloc((size_t)rows, sizeof **out);
	for (int i = 0; i < rows; i++)
		(*out)[(*n)++] = pg_col_str0(res, i, 0);
	PQclear(res);
	return rc == STORE_OK ? store_sources_unseal(*out, *n) : rc;
}

int pg_tasks_adopt(struct store *st, int64_t now, bool own_too, struct task **out, size_t *n)
{
	struct pgp p = {0};
	pgp_i64(&p, now);
	pgp_str(&p, node_id());
	pgp_bool(&p, own_too);
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_TASKS_ADOPT, &p, &rc);
	pgp_free(&p);
	*out = pg_collect(res, &pg_task_rows, n);
	PQclear(res);
	return rc;
}

int pg_deliveries_reset_sending(struct store *st)
{
	struct pgp p = {0};
	return pg_wcmd_free(to_pg(st), PW_DLV_RESET, &p, NULL);
}

struct scan_arg {
	void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id);
	void *arg;
};

static void scan_row(void *arg, PGresult *row)
{
	struct scan_arg *a = arg;
	a->cb(a->arg, pg_col_i64(row, 0, 0), pg_col_i64(row, 0, 1), PQgetvalue(row, 0, 2));
}

/* Streamed a row at a time: the pending set may be millions of rows. */
int pg_deliveries_scan_pending(struct store *st,
				      void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id),
				      void *arg)
{
	struct pgp p = {0};
	struct scan_arg a = {cb, arg};
	struct pg_store *s = to_pg(st);
	/* the one statement that may rightly run long: every pending delivery, read while the schedule fills */
	if (pg_exec_simple(s->w, "SET statement_timeout = 0", "deliveries_scan_pending") != STORE_OK)
		return STORE_ERR;
	int rc = pg_wstream(s, PW_DLV_SCAN, &p, scan_row, &a);
	char sql[64];
	snprintf(sql, sizeof sql, "SET statement_timeout = %d", PG_STATEMENT_TIMEOUT_MS);
	if (pg_exec_simple(s->w, sql, "deliveries_scan_pending") != STORE_OK)
		rc = STORE_ERR;
	return rc;
}

/* The current row of one registry entry, in the batch: ordered with this node's own writes of it. */
int pg_registry_row(struct store *st, const char *kind, const char *id, void *out, bool *found)
{
	struct pgp p = {0};
	pgp_str(&p, id);
	int rc;
	*found = false;
	if (strcmp(kind, "source") == 0) {
		PGresult *res = pg_wexec(to_pg(st), PW_SRC_ONE, &p, &rc);
		if (res != NULL && PQntuples(res) == 1) {
			*(char **)out = pg_col_str0(res, 0, 0);
			*found = true;
		}
		PQclear(res);
		if (*found && store_sources_unseal((char **)out, 1) != STORE_OK) {
			*found = false;
			return STORE_ERR;
		}
		return rc;
	}
	enum pg_wstmt w;
	const struct pg_row_kind *k;
	size_t size;
	if (strcmp(kind, "app") == 0) {
		w = PW_APP_ONE, k = &pg_app_rows, size = sizeof(struct app);
	} else if (strcmp(kind, "endpoint") == 0) {
		w = PW_EP_ONE, k = &pg_endpoint_rows, size = sizeof(struct endpoint);
	} else if (strcmp(kind, "evtype") == 0) {
		w = PW_EVT_ONE, k = &pg_event_type_rows, size = sizeof(struct event_type);
	} else if (strcmp(kind, "apiver") == 0) {
		w = PW_AV_ONE, k = &pg_api_version_rows, size = sizeof(struct api_version);
	} else {
		pgp_free(&p);
		return STORE_ERR;
	}
	PGresult *res = pg_wexec(to_pg(st), w, &p, &rc);
	size_t n = 0;
	void *rows = pg_collect(res, k, &n);
	PQclear(res);
	if (rc == STORE_OK && n == 1 && w == PW_EP_ONE && store_endpoints_unseal(rows, 1) != STORE_OK)
		rc = STORE_ERR; /* disposed: another node wrote it with a key this one lacks */
	else if (rc == STORE_OK && n == 1) {
		memcpy(out, rows, size);
		*found = true;
	}
	free(rows);
	return rc;
}
