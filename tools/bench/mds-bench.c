/*
 * mds-bench.c - metadata throughput through libcairn, with no FUSE in the
 * way: T client threads share one struct cairn, as cairn-fuse's threads do.
 *
 * Phases (ops/s each, wall time from the first to the last operation):
 *   mkdir        M directories under a fresh bench directory
 *   create       N files spread over those directories: create + close, the
 *                two MDS requests behind creat(2) and close(2)
 *   stat         getattr of every file by inode (stat(2) on a warm dentry)
 *   lookup       lookup of every file by name (stat(2) on a cold dentry)
 *   readdirplus  one listing with attributes of a directory of E entries
 *                (made with mknod by the T threads: "fill dir" phase)
 *   unlink       every file, then rmdir of the directories
 *
 * Without --conf it starts its own clusters with tools/cairn-cluster, one
 * per entry of --shards (default "1,4"), runs the phases on each and prints
 * them side by side with the peak resident memory of the MDS processes
 * (VmHWM in /proc).  --fill N instead creates N files (e.g. 1000000) in
 * directories of 10,000 on one shard and reports the MDS's memory, the
 * figure the 200 MiB target is about; with --conf the files stay.
 *
 *   mds-bench [--conf FILE] [--files N] [--dirs M] [--threads T]
 *             [--readdir-entries E] [--shards LIST] [--fill N]
 *             [--build DIR] [--script PATH]
 *
 * Threads: the main thread and T workers per phase, joined at its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "cluster_run.h"
#include "common/log.h"

#ifndef BENCH_BUILD_DIR
#define BENCH_BUILD_DIR "build"
#endif
#ifndef BENCH_CLUSTER_SCRIPT
#define BENCH_CLUSTER_SCRIPT "tools/cairn-cluster"
#endif

#define MAX_RUNS 8
#define MAX_THREADS 256

enum phase {
	PH_MKDIR,
	PH_CREATE,
	PH_STAT,
	PH_LOOKUP,
	PH_FILLDIR,
	PH_READDIRPLUS,
	PH_UNLINK,
	PH_RMDIR,
	PH_COUNT,
};

static const char *const phase_names[PH_COUNT] = {
    "mkdir", "create", "stat", "lookup", "fill dir", "readdirplus", "unlink", "rmdir",
};

struct opts {
	const char *conf;
	uint32_t files;
	uint32_t dirs;
	uint32_t threads;
	uint32_t entries;
	uint32_t fill; /* 0: the phases; else files to fill */
	unsigned shards[MAX_RUNS];
	unsigned nruns;
	const char *build;
	const char *script;
};

/* What one run measured. */
struct result {
	double rate[PH_COUNT];	  /* ops/s (readdirplus: entries/s) */
	double cpu_cli[PH_COUNT]; /* CPU microseconds per op: this process */
	double cpu_mds[PH_COUNT]; /* and the MDS processes (< 0: unknown) */
	double rss_mib;		  /* peak RSS of all MDS processes; < 0 unknown */
	double rss_now_mib;
};

/* One benchmark on one cluster. */
struct run {
	const struct opts *o;
	struct cairn *c;
	uint64_t root;	 /* the bench directory */
	uint64_t *dirs;	 /* [o->dirs] */
	uint64_t *files; /* [o->files] */
	uint64_t bigdir; /* the readdir directory */
	const char *dir; /* the cluster's directory (pids), NULL with --conf */
	enum phase phase;
	atomic_int failed; /* first error */
	atomic_uint next;  /* fill mode: next item */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail_once(struct run *r, int rc, const char *what, uint32_t i)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&r->failed, &zero, rc))
		fprintf(stderr, "mds-bench: %s %u: %s\n", what, i, cairn_strerror(rc));
}

static void name_of(char *buf, size_t len, char kind, uint32_t i)
{
	snprintf(buf, len, "%c%08u", kind, i);
}

