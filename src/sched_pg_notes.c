/* sched_pg_notes.c: what the cluster thread hears (sched_pg_int.h). Other nodes' notes of deliveries made pending
 * for endpoints of ours are scheduled straight from them; this node's own commits for fifo endpoints wait for their
 * echo, so that they are read after every message another node accepted before them (docs/scaling.md, "Prompt
 * hand-off"); registry changes go to the change feed. */
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "node.h"
#include "sched_pg_int.h"

#define ECHO_MAX_MS 1000 /* a fifo commit whose echo was not seen (a "scan" overflow) is read after this anyway */

/* This node's commits of fifo endpoints' deliveries, waiting for their echo (under pg_mu); the highest key of this
 * node named by a notification handled so far (the cluster thread's). */
struct echo {
	int64_t key, at; /* at: monotonic ms */
};
static struct echo *echo_v;
static size_t echo_n, echo_cap;
static int64_t echoed;
int pg_owns_fifo;

void pg_echo_add(int64_t key, int64_t at)
{
	if (echo_n == echo_cap) {
		echo_cap = echo_cap ? echo_cap * 2 : 64;
		echo_v = xrealloc(echo_v, echo_cap * sizeof *echo_v);
	}
	echo_v[echo_n++] = (struct echo){key, at};
}

void pg_echoes_dispose(void)
{
	free(echo_v);
	echo_v = NULL;
	echo_n = echo_cap = 0;
	echoed = 0;
}

static void heard_add(struct heard *h, int64_t lo, int64_t hi)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->lo = xrealloc(h->lo, h->cap * sizeof *h->lo);
		h->hi = xrealloc(h->hi, h->cap * sizeof *h->hi);
	}
	h->lo[h->n] = lo;
	h->hi[h->n++] = hi;
}

#define RUN_MAX 100000 /* the most keys one run of a note may name (more: a scan) */

/* "p <endpoint> <due> K1-K2,K3,...": deliveries made pending for an endpoint, due at due (0: at once). Another
 * node's, for an endpoint of ours: scheduled as they are (the loader reads each when due, and drops one no longer
 * pending). This node's own (for fifo endpoints, with their echo) and "d K1-K2" (a node of an older build, which
 * names no endpoint): read. */
static void heard_pending(struct heard *h, const char *p, const char *eol, bool own)
{
	char id[ID_MAX] = "", *end;
	const char *keys_at = p + 2;
	long long due = 0;
	if (p[0] == 'p') {
		const char *ep = p + 2, *sp = memchr(ep, ' ', (size_t)(eol - ep));
		if (sp == NULL || sp == ep || sp - ep >= ID_MAX)
			return;
		memcpy(id, ep, (size_t)(sp - ep));
		id[sp - ep] = '\0';
		if ((due = strtoll(sp + 1, &end, 10)) < 0 || *end != ' ')
			return;
		keys_at = end + 1;
	}
	bool read = own ? __atomic_load_n(&pg_owns_fifo, __ATOMIC_RELAXED) != 0 : p[0] == 'd';
	pthread_mutex_lock(&pg_mu);
	struct own *o = own || p[0] == 'd' ? NULL : hmap_get(&pg_owned, id);
	for (const char *k = keys_at; k < eol && (*k >= '0' && *k <= '9');) {
		long long lo = strtoll(k, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoll(end + 1, &end, 10);
		k = *end == ',' ? end + 1 : eol;
		if (lo <= 0 || hi < lo)
			break;
		if (hi - lo >= RUN_MAX) {
			h->scan = true;
			continue;
		}
		if (own && hi > h->own_max)
			h->own_max = hi;
		if (read)
			heard_add(h, lo, hi);
		for (long long key = lo; own_active(o) && key <= hi; key++)
			if (keyset_add(&pg_keys, key, o, K_SCHED))
				sched_vec_add(&h->found.items, &(struct sched_item){due_at(due), key, NULL, 0, -1});
	}
	pthread_mutex_unlock(&pg_mu);
}

/* "<node id>\n" then entries: "p <endpoint> <due> <keys>" / "d <keys>" (deliveries made pending), "scan",
 * "c <kind> <id>", "a <seq>", "k <origin> <seq>", "hello" */
void pg_heard_cb(void *arg, const char *payload)
{
	struct heard *h = arg;
	const char *nl = strchr(payload, '\n');
	if (nl == NULL)
		return;
	const char *me = node_id();
	bool own = (size_t)(nl - payload) == strlen(me) && strncmp(payload, me, strlen(me)) == 0;
	for (const char *p = nl + 1; *p != '\0'; p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (p[0] == 'c' && p[1] == ' ') { /* "c <kind> <key>": a registry entry changed */
			const char *kind = p + 2, *sp = strchr(kind, ' '), *eol = strchr(kind, '\n');
			if (eol == NULL)
				eol = kind + strlen(kind);
			if (sp == NULL || sp > eol)
				continue;
			if (sp - kind == 8 && strncmp(kind, "endpoint", 8) == 0)
				h->claim = true; /* maybe a new endpoint: those under their share claim it now */
			if (!own) {
				char k[12];
				snprintf(k, sizeof k, "%.*s", (int)(sp - kind < 11 ? sp - kind : 11), kind);
				feed_heard(k, sp + 1, (size_t)(eol - sp - 1));
			}
		} else if (p[0] == 'a' && p[1] == ' ') { /* "a <seq>": ack once what came before is applied */
			if (!own)
				feed_heard_token(payload, (size_t)(nl - payload), strtoull(p + 2, NULL, 10));
		} else if (p[0] == 'k' && p[1] == ' ') { /* "k <origin> <seq>": a node applied a token's changes */
			const char *o = p + 2, *sp = strchr(o, ' ');
			if (!own && sp != NULL && (size_t)(sp - o) == strlen(me) && strncmp(o, me, strlen(me)) == 0)
				feed_acked(strtoull(sp + 1, NULL, 10));
		} else if (strncmp(p, "hello", 5) == 0) { /* a node joined (or came back): count it now */
			if (!own)
				h->claim = true;
		} else if (strncmp(p, "scan", 4) == 0) {
			if (own)
				h->own_scan = true;
			else
				h->scan = true;
		} else if ((p[0] == 'p' || p[0] == 'd') && p[1] == ' ') {
			const char *eol = strchr(p, '\n');
			heard_pending(h, p, eol != NULL ? eol : p + strlen(p), own);
		}
	}
}

void pg_echoes_ready(struct heard *h)
{
	int64_t now = mono_ms();
	pthread_mutex_lock(&pg_mu);
	if (h->own_max > echoed)
		echoed = h->own_max;
	size_t kept = 0;
	for (size_t i = 0; i < echo_n; i++) {
		if (echo_v[i].key <= echoed || h->own_scan || now - echo_v[i].at >= ECHO_MAX_MS)
			heard_add(h, echo_v[i].key, echo_v[i].key);
		else
			echo_v[kept++] = echo_v[i];
	}
	echo_n = kept;
	pthread_mutex_unlock(&pg_mu);
}

void pg_echoes_again(const struct heard *h, size_t foreign)
{
	int64_t now = mono_ms();
	pthread_mutex_lock(&pg_mu);
	for (size_t i = foreign; i < h->n; i++)
		pg_echo_add(h->lo[i], now);
	pthread_mutex_unlock(&pg_mu);
}
