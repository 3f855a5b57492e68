/*
 * test_chunk.c - the chunk messages' semantics on a real store in a
 * temporary directory (osd/chunk.h), the OSD's map holder (osd/osdmap.h)
 * and the read buffer pool (osd/buf.h).
 *
 * Covers: base-version preconditions (-ESTALE on a mismatch or a missing
 * chunk), W_REPLACE (not based on the old bytes, creating a chunk, a
 * zero-length chunk), truncation with and without REPLACE, the newest
 * version among many; map installation (older refused, snapshots kept
 * alive by their references, waiting for an epoch), acting sets with the
 * primary moving off a down OSD; buffers of each size class reused.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "osd/buf.h"
#include "osd/chunk.h"
#include "osd/osdmap.h"
#include "proto/osd.h"

static char base[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct osd_store_opts o = {.fault = "none"};
	struct osd_store *st;
	char dir[96];

	snprintf(base, sizeof(base), "/tmp/cairn-chunk-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/data", base);
	assert_int_equal(osd_store_format(dir, 3), 0);
	assert_int_equal(osd_store_open(dir, 3, &o, &st), 0);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	osd_store_close(*state);
	nftw(base, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void expect_bytes(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
			 const void *want, size_t len)
{
	uint8_t buf[256];
	struct osd_read_result r;

	assert_int_equal(osd_store_read(st, id, version, 0, buf, sizeof(buf), &r), 0);
	assert_int_equal(r.length, len);
	assert_memory_equal(buf, want, len);
}

static void test_preconditions(void **state)
{
	struct osd_store *st = *state;
	struct osd_chunk_id id = {.pool = 1, .pg = 2, .ino = 5, .stripe = 0, .idx = 1};
	struct osd_chunk_version v;
	uint8_t want[100];

	/* A base on a chunk that does not exist: refused; REPLACE creates it. */
	assert_int_equal(osd_chunk_write(st, &id, 10, 9, 0, "abc", 3, 0, false), -ESTALE);
	assert_int_equal(osd_chunk_newest(st, &id, &v), -ENOENT);
	assert_int_equal(osd_chunk_write(st, &id, 10, 0, 4, "abc", 3, PROTO_OSD_W_REPLACE, false), 0);
	memset(want, 0, sizeof(want));
	memcpy(want + 4, "abc", 3);
	expect_bytes(st, &id, 10, want, 7);
	/* Based on 10: applies on top of it.  Based on anything else: -ESTALE. */
	assert_int_equal(osd_chunk_write(st, &id, 20, 10, 0, "XY", 2, 0, false), 0);
	memcpy(want, "XY", 2);
	expect_bytes(st, &id, 20, want, 7);
	assert_int_equal(osd_chunk_write(st, &id, 30, 10, 0, "zz", 2, 0, true), -ESTALE);
	assert_int_equal(osd_chunk_truncate(st, &id, 30, 11, 3, 0, false), -ESTALE);
	assert_int_equal(osd_chunk_newest(st, &id, &v), 0);
	assert_int_equal(v.version, 20);
	/* No base: the newest, whatever it is. */
	assert_int_equal(osd_chunk_write(st, &id, 30, 0, 6, "Q", 1, 0, false), 0);
	want[6] = 'Q';
	expect_bytes(st, &id, 30, want, 7);
	/* REPLACE ignores the old bytes. */
	assert_int_equal(osd_chunk_write(st, &id, 40, 0, 0, "new", 3, PROTO_OSD_W_REPLACE, true), 0);
	expect_bytes(st, &id, 40, "new", 3);
	expect_bytes(st, &id, 30, want, 7); /* the older versions stay */
}

