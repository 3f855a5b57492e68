/*
 * test_data.c - the libcairn data path (cairn_file_*, cairn_pread,
 * cairn_pwrite, cairn_ftruncate, cairn_fsync) on a real cluster: 4
 * cairn-mds shards and 6 cairn-osd processes in 3 fake hosts (cluster.h),
 * with a 4+2 pool and a rep:3 pool, 64 KiB chunks.  New files get the
 * first pool of the configuration, so the test runs once per pool: argv[3]
 * is "ec" or "rep".  Files are created in directories made until one lives
 * on every shard, so the data path sees inodes of every shard.
 *
 * Every file is checked whole by sha256 (OpenSSL EVP) of what was written
 * against what is read back; the expected bytes are generated again on the
 * fly only to say where a read differs (the first bad range, whether it
 * reads as zeros, and whether the same read again is right).  Covers:
 *  - files of 0, 1, chunk-1, chunk, chunk+1, stripe-1, stripe, stripe+1,
 *    2 stripes and 3 stripes + 17 bytes, written in random pieces, read
 *    back after a reopen and by a second client;
 *  - 1 GiB written in 1..8 MiB pieces of seeded pseudo-random data (never
 *    held in memory whole), read back through the writer's handle and
 *    through a second struct cairn;
 *  - a sparse file past 5 GiB (extents around 0, 1 GiB, 4 GiB - 1,
 *    4 GiB + 1 and 5 GiB, holes between) read whole against the expected
 *    stream, then truncated down and up inside it;
 *  - 20,000 random operations (pwrite, pread, ftruncate up and down,
 *    fsync, close and reopen) on a file capped at 32 MiB against a
 *    reference file on local disk, then both compared whole;
 *  - chunk files corrupted on disk (data bytes, the header) in up to m
 *    chunks of a stripe: the file still reads back right;
 *  - 1 and 2 OSDs SIGKILLed: a 64 MiB file, the small files and (4+2) the
 *    1 GiB file read right, a file written while degraded too; for 4+2 a
 *    third one: reads fail with -EIO, never garbage.
 * Also tools/examples/cairn-copy (put, get, a missing file) when given.
 * Both variants run the same sizes except the degraded read of 1 GiB,
 * 4+2 only (about 100 s for 4+2 and 130 s for rep:3 on an idle 2-core
 * machine; the random operations wait on the OSDs' fsyncs and slow down
 * the most when the disk is busy).
 *
 * Usage: test_data CAIRN-MDS CAIRN-OSD ec|rep [CAIRN-COPY [SEED]]; the seed
 * (default fixed, or $CAIRN_TEST_SEED) is printed, CAIRN_DATA_OPS sets the
 * number of random operations (default 20000).  Exits 77 if a binary is
 * missing.  Daemons are stopped by pid (cluster.h).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "client/cairn.h"
#include "cluster.h"
#include "common/error.h"
#include "common/placement.h"

#define CS (64u * 1024)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define NSHARDS 4
/*
 * CAIRN_TEST_SHORT (the sanitizer pass of tools/run-tests.sh, after the
 * full run): a 128 MiB "big" file, 5,000 random operations, and the sparse
 * file read only around its extents, not whole.
 */
static bool short_run;
#define BIG_SIZE (short_run ? 128 * MIB : GIB)
#define DEG_SIZE (64u << 20)
#define RAND_CAP (32u << 20)
#define RAND_SMALL (64u * 1024)
#define RAND_LARGE (2u * 4 * CS) /* two 4+2 stripes */
#define READ_PIECE (8u << 20)
#define WAIT_MS 10000
#define DEFAULT_SEED UINT64_C(20260105)

static struct tc_cluster cl;
static struct cairn *cn;
static uint64_t seed, rng;
static bool ec;
static unsigned K, M, S; /* S: bytes of a stripe */
static uint64_t dirs[NSHARDS];

/* ---- pseudo-random numbers and data ---------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Each test draws from its own sequence, so a seed replays one test alone. */
static void rnd_reset(uint64_t tag)
{
	rng = mix64(seed ^ mix64(tag)) | 1;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* A data stream named by key: its byte o is byte o % 8 of mix64(key + o / 8), little-endian. */
static void pat_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t len)
{
	while (len) {
		uint64_t w = htole64(mix64(key + (off >> 3)));
		size_t o = (size_t)(off & 7), n = 8 - o < len ? 8 - o : len;

		memcpy(buf, (uint8_t *)&w + o, n);
		buf += n;
		off += n;
		len -= n;
	}
}

static uint64_t key_of(const char *tag)
{
	uint64_t h = 1469598103934665603ull;

	while (*tag)
		h = (h ^ (uint8_t)*tag++) * 1099511628211ull;
	return mix64(seed ^ h);
}

/* ---- sha256 ----------------------------------------------------------------------- */

struct digest {
	uint8_t b[32];
};

static EVP_MD_CTX *sha_begin(void)
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();

	TC_CHECK(x && EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1, "sha256 init");
	return x;
}

static void sha_put(EVP_MD_CTX *x, const void *buf, size_t len)
{
	TC_CHECK(EVP_DigestUpdate(x, buf, len) == 1, "sha256 update");
}

static struct digest sha_end(EVP_MD_CTX *x)
{
	struct digest d;
	unsigned n = 0;

	TC_CHECK(EVP_DigestFinal_ex(x, d.b, &n) == 1 && n == 32, "sha256 final");
	EVP_MD_CTX_free(x);
	return d;
}

static const char *hex(const struct digest *d, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d->b[i]);
	return out;
}

/* ---- expected contents and whole-file checks ---------------------------------------- */

