/*
 * main.c - cairn-osd: the object storage daemon (see cairn-osd(8)).
 *
 *   cairn-osd -c FILE --id N --data DIR [--listen HOST:PORT] [--host NAME]
 *             [--media hdd|ssd|nvme] [--format]
 *
 * Runs in the foreground: opens (formatting on first start) the chunk
 * store of OSD N in DIR, serves chunk requests on --listen (default
 * 127.0.0.1:0, any free port), registers with MDS shard 0 under the bound
 * address and keeps heartbeating, until SIGTERM or SIGINT.  Exit status: 0
 * after an orderly stop, 1 with a one-line message on bad arguments,
 * configuration or a start-up failure.
 *
 * Threads: the main thread only starts the pieces (osd.h), then waits for a
 * signal (blocked everywhere, taken with sigwait) and stops them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/placement.h"
#include "common/rpc.h"
#include "osd/mdslink.h"
#include "osd/osd.h"
#include "osd/osdmap.h"
#include "osd/peers.h"
#include "osd/primary.h"
#include "osd/scrub.h"
#include "osd/store.h"

#define PROG "cairn-osd"

struct args {
	const char *conf;
	const char *data;
	const char *listen;
	const char *host;
	const char *media;
	long id;
	bool format;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -c FILE --id N --data DIR [--listen HOST:PORT] [--host NAME]\n"
		   "                 [--media hdd|ssd|nvme] [--format]\n"
		   "       " PROG " --help | --version\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints one line "cairn-osd: ..." on stderr; returns 1 (the exit status). */
static int fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", line);
	return 1;
}

static int parse_id(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < 0 || *out >= (long)PLACEMENT_NONE)
		return -EINVAL;
	return 0;
}

/* Returns 0, 1 (error printed) or 2 (--help or --version: exit 0). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"conf", required_argument, NULL, 'c'},	 {"id", required_argument, NULL, 'i'},
		{"data", required_argument, NULL, 'd'},	 {"listen", required_argument, NULL, 'l'},
		{"host", required_argument, NULL, 'H'},	 {"media", required_argument, NULL, 'm'},
		{"format", no_argument, NULL, 'f'},	 {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	 {NULL, 0, NULL, 0},
	};
	int c;

	*a = (struct args){.listen = "127.0.0.1:0", .media = "nvme", .id = -1};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->conf = optarg; break;
		case 'd': a->data = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'H': a->host = optarg; break;
		case 'm': a->media = optarg; break;
		case 'f': a->format = true; break;
		case 'h': usage(stdout); return 2;
		case 'V': printf(PROG " " CAIRN_VERSION "\n"); return 2;
		case 'i':
			if (parse_id(optarg, &a->id))
				return fail("bad --id '%s': expected a number 0..4294967294",
					    optarg);
			break;
		default:
			usage(stderr);
			return fail("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail("unexpected argument '%s'", argv[optind]);
	if (!a->conf || a->id < 0 || !a->data) {
		usage(stderr);
		return fail("-c FILE, --id N and --data DIR are required");
	}
	return 0;
}

/* Checks the options that need the configuration; fills o's identity. */
static int check_identity(const struct args *a, struct osd *o)
{
	char addr_host[CFG_HOST_MAX];
	int port;

	if (osd_media_parse(a->media, &o->media))
		return fail("bad --media '%s': expected hdd, ssd or nvme", a->media);
	if (net_addr_parse(a->listen, addr_host, sizeof(addr_host), &port) || port < 0 ||
	    port > 65535)
		return fail("bad --listen '%s': expected HOST:PORT", a->listen);
	if (a->host) {
		snprintf(o->host, sizeof(o->host), "%s", a->host);
	} else if (gethostname(o->host, sizeof(o->host) - 1) != 0) {
		return fail("cannot get the host name: %s", strerror(errno));
	}
	o->host[sizeof(o->host) - 1] = '\0';
	if (strlen(o->host) == 0 || strspn(o->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
						   "PQRSTUVWXYZ0123456789._-") != strlen(o->host))
		return fail("bad host name '%s': use letters, digits, '.', '_' or '-'", o->host);
	return 0;
}

static int open_store(const struct args *a, const struct cfg *cfg, struct osd_store **st)
{
	struct osd_store_opts opts = {.direct_io = cfg->osd.direct_io};
	char path[PATH_MAX];
	struct stat sb;
	int ret;

	snprintf(path, sizeof(path), "%s/superblock", a->data);
	if (a->format || stat(path, &sb) != 0) {
		ret = osd_store_format(a->data, (uint32_t)a->id);
		if (ret && ret != -EEXIST)
			return fail("cannot format the store in %s: %s", a->data, error_str(ret));
	}
	ret = osd_store_open(a->data, (uint32_t)a->id, &opts, st);
	if (ret == -EINVAL)
		return fail("cannot open the store in %s: %s", a->data,
			    "it belongs to another OSD id or the options are bad (see the log)");
	if (ret)
		return fail("cannot open the store in %s: %s", a->data, error_str(ret));
	return 0;
}

