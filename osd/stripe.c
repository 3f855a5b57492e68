/*
 * stripe.c - fan-out of calls to a stripe's members, probes and version
 * reads (stripe.h).
 *
 * Threads: the fan's counter and slots are guarded by its mutex; completion
 * callbacks (RPC I/O threads) fill a slot and signal, and never touch the
 * fan after releasing the mutex, so the waiter may free it at once.
 */
#include "osd/stripe.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "osd/chunk.h"
#include "osd/peers.h"
#include "osd/store.h"
#include "proto/osd.h"

void osd_fan_init(struct osd_fan *f, struct osd *o, struct osd_map_snap *snap)
{
	memset(f, 0, sizeof(*f));
	f->o = o;
	f->snap = snap;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	for (unsigned i = 0; i < PLACEMENT_MAX_WIDTH; i++)
		f->slot[i].fan = f;
}

static void fan_done(void *arg, int status, struct rpc_msg *resp)
{
	struct osd_fan_slot *sl = arg;
	struct osd_fan *f = sl->fan;

	pthread_mutex_lock(&f->lock);
	sl->status = status;
	sl->resp = resp;
	if (--f->pending == 0)
		pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void osd_fan_call(struct osd_fan *f, unsigned slot, uint32_t osd_id, const struct rpc_call *call)
{
	const struct proto_map_osd *mo = osd_map_osd(f->snap, osd_id);
	struct osd_fan_slot *sl = &f->slot[slot];
	int ret;

	sl->used = true;
	sl->status = 0;
	sl->resp = NULL;
	if (!mo) {
		sl->status = -EHOSTUNREACH;
		return;
	}
	ret = osd_peers_get(f->o->peers, osd_id, mo->addr.ptr, mo->addr.len, &sl->peer);
	if (ret) {
		sl->status = ret;
		return;
	}
	pthread_mutex_lock(&f->lock);
	f->pending++;
	pthread_mutex_unlock(&f->lock);
	ret = rpc_call_async(osd_peer_client(sl->peer), call, fan_done, sl);
	if (ret) {
		pthread_mutex_lock(&f->lock);
		f->pending--;
		sl->status = ret;
		pthread_mutex_unlock(&f->lock);
	}
}

void osd_fan_wait(struct osd_fan *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->pending > 0)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

void osd_fan_finish(struct osd_fan *f)
{
	for (unsigned i = 0; i < PLACEMENT_MAX_WIDTH; i++) {
		struct osd_fan_slot *sl = &f->slot[i];

		if (!sl->used)
			continue;
		rpc_msg_free(sl->resp);
		osd_peers_put(f->o->peers, sl->peer);
		sl->resp = NULL;
		sl->peer = NULL;
		sl->used = false;
	}
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

bool osd_call_unreachable(int status)
{
	switch (-status) {
	case ECONNRESET:
	case ECONNREFUSED:
	case ETIMEDOUT:
	case ECANCELED:
	case ESHUTDOWN:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENETUNREACH:
	case EPIPE:
		return true;
	default:
		return false;
	}
}

struct osd_chunk_id osd_stripe_chunk(const struct osd_stripe *s, unsigned i)
{
	struct osd_chunk_id id = {
		.pool = s->pool->id, .pg = s->pg, .ino = s->ino, .stripe = s->stripe,
		.idx = (uint16_t)i};

	return id;
}

/* The list cursor just before chunk (ino, stripe, index). */
static struct proto_osd_chunk_id cursor_before(uint64_t ino, uint64_t stripe, unsigned index)
{
	struct proto_osd_chunk_id c = {ino, stripe, 0};

	if (index > 0) {
		c.index = (uint8_t)(index - 1);
	} else if (stripe > 0) {
		c.stripe = stripe - 1;
		c.index = PROTO_CHUNKS_MAX - 1;
	} else {
		c.ino = ino - 1;
		c.stripe = UINT64_MAX;
		c.index = PROTO_CHUNKS_MAX - 1;
	}
	return c;
}

static void probe_call(struct osd_fan *f, const struct osd_stripe *s, unsigned i)
{
	struct proto_osd_chunk_list_req q = {
		.map_epoch = osd_map_snap_epoch(f->snap),
		.pool_id = s->pool->id,
		.pg = s->pg,
		.cursor = cursor_before(s->ino, s->stripe, i),
		.max = 1,
	};
	uint8_t body[64];
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_list_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	osd_fan_call(f, i, s->act.ids[i],
		     &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_LIST, .body = body,
					.body_len = (uint32_t)len,
					.timeout_ms = f->o->call_timeout_ms});
}

static void probe_result(const struct osd_stripe *s, unsigned i, const struct osd_fan_slot *sl,
			 struct osd_chunk_state *st)
{
	struct proto_osd_chunk_info ent;
	struct proto_osd_chunk_list_rep rep = {.cap = 1, .entries = &ent};
	struct wire_dec d;

	st->err = sl->status;
	if (st->err)
		return;
	wire_dec_init(&d, sl->resp->body, sl->resp->body_len);
	if (proto_osd_chunk_list_rep_decode(&d, &rep) != 0) {
		st->err = -CAIRN_EBADFRAME;
		return;
	}
	if (rep.count == 1 && ent.id.ino == s->ino && ent.id.stripe == s->stripe &&
	    ent.id.index == i) {
		st->version = ent.version;
		st->length = ent.size;
	} else {
		st->err = -ENOENT;
	}
}

void osd_stripe_probe(struct osd *o, struct osd_map_snap *snap, const struct osd_stripe *s,
		      struct osd_chunk_state *out)
{
	struct osd_fan f;
	unsigned w = s->act.width;

	osd_fan_init(&f, o, snap);
	for (unsigned i = 0; i < w; i++) {
		out[i] = (struct osd_chunk_state){.err = -EHOSTDOWN};
		if (s->act.up[i] && (int)i != s->self)
			probe_call(&f, s, i);
	}
	if (s->self >= 0) {
		struct osd_chunk_id id = osd_stripe_chunk(s, (unsigned)s->self);
		struct osd_chunk_version v;
		struct osd_chunk_state *st = &out[s->self];

		st->err = osd_chunk_newest(o->st, &id, &v);
		if (st->err == 0) {
			st->version = v.version;
			st->length = (uint32_t)v.length;
		}
	}
	osd_fan_wait(&f);
	for (unsigned i = 0; i < w; i++)
		if (f.slot[i].used)
			probe_result(s, i, &f.slot[i], &out[i]);
	osd_fan_finish(&f);
}

static void read_call(struct osd_fan *f, const struct osd_stripe *s, unsigned i, uint64_t version,
		      const struct osd_range_read *r)
{
	struct proto_osd_chunk_read_req q = {
		.map_epoch = osd_map_snap_epoch(f->snap),
		.pool_id = s->pool->id,
		.id = {s->ino, s->stripe, (uint8_t)i},
		.offset = r->off,
		.length = r->len,
		.version = version,
	};
	uint8_t body[64];
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_read_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	osd_fan_call(f, i, s->act.ids[i],
		     &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_READ, .body = body,
					.body_len = (uint32_t)len, .rx_buf = r->buf,
					.rx_cap = r->len, .timeout_ms = f->o->call_timeout_ms});
}

