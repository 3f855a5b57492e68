/*
 * test_store.c - the OSD chunk store on real file systems: format and open
 * checks; full and partial round trips (0, 1, 4095, 4096, 4097 bytes, 1 and
 * 4 MiB) against a model buffer; versions, trim, idempotent re-writes,
 * -ESTALE; one flipped bit in a stored file (data, header, header padding;
 * raw and compressed) gives -CAIRN_ECHECKSUM while other blocks and chunks
 * stay readable; per-PG listing with cursors; compression and usage
 * counters; disk full on a 4 MiB tmpfs; injected EIO, ENOSPC and short
 * writes; concurrent writers on different chunks and on one chunk (no lost
 * update; every read, of any range, is exactly one version); temporary
 * files removed at reopen; O_DIRECT on a real disk (/var/tmp).
 *
 * Each test gets a fresh store in a mkdtemp directory, removed afterwards.
 * Random data comes from a seeded generator; the seed is printed and can be
 * set with CAIRN_TEST_SEED.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/error.h"
#include "osd/chunkfmt.h"
#include "osd/store.h"

#define MiB (1u << 20)

static uint64_t seed0;

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill_random(uint64_t seed, uint8_t *buf, size_t len)
{
	uint64_t s = seed ^ seed0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v = rng_next(&s);

		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = (uint8_t)rng_next(&s);
}

/* Text-like data that zstd shrinks well. */
static void fill_text(uint64_t seed, uint8_t *buf, size_t len)
{
	static const char *const words[] = {"stripe ", "chunk ", "parity ", "osd ",
					    "cairn ", "shard ", "epoch ", "inode "};
	uint64_t s = seed ^ seed0;
	size_t i = 0;

	while (i < len) {
		const char *w = words[rng_next(&s) % 8];

		for (size_t j = 0; w[j] && i < len; j++)
			buf[i++] = (uint8_t)w[j];
	}
}

static uint8_t *xmalloc(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	return p;
}

static struct osd_chunk_id cid(uint32_t pool, uint32_t pg, uint64_t ino, uint64_t stripe,
			       uint16_t idx)
{
	struct osd_chunk_id id = {.pool = pool, .pg = pg, .ino = ino, .stripe = stripe, .idx = idx};

	return id;
}

/* ---- fixture -------------------------------------------------------------- */

struct fx {
	char base[128]; /* mkdtemp directory (maybe a tmpfs mount point) */
	char dir[160];	/* the store: base/data */
	bool mounted;
	struct osd_store *st;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct fx *fx_new(const char *parent)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "%s/cairn-osd-XXXXXX", parent);
	assert_non_null(mkdtemp(f->base));
	snprintf(f->dir, sizeof(f->dir), "%s/data", f->base);
	return f;
}

static void fx_open(struct fx *f, bool direct)
{
	struct osd_store_opts o = {.direct_io = direct, .fault = "none"};

	assert_int_equal(osd_store_open(f->dir, 7, &o, &f->st), 0);
}

static void fx_reopen(struct fx *f, bool direct)
{
	osd_store_close(f->st);
	f->st = NULL;
	fx_open(f, direct);
}

static int setup_at(void **state, const char *parent, bool direct)
{
	struct fx *f = fx_new(parent);

	assert_int_equal(osd_store_format(f->dir, 7), 0);
	fx_open(f, direct);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_at(state, "/tmp", false);
}

static int setup_direct(void **state)
{
	return setup_at(state, "/var/tmp", true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	osd_store_close(f->st);
	if (f->mounted)
		umount2(f->base, MNT_DETACH);
	nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Path of a version's file. */
static void chunk_path(const struct fx *f, const struct osd_chunk_id *id, uint64_t v, char *out,
		       size_t cap)
{
	char name[OSD_CHUNKFMT_NAME_MAX];

	osd_chunkfmt_name(name, sizeof(name), id->ino, id->stripe, id->idx, v);
	snprintf(out, cap, "%s/chunks/%u/%u/%s", f->dir, id->pool, id->pg, name);
}

static bool chunk_file_exists(const struct fx *f, const struct osd_chunk_id *id, uint64_t v)
{
	char path[512];

	chunk_path(f, id, v, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* Number of ".tmp." files in every PG directory of the store. */
static int count_tmp(const struct fx *f)
{
	char path[1024];
	int n = 0;
	DIR *pools, *pgs, *files;
	struct dirent *a, *b, *c;

	snprintf(path, sizeof(path), "%s/chunks", f->dir);
	pools = opendir(path);
	assert_non_null(pools);
	while ((a = readdir(pools)) != NULL) {
		if (a->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/chunks/%s", f->dir, a->d_name);
		pgs = opendir(path);
		assert_non_null(pgs);
		while ((b = readdir(pgs)) != NULL) {
			if (b->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/chunks/%s/%s", f->dir, a->d_name,
				 b->d_name);
			files = opendir(path);
			assert_non_null(files);
			while ((c = readdir(files)) != NULL)
				n += osd_chunkfmt_is_tmp(c->d_name);
			closedir(files);
		}
		closedir(pgs);
	}
	closedir(pools);
	return n;
}

static void flip_bit(const struct fx *f, const struct osd_chunk_id *id, uint64_t v, off_t off,
		     unsigned bit)
{
	char path[512];
	uint8_t b;
	int fd;

	chunk_path(f, id, v, path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= (uint8_t)(1u << bit);
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/* ---- checks ---------------------------------------------------------------- */

/* Reads the whole version and a few sub-ranges, comparing with want. */
static void check_chunk(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
			const uint8_t *want, size_t len, uint64_t seed)
{
	struct osd_read_result res;
	uint8_t *buf = xmalloc(len + 8192);
	uint64_t s = seed;

	memset(buf, 0xee, len + 8192);
	assert_int_equal(osd_store_read(st, id, version, 0, buf, len + 8192, &res), 0);
	assert_int_equal(res.length, len);
	assert_int_equal(res.bytes, len);
	if (version)
		assert_int_equal(res.version, version);
	assert_memory_equal(buf, want, len);
	for (int i = 0; i < 12 && len > 0; i++) {
		uint64_t off = rng_next(&s) % len;
		size_t n = (size_t)(rng_next(&s) % (len - off + 1));

		if (i == 0) {
			off = len / 4096 * 4096 == len ? 0 : len / 4096 * 4096; /* the tail block */
			n = (size_t)(len - off);
		}
		assert_int_equal(osd_store_read(st, id, version, off, buf, n, &res), 0);
		assert_int_equal(res.bytes, n);
		assert_memory_equal(buf, want + off, n);
	}
	/* Past the end: nothing. */
	assert_int_equal(osd_store_read(st, id, version, len, buf, 100, &res), 0);
	assert_int_equal(res.bytes, 0);
	assert_int_equal(osd_store_read(st, id, version, len + 5000, buf, 100, &res), 0);
	assert_int_equal(res.bytes, 0);
	assert_int_equal(osd_store_verify(st, id, version), 0);
	free(buf);
}

static uint64_t newest(struct osd_store *st, const struct osd_chunk_id *id)
{
	struct osd_chunk_version v[16];
	size_t n;

	assert_int_equal(osd_store_versions(st, id, v, 16, &n), 0);
	assert_true(n >= 1 && n <= 16);
	return v[n - 1].version;
}

/* ---- format and open --------------------------------------------------------- */

static void write_sb(const struct fx *f, const uint8_t *buf, size_t len)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/superblock", f->dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

static void test_format_open(void **state)
{
	struct fx *f = *state;
	struct osd_store *other = NULL;
	struct osd_store_info info;
	struct osd_chunkfmt_sb sb;
	uint8_t good[OSD_CHUNKFMT_SB_LEN], bad[OSD_CHUNKFMT_SB_LEN];
	char path[256];
	FILE *fp;

	osd_store_info(f->st, &info);
	assert_int_equal(info.osd_id, 7);
	assert_int_equal(info.format, OSD_STORE_FORMAT);
	assert_int_equal(strlen(info.uuid_str), 36);
	assert_int_equal(osd_store_format(f->dir, 7), -EEXIST);
	/* Locked by the open store. */
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &other), -EBUSY);
	osd_store_close(f->st);
	f->st = NULL;
	assert_int_equal(osd_store_open(f->dir, 8, NULL, &other), -EINVAL);
	snprintf(path, sizeof(path), "%s/nothing", f->base);
	assert_int_equal(osd_store_open(path, 7, NULL, &other), -ENOENT);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(osd_store_open(path, 7, NULL, &other), -ENOENT);

	snprintf(path, sizeof(path), "%s/superblock", f->dir);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(good, 1, sizeof(good), fp), sizeof(good));
	fclose(fp);
	memcpy(bad, good, sizeof(bad));
	bad[20] ^= 4;
	write_sb(f, bad, sizeof(bad));
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &other), -CAIRN_ECHECKSUM);
	memcpy(bad, good, sizeof(bad));
	bad[0] = 'X';
	write_sb(f, bad, sizeof(bad));
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &other), -EUCLEAN);
	write_sb(f, good, 10);
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &other), -EUCLEAN);
	assert_int_equal(osd_chunkfmt_sb_decode(good, sizeof(good), &sb), 0);
	sb.format = OSD_STORE_FORMAT + 1;
	osd_chunkfmt_sb_encode(bad, &sb);
	write_sb(f, bad, sizeof(bad));
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &other), -ENOTSUP);

	write_sb(f, good, sizeof(good));
	{
		struct osd_store_opts o = {.compress_level = 99};

		assert_int_equal(osd_store_open(f->dir, 7, &o, &other), -EINVAL);
		o.compress_level = 0;
		o.fault = "write:0:eio";
		assert_int_equal(osd_store_open(f->dir, 7, &o, &other), -EINVAL);
		o.fault = "flush:1:eio";
		assert_int_equal(osd_store_open(f->dir, 7, &o, &other), -EINVAL);
		o.fault = "read:1:short";
		assert_int_equal(osd_store_open(f->dir, 7, &o, &other), -EINVAL);
	}
	fx_open(f, false);
	osd_store_info(f->st, &info);
	assert_int_equal(info.osd_id, 7);
	assert_false(info.direct_io);
}

