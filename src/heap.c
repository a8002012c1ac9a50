/* heap.c: a binary min-heap of sched_items. */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "outmsg.h"
#include "util.h"

void heap_init(struct heap *s) { memset(s, 0, sizeof *s); }

void heap_dispose(struct heap *s)
{
	for (size_t i = 0; i < s->n; i++)
		outmsg_unref(s->v[i].msg);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static bool before(const struct sched_item *a, const struct sched_item *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->dkey < b->dkey);
}

void heap_push(struct heap *s, const struct sched_item *it)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	size_t i = s->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(it, &s->v[parent]))
			break;
		s->v[i] = s->v[parent];
		i = parent;
	}
	s->v[i] = *it;
}

const struct sched_item *heap_peek(const struct heap *s) { return s->n ? &s->v[0] : NULL; }

void heap_pop(struct heap *s, struct sched_item *out)
{
	*out = s->v[0];
	struct sched_item last = s->v[--s->n];
	size_t i = 0;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= s->n)
			break;
		if (child + 1 < s->n && before(&s->v[child + 1], &s->v[child]))
			child++;
		if (!before(&s->v[child], &last))
			break;
		s->v[i] = s->v[child];
		i = child;
	}
	if (s->n > 0)
		s->v[i] = last;
}
