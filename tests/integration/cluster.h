/*
 * cluster.h - a real Cairn cluster on loopback for integration tests: N
 * cairn-mds shards (one unless tc_opts.shards says more) and M cairn-osd
 * processes in fake hosts, in a mkdtemp directory with a generated
 * cairn.conf (the mds group lists every shard's address, as cairn-cluster
 * and mds_harness.c write it) and a 0600 key, plus RPC helpers to talk to
 * them as a client would.  The map helpers talk to shard 0, which holds
 * the cluster map.
 *
 * Daemons are always stopped by pid: SIGTERM, then SIGKILL after a timeout,
 * from tc_stop(), from an atexit handler, and from SIGTERM/SIGINT/SIGALRM
 * handlers; each child also gets PR_SET_PDEATHSIG so that it dies with the
 * test whatever happens.  Nothing is ever killed by name.
 *
 * A binary that does not exist makes the test exit 77 (skipped) with the
 * reason.  tc_fail() prints the message and the tail of every daemon's log
 * and exits 1 (the atexit handler cleans up).
 *
 * Threads: the helpers may be called from several test threads at once
 * (RPC clients are created under a mutex); starting and stopping daemons is
 * for the main thread only.
 */
#ifndef CAIRN_TESTS_CLUSTER_H
#define CAIRN_TESTS_CLUSTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/rpc.h"
#include "proto/map.h"
#include "proto/osd.h"

#define TC_MAX_OSDS 16
#define TC_MAX_SHARDS 8

struct tc_opts {
	unsigned shards;     /* cairn-mds shards 0..shards-1; 0 means 1 */
	unsigned osds;	     /* cairn-osd processes, ids 0..osds-1 */
	unsigned hosts;	     /* OSD i is in host "host<i % hosts>" */
	const char *pools;   /* the pools = (...) list of cairn.conf, without "pools =" */
	const char *osd_cfg; /* body of the osd = { } group ("" for defaults) */
	int tmpfs_osd;	     /* -1, or the OSD whose data dir is a small tmpfs */
	const char *tmpfs_size;
};

struct tc_osd {
	pid_t pid;
	char data[512];
	char log[512];
	char host[32];
};

struct tc_cluster {
	char dir[256];
	char conf[512];
	char mds_bin[1024];
	char osd_bin[1024];
	unsigned nshards;
	char mds_addr[TC_MAX_SHARDS][64];
	char mds_log[TC_MAX_SHARDS][512];
	pid_t mds_pid[TC_MAX_SHARDS];
	unsigned nosds;
	struct tc_osd osd[TC_MAX_OSDS];
	bool tmpfs_mounted;
	int tmpfs_osd;
	struct auth_key *key;
	struct rpc_opts rpc;
	pthread_mutex_t lock;
	struct rpc_client *mds; /* shard 0 */
	struct rpc_client *cli[TC_MAX_OSDS];
	char cli_addr[TC_MAX_OSDS][PROTO_ADDR_MAX + 1];
	struct proto_map map; /* last fetched; under lock */
};

/* Prints the message (and daemon logs) and exits 1. */
void tc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define TC_CHECK(cond, fmt, ...)                                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			tc_fail("%s:%d: check failed: %s: " fmt, __FILE__, __LINE__, #cond,        \
				##__VA_ARGS__);                                                    \
	} while (0)

/*
 * Sets up the directory, conf and key and starts the MDS shards and the
 * OSDs (binaries from argv[1] and argv[2]); returns once every shard
 * answers and every OSD is up in the map.  Exits 77 when a binary is
 * missing or the tmpfs cannot be mounted.
 */
void tc_start(struct tc_cluster *c, int argc, char **argv, const struct tc_opts *o);

/*
 * Stops every daemon and removes the directory; fails the test when an OSD
 * did not exit 0 after SIGTERM (e.g. a sanitizer report).
 */
void tc_stop(struct tc_cluster *c);

/*
 * Starts or stops OSD i (SIGTERM, then SIGKILL after a timeout; the OSD
 * must exit 0).  tc_osd_start_env() adds one "NAME=value" to its
 * environment (e.g. a CAIRN_FAULT crash point).  tc_osd_wait_exit() waits
 * for an OSD that is to die by itself and returns its wait status.
 */
void tc_osd_start(struct tc_cluster *c, unsigned i);
void tc_osd_start_env(struct tc_cluster *c, unsigned i, const char *env);
void tc_osd_stop(struct tc_cluster *c, unsigned i);
int tc_osd_wait_exit(struct tc_cluster *c, unsigned i, int timeout_ms);

/* Fetches the current map into c->map.  Returns its epoch. */
uint64_t tc_map_refresh(struct tc_cluster *c);

/* Waits until OSD id is up (or down) in the map; fails the test after timeout_ms. */
void tc_wait_osd(struct tc_cluster *c, uint32_t id, bool up, int timeout_ms);

/* A pool of the map by name (fails the test when missing), copied. */
struct proto_map_pool tc_pool(struct tc_cluster *c, const char *name);

/* Acting set of (pool, ino, stripe) in c->map: ids[k+m], up; returns the primary's position. */
int tc_acting(struct tc_cluster *c, const struct proto_map_pool *pool, uint64_t ino,
	      uint64_t stripe, uint32_t *ids, bool *up);

/*
 * One call to OSD id (its address from c->map).  Returns the status; *resp
 * (may be NULL) is to be freed with rpc_msg_free.
 */
int tc_osd_call(struct tc_cluster *c, uint32_t id, const struct rpc_call *call,
		struct rpc_msg **resp);

/* STRIPE_WRITE to the stripe's primary; *version gets the stripe's new version. */
int tc_stripe_write(struct tc_cluster *c, const struct proto_map_pool *pool, uint64_t ino,
		    uint64_t stripe, uint32_t off, const void *data, uint32_t len,
		    uint64_t *version);

/*
 * CHUNK_READ of [off, off + len) of version (0: newest) of chunk idx from
 * OSD id into buf; *got gets the bytes returned, *version_out the version.
 */
int tc_chunk_read(struct tc_cluster *c, uint32_t id, const struct proto_map_pool *pool,
		  uint64_t ino, uint64_t stripe, unsigned idx, uint32_t off, uint32_t len,
		  uint64_t version, void *buf, uint32_t *got, uint64_t *version_out);

/* OSD_SCRUB on OSD id; fills *rep. */
int tc_scrub(struct tc_cluster *c, uint32_t id, uint32_t pool_id, uint32_t flags,
	     struct proto_osd_scrub_rep *rep);

/* Deterministic bytes: xorshift64 from seed. */
void tc_fill(uint64_t seed, void *buf, size_t len);

/* Parity of k data chunks of len bytes with ISA-L directly (Cauchy, as DESIGN.md says). */
void tc_parity(unsigned k, unsigned m, uint8_t *const *data, uint8_t *const *parity, size_t len);

/* Milliseconds of a monotonic clock. */
int64_t tc_now_ms(void);

#endif
