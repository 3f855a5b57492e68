/*
 * fsops_file.c - cairn-fuse: regular files.  Open and create make a handle
 * (fnode.h) and keep it in fi->fh; data moves through the handle with
 * cairn_pread()/cairn_pwrite(); flush writes out and publishes what a
 * descriptor wrote (close-to-open consistency); release closes the handle.
 *
 * Page cache: files are opened without direct_io (unless -o direct_io), so
 * the kernel caches pages and mmap works, shared writable mappings too: the
 * kernel writes dirty pages back as ordinary writes.  An open keeps the
 * pages the kernel cached (keep_cache) when the file's mtime and size are
 * what they were at the previous open on this mount (fnode_keep_cache()),
 * so a second pass over a training set reads from memory.
 *
 * Threads: libfuse's workers; buffers belong to their request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/fuse/fnode.h"
#include "client/fuse/fsops.h"
#include "common/log.h"

/* Bytes moved per step by fallocate's zeroing and copy_file_range. */
#define CFS_PIECE (1u << 20)
/* The most one copy_file_range request copies (the caller loops for more). */
#define CFS_COPY_MAX (64u << 20)

static struct fnode_handle *fh_of(const struct fuse_file_info *fi)
{
	return (struct fnode_handle *)(uintptr_t)fi->fh;
}

void cfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cfs *fs = cfs_of(req);
	struct fnode_handle *h;
	struct cfs_cred cc;
	int rc;

	rc = fnode_open(fs->nodes, cfs_cred(req, true, &cc), ino, fi->flags, &h);
	if (rc) {
		cfs_reply_err(req, rc, "open");
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->keep_cache = !fs->direct_io && fnode_keep_cache(fs->nodes, h);
	fi->direct_io = fs->direct_io;
	/*
	 * Close-to-open: the kernel reads up to the size it has cached, for
	 * up to attr_timeout.  A file that changed since the last open here
	 * gets its cached attributes dropped before the open is answered, so
	 * the reads after it fetch the size the open just saw.
	 */
	if (!fi->keep_cache && fs->se)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	if (fuse_reply_open(req, fi) == -ENOENT) /* interrupted: no release will come */
		fnode_release(h);
}

void cfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi)
{
	struct cfs *fs = cfs_of(req);
	struct fuse_entry_param e;
	struct fnode_handle *h;
	struct cairn_attr a;
	struct cfs_cred cc;
	int rc;

	rc = fnode_create(fs->nodes, cfs_cred(req, true, &cc), parent, name, mode & 07777,
			  fi->flags, &h, &a);
	if (rc) {
		cfs_reply_err(req, rc, "create");
		return;
	}
	cfs_entry(fs, &a, &e);
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 0;
	fi->direct_io = fs->direct_io;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fnode_release(h);
}

void cfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n;
	char *buf;

	(void)ino;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = fnode_read(fh_of(fi), buf, size, (uint64_t)off);
	if (n < 0)
		cfs_reply_err(req, (int)n, "read");
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/*
 * The data of a write: in place when it is one buffer in memory, else
 * copied out of the pipe the kernel spliced it into.  *tmp is the copy to
 * free.  Returns the byte count or -errno.
 */
static ssize_t write_data(struct fuse_bufvec *bufv, const void **data, void **tmp)
{
	size_t size = fuse_buf_size(bufv);
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
	const struct fuse_buf *b = &bufv->buf[bufv->idx];

	*tmp = NULL;
	if (bufv->count - bufv->idx == 1 && !(b->flags & FUSE_BUF_IS_FD)) {
		*data = (const char *)b->mem + bufv->off;
		return (ssize_t)size;
	}
	*tmp = malloc(size ? size : 1);
	if (!*tmp)
		return -ENOMEM;
	dst.buf[0].mem = *tmp;
	*data = *tmp;
	return fuse_buf_copy(&dst, bufv, 0);
}

void cfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
		   struct fuse_file_info *fi)
{
	const void *data;
	void *tmp;
	ssize_t n;

	(void)ino;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* For an O_APPEND handle the offset is the kernel's end of file. */
	n = write_data(bufv, &data, &tmp);
	if (n >= 0)
		n = fnode_write(fh_of(fi), data, (size_t)n, (uint64_t)off);
	if (n < 0)
		cfs_reply_err(req, (int)n, "write");
	else
		fuse_reply_write(req, (size_t)n);
	free(tmp);
}

/* close(2) of a descriptor: publishes, and drops the POSIX locks of fi->lock_owner. */
void cfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int rc;

	cfs_lock_release(cfs_of(req), ino, fi->lock_owner);
	rc = fnode_flush(fh_of(fi));
	fuse_reply_err(req, rc ? cfs_errno(rc, "flush") : 0);
}

