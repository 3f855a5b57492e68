/*
 * server.h - the RPC server of a metadata shard: start and stop.  The
 * handler itself, mds_server_handle(), is declared in mds.h.
 *
 * Requests run on the RPC engine's I/O threads when they cannot block
 * (the fast path: lookups, getattr, creates, unlinks, readdir, ... on this
 * shard, group-committed), and on the shard's own worker threads
 * (cfg mds.workers) when they may: fsync-class operations, operations that
 * span shards (mds/xshard.h), shard-to-shard and fsck opcodes, and the
 * cluster map's changes.  Thus the common case pays no thread hop; the rest
 * never blocks an I/O thread.
 */
#ifndef CAIRN_MDS_SERVER_H
#define CAIRN_MDS_SERVER_H

#include <stddef.h>

struct mds;

/*
 * Starts the workers and the RPC server of m on its address from
 * m->cfg (m->ns, m->key, m->engine set; xshard and map started), and
 * writes that address to addr.  One server per process.  Returns 0,
 * -EADDRINUSE, -EINVAL, -ENOMEM, or -errno from pthread_create or the RPC
 * layer (logged).
 */
int mds_server_start(struct mds *m, char *addr, size_t addrlen);

/*
 * Stops accepting, waits until every request has been answered (parked
 * MAP_GETs must have been released with mds_map_quiesce() first), then
 * stops the workers.
 */
void mds_server_stop(struct mds *m);

#endif
