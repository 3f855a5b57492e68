/*
 * cairn_ns.c - libcairn: namespace calls by inode number (lookup, getattr,
 * setattr, create, mknod, mkdir, unlink, rmdir, rename, link, symlink,
 * readlink) and the open-file bookkeeping (open, close, fsync of the
 * metadata).  Each checks its arguments, giving the POSIX errno for what
 * the wire cannot carry, encodes one request, routes it to the shard the
 * rules of mdsc.h name, and decodes the reply.
 *
 * Threads: any; each call uses only its own stack and the shared mdsc.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/cinode.h"
#include "client/mdsc.h"
#include "common/rpc.h"
#include "proto/mds.h"

/* What every request starts with: the credential and an encoder. */
struct req {
	struct proto_cred cred;
	uint16_t shard; /* where the request goes */
	struct wire_enc e;
	uint8_t buf[CAIRN_REQ_MAX];
};

/* Checks c, routes to ino's shard, fills the credential, inits the encoder. */
static int req_begin(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, struct req *r)
{
	int rc;

	if (!c)
		return -EINVAL;
	rc = cairn_ino_arg(c, ino, &r->shard);
	if (rc)
		return rc;
	rc = cairn_cred_get(cred, &r->cred);
	if (rc)
		return rc;
	wire_enc_init(&r->e, r->buf, sizeof(r->buf));
	return 0;
}

int cairn_lookup(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 struct cairn_attr *out)
{
	struct proto_mds_lookup_req m = {.parent = parent};
	struct req r;
	int rc;

	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, 0, &m.name);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_lookup_req_encode(&m, &r.e);
	return cairn_send_entry(c, r.shard, PROTO_OP_MDS_LOOKUP, &r.e, out);
}

int cairn_getattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  struct cairn_attr *out)
{
	struct proto_mds_getattr_req m = {.ino = ino};
	struct req r;
	int rc;

	rc = req_begin(c, cred, ino, &r);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_getattr_req_encode(&m, &r.e);
	return cairn_send_attr(c, r.shard, PROTO_OP_MDS_GETATTR, &r.e, out);
}

static int time_arg(const struct timespec *ts, struct proto_time *out)
{
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -EINVAL;
	out->sec = ts->tv_sec;
	out->nsec = (uint32_t)ts->tv_nsec;
	return 0;
}

#define SET_KNOWN 0x1ffu

/* Fills the wire's setattr fields: those whose bit is clear stay zero. */
static int setattr_arg(const struct cairn_setattr *sa, struct proto_mds_setattr_req *m)
{
	uint32_t v = sa->valid;
	int rc = 0;

	if (!v || (v & ~SET_KNOWN) || ((v & CAIRN_SET_ATIME_NOW) && !(v & CAIRN_SET_ATIME)) ||
	    ((v & CAIRN_SET_MTIME_NOW) && !(v & CAIRN_SET_MTIME)) ||
	    ((v & CAIRN_SET_MODE) && (sa->mode & ~07777u)))
		return -EINVAL;
	m->valid = v; /* the bits have the wire's values */
	m->fh = sa->fh;
	m->mode = v & CAIRN_SET_MODE ? sa->mode : 0;
	m->uid = v & CAIRN_SET_UID ? sa->uid : 0;
	m->gid = v & CAIRN_SET_GID ? sa->gid : 0;
	m->size = v & CAIRN_SET_SIZE ? sa->size : 0;
	if ((v & CAIRN_SET_ATIME) && !(v & CAIRN_SET_ATIME_NOW))
		rc = time_arg(&sa->atime, &m->atime);
	if (!rc && (v & CAIRN_SET_MTIME) && !(v & CAIRN_SET_MTIME_NOW))
		rc = time_arg(&sa->mtime, &m->mtime);
	if (!rc && (v & CAIRN_SET_CTIME))
		rc = time_arg(&sa->ctime, &m->ctime);
	return rc;
}

_Static_assert((unsigned)CAIRN_SET_MODE == (unsigned)PROTO_MDS_SET_MODE &&
		   (unsigned)CAIRN_SET_SIZE == (unsigned)PROTO_MDS_SET_SIZE &&
		   (unsigned)CAIRN_SET_CTIME == (unsigned)PROTO_MDS_SET_CTIME &&
		   (unsigned)CAIRN_SET_MTIME_NOW == (unsigned)PROTO_MDS_SET_MTIME_NOW &&
		   SET_KNOWN == PROTO_MDS_SET_KNOWN,
	       "setattr bits are the wire's");

