/*
 * test_compress.c - zstd helpers: round trips (compressible, random, empty,
 * several levels), exact bounds on both sides (-ENOSPC, -EFBIG, no byte
 * written past the capacity), and hostile input: every truncation, many
 * single bit flips, garbage, trailing bytes, frames without checksum,
 * skippable frames.  Threads compress and decompress at once, each with its
 * own contexts.
 *
 * Buffers are allocated at their exact capacity so AddressSanitizer sees any
 * overflow; guard bytes catch it in plain builds.  Random data comes from a
 * seeded generator; the seed is printed and can be set with CAIRN_TEST_SEED.
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

#include "common/compress.h"
#include "common/error.h"

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

static void fill_random(uint64_t *seed, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rng_next(seed);
}

/* Text-like data: words from a small vocabulary, compresses well. */
static void fill_text(uint64_t *seed, uint8_t *buf, size_t len)
{
	static const char *const words[] = {"stripe ", "chunk ", "parity ", "osd ",
					    "cairn ", "shard ", "epoch ", "inode "};
	size_t i = 0;

	while (i < len) {
		const char *w = words[rng_next(seed) % 8];

		for (size_t j = 0; w[j] && i < len; j++)
			buf[i++] = (uint8_t)w[j];
	}
}

static uint8_t *xmalloc(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	return p;
}

/* Compresses src into a fresh buffer of compress_bound() bytes. */
static uint8_t *compress_alloc(const uint8_t *src, size_t len, int level, size_t *frame_len)
{
	size_t cap = compress_bound(len);
	uint8_t *frame = xmalloc(cap);

	assert_true(cap > 0);
	assert_int_equal(compress_zstd(frame, cap, src, len, level, frame_len), 0);
	assert_true(*frame_len <= cap);
	return frame;
}

/* Decompresses into a buffer of exactly `len` bytes and compares. */
static void assert_round_trip(const uint8_t *frame, size_t frame_len, const uint8_t *orig,
			      size_t len)
{
	uint8_t *out = xmalloc(len);
	size_t out_len = (size_t)-1;

	assert_int_equal(decompress_zstd(out, len, frame, frame_len, &out_len), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, orig, len);
	free(out);
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 4096, 65536 + 13, 1 << 20};
	const int levels[] = {compress_level_min(), -5, 0, 1, 3, 9};

	(void)state;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t len = sizes[si], flen;
		uint8_t *text = xmalloc(len), *noise = xmalloc(len), *frame;

		fill_text(&rng_state, text, len);
		fill_random(&rng_state, noise, len);
		for (size_t li = 0; li < sizeof(levels) / sizeof(levels[0]); li++) {
			frame = compress_alloc(text, len, levels[li], &flen);
			if (len >= 4096 && levels[li] >= 0)
				assert_true(flen < len / 3);
			assert_round_trip(frame, flen, text, len);
			free(frame);

			frame = compress_alloc(noise, len, levels[li], &flen);
			assert_round_trip(frame, flen, noise, len);
			free(frame);
		}
		free(text);
		free(noise);
	}
}

static void test_high_level(void **state)
{
	const size_t len = 65536;
	uint8_t *text = xmalloc(len), *frame;
	size_t flen;

	(void)state;
	fill_text(&rng_state, text, len);
	frame = compress_alloc(text, len, compress_level_max(), &flen);
	assert_round_trip(frame, flen, text, len);
	free(frame);
	free(text);
}

/* Empty input: a real frame of empty content, decodable into no buffer. */
static void test_empty(void **state)
{
	uint8_t frame[64];
	size_t flen = 0, out_len = 99;

	(void)state;
	assert_true(compress_bound(0) > 0);
	assert_int_equal(compress_zstd(frame, sizeof(frame), NULL, 0, 3, &flen), 0);
	assert_true(flen > 0);
	assert_int_equal(decompress_zstd(NULL, 0, frame, flen, &out_len), 0);
	assert_int_equal(out_len, 0);
	/* An empty input is not a frame. */
	assert_int_equal(decompress_zstd(NULL, 0, frame, 0, &out_len), -CAIRN_EBADFRAME);
	assert_int_equal(decompress_zstd(NULL, 0, NULL, 0, &out_len), -CAIRN_EBADFRAME);
}

