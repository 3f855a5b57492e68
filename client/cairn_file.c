/*
 * cairn_file.c - the public file-data API of cairn.h: open handles that
 * join the MDS's open bookkeeping (cairn_open_meta / cairn_close_meta) with
 * the data path (data.h) and the client's state of the open inode
 * (cinode.h): its size, its write buffer, and the publication of both on
 * fsync and close.
 *
 * Writes: the whole stripes of a write go straight to the OSDs; the parts
 * of stripes before and after them gather in the inode's buffer, which is
 * written out when it is full (the whole stripes of it), when a write does
 * not join it, before a read of its range, and on truncate, fsync and
 * close.  O_SYNC, O_DSYNC and O_DIRECT handles write through.  A failed
 * write-out is returned by the call that made it and once more by the next
 * fsync or close, as a kernel reports writeback errors.  The size is
 * published only after the data below it is durable.
 *
 * Threads: one handle, and several handles of one inode, may be used by
 * several threads at once; the caller orders writes that overlap.
 * O_APPEND writes are atomic among the handles of this client.
 * Ownership: the handle owns its erasure code, a reference to the cinode
 * and a copy of the credential it was opened with.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/cinode.h"
#include "client/data.h"
#include "common/erasure.h"

#define FILE_SIZE_MAX (UINT64_C(1) << 63)
#define WBUF_STRIPES 8u
#define WBUF_MAX ((size_t)64 << 20)

struct cairn_file {
	struct cairn *c;
	struct data_file d;
	struct cinode *ci;
	uint64_t fh;
	int flags;
	uint32_t open_flags;	 /* enum cairn_open_info_flag */
	struct cairn_attr attr; /* as the open returned them */
	bool has_cred;
	struct cairn_cred cred;
	uint32_t groups[CAIRN_GROUPS_MAX];
};

static const struct cairn_cred *file_cred(const struct cairn_file *f)
{
	return f->has_cred ? &f->cred : NULL;
}

/* A handle for the open file of info; closes it on the MDS on failure. */
static int file_new(struct cairn *c, const struct cairn_cred *cred, int flags,
		    const struct cairn_open_info *info, struct cairn_file **out)
{
	const struct cairn_layout *l = &info->attr.layout;
	struct cairn_file *f = NULL;
	int rc = -EINVAL;

	if (!S_ISREG(info->attr.mode) || !info->attr.has_layout)
		goto fail;
	rc = -ENOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	f->d = (struct data_file){.mdsc = cairn_mdsc(c), .ino = info->attr.ino, .layout = *l};
	f->d.ec = erasure_new(l->k, l->m);
	if (!f->d.ec)
		goto fail;
	f->ci = cinode_get(c->inodes, &info->attr);
	if (!f->ci)
		goto fail;
	f->d.ci = f->ci;
	if (cred) {
		f->has_cred = true;
		f->cred = *cred;
		memcpy(f->groups, cred->groups, cred->ngroups * sizeof(uint32_t));
		f->cred.groups = f->groups;
	}
	f->c = c;
	f->fh = info->fh;
	f->flags = flags;
	f->open_flags = info->flags;
	f->attr = info->attr;
	*out = f;
	return 0;
fail:
	if (f)
		erasure_free(f->d.ec);
	free(f);
	cairn_close_meta(c, cred, info->attr.ino, info->fh, NULL, NULL);
	return rc;
}

static void file_free(struct cairn_file *f)
{
	cinode_put(f->c->inodes, f->ci);
	erasure_free(f->d.ec);
	free(f);
}

static bool can_write(const struct cairn_file *f)
{
	return (f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_ACCMODE) == O_RDWR;
}

static int cred_ok(const struct cairn_cred *cred)
{
	if (cred && (cred->ngroups > CAIRN_GROUPS_MAX || (cred->ngroups && !cred->groups)))
		return -EINVAL;
	return 0;
}

int cairn_file_open(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, int flags,
		    struct cairn_file **out)
{
	struct cairn_open_info info;
	struct cairn_file *f;
	int rc;

	if (!c || !out || cred_ok(cred))
		return -EINVAL;
	rc = cairn_open_meta(c, cred, ino, flags & ~O_TRUNC, &info);
	if (rc)
		return rc;
	if (S_ISDIR(info.attr.mode)) {
		cairn_close_meta(c, cred, ino, info.fh, NULL, NULL);
		return -EISDIR;
	}
	rc = file_new(c, cred, flags, &info, &f);
	if (rc)
		return rc;
	if ((flags & O_TRUNC) && can_write(f) && cairn_file_size(f)) {
		rc = cairn_ftruncate(f, 0);
		if (rc) {
			cairn_file_close(f);
			return rc;
		}
	}
	*out = f;
	return 0;
}

