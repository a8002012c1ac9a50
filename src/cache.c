/* cache.c: apps and endpoints in hash maps under one rwlock.
 * Endpoint snapshots are replaced, never edited, so the dispatcher can hold one while the API updates it. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "log.h"
#include "metrics.h"

struct app_entry {
	struct app app;
	struct ep_snap **eps; /* in creation (id) order */
	size_t neps;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct hmap apps_by_id, apps_by_uid, eps_by_id;

void cache_init(void)
{
	hmap_init(&apps_by_id);
	hmap_init(&apps_by_uid);
	hmap_init(&eps_by_id);
}

static struct ep_snap *snap_new(const struct endpoint *e)
{
	static uint64_t gens;
	struct ep_snap *s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->gen = __atomic_add_fetch(&gens, 1, __ATOMIC_RELAXED);
	endpoint_copy(&s->ep, e);
	if (e->payload_filter != NULL) {
		char err[PFILTER_ERR_MAX];
		s->pf = pfilter_compile_text(e->payload_filter, strlen(e->payload_filter), "payloadFilter", err);
		if (s->pf == NULL) /* it was valid when written: a newer build's limits? It takes nothing until fixed. */
			log_warnx("endpoint %s: its payloadFilter does not compile (%s); it gets no messages", e->id, err);
	}
	return s;
}

void ep_snap_unref(struct ep_snap *s)
{
	if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		endpoint_dispose(&s->ep);
		pfilter_free(s->pf);
		free(s);
	}
}

static void entry_free(struct app_entry *ae)
{
	for (size_t i = 0; i < ae->neps; i++)
		ep_snap_unref(ae->eps[i]);
	free(ae->eps);
	app_dispose(&ae->app);
	free(ae);
}

void cache_dispose(void)
{
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&apps_by_id, e, &i)) != NULL;)
		entry_free(e->val);
	hmap_dispose(&apps_by_id);
	hmap_dispose(&apps_by_uid);
	hmap_dispose(&eps_by_id);
}

/* Lookups and edits below assume the lock is held. */
static struct app_entry *find_app(const char *id_or_uid)
{
	struct app_entry *ae = hmap_get(&apps_by_id, id_or_uid);
	return ae ? ae : hmap_get(&apps_by_uid, id_or_uid);
}

static void put_app_locked(struct app *owned)
{
	struct app_entry *ae = hmap_get(&apps_by_id, owned->id);
	if (ae == NULL) {
		ae = xcalloc(1, sizeof *ae);
		hmap_put(&apps_by_id, owned->id, ae);
	} else {
		if (ae->app.uid)
			hmap_del(&apps_by_uid, ae->app.uid);
		app_dispose(&ae->app);
	}
	ae->app = *owned;
	if (ae->app.uid)
		hmap_put(&apps_by_uid, ae->app.uid, ae);
}

static void put_endpoint_locked(struct ep_snap *s)
{
	struct app_entry *ae = hmap_get(&apps_by_id, s->ep.app_id);
	if (ae == NULL) {
		ep_snap_unref(s);
		return;
	}
	struct ep_snap *old = hmap_get(&eps_by_id, s->ep.id);
	hmap_put(&eps_by_id, s->ep.id, s);
	for (size_t i = 0; i < ae->neps; i++) {
		if (ae->eps[i] == old) {
			ae->eps[i] = s;
			ep_snap_unref(old);
			return;
		}
	}
	ae->eps = xrealloc(ae->eps, (ae->neps + 1) * sizeof *ae->eps);
	ae->eps[ae->neps++] = s;
}

void cache_load(struct app *apps, size_t napps, struct endpoint *eps, size_t neps)
{
	pthread_rwlock_wrlock(&lock);
	for (size_t i = 0; i < napps; i++)
		put_app_locked(&apps[i]);
	for (size_t i = 0; i < neps; i++) {
		put_endpoint_locked(snap_new(&eps[i]));
		endpoint_dispose(&eps[i]);
	}
	pthread_rwlock_unlock(&lock);
	free(apps);
	free(eps);
}

void cache_app_put(const struct app *a)
{
	struct app copy;
	app_copy(&copy, a);
	pthread_rwlock_wrlock(&lock);
	put_app_locked(&copy);
	pthread_rwlock_unlock(&lock);
}