/* The expected bytes [off, off + len) of a file. */
struct expect {
	void (*fn)(const void *arg, uint64_t off, uint8_t *buf, size_t len);
	const void *arg;
};

static void exp_pattern(const void *arg, uint64_t off, uint8_t *buf, size_t len)
{
	pat_fill(*(const uint64_t *)arg, off, buf, len);
}

/* sha256 of the expected stream [0, size). */
static struct digest expect_sha(const struct expect *e, uint64_t size)
{
	uint8_t *buf = malloc(READ_PIECE);
	EVP_MD_CTX *x = sha_begin();

	TC_CHECK(buf, "malloc");
	for (uint64_t off = 0; off < size; off += READ_PIECE) {
		size_t n = size - off < READ_PIECE ? (size_t)(size - off) : READ_PIECE;

		e->fn(e->arg, off, buf, n);
		sha_put(x, buf, n);
	}
	free(buf);
	return sha_end(x);
}

/* Where a read first differed from the expected bytes. */
struct badspot {
	uint64_t first, last; /* first and last differing byte of the first bad piece */
	uint64_t count;	      /* bytes that differ in that piece */
	uint64_t piece_off, piece_len;
	uint8_t got, want; /* at first */
	bool zeros;	   /* the read bytes in [first, last] are all zeros */
	int reread;	   /* the same read again: 1 right, 0 still wrong, < 0 error */
};

/* Compares n bytes read at off with the expected ones; fills *b on the first bad piece. */
static void badspot_scan(struct badspot *b, const uint8_t *got, const uint8_t *exp, size_t n,
			 uint64_t off)
{
	if (b->first != UINT64_MAX || memcmp(got, exp, n) == 0)
		return;
	b->piece_off = off;
	b->piece_len = n;
	b->zeros = true;
	for (size_t i = 0; i < n; i++) {
		if (got[i] == exp[i])
			continue;
		if (b->first == UINT64_MAX) {
			b->first = off + i;
			b->got = got[i];
			b->want = exp[i];
		}
		b->last = off + i;
		b->count++;
	}
	for (uint64_t o = b->first; o <= b->last; o++)
		b->zeros = b->zeros && got[o - off] == 0;
}

/* Reads n bytes at off again: 1 if they are exp now, 0 if not, or -errno. */
static int reread(struct cairn_file *f, const uint8_t *exp, size_t n, uint64_t off)
{
	uint8_t *again = malloc(n);
	ssize_t r;
	int ret;

	if (!again)
		return -ENOMEM;
	r = cairn_pread(f, again, n, off);
	ret = r < 0 ? (int)r : r == (ssize_t)n && memcmp(again, exp, n) == 0;
	free(again);
	return ret;
}

/* Fails the test: digests differ; says where when the bad bytes were found. */
static void verify_fail(const char *what, const struct badspot *b, const struct digest *dg,
			const struct digest *dw)
{
	char h1[65], h2[65];

	if (b->first != UINT64_MAX)
		fprintf(stderr,
			"%s: in the read of %" PRIu64 " bytes at %" PRIu64 ", %" PRIu64
			" bytes differ from %" PRIu64 " (%u, want %u) to %" PRIu64 "%s\n",
			what, b->piece_len, b->piece_off, b->count, b->first, b->got, b->want,
			b->last, b->zeros ? ", all read as zeros" : "");
	if (b->first != UINT64_MAX)
		fprintf(stderr, "%s: the same read again: %s\n", what,
			b->reread > 0	 ? "right"
			: b->reread == 0 ? "still wrong"
					 : error_str(b->reread));
	tc_fail("%s: sha256 of what was read %s, of what was written %s (seed %" PRIu64 ")", what,
		hex(dg, h1), hex(dw, h2), seed);
}

/*
 * Reads all of f in pieces of piece/2..piece bytes (the last one asking
 * past the end, then a read at the end that must return 0) and fails the
 * test unless f's size is size, every count is right, and the sha256 of
 * what was read is want.  e (may be NULL) locates the first bad byte.
 * Returns the milliseconds taken.
 */
static int64_t verify_file(struct cairn_file *f, const char *what, uint64_t size,
			   const struct digest *want, const struct expect *e, size_t piece)
{
	uint8_t *got = malloc(piece + 1), *exp = malloc(piece + 1);
	struct badspot bad = {.first = UINT64_MAX};
	uint64_t off = 0;
	EVP_MD_CTX *x = sha_begin();
	int64_t t0 = tc_now_ms();
	struct digest d;
	ssize_t n;

	TC_CHECK(got && exp, "malloc");
	TC_CHECK(cairn_file_size(f) == size, "%s: size %" PRIu64 ", want %" PRIu64, what,
		 cairn_file_size(f), size);
	do {
		size_t ask = piece / 2 + 1 + (size_t)rnd_below(piece - piece / 2);
		uint64_t want_n = size - off < ask ? size - off : ask;

		n = cairn_pread(f, got, ask, off);
		TC_CHECK(n == (ssize_t)want_n,
			 "%s: pread %zu at %" PRIu64 ": %zd (%s), want %" PRIu64, what, ask, off, n,
			 n < 0 ? error_str((int)n) : "count", want_n);
		sha_put(x, got, (size_t)n);
		if (e && bad.first == UINT64_MAX && n > 0) {
			e->fn(e->arg, off, exp, (size_t)n);
			badspot_scan(&bad, got, exp, (size_t)n, off);
			if (bad.first != UINT64_MAX) /* transient, or what is stored? */
				bad.reread = reread(f, exp, (size_t)n, off);
		}
		off += (uint64_t)n;
	} while (n > 0);
	d = sha_end(x);
	if (memcmp(&d, want, sizeof(d)) != 0)
		verify_fail(what, &bad, &d, want);
	TC_CHECK(bad.first == UINT64_MAX, "%s: sha256 matches but byte %" PRIu64 " differs", what,
		 bad.first);
	free(got);
	free(exp);
	return tc_now_ms() - t0;
}

