/*
 * map_place.h - where a stripe's chunks live according to a decoded cluster
 * map: the one rule that clients, OSDs and tools apply to turn the map
 * (proto/map.h) into the input of placement (common/placement.h).
 *
 * The rule, for pool P:
 *   - candidates are the map's OSDs whose media class is P's;
 *   - weight is the OSD's map weight when it is "in", else 0 (out: takes
 *     no position); up is the map's UP flag (a down OSD keeps its
 *     positions, see placement.h);
 *   - host (failure domain) numbers are equal exactly when the host names
 *     are equal: each OSD gets the smallest map index of the OSDs on its
 *     host (only equality matters to placement);
 *   - the acting set of PG g is placement_acting_up(P.id, g, ..., k + m);
 *     position i holds chunk index i of every stripe of the PG;
 *   - the PG's primary, which sequences its writes (STRIPE_WRITE), is the
 *     first position whose OSD is up.
 *
 * Threads: pure functions over caller-owned data; thread-safe.
 */
#ifndef CAIRN_PROTO_MAP_PLACE_H
#define CAIRN_PROTO_MAP_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/placement.h"
#include "proto/map.h"

/* The pool or OSD with that id, or NULL. */
const struct proto_map_pool *proto_map_pool_find(const struct proto_map *m, uint32_t pool_id);
const struct proto_map_osd *proto_map_osd_find(const struct proto_map *m, uint32_t osd_id);

/*
 * Fills out[0..*n) with the placement candidates of pool (the rule above),
 * in map order; out needs room for m->nosds entries.
 * Returns 0, or -EINVAL for NULL arguments, -ENOMEM.
 */
int proto_map_place_osds(const struct proto_map *m, const struct proto_map_pool *pool,
			 struct placement_osd *out, size_t *n);

/*
 * The acting set of PG pg of pool: ids[0..k+m) and up[0..k+m) (up may be
 * NULL).  Returns the number of filled positions (fewer than k + m when
 * the map has too few OSDs: the others are PLACEMENT_NONE), or -EINVAL
 * (NULL arguments, pg >= pool->pg_count), -ENOMEM.
 */
int proto_map_acting(const struct proto_map *m, const struct proto_map_pool *pool, uint32_t pg,
		     uint32_t *ids, bool *up);

/* The primary's position in an acting set: the first up one, or -1. */
int proto_map_primary(const uint32_t *ids, const bool *up, unsigned width);

#endif
