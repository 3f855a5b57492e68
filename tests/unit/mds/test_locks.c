/*
 * test_locks.c - the shard's file lock table (mds/locks.h): POSIX ranges
 * that split and merge, conversions by their owner, conflicts between
 * owners and none within one, "to the end of file" ranges, F_GETLK, flock
 * and its conversions, waiters granted in queue order (and not stuck
 * behind one they do not conflict with), cancel, a wait id taking over
 * its old request, release of an owner and of a session (end, lease
 * expiry), deadlock detection, limits, malformed requests, and a random
 * run of set/unlock against a byte-by-byte model (seed printed; set
 * CAIRN_TEST_SEED to replay).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mds/locks.h"

#define EOFF MDS_LOCK_EOF
#define INO 0x100
#define INO2 0x200
#define INO3 0x300

static const struct mds_locks_limits big = {
    .locks = 100000, .session_locks = 100000, .session_waiters = 1000};

static unsigned seed;

/* ---- helpers ---- */

static struct mds_lock_req px(uint64_t session, uint64_t owner, uint8_t type, uint64_t start,
			      uint64_t end)
{
	return (struct mds_lock_req){.ino = INO,
				     .session = session,
				     .owner = owner,
				     .start = start,
				     .end = end,
				     .pid = (uint32_t)(session * 100 + owner),
				     .kind = MDS_LOCK_POSIX,
				     .type = type};
}

static struct mds_lock_req fl(uint64_t session, uint64_t owner, uint8_t type)
{
	return (struct mds_lock_req){.ino = INO,
				     .session = session,
				     .owner = owner,
				     .end = EOFF,
				     .kind = MDS_LOCK_FLOCK,
				     .type = type};
}

static struct mds_lock_req waiting(struct mds_lock_req q, uint64_t wait_id, void *ctx)
{
	q.wait = true;
	q.wait_id = wait_id;
	q.ctx = ctx;
	return q;
}

/* mds_locks_set() that expects no waiter to be woken. */
static int set(struct mds_locks *t, struct mds_lock_req q)
{
	struct mds_lock_wakeups w;
	int rc;

	mds_lock_wakeups_init(&w);
	rc = mds_locks_set(t, &q, 0, &w);
	assert_null(w.head);
	return rc;
}

/* mds_locks_set() of a request value at now_ms. */
static int setw(struct mds_locks *t, struct mds_lock_req q, int64_t now_ms,
		struct mds_lock_wakeups *w)
{
	return mds_locks_set(t, &q, now_ms, w);
}

/* Checks that the woken list holds exactly ctxs[i] with statuses[i]. */
static void expect_woken(struct mds_lock_wakeups *w, int n, void *const *ctxs, const int *statuses)
{
	struct mds_lock_woken *k = w->head;

	for (int i = 0; i < n; i++) {
		assert_non_null(k);
		assert_ptr_equal(k->ctx, ctxs[i]);
		assert_int_equal(k->status, statuses[i]);
		k = k->next;
	}
	assert_null(k);
	mds_locks_woken_free(w->head);
	mds_lock_wakeups_init(w);
}

struct want {
	uint64_t session, owner, start, end;
	uint8_t type;
};

/* The locks of a kind on an inode are exactly want[0..n), by start. */
static void expect_locks(struct mds_locks *t, uint64_t ino, uint8_t kind, int n,
			 const struct want *want)
{
	struct mds_lock_info got[32];
	size_t have = mds_locks_list(t, ino, kind, got, 32);

	if (have != (size_t)n) {
		for (size_t i = 0; i < have && i < 32; i++)
			fprintf(stderr, "  lock %zu: s%llu o%llu [%llu, %llu] type %u\n", i,
				(unsigned long long)got[i].session,
				(unsigned long long)got[i].owner, (unsigned long long)got[i].start,
				(unsigned long long)got[i].end, got[i].type);
		fail_msg("%zu locks, expected %d", have, n);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(got[i].session, want[i].session);
		assert_int_equal(got[i].owner, want[i].owner);
		assert_int_equal(got[i].start, want[i].start);
		assert_int_equal(got[i].end, want[i].end);
		assert_int_equal(got[i].type, want[i].type);
	}
}

static int setup(void **state)
{
	*state = mds_locks_new(&big);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct mds_locks_stats st;

	mds_locks_stats(*state, &st);
	assert_int_equal(st.waiters, 0); /* every test drains its waiters */
	mds_locks_free(*state);
	return 0;
}