/* One item of the current phase. */
static void do_item(struct run *r, uint32_t i)
{
	uint32_t nd = r->o->dirs;
	struct cairn_open_info oi;
	struct cairn_attr a;
	char name[32];
	int rc = 0;

	switch (r->phase) {
	case PH_MKDIR:
		name_of(name, sizeof(name), 'd', i);
		rc = cairn_mkdir(r->c, NULL, r->root, name, 0755, &a);
		r->dirs[i] = a.ino;
		break;
	case PH_CREATE:
		name_of(name, sizeof(name), 'f', i);
		rc = cairn_create(r->c, NULL, r->dirs[i % nd], name, 0644, O_WRONLY | O_EXCL, &oi);
		if (!rc) {
			r->files[i] = oi.attr.ino;
			rc = cairn_close_meta(r->c, NULL, oi.attr.ino, oi.fh, NULL, NULL);
		}
		break;
	case PH_STAT:
		rc = cairn_getattr(r->c, NULL, r->files[i], &a);
		break;
	case PH_LOOKUP:
		name_of(name, sizeof(name), 'f', i);
		rc = cairn_lookup(r->c, NULL, r->dirs[i % nd], name, &a);
		if (!rc && a.ino != r->files[i])
			rc = -EIO;
		break;
	case PH_FILLDIR:
		name_of(name, sizeof(name), 'e', i);
		rc = cairn_mknod(r->c, NULL, r->bigdir, name, S_IFREG | 0644, 0, NULL);
		break;
	case PH_UNLINK:
		name_of(name, sizeof(name), 'f', i);
		rc = cairn_unlink(r->c, NULL, r->dirs[i % nd], name);
		break;
	case PH_RMDIR:
		name_of(name, sizeof(name), 'd', i);
		rc = cairn_rmdir(r->c, NULL, r->root, name);
		break;
	default:
		break;
	}
	if (rc)
		fail_once(r, rc, phase_names[r->phase], i);
}

struct worker {
	struct run *r;
	uint32_t t, nthreads, count;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = w->t; i < w->count && !atomic_load(&w->r->failed); i += w->nthreads)
		do_item(w->r, i);
	return NULL;
}

/* CPU seconds of process pid (utime + stime of /proc/PID/stat), or -1. */
static double proc_cpu(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold spaces; fields follow it */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds so far of this process, and of the MDS processes (-1: unknown). */
static void cpu_now(const struct run *r, double *cli, double *mds)
{
	char path[PATH_MAX + 64];

	*cli = proc_cpu((long)getpid());
	*mds = r->dir ? 0 : -1;
	for (unsigned i = 0; r->dir && i < 64; i++) {
		long pid = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/run/mds%u.pid", r->dir, i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fscanf(f, "%ld", &pid) != 1 || proc_cpu(pid) < 0)
			*mds = -1;
		else if (*mds >= 0)
			*mds += proc_cpu(pid);
		fclose(f);
	}
}

/* Runs count items of phase over the threads; returns ops/s or -1. */
static double run_phase(struct run *r, enum phase ph, uint32_t count)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	uint32_t n = r->o->threads;
	double t0;

	r->phase = ph;
	t0 = now_s();
	for (uint32_t t = 0; t < n; t++) {
		w[t] = (struct worker){.r = r, .t = t, .nthreads = n, .count = count};
		if (pthread_create(&tid[t], NULL, worker_main, &w[t])) {
			fail_once(r, -EAGAIN, "pthread_create", t);
			n = t;
			break;
		}
	}
	for (uint32_t t = 0; t < n; t++)
		pthread_join(tid[t], NULL);
	if (atomic_load(&r->failed))
		return -1;
	return count / (now_s() - t0);
}

static int count_entry(void *arg, const struct cairn_dirent *d)
{
	uint64_t *n = arg;

	if (!d->attr)
		return -EIO;
	(*n)++;
	return 0;
}

/* One listing with attributes of the big directory; entries/s or -1. */
static double readdirplus(struct run *r)
{
	uint64_t n = 0;
	struct cairn_readdir_args a = {.flags = CAIRN_READDIR_PLUS, .fn = count_entry, .arg = &n};
	double t0 = now_s();
	int rc = cairn_readdir(r->c, NULL, r->bigdir, &a);

	if (!rc && (!a.eof || n != (uint64_t)r->o->entries + 2))
		rc = -EIO;
	if (rc) {
		fail_once(r, rc, "readdirplus of entries", (uint32_t)n);
		return -1;
	}
	return (double)n / (now_s() - t0);
}

static int make_dirs(struct run *r)
{
	char name[64];
	struct cairn_attr a;
	int rc;

	snprintf(name, sizeof(name), "mds-bench-%d-%ld", (int)getpid(), (long)time(NULL));
	rc = cairn_mkdir(r->c, NULL, CAIRN_ROOT_INO, name, 0755, &a);
	if (!rc) {
		r->root = a.ino;
		rc = cairn_mkdir(r->c, NULL, r->root, "big", 0755, &a);
		r->bigdir = a.ino;
	}
	if (rc)
		fprintf(stderr, "mds-bench: cannot make the bench directory: %s\n",
			cairn_strerror(rc));
	return rc;
}