static void test_truncate(void **state)
{
	struct osd_store *st = *state;
	struct osd_chunk_id id = {.pool = 1, .pg = 2, .ino = 6, .stripe = 3, .idx = 0};
	struct osd_chunk_id empty = {.pool = 1, .pg = 2, .ino = 6, .stripe = 3, .idx = 2};
	struct osd_chunk_version v;
	uint8_t zeros[64] = {0}, want[64] = {0};

	/* Without REPLACE a missing chunk is -ENOENT; with it, a chunk of zeros. */
	assert_int_equal(osd_chunk_truncate(st, &id, 5, 0, 10, 0, false), -ENOENT);
	assert_int_equal(osd_chunk_truncate(st, &id, 5, 0, 10, PROTO_OSD_W_REPLACE, false), 0);
	expect_bytes(st, &id, 5, zeros, 10);
	assert_int_equal(osd_chunk_write(st, &id, 6, 5, 2, "hello", 5, 0, false), 0);
	/* Cut, then extend with zeros, each based on the one before. */
	assert_int_equal(osd_chunk_truncate(st, &id, 7, 6, 4, 0, false), 0);
	memcpy(want + 2, "he", 2);
	expect_bytes(st, &id, 7, want, 4);
	assert_int_equal(osd_chunk_truncate(st, &id, 8, 7, 30, 0, false), 0);
	expect_bytes(st, &id, 8, want, 30);
	/* REPLACE to 0 bytes: an empty chunk that exists (a stripe's empty data chunk). */
	assert_int_equal(osd_chunk_truncate(st, &empty, 9, 0, 0, PROTO_OSD_W_REPLACE, false), 0);
	assert_int_equal(osd_chunk_newest(st, &empty, &v), 0);
	assert_int_equal(v.version, 9);
	assert_int_equal(v.length, 0);
	assert_int_equal(osd_chunk_truncate(st, &empty, 10, 9, 0, 0, false), 0); /* a bump */
	assert_int_equal(osd_chunk_newest(st, &empty, &v), 0);
	assert_int_equal(v.version, 10);
}

static void test_newest_of_many(void **state)
{
	struct osd_store *st = *state;
	struct osd_chunk_id id = {.pool = 2, .pg = 0, .ino = 9, .stripe = 1, .idx = 0};
	struct osd_chunk_version v;

	for (uint64_t ver = 1; ver <= 20; ver++)
		assert_int_equal(osd_chunk_write(st, &id, ver, 0, 0, &ver, sizeof(ver),
						 PROTO_OSD_W_REPLACE, false),
				 0);
	assert_int_equal(osd_chunk_newest(st, &id, &v), 0);
	assert_int_equal(v.version, 20);
	assert_int_equal(v.length, sizeof(uint64_t));
}

/* ---- the map holder ---------------------------------------------------------------- */

#define S(x) {x, (uint16_t)(sizeof(x) - 1)}

/* A decoded map of epoch e with OSDs 0..5 in three hosts; OSD `down` not up. */
static void make_map(uint64_t e, int down, struct proto_map *out)
{
	static const char *hosts[] = {"h0", "h1", "h2"};
	struct proto_map_osd o[6];
	struct proto_map_pool p = {.id = 1, .name = S("ec"), .scheme = PROTO_SCHEME_EC, .k = 4,
				   .m = 2, .media = PROTO_MEDIA_NVME, .chunk_size = 65536,
				   .pg_count = 16};
	struct proto_str shard = S("127.0.0.1:1");
	struct proto_map m = {.epoch = e, .nshards = 1, .shards = &shard, .nosds = 6, .osds = o,
			      .npools = 1, .pools = &p};
	uint8_t buf[2048];
	struct wire_enc enc;
	struct wire_dec dec;
	size_t len = 0;

	for (int i = 0; i < 6; i++)
		o[i] = (struct proto_map_osd){.id = (uint32_t)i, .addr = S("127.0.0.1:2"),
					      .host = {hosts[i % 3], 2}, .media = PROTO_MEDIA_NVME,
					      .flags = PROTO_MAP_OSD_IN | (i == down ? 0 : PROTO_MAP_OSD_UP),
					      .weight = 1};
	wire_enc_init(&enc, buf, sizeof(buf));
	assert_int_equal(proto_map_encode(&m, &enc), 0);
	assert_int_equal(wire_enc_finish(&enc, &len), 0);
	wire_dec_init(&dec, buf, len);
	assert_int_equal(proto_map_decode(&dec, out), 0);
}

