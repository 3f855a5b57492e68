/*
 * mdslink.h - the OSD's link to the cluster map on MDS shard 0:
 * registration (OSD_REGISTER: id, address, host, media, capacity), a
 * heartbeat every cfg mds.heartbeat_ms with the space used, the scrub
 * counts (osd/scrub.h) and the usage of every pool (osd_store_pools), and
 * the map watch (MAP_GET with the epoch we have, answered by shard 0 when a newer
 * one exists), whose maps go to osd_map_install().
 *
 * While shard 0 is unreachable, registration is retried with back-off
 * (the OSD serves what its map allows meanwhile); a heartbeat answered
 * -ENOENT (shard 0 forgot us) registers again.
 *
 * Threads: two of its own (heartbeats, watch); calls go through one RPC
 * client on the OSD's engine.  Stop wakes and joins them.
 */
#ifndef CAIRN_OSD_MDSLINK_H
#define CAIRN_OSD_MDSLINK_H

#include <stdbool.h>

struct osd;
struct osd_mdslink;

/*
 * Starts registering OSD o (o->addr, host, media set) with shard 0 at
 * mds_addr.  Returns 0 and *out, or -EINVAL (bad address), -ENOMEM, or
 * -errno of rpc_client_new / pthread_create.
 */
int osd_mdslink_start(struct osd *o, const char *mds_addr, struct osd_mdslink **out);

/* True once shard 0 has accepted the registration. */
bool osd_mdslink_registered(struct osd_mdslink *l);

/* Stops the threads and frees the link.  NULL is a no-op. */
void osd_mdslink_stop(struct osd_mdslink *l);

#endif