/* ---- files ------------------------------------------------------------------------- */

static struct cairn_file *create_in(unsigned shard, const char *name)
{
	struct cairn_file *f = NULL;
	struct cairn_layout l;
	int ret = cairn_file_create(cn, NULL, dirs[shard], name, 0644, O_RDWR | O_EXCL, &f);

	TC_CHECK(ret == 0, "create %s on shard %u: %s", name, shard, error_str(ret));
	TC_CHECK(cairn_ino_shard(cairn_file_ino(f)) == shard,
		 "%s: inode %#" PRIx64 " not on its directory's shard %u", name, cairn_file_ino(f),
		 shard);
	TC_CHECK(cairn_file_layout(f, &l) == 0 && l.k == K && l.m == M && l.chunk_size == CS,
		 "%s: layout k %u m %u chunk %u, want %u+%u chunk %u", name, l.k, l.m, l.chunk_size,
		 K, M, CS);
	return f;
}

/* Opens dirs[shard]/name through client c. */
static struct cairn_file *open_in(struct cairn *c, unsigned shard, const char *name, int flags)
{
	struct cairn_attr a;
	struct cairn_file *f = NULL;
	int ret = cairn_lookup(c, NULL, dirs[shard], name, &a);

	TC_CHECK(ret == 0, "lookup %s: %s", name, error_str(ret));
	ret = cairn_file_open(c, NULL, a.ino, flags, &f);
	TC_CHECK(ret == 0, "open %s: %s", name, error_str(ret));
	return f;
}

static void put(struct cairn_file *f, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = cairn_pwrite(f, buf, len, off);

	TC_CHECK(n == (ssize_t)len, "pwrite %zu at %" PRIu64 ": %s (seed %" PRIu64 ")", len, off,
		 n < 0 ? error_str((int)n) : "short", seed);
}

static void close_ok(struct cairn_file *f, const char *what)
{
	int ret = cairn_file_close(f);

	TC_CHECK(ret == 0, "close %s: %s", what, error_str(ret));
}

/* Reads [off, off + len) and compares it with e's bytes. */
static void check_range(struct cairn_file *f, const struct expect *e, uint64_t off, size_t len)
{
	uint8_t *got = malloc(len), *want = malloc(len);
	ssize_t n;

	TC_CHECK(got && want, "malloc");
	n = cairn_pread(f, got, len, off);
	TC_CHECK(n == (ssize_t)len, "pread %zu at %" PRIu64 ": %zd (%s)", len, off, n,
		 n < 0 ? error_str((int)n) : "count");
	e->fn(e->arg, off, want, len);
	for (size_t i = 0; i < len; i++)
		TC_CHECK(got[i] == want[i], "byte %" PRIu64 " is %u, want %u (seed %" PRIu64 ")",
			 off + i, got[i], want[i], seed);
	free(got);
	free(want);
}

/* Directories made until one lives on every shard; dirs[s] is shard s's. */
static void make_dirs(void)
{
	unsigned have = 0, tries = 0;

	for (unsigned s = 0; s < NSHARDS; s++)
		dirs[s] = 0;
	while (have < NSHARDS) {
		struct cairn_attr a;
		char name[32];
		unsigned s;
		int ret;

		TC_CHECK(++tries <= 256, "256 directories and only %u shards have one", have);
		snprintf(name, sizeof(name), "dir%u", tries);
		ret = cairn_mkdir(cn, NULL, CAIRN_ROOT_INO, name, 0755, &a);
		TC_CHECK(ret == 0, "mkdir %s: %s", name, error_str(ret));
		s = cairn_ino_shard(a.ino);
		TC_CHECK(s < NSHARDS, "directory %s on shard %u of %d", name, s, NSHARDS);
		if (!dirs[s]) {
			dirs[s] = a.ino;
			have++;
		}
	}
	printf("%u directories give one on each of the %d shards\n", tries, NSHARDS);
}

/* ---- sizes around chunk and stripe edges ------------------------------------------- */

#define NSIZES 10

static uint64_t sizes[NSIZES];
static uint64_t size_keys[NSIZES];
static struct digest size_sha[NSIZES];

static void size_name(unsigned i, char *name, size_t len)
{
	snprintf(name, len, "size%u-%" PRIu64, i, sizes[i]);
}

/* Writes file i in 1..3 random sequential pieces; returns the sha256 of what was written. */
static struct digest write_sized(struct cairn_file *f, unsigned i, uint8_t *buf)
{
	EVP_MD_CTX *x = sha_begin();
	uint64_t off = 0;

	while (off < sizes[i]) {
		uint64_t left = sizes[i] - off;
		size_t n = (size_t)(rnd_below(3) == 0 ? left : 1 + rnd_below(left));

		pat_fill(size_keys[i], off, buf, n);
		sha_put(x, buf, n);
		put(f, buf, n, off);
		off += n;
	}
	return sha_end(x);
}

