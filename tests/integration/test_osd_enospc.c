/*
 * test_osd_enospc.c - a full disk on one OSD: one cairn-mds shard and 6
 * cairn-osd processes in 3 fake hosts with a 4+2 pool, OSD 5's data
 * directory a 1 MiB tmpfs (every stripe puts one chunk on it: six OSDs,
 * six positions).
 *
 * Covers: full stripes are written until one fails; the writer gets
 * -ENOSPC; the failed stripe is rolled back on the members that had
 * written it; every stripe acknowledged before is intact on every member,
 * OSD 5 included (it keeps serving reads); a partial write to an existing
 * stripe fails with -ENOSPC too and leaves that stripe as it was.
 *
 * Usage: test_osd_enospc CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary
 * is missing or the tmpfs cannot be mounted (needs root).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/error.h"
#include "osdcheck.h"

#define CS (64u * 1024)
#define K 4
#define M 2
#define STRIPE (K * CS)
#define MAX_STRIPES 64
#define INO 0x80008ull

static struct tc_cluster cl;

int main(int argc, char **argv)
{
	struct tc_opts o = {
		.osds = 6,
		.hosts = 3,
		.tmpfs_osd = 5,
		.tmpfs_size = "size=1m",
		.osd_cfg = "scrub_rate = \"0\"; workers = 2;",
		.pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
			 "  pg_count = 16; compression = \"none\"; }",
	};
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	uint64_t versions[MAX_STRIPES], v;
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t *data = malloc(STRIPE), b;
	struct proto_map_pool p;
	struct model md;
	unsigned n = 0;
	int ret = 0;

	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	p = tc_pool(&cl, "ec");
	for (n = 0; n < MAX_STRIPES; n++) {
		tc_fill(seed + n, data, STRIPE);
		ret = tc_stripe_write(&cl, &p, INO, n, 0, data, STRIPE, &versions[n]);
		if (ret)
			break;
	}
	printf("%u stripes written, then: %s\n", n, error_str(ret));
	TC_CHECK(n > 0 && n < MAX_STRIPES, "the 1 MiB tmpfs should fill after a few stripes");
	TC_CHECK(ret == -ENOSPC, "the writer gets ENOSPC, not %s", error_str(ret));

	/* The failed stripe was rolled back everywhere. */
	tc_acting(&cl, &p, INO, n, ids, up);
	for (unsigned i = 0; i < K + M; i++) {
		ret = tc_chunk_read(&cl, ids[i], &p, INO, n, i, 0, 1, 0, &b, NULL, NULL);
		TC_CHECK(ret == -ENOENT, "chunk %u of the failed stripe: %s", i, error_str(ret));
	}
	/* Everything acknowledged before is intact, OSD 5 serving its chunks. */
	for (unsigned s = 0; s < n; s++) {
		model_init(&md, K, M, CS);
		tc_fill(seed + s, data, STRIPE);
		model_write(&md, 0, data, STRIPE);
		check_stripe(&cl, &p, INO, s, &md, versions[s]);
		model_free(&md);
	}
	/* A partial write needs a new chunk version on OSD 5 too: refused, undone. */
	tc_fill(seed + 1000, data, 8192);
	ret = tc_stripe_write(&cl, &p, INO, 0, 1000, data, 8192, &v);
	TC_CHECK(ret == -ENOSPC, "partial write on a full OSD: %s", error_str(ret));
	model_init(&md, K, M, CS);
	tc_fill(seed, data, STRIPE);
	model_write(&md, 0, data, STRIPE);
	check_stripe(&cl, &p, INO, 0, &md, versions[0]);
	model_free(&md);
	free(data);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
