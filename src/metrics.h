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
	int64_t inflight;             /* gauges, written by the dispatcher */
	int64_t scheduled;
};
extern struct metrics metrics;

#define METRIC_ADD(field, n) __atomic_add_fetch(&metrics.field, (n), __ATOMIC_RELAXED)
#define METRIC_SET(field, v) __atomic_store_n(&metrics.field, (v), __ATOMIC_RELAXED)

/* The text exposition, malloc'd. */
char *metrics_render(void);

#endif
