/*
 * peer.c - codecs of the shard-to-shard step messages (peer.h).  Each
 * decoder reads every field, lets the cursor's sticky error collect
 * truncation and range failures, and ends with wire_dec_finish() so
 * trailing bytes fail.  Stateless; thread-safe.
 */
#include "proto/peer.h"

#include <string.h>

#include "common/error.h"

/* ---- shared parts ---- */

static bool bare_type_valid(uint32_t mode)
{
	return proto_mode_type_valid(mode) && (mode & ~PROTO_S_IFMT) == 0;
}

static bool mode_valid(uint32_t mode)
{
	return proto_mode_type_valid(mode) && (mode & ~(PROTO_S_IFMT | PROTO_S_PERM)) == 0;
}

static bool is_device(uint32_t mode)
{
	uint32_t t = mode & PROTO_S_IFMT;

	return t == PROTO_S_IFCHR || t == PROTO_S_IFBLK;
}

static void layout_enc(const struct proto_peer_layout *l, struct wire_enc *e)
{
	wire_enc_u32(e, l->pool_id);
	wire_enc_u32(e, l->chunk_size);
	wire_enc_u8(e, l->k);
	wire_enc_u8(e, l->m);
}

static void layout_dec(struct wire_dec *d, struct proto_peer_layout *l)
{
	l->pool_id = wire_dec_u32(d);
	l->chunk_size = wire_dec_u32(d);
	l->k = wire_dec_u8(d);
	l->m = wire_dec_u8(d);
}

static void attr_enc(const struct proto_peer_attr *a, struct wire_enc *e)
{
	wire_enc_u64(e, a->ino);
	wire_enc_u64(e, a->gen);
	wire_enc_u32(e, a->mode);
	wire_enc_u32(e, a->uid);
	wire_enc_u32(e, a->gid);
	wire_enc_u32(e, a->nlink);
	wire_enc_u64(e, a->size);
	wire_enc_u64(e, a->rdev);
	proto_time_encode(&a->atime, e);
	proto_time_encode(&a->mtime, e);
	proto_time_encode(&a->ctime, e);
	wire_enc_u32(e, a->flags);
	layout_enc(&a->layout, e);
	wire_enc_u64(e, a->parent);
}

static void attr_dec(struct wire_dec *d, struct proto_peer_attr *a)
{
	bool dir;

	a->ino = wire_dec_u64(d);
	a->gen = wire_dec_u64(d);
	a->mode = wire_dec_u32(d);
	a->uid = wire_dec_u32(d);
	a->gid = wire_dec_u32(d);
	a->nlink = wire_dec_u32(d);
	a->size = wire_dec_u64(d);
	a->rdev = wire_dec_u64(d);
	proto_time_decode(d, &a->atime);
	proto_time_decode(d, &a->mtime);
	proto_time_decode(d, &a->ctime);
	a->flags = wire_dec_u32(d);
	layout_dec(d, &a->layout);
	a->parent = wire_dec_u64(d);
	dir = (a->mode & PROTO_S_IFMT) == PROTO_S_IFDIR;
	if (a->ino == 0 || !mode_valid(a->mode) || (a->rdev && !is_device(a->mode)) ||
	    dir != (a->parent != 0))
		wire_dec_fail(d);
}

static void drop_enc(const struct proto_peer_drop *p, struct wire_enc *e)
{
	wire_enc_u64(e, p->ino);
	wire_enc_u32(e, p->mode);
	wire_enc_u32(e, p->nlink);
	wire_enc_u32(e, p->flags);
	wire_enc_u64(e, p->size);
	layout_enc(&p->layout, e);
}

static void drop_dec(struct wire_dec *d, struct proto_peer_drop *p)
{
	const uint32_t both = PROTO_PEER_DROP_ORPHANED | PROTO_PEER_DROP_FREED;

	p->ino = wire_dec_u64(d);
	p->mode = wire_dec_u32(d);
	p->nlink = wire_dec_u32(d);
	p->flags = proto_bits_decode(d, PROTO_PEER_DROP_KNOWN);
	p->size = wire_dec_u64(d);
	layout_dec(d, &p->layout);
	if ((p->flags & both) == both)
		wire_dec_fail(d);
	if (p->ino == 0) {
		if (p->mode || p->nlink || p->flags || p->size || p->layout.pool_id ||
		    p->layout.chunk_size || p->layout.k || p->layout.m)
			wire_dec_fail(d);
	} else if (!mode_valid(p->mode)) {
		wire_dec_fail(d);
	}
}

/* Request flags: known bits, CRED only where the message allows it. */
static uint32_t flags_dec(struct wire_dec *d, bool cred_ok)
{
	return proto_bits_decode(d, cred_ok ? PROTO_PEER_F_KNOWN : PROTO_PEER_F_SYNC);
}

static void cred_enc(uint32_t flags, const struct proto_cred *c, struct wire_enc *e)
{
	if (flags & PROTO_PEER_F_CRED)
		proto_cred_encode(c, e);
}

