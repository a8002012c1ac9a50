/* evtypes.c: the event type registry: a sorted array behind a rwlock. A registry holds tens to hundreds of
 * types, so a binary search for lookups and a memmove for inserts are plenty. */
#include "evtypes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct event_type *types; /* sorted by name */
static size_t ntypes, captypes;

void evtypes_dispose(void)
{
	pthread_rwlock_wrlock(&lock);
	for (size_t i = 0; i < ntypes; i++)
		event_type_dispose(&types[i]);
	free(types);
	types = NULL;
	ntypes = captypes = 0;
	pthread_rwlock_unlock(&lock);
}

/* The index of name, or of where it would go; *found tells which. Lock held. */
static size_t find(const char *name, bool *found)
{
	size_t lo = 0, hi = ntypes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(types[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct event_type *)a)->name, ((const struct event_type *)b)->name);
}

void evtypes_load(struct event_type *v, size_t n)
{
	if (n > 0)
		qsort(v, n, sizeof *v, by_name);
	pthread_rwlock_wrlock(&lock);
	for (size_t i = 0; i < ntypes; i++)
		event_type_dispose(&types[i]);
	free(types);
	types = v;
	ntypes = captypes = n;
	pthread_rwlock_unlock(&lock);
}

void evtypes_put(const struct event_type *t)
{
	struct event_type copy;
	event_type_copy(&copy, t);
	pthread_rwlock_wrlock(&lock);
	bool found;
	size_t i = find(t->name, &found);
	if (found) {
		event_type_dispose(&types[i]);
	} else {
		if (ntypes == captypes) {
			captypes = captypes ? captypes * 2 : 16;
			types = xrealloc(types, captypes * sizeof *types);
		}
		memmove(&types[i + 1], &types[i], (ntypes - i) * sizeof *types);
		ntypes++;
	}
	types[i] = copy;
	pthread_rwlock_unlock(&lock);
}

void evtypes_delete(const char *name)
{
	pthread_rwlock_wrlock(&lock);
	bool found;
	size_t i = find(name, &found);
	if (found) {
		event_type_dispose(&types[i]);
		memmove(&types[i], &types[i + 1], (ntypes - i - 1) * sizeof *types);
		ntypes--;
	}
	pthread_rwlock_unlock(&lock);
}

int evtypes_get(const char *name, struct event_type *out)
{
	pthread_rwlock_rdlock(&lock);
	bool found;
	size_t i = find(name, &found);
	if (found)
		event_type_copy(out, &types[i]);
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
	size_t cap = ntypes < (size_t)pg->limit ? ntypes : (size_t)pg->limit;
	*out = xcalloc(cap + 1, sizeof **out);
	for (size_t k = 0; k < ntypes && *n < cap; k++) {
		const struct event_type *t = &types[pg->ascending ? k : ntypes - 1 - k];
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
	for (size_t i = 0; i < ntypes && !any_active; i++)
		any_active = !types[i].archived;
	for (size_t i = 0; any_active && missing == NULL && i < patterns->n; i++) {
		bool found;
		size_t k = is_wildcard(patterns->v[i]) ? 0 : find(patterns->v[i], &found);
		if (!is_wildcard(patterns->v[i]) && (!found || types[k].archived))
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
	size_t i = find(name, &found);
	if (found && types[i].schemas != NULL)
		out = first_example(types[i].schemas);
	pthread_rwlock_unlock(&lock);
	return out;
}
