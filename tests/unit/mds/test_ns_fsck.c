/*
 * test_ns_fsck.c - the shard's side of fsck (ns.h, ns_fsck.c) on a real
 * database: ordered, resumable scans of inodes and entries with their
 * open/orphan/pin/removal state, and each guarded repair (remove an entry,
 * set a link count, delete an inode, set a parent) with the refusals that
 * keep it from undoing a concurrent change.
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

#define MAXREC 64

struct inodes {
	unsigned n;
	struct ns_scan_inode r[MAXREC];
};

static int take_inode(void *arg, const struct ns_scan_inode *in)
{
	struct inodes *s = arg;

	assert_true(s->n < MAXREC);
	s->r[s->n++] = *in;
	return 0;
}

struct dentries {
	unsigned n;
	struct {
		uint64_t parent, ino, pin;
		uint32_t type;
		char name[NS_NAME_MAX + 1];
		size_t nlen;
	} r[MAXREC];
	int stop_at; /* return -ECANCELED at this record (0: never) */
};

static int take_dentry(void *arg, const struct ns_scan_dentry *de)
{
	struct dentries *s = arg;

	assert_true(s->n < MAXREC);
	if (s->stop_at && (int)s->n + 1 == s->stop_at)
		return -ECANCELED;
	s->r[s->n].parent = de->parent;
	s->r[s->n].ino = de->ino;
	s->r[s->n].pin = de->pin;
	s->r[s->n].type = de->type;
	memcpy(s->r[s->n].name, de->name, de->nlen);
	s->r[s->n].nlen = de->nlen;
	s->n++;
	return 0;
}

static const struct ns_scan_inode *find_inode(const struct inodes *s, uint64_t ino)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->r[i].ino == ino)
			return &s->r[i];
	return NULL;
}

static void scan_all_inodes(struct ns *ns, struct inodes *s)
{
	bool eof = false;

	memset(s, 0, sizeof(*s));
	assert_int_equal(ns_scan_inodes(ns, 0, 0, take_inode, s, &eof), 0);
	assert_true(eof);
}

static void test_scan_inodes(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = {.op_id = 77};
	struct inodes s, page;
	uint64_t d, a, b, after = 0;
	unsigned total = 0;
	bool eof = false;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	b = nt_create(f->ns, &nt_root, NS_ROOT_INO, "b", 0600);
	assert_int_equal(ns_open(f->ns, &nt_root, b, O_RDONLY, false, NULL), 0);
	assert_int_equal(ns_unlink(f->ns, &nt_root, NS_ROOT_INO, N("b"), false, NULL), 0);
	assert_int_equal(ns_open(f->ns, &nt_root, a, O_RDONLY, false, NULL), 0);
	assert_int_equal(ns_dir_prepare_remove(f->ns, &x, nt_mkdir(f->ns, &nt_root, d, "e", 0700)),
			 0);

	scan_all_inodes(f->ns, &s);
	assert_int_equal(s.n, 5); /* root, d, a, b (orphan), e */
	for (unsigned i = 1; i < s.n; i++)
		assert_true(s.r[i].ino > s.r[i - 1].ino);
	assert_true(find_inode(&s, NS_ROOT_INO)->parent == NS_ROOT_INO);
	assert_int_equal(find_inode(&s, NS_ROOT_INO)->nlink, 3);
	assert_true(find_inode(&s, d)->parent == NS_ROOT_INO);
	assert_int_equal(find_inode(&s, d)->size, 2);
	assert_int_equal(find_inode(&s, a)->state, NS_SCAN_OPEN);
	assert_int_equal(find_inode(&s, a)->parent, 0);
	assert_int_equal(find_inode(&s, b)->state, NS_SCAN_OPEN | NS_SCAN_ORPHAN);
	assert_int_equal(find_inode(&s, b)->nlink, 0);
	assert_int_equal(s.r[4].rm_op, 77);
	assert_int_equal(s.r[4].mode, S_IFDIR | 0700);

	/* Pages of two, resumed from the last inode seen, give the same list. */
	do {
		memset(&page, 0, sizeof(page));
		assert_int_equal(ns_scan_inodes(f->ns, after, 2, take_inode, &page, &eof), 0);
		assert_true(page.n <= 2);
		for (unsigned i = 0; i < page.n; i++)
			assert_int_equal(page.r[i].ino, s.r[total + i].ino);
		total += page.n;
		if (page.n)
			after = page.r[page.n - 1].ino;
	} while (!eof);
	assert_int_equal(total, 5);
	assert_int_equal(ns_scan_inodes(f->ns, UINT64_MAX, 0, take_inode, &page, &eof), 0);
	assert_true(eof);
	/* Closing the orphan frees it. */
	assert_int_equal(ns_close(f->ns, b, false, 0, NULL, false, NULL), 0);
	scan_all_inodes(f->ns, &s);
	assert_null(find_inode(&s, b));
}

