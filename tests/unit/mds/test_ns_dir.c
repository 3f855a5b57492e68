/*
 * test_ns_dir.c - directories: readdir (cookies, paging by count and by
 * bytes, plus attributes, stability while entries come and go, also from
 * another thread), the rename matrix (replace, NOREPLACE, EXCHANGE, type
 * mismatches, non-empty targets, own subtree, same inode, sticky), and
 * concurrency (many creators in one directory, racing creators of the
 * same names, concurrent renames between directories).
 *
 * Random choices use a seeded generator; the seed is printed.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ns_test.h"

static unsigned seed;

/* xorshift32: deterministic per thread given its seed. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ---- readdir helpers ---- */

struct ent {
	char name[NS_NAME_MAX + 1];
	uint64_t ino, cookie;
	uint32_t type;
	bool has_attr;
	uint32_t nlink;
};

struct list {
	struct ent *e;
	size_t n, cap;
	int stop_after; /* callback answers 1 at this many entries (0: never) */
	int fail_at;	/* callback answers -EIO at this many (0: never) */
};

static int collect_cb(void *arg, const struct ns_dirent *d)
{
	struct list *l = arg;
	struct ent *e;

	if (l->fail_at && (int)l->n + 1 == l->fail_at)
		return -EIO;
	if (l->stop_after && (int)l->n == l->stop_after)
		return 1;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
		assert_non_null(l->e);
	}
	e = &l->e[l->n++];
	memcpy(e->name, d->name, d->nlen);
	e->name[d->nlen] = '\0';
	e->ino = d->ino;
	e->cookie = d->cookie;
	e->type = d->type;
	e->has_attr = d->attr != NULL;
	e->nlink = d->attr ? d->attr->nlink : 0;
	if (d->attr)
		assert_true(d->attr->ino == d->ino);
	return 0;
}

/* Lists dir completely in pages of at most page entries. */
static void list_all(struct ns *ns, uint64_t dir, uint32_t page, bool plus, struct list *l)
{
	struct ns_readdir_args a = {.max_entries = page, .plus = plus, .fn = collect_cb, .arg = l};
	bool eof = false;

	while (!eof) {
		size_t before = l->n;

		assert_int_equal(ns_readdir(ns, dir, &a, &eof), 0);
		if (!eof)
			assert_true(l->n > before);
		if (l->n > before)
			a.cookie = l->e[l->n - 1].cookie;
	}
}

static void test_readdir_basic(void **state)
{
	struct nt_fx *f = *state;
	struct list l = {0};
	struct ns_readdir_args a = {.fn = collect_cb, .arg = &l};
	bool eof;
	uint64_t d, sub, file;
	char name[16];

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	sub = nt_mkdir(f->ns, &nt_root, d, "sub", 0755);
	file = nt_create(f->ns, &nt_root, d, "file", 0644);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		nt_create(f->ns, &nt_root, d, name, 0644);
	}
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_true(eof);
	assert_int_equal(l.n, 24);
	assert_string_equal(l.e[0].name, ".");
	assert_true(l.e[0].ino == d && l.e[0].cookie == 1 && l.e[0].type == S_IFDIR);
	assert_string_equal(l.e[1].name, "..");
	assert_true(l.e[1].ino == NS_ROOT_INO && l.e[1].cookie == 2);
	/* Insertion order, cookies from 3 up. */
	assert_string_equal(l.e[2].name, "sub");
	assert_true(l.e[2].ino == sub && l.e[2].type == S_IFDIR && l.e[2].cookie == 3);
	assert_true(l.e[3].ino == file && l.e[3].type == S_IFREG);
	for (size_t i = 3; i < l.n; i++)
		assert_true(l.e[i].cookie > l.e[i - 1].cookie);
	assert_false(l.e[5].has_attr);

	/* Plus: attributes of every entry. */
	l.n = 0;
	a.plus = true;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	for (size_t i = 0; i < l.n; i++)
		assert_true(l.e[i].has_attr);
	assert_int_equal(l.e[2].nlink, 2);

	/* By count: a page of 5, eof unset, resume from the last cookie. */
	l.n = 0;
	a.plus = false;
	a.max_entries = 5;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_false(eof);
	assert_int_equal(l.n, 5);
	a.cookie = l.e[4].cookie;
	a.max_entries = 0;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_true(eof);
	assert_int_equal(l.n, 24);
	assert_string_equal(l.e[5].name, "e01");

	/* By bytes: at least one entry per call, never over the budget after. */
	l.n = 0;
	a.cookie = 0;
	a.max_bytes = 1;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_int_equal(l.n, 1);
	a.max_bytes = 3 * NS_DIRENT_COST + 10;
	a.cookie = 1;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_int_equal(l.n, 4); /* "..", "sub", "file" */
	/* The callback may stop (entry not taken) or fail. */
	l.n = 0;
	a.cookie = 0;
	a.max_bytes = 0;
	l.stop_after = 7;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_false(eof);
	assert_int_equal(l.n, 7);
	l.stop_after = 0;
	l.fail_at = 10;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), -EIO);
	l.fail_at = 0;
	/* A cookie past the end: nothing, eof. */
	l.n = 0;
	a.cookie = 1000000;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
	assert_true(eof);
	assert_int_equal(l.n, 0);
	assert_int_equal(ns_readdir(f->ns, file, &a, &eof), -ENOTDIR);
	assert_int_equal(ns_readdir(f->ns, 8888, &a, &eof), -ENOENT);
	assert_int_equal(ns_readdir(f->ns, ns_ino_make(1, 8), &a, &eof), -EREMOTE);
	a.fn = NULL;
	assert_int_equal(ns_readdir(f->ns, d, &a, &eof), -EINVAL);
	free(l.e);
}

