/* api_figures.c: GET /app/{app}/endpoint/{ep}/figures, hookd's addition to Svix's stats: the last hour, day
 * and week (with ?series=true, each also as buckets over time), the dead-letter size, the circuit breaker and
 * the disabled state with its reason (docs/api.md, "Endpoint figures"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "ephealth.h"
#include "hookd.h"
#include "json.h"
#include "scheduler.h"

struct figure_rows {
	struct attempt_fig *v;
	size_t n, cap;
};

static void figure_row(void *arg, const struct attempt_fig *f)
{
	struct figure_rows *rows = arg;
	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 1024;
		rows->v = xrealloc(rows->v, rows->cap * sizeof *rows->v);
	}
	rows->v[rows->n++] = *f;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_created(const void *a, const void *b)
{
	return cmp_i64(&((const struct attempt_fig *)a)->created_ms, &((const struct attempt_fig *)b)->created_ms);
}

/* The first row (rows sorted by time) created at or after t. */
static size_t first_at(const struct figure_rows *rows, int64_t t)
{
	size_t lo = 0, hi = rows->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rows->v[mid].created_ms < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The figures of the rows created in [from, to); d is scratch room for as many durations. */
static json_t *figures_of(const struct figure_rows *rows, int64_t from, int64_t to, int64_t *d)
{
	size_t a = first_at(rows, from), b = first_at(rows, to), n = 0, ok = 0;
	int64_t sum = 0;
	json_t *codes = json_object();
	for (size_t i = a; i < b; i++) {
		const struct attempt_fig *f = &rows->v[i];
		d[n++] = f->duration_ms;
		sum += f->duration_ms;
		ok += f->status == DS_SUCCESS;
		char code[16];
		snprintf(code, sizeof code, "%d", f->status_code);
		json_int_t c = json_integer_value(json_object_get(codes, code));
		json_object_set_new(codes, code, json_integer(c + 1));
	}
	qsort(d, n, sizeof *d, cmp_i64);
	return json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "attempts", (json_int_t)n, "success",
			 (json_int_t)ok, "failed", (json_int_t)(n - ok), "successRate",
			 n ? json_real((double)ok / (double)n) : json_null(), "avgMs",
			 n ? json_real((double)sum / (double)n) : json_null(), "p50Ms",
			 n ? json_integer(d[(n * 50 - 1) / 100]) : json_null(), "p95Ms",
			 n ? json_integer(d[(n * 95 - 1) / 100]) : json_null(), "p99Ms",
			 n ? json_integer(d[(n * 99 - 1) / 100]) : json_null(), "statusCodes", codes);
}

/* One window ending at now: its figures, and with series its buckets, oldest first, each with its start. */
static json_t *window(const struct figure_rows *rows, int64_t now, int64_t span, int buckets, bool series,
		      int64_t *d)
{
	json_t *w = figures_of(rows, now - span, now + 1, d);
	if (!series)
		return w;
	int64_t step = span / buckets;
	json_t *pts = json_array();
	for (int i = 0; i < buckets; i++) {
		int64_t from = now - span + i * step, to = i == buckets - 1 ? now + 1 : from + step;
		json_t *p = figures_of(rows, from, to, d);
		json_object_set_new(p, "start", time_to_json(from));
		json_array_append_new(pts, p);
	}
	json_object_set_new(w, "bucketMs", json_integer(step));
	json_object_set_new(w, "series", pts);
	return w;
}

static json_t *time_or_null(int64_t ms) { return ms ? time_to_json(ms) : json_null(); }

static const char *const BREAKER[] = {"closed", "open", "half-open"};
static const char *const REASON[] = {NULL, "gone", "failing"};

/* The breaker as this node knows it, and the disabled state with its reason (docs/api.md). */
static void health(json_t *j, const struct endpoint *e, int64_t now)
{
	struct ephealth h;
	bool known = ephealth_get(e->id, &h);
	bool owned = sched == NULL || sched->owns(e->id);
	json_t *b;
	if (!owned) {
		b = json_pack("{s:n,s:b}", "state", "thisNode", false);
	} else {
		/* an open breaker whose pause is over lets the next delivery through as a probe */
		int state = h.breaker == BREAKER_OPEN && h.retry_ms <= now ? BREAKER_HALF_OPEN : h.breaker;
		int64_t since = known ? h.failing_since : e->failing_since;
		b = json_pack("{s:s,s:b,s:i,s:o,s:o,s:o,s:o}", "state", BREAKER[state], "thisNode", true, "failures",
			      h.failures, "failingSince", time_or_null(since), "openedAt", time_or_null(h.opened_ms),
			      "retryAt", time_or_null(state == BREAKER_OPEN ? h.retry_ms : 0), "closedAt",
			      time_or_null(h.closed_ms));
	}
	json_object_set_new(j, "breaker", b);
	json_object_set_new(j, "disabled", json_boolean(e->disabled));
	const char *why = NULL;
	if (e->disabled) {
		if (h.disabled_reason != DISABLED_NONE && h.disabled_ms == e->updated_ms)
			why = REASON[h.disabled_reason]; /* this node disabled it and nobody edited it since */
		else
			why = (known ? h.failing_since : e->failing_since) ? "failing" : "manual";
	}
	json_object_set_new(j, "disabledAt", e->disabled ? time_to_json(e->updated_ms) : json_null());
	json_object_set_new(j, "disabledReason", why ? json_string(why) : json_null());
}

void api_endpoint_figures(struct req *r)
{
	struct app a;
	struct endpoint e;
	if (api_app_lookup(r, r->seg[1], &a) < 0)
		return;
	if (cache_endpoint_get(a.id, r->seg[3], &e) != STORE_OK) {
		app_dispose(&a);
		api_not_found(r);
		return;
	}
	int series = api_query_bool(r, "series", false);
	if (series < 0)
		goto out;
	int64_t now = now_ms(), week = 7LL * 86400 * 1000;
	struct figure_rows rows = {0};
	int64_t c[5] = {0};
	struct store *st = api_store();
	if (st->q->attempt_figures(st, a.id, e.id, now - week, figure_row, &rows) != STORE_OK ||
	    st->q->delivery_counts(st, a.id, e.id, c) != STORE_OK) {
		api_error(r, 500, "internal_error", "the database failed");
	} else {
		if (rows.n > 1)
			qsort(rows.v, rows.n, sizeof *rows.v, cmp_created);
		int64_t *d = xcalloc(rows.n + 1, sizeof *d);
		json_t *j = json_pack("{s:o,s:o,s:o,s:I,s:I}", "hour", window(&rows, now, 3600000, 12, series, d),
				      "day", window(&rows, now, 86400000, 24, series, d), "week",
				      window(&rows, now, week, 28, series, d), "deadLetter", (json_int_t)c[DS_FAIL],
				      "pending", (json_int_t)c[DS_PENDING]);
		health(j, &e, now);
		free(d);
		api_reply_json(r, 200, j);
	}
	free(rows.v);
out:
	endpoint_dispose(&e);
	app_dispose(&a);
}
