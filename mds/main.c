/*
 * main.c - cairn-mds: one metadata shard of a Cairn cluster.
 *
 *   cairn-mds -c FILE --shard N
 *
 * Loads cairn.conf, opens the shard's RocksDB under its data directory,
 * starts the cross-shard layer, the cluster map (shard 0), the group
 * committer, the RPC server and the purger (mds/purge.h), logs "shard N
 * serving on ADDR", and runs in the foreground until SIGTERM or SIGINT,
 * then stops everything in reverse order and exits 0.  See cairn-mds(8).
 *
 * Exit status: 0 after an orderly stop; 1 for bad arguments, an invalid
 * cairn.conf or key file (one line on stderr); 2 when the shard cannot
 * start (database, address in use, map file corrupt, ...; logged).
 *
 * Threads: the main thread blocks SIGTERM, SIGINT (inherited by every
 * thread it creates) and waits for them with sigwaitinfo(); the RPC engine,
 * its workers, the committer, the map timer and the purger are the other
 * threads.
 * struct mds and struct cfg are static and live for the whole process.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/commit.h"
#include "mds/daemon.h"
#include "mds/map.h"
#include "mds/mds.h"
#include "mds/ns.h"
#include "mds/purge.h"
#include "mds/server.h"
#include "mds/server_lock.h"
#include "mds/xshard.h"

#define EXIT_USAGE 1 /* bad arguments, configuration or key */
#define EXIT_START 2 /* the shard could not start */

static const char usage[] =
    "Usage: cairn-mds -c FILE --shard N\n"
    "Runs metadata shard N of the Cairn cluster described by FILE (cairn.conf)\n"
    "in the foreground, until SIGTERM or SIGINT.\n"
    "\n"
    "  -c, --config FILE  the cluster's cairn.conf\n"
    "  -s, --shard N      the shard to run, 0 .. mds.shards - 1\n"
    "  -h, --help         show this help and exit\n"
    "  -V, --version      show the version and exit\n";

static struct cfg mds_cfg;
static struct mds mds;

