/*
 * mdsc_map.c - the client's copy of the cluster map: fetched from shard 0
 * with MAP_GET, swapped in whole when a newer epoch arrives, and kept
 * current by a watcher thread that long-polls MAP_GET with the epoch it
 * has (shard 0 answers when the map changes or its wait times out).
 *
 * Threads: the watcher runs watch_main(); its call completes on an engine
 * I/O thread (watch_done) which only stores the answer under watch_lock.
 * Readers take a reference to the current snapshot under map_lock; a
 * snapshot is immutable and freed by its last reference.
 *
 * Stopping: mdsc_watch_stop() sets stop and joins the thread, which leaves
 * at once even with its MAP_GET still in flight; freeing the shard 0
 * client then completes that call (-ECANCELED) into the state here, and
 * mdsc_map_cleanup() frees what it carried.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "client/mdsc.h"
#include "client/mdsc_int.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "proto/admin.h"

/* A long poll may wait this much longer than an ordinary request. */
#define WATCH_EXTRA_MS 30000
/* Pause after a failed poll, and between polls that return at once. */
#define WATCH_BACKOFF_MS 1000
#define WATCH_MIN_POLL_MS 500

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t mdsc_map_epoch(const struct mdsc *m)
{
	return atomic_load(&((struct mdsc *)m)->epoch);
}

void mdsc_map_put(struct mdsc_map *mm)
{
	if (mm && atomic_fetch_sub(&mm->refs, 1) == 1) {
		proto_map_free(&mm->map);
		free(mm);
	}
}

static void install(struct mdsc *m, struct mdsc_map *mm)
{
	struct mdsc_map *old;

	pthread_mutex_lock(&m->map_lock);
	old = m->map;
	m->map = mm;
	atomic_store(&m->epoch, mm->map.epoch);
	pthread_mutex_unlock(&m->map_lock);
	if (!old || old->map.epoch != mm->map.epoch)
		log_info("cluster map epoch %llu", (unsigned long long)mm->map.epoch);
	mdsc_map_put(old);
}

/*
 * Decodes a MAP_GET reply and installs its map unless it is the epoch the
 * client has (shard 0 is the authority: an older epoch is installed too,
 * e.g. after the cluster was recreated).  *changed (may be NULL) tells.
 */
static int absorb_reply(struct mdsc *m, const struct rpc_msg *resp, bool *changed)
{
	struct proto_admin_map_get_rep rep;
	struct mdsc_map *mm;
	struct wire_dec d;
	int rc;

	if (changed)
		*changed = false;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_admin_map_get_rep_decode(&d, &rep), PROTO_OP_ADMIN_MAP_GET);
	if (rc)
		return rc;
	if (rep.map.len == 0)
		return 0; /* our epoch is current */
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	wire_dec_init(&d, rep.map.ptr, rep.map.len);
	wire_dec_set_version(&d, resp->hdr.version);
	rc = mdsc_dec_check(proto_map_decode(&d, &mm->map), PROTO_OP_ADMIN_MAP_GET);
	if (!rc && mm->map.epoch != rep.epoch) {
		log_error("cluster map: reply epoch %llu carries a map of epoch %llu",
			  (unsigned long long)rep.epoch, (unsigned long long)mm->map.epoch);
		proto_map_free(&mm->map);
		rc = -EIO;
	}
	if (rc) {
		free(mm);
		return rc;
	}
	atomic_init(&mm->refs, 1);
	if (mm->map.epoch == mdsc_map_epoch(m)) {
		mdsc_map_put(mm);
		return 0;
	}
	install(m, mm);
	if (changed)
		*changed = true;
	return 0;
}

static int encode_get(uint64_t known, uint8_t *buf, size_t cap, size_t *len)
{
	struct proto_admin_map_get_req req = {.known_epoch = known};
	struct wire_enc e;

	wire_enc_init(&e, buf, cap);
	proto_admin_map_get_req_encode(&req, &e);
	return wire_enc_finish(&e, len);
}

