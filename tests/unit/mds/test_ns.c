/*
 * test_ns.c - the namespace engine's core operations on a real shard
 * database: root creation, create/mknod/mkdir/symlink/link/unlink/rmdir
 * and each errno they document, attributes and their POSIX rules,
 * permissions (owner/group/other, root, sticky, setgid), xattrs, open
 * bookkeeping and orphans (also across a simulated crash), statfs, and
 * persistence across reopen and across a killed process.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mds/kv.h"
#include "mds/keys.h"
#include "ns_test.h"

static void test_root(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a = nt_get(f->ns, NS_ROOT_INO), b;
	struct ns_statfs st;

	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.uid, 0);
	assert_int_equal(a.gid, 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.size, 0);
	assert_true(a.parent == NS_ROOT_INO);
	assert_int_equal(ns_lookup(f->ns, &nt_bob, NS_ROOT_INO, N("."), &b), 0);
	assert_true(b.ino == NS_ROOT_INO);
	assert_int_equal(ns_lookup(f->ns, &nt_bob, NS_ROOT_INO, N(".."), &b), 0);
	assert_true(b.ino == NS_ROOT_INO);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.inodes, 1);
	assert_int_equal(ns_shard(f->ns), 0);
	/* Inodes of other shards are not here. */
	assert_int_equal(ns_getattr(f->ns, ns_ino_make(1, 1), &b), -EREMOTE);
	assert_int_equal(ns_getattr(f->ns, 999, &b), -ENOENT);
}

static void test_create(void **state)
{
	struct nt_fx *f = *state;
	struct ns_layout lay = {.pool_id = 3, .chunk_size = 1 << 20, .k = 4, .m = 2};
	struct ns_attr a, b, root0 = nt_get(f->ns, NS_ROOT_INO);
	char name[NS_NAME_MAX + 2];

	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("f"), 0640, &lay, false, &a),
			 -EACCES);
	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("f"), 0640, &lay, true, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 1000);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(ns_ino_shard(a.ino), 0);
	assert_true(a.generation >> 32 == 1); /* first boot */
	assert_true(a.layout.pool_id == 3 && a.layout.k == 4 && a.layout.m == 2 &&
		    a.layout.chunk_size == 1 << 20);
	assert_int_equal(ns_lookup(f->ns, &nt_bob, NS_ROOT_INO, N("f"), &b), 0);
	nt_attr_eq(&a, &b);
	b = nt_get(f->ns, NS_ROOT_INO);
	assert_int_equal(b.size, 1);
	assert_true(b.mtime.sec >= root0.mtime.sec);
	assert_int_equal(b.nlink, 2);

	/* O_EXCL semantics and name validation. */
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("f"), 0600, NULL, false, &b),
			 -EEXIST);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("."), 0600, NULL, false, &b),
			 -EEXIST);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N(".."), 0600, NULL, false, &b),
			 -EEXIST);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("a/b"), 0600, NULL, false, &b),
			 -EINVAL);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, "", 0, 0600, NULL, false, &b),
			 -EINVAL);
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, "a\0b", 3, 0600, NULL, false, &b),
			 -EINVAL);
	memset(name, 'n', sizeof(name));
	assert_int_equal(
	    ns_create(f->ns, &nt_alice, NS_ROOT_INO, name, NS_NAME_MAX + 1, 0600, NULL, false, &b),
	    -ENAMETOOLONG);
	assert_int_equal(
	    ns_create(f->ns, &nt_alice, NS_ROOT_INO, name, NS_NAME_MAX, 0600, NULL, false, &b), 0);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, NS_ROOT_INO, name, NS_NAME_MAX, &b), 0);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, NS_ROOT_INO, name, NS_NAME_MAX + 1, &b),
			 -ENAMETOOLONG);
	/* Parent problems. */
	assert_int_equal(ns_create(f->ns, &nt_alice, a.ino, N("x"), 0600, NULL, false, &b),
			 -ENOTDIR);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, a.ino, N("x"), &b), -ENOTDIR);
	assert_int_equal(ns_create(f->ns, &nt_alice, 12345, N("x"), 0600, NULL, false, &b),
			 -ENOENT);
	assert_int_equal(
	    ns_create(f->ns, &nt_alice, ns_ino_make(2, 77), N("x"), 0600, NULL, false, &b),
	    -EREMOTE);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, NS_ROOT_INO, N("nope"), &b), -ENOENT);
	/* layout NULL: the parent's. */
	assert_int_equal(ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("g"), 0600, NULL, false, &b),
			 0);
	assert_int_equal(b.layout.pool_id, 0);
	assert_int_equal(b.mode, S_IFREG | 0600);
	{
		struct ns_setattr sa = {.valid = NS_SET_LAYOUT, .layout = lay};
		uint64_t d = nt_mkdir(f->ns, &nt_alice, NS_ROOT_INO, "lay", 0755);

		assert_int_equal(ns_setattr(f->ns, &nt_bob, d, &sa, false, NULL), -EPERM);
		assert_int_equal(ns_setattr(f->ns, &nt_alice, d, &sa, false, NULL), 0);
		assert_int_equal(ns_create(f->ns, &nt_alice, d, N("in"), 0600, NULL, false, &b), 0);
		assert_true(b.layout.pool_id == 3 && b.layout.k == 4);
		assert_true(nt_get(f->ns, nt_mkdir(f->ns, &nt_alice, d, "sub", 0755)).layout.m ==
			    2);
		sa.layout.pool_id = 8;
		assert_int_equal(ns_setattr(f->ns, &nt_alice, b.ino, &sa, false, &b), 0);
		assert_int_equal(b.layout.pool_id, 8);
		assert_int_equal(ns_open(f->ns, &nt_alice, b.ino, O_WRONLY, false, NULL), 0);
		assert_int_equal(ns_close(f->ns, b.ino, true, 10, NULL, false, NULL), 0);
		assert_int_equal(ns_setattr(f->ns, &nt_alice, b.ino, &sa, false, NULL), -EBUSY);
	}
	/* Type bits in mode are ignored: always a regular file. */
	assert_int_equal(
	    ns_create(f->ns, &nt_alice, NS_ROOT_INO, N("h"), S_IFDIR | 0600, NULL, false, &b), 0);
	assert_int_equal(b.mode, S_IFREG | 0600);
}