/* ---- POSIX ranges ---- */

static void test_shared_exclusive(void **state)
{
	struct mds_locks *t = *state;

	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 0, 99)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_RD, 50, 149)), 0);
	assert_int_equal(set(t, px(3, 1, MDS_LOCK_WR, 99, 99)), -EAGAIN);
	assert_int_equal(set(t, px(3, 1, MDS_LOCK_WR, 150, EOFF)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 1000, 1000)), -EAGAIN);
	/* Same session, other owner: another process of that client. */
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_WR, 0, 0)), -EAGAIN);
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_RD, 0, 0)), 0);
	/* Releasing a range nobody holds is fine. */
	assert_int_equal(set(t, px(4, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(3, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 1000, 1000)), 0);
}

static void test_split_merge(void **state)
{
	struct mds_locks *t = *state;

	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 99)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 40, 59)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 2,
		     (struct want[]){{1, 1, 0, 39, MDS_LOCK_WR}, {1, 1, 60, 99, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 40, 59)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 39, 40)), -EAGAIN);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	/* Same type touching or overlapping: one lock. */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 40, 59)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 1, (struct want[]){{1, 1, 0, 99, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 100, 100)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 150, 160)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 101, 149)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 1, (struct want[]){{1, 1, 0, 160, MDS_LOCK_WR}});
	/* Downgrade inside: split in three, then merge back. */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 20, 29)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{1, 1, 0, 19, MDS_LOCK_WR},
				     {1, 1, 20, 29, MDS_LOCK_RD},
				     {1, 1, 30, 160, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_RD, 25, 25)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_RD, 19, 19)), -EAGAIN);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 20, 29)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 1, (struct want[]){{1, 1, 0, 160, MDS_LOCK_WR}});
	/* A request covering several locks of the other type replaces them. */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 10, 10)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 50, 50)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 5, 55)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{1, 1, 0, 4, MDS_LOCK_WR},
				     {1, 1, 5, 55, MDS_LOCK_RD},
				     {1, 1, 56, 160, MDS_LOCK_WR}});
	/* Trim both ends. */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 3, 60)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 2,
		     (struct want[]){{1, 1, 0, 2, MDS_LOCK_WR}, {1, 1, 61, 160, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 0, NULL);
}

static void test_eof_ranges(void **state)
{
	struct mds_locks *t = *state;
	struct mds_locks_stats st;

	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 100, EOFF)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_RD, EOFF, EOFF)), -EAGAIN);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_RD, 0, 99)), 0);
	/* Own locks: a downgrade of the tail, and whole-file upgrades. */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 1000, EOFF)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{2, 1, 0, 99, MDS_LOCK_RD},
				     {1, 1, 100, 999, MDS_LOCK_WR},
				     {1, 1, 1000, EOFF, MDS_LOCK_RD}});
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, EOFF)), -EAGAIN);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, EOFF)), 0);
	expect_locks(t, INO, MDS_LOCK_POSIX, 1, (struct want[]){{1, 1, 0, EOFF, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	mds_locks_stats(t, &st);
	assert_int_equal(st.locks, 0);
	assert_int_equal(st.inodes, 0); /* freed once empty */
}

static void test_getlk(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_req q;
	struct mds_lock_info in;

	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 200, 299)), 0);
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_WR, 50, 59)), 0);
	q = px(2, 1, MDS_LOCK_WR, 0, EOFF);
	assert_int_equal(mds_locks_get(t, &q, &in), 1);
	assert_int_equal(in.session, 1);
	assert_int_equal(in.owner, 2);
	assert_int_equal(in.start, 50);
	assert_int_equal(in.end, 59);
	assert_int_equal(in.type, MDS_LOCK_WR);
	assert_int_equal(in.pid, 102);
	q = px(2, 1, MDS_LOCK_RD, 60, EOFF); /* readers do not conflict */
	assert_int_equal(mds_locks_get(t, &q, &in), 0);
	q = px(2, 1, MDS_LOCK_WR, 60, EOFF);
	assert_int_equal(mds_locks_get(t, &q, &in), 1);
	assert_int_equal(in.start, 200);
	assert_int_equal(in.type, MDS_LOCK_RD);
	/* Never one's own locks. */
	q = px(1, 2, MDS_LOCK_WR, 0, 199);
	assert_int_equal(mds_locks_get(t, &q, &in), 0);
	q.ino = INO2;
	assert_int_equal(mds_locks_get(t, &q, &in), 0);
	q.type = MDS_LOCK_UN;
	assert_int_equal(mds_locks_get(t, &q, &in), -EINVAL);
	q = fl(2, 1, MDS_LOCK_WR);
	assert_int_equal(mds_locks_get(t, &q, &in), -EINVAL);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_UN, 0, EOFF)), 0);
}