struct args {
	const char *config;
	long shard;
};

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"shard", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	a->config = NULL;
	a->shard = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's':
			errno = 0;
			a->shard = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a->shard < 0 ||
			    a->shard >= CFG_MAX_SHARDS) {
				fprintf(stderr, "cairn-mds: bad shard number '%s' (0..%d)\n",
					optarg, CFG_MAX_SHARDS - 1);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("cairn-mds %s\n", CAIRN_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "cairn-mds: option '%s' needs an argument\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "cairn-mds: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cairn-mds: unexpected argument '%s' (see --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!a->config || a->shard < 0) {
		fprintf(stderr, "cairn-mds: %s is required (see --help)\n",
			!a->config ? "-c FILE" : "--shard N");
		return EXIT_USAGE;
	}
	return -1;
}

/* cairn.conf and the key.  Returns -1 to go on, or the exit code. */
static int load_config(const struct args *a, struct auth_key **key)
{
	char err[512];
	int rc;

	rc = cfg_load(a->config, &mds_cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cairn-mds: %s\n", err);
		return EXIT_USAGE;
	}
	if ((uint32_t)a->shard >= mds_cfg.mds.shard_count) {
		fprintf(stderr, "cairn-mds: shard %ld does not exist: %s lists %u shard%s\n",
			a->shard, a->config, mds_cfg.mds.shard_count,
			mds_cfg.mds.shard_count == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	rc = auth_key_load(mds_cfg.cluster.key_file, key);
	if (rc) {
		fprintf(stderr, "cairn-mds: cannot load key file %s: %s\n",
			mds_cfg.cluster.key_file,
			rc == -EPERM ? "readable or writable by group or others (chmod 600)"
				     : error_str(rc));
		return EXIT_USAGE;
	}
	return -1;
}

/* mkdir -p path (mode 0700 for what it creates).  0 or -errno. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void orphan_freed(void *arg, const struct ns_drop *d)
{
	(void)arg;
	/* Its purge entry was written with the deletion: the purger has it. */
	log_debug("mds: orphan %#llx of the previous run freed: %llu bytes in pool %u",
		  (unsigned long long)d->ino, (unsigned long long)d->size, d->layout.pool_id);
}

/* A purge entry was committed: wake the purger. */
static void purge_queued(void *arg)
{
	struct mds *m = arg;

	mds_purge_kick(m->purge);
}

static int open_ns(struct mds *m)
{
	const char *data = m->cfg->mds.shards[m->shard].data;
	struct ns_options opt = {
	    .shard = m->shard,
	    .create_if_missing = true,
	    .block_cache_bytes = (size_t)m->cfg->mds.block_cache,
	    .orphan_freed = orphan_freed,
	    .purge_queued = purge_queued,
	    .cb_arg = m,
	};
	char db[PATH_MAX];
	int rc;

	rc = mkdir_p(data);
	if (rc) {
		log_error("mds: cannot create data directory %s: %s", data, strerror(-rc));
		return rc;
	}
	if (snprintf(db, sizeof(db), "%s/db", data) >= (int)sizeof(db))
		return -ENAMETOOLONG;
	rc = ns_db_open(db, &opt, &m->ns);
	if (rc == -EBUSY)
		log_error("mds: database %s is in use by another process", db);
	else if (rc)
		log_error("mds: cannot open database %s: %s", db, strerror(-rc));
	return rc;
}

/* Starts every piece in order; on failure stops what started.  0 or -errno. */
static int start(struct mds *m, char *addr, size_t addrlen)
{
	int rc;

	m->purge = mds_purge_new(m);
	if (!m->purge)
		return -ENOMEM;
	rc = open_ns(m);
	if (rc)
		goto fail_purge;
	rc = rpc_engine_new((int)m->cfg->rpc.io_threads, &m->engine);
	if (rc) {
		log_error("mds: cannot start the network threads: %s", strerror(-rc));
		goto fail_ns;
	}
	rc = mds_xshard_start(m);
	if (rc) {
		log_error("mds: cannot start the cross-shard layer: %s", error_str(rc));
		goto fail_engine;
	}
	rc = m->shard == 0 ? mds_map_start(m) : 0;
	if (rc) {
		log_error("mds: cannot start the cluster map: %s", error_str(rc));
		goto fail_xshard;
	}
	rc = mds_commit_start(m->ns, MDS_COMMIT_INTERVAL_MS);
	if (rc) {
		log_error("mds: cannot start the group commit: %s", strerror(-rc));
		goto fail_map;
	}
	rc = mds_lock_start(m);
	if (rc) {
		log_error("mds: cannot start the lock service: %s", strerror(-rc));
		goto fail_commit;
	}
	rc = mds_server_start(m, addr, addrlen);
	if (rc)
		goto fail_locks;
	rc = mds_purge_start(m->purge);
	if (rc) {
		log_error("mds: cannot start the purger: %s", error_str(rc));
		goto fail_server;
	}
	return 0;
fail_server:
	mds_map_quiesce(m);
	mds_lock_quiesce(m);
	mds_server_stop(m);
fail_locks:
	mds_lock_stop(m);
fail_commit:
	mds_commit_stop();
fail_map:
	mds_map_stop(m);
fail_xshard:
	mds_xshard_stop(m);
fail_engine:
	rpc_engine_free(m->engine);
	m->engine = NULL;
fail_ns:
	ns_db_close(m->ns);
	m->ns = NULL;
fail_purge:
	mds_purge_free(m->purge);
	m->purge = NULL;
	return rc;
}

static void stop(struct mds *m)
{
	int rc;

	mds_purge_stop(m->purge); /* progress saved; entries kept for the next start */
	mds_map_quiesce(m);	  /* parked MAP_GETs would hold the server's stop */
	mds_lock_quiesce(m);	  /* so would queued lock requests */
	mds_server_stop(m);
	mds_lock_stop(m);
	rc = mds_commit_stop();
	mds_map_stop(m);
	mds_xshard_stop(m);
	rpc_engine_free(m->engine);
	m->engine = NULL;
	if (!rc)
		rc = ns_sync(m->ns);
	if (rc)
		log_error("mds: last sync failed: %s", strerror(-rc));
	ns_db_close(m->ns);
	m->ns = NULL;
	mds_purge_free(m->purge); /* no more kicks: the namespace is closed */
	m->purge = NULL;
}

static int wait_for_signal(const sigset_t *set)
{
	siginfo_t si;
	int sig;

	do
		sig = sigwaitinfo(set, &si);
	while (sig < 0 && errno == EINTR);
	return sig;
}

int main(int argc, char **argv)
{
	struct auth_key *key = NULL;
	char addr[MDS_ADDR_MAX];
	struct args a;
	sigset_t set;
	int rc, sig;

	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	rc = load_config(&a, &key);
	if (rc >= 0)
		return rc;
	log_setup("cairn-mds", mds_cfg.log.level, mds_cfg.log.syslog);
	/* Before any thread exists, so that every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	mds.cfg = &mds_cfg;
	mds.shard = (uint16_t)a.shard;
	mds.nshards = (uint16_t)mds_cfg.mds.shard_count;
	mds.key = key;
	if (start(&mds, addr, sizeof(addr))) {
		auth_key_free(key);
		return EXIT_START;
	}
	log_info("shard %u serving on %s", mds.shard, addr);
	sig = wait_for_signal(&set);
	log_info("shard %u stopping (%s)", mds.shard, sig == SIGINT ? "SIGINT" : "SIGTERM");
	stop(&mds);
	auth_key_free(key);
	log_info("shard %u stopped", mds.shard);
	return 0;
}
