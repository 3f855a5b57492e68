/*
 * placement.c - stripe -> PG -> acting set; the model is in placement.h.
 *
 * Hashing: a 64-bit xor-shift-multiply mixer.  A PG's draws are keyed by a
 * seed from (pool, pg) and by (position, OSD id), never by list order.
 *
 * Straws: U = (32 bits of the draw) + 1, in [1, 2^32]; the straw is
 * -log2(U / 2^32) in Q6.26 fixed point (at most 2^31), and the key of an OSD
 * for a position is straw / weight, the smaller the better.  Keys are
 * compared exactly by cross-multiplying (2^31 * 2^32 fits in 64 bits), with
 * (position, OSD id) breaking exact ties.  log2 interpolates linearly in a
 * table of log2(1 + i / 4096), i = 0..4096, in Q1.31, built once by exact
 * integer squaring (one result bit per squaring); the interpolation error
 * is below 2^-26, the resolution of a straw.
 *
 * Assignment (deferred acceptance): a free position scans every in OSD and
 * takes the one with its best key that would accept it now and comes after
 * the last one it held in its own order.  An OSD accepts a position if it is
 * free and its host is below the cap, or if the position's key beats the
 * current holder of the OSD, or (free OSD on a full host) the weakest
 * position on that host; the beaten position becomes free again.  Holders of
 * an OSD or of a full host only ever get stronger, so an OSD that rejects a
 * position once rejects it for good, and positions never revisit their
 * earlier choices; the loop ends after at most width * n_osds steps, in
 * practice a few more than width.  The result is the position-optimal stable
 * assignment, whatever the order of the OSD list.
 *
 * Threads: the log table is written once under pthread_once and only read
 * afterwards; all other state is on the caller's stack or in a table that is
 * immutable once built.
 */
#include "common/placement.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/erasure.h"

_Static_assert(PLACEMENT_MAX_WIDTH >= ERASURE_MAX_CHUNKS, "an acting set holds every chunk");
_Static_assert(PLACEMENT_MAX_OSDS <= INT32_MAX, "OSD indexes are int32_t");
_Static_assert(PLACEMENT_MAX_WIDTH <= UINT8_MAX, "a table keeps filled counts in a byte");

#define PL_LOG_BITS 12u /* table index bits */
#define PL_LOG_SIZE (1u << PL_LOG_BITS)
#define PL_LOG_SHIFT (31u - PL_LOG_BITS) /* mantissa bits below the index */
#define PL_FRAC 26u                      /* fraction bits of a straw */
#define PL_STRAW_MAX (32u << PL_FRAC)    /* straw of U = 1 */

/* Fixed salts (fraction digits of pi) and the 64-bit golden ratio. */
#define PL_SALT_INO 0x243f6a8885a308d3ull
#define PL_SALT_SEED 0x13198a2e03707344ull
#define PL_SALT_DRAW 0xa4093822299f31d0ull
#define PL_GOLDEN 0x9e3779b97f4a7c15ull

static uint32_t pl_log_table[PL_LOG_SIZE + 1];
static pthread_once_t pl_log_once = PTHREAD_ONCE_INIT;

static uint64_t pl_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* log2(x / 2^31) in Q1.31 for x in [2^31, 2^32): squaring x doubles its log. */
static uint32_t pl_log2_exact(uint64_t x)
{
	uint32_t r = 0;

	for (int bit = 30; bit >= 0; bit--) {
		x = (x * x) >> 31;
		if (x >> 32) {
			r |= 1u << bit;
			x >>= 1;
		}
	}
	return r;
}

static void pl_log_init(void)
{
	for (uint32_t i = 0; i < PL_LOG_SIZE; i++)
		pl_log_table[i] = pl_log2_exact((uint64_t)(PL_LOG_SIZE + i) << PL_LOG_SHIFT);
	pl_log_table[PL_LOG_SIZE] = 1u << 31;
}

/* log2(u) in Q6.26 for u in [1, 2^32]. */
static uint32_t pl_log2(uint64_t u)
{
	uint32_t v, e, m, idx, frac, lo, hi;

	if (u >> 32)
		return 32u << PL_FRAC;
	v = (uint32_t)u;
	e = 31u - (uint32_t)__builtin_clz(v);
	m = v << (31u - e); /* mantissa in Q1.31, [2^31, 2^32) */
	idx = (m >> PL_LOG_SHIFT) & (PL_LOG_SIZE - 1);
	frac = m & ((1u << PL_LOG_SHIFT) - 1);
	lo = pl_log_table[idx];
	hi = pl_log_table[idx + 1];
	lo += (uint32_t)(((uint64_t)(hi - lo) * frac) >> PL_LOG_SHIFT);
	return (e << PL_FRAC) + (lo >> (31u - PL_FRAC));
}

