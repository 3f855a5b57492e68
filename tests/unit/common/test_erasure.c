/*
 * test_erasure.c - erasure coding: for several schemes and lengths, every
 * pattern of up to m lost chunks is rebuilt byte for byte and every pattern
 * of m + 1 losses fails with -EIO; parity matches an independent GF(2^8)
 * computation of the Cauchy code; incremental parity updates (whole chunk and
 * sub-range) equal a full re-encode; one handle serves several threads;
 * bad arguments are rejected.
 *
 * Random data comes from a seeded generator; the seed is printed and can be
 * set with CAIRN_TEST_SEED.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/erasure.h"

static uint64_t rng_state;

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	return rng_next(&rng_state);
}

static void fill_random(uint8_t *buf, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v = rnd();

		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = (uint8_t)rnd();
}

struct scheme {
	unsigned k, m;
};

static const struct scheme schemes[] = {
	{4, 2}, {8, 3}, {1, 2}, {1, 0}, {2, 1},
};

static const size_t lengths[] = {1, 4096, 65536 + 13};

/* A stripe: n = k + m chunks of len bytes, data then parity. */
struct stripe {
	unsigned k, m, n;
	size_t len;
	uint8_t *chunk[ERASURE_MAX_CHUNKS];
};

static void stripe_alloc(struct stripe *s, unsigned k, unsigned m, size_t len)
{
	s->k = k;
	s->m = m;
	s->n = k + m;
	s->len = len;
	for (unsigned i = 0; i < s->n; i++) {
		s->chunk[i] = malloc(len ? len : 1);
		assert_non_null(s->chunk[i]);
	}
}

static void stripe_free(struct stripe *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->chunk[i]);
}

static void stripe_copy(struct stripe *dst, const struct stripe *src)
{
	for (unsigned i = 0; i < src->n; i++)
		memcpy(dst->chunk[i], src->chunk[i], src->len);
}

static void stripe_assert_equal(const struct stripe *a, const struct stripe *b)
{
	for (unsigned i = 0; i < a->n; i++)
		assert_memory_equal(a->chunk[i], b->chunk[i], a->len);
}

/* Random data chunks and their parity. */
static void stripe_encode_random(const struct erasure *ec, struct stripe *s)
{
	for (unsigned i = 0; i < s->k; i++)
		fill_random(s->chunk[i], s->len);
	assert_int_equal(erasure_encode(ec, (const uint8_t *const *)s->chunk, s->chunk + s->k,
					s->len),
			 0);
}

/* --- independent reference: GF(2^8) with polynomial 0x11d -------------- */

static uint8_t ref_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;

	while (b) {
		if (b & 1)
			p ^= a;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1d : 0));
		b >>= 1;
	}
	return p;
}

static uint8_t ref_inv(uint8_t a)
{
	for (unsigned x = 1; x < 256; x++)
		if (ref_mul(a, (uint8_t)x) == 1)
			return (uint8_t)x;
	fail_msg("no inverse for %u", a);
	return 0;
}

/* Parity row p of the Cauchy code: coefficient 1 / ((k + p) ^ i) for data i. */
static void test_parity_matches_reference(void **state)
{
	const size_t len = 4096 + 5;

	(void)state;
	for (size_t si = 0; si < sizeof(schemes) / sizeof(schemes[0]); si++) {
		unsigned k = schemes[si].k, m = schemes[si].m;
		struct erasure *ec = erasure_new(k, m);
		struct stripe s;

		assert_non_null(ec);
		stripe_alloc(&s, k, m, len);
		stripe_encode_random(ec, &s);
		for (unsigned p = 0; p < m; p++) {
			uint8_t coef[ERASURE_MAX_K];

			for (unsigned i = 0; i < k; i++)
				coef[i] = k == 1 ? 1 : ref_inv((uint8_t)((k + p) ^ i));
			for (size_t x = 0; x < len; x++) {
				uint8_t v = 0;

				for (unsigned i = 0; i < k; i++)
					v ^= ref_mul(coef[i], s.chunk[i][x]);
				assert_int_equal(s.chunk[k + p][x], v);
			}
		}
		stripe_free(&s);
		erasure_free(ec);
	}
}

/* --- every erasure pattern --------------------------------------------- */

/*
 * Loses the chunks in `mask` (fills them with garbage) and decodes.  Up to m
 * losses must rebuild `orig` exactly; m + 1 must fail with -EIO without
 * writing anything.  Leaves `work` equal to `orig`.
 */
