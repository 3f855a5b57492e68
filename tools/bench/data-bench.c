/*
 * data-bench.c - file data throughput through libcairn against a local file
 * in the same directory tree, in the same run.
 *
 * Phases, on a file in the cluster and then on a local file:
 *   seq write    --size bytes in --unit writes (rounded to whole stripes),
 *                T threads (--threads) taking disjoint units in turn, then
 *                one fsync; the time includes the fsync
 *   seq read     the whole file in units from T threads with a cold client:
 *                the libcairn handle is closed and opened again first (the
 *                OSDs' page cache stays warm); the local file is closed and
 *                reopened, nothing is dropped from the page cache
 *   rand read    4 KiB reads at random 4 KiB-aligned offsets from R threads
 *                (--rand-threads, default 4) for --seconds
 * Every 4 KiB block read is checked against the offset stamped in it when
 * written.  Memory: one unit buffer per thread.
 *
 * Without --conf it starts its own cluster with tools/cairn-cluster (2
 * shards, 6 OSDs in 3 hosts, pool ec:4+2) in a fresh directory under
 * --dir (default $TMPDIR or /tmp), puts the local file in that directory,
 * and stops the cluster and removes the directory at the end, on failure,
 * and on SIGINT/SIGTERM/SIGHUP.  With --conf the bench files are removed
 * at the end.
 *
 *   data-bench [--conf FILE] [--size N[KMG]] [--unit N[KMG]] [--threads T]
 *              [--rand-threads R] [--seconds S] [--seed N] [--dir DIR]
 *              [--build DIR] [--script PATH]
 *
 * Threads: the main thread and the workers of each phase, joined at its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "cluster_run.h"

#ifndef BENCH_BUILD_DIR
#define BENCH_BUILD_DIR "build"
#endif
#ifndef BENCH_CLUSTER_SCRIPT
#define BENCH_CLUSTER_SCRIPT "tools/cairn-cluster"
#endif

#define MAX_THREADS 64
#define BLK 4096u

struct opts {
	const char *conf;
	uint64_t size;
	uint64_t unit;
	uint32_t threads;
	uint32_t rthreads;
	uint32_t seconds;
	uint64_t seed;
	const char *dir;
	const char *build;
	const char *script;
};

enum phase { PH_WRITE, PH_READ, PH_RAND, PH_COUNT };

/* One target: the cluster file or the local file. */
struct target {
	struct cairn_file *f; /* NULL: local */
	int fd;
};

/* One phase on one target. */
struct job {
	const struct opts *o;
	struct target *t;
	enum phase ph;
	atomic_uint_fast64_t next; /* sequential: next unit */
	atomic_uint_fast64_t ops;  /* random: reads done */
	atomic_bool stop;
	atomic_int failed;
};

struct worker {
	struct job *j;
	uint32_t id;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail_once(struct job *j, int rc, const char *what, uint64_t off)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&j->failed, &zero, rc ? rc : -EIO))
		fprintf(stderr, "data-bench: %s at %" PRIu64 ": %s\n", what, off,
			cairn_strerror(rc ? rc : -EIO));
}

