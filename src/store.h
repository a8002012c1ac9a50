/* store.h: durable state behind a backend's two tables of functions (sqlite, postgres).
 *
 * Nothing outside store_*.c sees a backend's types. Return codes: 0 (STORE_OK) or a negative enum store_rc.
 * A backend (struct store_backend) opens a store and gives it two halves, so a second backend can be written
 * one half at a time:
 *   st->w  struct store_write_ops: the committer thread only (src/commit.c), between batch_begin and
 *          batch_commit; its start-up group (the loads, the crash resets) runs on the main thread before the
 *          committer and the dispatcher start, outside a batch (and opevents writes its setup in its own batch
 *          then too).
 *   st->q  struct store_query_ops: any thread, at any time, concurrently (a backend keeps a pool of read
 *          connections); each call sees committed data only.
 *
 * Uniqueness is the database's: every unique key (app and endpoint uid, source uid, a message's eventId, an
 * event type's name, an idempotency key, an inbound dedup key) is a unique index, and the write that would
 * take a held one reports STORE_CONFLICT itself (INSERT ... ON CONFLICT, or the statement's constraint error)
 * without writing anything. No caller reads to check and then writes: with several hookd nodes on one
 * database, a read-then-write pair would let two of them both win.
 */
#ifndef HOOKD_STORE_H
#define HOOKD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "seal.h"

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,      /* backend failure, logged by the backend */
	STORE_NOTFOUND = -2,
	STORE_CONFLICT = -3, /* a unique key (uid, eventId) is taken */
	STORE_UNAVAILABLE = -4, /* the database cannot be reached now (a networked backend's connection is down);
				 * a batch that ends so was not committed, or its outcome is unknown: never a 2xx */
	STORE_RETRY = -5,       /* a transient conflict with another node's transaction (a deadlock, a serialization
				 * failure): the job's writes were rolled back, and the committer runs it again in a
				 * later batch, once this one's locks are gone (commit.c) */
};

/* Optional filters of a list; a NULL pointer or a negative number means "any". */
struct list_filter {
	int64_t before_ms, after_ms;  /* created strictly before / after (0: any) */
	const char *event_types_json; /* a JSON array of event type names */
	const char *channel;          /* messages (and attempts of messages) with this channel */
	const char *tag;              /* messages with this tag */
	int status;                   /* attempts: enum delivery_status */
	int status_code_class;        /* attempts: 0 (no response), 100, 200, 300, 400 or 500 */
};

/* A page of a list, in id order. Ids sort by creation time. */
struct page {
	const struct list_filter *filter; /* NULL: none */
	const char *before;  /* only ids < before; NULL: no bound */
	const char *after;   /* only ids > after; NULL: no bound */
	int limit;           /* at most this many rows */
	bool ascending;      /* scan order: ascending ids, else descending */
};

/* A poller sink's read (api_poll.c): the app's messages in the order they come due. A message is immediate, due
 * when created (its place: its id), or deferred, with a deliverAt after its creation (its place: deliverAt, then
 * id). The two kinds are read apart, each in its own order, and merged by the caller. */
struct poll_window {
	const char *after_id, *before_id; /* immediate ones: after_id < id < before_id */
	int64_t after_ms;                 /* deferred ones: (deliver_at_ms, id) > (after_ms, after_def_id) */
	const char *after_def_id;
	int64_t before_ms;                /* ... and deliver_at_ms < before_ms */
	const char *event_types_json;     /* a JSON array of event type names; NULL: any */
	const char *channel;              /* NULL: any */
	int limit;                        /* of each kind */
};

struct store;

/* An idempotency key claimed by a message insert's job before it inserts: idem_claim's arguments, the answer
 * (a message's 202) known before the job runs. */
struct store_claim {
	const char *key;
	int64_t min_created_ms, now_ms;
	int status;
	const char *answer;
};

/* A message insert announced ahead of its job (msg_prefetch): msg_insert's arguments, and the idempotency claim
 * its job makes first, or NULL. */
