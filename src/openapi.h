/* openapi.h: docs/openapi.json (made by scripts/openapi.mjs, committed), turned into C at build time by
 * scripts/openapi-embed.sh ($(BUILD)/openapi_doc.c, never committed) and served at GET /api/v1/openapi.json. */
#ifndef HOOKD_OPENAPI_H
#define HOOKD_OPENAPI_H

#include <stddef.h>

extern const unsigned char openapi_json[]; /* NUL-terminated */
extern const size_t openapi_json_len; /* without the NUL */

#endif
