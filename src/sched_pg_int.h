/* sched_pg_int.h: what the schedule of a shared database (sched_pg.c) shares with the reading of the other
 * nodes' notifications and of this node's fifo echoes (sched_pg_notes.c). Nothing else includes it. */
#ifndef HOOKD_SCHED_PG_INT_H
#define HOOKD_SCHED_PG_INT_H

#include <pthread.h>

#include "keyset.h"
#include "sched_core.h"
#include "store.h"
#include "util.h"

enum own_state { OWN_LOADING, OWN_OWNED, OWN_GONE };
enum key_state { K_SCHED, K_OUT };

/* An endpoint this node holds a lease on (or is loading, or has just lost). */
struct own {
	char id[ID_MAX];
	int state;
	bool seen;           /* in the last renewal */
	int64_t boot_oldest; /* the smallest pending key the claim's read found (fifo's head), until asked */
};

/* sched_pg.c's: the record map (endpoint id -> struct own) and the key set, both under pg_mu. */
extern pthread_mutex_t pg_mu;
extern struct hmap pg_owned;
extern struct keyset pg_keys;

static inline bool own_active(const struct own *o) { return o != NULL && o->state != OWN_GONE; }

/* Deliveries found for the schedule (read from the store, or named by notes), pushed to the core at once. */
struct found {
	struct sched_vec items;
	bool claim; /* a claim's read: note each endpoint's oldest key */
};

/* A delivery's due time in the schedule: all those due already come out in the order of their keys, the order the
 * cluster accepted them in (fifo), not of times stamped by different nodes' clocks or heard late in a note. */
static inline int64_t due_at(int64_t due_ms) { return due_ms > now_ms() ? due_ms : 1; }

/* ---- sched_pg_notes.c (the cluster thread's, but pg_echo_add) ---- */

/* What one wait for notifications heard. */
struct heard {
	int64_t *lo, *hi; /* key ranges to read (pending_in) */
	size_t n, cap;
	bool scan, claim;
	int64_t own_max;    /* the highest key of this node's own commits named */
	bool own_scan;      /* this node's own notes overflowed */
	struct found found; /* the other nodes' deliveries for endpoints of ours, scheduled from their notes */
};

/* store->c->wait's callback: one notification's payload into h (arg). */
void pg_heard_cb(void *arg, const char *payload);
/* This node's fifo commits whose echo has come (in this wait or before), or that waited too long, join the other
 * nodes' key ranges in h for one read. */
void pg_echoes_ready(struct heard *h);
/* The read failed: this node's fifo commits in it (the ranges of h after the first `foreign`) wait again. */
void pg_echoes_again(const struct heard *h, size_t foreign);
/* Under pg_mu: a commit of this node's for a fifo endpoint it owns, to be read once its echo came (at: mono ms). */
void pg_echo_add(int64_t key, int64_t at);
/* The echoes waiting, let go (the backend's dispose). */
void pg_echoes_dispose(void);
/* Atomic: this node owns a fifo endpoint, so its own notes' keys are read. */
extern int pg_owns_fifo;

#endif