struct store_msg_ins {
	const struct message *m;
	const char (*ep_ids)[ID_MAX];
	size_t n;
	int64_t due_ms;
	const struct store_claim *claim;
};

/* The write path: the committer thread only (src/commit.c), plus the start-up group at the end, which runs
 * before any other thread does. Every function but the start-up ones runs inside a batch. */
/* How a new delivery's owner hears of it, by its endpoint (store_cluster_ops.set_note_class). */
enum note_class {
	NOTE_NONE,  /* this node owns the endpoint and schedules its own commits from memory: no note */
	NOTE_LATER, /* another node's: named within STORE_NOTE_LATER_MS, several batches' notes in one NOTIFY */
	NOTE_NOW,   /* a fifo endpoint's: named before the batch's clients are answered, so that order holds */
};
/* The longest a NOTE_LATER delivery's note waits: under load, at most one such NOTIFY per this many ms. */
#define STORE_NOTE_LATER_MS 10

struct store_write_ops {
	/* One batch = one durable transaction; batch_commit returns only once the batch is durable, and on failure
	 * the whole batch is gone. Each job in it runs between job_begin and job_end (a savepoint), so a failed
	 * job rolls back alone. The savepoints are optional: a backend may leave job_begin and job_end NULL, and
	 * the committer then skips them; a failed job's earlier writes then stay, so jobs validate before they
	 * write and rely on the atomic ops below, which report a conflict without writing anything. */
	int (*batch_begin)(struct store *);
	int (*batch_commit)(struct store *);
	void (*batch_rollback)(struct store *);
	int (*job_begin)(struct store *);
	/* Optional: the next job_begin is the batch's last job's. A backend may then send the batch's COMMIT with
	 * that job's write (outcomes_record); batch_commit then has nothing left to do, or says that it failed. */
	void (*job_last)(struct store *);
	void (*job_end)(struct store *, bool ok);
	/* Optional: the next n jobs of the batch are message inserts, each a job whose only write is msg_insert of
	 * ins[i] (the same message pointer), in this order. A backend may run them all at once here (in the jobs'
	 * places: nothing else runs between them) and answer each msg_insert from what it kept; if it cannot, each
	 * msg_insert runs as usual. Called before the first of these jobs' job_begin. ends: these are the batch's
	 * last jobs, so the backend may commit the batch here (its jobs then only read what was kept; batch_commit
	 * has nothing left to do, and if that commit failed, job_begin and batch_commit say so for every job).
	 * A job with a claim (ins[i].claim) first calls idem_claim with its arguments, then msg_insert only if the
	 * claim held, then idem_release only if the insert failed; the keys of one call are distinct. */
	void (*msg_prefetch)(struct store *, const struct store_msg_ins *ins, size_t n, bool ends);
	/* Optional (a shared database): notes held back from committed batches (NOTE_LATER). notes_due: in how many
	 * ms they must go (0: now; -1: none held); notes_flush sends them. The committer calls both between batches,
	 * never inside one; a batch's COMMIT carries them too once they are due. */
	int64_t (*notes_due)(struct store *);
	void (*notes_flush)(struct store *);

	/* Insert or replace by id. STORE_CONFLICT (nothing written) if the uid belongs to another app. */
	int (*app_put)(struct store *, const struct app *);
	/* Delete an app with its endpoints, messages, deliveries and attempts; STORE_NOTFOUND if absent. */
	int (*app_delete)(struct store *, const char *app_id);
	/* Insert or replace by id. STORE_CONFLICT (nothing written) if the uid belongs to another endpoint of the
	 * app: the unique key (app_id, uid) is the authority, the cache's check only a fast path. */
	int (*endpoint_put)(struct store *, const struct endpoint *);
	/* Delete an endpoint; its pending deliveries become DS_CANCELED. STORE_NOTFOUND if absent. */
	int (*endpoint_delete)(struct store *, const char *endpoint_id);
	/* Set an endpoint's disabled flag (the dispatcher disabling a failing endpoint). */
	int (*endpoint_set_disabled)(struct store *, const char *endpoint_id, bool disabled, int64_t updated_ms);
	/* Record since when an endpoint has been failing (0: healthy again), for auto-disable across restarts. */
	int (*endpoint_set_failing)(struct store *, const char *endpoint_id, int64_t since_ms);
	/* Pending deliveries of an endpoint become DS_CANCELED (endpoint disabled). */
	int (*endpoint_cancel_pending)(struct store *, const char *endpoint_id);

