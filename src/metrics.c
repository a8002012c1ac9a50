/* metrics.c: GET /metrics in the Prometheus text format. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>

#include "commit.h"
#include "util.h"

struct metrics metrics;

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

char *metrics_render(void)
{
	struct buf b;
	uint64_t batches, jobs;
	buf_init(&b, 1 << 20);
	commit_stats(&batches, &jobs);
	put(&b, "# HELP hookd_commit_batches_total Transactions committed by the committer.\n"
		"# TYPE hookd_commit_batches_total counter\nhookd_commit_batches_total %llu\n",
	    (unsigned long long)batches);
	put(&b, "# HELP hookd_commit_jobs_total Writes committed (messages, outcome batches, API writes).\n"
		"# TYPE hookd_commit_jobs_total counter\nhookd_commit_jobs_total %llu\n",
	    (unsigned long long)jobs);
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
	put(&b, "# HELP hookd_deliveries_inflight Requests to endpoints in flight.\n"
		"# TYPE hookd_deliveries_inflight gauge\nhookd_deliveries_inflight %lld\n",
	    (long long)__atomic_load_n(&metrics.inflight, __ATOMIC_RELAXED));
	put(&b, "# HELP hookd_deliveries_scheduled Deliveries waiting in the scheduler.\n"
		"# TYPE hookd_deliveries_scheduled gauge\nhookd_deliveries_scheduled %lld\n",
	    (long long)__atomic_load_n(&metrics.scheduled, __ATOMIC_RELAXED));
	char *s = b.data ? b.data : xstrdup("");
	return s;
}
