/*
 * primary.h - write sequencing for the PGs this OSD is primary of
 * (STRIPE_WRITE).  The rules are spelled out at the top of primary.c.
 *
 * Threads: osd_primary_submit() is called by RPC worker threads and never
 * blocks on I/O; the writes run on the primary's own threads, one stripe
 * at a time per stripe (requests for one stripe are served in arrival
 * order), different stripes in parallel.
 *
 * Ownership: a submitted request belongs to the primary, which replies to
 * it exactly once (with -ESHUTDOWN when quiesced).
 */
#ifndef CAIRN_OSD_PRIMARY_H
#define CAIRN_OSD_PRIMARY_H

#include "proto/osd.h"

struct osd;
struct osd_primary;
struct rpc_req;

/*
 * Starts `threads` writer threads for OSD o.  Returns 0 and *out, or
 * -EINVAL (threads < 1), -ENOMEM, or -errno of pthread_create.
 */
int osd_primary_start(struct osd *o, unsigned threads, struct osd_primary **out);

/* Queues a decoded STRIPE_WRITE (its data is the request's bulk data). */
void osd_primary_submit(struct osd_primary *p, struct rpc_req *req,
			const struct proto_osd_stripe_write_req *w);

/*
 * Refuses new and queued requests with -ESHUTDOWN and waits for the writes
 * in progress to finish.  Idempotent.
 */
void osd_primary_quiesce(struct osd_primary *p);

/* Quiesces, joins the threads and frees.  NULL is a no-op. */
void osd_primary_stop(struct osd_primary *p);

#endif
