/*
 * test_client_locks.c - file locks through libcairn on a two-shard cluster
 * of real cairn-mds processes (suite 'mds').  Two struct cairn handles
 * stand for two nodes; each check runs on a file of shard 0 and on one of
 * shard 1.
 *
 *   exclusive    F_WRLCK excludes every lock of the other node, F_RDLCK
 *                shares; another owner of the same node is excluded too
 *   ranges       disjoint ranges coexist, overlapping ones conflict, an
 *                unlock in the middle splits, len 0 runs to the end
 *   getlk        F_GETLK reports the conflicting range, type and pid
 *   blocking     F_SETLKW waits without busy polling and is granted when
 *                the other node releases
 *   cancel       a blocked F_SETLKW stops with -EINTR when its token is
 *                cancelled, and is not granted later
 *   flock        LOCK_EX/LOCK_SH across nodes, LOCK_NB, conversion, a
 *                blocked LOCK_EX granted, no interplay with POSIX locks
 *   release      cairn_lock_release_owner() drops an owner's locks and
 *                fails its blocked request with -EBADF
 *   deadlock     two nodes waiting for each other: -EDEADLK
 *   errors       bad types, ranges, ops, inodes
 *   close        cairn_close() releases a handle's locks at once
 *   lease        a live handle keeps its locks past the lease (renewals)
 *   wire         raw requests: the wrong shard (-EREMOTE), a malformed body
 *                (-CAIRN_EBADFRAME, connection kept), LOCK_SESSION's "new"
 *                flag, and a wait id sent again taking over its request
 *   restart      SIGTERM of a shard with a request waiting there (answered,
 *                so the shard stops); its locks are gone after the restart
 *                and the waiting call, sent again, gets the lock
 *   killed       a child process takes a lock with its own handle and is
 *                SIGKILLed; the other node's blocked request is granted
 *                within the lease and a margin
 *
 * Usage: test_client_locks CAIRN_MDS.  Exits 77 when the daemon is not
 * built.  The shards run under mds_harness.h.  The killed child is this
 * program run again as: test_client_locks --child CONF INO.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/cairn.h"
#include "common/error.h"
#include "proto/mds.h"
#include "tests/integration/mds_harness.h"

#define NSHARDS 2
#define LEASE_MS 5000	     /* MDS_LOCK_LEASE_MS of cairn-mds */
#define GRANT_MARGIN_MS 2500 /* expiry tick, renewal, scheduling on a busy machine */
#define BLOCKED_MS 300	     /* how long a waiter is watched staying blocked */
#define WAKE_MS 5000	     /* a released lock reaches its waiter within this */

static struct mh_cluster mc;
static struct cairn *c1, *c2;	/* two nodes */
static uint64_t files[NSHARDS]; /* a regular file on each shard */

/* ---- helpers ---- */

static struct cairn_lock rng(uint32_t type, uint64_t start, uint64_t len)
{
	return (struct cairn_lock){.start = start, .len = len, .type = type, .pid = 4242};
}

static int setlk(struct cairn *c, uint64_t ino, uint64_t owner, uint32_t type, uint64_t start,
		 uint64_t len)
{
	struct cairn_lock lk = rng(type, start, len);

	return cairn_setlk(c, NULL, ino, owner, &lk, false, NULL);
}

/* A call blocked on another thread. */
struct blocker {
	struct cairn *c;
	uint64_t ino;
	uint64_t owner;
	struct cairn_lock lk;
	int op; /* flock op; 0: a POSIX lock */
	struct cairn_lock_wait *w;
	pthread_t tid;
	atomic_bool done;
	int rc;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;

	if (b->op)
		b->rc = cairn_flock(b->c, NULL, b->ino, b->owner, b->op, b->w);
	else
		b->rc = cairn_setlk(b->c, NULL, b->ino, b->owner, &b->lk, true, b->w);
	atomic_store(&b->done, true);
	return NULL;
}

/* Starts b and checks it is still blocked BLOCKED_MS later. */
static void blocker_start(struct blocker *b)
{
	atomic_init(&b->done, false);
	assert_int_equal(pthread_create(&b->tid, NULL, blocker_main, b), 0);
	usleep(BLOCKED_MS * 1000);
	if (atomic_load(&b->done))
		fail_msg("a blocking request returned %d (%s) while the lock was held", b->rc,
			 cairn_strerror(b->rc));
}

