/* cli_client.c: hookd endpoints, messages, attempts, resend, recover and sources (apps, event-types and test are
 * in cli_apps.c, dispatched from the table here): a running server's management API
 * (docs/api.md) from a shell, for people (tables) and scripts (--json: the API's answer, one document on stdout).
 * This file holds the operations; cli_http.c the transport, cli_table.c the output. Like cli.c, flags
 * come from one table that names the operations taking each; unlike sign and verify, get-style operations also
 * take one positional argument (the endpoint or message). Exit status: 0 ok, 1 an API error (its code and detail
 * on stderr) or an answer that makes no sense, 2 usage, 3 the server cannot be reached. */
#include "cli_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_client_int.h"
#include "hookd.h"
#include "util.h"

/* ---- calls shown: the transport (cli_http.c) feeding the output (cli_table.c) ---- */

/* A call answering one object, shown. */
int client_call_show(struct client *c, const char *method, char *path, const char *body)
{
	struct reply r;
	json_t *j = NULL;
	int rc = client_call(c, method, path, NULL, body, &r, &j);
	if (rc == 0)
		rc = client_show_object(c, &r, j);
	json_decref(j);
	buf_dispose(&r.body);
	free(path);
	return rc;
}

/* A list shown as a table, or as one JSON document with --json. */
int client_list_show(struct client *c, char *path, struct buf *filter, const struct column *cols, size_t ncols)
{
	json_t *j;
	int rc = client_list(c, path, filter, &j);
	if (rc == 0)
		rc = c->json ? client_print_json(j) : client_print_table(json_object_get(j, "data"), cols, ncols);
	json_decref(j);
	buf_dispose(filter);
	free(path);
	return rc;
}


#define LIMIT_DEFAULT 50     /* what a list fetches, across pages, without --limit */
#define LIMIT_MAX 1000000    /* --limit's ceiling; the answer cap (16 MiB) usually comes first */
#define POLL_MS 500          /* recover --wait: between two looks at the background task */

/* The operations, as bits so that the flag table can name the ones taking each flag. */
enum {
	EP_LIST = 1u << 0,
	EP_GET = 1u << 1,
	EP_CREATE = 1u << 2,
	EP_DISABLE = 1u << 3,
	EP_ENABLE = 1u << 4,
	EP_DELETE = 1u << 5,
	MSG_LIST = 1u << 6,
	MSG_GET = 1u << 7,
	MSG_SEND = 1u << 8,
	ATT_LIST = 1u << 9,
	RESEND = 1u << 10,
	RECOVER = 1u << 11,
	SRC_LIST = 1u << 12,
	SRC_GET = 1u << 13,
	SRC_REQUESTS = 1u << 14,
	SRC_REPLAY = 1u << 15,
	APP_LIST = 1u << 16,
	APP_GET = 1u << 17,
	APP_CREATE = 1u << 18,
	APP_DELETE = 1u << 19,
	ET_LIST = 1u << 20,
	ET_GET = 1u << 21,
	ET_CREATE = 1u << 22,
	EP_TEST = 1u << 23,
};
#define OPS_ALL 0xffffffu
#define OPS_APP (APP_LIST | APP_GET | APP_CREATE | APP_DELETE)
#define OPS_ET (ET_LIST | ET_GET | ET_CREATE)
/* no --app: inbound sources, apps themselves and event types */
#define OPS_SRC (SRC_LIST | SRC_GET | SRC_REQUESTS | SRC_REPLAY | OPS_APP | OPS_ET)
#define OPS_LIST (EP_LIST | MSG_LIST | ATT_LIST | SRC_LIST | SRC_REQUESTS | APP_LIST | ET_LIST)

/* ---- flags ---- */


