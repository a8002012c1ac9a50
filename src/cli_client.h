/* cli_client.h: the client subcommands of the hookd command line: a running server's management API from a
 * shell, through libcurl (docs/cli.md).
 *   hookd endpoints list|get|create|disable|enable|delete --app APP ...
 *   hookd messages list|get|send --app APP ...
 *   hookd attempts list --app APP (--endpoint EP | --msg MSG) [--status N]
 *   hookd resend --app APP --msg MSG --endpoint EP
 *   hookd recover --app APP --endpoint EP --since RFC3339 [--wait]
 * Every one takes --server URL (default $HOOKD_SERVER, else http://127.0.0.1:8071), --token TOKEN (default
 * $HOOKD_TOKEN, else the first line of ./data/token) and --json (print the API's answer, one JSON document, instead
 * of a table). Each takes the arguments after its name and returns the exit status: 0 ok, 1 the API answered with
 * an error (printed as "hookd: 404 not_found: Entity not found"), 2 usage error, 3 the server cannot be reached. */
#ifndef HOOKD_CLI_CLIENT_H
#define HOOKD_CLI_CLIENT_H

#include <stdio.h>

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:8071"
#define CLIENT_REPLY_MAX (16u << 20) /* answers read from the server: 16 MiB */

int cli_endpoints(int argc, char **argv);
int cli_messages(int argc, char **argv);
int cli_attempts(int argc, char **argv);
int cli_resend(int argc, char **argv);
int cli_recover(int argc, char **argv);
int cli_sources(int argc, char **argv);
/* cli_listen.c: hookd listen --app APP --forward URL: the app's messages through a poller sink, forwarded to a
 * local URL, signed; exit 0 on SIGINT/SIGTERM. */
int cli_listen(int argc, char **argv);
void cli_listen_help(FILE *f);
int cli_apps(int argc, char **argv);
/* For completion scripts: a group's verbs on one line (empty when it has none), then its flags on the next. */
void cli_client_words(FILE *f, const char *group);
int cli_event_types(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_send_example(int argc, char **argv);

#endif
