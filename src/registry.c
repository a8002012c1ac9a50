/* registry.c: every change to the in-memory registries (cache, evtypes, sources, apiver) goes through here. */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "apiver.h"
#include "cache.h"
#include "evtypes.h"
#include "log.h"
#include "source.h"

static void endpoint_before(const struct endpoint *e, struct endpoint *before)
{
	if (cache_endpoint_get(e->app_id, e->id, before) != STORE_OK)
		memset(before, 0, sizeof *before);
}

void registry_apply(const struct change *c)
{
	switch (c->kind) {
	case CHANGE_APP_PUT:
		cache_app_put(c->app);
		break;
	case CHANGE_APP_DELETE:
		cache_app_delete(c->id);
		break;
	case CHANGE_ENDPOINT_PUT:
		if (c->before != NULL)
			endpoint_before(c->endpoint, c->before);
		cache_endpoint_put(c->endpoint);
		break;
	case CHANGE_ENDPOINT_DELETE:
		cache_endpoint_delete(c->id);
		break;
	case CHANGE_ENDPOINT_DISABLED:
		cache_endpoint_set_disabled(c->id, c->disabled, c->updated_ms);
		break;
	case CHANGE_EVENT_TYPE_PUT:
		evtypes_put(c->event_type);
		break;
	case CHANGE_EVENT_TYPE_DELETE:
		evtypes_delete(c->id);
		break;
	case CHANGE_SOURCE_PUT:
		sources_put(c->source);
		break;
	case CHANGE_SOURCE_DELETE:
		sources_del(c->id);
		break;
	case CHANGE_API_VERSION_PUT:
		apiver_put(c->api_version);
		break;
	case CHANGE_API_VERSION_DELETE:
		apiver_delete(c->id);
		break;
	default:
		log_warnx("registry: a change of unknown kind %d is ignored", (int)c->kind);
	}
}

void change_copy(struct change *dst, const struct change *src)
{
	*dst = *src;
	dst->id = src->id != NULL ? xstrdup(src->id) : NULL;
	switch (src->kind) {
	case CHANGE_APP_PUT: {
		struct app *a = xmalloc(sizeof *a);
		app_copy(a, src->app);
		dst->app = a;
		break;
	}
	case CHANGE_ENDPOINT_PUT: {
		struct endpoint *e = xmalloc(sizeof *e);
		endpoint_copy(e, src->endpoint);
		dst->endpoint = e;
		break;
	}
	case CHANGE_EVENT_TYPE_PUT: {
		struct event_type *t = xmalloc(sizeof *t);
		event_type_copy(t, src->event_type);
		dst->event_type = t;
		break;
	}
	case CHANGE_SOURCE_PUT:
		dst->source = source_ref(src->source);
		break;
	case CHANGE_API_VERSION_PUT: {
		struct api_version *v = xmalloc(sizeof *v);
		api_version_copy(v, src->api_version);
		dst->api_version = v;
		break;
	}
	default:
		break;
	}
}

void change_dispose(struct change *c)
{
	switch (c->kind) {
	case CHANGE_APP_PUT: {
		struct app *a = (struct app *)c->app;
		app_dispose(a);
		free(a);
		break;
	}
	case CHANGE_ENDPOINT_PUT: {
		struct endpoint *e = (struct endpoint *)c->endpoint;
		endpoint_dispose(e);
		free(e);
		break;
	}
	case CHANGE_EVENT_TYPE_PUT: {
		struct event_type *t = (struct event_type *)c->event_type;
		event_type_dispose(t);
		free(t);
		break;
	}
	case CHANGE_SOURCE_PUT:
		source_unref(c->source);
		break;
	case CHANGE_API_VERSION_PUT: {
		struct api_version *v = (struct api_version *)c->api_version;
		api_version_dispose(v);
		free(v);
		break;
	}
	default:
		break;
	}
	free((char *)c->id);
	memset(c, 0, sizeof *c);
}

const char *change_note(const struct change *c, const char **key)
{
	switch (c->kind) {
	case CHANGE_APP_PUT:
		*key = c->app->id;
		return "app";
	case CHANGE_APP_DELETE:
		*key = c->id;
		return "app";
	case CHANGE_ENDPOINT_PUT:
		*key = c->endpoint->id;
		return "endpoint";
	case CHANGE_ENDPOINT_DELETE:
	case CHANGE_ENDPOINT_DISABLED:
		*key = c->id;
		return "endpoint";
	case CHANGE_EVENT_TYPE_PUT:
		*key = c->event_type->name;
		return "evtype";
	case CHANGE_EVENT_TYPE_DELETE:
		*key = c->id;
		return "evtype";
	case CHANGE_SOURCE_PUT:
		*key = c->source->id;
		return "source";
	case CHANGE_SOURCE_DELETE:
		*key = c->id;
		return "source";
	case CHANGE_API_VERSION_PUT:
		*key = c->api_version->name;
		return "apiver";
	case CHANGE_API_VERSION_DELETE:
		*key = c->id;
		return "apiver";
	}
	*key = "";
	return "";
}
