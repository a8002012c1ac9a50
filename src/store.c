/* store.c: pick a backend by the URL.
 *
 *   sqlite:PATH, or a bare PATH                 SQLite (store_sqlite.c)
 *   postgres://... or postgresql://...          PostgreSQL (store_pg.c), libpq's URI form
 *   host=... dbname=... (libpq's key=value)     PostgreSQL too: a string that starts with one of libpq's usual
 *                                               keywords and '=' (host, hostaddr, port, dbname, user, service,
 *                                               ...); a SQLite path that looks like that takes "sqlite:"
 * The PostgreSQL backend gets the whole string (libpq parses it, less hookd's own schema=NAME parameter). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "seal.h"

static const struct store_backend *const backends[] = {&store_sqlite_backend};

static bool is_pg_keyvalue(const char *url)
{
	static const char *const keys[] = {"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
					   "service", "sslmode", "connect_timeout", "application_name", "options"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(url, keys[i], n) == 0 && (url[n] == '=' || url[n] == ' '))
			return strchr(url, '=') != NULL;
	}
	return false;
}

struct store *store_open(const char *url, char *err, size_t errlen)
{
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 || is_pg_keyvalue(url))
		return store_pg_backend.open(url, err, errlen);
	const char *colon = strchr(url, ':');
	const char *location = url;
	const struct store_backend *be = &store_sqlite_backend;
	if (colon != NULL && strncmp(url, "postgres", 8) == 0) {
		snprintf(err, errlen, "a PostgreSQL URL starts with postgres:// or postgresql:// (got '%.*s')",
			 (int)(colon - url), url);
		return NULL;
	}
	if (colon != NULL) {
		be = NULL;
		for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
			size_t n = strlen(backends[i]->scheme);
			if ((size_t)(colon - url) == n && strncmp(url, backends[i]->scheme, n) == 0)
				be = backends[i];
		}
		if (be == NULL) {
			snprintf(err, errlen, "unknown database scheme in '%s' (expected sqlite:PATH or postgres://...)",
				 url);
			return NULL;
		}
		location = colon + 1;
	}
	if (*location == '\0') {
		snprintf(err, errlen, "empty database path in '%s'", url);
		return NULL;
	}
	return be->open(location, err, errlen);
}

void store_close(struct store *st)
{
	if (st != NULL)
		st->be->close(st);
}

static int key_slot_cmp(const void *a, const void *b)
{
	const struct store_key_slot *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key ? 1 : x->i < y->i ? -1 : x->i > y->i;
}

struct store_key_slot *store_key_slots(const int64_t *keys, size_t n)
{
	struct store_key_slot *ks = xcalloc(n ? n : 1, sizeof *ks);
	for (size_t i = 0; i < n; i++)
		ks[i] = (struct store_key_slot){keys[i], i};
	qsort(ks, n, sizeof *ks, key_slot_cmp);
	return ks;
}

size_t store_key_slot_find(const struct store_key_slot *ks, size_t n, int64_t key, size_t *count)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = lo;
	while (k < n && ks[k].key == key)
		k++;
	*count = k - lo;
	return lo;
}

void idvec_add(struct idvec *l, const char *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	snprintf(l->v[l->n++], ID_MAX, "%s", id);
}

void idvec_free(struct idvec *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

int store_endpoints_unseal(struct endpoint *eps, size_t n)
{
	char err[256];
	for (size_t i = 0; i < n; i++) {
		if (seal_endpoint_open(&eps[i], err, sizeof err) == 0)
			continue;
		log_warnx("store: endpoint %s: %s", eps[i].id, err);
		for (size_t j = 0; j < n; j++)
			endpoint_dispose(&eps[j]);
		return STORE_ERR;
	}
	return STORE_OK;
}

int store_sources_unseal(char **configs, size_t n)
{
	char err[256];
	for (size_t i = 0; i < n; i++) {
		char *open;
		if (seal_source_open(configs[i], &open, err, sizeof err) == 0) {
			free(configs[i]);
			configs[i] = open;
			continue;
		}
		log_warnx("store: a source: %s", err);
		for (size_t j = 0; j < n; j++)
			free(configs[j]);
		return STORE_ERR;
	}
	return STORE_OK;
}

const struct store_sealed_table store_sealed_tables[2] = {
	{"endpoints", 3, {"secret", "headers", "old_secrets"}, {SEAL_COL_SECRET, SEAL_COL_HEADERS, SEAL_COL_OLD_SECRETS}},
	{"sources", 1, {"config"}, {SEAL_COL_SOURCE}},
};

int store_reseal_row(const struct store_sealed_table *t, const char *const *stored, int mode, char **out,
		     int64_t *values, char *err, size_t errlen)
{
	int any = 0;
	for (size_t i = 0; i < t->ncols; i++)
		out[i] = NULL;
	for (size_t i = 0; i < t->ncols; i++) {
		if (seal_reseal(t->kinds[i], stored[i], (enum seal_mode)mode, &out[i], values, err, errlen) < 0) {
			for (size_t j = 0; j < i; j++) {
				free(out[j]);
				out[j] = NULL;
			}
			return -1;
		}
		any |= out[i] != NULL;
	}
	return any;
}