static void test_mknod(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;

	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("fifo"), S_IFIFO | 0644, 0, false, &a), 0);
	assert_int_equal(a.mode, S_IFIFO | 0644);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("sock"), S_IFSOCK | 0600, 0, false, &a), 0);
	assert_int_equal(a.mode, S_IFSOCK | 0600);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("null"), S_IFCHR | 0666, 0x103, false, &a), 0);
	assert_true(a.rdev == 0x103);
	assert_int_equal(nt_get(f->ns, a.ino).rdev, 0x103);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("sda"), S_IFBLK | 0660, 0x800, false, &a), 0);
	assert_int_equal(ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("reg"), 0644, 0, false, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0644);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("d"), S_IFDIR | 0755, 0, false, &a), -EINVAL);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_root, NS_ROOT_INO, N("l"), S_IFLNK | 0777, 0, false, &a), -EINVAL);
	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_bob, NS_ROOT_INO, N("c2"), S_IFCHR | 0666, 1, false, &a), -EPERM);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_bob, NS_ROOT_INO, N("fifo2"), S_IFIFO | 0666, 0, false, &a), 0);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_bob, NS_ROOT_INO, N("fifo2"), S_IFIFO | 0666, 0, false, &a),
	    -EEXIST);
}

static void test_mkdir_rmdir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a, d;
	struct ns_drop drop;
	uint64_t d1, d2, file;

	d1 = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d1", 0755);
	d = nt_get(f->ns, d1);
	assert_int_equal(d.mode, S_IFDIR | 0755);
	assert_int_equal(d.nlink, 2);
	assert_true(d.parent == NS_ROOT_INO);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).nlink, 3);
	d2 = nt_mkdir(f->ns, &nt_root, d1, "d2", 0700);
	assert_int_equal(nt_get(f->ns, d1).nlink, 3);
	assert_int_equal(ns_lookup(f->ns, &nt_root, d2, N(".."), &a), 0);
	assert_true(a.ino == d1);
	file = nt_create(f->ns, &nt_root, d1, "file", 0644);
	assert_int_equal(nt_get(f->ns, d1).size, 2);
	assert_int_equal(ns_mkdir(f->ns, &nt_root, d1, N("d2"), 0755, 0, false, &a), -EEXIST);
	assert_int_equal(ns_mkdir(f->ns, &nt_root, d1, N("."), 0755, 0, false, &a), -EEXIST);
	assert_int_equal(ns_mkdir(f->ns, &nt_root, file, N("x"), 0755, 0, false, &a), -ENOTDIR);
	/* Another target shard: every check, then -EREMOTE, nothing made. */
	assert_int_equal(ns_mkdir(f->ns, &nt_root, d1, N("far"), 0755, 5, false, &a), -EREMOTE);
	assert_int_equal(nt_lookup(f->ns, d1, "far", NULL), -ENOENT);
	assert_int_equal(ns_mkdir(f->ns, &nt_root, d1, N("d2"), 0755, 5, false, &a), -EEXIST);
	assert_int_equal(ns_mkdir(f->ns, &nt_bob, d1, N("far"), 0755, 5, false, &a), -EACCES);

	assert_int_equal(ns_rmdir(f->ns, &nt_root, NS_ROOT_INO, N("d1"), false, NULL), -ENOTEMPTY);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, d1, N("file"), false, NULL), -ENOTDIR);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, d1, N("."), false, NULL), -EINVAL);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, d1, N(".."), false, NULL), -ENOTEMPTY);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, d1, N("zz"), false, NULL), -ENOENT);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, file, N("zz"), false, NULL), -ENOTDIR);
	assert_int_equal(ns_unlink(f->ns, &nt_root, d1, N("d2"), false, NULL), -EISDIR);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, d1, N("d2"), true, &drop), 0);
	assert_true(drop.ino == d2 && drop.freed && !drop.orphaned);
	assert_int_equal(ns_getattr(f->ns, d2, &a), -ENOENT);
	d = nt_get(f->ns, d1);
	assert_int_equal(d.nlink, 2);
	assert_int_equal(d.size, 1);
	assert_int_equal(ns_unlink(f->ns, &nt_root, d1, N("file"), false, NULL), 0);
	assert_int_equal(ns_rmdir(f->ns, &nt_root, NS_ROOT_INO, N("d1"), false, NULL), 0);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).nlink, 2);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).size, 0);
}