/* Waits up to WAKE_MS for b to return; returns its result. */
static int blocker_join(struct blocker *b)
{
	int64_t end = mh_now_ms() + WAKE_MS;

	while (!atomic_load(&b->done) && mh_now_ms() < end)
		usleep(5000);
	if (!atomic_load(&b->done))
		fail_msg("a blocked request was not answered within %d ms", WAKE_MS);
	pthread_join(b->tid, NULL);
	return b->rc;
}

/* ---- checks, each on the file of every shard ---- */

static void check_exclusive(uint64_t f)
{
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 0), 0);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, 0, 1), -EAGAIN);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 1000000, 0), -EAGAIN);
	assert_int_equal(setlk(c1, f, 2, F_RDLCK, 7, 1), -EAGAIN); /* another process */
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 0), 0);	   /* again: no-op */
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, 0, 0), 0);
	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 0, 0), 0); /* shared */
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 1), -EAGAIN);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 0, 1), -EAGAIN);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 0, 1), 0); /* upgrade once alone */
	assert_int_equal(setlk(c2, f, 1, F_UNLCK, 0, 0), 0);
}

static void check_ranges(uint64_t f)
{
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 100), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 100, 100), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 50, 100), -EAGAIN);
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 199, 1), -EAGAIN);
	/* c1 unlocks its middle: [0, 25) and [75, 100) stay. */
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 25, 50), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 30, 40), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 10, 20), -EAGAIN);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, 74, 2), -EAGAIN);
	/* To the end of the file, beyond any size. */
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 1000, 0), 0);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, INT64_MAX, 1), -EAGAIN);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, 999, 1), 0);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	/* c2's own locks never stand in its way: the whole file at once. */
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 0, 0), 0);
	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 5, 1), -EAGAIN);
	assert_int_equal(setlk(c2, f, 1, F_UNLCK, 0, 0), 0);
}

static void check_getlk(uint64_t f)
{
	struct cairn_lock lk;

	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 10, 5), 0);
	assert_int_equal(setlk(c1, f, 3, F_WRLCK, 100, 50), 0);
	lk = rng(F_WRLCK, 0, 0);
	assert_int_equal(cairn_getlk(c2, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_RDLCK);
	assert_int_equal(lk.start, 10);
	assert_int_equal(lk.len, 5);
	assert_int_equal(lk.pid, 4242);
	lk = rng(F_RDLCK, 0, 0); /* readers only see the writer */
	lk.pid = 1;
	assert_int_equal(cairn_getlk(c2, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_WRLCK);
	assert_int_equal(lk.start, 100);
	assert_int_equal(lk.len, 50);
	lk = rng(F_WRLCK, 15, 85);
	assert_int_equal(cairn_getlk(c2, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_UNLCK);
	assert_int_equal(lk.start, 15); /* unchanged */
	assert_int_equal(lk.len, 85);
	lk = rng(F_WRLCK, 0, 0); /* owner 1 does not conflict with itself */
	assert_int_equal(cairn_getlk(c1, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_WRLCK);
	assert_int_equal(lk.start, 100);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(setlk(c1, f, 3, F_UNLCK, 0, 0), 0);
	lk = rng(F_WRLCK, 0, 0);
	assert_int_equal(cairn_getlk(c2, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_UNLCK);
}

static void check_blocking(uint64_t f)
{
	struct blocker b = {.c = c2, .ino = f, .owner = 1, .lk = rng(F_WRLCK, 50, 10)};
	int64_t t0;

	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 0, 0), 0);
	blocker_start(&b);
	t0 = mh_now_ms();
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(blocker_join(&b), 0);
	printf("  granted %lld ms after the release\n", (long long)(mh_now_ms() - t0));
	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 55, 1), -EAGAIN);
	assert_int_equal(setlk(c1, f, 1, F_RDLCK, 60, 1), 0);
	assert_int_equal(setlk(c2, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
}

static void check_cancel(uint64_t f)
{
	struct blocker b = {.c = c2, .ino = f, .owner = 1, .lk = rng(F_WRLCK, 0, 0)};
	struct cairn_lock lk = rng(F_WRLCK, 0, 0);
	struct cairn_lock_wait *pre;

	assert_int_equal(cairn_lock_wait_new(&b.w), 0);
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 0), 0);
	blocker_start(&b);
	cairn_lock_wait_cancel(b.w);
	assert_int_equal(blocker_join(&b), -EINTR);
	/* Gone from the queue: the release does not hand it the lock. */
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(cairn_getlk(c1, NULL, f, 1, &lk), 0);
	assert_int_equal(lk.type, F_UNLCK);
	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 0), 0);
	/* A token cancelled before the call: -EINTR at once. */
	assert_int_equal(cairn_lock_wait_new(&pre), 0);
	cairn_lock_wait_cancel(pre);
	lk = rng(F_WRLCK, 0, 0);
	assert_int_equal(cairn_setlk(c2, NULL, f, 1, &lk, true, pre), -EINTR);
	assert_int_equal(cairn_flock(c2, NULL, f, 1, LOCK_EX, pre), -EINTR); /* even when free */
	assert_int_equal(cairn_flock(c2, NULL, f, 1, LOCK_EX | LOCK_NB, pre), 0); /* no wait */
	assert_int_equal(cairn_flock(c2, NULL, f, 1, LOCK_UN, pre), 0);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	cairn_lock_wait_free(pre);
	cairn_lock_wait_free(b.w);
}