uint32_t placement_pg(uint64_t ino, uint64_t stripe, uint32_t pg_count)
{
	uint64_t h;

	if (!pg_count)
		return PLACEMENT_NONE;
	h = pl_mix64(pl_mix64(ino ^ PL_SALT_INO) + stripe * PL_GOLDEN);
	return (uint32_t)(h % pg_count);
}

/* A position's key for one OSD. */
struct pl_key {
	uint32_t straw;  /* -log2(U) in Q6.26 */
	uint32_t weight; /* > 0 */
	uint64_t tie;    /* position << 32 | OSD id */
};

/* Whether a beats b: straw / weight smaller, or equal and tie smaller. */
static bool pl_better(const struct pl_key *a, const struct pl_key *b)
{
	uint64_t x = (uint64_t)a->straw * b->weight;
	uint64_t y = (uint64_t)b->straw * a->weight;

	if (x != y)
		return x < y;
	return a->tie < b->tie;
}

struct pl_slot {
	int32_t osd;       /* index held in the OSD list, or -1 */
	bool started;      /* key is that of the last OSD held */
	bool exhausted;    /* nothing accepts it: stays empty */
	struct pl_key key; /* valid when started */
};

struct pl_ctx {
	const struct placement_osd *osds;
	size_t n;
	unsigned width;
	unsigned cap;  /* positions allowed per host; 0 without in OSDs */
	uint64_t seed; /* of (pool, pg) */
	struct pl_slot slot[PLACEMENT_MAX_WIDTH];
};

static struct pl_key pl_draw(const struct pl_ctx *c, const struct placement_osd *o, unsigned pos)
{
	uint64_t key = (uint64_t)pos << 32 | o->id;
	uint64_t h = pl_mix64(c->seed ^ pl_mix64(key + PL_SALT_DRAW));

	return (struct pl_key){
		.straw = PL_STRAW_MAX - pl_log2((h >> 32) + 1),
		.weight = o->weight,
		.tie = key,
	};
}

/*
 * Checks the ids and sets the host cap: ceil(width / hosts), where only
 * hosts up to `width` need counting.  Returns 0 or -EINVAL.
 */
static int pl_prepare(struct pl_ctx *c)
{
	uint32_t hosts[PLACEMENT_MAX_WIDTH];
	unsigned nh = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct placement_osd *o = &c->osds[i];
		unsigned j = 0;

		if (o->id == PLACEMENT_NONE)
			return -EINVAL;
		if (!o->weight || nh == c->width)
			continue;
		while (j < nh && hosts[j] != o->host)
			j++;
		if (j == nh)
			hosts[nh++] = o->host;
	}
	c->cap = nh ? (c->width + nh - 1) / nh : 0;
	return 0;
}

/*
 * Whether OSD i accepts a position with key k now.  Sets *victim to the
 * position it would displace, or -1.
 */
static bool pl_accepts(const struct pl_ctx *c, size_t i, const struct pl_key *k, int *victim)
{
	uint32_t host = c->osds[i].host;
	unsigned on_host = 0;
	int weakest = -1;

	for (unsigned s = 0; s < c->width; s++) {
		const struct pl_slot *sl = &c->slot[s];

		if (sl->osd < 0)
			continue;
		if ((size_t)sl->osd == i) {
			*victim = (int)s;
			return pl_better(k, &sl->key);
		}
		if (c->osds[sl->osd].host != host)
			continue;
		on_host++;
		if (weakest < 0 || pl_better(&c->slot[weakest].key, &sl->key))
			weakest = (int)s;
	}
	if (on_host < c->cap) {
		*victim = -1;
		return true;
	}
	*victim = weakest;
	return pl_better(k, &c->slot[weakest].key);
}

/*
 * The best OSD for free position r that accepts it and comes after its
 * previous one; -1 when none is left.
 */
static int pl_scan(const struct pl_ctx *c, unsigned r, struct pl_key *best_key, int *best_victim)
{
	const struct pl_slot *sl = &c->slot[r];
	int best = -1;

	for (size_t i = 0; i < c->n; i++) {
		struct pl_key k;
		int victim;

		if (!c->osds[i].weight)
			continue;
		k = pl_draw(c, &c->osds[i], r);
		if (best >= 0 && !pl_better(&k, best_key))
			continue;
		if (sl->started && !pl_better(&sl->key, &k))
			continue;
		if (!pl_accepts(c, i, &k, &victim))
			continue;
		best = (int)i;
		*best_key = k;
		*best_victim = victim;
	}
	return best;
}