/* Paging interleaved with inserts and deletes, single-threaded. */
static void test_readdir_interleaved(void **state)
{
	struct nt_fx *f = *state;
	struct ns_readdir_args a = {.max_entries = 37, .fn = collect_cb};
	struct list l = {0};
	uint32_t rs = seed;
	int newn = 0, victims_gone = 0;
	uint64_t d;
	char name[32];
	bool eof = false;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "p%04d", i);
		nt_create(f->ns, &nt_root, d, name, 0644);
	}
	a.arg = &l;
	while (!eof) {
		assert_int_equal(ns_readdir(f->ns, d, &a, &eof), 0);
		if (l.n)
			a.cookie = l.e[l.n - 1].cookie;
		for (int k = 0; k < 5; k++) {
			snprintf(name, sizeof(name), "n%05d", newn++);
			nt_create(f->ns, &nt_root, d, name, 0644);
		}
		/* Delete a victim (i % 10 == 0) and a new name. */
		snprintf(name, sizeof(name), "p%04d", (int)(rnd(&rs) % 100) * 10);
		if (ns_unlink(f->ns, &nt_root, d, N(name), false, NULL) == 0)
			victims_gone++;
		snprintf(name, sizeof(name), "n%05d", (int)(rnd(&rs) % (uint32_t)newn));
		ns_unlink(f->ns, &nt_root, d, N(name), false, NULL);
	}
	for (int i = 0; i < 1000; i++) {
		int seen = 0;

		snprintf(name, sizeof(name), "p%04d", i);
		for (size_t j = 0; j < l.n; j++)
			seen += strcmp(l.e[j].name, name) == 0;
		if (i % 10)
			assert_int_equal(seen, 1);
		else
			assert_true(seen <= 1);
	}
	assert_true(victims_gone > 0);
	free(l.e);
}

struct churn {
	struct ns *ns;
	uint64_t dir;
	atomic_bool stop;
	uint32_t seed;
	int inserted, deleted, errors;
};

