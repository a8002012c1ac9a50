/* apptoken.h: app-scoped tokens (the app portal's; Svix's Authentication API). A token is "hkapp_" and 43
 * base64url characters (256 random bits); the store keeps only its SHA-256 (with that much entropy no salt or slow
 * hash adds anything), so a copy of the database grants nothing. Checks go to the store through a short per-node
 * cache: a token revoked on another node stops working within APPTOKEN_CACHE_MS, on this node at once. */
#ifndef HOOKD_APPTOKEN_H
#define HOOKD_APPTOKEN_H

#include "model.h"
#include "store.h"

#define APPTOKEN_PREFIX "hkapp_"
#define APPTOKEN_LEN 49 /* the prefix and 43 characters */
#define APPTOKEN_CACHE_MS 1000

void apptoken_init(void);
void apptoken_dispose(void);
/* A new token (NUL-terminated) and its hash. */
void apptoken_new(char token[APPTOKEN_LEN + 1], char hash[APP_TOKEN_HASH_MAX]);
/* The hex SHA-256 of a presented token. */
void apptoken_hash(const char *token, char hash[APP_TOKEN_HASH_MAX]);
/* True if s looks like an app token (so the operator's token is never looked up in the store). */
bool apptoken_looks_like(const char *s);
/* A presented token: STORE_OK with *out filled (the caller disposes it) if it exists and has not expired,
 * STORE_NOTFOUND if not, STORE_ERR if the store could not tell. */
int apptoken_check(struct store *st, const char *token, struct app_token *out);
/* Drop this node's cached entries: one token by hash, or (hash NULL) every token of app_id. */
void apptoken_forget(const char *hash, const char *app_id);

#endif
