/*
 * test_osd.c - object storage daemon message codecs (proto/osd.h): a round
 * trip of every message with non-trivial values, every truncation and a
 * trailing byte rejected (via check_codec), each out-of-range value rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/osd.h"
#include "codec_check.h"

CODEC(proto_osd_, chunk_write_req);
CODEC(proto_osd_, write_rep);
CODEC(proto_osd_, chunk_read_req);
CODEC(proto_osd_, chunk_read_rep);
CODEC(proto_osd_, stripe_write_req);
CODEC(proto_osd_, chunk_delete_req);
CODEC(proto_osd_, chunk_truncate_req);
CODEC(proto_osd_, chunk_list_req);
CODEC(proto_osd_, chunk_list_rep);
CODEC(proto_osd_, chunk_trim_req);
CODEC(proto_osd_, scrub_req);
CODEC(proto_osd_, scrub_rep);

static const struct proto_osd_chunk_id chunk_id = {
    .ino = 0x0001000000000abcull,
    .stripe = 0x123456789aull,
    .index = 5,
};

static void assert_id_eq(const struct proto_osd_chunk_id *a, const struct proto_osd_chunk_id *b)
{
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->stripe, b->stripe);
	assert_int_equal(a->index, b->index);
}

/* Chunk id range checks through any message holding one. */
static void check_id_field(const struct codec *c, void *msg, const void *tmpl,
			   struct proto_osd_chunk_id *f)
{
	const struct proto_osd_chunk_id saved = *f;

	f->ino = 0;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->index = PROTO_CHUNKS_MAX;
	expect_reject(c, msg, tmpl);
	f->index = 255;
	expect_reject(c, msg, tmpl);
	f->index = PROTO_CHUNKS_MAX - 1;
	expect_accept(c, msg, tmpl);
	*f = saved;
}

static void check_flag_bits(const struct codec *c, void *msg, const void *tmpl, uint32_t *f,
			    uint32_t known)
{
	const uint32_t saved = *f;

	for (int bit = 0; bit < 32; bit++) {
		if (known & (1u << bit))
			continue;
		*f = saved | (1u << bit);
		expect_reject(c, msg, tmpl);
	}
	*f = saved;
}

/* offset + length inside [0, max], length >= 1, no 32-bit wrap. */
static void check_range_fields(const struct codec *c, void *msg, uint32_t *offset, uint32_t *length,
			       uint64_t max)
{
	const uint32_t so = *offset, sl = *length;

	*offset = 0;
	*length = (uint32_t)max;
	expect_accept(c, msg, NULL);
	*offset = 1;
	expect_reject(c, msg, NULL);
	*offset = (uint32_t)max - 1;
	*length = 1;
	expect_accept(c, msg, NULL);
	*length = 2;
	expect_reject(c, msg, NULL);
	*offset = 0;
	*length = 0;
	expect_reject(c, msg, NULL);
	*offset = UINT32_MAX;
	*length = 2; /* wraps to 1 in 32 bits */
	expect_reject(c, msg, NULL);
	*offset = so;
	*length = sl;
}

static void test_chunk_write_req(void **state)
{
	struct proto_osd_chunk_write_req m = {
	    .map_epoch = 88,
	    .pool_id = 3,
	    .id = chunk_id,
	    .version = 0x0102030405060708ull,
	    .offset = 4096,
	    .length = 65536,
	    .flags = PROTO_OSD_W_SYNC,
	    .base_version = 0x0102030405060707ull,
	};
	struct proto_osd_chunk_write_req out;

	(void)state;
	assert_int_equal(check_codec(&codec_chunk_write_req, &m, NULL, &out),
			 8 + 4 + PROTO_OSD_CHUNK_ID_SIZE + 8 + 4 + 4 + 4 + 8);
	assert_int_equal(out.map_epoch, 88);
	assert_int_equal(out.pool_id, 3);
	assert_id_eq(&m.id, &out.id);
	assert_int_equal(out.version, m.version);
	assert_int_equal(out.offset, 4096);
	assert_int_equal(out.length, 65536);
	assert_int_equal(out.flags, PROTO_OSD_W_SYNC);
	assert_int_equal(out.base_version, m.base_version);
	check_id_field(&codec_chunk_write_req, &m, NULL, &m.id);
	check_flag_bits(&codec_chunk_write_req, &m, NULL, &m.flags, PROTO_OSD_W_KNOWN);
	check_range_fields(&codec_chunk_write_req, &m, &m.offset, &m.length, PROTO_CHUNK_SIZE_MAX);
	/* The base version: older than the new one, and none with REPLACE. */
	m.base_version = m.version;
	expect_reject(&codec_chunk_write_req, &m, NULL);
	m.base_version = 0;
	expect_accept(&codec_chunk_write_req, &m, NULL);
	m.flags = PROTO_OSD_W_REPLACE;
	expect_accept(&codec_chunk_write_req, &m, NULL);
	m.base_version = 1;
	expect_reject(&codec_chunk_write_req, &m, NULL);
}

