/* backoff.h: when to try again. */
#ifndef HOOKD_BACKOFF_H
#define HOOKD_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_MAX_STEPS 32

struct backoff {
	int64_t delay_ms[BACKOFF_MAX_STEPS]; /* delay before retry i+1 (after attempt i+1 failed) */
	int steps;                           /* number of retries; total attempts = steps + 1 */
	double jitter;                       /* +- fraction, e.g. 0.2 */
	int64_t throttled_min_ms;            /* 429 and timeouts wait at least this long */
	int64_t retry_after_max_ms;          /* cap on a receiver's Retry-After */
};

/* Defaults: 5s, 5m, 30m, 2h, 5h, 10h, 10h; jitter 0.2; throttled minimum 60 s; Retry-After cap 24 h. */
void backoff_default(struct backoff *b);
/* Parse a comma-separated schedule of durations ("5s,5m,30m" or "0.1,0.2"; spaces around entries allowed);
 * 0 ok, -1 malformed or more than BACKOFF_MAX_STEPS. Only delay_ms and steps change, and only on success.
 * An empty string means no retries. */
int backoff_parse_schedule(struct backoff *b, const char *spec);

/* out = b with its schedule replaced by delay_ms[0, steps) (0 <= steps <= BACKOFF_MAX_STEPS; more are cut):
 * an endpoint's own retrySchedule keeps the server's jitter, throttled minimum and Retry-After cap. */
void backoff_with_schedule(struct backoff *out, const struct backoff *b, const int64_t *delay_ms, int steps);

/* Parse a Retry-After header value: delta seconds (digits only; absurd values saturate) or an HTTP date
 * (IMF-fixdate only, "Sun, 06 Nov 1994 08:49:37 GMT"); returns ms to wait (>= 0, 0 for a date in the past)
 * relative to now_unix_ms, or -1 if absent/malformed. */
int64_t backoff_retry_after_ms(const char *value, int64_t now_unix_ms);

/* The delay before the next try after `attempts` failed attempts (1-based), or -1 if no retries remain
 * (attempts > steps; attempts < 1 also gives -1). rand01 is a uniform number in [0,1) for the jitter (clamped).
 * retry_after_ms is -1 if the receiver gave none. throttled is true for 429 and timeouts. The result is
 * max(delay_ms[attempts-1] * (1 +- jitter), min(Retry-After, retry_after_max_ms), throttled ? throttled_min_ms : 0). */
int64_t backoff_next_ms(const struct backoff *b, int attempts, double rand01, int64_t retry_after_ms,
			bool throttled);

#endif