static void rpc_opts_from(const struct cfg *cfg, const struct auth_key *key, struct rpc_opts *r)
{
	static const char *const transports[] = {"auto", "tcp", "rdma"};

	*r = rpc_opts_default();
	r->max_frame = (uint32_t)cfg->rpc.max_frame;
	r->max_inflight = cfg->rpc.max_inflight;
	r->timeout_ms = (int)cfg->rpc.timeout_ms;
	r->connect_timeout_ms = (int)cfg->rpc.connect_timeout_ms;
	r->reconnect_min_ms = (int)cfg->rpc.reconnect_min_ms;
	r->reconnect_max_ms = (int)cfg->rpc.reconnect_max_ms;
	r->socket_buffer = (int)cfg->rpc.socket_buffer;
	r->io_threads = (int)cfg->rpc.io_threads;
	r->workers = (int)cfg->osd.workers;
	r->key = key;
	r->net = net_select(transports[cfg->cluster.transport]);
}

/* Starts the pieces in order; on failure stops what started.  0 or 1. */
static int start(struct osd *o, const struct args *a)
{
	unsigned writers = o->cfg->osd.workers * 2 < 4 ? 4 : o->cfg->osd.workers * 2;
	const struct cfg_addr *mds = &o->cfg->mds.shards[0].addr;
	char mds_addr[CFG_HOST_MAX + 16];
	int ret;

	snprintf(mds_addr, sizeof(mds_addr), strchr(mds->host, ':') ? "[%s]:%u" : "%s:%u",
		 mds->host, mds->port);
	o->map = osd_map_new(o->id);
	o->peers = osd_peers_new(&o->rpc);
	if (!o->map || !o->peers)
		return fail("out of memory");
	ret = osd_primary_start(o, writers, &o->primary);
	if (ret == 0)
		ret = osd_scrub_start(o, o->cfg->osd.scrub_rate, &o->scrub);
	if (ret)
		return fail("cannot start threads: %s", error_str(ret));
	ret = osd_server_start(o, a->listen);
	if (ret)
		return fail("cannot listen on %s: %s", a->listen, error_str(ret));
	ret = osd_mdslink_start(o, mds_addr, &o->link);
	if (ret)
		return fail("cannot reach shard 0 at %s: %s", mds_addr, error_str(ret));
	log_info("osd %u serving on %s (data %s, host %s)", o->id, o->addr, a->data, o->host);
	return 0;
}

static void stop(struct osd *o)
{
	osd_mdslink_stop(o->link);
	if (o->primary)
		osd_primary_quiesce(o->primary);
	if (o->scrub)
		osd_scrub_quiesce(o->scrub);
	rpc_server_stop(o->server);
	osd_primary_stop(o->primary);
	osd_scrub_stop(o->scrub);
	if (o->peers)
		osd_peers_free(o->peers);
	if (o->map)
		osd_map_free(o->map);
	rpc_engine_free(o->rpc.engine);
	osd_store_close(o->st);
}

static int wait_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	return sig;
}

int main(int argc, char **argv)
{
	static struct cfg cfg; /* large: not on the stack */
	struct auth_key *key = NULL;
	struct osd o = {.cfg = &cfg};
	struct args a;
	char err[512];
	sigset_t set;
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret == 2 ? 0 : 1;
	ret = cfg_load(a.conf, &cfg, err, sizeof(err));
	if (ret)
		return fail("%s", err);
	log_setup(PROG, cfg.log.level, cfg.log.syslog);
	o.id = (uint32_t)a.id;
	if (check_identity(&a, &o))
		return 1;
	ret = auth_key_load(cfg.cluster.key_file, &key);
	if (ret)
		return fail("cannot load the cluster key %s: %s", cfg.cluster.key_file,
			    error_str(ret));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ret = open_store(&a, &cfg, &o.st);
	rpc_opts_from(&cfg, key, &o.rpc);
	o.call_timeout_ms = (int)cfg.rpc.timeout_ms;
	if (ret == 0 && rpc_engine_new((int)cfg.rpc.io_threads, &o.rpc.engine) != 0)
		ret = fail("cannot start the network threads");
	if (ret == 0)
		ret = start(&o, &a);
	if (ret == 0)
		log_info("osd %u stopping on signal %d", o.id, wait_signal());
	stop(&o);
	auth_key_free(key);
	if (ret == 0)
		log_info("osd %u stopped", o.id);
	return ret ? 1 : 0;
}