/* Incompressible data in a buffer of its own size must not fit. */
static void test_dst_too_small(void **state)
{
	const size_t len = 4096, guard = 64;
	uint8_t *noise = xmalloc(len), *text = xmalloc(len), *dst = xmalloc(len + guard);
	size_t flen = 0, exact;

	(void)state;
	fill_random(&rng_state, noise, len);
	fill_text(&rng_state, text, len);

	memset(dst, 0xee, len + guard);
	assert_int_equal(compress_zstd(dst, len, noise, len, 3, &flen), -ENOSPC);
	for (size_t i = len; i < len + guard; i++)
		assert_int_equal(dst[i], 0xee);

	memset(dst, 0xee, len + guard);
	assert_int_equal(compress_zstd(dst, 10, text, len, 3, &flen), -ENOSPC);
	for (size_t i = 10; i < len + guard; i++)
		assert_int_equal(dst[i], 0xee);
	assert_int_equal(compress_zstd(NULL, 0, text, len, 3, &flen), -ENOSPC);

	/* The exact frame size fits; one byte less does not. */
	assert_int_equal(compress_zstd(dst, len + guard, text, len, 3, &exact), 0);
	assert_int_equal(compress_zstd(dst, exact, text, len, 3, &flen), 0);
	assert_int_equal(flen, exact);
	assert_int_equal(compress_zstd(dst, exact - 1, text, len, 3, &flen), -ENOSPC);

	/* compress_bound() is always enough. */
	free(dst);
	dst = xmalloc(compress_bound(len));
	assert_int_equal(compress_zstd(dst, compress_bound(len), noise, len, 19, &flen), 0);
	free(dst);
	free(noise);
	free(text);
}

static void test_decompress_too_small(void **state)
{
	const size_t len = 4096, guard = 64;
	uint8_t *text = xmalloc(len), *out = xmalloc(len + guard), *frame;
	size_t flen, out_len = 7;

	(void)state;
	fill_text(&rng_state, text, len);
	frame = compress_alloc(text, len, 3, &flen);
	memset(out, 0xee, len + guard);
	assert_int_equal(decompress_zstd(out, len - 1, frame, flen, &out_len), -EFBIG);
	assert_int_equal(decompress_zstd(out, 1, frame, flen, &out_len), -EFBIG);
	assert_int_equal(decompress_zstd(NULL, 0, frame, flen, &out_len), -EFBIG);
	assert_int_equal(out_len, 7);
	for (size_t i = len - 1; i < len + guard; i++)
		assert_int_equal(out[i], 0xee);
	/* A larger buffer is fine. */
	assert_int_equal(decompress_zstd(out, len + guard, frame, flen, &out_len), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, text, len);
	free(frame);
	free(out);
	free(text);
}

/*
 * A frame made by the zstd command line tool from a pipe: no content size
 * in the header, XXH64 checksum.  Its content is "cairn 001 " ..
 * "cairn 100 " (1,000 bytes).  Only the produced size can be checked.
 */
static const uint8_t frame_unknown_size[] = {
	0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x55, 0x03, 0x00, 0x92, 0x87, 0x12, 0x11, 0xd0,
	0x65, 0x38, 0x20, 0x86, 0x64, 0x60, 0x1e, 0x29, 0xa5, 0x94, 0x29, 0x25, 0xea, 0x80,
	0x08, 0x01, 0xc2, 0xc6, 0xa2, 0x91, 0xb8, 0xcb, 0x55, 0xd1, 0x48, 0xdc, 0xe5, 0xa8,
	0x68, 0x24, 0xee, 0x72, 0x53, 0x34, 0x12, 0x77, 0x39, 0x29, 0x1a, 0x89, 0xbb, 0x5c,
	0x14, 0x8d, 0xc4, 0x5d, 0xee, 0x45, 0x23, 0x71, 0x97, 0x73, 0xd1, 0x48, 0xdc, 0xe5,
	0x5a, 0x34, 0x12, 0x77, 0x39, 0x16, 0x8d, 0xc4, 0x5d, 0x81, 0x9b, 0x20, 0x18, 0x04,
	0x06, 0x40, 0x63, 0xa8, 0x10, 0xe8, 0xee, 0x19, 0xe0, 0xd7, 0x10, 0x46, 0x90, 0x0f,
	0x85, 0xab, 0x71, 0xdd, 0x37, 0x52, 0x73, 0xad, 0x6f, 0x52, 0xe3, 0xba, 0xd7, 0xaf,
	0x75, 0x29, 0x05, 0x5f, 0x40, 0x99, 0x25,
};

static void test_unknown_content_size(void **state)
{
	char expect[1001];
	uint8_t *out = xmalloc(1000), *small = xmalloc(999);
	size_t out_len = 0;

	(void)state;
	for (int i = 1; i <= 100; i++)
		snprintf(expect + (i - 1) * 10, 11, "cairn %03d ", i);
	assert_int_equal(decompress_zstd(out, 1000, frame_unknown_size,
					 sizeof(frame_unknown_size), &out_len),
			 0);
	assert_int_equal(out_len, 1000);
	assert_memory_equal(out, expect, 1000);
	/* The header cannot tell; decoding finds out, and stops at 999. */
	assert_int_equal(decompress_zstd(small, 999, frame_unknown_size,
					 sizeof(frame_unknown_size), &out_len),
			 -EFBIG);
	free(out);
	free(small);
}