static void test_symlink(void **state)
{
	struct nt_fx *f = *state;
	char big[NS_SYMLINK_MAX + 1], buf[NS_SYMLINK_MAX + 1];
	struct ns_attr a;
	size_t len;
	uint64_t file;

	assert_int_equal(
	    ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("l"), N("/some/where"), false, &a), 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.size, 11);
	assert_int_equal(ns_readlink(f->ns, a.ino, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "/some/where", 11);
	assert_int_equal(ns_readlink(f->ns, a.ino, buf, 4, &len), -ERANGE);
	assert_int_equal(len, 11);
	memset(big, 'x', sizeof(big));
	assert_int_equal(
	    ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("big"), big, NS_SYMLINK_MAX, false, &a), 0);
	assert_int_equal(ns_readlink(f->ns, a.ino, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, NS_SYMLINK_MAX);
	assert_int_equal(
	    ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("big2"), big, NS_SYMLINK_MAX + 1, false, &a),
	    -ENAMETOOLONG);
	assert_int_equal(ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("e"), "", 0, false, &a),
			 -ENOENT);
	assert_int_equal(ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("z"), "a\0b", 3, false, &a),
			 -EINVAL);
	assert_int_equal(ns_symlink(f->ns, &nt_root, NS_ROOT_INO, N("l"), N("t"), false, &a),
			 -EEXIST);
	file = nt_create(f->ns, &nt_root, NS_ROOT_INO, "file", 0644);
	assert_int_equal(ns_readlink(f->ns, file, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(ns_readlink(f->ns, 4242, buf, sizeof(buf), &len), -ENOENT);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("l"), false, NULL), 0);
}

static void test_link_unlink(void **state)
{
	struct nt_fx *f = *state;
	struct ns_layout lay = {.pool_id = 9, .chunk_size = 4096, .k = 2, .m = 1};
	struct ns_xop x = {.op_id = 77};
	struct ns_attr a;
	struct ns_drop drop;
	uint64_t d, file;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	assert_int_equal(ns_create(f->ns, &nt_root, NS_ROOT_INO, N("f"), 0644, &lay, false, &a), 0);
	file = a.ino;
	assert_int_equal(ns_link(f->ns, &nt_root, file, d, N("f2"), false, &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(nt_get(f->ns, d).size, 1);
	assert_int_equal(ns_link(f->ns, &nt_root, file, d, N("f2"), false, &a), -EEXIST);
	assert_int_equal(ns_link(f->ns, &nt_root, file, d, N(".."), false, &a), -EEXIST);
	assert_int_equal(ns_link(f->ns, &nt_root, d, NS_ROOT_INO, N("dl"), false, &a), -EPERM);
	assert_int_equal(ns_link(f->ns, &nt_bob, file, d, N("f3"), false, &a), -EACCES);
	assert_int_equal(ns_link(f->ns, &nt_root, file, file, N("f3"), false, &a), -ENOTDIR);
	assert_int_equal(ns_link(f->ns, &nt_root, 5555, d, N("f3"), false, &a), -ENOENT);
	assert_int_equal(ns_link(f->ns, &nt_root, ns_ino_make(3, 20), d, N("f3"), false, &a),
			 -EREMOTE);
	/* At NS_LINK_MAX links, one more is -EMLINK. */
	assert_int_equal(ns_inode_nlink_adjust(f->ns, &x, file, NS_LINK_MAX - 2, NULL), 0);
	assert_int_equal(nt_get(f->ns, file).nlink, NS_LINK_MAX);
	assert_int_equal(ns_link(f->ns, &nt_root, file, d, N("f3"), false, &a), -EMLINK);
	x.op_id++;
	assert_int_equal(ns_inode_nlink_adjust(f->ns, &x, file, -(NS_LINK_MAX - 2), NULL), 0);

	/* Unlinking one name keeps the inode. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("f"), false, &drop), 0);
	assert_true(drop.ino == file && drop.nlink == 1 && !drop.freed && !drop.orphaned);
	assert_int_equal(nt_get(f->ns, file).nlink, 1);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("f"), false, &drop), -ENOENT);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("d"), false, &drop), -EISDIR);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("."), false, &drop), -EISDIR);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N(""), false, &drop), -EINVAL);
	assert_int_equal(ns_unlink(f->ns, &nt_bob, d, N("f2"), false, &drop), -EACCES);
	assert_int_equal(ns_unlink(f->ns, &nt_root, d, N("f2"), true, &drop), 0);
	assert_true(drop.ino == file && drop.freed && drop.nlink == 0);
	assert_true(drop.layout.pool_id == 9 && drop.layout.k == 2);
	assert_int_equal(ns_getattr(f->ns, file, &a), -ENOENT);
	assert_int_equal(nt_get(f->ns, d).size, 0);
}

static void test_setattr(void **state)
{
	struct nt_fx *f = *state;
	struct ns_setattr sa = {0};
	struct ns_attr a, before;
	uint64_t file, dir, fifo;

	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	file = nt_create(f->ns, &nt_alice, NS_ROOT_INO, "file", 0644);
	dir = nt_mkdir(f->ns, &nt_alice, NS_ROOT_INO, "dir", 0755);
	assert_int_equal(
	    ns_mknod(f->ns, &nt_alice, NS_ROOT_INO, N("fifo"), S_IFIFO | 0666, 0, false, &a), 0);
	fifo = a.ino;

	/* chmod: owner and root only; S_ISGID dropped for non-members. */
	assert_int_equal(nt_chmod(f->ns, &nt_bob, file, 0777), -EPERM);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, file, 0600), 0);
	assert_int_equal(nt_get(f->ns, file).mode, S_IFREG | 0600);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, file, 010000), -EINVAL);
	assert_int_equal(nt_chown(f->ns, file, 1000, 3000), 0);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, file, 02755), 0);
	assert_int_equal(nt_get(f->ns, file).mode, S_IFREG | 0755);
	assert_int_equal(nt_chmod(f->ns, &nt_root, file, 06755), 0);
	assert_int_equal(nt_get(f->ns, file).mode, S_IFREG | 06755);

	/* chown: root only; chown clears S_ISUID and S_ISGID (group x). */
	sa.valid = NS_SET_UID;
	sa.uid = 1001;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, NULL), -EPERM);
	assert_int_equal(ns_setattr(f->ns, &nt_root, file, &sa, false, &a), 0);
	assert_int_equal(a.uid, 1001);
	assert_int_equal(a.mode, S_IFREG | 0755);
	/* chgrp by the owner to one of their groups only. */
	assert_int_equal(nt_chown(f->ns, file, 1000, 1000), 0);
	sa.valid = NS_SET_GID;
	sa.gid = 2000;
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, NULL), -EPERM);
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, &a), 0);
	assert_int_equal(a.gid, 2000);
	sa.gid = 4000;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, NULL), -EPERM);
	/* chmod g+s without group x survives chgrp. */
	assert_int_equal(nt_chmod(f->ns, &nt_alice, file, 02644), 0);
	sa.gid = 1000;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 02644);

	/* Size: write permission, regular files only, mtime/ctime. */
	before = nt_get(f->ns, file);
	sa.valid = NS_SET_SIZE;
	sa.size = 12345;
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, NULL), -EACCES);
	sa.valid |= NS_SET_HANDLE;
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, &a), 0);
	assert_int_equal(a.size, 12345);
	assert_true(a.ctime.sec > before.ctime.sec ||
		    (a.ctime.sec == before.ctime.sec && a.ctime.nsec >= before.ctime.nsec));
	sa.valid = NS_SET_SIZE;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, dir, &sa, false, NULL), -EISDIR);
	assert_int_equal(ns_setattr(f->ns, &nt_alice, fifo, &sa, false, NULL), -EINVAL);
	sa.size = (uint64_t)INT64_MAX + 1;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, NULL), -EFBIG);
	/* Truncation by non-root clears S_ISUID/S_ISGID. */
	assert_int_equal(nt_chmod(f->ns, &nt_root, file, 06775), 0);
	sa.size = 10;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0775);

	/* Times: explicit by owner or root; "now" also with write access. */
	sa.valid = NS_SET_ATIME | NS_SET_MTIME;
	sa.atime = (struct ns_time){100, 5};
	sa.mtime = (struct ns_time){200, 6};
	assert_int_equal(ns_setattr(f->ns, &nt_carol, file, &sa, false, NULL), -EPERM);
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, &a), 0);
	assert_true(a.atime.sec == 100 && a.atime.nsec == 5 && a.mtime.sec == 200);
	assert_true(a.ctime.sec > 200);
	sa.valid = NS_SET_ATIME_NOW | NS_SET_MTIME_NOW;
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, NULL), -EACCES);
	assert_int_equal(ns_setattr(f->ns, &nt_carol, file, &sa, false, &a), -EACCES);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, file, 0666), 0);
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, &a), 0);
	assert_true(a.mtime.sec > 200);
	sa.valid = NS_SET_CTIME;
	sa.ctime = (struct ns_time){300, 7};
	assert_int_equal(ns_setattr(f->ns, &nt_bob, file, &sa, false, NULL), -EPERM);
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, true, &a), 0);
	assert_true(a.ctime.sec == 300 && a.ctime.nsec == 7);
	assert_int_equal(ns_sync(f->ns), 0);
	sa.valid = NS_SET_MTIME;
	sa.mtime.nsec = 1000000000;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, NULL), -EINVAL);
	sa.valid = 1u << 20;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, file, &sa, false, NULL), -EINVAL);
	sa.valid = NS_SET_MODE;
	sa.mode = 0644;
	assert_int_equal(ns_setattr(f->ns, &nt_alice, 9999, &sa, false, NULL), -ENOENT);
	assert_int_equal(ns_setattr(f->ns, &nt_alice, ns_ino_make(1, 9), &sa, false, NULL),
			 -EREMOTE);
	/* ctime moves on every change, even a no-op chmod. */
	before = nt_get(f->ns, dir);
	usleep(2000);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, dir, 0755), 0);
	a = nt_get(f->ns, dir);
	assert_true(a.ctime.sec > before.ctime.sec || a.ctime.nsec > before.ctime.nsec);
}