void cache_app_delete(const char *app_id)
{
	pthread_rwlock_wrlock(&lock);
	struct app_entry *ae = hmap_del(&apps_by_id, app_id);
	if (ae != NULL) {
		if (ae->app.uid)
			hmap_del(&apps_by_uid, ae->app.uid);
		for (size_t i = 0; i < ae->neps; i++)
			hmap_del(&eps_by_id, ae->eps[i]->ep.id);
		entry_free(ae);
	}
	pthread_rwlock_unlock(&lock);
}

void cache_endpoint_put(const struct endpoint *e)
{
	struct ep_snap *s = snap_new(e);
	pthread_rwlock_wrlock(&lock);
	put_endpoint_locked(s);
	pthread_rwlock_unlock(&lock);
}

void cache_endpoint_delete(const char *endpoint_id)
{
	pthread_rwlock_wrlock(&lock);
	struct ep_snap *s = hmap_del(&eps_by_id, endpoint_id);
	struct app_entry *ae = s ? hmap_get(&apps_by_id, s->ep.app_id) : NULL;
	for (size_t i = 0; ae != NULL && i < ae->neps; i++) {
		if (ae->eps[i] == s) {
			memmove(&ae->eps[i], &ae->eps[i + 1], (ae->neps - i - 1) * sizeof *ae->eps);
			ae->neps--;
			break;
		}
	}
	pthread_rwlock_unlock(&lock);
	ep_snap_unref(s);
}

void cache_endpoint_set_disabled(const char *endpoint_id, bool disabled, int64_t updated_ms)
{
	struct ep_snap *old = cache_endpoint_ref(endpoint_id);
	if (old == NULL)
		return;
	struct endpoint e;
	endpoint_copy(&e, &old->ep);
	ep_snap_unref(old);
	e.disabled = disabled;
	e.updated_ms = updated_ms;
	cache_endpoint_put(&e);
	endpoint_dispose(&e);
}

int cache_app_get(const char *id_or_uid, struct app *out)
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = find_app(id_or_uid);
	if (ae != NULL)
		app_copy(out, &ae->app);
	pthread_rwlock_unlock(&lock);
	return ae ? STORE_OK : STORE_NOTFOUND;
}

static struct ep_snap *find_endpoint(struct app_entry *ae, const char *id_or_uid)
{
	for (size_t i = 0; i < ae->neps; i++) {
		const struct endpoint *e = &ae->eps[i]->ep;
		if (strcmp(e->id, id_or_uid) == 0 || (e->uid && strcmp(e->uid, id_or_uid) == 0))
			return ae->eps[i];
	}
	return NULL;
}

int cache_endpoint_get(const char *app_id, const char *id_or_uid, struct endpoint *out)
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, app_id);
	struct ep_snap *s = ae ? find_endpoint(ae, id_or_uid) : NULL;
	if (s != NULL)
		endpoint_copy(out, &s->ep);
	pthread_rwlock_unlock(&lock);
	return s ? STORE_OK : STORE_NOTFOUND;
}

int cache_app_resolve(const char *id_or_uid, char id[ID_MAX])
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = find_app(id_or_uid);
	if (ae != NULL)
		memcpy(id, ae->app.id, ID_MAX);
	pthread_rwlock_unlock(&lock);
	return ae ? STORE_OK : STORE_NOTFOUND;
}

int64_t cache_app_throttle(const char *app_id)
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, app_id);
	int64_t rate = ae ? ae->app.throttle_rate : 0;
	pthread_rwlock_unlock(&lock);
	return rate;
}

int cache_endpoint_uid_taken(const char *app_id, const char *uid, const char *except_id)
{
	int taken = 0;
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, app_id);
	for (size_t i = 0; ae != NULL && i < ae->neps; i++) {
		const struct endpoint *e = &ae->eps[i]->ep;
		if (e->uid && strcmp(e->uid, uid) == 0 && (except_id == NULL || strcmp(e->id, except_id) != 0))
			taken = 1;
	}
	pthread_rwlock_unlock(&lock);
	return taken;
}

static bool in_page(const char *id, const struct page *pg)
{
	return (pg->before == NULL || strcmp(id, pg->before) < 0) && (pg->after == NULL || strcmp(id, pg->after) > 0);
}

static int cmp_app_asc(const void *a, const void *b)
{
	return strcmp((*(struct app_entry *const *)a)->app.id, (*(struct app_entry *const *)b)->app.id);
}