static ssize_t t_pwrite(struct target *t, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (t->f)
		return cairn_pwrite(t->f, buf, len, off);
	n = pwrite(t->fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static ssize_t t_pread(struct target *t, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (t->f)
		return cairn_pread(t->f, buf, len, off);
	n = pread(t->fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

/* Stamps each 4 KiB block of buf (file offset off) with its offset and a mix of it. */
static void stamp(uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i += BLK) {
		uint64_t v[2] = {off + i, (off + i) * 0x9e3779b97f4a7c15ull};

		memcpy(buf + i, v, sizeof(v));
	}
}

static bool stamped(const uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i += BLK) {
		uint64_t v[2] = {off + i, (off + i) * 0x9e3779b97f4a7c15ull};

		if (memcmp(buf + i, v, sizeof(v)) != 0)
			return false;
	}
	return true;
}

/* Sequential phases: units taken in turn until the file is covered. */
static void seq_loop(struct worker *w, uint8_t *buf)
{
	struct job *j = w->j;
	uint64_t size = j->o->size, unit = j->o->unit, u, off;
	size_t len;
	ssize_t n;

	while (!atomic_load(&j->failed)) {
		u = atomic_fetch_add(&j->next, 1);
		off = u * unit;
		if (off >= size)
			break;
		len = (size_t)(size - off < unit ? size - off : unit);
		if (j->ph == PH_WRITE) {
			stamp(buf, len, off);
			n = t_pwrite(j->t, buf, len, off);
		} else {
			n = t_pread(j->t, buf, len, off);
			if (n == (ssize_t)len && !stamped(buf, len, off))
				n = -EIO;
		}
		if (n != (ssize_t)len)
			fail_once(j, n < 0 ? (int)n : -EIO, j->ph == PH_WRITE ? "write" : "read", off);
	}
}

static void rand_loop(struct worker *w, uint8_t *buf)
{
	struct job *j = w->j;
	uint64_t x = (j->o->seed ^ (0x2545f4914f6cdd1dull * (w->id + 1))) | 1, off;
	uint64_t blocks = j->o->size / BLK;
	ssize_t n;

	while (!atomic_load(&j->stop) && !atomic_load(&j->failed)) {
		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		off = (x % blocks) * BLK;
		n = t_pread(j->t, buf, BLK, off);
		if (n != BLK || !stamped(buf, BLK, off))
			fail_once(j, n < 0 ? (int)n : -EIO, "random read", off);
		atomic_fetch_add(&j->ops, 1);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = NULL;
	size_t len = w->j->ph == PH_RAND ? BLK : (size_t)w->j->o->unit;

	if (posix_memalign((void **)&buf, BLK, len)) {
		fail_once(w->j, -ENOMEM, "buffer", 0);
		return NULL;
	}
	memset(buf, 0xa5, len);
	if (w->j->ph == PH_RAND)
		rand_loop(w, buf);
	else
		seq_loop(w, buf);
	free(buf);
	return NULL;
}

static int t_fsync(struct target *t)
{
	if (t->f)
		return cairn_fsync(t->f, false);
	return fsync(t->fd) ? -errno : 0;
}

/* Runs phase ph on t; returns MB/s (sequential) or ops/s (random), or -1. */
static double run_phase(const struct opts *o, struct target *t, enum phase ph)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	struct job j = {.o = o, .t = t, .ph = ph};
	uint32_t n = ph == PH_RAND ? o->rthreads : o->threads, started = 0;
	double t0 = now_s(), secs;
	int rc;

	for (; started < n; started++) {
		w[started] = (struct worker){.j = &j, .id = started};
		if (pthread_create(&tid[started], NULL, worker_main, &w[started])) {
			fail_once(&j, -EAGAIN, "pthread_create", started);
			break;
		}
	}
	if (ph == PH_RAND) {
		while (!atomic_load(&j.failed) && now_s() - t0 < o->seconds)
			usleep(10000);
		atomic_store(&j.stop, true);
	}
	for (uint32_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (ph == PH_WRITE && !atomic_load(&j.failed) && (rc = t_fsync(t)) != 0)
		fail_once(&j, rc, "fsync", 0);
	secs = now_s() - t0;
	if (atomic_load(&j.failed))
		return -1;
	if (ph == PH_RAND)
		return (double)atomic_load(&j.ops) / secs;
	return (double)o->size / secs / 1e6;
}

/* ---- the two targets ---- */

static int open_client(const char *conf, struct cairn **c)
{
	char err[512] = "";
	struct cairn_open_opts oo = {.conf_path = conf, .errbuf = err, .errlen = sizeof(err)};
	int rc = cairn_open(&oo, c);

	if (rc)
		fprintf(stderr, "data-bench: %s\n", err[0] ? err : cairn_strerror(rc));
	return rc;
}

/* The three phases on the cluster: res[PH_*]. */
static int bench_cairn(const struct opts *o, const char *conf, double res[PH_COUNT])
{
	struct cairn *c = NULL;
	struct target t = {.fd = -1};
	struct cairn_layout l;
	char name[64];
	uint64_t ino;
	int rc;

	snprintf(name, sizeof(name), "data-bench-%d-%ld", (int)getpid(), (long)time(NULL));
	if (open_client(conf, &c))
		return -1;
	rc = cairn_file_create(c, NULL, CAIRN_ROOT_INO, name, 0644, O_RDWR | O_EXCL, &t.f);
	if (rc) {
		fprintf(stderr, "data-bench: create /%s: %s\n", name, cairn_strerror(rc));
		goto out;
	}
	ino = cairn_file_ino(t.f);
	if (!cairn_file_layout(t.f, &l))
		fprintf(stderr, "data-bench: libcairn file /%s: pool %u, %s %u+%u, chunk %u KiB\n",
			name, l.pool_id, l.scheme == CAIRN_SCHEME_EC ? "ec" : "rep", l.k, l.m,
			l.chunk_size / 1024);
	rc = -1;
	res[PH_WRITE] = run_phase(o, &t, PH_WRITE);
	if (res[PH_WRITE] < 0)
		goto out;
	fprintf(stderr, "  libcairn seq write %10.0f MB/s\n", res[PH_WRITE]);
	/* cold client: a new struct cairn, nothing cached in this process */
	cairn_file_close(t.f);
	t.f = NULL;
	cairn_close(c);
	c = NULL;
	if (open_client(conf, &c) || cairn_file_open(c, NULL, ino, O_RDONLY, &t.f)) {
		fprintf(stderr, "data-bench: cannot reopen /%s\n", name);
		goto out;
	}
	res[PH_READ] = run_phase(o, &t, PH_READ);
	if (res[PH_READ] < 0)
		goto out;
	fprintf(stderr, "  libcairn seq read  %10.0f MB/s\n", res[PH_READ]);
	res[PH_RAND] = run_phase(o, &t, PH_RAND);
	if (res[PH_RAND] < 0)
		goto out;
	fprintf(stderr, "  libcairn 4K rand   %10.0f /s\n", res[PH_RAND]);
	rc = 0;
out:
	cairn_file_close(t.f);
	if (c && cairn_unlink(c, NULL, CAIRN_ROOT_INO, name) && rc == 0)
		fprintf(stderr, "data-bench: could not remove /%s from the cluster\n", name);
	cairn_close(c);
	return rc;
}

/* The local file, for the signal handler (with --conf it is not in a removed dir). */
static char sig_local[PATH_MAX];

static int bench_local(const struct opts *o, const char *dir, double res[PH_COUNT])
{
	struct target t = {.fd = -1};
	int rc = -1;

	snprintf(sig_local, sizeof(sig_local), "%s/data-bench-local-%d", dir, (int)getpid());
	t.fd = open(sig_local, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (t.fd < 0) {
		fprintf(stderr, "data-bench: %s: %s\n", sig_local, strerror(errno));
		sig_local[0] = '\0';
		return -1;
	}
	cluster_run_guard_file(sig_local);
	fprintf(stderr, "data-bench: local file %s\n", sig_local);
	res[PH_WRITE] = run_phase(o, &t, PH_WRITE);
	if (res[PH_WRITE] < 0)
		goto out;
	fprintf(stderr, "  local    seq write %10.0f MB/s\n", res[PH_WRITE]);
	close(t.fd);
	t.fd = open(sig_local, O_RDONLY);
	if (t.fd < 0)
		goto out;
	res[PH_READ] = run_phase(o, &t, PH_READ);
	if (res[PH_READ] < 0)
		goto out;
	fprintf(stderr, "  local    seq read  %10.0f MB/s\n", res[PH_READ]);
	res[PH_RAND] = run_phase(o, &t, PH_RAND);
	if (res[PH_RAND] < 0)
		goto out;
	fprintf(stderr, "  local    4K rand   %10.0f /s\n", res[PH_RAND]);
	rc = 0;
out:
	if (t.fd >= 0)
		close(t.fd);
	unlink(sig_local);
	cluster_run_guard_file(NULL);
	sig_local[0] = '\0';
	return rc;
}

/* Both targets; local first so the cluster's write is not behind its writeback. */
static int bench(const struct opts *o, const char *conf, const char *dir, double cairn[PH_COUNT],
		 double local[PH_COUNT])
{
	if (bench_local(o, dir, local))
		return -1;
	/* let the local file's dirty pages settle before the cluster writes */
	sync();
	return bench_cairn(o, conf, cairn);
}

/* ---- the cluster started for the benchmark ---- */

static int cluster_up(const struct opts *o, const char *dir, char *conf, size_t len)
{
	char *argv[] = {"/bin/bash", (char *)o->script, "up",	  "--dir", (char *)dir,
			"--build",   (char *)o->build,	"--shards", "2",     "--osd",
			"6",	     "--hosts",		"3",	    "--pool", "ec:4+2",
			NULL};

	return cluster_run_cmd(argv, conf, len);
}

static int cluster_down(const struct opts *o, const char *dir)
{
	char out[256];
	char *argv[] = {"/bin/bash", (char *)o->script, "down", "--dir", (char *)dir, NULL};

	return cluster_run_cmd(argv, out, sizeof(out));
}

/* Starts the cluster, runs on it, stops it whatever happened. */
static int run_cluster(const struct opts *o, double cairn[PH_COUNT], double local[PH_COUNT])
{
	char dir[PATH_MAX], conf[PATH_MAX + 64];
	int rc, rc2;

	snprintf(dir, sizeof(dir), "%s/data-bench-XXXXXX", o->dir);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "data-bench: mkdtemp %s: %s\n", dir, strerror(errno));
		return -1;
	}
	fprintf(stderr, "data-bench: cluster (2 shards, 6 OSDs, 3 hosts, ec:4+2) in %s\n", dir);
	cluster_run_guard_dir(dir);
	rc = cluster_up(o, dir, conf, sizeof(conf));
	if (rc != 0)
		fprintf(stderr, "data-bench: %s up failed (exit %d)\n", o->script, rc);
	else
		rc = bench(o, conf, dir, cairn, local);
	rc2 = cluster_down(o, dir);
	cluster_run_guard_dir(NULL);
	if (rc2 != 0)
		fprintf(stderr, "data-bench: %s down --dir %s failed\n", o->script, dir);
	else
		cluster_run_rmtree(dir);
	return rc;
}

/* ---- command line and report ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: data-bench [--conf FILE] [--size N[KMG]] [--unit N[KMG]] [--threads T]\n"
		"                  [--rand-threads R] [--seconds S] [--seed N] [--dir DIR]\n"
		"                  [--build DIR] [--script PATH]\n");
	exit(2);
}

/* A byte count with an optional K, M or G (binary) suffix, in [lo, hi]. */
static uint64_t parse_bytes(const char *s, uint64_t lo, uint64_t hi, const char *what)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || *s == '-' || v > (hi >> shift) || (v << shift) < lo) {
		fprintf(stderr, "data-bench: bad %s '%s' (%" PRIu64 "..%" PRIu64 " bytes)\n", what,
			s, lo, hi);
		exit(2);
	}
	return (uint64_t)v << shift;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"conf", required_argument, NULL, 'c'},	    {"size", required_argument, NULL, 's'},
	    {"unit", required_argument, NULL, 'u'},	    {"threads", required_argument, NULL, 't'},
	    {"rand-threads", required_argument, NULL, 'r'}, {"seconds", required_argument, NULL, 'S'},
	    {"seed", required_argument, NULL, 'e'},	    {"dir", required_argument, NULL, 'd'},
	    {"build", required_argument, NULL, 'b'},	    {"script", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},		    {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 's':
			o->size = parse_bytes(optarg, BLK, 1ull << 40, "size");
			break;
		case 'u':
			o->unit = parse_bytes(optarg, BLK, 256ull << 20, "unit");
			break;
		case 't':
			o->threads = (uint32_t)parse_bytes(optarg, 1, MAX_THREADS, "threads");
			break;
		case 'r':
			o->rthreads = (uint32_t)parse_bytes(optarg, 1, MAX_THREADS, "rand-threads");
			break;
		case 'S':
			o->seconds = (uint32_t)parse_bytes(optarg, 1, 3600, "seconds");
			break;
		case 'e':
			o->seed = parse_bytes(optarg, 0, UINT64_MAX >> 30, "seed");
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'b':
			o->build = optarg;
			break;
		case 'x':
			o->script = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* whole 4 KiB blocks, and units of whole 4 MiB (a 4+2 stripe of 1 MiB chunks) */
	o->size -= o->size % BLK;
	if (o->unit >= (4u << 20))
		o->unit -= o->unit % (4u << 20);
	else
		o->unit -= o->unit % BLK;
}

