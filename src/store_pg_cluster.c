/* store_pg_cluster.c: what several nodes on one PostgreSQL share beyond the tables: the notifications a batch
 * sends when it commits (deliveries made pending, registry changes). */
#include "store_pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note_add(struct pg_store *s, const char *entry, size_t len)
{
	if (s->notes_len + len + 1 > s->notes_cap) {
		s->notes_cap = (s->notes_len + len + 1) * 2 + 256;
		s->notes = xrealloc(s->notes, s->notes_cap);
	}
	memcpy(s->notes + s->notes_len, entry, len);
	s->notes_len += len;
	s->notes[s->notes_len++] = '\n';
}

/* "d LO-HI" per run of consecutive keys (a batch's keys come from one sequence: mostly one run) */
void pg_note_pending(struct pg_store *s, const int64_t *keys, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && keys[j] == keys[j - 1] + 1)
			j++;
		char e[64];
		int len = j - i == 1 ? snprintf(e, sizeof e, "d %" PRId64, keys[i])
				     : snprintf(e, sizeof e, "d %" PRId64 "-%" PRId64, keys[i], keys[j - 1]);
		if (keys[i] > 0)
			note_add(s, e, (size_t)len);
		i = j;
	}
}

void pg_notes_job_begin(struct pg_store *s) { s->notes_job = s->notes_len; }

void pg_notes_job_drop(struct pg_store *s) { s->notes_len = s->notes_job; }

void pg_notes_clear(struct pg_store *s) { s->notes_len = s->notes_job = 0; }
