/*
 * test_ns_purge.c - purge entries of the namespace engine (mds/ns.h,
 * "purges"; mds/ns_purge.c) on a real RocksDB: the record codec, which
 * deletions queue an entry (last unlink, last close of an orphan, an
 * orphan reaped at open, a rename over a file, a cross-shard link drop,
 * fsck) and which do not (links left, open, empty, no pool, not a regular
 * file), the commit callback, listing, progress and removal, and the
 * atomicity of entry and deletion: a child process unlinking files is
 * SIGKILLed at a random moment (seed printed; CAIRN_TEST_SEED to repeat)
 * and every file must then be either still there without an entry, or
 * gone with one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mds/ns_int.h"
#include "ns_test.h"

static const struct ns_layout lay42 = {.pool_id = 3, .chunk_size = 65536, .k = 4, .m = 2};

/* Creates a file with layout lay42 (NULL: the parent's) and size. */
static uint64_t mkfile(struct ns *ns, uint64_t dir, const char *name, uint64_t size,
		       const struct ns_layout *lay)
{
	struct ns_setattr sa = {.valid = NS_SET_SIZE, .size = size};
	struct ns_attr a;

	assert_int_equal(ns_create(ns, &nt_root, dir, N(name), 0644, lay, false, &a), 0);
	if (size)
		assert_int_equal(ns_setattr(ns, &nt_root, a.ino, &sa, false, NULL), 0);
	return a.ino;
}

static bool has_purge(struct ns *ns, uint64_t ino, struct ns_purge *out)
{
	struct ns_purge p;
	int rc = ns_purge_get(ns, ino, out ? out : &p);

	assert_true(rc == 0 || rc == -ENOENT);
	return rc == 0;
}

static uint32_t count_purges(struct ns *ns)
{
	struct ns_purge list[16];
	uint32_t n, total = 0;
	uint64_t after = 0;

	do {
		assert_int_equal(ns_purge_list(ns, after, list, 16, &n), 0);
		total += n;
		if (n)
			after = list[n - 1].ino;
	} while (n == 16);
	return total;
}

static void test_codec(void **state)
{
	struct ns_purge p = {.ino = 77, .size = (UINT64_C(5) << 30) + 3, .layout = lay42};
	struct ns_purge q;
	uint8_t buf[NS_PURGE_REC], bad[NS_PURGE_REC + 1];

	(void)state;
	/* 5 GiB + 3 over 256 KiB stripes: 20480 full stripes and one more. */
	assert_int_equal(ns_purge_stripes(&p), 20481);
	p.next_stripe = 20481;
	assert_int_equal(ns_purge_encode(&p, buf), NS_PURGE_REC);
	assert_int_equal(ns_purge_decode(77, buf, sizeof(buf), &q), 0);
	assert_true(q.ino == 77 && q.size == p.size && q.next_stripe == 20481);
	assert_true(q.layout.pool_id == 3 && q.layout.chunk_size == 65536);
	assert_true(q.layout.k == 4 && q.layout.m == 2);
	/* Exact multiples, one byte, a bad layout. */
	q.size = 4 * 65536;
	assert_int_equal(ns_purge_stripes(&q), 1);
	q.size = 1;
	assert_int_equal(ns_purge_stripes(&q), 1);
	q.layout.k = 0;
	assert_int_equal(ns_purge_stripes(&q), 0);
	/* Every malformed record is refused. */
	assert_int_equal(ns_purge_decode(77, buf, sizeof(buf) - 1, &q), -EIO);
	memcpy(bad, buf, sizeof(buf));
	bad[NS_PURGE_REC] = 0;
	assert_int_equal(ns_purge_decode(77, bad, sizeof(bad), &q), -EIO);
	assert_int_equal(ns_purge_decode(0, buf, sizeof(buf), &q), -EIO);
	bad[0] = 2; /* version */
	assert_int_equal(ns_purge_decode(77, bad, NS_PURGE_REC, &q), -EIO);
	memcpy(bad, buf, sizeof(buf));
	bad[17] = 0; /* k */
	assert_int_equal(ns_purge_decode(77, bad, NS_PURGE_REC, &q), -EIO);
	memcpy(bad, buf, sizeof(buf));
	bad[17] = 200, bad[18] = 100; /* k + m above 255 */
	assert_int_equal(ns_purge_decode(77, bad, NS_PURGE_REC, &q), -EIO);
	memcpy(bad, buf, sizeof(buf));
	memset(bad + 13, 0, 4); /* chunk size */
	assert_int_equal(ns_purge_decode(77, bad, NS_PURGE_REC, &q), -EIO);
	p.next_stripe = 20482; /* past the end */
	ns_purge_encode(&p, bad);
	assert_int_equal(ns_purge_decode(77, bad, NS_PURGE_REC, &q), -EIO);
}