/* Inserts never-reused names and deletes victims and its own names. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	uint32_t rs = c->seed;
	char name[32];

	while (!atomic_load(&c->stop)) {
		snprintf(name, sizeof(name), "w%07d", c->inserted);
		if (ns_create(c->ns, &nt_root, c->dir, N(name), 0644, NULL, false, NULL)) {
			c->errors++; /* cmocka asserts belong to the main thread */
			break;
		}
		c->inserted++;
		if (rnd(&rs) % 2) {
			snprintf(name, sizeof(name), "w%07d",
				 (int)(rnd(&rs) % (uint32_t)c->inserted));
			if (ns_unlink(c->ns, &nt_root, c->dir, N(name), false, NULL) == 0)
				c->deleted++;
		}
		snprintf(name, sizeof(name), "p%05d", (int)(rnd(&rs) % 1000) * 10);
		if (ns_unlink(c->ns, &nt_root, c->dir, N(name), false, NULL) == 0)
			c->deleted++;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* 10,000 entries listed in pages while another thread churns. */
static void test_readdir_concurrent(void **state)
{
	struct nt_fx *f = *state;
	struct churn c = {.ns = f->ns, .seed = seed ^ 0x5a5a5a5a};
	pthread_t th;
	char name[32];
	uint64_t d;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "big", 0755);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "p%05d", i);
		assert_int_equal(ns_create(f->ns, &nt_root, d, N(name), 0644, NULL, false, NULL),
				 0);
	}
	c.dir = d;
	assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
	for (int round = 0; round < 3; round++) {
		struct list l = {0};
		size_t stable = 0;

		list_all(f->ns, d, 97 + (uint32_t)round * 50, round == 1, &l);
		qsort(l.e, l.n, sizeof(l.e[0]), cmp_str);
		for (size_t i = 1; i < l.n; i++)
			assert_string_not_equal(l.e[i - 1].name, l.e[i].name); /* no repeats */
		for (int i = 0; i < 10000; i++) {
			struct ent key;

			if (i % 10 == 0)
				continue; /* victims may go */
			snprintf(key.name, sizeof(key.name), "p%05d", i);
			assert_non_null(bsearch(&key, l.e, l.n, sizeof(l.e[0]), cmp_str));
			stable++;
		}
		assert_int_equal(stable, 9000);
		free(l.e);
	}
	atomic_store(&c.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("readdir churn: %d inserted, %d deleted during 3 listings\n", c.inserted,
		      c.deleted);
	assert_int_equal(c.errors, 0);
	assert_true(c.inserted > 0);
	assert_int_equal(nt_get(f->ns, d).size, 10000 + (uint64_t)c.inserted - (uint64_t)c.deleted);
}

/* ---- rename ---- */

static int rn(struct ns *ns, const struct ns_cred *c, uint64_t op, const char *on, uint64_t np,
	      const char *nn, unsigned flags, struct ns_drop *drop)
{
	return ns_rename(ns, c, op, N(on), np, N(nn), flags, false, drop);
}

