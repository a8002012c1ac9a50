/* feed.c: other nodes' registry changes, reloaded and applied here (feed.h). */
#include "feed.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "commit.h"
#include "evtypes.h"
#include "log.h"
#include "source.h"
#include "util.h"

struct heard_entry {
	char kind[12];
	char *key;
};

struct feed_job {
	struct commit_job job;
	struct heard_entry *v;
	size_t n;
	bool all; /* resync: every entry of every registry */
};

static int again; /* atomic: a reload failed; everything is read again (feed_again) */
static struct heard_entry *pend; /* the cluster thread's, until flushed */
static size_t npend, cappend;

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
			const struct hmap *types, const struct hmap *srcs)
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
}

/* Every row of every registry as a put, and a delete for every entry the database no longer has (resync). */
static int reload_all(struct store *st, struct commit_job *job)
{
	struct app *apps = NULL;
	struct endpoint *eps = NULL;
	struct event_type *types = NULL;
	char **srcs = NULL;
	size_t na = 0, ne = 0, nt = 0, ns = 0;
	struct hmap seen[4]; /* apps, endpoints, event types, sources present in the database */
	for (int k = 0; k < 4; k++)
		hmap_init(&seen[k]);
	int rc = st->w->apps_load(st, &apps, &na);
	if (rc == STORE_OK)
		rc = st->w->endpoints_load(st, &eps, &ne);
	if (rc == STORE_OK)
		rc = st->w->event_types_load(st, &types, &nt);
	if (rc == STORE_OK)
		rc = st->w->sources_load(st, &srcs, &ns);
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
	if (rc == STORE_OK)
		drop_absent(job, &seen[0], &seen[1], &seen[2], &seen[3]);
	for (int k = 0; k < 4; k++)
		hmap_dispose(&seen[k]);
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
	if (f->all)
		return reload_all(st, &f->job);
	for (size_t i = 0; i < f->n; i++) {
		int rc = reload(st, &f->job, f->v[i].kind, f->v[i].key);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static void feed_done(void *arg, int rc)
{
	struct feed_job *f = arg;
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
	if (npend == 0)
		return;
	struct feed_job *f = xcalloc(1, sizeof *f);
	f->v = pend;
	f->n = npend;
	pend = NULL;
	npend = cappend = 0;
	submit(f);
}

void feed_resync(void)
{
	struct feed_job *f = xcalloc(1, sizeof *f);
	f->all = true;
	submit(f);
}

bool feed_again(void) { return __atomic_exchange_n(&again, 0, __ATOMIC_ACQ_REL) != 0; }
