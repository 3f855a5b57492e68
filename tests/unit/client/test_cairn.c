/*
 * test_cairn.c - libcairn without a cluster: cairn_open() and its errors
 * (missing or invalid configuration, unreadable or too open key), the
 * handle's accessors, every argument check that answers with a POSIX errno
 * before anything is sent, pings of shards that do not answer, and a map
 * watcher that stops promptly at close even though shard 0 never answers.
 *
 * The configuration names two loopback ports nothing listens on, with a
 * 30 s request timeout: a check that wrongly reached the network would
 * answer -ETIMEDOUT after 30 s instead of its errno, and fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/cairn.h"
#include "client/cairn_admin.h"
#include "common/auth.h"
#include "common/error.h"

static char dir[PATH_MAX];
static char conf[PATH_MAX + 32];
static char key[PATH_MAX + 32];
static int ports[2];
static struct cairn *c;

/* A loopback port that nothing listens on (bound, then released). */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void write_conf(void)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "cluster = { name = \"unit\"; key_file = \"cairn.key\"; };\n"
		 "rpc = { timeout_ms = 30000; reconnect_min_ms = 20; reconnect_max_ms = 100; };\n"
		 "mds = { shards = ( { address = \"127.0.0.1:%d\"; data = \"m0\"; },\n"
		 "                   { address = \"127.0.0.1:%d\"; data = \"m1\"; } ); };\n",
		 ports[0], ports[1]);
	write_file(conf, text);
}

