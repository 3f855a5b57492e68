/*
 * map.c - the cluster map on shard 0 (map.h): its life cycle, the admin
 * opcodes, the watches of MAP_GET and the timer that marks silent OSDs
 * down; plus mds_map_pool_layout() on every shard.
 *
 * Every change goes the same way under mds_map.lock: apply it, bump the
 * epoch, encode the map, write the map file (map_file.c) and build the
 * MAP_GET reply of the new epoch (struct map_blob, refcounted so replies
 * are sent outside the lock); if writing fails the change is undone and
 * the request fails with the error.  Then the parked watches are detached
 * and answered outside the lock.  A heartbeat that changes nothing but the
 * space used updates memory only: no epoch, no write (STATUS shows it; the
 * map carries it at the next change); so do the scrub counts and the pool
 * usage a heartbeat carries, which never enter the map (POOL_LIST, STATUS
 * and OSD_STATS show them).
 *
 * Threads: handlers on RPC worker threads; one timer thread (silent OSDs,
 * watch deadlines).  Parked requests are owned by the watch list until
 * replied, by whoever detached them.  Shards other than 0 have no struct
 * mds_map: their pool cache (remote_pools) is process-wide, under its own
 * lock.
 */
#include "mds/map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/daemon.h"
#include "mds/map_int.h"
#include "mds/mds.h"
#include "proto/admin.h"

#define MAP_WATCH_MAX_MS 10000u		/* a MAP_GET waits at most this for a change */
#define MAP_WATCHES_MAX 65536u		/* parked MAP_GETs; more are answered at once */
#define MAP_FRAME_HEADROOM (64u * 1024) /* as cfg: a chunk plus this fits in a frame */
#define REMOTE_FETCH_MIN_MS 1000	/* refetch of an unknown pool id, at most */
#define REMOTE_CALL_MS 5000

/* Watches detached under the lock, answered after it is released. */
struct map_wake {
	struct map_watch *list;
	struct map_blob *blob; /* full map for each, or NULL: "no change" replies */
	uint64_t epoch;
	void (*listen_fn)(void *arg); /* called for a new epoch (blob set) */
	void *listen_arg;
};

static int64_t map_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- lookups (lock held) ---- */

