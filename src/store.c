/* store.c: pick a backend by the URL's scheme. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct store_backend *const backends[] = {&store_sqlite_backend};

struct store *store_open(const char *url, char *err, size_t errlen)
{
	const char *colon = strchr(url, ':');
	const char *location = url;
	const struct store_backend *be = &store_sqlite_backend;
	if (colon != NULL && strncmp(url, "postgres", 8) == 0) {
		snprintf(err, errlen, "postgres is not supported yet in this build (%s)", url);
		return NULL;
	}
	if (colon != NULL) {
		be = NULL;
		for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
			size_t n = strlen(backends[i]->scheme);
			if ((size_t)(colon - url) == n && strncmp(url, backends[i]->scheme, n) == 0)
				be = backends[i];
		}
		if (be == NULL) {
			snprintf(err, errlen, "unknown database scheme in '%s' (expected sqlite:PATH)", url);
			return NULL;
		}
		location = colon + 1;
	}
	if (*location == '\0') {
		snprintf(err, errlen, "empty database path in '%s'", url);
		return NULL;
	}
	return be->open(location, err, errlen);
}

void store_close(struct store *st)
{
	if (st != NULL)
		st->be->close(st);
}
