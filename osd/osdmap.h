/*
 * osdmap.h - the cluster map as one OSD knows it: the newest decoded map,
 * published as immutable, refcounted snapshots, with the acting sets of
 * its PGs computed on demand (proto/map_place.h) and cached per snapshot.
 *
 * Threads: any thread may get a snapshot, query it and put it back; a new
 * map is installed by the map watch (mdslink.c) or by hand (benchmarks).
 * A snapshot stays valid until its last osd_map_put(), whatever is
 * installed meanwhile.  Waiters for an epoch sleep on a condition variable.
 */
#ifndef CAIRN_OSD_OSDMAP_H
#define CAIRN_OSD_OSDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/placement.h"
#include "proto/map.h"

struct osd_map;
struct osd_map_snap;

/* One PG's acting set, with the primary's position (-1: none up). */
struct osd_acting {
	unsigned width; /* k + m */
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	int primary;
	unsigned nup; /* positions with an up OSD */
};

/* A map holder for OSD self_id, empty.  NULL without memory. */
struct osd_map *osd_map_new(uint32_t self_id);

/* Frees the holder; every snapshot must have been put back. */
void osd_map_free(struct osd_map *mh);

/*
 * Installs a decoded map (ownership of *m's memory passes to the holder,
 * *m is emptied) if it is newer than the current one.  Returns 0, or
 * -ESTALE (not newer: *m is freed), -ENOMEM (*m is freed).
 */
int osd_map_install(struct osd_map *mh, struct proto_map *m);

/* The current snapshot with a reference, or NULL when there is no map yet. */
struct osd_map_snap *osd_map_get(struct osd_map *mh);

/* Drops a reference; NULL is a no-op. */
void osd_map_put(struct osd_map_snap *s);

/* The current epoch, 0 without a map. */
uint64_t osd_map_epoch(struct osd_map *mh);

/*
 * Waits until the map's epoch is at least epoch or timeout_ms passes, and
 * returns the current snapshot (maybe older than epoch; NULL without any
 * map).  The caller puts it back.
 */
struct osd_map_snap *osd_map_wait(struct osd_map *mh, uint64_t epoch, int timeout_ms);

/* The decoded map of a snapshot (read-only). */
const struct proto_map *osd_map_snap_map(const struct osd_map_snap *s);
uint64_t osd_map_snap_epoch(const struct osd_map_snap *s);

/* Pool or OSD by id in a snapshot, or NULL. */
const struct proto_map_pool *osd_map_pool(const struct osd_map_snap *s, uint32_t pool_id);
const struct proto_map_osd *osd_map_osd(const struct osd_map_snap *s, uint32_t osd_id);

/*
 * The acting set of PG pg of pool (a pool of this snapshot).  Returns 0, or
 * -EINVAL (pg out of range, bad pool), -ENOMEM.
 */
int osd_map_acting(struct osd_map_snap *s, const struct proto_map_pool *pool, uint32_t pg,
		   struct osd_acting *out);

/* The position of OSD id in an acting set, or -1. */
int osd_acting_pos(const struct osd_acting *a, uint32_t id);

#endif
