/*
 * scrub.h - verification of stored chunks and repair of damaged ones.
 *
 * One thread walks every PG of the store, verifying each chunk version
 * (every block's CRC32C, and the zstd frame of compressed ones) at most at
 * cfg osd.scrub_rate bytes per second (0: no background scrub), pass after
 * pass.  A version that fails is logged, counted, and rewritten from the
 * other chunks of its stripe: the same version of the other positions is
 * read from the acting set, the chunk is decoded with ISA-L and written
 * back in place (osd_store_write with OSD_STORE_REPAIR).  The SCRUB request
 * (proto/osd.h) runs a pass at full speed now and answers with its counts;
 * requests wait for each other and interrupt the background pass, which
 * then goes on where it was.
 *
 * Threads: one scrub thread; osd_scrub_request() is called by RPC workers
 * and only queues.  Counters are atomics.
 *
 * Ownership: a queued request belongs to the scrubber, which replies to it
 * exactly once (-ESHUTDOWN when quiesced).
 */
#ifndef CAIRN_OSD_SCRUB_H
#define CAIRN_OSD_SCRUB_H

#include <stdint.h>

#include "proto/osd.h"

struct osd;
struct osd_scrub;
struct rpc_req;

/*
 * Since start: versions verified, bytes, bad versions found, repaired, and
 * repairs that failed (a bad version found without REPAIR is in neither).
 * Read together, repaired + unrepairable <= bad <= versions.
 */
struct osd_scrub_stats {
	uint64_t versions;
	uint64_t bytes;
	uint64_t bad;
	uint64_t repaired;
	uint64_t unrepairable;
};

/*
 * Starts the scrub thread; rate is bytes per second of the background
 * pass (0: only on request).  Returns 0 and *out, -ENOMEM or -errno of
 * pthread_create.
 */
int osd_scrub_start(struct osd *o, uint64_t rate, struct osd_scrub **out);

/* Queues a SCRUB request; the reply comes at the end of its pass. */
void osd_scrub_request(struct osd_scrub *sc, struct rpc_req *req,
		       const struct proto_osd_scrub_req *q);

/* The counters so far. */
void osd_scrub_stats(struct osd_scrub *sc, struct osd_scrub_stats *out);

/* Refuses queued and new requests with -ESHUTDOWN and stops the pass in
 * progress at the next chunk.  Idempotent. */
void osd_scrub_quiesce(struct osd_scrub *sc);

/* Quiesces, joins the thread and frees.  NULL is a no-op. */
void osd_scrub_stop(struct osd_scrub *sc);

#endif
