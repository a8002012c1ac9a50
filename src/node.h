/* node.h: this process's identity among the nodes sharing a database ("node_" + a fresh id at every start: a
 * restarted node is a new node, so nothing it held before its restart is mistaken for its own). */
#ifndef HOOKD_NODE_H
#define HOOKD_NODE_H

/* Make this process's node id (once, at start-up, before other threads run). */
void node_init(void);
/* The node id ("" before node_init). */
const char *node_id(void);

#endif