static int kicks;

static void on_kick(void *arg)
{
	assert_ptr_equal(arg, &kicks);
	kicks++;
}

/* Reopens shard 0 with the kick callback. */
static void reopen(struct nt_fx *f)
{
	struct ns_options o = {.shard = 0, .purge_queued = on_kick, .cb_arg = &kicks};

	ns_db_close(f->ns);
	f->ns = NULL;
	assert_int_equal(ns_db_open(f->path[0], &o, &f->ns), 0);
}

static void test_unlink(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	struct ns_purge p;
	struct ns_attr a;
	uint64_t big, empty, nopool, linked, dir;

	reopen(f);
	kicks = 0;
	big = mkfile(f->ns, NS_ROOT_INO, "big", 3 * 262144 + 5, &lay42);
	empty = mkfile(f->ns, NS_ROOT_INO, "empty", 0, &lay42);
	nopool = mkfile(f->ns, NS_ROOT_INO, "nopool", 1000, NULL);
	linked = mkfile(f->ns, NS_ROOT_INO, "linked", 10, &lay42);
	dir = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "dir", 0755);
	assert_int_equal(ns_link(f->ns, &nt_root, linked, dir, N("again"), false, &a), 0);
	assert_int_equal(ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("sl"), N("big"), false, &a), 0);
	assert_int_equal(kicks, 0);
	assert_int_equal(count_purges(f->ns), 0);

	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("big"), false, &drop), 0);
	assert_true(drop.freed && drop.ino == big);
	assert_true(has_purge(f->ns, big, &p));
	assert_true(p.ino == big && p.size == 3 * 262144 + 5 && p.next_stripe == 0);
	assert_true(p.layout.pool_id == 3 && p.layout.k == 4 && p.layout.m == 2 &&
		    p.layout.chunk_size == 65536);
	assert_int_equal(ns_purge_stripes(&p), 4);
	assert_int_equal(kicks, 1);
	/* Nothing to purge: no data, no pool, not a file, links left. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("empty"), false, &drop), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("nopool"), false, &drop), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("sl"), false, &drop), 0);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, NS_ROOT_INO, N("dir"), false, &drop),
			 -ENOTEMPTY);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("linked"), false, &drop), 0);
	assert_true(!drop.freed && drop.nlink == 1);
	assert_false(has_purge(f->ns, empty, NULL) || has_purge(f->ns, nopool, NULL));
	assert_false(has_purge(f->ns, linked, NULL));
	assert_int_equal(kicks, 1);
	/* The last link. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, dir, N("again"), false, &drop), 0);
	assert_true(drop.freed);
	assert_true(has_purge(f->ns, linked, &p) && p.size == 10);
	assert_int_equal(kicks, 2);
	assert_int_equal(count_purges(f->ns), 2);
	/* Entries survive a restart. */
	reopen(f);
	assert_int_equal(count_purges(f->ns), 2);
	assert_int_equal(kicks, 2);
}

static void test_orphan_and_rename(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	struct ns_purge p;
	struct ns_attr a;
	uint64_t open1, open2, victim;

	reopen(f);
	kicks = 0;
	open1 = mkfile(f->ns, NS_ROOT_INO, "open1", 5000, &lay42);
	open2 = mkfile(f->ns, NS_ROOT_INO, "open2", 6000, &lay42);
	victim = mkfile(f->ns, NS_ROOT_INO, "victim", 7000, &lay42);
	mkfile(f->ns, NS_ROOT_INO, "src", 1, &lay42);
	/* Unlinked while open: the entry comes with the last close. */
	assert_int_equal(ns_open(f->ns, &nt_root, open1, O_RDWR, false, &a), 0);
	assert_int_equal(ns_open(f->ns, &nt_root, open1, O_RDONLY, false, &a), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("open1"), false, &drop), 0);
	assert_true(drop.orphaned && !drop.freed);
	assert_false(has_purge(f->ns, open1, NULL));
	assert_int_equal(ns_close(f->ns, open1, true, 9000, NULL, false, &drop), 0);
	assert_false(has_purge(f->ns, open1, NULL));
	assert_int_equal(ns_close(f->ns, open1, false, 0, NULL, false, &drop), 0);
	assert_true(drop.freed);
	/* The size published by the last writer's close counts. */
	assert_true(has_purge(f->ns, open1, &p) && p.size == 9000);
	assert_int_equal(kicks, 1);
	/* A rename over a file frees it. */
	assert_int_equal(ns_rename(f->ns, &nt_root, NS_ROOT_INO, N("src"), NS_ROOT_INO, N("victim"),
				   0, false, &drop),
			 0);
	assert_true(drop.freed && drop.ino == victim);
	assert_true(has_purge(f->ns, victim, &p) && p.size == 7000);
	assert_int_equal(kicks, 2);
	/* An orphan left by a crash is reaped, with its entry, at open. */
	assert_int_equal(ns_open(f->ns, &nt_root, open2, O_RDONLY, false, &a), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("open2"), false, &drop), 0);
	assert_false(has_purge(f->ns, open2, NULL));
	kicks = 0;
	reopen(f);
	assert_int_equal(kicks, 1);
	assert_true(has_purge(f->ns, open2, &p) && p.size == 6000);
	assert_int_equal(ns_getattr(f->ns, open2, &a), -ENOENT);
}

