/*
 * cairn_lock.c - libcairn: file locks (cairn_getlk, cairn_setlk,
 * cairn_flock, cairn_lock_release_owner), their cancellation tokens, and
 * the handle's lock session.
 *
 * Session: cairn_open() draws a random 64-bit id that every lock request
 * carries; the shards key locks by it, so a reconnected connection keeps
 * them.  A shard drops the locks of a session it has not heard from for
 * its lease (server_lock.h), so a renewer thread, started by the first
 * lock call, sends LOCK_SESSION to every shard the handle has locked on,
 * five times per lease.  cairn_close() stops it and ends the session on
 * those shards, which releases its locks at once.  A renewal answered
 * "new session" by a shard where the handle held locks means the shard
 * restarted or let the lease run out: the locks are gone, and that is
 * logged (the calls cannot tell their callers after the fact).
 *
 * Requests are idempotent, so they are sent again after a broken
 * connection: setting a range to a type, or releasing it, twice is the
 * same as once.  A blocking request names itself with a wait id; sent
 * again with the same id (after a reset, a timeout of the call, or
 * -EALREADY when an older copy took its place), the shard hands the queued
 * request over to the new one, or grants it at once if the first copy was
 * granted (the owner holds the lock already).  Cancel: the waiting thread
 * sends LOCK_CANCEL for its wait id and goes on waiting for the answer of
 * its request, which is -EINTR, or 0 if it was granted first.  If the
 * shard cannot be reached to cancel, the call asks once more without
 * waiting (0 if the lock is held, -EINTR otherwise).
 *
 * Threads and ownership: the calls run on the caller's thread; a blocking
 * one waits on a condition of its own (struct lk_call, on its stack) that
 * the RPC completion and cairn_lock_wait_cancel() signal.  Lock order:
 * cairn_lock_wait.lock, then lk_call.lock.  struct cairn_locks is made by
 * cairn_open(); its lock guards the renewer's state and the shards used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/mdsc.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "proto/mds.h"

#define LK_INTERVAL_MS 1000   /* renewals before a shard said its lease */
#define LK_LEASE_SHARE 5      /* renewals per lease */
#define LK_INTERVAL_MIN_MS 50 /* whatever a shard says */
#define LK_INTERVAL_MAX_MS 60000
#define LK_WAIT_SLICE_MS 600000	  /* a blocking request is sent again after this */
#define LK_SHUTDOWN_PAUSE_MS 200  /* before asking a stopping shard again */
#define LK_END_TIMEOUT_MS 2000	  /* cairn_close(): ending the session */
#define LK_CANCEL_TIMEOUT_MS 2000 /* a cancelled wait: its LOCK_CANCEL */
#define LK_BUF 512

struct cairn_locks {
	uint64_t session; /* != 0, immutable */
	atomic_uint_fast64_t next_wait;
	pthread_mutex_t lock;
	pthread_cond_t cond;	   /* the renewer's sleep (CLOCK_MONOTONIC) */
	bool started;		   /* lock */
	bool stop;		   /* lock */
	uint32_t interval_ms;	   /* lock */
	bool used[CFG_MAX_SHARDS]; /* lock: shards the session has locked on */
	pthread_t renewer;
	/*
	 * lock: the inodes this handle ever asked a lock on (open addressing,
	 * 0 empty), so that releasing the locks of a file never locked here
	 * (every close on a mount) costs no request.
	 */
	uint64_t *inos;
	size_t inos_cap, inos_n;
	/* The renewer's own. */
	bool known[CFG_MAX_SHARDS];
	uint32_t held[CFG_MAX_SHARDS];
};

struct cairn_lock_wait {
	pthread_mutex_t lock;
	atomic_bool cancelled;
	struct lk_call *call; /* lock: the blocking call using it */
};

/* One blocking request in flight. */
struct lk_call {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;  /* lock */
	int status; /* lock */
};

/* ---- cancellation tokens ---- */

int cairn_lock_wait_new(struct cairn_lock_wait **out)
{
	struct cairn_lock_wait *w;

	if (!out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->cancelled, false);
	*out = w;
	return 0;
}

void cairn_lock_wait_cancel(struct cairn_lock_wait *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->cancelled, true);
	if (w->call) {
		pthread_mutex_lock(&w->call->lock);
		pthread_cond_broadcast(&w->call->cond);
		pthread_mutex_unlock(&w->call->lock);
	}
	pthread_mutex_unlock(&w->lock);
}