static void test_scan_dentries(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = {.op_id = 5, .intent = NS_INTENT_KEEP};
	struct dentries s, page;
	uint64_t d, a, ap = 0;
	char an[NS_NAME_MAX + 1] = "", longname[NS_NAME_MAX + 2];
	size_t al = 0;
	unsigned total = 0;
	bool eof = false;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	nt_create(f->ns, &nt_root, d, "b", 0644);
	nt_create(f->ns, &nt_root, NS_ROOT_INO, "z", 0644);
	assert_int_equal(ns_link(f->ns, &nt_root, a, NS_ROOT_INO, N("a2"), false, NULL), 0);
	/* An entry to an inode of another shard. */
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, d, N("r"),
					       ns_ino_make(1, 99), S_IFDIR, 0, NULL),
			 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_scan_dentries(f->ns, 0, NULL, 0, 0, take_dentry, &s, &eof), 0);
	assert_true(eof);
	assert_int_equal(s.n, 6); /* /d /z /a2 (parent 1), d/a d/b d/r */
	assert_int_equal(s.r[0].parent, NS_ROOT_INO);
	assert_true(s.r[0].nlen == 2 && memcmp(s.r[0].name, "a2", 2) == 0);
	assert_int_equal(s.r[0].ino, a);
	assert_int_equal(s.r[1].type, S_IFDIR);
	assert_int_equal(s.r[3].parent, d);
	assert_true(s.r[5].ino == ns_ino_make(1, 99) && s.r[5].type == S_IFDIR);

	/* Pages of one, resumed after the last (parent, name). */
	do {
		memset(&page, 0, sizeof(page));
		assert_int_equal(ns_scan_dentries(f->ns, ap, an, al, 1, take_dentry, &page, &eof),
				 0);
		if (page.n) {
			assert_int_equal(page.r[0].ino, s.r[total].ino);
			ap = page.r[0].parent;
			al = page.r[0].nlen;
			memcpy(an, page.r[0].name, al);
		}
		total += page.n;
	} while (!eof);
	assert_int_equal(total, 6);
	/* A cursor that names no entry resumes after where it would be. */
	memset(&page, 0, sizeof(page));
	assert_int_equal(ns_scan_dentries(f->ns, d, N("aa"), 0, take_dentry, &page, &eof), 0);
	assert_int_equal(page.n, 2);
	assert_true(memcmp(page.r[0].name, "b", 1) == 0);
	/* The callback stops the scan with its error. */
	memset(&page, 0, sizeof(page));
	page.stop_at = 2;
	assert_int_equal(ns_scan_dentries(f->ns, 0, NULL, 0, 0, take_dentry, &page, &eof),
			 -ECANCELED);
	assert_int_equal(page.n, 1);
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(
	    ns_scan_dentries(f->ns, d, longname, sizeof(longname), 0, take_dentry, &page, &eof),
	    -EINVAL);
}

