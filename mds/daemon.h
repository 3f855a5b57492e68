/*
 * daemon.h - small helpers of the cairn-mds daemon shared by main.c,
 * server.c, map.c and the cross-shard layer: RPC options and addresses
 * from cairn.conf.  Pure functions, no state.
 */
#ifndef CAIRN_MDS_DAEMON_H
#define CAIRN_MDS_DAEMON_H

#include <stddef.h>

#include "common/rpc.h"

struct cfg;
struct cfg_addr;

/* Room for "[host]:port" of a cfg_addr and a NUL. */
#define MDS_ADDR_MAX 272

/*
 * RPC options from cfg->rpc (frame size, in-flight limit, timeouts,
 * back-off, socket buffers), the transport from cfg->cluster.transport,
 * workers = cfg->mds.workers, and the given key and engine (borrowed).
 */
struct rpc_opts mds_rpc_opts_from_cfg(const struct cfg *cfg, const struct auth_key *key,
				      struct rpc_engine *engine);

/*
 * Writes a as "host:port", or "[host]:port" when the host is an IPv6
 * address.  Returns 0 or -ENAMETOOLONG (len too small).
 */
int mds_addr_format(const struct cfg_addr *a, char *buf, size_t len);

#endif
