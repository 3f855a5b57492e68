/*
 * posix_check.h - what the checks of posix_check share: the running check's
 * directories, scratch buffers, failure reporting, assertion macros, file
 * helpers and child processes (posix_check.c), and the check tables of
 * posix_ns.c (names, attributes, permissions, xattrs, directories) and
 * posix_io.c (data, mmap, locks, across mounts).
 *
 * A check is `int fn(void)` returning 0 when it passed, or -1 after it
 * reported exactly one failure with pc_fail().  It works in pc_base (and
 * pc_base2, the same directory through the second mount).  Everything is
 * used by the single parent thread; a forked child uses its own copy, and
 * its pc_fail() goes to the parent through a pipe.
 */
#ifndef CAIRN_TESTS_POSIX_CHECK_H
#define CAIRN_TESTS_POSIX_CHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PC_NOBODY 65534
#define PC_BUF_SIZE (2u << 20)

struct pc_check {
	const char *name;
	int (*fn)(void);
	bool needs_dir2; /* skipped without a second mount */
};

extern const struct pc_check pc_ns_checks[];
extern const size_t pc_ns_nchecks;
extern const struct pc_check pc_io_checks[];
extern const size_t pc_io_nchecks;

extern char pc_base[PATH_MAX];	/* DIR/NAME of the running check */
extern char pc_base2[PATH_MAX]; /* DIR2/NAME */
extern char pc_ctx[128];	/* prefix of failure messages, e.g. a loop index */
extern unsigned char pc_a[PC_BUF_SIZE], pc_b[PC_BUF_SIZE]; /* scratch data */
extern unsigned char pc_c[2 * PC_BUF_SIZE];		   /* read by pc_check_fd() */

/* The errno's name ("ENOENT"); "success" for 0. */
const char *pc_ename(int e);
/* Reports the running check's failure (one line) and returns -1. */
int pc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* r is -1 with err equal to e1 or e2 (when not 0); else reports, -1. */
int pc_want_err(long r, int err, int e1, int e2, const char *what);

/* A system call that must succeed. */
#define OK(call)                                                                                   \
	do {                                                                                       \
		if ((long)(call) < 0)                                                              \
			return pc_fail("%s (expected success, got %s)", #call, pc_ename(errno));   \
	} while (0)
/* A helper that reports its own failure. */
#define DO(call)                                                                                   \
	do {                                                                                       \
		if ((call) < 0)                                                                    \
			return -1;                                                                 \
	} while (0)
/* A system call that must fail with errno e (or e2). */
#define ERR2(call, e, e2)                                                                          \
	do {                                                                                       \
		long r_ = (long)(call);                                                            \
		if (pc_want_err(r_, errno, e, e2, #call))                                          \
			return -1;                                                                 \
	} while (0)
#define ERR(call, e) ERR2(call, e, 0)
#define EQ(a, b)                                                                                   \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			return pc_fail("%s (expected %lld, got %lld)", #a, b_, a_);                \
	} while (0)
#define TRUE(cond, ...)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return pc_fail(__VA_ARGS__);                                               \
	} while (0)

/* base/name in one of 16 rotating buffers; exits 2 if it is too long. */
const char *pc_path(const char *base, const char *name);
#define P(name) pc_path(pc_base, name)
#define P2(name) pc_path(pc_base2, name)

/* Deterministic pseudo-random bytes, none of them zero. */
void pc_fill(unsigned char *b, size_t n, uint32_t seed);
/* Monotonic seconds. */
double pc_now(void);
/* These report their failure and return -1. */
int pc_pwrite_all(int fd, const void *buf, size_t n, off_t off);
/* Reads up to n bytes at off, to EOF: the count, or -1. */
ssize_t pc_pread_full(int fd, void *buf, size_t n, off_t off);
/* Creates or truncates path (mode 0644 under umask 0) with buf. */
int pc_put_file(const char *path, const void *buf, size_t n);
int pc_cmp(const char *what, const unsigned char *got, const unsigned char *exp, size_t n);
int pc_check_zero(const unsigned char *b, size_t n, const char *what);
/* The whole content through fd (or path) is exactly exp[0..n); n < 4 MiB. */
int pc_check_fd(int fd, const void *exp, size_t n, const char *what);
int pc_check_file(const char *path, const void *exp, size_t n);
/* The number of entries of a directory, . and .. included; -1. */
int pc_count_entries(const char *path);
/* Makes d00..d<n-1> in pc_base. */
int pc_mk_dirs(int n);

/*
 * Child processes.  pc_kid_start forks a child that runs fn(arg) (as uid
 * 65534 with its cwd in pc_base if nobody) and exits 0 when it returns 0;
 * NULL (reported) on failure.  Parent and child take turns: the child calls
 * pc_child_send()/pc_child_recv(), the parent pc_kid_send()/pc_kid_recv()
 * (which, if the child exits instead, reports the child's message).
 * pc_kid_wait() reaps it and reports its failure.  Children the check did
 * not wait for are killed when it ends.
 */
struct pc_kid;
typedef int (*pc_kid_fn)(void *arg);
struct pc_kid *pc_kid_start(pc_kid_fn fn, void *arg, bool nobody);
pid_t pc_kid_pid(const struct pc_kid *k);
int pc_kid_send(struct pc_kid *k);
int pc_kid_recv(struct pc_kid *k);
/* The child wrote a turn or exited (it does not block where it should). */
bool pc_kid_moved(struct pc_kid *k);
int pc_kid_wait(struct pc_kid *k);
int pc_child_send(void);
int pc_child_recv(void);
/* Runs fn in a child as uid 65534 (cwd pc_base) and waits for it. */
int pc_as_nobody(pc_kid_fn fn, void *arg);

#endif
