/*
 * posix_check.c - POSIX behaviour checks for a mounted file system.
 *
 *   posix_check [-k NAME] [-t SECS] [-l] DIR [DIR2]
 *
 * Run as root.  DIR is a fresh empty directory of the file system under
 * test; DIR2, when given, is the same directory seen through a second
 * mount of the same file system, for the checks across mounts (flock and
 * fcntl locks, close-to-open), which are skipped without it.  Each check
 * works in its own subdirectory DIR/NAME so that one failure does not
 * cascade, and prints one line: `ok NAME`, `skip NAME: why` or
 * `FAIL NAME: what happened (expected X, got Y)`.  Exit status: 1 if any
 * check failed, 0 otherwise, 2 on bad usage, 77 when not run as root.
 * -k NAME runs one check, -l lists them, -t sets the per-check timeout.
 *
 * This file: the driver, failure reporting, file helpers and child
 * processes (posix_check.h); the checks are in posix_ns.c and posix_io.c.
 * A check that needs a second process (locks, O_APPEND and O_EXCL races,
 * permission denial as uid 65534) forks children.  A child reports its
 * failure as one message on a pipe plus its exit status; parent and child
 * take turns through two more pipes.  A check that outlives the timeout
 * fails, its children are killed and the program exits.  All state is in
 * globals owned by the single parent thread; a child works on its forked
 * copy.  Run by fuse_check.sh against a Cairn mount and by posix_local.sh
 * against a local directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "posix_check.h"

#define MAX_KIDS 4
#define SYNC_MS 30000

static const char *g_dir, *g_dir2;
static const char *g_check = "";
char pc_base[PATH_MAX], pc_base2[PATH_MAX];
char pc_ctx[128];
static int g_msg_fd = -1;		    /* in a child: the message pipe to the parent */
static int g_sync_in = -1, g_sync_out = -1; /* in a child: turn pipes */
unsigned char pc_a[PC_BUF_SIZE], pc_b[PC_BUF_SIZE], pc_c[2 * PC_BUF_SIZE];

struct pc_kid {
	pid_t pid;	   /* 0: slot free */
	int msg, to, from; /* parent's ends of the three pipes */
};
static struct pc_kid g_kids[MAX_KIDS];

/* ---- reporting ---- */

const char *pc_ename(int e)
{
	static char buf[32];
	const char *n = e ? strerrorname_np(e) : "success";

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

int pc_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_msg_fd >= 0) {
		ssize_t r = write(g_msg_fd, msg, strlen(msg));

		(void)r; /* the parent sees the exit status anyway */
		return -1;
	}
	printf("FAIL %s: %s%s%s\n", g_check, pc_ctx, pc_ctx[0] ? ": " : "", msg);
	fflush(stdout);
	return -1;
}

int pc_want_err(long r, int err, int e1, int e2, const char *what)
{
	if (r >= 0)
		return pc_fail("%s (expected %s%s%s, got success)", what, pc_ename(e1),
			       e2 ? " or " : "", e2 ? pc_ename(e2) : "");
	if (err == e1 || (e2 && err == e2))
		return 0;
	return pc_fail("%s (expected %s%s%s, got %s)", what, pc_ename(e1), e2 ? " or " : "",
		       e2 ? pc_ename(e2) : "", pc_ename(err));
}

/* ---- paths, data and I/O helpers ---- */

const char *pc_path(const char *base, const char *name)
{
	static char bufs[16][PATH_MAX];
	static unsigned int next;
	char *b = bufs[next++ % 16];

	if (snprintf(b, PATH_MAX, "%s/%s", base, name) >= PATH_MAX) {
		fprintf(stderr, "posix_check: path %s/%s is too long\n", base, name);
		exit(2);
	}
	return b;
}

/* Deterministic pseudo-random bytes, none of them zero. */
void pc_fill(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = (seed * 2654435761u) | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)(x | 1);
	}
}

