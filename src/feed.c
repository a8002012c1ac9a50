/* feed.c: other nodes' registry changes, reloaded and applied here (feed.h). */
#include "feed.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "apiver.h"
#include "cache.h"
#include "commit.h"
#include "evtypes.h"
#include "id.h"
#include "log.h"
#include "source.h"
#include "util.h"

struct heard_entry {
	char kind[12];
	char *key;
};

struct ack {
	char origin[ID_MAX];
	uint64_t seq;
};

struct feed_job {
	struct commit_job job;
	struct heard_entry *v;
	size_t n;
	bool all; /* resync: every entry of every registry */
	struct ack *acks; /* owed once this job's changes are applied: sent by a job of their own */
	size_t nacks;
};

static int again; /* atomic: a reload failed; everything is read again (feed_again) */
static struct heard_entry *pend; /* the cluster thread's, until flushed */
static size_t npend, cappend;
static struct ack *pend_acks; /* likewise: tokens heard, to ack after the reload before them */
static size_t npend_acks, cappend_acks;

void feed_heard(const char *kind, const char *key, size_t key_len)
{
	if (strlen(kind) >= sizeof pend->kind || key_len == 0)
		return;
	for (size_t i = 0; i < npend; i++) /* the same entry changed again: one reload */
		if (strcmp(pend[i].kind, kind) == 0 && strlen(pend[i].key) == key_len &&
		    memcmp(pend[i].key, key, key_len) == 0)
			return;
	if (npend == cappend) {
		cappend = cappend ? cappend * 2 : 16;
		pend = xrealloc(pend, cappend * sizeof *pend);
	}
	snprintf(pend[npend].kind, sizeof pend[npend].kind, "%s", kind);
	pend[npend++].key = xstrndup(key, key_len);
}

/* One entry as it is now, as a change in the job: put if found, delete if gone. */
static int reload(struct store *st, struct commit_job *job, const char *kind, const char *key)
{
	bool found = false;
	int rc;
	if (strcmp(kind, "app") == 0) {
		struct app a = {0};
		if ((rc = st->w->registry_row(st, kind, key, &a, &found)) == STORE_OK)
			commit_change(job, found ? &(struct change){.kind = CHANGE_APP_PUT, .app = &a}
						 : &(struct change){.kind = CHANGE_APP_DELETE, .id = key});
		if (found)
			app_dispose(&a);
	} else if (strcmp(kind, "endpoint") == 0) {
		struct endpoint e = {0};
		if ((rc = st->w->registry_row(st, kind, key, &e, &found)) == STORE_OK)
			commit_change(job, found ? &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e}
						 : &(struct change){.kind = CHANGE_ENDPOINT_DELETE, .id = key});
		if (found)
			endpoint_dispose(&e);
	} else if (strcmp(kind, "evtype") == 0) {
		struct event_type t = {0};
		if ((rc = st->w->registry_row(st, kind, key, &t, &found)) == STORE_OK)
			commit_change(job, found ? &(struct change){.kind = CHANGE_EVENT_TYPE_PUT, .event_type = &t}
						 : &(struct change){.kind = CHANGE_EVENT_TYPE_DELETE, .id = key});
		if (found)
			event_type_dispose(&t);
	} else if (strcmp(kind, "apiver") == 0) {
		struct api_version v = {0};
		if ((rc = st->w->registry_row(st, kind, key, &v, &found)) == STORE_OK)
			commit_change(job, found ? &(struct change){.kind = CHANGE_API_VERSION_PUT, .api_version = &v}
						 : &(struct change){.kind = CHANGE_API_VERSION_DELETE, .id = key});
		if (found)
			api_version_dispose(&v);
	} else if (strcmp(kind, "source") == 0) {
		char *config = NULL;
		if ((rc = st->w->registry_row(st, kind, key, &config, &found)) != STORE_OK)
			return rc;
		if (!found) {
			commit_change(job, &(struct change){.kind = CHANGE_SOURCE_DELETE, .id = key});
			return STORE_OK;
		}
		json_t *j = json_loads(config, 0, NULL);
		struct source *s = j != NULL ? source_new(j) : NULL;
		free(config);
		if (s == NULL) {
			log_warnx("feed: source %s could not be loaded", key);
			return STORE_OK;
		}
		commit_change(job, &(struct change){.kind = CHANGE_SOURCE_PUT, .source = s});
		source_unref(s);
	} else {
		return STORE_OK; /* a kind a newer node knows: it is reloaded after an upgrade's restart */
	}
	return rc;
}

