/* apptoken.c: app-scoped tokens (apptoken.h). */
#include "apptoken.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* What a check learned, kept for APPTOKEN_CACHE_MS; found false: no such live token. */
struct cached {
	struct app_token t;
	bool found;
	int64_t at_mono;
};

#define CACHE_MAX 4096 /* entries; a full cache starts over (a flood of tokens costs reads, never memory) */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmap cache;

static void cache_clear(void)
{
	size_t b = 0;
	for (struct hent *e = NULL; (e = hmap_next(&cache, e, &b)) != NULL;) {
		struct cached *c = e->val;
		app_token_dispose(&c->t);
		free(c);
	}
	hmap_dispose(&cache);
	hmap_init(&cache);
}

void apptoken_init(void) { hmap_init(&cache); }

void apptoken_dispose(void)
{
	pthread_mutex_lock(&lock);
	cache_clear();
	hmap_dispose(&cache);
	pthread_mutex_unlock(&lock);
}

void apptoken_hash(const char *token, char hash[APP_TOKEN_HASH_MAX])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), d);
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(hash + 2 * i, 3, "%02x", d[i]);
}

void apptoken_new(char token[APPTOKEN_LEN + 1], char hash[APP_TOKEN_HASH_MAX])
{
	unsigned char raw[32];
	char b64[48];
	if (RAND_bytes(raw, sizeof raw) != 1)
		fatalx("RAND_bytes failed");
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof raw); /* 44 characters, the last one "=" */
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	snprintf(token, APPTOKEN_LEN + 1, APPTOKEN_PREFIX "%.43s", b64);
	apptoken_hash(token, hash);
}

bool apptoken_looks_like(const char *s)
{
	return strncmp(s, APPTOKEN_PREFIX, strlen(APPTOKEN_PREFIX)) == 0 && strlen(s) == APPTOKEN_LEN;
}

static void token_copy(struct app_token *dst, const struct app_token *src)
{
	*dst = *src;
	dst->session_id = src->session_id != NULL ? xstrdup(src->session_id) : NULL;
	strlist_copy(&dst->feature_flags, &src->feature_flags);
}

int apptoken_check(struct store *st, const char *token, struct app_token *out)
{
	memset(out, 0, sizeof *out);
	if (!apptoken_looks_like(token))
		return STORE_NOTFOUND;
	char hash[APP_TOKEN_HASH_MAX];
	apptoken_hash(token, hash);
	int64_t mono = mono_ms();
	pthread_mutex_lock(&lock);
	struct cached *c = hmap_get(&cache, hash);
	if (c != NULL && mono - c->at_mono < APPTOKEN_CACHE_MS) {
		bool live = c->found && c->t.expires_ms > now_ms();
		if (live)
			token_copy(out, &c->t);
		pthread_mutex_unlock(&lock);
		return live ? STORE_OK : STORE_NOTFOUND;
	}
	pthread_mutex_unlock(&lock);

	struct app_token t = {0};
	int rc = st->q->token_get(st, hash, &t);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		app_token_dispose(&t);
		return STORE_ERR;
	}
	pthread_mutex_lock(&lock);
	if (cache.n >= CACHE_MAX)
		cache_clear();
	struct cached *n = hmap_get(&cache, hash);
	if (n == NULL) {
		n = xcalloc(1, sizeof *n);
		hmap_put(&cache, hash, n);
	} else {
		app_token_dispose(&n->t);
	}
	n->found = rc == STORE_OK;
	n->at_mono = mono;
	n->t = t; /* the cache owns it now */
	bool live = n->found && t.expires_ms > now_ms();
	if (live)
		token_copy(out, &n->t);
	pthread_mutex_unlock(&lock);
	return live ? STORE_OK : STORE_NOTFOUND;
}

void apptoken_forget(const char *hash, const char *app_id)
{
	pthread_mutex_lock(&lock);
	if (hash != NULL) {
		struct cached *c = hmap_del(&cache, hash);
		if (c != NULL) {
			app_token_dispose(&c->t);
			free(c);
		}
	} else {
		size_t b = 0;
		for (struct hent *e = NULL; (e = hmap_next(&cache, e, &b)) != NULL;) {
			struct cached *c = e->val;
			if (c->found && strcmp(c->t.app_id, app_id) == 0)
				c->at_mono = INT64_MIN / 2; /* stale: read again */
		}
	}
	pthread_mutex_unlock(&lock);
}
