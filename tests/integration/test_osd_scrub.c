/*
 * test_osd_scrub.c - damage on disk found by scrub and repaired, and an OSD
 * restarted with its data, on one cairn-mds shard and 6 cairn-osd
 * processes in 3 fake hosts with a 4+2 pool (no background scrub: every
 * pass here is requested with OSD_SCRUB, so its counts are exact).
 *
 * Covers: a bit flipped in a stored data chunk and in a parity chunk reads
 * as -CAIRN_ECHECKSUM, is counted by a scrub without REPAIR and left alone,
 * then is rewritten by a scrub with REPAIR (the file on disk is replaced,
 * the chunk reads back right); an OSD stopped with SIGTERM (exit 0) is
 * marked down, writes go on degraded without it, it restarts with its
 * chunks, is marked up again, and the next partial write to a stripe it
 * missed rewrites that stripe whole so that every member agrees.
 *
 * Usage: test_osd_scrub CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary
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
#include "proto/osd.h"

#define CS (64u * 1024)
#define K 4
#define M 2
#define STRIPE (K * CS)

static struct tc_cluster cl;
static uint64_t seed;

/* The file of version v of chunk idx of (ino, stripe) on OSD osd. */
static void chunk_file(const struct proto_map_pool *p, uint32_t osd, uint64_t ino,
		       uint64_t stripe, unsigned idx, uint64_t v, char *out, size_t cap)
{
	snprintf(out, cap, "%s/chunks/%u/%u/%016" PRIx64 ".%" PRIu64 ".%u.v%" PRIu64,
		 cl.osd[osd].data, p->id, placement_pg(ino, stripe, p->pg_count), ino, stripe, idx,
		 v);
}

/* Flips one bit near the end of a file; returns the offset. */
static off_t flip(const char *path, struct stat *st)
{
	uint8_t b;
	off_t off;
	int fd = open(path, O_RDWR);

	TC_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	TC_CHECK(fstat(fd, st) == 0, "stat %s", path);
	off = st->st_size - 100;
	TC_CHECK(pread(fd, &b, 1, off) == 1, "read %s", path);
	b ^= 0x10;
	TC_CHECK(pwrite(fd, &b, 1, off) == 1, "write %s", path);
	close(fd);
	return off;
}

static void expect_bad(const struct proto_map_pool *p, uint32_t osd, uint64_t ino,
		       uint64_t stripe, unsigned idx)
{
	uint8_t *buf = malloc(CS);
	int ret = tc_chunk_read(&cl, osd, p, ino, stripe, idx, 0, CS, 0, buf, NULL, NULL);

	TC_CHECK(ret == -CAIRN_ECHECKSUM, "damaged chunk %u read: %s", idx, error_str(ret));
	free(buf);
}

static void scrub_expect(uint32_t osd, uint32_t pool, uint32_t flags, uint64_t bad,
			 uint64_t repaired)
{
	struct proto_osd_scrub_rep rep;
	int ret = tc_scrub(&cl, osd, pool, flags, &rep);

	TC_CHECK(ret == 0, "SCRUB on osd %u: %s", osd, error_str(ret));
	printf("  scrub osd %u: %" PRIu64 " versions, %" PRIu64 " bytes, %" PRIu64 " bad, %" PRIu64
	       " repaired\n",
	       osd, rep.versions, rep.bytes, rep.bad, rep.repaired);
	TC_CHECK(rep.versions >= 1 && rep.bytes >= CS, "the scrub checked nothing");
	TC_CHECK(rep.bad == bad && rep.repaired == repaired,
		 "expected %" PRIu64 " bad and %" PRIu64 " repaired", bad, repaired);
}