int cairn_file_create(struct cairn *c, const struct cairn_cred *cred, uint64_t parent,
		      const char *name, uint32_t mode, int flags, struct cairn_file **out)
{
	struct cairn_open_info info;
	int rc;

	if (!c || !out || cred_ok(cred))
		return -EINVAL;
	rc = cairn_create(c, cred, parent, name, mode, flags, &info);
	if (rc)
		return rc;
	return file_new(c, cred, flags, &info, out);
}

uint64_t cairn_file_ino(const struct cairn_file *f)
{
	return f ? f->d.ino : 0;
}

uint64_t cairn_file_size(struct cairn_file *f)
{
	uint64_t s;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->ci->lock);
	s = f->ci->size;
	pthread_mutex_unlock(&f->ci->lock);
	return s;
}

int cairn_file_attr(struct cairn_file *f, struct cairn_attr *out, uint32_t *open_flags)
{
	if (!f || !out)
		return -EINVAL;
	*out = f->attr;
	cinode_overlay(f->c->inodes, out);
	if (open_flags)
		*open_flags = f->open_flags;
	return 0;
}

int cairn_file_layout(const struct cairn_file *f, struct cairn_layout *out)
{
	if (!f || !out)
		return -EINVAL;
	*out = f->d.layout;
	return 0;
}

/* ---- the write buffer (ci->wlock held) ---- */

static uint64_t stripe_size(const struct cairn_file *f)
{
	return (uint64_t)f->d.layout.k * f->d.layout.chunk_size;
}

static void buf_extent(struct cinode *ci, uint64_t boff, size_t blen, int err)
{
	pthread_mutex_lock(&ci->lock);
	ci->boff = boff;
	ci->blen = blen;
	if (err && !ci->werr)
		ci->werr = err;
	pthread_mutex_unlock(&ci->lock);
}

/*
 * Writes out the first n bytes of the buffer and keeps the rest.  The
 * extent stays published until the bytes are durable, so that a reader
 * that finds them here waits for them.  On failure the whole buffer is
 * dropped.  Returns 0 or data_write()'s error.
 */
static int buf_flush_n(struct cairn_file *f, size_t n)
{
	struct cinode *ci = f->ci;
	int rc;

	if (!n)
		return 0;
	rc = data_write(&f->d, ci->wbuf, n, ci->boff);
	if (rc) {
		buf_extent(ci, 0, 0, rc);
		return rc;
	}
	memmove(ci->wbuf, ci->wbuf + n, ci->blen - n);
	buf_extent(ci, ci->boff + n, ci->blen - n, 0);
	return 0;
}

static int buf_flush(struct cairn_file *f)
{
	return buf_flush_n(f, f->ci->blen);
}

/* Allocates the inode's buffer within the client's allowance. */
static bool buf_alloc(struct cairn_file *f)
{
	struct cinode *ci = f->ci;
	uint64_t ss = stripe_size(f);
	size_t cap = (size_t)(ss * WBUF_STRIPES);

	if (ci->wbuf)
		return true;
	if (cap > WBUF_MAX)
		cap = ss > WBUF_MAX ? (size_t)ss : WBUF_MAX - WBUF_MAX % ss;
	if (!cinode_mem_take(f->c->inodes, cap))
		return false;
	ci->wbuf = malloc(cap);
	if (!ci->wbuf) {
		cinode_mem_give(f->c->inodes, cap);
		return false;
	}
	ci->wcap = cap;
	return true;
}

/* Whether [off, off + n) could join the buffer's bytes as one extent. */
static bool buf_joins(const struct cinode *ci, uint64_t off, size_t n)
{
	uint64_t lo, hi;

	if (!ci->blen)
		return n <= ci->wcap;
	if (off > ci->boff + ci->blen || off + n < ci->boff)
		return false;
	lo = off < ci->boff ? off : ci->boff;
	hi = off + n > ci->boff + ci->blen ? off + n : ci->boff + ci->blen;
	return hi - lo <= ci->wcap;
}

/*
 * Puts [off, off + n) into the buffer, writing out what is there first if
 * the range cannot join it, and the whole stripes of a full buffer after.
 * Without a buffer the bytes are written through.
 */
