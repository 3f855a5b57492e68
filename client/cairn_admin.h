/*
 * cairn_admin.h - libcairn: cluster administration (the calls behind
 * cairnctl): health, shards, OSDs and pools as the cluster map on shard 0
 * describes them.
 *
 * Threads, ownership and errors as in cairn.h.  List functions return
 * arrays allocated with malloc(3); free them with free(3).
 */
#ifndef CAIRN_CLIENT_CAIRN_ADMIN_H
#define CAIRN_CLIENT_CAIRN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Relative, so the header works installed next to cairn.h as well. */
#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_POOL_NAME_MAX 63
#define CAIRN_ADDR_MAX 128
#define CAIRN_HOST_MAX 255

enum cairn_health {
	CAIRN_HEALTH_OK = 0,
	CAIRN_HEALTH_WARN = 1, /* degraded: some OSDs down, data still readable */
	CAIRN_HEALTH_ERR = 2,  /* some data unavailable */
};

enum cairn_media {
	CAIRN_MEDIA_HDD = 1,
	CAIRN_MEDIA_SSD = 2,
	CAIRN_MEDIA_NVME = 3,
};

enum cairn_compress {
	CAIRN_COMPRESS_NONE = 0,
	CAIRN_COMPRESS_ZSTD = 1,
};

/*
 * Scrub counts of an OSD since it started, as its latest heartbeat to
 * shard 0 reported them (zeros until one has): chunk versions verified,
 * bad versions found (checksum or compression frame), bad versions
 * rewritten from their stripe, and repairs that failed (the chunk stays
 * bad until a later scrub repairs it or it is rewritten).
 * repaired + unrepairable <= bad <= scrubbed.
 */
struct cairn_scrub_counts {
	uint64_t scrubbed;
	uint64_t bad;
	uint64_t repaired;
	uint64_t unrepairable;
};

/* The summary shard 0 keeps. */
struct cairn_status {
	uint64_t epoch; /* of the cluster map */
	uint32_t nshards;
	uint32_t nosds;
	uint32_t osds_up;
	uint32_t osds_in;
	uint32_t npools;
	uint64_t capacity; /* bytes, over the OSDs that are in */
	uint64_t used;
	int health; /* enum cairn_health; WARN at least while osds_unrepairable > 0 */
	uint32_t osds_unrepairable;	 /* OSDs reporting unrepairable chunks */
	struct cairn_scrub_counts scrub; /* summed over the OSDs */
};

/* One OSD of the map. */
struct cairn_osd_info {
	uint32_t id;
	char addr[CAIRN_ADDR_MAX + 1];
	char host[CAIRN_HOST_MAX + 1];
	int media; /* enum cairn_media */
	bool up;   /* heartbeating */
	bool in;   /* receives data */
	uint32_t weight;
	uint64_t capacity; /* bytes */
	uint64_t used;
	struct cairn_scrub_counts scrub;
};

/*
 * One pool.  For cairn_pool_create() id and the usage fields are ignored.
 * Usage is summed over the latest heartbeat of every OSD, over every chunk
 * version they store (data, parity and replica chunks alike), so it lags
 * writes by up to one heartbeat period (mds.heartbeat_ms).
 */
struct cairn_pool_info {
	uint32_t id;
	char name[CAIRN_POOL_NAME_MAX + 1]; /* [A-Za-z0-9._-], 1..63 characters */
	int scheme;			    /* enum cairn_scheme */
	uint8_t k;			    /* EC: 1..32 data chunks; REP: 1 */
	uint8_t m;			    /* EC: 0..16 parity; REP: replicas - 1 */
	int media;			    /* enum cairn_media */
	int compression;		    /* enum cairn_compress */
	uint32_t chunk_size;		    /* power of two, 4 KiB..64 MiB */
	uint32_t pg_count;		    /* 1..65536 */
	uint64_t chunks;		    /* chunks stored */
	uint64_t logical_bytes;		    /* their bytes before compression */
	uint64_t stored_bytes;		    /* their bytes on disk: raw space used */
};

/*
 * Pings every shard at once (connection level: no namespace work) and
 * waits up to timeout_ms: status[i] (room for cairn_shard_count() entries)
 * is 0 or why shard i did not answer (-ETIMEDOUT: not reachable in time,
 * -CAIRN_EAUTH, ...).  Returns 0 (all answered), -EHOSTUNREACH (some did
 * not), or -EINVAL, -ENOMEM.
 */
int cairn_shard_ping(struct cairn *c, int timeout_ms, int *status);

/* The cluster's name (cluster.name of cairn.conf). */
const char *cairn_cluster_name(const struct cairn *c);

/* The address of a shard as cairn.conf gives it ("host:port"), or NULL. */
const char *cairn_shard_addr(const struct cairn *c, unsigned shard);

/* Health summary from shard 0.  Returns 0 and *out, or the common errors. */
int cairn_admin_status(struct cairn *c, struct cairn_status *out);

/*
 * The OSDs of the current map (fetched now), in id order, with the scrub
 * counts of their latest heartbeats (OSD_STATS, asked right after the
 * map).  Returns 0, *osds (free(3); NULL when *n is 0) and *n, or the
 * common errors.  *epoch (may be NULL) is the map's epoch.
 */
int cairn_osd_list(struct cairn *c, struct cairn_osd_info **osds, size_t *n, uint64_t *epoch);

/*
 * Marks an OSD in (it receives data) or out.  Returns 0 and *epoch (may be
 * NULL), the map epoch with the change, or -ENOENT (no such OSD) and the
 * common errors.
 */
int cairn_osd_set_in(struct cairn *c, uint32_t id, bool in, uint64_t *epoch);

/* The pools, in id order.  Returns as cairn_osd_list(). */
int cairn_pool_list(struct cairn *c, struct cairn_pool_info **pools, size_t *n);

/*
 * The compression ratio of a pool: logical_bytes / stored_bytes (1.0 for a
 * pool without compression, above 1 when zstd saves space).  Returns 0 and
 * *ratio, -ENODATA (nothing stored yet), or -EINVAL.
 */
int cairn_pool_ratio(const struct cairn_pool_info *p, double *ratio);

/*
 * Creates a pool.  Returns 0, *id and *epoch (both may be NULL), or
 * -EEXIST (name taken), -EINVAL (a field out of range: name, scheme with k
 * and m, chunk size, media, compression, pg count), -ENOSPC (too many
 * pools), and the common errors.
 */
int cairn_pool_create(struct cairn *c, const struct cairn_pool_info *p, uint32_t *id,
		      uint64_t *epoch);

/* "hdd", "ssd", "nvme"; "?" for others. */
const char *cairn_media_name(int media);
/* Parses a media name.  Returns 0 and *media, or -EINVAL. */
int cairn_media_parse(const char *s, int *media);

#ifdef __cplusplus
}
#endif

#endif