static void test_write_rep(void **state)
{
	struct proto_osd_write_rep m = {.version = UINT64_MAX - 3}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_write_rep, &m, NULL, &out), 8);
	assert_int_equal(out.version, m.version);
}

static void test_chunk_read_req(void **state)
{
	struct proto_osd_chunk_read_req m = {
	    .map_epoch = 9, .pool_id = 1, .id = chunk_id, .offset = 12, .length = 100000,
	    .version = 0xfeedfacecafeull};
	struct proto_osd_chunk_read_req out;

	(void)state;
	assert_int_equal(check_codec(&codec_chunk_read_req, &m, NULL, &out),
			 8 + 4 + PROTO_OSD_CHUNK_ID_SIZE + 4 + 4 + 8);
	assert_int_equal(out.map_epoch, 9);
	assert_int_equal(out.pool_id, 1);
	assert_id_eq(&m.id, &out.id);
	assert_int_equal(out.offset, 12);
	assert_int_equal(out.length, 100000);
	assert_int_equal(out.version, 0xfeedfacecafeull);
	m.version = 0; /* the newest */
	expect_accept(&codec_chunk_read_req, &m, NULL);
	check_id_field(&codec_chunk_read_req, &m, NULL, &m.id);
	check_range_fields(&codec_chunk_read_req, &m, &m.offset, &m.length, PROTO_CHUNK_SIZE_MAX);
}

static void test_chunk_read_rep(void **state)
{
	struct proto_osd_chunk_read_rep m = {.version = 77, .length = 1u << 20}, out;

	(void)state;
	check_codec(&codec_chunk_read_rep, &m, NULL, &out);
	assert_int_equal(out.version, 77);
	assert_int_equal(out.length, 1u << 20);
	m.length = 0; /* at or past the chunk's end */
	expect_accept(&codec_chunk_read_rep, &m, NULL);
	m.length = PROTO_CHUNK_SIZE_MAX + 1;
	expect_reject(&codec_chunk_read_rep, &m, NULL);
}

static void test_stripe_write_req(void **state)
{
	struct proto_osd_stripe_write_req m = {
	    .map_epoch = 1000,
	    .pool_id = 2,
	    .ino = 0x0002000000000001ull,
	    .stripe = 3,
	    .offset = 3u << 20,
	    .length = 5u << 20,
	    .flags = 0,
	};
	struct proto_osd_stripe_write_req out;

	(void)state;
	check_codec(&codec_stripe_write_req, &m, NULL, &out);
	assert_int_equal(out.map_epoch, 1000);
	assert_int_equal(out.pool_id, 2);
	assert_int_equal(out.ino, m.ino);
	assert_int_equal(out.stripe, 3);
	assert_int_equal(out.offset, 3u << 20);
	assert_int_equal(out.length, 5u << 20);
	assert_int_equal(out.flags, 0);
	check_flag_bits(&codec_stripe_write_req, &m, NULL, &m.flags, PROTO_OSD_W_SYNC);
	check_range_fields(&codec_stripe_write_req, &m, &m.offset, &m.length,
			   PROTO_STRIPE_SIZE_MAX);
	m.ino = 0;
	expect_reject(&codec_stripe_write_req, &m, NULL);
}

