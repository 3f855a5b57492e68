/*
 * test_ns_xshard.c - the cross-shard primitives on two real shard
 * databases, driven the way the daemon will drive them (ns.h): remote
 * mkdir, rmdir, unlink, link and rename, each step repeated to show it
 * takes effect once; aborts; pins; intents and done records; the ancestry
 * walk that stops at a shard boundary; op ids that survive a reopen.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ns_test.h"

static int setup2(void **state)
{
	struct nt_fx *f;

	if (nt_setup(state))
		return -1;
	f = *state;
	return nt_open(f->path[1], 1, &f->ns1);
}

static struct ns_xop xop(uint64_t op, enum ns_intent_op what, const char *rec)
{
	struct ns_xop x = {.op_id = op,
			   .intent = what,
			   .intent_data = rec,
			   .intent_len = rec ? (uint32_t)strlen(rec) : 0};

	return x;
}

static bool intent_exists(struct ns *ns, uint64_t op)
{
	size_t len;

	return ns_intent_get(ns, op, NULL, 0, &len) == 0;
}

/* mkdir /d on shard 1, following the documented protocol, twice per step. */
static uint64_t remote_mkdir(struct nt_fx *f, uint64_t parent, const char *name, uint64_t op)
{
	struct ns_xop keep = xop(op, NS_INTENT_KEEP, NULL), del = xop(op, NS_INTENT_DEL, NULL);
	struct ns_attr a, b;
	uint32_t nlink = nt_get(f->ns, parent).nlink;

	assert_int_equal(ns_mkdir(f->ns, &nt_root, parent, N(name), 0750, 1, false, &b), -EREMOTE);
	assert_true(b.ino == 0 && b.mode == (S_IFDIR | 0750) && b.parent == parent);
	assert_int_equal(ns_intent_put(f->ns, op, N("mkdir"), true), 0);
	assert_int_equal(
	    ns_inode_create_prepared(f->ns1, &keep, b.mode, b.uid, b.gid, 0, parent, &b.layout, &a),
	    0);
	assert_int_equal(ns_ino_shard(a.ino), 1);
	assert_int_equal(
	    ns_inode_create_prepared(f->ns1, &keep, b.mode, b.uid, b.gid, 0, parent, &b.layout, &b),
	    0);
	assert_true(a.ino == b.ino && a.generation == b.generation);
	assert_int_equal(
	    ns_dentry_link_remote(f->ns, &nt_root, &del, parent, N(name), a.ino, S_IFDIR, 0, NULL),
	    0);
	assert_false(intent_exists(f->ns, op));
	assert_int_equal(
	    ns_dentry_link_remote(f->ns, &nt_root, &del, parent, N(name), a.ino, S_IFDIR, 0, NULL),
	    0);
	assert_int_equal(nt_get(f->ns, parent).nlink, nlink + 1);
	assert_int_equal(ns_done_forget(f->ns, op), 0);
	assert_int_equal(ns_done_forget(f->ns1, op), 0);
	return a.ino;
}