	/* Insert a message and one DS_PENDING delivery per endpoint, due at due_ms. dkeys (n entries, caller's; may
	 * be NULL) receives each delivery's key. Atomic eventId dedupe: if the message has an eventId that another
	 * message of its app holds (a unique key), nothing at all is written and STORE_CONFLICT is returned with
	 * that message's id in existing_id (may be NULL); a taken message id is STORE_CONFLICT too, with
	 * existing_id "". */
	int (*msg_insert)(struct store *, const struct message *, const char *const *endpoint_ids, size_t n,
			  int64_t due_ms, int64_t *dkeys, char existing_id[ID_MAX]);
	/* One more delivery of an existing message (a manual resend, a recovery): DS_PENDING, due at due_ms. */
	int (*delivery_add)(struct store *, const char *app_id, const char *msg_id, const char *endpoint_id,
			    int trigger, int64_t due_ms, int64_t *dkey);
	/* Drop a message's payload (the row, its deliveries and attempts stay). STORE_NOTFOUND if absent. */
	int (*msg_expunge)(struct store *, const char *app_id, const char *msg_id);
	/* Forget an attempt's response body and the body it sent (when that was not the message's payload);
	 * STORE_NOTFOUND if absent. */
	int (*attempt_expunge)(struct store *, const char *app_id, const char *msg_id, const char *attempt_id);
	/* Record n outcomes: insert each attempt row, update each delivery's status, attempts and next time. */
	int (*outcomes_record)(struct store *, const struct outcome *, size_t n);

	/* Idempotency keys, claimed atomically (a unique key): idem_claim takes key for the request about to run
	 * (STORE_OK), taking over a record created before min_created_ms (expired), else returns STORE_CONFLICT
	 * with the stored response (status, malloc'd body). A status of 0 there means the claim of a request still
	 * in flight (another node's, whose transaction has not ended; SQLite never shows one). Once the request has
	 * run, the claimer either keeps its response with idem_put (insert or replace) or drops the claim with
	 * idem_release (a failed request may be retried under the same key). A request whose response is known
	 * before it runs (a message's 202) gives it as answer_status (2xx) and answer: the claim keeps it at once,
	 * and idem_put is needed only if the response changed. */
	int (*idem_claim)(struct store *, const char *key, int64_t min_created_ms, int64_t now_ms, int answer_status,
			  const char *answer, int *status, char **body);
	int (*idem_put)(struct store *, const char *key, int status, const char *body, int64_t created_ms);
	int (*idem_release)(struct store *, const char *key);
	/* Optional (several writers on one database): at a batch's start, before any job runs, lock the unique keys
	 * its jobs will claim (idempotency keys, eventIds: commit_job.lock_keys) until the batch ends, all in one
	 * order. Two nodes' batches claiming the same keys then wait for one another instead of deadlocking (each
	 * deadlock costs the database's detection delay, a second by default, before one of them runs again). */
	int (*keys_lock)(struct store *, const char *const *keys, size_t n);
	/* For a chore (idempotency expiry, retention purge) that one node at a time should run on a shared
	 * database: take the chore's lock until the batch ends (STORE_OK), or STORE_CONFLICT if another node's batch
	 * holds it now (skip this round). NULL: one writer, always free. */
	int (*chore_lock)(struct store *, const char *name);
	/* Delete idempotency records created before ms. */
	int (*idem_purge)(struct store *, int64_t before_ms);
	/* App-scoped tokens: token_put inserts one (its hash is the key); tokens_expire brings the expiry of an
	 * app's tokens (of these session ids only, when sessions has any) forward to expires_ms, never later;
	 * token_delete drops one (logout; STORE_NOTFOUND if absent); tokens_purge drops those expired before. */
	int (*token_put)(struct store *, const struct app_token *);
	int (*tokens_expire)(struct store *, const char *app_id, const struct strlist *sessions, int64_t expires_ms);
	int (*token_delete)(struct store *, const char *hash);
	int (*tokens_purge)(struct store *, int64_t before_ms);
	/* Poller sinks (api_poll.c): a consumer's committed cursor (a message id, or a floor id from a seek), insert
	 * or replace. */
	int (*poll_cursor_put)(struct store *, const char *sink_id, const char *consumer_id, const char *cursor,
			       int64_t updated_ms);

