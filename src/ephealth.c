/* ephealth.c: the endpoint health board (ephealth.h): a map under one mutex, written on transitions only. */
#include "ephealth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hmap board; /* endpoint id -> struct ephealth */
static bool ready;

void ephealth_put(const char *endpoint_id, const struct ephealth *h)
{
	pthread_mutex_lock(&mu);
	if (!ready) {
		hmap_init(&board);
		ready = true;
	}
	struct ephealth *e = hmap_get(&board, endpoint_id);
	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		hmap_put(&board, endpoint_id, e);
	}
	*e = *h;
	pthread_mutex_unlock(&mu);
}

void ephealth_forget(const char *endpoint_id)
{
	pthread_mutex_lock(&mu);
	if (ready)
		free(hmap_del(&board, endpoint_id));
	pthread_mutex_unlock(&mu);
}

bool ephealth_get(const char *endpoint_id, struct ephealth *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&mu);
	const struct ephealth *e = ready ? hmap_get(&board, endpoint_id) : NULL;
	if (e != NULL)
		*out = *e;
	pthread_mutex_unlock(&mu);
	return e != NULL;
}

void ephealth_dispose(void)
{
	pthread_mutex_lock(&mu);
	if (ready) {
		size_t i = 0;
		for (struct hent *e = NULL; (e = hmap_next(&board, e, &i)) != NULL;)
			free(e->val);
		hmap_dispose(&board);
		ready = false;
	}
	pthread_mutex_unlock(&mu);
}
