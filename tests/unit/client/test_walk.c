/*
 * test_walk.c - path resolution (client/walk.c) over a small in-memory
 * tree that answers lookups the way the MDS does ("." and ".." included):
 * plain paths, the root, slashes, "." and "..", symlinks (relative,
 * absolute, chained, dangling, looping, final followed or not), trailing
 * slashes, WALK_PARENT, and every length limit.  Also counts lookups, so a
 * walk that does more work than it should fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "client/walk.h"

#define ROOT 1

struct node {
	uint64_t ino;
	uint64_t parent;
	const char *name;
	uint32_t mode;
	const char *target; /* symlinks */
};

/*
 * /            1
 *   a/         2
 *     b/       3
 *       f      4   (file)
 *     up  -> ..                5
 *   abs -> /a/b                6
 *   rel -> a/b                 7
 *   chain -> rel               8
 *   dang -> nowhere            9
 *   loop1 -> loop2             10
 *   loop2 -> loop1             11
 *   flink -> a/b/f             12
 *   dslash -> a/               13
 *   empty -> ""                14
 */
static const struct node tree[] = {
    {1, 1, "", S_IFDIR | 0755, NULL},	       {2, 1, "a", S_IFDIR | 0755, NULL},
    {3, 2, "b", S_IFDIR | 0755, NULL},	       {4, 3, "f", S_IFREG | 0644, NULL},
    {5, 2, "up", S_IFLNK | 0777, ".."},	       {6, 1, "abs", S_IFLNK | 0777, "/a/b"},
    {7, 1, "rel", S_IFLNK | 0777, "a/b"},      {8, 1, "chain", S_IFLNK | 0777, "rel"},
    {9, 1, "dang", S_IFLNK | 0777, "nowhere"}, {10, 1, "loop1", S_IFLNK | 0777, "loop2"},
    {11, 1, "loop2", S_IFLNK | 0777, "loop1"}, {12, 1, "flink", S_IFLNK | 0777, "a/b/f"},
    {13, 1, "dslash", S_IFLNK | 0777, "a/"},   {14, 1, "empty", S_IFLNK | 0777, ""},
};
#define NNODES (sizeof(tree) / sizeof(tree[0]))

static int lookups;
static int readlinks;
static char long_target[WALK_PATH_MAX + 2];

static const struct node *by_ino(uint64_t ino)
{
	for (size_t i = 0; i < NNODES; i++)
		if (tree[i].ino == ino)
			return &tree[i];
	return NULL;
}

static int t_lookup(void *arg, uint64_t dir, const char *name, uint64_t *ino, uint32_t *mode)
{
	const struct node *d = by_ino(dir);

	(void)arg;
	lookups++;
	assert_non_null(d);
	assert_true(S_ISDIR(d->mode)); /* the walker only looks up in directories */
	assert_true(strlen(name) >= 1 && strlen(name) <= WALK_NAME_MAX);
	assert_null(strchr(name, '/'));
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		const struct node *n = name[1] ? by_ino(d->parent) : d;

		*ino = n->ino;
		*mode = n->mode;
		return 0;
	}
	for (size_t i = 1; i < NNODES; i++) {
		if (tree[i].parent == dir && strcmp(tree[i].name, name) == 0) {
			*ino = tree[i].ino;
			*mode = tree[i].mode;
			return 0;
		}
	}
	if (strcmp(name, "huge") == 0 && dir == ROOT) {
		*ino = 99;
		*mode = S_IFLNK | 0777;
		return 0;
	}
	return -ENOENT;
}

static int t_readlink(void *arg, uint64_t ino, char *buf, size_t cap, size_t *len)
{
	const struct node *n = by_ino(ino);
	const char *t = n ? n->target : long_target;

	(void)arg;
	readlinks++;
	*len = strlen(t);
	if (*len + 1 > cap)
		return -ERANGE;
	memcpy(buf, t, *len + 1);
	return 0;
}

static const struct walk_ops ops = {.lookup = t_lookup, .readlink = t_readlink};

static int walk(const char *path, unsigned flags, struct walk_result *r)
{
	lookups = 0;
	readlinks = 0;
	memset(r, 0xa5, sizeof(*r));
	return walk_path(&ops, NULL, ROOT, path, flags, r);
}

