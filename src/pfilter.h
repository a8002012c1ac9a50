/* pfilter.h: payload filters, an endpoint's payloadFilter (docs/api.md, "Payload filters").
 *
 * A filter is a JSON object with MongoDB query semantics, compiled once (when the endpoint enters the cache or is
 * validated by the API) into a tree that is evaluated against each message's parsed payload:
 *   - top-level keys are ANDed; a key is a dotted path ("customer.tier", "items.0.sku") or one of
 *     "$and" / "$or" (a non-empty array of filters, all / any must match) or "$not" (a filter, negated: hookd's
 *     addition; MongoDB only has $not on a field);
 *   - a path's value is an operator expression (an object whose keys are all operators) or anything else, which
 *     means {"$eq": value}. Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (with $options "imsx")
 *     and $not (an operator expression, negated: {"amount": {"$not": {"$gt": 5}}}). Several operators on one path
 *     are ANDed;
 *   - a path segment over an array descends into each element that is an object; a numeric segment indexes the
 *     array (and also descends into elements). At the end of the path a value that is an array is tested itself
 *     and element by element: the path matches if any of them does ("items.sku": "A1" over items: [{sku: ...}]);
 *   - comparisons: numbers with numbers (integers and reals compared as numbers), strings with strings (bytewise),
 *     $eq/$in on other values by JSON equality; mismatched types never match. $ne, $nin and $not are the negations
 *     of $eq, $in and their operand, so they match a missing field; {"$eq": null} matches null or a missing field;
 *   - $regex: PCRE2 in UTF mode, compiled once, JIT when available, with match and depth limits: a subject that
 *     hits a limit does not match (a hostile pattern cannot hang fan-out);
 *   - a payload that is not JSON (NULL here) matches only the empty filter {}.
 * Caps: PFILTER_TEXT_MAX bytes of filter JSON, PFILTER_DEPTH_MAX nesting, PFILTER_CLAUSES_MAX clauses (paths,
 * operators and $in items), PFILTER_REGEX_MAX bytes per pattern, PFILTER_SEGS_MAX segments per path.
 * A compiled filter is immutable: any number of threads may evaluate it at once. */
#ifndef HOOKD_PFILTER_H
#define HOOKD_PFILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PFILTER_TEXT_MAX (16 * 1024)
#define PFILTER_DEPTH_MAX 16
#define PFILTER_CLAUSES_MAX 256
#define PFILTER_REGEX_MAX 1024
#define PFILTER_SEGS_MAX 32
#define PFILTER_PATH_MAX 1024      /* bytes of one dotted path */
#define PFILTER_MATCH_LIMIT 100000 /* pcre2_set_match_limit */
#define PFILTER_DEPTH_LIMIT 1000   /* pcre2_set_depth_limit */
#define PFILTER_ERR_MAX 512

struct pfilter;

/* Compile a filter (a JSON object). On error returns NULL with err set to "<root>.<location>: <problem>" (e.g.
 * "payloadFilter.amount.$gt: must be a number or string"); root names the filter in messages. */
struct pfilter *pfilter_compile(const json_t *filter, const char *root, char err[PFILTER_ERR_MAX]);
/* The same from JSON text (at most PFILTER_TEXT_MAX bytes). */
struct pfilter *pfilter_compile_text(const char *text, size_t len, const char *root, char err[PFILTER_ERR_MAX]);
/* True if the payload (NULL: not JSON) matches. */
bool pfilter_match(const struct pfilter *f, const json_t *payload);
void pfilter_free(struct pfilter *f);

#endif
