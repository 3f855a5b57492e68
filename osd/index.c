/*
 * index.c - in-memory index of chunk versions (see index.h).
 *
 * Structure: a fixed hash table of PGs (struct pgent, never freed before
 * the index) under ix->lock; in each PG a chained hash table of chunks
 * (struct cent) that doubles when it fills, under pg->lock; in each chunk a
 * small array of versions sorted by version.  Pools (struct poolent, a list
 * sorted by id) hold atomic usage counters; a PG points at its pool's.
 *
 * Lock order: ix->lock before pg->lock; never two PG locks at once.
 * Listings copy what they need under the PG lock, sort the copy and call
 * back with no lock held.
 */
#include "osd/index.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PG_BUCKETS 4096u
#define CHUNK_BUCKETS_MIN 64u

struct cent {
	struct cent *next;
	uint64_t ino;
	uint64_t stripe;
	uint16_t idx;
	uint16_t nver;
	uint16_t cap;
	struct osd_chunk_version *ver; /* nver entries, ascending by version */
};

struct poolent {
	struct poolent *next;
	uint32_t pool;
	_Atomic uint64_t chunks;
	_Atomic uint64_t versions;
	_Atomic uint64_t logical;
	_Atomic uint64_t stored;
};

struct pgent {
	struct pgent *next; /* hash chain, under ix->lock */
	uint32_t pool;
	uint32_t pg;
	struct poolent *usage;
	pthread_mutex_t lock;
	struct cent **buckets; /* under lock */
	size_t nbuckets;       /* under lock; a power of two */
	size_t nchunks;	       /* under lock */
};

