/*
 * fsx_cairn.c - random-operation data-integrity exerciser.
 *
 *   fsx_cairn [-N ops] [-S seed] [-l maxlen] [-o maxsize] FILE REFFILE
 *
 * Applies the same random operations to FILE (on the file system under
 * test) and REFFILE (on a local disk): writes at random offsets and
 * lengths, truncates up and down, reads, mmap reads, MAP_SHARED mmap writes
 * with msync (MS_SYNC one time in four, else MS_ASYNC), fsync or fdatasync
 * (of FILE only), close and reopen, and fallocate mode 0 (skipped with a
 * note where FILE or REFFILE does not support it).  No hole punching.  It
 * keeps the expected content in memory and checks against it every read of
 * both files, both sizes after every operation, every changed range (read
 * back before it is overwritten or cut off, after a reopen, and at the
 * latest 100 operations later; of a region that grew, the 64 KiB at each
 * end), and both whole files every 1000 operations and at the end.  REFFILE
 * is a second opinion on the exerciser itself.  On a mismatch or a failed
 * call it prints the seed, the operation number, offsets, the first
 * differing byte with the expected and actual bytes, and the last 20
 * operations, and exits 1.
 *
 * -N operations (default 100000), -S seed (default from the clock; always
 * printed so a failure can be replayed), -l the longest operation (default
 * 256 KiB), -o the largest file size, which no operation goes past
 * (default 16 MiB); sizes take a K or M suffix.  Exit 0 when all matched,
 * 1 on a mismatch or an I/O error, 2 on bad usage.  Single-threaded; all
 * state is in one struct fsx owned by main().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define LOG_LEN 20
#define CHECK_EVERY 1000 /* whole files */
#define VERIFY_EVERY 100 /* the ranges changed since the last verify */
#define MAX_DIRTY 256
#define ZERO_EDGE (64u << 10) /* of a grown region, verified at each end */
#define CHUNK (1u << 20)

enum op {
	OP_WRITE,
	OP_READ,
	OP_TRUNCATE,
	OP_MAPREAD,
	OP_MAPWRITE,
	OP_FSYNC,
	OP_REOPEN,
	OP_FALLOCATE,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "write", "read", "truncate", "mapread", "mapwrite", "fsync", "reopen", "fallocate",
};

/* Out of 100: how often each operation is drawn. */
static const int op_weights[OP_COUNT] = {26, 22, 10, 12, 12, 3, 5, 10};

struct logent {
	long n;
	enum op op;
	size_t off, len, size; /* size: the file size after the operation */
};

struct range {
	size_t lo, hi;
};

struct fsx {
	const char *path[2]; /* FILE, REFFILE */
	int fd[2];
	unsigned char *good; /* expected content; zero from size to maxsize */
	unsigned char *data; /* bytes of the current write */
	unsigned char *got;  /* bytes read back */
	size_t size, maxsize, maxlen, pagesize;
	uint64_t seed, rng;
	long nops, opnum;
	bool falloc;
	long count[OP_COUNT];
	struct logent log[LOG_LEN];
	struct range dirty[MAX_DIRTY]; /* changed and not read back since */
	int ndirty;
};

/* ---- random numbers ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct fsx *f, uint64_t n)
{
	return n ? splitmix(&f->rng) % n : 0;
}

/* 1..maxlen, a quarter each of long, medium, short and tiny lengths. */
static size_t rnd_len(struct fsx *f)
{
	size_t cap = f->maxlen >> (3 * rnd(f, 4));

	return 1 + (size_t)rnd(f, cap ? cap : 1);
}

/* An offset for len bytes: mostly near the data, sometimes anywhere. */
static size_t rnd_off(struct fsx *f, size_t len)
{
	size_t hi = f->maxsize - len;

	if (rnd(f, 4) && f->size + f->maxlen / 2 < hi)
		hi = f->size + f->maxlen / 2;
	return (size_t)rnd(f, hi + 1);
}

/* ---- reporting ---- */

static void print_log(const struct fsx *f)
{
	fprintf(stderr, "last %d operations (number, operation, offset, length, size after):\n",
		LOG_LEN);
	for (long n = f->opnum - LOG_LEN + 1; n <= f->opnum; n++) {
		const struct logent *e = &f->log[n % LOG_LEN];

		if (n < 1 || e->n != n)
			continue;
		fprintf(stderr, "  %7ld %-9s 0x%08zx 0x%06zx 0x%08zx\n", e->n, op_names[e->op],
			e->off, e->len, e->size);
	}
}

