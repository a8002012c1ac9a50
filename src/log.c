/* log.c: timestamped lines on stderr, as text or JSON (--log-format); one write per line so threads don't
 * interleave; each line is built on the stack (no allocation: delivery outcomes are on the hot path). */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static int log_threshold = LOG_INFO;
static bool log_json;

void log_set_level(enum log_level level) { log_threshold = (int)level; }

void log_set_json(bool json) { log_json = json; }



/* ---- structured lines: deliveries and API errors ---- */

/* A line being built in a fixed buffer: nothing allocated, cut (not overflowed) when too long. */
struct line {
	char b[LOG_LINE_MAX];
	size_t n;
};

static void put(struct line *l, const char *s, size_t len)
{
	if (len > sizeof l->b - 2 - l->n) /* room for "}\n" */
		len = sizeof l->b - 2 - l->n;
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

/* s as JSON string content (json) or as a bare or quoted word (text), controls escaped either way. */
static void put_escaped(struct line *l, const char *s, bool quoted)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\', esc[1] = (char)ch;
			put(l, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", ch);
			put(l, esc, 6);
		} else if (ch == ' ' && !quoted) {
			put(l, "_", 1);
		} else {
			put(l, (const char *)&ch, 1);
		}
	}
}

static void line_start(struct line *l, const char *level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(l->b, sizeof l->b,
			 log_json ? "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\""
				  : "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, level, msg);
	l->n = n > 0 && (size_t)n < sizeof l->b ? (size_t)n : 0;
}

/* key=value (text; quoted when it has a blank or a quote) or ,"key":"value" (json). */
static void field_str(struct line *l, const char *key, const char *v)
{
	if (v == NULL)
		return;
	bool quote = !log_json && (v[0] == '\0' || strpbrk(v, " \"=") != NULL);
	puts_(l, log_json ? ",\"" : " ");
	puts_(l, key);
	puts_(l, log_json ? "\":\"" : quote ? "=\"" : "=");
	put_escaped(l, v, log_json || quote);
	if (log_json || quote)
		put(l, "\"", 1);
}

static void field_int(struct line *l, const char *key, long long v)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", v);
	puts_(l, log_json ? ",\"" : " ");
	puts_(l, key);
	puts_(l, log_json ? "\":" : "=");
	puts_(l, num);
}

static void line_end(struct line *l)
{
	if (log_json)
		put(l, "}", 1);
	l->b[l->n++] = '\n';
	ssize_t w = write(STDERR_FILENO, l->b, l->n);
	(void)w;
}


int log_level_parse(const char *name)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void log_emit(int level, const char *tag, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	if (level > log_threshold)
		return;
	char text[LOG_LINE_MAX];
	int m = vsnprintf(text, sizeof text, fmt, ap);
	if (m < 0)
		text[0] = '\0';
	if (with_errno) {
		size_t n = strlen(text);
		snprintf(text + n, sizeof text - n, ": %s", strerror(saved));
	}
	struct line l;
	line_start(&l, tag, "");
	if (log_json) { /* the message inside "msg" */
		l.n--;
		put_escaped(&l, text, true);
		put(&l, "\"", 1);
	} else { /* after "TIME tag " */
		put(&l, text, strlen(text));
	}
	line_end(&l);
	errno = saved;
}

#define LOG_BODY(level, tag, err)               \
	va_list ap;                             \
	va_start(ap, fmt);                      \
	log_emit(level, tag, err, fmt, ap);     \
	va_end(ap)

void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, "info", 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_DEBUG, "debug", 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARN, "warn", 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARN, "warn", 0); }
void log_errorx(const char *fmt, ...) { LOG_BODY(LOG_ERROR, "error", 0); }
void log_notice(const char *fmt, ...) { LOG_BODY(LOG_ERROR, "notice", 0); }
void fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_ERROR, "fatal", 1);
	exit(1);
}
void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERROR, "fatal", 0);
	exit(1);
}

/* The dispatcher's outcome lines of one pass, written together by log_delivery_flush: one write(2) a pass, not one
 * a delivery (a pass finishes tens of transfers under load). Per thread, so any thread may log outcomes. */
static _Thread_local struct {
	char b[32768];
	size_t n;
} batch;

void log_delivery_flush(void)
{
	size_t off = 0;
	while (off < batch.n) {
		ssize_t w = write(STDERR_FILENO, batch.b + off, batch.n - off);
		if (w <= 0)
			break; /* a log that cannot be written is dropped, never waited for */
		off += (size_t)w;
	}
	batch.n = 0;
}

void log_delivery(const struct log_delivery *d)
{
	if (LOG_INFO > log_threshold)
		return;
	int saved = errno;
	struct line l;
	line_start(&l, "info", "delivery");
	field_str(&l, "app", d->app);
	field_str(&l, "endpoint", d->endpoint);
	field_str(&l, "message", d->message);
	field_str(&l, "outcome", d->outcome);
	field_int(&l, "status", d->status);
	field_int(&l, "duration_ms", d->duration_ms);
	field_int(&l, "attempt", d->attempt);
	field_str(&l, "error", d->error);
	if (log_json)
		put(&l, "}", 1);
	l.b[l.n++] = '\n';
	if (batch.n + l.n > sizeof batch.b)
		log_delivery_flush();
	memcpy(batch.b + batch.n, l.b, l.n);
	batch.n += l.n;
	errno = saved;
}

#define API_ERRORS_PER_SECOND 100 /* more in one second are counted, not written: a flood of bad requests */

void log_api_error(const char *method, const char *path, int status, const char *code, const char *detail)
{
	static _Atomic long long window;
	static _Atomic int count;
	static _Atomic long long suppressed;
	if (LOG_INFO > log_threshold)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	long long sec = (long long)now.tv_sec, was = window;
	if (sec != was && atomic_compare_exchange_strong(&window, &was, sec))
		count = 0;
	if (++count > API_ERRORS_PER_SECOND) {
		suppressed++;
		return;
	}
	long long dropped = atomic_exchange(&suppressed, 0);
	int saved = errno;
	struct line l;
	line_start(&l, "info", "api error");
	field_str(&l, "method", method);
	field_str(&l, "path", path);
	field_int(&l, "status", status);
	field_str(&l, "code", code);
	field_str(&l, "detail", detail);
	if (dropped > 0)
		field_int(&l, "suppressed_before", dropped);
	line_end(&l);
	errno = saved;
}
