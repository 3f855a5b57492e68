/*
 * fsops_ns.c - cairn-fuse: the namespace operations (lookup, attributes,
 * links, names, extended attributes, statfs, access), one libcairn call
 * each with the requester's credential.
 *
 * Threads: libfuse's workers; state lives in libcairn and the fnode table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "client/fuse/fnode.h"
#include "client/fuse/fsops.h"

_Static_assert(CAIRN_RENAME_NOREPLACE == RENAME_NOREPLACE &&
		   CAIRN_RENAME_EXCHANGE == RENAME_EXCHANGE,
	       "rename flags have the kernel's values");

/* Answers an operation that yields a new or found entry. */
static void reply_entry(fuse_req_t req, int rc, struct cairn_attr *a, const char *op)
{
	struct fuse_entry_param e;

	if (rc) {
		cfs_reply_err(req, rc, op);
		return;
	}
	cfs_entry(cfs_of(req), a, &e);
	fuse_reply_entry(req, &e);
}

void cfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	rc = cairn_lookup(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name, &a);
	reply_entry(req, rc, &a, "lookup");
}

/* Node ids are inode numbers: there is no table to drop anything from. */
void cfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

void cfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

void cfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	(void)fi;
	rc = cairn_getattr(cfs_of(req)->c, cfs_cred(req, false, &cc), ino, &a);
	if (rc)
		cfs_reply_err(req, rc, "getattr");
	else
		cfs_reply_attr(req, cfs_of(req), &a);
}

/* The attributes of to_set other than the size, as libcairn wants them. */
static void setattr_fields(const struct stat *st, int to_set, struct cairn_setattr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa->valid |= CAIRN_SET_MODE;
		sa->mode = st->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa->valid |= CAIRN_SET_UID;
		sa->uid = st->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa->valid |= CAIRN_SET_GID;
		sa->gid = st->st_gid;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		sa->valid |= CAIRN_SET_ATIME;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			sa->valid |= CAIRN_SET_ATIME_NOW;
		else
			sa->atime = st->st_atim;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		sa->valid |= CAIRN_SET_MTIME;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			sa->valid |= CAIRN_SET_MTIME_NOW;
		else
			sa->mtime = st->st_mtim;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		sa->valid |= CAIRN_SET_CTIME;
		sa->ctime = st->st_ctim;
	}
}

/*
 * A size change goes through the file's data (fsops_file.c): cairn_setattr()
 * alone would change the size on the MDS and leave the chunks past it.
 */
void cfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi)
{
	struct cfs *fs = cfs_of(req);
	struct cairn_setattr sa;
	struct cfs_cred cc;
	const struct cairn_cred *cred = cfs_cred(req, true, &cc);
	struct cairn_attr a;
	int rc = 0;

	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		rc = cfs_truncate(fs, cred, ino, (uint64_t)attr->st_size, fi);
		if (rc) {
			cfs_reply_err(req, rc, "truncate");
			return;
		}
	}
	setattr_fields(attr, to_set, &sa);
	if (sa.valid)
		rc = cairn_setattr(fs->c, cred, ino, &sa, &a);
	else
		rc = cairn_getattr(fs->c, cred, ino, &a);
	if (rc)
		cfs_reply_err(req, rc, "setattr");
	else
		cfs_reply_attr(req, fs, &a);
}

void cfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[CAIRN_SYMLINK_MAX + 1];
	struct cfs_cred cc;
	size_t len;
	int rc;

	rc = cairn_readlink(cfs_of(req)->c, cfs_cred(req, false, &cc), ino, buf, sizeof(buf), &len);
	if (rc)
		cfs_reply_err(req, rc, "readlink");
	else
		fuse_reply_readlink(req, buf);
}

void cfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	rc = cairn_mknod(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name, mode, rdev, &a);
	reply_entry(req, rc, &a, "mknod");
}

void cfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	rc = cairn_mkdir(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name, mode & 07777, &a);
	reply_entry(req, rc, &a, "mkdir");
}

void cfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cfs_cred cc;
	int rc;

	rc = cairn_unlink(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name);
	fuse_reply_err(req, rc ? cfs_errno(rc, "unlink") : 0);
}

void cfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cfs_cred cc;
	int rc;

	rc = cairn_rmdir(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name);
	fuse_reply_err(req, rc ? cfs_errno(rc, "rmdir") : 0);
}

void cfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	rc = cairn_symlink(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name, link, &a);
	reply_entry(req, rc, &a, "symlink");
}

void cfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags)
{
	struct cfs_cred cc;
	int rc;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL); /* RENAME_WHITEOUT: no overlay support */
		return;
	}
	rc = cairn_rename(cfs_of(req)->c, cfs_cred(req, true, &cc), parent, name, newparent,
			  newname, flags);
	fuse_reply_err(req, rc ? cfs_errno(rc, "rename") : 0);
}

void cfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct cfs_cred cc;
	struct cairn_attr a;
	int rc;

	rc = cairn_link(cfs_of(req)->c, cfs_cred(req, true, &cc), ino, newparent, newname, &a);
	reply_entry(req, rc, &a, "link");
}

void cfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct cairn_statfs s;
	struct statvfs v;
	struct cfs_cred cc;
	int rc;

	(void)ino;
	rc = cairn_statfs(cfs_of(req)->c, cfs_cred(req, false, &cc), &s);
	if (rc) {
		cfs_reply_err(req, rc, "statfs");
		return;
	}
	memset(&v, 0, sizeof(v));
	v.f_bsize = s.bsize;
	v.f_frsize = s.frsize;
	v.f_blocks = s.blocks;
	v.f_bfree = s.bfree;
	v.f_bavail = s.bavail;
	v.f_files = s.files;
	v.f_ffree = s.ffree;
	v.f_favail = s.ffree;
	v.f_namemax = s.namemax;
	fuse_reply_statfs(req, &v);
}

/* ---- extended attributes ---- */

void cfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags)
{
	struct cfs_cred cc;
	int rc;

	rc =
	    cairn_setxattr(cfs_of(req)->c, cfs_cred(req, true, &cc), ino, name, value, size, flags);
	fuse_reply_err(req, rc ? cfs_errno(rc, "setxattr") : 0);
}

/*
 * getxattr and listxattr: size 0 asks the length; otherwise the value, or
 * ERANGE when it does not fit in size.
 */
static void reply_sized(fuse_req_t req, size_t size, int rc, const void *buf, size_t len,
			const char *op)
{
	if (rc)
		cfs_reply_err(req, rc, op);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
}

void cfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	size_t cap = size > CAIRN_XATTR_SIZE_MAX ? CAIRN_XATTR_SIZE_MAX : size;
	struct cfs_cred cc;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (cap && !(buf = malloc(cap))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = cairn_getxattr(cfs_of(req)->c, cfs_cred(req, true, &cc), ino, name, buf, cap, &len);
	reply_sized(req, size, rc, buf, len, "getxattr");
	free(buf);
}

void cfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	size_t cap = size > CAIRN_XATTR_SIZE_MAX ? CAIRN_XATTR_SIZE_MAX : size;
	struct cfs_cred cc;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (cap && !(buf = malloc(cap))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = cairn_listxattr(cfs_of(req)->c, cfs_cred(req, true, &cc), ino, buf, cap, &len);
	reply_sized(req, size, rc, buf, len, "listxattr");
	free(buf);
}

void cfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct cfs_cred cc;
	int rc;

	rc = cairn_removexattr(cfs_of(req)->c, cfs_cred(req, true, &cc), ino, name);
	fuse_reply_err(req, rc ? cfs_errno(rc, "removexattr") : 0);
}

/* ---- access ---- */

static bool in_groups(const struct cairn_cred *c, uint32_t gid)
{
	if (c->gid == gid)
		return true;
	for (uint32_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/*
 * access(2) against attributes, with the rules the MDS applies (libcairn
 * has no access call): root may read and write anything and execute what
 * has an x bit (search any directory); others get the owner, group or
 * other bits.  Returns 0, -EACCES, or -EPERM (write to an immutable file).
 */
static int access_check(const struct cairn_cred *c, const struct cairn_attr *a, int mask)
{
	uint32_t bits, want = 0;

	if (mask == F_OK)
		return 0;
	if ((mask & W_OK) && (a->flags & CAIRN_ATTR_IMMUTABLE))
		return -EPERM;
	if (c->uid == 0) {
		if (!(mask & X_OK) || S_ISDIR(a->mode) || (a->mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return 0;
		return -EACCES;
	}
	if (c->uid == a->uid)
		bits = (a->mode >> 6) & 7;
	else if (in_groups(c, a->gid))
		bits = (a->mode >> 3) & 7;
	else
		bits = a->mode & 7;
	want |= (mask & R_OK) ? 4 : 0;
	want |= (mask & W_OK) ? 2 : 0;
	want |= (mask & X_OK) ? 1 : 0;
	return (want & ~bits) ? -EACCES : 0;
}

void cfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct cfs_cred cc;
	const struct cairn_cred *cred = cfs_cred(req, true, &cc);
	struct cairn_attr a;
	int rc;

	rc = cairn_getattr(cfs_of(req)->c, cred, ino, &a);
	if (rc == 0)
		rc = access_check(cred, &a, mask);
	fuse_reply_err(req, rc ? cfs_errno(rc, "access") : 0);
}
