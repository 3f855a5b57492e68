/*
 * primary.c - write sequencing of a PG by its primary (primary.h).
 *
 * The rules (DESIGN.md, "Data"; the wire side is in proto/osd.h):
 *
 * Who: the primary of a PG is the first up OSD of its acting set.  Another
 * OSD answers STRIPE_WRITE with -CAIRN_ENOTPRIMARY (or -CAIRN_ESTALEMAP when
 * the client's map is older than ours, -EAGAIN when it is newer).
 *
 * Order: requests for one stripe are queued and run one at a time in
 * arrival order (struct sq), so concurrent writers to a stripe never lose
 * an update; different stripes run in parallel on the primary's threads.
 *
 * Versions: each stripe write gives every chunk of the stripe (on every up
 * member) one new version number: (seq << 24) | tag, where tag is random
 * per process and seq is above the base version's seq and above every seq
 * this process has handed out.  So a number is never reused, even by a
 * primary that restarted or took over after a failed write, and a failed
 * write's leftovers never pass for a later write's chunks.
 *
 * Lengths: a chunk's logical length is its own (bytes past it are zeros);
 * parity chunks are as long as the longest data chunk.
 *
 * Three ways to write, all ending with every up member durable:
 *   - full stripe (offset 0, k * chunk_size bytes): encode with ISA-L and
 *     write every chunk whole (W_REPLACE), no reads.  A member refusing the
 *     version (-ESTALE: it holds a newer one) makes the primary probe the
 *     members' versions and retry above them.
 *   - partial, stripe known clean at version V (all up members newest at V,
 *     from the cache of this process's last write or from a probe): read the
 *     old bytes of the changed ranges of the data chunks and the old parity
 *     over their hull (version V), update parity incrementally
 *     (erasure_update), write the changed ranges, the new parity range, and
 *     bump the untouched data chunks (CHUNK_TRUNCATE to their length); every
 *     write carries base version V, so a member whose newest is not V
 *     refuses (-ESTALE).
 *   - partial otherwise (members disagree, a refused precondition, a new
 *     stripe): resolve the readable version as readers do (the newest held
 *     by at least k chunks, read and decoded), apply the write, and write
 *     every chunk whole (W_REPLACE) at a version above everything seen.
 *
 * Acknowledgement: only when every up member of the acting set has the new
 * version durable, and there are at least k of them (else -EIO: more than
 * m chunks are gone).  Down members are skipped (a degraded write; their
 * chunks are stale until repaired, and the next write to the stripe finds
 * them disagreeing and rewrites the stripe whole).  Any member failing
 * fails the write: -ENOSPC as such, a refused map as -CAIRN_ESTALEMAP, an
 * unreachable member as -EAGAIN, others as -EIO; the new version is then
 * rolled back where it was written (CHUNK_TRIM with TRIM_ROLLBACK, waited
 * for), so a failed write leaves the stripe as it was.  Only a primary that
 * dies mid-write leaves a partial version behind: readers use it if k
 * chunks hold it, ignore it otherwise, and the next write goes above it.
 * Once acknowledged, the older versions are trimmed on every member
 * (CHUNK_TRIM, not waited for).
 *
 * Threads: submitters (RPC workers) and the primary's threads share the
 * queue under p->lock; the clean cache and the erasure handles have their
 * own mutexes.  A write holds a map snapshot reference while it runs.
 */
#include "osd/primary.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/erasure.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/log.h"
#include "osd/chunk.h"
#include "osd/osd.h"
#include "osd/osdmap.h"
#include "osd/peers.h"
#include "osd/store.h"
#include "osd/stripe.h"

#define SQ_BUCKETS 1024u
#define CACHE_SLOTS 4096u
#define TAG_BITS 24
#define MAP_WAIT_MS 2000
#define ATTEMPTS 3

struct job {
	struct job *next;
	struct rpc_req *req;
	struct proto_osd_stripe_write_req w;
};

/* A stripe with queued or running writes. */
struct sq {
	struct sq *hnext; /* hash chain */
	struct sq *rnext; /* ready list */
	uint32_t pool;
	uint64_t ino;
	uint64_t stripe;
	struct job *head, *tail;
	bool running;
	bool ready;
};

/* What this process last wrote to a stripe successfully. */
struct clean {
	uint32_t pool; /* 0: empty slot */
	uint64_t ino;
	uint64_t stripe;
	uint64_t version;
	uint64_t mask; /* positions holding version */
	unsigned width;
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	uint32_t lens[PLACEMENT_MAX_WIDTH];
};

struct osd_primary {
	struct osd *o;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* work or stop */
	pthread_cond_t idle; /* running dropped to 0 */
	struct sq *buckets[SQ_BUCKETS];
	struct sq *ready_head, *ready_tail;
	unsigned running;
	bool quiesced;
	bool stop;
	pthread_t *threads;
	unsigned nthreads;

	pthread_mutex_t cache_lock;
	struct clean *cache; /* CACHE_SLOTS */

	pthread_mutex_t ec_lock;
	struct erasure *ec[ERASURE_MAX_K + 1][ERASURE_MAX_M + 1];

	uint64_t tag;
	atomic_uint_fast64_t seq;
};