	/* Retention: drop (set NULL) the payloads of messages older than retention_ms, or past their own
	 * payloadRetentionPeriod, and the response bodies of attempts older than retention_ms; at most limit rows of
	 * each kind. *more is set when a kind had limit rows to purge, so another call may find more. */
	int (*retention_purge)(struct store *, int64_t now_ms, int64_t retention_ms, int limit, bool *more);

	/* Background tasks: insert or replace by id. */
	int (*task_put)(struct store *, const struct task *);
	/* Recover: up to limit DS_FAIL scheduled (not manual) deliveries of the task's endpoint with key > *after
	 * whose message was created in the task's window become DS_PENDING again (no attempts made, due at now).
	 * Each one's key goes into dkeys[i] and its message (payload included) into msgs[i]; arrays malloc'd, *n of
	 * them; *after moves on. A batch stops early once its payloads reach max_bytes; *more tells that it stopped
	 * at a limit, so another call may find more. */
	int (*recover_batch)(struct store *, const struct task *, int64_t *after, int limit, size_t max_bytes,
			     int64_t now, struct message **msgs, int64_t **dkeys, size_t *n, bool *more);
	/* Replay: up to limit messages of the task's app with after_id < id < before_id, created in its window, that
	 * have no delivery to its endpoint (payload included), in id order; array malloc'd; max_bytes and *more as
	 * above. The caller adds the deliveries. */
	int (*replay_scan)(struct store *, const struct task *, const char *after_id, const char *before_id,
			   int limit, size_t max_bytes, struct message **out, size_t *n, bool *more);
	/* Bulk-replay's status filters, one query for a batch of the scan: for each of the n messages of app_id,
	 * the status of its latest delivery to endpoint_id (status[i]; -1: it has none) and the status code of its
	 * latest attempt there (code[i]: 0 if that attempt got no HTTP answer; -1: never attempted). */
	int (*delivery_states)(struct store *, const char *app_id, const char *endpoint_id,
			       const char (*msg_ids)[ID_MAX], size_t n, int *status, int *code);

	/* The event type registry: insert or replace by name; delete for good (STORE_NOTFOUND if absent). */
	int (*event_type_put)(struct store *, const struct event_type *);
	/* Insert, or replace an archived type of the name; STORE_CONFLICT (nothing written) if a live one has it.
	 * One statement decides (an upsert whose update applies only to an archived row). */
	int (*event_type_create)(struct store *, const struct event_type *);
	int (*event_type_delete)(struct store *, const char *name);

	/* Payload versions (apiver.h; names compare bytewise). api_version_create inserts a version that sorts
	 * after every stored one: STORE_CONFLICT (nothing written) if the name is taken or a name sorting after it
	 * exists; one statement decides (PostgreSQL first locks the table until the batch ends, so that two nodes'
	 * creates are ordered). api_version_set_downgrade replaces a version's code (NULL: none); STORE_NOTFOUND if
	 * absent. api_version_delete deletes one unless an endpoint is pinned to it, or, when a newer version exists,
	 * to an older one (whose chain would lose this version's downgrade): then STORE_CONFLICT, nothing deleted;
	 * STORE_NOTFOUND if absent. */
	int (*api_version_create)(struct store *, const struct api_version *);
	int (*api_version_set_downgrade)(struct store *, const char *name, const char *downgrade);
	int (*api_version_delete)(struct store *, const char *name);

