/* metrics.h: process-wide counters and gauges, updated with relaxed atomics, rendered for GET /metrics in
 * the Prometheus text format. */
#ifndef HOOKD_METRICS_H
#define HOOKD_METRICS_H

#include <stdint.h>

struct metrics {
	uint64_t messages_accepted;   /* messages committed through the API */
	uint64_t deliveries_success;  /* attempts by outcome */
	uint64_t deliveries_retry;
	uint64_t deliveries_fail;
	uint64_t deliveries_canceled;
	uint64_t deliveries_filtered; /* deliveries a payloadFilter kept out (no delivery row) */
	int64_t inflight;             /* gauges, written by the dispatcher */
	int64_t scheduled;
	int64_t dead_letter;          /* gauges from the store, refreshed at each chore tick */
	int64_t pending_stored;
	int64_t cluster_nodes;        /* a shared database: live nodes and endpoints this node owns, each tick */
	int64_t cluster_endpoints;
	int64_t http_connections;     /* API connections open (refreshed by the connection watchdog) */
	uint64_t http_closed_slow;    /* API connections shut down past their deadline (api_conn.c) */
	uint64_t transformations;     /* handler chains run by the transformation workers (xform_pool.c) */
	uint64_t transformations_failed;
};
extern struct metrics metrics;

/* A latency histogram with fixed buckets from 1 ms to 10 s (Prometheus' cumulative buckets are made when
 * rendering). Observing is a few relaxed atomic adds. */
#define HIST_BUCKETS 13
struct histogram {
	uint64_t bucket[HIST_BUCKETS + 1]; /* the last: above the highest bound */
	uint64_t count;
	uint64_t sum_us;
};
extern struct histogram hist_ingest;  /* POST .../msg: request received -> committed and answered */
extern struct histogram hist_api;     /* every API request */
extern struct histogram hist_attempt; /* each delivery attempt's request */
extern struct histogram hist_transform; /* each delivery's handler chain on a transformation worker */
void histogram_observe(struct histogram *h, int64_t us);

/* Inbound requests by outcome (hookd_inbound_requests_total{outcome}). */
enum inbound_outcome {
	IN_ACCEPTED, IN_DUPLICATE, IN_MISSING_SIGNATURE, IN_MALFORMED_SIGNATURE, IN_STALE, IN_FUTURE,
	IN_INVALID_SIGNATURE, IN_TOO_LARGE, IN_UNSUPPORTED_TYPE, IN_UNKNOWN_SOURCE, IN_OUTCOMES
};
void metrics_inbound(enum inbound_outcome o);

/* Per-endpoint outcome counters for the first METRICS_ENDPOINTS_MAX endpoints seen; the rest are summed
 * under endpoint="_other", so the series stay bounded. outcome: 0 success, 1 retry, 2 fail. */
#define METRICS_ENDPOINTS_MAX 200
void metrics_endpoint_outcome(const char *endpoint_id, int outcome);
/* A message the endpoint's payloadFilter kept out (hookd_endpoint_filtered_total, under the same bound). */
void metrics_endpoint_filtered(const char *endpoint_id);

#define METRIC_ADD(field, n) __atomic_add_fetch(&metrics.field, (n), __ATOMIC_RELAXED)
#define METRIC_SET(field, v) __atomic_store_n(&metrics.field, (v), __ATOMIC_RELAXED)

/* The text exposition, malloc'd. */
char *metrics_render(void);

#endif
