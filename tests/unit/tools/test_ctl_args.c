/*
 * test_ctl_args.c - cairnctl's command-line grammar (tools/ctl_args.c):
 * every verb with its arguments, global options before and after the verb,
 * "--opt=value", the pool create defaults and checks, verbs of later
 * releases, and the one-line reasons given for bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/cairn_admin.h"
#include "tools/ctl_args.h"

static struct ctl_cmd cmd;
static char err[256];

/* Parses a NULL-terminated list of words as argv[1..]. */
static int parse_v(const char *first, va_list ap)
{
	char *argv[32] = {"cairnctl"};
	int argc = 1;

	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		assert_true(argc < 31);
		argv[argc++] = (char *)a;
	}
	err[0] = '\0';
	return ctl_parse(argc, argv, &cmd, err, sizeof(err));
}

static int parse(const char *first, ...)
{
	va_list ap;
	int rc;

	va_start(ap, first);
	rc = parse_v(first, ap);
	va_end(ap);
	return rc;
}

/* Expects -EINVAL with a reason containing what. */
static void expect_bad(const char *what, const char *first, ...)
{
	va_list ap;
	int rc;

	va_start(ap, first);
	rc = parse_v(first, ap);
	va_end(ap);
	assert_int_equal(rc, -EINVAL);
	if (!strstr(err, what))
		fail_msg("reason '%s' does not mention '%s'", err, what);
	assert_null(strchr(err, '\n'));
}

static void test_simple_verbs(void **state)
{
	(void)state;
	assert_int_equal(parse("status", NULL), 0);
	assert_int_equal(cmd.verb, CTL_STATUS);
	assert_null(cmd.conf);
	assert_false(cmd.json);
	assert_int_equal(cmd.timeout_ms, 0);
	assert_int_equal(parse("osd", "ls", NULL), 0);
	assert_int_equal(cmd.verb, CTL_OSD_LS);
	assert_int_equal(parse("pool", "ls", NULL), 0);
	assert_int_equal(cmd.verb, CTL_POOL_LS);
	assert_int_equal(parse("fsck", NULL), 0);
	assert_int_equal(cmd.verb, CTL_FSCK);
	assert_false(cmd.repair);
	assert_int_equal(parse("fsck", "--repair", "--no-progress", NULL), 0);
	assert_true(cmd.repair);
	assert_true(cmd.no_progress);
	assert_int_equal(parse("keygen", "/tmp/k", NULL), 0);
	assert_int_equal(cmd.verb, CTL_KEYGEN);
	assert_string_equal(cmd.keyfile, "/tmp/k");
	assert_int_equal(parse("--help", NULL), 0);
	assert_int_equal(cmd.verb, CTL_HELP);
	assert_int_equal(parse("status", "-h", NULL), 0);
	assert_int_equal(cmd.verb, CTL_HELP);
	assert_int_equal(parse("-V", NULL), 0);
	assert_int_equal(cmd.verb, CTL_VERSION);
}

static void test_globals(void **state)
{
	(void)state;
	assert_int_equal(parse("-c", "/x.conf", "--json", "-t", "7", "status", NULL), 0);
	assert_string_equal(cmd.conf, "/x.conf");
	assert_true(cmd.json);
	assert_int_equal(cmd.timeout_ms, 7000);
	/* after the verb, and in --opt=value form */
	assert_int_equal(parse("osd", "ls", "--conf=/y.conf", "--timeout=3", "--json", NULL), 0);
	assert_int_equal(cmd.verb, CTL_OSD_LS);
	assert_string_equal(cmd.conf, "/y.conf");
	assert_int_equal(cmd.timeout_ms, 3000);
	assert_true(cmd.json);
	expect_bad("timeout", "-t", "0", "status", NULL);
	expect_bad("timeout", "-t", "3601", "status", NULL);
	expect_bad("timeout", "--timeout=5s", "status", NULL);
	expect_bad("needs a value", "status", "-c", NULL);
	expect_bad("unknown option '--frobnicate'", "--frobnicate", "status", NULL);
	expect_bad("unknown option '-x'", "-x", "status", NULL);
	expect_bad("takes no value", "--json=yes", "status", NULL);
	expect_bad("no verb", "--json", NULL);
	expect_bad("no verb", NULL);
}

static void test_osd(void **state)
{
	(void)state;
	assert_int_equal(parse("osd", "out", "12", NULL), 0);
	assert_int_equal(cmd.verb, CTL_OSD_OUT);
	assert_int_equal(cmd.osd_id, 12);
	assert_int_equal(parse("osd", "in", "4294967295", NULL), 0);
	assert_int_equal(cmd.verb, CTL_OSD_IN);
	assert_int_equal(cmd.osd_id, UINT32_MAX);
	expect_bad("OSD id", "osd", "out", NULL);
	expect_bad("unknown option '-1'", "osd", "out", "-1", NULL);
	expect_bad("OSD id", "osd", "in", "x3", NULL);
	expect_bad("OSD id", "osd", "in", "4294967296", NULL);
	expect_bad("OSD id", "osd", "in", "3", "4", NULL);
	expect_bad("expected 'ls'", "osd", NULL);
	expect_bad("expected 'ls'", "osd", "rm", "3", NULL);
	expect_bad("expected 'ls'", "osd", "ls", "extra", NULL);
}

