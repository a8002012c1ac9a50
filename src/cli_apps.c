/* cli_apps.c: hookd apps, hookd event-types and hookd test (send-example): the objects around endpoints and
 * messages, from a shell; the operations table in cli_client.c dispatches here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "cli_client_int.h"
#include "util.h"

static const struct column app_cols[] = {
	{"ID", "id", false}, {"UID", "uid", false}, {"NAME", "name", false}, {"CREATED", "createdAt", false},
};

static const struct column event_type_cols[] = {
	{"NAME", "name", false}, {"DESCRIPTION", "description", false}, {"ARCHIVED", "archived", false},
	{"DEPRECATED", "deprecated", false},
};

int client_app_list(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	return client_list_show(c, client_path(c, "app", NULL), &q, app_cols, sizeof app_cols / sizeof app_cols[0]);
}

int client_app_get(struct client *c) { return client_call_show(c, "GET", client_path(c, "app", c->arg, NULL), NULL); }

int client_app_create(struct client *c)
{
	json_t *body = json_object();
	if (client_set_string(body, "name", c->name) != 0 || client_set_string(body, "uid", c->uid) != 0) {
		json_decref(body);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = client_call_show(c, "POST", client_path(c, "app", NULL), text);
	free(text);
	return rc;
}

int client_app_delete(struct client *c) { return client_delete(c, client_path(c, "app", c->arg, NULL)); }

int client_et_list(struct client *c)
{
	struct buf q;
	buf_init(&q, CLIENT_REPLY_MAX);
	return client_list_show(c, client_path(c, "event-type", NULL), &q, event_type_cols,
				sizeof event_type_cols / sizeof event_type_cols[0]);
}

int client_et_get(struct client *c)
{
	return client_call_show(c, "GET", client_path(c, "event-type", c->arg, NULL), NULL);
}

int client_et_create(struct client *c)
{
	json_t *body = json_object();
	if (client_set_string(body, "name", c->arg) != 0 || client_set_string(body, "description", c->description) != 0) {
		json_decref(body);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = client_call_show(c, "POST", client_path(c, "event-type", NULL), text);
	free(text);
	return rc;
}

/* An example message of an event type (default webhook.test) to one endpoint: send-example. */
int client_ep_test(struct client *c)
{
	if (c->event_types.n > 1)
		return cli_usage(c->cmd, "at most one --event-type");
	json_t *body = json_object();
	if (c->event_types.n == 1 && client_set_string(body, "eventType", c->event_types.v[0]) != 0) {
		json_decref(body);
		return cli_usage(c->cmd, "arguments must be UTF-8");
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = client_call_show(c, "POST", client_path(c, "app", c->app, "endpoint", c->arg, "send-example", NULL),
				  text);
	free(text);
	return rc;
}