static void test_remote_mkdir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;
	uint64_t d, ino, file;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 100);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).size, 1);
	/* lookup says where the inode lives. */
	assert_int_equal(ns_lookup(f->ns, &nt_root, NS_ROOT_INO, N("d"), &a), -EREMOTE);
	assert_true(a.ino == d && a.mode == S_IFDIR);
	assert_int_equal(ns_getattr(f->ns, d, &a), -EREMOTE);
	a = nt_get(f->ns1, d);
	assert_int_equal(a.mode, S_IFDIR | 0750);
	assert_int_equal(a.nlink, 2);
	assert_true(a.parent == NS_ROOT_INO);
	/* Its entries live on its own shard; ".." points back. */
	file = nt_create(f->ns1, &nt_root, d, "inside", 0644);
	assert_int_equal(ns_ino_shard(file), 1);
	assert_int_equal(ns_lookup(f->ns1, &nt_root, d, N(".."), &a), -EREMOTE);
	assert_true(a.ino == NS_ROOT_INO);
	assert_int_equal(nt_lookup(f->ns1, d, "inside", &ino), 0);
	/* Local operations refuse the remote entry and change nothing. */
	assert_int_equal(ns_rmdir(f->ns, &nt_root, NS_ROOT_INO, N("d"), false, NULL), -EREMOTE);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("d"), false, NULL), -EISDIR);
	assert_int_equal(
	    ns_rename(f->ns, &nt_root, NS_ROOT_INO, N("d"), NS_ROOT_INO, N("e"), 0, false, NULL),
	    -EREMOTE);
	assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, "d", &ino), -EREMOTE);
	assert_int_equal(ns_create(f->ns, &nt_root, d, N("x"), 0644, NULL, false, NULL), -EREMOTE);
	/* A name taken meanwhile: link fails, the prepared inode is undone. */
	{
		struct ns_xop keep = xop(101, NS_INTENT_KEEP, NULL);

		assert_int_equal(ns_inode_create_prepared(f->ns1, &keep, S_IFDIR | 0755, 0, 0, 0,
							  NS_ROOT_INO, NULL, &a),
				 0);
		assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &keep, NS_ROOT_INO, N("d"),
						       a.ino, S_IFDIR, 0, NULL),
				 -EEXIST);
		assert_int_equal(ns_inode_abort_prepared(f->ns1, &keep, a.ino), 0);
		assert_int_equal(ns_inode_abort_prepared(f->ns1, &keep, a.ino), 0);
		assert_int_equal(ns_getattr(f->ns1, a.ino, &a), -ENOENT);
		assert_int_equal(ns_inode_create_prepared(f->ns1, &keep, S_IFDIR | 0755, 0, 0, 0,
							  NS_ROOT_INO, NULL, &a),
				 -ECANCELED);
	}
}

static int last_entry_cb(void *arg, const struct ns_dirent *e)
{
	struct ns_dirent *out = arg;

	*out = *e;
	out->name = NULL;
	return 0;
}

/* The coordinator computes setgid inheritance for the remote directory. */
static void test_remote_mkdir_setgid(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr a;
	uint64_t g;

	g = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "g", 0777);
	assert_int_equal(nt_chown(f->ns, g, 1000, 2000), 0);
	assert_int_equal(nt_chmod(f->ns, &nt_alice, g, 02777), 0);
	assert_int_equal(ns_mkdir(f->ns, &nt_bob, g, N("sub"), 0755, 1, false, &a), -EREMOTE);
	assert_true(a.mode == (S_IFDIR | 02755) && a.uid == 1001 && a.gid == 2000);
	assert_int_equal(ns_mkdir(f->ns, &nt_bob, NS_ROOT_INO, N("sub"), 0755, 1, false, &a),
			 -EACCES);
}

static void test_remote_readdir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_dirent last = {0};
	struct ns_readdir_args ra = {.plus = true, .fn = last_entry_cb, .arg = &last};
	bool eof;
	uint64_t d;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 200);
	assert_int_equal(ns_readdir(f->ns, NS_ROOT_INO, &ra, &eof), 0);
	assert_true(eof);
	assert_true(last.ino == d && last.type == S_IFDIR && last.attr == NULL);
	/* ".." of a directory whose parent is elsewhere: no attributes. */
	assert_int_equal(ns_readdir(f->ns1, d, &ra, &eof), 0);
	assert_true(last.ino == NS_ROOT_INO && last.cookie == 2 && last.attr == NULL);
}