static void progress(const char *what, double rate, double cli, double mds)
{
	fprintf(stderr, "  %-12s %10.0f /s   CPU per op: client %5.1f us, mds ", what, rate, cli);
	if (mds < 0)
		fprintf(stderr, "?\n");
	else
		fprintf(stderr, "%5.1f us\n", mds);
}

/* Runs one phase (readdirplus: the listing) and records its rate and CPU. */
static int measure(struct run *r, struct result *res, enum phase ph, uint32_t count)
{
	double c0, m0, c1, m1, ops;

	cpu_now(r, &c0, &m0);
	res->rate[ph] = ph == PH_READDIRPLUS ? readdirplus(r) : run_phase(r, ph, count);
	if (res->rate[ph] < 0)
		return -1;
	cpu_now(r, &c1, &m1);
	ops = ph == PH_READDIRPLUS ? (double)count + 2 : (double)count;
	res->cpu_cli[ph] = (c1 - c0) * 1e6 / ops;
	res->cpu_mds[ph] = m0 < 0 || m1 < 0 ? -1 : (m1 - m0) * 1e6 / ops;
	progress(ph == PH_READDIRPLUS ? "readdirplus" : phase_names[ph], res->rate[ph],
		 res->cpu_cli[ph], res->cpu_mds[ph]);
	return 0;
}

/* The phases on an open cluster. */
static int bench(struct run *r, struct result *res)
{
	const struct opts *o = r->o;
	const uint32_t count[PH_COUNT] = {
	    [PH_MKDIR] = o->dirs,   [PH_CREATE] = o->files,    [PH_STAT] = o->files,
	    [PH_LOOKUP] = o->files, [PH_FILLDIR] = o->entries, [PH_READDIRPLUS] = o->entries,
	    [PH_UNLINK] = o->files, [PH_RMDIR] = o->dirs,
	};

	if (make_dirs(r))
		return -1;
	for (int ph = 0; ph < PH_COUNT; ph++)
		if (measure(r, res, (enum phase)ph, count[ph]))
			return -1;
	return 0;
}

/* ---- fill mode: many files, then the MDS's memory ---- */

static void *fill_main(void *arg)
{
	struct run *r = arg;
	uint32_t per_dir = 10000, i;
	char name[32];
	int rc;

	while (!atomic_load(&r->failed) && (i = atomic_fetch_add(&r->next, 1)) < r->o->fill) {
		name_of(name, sizeof(name), 'f', i);
		rc = cairn_mknod(r->c, NULL, r->dirs[i / per_dir], name, S_IFREG | 0644, 0, NULL);
		if (rc)
			fail_once(r, rc, "fill", i);
		if (i % 100000 == 0 && i)
			fprintf(stderr, "  %u files\n", i);
	}
	return NULL;
}

static int fill(struct run *r, struct result *res)
{
	uint32_t ndirs = (r->o->fill + 9999) / 10000;
	pthread_t tid[MAX_THREADS];
	char name[32];
	struct cairn_attr a;
	double t0;
	int rc = make_dirs(r);

	for (uint32_t d = 0; !rc && d < ndirs; d++) {
		name_of(name, sizeof(name), 'd', d);
		rc = cairn_mkdir(r->c, NULL, r->root, name, 0755, &a);
		r->dirs[d] = a.ino;
	}
	if (rc)
		return -1;
	t0 = now_s();
	for (uint32_t t = 0; t < r->o->threads; t++)
		pthread_create(&tid[t], NULL, fill_main, r);
	for (uint32_t t = 0; t < r->o->threads; t++)
		pthread_join(tid[t], NULL);
	if (atomic_load(&r->failed))
		return -1;
	res->rate[PH_FILLDIR] = r->o->fill / (now_s() - t0);
	progress("fill", res->rate[PH_FILLDIR], 0, -1);
	return 0;
}

/* ---- clusters started for the benchmark ---- */

static int cluster_cmd(const struct opts *o, const char *verb, const char *dir, unsigned shards,
		       char *out, size_t len)
{
	char sh[16];
	char *argv[] = {
	    "/bin/bash",      (char *)o->script, (char *)verb, "--dir", (char *)dir, "--build",
	    (char *)o->build, "--shards",	 sh,	       "--osd", "0",	     NULL};

	snprintf(sh, sizeof(sh), "%u", shards);
	if (strcmp(verb, "up") != 0)
		argv[5] = NULL; /* down: --dir only */
	return cluster_run_cmd(argv, out, len);
}

