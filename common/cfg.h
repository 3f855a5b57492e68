/*
 * cfg.h - cairn.conf, the one configuration file of a Cairn cluster.
 *
 * cfg_load() reads the file once, checks every setting against the schema
 * documented in cairn.conf(5) and fills a plain, typed struct cfg that the
 * daemons read directly.  The struct holds fixed-size arrays only: it owns no
 * memory, needs no free and may be copied.  It is large (about 300 KiB, for
 * PATH_MAX paths), so keep it static or on the heap rather than on a thread
 * stack.  libconfig is an implementation detail of cfg.c; none of its types
 * appear here.  No function keeps global state; calls from several threads
 * may run at once.
 */
#ifndef CAIRN_COMMON_CFG_H
#define CAIRN_COMMON_CFG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define CFG_NAME_MAX 64	  /* cluster and pool names: 1..63 chars + NUL */
#define CFG_HOST_MAX 256  /* host part of an address: 1..255 chars + NUL */
#define CFG_MEDIA_MAX 16  /* media class: 1..15 chars + NUL */
#define CFG_MAX_SHARDS 64 /* MDS shards */
#define CFG_MAX_POOLS 64  /* pools listed in the file */

enum cfg_transport {
	CFG_TRANSPORT_AUTO = 0, /* RDMA where a device exists, else TCP */
	CFG_TRANSPORT_TCP,
	CFG_TRANSPORT_RDMA,
};

enum cfg_compression {
	CFG_COMPRESSION_NONE = 0,
	CFG_COMPRESSION_ZSTD,
};

enum cfg_scheme_kind {
	CFG_SCHEME_EC = 0, /* erasure coding, k data + m parity chunks */
	CFG_SCHEME_REP,	   /* r-way replication */
};

/* "host:port" or "[v6addr]:port"; the host is kept as written (no DNS). */
struct cfg_addr {
	char host[CFG_HOST_MAX];
	uint16_t port;
};

/* "ec:K+M" sets k and m (replicas = 0); "rep:R" sets replicas (k = m = 0). */
struct cfg_scheme {
	enum cfg_scheme_kind kind;
	uint32_t k;
	uint32_t m;
	uint32_t replicas;
};

struct cfg_cluster {
	char name[CFG_NAME_MAX];
	char key_file[PATH_MAX]; /* absolute once loaded */
	enum cfg_transport transport;
};

struct cfg_log {
	enum log_level level;
	bool syslog;
};

struct cfg_rpc {
	uint64_t max_frame; /* bytes, body + data of one frame */
	uint32_t max_inflight;
	uint32_t timeout_ms;
	uint32_t connect_timeout_ms;
	uint32_t reconnect_min_ms; /* <= reconnect_max_ms */
	uint32_t reconnect_max_ms;
	uint64_t socket_buffer; /* bytes, SO_SNDBUF and SO_RCVBUF */
	uint32_t io_threads;
};

struct cfg_shard {
	struct cfg_addr addr;
	char data[PATH_MAX]; /* absolute once loaded */
};

struct cfg_mds {
	uint32_t shard_count; /* 1..CFG_MAX_SHARDS once loaded */
	struct cfg_shard shards[CFG_MAX_SHARDS];
	uint32_t workers;
	uint64_t block_cache; /* bytes */
	uint32_t heartbeat_ms;
	uint32_t osd_down_ms; /* > heartbeat_ms */
};

struct cfg_osd {
	bool direct_io;
	uint64_t scrub_rate; /* bytes per second, 0 = no background scrub */
	uint32_t workers;
};

struct cfg_client {
	uint64_t cache_size; /* bytes of memory cache */
	uint32_t entry_timeout_ms;
	uint32_t attr_timeout_ms;
	uint64_t readahead_max; /* bytes, 0 = no read-ahead */
	char cache_dir[PATH_MAX]; /* "" = no disk cache, else absolute */
};

struct cfg_pool {
	char name[CFG_NAME_MAX];
	struct cfg_scheme scheme;
	uint64_t chunk_size; /* bytes, a power of two */
	char media[CFG_MEDIA_MAX];
	uint32_t pg_count;
	enum cfg_compression compression;
};

struct cfg {
	struct cfg_cluster cluster;
	struct cfg_log log;
	struct cfg_rpc rpc;
	struct cfg_mds mds;
	struct cfg_osd osd;
	struct cfg_client client;
	uint32_t pool_count; /* 0..CFG_MAX_POOLS */
	struct cfg_pool pools[CFG_MAX_POOLS];
};

/*
 * Fills *out with the default of every optional setting; the required ones
 * (cluster.key_file, mds.shards) are left empty.
 */
void cfg_defaults(struct cfg *out);

/*
 * Reads and validates the file at path into *out.  Relative paths in the file
 * are resolved against the file's directory.  On error *out is unchanged and,
 * if err is not NULL, err holds one line (no newline) naming the file, the line
 * and the setting at fault, e.g.
 *   "/etc/cairn.conf:12: setting 'rpc.timeout_ms': must be between 1 and
 *    3600000 (got 0)"
 * Returns 0, or
 *   -ENOENT, -EACCES, -EISDIR, -ENAMETOOLONG, -EIO, ...  the file (or its
 *                   directory) cannot be read or resolved;
 *   -EFBIG          the file is larger than 1 MiB;
 *   -ENOMEM         out of memory;
 *   -CAIRN_ECONFIG  syntax error or a setting that breaks the schema.
 */
int cfg_load(const char *path, struct cfg *out, char *err, size_t errlen);

/*
 * Parses a size: decimal digits, optionally followed by K, M, G or T or by
 * KiB, MiB, GiB or TiB (all powers of 1024): "123", "4KiB", "64M".
 * Returns 0, -EINVAL (empty, no digits, unknown suffix, trailing characters)
 * or -ERANGE (does not fit in 64 bits).
 */
int cfg_parse_size(const char *s, uint64_t *out);

/*
 * Parses "host:port" or "[IPv6 address]:port" with a port in 1..65535.  The
 * host is a name or IPv4 address ([A-Za-z0-9._-]) or, in brackets, an IPv6
 * address with an optional %zone.  Returns 0 or -EINVAL.
 */
int cfg_parse_addr(const char *s, struct cfg_addr *out);

/*
 * Parses a pool scheme: "ec:K+M" (K 1..32, M 1..16) or "rep:R" (R 1..8).
 * Returns 0, -EINVAL (malformed) or -ERANGE (a number out of its range).
 */
int cfg_parse_scheme(const char *s, struct cfg_scheme *out);

#endif
