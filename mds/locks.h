/*
 * locks.h - the file lock table of a metadata shard: POSIX byte-range
 * locks and flock locks on the inodes the shard is home to, the requests
 * blocked on them (waiters), and the client sessions that own both.
 *
 * A pure data structure: no I/O, no clock (callers pass the time), no
 * thread of its own and no lock of its own (the caller serialises every
 * call; mds/server_lock.c holds one mutex around it).  Nothing is
 * persisted: the table lives and dies with the process.
 *
 * Owners: a lock belongs to (session, owner).  The session is a client
 * handle's random 64-bit id; owner is what the client says holds the lock
 * (a process for POSIX locks, an open file description for flock).  Locks
 * of one owner never conflict with each other.  POSIX locks and flock
 * locks are separate kinds that never conflict with each other either, as
 * on Linux.
 *
 * POSIX semantics (fcntl(2)): a request sets the state of its range for
 * its owner: the owner's locks of the other type there are cut away (split
 * in two where the request falls inside one), those of the same type that
 * overlap or touch it merge with it into one lock, and F_UNLCK only cuts.
 * A range is [start, end] with end inclusive; end == MDS_LOCK_EOF means to
 * the end of the file however it grows.
 *
 * flock semantics (flock(2)): one whole-file lock per owner; converting it
 * to the other type first drops the old lock (as Linux does), so a failed
 * or blocked conversion has released it.
 *
 * Waiters: a request that conflicts and may wait is queued on its inode,
 * in arrival order, with the caller's ctx.  Whenever locks of an inode are
 * released, cut, or converted, its waiters are looked at in order and
 * each that no longer conflicts is granted (so among waiters that conflict
 * with each other the first queued wins; one that conflicts with nobody
 * does not wait behind others).  A waiter leaves the table through a
 * struct mds_lock_woken handed to the caller with its ctx and a status:
 *   0           granted: the lock is held
 *   -EINTR      cancelled (mds_locks_cancel)
 *   -EBADF      its owner's locks were released (close) meanwhile
 *   -ENOLCK     its session ended or expired, or granting it would exceed
 *               a limit
 *   -EALREADY   a request with the same wait id took its place
 *   any status given to mds_locks_drain()
 * The caller answers each and frees the list with mds_locks_woken_free().
 *
 * Deadlocks: a POSIX request that would wait on an owner that is itself
 * waiting, along a chain of at most MDS_LOCKS_DEADLOCK_DEPTH owners that
 * leads back to the requester, fails with -EDEADLK (the check Linux makes).
 * Only locks of this table are seen: a cycle through inodes of several
 * shards is not detected.  flock requests are never checked, as on Linux.
 *
 * Sessions: created by the first request that names them (or by
 * mds_locks_touch), kept alive by mds_locks_touch, and ended by
 * mds_locks_session_end or, when not touched for a lease, by
 * mds_locks_expire; ending one releases its locks and wakes its waiters
 * with -ENOLCK.
 */
#ifndef CAIRN_MDS_LOCKS_H
#define CAIRN_MDS_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The last byte a range can cover: off_t's maximum, "to the end of file". */
#define MDS_LOCK_EOF ((uint64_t)INT64_MAX)

/* mds_locks_set(): the request waits; its ctx comes back woken later. */
#define MDS_LOCKS_QUEUED 1

#define MDS_LOCKS_DEADLOCK_DEPTH 10

enum mds_lock_kind {
	MDS_LOCK_POSIX = 0, /* fcntl byte-range locks */
	MDS_LOCK_FLOCK = 1, /* flock whole-file locks */
};

enum mds_lock_type {
	MDS_LOCK_RD = 1, /* shared */
	MDS_LOCK_WR = 2, /* exclusive */
	MDS_LOCK_UN = 3, /* release */
};

struct mds_locks;

/* Limits past which a request fails with -ENOLCK. */
struct mds_locks_limits {
	uint32_t locks;		  /* locks held in the table */
	uint32_t session_locks;	  /* locks held by one session */
	uint32_t session_waiters; /* requests of one session waiting */
};

/* What mds/server_lock.c uses. */
#define MDS_LOCKS_LIMITS_DEFAULT                                                                   \
	(struct mds_locks_limits)                                                                  \
	{                                                                                          \
		.locks = 1u << 18, .session_locks = 1u << 16, .session_waiters = 256               \
	}

/* A lock request. */
struct mds_lock_req {
	uint64_t ino;
	uint64_t session; /* != 0 */
	uint64_t owner;
	uint64_t start;
	uint64_t end;	  /* inclusive; start <= end <= MDS_LOCK_EOF; flock: 0, EOF */
	uint32_t pid;	  /* reported to mds_locks_get() of others */
	uint8_t kind;	  /* enum mds_lock_kind */
	uint8_t type;	  /* enum mds_lock_type */
	bool wait;	  /* queue instead of failing with -EAGAIN */
	uint64_t wait_id; /* wait: != 0, names the request in its session */
	void *ctx;	  /* wait: the caller's, handed back when it leaves */
};

