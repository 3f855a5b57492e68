/*
 * cairnctl.c - the administration tool of a Cairn cluster.
 *
 * Parses its command line (ctl_args.c), opens the cluster through libcairn
 * without the map watcher, runs one verb and prints tables for people or
 * JSON (--json) for scripts.  Every failure is one line on stderr naming
 * what failed and why.  Exit codes: 0 success, 1 the operation failed,
 * 2 bad usage; fsck: 0 clean, 1 problems found (or left after --repair),
 * 2 errors.  Single-threaded (libcairn's network threads aside).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cairn.h"
#include "client/cairn_admin.h"
#include "common/auth.h"
#include "common/error.h"
#include "common/log.h"
#include "tools/ctl_args.h"
#include "tools/ctl_fsck.h"
#include "tools/ctl_out.h"

#define EXIT_USAGE 2
/* Reachability checks wait at most this long (or the -t timeout if shorter). */
#define PING_MS 5000

static int ping_ms(const struct ctl_cmd *cmd)
{
	return cmd->timeout_ms && cmd->timeout_ms < PING_MS ? cmd->timeout_ms : PING_MS;
}

/* Why a request failed, in words a person can act on. */
static const char *why(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:
		return "no answer in time (is the cluster running?)";
	case -CAIRN_EAUTH:
		return "authentication failed (not the cluster's key?)";
	case -CAIRN_EPROTOVER:
		return "no protocol version in common with the server";
	default:
		return error_str(rc);
	}
}

static int open_cluster(const struct ctl_cmd *cmd, struct cairn **c)
{
	char err[768] = "";
	struct cairn_open_opts o = {.conf_path = cmd->conf,
				    .timeout_ms = cmd->timeout_ms,
				    .flags = CAIRN_OPEN_NO_MAP_WATCH,
				    .errbuf = err,
				    .errlen = sizeof(err)};
	int rc = cairn_open(&o, c);

	if (rc)
		fprintf(stderr, "cairnctl: %s\n", err[0] ? err : error_str(rc));
	return rc;
}

/* Shard 0 serves every administration request: check it answers, fast. */
static int reach_shard0(const struct ctl_cmd *cmd, struct cairn *c, const char *verb)
{
	int st[64];

	cairn_shard_ping(c, ping_ms(cmd), st);
	if (st[0])
		fprintf(stderr, "cairnctl: %s: cannot reach mds shard 0 at %s: %s\n", verb,
			cairn_shard_addr(c, 0), why(st[0]));
	return st[0];
}

static int cmd_status(const struct ctl_cmd *cmd, struct cairn *c)
{
	struct ctl_status s = {.nshards = cairn_shard_count(c), .name = cairn_cluster_name(c)};
	int ret = 0;

	cairn_shard_ping(c, ping_ms(cmd), s.shard_status);
	for (unsigned i = 0; i < s.nshards; i++) {
		s.shard_addr[i] = cairn_shard_addr(c, i);
		if (s.shard_status[i])
			ret = 1;
	}
	if (s.shard_status[0] == 0) {
		s.status_rc = cairn_admin_status(c, &s.st);
		if (!s.status_rc)
			s.pools_rc = cairn_pool_list(c, &s.pools, &s.npools);
	} else {
		s.status_rc = s.shard_status[0];
	}
	if (s.status_rc || s.pools_rc)
		ret = 1;
	ctl_print_status(stdout, &s, cmd->json);
	if (s.status_rc)
		fprintf(stderr, "cairnctl: status: cluster summary from mds shard 0 at %s: %s\n",
			cairn_shard_addr(c, 0), why(s.status_rc));
	else if (s.pools_rc)
		fprintf(stderr, "cairnctl: status: pool list: %s\n", why(s.pools_rc));
	for (unsigned i = 1; i < s.nshards; i++)
		if (s.shard_status[i])
			fprintf(stderr, "cairnctl: status: mds shard %u at %s: %s\n", i,
				s.shard_addr[i], why(s.shard_status[i]));
	free(s.pools);
	return ret;
}

static int cmd_osd_ls(const struct ctl_cmd *cmd, struct cairn *c)
{
	struct cairn_osd_info *osds = NULL;
	uint64_t epoch = 0;
	size_t n = 0;
	int rc;

	if (reach_shard0(cmd, c, "osd ls"))
		return 1;
	rc = cairn_osd_list(c, &osds, &n, &epoch);
	if (rc) {
		fprintf(stderr, "cairnctl: osd ls: cannot fetch the cluster map: %s\n", why(rc));
		return 1;
	}
	ctl_print_osds(stdout, osds, n, epoch, cmd->json);
	free(osds);
	return 0;
}

