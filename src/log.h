/* log.h: one small log module, printf-checked (after OpenBSD log.c). */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the threshold; messages above it are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
/* Parse "error|warn|info|debug"; returns -1 for anything else. */
int log_level_parse(const char *name);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal/fatalx: for the impossible (out of memory, broken invariants); exits 1. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