static void test_chunk_delete_req(void **state)
{
	struct proto_osd_chunk_delete_req m = {.map_epoch = 5, .pool_id = 9, .id = chunk_id}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_chunk_delete_req, &m, NULL, &out),
			 8 + 4 + PROTO_OSD_CHUNK_ID_SIZE);
	assert_int_equal(out.map_epoch, 5);
	assert_int_equal(out.pool_id, 9);
	assert_id_eq(&m.id, &out.id);
	check_id_field(&codec_chunk_delete_req, &m, NULL, &m.id);
}

static void test_chunk_truncate_req(void **state)
{
	struct proto_osd_chunk_truncate_req m = {
	    .map_epoch = 6,
	    .pool_id = 4,
	    .id = chunk_id,
	    .version = 31,
	    .size = 12345,
	    .flags = PROTO_OSD_W_SYNC,
	    .base_version = 30,
	};
	struct proto_osd_chunk_truncate_req out;

	(void)state;
	assert_int_equal(check_codec(&codec_chunk_truncate_req, &m, NULL, &out),
			 8 + 4 + PROTO_OSD_CHUNK_ID_SIZE + 8 + 4 + 4 + 8);
	assert_int_equal(out.map_epoch, 6);
	assert_int_equal(out.pool_id, 4);
	assert_id_eq(&m.id, &out.id);
	assert_int_equal(out.version, 31);
	assert_int_equal(out.size, 12345);
	assert_int_equal(out.flags, PROTO_OSD_W_SYNC);
	assert_int_equal(out.base_version, 30);
	check_id_field(&codec_chunk_truncate_req, &m, NULL, &m.id);
	check_flag_bits(&codec_chunk_truncate_req, &m, NULL, &m.flags, PROTO_OSD_W_KNOWN);
	m.base_version = 31;
	expect_reject(&codec_chunk_truncate_req, &m, NULL);
	m.flags = PROTO_OSD_W_REPLACE;
	m.base_version = 5;
	expect_reject(&codec_chunk_truncate_req, &m, NULL);
	m.base_version = 0;
	expect_accept(&codec_chunk_truncate_req, &m, NULL);
	m.size = 0;
	expect_accept(&codec_chunk_truncate_req, &m, NULL);
	m.size = PROTO_CHUNK_SIZE_MAX;
	expect_accept(&codec_chunk_truncate_req, &m, NULL);
	m.size = PROTO_CHUNK_SIZE_MAX + 1;
	expect_reject(&codec_chunk_truncate_req, &m, NULL);
}

static void test_chunk_list_req(void **state)
{
	struct proto_osd_chunk_list_req m = {
	    .map_epoch = 12, .pool_id = 1, .pg = 511, .cursor = chunk_id, .max = 256};
	struct proto_osd_chunk_list_req out;

	(void)state;
	check_codec(&codec_chunk_list_req, &m, NULL, &out);
	assert_int_equal(out.map_epoch, 12);
	assert_int_equal(out.pool_id, 1);
	assert_int_equal(out.pg, 511);
	assert_id_eq(&m.cursor, &out.cursor);
	assert_int_equal(out.max, 256);

	m.cursor = (struct proto_osd_chunk_id){0}; /* from the start */
	expect_accept(&codec_chunk_list_req, &m, NULL);
	m.cursor.index = PROTO_CHUNKS_MAX;
	expect_reject(&codec_chunk_list_req, &m, NULL);
	m.cursor.index = 0;
	m.pg = PROTO_PG_MAX - 1;
	expect_accept(&codec_chunk_list_req, &m, NULL);
	m.pg = PROTO_PG_MAX;
	expect_reject(&codec_chunk_list_req, &m, NULL);
	m.pg = 0;
	m.max = 0;
	expect_reject(&codec_chunk_list_req, &m, NULL);
	m.max = PROTO_OSD_LIST_MAX + 1;
	expect_reject(&codec_chunk_list_req, &m, NULL);
	m.max = PROTO_OSD_LIST_MAX;
	expect_accept(&codec_chunk_list_req, &m, NULL);
}

#define LISTED 3

