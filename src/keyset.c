/* keyset.c: delivery keys with an owner and a state (keyset.h). */
#include "keyset.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t slot(const struct keyset *s, int64_t key)
{
	uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* keys are sequential: spread them */
	return (size_t)(h >> 32 ^ h) & (s->cap - 1);
}

void keyset_dispose(struct keyset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct kent *keyset_get(const struct keyset *s, int64_t key)
{
	if (s->cap == 0 || key == 0)
		return NULL;
	for (size_t i = slot(s, key);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i].key == key)
			return &s->v[i];
		if (s->v[i].key == 0)
			return NULL;
	}
}

static void put(struct keyset *s, const struct kent *e)
{
	size_t i = slot(s, e->key);
	while (s->v[i].key != 0)
		i = (i + 1) & (s->cap - 1);
	s->v[i] = *e;
	s->n++;
}

static void grow(struct keyset *s)
{
	struct keyset old = *s;
	s->cap = old.cap ? old.cap * 2 : 1024;
	s->v = xcalloc(s->cap, sizeof *s->v);
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].key != 0)
			put(s, &old.v[i]);
	free(old.v);
}

bool keyset_add(struct keyset *s, int64_t key, void *owner, int state)
{
	if (key == 0 || keyset_get(s, key) != NULL)
		return false;
	if ((s->n + 1) * 4 > s->cap * 3) /* at most 3/4 full */
		grow(s);
	put(s, &(struct kent){key, owner, state});
	return true;
}

void keyset_del(struct keyset *s, int64_t key)
{
	struct kent *e = keyset_get(s, key);
	if (e == NULL)
		return;
	size_t hole = (size_t)(e - s->v), mask = s->cap - 1;
	/* backward shift: move up each later entry of the run that may sit in the hole */
	for (size_t j = (hole + 1) & mask; s->v[j].key != 0; j = (j + 1) & mask) {
		size_t home = slot(s, s->v[j].key);
		/* j's entry may move to hole when its home is not in (hole, j] (cyclically) */
		bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!between) {
			s->v[hole] = s->v[j];
			hole = j;
		}
	}
	s->v[hole].key = 0;
	s->v[hole].owner = NULL;
	s->n--;
}

size_t keyset_drop_owners(struct keyset *s, bool (*drop)(const void *owner))
{
	size_t gone = 0;
	struct keyset old = *s;
	if (old.cap == 0)
		return 0;
	s->v = xcalloc(old.cap, sizeof *s->v);
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.v[i].key == 0)
			continue;
		if (drop(old.v[i].owner))
			gone++;
		else
			put(s, &old.v[i]);
	}
	free(old.v);
	return gone;
}