/* Sums a "Name:   N kB" line of /proc/PID/status over the MDS pids of dir. */
static double mds_mem_mib(const char *dir, const char *field)
{
	char path[PATH_MAX + 64], line[256];
	double kib = 0;
	int found = 0;

	for (unsigned i = 0; i < 64; i++) {
		FILE *f;
		long pid = 0;

		snprintf(path, sizeof(path), "%s/run/mds%u.pid", dir, i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
		f = pid > 0 ? fopen(path, "r") : NULL;
		while (f && fgets(line, sizeof(line), f)) {
			if (strncmp(line, field, strlen(field)) == 0) {
				kib += strtod(line + strlen(field), NULL);
				found++;
			}
		}
		if (f)
			fclose(f);
	}
	return found ? kib / 1024 : -1;
}

static int open_cluster(const char *conf, struct cairn **c)
{
	char err[512] = "";
	struct cairn_open_opts oo = {.conf_path = conf, .errbuf = err, .errlen = sizeof(err)};
	int rc = cairn_open(&oo, c);

	if (rc)
		fprintf(stderr, "mds-bench: %s\n", err[0] ? err : cairn_strerror(rc));
	return rc;
}

/* Opens conf and runs the benchmark (or the fill) on it. */
static int run_on(const struct opts *o, const char *conf, const char *dir, struct result *res)
{
	struct run r = {.o = o, .dir = dir};
	size_t ndirs = o->fill ? (o->fill + 9999) / 10000 : o->dirs;
	int rc;

	if (open_cluster(conf, &r.c))
		return -1;
	r.dirs = calloc(ndirs, sizeof(uint64_t));
	r.files = calloc(o->files ? o->files : 1, sizeof(uint64_t));
	if (!r.dirs || !r.files)
		rc = -1;
	else
		rc = o->fill ? fill(&r, res) : bench(&r, res);
	free(r.files);
	free(r.dirs);
	cairn_close(r.c);
	return rc;
}

/* Starts a cluster of shards shards, runs on it, stops it. */
static int run_cluster(const struct opts *o, unsigned shards, struct result *res)
{
	char dir[PATH_MAX], conf[PATH_MAX + 64], ignored[256];
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int rc, rc2;

	snprintf(dir, sizeof(dir), "%s/mds-bench-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mds-bench: mkdtemp");
		return -1;
	}
	fprintf(stderr, "mds-bench: %u shard(s) in %s\n", shards, dir);
	cluster_run_guard_dir(dir);
	rc = cluster_cmd(o, "up", dir, shards, conf, sizeof(conf));
	if (rc != 0) {
		fprintf(stderr, "mds-bench: %s up failed (exit %d)\n", o->script, rc);
	} else {
		rc = run_on(o, conf, dir, res);
		res->rss_mib = mds_mem_mib(dir, "VmHWM:");
		res->rss_now_mib = mds_mem_mib(dir, "VmRSS:");
	}
	rc2 = cluster_cmd(o, "down", dir, shards, ignored, sizeof(ignored));
	cluster_run_guard_dir(NULL);
	if (rc2 != 0)
		fprintf(stderr, "mds-bench: %s down --dir %s failed\n", o->script, dir);
	else
		cluster_run_rmtree(dir);
	return rc;
}

/* ---- command line and report ---- */

static void usage(void)
{
	fprintf(stderr, "usage: mds-bench [--conf FILE] [--files N] [--dirs M] [--threads T]\n"
			"                 [--readdir-entries E] [--shards LIST] [--fill N]\n"
			"                 [--build DIR] [--script PATH]\n");
	exit(2);
}

static uint32_t parse_count(const char *s, uint32_t lo, uint32_t hi, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "mds-bench: bad %s '%s' (%u..%u)\n", what, s, lo, hi);
		exit(2);
	}
	return (uint32_t)v;
}