static void test_sizes(void)
{
	uint64_t list[NSIZES] = {0, 1, CS - 1, CS, CS + 1, S - 1, S, S + 1, 2 * S, 3 * S + 17};
	uint8_t *buf = malloc(3 * S + 17);

	TC_CHECK(buf, "malloc");
	rnd_reset(1);
	for (unsigned i = 0; i < NSIZES; i++) {
		struct expect e = {exp_pattern, &size_keys[i]};
		struct cairn_file *f;
		char name[64];

		sizes[i] = list[i];
		size_name(i, name, sizeof(name));
		size_keys[i] = key_of(name); /* not key + i: that stream is a shifted copy */
		f = create_in(i % NSHARDS, name);
		size_sha[i] = write_sized(f, i, buf);
		close_ok(f, name);
		f = open_in(cn, i % NSHARDS, name, O_RDONLY);
		verify_file(f, name, sizes[i], &size_sha[i], &e, (size_t)sizes[i] + 100);
		if (sizes[i] > 2)
			check_range(f, &e, 1, (size_t)sizes[i] - 2);
		TC_CHECK(cairn_pwrite(f, buf, 1, 0) == -EBADF, "write on a read-only handle");
		close_ok(f, name);
	}
	free(buf);
	printf("sizes 0, 1, chunk-1/0/+1, stripe-1/0/+1, 2 stripes, 3 stripes+17: sha256 ok\n");
}

/* Every sized file again through client c (a second client, or degraded). */
static void recheck_sizes(struct cairn *c, const char *how)
{
	for (unsigned i = 0; i < NSIZES; i++) {
		struct expect e = {exp_pattern, &size_keys[i]};
		struct cairn_file *f;
		char name[64];

		size_name(i, name, sizeof(name));
		f = open_in(c, i % NSHARDS, name, O_RDONLY);
		verify_file(f, name, sizes[i], &size_sha[i], &e, (size_t)sizes[i] + 1);
		close_ok(f, name);
	}
	printf("the %d sized files read back right %s\n", NSIZES, how);
}

/* ---- 1 GiB --------------------------------------------------------------------------- */

static uint64_t big_key;
static struct digest big_sha;

static void test_big(void)
{
	uint8_t *buf = malloc(8 * MIB);
	struct expect e = {exp_pattern, &big_key};
	struct cairn_file *f = create_in(1, "big");
	EVP_MD_CTX *x = sha_begin();
	int64_t t0 = tc_now_ms(), tw, tr1, tr2;
	struct cairn *c2 = NULL;
	int ret;

	TC_CHECK(buf, "malloc");
	rnd_reset(2);
	big_key = key_of("big");
	for (uint64_t off = 0; off < BIG_SIZE;) {
		size_t n = (size_t)(MIB + rnd_below(7 * MIB + 1));

		if (n > BIG_SIZE - off)
			n = (size_t)(BIG_SIZE - off);
		pat_fill(big_key, off, buf, n);
		sha_put(x, buf, n);
		put(f, buf, n, off);
		off += n;
	}
	big_sha = sha_end(x);
	tw = tc_now_ms() - t0;
	tr1 = verify_file(f, "big (writer's handle)", BIG_SIZE, &big_sha, &e, READ_PIECE);
	close_ok(f, "big");
	ret = cairn_open_conf(cl.conf, &c2);
	TC_CHECK(ret == 0, "second client: %s", error_str(ret));
	f = open_in(c2, 1, "big", O_RDONLY);
	tr2 = verify_file(f, "big (second client)", BIG_SIZE, &big_sha, &e, READ_PIECE);
	close_ok(f, "big");
	recheck_sizes(c2, "through a second client");
	cairn_close(c2);
	free(buf);
	printf("%" PRIu64 " MiB: write %" PRId64 " ms, read %" PRId64
	       " ms, read by a second client %" PRId64 " ms: sha256 ok\n",
	       BIG_SIZE >> 20, tw, tr1, tr2);
}

/* ---- a sparse file past 5 GiB ---------------------------------------------------------- */

struct extent {
	uint64_t off;
	size_t len;
};

struct sparse {
	uint64_t key;
	unsigned n;
	struct extent x[8];
	uint64_t cut; /* bytes from here read as zeros (a truncate), UINT64_MAX: none */
};

static void exp_sparse(const void *arg, uint64_t off, uint8_t *buf, size_t len)
{
	const struct sparse *sp = arg;

	memset(buf, 0, len);
	for (unsigned i = 0; i < sp->n; i++) {
		uint64_t a = sp->x[i].off > off ? sp->x[i].off : off;
		uint64_t b = sp->x[i].off + sp->x[i].len < off + len ? sp->x[i].off + sp->x[i].len
								     : off + len;

		if (b > sp->cut)
			b = sp->cut;
		if (a < b)
			pat_fill(sp->key, a, buf + (a - off), (size_t)(b - a));
	}
}

/* Extents of the sparse file. */
static void sparse_layout(struct sparse *sp)
{
	const struct extent all[] = {
	    {0, MIB + 3},		      /* from 0 */
	    {GIB - 300001, MIB},	      /* across 1 GiB */
	    {3 * GIB + 5, 1},		      /* one byte alone */
	    {4 * GIB - 1 - MIB, MIB},	      /* ends at 4 GiB - 1 */
	    {4 * GIB + 1, MIB},		      /* starts at 4 GiB + 1: a 2-byte hole across 4 GiB */
	    {5 * GIB - 4097, MIB + 4097 - 7}, /* ends at 5 GiB + 1 MiB - 7 */
	};

	_Static_assert(sizeof(all) <= sizeof(sp->x), "room for every extent");
	sp->key = key_of("sparse");
	sp->n = sizeof(all) / sizeof(all[0]);
	sp->cut = UINT64_MAX;
	memcpy(sp->x, all, sizeof(all));
}

