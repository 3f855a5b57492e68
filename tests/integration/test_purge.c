/*
 * test_purge.c - the MDS purger (mds/purge.h) on a real cluster: two
 * cairn-mds shards and six cairn-osd processes in three fake hosts
 * (cluster.h), an ec:4+2 pool of 64 KiB chunks.  Files are written through
 * libcairn; their chunks are looked for in the OSDs' data directories
 * (osd/store.h: chunks/<pool>/<pg>/<ino>.<stripe>.<index>.v<version>),
 * every chunk of every stripe at the OSD of its position in the acting set.
 *
 * Cases:
 *   basic    files of several stripes unlinked on shard 0, on shard 1
 *            (through the map it watches on shard 0), and through a
 *            cross-shard unlink (entry on shard 0, inode on shard 1): all
 *            their chunks are gone within WAIT_MS, while the chunks of
 *            other files stay and read back right;
 *   open     a file unlinked while open keeps its chunks (and reads right
 *            through the handle) until its last close, then loses them;
 *   sparse   a file of 8193 stripes with data in two: every stripe's
 *            deletes sent, over several turns, and the entry removed;
 *   restart  one OSD SIGKILLed, a file unlinked: its chunks go from the
 *            five live OSDs, stay on the dead one; shard 0 is stopped and
 *            its database shows the purge entry; shard 0 starts again from
 *            the same directory and tries the entry again (its log says
 *            so), the OSD comes back, and the last chunks go too, the
 *            entry with them (logged).
 *
 * Usage: test_purge CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary is
 * missing.  Daemons are stopped by pid (cluster.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "cluster.h"
#include "common/error.h"
#include "common/placement.h"
#include "mds/ns.h"

#define CS (64u * 1024)
#define K 4u
#define M 2u
#define STRIPE (K * CS)
#define WAIT_MS 20000

static struct tc_cluster cl;
static struct cairn *cn;
static struct proto_map_pool pool;
static uint64_t seed;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- chunk files ---- */

/* Chunk files of ino in OSD osd's directory (every pool, PG, version). */
static unsigned chunks_on(unsigned osd, uint64_t ino)
{
	char top[600], pdir[900], gdir[1200], prefix[32];
	unsigned n = 0;
	DIR *pools, *pgs, *files;
	struct dirent *p, *g, *f;

	snprintf(top, sizeof(top), "%s/chunks", cl.osd[osd].data);
	snprintf(prefix, sizeof(prefix), "%016" PRIx64 ".", ino);
	pools = opendir(top);
	TC_CHECK(pools, "opendir %s: %s", top, strerror(errno));
	while ((p = readdir(pools))) {
		if (p->d_name[0] == '.')
			continue;
		snprintf(pdir, sizeof(pdir), "%s/%s", top, p->d_name);
		pgs = opendir(pdir);
		while (pgs && (g = readdir(pgs))) {
			if (g->d_name[0] == '.')
				continue;
			snprintf(gdir, sizeof(gdir), "%s/%s", pdir, g->d_name);
			files = opendir(gdir);
			while (files && (f = readdir(files)))
				n += strncmp(f->d_name, prefix, strlen(prefix)) == 0;
			if (files)
				closedir(files);
		}
		if (pgs)
			closedir(pgs);
	}
	closedir(pools);
	return n;
}

static unsigned chunks_all(uint64_t ino, int except)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cl.nosds; i++)
		if ((int)i != except)
			n += chunks_on(i, ino);
	return n;
}

/* True if OSD osd holds a version of chunk (ino, stripe, idx). */
static bool chunk_at(unsigned osd, uint64_t ino, uint64_t stripe, unsigned idx)
{
	char dir[900], prefix[64];
	struct dirent *f;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/chunks/%u/%u", cl.osd[osd].data, pool.id,
		 placement_pg(ino, stripe, pool.pg_count));
	snprintf(prefix, sizeof(prefix), "%016" PRIx64 ".%" PRIu64 ".%u.v", ino, stripe, idx);
	d = opendir(dir);
	while (d && !found && (f = readdir(d)))
		found = strncmp(f->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return found;
}

/* Every chunk of stripes [0, stripes) is where the acting set says. */
static void check_placed(uint64_t ino, uint64_t stripes)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];

	tc_map_refresh(&cl);
	for (uint64_t s = 0; s < stripes; s++) {
		tc_acting(&cl, &pool, ino, s, ids, up);
		for (unsigned i = 0; i < K + M; i++)
			TC_CHECK(ids[i] < cl.nosds && chunk_at(ids[i], ino, s, i),
				 "ino %#" PRIx64 " stripe %" PRIu64 " chunk %u not on OSD %u", ino,
				 s, i, ids[i]);
	}
}

