/*
 * test_map_place.c - placement input from a cluster map (proto/map_place.h):
 * media filtering, host numbers equal exactly for equal names, weights of
 * out OSDs, up flags, acting sets equal to placement's own answer, the
 * primary as the first up position, lookups and bad arguments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/map_place.h"

#define S(x) {x, (uint16_t)(sizeof(x) - 1)}

static struct proto_map_osd osds[] = {
	{.id = 2, .addr = S("10.0.0.1:1"), .host = S("rack1-b"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 10},
	{.id = 3, .addr = S("10.0.0.1:2"), .host = S("rack1-a"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_IN, .weight = 10},
	{.id = 5, .addr = S("10.0.0.2:1"), .host = S("rack1-b"), .media = PROTO_MEDIA_HDD,
	 .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 10},
	{.id = 7, .addr = S("10.0.0.3:1"), .host = S("rack1-a"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_UP, .weight = 10},
	{.id = 8, .addr = S("10.0.0.4:1"), .host = S("rack1-c"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 20},
	{.id = 9, .addr = S("10.0.0.4:2"), .host = S("rack1-"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 5},
	{.id = 11, .addr = S("10.0.0.5:1"), .host = S("rack1-b"), .media = PROTO_MEDIA_NVME,
	 .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 10},
};

static struct proto_map_pool pools[] = {
	{.id = 1, .name = S("fast"), .scheme = PROTO_SCHEME_EC, .k = 2, .m = 1,
	 .media = PROTO_MEDIA_NVME, .chunk_size = 65536, .pg_count = 32},
	{.id = 4, .name = S("slow"), .scheme = PROTO_SCHEME_REP, .k = 1, .m = 0,
	 .media = PROTO_MEDIA_HDD, .chunk_size = 65536, .pg_count = 8},
};

static struct proto_map map = {.epoch = 9, .nosds = 7, .osds = osds, .npools = 2, .pools = pools};

static void test_candidates(void **state)
{
	struct placement_osd c[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(proto_map_place_osds(&map, &pools[0], c, &n), 0);
	assert_int_equal(n, 6); /* the hdd OSD 5 is not a candidate */
	assert_int_equal(c[0].id, 2);
	assert_int_equal(c[1].id, 3);
	assert_int_equal(c[2].id, 7);
	assert_int_equal(c[5].id, 11);
	/* Same host name, same number; different names, different numbers. */
	assert_int_equal(c[0].host, c[5].host);
	assert_int_equal(c[1].host, c[2].host);
	assert_int_not_equal(c[0].host, c[1].host);
	assert_int_not_equal(c[3].host, c[0].host);
	assert_int_not_equal(c[4].host, c[0].host); /* "rack1-" is not "rack1-b" */
	assert_int_not_equal(c[4].host, c[3].host);
	/* Out (no IN flag) weighs nothing; down stays a candidate. */
	assert_int_equal(c[2].weight, 0);
	assert_int_equal(c[3].weight, 20);
	assert_false(c[1].up);
	assert_true(c[1].weight == 10);
	assert_true(c[0].up);
	/* The other pool: only the hdd OSD. */
	assert_int_equal(proto_map_place_osds(&map, &pools[1], c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].id, 5);
	assert_int_equal(proto_map_place_osds(NULL, &pools[1], c, &n), -EINVAL);
}

static void test_acting(void **state)
{
	struct placement_osd c[8];
	uint32_t ids[3], ref[3];
	bool up[3], refup[3];
	size_t n;

	(void)state;
	assert_int_equal(proto_map_place_osds(&map, &pools[0], c, &n), 0);
	for (uint32_t pg = 0; pg < pools[0].pg_count; pg++) {
		int got = proto_map_acting(&map, &pools[0], pg, ids, up);
		int want = placement_acting_up(1, pg, c, n, 3, ref, refup);
		int prim = proto_map_primary(ids, up, 3);

		assert_int_equal(got, want);
		assert_memory_equal(ids, ref, sizeof(ids));
		assert_memory_equal(up, refup, sizeof(up));
		for (int i = 0; i < 3; i++) {
			assert_int_not_equal(ids[i], 7); /* out */
			assert_int_not_equal(ids[i], 5); /* other media */
		}
		/* The primary is the first up position. */
		assert_true(prim >= 0);
		assert_true(up[prim]);
		for (int i = 0; i < prim; i++)
			assert_false(up[i]);
	}
	assert_int_equal(proto_map_acting(&map, &pools[0], 32, ids, up), -EINVAL);
	assert_int_equal(proto_map_acting(&map, NULL, 0, ids, up), -EINVAL);
	assert_int_equal(proto_map_acting(&map, &pools[0], 0, ids, NULL), 3);
}

static void test_primary_and_lookups(void **state)
{
	uint32_t ids[4] = {4, PLACEMENT_NONE, 6, 7};
	bool up[4] = {false, true, false, true};

	(void)state;
	assert_int_equal(proto_map_primary(ids, up, 4), 3);
	up[2] = true;
	assert_int_equal(proto_map_primary(ids, up, 4), 2);
	up[0] = true;
	assert_int_equal(proto_map_primary(ids, up, 4), 0);
	memset(up, 0, sizeof(up));
	assert_int_equal(proto_map_primary(ids, up, 4), -1);
	assert_int_equal(proto_map_primary(NULL, up, 4), -1);

	assert_ptr_equal(proto_map_pool_find(&map, 4), &pools[1]);
	assert_null(proto_map_pool_find(&map, 2));
	assert_null(proto_map_pool_find(NULL, 1));
	assert_ptr_equal(proto_map_osd_find(&map, 2), &osds[0]);
	assert_ptr_equal(proto_map_osd_find(&map, 9), &osds[5]);
	assert_ptr_equal(proto_map_osd_find(&map, 11), &osds[6]);
	assert_null(proto_map_osd_find(&map, 10));
	assert_null(proto_map_osd_find(&map, 0));
	assert_null(proto_map_osd_find(&map, 12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_acting),
		cmocka_unit_test(test_primary_and_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
