/* id.h: KSUID-like identifiers: a prefix ("msg_") + 27 base62 characters that sort by creation time.
 * The 20 encoded bytes are 6 bytes of unix milliseconds, 2 bytes of a per-millisecond counter (so ids made in
 * one process are strictly increasing), and 12 random bytes. */
#ifndef HOOKD_ID_H
#define HOOKD_ID_H

#include <stdbool.h>
#include <stdint.h>

#define ID_BODY_LEN 27
#define ID_MAX 40 /* longest prefix + body + NUL, with room */

/* Write prefix + 27 base62 chars into out (ID_MAX bytes). Thread-safe. The prefix is at most 12 characters
 * (longer is a programming error and fatal). Ids from one process strictly increase, even within one ms and
 * if the wall clock steps back. */
void id_new(const char *prefix, char out[ID_MAX]);
/* Same, with a given time in ms (clamped to 0..2^48-1) and counter 0 (for tests and for iterators that start
 * at a time). Not part of id_new's sequence: two ids made at the same ms here are in random order. */
void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX]);
/* The smallest id with this prefix made at ms (counter and random part zero): a lower bound for "ids made at or
 * after ms", to scan an index on ids by time. */
void id_floor(const char *prefix, int64_t ms, char out[ID_MAX]);
/* The creation time (unix ms) encoded in an id with the given prefix, or -1 if it is not such an id. */
int64_t id_time_ms(const char *prefix, const char *id);
/* True if s looks like an id with this prefix (prefix + 27 base62 whose value fits in 20 bytes). */
bool id_is(const char *prefix, const char *s);
/* True if s is a valid uid: 1-256 of [a-zA-Z0-9-_.]. */
bool uid_valid(const char *s);

#endif
