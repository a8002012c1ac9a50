/* seal.h: secrets encrypted at rest (docs/security.md).
 *
 * Endpoint secrets (the current one and the rotated ones), custom header values and inbound sources' secrets and
 * destination header values are stored sealed: AES-256-GCM under a 32-byte key, a random 12-byte nonce per value,
 * stored as the text "enc:v1:<key id>:<base64(nonce | ciphertext | tag)>", where the key id is the first 8 hex
 * digits of SHA-256 of the key (the prefix, key id included, is the cipher's associated data). A value without
 * the prefix is a plaintext one from before (passed through as it is on reading, sealed by the start-up pass).
 *
 * The store seals on write and opens on load, at the row <-> struct boundary (store_sqlite*.c, store_pg*.c), so
 * the structs in memory hold plaintext and nothing else changes. The keys are the process's: set once at start-up
 * (seal_keys_set), before any other thread runs, and only read afterwards. With no key set, seal_* store
 * plaintext and opening a sealed value fails (the unit tests of other modules run so).
 */
#ifndef HOOKD_SEAL_H
#define HOOKD_SEAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define SEAL_KEY_LEN 32
#define SEAL_KEYID_LEN 8   /* hex digits */
#define SEAL_PREVIOUS_MAX 8
#define SEAL_PREFIX "enc:v1:"

/* The key ring: current seals and opens; each previous one (a comma list) only opens. Both are base64 of 32
 * bytes; previous may be NULL or "". 0, or -1 with a one-line reason in err (nothing changed then). */
int seal_keys_set(const char *current_b64, const char *previous_b64, char *err, size_t errlen);
/* Forget the keys (wiped): seal_* store plaintext again. */
void seal_keys_clear(void);
/* Whether a current key is set. */
bool seal_enabled(void);
/* The current key's id ("" when none). */
const char *seal_current_id(void);
/* The key id of a 32-byte key: 8 hex digits and a NUL. */
void seal_key_id(const unsigned char key[SEAL_KEY_LEN], char out[SEAL_KEYID_LEN + 1]);
/* A new random key as base64 (45 bytes with the NUL). 0, or -1 if the random source failed. */
int seal_key_new(char out[64]);

/* Whether s has the sealed form's prefix. */
bool seal_is_sealed(const char *s);
/* The stored form of plain: sealed with the current key, or a copy with no key. malloc'd. */
char *seal_value(const char *plain);
/* The plaintext of a stored value into *plain (malloc'd): opened, or a copy of a plaintext one. 0, or -1 with a
 * one-line reason in err (a key id this process does not have, a damaged value, a wrong key). */
int seal_open(const char *stored, char **plain, char *err, size_t errlen);

/* ---- the model's secrets (the store's boundary) ---- */

/* What endpoint_put writes: copies of e's secret, headers and old_secrets, sealed (NULL stays NULL). */
struct sealed_endpoint {
	char *secret;
	json_t *headers;
	json_t *old_secrets;
};
void seal_endpoint(const struct endpoint *e, struct sealed_endpoint *out);
void seal_endpoint_dispose(struct sealed_endpoint *s);
/* A loaded endpoint's secret, old_secrets keys and header values opened in place. 0, or -1 (err). */
int seal_endpoint_open(struct endpoint *e, char *err, size_t errlen);
/* A source's config text (its "secrets" and its destinations' header values) sealed / opened: malloc'd text.
 * seal_source returns NULL only if config is not a JSON object; seal_source_open -1 with err. */
char *seal_source(const char *config);
int seal_source_open(const char *stored, char **config, char *err, size_t errlen);

/* ---- re-sealing stored columns: the start-up pass over plaintext and `hookd rekey` ---- */

enum seal_column {
	SEAL_COL_SECRET,      /* endpoints.secret: one value */
	SEAL_COL_HEADERS,     /* endpoints.headers: a JSON object, its string values */
	SEAL_COL_OLD_SECRETS, /* endpoints.old_secrets: a JSON array of {"key": ...} */
	SEAL_COL_SOURCE,      /* sources.config: a source's JSON config */
};
enum seal_mode {
	SEAL_PLAINTEXT,   /* rewrite a column holding a plaintext value */
	SEAL_NOT_CURRENT, /* rewrite a column holding a value not sealed with the current key (rekey) */
};
/* One stored column (NULL: SQL NULL, left alone): *out is its new text (malloc'd), or NULL when it needs no
 * rewrite under mode; *values grows by the values sealed anew. Every sealed value is opened on the way, so a
 * value this process cannot open fails: -1 with err ("... sealed with key id X, which this node does not
 * have ..."). With no current key nothing is rewritten. */
int seal_reseal(enum seal_column col, const char *stored, enum seal_mode mode, char **out, int64_t *values,
		char *err, size_t errlen);

#endif
