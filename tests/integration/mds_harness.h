/*
 * mds_harness.h - real cairn-mds processes on loopback for integration
 * tests: a scratch directory (mkdtemp) with a generated cairn.conf and key
 * (mode 0600), free ports, start and stop of each shard by pid, and an
 * RPC client per shard.
 *
 * The harness only ever signals the pids it started: SIGTERM, then
 * SIGKILL after a timeout; an atexit handler and SIGTERM/SIGINT/SIGALRM
 * handlers do the same for whatever is still running, so a failing or
 * interrupted test leaves no daemon behind.  Each start logs to its own
 * file (shardN.log.K) in the scratch directory; mh_fail() prints the tail
 * of the latest logs.  The directory is removed at exit unless the
 * environment has CAIRN_TEST_KEEP=1.
 *
 * Single-threaded use (one cluster per test program), except mh_call(),
 * which any thread may use on a client.
 */
#ifndef CAIRN_TESTS_MDS_HARNESS_H
#define CAIRN_TESTS_MDS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/rpc.h"

#define MH_SHARDS_MAX 8

struct mh_cluster {
	char dir[256];	    /* scratch directory */
	char conf[300];	    /* dir/cairn.conf */
	char key[300];	    /* dir/cairn.key */
	const char *binary; /* cairn-mds or cairn-mds-faulty */
	int nshards;
	int port[MH_SHARDS_MAX];
	pid_t pid[MH_SHARDS_MAX]; /* 0: not running */
	int starts[MH_SHARDS_MAX];
	struct auth_key *auth;
	struct rpc_client *cli[MH_SHARDS_MAX];
};

/* Prints a message and the daemons' log tails, then exits 1. */
void mh_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define MH_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			mh_fail("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);             \
	} while (0)

#define MH_CHECK_RC(expr, want)                                                                    \
	do {                                                                                       \
		int rc_ = (expr), want_ = (want);                                                  \
		if (rc_ != want_)                                                                  \
			mh_fail("%s:%d: %s = %d (%s), expected %d (%s)", __FILE__, __LINE__,       \
				#expr, rc_, mh_err(rc_), want_, mh_err(want_));                    \
	} while (0)

const char *mh_err(int rc);

/* Extra libconfig text for the groups of the generated cairn.conf (or NULL). */
struct mh_conf {
	const char *rpc; /* inside rpc = { ... } */
	const char *mds; /* inside mds = { ... } */
	const char *top; /* at the top level: pools, client, ... */
};

/*
 * Prepares a cluster of nshards shards run by binary: the scratch
 * directory, the key, free ports and cairn.conf (with conf's additions;
 * conf may be NULL).  Exits 77 (skip) if loopback TCP is unavailable, 1
 * on other failures.
 */
void mh_cluster_init(struct mh_cluster *c, const char *binary, int nshards,
		     const struct mh_conf *conf);

/*
 * Starts shard i with extra environment entries env (NULL-terminated,
 * may be NULL) and waits up to 20 s for its "serving on" line.  Returns 0,
 * or the exit status (>= 0x100 for a signal) if it exited first.
 */
int mh_shard_start(struct mh_cluster *c, int i, char *const env[]);

/* Like mh_shard_start(), failing the test if the shard does not come up. */
void mh_shard_up(struct mh_cluster *c, int i);

/*
 * Stops shard i with sig (SIGTERM or SIGKILL), SIGKILL after 10 s.  Frees
 * the shard's client.  Returns its wait status.
 */
int mh_shard_stop(struct mh_cluster *c, int i, int sig);

/* The client of shard i (created on first use; reconnects by itself). */
struct rpc_client *mh_client(struct mh_cluster *c, int i);

/* Path of the latest log of shard i. */
void mh_log_path(const struct mh_cluster *c, int i, char *buf, size_t len);

/* True if the latest log of shard i contains s. */
bool mh_log_has(const struct mh_cluster *c, int i, const char *s);

/*
 * One call: returns the status (0, -errno from the server or the RPC
 * layer) and the response (free with rpc_msg_free) or NULL.
 */
int mh_call(struct rpc_client *cli, uint16_t op, const void *body, size_t len,
	    struct rpc_msg **resp);

/* Milliseconds of a monotonic clock. */
int64_t mh_now_ms(void);

#endif
