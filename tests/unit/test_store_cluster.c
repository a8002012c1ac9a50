/* test_store_cluster.c: the store contract suite (test_store.c) on the write path's batch prefetch and the cluster
 * side of a shared database (st->c; its tests do nothing on a single-writer backend): endpoint leases, the
 * notification of new deliveries and the pending deliveries of endpoints taken over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "store.h"
#include "store_fixture.h"

/* ---- the write path's batch prefetch ---- */

/* st->c->wait's callback: appends each payload to seen (4096 bytes), "|" after it. */
static void wait_cb(void *arg, const char *payload)
{
	char *seen = arg;
	size_t len = strlen(seen);
	snprintf(seen + len, 4096 - len, "%s|", payload);
}

/* Does a notification in seen ("...|"-separated payloads) name key in a "p <endpoint> <due> K1-K2,K3,..." entry
 * (for endpoint, if not NULL)? */
static bool noted_for(const char *seen, const char *endpoint, int64_t key)
{
	for (const char *p = strstr(seen, "\np "); p != NULL; p = strstr(p + 1, "\np ")) {
		const char *ep = p + 3, *sp = strchr(ep, ' ');
		if (sp == NULL || (endpoint != NULL && ((size_t)(sp - ep) != strlen(endpoint) || strncmp(ep, endpoint, strlen(endpoint)) != 0)))
			continue;
		char *end;
		(void)strtoll(sp + 1, &end, 10); /* the due time */
		while (*end == ' ' || *end == ',') {
			long long lo = strtoll(end + 1, &end, 10), hi = lo;
			if (*end == '-')
				hi = strtoll(end + 1, &end, 10);
			if (key >= lo && key <= hi)
				return true;
		}
	}
	return false;
}

static bool notified_key(const char *seen, int64_t key) { return noted_for(seen, NULL, key); }

/* A batch's message inserts announced ahead (msg_prefetch, where the backend has it): each job still gets its own
 * answer, a conflict in the middle writes nothing and touches neither neighbour. Run three times: in the middle
 * of a batch; as its end (_i 1), where a shared database names the keys written to the other nodes with the
 * COMMIT; as its end with every endpoint this node's own (_i 2, NOTE_NONE), where the COMMIT goes with the
 * inserts (seen from another connection before batch_commit, which has nothing left to do) and nobody is
 * notified; and as its end with every endpoint another node's (_i 3, NOTE_LATER), where the COMMIT goes with the
 * inserts too and the keys are named only once the held notes are due: between batches (notes_flush), or with
 * the COMMIT of a batch that names nothing itself. */
static enum note_class all_own(const char *endpoint_id)
{
	(void)endpoint_id;
	return NOTE_NONE;
}

static enum note_class all_others(const char *endpoint_id)
{
	(void)endpoint_id;
	return NOTE_LATER;
}

