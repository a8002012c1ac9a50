/* keyset.h: a set of delivery keys, each with an owner pointer and a small state (open addressing, linear probing,
 * backward-shift deletion: no tombstones, no allocation per key). Not thread-safe: the caller locks. Key 0 is
 * never stored (delivery keys start at 1). */
#ifndef HOOKD_KEYSET_H
#define HOOKD_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kent {
	int64_t key; /* 0: empty slot */
	void *owner;
	int state;
};

struct keyset {
	struct kent *v;
	size_t cap, n; /* cap: 0 or a power of two */
};

void keyset_dispose(struct keyset *s);
/* The entry of key, or NULL. */
struct kent *keyset_get(const struct keyset *s, int64_t key);
/* Add key; false (nothing changed) if it is there already. */
bool keyset_add(struct keyset *s, int64_t key, void *owner, int state);
void keyset_del(struct keyset *s, int64_t key);
/* Remove every entry for which drop(owner) is true; how many went. */
size_t keyset_drop_owners(struct keyset *s, bool (*drop)(const void *owner));

#endif
