/* backoff.c: when to try a delivery again. A fixed schedule with jitter (so endpoints that failed together do
 * not retry together), raised by the receiver's Retry-After and by a floor for throttling. Pure: the caller
 * passes the clock and the random number, which keeps it testable. */
#include "backoff.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define ENTRY_MAX 63                   /* longest schedule entry ("1.5h", "250ms", ...) we accept */
#define IMF_FIXDATE_LEN 29             /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define RETRY_AFTER_MAX_S INT64_C(1000000000000) /* saturate absurd delta-seconds instead of overflowing */

void backoff_default(struct backoff *b)
{
	static const int64_t defaults[] = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
	memset(b, 0, sizeof *b);
	memcpy(b->delay_ms, defaults, sizeof defaults);
	b->steps = (int)(sizeof defaults / sizeof defaults[0]);
	b->jitter = 0.2;
	b->throttled_min_ms = 60000;
	b->retry_after_max_ms = 86400000;
}

/* Trim spaces and tabs from both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static int parse_entry(const char *p, size_t n, int64_t *ms)
{
	char tmp[ENTRY_MAX + 1];
	trim(&p, &n);
	if (n == 0 || n > ENTRY_MAX)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return duration_parse(tmp, ms);
}

int backoff_parse_schedule(struct backoff *b, const char *spec)
{
	int64_t delays[BACKOFF_MAX_STEPS];
	int n = 0;
	if (spec == NULL)
		return -1;
	size_t len = strlen(spec);
	trim(&spec, &len);
	/* Parse everything before touching b, so a bad spec leaves the old schedule in place. */
	for (const char *p = spec; len > 0;) {
		const char *comma = memchr(p, ',', len);
		size_t elen = comma != NULL ? (size_t)(comma - p) : len;
		if (n == BACKOFF_MAX_STEPS || parse_entry(p, elen, &delays[n]) < 0)
			return -1;
		n++;
		if (comma == NULL)
			break;
		len -= elen + 1;
		p = comma + 1;
		if (len == 0) /* a trailing comma */
			return -1;
	}
	memset(b->delay_ms, 0, sizeof b->delay_ms);
	memcpy(b->delay_ms, delays, (size_t)n * sizeof delays[0]);
	b->steps = n;
	return 0;
}

void backoff_with_schedule(struct backoff *out, const struct backoff *b, const int64_t *delay_ms, int steps)
{
	int n = steps < 0 ? 0 : steps > BACKOFF_MAX_STEPS ? BACKOFF_MAX_STEPS : steps;
	*out = *b;
	memset(out->delay_ms, 0, sizeof out->delay_ms);
	if (n > 0)
		memcpy(out->delay_ms, delay_ms, (size_t)n * sizeof delay_ms[0]);
	out->steps = n;
}

static int64_t parse_delta_seconds(const char *p, size_t n)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (s < RETRY_AFTER_MAX_S)
			s = s * 10 + (p[i] - '0');
	}
	return (s < RETRY_AFTER_MAX_S ? s : RETRY_AFTER_MAX_S) * 1000;
}

/* IMF-fixdate only, the one format RFC 9110 lets senders generate. strptime reads day and month names in the
 * C locale, which is what the daemon runs in. */
static int64_t parse_http_date(const char *p, size_t n, int64_t now_unix_ms)
{
	char tmp[IMF_FIXDATE_LEN + 1];
	struct tm tm;
	if (n != IMF_FIXDATE_LEN)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	int64_t wait = (int64_t)timegm(&tm) * 1000 - now_unix_ms;
	return wait > 0 ? wait : 0; /* a date in the past means "now" */
}

int64_t backoff_retry_after_ms(const char *value, int64_t now_unix_ms)
{
	if (value == NULL)
		return -1;
	size_t n = strlen(value);
	trim(&value, &n);
	if (n == 0)
		return -1;
	if (value[0] >= '0' && value[0] <= '9')
		return parse_delta_seconds(value, n);
	return parse_http_date(value, n, now_unix_ms);
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int64_t backoff_next_ms(const struct backoff *b, int attempts, double rand01, int64_t retry_after_ms,
			bool throttled)
{
	if (attempts < 1 || attempts > b->steps || attempts > BACKOFF_MAX_STEPS)
		return -1;
	/* Out-of-range (or NaN) inputs are clamped so a bad caller cannot produce a negative or wild delay. */
	double r = rand01 >= 0 ? (rand01 <= 1 ? rand01 : 1) : 0;
	double j = b->jitter >= 0 ? (b->jitter <= 1 ? b->jitter : 1) : 0;
	double base = (double)b->delay_ms[attempts - 1];
	int64_t delay = (int64_t)llround(base * (1 + j * (2 * r - 1)));
	if (retry_after_ms >= 0)
		delay = max64(delay, retry_after_ms < b->retry_after_max_ms ? retry_after_ms : b->retry_after_max_ms);
	if (throttled)
		delay = max64(delay, b->throttled_min_ms);
	return max64(delay, 0);
}