int mdsc_map_refresh(struct mdsc *m, uint64_t *epoch)
{
	struct rpc_msg *resp;
	uint8_t buf[16];
	size_t len;
	int rc;

	rc = encode_get(0, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	rc = mdsc_call(m, 0, PROTO_OP_ADMIN_MAP_GET, buf, len, 0, &resp);
	if (rc)
		return rc;
	rc = absorb_reply(m, resp, NULL);
	rpc_msg_free(resp);
	if (!rc && epoch)
		*epoch = mdsc_map_epoch(m);
	return rc;
}

int mdsc_map_get(struct mdsc *m, struct mdsc_map **out)
{
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		pthread_mutex_lock(&m->map_lock);
		*out = m->map;
		if (*out)
			atomic_fetch_add(&(*out)->refs, 1);
		pthread_mutex_unlock(&m->map_lock);
		if (*out)
			return 0;
		rc = mdsc_map_refresh(m, NULL);
		if (rc)
			return rc;
	}
	return -EIO;
}

static void watch_done(void *arg, int status, struct rpc_msg *resp)
{
	struct mdsc *m = arg;

	pthread_mutex_lock(&m->watch_lock);
	m->w_status = status;
	m->w_resp = resp;
	m->w_done = true;
	pthread_cond_signal(&m->watch_cond);
	pthread_mutex_unlock(&m->watch_lock);
}

/* Sleeps up to ms unless asked to stop.  Called and returns with watch_lock. */
static void watch_pause(struct mdsc *m, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!m->stop && pthread_cond_timedwait(&m->watch_cond, &m->watch_lock, &ts) == 0)
		;
}

/*
 * One long poll.  Called with watch_lock held; returns with it held, the
 * reply (or NULL) in *resp, and its status; -ECANCELED when stopping.
 */
static int watch_poll(struct mdsc *m, struct rpc_msg **resp)
{
	struct rpc_call call = {.opcode = PROTO_OP_ADMIN_MAP_GET,
				.timeout_ms = m->timeout_ms + WATCH_EXTRA_MS};
	uint8_t buf[16];
	size_t len;
	int rc;

	*resp = NULL;
	rc = encode_get(mdsc_map_epoch(m), buf, sizeof(buf), &len);
	if (rc)
		return rc;
	call.body = buf;
	call.body_len = (uint32_t)len;
	m->w_done = false;
	m->w_inflight = true;
	pthread_mutex_unlock(&m->watch_lock);
	rc = rpc_call_async(m->cli[0], &call, watch_done, m);
	pthread_mutex_lock(&m->watch_lock);
	if (rc) {
		m->w_inflight = false;
		return rc;
	}
	while (!m->w_done && !m->stop)
		pthread_cond_wait(&m->watch_cond, &m->watch_lock);
	if (!m->w_done)
		return -ECANCELED; /* stopping; the call is collected at cleanup */
	m->w_inflight = false;
	*resp = m->w_resp;
	m->w_resp = NULL;
	return m->w_status;
}

static void *watch_main(void *arg)
{
	struct mdsc *m = arg;
	struct rpc_msg *resp;
	int64_t start;
	bool changed;
	int rc;

	pthread_mutex_lock(&m->watch_lock);
	while (!m->stop) {
		start = now_ms();
		rc = watch_poll(m, &resp);
		if (m->stop) {
			rpc_msg_free(resp);
			break;
		}
		changed = false;
		if (!rc) {
			pthread_mutex_unlock(&m->watch_lock);
			rc = absorb_reply(m, resp, &changed);
			pthread_mutex_lock(&m->watch_lock);
		}
		rpc_msg_free(resp);
		if (rc && rc != -ETIMEDOUT) {
			log_debug("cluster map watch: %s", error_str(rc));
			watch_pause(m, WATCH_BACKOFF_MS);
		} else if (!rc && !changed && now_ms() - start < WATCH_MIN_POLL_MS) {
			watch_pause(m, WATCH_MIN_POLL_MS); /* shard 0 did not wait */
		}
	}
	pthread_mutex_unlock(&m->watch_lock);
	return NULL;
}

int mdsc_watch_start(struct mdsc *m)
{
	int rc = pthread_create(&m->watcher, NULL, watch_main, m);

	if (rc)
		return -rc;
	m->watching = true;
	return 0;
}

void mdsc_watch_stop(struct mdsc *m)
{
	if (!m->watching)
		return;
	pthread_mutex_lock(&m->watch_lock);
	m->stop = true;
	pthread_cond_broadcast(&m->watch_cond);
	pthread_mutex_unlock(&m->watch_lock);
	pthread_join(m->watcher, NULL);
	m->watching = false;
}

void mdsc_map_cleanup(struct mdsc *m)
{
	/* The shard clients are gone: a call still in flight has completed. */
	rpc_msg_free(m->w_resp);
	m->w_resp = NULL;
	mdsc_map_put(m->map);
	m->map = NULL;
}
