/* registry.h: the change feed of the in-memory registries.
 *
 * Four registries mirror the store in memory: apps and endpoints (cache.h), event types (evtypes.h), inbound
 * sources (source.h) and payload versions (apiver.h). They change through ONE path: a struct change handed to registry_apply(), which
 * dispatches it to the registry it concerns. Nothing else should call their put/delete functions.
 *
 * Where changes come from:
 *   - A write on the committer (the usual case): the job's run() records each change with commit_change()
 *     (commit.h) next to the store calls that make it. The committer applies a job's changes only once the
 *     batch is durable and only if that job succeeded (a job that fails, or a batch that fails to commit,
 *     drops its changes), in the order the jobs ran (commit.h), each job's just before its done(). So done() (an API handler's
 *     after()) already sees the registries updated, and no reader ever sees what the store does not hold.
 *         static int my_run(struct store *st, void *arg) {
 *             struct my_job *j = arg;
 *             int rc = st->w->endpoint_set_disabled(st, j->endpoint_id, true, j->at);
 *             if (rc == STORE_OK)
 *                 commit_change(&j->job, &(struct change){.kind = CHANGE_ENDPOINT_DISABLED,
 *                                   .id = j->endpoint_id, .disabled = true, .updated_ms = j->at});
 *             return rc;
 *         }
 *     An API handler's run(st, r) records into &r->job the same way.
 *   - A write outside the committer (a start-up setup that writes the store directly): call registry_apply()
 *     yourself once the write is durable.
 *   - Other nodes' writes: a shared backend (PostgreSQL, with LISTEN/NOTIFY) will decode each notification
 *     into a struct change and feed it through registry_apply() as well, so a node's registries follow the
 *     writes of every node. Apply them from one thread, in the order received (for instance from a committer
 *     job whose run() only records them, so they interleave with local writes in commit order).
 *
 * Ownership: a struct change only borrows what it points to.
 *   - registry_apply() copies whatever it keeps (the registries copy apps, endpoints and event types, and take a
 *     reference of their own to a source); the caller still owns the change and its objects afterwards.
 *   - commit_change() copies the change at once, with deep copies of the object (a reference to a source) and
 *     of id; the caller may free or reuse its own objects as soon as it returns. The committer frees its copy
 *     after applying it or dropping it.
 *   - before (CHANGE_ENDPOINT_PUT, optional) is the one thing written through: it points to the caller's
 *     storage, which must outlive the application of the change (a job's: until its done()). registry_apply
 *     fills it; the caller disposes it.
 *
 * Threads: registry_apply() is thread-safe (each registry locks), but changes must be applied in commit order,
 * so one thread applies them: the committer, or the single feed of a backend.
 */
#ifndef HOOKD_REGISTRY_H
#define HOOKD_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

struct source;

enum change_kind {
	CHANGE_APP_PUT,           /* app: insert or replace by id */
	CHANGE_APP_DELETE,        /* id: the app's; its endpoints go with it */
	CHANGE_ENDPOINT_PUT,      /* endpoint: insert or replace by id (a new snapshot, gen grows); before */
	CHANGE_ENDPOINT_DELETE,   /* id: the endpoint's */
	CHANGE_ENDPOINT_DISABLED, /* id: the endpoint's; disabled, updated_ms (a new snapshot, gen grows) */
	CHANGE_EVENT_TYPE_PUT,    /* event_type: insert or replace by name */
	CHANGE_EVENT_TYPE_DELETE, /* id: the type's name */
	CHANGE_SOURCE_PUT,        /* source: insert or replace by id */
	CHANGE_SOURCE_DELETE,     /* id: the source's (its internal app is a CHANGE_APP_DELETE of its own) */
	CHANGE_API_VERSION_PUT,   /* api_version: insert or replace by name (apiver.h) */
	CHANGE_API_VERSION_DELETE, /* id: the version's name */
};

struct change {
	enum change_kind kind;
	union { /* the object of a _PUT (borrowed) */
		const struct app *app;
		const struct endpoint *endpoint;
		const struct event_type *event_type;
		struct source *source;
		const struct api_version *api_version;
	};
	const char *id;     /* the key of a _DELETE or of CHANGE_ENDPOINT_DISABLED (borrowed) */
	bool disabled;      /* CHANGE_ENDPOINT_DISABLED */
	int64_t updated_ms; /* CHANGE_ENDPOINT_DISABLED */
	/* CHANGE_ENDPOINT_PUT, optional: receives a copy of the endpoint as the cache held it just before the
	 * change, or a zeroed struct (id "") if it held none; the caller owns and disposes it. For a handler that
	 * tells a create from an update, or sees a flag flip, as of the moment the write takes effect. */
	struct endpoint *before;
};

/* Apply one change to its registry. */
void registry_apply(const struct change *c);

/* A deep copy of src into dst (object and id copied, a source referenced; before kept as is), and its release.
 * For holders of changes such as the committer. */
void change_copy(struct change *dst, const struct change *src);
void change_dispose(struct change *c);

/* What a shared database's other nodes are told of a change (store_write_ops.note_change): the registry's name
 * ("app", "endpoint", "evtype", "source", "apiver") and the entry's key into *key (the change's own storage). */
const char *change_note(const struct change *c, const char **key);

#endif