static void parse_shards(const char *s, struct opts *o)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	o->nruns = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (o->nruns == MAX_RUNS)
			usage();
		o->shards[o->nruns++] = parse_count(t, 1, 64, "shard count");
	}
	if (o->nruns == 0)
		usage();
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"conf", required_argument, NULL, 'c'},
					   {"files", required_argument, NULL, 'n'},
					   {"dirs", required_argument, NULL, 'm'},
					   {"threads", required_argument, NULL, 't'},
					   {"readdir-entries", required_argument, NULL, 'e'},
					   {"shards", required_argument, NULL, 's'},
					   {"fill", required_argument, NULL, 'f'},
					   {"build", required_argument, NULL, 'b'},
					   {"script", required_argument, NULL, 'S'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:n:m:t:e:s:b:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'n':
			o->files = parse_count(optarg, 1, 100000000, "file count");
			break;
		case 'm':
			o->dirs = parse_count(optarg, 1, 1000000, "directory count");
			break;
		case 't':
			o->threads = parse_count(optarg, 1, MAX_THREADS, "thread count");
			break;
		case 'e':
			o->entries = parse_count(optarg, 1, 100000000, "entry count");
			break;
		case 's':
			parse_shards(optarg, o);
			break;
		case 'f':
			o->fill =
			    optarg ? parse_count(optarg, 1, 1000000000, "fill count") : 1000000;
			break;
		case 'b':
			o->build = optarg;
			break;
		case 'S':
			o->script = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static void print_mib(double v)
{
	if (v < 0)
		printf(" %14s", "-");
	else
		printf(" %14.1f", v);
}

static void report(const struct opts *o, const struct result *res, char cols[][32])
{
	printf("\n%-14s", o->fill ? "fill" : "ops/s");
	for (unsigned r = 0; r < o->nruns; r++)
		printf(" %14s", cols[r]);
	putchar('\n');
	for (int p = 0; p < PH_COUNT; p++) {
		if (o->fill && p != PH_FILLDIR)
			continue;
		printf("%-14s", o->fill		      ? "files/s"
				: p == PH_READDIRPLUS ? "readdirplus"
						      : phase_names[p]);
		for (unsigned r = 0; r < o->nruns; r++)
			printf(" %14.0f", res[r].rate[p]);
		putchar('\n');
	}
	if (!o->fill) {
		printf("\nCPU us per op  (client + MDS processes, all cores)\n");
		for (int p = 0; p < PH_COUNT; p++) {
			printf("%-14s", p == PH_READDIRPLUS ? "readdirplus" : phase_names[p]);
			for (unsigned r = 0; r < o->nruns; r++) {
				char cell[32];

				if (res[r].cpu_mds[p] < 0)
					snprintf(cell, sizeof(cell), "%.1f + ?", res[r].cpu_cli[p]);
				else
					snprintf(cell, sizeof(cell), "%.1f + %.1f",
						 res[r].cpu_cli[p], res[r].cpu_mds[p]);
				printf(" %14s", cell);
			}
			putchar('\n');
		}
		putchar('\n');
	}
	printf("%-14s", "MDS peak MiB");
	for (unsigned r = 0; r < o->nruns; r++)
		print_mib(res[r].rss_mib);
	printf("\n%-14s", "MDS now MiB");
	for (unsigned r = 0; r < o->nruns; r++)
		print_mib(res[r].rss_now_mib);
	putchar('\n');
}

int main(int argc, char **argv)
{
	struct opts o = {.files = 100000,
			 .dirs = 1000,
			 .threads = 4,
			 .entries = 100000,
			 .shards = {1, 4},
			 .nruns = 2,
			 .build = BENCH_BUILD_DIR,
			 .script = BENCH_CLUSTER_SCRIPT};
	struct result res[MAX_RUNS];
	char cols[MAX_RUNS][32];
	int rc = 0;

	log_setup("mds-bench", LOG_LVL_WARN, false);
	parse_opts(argc, argv, &o);
	cluster_run_guard_signals(o.script);
	if (o.fill && !o.conf) {
		o.nruns = 1;
		o.shards[0] = 1;
	}
	if (o.conf)
		o.nruns = 1;
	if (o.fill)
		printf("mds-bench: fill of %u files (directories of 10000), %u threads\n", o.fill,
		       o.threads);
	else
		printf("mds-bench: %u files in %u directories, %u threads, readdirplus of %u "
		       "entries\n",
		       o.files, o.dirs, o.threads, o.entries);
	for (unsigned r = 0; r < o.nruns && !rc; r++) {
		res[r] = (struct result){.rss_mib = -1, .rss_now_mib = -1};
		if (o.conf) {
			snprintf(cols[r], sizeof(cols[r]), "cluster");
			rc = run_on(&o, o.conf, NULL, &res[r]);
		} else {
			snprintf(cols[r], sizeof(cols[r]), "%u shard%s", o.shards[r],
				 o.shards[r] == 1 ? "" : "s");
			rc = run_cluster(&o, o.shards[r], &res[r]);
		}
	}
	if (rc) {
		fprintf(stderr, "mds-bench: failed\n");
		return 1;
	}
	report(&o, res, cols);
	return 0;
}
