/*
 * admin.h - message bodies of the cluster map and administration service
 * (opcodes 0x03xx), served by MDS shard 0.
 *
 * Codec conventions as in mds.h: encode returns 0 or -ENOSPC and does not
 * validate; decode reads a whole body and returns 0 or -CAIRN_EBADFRAME for
 * truncation, trailing bytes or any value out of range.  Strings decode
 * zero-copy (types.h).  The map itself is a blob encoded by map.h.
 *
 * Opcode -> request body -> response body:
 *   MAP_GET       map_get_req        map_get_rep
 *   OSD_REGISTER  osd_register_req   epoch_rep
 *   OSD_HEARTBEAT osd_heartbeat_req  epoch_rep
 *   POOL_CREATE   pool_create_req    pool_create_rep
 *   POOL_LIST     (empty)            pool_list_rep
 *   STATUS        (empty)            status_rep
 *   OSD_SET_IN    osd_set_in_req     epoch_rep
 *   OSD_STATS     (empty)            osd_stats_rep
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_ADMIN_H
#define CAIRN_PROTO_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/map.h"
#include "proto/types.h"
#include "proto/wire.h"

#define PROTO_MAP_BLOB_MAX (16u << 20) /* an encoded map */
#define PROTO_ADMIN_HB_POOLS_MAX 256u  /* pools in one heartbeat */

enum proto_admin_health {
	PROTO_HEALTH_OK = 0,
	PROTO_HEALTH_WARN = 1, /* degraded: some OSDs down, data still readable */
	PROTO_HEALTH_ERR = 2,  /* some data unavailable */
};

/* MAP_GET: the caller's epoch, 0 if it has no map. */
struct proto_admin_map_get_req {
	uint64_t known_epoch;
};

/*
 * Reply to MAP_GET: the current epoch and the encoded map, or an empty map
 * blob when the caller's epoch is current.
 * Checks: epoch >= 1; map <= PROTO_MAP_BLOB_MAX bytes.
 */
struct proto_admin_map_get_rep {
	uint64_t epoch;
	struct proto_blob map;
};

/* Reply carrying the map epoch that includes the change.  Checks: epoch >= 1. */
struct proto_admin_epoch_rep {
	uint64_t epoch;
};

/* OSD_REGISTER at start-up.  Checks: addr, host, media as in proto_map_osd. */
struct proto_admin_osd_register_req {
	uint32_t id;
	struct proto_str addr;
	struct proto_str host;
	uint8_t media; /* enum proto_media */
	uint64_t capacity;
};

/*
 * What one OSD holds of one pool, over every chunk version on its disk
 * (data, parity and replica chunks alike).  On the wire: u32 pool_id, then
 * the three u64s; in POOL_LIST replies only the three u64s (the pool's id
 * is the pool's).  Checks: pool_id >= 1 (heartbeats).
 */
struct proto_admin_pool_usage {
	uint32_t pool_id;
	uint64_t chunks;  /* distinct chunks */
	uint64_t logical; /* bytes before compression */
	uint64_t stored;  /* bytes on disk, after compression */
};

/*
 * Scrub counts of one OSD since it started: chunk versions verified, bad
 * versions found (checksum or zstd frame), bad versions rewritten from
 * their stripe, and repairs that failed.  A bad version found by a scrub
 * without repair counts in neither repaired nor unrepairable.
 * Checks: repaired + unrepairable <= bad <= scrubbed.
 */
struct proto_admin_scrub_counts {
	uint64_t scrubbed;
	uint64_t bad;
	uint64_t repaired;
	uint64_t unrepairable;
};

/*
 * OSD_HEARTBEAT: the OSD's id, the map epoch it has, its space used, its
 * scrub counts and its usage per pool.  Encoding writes pools[0..npools).
 * Decoding fills the caller's array: set pools to room for cap entries
 * first; more than cap is rejected.  Checks: scrub as above; npools <= cap
 * and <= PROTO_ADMIN_HB_POOLS_MAX; pool ids >= 1 and strictly increasing.
 */
struct proto_admin_osd_heartbeat_req {
	uint32_t id;
	uint64_t epoch;
	uint64_t used;
	struct proto_admin_scrub_counts scrub;
	uint32_t npools;
	uint32_t cap;			      /* not on the wire */
	struct proto_admin_pool_usage *pools; /* not owned */
};

/* POOL_CREATE.  Checks: pool valid, with id 0 (the MDS assigns it). */
struct proto_admin_pool_create_req {
	struct proto_map_pool pool;
};

/* Reply to POOL_CREATE.  Checks: pool_id >= 1; epoch >= 1. */
struct proto_admin_pool_create_rep {
	uint32_t pool_id;
	uint64_t epoch;
};

/*
 * Reply to POOL_LIST: each pool followed by its usage summed over the
 * latest heartbeat of every OSD (chunks, logical, stored: three u64s).
 * Encoding writes pools[0..count) and usage[0..count).  Decoding fills the
 * caller's arrays: set pools and usage to room for cap entries first; more
 * than cap is rejected; usage[i].pool_id is set to pools[i].id.
 * Checks: count <= cap and <= PROTO_MAP_POOLS_MAX; each pool valid; ids
 * strictly increasing.
 */