static void test_permissions(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;
	uint64_t priv, shared, grp, file, exe;

	priv = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "priv", 0700);
	assert_int_equal(nt_chown(f->ns, priv, 1000, 1000), 0);
	file = nt_create(f->ns, &nt_alice, priv, "secret", 0600);
	/* No search permission: lookup and create fail. */
	assert_int_equal(ns_lookup(f->ns, &nt_bob, priv, N("secret"), &a), -EACCES);
	assert_int_equal(ns_create(f->ns, &nt_bob, priv, N("x"), 0600, NULL, false, &a), -EACCES);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, priv, N("secret"), &a), 0);
	/* Search but no write: lookup works, create fails. */
	shared = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "shared", 0755);
	nt_create(f->ns, &nt_root, shared, "ro", 0644);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, shared, N("ro"), &a), 0);
	assert_int_equal(ns_create(f->ns, &nt_alice, shared, N("x"), 0600, NULL, false, &a),
			 -EACCES);
	assert_int_equal(ns_unlink(f->ns, &nt_alice, shared, N("ro"), false, NULL), -EACCES);
	/* Group bits through a supplementary group. */
	grp = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "grp", 0070);
	assert_int_equal(nt_chown(f->ns, grp, 0, 2000), 0);
	assert_int_equal(ns_create(f->ns, &nt_carol, grp, N("c"), 0600, NULL, false, &a), 0);
	assert_int_equal(ns_create(f->ns, &nt_alice, grp, N("a"), 0600, NULL, false, &a), 0);
	assert_int_equal(ns_create(f->ns, &nt_bob, grp, N("b"), 0600, NULL, false, &a), -EACCES);
	/* The owner's bits apply to the owner even if the group's allow more. */
	assert_int_equal(nt_chown(f->ns, grp, 1002, 2000), 0);
	assert_int_equal(ns_create(f->ns, &nt_carol, grp, N("c2"), 0600, NULL, false, &a), -EACCES);

	/* access(2) and root's execute rule. */
	assert_int_equal(ns_access(f->ns, &nt_alice, file, R_OK | W_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_alice, file, X_OK), -EACCES);
	assert_int_equal(ns_access(f->ns, &nt_bob, file, R_OK), -EACCES);
	assert_int_equal(ns_access(f->ns, &nt_bob, file, F_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_root, file, R_OK | W_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_root, file, X_OK), -EACCES);
	assert_int_equal(ns_access(f->ns, &nt_root, priv, X_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_root, file, 8), -EINVAL);
	assert_int_equal(ns_access(f->ns, &nt_root, 4040, F_OK), -ENOENT);
	exe = nt_create(f->ns, &nt_alice, priv, "exe", 0601);
	assert_int_equal(ns_access(f->ns, &nt_root, exe, X_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_bob, exe, X_OK), 0);
	assert_int_equal(ns_access(f->ns, &nt_alice, exe, X_OK), -EACCES);
}