static void report(const struct opts *o, const double c[PH_COUNT], const double l[PH_COUNT])
{
	static const char *const what[PH_COUNT] = {"seq write + fsync", "seq read, cold client",
						   "4 KiB random reads"};
	static const char *const target[PH_COUNT] = {">= 700 MB/s", ">= 1500 MB/s",
						     ">= 30,000/s"};
	static const double goal[PH_COUNT] = {700, 1500, 30000};

	printf("data-bench: %" PRIu64 " MiB file, %" PRIu64 " MiB per call, %u threads; "
	       "random reads: %u threads, %u s, seed %" PRIu64 "\n",
	       o->size >> 20, o->unit >> 20, o->threads, o->rthreads, o->seconds, o->seed);
	printf("| test | local file | libcairn | ratio | target |\n|---|---|---|---|---|\n");
	for (int p = 0; p < PH_COUNT; p++) {
		const char *u = p == PH_RAND ? "/s" : " MB/s";

		printf("| %s | %.0f%s | %.0f%s | %.2f | %s (%s) |\n", what[p], l[p], u, c[p], u,
		       l[p] > 0 ? c[p] / l[p] : 0, target[p], c[p] >= goal[p] ? "met" : "not met");
	}
	printf("The local file is read and written through the page cache (nothing dropped);\n"
	       "the cluster's cold read starts a new client, but the OSDs' page cache is warm.\n");
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	struct opts o = {.size = 2ull << 30,
			 .unit = 16u << 20,
			 .threads = 4,
			 .rthreads = 4,
			 .seconds = 10,
			 .dir = tmp && *tmp ? tmp : "/tmp",
			 .build = BENCH_BUILD_DIR,
			 .script = BENCH_CLUSTER_SCRIPT};
	double cairn[PH_COUNT] = {0}, local[PH_COUNT] = {0};
	struct sigaction ign = {.sa_handler = SIG_IGN};
	int rc;

	o.seed = (uint64_t)time(NULL);
	parse_opts(argc, argv, &o);
	if (o.seed == 0)
		o.seed = 1; /* xorshift needs a nonzero state */
	sigaction(SIGPIPE, &ign, NULL);
	cluster_run_guard_signals(o.script);
	fprintf(stderr, "data-bench: random read seed %" PRIu64 "\n", o.seed);
	if (o.conf)
		rc = bench(&o, o.conf, o.dir, cairn, local);
	else
		rc = run_cluster(&o, cairn, local);
	if (rc)
		return 1;
	report(&o, cairn, local);
	return 0;
}
