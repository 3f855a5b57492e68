/*
 * test_ctl_out.c - cairnctl's output (tools/ctl_out.c): size, chunk and
 * scheme formatting, JSON string escaping, aligned tables, and the JSON
 * documents of status, osd ls and pool ls, written to a memory stream and
 * checked field by field.
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

#include "tools/ctl_out.h"

static char *buf;
static size_t len;

static FILE *mem(void)
{
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	return f;
}

static void contains(const char *needle)
{
	if (!strstr(buf, needle))
		fail_msg("'%s' not in output:\n%s", needle, buf);
}

static void test_format(void **state)
{
	struct cairn_pool_info p = {.scheme = CAIRN_SCHEME_EC, .k = 4, .m = 2};
	char s[32];

	(void)state;
	ctl_fmt_bytes(0, s, sizeof(s));
	assert_string_equal(s, "0 B");
	ctl_fmt_bytes(1023, s, sizeof(s));
	assert_string_equal(s, "1023 B");
	ctl_fmt_bytes(1536, s, sizeof(s));
	assert_string_equal(s, "1.5 KiB");
	ctl_fmt_bytes(3ull << 30, s, sizeof(s));
	assert_string_equal(s, "3.0 GiB");
	ctl_fmt_bytes(UINT64_MAX, s, sizeof(s));
	assert_string_equal(s, "16.0 EiB");
	ctl_fmt_chunk(1u << 20, s, sizeof(s));
	assert_string_equal(s, "1M");
	ctl_fmt_chunk(64u << 10, s, sizeof(s));
	assert_string_equal(s, "64K");
	ctl_fmt_chunk(1000, s, sizeof(s));
	assert_string_equal(s, "1000");
	ctl_fmt_scheme(&p, s, sizeof(s));
	assert_string_equal(s, "ec:4+2");
	p = (struct cairn_pool_info){.scheme = CAIRN_SCHEME_REP, .k = 1, .m = 2};
	ctl_fmt_scheme(&p, s, sizeof(s));
	assert_string_equal(s, "rep:3");
	assert_string_equal(ctl_health_name(CAIRN_HEALTH_WARN), "warn");
	assert_string_equal(ctl_health_name(7), "?");
}

static void test_json_str(void **state)
{
	FILE *f = mem();

	(void)state;
	ctl_json_str(f, "a\"b\\c\nd\x01");
	ctl_json_str(f, NULL);
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000ad\\u0001\"\"\"");
}

static const struct cairn_pool_info pools[] = {
    {.id = 1,
     .name = "default",
     .scheme = CAIRN_SCHEME_EC,
     .k = 4,
     .m = 2,
     .media = CAIRN_MEDIA_NVME,
     .compression = CAIRN_COMPRESS_NONE,
     .chunk_size = 1u << 20,
     .pg_count = 128,
     .chunks = 12,
     .logical_bytes = 12u << 20,
     .stored_bytes = 12u << 20},
    {.id = 12,
     .name = "scratch-long-name",
     .scheme = CAIRN_SCHEME_REP,
     .k = 1,
     .m = 1,
     .media = CAIRN_MEDIA_HDD,
     .compression = CAIRN_COMPRESS_ZSTD,
     .chunk_size = 4u << 20,
     .pg_count = 64,
     .chunks = 0},
};

static void test_pools(void **state)
{
	FILE *f = mem();
	char *second;

	(void)state;
	ctl_print_pools(f, pools, 2, false, 0);
	fclose(f);
	/* header and rows aligned: NAME starts in the same column on each line */
	assert_memory_equal(buf, "ID  NAME               SCHEME", 29);
	second = strchr(buf, '\n') + 1;
	assert_memory_equal(second, "1   default            ec:4+2", 29);
	contains(
	    "ID  NAME               SCHEME  CHUNK  MEDIA  PGS  COMPRESSION  DATA     USED      "
	    "RATIO\n");
	/* DATA: 12 MiB of chunks of a 4+2 pool hold 8 MiB of data. */
	contains(
	    "1   default            ec:4+2  1M     nvme   128  none         8.0 MiB  12.0 MiB  "
	    "1.00\n");
	contains(
	    "12  scratch-long-name  rep:2   4M     hdd    64   zstd         0 B      0 B       "
	    "-\n");
	f = mem();
	ctl_print_pools(f, pools, 2, true, 0);
	fclose(f);
	contains("[{\"id\":1,\"name\":\"default\",\"scheme\":\"ec:4+2\",\"k\":4,\"m\":2,"
		 "\"chunk_size\":1048576,\"media\":\"nvme\",\"pg_count\":128,"
		 "\"compression\":\"none\",\"chunks\":12,\"data_bytes\":8388608,"
		 "\"logical_bytes\":12582912,\"stored_bytes\":12582912,"
		 "\"compression_ratio\":1.000},{\"id\":12,");
	contains("\"stored_bytes\":0,\"compression_ratio\":null}]");
	assert_int_equal(buf[len - 1], '\n');
	f = mem();
	ctl_print_pools(f, NULL, 0, false, 0);
	fclose(f);
	assert_string_equal(buf, "no pools\n");
}

