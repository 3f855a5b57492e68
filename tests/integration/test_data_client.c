/*
 * test_data_client.c - what one libcairn client keeps of its open files,
 * on a real cluster (one cairn-mds shard, 6 cairn-osd processes (and a 7th later) in 3 fake
 * hosts, a 4+2 pool of 64 KiB chunks):
 *
 *   - write buffering: small writes of random lengths gathered into
 *     stripes, read back through the writing handle and through a second
 *     handle before close, the size reported by cairn_getattr() before
 *     close, the data seen whole by a second client after close;
 *   - cairn_file_flush(): what the handle wrote, seen whole by a second
 *     client while the handle stays open;
 *   - an mtime set while writes are unpublished survives the close (as
 *     tar does it: write, futimens, close);
 *   - O_APPEND from four threads with a handle each: every record intact,
 *     none lost or overlapping;
 *   - the stripe version cache: a file overwritten by a second client is
 *     read right through a handle that read it before, also after an OSD
 *     missed the overwrite while it was down and came back (every 4 KiB
 *     block read on its own, so a read served by that OSD alone would show
 *     the old bytes);
 *   - an OSD that joins (the seventh, down until then) while a file is
 *     open: the handle reads right (the stripes that now place a chunk on
 *     the new OSD are rebuilt from the others) and writes right;
 *   - a buffered write that cannot reach the OSDs (4 of 7 stopped) is
 *     reported by cairn_fsync().
 *
 * Usage: test_data_client CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary
 * is missing.  Daemons are stopped by pid (cluster.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "cluster.h"
#include "common/error.h"

#define CS (64u * 1024)
#define STRIPE (4u * CS)
#define WAIT_MS 10000
#define APPENDERS 4
#define RECORDS 300
#define RECLEN 100

static struct tc_cluster cl;
static struct cairn *cn, *cn2;
static uint64_t seed;

static struct cairn_file *open_name(struct cairn *c, const char *name, int flags, bool create)
{
	struct cairn_file *f = NULL;
	struct cairn_attr a;
	int ret;

	if (create) {
		ret = cairn_file_create(c, NULL, CAIRN_ROOT_INO, name, 0644, flags, &f);
		TC_CHECK(ret == 0, "create %s: %s", name, error_str(ret));
		return f;
	}
	ret = cairn_lookup(c, NULL, CAIRN_ROOT_INO, name, &a);
	TC_CHECK(ret == 0, "lookup %s: %s", name, error_str(ret));
	ret = cairn_file_open(c, NULL, a.ino, flags, &f);
	TC_CHECK(ret == 0, "open %s: %s", name, error_str(ret));
	return f;
}

static void put(struct cairn_file *f, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = cairn_pwrite(f, buf, len, off);

	TC_CHECK(n == (ssize_t)len, "pwrite %zu at %" PRIu64 ": %s", len, off,
		 n < 0 ? error_str((int)n) : "short");
}

static void check(struct cairn_file *f, const uint8_t *want, size_t len, uint64_t off,
		  const char *what)
{
	uint8_t *got = malloc(len ? len : 1);
	ssize_t n;

	TC_CHECK(got, "malloc");
	n = cairn_pread(f, got, len, off);
	TC_CHECK(n == (ssize_t)len, "%s: pread %zu at %" PRIu64 ": %zd (%s)", what, len, off, n,
		 n < 0 ? error_str((int)n) : "short");
	for (size_t i = 0; i < len; i++)
		TC_CHECK(got[i] == want[i], "%s: byte %" PRIu64 " is %u, want %u (seed %" PRIu64 ")",
			 what, off + i, got[i], want[i], seed);
	free(got);
}

static uint64_t getattr_size(struct cairn *c, uint64_t ino)
{
	struct cairn_attr a;
	int ret = cairn_getattr(c, NULL, ino, &a);

	TC_CHECK(ret == 0, "getattr: %s", error_str(ret));
	return a.size;
}

static void test_buffered(void)
{
	const size_t total = 40 * STRIPE + 12345;
	uint8_t *data = malloc(total);
	struct cairn_file *f, *g;
	uint64_t off = 0, x = seed | 1;

	tc_fill(seed, data, total);
	f = open_name(cn, "buffered", O_RDWR | O_EXCL, true);
	while (off < total) {
		size_t n;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = 1 + x % (3 * CS);
		n = n < total - off ? n : total - off;
		put(f, data + off, n, off);
		off += n;
		if (x % 17 == 0) /* read back what may still be in the buffer */
			check(f, data + off - n, n, off - n, "read-after-write");
	}
	TC_CHECK(cairn_file_size(f) == total, "handle size %" PRIu64, cairn_file_size(f));
	TC_CHECK(getattr_size(cn, cairn_file_ino(f)) == total,
		 "getattr before close: %" PRIu64 ", want %zu", getattr_size(cn, cairn_file_ino(f)),
		 total);
	g = open_name(cn, "buffered", O_RDONLY, false);
	TC_CHECK(cairn_file_size(g) == total, "second handle size %" PRIu64, cairn_file_size(g));
	check(g, data, total, 0, "second handle before close");
	TC_CHECK(cairn_file_close(f) == 0, "close");
	cairn_file_close(g);
	g = open_name(cn2, "buffered", O_RDONLY, false);
	TC_CHECK(cairn_file_size(g) == total, "second client size %" PRIu64, cairn_file_size(g));
	check(g, data, total, 0, "second client");
	cairn_file_close(g);
	free(data);
	printf("buffered small writes ok (%zu bytes)\n", total);
}

