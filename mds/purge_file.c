/*
 * purge_file.c - one turn of one purge entry (purge_int.h): its stripes
 * go through a ring of PURGE_SLOTS slots, each stripe's chunks to the OSDs
 * of its acting set as CHUNK_DELETE calls, at most PURGE_INFLIGHT calls in
 * flight; answered stripes are retired in order, so the progress saved is
 * always "every stripe below is deleted".
 *
 * Threads: the purger thread issues calls and retires stripes; completions
 * (purge_call_done) run on the engine's I/O threads and only count under
 * mds_purge.lock.  The OSD clients and the acting-set cache belong to the
 * purger thread; a client is freed only with nothing in flight on it, or
 * to cancel what is (stop).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "mds/commit.h"
#include "mds/mds.h"
#include "mds/purge_int.h"
#include "proto/map_place.h"
#include "proto/osd.h"

#define PURGE_PG_CACHE_MAX (1u << 20) /* acting-set positions cached, at most */
#define PURGE_BODY_MAX 64

/* The progress of one turn. */
struct purge_run {
	struct ns_purge e;		   /* next_stripe: as saved */
	const struct proto_map_pool *pool; /* in p->map */
	unsigned width;			   /* k + m */
	uint64_t end;			   /* stripes of the file */
	uint64_t stop_at;		   /* end of this turn */
	uint64_t head, tail;		   /* stripes issued, retired */
	uint64_t first_failed;		   /* UINT64_MAX: none */
	uint64_t deleted;		   /* chunks the OSDs removed */
	int err;
	uint32_t err_osd;
};

/* ---- OSD clients ---- */

static void purge_osd_drop(struct mds_purge *p, size_t i)
{
	rpc_client_free(p->osds[i].cli);
	p->osds[i] = p->osds[--p->nosds];
}

void purge_osds_free(struct mds_purge *p)
{
	while (p->nosds)
		purge_osd_drop(p, p->nosds - 1);
}

void purge_osds_sync(struct mds_purge *p)
{
	size_t i = 0;

	while (i < p->nosds) {
		const struct proto_map_osd *o = proto_map_osd_find(&p->map, p->osds[i].id);

		if (o && o->addr.len == strlen(p->osds[i].addr) &&
		    memcmp(o->addr.ptr, p->osds[i].addr, o->addr.len) == 0)
			i++;
		else
			purge_osd_drop(p, i);
	}
}

/* The client of OSD o, created on first use.  0 or -errno. */
static int purge_osd_client(struct mds_purge *p, const struct proto_map_osd *o,
			    struct rpc_client **out)
{
	struct purge_osd *n;
	int rc;

