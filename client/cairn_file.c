/*
 * cairn_file.c - the public file-data API of cairn.h: open handles that
 * join the MDS's open bookkeeping (cairn_open_meta / cairn_close_meta) with
 * the data path (data.h), the size the handle has learnt, and its
 * publication on fsync and close.
 *
 * Threads: one handle may be used by several threads at once; the size
 * and the dirty flag are under the handle's mutex, which is not held
 * during I/O.  Ownership: the handle owns its erasure code and a copy of
 * the credential it was opened with.
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
#include "client/data.h"
#include "common/erasure.h"

#define FILE_SIZE_MAX (UINT64_C(1) << 63)

struct cairn_file {
	struct cairn *c;
	struct data_file d;
	uint64_t fh;
	int flags;
	bool has_cred;
	struct cairn_cred cred;
	uint32_t groups[CAIRN_GROUPS_MAX];
	pthread_mutex_t lock;
	uint64_t size;
	bool dirty; /* size/mtime to publish */
	struct timespec mtime;
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
	if (cred) {
		f->has_cred = true;
		f->cred = *cred;
		memcpy(f->groups, cred->groups, cred->ngroups * sizeof(uint32_t));
		f->cred.groups = f->groups;
	}
	f->c = c;
	f->fh = info->fh;
	f->flags = flags;
	f->size = info->attr.size;
	pthread_mutex_init(&f->lock, NULL);
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
	pthread_mutex_destroy(&f->lock);
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
	if ((flags & O_TRUNC) && can_write(f) && f->size) {
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
	pthread_mutex_lock(&f->lock);
	s = f->size;
	pthread_mutex_unlock(&f->lock);
	return s;
}

int cairn_file_layout(const struct cairn_file *f, struct cairn_layout *out)
{
	if (!f || !out)
		return -EINVAL;
	*out = f->d.layout;
	return 0;
}

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
	rc = data_read(&f->d, buf, len, off);
	return rc ? rc : (ssize_t)len;
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
	if (off >= FILE_SIZE_MAX || len > FILE_SIZE_MAX - off)
		return -EFBIG;
	if (len == 0)
		return 0;
	rc = data_write(&f->d, buf, len, off);
	if (rc)
		return rc;
	pthread_mutex_lock(&f->lock);
	if (off + len > f->size)
		f->size = off + len;
	f->dirty = true;
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	pthread_mutex_unlock(&f->lock);
	return (ssize_t)len;
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
	old = cairn_file_size(f);
	rc = data_truncate(&f->d, size, old);
	if (rc)
		return rc;
	rc = cairn_setattr(f->c, file_cred(f), f->d.ino, &sa, NULL);
	if (rc)
		return rc;
	pthread_mutex_lock(&f->lock);
	f->size = size;
	f->dirty = true;
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* What to publish: *pub filled, or false when nothing changed. */
static bool file_pub(struct cairn_file *f, struct cairn_publish *pub)
{
	bool dirty;

	pthread_mutex_lock(&f->lock);
	dirty = f->dirty;
	*pub = (struct cairn_publish){.valid = CAIRN_PUB_SIZE | CAIRN_PUB_MTIME,
				      .size = f->size,
				      .mtime = f->mtime};
	pthread_mutex_unlock(&f->lock);
	return dirty;
}

int cairn_fsync(struct cairn_file *f, bool datasync)
{
	struct cairn_publish pub;
	bool dirty;
	int rc;

	if (!f)
		return -EINVAL;
	dirty = file_pub(f, &pub);
	rc = cairn_fsync_meta(f->c, file_cred(f), f->d.ino, f->fh, dirty ? &pub : NULL, datasync,
			      NULL);
	if (rc == 0 && dirty) {
		pthread_mutex_lock(&f->lock);
		if (f->size == pub.size && f->mtime.tv_sec == pub.mtime.tv_sec &&
		    f->mtime.tv_nsec == pub.mtime.tv_nsec)
			f->dirty = false;
		pthread_mutex_unlock(&f->lock);
	}
	return rc;
}

int cairn_file_close(struct cairn_file *f)
{
	struct cairn_publish pub;
	bool dirty;
	int rc;

	if (!f)
		return 0;
	dirty = file_pub(f, &pub);
	rc = cairn_close_meta(f->c, file_cred(f), f->d.ino, f->fh, dirty ? &pub : NULL, NULL);
	file_free(f);
	return rc;
}
