/* test_commit.c: the committer on a real SQLite store: group commit, per-job rollback, done() order, and the
 * change feed (a job's changes reach the cache after its commit, before its done(), and only if it succeeded). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "commit.h"
#include "outmsg.h"
#include "registry.h"
#include "store.h"
#include "tests.h"
#include "util.h"

static struct store *st;
static char dir[64];

static void setup(void)
{
	st = tests_sqlite_store(dir, "commit");
	cache_init();
	commit_start(st, 1);
}

static void teardown(void)
{
	commit_stop();
	store_close(st);
	st = NULL;
	cache_dispose();
	tests_rmdir(dir);
}

/* ---- a test job: writes an app (and records it), optionally fails after that ---- */

#define MAX_JOBS 16

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done_order[MAX_JOBS], ndone;

struct tjob {
	struct commit_job job;
	int index;
	char app_id[ID_MAX];
	int fail_rc;       /* run's result after its writes (STORE_OK: succeed) */
	bool ran;
	int rc;            /* as done() got it */
	bool saw_app;      /* done() found the app in the cache */
	bool block;        /* run() waits for release() (holds the committer inside a batch) */
};

static bool blocked, released;

/* Inside a job's run(): say so, and wait for release() (holds the committer inside a batch). */
static void block_here(void)
{
	pthread_mutex_lock(&mu);
	blocked = true;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static int tjob_run(struct store *s, void *arg)
{
	struct tjob *t = arg;
	t->ran = true;
	if (t->block)
		block_here();
	if (t->app_id[0] == '\0')
		return t->fail_rc;
	struct app a = {.name = "t", .metadata = json_object(), .created_ms = 1, .updated_ms = 1};
	memcpy(a.id, t->app_id, ID_MAX);
	int rc = s->w->app_put(s, &a);
	if (rc == STORE_OK)
		commit_change(&t->job, &(struct change){.kind = CHANGE_APP_PUT, .app = &a});
	json_decref(a.metadata); /* the change was copied */
	return rc == STORE_OK ? t->fail_rc : rc;
}

static void tjob_done(void *arg, int rc)
{
	struct tjob *t = arg;
	struct app a;
	t->rc = rc;
	t->saw_app = t->app_id[0] != '\0' && cache_app_get(t->app_id, &a) == STORE_OK;
	if (t->saw_app)
		app_dispose(&a);
	pthread_mutex_lock(&mu);
	done_order[ndone++] = t->index;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void tjob_init(struct tjob *t, int index, const char *app_id, int fail_rc)
{
	memset(t, 0, sizeof *t);
	t->job = (struct commit_job){.run = tjob_run, .done = tjob_done, .arg = t};
	t->index = index;
	t->fail_rc = fail_rc;
	if (app_id != NULL)
		snprintf(t->app_id, sizeof t->app_id, "%s", app_id);
}

static void reset(void)
{
	pthread_mutex_lock(&mu);
	ndone = 0;
	blocked = released = false;
	pthread_mutex_unlock(&mu);
}

static void wait_done(int n)
{
	pthread_mutex_lock(&mu);
	while (ndone < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* Submit a blocker and wait until the committer is inside its run(): what is submitted next waits for the
 * next batch, all together. */
static void hold(struct tjob *blocker)
{
	tjob_init(blocker, 0, NULL, STORE_OK);
	blocker->block = true;
	commit_submit(&blocker->job);
	pthread_mutex_lock(&mu);
	while (!blocked)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void release(void)
{
	pthread_mutex_lock(&mu);
	released = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* The ids of the apps in the store (the committer stopped first: apps_load is a start-up read). */
static bool store_has_app(const char *id)
{
	struct app *v = NULL;
	size_t n = 0;
	bool found = false;
	ck_assert_int_eq(st->w->apps_load(st, &v, &n), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		found = found || strcmp(v[i].id, id) == 0;
		app_dispose(&v[i]);
	}
	free(v);
	return found;
}

/* ---- tests ---- */

START_TEST(test_jobs_share_a_batch)
{
	struct tjob blocker, t[8];
	uint64_t b0, j0, b1, j1;
	reset();
	commit_stats(&b0, &j0);
	hold(&blocker);
	for (int i = 0; i < 8; i++) {
		char id[ID_MAX];
		snprintf(id, sizeof id, "app_%d", i + 1);
		tjob_init(&t[i], i + 1, id, STORE_OK);
		commit_submit(&t[i].job);
	}
	release();
	wait_done(9);
	commit_stats(&b1, &j1);
	ck_assert_uint_eq(b1 - b0, 2); /* the blocker's, then one for the eight */
	ck_assert_uint_eq(j1 - j0, 9);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(t[i].rc, STORE_OK);
		ck_assert(t[i].saw_app);
	}
}
END_TEST

START_TEST(test_failing_job_rolls_back_alone)
{
	struct tjob blocker, a, b, c;
	uint64_t b0, j0, b1, j1;
	reset();
	commit_stats(&b0, &j0);
	hold(&blocker);
	tjob_init(&a, 1, "app_a", STORE_OK);
	tjob_init(&b, 2, "app_b", STORE_ERR); /* writes its app, records the change, then fails */
	tjob_init(&c, 3, "app_c", STORE_OK);
	commit_submit(&a.job);
	commit_submit(&b.job);
	commit_submit(&c.job);
	release();
	wait_done(4);
	commit_stats(&b1, &j1);
	ck_assert_uint_eq(b1 - b0, 2); /* a, b and c in one batch */
	ck_assert(b.ran);
	ck_assert_int_eq(a.rc, STORE_OK);
	ck_assert_int_eq(b.rc, STORE_ERR);
	ck_assert_int_eq(c.rc, STORE_OK);
	struct app got;
	ck_assert_int_eq(cache_app_get("app_b", &got), STORE_NOTFOUND); /* its change was dropped */
	ck_assert(a.saw_app && c.saw_app && !b.saw_app);
	commit_stop();
	ck_assert(store_has_app("app_a"));
	ck_assert(!store_has_app("app_b")); /* its write was rolled back */
	ck_assert(store_has_app("app_c"));
}
END_TEST

START_TEST(test_done_in_submission_order)
{
	struct tjob blocker, t[12];
	reset();
	hold(&blocker);
	for (int i = 0; i < 6; i++) { /* one batch */
		tjob_init(&t[i], i + 1, NULL, i % 2 ? STORE_NOTFOUND : STORE_OK);
		commit_submit(&t[i].job);
	}
	release();
	for (int i = 6; i < 12; i++) { /* and whatever batches these make */
		tjob_init(&t[i], i + 1, NULL, STORE_OK);
		commit_submit(&t[i].job);
	}
	wait_done(13);
	for (int i = 0; i < 13; i++)
		ck_assert_int_eq(done_order[i], i);
	ck_assert_int_eq(t[1].rc, STORE_NOTFOUND); /* run's own result */
	ck_assert_int_eq(t[2].rc, STORE_OK);
}
END_TEST

/* Early jobs (outcomes) run ahead of the message inserts queued just before them, never ahead of another job;
 * done() follows the order they ran. */
START_TEST(test_early_jobs_first)
{
	static char fake_om; /* a message-insert job: pre_om set (never read: SQLite has no msg_prefetch) */
	struct tjob blocker, t[7];
	const char *kind = "iieximi"; /* insert, early, other */
	reset();
	hold(&blocker);
	for (int i = 0; i < 7; i++) {
		tjob_init(&t[i], i + 1, NULL, STORE_OK);
		t[i].job.pre_om = kind[i] == 'i' ? (struct outmsg *)&fake_om : NULL;
		t[i].job.early = kind[i] == 'e' || kind[i] == 'm';
		commit_submit(&t[i].job);
	}
	release();
	wait_done(8);
	int want[] = {0, 3, 1, 2, 4, 6, 5, 7};
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(done_order[i], want[i]);
}
END_TEST

/* The store's write ops lent to a test, which replaces one of them with its own; ops_back stops the committer,
 * then gives the store its own back. */
static struct store_write_ops lent;
static const struct store_write_ops *own_ops;

static struct store_write_ops *lend_ops(void)
{
	lent = *st->w;
	own_ops = st->w;
	st->w = &lent;
	return &lent;
}

static void ops_back(void)
{
	commit_stop(); /* before the store's ops go back */
	st->w = own_ops;
}

/* The unique keys a batch's jobs claim are locked in one call at its start, before any of its jobs runs
 * (store_write_ops.keys_lock: the SQLite store has none, so the test lends it one that records). */
static char locked[8][32];
static size_t nlocked, ran_at_lock;
static struct tjob keyed[3];
static int record_keys(struct store *s, const char *const *keys, size_t n)
{
	(void)s;
	for (size_t i = 0; i < n && nlocked < 8; i++)
		snprintf(locked[nlocked++], sizeof locked[0], "%s", keys[i]);
	for (int i = 0; i < 3; i++)
		ran_at_lock += keyed[i].ran;
	return STORE_OK;
}

START_TEST(test_keys_locked_first)
{
	lend_ops()->keys_lock = record_keys;
	struct tjob blocker;
	reset();
	hold(&blocker);
	for (int i = 0; i < 3; i++)
		tjob_init(&keyed[i], i + 1, NULL, STORE_OK);
	keyed[0].job.lock_keys[0] = "idem-1";
	keyed[1].job.lock_keys[1] = "e app_1 ev-1";
	keyed[2].job.lock_keys[0] = "idem-2";
	keyed[2].job.lock_keys[1] = "e app_1 ev-2";
	for (int i = 0; i < 3; i++)
		commit_submit(&keyed[i].job);
	release();
	wait_done(4);
	ops_back();
	ck_assert_uint_eq(nlocked, 4);
	ck_assert_str_eq(locked[0], "idem-1");
	ck_assert_str_eq(locked[1], "e app_1 ev-1");
	ck_assert_str_eq(locked[2], "idem-2");
	ck_assert_str_eq(locked[3], "e app_1 ev-2");
	ck_assert_uint_eq(ran_at_lock, 0); /* before the batch's first job */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(keyed[i].rc, STORE_OK);
}
END_TEST

/* A run of message inserts announced together (store_write_ops.msg_prefetch: the SQLite store has none, so the
 * test lends it one that records) ends before a job that claims a key the run claims already: the second claim
 * must see the first, so it goes in the next run. */
static char runs[4][64];
static size_t nruns;
static void record_prefetch(struct store *s, const struct store_msg_ins *ins, size_t n, bool ends)
{
	(void)s;
	char *o = runs[nruns++ % 4];
	o[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(o + strlen(o), 64 - strlen(o), "%s ", ins[i].claim != NULL ? ins[i].claim->key : "-");
	snprintf(o + strlen(o), 64 - strlen(o), "%s", ends ? "end" : "");
}

START_TEST(test_prefetch_runs_end_at_a_repeated_claim)
{
	lend_ops()->msg_prefetch = record_prefetch;
	static struct outmsg om; /* read for its fields only */
	static struct store_claim k1 = {.key = "k1"}, k2 = {.key = "k2"}, k1b = {.key = "k1"};
	const struct store_claim *claim[5] = {&k1, &k2, NULL, &k1b, NULL};
	struct tjob blocker, t[5];
	reset();
	hold(&blocker);
	for (int i = 0; i < 5; i++) {
		tjob_init(&t[i], i + 1, NULL, STORE_OK);
		t[i].job.pre_om = &om;
		t[i].job.pre_claim = claim[i];
		commit_submit(&t[i].job);
	}
	nruns = 0;
	release();
	wait_done(6);
	ops_back();
	ck_assert_uint_eq(nruns, 2);
	ck_assert_str_eq(runs[0], "k1 k2 - ");
	ck_assert_str_eq(runs[1], "k1 - end");
}
END_TEST

/* With another node on the database and under load, a batch waits (commit_start's wait) for more jobs to join
 * it (_i 1); a node alone does not wait (_i 0), nor does a job that finds the committer idle. Jobs gated open one at a time; each job's done() notes its batch. */
struct fjob {
	struct commit_job job;
	int gate;        /* run() waits until this gate opens (0: none) */
	uint64_t batch;  /* the batches committed when done() ran: the same for the jobs of one batch */
	bool done;
};
static int gates_open, gate_running;

static int fjob_run(struct store *s, void *arg)
{
	(void)s;
	struct fjob *f = arg;
	pthread_mutex_lock(&mu);
	if (f->gate != 0) {
		gate_running = f->gate;
		pthread_cond_broadcast(&cv);
	}
	while (f->gate > gates_open)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return STORE_OK;
}

static void fjob_done(void *arg, int rc)
{
	struct fjob *f = arg;
	uint64_t jobs;
	ck_assert_int_eq(rc, STORE_OK);
	pthread_mutex_lock(&mu);
	commit_stats(&f->batch, &jobs);
	f->done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void fjob_submit(struct fjob *f, int gate)
{
	*f = (struct fjob){.job = {.run = fjob_run, .done = fjob_done, .arg = f}, .gate = gate};
	commit_submit(&f->job);
}

static void gate_wait_running(int gate)
{
	pthread_mutex_lock(&mu);
	while (gate_running != gate)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void gate_open(int gate)
{
	pthread_mutex_lock(&mu);
	gates_open = gate;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void fjob_wait(struct fjob *f)
{
	pthread_mutex_lock(&mu);
	while (!f->done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

START_TEST(test_batch_fills_under_load)
{
	commit_stop();
	commit_start(st, 300); /* a long wait: the test's own pauses are far shorter */
	commit_siblings(_i);    /* 1: another node writes to the database, so a busy batch waits; 0: alone */
	gates_open = gate_running = 0;
	static struct fjob a, f[8], h[8], z;
	fjob_submit(&a, 1); /* a batch of its own, held */
	gate_wait_running(1);
	for (int i = 0; i < 8; i++) /* the next batch: 8 jobs, held by its last */
		fjob_submit(&f[i], i == 7 ? 2 : 0);
	gate_open(1);
	gate_wait_running(2);
	fjob_submit(&h[0], 0); /* came during that batch: under load */
	gate_open(2);
	usleep(20000);
	for (int i = 1; i < 8; i++)
		fjob_submit(&h[i], 0);
	for (int i = 0; i < 8; i++)
		fjob_wait(&h[i]);
	for (int i = 1; i < 8 && _i == 1; i++) /* h[0] waited, the others joined it: one batch of 8 */
		ck_assert_uint_eq(h[i].batch, h[0].batch);
	if (_i == 0) /* alone: h[0] went at once */
		ck_assert_uint_lt(h[0].batch, h[1].batch);
	ck_assert_uint_eq(f[7].batch, f[0].batch);
	ck_assert_uint_gt(h[0].batch, f[0].batch);
	usleep(20000); /* the committer idle: a job now does not wait to fill */
	int64_t t0 = mono_ms();
	fjob_submit(&z, 0);
	fjob_wait(&z);
	ck_assert_int_lt(mono_ms() - t0, 150);
}
END_TEST

/* A job's changes, in the order recorded, before its done(); the next job of the batch sees them in its. */
struct chjob {
	struct commit_job job;
	int step;
	struct endpoint before;
	bool disabled_seen;
	int rc;
};

static int chjob_run(struct store *s, void *arg)
{
	struct chjob *j = arg;
	struct app a = {.name = "c", .metadata = json_object()};
	struct endpoint e = {.url = "http://a/", .description = "", .metadata = json_object(), .headers = json_object(),
			     .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
	snprintf(a.id, sizeof a.id, "app_c");
	snprintf(e.id, sizeof e.id, "ep_c");
	snprintf(e.app_id, sizeof e.app_id, "app_c");
	int rc = STORE_OK;
	if (j->step == 0) {
		rc = s->w->app_put(s, &a);
		if (rc == STORE_OK)
			rc = s->w->endpoint_put(s, &e);
		if (rc == STORE_OK) {
			commit_change(&j->job, &(struct change){.kind = CHANGE_APP_PUT, .app = &a});
			commit_change(&j->job, &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e});
			commit_change(&j->job, &(struct change){.kind = CHANGE_ENDPOINT_DISABLED, .id = "ep_c",
								.disabled = true, .updated_ms = 7});
		}
	} else {
		e.url = "http://b/";
		rc = s->w->endpoint_put(s, &e);
		if (rc == STORE_OK)
			commit_change(&j->job, &(struct change){.kind = CHANGE_ENDPOINT_PUT, .endpoint = &e,
								.before = &j->before});
	}
	json_decref(a.metadata);
	json_decref(e.metadata);
	json_decref(e.headers);
	return rc;
}

static void chjob_done(void *arg, int rc)
{
	struct chjob *j = arg; /* no ck_assert here: this is the committer thread */
	j->rc = rc;
	struct ep_snap *s = cache_endpoint_ref("ep_c");
	j->disabled_seen = s != NULL && s->ep.disabled;
	ep_snap_unref(s);
	pthread_mutex_lock(&mu);
	ndone++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

START_TEST(test_changes_before_done)
{
	struct tjob blocker;
	struct chjob j[2] = {0};
	reset();
	hold(&blocker);
	for (int i = 0; i < 2; i++) {
		j[i].job = (struct commit_job){.run = chjob_run, .done = chjob_done, .arg = &j[i]};
		j[i].step = i;
		commit_submit(&j[i].job);
	}
	release();
	wait_done(3);
	ck_assert_int_eq(j[0].rc, STORE_OK);
	ck_assert_int_eq(j[1].rc, STORE_OK);
	ck_assert(j[0].disabled_seen); /* app, endpoint, then disabled: applied in order, before done() */
	ck_assert(!j[1].disabled_seen); /* the second put replaced the snapshot */
	ck_assert_str_eq(j[1].before.id, "ep_c"); /* as the first job left it */
	ck_assert(j[1].before.disabled);
	ck_assert_str_eq(j[1].before.url, "http://a/");
	endpoint_dispose(&j[1].before);
	struct endpoint e;
	ck_assert_int_eq(cache_endpoint_get("app_c", "ep_c", &e), STORE_OK);
	ck_assert_str_eq(e.url, "http://b/");
	endpoint_dispose(&e);
}
END_TEST

START_TEST(test_after_stop_refused)
{
	struct tjob t;
	reset();
	commit_stop();
	tjob_init(&t, 0, "app_late", STORE_OK);
	commit_submit(&t.job); /* done() at once, on this thread */
	ck_assert_int_eq(ndone, 1);
	ck_assert(!t.ran);
	ck_assert_int_eq(t.rc, STORE_ERR);
	ck_assert(!t.saw_app);
	ck_assert(!store_has_app("app_late"));
}
END_TEST

/* A started lane commits its jobs on its own store handle (its own write connection), beside the main lane: a
 * lane job is done while the main lane is held inside a batch. Without the lane, such a job runs in the main
 * lane; after commit_stop, it is refused. */
struct ljob {
	struct commit_job job;
	unsigned items; /* what run() reports it carried */
	bool block;     /* run() waits for release() */
	struct store *ran_on;
	int rc;
	bool done;
};

static int ljob_run(struct store *s, void *arg)
{
	struct ljob *l = arg;
	l->ran_on = s;
	l->job.items = l->items;
	if (l->block)
		block_here();
	return STORE_OK;
}

static void ljob_done(void *arg, int rc)
{
	struct ljob *l = arg;
	pthread_mutex_lock(&mu);
	l->rc = rc;
	l->done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void ljob_init(struct ljob *l, unsigned items, bool block)
{
	*l = (struct ljob){.job = {.run = ljob_run, .done = ljob_done, .arg = l, .lane = COMMIT_OUTCOMES},
			   .items = items, .block = block};
}

static void ljob_wait(struct ljob *l)
{
	pthread_mutex_lock(&mu);
	while (!l->done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void ljob_submit_wait(struct ljob *l)
{
	ljob_init(l, 0, false);
	commit_submit(&l->job);
	ljob_wait(l);
}

START_TEST(test_lane_beside_main)
{
	char dir2[64];
	struct store *st2 = tests_sqlite_store(dir2, "commit-lane");
	struct ljob l;
	struct tjob blocker;
	uint64_t b0, j0, b1, j1;
	reset();
	ljob_submit_wait(&l); /* no lane yet: the main one */
	ck_assert_ptr_eq(l.ran_on, st);
	ck_assert_int_eq(l.rc, STORE_OK);
	commit_lane_start(COMMIT_OUTCOMES, st2, COMMIT_OUTCOMES_WAIT_MS);
	uint64_t lb0, lj0, lb1, lj1;
	commit_lane_stats(COMMIT_OUTCOMES, &lb0, &lj0);
	commit_stats(&b0, &j0);
	hold(&blocker); /* the main lane is inside a batch until release() */
	ljob_submit_wait(&l);
	ck_assert_ptr_eq(l.ran_on, st2);
	ck_assert_int_eq(l.rc, STORE_OK);
	ck_assert_int_eq(ndone, 0); /* the blocker is still running */
	release();
	wait_done(1);
	commit_stats(&b1, &j1);
	ck_assert_uint_eq(b1 - b0, 2); /* the lane's batch and the main one's, counted together */
	ck_assert_uint_eq(j1 - j0, 2);
	commit_lane_stats(COMMIT_OUTCOMES, &lb1, &lj1);
	ck_assert_uint_eq(lb1 - lb0, 1);
	ck_assert_uint_eq(lj1 - lj0, 1);
	commit_stop();
	ljob_submit_wait(&l); /* refused at once: both lanes stopped */
	ck_assert_ptr_null(l.ran_on);
	ck_assert_int_eq(l.rc, STORE_ERR);
	store_close(st2);
	tests_rmdir(dir2);
}
END_TEST

/* The outcomes' lane waits to fill only under load, told by the items its last batch carried (outcomes join a
 * queued job, so jobs alone do not show it). After a batch of one outcome, a job that came during its commit
 * goes at once: a node killed right after a few deliveries must not have their outcomes still waiting. After
 * a batch of 8, it waits the lane's wait (_i 1); with one other node, twice as long (_i 2); with 39, the cap of
 * 50 ms, not 40 times as long (_i 3). */
START_TEST(test_lane_fills_by_items)
{
	const int64_t wait_ms = _i < 2 ? 400 : 20;
	char dir2[64];
	struct store *st2 = tests_sqlite_store(dir2, "commit-fill");
	struct ljob a, b;
	reset();
	commit_lane_start(COMMIT_OUTCOMES, st2, wait_ms);
	commit_siblings(_i == 2 ? 1 : _i == 3 ? 39 : 0);
	ljob_init(&a, _i ? 8 : 1, true);
	ljob_init(&b, 1, false);
	commit_submit(&a.job);
	pthread_mutex_lock(&mu);
	while (!blocked)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	commit_submit(&b.job); /* queued during a's batch: the lane is not idle */
	int64_t t0 = mono_ms();
	release();
	ljob_wait(&b);
	int64_t took = mono_ms() - t0;
	ck_assert_ptr_eq(b.ran_on, st2);
	if (_i == 1)
		ck_assert_int_ge(took, wait_ms);
	else if (_i == 2)
		ck_assert_int_ge(took, 2 * wait_ms);
	else if (_i == 3)
		ck_assert_msg(took >= 50 && took < 20 * wait_ms, "took %lld ms", (long long)took);
	else
		ck_assert_int_lt(took, wait_ms / 2);
	commit_siblings(0);
	commit_stop();
	store_close(st2);
	tests_rmdir(dir2);
}
END_TEST

Suite *commit_suite(void)
{
	Suite *s = suite_create("commit");
	TCase *tc = tcase_create("committer");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_jobs_share_a_batch);
	tcase_add_test(tc, test_failing_job_rolls_back_alone);
	tcase_add_test(tc, test_done_in_submission_order);
	tcase_add_test(tc, test_early_jobs_first);
	tcase_add_test(tc, test_keys_locked_first);
	tcase_add_test(tc, test_prefetch_runs_end_at_a_repeated_claim);
	tcase_add_loop_test(tc, test_batch_fills_under_load, 0, 2);
	tcase_add_test(tc, test_changes_before_done);
	tcase_add_test(tc, test_after_stop_refused);
	tcase_add_test(tc, test_lane_beside_main);
	tcase_add_loop_test(tc, test_lane_fills_by_items, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}