static void test_sticky(void **state)
{
	struct nt_fx *f = *state;
	uint64_t tmp;

	tmp = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "tmp", 01777);
	assert_int_equal(nt_get(f->ns, tmp).mode, S_IFDIR | 01777);
	nt_create(f->ns, &nt_alice, tmp, "a1", 0666);
	nt_create(f->ns, &nt_alice, tmp, "a2", 0666);
	nt_mkdir(f->ns, &nt_alice, tmp, "ad", 0777);
	assert_int_equal(ns_unlink(f->ns, &nt_bob, tmp, N("a1"), false, NULL), -EPERM);
	assert_int_equal(ns_rmdir(f->ns, &nt_bob, tmp, N("ad"), false, NULL), -EPERM);
	assert_int_equal(ns_unlink(f->ns, &nt_alice, tmp, N("a1"), false, NULL), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, tmp, N("a2"), false, NULL), 0);
	/* The directory's owner may remove anything in it. */
	assert_int_equal(nt_chown(f->ns, tmp, 1001, 1001), 0);
	assert_int_equal(ns_rmdir(f->ns, &nt_bob, tmp, N("ad"), false, NULL), 0);
}

static void test_setgid_dir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;
	uint64_t g, sub;

	g = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "g", 0777);
	assert_int_equal(nt_chown(f->ns, g, 1000, 2000), 0);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, g, 02777), 0);
	/* bob is not in group 2000 but his files get it. */
	assert_int_equal(ns_create(f->ns, &nt_bob, g, N("f"), 0644, NULL, false, &a), 0);
	assert_int_equal(a.gid, 2000);
	assert_int_equal(a.mode, S_IFREG | 0644);
	/* Subdirectories inherit the group and S_ISGID. */
	assert_int_equal(ns_mkdir(f->ns, &nt_bob, g, N("sub"), 0755, 0, false, &a), 0);
	sub = a.ino;
	assert_int_equal(a.gid, 2000);
	assert_int_equal(a.mode, S_IFDIR | 02755);
	assert_int_equal(ns_create(f->ns, &nt_bob, sub, N("deep"), 0644, NULL, false, &a), 0);
	assert_int_equal(a.gid, 2000);
	/* A non-member cannot make a setgid executable in that group... */
	assert_int_equal(ns_create(f->ns, &nt_bob, g, N("sg"), 02755, NULL, false, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0755);
	/* ...a member can. */
	assert_int_equal(ns_create(f->ns, &nt_carol, g, N("sg2"), 02755, NULL, false, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 02755);
	/* Without S_ISGID on the parent: the creator's group. */
	assert_int_equal(ns_create(f->ns, &nt_bob, NS_ROOT_INO, N("plain"), 0644, NULL, false, &a),
			 -EACCES);
	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	assert_int_equal(ns_create(f->ns, &nt_bob, NS_ROOT_INO, N("plain"), 0644, NULL, false, &a),
			 0);
	assert_int_equal(a.gid, 1001);
}

static void test_xattr(void **state)
{
	struct nt_fx *f = *state;
	static char big[NS_XATTR_SIZE_MAX + 1];
	char buf[256], name[NS_XATTR_NAME_MAX + 2];
	size_t len;
	uint64_t file, lnk, tmp;
	struct ns_attr a;

	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	file = nt_create(f->ns, &nt_alice, NS_ROOT_INO, "file", 0644);
	assert_int_equal(ns_getxattr(f->ns, &nt_alice, file, N("user.a"), buf, sizeof(buf), &len),
			 -ENODATA);
	assert_int_equal(ns_listxattr(f->ns, &nt_alice, file, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("user.a"), "1", 1, 0, false), 0);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("user.b"), "", 0, 0, false), 0);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, N("user.a"), "22", 2, NS_XATTR_CREATE, false),
	    -EEXIST);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, N("user.c"), "3", 1, NS_XATTR_REPLACE, false),
	    -ENODATA);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, N("user.a"), "22", 2, NS_XATTR_REPLACE, false), 0);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("user.a"), "22", 2, 3, false),
			 -EINVAL);
	assert_int_equal(ns_getxattr(f->ns, &nt_bob, file, N("user.a"), buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(buf, "22", 2);
	assert_int_equal(ns_getxattr(f->ns, &nt_bob, file, N("user.a"), NULL, 0, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(ns_getxattr(f->ns, &nt_bob, file, N("user.a"), buf, 1, &len), -ERANGE);
	assert_int_equal(ns_getxattr(f->ns, &nt_bob, file, N("user.b"), buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	/* Writing needs write permission. */
	assert_int_equal(ns_setxattr(f->ns, &nt_bob, file, N("user.x"), "1", 1, 0, false), -EACCES);
	assert_int_equal(ns_removexattr(f->ns, &nt_bob, file, N("user.a"), false), -EACCES);

	/* Names and sizes. */
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, name, NS_XATTR_NAME_MAX, "v", 1, 0, false), 0);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, name, NS_XATTR_NAME_MAX + 1, "v", 1, 0, false),
	    -ERANGE);
	assert_int_equal(ns_getxattr(f->ns, &nt_alice, file, name, NS_XATTR_NAME_MAX + 1, buf,
				     sizeof(buf), &len),
			 -ERANGE);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, "", 0, "v", 1, 0, false), -ERANGE);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("user."), "v", 1, 0, false),
			 -EINVAL);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, N("system.posix_acl_access"), "v", 1, 0, false),
	    -EOPNOTSUPP);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("other.x"), "v", 1, 0, false),
			 -EOPNOTSUPP);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("user.big"), big,
				     NS_XATTR_SIZE_MAX + 1, 0, false),
			 -E2BIG);
	assert_int_equal(
	    ns_setxattr(f->ns, &nt_alice, file, N("user.big"), big, NS_XATTR_SIZE_MAX, 0, false),
	    0);
	assert_int_equal(ns_getxattr(f->ns, &nt_alice, file, N("user.big"), NULL, 0, &len), 0);
	assert_int_equal(len, NS_XATTR_SIZE_MAX);
	assert_int_equal(ns_removexattr(f->ns, &nt_alice, file, N("user.big"), false), 0);
	assert_int_equal(ns_removexattr(f->ns, &nt_alice, file, N("user.big"), false), -ENODATA);
	assert_int_equal(ns_removexattr(f->ns, &nt_alice, file, name, NS_XATTR_NAME_MAX, false), 0);

	/* trusted.*: root only, hidden from others; security.*: root writes. */
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("trusted.t"), "t", 1, 0, false),
			 -EPERM);
	assert_int_equal(ns_setxattr(f->ns, &nt_root, file, N("trusted.t"), "t", 1, 0, false), 0);
	assert_int_equal(
	    ns_getxattr(f->ns, &nt_alice, file, N("trusted.t"), buf, sizeof(buf), &len), -ENODATA);
	assert_int_equal(ns_getxattr(f->ns, &nt_root, file, N("trusted.t"), buf, sizeof(buf), &len),
			 0);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, file, N("security.s"), "s", 1, 0, false),
			 -EPERM);
	assert_int_equal(ns_setxattr(f->ns, &nt_root, file, N("security.s"), "s", 1, 0, false), 0);
	assert_int_equal(ns_getxattr(f->ns, &nt_bob, file, N("security.s"), buf, sizeof(buf), &len),
			 0);
	assert_int_equal(ns_removexattr(f->ns, &nt_alice, file, N("trusted.t"), false), -EPERM);

	/* list: NUL-separated, size query, short buffer. */
	assert_int_equal(ns_listxattr(f->ns, &nt_alice, file, NULL, 0, &len), 0);
	assert_int_equal(len, sizeof("security.s") + sizeof("user.a") + sizeof("user.b"));
	assert_int_equal(ns_listxattr(f->ns, &nt_alice, file, buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "security.s\0user.a\0user.b\0", len);
	assert_int_equal(ns_listxattr(f->ns, &nt_alice, file, buf, 5, &len), -ERANGE);
	assert_int_equal(ns_listxattr(f->ns, &nt_root, file, NULL, 0, &len), 0);
	assert_int_equal(len, 35); /* and trusted.t */

	/* user.* only on regular files and directories. */
	assert_int_equal(ns_symlink(f->ns, &nt_alice, NS_ROOT_INO, N("lnk"), N("file"), false, &a),
			 0);
	lnk = a.ino;
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, lnk, N("user.a"), "1", 1, 0, false), -EPERM);
	assert_int_equal(ns_getxattr(f->ns, &nt_alice, lnk, N("user.a"), buf, sizeof(buf), &len),
			 -ENODATA);
	/* Sticky directories: user.* by the owner only. */
	tmp = nt_mkdir(f->ns, &nt_alice, NS_ROOT_INO, "tmp", 01777);
	assert_int_equal(ns_setxattr(f->ns, &nt_bob, tmp, N("user.a"), "1", 1, 0, false), -EPERM);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, tmp, N("user.a"), "1", 1, 0, false), 0);
	assert_int_equal(ns_setxattr(f->ns, &nt_alice, 7777, N("user.a"), "1", 1, 0, false),
			 -ENOENT);
	assert_int_equal(
	    ns_getxattr(f->ns, &nt_alice, ns_ino_make(4, 4), N("user.a"), buf, sizeof(buf), &len),
	    -EREMOTE);
}