static void cred_dec(struct wire_dec *d, uint32_t flags, struct proto_cred *c)
{
	memset(c, 0, sizeof(*c));
	if (flags & PROTO_PEER_F_CRED)
		proto_cred_decode(d, c);
}

/* ---- replies ---- */

int proto_peer_attr_rep_encode(const struct proto_peer_attr_rep *m, struct wire_enc *e)
{
	attr_enc(&m->attr, e);
	return proto_enc_status(e);
}

int proto_peer_attr_rep_decode(struct wire_dec *d, struct proto_peer_attr_rep *m)
{
	attr_dec(d, &m->attr);
	return wire_dec_finish(d);
}

int proto_peer_drop_rep_encode(const struct proto_peer_drop_rep *m, struct wire_enc *e)
{
	drop_enc(&m->drop, e);
	return proto_enc_status(e);
}

int proto_peer_drop_rep_decode(struct wire_dec *d, struct proto_peer_drop_rep *m)
{
	drop_dec(d, &m->drop);
	return wire_dec_finish(d);
}

int proto_peer_walk_rep_encode(const struct proto_peer_walk_rep *m, struct wire_enc *e)
{
	wire_enc_u8(e, m->result);
	wire_enc_u64(e, m->stop);
	return proto_enc_status(e);
}

int proto_peer_walk_rep_decode(struct wire_dec *d, struct proto_peer_walk_rep *m)
{
	m->result = wire_dec_u8(d);
	m->stop = wire_dec_u64(d);
	if (m->result > PROTO_PEER_WALK_REMOTE ||
	    (m->result == PROTO_PEER_WALK_REMOTE) != (m->stop != 0))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_peer_lookup_rep_encode(const struct proto_peer_lookup_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	if (m->flags & PROTO_PEER_LOOKUP_REMOTE) {
		wire_enc_u64(e, m->ino);
		wire_enc_u32(e, m->mode);
	} else {
		attr_enc(&m->attr, e);
	}
	return proto_enc_status(e);
}

int proto_peer_lookup_rep_decode(struct wire_dec *d, struct proto_peer_lookup_rep *m)
{
	memset(m, 0, sizeof(*m));
	m->flags = proto_bits_decode(d, PROTO_PEER_LOOKUP_REMOTE);
	if (m->flags & PROTO_PEER_LOOKUP_REMOTE) {
		m->ino = proto_ino_decode(d);
		m->mode = wire_dec_u32(d);
		if (!bare_type_valid(m->mode))
			wire_dec_fail(d);
	} else {
		attr_dec(d, &m->attr);
	}
	return wire_dec_finish(d);
}

/* ---- requests ---- */

int proto_peer_create_req_encode(const struct proto_peer_create_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->mode);
	wire_enc_u32(e, m->uid);
	wire_enc_u32(e, m->gid);
	wire_enc_u64(e, m->rdev);
	wire_enc_u64(e, m->parent);
	layout_enc(&m->layout, e);
	return proto_enc_status(e);
}

int proto_peer_create_req_decode(struct wire_dec *d, struct proto_peer_create_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->flags = flags_dec(d, false);
	m->mode = wire_dec_u32(d);
	m->uid = wire_dec_u32(d);
	m->gid = wire_dec_u32(d);
	m->rdev = wire_dec_u64(d);
	m->parent = proto_ino_decode(d);
	layout_dec(d, &m->layout);
	if (!mode_valid(m->mode) || (m->mode & PROTO_S_IFMT) == PROTO_S_IFLNK ||
	    (m->rdev && !is_device(m->mode)))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_peer_ino_req_encode(const struct proto_peer_ino_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->ino);
	return proto_enc_status(e);
}

int proto_peer_ino_req_decode(struct wire_dec *d, struct proto_peer_ino_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->flags = flags_dec(d, false);
	m->ino = proto_ino_decode(d);
	return wire_dec_finish(d);
}

int proto_peer_nlink_req_encode(const struct proto_peer_nlink_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->ino);
	wire_enc_u32(e, (uint32_t)m->delta);
	return proto_enc_status(e);
}

