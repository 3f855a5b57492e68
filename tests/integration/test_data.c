/*
 * test_data.c - the libcairn data path (cairn_file_*, cairn_pread,
 * cairn_pwrite, cairn_ftruncate) on a real cluster: one cairn-mds shard and
 * 6 cairn-osd processes in 3 fake hosts (cluster.h), with a 4+2 pool and a
 * rep:3 pool, 64 KiB chunks.  New files get the first pool of the
 * configuration, so the test runs once per pool: argv[3] is "ec" or "rep".
 *
 * Covers: files of 0, 1, chunk-1, chunk+1, stripe-1, stripe+1 and a few
 * stripes + 17 bytes written and read back (size seen by a new open); a
 * 64 MiB file; random-offset random-length writes, reads and truncates
 * (down and up) against a reference buffer, with reopens that check the
 * published size; a sparse file past 5 GiB (holes read as zeros, a truncate
 * down inside it); a bit flipped in a stored data chunk read back right;
 * then 1 and 2 OSDs SIGKILLed (the 64 MiB file still reads right, and a
 * file written while degraded too) and, for 4+2, a third one: reads fail
 * with -EIO, never garbage.
 *
 * Also tools/examples/cairn-copy (put, get, a missing file) when given.
 *
 * Usage: test_data CAIRN-MDS CAIRN-OSD ec|rep [CAIRN-COPY [SEED]] (CAIRN_DATA_OPS:
 * number of random operations, default 2000); exits 77 if a binary is
 * missing.  Daemons are stopped by pid (cluster.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "cluster.h"
#include "common/error.h"
#include "common/placement.h"

#define CS (64u * 1024)
#define BIG (64u << 20)
#define REF_MAX (3u << 20)
#define WAIT_MS 10000

static struct tc_cluster cl;
static struct cairn *cn;
static uint64_t seed, rng;
static bool ec;
static unsigned K, M;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct cairn_file *create(const char *name)
{
	struct cairn_file *f = NULL;
	int ret = cairn_file_create(cn, NULL, CAIRN_ROOT_INO, name, 0644, O_RDWR | O_EXCL, &f);

	TC_CHECK(ret == 0, "create %s: %s", name, error_str(ret));
	return f;
}

static struct cairn_file *reopen(const char *name, int flags)
{
	struct cairn_attr a;
	struct cairn_file *f = NULL;
	int ret = cairn_lookup(cn, NULL, CAIRN_ROOT_INO, name, &a);

	TC_CHECK(ret == 0, "lookup %s: %s", name, error_str(ret));
	ret = cairn_file_open(cn, NULL, a.ino, flags, &f);
	TC_CHECK(ret == 0, "open %s: %s", name, error_str(ret));
	return f;
}

static void put(struct cairn_file *f, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = cairn_pwrite(f, buf, len, off);

	TC_CHECK(n == (ssize_t)len, "pwrite %zu at %" PRIu64 ": %s", len, off,
		 n < 0 ? error_str((int)n) : "short");
}

/* Reads [off, off + len) and compares it with want (len_want bytes expected). */
static void check(struct cairn_file *f, const uint8_t *want, size_t len, size_t len_want,
		  uint64_t off)
{
	uint8_t *got = malloc(len + 1);
	ssize_t n;

	TC_CHECK(got, "malloc");
	n = cairn_pread(f, got, len, off);
	TC_CHECK(n == (ssize_t)len_want, "pread %zu at %" PRIu64 ": %zd (%s), want %zu", len, off,
		 n, n < 0 ? error_str((int)n) : "count", len_want);
	for (size_t i = 0; i < len_want; i++)
		TC_CHECK(got[i] == want[i], "byte %" PRIu64 " is %u, want %u (seed %" PRIu64 ")",
			 off + i, got[i], want[i], seed);
	free(got);
}