/* Waits until no OSD but except holds a chunk of ino; returns the ms it took. */
static int64_t wait_gone(uint64_t ino, int except)
{
	int64_t t0 = tc_now_ms();
	unsigned n;

	while ((n = chunks_all(ino, except)) != 0) {
		TC_CHECK(tc_now_ms() - t0 < WAIT_MS,
			 "%u chunks of ino %#" PRIx64 " left after %d ms", n, ino, WAIT_MS);
		sleep_ms(50);
	}
	return tc_now_ms() - t0;
}

/* ---- files ---- */

/* Writes stripes full stripes of bytes from seed s to parent/name; returns ino. */
static uint64_t write_file(uint64_t parent, const char *name, unsigned stripes, uint64_t s,
			   struct cairn_file **keep_open)
{
	size_t len = (size_t)stripes * STRIPE;
	uint8_t *buf = malloc(len);
	struct cairn_file *f = NULL;
	uint64_t ino;
	ssize_t n;
	int ret;

	TC_CHECK(buf, "malloc");
	tc_fill(s, buf, len);
	ret = cairn_file_create(cn, NULL, parent, name, 0644, O_RDWR | O_EXCL, &f);
	TC_CHECK(ret == 0, "create %s: %s", name, error_str(ret));
	n = cairn_pwrite(f, buf, len, 0);
	TC_CHECK(n == (ssize_t)len, "pwrite %s: %zd", name, n);
	ino = cairn_file_ino(f);
	if (keep_open) {
		TC_CHECK(cairn_fsync(f, false) == 0, "fsync %s", name);
		*keep_open = f;
	} else {
		TC_CHECK(cairn_file_close(f) == 0, "close %s", name);
	}
	free(buf);
	check_placed(ino, stripes);
	return ino;
}

/* Reads f (or parent/name) back and compares it with the bytes of seed s. */
static void check_file(struct cairn_file *f, uint64_t parent, const char *name, unsigned stripes,
		       uint64_t s)
{
	size_t len = (size_t)stripes * STRIPE;
	uint8_t *want = malloc(len), *got = malloc(len);
	struct cairn_file *own = NULL;
	struct cairn_attr a;
	ssize_t n;
	int ret;

	TC_CHECK(want && got, "malloc");
	if (!f) {
		ret = cairn_lookup(cn, NULL, parent, name, &a);
		TC_CHECK(ret == 0, "lookup %s: %s", name, error_str(ret));
		ret = cairn_file_open(cn, NULL, a.ino, O_RDONLY, &own);
		TC_CHECK(ret == 0, "open %s: %s", name, error_str(ret));
		f = own;
	}
	tc_fill(s, want, len);
	n = cairn_pread(f, got, len, 0);
	TC_CHECK(n == (ssize_t)len && memcmp(want, got, len) == 0, "%s reads back wrong (%zd)",
		 name, n);
	cairn_file_close(own);
	free(want);
	free(got);
}

/* A directory of the root whose inode lives on shard 1. */
static uint64_t dir_on_shard1(void)
{
	struct cairn_attr a;
	char name[32];

	for (unsigned i = 0; i < 64; i++) {
		int ret;

		snprintf(name, sizeof(name), "d%u", i);
		ret = cairn_mkdir(cn, NULL, CAIRN_ROOT_INO, name, 0755, &a);
		TC_CHECK(ret == 0, "mkdir %s: %s", name, error_str(ret));
		if (a.ino >> 48 == 1)
			return a.ino;
	}
	tc_fail("no directory landed on shard 1");
}

/* ---- cases ---- */