/* A remote read's outcome into r. */
static void read_result(const struct osd_fan_slot *sl, uint64_t version, struct osd_range_read *r)
{
	struct proto_osd_chunk_read_rep rep;
	struct wire_dec d;

	r->err = sl->status;
	if (r->err)
		return;
	wire_dec_init(&d, sl->resp->body, sl->resp->body_len);
	if (proto_osd_chunk_read_rep_decode(&d, &rep) != 0 || rep.length != sl->resp->data_len ||
	    rep.length > r->len || rep.version != version) {
		r->err = -CAIRN_EBADFRAME;
		return;
	}
	if (rep.length && sl->resp->data != r->buf)
		memcpy(r->buf, sl->resp->data, rep.length);
	r->got = rep.length;
}

static void read_local(struct osd *o, const struct osd_stripe *s, uint64_t version,
		       struct osd_range_read *r)
{
	struct osd_chunk_id id = osd_stripe_chunk(s, (unsigned)s->self);
	struct osd_read_result res;

	r->err = osd_store_read(o->st, &id, version, r->off, r->buf, r->len, &res);
	if (r->err == 0)
		r->got = (uint32_t)res.bytes;
}

unsigned osd_stripe_read(struct osd *o, struct osd_map_snap *snap, const struct osd_stripe *s,
			 uint64_t version, struct osd_range_read *r)
{
	unsigned n = 0, w = s->act.width;
	struct osd_fan f;

	osd_fan_init(&f, o, snap);
	for (unsigned i = 0; i < w; i++) {
		r[i].err = r[i].want ? -EHOSTDOWN : 0;
		r[i].got = 0;
		if (r[i].want && s->act.up[i] && (int)i != s->self)
			read_call(&f, s, i, version, &r[i]);
	}
	if (s->self >= 0 && r[s->self].want)
		read_local(o, s, version, &r[s->self]);
	osd_fan_wait(&f);
	for (unsigned i = 0; i < w; i++)
		if (f.slot[i].used)
			read_result(&f.slot[i], version, &r[i]);
	osd_fan_finish(&f);
	for (unsigned i = 0; i < w; i++) {
		if (!r[i].want)
			continue;
		if (r[i].err)
			r[i].got = 0;
		memset(r[i].buf + r[i].got, 0, r[i].len - r[i].got);
		n += r[i].err == 0;
	}
	return n;
}

unsigned osd_stripe_read_version(struct osd *o, struct osd_map_snap *snap,
				 const struct osd_stripe *s, uint64_t version, const bool *want,
				 uint8_t *const *bufs, uint32_t *lens, bool *got)
{
	struct osd_range_read r[PLACEMENT_MAX_WIDTH];
	unsigned n;

	for (unsigned i = 0; i < s->act.width; i++)
		r[i] = (struct osd_range_read){.want = want[i], .off = 0,
					       .len = s->pool->chunk_size, .buf = bufs[i]};
	n = osd_stripe_read(o, snap, s, version, r);
	for (unsigned i = 0; i < s->act.width; i++) {
		got[i] = want[i] && r[i].err == 0;
		lens[i] = r[i].got;
	}
	return n;
}