	for (size_t i = 0; i < p->nosds; i++) {
		if (p->osds[i].id == o->id) {
			*out = p->osds[i].cli;
			return 0;
		}
	}
	if (o->addr.len == 0 || o->addr.len > PROTO_ADDR_MAX)
		return -EINVAL;
	if (p->nosds == p->osd_cap) {
		size_t cap = p->osd_cap ? p->osd_cap * 2 : 16;

		n = realloc(p->osds, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->osds = n;
		p->osd_cap = cap;
	}
	n = &p->osds[p->nosds];
	n->id = o->id;
	memcpy(n->addr, o->addr.ptr, o->addr.len);
	n->addr[o->addr.len] = '\0';
	rc = rpc_client_new(n->addr, &p->opts, &n->cli);
	if (rc) {
		log_warn("purge: no client for OSD %u at %s: %s", o->id, n->addr, error_str(rc));
		return rc;
	}
	p->nosds++;
	*out = n->cli;
	return 0;
}

/* ---- acting sets ---- */

void purge_pgs_reset(struct mds_purge *p)
{
	free(p->pgs.ids);
	free(p->pgs.up);
	free(p->pgs.have);
	p->pgs.ids = NULL;
	p->pgs.up = NULL;
	p->pgs.have = NULL;
	p->pgs.pool_id = 0;
}

/* Sets the cache up for pool when it fits (else lookups are not cached). */
static void purge_pgs_for(struct mds_purge *p, const struct proto_map_pool *pool, unsigned width)
{
	size_t n = (size_t)pool->pg_count * width;

	if (p->pgs.pool_id == pool->id)
		return;
	purge_pgs_reset(p);
	if (n > PURGE_PG_CACHE_MAX)
		return;
	p->pgs.ids = malloc(n * sizeof(*p->pgs.ids));
	p->pgs.up = malloc(n * sizeof(*p->pgs.up));
	p->pgs.have = calloc(pool->pg_count, 1);
	if (!p->pgs.ids || !p->pgs.up || !p->pgs.have) {
		purge_pgs_reset(p);
		return;
	}
	p->pgs.pool_id = pool->id;
	p->pgs.pg_count = pool->pg_count;
	p->pgs.width = width;
}

/* The acting set of a stripe by p->map (proto_map_acting).  0 or -errno. */
static int purge_acting(struct mds_purge *p, const struct purge_run *r, uint64_t stripe,
			const uint32_t **ids, const bool **up)
{
	uint32_t pg = placement_pg(r->e.ino, stripe, r->pool->pg_count);
	uint32_t *di = p->pgs.tmp_ids;
	bool *du = p->pgs.tmp_up;
	int rc;

	purge_pgs_for(p, r->pool, r->width);
	if (p->pgs.pool_id == r->pool->id) {
		di = p->pgs.ids + (size_t)pg * r->width;
		du = p->pgs.up + (size_t)pg * r->width;
		if (p->pgs.have[pg])
			goto out;
	}
	rc = proto_map_acting(&p->map, r->pool, pg, di, du);
	if (rc < 0)
		return rc;
	if (p->pgs.pool_id == r->pool->id)
		p->pgs.have[pg] = 1;
out:
	*ids = di;
	*up = du;
	return 0;
}

/* ---- calls ---- */

static void purge_call_done(void *arg, int status, struct rpc_msg *resp)
{
	struct purge_call *c = arg;
	struct mds_purge *p = c->p;
	struct purge_slot *s = &p->slots[c->slot];

	rpc_msg_free(resp);
	pthread_mutex_lock(&p->lock);
	if (status == 0) {
		s->deleted++;
	} else if (status != -ENOENT && s->err == 0) {
		/* -ENOENT: no such chunk (or pool) there, which is the goal. */
		s->err = status;
		s->err_osd = c->osd;
	}
	s->left--;
	p->inflight--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The position's OSD and its client, or the reason there is none. */
static int purge_target(struct mds_purge *p, uint32_t id, bool up, struct rpc_client **cli)
{
	const struct proto_map_osd *o = proto_map_osd_find(&p->map, id);

	if (!o || !up || !(o->flags & PROTO_MAP_OSD_UP))
		return -EHOSTDOWN;
	return purge_osd_client(p, o, cli);
}

/* Sends CHUNK_DELETE of index idx of stripe to cli; 0 or -errno (no call). */
static int purge_send(struct mds_purge *p, const struct purge_run *r, uint64_t stripe, unsigned idx,
		      struct rpc_client *cli, struct purge_call *c)
{
	struct proto_osd_chunk_delete_req q = {.map_epoch = p->map.epoch,
					       .pool_id = r->e.layout.pool_id,
					       .id = {r->e.ino, stripe, (uint8_t)idx}};
	uint8_t body[PURGE_BODY_MAX];
	struct wire_enc e;
	size_t len = 0;
	int tmo = p->opts.timeout_ms > 0 && p->opts.timeout_ms < PURGE_CALL_MS ? p->opts.timeout_ms
									       : PURGE_CALL_MS;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_delete_req_encode(&q, &e);
	if (wire_enc_finish(&e, &len))
		return -EINVAL;
	return rpc_call_async(cli,
			      &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_DELETE,
						 .body = body,
						 .body_len = (uint32_t)len,
						 .timeout_ms = tmo},
			      purge_call_done, c);
}

/* Issues every chunk of stripe (room was made for it). */
static void purge_issue(struct mds_purge *p, const struct purge_run *r, uint64_t stripe)
{
	uint16_t slot = (uint16_t)(stripe % PURGE_SLOTS);
	struct purge_slot *s = &p->slots[slot];
	struct rpc_client *cli[PLACEMENT_MAX_WIDTH] = {0};
	const uint32_t *ids = NULL;
	const bool *up = NULL;
	uint32_t err_osd = PLACEMENT_NONE;
	unsigned nsend = 0, placed = 0;
	int err = purge_acting(p, r, stripe, &ids, &up);

	for (unsigned i = 0; ids && i < r->width; i++)
		placed += ids[i] != PLACEMENT_NONE;
	if (ids && placed < r->e.layout.k && err == 0) {
		/*
		 * A map with fewer OSDs than a stripe needs (the first maps of a
		 * starting cluster) cannot be the one the file was written with:
		 * the deletes would miss its chunks.  Wait for a newer one.
		 */
		err = -EAGAIN;
		ids = NULL;
	}
	for (unsigned i = 0; ids && i < r->width; i++) {
		int rc;

		if (ids[i] == PLACEMENT_NONE)
			continue; /* no OSD holds this position */
		rc = purge_target(p, ids[i], up[i], &cli[i]);
		if (rc == 0) {
			nsend++;
		} else if (err == 0) {
			err = rc;
			err_osd = ids[i];
		}
	}
	pthread_mutex_lock(&p->lock);
	*s = (struct purge_slot){.left = nsend, .err = err, .err_osd = err_osd};
	p->inflight += nsend;
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; ids && i < r->width; i++) {
		struct purge_call *c = &p->calls[slot][i];

		if (!cli[i])
			continue;
		*c = (struct purge_call){.p = p, .slot = slot, .osd = ids[i]};
		if (purge_send(p, r, stripe, i, cli[i], c) == 0)
			continue;
		pthread_mutex_lock(&p->lock);
		if (s->err == 0) {
			s->err = -EAGAIN;
			s->err_osd = ids[i];
		}
		s->left--;
		p->inflight--;
		pthread_mutex_unlock(&p->lock);
	}
}