START_TEST(test_msg_prefetch)
{
	bool ends = _i >= 1, quiet = _i >= 2 && st->c != NULL; /* 2: this node owns every endpoint; 3: none */
	bool later = _i == 3 && st->c != NULL;
	if (quiet)
		st->c->set_note_class(st, later ? all_others : all_own);
	char seen[4096] = "";
	bool resync = false;
	if (st->c != NULL)
		ck_assert_int_eq(st->c->wait(st, 0, wait_cb, seen, &resync), STORE_OK); /* opens and LISTENs */
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	ck_assert_int_eq(put_plain_endpoint(2, 1), STORE_OK);
	int eps[] = {1};
	ck_assert_int_eq(insert_msg(1, 1, "p-1", eps, 1, 9000, NULL), STORE_OK);
	struct message m[4];
	msg_init(&m[0], 2, 1, "p-2");
	msg_init(&m[1], 3, 1, "p-1"); /* taken by message 1 */
	msg_init(&m[2], 4, 1, NULL);  /* to both endpoints */
	msg_init(&m[3], 5, 1, "p-2"); /* taken by message 2, earlier in the same batch */
	char ep[2][ID_MAX];
	mk_id(ep[0], "ep_", 1);
	mk_id(ep[1], "ep_", 2);
	const char *ptrs[2] = {ep[0], ep[1]};
	size_t neps[4] = {1, 1, 2, 1};
	struct store_msg_ins ins[4];
	for (int i = 0; i < 4; i++)
		ins[i] = (struct store_msg_ins){.m = &m[i], .ep_ids = (const char(*)[ID_MAX])ep, .n = neps[i], .due_ms = 9000};
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	if (st->w->msg_prefetch != NULL)
		st->w->msg_prefetch(st, ins, 4, ends);
	int rc[4];
	int64_t dk[4][2] = {{0}};
	char existing[4][ID_MAX];
	for (int i = 0; i < 4; i++) {
		job_begin();
		rc[i] = st->w->msg_insert(st, &m[i], ptrs, neps[i], 9000, dk[i], existing[i]);
		job_end(rc[i] == STORE_OK);
	}
	char id2[ID_MAX];
	mk_id(id2, "msg_", 2);
	struct message got;
	if (quiet) { /* the COMMIT went with the inserts: another connection sees them before batch_commit */
		ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id2, &got), STORE_OK);
		message_dispose(&got);
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	char want[ID_MAX];
	mk_id(want, "msg_", 1);
	ck_assert_int_eq(rc[0], STORE_OK);
	ck_assert_int_eq(rc[1], STORE_CONFLICT);
	ck_assert_str_eq(existing[1], want);
	ck_assert_int_eq(rc[2], STORE_OK);
	ck_assert_int_eq(rc[3], STORE_CONFLICT);
	ck_assert_str_eq(existing[3], id2);
	ck_assert_int_gt(dk[0][0], 0);
	ck_assert_int_gt(dk[2][0], dk[0][0]); /* keys in the batch's order, each in its endpoint's slot */
	ck_assert_int_gt(dk[2][1], dk[2][0]);
	struct delivery d;
	ck_assert_int_eq(st->q->delivery_load(st, dk[2][1], &d, NULL), STORE_OK);
	ck_assert_str_eq(d.endpoint_id, ep[1]);
	int64_t c[5];
	counts_of(1, 0, c);
	ck_assert_int_eq(c[DS_PENDING], 4); /* message 1, 2, and 4 twice */
	char id3[ID_MAX];
	mk_id(id3, "msg_", 3);
	ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id3, &got), STORE_NOTFOUND);
	mk_id(id3, "msg_", 5);
	ck_assert_int_eq(st->q->msg_get(st, app_id_of(1), id3, &got), STORE_NOTFOUND);
	for (int i = 0; i < 4; i++)
		message_dispose(&m[i]);
	for (int i = 0; st->c != NULL && i < (quiet ? 3 : 50) && !(notified_key(seen, dk[0][0]) && notified_key(seen, dk[2][1]));
	     i++)
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
	if (later) { /* held back: named only by notes_flush, once due (at once: nothing was named before) */
		ck_assert_msg(!notified_key(seen, dk[0][0]) && !notified_key(seen, dk[2][1]), "notified: %s", seen);
		ck_assert_int_eq(st->w->notes_due(st), 0);
		st->w->notes_flush(st);
		ck_assert_int_eq(st->w->notes_due(st), -1);
		ck_assert_int_eq(insert_msg(6, 1, NULL, eps, 1, 9000, dk[3]), STORE_OK); /* right after a NOTIFY: held */
		ck_assert_int_gt(st->w->notes_due(st), 0);
		ck_assert_int_le(st->w->notes_due(st), STORE_NOTE_LATER_MS);
		for (int i = 0; i < 50 && !(notified_key(seen, dk[0][0]) && notified_key(seen, dk[2][1])); i++)
			ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
		ck_assert_msg(notified_key(seen, dk[0][0]) && notified_key(seen, dk[2][1]), "notified: %s", seen);
		ck_assert_msg(!notified_key(seen, dk[3][0]), "notified: %s", seen);
		while (st->w->notes_due(st) > 0)
			usleep(1000);
		st->c->set_note_class(st, all_own); /* a batch with no notes of its own carries the due ones */
		ck_assert_int_eq(insert_msg(7, 1, NULL, eps, 1, 9000, NULL), STORE_OK);
		ck_assert_int_eq(st->w->notes_due(st), -1);
		for (int i = 0; i < 50 && !notified_key(seen, dk[3][0]); i++)
			ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
		ck_assert_msg(notified_key(seen, dk[3][0]), "notified: %s", seen);
	} else if (st->c != NULL && quiet) /* its own endpoints' deliveries: announced to nobody */
		ck_assert_msg(!notified_key(seen, dk[0][0]) && !notified_key(seen, dk[2][1]), "notified: %s", seen);
	else if (st->c != NULL)
		ck_assert_msg(notified_key(seen, dk[0][0]) && notified_key(seen, dk[2][1]), "notified: %s", seen);
}
END_TEST

