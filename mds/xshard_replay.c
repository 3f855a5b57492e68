/*
 * xshard_replay.c - replay of pending cross-shard operations.  At start the
 * intents of this shard (every op it coordinated and did not finish) are
 * queued; a thread drives each from its recorded phase (xshard_ops.c,
 * xshard_rename.c), retrying with exponential back-off while a peer is
 * unreachable (peers start in any order), and forgets the steps on the
 * shards touched once the intent is deleted.  Live operations that could
 * not reach a peer are queued the same way.  The thread also drops step
 * results older than XS_DONE_MAX_AGE now and then (ns_done_gc).
 *
 * Threads: one replay thread; the queue is guarded by xs->mu and its
 * condition variable (CLOCK_MONOTONIC).  mds_xshard_rerun and
 * mds_xshard_drop run on the caller's thread (fsck requests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "mds/mds.h"
#include "mds/xshard_int.h"

#define XS_RETRY_MIN_MS 100
#define XS_RETRY_MAX_MS 10000
#define XS_GC_EVERY_MS (10 * 60 * 1000)
#define XS_DONE_MAX_AGE (7 * 24 * 3600) /* seconds: far longer than any replay */

uint64_t xs_rec_shards(const struct xs_rec *r, uint16_t self)
{
	uint64_t set = UINT64_C(1) << (self & 63);

	switch (r->kind) {
	case XS_MKDIR:
		set |= UINT64_C(1) << (r->target_shard & 63);
		break;
	case XS_RMDIR:
	case XS_UNLINK:
	case XS_LINK:
		set |= UINT64_C(1) << (ns_ino_shard(r->ino) & 63);
		break;
	default:
		set |= UINT64_C(1) << (ns_ino_shard(r->parent2) & 63);
		set |= UINT64_C(1) << (ns_ino_shard(r->ino) & 63);
		if (r->ino2)
			set |= UINT64_C(1) << (ns_ino_shard(r->ino2) & 63);
		if (r->drop_ino)
			set |= UINT64_C(1) << (ns_ino_shard(r->drop_ino) & 63);
		break;
	}
	return set;
}

/* ---- the queue (xs->mu held) ---- */

static struct xs_pending *xs_queue_find(struct mds_xshard *xs, uint64_t op_id)
{
	for (size_t i = 0; i < xs->nqueue; i++)
		if (xs->queue[i].op_id == op_id)
			return &xs->queue[i];
	return NULL;
}

