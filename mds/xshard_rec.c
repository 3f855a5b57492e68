/*
 * xshard_rec.c - the coordinator's intent record (struct xs_rec): what a
 * cross-shard operation needs to be finished or undone after a crash, and
 * the phase it reached.  Stored by ns_intent_put under the op id.
 *
 * Format (little-endian, wire cursors; every field always present):
 *   ver u8 (1), kind u8, phase u8, flags u8, start_sec u64,
 *   cred: uid u32, gid u32, ngroups u32 (<= 64), groups u32 * ngroups,
 *   parent u64, name (u16 length + bytes), parent2 u64, name2,
 *   ino u64, mode u32, uid u32, gid u32, ino2 u64, mode2 u32, uid2 u32,
 *   rflags u32, target_shard u16, layout (pool u32, chunk u32, k u8, m u8),
 *   aux_op u64, drop_ino u64, drop_mode u32
 * Stateless; thread-safe.
 */
#include <errno.h>
#include <string.h>

#include "mds/xshard_int.h"
#include "proto/wire.h"

#define XS_REC_VER 1

static void enc_name(struct wire_enc *e, const char *name, uint16_t nlen)
{
	wire_enc_str(e, name, nlen);
}

static void dec_name(struct wire_dec *d, char *name, uint16_t *nlen)
{
	const char *p = wire_dec_str(d, NS_NAME_MAX, nlen);

	if (p && *nlen)
		memcpy(name, p, *nlen);
}

size_t xs_rec_encode(const struct xs_rec *r, uint8_t *buf, size_t cap)
{
	struct wire_enc e;
	size_t len = 0;
	uint32_t ng = r->ngroups > PROTO_CRED_GROUPS_MAX ? PROTO_CRED_GROUPS_MAX : r->ngroups;

	wire_enc_init(&e, buf, cap);
	wire_enc_u8(&e, XS_REC_VER);
	wire_enc_u8(&e, r->kind);
	wire_enc_u8(&e, r->phase);
	wire_enc_u8(&e, r->flags);
	wire_enc_u64(&e, (uint64_t)r->start_sec);
	wire_enc_u32(&e, r->cred_uid);
	wire_enc_u32(&e, r->cred_gid);
	wire_enc_u32(&e, ng);
	for (uint32_t i = 0; i < ng; i++)
		wire_enc_u32(&e, r->groups[i]);
	wire_enc_u64(&e, r->parent);
	enc_name(&e, r->name, r->nlen);
	wire_enc_u64(&e, r->parent2);
	enc_name(&e, r->name2, r->nlen2);
	wire_enc_u64(&e, r->ino);
	wire_enc_u32(&e, r->mode);
	wire_enc_u32(&e, r->uid);
	wire_enc_u32(&e, r->gid);
	wire_enc_u64(&e, r->ino2);
	wire_enc_u32(&e, r->mode2);
	wire_enc_u32(&e, r->uid2);
	wire_enc_u32(&e, r->rflags);
	wire_enc_u16(&e, r->target_shard);
	wire_enc_u32(&e, r->layout.pool_id);
	wire_enc_u32(&e, r->layout.chunk_size);
	wire_enc_u8(&e, r->layout.k);
	wire_enc_u8(&e, r->layout.m);
	wire_enc_u64(&e, r->aux_op);
	wire_enc_u64(&e, r->drop_ino);
	wire_enc_u32(&e, r->drop_mode);
	if (wire_enc_finish(&e, &len))
		return 0;
	return len;
}

static bool rec_valid(const struct xs_rec *r)
{
	if (r->kind < XS_MKDIR || r->kind > XS_EXCHANGE)
		return false;
	if (r->phase < XS_PH_INTENT || r->phase > XS_PH_UNDO)
		return false;
	if (r->flags & ~(XS_RF_LOCK | XS_RF_DROP_REMOTE))
		return false;
	if (!r->parent || !r->nlen || (r->kind != XS_MKDIR && !r->ino))
		return false;
	if (r->kind == XS_LINK && !r->aux_op)
		return false;
	if ((r->kind == XS_RENAME || r->kind == XS_EXCHANGE) && (!r->parent2 || !r->nlen2))
		return false;
	return true;
}

int xs_rec_decode(const void *buf, size_t len, struct xs_rec *r)
{
	struct wire_dec d;

	memset(r, 0, sizeof(*r));
	wire_dec_init(&d, buf, len);
	if (wire_dec_u8(&d) != XS_REC_VER)
		wire_dec_fail(&d);
	r->kind = wire_dec_u8(&d);
	r->phase = wire_dec_u8(&d);
	r->flags = wire_dec_u8(&d);
	r->start_sec = (int64_t)wire_dec_u64(&d);
	r->cred_uid = wire_dec_u32(&d);
	r->cred_gid = wire_dec_u32(&d);
	r->ngroups = wire_dec_u32(&d);
	if (r->ngroups > PROTO_CRED_GROUPS_MAX) {
		wire_dec_fail(&d);
		r->ngroups = 0;
	}
	for (uint32_t i = 0; i < r->ngroups; i++)
		r->groups[i] = wire_dec_u32(&d);
	r->parent = wire_dec_u64(&d);
	dec_name(&d, r->name, &r->nlen);
	r->parent2 = wire_dec_u64(&d);
	dec_name(&d, r->name2, &r->nlen2);
	r->ino = wire_dec_u64(&d);
	r->mode = wire_dec_u32(&d);
	r->uid = wire_dec_u32(&d);
	r->gid = wire_dec_u32(&d);
	r->ino2 = wire_dec_u64(&d);
	r->mode2 = wire_dec_u32(&d);
	r->uid2 = wire_dec_u32(&d);
	r->rflags = wire_dec_u32(&d);
	r->target_shard = wire_dec_u16(&d);
	r->layout.pool_id = wire_dec_u32(&d);
	r->layout.chunk_size = wire_dec_u32(&d);
	r->layout.k = wire_dec_u8(&d);
	r->layout.m = wire_dec_u8(&d);
	r->aux_op = wire_dec_u64(&d);
	r->drop_ino = wire_dec_u64(&d);
	r->drop_mode = wire_dec_u32(&d);
	if (wire_dec_finish(&d) || !rec_valid(r))
		return -EINVAL;
	return 0;
}

void xs_rec_set_cred(struct xs_rec *r, const struct ns_cred *cred)
{
	uint32_t n = cred->ngroups > PROTO_CRED_GROUPS_MAX ? PROTO_CRED_GROUPS_MAX : cred->ngroups;

	r->cred_uid = cred->uid;
	r->cred_gid = cred->gid;
	r->ngroups = cred->groups ? n : 0;
	for (uint32_t i = 0; i < r->ngroups; i++)
		r->groups[i] = cred->groups[i];
}

struct ns_cred xs_rec_cred(const struct xs_rec *r)
{
	struct ns_cred c = {
	    .uid = r->cred_uid, .gid = r->cred_gid, .ngroups = r->ngroups, .groups = r->groups};

	return c;
}
