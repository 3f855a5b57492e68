/*
 * test_placement.c - placement: pinned answers (placement must never change
 * silently); stripes spread evenly over PGs and PGs split cleanly; acting
 * sets never repeat an OSD, respect the per-host cap, use distinct hosts
 * when there are enough, fill as many positions as the map allows and do
 * not depend on the order of the OSD list; adding or marking out one OSD
 * moves little more than the ideal share; weights are honoured; down OSDs
 * keep their positions; the table matches the direct computation, also
 * when built and read from several threads; bad arguments are rejected.
 *
 * Random maps come from a seeded generator; the seed is printed and can be
 * set with CAIRN_TEST_SEED.  All other inputs are fixed.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/csum.h"
#include "common/placement.h"

#define PGS 4096u
#define WIDTH 6u
#define MAX_OSDS 4096u

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Ids and hosts deliberately differ from list indexes. */
static uint32_t osd_id(unsigned i)
{
	return 1000 + 3 * i;
}

static void make_osds(struct placement_osd *o, unsigned n, unsigned per_host, uint32_t weight)
{
	for (unsigned i = 0; i < n; i++)
		o[i] = (struct placement_osd){
			.id = osd_id(i), .host = 500 + i / per_host, .weight = weight, .up = true};
}

static const struct placement_osd *find_osd(const struct placement_osd *o, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].id == id)
			return &o[i];
	return NULL;
}

/* Acting sets of PGs 0..pgs-1 into sets[pg * width + pos]; each must fill `expect`. */
static void place_all(uint32_t pool, const struct placement_osd *o, size_t n, unsigned width,
		      uint32_t pgs, int expect, uint32_t *sets)
{
	for (uint32_t pg = 0; pg < pgs; pg++)
		assert_int_equal(placement_acting_set(pool, pg, o, n, width, sets + (size_t)pg * width),
				 expect);
}

static uint32_t *alloc_sets(uint32_t pgs, unsigned width)
{
	uint32_t *s = calloc((size_t)pgs * width, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* ---- PGs ---- */

static void test_pg_pinned(void **state)
{
	static const struct {
		uint64_t ino, stripe;
		uint32_t count, pg;
	} pins[] = {
		{0x1ull, 0ull, 4096, 3956},
		{0x1ull, 1ull, 4096, 2461},
		{0x1ull, 2ull, 4096, 1544},
		{0x1234567890ull, 77ull, 1000, 563},
		{UINT64_MAX, UINT64_MAX, 4096, 184},
		{0x2aull, 0ull, 1, 0},
		{0x7ull, 123456789ull, UINT32_MAX, 1997784723},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		assert_int_equal(placement_pg(pins[i].ino, pins[i].stripe, pins[i].count),
				 pins[i].pg);
	assert_int_equal(placement_pg(5, 6, 0), PLACEMENT_NONE);
}

static double root(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 64; i++)
		r = (r + x / r) / 2;
	return r;
}

/* Chi-square of `samples` PGs over `count` buckets. */
static double chi_square(const uint32_t *hits, uint32_t count, uint64_t samples)
{
	double expect = (double)samples / count, chi = 0;

	for (uint32_t i = 0; i < count; i++)
		chi += ((double)hits[i] - expect) * ((double)hits[i] - expect) / expect;
	return chi;
}

static void test_pg_spread(void **state)
{
	static const uint32_t counts[] = {64, 256, 1000, 4096};
	static const uint64_t inos[] = {1, 2, 0x100000001ull, UINT64_MAX};

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint32_t count = counts[c];
		uint64_t samples = (uint64_t)count * 32;
		uint32_t *hits = calloc(count, sizeof(*hits));
		/* dof = count - 1; mean dof, sd sqrt(2 dof): allow 6 sd */
		double bound = (count - 1) + 6 * root(2.0 * (count - 1));

		assert_non_null(hits);
		/* consecutive stripes of one file */
		for (size_t f = 0; f < sizeof(inos) / sizeof(inos[0]); f++) {
			memset(hits, 0, count * sizeof(*hits));
			for (uint64_t s = 0; s < samples; s++)
				hits[placement_pg(inos[f], s, count)]++;
			assert_true(chi_square(hits, count, samples) < bound);
		}
		/* stripe 0 of consecutive inodes (small files) */
		memset(hits, 0, count * sizeof(*hits));
		for (uint64_t ino = 0; ino < samples; ino++)
			hits[placement_pg(ino, 0, count)]++;
		assert_true(chi_square(hits, count, samples) < bound);
		free(hits);
	}
}

static void test_pg_split(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 4096; n *= 2)
		for (uint64_t s = 0; s < 2000; s++) {
			uint32_t pg = placement_pg(77, s, n);

			assert_true(pg < n);
			assert_int_equal(placement_pg(77, s, 2 * n) % n, pg);
		}
}