/* One stripe write in progress. */
struct wctx {
	struct osd_primary *p;
	struct osd *o;
	struct osd_map_snap *snap; /* reference */
	struct osd_stripe s;
	struct erasure *ec;
	unsigned k, m, w;
	uint32_t cs;
	const struct proto_osd_stripe_write_req *req;
	const uint8_t *data;
	uint64_t version;		   /* the new version, once written */
	uint32_t lens[PLACEMENT_MAX_WIDTH]; /* the new lengths */
};

/* What to send to one member. */
struct wop {
	uint16_t opcode; /* CHUNK_WRITE, CHUNK_TRUNCATE or 0 */
	uint32_t flags;	 /* PROTO_OSD_W_REPLACE or 0 */
	uint64_t base;
	uint32_t off;
	uint32_t len; /* CHUNK_WRITE */
	const uint8_t *buf;
	uint32_t size; /* CHUNK_TRUNCATE */
};

/* ---- versions, erasure handles, cache ---------------------------------------- */

static uint64_t next_version(struct osd_primary *p, uint64_t above)
{
	uint_fast64_t cur = atomic_load(&p->seq), want = (above >> TAG_BITS) + 1, next;

	do {
		next = cur >= want ? cur + 1 : want;
	} while (!atomic_compare_exchange_weak(&p->seq, &cur, next));
	return ((uint64_t)next << TAG_BITS) | p->tag;
}

static struct erasure *ec_get(struct osd_primary *p, unsigned k, unsigned m)
{
	struct erasure *ec;

	if (k > ERASURE_MAX_K || m > ERASURE_MAX_M)
		return NULL;
	pthread_mutex_lock(&p->ec_lock);
	if (!p->ec[k][m])
		p->ec[k][m] = erasure_new(k, m);
	ec = p->ec[k][m];
	pthread_mutex_unlock(&p->ec_lock);
	return ec;
}

static struct clean *cache_slot(struct osd_primary *p, uint32_t pool, uint64_t ino,
				uint64_t stripe)
{
	uint64_t h = (ino * 0x9e3779b97f4a7c15ull) ^ ((stripe + pool) * 0xbf58476d1ce4e5b9ull);

	return &p->cache[(h ^ (h >> 31)) % CACHE_SLOTS];
}

/*
 * The cached clean state of c's stripe, if it still holds: same acting set,
 * every up member among the holders, and our own chunk's newest matching.
 */
static bool cache_get(struct wctx *c, uint64_t *version, uint32_t *lens)
{
	struct clean *e = cache_slot(c->p, c->s.pool->id, c->s.ino, c->s.stripe);
	struct osd_chunk_id id = osd_stripe_chunk(&c->s, (unsigned)c->s.self);
	struct osd_chunk_version v;
	bool ok;

	pthread_mutex_lock(&c->p->cache_lock);
	ok = e->pool == c->s.pool->id && e->ino == c->s.ino && e->stripe == c->s.stripe &&
	     e->width == c->w && memcmp(e->ids, c->s.act.ids, c->w * sizeof(e->ids[0])) == 0;
	for (unsigned i = 0; ok && i < c->w; i++)
		if (c->s.act.up[i] && !(e->mask & (1ull << i)))
			ok = false;
	if (ok) {
		*version = e->version;
		memcpy(lens, e->lens, c->w * sizeof(*lens));
	}
	pthread_mutex_unlock(&c->p->cache_lock);
	return ok && osd_chunk_newest(c->o->st, &id, &v) == 0 && v.version == *version;
}

static void cache_put(struct wctx *c, uint64_t mask)
{
	struct clean *e = cache_slot(c->p, c->s.pool->id, c->s.ino, c->s.stripe);

	pthread_mutex_lock(&c->p->cache_lock);
	e->pool = c->s.pool->id;
	e->ino = c->s.ino;
	e->stripe = c->s.stripe;
	e->version = c->version;
	e->mask = mask;
	e->width = c->w;
	memcpy(e->ids, c->s.act.ids, c->w * sizeof(e->ids[0]));
	memcpy(e->lens, c->lens, c->w * sizeof(e->lens[0]));
	pthread_mutex_unlock(&c->p->cache_lock);
}

static void cache_drop(struct wctx *c)
{
	struct clean *e = cache_slot(c->p, c->s.pool->id, c->s.ino, c->s.stripe);

	pthread_mutex_lock(&c->p->cache_lock);
	if (e->pool == c->s.pool->id && e->ino == c->s.ino && e->stripe == c->s.stripe)
		e->pool = 0;
	pthread_mutex_unlock(&c->p->cache_lock);
}

/* ---- sending the chunks -------------------------------------------------------- */

