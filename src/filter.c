/* filter.c: which endpoints get which messages, by event type pattern and by channel.
 * Name checks spell out their ASCII ranges instead of using ctype, so the locale cannot widen them. */
#include "filter.h"

#include <string.h>

#define EVENT_TYPE_MAX 256
#define CHANNEL_MAX 128

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.';
}

/* The first n bytes of s are 1..max name characters (plus ':' when colon is set). */
static bool name_valid(const char *s, size_t n, size_t max, bool colon)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]) && !(colon && s[i] == ':'))
			return false;
	return true;
}

bool filter_type_match(const char *pattern, const char *event_type)
{
	if (pattern == NULL || event_type == NULL)
		return false;
	if (strcmp(pattern, "*") == 0 || strcmp(pattern, event_type) == 0)
		return true;
	size_t plen = strlen(pattern);
	if (plen < 2 || strcmp(pattern + plen - 2, ".*") != 0)
		return false;
	/* "order.*": the event starts with "order." and has at least one more character. */
	size_t keep = plen - 1;
	return strncmp(pattern, event_type, keep) == 0 && event_type[keep] != '\0';
}

bool filter_types_match(const struct strlist *patterns, const char *event_type)
{
	if (patterns == NULL || patterns->n == 0)
		return true;
	for (size_t i = 0; i < patterns->n; i++)
		if (filter_type_match(patterns->v[i], event_type))
			return true;
	return false;
}

bool filter_channels_match(const struct strlist *endpoint_channels, const struct strlist *msg_channels)
{
	if (endpoint_channels == NULL || endpoint_channels->n == 0)
		return true;
	if (msg_channels == NULL)
		return false;
	for (size_t i = 0; i < msg_channels->n; i++)
		if (strlist_contains(endpoint_channels, msg_channels->v[i]))
			return true;
	return false;
}

bool filter_event_type_valid(const char *s)
{
	return s != NULL && name_valid(s, strnlen(s, EVENT_TYPE_MAX + 1), EVENT_TYPE_MAX, false);
}

bool filter_pattern_valid(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, EVENT_TYPE_MAX + 1);
	if (n > EVENT_TYPE_MAX)
		return false;
	if (strcmp(s, "*") == 0)
		return true;
	/* "prefix.*" needs a real prefix: ".*" alone would only match names that start with a dot. */
	if (n > 2 && strcmp(s + n - 2, ".*") == 0)
		return name_valid(s, n - 2, EVENT_TYPE_MAX, false);
	return name_valid(s, n, EVENT_TYPE_MAX, false);
}

bool filter_channel_valid(const char *s)
{
	return s != NULL && name_valid(s, strnlen(s, CHANNEL_MAX + 1), CHANNEL_MAX, true);
}