static void test_prepared_errors(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(300, NS_INTENT_KEEP, NULL), zero = xop(0, NS_INTENT_KEEP, NULL);
	struct ns_attr a;

	assert_int_equal(
	    ns_inode_create_prepared(f->ns1, &zero, S_IFREG | 0644, 0, 0, 0, 1, NULL, &a), -EINVAL);
	assert_int_equal(ns_inode_create_prepared(f->ns1, &x, S_IFLNK | 0777, 0, 0, 0, 1, NULL, &a),
			 -EINVAL);
	assert_int_equal(ns_inode_create_prepared(f->ns1, &x, S_IFREG | 0644, 0, 0, 0, 0, NULL, &a),
			 -EINVAL);
	x.intent = (enum ns_intent_op)7;
	assert_int_equal(ns_inode_create_prepared(f->ns1, &x, S_IFREG | 0644, 0, 0, 0, 1, NULL, &a),
			 -EINVAL);
	/* Aborted before it ran: the late create gives up. */
	x = xop(301, NS_INTENT_KEEP, NULL);
	assert_int_equal(ns_inode_abort_prepared(f->ns1, &x, ns_ino_make(1, 12345)), 0);
	assert_int_equal(ns_inode_create_prepared(f->ns1, &x, S_IFREG | 0644, 0, 0, 0, 1, NULL, &a),
			 -ECANCELED);
	/* A prepared inode that got entries cannot be aborted. */
	x = xop(302, NS_INTENT_KEEP, NULL);
	assert_int_equal(ns_inode_create_prepared(f->ns1, &x, S_IFDIR | 0755, 0, 0, 0, 1, NULL, &a),
			 0);
	nt_create(f->ns1, &nt_root, a.ino, "child", 0644);
	assert_int_equal(ns_inode_abort_prepared(f->ns1, &x, a.ino), -EBUSY);
	assert_int_equal(ns_inode_abort_prepared(f->ns1, &x, ns_ino_make(0, 5)), -EREMOTE);
}

static void test_remote_rmdir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(400, NS_INTENT_KEEP, NULL);
	struct ns_xop commit = xop(400, NS_INTENT_PUT, "commit");
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t d;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 399);
	nt_create(f->ns1, &nt_root, d, "f", 0644);
	/* 1. local checks, intent. */
	assert_int_equal(ns_rmdir(f->ns, &nt_root, NS_ROOT_INO, N("d"), false, &drop), -EREMOTE);
	assert_true(drop.ino == d && drop.remote);
	assert_int_equal(ns_intent_put(f->ns, 400, N("rmdir"), false), 0);
	/* 2. not empty: abort. */
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, d), -ENOTEMPTY);
	assert_int_equal(ns_unlink(f->ns1, &nt_root, d, N("f"), false, NULL), 0);
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, d), 0);
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, d), 0);
	/* While prepared, nothing can be created in it, nor prepared again. */
	assert_int_equal(ns_create(f->ns1, &nt_root, d, N("g"), 0644, NULL, false, NULL), -ENOENT);
	x.op_id = 401;
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, d), -EBUSY);
	assert_int_equal(ns_dir_commit_remove(f->ns1, &x, d), -EINVAL);
	x.op_id = 400;
	/* 3. remove the entry (sticky checks need the owner), advance intent. */
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, &nt_root, &commit, NS_ROOT_INO, N("d"), d, 0, 0),
	    -EISDIR);
	assert_int_equal(ns_dentry_unlink_remote(f->ns, &nt_root, &commit, NS_ROOT_INO, N("d"),
						 d + 1, 0, NS_UNLINK_DIR),
			 -ENOENT);
	assert_int_equal(ns_dentry_unlink_remote(f->ns, &nt_root, &commit, NS_ROOT_INO, N("d"), d,
						 0, NS_UNLINK_DIR),
			 0);
	assert_int_equal(ns_dentry_unlink_remote(f->ns, &nt_root, &commit, NS_ROOT_INO, N("d"), d,
						 0, NS_UNLINK_DIR),
			 0);
	assert_true(intent_exists(f->ns, 400));
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).nlink, 2);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).size, 0);
	/* 4. commit, twice; delete the intent. */
	assert_int_equal(ns_dir_commit_remove(f->ns1, &x, d), 0);
	assert_int_equal(ns_dir_commit_remove(f->ns1, &x, d), 0);
	assert_int_equal(ns_getattr(f->ns1, d, &a), -ENOENT);
	assert_int_equal(ns_intent_del(f->ns, 400, false), 0);
	assert_false(intent_exists(f->ns, 400));

	/* Abort path: prepare, abort (twice), the directory lives on. */
	d = remote_mkdir(f, NS_ROOT_INO, "e", 402);
	x.op_id = 403;
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, d), 0);
	assert_int_equal(ns_dir_abort_remove(f->ns1, &x, d), 0);
	assert_int_equal(ns_dir_abort_remove(f->ns1, &x, d), 0);
	nt_create(f->ns1, &nt_root, d, "ok", 0644);
	/* The root cannot be removed; files are not directories. */
	assert_int_equal(ns_dir_prepare_remove(f->ns, &x, NS_ROOT_INO), -EBUSY);
	assert_int_equal(
	    ns_dir_prepare_remove(f->ns1, &x, nt_create(f->ns1, &nt_root, d, "f", 0644)), -ENOTDIR);
	assert_int_equal(ns_dir_prepare_remove(f->ns, &x, d), -EREMOTE);
	assert_int_equal(ns_dir_abort_remove(f->ns1, &x, ns_ino_make(1, 99999)), 0);
	assert_int_equal(ns_dir_commit_remove(f->ns1, &x, ns_ino_make(1, 99999)), 0);
}

