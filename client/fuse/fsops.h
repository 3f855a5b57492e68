/*
 * fsops.h - cairn-fuse: the FUSE low-level operations over libcairn.
 *
 * FUSE node ids are Cairn inode numbers (the root is 1 in both) and
 * generations come from the MDS, so nothing is kept per looked-up inode:
 * forget has nothing to drop, and a restarted daemon could serve the same
 * ids.  Every call carries the requesting process's uid, gid and (where the
 * MDS checks permissions, for callers other than root) supplementary
 * groups.  Regular files are open through fnode.h; fi->fh holds the
 * struct fnode_handle (itself holding the struct cairn_file).  Directory
 * handles are MDS open handles (cairn_open_meta()).
 *
 * Errors: libcairn returns -errno or Cairn's own codes (<= -CAIRN_ERR_BASE);
 * the latter are logged and answered as EIO.
 *
 * Threads: the operations run on libfuse's worker threads, any number at
 * once; struct cfs is read-only once the session starts, except the fnode
 * table (its own locks).  Every request is answered exactly once.
 */
#ifndef CAIRN_CLIENT_FUSE_FSOPS_H
#define CAIRN_CLIENT_FUSE_FSOPS_H

#define FUSE_USE_VERSION 314 /* libfuse 3.14, Debian 12 */
#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stdint.h>

#include "client/cairn.h"

struct fnode_table;

/* One mount: what the operations share (set before the session starts). */
struct cfs {
	struct cairn *c;	   /* borrowed; outlives the session */
	struct fnode_table *nodes; /* owned by whoever set up the mount */
	struct fuse_session *se;   /* for notifications to the kernel */
	double entry_timeout;	   /* seconds the kernel may cache a name */
	double attr_timeout;	   /* seconds the kernel may cache attributes */
	uint32_t readahead;	   /* bytes of kernel read-ahead to ask for; 0: its default */
	bool splice;		   /* ask the kernel for splice transfers */
	bool direct_io;		   /* open files with direct_io (no page cache) */
};

/* The operations table; userdata of the session is a struct cfs. */
extern const struct fuse_lowlevel_ops cfs_ops;

/* A credential with room for its groups. */
struct cfs_cred {
	struct cairn_cred cred;
	uint32_t groups[CAIRN_GROUPS_MAX];
};

/*
 * The requester's credential; with_groups also reads its supplementary
 * groups (skipped for uid 0, whose access never depends on them).
 */
const struct cairn_cred *cfs_cred(fuse_req_t req, bool with_groups, struct cfs_cred *out);

/* The errno to answer for a libcairn result rc < 0; op names the call in logs. */
int cfs_errno(int rc, const char *op);

/* Answers req with the error of rc (see cfs_errno()). */
void cfs_reply_err(fuse_req_t req, int rc, const char *op);

/* Fills an entry reply from attributes (corrected by the fnode table). */
void cfs_entry(const struct cfs *fs, struct cairn_attr *a, struct fuse_entry_param *e);

/* Answers req with attributes (corrected by the fnode table). */
void cfs_reply_attr(fuse_req_t req, const struct cfs *fs, struct cairn_attr *a);

static inline struct cfs *cfs_of(fuse_req_t req)
{
	return (struct cfs *)fuse_req_userdata(req);
}

/* ---- the operations, by file (the table is in fsops.c) ---- */

/* fsops_ns.c: names, attributes, links, extended attributes, statfs. */
void cfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void cfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void cfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void cfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi);
void cfs_readlink(fuse_req_t req, fuse_ino_t ino);
void cfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void cfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void cfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void cfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void cfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void cfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags);
void cfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void cfs_statfs(fuse_req_t req, fuse_ino_t ino);
void cfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags);
void cfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void cfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void cfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void cfs_access(fuse_req_t req, fuse_ino_t ino, int mask);

/* fsops_dir.c: directory handles and listings. */
void cfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void cfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void cfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

/* fsops_file.c: regular files. */
void cfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi);
void cfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void cfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
		   struct fuse_file_info *fi);
void cfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

/* fsops_lock.c: fcntl and flock locks held by the MDS. */
void cfs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *fl);
void cfs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *fl,
	       int sleep);
void cfs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op);
/* Drops every lock of owner on ino (flush: the POSIX owner; release: flock). */
void cfs_lock_release(const struct cfs *fs, fuse_ino_t ino, uint64_t owner);
void cfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		   struct fuse_file_info *fi);
void cfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi);
void cfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			 struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			 struct fuse_file_info *fi_out, size_t len, int flags);

/*
 * The size part of setattr (fsops_file.c): through fi's handle when the
 * kernel gives one (ftruncate), else through a handle opened for cred.
 * Returns 0 or the errors of fnode_truncate() and fnode_truncate_ino().
 */
int cfs_truncate(struct cfs *fs, const struct cairn_cred *cred, fuse_ino_t ino, uint64_t size,
		 struct fuse_file_info *fi);

#endif