int proto_peer_nlink_req_decode(struct wire_dec *d, struct proto_peer_nlink_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->flags = flags_dec(d, false);
	m->ino = proto_ino_decode(d);
	m->delta = (int32_t)wire_dec_u32(d);
	if (m->delta == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* The head shared by link, unlink and pin: op, flags, cred, parent, name, ino. */
static void entry_head_enc(uint64_t op_id, uint32_t flags, const struct proto_cred *cred,
			   uint64_t parent, const struct proto_str *name, uint64_t ino,
			   struct wire_enc *e)
{
	wire_enc_u64(e, op_id);
	wire_enc_u32(e, flags);
	cred_enc(flags, cred, e);
	wire_enc_u64(e, parent);
	proto_str_encode(name, e);
	wire_enc_u64(e, ino);
}

static void entry_head_dec(struct wire_dec *d, uint64_t *op_id, uint32_t *flags,
			   struct proto_cred *cred, uint64_t *parent, struct proto_str *name,
			   uint64_t *ino)
{
	*op_id = wire_dec_u64(d);
	*flags = flags_dec(d, true);
	cred_dec(d, *flags, cred);
	*parent = proto_ino_decode(d);
	proto_name_decode(d, name, PROTO_NAME_NEW);
	*ino = proto_ino_decode(d);
}

static bool link_flags_valid(uint32_t f)
{
	const uint32_t known =
	    PROTO_PEER_LINK_REPLACE | PROTO_PEER_LINK_NOREPLACE | PROTO_PEER_LINK_EXCHANGE;

	if (f & ~known)
		return false;
	if ((f & PROTO_PEER_LINK_NOREPLACE) && !(f & PROTO_PEER_LINK_REPLACE))
		return false;
	return !((f & PROTO_PEER_LINK_EXCHANGE) && (f & PROTO_PEER_LINK_REPLACE));
}

int proto_peer_link_req_encode(const struct proto_peer_link_req *m, struct wire_enc *e)
{
	entry_head_enc(m->op_id, m->flags, &m->cred, m->parent, &m->name, m->ino, e);
	wire_enc_u32(e, m->type);
	wire_enc_u32(e, m->link_flags);
	return proto_enc_status(e);
}

int proto_peer_link_req_decode(struct wire_dec *d, struct proto_peer_link_req *m)
{
	entry_head_dec(d, &m->op_id, &m->flags, &m->cred, &m->parent, &m->name, &m->ino);
	m->type = wire_dec_u32(d);
	m->link_flags = wire_dec_u32(d);
	if (!bare_type_valid(m->type) || !link_flags_valid(m->link_flags))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_peer_unlink_req_encode(const struct proto_peer_unlink_req *m, struct wire_enc *e)
{
	entry_head_enc(m->op_id, m->flags, &m->cred, m->parent, &m->name, m->ino, e);
	wire_enc_u32(e, m->victim_uid);
	wire_enc_u32(e, m->unlink_flags);
	return proto_enc_status(e);
}

int proto_peer_unlink_req_decode(struct wire_dec *d, struct proto_peer_unlink_req *m)
{
	entry_head_dec(d, &m->op_id, &m->flags, &m->cred, &m->parent, &m->name, &m->ino);
	m->victim_uid = wire_dec_u32(d);
	m->unlink_flags = proto_bits_decode(d, PROTO_PEER_UNLINK_KNOWN);
	return wire_dec_finish(d);
}

int proto_peer_pin_req_encode(const struct proto_peer_pin_req *m, struct wire_enc *e)
{
	entry_head_enc(m->op_id, m->flags, &m->cred, m->parent, &m->name, m->ino, e);
	wire_enc_u32(e, m->victim_uid);
	return proto_enc_status(e);
}

int proto_peer_pin_req_decode(struct wire_dec *d, struct proto_peer_pin_req *m)
{
	entry_head_dec(d, &m->op_id, &m->flags, &m->cred, &m->parent, &m->name, &m->ino);
	m->victim_uid = wire_dec_u32(d);
	return wire_dec_finish(d);
}

int proto_peer_unpin_req_encode(const struct proto_peer_unpin_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	return proto_enc_status(e);
}

int proto_peer_unpin_req_decode(struct wire_dec *d, struct proto_peer_unpin_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->flags = flags_dec(d, false);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	return wire_dec_finish(d);
}

int proto_peer_set_parent_req_encode(const struct proto_peer_set_parent_req *m,
				     struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->parent);
	return proto_enc_status(e);
}

int proto_peer_set_parent_req_decode(struct wire_dec *d, struct proto_peer_set_parent_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->flags = flags_dec(d, false);
	m->ino = proto_ino_decode(d);
	m->parent = proto_ino_decode(d);
	return wire_dec_finish(d);
}

int proto_peer_walk_req_encode(const struct proto_peer_walk_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->target);
	return proto_enc_status(e);
}

int proto_peer_walk_req_decode(struct wire_dec *d, struct proto_peer_walk_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->ino = proto_ino_decode(d);
	m->target = proto_ino_decode(d);
	return wire_dec_finish(d);
}

int proto_peer_op_req_encode(const struct proto_peer_op_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	return proto_enc_status(e);
}

int proto_peer_op_req_decode(struct wire_dec *d, struct proto_peer_op_req *m)
{
	m->op_id = wire_dec_u64(d);
	if (m->op_id == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_peer_lock_req_encode(const struct proto_peer_lock_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	wire_enc_u32(e, m->lease_ms);
	return proto_enc_status(e);
}

int proto_peer_lock_req_decode(struct wire_dec *d, struct proto_peer_lock_req *m)
{
	m->op_id = wire_dec_u64(d);
	m->lease_ms = wire_dec_u32(d);
	if (m->op_id == 0 || m->lease_ms == 0 || m->lease_ms > PROTO_PEER_LEASE_MAX_MS)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_peer_lookup_req_encode(const struct proto_peer_lookup_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	return proto_enc_status(e);
}

int proto_peer_lookup_req_decode(struct wire_dec *d, struct proto_peer_lookup_req *m)
{
	m->op_id = wire_dec_u64(d);
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	return wire_dec_finish(d);
}
