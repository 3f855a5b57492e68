/*
 * cinode.c - the client's open inodes (cinode.h): a hash table of
 * reference-counted entries, attribute overlay, the buffer memory
 * allowance, and the stripe version cache (open addressing, dropped
 * whole when full or when the map changes).
 *
 * Threads: see cinode.h.  Ownership: the table owns its entries; an
 * entry's buffer is allocated and freed by cairn_file.c under wlock.
 */
#include "client/cinode.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_BUCKETS 256u
#define VC_MIN 64u
#define VC_MAX (1u << 18) /* stripes per file; then the cache starts over */
#define VC_EMPTY UINT64_MAX
#define MEM_ALLOWANCE ((size_t)512 << 20) /* write buffers of one client */

struct cinode_table {
	pthread_mutex_t lock;
	size_t mem; /* buffer bytes taken */
	struct cinode *bucket[TABLE_BUCKETS];
};

struct cinode_table *cinode_table_new(void)
{
	struct cinode_table *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void cinode_table_free(struct cinode_table *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct cinode **slot(struct cinode_table *t, uint64_t ino)
{
	struct cinode **p = &t->bucket[(ino ^ (ino >> 48)) % TABLE_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* A fresh open's attributes: adopt the MDS's size, drop old versions. */
static void revalidate(struct cinode *ci, const struct cairn_attr *a)
{
	pthread_mutex_lock(&ci->lock);
	if (!ci->dirty && !ci->blen)
		ci->size = a->size;
	if (!ts_eq(&ci->seen_mtime, &a->mtime) || ci->seen_size != a->size) {
		if (!ci->dirty) {
			ci->vc_used = 0;
			if (ci->vc_key)
				memset(ci->vc_key, 0xff, sizeof(uint64_t) * ci->vc_cap);
		}
		ci->seen_mtime = a->mtime;
		ci->seen_size = a->size;
	}
	pthread_mutex_unlock(&ci->lock);
}

struct cinode *cinode_get(struct cinode_table *t, const struct cairn_attr *attr)
{
	struct cinode **p, *ci;

	pthread_mutex_lock(&t->lock);
	p = slot(t, attr->ino);
	ci = *p;
	if (ci) {
		ci->refs++;
	} else {
		ci = calloc(1, sizeof(*ci));
		if (ci) {
			ci->ino = attr->ino;
			ci->refs = 1;
			ci->size = attr->size;
			ci->seen_mtime = attr->mtime;
			ci->seen_size = attr->size;
			pthread_mutex_init(&ci->lock, NULL);
			pthread_mutex_init(&ci->wlock, NULL);
			*p = ci;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (ci)
		revalidate(ci, attr);
	return ci;
}

void cinode_put(struct cinode_table *t, struct cinode *ci)
{
	struct cinode **p;
	bool last;

	if (!ci)
		return;
	pthread_mutex_lock(&t->lock);
	last = --ci->refs == 0;
	if (last) {
		p = slot(t, ci->ino);
		*p = ci->next;
		if (ci->wbuf)
			t->mem -= ci->wcap;
	}
	pthread_mutex_unlock(&t->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&ci->lock);
	pthread_mutex_destroy(&ci->wlock);
	free(ci->wbuf);
	free(ci->vc_key);
	free(ci->vc_ver);
	free(ci);
}

void cinode_overlay(struct cinode_table *t, struct cairn_attr *a)
{
	struct cinode *ci;

	if (!t || !S_ISREG(a->mode))
		return;
	pthread_mutex_lock(&t->lock);
	ci = *slot(t, a->ino);
	if (ci) {
		pthread_mutex_lock(&ci->lock);
		if (ci->dirty) {
			a->size = ci->size;
			a->mtime = ci->mtime;
			a->ctime = ci->mtime;
			if (a->blocks < (a->size + 511) / 512)
				a->blocks = (a->size + 511) / 512;
		}
		pthread_mutex_unlock(&ci->lock);
	}
	pthread_mutex_unlock(&t->lock);
}

void cinode_mtime_set(struct cinode_table *t, uint64_t ino, const struct timespec *mtime)
{
	struct cinode *ci;

	pthread_mutex_lock(&t->lock);
	ci = *slot(t, ino);
	if (ci) {
		pthread_mutex_lock(&ci->lock);
		if (mtime)
			ci->mtime = *mtime;
		else
			clock_gettime(CLOCK_REALTIME, &ci->mtime);
		pthread_mutex_unlock(&ci->lock);
	}
	pthread_mutex_unlock(&t->lock);
}

bool cinode_mem_take(struct cinode_table *t, size_t n)
{
	bool ok;

	pthread_mutex_lock(&t->lock);
	ok = t->mem + n <= MEM_ALLOWANCE;
	if (ok)
		t->mem += n;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void cinode_mem_give(struct cinode_table *t, size_t n)
{
	pthread_mutex_lock(&t->lock);
	t->mem -= n;
	pthread_mutex_unlock(&t->lock);
}

/* ---- the version cache (ci->lock held) ---- */

static void vc_reset(struct cinode *ci, uint64_t epoch)
{
	ci->vc_epoch = epoch;
	ci->vc_used = 0;
	if (ci->vc_key)
		memset(ci->vc_key, 0xff, sizeof(uint64_t) * ci->vc_cap);
}

static uint32_t vc_find(const struct cinode *ci, uint64_t stripe)
{
	uint32_t mask = ci->vc_cap - 1, i = (uint32_t)(stripe * 0x9e3779b97f4a7c15ull >> 40) & mask;

	while (ci->vc_key[i] != VC_EMPTY && ci->vc_key[i] != stripe)
		i = (i + 1) & mask;
	return i;
}

/* Room for one more entry: grows the table, or starts over at the cap. */
static bool vc_room(struct cinode *ci)
{
	uint64_t *ok, *ov;
	uint32_t oc = ci->vc_cap, nc;

	if (ci->vc_key && (ci->vc_used + 1) * 4 <= ci->vc_cap * 3)
		return true;
	if (oc >= VC_MAX) {
		vc_reset(ci, ci->vc_epoch);
		return true;
	}
	nc = oc ? oc * 2 : VC_MIN;
	ok = ci->vc_key;
	ov = ci->vc_ver;
	ci->vc_key = malloc(sizeof(uint64_t) * nc);
	ci->vc_ver = malloc(sizeof(uint64_t) * nc);
	if (!ci->vc_key || !ci->vc_ver) {
		free(ci->vc_key);
		free(ci->vc_ver);
		ci->vc_key = ok;
		ci->vc_ver = ov;
		return false;
	}
	memset(ci->vc_key, 0xff, sizeof(uint64_t) * nc);
	ci->vc_cap = nc;
	for (uint32_t i = 0; i < oc; i++) {
		if (ok[i] == VC_EMPTY)
			continue;
		uint32_t j = vc_find(ci, ok[i]);

		ci->vc_key[j] = ok[i];
		ci->vc_ver[j] = ov[i];
	}
	free(ok);
	free(ov);
	return true;
}

static void vc_store(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t v, bool max)
{
	uint32_t i;

	if (stripe == VC_EMPTY)
		return;
	pthread_mutex_lock(&ci->lock);
	if (ci->vc_epoch != epoch)
		vc_reset(ci, epoch);
	if (vc_room(ci)) {
		i = vc_find(ci, stripe);
		if (ci->vc_key[i] == VC_EMPTY) {
			ci->vc_key[i] = stripe;
			ci->vc_ver[i] = v;
			ci->vc_used++;
		} else if (!max || v > ci->vc_ver[i]) {
			ci->vc_ver[i] = v;
		}
	}
	pthread_mutex_unlock(&ci->lock);
}

bool cinode_vget(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t *version)
{
	bool hit = false;
	uint32_t i;

	pthread_mutex_lock(&ci->lock);
	if (ci->vc_epoch != epoch) {
		vc_reset(ci, epoch);
	} else if (ci->vc_used) {
		i = vc_find(ci, stripe);
		hit = ci->vc_key[i] == stripe;
		if (hit)
			*version = ci->vc_ver[i];
	}
	pthread_mutex_unlock(&ci->lock);
	return hit;
}

void cinode_vset(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t version)
{
	vc_store(ci, epoch, stripe, version, false);
}

void cinode_vset_max(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t version)
{
	vc_store(ci, epoch, stripe, version, true);
}

void cinode_vclear(struct cinode *ci)
{
	pthread_mutex_lock(&ci->lock);
	vc_reset(ci, ci->vc_epoch);
	pthread_mutex_unlock(&ci->lock);
}
