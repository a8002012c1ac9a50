/* opevents.c: operational webhooks through the ordinary message path. */
#include "opevents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "registry.h"

static char app_id[ID_MAX]; /* "" when operational webhooks are off */

bool opevents_is_internal(const char *id) { return app_id[0] != '\0' && strcmp(id, app_id) == 0; }

void opevents_emit(const char *type, json_t *data)
{
	if (app_id[0] == '\0') {
		json_decref(data);
		return;
	}
	struct message m = {0};
	id_new("msg_", m.id);
	memcpy(m.app_id, app_id, ID_MAX);
	m.event_type = xstrdup(type);
	m.created_ms = now_ms();
	json_t *payload = json_pack("{s:s,s:o,s:o}", "type", type, "timestamp", time_to_json(m.created_ms),
				    "data", data);
	m.payload = json_dumps(payload, JSON_COMPACT);
	m.payload_len = strlen(m.payload);
	char(*ids)[ID_MAX];
	size_t n = cache_fanout(&m, payload, &ids);
	json_decref(payload);
	queue_submit(outmsg_new(&m, ids, n));
}

json_t *opevents_endpoint_data(const char *app, const char *endpoint_id, const char *endpoint_uid)
{
	struct app a = {0};
	bool found = cache_app_get(app, &a) == STORE_OK;
	json_t *d = json_pack("{s:s,s:o,s:s,s:o}", "appId", app, "appUid",
			      found && a.uid ? json_string(a.uid) : json_null(), "endpointId", endpoint_id,
			      "endpointUid", endpoint_uid ? json_string(endpoint_uid) : json_null());
	if (found)
		app_dispose(&a);
	return d;
}

/* The internal app and its endpoint, written in one transaction at start-up. */
static int write_setup(struct store *st, const struct app *a, const struct endpoint *e)
{
	const struct store_write_ops *w = st->w;
	if (w->batch_begin(st) != STORE_OK)
		return -1;
	if (w->app_put(st, a) != STORE_OK || w->endpoint_put(st, e) != STORE_OK) {
		w->batch_rollback(st);
		return -1;
	}
	return w->batch_commit(st) == STORE_OK ? 0 : -1;
}

int opevents_init(const struct config *cfg, struct store *st, char *err, size_t errlen)
{
	if (cfg->operational_url == NULL)
		return 0;
	char why[NETGUARD_WHY_MAX];
	if (netguard_check_url(&cfg->guard, cfg->operational_url, why, sizeof why) < 0) {
		snprintf(err, errlen, "--operational-url %s: %s", cfg->operational_url, why);
		return -1;
	}
	struct app a = {0};
	struct endpoint e = {0};
	int64_t now = now_ms();
	if (cache_app_get(OPEVENTS_APP_UID, &a) != STORE_OK) {
		id_new("app_", a.id);
		a.uid = xstrdup(OPEVENTS_APP_UID);
		a.name = xstrdup("hookd operational webhooks");
		a.metadata = json_object();
		a.created_ms = a.updated_ms = now;
	}
	struct endpoint *eps = NULL;
	size_t n = 0;
	cache_endpoint_list(a.id, &(struct page){.limit = 1, .ascending = true}, &eps, &n);
	if (n == 1) {
		e = eps[0];
	} else {
		id_new("ep_", e.id);
		memcpy(e.app_id, a.id, ID_MAX);
		e.description = xstrdup("operational webhooks");
		e.metadata = json_object();
		e.headers = json_object();
		e.created_ms = now;
	}
	free(eps);
	free(e.url);
	e.url = xstrdup(cfg->operational_url);
	if (cfg->operational_secret != NULL) {
		free(e.secret);
		e.secret = xstrdup(cfg->operational_secret);
	} else if (e.secret == NULL) {
		char secret[128];
		hookd_secret_new(24, secret, sizeof secret);
		e.secret = xstrdup(secret);
		/* never the secret itself in a log: where to read it */
		log_info("opevents: operational webhooks are signed with a secret hookd made: GET "
			 "/api/v1/app/hookd.operational/endpoint/%s/secret reads it (or set --operational-secret)",
			 e.id);
	}
	e.disabled = false;
	e.updated_ms = now;
	int rc = write_setup(st, &a, &e);
	if (rc == 0) {
		registry_apply(&(struct change){.kind = CHANGE_APP_PUT, .app = &a}); /* written directly at start-up */
		registry_apply(&(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e});
		memcpy(app_id, a.id, ID_MAX);
	} else {
		snprintf(err, errlen, "cannot set up operational webhooks to %s", cfg->operational_url);
	}
	app_dispose(&a);
	endpoint_dispose(&e);
	return rc;
}
