/* node.h: this process's identity among the nodes sharing a database.
 *
 * The id ("node_" + an id) is kept in the data directory, so a node restarted on its data directory (after a
 * crash, an upgrade) is the same node: the leases it held are still its own, and it sends their pending
 * deliveries at once instead of waiting for the leases to expire. The directory is locked while the node runs
 * (flock on DATA/node), so two processes never share an id. */
#ifndef HOOKD_NODE_H
#define HOOKD_NODE_H

/* Read (or make and store) the node id of data_dir and lock it for this process's life; 0, or -1 with a
 * one-line reason on stderr (another hookd runs on this directory, or it cannot be written). */
int node_init(const char *data_dir);
/* The node id ("" before node_init). */
const char *node_id(void);

#endif
