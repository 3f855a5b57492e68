/*
 * test_chunkfmt.c - the OSD's on-disk formats: chunk headers round-trip and
 * every single bit flipped anywhere in a header (padding included) is
 * rejected; inconsistent fixed fields are rejected by peek; block CRCs find
 * the damaged block; chunk names parse only in canonical form; superblocks
 * round-trip and report bad magic, damage and unknown versions apart.
 *
 * Random data comes from a seeded generator; the seed is printed and can be
 * set with CAIRN_TEST_SEED.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "osd/chunkfmt.h"
#include "proto/wire.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	return p;
}

static struct osd_chunkfmt_hdr sample_hdr(uint64_t length, uint64_t stored, uint16_t flags)
{
	struct osd_chunkfmt_hdr h;

	memset(&h, 0, sizeof(h)); /* padding too: headers are compared whole */
	h.pool = 3;
	h.pg = 77;
	h.ino = 0x0001000000000abcull;
	h.stripe = 12;
	h.idx = 5;
	h.flags = flags;
	h.version = 42;
	h.length = length;
	h.stored = stored;
	return h;
}

static void test_header_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 1 << 20, 4 << 20};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct osd_chunkfmt_hdr h = sample_hdr(sizes[i], sizes[i], 0), d;
		size_t hlen = osd_chunkfmt_hdr_len(sizes[i]);
		uint8_t *data = random_bytes(sizes[i]);
		uint8_t *hdr = malloc(hlen);
		uint32_t nb = osd_chunkfmt_nblocks(sizes[i]), bad = 0;

		assert_non_null(hdr);
		memset(&d, 0, sizeof(d));
		assert_int_equal(hlen % OSD_CHUNKFMT_BLOCK, 0);
		assert_true(hlen >= OSD_CHUNKFMT_FIXED + 4u * nb);
		osd_chunkfmt_encode(hdr, &h, data);
		assert_int_equal(osd_chunkfmt_decode(hdr, hlen, &d), 0);
		assert_memory_equal(&d, &h, sizeof(h));
		assert_int_equal(osd_chunkfmt_verify(hdr, &d, 0, nb, data, &bad), 0);
		/* A header cut short is rejected. */
		assert_int_equal(osd_chunkfmt_decode(hdr, hlen - 1, &d), -CAIRN_ECHECKSUM);
		if (nb > 0) {
			/* One flipped data bit names its block. */
			size_t pos = (size_t)(rnd() % sizes[i]);

			data[pos] ^= (uint8_t)(1u << (rnd() % 8));
			assert_int_equal(osd_chunkfmt_verify(hdr, &d, 0, nb, data, &bad),
					 -CAIRN_ECHECKSUM);
			assert_int_equal(bad, pos / OSD_CHUNKFMT_BLOCK);
			/* Blocks other than the damaged one still verify. */
			if (bad + 1 < nb) {
				const uint8_t *rest = data + (bad + 1) * OSD_CHUNKFMT_BLOCK;
				uint32_t left = nb - bad - 1;

				int ret = osd_chunkfmt_verify(hdr, &d, bad + 1, left, rest, &bad);

				assert_int_equal(ret, 0);
			}
		}
		/* Asking for blocks past the end is an error, not a read. */
		assert_int_equal(osd_chunkfmt_verify(hdr, &d, nb, 1, data, &bad), -CAIRN_ECHECKSUM);
		free(hdr);
		free(data);
	}
}

static void test_header_every_bit(void **state)
{
	struct osd_chunkfmt_hdr h = sample_hdr(10000, 5000, OSD_CHUNKFMT_FLAG_ZSTD), d;
	size_t hlen = osd_chunkfmt_hdr_len(5000);
	uint8_t *data = random_bytes(5000);
	uint8_t *hdr = malloc(hlen);

	(void)state;
	assert_non_null(hdr);
	osd_chunkfmt_encode(hdr, &h, data);
	assert_int_equal(osd_chunkfmt_decode(hdr, hlen, &d), 0);
	for (size_t bit = 0; bit < hlen * 8; bit++) {
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(osd_chunkfmt_decode(hdr, hlen, &d), -CAIRN_ECHECKSUM);
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(osd_chunkfmt_decode(hdr, hlen, &d), 0);
	free(hdr);
	free(data);
}

/* Re-encodes a header after changing one fixed field, keeping the CRC valid. */
static int peek_with(uint8_t *hdr, size_t off, uint64_t val, unsigned width)
{
	struct osd_chunkfmt_hdr d;

	if (width == 2)
		wire_put_le16(hdr + off, (uint16_t)val);
	else if (width == 4)
		wire_put_le32(hdr + off, (uint32_t)val);
	else
		wire_put_le64(hdr + off, val);
	return osd_chunkfmt_peek(hdr, OSD_CHUNKFMT_FIXED, &d);
}

static void test_header_fields(void **state)
{
	struct osd_chunkfmt_hdr h = sample_hdr(8192, 8192, 0);
	size_t hlen = osd_chunkfmt_hdr_len(8192);
	uint8_t *data = random_bytes(8192);
	uint8_t *good = malloc(hlen), *hdr = malloc(hlen);
	struct {
		size_t off;
		uint64_t val;
		unsigned width;
	} bad[] = {
		{8, 2, 2},		       /* unknown format version */
		{10, 0x8000, 2},	       /* unknown flag */
		{10, OSD_CHUNKFMT_FLAG_ZSTD, 2}, /* zstd but stored == length */
		{12, 8192, 4},		       /* hdr_len disagrees with stored */
		{40, 256, 2},		       /* index out of range */
		{42, 1, 2},		       /* reserved */
		{44, 3, 4},		       /* nblocks disagrees */
		{56, 8191, 8},		       /* raw: length != stored */
		{64, (uint64_t)1 << 40, 8},    /* stored too large */
		{72, 1, 4},		       /* reserved */
	};
	struct osd_chunkfmt_hdr d;

	(void)state;
	assert_non_null(good);
	assert_non_null(hdr);
	osd_chunkfmt_encode(good, &h, data);
	assert_int_equal(osd_chunkfmt_peek(good, OSD_CHUNKFMT_FIXED, &d), 0);
	assert_int_equal(osd_chunkfmt_peek(good, OSD_CHUNKFMT_FIXED - 1, &d), -CAIRN_ECHECKSUM);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(hdr, good, hlen);
		assert_int_equal(peek_with(hdr, bad[i].off, bad[i].val, bad[i].width),
				 -CAIRN_ECHECKSUM);
	}
	memcpy(hdr, good, hlen);
	hdr[0] = 'X';
	assert_int_equal(osd_chunkfmt_peek(hdr, hlen, &d), -CAIRN_ECHECKSUM);
	free(good);
	free(hdr);
	free(data);
}

