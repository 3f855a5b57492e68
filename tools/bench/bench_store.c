/*
 * bench_store.c - the OSD chunk store against plain file I/O in the same
 * directory: 1 MiB chunk writes (store: versioned, checksummed, synced and
 * renamed; plain: create, pwrite, fdatasync, close), 1 MiB reads, and 4 KiB
 * random reads, each with T threads.
 *
 * Usage: bench_store DIR [THREADS [CHUNKS [RANDOM_READS]]] [--direct]
 * DIR must not exist yet; it is created and removed.  Prints MB/s or
 * operations/s for both and the store's share of plain I/O.
 *
 * Threads: T worker threads per phase, each with its own chunks or random
 * stream; the main thread only starts, joins and prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "osd/store.h"

#define CHUNK (1u << 20)
#define SMALL 4096u
#define PASSES 8 /* 1 MiB reads go over every chunk this many times */

struct bench {
	const char *dir;
	char plain[512];
	struct osd_store *st;
	int threads;
	int chunks; /* per thread */
	int rreads; /* random reads per thread */
	bool direct;
};

struct job {
	struct bench *b;
	int t;
	int phase;
	int err;
	uint8_t *buf;
};

enum { PH_SWRITE, PH_PWRITE, PH_SREAD, PH_PREAD, PH_SRAND, PH_PRAND };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct osd_chunk_id chunk_id(int t, int i)
{
	struct osd_chunk_id id = {.pool = 1, .pg = (uint32_t)(i % 16), .ino = (uint64_t)t + 1,
				  .stripe = (uint64_t)i, .idx = 0};

	return id;
}

static void plain_path(const struct bench *b, int t, int i, char *out, size_t cap)
{
	snprintf(out, cap, "%s/t%d.c%d", b->plain, t, i);
}

static int plain_write(const struct bench *b, int t, int i, const uint8_t *buf)
{
	char path[600];
	int fd, ret = 0;

	plain_path(b, t, i, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (b->direct ? O_DIRECT : 0), 0640);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, buf, CHUNK, 0) != CHUNK || fdatasync(fd) != 0)
		ret = -EIO;
	close(fd);
	return ret;
}

static int plain_read(const struct bench *b, int t, int i, uint64_t off, size_t len,
		      uint8_t *buf)
{
	char path[600];
	int fd, ret = 0;

	plain_path(b, t, i, path, sizeof(path));
	fd = open(path, O_RDONLY | (b->direct ? O_DIRECT : 0));
	if (fd < 0)
		return -errno;
	if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct bench *b = j->b;
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(j->t + 1);
	int n = j->phase >= PH_SRAND ? b->rreads : b->chunks * (j->phase >= PH_SREAD ? PASSES : 1);

	for (int k = 0; k < n && !j->err; k++) {
		int c = (int)(rnd(&s) % (uint64_t)b->chunks), i = k % b->chunks;
		uint64_t off = rnd(&s) % (CHUNK / SMALL) * SMALL;
		struct osd_chunk_id id = chunk_id(j->t, j->phase >= PH_SRAND ? c : i);

		switch (j->phase) {
		case PH_SWRITE:
			j->err = osd_store_write(b->st, &id, 1, 0, j->buf, CHUNK, 0);
			break;
		case PH_PWRITE:
			j->err = plain_write(b, j->t, i, j->buf);
			break;
		case PH_SREAD:
			j->err = osd_store_read(b->st, &id, 0, 0, j->buf, CHUNK, NULL);
			break;
		case PH_PREAD:
			j->err = plain_read(b, j->t, i, 0, CHUNK, j->buf);
			break;
		case PH_SRAND:
			j->err = osd_store_read(b->st, &id, 0, off, j->buf, SMALL, NULL);
			break;
		default:
			j->err = plain_read(b, j->t, c, off, SMALL, j->buf);
			break;
		}
	}
	osd_store_thread_cleanup();
	return NULL;
}

/* Runs one phase on every thread; returns the elapsed seconds or < 0. */
static double run(struct bench *b, int phase)
{
	pthread_t tid[64];
	struct job jobs[64];
	double t0 = now();
	int err = 0;

	for (int t = 0; t < b->threads; t++) {
		jobs[t] = (struct job){.b = b, .t = t, .phase = phase};
		if (posix_memalign((void **)&jobs[t].buf, 4096, CHUNK) != 0)
			return -1;
		memset(jobs[t].buf, 0x40 + t, CHUNK);
		pthread_create(&tid[t], NULL, worker, &jobs[t]);
	}
	for (int t = 0; t < b->threads; t++) {
		pthread_join(tid[t], NULL);
		if (jobs[t].err && !err)
			err = jobs[t].err;
		free(jobs[t].buf);
	}
	if (err) {
		fprintf(stderr, "bench_store: phase %d failed: %s\n", phase, error_str(err));
		return -1;
	}
	return now() - t0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void report(const char *what, double store_s, double plain_s, double units,
		   const char *unit)
{
	printf("%-22s store %10.1f %s   plain %10.1f %s   store/plain %5.1f%%\n", what,
	       units / store_s, unit, units / plain_s, unit, 100.0 * plain_s / store_s);
}

int main(int argc, char **argv)
{
	struct bench b = {.threads = 4, .chunks = 64, .rreads = 20000};
	struct osd_store_opts opts = {0};
	double t[6];
	int pos = 0, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--direct") == 0)
			b.direct = true;
		else if (pos == 0 && ++pos)
			b.dir = argv[i];
		else if (pos == 1 && ++pos)
			b.threads = atoi(argv[i]);
		else if (pos == 2 && ++pos)
			b.chunks = atoi(argv[i]);
		else if (pos == 3 && ++pos)
			b.rreads = atoi(argv[i]);
	}
	if (!b.dir || b.threads < 1 || b.threads > 64 || b.chunks < 1 || b.rreads < 1) {
		fprintf(stderr, "usage: bench_store DIR [THREADS [CHUNKS [RANDOM_READS]]] "
				"[--direct]\n");
		return 2;
	}
	if (mkdir(b.dir, 0750) != 0) {
		fprintf(stderr, "bench_store: cannot create %s: %s\n", b.dir, strerror(errno));
		return 1;
	}
	snprintf(b.plain, sizeof(b.plain), "%s/plain", b.dir);
	char sdir[600];

	snprintf(sdir, sizeof(sdir), "%s/store", b.dir);
	opts.direct_io = b.direct;
	if (mkdir(b.plain, 0750) != 0 || osd_store_format(sdir, 1) != 0 ||
	    osd_store_open(sdir, 1, &opts, &b.st) != 0)
		goto out;
	printf("%d threads, %d x 1 MiB chunks each, %d random 4 KiB reads each%s\n", b.threads,
	       b.chunks, b.rreads, b.direct ? ", O_DIRECT" : "");
	for (int p = 0; p < 6; p++) {
		t[p] = run(&b, p);
		if (t[p] < 0)
			goto out;
	}
	report("1 MiB writes", t[PH_SWRITE], t[PH_PWRITE], (double)b.threads * b.chunks,
	       "MiB/s");
	report("1 MiB reads", t[PH_SREAD], t[PH_PREAD], (double)b.threads * b.chunks * PASSES,
	       "MiB/s");
	report("4 KiB random reads", t[PH_SRAND], t[PH_PRAND], (double)b.threads * b.rreads,
	       "ops/s");
	ret = 0;
out:
	osd_store_close(b.st);
	nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