static void send_op(struct wctx *c, struct osd_fan *f, unsigned i, const struct wop *op)
{
	struct proto_osd_chunk_write_req wq = {
		.map_epoch = osd_map_snap_epoch(c->snap), .pool_id = c->s.pool->id,
		.id = {c->s.ino, c->s.stripe, (uint8_t)i}, .version = c->version,
		.offset = op->off, .length = op->len, .flags = op->flags,
		.base_version = op->base};
	struct proto_osd_chunk_truncate_req tq = {
		.map_epoch = wq.map_epoch, .pool_id = wq.pool_id, .id = wq.id,
		.version = c->version, .size = op->size, .flags = op->flags,
		.base_version = op->base};
	struct iovec *iov = NULL;
	uint8_t body[96];
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, sizeof(body));
	if (op->opcode == PROTO_OP_OSD_CHUNK_WRITE)
		proto_osd_chunk_write_req_encode(&wq, &e);
	else
		proto_osd_chunk_truncate_req_encode(&tq, &e);
	wire_enc_finish(&e, &len);
	if (op->opcode == PROTO_OP_OSD_CHUNK_WRITE) {
		iov = &f->slot[i].iov; /* lives until the fan is finished */
		*iov = (struct iovec){(void *)op->buf, op->len};
	}
	osd_fan_call(f, i, c->s.act.ids[i],
		     &(struct rpc_call){.opcode = op->opcode, .body = body,
					.body_len = (uint32_t)len, .data = iov,
					.data_cnt = iov ? 1 : 0,
					.timeout_ms = c->o->call_timeout_ms});
}

static int apply_local(struct wctx *c, const struct wop *op)
{
	struct osd_chunk_id id = osd_stripe_chunk(&c->s, (unsigned)c->s.self);
	bool z = c->s.pool->compression == PROTO_COMPRESS_ZSTD;

	if (op->opcode == PROTO_OP_OSD_CHUNK_WRITE)
		return osd_chunk_write(c->o->st, &id, c->version, op->base, op->off, op->buf,
				       op->len, op->flags, z);
	return osd_chunk_truncate(c->o->st, &id, c->version, op->base, op->size, op->flags, z);
}

/* Rank of an error for the writer: the most telling one wins. */
static int err_rank(int err)
{
	if (err == -ENOSPC || err == -EDQUOT)
		return 6;
	if (err == -CAIRN_ESTALEMAP || err == -CAIRN_ENOTPRIMARY)
		return 5;
	if (err == -ESTALE || err == -ENOENT)
		return 4;
	if (osd_call_unreachable(err) || err == -EAGAIN)
		return 3;
	return 2;
}

static int err_for_writer(int err)
{
	switch (err_rank(err)) {
	case 6:
		return -ENOSPC;
	case 5:
		return -CAIRN_ESTALEMAP;
	case 4:
		return -ESTALE; /* a refused precondition: the caller may retry */
	case 3:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/* A CHUNK_TRIM of c->version of position i's chunk. */
static size_t trim_body(const struct wctx *c, unsigned i, uint32_t flags, uint8_t *body,
			size_t cap)
{
	struct proto_osd_chunk_trim_req q = {.map_epoch = osd_map_snap_epoch(c->snap),
					     .pool_id = c->s.pool->id,
					     .id = {c->s.ino, c->s.stripe, (uint8_t)i},
					     .version = c->version,
					     .flags = flags};
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, cap);
	proto_osd_chunk_trim_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	return len;
}

/*
 * Undoes a failed write: removes c->version wherever it was sent (a member
 * that did not write it answers -ENOENT), and waits, so that the stripe is
 * back as it was when the writer hears of the failure.
 */
static void rollback(struct wctx *c, const struct wop *ops)
{
	struct osd_chunk_id id = osd_stripe_chunk(&c->s, (unsigned)c->s.self);
	struct osd_fan f;
	uint8_t body[64];
	int ret;

	osd_fan_init(&f, c->o, c->snap);
	for (unsigned i = 0; i < c->w; i++) {
		size_t len;

		if (!c->s.act.up[i] || (int)i == c->s.self || !ops[i].opcode)
			continue;
		len = trim_body(c, i, PROTO_OSD_TRIM_ROLLBACK, body, sizeof(body));
		osd_fan_call(&f, i, c->s.act.ids[i],
			     &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_TRIM, .body = body,
						.body_len = (uint32_t)len,
						.timeout_ms = c->o->call_timeout_ms});
	}
	if (ops[c->s.self].opcode) {
		ret = osd_store_drop(c->o->st, &id, c->version);
		if (ret && ret != -ENOENT)
			log_warn("primary: rolling back our chunk failed: %s", error_str(ret));
	}
	osd_fan_wait(&f);
	for (unsigned i = 0; i < c->w; i++)
		if (f.slot[i].used && f.slot[i].status && f.slot[i].status != -ENOENT)
			log_warn("primary: rolling back chunk %u on OSD %u failed: %s", i,
				 c->s.act.ids[i], error_str(f.slot[i].status));
	osd_fan_finish(&f);
}

/*
 * Sends ops[i] to every up member (ours to the store) as c->version and
 * waits.  Returns 0 when all succeeded, else the writer's error.
 */
static int execute(struct wctx *c, const struct wop *ops)
{
	int st[PLACEMENT_MAX_WIDTH] = {0}, worst = 0;
	struct osd_fan f;

	osd_fan_init(&f, c->o, c->snap);
	for (unsigned i = 0; i < c->w; i++)
		if (c->s.act.up[i] && (int)i != c->s.self && ops[i].opcode)
			send_op(c, &f, i, &ops[i]);
	if (ops[c->s.self].opcode)
		st[c->s.self] = apply_local(c, &ops[c->s.self]);
	fault_point("osd-primary-local-written");
	osd_fan_wait(&f);
	for (unsigned i = 0; i < c->w; i++)
		if (f.slot[i].used)
			st[i] = f.slot[i].status;
	osd_fan_finish(&f);
	for (unsigned i = 0; i < c->w; i++) {
		if (!st[i])
			continue;
		log_warn("primary: writing chunk %u of %016" PRIx64 ".%" PRIu64
			 " v%" PRIx64 " on OSD %u failed: %s",
			 i, c->s.ino, c->s.stripe, c->version, c->s.act.ids[i], error_str(st[i]));
		if (!worst || err_rank(st[i]) > err_rank(worst))
			worst = st[i];
	}
	if (worst)
		rollback(c, ops);
	return worst ? err_for_writer(worst) : 0;
}

