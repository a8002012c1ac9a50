/* metrics.c: GET /metrics in the Prometheus text format. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commit.h"
#include "util.h"

struct metrics metrics;
struct histogram hist_ingest, hist_api, hist_attempt, hist_transform;

static const double bounds_s[HIST_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					      0.25,  0.5,    1,     2.5,  5,     10};

void histogram_observe(struct histogram *h, int64_t us)
{
	int i = 0;
	while (i < HIST_BUCKETS && (double)us > bounds_s[i] * 1e6)
		i++;
	__atomic_add_fetch(&h->bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->sum_us, (uint64_t)(us > 0 ? us : 0), __ATOMIC_RELAXED);
}

struct ep_counts {
	char id[48];
	uint64_t n[4]; /* success, retry, fail, filtered */
};
static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ep_counts ep_counts[METRICS_ENDPOINTS_MAX + 1]; /* the last is "_other" */
static int n_ep;

void metrics_endpoint_outcome(const char *endpoint_id, int outcome)
{
	pthread_mutex_lock(&ep_lock);
	int i = 0;
	while (i < n_ep && strcmp(ep_counts[i].id, endpoint_id) != 0)
		i++;
	if (i == n_ep && n_ep < METRICS_ENDPOINTS_MAX)
		snprintf(ep_counts[n_ep++].id, sizeof ep_counts[0].id, "%s", endpoint_id);
	if (i == n_ep) /* full: counted as other */
		i = METRICS_ENDPOINTS_MAX;
	ep_counts[i].n[outcome]++;
	pthread_mutex_unlock(&ep_lock);
}

void metrics_endpoint_filtered(const char *endpoint_id) { metrics_endpoint_outcome(endpoint_id, 3); }

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void put_gauge(struct buf *b, const char *name, const char *help, const int64_t *value)
{
	put(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
	    (long long)__atomic_load_n(value, __ATOMIC_RELAXED));
}

static void put_histogram(struct buf *b, const char *name, const char *help, const struct histogram *h)
{
	put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	uint64_t cum = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		cum += load(&h->bucket[i]);
		put(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds_s[i], (unsigned long long)cum);
	}
	cum += load(&h->bucket[HIST_BUCKETS]);
	put(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	put(b, "%s_sum %.6f\n%s_count %llu\n", name, (double)load(&h->sum_us) / 1e6, name, (unsigned long long)cum);
}

static void put_endpoints(struct buf *b)
{
	static const char *const outcomes[] = {"success", "retry", "fail"};
	put(b, "# HELP hookd_endpoint_deliveries_total Delivery attempts by endpoint and outcome (the first %d "
	       "endpoints; the rest under endpoint=\"_other\").\n# TYPE hookd_endpoint_deliveries_total counter\n",
	    METRICS_ENDPOINTS_MAX);
	pthread_mutex_lock(&ep_lock);
	for (int i = 0; i <= METRICS_ENDPOINTS_MAX; i++) {
		if (i >= n_ep && i < METRICS_ENDPOINTS_MAX)
			continue;
		const char *id = i == METRICS_ENDPOINTS_MAX ? "_other" : ep_counts[i].id;
		for (int o = 0; o < 3; o++)
			put(b, "hookd_endpoint_deliveries_total{endpoint=\"%s\",outcome=\"%s\"} %llu\n", id,
			    outcomes[o], (unsigned long long)ep_counts[i].n[o]);
	}
	put(b, "# HELP hookd_endpoint_filtered_total Messages an endpoint's payloadFilter kept out, by endpoint (as "
	       "above; endpoints with none are not listed).\n# TYPE hookd_endpoint_filtered_total counter\n");
	for (int i = 0; i <= METRICS_ENDPOINTS_MAX; i++) {
		if ((i >= n_ep && i < METRICS_ENDPOINTS_MAX) || ep_counts[i].n[3] == 0)
			continue;
		put(b, "hookd_endpoint_filtered_total{endpoint=\"%s\"} %llu\n",
		    i == METRICS_ENDPOINTS_MAX ? "_other" : ep_counts[i].id, (unsigned long long)ep_counts[i].n[3]);
	}
	pthread_mutex_unlock(&ep_lock);
}

static uint64_t inbound[IN_OUTCOMES];

void metrics_inbound(enum inbound_outcome o) { __atomic_add_fetch(&inbound[o], 1, __ATOMIC_RELAXED); }

static void put_inbound(struct buf *b)
{
	static const char *const names[IN_OUTCOMES] = {
		"accepted", "duplicate", "missing_signature", "malformed_signature", "stale",
		"future", "invalid_signature", "too_large", "unsupported_type", "unknown_source"};
	put(b, "# HELP hookd_inbound_requests_total Requests to /in/{source} by outcome (rejections by reason).\n"
	       "# TYPE hookd_inbound_requests_total counter\n");
	for (int i = 0; i < IN_OUTCOMES; i++)
		put(b, "hookd_inbound_requests_total{outcome=\"%s\"} %llu\n", names[i],
		    (unsigned long long)__atomic_load_n(&inbound[i], __ATOMIC_RELAXED));
}