	/* Inbound sources: insert or replace by id (STORE_CONFLICT if the uid is another's); delete with the
	 * requests received for it (STORE_NOTFOUND if absent). config is the source's JSON text. */
	int (*source_put)(struct store *, const char *id, const char *uid, const char *config);
	int (*source_delete)(struct store *, const char *id);
	/* A received request (a duplicate too: its row has duplicate set and keeps its own body). */
	int (*inreq_insert)(struct store *, const struct inreq *);
	/* Atomic inbound dedup: claim the source's dedup key for a verified request received at received_ms.
	 * STORE_CONFLICT (nothing written) if a request claimed it at or after since_ms (the window's start), so this
	 * one is a duplicate; else STORE_OK, the key is this request's from now on. A NULL key is never a duplicate.
	 * The caller then forwards (msg_insert) or not, and records the request with inreq_insert either way. */
	int (*inreq_dedup)(struct store *, const char *source_id, const char *dedup_key, int64_t received_ms,
			   int64_t since_ms);
	/* Delete up to limit requests received before before_ms, and the dedup keys last claimed before it (up to
	 * limit of those too); *more if there may be others. */
	int (*inreq_purge)(struct store *, int64_t before_ms, int limit, bool *more);

	/* ---- start-up: on the main thread before the committer and the dispatcher start, outside batches ----
	 * They sit with the write path because they read and reset what the writer owns (SQLite runs them on the
	 * write connection). A shared backend will need claims here (whose SENDING rows are whose). */
	/* All apps / endpoints; arrays are malloc'd, each element disposed by the caller. */
	int (*apps_load)(struct store *, struct app **out, size_t *n);
	int (*endpoints_load)(struct store *, struct endpoint **out, size_t *n);
	/* Every event type; array malloc'd, each element disposed by the caller. */
	int (*event_types_load)(struct store *, struct event_type **out, size_t *n);
	/* Every source's config text; array malloc'd, each string freed by the caller. */
	int (*sources_load)(struct store *, char ***out, size_t *n);
	/* Every payload version, in name order; array malloc'd, each element disposed by the caller. */
	int (*api_versions_load)(struct store *, struct api_version **out, size_t *n);
	/* ---- a shared database's registry feed (NULL for a backend with one writer) ----
	 * note_change, inside a job: a registry entry changed ("app", "endpoint", "evtype" (id: the name),
	 * "source", "apiver" (id: the name)); the other nodes hear of it when the batch commits, or never if the
	 * job fails.
	 * registry_row, inside a job: that entry as it is now, read on the write connection so that it is ordered
	 * with this node's own writes (an app, endpoint, event_type or api_version struct into out, or, for a
	 * source, its config text as a malloc'd string into *(char **)out); *found false if it is gone. */
	void (*note_change)(struct store *, const char *kind, const char *id);
	/* note, inside a job: any other entry for the nodes, sent with the batch's commit (feed.c's tokens and
	 * acks: "a <seq>", "k <node> <seq>"); dropped with the job if it fails. */
	void (*note)(struct store *, const char *entry);
	int (*registry_row)(struct store *, const char *kind, const char *id, void *out, bool *found);
	/* Take over the running tasks whose runner is gone, to resume them from their cursor (task.c): with own_too
	 * (at start-up) this node's own from before its restart; on a shared database also those of nodes that are
	 * no longer alive (never a live node's: two claimers never both get one). Each becomes this node's, its
	 * updated_ms now; the array is malloc'd. A task taken over from this node makes its task_put answer
	 * STORE_CONFLICT, so that a runner that lost its task stops. */
	int (*tasks_adopt)(struct store *, int64_t now_ms, bool own_too, struct task **out, size_t *n);
	/* Secrets at rest (seal.h): re-seal the stored secrets that mode (enum seal_mode) selects, in a transaction
	 * of its own (PostgreSQL: under the migration lock); *values grows by how many were sealed anew. Opening a
	 * store runs the SEAL_PLAINTEXT pass itself, with its migrations; `hookd rekey` runs SEAL_NOT_CURRENT.
	 * STORE_ERR with a one-line reason in err (a value sealed with a key this process lacks, say). */
	int (*secrets_reseal)(struct store *, int mode, int64_t *values, char *err, size_t errlen);
	/* DS_SENDING deliveries go back to DS_PENDING (at-least-once after a crash). */
	int (*deliveries_reset_sending)(struct store *);
	/* Call cb for every DS_PENDING delivery, in any order, with its due time and endpoint (the string lives
	 * only during the call). */
	int (*deliveries_scan_pending)(struct store *,
				       void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id),
				       void *arg);

};