/* ---- acting sets ---- */

/* 12 OSDs, hosts of 2, weights 1, 2, 3 (x 0x10000) in turn. */
static void make_pin_map(struct placement_osd *o)
{
	make_osds(o, 12, 2, 0);
	for (unsigned i = 0; i < 12; i++)
		o[i].weight = 0x10000u * (1 + i % 3);
}

static void test_acting_pinned(void **state)
{
	static const struct {
		uint32_t pool, pg, ids[WIDTH];
	} pins[] = {
		{1, 0, {1012, 1021, 1030, 1024, 1006, 1003}},
		{1, 1, {1000, 1015, 1024, 1006, 1030, 1021}},
		{1, 2, {1030, 1027, 1021, 1000, 1012, 1006}},
		{2, 0, {1033, 1018, 1024, 1006, 1003, 1015}},
		{7, 4095, {1021, 1000, 1027, 1033, 1006, 1012}},
		{UINT32_MAX, UINT32_MAX, {1021, 1003, 1006, 1027, 1015, 1033}},
	};
	struct placement_osd o[12];

	(void)state;
	make_pin_map(o);
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		uint32_t out[WIDTH];

		assert_int_equal(placement_acting_set(pins[i].pool, pins[i].pg, o, 12, WIDTH, out),
				 WIDTH);
		assert_memory_equal(out, pins[i].ids, sizeof(out));
	}
}

/*
 * Digests of many answers, so that even a rare change of one ranking (a
 * different rounding of a straw, say) is caught: CRC32C of the little-endian
 * ids of the sets of PGs 0..PGS-1 of two maps, and of many PG numbers.
 */
static uint32_t crc_u32(uint32_t crc, uint32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return csum_crc32c(crc, le, sizeof(le));
}

static uint32_t digest_sets(unsigned n, unsigned per_host, unsigned width)
{
	struct placement_osd o[48];
	uint32_t *sets = alloc_sets(PGS, width), crc = 0;

	make_osds(o, n, per_host, 0);
	for (unsigned i = 0; i < n; i++)
		o[i].weight = 0x8000u * (1 + i % 5) + i;
	place_all(1, o, n, width, PGS, (int)width, sets);
	for (size_t i = 0; i < (size_t)PGS * width; i++)
		crc = crc_u32(crc, sets[i]);
	free(sets);
	return crc;
}

static void test_pinned_digests(void **state)
{
	uint32_t crc = 0;

	(void)state;
	for (uint64_t ino = 0; ino < 300; ino++)
		for (uint64_t s = 0; s < 300; s++)
			crc = crc_u32(crc, placement_pg(ino << 20, s, 4096));
	print_message("digests: pg 0x%08x, sets 0x%08x 0x%08x\n", crc, digest_sets(48, 4, 6),
		      digest_sets(15, 3, 12));
	assert_int_equal(crc, 0xe79ee3a6);
	assert_int_equal(digest_sets(48, 4, 6), 0x90222ecb);  /* 12 hosts, distinct */
	assert_int_equal(digest_sets(15, 3, 12), 0x8b8ddd75); /* 5 hosts, cap 3 */
}

/* Most positions a map allows: per-host cap, one position per OSD. */
static int max_fill(const struct placement_osd *o, size_t n, unsigned width, unsigned *cap)
{
	uint32_t *hosts = calloc(n + 1, sizeof(*hosts));
	unsigned *per_host = calloc(n + 1, sizeof(*per_host));
	unsigned nh = 0, total = 0;

	assert_non_null(hosts);
	assert_non_null(per_host);
	for (size_t i = 0; i < n; i++) {
		unsigned j = 0;

		if (!o[i].weight)
			continue;
		while (j < nh && hosts[j] != o[i].host)
			j++;
		if (j == nh)
			hosts[nh++] = o[i].host;
		per_host[j]++;
	}
	*cap = nh ? (width + nh - 1) / nh : 0;
	for (unsigned j = 0; j < nh; j++)
		total += per_host[j] < *cap ? per_host[j] : *cap;
	free(hosts);
	free(per_host);
	return (int)(total < width ? total : width);
}