static int buf_put(struct cairn_file *f, const uint8_t *src, size_t n, uint64_t off)
{
	struct cinode *ci = f->ci;
	uint64_t boff, ss = stripe_size(f), end;
	size_t blen;
	int rc;

	if (!buf_alloc(f) || n > ci->wcap) {
		rc = buf_flush(f);
		return rc ? rc : data_write(&f->d, src, n, off);
	}
	if (!buf_joins(ci, off, n)) {
		rc = buf_flush(f);
		if (rc)
			return rc;
	}
	boff = ci->blen ? ci->boff : off;
	blen = ci->blen;
	if (off < boff) {
		memmove(ci->wbuf + (boff - off), ci->wbuf, blen);
		blen += (size_t)(boff - off);
		boff = off;
	}
	memcpy(ci->wbuf + (off - boff), src, n);
	if (off + n > boff + blen)
		blen = (size_t)(off + n - boff);
	buf_extent(ci, boff, blen, 0);
	if (blen + ss <= ci->wcap)
		return 0;
	end = (boff + blen) / ss * ss; /* full: write out up to a stripe boundary */
	return buf_flush_n(f, end > boff ? (size_t)(end - boff) : blen);
}

static bool buf_overlaps(struct cinode *ci, uint64_t off, uint64_t len)
{
	bool o;

	pthread_mutex_lock(&ci->lock);
	o = ci->blen && off < ci->boff + ci->blen && ci->boff < off + len;
	pthread_mutex_unlock(&ci->lock);
	return o;
}

/* Writes out the buffer if it holds bytes of [off, off + len). */
static int buf_sync_range(struct cairn_file *f, uint64_t off, uint64_t len, bool locked)
{
	int rc;

	if (!buf_overlaps(f->ci, off, len))
		return 0;
	if (!locked)
		pthread_mutex_lock(&f->ci->wlock);
	rc = buf_overlaps(f->ci, off, len) ? buf_flush(f) : 0;
	if (!locked)
		pthread_mutex_unlock(&f->ci->wlock);
	return rc;
}

/* ---- reads and writes ---- */

ssize_t cairn_pread(struct cairn_file *f, void *buf, size_t len, uint64_t off)
{
	uint64_t size;
	int rc;

	if (!f || (!buf && len))
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size = cairn_file_size(f);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	rc = buf_sync_range(f, off, len, false);
	if (rc == 0)
		rc = data_read(&f->d, buf, len, off);
	return rc ? rc : (ssize_t)len;
}

/* The size and mtime after a write or truncate ending at end. */
static void file_changed(struct cairn_file *f, uint64_t end, bool set)
{
	struct cinode *ci = f->ci;

	pthread_mutex_lock(&ci->lock);
	if (set || end > ci->size)
		ci->size = end;
	ci->dirty = true;
	clock_gettime(CLOCK_REALTIME, &ci->mtime);
	pthread_mutex_unlock(&ci->lock);
}

/*
 * One write: the whole stripes straight to the OSDs, the rest through the
 * buffer.  locked: the caller holds wlock (O_APPEND).
 */
static int file_write(struct cairn_file *f, const uint8_t *src, size_t len, uint64_t off,
		      bool locked)
{
	uint64_t ss = stripe_size(f), end = off + len;
	uint64_t a = (off + ss - 1) / ss * ss, b = end / ss * ss;
	bool through = f->flags & (O_SYNC | O_DSYNC | O_DIRECT);
	struct cinode *ci = f->ci;
	int rc = 0;

	if (through) {
		a = off;
		b = end;
	}
	if (!locked)
		pthread_mutex_lock(&ci->wlock);
	if (a < b) {
		if (off < a)
			rc = buf_put(f, src, (size_t)(a - off), off);
		if (rc == 0)
			rc = buf_sync_range(f, a, b - a, true);
		if (!locked)
			pthread_mutex_unlock(&ci->wlock);
		if (rc == 0)
			rc = data_write(&f->d, src + (a - off), (size_t)(b - a), a);
		if (!locked)
			pthread_mutex_lock(&ci->wlock);
		if (rc == 0 && b < end)
			rc = buf_put(f, src + (b - off), (size_t)(end - b), b);
	} else {
		rc = buf_put(f, src, len, off);
	}
	if (rc == 0)
		file_changed(f, end, false);
	if (!locked)
		pthread_mutex_unlock(&ci->wlock);
	return rc;
}