/* The query side: any thread, at any time after open, concurrently with the writer and each other; each call
 * reads committed data only (one snapshot per call). Lists and gets, the dispatcher's loads, figures, counts.
 * Arrays are malloc'd; their elements are disposed by the caller. */
struct store_query_ops {
	/* A delivery and its message (payload included) by delivery key; m may be NULL. STORE_NOTFOUND if absent. */
	int (*delivery_load)(struct store *, int64_t dkey, struct delivery *d, struct message *m);
	/* The batch form, in one query: for each i, d[i] and m[i] (payload included; m may be NULL) of dkeys[i]. A
	 * key with no row (or whose message is gone) gets d[i].status = -1 and m[i] zeroed; a key given twice is
	 * filled twice. STORE_OK even if some keys had no row; on STORE_ERR every d[i].status is -1, every m[i]
	 * zeroed. Each m[i] is disposed by the caller. */
	int (*deliveries_load)(struct store *, const int64_t *dkeys, size_t n, struct delivery *d, struct message *m);
	/* A message of an app by id or eventId. */
	int (*msg_get)(struct store *, const char *app_id, const char *id_or_event_id, struct message *out);
	int (*msg_list)(struct store *, const char *app_id, const struct page *, struct message **out, size_t *n);
	/* Attempts of an app, filtered by endpoint and/or message (NULL: any). */
	int (*attempt_list)(struct store *, const char *app_id, const char *endpoint_id, const char *msg_id,
			    const struct page *, struct attempt **out, size_t *n);
	/* One attempt of a message of an app. */
	int (*attempt_get)(struct store *, const char *app_id, const char *msg_id, const char *attempt_id,
			   struct attempt *out);
	/* Attempted messages: the messages an endpoint was sent (its scheduled delivery of each), paged by
	 * message id; array malloc'd, each m disposed by the caller. */
	int (*endpoint_msgs)(struct store *, const char *app_id, const char *endpoint_id, const struct page *,
			     struct endpoint_msg **out, size_t *n);
	/* Every attempt of an endpoint made at or after since_ms, to cb (any order). */
	int (*attempt_figures)(struct store *, const char *app_id, const char *endpoint_id, int64_t since_ms,
			       void (*cb)(void *arg, const struct attempt_fig *f), void *arg);
	/* The oldest (smallest key) pending delivery of an endpoint; STORE_NOTFOUND if none. */
	int (*delivery_oldest_pending)(struct store *, const char *endpoint_id, int64_t *dkey);
	/* The deliveries of a message (one per endpoint it went to); array malloc'd. */
	int (*msg_deliveries)(struct store *, const char *app_id, const char *msg_id, struct delivery **out,
			      size_t *n);
	/* A background task by id; a page of them (filters: status >= 0, kind != NULL). */
	int (*task_get)(struct store *, const char *id, struct task *out);
	/* An app-scoped token by its hash (expired ones too: the caller checks). STORE_NOTFOUND if absent. */
	int (*token_get)(struct store *, const char *hash, struct app_token *out);
	/* Up to w->limit immediate and up to w->limit deferred messages of the window (struct poll_window), payload
	 * included, in any order; the array malloc'd. */
	int (*poll_read)(struct store *, const char *app_id, const struct poll_window *w, struct message **out,
			 size_t *n);
	/* A poller sink consumer's committed cursor into cursor; STORE_NOTFOUND if it has none yet. */
	int (*poll_cursor_get)(struct store *, const char *sink_id, const char *consumer_id, char cursor[ID_MAX]);
	int (*task_list)(struct store *, const struct page *, int status, const char *kind, struct task **out,
			 size_t *n);
	/* Counts of deliveries by status for tests and stats; counts[5] indexed by enum delivery_status. With neither
	 * app nor endpoint (the gauges), only DS_PENDING and DS_FAIL are counted, from their partial indexes. */
	int (*delivery_counts)(struct store *, const char *app_id, const char *endpoint_id, int64_t counts[5]);
	/* An endpoint's counts as delivery_counts, of the messages with after_id < id < before_id (either NULL: no
	 * bound; ids sort by creation time, so these are a window of time). */
	int (*delivery_counts_window)(struct store *, const char *app_id, const char *endpoint_id, const char *after_id,
				      const char *before_id, int64_t counts[5]);
	/* Requests received for a source, paged by id, with their forward counts (fwd); array malloc'd. */
	int (*inreq_list)(struct store *, const char *source_id, const struct page *, struct inreq **out, size_t *n);
	/* One request of a source with its body (a forwarded one's is its message's payload, NULL once purged). */
	int (*inreq_get)(struct store *, const char *source_id, const char *id, struct inreq *out);
};

