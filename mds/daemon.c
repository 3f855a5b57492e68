/*
 * daemon.c - RPC options and addresses from cairn.conf (daemon.h).
 * Pure functions.
 */
#include "mds/daemon.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/cfg.h"
#include "common/net.h"

static int clamp_int(uint64_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

static const char *transport_name(enum cfg_transport t)
{
	switch (t) {
	case CFG_TRANSPORT_TCP:
		return "tcp";
	case CFG_TRANSPORT_RDMA:
		return "rdma";
	case CFG_TRANSPORT_AUTO:
	default:
		return "auto";
	}
}

struct rpc_opts mds_rpc_opts_from_cfg(const struct cfg *cfg, const struct auth_key *key,
				      struct rpc_engine *engine)
{
	struct rpc_opts o = rpc_opts_default();

	o.max_frame =
	    cfg->rpc.max_frame > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : (uint32_t)cfg->rpc.max_frame;
	o.max_inflight = cfg->rpc.max_inflight;
	o.timeout_ms = clamp_int(cfg->rpc.timeout_ms);
	o.connect_timeout_ms = clamp_int(cfg->rpc.connect_timeout_ms);
	o.reconnect_min_ms = clamp_int(cfg->rpc.reconnect_min_ms);
	o.reconnect_max_ms = clamp_int(cfg->rpc.reconnect_max_ms);
	o.socket_buffer = clamp_int(cfg->rpc.socket_buffer);
	o.io_threads = clamp_int(cfg->rpc.io_threads);
	o.workers = clamp_int(cfg->mds.workers);
	o.net = net_select(transport_name(cfg->cluster.transport));
	o.key = key;
	o.engine = engine;
	return o;
}

int mds_addr_format(const struct cfg_addr *a, char *buf, size_t len)
{
	int n;

	if (strchr(a->host, ':'))
		n = snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		n = snprintf(buf, len, "%s:%u", a->host, a->port);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
