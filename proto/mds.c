/*
 * mds.c - codecs of the metadata service messages (mds.h).  Each decoder
 * reads every field, lets the cursor's sticky error collect truncation and
 * range failures, and ends with wire_dec_finish() so trailing bytes fail.
 * Stateless; thread-safe.
 */
#include "proto/mds.h"

#include <string.h>

#include "common/error.h"

/* ---- helpers shared by several messages ---- */

static bool perm_only(uint32_t mode)
{
	return (mode & ~PROTO_S_PERM) == 0;
}

/* Access mode 0..2 and known bits; EXCL only where allowed. */
static bool open_flags_valid(uint32_t flags, bool allow_excl)
{
	if (flags & ~(uint32_t)PROTO_MDS_O_KNOWN)
		return false;
	if ((flags & PROTO_MDS_O_ACCMODE) == PROTO_MDS_O_ACCMODE)
		return false;
	return allow_excl || !(flags & PROTO_MDS_O_EXCL);
}

static void entry_enc(const struct proto_mds_entry *m, struct wire_enc *e)
{
	proto_attr_encode(&m->attr, e);
	wire_enc_u32(e, m->entry_valid_ms);
	wire_enc_u32(e, m->attr_valid_ms);
	wire_enc_u32(e, m->flags);
	if (m->flags & PROTO_MDS_ENTRY_LAYOUT)
		proto_layout_encode(&m->layout, e);
}

static void entry_dec(struct wire_dec *d, struct proto_mds_entry *m)
{
	bool is_reg;

	proto_attr_decode(d, &m->attr);
	m->entry_valid_ms = wire_dec_u32(d);
	m->attr_valid_ms = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_ENTRY_LAYOUT);
	memset(&m->layout, 0, sizeof(m->layout));
	if (m->flags & PROTO_MDS_ENTRY_LAYOUT)
		proto_layout_decode(d, &m->layout);
	is_reg = (m->attr.mode & PROTO_S_IFMT) == PROTO_S_IFREG;
	if (is_reg != !!(m->flags & PROTO_MDS_ENTRY_LAYOUT))
		wire_dec_fail(d);
}

/* ---- shared replies ---- */

int proto_mds_entry_encode(const struct proto_mds_entry *m, struct wire_enc *e)
{
	entry_enc(m, e);
	return proto_enc_status(e);
}

int proto_mds_entry_decode(struct wire_dec *d, struct proto_mds_entry *m)
{
	entry_dec(d, m);
	return wire_dec_finish(d);
}

int proto_mds_attr_rep_encode(const struct proto_mds_attr_rep *m, struct wire_enc *e)
{
	proto_attr_encode(&m->attr, e);
	wire_enc_u32(e, m->attr_valid_ms);
	return proto_enc_status(e);
}

int proto_mds_attr_rep_decode(struct wire_dec *d, struct proto_mds_attr_rep *m)
{
	proto_attr_decode(d, &m->attr);
	m->attr_valid_ms = wire_dec_u32(d);
	return wire_dec_finish(d);
}

int proto_mds_open_rep_encode(const struct proto_mds_open_rep *m, struct wire_enc *e)
{
	entry_enc(&m->entry, e);
	wire_enc_u64(e, m->fh);
	wire_enc_u32(e, m->open_flags);
	return proto_enc_status(e);
}