static void test_open_close(void **state)
{
	struct nt_fx *f = *state;
	struct ns_time mt = {.sec = 1700000000, .nsec = 42};
	struct ns_attr a;
	struct ns_drop drop;
	struct ns_statfs st;
	uint64_t file, dir, lnk;

	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 0777), 0);
	file = nt_create(f->ns, &nt_alice, NS_ROOT_INO, "file", 0640);
	dir = nt_mkdir(f->ns, &nt_alice, NS_ROOT_INO, "dir", 0755);
	assert_int_equal(ns_symlink(f->ns, &nt_alice, NS_ROOT_INO, N("l"), N("file"), false, &a),
			 0);
	lnk = a.ino;
	assert_int_equal(ns_open(f->ns, &nt_bob, file, O_RDONLY, false, &a), -EACCES);
	assert_int_equal(ns_open(f->ns, &nt_carol, file, O_RDONLY, false, &a), -EACCES);
	assert_int_equal(ns_open(f->ns, &nt_alice, dir, O_RDWR, false, &a), -EISDIR);
	assert_int_equal(ns_open(f->ns, &nt_alice, dir, O_RDONLY, false, &a), 0);
	assert_int_equal(ns_close(f->ns, dir, false, 0, NULL, false, &drop), 0);
	assert_int_equal(ns_open(f->ns, &nt_alice, lnk, O_RDONLY, false, &a), -ELOOP);
	assert_int_equal(ns_open(f->ns, &nt_alice, 1234, O_RDONLY, false, &a), -ENOENT);
	assert_int_equal(ns_close(f->ns, file, false, 0, NULL, false, &drop), -EBADF);

	/* close publishes size (never shrinking) and mtime. */
	assert_int_equal(ns_open(f->ns, &nt_alice, file, O_WRONLY, false, &a), 0);
	assert_int_equal(ns_close(f->ns, file, true, 5000, &mt, true, &drop), 0);
	a = nt_get(f->ns, file);
	assert_int_equal(a.size, 5000);
	assert_true(a.mtime.sec == mt.sec && a.mtime.nsec == 42);
	assert_int_equal(ns_open(f->ns, &nt_alice, file, O_RDWR, false, &a), 0);
	assert_int_equal(ns_close(f->ns, file, true, 100, NULL, false, &drop), 0);
	assert_int_equal(nt_get(f->ns, file).size, 5000);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.bytes, 5000);
	/* O_TRUNC needs write permission and truncates. */
	assert_int_equal(ns_open(f->ns, &nt_bob, file, O_RDONLY | O_TRUNC, false, &a), -EACCES);
	assert_int_equal(ns_open(f->ns, &nt_alice, file, O_WRONLY | O_TRUNC, false, &a), 0);
	assert_int_equal(a.size, 0);
	assert_int_equal(nt_get(f->ns, file).size, 0);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.bytes, 0);

	/* Unlinked while open: an orphan until the last close. */
	assert_int_equal(ns_open(f->ns, &nt_alice, file, O_RDONLY, false, &a), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_alice, NS_ROOT_INO, N("file"), false, &drop), 0);
	assert_true(drop.ino == file && drop.orphaned && !drop.freed && drop.nlink == 0);
	a = nt_get(f->ns, file);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(ns_lookup(f->ns, &nt_alice, NS_ROOT_INO, N("file"), &a), -ENOENT);
	assert_int_equal(ns_close(f->ns, file, true, 77, NULL, false, &drop), 0);
	assert_int_equal(drop.ino, 0);
	assert_int_equal(ns_close(f->ns, file, false, 0, NULL, false, &drop), 0);
	assert_true(drop.ino == file && drop.freed && drop.size == 77);
	assert_int_equal(ns_getattr(f->ns, file, &a), -ENOENT);
	assert_int_equal(ns_close(f->ns, file, false, 0, NULL, false, &drop), -EBADF);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.inodes, 3);

	/* An open directory removed stays until closed too. */
	assert_int_equal(ns_open(f->ns, &nt_alice, dir, O_RDONLY, false, &a), 0);
	assert_int_equal(ns_rmdir(f->ns, &nt_alice, NS_ROOT_INO, N("dir"), false, &drop), 0);
	assert_true(drop.orphaned);
	assert_int_equal(ns_create(f->ns, &nt_alice, dir, N("x"), 0600, NULL, false, &a), -ENOENT);
	assert_int_equal(ns_close(f->ns, dir, false, 0, NULL, false, &drop), 0);
	assert_true(drop.freed);
}

