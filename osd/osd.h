/*
 * osd.h - the cairn-osd daemon: its context and the pieces it is made of.
 *
 * An OSD serves the chunks of its data directory (osd/store.h) over RPC:
 *   osd/server.c   the RPC handler: CHUNK_* requests on the server's worker
 *                  threads (cfg osd.workers), STRIPE_WRITE handed to the
 *                  primary, SCRUB handed to the scrubber
 *   osd/chunk.c    the chunk messages' semantics on the local store (base
 *                  version preconditions, REPLACE, compression), shared by
 *                  the server and the primary
 *   osd/primary.c  write sequencing of the PGs this OSD is primary of
 *   osd/stripe.c   reads of a whole stripe version from its members, and
 *                  the fan-out of calls to them (primary and scrub)
 *   osd/scrub.c    background and on-demand verification and repair
 *   osd/osdmap.c   the cluster map as this OSD knows it, acting sets
 *   osd/mdslink.c  registration, heartbeats and the map watch (shard 0)
 *   osd/peers.c    RPC clients to the other OSDs
 *   osd/main.c     arguments, start and stop
 *
 * Ownership: struct osd lives for the whole process (or the benchmark that
 * embeds one); main.c fills it and starts the pieces in the order map ->
 * peers -> primary -> scrub -> server -> mdslink, and stops them in reverse
 * (primary and scrub are quiesced before the server so that every request
 * is answered).  Fields are set before the server starts and are read-only
 * afterwards; every piece locks its own state; counters are atomics.
 */
#ifndef CAIRN_OSD_OSD_H
#define CAIRN_OSD_OSD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/rpc.h"
#include "proto/map.h"

struct cfg;
struct osd_store;
struct osd_map;
struct osd_peers;
struct osd_primary;
struct osd_scrub;
struct osd_mdslink;

/* Counters shown in logs and used by tests through the scrub reply. */
struct osd_counters {
	atomic_ulong chunk_reads;
	atomic_ulong chunk_writes;
	atomic_ulong stripe_writes;
	atomic_ulong stripe_write_errors;
	atomic_ulong checksum_errors; /* reads that met a damaged block */
};

struct osd {
	const struct cfg *cfg;
	uint32_t id;
	uint8_t media;			     /* enum proto_media */
	char host[PROTO_HOST_MAX + 1];	     /* failure domain */
	char addr[PROTO_ADDR_MAX + 1];	     /* "host:port" registered in the map */
	struct osd_store *st;
	struct rpc_opts rpc;		     /* key, engine, limits: servers and clients */
	int call_timeout_ms;		     /* calls to peers */
	struct rpc_server *server;
	struct osd_map *map;
	struct osd_peers *peers;
	struct osd_primary *primary;
	struct osd_scrub *scrub;
	struct osd_mdslink *link;	     /* NULL when the map is installed by hand */
	struct osd_counters counters;
};

/* The RPC handler of the OSD (server.c); arg is the struct osd. */
void osd_server_handle(void *arg, struct rpc_req *req);

/*
 * Starts the RPC server on listen ("host:port", port 0 for any) and fills
 * o->server and o->addr (the listen host, or this machine's address when
 * listening on a wildcard, with the bound port).  Returns 0 or -errno of
 * rpc_server_start (-EADDRINUSE, -EINVAL, ...), or -ENOENT when the
 * wildcard address cannot be turned into a reachable one.
 */
int osd_server_start(struct osd *o, const char *listen);

/* Parses "hdd", "ssd" or "nvme".  Returns 0 or -EINVAL. */
int osd_media_parse(const char *name, uint8_t *out);

#endif
