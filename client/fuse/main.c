/*
 * main.c - cairn-fuse: mounts a Cairn cluster through FUSE (cairn-fuse(8)).
 *
 *   cairn-fuse -c CONF [-f] [-d] [-o opt[,opt...]] MOUNTPOINT
 *
 * Start-up, in order: arguments and cairn.conf are checked, a dead mount on
 * MOUNTPOINT (a killed cairn-fuse: ENOTCONN) is unmounted lazily, and
 * without -f the process forks: the parent waits until the child reports
 * the mount done (exit 0) or has failed (its status).  The child checks
 * that the cluster answers (every metadata shard pinged, then statfs, both
 * bounded by rpc.connect_timeout_ms), opens the cluster, mounts, then
 * detaches from the terminal and logs to syslog.  Every failure before the
 * mount is one line on standard error and exit status 1.
 *
 * Threads: the main thread does the above and then waits in libfuse's
 * session loop, whose worker threads run the operations (fsops.h).
 * SIGINT, SIGTERM and SIGHUP are blocked before libcairn starts its
 * threads, so they reach the main thread only; they end the loop and the
 * file system is unmounted.  The loop also ends when someone else unmounts
 * it (umount, fusermount3 -u).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cairn_admin.h"
#include "client/fuse/fnode.h"
#include "client/fuse/fsops.h"
#include "client/fuse/mopt.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"

#define PROG "cairn-fuse"
/* The kernel's read-ahead: client.readahead_max of cairn.conf, at most this. */
#define CFS_KERNEL_RA_MAX (UINT64_C(16) << 20)

extern char **environ;

struct args {
	const char *conf;
	const char *mountpoint;
	bool foreground;
	bool debug;
	struct mopt opts;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -c CONF [-f] [-d] [-o opt[,opt...]] MOUNTPOINT\n"
		   "       " PROG " --help | --version\n"
		   "options of -o: entry_timeout=SECS, attr_timeout=SECS, max_threads=N,\n"
		   "  splice|no_splice, direct_io, and libfuse's (allow_other,\n"
		   "  default_permissions, ro, nosuid, nodev, noexec, ...)\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints one line "cairn-fuse: ..." on stderr; returns 1 (the exit status). */
static int fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", line);
	return 1;
}

/* Returns 0, 1 (error printed) or 2 (--help or --version: exit 0). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
	    {"conf", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0},
	};
	char err[256];
	int c;

	memset(a, 0, sizeof(*a));
	mopt_init(&a->opts);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:fdo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->conf = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'd':
			a->debug = a->foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 2;
		case 'V':
			printf(PROG " " CAIRN_VERSION "\n");
			return 2;
		case 'o':
			if (mopt_parse(&a->opts, optarg, err, sizeof(err)))
				return fail("%s", err);
			break;
		default:
			usage(stderr);
			return fail("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return fail(optind >= argc ? "MOUNTPOINT is missing" : "unexpected argument '%s'",
			    argv[optind + 1 < argc ? optind + 1 : optind]);
	}
	a->mountpoint = argv[optind];
	if (!a->conf)
		a->conf = getenv(CAIRN_CONF_ENV) && *getenv(CAIRN_CONF_ENV) ? getenv(CAIRN_CONF_ENV)
									    : CAIRN_DEFAULT_CONF;
	return 0;
}

/* Lazy unmount of a dead mount: umount2() as root, fusermount3 otherwise. */
static int unmount_dead(const char *path)
{
	char *argv[] = {"fusermount3", "-u", "-z", (char *)path, NULL};
	pid_t pid;
	int st;

	if (geteuid() == 0)
		return umount2(path, MNT_DETACH) ? -errno : 0;
	if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ))
		return -ENOENT;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EPERM;
}

/*
 * A dead FUSE mount answers ENOTCONN.  statfs always asks the daemon,
 * while stat may be answered from the kernel's attribute cache for a
 * while after the daemon died.
 */
static bool is_dead_mount(const char *path)
{
	struct statfs sf;
	struct stat st;

	return (stat(path, &st) && errno == ENOTCONN) || (statfs(path, &sf) && errno == ENOTCONN);
}

