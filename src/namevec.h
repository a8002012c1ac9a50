/* namevec.h: an array of structs kept sorted by their name (a `char *` member), for the small registries that
 * copy out under a rwlock (event types, payload versions): a binary search for lookups, a memmove for inserts.
 * A registry holds tens to hundreds of entries, so nothing cleverer pays. Not thread-safe: its owner locks. */
#ifndef HOOKD_NAMEVEC_H
#define HOOKD_NAMEVEC_H

#include <stdbool.h>
#include <stddef.h>

struct namevec {
	char *v;                      /* the elements, size bytes each, sorted by name */
	size_t n, cap;
	size_t size;                  /* sizeof an element */
	size_t name_off;              /* offsetof its `char *name` */
	void (*dispose)(void *elem);  /* frees what an element owns (not the element) */
};
#define NAMEVEC_INIT(type, member, dispose_fn) {NULL, 0, 0, sizeof(type), offsetof(type, member), dispose_fn}

/* Element i. */
void *namevec_at(const struct namevec *nv, size_t i);
/* The index of name, or of where it would go (the first element naming something after it); *found tells. */
size_t namevec_find(const struct namevec *nv, const char *name, bool *found);
/* Take n elements (v malloc'd, any order) in place of the current ones, which are disposed. */
void namevec_load(struct namevec *nv, void *v, size_t n);
/* Take elem's contents (a copy the caller made: the vector owns it now): replaces the element of that name, or
 * goes in its place. */
void namevec_put(struct namevec *nv, const void *elem);
/* Dispose and remove the element of that name, if any. */
void namevec_delete(struct namevec *nv, const char *name);
/* Dispose every element and free the array. */
void namevec_clear(struct namevec *nv);

#endif