static void check_pattern(const struct erasure *ec, const struct stripe *orig,
			  struct stripe *work, struct stripe *snap, uint64_t mask, unsigned lost)
{
	bool present[ERASURE_MAX_CHUNKS];
	int rc;

	for (unsigned i = 0; i < orig->n; i++) {
		present[i] = !(mask & (1ull << i));
		if (!present[i])
			fill_random(work->chunk[i], orig->len);
	}
	if (lost > orig->m) {
		stripe_copy(snap, work);
		rc = erasure_decode(ec, work->chunk, present, orig->len);
		assert_int_equal(rc, -EIO);
		/* Nothing was written: lost chunks still hold their garbage. */
		stripe_assert_equal(work, snap);
		stripe_copy(work, orig);
		return;
	}
	rc = erasure_decode(ec, work->chunk, present, orig->len);
	assert_int_equal(rc, 0);
	stripe_assert_equal(work, orig);
}

static void check_all_patterns(unsigned k, unsigned m, size_t len)
{
	struct erasure *ec = erasure_new(k, m);
	struct stripe orig, work, snap;
	unsigned n = k + m, tried = 0, expect = 0, c = 1;

	assert_non_null(ec);
	assert_int_equal(erasure_k(ec), k);
	assert_int_equal(erasure_m(ec), m);
	stripe_alloc(&orig, k, m, len);
	stripe_alloc(&work, k, m, len);
	stripe_alloc(&snap, k, m, len);
	stripe_encode_random(ec, &orig);
	stripe_copy(&work, &orig);

	for (uint64_t mask = 0; mask < (1ull << n); mask++) {
		unsigned lost = (unsigned)__builtin_popcountll(mask);

		if (lost > m + 1)
			continue;
		check_pattern(ec, &orig, &work, &snap, mask, lost);
		tried++;
	}
	/* every subset was tried: sum of C(n, j) for j = 0 .. min(m + 1, n) */
	for (unsigned j = 0; j <= m + 1 && j <= n; j++) {
		expect += c;
		c = c * (n - j) / (j + 1);
	}
	assert_int_equal(tried, expect);
	stripe_free(&orig);
	stripe_free(&work);
	stripe_free(&snap);
	erasure_free(ec);
}

static void test_all_patterns(void **state)
{
	(void)state;
	for (size_t si = 0; si < sizeof(schemes) / sizeof(schemes[0]); si++)
		for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++)
			check_all_patterns(schemes[si].k, schemes[si].m, lengths[li]);
}

/* Small odd lengths go through ISA-L's scalar tails. */
static void test_all_patterns_short(void **state)
{
	static const size_t short_lengths[] = {0, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127};

	(void)state;
	for (size_t li = 0; li < sizeof(short_lengths) / sizeof(short_lengths[0]); li++) {
		check_all_patterns(4, 2, short_lengths[li]);
		check_all_patterns(2, 1, short_lengths[li]);
	}
}

/* The largest scheme, with random sets of exactly m losses. */
static void test_widest_scheme(void **state)
{
	const unsigned k = ERASURE_MAX_K, m = ERASURE_MAX_M, n = k + m;
	struct erasure *ec = erasure_new(k, m);
	struct stripe orig, work, snap;

	(void)state;
	assert_non_null(ec);
	stripe_alloc(&orig, k, m, 1000);
	stripe_alloc(&work, k, m, 1000);
	stripe_alloc(&snap, k, m, 1000);
	stripe_encode_random(ec, &orig);
	stripe_copy(&work, &orig);
	for (int trial = 0; trial < 40; trial++) {
		uint64_t mask = 0;
		unsigned want = trial < 30 ? m : m + 1;

		while ((unsigned)__builtin_popcountll(mask) < want)
			mask |= 1ull << (rnd() % n);
		check_pattern(ec, &orig, &work, &snap, mask, want);
	}
	stripe_free(&orig);
	stripe_free(&work);
	stripe_free(&snap);
	erasure_free(ec);
}

