/* scheduler.h: what the dispatcher sends next comes from a scheduler backend (OpenSMTPD's scheduler_backend).
 *
 * The queue (queue.h) tells the schedule of committed deliveries and retries; the dispatcher takes what is due,
 * ready to send (payload in memory), without ever waiting on the store: a backend that must read (a retry known
 * only by its key) does so on a thread of its own, in batches, and wakes the dispatcher when they are ready.
 *
 * Ownership: a node sends only for the endpoints it owns. The in-memory backend (sched_ram.c, for SQLite: one
 * process, one writer) owns every endpoint and is filled from the store at start-up. A shared-database backend
 * claims endpoints through leases (claim/renew/release), takes the due deliveries of its endpoints from the
 * database, and tells the dispatcher when it loses one (`lost`).
 */
#ifndef HOOKD_SCHEDULER_H
#define HOOKD_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "heap.h"
#include "outmsg.h"
#include "store.h"

struct sched_backend {
	const char *name;
	/* Other nodes write the store too: an endpoint this node has not heard of yet may be another's new one. */
	bool shared;
	/* Fill the schedule from the store (before any other thread runs). wake is called, from any thread, when
	 * something became ready that the dispatcher may be sleeping through. 0, or -1. */
	int (*init)(const struct config *cfg, struct store *st, void (*wake)(void));
	/* Start and stop the backend's own threads (a loader, a lease renewer). */
	void (*start)(void);
	void (*stop)(void);
	void (*dispose)(void);

	/* ---- from the queue, after commit; any thread ---- */
	/* A committed message's deliveries; takes the reference. */
	void (*insert)(struct outmsg *om);
	/* Committed retries, known by key (item.msg NULL), n of them; or a taken item put back for later (its
	 * message reference goes with it). */
	void (*retry)(const struct sched_item *v, size_t n);
	/* Committed final outcomes (sent, failed for good, canceled): these deliveries left the schedule. */
	void (*settled)(const int64_t *dkeys, size_t n);

	/* ---- the dispatcher thread ---- */
	/* Up to max items due by now_ms, each with its message loaded (msg != NULL); never blocks. */
	size_t (*take)(int64_t now_ms, struct sched_item *out, size_t max);
	/* ms until the next item is due (0: some are ready now), or -1 if none is known; at most cap. */
	int64_t (*wait_ms)(int64_t now_ms, int64_t cap);
	/* Deliveries scheduled, for the gauge. */
	size_t (*count)(void);
	/* The oldest delivery key of an endpoint pending when the schedule was filled (fifo's head after a
	 * restart), taken once: 0 if none or asked before. */
	int64_t (*boot_oldest)(const char *endpoint_id);

	/* ---- ownership (a shared database's nodes; the in-memory backend owns everything) ---- */
	/* Whether this node sends for the endpoint now. */
	bool (*owns)(const char *endpoint_id);
	/* Called by the dispatcher when its in-flight deliveries of an endpoint it lost are done (drained), so the
	 * backend may hand the endpoint over. */
	void (*release)(const char *endpoint_id);
	/* Endpoints lost since the last call (lease expired or rebalanced), for the dispatcher to drop their
	 * state; returns how many ids were written into out (ID_MAX each), at most max. */
	size_t (*lost)(char (*out)[ID_MAX], size_t max);
};

extern const struct sched_backend sched_ram; /* one writer (SQLite): every endpoint, filled at start-up */
extern const struct sched_backend sched_pg;  /* a shared database: the endpoints this node holds leases on */

/* The schedule in use: the backend that serves the store's kind. */
extern const struct sched_backend *sched;

/* Pick the backend for st and fill it (sched_backend->init). */
int sched_init(const struct config *cfg, struct store *st, void (*wake)(void));

#endif
