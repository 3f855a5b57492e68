/*
 * stripe.h - talking to the members of a stripe's acting set: a fan-out of
 * calls waited for together, the newest version of each member's chunk
 * (probe), and the reading of one version of every chunk (for a rebuild).
 * Used by the primary (write sequencing) and by scrub (repair).
 *
 * A fan holds a reference on the map snapshot it was made with (addresses
 * come from it) and on every peer client it calls; osd_fan_finish() drops
 * them, after every call has completed.  Calls run in parallel; their
 * completions run on RPC I/O threads and only record the result.
 *
 * Threads: a fan belongs to the thread that made it; other functions are
 * thread-safe.
 */
#ifndef CAIRN_OSD_STRIPE_H
#define CAIRN_OSD_STRIPE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/placement.h"
#include "common/rpc.h"
#include "osd/osd.h"
#include "osd/osdmap.h"

struct osd_peer;
struct osd_fan;

struct osd_fan_slot {
	struct osd_fan *fan;
	struct osd_peer *peer; /* reference, or NULL */
	bool used;
	int status;	       /* the call's result */
	struct rpc_msg *resp;  /* owned by the fan */
	struct iovec iov;      /* request data of the call, if the caller wants */
};

struct osd_fan {
	struct osd *o;
	struct osd_map_snap *snap; /* borrowed from the caller */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending; /* lock */
	struct osd_fan_slot slot[PLACEMENT_MAX_WIDTH];
};

void osd_fan_init(struct osd_fan *f, struct osd *o, struct osd_map_snap *snap);

/*
 * Starts call on OSD osd_id into slot (< PLACEMENT_MAX_WIDTH, unused).  The
 * call's body is copied; its data and rx_buf are borrowed until the wait.
 * A failure to submit is recorded as the slot's status (-EHOSTUNREACH for
 * an OSD missing from the map).
 */
void osd_fan_call(struct osd_fan *f, unsigned slot, uint32_t osd_id, const struct rpc_call *call);

/* Waits until every started call has completed. */
void osd_fan_wait(struct osd_fan *f);

/* Frees the responses and drops the peer references (after the wait). */
void osd_fan_finish(struct osd_fan *f);

/* Where a stripe is: its pool, PG, acting set and our position in it. */
struct osd_stripe {
	const struct proto_map_pool *pool;
	uint32_t pg;
	uint64_t ino;
	uint64_t stripe;
	struct osd_acting act;
	int self; /* our position, -1 if none */
};

/* The store id of position i's chunk. */
struct osd_chunk_id osd_stripe_chunk(const struct osd_stripe *s, unsigned i);

/* The newest version of one member's chunk, as a probe sees it. */
struct osd_chunk_state {
	int err;	  /* 0, -ENOENT (no such chunk), or why it is unknown */
	uint64_t version; /* with err 0 */
	uint32_t length;
};

/*
 * Asks every up member (ourselves through the store) for the newest
 * version and length of its chunk; down members get -EHOSTDOWN.
 */
void osd_stripe_probe(struct osd *o, struct osd_map_snap *snap, const struct osd_stripe *s,
		      struct osd_chunk_state *out);

/* One range to read from one member's chunk. */
struct osd_range_read {
	bool want;
	uint32_t off;
	uint32_t len;
	uint8_t *buf; /* len bytes; zero-filled past what the chunk holds */
	int err;      /* 0, or why it could not be read (-EHOSTDOWN: member down) */
	uint32_t got; /* bytes the chunk had in the range */
};

/*
 * Reads version `version` (not 0) of the ranges with want set, r[0..width)
 * by position, from the up members in parallel (ourselves through the
 * store).  Returns the number of ranges read.
 */
unsigned osd_stripe_read(struct osd *o, struct osd_map_snap *snap, const struct osd_stripe *s,
			 uint64_t version, struct osd_range_read *r);

/*
 * Reads version `version` of the chunks at the positions with want[i] set
 * whole into bufs[i] (chunk_size bytes each, zero-filled past the chunk's
 * length); got[i] tells which succeeded and lens[i] their lengths.
 * Returns the number read.
 */
unsigned osd_stripe_read_version(struct osd *o, struct osd_map_snap *snap,
				 const struct osd_stripe *s, uint64_t version, const bool *want,
				 uint8_t *const *bufs, uint32_t *lens, bool *got);

/* A connection-level failure of a call (the member may not have run it). */
bool osd_call_unreachable(int status);

#endif