/* Checks the mount point (unmounting a dead mount first); fills abs. */
static int check_mountpoint(const char *path, char *abs)
{
	struct stat st;
	int rc;

	if (is_dead_mount(path)) {
		rc = unmount_dead(path);
		if (rc)
			return fail(
			    "mount point %s is a dead mount (%s) and unmounting it failed: %s",
			    path, strerror(ENOTCONN), strerror(-rc));
		fprintf(stderr, PROG ": note: %s was a dead mount (%s); unmounted it\n", path,
			strerror(ENOTCONN));
	}
	if (stat(path, &st))
		return fail("mount point %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail("mount point %s is not a directory", path);
	if (!realpath(path, abs))
		return fail("mount point %s: %s", path, strerror(errno));
	return 0;
}

/* Reads cairn.conf (for the client settings and logging); 0 or 1. */
static int load_conf(const char *path, struct cfg *cfg)
{
	char err[512];
	int rc = cfg_load(path, cfg, err, sizeof(err));

	if (rc == -CAIRN_ECONFIG)
		return fail("%s", err);
	if (rc)
		return fail("cannot read configuration %s: %s", path, cairn_strerror(rc));
	return 0;
}

/*
 * Forks: the parent waits for the child's word and exits with it (0 once
 * mounted), the child returns with *notify, the pipe to write the word to.
 */
static void daemonize(int *notify)
{
	int p[2], st;
	pid_t pid;
	char c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) || (pid = fork()) < 0)
		exit(fail("cannot start the daemon: %s", strerror(errno)));
	if (pid > 0) {
		sigset_t all;

		sigfillset(&all); /* ^C stops the wait (the child goes on, detached) */
		pthread_sigmask(SIG_UNBLOCK, &all, NULL);
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 0)
			_exit(1);
		_exit(WEXITSTATUS(st));
	}
	close(p[0]);
	setsid();
	*notify = p[1];
}

/* The mount is up: leaves the terminal and tells the waiting parent. */
static void detach(int notify)
{
	int fd = open("/dev/null", O_RDWR);

	if (chdir("/")) {
		/* "/" always exists; nothing to do if it does not. */
	}
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(notify, "", 1) != 1)
		log_warn("fuse: could not tell the starting process that the mount is up");
	close(notify);
}

/* Pings every shard, then statfs, within timeout_ms each; 0 or 1. */
static int check_cluster(const char *conf, int timeout_ms)
{
	struct cairn_open_opts o = {
	    .conf_path = conf, .timeout_ms = timeout_ms, .flags = CAIRN_OPEN_NO_MAP_WATCH};
	struct cairn_statfs s;
	struct cairn *c = NULL;
	char err[512] = "";
	int *status = NULL;
	int rc, ret = 0;

	o.errbuf = err;
	o.errlen = sizeof(err);
	rc = cairn_open(&o, &c);
	if (rc)
		return fail("%s", err[0] ? err : cairn_strerror(rc));
	status = calloc(cairn_shard_count(c) + 1, sizeof(int));
	rc = status ? cairn_shard_ping(c, timeout_ms, status) : -ENOMEM;
	for (unsigned i = 0; rc == -EHOSTUNREACH && i < cairn_shard_count(c); i++) {
		if (status[i] == -ETIMEDOUT) {
			ret = fail("cannot reach the cluster of %s: metadata shard %u (%s) did not "
				   "answer within %d ms",
				   conf, i, cairn_shard_addr(c, i), timeout_ms);
			break;
		}
		if (status[i]) {
			ret = fail("cannot reach the cluster of %s: metadata shard %u (%s): %s",
				   conf, i, cairn_shard_addr(c, i), cairn_strerror(status[i]));
			break;
		}
	}
	if (rc && !ret)
		ret = fail("cannot reach the cluster of %s: %s", conf, cairn_strerror(rc));
	if (!ret) {
		rc = cairn_statfs(c, NULL, &s);
		if (rc)
			ret = fail("the cluster of %s does not answer: statfs: %s", conf,
				   cairn_strerror(rc));
	}
	free(status);
	cairn_close(c);
	return ret;
}

/*
 * libfuse's last error or warning while the session is set up (main
 * thread only); libfuse may print one line in several calls.
 */
static char fuse_msg[512];
static bool fuse_msg_ended = true;