/* ---- flock ---- */

static void test_flock(void **state)
{
	struct mds_locks *t = *state;

	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_WR)), 0);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_WR)), 0); /* again: no-op */
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_RD)), -EAGAIN);
	assert_int_equal(set(t, fl(1, 2, MDS_LOCK_RD)), -EAGAIN); /* another description */
	/* flock and POSIX locks do not see each other. */
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 0, EOFF)), 0);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_RD)), 0); /* downgrade */
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_RD)), 0);
	expect_locks(t, INO, MDS_LOCK_FLOCK, 2,
		     (struct want[]){{1, 1, 0, EOFF, MDS_LOCK_RD}, {2, 1, 0, EOFF, MDS_LOCK_RD}});
	/* A failed conversion has dropped the old lock, as on Linux. */
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_WR)), -EAGAIN);
	expect_locks(t, INO, MDS_LOCK_FLOCK, 1, (struct want[]){{1, 1, 0, EOFF, MDS_LOCK_RD}});
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_WR)), 0);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_UN)), 0);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_UN)), 0);
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_WR)), 0);
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_UN)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	expect_locks(t, INO, MDS_LOCK_FLOCK, 0, NULL);
}

static void test_flock_wait(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	struct mds_lock_req q;
	int a, b;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_RD)), 0);
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_RD)), 0);
	/* Both upgrade: the first waits, the second's drop lets it in. */
	q = waiting(fl(1, 1, MDS_LOCK_WR), 1, &a);
	assert_int_equal(mds_locks_set(t, &q, 0, &w), MDS_LOCKS_QUEUED);
	assert_null(w.head);
	q = waiting(fl(2, 1, MDS_LOCK_WR), 1, &b);
	assert_int_equal(mds_locks_set(t, &q, 0, &w), MDS_LOCKS_QUEUED);
	expect_woken(&w, 1, (void *[]){&a}, (int[]){0});
	expect_locks(t, INO, MDS_LOCK_FLOCK, 1, (struct want[]){{1, 1, 0, EOFF, MDS_LOCK_WR}});
	assert_int_equal(setw(t, fl(1, 1, MDS_LOCK_UN), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&b}, (int[]){0});
	expect_locks(t, INO, MDS_LOCK_FLOCK, 1, (struct want[]){{2, 1, 0, EOFF, MDS_LOCK_WR}});
	assert_int_equal(set(t, fl(2, 1, MDS_LOCK_UN)), 0);
}

/* ---- waiters ---- */

static void test_waiters_in_order(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	int b, c, d, f;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 9)), 0);
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 9), 1, &b)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(3, 1, MDS_LOCK_WR, 5, 5), 1, &c)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_RD, 3, 3), 1, &d)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(6, 1, MDS_LOCK_WR, 0, 9), 1, &f)), MDS_LOCKS_QUEUED);
	/* A request that conflicts with no held lock does not queue. */
	assert_int_equal(set(t, waiting(px(5, 1, MDS_LOCK_WR, 10, 10), 1, NULL)), 0);
	/* The first queued of the conflicting waiters wins ... */
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_UN, 0, EOFF), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&b}, (int[]){0});
	/* ... then those that do not conflict with each other, in order. */
	assert_int_equal(setw(t, px(2, 1, MDS_LOCK_UN, 0, EOFF), 0, &w), 0);
	expect_woken(&w, 2, (void *[]){&c, &d}, (int[]){0, 0});
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{4, 1, 3, 3, MDS_LOCK_RD},
				     {3, 1, 5, 5, MDS_LOCK_WR},
				     {5, 1, 10, 10, MDS_LOCK_WR}});
	assert_int_equal(setw(t, px(3, 1, MDS_LOCK_UN, 0, EOFF), 0, &w), 0);
	assert_null(w.head);
	assert_int_equal(setw(t, px(4, 1, MDS_LOCK_UN, 0, EOFF), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&f}, (int[]){0});
	assert_int_equal(set(t, px(5, 1, MDS_LOCK_UN, 0, EOFF)), 0);
	assert_int_equal(set(t, px(6, 1, MDS_LOCK_UN, 0, EOFF)), 0);
}