static void test_nlink_adjust(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(500, NS_INTENT_KEEP, NULL);
	struct ns_layout lay = {.pool_id = 2, .chunk_size = 1 << 20, .k = 4, .m = 2};
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t d, file;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 499);
	assert_int_equal(ns_create(f->ns1, &nt_root, d, N("x"), 0644, &lay, false, &a), 0);
	file = a.ino;
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, 1, &drop), 0);
	assert_int_equal(drop.nlink, 2);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, 1, &drop), 0);
	assert_int_equal(drop.nlink, 2); /* the first answer, once */
	assert_int_equal(nt_get(f->ns1, file).nlink, 2);
	x.op_id = 501;
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, -3, &drop), -EINVAL);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, NS_LINK_MAX, &drop), -EMLINK);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, d, 1, &drop), -EISDIR);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, 77, 1, &drop), -EREMOTE);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, ns_ino_make(1, 77777), 1, &drop),
			 -ENOENT);
	/* Down to zero while open: an orphan; the last close frees it. */
	assert_int_equal(ns_open(f->ns1, &nt_root, file, O_RDONLY, false, NULL), 0);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, -2, &drop), 0);
	assert_true(drop.orphaned && !drop.freed && drop.nlink == 0);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, -2, &drop), 0);
	assert_true(drop.orphaned);
	x.op_id = 502;
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, file, 1, &drop), -ENOENT);
	assert_int_equal(ns_close(f->ns1, file, false, 0, NULL, false, &drop), 0);
	assert_true(drop.freed && drop.layout.pool_id == 2);
	/* The same op may adjust two different inodes. */
	{
		uint64_t f1 = nt_create(f->ns1, &nt_root, d, "f1", 0644);
		uint64_t f2 = nt_create(f->ns1, &nt_root, d, "f2", 0644);

		x.op_id = 503;
		assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, f1, 1, NULL), 0);
		assert_int_equal(ns_inode_nlink_adjust(f->ns1, &x, f2, 1, NULL), 0);
		assert_int_equal(nt_get(f->ns1, f1).nlink, 2);
		assert_int_equal(nt_get(f->ns1, f2).nlink, 2);
	}
}