ssize_t cairn_pwrite(struct cairn_file *f, const void *buf, size_t len, uint64_t off)
{
	int rc;

	if (!f || (!buf && len))
		return -EINVAL;
	if (!can_write(f))
		return -EBADF;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (!(f->flags & O_APPEND)) {
		if (off >= FILE_SIZE_MAX || len > FILE_SIZE_MAX - off)
			return -EFBIG;
		if (len == 0)
			return 0;
		rc = file_write(f, buf, len, off, false);
		return rc ? rc : (ssize_t)len;
	}
	pthread_mutex_lock(&f->ci->wlock);
	off = cairn_file_size(f);
	if (len > FILE_SIZE_MAX - off)
		rc = -EFBIG;
	else
		rc = len ? file_write(f, buf, len, off, true) : 0;
	pthread_mutex_unlock(&f->ci->wlock);
	return rc ? rc : (ssize_t)len;
}

int cairn_ftruncate(struct cairn_file *f, uint64_t size)
{
	struct cairn_setattr sa = {.valid = CAIRN_SET_SIZE, .size = size};
	uint64_t old;
	int rc;

	if (!f)
		return -EINVAL;
	if (!can_write(f))
		return -EBADF;
	if (size >= FILE_SIZE_MAX)
		return -EFBIG;
	sa.fh = f->fh;
	pthread_mutex_lock(&f->ci->wlock);
	rc = buf_flush(f);
	old = cairn_file_size(f);
	if (rc == 0)
		rc = data_truncate(&f->d, size, old);
	if (rc == 0)
		rc = cairn_setattr(f->c, file_cred(f), f->d.ino, &sa, NULL);
	if (rc == 0)
		file_changed(f, size, true);
	cinode_vclear(f->ci);
	pthread_mutex_unlock(&f->ci->wlock);
	return rc;
}

/*
 * Writes the buffer out and takes what to publish: *pub filled, or false
 * when nothing changed.  *werr: a write-out error not reported yet.
 */
static bool file_pub(struct cairn_file *f, struct cairn_publish *pub, int *werr)
{
	struct cinode *ci = f->ci;
	bool dirty;

	pthread_mutex_lock(&ci->wlock);
	buf_flush(f);
	pthread_mutex_lock(&ci->lock);
	dirty = ci->dirty;
	*werr = ci->werr;
	ci->werr = 0;
	*pub = (struct cairn_publish){.valid = CAIRN_PUB_SIZE | CAIRN_PUB_MTIME,
				      .size = ci->size,
				      .mtime = ci->mtime};
	pthread_mutex_unlock(&ci->lock);
	pthread_mutex_unlock(&ci->wlock);
	return dirty;
}

/* After pub reached the MDS: clean unless something changed meanwhile. */
static void file_published(struct cairn_file *f, const struct cairn_publish *pub)
{
	struct cinode *ci = f->ci;

	pthread_mutex_lock(&ci->lock);
	if (ci->size == pub->size && ci->mtime.tv_sec == pub->mtime.tv_sec &&
	    ci->mtime.tv_nsec == pub->mtime.tv_nsec && !ci->blen)
		ci->dirty = false;
	pthread_mutex_unlock(&ci->lock);
}

int cairn_fsync(struct cairn_file *f, bool datasync)
{
	struct cairn_publish pub;
	bool dirty;
	int rc, werr;

	if (!f)
		return -EINVAL;
	dirty = file_pub(f, &pub, &werr);
	rc = cairn_fsync_meta(f->c, file_cred(f), f->d.ino, f->fh, dirty ? &pub : NULL, datasync,
			      NULL);
	if (rc == 0 && dirty)
		file_published(f, &pub);
	return werr ? werr : rc;
}

int cairn_file_flush(struct cairn_file *f)
{
	struct cairn_publish pub;
	int rc = 0, werr;

	if (!f)
		return -EINVAL;
	if (file_pub(f, &pub, &werr)) {
		rc = cairn_publish_meta(f->c, file_cred(f), f->d.ino, f->fh, &pub, NULL);
		if (rc == 0)
			file_published(f, &pub);
	}
	return werr ? werr : rc;
}

int cairn_file_close(struct cairn_file *f)
{
	struct cairn_publish pub;
	bool dirty;
	int rc, werr;

	if (!f)
		return 0;
	dirty = file_pub(f, &pub, &werr);
	rc = cairn_close_meta(f->c, file_cred(f), f->d.ino, f->fh, dirty ? &pub : NULL, NULL);
	if (rc == 0 && dirty)
		file_published(f, &pub);
	file_free(f);
	return werr ? werr : rc;
}
