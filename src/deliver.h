/* deliver.h: the dispatcher thread. curl multi with keep-alive, a global and a per-endpoint cap on transfers
 * in flight, Standard Webhooks signing at send time, and outcomes (OK / RETRY at t / FAIL) sent back to the
 * committer in batches. */
#ifndef HOOKD_DELIVER_H
#define HOOKD_DELIVER_H

#include "config.h"
#include "scheduler.h"
#include "store.h"

/* Prepare the dispatcher and load every pending delivery from the store (call before commit_start). */
int deliver_init(const struct config *cfg, struct store *st);
/* Start the thread. */
void deliver_start(void);
/* Hand over a committed message's deliveries (takes the reference). Thread-safe. */
void deliver_submit(struct outmsg *om);
/* Stop starting transfers, wait up to the drain timeout for those in flight (the rest stay pending in the
 * store, to be sent after restart), hand the last outcomes to the committer, join. */
void deliver_stop(void);
void deliver_dispose(void);

#endif