static int xs_queue_add(struct mds_xshard *xs, uint64_t op_id, uint64_t at, uint32_t delay)
{
	struct xs_pending *p = xs_queue_find(xs, op_id);

	if (p) {
		if (at < p->next_ms)
			p->next_ms = at;
		return 0;
	}
	if (xs->nqueue == xs->cap_queue) {
		size_t cap = xs->cap_queue ? 2 * xs->cap_queue : 16;
		struct xs_pending *q = realloc(xs->queue, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		xs->queue = q;
		xs->cap_queue = cap;
	}
	xs->queue[xs->nqueue++] = (struct xs_pending){op_id, at, delay};
	return 0;
}

static void xs_queue_del(struct mds_xshard *xs, uint64_t op_id)
{
	struct xs_pending *p = xs_queue_find(xs, op_id);

	if (p)
		*p = xs->queue[--xs->nqueue];
}

void xs_replay_queue(struct mds_xshard *xs, uint64_t op_id)
{
	pthread_mutex_lock(&xs->mu);
	if (xs_queue_add(xs, op_id, xs_now_ms() + XS_RETRY_MIN_MS, XS_RETRY_MIN_MS))
		log_error("xshard: op %#llx: no memory to queue it; it waits for a restart",
			  (unsigned long long)op_id);
	pthread_cond_signal(&xs->cond);
	pthread_mutex_unlock(&xs->mu);
}

/* ---- driving one recorded op ---- */

static int xs_run_rec(struct xs_op *o)
{
	switch (o->rec.kind) {
	case XS_MKDIR:
		return xs_mkdir_run(o, NULL);
	case XS_RMDIR:
		return xs_rmdir_run(o);
	case XS_UNLINK:
		return xs_unlink_run(o);
	case XS_LINK:
		return xs_link_run(o, NULL);
	default:
		return xs_rename_run(o);
	}
}

/* Reads and decodes the intent of op_id: 0, -ENOENT, -EINVAL, -EIO. */
static int xs_read_rec(struct mds *m, uint64_t op_id, struct xs_rec *rec)
{
	uint8_t buf[XS_REC_MAX];
	size_t len = 0;
	int rc = ns_intent_get(m->ns, op_id, buf, sizeof(buf), &len);

	if (rc)
		return rc == -ENOENT ? rc : -EIO;
	if (len > sizeof(buf) || xs_rec_decode(buf, len, rec)) {
		log_error("xshard: intent %#llx: unreadable record (%zu bytes)",
			  (unsigned long long)op_id, len);
		return -EINVAL;
	}
	return 0;
}

int xs_replay_one(struct mds *m, uint64_t op_id, bool *pending)
{
	struct xs_op o = {.m = m, .xs = m->xs, .op_id = op_id, .replay = true};
	int rc;

	*pending = false;
	if (!xs_active_add(m->xs, op_id)) {
		*pending = true;
		return -EBUSY;
	}
	rc = xs_read_rec(m, op_id, &o.rec);
	if (rc) {
		xs_active_del(m->xs, op_id);
		return rc;
	}
	log_info("xshard: replaying op %#llx (kind %u, phase %u)", (unsigned long long)op_id,
		 o.rec.kind, o.rec.phase);
	rc = xs_run_rec(&o);
	*pending = o.pending && !o.done;
	if (o.done)
		log_info("xshard: op %#llx %s", (unsigned long long)op_id,
			 rc == 0 ? "finished" : "undone");
	else if (!o.pending)
		log_error("xshard: op %#llx: replay stopped: %s", (unsigned long long)op_id,
			  error_str(rc));
	xs_op_end(&o);
	if (o.done)
		return 0;
	return *pending ? -EAGAIN : -EIO;
}

/* ---- the thread ---- */

/* Earliest queued op due now, removed from the queue; or the wait. */
static bool xs_next_due(struct mds_xshard *xs, struct xs_pending *out, uint64_t *wait_until)
{
	uint64_t now = xs_now_ms();
	size_t best = xs->nqueue;

	for (size_t i = 0; i < xs->nqueue; i++)
		if (best == xs->nqueue || xs->queue[i].next_ms < xs->queue[best].next_ms)
			best = i;
	if (best == xs->nqueue)
		return false;
	if (xs->queue[best].next_ms > now) {
		if (xs->queue[best].next_ms < *wait_until)
			*wait_until = xs->queue[best].next_ms;
		return false;
	}
	*out = xs->queue[best];
	xs->queue[best] = xs->queue[--xs->nqueue];
	return true;
}

static void xs_wait_until(struct mds_xshard *xs, uint64_t until_ms)
{
	struct timespec ts = {.tv_sec = (time_t)(until_ms / 1000),
			      .tv_nsec = (long)(until_ms % 1000) * 1000000L};

	pthread_cond_timedwait(&xs->cond, &xs->mu, &ts);
}

static void xs_replay_gc(struct mds *m, uint64_t *last_gc)
{
	uint64_t removed = 0;

	if (xs_now_ms() - *last_gc < XS_GC_EVERY_MS)
		return;
	*last_gc = xs_now_ms();
	if (ns_done_gc(m->ns, XS_DONE_MAX_AGE, &removed) == 0 && removed)
		log_info("xshard: dropped %llu old step results", (unsigned long long)removed);
}

static void *xs_replay_main(void *arg)
{
	struct mds_xshard *xs = arg;
	uint64_t last_gc = xs_now_ms();
	struct xs_pending p;
	bool pending;

	pthread_mutex_lock(&xs->mu);
	while (!xs->stopping) {
		uint64_t until = xs_now_ms() + XS_GC_EVERY_MS;

		if (!xs_next_due(xs, &p, &until)) {
			xs_wait_until(xs, until);
			pthread_mutex_unlock(&xs->mu);
			xs_replay_gc(xs->m, &last_gc);
			pthread_mutex_lock(&xs->mu);
			continue;
		}
		pthread_mutex_unlock(&xs->mu);
		(void)xs_replay_one(xs->m, p.op_id, &pending);
		pthread_mutex_lock(&xs->mu);
		if (pending) {
			p.delay_ms = p.delay_ms * 2 > XS_RETRY_MAX_MS ? XS_RETRY_MAX_MS
								       : p.delay_ms * 2;
			(void)xs_queue_add(xs, p.op_id, xs_now_ms() + p.delay_ms, p.delay_ms);
		}
	}
	pthread_mutex_unlock(&xs->mu);
	return NULL;
}

static int xs_collect(void *arg, uint64_t op_id, const void *data, size_t len)
{
	struct mds_xshard *xs = arg;
	int rc;

	(void)data;
	(void)len;
	pthread_mutex_lock(&xs->mu);
	rc = xs_queue_add(xs, op_id, 0, XS_RETRY_MIN_MS);
	pthread_mutex_unlock(&xs->mu);
	return rc;
}

int xs_replay_start(struct mds_xshard *xs)
{
	int rc = ns_intent_list(xs->m->ns, xs_collect, xs);

	if (rc) {
		log_error("xshard: cannot list pending intents: %s", error_str(rc));
		return rc;
	}
	if (xs->nqueue)
		log_info("xshard: %zu pending cross-shard operation(s) to replay", xs->nqueue);
	rc = -pthread_create(&xs->thread, NULL, xs_replay_main, xs);
	if (rc)
		return rc;
	xs->thread_started = true;
	return 0;
}

void xs_replay_stop(struct mds_xshard *xs)
{
	if (!xs->thread_started)
		return;
	pthread_mutex_lock(&xs->mu);
	xs->stopping = true;
	pthread_cond_broadcast(&xs->cond);
	pthread_mutex_unlock(&xs->mu);
	pthread_join(xs->thread, NULL);
	xs->thread_started = false;
}

/* ---- for fsck ---- */

int mds_xshard_intent_info(const void *rec, size_t len, uint8_t *kind, uint8_t *phase,
			   int64_t *start_sec)
{
	struct xs_rec r;

	if (xs_rec_decode(rec, len, &r))
		return -EINVAL;
	*kind = r.kind;
	*phase = r.phase;
	*start_sec = r.start_sec;
	return 0;
}

int mds_xshard_rerun(struct mds *m, uint64_t op_id)
{
	bool pending;
	int rc;

	if (!m->xs)
		return -EIO;
	rc = xs_replay_one(m, op_id, &pending);
	if (rc == -EAGAIN)
		xs_replay_queue(m->xs, op_id);
	if (rc == 0 || rc == -ENOENT) {
		pthread_mutex_lock(&m->xs->mu);
		xs_queue_del(m->xs, op_id);
		pthread_mutex_unlock(&m->xs->mu);
	}
	return rc;
}

int mds_xshard_drop(struct mds *m, uint64_t op_id)
{
	size_t len;
	int rc;

	if (!m->xs)
		return -EIO;
	if (!xs_active_add(m->xs, op_id))
		return -EBUSY;
	rc = ns_intent_get(m->ns, op_id, NULL, 0, &len);
	if (rc == 0)
		rc = ns_intent_del(m->ns, op_id, true);
	if (rc == 0) {
		log_warn("xshard: intent %#llx dropped by fsck", (unsigned long long)op_id);
		pthread_mutex_lock(&m->xs->mu);
		xs_queue_del(m->xs, op_id);
		pthread_mutex_unlock(&m->xs->mu);
	}
	xs_active_del(m->xs, op_id);
	return rc == -ENOENT || rc == 0 ? rc : -EIO;
}