struct proto_admin_pool_list_rep {
	uint32_t count;
	uint32_t cap;			      /* not on the wire */
	struct proto_map_pool *pools;	      /* not owned */
	struct proto_admin_pool_usage *usage; /* not owned; parallel to pools */
};

/*
 * Reply to STATUS.  health is at least WARN while an OSD reports
 * unrepairable chunks.  Checks: epoch >= 1; osds_up, osds_in,
 * osds_unrepairable <= nosds <= PROTO_MAP_OSDS_MAX; nshards
 * 1..PROTO_MAP_SHARDS_MAX; npools <= PROTO_MAP_POOLS_MAX; health known;
 * scrub as in proto_admin_scrub_counts.
 */
struct proto_admin_status_rep {
	uint64_t epoch;
	uint32_t nshards;
	uint32_t nosds;
	uint32_t osds_up;
	uint32_t osds_in;
	uint32_t npools;
	uint64_t capacity; /* bytes, over all OSDs that are in */
	uint64_t used;
	uint8_t health;			       /* enum proto_admin_health */
	uint32_t osds_unrepairable;	       /* OSDs reporting unrepairable > 0 */
	struct proto_admin_scrub_counts scrub; /* summed over the OSDs */
};

/* OSD_SET_IN: mark an OSD in (in = 1) or out (in = 0).  Checks: in is 0 or 1. */
struct proto_admin_osd_set_in_req {
	uint32_t id;
	uint8_t in;
};

/* One OSD of an OSD_STATS reply: its scrub counts as last reported. */
struct proto_admin_osd_stats {
	uint32_t id;
	struct proto_admin_scrub_counts scrub;
};

/*
 * Reply to OSD_STATS: every OSD of the map, in id order, with the scrub
 * counts of its latest heartbeat (zeros before the first one since shard
 * 0 started; these counts are not part of the map and change no epoch).
 * Decoding fills the caller's array as in pool_list_rep.  Checks: count <=
 * cap and <= PROTO_MAP_OSDS_MAX; ids strictly increasing; scrub counts as
 * above.
 */
struct proto_admin_osd_stats_rep {
	uint32_t count;
	uint32_t cap;			    /* not on the wire */
	struct proto_admin_osd_stats *osds; /* not owned */
};

/* True when c satisfies the checks of proto_admin_scrub_counts. */
bool proto_admin_scrub_counts_valid(const struct proto_admin_scrub_counts *c);

/* Codecs: return values as described at the top of this file. */
int proto_admin_map_get_req_encode(const struct proto_admin_map_get_req *m, struct wire_enc *e);
int proto_admin_map_get_req_decode(struct wire_dec *d, struct proto_admin_map_get_req *m);
int proto_admin_map_get_rep_encode(const struct proto_admin_map_get_rep *m, struct wire_enc *e);
int proto_admin_map_get_rep_decode(struct wire_dec *d, struct proto_admin_map_get_rep *m);
int proto_admin_epoch_rep_encode(const struct proto_admin_epoch_rep *m, struct wire_enc *e);
int proto_admin_epoch_rep_decode(struct wire_dec *d, struct proto_admin_epoch_rep *m);
int proto_admin_osd_register_req_encode(const struct proto_admin_osd_register_req *m,
					struct wire_enc *e);
int proto_admin_osd_register_req_decode(struct wire_dec *d, struct proto_admin_osd_register_req *m);
int proto_admin_osd_heartbeat_req_encode(const struct proto_admin_osd_heartbeat_req *m,
					 struct wire_enc *e);
int proto_admin_osd_heartbeat_req_decode(struct wire_dec *d,
					 struct proto_admin_osd_heartbeat_req *m);
int proto_admin_pool_create_req_encode(const struct proto_admin_pool_create_req *m,
				       struct wire_enc *e);
int proto_admin_pool_create_req_decode(struct wire_dec *d, struct proto_admin_pool_create_req *m);
int proto_admin_pool_create_rep_encode(const struct proto_admin_pool_create_rep *m,
				       struct wire_enc *e);
int proto_admin_pool_create_rep_decode(struct wire_dec *d, struct proto_admin_pool_create_rep *m);
int proto_admin_pool_list_rep_encode(const struct proto_admin_pool_list_rep *m, struct wire_enc *e);
int proto_admin_pool_list_rep_decode(struct wire_dec *d, struct proto_admin_pool_list_rep *m);
int proto_admin_status_rep_encode(const struct proto_admin_status_rep *m, struct wire_enc *e);
int proto_admin_status_rep_decode(struct wire_dec *d, struct proto_admin_status_rep *m);
int proto_admin_osd_set_in_req_encode(const struct proto_admin_osd_set_in_req *m,
				      struct wire_enc *e);
int proto_admin_osd_set_in_req_decode(struct wire_dec *d, struct proto_admin_osd_set_in_req *m);
int proto_admin_osd_stats_rep_encode(const struct proto_admin_osd_stats_rep *m, struct wire_enc *e);
int proto_admin_osd_stats_rep_decode(struct wire_dec *d, struct proto_admin_osd_stats_rep *m);

#endif