int proto_mds_open_rep_decode(struct wire_dec *d, struct proto_mds_open_rep *m)
{
	entry_dec(d, &m->entry);
	m->fh = wire_dec_u64(d);
	m->open_flags = proto_bits_decode(d, PROTO_MDS_OPEN_KNOWN);
	if (m->fh == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* ---- name operations ---- */

int proto_mds_lookup_req_encode(const struct proto_mds_lookup_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	return proto_enc_status(e);
}

int proto_mds_lookup_req_decode(struct wire_dec *d, struct proto_mds_lookup_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_EXISTING);
	return wire_dec_finish(d);
}

int proto_mds_create_req_encode(const struct proto_mds_create_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	wire_enc_u32(e, m->mode);
	wire_enc_u32(e, m->umask);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_create_req_decode(struct wire_dec *d, struct proto_mds_create_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	m->mode = wire_dec_u32(d);
	m->umask = wire_dec_u32(d);
	m->flags = wire_dec_u32(d);
	if (!perm_only(m->mode) || !perm_only(m->umask) || !open_flags_valid(m->flags, true))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_mknod_req_encode(const struct proto_mds_mknod_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	wire_enc_u32(e, m->mode);
	wire_enc_u32(e, m->umask);
	wire_enc_u64(e, m->rdev);
	return proto_enc_status(e);
}

static bool mknod_valid(uint32_t mode, uint64_t rdev)
{
	switch (mode & PROTO_S_IFMT) {
	case PROTO_S_IFCHR:
	case PROTO_S_IFBLK:
		break;
	case PROTO_S_IFREG:
	case PROTO_S_IFIFO:
	case PROTO_S_IFSOCK:
		if (rdev)
			return false;
		break;
	default:
		return false;
	}
	return (mode & ~(PROTO_S_IFMT | PROTO_S_PERM)) == 0;
}

int proto_mds_mknod_req_decode(struct wire_dec *d, struct proto_mds_mknod_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	m->mode = wire_dec_u32(d);
	m->umask = wire_dec_u32(d);
	m->rdev = wire_dec_u64(d);
	if (!mknod_valid(m->mode, m->rdev) || !perm_only(m->umask))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_mkdir_req_encode(const struct proto_mds_mkdir_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	wire_enc_u32(e, m->mode);
	wire_enc_u32(e, m->umask);
	return proto_enc_status(e);
}

int proto_mds_mkdir_req_decode(struct wire_dec *d, struct proto_mds_mkdir_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	m->mode = wire_dec_u32(d);
	m->umask = wire_dec_u32(d);
	if (!perm_only(m->mode) || !perm_only(m->umask))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_unlink_req_encode(const struct proto_mds_unlink_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	return proto_enc_status(e);
}

int proto_mds_unlink_req_decode(struct wire_dec *d, struct proto_mds_unlink_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	return wire_dec_finish(d);
}

int proto_mds_rename_req_encode(const struct proto_mds_rename_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	wire_enc_u64(e, m->new_parent);
	proto_str_encode(&m->new_name, e);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_rename_req_decode(struct wire_dec *d, struct proto_mds_rename_req *m)
{
	const uint32_t both = PROTO_MDS_RENAME_NOREPLACE | PROTO_MDS_RENAME_EXCHANGE;

	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	m->new_parent = proto_ino_decode(d);
	proto_name_decode(d, &m->new_name, PROTO_NAME_NEW);
	m->flags = proto_bits_decode(d, both);
	if ((m->flags & both) == both)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_link_req_encode(const struct proto_mds_link_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->new_parent);
	proto_str_encode(&m->new_name, e);
	return proto_enc_status(e);
}

int proto_mds_link_req_decode(struct wire_dec *d, struct proto_mds_link_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->new_parent = proto_ino_decode(d);
	proto_name_decode(d, &m->new_name, PROTO_NAME_NEW);
	return wire_dec_finish(d);
}

int proto_mds_symlink_req_encode(const struct proto_mds_symlink_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->parent);
	proto_str_encode(&m->name, e);
	proto_str_encode(&m->target, e);
	return proto_enc_status(e);
}

int proto_mds_symlink_req_decode(struct wire_dec *d, struct proto_mds_symlink_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->parent = proto_ino_decode(d);
	proto_name_decode(d, &m->name, PROTO_NAME_NEW);
	proto_symlink_decode(d, &m->target);
	return wire_dec_finish(d);
}

/* ---- inode operations ---- */

int proto_mds_ino_req_encode(const struct proto_mds_ino_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	return proto_enc_status(e);
}

int proto_mds_ino_req_decode(struct wire_dec *d, struct proto_mds_ino_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	return wire_dec_finish(d);
}

int proto_mds_getattr_req_encode(const struct proto_mds_getattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->fh);
	return proto_enc_status(e);
}

int proto_mds_getattr_req_decode(struct wire_dec *d, struct proto_mds_getattr_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->fh = wire_dec_u64(d);
	return wire_dec_finish(d);
}

int proto_mds_setattr_req_encode(const struct proto_mds_setattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->fh);
	wire_enc_u32(e, m->valid);
	wire_enc_u32(e, m->mode);
	wire_enc_u32(e, m->uid);
	wire_enc_u32(e, m->gid);
	wire_enc_u64(e, m->size);
	proto_time_encode(&m->atime, e);
	proto_time_encode(&m->mtime, e);
	proto_time_encode(&m->ctime, e);
	return proto_enc_status(e);
}

static bool time_is_zero(const struct proto_time *t)
{
	return t->sec == 0 && t->nsec == 0;
}

/* A time is given iff its bit is set without its "now" bit. */
static bool settime_valid(uint32_t valid, uint32_t set, uint32_t now, const struct proto_time *t)
{
	if ((valid & now) && !(valid & set))
		return false;
	if (!(valid & set) || (valid & now))
		return time_is_zero(t);
	return true;
}

static bool setattr_valid(const struct proto_mds_setattr_req *m)
{
	uint32_t v = m->valid;

	if (v == 0 || (v & ~PROTO_MDS_SET_KNOWN))
		return false;
	if (!perm_only(m->mode) || (!(v & PROTO_MDS_SET_MODE) && m->mode) ||
	    (!(v & PROTO_MDS_SET_UID) && m->uid) || (!(v & PROTO_MDS_SET_GID) && m->gid) ||
	    (!(v & PROTO_MDS_SET_SIZE) && m->size))
		return false;
	return settime_valid(v, PROTO_MDS_SET_ATIME, PROTO_MDS_SET_ATIME_NOW, &m->atime) &&
	       settime_valid(v, PROTO_MDS_SET_MTIME, PROTO_MDS_SET_MTIME_NOW, &m->mtime) &&
	       settime_valid(v, PROTO_MDS_SET_CTIME, 0, &m->ctime);
}

int proto_mds_setattr_req_decode(struct wire_dec *d, struct proto_mds_setattr_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->fh = wire_dec_u64(d);
	m->valid = wire_dec_u32(d);
	m->mode = wire_dec_u32(d);
	m->uid = wire_dec_u32(d);
	m->gid = wire_dec_u32(d);
	m->size = wire_dec_u64(d);
	proto_time_decode(d, &m->atime);
	proto_time_decode(d, &m->mtime);
	proto_time_decode(d, &m->ctime);
	if (!setattr_valid(m))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_readlink_rep_encode(const struct proto_mds_readlink_rep *m, struct wire_enc *e)
{
	proto_str_encode(&m->target, e);
	return proto_enc_status(e);
}

int proto_mds_readlink_rep_decode(struct wire_dec *d, struct proto_mds_readlink_rep *m)
{
	proto_symlink_decode(d, &m->target);
	return wire_dec_finish(d);
}

int proto_mds_statfs_rep_encode(const struct proto_mds_statfs_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->blocks);
	wire_enc_u64(e, m->bfree);
	wire_enc_u64(e, m->bavail);
	wire_enc_u64(e, m->files);
	wire_enc_u64(e, m->ffree);
	wire_enc_u32(e, m->bsize);
	wire_enc_u32(e, m->frsize);
	wire_enc_u32(e, m->namemax);
	return proto_enc_status(e);
}

int proto_mds_statfs_rep_decode(struct wire_dec *d, struct proto_mds_statfs_rep *m)
{
	m->blocks = wire_dec_u64(d);
	m->bfree = wire_dec_u64(d);
	m->bavail = wire_dec_u64(d);
	m->files = wire_dec_u64(d);
	m->ffree = wire_dec_u64(d);
	m->bsize = wire_dec_u32(d);
	m->frsize = wire_dec_u32(d);
	m->namemax = wire_dec_u32(d);
	if (m->bfree > m->blocks || m->bavail > m->bfree || m->ffree > m->files || m->bsize == 0 ||
	    m->frsize == 0 || m->namemax == 0 || m->namemax > PROTO_NAME_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* ---- open files ---- */

int proto_mds_open_req_encode(const struct proto_mds_open_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_open_req_decode(struct wire_dec *d, struct proto_mds_open_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->flags = wire_dec_u32(d);
	if (!open_flags_valid(m->flags, false))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_publish_req_encode(const struct proto_mds_publish_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->fh);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->size);
	proto_time_encode(&m->mtime, e);
	return proto_enc_status(e);
}

int proto_mds_publish_req_decode(struct wire_dec *d, struct proto_mds_publish_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->fh = wire_dec_u64(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_PUB_KNOWN);
	m->size = wire_dec_u64(d);
	proto_time_decode(d, &m->mtime);
	if (m->fh == 0 || (!(m->flags & PROTO_MDS_PUB_SIZE) && m->size) ||
	    (!(m->flags & PROTO_MDS_PUB_MTIME) && !time_is_zero(&m->mtime)))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* ---- directories ---- */

int proto_mds_readdir_req_encode(const struct proto_mds_readdir_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->fh);
	wire_enc_u64(e, m->cookie);
	wire_enc_u32(e, m->max_entries);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_readdir_req_decode(struct wire_dec *d, struct proto_mds_readdir_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->fh = wire_dec_u64(d);
	m->cookie = wire_dec_u64(d);
	m->max_entries = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_READDIR_PLUS);
	if (m->max_entries == 0 || m->max_entries > PROTO_MDS_READDIR_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

static void dirent_enc(const struct proto_mds_dirent *m, struct wire_enc *e)
{
	proto_str_encode(&m->name, e);
	wire_enc_u64(e, m->cookie);
	wire_enc_u64(e, m->ino);
	wire_enc_u8(e, m->dtype);
	wire_enc_u8(e, m->flags);
	if (m->flags & PROTO_MDS_DIRENT_ATTR)
		proto_attr_encode(&m->attr, e);
}

static void dirent_dec(struct wire_dec *d, struct proto_mds_dirent *m)
{
	proto_name_decode(d, &m->name, PROTO_NAME_EXISTING);
	m->cookie = wire_dec_u64(d);
	m->ino = proto_ino_decode(d);
	m->dtype = wire_dec_u8(d);
	m->flags = wire_dec_u8(d);
	memset(&m->attr, 0, sizeof(m->attr));
	if (m->flags & PROTO_MDS_DIRENT_ATTR) {
		proto_attr_decode(d, &m->attr);
		if (m->attr.ino != m->ino || proto_dtype_of_mode(m->attr.mode) != m->dtype)
			wire_dec_fail(d);
	}
	if (m->cookie == 0 || !proto_dtype_valid(m->dtype) ||
	    (m->flags & ~(uint8_t)PROTO_MDS_DIRENT_ATTR))
		wire_dec_fail(d);
}

int proto_mds_readdir_rep_encode(const struct proto_mds_readdir_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->entry_valid_ms);
	wire_enc_u32(e, m->attr_valid_ms);
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++)
		dirent_enc(&m->entries[i], e);
	return proto_enc_status(e);
}

int proto_mds_readdir_rep_decode(struct wire_dec *d, struct proto_mds_readdir_rep *m)
{
	m->flags = proto_bits_decode(d, PROTO_MDS_READDIR_EOF);
	m->entry_valid_ms = wire_dec_u32(d);
	m->attr_valid_ms = wire_dec_u32(d);
	m->count = wire_dec_u32(d);
	if (m->count > m->cap || m->count > PROTO_MDS_READDIR_MAX ||
	    (m->count == 0 && !(m->flags & PROTO_MDS_READDIR_EOF))) {
		wire_dec_fail(d);
		m->count = 0;
	}
	for (uint32_t i = 0; i < m->count && !d->err; i++)
		dirent_dec(d, &m->entries[i]);
	return wire_dec_finish(d);
}

/* ---- extended attributes ---- */

int proto_mds_getxattr_req_encode(const struct proto_mds_getxattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	proto_str_encode(&m->name, e);
	wire_enc_u32(e, m->size);
	return proto_enc_status(e);
}

int proto_mds_getxattr_req_decode(struct wire_dec *d, struct proto_mds_getxattr_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	proto_xattr_name_decode(d, &m->name);
	m->size = wire_dec_u32(d);
	if (m->size > PROTO_XATTR_VALUE_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_getxattr_rep_encode(const struct proto_mds_getxattr_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->size);
	proto_blob_encode(&m->value, e);
	return proto_enc_status(e);
}

int proto_mds_getxattr_rep_decode(struct wire_dec *d, struct proto_mds_getxattr_rep *m)
{
	m->size = wire_dec_u32(d);
	proto_blob_decode(d, &m->value, PROTO_XATTR_VALUE_MAX);
	if (m->size > PROTO_XATTR_VALUE_MAX || (m->value.len && m->value.len != m->size))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_setxattr_req_encode(const struct proto_mds_setxattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	proto_str_encode(&m->name, e);
	proto_blob_encode(&m->value, e);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_setxattr_req_decode(struct wire_dec *d, struct proto_mds_setxattr_req *m)
{
	const uint32_t both = PROTO_MDS_XATTR_CREATE | PROTO_MDS_XATTR_REPLACE;

	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	proto_xattr_name_decode(d, &m->name);
	proto_blob_decode(d, &m->value, PROTO_XATTR_VALUE_MAX);
	m->flags = proto_bits_decode(d, both);
	if ((m->flags & both) == both)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_listxattr_req_encode(const struct proto_mds_listxattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u32(e, m->size);
	return proto_enc_status(e);
}

int proto_mds_listxattr_req_decode(struct wire_dec *d, struct proto_mds_listxattr_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->size = wire_dec_u32(d);
	if (m->size > PROTO_XATTR_LIST_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

/* A listxattr(2) list: names of 1..XATTR_NAME_MAX bytes, each NUL-ended. */
static bool xattr_list_valid(const uint8_t *p, uint32_t len)
{
	uint32_t start = 0;

	for (uint32_t i = 0; i < len; i++) {
		if (p[i] != '\0')
			continue;
		if (i == start || i - start > PROTO_XATTR_NAME_MAX)
			return false;
		start = i + 1;
	}
	return start == len;
}

int proto_mds_listxattr_rep_encode(const struct proto_mds_listxattr_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->size);
	proto_blob_encode(&m->list, e);
	return proto_enc_status(e);
}

int proto_mds_listxattr_rep_decode(struct wire_dec *d, struct proto_mds_listxattr_rep *m)
{
	m->size = wire_dec_u32(d);
	proto_blob_decode(d, &m->list, PROTO_XATTR_LIST_MAX);
	if (m->size > PROTO_XATTR_LIST_MAX || (m->list.len && m->list.len != m->size) ||
	    (!d->err && !xattr_list_valid(m->list.ptr, m->list.len)))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_removexattr_req_encode(const struct proto_mds_removexattr_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	proto_str_encode(&m->name, e);
	return proto_enc_status(e);
}

int proto_mds_removexattr_req_decode(struct wire_dec *d, struct proto_mds_removexattr_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	proto_xattr_name_decode(d, &m->name);
	return wire_dec_finish(d);
}

/* ---- file locks ---- */

static bool lock_range_valid(uint64_t start, uint64_t len)
{
	if (start > PROTO_MDS_LOCK_OFFSET_MAX)
		return false;
	return len == 0 || len - 1 <= PROTO_MDS_LOCK_OFFSET_MAX - start;
}

static bool lock_type_valid(uint8_t type)
{
	return type >= PROTO_MDS_LOCK_RD && type <= PROTO_MDS_LOCK_UN;
}

/* type, flags and wait_id of a LOCK_SET or FLOCK request agree. */
static bool lock_wait_valid(uint8_t type, uint32_t flags, uint64_t wait_id)
{
	if (!lock_type_valid(type))
		return false;
	if (!(flags & PROTO_MDS_LOCK_WAIT))
		return wait_id == 0;
	return wait_id != 0 && type != PROTO_MDS_LOCK_UN;
}

int proto_mds_lock_req_encode(const struct proto_mds_lock_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->session);
	wire_enc_u64(e, m->owner);
	wire_enc_u64(e, m->start);
	wire_enc_u64(e, m->len);
	wire_enc_u32(e, m->pid);
	wire_enc_u8(e, m->type);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->wait_id);
	return proto_enc_status(e);
}

int proto_mds_lock_req_decode(struct wire_dec *d, struct proto_mds_lock_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->session = wire_dec_u64(d);
	m->owner = wire_dec_u64(d);
	m->start = wire_dec_u64(d);
	m->len = wire_dec_u64(d);
	m->pid = wire_dec_u32(d);
	m->type = wire_dec_u8(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_LOCK_WAIT);
	m->wait_id = wire_dec_u64(d);
	if (m->session == 0 || !lock_wait_valid(m->type, m->flags, m->wait_id) ||
	    !lock_range_valid(m->start, m->len))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_lock_rep_encode(const struct proto_mds_lock_rep *m, struct wire_enc *e)
{
	wire_enc_u8(e, m->type);
	wire_enc_u64(e, m->start);
	wire_enc_u64(e, m->len);
	wire_enc_u32(e, m->pid);
	return proto_enc_status(e);
}

int proto_mds_lock_rep_decode(struct wire_dec *d, struct proto_mds_lock_rep *m)
{
	m->type = wire_dec_u8(d);
	m->start = wire_dec_u64(d);
	m->len = wire_dec_u64(d);
	m->pid = wire_dec_u32(d);
	if (!lock_type_valid(m->type) || !lock_range_valid(m->start, m->len) ||
	    (m->type == PROTO_MDS_LOCK_UN && (m->start || m->len || m->pid)))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_flock_req_encode(const struct proto_mds_flock_req *m, struct wire_enc *e)
{
	proto_cred_encode(&m->cred, e);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->session);
	wire_enc_u64(e, m->owner);
	wire_enc_u8(e, m->type);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->wait_id);
	return proto_enc_status(e);
}

int proto_mds_flock_req_decode(struct wire_dec *d, struct proto_mds_flock_req *m)
{
	proto_cred_decode(d, &m->cred);
	m->ino = proto_ino_decode(d);
	m->session = wire_dec_u64(d);
	m->owner = wire_dec_u64(d);
	m->type = wire_dec_u8(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_LOCK_WAIT);
	m->wait_id = wire_dec_u64(d);
	if (m->session == 0 || !lock_wait_valid(m->type, m->flags, m->wait_id))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_lock_cancel_req_encode(const struct proto_mds_lock_cancel_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->session);
	wire_enc_u64(e, m->wait_id);
	return proto_enc_status(e);
}

int proto_mds_lock_cancel_req_decode(struct wire_dec *d, struct proto_mds_lock_cancel_req *m)
{
	m->ino = proto_ino_decode(d);
	m->session = wire_dec_u64(d);
	m->wait_id = wire_dec_u64(d);
	if (m->session == 0 || m->wait_id == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_lock_release_req_encode(const struct proto_mds_lock_release_req *m,
				      struct wire_enc *e)
{
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->session);
	wire_enc_u64(e, m->owner);
	return proto_enc_status(e);
}

int proto_mds_lock_release_req_decode(struct wire_dec *d, struct proto_mds_lock_release_req *m)
{
	m->ino = proto_ino_decode(d);
	m->session = wire_dec_u64(d);
	m->owner = wire_dec_u64(d);
	if (m->session == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_lock_session_req_encode(const struct proto_mds_lock_session_req *m,
				      struct wire_enc *e)
{
	wire_enc_u64(e, m->session);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_mds_lock_session_req_decode(struct wire_dec *d, struct proto_mds_lock_session_req *m)
{
	m->session = wire_dec_u64(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_SESSION_END);
	if (m->session == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_mds_lock_session_rep_encode(const struct proto_mds_lock_session_rep *m,
				      struct wire_enc *e)
{
	wire_enc_u32(e, m->lease_ms);
	wire_enc_u32(e, m->flags);
	wire_enc_u32(e, m->locks);
	wire_enc_u32(e, m->waiters);
	return proto_enc_status(e);
}

int proto_mds_lock_session_rep_decode(struct wire_dec *d, struct proto_mds_lock_session_rep *m)
{
	m->lease_ms = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_MDS_SESSION_NEW);
	m->locks = wire_dec_u32(d);
	m->waiters = wire_dec_u32(d);
	if (m->lease_ms == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}