/* Whole-chunk writes of bufs[i] (lens[i] bytes; 0: an empty chunk). */
static void replace_ops(const struct wctx *c, uint8_t *const *bufs, const uint32_t *lens,
			struct wop *ops)
{
	for (unsigned i = 0; i < c->w; i++) {
		if (!c->s.act.up[i])
			ops[i] = (struct wop){0};
		else if (lens[i] > 0)
			ops[i] = (struct wop){.opcode = PROTO_OP_OSD_CHUNK_WRITE,
					      .flags = PROTO_OSD_W_REPLACE, .len = lens[i],
					      .buf = bufs[i]};
		else
			ops[i] = (struct wop){.opcode = PROTO_OP_OSD_CHUNK_TRUNCATE,
					      .flags = PROTO_OSD_W_REPLACE, .size = 0};
	}
}

/* The newest version any probed member holds (0: none). */
static uint64_t probe_max(const struct wctx *c, const struct osd_chunk_state *cs)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < c->w; i++)
		if (cs[i].err == 0 && cs[i].version > v)
			v = cs[i].version;
	return v;
}

/*
 * Writes whole chunks bufs/lens at a version above `above`; after a refusal
 * (a member holds a newer version) probes and tries again above that.
 */
static int write_whole(struct wctx *c, uint8_t *const *bufs, const uint32_t *lens, uint64_t above)
{
	struct osd_chunk_state cs[PLACEMENT_MAX_WIDTH];
	struct wop ops[PLACEMENT_MAX_WIDTH];
	int ret = -ESTALE;

	replace_ops(c, bufs, lens, ops);
	memcpy(c->lens, lens, c->w * sizeof(*lens));
	for (int attempt = 0; attempt < ATTEMPTS && ret == -ESTALE; attempt++) {
		if (attempt > 0) {
			osd_stripe_probe(c->o, c->snap, &c->s, cs);
			if (probe_max(c, cs) > above)
				above = probe_max(c, cs);
		}
		c->version = next_version(c->p, above);
		ret = execute(c, ops);
	}
	return ret;
}

/* ---- the three ways to write ------------------------------------------------------ */

/* The part of the write that falls in data chunk j: [*a, *b) and its bytes. */
static bool piece(const struct wctx *c, unsigned j, uint32_t *a, uint32_t *b,
		  const uint8_t **src)
{
	uint64_t lo = (uint64_t)j * c->cs, hi = lo + c->cs;
	uint64_t s = c->req->offset, e = s + c->req->length;

	if (e <= lo || s >= hi)
		return false;
	*a = (uint32_t)((s > lo ? s : lo) - lo);
	*b = (uint32_t)((e < hi ? e : hi) - lo);
	*src = c->data + (lo + *a - s);
	return true;
}

/* Applies the write to whole-chunk buffers and recomputes parity. */
static int apply_to_stripe(struct wctx *c, uint8_t *const *bufs, uint32_t *lens)
{
	uint32_t a, b, lp = 0;
	const uint8_t *src;

	for (unsigned j = 0; j < c->k; j++) {
		if (piece(c, j, &a, &b, &src)) {
			memcpy(bufs[j] + a, src, b - a);
			if (b > lens[j])
				lens[j] = b;
		}
		if (lens[j] > lp)
			lp = lens[j];
	}
	for (unsigned q = c->k; q < c->w; q++)
		lens[q] = lp;
	return erasure_encode(c->ec, (const uint8_t *const *)bufs, bufs + c->k, lp);
}

static int write_full(struct wctx *c)
{
	uint8_t *bufs[PLACEMENT_MAX_WIDTH];
	uint32_t lens[PLACEMENT_MAX_WIDTH];
	struct osd_chunk_id id = osd_stripe_chunk(&c->s, (unsigned)c->s.self);
	struct osd_chunk_version own;
	uint64_t above = 0;
	uint8_t *parity = NULL;
	int ret;

	if (c->m) {
		if (posix_memalign((void **)&parity, 4096, (size_t)c->m * c->cs) != 0)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < c->w; i++) {
		bufs[i] = i < c->k ? (uint8_t *)c->data + (size_t)i * c->cs
				   : parity + (size_t)(i - c->k) * c->cs;
		lens[i] = c->cs;
	}
	ret = erasure_encode(c->ec, (const uint8_t *const *)bufs, bufs + c->k, c->cs);
	if (osd_chunk_newest(c->o->st, &id, &own) == 0)
		above = own.version;
	if (ret == 0)
		ret = write_whole(c, bufs, lens, above);
	free(parity);
	return ret;
}

/* One block of w chunk buffers, zeroed. */
static uint8_t *stripe_bufs(const struct wctx *c, uint8_t **bufs)
{
	uint8_t *mem = NULL;

	if (posix_memalign((void **)&mem, 4096, (size_t)c->w * c->cs) != 0)
		return NULL;
	memset(mem, 0, (size_t)c->w * c->cs);
	for (unsigned i = 0; i < c->w; i++)
		bufs[i] = mem + (size_t)i * c->cs;
	return mem;
}