static void test_sizes(void)
{
	size_t s = (size_t)K * CS;
	size_t sizes[] = {0, 1, CS - 1, CS + 1, s - 1, s + 1, 3 * s + 17};
	uint8_t *buf = malloc(4 * s);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[64];
		struct cairn_file *f;

		snprintf(name, sizeof(name), "size%zu-%zu", i, sizes[i]);
		tc_fill(seed + i, buf, sizes[i]);
		f = create(name);
		if (sizes[i])
			put(f, buf, sizes[i], 0);
		TC_CHECK(cairn_file_close(f) == 0, "close");
		f = reopen(name, O_RDONLY);
		TC_CHECK(cairn_file_size(f) == sizes[i], "size %" PRIu64 " want %zu",
			 cairn_file_size(f), sizes[i]);
		check(f, buf, sizes[i] + 100, sizes[i], 0);
		if (sizes[i] > 2)
			check(f, buf + 1, sizes[i] - 2, sizes[i] - 2, 1);
		TC_CHECK(cairn_pwrite(f, buf, 1, 0) == -EBADF, "write on a read-only handle");
		cairn_file_close(f);
	}
	free(buf);
	printf("sizes 0, 1, chunk+-1, stripe+-1 ok\n");
}

static void test_random(unsigned ops)
{
	uint8_t *ref = calloc(1, REF_MAX), *buf = malloc(REF_MAX);
	struct cairn_file *f = create("random");
	uint64_t size = 0;

	for (unsigned i = 0; i < ops; i++) {
		unsigned op = (unsigned)(rnd() % 100);
		uint64_t off = rnd() % REF_MAX;
		size_t len = (size_t)(rnd() % (op < 5 ? REF_MAX / 4 : 20000)) + 1;

		if (off + len > REF_MAX)
			len = REF_MAX - off;
		if (op < 50) {
			tc_fill(rnd(), buf, len);
			put(f, buf, len, off);
			memcpy(ref + off, buf, len);
			size = off + len > size ? off + len : size;
		} else if (op < 93) {
			size_t want = off >= size ? 0 : (off + len > size ? size - off : len);

			check(f, ref + off, len, want, off);
		} else if (op < 97) {
			int ret = cairn_ftruncate(f, off);

			TC_CHECK(ret == 0, "truncate %" PRIu64 ": %s", off, error_str(ret));
			if (off < size)
				memset(ref + off, 0, size - off);
			size = off;
		} else {
			TC_CHECK(cairn_file_close(f) == 0, "close");
			f = reopen("random", O_RDWR);
			TC_CHECK(cairn_file_size(f) == size, "size %" PRIu64 " after reopen, want %" PRIu64,
				 cairn_file_size(f), size);
		}
	}
	check(f, ref, REF_MAX, size, 0);
	cairn_file_close(f);
	free(ref);
	free(buf);
	printf("%u random writes/reads/truncates ok\n", ops);
}

static void test_sparse(void)
{
	uint64_t base = (UINT64_C(5) << 30) + 12345;
	size_t len = 1u << 20;
	uint8_t *buf = malloc(len), *zero = calloc(1, len);
	struct cairn_file *f = create("sparse");
	int64_t t0;
	int ret;

	tc_fill(seed ^ 5, buf, len);
	put(f, buf, len, base);
	put(f, buf, 100, 1000);
	TC_CHECK(cairn_fsync(f, false) == 0, "fsync");
	cairn_file_close(f);
	f = reopen("sparse", O_RDWR);
	TC_CHECK(cairn_file_size(f) == base + len, "sparse size");
	check(f, buf, len, len, base);
	check(f, zero, len, len, base - len);
	check(f, zero, 4096, 4096, UINT64_C(4) << 30);
	check(f, buf, 100, 100, 1000);
	check(f, zero, 1000, 1000, 0);
	ret = cairn_ftruncate(f, base + 100);
	TC_CHECK(ret == 0, "truncate: %s", error_str(ret));
	ret = cairn_ftruncate(f, base + len);
	TC_CHECK(ret == 0, "truncate up: %s", error_str(ret));
	check(f, buf, 100, 100, base);
	check(f, zero, len - 100, len - 100, base + 100);
	t0 = tc_now_ms();
	ret = cairn_ftruncate(f, UINT64_C(4) << 30);
	TC_CHECK(ret == 0, "truncate to 4 GiB: %s", error_str(ret));
	printf("truncate over 1 GiB of stripes: %" PRId64 " ms\n", tc_now_ms() - t0);
	ret = cairn_ftruncate(f, base + len);
	TC_CHECK(ret == 0, "truncate up: %s", error_str(ret));
	check(f, zero, len, len, base);
	check(f, buf, 100, 100, 1000);
	cairn_file_close(f);
	free(buf);
	free(zero);
	printf("sparse file past 5 GiB ok\n");
}