static void test_scan_pins(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = {.op_id = 4242, .intent = NS_INTENT_KEEP};
	struct dentries s;
	uint64_t a;
	bool eof;

	a = nt_create(f->ns, &nt_root, NS_ROOT_INO, "a", 0644);
	assert_int_equal(ns_dentry_pin(f->ns, &nt_root, &x, NS_ROOT_INO, N("a"), a, 0), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_scan_dentries(f->ns, 0, NULL, 0, 0, take_dentry, &s, &eof), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.r[0].pin, 4242);
	assert_int_equal(ns_dentry_unpin(f->ns, &x, NS_ROOT_INO, N("a")), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_scan_dentries(f->ns, 0, NULL, 0, 0, take_dentry, &s, &eof), 0);
	assert_int_equal(s.r[0].pin, 0);
}

static void test_remove_dentry(void **state)
{
	struct nt_fx *f = *state;
	struct ns_xop x = {.op_id = 9, .intent = NS_INTENT_KEEP};
	uint64_t d, a, ghost = ns_ino_make(2, 1234);
	struct ns_attr before;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	/* Dangling entries: a directory and a file of shards that lack them. */
	assert_int_equal(
	    ns_dentry_link_remote(f->ns, &nt_root, &x, d, N("gd"), ghost, S_IFDIR, 0, NULL), 0);
	x.op_id = 10;
	assert_int_equal(ns_dentry_link_remote(f->ns, &nt_root, &x, d, N("gf"), ghost + 1, S_IFREG,
					       0, NULL),
			 0);
	before = nt_get(f->ns, d);
	assert_int_equal(before.nlink, 3);
	assert_int_equal(before.size, 3);
	/* Guarded: it must still point where the checker saw it point. */
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("gd"), ghost + 1), -ESTALE);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("nope"), ghost), -ENOENT);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, ns_ino_make(1, 5), N("gd"), ghost), -EREMOTE);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N(".."), ghost), -EINVAL);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, "a/b", 3, ghost), -EINVAL);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("gd"), ghost), 0);
	assert_int_equal(nt_get(f->ns, d).nlink, 2);
	assert_int_equal(nt_get(f->ns, d).size, 2);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("gf"), ghost + 1), 0);
	assert_int_equal(nt_get(f->ns, d).nlink, 2);
	assert_int_equal(nt_get(f->ns, d).size, 1);
	assert_int_equal(nt_lookup(f->ns, d, "gf", NULL), -ENOENT);
	/* The inode an entry points to is not touched. */
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("a"), a), 0);
	assert_int_equal(nt_get(f->ns, a).nlink, 1);
	assert_int_equal(ns_fsck_remove_dentry(f->ns, d, N("a"), a), -ENOENT);
}

static void test_set_nlink(void **state)
{
	struct nt_fx *f = *state;
	uint64_t d, a;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	assert_int_equal(ns_fsck_set_nlink(f->ns, a, 2, 3), -ESTALE);
	assert_int_equal(ns_fsck_set_nlink(f->ns, a, 1, 0), -EINVAL);
	assert_int_equal(ns_fsck_set_nlink(f->ns, a, 1, NS_LINK_MAX + 1), -EINVAL);
	assert_int_equal(ns_fsck_set_nlink(f->ns, d, 2, 1), -EINVAL);
	assert_int_equal(ns_fsck_set_nlink(f->ns, a, 1, 3), 0);
	assert_int_equal(nt_get(f->ns, a).nlink, 3);
	assert_int_equal(ns_fsck_set_nlink(f->ns, d, 2, 5), 0);
	assert_int_equal(nt_get(f->ns, d).nlink, 5);
	assert_int_equal(ns_fsck_set_nlink(f->ns, a + 1000, 1, 1), -ENOENT);
	assert_int_equal(ns_fsck_set_nlink(f->ns, ns_ino_make(3, a), 1, 1), -EREMOTE);
}

