/* namevec.c: an array sorted by name (namevec.h). */
#include "namevec.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *name_of(const struct namevec *nv, const void *elem)
{
	return *(char *const *)((const char *)elem + nv->name_off);
}

void *namevec_at(const struct namevec *nv, size_t i) { return nv->v + i * nv->size; }

size_t namevec_find(const struct namevec *nv, const char *name, bool *found)
{
	size_t lo = 0, hi = nv->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name_of(nv, namevec_at(nv, mid)), name);
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

static int by_name(const void *a, const void *b, void *arg)
{
	const struct namevec *nv = arg;
	return strcmp(name_of(nv, a), name_of(nv, b));
}

void namevec_clear(struct namevec *nv)
{
	for (size_t i = 0; i < nv->n; i++)
		nv->dispose(namevec_at(nv, i));
	free(nv->v);
	nv->v = NULL;
	nv->n = nv->cap = 0;
}

void namevec_load(struct namevec *nv, void *v, size_t n)
{
	if (n > 0)
		qsort_r(v, n, nv->size, by_name, nv);
	namevec_clear(nv);
	nv->v = v;
	nv->n = nv->cap = n;
}

void namevec_put(struct namevec *nv, const void *elem)
{
	bool found;
	size_t i = namevec_find(nv, name_of(nv, elem), &found);
	if (found) {
		nv->dispose(namevec_at(nv, i));
	} else {
		if (nv->n == nv->cap) {
			nv->cap = nv->cap ? nv->cap * 2 : 16;
			nv->v = xrealloc(nv->v, nv->cap * nv->size);
		}
		memmove(namevec_at(nv, i + 1), namevec_at(nv, i), (nv->n - i) * nv->size);
		nv->n++;
	}
	memcpy(namevec_at(nv, i), elem, nv->size);
}

void namevec_delete(struct namevec *nv, const char *name)
{
	bool found;
	size_t i = namevec_find(nv, name, &found);
	if (!found)
		return;
	nv->dispose(namevec_at(nv, i));
	memmove(namevec_at(nv, i), namevec_at(nv, i + 1), (nv->n - i - 1) * nv->size);
	nv->n--;
}