/* Checks one acting set against the invariants of placement.h. */
static void check_set(const struct placement_osd *o, size_t n, unsigned width, const uint32_t *out,
		      const bool *up, int ret)
{
	unsigned cap, filled = 0;
	int expect = max_fill(o, n, width, &cap);

	assert_int_equal(ret, expect);
	for (unsigned r = 0; r < width; r++) {
		const struct placement_osd *x;
		unsigned same_host = 0;

		if (out[r] == PLACEMENT_NONE) {
			assert_false(up[r]);
			continue;
		}
		filled++;
		x = find_osd(o, n, out[r]);
		assert_non_null(x);
		assert_true(x->weight > 0);
		assert_int_equal(up[r], x->up);
		for (unsigned s = 0; s < width; s++) {
			const struct placement_osd *y;

			if (s == r || out[s] == PLACEMENT_NONE)
				continue;
			assert_int_not_equal(out[s], out[r]);
			y = find_osd(o, n, out[s]);
			same_host += y->host == x->host;
		}
		assert_true(same_host + 1 <= cap);
	}
	assert_int_equal(filled, ret);
}

static void shuffle(struct placement_osd *o, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i;
		struct placement_osd t = o[i - 1];

		o[i - 1] = o[j];
		o[j] = t;
	}
}

static uint32_t random_weight(void)
{
	switch (rnd() % 4) {
	case 0:
		return 0; /* out */
	case 1:
		return (uint32_t)rnd() | 1u; /* anywhere in 32 bits */
	default:
		return 1 + (uint32_t)(rnd() % 100);
	}
}

static void test_random_maps(void **state)
{
	struct placement_osd o[40], p[40];

	(void)state;
	for (unsigned iter = 0; iter < 300; iter++) {
		size_t n = rnd() % 41;
		unsigned hosts = 1 + (unsigned)(rnd() % 12);
		unsigned width = iter % 10 == 0 ? PLACEMENT_MAX_WIDTH : 1 + (unsigned)(rnd() % 16);

		for (size_t i = 0; i < n; i++)
			o[i] = (struct placement_osd){.id = (uint32_t)(i * 7919 + iter),
						      .host = (uint32_t)(rnd() % hosts),
						      .weight = random_weight(),
						      .up = rnd() % 3 != 0};
		memcpy(p, o, n * sizeof(*o));
		shuffle(p, n);
		for (uint32_t pg = 0; pg < 16; pg++) {
			uint32_t a[PLACEMENT_MAX_WIDTH], b[PLACEMENT_MAX_WIDTH];
			bool ua[PLACEMENT_MAX_WIDTH], ub[PLACEMENT_MAX_WIDTH];
			int ra = placement_acting_up(iter, pg, o, n, width, a, ua);
			int rb = placement_acting_up(iter, pg, p, n, width, b, ub);

			check_set(o, n, width, a, ua, ra);
			/* the order of the list does not matter */
			assert_int_equal(ra, rb);
			assert_memory_equal(a, b, width * sizeof(*a));
			assert_memory_equal(ua, ub, width * sizeof(*ua));
		}
	}
}

/* Counts of positions per host in each PG, checked against [lo, hi]. */
static void check_hosts(unsigned n, unsigned per_host, unsigned lo, unsigned hi)
{
	struct placement_osd o[16];
	uint32_t *sets = alloc_sets(PGS, WIDTH);

	make_osds(o, n, per_host, 0x10000);
	place_all(1, o, n, WIDTH, PGS, WIDTH, sets);
	for (uint32_t pg = 0; pg < PGS; pg++) {
		unsigned on[16] = {0};

		for (unsigned r = 0; r < WIDTH; r++)
			on[find_osd(o, n, sets[pg * WIDTH + r])->host - 500]++;
		for (unsigned h = 0; h < n / per_host; h++) {
			assert_true(on[h] >= lo);
			assert_true(on[h] <= hi);
		}
	}
	free(sets);
}