static void test_rename_files(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t d1, d2, x, y, ino;
	struct list l = {0};

	d1 = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d1", 0755);
	d2 = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d2", 0755);
	x = nt_create(f->ns, &nt_root, d1, "x", 0644);
	y = nt_create(f->ns, &nt_root, d1, "y", 0644);
	nt_create(f->ns, &nt_root, d1, "z", 0644);

	/* Plain rename in one directory. */
	assert_int_equal(rn(f->ns, &nt_root, d1, "x", d1, "x2", 0, &drop), 0);
	assert_int_equal(drop.ino, 0);
	assert_int_equal(nt_lookup(f->ns, d1, "x", NULL), -ENOENT);
	assert_int_equal(nt_lookup(f->ns, d1, "x2", &ino), 0);
	assert_true(ino == x);
	assert_int_equal(nt_get(f->ns, d1).size, 3);
	/* Replace a file: the old target is freed, its position kept. */
	list_all(f->ns, d1, 0, false, &l);
	assert_string_equal(l.e[2].name, "y");
	assert_string_equal(l.e[4].name, "x2"); /* a new name goes last */
	assert_int_equal(rn(f->ns, &nt_root, d1, "x2", d1, "y", 0, &drop), 0);
	assert_true(drop.ino == y && drop.freed);
	assert_int_equal(ns_getattr(f->ns, y, &a), -ENOENT);
	assert_int_equal(nt_lookup(f->ns, d1, "y", &ino), 0);
	assert_true(ino == x);
	assert_int_equal(nt_get(f->ns, d1).size, 2);
	l.n = 0;
	list_all(f->ns, d1, 0, false, &l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.e[2].name, "y");
	assert_string_equal(l.e[3].name, "z");
	/* Across directories, times of both parents. */
	assert_int_equal(rn(f->ns, &nt_root, d1, "y", d2, "moved", 0, &drop), 0);
	assert_int_equal(nt_get(f->ns, d1).size, 1);
	assert_int_equal(nt_get(f->ns, d2).size, 1);
	assert_int_equal(nt_lookup(f->ns, d2, "moved", &ino), 0);
	assert_true(ino == x);
	/* NOREPLACE. */
	assert_int_equal(rn(f->ns, &nt_root, d1, "z", d2, "moved", NS_RENAME_NOREPLACE, &drop),
			 -EEXIST);
	assert_int_equal(rn(f->ns, &nt_root, d1, "z", d2, "fresh", NS_RENAME_NOREPLACE, &drop), 0);
	assert_int_equal(rn(f->ns, &nt_root, d2, "fresh", d1, "..", NS_RENAME_NOREPLACE, &drop),
			 -EEXIST);
	/* Errors. */
	assert_int_equal(rn(f->ns, &nt_root, d1, "nope", d2, "a", 0, &drop), -ENOENT);
	assert_int_equal(rn(f->ns, &nt_root, d1, ".", d2, "a", 0, &drop), -EBUSY);
	assert_int_equal(rn(f->ns, &nt_root, d2, "moved", d2, "..", 0, &drop), -EBUSY);
	assert_int_equal(rn(f->ns, &nt_root, d2, "moved", d2, "a/b", 0, &drop), -EINVAL);
	assert_int_equal(rn(f->ns, &nt_root, d2, "moved", d2, "b",
			    NS_RENAME_NOREPLACE | NS_RENAME_EXCHANGE, &drop),
			 -EINVAL);
	assert_int_equal(rn(f->ns, &nt_root, d2, "moved", d2, "b", 1u << 5, &drop), -EINVAL);
	assert_int_equal(rn(f->ns, &nt_root, x, "a", d2, "b", 0, &drop), -ENOTDIR);
	assert_int_equal(rn(f->ns, &nt_root, ns_ino_make(1, 5), "a", d2, "b", 0, &drop), -EREMOTE);
	assert_int_equal(rn(f->ns, &nt_bob, d2, "moved", d2, "b", 0, &drop), -EACCES);
	free(l.e);
}

static void test_rename_same_inode(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	uint64_t d, x, ino;

	d = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "d", 0755);
	x = nt_create(f->ns, &nt_root, d, "a", 0644);
	assert_int_equal(ns_link(f->ns, &nt_root, x, d, N("b"), false, NULL), 0);
	/* Onto itself, or onto another name of the same inode: nothing. */
	assert_int_equal(rn(f->ns, &nt_root, d, "a", d, "a", 0, &drop), 0);
	assert_int_equal(rn(f->ns, &nt_root, d, "a", d, "b", 0, &drop), 0);
	assert_int_equal(drop.ino, 0);
	assert_int_equal(nt_lookup(f->ns, d, "a", &ino), 0);
	assert_int_equal(nt_lookup(f->ns, d, "b", &ino), 0);
	assert_int_equal(nt_get(f->ns, x).nlink, 2);
	assert_int_equal(nt_get(f->ns, d).size, 2);
	/* Even without write permission (as Linux). */
	assert_int_equal(rn(f->ns, &nt_bob, d, "a", d, "b", 0, &drop), 0);
}

