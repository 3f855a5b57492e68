/*
 * data.c - libcairn's data path (data.h): striped reads with version
 * resolution and degraded decoding, stripe writes to the PG primaries, and
 * the chunk deletion of a truncate.
 *
 * Threads: callers' threads build and wait for batches of calls; the
 * completion callback (dcall_done) runs on the mdsc engine's I/O threads and
 * only stores the result and counts down the batch under its mutex.
 * Ownership: a batch and its calls live on the caller's heap for the
 * duration of one wait; responses are freed as soon as they are consumed.
 */
#include "client/data.h"
#include "client/cinode.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/mdsc.h"
#include "client/mdsc_int.h"
#include "common/erasure.h"
#include "common/error.h"
#include "common/log.h"
#include "common/placement.h"
#include "common/rpc.h"
#include "proto/map_place.h"
#include "proto/osd.h"

#define W_MAX ERASURE_MAX_CHUNKS
#define READ_TIMEOUT_MS 3000
#define WRITE_ATTEMPTS 20
#define BODY_MAX 96

/* ---- batches of asynchronous calls ---- */

/*
 * The first call of a batch is held back: if it stays the only one,
 * dbatch_wait() makes it as a blocking call, whose caller reads its own
 * answer (one thread wake-up instead of two: the common 4 KiB read).
 */
struct dheld {
	struct dcall *d;
	struct rpc_client *cli;
	struct rpc_call call;
	uint8_t body[BODY_MAX];
};

struct dbatch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending;
	unsigned sent; /* calls submitted (the submitting thread's count) */
	bool held;
	struct dheld h;
};

struct dcall {
	struct dbatch *b;
	int status;
	struct rpc_msg *resp;
	uint8_t *rx;	  /* where read bytes go */
	uint32_t want;	  /* bytes asked */
	uint64_t version; /* out: the chunk's version (0: absent) */
};

static void dbatch_init(struct dbatch *b)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->pending = 0;
	b->sent = 0;
	b->held = false;
}

static void dcall_done(void *arg, int status, struct rpc_msg *resp);

/* Submits call asynchronously as part of b. */
static void dcall_async(struct dbatch *b, struct dcall *d, struct rpc_client *cli,
			const struct rpc_call *call)
{
	int rc;

	b->sent++;
	pthread_mutex_lock(&b->lock);
	b->pending++;
	pthread_mutex_unlock(&b->lock);
	d->status = 0;
	rc = rpc_call_async(cli, call, dcall_done, d);
	if (rc) {
		pthread_mutex_lock(&b->lock);
		b->pending--;
		pthread_mutex_unlock(&b->lock);
		d->status = rc;
	}
}

/* Sends the held call asynchronously: another one joined the batch. */
static void dbatch_release(struct dbatch *b)
{
	if (!b->held)
		return;
	b->held = false;
	dcall_async(b, b->h.d, b->h.cli, &b->h.call);
}

