/*
 * meta-bench.c - metadata operations through the POSIX interface of any
 * directory (a Cairn mount, or a local directory for the baseline in the
 * same run), from one process, as a job script or a data loader would do
 * them:
 *
 *   create   N empty files in one new directory (open O_CREAT|O_EXCL, close)
 *   stat     stat(2) of each by path
 *   readdir  one listing of the directory, every entry counted
 *   unlink   each file
 *
 *   meta-bench [--files N] [--label TEXT] DIR
 *
 * Prints one line per phase: "LABEL PHASE N ops in S s: R/s", and exits 1
 * on the first failing call, naming it.  The directory it creates under DIR
 * is removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void report(const char *label, const char *phase, unsigned n, double t0)
{
	double s = now_s() - t0;

	printf("%s %s %u ops in %.2f s: %.0f/s\n", label, phase, n, s, s > 0 ? n / s : 0.0);
	fflush(stdout);
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "meta-bench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: meta-bench [--files N] [--label TEXT] DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"files", required_argument, NULL, 'n'},
					     {"label", required_argument, NULL, 'l'},
					     {NULL, 0, NULL, 0}};
	const char *label = "dir";
	unsigned n = 20000, seen = 0;
	char dir[4096], path[4200];
	struct dirent *de;
	struct stat st;
	double t0;
	DIR *d;
	int c;

	while ((c = getopt_long(argc, argv, "n:l:", opts, NULL)) != -1) {
		if (c == 'n') {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 10000000)
				usage();
			n = (unsigned)v;
		} else if (c == 'l') {
			label = optarg;
		} else {
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	snprintf(dir, sizeof(dir), "%s/meta-bench.%ld", argv[optind], (long)getpid());
	if (mkdir(dir, 0755))
		die("mkdir", dir);

	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07u", dir, i);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

		if (fd < 0)
			die("create", path);
		if (close(fd))
			die("close", path);
	}
	report(label, "create", n, t0);

	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07u", dir, i);
		if (stat(path, &st))
			die("stat", path);
	}
	report(label, "stat", n, t0);

	t0 = now_s();
	d = opendir(dir);
	if (!d)
		die("opendir", dir);
	while ((errno = 0, de = readdir(d)) != NULL)
		seen += de->d_name[0] != '.';
	if (errno)
		die("readdir", dir);
	closedir(d);
	report(label, "readdir", seen, t0);
	if (seen != n) {
		fprintf(stderr, "meta-bench: readdir %s: %u entries, want %u\n", dir, seen, n);
		return 1;
	}

	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07u", dir, i);
		if (unlink(path))
			die("unlink", path);
	}
	report(label, "unlink", n, t0);
	if (rmdir(dir))
		die("rmdir", dir);
	return 0;
}
