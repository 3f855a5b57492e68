/*
 * test_osd_bgscrub.c - the background scrub (cfg osd.scrub_rate) finds a
 * bit flipped on disk and repairs it without being asked: one cairn-mds
 * shard and 6 cairn-osd processes in 3 fake hosts with a 4+2 pool.
 *
 * Covers: a damaged data chunk and a damaged chunk of a compressed pool
 * are rewritten from their stripes within seconds (the file on disk
 * replaced, the chunk reading back right), and the stripes stay whole.
 *
 * Usage: test_osd_bgscrub CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary
 * is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/error.h"
#include "osdcheck.h"

#define CS (64u * 1024)
#define K 4
#define M 2
#define STRIPE (K * CS)

static struct tc_cluster cl;

static void damage_and_wait(const struct proto_map_pool *p, uint64_t ino, const struct model *md,
			    uint64_t v, unsigned idx)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t *buf = malloc(md->cs), bit;
	int64_t end = tc_now_ms() + 20000;
	struct stat before, after;
	char path[1024];
	int fd, ret;

	tc_acting(&cl, p, ino, 0, ids, up);
	snprintf(path, sizeof(path), "%s/chunks/%u/%u/%016" PRIx64 ".0.%u.v%" PRIu64,
		 cl.osd[ids[idx]].data, p->id, placement_pg(ino, 0, p->pg_count), ino, idx, v);
	fd = open(path, O_RDWR);
	TC_CHECK(fd >= 0 && fstat(fd, &before) == 0, "chunk file %s: %s", path, strerror(errno));
	TC_CHECK(pread(fd, &bit, 1, before.st_size - 10) == 1, "read");
	bit ^= 0x01;
	TC_CHECK(pwrite(fd, &bit, 1, before.st_size - 10) == 1, "write");
	close(fd);
	while ((ret = tc_chunk_read(&cl, ids[idx], p, ino, 0, idx, 0, md->cs, 0, buf, NULL,
				    NULL)) != 0) {
		TC_CHECK(ret == -CAIRN_ECHECKSUM, "reading the damaged chunk: %s", error_str(ret));
		TC_CHECK(tc_now_ms() < end, "not repaired by the background scrub within 20 s");
		usleep(50000);
	}
	TC_CHECK(stat(path, &after) == 0 && after.st_ino != before.st_ino,
		 "the chunk file was replaced");
	check_stripe(&cl, p, ino, 0, md, v);
	free(buf);
}

int main(int argc, char **argv)
{
	struct tc_opts o = {
		.osds = 6,
		.hosts = 3,
		.tmpfs_osd = -1,
		.osd_cfg = "scrub_rate = \"16M\"; workers = 2;",
		.pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
			 "  pg_count = 16; compression = \"none\"; },"
			 "{ name = \"ecz\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
			 "  pg_count = 8; compression = \"zstd\"; }",
	};
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	uint8_t *data = malloc(STRIPE);
	struct proto_map_pool p, z;
	struct model md, mz;
	uint64_t v, vz;

	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	p = tc_pool(&cl, "ec");
	z = tc_pool(&cl, "ecz");
	model_init(&md, K, M, CS);
	tc_fill(seed, data, STRIPE);
	TC_CHECK(tc_stripe_write(&cl, &p, 0x90009, 0, 0, data, STRIPE, &v) == 0, "write");
	model_write(&md, 0, data, STRIPE);
	model_init(&mz, K, M, CS);
	for (uint32_t i = 0; i < STRIPE; i++)
		data[i] = (uint8_t)("scrub me "[i % 9] ^ (i >> 12));
	TC_CHECK(tc_stripe_write(&cl, &z, 0x90009, 0, 0, data, STRIPE, &vz) == 0, "write");
	model_write(&mz, 0, data, STRIPE);
	printf("damaged data chunk, raw pool\n");
	damage_and_wait(&p, 0x90009, &md, v, 1);
	printf("damaged parity chunk, zstd pool\n");
	damage_and_wait(&z, 0x90009, &mz, vz, 4);
	model_free(&md);
	model_free(&mz);
	free(data);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