/* Truncates down into the last extent and up again, then down to 4 GiB - 1 MiB and up. */
static void sparse_truncates(struct cairn_file *f, struct sparse *sp, uint64_t size)
{
	const struct extent *last = &sp->x[sp->n - 1];
	struct expect e = {exp_sparse, sp};
	uint64_t cut = last->off + 100;
	int64_t t0;
	int ret;

	ret = cairn_ftruncate(f, cut);
	TC_CHECK(ret == 0, "truncate to %" PRIu64 ": %s", cut, error_str(ret));
	ret = cairn_ftruncate(f, size);
	TC_CHECK(ret == 0, "truncate up: %s", error_str(ret));
	sp->cut = cut;
	check_range(f, &e, last->off - 5000, last->len + 5000);
	cut = 4 * GIB - MIB;
	t0 = tc_now_ms();
	ret = cairn_ftruncate(f, cut);
	TC_CHECK(ret == 0, "truncate to %" PRIu64 ": %s", cut, error_str(ret));
	printf("truncate over %" PRIu64 " MiB of stripes: %" PRId64 " ms\n", (size - cut) >> 20,
	       tc_now_ms() - t0);
	ret = cairn_ftruncate(f, size);
	TC_CHECK(ret == 0, "truncate up: %s", error_str(ret));
	sp->cut = cut;
	check_range(f, &e, cut - 4096, 2 * 4096);
	check_range(f, &e, last->off - 1, last->len + 1);
	check_range(f, &e, 0, 4096);
	check_range(f, &e, GIB - 4096, 8192);
}

static void test_sparse(void)
{
	struct sparse sp;
	struct expect e = {exp_sparse, &sp};
	uint8_t *buf = malloc(2 * MIB);
	struct cairn_file *f = create_in(2, "sparse");
	unsigned order[8];
	struct digest want;
	uint64_t size;
	int64_t t;

	TC_CHECK(buf, "malloc");
	rnd_reset(3);
	sparse_layout(&sp);
	size = sp.x[sp.n - 1].off + sp.x[sp.n - 1].len;
	for (unsigned i = 0; i < sp.n; i++)
		order[i] = i;
	for (unsigned i = sp.n - 1; i > 0; i--) { /* written in a random order */
		unsigned j = (unsigned)rnd_below(i + 1), t2 = order[i];

		order[i] = order[j];
		order[j] = t2;
	}
	for (unsigned i = 0; i < sp.n; i++) {
		const struct extent *x = &sp.x[order[i]];

		pat_fill(sp.key, x->off, buf, x->len);
		put(f, buf, x->len, x->off);
	}
	TC_CHECK(cairn_fsync(f, false) == 0, "fsync");
	close_ok(f, "sparse");
	f = open_in(cn, 2, "sparse", O_RDWR);
	if (short_run) {
		for (unsigned i = 0; i < sp.n; i++) {
			uint64_t a = sp.x[i].off > 4096 ? sp.x[i].off - 4096 : 0;
			uint64_t z = sp.x[i].off + sp.x[i].len + 4096;

			check_range(f, &e, a, (z < size ? z : size) - a);
		}
		printf("sparse file of %" PRIu64 " bytes: extents and their edges ok (short run)\n",
		       size);
	} else {
		want = expect_sha(&e, size);
		t = verify_file(f, "sparse", size, &want, &e, 2 * READ_PIECE);
		printf("sparse file of %" PRIu64 " bytes (%u extents) read whole in %" PRId64
		       " ms: sha256 ok\n",
		       size, sp.n, t);
	}
	sparse_truncates(f, &sp, size);
	close_ok(f, "sparse");
	free(buf);
	printf("sparse truncates down and up ok\n");
}

/* ---- random operations against a reference file -------------------------------------- */

#define HIST 24

struct rop {
	unsigned i;
	char op;
	uint64_t off, len;
};

static struct rop hist[HIST];
static unsigned nhist;

static void hist_add(unsigned i, char op, uint64_t off, uint64_t len)
{
	hist[nhist++ % HIST] = (struct rop){i, op, off, len};
}

static void hist_dump(void)
{
	unsigned first = nhist > HIST ? nhist - HIST : 0;

	fprintf(stderr,
		"last operations (w pwrite, r pread, t ftruncate to off, s fsync, o reopen):\n");
	for (unsigned k = first; k < nhist; k++) {
		const struct rop *r = &hist[k % HIST];

		fprintf(stderr, "  op %u: %c off %" PRIu64 " len %" PRIu64 "\n", r->i, r->op,
			r->off, r->len);
	}
}

#define RCHECK(cond, fmt, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			hist_dump();                                                               \
			tc_fail("%s:%d: random op %u (seed %" PRIu64 "): " fmt, __FILE__,          \
				__LINE__, s->i, seed, ##__VA_ARGS__);                              \
		}                                                                                  \
	} while (0)

struct rstate {
	struct cairn_file *f;
	int ref;
	uint64_t size;
	unsigned i;
	uint8_t *buf, *buf2;
};

/* Offsets: anywhere, near the end of file, or near a chunk or stripe edge. */
static uint64_t rand_off(uint64_t size)
{
	uint64_t r = rnd_below(10), off, unit;

	if (r < 4)
		return rnd_below(RAND_CAP);
	if (r < 7) {
		off = size + rnd_below(4 * (uint64_t)S);
		off = off > 2 * (uint64_t)S ? off - 2 * (uint64_t)S : 0;
	} else {
		unit = rnd_below(2) ? CS : S;
		off = rnd_below(RAND_CAP / unit) * unit + rnd_below(33);
		off = off > 16 ? off - 16 : 0;
	}
	return off < RAND_CAP ? off : RAND_CAP - 1;
}

static size_t rand_len(void)
{
	return (size_t)(1 + rnd_below(rnd_below(100) < 85 ? RAND_SMALL : RAND_LARGE));
}

