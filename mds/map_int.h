/*
 * map_int.h - the cluster map's state, shared by map.c (life cycle,
 * handlers, timer, watches) and map_file.c (encoding and the map file).
 * Internal to those two files.
 *
 * Locking: every field below the lock is guarded by mds_map.lock; the
 * encoding and file functions are called with it held.
 */
#ifndef CAIRN_MDS_MAP_INT_H
#define CAIRN_MDS_MAP_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/cfg.h"
#include "proto/admin.h"
#include "proto/map.h"

struct mds;
struct rpc_req;

struct map_osd {
	uint32_t id;
	uint8_t media; /* enum proto_media */
	uint8_t flags; /* enum proto_map_osd_flag */
	uint32_t weight;
	uint64_t capacity;
	uint64_t used;
	int64_t last_hb_ms; /* monotonic time of the last sign of life; not persisted */
	bool downed;	    /* timer: marked down in the current round */
	/*
	 * From the latest heartbeat, in memory only (no epoch, not in the
	 * map file): scrub counts and usage per pool (sorted by pool id;
	 * malloc'ed, usage_cap entries, owned by this entry).
	 */
	struct proto_admin_scrub_counts scrub;
	uint32_t nusage, usage_cap;
	struct proto_admin_pool_usage *usage;
	char addr[PROTO_ADDR_MAX + 1];
	char host[PROTO_HOST_MAX + 1];
};

struct map_pool {
	uint32_t id;
	uint8_t scheme; /* enum proto_scheme */
	uint8_t k;
	uint8_t m;
	uint8_t media;	     /* enum proto_media */
	uint8_t compression; /* enum proto_compress */
	uint32_t chunk_size;
	uint32_t pg_count;
	char name[PROTO_POOL_NAME_MAX + 1];
};

/* A MAP_GET reply body of one epoch, shared by the replies sent from it. */
struct map_blob {
	atomic_uint refs;
	uint64_t epoch;
	uint32_t len;
	uint8_t data[];
};

/* A parked MAP_GET: answered when the epoch moves past known, or at deadline. */
struct map_watch {
	struct map_watch *next;
	struct rpc_req *req; /* owned until replied */
	uint64_t known;
	int64_t deadline_ms;
};

struct mds_map {
	struct mds *m;
	char path[PATH_MAX]; /* <data dir>/clustermap */
	uint32_t watch_ms;   /* how long a MAP_GET waits for a change */
	uint32_t tick_ms;    /* period of the silent-OSD check */
	pthread_t timer;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* wakes the timer: stop, new watch */
	bool stop;
	bool quiesced; /* MAP_GET no longer waits */
	uint64_t epoch;
	uint32_t nshards;
	char shards[CFG_MAX_SHARDS][PROTO_ADDR_MAX + 1];
	uint32_t nosds;
	uint32_t osd_cap;
	struct map_osd *osds; /* sorted by id */
	uint32_t npools;
	struct map_pool pools[PROTO_MAP_POOLS_MAX]; /* sorted by id */
	struct map_blob *blob;			    /* MAP_GET reply of this epoch */
	struct map_watch *watches;
	uint32_t nwatches;
	void (*listen_fn)(void *arg); /* mds_map_listen() */
	void *listen_arg;
};

/* ---- map_file.c ---- */

/*
 * Encodes the map as proto/map.h describes into a new malloc'ed buffer.
 * Returns 0 and *buf, *len, or -ENOMEM.
 */
int map_encode(const struct mds_map *mp, uint8_t **buf, size_t *len);

/*
 * Writes the encoded map to mp->path atomically and durably: a temporary
 * file, fsync, rename over the old one, fsync of the directory.
 * Returns 0 or -errno (logged).
 */
int map_file_save(const struct mds_map *mp, const uint8_t *map, size_t len);

/*
 * Loads mp->path into mp (epoch, shards, OSDs, pools).  Returns 0, -ENOENT
 * (no file: first start), -EIO (unreadable, bad header, checksum or
 * content: logged with the reason), -ENOMEM.
 */
int map_file_load(struct mds_map *mp);

#endif
