/*
 * mount_cairn.c - mount.cairn: the mount(8) helper for Cairn (mount.cairn(8)).
 *
 *   mount.cairn CONF_OR_NAME MOUNTPOINT [-sfnv] [-o options]
 *
 * mount(8) runs it for `mount -t cairn` and for /etc/fstab lines of type
 * cairn.  CONF_OR_NAME is a path to a cairn.conf (it contains a '/') or a
 * name meaning /etc/cairn/NAME.conf.  It runs cairn-fuse (found next to this
 * program, else in PATH, else in the sbin directories) with the options
 * that are not mount(8)'s own, and waits: cairn-fuse returns once the file
 * system is mounted and its daemon detached.
 *
 * Exit status as mount(8) expects of helpers: 0 mounted, 1 bad usage,
 * 32 the mount failed (cairn-fuse printed why).
 *
 * Threads: one.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/fuse/mopt.h"

#define PROG "mount.cairn"
#define CONF_DIR "/etc/cairn"
#define EXIT_USAGE 1
#define EXIT_MOUNT 32

extern char **environ;

struct args {
	const char *spec;
	const char *dir;
	const char *opts;
	bool sloppy;
	bool fake;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " CONF_OR_NAME MOUNTPOINT [-sfnv] [-o options]\n"
		   "  CONF_OR_NAME: a path to a cairn.conf, or NAME for " CONF_DIR "/NAME.conf\n");
}

/* Returns 0, EXIT_USAGE (message printed) or -1 (--help: exit 0). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int c;

	memset(a, 0, sizeof(*a));
	a->opts = "";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "sfnvo:t:N:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->sloppy = true;
			break;
		case 'f':
			a->fake = true;
			break;
		case 'n':
			break; /* no mtab to write: the kernel's table is the truth */
		case 'v':
			a->verbose = true;
			break;
		case 'o':
			a->opts = optarg;
			break;
		case 't':
			break; /* "cairn" or "fuse.cairn": we know */
		case 'h':
			usage(stdout);
			return -1;
		case 'N':
			fprintf(stderr, PROG ": -N (mount namespaces) is not supported\n");
			return EXIT_USAGE;
		default:
			usage(stderr);
			fprintf(stderr, PROG ": unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		fprintf(stderr, PROG ": expected CONF_OR_NAME and MOUNTPOINT\n");
		return EXIT_USAGE;
	}
	a->spec = argv[optind];
	a->dir = argv[optind + 1];
	return 0;
}

/* buf = dir[0..len)/cairn-fuse if that is an executable.  True if so. */
static bool try_dir(char *buf, size_t size, const char *dir, size_t len)
{
	int n = snprintf(buf, size, "%.*s/cairn-fuse", (int)len, dir);

	return len > 0 && n > 0 && (size_t)n < size && access(buf, X_OK) == 0;
}

/* The cairn-fuse to run: next to us, else from PATH or the sbin directories. */
static const char *find_cairn_fuse(char *buf, size_t size)
{
	static const char *const dirs[] = {"/usr/local/sbin", "/usr/sbin", "/sbin", NULL};
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && try_dir(buf, size, self, (size_t)(slash - self)))
			return buf;
	}
	for (const char *p = getenv("PATH"); p && *p;) {
		size_t k = strcspn(p, ":");

		if (try_dir(buf, size, p, k))
			return buf;
		p += k + (p[k] == ':');
	}
	for (unsigned i = 0; dirs[i]; i++)
		if (try_dir(buf, size, dirs[i], strlen(dirs[i])))
			return buf;
	return NULL;
}

/* Runs argv and waits.  Returns its exit status, or -1 if it did not run. */
static int run(char *const argv[])
{
	pid_t pid;
	int st, rc;

	rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc) {
		fprintf(stderr, PROG ": cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	char conf[PATH_MAX], fuse[PATH_MAX], opts[MOPT_LEN];
	char *cmd[8];
	unsigned k = 0;
	struct args a;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = mopt_conf_path(a.spec, CONF_DIR, conf, sizeof(conf));
	if (rc) {
		fprintf(stderr,
			PROG ": '%s' is neither a path to a cairn.conf nor a name of "
			     "[A-Za-z0-9._-] (for " CONF_DIR "/NAME.conf)\n",
			a.spec);
		return EXIT_USAGE;
	}
	if (access(conf, R_OK)) {
		fprintf(stderr, PROG ": configuration %s: %s\n", conf, strerror(errno));
		return EXIT_MOUNT;
	}
	if (mopt_filter(a.opts, a.sloppy, opts, sizeof(opts))) {
		fprintf(stderr, PROG ": too many options\n");
		return EXIT_USAGE;
	}
	if (!find_cairn_fuse(fuse, sizeof(fuse))) {
		fprintf(stderr, PROG ": cairn-fuse not found next to " PROG " nor in PATH\n");
		return EXIT_MOUNT;
	}
	cmd[k++] = fuse;
	cmd[k++] = "-c";
	cmd[k++] = conf;
	if (opts[0]) {
		cmd[k++] = "-o";
		cmd[k++] = opts;
	}
	cmd[k++] = (char *)a.dir;
	cmd[k] = NULL;
	if (a.verbose) {
		fprintf(stderr, PROG ":");
		for (unsigned i = 0; i < k; i++)
			fprintf(stderr, " %s", cmd[i]);
		fprintf(stderr, "\n");
	}
	if (a.fake)
		return 0;
	return run(cmd) == 0 ? 0 : EXIT_MOUNT;
}