static void test_failure_domains(void **state)
{
	(void)state;
	check_hosts(6, 2, 2, 2);  /* 4+2 over 3 hosts of 2: exactly 2 per host */
	check_hosts(12, 2, 1, 1); /* 6 hosts of 2: 6 distinct hosts */
	check_hosts(12, 3, 0, 2); /* 4 hosts of 3: at most 2 per host */
	check_hosts(16, 2, 0, 1); /* 8 hosts of 2: distinct hosts */
}

static void test_partial_fill(void **state)
{
	struct placement_osd o[6];
	uint32_t out[WIDTH];
	bool up[WIDTH];
	unsigned none = 0;

	(void)state;
	/* 4 OSDs on 4 hosts for width 6 */
	make_osds(o, 4, 1, 0x10000);
	for (uint32_t pg = 0; pg < 64; pg++) {
		assert_int_equal(placement_acting_up(1, pg, o, 4, WIDTH, out, up), 4);
		check_set(o, 4, WIDTH, out, up, 4);
		for (unsigned r = 0; r < WIDTH; r++)
			none += out[r] == PLACEMENT_NONE;
	}
	assert_int_equal(none, 64 * 2);

	/* the host cap binds: host A has 1 OSD, host B 5; cap 3 */
	make_osds(o, 6, 5, 0x10000);
	o[5].host = 500;
	o[0].host = 501;
	for (uint32_t pg = 0; pg < 64; pg++) {
		assert_int_equal(placement_acting_up(1, pg, o, 6, WIDTH, out, up), 4);
		check_set(o, 6, WIDTH, out, up, 4);
	}

	/* no in OSD, or no OSD at all */
	for (unsigned i = 0; i < 6; i++)
		o[i].weight = 0;
	assert_int_equal(placement_acting_up(1, 0, o, 6, WIDTH, out, up), 0);
	for (unsigned r = 0; r < WIDTH; r++) {
		assert_int_equal(out[r], PLACEMENT_NONE);
		assert_false(up[r]);
	}
	assert_int_equal(placement_acting_set(1, 0, NULL, 0, WIDTH, out), 0);
	for (unsigned r = 0; r < WIDTH; r++)
		assert_int_equal(out[r], PLACEMENT_NONE);
}

/* ---- movement ---- */

struct moves {
	uint64_t moved;  /* positions whose OSD changed */
	uint64_t to_new; /* of which now on the added OSD */
	uint64_t per_pos_max;
};

static struct moves count_moves(const uint32_t *a, const uint32_t *b, uint32_t new_id)
{
	struct moves m = {0};

	for (unsigned r = 0; r < WIDTH; r++) {
		uint64_t here = 0;

		for (uint32_t pg = 0; pg < PGS; pg++) {
			size_t at = (size_t)pg * WIDTH + r;

			if (a[at] == b[at])
				continue;
			here++;
			m.to_new += b[at] == new_id;
		}
		m.moved += here;
		if (here > m.per_pos_max)
			m.per_pos_max = here;
	}
	return m;
}

/*
 * Adds OSD n to n equal OSDs (hosts of per_host, the new one on a new host
 * or joining host 0) and checks the moved positions against the ideal
 * PGS * WIDTH / (n + 1) (the new OSD's fair share).
 */
static void check_add(unsigned n, unsigned per_host, bool new_host)
{
	struct placement_osd o[64];
	uint32_t *a = alloc_sets(PGS, WIDTH), *b = alloc_sets(PGS, WIDTH);
	double ideal = (double)PGS * WIDTH / (n + 1);
	struct moves m;

	make_osds(o, n + 1, per_host, 0x10000);
	o[n].host = new_host ? 9999 : 500;
	place_all(1, o, n, WIDTH, PGS, WIDTH, a);
	place_all(1, o, n + 1, WIDTH, PGS, WIDTH, b);
	m = count_moves(a, b, o[n].id);
	print_message("add to %u (hosts of %u, %s host): moved %.2f x ideal (worst position "
		      "%.2f x), %.2f x to the new OSD\n",
		      n, per_host, new_host ? "new" : "joins a", m.moved / ideal,
		      m.per_pos_max / (ideal / WIDTH), m.to_new / ideal);
	assert_true(m.moved <= 1.6 * ideal);
	assert_true(m.per_pos_max <= 2.0 * ideal / WIDTH);
	if (new_host && per_host == 1) { /* unconstrained: the new OSD gets its share */
		assert_true(m.to_new >= 0.9 * ideal);
		assert_true(m.to_new <= 1.1 * ideal);
	}
	free(a);
	free(b);
}

