/*
 * peers.h - RPC clients to the other OSDs, one per (OSD id, address),
 * created on first use and shared by every thread of this OSD.
 *
 * A caller takes a reference with osd_peers_get() for as long as it submits
 * calls, and drops it with osd_peers_put().  When an OSD shows up at a new
 * address (it restarted on another port), the old client is retired and
 * freed by the put that drops its last reference.  Calls already submitted
 * need no reference: freeing a client completes them with -ECANCELED.
 *
 * Threads: all functions are thread-safe; osd_peers_put() may free a client
 * and must therefore not be called from an RPC completion callback (the
 * client's I/O thread).  One mutex guards the table.
 */
#ifndef CAIRN_OSD_PEERS_H
#define CAIRN_OSD_PEERS_H

#include <stdint.h>

#include "common/rpc.h"

struct osd_peers;
struct osd_peer;

/* opts is copied (its key and engine are borrowed).  NULL without memory. */
struct osd_peers *osd_peers_new(const struct rpc_opts *opts);

/* Frees every client; no reference may be held. */
void osd_peers_free(struct osd_peers *p);

/*
 * The client of OSD id at addr ("host:port", len bytes, not terminated),
 * with a reference.  Returns 0 and *out, or -EINVAL (bad address), -ENOMEM,
 * or an error of rpc_client_new().
 */
int osd_peers_get(struct osd_peers *p, uint32_t id, const char *addr, size_t len,
		  struct osd_peer **out);

/* The peer's client, valid while the reference is held. */
struct rpc_client *osd_peer_client(const struct osd_peer *peer);

/* Drops a reference (see above); NULL is a no-op. */
void osd_peers_put(struct osd_peers *p, struct osd_peer *peer);

#endif
