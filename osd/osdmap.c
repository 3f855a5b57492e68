/*
 * osdmap.c - the OSD's copy of the cluster map (osdmap.h).
 *
 * Snapshots: struct osd_map_snap owns a decoded map and, per pool, the
 * placement candidates (computed when installed) and a lazily filled cache
 * of acting sets: a PG's entry is computed by the first thread that needs
 * it and copied out by the others, all under the pool's mutex (held for a
 * copy, or for one placement computation).
 *
 * Locking: mh->lock guards mh->cur and the epoch; it is held only to swap
 * or take a reference.  References are atomic.
 */
#include "osd/osdmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "proto/map_place.h"

struct snap_pool {
	const struct proto_map_pool *pool;
	struct placement_osd *cand; /* placement candidates */
	size_t ncand;
	pthread_mutex_t lock;	   /* fills the cache */
	uint8_t *ready;		   /* per PG; NULL until first use (lock) */
	uint32_t *ids;		   /* pg_count * width */
	bool *up;		   /* pg_count * width */
};

struct osd_map_snap {
	atomic_int refs;
	struct proto_map map;
	struct snap_pool *pools; /* map.npools */
};

struct osd_map {
	uint32_t self;
	pthread_mutex_t lock;
	pthread_cond_t cond;	  /* a new map */
	struct osd_map_snap *cur; /* lock; holds one reference */
};

static void snap_free(struct osd_map_snap *s)
{
	for (uint32_t i = 0; s->pools && i < s->map.npools; i++) {
		struct snap_pool *p = &s->pools[i];

		free(p->cand);
		free(p->ready);
		free(p->ids);
		free(p->up);
		pthread_mutex_destroy(&p->lock);
	}
	free(s->pools);
	proto_map_free(&s->map);
	free(s);
}

static struct osd_map_snap *snap_new(struct proto_map *m)
{
	struct osd_map_snap *s = calloc(1, sizeof(*s));
	uint32_t i;

	if (!s)
		return NULL;
	s->map = *m;
	memset(m, 0, sizeof(*m));
	atomic_init(&s->refs, 1);
	s->pools = calloc(s->map.npools ? s->map.npools : 1, sizeof(*s->pools));
	if (!s->pools) {
		proto_map_free(&s->map);
		free(s);
		return NULL;
	}
	for (i = 0; i < s->map.npools; i++)
		pthread_mutex_init(&s->pools[i].lock, NULL);
	for (i = 0; i < s->map.npools; i++) {
		struct snap_pool *p = &s->pools[i];

		p->pool = &s->map.pools[i];
		p->cand = malloc((s->map.nosds ? s->map.nosds : 1) * sizeof(*p->cand));
		if (!p->cand || proto_map_place_osds(&s->map, p->pool, p->cand, &p->ncand) != 0)
			goto fail;
	}
	return s;
fail:
	snap_free(s);
	return NULL;
}

struct osd_map *osd_map_new(uint32_t self_id)
{
	struct osd_map *mh = calloc(1, sizeof(*mh));

	if (!mh)
		return NULL;
	mh->self = self_id;
	pthread_mutex_init(&mh->lock, NULL);
	pthread_cond_init(&mh->cond, NULL);
	return mh;
}

void osd_map_free(struct osd_map *mh)
{
	if (!mh)
		return;
	osd_map_put(mh->cur);
	pthread_cond_destroy(&mh->cond);
	pthread_mutex_destroy(&mh->lock);
	free(mh);
}

int osd_map_install(struct osd_map *mh, struct proto_map *m)
{
	struct osd_map_snap *s, *old = NULL;
	uint64_t epoch = m->epoch;

	pthread_mutex_lock(&mh->lock);
	if (mh->cur && mh->cur->map.epoch >= epoch) {
		pthread_mutex_unlock(&mh->lock);
		proto_map_free(m);
		return -ESTALE;
	}
	pthread_mutex_unlock(&mh->lock);
	s = snap_new(m); /* outside the lock: computes placement candidates */
	if (!s) {
		proto_map_free(m);
		return -ENOMEM;
	}
	pthread_mutex_lock(&mh->lock);
	if (mh->cur && mh->cur->map.epoch >= epoch) {
		old = s; /* a newer one won meanwhile */
	} else {
		old = mh->cur;
		mh->cur = s;
		pthread_cond_broadcast(&mh->cond);
	}
	pthread_mutex_unlock(&mh->lock);
	osd_map_put(old);
	if (old == s)
		return -ESTALE;
	log_debug("map: epoch %llu installed (%u OSDs, %u pools)", (unsigned long long)epoch,
		  s->map.nosds, s->map.npools);
	return 0;
}

