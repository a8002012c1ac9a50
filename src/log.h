/* log.h: one small log module, printf-checked (after OpenBSD log.c). */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the threshold; messages above it are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
/* --log-format json: every line one JSON object {"time","level","msg",...}; else text. */
void log_set_json(bool json);

/* One delivery outcome, logged at info as one line (text: key=value pairs; json: members). */
struct log_delivery {
	const char *app, *endpoint, *message;
	const char *outcome; /* "success", "retry" (pending again) or "fail" (no retry left) */
	int status;          /* the HTTP status, 0 when none */
	long long duration_ms;
	int attempt;         /* 1 for the first */
	const char *error;   /* the network error, or NULL */
};
void log_delivery(const struct log_delivery *d);
/* Write the outcome lines this thread has gathered (log_delivery keeps them until a pass ends, or 32 KiB). */
void log_delivery_flush(void);
/* An API answer of 400 or more, logged at info as one line. */
void log_api_error(const char *method, const char *path, int status, const char *code, const char *detail);

/* Parse "error|warn|info|debug"; returns -1 for anything else. */
int log_level_parse(const char *name);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_errorx: an error the caller handles (startup: hookd then exits 1); log_notice: what must be seen at
 * every level (the generated token). Both in --log-format's format. */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal/fatalx: for the impossible (out of memory, broken invariants); exits 1. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