/*
 * Reads the readable version of the stripe into bufs/lens, as a reader
 * resolves it: the newest version that at least k up members hold.  With
 * no chunk anywhere the stripe is all zeros.  Returns 0 or -EIO.
 */
static int resolve(struct wctx *c, const struct osd_chunk_state *cs, uint8_t *const *bufs,
		   uint32_t *lens)
{
	uint64_t cand = UINT64_MAX;
	bool any = false;

	for (unsigned i = 0; i < c->w; i++)
		any |= cs[i].err == 0;
	if (!any)
		return 0;
	for (;;) {
		bool want[PLACEMENT_MAX_WIDTH], got[PLACEMENT_MAX_WIDTH];
		uint64_t next = 0;
		unsigned holders = 0, n;
		uint32_t lmax = 0;

		for (unsigned i = 0; i < c->w; i++) /* the next candidate down */
			if (cs[i].err == 0 && cs[i].version < cand && cs[i].version > next)
				next = cs[i].version;
		if (next == 0)
			break;
		cand = next;
		for (unsigned i = 0; i < c->w; i++) {
			want[i] = cs[i].err == 0 && cs[i].version >= cand;
			holders += want[i];
		}
		if (holders < c->k)
			continue;
		n = osd_stripe_read_version(c->o, c->snap, &c->s, cand, want, bufs, lens, got);
		if (n < c->k)
			continue;
		for (unsigned i = 0; i < c->w; i++)
			if (got[i] && lens[i] > lmax)
				lmax = lens[i];
		for (unsigned i = 0; i < c->w; i++)
			if (!got[i])
				lens[i] = lmax; /* rebuilt: zeros past its end anyway */
		return erasure_decode(c->ec, bufs, got, c->cs) ? -EIO : 0;
	}
	log_error("primary: stripe %016" PRIx64 ".%" PRIu64 " of pool %u: no version is held "
		  "by %u readable chunks",
		  c->s.ino, c->s.stripe, c->s.pool->id, c->k);
	return -EIO;
}

/* Partial write by rewriting the whole stripe from its readable version. */
static int write_rebuild(struct wctx *c, const struct osd_chunk_state *cs)
{
	uint8_t *bufs[PLACEMENT_MAX_WIDTH];
	uint32_t lens[PLACEMENT_MAX_WIDTH] = {0};
	uint8_t *mem = stripe_bufs(c, bufs);
	int ret;

	if (!mem)
		return -ENOMEM;
	ret = resolve(c, cs, bufs, lens);
	if (ret == 0)
		ret = apply_to_stripe(c, bufs, lens);
	if (ret == 0)
		ret = write_whole(c, bufs, lens, probe_max(c, cs));
	free(mem);
	return ret;
}

/* Replication: every member gets the same range, based on version v. */
static int update_replicas(struct wctx *c, uint64_t v, const uint32_t *lens)
{
	struct wop ops[PLACEMENT_MAX_WIDTH] = {{0}};
	uint32_t a = c->req->offset, b = a + c->req->length;

	for (unsigned i = 0; i < c->w; i++) {
		c->lens[i] = lens[i] > b ? lens[i] : b;
		if (c->s.act.up[i])
			ops[i] = (struct wop){.opcode = PROTO_OP_OSD_CHUNK_WRITE, .base = v,
					      .off = a, .len = b - a, .buf = c->data};
	}
	c->version = next_version(c->p, v);
	return execute(c, ops);
}

struct incr {
	bool touched[PLACEMENT_MAX_WIDTH];
	uint32_t a[PLACEMENT_MAX_WIDTH], b[PLACEMENT_MAX_WIDTH];
	const uint8_t *src[PLACEMENT_MAX_WIDTH];
	uint32_t lo, hi; /* hull of the touched ranges */
	struct osd_range_read r[PLACEMENT_MAX_WIDTH];
	uint8_t *mem;
};

/* Plans the reads of the old bytes; -ESTALE when a touched member is down. */
static int incr_plan(struct wctx *c, struct incr *in)
{
	size_t need = 0, at = 0;

	in->lo = UINT32_MAX;
	in->hi = 0;
	for (unsigned j = 0; j < c->k; j++) {
		in->touched[j] = piece(c, j, &in->a[j], &in->b[j], &in->src[j]);
		if (!in->touched[j])
			continue;
		if (!c->s.act.up[j])
			return -ESTALE; /* its old bytes need a decode: rebuild */
		in->lo = in->a[j] < in->lo ? in->a[j] : in->lo;
		in->hi = in->b[j] > in->hi ? in->b[j] : in->hi;
		need += in->b[j] - in->a[j];
	}
	need += (size_t)c->m * (in->hi - in->lo);
	in->mem = calloc(1, need ? need : 1);
	if (!in->mem)
		return -ENOMEM;
	for (unsigned i = 0; i < c->w; i++) {
		bool data = i < c->k;
		uint32_t off = data ? in->a[i] : in->lo, len = data ? in->b[i] - in->a[i]
								  : in->hi - in->lo;

		in->r[i] = (struct osd_range_read){.want = data ? in->touched[i] : c->s.act.up[i],
						   .off = off, .len = len, .buf = in->mem + at};
		if (data ? in->touched[i] : true)
			at += len;
	}
	return 0;
}

