/*
 * scrub.c - background and on-demand scrub, and repair (scrub.h).
 *
 * A walk visits the PGs that hold chunks (a list taken when it starts) in
 * order, and each PG's chunks by cursor in batches; every version of every
 * chunk is verified.  The background walk keeps its position across
 * requests; a request gets a walk of its own at full speed.  The rate limit
 * is a deadline per byte: after verifying n bytes since the pass began, the
 * thread sleeps until start + n / rate (waking early for a request or
 * stop, which ends the wait but not the batch).
 *
 * Threads: one scrub thread; sc->lock guards the request queue and flags.
 */
#include "osd/scrub.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/erasure.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "osd/osd.h"
#include "osd/osdmap.h"
#include "osd/store.h"
#include "osd/stripe.h"

#define BATCH 64
#define IDLE_MS 1000 /* between background passes that found nothing to check */

struct sreq {
	struct sreq *next;
	struct rpc_req *req;
	struct proto_osd_scrub_req q;
};

struct pgref {
	uint32_t pool;
	uint32_t pg;
};

/* A chunk to verify, copied out of a listing. */
struct item {
	struct osd_chunk_id id;
	uint32_t n;
	struct osd_chunk_version *v;
};

struct walk {
	uint32_t pool; /* 0: every pool */
	bool repair;
	bool throttle;
	struct pgref *pgs;
	size_t npgs, cap, at;
	bool listed; /* pgs taken */
	struct osd_store_cursor cur;
	double start;		    /* of the pass, for the rate */
	struct proto_osd_scrub_rep counts; /* of the pass */
};

