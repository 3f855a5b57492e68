/*
 * server_lock.c - the file lock service of a metadata shard
 * (server_lock.h): decodes the lock opcodes, checks that the inode is
 * this shard's and exists, runs the request on the lock table
 * (mds/locks.h) under one mutex, and answers it, or keeps it queued and
 * answers it when a later request, a cancel, or the end of a session
 * wakes it.  An expirer thread ends the sessions not heard from for a
 * lease.
 *
 * Why a lease and not the connection: the RPC server does not tell its
 * handlers when a connection closes, and a client's connection may break
 * and come back (the RPC client reconnects by itself) without the client
 * having lost anything.  So the session is the client handle's random id,
 * alive while it speaks (libcairn renews every few hundred milliseconds
 * while it has used locks on the shard), and a crashed or killed client's
 * locks go once the lease runs out: MDS_LOCK_LEASE_MS, a few seconds, long
 * enough to ride out a reconnection or a short stall, short enough that
 * others do not wait long for a dead holder.  NFSv4 and CephFS expire
 * their clients' state the same way.  The lease also covers a client cut
 * off by the network; such a client learns from its next renewal that its
 * session was new to the shard (and logs that its locks there are gone).
 *
 * Nothing is persisted: a shard that restarts starts with an empty table,
 * and the locks clients held on its inodes are gone (see cairn-mds(8)).
 *
 * Threads and ownership: handlers run on the RPC I/O threads; svc->lock
 * guards the table and the flags.  A queued rpc_req is owned by the table
 * until it comes back in a wake-up list, and is answered by the thread
 * that got the list, after svc->lock is released.
 */
#include "mds/server_lock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/locks.h"
#include "mds/mds.h"
#include "mds/ns.h"
#include "proto/mds.h"

_Static_assert((int)MDS_LOCK_RD == (int)PROTO_MDS_LOCK_RD &&
		   (int)MDS_LOCK_WR == (int)PROTO_MDS_LOCK_WR &&
		   (int)MDS_LOCK_UN == (int)PROTO_MDS_LOCK_UN,
	       "the table's lock types are the wire's");
_Static_assert(MDS_LOCK_EOF == PROTO_MDS_LOCK_OFFSET_MAX, "ranges end at the wire's maximum");

struct mds_locksvc {
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* the expirer's sleep */
	struct mds_locks *tbl; /* lock */
	bool quiesced;	       /* lock: waits are refused */
	bool stop;	       /* lock: the expirer leaves */
	pthread_t expirer;
};

static int64_t lk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Answers every waiter of the list and frees it. */
static void lk_answer(struct mds_lock_wakeups *w)
{
	for (struct mds_lock_woken *k = w->head; k; k = k->next) {
		int rc = rpc_reply(k->ctx, k->status, NULL, 0, NULL, 0, NULL, NULL);

		if (rc && rc != -ECONNRESET)
			log_warn("locks: answer to a waiting request failed: %s", error_str(rc));
	}
	mds_locks_woken_free(w->head);
	mds_lock_wakeups_init(w);
}

/* ---- the expirer ---- */

static void *lk_expirer_main(void *arg)
{
	struct mds_locksvc *svc = arg;
	struct mds_lock_wakeups w;

	pthread_setname_np(pthread_self(), "cairn-mds-lock");
	mds_lock_wakeups_init(&w);
	pthread_mutex_lock(&svc->lock);
	while (!svc->stop) {
		struct timespec ts;
		size_t ended, released = 0;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += MDS_LOCK_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&svc->cond, &svc->lock, &ts);
		if (svc->stop)
			break;
		ended = mds_locks_expire(svc->tbl, lk_now_ms(), MDS_LOCK_LEASE_MS, &released, &w);
		if (!w.head && !ended)
			continue;
		pthread_mutex_unlock(&svc->lock);
		if (ended)
			log_info("locks: %zu client session(s) silent for %d ms ended, %zu lock(s) "
				 "released",
				 ended, MDS_LOCK_LEASE_MS, released);
		lk_answer(&w);
		pthread_mutex_lock(&svc->lock);
	}
	pthread_mutex_unlock(&svc->lock);
	return NULL;
}