/* New parity over [lo, hi) in the parity read buffers, from old and new data. */
static int incr_parity(struct wctx *c, struct incr *in)
{
	uint8_t *pp[ERASURE_MAX_M];

	for (unsigned j = 0; j < c->k; j++) {
		if (!in->touched[j])
			continue;
		for (unsigned q = 0; q < c->m; q++)
			pp[q] = in->r[c->k + q].buf + (in->a[j] - in->lo);
		if (erasure_update(c->ec, j, in->r[j].buf, in->src[j], pp, in->b[j] - in->a[j]))
			return -EIO;
	}
	return 0;
}

static void incr_ops(struct wctx *c, const struct incr *in, uint64_t v, const uint32_t *lens,
		     struct wop *ops)
{
	for (unsigned i = 0; i < c->w; i++) {
		ops[i] = (struct wop){.base = v};
		c->lens[i] = lens[i];
		if (i < c->k && in->touched[i]) {
			ops[i].opcode = PROTO_OP_OSD_CHUNK_WRITE;
			ops[i].off = in->a[i];
			ops[i].len = in->b[i] - in->a[i];
			ops[i].buf = in->src[i];
			c->lens[i] = lens[i] > in->b[i] ? lens[i] : in->b[i];
		} else if (i < c->k) {
			ops[i].opcode = PROTO_OP_OSD_CHUNK_TRUNCATE;
			ops[i].size = lens[i];
		} else {
			ops[i].opcode = PROTO_OP_OSD_CHUNK_WRITE;
			ops[i].off = in->lo;
			ops[i].len = in->hi - in->lo;
			ops[i].buf = in->r[i].buf;
			c->lens[i] = lens[i] > in->hi ? lens[i] : in->hi;
		}
		if (!c->s.act.up[i])
			ops[i].opcode = 0;
	}
}

/*
 * A failed read of old bytes: an unreachable member fails the write, a map
 * disagreement sends the client back to the map, anything else (no such
 * version, a damaged block) means the stripe is not as clean as we thought.
 */
static int read_err(int err)
{
	if (osd_call_unreachable(err) || err == -EAGAIN)
		return -EAGAIN;
	if (err == -CAIRN_ESTALEMAP || err == -CAIRN_ENOTPRIMARY)
		return -CAIRN_ESTALEMAP;
	return -ESTALE;
}

/* Partial write on a stripe clean at version v with lengths lens. */
static int write_incremental(struct wctx *c, uint64_t v, const uint32_t *lens)
{
	struct wop ops[PLACEMENT_MAX_WIDTH];
	struct incr in = {.mem = NULL};
	int ret;

	if (c->k == 1)
		return update_replicas(c, v, lens);
	ret = incr_plan(c, &in);
	if (ret == 0) {
		osd_stripe_read(c->o, c->snap, &c->s, v, in.r);
		for (unsigned i = 0; i < c->w && ret == 0; i++)
			if (in.r[i].want && in.r[i].err)
				ret = read_err(in.r[i].err);
	}
	if (ret == 0)
		ret = incr_parity(c, &in);
	if (ret == 0) {
		incr_ops(c, &in, v, lens, ops);
		c->version = next_version(c->p, v);
		ret = execute(c, ops);
	}
	free(in.mem);
	return ret;
}

/*
 * The stripe's state from a probe: 1 clean at *v with lens, 0 needs a
 * rebuild (members disagree or hold nothing), or -errno when a member
 * could not answer.
 */
static int probe_state(struct wctx *c, struct osd_chunk_state *cs, uint64_t *v, uint32_t *lens)
{
	bool first = true, same = true;

	osd_stripe_probe(c->o, c->snap, &c->s, cs);
	for (unsigned i = 0; i < c->w; i++) {
		if (!c->s.act.up[i])
			continue;
		if (cs[i].err && cs[i].err != -ENOENT)
			return err_for_writer(cs[i].err);
		if (cs[i].err || (!first && cs[i].version != *v))
			same = false;
		if (cs[i].err == 0 && first) {
			*v = cs[i].version;
			first = false;
		}
		lens[i] = cs[i].err ? 0 : cs[i].length;
	}
	return same && !first;
}

static int write_partial(struct wctx *c)
{
	struct osd_chunk_state cs[PLACEMENT_MAX_WIDTH];
	uint32_t lens[PLACEMENT_MAX_WIDTH] = {0};
	uint64_t v = 0;
	int ret, state;

	if (cache_get(c, &v, lens)) {
		ret = write_incremental(c, v, lens);
		if (ret != -ESTALE)
			return ret;
	}
	state = probe_state(c, cs, &v, lens);
	if (state < 0)
		return state;
	if (state == 1) {
		ret = write_incremental(c, v, lens);
		if (ret != -ESTALE)
			return ret;
		state = probe_state(c, cs, &v, lens);
		if (state < 0)
			return state;
	}
	return write_rebuild(c, cs);
}

/* ---- one request ------------------------------------------------------------------ */