static const struct {
	const char *name;
	unsigned ops;
	bool value; /* takes a value */
} flags[] = {
	{"--server", OPS_ALL, true},
	{"--token", OPS_ALL, true},
	{"--json", OPS_ALL, false},
	{"--app", OPS_ALL & ~OPS_SRC, true},
	{"--url", EP_CREATE, true},
	{"--event-type", EP_CREATE | MSG_LIST | MSG_SEND | EP_TEST, true},
	{"--channel", EP_CREATE | MSG_SEND, true},
	{"--uid", EP_CREATE | APP_CREATE, true},
	{"--name", APP_CREATE, true},
	{"--description", EP_CREATE | ET_CREATE, true},
	{"--limit", OPS_LIST, true},
	{"--data", MSG_SEND, true},
	{"--event-id", MSG_SEND, true},
	{"--endpoint", ATT_LIST | RESEND | RECOVER, true},
	{"--msg", ATT_LIST | RESEND, true},
	{"--status", ATT_LIST, true},
	{"--since", RECOVER | SRC_REPLAY | MSG_LIST, true},
	{"--wait", RECOVER | SRC_REPLAY, false},
	{"--request", SRC_REPLAY, true},
};

/* The flag's index, or -1 if the operation does not take it. */
static int flag_find(const char *name, size_t n, unsigned op)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0)
			return (flags[i].ops & op) != 0 ? (int)i : -1;
	return -1;
}

/* Digits only, in [min, max]. */
static bool parse_long(const char *s, long min, long max, long *v)
{
	long n = 0;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (*s - '0');
		if (n > max) /* max is small: n * 10 + 9 cannot overflow on the way */
			return false;
	}
	if (n < min)
		return false;
	*v = n;
	return true;
}

/* A delivery status by name, as statusText says it (and "failed", "cancelled"); -1 if none. */
static long status_from_name(const char *v)
{
	static const char *names[][2] = {
		{"success", "succeeded"}, {"pending", "queued"}, {"fail", "failed"}, {"sending", "sending"},
		{"canceled", "cancelled"},
	};
	for (long i = 0; i < 5; i++)
		if (strcasecmp(v, names[i][0]) == 0 || strcasecmp(v, names[i][1]) == 0)
			return i;
	return -1;
}

static int set_flag(struct client *c, const char *flag, const char *v)
{
	if (strcmp(flag, "--server") == 0)
		c->server = v;
	else if (strcmp(flag, "--token") == 0)
		c->token_flag = v;
	else if (strcmp(flag, "--json") == 0)
		c->json = true;
	else if (strcmp(flag, "--wait") == 0)
		c->wait = true;
	else if (strcmp(flag, "--app") == 0)
		c->app = v;
	else if (strcmp(flag, "--url") == 0)
		c->url = v;
	else if (strcmp(flag, "--event-type") == 0)
		strlist_add(&c->event_types, v);
	else if (strcmp(flag, "--channel") == 0)
		strlist_add(&c->channels, v);
	else if (strcmp(flag, "--uid") == 0)
		c->uid = v;
	else if (strcmp(flag, "--name") == 0)
		c->name = v;
	else if (strcmp(flag, "--description") == 0)
		c->description = v;
	else if (strcmp(flag, "--data") == 0)
		c->data = v;
	else if (strcmp(flag, "--event-id") == 0)
		c->event_id = v;
	else if (strcmp(flag, "--endpoint") == 0)
		c->endpoint = v;
	else if (strcmp(flag, "--msg") == 0)
		c->msg = v;
	else if (strcmp(flag, "--since") == 0)
		c->since = v;
	else if (strcmp(flag, "--request") == 0)
		c->request = v;
	else if (strcmp(flag, "--limit") == 0) {
		if (!parse_long(v, 1, LIMIT_MAX, &c->limit))
			return cli_usage(c->cmd, "--limit '%s': expected a number from 1 to %d", v, LIMIT_MAX);
	} else if (strcmp(flag, "--status") == 0) {
		if (!parse_long(v, 0, 4, &c->status) && (c->status = status_from_name(v)) < 0)
			return cli_usage(c->cmd, "--status '%s': expected success (0), pending (1), fail (2), sending (3) "
					      "or canceled (4)",
					   v);
		c->has_status = true;
	}
	return 0;
}