static void test_waiters_no_head_of_line(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	int b, c, r1, r2;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 9)), 0);
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 1, &b)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(3, 1, MDS_LOCK_WR, 5, 5), 1, &c)), MDS_LOCKS_QUEUED);
	/* Half released: c can go, b still cannot, and c is not behind b. */
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_UN, 5, 9), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&c}, (int[]){0});
	/* A downgrade wakes the readers waiting on the range, not b. */
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_RD, 1, 1), 1, &r1)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(4, 2, MDS_LOCK_RD, 2, 2), 2, &r2)), MDS_LOCKS_QUEUED);
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_RD, 0, 4), 0, &w), 0);
	expect_woken(&w, 2, (void *[]){&r1, &r2}, (int[]){0, 0});
	/* b's byte is free of the readers: it goes when the owner leaves. */
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_UN, 0, EOFF), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&b}, (int[]){0});
	expect_locks(t, INO, MDS_LOCK_POSIX, 4,
		     (struct want[]){{2, 1, 0, 0, MDS_LOCK_WR},
				     {4, 1, 1, 1, MDS_LOCK_RD},
				     {4, 2, 2, 2, MDS_LOCK_RD},
				     {3, 1, 5, 5, MDS_LOCK_WR}});
	for (uint64_t s = 2; s <= 4; s++)
		mds_locks_session_end(t, s, &w);
	assert_null(w.head);
	expect_locks(t, INO, MDS_LOCK_POSIX, 0, NULL);
}

static void test_cancel_and_requeue(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	struct mds_lock_req q;
	uint32_t nl, nw;
	int x, y, z;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, EOFF)), 0);
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 7, &x)), MDS_LOCKS_QUEUED);
	assert_true(mds_locks_session_info(t, 2, &nl, &nw));
	assert_int_equal(nl, 0);
	assert_int_equal(nw, 1);
	assert_int_equal(mds_locks_cancel(t, 2, 7, &w), 0);
	expect_woken(&w, 1, (void *[]){&x}, (int[]){-EINTR});
	assert_int_equal(mds_locks_cancel(t, 2, 7, &w), -ENOENT);
	assert_int_equal(mds_locks_cancel(t, 9, 7, &w), -ENOENT);
	/* The same wait id again takes over the queued request. */
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 8, &x)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(3, 1, MDS_LOCK_WR, 0, 0), 1, &z)), MDS_LOCKS_QUEUED);
	q = waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 8, &y);
	assert_int_equal(mds_locks_set(t, &q, 0, &w), MDS_LOCKS_QUEUED);
	expect_woken(&w, 1, (void *[]){&x}, (int[]){-EALREADY});
	assert_true(mds_locks_session_info(t, 2, &nl, &nw));
	assert_int_equal(nw, 1);
	/* ... but not for another inode. */
	q.ino = INO2;
	assert_int_equal(mds_locks_set(t, &q, 0, &w), -EINVAL);
	/* It kept its place: granted before z. */
	q = px(1, 1, MDS_LOCK_UN, 0, EOFF);
	assert_int_equal(mds_locks_set(t, &q, 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&y}, (int[]){0});
	assert_int_equal(mds_locks_cancel(t, 2, 8, &w), -ENOENT); /* granted */
	assert_int_equal(mds_locks_cancel(t, 3, 1, &w), 0);
	expect_woken(&w, 1, (void *[]){&z}, (int[]){-EINTR});
	/* A retried request whose wait was granted is granted again at once. */
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 8, &y)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_UN, 0, EOFF)), 0);
}

static void test_release_owner(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	int own, other;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 9)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_RD, 20, 29)), 0);
	assert_int_equal(set(t, fl(1, 1, MDS_LOCK_WR)), 0);
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_WR, 40, 49)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 100, 100)), 0);
	assert_int_equal(set(t, waiting(px(1, 1, MDS_LOCK_WR, 100, 100), 1, &own)),
			 MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(3, 1, MDS_LOCK_WR, 5, 25), 1, &other)),
			 MDS_LOCKS_QUEUED);
	assert_int_equal(mds_locks_release_owner(t, INO2, 1, 1, &w), 0);
	assert_int_equal(mds_locks_release_owner(t, INO, 1, 1, &w), 3);
	expect_woken(&w, 2, (void *[]){&own, &other}, (int[]){-EBADF, 0});
	expect_locks(t, INO, MDS_LOCK_FLOCK, 0, NULL);
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{3, 1, 5, 25, MDS_LOCK_WR},
				     {1, 2, 40, 49, MDS_LOCK_WR},
				     {2, 1, 100, 100, MDS_LOCK_WR}});
	assert_int_equal(mds_locks_session_end(t, 1, &w), 1);
	assert_int_equal(mds_locks_session_end(t, 2, &w), 1);
	assert_int_equal(mds_locks_session_end(t, 3, &w), 1);
	assert_null(w.head);
}

