/* outmsg.h: a message on its way out (OpenSMTPD's envelope): the message and the endpoints it goes to, with
 * their delivery keys. Producers build it, the queue (queue.h) writes it, the schedule (scheduler.h) holds it
 * while it is due, the dispatcher sends it. */
#ifndef HOOKD_OUTMSG_H
#define HOOKD_OUTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A message on its way out, shared by its deliveries. Refcounted: by its producer until queue_committed, then
 * on the dispatcher thread only. */
struct outmsg {
	int refs;
	struct message m;
	size_t n;               /* deliveries */
	char (*ep_ids)[ID_MAX]; /* endpoint of each delivery */
	int64_t *dkeys;         /* delivery key of each, set by queue_write_* */
	int trigger;            /* enum trigger_type */
	bool held;              /* counted in outmsg_held_bytes (the schedule's payload budget) */
	struct outmsg *next;    /* the schedule's inbox link */
};

/* Takes ownership of m's contents and of ep_ids (malloc'd, n entries); dkeys is allocated here. */
struct outmsg *outmsg_new(struct message *m, char (*ep_ids)[ID_MAX], size_t n);
void outmsg_unref(struct outmsg *om);
/* Payload bytes of held outmsgs still alive (dispatcher thread). */
extern int64_t outmsg_held_bytes;

#endif
