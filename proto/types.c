/*
 * types.c - codecs and range checks of the shared sub-structures (types.h).
 * Stateless apart from the caller's cursors; thread-safe.
 */
#include "proto/types.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"

/* The wire uses the traditional values; a Linux client passes them through. */
_Static_assert(PROTO_S_IFMT == S_IFMT && PROTO_S_IFREG == S_IFREG && PROTO_S_IFDIR == S_IFDIR &&
		   PROTO_S_IFLNK == S_IFLNK && PROTO_S_IFCHR == S_IFCHR &&
		   PROTO_S_IFBLK == S_IFBLK && PROTO_S_IFIFO == S_IFIFO &&
		   PROTO_S_IFSOCK == S_IFSOCK,
	       "file type bits match the host's");
_Static_assert((int)PROTO_DT_REG == DT_REG && (int)PROTO_DT_DIR == DT_DIR &&
		   (int)PROTO_DT_LNK == DT_LNK && (int)PROTO_DT_CHR == DT_CHR &&
		   (int)PROTO_DT_BLK == DT_BLK && (int)PROTO_DT_FIFO == DT_FIFO &&
		   (int)PROTO_DT_SOCK == DT_SOCK,
	       "d_type values match the host's");
_Static_assert(PROTO_CHUNKS_MAX <= 255, "chunk index fits in a byte");

void proto_str_encode(const struct proto_str *s, struct wire_enc *e)
{
	wire_enc_str(e, s->ptr, s->len);
}

void proto_blob_encode(const struct proto_blob *b, struct wire_enc *e)
{
	wire_enc_blob(e, b->ptr, b->len);
}

void proto_time_encode(const struct proto_time *t, struct wire_enc *e)
{
	wire_enc_u64(e, (uint64_t)t->sec);
	wire_enc_u32(e, t->nsec);
}

void proto_cred_encode(const struct proto_cred *c, struct wire_enc *e)
{
	uint32_t n = c->ngroups;

	wire_enc_u32(e, c->uid);
	wire_enc_u32(e, c->gid);
	wire_enc_u32(e, n);
	/* An out-of-range count is encoded as is for the peer to reject. */
	if (n > PROTO_CRED_GROUPS_MAX)
		n = PROTO_CRED_GROUPS_MAX;
	for (uint32_t i = 0; i < n; i++)
		wire_enc_u32(e, c->groups[i]);
}

void proto_attr_encode(const struct proto_attr *a, struct wire_enc *e)
{
	wire_enc_u64(e, a->ino);
	wire_enc_u64(e, a->gen);
	wire_enc_u32(e, a->mode);
	wire_enc_u32(e, a->nlink);
	wire_enc_u32(e, a->uid);
	wire_enc_u32(e, a->gid);
	wire_enc_u64(e, a->rdev);
	wire_enc_u64(e, a->size);
	wire_enc_u64(e, a->blocks);
	proto_time_encode(&a->atime, e);
	proto_time_encode(&a->mtime, e);
	proto_time_encode(&a->ctime, e);
	wire_enc_u32(e, a->flags);
}

void proto_layout_encode(const struct proto_layout *l, struct wire_enc *e)
{
	wire_enc_u32(e, l->pool_id);
	wire_enc_u8(e, l->scheme);
	wire_enc_u8(e, l->k);
	wire_enc_u8(e, l->m);
	wire_enc_u32(e, l->chunk_size);
}

