/* deliver.h: the dispatcher thread. curl multi with keep-alive and a global cap on transfers in flight; what to
 * send comes from the schedule (scheduler.h), each delivery passes its endpoint's gate (gate.h), its request is
 * built and signed at send time (request.h), and the outcomes (OK / RETRY at t / FAIL) go back through the queue
 * (queue.h) in batches. */
#ifndef HOOKD_DELIVER_H
#define HOOKD_DELIVER_H

#include "config.h"

/* Prepare the dispatcher (before the schedule is filled: sched_init takes deliver_wake). */
int deliver_init(const struct config *cfg);
/* Wake the dispatcher's loop from any thread (something was scheduled or loaded). */
void deliver_wake(void);
/* Start the thread. */
void deliver_start(void);
/* Stop starting transfers, wait up to the drain timeout for those in flight (the rest stay pending in the
 * store, to be sent after restart), hand the last outcomes to the queue, join. */
void deliver_stop(void);
void deliver_dispose(void);

#endif