struct osd_map_snap *osd_map_get(struct osd_map *mh)
{
	struct osd_map_snap *s;

	pthread_mutex_lock(&mh->lock);
	s = mh->cur;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&mh->lock);
	return s;
}

void osd_map_put(struct osd_map_snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s);
}

uint64_t osd_map_epoch(struct osd_map *mh)
{
	uint64_t e;

	pthread_mutex_lock(&mh->lock);
	e = mh->cur ? mh->cur->map.epoch : 0;
	pthread_mutex_unlock(&mh->lock);
	return e;
}

struct osd_map_snap *osd_map_wait(struct osd_map *mh, uint64_t epoch, int timeout_ms)
{
	struct timespec ts;
	struct osd_map_snap *s;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mh->lock);
	while (!mh->cur || mh->cur->map.epoch < epoch)
		if (pthread_cond_timedwait(&mh->cond, &mh->lock, &ts) == ETIMEDOUT)
			break;
	s = mh->cur;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&mh->lock);
	return s;
}

const struct proto_map *osd_map_snap_map(const struct osd_map_snap *s)
{
	return &s->map;
}

uint64_t osd_map_snap_epoch(const struct osd_map_snap *s)
{
	return s->map.epoch;
}

const struct proto_map_pool *osd_map_pool(const struct osd_map_snap *s, uint32_t pool_id)
{
	return proto_map_pool_find(&s->map, pool_id);
}

const struct proto_map_osd *osd_map_osd(const struct osd_map_snap *s, uint32_t osd_id)
{
	return proto_map_osd_find(&s->map, osd_id);
}

/* Allocates the pool's cache arrays (p->lock held).  0 or -ENOMEM. */
static int cache_alloc(struct snap_pool *p, unsigned width)
{
	size_t n = p->pool->pg_count;

	p->ids = malloc(n * width * sizeof(*p->ids));
	p->up = malloc(n * width * sizeof(*p->up));
	p->ready = calloc(n, sizeof(*p->ready));
	if (p->ids && p->up && p->ready)
		return 0;
	free(p->ids);
	free(p->up);
	free(p->ready);
	p->ids = NULL;
	p->up = NULL;
	p->ready = NULL;
	return -ENOMEM;
}

/* Computes PG pg's entry if no one has (p->lock held).  0 or -errno. */
static int cache_fill(struct snap_pool *p, uint32_t pg, unsigned width)
{
	int ret;

	if (!p->ready && cache_alloc(p, width) != 0)
		return -ENOMEM;
	if (p->ready[pg])
		return 0;
	ret = placement_acting_up(p->pool->id, pg, p->cand, p->ncand, width,
				  &p->ids[(size_t)pg * width], &p->up[(size_t)pg * width]);
	if (ret < 0)
		return ret;
	p->ready[pg] = 1;
	return 0;
}

int osd_map_acting(struct osd_map_snap *s, const struct proto_map_pool *pool, uint32_t pg,
		   struct osd_acting *out)
{
	struct snap_pool *p;
	unsigned width;
	int ret = 0;

	if (!s || !pool || pool < s->map.pools || pool >= s->map.pools + s->map.npools ||
	    pg >= pool->pg_count)
		return -EINVAL;
	p = &s->pools[pool - s->map.pools];
	width = (unsigned)pool->k + pool->m;
	if (width == 0 || width > PLACEMENT_MAX_WIDTH)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	ret = cache_fill(p, pg, width);
	if (ret == 0) {
		memcpy(out->ids, &p->ids[(size_t)pg * width], width * sizeof(*out->ids));
		memcpy(out->up, &p->up[(size_t)pg * width], width * sizeof(*out->up));
	}
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return ret;
	out->width = width;
	out->nup = 0;
	for (unsigned i = 0; i < width; i++)
		out->nup += out->up[i];
	out->primary = proto_map_primary(out->ids, out->up, width);
	return 0;
}

int osd_acting_pos(const struct osd_acting *a, uint32_t id)
{
	for (unsigned i = 0; i < a->width; i++)
		if (a->ids[i] == id)
			return (int)i;
	return -1;
}
