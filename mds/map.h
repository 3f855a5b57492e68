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
 * OSDs down.  One mutex guards the map.  Other modules of the shard read
 * it through mds_map_copy() and hear of its changes through
 * mds_map_listen() (the purger, mds/purge.h).
 */
#ifndef CAIRN_MDS_MAP_H
#define CAIRN_MDS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mds;
struct rpc_req;
struct proto_layout;
struct proto_map;

/* Name of the map file in the shard's data directory. */
#define MDS_MAP_FILE "clustermap"

/*
 * Loads (or creates) the map and starts the timer.  Returns 0, -EIO (the
 * map file is corrupt or unreadable: logged, never replaced), -EINVAL (a
 * pool of cairn.conf cannot be expressed in the map, e.g. an unknown media
 * class), -ENOMEM, or -errno from the file system or pthread_create.
 */
int mds_map_start(struct mds *m);
void mds_map_stop(struct mds *m);

/*
 * Answers every parked MAP_GET watch now and makes later ones answer at
 * once, so that rpc_server_stop() (which waits for every request to be
 * answered) does not wait for watch timeouts.  Called before the server
 * stops; the map keeps working otherwise.  NULL map (shard != 0): nothing.
 */
void mds_map_quiesce(struct mds *m);

/* Serves opcodes 0x0301..0x03ff. */
void mds_map_handle(struct mds *m, struct rpc_req *req);

/*
 * The file layout of pool pool_id (0: the default pool, the one with the
 * lowest id, used for files created where no directory names a layout).
 * Works on every shard: shard 0 reads its map; the others fetch the pools
 * from shard 0 (MAP_GET through m->peers[0]) the first time and again when
 * they meet an id they do not know (at most once a second).  Pools never
 * change once created.  Without may_block (on an RPC I/O thread), a fetch
 * that would be needed is not made: -EWOULDBLOCK.
 * Returns 0, -ENOENT (no such pool, or no pool at all), -EWOULDBLOCK,
 * -ENOMEM, or the error of the call to shard 0 (-ETIMEDOUT, -ECONNRESET,
 * -EHOSTUNREACH when there is no client to shard 0 yet, ...).
 */
int mds_map_pool_layout(struct mds *m, uint32_t pool_id, bool may_block, struct proto_layout *out);

/*
 * Shard 0: a decoded copy of the current map (free it with
 * proto_map_free) when its epoch is above known.  Returns 0, -EAGAIN (not
 * newer), -ENOENT (not shard 0: no map here), -ENOMEM, -EIO.
 */
int mds_map_copy(struct mds *m, uint64_t known, struct proto_map *out);

/*
 * Shard 0: fn(arg) is called after every change of the map's epoch, on the
 * thread that made it, outside the map's lock (it must not block).  One
 * listener at a time; NULL removes it, though a call already on its way
 * may still come.  Nothing on other shards.
 */
void mds_map_listen(struct mds *m, void (*fn)(void *arg), void *arg);

/*
 * Decodes a MAP_GET reply (body of len bytes, at protocol version): the
 * map in *out (free it with proto_map_free) and its epoch.  Returns 0,
 * -EAGAIN (the reply says "no change": *epoch set, *out empty), or
 * -CAIRN_EBADFRAME, -ENOMEM.
 */
int mds_map_reply_decode(const void *body, size_t len, uint16_t version, struct proto_map *out,
			 uint64_t *epoch);

/*
 * Raw capacity and space used, in bytes, of the OSDs that are in (for
 * STATFS).  Shards other than 0 report 0 for both, so that a client
 * summing the shards' answers counts the OSDs once.
 */
void mds_map_space(struct mds *m, uint64_t *capacity, uint64_t *used);

#endif
