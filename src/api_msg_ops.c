/* api_msg_ops.c: POST /app/{app}/msg/precheck/active: would a message of this type and channels reach an
 * endpoint? Answered from the registry in memory; nothing is written. */
#include <string.h>

#include "api.h"
#include "cache.h"
#include "filter.h"

void api_msg_precheck(struct req *r)
{
	char app_id[ID_MAX];
	if (cache_app_resolve(r->seg[1], app_id) != STORE_OK) {
		api_not_found(r);
		return;
	}
	json_t *body = api_body_object(r);
	if (body == NULL)
		return;
	struct message m = {0};
	struct verr ve = {0};
	const char *type = NULL;
	if (jfield_string(body, "eventType", 1, 256, &ve, &type) && !filter_event_type_valid(type))
		verr_add(&ve, "eventType", "must be 1-256 of [a-zA-Z0-9-_.]", "value_error");
	else if (type == NULL && jfield_missing(body, "eventType"))
		verr_add(&ve, "eventType", "field required", "value_error.missing");
	jfield_strlist(body, "channels", 10, filter_channel_valid, &ve, &m.channels);
	if (verr_any(&ve)) {
		json_decref(body);
		strlist_dispose(&m.channels);
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	memcpy(m.app_id, app_id, ID_MAX);
	m.event_type = (char *)type;
	bool active = cache_precheck(&m);
	m.event_type = NULL;
	strlist_dispose(&m.channels);
	json_decref(body);
	api_reply_json(r, 200, json_pack("{s:b}", "active", active));
}