static void test_rename_dirs(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	struct ns_attr a;
	uint64_t p, q, a1, e, ne, deep, ino;

	p = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "p", 0755);
	q = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "q", 0755);
	a1 = nt_mkdir(f->ns, &nt_root, p, "a", 0755);
	deep = nt_mkdir(f->ns, &nt_root, a1, "b", 0755);
	deep = nt_mkdir(f->ns, &nt_root, deep, "c", 0755);
	e = nt_mkdir(f->ns, &nt_root, q, "empty", 0755);
	ne = nt_mkdir(f->ns, &nt_root, q, "full", 0755);
	nt_create(f->ns, &nt_root, ne, "inside", 0644);
	nt_create(f->ns, &nt_root, q, "file", 0644);

	/* Type mismatches and a non-empty target. */
	assert_int_equal(rn(f->ns, &nt_root, p, "a", q, "file", 0, &drop), -ENOTDIR);
	assert_int_equal(rn(f->ns, &nt_root, q, "file", q, "empty", 0, &drop), -EISDIR);
	assert_int_equal(rn(f->ns, &nt_root, p, "a", q, "full", 0, &drop), -ENOTEMPTY);
	/* Into its own subtree. */
	assert_int_equal(rn(f->ns, &nt_root, p, "a", deep, "x", 0, &drop), -EINVAL);
	assert_int_equal(rn(f->ns, &nt_root, p, "a", a1, "x", 0, &drop), -EINVAL);
	assert_int_equal(rn(f->ns, &nt_root, NS_ROOT_INO, "p", deep, "x", 0, &drop), -EINVAL);
	/* Directory over an empty directory, across parents. */
	assert_int_equal(rn(f->ns, &nt_root, p, "a", q, "empty", 0, &drop), 0);
	assert_true(drop.ino == e && drop.freed);
	assert_int_equal(ns_getattr(f->ns, e, &a), -ENOENT);
	assert_int_equal(nt_get(f->ns, p).nlink, 2);
	assert_int_equal(nt_get(f->ns, q).nlink, 4); /* full, empty(=a) + 2 */
	assert_int_equal(nt_get(f->ns, q).size, 3);
	assert_true(nt_get(f->ns, a1).parent == q);
	assert_int_equal(ns_lookup(f->ns, &nt_root, a1, N(".."), &a), 0);
	assert_true(a.ino == q);
	/* Moving a directory needs write permission on it (its ".." changes). */
	assert_int_equal(nt_chmod(f->ns, &nt_root, p, 0777), 0);
	assert_int_equal(nt_chmod(f->ns, &nt_root, q, 0777), 0);
	assert_int_equal(nt_chmod(f->ns, &nt_root, a1, 0555), 0);
	assert_int_equal(rn(f->ns, &nt_bob, q, "empty", p, "back", 0, &drop), -EACCES);
	/* ...but not within the same parent. */
	assert_int_equal(rn(f->ns, &nt_bob, q, "empty", q, "renamed", 0, &drop), 0);
	assert_int_equal(nt_lookup(f->ns, q, "renamed", &ino), 0);
	assert_true(ino == a1);
	assert_int_equal(nt_get(f->ns, q).nlink, 4);
}

static void test_rename_exchange(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	uint64_t p, q, d, file, ino, sub;

	p = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "p", 0755);
	q = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "q", 0755);
	d = nt_mkdir(f->ns, &nt_root, p, "d", 0755);
	sub = nt_mkdir(f->ns, &nt_root, d, "sub", 0755);
	file = nt_create(f->ns, &nt_root, q, "f", 0644);
	assert_int_equal(rn(f->ns, &nt_root, p, "d", q, "none", NS_RENAME_EXCHANGE, &drop),
			 -ENOENT);
	/* A directory and a file swap parents; link counts follow. */
	assert_int_equal(rn(f->ns, &nt_root, p, "d", q, "f", NS_RENAME_EXCHANGE, &drop), 0);
	assert_int_equal(drop.ino, 0);
	assert_int_equal(nt_lookup(f->ns, p, "d", &ino), 0);
	assert_true(ino == file);
	assert_int_equal(nt_lookup(f->ns, q, "f", &ino), 0);
	assert_true(ino == d);
	assert_int_equal(nt_get(f->ns, p).nlink, 2);
	assert_int_equal(nt_get(f->ns, q).nlink, 3);
	assert_true(nt_get(f->ns, d).parent == q);
	assert_int_equal(nt_get(f->ns, p).size, 1);
	assert_int_equal(nt_get(f->ns, q).size, 1);
	/* Exchanging a directory with its own descendant's entry. */
	assert_int_equal(rn(f->ns, &nt_root, q, "f", d, "sub", NS_RENAME_EXCHANGE, &drop), -EINVAL);
	assert_true(sub != 0);
	/* Same directory: names swap. */
	nt_create(f->ns, &nt_root, q, "g", 0644);
	assert_int_equal(rn(f->ns, &nt_root, q, "f", q, "g", NS_RENAME_EXCHANGE, &drop), 0);
	assert_int_equal(nt_lookup(f->ns, q, "g", &ino), 0);
	assert_true(ino == d);
	assert_int_equal(nt_get(f->ns, q).nlink, 3);
}