/* Only the byte range [off, off + len) of the lost chunks is rebuilt. */
static void test_subrange_decode(void **state)
{
	const size_t len = 8192, off = 1000, sub = 3001;
	struct erasure *ec = erasure_new(4, 2);
	struct stripe orig, work;
	uint8_t *ptr[ERASURE_MAX_CHUNKS];
	bool present[6] = {true, false, true, true, false, true};

	(void)state;
	assert_non_null(ec);
	stripe_alloc(&orig, 4, 2, len);
	stripe_alloc(&work, 4, 2, len);
	stripe_encode_random(ec, &orig);
	stripe_copy(&work, &orig);
	memset(work.chunk[1], 0xa5, len);
	memset(work.chunk[4], 0x5a, len);
	for (unsigned i = 0; i < 6; i++)
		ptr[i] = work.chunk[i] + off;
	assert_int_equal(erasure_decode(ec, ptr, present, sub), 0);
	assert_memory_equal(work.chunk[1] + off, orig.chunk[1] + off, sub);
	assert_memory_equal(work.chunk[4] + off, orig.chunk[4] + off, sub);
	assert_int_equal(work.chunk[1][off - 1], 0xa5);
	assert_int_equal(work.chunk[1][off + sub], 0xa5);
	assert_int_equal(work.chunk[4][off - 1], 0x5a);
	assert_int_equal(work.chunk[4][off + sub], 0x5a);
	stripe_free(&orig);
	stripe_free(&work);
	erasure_free(ec);
}

/* --- incremental parity update ----------------------------------------- */

/* Parity of `s` recomputed from scratch must equal its current parity. */
static void assert_parity_fresh(const struct erasure *ec, const struct stripe *s)
{
	uint8_t *fresh[ERASURE_MAX_M];

	for (unsigned j = 0; j < s->m; j++) {
		fresh[j] = malloc(s->len ? s->len : 1);
		assert_non_null(fresh[j]);
	}
	assert_int_equal(erasure_encode(ec, (const uint8_t *const *)s->chunk, fresh, s->len), 0);
	for (unsigned j = 0; j < s->m; j++) {
		assert_memory_equal(fresh[j], s->chunk[s->k + j], s->len);
		free(fresh[j]);
	}
}

static void check_update(unsigned k, unsigned m, size_t len)
{
	struct erasure *ec = erasure_new(k, m);
	struct stripe s;
	uint8_t *new_data = malloc(len);
	uint8_t *ptr[ERASURE_MAX_CHUNKS];
	size_t off, sub;

	assert_non_null(ec);
	assert_non_null(new_data);
	stripe_alloc(&s, k, m, len);
	stripe_encode_random(ec, &s);

	for (unsigned idx = 0; idx < k; idx++) {
		/* Whole chunk. */
		fill_random(new_data, len);
		assert_int_equal(erasure_update(ec, idx, s.chunk[idx], new_data, s.chunk + k, len),
				 0);
		memcpy(s.chunk[idx], new_data, len);
		assert_parity_fresh(ec, &s);

		/* Sub-range [off, off + sub): only those bytes change. */
		off = rnd() % len;
		sub = 1 + rnd() % (len - off);
		memcpy(new_data, s.chunk[idx], len);
		fill_random(new_data + off, sub);
		for (unsigned j = 0; j < m; j++)
			ptr[j] = s.chunk[k + j] + off;
		assert_int_equal(erasure_update(ec, idx, s.chunk[idx] + off, new_data + off, ptr,
						sub),
				 0);
		memcpy(s.chunk[idx], new_data, len);
		assert_parity_fresh(ec, &s);

		/* No change: parity untouched. */
		assert_int_equal(erasure_update(ec, idx, s.chunk[idx], s.chunk[idx], s.chunk + k,
						len),
				 0);
		assert_parity_fresh(ec, &s);
	}
	stripe_free(&s);
	free(new_data);
	erasure_free(ec);
}

static void test_update(void **state)
{
	static const size_t update_lengths[] = {1, 33, 4096, 65536 + 13, 200000};

	(void)state;
	for (size_t si = 0; si < sizeof(schemes) / sizeof(schemes[0]); si++)
		for (size_t li = 0; li < sizeof(update_lengths) / sizeof(update_lengths[0]); li++)
			check_update(schemes[si].k, schemes[si].m, update_lengths[li]);
	check_update(ERASURE_MAX_K, ERASURE_MAX_M, 777);
}

/* --- one handle, several threads --------------------------------------- */

struct thread_arg {
	const struct erasure *ec;
	uint64_t seed;
	int failures;
};