int mds_lock_start(struct mds *m)
{
	struct mds_locks_limits lim = MDS_LOCKS_LIMITS_DEFAULT;
	struct mds_locksvc *svc = calloc(1, sizeof(*svc));
	pthread_condattr_t ca;
	int rc;

	if (!svc)
		return -ENOMEM;
	svc->tbl = mds_locks_new(&lim);
	if (!svc->tbl) {
		free(svc);
		return -ENOMEM;
	}
	pthread_mutex_init(&svc->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&svc->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = -pthread_create(&svc->expirer, NULL, lk_expirer_main, svc);
	if (rc) {
		pthread_cond_destroy(&svc->cond);
		pthread_mutex_destroy(&svc->lock);
		mds_locks_free(svc->tbl);
		free(svc);
		return rc;
	}
	m->locks = svc;
	return 0;
}

void mds_lock_quiesce(struct mds *m)
{
	struct mds_locksvc *svc = m->locks;
	struct mds_lock_wakeups w;

	if (!svc)
		return;
	mds_lock_wakeups_init(&w);
	pthread_mutex_lock(&svc->lock);
	svc->quiesced = true;
	mds_locks_drain(svc->tbl, -ESHUTDOWN, &w);
	pthread_mutex_unlock(&svc->lock);
	lk_answer(&w);
}

void mds_lock_stop(struct mds *m)
{
	struct mds_locksvc *svc = m->locks;

	if (!svc)
		return;
	mds_lock_quiesce(m);
	pthread_mutex_lock(&svc->lock);
	svc->stop = true;
	pthread_cond_signal(&svc->cond);
	pthread_mutex_unlock(&svc->lock);
	pthread_join(svc->expirer, NULL);
	mds_locks_free(svc->tbl);
	pthread_cond_destroy(&svc->cond);
	pthread_mutex_destroy(&svc->lock);
	free(svc);
	m->locks = NULL;
}

/* ---- requests ---- */

/* ino is this shard's, and (must_exist) an inode of it. */
static int lk_check_ino(struct mds *m, uint64_t ino, bool must_exist)
{
	struct ns_attr a;

	if (ns_ino_shard(ino) != m->shard)
		return -EREMOTE;
	return must_exist ? ns_getattr(m->ns, ino, &a) : 0;
}

static uint64_t lk_end(uint64_t start, uint64_t len)
{
	return len == 0 ? MDS_LOCK_EOF : start + len - 1;
}

/* Runs a set request (the table touches its session). */
static int lk_set(struct mds_locksvc *svc, const struct mds_lock_req *r, struct mds_lock_wakeups *w)
{
	int rc;

	pthread_mutex_lock(&svc->lock);
	if (r->wait && svc->quiesced)
		rc = -ESHUTDOWN;
	else
		rc = mds_locks_set(svc->tbl, r, lk_now_ms(), w);
	pthread_mutex_unlock(&svc->lock);
	return rc;
}

static int lk_op_get(struct mds *m, struct wire_dec *d, struct wire_enc *e)
{
	struct proto_mds_lock_req q;
	struct proto_mds_lock_rep rep = {.type = PROTO_MDS_LOCK_UN};
	struct mds_lock_info info;
	struct mds_lock_req r;
	int rc;

	if (proto_mds_lock_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	if (q.type == PROTO_MDS_LOCK_UN || q.flags)
		return -EINVAL;
	rc = lk_check_ino(m, q.ino, true);
	if (rc)
		return rc;
	r = (struct mds_lock_req){.ino = q.ino,
				  .session = q.session,
				  .owner = q.owner,
				  .start = q.start,
				  .end = lk_end(q.start, q.len),
				  .pid = q.pid,
				  .kind = MDS_LOCK_POSIX,
				  .type = q.type};
	pthread_mutex_lock(&m->locks->lock);
	rc = mds_locks_touch(m->locks->tbl, q.session, lk_now_ms());
	if (rc >= 0)
		rc = mds_locks_get(m->locks->tbl, &r, &info);
	pthread_mutex_unlock(&m->locks->lock);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		rep.type = info.type;
		rep.start = info.start;
		rep.len = info.end == MDS_LOCK_EOF ? 0 : info.end - info.start + 1;
		rep.pid = info.pid;
	}
	return proto_mds_lock_rep_encode(&rep, e) ? -EIO : 0;
}

static int lk_op_set(struct mds *m, struct rpc_req *req, struct wire_dec *d,
		     struct mds_lock_wakeups *w)
{
	struct proto_mds_lock_req q;
	struct mds_lock_req r;
	int rc;

	if (proto_mds_lock_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	rc = lk_check_ino(m, q.ino, q.type != PROTO_MDS_LOCK_UN);
	if (rc)
		return rc;
	r = (struct mds_lock_req){.ino = q.ino,
				  .session = q.session,
				  .owner = q.owner,
				  .start = q.start,
				  .end = lk_end(q.start, q.len),
				  .pid = q.pid,
				  .kind = MDS_LOCK_POSIX,
				  .type = q.type,
				  .wait = (q.flags & PROTO_MDS_LOCK_WAIT) != 0,
				  .wait_id = q.wait_id,
				  .ctx = req};
	return lk_set(m->locks, &r, w);
}

static int lk_op_flock(struct mds *m, struct rpc_req *req, struct wire_dec *d,
		       struct mds_lock_wakeups *w)
{
	struct proto_mds_flock_req q;
	struct mds_lock_req r;
	int rc;

	if (proto_mds_flock_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	rc = lk_check_ino(m, q.ino, q.type != PROTO_MDS_LOCK_UN);
	if (rc)
		return rc;
	r = (struct mds_lock_req){.ino = q.ino,
				  .session = q.session,
				  .owner = q.owner,
				  .end = MDS_LOCK_EOF,
				  .kind = MDS_LOCK_FLOCK,
				  .type = q.type,
				  .wait = (q.flags & PROTO_MDS_LOCK_WAIT) != 0,
				  .wait_id = q.wait_id,
				  .ctx = req};
	return lk_set(m->locks, &r, w);
}

static int lk_op_cancel(struct mds *m, struct wire_dec *d, struct mds_lock_wakeups *w)
{
	struct proto_mds_lock_cancel_req q;
	int rc;

	if (proto_mds_lock_cancel_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	rc = lk_check_ino(m, q.ino, false);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->locks->lock);
	rc = mds_locks_touch(m->locks->tbl, q.session, lk_now_ms());
	if (rc >= 0)
		rc = mds_locks_cancel(m->locks->tbl, q.session, q.wait_id, w);
	pthread_mutex_unlock(&m->locks->lock);
	return rc;
}

static int lk_op_release(struct mds *m, struct wire_dec *d, struct mds_lock_wakeups *w)
{
	struct proto_mds_lock_release_req q;
	int rc;

	if (proto_mds_lock_release_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	rc = lk_check_ino(m, q.ino, false);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->locks->lock);
	rc = mds_locks_touch(m->locks->tbl, q.session, lk_now_ms());
	if (rc >= 0) {
		mds_locks_release_owner(m->locks->tbl, q.ino, q.session, q.owner, w);
		rc = 0;
	}
	pthread_mutex_unlock(&m->locks->lock);
	return rc;
}

static int lk_op_session(struct mds *m, struct wire_dec *d, struct wire_enc *e,
			 struct mds_lock_wakeups *w)
{
	struct proto_mds_lock_session_req q;
	struct proto_mds_lock_session_rep rep = {.lease_ms = MDS_LOCK_LEASE_MS};
	size_t released = 0;
	int rc = 0;

	if (proto_mds_lock_session_req_decode(d, &q))
		return -CAIRN_EBADFRAME;
	pthread_mutex_lock(&m->locks->lock);
	if (q.flags & PROTO_MDS_SESSION_END) {
		if (!mds_locks_session_info(m->locks->tbl, q.session, &rep.locks, &rep.waiters))
			rep.flags = PROTO_MDS_SESSION_NEW;
		released = mds_locks_session_end(m->locks->tbl, q.session, w);
		rep.locks = rep.waiters = 0;
	} else {
		rc = mds_locks_touch(m->locks->tbl, q.session, lk_now_ms());
		if (rc == 1)
			rep.flags = PROTO_MDS_SESSION_NEW;
		mds_locks_session_info(m->locks->tbl, q.session, &rep.locks, &rep.waiters);
	}
	pthread_mutex_unlock(&m->locks->lock);
	if (rc < 0)
		return rc;
	if (released)
		log_debug("locks: session %#llx ended by its client, %zu lock(s) released",
			  (unsigned long long)q.session, released);
	return proto_mds_lock_session_rep_encode(&rep, e) ? -EIO : 0;
}

static int lk_dispatch(struct mds *m, struct rpc_req *req, struct wire_dec *d, struct wire_enc *e,
		       struct mds_lock_wakeups *w)
{
	switch (rpc_req_msg(req)->hdr.opcode) {
	case PROTO_OP_MDS_LOCK_GET:
		return lk_op_get(m, d, e);
	case PROTO_OP_MDS_LOCK_SET:
		return lk_op_set(m, req, d, w);
	case PROTO_OP_MDS_FLOCK:
		return lk_op_flock(m, req, d, w);
	case PROTO_OP_MDS_LOCK_CANCEL:
		return lk_op_cancel(m, d, w);
	case PROTO_OP_MDS_LOCK_RELEASE:
		return lk_op_release(m, d, w);
	case PROTO_OP_MDS_LOCK_SESSION:
		return lk_op_session(m, d, e, w);
	default:
		return -EOPNOTSUPP;
	}
}

void mds_lock_handle(struct mds *m, struct rpc_req *req)
{
	const struct rpc_msg *msg = rpc_req_msg(req);
	uint8_t rep[64];
	struct mds_lock_wakeups w;
	struct wire_dec d;
	struct wire_enc e;
	int rc;

	mds_lock_wakeups_init(&w);
	wire_dec_init(&d, msg->body, msg->body_len);
	wire_dec_set_version(&d, msg->hdr.version);
	wire_enc_init(&e, rep, sizeof(rep));
	wire_enc_set_version(&e, msg->hdr.version);
	rc = m->locks ? lk_dispatch(m, req, &d, &e, &w) : -EOPNOTSUPP;
	/* Queued: req belongs to the table now (and may be in w already). */
	if (rc != MDS_LOCKS_QUEUED) {
		rc = rpc_reply(req, rc, rc ? NULL : rep, rc ? 0 : (uint32_t)e.len, NULL, 0, NULL,
			       NULL);
		if (rc && rc != -ECONNRESET)
			log_warn("locks: reply failed: %s", error_str(rc));
	}
	lk_answer(&w);
}
