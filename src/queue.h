/* queue.h: the one door for a message (OpenSMTPD's queue.c).
 *
 * Every producer (message create and send-example, resend, recover, replay-missing, inbound forward and
 * source replay, operational events) builds an outmsg and hands it to this module, which writes it through
 * the committer and, once that commit is durable, hands its deliveries to the schedule (scheduler.h). The
 * dispatcher's outcomes come back here, are recorded by the committer in batches, and the retries among them
 * go back to the schedule after their commit. Nothing else calls the schedule's submit path.
 *
 * Two ways in: a producer with a committer job of its own (an API call whose answer waits for the commit) calls
 * queue_write_* from its job's run() and queue_committed() from its done; a producer without one calls
 * queue_submit(), which runs a job of the door's own.
 */
#ifndef HOOKD_QUEUE_H
#define HOOKD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "outmsg.h"
#include "store.h"

/* ---- inside a committer job (committer thread) ---- */
/* A new message and one delivery per endpoint, due at due_ms. STORE_CONFLICT if its eventId is taken in its
 * app: nothing is written, and the existing message's id goes into existing (may be NULL). */
int queue_write_msg(struct store *st, struct outmsg *om, int64_t due_ms, char existing[ID_MAX]);
/* More deliveries of a message already stored (resend, replay): one per endpoint of om, due at due_ms. */
int queue_write_deliveries(struct store *st, struct outmsg *om, int64_t due_ms);

/* ---- after that job's commit ---- */
/* Hand the committed deliveries to the schedule; takes the reference. rc: the job's result (anything but
 * STORE_OK drops the message: nothing was written). */
void queue_committed(struct outmsg *om, int rc);

/* Write om as a new message (due at its creation) in a job of the door's, then schedule it. Thread-safe. */
void queue_submit(struct outmsg *om);

/* ---- outcomes (dispatcher thread) ---- */
/* A zeroed outcome in the current batch, to fill in. */
struct outcome *queue_outcome_add(void);
/* Send the batch to the committer; after its commit, the retries in it go to the schedule. A batch whose commit
 * failed (the database unavailable) is kept, bounded, and sent again by a later flush. */
void queue_outcomes_flush(void);
/* At shutdown, after the committer stopped: drop what is still kept (those deliveries stay pending in the
 * store and are sent again after restart). */
void queue_dispose(void);

#endif