/* A growing list of ids (endpoint ids of leases). */
struct idvec {
	char (*v)[ID_MAX];
	size_t n, cap;
};
void idvec_add(struct idvec *l, const char *id);
void idvec_free(struct idvec *l);

/* The cluster side of a shared database: several nodes, the endpoints each one owns, and the notifications of
 * every node's commits (NULL for a store with one writer, SQLite). One thread uses it (a node's cluster thread),
 * on a connection of its own, beside the writer and the readers. Times are the database's clock, so the nodes'
 * clocks need not agree. docs/scaling.md has the design these serve. */
struct store_cluster_ops {
	/* Heartbeat: node is alive for lease_ms more. *live: nodes alive now, node included; *endpoints: how many
	 * endpoints the store holds (the fair share of each node is endpoints / live, rounded up). */
	int (*beat)(struct store *, const char *node, int64_t lease_ms, int *live, int64_t *endpoints);
	/* Renew node's leases for lease_ms more; the endpoints it still holds go into held (the caller's, appended).
	 * Leases of endpoints that are gone are dropped. */
	int (*renew)(struct store *, const char *node, int64_t lease_ms, struct idvec *held);
	/* Claim up to max endpoints that no node holds a live lease on (none, or expired), for lease_ms; the ids won
	 * go into got. Two nodes claiming at once never both win an endpoint. */
	int (*claim)(struct store *, const char *node, int64_t lease_ms, size_t max, struct idvec *got);
	/* Give up node's leases of these endpoints (handed over, or stopping). */
	int (*release)(struct store *, const char *node, const char (*ids)[ID_MAX], size_t n);
	/* The pending deliveries of these endpoints: cb per delivery (key, due time, endpoint id), in any order. */
	int (*pending_of)(struct store *, const char (*ids)[ID_MAX], size_t n,
			  void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg);
	/* The pending deliveries whose keys lie in one of the n ranges [lo[i], hi[i]] (a notification's entries):
	 * cb per delivery, in any order. */
	int (*pending_in)(struct store *, const int64_t *lo, const int64_t *hi, size_t n,
			  void (*cb)(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id), void *arg);
	/* A node stopping: its heartbeat row and every lease it holds go now, so the others take its endpoints
	 * over at their next tick instead of after the lease time. */
	int (*leave)(struct store *, const char *node);
	/* Wait up to timeout_ms for notifications of commits (any node's, this one's included), cb per payload
	 * ("<node id>\n<entry>\n...": "p <endpoint> <due> K1-K2,K3" deliveries made pending for an endpoint, due
	 * at due (0: at once), "d K1-K2" the same from an older build, "scan" for too many to list, registry entries).
	 * *resync is set when the listening connection was (re)opened by this call, so that notifications may have
	 * been missed before it: the caller rescans what it owns. STORE_UNAVAILABLE when the database cannot be
	 * reached (the next call tries again, at most once a second). */
	int (*wait)(struct store *, int timeout_ms, void (*cb)(void *arg, const char *payload), void *arg,
		    bool *resync);
	/* How each endpoint's new deliveries are announced (enum note_class; called on the committer thread, once
	 * per delivery written). Until it is set, every delivery is named with its batch's COMMIT (NOTE_NOW). */
	void (*set_note_class)(struct store *, enum note_class (*cls)(const char *endpoint_id));
};

