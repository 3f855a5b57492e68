/*
 * fnode.c - cairn-fuse: the table of regular files open on this mount (see
 * fnode.h for why it exists and for its locks).
 *
 * A node lives while handles are attached to it: the kernel's handles
 * (one per open file description) and at most a few internal read-only
 * handles, opened when a read must go past what every attached handle
 * knows.  A handle is freed when its last user drops it: the kernel's
 * release, or a read or fsync that borrowed it meanwhile.  Internal
 * handles are dropped with the last kernel handle.
 */
#include "client/fuse/fnode.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"

#define FNODE_BUCKET_BITS 10
#define FNODE_BUCKETS (1u << FNODE_BUCKET_BITS)

struct fnode;

struct fnode_handle {
	struct fnode_handle *next; /* node lock */
	struct fnode *node;
	struct cairn_file *f;
	bool readable;
	bool writable;
	bool internal;	/* opened here to serve reads, not by the kernel */
	bool released;	/* node lock: the kernel let go of it */
	bool dirty;	/* node lock: written since its last publication */
	uint64_t wgen;	/* node lock: writes and truncates through it */
	unsigned users; /* node lock: its owner and its borrowers */
};

struct fnode {
	struct fnode *next; /* table lock */
	struct fnode_table *t;
	uint64_t ino;
	unsigned refs; /* table lock: handles attached */
	pthread_mutex_t lock;
	pthread_rwlock_t io;	      /* shared: writes; exclusive: truncates */
	uint64_t size;		      /* lock: what this mount knows */
	struct timespec mtime;	      /* lock: the last local change */
	unsigned ndirty;	      /* lock: handles with unpublished changes */
	unsigned nkernel;	      /* lock: kernel handles in the list */
	struct fnode_handle *handles; /* lock */
};

struct fnode_table {
	struct cairn *c;
	pthread_mutex_t lock;
	struct fnode *buckets[FNODE_BUCKETS]; /* lock */
};

static unsigned bucket_of(uint64_t ino)
{
	return (unsigned)((ino * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - FNODE_BUCKET_BITS));
}

struct fnode_table *fnode_table_new(struct cairn *c)
{
	struct fnode_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->c = c;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void fnode_table_free(struct fnode_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < FNODE_BUCKETS; i++)
		if (t->buckets[i])
			log_warn("fuse: inode %#llx still open at unmount",
				 (unsigned long long)t->buckets[i]->ino);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- nodes ---- */

static struct fnode *node_new(struct fnode_table *t, uint64_t ino)
{
	struct fnode *n = calloc(1, sizeof(*n));
	pthread_rwlockattr_t ra;

	if (!n)
		return NULL;
	n->t = t;
	n->ino = ino;
	pthread_mutex_init(&n->lock, NULL);
	pthread_rwlockattr_init(&ra);
	/* A truncate must not wait behind an endless stream of writes. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&n->io, &ra);
	pthread_rwlockattr_destroy(&ra);
	return n;
}

/* The node of ino, created if needed, with one more reference; or NULL. */
static struct fnode *node_get(struct fnode_table *t, uint64_t ino)
{
	struct fnode **head = &t->buckets[bucket_of(ino)];
	struct fnode *n;

