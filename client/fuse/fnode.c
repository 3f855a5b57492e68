/*
 * fnode.c - cairn-fuse: the kernel's open file descriptions of regular
 * files over struct cairn_file (see fnode.h).
 */
#include "client/fuse/fnode.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>

#define SEEN_SLOTS (1u << 16) /* direct-mapped: a collision forgets a file */

struct fnode_handle {
	struct cairn_file *f;
	bool readable;
};

/* What a file was (mtime and size) when an open last let the kernel cache it. */
struct seen {
	uint64_t ino; /* 0: empty */
	struct timespec mtime;
	uint64_t size;
};

struct fnode_table {
	struct cairn *c;
	pthread_mutex_t lock;
	struct seen seen[SEEN_SLOTS]; /* lock */
};

struct fnode_table *fnode_table_new(struct cairn *c)
{
	struct fnode_table *t = calloc(1, sizeof(*t));

	if (t) {
		t->c = c;
		pthread_mutex_init(&t->lock, NULL);
	}
	return t;
}

void fnode_table_free(struct fnode_table *t)
{
	if (t)
		pthread_mutex_destroy(&t->lock);
	free(t);
}

bool fnode_keep_cache(struct fnode_table *t, struct fnode_handle *h)
{
	struct cairn_attr a;
	struct seen *s;
	bool keep;

	if (cairn_file_attr(h->f, &a, NULL))
		return false;
	pthread_mutex_lock(&t->lock);
	s = &t->seen[(a.ino * UINT64_C(0x9E3779B97F4A7C15)) >> 48];
	keep = s->ino == a.ino && s->size == a.size && s->mtime.tv_sec == a.mtime.tv_sec &&
	       s->mtime.tv_nsec == a.mtime.tv_nsec;
	*s = (struct seen){.ino = a.ino, .mtime = a.mtime, .size = a.size};
	pthread_mutex_unlock(&t->lock);
	return keep;
}

static int wrap(struct cairn_file *f, int acc, struct fnode_handle **out)
{
	struct fnode_handle *h = malloc(sizeof(*h));

	if (!h) {
		cairn_file_close(f);
		return -ENOMEM;
	}
	h->f = f;
	h->readable = acc != O_WRONLY;
	*out = h;
	return 0;
}

int fnode_open(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino, int flags,
	       struct fnode_handle **out)
{
	struct cairn_file *f;
	int rc;

	flags &= ~(O_CREAT | O_EXCL);
	if ((flags & O_ACCMODE) == O_WRONLY) {
		rc = cairn_file_open(t->c, cred, ino, (flags & ~O_ACCMODE) | O_RDWR, &f);
		if (rc != -EACCES)
			return rc ? rc : wrap(f, O_RDWR, out);
	}
	rc = cairn_file_open(t->c, cred, ino, flags, &f);
	return rc ? rc : wrap(f, flags & O_ACCMODE, out);
}

int fnode_create(struct fnode_table *t, const struct cairn_cred *cred, uint64_t parent,
		 const char *name, uint32_t mode, int flags, struct fnode_handle **out,
		 struct cairn_attr *attr)
{
	int acc = flags & O_ACCMODE;
	struct cairn_file *f;
	int rc;

	if (acc == O_WRONLY) /* a new file may always be read by its creator */
		acc = O_RDWR;
	rc = cairn_file_create(t->c, cred, parent, name, mode, (flags & ~O_ACCMODE) | acc, &f);
	if (rc)
		return rc;
	cairn_file_attr(f, attr, NULL);
	return wrap(f, acc, out);
}

int fnode_release(struct fnode_handle *h)
{
	int rc = cairn_file_close(h->f);

	free(h);
	return rc;
}

uint64_t fnode_ino(const struct fnode_handle *h)
{
	return cairn_file_ino(h->f);
}

uint64_t fnode_size(struct fnode_handle *h)
{
	return cairn_file_size(h->f);
}

ssize_t fnode_read(struct fnode_handle *h, void *buf, size_t len, uint64_t off)
{
	return h->readable ? cairn_pread(h->f, buf, len, off) : -EBADF;
}

ssize_t fnode_write(struct fnode_handle *h, const void *buf, size_t len, uint64_t off)
{
	return cairn_pwrite(h->f, buf, len, off);
}

int fnode_truncate(struct fnode_handle *h, uint64_t size)
{
	return cairn_ftruncate(h->f, size);
}

int fnode_truncate_ino(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino,
		       uint64_t size)
{
	struct cairn_file *f;
	int rc = cairn_file_open(t->c, cred, ino, O_WRONLY, &f);

	if (rc)
		return rc;
	rc = cairn_ftruncate(f, size);
	cairn_file_close(f);
	return rc;
}

int fnode_flush(struct fnode_handle *h)
{
	return cairn_file_flush(h->f);
}

int fnode_fsync(struct fnode_handle *h, bool datasync)
{
	return cairn_fsync(h->f, datasync);
}