void cache_app_list(const struct page *pg, struct app **out, size_t *n)
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry **all = xcalloc(apps_by_id.n + 1, sizeof *all);
	size_t k = 0, i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&apps_by_id, e, &i)) != NULL;)
		if (in_page(((struct app_entry *)e->val)->app.id, pg))
			all[k++] = e->val;
	qsort(all, k, sizeof *all, cmp_app_asc);
	size_t take = k < (size_t)pg->limit ? k : (size_t)pg->limit;
	*out = xcalloc(take + 1, sizeof **out);
	for (size_t j = 0; j < take; j++)
		app_copy(&(*out)[j], &all[pg->ascending ? j : k - 1 - j]->app);
	*n = take;
	pthread_rwlock_unlock(&lock);
	free(all);
}

void cache_endpoint_list(const char *app_id, const struct page *pg, struct endpoint **out, size_t *n)
{
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, app_id);
	size_t total = ae ? ae->neps : 0, take = 0;
	*out = xcalloc(total + 1, sizeof **out);
	/* eps[] is in id order: endpoint ids are made in increasing order and appended. */
	for (size_t j = 0; j < total && take < (size_t)pg->limit; j++) {
		const struct endpoint *e = &ae->eps[pg->ascending ? j : total - 1 - j]->ep;
		if (in_page(e->id, pg))
			endpoint_copy(&(*out)[take++], e);
	}
	*n = take;
	pthread_rwlock_unlock(&lock);
}

bool cache_payload_match(const struct endpoint *e, const struct pfilter *pf, const struct message *m,
			 const json_t *payload, json_t **parsed)
{
	if (e->payload_filter == NULL)
		return true;
	if (payload == NULL && *parsed == NULL && m->payload != NULL)
		*parsed = json_loadb(m->payload, m->payload_len, JSON_DECODE_ANY, NULL);
	bool ok = pf != NULL && pfilter_match(pf, payload ? payload : *parsed);
	if (!ok) {
		METRIC_ADD(deliveries_filtered, 1);
		metrics_endpoint_filtered(e->id);
	}
	return ok;
}

size_t cache_fanout(const struct message *m, const json_t *payload, char (**ids)[ID_MAX])
{
	size_t n = 0;
	struct ep_snap **with_filter = NULL; /* [i]: ids[i]'s snapshot, referenced, if it has a filter */
	*ids = NULL;
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, m->app_id);
	for (size_t i = 0; ae != NULL && i < ae->neps; i++) {
		struct ep_snap *s = ae->eps[i];
		const struct endpoint *e = &s->ep;
		if (e->disabled || endpoint_is_poller(e) || !filter_types_match(&e->event_types, m->event_type) ||
		    !filter_channels_match(&e->channels, &m->channels))
			continue;
		if (*ids == NULL)
			*ids = xmalloc(ae->neps * sizeof **ids);
		if (e->payload_filter != NULL) {
			if (with_filter == NULL)
				with_filter = xcalloc(ae->neps, sizeof *with_filter);
			with_filter[n] = s;
			__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
		}
		memcpy((*ids)[n++], e->id, ID_MAX);
	}
	pthread_rwlock_unlock(&lock);
	if (with_filter == NULL)
		return n;
	/* the payload is parsed (if it must be) and filters run outside the lock */
	json_t *parsed = NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (with_filter[i] == NULL || cache_payload_match(&with_filter[i]->ep, with_filter[i]->pf, m, payload, &parsed))
			memmove((*ids)[k++], (*ids)[i], ID_MAX);
		ep_snap_unref(with_filter[i]);
	}
	json_decref(parsed);
	free(with_filter);
	if (k == 0) {
		free(*ids);
		*ids = NULL;
	}
	return k;
}

bool cache_precheck(const struct message *m)
{
	bool any = false;
	pthread_rwlock_rdlock(&lock);
	struct app_entry *ae = hmap_get(&apps_by_id, m->app_id);
	for (size_t i = 0; ae != NULL && i < ae->neps && !any; i++) {
		const struct endpoint *e = &ae->eps[i]->ep;
		any = !e->disabled && filter_types_match(&e->event_types, m->event_type) &&
		      filter_channels_match(&e->channels, &m->channels);
	}
	pthread_rwlock_unlock(&lock);
	return any;
}

struct ep_snap *cache_endpoint_ref(const char *endpoint_id)
{
	pthread_rwlock_rdlock(&lock);
	struct ep_snap *s = hmap_get(&eps_by_id, endpoint_id);
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&lock);
	return s;
}
