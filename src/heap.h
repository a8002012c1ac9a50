/* heap.h: a binary min-heap of schedule items keyed by due time (O(log n) push and pop), the in-memory schedule's
 * storage and the per-endpoint gate's waiting rooms. Not thread-safe: each heap has one owning thread. */
#ifndef HOOKD_HEAP_H
#define HOOKD_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outmsg;

/* One delivery in the schedule: 32 bytes, so a backlog of a million costs 32 MB. msg == NULL: only the delivery
 * key is known, and the scheduler loads the delivery and its message from the store when it comes due. */
struct sched_item {
	int64_t due_ms;
	int64_t dkey;       /* the delivery key */
	struct outmsg *msg; /* a reference, or NULL */
	uint32_t ep_idx;    /* which of msg's deliveries */
	int32_t attempts;   /* attempts made so far, or -1: take the store's count */
};

struct heap {
	struct sched_item *v;
	size_t n, cap;
};

void heap_init(struct heap *h);
/* Drops the references the items hold. */
void heap_dispose(struct heap *h);
void heap_push(struct heap *h, const struct sched_item *it);
/* The earliest item (ties: the smaller key), or NULL when empty. */
const struct sched_item *heap_peek(const struct heap *h);
void heap_pop(struct heap *h, struct sched_item *out);

#endif