static void test_osds(void **state)
{
	struct cairn_osd_info o[2] = {
	    {.id = 0,
	     .addr = "10.0.0.1:7500",
	     .host = "node-a",
	     .media = CAIRN_MEDIA_SSD,
	     .up = true,
	     .in = true,
	     .weight = 100,
	     .capacity = 1ull << 40,
	     .used = 0,
	     .scrub = {.scrubbed = 1500, .bad = 2, .repaired = 1, .unrepairable = 1}},
	    {.id = 7,
	     .addr = "10.0.0.2:7500",
	     .host = "node\"b",
	     .media = CAIRN_MEDIA_HDD,
	     .up = false,
	     .in = false,
	     .weight = 0,
	     .capacity = 0,
	     .used = 0},
	};
	FILE *f = mem();

	(void)state;
	ctl_print_osds(f, o, 2, 9, false);
	fclose(f);
	contains(
	    "ID  ADDRESS        HOST    MEDIA  STATE     WEIGHT  CAPACITY  USED  SCRUBBED  BAD  "
	    "REPAIRED  UNREPAIRABLE\n");
	contains(
	    "0   10.0.0.1:7500  node-a  ssd    up,in     100     1.0 TiB   0 B   1500      2    "
	    "1         1\n");
	contains("down,out");
	contains("map epoch 9\n");
	f = mem();
	ctl_print_osds(f, o, 2, 9, true);
	fclose(f);
	contains("{\"epoch\":9,\"osds\":[{\"id\":0,\"addr\":\"10.0.0.1:7500\",\"host\":\"node-a\","
		 "\"media\":\"ssd\",\"up\":true,\"in\":true,\"weight\":100,"
		 "\"capacity\":1099511627776,\"used\":0,\"scrubbed\":1500,\"bad\":2,"
		 "\"repaired\":1,\"unrepairable\":1},");
	contains("\"host\":\"node\\\"b\"");
	f = mem();
	ctl_print_osds(f, NULL, 0, 3, false);
	fclose(f);
	assert_string_equal(buf, "no OSDs registered (map epoch 3)\n");
}

static void test_status(void **state)
{
	struct ctl_status s = {
	    .name = "cairn",
	    .nshards = 2,
	    .shard_addr = {"127.0.0.1:7400", "127.0.0.1:7401"},
	    .shard_status = {0, -ETIMEDOUT},
	    .status_rc = 0,
	    .st = {.epoch = 5,
		   .nshards = 2,
		   .nosds = 6,
		   .osds_up = 5,
		   .osds_in = 4,
		   .npools = 2,
		   .capacity = 6ull << 40,
		   .used = 1ull << 30,
		   .health = CAIRN_HEALTH_WARN,
		   .osds_unrepairable = 1,
		   .scrub = {.scrubbed = 9, .bad = 3, .repaired = 1, .unrepairable = 2}},
	    .pools = (struct cairn_pool_info *)pools,
	    .npools = 2};
	FILE *f = mem();

	(void)state;
	ctl_print_status(f, &s, false);
	fclose(f);
	contains("cluster:  cairn\n");
	contains("shards:   1 of 2 reachable\n");
	contains("unreachable");
	contains("health:   warn\n");
	contains("map:      epoch 5\n");
	contains("osds:     6 total: 5 up, 1 down; 4 in, 2 out\n");
	contains("scrub:    9 chunks verified, 3 bad, 1 repaired, 2 unrepairable\n");
	contains("warning:  1 OSD reports chunks scrub could not repair (cairnctl osd ls)\n");
	contains("space:    1.0 GiB used of 6.0 TiB\n");
	contains("  ID  NAME");
	f = mem();
	ctl_print_status(f, &s, true);
	fclose(f);
	contains("{\"cluster\":\"cairn\",\"shards\":[{\"id\":0,\"addr\":\"127.0.0.1:7400\","
		 "\"reachable\":true,\"error\":null},{\"id\":1,");
	contains("\"reachable\":false,\"error\":\"");
	contains("\"shards_reachable\":1,\"health\":\"warn\",\"epoch\":5,\"osds\":{\"total\":6,"
		 "\"up\":5,\"down\":1,\"in\":4,\"out\":2}");
	contains(",\"scrub\":{\"scrubbed\":9,\"bad\":3,\"repaired\":1,\"unrepairable\":2,"
		 "\"osds_unrepairable\":1}");
	contains(",\"pools\":[{\"id\":1,");
	assert_string_equal(buf + len - 3, "]}\n");
	/* shard 0 down: no summary at all */
	s.shard_status[0] = -ETIMEDOUT;
	s.status_rc = -ETIMEDOUT;
	f = mem();
	ctl_print_status(f, &s, false);
	fclose(f);
	contains("shards:   0 of 2 reachable\n");
	assert_null(strstr(buf, "health"));
}

static int teardown(void **state)
{
	(void)state;
	free(buf);
	buf = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format), cmocka_unit_test(test_json_str),
	    cmocka_unit_test(test_pools),  cmocka_unit_test(test_osds),
	    cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