static int not_primary(const struct wctx *c)
{
	uint64_t ours = osd_map_snap_epoch(c->snap);

	if (c->req->map_epoch < ours)
		return -CAIRN_ESTALEMAP;
	return c->req->map_epoch > ours ? -EAGAIN : -CAIRN_ENOTPRIMARY;
}

/* Finds the stripe's place and checks that we are its primary. */
static int wctx_init(struct wctx *c)
{
	const struct proto_osd_stripe_write_req *w = c->req;
	int ret;

	c->snap = osd_map_wait(c->o->map, w->map_epoch, MAP_WAIT_MS);
	if (!c->snap)
		return -EAGAIN;
	c->s.pool = osd_map_pool(c->snap, w->pool_id);
	if (!c->s.pool)
		return w->map_epoch > osd_map_snap_epoch(c->snap) ? -EAGAIN : -ENOENT;
	c->k = c->s.pool->k;
	c->m = c->s.pool->m;
	c->w = c->k + c->m;
	c->cs = c->s.pool->chunk_size;
	if ((uint64_t)w->offset + w->length > (uint64_t)c->k * c->cs)
		return -EINVAL;
	c->s.ino = w->ino;
	c->s.stripe = w->stripe;
	c->s.pg = placement_pg(w->ino, w->stripe, c->s.pool->pg_count);
	ret = osd_map_acting(c->snap, c->s.pool, c->s.pg, &c->s.act);
	if (ret)
		return ret;
	c->s.self = osd_acting_pos(&c->s.act, c->o->id);
	if (c->s.act.primary < 0 || c->s.act.primary != c->s.self)
		return not_primary(c);
	if (c->s.act.nup < c->k) {
		log_error("primary: stripe %016" PRIx64 ".%" PRIu64 " of pool %u: only %u of %u "
			  "members are up, %u needed",
			  w->ino, w->stripe, w->pool_id, c->s.act.nup, c->w, c->k);
		return -EIO;
	}
	c->ec = ec_get(c->p, c->k, c->m);
	return c->ec ? 0 : -ENOMEM;
}

/* Drops the older versions on every member, without waiting. */
static void trim_done(void *arg, int status, struct rpc_msg *resp)
{
	(void)arg;
	(void)status;
	rpc_msg_free(resp);
}

static void trim_all(struct wctx *c)
{
	struct osd_chunk_id id = osd_stripe_chunk(&c->s, (unsigned)c->s.self);

	osd_store_trim(c->o->st, &id, c->version);
	for (unsigned i = 0; i < c->w; i++) {
		const struct proto_map_osd *mo = osd_map_osd(c->snap, c->s.act.ids[i]);
		struct osd_peer *peer;
		uint8_t body[64];
		size_t len;

		if (!c->s.act.up[i] || (int)i == c->s.self || !mo ||
		    osd_peers_get(c->o->peers, mo->id, mo->addr.ptr, mo->addr.len, &peer) != 0)
			continue;
		len = trim_body(c, i, 0, body, sizeof(body));
		rpc_call_async(osd_peer_client(peer),
			       &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_TRIM, .body = body,
						  .body_len = (uint32_t)len,
						  .timeout_ms = c->o->call_timeout_ms},
			       trim_done, NULL);
		osd_peers_put(c->o->peers, peer);
	}
}

static uint64_t up_mask(const struct wctx *c)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < c->w; i++)
		if (c->s.act.up[i])
			mask |= 1ull << i;
	return mask;
}

