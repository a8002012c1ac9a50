/* sched_core.h: what every scheduler backend shares (scheduler.h): the heap of due deliveries, the inbox that
 * committed messages and retries enter by, and the loader thread that reads deliveries known only by key.
 *
 * One schedule per process: the functions work on the module's own state, like the backend that uses them.
 * Threads as in sched_ram.c: core_insert and core_push from any thread; core_take, core_wait_ms on the
 * dispatcher thread, which alone touches the heap.
 */
#ifndef HOOKD_SCHED_CORE_H
#define HOOKD_SCHED_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "outmsg.h"
#include "store.h"

struct sched_core_hooks {
	/* Dispatcher thread, as a committed message leaves the inbox: whether its delivery dkey (to endpoint_id)
	 * enters the schedule. NULL: every one does. */
	bool (*admit)(int64_t dkey, const char *endpoint_id);
	/* Loader thread: a delivery known by key was read and is no longer pending (sent, failed or canceled
	 * meanwhile, or gone): it left the schedule. NULL: nothing to tell. */
	void (*dropped)(int64_t dkey);
};

/* A growable list of schedule items. */
struct sched_vec {
	struct sched_item *v;
	size_t n, cap;
};
void sched_vec_add(struct sched_vec *q, const struct sched_item *it);

/* Start empty on st; wake is called (any thread) when something became ready. hooks may be NULL. */
void core_init(struct store *st, void (*wake)(void), const struct sched_core_hooks *hooks);
void core_start(void);
void core_stop(void);
/* Stops the loader and drops every reference held. */
void core_dispose(void);

/* Before core_start only, from the thread that fills the schedule: one pending delivery known by key. */
void core_fill(int64_t dkey, int64_t due_ms);
/* Deliveries in the schedule now (the heap alone), for a backend's start-up log. */
size_t core_filled(void);

/* A committed message's deliveries; takes the reference. */
void core_insert(struct outmsg *om);
/* Items (by key, msg NULL; or with a reference to their message, which is taken), n of them. */
void core_push(const struct sched_item *v, size_t n);

/* Dispatcher thread: up to max items due by now_ms, each with its message loaded; never blocks. */
size_t core_take(int64_t now_ms, struct sched_item *out, size_t max);
int64_t core_wait_ms(int64_t now_ms, int64_t cap);
size_t core_count(void);

#endif
