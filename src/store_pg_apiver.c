/* store_pg_apiver.c: the PostgreSQL backend's payload versions (store.h's api_version_*), on the write
 * connection. */
#include "store_pg_int.h"

#include <stdlib.h>

static void row_api_version(const PGresult *r, int row, int c, void *out)
{
	struct api_version *v = out;
	v->name = pg_col_str0(r, row, c);
	v->downgrade = pg_col_str(r, row, c + 1);
	v->created_ms = pg_col_i64(r, row, c + 2);
}

const struct pg_row_kind pg_api_version_rows = {sizeof(struct api_version), row_api_version};

int pg_api_version_create(struct store *st, const struct api_version *v)
{
	struct pg_store *s = to_pg(st);
	struct pgp p = {0};
	int rc = pg_wcmd_free(s, PW_AV_LOCK, &p, NULL);
	if (rc != STORE_OK)
		return rc;
	pgp_str(&p, v->name);
	pgp_str(&p, v->downgrade);
	pgp_i64(&p, v->created_ms);
	int64_t n = 0;
	rc = pg_wcmd_free(s, PW_AV_CREATE, &p, &n);
	return rc == STORE_OK && n == 0 ? STORE_CONFLICT : rc;
}

int pg_api_version_set_downgrade(struct store *st, const char *name, const char *downgrade)
{
	struct pgp p = {0};
	pgp_str(&p, name);
	pgp_str(&p, downgrade);
	return pg_wcmd_found(to_pg(st), PW_AV_SET, &p);
}

int pg_api_version_delete(struct store *st, const char *name)
{
	struct pgp p = {0};
	pgp_str(&p, name);
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_AV_DEL, &p, &rc);
	pgp_free(&p);
	if (rc == STORE_OK && (res == NULL || PQntuples(res) != 1))
		rc = STORE_ERR;
	if (rc == STORE_OK && pg_col_i64(res, 0, 0) == 0)
		rc = pg_col_i64(res, 0, 1) > 0 ? STORE_CONFLICT : STORE_NOTFOUND;
	PQclear(res);
	return rc;
}

int pg_api_versions_load(struct store *st, struct api_version **out, size_t *n)
{
	struct pgp p = {0};
	int rc;
	PGresult *res = pg_wexec(to_pg(st), PW_AVS_LOAD, &p, &rc);
	*out = pg_collect(res, &pg_api_version_rows, n);
	PQclear(res);
	return rc;
}