static void test_names(void **state)
{
	static const char *const bad[] = {
		"",
		"0000000000000001.2.3",
		"0000000000000001.2.3.v",
		"0000000000000001.2.3.4",
		"0000000000000001.02.3.v4",
		"0000000000000001.2.03.v4",
		"0000000000000001.2.3.v04",
		"000000000000000A.2.3.v4",
		"1.2.3.v4",
		"0000000000000001.2.256.v4",
		"0000000000000001.2.3.v4.",
		"0000000000000001.-2.3.v4",
		"0000000000000001.2.3.v18446744073709551616",
		".tmp.1.0000000000000001.2.3.v4",
		"0000000000000001 .2.3.v4",
	};
	char name[OSD_CHUNKFMT_NAME_MAX];
	uint64_t ino, stripe, version;
	uint16_t idx;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint64_t wi = rnd(), ws = i % 2 ? rnd() : (uint64_t)i, wv = i % 3 ? rnd() : 1;
		uint16_t wx = (uint16_t)(rnd() % (OSD_CHUNKFMT_MAX_IDX + 1));

		assert_int_equal(osd_chunkfmt_name(name, sizeof(name), wi, ws, wx, wv), 0);
		assert_int_equal(osd_chunkfmt_parse_name(name, &ino, &stripe, &idx, &version), 0);
		assert_true(ino == wi && stripe == ws && idx == wx && version == wv);
		assert_false(osd_chunkfmt_is_tmp(name));
	}
	assert_int_equal(osd_chunkfmt_name(name, sizeof(name), UINT64_MAX, UINT64_MAX,
					   OSD_CHUNKFMT_MAX_IDX, UINT64_MAX),
			 0);
	assert_int_equal(osd_chunkfmt_name(name, 8, 1, 2, 3, 4), -ENAMETOOLONG);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(osd_chunkfmt_parse_name(bad[i], &ino, &stripe, &idx, &version),
				 -EINVAL);
	assert_true(osd_chunkfmt_is_tmp(".tmp.7.0000000000000001.2.3.v4"));
}

static void test_superblock(void **state)
{
	struct osd_chunkfmt_sb sb = {.format = OSD_CHUNKFMT_VERSION, .osd_id = 9, .created = 123};
	uint8_t buf[OSD_CHUNKFMT_SB_LEN];
	struct osd_chunkfmt_sb d;
	char str[37];

	(void)state;
	for (int i = 0; i < 16; i++)
		sb.uuid[i] = (uint8_t)(0x10 * i + i);
	osd_chunkfmt_sb_encode(buf, &sb);
	assert_int_equal(osd_chunkfmt_sb_decode(buf, sizeof(buf), &d), 0);
	assert_memory_equal(&d, &sb, sizeof(sb));
	assert_int_equal(osd_chunkfmt_sb_decode(buf, sizeof(buf) - 1, &d), -EUCLEAN);
	for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
		int ret;

		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ret = osd_chunkfmt_sb_decode(buf, sizeof(buf), &d);
		assert_int_equal(ret, bit < 64 ? -EUCLEAN : -CAIRN_ECHECKSUM);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	sb.format = 2;
	osd_chunkfmt_sb_encode(buf, &sb);
	assert_int_equal(osd_chunkfmt_sb_decode(buf, sizeof(buf), &d), -ENOTSUP);
	assert_int_equal(d.format, 2);
	osd_chunkfmt_uuid_str(sb.uuid, str);
	assert_string_equal(str, "00112233-4455-6677-8899-aabbccddeeff");
}

int main(void)
{
	const char *env = getenv("CAIRN_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eedc4a1ull;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_every_bit),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_superblock),
	};

	printf("test_chunkfmt: seed 0x%llx (set CAIRN_TEST_SEED to repeat)\n",
	       (unsigned long long)seed);
	rng_state = seed;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