static void dbatch_wait(struct dbatch *b)
{
	if (b->held) {
		b->held = false;
		b->h.d->status = rpc_call_sync(b->h.cli, &b->h.call, &b->h.d->resp);
	}
	pthread_mutex_lock(&b->lock);
	while (b->pending)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

static void dcall_done(void *arg, int status, struct rpc_msg *resp)
{
	struct dcall *d = arg;
	struct dbatch *b = d->b;

	d->status = status;
	d->resp = resp;
	pthread_mutex_lock(&b->lock);
	if (--b->pending == 0)
		pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* Sends call to OSD osd_id of map; a down or unknown OSD fails it at once. */
static void dcall_send(struct dbatch *b, struct dcall *d, const struct data_file *f,
		       const struct proto_map *map, uint32_t osd_id, const struct rpc_call *call)
{
	const struct proto_map_osd *o = proto_map_osd_find(map, osd_id);
	struct rpc_client *cli;
	int rc;

	d->b = b;
	d->resp = NULL;
	d->version = 0;
	if (!o || !(o->flags & PROTO_MAP_OSD_UP)) {
		d->status = -EHOSTDOWN;
		return;
	}
	rc = mdsc_osd_client(f->mdsc, o->addr.ptr, o->addr.len, &cli);
	if (rc) {
		d->status = rc;
		return;
	}
	if (b->sent == 0 && !b->held && call->body_len <= BODY_MAX) {
		b->held = true;
		b->h.d = d;
		b->h.cli = cli;
		b->h.call = *call;
		memcpy(b->h.body, call->body, call->body_len);
		b->h.call.body = b->h.body;
		d->status = 0;
		return;
	}
	dbatch_release(b);
	dcall_async(b, d, cli, call);
}

/* The acting set of a stripe in map.  Returns 0 or -errno. */
static int stripe_acting(const struct data_file *f, const struct proto_map *map, uint64_t stripe,
			 uint32_t *ids, bool *up)
{
	const struct proto_map_pool *pool = proto_map_pool_find(map, f->layout.pool_id);
	int rc;

	if (!pool) {
		log_error("data: pool %u of inode %llu is not in the map", f->layout.pool_id,
			  (unsigned long long)f->ino);
		return -EIO;
	}
	if (pool->k != f->layout.k || pool->m != f->layout.m ||
	    pool->chunk_size != f->layout.chunk_size)
		return -EIO;
	rc = proto_map_acting(map, pool, placement_pg(f->ino, stripe, pool->pg_count), ids, up);
	return rc < 0 ? rc : 0;
}

/* ---- reads ---- */

/* Sends CHUNK_READ of chunk idx [off, off + len) at version into rx. */
static void read_send(struct dbatch *b, struct dcall *d, const struct data_file *f,
		      const struct proto_map *map, uint32_t osd, uint64_t stripe, unsigned idx,
		      uint32_t off, uint32_t len, uint64_t version, uint8_t *rx)
{
	struct proto_osd_chunk_read_req q = {.map_epoch = map->epoch,
					     .pool_id = f->layout.pool_id,
					     .id = {f->ino, stripe, (uint8_t)idx},
					     .offset = off,
					     .length = len,
					     .version = version};
	uint8_t body[BODY_MAX];
	struct wire_enc e;
	size_t blen = 0;
	int tmo = f->mdsc->timeout_ms < READ_TIMEOUT_MS ? f->mdsc->timeout_ms : READ_TIMEOUT_MS;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_read_req_encode(&q, &e);
	wire_enc_finish(&e, &blen);
	d->rx = rx;
	d->want = len;
	dcall_send(b, d, f, map,
		   osd,
		   &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_READ, .body = body,
				      .body_len = (uint32_t)blen, .rx_buf = rx, .rx_cap = len,
				      .timeout_ms = tmo});
}

/*
 * Consumes a read's reply: bytes into d->rx, zeros after them.  Returns 0
 * (d->version set), 1 for an absent chunk (zeros, version 0), or -errno.
 */
static int read_result(struct dcall *d)
{
	struct proto_osd_chunk_read_rep rep = {0};
	struct wire_dec dec;
	int rc = d->status;

	if (rc == 0) {
		mdsc_dec_init(&dec, d->resp);
		rc = proto_osd_chunk_read_rep_decode(&dec, &rep);
		if (rc == 0 && (rep.length != d->resp->data_len || rep.length > d->want ||
				rep.version == 0))
			rc = -CAIRN_EBADFRAME;
	}
	if (rc == 0 && rep.length && d->resp->data != d->rx)
		memcpy(d->rx, d->resp->data, rep.length);
	rpc_msg_free(d->resp);
	d->resp = NULL;
	d->status = rc;
	if (rc == -ENOENT) {
		memset(d->rx, 0, d->want);
		d->version = 0;
		return 1;
	}
	if (rc)
		return rc;
	memset(d->rx + rep.length, 0, d->want - rep.length);
	d->version = rep.version;
	return 0;
}

/* One stripe of a read. */
struct sread {
	uint64_t stripe;
	uint32_t soff, slen; /* range within the stripe */
	uint8_t *dst;	     /* its bytes in the caller's buffer */
	int err;	     /* acting set error */
	bool cached;	     /* asked only for data, at the cached version */
	uint64_t version;    /* the cached version, or the one the read found */
	uint32_t ids[W_MAX];
	bool up[W_MAX];
	bool asked[W_MAX];
	struct dcall c[W_MAX];
	uint8_t probe[W_MAX];
};

/* The range [*a, *b) of data chunk i that the stripe read needs; false if none. */
static bool chunk_range(const struct data_file *f, const struct sread *s, unsigned i, uint32_t *a,
			uint32_t *b)
{
	uint64_t cs = f->layout.chunk_size, lo = (uint64_t)i * cs, hi = lo + cs;
	uint64_t s0 = s->soff, s1 = (uint64_t)s->soff + s->slen;

	if (s1 <= lo || s0 >= hi)
		return false;
	*a = (uint32_t)((s0 > lo ? s0 : lo) - lo);
	*b = (uint32_t)((s1 < hi ? s1 : hi) - lo);
	return true;
}

static uint8_t *chunk_dst(const struct data_file *f, const struct sread *s, unsigned i, uint32_t a)
{
	return s->dst + ((uint64_t)i * f->layout.chunk_size + a - s->soff);
}

/* Whether the stripe's version is cached and every data chunk needed is up. */
static bool sread_cached(const struct data_file *f, const struct proto_map *map, struct sread *s)
{
	uint32_t a, z;

	if (!f->ci || !cinode_vget(f->ci, map->epoch, s->stripe, &s->version))
		return false;
	for (unsigned i = 0; i < f->layout.k; i++)
		if (chunk_range(f, s, i, &a, &z) && !s->up[i])
			return false;
	return true;
}

/*
 * Fast path requests: the needed ranges only when the stripe's version is
 * cached, else the needed ranges and probes, max(k, m + 1) chunks.
 */
static void sread_send(struct dbatch *b, const struct data_file *f, const struct proto_map *map,
		       struct sread *s)
{
	unsigned k = f->layout.k, w = k + f->layout.m, need = k > f->layout.m ? k : f->layout.m + 1u;
	unsigned asked = 0;
	uint32_t a, z;

	memset(s->asked, 0, sizeof(s->asked));
	s->err = stripe_acting(f, map, s->stripe, s->ids, s->up);
	if (s->err)
		return;
	s->cached = sread_cached(f, map, s);
	if (s->cached)
		need = 0;
	for (unsigned i = 0; i < k; i++) {
		if (!chunk_range(f, s, i, &a, &z) || !s->up[i])
			continue;
		read_send(b, &s->c[i], f, map, s->ids[i], s->stripe, i, a, z - a, 0,
			  chunk_dst(f, s, i, a));
		s->asked[i] = true;
		asked++;
	}
	for (unsigned i = 0; i < w && asked < need; i++) {
		if (s->asked[i] || !s->up[i] || (i < k && chunk_range(f, s, i, &a, &z)))
			continue;
		read_send(b, &s->c[i], f, map, s->ids[i], s->stripe, i, 0, 1, 0, &s->probe[i]);
		s->asked[i] = true;
		asked++;
	}
}

/* Whether the fast path answered the stripe (consumes every reply). */
static bool sread_fast_ok(const struct data_file *f, const struct proto_map *map, struct sread *s)
{
	unsigned k = f->layout.k, w = k + f->layout.m, need = k > f->layout.m ? k : f->layout.m + 1u;
	unsigned n = 0;
	uint64_t v = 0;
	bool ok = !s->err;
	uint32_t a, z;

	for (unsigned i = 0; i < w; i++) {
		if (!s->asked[i])
			continue;
		if (read_result(&s->c[i]) < 0) {
			ok = false;
			continue;
		}
		if (n++ == 0)
			v = s->c[i].version;
		else if (s->c[i].version != v)
			ok = false;
	}
	for (unsigned i = 0; i < k; i++)
		if (chunk_range(f, s, i, &a, &z) && !s->asked[i])
			ok = false;
	if (s->cached)
		return ok && (n == 0 || v == s->version);
	if (ok && n >= need && f->ci)
		cinode_vset(f->ci, map->epoch, s->stripe, v);
	return ok && n >= need;
}

/* The newest version held by at least k of the chunks that answered; -1 if none. */
static int64_t pick_version(const struct data_file *f, const struct dcall *c, const bool *asked)
{
	unsigned w = f->layout.k + f->layout.m;
	uint64_t best = 0;
	bool found = false;

	for (unsigned i = 0; i < w; i++) {
		unsigned n = 0;

		if (!asked[i] || (c[i].status < 0 && c[i].status != -ENOENT))
			continue;
		for (unsigned j = 0; j < w; j++)
			if (asked[j] && (c[j].status == 0 || c[j].status == -ENOENT) &&
			    c[j].version == c[i].version)
				n++;
		if (n >= f->layout.k && (!found || c[i].version > best)) {
			best = c[i].version;
			found = true;
		}
	}
	return found ? (int64_t)best : -1;
}

/* Rebuilds what is missing of range [ra, ra + rl) at version v and copies the needed bytes. */
static int sread_rebuild(const struct data_file *f, struct sread *s, uint8_t *bufs, bool *present,
			 uint32_t ra, uint32_t rl)
{
	unsigned k = f->layout.k, w = k + f->layout.m, n = 0;
	uint8_t *ptr[W_MAX];
	bool all = true;
	uint32_t a, z;
	int rc;

	for (unsigned i = 0; i < w; i++) {
		ptr[i] = bufs + (size_t)i * rl;
		n += present[i];
	}
	if (n < k)
		return -EIO;
	for (unsigned i = 0; i < k; i++)
		if (chunk_range(f, s, i, &a, &z) && !present[i])
			all = false;
	if (!all) {
		rc = erasure_decode(f->ec, ptr, present, rl);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < k; i++)
		if (chunk_range(f, s, i, &a, &z))
			memcpy(chunk_dst(f, s, i, a), ptr[i] + (a - ra), z - a);
	return 0;
}

/* Reads the range of every up chunk again at version v (0: newest). */
static void sread_all(const struct data_file *f, const struct proto_map *map, struct sread *s,
		      uint8_t *bufs, uint32_t ra, uint32_t rl, int64_t v, const bool *only)
{
	unsigned w = f->layout.k + f->layout.m;
	struct dbatch b;

	dbatch_init(&b);
	for (unsigned i = 0; i < w; i++) {
		if (only && !only[i])
			continue;
		s->asked[i] = s->up[i];
		if (s->up[i])
			read_send(&b, &s->c[i], f, map, s->ids[i], s->stripe, i, ra, rl,
				  (uint64_t)v, bufs + (size_t)i * rl);
	}
	dbatch_wait(&b);
	for (unsigned i = 0; i < w; i++)
		if (s->asked[i] && (!only || only[i]))
			read_result(&s->c[i]);
}

/* Logs a failed stripe read with each chunk's answer. */
static void sread_log(const struct data_file *f, const struct sread *s, int rc)
{
	char msg[512];
	size_t n = 0;

	msg[0] = '\0';
	for (unsigned i = 0; i < f->layout.k + f->layout.m && n < sizeof(msg) - 64; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " [%u osd %u: %s v%llu]", i,
				      s->ids[i], s->asked[i] ? error_name(s->c[i].status) : "-",
				      (unsigned long long)s->c[i].version);
	log_warn("data: inode %llu stripe %llu: %s;%s", (unsigned long long)f->ino,
		 (unsigned long long)s->stripe, error_str(rc), msg);
}

/*
 * Whether an asked chunk gave no answer (timed out, failed, unreachable).
 * A stripe then is not taken for a hole on the word of the members that
 * have nothing: with few data chunks (k = 1 for replication) those can be
 * members the stripe moved to when OSDs went down, while the one that
 * holds the data is only slow.
 */
static bool sread_unanswered(const struct data_file *f, const struct sread *s)
{
	for (unsigned i = 0; i < f->layout.k + f->layout.m; i++)
		if (s->asked[i] && s->c[i].status < 0 && s->c[i].status != -ENOENT)
			return true;
	return false;
}

/*
 * The slow path of one stripe: every up chunk's range, the version held by
 * k chunks, chunks at other versions read at it, missing data decoded.
 */
static int sread_slow(const struct data_file *f, const struct proto_map *map, struct sread *s)
{
	unsigned k = f->layout.k, w = k + f->layout.m;
	uint32_t ra = UINT32_MAX, rb = 0, a, z, rl;
	bool present[W_MAX] = {0}, again[W_MAX] = {0}, any = false;
	uint8_t *bufs;
	int64_t v;
	int rc;

	for (unsigned i = 0; i < w; i++) /* unreachable in the fast path: not again */
		again[i] = s->asked[i] && (s->c[i].status == -ETIMEDOUT ||
					   s->c[i].status == -EHOSTDOWN);
	s->err = stripe_acting(f, map, s->stripe, s->ids, s->up);
	if (s->err)
		return s->err;
	for (unsigned i = 0; i < w; i++) {
		s->up[i] = s->up[i] && !again[i];
		again[i] = false;
	}
	for (unsigned i = 0; i < k; i++) {
		if (!chunk_range(f, s, i, &a, &z))
			continue;
		ra = a < ra ? a : ra;
		rb = z > rb ? z : rb;
	}
	rl = rb - ra;
	bufs = malloc((size_t)w * rl);
	if (!bufs)
		return -ENOMEM;
	sread_all(f, map, s, bufs, ra, rl, 0, NULL);
	v = pick_version(f, s->c, s->asked);
	rc = -EIO;
	if (v < 0 || (v == 0 && sread_unanswered(f, s)))
		goto out;
	if (v == 0) {
		memset(s->dst, 0, s->slen);
		if (f->ci)
			cinode_vset(f->ci, map->epoch, s->stripe, 0);
		rc = 0;
		goto out;
	}
	for (unsigned i = 0; i < w; i++) {
		present[i] = s->asked[i] && s->c[i].status == 0 && s->c[i].version == (uint64_t)v;
		again[i] = s->asked[i] && s->c[i].status == 0 && s->c[i].version > (uint64_t)v;
		any |= again[i];
	}
	if (any) {
		sread_all(f, map, s, bufs, ra, rl, v, again);
		for (unsigned i = 0; i < w; i++)
			if (again[i])
				present[i] = s->c[i].status == 0 &&
					     s->c[i].version == (uint64_t)v;
	}
	rc = sread_rebuild(f, s, bufs, present, ra, rl);
	if (rc == 0 && f->ci)
		cinode_vset(f->ci, map->epoch, s->stripe, (uint64_t)v);
out:
	if (rc)
		sread_log(f, s, rc);
	free(bufs);
	return rc;
}

/* Reads stripes s[0..n) (fast path in parallel, then the slow ones). */
static int read_batch(const struct data_file *f, struct sread *s, unsigned n)
{
	struct mdsc_map *mm;
	struct dbatch b;
	int rc, ret = 0;

	rc = mdsc_map_get(f->mdsc, &mm);
	if (rc)
		return rc;
	dbatch_init(&b);
	for (unsigned i = 0; i < n; i++)
		sread_send(&b, f, &mm->map, &s[i]);
	dbatch_wait(&b);
	for (unsigned i = 0; i < n && ret == 0; i++) {
		if (sread_fast_ok(f, &mm->map, &s[i]))
			continue;
		rc = sread_slow(f, &mm->map, &s[i]);
		if (rc == -EIO) {
			/* maybe a stale map: retry once with the newest */
			mdsc_map_put(mm);
			mm = NULL;
			mdsc_map_refresh(f->mdsc, NULL);
			rc = mdsc_map_get(f->mdsc, &mm);
			if (rc == 0)
				rc = sread_slow(f, &mm->map, &s[i]);
		}
		ret = rc;
	}
	for (unsigned i = 0; i < n && ret; i++) /* replies not consumed yet */
		for (unsigned j = 0; j < W_MAX; j++)
			if (s[i].asked[j] && s[i].c[j].resp) {
				rpc_msg_free(s[i].c[j].resp);
				s[i].c[j].resp = NULL;
			}
	if (mm)
		mdsc_map_put(mm);
	return ret;
}

int data_read(const struct data_file *f, void *buf, size_t len, uint64_t off)
{
	uint64_t ssize = (uint64_t)f->layout.k * f->layout.chunk_size, end = off + len;
	struct sread *s;
	unsigned n;
	int rc = 0;

	if (len == 0)
		return 0;
	if (end < off)
		return -EINVAL;
	n = (unsigned)((end - 1) / ssize - off / ssize + 1 < DATA_BATCH_STRIPES
			       ? (end - 1) / ssize - off / ssize + 1
			       : DATA_BATCH_STRIPES);
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	while (off < end && rc == 0) {
		for (n = 0; n < DATA_BATCH_STRIPES && off < end; n++) {
			uint64_t st = off / ssize, so = off % ssize;
			uint64_t l = ssize - so < end - off ? ssize - so : end - off;

			memset(&s[n], 0, sizeof(s[n]));
			s[n] = (struct sread){.stripe = st, .soff = (uint32_t)so,
					      .slen = (uint32_t)l, .dst = buf};
			buf = (uint8_t *)buf + l;
			off += l;
		}
		rc = read_batch(f, s, n);
	}
	free(s);
	return rc;
}

/* ---- writes ---- */

/* One stripe of a write. */
struct swrite {
	uint64_t stripe;
	uint32_t soff, slen;
	const uint8_t *src;
	struct iovec iov;
	struct dcall c;
	bool done;
	uint64_t version; /* out: the stripe's new version */
};

static bool write_retryable(int rc)
{
	return rc == -CAIRN_ESTALEMAP || rc == -CAIRN_ENOTPRIMARY || rc == -EAGAIN ||
	       rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -EHOSTDOWN || rc == -ESHUTDOWN;
}

static void swrite_send(struct dbatch *b, const struct data_file *f, const struct proto_map *map,
			struct swrite *s)
{
	struct proto_osd_stripe_write_req q = {.map_epoch = map->epoch,
					       .pool_id = f->layout.pool_id,
					       .ino = f->ino,
					       .stripe = s->stripe,
					       .offset = s->soff,
					       .length = s->slen};
	uint32_t ids[W_MAX];
	bool up[W_MAX];
	uint8_t body[BODY_MAX];
	struct wire_enc e;
	size_t blen = 0;
	int p, rc;

	s->c.resp = NULL;
	rc = stripe_acting(f, map, s->stripe, ids, up);
	p = rc ? -1 : proto_map_primary(ids, up, f->layout.k + f->layout.m);
	if (p < 0) {
		s->c.status = rc ? rc : -EHOSTDOWN;
		return;
	}
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_stripe_write_req_encode(&q, &e);
	wire_enc_finish(&e, &blen);
	s->iov = (struct iovec){.iov_base = (void *)s->src, .iov_len = s->slen};
	dcall_send(b, &s->c, f, map, ids[p],
		   &(struct rpc_call){.opcode = PROTO_OP_OSD_STRIPE_WRITE, .body = body,
				      .body_len = (uint32_t)blen, .data = &s->iov,
				      .data_cnt = 1});
}

static int swrite_result(struct swrite *s)
{
	struct proto_osd_write_rep rep;
	struct wire_dec dec;
	int rc = s->c.status;

	if (rc == 0) {
		mdsc_dec_init(&dec, s->c.resp);
		rc = proto_osd_write_rep_decode(&dec, &rep) ? -EIO : 0;
		s->version = rc ? 0 : rep.version;
	}
	rpc_msg_free(s->c.resp);
	s->c.resp = NULL;
	return rc;
}

/* One attempt at every stripe not done yet.  Returns 0, 1 (retry), or -errno. */
static int write_round(const struct data_file *f, struct swrite *s, unsigned n)
{
	struct mdsc_map *mm;
	struct dbatch b;
	int rc, ret = 0;

	rc = mdsc_map_get(f->mdsc, &mm);
	if (rc)
		return rc;
	dbatch_init(&b);
	for (unsigned i = 0; i < n; i++)
		if (!s[i].done)
			swrite_send(&b, f, &mm->map, &s[i]);
	dbatch_wait(&b);
	for (unsigned i = 0; i < n; i++) {
		if (s[i].done)
			continue;
		rc = swrite_result(&s[i]);
		if (rc == 0 && f->ci)
			cinode_vset_max(f->ci, mm->map.epoch, s[i].stripe, s[i].version);
		if (rc == 0)
			s[i].done = true;
		else if (write_retryable(rc) && ret >= 0)
			ret = 1;
		else if (ret >= 0 && !write_retryable(rc))
			ret = rc;
	}
	mdsc_map_put(mm);
	return ret;
}

static int write_batch(const struct data_file *f, struct swrite *s, unsigned n)
{
	int rc = 0;

	for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
		rc = write_round(f, s, n);
		if (rc <= 0)
			return rc;
		nanosleep(&(struct timespec){0, 50000000L * (attempt < 10 ? attempt + 1 : 10)},
			  NULL);
		mdsc_map_refresh(f->mdsc, NULL);
	}
	log_warn("data: inode %llu: stripe writes still failing after %d attempts",
		 (unsigned long long)f->ino, WRITE_ATTEMPTS);
	return -EIO;
}

