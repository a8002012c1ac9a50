/* signer.c: endpoint -> struct hookd_config. */
#include "signer.h"

#include <stdint.h>
#include <string.h>

int signer_options(json_t *opts, struct hookd_options *o)
{
	static const char *const keys[] = {"header", "timestampHeader", "idHeader", "prefix", "hash", "encoding"};
	const char **slots[] = {&o->header, &o->timestamp_header, &o->id_header, &o->prefix, &o->hash, &o->encoding};
	memset(o, 0, sizeof *o);
	if (opts == NULL || json_is_null(opts))
		return 0;
	if (!json_is_object(opts))
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(opts, k, v) {
		size_t i = 0;
		while (i < sizeof keys / sizeof keys[0] && strcmp(k, keys[i]) != 0)
			i++;
		if (i == sizeof keys / sizeof keys[0] || !json_is_string(v))
			return -1;
		*slots[i] = json_string_value(v);
	}
	return 0;
}

int signer_build(const struct endpoint *e, int64_t now_ms, struct hookd_config **out, int64_t *valid_until_ms)
{
	struct hookd_options o;
	struct hookd_config *cfg = NULL;
	*out = NULL;
	*valid_until_ms = INT64_MAX;
	if (signer_options(e->scheme_options, &o) < 0)
		return HOOKD_ERR_INVALID;
	int rc = hookd_config_new(e->scheme ? e->scheme : SIGNER_DEFAULT_SCHEME, &o, &cfg);
	if (rc == HOOKD_OK)
		rc = hookd_config_add_secret(cfg, e->secret ? e->secret : "");
	size_t i;
	json_t *old;
	json_array_foreach(e->old_secrets, i, old) {
		const char *key = json_string_value(json_object_get(old, "key"));
		int64_t until = (int64_t)json_integer_value(json_object_get(old, "expiresAt"));
		if (rc != HOOKD_OK || key == NULL || until <= now_ms)
			continue;
		if (hookd_config_add_secret(cfg, key) == HOOKD_OK && until < *valid_until_ms)
			*valid_until_ms = until;
	}
	if (rc != HOOKD_OK) {
		hookd_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return HOOKD_OK;
}
