/*
 * test_osd_crash.c - a PG primary killed in the middle of a stripe write
 * (crash point osd-primary-local-written of cairn-osd-faulty: its own chunk
 * written and the others sent, nothing acknowledged), on one cairn-mds
 * shard and 6 OSDs in 3 fake hosts with a 4+2 pool.
 *
 * Covers: the writer gets an error, never an acknowledgement; once the map
 * marks the primary down, the next up member takes the stripe's writes
 * (whatever the dead write left on some members, a partial write over its
 * range lands consistently); the old primary restarts with its leftover
 * chunk, becomes primary again, and its next partial write finds the
 * members disagreeing and rewrites the stripe whole, so every chunk agrees
 * with the model.
 *
 * Usage: test_osd_crash CAIRN-MDS CAIRN-OSD-FAULTY [SEED]; exits 77 if a
 * binary is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/error.h"
#include "osdcheck.h"

#define CS (64u * 1024)
#define K 4
#define M 2
#define STRIPE (K * CS)
#define INO 0xa000aull

static struct tc_cluster cl;

int main(int argc, char **argv)
{
	struct tc_opts o = {
		.osds = 6,
		.hosts = 3,
		.tmpfs_osd = -1,
		.osd_cfg = "scrub_rate = \"0\"; workers = 2;",
		.pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
			 "  pg_count = 16; compression = \"none\"; }",
	};
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t *data = malloc(STRIPE);
	struct proto_map_pool p;
	struct model md;
	uint64_t v;
	unsigned prim, next;
	int ret, status;

	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	p = tc_pool(&cl, "ec");
	model_init(&md, K, M, CS);
	tc_fill(seed, data, STRIPE);
	TC_CHECK(tc_stripe_write(&cl, &p, INO, 0, 0, data, STRIPE, &v) == 0, "base write");
	model_write(&md, 0, data, STRIPE);
	prim = ids[tc_acting(&cl, &p, INO, 0, ids, up)];

	printf("primary osd %u restarted with a crash point, then killed mid-write\n", prim);
	tc_osd_stop(&cl, prim);
	tc_wait_osd(&cl, prim, false, 10000);
	tc_osd_start_env(&cl, prim, "CAIRN_FAULT=osd-primary-local-written");
	tc_wait_osd(&cl, prim, true, 15000);
	tc_fill(seed + 1, data, 100000);
	ret = tc_stripe_write(&cl, &p, INO, 0, 50000, data, 100000, &v);
	TC_CHECK(ret != 0, "a write whose primary died was acknowledged");
	status = tc_osd_wait_exit(&cl, prim, 10000);
	TC_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		 "the primary died at its crash point (wait status %d)", status);
	printf("  the writer got: %s\n", error_str(ret));

	tc_wait_osd(&cl, prim, false, 10000);
	next = ids[tc_acting(&cl, &p, INO, 0, ids, up)];
	TC_CHECK(next != prim, "another primary while osd %u is down", prim);
	printf("osd %u takes over the stripe\n", next);
	tc_fill(seed + 2, data, 120000);
	TC_CHECK((ret = tc_stripe_write(&cl, &p, INO, 0, 40000, data, 120000, &v)) == 0,
		 "write to the new primary: %s", error_str(ret));
	model_write(&md, 40000, data, 120000);

	printf("osd %u comes back with its leftover chunk and is primary again\n", prim);
	tc_osd_start(&cl, prim);
	tc_wait_osd(&cl, prim, true, 15000);
	TC_CHECK(ids[tc_acting(&cl, &p, INO, 0, ids, up)] == prim, "primary again");
	tc_fill(seed + 3, data, 3000);
	TC_CHECK((ret = tc_stripe_write(&cl, &p, INO, 0, 2 * CS - 1000, data, 3000, &v)) == 0,
		 "write after the restart: %s", error_str(ret));
	model_write(&md, 2 * CS - 1000, data, 3000);
	check_stripe(&cl, &p, INO, 0, &md, v);
	model_free(&md);
	free(data);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
