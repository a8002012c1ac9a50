/* outmsg.c: a message on its way out (outmsg.h). */
#include "outmsg.h"

#include <stdlib.h>
#include <string.h>

struct outmsg *outmsg_new(struct message *m, char (*ep_ids)[ID_MAX], size_t n)
{
	struct outmsg *om = xcalloc(1, sizeof *om);
	om->refs = 1;
	om->m = *m;
	memset(m, 0, sizeof *m);
	om->n = n;
	om->ep_ids = ep_ids;
	om->dkeys = xcalloc(n ? n : 1, sizeof *om->dkeys);
	return om;
}

int64_t outmsg_held_bytes;

void outmsg_unref(struct outmsg *om)
{
	if (om == NULL || --om->refs > 0)
		return;
	if (om->held)
		outmsg_held_bytes -= (int64_t)om->m.payload_len;
	message_dispose(&om->m);
	free(om->ep_ids);
	free(om->dkeys);
	free(om);
}