static void test_rename_sticky(void **state)
{
	struct nt_fx *f = *state;
	struct ns_drop drop;
	uint64_t tmp;

	tmp = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "tmp", 01777);
	nt_create(f->ns, &nt_alice, tmp, "mine", 0644);
	nt_create(f->ns, &nt_bob, tmp, "bobs", 0644);
	assert_int_equal(rn(f->ns, &nt_bob, tmp, "mine", tmp, "stolen", 0, &drop), -EPERM);
	/* Replacing someone else's file is removing it. */
	assert_int_equal(rn(f->ns, &nt_bob, tmp, "bobs", tmp, "mine", 0, &drop), -EPERM);
	assert_int_equal(rn(f->ns, &nt_alice, tmp, "mine", tmp, "renamed", 0, &drop), 0);
	assert_int_equal(rn(f->ns, &nt_root, tmp, "bobs", tmp, "renamed", 0, &drop), 0);
	assert_true(drop.freed);
}

/* ---- concurrency ---- */

#define NTHREADS 4
#define PER_THREAD 2500
#define RACE_NAMES 300

struct worker {
	struct ns *ns;
	uint64_t dir;
	int id;
	int errors;
	atomic_int *wins; /* [RACE_NAMES] for racing mkdirs */
	atomic_int *fwins;
	uint32_t seed;
	uint64_t dirs[3];
};

static void *creator_main(void *arg)
{
	struct worker *w = arg;
	char name[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "t%d-%04d", w->id, i);
		if (ns_create(w->ns, &nt_root, w->dir, N(name), 0644, NULL, false, NULL))
			w->errors++;
	}
	/* Everyone races for the same names; exactly one may win each. */
	for (int i = 0; i < RACE_NAMES; i++) {
		int rc;

		snprintf(name, sizeof(name), "race-d%03d", i);
		rc = ns_mkdir(w->ns, &nt_root, w->dir, N(name), 0755, 0, false, NULL);
		if (rc == 0)
			atomic_fetch_add(&w->wins[i], 1);
		else if (rc != -EEXIST)
			w->errors++;
		snprintf(name, sizeof(name), "race-f%03d", i);
		rc = ns_create(w->ns, &nt_root, w->dir, N(name), 0644, NULL, false, NULL);
		if (rc == 0)
			atomic_fetch_add(&w->fwins[i], 1);
		else if (rc != -EEXIST)
			w->errors++;
	}
	return NULL;
}

