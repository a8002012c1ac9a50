/* apiver.c: payload versions (apiver.h): the registry, the downgrade chain, the rules of names and code. */
#include "apiver.h"

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "namevec.h"

static void version_dispose(void *v) { api_version_dispose(v); }

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct namevec vers = NAMEVEC_INIT(struct api_version, name, version_dispose); /* oldest first */
/* vers.n > 0, readable without the lock: apiver_chain runs per delivery and most servers have no version at all.
 * Every change (start-up load, registry.c's puts and deletes, which the feed's changes and resyncs from other
 * nodes also go through) sets it under the write lock. */
static bool any;

/* After a change (write lock held). */
static void changed(void) { __atomic_store_n(&any, vers.n > 0, __ATOMIC_RELEASE); }

void apiver_dispose(void)
{
	pthread_rwlock_wrlock(&lock);
	namevec_clear(&vers);
	changed();
	pthread_rwlock_unlock(&lock);
}

void apiver_load(struct api_version *v, size_t n)
{
	pthread_rwlock_wrlock(&lock);
	namevec_load(&vers, v, n);
	changed();
	pthread_rwlock_unlock(&lock);
}

void apiver_put(const struct api_version *v)
{
	struct api_version copy;
	api_version_copy(&copy, v);
	pthread_rwlock_wrlock(&lock);
	namevec_put(&vers, &copy);
	changed();
	pthread_rwlock_unlock(&lock);
}

void apiver_delete(const char *name)
{
	pthread_rwlock_wrlock(&lock);
	namevec_delete(&vers, name);
	changed();
	pthread_rwlock_unlock(&lock);
}

/* Version i (lock held). */
static struct api_version *ver(size_t i) { return namevec_at(&vers, i); }

int apiver_get(const char *name, struct api_version *out, struct apiver_pos *pos)
{
	pthread_rwlock_rdlock(&lock);
	bool found;
	size_t i = namevec_find(&vers, name, &found);
	if (found) {
		api_version_copy(out, ver(i));
		if (pos != NULL)
			*pos = (struct apiver_pos){.oldest = i == 0, .newest = i + 1 == vers.n, .older = i};
	}
	pthread_rwlock_unlock(&lock);
	return found ? STORE_OK : STORE_NOTFOUND;
}

char *apiver_newest(void)
{
	pthread_rwlock_rdlock(&lock);
	char *s = vers.n > 0 ? xstrdup(ver(vers.n - 1)->name) : NULL;
	pthread_rwlock_unlock(&lock);
	return s;
}

void apiver_list(const struct page *pg, struct api_version **out, size_t *n)
{
	*n = 0;
	pthread_rwlock_rdlock(&lock);
	size_t cap = vers.n < (size_t)pg->limit ? vers.n : (size_t)pg->limit;
	*out = xcalloc(cap + 1, sizeof **out);
	for (size_t k = 0; k < vers.n && *n < cap; k++) {
		const struct api_version *v = ver(pg->ascending ? k : vers.n - 1 - k);
		if ((pg->after == NULL || strcmp(v->name, pg->after) > 0) &&
		    (pg->before == NULL || strcmp(v->name, pg->before) < 0))
			api_version_copy(&(*out)[(*n)++], v);
	}
	pthread_rwlock_unlock(&lock);
}

char *apiver_chain(const char *pinned, struct strlist *codes)
{
	if (!__atomic_load_n(&any, __ATOMIC_ACQUIRE))
		return NULL; /* no version: the common case, no lock */
	pthread_rwlock_rdlock(&lock);
	char *name = NULL;
	if (vers.n > 0) {
		bool found = false;
		/* the pinned version, or the oldest newer one if it is gone; past the newest (or unpinned): the newest */
		size_t at = pinned != NULL ? namevec_find(&vers, pinned, &found) : vers.n - 1;
		if (at >= vers.n)
			at = vers.n - 1;
		for (size_t k = vers.n - 1; k > at; k--)
			if (ver(k)->downgrade != NULL) /* every version but the oldest has one; none is no change */
				strlist_add(codes, ver(k)->downgrade);
		name = xstrdup(ver(at)->name);
	}
	pthread_rwlock_unlock(&lock);
	return name;
}

bool apiver_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > API_VERSION_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Compile only, on a bare state that runs nothing: syntax errors surface at the API instead of in every delivery.
 * (The transformation engine's own check may take this one's place.) */
int apiver_code_check(const char *code, size_t len, char *err, size_t errlen)
{
	if (len > APIVER_CODE_MAX) {
		snprintf(err, errlen, "the code is longer than %d bytes", APIVER_CODE_MAX);
		return -1;
	}
	lua_State *L = luaL_newstate();
	if (L == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = luaL_loadbufferx(L, code, len, "=downgrade", "t");
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		snprintf(err, errlen, "%s", msg != NULL ? msg : "the code does not compile");
	}
	lua_close(L);
	return rc == LUA_OK ? 0 : -1;
}
