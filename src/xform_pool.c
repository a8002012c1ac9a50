/* xform_pool.c: the transformation workers (xform_pool.h). */
#include "xform_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

void xform_job_free(struct xform_job *j)
{
	if (j == NULL)
		return;
	strlist_dispose(&j->codes);
	strlist_dispose(&j->names);
	free(j->api_version);
	free(j->payload_text);
	xform_hook_dispose(&j->hook);
	free(j->body);
	free(j);
}

void xform_chain_run(struct xform *x, struct xform_job *j)
{
	j->rc = 0;
	j->err[0] = '\0';
	if (j->payload_text != NULL) {
		json_error_t jerr;
		json_decref(j->hook.payload);
		j->hook.payload = json_loads(j->payload_text, JSON_DECODE_ANY, &jerr);
		if (j->hook.payload == NULL) {
			snprintf(j->err, sizeof j->err, "transformation failed: the payload is not JSON: %s", jerr.text);
			j->rc = -1;
			return;
		}
	}
	char err[XFORM_ERR_MAX];
	for (size_t i = 0; i < j->codes.n; i++) {
		if (xform_call(x, j->codes.v[i], &j->hook, err, sizeof err) == 0)
			continue;
		const char *name = i < j->names.n ? j->names.v[i] : j->api_version;
		if (i < j->n_downgrades)
			snprintf(j->err, sizeof j->err, "api-version %s downgrade failed: %s", name ? name : "?", err);
		else
			snprintf(j->err, sizeof j->err, "transformation failed: %s", err);
		j->rc = -1;
		return;
	}
	free(j->body);
	j->body = json_dumps(j->hook.payload, JSON_COMPACT | JSON_ENCODE_ANY);
	if (j->body == NULL) {
		snprintf(j->err, sizeof j->err, "transformation failed: the payload cannot be written as JSON");
		j->rc = -1;
		return;
	}
	j->body_len = strlen(j->body);
}

/* ---- the pool ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct xform_job *queue_head, *queue_tail, *done_head;
static size_t queued, queue_cap;
static bool running, stopping;
static pthread_t *threads;
static int nthreads;
static int64_t call_budget;
static size_t call_memory;
static void (*wake_fn)(void);

/* The payload a worker parsed last: a message's deliveries to several endpoints come one after the other, and
 * each would parse the same text again. jansson's reference counts are atomic and nothing writes a parsed
 * payload (a handler's result is a new value), so the job shares it. */
struct parsed {
	char *text;
	size_t len;
	json_t *json;
};

static void payload_of(struct parsed *c, struct xform_job *j)
{
	if (j->payload_text == NULL)
		return;
	size_t len = strlen(j->payload_text);
	if (c->json == NULL || len != c->len || memcmp(c->text, j->payload_text, len) != 0) {
		json_t *p = json_loads(j->payload_text, JSON_DECODE_ANY, NULL);
		if (p == NULL)
			return; /* xform_chain_run says why */
		free(c->text);
		json_decref(c->json);
		c->text = j->payload_text;
		c->len = len;
		c->json = p;
	} else {
		free(j->payload_text);
	}
	j->payload_text = NULL;
	json_decref(j->hook.payload);
	j->hook.payload = json_incref(c->json);
}

static void *worker(void *arg)
{
	struct parsed last = {0};
	(void)arg;
	pthread_setname_np(pthread_self(), "xform");
	struct xform *x = xform_new(call_budget, call_memory);
	if (x == NULL)
		fatalx("transformations: cannot start Lua");
	pthread_mutex_lock(&mu);
	for (;;) {
		while (queue_head == NULL && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (queue_head == NULL)
			break;
		struct xform_job *j = queue_head;
		queue_head = j->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		queued--;
		pthread_mutex_unlock(&mu);
		int64_t t0 = mono_us();
		payload_of(&last, j);
		xform_chain_run(x, j);
		histogram_observe(&hist_transform, mono_us() - t0);
		METRIC_ADD(transformations, 1);
		if (j->rc < 0)
			METRIC_ADD(transformations_failed, 1);
		pthread_mutex_lock(&mu);
		bool first = done_head == NULL; /* else the dispatcher was woken for the list and takes it whole */
		j->next = done_head;
		done_head = j;
		pthread_mutex_unlock(&mu);
		if (first)
			wake_fn();
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	free(last.text);
	json_decref(last.json);
	xform_free(x);
	return NULL;
}

int xform_pool_start(int workers, int64_t budget, size_t memory, size_t queue_max, void (*wake)(void))
{
	call_budget = budget;
	call_memory = memory;
	queue_cap = queue_max;
	wake_fn = wake;
	stopping = false;
	threads = xcalloc((size_t)workers, sizeof *threads);
	for (nthreads = 0; nthreads < workers; nthreads++)
		if (pthread_create(&threads[nthreads], NULL, worker, NULL) != 0) {
			log_warn("transformations: pthread_create");
			xform_pool_stop();
			return -1;
		}
	running = true;
	return 0;
}

bool xform_pool_room(void)
{
	pthread_mutex_lock(&mu);
	bool room = running && queued < queue_cap;
	pthread_mutex_unlock(&mu);
	return room;
}

bool xform_pool_submit(struct xform_job *j)
{
	pthread_mutex_lock(&mu);
	bool ok = running && queued < queue_cap;
	if (ok) {
		j->next = NULL;
		if (queue_tail != NULL)
			queue_tail->next = j;
		else
			queue_head = j;
		queue_tail = j;
		queued++;
		pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

/* The completion list is pushed at its head: give it back in completion order. */
struct xform_job *xform_pool_done(void)
{
	pthread_mutex_lock(&mu);
	struct xform_job *l = done_head, *r = NULL;
	done_head = NULL;
	pthread_mutex_unlock(&mu);
	while (l != NULL) {
		struct xform_job *n = l->next;
		l->next = r;
		r = l;
		l = n;
	}
	return r;
}

void xform_pool_stop(void)
{
	pthread_mutex_lock(&mu);
	running = false;
	stopping = true;
	/* what no worker took yet comes back unrun */
	while (queue_head != NULL) {
		struct xform_job *j = queue_head;
		queue_head = j->next;
		j->rc = -1;
		snprintf(j->err, sizeof j->err, "transformation failed: shutting down");
		j->next = done_head;
		done_head = j;
	}
	queue_tail = NULL;
	queued = 0;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
}
