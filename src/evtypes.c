/* evtypes.c: the event type registry: a sorted array behind a rwlock. A registry holds tens to hundreds of
 * types, so a binary search for lookups and a memmove for inserts are plenty. */
#include "evtypes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "namevec.h"

static void type_dispose(void *t) { event_type_dispose(t); }

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct namevec types = NAMEVEC_INIT(struct event_type, name, type_dispose);

void evtypes_dispose(void)
{
	pthread_rwlock_wrlock(&lock);
	namevec_clear(&types);
	pthread_rwlock_unlock(&lock);
}

void evtypes_load(struct event_type *v, size_t n)
{
	pthread_rwlock_wrlock(&lock);
	namevec_load(&types, v, n);
	pthread_rwlock_unlock(&lock);
}

void evtypes_put(const struct event_type *t)
{
	struct event_type copy;
	event_type_copy(&copy, t);
	pthread_rwlock_wrlock(&lock);
	namevec_put(&types, &copy);
	pthread_rwlock_unlock(&lock);
}

void evtypes_delete(const char *name)
{
	pthread_rwlock_wrlock(&lock);
	namevec_delete(&types, name);
	pthread_rwlock_unlock(&lock);
}

int evtypes_get(const char *name, struct event_type *out)
{
	pthread_rwlock_rdlock(&lock);
	bool found;
	size_t i = namevec_find(&types, name, &found);
	if (found)
		event_type_copy(out, namevec_at(&types, i));
	pthread_rwlock_unlock(&lock);
	return found ? STORE_OK : STORE_NOTFOUND;
}

static bool in_page(const struct page *pg, const struct event_type *t, bool include_archived)
{
	return (include_archived || !t->archived) && (pg->after == NULL || strcmp(t->name, pg->after) > 0) &&
	       (pg->before == NULL || strcmp(t->name, pg->before) < 0);
}

void evtypes_list(const struct page *pg, bool include_archived, struct event_type **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&lock);
	size_t nt = types.n, cap = nt < (size_t)pg->limit ? nt : (size_t)pg->limit;
	*out = xcalloc(cap + 1, sizeof **out);
	for (size_t k = 0; k < nt && *n < cap; k++) {
		const struct event_type *t = namevec_at(&types, pg->ascending ? k : nt - 1 - k);
		if (in_page(pg, t, include_archived))
			event_type_copy(&(*out)[(*n)++], t);
	}
	pthread_rwlock_unlock(&lock);
}

static bool is_wildcard(const char *p)
{
	size_t n = strlen(p);
	return strcmp(p, "*") == 0 || (n >= 2 && strcmp(p + n - 2, ".*") == 0);
}

const char *evtypes_unknown(const struct strlist *patterns)
{
	const char *missing = NULL;
	pthread_rwlock_rdlock(&lock);
	bool any_active = false;
	for (size_t i = 0; i < types.n && !any_active; i++)
		any_active = !((struct event_type *)namevec_at(&types, i))->archived;
	for (size_t i = 0; any_active && missing == NULL && i < patterns->n; i++) {
		bool found;
		size_t k = is_wildcard(patterns->v[i]) ? 0 : namevec_find(&types, patterns->v[i], &found);
		if (!is_wildcard(patterns->v[i]) && (!found || ((struct event_type *)namevec_at(&types, k))->archived))
			missing = patterns->v[i];
	}
	pthread_rwlock_unlock(&lock);
	return missing;
}

/* Svix keeps schemas as {"<version>": schema}; the first version's examples[0] is the type's example. */
static char *first_example(json_t *schemas)
{
	void *it = json_object_iter(schemas);
	json_t *ex = it ? json_array_get(json_object_get(json_object_iter_value(it), "examples"), 0) : NULL;
	return json_is_object(ex) ? json_dump(ex) : NULL;
}

char *evtypes_example(const char *name)
{
	char *out = NULL;
	pthread_rwlock_rdlock(&lock);
	bool found;
	size_t i = namevec_find(&types, name, &found);
	const struct event_type *t = found ? namevec_at(&types, i) : NULL;
	if (t != NULL && t->schemas != NULL)
		out = first_example(t->schemas);
	pthread_rwlock_unlock(&lock);
	return out;
}