static void test_basic(void)
{
	uint64_t d1 = dir_on_shard1(), gone0, gone1, moved, keep0, keep1;
	int ret;

	keep0 = write_file(CAIRN_ROOT_INO, "keep0", 3, seed ^ 1, NULL);
	gone0 = write_file(CAIRN_ROOT_INO, "gone0", 5, seed ^ 2, NULL);
	keep1 = write_file(d1, "keep1", 2, seed ^ 3, NULL);
	gone1 = write_file(d1, "gone1", 4, seed ^ 4, NULL);
	moved = write_file(d1, "moved", 3, seed ^ 5, NULL);
	TC_CHECK(gone1 >> 48 == 1 && moved >> 48 == 1 && gone0 >> 48 == 0, "homes of the inodes");
	/* The entry moves to shard 0, the inode stays on shard 1. */
	ret = cairn_rename(cn, NULL, d1, "moved", CAIRN_ROOT_INO, "moved", 0);
	TC_CHECK(ret == 0, "rename: %s", error_str(ret));

	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "gone0") == 0, "unlink gone0");
	TC_CHECK(cairn_unlink(cn, NULL, d1, "gone1") == 0, "unlink gone1");
	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "moved") == 0, "unlink moved");
	printf("shard 0 file purged in %" PRId64 " ms\n", wait_gone(gone0, -1));
	printf("shard 1 file purged in %" PRId64 " ms\n", wait_gone(gone1, -1));
	printf("cross-shard unlink purged in %" PRId64 " ms\n", wait_gone(moved, -1));
	/* The neighbours are untouched. */
	check_placed(keep0, 3);
	check_placed(keep1, 2);
	TC_CHECK(chunks_all(keep0, -1) == 3 * (K + M) && chunks_all(keep1, -1) == 2 * (K + M),
		 "other files lost or gained chunks");
	check_file(NULL, CAIRN_ROOT_INO, "keep0", 3, seed ^ 1);
	check_file(NULL, d1, "keep1", 2, seed ^ 3);
	printf("basic: unlinked files purged on both shards, the others intact\n");
}

static void test_open(void)
{
	struct cairn_file *f = NULL;
	uint64_t ino = write_file(CAIRN_ROOT_INO, "held", 3, seed ^ 6, &f);
	uint64_t other;

	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "held") == 0, "unlink held");
	/* Another purge runs meanwhile: the held file must not be taken with it. */
	other = write_file(CAIRN_ROOT_INO, "other", 1, seed ^ 7, NULL);
	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "other") == 0, "unlink other");
	wait_gone(other, -1);
	sleep_ms(1500);
	check_placed(ino, 3);
	check_file(f, 0, "held (unlinked, open)", 3, seed ^ 6);
	TC_CHECK(cairn_file_close(f) == 0, "close held");
	printf("open: kept while open, purged %" PRId64 " ms after the last close\n",
	       wait_gone(ino, -1));
}

/* How many lines of shard 0's log contain what (with ino). */
static unsigned log_count(const char *what, uint64_t ino)
{
	char want[96], line[1024];
	unsigned n = 0;
	FILE *f = fopen(cl.mds_log[0], "r");

	snprintf(want, sizeof(want), what, ino);
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return n;
}

#define LOG_PURGED "purge: ino %#" PRIx64 " purged"
#define LOG_KEPT "kept for later (ino %#" PRIx64 ":"

static bool logged_purged(uint64_t ino)
{
	return log_count(LOG_PURGED, ino) > 0;
}

/* Waits until shard 0's log says ino was purged (its entry removed). */
static void wait_logged(uint64_t ino)
{
	for (int64_t t0 = tc_now_ms(); !logged_purged(ino); sleep_ms(50))
		TC_CHECK(tc_now_ms() - t0 < WAIT_MS, "shard 0 never logged the purge of %#" PRIx64,
			 ino);
}

/*
 * A sparse file of 8193 stripes with data in the first and the last: one
 * delete per stripe and chunk, over three turns of PURGE_SLICE stripes.
 */
static void test_sparse(void)
{
	uint64_t last = 2 * 4096, off = last * STRIPE;
	struct cairn_file *f = NULL;
	uint8_t *buf = malloc(STRIPE);
	uint64_t ino;
	int ret;

	TC_CHECK(buf, "malloc");
	tc_fill(seed ^ 9, buf, STRIPE);
	ret = cairn_file_create(cn, NULL, CAIRN_ROOT_INO, "sparse", 0644, O_RDWR | O_EXCL, &f);
	TC_CHECK(ret == 0, "create sparse: %s", error_str(ret));
	TC_CHECK(cairn_pwrite(f, buf, STRIPE, 0) == (ssize_t)STRIPE, "pwrite at 0");
	TC_CHECK(cairn_pwrite(f, buf, STRIPE, off) == (ssize_t)STRIPE, "pwrite at %" PRIu64, off);
	ino = cairn_file_ino(f);
	TC_CHECK(cairn_file_close(f) == 0, "close sparse");
	free(buf);
	TC_CHECK(chunks_all(ino, -1) == 2 * (K + M), "sparse: %u chunks", chunks_all(ino, -1));
	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "sparse") == 0, "unlink sparse");
	printf("sparse: %" PRIu64 " stripes purged in %" PRId64 " ms\n", last + 1,
	       wait_gone(ino, -1));
	wait_logged(ino);
}

