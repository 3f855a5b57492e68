/*
 * fnode.h - cairn-fuse: the regular files this mount has open, one node per
 * inode, and the handles (struct cairn_file) opened on it.
 *
 * Why a table: a struct cairn_file knows the size it has learnt (its own
 * writes and truncates) and reads end there, and publishes that size on
 * fsync and close (the MDS keeps the largest).  The kernel, however, sees
 * one file per inode: a write through one descriptor must be readable
 * through every other descriptor of this mount at once, a stat must show
 * the size written so far, and a truncate through one must not be undone
 * when another publishes the size it knew.  So the node keeps the size this
 * mount knows (what the kernel's i_size should be), reads are served
 * through a handle of the node that knows far enough (or a fresh internal
 * one), and a truncate brings every writable handle of the node to the new
 * size.  This is a stop-gap: when libcairn shares per-inode state between
 * the handles of one client, the table shrinks to the attribute overlay.
 *
 * Handles are opened O_RDWR when the caller asked O_WRONLY and may also
 * read (so a writer's handle can serve other readers); the kernel still
 * refuses reads through a write-only descriptor.
 *
 * Threads: every function may be called from any thread.  Locks: the
 * table's mutex guards the hash chains and node reference counts; a node's
 * mutex guards its size, handles and their flags; a node's rwlock is held
 * shared by writes and exclusively by truncates.  Order: table, node.  No
 * lock is held across a call into libcairn except the rwlock.
 *
 * Ownership: a handle returned by fnode_open()/fnode_create() belongs to
 * the caller (the FUSE file handle) until fnode_release().
 */
#ifndef CAIRN_CLIENT_FUSE_FNODE_H
#define CAIRN_CLIENT_FUSE_FNODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/cairn.h"

struct fnode_table;
struct fnode_handle;

/* A table over cluster c (borrowed; it must outlive the table), or NULL. */
struct fnode_table *fnode_table_new(struct cairn *c);

/* Frees the table; every handle must have been released. */
void fnode_table_free(struct fnode_table *t);

/*
 * Opens regular file ino for cred with open(2) flags (O_TRUNC truncates
 * through the node).  Returns 0 and *out, or cairn_file_open()'s errors.
 */
int fnode_open(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino, int flags,
	       struct fnode_handle **out);

/*
 * Creates parent/name (mode: permission bits, umask applied) and opens it.
 * Returns 0, *out and the new file's attributes in *attr, or the errors of
 * cairn_file_create() and cairn_getattr().
 */
int fnode_create(struct fnode_table *t, const struct cairn_cred *cred, uint64_t parent,
		 const char *name, uint32_t mode, int flags, struct fnode_handle **out,
		 struct cairn_attr *attr);

/*
 * Releases h: closes its cairn_file (publishing what it wrote) unless a
 * read borrows it, in which case the borrower closes it.  Returns 0 or
 * cairn_file_close()'s error.
 */
int fnode_release(struct fnode_handle *h);

/* The inode h is open on. */
uint64_t fnode_ino(const struct fnode_handle *h);

/* The size this mount knows for h's file. */
uint64_t fnode_size(struct fnode_handle *h);

/*
 * Reads up to len bytes at off, ending at the size this mount knows.
 * Returns the count, 0 at or past the end, or -errno (cairn_pread()'s
 * errors, -EBADF for a handle that cannot read, -EACCES when no handle can
 * serve the range and an internal one cannot be opened).
 */
ssize_t fnode_read(struct fnode_handle *h, void *buf, size_t len, uint64_t off);

/* Writes len bytes at off.  Returns len or cairn_pwrite()'s errors. */
ssize_t fnode_write(struct fnode_handle *h, const void *buf, size_t len, uint64_t off);

/*
 * Sets the size through h (down frees the data past it everywhere the node
 * knows of; up leaves a hole).  Returns 0 or cairn_ftruncate()'s errors.
 */
int fnode_truncate(struct fnode_handle *h, uint64_t size);

/*
 * truncate(2) by inode, for cred: through a writable handle of the node
 * when the file is open here, else through a handle opened for the call.
 * Returns 0 or the errors of fnode_open() and fnode_truncate().
 */
int fnode_truncate_ino(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino,
		       uint64_t size);

/*
 * close(2) of a descriptor: publishes what h wrote since its last
 * publication (durably: libcairn has no lighter publication that keeps
 * the handle), so another mount that opens the file next sees it whole.
 * Returns 0 or cairn_fsync()'s errors.
 */
int fnode_flush(struct fnode_handle *h);

/*
 * fsync(2): publishes durably what every handle of the node wrote (data is
 * durable on the OSDs already).  Returns 0 or cairn_fsync()'s errors.
 */
int fnode_fsync(struct fnode_handle *h, bool datasync);

/*
 * Corrects attributes from the MDS for a file open here: the size this
 * mount knows (and blocks to match) and, while local writes are not yet
 * published, their modification time.  Other inodes are left alone.
 */
void fnode_attr_fix(struct fnode_table *t, struct cairn_attr *a);

#endif