/* A batch's message inserts announced with the idempotency claims their jobs make first (a request with a key):
 * each job claims (a new key; one held, whose answer comes back and whose message is not written; one expired,
 * taken over), inserts only if it claimed, and releases its key if the insert failed, then fails, as req_run
 * does (the release is undone with the job: its claim must be too, though it went with the inserts). Run as
 * the batch's middle (_i 0) and as its end with every endpoint this node's own (_i 1: the COMMIT is not sent
 * with the inserts, since a release may follow them). */
START_TEST(test_msg_prefetch_claims)
{
	if (_i == 1 && st->c != NULL)
		st->c->set_note_class(st, all_own);
	ck_assert_int_eq(put_plain_endpoint(1, 1), STORE_OK);
	int eps[] = {1};
	ck_assert_int_eq(insert_msg(1, 1, "p-1", eps, 1, 9000, NULL), STORE_OK);
	int status;
	char *body = NULL;
	begin();
	ck_assert_int_eq(st->w->idem_claim(st, "k-held", 0, 2500, 202, "held", &status, &body), STORE_OK);
	ck_assert_int_eq(st->w->idem_claim(st, "k-old", 0, 1000, 202, "old", &status, &body), STORE_OK);
	commit();

	enum { N = 5 };
	const char *key[N] = {"k-a", "k-held", "k-b", NULL, "k-old"};
	const char *answer[N] = {"a", "held again", "b", NULL, "new"};
	struct message m[N];
	msg_init(&m[0], 2, 1, NULL);
	msg_init(&m[1], 3, 1, NULL);
	msg_init(&m[2], 4, 1, "p-1"); /* its eventId is taken: the key it claimed is released */
	msg_init(&m[3], 5, 1, NULL);
	msg_init(&m[4], 6, 1, NULL);
	char ep[1][ID_MAX];
	mk_id(ep[0], "ep_", 1);
	const char *ptrs[1] = {ep[0]};
	struct store_claim cl[N];
	struct store_msg_ins ins[N];
	for (int i = 0; i < N; i++) {
		cl[i] = (struct store_claim){.key = key[i], .min_created_ms = 2000, .now_ms = 3000, .status = 202,
					    .answer = answer[i]};
		ins[i] = (struct store_msg_ins){.m = &m[i], .ep_ids = (const char(*)[ID_MAX])ep, .n = 1, .due_ms = 9000,
						.claim = key[i] != NULL ? &cl[i] : NULL};
	}
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	if (st->w->msg_prefetch != NULL)
		st->w->msg_prefetch(st, ins, N, _i == 1);
	int crc[N], rc[N];
	char *held[N] = {NULL};
	for (int i = 0; i < N; i++) {
		job_begin();
		crc[i] = key[i] == NULL ? STORE_OK
					: st->w->idem_claim(st, key[i], 2000, 3000, 202, answer[i], &status, &held[i]);
		rc[i] = -1;
		if (crc[i] == STORE_OK)
			rc[i] = st->w->msg_insert(st, &m[i], ptrs, 1, 9000, NULL, NULL);
		bool failed = crc[i] == STORE_OK && rc[i] != STORE_OK;
		if (key[i] != NULL && failed)
			ck_assert_int_eq(st->w->idem_release(st, key[i]), STORE_OK);
		job_end(!failed); /* a failed job rolls back alone: its claim too, wherever the backend made it */
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	int want_crc[N] = {STORE_OK, STORE_CONFLICT, STORE_OK, STORE_OK, STORE_OK};
	int want_rc[N] = {STORE_OK, -1, STORE_CONFLICT, STORE_OK, STORE_OK};
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(crc[i], want_crc[i]);
		ck_assert_int_eq(rc[i], want_rc[i]);
		char id[ID_MAX];
		mk_id(id, "msg_", i + 2);
		struct message got;
		int g = st->q->msg_get(st, app_id_of(1), id, &got);
		ck_assert_int_eq(g, want_rc[i] == STORE_OK ? STORE_OK : STORE_NOTFOUND);
		if (g == STORE_OK)
			message_dispose(&got);
		message_dispose(&m[i]);
	}
	ck_assert_str_eq(held[1], "held");
	free(held[1]);
	/* what the keys hold now: the claims' answers, the released key free again */
	const char *now_holds[N] = {"a", "held", NULL, NULL, "new"};
	begin();
	for (int i = 0; i < N; i++) {
		if (key[i] == NULL)
			continue;
		body = NULL;
		int r = st->w->idem_claim(st, key[i], 0, 4000, 0, NULL, &status, &body);
		if (now_holds[i] == NULL) {
			ck_assert_int_eq(r, STORE_OK);
			continue;
		}
		ck_assert_int_eq(r, STORE_CONFLICT);
		ck_assert_int_eq(status, 202);
		ck_assert_str_eq(body, now_holds[i]);
		free(body);
	}
	commit();
}
END_TEST