static void die(const struct fsx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void die(const struct fsx *f, const char *fmt, ...)
{
	const struct logent *e = &f->log[f->opnum % LOG_LEN];
	va_list ap;

	if (f->opnum > 0)
		fprintf(stderr,
			"fsx_cairn: seed %" PRIu64 ": op %ld (%s at 0x%zx len 0x%zx): ", f->seed,
			f->opnum, op_names[e->op], e->off, e->len);
	else
		fprintf(stderr, "fsx_cairn: seed %" PRIu64 ": setup: ", f->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_log(f);
	exit(1);
}

static void dump(const char *label, const unsigned char *b, size_t n)
{
	fprintf(stderr, "  %s:", label);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", b[i]);
	fputc('\n', stderr);
}

/* got[0..n) of file i read at off must equal good[off..off+n). */
static void compare(const struct fsx *f, int i, const unsigned char *got, size_t off, size_t n,
		    const char *how)
{
	const unsigned char *exp = f->good + off;
	size_t d, from;

	if (memcmp(got, exp, n) == 0)
		return;
	for (d = 0; got[d] == exp[d]; d++)
		;
	from = d >= 8 ? d - 8 : 0;
	fprintf(stderr,
		"fsx_cairn: %s mismatch in %s (%s) at file offset 0x%zx: "
		"expected 0x%02x, got 0x%02x\n",
		i ? "REFFILE" : "FILE", f->path[i], how, off + d, exp[d], got[d]);
	dump("expected", exp + from, n - from < 24 ? n - from : 24);
	dump("got", got + from, n - from < 24 ? n - from : 24);
	fprintf(stderr, "  (the dumps start at file offset 0x%zx)\n", off + from);
	die(f, "%s: first differing byte at 0x%zx",
	    i ? "REFFILE mismatch (the local file "
		"system or fsx_cairn is wrong)"
	      : "FILE mismatch",
	    off + d);
}

/* ---- file access ---- */

static void pwrite_all(struct fsx *f, int i, const unsigned char *b, size_t n, size_t off)
{
	while (n > 0) {
		ssize_t r = pwrite(f->fd[i], b, n, (off_t)off);

		if (r <= 0)
			die(f, "pwrite of %zu bytes at 0x%zx to %s: %s", n, off, f->path[i],
			    r < 0 ? strerror(errno) : "wrote 0 bytes");
		b += r;
		n -= (size_t)r;
		off += (size_t)r;
	}
}

/* Reads up to n bytes at off (to EOF); the count. */
static size_t pread_full(struct fsx *f, int i, unsigned char *b, size_t n, size_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(f->fd[i], b + got, n - got, (off_t)(off + got));

		if (r < 0)
			die(f, "pread of %zu bytes at 0x%zx from %s: %s", n - got, off + got,
			    f->path[i], strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void open_files(struct fsx *f, int flags)
{
	for (int i = 0; i < 2; i++) {
		f->fd[i] = open(f->path[i], O_RDWR | flags, 0644);
		if (f->fd[i] < 0)
			die(f, "open %s: %s", f->path[i], strerror(errno));
	}
}

static void check_sizes(struct fsx *f)
{
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (fstat(f->fd[i], &st) < 0)
			die(f, "fstat %s: %s", f->path[i], strerror(errno));
		if ((size_t)st.st_size != f->size)
			die(f, "%s %s: size 0x%llx (expected 0x%zx)", i ? "REFFILE" : "FILE",
			    f->path[i], (unsigned long long)st.st_size, f->size);
	}
}

/* Reads [lo, hi) (clipped to the size) of both files against good. */
static void verify(struct fsx *f, size_t lo, size_t hi, const char *how)
{
	if (hi > f->size)
		hi = f->size;
	for (int i = 0; i < 2; i++) {
		for (size_t off = lo; off < hi; off += CHUNK) {
			size_t n = hi - off < CHUNK ? hi - off : CHUNK;

			if (pread_full(f, i, f->got, n, off) != n)
				die(f, "%s: short read at 0x%zx (%s; the size is 0x%zx)",
				    f->path[i], off, how, f->size);
			compare(f, i, f->got, off, n, how);
		}
	}
}

/* Both whole files, and nothing past their end. */
static void check_all(struct fsx *f)
{
	verify(f, 0, f->size, "whole-file check");
	for (int i = 0; i < 2; i++)
		if (pread_full(f, i, f->got, 1, f->size) != 0)
			die(f, "%s: data past the expected end 0x%zx", f->path[i], f->size);
	f->ndirty = 0;
}

/*
 * Every changed range is read back before it is overwritten or cut off,
 * and at the latest VERIFY_EVERY operations later, so that a lost write
 * cannot hide behind a later one.
 */
static void dirty_flush(struct fsx *f)
{
	for (int k = 0; k < f->ndirty; k++)
		verify(f, f->dirty[k].lo, f->dirty[k].hi, "verifying earlier changes");
	f->ndirty = 0;
}

/* Verifies, then forgets, the changed ranges that overlap [lo, hi). */
static void dirty_check(struct fsx *f, size_t lo, size_t hi)
{
	int k = 0;

	while (k < f->ndirty) {
		struct range r = f->dirty[k];

		if (r.hi <= lo || r.lo >= hi) {
			k++;
			continue;
		}
		verify(f, r.lo, r.hi, "verifying a range before it is overwritten or cut");
		f->dirty[k] = f->dirty[--f->ndirty];
	}
}

static void dirty_add(struct fsx *f, size_t lo, size_t hi)
{
	if (lo >= hi)
		return;
	if (f->ndirty == MAX_DIRTY)
		dirty_flush(f);
	f->dirty[f->ndirty++] = (struct range){lo, hi};
}

/* The file grew from old to now: the ends of the new region read zeros. */
static void grown(struct fsx *f, size_t old, size_t now)
{
	if (now - old <= 2 * ZERO_EDGE) {
		dirty_add(f, old, now);
		return;
	}
	dirty_add(f, old, old + ZERO_EDGE);
	dirty_add(f, now - ZERO_EDGE, now);
}

/* ---- operations ---- */

static void op_write(struct fsx *f, struct logent *e)
{
	uint64_t s = f->seed ^ ((uint64_t)f->opnum << 20);

	e->len = rnd_len(f);
	e->off = rnd_off(f, e->len);
	for (size_t i = 0; i < e->len; i += 8) {
		uint64_t v = splitmix(&s);

		memcpy(f->data + i, &v, e->len - i < 8 ? e->len - i : 8);
	}
	dirty_check(f, e->off, e->off + e->len);
	pwrite_all(f, 0, f->data, e->len, e->off);
	pwrite_all(f, 1, f->data, e->len, e->off);
	memcpy(f->good + e->off, f->data, e->len);
	if (e->off > f->size)
		grown(f, f->size, e->off);
	if (e->off + e->len > f->size)
		f->size = e->off + e->len;
	dirty_add(f, e->off, e->off + e->len);
}

static void op_read(struct fsx *f, struct logent *e)
{
	size_t want;

	e->len = rnd_len(f);
	e->off = (size_t)rnd(f, f->size + e->len / 4 + 1);
	if (e->off + e->len > f->maxsize)
		e->off = f->maxsize - e->len;
	want = e->off >= f->size ? 0 : f->size - e->off < e->len ? f->size - e->off : e->len;
	for (int i = 0; i < 2; i++) {
		size_t got = pread_full(f, i, f->got, e->len, e->off);

		if (got != want)
			die(f, "%s: read returned %zu bytes (expected %zu, the size is 0x%zx)",
			    f->path[i], got, want, f->size);
		compare(f, i, f->got, e->off, got, "read");
	}
}

static void set_size(struct fsx *f, size_t size)
{
	size_t old = f->size;

	if (size < old)
		dirty_check(f, size, old);
	for (int i = 0; i < 2; i++)
		if (ftruncate(f->fd[i], (off_t)size) < 0)
			die(f, "ftruncate %s to 0x%zx: %s", f->path[i], size, strerror(errno));
	if (size < old)
		memset(f->good + size, 0, old - size);
	f->size = size;
	if (size > old)
		grown(f, old, size);
}

static void op_truncate(struct fsx *f, struct logent *e)
{
	size_t lo = f->size / 2, hi = f->size + f->maxlen;

	if (rnd(f, 4) == 0 || hi > f->maxsize) {
		lo = 0;
		hi = f->maxsize;
	}
	e->off = lo + (size_t)rnd(f, hi - lo + 1);
	set_size(f, e->off);
}

/* Maps [off, off+len) of file i; *delta is where off lands in the map. */
static unsigned char *map(struct fsx *f, int i, size_t off, size_t len, int prot, size_t *delta)
{
	size_t start = off - off % f->pagesize;
	void *p = mmap(NULL, off + len - start, prot, MAP_SHARED, f->fd[i], (off_t)start);

	if (p == MAP_FAILED)
		die(f, "mmap of %s at 0x%zx: %s", f->path[i], start, strerror(errno));
	*delta = off - start;
	return p;
}

static void op_mapread(struct fsx *f, struct logent *e)
{
	size_t delta;

	if (f->size == 0)
		return;
	e->len = rnd_len(f);
	e->off = (size_t)rnd(f, f->size);
	if (e->len > f->size - e->off)
		e->len = f->size - e->off;
	for (int i = 0; i < 2; i++) {
		unsigned char *p = map(f, i, e->off, e->len, PROT_READ, &delta);

		compare(f, i, p + delta, e->off, e->len, "mmap read");
		munmap(p, delta + e->len);
	}
}

/* MS_SYNC one time in four on FILE; otherwise MS_ASYNC (the page cache). */
static void op_mapwrite(struct fsx *f, struct logent *e)
{
	size_t delta;
	bool sync = rnd(f, 4) == 0;

	e->len = rnd_len(f);
	e->off = rnd_off(f, e->len);
	dirty_check(f, e->off, e->off + e->len);
	if (e->off + e->len > f->size)
		set_size(f, e->off + e->len);
	for (size_t k = 0; k < e->len; k++)
		f->good[e->off + k] = (unsigned char)(f->opnum * 131 + k * 7 + 1);
	for (int i = 0; i < 2; i++, sync = false) {
		unsigned char *p = map(f, i, e->off, e->len, PROT_READ | PROT_WRITE, &delta);

		memcpy(p + delta, f->good + e->off, e->len);
		if (msync(p, delta + e->len, sync ? MS_SYNC : MS_ASYNC) < 0)
			die(f, "msync of %s: %s", f->path[i], strerror(errno));
		munmap(p, delta + e->len);
	}
	dirty_add(f, e->off, e->off + e->len);
}

/* FILE only: syncing the reference would only make it slow. */
static void op_fsync(struct fsx *f, struct logent *e)
{
	e->off = f->opnum & 1;
	if ((e->off ? fdatasync(f->fd[0]) : fsync(f->fd[0])) < 0)
		die(f, "%s of %s: %s", e->off ? "fdatasync" : "fsync", f->path[0], strerror(errno));
}

static void op_reopen(struct fsx *f, struct logent *e)
{
	(void)e;
	for (int i = 0; i < 2; i++)
		if (close(f->fd[i]) < 0)
			die(f, "close of %s: %s", f->path[i], strerror(errno));
	open_files(f, 0);
	dirty_flush(f); /* what was written reads back through the new fds */
}

static void op_fallocate(struct fsx *f, struct logent *e)
{
	size_t old = f->size;

	e->len = rnd_len(f);
	e->off = rnd_off(f, e->len);
	for (int i = 0; i < 2; i++)
		if (fallocate(f->fd[i], 0, (off_t)e->off, (off_t)e->len) < 0)
			die(f, "fallocate of %s: %s", f->path[i], strerror(errno));
	if (e->off + e->len > old) {
		f->size = e->off + e->len;
		grown(f, old, f->size);
	}
	dirty_add(f, e->off, e->off + e->len < old ? e->off + e->len : old); /* unchanged */
}

static void (*const op_fns[OP_COUNT])(struct fsx *, struct logent *) = {
    op_write, op_read, op_truncate, op_mapread, op_mapwrite, op_fsync, op_reopen, op_fallocate,
};

static enum op pick_op(struct fsx *f)
{
	for (;;) {
		int r = (int)rnd(f, 100);
		enum op op = 0;

		while (r >= op_weights[op])
			r -= op_weights[op++];
		if (op != OP_FALLOCATE || f->falloc)
			return op;
	}
}

/* fallocate mode 0 works on both files (probed on the empty files). */
static bool probe_fallocate(struct fsx *f)
{
	for (int i = 0; i < 2; i++) {
		if (fallocate(f->fd[i], 0, 0, 1) == 0)
			continue;
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			die(f, "fallocate of %s: %s", f->path[i], strerror(errno));
		printf("fsx_cairn: note: fallocate is not supported on %s (%s); skipping it\n",
		       f->path[i], strerror(errno));
		return false;
	}
	for (int i = 0; i < 2; i++)
		if (ftruncate(f->fd[i], 0) < 0)
			die(f, "ftruncate %s: %s", f->path[i], strerror(errno));
	return true;
}

static void run(struct fsx *f)
{
	open_files(f, O_CREAT | O_TRUNC);
	f->falloc = probe_fallocate(f);
	for (f->opnum = 1; f->opnum <= f->nops; f->opnum++) {
		struct logent *e = &f->log[f->opnum % LOG_LEN];

		*e = (struct logent){.n = f->opnum, .op = pick_op(f)};
		op_fns[e->op](f, e);
		e->size = f->size;
		f->count[e->op]++;
		check_sizes(f);
		if (f->opnum % CHECK_EVERY == 0)
			check_all(f);
		else if (f->opnum % VERIFY_EVERY == 0)
			dirty_flush(f);
	}
	f->opnum--;
	check_all(f);
	for (int i = 0; i < 2; i++)
		close(f->fd[i]);
}

/* ---- arguments ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: fsx_cairn [-N ops] [-S seed] [-l maxlen] [-o maxsize] FILE REFFILE\n"
		"  -N ops      number of operations (default 100000)\n"
		"  -S seed     random seed (default: from the clock)\n"
		"  -l maxlen   longest read, write, mmap or fallocate (default 256K)\n"
		"  -o maxsize  largest file size, never exceeded (default 16M)\n");
	exit(2);
}

/* A size with an optional K or M suffix, in [lo, hi]; exits on bad input. */
static size_t parse_size(const char *s, const char *what, size_t lo, size_t hi)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	if (shift && end != s)
		end++;
	if (v > (ULLONG_MAX >> shift))
		errno = ERANGE;
	v <<= shift;
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "fsx_cairn: bad %s '%s' (expected %zu to %zu)\n", what, s, lo, hi);
		exit(2);
	}
	return (size_t)v;
}

