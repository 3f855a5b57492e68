/*
 * mdslink.c - registration, heartbeats and the map watch (mdslink.h).
 *
 * Every call is submitted under l->lock after checking l->stop, and waited
 * for outside it; stopping sets l->stop under the lock and then frees the
 * client, which completes the calls in flight with -ECANCELED.  So no call
 * is ever submitted on a freed client, and stop never waits for a watch to
 * time out.
 */
#include "osd/mdslink.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "osd/osd.h"
#include "osd/osdmap.h"
#include "osd/scrub.h"
#include "osd/store.h"
#include "proto/admin.h"

#define WATCH_TIMEOUT_MS 30000 /* shard 0 answers a watch within 10 s */
#define CALL_TIMEOUT_MS 5000
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 2000
/* A heartbeat body: fixed part, then PROTO_ADMIN_HB_POOLS_MAX pools. */
#define HB_BODY_MAX (4 + 8 + 8 + 4 * 8 + 4 + PROTO_ADMIN_HB_POOLS_MAX * (4 + 3 * 8))

struct osd_mdslink {
	struct osd *o;
	struct rpc_client *cli;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* stop */
	bool stop;	     /* lock */
	atomic_int registered;
	int heartbeat_ms;
	pthread_t hb, watch;
	bool hb_started, watch_started;
	/* Heartbeat thread only: the statistics it sends. */
	struct osd_pool_usage usage[PROTO_ADMIN_HB_POOLS_MAX];
	struct proto_admin_pool_usage hb_pools[PROTO_ADMIN_HB_POOLS_MAX];
	uint8_t hb_body[HB_BODY_MAX];
	bool pools_warned;
};

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int status;
	struct rpc_msg *resp;
};

static void waiter_done(void *arg, int status, struct rpc_msg *resp)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->lock);
	w->status = status;
	w->resp = resp;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* One call to shard 0.  Returns its status; *resp (may be NULL) to free. */
static int call(struct osd_mdslink *l, uint16_t op, const void *body, size_t len, int timeout_ms,
		struct rpc_msg **resp)
{
	struct waiter w = {.done = false};
	struct rpc_call c = {.opcode = op, .body = body, .body_len = (uint32_t)len,
			     .timeout_ms = timeout_ms};
	int ret;

	*resp = NULL;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&l->lock);
	ret = l->stop ? -ECANCELED : rpc_call_async(l->cli, &c, waiter_done, &w);
	pthread_mutex_unlock(&l->lock);
	if (ret == 0) {
		pthread_mutex_lock(&w.lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		ret = w.status;
		*resp = w.resp;
	}
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return ret;
}

/* Sleeps ms or until stop; returns true when stopping. */
static bool pause_ms(struct osd_mdslink *l, int ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->lock);
	if (!l->stop)
		pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	stop = l->stop;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

static uint64_t epoch_of(const struct rpc_msg *resp)
{
	struct proto_admin_epoch_rep rep = {0};
	struct wire_dec d;

	wire_dec_init(&d, resp->body, resp->body_len);
	return proto_admin_epoch_rep_decode(&d, &rep) == 0 ? rep.epoch : 0;
}

static int register_once(struct osd_mdslink *l)
{
	struct osd *o = l->o;
	struct osd_store_statfs sf = {0};
	struct proto_admin_osd_register_req q = {
		.id = o->id,
		.addr = {o->addr, (uint16_t)strlen(o->addr)},
		.host = {o->host, (uint16_t)strlen(o->host)},
		.media = o->media,
	};
	struct rpc_msg *resp;
	uint8_t body[1024];
	struct wire_enc e;
	size_t len = 0;
	int ret;

	osd_store_statfs(o->st, &sf);
	q.capacity = sf.capacity;
	wire_enc_init(&e, body, sizeof(body));
	proto_admin_osd_register_req_encode(&q, &e);
	if (wire_enc_finish(&e, &len) != 0)
		return -EINVAL;
	ret = call(l, PROTO_OP_ADMIN_OSD_REGISTER, body, len, CALL_TIMEOUT_MS, &resp);
	if (ret == 0)
		log_info("osd %u registered with the cluster map as %s (host %s), epoch %" PRIu64,
			 o->id, o->addr, o->host, epoch_of(resp));
	rpc_msg_free(resp);
	return ret;
}