int cairn_setattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  const struct cairn_setattr *sa, struct cairn_attr *out)
{
	struct proto_mds_setattr_req m = {.ino = ino};
	struct req r;
	int rc;

	if (!sa)
		return -EINVAL;
	rc = req_begin(c, cred, ino, &r);
	if (!rc)
		rc = setattr_arg(sa, &m);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_setattr_req_encode(&m, &r.e);
	if (sa->valid & CAIRN_SET_MTIME) /* before the reply's overlay */
		cinode_mtime_set(c->inodes, ino, (sa->valid & CAIRN_SET_MTIME_NOW) ? NULL : &sa->mtime);
	return cairn_send_attr(c, r.shard, PROTO_OP_MDS_SETATTR, &r.e, out);
}

/* Permission bits of mode, which may carry no type or the type allowed. */
static int perm_arg(uint32_t mode, uint32_t type, uint32_t *perm)
{
	if ((mode & S_IFMT) && (mode & S_IFMT) != type)
		return -EINVAL;
	if (mode & ~(uint32_t)(S_IFMT | 07777))
		return -EINVAL;
	*perm = mode & 07777u;
	return 0;
}

int cairn_create(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 uint32_t mode, int flags, struct cairn_open_info *out)
{
	struct proto_mds_create_req m = {.parent = parent};
	struct req r;
	int rc;

	if (!out)
		return -EINVAL;
	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, -EEXIST, &m.name);
	if (!rc)
		rc = perm_arg(mode, S_IFREG, &m.mode);
	if (!rc)
		rc = cairn_open_flags(flags, true, &m.flags);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_create_req_encode(&m, &r.e);
	return cairn_send_open(c, r.shard, PROTO_OP_MDS_CREATE, &r.e, out);
}

int cairn_mknod(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		uint32_t mode, uint64_t rdev, struct cairn_attr *out)
{
	struct proto_mds_mknod_req m = {.parent = parent};
	uint32_t type = mode & S_IFMT;
	struct req r;
	int rc;

	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK)
		return -EINVAL;
	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, -EEXIST, &m.name);
	if (!rc)
		rc = perm_arg(mode, type, &m.mode);
	if (rc)
		return rc;
	m.cred = r.cred;
	m.mode |= type;
	m.rdev = (type == S_IFCHR || type == S_IFBLK) ? rdev : 0;
	proto_mds_mknod_req_encode(&m, &r.e);
	return cairn_send_entry(c, r.shard, PROTO_OP_MDS_MKNOD, &r.e, out);
}

int cairn_mkdir(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		uint32_t mode, struct cairn_attr *out)
{
	struct proto_mds_mkdir_req m = {.parent = parent};
	struct req r;
	int rc;

	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, -EEXIST, &m.name);
	if (!rc)
		rc = perm_arg(mode, S_IFDIR, &m.mode);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_mkdir_req_encode(&m, &r.e);
	return cairn_send_entry(c, r.shard, PROTO_OP_MDS_MKDIR, &r.e, out);
}

/* UNLINK and RMDIR share a body. */
static int remove_entry(struct cairn *c, const struct cairn_cred *cred, uint64_t parent,
			const char *name, uint16_t opcode, int dot_err)
{
	struct proto_mds_unlink_req m = {.parent = parent};
	struct req r;
	int rc;

	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, dot_err, &m.name);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_unlink_req_encode(&m, &r.e);
	return cairn_send_empty(c, r.shard, opcode, &r.e);
}

int cairn_unlink(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name)
{
	return remove_entry(c, cred, parent, name, PROTO_OP_MDS_UNLINK, -EISDIR);
}

int cairn_rmdir(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name)
{
	if (name && strcmp(name, "..") == 0)
		return -ENOTEMPTY;
	return remove_entry(c, cred, parent, name, PROTO_OP_MDS_RMDIR, -EINVAL);
}

int cairn_rename(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, uint32_t flags)
{
	struct proto_mds_rename_req m = {.parent = parent, .new_parent = newparent};
	uint16_t newshard;
	struct req r;
	int rc;

	if ((flags & ~(CAIRN_RENAME_NOREPLACE | CAIRN_RENAME_EXCHANGE)) ||
	    flags == (CAIRN_RENAME_NOREPLACE | CAIRN_RENAME_EXCHANGE))
		return -EINVAL;
	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_ino_arg(c, newparent, &newshard);
	if (!rc)
		rc = cairn_name_arg(name, -EBUSY, &m.name);
	if (!rc)
		rc = cairn_name_arg(newname, -EBUSY, &m.new_name);
	if (rc)
		return rc;
	m.cred = r.cred;
	m.flags = (flags & CAIRN_RENAME_NOREPLACE ? PROTO_MDS_RENAME_NOREPLACE : 0) |
		  (flags & CAIRN_RENAME_EXCHANGE ? PROTO_MDS_RENAME_EXCHANGE : 0);
	proto_mds_rename_req_encode(&m, &r.e);
	return cairn_send_empty(c, r.shard, PROTO_OP_MDS_RENAME, &r.e);
}

