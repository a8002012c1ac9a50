/* api_openapi.c: GET /api/v1/openapi.json: hookd's OpenAPI 3.1 document, as built into the binary. */
#include <string.h>

#include "api.h"
#include "openapi.h"

void api_openapi(struct req *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		api_no_route(r, "GET, HEAD");
		return;
	}
	/* persistent: the document lives in the binary, so no copy per request */
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(openapi_json_len, (void *)openapi_json, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		api_error(r, 500, "internal_error", "out of memory");
		return;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*"); /* API explorers load it from elsewhere */
	r->status = 200;
	r->mhd_resp = resp;
	r->ready = true;
}