/* Index of OSD id, or where it would go (*found false). */
static uint32_t osd_index(const struct mds_map *mp, uint32_t id, bool *found)
{
	uint32_t lo = 0, hi = mp->nosds;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mp->osds[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < mp->nosds && mp->osds[lo].id == id;
	return lo;
}

static struct map_osd *osd_find(struct mds_map *mp, uint32_t id)
{
	bool found;
	uint32_t i = osd_index(mp, id, &found);

	return found ? &mp->osds[i] : NULL;
}

static const struct map_pool *pool_by_name(const struct mds_map *mp, const char *name, size_t n)
{
	for (uint32_t i = 0; i < mp->npools; i++)
		if (strlen(mp->pools[i].name) == n && memcmp(mp->pools[i].name, name, n) == 0)
			return &mp->pools[i];
	return NULL;
}

/* ---- blobs and publication (lock held) ---- */

static void blob_put(struct map_blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

static struct map_blob *blob_get(struct map_blob *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

static struct map_blob *blob_build(uint64_t epoch, const uint8_t *map, size_t len)
{
	struct proto_admin_map_get_rep rep = {.epoch = epoch, .map = {map, (uint32_t)len}};
	struct map_blob *b = malloc(sizeof(*b) + 12 + len);
	struct wire_enc e;

	if (!b)
		return NULL;
	wire_enc_init(&e, b->data, 12 + len);
	if (proto_admin_map_get_rep_encode(&rep, &e)) {
		free(b);
		return NULL;
	}
	atomic_init(&b->refs, 1);
	b->epoch = epoch;
	b->len = (uint32_t)e.len;
	return b;
}

/*
 * Makes the current state the published one: encodes it, writes the map
 * file (if save) and replaces the MAP_GET reply.  Nothing changes on
 * failure.  Returns 0, -ENOMEM, -EIO, or -errno of the file system.
 */
static int map_publish(struct mds_map *mp, bool save)
{
	struct map_blob *b;
	uint8_t *buf;
	size_t len;
	int rc;

	rc = map_encode(mp, &buf, &len);
	if (rc)
		return rc;
	if (len > PROTO_MAP_BLOB_MAX) {
		log_error("map: encoded map is %zu bytes, above the %u limit", len,
			  PROTO_MAP_BLOB_MAX);
		free(buf);
		return -ENOSPC;
	}
	/* The reply first: once the file is written, nothing may fail. */
	b = blob_build(mp->epoch, buf, len);
	rc = b ? 0 : -ENOMEM;
	if (!rc && save)
		rc = map_file_save(mp, buf, len);
	free(buf);
	if (rc) {
		blob_put(b);
		return rc;
	}
	blob_put(mp->blob);
	mp->blob = b;
	return 0;
}

/*
 * Publishes a change: bumps the epoch, writes the map, and detaches every
 * watch into w to be answered with the new map.  On failure the epoch is
 * restored and the caller undoes its change.  Returns as map_publish().
 */
static int map_bump(struct mds_map *mp, struct map_wake *w)
{
	int rc;

	mp->epoch++;
	rc = map_publish(mp, true);
	if (rc) {
		mp->epoch--;
		return rc;
	}
	w->list = mp->watches;
	mp->watches = NULL;
	mp->nwatches = 0;
	w->blob = blob_get(mp->blob);
	w->epoch = mp->epoch;
	w->listen_fn = mp->listen_fn;
	w->listen_arg = mp->listen_arg;
	return 0;
}

/* ---- replies ---- */

static void reply_body(struct rpc_req *req, int status, const void *body, size_t len)
{
	int rc = rpc_reply(req, status, status ? NULL : body, status ? 0 : (uint32_t)len, NULL, 0,
			   NULL, NULL);

	if (rc && rc != -ECONNRESET)
		log_warn("map: reply failed: %s", error_str(rc));
}

/* MAP_GET reply: the full map from b, or "no change" at epoch. */
static void reply_map(struct rpc_req *req, const struct map_blob *b, uint64_t epoch)
{
	struct proto_admin_map_get_rep rep = {.epoch = epoch};
	uint8_t buf[16];
	struct wire_enc e;

	if (b) {
		reply_body(req, 0, b->data, b->len);
		return;
	}
	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_map_get_rep_encode(&rep, &e);
	reply_body(req, 0, buf, e.len);
}

static void reply_epoch(struct rpc_req *req, int status, uint64_t epoch)
{
	struct proto_admin_epoch_rep rep = {.epoch = epoch};
	uint8_t buf[8];
	struct wire_enc e;

	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_epoch_rep_encode(&rep, &e);
	reply_body(req, status, buf, e.len);
}

/* Answers and frees the watches of w (outside the lock). */
static void map_wake_run(struct map_wake *w)
{
	struct map_watch *next;

	for (struct map_watch *x = w->list; x; x = next) {
		next = x->next;
		reply_map(x->req, w->blob, w->epoch);
		free(x);
	}
	if (w->blob && w->listen_fn)
		w->listen_fn(w->listen_arg);
	blob_put(w->blob);
	w->list = NULL;
	w->blob = NULL;
	w->listen_fn = NULL;
}

/* ---- handlers ---- */

static void dec_begin(struct rpc_req *req, struct wire_dec *d)
{
	const struct rpc_msg *msg = rpc_req_msg(req);

	wire_dec_init(d, msg->body, msg->body_len);
	wire_dec_set_version(d, msg->hdr.version);
}

static void map_get(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_map_get_req q;
	struct map_blob *b = NULL;
	struct map_watch *w;
	struct wire_dec d;
	uint64_t epoch;

	dec_begin(req, &d);
	if (proto_admin_map_get_req_decode(&d, &q)) {
		reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		return;
	}
	pthread_mutex_lock(&mp->lock);
	epoch = mp->epoch;
	if (q.known_epoch == epoch && !mp->quiesced && mp->watch_ms > 0 &&
	    mp->nwatches < MAP_WATCHES_MAX) {
		w = malloc(sizeof(*w));
		if (w) {
			*w = (struct map_watch){.next = mp->watches,
						.req = req,
						.known = epoch,
						.deadline_ms = map_now_ms() + mp->watch_ms};
			mp->watches = w;
			mp->nwatches++;
			pthread_cond_signal(&mp->cond);
			pthread_mutex_unlock(&mp->lock);
			return;
		}
	}
	if (q.known_epoch != epoch)
		b = blob_get(mp->blob);
	pthread_mutex_unlock(&mp->lock);
	reply_map(req, b, epoch);
	blob_put(b);
}

static uint32_t osd_weight(uint64_t capacity)
{
	uint64_t gib = capacity >> 30;

	if (gib == 0)
		return 1;
	return gib > UINT32_MAX ? UINT32_MAX : (uint32_t)gib;
}

static void str_copy(char *dst, size_t cap, const struct proto_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	memcpy(dst, s->ptr, n);
	dst[n] = '\0';
}

/* Inserts a new OSD at index i.  Returns 0, -ENOSPC, -ENOMEM. */
static int osd_insert(struct mds_map *mp, uint32_t i, const struct map_osd *o)
{
	if (mp->nosds >= PROTO_MAP_OSDS_MAX)
		return -ENOSPC;
	if (mp->nosds == mp->osd_cap) {
		uint32_t cap = mp->osd_cap ? mp->osd_cap * 2 : 16;
		struct map_osd *n = realloc(mp->osds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		mp->osds = n;
		mp->osd_cap = cap;
	}
	memmove(&mp->osds[i + 1], &mp->osds[i], (mp->nosds - i) * sizeof(*o));
	mp->osds[i] = *o;
	mp->nosds++;
	return 0;
}

static void osd_remove(struct mds_map *mp, uint32_t i)
{
	memmove(&mp->osds[i], &mp->osds[i + 1], (mp->nosds - i - 1) * sizeof(mp->osds[0]));
	mp->nosds--;
}

static bool osd_same(const struct map_osd *a, const struct map_osd *b)
{
	return a->media == b->media && a->flags == b->flags && a->weight == b->weight &&
	       a->capacity == b->capacity && strcmp(a->addr, b->addr) == 0 &&
	       strcmp(a->host, b->host) == 0;
}

/* Applies a registration under the lock.  Returns 0 or -errno. */
static int osd_register_locked(struct mds_map *mp, const struct proto_admin_osd_register_req *q,
			       struct map_wake *w)
{
	struct map_osd o = {0}, old;
	bool found;
	uint32_t i = osd_index(mp, q->id, &found);
	int rc;

	if (found)
		o = old = mp->osds[i];
	else
		o.flags = PROTO_MAP_OSD_IN;
	o.id = q->id;
	str_copy(o.addr, sizeof(o.addr), &q->addr);
	str_copy(o.host, sizeof(o.host), &q->host);
	o.media = q->media;
	o.capacity = q->capacity;
	o.weight = osd_weight(q->capacity);
	o.flags |= PROTO_MAP_OSD_UP;
	o.last_hb_ms = map_now_ms();
	if (found && osd_same(&o, &old)) {
		mp->osds[i].last_hb_ms = o.last_hb_ms;
		return 0;
	}
	if (found) {
		mp->osds[i] = o;
		rc = map_bump(mp, w);
		if (rc)
			mp->osds[i] = old;
	} else {
		rc = osd_insert(mp, i, &o);
		if (!rc) {
			rc = map_bump(mp, w);
			if (rc)
				osd_remove(mp, i);
		}
	}
	if (!rc)
		log_info("map: OSD %u %s at %s (host %s), epoch %llu", q->id,
			 found ? "registered again" : "registered", o.addr, o.host,
			 (unsigned long long)mp->epoch);
	return rc;
}

static void osd_register(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_osd_register_req q;
	struct map_wake w = {0};
	struct wire_dec d;
	uint64_t epoch;
	int rc;

	dec_begin(req, &d);
	if (proto_admin_osd_register_req_decode(&d, &q)) {
		reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		return;
	}
	pthread_mutex_lock(&mp->lock);
	rc = osd_register_locked(mp, &q, &w);
	epoch = mp->epoch;
	pthread_mutex_unlock(&mp->lock);
	reply_epoch(req, rc, epoch);
	map_wake_run(&w);
}

/* Sets or clears flag bits of OSD id; bumps the epoch if that changes it. */
static int osd_set_flags_locked(struct mds_map *mp, uint32_t id, uint8_t set, uint8_t clear,
				bool heartbeat, uint64_t used, struct map_wake *w)
{
	struct map_osd *o = osd_find(mp, id);
	uint8_t old;
	int rc;

	if (!o)
		return -ENOENT;
	if (heartbeat) {
		o->last_hb_ms = map_now_ms();
		o->used = used;
	}
	old = o->flags;
	o->flags = (uint8_t)((old | set) & ~clear);
	if (o->flags == old)
		return 0;
	rc = map_bump(mp, w);
	if (rc) {
		o->flags = old;
		return rc;
	}
	log_info("map: OSD %u is now %s and %s, epoch %llu", id,
		 (o->flags & PROTO_MAP_OSD_UP) ? "up" : "down",
		 (o->flags & PROTO_MAP_OSD_IN) ? "in" : "out", (unsigned long long)mp->epoch);
	return 0;
}

/*
 * Keeps the scrub counts and pool usage of a heartbeat (memory only).  On
 * allocation failure the previous usage stays and a warning is logged: a
 * heartbeat never fails for its statistics.
 */
static void osd_report_locked(struct mds_map *mp, const struct proto_admin_osd_heartbeat_req *q)
{
	struct map_osd *o = osd_find(mp, q->id);

	if (!o)
		return;
	o->scrub = q->scrub;
	if (q->npools > o->usage_cap) {
		struct proto_admin_pool_usage *n = realloc(o->usage, q->npools * sizeof(*n));

		if (!n) {
			log_warn("map: OSD %u: no memory for its pool usage", q->id);
			return;
		}
		o->usage = n;
		o->usage_cap = q->npools;
	}
	if (q->npools)
		memcpy(o->usage, q->pools, q->npools * sizeof(*q->pools));
	o->nusage = q->npools;
}

static void osd_heartbeat(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_pool_usage pools[PROTO_ADMIN_HB_POOLS_MAX];
	struct proto_admin_osd_heartbeat_req q = {.cap = PROTO_ADMIN_HB_POOLS_MAX, .pools = pools};
	struct map_wake w = {0};
	struct wire_dec d;
	uint64_t epoch;
	int rc;

	dec_begin(req, &d);
	if (proto_admin_osd_heartbeat_req_decode(&d, &q)) {
		reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		return;
	}
	pthread_mutex_lock(&mp->lock);
	osd_report_locked(mp, &q);
	rc = osd_set_flags_locked(mp, q.id, PROTO_MAP_OSD_UP, 0, true, q.used, &w);
	epoch = mp->epoch;
	pthread_mutex_unlock(&mp->lock);
	reply_epoch(req, rc, epoch);
	map_wake_run(&w);
}

static void osd_set_in(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_osd_set_in_req q;
	struct map_wake w = {0};
	struct wire_dec d;
	uint64_t epoch;
	int rc;

	dec_begin(req, &d);
	if (proto_admin_osd_set_in_req_decode(&d, &q)) {
		reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		return;
	}
	pthread_mutex_lock(&mp->lock);
	rc = osd_set_flags_locked(mp, q.id, q.in ? PROTO_MAP_OSD_IN : 0,
				  q.in ? 0 : PROTO_MAP_OSD_IN, false, 0, &w);
	epoch = mp->epoch;
	pthread_mutex_unlock(&mp->lock);
	reply_epoch(req, rc, epoch);
	map_wake_run(&w);
}

/*
 * Checks a new pool against the map and cairn.conf's frame size, assigns
 * its id and appends it (ec:1+M as rep:M+1).  Returns 0, -EEXIST (name
 * taken), -EINVAL (chunk too large for a frame), -ENOSPC (too many pools).
 */
static int pool_add_locked(struct mds_map *mp, const struct map_pool *p, uint32_t *id)
{
	uint64_t max_frame = mp->m->cfg->rpc.max_frame;
	struct map_pool *n;

	if (pool_by_name(mp, p->name, strlen(p->name)))
		return -EEXIST;
	if ((uint64_t)p->chunk_size + MAP_FRAME_HEADROOM > max_frame)
		return -EINVAL;
	if (mp->npools >= PROTO_MAP_POOLS_MAX)
		return -ENOSPC;
	n = &mp->pools[mp->npools];
	*n = *p;
	n->id = mp->npools ? mp->pools[mp->npools - 1].id + 1 : 1;
	if (n->scheme == PROTO_SCHEME_EC && n->k == 1) {
		/*
		 * One data chunk and m parity chunks protect like m + 1 copies:
		 * stored as replication, so a layout's k alone tells the
		 * scheme (k == 1: replication).
		 */
		n->scheme = PROTO_SCHEME_REP;
		log_info("map: pool '%s': ec:1+%u is kept as rep:%u", n->name, n->m, n->m + 1);
	}
	*id = n->id;
	mp->npools++;
	return 0;
}

static void pool_create(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_pool_create_req q;
	struct proto_admin_pool_create_rep rep = {0};
	struct map_wake w = {0};
	struct map_pool p = {0};
	struct wire_dec d;
	struct wire_enc e;
	uint8_t buf[16];
	int rc;

	dec_begin(req, &d);
	if (proto_admin_pool_create_req_decode(&d, &q)) {
		reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		return;
	}
	p = (struct map_pool){.scheme = q.pool.scheme,
			      .k = q.pool.k,
			      .m = q.pool.m,
			      .media = q.pool.media,
			      .compression = q.pool.compression,
			      .chunk_size = q.pool.chunk_size,
			      .pg_count = q.pool.pg_count};
	str_copy(p.name, sizeof(p.name), &q.pool.name);
	pthread_mutex_lock(&mp->lock);
	rc = pool_add_locked(mp, &p, &rep.pool_id);
	if (!rc) {
		rc = map_bump(mp, &w);
		if (rc)
			mp->npools--;
	}
	rep.epoch = mp->epoch;
	pthread_mutex_unlock(&mp->lock);
	if (!rc)
		log_info("map: pool %u '%s' created, epoch %llu", rep.pool_id, p.name,
			 (unsigned long long)rep.epoch);
	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_pool_create_rep_encode(&rep, &e);
	reply_body(req, rc, buf, e.len);
	map_wake_run(&w);
}

/* Sums the latest pool usage of every OSD into usage[0..npools), by pool. */
static void pool_usage_locked(const struct mds_map *mp, struct proto_admin_pool_usage *usage)
{
	for (uint32_t p = 0; p < mp->npools; p++)
		usage[p] = (struct proto_admin_pool_usage){.pool_id = mp->pools[p].id};
	for (uint32_t i = 0; i < mp->nosds; i++) {
		const struct map_osd *o = &mp->osds[i];
		uint32_t p = 0;

		/* Both lists are sorted by pool id: one merge per OSD. */
		for (uint32_t j = 0; j < o->nusage; j++) {
			const struct proto_admin_pool_usage *u = &o->usage[j];

			while (p < mp->npools && mp->pools[p].id < u->pool_id)
				p++;
			if (p == mp->npools)
				break;
			if (mp->pools[p].id != u->pool_id)
				continue;
			usage[p].chunks += u->chunks;
			usage[p].logical += u->logical;
			usage[p].stored += u->stored;
		}
	}
}

static void pool_list(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_pool_list_rep rep = {0};
	struct proto_map_pool *pools;
	struct proto_admin_pool_usage *usage;
	size_t cap = 4 + PROTO_MAP_POOLS_MAX * (4 + 2 + PROTO_POOL_NAME_MAX + 5 + 8 + 3 * 8);
	struct wire_enc e;
	uint8_t *buf;
	int rc = -ENOMEM;

	pools = calloc(PROTO_MAP_POOLS_MAX, sizeof(*pools));
	usage = calloc(PROTO_MAP_POOLS_MAX, sizeof(*usage));
	buf = malloc(cap);
	if (!pools || !usage || !buf)
		goto out;
	pthread_mutex_lock(&mp->lock);
	for (uint32_t i = 0; i < mp->npools; i++) {
		const struct map_pool *p = &mp->pools[i];

		pools[i] = (struct proto_map_pool){.id = p->id,
						   .name = {p->name, (uint16_t)strlen(p->name)},
						   .scheme = p->scheme,
						   .k = p->k,
						   .m = p->m,
						   .media = p->media,
						   .compression = p->compression,
						   .chunk_size = p->chunk_size,
						   .pg_count = p->pg_count};
	}
	pool_usage_locked(mp, usage);
	rep.count = mp->npools;
	rep.pools = pools;
	rep.usage = usage;
	wire_enc_init(&e, buf, cap);
	rc = proto_admin_pool_list_rep_encode(&rep, &e) ? -EIO : 0;
	pthread_mutex_unlock(&mp->lock);
out:
	reply_body(req, rc, buf, rc ? 0 : e.len);
	free(pools);
	free(usage);
	free(buf);
}

/*
 * Health: ERR if some pool has fewer usable OSDs (up, in, of its media)
 * than k, so its data cannot be read; WARN if an OSD that is in is down,
 * an OSD reports chunks its scrub could not repair, or some pool has fewer
 * than k + m usable OSDs; else OK.
 */
static uint8_t map_health_locked(const struct mds_map *mp)
{
	uint8_t h = PROTO_HEALTH_OK;

	for (uint32_t i = 0; i < mp->nosds; i++)
		if (((mp->osds[i].flags & PROTO_MAP_OSD_IN) &&
		     !(mp->osds[i].flags & PROTO_MAP_OSD_UP)) ||
		    mp->osds[i].scrub.unrepairable > 0)
			h = PROTO_HEALTH_WARN;
	for (uint32_t p = 0; p < mp->npools; p++) {
		uint32_t usable = 0;
		const uint8_t want = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN;

		for (uint32_t i = 0; i < mp->nosds; i++)
			if ((mp->osds[i].flags & want) == want &&
			    mp->osds[i].media == mp->pools[p].media)
				usable++;
		if (usable < mp->pools[p].k)
			return PROTO_HEALTH_ERR;
		if (usable < (uint32_t)mp->pools[p].k + mp->pools[p].m)
			h = PROTO_HEALTH_WARN;
	}
	return h;
}

/* Adds b to a, saturating (the sums stay valid scrub counts). */
static void scrub_add(struct proto_admin_scrub_counts *a, const struct proto_admin_scrub_counts *b)
{
	struct proto_admin_scrub_counts s = {
	    .scrubbed = a->scrubbed + b->scrubbed,
	    .bad = a->bad + b->bad,
	    .repaired = a->repaired + b->repaired,
	    .unrepairable = a->unrepairable + b->unrepairable,
	};

	if (s.scrubbed >= a->scrubbed && s.bad >= a->bad && s.repaired >= a->repaired &&
	    s.unrepairable >= a->unrepairable && proto_admin_scrub_counts_valid(&s))
		*a = s;
}

static void map_status(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_status_rep rep = {0};
	struct wire_enc e;
	uint8_t buf[128];

	pthread_mutex_lock(&mp->lock);
	rep.epoch = mp->epoch;
	rep.nshards = mp->nshards;
	rep.nosds = mp->nosds;
	rep.npools = mp->npools;
	for (uint32_t i = 0; i < mp->nosds; i++) {
		const struct map_osd *o = &mp->osds[i];

		if (o->flags & PROTO_MAP_OSD_UP)
			rep.osds_up++;
		if (o->scrub.unrepairable)
			rep.osds_unrepairable++;
		scrub_add(&rep.scrub, &o->scrub);
		if (o->flags & PROTO_MAP_OSD_IN) {
			rep.osds_in++;
			rep.capacity += o->capacity;
			rep.used += o->used;
		}
	}
	rep.health = map_health_locked(mp);
	pthread_mutex_unlock(&mp->lock);
	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_status_rep_encode(&rep, &e);
	reply_body(req, 0, buf, e.len);
}

static void osd_stats(struct mds_map *mp, struct rpc_req *req)
{
	struct proto_admin_osd_stats_rep rep = {0};
	struct wire_enc e = {0};
	size_t cap;
	uint8_t *buf = NULL;
	int rc = -ENOMEM;

	pthread_mutex_lock(&mp->lock);
	rep.osds = calloc(mp->nosds + 1, sizeof(*rep.osds));
	cap = 4 + (size_t)mp->nosds * (4 + 4 * 8);
	buf = malloc(cap);
	if (rep.osds && buf) {
		for (uint32_t i = 0; i < mp->nosds; i++)
			rep.osds[i] = (struct proto_admin_osd_stats){.id = mp->osds[i].id,
								     .scrub = mp->osds[i].scrub};
		rep.count = mp->nosds;
		wire_enc_init(&e, buf, cap);
		rc = proto_admin_osd_stats_rep_encode(&rep, &e) ? -EIO : 0;
	}
	pthread_mutex_unlock(&mp->lock);
	reply_body(req, rc, buf, rc ? 0 : e.len);
	free(rep.osds);
	free(buf);
}

void mds_map_handle(struct mds *m, struct rpc_req *req)
{
	struct mds_map *mp = m->map;
	const struct rpc_msg *msg = rpc_req_msg(req);

	if (!mp) {
		/* Not shard 0: the client's view of the cluster is stale. */
		reply_body(req, -EREMOTE, NULL, 0);
		return;
	}
	switch (msg->hdr.opcode) {
	case PROTO_OP_ADMIN_MAP_GET:
		map_get(mp, req);
		break;
	case PROTO_OP_ADMIN_OSD_REGISTER:
		osd_register(mp, req);
		break;
	case PROTO_OP_ADMIN_OSD_HEARTBEAT:
		osd_heartbeat(mp, req);
		break;
	case PROTO_OP_ADMIN_OSD_SET_IN:
		osd_set_in(mp, req);
		break;
	case PROTO_OP_ADMIN_POOL_CREATE:
		pool_create(mp, req);
		break;
	case PROTO_OP_ADMIN_POOL_LIST:
	case PROTO_OP_ADMIN_STATUS:
	case PROTO_OP_ADMIN_OSD_STATS:
		if (msg->body_len != 0)
			reply_body(req, -CAIRN_EBADFRAME, NULL, 0);
		else if (msg->hdr.opcode == PROTO_OP_ADMIN_STATUS)
			map_status(mp, req);
		else if (msg->hdr.opcode == PROTO_OP_ADMIN_OSD_STATS)
			osd_stats(mp, req);
		else
			pool_list(mp, req);
		break;
	default:
		reply_body(req, -EOPNOTSUPP, NULL, 0);
		break;
	}
}

/* ---- timer ---- */

/* Marks OSDs silent for osd_down_ms down (one epoch for all of them). */
static void map_check_osds_locked(struct mds_map *mp, int64_t now, struct map_wake *w)
{
	int64_t down_ms = mp->m->cfg->mds.osd_down_ms;
	uint32_t n = 0;
	int rc;

	for (uint32_t i = 0; i < mp->nosds; i++) {
		struct map_osd *o = &mp->osds[i];

		o->downed = (o->flags & PROTO_MAP_OSD_UP) && now - o->last_hb_ms >= down_ms;
		if (o->downed) {
			o->flags &= (uint8_t)~PROTO_MAP_OSD_UP;
			n++;
		}
	}
	if (n == 0)
		return;
	rc = map_bump(mp, w);
	for (uint32_t i = 0; i < mp->nosds; i++) {
		struct map_osd *o = &mp->osds[i];

		if (!o->downed)
			continue;
		o->downed = false;
		if (rc)
			o->flags |= PROTO_MAP_OSD_UP; /* retried at the next tick */
		else
			log_warn("map: OSD %u is down: no heartbeat for %lld ms, epoch %llu", o->id,
				 (long long)(now - o->last_hb_ms), (unsigned long long)mp->epoch);
	}
}

/* Detaches the watches past their deadline; returns the next deadline. */
static int64_t map_expire_locked(struct mds_map *mp, int64_t now, struct map_wake *w)
{
	int64_t next = now + mp->tick_ms;
	struct map_watch **pp = &mp->watches;

	w->epoch = mp->epoch;
	while (*pp) {
		struct map_watch *x = *pp;

		if (x->deadline_ms <= now) {
			*pp = x->next;
			x->next = w->list;
			w->list = x;
			mp->nwatches--;
			continue;
		}
		if (x->deadline_ms < next)
			next = x->deadline_ms;
		pp = &x->next;
	}
	return next;
}

static void *map_timer_main(void *arg)
{
	struct mds_map *mp = arg;

	pthread_mutex_lock(&mp->lock);
	while (!mp->stop) {
		struct map_wake changed = {0}, expired = {0};
		int64_t now = map_now_ms(), next;
		struct timespec ts;

		map_check_osds_locked(mp, now, &changed);
		next = map_expire_locked(mp, now, &expired);
		pthread_mutex_unlock(&mp->lock);
		map_wake_run(&changed);
		map_wake_run(&expired);
		pthread_mutex_lock(&mp->lock);
		if (mp->stop)
			break;
		ts.tv_sec = next / 1000;
		ts.tv_nsec = (next % 1000) * 1000000L;
		pthread_cond_timedwait(&mp->cond, &mp->lock, &ts);
	}
	pthread_mutex_unlock(&mp->lock);
	return NULL;
}

/* ---- start and stop ---- */

static int media_of(const char *s, uint8_t *out)
{
	if (strcmp(s, "hdd") == 0)
		*out = PROTO_MEDIA_HDD;
	else if (strcmp(s, "ssd") == 0)
		*out = PROTO_MEDIA_SSD;
	else if (strcmp(s, "nvme") == 0)
		*out = PROTO_MEDIA_NVME;
	else
		return -EINVAL;
	return 0;
}

/* A pool of cairn.conf as a map pool (id 0).  Returns 0 or -EINVAL. */
static int pool_from_cfg(const struct cfg_pool *c, struct map_pool *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", c->name);
	if (media_of(c->media, &p->media)) {
		log_error("map: pool '%s' of cairn.conf: media '%s' is not hdd, ssd or nvme",
			  c->name, c->media);
		return -EINVAL;
	}
	if (c->scheme.kind == CFG_SCHEME_EC && c->scheme.k > 1) {
		p->scheme = PROTO_SCHEME_EC;
		p->k = (uint8_t)c->scheme.k;
		p->m = (uint8_t)c->scheme.m;
	} else if (c->scheme.kind == CFG_SCHEME_EC) {
		p->scheme = PROTO_SCHEME_REP; /* ec:1+M protects as rep:M+1 */
		p->k = 1;
		p->m = (uint8_t)c->scheme.m;
	} else {
		p->scheme = PROTO_SCHEME_REP;
		p->k = 1;
		p->m = (uint8_t)(c->scheme.replicas - 1);
	}
	p->chunk_size = (uint32_t)c->chunk_size;
	p->pg_count = c->pg_count;
	p->compression =
	    c->compression == CFG_COMPRESSION_ZSTD ? PROTO_COMPRESS_ZSTD : PROTO_COMPRESS_NONE;
	if (!proto_layout_valid(p->scheme, p->k, p->m, p->chunk_size)) {
		log_error("map: pool '%s' of cairn.conf: invalid scheme or chunk size", c->name);
		return -EINVAL;
	}
	return 0;
}

/* Creates the pools of cairn.conf the map does not have.  *changed if any. */
static int map_add_conf_pools(struct mds_map *mp, bool *changed)
{
	const struct cfg *cfg = mp->m->cfg;

	for (uint32_t i = 0; i < cfg->pool_count; i++) {
		const struct map_pool *have;
		struct map_pool p;
		uint32_t id;
		int rc = pool_from_cfg(&cfg->pools[i], &p);

		if (rc)
			return rc;
		have = pool_by_name(mp, p.name, strlen(p.name));
		if (have) {
			if (have->scheme != p.scheme || have->k != p.k || have->m != p.m ||
			    have->chunk_size != p.chunk_size || have->pg_count != p.pg_count)
				log_warn("map: pool '%s' differs from cairn.conf; the map's "
					 "settings stay (pools never change)",
					 p.name);
			continue;
		}
		rc = pool_add_locked(mp, &p, &id);
		if (rc) {
			log_error("map: pool '%s' of cairn.conf: %s", p.name, strerror(-rc));
			return rc;
		}
		log_info("map: pool %u '%s' created from cairn.conf", id, p.name);
		*changed = true;
	}
	return 0;
}

/* Takes the shard addresses from cairn.conf.  *changed if they differ. */
static int map_set_shards(struct mds_map *mp, bool *changed)
{
	const struct cfg *cfg = mp->m->cfg;
	char addr[MDS_ADDR_MAX];

	if (mp->nshards && mp->nshards != cfg->mds.shard_count)
		log_warn("map: the map had %u shards, cairn.conf has %u", mp->nshards,
			 cfg->mds.shard_count);
	if (mp->nshards != cfg->mds.shard_count)
		*changed = true;
	for (uint32_t i = 0; i < cfg->mds.shard_count; i++) {
		if (mds_addr_format(&cfg->mds.shards[i].addr, addr, sizeof(addr)) ||
		    strlen(addr) > PROTO_ADDR_MAX) {
			log_error("map: address of shard %u is longer than %u bytes", i,
				  PROTO_ADDR_MAX);
			return -EINVAL;
		}
		if (i >= mp->nshards || strcmp(mp->shards[i], addr) != 0)
			*changed = true;
		snprintf(mp->shards[i], sizeof(mp->shards[i]), "%s", addr);
	}
	mp->nshards = cfg->mds.shard_count;
	return 0;
}

/* Loads the map file or starts a new map, then applies cairn.conf. */
static int map_load(struct mds_map *mp)
{
	bool changed = false;
	int64_t now = map_now_ms();
	int rc = map_file_load(mp);

	if (rc == -ENOENT) {
		log_info("map: no cluster map in %s: creating one (first start)", mp->path);
		changed = true;
	} else if (rc) {
		log_error("map: cannot load the cluster map %s: %s", mp->path,
			  rc == -EIO ? "corrupt or unreadable (left as it is)" : strerror(-rc));
		return rc;
	}
	rc = map_set_shards(mp, &changed);
	if (!rc)
		rc = map_add_conf_pools(mp, &changed);
	if (rc)
		return rc;
	/* OSDs that were up get a full period to send their next heartbeat. */
	for (uint32_t i = 0; i < mp->nosds; i++)
		mp->osds[i].last_hb_ms = now;
	if (changed)
		mp->epoch++;
	rc = map_publish(mp, changed);
	if (!rc)
		log_info("map: epoch %llu, %u OSDs, %u pools", (unsigned long long)mp->epoch,
			 mp->nosds, mp->npools);
	return rc;
}

static void map_free(struct mds_map *mp)
{
	blob_put(mp->blob);
	for (uint32_t i = 0; i < mp->nosds; i++)
		free(mp->osds[i].usage);
	free(mp->osds);
	pthread_cond_destroy(&mp->cond);
	pthread_mutex_destroy(&mp->lock);
	free(mp);
}

static struct mds_map *map_alloc(struct mds *m)
{
	const struct cfg *cfg = m->cfg;
	struct mds_map *mp = calloc(1, sizeof(*mp));
	pthread_condattr_t ca;
	uint32_t tick;

	if (!mp)
		return NULL;
	mp->m = m;
	pthread_mutex_init(&mp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mp->cond, &ca);
	pthread_condattr_destroy(&ca);
	mp->watch_ms = cfg->rpc.timeout_ms / 2;
	if (mp->watch_ms > MAP_WATCH_MAX_MS)
		mp->watch_ms = MAP_WATCH_MAX_MS;
	tick = cfg->mds.osd_down_ms / 4;
	mp->tick_ms = tick < 10 ? 10 : tick > 1000 ? 1000 : tick;
	return mp;
}

int mds_map_start(struct mds *m)
{
	struct mds_map *mp;
	int n, rc;

	if (m->shard != 0 || m->map)
		return -EINVAL;
	mp = map_alloc(m);
	if (!mp)
		return -ENOMEM;
	n = snprintf(mp->path, sizeof(mp->path), "%s/%s", m->cfg->mds.shards[0].data, MDS_MAP_FILE);
	if (n < 0 || (size_t)n >= sizeof(mp->path)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	pthread_mutex_lock(&mp->lock);
	rc = map_load(mp);
	pthread_mutex_unlock(&mp->lock);
	if (rc)
		goto fail;
	rc = -pthread_create(&mp->timer, NULL, map_timer_main, mp);
	if (rc)
		goto fail;
	m->map = mp;
	return 0;
fail:
	map_free(mp);
	return rc;
}

void mds_map_quiesce(struct mds *m)
{
	struct mds_map *mp = m->map;
	struct map_wake w = {0};

	if (!mp)
		return;
	pthread_mutex_lock(&mp->lock);
	mp->quiesced = true;
	w.list = mp->watches;
	mp->watches = NULL;
	mp->nwatches = 0;
	w.epoch = mp->epoch;
	pthread_mutex_unlock(&mp->lock);
	/* Parked watches know the current epoch: "no change" answers them. */
	map_wake_run(&w);
}

void mds_map_stop(struct mds *m)
{
	struct mds_map *mp = m->map;

	if (!mp)
		return;
	pthread_mutex_lock(&mp->lock);
	mp->stop = true;
	pthread_cond_signal(&mp->cond);
	pthread_mutex_unlock(&mp->lock);
	pthread_join(mp->timer, NULL);
	mds_map_quiesce(m);
	m->map = NULL;
	map_free(mp);
}

/* ---- pool layouts, on every shard ---- */

static void layout_of(const struct map_pool *p, struct proto_layout *out)
{
	*out = (struct proto_layout){.pool_id = p->id,
				     .scheme = p->scheme,
				     .k = p->k,
				     .m = p->m,
				     .chunk_size = p->chunk_size};
}

/* The pool (0: the one with the lowest id) among n sorted pools, or NULL. */
static const struct map_pool *pool_pick(const struct map_pool *pools, uint32_t n, uint32_t id)
{
	if (id == 0)
		return n ? &pools[0] : NULL;
	for (uint32_t i = 0; i < n; i++)
		if (pools[i].id == id)
			return &pools[i];
	return NULL;
}

/* Shards other than 0: the pools last fetched from shard 0. */
static struct {
	pthread_mutex_t lock;
	uint32_t n;
	int64_t fetched_ms; /* 0: never */
	struct map_pool pools[PROTO_MAP_POOLS_MAX];
} remote_pools = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the map for other modules ---- */

int mds_map_reply_decode(const void *body, size_t len, uint16_t version, struct proto_map *out,
			 uint64_t *epoch)
{
	struct proto_admin_map_get_rep rep;
	struct wire_dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	wire_dec_init(&d, body, len);
	wire_dec_set_version(&d, version);
	rc = proto_admin_map_get_rep_decode(&d, &rep);
	if (rc)
		return rc;
	*epoch = rep.epoch;
	if (rep.map.len == 0)
		return -EAGAIN;
	wire_dec_init(&d, rep.map.ptr, rep.map.len);
	wire_dec_set_version(&d, version);
	rc = proto_map_decode(&d, out);
	if (rc == 0 && out->epoch != rep.epoch) {
		proto_map_free(out);
		rc = -CAIRN_EBADFRAME;
	}
	return rc;
}

int mds_map_copy(struct mds *m, uint64_t known, struct proto_map *out)
{
	struct mds_map *mp = m->map;
	struct map_blob *b = NULL;
	uint64_t epoch = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!mp)
		return -ENOENT;
	pthread_mutex_lock(&mp->lock);
	if (mp->epoch > known && mp->blob)
		b = blob_get(mp->blob);
	pthread_mutex_unlock(&mp->lock);
	if (!b)
		return -EAGAIN;
	rc = mds_map_reply_decode(b->data, b->len, PROTO_VERSION, out, &epoch);
	if (rc == -CAIRN_EBADFRAME || rc == -EAGAIN) {
		log_error("map: cannot decode our own map of epoch %llu",
			  (unsigned long long)b->epoch);
		rc = -EIO;
	}
	blob_put(b);
	return rc;
}

void mds_map_listen(struct mds *m, void (*fn)(void *arg), void *arg)
{
	struct mds_map *mp = m->map;

	if (!mp)
		return;
	pthread_mutex_lock(&mp->lock);
	mp->listen_fn = fn;
	mp->listen_arg = arg;
	pthread_mutex_unlock(&mp->lock);
}

/* Fetches the map from shard 0 and refreshes remote_pools.  0 or -errno. */
static int remote_fetch(struct mds *m)
{
	struct proto_admin_map_get_req q = {.known_epoch = 0};
	struct rpc_call call = {.opcode = PROTO_OP_ADMIN_MAP_GET, .timeout_ms = REMOTE_CALL_MS};
	struct rpc_msg *resp = NULL;
	struct proto_map pm;
	struct wire_enc e;
	uint64_t epoch;
	uint8_t body[8];
	int rc;

	if (!m->peers[0])
		return -EHOSTUNREACH;
	wire_enc_init(&e, body, sizeof(body));
	proto_admin_map_get_req_encode(&q, &e);
	call.body = body;
	call.body_len = (uint32_t)e.len;
	rc = rpc_call_sync(m->peers[0], &call, &resp);
	if (rc)
		goto out;
	rc = mds_map_reply_decode(resp->body, resp->body_len, resp->hdr.version, &pm, &epoch);
	if (rc == -EAGAIN)
		rc = -CAIRN_EBADFRAME; /* we asked for the whole map */
	if (rc)
		goto out;
	pthread_mutex_lock(&remote_pools.lock);
	remote_pools.n = pm.npools;
	for (uint32_t i = 0; i < pm.npools; i++) {
		const struct proto_map_pool *s = &pm.pools[i];

		remote_pools.pools[i] = (struct map_pool){.id = s->id,
							  .scheme = s->scheme,
							  .k = s->k,
							  .m = s->m,
							  .media = s->media,
							  .compression = s->compression,
							  .chunk_size = s->chunk_size,
							  .pg_count = s->pg_count};
		str_copy(remote_pools.pools[i].name, sizeof(remote_pools.pools[i].name), &s->name);
	}
	remote_pools.fetched_ms = map_now_ms();
	pthread_mutex_unlock(&remote_pools.lock);
	proto_map_free(&pm);
out:
	if (rc)
		log_warn("map: cannot fetch the pools from shard 0: %s", error_str(rc));
	rpc_msg_free(resp);
	return rc;
}

/* Looks id up in remote_pools: 0 or -ENOENT; *may_fetch if a fetch is due. */
static int remote_lookup(uint32_t id, bool *may_fetch, struct proto_layout *out)
{
	const struct map_pool *p;
	int rc = 0;

	pthread_mutex_lock(&remote_pools.lock);
	p = pool_pick(remote_pools.pools, remote_pools.n, id);
	if (p)
		layout_of(p, out);
	else
		rc = -ENOENT;
	*may_fetch = !p && (remote_pools.fetched_ms == 0 ||
			    map_now_ms() - remote_pools.fetched_ms >= REMOTE_FETCH_MIN_MS);
	pthread_mutex_unlock(&remote_pools.lock);
	return rc;
}

int mds_map_pool_layout(struct mds *m, uint32_t pool_id, bool may_block, struct proto_layout *out)
{
	struct mds_map *mp = m->map;
	const struct map_pool *p;
	bool may_fetch;
	int rc;

	if (mp) {
		pthread_mutex_lock(&mp->lock);
		p = pool_pick(mp->pools, mp->npools, pool_id);
		if (p)
			layout_of(p, out);
		pthread_mutex_unlock(&mp->lock);
		return p ? 0 : -ENOENT;
	}
	rc = remote_lookup(pool_id, &may_fetch, out);
	if (rc != -ENOENT || !may_fetch)
		return rc;
	if (!may_block)
		return -EWOULDBLOCK;
	rc = remote_fetch(m);
	if (rc)
		return rc;
	return remote_lookup(pool_id, &may_fetch, out);
}

void mds_map_space(struct mds *m, uint64_t *capacity, uint64_t *used)
{
	struct mds_map *mp = m->map;

	*capacity = 0;
	*used = 0;
	if (!mp)
		return;
	pthread_mutex_lock(&mp->lock);
	for (uint32_t i = 0; i < mp->nosds; i++) {
		if (mp->osds[i].flags & PROTO_MAP_OSD_IN) {
			*capacity += mp->osds[i].capacity;
			*used += mp->osds[i].used;
		}
	}
	pthread_mutex_unlock(&mp->lock);
}