/* unlink and link of a name on shard 0 for a file living on shard 1. */
static void test_remote_link_unlink(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop keep, put, del;
	struct ns_drop drop;
	uint64_t d, file, ino;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 599);
	file = nt_create(f->ns1, &nt_root, d, "f", 0644);
	assert_int_equal(nt_chown(f->ns1, file, 1000, 1000), 0);
	/* link: intent, +1 on the inode's shard, entry + intent delete. */
	assert_int_equal(ns_intent_put(f->ns, 600, N("link"), false), 0);
	keep = xop(600, NS_INTENT_KEEP, NULL);
	del = xop(600, NS_INTENT_DEL, NULL);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &keep, file, 1, NULL), 0);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &del, NS_ROOT_INO, N("hard"), file,
					       S_IFREG, 0, NULL),
			 0);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &del, NS_ROOT_INO, N("hard"), file,
					       S_IFREG, 0, NULL),
			 0);
	assert_false(intent_exists(f->ns, 600));
	assert_int_equal(nt_get(f->ns1, file).nlink, 2);
	assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, "hard", &ino), -EREMOTE);
	assert_true(ino == file);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).nlink, 3); /* d only */

	/* unlink: local half reports the remote inode and changes nothing. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("hard"), false, &drop),
			 -EREMOTE);
	assert_true(drop.ino == file && drop.remote && drop.mode == S_IFREG);
	/* Sticky parent: the victim's owner matters. */
	assert_int_equal(nt_chmod(f->ns, &nt_root, NS_ROOT_INO, 01777), 0);
	put = xop(601, NS_INTENT_PUT, "unlink: nlink -1 on shard 1");
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, &nt_bob, &put, NS_ROOT_INO, N("hard"), file, 1000, 0),
	    -EPERM);
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, &nt_alice, &put, NS_ROOT_INO, N("hard"), file, 1000, 0),
	    0);
	assert_true(intent_exists(f->ns, 601));
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, &nt_alice, &put, NS_ROOT_INO, N("hard"), file, 1000, 0),
	    0);
	assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, "hard", &ino), -ENOENT);
	keep = xop(601, NS_INTENT_KEEP, NULL);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &keep, file, -1, &drop), 0);
	assert_int_equal(ns_inode_nlink_adjust(f->ns1, &keep, file, -1, &drop), 0);
	assert_int_equal(nt_get(f->ns1, file).nlink, 1);
	assert_int_equal(ns_intent_del(f->ns, 601, false), 0);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).size, 1);
	/* Bad arguments. */
	assert_int_equal(
	    ns_dentry_link_remote(f->ns, &nt_root, &keep, NS_ROOT_INO, N("z"), file, 0, 0, NULL),
	    -EINVAL);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &keep, NS_ROOT_INO, N("z"), file,
					       S_IFREG, NS_LINK_NOREPLACE, NULL),
			 -EINVAL);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &keep, NS_ROOT_INO, N(".."), file,
					       S_IFREG, 0, NULL),
			 -EEXIST);
	assert_int_equal(
	    ns_dentry_link_remote(f->ns, &nt_root, &keep, d, N("z"), file, S_IFREG, 0, NULL),
	    -EREMOTE);
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, &nt_root, &keep, NS_ROOT_INO, N("z"), file, 0, 1u << 7),
	    -EINVAL);
}

/*
 * Cross-shard rename of /src/a (shard 0) over /d/t (directory d and file t
 * on shard 1), every step twice, then the pins and the undo path.
 */
