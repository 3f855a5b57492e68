/*
 * placement.h - where a stripe's chunks live: stripe -> placement group (PG)
 * -> acting set of OSDs.  The one placement function shared by clients, OSDs
 * and recovery; every node computes the same answer from the same OSD list.
 *
 * PG: pg = hash(ino, stripe) mod pg_count.  Consecutive stripes of a file
 * spread evenly over the PGs.  With a power-of-two pg_count, doubling it
 * splits PG p into p and p + pg_count, so PG splits move no other data.
 *
 * Acting set: an ordered list of `width` (k + m) OSD ids; position i holds
 * chunk i of every stripe of the PG (data chunks first, then parity), and
 * position 0 is the PG's primary.  It is chosen by weighted rendezvous
 * hashing (straw2-like): every position draws, for every candidate OSD, a
 * straw -ln(U) / weight from a hash U of (pool, pg, OSD id, position), and
 * prefers the shortest (equivalently: the longest ln(U) / weight).  A
 * position's first choice is thus OSD x with probability weight(x) / total
 * weight, independently of the other positions.
 * Conflicts (two positions wanting one OSD, or more positions on one host
 * than allowed) go to the position with the stronger straw, and the loser
 * takes its next preference (deferred acceptance).  The result does not
 * depend on the order of the OSD list, and adding or removing an OSD moves
 * only the positions whose preferences it changes: about width / n of the
 * PGs gain the new OSD, plus a few displaced positions.
 *
 * Failure domains: no host holds more than ceil(width / hosts) positions of
 * a PG, where hosts counts hosts with at least one in OSD; with at least
 * `width` hosts, all positions are on distinct hosts.  Below that the cap is
 * what bounds the chunks lost with one host; positions are not additionally
 * forced onto every host, because that would reshuffle every PG whenever a
 * host is added.  An OSD never holds two positions of one PG.
 *
 * In, out, up, down: an OSD with weight > 0 is "in" and takes part whether
 * it is up or down, so an OSD going down changes no position.  Its chunks
 * are unavailable, not elsewhere: the up flags (placement_acting_up(), the
 * table) tell a reader which chunks to rebuild from parity (degraded read).
 * Marking an OSD out (weight 0) recomputes the sets; recovery then moves the
 * affected chunks to their new positions.  Which OSD sequences writes while
 * the primary is down is the OSD layer's decision, not this module's.
 *
 * When fewer positions can be filled than width (too few in OSDs, or the
 * host cap), the unfilled positions, which may include position 0, are
 * PLACEMENT_NONE.  Weights are relative.  Since an OSD holds at most one
 * position per PG, an OSD falls short of its weight's share the more of the
 * total weight it has: a double-weight OSD among 96 gets about 1.9x, and
 * one above 1/width of the total cannot reach its share at all.
 *
 * Cost: about width * n_osds hash draws per PG, a few more when positions
 * conflict (some 170 us for 4096 OSDs and width 6); no allocation.  Clients
 * placing many stripes keep a placement_table per pool.
 *
 * Determinism: integer arithmetic only (a fixed-point log2 from a table
 * built by exact integer squaring), results independent of pointers, build
 * and platform.  Any change to the results here is a change of the cluster
 * format: the unit test pins known answers.
 *
 * Threads: every function may be called from any thread at any time.  A
 * table is immutable after placement_table_new() and may be shared by
 * threads; its owner frees it once nobody uses it.  Arrays passed in belong
 * to the caller and are only read (or written) during the call.
 */
#ifndef CAIRN_COMMON_PLACEMENT_H
#define CAIRN_COMMON_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An unfilled position; never a valid OSD id. */
#define PLACEMENT_NONE UINT32_MAX
/* Largest acting set (chunks per stripe). */
#define PLACEMENT_MAX_WIDTH 48u
/* Largest OSD list accepted. */
#define PLACEMENT_MAX_OSDS (1u << 20)
/* Largest pg_count of a placement table. */
#define PLACEMENT_MAX_PGS (1u << 20)

struct placement_osd {
	uint32_t id;     /* unique in the list; not PLACEMENT_NONE */
	uint32_t host;   /* failure domain */
	uint32_t weight; /* relative capacity (e.g. GiB); 0 = out */
	bool up;         /* reachable now; a down OSD keeps its positions */
};

/*
 * The PG of stripe `stripe` of inode `ino`, in [0, pg_count).  Returns
 * PLACEMENT_NONE when pg_count is 0.
 */
uint32_t placement_pg(uint64_t ino, uint64_t stripe, uint32_t pg_count);

/*
 * Acting set of PG `pg` of pool `pool_id` over osds[0..n_osds-1]: fills
 * out[0..width-1] with OSD ids, or PLACEMENT_NONE where no OSD can be placed.
 * Returns the number of positions filled (width when there are enough OSDs
 * and hosts; 0 with no in OSD), or
 *   -EINVAL  width is 0 or above PLACEMENT_MAX_WIDTH, out is NULL, osds is
 *            NULL while n_osds > 0, n_osds > PLACEMENT_MAX_OSDS, an OSD id is
 *            PLACEMENT_NONE, or the set would hold one id twice (duplicate
 *            ids in the list).  For a bad id or duplicate, out (and up) are
 *            set to PLACEMENT_NONE (false); for the other cases nothing is
 *            written.
 */
int placement_acting_set(uint32_t pool_id, uint32_t pg, const struct placement_osd *osds,
			 size_t n_osds, unsigned width, uint32_t *out);

/*
 * placement_acting_set(), and up[i] tells whether out[i] is an OSD that is
 * up (false for PLACEMENT_NONE and for down OSDs).  up may be NULL.
 * Returns what placement_acting_set() returns.
 */
int placement_acting_up(uint32_t pool_id, uint32_t pg, const struct placement_osd *osds,
			size_t n_osds, unsigned width, uint32_t *out, bool *up);

/*
 * A precomputed table of the acting sets (and up flags) of every PG of one
 * pool, for clients that place many stripes.  Build a new one whenever the
 * OSD list changes (weights, up/down, additions).
 */
struct placement_table;

/*
 * Computes the acting sets of PGs 0..pg_count-1.  Costs pg_count acting-set
 * computations.  Returns NULL for bad arguments (those of
 * placement_acting_set(), pg_count 0 or above PLACEMENT_MAX_PGS) or when out
 * of memory.  The OSD list is not kept.
 */
struct placement_table *placement_table_new(uint32_t pool_id, uint32_t pg_count, unsigned width,
					    const struct placement_osd *osds, size_t n_osds);

/* Frees the table; NULL is a no-op. */
void placement_table_free(struct placement_table *t);

/* The table's pg_count and width; 0 for NULL. */
uint32_t placement_table_pg_count(const struct placement_table *t);
unsigned placement_table_width(const struct placement_table *t);

/*
 * Points *ids (and *up unless up is NULL) at PG pg's width entries inside
 * the table, valid until placement_table_free().  Returns the number of
 * filled positions, -EINVAL for a NULL table or ids, -ERANGE for
 * pg >= pg_count.
 */
int placement_table_get(const struct placement_table *t, uint32_t pg, const uint32_t **ids,
			const bool **up);

#endif