int cairn_link(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t newparent,
	       const char *newname, struct cairn_attr *out)
{
	struct proto_mds_link_req m = {.ino = ino, .new_parent = newparent};
	uint16_t shard;
	struct req r;
	int rc;

	rc = req_begin(c, cred, newparent, &r);
	if (!rc)
		rc = cairn_ino_arg(c, ino, &shard);
	if (!rc)
		rc = cairn_name_arg(newname, -EEXIST, &m.new_name);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_link_req_encode(&m, &r.e);
	return cairn_send_entry(c, r.shard, PROTO_OP_MDS_LINK, &r.e, out);
}

int cairn_symlink(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		  const char *target, struct cairn_attr *out)
{
	struct proto_mds_symlink_req m = {.parent = parent};
	size_t tlen;
	struct req r;
	int rc;

	if (!target)
		return -EINVAL;
	tlen = strnlen(target, CAIRN_SYMLINK_MAX + 1);
	if (tlen == 0)
		return -ENOENT;
	if (tlen > CAIRN_SYMLINK_MAX)
		return -ENAMETOOLONG;
	rc = req_begin(c, cred, parent, &r);
	if (!rc)
		rc = cairn_name_arg(name, -EEXIST, &m.name);
	if (rc)
		return rc;
	m.cred = r.cred;
	m.target = (struct proto_str){.ptr = target, .len = (uint16_t)tlen};
	proto_mds_symlink_req_encode(&m, &r.e);
	return cairn_send_entry(c, r.shard, PROTO_OP_MDS_SYMLINK, &r.e, out);
}

int cairn_readlink(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, char *buf,
		   size_t cap, size_t *len)
{
	struct proto_mds_ino_req m = {.ino = ino};
	struct proto_mds_readlink_rep rep;
	struct rpc_msg *resp;
	struct wire_dec d;
	struct req r;
	int rc;

	if (!buf || !len)
		return -EINVAL;
	rc = req_begin(c, cred, ino, &r);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_ino_req_encode(&m, &r.e);
	rc = cairn_send(c, r.shard, PROTO_OP_MDS_READLINK, &r.e, &resp);
	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_readlink_rep_decode(&d, &rep), PROTO_OP_MDS_READLINK);
	if (!rc) {
		*len = rep.target.len;
		if (cap < (size_t)rep.target.len + 1) {
			rc = -ERANGE;
		} else {
			memcpy(buf, rep.target.ptr, rep.target.len);
			buf[rep.target.len] = '\0';
		}
	}
	rpc_msg_free(resp);
	return rc;
}

int cairn_open_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, int flags,
		    struct cairn_open_info *out)
{
	struct proto_mds_open_req m = {.ino = ino};
	struct req r;
	int rc;

	if (!out)
		return -EINVAL;
	rc = req_begin(c, cred, ino, &r);
	if (!rc)
		rc = cairn_open_flags(flags, false, &m.flags);
	if (rc)
		return rc;
	m.cred = r.cred;
	proto_mds_open_req_encode(&m, &r.e);
	return cairn_send_open(c, r.shard, PROTO_OP_MDS_OPEN, &r.e, out);
}

/* CLOSE and FSYNC share a body. */
static int publish(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		   const struct cairn_publish *pub, uint32_t extra, uint16_t opcode,
		   struct cairn_attr *out)
{
	struct proto_mds_publish_req m = {.ino = ino, .fh = fh, .flags = extra};
	struct req r;
	int rc;

	if (fh == 0)
		return -EBADF;
	if (pub && (pub->valid & ~(uint32_t)(CAIRN_PUB_SIZE | CAIRN_PUB_MTIME)))
		return -EINVAL;
	rc = req_begin(c, cred, ino, &r);
	if (rc)
		return rc;
	if (pub && (pub->valid & CAIRN_PUB_SIZE)) {
		m.flags |= PROTO_MDS_PUB_SIZE;
		m.size = pub->size;
	}
	if (pub && (pub->valid & CAIRN_PUB_MTIME)) {
		m.flags |= PROTO_MDS_PUB_MTIME;
		rc = time_arg(&pub->mtime, &m.mtime);
		if (rc)
			return rc;
	}
	m.cred = r.cred;
	proto_mds_publish_req_encode(&m, &r.e);
	return cairn_send_attr(c, r.shard, opcode, &r.e, out);
}

int cairn_close_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		     const struct cairn_publish *pub, struct cairn_attr *out)
{
	return publish(c, cred, ino, fh, pub, 0, PROTO_OP_MDS_CLOSE, out);
}

int cairn_fsync_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		     const struct cairn_publish *pub, bool datasync, struct cairn_attr *out)
{
	return publish(c, cred, ino, fh, pub, datasync ? PROTO_MDS_PUB_DATASYNC : 0,
		       PROTO_OP_MDS_FSYNC, out);
}

int cairn_publish_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		       const struct cairn_publish *pub, struct cairn_attr *out)
{
	return publish(c, cred, ino, fh, pub, PROTO_MDS_PUB_NOSYNC, PROTO_OP_MDS_FSYNC, out);
}