int data_write(const struct data_file *f, const void *buf, size_t len, uint64_t off)
{
	uint64_t ssize = (uint64_t)f->layout.k * f->layout.chunk_size, end = off + len;
	struct swrite *s;
	unsigned n;
	int rc = 0;

	if (len == 0)
		return 0;
	if (end < off || end > (UINT64_C(1) << 63))
		return -EFBIG;
	s = calloc(DATA_BATCH_STRIPES, sizeof(*s));
	if (!s)
		return -ENOMEM;
	while (off < end && rc == 0) {
		for (n = 0; n < DATA_BATCH_STRIPES && off < end; n++) {
			uint64_t so = off % ssize;
			uint64_t l = ssize - so < end - off ? ssize - so : end - off;

			s[n] = (struct swrite){.stripe = off / ssize, .soff = (uint32_t)so,
					       .slen = (uint32_t)l, .src = buf};
			buf = (const uint8_t *)buf + l;
			off += l;
		}
		rc = write_batch(f, s, n);
	}
	free(s);
	return rc;
}

/* ---- truncate ---- */

/* Sends CHUNK_DELETE of every chunk of stripe st to its members. */
static int delete_send(struct dbatch *b, struct dcall *c, const struct data_file *f,
		       const struct proto_map *map, uint64_t st)
{
	unsigned w = f->layout.k + f->layout.m;
	uint32_t ids[W_MAX];
	bool up[W_MAX];
	int rc = stripe_acting(f, map, st, ids, up);

	for (unsigned i = 0; i < w && rc == 0; i++) {
		struct proto_osd_chunk_delete_req q = {.map_epoch = map->epoch,
						       .pool_id = f->layout.pool_id,
						       .id = {f->ino, st, (uint8_t)i}};
		uint8_t body[BODY_MAX];
		struct wire_enc e;
		size_t blen = 0;

		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_delete_req_encode(&q, &e);
		wire_enc_finish(&e, &blen);
		dcall_send(b, &c[i], f, map, ids[i],
			   &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_DELETE, .body = body,
					      .body_len = (uint32_t)blen});
	}
	return rc;
}