static void test_corrupt(void)
{
	size_t len = 3u * K * CS;
	uint8_t *buf = malloc(len), b;
	struct cairn_file *f = create("corrupt");
	struct proto_map_pool pool;
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint64_t v = 0;
	char path[1024];
	int fd, ret;

	tc_fill(seed ^ 7, buf, len);
	put(f, buf, len, 0);
	tc_map_refresh(&cl);
	pool = tc_pool(&cl, ec ? "ec" : "rep");
	tc_acting(&cl, &pool, cairn_file_ino(f), 1, ids, up);
	ret = tc_chunk_read(&cl, ids[0], &pool, cairn_file_ino(f), 1, 0, 0, 1, 0, &b, NULL, &v);
	TC_CHECK(ret == 0, "chunk read: %s", error_str(ret));
	snprintf(path, sizeof(path), "%s/chunks/%u/%u/%016" PRIx64 ".%" PRIu64 ".%u.v%" PRIu64,
		 cl.osd[ids[0]].data, pool.id, placement_pg(cairn_file_ino(f), 1, pool.pg_count),
		 cairn_file_ino(f), (uint64_t)1, 0u, v);
	fd = open(path, O_RDWR);
	TC_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	TC_CHECK(pread(fd, &b, 1, 5000) == 1, "read chunk file");
	b ^= 0x40;
	TC_CHECK(pwrite(fd, &b, 1, 5000) == 1, "write chunk file");
	close(fd);
	check(f, buf, len, len, 0);
	check(f, buf + K * CS + 4000, 2000, 2000, K * CS + 4000);
	cairn_file_close(f);
	free(buf);
	printf("a flipped bit in a data chunk reads back right\n");
}

/* Runs cairn-copy -c CONF verb a b; returns its exit status. */
static int run_copy(const char *bin, const char *verb, const char *a, const char *b)
{
	pid_t pid = fork();
	int st;

	TC_CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execl(bin, bin, "-c", cl.conf, verb, a, b, (char *)NULL);
		_exit(127);
	}
	TC_CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* tools/examples/cairn-copy: a local file in and out again. */
static void test_example(const char *bin)
{
	size_t len = 3u * K * CS + 4321;
	uint8_t *buf = malloc(len), *back = malloc(len + 1);
	char in[600], out[600];
	FILE *fp;

	snprintf(in, sizeof(in), "%s/copy-in", cl.dir);
	snprintf(out, sizeof(out), "%s/copy-out", cl.dir);
	tc_fill(seed ^ 13, buf, len);
	fp = fopen(in, "w");
	TC_CHECK(fp && fwrite(buf, 1, len, fp) == len && fclose(fp) == 0, "write %s", in);
	TC_CHECK(run_copy(bin, "put", in, "/copied") == 0, "cairn-copy put");
	TC_CHECK(run_copy(bin, "get", "/copied", out) == 0, "cairn-copy get");
	fp = fopen(out, "r");
	TC_CHECK(fp && fread(back, 1, len + 1, fp) == len, "read %s", out);
	fclose(fp);
	TC_CHECK(memcmp(buf, back, len) == 0, "cairn-copy round trip differs");
	TC_CHECK(run_copy(bin, "get", "/no-such-file", out) == 1, "cairn-copy of a missing file");
	unlink(in);
	unlink(out);
	free(buf);
	free(back);
	printf("tools/examples/cairn-copy round trip ok\n");
}

