/*
 * mds.h - the cairn-mds daemon: one metadata shard.
 *
 * A shard serves the namespace operations of the inodes it is home to
 * (mds/ns.h on its RocksDB), coordinates cross-shard operations with its
 * peers (mds/xshard.c), and on shard 0 also keeps the cluster map
 * (mds/map.c).  Requests arrive through the RPC server (mds/server.h):
 * those that cannot block run on its I/O threads; the rest (fsync-class,
 * cross-shard coordination, opcodes 0x0180..0x01df, map changes) on the
 * shard's worker threads (cfg mds.workers), where handlers may block on
 * RocksDB and on synchronous calls to peer shards.
 *
 * Opcode ownership (proto/proto.h):
 *   0x0101..0x017f  client namespace operations       mds/server.c
 *   0x0116..0x011b  of which file locks                mds/server_lock.c
 *   0x0180..0x01bf  shard-to-shard steps (internal)   mds/xshard.c
 *   0x01c0..0x01df  fsck scans and repairs            mds/fsck.c
 *   0x0301..0x03ff  cluster map and administration    mds/map.c (shard 0)
 *
 * Ownership: struct mds lives for the whole process; main.c creates it,
 * starts the pieces in the order ns -> xshard -> map -> server -> purge
 * (mds/purge.h; allocated before ns, which kicks it), and stops them in
 * reverse.  Fields are set before the server starts and are
 * read-only afterwards; each piece locks its own state.
 */
#ifndef CAIRN_MDS_MDS_H
#define CAIRN_MDS_MDS_H

#include <stdbool.h>
#include <stdint.h>

struct cfg;
struct ns;
struct auth_key;
struct rpc_engine;
struct rpc_server;
struct rpc_client;
struct rpc_req;
struct mds_xshard;
struct mds_map;
struct mds_purge;
struct mds_locksvc;

struct mds {
	const struct cfg *cfg;
	uint16_t shard;	  /* this shard's number */
	uint16_t nshards; /* cfg->mds.shard_count */
	struct ns *ns;
	const struct auth_key *key;
	struct rpc_engine *engine; /* I/O threads of the server and peer clients */
	struct rpc_server *server;
	/* Clients to every other shard (peers[shard] == NULL for ourselves). */
	struct rpc_client *peers[64];
	struct mds_xshard *xs; /* cross-shard coordinator */
	struct mds_map *map;   /* cluster map; shard 0 only, else NULL */
	struct mds_purge *purge; /* deletes the chunks of freed files */
	/* File locks (mds/server_lock.h). */
	struct mds_locksvc *locks;
};

/* The RPC handler of the shard (server.c): dispatches by opcode range. */
void mds_server_handle(void *arg, struct rpc_req *req);

#endif
