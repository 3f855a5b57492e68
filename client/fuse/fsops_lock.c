/*
 * fsops_lock.c - cairn-fuse: fcntl(2) byte-range locks and flock(2), held
 * by the MDS (cairn_getlk(), cairn_setlk(), cairn_flock()), so two mounts
 * of one cluster exclude each other.  The kernel names the owner: for
 * POSIX locks the process's lock owner, for flock the open file
 * description; flush drops the POSIX locks of the process that closes and
 * release the flock of the description (fsops_file.c calls
 * cfs_lock_release()).
 *
 * A blocking request (F_SETLKW, flock without LOCK_NB) waits on its FUSE
 * worker thread; a FUSE interrupt (the process got a signal) cancels it
 * and the kernel sees EINTR.
 *
 * Threads: libfuse's workers; the interrupt callback runs on another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>

#include "client/fuse/fsops.h"
#include "common/log.h"

static void on_interrupt(fuse_req_t req, void *data)
{
	(void)req;
	cairn_lock_wait_cancel(data);
}

/* struct flock -> struct cairn_lock; false for a range cairn cannot hold. */
static bool lock_from(const struct flock *fl, struct cairn_lock *lk)
{
	if (fl->l_start < 0 || fl->l_len < 0)
		return false; /* the kernel hands ranges already made absolute */
	*lk = (struct cairn_lock){.start = (uint64_t)fl->l_start,
				  .len = (uint64_t)fl->l_len,
				  .type = (uint32_t)fl->l_type,
				  .pid = (uint32_t)fl->l_pid};
	return true;
}

void cfs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *fl)
{
	struct cfs *fs = cfs_of(req);
	struct cairn_lock lk;
	struct cfs_cred cc;
	int rc;

	if (!lock_from(fl, &lk)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	rc = cairn_getlk(fs->c, cfs_cred(req, false, &cc), ino, fi->lock_owner, &lk);
	if (rc) {
		cfs_reply_err(req, rc, "getlk");
		return;
	}
	fl->l_type = (short)lk.type;
	if (lk.type != F_UNLCK) {
		fl->l_whence = SEEK_SET;
		fl->l_start = (off_t)lk.start;
		fl->l_len = (off_t)lk.len;
		fl->l_pid = (pid_t)lk.pid;
	}
	fuse_reply_lock(req, fl);
}

/* Runs a lock call that may block, cancelled by a FUSE interrupt. */
static int with_interrupt(fuse_req_t req, bool blocking,
			  int (*call)(fuse_req_t, struct cairn_lock_wait *, void *), void *arg)
{
	struct cairn_lock_wait *w = NULL;
	int rc;

	if (!blocking)
		return call(req, NULL, arg);
	rc = cairn_lock_wait_new(&w);
	if (rc)
		return rc;
	fuse_req_interrupt_func(req, on_interrupt, w);
	rc = call(req, w, arg);
	fuse_req_interrupt_func(req, NULL, NULL);
	cairn_lock_wait_free(w);
	return rc;
}

struct setlk_args {
	fuse_ino_t ino;
	uint64_t owner;
	struct cairn_lock lk;
	bool wait;
};

static int do_setlk(fuse_req_t req, struct cairn_lock_wait *w, void *arg)
{
	struct setlk_args *a = arg;
	struct cfs_cred cc;

	return cairn_setlk(cfs_of(req)->c, cfs_cred(req, false, &cc), a->ino, a->owner, &a->lk,
			   a->wait, w);
}

void cfs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *fl,
	       int sleep)
{
	struct setlk_args a = {.ino = ino, .owner = fi->lock_owner, .wait = sleep != 0};
	int rc;

	if (!lock_from(fl, &a.lk)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	a.lk.pid = (uint32_t)fuse_req_ctx(req)->pid;
	rc = with_interrupt(req, a.wait && a.lk.type != F_UNLCK, do_setlk, &a);
	fuse_reply_err(req, rc ? cfs_errno(rc, "setlk") : 0);
}

struct flock_args {
	fuse_ino_t ino;
	uint64_t owner;
	int op;
};

static int do_flock(fuse_req_t req, struct cairn_lock_wait *w, void *arg)
{
	struct flock_args *a = arg;
	struct cfs_cred cc;

	return cairn_flock(cfs_of(req)->c, cfs_cred(req, false, &cc), a->ino, a->owner, a->op, w);
}

void cfs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct flock_args a = {.ino = ino, .owner = fi->lock_owner, .op = op};
	int rc;

	rc = with_interrupt(req, !(op & LOCK_NB) && (op & ~LOCK_NB) != LOCK_UN, do_flock, &a);
	fuse_reply_err(req, rc ? cfs_errno(rc, "flock") : 0);
}

void cfs_lock_release(const struct cfs *fs, fuse_ino_t ino, uint64_t owner)
{
	int rc = cairn_lock_release_owner(fs->c, ino, owner);

	if (rc)
		log_warn("fuse: releasing the locks of owner %#llx on %#llx: %s",
			 (unsigned long long)owner, (unsigned long long)ino, cairn_strerror(rc));
}
