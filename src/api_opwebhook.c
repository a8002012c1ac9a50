/* api_opwebhook.c: /operational-webhook/endpoint — Svix's operational webhook endpoints as API objects. They are
 * the endpoints of hookd's internal app (opevents.h), so each call is the endpoint call on that app: filtered by
 * event type (filterTypes), signed, retried and logged like any endpoint. */
#include <string.h>

#include "api.h"
#include "opevents.h"

/* operational-webhook/endpoint/... -> app/hookd.operational/endpoint/... */
static bool as_app(struct req *r)
{
	if (r->nseg + 1 > API_MAX_SEGS) {
		api_no_route(r, NULL);
		return false;
	}
	for (int i = r->nseg; i >= 1; i--)
		r->seg[i] = r->seg[i - 1];
	r->nseg++;
	r->seg[0] = "app";
	r->seg[1] = OPEVENTS_APP_UID;
	return true;
}

#define VIA(name, handler)                                                                                           \
	void name(struct req *r)                                                                                     \
	{                                                                                                            \
		if (as_app(r))                                                                                       \
			handler(r);                                                                                  \
	}

VIA(api_opwebhook_list, api_endpoint_list)
VIA(api_opwebhook_create, api_endpoint_create)
VIA(api_opwebhook_get, api_endpoint_get)
VIA(api_opwebhook_put, api_endpoint_put)
VIA(api_opwebhook_delete, api_endpoint_delete)
VIA(api_opwebhook_secret, api_endpoint_secret)
VIA(api_opwebhook_secret_rotate, api_endpoint_secret_rotate)
VIA(api_opwebhook_headers_get, api_endpoint_headers_get)
VIA(api_opwebhook_headers_put, api_endpoint_headers_put)
VIA(api_opwebhook_headers_patch, api_endpoint_headers_patch)