char *metrics_render(void)
{
	struct buf b;
	uint64_t batches = 0, jobs = 0, lane_batches[COMMIT_LANES];
	buf_init(&b, 1 << 20);
	for (int i = 0; i < COMMIT_LANES; i++) { /* the totals from the same reads, so that the lanes add up */
		uint64_t j;
		commit_lane_stats((enum commit_lane)i, &lane_batches[i], &j);
		batches += lane_batches[i];
		jobs += j;
	}
	put(&b, "# HELP hookd_commit_batches_total Transactions committed by the committers (all lanes).\n"
		"# TYPE hookd_commit_batches_total counter\nhookd_commit_batches_total %llu\n",
	    (unsigned long long)batches);
	put(&b, "# HELP hookd_commit_jobs_total Writes committed (messages, outcome batches, API writes).\n"
		"# TYPE hookd_commit_jobs_total counter\nhookd_commit_jobs_total %llu\n",
	    (unsigned long long)jobs);
	put(&b, "# HELP hookd_commit_lane_batches_total Transactions committed by lane (outcomes: on a write connection of "
		"their own, PostgreSQL only; on SQLite they commit in the main lane).\n"
		"# TYPE hookd_commit_lane_batches_total counter\n");
	static const char *const lane_names[COMMIT_LANES] = {[COMMIT_MAIN] = "main", [COMMIT_OUTCOMES] = "outcomes"};
	for (int i = 0; i < COMMIT_LANES; i++)
		put(&b, "hookd_commit_lane_batches_total{lane=\"%s\"} %llu\n", lane_names[i],
		    (unsigned long long)lane_batches[i]);
	put(&b, "# HELP hookd_messages_accepted_total Messages accepted and committed.\n"
		"# TYPE hookd_messages_accepted_total counter\nhookd_messages_accepted_total %llu\n",
	    (unsigned long long)load(&metrics.messages_accepted));
	put(&b, "# HELP hookd_deliveries_total Delivery attempts and cancellations by outcome.\n"
		"# TYPE hookd_deliveries_total counter\n");
	put(&b, "hookd_deliveries_total{outcome=\"success\"} %llu\n",
	    (unsigned long long)load(&metrics.deliveries_success));
	put(&b, "hookd_deliveries_total{outcome=\"retry\"} %llu\n", (unsigned long long)load(&metrics.deliveries_retry));
	put(&b, "hookd_deliveries_total{outcome=\"fail\"} %llu\n", (unsigned long long)load(&metrics.deliveries_fail));
	put(&b, "hookd_deliveries_total{outcome=\"canceled\"} %llu\n",
	    (unsigned long long)load(&metrics.deliveries_canceled));
	put(&b, "# HELP hookd_deliveries_filtered_total Deliveries not made because the endpoint's payloadFilter did "
		"not match the message.\n# TYPE hookd_deliveries_filtered_total counter\n"
		"hookd_deliveries_filtered_total %llu\n",
	    (unsigned long long)load(&metrics.deliveries_filtered));
	put_gauge(&b, "hookd_deliveries_inflight", "Requests to endpoints in flight.", &metrics.inflight);
	put_gauge(&b, "hookd_deliveries_dead_letter", "Deliveries in the fail state (refreshed every chore interval).",
		  &metrics.dead_letter);
	put_gauge(&b, "hookd_deliveries_pending_stored",
		  "Deliveries pending in the store (refreshed every chore interval).", &metrics.pending_stored);
	put_gauge(&b, "hookd_deliveries_scheduled", "Deliveries waiting in the scheduler.", &metrics.scheduled);
	put_gauge(&b, "hookd_cluster_nodes", "Live hookd nodes on this database, as this node last saw (1 on SQLite).",
		  &metrics.cluster_nodes);
	put_gauge(&b, "hookd_cluster_endpoints_owned", "Endpoints this node holds leases on (0 on SQLite, where one node sends for all).",
		  &metrics.cluster_endpoints);
	put_gauge(&b, "hookd_http_connections", "API connections open.", &metrics.http_connections);
	put(&b, "# HELP hookd_http_slow_closed_total API connections closed because their request did not arrive in "
		"time (--receive-timeout) or they stayed idle too long.\n"
		"# TYPE hookd_http_slow_closed_total counter\nhookd_http_slow_closed_total %llu\n",
	    (unsigned long long)load(&metrics.http_closed_slow));
	put_histogram(&b, "hookd_ingest_duration_seconds",
		      "Message ingest: request received to committed and answered.", &hist_ingest);
	put_histogram(&b, "hookd_api_request_duration_seconds", "API requests, all of them.", &hist_api);
	put_histogram(&b, "hookd_attempt_duration_seconds", "Delivery attempts: the request to the endpoint.",
		      &hist_attempt);
	put(&b, "# HELP hookd_transformations_total Handler chains (api-version downgrades, transformations) run, by "
		"result.\n# TYPE hookd_transformations_total counter\nhookd_transformations_total{result=\"ok\"} %llu\n"
		"hookd_transformations_total{result=\"failed\"} %llu\n",
	    (unsigned long long)(load(&metrics.transformations) - load(&metrics.transformations_failed)),
	    (unsigned long long)load(&metrics.transformations_failed));
	put_histogram(&b, "hookd_transformation_duration_seconds",
		      "A delivery's handler chain on a transformation worker.", &hist_transform);
	put_endpoints(&b);
	put_inbound(&b);
	char *s = b.data ? b.data : xstrdup("");
	return s;
}
