/*
 * purge.c - the purger of a metadata shard (purge.h): its life cycle, the
 * thread, the passes over the purge entries, the cluster map it places
 * stripes with, and (shards other than 0) the watch that keeps that map
 * current.  One turn of one entry is purge_file.c's.
 *
 * A pass lists the entries in ino order and gives each a turn.  A "full"
 * pass (the first, a retry after the back-off, a new map) also takes the
 * files that failed before; the passes that new entries start skip them
 * (p->failed, sorted), so an OSD that stays down costs one retry per
 * back-off, not one per unlink.
 *
 * Threads: see purge_int.h.  The purger thread sleeps on mds_purge.cond
 * until kicked (a new entry, a new map on shard 0, the watch's answer) or
 * until the retry time; mds_purge_stop() wakes it and joins it.
 */
#include "mds/purge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "mds/daemon.h"
#include "mds/map.h"
#include "mds/mds.h"
#include "mds/purge_int.h"
#include "proto/admin.h"

#define PURGE_LIST_BATCH 64
#define PURGE_BACKOFF_MIN_MS 1000
#define PURGE_BACKOFF_MAX_MS 60000
#define PURGE_IDLE_MS 60000	    /* longest sleep */
#define PURGE_WATCH_GAP_MS 200	    /* between two MAP_GETs, at least */
#define PURGE_WATCH_RETRY_MS 1000   /* after a failed MAP_GET */
#define PURGE_FAILED_MAX (1u << 20) /* failed inos remembered, at most */