struct osd_scrub {
	struct osd *o;
	uint64_t rate;
	pthread_t th;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sreq *head, *tail; /* lock */
	bool quiesced;		  /* lock */
	bool stop;		  /* lock */
	atomic_uint_fast64_t versions, bytes, bad, repaired, unrepairable;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- repair ------------------------------------------------------------------------ */

/* Rebuilds position idx of the stripe from the others at version v into bufs[idx]. */
static int rebuild(struct osd *o, struct osd_map_snap *snap, struct osd_stripe *s, unsigned idx,
		   uint64_t v, uint8_t **bufs, uint32_t *len)
{
	bool want[PLACEMENT_MAX_WIDTH], got[PLACEMENT_MAX_WIDTH];
	uint32_t lens[PLACEMENT_MAX_WIDTH];
	unsigned k = s->pool->k, w = s->act.width, n;
	struct erasure *ec;
	int ret;

	for (unsigned i = 0; i < w; i++)
		want[i] = i != idx;
	n = osd_stripe_read_version(o, snap, s, v, want, bufs, lens, got);
	if (n < k) {
		log_error("scrub: only %u chunks of stripe %016" PRIx64 ".%" PRIu64 " v%" PRIx64
			  " readable, %u needed to repair",
			  n, s->ino, s->stripe, v, k);
		return -EIO;
	}
	ec = erasure_new(k, s->pool->m);
	if (!ec)
		return -ENOMEM;
	got[idx] = false;
	ret = erasure_decode(ec, bufs, got, s->pool->chunk_size);
	erasure_free(ec);
	*len = 0;
	for (unsigned i = 0; i < w; i++)
		if (got[i] && lens[i] > *len)
			*len = lens[i];
	return ret;
}

/* Rewrites a damaged version from the other chunks of its stripe. */
static int repair(struct osd *o, const struct osd_chunk_id *id, const struct osd_chunk_version *v)
{
	struct osd_map_snap *snap = osd_map_get(o->map);
	struct osd_stripe s = {.ino = id->ino, .stripe = id->stripe, .pg = id->pg};
	uint8_t *bufs[PLACEMENT_MAX_WIDTH], *mem = NULL;
	uint32_t len = 0, cs;
	int ret = -ENOENT;

	if (!snap)
		return -EAGAIN;
	s.pool = osd_map_pool(snap, id->pool);
	if (!s.pool || id->idx >= (unsigned)s.pool->k + s.pool->m)
		goto out;
	cs = s.pool->chunk_size;
	ret = osd_map_acting(snap, s.pool, s.pg, &s.act);
	if (ret)
		goto out;
	s.self = osd_acting_pos(&s.act, o->id);
	ret = -ENOMEM;
	if (posix_memalign((void **)&mem, 4096, (size_t)s.act.width * cs) != 0)
		goto out;
	for (unsigned i = 0; i < s.act.width; i++)
		bufs[i] = mem + (size_t)i * cs;
	ret = rebuild(o, snap, &s, id->idx, v->version, bufs, &len);
	if (ret)
		goto out;
	if (!(v->flags & OSD_CHUNK_DAMAGED) && v->length <= cs)
		len = (uint32_t)v->length; /* its own length; the others' is only a bound */
	ret = osd_store_write(o->st, id, v->version, 0, bufs[id->idx], len,
			      OSD_STORE_REPAIR |
				      (s.pool->compression == PROTO_COMPRESS_ZSTD ? OSD_STORE_COMPRESS
										   : 0));
	if (ret == 0)
		ret = osd_store_verify(o->st, id, v->version);
out:
	free(mem);
	osd_map_put(snap);
	return ret;
}

/* ---- walking ------------------------------------------------------------------------ */

static int pg_add(uint32_t pool, uint32_t pg, uint64_t nchunks, void *arg)
{
	struct walk *w = arg;

	(void)nchunks;
	if (w->pool && pool != w->pool)
		return 0;
	if (w->npgs == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct pgref *n = realloc(w->pgs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->pgs = n;
		w->cap = cap;
	}
	w->pgs[w->npgs++] = (struct pgref){pool, pg};
	return 0;
}

struct batch {
	struct item items[BATCH];
	unsigned n;
};

static int batch_add(const struct osd_chunk_info *info, void *arg)
{
	struct batch *b = arg;
	struct item *it = &b->items[b->n];

	it->v = malloc(info->nversions * sizeof(*it->v));
	if (!it->v)
		return -ENOMEM;
	it->id = info->id;
	it->n = info->nversions;
	memcpy(it->v, info->versions, info->nversions * sizeof(*it->v));
	b->n++;
	return 0;
}

/* Sleeps until the rate allows the bytes verified so far, or a request/stop. */
static void throttle(struct osd_scrub *sc, struct walk *w)
{
	double due = w->start + (double)w->counts.bytes / (double)sc->rate;
	struct timespec ts = {.tv_sec = (time_t)due,
			      .tv_nsec = (long)((due - (double)(time_t)due) * 1e9)};

	pthread_mutex_lock(&sc->lock);
	while (!sc->stop && !sc->quiesced && !sc->head && now_s() < due)
		if (pthread_cond_timedwait(&sc->cond, &sc->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sc->lock);
}

static void verify_one(struct osd_scrub *sc, struct walk *w, const struct osd_chunk_id *id,
		       const struct osd_chunk_version *v)
{
	int ret = osd_store_verify(sc->o->st, id, v->version);

	if (ret == -ENOENT)
		return; /* trimmed or deleted meanwhile */
	w->counts.versions++;
	w->counts.bytes += v->stored;
	atomic_fetch_add(&sc->versions, 1);
	atomic_fetch_add(&sc->bytes, v->stored);
	if (ret == 0)
		return;
	log_error("scrub: chunk %" PRIu32 "/%" PRIu32 "/%016" PRIx64 ".%" PRIu64 ".%u v%" PRIx64
		  " failed verification: %s",
		  id->pool, id->pg, id->ino, id->stripe, (unsigned)id->idx, v->version,
		  error_str(ret));
	w->counts.bad++;
	atomic_fetch_add(&sc->bad, 1);
	if (!w->repair)
		return;
	ret = repair(sc->o, id, v);
	if (ret) {
		log_error("scrub: repairing chunk %016" PRIx64 ".%" PRIu64 ".%u v%" PRIx64
			  " failed: %s",
			  id->ino, id->stripe, (unsigned)id->idx, v->version, error_str(ret));
		atomic_fetch_add(&sc->unrepairable, 1);
		return;
	}
	log_info("scrub: chunk %016" PRIx64 ".%" PRIu64 ".%u v%" PRIx64
		 " repaired from its stripe",
		 id->ino, id->stripe, (unsigned)id->idx, v->version);
	w->counts.repaired++;
	atomic_fetch_add(&sc->repaired, 1);
}

static bool stopping(struct osd_scrub *sc)
{
	bool s;

	pthread_mutex_lock(&sc->lock);
	s = sc->stop || sc->quiesced;
	pthread_mutex_unlock(&sc->lock);
	return s;
}

static void batch_run(struct osd_scrub *sc, struct walk *w, struct batch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		for (uint32_t j = 0; j < b->items[i].n && !stopping(sc); j++) {
			verify_one(sc, w, &b->items[i].id, &b->items[i].v[j]);
			if (w->throttle)
				throttle(sc, w);
		}
		free(b->items[i].v);
	}
	b->n = 0;
}

/* One batch of the walk.  Returns 1 when the pass is over, 0 to go on, -errno. */
static int walk_step(struct osd_scrub *sc, struct walk *w)
{
	struct batch b = {.n = 0};
	struct pgref *pg;
	int ret;

	if (!w->listed) {
		w->npgs = w->at = 0;
		w->start = now_s();
		w->cur = (struct osd_store_cursor)OSD_STORE_CURSOR_INIT;
		memset(&w->counts, 0, sizeof(w->counts));
		ret = osd_store_foreach_pg(sc->o->st, pg_add, w);
		if (ret)
			return ret;
		w->listed = true;
	}
	if (w->at >= w->npgs) {
		w->listed = false;
		return 1;
	}
	pg = &w->pgs[w->at];
	ret = osd_store_list_pg(sc->o->st, pg->pool, pg->pg, &w->cur, BATCH, batch_add, &b);
	batch_run(sc, w, &b);
	if (ret)
		return ret;
	if (osd_store_cursor_done(&w->cur)) {
		w->at++;
		w->cur = (struct osd_store_cursor)OSD_STORE_CURSOR_INIT;
	}
	return 0;
}

/* ---- the thread ---------------------------------------------------------------------- */

static void reply_scrub(struct rpc_req *req, int status, const struct proto_osd_scrub_rep *rep)
{
	uint8_t body[64];
	struct wire_enc e;
	size_t len = 0;

	if (status) {
		rpc_reply(req, status, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_scrub_rep_encode(rep, &e);
	wire_enc_finish(&e, &len);
	rpc_reply(req, 0, body, (uint32_t)len, NULL, 0, NULL, NULL);
}

static void run_request(struct osd_scrub *sc, struct sreq *r)
{
	struct walk w = {.pool = r->q.pool_id, .repair = (r->q.flags & PROTO_OSD_SCRUB_REPAIR) != 0};
	int ret;

	log_info("scrub: pass requested by %s (pool %u%s)", rpc_req_peer(r->req), r->q.pool_id,
		 w.repair ? ", repair" : "");
	while ((ret = walk_step(sc, &w)) == 0 && !stopping(sc))
		;
	if (ret >= 0 && stopping(sc))
		ret = -ESHUTDOWN;
	log_info("scrub: requested pass over: %" PRIu64 " versions, %" PRIu64 " bytes, %" PRIu64
		 " bad, %" PRIu64 " repaired",
		 w.counts.versions, w.counts.bytes, w.counts.bad, w.counts.repaired);
	reply_scrub(r->req, ret < 0 ? ret : 0, &w.counts);
	free(w.pgs);
	free(r);
}

/* Waits for work (lock held): a request, or the background's next step. */
static void idle_wait(struct osd_scrub *sc, int ms)
{
	struct timespec ts;

	if (ms < 0) {
		pthread_cond_wait(&sc->cond, &sc->lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&sc->cond, &sc->lock, &ts);
}

static void *scrub_main(void *arg)
{
	struct osd_scrub *sc = arg;
	struct walk bg = {.repair = true, .throttle = true};
	int ret;

	pthread_mutex_lock(&sc->lock);
	while (!sc->stop) {
		struct sreq *r = sc->head;

		if (r) {
			sc->head = r->next;
			if (!sc->head)
				sc->tail = NULL;
			pthread_mutex_unlock(&sc->lock);
			run_request(sc, r);
			pthread_mutex_lock(&sc->lock);
			continue;
		}
		if (sc->rate == 0 || sc->quiesced) {
			idle_wait(sc, -1);
			continue;
		}
		pthread_mutex_unlock(&sc->lock);
		ret = walk_step(sc, &bg);
		if (ret == 1)
			log_debug("scrub: background pass over: %" PRIu64 " versions, %" PRIu64
				  " bad",
				  bg.counts.versions, bg.counts.bad);
		pthread_mutex_lock(&sc->lock);
		if (ret < 0 || (ret == 1 && bg.counts.versions == 0))
			idle_wait(sc, IDLE_MS);
	}
	pthread_mutex_unlock(&sc->lock);
	free(bg.pgs);
	osd_store_thread_cleanup();
	return NULL;
}

int osd_scrub_start(struct osd *o, uint64_t rate, struct osd_scrub **out)
{
	struct osd_scrub *sc = calloc(1, sizeof(*sc));
	int ret;

	if (!sc)
		return -ENOMEM;
	sc->o = o;
	sc->rate = rate;
	pthread_mutex_init(&sc->lock, NULL);
	pthread_cond_init(&sc->cond, NULL);
	ret = -pthread_create(&sc->th, NULL, scrub_main, sc);
	if (ret) {
		osd_scrub_stop(sc);
		return ret;
	}
	sc->started = true;
	*out = sc;
	return 0;
}

void osd_scrub_request(struct osd_scrub *sc, struct rpc_req *req,
		       const struct proto_osd_scrub_req *q)
{
	struct sreq *r = calloc(1, sizeof(*r));

	if (!r) {
		rpc_reply(req, -ENOMEM, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	r->req = req;
	r->q = *q;
	pthread_mutex_lock(&sc->lock);
	if (sc->quiesced) {
		pthread_mutex_unlock(&sc->lock);
		rpc_reply(req, -ESHUTDOWN, NULL, 0, NULL, 0, NULL, NULL);
		free(r);
		return;
	}
	if (sc->tail)
		sc->tail->next = r;
	else
		sc->head = r;
	sc->tail = r;
	pthread_cond_broadcast(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
}

void osd_scrub_stats(struct osd_scrub *sc, struct osd_scrub_stats *out)
{
	/*
	 * Each counter grows only after the ones it is bounded by (versions,
	 * then bad, then repaired or unrepairable), so loading them in the
	 * reverse order keeps repaired + unrepairable <= bad <= versions.
	 */
	out->repaired = atomic_load(&sc->repaired);
	out->unrepairable = atomic_load(&sc->unrepairable);
	out->bad = atomic_load(&sc->bad);
	out->bytes = atomic_load(&sc->bytes);
	out->versions = atomic_load(&sc->versions);
}

void osd_scrub_quiesce(struct osd_scrub *sc)
{
	struct sreq *r;

	pthread_mutex_lock(&sc->lock);
	sc->quiesced = true;
	r = sc->head;
	sc->head = sc->tail = NULL;
	pthread_cond_broadcast(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
	while (r) {
		struct sreq *next = r->next;

		rpc_reply(r->req, -ESHUTDOWN, NULL, 0, NULL, 0, NULL, NULL);
		free(r);
		r = next;
	}
}

void osd_scrub_stop(struct osd_scrub *sc)
{
	if (!sc)
		return;
	osd_scrub_quiesce(sc);
	pthread_mutex_lock(&sc->lock);
	sc->stop = true;
	pthread_cond_broadcast(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
	if (sc->started)
		pthread_join(sc->th, NULL);
	pthread_cond_destroy(&sc->cond);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