static void pl_assign(struct pl_ctx *c)
{
	for (;;) {
		struct pl_key k;
		int i, victim = -1;
		unsigned r = 0;

		while (r < c->width && (c->slot[r].osd >= 0 || c->slot[r].exhausted))
			r++;
		if (r == c->width)
			return;
		i = pl_scan(c, r, &k, &victim);
		if (i < 0) {
			c->slot[r].exhausted = true;
			continue;
		}
		if (victim >= 0)
			c->slot[victim].osd = -1; /* resumes after the OSD it lost */
		c->slot[r].osd = i;
		c->slot[r].key = k;
		c->slot[r].started = true;
	}
}

static void pl_clear(uint32_t *out, bool *up, unsigned width)
{
	for (unsigned r = 0; r < width; r++) {
		out[r] = PLACEMENT_NONE;
		if (up)
			up[r] = false;
	}
}

/* Writes the result; returns the filled count, -EINVAL for a repeated id. */
static int pl_output(const struct pl_ctx *c, uint32_t *out, bool *up)
{
	int filled = 0;

	pl_clear(out, up, c->width);
	for (unsigned r = 0; r < c->width; r++) {
		const struct placement_osd *o;

		if (c->slot[r].osd < 0)
			continue;
		o = &c->osds[c->slot[r].osd];
		for (unsigned s = 0; s < r; s++)
			if (out[s] == o->id)
				return -EINVAL;
		out[r] = o->id;
		if (up)
			up[r] = o->up;
		filled++;
	}
	return filled;
}

int placement_acting_up(uint32_t pool_id, uint32_t pg, const struct placement_osd *osds,
			size_t n_osds, unsigned width, uint32_t *out, bool *up)
{
	struct pl_ctx c;
	int ret;

	if (!out || !width || width > PLACEMENT_MAX_WIDTH || (!osds && n_osds) ||
	    n_osds > PLACEMENT_MAX_OSDS)
		return -EINVAL;
	pthread_once(&pl_log_once, pl_log_init);

	memset(&c, 0, sizeof(c));
	c.osds = osds;
	c.n = n_osds;
	c.width = width;
	c.seed = pl_mix64(pl_mix64(((uint64_t)pool_id << 32 | pg) ^ PL_SALT_SEED));
	for (unsigned r = 0; r < width; r++)
		c.slot[r].osd = -1;

	ret = pl_prepare(&c);
	if (ret == 0 && c.cap)
		pl_assign(&c);
	if (ret == 0)
		ret = pl_output(&c, out, up);
	if (ret < 0)
		pl_clear(out, up, width);
	return ret;
}

int placement_acting_set(uint32_t pool_id, uint32_t pg, const struct placement_osd *osds,
			 size_t n_osds, unsigned width, uint32_t *out)
{
	return placement_acting_up(pool_id, pg, osds, n_osds, width, out, NULL);
}

struct placement_table {
	uint32_t pg_count;
	unsigned width;
	uint32_t *ids;   /* pg_count * width, PG after PG */
	bool *up;        /* same shape */
	uint8_t *filled; /* per PG */
};

struct placement_table *placement_table_new(uint32_t pool_id, uint32_t pg_count, unsigned width,
					    const struct placement_osd *osds, size_t n_osds)
{
	struct placement_table *t;
	size_t cells;

	if (!pg_count || pg_count > PLACEMENT_MAX_PGS || !width || width > PLACEMENT_MAX_WIDTH)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pg_count = pg_count;
	t->width = width;
	cells = (size_t)pg_count * width;
	t->ids = calloc(cells, sizeof(*t->ids));
	t->up = calloc(cells, sizeof(*t->up));
	t->filled = calloc(pg_count, sizeof(*t->filled));
	if (!t->ids || !t->up || !t->filled)
		goto err_free;
	for (uint32_t pg = 0; pg < pg_count; pg++) {
		size_t at = (size_t)pg * width;
		int ret = placement_acting_up(pool_id, pg, osds, n_osds, width, t->ids + at,
					      t->up + at);

		if (ret < 0)
			goto err_free;
		t->filled[pg] = (uint8_t)ret;
	}
	return t;

err_free:
	placement_table_free(t);
	return NULL;
}

void placement_table_free(struct placement_table *t)
{
	if (!t)
		return;
	free(t->filled);
	free(t->up);
	free(t->ids);
	free(t);
}

uint32_t placement_table_pg_count(const struct placement_table *t)
{
	return t ? t->pg_count : 0;
}

unsigned placement_table_width(const struct placement_table *t)
{
	return t ? t->width : 0;
}

int placement_table_get(const struct placement_table *t, uint32_t pg, const uint32_t **ids,
			const bool **up)
{
	size_t at;

	if (!t || !ids)
		return -EINVAL;
	if (pg >= t->pg_count)
		return -ERANGE;
	at = (size_t)pg * t->width;
	*ids = t->ids + at;
	if (up)
		*up = t->up + at;
	return t->filled[pg];
}
