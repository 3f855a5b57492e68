/*
 * bench_ns.c - a small in-process benchmark of the namespace engine, not
 * a test (no thresholds): N threads each create files in their own
 * directory, then getattr and look them up, then list them with readdir
 * plus.  Prints operations per second.
 *
 * Usage: bench_mds_ns [-t THREADS] [-n FILES_PER_THREAD] [DIR]
 * DIR (default: a scratch directory, removed afterwards) holds the shard.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mds/ns.h"
#include "mds_test.h"

#define MAX_THREADS 64

static const struct ns_cred root_cred = {0, 0, 0, NULL};

struct job {
	struct ns *ns;
	uint64_t dir;
	int n;
	uint64_t *inos;
	int failed;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *do_create(void *arg)
{
	struct job *j = arg;
	struct ns_attr a;
	char name[32];

	for (int i = 0; i < j->n && !j->failed; i++) {
		int len = snprintf(name, sizeof(name), "f%07d", i);

		j->failed =
		    ns_create(j->ns, &root_cred, j->dir, name, (size_t)len, 0644, NULL, false, &a);
		j->inos[i] = a.ino;
	}
	return NULL;
}

static void *do_getattr(void *arg)
{
	struct job *j = arg;
	struct ns_attr a;

	for (int i = 0; i < j->n && !j->failed; i++)
		j->failed = ns_getattr(j->ns, j->inos[i], &a);
	return NULL;
}

static void *do_lookup(void *arg)
{
	struct job *j = arg;
	struct ns_attr a;
	char name[32];

	for (int i = 0; i < j->n && !j->failed; i++) {
		int len = snprintf(name, sizeof(name), "f%07d", i);

		j->failed = ns_lookup(j->ns, &root_cred, j->dir, name, (size_t)len, &a);
	}
	return NULL;
}

struct rd_state {
	long seen;
	uint64_t last_cookie;
};

static int count_cb(void *arg, const struct ns_dirent *e)
{
	struct rd_state *st = arg;

	st->seen++;
	st->last_cookie = e->cookie;
	return 0;
}

/* Lists the directory in pages of 256 entries with attributes. */
static void *do_readdir(void *arg)
{
	struct job *j = arg;
	struct rd_state st = {0};
	struct ns_readdir_args ra = {.plus = true, .max_entries = 256, .fn = count_cb, .arg = &st};
	bool eof = false;

	while (!eof && !j->failed) {
		j->failed = ns_readdir(j->ns, j->dir, &ra, &eof);
		ra.cookie = st.last_cookie;
	}
	if (!j->failed && st.seen != j->n + 2)
		j->failed = -EIO;
	return NULL;
}

static int run(const char *what, void *(*fn)(void *), struct job *jobs, int nt, long ops)
{
	pthread_t th[MAX_THREADS];
	double t0 = now(), dt;

	for (int i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, fn, &jobs[i]))
			return -1;
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	dt = now() - t0;
	for (int i = 0; i < nt; i++)
		if (jobs[i].failed) {
			fprintf(stderr, "%s failed: %s\n", what, strerror(-jobs[i].failed));
			return -1;
		}
	printf("%-8s %2d threads %9.0f ops/s\n", what, nt, (double)ops / dt);
	return 0;
}

int main(int argc, char **argv)
{
	struct ns_options o = {.create_if_missing = true};
	struct job jobs[MAX_THREADS] = {{0}};
	struct ns *ns = NULL;
	char *scratch = NULL;
	const char *path;
	int nt = 2, n = 50000, opt, rc = 1;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		if (opt == 't')
			nt = atoi(optarg);
		else if (opt == 'n')
			n = atoi(optarg);
		else
			goto usage;
	}
	if (nt < 1 || nt > MAX_THREADS || n < 1 || optind + 1 < argc)
		goto usage;
	path = optind < argc ? argv[optind] : (scratch = mt_tmpdir());
	if (!path || ns_db_open(path, &o, &ns)) {
		fprintf(stderr, "bench_mds_ns: cannot open a shard database\n");
		goto out;
	}
	for (int i = 0; i < nt; i++) {
		struct ns_attr a;
		char name[32];
		int len = snprintf(name, sizeof(name), "bench%d.%d", (int)getpid(), i);

		jobs[i] = (struct job){.ns = ns, .n = n, .inos = calloc((size_t)n, 8)};
		if (!jobs[i].inos ||
		    ns_mkdir(ns, &root_cred, NS_ROOT_INO, name, (size_t)len, 0755, 0, false, &a))
			goto out;
		jobs[i].dir = a.ino;
	}
	rc = run("create", do_create, jobs, nt, (long)nt * n) ||
	     run("getattr", do_getattr, jobs, nt, (long)nt * n) ||
	     run("lookup", do_lookup, jobs, nt, (long)nt * n) ||
	     run("readdir+", do_readdir, jobs, nt, (long)nt * n);
out:
	ns_db_close(ns);
	if (scratch) {
		mt_rmtree(scratch);
		free(scratch);
	}
	for (int i = 0; i < MAX_THREADS; i++)
		free(jobs[i].inos);
	return rc;
usage:
	fprintf(stderr, "usage: bench_mds_ns [-t THREADS] [-n FILES_PER_THREAD] [DIR]\n");
	return 2;
}