static void test_plain(void **state)
{
	struct walk_result r;

	(void)state;
	assert_int_equal(walk("/a/b/f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_true(S_ISREG(r.mode));
	assert_true(r.looked_up);
	assert_false(r.trailing);
	assert_int_equal(lookups, 3);
	/* relative is the same, repeated slashes are one */
	assert_int_equal(walk("a//b///f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(lookups, 3);
	assert_int_equal(walk("a/b/", 0, &r), 0);
	assert_int_equal(r.ino, 3);
	assert_true(r.trailing);
}

static void test_root_and_dots(void **state)
{
	struct walk_result r;

	(void)state;
	assert_int_equal(walk("/", 0, &r), 0);
	assert_int_equal(r.ino, ROOT);
	assert_false(r.looked_up);
	assert_int_equal(lookups, 0);
	assert_true(S_ISDIR(r.mode));
	assert_int_equal(walk("///", 0, &r), 0);
	assert_int_equal(r.ino, ROOT);
	assert_int_equal(walk("a/b/../b/./f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(lookups, 6);
	assert_int_equal(walk("/..", 0, &r), 0); /* the root's parent is itself */
	assert_int_equal(r.ino, ROOT);
	assert_true(r.looked_up);
	assert_int_equal(walk(".", 0, &r), 0);
	assert_int_equal(r.ino, ROOT);
}

static void test_errors(void **state)
{
	struct walk_result r;
	char path[WALK_PATH_MAX + 2];
	char name[WALK_NAME_MAX + 2];

	(void)state;
	assert_int_equal(walk("", 0, &r), -ENOENT);
	assert_int_equal(walk("/a/missing/f", 0, &r), -ENOENT);
	assert_int_equal(lookups, 2);
	assert_int_equal(walk("/a/b/f/x", 0, &r), -ENOTDIR);
	assert_int_equal(walk("/a/b/f/", 0, &r), -ENOTDIR);
	assert_int_equal(walk("/a/b/f/", WALK_FOLLOW, &r), -ENOTDIR);
	memset(name, 'n', sizeof(name) - 1);
	name[WALK_NAME_MAX + 1] = '\0';
	assert_int_equal(walk(name, 0, &r), -ENAMETOOLONG);
	assert_int_equal(lookups, 0);
	name[WALK_NAME_MAX] = '\0'; /* 255 bytes: legal, just missing */
	assert_int_equal(walk(name, 0, &r), -ENOENT);
	memset(path, 'p', sizeof(path) - 1);
	path[WALK_PATH_MAX + 1] = '\0';
	assert_int_equal(walk(path, 0, &r), -ENAMETOOLONG);
	assert_int_equal(walk_path(NULL, NULL, ROOT, "a", 0, &r), -EINVAL);
	assert_int_equal(walk_path(&ops, NULL, ROOT, NULL, 0, &r), -EINVAL);
	assert_int_equal(walk_path(&ops, NULL, ROOT, "a", 0x80, &r), -EINVAL);
}

static void test_symlinks(void **state)
{
	struct walk_result r;

	(void)state;
	/* the last component is not followed without WALK_FOLLOW */
	assert_int_equal(walk("/abs", 0, &r), 0);
	assert_int_equal(r.ino, 6);
	assert_true(S_ISLNK(r.mode));
	assert_int_equal(readlinks, 0);
	assert_int_equal(walk("/abs", WALK_FOLLOW, &r), 0);
	assert_int_equal(r.ino, 3);
	/* in the middle they always are: absolute, relative, chained */
	assert_int_equal(walk("abs/f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(walk("rel/f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(walk("chain/f", 0, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(readlinks, 2);
	/* relative to the directory holding the link: a/up -> .. = / */
	assert_int_equal(walk("a/up/a/b", 0, &r), 0);
	assert_int_equal(r.ino, 3);
	/* a trailing slash follows a final symlink */
	assert_int_equal(walk("abs/", 0, &r), 0);
	assert_int_equal(r.ino, 3);
	assert_int_equal(walk("flink", WALK_FOLLOW, &r), 0);
	assert_int_equal(r.ino, 4);
	assert_int_equal(walk("flink/", 0, &r), -ENOTDIR);
	/* a target that ends in '/' must be a directory */
	assert_int_equal(walk("dslash", WALK_FOLLOW, &r), 0);
	assert_int_equal(r.ino, 2);
	assert_int_equal(walk("dang", WALK_FOLLOW, &r), -ENOENT);
	assert_int_equal(walk("dang", 0, &r), 0);
	assert_int_equal(walk("empty/x", 0, &r), -ENOENT);
}

static void test_loops_and_lengths(void **state)
{
	struct walk_result r;

	(void)state;
	assert_int_equal(walk("loop1/x", 0, &r), -ELOOP);
	assert_int_equal(readlinks, WALK_SYMLINK_MAX);
	assert_int_equal(walk("loop1", WALK_FOLLOW, &r), -ELOOP);
	assert_int_equal(walk("loop1", 0, &r), 0);
	/* a target that does not fit */
	memset(long_target, 't', WALK_PATH_MAX + 1);
	long_target[WALK_PATH_MAX + 1] = '\0';
	assert_int_equal(walk("huge/x", 0, &r), -ENAMETOOLONG);
	/* one that fits alone but not with the rest of the path */
	long_target[WALK_PATH_MAX - 1] = '\0';
	assert_int_equal(walk("huge/xyz", 0, &r), -ENAMETOOLONG);
}

static void test_parent(void **state)
{
	struct walk_result r;

	(void)state;
	assert_int_equal(walk("/a/b/new", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, 3);
	assert_string_equal(r.name, "new");
	assert_int_equal(lookups, 2);
	assert_int_equal(walk("new", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, ROOT);
	assert_string_equal(r.name, "new");
	assert_int_equal(lookups, 0);
	assert_int_equal(walk("a/newdir/", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, 2);
	assert_string_equal(r.name, "newdir");
	assert_true(r.trailing);
	/* the last component is never resolved, even a symlink */
	assert_int_equal(walk("abs", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, ROOT);
	assert_string_equal(r.name, "abs");
	/* but the ones before are */
	assert_int_equal(walk("abs/g", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, 3);
	assert_string_equal(r.name, "g");
	assert_int_equal(walk("a/..", WALK_PARENT, &r), 0);
	assert_string_equal(r.name, "..");
	assert_int_equal(walk("/", WALK_PARENT, &r), 0);
	assert_int_equal(r.ino, ROOT);
	assert_string_equal(r.name, "");
	assert_int_equal(walk("a/b/f/g", WALK_PARENT, &r), -ENOTDIR);
	assert_int_equal(walk("missing/g", WALK_PARENT, &r), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_root_and_dots),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_symlinks),
	    cmocka_unit_test(test_loops_and_lengths),
	    cmocka_unit_test(test_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