/* A held lock, as mds_locks_get() and mds_locks_list() report it. */
struct mds_lock_info {
	uint64_t session;
	uint64_t owner;
	uint64_t start;
	uint64_t end;
	uint32_t pid;
	uint8_t kind;
	uint8_t type;
};

/* A waiter that left the table; see the top of this file. */
struct mds_lock_woken {
	struct mds_lock_woken *next;
	void *ctx;
	int status;
};

/* Where the calls append the waiters they wake, in the order they left. */
struct mds_lock_wakeups {
	struct mds_lock_woken *head;
	struct mds_lock_woken **tail;
};

static inline void mds_lock_wakeups_init(struct mds_lock_wakeups *w)
{
	w->head = NULL;
	w->tail = &w->head;
}

/* Frees a list of woken waiters (their ctx are the caller's). */
void mds_locks_woken_free(struct mds_lock_woken *list);

struct mds_locks_stats {
	size_t sessions;
	size_t inodes; /* with locks or waiters */
	size_t locks;
	size_t waiters;
};

/* A new empty table with limits lim (copied).  NULL: no memory. */
struct mds_locks *mds_locks_new(const struct mds_locks_limits *lim);

/*
 * Frees the table and everything in it.  Waiters must have been drained
 * first (mds_locks_drain): any left are dropped without their ctx being
 * handed back.  NULL is allowed.
 */
void mds_locks_free(struct mds_locks *t);

/*
 * F_GETLK: the first lock (lowest start) of another owner that conflicts
 * with q (kind POSIX, type RD or WR; wait and ctx ignored).  Returns 1 and
 * *out, 0 if none, or -EINVAL (a malformed request).
 */
int mds_locks_get(struct mds_locks *t, const struct mds_lock_req *q, struct mds_lock_info *out);

/*
 * Sets, converts or releases a lock as q says, touching q's session at
 * now_ms (creating it if new).  Waiters woken by the change are appended
 * to w.  Returns
 *   0                 done (granted, or released)
 *   MDS_LOCKS_QUEUED  q waits (q->wait): q->ctx is handed back through w
 *                     of a later call.  A waiter of the same session and
 *                     wait id is replaced in place instead (its ctx woken
 *                     with -EALREADY), and q may then be granted at once,
 *                     its ctx in w of this very call
 *   -EAGAIN           a conflicting lock is held (not q->wait)
 *   -EDEADLK          waiting would deadlock
 *   -ENOLCK           a limit of the table
 *   -EINVAL           a malformed request, or a wait id reused for another
 *                     inode or kind
 *   -ENOMEM
 * Nothing changes on an error, except a flock conversion, which has
 * dropped the owner's old lock (as on Linux).
 */
int mds_locks_set(struct mds_locks *t, const struct mds_lock_req *q, int64_t now_ms,
		  struct mds_lock_wakeups *w);

/*
 * Takes the waiter wait_id of session out of its queue (woken with
 * -EINTR, appended to w).  Returns 0, or -ENOENT if no such waiter.
 */
int mds_locks_cancel(struct mds_locks *t, uint64_t session, uint64_t wait_id,
		     struct mds_lock_wakeups *w);

/*
 * Releases every lock (both kinds) of (session, owner) on ino and wakes its
 * waiters there with -EBADF; others that can go on are granted.  Returns
 * the number of locks released.
 */
size_t mds_locks_release_owner(struct mds_locks *t, uint64_t ino, uint64_t session, uint64_t owner,
			       struct mds_lock_wakeups *w);

/*
 * Notes that session is alive at now_ms.  Returns 0 for a known session, 1
 * for one created now, or -ENOMEM.
 */
int mds_locks_touch(struct mds_locks *t, uint64_t session, int64_t now_ms);

/* What session holds: returns false (and zeros) for an unknown session. */
bool mds_locks_session_info(const struct mds_locks *t, uint64_t session, uint32_t *locks,
			    uint32_t *waiters);

/*
 * Ends session: its waiters are woken with -ENOLCK, its locks released
 * (granting what can go on), and the session forgotten.  Returns the
 * number of locks released (0 also for an unknown session).
 */
size_t mds_locks_session_end(struct mds_locks *t, uint64_t session, struct mds_lock_wakeups *w);

/*
 * Ends every session not touched since now_ms - lease_ms (as
 * mds_locks_session_end).  Returns the number of sessions ended; *locks
 * (may be NULL) gets the number of locks they released.
 */
size_t mds_locks_expire(struct mds_locks *t, int64_t now_ms, int64_t lease_ms, size_t *locks,
			struct mds_lock_wakeups *w);

/* Wakes every waiter of the table with status (shutdown). */
void mds_locks_drain(struct mds_locks *t, int status, struct mds_lock_wakeups *w);

void mds_locks_stats(const struct mds_locks *t, struct mds_locks_stats *out);

/*
 * The locks of one kind held on ino, sorted by start (then session and
 * owner): fills out[0..min(n, cap)) and returns n.
 */
size_t mds_locks_list(const struct mds_locks *t, uint64_t ino, uint8_t kind,
		      struct mds_lock_info *out, size_t cap);

#endif