static void test_map_install(void **state)
{
	struct osd_map *mh = osd_map_new(0);
	struct osd_map_snap *s1, *s2;
	struct proto_map m;
	struct osd_acting a, b;

	(void)state;
	assert_null(osd_map_get(mh));
	assert_int_equal(osd_map_epoch(mh), 0);
	assert_null(osd_map_wait(mh, 1, 10)); /* nothing comes */
	make_map(5, -1, &m);
	assert_int_equal(osd_map_install(mh, &m), 0);
	s1 = osd_map_get(mh);
	assert_non_null(s1);
	assert_int_equal(osd_map_snap_epoch(s1), 5);
	make_map(4, -1, &m);
	assert_int_equal(osd_map_install(mh, &m), -ESTALE);
	make_map(5, -1, &m);
	assert_int_equal(osd_map_install(mh, &m), -ESTALE);
	/* A newer map: the old snapshot stays valid for its holder. */
	assert_int_equal(osd_map_acting(s1, osd_map_pool(s1, 1), 3, &a), 0);
	assert_int_equal(a.width, 6);
	assert_int_equal(a.nup, 6);
	assert_int_equal(a.primary, 0);
	make_map(6, (int)a.ids[0], &m); /* the primary goes down */
	assert_int_equal(osd_map_install(mh, &m), 0);
	s2 = osd_map_wait(mh, 6, 1000);
	assert_int_equal(osd_map_snap_epoch(s2), 6);
	assert_int_equal(osd_map_acting(s2, osd_map_pool(s2, 1), 3, &b), 0);
	assert_memory_equal(a.ids, b.ids, sizeof(a.ids[0]) * 6); /* positions kept */
	assert_int_equal(b.nup, 5);
	assert_false(b.up[0]);
	assert_int_equal(b.primary, 1);
	assert_int_equal(osd_acting_pos(&b, b.ids[4]), 4);
	assert_int_equal(osd_acting_pos(&b, 77), -1);
	assert_int_equal(osd_map_acting(s2, osd_map_pool(s2, 1), 16, &b), -EINVAL);
	assert_null(osd_map_pool(s2, 2));
	assert_non_null(osd_map_osd(s2, 5));
	assert_null(osd_map_osd(s2, 6));
	/* Still the old answer from the old snapshot (cached), until put back. */
	assert_int_equal(osd_map_acting(s1, osd_map_pool(s1, 1), 3, &a), 0);
	assert_int_equal(a.nup, 6);
	osd_map_put(s1);
	osd_map_put(s2);
	osd_map_free(mh);
}

static void test_bufs(void **state)
{
	struct osd_buf *a, *b, *c;
	void *pa;

	(void)state;
	a = osd_buf_get(1 << 20);
	assert_non_null(a);
	assert_true(a->cap >= (1 << 20));
	assert_int_equal((uintptr_t)a->data % 4096, 0);
	memset(a->data, 1, a->cap);
	pa = a->data;
	osd_buf_put(a);
	b = osd_buf_get((1 << 20) - 5); /* same class: the same buffer again */
	assert_ptr_equal(b->data, pa);
	c = osd_buf_get(100); /* small: not pooled, still aligned */
	assert_non_null(c);
	assert_int_equal((uintptr_t)c->data % 4096, 0);
	assert_null(osd_buf_get((64u << 20) + 1));
	osd_buf_release(b);
	osd_buf_put(c);
	osd_buf_put(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_preconditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_of_many, setup, teardown),
		cmocka_unit_test(test_map_install),
		cmocka_unit_test(test_bufs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