/* The last close of an open file description: drops its flock lock too. */
void cfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int rc;

	if (fi->flock_release)
		cfs_lock_release(cfs_of(req), ino, fi->lock_owner);
	rc = fnode_release(fh_of(fi));
	if (rc)
		log_warn("fuse: release of %#llx: %s", (unsigned long long)ino, cairn_strerror(rc));
	fuse_reply_err(req, 0);
}

void cfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int rc;

	(void)ino;
	rc = fnode_fsync(fh_of(fi), datasync != 0);
	fuse_reply_err(req, rc ? cfs_errno(rc, "fsync") : 0);
}

int cfs_truncate(struct cfs *fs, const struct cairn_cred *cred, fuse_ino_t ino, uint64_t size,
		 struct fuse_file_info *fi)
{
	if (fi && fi->fh)
		return fnode_truncate(fh_of(fi), size);
	return fnode_truncate_ino(fs->nodes, cred, ino, size);
}

/* Writes zeros over [off, end) in pieces.  Returns 0 or -errno. */
static int zero_range(struct fnode_handle *h, uint64_t off, uint64_t end)
{
	size_t piece = end - off < CFS_PIECE ? (size_t)(end - off) : CFS_PIECE;
	char *zeros = calloc(1, piece);
	ssize_t n = 0;

	if (!zeros)
		return -ENOMEM;
	for (; off < end && n >= 0; off += piece) {
		if (end - off < piece)
			piece = (size_t)(end - off);
		n = fnode_write(h, zeros, piece, off);
	}
	free(zeros);
	return n < 0 ? (int)n : 0;
}

/*
 * Cairn stores no unwritten extents: mode 0 only extends the size (a
 * hole, which reads as zeros; no space is reserved), KEEP_SIZE alone does
 * nothing, PUNCH_HOLE and ZERO_RANGE write zeros over the part of the range
 * inside the file (space is not freed).  Other modes: EOPNOTSUPP.
 */
void cfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		   struct fuse_file_info *fi)
{
	const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
	struct fnode_handle *h = fh_of(fi);
	uint64_t size, end, zend;
	int rc = 0;

	(void)ino;
	if (mode & ~known) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (offset < 0 || length <= 0 || offset > INT64_MAX - length) {
		fuse_reply_err(req, offset < 0 || length <= 0 ? EINVAL : EFBIG);
		return;
	}
	end = (uint64_t)offset + (uint64_t)length;
	size = fnode_size(h);
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		zend = end < size ? end : size;
		if ((uint64_t)offset < zend)
			rc = zero_range(h, (uint64_t)offset, zend);
	}
	if (rc == 0 && !(mode & FALLOC_FL_KEEP_SIZE) && end > size)
		rc = fnode_truncate(h, end);
	fuse_reply_err(req, rc ? cfs_errno(rc, "fallocate") : 0);
}

/* The whole file is data (POSIX allows it): no holes are reported but the end. */
void cfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	uint64_t size = fnode_size(fh_of(fi));

	(void)ino;
	if (off < 0 || (whence != SEEK_DATA && whence != SEEK_HOLE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((uint64_t)off >= size)
		fuse_reply_err(req, ENXIO);
	else
		fuse_reply_lseek(req, whence == SEEK_DATA ? off : (off_t)size);
}

/* Copies up to len bytes through a buffer.  Returns the count or -errno. */
static ssize_t copy_range(struct fnode_handle *in, uint64_t off_in, struct fnode_handle *out,
			  uint64_t off_out, size_t len)
{
	char *buf = malloc(len < CFS_PIECE ? (len ? len : 1) : CFS_PIECE);
	size_t done = 0, piece;
	ssize_t n = 0, w;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		piece = len - done < CFS_PIECE ? len - done : CFS_PIECE;
		n = fnode_read(in, buf, piece, off_in + done);
		if (n <= 0)
			break;
		w = fnode_write(out, buf, (size_t)n, off_out + done);
		if (w < 0) {
			n = w;
			break;
		}
		done += (size_t)w;
		if ((size_t)n < piece)
			break;
	}
	free(buf);
	return n < 0 && done == 0 ? n : (ssize_t)done;
}

void cfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			 struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			 struct fuse_file_info *fi_out, size_t len, int flags)
{
	ssize_t n;

	(void)ino_in;
	(void)ino_out;
	if (flags || off_in < 0 || off_out < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (len > CFS_COPY_MAX)
		len = CFS_COPY_MAX;
	if ((uint64_t)off_out + len > (uint64_t)INT64_MAX) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	n = copy_range(fh_of(fi_in), (uint64_t)off_in, fh_of(fi_out), (uint64_t)off_out, len);
	if (n < 0)
		cfs_reply_err(req, (int)n, "copy_file_range");
	else
		fuse_reply_write(req, (size_t)n);
}