bool purge_stopping(struct mds_purge *p)
{
	bool stop;

	pthread_mutex_lock(&p->lock);
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

void mds_purge_kick(struct mds_purge *p)
{
	pthread_mutex_lock(&p->lock);
	p->kicked = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void purge_listen(void *arg)
{
	mds_purge_kick(arg);
}

/* ---- files that failed since the last full pass ---- */

/* Index of the first failed ino >= ino. */
static size_t purge_failed_find(const struct mds_purge *p, uint64_t ino)
{
	size_t lo = 0, hi = p->nfailed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->failed[mid] < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool purge_failed_has(const struct mds_purge *p, uint64_t ino)
{
	size_t i = purge_failed_find(p, ino);

	return i < p->nfailed && p->failed[i] == ino;
}

/* Remembers ino (without memory or room it is retried with the next pass). */
static void purge_failed_add(struct mds_purge *p, uint64_t ino)
{
	size_t i = purge_failed_find(p, ino);

	if (i < p->nfailed && p->failed[i] == ino)
		return;
	if (p->nfailed == p->failed_cap) {
		size_t cap = p->failed_cap ? p->failed_cap * 2 : 256;
		uint64_t *n;

		if (cap > PURGE_FAILED_MAX)
			return;
		n = realloc(p->failed, cap * sizeof(*n));
		if (!n)
			return;
		p->failed = n;
		p->failed_cap = cap;
	}
	memmove(&p->failed[i + 1], &p->failed[i], (p->nfailed - i) * sizeof(*p->failed));
	p->failed[i] = ino;
	p->nfailed++;
}

/* ---- passes ---- */

struct purge_tally {
	unsigned done, more, failed, skipped;
	bool list_failed;
};

/* One pass over the entries; full: failed files too. */
static void purge_pass(struct mds_purge *p, bool full, struct purge_tally *t)
{
	struct ns_purge list[PURGE_LIST_BATCH];
	uint64_t after = 0;
	uint32_t n = 0;
	int rc;

	do {
		rc = ns_purge_list(p->m->ns, after, list, PURGE_LIST_BATCH, &n);
		if (rc) {
			log_error("purge: cannot list the purge entries: %s", error_str(rc));
			t->list_failed = true;
			return;
		}
		for (uint32_t i = 0; i < n && !purge_stopping(p); i++) {
			after = list[i].ino;
			if (!full && purge_failed_has(p, after)) {
				t->skipped++;
				continue;
			}
			switch (purge_file_turn(p, &list[i])) {
			case PURGE_TURN_DONE:
				t->done++;
				break;
			case PURGE_TURN_MORE:
				t->more++;
				break;
			case PURGE_TURN_FAILED:
				t->failed++;
				purge_failed_add(p, after);
				break;
			}
		}
	} while (n == PURGE_LIST_BATCH && !purge_stopping(p));
}

/* Schedules what follows a pass: going on, a retry, or nothing. */
static void purge_schedule(struct mds_purge *p, bool full, const struct purge_tally *t)
{
	int64_t now = purge_now_ms();

	p->more = t->more > 0;
	if (t->failed == 0 && t->skipped == 0 && !t->list_failed) {
		p->retry_at_ms = 0;
		p->backoff_ms = PURGE_BACKOFF_MIN_MS;
		return;
	}
	if (!full && p->retry_at_ms)
		return; /* the retry already planned stands */
	p->retry_at_ms = now + p->backoff_ms;
	if (t->failed)
		log_info("purge: %u file%s kept for later (ino %#llx: OSD %d: %s); "
			 "next try in %d s",
			 t->failed, t->failed == 1 ? "" : "s", (unsigned long long)p->fail_ino,
			 p->fail_osd == PLACEMENT_NONE ? -1 : (int)p->fail_osd,
			 error_str(p->fail_err), p->backoff_ms / 1000);
	p->backoff_ms =
	    p->backoff_ms * 2 > PURGE_BACKOFF_MAX_MS ? PURGE_BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void purge_run(struct mds_purge *p, bool retry_due)
{
	struct purge_tally t = {0};
	bool full = p->full_due || retry_due;

	if (p->map.epoch == 0) {
		/* No map yet (shard 0 unreachable): its arrival starts a pass. */
		p->full_due = true;
		return;
	}
	if (full) {
		p->nfailed = 0;
		p->full_due = false;
	}
	purge_pass(p, full, &t);
	if (!purge_stopping(p))
		purge_schedule(p, full, &t);
}

/* ---- the map ---- */

/* Takes pm (newer than ours) as the map; failed files are retried at once. */
static void purge_map_install(struct mds_purge *p, struct proto_map *pm)
{
	log_debug("purge: cluster map epoch %llu", (unsigned long long)pm->epoch);
	proto_map_free(&p->map);
	p->map = *pm;
	memset(pm, 0, sizeof(*pm));
	purge_pgs_reset(p);
	purge_osds_sync(p);
	p->full_due = true;
	p->backoff_ms = PURGE_BACKOFF_MIN_MS;
	if (p->retry_at_ms)
		p->retry_at_ms = purge_now_ms();
}

static void purge_watch_done(void *arg, int status, struct rpc_msg *resp)
{
	struct mds_purge *p = arg;

	pthread_mutex_lock(&p->lock);
	p->watch_busy = false;
	p->watch_done = true;
	p->watch_status = status;
	rpc_msg_free(p->watch_resp);
	p->watch_resp = resp;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Takes the watch's answer, if in: a newer map is installed. */
static void purge_watch_take(struct mds_purge *p)
{
	struct rpc_msg *resp;
	struct proto_map pm;
	uint64_t epoch = 0;
	bool done;
	int rc;

	pthread_mutex_lock(&p->lock);
	done = p->watch_done;
	rc = p->watch_status;
	resp = p->watch_resp;
	p->watch_done = false;
	p->watch_resp = NULL;
	pthread_mutex_unlock(&p->lock);
	if (!done)
		return;
	if (rc == 0)
		rc = mds_map_reply_decode(resp->body, resp->body_len, resp->hdr.version, &pm,
					  &epoch);
	rpc_msg_free(resp);
	if (rc == 0 && pm.epoch > p->map.epoch)
		purge_map_install(p, &pm);
	else if (rc == 0)
		proto_map_free(&pm);
	if (rc == 0 || rc == -EAGAIN) {
		p->watch_failing = false;
		p->watch_next_ms = p->watch_sent_ms + PURGE_WATCH_GAP_MS;
		return;
	}
	if (!p->watch_failing)
		log_warn("purge: cannot watch the cluster map on shard 0: %s (retrying)",
			 error_str(rc));
	p->watch_failing = true;
	p->watch_next_ms = purge_now_ms() + PURGE_WATCH_RETRY_MS;
}

/* Sends the next MAP_GET to shard 0 when due. */
static void purge_watch_send(struct mds_purge *p)
{
	struct proto_admin_map_get_req q = {.known_epoch = p->map.epoch};
	int64_t now = purge_now_ms();
	uint8_t body[16];
	struct wire_enc e;
	bool busy;
	int rc;

	pthread_mutex_lock(&p->lock);
	busy = p->watch_busy;
	p->watch_busy = busy || now >= p->watch_next_ms;
	pthread_mutex_unlock(&p->lock);
	if (busy || now < p->watch_next_ms)
		return;
	wire_enc_init(&e, body, sizeof(body));
	proto_admin_map_get_req_encode(&q, &e);
	p->watch_sent_ms = now;
	rc = rpc_call_async(p->mds0,
			    &(struct rpc_call){.opcode = PROTO_OP_ADMIN_MAP_GET,
					       .body = body,
					       .body_len = (uint32_t)e.len},
			    purge_watch_done, p);
	if (rc == 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->watch_busy = false;
	pthread_mutex_unlock(&p->lock);
	p->watch_next_ms = now + PURGE_WATCH_RETRY_MS;
}

/* Brings p->map up to date: shard 0's own map, or the watch's answers. */
static void purge_map_update(struct mds_purge *p)
{
	struct proto_map pm;
	int rc;

	if (p->mds0) {
		purge_watch_take(p);
		purge_watch_send(p);
		return;
	}
	rc = mds_map_copy(p->m, p->map.epoch, &pm);
	if (rc == 0)
		purge_map_install(p, &pm);
	else if (rc != -EAGAIN)
		log_warn("purge: cannot read the cluster map: %s", error_str(rc));
}

/* ---- the thread ---- */

/* Sleeps until kicked, the retry time, or the next MAP_GET (lock held). */
static void purge_sleep_locked(struct mds_purge *p, int64_t now)
{
	int64_t until = now + PURGE_IDLE_MS;
	struct timespec ts;

	if (p->retry_at_ms && p->retry_at_ms < until)
		until = p->retry_at_ms;
	if (p->mds0 && !p->watch_busy && p->watch_next_ms < until)
		until = p->watch_next_ms;
	ts.tv_sec = until / 1000;
	ts.tv_nsec = (long)(until % 1000) * 1000000L;
	pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

static void *purge_main(void *arg)
{
	struct mds_purge *p = arg;

	pthread_setname_np(pthread_self(), "cairn-mds-purge");
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		int64_t now = purge_now_ms();
		bool retry = p->retry_at_ms && now >= p->retry_at_ms;
		bool run = p->kicked || retry || p->more;
		bool watch =
		    p->mds0 && (p->watch_done || (!p->watch_busy && now >= p->watch_next_ms));

		if (!run && !watch) {
			purge_sleep_locked(p, now);
			continue;
		}
		p->kicked = false;
		pthread_mutex_unlock(&p->lock);
		purge_map_update(p);
		if (run || p->full_due)
			purge_run(p, retry);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	purge_osds_free(p);
	rpc_client_free(p->mds0); /* cancels the watch */
	p->mds0 = NULL;
	return NULL;
}

/* ---- life cycle ---- */

struct mds_purge *mds_purge_new(struct mds *m)
{
	struct mds_purge *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p)
		return NULL;
	p->m = m;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->backoff_ms = PURGE_BACKOFF_MIN_MS;
	p->full_due = true;
	p->kicked = true; /* what earlier runs left */
	return p;
}

/* Shards other than 0: the client of shard 0 for the map watch. */
static int purge_connect_shard0(struct mds_purge *p)
{
	char addr[MDS_ADDR_MAX];
	int rc;

	rc = mds_addr_format(&p->m->cfg->mds.shards[0].addr, addr, sizeof(addr));
	if (rc)
		return -EINVAL;
	rc = rpc_client_new(addr, &p->opts, &p->mds0);
	if (rc)
		log_error("purge: no client for shard 0 at %s: %s", addr, error_str(rc));
	return rc;
}

int mds_purge_start(struct mds_purge *p)
{
	struct mds *m = p->m;
	int rc;

	if (p->started || !m->cfg || !m->ns || !m->engine || (m->shard == 0 && !m->map))
		return -EINVAL;
	p->opts = mds_rpc_opts_from_cfg(m->cfg, m->key, m->engine);
	p->stop = false;
	if (m->shard != 0) {
		rc = purge_connect_shard0(p);
		if (rc)
			return rc;
	} else {
		mds_map_listen(m, purge_listen, p);
	}
	rc = -pthread_create(&p->thread, NULL, purge_main, p);
	if (rc) {
		log_error("purge: cannot start the thread: %s", strerror(-rc));
		mds_map_listen(m, NULL, NULL);
		rpc_client_free(p->mds0);
		p->mds0 = NULL;
		return rc;
	}
	p->started = true;
	return 0;
}

void mds_purge_stop(struct mds_purge *p)
{
	if (!p || !p->started)
		return;
	mds_map_listen(p->m, NULL, NULL);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->started = false;
}

void mds_purge_free(struct mds_purge *p)
{
	if (!p)
		return;
	proto_map_free(&p->map);
	purge_pgs_reset(p);
	free(p->osds);
	free(p->failed);
	rpc_msg_free(p->watch_resp);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