static struct mds_lock_req on(uint64_t ino, struct mds_lock_req q)
{
	q.ino = ino;
	return q;
}

static void test_session_end_and_expiry(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	struct mds_locks_stats st;
	size_t released;
	uint32_t nl, nw;
	int mine, theirs, late;

	mds_lock_wakeups_init(&w);
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_WR, 0, EOFF), 1000, &w), 0);
	assert_int_equal(setw(t, on(INO2, px(1, 1, MDS_LOCK_WR, 0, EOFF)), 1000, &w), 0);
	assert_int_equal(setw(t, on(INO3, px(2, 1, MDS_LOCK_WR, 0, 0)), 3000, &w), 0);
	assert_int_equal(
	    setw(t, on(INO3, waiting(px(1, 1, MDS_LOCK_WR, 0, 0), 1, &mine)), 1000, &w),
	    MDS_LOCKS_QUEUED);
	/* (Owner 1 of session 2 waiting here would be a deadlock.) */
	assert_int_equal(setw(t, waiting(px(2, 2, MDS_LOCK_WR, 5, 5), 1, &theirs), 3000, &w),
			 MDS_LOCKS_QUEUED);
	assert_null(w.head);
	assert_int_equal(mds_locks_touch(t, 2, 3500), 0);
	assert_int_equal(mds_locks_touch(t, 9, 3500), 1);
	/* Session 1 was last seen at 1000: gone after 6000 with a 5 s lease. */
	assert_int_equal(mds_locks_expire(t, 6000, 5000, &released, &w), 0);
	assert_int_equal(mds_locks_expire(t, 6001, 5000, &released, &w), 1);
	assert_int_equal(released, 2);
	expect_woken(&w, 2, (void *[]){&mine, &theirs}, (int[]){-ENOLCK, 0});
	assert_false(mds_locks_session_info(t, 1, &nl, &nw));
	assert_true(mds_locks_session_info(t, 2, &nl, &nw));
	assert_int_equal(nl, 2);
	assert_int_equal(nw, 0);
	/* A new request of an expired session starts it again. */
	assert_int_equal(setw(t, waiting(px(1, 1, MDS_LOCK_RD, 5, 5), 2, &late), 6100, &w),
			 MDS_LOCKS_QUEUED);
	assert_int_equal(mds_locks_session_end(t, 2, &w), 2);
	expect_woken(&w, 1, (void *[]){&late}, (int[]){0});
	assert_int_equal(mds_locks_session_end(t, 2, &w), 0);
	assert_int_equal(mds_locks_expire(t, 20000, 5000, &released, &w), 2); /* 1 and 9 */
	assert_int_equal(released, 1);
	assert_null(w.head);
	mds_locks_stats(t, &st);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(st.inodes, 0);
	assert_int_equal(st.locks, 0);
}

/* Frees a woken list of n waiters, all with status. */
static void expect_woken_all(struct mds_lock_wakeups *w, int n, int status)
{
	int k = 0;

	for (struct mds_lock_woken *p = w->head; p; p = p->next, k++)
		assert_int_equal(p->status, status);
	assert_int_equal(k, n);
	mds_locks_woken_free(w->head);
	mds_lock_wakeups_init(w);
}