/* ---- the cluster side (a shared database only) ---- */

static size_t pending_n;
static char pending_ep[ID_MAX];
static void pending_cb(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	(void)arg;
	ck_assert_int_gt(dkey, 0);
	ck_assert_int_eq(next_ms, 9000);
	snprintf(pending_ep, sizeof pending_ep, "%s", endpoint_id);
	pending_n++;
}

START_TEST(test_cluster_leases)
{
	if (st->c == NULL)
		return; /* one writer: nothing to share */
	put_app(1, NULL);
	for (int i = 1; i <= 3; i++)
		ck_assert_int_eq(put_plain_endpoint(i, 1), STORE_OK);
	int live = 0;
	int64_t eps = 0;
	ck_assert_int_eq(st->c->beat(st, "node_a", 5000, &live, &eps), STORE_OK);
	ck_assert_int_eq(live, 1);
	ck_assert_int_eq(eps, 3);

	struct idvec got = {0}, held = {0};
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 2, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 10, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 3); /* the one left */
	ck_assert_int_eq(st->c->claim(st, "node_b", 5000, 10, &got), STORE_OK);
	ck_assert_uint_eq(got.n, 3); /* every lease is live: nothing for b */
	ck_assert_int_eq(st->c->beat(st, "node_b", 5000, &live, &eps), STORE_OK);
	ck_assert_int_eq(live, 2);
	ck_assert_int_eq(st->c->renew(st, "node_a", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 3);

	/* a lease given up goes to the next claimer */
	ck_assert_int_eq(st->c->release(st, "node_a", (const char(*)[ID_MAX])got.v, 1), STORE_OK);
	struct idvec b = {0};
	ck_assert_int_eq(st->c->claim(st, "node_b", 5000, 10, &b), STORE_OK);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_str_eq(b.v[0], got.v[0]);

	/* an expired lease too: b's lapses, a takes it */
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_b", 1, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 1);
	usleep(20 * 1000);
	struct idvec a2 = {0};
	ck_assert_int_eq(st->c->claim(st, "node_a", 5000, 10, &a2), STORE_OK);
	ck_assert_uint_eq(a2.n, 1);
	ck_assert_str_eq(a2.v[0], got.v[0]);
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_b", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 0); /* b lost it */

	/* the lease of an endpoint that is gone is dropped */
	begin();
	ck_assert_int_eq(st->w->endpoint_delete(st, got.v[1]), STORE_OK);
	commit();
	held.n = 0;
	ck_assert_int_eq(st->c->renew(st, "node_a", 5000, &held), STORE_OK);
	ck_assert_uint_eq(held.n, 2);

	idvec_free(&got);
	idvec_free(&held);
	idvec_free(&b);
	idvec_free(&a2);
}
END_TEST