static void fuse_log_capture(enum fuse_log_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level > FUSE_LOG_WARNING)
		return;
	if (fuse_msg_ended)
		fuse_msg[0] = '\0';
	n = strlen(fuse_msg);
	vsnprintf(fuse_msg + n, sizeof(fuse_msg) - n, fmt, ap);
	n = strlen(fuse_msg);
	fuse_msg_ended = n && fuse_msg[n - 1] == '\n';
	while (n && fuse_msg[n - 1] == '\n')
		fuse_msg[--n] = '\0';
}

static void fuse_log_to_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	enum log_level l = level <= FUSE_LOG_ERR       ? LOG_LVL_ERROR
			   : level == FUSE_LOG_WARNING ? LOG_LVL_WARN
			   : level == FUSE_LOG_DEBUG   ? LOG_LVL_DEBUG
						       : LOG_LVL_INFO;
	char line[1024];
	size_t n;

	if (!log_enabled(l))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_write(l, "libfuse: %s", line);
}

/* "-o" value naming the file system: fsname=CONF (commas escaped),subtype=cairn. */
static int name_opts(const char *conf, char *out, size_t len)
{
	size_t k = (size_t)snprintf(out, len, "subtype=cairn,fsname=");

	for (const char *p = conf; *p; p++) {
		if (k + 3 >= len)
			return -ENAMETOOLONG;
		if (*p == ',' || *p == '\\')
			out[k++] = '\\';
		out[k++] = *p;
	}
	out[k] = '\0';
	return 0;
}

/* Builds the session: libfuse's arguments and our operations.  NULL on failure. */
static struct fuse_session *new_session(const struct args *a, const char *conf, struct cfs *fs)
{
	struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char names[PATH_MAX * 2 + 64];

	if (name_opts(conf, names, sizeof(names))) {
		fail("configuration path too long: %s", conf);
		return NULL;
	}
	if (fuse_opt_add_arg(&fa, PROG) || (a->debug && fuse_opt_add_arg(&fa, "-d")) ||
	    fuse_opt_add_arg(&fa, "-o") || fuse_opt_add_arg(&fa, names) ||
	    (a->opts.fuse[0] &&
	     (fuse_opt_add_arg(&fa, "-o") || fuse_opt_add_arg(&fa, a->opts.fuse)))) {
		fail("out of memory");
		goto out;
	}
	se = fuse_session_new(&fa, &cfs_ops, sizeof(cfs_ops), fs);
	fs->se = se;
	if (!se)
		fail("cannot start the FUSE session: %s", fuse_msg[0] ? fuse_msg : "see above");
out:
	fuse_opt_free_args(&fa);
	return se;
}

/* Decodes the octal escapes (\040 for a space, ...) of a mountinfo field in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * Sets the kernel's read-ahead for the mount on mnt: its backing device's
 * read_ahead_kb, before the session answers the kernel's INIT (where the
 * kernel keeps the smaller of that and what init asks; it offers FUSE 128
 * KiB).  Reads /proc/self/mountinfo, which does not touch the mount: the
 * session loop is not running yet.  Returns 0, or -errno (logged: it only
 * costs speed).
 */
static int set_readahead(const char *mnt, uint64_t bytes)
{
	char line[PATH_MAX * 2 + 256], dev[32] = "", path[PATH_MAX + 64];
	char point[PATH_MAX * 2], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int rc = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char d[32];

		if (sscanf(line, "%*s %*s %31s %*s %4095s", d, point) != 2)
			continue;
		sep = strstr(line, " - ");
		unescape(point);
		if (strcmp(point, mnt) == 0 && sep && strncmp(sep, " - fuse.cairn ", 14) == 0)
			snprintf(dev, sizeof(dev), "%s", d); /* the last one is on top */
	}
	fclose(f);
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	f = dev[0] ? fopen(path, "w") : NULL;
	if (!f || fprintf(f, "%llu\n", (unsigned long long)(bytes / 1024)) < 0)
		rc = dev[0] ? -errno : -ENOENT;
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (rc)
		log_info("fuse: kernel read-ahead left at its default (%s: %s)",
			 dev[0] ? path : "mount not in /proc/self/mountinfo", strerror(-rc));
	else
		log_debug("fuse: kernel read-ahead %llu KiB", (unsigned long long)(bytes / 1024));
	return rc;
}