/*
 * CHUNK_DELETE of every chunk of stripes [first, last] on their up members,
 * DATA_BATCH_STRIPES stripes at a time.  A down member keeps a stale chunk,
 * which loses to the k members that have none.
 */
static int delete_stripes(const struct data_file *f, uint64_t first, uint64_t last)
{
	unsigned w = f->layout.k + f->layout.m;
	struct mdsc_map *mm = NULL;
	struct dcall *c;
	int rc;

	c = calloc((size_t)DATA_BATCH_STRIPES * W_MAX, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = mdsc_map_get(f->mdsc, &mm);
	while (rc == 0 && first <= last) {
		uint64_t n = last - first + 1 < DATA_BATCH_STRIPES ? last - first + 1
								 : DATA_BATCH_STRIPES;
		struct dbatch b;

		memset(c, 0, (size_t)DATA_BATCH_STRIPES * W_MAX * sizeof(*c));
		dbatch_init(&b);
		for (uint64_t j = 0; j < n && rc == 0; j++)
			rc = delete_send(&b, c + j * W_MAX, f, &mm->map, first + j);
		dbatch_wait(&b);
		for (size_t i = 0; i < n * W_MAX; i++) {
			int st = c[i].status;

			rpc_msg_free(c[i].resp);
			if (i % W_MAX < w && st && st != -ENOENT && st != -EHOSTDOWN &&
			    st != -ETIMEDOUT && st != -ECONNRESET && rc == 0)
				rc = st == -CAIRN_ESTALEMAP ? -EAGAIN : st;
		}
		first += n;
	}
	if (mm)
		mdsc_map_put(mm);
	free(c);
	return rc;
}

int data_truncate(const struct data_file *f, uint64_t size, uint64_t old_size)
{
	uint64_t ssize = (uint64_t)f->layout.k * f->layout.chunk_size;
	uint64_t first = size / ssize, within = size % ssize;
	int rc;

	if (size >= old_size)
		return 0;
	if (within) {
		uint64_t zend = (first + 1) * ssize < old_size ? (first + 1) * ssize : old_size;
		uint8_t *z = calloc(1, zend - size);

		if (!z)
			return -ENOMEM;
		rc = data_write(f, z, zend - size, size);
		free(z);
		if (rc)
			return rc;
		first++;
	}
	if (first * ssize >= old_size)
		return 0;
	for (int attempt = 0;; attempt++) {
		rc = delete_stripes(f, first, (old_size - 1) / ssize);
		if (rc != -EAGAIN || attempt == 3)
			return rc;
		mdsc_map_refresh(f->mdsc, NULL); /* an OSD has a newer map */
	}
}
