/* filter.h: which endpoints get which messages, by event type and channel. Filters on the payload's fields
 * (an endpoint's payloadFilter) are pfilter.h's. */
#ifndef HOOKD_FILTER_H
#define HOOKD_FILTER_H

#include <stdbool.h>
#include "util.h"

/* True if an event type matches one pattern: exact, "*" (anything), or "prefix.*" (the prefix followed by a
 * dot and at least one more character: "order.*" matches "order.created" and "order.item.added", not "order"). */
bool filter_type_match(const char *pattern, const char *event_type);
/* True if the event type matches any pattern; an absent list (v == NULL) or an empty one matches everything. */
bool filter_types_match(const struct strlist *patterns, const char *event_type);
/* Channels: an endpoint without channels (absent or empty) gets every message; one with channels gets only
 * messages that share at least one channel (a message without channels does not reach it). */
bool filter_channels_match(const struct strlist *endpoint_channels, const struct strlist *msg_channels);
/* Valid event type name / pattern: 1-256 of [a-zA-Z0-9-_.], patterns may also be "*" or end in ".*". */
bool filter_event_type_valid(const char *s);
bool filter_pattern_valid(const char *s);
/* Valid channel name: 1-128 of [a-zA-Z0-9-_.:]. */
bool filter_channel_valid(const char *s);

#endif
