/* ephealth.h: the endpoint health board: what the dispatcher knows of each endpoint it owns (the circuit
 * breaker, failures in a row, why it disabled it), published for the API threads (GET .../figures).
 *
 * The dispatcher (gate.c) writes an endpoint's entry when its state changes; any thread reads a copy. The board
 * is this process's: on a shared database only the node that owns an endpoint (sched.h) has its breaker. */
#ifndef HOOKD_EPHEALTH_H
#define HOOKD_EPHEALTH_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };
enum disable_reason { DISABLED_NONE, DISABLED_GONE, DISABLED_FAILING };

struct ephealth {
	int breaker;            /* enum breaker_state */
	int failures;           /* in a row */
	int64_t failing_since;  /* unix ms of the first failure since the last success; 0 when healthy */
	int64_t opened_ms;      /* unix ms the breaker last opened; 0: never since this process started */
	int64_t retry_ms;       /* open: unix ms the pause ends (the next delivery then probes) */
	int64_t closed_ms;      /* unix ms the breaker last closed again (a probe succeeded); 0: never */
	int disabled_reason;    /* enum disable_reason: this process disabled it (automatic) */
	int64_t disabled_ms;    /* ... at this time (the endpoint's updated_ms then) */
};

/* Set (replace) an endpoint's entry. Dispatcher thread. */
void ephealth_put(const char *endpoint_id, const struct ephealth *h);
/* Forget an endpoint (no longer owned, or deleted). */
void ephealth_forget(const char *endpoint_id);
/* A copy of an endpoint's entry; false (out zeroed) if the dispatcher has none. Any thread. */
bool ephealth_get(const char *endpoint_id, struct ephealth *out);
/* Free the board (shutdown). */
void ephealth_dispose(void);

#endif