static void test_truncated(void **state)
{
	const size_t len = 20000;
	uint8_t *text = xmalloc(len), *out = xmalloc(len), *frame, *cut;
	size_t flen, out_len;

	(void)state;
	fill_text(&rng_state, text, len);
	frame = compress_alloc(text, len, 3, &flen);
	for (size_t n = 0; n < flen; n++) {
		/* A copy of exactly n bytes, so reading past it is caught. */
		cut = xmalloc(n);
		memcpy(cut, frame, n);
		assert_int_equal(decompress_zstd(out, len, cut, n, &out_len), -CAIRN_EBADFRAME);
		free(cut);
	}
	free(frame);
	free(out);
	free(text);
}

/*
 * Flips one bit at a time (`flips` random bits, or every bit when 0) and
 * decodes into a buffer of exactly len bytes: each must give an error or
 * the exact original.
 */
static void check_flips(const uint8_t *orig, size_t len, int level, unsigned flips)
{
	uint8_t *frame, *out = xmalloc(len);
	size_t flen, out_len, total;
	size_t errors = 0;

	frame = compress_alloc(orig, len, level, &flen);
	total = flips ? flips : flen * 8;
	for (size_t f = 0; f < total; f++) {
		size_t bit = flips ? rnd() % (flen * 8) : f;
		int rc;

		frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = decompress_zstd(out, len, frame, flen, &out_len);
		frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == 0) {
			assert_int_equal(out_len, len);
			assert_memory_equal(out, orig, len);
		} else {
			if (rc != -CAIRN_EBADFRAME && rc != -EFBIG)
				fail_msg("bit %zu: unexpected %d", bit, rc);
			errors++;
		}
	}
	/* Damage is detected, not just survived. */
	assert_true(errors >= total * 9 / 10);
	assert_round_trip(frame, flen, orig, len);
	free(frame);
	free(out);
}

static void test_bit_flips(void **state)
{
	const size_t len = 30000;
	uint8_t *text = xmalloc(len), *noise = xmalloc(len);

	(void)state;
	fill_text(&rng_state, text, len);
	fill_random(&rng_state, noise, len);
	check_flips(text, 3000, 3, 0);
	check_flips(noise, 100, 3, 0);
	check_flips(text, len, 1, 3000);
	check_flips(text, len, 19, 1000);
	/* Raw blocks: only the checksum can tell. */
	check_flips(noise, len, 3, 3000);
	free(text);
	free(noise);
}

static void test_garbage(void **state)
{
	uint8_t junk[512], out[4096];
	size_t out_len;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + rnd() % sizeof(junk);
		int rc;

		fill_random(&rng_state, junk, n);
		if (round & 1) {
			/* zstd magic and checksum flag, random after that */
			memcpy(junk, "\x28\xb5\x2f\xfd", n < 4 ? n : 4);
			if (n > 4)
				junk[4] |= 0x04;
		}
		rc = decompress_zstd(out, sizeof(out), junk, n, &out_len);
		if (rc != -CAIRN_EBADFRAME && rc != -EFBIG)
			fail_msg("round %d: garbage of %zu bytes gave %d", round, n, rc);
	}
	assert_int_equal(decompress_zstd(out, sizeof(out), "hello, world", 12, &out_len),
			 -CAIRN_EBADFRAME);
}

static void test_trailing_and_foreign_frames(void **state)
{
	const size_t len = 5000;
	uint8_t *text = xmalloc(len), *out = xmalloc(len), *frame, *two;
	size_t flen, out_len;
	/* A skippable frame (magic 0x184D2A50) of 4 bytes. */
	static const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};

	(void)state;
	fill_text(&rng_state, text, len);
	frame = compress_alloc(text, len, 3, &flen);
	two = xmalloc(2 * flen + 1);
	memcpy(two, frame, flen);
	two[flen] = 0;
	assert_int_equal(decompress_zstd(out, len, two, flen + 1, &out_len), -CAIRN_EBADFRAME);
	memcpy(two + flen, frame, flen);
	assert_int_equal(decompress_zstd(out, len, two, 2 * flen, &out_len), -CAIRN_EBADFRAME);
	memcpy(two + flen, skippable, sizeof(skippable));
	assert_int_equal(decompress_zstd(out, len, two, flen + sizeof(skippable), &out_len),
			 -CAIRN_EBADFRAME);
	assert_int_equal(decompress_zstd(out, len, skippable, sizeof(skippable), &out_len),
			 -CAIRN_EBADFRAME);

	/* The same frame without its checksum is valid zstd, but not ours. */
	memcpy(two, frame, flen);
	two[4] &= (uint8_t)~0x04;
	assert_int_equal(decompress_zstd(out, len, two, flen - 4, &out_len), -CAIRN_EBADFRAME);

	assert_round_trip(frame, flen, text, len);
	free(two);
	free(frame);
	free(out);
	free(text);
}