/* Opens shard 0's database (the daemon stopped) and reads ino's purge entry. */
static int entry_of(uint64_t ino, struct ns_purge *out)
{
	struct ns_options o = {.shard = 0};
	char path[600];
	struct ns *ns;
	int ret;

	snprintf(path, sizeof(path), "%s/mds0/db", cl.dir);
	ret = ns_db_open(path, &o, &ns);
	TC_CHECK(ret == 0, "open %s: %s", path, error_str(ret));
	ret = ns_purge_get(ns, ino, out);
	ns_db_close(ns);
	return ret;
}

static void test_restart(void)
{
	unsigned dead = (unsigned)(seed % cl.nosds), stripes = 6;
	uint64_t ino = write_file(CAIRN_ROOT_INO, "victim", stripes, seed ^ 8, NULL);
	struct ns_purge e;
	unsigned kept;
	uint64_t ep;
	int ret;

	TC_CHECK(kill(cl.osd[dead].pid, SIGKILL) == 0, "kill osd %u", dead);
	tc_osd_wait_exit(&cl, dead, WAIT_MS);
	tc_wait_osd(&cl, dead, false, WAIT_MS);
	TC_CHECK(cairn_map_refresh(cn, &ep) == 0, "map refresh");
	TC_CHECK(cairn_unlink(cn, NULL, CAIRN_ROOT_INO, "victim") == 0, "unlink victim");
	wait_gone(ino, (int)dead);
	/* With 6 OSDs and 6 chunks per stripe, the dead one holds one of each. */
	TC_CHECK(chunks_on(dead, ino) == stripes, "OSD %u holds %u chunks, want %u", dead,
		 chunks_on(dead, ino), stripes);
	TC_CHECK(!logged_purged(ino), "purged with an OSD down");

	tc_mds_stop(&cl, 0);
	ret = entry_of(ino, &e);
	TC_CHECK(ret == 0, "no purge entry for %#" PRIx64 " after the stop: %s", ino,
		 error_str(ret));
	TC_CHECK(e.size == (uint64_t)stripes * STRIPE && e.layout.k == K && e.layout.m == M &&
		     e.next_stripe == 0,
		 "entry: size %" PRIu64 " %u+%u next %" PRIu64, e.size, e.layout.k, e.layout.m,
		 e.next_stripe);
	kept = log_count(LOG_KEPT, ino);
	TC_CHECK(kept > 0, "shard 0 never said it kept %#" PRIx64, ino);
	tc_mds_start(&cl, 0);
	/* The new run finds the entry and tries it: the OSD is still down. */
	for (int64_t t0 = tc_now_ms(); log_count(LOG_KEPT, ino) == kept; sleep_ms(50))
		TC_CHECK(tc_now_ms() - t0 < WAIT_MS, "the restarted shard did not try %#" PRIx64,
			 ino);
	TC_CHECK(!logged_purged(ino), "purged with an OSD down");
	printf("restart: purge entry kept across the MDS restart and tried again\n");

	tc_osd_start(&cl, dead);
	tc_wait_osd(&cl, dead, true, WAIT_MS);
	printf("restart: last chunks purged %" PRId64 " ms after OSD %u came back\n",
	       wait_gone(ino, -1), dead);
	wait_logged(ino);
	check_file(NULL, CAIRN_ROOT_INO, "keep0", 3, seed ^ 1);
}

int main(int argc, char **argv)
{
	struct tc_opts o = {
	    .osds = 6,
	    .hosts = 3,
	    .shards = 2,
	    .tmpfs_osd = -1,
	    .osd_cfg = "scrub_rate = \"0\"; workers = 2;",
	    .pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; "
		     "media = \"nvme\"; pg_count = 16; }",
	};
	int ret;

	seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	pool = tc_pool(&cl, "ec");
	ret = cairn_open_conf(cl.conf, &cn);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	test_basic();
	test_open();
	test_sparse();
	test_restart();
	cairn_close(cn);
	tc_mds_stop(&cl, 1); /* both must exit 0: no sanitizer report, no leak */
	tc_mds_stop(&cl, 0);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