/* Entries of this node's registries that the database no longer has (deleted while notifications were missed):
 * a delete change each. present holds the ids (names) read from the database. */
static void drop_absent(struct commit_job *job, const struct hmap *apps, const struct hmap *eps,
			const struct hmap *types, const struct hmap *srcs, const struct hmap *vers)
{
	const struct page all = {.limit = INT_MAX, .ascending = true};
	struct app *av = NULL;
	size_t na = 0;
	cache_app_list(&all, &av, &na);
	for (size_t i = 0; i < na; i++) {
		if (hmap_get(apps, av[i].id) == NULL) {
			commit_change(job, &(struct change){.kind = CHANGE_APP_DELETE, .id = av[i].id});
		} else {
			struct endpoint *ev = NULL;
			size_t ne = 0;
			cache_endpoint_list(av[i].id, &all, &ev, &ne);
			for (size_t k = 0; k < ne; k++) {
				if (hmap_get(eps, ev[k].id) == NULL)
					commit_change(job, &(struct change){.kind = CHANGE_ENDPOINT_DELETE, .id = ev[k].id});
				endpoint_dispose(&ev[k]);
			}
			free(ev);
		}
		app_dispose(&av[i]);
	}
	free(av);
	struct event_type *tv = NULL;
	size_t nt = 0;
	evtypes_list(&all, true, &tv, &nt);
	for (size_t i = 0; i < nt; i++) {
		if (hmap_get(types, tv[i].name) == NULL)
			commit_change(job, &(struct change){.kind = CHANGE_EVENT_TYPE_DELETE, .id = tv[i].name});
		event_type_dispose(&tv[i]);
	}
	free(tv);
	struct source **sv = NULL;
	size_t ns = sources_list(&all, &sv);
	for (size_t i = 0; i < ns; i++) {
		if (hmap_get(srcs, sv[i]->id) == NULL)
			commit_change(job, &(struct change){.kind = CHANGE_SOURCE_DELETE, .id = sv[i]->id});
		source_unref(sv[i]);
	}
	free(sv);
	struct api_version *vv = NULL;
	size_t nv = 0;
	apiver_list(&all, &vv, &nv);
	for (size_t i = 0; i < nv; i++) {
		if (hmap_get(vers, vv[i].name) == NULL)
			commit_change(job, &(struct change){.kind = CHANGE_API_VERSION_DELETE, .id = vv[i].name});
		api_version_dispose(&vv[i]);
	}
	free(vv);
}

/* Every row of every registry as a put, and a delete for every entry the database no longer has (resync). */
static int reload_all(struct store *st, struct commit_job *job)
{
	struct app *apps = NULL;
	struct endpoint *eps = NULL;
	struct event_type *types = NULL;
	char **srcs = NULL;
	struct api_version *vers = NULL;
	size_t na = 0, ne = 0, nt = 0, ns = 0, nv = 0;
	struct hmap seen[5]; /* apps, endpoints, event types, sources, versions present in the database */
	for (int k = 0; k < 5; k++)
		hmap_init(&seen[k]);
	int rc = st->w->apps_load(st, &apps, &na);
	if (rc == STORE_OK)
		rc = st->w->endpoints_load(st, &eps, &ne);
	if (rc == STORE_OK)
		rc = st->w->event_types_load(st, &types, &nt);
	if (rc == STORE_OK)
		rc = st->w->sources_load(st, &srcs, &ns);
	if (rc == STORE_OK)
		rc = st->w->api_versions_load(st, &vers, &nv);
	struct source **sv = xcalloc(ns + 1, sizeof *sv);
	for (size_t i = 0; i < na && rc == STORE_OK; i++) {
		commit_change(job, &(struct change){.kind = CHANGE_APP_PUT, .app = &apps[i]});
		hmap_put(&seen[0], apps[i].id, &apps[i]);
	}
	for (size_t i = 0; i < ne && rc == STORE_OK; i++) {
		commit_change(job, &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &eps[i]});
		hmap_put(&seen[1], eps[i].id, &eps[i]);
	}
	for (size_t i = 0; i < nt && rc == STORE_OK; i++) {
		commit_change(job, &(struct change){.kind = CHANGE_EVENT_TYPE_PUT, .event_type = &types[i]});
		hmap_put(&seen[2], types[i].name, &types[i]);
	}
	for (size_t i = 0; i < ns && rc == STORE_OK; i++) {
		json_t *j = json_loads(srcs[i], 0, NULL);
		sv[i] = j != NULL ? source_new(j) : NULL;
		if (sv[i] == NULL) {
			log_warnx("feed: a stored source could not be loaded");
			continue;
		}
		commit_change(job, &(struct change){.kind = CHANGE_SOURCE_PUT, .source = sv[i]});
		hmap_put(&seen[3], sv[i]->id, sv[i]);
	}
	for (size_t i = 0; i < nv && rc == STORE_OK; i++) {
		commit_change(job, &(struct change){.kind = CHANGE_API_VERSION_PUT, .api_version = &vers[i]});
		hmap_put(&seen[4], vers[i].name, &vers[i]);
	}
	if (rc == STORE_OK)
		drop_absent(job, &seen[0], &seen[1], &seen[2], &seen[3], &seen[4]);
	for (int k = 0; k < 5; k++)
		hmap_dispose(&seen[k]);
	for (size_t i = 0; i < nv; i++)
		api_version_dispose(&vers[i]);
	free(vers);
	for (size_t i = 0; i < na; i++)
		app_dispose(&apps[i]);
	for (size_t i = 0; i < ne; i++)
		endpoint_dispose(&eps[i]);
	for (size_t i = 0; i < nt; i++)
		event_type_dispose(&types[i]);
	for (size_t i = 0; i < ns; i++) {
		source_unref(sv[i]);
		free(srcs[i]);
	}
	free(sv);
	free(apps);
	free(eps);
	free(types);
	free(srcs);
	return rc;
}

