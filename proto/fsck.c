/*
 * fsck.c - codecs of the consistency check messages (fsck.h).  Decoders
 * read every field, let the cursor's sticky error collect truncation and
 * range failures, and end with wire_dec_finish().  Stateless; thread-safe.
 */
#include "proto/fsck.h"

#include <string.h>

#include "common/error.h"

static bool mode_valid(uint32_t mode)
{
	return proto_mode_type_valid(mode) && (mode & ~(PROTO_S_IFMT | PROTO_S_PERM)) == 0;
}

/* Reads a reply's flags and count; fails on a count out of range. */
static uint32_t scan_head_dec(struct wire_dec *d, uint32_t *flags, uint32_t cap)
{
	uint32_t count;

	*flags = proto_bits_decode(d, PROTO_FSCK_EOF);
	count = wire_dec_u32(d);
	if (count > cap || count > PROTO_FSCK_SCAN_MAX ||
	    (count == 0 && !(*flags & PROTO_FSCK_EOF))) {
		wire_dec_fail(d);
		return 0;
	}
	return count;
}

int proto_fsck_scan_req_encode(const struct proto_fsck_scan_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->after);
	wire_enc_u32(e, m->max);
	return proto_enc_status(e);
}

int proto_fsck_scan_req_decode(struct wire_dec *d, struct proto_fsck_scan_req *m)
{
	m->after = wire_dec_u64(d);
	m->max = wire_dec_u32(d);
	if (m->max == 0 || m->max > PROTO_FSCK_SCAN_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* ---- inodes ---- */

static void inode_enc(const struct proto_fsck_inode *i, struct wire_enc *e)
{
	wire_enc_u64(e, i->ino);
	wire_enc_u32(e, i->mode);
	wire_enc_u32(e, i->nlink);
	wire_enc_u64(e, i->parent);
	wire_enc_u64(e, i->size);
	wire_enc_u32(e, i->state);
	wire_enc_u64(e, i->rm_op);
}

static void inode_dec(struct wire_dec *d, struct proto_fsck_inode *i)
{
	bool dir;

	i->ino = proto_ino_decode(d);
	i->mode = wire_dec_u32(d);
	i->nlink = wire_dec_u32(d);
	i->parent = wire_dec_u64(d);
	i->size = wire_dec_u64(d);
	i->state = proto_bits_decode(d, PROTO_FSCK_STATE_KNOWN);
	i->rm_op = wire_dec_u64(d);
	dir = (i->mode & PROTO_S_IFMT) == PROTO_S_IFDIR;
	if (!mode_valid(i->mode) || dir != (i->parent != 0) || (!dir && i->rm_op))
		wire_dec_fail(d);
}

int proto_fsck_scan_inodes_rep_encode(const struct proto_fsck_scan_inodes_rep *m,
				      struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++)
		inode_enc(&m->items[i], e);
	return proto_enc_status(e);
}

int proto_fsck_scan_inodes_rep_decode(struct wire_dec *d, struct proto_fsck_scan_inodes_rep *m)
{
	m->count = scan_head_dec(d, &m->flags, m->cap);
	for (uint32_t i = 0; i < m->count && !d->err; i++) {
		inode_dec(d, &m->items[i]);
		if (i > 0 && m->items[i].ino <= m->items[i - 1].ino)
			wire_dec_fail(d);
	}
	return wire_dec_finish(d);
}

/* ---- dentries ---- */

int proto_fsck_scan_dentries_req_encode(const struct proto_fsck_scan_dentries_req *m,
					struct wire_enc *e)
{
	wire_enc_u64(e, m->after_parent);
	proto_str_encode(&m->after_name, e);
	wire_enc_u32(e, m->max);
	return proto_enc_status(e);
}

int proto_fsck_scan_dentries_req_decode(struct wire_dec *d, struct proto_fsck_scan_dentries_req *m)
{
	m->after_parent = wire_dec_u64(d);
	m->after_name.ptr = wire_dec_str(d, PROTO_NAME_MAX, &m->after_name.len);
	m->max = wire_dec_u32(d);
	if (d->err)
		return wire_dec_finish(d);
	if (m->max == 0 || m->max > PROTO_FSCK_SCAN_MAX ||
	    (m->after_parent == 0 && m->after_name.len) ||
	    (m->after_name.len && (memchr(m->after_name.ptr, '/', m->after_name.len) ||
				   memchr(m->after_name.ptr, '\0', m->after_name.len))))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

static void dentry_enc(const struct proto_fsck_dentry *x, struct wire_enc *e)
{
	wire_enc_u64(e, x->parent);
	proto_str_encode(&x->name, e);
	wire_enc_u64(e, x->ino);
	wire_enc_u32(e, x->type);
	wire_enc_u64(e, x->pin);
}

static void dentry_dec(struct wire_dec *d, struct proto_fsck_dentry *x)
{
	x->parent = proto_ino_decode(d);
	proto_name_decode(d, &x->name, PROTO_NAME_NEW);
	x->ino = proto_ino_decode(d);
	x->type = wire_dec_u32(d);
	x->pin = wire_dec_u64(d);
	if (!proto_mode_type_valid(x->type) || (x->type & ~PROTO_S_IFMT))
		wire_dec_fail(d);
}

int proto_fsck_scan_dentries_rep_encode(const struct proto_fsck_scan_dentries_rep *m,
					struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++)
		dentry_enc(&m->items[i], e);
	return proto_enc_status(e);
}

int proto_fsck_scan_dentries_rep_decode(struct wire_dec *d, struct proto_fsck_scan_dentries_rep *m)
{
	m->count = scan_head_dec(d, &m->flags, m->cap);
	for (uint32_t i = 0; i < m->count && !d->err; i++)
		dentry_dec(d, &m->items[i]);
	return wire_dec_finish(d);
}

/* ---- intents ---- */

int proto_fsck_scan_intents_rep_encode(const struct proto_fsck_scan_intents_rep *m,
				       struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++) {
		wire_enc_u64(e, m->items[i].op_id);
		wire_enc_u8(e, m->items[i].kind);
		wire_enc_u8(e, m->items[i].phase);
		wire_enc_u64(e, m->items[i].age_sec);
	}
	return proto_enc_status(e);
}

