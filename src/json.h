/* json.h: validation of request bodies (Svix-style 422 details) and the JSON shape of each object. */
#ifndef HOOKD_JSON_H
#define HOOKD_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "model.h"

/* A validation run: collects every problem as {"loc":["body",field],"msg":...,"type":...}. */
struct verr {
	json_t *detail; /* array, NULL while there are no errors */
};
void verr_add(struct verr *v, const char *field, const char *msg, const char *type);
bool verr_any(const struct verr *v);
/* The 422 body {"code":"validation_error","detail":[...]}; consumes v. */
char *verr_body(struct verr *v);
void verr_dispose(struct verr *v);

/* In a JSON object's text that a parser has already accepted, find the raw bytes of the value of top-level
 * key (the last one, as the parser keeps the last of duplicates). Keys written with escapes are not matched.
 * Returns 0 with [*start, *start + *len) or -1. Lets hookd keep a payload exactly as sent instead of
 * serializing the parsed object again. */
int json_raw_member(const char *text, size_t n, const char *key, size_t *start, size_t *len);

/* Is text[0..n) a JSON object in a subset that jansson surely accepts as it is (json_plain.c)? false when it is
 * not, or may not be: then only jansson's parse tells. Thread-safe. */
bool json_plain_object(const char *text, size_t n);
/* A request body text[0..n) whose top-level key holds a plain object (json_plain_object): parsed with that value
 * replaced by {}, its raw span in [*start, *start + *len). NULL if the value is not plain or the body does not
 * parse: then parse the whole body (the same answer, the same errors). */
json_t *json_plain_envelope(const char *text, size_t n, const char *key, size_t *start, size_t *len);

/* {"code":code,"detail":detail} as a malloc'd string. */
char *json_error_body(const char *code, const char *detail);
/* Dump compactly; the caller frees. */
char *json_dump(const json_t *j);

/* Field readers. Each returns true if the field was present and valid (absent: false and no error; present but
 * invalid: false and an error in v). JSON null counts as absent for optional fields unless null_clears is given. */
bool jfield_string(json_t *obj, const char *field, size_t minlen, size_t maxlen, struct verr *v, const char **out);
bool jfield_bool(json_t *obj, const char *field, struct verr *v, bool *out);
bool jfield_int(json_t *obj, const char *field, int64_t min, int64_t max, struct verr *v, int64_t *out);
/* An array of strings, each checked by valid() (may be NULL); max entries. out gets a present list (even if
 * empty). */
/* A present list (l->v non-NULL, even when empty) of a's string elements; a NULL or non-array a gives none. For
 * the stores, which keep lists as JSON text. */
void strlist_from_json(struct strlist *l, const json_t *a);
bool jfield_strlist(json_t *obj, const char *field, size_t max, bool (*valid)(const char *), struct verr *v,
		    struct strlist *out);
/* An object whose values are strings (metadata, headers); out is a new reference. */
bool jfield_string_map(json_t *obj, const char *field, struct verr *v, json_t **out);
/* True if the field is absent or JSON null. */
bool jfield_missing(json_t *obj, const char *field);
/* True if the field exists and is JSON null. */
bool jfield_is_null(json_t *obj, const char *field);

/* The API's view of each object (new references). */
json_t *app_to_json(const struct app *a);
json_t *endpoint_to_json(const struct endpoint *e);
/* with_content false gives payload {} */
json_t *message_to_json(const struct message *m, bool with_content);
json_t *attempt_to_json(const struct attempt *a);
json_t *strlist_to_json(const struct strlist *l); /* null when absent */
json_t *time_to_json(int64_t ms);

#endif