static void test_add_osd(void **state)
{
	(void)state;
	for (unsigned n = 12; n <= 48; n *= 2) {
		check_add(n, 1, true);
		check_add(n, 2, false);
		check_add(n, 4, false);
	}
}

/* Marks OSD `x` of n out; only its positions and a few others may move. */
static void check_out(unsigned n, unsigned per_host, unsigned x)
{
	struct placement_osd o[64], p[64];
	uint32_t *a = alloc_sets(PGS, WIDTH), *b = alloc_sets(PGS, WIDTH);
	uint32_t *c = alloc_sets(PGS, WIDTH);
	uint64_t on_x = 0, others = 0;

	make_osds(o, n, per_host, 0x10000);
	place_all(1, o, n, WIDTH, PGS, WIDTH, a);
	o[x].weight = 0;
	place_all(1, o, n, WIDTH, PGS, WIDTH, b);
	for (size_t i = 0; i < (size_t)PGS * WIDTH; i++) {
		assert_int_not_equal(b[i], o[x].id);
		if (a[i] == o[x].id)
			on_x++;
		else
			others += a[i] != b[i];
	}
	print_message("out 1 of %u (hosts of %u): %.3f other positions moved per lost one\n", n,
		      per_host, (double)others / on_x);
	assert_true(on_x >= 0.8 * PGS * WIDTH / n);
	assert_true(others <= 0.6 * on_x);

	/* out is the same as absent */
	memcpy(p, o, sizeof(o));
	p[x] = p[n - 1];
	place_all(1, p, n - 1, WIDTH, PGS, WIDTH, c);
	assert_memory_equal(b, c, (size_t)PGS * WIDTH * sizeof(*b));
	free(a);
	free(b);
	free(c);
}

static void test_out_osd(void **state)
{
	(void)state;
	check_out(12, 1, 5);
	check_out(24, 2, 0);
	check_out(48, 4, 17);
}

static void test_down_keeps_positions(void **state)
{
	struct placement_osd o[24];
	uint32_t a[WIDTH], b[WIDTH];
	bool ua[WIDTH], ub[WIDTH];

	(void)state;
	make_osds(o, 24, 2, 0x10000);
	for (uint32_t pg = 0; pg < PGS; pg++) {
		for (unsigned i = 0; i < 24; i++)
			o[i].up = true;
		assert_int_equal(placement_acting_up(3, pg, o, 24, WIDTH, a, ua), WIDTH);
		for (unsigned i = 0; i < 24; i += 4)
			o[i].up = false;
		assert_int_equal(placement_acting_up(3, pg, o, 24, WIDTH, b, ub), WIDTH);
		assert_memory_equal(a, b, sizeof(a));
		for (unsigned r = 0; r < WIDTH; r++) {
			assert_true(ua[r]);
			assert_int_equal(ub[r], (b[r] - osd_id(0)) / 3 % 4 != 0);
		}
	}
}

/* ---- weights and balance ---- */

static void count_positions(const struct placement_osd *o, unsigned n, unsigned width,
			    uint32_t pgs, uint32_t *count, uint32_t *primary)
{
	uint32_t out[PLACEMENT_MAX_WIDTH];

	for (uint32_t pg = 0; pg < pgs; pg++) {
		assert_int_equal(placement_acting_set(9, pg, o, n, width, out), (int)width);
		for (unsigned r = 0; r < width; r++) {
			unsigned i = (out[r] - osd_id(0)) / 3;

			count[i]++;
			if (r == 0 && primary)
				primary[i]++;
		}
	}
}

static void test_weights_single(void **state)
{
	/* width 1: OSD i wins with probability w_i / sum w, exactly */
	struct placement_osd o[8];
	uint32_t count[8] = {0};
	uint32_t pgs = 1u << 16;
	double chi = 0;

	(void)state;
	make_osds(o, 8, 1, 0);
	for (unsigned i = 0; i < 8; i++)
		o[i].weight = (i + 1) * 1000003u;
	count_positions(o, 8, 1, pgs, count, NULL);
	for (unsigned i = 0; i < 8; i++) {
		double expect = (double)pgs * (i + 1) / 36;

		chi += (count[i] - expect) * (count[i] - expect) / expect;
	}
	print_message("width 1, weights 1..8: chi-square %.2f (7 dof)\n", chi);
	assert_true(chi < 30);
}