static struct {
	int calls;
	struct ns_drop d;
} reaped;

static void on_orphan(void *arg, const struct ns_drop *d)
{
	assert_ptr_equal(arg, &reaped);
	reaped.calls++;
	reaped.d = *d;
}

static void test_orphan_after_crash(void **state)
{
	struct nt_fx *f = *state;
	struct ns_layout lay = {.pool_id = 5, .chunk_size = 65536, .k = 1, .m = 2};
	struct ns_options o = {.shard = 0, .orphan_freed = on_orphan, .cb_arg = &reaped};
	struct ns_attr a;
	struct ns_drop drop;
	struct ns_statfs st;
	uint64_t file;

	assert_int_equal(ns_create(f->ns, &nt_root, NS_ROOT_INO, N("f"), 0644, &lay, false, &a), 0);
	file = a.ino;
	assert_int_equal(ns_setxattr(f->ns, &nt_root, file, N("user.x"), "y", 1, 0, false), 0);
	assert_int_equal(ns_open(f->ns, &nt_root, file, O_RDWR, false, &a), 0);
	assert_int_equal(ns_close(f->ns, file, true, 999, NULL, false, NULL), 0);
	assert_int_equal(ns_open(f->ns, &nt_root, file, O_RDWR, false, &a), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("f"), false, &drop), 0);
	assert_true(drop.orphaned);
	/* "Crash": the database closes without ns_close. */
	ns_db_close(f->ns);
	f->ns = NULL;
	memset(&reaped, 0, sizeof(reaped));
	assert_int_equal(ns_db_open(f->path[0], &o, &f->ns), 0);
	assert_int_equal(reaped.calls, 1);
	assert_true(reaped.d.ino == file && reaped.d.freed && reaped.d.size == 999);
	assert_true(reaped.d.layout.pool_id == 5 && reaped.d.layout.m == 2);
	assert_int_equal(ns_getattr(f->ns, file, &a), -ENOENT);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.inodes, 1);
	assert_int_equal(st.bytes, 0);
	/* Once only. */
	ns_db_close(f->ns);
	memset(&reaped, 0, sizeof(reaped));
	assert_int_equal(ns_db_open(f->path[0], &o, &f->ns), 0);
	assert_int_equal(reaped.calls, 0);
}