static void test_flush(void)
{
	uint8_t data[3 * CS + 11];
	struct cairn_file *f = open_name(cn, "flushed", O_RDWR | O_EXCL, true), *g;

	tc_fill(seed + 9, data, sizeof(data));
	put(f, data, sizeof(data), 0); /* less than a stripe: buffered */
	TC_CHECK(cairn_file_flush(f) == 0, "flush");
	g = open_name(cn2, "flushed", O_RDONLY, false);
	TC_CHECK(cairn_file_size(g) == sizeof(data), "size after flush %" PRIu64,
		 cairn_file_size(g));
	check(g, data, sizeof(data), 0, "second client after flush");
	cairn_file_close(g);
	TC_CHECK(cairn_file_close(f) == 0, "close");
	printf("flush ok\n");
}

static void test_mtime_kept(void)
{
	struct cairn_setattr sa = {.valid = CAIRN_SET_MTIME, .mtime = {1234567890, 5000}};
	struct cairn_file *f = open_name(cn, "utimes", O_RDWR | O_EXCL, true);
	struct cairn_attr a;
	uint8_t data[777];
	int ret;

	memset(data, 3, sizeof(data));
	put(f, data, sizeof(data), 0);
	ret = cairn_setattr(cn, NULL, cairn_file_ino(f), &sa, NULL);
	TC_CHECK(ret == 0, "setattr: %s", error_str(ret));
	TC_CHECK(cairn_file_close(f) == 0, "close");
	ret = cairn_lookup(cn2, NULL, CAIRN_ROOT_INO, "utimes", &a);
	TC_CHECK(ret == 0, "lookup: %s", error_str(ret));
	TC_CHECK(a.mtime.tv_sec == 1234567890 && a.mtime.tv_nsec == 5000 && a.size == sizeof(data),
		 "after close: mtime %lld.%09ld size %" PRIu64 ", want 1234567890.000005000 777",
		 (long long)a.mtime.tv_sec, a.mtime.tv_nsec, a.size);
	printf("mtime set before close kept ok\n");
}

struct appender {
	unsigned id;
	pthread_t t;
	int err;
};

