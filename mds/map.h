/*
 * map.h - the cluster map, kept by shard 0.
 *
 * The map lists the metadata shards, the OSDs (id, address, host, media
 * class, capacity, up/in state) and the pools; every change bumps its
 * epoch.  OSDs register and send heartbeats; an OSD silent for
 * cfg mds.osd_down_ms is marked down.  Clients and OSDs fetch the map and
 * watch it (a MAP_GET that names the epoch it already has waits until a
 * newer one exists or its timeout passes).  The map is written to the
 * shard's data directory atomically at each change and reloaded at start;
 * the pools of cairn.conf are created the first time.
 *
 * Threads: handlers run on RPC worker threads; a timer thread marks silent
 * OSDs down.  One mutex guards the map.
 */
#ifndef CAIRN_MDS_MAP_H
#define CAIRN_MDS_MAP_H

struct mds;
struct rpc_req;

/* Loads (or creates) the map and starts the timer.  0 or -errno. */
int mds_map_start(struct mds *m);
void mds_map_stop(struct mds *m);

/* Serves opcodes 0x0301..0x03ff. */
void mds_map_handle(struct mds *m, struct rpc_req *req);

#endif