static void reply_write(struct rpc_req *req, int status, uint64_t version)
{
	struct proto_osd_write_rep rep = {.version = version};
	uint8_t body[16];
	struct wire_enc e;
	size_t len = 0;

	if (status) {
		rpc_reply(req, status, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_write_rep_encode(&rep, &e);
	wire_enc_finish(&e, &len);
	rpc_reply(req, 0, body, (uint32_t)len, NULL, 0, NULL, NULL);
}

static void run_job(struct osd_primary *p, struct job *j)
{
	struct wctx c = {.p = p, .o = p->o, .req = &j->w, .data = rpc_req_msg(j->req)->data};
	int ret = wctx_init(&c);

	if (ret == 0) {
		bool full = j->w.offset == 0 && j->w.length == (uint64_t)c.k * c.cs;

		ret = full ? write_full(&c) : write_partial(&c);
		if (ret)
			cache_drop(&c);
		else
			cache_put(&c, up_mask(&c));
	}
	atomic_fetch_add(&p->o->counters.stripe_writes, 1);
	if (ret)
		atomic_fetch_add(&p->o->counters.stripe_write_errors, 1);
	fault_point("osd-primary-before-reply");
	reply_write(j->req, ret, c.version);
	if (ret == 0)
		trim_all(&c);
	osd_map_put(c.snap);
}

/* ---- the queue ---------------------------------------------------------------------- */

static struct sq **sq_link(struct osd_primary *p, uint32_t pool, uint64_t ino, uint64_t stripe)
{
	uint64_t h = (ino * 0x9e3779b97f4a7c15ull) ^ ((stripe + pool) * 0xbf58476d1ce4e5b9ull);
	struct sq **link = &p->buckets[(h ^ (h >> 29)) % SQ_BUCKETS];

	while (*link && !((*link)->pool == pool && (*link)->ino == ino && (*link)->stripe == stripe))
		link = &(*link)->hnext;
	return link;
}

static void ready_push(struct osd_primary *p, struct sq *q)
{
	q->ready = true;
	q->rnext = NULL;
	if (p->ready_tail)
		p->ready_tail->rnext = q;
	else
		p->ready_head = q;
	p->ready_tail = q;
	pthread_cond_signal(&p->cond);
}

void osd_primary_submit(struct osd_primary *p, struct rpc_req *req,
			const struct proto_osd_stripe_write_req *w)
{
	struct job *j = calloc(1, sizeof(*j));
	struct sq **link, *q;

	if (!j) {
		rpc_reply(req, -ENOMEM, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	j->req = req;
	j->w = *w;
	pthread_mutex_lock(&p->lock);
	if (p->quiesced)
		goto refuse;
	link = sq_link(p, w->pool_id, w->ino, w->stripe);
	q = *link;
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			goto refuse;
		*q = (struct sq){.pool = w->pool_id, .ino = w->ino, .stripe = w->stripe};
		*link = q;
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (!q->running && !q->ready)
		ready_push(p, q);
	pthread_mutex_unlock(&p->lock);
	return;
refuse:
	pthread_mutex_unlock(&p->lock);
	rpc_reply(req, p->quiesced ? -ESHUTDOWN : -ENOMEM, NULL, 0, NULL, 0, NULL, NULL);
	free(j);
}

/* Takes the next job of the first ready stripe (lock held); NULL to stop. */
static struct job *take_job(struct osd_primary *p, struct sq **qp)
{
	struct sq *q;
	struct job *j;

	while (!p->stop && !p->ready_head)
		pthread_cond_wait(&p->cond, &p->lock);
	if (p->stop)
		return NULL;
	q = p->ready_head;
	p->ready_head = q->rnext;
	if (!p->ready_head)
		p->ready_tail = NULL;
	q->ready = false;
	j = q->head;
	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	q->running = true;
	p->running++;
	*qp = q;
	return j;
}

/* After a job (lock held): requeue the stripe or forget it. */
static void job_done(struct osd_primary *p, struct sq *q)
{
	q->running = false;
	if (q->head && !p->quiesced) {
		ready_push(p, q);
	} else if (!q->head) {
		*sq_link(p, q->pool, q->ino, q->stripe) = q->hnext;
		free(q);
	}
	if (--p->running == 0)
		pthread_cond_broadcast(&p->idle);
}

static void *writer_main(void *arg)
{
	struct osd_primary *p = arg;
	struct sq *q;
	struct job *j;

	pthread_mutex_lock(&p->lock);
	while ((j = take_job(p, &q)) != NULL) {
		pthread_mutex_unlock(&p->lock);
		run_job(p, j);
		free(j);
		pthread_mutex_lock(&p->lock);
		job_done(p, q);
	}
	pthread_mutex_unlock(&p->lock);
	osd_store_thread_cleanup();
	return NULL;
}

int osd_primary_start(struct osd *o, unsigned threads, struct osd_primary **out)
{
	struct osd_primary *p;
	int ret = 0;

	if (threads < 1)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = o;
	p->cache = calloc(CACHE_SLOTS, sizeof(*p->cache));
	p->threads = calloc(threads, sizeof(*p->threads));
	if (!p->cache || !p->threads) {
		free(p->cache);
		free(p->threads);
		free(p);
		return -ENOMEM;
	}
	if (getrandom(&p->tag, sizeof(p->tag), 0) != sizeof(p->tag))
		p->tag = (uint64_t)time(NULL) ^ ((uint64_t)o->id << 8);
	p->tag &= (1ull << TAG_BITS) - 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_mutex_init(&p->cache_lock, NULL);
	pthread_mutex_init(&p->ec_lock, NULL);
	for (; p->nthreads < threads && ret == 0; p->nthreads++)
		ret = -pthread_create(&p->threads[p->nthreads], NULL, writer_main, p);
	if (ret) {
		p->nthreads--;
		osd_primary_stop(p);
		return ret;
	}
	*out = p;
	return 0;
}

void osd_primary_quiesce(struct osd_primary *p)
{
	struct job *refused = NULL, *j;

	pthread_mutex_lock(&p->lock);
	p->quiesced = true;
	for (unsigned b = 0; b < SQ_BUCKETS; b++) {
		for (struct sq **link = &p->buckets[b]; *link;) {
			struct sq *q = *link;

			while ((j = q->head) != NULL) {
				q->head = j->next;
				j->next = refused;
				refused = j;
			}
			q->tail = NULL;
			if (!q->running) {
				*link = q->hnext;
				free(q);
			} else {
				link = &q->hnext;
			}
		}
	}
	p->ready_head = p->ready_tail = NULL;
	while (p->running > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	while ((j = refused) != NULL) {
		refused = j->next;
		rpc_reply(j->req, -ESHUTDOWN, NULL, 0, NULL, 0, NULL, NULL);
		free(j);
	}
}

void osd_primary_stop(struct osd_primary *p)
{
	if (!p)
		return;
	osd_primary_quiesce(p);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned k = 0; k <= ERASURE_MAX_K; k++)
		for (unsigned m = 0; m <= ERASURE_MAX_M; m++)
			erasure_free(p->ec[k][m]);
	pthread_mutex_destroy(&p->ec_lock);
	pthread_mutex_destroy(&p->cache_lock);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->cache);
	free(p->threads);
	free(p);
}