/* ---- round trips ---------------------------------------------------------- */

static const size_t sizes[] = {0, 1, 4095, 4096, 4097, MiB, 4 * MiB};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Full writes of every size, then partial writes checked against a model. */
static void round_trips(struct fx *f, bool direct, bool compress)
{
	uint32_t flags = compress ? OSD_STORE_COMPRESS : 0;
	uint64_t s = 1000 + compress;

	for (size_t i = 0; i < NSIZES; i++) {
		struct osd_chunk_id id =
			cid(1 + compress, (uint32_t)i, 0x100 + i, i, (uint16_t)(i % 3));
		size_t len = sizes[i], cap = 4 * MiB + 64 * 1024;
		/* An unaligned caller buffer in O_DIRECT mode takes the copy path. */
		uint8_t *mem = xmalloc(cap + 1), *data = mem + (direct && i % 2);
		uint8_t *model = xmalloc(cap);
		uint64_t v = 1;

		(compress && i % 2 ? fill_text : fill_random)(i, data, len);
		assert_int_equal(osd_store_write(f->st, &id, v, 0, data, len, flags), 0);
		memcpy(model, data, len);
		check_chunk(f->st, &id, v, model, len, i);
		for (int k = 0; k < 4; k++) {
			uint64_t off = rng_next(&s) % (len + 5000);
			size_t n = (size_t)(rng_next(&s) % (k == 3 ? 9000 : len / 2 + 2));
			size_t nlen;

			if (k == 0) {
				off = 4096; /* block-aligned */
				n = 4096;
			}
			nlen = off + n > len ? (size_t)(off + n) : len;
			fill_random(s, data, n);
			assert_int_equal(osd_store_write(f->st, &id, ++v, off, data, n, flags), 0);
			if (off > len)
				memset(model + len, 0, (size_t)(off - len));
			memcpy(model + off, data, n);
			len = nlen;
			check_chunk(f->st, &id, v, model, len, s);
		}
		assert_int_equal(newest(f->st, &id), v);
		free(mem);
		free(model);
	}
}

static void test_round_trip(void **state)
{
	round_trips(*state, false, false);
}

static void test_round_trip_compressed(void **state)
{
	round_trips(*state, false, true);
}

static void test_direct_io(void **state)
{
	struct fx *f = *state;
	struct osd_store_info info;
	struct osd_chunk_id id = cid(1, 0, 0x100 + 5, 5, 5 % 3);
	uint8_t *want = xmalloc(MiB);

	osd_store_info(f->st, &info);
	if (!info.direct_io)
		printf("note: /var/tmp refuses O_DIRECT; the store uses buffered I/O\n");
	round_trips(f, true, false);
	round_trips(f, true, true);
	/* The same files read back without O_DIRECT, and again with it. */
	fx_reopen(f, false);
	fill_random(99, want, MiB);
	assert_int_equal(osd_store_write(f->st, &id, 100, 0, want, MiB, OSD_STORE_REPLACE), 0);
	fx_reopen(f, true);
	check_chunk(f->st, &id, 100, want, MiB, 5);
	free(want);
}

static void test_partial_new_chunk(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id id = cid(2, 9, 42, 0, 1);
	uint8_t data[100], *model = xmalloc(5100);

	fill_random(7, data, sizeof(data));
	assert_int_equal(osd_store_write(f->st, &id, 3, 5000, data, sizeof(data), 0), 0);
	memset(model, 0, 5000);
	memcpy(model + 5000, data, sizeof(data));
	check_chunk(f->st, &id, 3, model, 5100, 1);
	/* A zero-length write at an offset extends with zeros. */
	assert_int_equal(osd_store_write(f->st, &id, 4, 6000, NULL, 0, 0), 0);
	model = realloc(model, 6000);
	assert_non_null(model);
	memset(model + 5100, 0, 900);
	check_chunk(f->st, &id, 4, model, 6000, 2);
	free(model);
}

/* ---- versions ----------------------------------------------------------------- */