static void make_list(struct proto_osd_chunk_info *e)
{
	e[0] = (struct proto_osd_chunk_info){{5, 0, 0}, 1, 4096};
	e[1] = (struct proto_osd_chunk_info){{5, 0, 3}, 2, PROTO_CHUNK_SIZE_MAX};
	e[2] = (struct proto_osd_chunk_info){{0x0001000000000007ull, 99, 1}, UINT64_MAX, 0};
}

static void test_chunk_list_rep(void **state)
{
	struct proto_osd_chunk_info ents[LISTED], got[LISTED];
	struct proto_osd_chunk_list_rep m = {.count = LISTED, .entries = ents};
	struct proto_osd_chunk_list_rep tmpl = {.cap = LISTED, .entries = got}, out;

	(void)state;
	make_list(ents);
	m.next = ents[LISTED - 1].id;
	check_codec(&codec_chunk_list_rep, &m, &tmpl, &out);
	assert_int_equal(out.flags, 0);
	assert_id_eq(&m.next, &out.next);
	assert_int_equal(out.count, LISTED);
	for (int i = 0; i < LISTED; i++) {
		assert_id_eq(&ents[i].id, &got[i].id);
		assert_int_equal(got[i].version, ents[i].version);
		assert_int_equal(got[i].size, ents[i].size);
	}
	check_flag_bits(&codec_chunk_list_rep, &m, &tmpl, &m.flags, PROTO_OSD_LIST_END);

	/* The end of the PG: next is zero. */
	m.flags = PROTO_OSD_LIST_END;
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	m.next = (struct proto_osd_chunk_id){0};
	check_codec(&codec_chunk_list_rep, &m, &tmpl, &out);
	assert_int_equal(out.flags, PROTO_OSD_LIST_END);
	check_id_field(&codec_chunk_list_rep, &m, &tmpl, &ents[LISTED - 1].id);
	m.count = 0;
	expect_accept(&codec_chunk_list_rep, &m, &tmpl);

	/* Stopped early without entries: a real cursor to resume from. */
	m.flags = 0;
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	m.next = chunk_id;
	expect_accept(&codec_chunk_list_rep, &m, &tmpl);

	/* next must not go back before what was listed. */
	m.count = LISTED;
	m.next = ents[1].id;
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	m.next.ino = UINT64_MAX;
	expect_accept(&codec_chunk_list_rep, &m, &tmpl);
}

static void test_chunk_list_rep_entries(void **state)
{
	struct proto_osd_chunk_info ents[LISTED], got[LISTED];
	struct proto_osd_chunk_list_rep m = {
	    .flags = PROTO_OSD_LIST_END, .count = LISTED, .entries = ents};
	struct proto_osd_chunk_list_rep tmpl = {.cap = LISTED, .entries = got};

	(void)state;
	make_list(ents);
	expect_accept(&codec_chunk_list_rep, &m, &tmpl);
	ents[1].id = ents[0].id; /* duplicate */
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	make_list(ents);
	ents[1].id.index = 0;
	ents[0].id.index = 1; /* out of order */
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	make_list(ents);
	ents[2].size = PROTO_CHUNK_SIZE_MAX + 1;
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	make_list(ents);
	tmpl.cap = LISTED - 1; /* no room */
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
}

static void test_chunk_list_rep_max(void **state)
{
	const uint32_t n = PROTO_OSD_LIST_MAX + 1;
	struct proto_osd_chunk_info *ents = calloc(n, sizeof(*ents));
	struct proto_osd_chunk_info *got = calloc(n, sizeof(*got));
	struct proto_osd_chunk_list_rep m = {
	    .flags = PROTO_OSD_LIST_END, .count = n - 1, .entries = ents};
	struct proto_osd_chunk_list_rep tmpl = {.cap = n, .entries = got};

	(void)state;
	assert_non_null(ents);
	assert_non_null(got);
	for (uint32_t i = 0; i < n; i++)
		ents[i] = (struct proto_osd_chunk_info){{1, i, 0}, i, 4096};
	expect_accept(&codec_chunk_list_rep, &m, &tmpl);
	m.count = n;
	expect_reject(&codec_chunk_list_rep, &m, &tmpl);
	free(got);
	free(ents);
}