/* ---- the window ---- */

/* Retires the answered stripes at the tail, in order (lock held). */
static void purge_retire_locked(struct mds_purge *p, struct purge_run *r)
{
	while (r->tail < r->head) {
		struct purge_slot *s = &p->slots[r->tail % PURGE_SLOTS];

		if (s->left)
			break;
		r->deleted += s->deleted;
		if (s->err && r->first_failed == UINT64_MAX) {
			r->first_failed = r->tail;
			r->err = s->err;
			r->err_osd = s->err_osd;
		}
		r->tail++;
	}
}

/* Waits for room for one more stripe (lock held).  False when stopping. */
static bool purge_wait_room_locked(struct mds_purge *p, struct purge_run *r)
{
	for (;;) {
		purge_retire_locked(p, r);
		if (p->stop)
			return false;
		if (r->head - r->tail < PURGE_SLOTS && p->inflight + r->width <= PURGE_INFLIGHT)
			return true;
		pthread_cond_wait(&p->cond, &p->lock);
	}
}

/* Waits until every stripe issued is retired; stopping cancels the calls. */
static void purge_drain(struct mds_purge *p, struct purge_run *r)
{
	bool cancelled = false;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		purge_retire_locked(p, r);
		if (r->tail == r->head)
			break;
		if (p->stop && !cancelled) {
			pthread_mutex_unlock(&p->lock);
			purge_osds_free(p); /* completes their calls with -ECANCELED */
			cancelled = true;
			pthread_mutex_lock(&p->lock);
			continue;
		}
		pthread_cond_wait(&p->cond, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

/* ---- progress ---- */

/* Every stripe below this one is deleted. */
static uint64_t purge_contig(const struct purge_run *r)
{
	return r->first_failed != UINT64_MAX ? r->first_failed : r->tail;
}

/* Saves the progress if it moved (by PURGE_SAVE_STRIPES unless force). */
static void purge_save(struct mds_purge *p, struct purge_run *r, bool force)
{
	uint64_t next = purge_contig(r);
	int rc;

	if (next <= r->e.next_stripe || (!force && next - r->e.next_stripe < PURGE_SAVE_STRIPES))
		return;
	r->e.next_stripe = next;
	rc = ns_purge_progress(p->m->ns, &r->e);
	mds_commit_note();
	if (rc)
		log_warn("purge: ino %#llx: cannot save progress (stripe %llu): %s",
			 (unsigned long long)r->e.ino, (unsigned long long)next, error_str(rc));
}

/* The entry's pool in the map, checked against its layout, or NULL (logged). */
static const struct proto_map_pool *purge_pool(struct mds_purge *p, const struct ns_purge *e)
{
	const struct proto_map_pool *pool = proto_map_pool_find(&p->map, e->layout.pool_id);
	const struct ns_layout *l = &e->layout;

	if (!pool) {
		log_warn("purge: ino %#llx: pool %u is not in the map of epoch %llu",
			 (unsigned long long)e->ino, l->pool_id, (unsigned long long)p->map.epoch);
		return NULL;
	}
	if (pool->k != l->k || pool->m != l->m || pool->chunk_size != l->chunk_size ||
	    pool->pg_count == 0 || (unsigned)l->k + l->m > PLACEMENT_MAX_WIDTH) {
		log_error("purge: ino %#llx: layout %u+%u of %u bytes does not match pool %u "
			  "(%u+%u of %u bytes)",
			  (unsigned long long)e->ino, l->k, l->m, l->chunk_size, pool->id, pool->k,
			  pool->m, pool->chunk_size);
		return NULL;
	}
	return pool;
}

/* The end of a turn: the entry removed, or its progress saved. */
static enum purge_turn purge_finish(struct mds_purge *p, struct purge_run *r)
{
	int rc;

	if (purge_contig(r) >= r->end) {
		rc = ns_purge_done(p->m->ns, r->e.ino);
		mds_commit_note();
		if (rc) {
			log_warn("purge: ino %#llx: cannot remove the entry: %s",
				 (unsigned long long)r->e.ino, error_str(rc));
			return PURGE_TURN_FAILED;
		}
		log_info("purge: ino %#llx purged: %llu bytes, %llu stripes in pool %u "
			 "(%llu chunks removed in the last turn)",
			 (unsigned long long)r->e.ino, (unsigned long long)r->e.size,
			 (unsigned long long)r->end, r->e.layout.pool_id,
			 (unsigned long long)r->deleted);
		return PURGE_TURN_DONE;
	}
	purge_save(p, r, true);
	if (r->first_failed == UINT64_MAX)
		return PURGE_TURN_MORE;
	p->fail_ino = r->e.ino;
	p->fail_osd = r->err_osd;
	p->fail_err = r->err;
	log_debug("purge: ino %#llx: stripe %llu not deleted (OSD %u: %s)",
		  (unsigned long long)r->e.ino, (unsigned long long)r->first_failed, r->err_osd,
		  error_str(r->err));
	return PURGE_TURN_FAILED;
}

enum purge_turn purge_file_turn(struct mds_purge *p, const struct ns_purge *e)
{
	struct purge_run r = {.e = *e, .first_failed = UINT64_MAX};

	r.pool = purge_pool(p, e);
	if (!r.pool) {
		p->fail_ino = e->ino;
		p->fail_osd = PLACEMENT_NONE;
		p->fail_err = -ENOENT;
		return PURGE_TURN_FAILED;
	}
	r.width = (unsigned)e->layout.k + e->layout.m;
	r.end = ns_purge_stripes(e);
	r.head = r.tail = e->next_stripe;
	r.stop_at = r.end - r.head > PURGE_SLICE ? r.head + PURGE_SLICE : r.end;
	pthread_mutex_lock(&p->lock);
	while (r.head < r.stop_at && purge_wait_room_locked(p, &r)) {
		pthread_mutex_unlock(&p->lock);
		purge_issue(p, &r, r.head++);
		purge_save(p, &r, false);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	purge_drain(p, &r);
	return purge_finish(p, &r);
}
