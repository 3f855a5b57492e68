/*
 * fnode.h - cairn-fuse: the kernel's open file descriptions of regular
 * files, each one a struct cairn_file.  What the descriptions of one inode
 * share (the size this mount's writes gave the file, the write buffer,
 * O_APPEND order, the size reported by getattr before close) is libcairn's
 * per-file client state, so this layer only adds what the kernel needs on
 * top: handles opened O_WRONLY are raised to O_RDWR when the caller may
 * read (the kernel reads pages through a write-only description to fill
 * the page cache), truncate by inode goes through a handle (so that the
 * chunks past the new end are freed), and close(2)'s flush publishes.
 *
 * Threads: every function may be called from any thread.
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
 * Whether the kernel may keep the pages it has cached of h's file (open's
 * keep_cache): true when the file has the mtime and size it had at the
 * previous open through this table, so nothing changed it since (writes
 * through this mount went through the page cache).  Notes the file's
 * current mtime and size for the next open.
 */
bool fnode_keep_cache(struct fnode_table *t, struct fnode_handle *h);

/* Releases h: closes its cairn_file.  Returns 0 or cairn_file_close()'s error. */
int fnode_release(struct fnode_handle *h);

/* The inode h is open on. */
uint64_t fnode_ino(const struct fnode_handle *h);

/* The size this mount knows for h's file. */
uint64_t fnode_size(struct fnode_handle *h);

/*
 * Reads up to len bytes at off, ending at the size this mount knows.
 * Returns the count, 0 at or past the end, or cairn_pread()'s errors.
 */
ssize_t fnode_read(struct fnode_handle *h, void *buf, size_t len, uint64_t off);

/* Writes len bytes at off.  Returns len or cairn_pwrite()'s errors. */
ssize_t fnode_write(struct fnode_handle *h, const void *buf, size_t len, uint64_t off);

/*
 * Sets the size through h (down frees the data past it; up leaves a hole).
 * Returns 0 or cairn_ftruncate()'s errors.
 */
int fnode_truncate(struct fnode_handle *h, uint64_t size);

/*
 * truncate(2) by inode, for cred, through a handle opened for the call.
 * Returns 0 or the errors of fnode_open() and fnode_truncate().
 */
int fnode_truncate_ino(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino,
		       uint64_t size);

/*
 * close(2) of a descriptor: writes out and publishes what was written
 * (cairn_file_flush()), so another mount that opens the file next sees it
 * whole.  Returns 0 or cairn_file_flush()'s errors.
 */
int fnode_flush(struct fnode_handle *h);

/* fsync(2) / fdatasync(2).  Returns 0 or cairn_fsync()'s errors. */
int fnode_fsync(struct fnode_handle *h, bool datasync);

#endif
