/* sched_ram.c: the in-memory schedule, for a store with one writer (SQLite): this process owns every endpoint.
 *
 * At start-up every pending delivery is read into the shared heap by key (sched_core.h); from then on the
 * schedule is fed only by this process's commits and retries, because no other process writes the store.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "sched_core.h"
#include "scheduler.h"

static struct hmap boot; /* endpoint id -> malloc'd int64_t: its oldest pending key at start-up */

static void scan_cb(void *arg, int64_t dkey, int64_t next_ms, const char *endpoint_id)
{
	(void)arg;
	(void)endpoint_id;
	core_fill(dkey, next_ms);
}

/* fifo endpoints' oldest pending delivery, so that after a restart the order holds (read once, here) */
static int boot_fill(struct store *st)
{
	struct endpoint *eps = NULL;
	size_t n = 0;
	if (st->w->endpoints_load(st, &eps, &n) != STORE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int64_t oldest;
		if (eps[i].fifo && st->q->delivery_oldest_pending(st, eps[i].id, &oldest) == STORE_OK) {
			int64_t *v = xmalloc(sizeof *v);
			*v = oldest;
			hmap_put(&boot, eps[i].id, v);
		}
		endpoint_dispose(&eps[i]);
	}
	free(eps);
	return 0;
}

static int ram_init(const struct config *cfg, struct store *st, void (*wake)(void))
{
	(void)cfg;
	core_init(st, wake, NULL);
	METRIC_SET(cluster_nodes, 1);
	hmap_init(&boot);
	if (st->w->deliveries_reset_sending(st) != STORE_OK ||
	    st->w->deliveries_scan_pending(st, scan_cb, NULL) != STORE_OK || boot_fill(st) < 0)
		return -1;
	if (core_filled() > 0)
		log_info("sched: %zu pending deliveries loaded", core_filled());
	return 0;
}

static int64_t ram_boot_oldest(const char *endpoint_id)
{
	int64_t *v = hmap_del(&boot, endpoint_id);
	int64_t k = v != NULL ? *v : 0;
	free(v);
	return k;
}

static bool ram_owns(const char *endpoint_id)
{
	(void)endpoint_id;
	return true; /* one process: every endpoint is ours */
}

static void ram_release(const char *endpoint_id) { (void)endpoint_id; }

static size_t ram_lost(char (*out)[ID_MAX], size_t max)
{
	(void)out;
	(void)max;
	return 0;
}

static void ram_settled(const int64_t *dkeys, size_t n)
{
	(void)dkeys;
	(void)n;
}

static void ram_dispose(void)
{
	core_dispose();
	size_t i = 0;
	for (struct hent *e = NULL; (e = hmap_next(&boot, e, &i)) != NULL;)
		free(e->val);
	hmap_dispose(&boot);
}

const struct sched_backend sched_ram = {
	.name = "ram",
	.init = ram_init,
	.start = core_start,
	.stop = core_stop,
	.dispose = ram_dispose,
	.insert = core_insert,
	.retry = core_push,
	.settled = ram_settled,
	.take = core_take,
	.wait_ms = core_wait_ms,
	.count = core_count,
	.boot_oldest = ram_boot_oldest,
	.owns = ram_owns,
	.release = ram_release,
	.lost = ram_lost,
};