/* A backend: its URL scheme, how to open and close its stores, and its tables. */
struct store_backend {
	const char *scheme; /* "sqlite", "postgres" */
	/* Open (creating and migrating as needed) the store at location (the URL after "scheme:", a path, for
	 * sqlite; the whole URL or key=value string for postgres). On failure returns NULL and writes a one-line
	 * reason into err. */
	struct store *(*open)(const char *location, char *err, size_t errlen);
	void (*close)(struct store *);
	const struct store_write_ops *write;
	const struct store_query_ops *query;
	const struct store_cluster_ops *cluster; /* NULL: one writer */
};

/* Every backend's store starts with this; callers write st->w->msg_insert(st, ...) and st->q->msg_list(st, ...). */
struct store {
	const struct store_backend *be;
	const struct store_write_ops *w; /* be->write */
	const struct store_query_ops *q; /* be->query */
	const struct store_cluster_ops *c; /* be->cluster, NULL for a backend with one writer */
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/* For a backend's deliveries_load, whose rows come back in any order: the request's keys sorted with their
 * positions, and the positions of one key (a key may be asked for twice). */
struct store_key_slot {
	int64_t key;
	size_t i;
};
/* A malloc'd index of keys[0..n), sorted by key. */
struct store_key_slot *store_key_slots(const int64_t *keys, size_t n);
/* The first slot of key in ks (n of them), and how many follow it with the same key (*count). */
size_t store_key_slot_find(const struct store_key_slot *ks, size_t n, int64_t key, size_t *count);

/* The columns that hold secrets (seal.h), for a backend's re-seal pass: each table's key is "id". */
struct store_sealed_table {
	const char *table;
	size_t ncols;
	const char *cols[3];
	enum seal_column kinds[3];
};
extern const struct store_sealed_table store_sealed_tables[2];
/* One row of t: stored[i] the text of t->cols[i] (NULL: SQL NULL); out[i] its new text (malloc'd) or NULL if it
 * stays. 1 if any changes, 0 if none, -1 with err if a value cannot be opened. */
int store_reseal_row(const struct store_sealed_table *t, const char *const *stored, int mode, char **out,
		     int64_t *values, char *err, size_t errlen);

/* For a backend's loads: open the sealed secrets (seal.h) of loaded endpoints / sources' config texts in place.
 * STORE_OK, or STORE_ERR (logged: a key id this node lacks, a damaged value) with every element disposed (the
 * caller still frees the array). */
int store_endpoints_unseal(struct endpoint *eps, size_t n);
int store_sources_unseal(char **configs, size_t n);

/* Open a store from a URL: "sqlite:PATH" (or a bare path), "postgres://..." / "postgresql://..." or libpq's
 * key=value form ("host=... dbname=..."), with hookd's schema=NAME parameter (store.c). NULL with a reason in
 * err on failure. */
struct store *store_open(const char *url, char *err, size_t errlen);
void store_close(struct store *st);

#endif