static void test_xshard_and_fsck(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = {.op_id = 4242, .intent = NS_INTENT_KEEP};
	struct ns_drop drop;
	struct ns_purge p;
	uint64_t a, b;

	reopen(f);
	kicks = 0;
	a = mkfile(f->ns, NS_ROOT_INO, "a", 123, &lay42);
	b = mkfile(f->ns, NS_ROOT_INO, "b", 456, &lay42);
	/* The last link dropped by a cross-shard unlink. */
	assert_int_equal(ns_inode_nlink_adjust(f->ns, &x, a, -1, &drop), 0);
	assert_true(drop.freed);
	assert_true(has_purge(f->ns, a, &p) && p.size == 123);
	/* Repeating the step (same op) queues nothing twice. */
	assert_int_equal(ns_inode_nlink_adjust(f->ns, &x, a, -1, &drop), 0);
	assert_int_equal(kicks, 1);
	/* fsck deleting an inode. */
	assert_int_equal(ns_fsck_delete_inode(f->ns, b, 1, &drop), 0);
	assert_true(has_purge(f->ns, b, &p) && p.size == 456);
	assert_int_equal(kicks, 2);
}

static void test_list_progress_done(void **state)
{
	struct nt_fx *f = *state;
	struct ns_purge list[4], p;
	uint64_t inos[6];
	uint32_t n;
	char name[16];

	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		inos[i] = mkfile(f->ns, NS_ROOT_INO, name, (uint64_t)(i + 1) * 262144, &lay42);
		assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N(name), false, NULL), 0);
	}
	assert_int_equal(ns_purge_list(f->ns, 0, list, 0, &n), -EINVAL);
	assert_int_equal(ns_purge_list(f->ns, 0, list, 4, &n), 0);
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++)
		assert_true(list[i].ino == inos[i]);
	assert_int_equal(ns_purge_list(f->ns, list[3].ino, list, 4, &n), 0);
	assert_true(n == 2 && list[0].ino == inos[4] && list[1].ino == inos[5]);
	assert_int_equal(ns_purge_list(f->ns, UINT64_MAX, list, 4, &n), 0);
	assert_int_equal(n, 0);

	/* Progress: up to the file's last stripe plus one. */
	assert_int_equal(ns_purge_get(f->ns, inos[2], &p), 0);
	assert_int_equal(ns_purge_stripes(&p), 3);
	p.next_stripe = 2;
	assert_int_equal(ns_purge_progress(f->ns, &p), 0);
	p.next_stripe = 4;
	assert_int_equal(ns_purge_progress(f->ns, &p), -EINVAL);
	assert_int_equal(ns_purge_get(f->ns, inos[2], &p), 0);
	assert_int_equal(p.next_stripe, 2);
	reopen(f);
	assert_int_equal(ns_purge_get(f->ns, inos[2], &p), 0);
	assert_true(p.next_stripe == 2 && p.size == 3 * 262144);
	/* Done: gone, also twice; progress of a missing entry. */
	assert_int_equal(ns_purge_done(f->ns, inos[2]), 0);
	assert_int_equal(ns_purge_done(f->ns, inos[2]), 0);
	assert_int_equal(ns_purge_get(f->ns, inos[2], &p), -ENOENT);
	p.ino = inos[2];
	p.next_stripe = 1;
	assert_int_equal(ns_purge_progress(f->ns, &p), -ENOENT);
	assert_int_equal(count_purges(f->ns), 5);
}