double pc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int pc_pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = pwrite(fd, p, n, off);

		if (r <= 0)
			return pc_fail("pwrite of %zu bytes at %lld (expected success, got %s)", n,
				       (long long)off, r < 0 ? pc_ename(errno) : "0 bytes");
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Reads up to n bytes at off, stopping at EOF; the count, or -1 (reported). */
ssize_t pc_pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (unsigned char *)buf + got, n - got, off + (off_t)got);

		if (r < 0)
			return pc_fail("pread of %zu bytes at %lld: %s", n - got,
				       (long long)(off + (off_t)got), pc_ename(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int pc_put_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc;

	if (fd < 0)
		return pc_fail("creating %s: %s", path, pc_ename(errno));
	rc = pc_pwrite_all(fd, buf, n, 0);
	if (close(fd) < 0 && rc == 0)
		rc = pc_fail("close of %s: %s", path, pc_ename(errno));
	return rc;
}

int pc_cmp(const char *what, const unsigned char *got, const unsigned char *exp, size_t n)
{
	if (memcmp(got, exp, n) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (got[i] != exp[i])
			return pc_fail("%s: byte %zu differs (expected 0x%02x, got 0x%02x)", what,
				       i, exp[i], got[i]);
	return 0;
}

int pc_check_zero(const unsigned char *b, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return pc_fail("%s: byte %zu (expected 0x00, got 0x%02x)", what, i, b[i]);
	return 0;
}

/* The whole content read through fd is exactly exp[0..n). */
int pc_check_fd(int fd, const void *exp, size_t n, const char *what)
{
	ssize_t r = pc_pread_full(fd, pc_c, n + 1, 0);

	if (r < 0)
		return -1;
	if ((size_t)r != n)
		return pc_fail("%s: read %zd bytes (expected %zu)", what, r, n);
	return pc_cmp(what, pc_c, exp, n);
}

int pc_check_file(const char *path, const void *exp, size_t n)
{
	int fd = open(path, O_RDONLY);
	int rc;

	if (fd < 0)
		return pc_fail("open %s (expected success, got %s)", path, pc_ename(errno));
	rc = pc_check_fd(fd, exp, n, path);
	close(fd);
	return rc;
}

/* The number of entries (with . and ..) in a directory, or -1. */
int pc_count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return pc_fail("opendir %s: %s", path, pc_ename(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int pc_mk_dirs(int n)
{
	char name[16];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%02d", i);
		OK(mkdir(P(name), 0755));
	}
	return 0;
}

/* ---- child processes ---- */

static int sync_send(int fd)
{
	char c = 's';

	if (write(fd, &c, 1) != 1)
		return pc_fail("turn pipe write: %s", pc_ename(errno));
	return 0;
}

/* 1: a byte came, 0: the other end closed, -1: timeout (errno) or error. */
static int sync_read(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;
	int r = poll(&pfd, 1, ms);

	if (r <= 0) {
		if (r == 0)
			errno = ETIMEDOUT;
		return -1;
	}
	r = (int)read(fd, &c, 1);
	return r == 1 ? 1 : r == 0 ? 0 : -1;
}

int pc_child_recv(void)
{
	int r = sync_read(g_sync_in, SYNC_MS);

	if (r == 1)
		return 0;
	return pc_fail("waiting for the parent: %s",
		       r == 0 ? "it closed the pipe" : pc_ename(errno));
}

int pc_child_send(void)
{
	return sync_send(g_sync_out);
}

static int drop_to_nobody(void)
{
	struct stat st;

	if (chdir(pc_base) < 0)
		return pc_fail("chdir %s: %s", pc_base, pc_ename(errno));
	if (setgroups(0, NULL) < 0 || setgid(PC_NOBODY) < 0 || setuid(PC_NOBODY) < 0)
		return pc_fail("becoming uid %d: %s", PC_NOBODY, pc_ename(errno));
	if (stat(".", &st) < 0)
		return pc_fail("uid %d cannot stat its mode 0755 directory %s (%s); a FUSE "
			       "mount needs -o allow_other",
			       PC_NOBODY, pc_base, pc_ename(errno));
	return 0;
}

static void kid_release(struct pc_kid *k)
{
	int st;

	kill(k->pid, SIGKILL);
	while (waitpid(k->pid, &st, 0) < 0 && errno == EINTR)
		;
	close(k->msg);
	if (k->to >= 0)
		close(k->to);
	close(k->from);
	k->pid = 0;
}

static void kid_run(pc_kid_fn fn, void *arg, bool nobody, const int *fds)
{
	int rc;

	for (int i = 0; i < MAX_KIDS; i++) {
		if (g_kids[i].pid) {
			close(g_kids[i].msg);
			close(g_kids[i].to);
			close(g_kids[i].from);
			g_kids[i].pid = 0;
		}
	}
	close(fds[0]);
	close(fds[3]);
	close(fds[4]);
	g_msg_fd = fds[1];
	g_sync_in = fds[2];
	g_sync_out = fds[5];
	rc = nobody ? drop_to_nobody() : 0;
	if (rc == 0)
		rc = fn(arg);
	_exit(rc == 0 ? 0 : 1);
}

/* Forks a child running fn(arg), as uid 65534 in pc_base if nobody. */
struct pc_kid *pc_kid_start(pc_kid_fn fn, void *arg, bool nobody)
{
	int fds[6] = {-1, -1, -1, -1, -1, -1};
	struct pc_kid *k = NULL;
	pid_t pid;

	for (int i = 0; i < MAX_KIDS; i++)
		if (!g_kids[i].pid)
			k = &g_kids[i];
	if (!k) {
		pc_fail("too many child processes");
		return NULL;
	}
	if (pipe(fds) < 0 || pipe(fds + 2) < 0 || pipe(fds + 4) < 0) {
		pc_fail("pipe: %s", pc_ename(errno));
		goto close_fds;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		pc_fail("fork: %s", pc_ename(errno));
		goto close_fds;
	}
	if (pid == 0)
		kid_run(fn, arg, nobody, fds);
	close(fds[1]);
	close(fds[2]);
	close(fds[5]);
	*k = (struct pc_kid){.pid = pid, .msg = fds[0], .to = fds[3], .from = fds[4]};
	return k;
close_fds:
	for (int i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

/* Waits for the child; fails with its message unless it exited 0. */
int pc_kid_wait(struct pc_kid *k)
{
	char msg[900];
	size_t len = 0;
	ssize_t r;
	int st;

	close(k->to);
	k->to = -1;
	while (len < sizeof(msg) - 1 && (r = read(k->msg, msg + len, sizeof(msg) - 1 - len)) > 0)
		len += (size_t)r;
	msg[len] = 0;
	while (waitpid(k->pid, &st, 0) < 0 && errno == EINTR)
		;
	close(k->msg);
	close(k->from);
	k->pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (len)
		return pc_fail("(child) %s", msg);
	if (WIFSIGNALED(st))
		return pc_fail("child killed by signal %d", WTERMSIG(st));
	return pc_fail("child exited with status %d", WEXITSTATUS(st));
}

pid_t pc_kid_pid(const struct pc_kid *k)
{
	return k->pid;
}

int pc_kid_send(struct pc_kid *k)
{
	return sync_send(k->to);
}

/* Waits for the child's turn; on its early exit, reports its message. */
int pc_kid_recv(struct pc_kid *k)
{
	int r = sync_read(k->from, SYNC_MS);

	if (r == 1)
		return 0;
	if (r < 0) {
		kid_release(k);
		return pc_fail("timed out after %d s waiting for the child", SYNC_MS / 1000);
	}
	if (pc_kid_wait(k) == 0)
		return pc_fail("child exited without taking its turn");
	return -1;
}

/* The child has written or exited (it does not block where it should). */
bool pc_kid_moved(struct pc_kid *k)
{
	struct pollfd pfd = {.fd = k->from, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0;
}

/* Runs fn in a child as uid 65534 (cwd pc_base) and waits for it. */
int pc_as_nobody(pc_kid_fn fn, void *arg)
{
	struct pc_kid *k = pc_kid_start(fn, arg, true);

	return k ? pc_kid_wait(k) : -1;
}

/* ---- driver ---- */

static const struct {
	const struct pc_check *checks;
	const size_t *n;
} tables[] = {
    {pc_ns_checks, &pc_ns_nchecks},
    {pc_io_checks, &pc_io_nchecks},
};

static void on_alarm(int sig)
{
	static const char head[] = "FAIL ", tail[] = ": timed out\n";
	ssize_t r;

	(void)sig;
	for (int i = 0; i < MAX_KIDS; i++)
		if (g_kids[i].pid)
			kill(g_kids[i].pid, SIGKILL);
	r = write(STDOUT_FILENO, head, sizeof(head) - 1);
	r = write(STDOUT_FILENO, g_check, strlen(g_check));
	r = write(STDOUT_FILENO, tail, sizeof(tail) - 1);
	(void)r;
	_exit(1);
}

/* Runs one check in DIR/NAME; 0 passed or skipped, -1 failed. */
static int run_check(const struct pc_check *c, unsigned int timeout)
{
	int rc;

	g_check = c->name;
	pc_ctx[0] = 0;
	if (c->needs_dir2 && !g_dir2) {
		printf("skip %s: needs DIR2, a second mount of the same file system\n", c->name);
		return 0;
	}
	snprintf(pc_base, sizeof(pc_base), "%s/%s", g_dir, c->name);
	snprintf(pc_base2, sizeof(pc_base2), "%s/%s", g_dir2 ? g_dir2 : "", c->name);
	if (mkdir(pc_base, 0755) < 0)
		return pc_fail("mkdir %s: %s", pc_base, pc_ename(errno));
	alarm(timeout);
	rc = c->fn();
	alarm(0);
	pc_ctx[0] = 0;
	for (int i = 0; i < MAX_KIDS; i++)
		if (g_kids[i].pid)
			kid_release(&g_kids[i]);
	if (rc == 0)
		printf("ok %s\n", c->name);
	return rc;
}

/* Runs every check (or the one named only); the number failed. */
static unsigned int run_all(const char *only, unsigned int timeout, unsigned int *ran)
{
	unsigned int failed = 0;

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < *tables[t].n; i++) {
			const struct pc_check *c = &tables[t].checks[i];

			if (only && strcmp(only, c->name) != 0)
				continue;
			(*ran)++;
			if (run_check(c, timeout) < 0)
				failed++;
		}
	}
	return failed;
}

static void list_checks(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t i = 0; i < *tables[t].n; i++)
			printf("%s\n", tables[t].checks[i].name);
}

static void usage(void)
{
	fprintf(stderr, "usage: posix_check [-k NAME] [-t SECS] [-l] DIR [DIR2]\n"
			"  -k, --only NAME  run one check\n"
			"  -t, --timeout S  seconds per check (default 120)\n"
			"  -l, --list       list the checks\n");
	exit(2);
}

/* Parses the options; exits on -l and on bad usage. */
static void parse_args(int argc, char **argv, const char **only, unsigned int *timeout)
{
	static const struct option opts[] = {
	    {"only", required_argument, NULL, 'k'},
	    {"timeout", required_argument, NULL, 't'},
	    {"list", no_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "k:t:l", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			*only = optarg;
			break;
		case 't':
			*timeout = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || *timeout == 0 || *timeout > 86400)
				usage();
			break;
		case 'l':
			list_checks();
			exit(0);
		default:
			usage();
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage();
	g_dir = argv[optind];
	g_dir2 = argc - optind == 2 ? argv[optind + 1] : NULL;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	unsigned int timeout = 120, failed, ran = 0;

	parse_args(argc, argv, &only, &timeout);
	if (geteuid() != 0) {
		printf("posix_check: needs root (permission checks switch to uid %d)\n", PC_NOBODY);
		return 77;
	}
	if (!is_dir(g_dir) || (g_dir2 && !is_dir(g_dir2))) {
		fprintf(stderr, "posix_check: %s is not a directory\n",
			is_dir(g_dir) ? g_dir2 : g_dir);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	umask(0);
	failed = run_all(only, timeout, &ran);
	if (only && !ran) {
		fprintf(stderr, "posix_check: no check named '%s' (-l lists them)\n", only);
		return 2;
	}
	printf("posix_check: %u checks, %u failed\n", ran, failed);
	return failed ? 1 : 0;
}