static void test_deadlock(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_wakeups w;
	int a, b, c;

	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 9)), 0);
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 10, 19)), 0);
	assert_int_equal(set(t, waiting(px(1, 1, MDS_LOCK_WR, 10, 19), 1, &a)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(2, 1, MDS_LOCK_WR, 0, 9), 1, NULL)), -EDEADLK);
	/* Another owner of the same session is not part of the cycle. */
	assert_int_equal(set(t, waiting(px(2, 2, MDS_LOCK_WR, 0, 9), 2, &b)), MDS_LOCKS_QUEUED);
	/* Over three inodes: 1 waits for 2 (above), 3 for 4. */
	assert_int_equal(set(t, on(INO2, px(3, 1, MDS_LOCK_WR, 0, 0))), 0);
	assert_int_equal(set(t, on(INO3, px(4, 1, MDS_LOCK_WR, 0, 0))), 0);
	assert_int_equal(set(t, on(INO3, waiting(px(3, 1, MDS_LOCK_WR, 0, 0), 1, &c))),
			 MDS_LOCKS_QUEUED);
	/* 4 waiting for 1 closes no cycle while 2 waits for nobody. */
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_WR, 0, 0), 1, NULL)), MDS_LOCKS_QUEUED);
	assert_int_equal(mds_locks_cancel(t, 4, 1, &w), 0);
	expect_woken_all(&w, 1, -EINTR);
	/* 2 waits for 3: now 4 -> 1 -> 2 -> 3 -> 4. */
	assert_int_equal(set(t, on(INO2, waiting(px(2, 1, MDS_LOCK_WR, 0, 0), 3, NULL))),
			 MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_WR, 0, 0), 1, NULL)), -EDEADLK);
	/* flock requests are not checked, as on Linux. */
	assert_int_equal(set(t, fl(5, 1, MDS_LOCK_WR)), 0);
	assert_int_equal(set(t, on(INO2, fl(6, 1, MDS_LOCK_WR))), 0);
	assert_int_equal(set(t, on(INO2, waiting(fl(5, 1, MDS_LOCK_WR), 1, NULL))),
			 MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(fl(6, 1, MDS_LOCK_WR), 1, NULL)), MDS_LOCKS_QUEUED);
	mds_locks_drain(t, -ESHUTDOWN, &w);
	expect_woken_all(&w, 6, -ESHUTDOWN);
	for (uint64_t s = 1; s <= 6; s++)
		mds_locks_session_end(t, s, &w);
	assert_null(w.head);
	(void)a;
	(void)b;
	(void)c;
}

static void test_limits(void **state)
{
	struct mds_locks_limits lim = {.locks = 5, .session_locks = 3, .session_waiters = 1};
	struct mds_locks *t = mds_locks_new(&lim);
	struct mds_lock_wakeups w;
	struct mds_locks_stats st;
	int a;

	(void)state;
	assert_non_null(t);
	mds_lock_wakeups_init(&w);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 0, 9)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 20, 29)), 0);
	assert_int_equal(set(t, px(1, 2, MDS_LOCK_WR, 40, 49)), 0);
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 60, 69)), -ENOLCK); /* the session's 3 */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 2, 3)), -ENOLCK);	  /* a split */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_UN, 5, 9)), 0);	  /* a trim */
	assert_int_equal(set(t, px(1, 1, MDS_LOCK_WR, 10, 19)), 0);	  /* merges with 20..29 */
	expect_locks(t, INO, MDS_LOCK_POSIX, 3,
		     (struct want[]){{1, 1, 0, 4, MDS_LOCK_WR},
				     {1, 1, 10, 29, MDS_LOCK_WR},
				     {1, 2, 40, 49, MDS_LOCK_WR}});
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 100, 100)), 0);
	assert_int_equal(set(t, px(3, 1, MDS_LOCK_WR, 200, 200)), 0);
	assert_int_equal(set(t, px(4, 1, MDS_LOCK_WR, 300, 300)), -ENOLCK); /* the table's 5 */
	assert_int_equal(set(t, px(2, 1, MDS_LOCK_WR, 101, 101)), 0);	    /* a merge */
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_WR, 0, 0), 1, &a)), MDS_LOCKS_QUEUED);
	assert_int_equal(set(t, waiting(px(4, 1, MDS_LOCK_WR, 1, 1), 2, NULL)), -ENOLCK);
	/* Granting a waiter past a limit wakes it with -ENOLCK. */
	assert_int_equal(setw(t, px(1, 1, MDS_LOCK_UN, 0, 0), 0, &w), 0);
	expect_woken(&w, 1, (void *[]){&a}, (int[]){-ENOLCK});
	mds_locks_stats(t, &st);
	assert_int_equal(st.locks, 5);
	assert_int_equal(st.waiters, 0);
	mds_locks_free(t);
}

