/* util.h: allocation that dies on out-of-memory, clocks, growable buffers, string lists. */
#ifndef HOOKD_UTIL_H
#define HOOKD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Allocation: a daemon may die on out-of-memory with a clear message, never on peer input. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Clocks in milliseconds: wall time (unix epoch) and monotonic. */
int64_t now_ms(void);
int64_t mono_ms(void);
int64_t mono_us(void);
/* CLOCK_MONOTONIC's time ns nanoseconds from now: the deadline of a wait on a condition variable whose clock it is. */
struct timespec mono_after_ns(int64_t ns);

/* Format unix milliseconds as RFC 3339 UTC with milliseconds: "2026-11-23T10:00:00.123Z" (25 bytes + NUL). */
#define RFC3339_LEN 64
void rfc3339_format(int64_t ms, char out[RFC3339_LEN]);
/* Parse RFC 3339 ("...Z" or "+hh:mm" offset, optional fraction); 0 on success, -1 if malformed. */
int rfc3339_parse(const char *s, int64_t *ms);

/* Parse a duration: "250ms", "5s", "5m", "2h", "1.5s", or a bare number of seconds. -1 if malformed. */
int duration_parse(const char *s, int64_t *ms);

/* A growable byte buffer with a cap: appends past the cap fail (returns -1) and set `toobig`. An append of 0 bytes
 * may pass NULL. */
struct buf {
	char *data;
	size_t len, cap, max;
	bool toobig;
};
void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n);
void buf_reset(struct buf *b);
void buf_dispose(struct buf *b);

/* A list of owned strings; v == NULL means "absent" (distinct from empty). */
struct strlist {
	char **v;
	size_t n;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_dispose(struct strlist *l);
void strlist_copy(struct strlist *dst, const struct strlist *src);
bool strlist_contains(const struct strlist *l, const char *s);



/* A string-keyed hash map (chained). Keys are copied; values are the caller's. */
struct hent {
	char *key;
	void *val;
	struct hent *next;
};
struct hmap {
	struct hent **buckets;
	size_t nbuckets, n;
};
void hmap_init(struct hmap *m);
void hmap_dispose(struct hmap *m); /* frees entries, not values */
void *hmap_get(const struct hmap *m, const char *key);
void hmap_put(struct hmap *m, const char *key, void *val); /* replaces */
void *hmap_del(struct hmap *m, const char *key);           /* the removed value, or NULL */
/* Iterate: for (struct hent *e = NULL; (e = hmap_next(m, e, &i)) != NULL;) with size_t i = 0 first. */
struct hent *hmap_next(const struct hmap *m, struct hent *e, size_t *bucket);
#endif
