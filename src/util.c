/* util.c: small helpers shared by every module. */
#include "util.h"
#include "log.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return q;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec mono_after_ns(int64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000);
	ts.tv_nsec += (long)(ns % 1000000000);
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rfc3339_format(int64_t ms, char out[RFC3339_LEN])
{
	if (ms < 0)
		ms = 0;
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

int rfc3339_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, se, frac = 0;
	const char *p = s;
	if (parse_digits(&p, 4, &y) || expect(&p, '-') || parse_digits(&p, 2, &mo) || expect(&p, '-') ||
	    parse_digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (parse_digits(&p, 2, &h) || expect(&p, ':') || parse_digits(&p, 2, &mi) || expect(&p, ':') ||
	    parse_digits(&p, 2, &se))
		return -1;
	if (*p == '.') {
		p++;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
			digits++;
			p++;
		}
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (parse_digits(&p, 2, &oh) || expect(&p, ':') || parse_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		offset_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
	time_t t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* timegm normalised an impossible date (Feb 31) */
		return -1;
	*ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac;
	return 0;
}

int duration_parse(const char *s, int64_t *ms)
{
	char *end;
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	size_t digits = strspn(s, "0123456789.");
	if (memchr(s, '.', digits) != NULL && strchr(strchr(s, '.') + 1, '.') != NULL)
		return -1;
	double v = strtod(s, &end);
	if (end != s + digits || !isfinite(v) || v < 0)
		return -1;
	double mult;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else if (strcmp(end, "d") == 0)
		mult = 86400000;
	else
		return -1;
	double r = v * mult;
	if (r > 9e15)
		return -1;
	*ms = (int64_t)llround(r);
	return 0;
}

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->toobig || n > b->max - b->len) {
		b->toobig = true;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n > 0) /* p may be NULL then (an empty buffer's data), and memcpy's pointers never may */
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->toobig = false;
	if (b->data)
		b->data[0] = '\0';
}

void buf_dispose(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

void strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void strlist_dispose(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void strlist_copy(struct strlist *dst, const struct strlist *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (src->v == NULL)
		return;
	dst->v = xcalloc(src->n ? src->n : 1, sizeof *dst->v);
	for (size_t i = 0; i < src->n; i++)
		dst->v[i] = xstrdup(src->v[i]);
	dst->n = src->n;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void hmap_init(struct hmap *m)
{
	m->nbuckets = 64;
	m->n = 0;
	m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
}

void hmap_dispose(struct hmap *m)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (struct hent *e = m->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(m->buckets);
	memset(m, 0, sizeof *m);
}

static struct hent **hmap_slot(const struct hmap *m, const char *key)
{
	struct hent **p = &m->buckets[hash_str(key) & (m->nbuckets - 1)];
	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hent **p = hmap_slot(m, key);
	return *p ? (*p)->val : NULL;
}

static void hmap_grow(struct hmap *m)
{
	size_t nb = m->nbuckets * 2;
	struct hent **b = xcalloc(nb, sizeof *b);
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (struct hent *e = m->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			size_t j = hash_str(e->key) & (nb - 1);
			e->next = b[j];
			b[j] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
}

void hmap_put(struct hmap *m, const char *key, void *val)
{
	struct hent **p = hmap_slot(m, key);
	if (*p != NULL) {
		(*p)->val = val;
		return;
	}
	struct hent *e = xmalloc(sizeof *e);
	e->key = xstrdup(key);
	e->val = val;
	e->next = NULL;
	*p = e;
	if (++m->n > m->nbuckets)
		hmap_grow(m);
}

void *hmap_del(struct hmap *m, const char *key)
{
	struct hent **p = hmap_slot(m, key);
	struct hent *e = *p;
	if (e == NULL)
		return NULL;
	void *val = e->val;
	*p = e->next;
	free(e->key);
	free(e);
	m->n--;
	return val;
}

struct hent *hmap_next(const struct hmap *m, struct hent *e, size_t *bucket)
{
	if (e != NULL && e->next != NULL)
		return e->next;
	if (e != NULL)
		(*bucket)++;
	for (; *bucket < m->nbuckets; (*bucket)++)
		if (m->buckets[*bucket] != NULL)
			return m->buckets[*bucket];
	return NULL;
}