static void check_flock(uint64_t f)
{
	struct blocker b = {.c = c2, .ino = f, .owner = 20, .op = LOCK_EX};

	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_EX, NULL), 0);
	assert_int_equal(cairn_flock(c2, NULL, f, 20, LOCK_EX | LOCK_NB, NULL), -EWOULDBLOCK);
	assert_int_equal(cairn_flock(c2, NULL, f, 20, LOCK_SH | LOCK_NB, NULL), -EWOULDBLOCK);
	assert_int_equal(cairn_flock(c1, NULL, f, 11, LOCK_SH | LOCK_NB, NULL), -EWOULDBLOCK);
	/* POSIX locks do not see flock locks. */
	assert_int_equal(setlk(c2, f, 20, F_WRLCK, 0, 0), 0);
	assert_int_equal(setlk(c2, f, 20, F_UNLCK, 0, 0), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_SH, NULL), 0); /* downgrade */
	assert_int_equal(cairn_flock(c2, NULL, f, 20, LOCK_SH | LOCK_NB, NULL), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 11, LOCK_SH, NULL), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 11, LOCK_UN, NULL), 0);
	/* A failed conversion drops the lock, as on Linux. */
	assert_int_equal(cairn_flock(c2, NULL, f, 20, LOCK_EX | LOCK_NB, NULL), -EWOULDBLOCK);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_EX | LOCK_NB, NULL), 0);
	blocker_start(&b);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_UN, NULL), 0);
	assert_int_equal(blocker_join(&b), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_SH | LOCK_NB, NULL), -EWOULDBLOCK);
	assert_int_equal(cairn_flock(c2, NULL, f, 20, LOCK_UN, NULL), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_EX | LOCK_NB, NULL), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 10, LOCK_UN, NULL), 0);
}

static void check_release(uint64_t f)
{
	struct blocker b = {.c = c1, .ino = f, .owner = 5, .lk = rng(F_WRLCK, 500, 1)};

	assert_int_equal(setlk(c1, f, 5, F_WRLCK, 0, 10), 0);
	assert_int_equal(setlk(c1, f, 5, F_RDLCK, 20, 10), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 5, LOCK_EX, NULL), 0);
	assert_int_equal(setlk(c1, f, 6, F_WRLCK, 40, 10), 0); /* another owner stays */
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 500, 1), 0);
	blocker_start(&b); /* owner 5 waits for c2 */
	assert_int_equal(cairn_lock_release_owner(c1, f, 5), 0);
	assert_int_equal(blocker_join(&b), -EBADF);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 0, 30), 0);
	assert_int_equal(cairn_flock(c2, NULL, f, 1, LOCK_EX | LOCK_NB, NULL), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 45, 1), -EAGAIN);
	assert_int_equal(cairn_lock_release_owner(c1, f, 6), 0);
	assert_int_equal(cairn_lock_release_owner(c2, f, 1), 0);
	assert_int_equal(setlk(c1, f, 7, F_WRLCK, 0, 0), 0);
	assert_int_equal(cairn_flock(c1, NULL, f, 7, LOCK_EX | LOCK_NB, NULL), 0);
	assert_int_equal(cairn_lock_release_owner(c1, f, 7), 0);
	assert_int_equal(cairn_lock_release_owner(c1, f, 7), 0); /* nothing left: fine */
}