static uint8_t *write_big(void)
{
	uint8_t *buf = malloc(BIG);
	struct cairn_file *f = create("big");
	int64_t t0 = tc_now_ms();

	tc_fill(seed ^ 64, buf, BIG);
	for (size_t off = 0; off < BIG; off += 4u << 20)
		put(f, buf + off, 4u << 20, off);
	TC_CHECK(cairn_file_close(f) == 0, "close");
	f = reopen("big", O_RDONLY);
	check(f, buf, BIG, BIG, 0);
	cairn_file_close(f);
	printf("64 MiB written and read back (%" PRId64 " ms)\n", tc_now_ms() - t0);
	return buf;
}

static void kill_osd(unsigned i)
{
	uint64_t ep;

	TC_CHECK(kill(cl.osd[i].pid, SIGKILL) == 0, "kill osd %u", i);
	tc_osd_wait_exit(&cl, i, WAIT_MS);
	tc_wait_osd(&cl, i, false, WAIT_MS);
	TC_CHECK(cairn_map_refresh(cn, &ep) == 0, "map refresh");
}

static void test_degraded(const uint8_t *big)
{
	size_t len = 5u * K * CS + 999;
	uint8_t *buf = malloc(len);
	struct cairn_file *f;
	unsigned kill_n = ec ? 3 : 2;

	for (unsigned n = 1; n <= kill_n; n++) {
		kill_osd(n * 2 - 1); /* hosts 1, 0, 2 in turn: never two of one host */
		f = reopen("big", O_RDONLY);
		if (n <= M) {
			check(f, big, BIG, BIG, 0);
			printf("big file reads right with %u OSDs killed\n", n);
		} else {
			uint8_t *got = malloc(BIG);
			ssize_t r = cairn_pread(f, got, BIG, 0);

			TC_CHECK(r == -EIO, "read with %u of 6 OSDs killed: %zd, want -EIO", n, r);
			free(got);
			printf("%u OSDs killed: -EIO\n", n);
		}
		cairn_file_close(f);
		if (n == 1) {
			tc_fill(seed ^ 11, buf, len);
			f = create("degraded");
			put(f, buf, len, 0);
			cairn_file_close(f);
		}
		if (n <= M) {
			f = reopen("degraded", O_RDONLY);
			check(f, buf, len, len, 0);
			cairn_file_close(f);
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	const char *ec_first =
	    "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\"; pg_count = 16; },"
	    "{ name = \"rep\"; scheme = \"rep:3\"; chunk_size = \"64K\"; media = \"nvme\"; pg_count = 16; }";
	const char *rep_first =
	    "{ name = \"rep\"; scheme = \"rep:3\"; chunk_size = \"64K\"; media = \"nvme\"; pg_count = 16; },"
	    "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\"; pg_count = 16; }";
	struct tc_opts o = {.osds = 6, .hosts = 3, .tmpfs_osd = -1,
			    .osd_cfg = "scrub_rate = \"0\"; workers = 2;"};
	const char *ops_env = getenv("CAIRN_DATA_OPS");
	uint8_t *big;
	int ret;

	if (argc < 4 || (strcmp(argv[3], "ec") && strcmp(argv[3], "rep"))) {
		printf("SKIP: usage: %s CAIRN-MDS CAIRN-OSD ec|rep [CAIRN-COPY [SEED]]\n", argv[0]);
		return 77;
	}
	ec = strcmp(argv[3], "ec") == 0;
	K = ec ? 4 : 1;
	M = 2;
	o.pools = ec ? ec_first : rep_first;
	seed = argc > 5 ? strtoull(argv[5], NULL, 0) : (uint64_t)time(NULL);
	rng = seed | 1;
	printf("seed %" PRIu64 " pool %s\n", seed, argv[3]);
	alarm(170);
	tc_start(&cl, argc, argv, &o);
	ret = cairn_open_conf(cl.conf, &cn);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	test_sizes();
	test_random(ops_env ? (unsigned)atoi(ops_env) : 2000);
	test_sparse();
	test_corrupt();
	if (argc > 4 && access(argv[4], X_OK) == 0)
		test_example(argv[4]);
	else
		printf("cairn-copy not given: example not run\n");
	big = write_big();
	test_degraded(big);
	free(big);
	cairn_close(cn);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