	pthread_mutex_lock(&t->lock);
	for (n = *head; n && n->ino != ino; n = n->next)
		;
	if (!n) {
		n = node_new(t, ino);
		if (!n)
			goto out;
		n->next = *head;
		*head = n;
	}
	n->refs++;
out:
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Drops count references; the last one frees the node. */
static void node_put(struct fnode *n, unsigned count)
{
	struct fnode_table *t = n->t;
	struct fnode **pp;
	bool last;

	pthread_mutex_lock(&t->lock);
	n->refs -= count;
	last = n->refs == 0;
	if (last) {
		for (pp = &t->buckets[bucket_of(n->ino)]; *pp != n; pp = &(*pp)->next)
			;
		*pp = n->next;
	}
	pthread_mutex_unlock(&t->lock);
	if (!last)
		return;
	pthread_rwlock_destroy(&n->io);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* Under n->lock: h was written or truncated now. */
static void mark_dirty(struct fnode *n, struct fnode_handle *h)
{
	h->wgen++;
	if (!h->dirty) {
		h->dirty = true;
		n->ndirty++;
	}
	clock_gettime(CLOCK_REALTIME, &n->mtime);
}

/*
 * Attaches f (opened with access mode acc) to the node of ino.  The node's
 * size becomes f's when nothing local is unpublished (f then knows the
 * newest size: close-to-open), else the larger of the two.  Returns the
 * handle (one user: its owner) or NULL (f is left to the caller).
 */
static struct fnode_handle *attach(struct fnode_table *t, uint64_t ino, struct cairn_file *f,
				   int acc, bool internal)
{
	struct fnode_handle *h = calloc(1, sizeof(*h));
	uint64_t s = cairn_file_size(f);
	struct fnode *n;

	if (!h)
		return NULL;
	n = node_get(t, ino);
	if (!n) {
		free(h);
		return NULL;
	}
	*h = (struct fnode_handle){.node = n,
				   .f = f,
				   .readable = acc != O_WRONLY,
				   .writable = acc != O_RDONLY,
				   .internal = internal,
				   .users = 1};
	pthread_mutex_lock(&n->lock);
	if (n->ndirty == 0 || s > n->size)
		n->size = s;
	h->next = n->handles;
	n->handles = h;
	if (!internal)
		n->nkernel++;
	pthread_mutex_unlock(&n->lock);
	return h;
}

/* Under n->lock: unlinks h from n's list. */
static void unlink_handle(struct fnode *n, struct fnode_handle *h)
{
	struct fnode_handle **pp;

	for (pp = &n->handles; *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	if (!h->internal)
		n->nkernel--;
}

/* Under n->lock: moves the idle internal handles (except keep) to *out. */
static unsigned take_idle_internal(struct fnode *n, const struct fnode_handle *keep,
				   struct fnode_handle **out)
{
	struct fnode_handle *h, *next;
	unsigned count = 0;

	for (h = n->handles; h; h = next) {
		next = h->next;
		if (h->internal && h != keep && h->users == 1) {
			unlink_handle(n, h);
			h->next = *out;
			*out = h;
			count++;
		}
	}
	return count;
}

static void close_list(struct fnode_handle *list)
{
	struct fnode_handle *next;

	for (; list; list = next) {
		next = list->next;
		cairn_file_close(list->f);
		free(list);
	}
}

/*
 * Drops one user of h; the last closes its file (publishing its writes)
 * and, with the node's last kernel handle, the idle internal ones.
 * Returns 0 or cairn_file_close()'s error.
 */
static int handle_put(struct fnode_handle *h)
{
	struct fnode *n = h->node;
	struct fnode_handle *idle = NULL;
	unsigned nidle = 0;
	bool was_dirty;
	int rc;

	pthread_mutex_lock(&n->lock);
	if (--h->users > 0) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	unlink_handle(n, h);
	if (n->nkernel == 0)
		nidle = take_idle_internal(n, NULL, &idle);
	was_dirty = h->dirty; /* counted in ndirty until published by the close */
	pthread_mutex_unlock(&n->lock);

	rc = cairn_file_close(h->f);
	if (was_dirty) {
		pthread_mutex_lock(&n->lock);
		n->ndirty--;
		pthread_mutex_unlock(&n->lock);
	}
	close_list(idle);
	free(h);
	node_put(n, 1 + nidle);
	return rc;
}

typedef bool (*want_fn)(const struct fnode_handle *h, const struct fnode_handle *self);

/*
 * The handles of n that want() selects, each with one more user, in a
 * malloc'd array (NULL when *count is 0).  Returns 0 or -ENOMEM.
 */
static int collect(struct fnode *n, want_fn want, const struct fnode_handle *self,
		   struct fnode_handle ***out, size_t *count)
{
	struct fnode_handle *h, **v = NULL;
	size_t k = 0;

	pthread_mutex_lock(&n->lock);
	for (h = n->handles; h; h = h->next)
		k += want(h, self);
	if (k) {
		v = malloc(k * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&n->lock);
			return -ENOMEM;
		}
	}
	k = 0;
	for (h = n->handles; h && v; h = h->next) {
		if (want(h, self)) {
			h->users++;
			v[k++] = h;
		}
	}
	pthread_mutex_unlock(&n->lock);
	*out = v;
	*count = k;
	return 0;
}

static void put_all(struct fnode_handle **v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		handle_put(v[i]);
	free(v);
}

/* ---- open, create, release ---- */

/*
 * cairn_file_open() with O_WRONLY raised to O_RDWR when the caller may also
 * read.  *acc is the access mode of the handle.
 */
static int open_file(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, int flags,
		     struct cairn_file **f, int *acc)
{
	int rc;

	flags &= ~(O_TRUNC | O_CREAT | O_EXCL);
	if ((flags & O_ACCMODE) == O_WRONLY) {
		rc = cairn_file_open(c, cred, ino, (flags & ~O_ACCMODE) | O_RDWR, f);
		if (rc != -EACCES) {
			*acc = O_RDWR;
			return rc;
		}
	}
	*acc = flags & O_ACCMODE;
	return cairn_file_open(c, cred, ino, flags, f);
}

int fnode_open(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino, int flags,
	       struct fnode_handle **out)
{
	struct fnode_handle *h;
	struct cairn_file *f;
	int acc, rc;

	rc = open_file(t->c, cred, ino, flags, &f, &acc);
	if (rc)
		return rc;
	h = attach(t, ino, f, acc, false);
	if (!h) {
		cairn_file_close(f);
		return -ENOMEM;
	}
	if ((flags & O_TRUNC) && h->writable) {
		rc = fnode_truncate(h, 0);
		if (rc) {
			fnode_release(h);
			return rc;
		}
	}
	*out = h;
	return 0;
}

/* cairn_file_create() with O_WRONLY raised to O_RDWR as in open_file(). */
static int create_file(struct cairn *c, const struct cairn_cred *cred, uint64_t parent,
		       const char *name, uint32_t mode, int flags, struct cairn_file **f, int *acc)
{
	int rc;

	if ((flags & O_ACCMODE) == O_WRONLY) {
		rc = cairn_file_create(c, cred, parent, name, mode, (flags & ~O_ACCMODE) | O_RDWR,
				       f);
		if (rc != -EACCES) { /* a new file may always be opened by its creator */
			*acc = O_RDWR;
			return rc;
		}
	}
	*acc = flags & O_ACCMODE;
	return cairn_file_create(c, cred, parent, name, mode, flags, f);
}

int fnode_create(struct fnode_table *t, const struct cairn_cred *cred, uint64_t parent,
		 const char *name, uint32_t mode, int flags, struct fnode_handle **out,
		 struct cairn_attr *attr)
{
	struct fnode_handle *h;
	struct cairn_file *f;
	int acc, rc;

	rc = create_file(t->c, cred, parent, name, mode, flags, &f, &acc);
	if (rc)
		return rc;
	/* cairn_file_create() does not hand out the attributes it got. */
	rc = cairn_getattr(t->c, cred, cairn_file_ino(f), attr);
	if (rc) {
		cairn_file_close(f);
		return rc;
	}
	h = attach(t, attr->ino, f, acc, false);
	if (!h) {
		cairn_file_close(f);
		return -ENOMEM;
	}
	fnode_attr_fix(t, attr);
	*out = h;
	return 0;
}

int fnode_release(struct fnode_handle *h)
{
	pthread_mutex_lock(&h->node->lock);
	h->released = true;
	pthread_mutex_unlock(&h->node->lock);
	return handle_put(h);
}

uint64_t fnode_ino(const struct fnode_handle *h)
{
	return h->node->ino;
}

uint64_t fnode_size(struct fnode_handle *h)
{
	uint64_t s;

	pthread_mutex_lock(&h->node->lock);
	s = h->node->size;
	pthread_mutex_unlock(&h->node->lock);
	return s;
}

/* ---- data ---- */

/* Under n->lock: a handle that can read up to end, with one more user, or NULL. */
static struct fnode_handle *pick_reader(struct fnode *n, struct fnode_handle *self, uint64_t end)
{
	struct fnode_handle *h = self;

	if (!(h->readable && cairn_file_size(h->f) >= end)) {
		for (h = n->handles; h; h = h->next)
			if (h->readable && !h->released && cairn_file_size(h->f) >= end)
				break;
	}
	if (h)
		h->users++;
	return h;
}

static int fsync_one(struct fnode_handle *h, bool datasync)
{
	struct fnode *n = h->node;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&n->lock);
	gen = h->wgen;
	pthread_mutex_unlock(&n->lock);
	rc = cairn_fsync(h->f, datasync);
	if (rc == 0) {
		pthread_mutex_lock(&n->lock);
		if (h->dirty && h->wgen == gen) {
			h->dirty = false;
			n->ndirty--;
		}
		pthread_mutex_unlock(&n->lock);
	}
	return rc;
}

static bool want_dirty(const struct fnode_handle *h, const struct fnode_handle *self)
{
	return h->dirty || h == self;
}

/*
 * No attached handle knows the file reaches end: publishes what the
 * handles wrote, then opens an internal handle (with the daemon's own
 * credentials) that learns the published size, and lends it.
 */
static int fresh_reader(struct fnode *n, struct fnode_handle **out)
{
	struct fnode_handle **v, *h, *idle = NULL;
	struct cairn_file *f;
	unsigned nidle;
	size_t count;
	int rc;

	rc = collect(n, want_dirty, NULL, &v, &count);
	if (rc)
		return rc;
	for (size_t i = 0; i < count; i++)
		fsync_one(v[i], true);
	put_all(v, count);
	rc = cairn_file_open(n->t->c, NULL, n->ino, O_RDONLY, &f);
	if (rc)
		return rc;
	h = attach(n->t, n->ino, f, O_RDONLY, true);
	if (!h) {
		cairn_file_close(f);
		return -ENOMEM;
	}
	pthread_mutex_lock(&n->lock);
	h->users++;
	nidle = take_idle_internal(n, h, &idle);
	pthread_mutex_unlock(&n->lock);
	close_list(idle);
	if (nidle)
		node_put(n, nidle);
	*out = h;
	return 0;
}

ssize_t fnode_read(struct fnode_handle *h, void *buf, size_t len, uint64_t off)
{
	struct fnode *n = h->node;
	struct fnode_handle *src;
	ssize_t got;
	size_t want;
	int rc;

	if (!h->readable)
		return -EBADF;
	pthread_mutex_lock(&n->lock);
	if (off >= n->size) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	want = n->size - off < len ? (size_t)(n->size - off) : len;
	src = pick_reader(n, h, off + want);
	pthread_mutex_unlock(&n->lock);
	if (!src) {
		rc = fresh_reader(n, &src);
		if (rc)
			return rc;
	}
	got = cairn_pread(src->f, buf, want, off);
	handle_put(src);
	if (got < 0)
		return got;
	/* Short only past an end a concurrent truncate moved: zeros. */
	if ((size_t)got < want)
		memset((char *)buf + got, 0, want - (size_t)got);
	return (ssize_t)want;
}

ssize_t fnode_write(struct fnode_handle *h, const void *buf, size_t len, uint64_t off)
{
	struct fnode *n = h->node;
	uint64_t end, known;
	ssize_t got;

	pthread_rwlock_rdlock(&n->io);
	got = cairn_pwrite(h->f, buf, len, off);
	if (got > 0) {
		end = off + (uint64_t)got;
		known = cairn_file_size(h->f); /* where an O_APPEND write really went */
		pthread_mutex_lock(&n->lock);
		if (end > n->size)
			n->size = end;
		if (known > n->size)
			n->size = known;
		mark_dirty(n, h);
		pthread_mutex_unlock(&n->lock);
	}
	pthread_rwlock_unlock(&n->io);
	return got;
}

static bool want_other_writer(const struct fnode_handle *h, const struct fnode_handle *self)
{
	return h->writable && !h->internal && h != self;
}

int fnode_truncate(struct fnode_handle *h, uint64_t size)
{
	struct fnode *n = h->node;
	struct fnode_handle **v;
	uint64_t cur;
	size_t count;
	int rc;

	pthread_rwlock_wrlock(&n->io);
	rc = collect(n, want_other_writer, h, &v, &count);
	if (rc)
		goto out;
	cur = fnode_size(h);
	/* h frees from what it knows: first let it know the whole file. */
	if (size < cur && cairn_file_size(h->f) < cur)
		rc = cairn_ftruncate(h->f, cur);
	if (rc == 0)
		rc = cairn_ftruncate(h->f, size);
	/* Others must not publish, or read up to, the size they knew. */
	for (size_t i = 0; i < count && rc == 0; i++) {
		int r = 0;

		if (cairn_file_size(v[i]->f) > size)
			r = cairn_ftruncate(v[i]->f, size);
		if (r)
			log_warn("fuse: truncate of %#llx: another handle kept its size: %s",
				 (unsigned long long)n->ino, cairn_strerror(r));
	}
	if (rc == 0) {
		pthread_mutex_lock(&n->lock);
		n->size = size;
		mark_dirty(n, h);
		pthread_mutex_unlock(&n->lock);
	}
	put_all(v, count);
out:
	pthread_rwlock_unlock(&n->io);
	return rc;
}

int fnode_truncate_ino(struct fnode_table *t, const struct cairn_cred *cred, uint64_t ino,
		       uint64_t size)
{
	struct fnode_handle *h;
	int rc, rc2;

	rc = fnode_open(t, cred, ino, O_WRONLY, &h);
	if (rc)
		return rc;
	rc = fnode_truncate(h, size);
	rc2 = fnode_release(h);
	return rc ? rc : rc2;
}

int fnode_flush(struct fnode_handle *h)
{
	bool dirty;

	pthread_mutex_lock(&h->node->lock);
	dirty = h->dirty;
	pthread_mutex_unlock(&h->node->lock);
	return dirty ? fsync_one(h, true) : 0;
}

int fnode_fsync(struct fnode_handle *h, bool datasync)
{
	struct fnode_handle **v;
	size_t count;
	int rc, r;

	rc = collect(h->node, want_dirty, h, &v, &count);
	if (rc)
		return rc;
	for (size_t i = 0; i < count; i++) {
		r = fsync_one(v[i], datasync);
		if (r && !rc)
			rc = r;
	}
	put_all(v, count);
	return rc;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

void fnode_attr_fix(struct fnode_table *t, struct cairn_attr *a)
{
	struct timespec mtime;
	struct fnode *n;
	uint64_t size = 0;
	bool found = false, dirty = false;

	if (!S_ISREG(a->mode))
		return;
	pthread_mutex_lock(&t->lock);
	for (n = t->buckets[bucket_of(a->ino)]; n && n->ino != a->ino; n = n->next)
		;
	if (n) {
		pthread_mutex_lock(&n->lock);
		found = true;
		size = n->size;
		dirty = n->ndirty > 0;
		mtime = n->mtime;
		pthread_mutex_unlock(&n->lock);
	}
	pthread_mutex_unlock(&t->lock);
	if (!found)
		return;
	if (a->size != size) {
		a->size = size;
		a->blocks = (size + 511) / 512;
	}
	if (dirty && ts_after(&mtime, &a->mtime)) {
		a->mtime = mtime;
		if (ts_after(&mtime, &a->ctime))
			a->ctime = mtime;
	}
}
