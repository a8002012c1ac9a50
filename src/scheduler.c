/* scheduler.c: a binary min-heap of sched_items. */
#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

struct outmsg *outmsg_new(struct message *m, char (*ep_ids)[ID_MAX], size_t n)
{
	struct outmsg *om = xcalloc(1, sizeof *om);
	om->refs = 1;
	om->m = *m;
	memset(m, 0, sizeof *m);
	om->n = n;
	om->ep_ids = ep_ids;
	om->dkeys = xcalloc(n ? n : 1, sizeof *om->dkeys);
	return om;
}

int64_t outmsg_held_bytes;

void outmsg_unref(struct outmsg *om)
{
	if (om == NULL || --om->refs > 0)
		return;
	if (om->held)
		outmsg_held_bytes -= (int64_t)om->m.payload_len;
	message_dispose(&om->m);
	free(om->ep_ids);
	free(om->dkeys);
	free(om);
}

void sched_init(struct sched *s) { memset(s, 0, sizeof *s); }

void sched_dispose(struct sched *s)
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

void sched_push(struct sched *s, const struct sched_item *it)
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

const struct sched_item *sched_peek(const struct sched *s) { return s->n ? &s->v[0] : NULL; }

void sched_pop(struct sched *s, struct sched_item *out)
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