static void *decode_thread(void *p)
{
	struct thread_arg *a = p;
	const unsigned k = 8, m = 3, n = k + m;
	const size_t len = 20000;
	uint8_t *orig[11], *work[11];
	bool present[11];

	for (unsigned i = 0; i < n; i++) {
		orig[i] = malloc(len);
		work[i] = malloc(len);
		if (!orig[i] || !work[i])
			abort();
	}
	for (unsigned i = 0; i < k; i++)
		for (size_t x = 0; x < len; x++)
			orig[i][x] = (uint8_t)rng_next(&a->seed);
	if (erasure_encode(a->ec, (const uint8_t *const *)orig, orig + k, len) != 0)
		a->failures++;
	for (int round = 0; round < 200; round++) {
		unsigned lost = 0;

		for (unsigned i = 0; i < n; i++) {
			memcpy(work[i], orig[i], len);
			present[i] = true;
		}
		while (lost < m) {
			unsigned i = (unsigned)(rng_next(&a->seed) % n);

			if (present[i]) {
				present[i] = false;
				memset(work[i], round, len);
				lost++;
			}
		}
		if (erasure_decode(a->ec, work, present, len) != 0)
			a->failures++;
		for (unsigned i = 0; i < n; i++)
			if (memcmp(work[i], orig[i], len) != 0)
				a->failures++;
	}
	for (unsigned i = 0; i < n; i++) {
		free(orig[i]);
		free(work[i]);
	}
	return NULL;
}

static void test_shared_handle_threads(void **state)
{
	struct erasure *ec = erasure_new(8, 3);
	pthread_t tid[4];
	struct thread_arg arg[4];

	(void)state;
	assert_non_null(ec);
	for (int t = 0; t < 4; t++) {
		arg[t] = (struct thread_arg){.ec = ec, .seed = rnd(), .failures = 0};
		assert_int_equal(pthread_create(&tid[t], NULL, decode_thread, &arg[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		assert_int_equal(pthread_join(tid[t], NULL), 0);
		assert_int_equal(arg[t].failures, 0);
	}
	erasure_free(ec);
}

/* --- bad arguments ----------------------------------------------------- */

static void test_bad_args(void **state)
{
	struct erasure *ec, *rep;
	uint8_t buf[6][16] = {{0}};
	uint8_t *chunk[6] = {buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]};
	const uint8_t *data[4] = {buf[0], buf[1], buf[2], buf[3]};
	bool present[6] = {true, true, true, true, true, true};

	(void)state;
	assert_null(erasure_new(0, 2));
	assert_null(erasure_new(33, 1));
	assert_null(erasure_new(4, 17));
	assert_null(erasure_new(0, 0));
	ec = erasure_new(32, 16);
	assert_non_null(ec);
	erasure_free(ec);
	erasure_free(NULL);

	ec = erasure_new(4, 2);
	assert_non_null(ec);
	assert_int_equal(erasure_encode(NULL, data, chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_encode(ec, NULL, chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_encode(ec, data, NULL, 16), -EINVAL);
	data[2] = NULL;
	assert_int_equal(erasure_encode(ec, data, chunk + 4, 16), -EINVAL);
	data[2] = buf[2];
	chunk[5] = NULL;
	assert_int_equal(erasure_encode(ec, data, chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_decode(ec, chunk, present, 16), -EINVAL);
	assert_int_equal(erasure_update(ec, 0, buf[0], buf[0], chunk + 4, 16), -EINVAL);
	chunk[5] = buf[5];
	assert_int_equal(erasure_encode(ec, data, chunk + 4, 16), 0);

	assert_int_equal(erasure_decode(NULL, chunk, present, 16), -EINVAL);
	assert_int_equal(erasure_decode(ec, NULL, present, 16), -EINVAL);
	assert_int_equal(erasure_decode(ec, chunk, NULL, 16), -EINVAL);

	assert_int_equal(erasure_update(NULL, 0, buf[0], buf[0], chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_update(ec, 4, buf[0], buf[0], chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_update(ec, 0, NULL, buf[0], chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_update(ec, 0, buf[0], NULL, chunk + 4, 16), -EINVAL);
	assert_int_equal(erasure_update(ec, 0, buf[0], buf[0], NULL, 16), -EINVAL);
	erasure_free(ec);

	/* m == 0: parity may be NULL; nothing to rebuild from. */
	rep = erasure_new(1, 0);
	assert_non_null(rep);
	assert_int_equal(erasure_encode(rep, data, NULL, 16), 0);
	assert_int_equal(erasure_update(rep, 0, buf[0], buf[1], NULL, 16), 0);
	present[0] = false;
	assert_int_equal(erasure_decode(rep, chunk, present, 16), -EIO);
	erasure_free(rep);
}

int main(void)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eed0ecull;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parity_matches_reference),
		cmocka_unit_test(test_all_patterns),
		cmocka_unit_test(test_all_patterns_short),
		cmocka_unit_test(test_widest_scheme),
		cmocka_unit_test(test_subrange_decode),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_shared_handle_threads),
		cmocka_unit_test(test_bad_args),
	};

	printf("test_erasure: seed 0x%llx (set CAIRN_TEST_SEED to repeat)\n",
	       (unsigned long long)seed);
	rng_state = seed;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