static void test_remote_rename(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop pin, link, fin, keep, undo;
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t src, d, x, t, ino;

	src = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "src", 0755);
	x = nt_create(f->ns, &nt_root, src, "a", 0644);
	d = remote_mkdir(f, NS_ROOT_INO, "d", 699);
	t = nt_create(f->ns1, &nt_root, d, "t", 0644);

	pin = xop(700, NS_INTENT_PUT, "rename phase 1");
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &pin, src, N("a"), x, 0), 0);
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &pin, src, N("a"), x, 0), 0);
	assert_true(intent_exists(f->ns, 700));
	/* Pinned: local changes of that entry wait for the op. */
	assert_int_equal(ns_unlink(f->ns, &nt_root, src, N("a"), false, NULL), -EBUSY);
	assert_int_equal(ns_rename(f->ns, &nt_root, src, N("a"), src, N("b"), 0, false, NULL),
			 -EBUSY);
	keep = xop(799, NS_INTENT_KEEP, NULL);
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &keep, src, N("a"), x, 0), -EBUSY);
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &keep, src, N("a"), x + 1, 0), -ENOENT);
	/* Target side: replace t, which lives there and is freed there. */
	link = xop(700, NS_INTENT_KEEP, NULL);
	assert_int_equal(ns_dentry_link_remote(f->ns1, &nt_root, &link, d, N("t"), x, S_IFREG,
					       NS_LINK_REPLACE | NS_LINK_NOREPLACE, &drop),
			 -EEXIST);
	assert_int_equal(ns_dentry_link_remote(f->ns1, &nt_root, &link, d, N("t"), x, S_IFREG,
					       NS_LINK_REPLACE, &drop),
			 0);
	assert_true(drop.ino == t && drop.freed && !drop.remote);
	assert_int_equal(ns_dentry_link_remote(f->ns1, &nt_root, &link, d, N("t"), x, S_IFREG,
					       NS_LINK_REPLACE, &drop),
			 0);
	assert_true(drop.ino == t && drop.freed); /* the first answer again */
	assert_int_equal(ns_getattr(f->ns1, t, &a), -ENOENT);
	assert_int_equal(nt_lookup(f->ns1, d, "t", &ino), -EREMOTE);
	assert_true(ino == x);
	assert_int_equal(nt_get(f->ns1, d).size, 1);
	/* Source side: drop the pinned entry, advance the intent. */
	fin = xop(700, NS_INTENT_PUT, "rename phase 2");
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, NULL, &fin, src, N("a"), x, 0, NS_UNLINK_PINNED), 0);
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, NULL, &fin, src, N("a"), x, 0, NS_UNLINK_PINNED), 0);
	assert_int_equal(nt_lookup(f->ns, src, "a", NULL), -ENOENT);
	assert_int_equal(nt_get(f->ns, src).size, 0);
	assert_int_equal(nt_get(f->ns, x).nlink, 1);
	assert_int_equal(ns_intent_del(f->ns, 700, true), 0);

	/* Undo after a failed target step: unpin and delete the intent. */
	nt_create(f->ns, &nt_root, src, "b", 0644);
	ino = 0;
	assert_int_equal(nt_lookup(f->ns, src, "b", &ino), 0);
	pin = xop(701, NS_INTENT_PUT, "rename phase 1");
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &pin, src, N("b"), ino, 0), 0);
	undo = xop(701, NS_INTENT_DEL, NULL);
	assert_int_equal(ns_dentry_unpin(f->ns, &undo, src, N("b")), 0);
	assert_int_equal(ns_dentry_unpin(f->ns, &undo, src, N("b")), 0);
	assert_false(intent_exists(f->ns, 701));
	assert_int_equal(ns_unlink(f->ns, &nt_root, src, N("b"), false, NULL), 0);
	/* Unpinned entries cannot be removed as pinned. */
	nt_create(f->ns, &nt_root, src, "c", 0644);
	assert_int_equal(nt_lookup(f->ns, src, "c", &ino), 0);
	keep = xop(702, NS_INTENT_KEEP, NULL);
	assert_int_equal(
	    ns_dentry_unlink_remote(f->ns, NULL, &keep, src, N("c"), ino, 0, NS_UNLINK_PINNED),
	    -EINVAL);
}