void cairn_lock_wait_free(struct cairn_lock_wait *w)
{
	if (!w)
		return;
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static bool lk_cancelled(struct cairn_lock_wait *w)
{
	return w && atomic_load(&w->cancelled);
}

static void lk_wait_attach(struct cairn_lock_wait *w, struct lk_call *k)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->call = k;
	pthread_mutex_unlock(&w->lock);
}

/* ---- the session and its renewer ---- */

static int64_t lk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t lk_session_id(void)
{
	uint64_t id = 0;
	struct timespec ts;

	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		/* No entropy source: time, pid and an address, mixed. */
		clock_gettime(CLOCK_REALTIME, &ts);
		id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&id;
		id *= UINT64_C(0x9e3779b97f4a7c15);
	}
	return id ? id : 1;
}

int cairn_lock_init(struct cairn *c)
{
	struct cairn_locks *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (!l)
		return -ENOMEM;
	l->session = lk_session_id();
	atomic_init(&l->next_wait, 1);
	l->interval_ms = LK_INTERVAL_MS;
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->locks = l;
	return 0;
}

/* Notes one shard's renewal answer; the renewer's thread. */
static void lk_renewed(struct cairn_locks *l, uint16_t shard, const struct rpc_msg *resp)
{
	struct proto_mds_lock_session_rep rep;
	struct wire_dec d;

	mdsc_dec_init(&d, resp);
	if (mdsc_dec_check(proto_mds_lock_session_rep_decode(&d, &rep), PROTO_OP_MDS_LOCK_SESSION))
		return;
	if ((rep.flags & PROTO_MDS_SESSION_NEW) && l->known[shard] && l->held[shard])
		log_warn("mds shard %u had forgotten this client's lock session (it restarted, or "
			 "the lease ran out): the %u lock(s) held there are lost",
			 shard, l->held[shard]);
	l->known[shard] = true;
	l->held[shard] = rep.locks;
	pthread_mutex_lock(&l->lock);
	l->interval_ms = rep.lease_ms / LK_LEASE_SHARE;
	if (l->interval_ms < LK_INTERVAL_MIN_MS)
		l->interval_ms = LK_INTERVAL_MIN_MS;
	if (l->interval_ms > LK_INTERVAL_MAX_MS)
		l->interval_ms = LK_INTERVAL_MAX_MS;
	pthread_mutex_unlock(&l->lock);
}

/*
 * Sends LOCK_SESSION (flags) to every shard used, at once, each with
 * timeout_ms; with renewed, notes the answers.
 */
static void lk_session_all(struct cairn *c, uint32_t flags, int timeout_ms, bool renewed)
{
	struct cairn_locks *l = c->locks;
	struct proto_mds_lock_session_req q = {.session = l->session, .flags = flags};
	struct mdsc_req reqs[CFG_MAX_SHARDS];
	uint8_t body[32];
	struct wire_enc e;
	size_t n = 0, len;

	wire_enc_init(&e, body, sizeof(body));
	if (proto_mds_lock_session_req_encode(&q, &e) || wire_enc_finish(&e, &len))
		return;
	pthread_mutex_lock(&l->lock);
	for (uint16_t s = 0; s < mdsc_nshards(c->mdsc) && s < CFG_MAX_SHARDS; s++)
		if (l->used[s])
			reqs[n++] = (struct mdsc_req){.shard = s,
						      .opcode = PROTO_OP_MDS_LOCK_SESSION,
						      .body = body,
						      .len = (uint32_t)len,
						      .timeout_ms = timeout_ms};
	pthread_mutex_unlock(&l->lock);
	if (n == 0)
		return;
	mdsc_call_many(c->mdsc, reqs, n);
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].status)
			log_debug("lock session on mds shard %u: %s", reqs[i].shard,
				  error_str(reqs[i].status));
		else if (renewed)
			lk_renewed(l, reqs[i].shard, reqs[i].resp);
		rpc_msg_free(reqs[i].resp);
	}
}