/* Runs the session until unmounted or signalled.  Returns the exit status. */
static int serve(struct fuse_session *se, const struct args *a, const sigset_t *sigs)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	int rc;

	if (!lc) {
		log_error("fuse: out of memory");
		return 1;
	}
	fuse_loop_cfg_set_max_threads(lc, a->opts.max_threads);
	fuse_loop_cfg_set_clone_fd(lc, 0);
	pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
	rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	if (rc < 0)
		log_error("fuse: session loop failed: %s", strerror(-rc));
	return rc < 0 ? 1 : 0;
}

/* Opens the cluster, mounts, serves; the mount point and conf are checked. */
static int run(const struct args *a, const struct cfg *cfg, const char *conf, const char *mnt,
	       const sigset_t *sigs)
{
	struct cfs fs = {.splice = a->opts.splice, .direct_io = a->opts.direct_io};
	struct fuse_session *se;
	char err[512] = "";
	struct cairn_open_opts o = {.conf_path = conf, .errbuf = err, .errlen = sizeof(err)};
	int notify = -1, ret = 1, rc;

	fs.entry_timeout = a->opts.entry_timeout >= 0 ? a->opts.entry_timeout
						      : cfg->client.entry_timeout_ms / 1000.0;
	fs.attr_timeout =
	    a->opts.attr_timeout >= 0 ? a->opts.attr_timeout : cfg->client.attr_timeout_ms / 1000.0;
	fs.readahead =
	    (uint32_t)(cfg->client.readahead_max < CFS_KERNEL_RA_MAX ? cfg->client.readahead_max
								     : CFS_KERNEL_RA_MAX);
	if (!a->debug) /* libfuse's errors become part of our one-line messages */
		fuse_set_log_func(fuse_log_capture);
	se = new_session(a, conf, &fs); /* checks libfuse's options; starts no thread */
	if (!se)
		return 1;
	if (!a->foreground)
		daemonize(&notify);
	log_setup(PROG, a->debug ? LOG_LVL_DEBUG : cfg->log.level,
		  !a->foreground || cfg->log.syslog);
	if (check_cluster(conf, (int)cfg->rpc.connect_timeout_ms))
		goto out;
	rc = cairn_open(&o, &fs.c);
	if (rc) {
		fail("%s", err[0] ? err : cairn_strerror(rc));
		goto out;
	}
	fs.nodes = fnode_table_new(fs.c);
	if (!fs.nodes) {
		fail("out of memory");
		goto out;
	}
	fuse_msg[0] = '\0';
	fuse_msg_ended = true;
	if (fuse_set_signal_handlers(se) || fuse_session_mount(se, mnt)) {
		fail("cannot mount %s on %s: %s", conf, mnt, fuse_msg[0] ? fuse_msg : "see above");
		goto out;
	}
	fuse_set_log_func(fuse_log_to_log);
	if (fs.readahead && set_readahead(mnt, fs.readahead))
		fs.readahead = 0;
	if (!a->foreground)
		detach(notify);
	log_info("fuse: %s mounted on %s (entry timeout %.3fs, attr timeout %.3fs)", conf, mnt,
		 fs.entry_timeout, fs.attr_timeout);
	ret = serve(se, a, sigs);
	fuse_session_unmount(se);
	log_info("fuse: %s unmounted from %s", conf, mnt);
out:
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	fnode_table_free(fs.nodes);
	cairn_close(fs.c);
	return ret;
}

int main(int argc, char **argv)
{
	char mnt[PATH_MAX], conf[PATH_MAX];
	struct cfg *cfg;
	struct args a;
	sigset_t sigs;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == 2 ? 0 : rc;
	if (!realpath(a.conf, conf))
		return fail("cannot read configuration %s: %s", a.conf, strerror(errno));
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return fail("out of memory");
	rc = load_conf(conf, cfg);
	if (!rc)
		rc = check_mountpoint(a.mountpoint, mnt);
	if (!rc) {
		/* Before libcairn starts threads: they inherit the mask. */
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &sigs, NULL);
		rc = run(&a, cfg, conf, mnt, &sigs);
	}
	free(cfg);
	return rc;
}
