/* cli.h: the signature subcommands of the hookd command line, on top of libhookd.
 *   hookd sign   --scheme S --secret K [...] < body      prints "Name: value" lines
 *   hookd verify --scheme S --secret K --header 'N: v' ... < body   prints "ok", or why on stderr
 *   hookd secret new [--scheme S]                        prints a fresh secret (ed25519: and its public key)
 * Each takes the arguments after its name and returns the exit status: 0 ok, 1 verification failed, 2 usage or
 * input error. */
#ifndef HOOKD_CLI_H
#define HOOKD_CLI_H

#include <stdint.h>
#include <stdio.h>

#define CLI_BODY_MAX (16u << 20) /* bodies read from stdin: 16 MiB */

/* A usage error of a subcommand: "hookd CMD: message (see hookd --help)" on stderr; returns exit status 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A time as the client commands take it: RFC 3339, a day "2026-11-23" (midnight UTC), or an age before now_ms
 * ("90s", "30m", "1h", "2d", "1w"). Returns 0 with *ms, or -1. */
int cli_time_parse(const char *s, int64_t now_ms, int64_t *ms);

/* For completion scripts: the flags of sign, verify or secret on one line. */
void cli_sig_words(FILE *f, const char *cmd);

int cli_sign(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_secret(int argc, char **argv);

#endif