/* Registers, retrying with back-off.  Returns false when stopping. */
static bool register_loop(struct osd_mdslink *l)
{
	int delay = RETRY_MIN_MS, failures = 0;
	int ret;

	while ((ret = register_once(l)) != 0) {
		if (ret == -ECANCELED)
			return false;
		if (failures++ == 0 || ret == -CAIRN_EAUTH)
			log_warn("registering with shard 0 failed: %s; retrying", error_str(ret));
		if (pause_ms(l, delay))
			return false;
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	atomic_store(&l->registered, 1);
	return true;
}

static int usage_cmp(const void *a, const void *b)
{
	const struct osd_pool_usage *x = a, *y = b;

	return x->pool < y->pool ? -1 : x->pool > y->pool;
}

/*
 * Fills the scrub counts and the pools of a heartbeat from the scrubber
 * and the store: pools sorted by id, at most PROTO_ADMIN_HB_POOLS_MAX of
 * them (the map holds no more; the rest is logged once and left out).
 */
static void heartbeat_stats(struct osd_mdslink *l, struct proto_admin_osd_heartbeat_req *q)
{
	struct osd_scrub_stats ss = {0};
	size_t n = 0, k = 0;

	if (l->o->scrub)
		osd_scrub_stats(l->o->scrub, &ss);
	q->scrub = (struct proto_admin_scrub_counts){.scrubbed = ss.versions,
						     .bad = ss.bad,
						     .repaired = ss.repaired,
						     .unrepairable = ss.unrepairable};
	if (osd_store_pools(l->o->st, l->usage, PROTO_ADMIN_HB_POOLS_MAX, &n) != 0)
		n = 0;
	if (n > PROTO_ADMIN_HB_POOLS_MAX) {
		if (!l->pools_warned)
			log_warn("osd %u holds chunks of %zu pools; heartbeats carry the usage of "
				 "%u of them",
				 l->o->id, n, PROTO_ADMIN_HB_POOLS_MAX);
		l->pools_warned = true;
		n = PROTO_ADMIN_HB_POOLS_MAX;
	}
	qsort(l->usage, n, sizeof(l->usage[0]), usage_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct osd_pool_usage *u = &l->usage[i];

		if (u->pool == 0 || (k > 0 && l->hb_pools[k - 1].pool_id == u->pool))
			continue; /* not a pool of the map; ids are unique anyway */
		l->hb_pools[k++] = (struct proto_admin_pool_usage){.pool_id = u->pool,
								   .chunks = u->chunks,
								   .logical = u->logical_bytes,
								   .stored = u->stored_bytes};
	}
	q->npools = (uint32_t)k;
	q->pools = l->hb_pools;
}

static int heartbeat(struct osd_mdslink *l)
{
	struct osd_store_statfs sf = {0};
	struct proto_admin_osd_heartbeat_req q = {.id = l->o->id,
						  .epoch = osd_map_epoch(l->o->map)};
	struct rpc_msg *resp;
	struct wire_enc e;
	size_t len = 0;
	int ret;

	osd_store_statfs(l->o->st, &sf);
	q.used = sf.used;
	heartbeat_stats(l, &q);
	wire_enc_init(&e, l->hb_body, sizeof(l->hb_body));
	proto_admin_osd_heartbeat_req_encode(&q, &e);
	if (wire_enc_finish(&e, &len) != 0)
		return -EINVAL;
	ret = call(l, PROTO_OP_ADMIN_OSD_HEARTBEAT, l->hb_body, len, CALL_TIMEOUT_MS, &resp);
	rpc_msg_free(resp);
	return ret;
}

static void *hb_main(void *arg)
{
	struct osd_mdslink *l = arg;
	int ret;

	if (!register_loop(l))
		return NULL;
	while (!pause_ms(l, l->heartbeat_ms)) {
		ret = heartbeat(l);
		if (ret == -ENOENT) {
			log_warn("shard 0 does not know osd %u any more; registering again",
				 l->o->id);
			if (!register_loop(l))
				break;
		} else if (ret && ret != -ECANCELED) {
			log_debug("heartbeat failed: %s", error_str(ret));
		}
	}
	return NULL;
}

/* Installs the map of a MAP_GET reply (if it carries one). */
static int take_map(struct osd_mdslink *l, const struct rpc_msg *resp)
{
	struct proto_admin_map_get_rep rep;
	struct proto_map map;
	uint32_t nosds, npools;
	struct wire_dec d;
	int ret;

	wire_dec_init(&d, resp->body, resp->body_len);
	if (proto_admin_map_get_rep_decode(&d, &rep) != 0)
		return -CAIRN_EBADFRAME;
	if (rep.map.len == 0)
		return 0; /* no change */
	wire_dec_init(&d, rep.map.ptr, rep.map.len);
	ret = proto_map_decode(&d, &map);
	if (ret)
		return ret;
	nosds = map.nosds;
	npools = map.npools;
	ret = osd_map_install(l->o->map, &map);
	if (ret == 0)
		log_info("cluster map epoch %" PRIu64 ": %u OSDs, %u pools", rep.epoch, nosds,
			 npools);
	return ret == -ESTALE ? 0 : ret;
}

static void *watch_main(void *arg)
{
	struct osd_mdslink *l = arg;
	int delay = RETRY_MIN_MS;

	for (;;) {
		struct proto_admin_map_get_req q = {.known_epoch = osd_map_epoch(l->o->map)};
		struct rpc_msg *resp;
		uint8_t body[16];
		struct wire_enc e;
		size_t len = 0;
		int ret;

		wire_enc_init(&e, body, sizeof(body));
		proto_admin_map_get_req_encode(&q, &e);
		wire_enc_finish(&e, &len);
		ret = call(l, PROTO_OP_ADMIN_MAP_GET, body, len, WATCH_TIMEOUT_MS, &resp);
		if (ret == 0)
			ret = take_map(l, resp);
		rpc_msg_free(resp);
		if (ret == -ECANCELED)
			break;
		if (ret == 0) {
			delay = RETRY_MIN_MS;
			continue;
		}
		log_debug("map watch: %s", error_str(ret));
		if (pause_ms(l, delay))
			break;
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	return NULL;
}

int osd_mdslink_start(struct osd *o, const char *mds_addr, struct osd_mdslink **out)
{
	struct osd_mdslink *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	l->o = o;
	l->heartbeat_ms = (int)o->cfg->mds.heartbeat_ms;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	ret = rpc_client_new(mds_addr, &o->rpc, &l->cli);
	if (ret == 0)
		ret = -pthread_create(&l->watch, NULL, watch_main, l);
	l->watch_started = ret == 0 && l->cli;
	if (ret == 0)
		ret = -pthread_create(&l->hb, NULL, hb_main, l);
	l->hb_started = ret == 0;
	if (ret) {
		osd_mdslink_stop(l);
		return ret;
	}
	*out = l;
	return 0;
}

bool osd_mdslink_registered(struct osd_mdslink *l)
{
	return atomic_load(&l->registered) != 0;
}

void osd_mdslink_stop(struct osd_mdslink *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	rpc_client_free(l->cli); /* completes the calls in flight */
	if (l->watch_started)
		pthread_join(l->watch, NULL);
	if (l->hb_started)
		pthread_join(l->hb, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