static void *append_main(void *arg)
{
	struct appender *a = arg;
	struct cairn_file *f = open_name(cn, "append", O_WRONLY | O_APPEND, false);
	char rec[RECLEN];

	for (unsigned i = 0; i < RECORDS && !a->err; i++) {
		memset(rec, 'a' + (int)a->id, sizeof(rec));
		snprintf(rec, sizeof(rec), "%u:%06u:", a->id, i);
		if (cairn_pwrite(f, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
			a->err = 1;
	}
	if (cairn_file_close(f))
		a->err = 1;
	return NULL;
}

static void test_append(void)
{
	const size_t total = (size_t)APPENDERS * RECORDS * RECLEN;
	struct appender a[APPENDERS];
	bool seen[APPENDERS][RECORDS] = {{0}};
	uint8_t *got = malloc(total + 1);
	struct cairn_file *f = open_name(cn, "append", O_WRONLY | O_EXCL, true);

	TC_CHECK(cairn_file_close(f) == 0, "close");
	for (unsigned i = 0; i < APPENDERS; i++) {
		a[i] = (struct appender){.id = i};
		TC_CHECK(pthread_create(&a[i].t, NULL, append_main, &a[i]) == 0, "thread");
	}
	for (unsigned i = 0; i < APPENDERS; i++) {
		pthread_join(a[i].t, NULL);
		TC_CHECK(!a[i].err, "appender %u failed", i);
	}
	f = open_name(cn2, "append", O_RDONLY, false);
	TC_CHECK(cairn_file_size(f) == total, "size %" PRIu64 ", want %zu", cairn_file_size(f),
		 total);
	TC_CHECK(cairn_pread(f, got, total, 0) == (ssize_t)total, "read");
	for (size_t r = 0; r < total / RECLEN; r++) {
		const uint8_t *p = got + r * RECLEN;
		unsigned id, i;

		TC_CHECK(sscanf((const char *)p, "%u:%u:", &id, &i) == 2 && id < APPENDERS &&
			     i < RECORDS && !seen[id][i],
			 "record %zu is damaged or repeated", r);
		seen[id][i] = true;
		for (size_t j = strlen((const char *)p) + 1; j < RECLEN; j++)
			TC_CHECK(p[j] == 'a' + id, "record %zu byte %zu", r, j);
	}
	cairn_file_close(f);
	free(got);
	printf("O_APPEND from %d threads ok\n", APPENDERS);
}

/* Every 4 KiB block read on its own must be the generation want. */
static void check_blocks(struct cairn_file *f, const uint8_t *want, size_t len, const char *what)
{
	for (size_t off = 0; off < len; off += 4096)
		check(f, want + off, 4096, off, what);
}

static void overwrite(uint64_t s, uint8_t *buf, size_t len)
{
	struct cairn_file *w = open_name(cn2, "vcache", O_WRONLY, false);

	tc_fill(s, buf, len);
	put(w, buf, len, 0);
	TC_CHECK(cairn_file_close(w) == 0, "close");
}

static void wait_client_epoch(void);

static void test_version_cache(void)
{
	const size_t len = 8 * STRIPE;
	uint8_t *buf = malloc(len);
	struct cairn_file *f = open_name(cn, "vcache", O_RDWR | O_EXCL, true);

	tc_fill(seed + 1, buf, len);
	put(f, buf, len, 0);
	TC_CHECK(cairn_fsync(f, false) == 0, "fsync");
	check_blocks(f, buf, len, "first read");
	check_blocks(f, buf, len, "cached read");
	overwrite(seed + 2, buf, len);
	check_blocks(f, buf, len, "after an overwrite by another client");
	tc_osd_stop(&cl, 3);
	tc_wait_osd(&cl, 3, false, WAIT_MS);
	overwrite(seed + 3, buf, len); /* OSD 3 keeps the previous generation */
	tc_osd_start(&cl, 3);
	tc_wait_osd(&cl, 3, true, WAIT_MS);
	wait_client_epoch();
	check_blocks(f, buf, len, "after an OSD missed the overwrite");
	cairn_file_close(f);
	free(buf);
	printf("stripe version cache ok\n");
}

static void wait_client_epoch(void)
{
	for (int i = 0; i < 50 && cairn_map_epoch(cn) < tc_map_refresh(&cl); i++)
		usleep(100000);
}

static void test_new_osd(void)
{
	const size_t len = 8 * STRIPE + 999;
	uint8_t *buf = malloc(len), *more = malloc(STRIPE);
	struct cairn_file *f = open_name(cn, "joined", O_RDWR | O_EXCL, true), *g;

	tc_fill(seed + 5, buf, len);
	put(f, buf, len, 0);
	TC_CHECK(cairn_fsync(f, false) == 0, "fsync");
	check(f, buf, len, 0, "before the new OSD");
	tc_osd_start(&cl, 6);
	tc_wait_osd(&cl, 6, true, WAIT_MS);
	wait_client_epoch();
	check(f, buf, len, 0, "after a new OSD joined");
	check_blocks(f, buf, 8 * STRIPE, "blocks after a new OSD joined");
	tc_fill(seed + 6, more, STRIPE);
	memcpy(buf + CS / 2, more, STRIPE); /* across two stripes */
	put(f, more, STRIPE, CS / 2);
	check(f, buf, len, 0, "written after a new OSD joined");
	TC_CHECK(cairn_file_close(f) == 0, "close");
	g = open_name(cn2, "joined", O_RDONLY, false);
	check(g, buf, len, 0, "second client after a new OSD joined");
	cairn_file_close(g);
	free(more);
	free(buf);
	printf("an OSD joining under an open file ok\n");
}

static void test_deferred_error(void)
{
	static const unsigned victims[] = {0, 2, 4, 6};
	uint8_t small[1000];
	struct cairn_file *f = open_name(cn, "deferred", O_RDWR | O_EXCL, true);
	int ret;

	memset(small, 7, sizeof(small));
	for (unsigned i = 0; i < 4; i++)
		tc_osd_stop(&cl, victims[i]);
	for (unsigned i = 0; i < 4; i++)
		tc_wait_osd(&cl, victims[i], false, WAIT_MS);
	put(f, small, sizeof(small), 10); /* buffered: nothing sent yet */
	ret = cairn_fsync(f, false);
	TC_CHECK(ret == -EIO, "fsync with 3 of 7 OSDs up: %d (%s), want -EIO", ret,
		 error_str(ret));
	TC_CHECK(cairn_fsync(f, false) == 0, "the error is reported once");
	cairn_file_close(f);
	for (unsigned i = 0; i < 4; i++)
		tc_osd_start(&cl, victims[i]);
	for (unsigned i = 0; i < 4; i++) /* up before the end stops them again */
		tc_wait_osd(&cl, victims[i], true, WAIT_MS);
	printf("write-out error reported by fsync ok\n");
}

int main(int argc, char **argv)
{
	struct tc_opts o = {.osds = 7, .hosts = 3, .tmpfs_osd = -1,
			    .osd_cfg = "scrub_rate = \"0\"; workers = 2;",
			    .pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; "
				     "media = \"nvme\"; pg_count = 16; }"};
	int ret;

	if (argc < 3) {
		printf("SKIP: usage: %s CAIRN-MDS CAIRN-OSD [SEED]\n", argv[0]);
		return 77;
	}
	seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	printf("seed %" PRIu64 "\n", seed);
	alarm(170);
	tc_start(&cl, argc, argv, &o);
	tc_osd_stop(&cl, 6); /* joins later */
	tc_wait_osd(&cl, 6, false, WAIT_MS);
	ret = cairn_open_conf(cl.conf, &cn);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	ret = cairn_open_conf(cl.conf, &cn2);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	test_buffered();
	test_flush();
	test_mtime_kept();
	test_append();
	test_version_cache();
	test_new_osd();
	test_deferred_error();
	cairn_close(cn2);
	cairn_close(cn);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