/* ---- atomicity under SIGKILL ---- */

#define CRASH_FILES 300

static uint64_t crash_size(int i)
{
	return (uint64_t)(i % 7) * 100000 + 1 + (uint64_t)i;
}

/* The child: creates the files (reporting their inos), then unlinks them, reporting each. */
static void crash_child(const char *path, int fd)
{
	struct ns *ns;
	char name[16];
	uint64_t v;

	if (nt_open(path, 0, &ns))
		_exit(2);
	for (int i = 0; i < CRASH_FILES; i++) {
		struct ns_setattr sa = {.valid = NS_SET_SIZE, .size = crash_size(i)};
		struct ns_attr a;

		snprintf(name, sizeof(name), "c%d", i);
		if (ns_create(ns, &nt_root, NS_ROOT_INO, N(name), 0644, &lay42, false, &a) ||
		    ns_setattr(ns, &nt_root, a.ino, &sa, i == CRASH_FILES - 1, NULL))
			_exit(3);
		if (write(fd, &a.ino, sizeof(a.ino)) != sizeof(a.ino))
			_exit(4);
	}
	for (int i = 0; i < CRASH_FILES; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (ns_unlink(ns, &nt_root, NS_ROOT_INO, N(name), false, NULL))
			_exit(5);
		v = (uint64_t)i + 1;
		if (write(fd, &v, sizeof(v)) != sizeof(v))
			_exit(6);
	}
	for (;;)
		pause(); /* the parent kills us */
}

/* Reads one u64 from fd; false at EOF. */
static bool read_u64(int fd, uint64_t *v)
{
	size_t got = 0;

	while (got < sizeof(*v)) {
		ssize_t n = read(fd, (char *)v + got, sizeof(*v) - got);

		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Runs the child; returns how many unlinks it reported before it died. */
static uint64_t crash_run(struct nt_fx *f, uint64_t kill_after, uint64_t *inos)
{
	uint64_t v, reported = 0;
	int pipefd[2], status;
	pid_t pid;

	ns_db_close(f->ns);
	f->ns = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		crash_child(f->path[0], pipefd[1]);
	}
	close(pipefd[1]);
	for (int i = 0; i < CRASH_FILES; i++)
		assert_true(read_u64(pipefd[0], &inos[i]));
	while (reported < kill_after && read_u64(pipefd[0], &v))
		reported = v;
	kill(pid, SIGKILL);
	while (read_u64(pipefd[0], &v)) /* what it reported before dying */
		reported = v;
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	return reported;
}

static void test_crash_atomic(void **state)
{
	struct nt_fx *f = *state;
	const char *env = getenv("CAIRN_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
	uint64_t inos[CRASH_FILES], reported, kill_after;
	unsigned gone = 0;

	srand(seed);
	kill_after = (uint64_t)(rand() % CRASH_FILES);
	printf("seed %u (CAIRN_TEST_SEED): SIGKILL after %" PRIu64 " unlinks\n", seed, kill_after);
	reported = crash_run(f, kill_after, inos);
	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
	for (int i = 0; i < CRASH_FILES; i++) {
		char name[16];
		struct ns_purge p;
		struct ns_attr a;
		uint64_t ino;
		int rc;

		snprintf(name, sizeof(name), "c%d", i);
		rc = nt_lookup(f->ns, NS_ROOT_INO, name, &ino);
		if (rc == 0) {
			/* Still there: no entry may purge a live file. */
			assert_true((uint64_t)i >= reported && ino == inos[i]);
			assert_int_equal(ns_getattr(f->ns, ino, &a), 0);
			assert_false(has_purge(f->ns, ino, NULL));
			continue;
		}
		/* Gone: its entry says what to delete. */
		assert_int_equal(rc, -ENOENT);
		assert_int_equal(ns_getattr(f->ns, inos[i], &a), -ENOENT);
		assert_true(has_purge(f->ns, inos[i], &p));
		assert_true(p.size == crash_size(i) && p.next_stripe == 0 && p.layout.k == 4);
		gone++;
	}
	assert_true(gone >= reported);
	assert_int_equal(count_purges(f->ns), gone);
	printf("%u files gone (%" PRIu64 " reported), each with its entry, the others without\n",
	       gone, reported);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_codec),
	    T(test_unlink),
	    T(test_orphan_and_rename),
	    T(test_xshard_and_fsck),
	    T(test_list_progress_done),
	    T(test_crash_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