/* A remote target directory is prepared on its shard, then replaced. */
static void test_remote_rename_dir(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(800, NS_INTENT_KEEP, NULL);
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t p, d, e, sub, ino, stop = 0;

	p = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "p", 0755);
	d = remote_mkdir(f, p, "d", 798);	    /* shard 1, the one moving */
	e = remote_mkdir(f, NS_ROOT_INO, "e", 799); /* shard 1, the target */
	sub = nt_mkdir(f->ns1, &nt_root, d, "sub", 0755);
	/* Subtree check across shards: from the new parent upwards. */
	assert_int_equal(ns_walk_parents(f->ns1, sub, d, &stop), 1);
	assert_int_equal(ns_walk_parents(f->ns1, sub, p, &stop), 1);
	assert_int_equal(ns_walk_parents(f->ns1, sub, 999, &stop), -EREMOTE);
	assert_true(stop == p);
	assert_int_equal(ns_walk_parents(f->ns, p, d, &stop), 0);
	assert_int_equal(ns_walk_parents(f->ns, NS_ROOT_INO, d, &stop), 0);
	assert_int_equal(
	    ns_walk_parents(f->ns, nt_create(f->ns, &nt_root, p, "file", 0644), d, &stop),
	    -ENOTDIR);
	assert_int_equal(ns_walk_parents(f->ns, 12345, d, &stop), -ENOENT);
	/* /p/d -> /e (empty directory on shard 1, entry on shard 0). */
	x.intent = NS_INTENT_PUT;
	x.intent_data = "rename";
	x.intent_len = 6;
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &x, p, N("d"), d, 0), 0);
	x.intent = NS_INTENT_KEEP;
	assert_int_equal(ns_dir_prepare_remove(f->ns1, &x, e), 0);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, NS_ROOT_INO, N("e"), d, S_IFREG,
					       NS_LINK_REPLACE, &drop),
			 -EISDIR);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, NS_ROOT_INO, N("e"), d, S_IFDIR,
					       NS_LINK_REPLACE, &drop),
			 0);
	assert_true(drop.ino == e && drop.remote && !drop.freed);
	assert_int_equal(ns_dentry_unlink_remote(f->ns, NULL, &x, p, N("d"), d, 0,
						 NS_UNLINK_PINNED | NS_UNLINK_DIR),
			 0);
	assert_int_equal(ns_dir_set_parent(f->ns1, &x, d, NS_ROOT_INO), 0);
	assert_int_equal(ns_dir_set_parent(f->ns1, &x, d, NS_ROOT_INO), 0);
	assert_int_equal(ns_dir_commit_remove(f->ns1, &x, e), 0);
	assert_int_equal(ns_intent_del(f->ns, 800, false), 0);
	assert_int_equal(ns_getattr(f->ns1, e, &a), -ENOENT);
	assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, "e", &ino), -EREMOTE);
	assert_true(ino == d);
	assert_true(nt_get(f->ns1, d).parent == NS_ROOT_INO);
	assert_int_equal(nt_get(f->ns, p).nlink, 2);
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).nlink, 4); /* p, e(=d) + 2 */
	assert_int_equal(nt_get(f->ns, NS_ROOT_INO).size, 2);
	assert_int_equal(ns_dir_set_parent(f->ns1, &x, sub + 1000, NS_ROOT_INO), -ENOENT);
	assert_int_equal(ns_dir_set_parent(f->ns, &x, p, 0), -EINVAL);
	/* A local directory over a non-empty one is refused on its shard. */
	nt_create(f->ns, &nt_root, p, "x", 0644);
	x.op_id = 801;
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, NS_ROOT_INO, N("p"), d, S_IFDIR,
					       NS_LINK_REPLACE, &drop),
			 -ENOTEMPTY);
}

static void test_remote_exchange(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(900, NS_INTENT_KEEP, NULL);
	struct ns_drop drop;
	uint64_t d, a, b, ino;

	d = remote_mkdir(f, NS_ROOT_INO, "d", 899);
	a = nt_create(f->ns, &nt_root, NS_ROOT_INO, "a", 0644);
	b = nt_create(f->ns1, &nt_root, d, "b", 0644);
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &x, NS_ROOT_INO, N("a"), a, 0), 0);
	assert_int_equal(ns_dentry_pin(f->ns1, &nt_root, &x, d, N("b"), b, 0), 0);
	assert_int_equal(ns_dentry_link_remote(f->ns1, &nt_root, &x, d, N("none"), a, S_IFREG,
					       NS_LINK_EXCHANGE, &drop),
			 -ENOENT);
	assert_int_equal(ns_dentry_link_remote(f->ns1, &nt_root, &x, d, N("b"), a, S_IFREG,
					       NS_LINK_EXCHANGE, &drop),
			 0);
	assert_true(drop.ino == b && !drop.freed && !drop.remote);
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, NS_ROOT_INO, N("a"), b, S_IFREG,
					       NS_LINK_EXCHANGE, &drop),
			 0);
	assert_true(drop.ino == a && !drop.freed && !drop.remote);
	assert_int_equal(nt_lookup(f->ns, NS_ROOT_INO, "a", &ino), -EREMOTE);
	assert_true(ino == b);
	assert_int_equal(nt_lookup(f->ns1, d, "b", &ino), -EREMOTE);
	assert_true(ino == a);
	assert_int_equal(nt_get(f->ns, a).nlink, 1);
	assert_int_equal(nt_get(f->ns1, b).nlink, 1);
	/* Unpinned by the exchange: ordinary changes work again. */
	assert_int_equal(
	    ns_rename(f->ns, &nt_root, NS_ROOT_INO, N("a"), NS_ROOT_INO, N("a2"), 0, false, NULL),
	    -EREMOTE);
}