START_TEST(test_cluster_pending_and_notify)
{
	if (st->c == NULL)
		return;
	char ndir[] = "/tmp/hookd-node-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(ndir));
	ck_assert_int_eq(node_init(ndir), 0); /* the sender's id in the payloads */
	char file[64];
	snprintf(file, sizeof file, "%s/node", ndir);
	unlink(file);
	rmdir(ndir);
	char seen[4096] = "";
	bool resync = false;
	ck_assert_int_eq(st->c->wait(st, 0, wait_cb, seen, &resync), STORE_OK); /* opens and LISTENs */
	ck_assert(resync);
	int eps[] = {1, 2};
	int64_t dkeys[2] = {0};
	ck_assert_int_eq(insert_msg(1, 1, "e-1", eps, 2, 9000, dkeys), STORE_OK);
	ck_assert_int_eq(insert_msg(2, 1, "e-1", eps, 2, 9000, NULL), STORE_CONFLICT); /* notifies nothing */

	char ep1[ID_MAX], ep2[ID_MAX];
	mk_id(ep1, "ep_", 1);
	mk_id(ep2, "ep_", 2);
	for (int i = 0; i < 50 && !(noted_for(seen, ep1, dkeys[0]) && noted_for(seen, ep2, dkeys[1])); i++) {
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
		ck_assert(!resync);
	}
	/* each endpoint's key on a line of its own, due at once (due_ms 9000 is long past) */
	ck_assert_msg(noted_for(seen, ep1, dkeys[0]) && noted_for(seen, ep2, dkeys[1]) &&
			      !noted_for(seen, ep1, dkeys[1]) && !noted_for(seen, ep2, dkeys[0]),
		      "notified: %s", seen);
	char line[ID_MAX + 64];
	snprintf(line, sizeof line, "\np %s 0 %lld", ep1, (long long)dkeys[0]);
	ck_assert_msg(strstr(seen, line) != NULL, "notified: %s", seen);
	ck_assert_msg(strncmp(seen, node_id(), strlen(node_id())) == 0 && seen[strlen(node_id())] == '\n',
		      "the sender's node id first: %s", seen);
	ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
	ck_assert_msg(strchr(strchr(seen, '|') + 1, '|') == NULL, "one notification only: %s", seen);

	char ep[1][ID_MAX];
	mk_id(ep[0], "ep_", 2);
	pending_n = 0;
	ck_assert_int_eq(st->c->pending_of(st, (const char(*)[ID_MAX])ep, 1, pending_cb, NULL), STORE_OK);
	ck_assert_uint_eq(pending_n, 1);
	ck_assert_str_eq(pending_ep, ep[0]);
}
END_TEST

/* A batch's notes go out merged: one line per endpoint and due time, its keys as runs in key order. */
START_TEST(test_cluster_notes_merged)
{
	if (st->c == NULL)
		return;
	char seen[4096] = "";
	bool resync = false;
	ck_assert_int_eq(st->c->wait(st, 0, wait_cb, seen, &resync), STORE_OK); /* opens and LISTENs */
	int64_t later = now_ms() + 3600000;
	struct {
		int eps[2];
		size_t n;
		int64_t due;
	} w[] = {{{1, 2}, 2, 9000}, {{1, 2}, 2, 9000}, {{1}, 1, 9000}, {{1}, 1, 9000}, {{1}, 1, later}};
	int64_t k[5][2] = {{0}};
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	for (int i = 0; i < 5; i++) {
		struct message m;
		msg_init(&m, 10 + i, 1, NULL);
		char ids[2][ID_MAX];
		const char *ptrs[2];
		for (size_t e = 0; e < w[i].n; e++) {
			mk_id(ids[e], "ep_", w[i].eps[e]);
			ptrs[e] = ids[e];
		}
		job_begin();
		ck_assert_int_eq(st->w->msg_insert(st, &m, ptrs, w[i].n, w[i].due, k[i], NULL), STORE_OK);
		job_end(true);
		message_dispose(&m);
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	for (int i = 1; i < 5; i++) /* one sequence: the batch's keys follow each other */
		ck_assert_int_eq(k[i][0], (i == 1 || i == 2 ? k[i - 1][1] : k[i - 1][0]) + 1);
	char ep1[ID_MAX], ep2[ID_MAX], want[3][256];
	mk_id(ep1, "ep_", 1);
	mk_id(ep2, "ep_", 2);
	snprintf(want[0], sizeof want[0], "\np %s 0 %lld,%lld,%lld-%lld\n", ep1, (long long)k[0][0], (long long)k[1][0],
		 (long long)k[2][0], (long long)k[3][0]);
	snprintf(want[1], sizeof want[1], "\np %s %lld %lld\n", ep1, (long long)later, (long long)k[4][0]);
	snprintf(want[2], sizeof want[2], "\np %s 0 %lld,%lld|", ep2, (long long)k[0][1], (long long)k[1][1]);
	for (int i = 0; i < 50 && strstr(seen, want[2]) == NULL; i++)
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb, seen, &resync), STORE_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(strstr(seen, want[i]) != NULL, "%s in: %s", want[i], seen);
}
END_TEST