/* Counts the keys of a column family whose first 8 bytes are ino. */
static int count_keys(const char *path, unsigned cf, uint64_t ino)
{
	struct kv_options o = {0};
	struct kv_db *db;
	struct kv_iter *it;
	uint8_t prefix[8];
	int n = 0;

	assert_int_equal(kv_open(path, &o, keys_cfs, KEYS_CF_COUNT, &db), 0);
	it = kv_iter_new(db, cf, prefix, keys_u64(prefix, ino));
	assert_non_null(it);
	for (; kv_iter_valid(it); kv_iter_next(it))
		n++;
	kv_iter_free(it);
	kv_close(db);
	return n;
}

static void test_persistence(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a, b;
	struct ns_statfs st;
	uint64_t d, file, max_ino = 0, gen1;
	char name[32];
	size_t len;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(ns_create(f->ns, &nt_root, d, N(name), 0644, NULL, false, &a), 0);
		max_ino = a.ino > max_ino ? a.ino : max_ino;
	}
	file = a.ino;
	gen1 = a.generation;
	assert_int_equal(ns_setxattr(f->ns, &nt_root, file, N("user.k"), "v", 1, 0, false), 0);
	assert_int_equal(ns_symlink(f->ns, &nt_root, d, N("ln"), N("f1"), false, &a), 0);
	max_ino = a.ino;
	ns_db_close(f->ns);
	assert_int_equal(count_keys(f->path[0], KEYS_CF_XATTR, file), 1);
	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
	b = nt_get(f->ns, d);
	assert_int_equal(b.size, 51);
	assert_int_equal(ns_lookup(f->ns, &nt_root, d, N("f49"), &a), 0);
	assert_true(a.ino == file);
	assert_int_equal(ns_getxattr(f->ns, &nt_root, file, N("user.k"), name, sizeof(name), &len),
			 0);
	assert_int_equal(len, 1);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.inodes, 53);
	/* New numbers are above every number handed out before. */
	assert_int_equal(ns_create(f->ns, &nt_root, d, N("new"), 0644, NULL, false, &a), 0);
	assert_true(a.ino > max_ino);
	assert_true(a.generation >> 32 == (gen1 >> 32) + 1);
	/* Unlinking removes the xattrs with the inode. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, d, N("f49"), false, NULL), 0);
	ns_db_close(f->ns);
	assert_int_equal(count_keys(f->path[0], KEYS_CF_XATTR, file), 0);
	assert_int_equal(count_keys(f->path[0], KEYS_CF_INODE, file), 0);
	/* A database belongs to one shard. */
	assert_int_equal(nt_open(f->path[0], 1, &f->ns), -EINVAL);
	assert_null(f->ns);
	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
}

/* A child process creates files (synced) and dies without closing. */
static void test_killed_process(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;
	uint64_t seen[200];
	int status, pipefd[2];
	pid_t pid;
	char name[32];
	ssize_t got;

	ns_db_close(f->ns);
	f->ns = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ns *ns;

		close(pipefd[0]);
		if (nt_open(f->path[0], 0, &ns))
			_exit(2);
		for (int i = 0; i < 200; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			if (ns_create(ns, &nt_root, NS_ROOT_INO, N(name), 0644, NULL, i == 199, &a))
				_exit(3);
			if (write(pipefd[1], &a.ino, sizeof(a.ino)) != sizeof(a.ino))
				_exit(4);
		}
		_exit(0); /* no ns_db_close: RocksDB is not shut down */
	}
	close(pipefd[1]);
	got = read(pipefd[0], seen, sizeof(seen));
	while (got >= 0 && (size_t)got < sizeof(seen)) {
		ssize_t more = read(pipefd[0], (char *)seen + got, sizeof(seen) - (size_t)got);

		if (more <= 0)
			break;
		got += more;
	}
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got, (ssize_t)sizeof(seen));

	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
	for (int i = 0; i < 200; i++) {
		uint64_t ino;

		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, name, &ino), 0);
		assert_true(ino == seen[i]);
	}
	assert_int_equal(ns_create(f->ns, &nt_root, NS_ROOT_INO, N("after"), 0644, NULL, false, &a),
			 0);
	for (int i = 0; i < 200; i++)
		assert_true(a.ino > seen[i]);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_root),
	    T(test_create),
	    T(test_mknod),
	    T(test_mkdir_rmdir),
	    T(test_symlink),
	    T(test_link_unlink),
	    T(test_setattr),
	    T(test_permissions),
	    T(test_sticky),
	    T(test_setgid_dir),
	    T(test_xattr),
	    T(test_open_close),
	    T(test_orphan_after_crash),
	    T(test_persistence),
	    T(test_killed_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