static bool is_dot_name(const char *p, uint16_t n)
{
	return (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
}

void proto_name_decode(struct wire_dec *d, struct proto_str *s, enum proto_name_rule rule)
{
	s->ptr = wire_dec_str(d, PROTO_NAME_MAX, &s->len);
	if (d->err)
		return;
	if (s->len == 0 || memchr(s->ptr, '/', s->len) || memchr(s->ptr, '\0', s->len) ||
	    (rule == PROTO_NAME_NEW && is_dot_name(s->ptr, s->len)))
		wire_dec_fail(d);
}

void proto_xattr_name_decode(struct wire_dec *d, struct proto_str *s)
{
	s->ptr = wire_dec_str(d, PROTO_XATTR_NAME_MAX, &s->len);
	if (!d->err && (s->len == 0 || memchr(s->ptr, '\0', s->len)))
		wire_dec_fail(d);
}

void proto_symlink_decode(struct wire_dec *d, struct proto_str *s)
{
	s->ptr = wire_dec_str(d, PROTO_SYMLINK_MAX, &s->len);
	if (!d->err && (s->len == 0 || memchr(s->ptr, '\0', s->len)))
		wire_dec_fail(d);
}

void proto_blob_decode(struct wire_dec *d, struct proto_blob *b, uint32_t max)
{
	b->ptr = wire_dec_blob(d, max, &b->len);
}

void proto_time_decode(struct wire_dec *d, struct proto_time *t)
{
	t->sec = (int64_t)wire_dec_u64(d);
	t->nsec = wire_dec_u32(d);
	if (t->nsec >= PROTO_NSEC_PER_SEC)
		wire_dec_fail(d);
}

void proto_cred_decode(struct wire_dec *d, struct proto_cred *c)
{
	c->uid = wire_dec_u32(d);
	c->gid = wire_dec_u32(d);
	c->ngroups = wire_dec_u32(d);
	if (c->ngroups > PROTO_CRED_GROUPS_MAX) {
		wire_dec_fail(d);
		c->ngroups = 0;
		return;
	}
	for (uint32_t i = 0; i < c->ngroups; i++)
		c->groups[i] = wire_dec_u32(d);
}

bool proto_mode_type_valid(uint32_t mode)
{
	switch (mode & PROTO_S_IFMT) {
	case PROTO_S_IFREG:
	case PROTO_S_IFDIR:
	case PROTO_S_IFLNK:
	case PROTO_S_IFCHR:
	case PROTO_S_IFBLK:
	case PROTO_S_IFIFO:
	case PROTO_S_IFSOCK:
		return true;
	default:
		return false;
	}
}

uint8_t proto_dtype_of_mode(uint32_t mode)
{
	/* S_IFMT >> 12 is the d_type for every known type. */
	return proto_mode_type_valid(mode) ? (uint8_t)((mode & PROTO_S_IFMT) >> 12) : 0;
}

bool proto_dtype_valid(uint8_t dtype)
{
	return dtype != 0 && proto_mode_type_valid((uint32_t)dtype << 12);
}

void proto_attr_decode(struct wire_dec *d, struct proto_attr *a)
{
	uint32_t type;

	a->ino = wire_dec_u64(d);
	a->gen = wire_dec_u64(d);
	a->mode = wire_dec_u32(d);
	a->nlink = wire_dec_u32(d);
	a->uid = wire_dec_u32(d);
	a->gid = wire_dec_u32(d);
	a->rdev = wire_dec_u64(d);
	a->size = wire_dec_u64(d);
	a->blocks = wire_dec_u64(d);
	proto_time_decode(d, &a->atime);
	proto_time_decode(d, &a->mtime);
	proto_time_decode(d, &a->ctime);
	a->flags = wire_dec_u32(d);

	type = a->mode & PROTO_S_IFMT;
	if (a->ino == 0 || !proto_mode_type_valid(a->mode) ||
	    (a->mode & ~(PROTO_S_IFMT | PROTO_S_PERM)) ||
	    (a->rdev && type != PROTO_S_IFCHR && type != PROTO_S_IFBLK) ||
	    (a->flags & ~(uint32_t)PROTO_ATTR_KNOWN))
		wire_dec_fail(d);
}

bool proto_layout_valid(uint8_t scheme, uint8_t k, uint8_t m, uint32_t chunk_size)
{
	if (chunk_size < PROTO_CHUNK_SIZE_MIN || chunk_size > PROTO_CHUNK_SIZE_MAX ||
	    (chunk_size & (chunk_size - 1)))
		return false;
	if (m > PROTO_LAYOUT_M_MAX)
		return false;
	switch (scheme) {
	case PROTO_SCHEME_EC:
		return k >= 1 && k <= PROTO_LAYOUT_K_MAX;
	case PROTO_SCHEME_REP:
		return k == 1;
	default:
		return false;
	}
}

void proto_layout_decode(struct wire_dec *d, struct proto_layout *l)
{
	l->pool_id = wire_dec_u32(d);
	l->scheme = wire_dec_u8(d);
	l->k = wire_dec_u8(d);
	l->m = wire_dec_u8(d);
	l->chunk_size = wire_dec_u32(d);
	if (!proto_layout_valid(l->scheme, l->k, l->m, l->chunk_size))
		wire_dec_fail(d);
}

uint64_t proto_ino_decode(struct wire_dec *d)
{
	uint64_t ino = wire_dec_u64(d);

	if (ino == 0)
		wire_dec_fail(d);
	return ino;
}

uint32_t proto_bits_decode(struct wire_dec *d, uint32_t mask)
{
	uint32_t v = wire_dec_u32(d);

	if (v & ~mask)
		wire_dec_fail(d);
	return v;
}

bool proto_bool_decode(struct wire_dec *d)
{
	uint8_t v = wire_dec_u8(d);

	if (v > 1)
		wire_dec_fail(d);
	return v == 1;
}
