/* scheduler.h: what is due when. A binary min-heap of deliveries keyed by due time (O(log n) push and pop), owned by
 * the dispatcher thread. The store is the truth; the heap is rebuilt from it at start-up. */
#ifndef HOOKD_SCHEDULER_H
#define HOOKD_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A message on its way out, shared by its deliveries (refcounted on the dispatcher thread). */
struct outmsg {
	int refs;
	struct message m;
	size_t n;                 /* deliveries */
	char (*ep_ids)[ID_MAX];   /* endpoint of each delivery */
	int64_t *dkeys;          /* store key of each delivery */
	int trigger;              /* enum trigger_type */
	bool held;                /* counted in outmsg_held_bytes (the dispatcher's payload budget) */
	struct outmsg *next;      /* the dispatcher's inbox link */
};

/* Takes ownership of m's contents and of ep_ids (malloc'd, n entries); dkeys is allocated here. */
struct outmsg *outmsg_new(struct message *m, char (*ep_ids)[ID_MAX], size_t n);
void outmsg_unref(struct outmsg *om);
/* Payload bytes of held outmsgs still alive (dispatcher thread). */
extern int64_t outmsg_held_bytes;

/* 32 bytes, so a backlog of a million costs 32 MB. msg == NULL: load the delivery from the store when due. */
struct sched_item {
	int64_t due_ms;
	int64_t dkey;
	struct outmsg *msg; /* a reference, or NULL */
	uint32_t ep_idx;    /* which of msg's deliveries */
	int32_t attempts;   /* attempts made so far, or -1: take the store's count */
};

struct sched {
	struct sched_item *v;
	size_t n, cap;
};

void sched_init(struct sched *s);
/* Drops the references the items hold. */
void sched_dispose(struct sched *s);
void sched_push(struct sched *s, const struct sched_item *it);
/* The earliest item, or NULL when empty. */
const struct sched_item *sched_peek(const struct sched *s);
void sched_pop(struct sched *s, struct sched_item *out);

#endif