static void r_write(struct rstate *s)
{
	uint64_t off = rand_off(s->size);
	size_t len = rand_len();
	ssize_t n;

	if (len > RAND_CAP - off)
		len = (size_t)(RAND_CAP - off);
	pat_fill(rnd(), 0, s->buf, len);
	hist_add(s->i, 'w', off, len);
	n = cairn_pwrite(s->f, s->buf, len, off);
	RCHECK(n == (ssize_t)len, "pwrite %zu at %" PRIu64 ": %zd (%s)", len, off, n,
	       n < 0 ? error_str((int)n) : "short");
	RCHECK(pwrite(s->ref, s->buf, len, (off_t)off) == (ssize_t)len, "reference pwrite: %s",
	       strerror(errno));
	if (off + len > s->size)
		s->size = off + len;
}

static void r_read(struct rstate *s)
{
	uint64_t off = rand_off(s->size) + (rnd_below(8) == 0 ? S : 0);
	size_t len = rand_len();
	ssize_t n, m;

	hist_add(s->i, 'r', off, len);
	n = cairn_pread(s->f, s->buf, len, off);
	m = pread(s->ref, s->buf2, len, (off_t)off);
	RCHECK(m >= 0, "reference pread: %s", strerror(errno));
	RCHECK(n == m, "pread %zu at %" PRIu64 " (size %" PRIu64 "): %zd (%s), want %zd", len, off,
	       s->size, n, n < 0 ? error_str((int)n) : "count", m);
	for (ssize_t k = 0; k < n; k++)
		RCHECK(s->buf[k] == s->buf2[k],
		       "pread at %" PRIu64 ": byte %" PRIu64 " is %u, want %u", off,
		       off + (uint64_t)k, s->buf[k], s->buf2[k]);
}

static void r_truncate(struct rstate *s)
{
	uint64_t r = rnd_below(3), size;
	int ret;

	if (r == 0)
		size = rnd_below(RAND_CAP + 1);
	else if (r == 1)
		size = s->size - rnd_below(s->size < 2 * S ? s->size + 1 : 2 * S);
	else
		size = s->size + rnd_below(2 * S);
	if (size > RAND_CAP)
		size = RAND_CAP;
	hist_add(s->i, 't', size, 0);
	ret = cairn_ftruncate(s->f, size);
	RCHECK(ret == 0, "ftruncate to %" PRIu64 " from %" PRIu64 ": %s", size, s->size,
	       error_str(ret));
	RCHECK(ftruncate(s->ref, (off_t)size) == 0, "reference ftruncate: %s", strerror(errno));
	s->size = size;
}

static void r_sync(struct rstate *s)
{
	bool data = rnd_below(2);
	int ret;

	hist_add(s->i, 's', data, 0);
	ret = cairn_fsync(s->f, data);
	RCHECK(ret == 0, "fsync: %s", error_str(ret));
	RCHECK(cairn_file_size(s->f) == s->size, "size %" PRIu64 " after fsync, want %" PRIu64,
	       cairn_file_size(s->f), s->size);
}

static void r_reopen(struct rstate *s)
{
	int ret;

	hist_add(s->i, 'o', s->size, 0);
	ret = cairn_file_close(s->f);
	RCHECK(ret == 0, "close: %s", error_str(ret));
	s->f = open_in(cn, 3, "random", O_RDWR);
	RCHECK(cairn_file_size(s->f) == s->size, "size %" PRIu64 " after reopen, want %" PRIu64,
	       cairn_file_size(s->f), s->size);
}

static void exp_ref(const void *arg, uint64_t off, uint8_t *buf, size_t len)
{
	ssize_t n = pread(*(const int *)arg, buf, len, (off_t)off);

	TC_CHECK(n == (ssize_t)len, "reference pread %zu at %" PRIu64 ": %zd", len, off, n);
}

/* Both files compared whole: through this client and through a second one. */
static void random_final(struct rstate *s, unsigned ops)
{
	struct expect e = {exp_ref, &s->ref};
	struct digest want = expect_sha(&e, s->size);
	struct cairn *c2 = NULL;
	struct cairn_file *f;
	int ret;

	verify_file(s->f, "random", s->size, &want, &e, 4 * MIB);
	close_ok(s->f, "random");
	ret = cairn_open_conf(cl.conf, &c2);
	TC_CHECK(ret == 0, "second client: %s", error_str(ret));
	f = open_in(c2, 3, "random", O_RDONLY);
	verify_file(f, "random (second client)", s->size, &want, &e, 4 * MIB);
	close_ok(f, "random");
	cairn_close(c2);
	printf("%u random operations against a reference file, size %" PRIu64
	       " at the end: sha256 ok\n",
	       ops, s->size);
}

static void test_random(unsigned ops)
{
	struct rstate st = {.buf = malloc(RAND_LARGE + S), .buf2 = malloc(RAND_LARGE + S)};
	struct rstate *s = &st;
	char path[600];
	int64_t t0 = tc_now_ms();

	TC_CHECK(st.buf && st.buf2, "malloc");
	snprintf(path, sizeof(path), "%s/random.ref", cl.dir);
	st.ref = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	TC_CHECK(st.ref >= 0, "open %s: %s", path, strerror(errno));
	st.f = create_in(3, "random");
	rnd_reset(4);
	for (st.i = 0; st.i < ops; st.i++) {
		uint64_t r = rnd_below(1000);

		if (r < 420)
			r_write(s);
		else if (r < 850)
			r_read(s);
		else if (r < 950)
			r_truncate(s);
		else if (r < 980)
			r_sync(s);
		else
			r_reopen(s);
	}
	printf("random operations: %" PRId64 " ms\n", tc_now_ms() - t0);
	random_final(s, ops);
	close(st.ref);
	unlink(path);
	free(st.buf);
	free(st.buf2);
}