static void test_concurrent_creates(void **state)
{
	struct nt_fx *f = *state;
	static atomic_int wins[RACE_NAMES], fwins[RACE_NAMES];
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct list l = {0};
	struct ns_statfs st;
	struct ns_attr d;
	uint64_t dir;

	dir = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, "hot", 0755);
	for (int i = 0; i < RACE_NAMES; i++) {
		atomic_store(&wins[i], 0);
		atomic_store(&fwins[i], 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		w[i] =
		    (struct worker){.ns = f->ns, .dir = dir, .id = i, .wins = wins, .fwins = fwins};
		assert_int_equal(pthread_create(&th[i], NULL, creator_main, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
	for (int i = 0; i < RACE_NAMES; i++) {
		assert_int_equal(atomic_load(&wins[i]), 1);
		assert_int_equal(atomic_load(&fwins[i]), 1);
	}
	d = nt_get(f->ns, dir);
	assert_int_equal(d.size, NTHREADS * PER_THREAD + 2 * RACE_NAMES);
	assert_int_equal(d.nlink, 2 + RACE_NAMES);
	list_all(f->ns, dir, 1000, false, &l);
	assert_int_equal(l.n, 2 + NTHREADS * PER_THREAD + 2 * RACE_NAMES);
	qsort(l.e, l.n, sizeof(l.e[0]), cmp_str);
	for (size_t i = 1; i < l.n; i++)
		assert_string_not_equal(l.e[i - 1].name, l.e[i].name);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.inodes, 2 + NTHREADS * PER_THREAD + 2 * RACE_NAMES);
	/* The same after a reopen. */
	ns_db_close(f->ns);
	assert_int_equal(nt_open(f->path[0], 0, &f->ns), 0);
	ns_statfs(f->ns, &st);
	assert_int_equal(st.inodes, 2 + NTHREADS * PER_THREAD + 2 * RACE_NAMES);
	assert_int_equal(nt_get(f->ns, dir).size, NTHREADS * PER_THREAD + 2 * RACE_NAMES);
	free(l.e);
}

#define MOVES 600

/* Moves this thread's files and directories between three directories. */
static void *mover_main(void *arg)
{
	struct worker *w = arg;
	int where[8] = {0};
	char from[32], to[32];

	for (int i = 0; i < MOVES; i++) {
		int k = (int)(rnd(&w->seed) % 8), dst = (int)(rnd(&w->seed) % 3);
		int rc;

		snprintf(from, sizeof(from), "m%d-%d", w->id, k);
		snprintf(to, sizeof(to), "m%d-%d", w->id, k);
		rc = ns_rename(w->ns, &nt_root, w->dirs[where[k]], N(from), w->dirs[dst], N(to), 0,
			       false, NULL);
		if (rc)
			w->errors++;
		else
			where[k] = dst;
	}
	return NULL;
}

static void test_concurrent_renames(void **state)
{
	struct nt_fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	uint64_t dirs[3];
	uint64_t total = 0, nl = 0;
	char name[32];

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		dirs[i] = nt_mkdir(f->ns, &nt_root, NS_ROOT_INO, name, 0755);
	}
	for (int t = 0; t < NTHREADS; t++) {
		for (int k = 0; k < 8; k++) {
			snprintf(name, sizeof(name), "m%d-%d", t, k);
			if (k % 2)
				nt_mkdir(f->ns, &nt_root, dirs[0], name, 0755);
			else
				nt_create(f->ns, &nt_root, dirs[0], name, 0644);
		}
		w[t] = (struct worker){.ns = f->ns, .id = t, .seed = seed + (uint32_t)t * 7919u};
		memcpy(w[t].dirs, dirs, sizeof(dirs));
	}
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, mover_main, &w[t]), 0);
	for (int t = 0; t < NTHREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(w[t].errors, 0);
	}
	for (int i = 0; i < 3; i++) {
		struct ns_attr a = nt_get(f->ns, dirs[i]);
		struct list l = {0};

		list_all(f->ns, dirs[i], 0, false, &l);
		assert_int_equal(l.n, a.size + 2);
		total += a.size;
		nl += a.nlink - 2;
		for (size_t j = 2; j < l.n; j++)
			if (l.e[j].type == S_IFDIR)
				assert_true(nt_get(f->ns, l.e[j].ino).parent == dirs[i]);
		free(l.e);
	}
	assert_int_equal(total, NTHREADS * 8);
	assert_int_equal(nl, NTHREADS * 4);
}

int main(void)
{
	seed = (unsigned)time(NULL) | 1u;
	if (getenv("TEST_SEED"))
		seed = (unsigned)strtoul(getenv("TEST_SEED"), NULL, 0) | 1u;
	printf("seed %u (TEST_SEED to repeat)\n", seed);
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_readdir_basic),	T(test_readdir_interleaved), T(test_readdir_concurrent),
	    T(test_rename_files),	T(test_rename_same_inode),   T(test_rename_dirs),
	    T(test_rename_exchange),	T(test_rename_sticky),	     T(test_concurrent_creates),
	    T(test_concurrent_renames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
