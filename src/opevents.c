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

/* The internal app's id: set at start-up, or made by another node sharing the database since. */
static bool internal_id(char out[ID_MAX])
{
	if (app_id[0] != '\0') {
		memcpy(out, app_id, ID_MAX);
		return true;
	}
	return cache_app_resolve(OPEVENTS_APP_UID, out) == STORE_OK;
}

bool opevents_is_internal(const char *id)
{
	char own[ID_MAX];
	return internal_id(own) && strcmp(id, own) == 0;
}

void opevents_emit(const char *type, json_t *data)
{
	struct message m = {0};
	if (!internal_id(m.app_id)) {
		json_decref(data);
		return;
	}
	id_new("msg_", m.id);
	m.event_type = xstrdup(type);
	m.created_ms = now_ms();
	json_t *payload = json_pack("{s:s,s:o,s:o}", "type", type, "timestamp", time_to_json(m.created_ms),
				    "data", data);
	m.payload = json_dumps(payload, JSON_COMPACT);
	m.payload_len = strlen(m.payload);
	char(*ids)[ID_MAX];
	size_t n = cache_fanout(&m, payload, &ids);
	json_decref(payload);
	if (n == 0) { /* no operational endpoint takes it: nothing to keep */
		free(ids);
		message_dispose(&m);
		return;
	}
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

/* The internal app and its endpoint (e NULL: none), written in one transaction at start-up. */
static int write_setup(struct store *st, const struct app *a, const struct endpoint *e)
{
	const struct store_write_ops *w = st->w;
	if (w->batch_begin(st) != STORE_OK)
		return -1;
	if (w->app_put(st, a) != STORE_OK || (e != NULL && w->endpoint_put(st, e) != STORE_OK)) {
		w->batch_rollback(st);
		return -1;
	}
	return w->batch_commit(st) == STORE_OK ? 0 : -1;
}

/* The endpoint --operational-url keeps: uid OPEVENTS_URL_UID, or (written before endpoints could be made through
 * the API) the app's one endpoint without a uid. */
static bool url_endpoint(const char *app, struct endpoint *out)
{
	if (cache_endpoint_get(app, OPEVENTS_URL_UID, out) == STORE_OK)
		return true;
	struct endpoint *eps = NULL;
	size_t n = 0;
	bool found = false;
	cache_endpoint_list(app, &(struct page){.limit = 250, .ascending = true}, &eps, &n);
	for (size_t i = 0; i < n; i++) {
		if (!found && eps[i].uid == NULL) {
			*out = eps[i];
			found = true;
		} else {
			endpoint_dispose(&eps[i]);
		}
	}
	free(eps);
	return found;
}

int opevents_init(const struct config *cfg, struct store *st, char *err, size_t errlen)
{
	char why[NETGUARD_WHY_MAX];
	if (cfg->operational_url != NULL && netguard_check_url(&cfg->guard, cfg->operational_url, why, sizeof why) < 0) {
		snprintf(err, errlen, "--operational-url %s: %s", cfg->operational_url, why);
		return -1;
	}
	struct app a = {0};
	struct endpoint e = {0};
	int64_t now = now_ms();
	bool app_exists = cache_app_get(OPEVENTS_APP_UID, &a) == STORE_OK;
	if (!app_exists) {
		id_new("app_", a.id);
		a.uid = xstrdup(OPEVENTS_APP_UID);
		a.name = xstrdup("hookd operational webhooks");
		a.metadata = json_object();
		a.created_ms = a.updated_ms = now;
	}
	if (cfg->operational_url == NULL) { /* the app only: its endpoints come through the API */
		int rc = app_exists ? 0 : write_setup(st, &a, NULL);
		if (rc == 0 && !app_exists)
			registry_apply(&(struct change){.kind = CHANGE_APP_PUT, .app = &a});
		if (rc == 0)
			memcpy(app_id, a.id, ID_MAX);
		else /* another node sharing the database made it at the same time: its feed brings it */
			log_warnx("opevents: the operational webhooks' app was not written here (another node's?)");
		app_dispose(&a);
		return 0;
	}
	if (!url_endpoint(a.id, &e)) {
		id_new("ep_", e.id);
		memcpy(e.app_id, a.id, ID_MAX);
		e.uid = xstrdup(OPEVENTS_URL_UID);
		e.description = xstrdup("operational webhooks");
		e.metadata = json_object();
		e.headers = json_object();
		e.created_ms = now;
	}
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
			 "/api/v1/operational-webhook/endpoint/%s/secret reads it (or set --operational-secret)",
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
