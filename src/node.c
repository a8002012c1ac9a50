/* node.c: this process's node id. */
#include "node.h"

#include "id.h"

static char id[ID_MAX];

void node_init(void) { id_new("node_", id); }

const char *node_id(void) { return id; }
