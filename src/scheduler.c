/* scheduler.c: pick the scheduler backend for the store. */
#include "scheduler.h"

const struct sched_backend *sched = &sched_ram;

int sched_init(const struct config *cfg, struct store *st, void (*wake)(void))
{
	/* a shared database gets the backend that claims endpoints through leases; one writer keeps all in memory */
	sched = st->c != NULL ? &sched_pg : &sched_ram;
	return sched->init(cfg, st, wake);
}