static int feed_run(struct store *st, void *arg)
{
	struct feed_job *f = arg;
	if (f->all) {
		/* this node (re)joined: the others count it at once, so that their registry writes wait for its ack */
		st->w->note(st, "hello");
		return reload_all(st, &f->job);
	}
	for (size_t i = 0; i < f->n; i++) {
		int rc = reload(st, &f->job, f->v[i].kind, f->v[i].key);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* ---- acks: sent in a batch after the one whose changes they follow, so after those were applied ---- */

struct ack_job {
	struct commit_job job;
	struct ack *v;
	size_t n;
};

static int ack_run(struct store *st, void *arg)
{
	struct ack_job *a = arg;
	for (size_t i = 0; i < a->n; i++) {
		char e[ID_MAX + 32];
		snprintf(e, sizeof e, "k %s %llu", a->v[i].origin, (unsigned long long)a->v[i].seq);
		st->w->note(st, e);
	}
	return STORE_OK;
}

static void ack_done(void *arg, int rc)
{
	(void)rc; /* not sent: the origin stops waiting after FEED_ACK_WAIT_MS */
	struct ack_job *a = arg;
	free(a->v);
	free(a);
}

static void feed_done(void *arg, int rc)
{
	struct feed_job *f = arg;
	if (rc == STORE_OK && f->nacks > 0) { /* the changes are applied by now: ack them */
		struct ack_job *a = xcalloc(1, sizeof *a);
		a->v = f->acks;
		a->n = f->nacks;
		f->acks = NULL;
		a->job = (struct commit_job){.run = ack_run, .done = ack_done, .arg = a};
		commit_submit(&a->job);
	}
	free(f->acks);
	if (rc != STORE_OK) /* the changes stay unapplied: read everything again once the database answers */
		__atomic_store_n(&again, 1, __ATOMIC_RELEASE);
	if (rc != STORE_OK)
		log_warnx("feed: other nodes' registry changes could not be read (%s); read again later",
			  rc == STORE_UNAVAILABLE ? "database unavailable" : "error");
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].key);
	free(f->v);
	free(f);
}

static void submit(struct feed_job *f)
{
	f->job = (struct commit_job){.run = feed_run, .done = feed_done, .arg = f, .replay = true};
	commit_submit(&f->job);
}

void feed_flush(void)
{
	if (npend == 0 && npend_acks == 0)
		return;
	struct feed_job *f = xcalloc(1, sizeof *f);
	f->v = pend;
	f->n = npend;
	f->acks = pend_acks;
	f->nacks = npend_acks;
	pend = NULL;
	npend = cappend = 0;
	pend_acks = NULL;
	npend_acks = cappend_acks = 0;
	submit(f);
}

void feed_heard_token(const char *origin, size_t origin_len, uint64_t seq)
{
	if (origin_len == 0 || origin_len >= ID_MAX)
		return;
	if (npend_acks == cappend_acks) {
		cappend_acks = cappend_acks ? cappend_acks * 2 : 16;
		pend_acks = xrealloc(pend_acks, cappend_acks * sizeof *pend_acks);
	}
	memcpy(pend_acks[npend_acks].origin, origin, origin_len);
	pend_acks[npend_acks].origin[origin_len] = '\0';
	pend_acks[npend_acks++].seq = seq;
}

