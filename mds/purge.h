/*
 * purge.h - the purger of a metadata shard: it deletes, on the OSDs, the
 * chunks of the regular files this shard freed, then their purge entries.
 *
 * The entries (mds/ns.h, "purges") are written by the same RocksDB batch
 * that deletes the inode, so they survive any crash; the purger only ever
 * reads, advances and removes them.  For each entry it sends CHUNK_DELETE
 * for chunk indices 0..k+m-1 of every stripe that can hold data (stripes
 * 0..ceil(size / (k * chunk_size)) - 1) to the OSD of that position in
 * the stripe's acting set (proto/map_place.h, the rule clients use), up to
 * PURGE_INFLIGHT calls in flight.  "No such chunk" counts as deleted; a
 * position with no OSD holds nothing.  Once every chunk is gone the entry
 * is removed and an info line logged.  A file is taken PURGE_SLICE stripes
 * at a time, so a huge sparse file (which costs one call per stripe and
 * chunk, holes included, since nothing records which stripes were
 * written) does not hold up the others; its progress (next stripe) is
 * saved every PURGE_SAVE_STRIPES stripes and at the end of its turn, so a
 * restart resumes there.
 *
 * Failures: a chunk on an OSD that is down in the map, does not answer
 * within PURGE_CALL_MS, or answers an error leaves its file's entry in
 * place, with progress saved up to the first stripe that failed; such
 * files are tried again after a back-off (1 s doubling to 60 s) or at once
 * when the cluster map changes (an OSD came back), and until then skipped
 * by the passes that new entries start.
 *
 * The map: shard 0 reads its own (mds_map_copy) and is told of changes
 * (mds_map_listen); other shards watch shard 0 with MAP_GET long polls on
 * a client of their own.  OSDs are reached with RPC clients of the
 * purger's own (cairn.conf's rpc settings and the cluster key) on the
 * shard's engine.
 *
 * Threads: one purger thread per shard does all the work; RPC completions
 * run on the engine's I/O threads and only record results under the
 * purger's mutex.  mds_purge_kick() may be called from any thread at any
 * time between new and free (the namespace calls it after committing a
 * purge entry).  Ownership: struct mds_purge belongs to main.c
 * (struct mds.purge); the RPC clients and the map copy to the purger.
 */
#ifndef CAIRN_MDS_PURGE_H
#define CAIRN_MDS_PURGE_H

#define PURGE_INFLIGHT 64	/* CHUNK_DELETEs in flight per shard */
#define PURGE_SLICE 4096	/* stripes of one file per turn */
#define PURGE_SAVE_STRIPES 1024 /* progress saved at least this often */
#define PURGE_CALL_MS 5000	/* a CHUNK_DELETE's timeout, at most */

struct mds;
struct mds_purge;

/*
 * The purger of shard m, idle (no thread, no connection): entries
 * committed meanwhile only mark it kicked.  NULL without memory.
 */
struct mds_purge *mds_purge_new(struct mds *m);

/*
 * Starts the purger thread: m->cfg, m->key, m->ns and m->engine must be
 * set, and on shard 0 m->map.  It purges what earlier runs left at once.
 * Returns 0, -EINVAL (already started, or a bad address of shard 0),
 * -ENOMEM, or -errno of rpc_client_new / pthread_create (logged).
 */
int mds_purge_start(struct mds_purge *p);

/* Something may be to purge: a new entry, a map change.  Never blocks long. */
void mds_purge_kick(struct mds_purge *p);

/*
 * Stops the thread: calls in flight are cancelled, progress is saved and
 * the entries stay for the next start.  Safe if never started.
 */
void mds_purge_stop(struct mds_purge *p);

/* Frees a stopped purger.  NULL is a no-op. */
void mds_purge_free(struct mds_purge *p);

#endif