/* ---- corrupted chunk files ------------------------------------------------------------ */

enum corruption { CORRUPT_FIRST, CORRUPT_LAST, CORRUPT_HEADER };

/* Flips a bit of chunk idx of stripe of ino on the OSD that holds it. */
static void corrupt_chunk(const struct proto_map_pool *pool, uint64_t ino, uint64_t stripe,
			  unsigned idx, enum corruption where)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH], hdr_len, stored_lo;
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t b, hdr[72];
	char path[1024];
	uint64_t v = 0;
	off_t at;
	int fd, ret;

	tc_acting(&cl, pool, ino, stripe, ids, up);
	ret = tc_chunk_read(&cl, ids[idx], pool, ino, stripe, idx, 0, 1, 0, &b, NULL, &v);
	TC_CHECK(ret == 0 && v, "chunk read: %s (version %" PRIu64 ")", error_str(ret), v);
	snprintf(path, sizeof(path), "%s/chunks/%u/%u/%016" PRIx64 ".%" PRIu64 ".%u.v%" PRIu64,
		 cl.osd[ids[idx]].data, pool->id, placement_pg(ino, stripe, pool->pg_count), ino,
		 stripe, idx, v);
	fd = open(path, O_RDWR);
	TC_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	TC_CHECK(pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr), "read header of %s", path);
	memcpy(&hdr_len, hdr + 12, 4);
	memcpy(&stored_lo, hdr + 64, 4); /* stored length, low half (chunks are small) */
	hdr_len = le32toh(hdr_len);
	stored_lo = le32toh(stored_lo);
	TC_CHECK(stored_lo > 1000, "%s: %u bytes stored", path, stored_lo);
	at = where == CORRUPT_HEADER  ? 100
	     : where == CORRUPT_FIRST ? (off_t)hdr_len + 904
				      : (off_t)(hdr_len + stored_lo - 1);
	TC_CHECK(pread(fd, &b, 1, at) == 1, "read %s", path);
	b ^= 0x40;
	TC_CHECK(pwrite(fd, &b, 1, at) == 1, "write %s", path);
	close(fd);
}

static void test_corrupt(void)
{
	size_t len = 4u * 4 * CS; /* 4 stripes of 4+2, 16 of rep:3 */
	uint8_t *buf = malloc(len);
	uint64_t key = key_of("corrupt");
	struct expect e = {exp_pattern, &key};
	struct cairn_file *f = create_in(0, "corrupt");
	struct proto_map_pool pool;
	EVP_MD_CTX *x = sha_begin();
	struct digest want;
	uint64_t ino = cairn_file_ino(f);

	TC_CHECK(buf, "malloc");
	rnd_reset(5);
	pat_fill(key, 0, buf, len);
	sha_put(x, buf, len);
	want = sha_end(x);
	put(f, buf, len, 0);
	close_ok(f, "corrupt");
	tc_map_refresh(&cl);
	pool = tc_pool(&cl, ec ? "ec" : "rep");
	corrupt_chunk(&pool, ino, 1, 0, CORRUPT_FIRST);	 /* one data chunk */
	corrupt_chunk(&pool, ino, 2, 0, CORRUPT_HEADER); /* two chunks of a stripe */
	corrupt_chunk(&pool, ino, 2, ec ? 3 : 1, CORRUPT_LAST);
	corrupt_chunk(&pool, ino, 3, ec ? 1 : 0, CORRUPT_LAST); /* a data chunk and a parity one */
	corrupt_chunk(&pool, ino, 3, ec ? 4 : 2, CORRUPT_FIRST);
	f = open_in(cn, 0, "corrupt", O_RDONLY);
	verify_file(f, "corrupt", len, &want, &e, len + 1);
	check_range(f, &e, S + 4000, 2000);
	check_range(f, &e, 2 * S + CS - 10, 20);
	verify_file(f, "corrupt (pieces)", len, &want, &e, 3 * CS);
	close_ok(f, "corrupt");
	free(buf);
	printf(
	    "chunk files with flipped bits (data, header; up to m in a stripe) read back right\n");
}

/* ---- tools/examples/cairn-copy --------------------------------------------------------- */

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