/* ---- the origin's side: tokens and their waits ---- */

struct wait {
	uint64_t seq;
	int acks, expected;
	int64_t deadline; /* monotonic ms */
	void (*cb)(void *arg);
	void *arg;
};

static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static struct wait *waits;
static size_t nwaits, capwaits;
static uint64_t last_seq;
static int peers; /* other live nodes, as of the last tick */

static struct wait *wait_find(uint64_t seq)
{
	for (size_t i = 0; i < nwaits; i++)
		if (waits[i].seq == seq)
			return &waits[i];
	return NULL;
}

/* Under wmu: end wait i (its cb, if any, runs after the unlock: collected into fire). */
static void wait_end(size_t i, struct wait *fire, size_t *nfire)
{
	if (waits[i].cb != NULL)
		fire[(*nfire)++] = waits[i];
	waits[i] = waits[--nwaits];
}

static void fire_all(const struct wait *fire, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fire[i].cb(fire[i].arg);
}

uint64_t feed_token(void)
{
	pthread_mutex_lock(&wmu);
	int expected = __atomic_load_n(&peers, __ATOMIC_RELAXED);
	uint64_t seq = 0;
	if (expected > 0) {
		seq = ++last_seq;
		if (nwaits == capwaits) {
			capwaits = capwaits ? capwaits * 2 : 16;
			waits = xrealloc(waits, capwaits * sizeof *waits);
		}
		waits[nwaits++] = (struct wait){.seq = seq, .expected = expected,
						.deadline = mono_ms() + FEED_ACK_WAIT_MS};
	}
	pthread_mutex_unlock(&wmu);
	return seq;
}

void feed_await(uint64_t token, void (*cb)(void *arg), void *arg)
{
	pthread_mutex_lock(&wmu);
	struct wait *w = token != 0 ? wait_find(token) : NULL;
	if (w != NULL && w->acks < w->expected && w->cb == NULL) {
		w->cb = cb;
		w->arg = arg;
		pthread_mutex_unlock(&wmu);
		return;
	}
	if (w != NULL) { /* acked before it was awaited */
		struct wait fire[1];
		size_t nfire = 0;
		wait_end((size_t)(w - waits), fire, &nfire);
	}
	pthread_mutex_unlock(&wmu);
	cb(arg);
}

void feed_acked(uint64_t seq)
{
	struct wait fire[1];
	size_t nfire = 0;
	pthread_mutex_lock(&wmu);
	struct wait *w = wait_find(seq);
	if (w != NULL && ++w->acks >= w->expected && w->cb != NULL)
		wait_end((size_t)(w - waits), fire, &nfire);
	pthread_mutex_unlock(&wmu);
	fire_all(fire, nfire);
}

void feed_peers(int n)
{
	__atomic_store_n(&peers, n > 0 ? n : 0, __ATOMIC_RELAXED);
}

/* Waits past their time, and tokens of jobs that failed (never awaited), go. */
static void expire_until(int64_t now)
{
	for (;;) {
		struct wait fire[16];
		size_t nfire = 0;
		pthread_mutex_lock(&wmu);
		for (size_t i = 0; i < nwaits && nfire < 16;) {
			if (waits[i].deadline <= now)
				wait_end(i, fire, &nfire);
			else
				i++;
		}
		bool more = false;
		for (size_t i = 0; i < nwaits && !more; i++)
			more = waits[i].deadline <= now;
		pthread_mutex_unlock(&wmu);
		fire_all(fire, nfire);
		if (!more)
			return;
	}
}

void feed_expire(void) { expire_until(mono_ms()); }

void feed_dispose(void)
{
	/* the API stopped first, after its waits ended (FEED_ACK_WAIT_MS): what is left has no request behind it */
	pthread_mutex_lock(&wmu);
	free(waits);
	waits = NULL;
	nwaits = capwaits = 0;
	pthread_mutex_unlock(&wmu);
	for (size_t i = 0; i < npend; i++)
		free(pend[i].key);
	free(pend);
	free(pend_acks);
	pend = NULL;
	pend_acks = NULL;
	npend = cappend = npend_acks = cappend_acks = 0;
}

void feed_resync(void)
{
	struct feed_job *f = xcalloc(1, sizeof *f);
	f->all = true;
	submit(f);
}

bool feed_again(void) { return __atomic_exchange_n(&again, 0, __ATOMIC_ACQ_REL) != 0; }