static void test_chunk_trim_req(void **state)
{
	struct proto_osd_chunk_trim_req m = {.map_epoch = 3, .pool_id = 7, .id = chunk_id,
					     .version = 0x1234567ull << 24,
					     .flags = PROTO_OSD_TRIM_ROLLBACK};
	struct proto_osd_chunk_trim_req out;

	(void)state;
	assert_int_equal(check_codec(&codec_chunk_trim_req, &m, NULL, &out),
			 8 + 4 + PROTO_OSD_CHUNK_ID_SIZE + 8 + 4);
	assert_int_equal(out.map_epoch, 3);
	assert_int_equal(out.pool_id, 7);
	assert_id_eq(&m.id, &out.id);
	assert_int_equal(out.version, m.version);
	assert_int_equal(out.flags, PROTO_OSD_TRIM_ROLLBACK);
	check_id_field(&codec_chunk_trim_req, &m, NULL, &m.id);
	check_flag_bits(&codec_chunk_trim_req, &m, NULL, &m.flags, PROTO_OSD_TRIM_ROLLBACK);
	m.flags = 0;
	expect_accept(&codec_chunk_trim_req, &m, NULL);
	m.version = 0;
	expect_reject(&codec_chunk_trim_req, &m, NULL);
}

static void test_scrub_req(void **state)
{
	struct proto_osd_scrub_req m = {.pool_id = 0, .flags = PROTO_OSD_SCRUB_REPAIR}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_scrub_req, &m, NULL, &out), 8);
	assert_int_equal(out.pool_id, 0);
	assert_int_equal(out.flags, PROTO_OSD_SCRUB_REPAIR);
	check_flag_bits(&codec_scrub_req, &m, NULL, &m.flags, PROTO_OSD_SCRUB_REPAIR);
	m.pool_id = UINT32_MAX;
	m.flags = 0;
	expect_accept(&codec_scrub_req, &m, NULL);
}

static void test_scrub_rep(void **state)
{
	struct proto_osd_scrub_rep m = {.versions = 1000, .bytes = 1ull << 40, .bad = 3,
					.repaired = 2};
	struct proto_osd_scrub_rep out;

	(void)state;
	assert_int_equal(check_codec(&codec_scrub_rep, &m, NULL, &out), 32);
	assert_int_equal(out.versions, 1000);
	assert_int_equal(out.bytes, 1ull << 40);
	assert_int_equal(out.bad, 3);
	assert_int_equal(out.repaired, 2);
	m.repaired = 4; /* more repaired than bad */
	expect_reject(&codec_scrub_rep, &m, NULL);
	m.repaired = 0;
	m.bad = 1001; /* more bad than checked */
	expect_reject(&codec_scrub_rep, &m, NULL);
	m.bad = 1000;
	m.repaired = 1000;
	expect_accept(&codec_scrub_rep, &m, NULL);
}

static void test_chunk_id_cmp(void **state)
{
	struct proto_osd_chunk_id a = {1, 2, 3}, b = a;

	(void)state;
	assert_int_equal(proto_osd_chunk_id_cmp(&a, &b), 0);
	b.index = 4;
	assert_true(proto_osd_chunk_id_cmp(&a, &b) < 0);
	b = a;
	b.stripe = 1;
	assert_true(proto_osd_chunk_id_cmp(&a, &b) > 0);
	b = a;
	b.ino = UINT64_MAX;
	b.stripe = 0;
	assert_true(proto_osd_chunk_id_cmp(&a, &b) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk_write_req),
	    cmocka_unit_test(test_write_rep),
	    cmocka_unit_test(test_chunk_read_req),
	    cmocka_unit_test(test_chunk_read_rep),
	    cmocka_unit_test(test_stripe_write_req),
	    cmocka_unit_test(test_chunk_delete_req),
	    cmocka_unit_test(test_chunk_truncate_req),
	    cmocka_unit_test(test_chunk_list_req),
	    cmocka_unit_test(test_chunk_list_rep),
	    cmocka_unit_test(test_chunk_list_rep_entries),
	    cmocka_unit_test(test_chunk_list_rep_max),
	    cmocka_unit_test(test_chunk_trim_req),
	    cmocka_unit_test(test_scrub_req),
	    cmocka_unit_test(test_scrub_rep),
	    cmocka_unit_test(test_chunk_id_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
