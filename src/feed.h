/* feed.h: the registries' change feed across the nodes of a shared database (docs/scaling.md).
 *
 * A node's committed registry changes reach the others as notification entries ("c <kind> <key>",
 * store_write_ops.note_change, sent by commit.c). A node that hears one reloads the entry in a committer job of
 * its own (store_write_ops.registry_row, on the write connection, so in order with its own writes) and applies
 * it as a change through registry_apply when that job's batch is durable: a row found is a put, a row gone a
 * delete. After the listening connection was lost (notifications may have been missed), every registry is read
 * again the same way (feed_resync). Called from the schedule's cluster thread.
 */
#ifndef HOOKD_FEED_H
#define HOOKD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Another node changed this entry (kind "app", "endpoint", "evtype", "source", "apiver"); collected until feed_flush. */
void feed_heard(const char *kind, const char *key, size_t key_len);
/* Reload what was heard since the last flush, in one committer job. */
void feed_flush(void);
/* Reload every entry of every registry (after notifications may have been missed), in one committer job. */
void feed_resync(void);
/* Whether a reload failed since the last call (then the caller resyncs once the database answers). */
bool feed_again(void);

/* ---- read-your-writes across nodes ----
 * An API write that changed a registry is answered only once every other live node has applied the change (or
 * after FEED_ACK_WAIT_MS), so that a client's next request, whichever node takes it, sees it. The write's job
 * notes a token ("a <seq>") after its changes; a node that hears it reloads those changes and, once they are
 * applied, acks with "k <origin node> <seq>" in a batch of its own; the origin counts the acks. */
#define FEED_ACK_WAIT_MS 1000

/* Committer thread, at the end of a job that recorded registry changes: a token for them (0: no other node to
 * wait for). The caller notes "a <token>" (store_write_ops.note) and, once committed, awaits it. */
uint64_t feed_token(void);
/* Call cb(arg) once every other live node has acked token (at once for 0, an unknown or an expired one), or
 * after FEED_ACK_WAIT_MS; from any thread, once the token's batch committed. */
void feed_await(uint64_t token, void (*cb)(void *arg), void *arg);
/* The cluster thread: another node (origin) wants an ack of seq, after what it announced before it. */
void feed_heard_token(const char *origin, size_t origin_len, uint64_t seq);
/* The cluster thread: a node acked this node's token seq. */
void feed_acked(uint64_t seq);
/* The cluster thread: how many other nodes are alive (each tick); and, each turn, give up waits past their
 * time. */
void feed_peers(int n);
void feed_expire(void);
/* After the API stopped: the feed's memory goes (no cb runs). */
void feed_dispose(void);

#endif
