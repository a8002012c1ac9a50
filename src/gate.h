/* gate.h: the per-endpoint gate of the dispatcher. Before a due delivery starts, its endpoint's rules decide
 * whether it may: ordering "fifo" (only the head delivery, in acceptance order), the in-flight cap, the token
 * bucket of throttleRate, the circuit breaker; and after each attempt the endpoint's health (failures in a row,
 * failing since, auto-disable). A delivery held back waits here with its reference and is released to the
 * dispatcher when its turn comes (gate_take).
 *
 * Fair shares: an endpoint starts with a few slots and earns more by answering (up to --endpoint-inflight),
 * losing half on each timeout; an app holds at most its share of --max-inflight (--app-inflight); and the last
 * eighth of --max-inflight is kept for apps with few transfers in flight. So slow or hanging endpoints, of one
 * app or many, hold a bounded part of the budget and the others' deliveries start at once (docs/security.md).
 *
 * The state is kept per endpoint this node owns (the schedule's ownership, sched.h), so the rules are exact for
 * the whole cluster with no shared counters. Dispatcher thread only.
 */
#ifndef HOOKD_GATE_H
#define HOOKD_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "ephealth.h"
#include "heap.h"

struct hookd_config;

struct app_state;

struct ep_state {
	int inflight;
	int window;              /* the endpoint's adaptive in-flight limit (gate.c: fair shares); 0: not set yet */
	struct app_state *app;   /* its app's share */
	bool starved;            /* on the queue of endpoints held back by their app's share or the reserve */
	struct sched_item *parked; /* waiting for a free slot, a token, or the end of a pause; in due order */
	size_t head, n, cap;
	/* throttleRate: a token bucket holding up to one second of sends */
	double tokens;
	int64_t refill_mono;
	int64_t wake_mono; /* when a throttled or paused endpoint may send again; 0 if neither */
	/* health: consecutive failures pause the endpoint (circuit breaker); failing for long disables it */
	int failures;            /* consecutive */
	int64_t failing_since;   /* unix ms of the first failure since the last success; 0 when healthy */
	int64_t paused_until;    /* monotonic ms; 0: not paused */
	int64_t cooldown;        /* the current pause, doubled by each failed probe */
	bool probing;            /* one delivery is testing a paused endpoint */
	bool disabling;          /* a disable is on its way to the store */
	int64_t opened_ms, retry_ms, closed_ms; /* unix ms: the breaker's last opening, its pause's end, closing */
	int disabled_reason;     /* enum disable_reason (ephealth.h): why this node disabled it */
	int64_t disabled_ms;
	struct ephealth pub;     /* what the health board holds for it (published on change) */
	bool published;
	uint64_t seen_gen;       /* the endpoint's snapshot: an edit (say, re-enabling it) resets health */
	int64_t seen_updated_ms; /* its updated_ms: a new snapshot of the same version (reloaded) is no edit */
	/* signing (request.c): the endpoint's libhookd config, rebuilt when the endpoint changes or a secret expires */
	struct hookd_config *signer;
	uint64_t signer_gen;
	int64_t signer_until;
	/* ordering "fifo": only the head delivery is ever started; the rest wait in acceptance (key) order */
	int64_t fifo_head;       /* 0: none */
	bool fifo_init;          /* the head was looked up among the deliveries pending at start-up */
	int64_t boot_oldest;     /* the oldest key pending at start-up (0: none) */
	struct heap fifo_wait;   /* keyed by delivery key: due_ms holds the key, dkey the due time */
};

void gate_init(const struct config *cfg);
void gate_dispose(void);

/* The state of an endpoint, made on first use. */
struct ep_state *gate_state(const char *endpoint_id);
/* May this due delivery of ep start now? If not, the gate keeps the item (and its reference) until its turn. */
bool gate_admit(struct ep_state *es, const struct ep_snap *ep, int trigger, const struct sched_item *it);
/* A transfer started / ended (the end frees a slot: the endpoint's next parked delivery is released). */
void gate_started(struct ep_state *es);
void gate_finished(struct ep_state *es);
/* The delivery's new state is known (DS_PENDING: a retry comes back later, the fifo head stays). */
void gate_outcome(const char *endpoint_id, int64_t dkey, int new_status);
/* An attempt's result for the endpoint's health: ok, the HTTP status (0: none), and whether it timed out. */
void gate_health(struct ep_state *es, const struct endpoint *e, bool ok, long status, bool timed_out);

/* Released deliveries due by now_ms, up to max (each with its reference). */
size_t gate_take(int64_t now_ms, struct sched_item *out, size_t max);
/* ms until the gate releases something (a token refills, a pause ends, a released one is due), or -1. */
int64_t gate_wait_ms(int64_t now_ms);
/* Deliveries held in the gate, for the scheduled gauge. */
size_t gate_held(void);
/* Forget an endpoint this node no longer owns (its held deliveries are dropped: the new owner sends them).
 * false while transfers of it are still in flight: nothing done, ask again once they finished. */
bool gate_drop(const char *endpoint_id);

#endif
