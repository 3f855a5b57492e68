/*
 * map.h - the cluster map and its codec.
 *
 * The map is what every daemon and client needs to find things: the MDS
 * shard addresses, the OSDs with their state, and the pools.  Shard 0 of the
 * MDS owns it and bumps epoch on every change; it travels as an opaque blob
 * in MAP_GET replies (admin.h), encoded here.
 *
 * Encoding (no padding, little-endian):
 *   u64 epoch
 *   u32 nshards, then nshards address strings (shard i at index i)
 *   u32 nosds,   then nosds   proto_map_osd  (ids strictly increasing)
 *   u32 npools,  then npools  proto_map_pool (ids strictly increasing)
 *
 * proto_map_decode() allocates: the arrays and a private copy of the input,
 * into which the decoded strings point, so the map does not depend on the
 * input buffer.  Release it with proto_map_free().  A map built by hand for
 * encoding owns nothing and must not be passed to proto_map_free().
 *
 * No shared state; a decoded map is immutable and can be read by many
 * threads.
 */
#ifndef CAIRN_PROTO_MAP_H
#define CAIRN_PROTO_MAP_H

#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

#define PROTO_MAP_SHARDS_MAX 1024
#define PROTO_MAP_OSDS_MAX 4096
#define PROTO_MAP_POOLS_MAX 256
#define PROTO_ADDR_MAX 128 /* "host:port" or "[v6]:port" */
#define PROTO_HOST_MAX 255 /* a host name (failure domain) */
#define PROTO_POOL_NAME_MAX 63

enum proto_media {
	PROTO_MEDIA_HDD = 1,
	PROTO_MEDIA_SSD = 2,
	PROTO_MEDIA_NVME = 3,
};

enum proto_compress {
	PROTO_COMPRESS_NONE = 0,
	PROTO_COMPRESS_ZSTD = 1,
};

enum proto_map_osd_flag {
	PROTO_MAP_OSD_UP = 1u << 0, /* heartbeating */
	PROTO_MAP_OSD_IN = 1u << 1, /* receives data (cairnctl osd in/out) */
};
#define PROTO_MAP_OSD_KNOWN (PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN)

/*
 * Checks: addr 1..PROTO_ADDR_MAX printable ASCII without spaces; host
 * 1..PROTO_HOST_MAX of [A-Za-z0-9._-]; media known; flags known.
 */
struct proto_map_osd {
	uint32_t id;
	struct proto_str addr;
	struct proto_str host;
	uint8_t media;	   /* enum proto_media */
	uint8_t flags;	   /* enum proto_map_osd_flag */
	uint32_t weight;   /* relative share of data; 0 takes none */
	uint64_t capacity; /* bytes */
	uint64_t used;	   /* bytes */
};

/*
 * Checks: id >= 1 (0 only in POOL_CREATE, where the MDS assigns it); name
 * 1..PROTO_POOL_NAME_MAX of [A-Za-z0-9._-]; scheme, k, m and chunk_size per
 * proto_layout_valid(); media and compression known; pg_count
 * 1..PROTO_PG_MAX.
 */
struct proto_map_pool {
	uint32_t id;
	struct proto_str name;
	uint8_t scheme; /* enum proto_scheme */
	uint8_t k;
	uint8_t m;
	uint8_t media;	     /* enum proto_media */
	uint8_t compression; /* enum proto_compress */
	uint32_t chunk_size;
	uint32_t pg_count;
};

/* Checks: epoch >= 1; 1..SHARDS_MAX shards; OSDs, pools as above and unique. */
struct proto_map {
	uint64_t epoch;
	uint32_t nshards;
	struct proto_str *shards;
	uint32_t nosds;
	struct proto_map_osd *osds;
	uint32_t npools;
	struct proto_map_pool *pools;
	void *mem; /* private: the decoded copy of the input */
};

/* Appends the map.  Returns 0 or -ENOSPC. */
int proto_map_encode(const struct proto_map *m, struct wire_enc *e);

/*
 * Decodes a map from all remaining bytes of d (a map is always a whole
 * blob) and consumes them.  On success *m owns its memory (see above).  On
 * failure *m is left empty.  Returns 0, -CAIRN_EBADFRAME (truncated, trailing
 * bytes, out of range, duplicate ids or pool names) or -ENOMEM.
 */
int proto_map_decode(struct wire_dec *d, struct proto_map *m);

/* Frees what proto_map_decode() allocated and empties *m.  Safe on an empty map. */
void proto_map_free(struct proto_map *m);

/* Pieces reused by the admin messages (admin.h); same checks as above. */
void proto_map_pool_encode(const struct proto_map_pool *p, struct wire_enc *e);
void proto_map_pool_decode(struct wire_dec *d, struct proto_map_pool *p, bool new_pool);
void proto_map_addr_decode(struct wire_dec *d, struct proto_str *s);
void proto_map_host_decode(struct wire_dec *d, struct proto_str *s);
bool proto_map_media_valid(uint8_t media);
/*
 * In a list of valid pools: pools[i]'s id is above pools[i - 1]'s and its
 * name differs from those of pools[0..i).
 */
bool proto_map_pool_follows(const struct proto_map_pool *pools, uint32_t i);

#endif
