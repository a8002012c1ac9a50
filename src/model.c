/* model.c: the lifecycles of the model's objects (model.h): copies, disposal, status names. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

const char *delivery_status_text(int status)
{
	static const char *names[] = {"success", "pending", "fail", "sending", "canceled"};
	return status >= 0 && status <= 4 ? names[status] : "unknown";
}

const char *task_status_text(int status)
{
	static const char *names[] = {"running", "finished", "failed"};
	return status >= 0 && status <= 2 ? names[status] : "failed";
}

void app_dispose(struct app *a)
{
	free(a->uid);
	free(a->name);
	json_decref(a->metadata);
	memset(a, 0, sizeof *a);
}

void app_copy(struct app *dst, const struct app *src)
{
	*dst = *src;
	dst->uid = src->uid ? xstrdup(src->uid) : NULL;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->metadata = src->metadata ? json_deep_copy(src->metadata) : NULL;
}

void endpoint_dispose(struct endpoint *e)
{
	free(e->uid);
	free(e->url);
	free(e->description);
	free(e->secret);
	strlist_dispose(&e->event_types);
	strlist_dispose(&e->channels);
	json_decref(e->metadata);
	json_decref(e->headers);
	free(e->scheme);
	json_decref(e->scheme_options);
	json_decref(e->old_secrets);
	free(e->payload_filter);
	free(e->transformation);
	free(e->api_version);
	memset(e, 0, sizeof *e);
}

bool endpoint_is_poller(const struct endpoint *e)
{
	return e->url != NULL && strncmp(e->url, POLLER_URL_PREFIX, strlen(POLLER_URL_PREFIX)) == 0;
}

void endpoint_copy(struct endpoint *dst, const struct endpoint *src)
{
	*dst = *src;
	dst->uid = src->uid ? xstrdup(src->uid) : NULL;
	dst->url = src->url ? xstrdup(src->url) : NULL;
	dst->description = src->description ? xstrdup(src->description) : NULL;
	dst->secret = src->secret ? xstrdup(src->secret) : NULL;
	strlist_copy(&dst->event_types, &src->event_types);
	strlist_copy(&dst->channels, &src->channels);
	dst->metadata = src->metadata ? json_deep_copy(src->metadata) : NULL;
	dst->headers = src->headers ? json_deep_copy(src->headers) : NULL;
	dst->scheme = src->scheme ? xstrdup(src->scheme) : NULL;
	dst->scheme_options = src->scheme_options ? json_deep_copy(src->scheme_options) : NULL;
	dst->old_secrets = src->old_secrets ? json_deep_copy(src->old_secrets) : NULL;
	dst->payload_filter = src->payload_filter ? xstrdup(src->payload_filter) : NULL;
	dst->transformation = src->transformation ? xstrdup(src->transformation) : NULL;
	dst->api_version = src->api_version ? xstrdup(src->api_version) : NULL;
}

void message_dispose(struct message *m)
{
	free(m->event_type);
	free(m->event_id);
	strlist_dispose(&m->channels);
	strlist_dispose(&m->tags);
	free(m->payload);
	free(m->content_type);
	free(m->extra_headers);
	memset(m, 0, sizeof *m);
}

void app_token_dispose(struct app_token *t)
{
	free(t->session_id);
	strlist_dispose(&t->feature_flags);
	memset(t, 0, sizeof *t);
}

void inreq_dispose(struct inreq *r)
{
	free(r->dedup_key);
	free(r->method);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof *r);
}

void attempt_dispose(struct attempt *a)
{
	free(a->url);
	free(a->response);
	free(a->request_body);
	free(a->request_headers);
	free(a->response_headers);
	free(a->request_method);
	memset(a, 0, sizeof *a);
}

void event_type_dispose(struct event_type *t)
{
	free(t->name);
	free(t->description);
	json_decref(t->schemas);
	free(t->feature_flag);
	free(t->group_name);
	memset(t, 0, sizeof *t);
}

void event_type_copy(struct event_type *dst, const struct event_type *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->description = src->description ? xstrdup(src->description) : NULL;
	dst->schemas = src->schemas ? json_deep_copy(src->schemas) : NULL;
	dst->feature_flag = src->feature_flag ? xstrdup(src->feature_flag) : NULL;
	dst->group_name = src->group_name ? xstrdup(src->group_name) : NULL;
}

void api_version_dispose(struct api_version *v)
{
	free(v->name);
	free(v->downgrade);
	memset(v, 0, sizeof *v);
}

void api_version_copy(struct api_version *dst, const struct api_version *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->downgrade = src->downgrade ? xstrdup(src->downgrade) : NULL;
}

json_t *endpoint_retry_to_json(const struct endpoint *e)
{
	if (!e->has_retry)
		return NULL;
	json_t *a = json_array();
	for (int k = 0; k < e->retry_steps && k < BACKOFF_MAX_STEPS; k++)
		json_array_append_new(a, json_integer(e->retry_ms[k]));
	return a;
}

void endpoint_retry_from_json(struct endpoint *e, const json_t *a)
{
	e->has_retry = a != NULL;
	e->retry_steps = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (json_is_integer(v) && json_integer_value(v) >= 0 && e->retry_steps < BACKOFF_MAX_STEPS)
			e->retry_ms[e->retry_steps++] = json_integer_value(v);
	}
}