static void check_deadlock(uint64_t f)
{
	struct blocker b = {.c = c1, .ino = f, .owner = 1, .lk = rng(F_WRLCK, 10, 10)};
	struct cairn_lock lk = rng(F_WRLCK, 0, 10);

	assert_int_equal(setlk(c1, f, 1, F_WRLCK, 0, 10), 0);
	assert_int_equal(setlk(c2, f, 1, F_WRLCK, 10, 10), 0);
	blocker_start(&b); /* c1 waits for c2 */
	assert_int_equal(cairn_setlk(c2, NULL, f, 1, &lk, true, NULL), -EDEADLK);
	assert_int_equal(setlk(c2, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(blocker_join(&b), 0);
	assert_int_equal(setlk(c2, f, 1, F_RDLCK, 19, 1), -EAGAIN);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
}

static void check_errors(uint64_t f)
{
	struct cairn_lock lk = rng(F_UNLCK, 0, 0);

	assert_int_equal(cairn_getlk(c1, NULL, f, 1, &lk), -EINVAL);
	lk = rng(77, 0, 0);
	assert_int_equal(cairn_setlk(c1, NULL, f, 1, &lk, false, NULL), -EINVAL);
	lk = rng(F_WRLCK, (uint64_t)INT64_MAX + 1, 0);
	assert_int_equal(cairn_setlk(c1, NULL, f, 1, &lk, false, NULL), -EINVAL);
	lk = rng(F_WRLCK, 10, (uint64_t)INT64_MAX);
	assert_int_equal(cairn_setlk(c1, NULL, f, 1, &lk, false, NULL), -EINVAL);
	lk = rng(F_WRLCK, 10, (uint64_t)INT64_MAX - 9); /* ends exactly at the maximum */
	assert_int_equal(cairn_setlk(c1, NULL, f, 1, &lk, false, NULL), 0);
	assert_int_equal(setlk(c1, f, 1, F_UNLCK, 0, 0), 0);
	assert_int_equal(cairn_setlk(c1, NULL, f, 1, NULL, false, NULL), -EINVAL);
	assert_int_equal(cairn_flock(c1, NULL, f, 1, LOCK_SH | LOCK_EX, NULL), -EINVAL);
	assert_int_equal(cairn_flock(c1, NULL, f, 1, 0, NULL), -EINVAL);
	assert_int_equal(setlk(NULL, f, 1, F_WRLCK, 0, 0), -EINVAL);
	assert_int_equal(setlk(c1, 0, 1, F_WRLCK, 0, 0), -EINVAL);
	assert_int_equal(setlk(c1, (uint64_t)9 << 48 | 5, 1, F_WRLCK, 0, 0), -ESTALE);
	/* An inode number of the shard that names nothing. */
	assert_int_equal(setlk(c1, (f & ~UINT64_C(0xffffffffffff)) | 0xfffffff0, 1, F_WRLCK, 0, 0),
			 -ENOENT);
	assert_int_equal(
	    cairn_flock(c1, NULL, (f & ~UINT64_C(0xffffffffffff)) | 0xfffffff0, 1, LOCK_EX, NULL),
	    -ENOENT);
}

#define ON_EVERY_SHARD(name)                                                                       \
	static void test_##name(void **state)                                                      \
	{                                                                                          \
		(void)state;                                                                       \
		for (int s = 0; s < NSHARDS; s++) {                                                \
			printf("%s on shard %d\n", #name, s);                                      \
			check_##name(files[s]);                                                    \
		}                                                                                  \
	}

ON_EVERY_SHARD(exclusive)
ON_EVERY_SHARD(ranges)
ON_EVERY_SHARD(getlk)
ON_EVERY_SHARD(blocking)
ON_EVERY_SHARD(cancel)
ON_EVERY_SHARD(flock)
ON_EVERY_SHARD(release)
ON_EVERY_SHARD(deadlock)
ON_EVERY_SHARD(errors)

/* ---- handles that go away ---- */

static void test_close(void **state)
{
	struct cairn *c3;
	int64_t t0;

	(void)state;
	assert_int_equal(cairn_open_conf(mc.conf, &c3), 0);
	for (int s = 0; s < NSHARDS; s++) {
		assert_int_equal(setlk(c3, files[s], 1, F_WRLCK, 0, 0), 0);
		assert_int_equal(cairn_flock(c3, NULL, files[s], 1, LOCK_SH, NULL), 0);
		assert_int_equal(setlk(c1, files[s], 1, F_RDLCK, 0, 1), -EAGAIN);
	}
	t0 = mh_now_ms();
	cairn_close(c3);
	for (int s = 0; s < NSHARDS; s++) {
		assert_int_equal(setlk(c1, files[s], 1, F_WRLCK, 0, 0), 0);
		assert_int_equal(cairn_flock(c1, NULL, files[s], 1, LOCK_EX | LOCK_NB, NULL), 0);
		assert_int_equal(cairn_lock_release_owner(c1, files[s], 1), 0);
	}
	/* At once, not after a lease. */
	assert_true(mh_now_ms() - t0 < LEASE_MS / 2);
}

static void test_lease(void **state)
{
	(void)state;
	for (int s = 0; s < NSHARDS; s++)
		assert_int_equal(setlk(c1, files[s], 1, F_WRLCK, 0, 0), 0);
	printf("holding the locks for %d ms\n", LEASE_MS + 1500);
	usleep((LEASE_MS + 1500) * 1000);
	for (int s = 0; s < NSHARDS; s++) {
		assert_int_equal(setlk(c2, files[s], 1, F_RDLCK, 0, 1), -EAGAIN);
		assert_int_equal(setlk(c1, files[s], 1, F_UNLCK, 0, 0), 0);
	}
}

/* ---- raw requests ---- */

static size_t enc_lock(const struct proto_mds_lock_req *q, uint8_t *buf, size_t cap)
{
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, buf, cap);
	assert_int_equal(proto_mds_lock_req_encode(q, &e), 0);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	return len;
}

static int raw(int shard, uint16_t op, const void *body, size_t len, struct rpc_msg **resp)
{
	struct rpc_msg *r = NULL;
	int rc = mh_call(mh_client(&mc, shard), op, body, len, &r);

	if (resp)
		*resp = r;
	else
		rpc_msg_free(r);
	return rc;
}

/* A raw LOCK_SET waiting on another thread. */
struct raw_wait {
	uint8_t body[512];
	size_t len;
	pthread_t tid;
	atomic_bool done;
	int rc;
};

static void *raw_wait_main(void *arg)
{
	struct raw_wait *r = arg;

	r->rc = raw(1, PROTO_OP_MDS_LOCK_SET, r->body, r->len, NULL);
	atomic_store(&r->done, true);
	return NULL;
}

static void raw_wait_start(struct raw_wait *r, const struct proto_mds_lock_req *q)
{
	r->len = enc_lock(q, r->body, sizeof(r->body));
	atomic_init(&r->done, false);
	assert_int_equal(pthread_create(&r->tid, NULL, raw_wait_main, r), 0);
	usleep(BLOCKED_MS * 1000);
}

static void raw_wait_join(struct raw_wait *r, int want)
{
	int64_t end = mh_now_ms() + WAKE_MS;

	while (!atomic_load(&r->done) && mh_now_ms() < end)
		usleep(5000);
	assert_true(atomic_load(&r->done));
	pthread_join(r->tid, NULL);
	assert_int_equal(r->rc, want);
}

static void test_wire(void **state)
{
	struct proto_mds_lock_req q = {.ino = files[1],
				       .session = 0xfeedface,
				       .owner = 1,
				       .type = PROTO_MDS_LOCK_WR,
				       .flags = PROTO_MDS_LOCK_WAIT,
				       .wait_id = 1};
	struct proto_mds_lock_session_req sq = {.session = 0xfeedface};
	struct proto_mds_lock_session_rep rep;
	struct raw_wait a, b;
	uint8_t buf[512], junk[3] = {1, 2, 3};
	struct rpc_msg *resp;
	struct wire_enc e;
	struct wire_dec d;
	size_t len;

	(void)state;
	/* The session is new to shard 1 until its first request. */
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_session_req_encode(&sq, &e);
	assert_int_equal(raw(1, PROTO_OP_MDS_LOCK_SESSION, buf, e.len, &resp), 0);
	wire_dec_init(&d, resp->body, resp->body_len);
	assert_int_equal(proto_mds_lock_session_rep_decode(&d, &rep), 0);
	assert_int_equal(rep.lease_ms, LEASE_MS);
	assert_int_equal(rep.flags, PROTO_MDS_SESSION_NEW);
	rpc_msg_free(resp);
	assert_int_equal(raw(1, PROTO_OP_MDS_LOCK_SESSION, buf, e.len, &resp), 0);
	wire_dec_init(&d, resp->body, resp->body_len);
	assert_int_equal(proto_mds_lock_session_rep_decode(&d, &rep), 0);
	assert_int_equal(rep.flags, 0);
	rpc_msg_free(resp);
	/* Wrong shard, bad body; the connection still serves. */
	len = enc_lock(&q, buf, sizeof(buf));
	assert_int_equal(raw(0, PROTO_OP_MDS_LOCK_SET, buf, len, NULL), -EREMOTE);
	assert_int_equal(raw(1, PROTO_OP_MDS_LOCK_GET, junk, sizeof(junk), NULL), -CAIRN_EBADFRAME);
	assert_int_equal(raw(1, PROTO_OP_MDS_LOCK_GET, buf, len, NULL), -EINVAL); /* WAIT */
	/* The same wait id again takes the queued request over. */
	assert_int_equal(setlk(c1, files[1], 1, F_WRLCK, 0, 0), 0);
	raw_wait_start(&a, &q);
	raw_wait_start(&b, &q);
	raw_wait_join(&a, -EALREADY);
	assert_false(atomic_load(&b.done));
	assert_int_equal(setlk(c1, files[1], 1, F_UNLCK, 0, 0), 0);
	raw_wait_join(&b, 0);
	assert_int_equal(setlk(c1, files[1], 1, F_RDLCK, 0, 1), -EAGAIN);
	/* The session's end releases it. */
	sq.flags = PROTO_MDS_SESSION_END;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_session_req_encode(&sq, &e);
	assert_int_equal(raw(1, PROTO_OP_MDS_LOCK_SESSION, buf, e.len, NULL), 0);
	assert_int_equal(setlk(c1, files[1], 1, F_WRLCK, 0, 0), 0);
	assert_int_equal(setlk(c1, files[1], 1, F_UNLCK, 0, 0), 0);
}

static void test_restart(void **state)
{
	struct blocker b = {.c = c2, .ino = files[1], .owner = 1, .lk = rng(F_WRLCK, 0, 0)};

	(void)state;
	assert_int_equal(setlk(c1, files[1], 1, F_WRLCK, 0, 0), 0);
	blocker_start(&b);
	assert_int_equal(mh_shard_stop(&mc, 1, SIGTERM), 0);
	mh_shard_up(&mc, 1);
	/* The restarted shard has no locks: the waiting call gets it. */
	assert_int_equal(blocker_join(&b), 0);
	assert_int_equal(setlk(c1, files[1], 1, F_RDLCK, 0, 1), -EAGAIN);
	assert_int_equal(setlk(c2, files[1], 1, F_UNLCK, 0, 0), 0);
}

/* Starts this program as the child that locks ino; waits for its "L". */
static pid_t child_start(uint64_t ino)
{
	char arg[32], ch = 0;
	int fds[2];
	pid_t pid;

	snprintf(arg, sizeof(arg), "%llu", (unsigned long long)ino);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl("/proc/self/exe", "test_client_locks", "--child", mc.conf, arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &ch, 1) != 1 || ch != 'L')
		fail_msg("the child did not take its lock");
	close(fds[0]);
	return pid;
}

static void test_killed(void **state)
{
	struct blocker b = {.c = c2, .ino = files[1], .owner = 1, .lk = rng(F_WRLCK, 0, 0)};
	int64_t t0, took;
	pid_t pid;
	int st;

	(void)state;
	pid = child_start(files[1]);
	assert_int_equal(setlk(c2, files[1], 1, F_RDLCK, 0, 1), -EAGAIN);
	blocker_start(&b);
	t0 = mh_now_ms();
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	while (!atomic_load(&b.done) && mh_now_ms() - t0 < LEASE_MS + GRANT_MARGIN_MS)
		usleep(10000);
	took = mh_now_ms() - t0;
	printf("granted %lld ms after the holder was killed (lease %d ms)\n", (long long)took,
	       LEASE_MS);
	assert_true(atomic_load(&b.done));
	pthread_join(b.tid, NULL);
	assert_int_equal(b.rc, 0);
	assert_int_equal(setlk(c2, files[1], 1, F_UNLCK, 0, 0), 0);
	assert_true(mh_log_has(&mc, 1, "client session(s) silent for"));
}

/* ---- the child of test_killed ---- */

static int child_main(const char *conf, const char *ino_s)
{
	uint64_t ino = strtoull(ino_s, NULL, 10);
	struct cairn *c;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rc = cairn_open_conf(conf, &c);
	if (!rc)
		rc = setlk(c, ino, 99, F_WRLCK, 0, 0);
	if (rc) {
		fprintf(stderr, "child: %s\n", cairn_strerror(rc));
		return 1;
	}
	if (write(STDOUT_FILENO, "L", 1) != 1)
		return 1;
	for (;;)
		pause();
}

/* ---- set-up ---- */

/* A regular file on shard s: in the root for 0, else in a directory there. */
static uint64_t make_file(int s)
{
	struct cairn_open_info oi;
	struct cairn_attr a;
	uint64_t parent = CAIRN_ROOT_INO;
	char name[32];
	int rc;

	for (int i = 0; s != 0 && i < 1000; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		rc = cairn_mkdir(c1, NULL, CAIRN_ROOT_INO, name, 0755, &a);
		if (rc)
			mh_fail("mkdir %s: %s", name, cairn_strerror(rc));
		if ((int)cairn_ino_shard(a.ino) == s) {
			parent = a.ino;
			break;
		}
	}
	if ((int)cairn_ino_shard(parent) != s)
		mh_fail("no directory landed on shard %d", s);
	snprintf(name, sizeof(name), "locked%d", s);
	rc = cairn_create(c1, NULL, parent, name, 0644, O_RDWR | O_EXCL, &oi);
	if (rc)
		mh_fail("create %s: %s", name, cairn_strerror(rc));
	rc = cairn_close_meta(c1, NULL, oi.attr.ino, oi.fh, NULL, NULL);
	if (rc)
		mh_fail("close %s: %s", name, cairn_strerror(rc));
	return oi.attr.ino;
}

static const struct mh_conf pools = {
    .top = "pools = ( { name = \"default\"; scheme = \"ec:4+2\"; } );",
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exclusive), cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_getlk),     cmocka_unit_test(test_blocking),
	    cmocka_unit_test(test_cancel),    cmocka_unit_test(test_flock),
	    cmocka_unit_test(test_release),   cmocka_unit_test(test_deadlock),
	    cmocka_unit_test(test_errors),    cmocka_unit_test(test_close),
	    cmocka_unit_test(test_lease),     cmocka_unit_test(test_wire),
	    cmocka_unit_test(test_restart),   cmocka_unit_test(test_killed),
	};
	int failures, rc;

	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s CAIRN_MDS\n", argv[0]);
		return 2;
	}
	if (access(argv[1], X_OK)) {
		printf("SKIP: cairn-mds not found at %s (build the daemon first)\n", argv[1]);
		return 77;
	}
	mh_cluster_init(&mc, argv[1], NSHARDS, &pools);
	for (int i = 0; i < NSHARDS; i++)
		mh_shard_up(&mc, i);
	rc = cairn_open_conf(mc.conf, &c1);
	if (!rc)
		rc = cairn_open_conf(mc.conf, &c2);
	if (rc)
		mh_fail("cairn_open_conf %s: %s", mc.conf, cairn_strerror(rc));
	for (int s = 0; s < NSHARDS; s++)
		files[s] = make_file(s);
	failures = cmocka_run_group_tests(tests, NULL, NULL);
	cairn_close(c2);
	cairn_close(c1);
	for (int i = 0; i < NSHARDS; i++)
		if (mh_shard_stop(&mc, i, SIGTERM) != 0)
			mh_fail("shard %d did not stop cleanly", i);
	return failures ? 1 : 0;
}
