/* log.c: timestamped lines on stderr; one write per line so threads don't interleave. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_threshold = LOG_INFO;

void log_set_level(enum log_level level) { log_threshold = (int)level; }

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
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tag);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (m > 0)
		n = (size_t)(n + m) >= sizeof line - 1 ? (int)sizeof line - 2 : n + m;
	if (with_errno) {
		m = snprintf(line + n, sizeof line - (size_t)n, ": %s", strerror(saved));
		if (m > 0)
			n = (size_t)(n + m) >= sizeof line - 1 ? (int)sizeof line - 2 : n + m;
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
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