/* Damages chunk idx, scrubs it without and with REPAIR, checks the file. */
static void damage_and_repair(const struct proto_map_pool *p, uint64_t ino, const struct model *md,
			      uint64_t v, unsigned idx)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	struct stat before, after;
	char path[1024];
	uint8_t orig, now;
	off_t off;
	int fd;

	tc_acting(&cl, p, ino, 0, ids, up);
	chunk_file(p, ids[idx], ino, 0, idx, v, path, sizeof(path));
	fd = open(path, O_RDONLY);
	TC_CHECK(fd >= 0 && pread(fd, &orig, 1, 0) == 1, "chunk file %s: %s", path,
		 strerror(errno));
	close(fd);
	off = flip(path, &before);
	fd = open(path, O_RDONLY);
	TC_CHECK(pread(fd, &orig, 1, off) == 1, "reread");
	close(fd);
	expect_bad(p, ids[idx], ino, 0, idx);
	scrub_expect(ids[idx], 0, 0, 1, 0);
	expect_bad(p, ids[idx], ino, 0, idx);
	scrub_expect(ids[idx], p->id, PROTO_OSD_SCRUB_REPAIR, 1, 1);
	TC_CHECK(stat(path, &after) == 0, "the repaired file %s exists", path);
	TC_CHECK(after.st_ino != before.st_ino, "the chunk file was replaced");
	fd = open(path, O_RDONLY);
	TC_CHECK(pread(fd, &now, 1, off) == 1 && now == (orig ^ 0x10), "the flipped bit is back");
	close(fd);
	check_stripe(&cl, p, ino, 0, md, v);
	scrub_expect(ids[idx], 0, PROTO_OSD_SCRUB_REPAIR, 0, 0);
}

static void test_scrub(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");
	uint8_t *data = malloc(STRIPE);
	struct model md;
	uint64_t v;

	printf("scrub finds and repairs flipped bits\n");
	model_init(&md, K, M, CS);
	tc_fill(seed, data, STRIPE);
	TC_CHECK(tc_stripe_write(&cl, &p, 0x60006, 0, 0, data, STRIPE, &v) == 0, "write");
	model_write(&md, 0, data, STRIPE);
	check_stripe(&cl, &p, 0x60006, 0, &md, v);
	damage_and_repair(&p, 0x60006, &md, v, 2); /* a data chunk */
	damage_and_repair(&p, 0x60006, &md, v, 5); /* a parity chunk */
	model_free(&md);
	free(data);
}

static void test_restart(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t *data = malloc(STRIPE);
	struct model kept, missed;
	uint64_t vk, vm;
	unsigned victim;

	printf("an OSD restarts with its data; a stripe it missed is rewritten\n");
	tc_acting(&cl, &p, 0x70007, 0, ids, up);
	victim = ids[3]; /* a data position, not the primary */
	model_init(&kept, K, M, CS);
	tc_fill(seed + 1, data, STRIPE);
	TC_CHECK(tc_stripe_write(&cl, &p, 0x70007, 0, 0, data, STRIPE, &vk) == 0, "write");
	model_write(&kept, 0, data, STRIPE);

	tc_osd_stop(&cl, victim);
	tc_wait_osd(&cl, victim, false, 10000);
	/* Degraded: five members up, the write goes on without the sixth. */
	model_init(&missed, K, M, CS);
	tc_fill(seed + 2, data, STRIPE);
	TC_CHECK(tc_stripe_write(&cl, &p, 0x70007, 0, 0, data, STRIPE, &vm) == 0,
		 "degraded write");
	model_write(&missed, 0, data, STRIPE);

	tc_osd_start(&cl, victim);
	tc_wait_osd(&cl, victim, true, 15000);
	/* Its chunk of the old version is still there, and it is behind. */
	{
		uint8_t *buf = malloc(CS);
		uint32_t got;
		uint64_t v;

		TC_CHECK(tc_chunk_read(&cl, victim, &p, 0x70007, 0, 3, 0, CS, 0, buf, &got, &v) == 0,
			 "the restarted OSD serves its chunk");
		TC_CHECK(v == vk && got == CS && memcmp(buf, kept.bytes + 3 * CS, CS) == 0,
			 "the restarted OSD kept its data");
		free(buf);
	}
	/* A partial write finds the members disagreeing and rewrites the stripe. */
	tc_fill(seed + 3, data, 1000);
	TC_CHECK(tc_stripe_write(&cl, &p, 0x70007, 0, 3 * CS + 10, data, 1000, &vm) == 0,
		 "write after the restart");
	model_write(&missed, 3 * CS + 10, data, 1000);
	check_stripe(&cl, &p, 0x70007, 0, &missed, vm);
	model_free(&kept);
	model_free(&missed);
	free(data);
}

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

	seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	test_scrub();
	test_restart();
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
