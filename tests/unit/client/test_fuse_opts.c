/*
 * test_fuse_opts.c - mount options of cairn-fuse and mount.cairn
 * (client/fuse/mopt.c): our options taken out and checked, mount(8)'s own
 * dropped, libfuse's kept in order, several -o lists, the sloppy filter,
 * the length limit, and the name-or-path argument of mount.cairn.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/fuse/mopt.h"

static void test_defaults(void **state)
{
	struct mopt m;

	(void)state;
	mopt_init(&m);
	assert_true(m.entry_timeout < 0);
	assert_true(m.attr_timeout < 0);
	assert_int_equal(m.max_threads, 64);
	assert_true(m.splice);
	assert_false(m.direct_io);
	assert_string_equal(m.fuse, "");
	assert_int_equal(mopt_parse(&m, "", NULL, 0), 0);
	assert_string_equal(m.fuse, "");
}

static void test_ours_and_theirs(void **state)
{
	char err[128] = "";
	struct mopt m;

	(void)state;
	mopt_init(&m);
	assert_int_equal(
	    mopt_parse(&m,
		       "rw,allow_other,entry_timeout=2.5,_netdev,,attr_timeout=0,"
		       "default_permissions,x-systemd.automount,X-mount.mkdir,no_splice,"
		       "max_threads=8,defaults,noauto,nofail,user,comment=foo,ro,"
		       "relatime,nodiratime,lazytime,noatime",
		       err, sizeof(err)),
	    0);
	assert_string_equal(m.fuse, "allow_other,default_permissions,ro,noatime");
	assert_true(m.entry_timeout == 2.5);
	assert_true(m.attr_timeout == 0);
	assert_int_equal(m.max_threads, 8);
	assert_false(m.splice);
	/* A second -o adds to the first; a later value wins. */
	assert_int_equal(
	    mopt_parse(&m, "nosuid,splice,direct_io,entry_timeout=1", err, sizeof(err)), 0);
	assert_string_equal(m.fuse, "allow_other,default_permissions,ro,noatime,nosuid");
	assert_true(m.splice);
	assert_true(m.direct_io);
	assert_true(m.entry_timeout == 1);
	/* Unknown options are left to libfuse, which refuses them. */
	assert_int_equal(mopt_parse(&m, "frobnicate", err, sizeof(err)), 0);
	assert_string_equal(m.fuse, "allow_other,default_permissions,ro,noatime,nosuid,frobnicate");
}

static void expect_bad(const char *list, const char *what)
{
	char err[128] = "";
	struct mopt m;

	mopt_init(&m);
	assert_int_equal(mopt_parse(&m, list, err, sizeof(err)), -EINVAL);
	if (!strstr(err, what))
		fail_msg("reason '%s' does not mention '%s'", err, what);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_bad("entry_timeout=", "entry_timeout=");
	expect_bad("entry_timeout=-1", "expected seconds");
	expect_bad("attr_timeout=abc", "attr_timeout=abc");
	expect_bad("attr_timeout=1x", "expected seconds");
	expect_bad("attr_timeout=86401", "expected seconds");
	expect_bad("attr_timeout=nan", "expected seconds");
	expect_bad("attr_timeout=inf", "expected seconds");
	expect_bad("allow_other,entry_timeout=1e999", "entry_timeout=1e999");
	expect_bad("max_threads=0", "thread count");
	expect_bad("max_threads=1025", "thread count");
	expect_bad("max_threads=12a", "thread count");
	expect_bad("max_threads=", "thread count");
}

static void test_too_long(void **state)
{
	static char list[MOPT_LEN + 64];
	char err[128] = "";
	struct mopt m;
	size_t k = 0;

	(void)state;
	while (k + 16 < sizeof(list)) {
		memcpy(list + k, "fsname=abcdefg,", 15);
		k += 15;
	}
	list[k] = '\0';
	mopt_init(&m);
	assert_int_equal(mopt_parse(&m, list, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "too many options"));
	assert_true(strlen(m.fuse) < MOPT_LEN);
}

static void test_filter(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(mopt_filter("rw,defaults,allow_other,_netdev,x-foo=1,entry_timeout=3",
				     false, out, sizeof(out)),
			 0);
	assert_string_equal(out, "allow_other,entry_timeout=3");
	assert_int_equal(mopt_filter("ro,frob,nosuid,attr_timeout=1", false, out, sizeof(out)), 0);
	assert_string_equal(out, "ro,frob,nosuid,attr_timeout=1");
	/* Sloppy: what nobody understands is dropped too. */
	assert_int_equal(mopt_filter("ro,frob,nosuid,attr_timeout=1", true, out, sizeof(out)), 0);
	assert_string_equal(out, "ro,nosuid,attr_timeout=1");
	assert_int_equal(mopt_filter("", false, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(mopt_filter("allow_other,default_permissions", false, out, 12), -E2BIG);
	assert_true(mopt_mount_only("X-mount.mkdir", 13));
	assert_false(mopt_mount_only("rwx", 3));
	assert_false(mopt_known("allow_otherx", 12));
	assert_true(mopt_known("fsname=x", 8));
	assert_false(mopt_known("fsname", 6));
}

static void test_conf_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(mopt_conf_path("prod", "/etc/cairn", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/cairn/prod.conf");
	assert_int_equal(mopt_conf_path("a-b_c.1", "/etc/cairn", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/cairn/a-b_c.1.conf");
	assert_int_equal(mopt_conf_path("/srv/x.conf", "/etc/cairn", out, sizeof(out)), 0);
	assert_string_equal(out, "/srv/x.conf");
	assert_int_equal(mopt_conf_path("./x.conf", "/etc/cairn", out, sizeof(out)), 0);
	assert_string_equal(out, "./x.conf");
	assert_int_equal(mopt_conf_path("", "/etc/cairn", out, sizeof(out)), -EINVAL);
	assert_int_equal(mopt_conf_path(".hidden", "/etc/cairn", out, sizeof(out)), -EINVAL);
	assert_int_equal(mopt_conf_path("a b", "/etc/cairn", out, sizeof(out)), -EINVAL);
	assert_int_equal(mopt_conf_path("x", "/etc/cairn", out, 12), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),   cmocka_unit_test(test_ours_and_theirs),
	    cmocka_unit_test(test_bad_values), cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_filter),     cmocka_unit_test(test_conf_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
