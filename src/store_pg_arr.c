/* store_pg_arr.c: array parameters. In PostgreSQL's binary format, for the statements that write a batch's rows
 * in one go (unnest of one array per column): no quoting or escaping, bytes as they are, one buffer per column.
 * And as text literals, for the statements that take a list of ids or keys.
 *
 * The format (array_recv): int32 dimensions (1, or 0 for an empty array), int32 flags (1 if any element is
 * NULL), the element type's OID, then per dimension int32 length and int32 lower bound (1); then each element as
 * int32 length (-1 for NULL) and its binary form (integers big-endian, text and bytea their bytes). */
#include "store_pg_int.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARR_HEAD 20 /* dimensions, flags, OID, length, lower bound */

static void put32(char *at, uint32_t v)
{
	at[0] = (char)(v >> 24);
	at[1] = (char)(v >> 16);
	at[2] = (char)(v >> 8);
	at[3] = (char)v;
}

static char *arr_room(struct pgarr *a, size_t more)
{
	if (a->cap - a->len < more) {
		size_t cap = a->cap * 2 > a->len + more ? a->cap * 2 : a->len + more + 256;
		a->buf = xrealloc(a->buf, cap);
		a->cap = cap;
	}
	char *at = a->buf + a->len;
	a->len += more;
	return at;
}

void pgarr_init(struct pgarr *a, uint32_t elem_oid)
{
	*a = (struct pgarr){.oid = elem_oid};
	arr_room(a, ARR_HEAD);
}

void pgarr_bytes(struct pgarr *a, const void *data, size_t len)
{
	if (data == NULL) {
		put32(arr_room(a, 4), UINT32_MAX); /* -1: NULL */
		a->nulls = true;
	} else {
		if (len > (size_t)INT32_MAX)
			fatalx("postgres: a value of %zu bytes", len);
		char *at = arr_room(a, 4 + len);
		put32(at, (uint32_t)len);
		if (len > 0)
			memcpy(at + 4, data, len);
	}
	a->n++;
}

void pgarr_str(struct pgarr *a, const char *s) { pgarr_bytes(a, s, s != NULL ? strlen(s) : 0); }

void pgarr_i64(struct pgarr *a, int64_t v)
{
	char *at = arr_room(a, 12);
	put32(at, 8);
	put32(at + 4, (uint32_t)((uint64_t)v >> 32));
	put32(at + 8, (uint32_t)(uint64_t)v);
	a->n++;
}

void pgarr_i32(struct pgarr *a, int32_t v)
{
	char *at = arr_room(a, 8);
	put32(at, 4);
	put32(at + 4, (uint32_t)v);
	a->n++;
}

void pgarr_i16(struct pgarr *a, int16_t v)
{
	char *at = arr_room(a, 6);
	put32(at, 2);
	at[4] = (char)((uint16_t)v >> 8);
	at[5] = (char)(uint16_t)v;
	a->n++;
}

void pgarr_bool(struct pgarr *a, bool v)
{
	char *at = arr_room(a, 5);
	put32(at, 1);
	at[4] = v ? 1 : 0;
	a->n++;
}

void pgp_arr(struct pgp *p, struct pgarr *a)
{
	char *b = a->buf;
	put32(b + 4, a->nulls ? 1 : 0);
	put32(b + 8, a->oid);
	if (a->n > 0) {
		put32(b, 1);
		put32(b + 12, (uint32_t)a->n);
		put32(b + 16, 1);
	} else {
		put32(b, 0); /* no dimensions: the header ends after the OID */
		a->len = 12;
	}
	if (a->len > (size_t)INT32_MAX)
		fatalx("postgres: an array of %zu bytes", a->len);
	pgp_own(p, b);
	p->len[p->n - 1] = (int)a->len;
	p->fmt[p->n - 1] = 1;
	*a = (struct pgarr){0};
}

/* {"a","b"}: every element quoted, with " and \ escaped. */
void pgp_text_array(struct pgp *p, const char *const *v, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(v[i]) + 3;
	char *s = xmalloc(cap), *o = s;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (const char *c = v[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				*o++ = '\\';
			*o++ = *c;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	pgp_own(p, s);
}

void pgp_i64_array(struct pgp *p, const int64_t *v, size_t n)
{
	char *s = xmalloc(n * 21 + 3), *o = s;
	*o++ = '{';
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s%" PRId64, i ? "," : "", v[i]);
	*o++ = '}';
	*o = '\0';
	pgp_own(p, s);
}