static void test_weights_double(void **state)
{
	struct placement_osd o[96];
	uint32_t count[96] = {0};
	uint32_t pgs = 4 * PGS;
	double light = 0, heavy = 0;

	(void)state;
	/* one OSD of double weight among 96 */
	make_osds(o, 96, 1, 0x10000);
	o[0].weight = 0x20000;
	count_positions(o, 96, WIDTH, pgs, count, NULL);
	for (unsigned i = 1; i < 96; i++)
		light += count[i];
	light /= 95;
	print_message("one double OSD of 96: %.3f x\n", count[0] / light);
	assert_true(count[0] >= 1.8 * light && count[0] <= 2.2 * light);

	/* a quarter of 48 OSDs (hosts of 4) double */
	memset(count, 0, sizeof(count));
	make_osds(o, 48, 4, 0x10000);
	for (unsigned i = 0; i < 48; i += 4)
		o[i].weight = 0x20000;
	count_positions(o, 48, WIDTH, pgs, count, NULL);
	light = 0;
	for (unsigned i = 0; i < 48; i++) {
		if (i % 4)
			light += count[i];
		else
			heavy += count[i];
	}
	light /= 36;
	heavy /= 12;
	print_message("12 double OSDs of 48: %.3f x\n", heavy / light);
	assert_true(heavy >= 1.8 * light && heavy <= 2.2 * light);
}

static void test_balance(void **state)
{
	struct placement_osd o[24];
	uint32_t count[24] = {0}, primary[24] = {0};
	double mean = (double)PGS * WIDTH / 24, chi;

	(void)state;
	make_osds(o, 24, 2, 0x10000);
	count_positions(o, 24, WIDTH, PGS, count, primary);
	for (unsigned i = 0; i < 24; i++) {
		assert_true(count[i] >= 0.85 * mean);
		assert_true(count[i] <= 1.15 * mean);
	}
	chi = chi_square(primary, 24, PGS);
	print_message("primaries over 24 OSDs: chi-square %.2f (23 dof)\n", chi);
	assert_true(chi < 60);
}

/* A big cluster: invariants hold and the cost stays reasonable. */
static void test_large(void **state)
{
	struct placement_osd *o = calloc(MAX_OSDS, sizeof(*o));
	uint32_t out[12];
	bool up[12];

	(void)state;
	assert_non_null(o);
	make_osds(o, MAX_OSDS, 8, 0);
	for (unsigned i = 0; i < MAX_OSDS; i++)
		o[i].weight = 1000 + (uint32_t)(rnd() % 9000);
	for (uint32_t pg = 0; pg < 64; pg++) {
		int ret = placement_acting_up(2, pg, o, MAX_OSDS, 12, out, up);

		check_set(o, MAX_OSDS, 12, out, up, ret);
		assert_int_equal(ret, 12);
	}
	free(o);
}

/* ---- table ---- */

static void test_table(void **state)
{
	struct placement_osd o[12];
	struct placement_table *t;
	const uint32_t *ids;
	const bool *up;

	(void)state;
	make_osds(o, 12, 3, 0x10000);
	o[3].up = false;
	o[7].weight = 0;
	t = placement_table_new(4, 256, WIDTH, o, 12);
	assert_non_null(t);
	assert_int_equal(placement_table_pg_count(t), 256);
	assert_int_equal(placement_table_width(t), WIDTH);
	for (uint32_t pg = 0; pg < 256; pg++) {
		uint32_t out[WIDTH];
		bool u[WIDTH];
		int ret = placement_acting_up(4, pg, o, 12, WIDTH, out, u);

		assert_int_equal(placement_table_get(t, pg, &ids, &up), ret);
		assert_memory_equal(ids, out, sizeof(out));
		assert_memory_equal(up, u, sizeof(u));
		assert_int_equal(placement_table_get(t, pg, &ids, NULL), ret);
	}
	assert_int_equal(placement_table_get(t, 256, &ids, &up), -ERANGE);
	assert_int_equal(placement_table_get(t, 0, NULL, &up), -EINVAL);
	assert_int_equal(placement_table_get(NULL, 0, &ids, &up), -EINVAL);
	placement_table_free(t);
	placement_table_free(NULL);
	assert_int_equal(placement_table_pg_count(NULL), 0);
	assert_int_equal(placement_table_width(NULL), 0);

	assert_null(placement_table_new(4, 0, WIDTH, o, 12));
	assert_null(placement_table_new(4, PLACEMENT_MAX_PGS + 1, WIDTH, o, 12));
	assert_null(placement_table_new(4, 16, 0, o, 12));
	assert_null(placement_table_new(4, 16, PLACEMENT_MAX_WIDTH + 1, o, 12));
	assert_null(placement_table_new(4, 16, WIDTH, NULL, 12));
	o[2].id = PLACEMENT_NONE;
	assert_null(placement_table_new(4, 16, WIDTH, o, 12));
}