static int count_intent(void *arg, uint64_t op, const void *data, size_t len)
{
	int *n = arg;

	(void)data;
	(void)len;
	assert_true(op == 1001 || op == 1002);
	return ++*n == 99 ? 99 : 0;
}

static void test_intents_and_done(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = xop(1003, NS_INTENT_KEEP, NULL);
	char buf[16];
	size_t len;
	uint64_t removed = 0, op1, op2, d;
	int n = 0;

	assert_int_equal(ns_intent_put(f->ns, 1002, N("two"), false), 0);
	assert_int_equal(ns_intent_put(f->ns, 1001, N("one"), true), 0);
	assert_int_equal(ns_intent_put(f->ns, 0, N("zero"), true), -EINVAL);
	assert_int_equal(ns_intent_get(f->ns, 1001, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(ns_intent_get(f->ns, 1004, buf, sizeof(buf), &len), -ENOENT);
	assert_int_equal(ns_intent_list(f->ns, count_intent, &n), 0);
	assert_int_equal(n, 2);
	/* Intents survive a restart: that is what replay reads. */
	ns_db_close(f->ns);
	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
	n = 0;
	assert_int_equal(ns_intent_list(f->ns, count_intent, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ns_intent_del(f->ns, 1001, false), 0);
	assert_int_equal(ns_intent_del(f->ns, 1001, false), 0);
	n = 0;
	assert_int_equal(ns_intent_list(f->ns, count_intent, &n), 0);
	assert_int_equal(n, 1);

	/* Done records: forget one op; gc by age. */
	d = remote_mkdir(f, NS_ROOT_INO, "d", 1000);
	nt_create(f->ns1, &nt_root, d, "f", 0644);
	assert_int_equal(
	    ns_inode_nlink_adjust(f->ns1, &x, nt_create(f->ns1, &nt_root, d, "g", 0644), 1, NULL),
	    0);
	assert_int_equal(ns_done_gc(f->ns1, 3600, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(ns_done_gc(f->ns1, 0, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(ns_done_forget(f->ns1, 1003), 0);

	/* Op ids: this shard's, unique, increasing across a reopen. */
	assert_int_equal(ns_op_id_new(f->ns1, &op1), 0);
	assert_int_equal(ns_op_id_new(f->ns1, &op2), 0);
	assert_int_equal(ns_ino_shard(op1), 1);
	assert_true(op2 > op1);
	ns_db_close(f->ns1);
	assert_int_equal(nt_open(f->path[1], 1, &f->ns1), 0);
	assert_int_equal(ns_op_id_new(f->ns1, &op1), 0);
	assert_true(op1 > op2);
}

static void test_dir_shard(void **state)
{
	int hist[4] = {0};
	char name[16];

	(void)state;
	for (int i = 0; i < 4000; i++) {
		uint16_t s;

		snprintf(name, sizeof(name), "dir%d", i);
		s = ns_dir_shard(NS_ROOT_INO, N(name), 4);
		assert_true(s < 4);
		assert_int_equal(s, ns_dir_shard(NS_ROOT_INO, N(name), 4)); /* stable */
		hist[s]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(hist[i] > 800 && hist[i] < 1200);
	assert_int_equal(ns_dir_shard(7, N("x"), 1), 0);
	assert_int_equal(ns_dir_shard(7, N("x"), 0), 0);
	assert_true(ns_ino_shard(ns_ino_make(513, 77)) == 513);
	assert_true((ns_ino_make(513, 77) & NS_INO_MASK) == 77);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup2, nt_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_remote_mkdir),	T(test_remote_mkdir_setgid),
	    T(test_remote_readdir),	T(test_prepared_errors),
	    T(test_remote_rmdir),	T(test_nlink_adjust),
	    T(test_remote_link_unlink), T(test_remote_rename),
	    T(test_remote_rename_dir),	T(test_remote_exchange),
	    T(test_intents_and_done),	cmocka_unit_test(test_dir_shard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