static void test_bad_args(void **state)
{
	uint8_t src[16] = {0}, dst[128];
	size_t out_len;

	(void)state;
	assert_true(compress_level_min() < 0);
	assert_int_equal(compress_level_max(), 22);
	assert_int_equal(compress_zstd(dst, sizeof(dst), src, 16, compress_level_max() + 1,
				       &out_len),
			 -EINVAL);
	assert_int_equal(compress_zstd(dst, sizeof(dst), src, 16, compress_level_min() - 1,
				       &out_len),
			 -EINVAL);
	assert_int_equal(compress_zstd(dst, sizeof(dst), src, 16, 3, NULL), -EINVAL);
	assert_int_equal(compress_zstd(dst, sizeof(dst), NULL, 16, 3, &out_len), -EINVAL);
	assert_int_equal(compress_zstd(NULL, sizeof(dst), src, 16, 3, &out_len), -EINVAL);
	assert_int_equal(compress_zstd(dst, sizeof(dst), src, SIZE_MAX, 3, &out_len), -EINVAL);
	assert_int_equal(compress_bound(SIZE_MAX), 0);

	assert_int_equal(compress_zstd(dst, sizeof(dst), src, 16, 3, &out_len), 0);
	assert_int_equal(decompress_zstd(src, 16, dst, out_len, NULL), -EINVAL);
	assert_int_equal(decompress_zstd(src, 16, NULL, out_len, &out_len), -EINVAL);
	assert_int_equal(decompress_zstd(NULL, 16, dst, out_len, &out_len), -EINVAL);
}

/* --- threads ----------------------------------------------------------- */

struct thread_arg {
	uint64_t seed;
	int level;
	int failures;
};

static void *compress_thread(void *p)
{
	struct thread_arg *a = p;
	const size_t max = 100000;
	uint8_t *src = malloc(max), *frame = malloc(compress_bound(max)), *out = malloc(max);

	if (!src || !frame || !out)
		abort();
	for (int round = 0; round < 40; round++) {
		size_t len = rng_next(&a->seed) % max, flen, out_len;

		if (round & 1)
			fill_text(&a->seed, src, len);
		else
			fill_random(&a->seed, src, len);
		if (compress_zstd(frame, compress_bound(max), src, len, a->level, &flen) != 0 ||
		    decompress_zstd(out, max, frame, flen, &out_len) != 0 || out_len != len ||
		    memcmp(out, src, len) != 0)
			a->failures++;
	}
	free(src);
	free(frame);
	free(out);
	/* Contexts are left for the thread-exit destructor to free. */
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t tid[4];
	struct thread_arg arg[4];

	(void)state;
	for (int t = 0; t < 4; t++) {
		arg[t] = (struct thread_arg){.seed = rnd(), .level = 1 + 3 * t, .failures = 0};
		assert_int_equal(pthread_create(&tid[t], NULL, compress_thread, &arg[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		assert_int_equal(pthread_join(tid[t], NULL), 0);
		assert_int_equal(arg[t].failures, 0);
	}
}

/* Explicit cleanup, then use again: contexts come back. */
static void test_thread_cleanup(void **state)
{
	uint8_t src[1000], frame[1100], out[1000];
	size_t flen, out_len;

	(void)state;
	fill_text(&rng_state, src, sizeof(src));
	compress_thread_cleanup();
	compress_thread_cleanup();
	assert_int_equal(compress_zstd(frame, sizeof(frame), src, sizeof(src), 3, &flen), 0);
	compress_thread_cleanup();
	assert_int_equal(decompress_zstd(out, sizeof(out), frame, flen, &out_len), 0);
	assert_memory_equal(out, src, sizeof(src));
	/* The main thread's contexts are left for the atexit handler. */
}

int main(void)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0xc0ffee5eedull;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_high_level),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_dst_too_small),
		cmocka_unit_test(test_decompress_too_small),
		cmocka_unit_test(test_unknown_content_size),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_trailing_and_foreign_frames),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_thread_cleanup),
	};

	printf("test_compress: seed 0x%llx (set CAIRN_TEST_SEED to repeat)\n",
	       (unsigned long long)seed);
	rng_state = seed;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