/* st->c->wait's callback for long runs of notes: appends each payload to a growing string, "|" after it. */
static void wait_cb_grow(void *arg, const char *payload)
{
	char **seen = arg;
	size_t len = strlen(*seen), plen = strlen(payload);
	*seen = xrealloc(*seen, len + plen + 2);
	memcpy(*seen + len, payload, plen);
	memcpy(*seen + len + plen, "|", 2);
}

/* An endpoint's keys that do not follow each other (every other one: two endpoints per message) make a line too
 * long for one: it is cut into lines of at most 2000 bytes, over more than one notification, and every key is
 * named for its endpoint. */
START_TEST(test_cluster_notes_long)
{
	if (st->c == NULL)
		return;
	enum { N = 900 };
	char *seen = xcalloc(1, 1);
	bool resync = false;
	ck_assert_int_eq(st->c->wait(st, 0, wait_cb_grow, &seen, &resync), STORE_OK);
	char ep[2][ID_MAX];
	mk_id(ep[0], "ep_", 1);
	mk_id(ep[1], "ep_", 2);
	const char *ptrs[2] = {ep[0], ep[1]};
	static int64_t k[N][2];
	ck_assert_int_eq(st->w->batch_begin(st), STORE_OK);
	for (int i = 0; i < N; i++) {
		struct message m;
		msg_init(&m, 100 + i, 1, NULL);
		job_begin();
		ck_assert_int_eq(st->w->msg_insert(st, &m, ptrs, 2, 9000, k[i], NULL), STORE_OK);
		job_end(true);
		message_dispose(&m);
	}
	ck_assert_int_eq(st->w->batch_commit(st), STORE_OK);
	for (int i = 0; i < 100 && !noted_for(seen, ep[1], k[N - 1][1]); i++)
		ck_assert_int_eq(st->c->wait(st, 100, wait_cb_grow, &seen, &resync), STORE_OK);
	for (int i = 0; i < N; i++)
		for (int e = 0; e < 2; e++)
			ck_assert_msg(noted_for(seen, ep[e], k[i][e]), "key %lld of %s", (long long)k[i][e], ep[e]);
	size_t lines = 0, notes = 0;
	for (const char *p = seen; *p != '\0'; p += strcspn(p, "\n|"), p += *p != '\0') {
		size_t len = strcspn(p, "\n|");
		ck_assert_uint_le(len, 2000);
		lines += strncmp(p, "p ", 2) == 0;
		notes += p[len] == '|';
	}
	ck_assert_uint_ge(lines, 4); /* two endpoints, each over 2000 bytes of keys: more than a notification holds */
	ck_assert_uint_ge(notes, 2);
	free(seen);
}
END_TEST

void store_cluster_tests(TCase *tc)
{
	tcase_add_loop_test(tc, test_msg_prefetch, 0, 4);
	tcase_add_loop_test(tc, test_msg_prefetch_claims, 0, 2);
	tcase_add_test(tc, test_cluster_leases);
	tcase_add_test(tc, test_cluster_pending_and_notify);
	tcase_add_test(tc, test_cluster_notes_merged);
	tcase_add_test(tc, test_cluster_notes_long);
}
