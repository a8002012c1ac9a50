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

/* Another node changed this entry (kind "app", "endpoint", "evtype", "source"); collected until feed_flush. */
void feed_heard(const char *kind, const char *key, size_t key_len);
/* Reload what was heard since the last flush, in one committer job. */
void feed_flush(void);
/* Reload every entry of every registry (after notifications may have been missed), in one committer job. */
void feed_resync(void);
/* Whether a reload failed since the last call (then the caller resyncs once the database answers). */
bool feed_again(void);

#endif
