/* apiver.c: payload versions (apiver.h). */
#include "apiver.h"

#include <stddef.h>

char *apiver_chain(const char *pinned, struct strlist *codes)
{
	(void)pinned;
	(void)codes;
	return NULL; /* no versions yet */
}