static void test_delete_inode(void **state)
{
	struct nt_fx *f = *state;
	struct ns_attr sl;
	struct ns_drop drop;
	struct inodes s;
	struct dentries ds;
	uint64_t d, a, b;
	bool eof;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	b = nt_create(f->ns, &nt_root, d, "b", 0644);
	assert_int_equal(ns_setxattr(f->ns, &nt_root, a, N("user.k"), "v", 1, 0, false), 0);
	assert_int_equal(ns_symlink(f->ns, &nt_root, d, N("s"), N("target"), false, &sl), 0);
	assert_int_equal(ns_fsck_delete_inode(f->ns, a, 2, &drop), -ESTALE);
	assert_int_equal(ns_fsck_delete_inode(f->ns, NS_ROOT_INO, 3, &drop), -EBUSY);
	assert_int_equal(ns_open(f->ns, &nt_root, b, O_RDONLY, false, NULL), 0);
	assert_int_equal(ns_fsck_delete_inode(f->ns, b, 1, &drop), -EBUSY);
	assert_int_equal(ns_close(f->ns, b, false, 0, NULL, false, NULL), 0);
	assert_int_equal(ns_fsck_delete_inode(f->ns, a, 1, &drop), 0);
	assert_true(drop.ino == a && drop.freed);
	assert_int_equal(ns_getattr(f->ns, a, &sl), -ENOENT);
	assert_int_equal(ns_fsck_delete_inode(f->ns, a, 1, &drop), -ENOENT);
	/* A directory goes with its own entries; its children stay. */
	assert_int_equal(ns_fsck_delete_inode(f->ns, d, 2, &drop), 0);
	scan_all_inodes(f->ns, &s);
	assert_null(find_inode(&s, d));
	assert_non_null(find_inode(&s, b));
	memset(&ds, 0, sizeof(ds));
	assert_int_equal(ns_scan_dentries(f->ns, 0, NULL, 0, 0, take_dentry, &ds, &eof), 0);
	assert_int_equal(ds.n, 1); /* only /d, now dangling */
	assert_int_equal(ds.r[0].ino, d);
	assert_int_equal(ns_fsck_delete_inode(f->ns, ns_ino_make(1, 16), 1, &drop), -EREMOTE);
}

static void test_set_parent(void **state)
{
	struct nt_fx *f = *state;
	uint64_t d, e, a;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	e = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "e", 0755);
	a = nt_create(f->ns, &nt_root, d, "a", 0644);
	assert_int_equal(ns_fsck_set_parent(f->ns, e, d, NS_ROOT_INO), -ESTALE);
	assert_int_equal(ns_fsck_set_parent(f->ns, a, 0, d), -ENOTDIR);
	assert_int_equal(ns_fsck_set_parent(f->ns, NS_ROOT_INO, NS_ROOT_INO, d), -EBUSY);
	assert_int_equal(ns_fsck_set_parent(f->ns, e, NS_ROOT_INO, 0), -EINVAL);
	assert_int_equal(ns_fsck_set_parent(f->ns, e, NS_ROOT_INO, d), 0);
	assert_true(nt_get(f->ns, e).parent == d);
	assert_int_equal(ns_fsck_set_parent(f->ns, ns_ino_make(1, 20), 1, d), -EREMOTE);
	assert_int_equal(ns_fsck_set_parent(f->ns, e + 999, 1, d), -ENOENT);
}

static void test_attr_access(void **state)
{
	struct ns_attr a = {.mode = S_IFREG | 0640, .uid = 1000, .gid = 2000};

	(void)state;
	assert_int_equal(ns_attr_access(&nt_alice, &a, 6), 0);
	assert_int_equal(ns_attr_access(&nt_carol, &a, 4), 0);
	assert_int_equal(ns_attr_access(&nt_carol, &a, 2), -EACCES);
	assert_int_equal(ns_attr_access(&nt_bob, &a, 4), -EACCES);
	assert_int_equal(ns_attr_access(&nt_root, &a, 6), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_scan_inodes),   T(test_scan_dentries), T(test_scan_pins),
	    T(test_remove_dentry), T(test_set_nlink),	  T(test_delete_inode),
	    T(test_set_parent),	   cmocka_unit_test(test_attr_access),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