/* "--flag value", "--flag=value", "--switch", and at most one positional argument for the operations that take
 * one (takes_arg). Returns 0, or the exit status of a usage error. */
static int parse_args(struct client *c, bool takes_arg, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		if (strncmp(arg, "--", 2) != 0) {
			if (!takes_arg || c->arg != NULL)
				return cli_usage(c->cmd, "unexpected argument '%s'", arg);
			c->arg = arg;
			continue;
		}
		size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		int f = flag_find(arg, n, c->op);
		if (f < 0)
			return cli_usage(c->cmd, "unknown option '%.*s'", (int)n, arg);
		if (!flags[f].value && eq != NULL)
			return cli_usage(c->cmd, "%s takes no value", flags[f].name);
		if (flags[f].value && eq == NULL && i + 1 == argc)
			return cli_usage(c->cmd, "%s needs a value", arg);
		const char *v = !flags[f].value ? "" : eq != NULL ? eq + 1 : argv[++i];
		int rc = set_flag(c, flags[f].name, v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* What each operation cannot do without. */
static int check_since(struct client *c)
{
	int64_t ms;
	if (cli_time_parse(c->since, (int64_t)time(NULL) * 1000, &ms) != 0)
		return cli_usage(c->cmd, "--since '%s': expected a time like 2026-11-23T10:00:00Z or 2026-11-23 (UTC), "
				      "or an age like 90s, 30m, 1h, 2d, 1w",
				   c->since);
	if (rfc3339_parse(c->since, &ms) != 0) { /* a day or an age: sent as the time it means */
		cli_time_parse(c->since, (int64_t)time(NULL) * 1000, &ms);
		rfc3339_format(ms, c->since_buf);
		c->since = c->since_buf;
	}
	return 0;
}

static int check_args(struct client *c, const char *arg_name)
{
	if ((c->op & OPS_SRC) == 0 && (c->app == NULL || c->app[0] == '\0'))
		return cli_usage(c->cmd, "--app is required");
	if (c->op == APP_CREATE && c->name == NULL)
		return cli_usage(c->cmd, "--name is required");
	if (c->op == ET_CREATE && c->description == NULL)
		return cli_usage(c->cmd, "--description is required");
	if (arg_name != NULL && (c->arg == NULL || c->arg[0] == '\0'))
		return cli_usage(c->cmd, "expected the %s", arg_name);
	if (c->op == EP_CREATE && c->url == NULL)
		return cli_usage(c->cmd, "--url is required");
	if (c->op == MSG_SEND && c->event_types.n != 1)
		return cli_usage(c->cmd, "expected one --event-type");
	if (c->op == ATT_LIST && c->endpoint == NULL && c->msg == NULL)
		return cli_usage(c->cmd, "--endpoint or --msg is required");
	if ((c->op == RESEND || c->op == RECOVER) && c->endpoint == NULL)
		return cli_usage(c->cmd, "--endpoint is required");
	if (c->op == RESEND && c->msg == NULL)
		return cli_usage(c->cmd, "--msg is required");
	if (c->op == RECOVER && c->since == NULL)
		return cli_usage(c->cmd, "--since is required");
	if (c->op == SRC_REPLAY && (c->since == NULL) == (c->request == NULL))
		return cli_usage(c->cmd, "expected --request REQ (one request) or --since TIME (every one since then)");
	if (c->op == SRC_REPLAY && c->request != NULL && c->wait)
		return cli_usage(c->cmd, "--wait goes with --since (a window is a background task)");
	return c->since != NULL ? check_since(c) : 0;
}

/* ---- request bodies ---- */

/* A string member; -1 if the string is not UTF-8 (jansson takes nothing else). */
int client_set_string(json_t *obj, const char *key, const char *value)
{
	return value == NULL ? 0 : json_object_set_new(obj, key, json_string(value));
}

static int set_strlist(json_t *obj, const char *key, const struct strlist *l)
{
	if (l->n == 0)
		return 0;
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			return -1;
		}
	return json_object_set_new(obj, key, a);
}

/* ---- the operations ---- */

static const struct column endpoint_cols[] = {
	{"ID", "id", false}, {"UID", "uid", false}, {"URL", "url", false},
	{"DISABLED", "disabled", false}, {"EVENT TYPES", "eventTypes", false},
};

static const struct column message_cols[] = {
	{"ID", "id", false}, {"EVENT TYPE", "eventType", false},
	{"EVENT ID", "eventId", false}, {"TIMESTAMP", "timestamp", false},
};

static const struct column attempt_cols[] = {
	{"ID", "id", false},
	{"MSG", "msgId", false},
	{"ENDPOINT", "endpointId", false},
	{"STATUS", "statusText", false},
	{"CODE", "responseStatusCode", false},
	{"DURATION", "responseDurationMs", true},
	{"TIMESTAMP", "timestamp", false},
	{"NEXT ATTEMPT", "next", false},
	{"ERROR", "error", false},
};

static int ep_list(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	return client_list_show(c, client_path(c, "app", c->app, "endpoint", NULL), &q, endpoint_cols,
				sizeof endpoint_cols / sizeof endpoint_cols[0]);
}

static int ep_get(struct client *c)
{
	return client_call_show(c, "GET", client_path(c, "app", c->app, "endpoint", c->arg, NULL), NULL);
}

static int ep_create(struct client *c)
{
	json_t *body = json_object();
	if (client_set_string(body, "url", c->url) != 0 || client_set_string(body, "uid", c->uid) != 0 ||
	    client_set_string(body, "description", c->description) != 0 ||
	    set_strlist(body, "eventTypes", &c->event_types) != 0 || set_strlist(body, "channels", &c->channels) != 0) {
		json_decref(body);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = client_call_show(c, "POST", client_path(c, "app", c->app, "endpoint", NULL), text);
	free(text);
	return rc;
}

static int ep_set_disabled(struct client *c, bool disabled)
{
	return client_call_show(c, "PATCH", client_path(c, "app", c->app, "endpoint", c->arg, NULL),
				disabled ? "{\"disabled\":true}" : "{\"disabled\":false}");
}

static int ep_disable(struct client *c) { return ep_set_disabled(c, true); }

static int ep_enable(struct client *c) { return ep_set_disabled(c, false); }

int client_delete(struct client *c, char *path)
{
	struct reply r;
	int rc = client_call(c, "DELETE", path, NULL, NULL, &r, NULL);
	if (rc == 0 && c->json)
		rc = client_print_raw(&r);
	else if (rc == 0) {
		fputs("deleted ", stdout);
		client_put_clean(stdout, c->arg, strlen(c->arg));
		fputc('\n', stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
	}
	buf_dispose(&r.body);
	free(path);
	return rc;
}

static int ep_delete(struct client *c)
{
	return client_delete(c, client_path(c, "app", c->app, "endpoint", c->arg, NULL));
}

static int msg_list(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	for (size_t i = 0; i < c->event_types.n; i++)
		client_query_add(c, &q, "event_types", c->event_types.v[i]);
	if (c->since != NULL)
		client_query_add(c, &q, "after", c->since);
	if (!c->json) /* the table has no room for payloads */
		client_query_add(c, &q, "with_content", "false");
	return client_list_show(c, client_path(c, "app", c->app, "msg", NULL), &q, message_cols,
				sizeof message_cols / sizeof message_cols[0]);
}

static int msg_get(struct client *c)
{
	return client_call_show(c, "GET", client_path(c, "app", c->app, "msg", c->arg, NULL), NULL);
}

/* The payload: --data, or stdin (up to CLI_BODY_MAX); checked to be JSON here and sent as its bytes. */
static int read_payload(struct client *c, struct buf *p)
{
	buf_init(p, CLI_BODY_MAX);
	if (c->data != NULL) {
		if (buf_append(p, c->data, strlen(c->data)) < 0)
			return cli_usage(c->cmd, "--data is larger than %u bytes", CLI_BODY_MAX);
	} else if (isatty(STDIN_FILENO)) {
		return cli_usage(c->cmd, "give the payload with --data JSON or on stdin");
	} else {
		char chunk[65536];
		ssize_t n;
		while ((n = read(STDIN_FILENO, chunk, sizeof chunk)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "hookd %s: reading the payload from stdin: %s\n", c->cmd, strerror(errno));
				return 2;
			}
			if (buf_append(p, chunk, (size_t)n) < 0)
				return cli_usage(c->cmd, "the payload on stdin is larger than %u bytes", CLI_BODY_MAX);
		}
	}
	const char *from = c->data != NULL ? "--data" : "the payload on stdin";
	json_error_t err;
	json_t *j = p->len > 0 ? json_loadb(p->data, p->len, 0, &err) : NULL;
	if (p->len == 0)
		return cli_usage(c->cmd, "%s is empty", from);
	if (j == NULL)
		return cli_usage(c->cmd, "%s is not JSON (line %d: %s)", from, err.line, err.text);
	json_decref(j);
	return 0;
}

static int msg_send(struct client *c)
{
	struct buf payload, body;
	int rc = read_payload(c, &payload);
	if (rc != 0) {
		buf_dispose(&payload);
		return rc;
	}
	json_t *head = json_object();
	if (client_set_string(head, "eventType", c->event_types.v[0]) != 0 || client_set_string(head, "eventId", c->event_id) != 0 ||
	    set_strlist(head, "channels", &c->channels) != 0) {
		json_decref(head);
		buf_dispose(&payload);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	/* {"eventType":...,"payload":<the bytes as given>}: the server keeps a payload exactly as sent */
	char *text = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	buf_init(&body, 2 * (size_t)CLI_BODY_MAX);
	buf_append(&body, text, strlen(text) - 1);
	buf_append(&body, ",\"payload\":", 11);
	buf_append(&body, payload.data, payload.len);
	buf_append(&body, "}", 1);
	free(text);
	buf_dispose(&payload);
	rc = client_call_show(c, "POST", client_path(c, "app", c->app, "msg", NULL), body.data);
	buf_dispose(&body);
	return rc;
}

/* The first line of a failed attempt's response (the receiver's body, or the network error), at most
 * ERROR_CELL_MAX bytes cut on a UTF-8 boundary; "-" for a success. */
#define ERROR_CELL_MAX 60
static json_t *error_cell(const json_t *row)
{
	const char *resp = str_or(json_object_get(row, "response"), "");
	if (json_integer_value(json_object_get(row, "status")) == 0 || resp[0] == '\0')
		return json_string("-");
	size_t n = strcspn(resp, "\r\n");
	if (n > ERROR_CELL_MAX) {
		n = ERROR_CELL_MAX;
		while (n > 0 && ((unsigned char)resp[n] & 0xc0) == 0x80)
			n--;
	}
	return json_stringn(resp, n);
}

/* The next attempt of each (message, endpoint) pair still pending: the deliveries behind the attempts (the
 * message's destinations, keyed by endpoint id, or the endpoint's messages, keyed by message id). */
static json_t *next_attempts(struct client *c)
{
	json_t *page = NULL, *next = json_object();
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	char *path = c->msg != NULL ? client_path(c, "app", c->app, "msg", c->msg, "endpoint", NULL)
				    : client_path(c, "app", c->app, "endpoint", c->endpoint, "msg", NULL);
	if (c->msg == NULL) { /* only the pending ones have a next attempt */
		client_query_add(c, &q, "status", "1");
		client_query_add(c, &q, "with_content", "false");
	}
	if (client_list(c, path, &q, &page) == 0) {
		size_t i;
		json_t *d;
		json_array_foreach(json_object_get(page, "data"), i, d) {
			const json_t *at = json_object_get(d, "nextAttempt");
			const char *id = json_string_value(json_object_get(d, "id"));
			if (json_is_string(at) && id != NULL)
				json_object_set(next, id, (json_t *)at);
		}
	}
	json_decref(page);
	buf_dispose(&q);
	free(path);
	return next;
}

static int att_list(struct client *c)
{
	struct buf q;
	char *path;
	buf_init(&q, CLIENT_REPLY_MAX);
	if (c->msg != NULL) {
		path = client_path(c, "app", c->app, "attempt", "msg", c->msg, NULL);
		if (c->endpoint != NULL)
			client_query_add(c, &q, "endpoint_id", c->endpoint);
	} else {
		path = client_path(c, "app", c->app, "attempt", "endpoint", c->endpoint, NULL);
	}
	if (c->has_status) {
		char n[8];
		snprintf(n, sizeof n, "%ld", c->status);
		client_query_add(c, &q, "status", n);
	}
	if (c->json)
		return client_list_show(c, path, &q, attempt_cols, sizeof attempt_cols / sizeof attempt_cols[0]);
	/* the table: each attempt with its error, and the pair's next attempt on its newest attempt */
	json_t *j;
	int rc = client_list(c, path, &q, &j);
	buf_dispose(&q);
	free(path);
	if (rc != 0)
		return rc;
	json_t *next = next_attempts(c), *rows = json_object_get(j, "data"), *row;
	size_t i;
	json_array_foreach(rows, i, row) {
		const char *key = str_or(json_object_get(row, c->msg != NULL ? "endpointId" : "msgId"), "");
		json_object_set_new(row, "error", error_cell(row));
		json_t *at = json_object_get(next, key);
		json_object_set(row, "next", at != NULL ? at : json_null());
		if (at != NULL) /* the newest attempt of the pair only */
			json_object_del(next, key);
	}
	rc = client_print_table(rows, attempt_cols, sizeof attempt_cols / sizeof attempt_cols[0]);
	json_decref(next);
	json_decref(j);
	return rc;
}

static int do_resend(struct client *c)
{
	struct reply r;
	char *path = client_path(c, "app", c->app, "msg", c->msg, "endpoint", c->endpoint, "resend", NULL);
	int rc = client_call(c, "POST", path, NULL, "", &r, NULL);
	if (rc == 0 && c->json)
		rc = client_print_raw(&r);
	else if (rc == 0) {
		fputs("resending ", stdout);
		client_put_clean(stdout, c->msg, strlen(c->msg));
		fputs(" to ", stdout);
		client_put_clean(stdout, c->endpoint, strlen(c->endpoint));
		fputc('\n', stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
	}
	buf_dispose(&r.body);
	free(path);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Poll GET /background-task/{id} until it is finished or failed, showing progress on stderr when it changes.
 * *task gets the last answer. */
static int wait_task(struct client *c, const char *id, json_t **task)
{
	char *path = client_path(c, "background-task", id, NULL);
	char last[128] = "";
	int rc;
	for (;;) {
		struct reply r;
		json_decref(*task);
		rc = client_call(c, "GET", path, NULL, NULL, &r, task);
		buf_dispose(&r.body);
		if (rc != 0)
			break;
		const char *status = json_string_value(json_object_get(*task, "status"));
		if (status == NULL) {
			fprintf(stderr, "hookd: %s answered a background task without a status\n", c->base);
			rc = 1;
			break;
		}
		json_t *processed = json_object_get(json_object_get(*task, "data"), "processed");
		char now[128];
		if (json_is_integer(processed))
			snprintf(now, sizeof now, "%.40s, %" JSON_INTEGER_FORMAT " processed", status,
				 json_integer_value(processed));
		else
			snprintf(now, sizeof now, "%.40s", status);
		if (strcmp(now, last) != 0) {
			fprintf(stderr, "hookd %s: %s ", c->cmd, id);
			client_put_clean(stderr, now, sizeof now);
			fputc('\n', stderr);
			memcpy(last, now, sizeof last);
		}
		if (strcmp(status, "finished") == 0)
			break;
		if (strcmp(status, "failed") == 0) {
			rc = 1;
			break;
		}
		sleep_ms(POLL_MS);
	}
	free(path);
	return rc;
}

/* POST {"since"} to path (taken), which starts a background task; show it, or with --wait follow it to its end. */
static int post_task(struct client *c, char *path)
{
	struct reply r;
	json_t *task = NULL, *body = json_object();
	if (client_set_string(body, "since", c->since) != 0) {
		json_decref(body);
		free(path);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = client_call(c, "POST", path, NULL, text, &r, &task);
	free(text);
	free(path);
	if (rc == 0 && !c->wait) {
		rc = client_show_object(c, &r, task);
	} else if (rc == 0) {
		const char *id = json_string_value(json_object_get(task, "id"));
		if (id == NULL) {
			fprintf(stderr, "hookd: %s answered %ld without a task id\n", c->base, r.status);
			rc = 1;
		} else {
			char *tid = xstrdup(id);
			rc = wait_task(c, tid, &task);
			if (task != NULL && rc != 3) {
				int out = c->json ? client_print_json(task) : client_print_object(task);
				rc = rc != 0 ? rc : out;
			}
			if (rc == 1 && json_is_object(task) &&
			    strcmp(str_or(json_object_get(task, "status"), ""), "failed") == 0)
				fprintf(stderr, "hookd: background task %s failed\n", tid);
			free(tid);
		}
	}
	json_decref(task);
	buf_dispose(&r.body);
	return rc;
}

static int do_recover(struct client *c)
{
	return post_task(c, client_path(c, "app", c->app, "endpoint", c->endpoint, "recover", NULL));
}

/* ---- inbound sources ---- */

static const struct column source_cols[] = {
	{"ID", "id", false}, {"UID", "uid", false}, {"NAME", "name", false}, {"SCHEME", "scheme", false},
};

static const struct column request_cols[] = {
	{"ID", "id", false},
	{"RECEIVED", "receivedAt", false},
	{"VERIFICATION", "verification", false},
	{"DUPLICATE", "duplicate", false},
	{"FORWARD", "forwardStatus", false},
	{"EVENT ID", "dedupKey", false},
};

static int src_list(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	return client_list_show(c, client_path(c, "source", NULL), &q, source_cols,
				sizeof source_cols / sizeof source_cols[0]);
}

static int src_get(struct client *c)
{
	return client_call_show(c, "GET", client_path(c, "source", c->arg, NULL), NULL);
}

static int src_requests(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	return client_list_show(c, client_path(c, "source", c->arg, "request", NULL), &q, request_cols,
				sizeof request_cols / sizeof request_cols[0]);
}

/* One received request again (--request), or every one received since a time (--since, a background task). */
static int src_replay(struct client *c)
{
	if (c->request != NULL)
		return client_call_show(c, "POST", client_path(c, "source", c->arg, "request", c->request, "replay", NULL),
					"{}");
	return post_task(c, client_path(c, "source", c->arg, "replay", NULL));
}

/* ---- the subcommands ---- */

static const struct op {
	const char *group, *verb; /* verb NULL: the group is the operation */
	unsigned op;
	const char *arg; /* the positional argument it needs, or NULL */
	int (*run)(struct client *);
} ops[] = {
	{"endpoints", "list", EP_LIST, NULL, ep_list},
	{"endpoints", "get", EP_GET, "endpoint (id or uid)", ep_get},
	{"endpoints", "create", EP_CREATE, NULL, ep_create},
	{"endpoints", "disable", EP_DISABLE, "endpoint (id or uid)", ep_disable},
	{"endpoints", "enable", EP_ENABLE, "endpoint (id or uid)", ep_enable},
	{"endpoints", "delete", EP_DELETE, "endpoint (id or uid)", ep_delete},
	{"messages", "list", MSG_LIST, NULL, msg_list},
	{"messages", "get", MSG_GET, "message (id or eventId)", msg_get},
	{"messages", "send", MSG_SEND, NULL, msg_send},
	{"attempts", "list", ATT_LIST, NULL, att_list},
	{"resend", NULL, RESEND, NULL, do_resend},
	{"recover", NULL, RECOVER, NULL, do_recover},
	{"sources", "list", SRC_LIST, NULL, src_list},
	{"sources", "get", SRC_GET, "source (id or uid)", src_get},
	{"sources", "requests", SRC_REQUESTS, "source (id or uid)", src_requests},
	{"sources", "replay", SRC_REPLAY, "source (id or uid)", src_replay},
	{"apps", "list", APP_LIST, NULL, client_app_list},
	{"apps", "get", APP_GET, "app (id or uid)", client_app_get},
	{"apps", "create", APP_CREATE, NULL, client_app_create},
	{"apps", "delete", APP_DELETE, "app (id or uid)", client_app_delete},
	{"event-types", "list", ET_LIST, NULL, client_et_list},
	{"event-types", "get", ET_GET, "event type name", client_et_get},
	{"event-types", "create", ET_CREATE, "event type name", client_et_create},
	{"test", NULL, EP_TEST, "endpoint (id or uid)", client_ep_test},
	{"send-example", NULL, EP_TEST, "endpoint (id or uid)", client_ep_test},
};

static int client_main(const char *group, int argc, char **argv)
{
	struct client c = {.limit = LIMIT_DEFAULT};
	const struct op *o = NULL;
	bool has_verbs = false;
	snprintf(c.cmd, sizeof c.cmd, "%s", group);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (strcmp(ops[i].group, group) != 0)
			continue;
		has_verbs = ops[i].verb != NULL;
		if (!has_verbs || (argc > 0 && strcmp(argv[0], ops[i].verb) == 0)) {
			o = &ops[i];
			break;
		}
	}
	if (o == NULL) {
		char verbs[128] = "";
		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
			if (strcmp(ops[i].group, group) == 0)
				snprintf(verbs + strlen(verbs), sizeof verbs - strlen(verbs), "%s%s", verbs[0] ? "|" : "",
					 ops[i].verb);
		if (argc == 0)
			return cli_usage(c.cmd, "expected 'hookd %s %s ...'", group, verbs);
		return cli_usage(c.cmd, "unknown command '%s' (expected %s)", argv[0], verbs);
	}
	if (has_verbs) {
		snprintf(c.cmd, sizeof c.cmd, "%s %s", group, o->verb);
		argc--;
		argv++;
	}
	c.op = o->op;
	int rc = parse_args(&c, o->arg != NULL, argc, argv);
	if (rc == 0)
		rc = check_args(&c, o->arg);
	if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("hookd: cannot start libcurl\n", stderr);
		rc = 1;
	} else if (rc == 0) {
		rc = client_open(&c);
		if (rc == 0)
			rc = o->run(&c);
		client_dispose(&c);
		curl_global_cleanup();
		return rc;
	}
	client_dispose(&c);
	return rc;
}

int cli_endpoints(int argc, char **argv) { return client_main("endpoints", argc, argv); }

int cli_messages(int argc, char **argv) { return client_main("messages", argc, argv); }

int cli_attempts(int argc, char **argv) { return client_main("attempts", argc, argv); }

int cli_resend(int argc, char **argv) { return client_main("resend", argc, argv); }

int cli_recover(int argc, char **argv) { return client_main("recover", argc, argv); }

int cli_sources(int argc, char **argv) { return client_main("sources", argc, argv); }

int cli_apps(int argc, char **argv) { return client_main("apps", argc, argv); }

int cli_event_types(int argc, char **argv) { return client_main("event-types", argc, argv); }

int cli_test(int argc, char **argv) { return client_main("test", argc, argv); }

int cli_send_example(int argc, char **argv) { return client_main("send-example", argc, argv); }

void cli_client_words(FILE *f, const char *group)
{
	unsigned ops_of = 0;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(ops[i].group, group) == 0) {
			ops_of |= ops[i].op;
			if (ops[i].verb != NULL)
				fprintf(f, "%s ", ops[i].verb);
		}
	fputc('\n', f);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if ((flags[i].ops & ops_of) != 0)
			fprintf(f, "%s ", flags[i].name);
	fputc('\n', f);
}