static void *lk_renewer_main(void *arg)
{
	struct cairn *c = arg;
	struct cairn_locks *l = c->locks;
	int64_t next = lk_now_ms();

	pthread_setname_np(pthread_self(), "cairn-lock-renew");
	pthread_mutex_lock(&l->lock);
	for (;;) {
		struct timespec ts;
		uint32_t iv = l->interval_ms;

		next += iv;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		while (!l->stop && lk_now_ms() < next)
			pthread_cond_timedwait(&l->cond, &l->lock, &ts);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->lock);
		/* Each answer must come well within the lease. */
		lk_session_all(c, 0, (int)(2 * iv), true);
		pthread_mutex_lock(&l->lock);
		if (lk_now_ms() > next + l->interval_ms)
			next = lk_now_ms(); /* fell behind: renew again one interval from now */
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* The session is used on shard: it must be renewed there from now on. */
static int lk_use(struct cairn *c, uint16_t shard)
{
	struct cairn_locks *l = c->locks;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	if (shard < CFG_MAX_SHARDS)
		l->used[shard] = true;
	if (!l->started && !l->stop) {
		rc = -pthread_create(&l->renewer, NULL, lk_renewer_main, c);
		if (rc) {
			log_error("cannot start the lock renewal thread: %s", strerror(-rc));
			rc = -ENOLCK;
		} else {
			l->started = true;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void cairn_lock_fini(struct cairn *c)
{
	struct cairn_locks *l = c->locks;
	bool started;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	started = l->started;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (started)
		pthread_join(l->renewer, NULL);
	if (c->mdsc)
		lk_session_all(c, PROTO_MDS_SESSION_END, LK_END_TIMEOUT_MS, false);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l->inos);
	free(l);
	c->locks = NULL;
}

static size_t lk_ino_slot(const uint64_t *v, size_t cap, uint64_t ino)
{
	size_t i = (size_t)((ino * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & (cap - 1);

	while (v[i] && v[i] != ino)
		i = (i + 1) & (cap - 1);
	return i;
}

/* Notes that ino has been locked through this handle.  Returns 0 or -ENOMEM. */
static int lk_ino_add(struct cairn_locks *l, uint64_t ino)
{
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	if ((l->inos_n + 1) * 2 > l->inos_cap) {
		size_t cap = l->inos_cap ? l->inos_cap * 2 : 64;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < l->inos_cap; i++)
			if (l->inos[i])
				v[lk_ino_slot(v, cap, l->inos[i])] = l->inos[i];
		free(l->inos);
		l->inos = v;
		l->inos_cap = cap;
	}
	size_t i = lk_ino_slot(l->inos, l->inos_cap, ino);

	if (!l->inos[i]) {
		l->inos[i] = ino;
		l->inos_n++;
	}
out:
	pthread_mutex_unlock(&l->lock);
	return rc;
}

static bool lk_ino_known(struct cairn_locks *l, uint64_t ino)
{
	bool known;

	pthread_mutex_lock(&l->lock);
	known = l->inos_cap && l->inos[lk_ino_slot(l->inos, l->inos_cap, ino)] == ino;
	pthread_mutex_unlock(&l->lock);
	return known;
}

/* ---- requests ---- */

/*
 * Sends a non-blocking lock request (timeout_ms 0: the handle's default),
 * again after a broken connection (lock requests are idempotent).
 * Returns the status and, with resp, the answer (the caller frees it).
 */
static int lk_send(struct cairn *c, uint16_t shard, uint16_t op, const struct wire_enc *e,
		   int timeout_ms, struct rpc_msg **resp)
{
	struct rpc_msg *r = NULL;
	size_t len;
	int rc;

	if (wire_enc_finish(e, &len))
		return -ENOMEM; /* cannot happen: the buffers hold any request */
	for (int attempt = 0;; attempt++) {
		rc = mdsc_call(c->mdsc, shard, op, e->buf, len, timeout_ms, &r);
		if (rc != -ECONNRESET || attempt >= MDSC_RETRIES)
			break;
	}
	if (resp)
		*resp = r;
	else
		rpc_msg_free(r);
	return rc;
}

static void lk_call_done(void *arg, int status, struct rpc_msg *resp)
{
	struct lk_call *k = arg;

	rpc_msg_free(resp); /* a granted wait has an empty body */
	pthread_mutex_lock(&k->lock);
	k->done = true;
	k->status = status;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/* Asks shard to stop the wait wait_id of this session.  0, -ENOENT, ... */
static int lk_cancel_send(struct cairn *c, uint16_t shard, uint64_t ino, uint64_t wait_id)
{
	struct proto_mds_lock_cancel_req q = {
	    .ino = ino, .session = c->locks->session, .wait_id = wait_id};
	uint8_t buf[64];
	struct wire_enc e;

	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_cancel_req_encode(&q, &e);
	return lk_send(c, shard, PROTO_OP_MDS_LOCK_CANCEL, &e, LK_CANCEL_TIMEOUT_MS, NULL);
}

/* The local and remote statuses of a wait, as the callers see them. */
static int lk_status(int rc)
{
	if (rc == -CAIRN_EBADFRAME)
		return -EINVAL;
	if (rc == -EREMOTE)
		return -EIO;
	return rc;
}

/*
 * Sends the blocking request in e and waits for its answer; when w is
 * cancelled meanwhile, sends LOCK_CANCEL and goes on waiting for the
 * answer, which then comes soon.  Returns the answer's status.
 */
static int lk_wait_round(struct cairn *c, uint16_t shard, uint16_t op, const struct wire_enc *e,
			 uint64_t ino, uint64_t wait_id, struct cairn_lock_wait *w)
{
	struct lk_call k = {.done = false};
	struct rpc_call call = {.opcode = op,
				.body = e->buf,
				.body_len = (uint32_t)e->len, /* never overflowed: see lk_send */
				.timeout_ms = LK_WAIT_SLICE_MS};
	bool cancel_sent = false;
	int rc;

	pthread_mutex_init(&k.lock, NULL);
	pthread_cond_init(&k.cond, NULL);
	rc = rpc_call_async(mdsc_client(c->mdsc, shard), &call, lk_call_done, &k);
	if (rc)
		goto out;
	lk_wait_attach(w, &k);
	pthread_mutex_lock(&k.lock);
	while (!k.done) {
		if (lk_cancelled(w) && !cancel_sent) {
			pthread_mutex_unlock(&k.lock);
			(void)lk_cancel_send(c, shard, ino, wait_id);
			cancel_sent = true;
			pthread_mutex_lock(&k.lock);
			continue;
		}
		pthread_cond_wait(&k.cond, &k.lock);
	}
	rc = k.status;
	pthread_mutex_unlock(&k.lock);
	lk_wait_attach(w, NULL);
out:
	pthread_cond_destroy(&k.cond);
	pthread_mutex_destroy(&k.lock);
	return lk_status(rc);
}

/*
 * A blocking request (e, with wait id wait_id) until it has an answer;
 * nb is the same request without waiting, for when a cancel could not
 * reach the shard.
 */
static int lk_wait(struct cairn *c, uint16_t shard, uint16_t op, const struct wire_enc *e,
		   const struct wire_enc *nb, uint64_t ino, uint64_t wait_id,
		   struct cairn_lock_wait *w)
{
	int rc;

	for (;;) {
		if (lk_cancelled(w))
			return -EINTR;
		rc = lk_wait_round(c, shard, op, e, ino, wait_id, w);
		if (rc != -ECONNRESET && rc != -ETIMEDOUT && rc != -EALREADY && rc != -ESHUTDOWN)
			return rc;
		/* Unknown fate: ask again under the same wait id, or give up. */
		if (lk_cancelled(w)) {
			if (lk_cancel_send(c, shard, ino, wait_id) == 0)
				return -EINTR;
			rc = lk_send(c, shard, op, nb, LK_CANCEL_TIMEOUT_MS, NULL);
			return rc == 0 ? 0 : -EINTR;
		}
		log_debug("mds shard %u: blocking lock request %#llx: %s; asking again", shard,
			  (unsigned long long)wait_id, error_str(rc));
		if (rc == -ESHUTDOWN)
			usleep(LK_SHUTDOWN_PAUSE_MS * 1000);
	}
}

/* Checks c and ino, marks the shard used.  0, -EINVAL, -ESTALE, -ENOLCK. */
static int lk_begin(struct cairn *c, uint64_t ino, uint16_t *shard)
{
	int rc;

	if (!c || !c->locks)
		return -EINVAL;
	rc = cairn_ino_arg(c, ino, shard);
	return rc ? rc : lk_use(c, *shard);
}

static int lk_type_arg(uint32_t type, uint8_t *out)
{
	switch (type) {
	case F_RDLCK:
		*out = PROTO_MDS_LOCK_RD;
		return 0;
	case F_WRLCK:
		*out = PROTO_MDS_LOCK_WR;
		return 0;
	case F_UNLCK:
		*out = PROTO_MDS_LOCK_UN;
		return 0;
	default:
		return -EINVAL;
	}
}

static bool lk_range_ok(uint64_t start, uint64_t len)
{
	if (start > PROTO_MDS_LOCK_OFFSET_MAX)
		return false;
	return len == 0 || len - 1 <= PROTO_MDS_LOCK_OFFSET_MAX - start;
}

/* Fills the wire request of a POSIX lock call.  0, -EINVAL, -ENOMEM. */
static int lk_posix_req(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
			uint64_t owner, const struct cairn_lock *lk, struct proto_mds_lock_req *q)
{
	memset(q, 0, sizeof(*q));
	if (!lk || !lk_range_ok(lk->start, lk->len) || lk_type_arg(lk->type, &q->type))
		return -EINVAL;
	q->ino = ino;
	q->session = c->locks->session;
	q->owner = owner;
	q->start = lk->start;
	q->len = lk->len;
	q->pid = lk->pid;
	return cairn_cred_get(cred, &q->cred);
}

int cairn_getlk(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		struct cairn_lock *lk)
{
	struct proto_mds_lock_req q;
	struct proto_mds_lock_rep rep;
	struct rpc_msg *resp;
	uint8_t buf[LK_BUF];
	struct wire_enc e;
	struct wire_dec d;
	uint16_t shard;
	int rc;

	rc = lk_begin(c, ino, &shard);
	if (!rc)
		rc = lk_posix_req(c, cred, ino, owner, lk, &q);
	if (!rc && q.type == PROTO_MDS_LOCK_UN)
		rc = -EINVAL;
	if (rc)
		return rc;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_req_encode(&q, &e);
	rc = lk_send(c, shard, PROTO_OP_MDS_LOCK_GET, &e, 0, &resp);
	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_lock_rep_decode(&d, &rep), PROTO_OP_MDS_LOCK_GET);
	rpc_msg_free(resp);
	if (rc)
		return rc;
	if (rep.type == PROTO_MDS_LOCK_UN) {
		lk->type = F_UNLCK;
		return 0;
	}
	lk->type = rep.type == PROTO_MDS_LOCK_WR ? F_WRLCK : F_RDLCK;
	lk->start = rep.start;
	lk->len = rep.len;
	lk->pid = rep.pid;
	return 0;
}

int cairn_setlk(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		const struct cairn_lock *lk, bool wait, struct cairn_lock_wait *w)
{
	struct proto_mds_lock_req q;
	uint8_t buf[LK_BUF], nbbuf[LK_BUF];
	struct wire_enc e, nb;
	uint16_t shard;
	int rc;

	rc = lk_begin(c, ino, &shard);
	if (!rc)
		rc = lk_posix_req(c, cred, ino, owner, lk, &q);
	if (!rc)
		rc = lk_ino_add(c->locks, ino);
	if (rc)
		return rc;
	wire_enc_init(&nb, nbbuf, sizeof(nbbuf));
	proto_mds_lock_req_encode(&q, &nb);
	if (!wait || q.type == PROTO_MDS_LOCK_UN)
		return lk_send(c, shard, PROTO_OP_MDS_LOCK_SET, &nb, 0, NULL);
	q.flags = PROTO_MDS_LOCK_WAIT;
	q.wait_id = atomic_fetch_add(&c->locks->next_wait, 1);
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_req_encode(&q, &e);
	return lk_wait(c, shard, PROTO_OP_MDS_LOCK_SET, &e, &nb, ino, q.wait_id, w);
}

int cairn_flock(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		int op, struct cairn_lock_wait *w)
{
	struct proto_mds_flock_req q = {.ino = ino, .owner = owner};
	uint8_t buf[LK_BUF], nbbuf[LK_BUF];
	struct wire_enc e, nb;
	uint16_t shard;
	int rc;

	rc = lk_begin(c, ino, &shard);
	if (!rc)
		rc = lk_ino_add(c->locks, ino);
	if (rc)
		return rc;
	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		q.type = PROTO_MDS_LOCK_RD;
		break;
	case LOCK_EX:
		q.type = PROTO_MDS_LOCK_WR;
		break;
	case LOCK_UN:
		q.type = PROTO_MDS_LOCK_UN;
		break;
	default:
		return -EINVAL;
	}
	q.session = c->locks->session;
	rc = cairn_cred_get(cred, &q.cred);
	if (rc)
		return rc;
	wire_enc_init(&nb, nbbuf, sizeof(nbbuf));
	proto_mds_flock_req_encode(&q, &nb);
	if ((op & LOCK_NB) || q.type == PROTO_MDS_LOCK_UN)
		return lk_send(c, shard, PROTO_OP_MDS_FLOCK, &nb, 0, NULL);
	q.flags = PROTO_MDS_LOCK_WAIT;
	q.wait_id = atomic_fetch_add(&c->locks->next_wait, 1);
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_flock_req_encode(&q, &e);
	return lk_wait(c, shard, PROTO_OP_MDS_FLOCK, &e, &nb, ino, q.wait_id, w);
}

int cairn_lock_release_owner(struct cairn *c, uint64_t ino, uint64_t owner)
{
	struct proto_mds_lock_release_req q = {.ino = ino, .owner = owner};
	uint8_t buf[64];
	struct wire_enc e;
	uint16_t shard;
	int rc;

	if (c && c->locks && !lk_ino_known(c->locks, ino))
		return 0; /* nothing was ever locked on ino through c */
	rc = lk_begin(c, ino, &shard);
	if (rc)
		return rc;
	q.session = c->locks->session;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_lock_release_req_encode(&q, &e);
	return lk_send(c, shard, PROTO_OP_MDS_LOCK_RELEASE, &e, 0, NULL);
}