/* A local file in and out again. */
static void test_example(const char *bin)
{
	size_t len = 3u * S + 4321;
	uint8_t *buf = malloc(len), *back = malloc(len + 1);
	char in[600], out[600];
	FILE *fp;

	TC_CHECK(buf && back, "malloc");
	snprintf(in, sizeof(in), "%s/copy-in", cl.dir);
	snprintf(out, sizeof(out), "%s/copy-out", cl.dir);
	pat_fill(key_of("copy"), 0, buf, len);
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

/* ---- OSDs killed ----------------------------------------------------------------------- */

static uint64_t deg_key, late_key;
static struct digest deg_sha, late_sha;

#define LATE_SIZE (5u * 4 * CS + 999)

/* Writes size bytes of stream key to dirs[shard]/name; returns their sha256. */
static struct digest write_file(unsigned shard, const char *name, uint64_t key, size_t size)
{
	uint8_t *buf = malloc(4 * MIB);
	struct cairn_file *f = create_in(shard, name);
	EVP_MD_CTX *x = sha_begin();

	TC_CHECK(buf, "malloc");
	for (size_t off = 0; off < size; off += 4 * MIB) {
		size_t n = size - off < 4 * MIB ? size - off : 4 * MIB;

		pat_fill(key, off, buf, n);
		sha_put(x, buf, n);
		put(f, buf, n, off);
	}
	close_ok(f, name);
	free(buf);
	return sha_end(x);
}

static void verify_named(unsigned shard, const char *name, uint64_t size, const struct digest *want,
			 uint64_t *key)
{
	struct expect e = {exp_pattern, key};
	struct cairn_file *f = open_in(cn, shard, name, O_RDONLY);
	int64_t t = verify_file(f, name, size, want, &e, READ_PIECE);

	close_ok(f, name);
	if (size >= 64 * MIB)
		printf("  %s: %" PRIu64 " MiB in %" PRId64 " ms\n", name, size >> 20, t);
}

static void kill_osd(unsigned i)
{
	uint64_t ep;

	TC_CHECK(kill(cl.osd[i].pid, SIGKILL) == 0, "kill osd %u", i);
	tc_osd_wait_exit(&cl, i, WAIT_MS);
	tc_wait_osd(&cl, i, false, WAIT_MS);
	TC_CHECK(cairn_map_refresh(cn, &ep) == 0, "map refresh");
}

/* More than m OSDs of every stripe down: reads fail with -EIO and leave no bytes claimed. */
static void expect_eio(unsigned n)
{
	uint8_t *got = malloc(READ_PIECE);
	struct cairn_file *f = open_in(cn, 0, "degraded", O_RDONLY);
	const uint64_t offs[] = {0, 1, CS - 1, S + 17, DEG_SIZE - 100};
	ssize_t r;

	TC_CHECK(got, "malloc");
	r = cairn_pread(f, got, READ_PIECE, 0);
	TC_CHECK(r == -EIO, "read with %u of 6 OSDs killed: %zd, want -EIO", n, r);
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		r = cairn_pread(f, got, 100, offs[i]);
		TC_CHECK(r == -EIO, "100 bytes at %" PRIu64 " with %u OSDs killed: %zd, want -EIO",
			 offs[i], n, r);
	}
	close_ok(f, "degraded");
	free(got);
	printf("%u OSDs killed: reads return -EIO\n", n);
}

static void test_degraded(void)
{
	unsigned kill_n = ec ? 3 : 2;

	for (unsigned n = 1; n <= kill_n; n++) {
		kill_osd(n * 2 - 1); /* hosts 1, 0, 2 in turn: never two of one host */
		if (n > M) {
			expect_eio(n);
			continue;
		}
		printf("%u OSD%s killed:\n", n, n > 1 ? "s" : "");
		verify_named(0, "degraded", DEG_SIZE, &deg_sha, &deg_key);
		if (ec) /* rep:3 reads it at about 80 MB/s degraded: 64 MiB is enough there */
			verify_named(1, "big", BIG_SIZE, &big_sha, &big_key);
		recheck_sizes(cn, "degraded");
		if (n == 1) {
			late_key = key_of("late");
			late_sha = write_file(2, "late", late_key, LATE_SIZE);
		}
		verify_named(2, "late", LATE_SIZE, &late_sha, &late_key);
		printf("  a file written with one OSD down reads back right\n");
	}
}

/* ---- main ---------------------------------------------------------------------------- */

static uint64_t parse_seed(int argc, char **argv)
{
	const char *env = getenv("CAIRN_TEST_SEED");

	if (argc > 5)
		return strtoull(argv[5], NULL, 0);
	return env ? strtoull(env, NULL, 0) : DEFAULT_SEED;
}

int main(int argc, char **argv)
{
	const char *ec_pool = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; "
			      "media = \"nvme\"; pg_count = 16; }";
	const char *rep_pool = "{ name = \"rep\"; scheme = \"rep:3\"; chunk_size = \"64K\"; "
			       "media = \"nvme\"; pg_count = 16; }";
	struct tc_opts o = {.shards = NSHARDS,
			    .osds = 6,
			    .hosts = 3,
			    .tmpfs_osd = -1,
			    .osd_cfg = "scrub_rate = \"0\"; workers = 2;"};
	const char *ops_env = getenv("CAIRN_DATA_OPS");
	char pools[512];
	int64_t t0 = tc_now_ms();
	int ret;

	if (argc < 4 || (strcmp(argv[3], "ec") && strcmp(argv[3], "rep"))) {
		printf("SKIP: usage: %s CAIRN-MDS CAIRN-OSD ec|rep [CAIRN-COPY [SEED]]\n", argv[0]);
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress kept if a sanitizer ends the run */
	ec = strcmp(argv[3], "ec") == 0;
	K = ec ? 4 : 1;
	M = 2;
	S = K * CS;
	snprintf(pools, sizeof(pools), "%s, %s", ec ? ec_pool : rep_pool, ec ? rep_pool : ec_pool);
	o.pools = pools;
	seed = parse_seed(argc, argv);
	short_run = getenv("CAIRN_TEST_SHORT") != NULL;
	printf("seed %" PRIu64 " (CAIRN_TEST_SEED to replay), pool %s\n", seed, argv[3]);
	tc_start(&cl, argc, argv, &o);
	ret = cairn_open_conf(cl.conf, &cn);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	make_dirs();
	test_sizes();
	test_big();
	test_sparse();
	test_random(ops_env ? (unsigned)strtoul(ops_env, NULL, 0) : short_run ? 5000 : 20000);
	test_corrupt();
	if (argc > 4 && access(argv[4], X_OK) == 0)
		test_example(argv[4]);
	else
		printf("cairn-copy not given: example not run\n");
	deg_key = key_of("degraded");
	deg_sha = write_file(0, "degraded", deg_key, DEG_SIZE);
	test_degraded();
	cairn_close(cn);
	tc_stop(&cl);
	printf("ok (%" PRId64 " s)\n", (tc_now_ms() - t0) / 1000);
	return 0;
}