struct thread_arg {
	const struct placement_osd *osds;
	const struct placement_table *t;
	unsigned mismatches;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	for (uint32_t pg = 0; pg < 512; pg++) {
		uint32_t out[WIDTH];
		const uint32_t *ids;
		int ret = placement_acting_set(5, pg, a->osds, 16, WIDTH, out);

		if (placement_table_get(a->t, pg, &ids, NULL) != ret ||
		    memcmp(ids, out, sizeof(out)) != 0)
			a->mismatches++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct placement_osd o[16];
	struct thread_arg arg[4];
	pthread_t th[4];
	struct placement_table *t;

	(void)state;
	make_osds(o, 16, 2, 0x10000);
	t = placement_table_new(5, 512, WIDTH, o, 16);
	assert_non_null(t);
	for (int i = 0; i < 4; i++) {
		arg[i] = (struct thread_arg){.osds = o, .t = t};
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &arg[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(arg[i].mismatches, 0);
	}
	placement_table_free(t);
}

/* ---- bad arguments ---- */

static void test_bad_args(void **state)
{
	struct placement_osd o[4];
	uint32_t out[PLACEMENT_MAX_WIDTH + 1];
	bool up[WIDTH];

	(void)state;
	make_osds(o, 4, 1, 0x10000);
	assert_int_equal(placement_acting_set(1, 0, o, 4, 0, out), -EINVAL);
	assert_int_equal(placement_acting_set(1, 0, o, 4, PLACEMENT_MAX_WIDTH + 1, out), -EINVAL);
	assert_int_equal(placement_acting_set(1, 0, o, 4, WIDTH, NULL), -EINVAL);
	assert_int_equal(placement_acting_set(1, 0, NULL, 4, WIDTH, out), -EINVAL);
	assert_int_equal(placement_acting_set(1, 0, o, (size_t)PLACEMENT_MAX_OSDS + 1, WIDTH, out),
			 -EINVAL);
	assert_int_equal(placement_acting_up(1, 0, o, 4, 0, out, up), -EINVAL);

	/* an id that is PLACEMENT_NONE, even on an out OSD */
	o[3].id = PLACEMENT_NONE;
	o[3].weight = 0;
	memset(out, 0, sizeof(out));
	memset(up, 1, sizeof(up));
	assert_int_equal(placement_acting_up(1, 0, o, 4, WIDTH, out, up), -EINVAL);
	for (unsigned r = 0; r < WIDTH; r++) {
		assert_int_equal(out[r], PLACEMENT_NONE);
		assert_false(up[r]);
	}

	/* duplicate ids that the set would hold twice */
	make_osds(o, 4, 1, 0x10000);
	o[1].id = o[0].id;
	assert_int_equal(placement_acting_set(1, 0, o, 4, 4, out), -EINVAL);
	for (unsigned r = 0; r < 4; r++)
		assert_int_equal(out[r], PLACEMENT_NONE);
}

int main(void)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x9ace5eedull;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_pinned),
		cmocka_unit_test(test_pg_spread),
		cmocka_unit_test(test_pg_split),
		cmocka_unit_test(test_acting_pinned),
		cmocka_unit_test(test_pinned_digests),
		cmocka_unit_test(test_random_maps),
		cmocka_unit_test(test_failure_domains),
		cmocka_unit_test(test_partial_fill),
		cmocka_unit_test(test_add_osd),
		cmocka_unit_test(test_out_osd),
		cmocka_unit_test(test_down_keeps_positions),
		cmocka_unit_test(test_weights_single),
		cmocka_unit_test(test_weights_double),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_args),
	};

	printf("test_placement: seed 0x%llx (set CAIRN_TEST_SEED to repeat)\n",
	       (unsigned long long)seed);
	rng_state = seed;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
