/* cli_client_int.h: what the client subcommands' three files share (private to cli_client.c, cli_http.c and
 * cli_table.c): the run's state, one answer, and the calls between the operations, the transport and the output.
 * Exit statuses as in cli_client.h: 0 ok, 1 an API error or a senseless answer, 2 usage, 3 unreachable. */
#ifndef HOOKD_CLI_CLIENT_INT_H
#define HOOKD_CLI_CLIENT_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util.h"

/* One run of a client subcommand: its flags, then the connection (client_open). */
struct client {
	char cmd[32]; /* "endpoints list", ... for messages */
	unsigned op;
	const char *server, *token_flag, *app, *url, *uid, *description, *data, *endpoint, *msg, *since, *event_id;
	const char *request; /* sources replay --request */
	const char *name;    /* apps create --name */
	char since_buf[RFC3339_LEN]; /* --since as RFC 3339, whatever form it was given in */
	const char *arg; /* the positional EP or MSG */
	struct strlist event_types, channels;
	long limit, status;
	bool json, wait, has_status;
	char *base;  /* the server URL without trailing slashes */
	char *token; /* owned, wiped at the end; NULL: no Authorization header */
	const char *token_from; /* where the token came from, for a 401's message; NULL: nowhere */
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

/* One answer: the HTTP status and the body (NUL-terminated when not empty). */
struct reply {
	long status;
	struct buf body;
};

/* A table column: its title and the field of each row shown in it. */
struct column {
	const char *title, *field;
	bool ms; /* a duration in milliseconds */
};

/* A JSON string's text, or dflt when it is not a string. */
static inline const char *str_or(const json_t *j, const char *dflt)
{
	const char *s = json_string_value(j);
	return s != NULL ? s : dflt;
}

/* ---- cli_http.c: the transport and the API's errors ---- */

/* The server and token from the flags, the environment or the defaults; the curl handle and its headers. */
int client_open(struct client *c);
/* Everything client_open and the flags made; the token is wiped. */
void client_dispose(struct client *c);
/* "app/<app>/endpoint/<ep>": the segments, each percent-encoded, joined; NULL ends the list. Malloc'd. */
char *client_path(struct client *c, ...);
/* "&key=value" onto a query string (the first without "&"); value percent-encoded. */
void client_query_add(struct client *c, struct buf *q, const char *key, const char *value);
/* One request. Returns 0 with the answer in r (any status; the caller disposes r->body), or the exit status after
 * a message: 3 when the server cannot be reached, 1 when its answer is over the cap. */
int client_request(struct client *c, const char *method, const char *path, const char *query, const char *body,
		   struct reply *r);
/* A request whose answer must be 2xx: an error answer is printed (1); a body is parsed into *out when out is not
 * NULL (NULL for an empty body). The caller disposes r->body. */
int client_call(struct client *c, const char *method, const char *path, const char *query, const char *body,
		struct reply *r, json_t **out);
/* Every page of a list, following iterator until done or --limit items; filter is the query without limit and
 * iterator. *out gets the last page with all the items in "data". */
int client_list(struct client *c, const char *path, const struct buf *filter, json_t **out);

/* ---- cli_table.c: output ---- */

/* Text from the server, on one line and without control characters (a peer must not drive the terminal). */
void client_put_clean(FILE *f, const char *s, size_t n);
/* --json: the answer's body as it came, one document (an empty answer is {}). */
int client_print_raw(const struct reply *r);
/* DELETE path (taken and freed) and print "deleted <arg>", or the answer with --json. */
int client_delete(struct client *c, char *path);
/* j as compact JSON on one line. */
int client_print_json(const json_t *j);
#define CLIENT_COLS_MAX 10
/* The rows (objects) as aligned columns under a header (ncols <= CLIENT_COLS_MAX), by display width. */
int client_print_table(const json_t *rows, const struct column *cols, size_t ncols);
/* One object as "field  value" lines, in the answer's order. */
int client_print_object(const json_t *obj);
/* The answer of a call for one object: raw with --json, else as field lines. */
int client_show_object(const struct client *c, const struct reply *r, const json_t *obj);
/* ---- cli_client.c: a call and its output together ---- */

/* A call answering one object, shown; path is taken (freed). */
int client_call_show(struct client *c, const char *method, char *path, const char *body);
/* A list shown as a table, or as one JSON document with --json; path and filter are taken. */
int client_list_show(struct client *c, char *path, struct buf *filter, const struct column *cols, size_t ncols);

/* A string member of a request body; -1 if the string is not UTF-8. */
int client_set_string(json_t *obj, const char *key, const char *value);

/* ---- cli_apps.c: apps, event types, a test message (each returns the exit status) ---- */

int client_app_list(struct client *c);
int client_app_get(struct client *c);
int client_app_create(struct client *c);
int client_app_delete(struct client *c);
int client_et_list(struct client *c);
int client_et_get(struct client *c);
int client_et_create(struct client *c);
int client_ep_test(struct client *c);

#endif