static void test_invalid(void **state)
{
	struct mds_locks *t = *state;
	struct mds_lock_req q;

	q = px(0, 1, MDS_LOCK_WR, 0, 0);
	assert_int_equal(set(t, q), -EINVAL);
	q = px(1, 1, MDS_LOCK_WR, 5, 4);
	assert_int_equal(set(t, q), -EINVAL);
	q = px(1, 1, MDS_LOCK_WR, 5, EOFF + 1);
	assert_int_equal(set(t, q), -EINVAL);
	q = px(1, 1, 0, 0, 0);
	assert_int_equal(set(t, q), -EINVAL);
	q = px(1, 1, 4, 0, 0);
	assert_int_equal(set(t, q), -EINVAL);
	q = px(1, 1, MDS_LOCK_WR, 0, 0);
	q.kind = 2;
	assert_int_equal(set(t, q), -EINVAL);
	q = waiting(px(1, 1, MDS_LOCK_WR, 0, 0), 0, NULL);
	assert_int_equal(set(t, q), -EINVAL);
	q = waiting(px(1, 1, MDS_LOCK_UN, 0, 0), 1, NULL);
	assert_int_equal(set(t, q), -EINVAL);
	q = fl(1, 1, MDS_LOCK_WR);
	q.end = 10;
	assert_int_equal(set(t, q), -EINVAL);
	expect_locks(t, INO, MDS_LOCK_POSIX, 0, NULL);
}

/* ---- random operations against a byte model ---- */

#define MODEL_BYTES 65 /* 0..63, and 64 standing for [64, EOF] */
#define MODEL_OWNERS 4

static uint8_t model[MODEL_OWNERS][MODEL_BYTES];

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

static bool model_conflict(int o, uint8_t type, int s, int e)
{
	for (int k = 0; k < MODEL_OWNERS; k++) {
		if (k == o)
			continue;
		for (int i = s; i <= e; i++)
			if (model[k][i] == MDS_LOCK_WR || (model[k][i] && type == MDS_LOCK_WR))
				return true;
	}
	return false;
}

static void model_check(struct mds_locks *t)
{
	struct mds_lock_info got[4 * MODEL_BYTES];
	uint8_t seen[MODEL_OWNERS][MODEL_BYTES];
	size_t n = mds_locks_list(t, INO, MDS_LOCK_POSIX, got, 4 * MODEL_BYTES);

	assert_true(n <= 4 * MODEL_BYTES);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		int o = (int)got[i].owner;
		uint64_t end = got[i].end == EOFF ? 64 : got[i].end;

		assert_true(end < 64 || got[i].end == EOFF);
		for (uint64_t b = got[i].start; b <= end; b++) {
			assert_int_equal(seen[o][b], 0); /* an owner's locks never overlap */
			seen[o][b] = got[i].type;
		}
		/* Canonical: same-owner same-type locks never touch. */
		for (size_t j = 0; j < i; j++)
			if (got[j].owner == got[i].owner && got[j].type == got[i].type)
				assert_true(got[j].end + 1 < got[i].start);
	}
	assert_memory_equal(seen, model, sizeof(model));
}

static void test_random_model(void **state)
{
	struct mds_locks *t = *state;
	unsigned s = seed;

	memset(model, 0, sizeof(model));
	for (int step = 0; step < 20000; step++) {
		int o = (int)(rnd(&s) % MODEL_OWNERS);
		int a = (int)(rnd(&s) % 64), b = (int)(rnd(&s) % 64);
		uint8_t type = (uint8_t)(1 + rnd(&s) % 3);
		bool to_eof = rnd(&s) % 8 == 0;
		int lo = a < b ? a : b, hi = to_eof ? 64 : (a < b ? b : a);
		struct mds_lock_req q =
		    px(1, (uint64_t)o, type, (uint64_t)lo, to_eof ? EOFF : (uint64_t)hi);
		bool conflict = type != MDS_LOCK_UN && model_conflict(o, type, lo, hi);
		int rc = set(t, q);

		if (rc != (conflict ? -EAGAIN : 0))
			fail_msg("seed %u step %d: owner %d type %u [%d, %d]: %d", seed, step, o,
				 type, lo, hi, rc);
		if (!conflict)
			for (int i = lo; i <= hi; i++)
				model[o][i] = type == MDS_LOCK_UN ? 0 : type;
		model_check(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_shared_exclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_getlk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flock_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waiters_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waiters_no_head_of_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_and_requeue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_end_and_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deadlock, setup, teardown),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
	};
	const char *env = getenv("CAIRN_TEST_SEED");

	seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
	printf("seed %u (CAIRN_TEST_SEED to replay)\n", seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