int proto_fsck_scan_intents_rep_decode(struct wire_dec *d, struct proto_fsck_scan_intents_rep *m)
{
	m->count = scan_head_dec(d, &m->flags, m->cap);
	for (uint32_t i = 0; i < m->count && !d->err; i++) {
		struct proto_fsck_intent *it = &m->items[i];

		it->op_id = wire_dec_u64(d);
		it->kind = wire_dec_u8(d);
		it->phase = wire_dec_u8(d);
		it->age_sec = wire_dec_u64(d);
		if (it->op_id == 0 || (i > 0 && it->op_id <= m->items[i - 1].op_id))
			wire_dec_fail(d);
	}
	return wire_dec_finish(d);
}

/* ---- repairs ---- */

int proto_fsck_dentry_req_encode(const struct proto_fsck_dentry_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	wire_enc_u64(e, m->ino);
	return proto_enc_status(e);
}

int proto_fsck_dentry_req_decode(struct wire_dec *d, struct proto_fsck_dentry_req *m)
{
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	m->ino = proto_ino_decode(d);
	return wire_dec_finish(d);
}

int proto_fsck_nlink_req_encode(const struct proto_fsck_nlink_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->ino);
	wire_enc_u32(e, m->expected);
	wire_enc_u32(e, m->nlink);
	return proto_enc_status(e);
}

int proto_fsck_nlink_req_decode(struct wire_dec *d, struct proto_fsck_nlink_req *m)
{
	m->ino = proto_ino_decode(d);
	m->expected = wire_dec_u32(d);
	m->nlink = wire_dec_u32(d);
	return wire_dec_finish(d);
}

int proto_fsck_parent_req_encode(const struct proto_fsck_parent_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->expected);
	wire_enc_u64(e, m->parent);
	return proto_enc_status(e);
}

int proto_fsck_parent_req_decode(struct wire_dec *d, struct proto_fsck_parent_req *m)
{
	m->ino = proto_ino_decode(d);
	m->expected = wire_dec_u64(d);
	m->parent = wire_dec_u64(d);
	return wire_dec_finish(d);
}

int proto_fsck_op_req_encode(const struct proto_fsck_op_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->op_id);
	return proto_enc_status(e);
}

int proto_fsck_op_req_decode(struct wire_dec *d, struct proto_fsck_op_req *m)
{
	m->op_id = wire_dec_u64(d);
	if (m->op_id == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}