static void test_versions(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id id = cid(1, 3, 0xabc, 2, 0), none = cid(1, 3, 0xabd, 2, 0);
	uint8_t *v1 = xmalloc(MiB), *v2 = xmalloc(MiB), *v3 = xmalloc(2 * MiB);
	struct osd_chunk_version vv[8];
	struct osd_read_result res;
	size_t n;

	fill_random(1, v1, MiB);
	assert_int_equal(osd_store_write(f->st, &id, 10, 0, v1, MiB, 0), 0);
	memcpy(v2, v1, MiB);
	fill_random(2, v2 + 1000, 3000);
	assert_int_equal(osd_store_write(f->st, &id, 11, 1000, v2 + 1000, 3000, 0), 0);
	memcpy(v3, v2, MiB);
	fill_random(3, v3 + MiB - 10, MiB + 10);
	assert_int_equal(osd_store_write(f->st, &id, 15, MiB - 10, v3 + MiB - 10, MiB + 10, 0), 0);
	check_chunk(f->st, &id, 10, v1, MiB, 1);
	check_chunk(f->st, &id, 11, v2, MiB, 2);
	check_chunk(f->st, &id, 15, v3, 2 * MiB, 3);
	check_chunk(f->st, &id, 0, v3, 2 * MiB, 4);
	assert_int_equal(osd_store_read(f->st, &id, 12, 0, v1, 10, &res), -ENOENT);
	assert_int_equal(osd_store_read(f->st, &none, 0, 0, v1, 10, &res), -ENOENT);
	assert_int_equal(osd_store_versions(f->st, &id, vv, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_true(vv[0].version == 10 && vv[1].version == 11 && vv[2].version == 15);
	assert_true(vv[0].length == MiB && vv[2].length == 2 * MiB && vv[2].stored == 2 * MiB);

	/* Older or equal-but-different versions are stale. */
	assert_int_equal(osd_store_write(f->st, &id, 14, 0, v1, 10, 0), -ESTALE);
	assert_int_equal(osd_store_write(f->st, &id, 11, 1000, v2 + 1000, 3000, 0), -ESTALE);
	assert_int_equal(osd_store_write(f->st, &id, 15, 1000, v1 + 1000, 10, 0), -ESTALE);
	assert_int_equal(osd_store_write(f->st, &id, 15, 2 * MiB - 5, v1, 10, 0), -ESTALE);
	assert_int_equal(
		osd_store_write(f->st, &id, 15, MiB - 10, v3 + MiB - 10, 10, OSD_STORE_REPLACE),
		-ESTALE);
	/* The same write again (a retry) is accepted and changes nothing. */
	assert_int_equal(osd_store_write(f->st, &id, 15, MiB - 10, v3 + MiB - 10, MiB + 10, 0), 0);
	assert_int_equal(osd_store_write(f->st, &id, 15, 0, v3, 4096, 0), 0);
	assert_int_equal(osd_store_versions(f->st, &id, vv, 8, &n), 0);
	assert_int_equal(n, 3);
	check_chunk(f->st, &id, 0, v3, 2 * MiB, 5);

	/* Trim keeps keep_version and newer, and always the newest. */
	assert_int_equal(osd_store_trim(f->st, &id, 11), 0);
	assert_int_equal(osd_store_versions(f->st, &id, vv, 8, &n), 0);
	assert_true(n == 2 && vv[0].version == 11);
	assert_false(chunk_file_exists(f, &id, 10));
	assert_int_equal(osd_store_read(f->st, &id, 10, 0, v1, 10, &res), -ENOENT);
	check_chunk(f->st, &id, 11, v2, MiB, 6);
	assert_int_equal(osd_store_trim(f->st, &id, 1000), 0);
	assert_int_equal(osd_store_versions(f->st, &id, vv, 8, &n), 0);
	assert_true(n == 1 && vv[0].version == 15);
	check_chunk(f->st, &id, 0, v3, 2 * MiB, 7);
	assert_int_equal(osd_store_trim(f->st, &none, 5), -ENOENT);

	/* REPLACE: the new version is only the written range. */
	assert_int_equal(osd_store_write(f->st, &id, 16, 100, v1, 5000, OSD_STORE_REPLACE), 0);
	memset(v2, 0, 100);
	memcpy(v2 + 100, v1, 5000);
	check_chunk(f->st, &id, 16, v2, 5100, 8);
	assert_int_equal(osd_store_write(f->st, &id, 16, 100, v1, 5000, OSD_STORE_REPLACE), 0);
	check_chunk(f->st, &id, 15, v3, 2 * MiB, 9);
	free(v1);
	free(v2);
	free(v3);
}

static void test_truncate_delete(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id id = cid(4, 1, 77, 0, 2);
	uint8_t *data = xmalloc(3 * 4096), *model = xmalloc(5 * 4096);
	struct osd_read_result res;
	size_t n, deleted;

	fill_random(5, data, 3 * 4096);
	assert_int_equal(osd_store_truncate(f->st, &id, 1, 10, 0), -ENOENT);
	assert_int_equal(osd_store_write(f->st, &id, 1, 0, data, 3 * 4096, 0), 0);
	assert_int_equal(osd_store_truncate(f->st, &id, 2, 5000, 0), 0);
	check_chunk(f->st, &id, 2, data, 5000, 1);
	assert_int_equal(osd_store_truncate(f->st, &id, 2, 5000, 0), 0); /* idempotent */
	assert_int_equal(osd_store_truncate(f->st, &id, 2, 5001, 0), -ESTALE);
	assert_int_equal(osd_store_truncate(f->st, &id, 3, 5 * 4096, OSD_STORE_COMPRESS), 0);
	memcpy(model, data, 5000);
	memset(model + 5000, 0, 5 * 4096 - 5000);
	check_chunk(f->st, &id, 3, model, 5 * 4096, 2);
	check_chunk(f->st, &id, 1, data, 3 * 4096, 3);
	assert_int_equal(osd_store_truncate(f->st, &id, 4, 0, 0), 0);
	check_chunk(f->st, &id, 4, model, 0, 4);

	assert_int_equal(osd_store_delete(f->st, &id), 0);
	assert_int_equal(osd_store_read(f->st, &id, 0, 0, data, 10, &res), -ENOENT);
	assert_int_equal(osd_store_versions(f->st, &id, NULL, 0, &n), -ENOENT);
	for (uint64_t v = 1; v <= 4; v++)
		assert_false(chunk_file_exists(f, &id, v));
	assert_int_equal(osd_store_delete(f->st, &id), -ENOENT);
	/* A deleted chunk can be written again from any version. */
	assert_int_equal(osd_store_write(f->st, &id, 1, 0, data, 10, 0), 0);
	check_chunk(f->st, &id, 1, data, 10, 5);

	/* File truncation: stripes >= 2 of ino 500 go, in every PG; others stay. */
	for (uint64_t s = 0; s < 6; s++)
		for (uint16_t x = 0; x < 3; x++) {
			struct osd_chunk_id a = cid(4, (uint32_t)(s * 7 % 5), 500, s, x);
			struct osd_chunk_id b = cid(4, (uint32_t)(s * 7 % 5), 501, s, x);
			struct osd_chunk_id c = cid(5, (uint32_t)(s * 7 % 5), 500, s, x);

			assert_int_equal(osd_store_write(f->st, &a, 1, 0, data, 100, 0), 0);
			assert_int_equal(osd_store_write(f->st, &a, 2, 0, data, 200, 0), 0);
			assert_int_equal(osd_store_write(f->st, &b, 1, 0, data, 100, 0), 0);
			assert_int_equal(osd_store_write(f->st, &c, 1, 0, data, 100, 0), 0);
		}
	assert_int_equal(osd_store_delete_from(f->st, 4, 500, 2, &deleted), 0);
	assert_int_equal(deleted, 4 * 3);
	for (uint64_t s = 0; s < 6; s++)
		for (uint16_t x = 0; x < 3; x++) {
			struct osd_chunk_id a = cid(4, (uint32_t)(s * 7 % 5), 500, s, x);
			struct osd_chunk_id b = cid(4, (uint32_t)(s * 7 % 5), 501, s, x);
			struct osd_chunk_id c = cid(5, (uint32_t)(s * 7 % 5), 500, s, x);

			assert_int_equal(osd_store_read(f->st, &a, 0, 0, model, 200, &res),
					 s >= 2 ? -ENOENT : 0);
			assert_int_equal(osd_store_read(f->st, &b, 0, 0, model, 200, &res), 0);
			assert_int_equal(osd_store_read(f->st, &c, 0, 0, model, 200, &res), 0);
		}
	assert_int_equal(osd_store_delete_from(f->st, 4, 500, 2, &deleted), 0);
	assert_int_equal(deleted, 0);
	free(data);
	free(model);
}

/* ---- checksums --------------------------------------------------------------- */

static void expect_bad(struct osd_store *st, const struct osd_chunk_id *id, uint64_t off,
		       size_t n)
{
	uint8_t *buf = xmalloc(n);
	struct osd_read_result res;

	memset(buf, 0x5a, n);
	assert_int_equal(osd_store_read(st, id, 0, off, buf, n, &res), -CAIRN_ECHECKSUM);
	/* No chunk bytes handed out: buf is untouched or cleared. */
	for (size_t i = 0; i < n; i++)
		assert_true(buf[i] == buf[0] && (buf[0] == 0 || buf[0] == 0x5a));
	free(buf);
}

static void test_checksums(void **state)
{
	struct fx *f = *state;
	const size_t len = 64 * 1024 + 100;
	struct osd_chunk_id raw = cid(1, 5, 1, 0, 0), zst = cid(1, 5, 1, 0, 1);
	struct osd_chunk_id hdr = cid(1, 5, 1, 0, 2), pad = cid(1, 6, 1, 1, 0);
	struct osd_chunk_id zhdr = cid(1, 6, 1, 1, 1), good = cid(1, 5, 2, 0, 0);
	uint8_t *rdata = xmalloc(len), *tdata = xmalloc(len), *buf = xmalloc(len);
	struct osd_chunk_version vv[2];
	size_t hl = osd_chunkfmt_hdr_len(len), n;

	fill_random(11, rdata, len);
	fill_text(12, tdata, len);
	assert_int_equal(osd_store_write(f->st, &raw, 1, 0, rdata, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &zst, 1, 0, tdata, len, OSD_STORE_COMPRESS), 0);
	assert_int_equal(osd_store_write(f->st, &hdr, 1, 0, rdata, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &pad, 1, 0, rdata, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &zhdr, 1, 0, tdata, len, OSD_STORE_COMPRESS), 0);
	assert_int_equal(osd_store_write(f->st, &good, 1, 0, rdata, len, 0), 0);
	assert_int_equal(osd_store_versions(f->st, &zst, vv, 2, &n), 0);
	assert_true(vv[0].flags & OSD_CHUNK_ZSTD);
	assert_true(vv[0].stored < len / 2);

	/* Raw data: block 5 damaged; other blocks of the same chunk read fine. */
	flip_bit(f, &raw, 1, (off_t)(hl + 5 * 4096 + 123), 3);
	expect_bad(f->st, &raw, 5 * 4096, 10);
	expect_bad(f->st, &raw, 0, len);
	expect_bad(f->st, &raw, 4 * 4096, 2 * 4096);
	assert_int_equal(osd_store_read(f->st, &raw, 0, 0, buf, 5 * 4096, NULL), 0);
	assert_memory_equal(buf, rdata, 5 * 4096);
	assert_int_equal(osd_store_read(f->st, &raw, 0, 6 * 4096, buf, len - 6 * 4096, NULL), 0);
	assert_memory_equal(buf, rdata + 6 * 4096, len - 6 * 4096);
	assert_int_equal(osd_store_verify(f->st, &raw, 0), -CAIRN_ECHECKSUM);
	/* A partial write needs the damaged version: refused; a replacement works. */
	assert_int_equal(osd_store_write(f->st, &raw, 2, 0, rdata, 10, 0), -CAIRN_ECHECKSUM);
	assert_int_equal(osd_store_write(f->st, &raw, 2, 0, rdata, len, OSD_STORE_REPLACE), 0);
	check_chunk(f->st, &raw, 2, rdata, len, 1);

	/* Compressed data: any damage fails every range. */
	flip_bit(f, &zst, 1, (off_t)(hl + 100), 0);
	expect_bad(f->st, &zst, 0, 10);
	expect_bad(f->st, &zst, len - 10, 10);
	/* Headers: a field, the CRC table, the zero padding. */
	flip_bit(f, &hdr, 1, 30, 1);
	expect_bad(f->st, &hdr, 0, 10);
	flip_bit(f, &pad, 1, 4000, 7);
	expect_bad(f->st, &pad, len - 1, 1);
	assert_int_equal(osd_store_verify(f->st, &pad, 1), -CAIRN_ECHECKSUM);
	flip_bit(f, &zhdr, 1, 90, 2);
	expect_bad(f->st, &zhdr, 0, len);
	check_chunk(f->st, &good, 1, rdata, len, 2);

	/* After a restart the damaged headers are listed as damaged, still refused. */
	fx_reopen(f, false);
	assert_int_equal(osd_store_versions(f->st, &hdr, vv, 2, &n), 0);
	assert_true(n == 1 && (vv[0].flags & OSD_CHUNK_DAMAGED));
	expect_bad(f->st, &hdr, 0, 10);
	expect_bad(f->st, &zhdr, 0, 10);
	expect_bad(f->st, &zst, 0, 10);
	expect_bad(f->st, &pad, 0, 10);
	check_chunk(f->st, &good, 1, rdata, len, 3);
	check_chunk(f->st, &raw, 2, rdata, len, 4);
	free(rdata);
	free(tdata);
	free(buf);
}

/*
 * Repair: a damaged version (old or newest, raw or compressed, damaged data
 * or header) is rewritten in place with the same version number; the file
 * changes, the other versions stay, and a version that does not exist is
 * -ENOENT.
 */
static void test_repair(void **state)
{
	struct fx *f = *state;
	const size_t len = 3 * 4096 + 17;
	struct osd_chunk_id a = cid(2, 3, 9, 1, 4), z = cid(2, 3, 9, 1, 5);
	uint8_t *d1 = xmalloc(len), *d2 = xmalloc(len);
	size_t hl = osd_chunkfmt_hdr_len(len), n;
	struct osd_chunk_version vv[4];
	struct stat before, after;
	char path[512];

	fill_random(21, d1, len);
	fill_random(22, d2, len);
	assert_int_equal(osd_store_write(f->st, &a, 5, 0, d1, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &a, 9, 0, d2, len, OSD_STORE_REPLACE), 0);
	/* The older version 5 is damaged, then repaired; 9 is untouched. */
	flip_bit(f, &a, 5, (off_t)(hl + 2 * 4096 + 1), 6);
	assert_int_equal(osd_store_verify(f->st, &a, 5), -CAIRN_ECHECKSUM);
	chunk_path(f, &a, 5, path, sizeof(path));
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(osd_store_write(f->st, &a, 5, 0, d1, len, OSD_STORE_REPAIR), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino); /* a new file renamed over the old */
	check_chunk(f->st, &a, 5, d1, len, 5);
	check_chunk(f->st, &a, 9, d2, len, 6);
	assert_int_equal(newest(f->st, &a), 9);
	/* The newest, damaged in its header: repaired, then survives a restart. */
	flip_bit(f, &a, 9, 20, 1);
	assert_int_equal(osd_store_verify(f->st, &a, 0), -CAIRN_ECHECKSUM);
	assert_int_equal(osd_store_write(f->st, &a, 9, 0, d2, len, OSD_STORE_REPAIR), 0);
	fx_reopen(f, false);
	check_chunk(f->st, &a, 9, d2, len, 7);
	check_chunk(f->st, &a, 5, d1, len, 8);
	/* Compressed content stays compressed when asked. */
	fill_text(23, d1, len);
	assert_int_equal(osd_store_write(f->st, &z, 1, 0, d1, len, OSD_STORE_COMPRESS), 0);
	flip_bit(f, &z, 1, (off_t)(hl + 10), 2);
	assert_int_equal(osd_store_verify(f->st, &z, 1), -CAIRN_ECHECKSUM);
	assert_int_equal(osd_store_write(f->st, &z, 1, 0, d1, len,
					 OSD_STORE_REPAIR | OSD_STORE_COMPRESS), 0);
	assert_int_equal(osd_store_versions(f->st, &z, vv, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_true(vv[0].flags & OSD_CHUNK_ZSTD);
	check_chunk(f->st, &z, 1, d1, len, 9);
	/* Only existing versions can be repaired. */
	assert_int_equal(osd_store_write(f->st, &z, 2, 0, d1, len, OSD_STORE_REPAIR), -ENOENT);
	assert_int_equal(osd_store_write(f->st, &a, 7, 0, d1, len, OSD_STORE_REPAIR), -ENOENT);
	assert_int_equal(count_tmp(f), 0);
	free(d1);
	free(d2);
}

/* Drop: one version goes (newest or not, durably); the chunk with its last. */
static void test_drop(void **state)
{
	struct fx *f = *state;
	const size_t len = 5000;
	struct osd_chunk_id a = cid(3, 1, 77, 2, 1);
	uint8_t *d1 = xmalloc(len), *d2 = xmalloc(len), *d3 = xmalloc(len);

	fill_random(31, d1, len);
	fill_random(32, d2, len);
	fill_random(33, d3, len);
	assert_int_equal(osd_store_write(f->st, &a, 10, 0, d1, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &a, 20, 0, d2, len, 0), 0);
	assert_int_equal(osd_store_write(f->st, &a, 30, 0, d3, len, 0), 0);
	/* A failed write undone: the newest goes, the one before is newest again. */
	assert_int_equal(osd_store_drop(f->st, &a, 30), 0);
	assert_false(chunk_file_exists(f, &a, 30));
	assert_int_equal(newest(f->st, &a), 20);
	check_chunk(f->st, &a, 0, d2, len, 1);
	/* The same number can come back (the store itself does not forbid it). */
	assert_int_equal(osd_store_write(f->st, &a, 30, 0, d1, len, OSD_STORE_REPLACE), 0);
	check_chunk(f->st, &a, 30, d1, len, 2);
	/* An old one in the middle. */
	assert_int_equal(osd_store_drop(f->st, &a, 20), 0);
	assert_int_equal(osd_store_read(f->st, &a, 20, 0, d3, 1, NULL), -ENOENT);
	check_chunk(f->st, &a, 10, d1, len, 3);
	assert_int_equal(osd_store_drop(f->st, &a, 20), -ENOENT);
	assert_int_equal(osd_store_drop(f->st, &a, 0), -EINVAL);
	fx_reopen(f, false);
	assert_int_equal(osd_store_read(f->st, &a, 20, 0, d3, 1, NULL), -ENOENT);
	check_chunk(f->st, &a, 30, d1, len, 4);
	/* The last versions: the chunk is gone. */
	assert_int_equal(osd_store_drop(f->st, &a, 30), 0);
	assert_int_equal(osd_store_drop(f->st, &a, 10), 0);
	assert_int_equal(osd_store_read(f->st, &a, 0, 0, d3, 1, NULL), -ENOENT);
	assert_int_equal(osd_store_drop(f->st, &a, 10), -ENOENT);
	free(d1);
	free(d2);
	free(d3);
}

/* ---- listing ---------------------------------------------------------------------- */

#define LIST_INOS 200
#define LIST_CHUNKS (LIST_INOS * 3)

struct seen {
	size_t n;
	struct osd_chunk_info last;
	uint8_t mark[LIST_CHUNKS];
	int stop_after; /* 0: never */
	bool bad;
};

static int list_cb(const struct osd_chunk_info *info, void *arg)
{
	struct seen *s = arg;
	uint64_t k = info->id.ino * 3 + info->id.idx;

	if (s->n > 0 && (info->id.ino < s->last.id.ino ||
			 (info->id.ino == s->last.id.ino && info->id.idx <= s->last.id.idx)))
		s->bad = true; /* out of order */
	if (info->id.pool != 1 || info->id.pg != 7 || k >= sizeof(s->mark) ||
	    info->nversions != 1 + (info->id.ino % 3 == 0) ||
	    info->versions[info->nversions - 1].length != info->id.ino % 5000)
		s->bad = true;
	else
		s->mark[k]++;
	s->last = *info;
	s->n++;
	if (s->stop_after && s->n == (size_t)s->stop_after)
		return 42;
	return 0;
}

struct pgs_seen {
	uint32_t pool[8], pg[8];
	uint64_t nchunks[8];
	size_t n;
};

static int pg_cb(uint32_t pool, uint32_t pg, uint64_t nchunks, void *arg)
{
	struct pgs_seen *p = arg;

	if (p->n < 8) {
		p->pool[p->n] = pool;
		p->pg[p->n] = pg;
		p->nchunks[p->n] = nchunks;
	}
	p->n++;
	return 0;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct osd_store_cursor cur = OSD_STORE_CURSOR_INIT;
	struct seen *s = calloc(1, sizeof(*s));
	struct pgs_seen pgs = {0};
	uint8_t *data = xmalloc(5000);
	int ret;

	assert_non_null(s);
	fill_random(3, data, 5000);
	/* 200 inos x 3 chunks in pool 1 PG 7; neighbours in PG 8 and pool 2 PG 7. */
	for (uint64_t ino = 0; ino < LIST_INOS; ino++) {
		for (uint16_t x = 0; x < 3; x++) {
			struct osd_chunk_id id = cid(1, 7, ino, 0, x);
			size_t len = ino % 5000;

			assert_int_equal(osd_store_write(f->st, &id, 1, 0, data, len, 0), 0);
			if (ino % 3 == 0)
				assert_int_equal(osd_store_write(f->st, &id, 2, 0, data, len, 0),
						 0);
		}
		if (ino % 20 == 0) {
			struct osd_chunk_id a = cid(1, 8, ino, 0, 0), b = cid(2, 7, ino, 0, 0);

			assert_int_equal(osd_store_write(f->st, &a, 1, 0, data, 10, 0), 0);
			assert_int_equal(osd_store_write(f->st, &b, 1, 0, data, 10, 0), 0);
		}
	}
	for (int pages = 0; !osd_store_cursor_done(&cur); pages++) {
		assert_true(pages <= LIST_CHUNKS / 17 + 1);
		assert_int_equal(osd_store_list_pg(f->st, 1, 7, &cur, 17, list_cb, s), 0);
	}
	assert_false(s->bad);
	assert_int_equal(s->n, LIST_CHUNKS);
	for (size_t k = 0; k < LIST_CHUNKS; k++)
		assert_int_equal(s->mark[k], 1);
	/* A finished cursor lists nothing more. */
	assert_int_equal(osd_store_list_pg(f->st, 1, 7, &cur, 17, list_cb, s), 0);
	assert_int_equal(s->n, LIST_CHUNKS);

	/* A callback that stops: the cursor resumes after the last accepted chunk. */
	memset(s, 0, sizeof(*s));
	cur = (struct osd_store_cursor)OSD_STORE_CURSOR_INIT;
	s->stop_after = 5;
	assert_int_equal(osd_store_list_pg(f->st, 1, 7, &cur, 0, list_cb, s), 42);
	assert_false(osd_store_cursor_done(&cur));
	assert_true(cur.ino == 1 && cur.idx == 0); /* (0,0) (0,1) (0,2) (1,0) accepted */
	s->stop_after = 0;
	s->last.id.idx = 0; /* resume after (1,0) */
	assert_int_equal(osd_store_list_pg(f->st, 1, 7, &cur, 0, list_cb, s), 0);
	assert_true(osd_store_cursor_done(&cur));
	assert_false(s->bad);
	assert_int_equal(s->n, LIST_CHUNKS + 1); /* (1,1) was refused once, so seen twice */
	assert_int_equal(s->mark[1 * 3 + 1], 2);
	assert_int_equal(s->mark[1 * 3 + 0], 1);

	/* An empty PG is done at once. */
	memset(s, 0, sizeof(*s));
	cur = (struct osd_store_cursor)OSD_STORE_CURSOR_INIT;
	assert_int_equal(osd_store_list_pg(f->st, 1, 9, &cur, 10, list_cb, s), 0);
	assert_true(osd_store_cursor_done(&cur));
	assert_int_equal(s->n, 0);

	ret = osd_store_foreach_pg(f->st, pg_cb, &pgs);
	assert_int_equal(ret, 0);
	assert_int_equal(pgs.n, 3);
	assert_true(pgs.pool[0] == 1 && pgs.pg[0] == 7 && pgs.nchunks[0] == LIST_CHUNKS);
	assert_true(pgs.pool[1] == 1 && pgs.pg[1] == 8 && pgs.nchunks[1] == LIST_INOS / 20);
	assert_true(pgs.pool[2] == 2 && pgs.pg[2] == 7 && pgs.nchunks[2] == LIST_INOS / 20);
	free(s);
	free(data);
}

/* ---- compression and usage ---------------------------------------------------------- */

static void test_compression_usage(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id a = cid(3, 0, 1, 0, 0), b = cid(3, 1, 2, 0, 0), c = cid(6, 0, 3, 0, 0);
	uint8_t *text = xmalloc(MiB), *rand = xmalloc(MiB);
	struct osd_pool_usage u, all[4];
	struct osd_chunk_version vv[4];
	size_t n;

	fill_text(1, text, MiB);
	fill_random(2, rand, MiB);
	assert_int_equal(osd_store_pool_usage(f->st, 3, &u), 0);
	assert_true(u.chunks == 0 && u.logical_bytes == 0 && u.stored_bytes == 0);

	assert_int_equal(osd_store_write(f->st, &a, 1, 0, text, MiB, OSD_STORE_COMPRESS), 0);
	assert_int_equal(osd_store_write(f->st, &b, 1, 0, rand, MiB, OSD_STORE_COMPRESS), 0);
	assert_int_equal(osd_store_write(f->st, &c, 1, 0, text, MiB, 0), 0);
	assert_int_equal(osd_store_versions(f->st, &a, vv, 4, &n), 0);
	assert_true(vv[0].flags & OSD_CHUNK_ZSTD);
	assert_true(vv[0].stored <= MiB / 4);
	assert_int_equal(osd_store_versions(f->st, &b, vv, 4, &n), 0);
	assert_false(vv[0].flags & OSD_CHUNK_ZSTD); /* random data: stored raw */
	assert_int_equal(vv[0].stored, MiB);
	assert_int_equal(osd_store_versions(f->st, &c, vv, 4, &n), 0);
	assert_false(vv[0].flags & OSD_CHUNK_ZSTD); /* not asked */

	assert_int_equal(osd_store_pool_usage(f->st, 3, &u), 0);
	assert_int_equal(u.chunks, 2);
	assert_int_equal(u.versions, 2);
	assert_int_equal(u.logical_bytes, 2 * MiB);
	assert_true(u.stored_bytes > MiB && u.stored_bytes <= MiB + MiB / 4);

	/* A partial write into a compressed chunk, reads of any range. */
	memcpy(text + 300000, rand, 5000);
	assert_int_equal(osd_store_write(f->st, &a, 2, 300000, rand, 5000, OSD_STORE_COMPRESS),
			 0);
	check_chunk(f->st, &a, 2, text, MiB, 3);
	assert_int_equal(osd_store_pool_usage(f->st, 3, &u), 0);
	assert_int_equal(u.chunks, 2);
	assert_int_equal(u.versions, 3);
	assert_int_equal(u.logical_bytes, 3 * MiB);
	assert_int_equal(osd_store_pools(f->st, all, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_true(all[0].pool == 3 && all[1].pool == 6);
	assert_int_equal(all[1].stored_bytes, MiB);

	/* Counters survive a restart (they are rebuilt from the headers). */
	fx_reopen(f, false);
	{
		struct osd_pool_usage again;

		assert_int_equal(osd_store_pool_usage(f->st, 3, &again), 0);
		assert_memory_equal(&again, &u, sizeof(u));
	}
	assert_int_equal(osd_store_trim(f->st, &a, 2), 0);
	assert_int_equal(osd_store_delete(f->st, &b), 0);
	assert_int_equal(osd_store_pool_usage(f->st, 3, &u), 0);
	assert_true(u.chunks == 1 && u.versions == 1 && u.logical_bytes == MiB);
	assert_true(u.stored_bytes < MiB / 4);
	assert_int_equal(osd_store_delete(f->st, &a), 0);
	assert_int_equal(osd_store_pool_usage(f->st, 3, &u), 0);
	assert_true(u.chunks == 0 && u.versions == 0 && u.logical_bytes == 0 &&
		    u.stored_bytes == 0);
	assert_int_equal(osd_store_pools(f->st, all, 4, &n), 0);
	assert_true(n == 1 && all[0].pool == 6);
	free(text);
	free(rand);
}

/* ---- disk full -------------------------------------------------------------------- */

static int setup_tmpfs(void **state)
{
	struct fx *f = fx_new("/tmp");

	*state = f;
	if (mount("tmpfs", f->base, "tmpfs", 0, "size=4m") != 0) {
		printf("skipping: cannot mount a 4 MiB tmpfs on %s: %s (needs root)\n", f->base,
		       strerror(errno));
		return 0;
	}
	f->mounted = true;
	assert_int_equal(osd_store_format(f->dir, 7), 0);
	fx_open(f, false);
	return 0;
}

static void test_enospc(void **state)
{
	struct fx *f = *state;
	uint8_t *data[8], *buf = xmalloc(MiB);
	struct osd_chunk_id id[8];
	struct osd_store_statfs sfs;
	int ok = 0, ret = 0;

	if (!f->mounted)
		skip();
	assert_int_equal(osd_store_statfs(f->st, &sfs), 0);
	assert_true(sfs.capacity == 4 * MiB && sfs.available <= sfs.capacity);
	for (int i = 0; i < 8; i++) {
		data[i] = xmalloc(MiB);
		fill_random(100 + (uint64_t)i, data[i], MiB);
		id[i] = cid(1, (uint32_t)i % 2, (uint64_t)i, 0, 0);
	}
	for (ok = 0; ok < 8; ok++) {
		ret = osd_store_write(f->st, &id[ok], 1, 0, data[ok], MiB, OSD_STORE_COMPRESS);
		if (ret)
			break;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_true(ok >= 2);
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(osd_store_read(f->st, &id[ok], 0, 0, buf, 10, NULL), -ENOENT);
	/* A new version of a stored chunk fails too and leaves it intact. */
	assert_int_equal(osd_store_write(f->st, &id[0], 2, 1000, data[7], 5000, 0), -ENOSPC);
	assert_int_equal(count_tmp(f), 0);
	for (int i = 0; i < ok; i++)
		check_chunk(f->st, &id[i], 0, data[i], MiB, (uint64_t)i);
	assert_int_equal(newest(f->st, &id[0]), 1);
	assert_int_equal(osd_store_statfs(f->st, &sfs), 0);
	assert_true(sfs.used > 3 * MiB - MiB / 2);
	/* Space freed: writes work again. */
	assert_int_equal(osd_store_delete(f->st, &id[1]), 0);
	assert_int_equal(osd_store_write(f->st, &id[0], 2, 1000, data[7], 5000, 0), 0);
	memcpy(data[0] + 1000, data[7], 5000);
	check_chunk(f->st, &id[0], 2, data[0], MiB, 9);
	fx_reopen(f, false);
	for (int i = 0; i < ok; i++)
		if (i != 1)
			check_chunk(f->st, &id[i], 0, data[i], MiB, (uint64_t)i);
	for (int i = 0; i < 8; i++)
		free(data[i]);
	free(buf);
}

/* ---- fault injection ------------------------------------------------------------------ */

static void test_faults(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id id = cid(1, 2, 3, 4, 5);
	uint8_t *v1 = xmalloc(MiB), *v2 = xmalloc(MiB);
	static const char *const failing[] = {"write:1:eio", "write:1:enospc", "sync:1:eio",
					      "sync:1:enospc"};
	static const int errs[] = {-EIO, -ENOSPC, -EIO, -ENOSPC};

	fill_random(1, v1, MiB);
	fill_random(2, v2, MiB);
	assert_int_equal(osd_store_write(f->st, &id, 1, 0, v1, MiB, 0), 0);
	for (int i = 0; i < 4; i++) {
		long fired = osd_store_faults_fired(f->st);

		assert_int_equal(osd_store_set_fault(f->st, failing[i]), 0);
		assert_int_equal(osd_store_write(f->st, &id, 2, 0, v2, MiB, 0), errs[i]);
		assert_int_equal(osd_store_faults_fired(f->st), fired + 1);
		assert_int_equal(count_tmp(f), 0);
		assert_false(chunk_file_exists(f, &id, 2));
		assert_int_equal(newest(f->st, &id), 1);
		check_chunk(f->st, &id, 0, v1, MiB, (uint64_t)i);
	}
	/* The third write from now fails; the two before it succeed. */
	assert_int_equal(osd_store_set_fault(f->st, "write:3:eio"), 0);
	assert_int_equal(osd_store_write(f->st, &id, 2, 0, v2, 4096, 0), 0);
	assert_int_equal(osd_store_write(f->st, &id, 3, 8192, v2, 4096, 0), 0);
	assert_int_equal(osd_store_write(f->st, &id, 4, 0, v1, 100, 0), -EIO);
	assert_int_equal(osd_store_write(f->st, &id, 4, 0, v1, 100, 0), 0); /* fires once */
	memcpy(v1, v2, 4096);
	memcpy(v1 + 8192, v2, 4096);
	check_chunk(f->st, &id, 3, v1, MiB, 10);
	/* A short write is completed by the store. */
	assert_int_equal(osd_store_set_fault(f->st, "write:1:short"), 0);
	assert_int_equal(osd_store_write(f->st, &id, 5, 0, v2, MiB, OSD_STORE_REPLACE), 0);
	check_chunk(f->st, &id, 5, v2, MiB, 11);
	/* A failed read returns the error and no data. */
	assert_int_equal(osd_store_set_fault(f->st, "read:1:eio"), 0);
	{
		uint8_t b[64];

		memset(b, 1, sizeof(b));
		assert_int_equal(osd_store_read(f->st, &id, 0, 0, b, sizeof(b), NULL), -EIO);
		for (size_t i = 0; i < sizeof(b); i++)
			assert_int_equal(b[i], 0);
	}
	check_chunk(f->st, &id, 5, v2, MiB, 12);
	assert_int_equal(osd_store_set_fault(f->st, "none"), 0);
	assert_int_equal(osd_store_set_fault(f->st, "write:x:eio"), -EINVAL);

	/* The environment variable arms a store at open. */
	osd_store_close(f->st);
	f->st = NULL;
	setenv("CAIRN_OSD_FAULT", "write:1:eio", 1);
	assert_int_equal(osd_store_open(f->dir, 7, NULL, &f->st), 0);
	unsetenv("CAIRN_OSD_FAULT");
	assert_int_equal(osd_store_write(f->st, &id, 6, 0, v1, 10, 0), -EIO);
	check_chunk(f->st, &id, 0, v2, MiB, 13);
	free(v1);
	free(v2);
}

/* ---- reopen --------------------------------------------------------------------------- */

static void test_reopen(void **state)
{
	struct fx *f = *state;
	uint8_t *d = xmalloc(3 * 4096 + 7);
	struct osd_chunk_id ids[20];
	char path[512];
	int fd;

	for (int i = 0; i < 20; i++) {
		ids[i] = cid((uint32_t)i % 2, (uint32_t)i % 5, 1000 + (uint64_t)i, (uint64_t)i, 1);
		(i % 3 ? fill_random : fill_text)((uint64_t)i, d, 3 * 4096 + 7);
		assert_int_equal(osd_store_write(f->st, &ids[i], 5, 0, d, 3 * 4096 + 7,
						 i % 3 ? 0 : OSD_STORE_COMPRESS),
				 0);
		assert_int_equal(osd_store_write(f->st, &ids[i], 6, 10, d, 10, 0), 0);
	}
	/* Leftovers of a crash: temporary files in PG directories. */
	snprintf(path, sizeof(path), "%s/chunks/0/0/.tmp.99.0000000000000001.0.0.v1", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, d, 100), 100);
	close(fd);
	snprintf(path, sizeof(path), "%s/chunks/1/3/.tmp.7.junk", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(count_tmp(f), 2);
	fx_reopen(f, false);
	assert_int_equal(count_tmp(f), 0);
	for (int i = 0; i < 20; i++) {
		struct osd_chunk_version vv[4];
		size_t n;

		(i % 3 ? fill_random : fill_text)((uint64_t)i, d, 3 * 4096 + 7);
		check_chunk(f->st, &ids[i], 5, d, 3 * 4096 + 7, (uint64_t)i);
		memcpy(d + 10, d, 10);
		check_chunk(f->st, &ids[i], 0, d, 3 * 4096 + 7, (uint64_t)i);
		assert_int_equal(osd_store_versions(f->st, &ids[i], vv, 4, &n), 0);
		assert_true(n == 2 && vv[0].version == 5 && vv[1].version == 6);
		assert_int_equal(!!(vv[0].flags & OSD_CHUNK_ZSTD), i % 3 == 0);
	}
	free(d);
}

/* ---- concurrency ------------------------------------------------------------------------ */

struct worker {
	struct osd_store *st;
	int id;
	int errors;
	int stale;
	char what[128];
	atomic_uint_fast64_t *next_version;
	atomic_bool *stop;
	uint64_t last[64]; /* per slot: last iteration written */
};

static void *writer_own_chunks(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(256 * 1024), *back = malloc(256 * 1024);

	for (int i = 0; buf && back && i < 24 && !w->errors; i++) {
		uint64_t ino = 10 + (uint64_t)w->id;
		uint16_t idx = (uint16_t)w->id;
		struct osd_chunk_id id = cid(1, (uint32_t)(i % 4), ino, (uint64_t)i, idx);
		size_t len = (size_t)(((uint64_t)i * 7919 + ino * 104729) % (256 * 1024));
		struct osd_read_result res;

		fill_random((uint64_t)(w->id * 1000 + i), buf, len);
		if (osd_store_write(w->st, &id, 1, 0, buf, len, i % 2 ? OSD_STORE_COMPRESS : 0) ||
		    osd_store_read(w->st, &id, 0, 0, back, 256 * 1024, &res) || res.bytes != len ||
		    memcmp(buf, back, len) != 0) {
			snprintf(w->what, sizeof(w->what), "worker %d chunk %d", w->id, i);
			w->errors++;
		}
	}
	free(buf);
	free(back);
	return NULL;
}

static void test_concurrent_chunks(void **state)
{
	struct fx *f = *state;
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = f->st;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, writer_own_chunks, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (w[i].errors)
			fail_msg("%s", w[i].what);
	}
	fx_reopen(f, false);
	for (int i = 0; i < 4; i++) {
		w[i].st = f->st;
		writer_own_chunks(&w[i]); /* rewrite as v1 again: idempotent */
		assert_int_equal(w[i].errors, 0);
	}
}

#define SHARED_LEN (64 * 4096)
#define SLOT_LEN 4096
#define SHARED_WRITERS 4
#define SHARED_ITERS 12

static const struct osd_chunk_id shared_id = {.pool = 1, .pg = 3, .ino = 777, .stripe = 0,
					      .idx = 0};

/* Slot s of the shared chunk written by its writer in iteration it. */
static void slot_fill(uint8_t *p, int slot, uint64_t it)
{
	for (size_t i = 0; i < SLOT_LEN; i += 8) {
		uint64_t v = ((uint64_t)slot << 48) | (it << 16) | (i / 8);

		memcpy(p + i, &v, 8);
	}
}

/* Each writer owns slots; every write is a partial update with a fresh version. */
static void *writer_shared(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[SLOT_LEN];

	for (uint64_t it = 1; it <= SHARED_ITERS && !w->errors; it++) {
		int slot = w->id + SHARED_WRITERS * (int)(it % (64 / SHARED_WRITERS));
		int ret;

		slot_fill(buf, slot, it);
		do {
			uint64_t v = atomic_fetch_add(w->next_version, 1);

			ret = osd_store_write(w->st, &shared_id, v, (uint64_t)slot * SLOT_LEN, buf,
					      SLOT_LEN, 0);
			w->stale += ret == -ESTALE;
		} while (ret == -ESTALE);
		if (ret) {
			snprintf(w->what, sizeof(w->what), "writer %d: %s", w->id, error_str(ret));
			w->errors++;
		}
		w->last[slot] = it;
		if (it % 4 == 0)
			osd_store_trim(w->st, &shared_id, atomic_load(w->next_version) - 3);
	}
	return NULL;
}

/* Every read must be one whole version: each slot written consistently. */
static void *reader_shared(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(SHARED_LEN), slot_buf[SLOT_LEN];

	while (buf && !atomic_load(w->stop) && !w->errors) {
		struct osd_read_result res;
		int ret = osd_store_read(w->st, &shared_id, 0, 0, buf, SHARED_LEN, &res);

		if (ret) {
			snprintf(w->what, sizeof(w->what), "read: %s", error_str(ret));
			w->errors++;
			break;
		}
		for (int s = 0; s < 64 && !w->errors; s++) {
			uint64_t first;

			memcpy(&first, buf + (size_t)s * SLOT_LEN, 8);
			if (first == 0 && buf[(size_t)s * SLOT_LEN + SLOT_LEN - 1] == 0)
				continue; /* slot not written yet in this version */
			slot_fill(slot_buf, s, (first >> 16) & 0xffffffffu);
			if (memcmp(slot_buf, buf + (size_t)s * SLOT_LEN, SLOT_LEN) != 0) {
				snprintf(w->what, sizeof(w->what), "torn slot %d in v%" PRIu64, s,
					 res.version);
				w->errors++;
			}
		}
	}
	free(buf);
	return NULL;
}

static void test_concurrent_same_chunk(void **state)
{
	struct fx *f = *state;
	atomic_uint_fast64_t next = 2;
	atomic_bool stop = false;
	struct worker w[SHARED_WRITERS + 2];
	pthread_t t[SHARED_WRITERS + 2];
	uint8_t *zero = calloc(1, SHARED_LEN), *buf = xmalloc(SHARED_LEN), want[SLOT_LEN];
	int stale = 0;

	assert_non_null(zero);
	assert_int_equal(osd_store_write(f->st, &shared_id, 1, 0, zero, SHARED_LEN, 0), 0);
	for (int i = 0; i < SHARED_WRITERS + 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = f->st;
		w[i].id = i;
		w[i].next_version = &next;
		w[i].stop = &stop;
		assert_int_equal(pthread_create(&t[i], NULL,
						i < SHARED_WRITERS ? writer_shared : reader_shared,
						&w[i]),
				 0);
	}
	for (int i = 0; i < SHARED_WRITERS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, true);
	for (int i = SHARED_WRITERS; i < SHARED_WRITERS + 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SHARED_WRITERS + 2; i++) {
		if (w[i].errors)
			fail_msg("%s", w[i].what);
		stale += w[i].stale;
	}
	printf("same chunk: %d stale versions retried\n", stale);
	/* No update lost: every slot holds its writer's last iteration. */
	assert_int_equal(osd_store_read(f->st, &shared_id, 0, 0, buf, SHARED_LEN, NULL), 0);
	for (int s = 0; s < 64; s++) {
		uint64_t it = w[s % SHARED_WRITERS].last[s];

		if (it == 0) {
			assert_memory_equal(buf + (size_t)s * SLOT_LEN, zero, SLOT_LEN);
			continue;
		}
		slot_fill(want, s, it);
		assert_memory_equal(buf + (size_t)s * SLOT_LEN, want, SLOT_LEN);
	}
	free(zero);
	free(buf);
}

/* ---- whole versions under concurrency ------------------------------------------------ */

static const struct osd_chunk_id whole_id = {.pool = 1, .pg = 4, .ino = 778, .stripe = 0,
					     .idx = 0};

/* Length and content of version v of whole_id: a function of v alone. */
static size_t whole_len(uint64_t v)
{
	return 4096 * (1 + v % 16) + v % 100;
}

static void whole_fill(uint8_t *p, uint64_t v)
{
	(v % 2 ? fill_text : fill_random)(v * 7919, p, whole_len(v));
}

static void *writer_whole(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(whole_len(15) + 100);

	for (int i = 0; buf && i < SHARED_ITERS && !w->errors; i++) {
		uint64_t v = atomic_fetch_add(w->next_version, 1);
		int ret;

		whole_fill(buf, v);
		ret = osd_store_write(w->st, &whole_id, v, 0, buf, whole_len(v),
				      OSD_STORE_REPLACE | (v % 3 ? 0 : OSD_STORE_COMPRESS));
		w->stale += ret == -ESTALE; /* overtaken by a newer version: fine */
		if (ret && ret != -ESTALE) {
			snprintf(w->what, sizeof(w->what), "writer %d: %s", w->id, error_str(ret));
			w->errors++;
		}
		if (ret == 0 && v > 3)
			osd_store_trim(w->st, &whole_id, v - 2);
	}
	free(buf);
	return NULL;
}

/* Every read, whole or a range, is exactly some version's content. */
static void *reader_whole(void *arg)
{
	struct worker *w = arg;
	size_t cap = whole_len(15) + 100;
	uint8_t *buf = malloc(cap), *want = malloc(cap);
	uint64_t s = (uint64_t)w->id;

	while (buf && want && !atomic_load(w->stop) && !w->errors) {
		uint64_t off = rng_next(&s) % 2 ? 0 : rng_next(&s) % 8192;
		struct osd_read_result res;
		int ret = osd_store_read(w->st, &whole_id, 0, off, buf, cap, &res);

		if (ret || res.length != whole_len(res.version)) {
			snprintf(w->what, sizeof(w->what), "read: %s, length %" PRIu64,
				 error_str(ret), res.length);
			w->errors++;
			break;
		}
		whole_fill(want, res.version);
		if (res.bytes != (off < res.length ? res.length - off : 0) ||
		    memcmp(buf, want + off, res.bytes) != 0) {
			snprintf(w->what, sizeof(w->what), "read of v%" PRIu64 " at %" PRIu64
				 " is not that version", res.version, off);
			w->errors++;
		}
	}
	free(buf);
	free(want);
	return NULL;
}

static void test_concurrent_whole_versions(void **state)
{
	struct fx *f = *state;
	atomic_uint_fast64_t next = 2;
	atomic_bool stop = false;
	struct worker w[SHARED_WRITERS + 2];
	pthread_t t[SHARED_WRITERS + 2];
	uint8_t *buf = xmalloc(whole_len(1));

	whole_fill(buf, 1);
	assert_int_equal(osd_store_write(f->st, &whole_id, 1, 0, buf, whole_len(1), 0), 0);
	for (int i = 0; i < SHARED_WRITERS + 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = f->st;
		w[i].id = i;
		w[i].next_version = &next;
		w[i].stop = &stop;
		assert_int_equal(pthread_create(&t[i], NULL,
						i < SHARED_WRITERS ? writer_whole : reader_whole,
						&w[i]),
				 0);
	}
	for (int i = 0; i < SHARED_WRITERS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, true);
	for (int i = SHARED_WRITERS; i < SHARED_WRITERS + 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SHARED_WRITERS + 2; i++)
		if (w[i].errors)
			fail_msg("%s", w[i].what);
	/* The newest version is the highest one any writer got in. */
	assert_true(newest(f->st, &whole_id) >= 2);
	free(buf);
}

/* ---- arguments and statfs ---------------------------------------------------------------- */

static int never_cb(const struct osd_chunk_info *info, void *arg)
{
	(void)info;
	(void)arg;
	return 0;
}

static void test_bad_args(void **state)
{
	struct fx *f = *state;
	struct osd_chunk_id id = cid(1, 1, 1, 1, 1), big = cid(1, 1, 1, 1, 256);
	struct osd_store_cursor cur = OSD_STORE_CURSOR_INIT;
	struct osd_store_statfs sfs;
	struct osd_store *none = NULL;
	uint8_t b[16] = {0};
	size_t n;

	assert_int_equal(osd_store_write(f->st, &id, 0, 0, b, 1, 0), -EINVAL);
	assert_int_equal(osd_store_write(f->st, &big, 1, 0, b, 1, 0), -EINVAL);
	assert_int_equal(osd_store_write(f->st, NULL, 1, 0, b, 1, 0), -EINVAL);
	assert_int_equal(osd_store_write(NULL, &id, 1, 0, b, 1, 0), -EINVAL);
	assert_int_equal(osd_store_write(f->st, &id, 1, 0, NULL, 1, 0), -EINVAL);
	assert_int_equal(osd_store_write(f->st, &id, 1, 0, b, 1, 0x80), -EINVAL);
	assert_int_equal(osd_store_write(f->st, &id, 1, OSD_STORE_CHUNK_MAX, b, 1, 0), -EFBIG);
	assert_int_equal(osd_store_write(f->st, &id, 1, UINT64_MAX, b, 1, 0), -EFBIG);
	assert_int_equal(osd_store_truncate(f->st, &id, 1, OSD_STORE_CHUNK_MAX + 1ull, 0), -EFBIG);
	assert_int_equal(osd_store_truncate(f->st, &id, 1, 1, OSD_STORE_REPLACE), -EINVAL);
	assert_int_equal(osd_store_read(f->st, &big, 0, 0, b, 1, NULL), -EINVAL);
	assert_int_equal(osd_store_read(f->st, &id, 0, 0, NULL, 1, NULL), -EINVAL);
	assert_int_equal(osd_store_read(f->st, &id, 0, 0, b, 1, NULL), -ENOENT);
	assert_int_equal(osd_store_verify(f->st, &id, 0), -ENOENT);
	assert_int_equal(osd_store_trim(f->st, &big, 1), -EINVAL);
	assert_int_equal(osd_store_delete(f->st, &big), -EINVAL);
	assert_int_equal(osd_store_versions(f->st, &id, NULL, 1, &n), -EINVAL);
	assert_int_equal(osd_store_list_pg(f->st, 1, 1, &cur, 0, NULL, NULL), -EINVAL);
	assert_int_equal(osd_store_list_pg(f->st, 1, 1, NULL, 0, never_cb, NULL), -EINVAL);
	assert_int_equal(osd_store_foreach_pg(f->st, NULL, NULL), -EINVAL);
	assert_int_equal(osd_store_pool_usage(f->st, 1, NULL), -EINVAL);
	assert_int_equal(osd_store_open(NULL, 1, NULL, &none), -EINVAL);
	assert_int_equal(osd_store_format(NULL, 1), -EINVAL);
	assert_int_equal(osd_store_statfs(f->st, &sfs), 0);
	assert_true(sfs.capacity > 0 && sfs.used <= sfs.capacity &&
		    sfs.available <= sfs.capacity);
	osd_store_close(NULL);
	/* The largest chunk is accepted. */
	{
		uint8_t *max = calloc(1, OSD_STORE_CHUNK_MAX);

		assert_non_null(max);
		max[OSD_STORE_CHUNK_MAX - 1] = 9;
		assert_int_equal(osd_store_write(f->st, &id, 1, 0, max, OSD_STORE_CHUNK_MAX,
						 OSD_STORE_COMPRESS),
				 0);
		memset(max, 1, 4096);
		assert_int_equal(osd_store_read(f->st, &id, 0, OSD_STORE_CHUNK_MAX - 4096, max,
						4096, NULL),
				 0);
		assert_int_equal(max[4095], 9);
		assert_int_equal(max[0], 0);
		free(max);
	}
}

int main(void)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_compressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_new_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compression_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup_tmpfs, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_same_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_whole_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_io, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};

	seed0 = env ? strtoull(env, NULL, 0) : 0x0cd5ee7ull;
	printf("test_store: seed 0x%llx (set CAIRN_TEST_SEED to repeat)\n",
	       (unsigned long long)seed0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