static void parse_args(struct fsx *f, int argc, char **argv)
{
	bool seeded = false;
	int c;

	while ((c = getopt(argc, argv, "N:S:l:o:")) != -1) {
		switch (c) {
		case 'N':
			f->nops = (long)parse_size(optarg, "operation count", 0, 1000000000);
			break;
		case 'S':
			f->seed = parse_size(optarg, "seed", 0, SIZE_MAX);
			seeded = true;
			break;
		case 'l':
			f->maxlen = parse_size(optarg, "maxlen", 1, 64u << 20);
			break;
		case 'o':
			f->maxsize = parse_size(optarg, "maxsize", 4096, 1u << 30);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (f->maxlen > f->maxsize) {
		fprintf(stderr, "fsx_cairn: maxlen %zu exceeds maxsize %zu\n", f->maxlen,
			f->maxsize);
		exit(2);
	}
	f->path[0] = argv[optind];
	f->path[1] = argv[optind + 1];
	if (!seeded)
		f->seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
}

int main(int argc, char **argv)
{
	static struct fsx f = {.nops = 100000, .maxlen = 256u << 10, .maxsize = 16u << 20};

	parse_args(&f, argc, argv);
	f.rng = f.seed;
	f.pagesize = (size_t)sysconf(_SC_PAGESIZE);
	f.good = calloc(1, f.maxsize);
	f.data = malloc(f.maxlen + 8);
	f.got = malloc(f.maxlen > CHUNK ? f.maxlen : CHUNK);
	if (!f.good || !f.data || !f.got) {
		fprintf(stderr, "fsx_cairn: out of memory\n");
		return 1;
	}
	printf("fsx_cairn: seed %" PRIu64 ", %ld ops, maxlen %zu, maxsize %zu, %s against %s\n",
	       f.seed, f.nops, f.maxlen, f.maxsize, f.path[0], f.path[1]);
	fflush(stdout);
	run(&f);
	printf("fsx_cairn: %ld ops, all matched, final size %zu;", f.nops, f.size);
	for (int i = 0; i < OP_COUNT; i++)
		printf(" %s %ld", op_names[i], f.count[i]);
	printf("\n");
	free(f.good);
	free(f.data);
	free(f.got);
	return 0;
}