static int setup(void **state)
{
	char tmpl[PATH_MAX];
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/cairn-client-XXXXXX", base);
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/cairn.conf", dir);
	snprintf(key, sizeof(key), "%s/cairn.key", dir);
	ports[0] = closed_port();
	ports[1] = closed_port();
	write_conf();
	return auth_key_generate(key) ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	cairn_close(c);
	c = NULL;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void open_ok(uint32_t flags)
{
	struct cairn_open_opts o = {.conf_path = conf, .flags = flags};

	assert_int_equal(cairn_open(&o, &c), 0);
}

static void test_open_errors(void **state)
{
	char err[512], path[PATH_MAX + 64];
	struct cairn_open_opts o = {.conf_path = path, .errbuf = err, .errlen = sizeof(err)};

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(cairn_open(&o, &c), -ENOENT);
	assert_non_null(strstr(err, "missing.conf"));
	assert_null(c);
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	write_file(path, "cluster = { name = \"x\" \n");
	assert_int_equal(cairn_open(&o, &c), -CAIRN_ECONFIG);
	assert_non_null(strstr(err, "bad.conf"));
	/* a key readable by others is refused, naming the fix */
	snprintf(path, sizeof(path), "%s", conf);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(cairn_open(&o, &c), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(key, 0600), 0);
	/* a missing key file */
	snprintf(path, sizeof(path), "%s.away", key);
	assert_int_equal(rename(key, path), 0);
	snprintf(path, sizeof(path), "%s", conf);
	assert_int_equal(cairn_open(&o, &c), -ENOENT);
	assert_non_null(strstr(err, "cairn.key"));
	snprintf(path, sizeof(path), "%s.away", key);
	assert_int_equal(rename(path, key), 0);
	snprintf(path, sizeof(path), "%s", conf);
	/* bad options */
	o.flags = 0x100;
	assert_int_equal(cairn_open(&o, &c), -EINVAL);
	o.flags = 0;
	o.timeout_ms = -1;
	assert_int_equal(cairn_open(&o, &c), -EINVAL);
	assert_int_equal(cairn_open(NULL, &c), -EINVAL);
	assert_int_equal(cairn_open_conf(conf, NULL), -EINVAL);
}

static void test_open_env(void **state)
{
	(void)state;
	assert_int_equal(setenv(CAIRN_CONF_ENV, conf, 1), 0);
	assert_int_equal(cairn_open_conf(NULL, &c), 0);
	unsetenv(CAIRN_CONF_ENV);
	assert_int_equal(cairn_shard_count(c), 2);
	assert_string_equal(cairn_cluster_name(c), "unit");
	assert_int_equal(cairn_map_epoch(c), 0);
	assert_null(cairn_shard_addr(c, 2));
	assert_non_null(strstr(cairn_shard_addr(c, 1), ":"));
	assert_int_equal(atoi(strchr(cairn_shard_addr(c, 1), ':') + 1), ports[1]);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The map watcher waits on a shard that never answers; close stops it at once. */
static void test_close_with_watcher(void **state)
{
	int64_t t;

	(void)state;
	open_ok(0);
	usleep(100 * 1000);
	t = now_ms();
	cairn_close(c);
	c = NULL;
	assert_true(now_ms() - t < 2000);
}

static void test_ping_unreachable(void **state)
{
	int st[2] = {1, 1};
	int64_t t;

	(void)state;
	open_ok(CAIRN_OPEN_NO_MAP_WATCH);
	t = now_ms();
	assert_int_equal(cairn_shard_ping(c, 300, st), -EHOSTUNREACH);
	assert_int_equal(st[0], -ETIMEDOUT);
	assert_int_equal(st[1], -ETIMEDOUT);
	/* both at once, not one after the other */
	assert_true(now_ms() - t < 550);
	assert_int_equal(cairn_shard_ping(c, -1, st), -EINVAL);
	assert_int_equal(cairn_shard_ping(NULL, 10, st), -EINVAL);
}

static void test_name_checks(void **state)
{
	char longname[CAIRN_NAME_MAX + 2];
	struct cairn_attr a;
	struct cairn_open_info oi;

	(void)state;
	open_ok(CAIRN_OPEN_NO_MAP_WATCH);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[CAIRN_NAME_MAX + 1] = '\0';
	assert_int_equal(cairn_lookup(c, NULL, CAIRN_ROOT_INO, longname, &a), -ENAMETOOLONG);
	assert_int_equal(cairn_lookup(c, NULL, CAIRN_ROOT_INO, "", &a), -EINVAL);
	assert_int_equal(cairn_lookup(c, NULL, CAIRN_ROOT_INO, "a/b", &a), -EINVAL);
	assert_int_equal(cairn_lookup(c, NULL, CAIRN_ROOT_INO, NULL, &a), -EINVAL);
	assert_int_equal(cairn_mkdir(c, NULL, CAIRN_ROOT_INO, ".", 0755, NULL), -EEXIST);
	assert_int_equal(cairn_mkdir(c, NULL, CAIRN_ROOT_INO, "..", 0755, NULL), -EEXIST);
	assert_int_equal(cairn_create(c, NULL, CAIRN_ROOT_INO, "..", 0644, O_RDWR, &oi), -EEXIST);
	assert_int_equal(cairn_mknod(c, NULL, CAIRN_ROOT_INO, ".", S_IFIFO | 0644, 0, NULL),
			 -EEXIST);
	assert_int_equal(cairn_symlink(c, NULL, CAIRN_ROOT_INO, "..", "t", NULL), -EEXIST);
	assert_int_equal(cairn_link(c, NULL, 2, CAIRN_ROOT_INO, ".", NULL), -EEXIST);
	assert_int_equal(cairn_unlink(c, NULL, CAIRN_ROOT_INO, "."), -EISDIR);
	assert_int_equal(cairn_unlink(c, NULL, CAIRN_ROOT_INO, ".."), -EISDIR);
	assert_int_equal(cairn_rmdir(c, NULL, CAIRN_ROOT_INO, "."), -EINVAL);
	assert_int_equal(cairn_rmdir(c, NULL, CAIRN_ROOT_INO, ".."), -ENOTEMPTY);
	assert_int_equal(cairn_rename(c, NULL, CAIRN_ROOT_INO, ".", CAIRN_ROOT_INO, "b", 0),
			 -EBUSY);
	assert_int_equal(cairn_rename(c, NULL, CAIRN_ROOT_INO, "a", CAIRN_ROOT_INO, "..", 0),
			 -EBUSY);
	assert_int_equal(cairn_mkdir(c, NULL, CAIRN_ROOT_INO, longname, 0755, NULL), -ENAMETOOLONG);
}

static void test_arg_checks(void **state)
{
	char target[CAIRN_SYMLINK_MAX + 2], buf[16];
	struct cairn_setattr sa = {0};
	struct cairn_open_info oi;
	struct cairn_attr a;
	size_t len;

	(void)state;
	open_ok(CAIRN_OPEN_NO_MAP_WATCH);
	/* inode numbers: 0, and shards beyond the cluster's two */
	assert_int_equal(cairn_getattr(c, NULL, 0, &a), -EINVAL);
	assert_int_equal(cairn_getattr(c, NULL, (UINT64_C(2) << 48) | 1, &a), -ESTALE);
	assert_int_equal(cairn_rename(c, NULL, 1, "a", (UINT64_C(9) << 48) | 1, "b", 0), -ESTALE);
	assert_int_equal(cairn_getattr(NULL, NULL, 1, &a), -EINVAL);
	/* modes, flags and types */
	assert_int_equal(cairn_mknod(c, NULL, 1, "d", S_IFDIR | 0755, 0, NULL), -EINVAL);
	assert_int_equal(cairn_mknod(c, NULL, 1, "l", S_IFLNK | 0777, 0, NULL), -EINVAL);
	assert_int_equal(cairn_mkdir(c, NULL, 1, "d", S_IFREG | 0755, NULL), -EINVAL);
	assert_int_equal(cairn_create(c, NULL, 1, "f", S_IFDIR | 0644, O_RDWR, &oi), -EINVAL);
	assert_int_equal(cairn_create(c, NULL, 1, "f", 0644, O_ACCMODE, &oi), -EINVAL);
	assert_int_equal(cairn_open_meta(c, NULL, 1, O_ACCMODE, &oi), -EINVAL);
	assert_int_equal(
	    cairn_rename(c, NULL, 1, "a", 1, "b", CAIRN_RENAME_NOREPLACE | CAIRN_RENAME_EXCHANGE),
	    -EINVAL);
	assert_int_equal(cairn_rename(c, NULL, 1, "a", 1, "b", 4), -EINVAL);
	/* setattr */
	assert_int_equal(cairn_setattr(c, NULL, 1, &sa, &a), -EINVAL);
	sa.valid = CAIRN_SET_ATIME_NOW;
	assert_int_equal(cairn_setattr(c, NULL, 1, &sa, &a), -EINVAL);
	sa.valid = CAIRN_SET_MODE;
	sa.mode = 010000;
	assert_int_equal(cairn_setattr(c, NULL, 1, &sa, &a), -EINVAL);
	sa.valid = CAIRN_SET_MTIME;
	sa.mtime.tv_nsec = 1000000000;
	assert_int_equal(cairn_setattr(c, NULL, 1, &sa, &a), -EINVAL);
	sa.valid = 1u << 12;
	assert_int_equal(cairn_setattr(c, NULL, 1, &sa, &a), -EINVAL);
	/* symlink targets */
	assert_int_equal(cairn_symlink(c, NULL, 1, "s", "", NULL), -ENOENT);
	memset(target, 't', sizeof(target) - 1);
	target[CAIRN_SYMLINK_MAX + 1] = '\0';
	assert_int_equal(cairn_symlink(c, NULL, 1, "s", target, NULL), -ENAMETOOLONG);
	assert_int_equal(cairn_readlink(c, NULL, 1, NULL, 0, &len), -EINVAL);
	/* close and fsync */
	assert_int_equal(cairn_close_meta(c, NULL, 1, 0, NULL, NULL), -EBADF);
	assert_int_equal(
	    cairn_fsync_meta(c, NULL, 1, 5, &(struct cairn_publish){.valid = 4}, false, NULL),
	    -EINVAL);
	/* readdir */
	assert_int_equal(cairn_readdir(c, NULL, 1, NULL), -EINVAL);
	assert_int_equal(cairn_readdir(c, NULL, 1, &(struct cairn_readdir_args){0}), -EINVAL);
	(void)buf;
}

static void test_xattr_and_cred_checks(void **state)
{
	char name[CAIRN_XATTR_NAME_MAX + 2], buf[8];
	uint32_t groups[CAIRN_GROUPS_MAX + 1] = {0};
	struct cairn_cred cred = {
	    .uid = 1, .gid = 1, .ngroups = CAIRN_GROUPS_MAX + 1, .groups = groups};
	static char big[CAIRN_XATTR_SIZE_MAX + 1];
	struct cairn_attr a;
	size_t len;

	(void)state;
	open_ok(CAIRN_OPEN_NO_MAP_WATCH);
	memset(name, 'u', sizeof(name) - 1);
	name[CAIRN_XATTR_NAME_MAX + 1] = '\0';
	assert_int_equal(cairn_getxattr(c, NULL, 1, name, buf, sizeof(buf), &len), -ERANGE);
	assert_int_equal(cairn_getxattr(c, NULL, 1, "", buf, sizeof(buf), &len), -ERANGE);
	assert_int_equal(cairn_removexattr(c, NULL, 1, name), -ERANGE);
	assert_int_equal(cairn_setxattr(c, NULL, 1, "user.a", big, sizeof(big), 0), -E2BIG);
	assert_int_equal(
	    cairn_setxattr(c, NULL, 1, "user.a", "v", 1, CAIRN_XATTR_CREATE | CAIRN_XATTR_REPLACE),
	    -EINVAL);
	assert_int_equal(cairn_setxattr(c, NULL, 1, "user.a", NULL, 1, 0), -EINVAL);
	assert_int_equal(cairn_listxattr(c, NULL, 1, NULL, 8, &len), -EINVAL);
	/* credentials with too many groups, or groups missing */
	assert_int_equal(cairn_getattr(c, &cred, 1, &a), -EINVAL);
	cred.ngroups = 2;
	cred.groups = NULL;
	assert_int_equal(cairn_lookup(c, &cred, 1, "x", &a), -EINVAL);
}

static void test_path_checks(void **state)
{
	struct cairn_attr a;
	char path[4200];

	(void)state;
	open_ok(CAIRN_OPEN_NO_MAP_WATCH);
	assert_int_equal(cairn_stat_path(c, NULL, "", &a), -ENOENT);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(cairn_stat_path(c, NULL, path, &a), -ENAMETOOLONG);
	/* paths naming the root itself, with no lookup needed to refuse them */
	assert_int_equal(cairn_mkdir_path(c, NULL, "/", 0755, NULL), -EEXIST);
	assert_int_equal(cairn_rmdir_path(c, NULL, "//"), -EBUSY);
	assert_int_equal(cairn_unlink_path(c, NULL, "/"), -EISDIR);
	assert_int_equal(cairn_rename_path(c, NULL, "/", "x", 0), -EBUSY);
	assert_int_equal(cairn_create_path(c, NULL, "newfile/", 0644, NULL), -EISDIR);
	assert_int_equal(cairn_stat_path(NULL, NULL, "/", &a), -EINVAL);
}

static void test_misc(void **state)
{
	struct cairn_attr a = {.ino = 42,
			       .mode = S_IFREG | 0640,
			       .nlink = 2,
			       .uid = 7,
			       .gid = 8,
			       .size = 12345,
			       .blocks = 32,
			       .mtime = {.tv_sec = 5, .tv_nsec = 6}};
	struct stat st;
	int m;

	(void)state;
	cairn_attr_to_stat(&a, &st);
	assert_int_equal(st.st_ino, 42);
	assert_int_equal(st.st_mode, S_IFREG | 0640);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(st.st_size, 12345);
	assert_int_equal(st.st_blocks, 32);
	assert_int_equal(st.st_mtim.tv_nsec, 6);
	assert_int_equal(cairn_ino_shard((UINT64_C(3) << 48) | 77), 3);
	assert_string_equal(cairn_strerror(-CAIRN_EAUTH), error_str(CAIRN_EAUTH));
	assert_string_equal(cairn_strerror(-ENOENT), cairn_strerror(ENOENT));
	assert_int_equal(cairn_media_parse("ssd", &m), 0);
	assert_int_equal(m, CAIRN_MEDIA_SSD);
	assert_int_equal(cairn_media_parse("SSD", &m), -EINVAL);
	assert_string_equal(cairn_media_name(CAIRN_MEDIA_NVME), "nvme");
	assert_string_equal(cairn_media_name(0), "?");
	cairn_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_watcher, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arg_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xattr_and_cred_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_misc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