struct osd_index {
	pthread_rwlock_t lock;
	struct pgent *pgs[PG_BUCKETS]; /* under lock */
	struct poolent *pools;	       /* under lock */
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t pg_slot(uint32_t pool, uint32_t pg)
{
	return (size_t)(mix64(((uint64_t)pool << 32) | pg) & (PG_BUCKETS - 1));
}

static uint64_t chunk_hash(uint64_t ino, uint64_t stripe, uint16_t idx)
{
	return mix64(ino ^ mix64(stripe ^ ((uint64_t)idx << 48)));
}

struct osd_index *osd_index_new(void)
{
	struct osd_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	if (pthread_rwlock_init(&ix->lock, NULL) != 0) {
		free(ix);
		return NULL;
	}
	return ix;
}

static void pg_free(struct pgent *p)
{
	for (size_t b = 0; b < p->nbuckets; b++) {
		struct cent *c = p->buckets[b];

		while (c) {
			struct cent *next = c->next;

			free(c->ver);
			free(c);
			c = next;
		}
	}
	free(p->buckets);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void osd_index_free(struct osd_index *ix)
{
	if (!ix)
		return;
	for (size_t s = 0; s < PG_BUCKETS; s++) {
		while (ix->pgs[s]) {
			struct pgent *p = ix->pgs[s];

			ix->pgs[s] = p->next;
			pg_free(p);
		}
	}
	while (ix->pools) {
		struct poolent *pe = ix->pools;

		ix->pools = pe->next;
		free(pe);
	}
	pthread_rwlock_destroy(&ix->lock);
	free(ix);
}

/* Caller holds ix->lock (either mode). */
static struct pgent *pg_lookup(struct osd_index *ix, uint32_t pool, uint32_t pg)
{
	for (struct pgent *p = ix->pgs[pg_slot(pool, pg)]; p; p = p->next)
		if (p->pool == pool && p->pg == pg)
			return p;
	return NULL;
}

/* Caller holds ix->lock. */
static struct poolent *pool_lookup(struct osd_index *ix, uint32_t pool)
{
	for (struct poolent *pe = ix->pools; pe; pe = pe->next)
		if (pe->pool == pool)
			return pe;
	return NULL;
}

/* Caller holds ix->lock for writing. */
static struct pgent *pg_create(struct osd_index *ix, uint32_t pool, uint32_t pg)
{
	struct poolent *pe = pool_lookup(ix, pool);
	struct poolent **link;
	struct pgent *p;
	size_t slot = pg_slot(pool, pg);

	if (!pe) {
		pe = calloc(1, sizeof(*pe));
		if (!pe)
			return NULL;
		pe->pool = pool;
		link = &ix->pools; /* kept sorted by pool id */
		while (*link && (*link)->pool < pool)
			link = &(*link)->next;
		pe->next = *link;
		*link = pe;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->buckets = calloc(CHUNK_BUCKETS_MIN, sizeof(*p->buckets));
	if (!p->buckets || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->buckets);
		free(p);
		return NULL;
	}
	p->nbuckets = CHUNK_BUCKETS_MIN;
	p->pool = pool;
	p->pg = pg;
	p->usage = pe;
	p->next = ix->pgs[slot];
	ix->pgs[slot] = p;
	return p;
}

/* The PG, created when create is set; NULL when absent or out of memory. */
static struct pgent *pg_get(struct osd_index *ix, uint32_t pool, uint32_t pg, bool create)
{
	struct pgent *p;

	pthread_rwlock_rdlock(&ix->lock);
	p = pg_lookup(ix, pool, pg);
	pthread_rwlock_unlock(&ix->lock);
	if (p || !create)
		return p;
	pthread_rwlock_wrlock(&ix->lock);
	p = pg_lookup(ix, pool, pg);
	if (!p)
		p = pg_create(ix, pool, pg);
	pthread_rwlock_unlock(&ix->lock);
	return p;
}

/* Caller holds p->lock.  Returns the link pointing at the chunk (or NULL). */
static struct cent **cent_link(struct pgent *p, const struct osd_chunk_id *id)
{
	size_t b = (size_t)(chunk_hash(id->ino, id->stripe, id->idx) & (p->nbuckets - 1));
	struct cent **link = &p->buckets[b];

	for (; *link; link = &(*link)->next) {
		struct cent *c = *link;

		if (c->ino == id->ino && c->stripe == id->stripe && c->idx == id->idx)
			return link;
	}
	return link;
}

/* Caller holds p->lock.  Doubles the chunk table; failure just keeps it. */
static void pg_grow(struct pgent *p)
{
	size_t n = p->nbuckets * 2;
	struct cent **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;
	for (size_t b = 0; b < p->nbuckets; b++) {
		struct cent *c = p->buckets[b];

		while (c) {
			struct cent *next = c->next;
			size_t s = (size_t)(chunk_hash(c->ino, c->stripe, c->idx) & (n - 1));

			c->next = nb[s];
			nb[s] = c;
			c = next;
		}
	}
	free(p->buckets);
	p->buckets = nb;
	p->nbuckets = n;
}

static void usage_add(struct poolent *u, const struct osd_chunk_version *v, int sign)
{
	if (sign > 0) {
		atomic_fetch_add(&u->versions, 1);
		atomic_fetch_add(&u->logical, v->length);
		atomic_fetch_add(&u->stored, v->stored);
	} else {
		atomic_fetch_sub(&u->versions, 1);
		atomic_fetch_sub(&u->logical, v->length);
		atomic_fetch_sub(&u->stored, v->stored);
	}
}

/* Caller holds p->lock.  Inserts v into c's sorted versions. */
static int cent_insert(struct pgent *p, struct cent *c, const struct osd_chunk_version *v)
{
	uint16_t i = 0;

	while (i < c->nver && c->ver[i].version < v->version)
		i++;
	if (i < c->nver && c->ver[i].version == v->version) {
		usage_add(p->usage, &c->ver[i], -1);
		c->ver[i] = *v;
		usage_add(p->usage, v, 1);
		return 0;
	}
	if (c->nver == UINT16_MAX)
		return -ENOMEM;
	if (c->nver == c->cap) {
		uint16_t cap = c->cap ? (uint16_t)(c->cap >= 0x8000 ? UINT16_MAX : c->cap * 2) : 2;
		struct osd_chunk_version *nv = realloc(c->ver, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->ver = nv;
		c->cap = cap;
	}
	memmove(&c->ver[i + 1], &c->ver[i], (size_t)(c->nver - i) * sizeof(*c->ver));
	c->ver[i] = *v;
	c->nver++;
	usage_add(p->usage, v, 1);
	return 0;
}

int osd_index_add(struct osd_index *ix, const struct osd_chunk_id *id,
		  const struct osd_chunk_version *v)
{
	struct pgent *p = pg_get(ix, id->pool, id->pg, true);
	struct cent **link, *c;
	bool fresh = false;
	int ret;

	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	link = cent_link(p, id);
	c = *link;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		c->ino = id->ino;
		c->stripe = id->stripe;
		c->idx = id->idx;
		fresh = true;
	}
	ret = cent_insert(p, c, v);
	if (ret == 0 && fresh) {
		*link = c;
		p->nchunks++;
		atomic_fetch_add(&p->usage->chunks, 1);
		if (p->nchunks > p->nbuckets)
			pg_grow(p);
	} else if (fresh) {
		free(c);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int osd_index_remove(struct osd_index *ix, const struct osd_chunk_id *id, uint64_t version)
{
	struct pgent *p = pg_get(ix, id->pool, id->pg, false);
	struct cent **link, *c;
	int ret = -ENOENT;

	if (!p)
		return -ENOENT;
	pthread_mutex_lock(&p->lock);
	link = cent_link(p, id);
	c = *link;
	for (uint16_t i = 0; c && i < c->nver; i++) {
		if (c->ver[i].version != version)
			continue;
		usage_add(p->usage, &c->ver[i], -1);
		memmove(&c->ver[i], &c->ver[i + 1], (size_t)(c->nver - i - 1) * sizeof(*c->ver));
		c->nver--;
		ret = 0;
		break;
	}
	if (ret == 0 && c->nver == 0) {
		*link = c->next;
		free(c->ver);
		free(c);
		p->nchunks--;
		atomic_fetch_sub(&p->usage->chunks, 1);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int osd_index_find(struct osd_index *ix, const struct osd_chunk_id *id, uint64_t version,
		   struct osd_chunk_version *out)
{
	struct pgent *p = pg_get(ix, id->pool, id->pg, false);
	struct cent *c;
	int ret = -ENOENT;

	if (!p)
		return -ENOENT;
	pthread_mutex_lock(&p->lock);
	c = *cent_link(p, id);
	if (c && version == 0) {
		*out = c->ver[c->nver - 1];
		ret = 0;
	}
	for (uint16_t i = 0; c && version != 0 && i < c->nver; i++) {
		if (c->ver[i].version == version) {
			*out = c->ver[i];
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int osd_index_versions(struct osd_index *ix, const struct osd_chunk_id *id,
		       struct osd_chunk_version *out, size_t max, size_t *n)
{
	struct pgent *p = pg_get(ix, id->pool, id->pg, false);
	struct cent *c;
	int ret = -ENOENT;

	*n = 0;
	if (!p)
		return -ENOENT;
	pthread_mutex_lock(&p->lock);
	c = *cent_link(p, id);
	if (c) {
		*n = c->nver;
		memcpy(out, c->ver, (c->nver < max ? c->nver : max) * sizeof(*out));
		ret = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* ---- listing ------------------------------------------------------------- */

struct snap {
	uint64_t ino;
	uint64_t stripe;
	uint16_t idx;
	uint16_t nver;
	size_t voff; /* first version in the flat version array */
};

static int key_cmp(uint64_t ai, uint64_t as, uint16_t ax, uint64_t bi, uint64_t bs, uint16_t bx)
{
	if (ai != bi)
		return ai < bi ? -1 : 1;
	if (as != bs)
		return as < bs ? -1 : 1;
	if (ax != bx)
		return ax < bx ? -1 : 1;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	return key_cmp(x->ino, x->stripe, x->idx, y->ino, y->stripe, y->idx);
}

static bool after_cursor(const struct cent *c, const struct osd_store_cursor *cur)
{
	return cur->state == 0 ||
	       key_cmp(c->ino, c->stripe, c->idx, cur->ino, cur->stripe, (uint16_t)cur->idx) > 0;
}

/*
 * Copies the PG's chunks after cur (keys and versions) into malloc'd arrays.
 * Caller holds p->lock.
 */
static int pg_snapshot(struct pgent *p, const struct osd_store_cursor *cur, struct snap **sv,
		       size_t *ns, struct osd_chunk_version **vv)
{
	size_t n = 0, nv = 0;

	*sv = NULL;
	*vv = NULL;
	for (size_t b = 0; b < p->nbuckets; b++)
		for (struct cent *c = p->buckets[b]; c; c = c->next)
			if (after_cursor(c, cur)) {
				n++;
				nv += c->nver;
			}
	*ns = n;
	if (n == 0)
		return 0;
	*sv = malloc(n * sizeof(**sv));
	*vv = malloc(nv * sizeof(**vv));
	if (!*sv || !*vv) {
		free(*sv);
		free(*vv);
		return -ENOMEM;
	}
	n = nv = 0;
	for (size_t b = 0; b < p->nbuckets; b++)
		for (struct cent *c = p->buckets[b]; c; c = c->next) {
			if (!after_cursor(c, cur))
				continue;
			(*sv)[n++] = (struct snap){c->ino, c->stripe, c->idx, c->nver, nv};
			memcpy(*vv + nv, c->ver, c->nver * sizeof(**vv));
			nv += c->nver;
		}
	return 0;
}

int osd_index_list_pg(struct osd_index *ix, uint32_t pool, uint32_t pg,
		      struct osd_store_cursor *cur, size_t max, osd_store_list_fn fn, void *arg)
{
	struct pgent *p = pg_get(ix, pool, pg, false);
	struct osd_chunk_version *vv = NULL;
	struct snap *sv = NULL;
	size_t ns = 0, i;
	int ret = 0;

	if (cur->state == 2)
		return 0;
	if (p) {
		pthread_mutex_lock(&p->lock);
		ret = pg_snapshot(p, cur, &sv, &ns, &vv);
		pthread_mutex_unlock(&p->lock);
		if (ret)
			return ret;
	}
	if (ns > 1)
		qsort(sv, ns, sizeof(*sv), snap_cmp);
	for (i = 0; i < ns && (max == 0 || i < max); i++) {
		struct osd_chunk_info info = {
			.id = {.pool = pool, .pg = pg, .ino = sv[i].ino, .stripe = sv[i].stripe,
			       .idx = sv[i].idx},
			.nversions = sv[i].nver,
			.versions = vv + sv[i].voff,
		};

		ret = fn(&info, arg);
		if (ret)
			break;
		cur->ino = sv[i].ino;
		cur->stripe = sv[i].stripe;
		cur->idx = sv[i].idx;
		cur->state = 1;
	}
	if (ret == 0 && i == ns)
		cur->state = 2;
	free(sv);
	free(vv);
	return ret;
}

struct pgref {
	uint32_t pool;
	uint32_t pg;
	uint64_t nchunks;
};

static int pgref_cmp(const void *a, const void *b)
{
	const struct pgref *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	return x->pg < y->pg ? -1 : x->pg > y->pg;
}

int osd_index_foreach_pg(struct osd_index *ix, osd_store_pg_fn fn, void *arg)
{
	struct pgref *refs = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	pthread_rwlock_rdlock(&ix->lock);
	for (size_t s = 0; s < PG_BUCKETS && ret == 0; s++) {
		for (struct pgent *p = ix->pgs[s]; p; p = p->next) {
			uint64_t nchunks;

			pthread_mutex_lock(&p->lock);
			nchunks = p->nchunks;
			pthread_mutex_unlock(&p->lock);
			if (nchunks == 0)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct pgref *nr = realloc(refs, ncap * sizeof(*nr));

				if (!nr) {
					ret = -ENOMEM;
					break;
				}
				refs = nr;
				cap = ncap;
			}
			refs[n++] = (struct pgref){p->pool, p->pg, nchunks};
		}
	}
	pthread_rwlock_unlock(&ix->lock);
	if (ret == 0 && n > 0)
		qsort(refs, n, sizeof(*refs), pgref_cmp);
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = fn(refs[i].pool, refs[i].pg, refs[i].nchunks, arg);
	free(refs);
	return ret;
}

/* Appends to a growing id array; 0 or -ENOMEM. */
static int ids_push(struct osd_chunk_id **v, size_t *n, size_t *cap, const struct osd_chunk_id *id)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct osd_chunk_id *nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *id;
	return 0;
}

/* Caller holds p->lock. */
static int pg_find_ino(struct pgent *p, uint64_t ino, uint64_t first_stripe,
		       struct osd_chunk_id **out, size_t *n, size_t *cap)
{
	for (size_t b = 0; b < p->nbuckets; b++) {
		for (struct cent *c = p->buckets[b]; c; c = c->next) {
			struct osd_chunk_id id = {p->pool, p->pg, c->ino, c->stripe, c->idx};

			if (c->ino != ino || c->stripe < first_stripe)
				continue;
			if (ids_push(out, n, cap, &id))
				return -ENOMEM;
		}
	}
	return 0;
}

int osd_index_find_ino(struct osd_index *ix, uint32_t pool, uint64_t ino, uint64_t first_stripe,
		       struct osd_chunk_id **out, size_t *n)
{
	size_t cap = 0;
	int ret = 0;

	*out = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&ix->lock);
	for (size_t s = 0; s < PG_BUCKETS && ret == 0; s++) {
		for (struct pgent *p = ix->pgs[s]; p && ret == 0; p = p->next) {
			if (p->pool != pool)
				continue;
			pthread_mutex_lock(&p->lock);
			ret = pg_find_ino(p, ino, first_stripe, out, n, &cap);
			pthread_mutex_unlock(&p->lock);
		}
	}
	pthread_rwlock_unlock(&ix->lock);
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

static void usage_load(const struct poolent *pe, struct osd_pool_usage *out)
{
	out->pool = pe->pool;
	out->chunks = atomic_load(&pe->chunks);
	out->versions = atomic_load(&pe->versions);
	out->logical_bytes = atomic_load(&pe->logical);
	out->stored_bytes = atomic_load(&pe->stored);
}

void osd_index_pool_usage(struct osd_index *ix, uint32_t pool, struct osd_pool_usage *out)
{
	struct poolent *pe;

	memset(out, 0, sizeof(*out));
	out->pool = pool;
	pthread_rwlock_rdlock(&ix->lock);
	pe = pool_lookup(ix, pool);
	if (pe)
		usage_load(pe, out);
	pthread_rwlock_unlock(&ix->lock);
}

size_t osd_index_pools(struct osd_index *ix, struct osd_pool_usage *out, size_t max)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&ix->lock);
	for (struct poolent *pe = ix->pools; pe; pe = pe->next) {
		if (atomic_load(&pe->versions) == 0)
			continue;
		if (n < max)
			usage_load(pe, &out[n]);
		n++;
	}
	pthread_rwlock_unlock(&ix->lock);
	return n;
}