static int cmd_osd_set_in(const struct ctl_cmd *cmd, struct cairn *c)
{
	bool in = cmd->verb == CTL_OSD_IN;
	const char *verb = in ? "osd in" : "osd out";
	uint64_t epoch = 0;
	int rc;

	if (reach_shard0(cmd, c, verb))
		return 1;
	rc = cairn_osd_set_in(c, cmd->osd_id, in, &epoch);
	if (rc) {
		fprintf(stderr, "cairnctl: %s %u: %s\n", verb, cmd->osd_id,
			rc == -ENOENT ? "no such OSD in the cluster map" : why(rc));
		return 1;
	}
	if (cmd->json)
		printf("{\"osd\":%u,\"in\":%s,\"epoch\":%llu}\n", cmd->osd_id,
		       in ? "true" : "false", (unsigned long long)epoch);
	else
		printf("osd.%u is now %s (map epoch %llu)\n", cmd->osd_id, in ? "in" : "out",
		       (unsigned long long)epoch);
	return 0;
}

static int cmd_pool_ls(const struct ctl_cmd *cmd, struct cairn *c)
{
	struct cairn_pool_info *pools = NULL;
	size_t n = 0;
	int rc;

	if (reach_shard0(cmd, c, "pool ls"))
		return 1;
	rc = cairn_pool_list(c, &pools, &n);
	if (rc) {
		fprintf(stderr, "cairnctl: pool ls: %s\n", why(rc));
		return 1;
	}
	ctl_print_pools(stdout, pools, n, cmd->json, 0);
	free(pools);
	return 0;
}

static int cmd_pool_create(const struct ctl_cmd *cmd, struct cairn *c)
{
	const struct ctl_pool_args *a = &cmd->pool;
	struct cairn_pool_info p = {.scheme = a->scheme,
				    .k = a->k,
				    .m = a->m,
				    .media = a->media,
				    .compression = a->compression,
				    .chunk_size = a->chunk_size,
				    .pg_count = a->pg_count};
	uint64_t epoch = 0;
	uint32_t id = 0;
	int rc;

	snprintf(p.name, sizeof(p.name), "%s", a->name);
	if (reach_shard0(cmd, c, "pool create"))
		return 1;
	rc = cairn_pool_create(c, &p, &id, &epoch);
	if (rc) {
		fprintf(stderr, "cairnctl: pool create %s: %s\n", a->name,
			rc == -EEXIST	? "a pool with that name exists"
			: rc == -ENOSPC ? "the cluster has the most pools it can hold"
					: why(rc));
		return 1;
	}
	if (cmd->json)
		printf("{\"pool\":\"%s\",\"id\":%u,\"epoch\":%llu}\n", a->name, id,
		       (unsigned long long)epoch);
	else
		printf("created pool '%s' (id %u, map epoch %llu)\n", a->name, id,
		       (unsigned long long)epoch);
	return 0;
}

static int cmd_keygen(const struct ctl_cmd *cmd)
{
	int rc = auth_key_generate(cmd->keyfile);

	if (rc == -EEXIST) {
		fprintf(stderr, "cairnctl: keygen: %s already exists (not overwritten)\n",
			cmd->keyfile);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "cairnctl: keygen: cannot write %s: %s\n", cmd->keyfile,
			error_str(rc));
		return 1;
	}
	if (cmd->json) {
		fputs("{\"key_file\":", stdout);
		ctl_json_str(stdout, cmd->keyfile);
		puts("}");
	} else {
		printf("wrote a new cluster key to %s (mode 0600)\n", cmd->keyfile);
	}
	return 0;
}

static int run_verb(const struct ctl_cmd *cmd)
{
	struct cairn *c;
	int ret;

	if (open_cluster(cmd, &c))
		return cmd->verb == CTL_FSCK ? 2 : 1;
	switch (cmd->verb) {
	case CTL_STATUS:
		ret = cmd_status(cmd, c);
		break;
	case CTL_OSD_LS:
		ret = cmd_osd_ls(cmd, c);
		break;
	case CTL_OSD_OUT:
	case CTL_OSD_IN:
		ret = cmd_osd_set_in(cmd, c);
		break;
	case CTL_POOL_LS:
		ret = cmd_pool_ls(cmd, c);
		break;
	case CTL_POOL_CREATE:
		ret = cmd_pool_create(cmd, c);
		break;
	case CTL_FSCK:
		ret = reach_shard0(cmd, c, "fsck")
			  ? 2
			  : ctl_fsck(c, cmd->repair, !cmd->no_progress, cmd->json);
		break;
	default:
		ret = EXIT_USAGE;
		break;
	}
	cairn_close(c);
	return ret;
}

int main(int argc, char **argv)
{
	struct ctl_cmd cmd;
	char err[256];

	log_setup("cairnctl", LOG_LVL_ERROR, false);
	if (ctl_parse(argc, argv, &cmd, err, sizeof(err))) {
		fprintf(stderr, "cairnctl: %s\n%s", err, ctl_usage);
		return EXIT_USAGE;
	}
	switch (cmd.verb) {
	case CTL_HELP:
		fputs(ctl_usage, stdout);
		return 0;
	case CTL_VERSION:
		printf("cairnctl %s\n", CAIRN_VERSION);
		return 0;
	case CTL_LATER:
		fprintf(stderr, "cairnctl: '%s' is not available yet\n", cmd.later);
		return EXIT_USAGE;
	case CTL_KEYGEN:
		return cmd_keygen(&cmd);
	default:
		return run_verb(&cmd);
	}
}