static void test_pool_create(void **state)
{
	const struct ctl_pool_args *p = &cmd.pool;

	(void)state;
	assert_int_equal(parse("pool", "create", "fast", "--scheme", "ec:8+3", NULL), 0);
	assert_int_equal(cmd.verb, CTL_POOL_CREATE);
	assert_string_equal(p->name, "fast");
	assert_int_equal(p->scheme, CAIRN_SCHEME_EC);
	assert_int_equal(p->k, 8);
	assert_int_equal(p->m, 3);
	assert_int_equal(p->chunk_size, CTL_POOL_CHUNK_DEFAULT);
	assert_int_equal(p->media, CAIRN_MEDIA_NVME);
	assert_int_equal(p->pg_count, CTL_POOL_PG_DEFAULT);
	assert_int_equal(p->compression, CAIRN_COMPRESS_NONE);
	assert_int_equal(parse("pool", "create", "--scheme=rep:3", "logs.v2", "--chunk-size", "4M",
			       "--media=hdd", "--pg-count", "65536", "--compression", "zstd", NULL),
			 0);
	assert_string_equal(p->name, "logs.v2");
	assert_int_equal(p->scheme, CAIRN_SCHEME_REP);
	assert_int_equal(p->k, 1);
	assert_int_equal(p->m, 2);
	assert_int_equal(p->chunk_size, 4u << 20);
	assert_int_equal(p->media, CAIRN_MEDIA_HDD);
	assert_int_equal(p->pg_count, 65536);
	assert_int_equal(p->compression, CAIRN_COMPRESS_ZSTD);
	assert_int_equal(
	    parse("pool", "create", "c", "--scheme", "ec:1+1", "--chunk-size", "4KiB", NULL), 0);
	assert_int_equal(p->chunk_size, 4096);
}

static void test_pool_create_bad(void **state)
{
	(void)state;
	expect_bad("--scheme", "pool", "create", "p", NULL);
	expect_bad("bad scheme", "pool", "create", "p", "--scheme", "ec:33+1", NULL);
	expect_bad("bad scheme", "pool", "create", "p", "--scheme", "ec:4+17", NULL);
	expect_bad("bad scheme", "pool", "create", "p", "--scheme", "rep:9", NULL);
	expect_bad("bad scheme", "pool", "create", "p", "--scheme", "raid5", NULL);
	expect_bad("chunk size", "pool", "create", "p", "--scheme", "rep:2", "--chunk-size", "3M",
		   NULL);
	expect_bad("chunk size", "pool", "create", "p", "--scheme", "rep:2", "--chunk-size", "2K",
		   NULL);
	expect_bad("chunk size", "pool", "create", "p", "--scheme", "rep:2", "--chunk-size", "128M",
		   NULL);
	expect_bad("media", "pool", "create", "p", "--scheme", "rep:2", "--media", "tape", NULL);
	expect_bad("pg count", "pool", "create", "p", "--scheme", "rep:2", "--pg-count", "0", NULL);
	expect_bad("pg count", "pool", "create", "p", "--scheme", "rep:2", "--pg-count", "65537",
		   NULL);
	expect_bad("compression", "pool", "create", "p", "--scheme", "rep:2", "--compression",
		   "lz4", NULL);
	expect_bad("bad name", "pool", "create", "a/b", "--scheme", "rep:2", NULL);
	expect_bad("bad name", "pool", "create",
		   "a234567890123456789012345678901234567890123456789012345678901234", "--scheme",
		   "rep:2", NULL);
	expect_bad("one pool NAME", "pool", "create", "--scheme", "rep:2", NULL);
	expect_bad("one pool NAME", "pool", "create", "a", "b", "--scheme", "rep:2", NULL);
	expect_bad("does not apply", "status", "--scheme", "rep:2", NULL);
	expect_bad("does not apply", "pool", "ls", "--media", "hdd", NULL);
	expect_bad("does not apply", "pool", "create", "p", "--scheme", "rep:2", "--repair", NULL);
}

static void test_other_verbs(void **state)
{
	(void)state;
	assert_int_equal(parse("quota", "set", "/a", "10G", NULL), 0);
	assert_int_equal(cmd.verb, CTL_LATER);
	assert_string_equal(cmd.later, "quota");
	assert_int_equal(parse("tier", "policy", "ls", NULL), 0);
	assert_string_equal(cmd.later, "tier");
	assert_int_equal(parse("warmup", NULL), 0);
	assert_string_equal(cmd.later, "warmup");
	assert_int_equal(parse("scrub", NULL), 0);
	assert_string_equal(cmd.later, "scrub");
	expect_bad("unknown verb 'frob'", "frob", NULL);
	expect_bad("unexpected argument 'now'", "status", "now", NULL);
	expect_bad("keygen: expected one FILE", "keygen", NULL);
	expect_bad("keygen: expected one FILE", "keygen", "a", "b", NULL);
	/* "--" ends the options: a file named like one */
	assert_int_equal(parse("keygen", "--", "--json", NULL), 0);
	assert_string_equal(cmd.keyfile, "--json");
	assert_false(cmd.json);
	assert_non_null(strstr(ctl_usage, "pool create NAME --scheme"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_verbs),
	    cmocka_unit_test(test_globals),
	    cmocka_unit_test(test_osd),
	    cmocka_unit_test(test_pool_create),
	    cmocka_unit_test(test_pool_create_bad),
	    cmocka_unit_test(test_other_verbs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
