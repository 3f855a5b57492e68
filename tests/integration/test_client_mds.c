/*
 * test_client_mds.c - libcairn against four real cairn-mds shards on
 * loopback (suite 'mds').
 *
 *   tree        a random tree of 10,000 entries (300 directories nested at
 *               random, files, symlinks, FIFOs) built by four threads; the
 *               directories land on every shard, files on their parent's;
 *               verified entry by entry with readdirplus (small batches,
 *               so cookies are exercised), getattr and path lookups
 *   cookies     resuming from any cookie gives the rest of the listing, and
 *               a listing interleaved with inserts and deletes sees every
 *               entry that existed throughout exactly once
 *   creators    four threads create disjoint names and race on shared ones
 *               in one directory: nothing lost, no duplicate, exactly one
 *               winner per racing name (files and directories)
 *   renames     files and directories moved between directories of
 *               different shards: plain, replacing, NOREPLACE, EXCHANGE,
 *               into the own subtree, over (non-)empty directories; and
 *               a cross-shard hard link
 *   attributes  setattr, xattrs, open/close publishing size, unlink while
 *               open, statfs, and permission checks under other credentials
 *   fsck        `cairnctl fsck` finds the namespace clean at the end
 *
 * Usage: test_client_mds CAIRN_MDS CAIRNCTL.  Exits 77 when the daemon is
 * not built.  The seed of the random tree is printed; set CAIRN_TEST_SEED
 * to replay one.  The shards run under mds_harness.h: stopped by pid
 * whatever happens, their directory kept with CAIRN_TEST_KEEP=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/cairn.h"
#include "client/cairn_admin.h"
#include "tests/integration/mds_harness.h"

#define NSHARDS 4
#define NDIRS 300
#define NENTRIES 10000
#define NTHREADS 4

static struct mh_cluster mc;
static struct cairn *c;
static const char *cairnctl;
static unsigned seed;
static int failures;

/* ---- the model of the random tree ---- */

struct ent {
	int parent; /* index of the parent directory; -1: the root */
	char name[16];
	uint32_t mode;
	uint64_t ino;
	int nsub; /* directories: subdirectories */
	int nent; /* directories: entries */
};

static struct ent ents[NENTRIES];
static uint64_t root_ino = CAIRN_ROOT_INO;

static uint64_t ino_of(int idx)
{
	return idx < 0 ? root_ino : ents[idx].ino;
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

/* Creates entry i (a non-directory) as the model says. */
static int create_ent(int i)
{
	struct ent *e = &ents[i];
	struct cairn_open_info oi;
	struct cairn_attr a;
	uint64_t p = ino_of(e->parent);
	int rc;

	switch (e->mode & S_IFMT) {
	case S_IFLNK:
		rc = cairn_symlink(c, NULL, p, e->name, "../some/target", &a);
		break;
	case S_IFIFO:
		rc = cairn_mknod(c, NULL, p, e->name, e->mode, 0, &a);
		break;
	default:
		rc = cairn_create(c, NULL, p, e->name, e->mode & 07777, O_WRONLY | O_EXCL, &oi);
		if (rc)
			break;
		a = oi.attr;
		rc = cairn_close_meta(c, NULL, a.ino, oi.fh, NULL, NULL);
	}
	if (!rc)
		e->ino = a.ino;
	return rc;
}

static atomic_int build_err;

static void *build_files(void *arg)
{
	long t = (long)arg;

	for (int i = NDIRS + (int)t; i < NENTRIES && !atomic_load(&build_err); i += NTHREADS) {
		int rc = create_ent(i);

		if (rc) {
			fprintf(stderr, "create %s: %s\n", ents[i].name, cairn_strerror(rc));
			atomic_store(&build_err, rc);
		}
	}
	return NULL;
}

static void plan_tree(void)
{
	unsigned s = seed;

	for (int i = 0; i < NENTRIES; i++) {
		struct ent *e = &ents[i];
		int ndirs = i < NDIRS ? i : NDIRS;

		/* a directory under the root one time in eight, else under an older one */
		e->parent =
		    (ndirs == 0 || rnd(&s) % 8 == 0) ? -1 : (int)(rnd(&s) % (unsigned)ndirs);
		if (i < NDIRS) {
			snprintf(e->name, sizeof(e->name), "d%04d", i);
			e->mode = S_IFDIR | (rnd(&s) % 2 ? 0755 : 0750);
		} else {
			snprintf(e->name, sizeof(e->name), "f%05d", i);
			e->mode = i % 10 == 0	? S_IFLNK | 0777
				  : i % 10 == 1 ? S_IFIFO | 0640
						: S_IFREG | (rnd(&s) % 2 ? 0644 : 0600);
		}
		if (e->parent >= 0) {
			ents[e->parent].nent++;
			if (i < NDIRS)
				ents[e->parent].nsub++;
		}
	}
}

static void test_tree_build(void **state)
{
	pthread_t tid[NTHREADS];
	unsigned per_shard[NSHARDS] = {0};
	struct cairn_attr a;

	(void)state;
	assert_int_equal(cairn_mkdir(c, NULL, CAIRN_ROOT_INO, "tree", 0755, &a), 0);
	root_ino = a.ino;
	plan_tree();
	for (int i = 0; i < NDIRS; i++) {
		assert_int_equal(cairn_mkdir(c, NULL, ino_of(ents[i].parent), ents[i].name,
					     ents[i].mode & 07777, &a),
				 0);
		ents[i].ino = a.ino;
		assert_int_equal(a.mode, ents[i].mode);
		assert_int_equal(a.nlink, 2);
		per_shard[cairn_ino_shard(a.ino)]++;
	}
	for (long t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&tid[t], NULL, build_files, (void *)t), 0);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(tid[t], NULL);
	assert_int_equal(atomic_load(&build_err), 0);
	printf("directories per shard: %u %u %u %u\n", per_shard[0], per_shard[1], per_shard[2],
	       per_shard[3]);
	for (int s = 0; s < NSHARDS; s++)
		assert_true(per_shard[s] > 0);
	/* files live on their parent's shard */
	for (int i = NDIRS; i < NENTRIES; i++)
		assert_int_equal(cairn_ino_shard(ents[i].ino),
				 cairn_ino_shard(ino_of(ents[i].parent)));
}

/* ---- listing helpers ---- */

struct listed {
	char name[CAIRN_NAME_MAX + 1];
	uint64_t ino;
	uint64_t cookie;
	uint8_t type;
	bool has_attr;
	struct cairn_attr attr;
};

struct listing {
	struct listed *v;
	size_t n, cap;
	size_t stop_after; /* 0: no limit */
};

static int collect(void *arg, const struct cairn_dirent *d)
{
	struct listing *l = arg;
	struct listed *e;

	if (l->stop_after && l->n == l->stop_after)
		return 1;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	e = &l->v[l->n++];
	assert_int_equal(strlen(d->name), d->nlen);
	snprintf(e->name, sizeof(e->name), "%s", d->name);
	e->ino = d->ino;
	e->cookie = d->cookie;
	e->type = d->type;
	e->has_attr = d->attr != NULL;
	if (d->attr)
		e->attr = *d->attr;
	return 0;
}

/* Lists dir from cookie into l (appending); returns cairn_readdir()'s value. */
static int list_dir(uint64_t dir, uint64_t cookie, uint32_t batch, bool plus, struct listing *l)
{
	struct cairn_readdir_args a = {.cookie = cookie,
				       .batch = batch,
				       .fn = collect,
				       .arg = l,
				       .flags = plus ? CAIRN_READDIR_PLUS : 0};
	int rc = cairn_readdir(c, NULL, dir, &a);

	if (!rc && !l->stop_after)
		assert_true(a.eof);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct listed *)a)->name, ((const struct listed *)b)->name);
}

/* Entry idx (or the root, -1) listed against the model. */
static void check_dir(int idx, int *children, int nchildren)
{
	struct listing l = {0};
	uint64_t dino = ino_of(idx);

	assert_int_equal(list_dir(dino, 0, 37, true, &l), 0);
	assert_int_equal(l.n, (size_t)nchildren + 2);
	assert_string_equal(l.v[0].name, ".");
	assert_int_equal(l.v[0].ino, dino);
	assert_string_equal(l.v[1].name, "..");
	assert_int_equal(l.v[1].ino, idx < 0 ? CAIRN_ROOT_INO : ino_of(ents[idx].parent));
	qsort(l.v + 2, l.n - 2, sizeof(*l.v), by_name);
	for (int k = 0; k < nchildren; k++) {
		const struct ent *e = &ents[children[k]];
		const struct listed *g = &l.v[k + 2];
		struct cairn_attr a;

		assert_string_equal(g->name, e->name);
		assert_int_equal(g->ino, e->ino);
		assert_int_equal(g->type, (e->mode & S_IFMT) >> 12);
		assert_true(g->has_attr);
		assert_int_equal(g->attr.ino, e->ino);
		assert_int_equal(g->attr.mode, e->mode);
		assert_int_equal(g->attr.nlink, S_ISDIR(e->mode) ? 2 + e->nsub : 1);
		assert_int_equal(cairn_getattr(c, NULL, e->ino, &a), 0);
		assert_int_equal(a.mode, g->attr.mode);
		assert_int_equal(a.nlink, g->attr.nlink);
		assert_int_equal(a.size, g->attr.size);
		if (S_ISDIR(e->mode))
			assert_int_equal(a.size, (uint64_t)e->nent);
	}
	free(l.v);
}

static int cmp_name_idx(const void *a, const void *b)
{
	return strcmp(ents[*(const int *)a].name, ents[*(const int *)b].name);
}

static void test_tree_verify(void **state)
{
	int *kids = malloc(sizeof(int) * NENTRIES);

	(void)state;
	assert_non_null(kids);
	for (int d = -1; d < NDIRS; d++) {
		int n = 0;

		for (int i = 0; i < NENTRIES; i++)
			if (ents[i].parent == d)
				kids[n++] = i;
		qsort(kids, (size_t)n, sizeof(int), cmp_name_idx);
		check_dir(d, kids, n);
	}
	free(kids);
}

/* The path of entry i from the cluster's root; returns its length. */
static size_t path_of(int i, char *buf, size_t len)
{
	size_t n;

	if (i < 0)
		return (size_t)snprintf(buf, len, "/tree");
	n = path_of(ents[i].parent, buf, len);
	assert_true(n + 1 + strlen(ents[i].name) < len);
	return n + (size_t)snprintf(buf + n, len - n, "/%s", ents[i].name);
}

static void test_tree_paths(void **state)
{
	unsigned s = seed ^ 0x5a5a;
	char path[4096];
	struct cairn_attr a;

	(void)state;
	for (int k = 0; k < 300; k++) {
		int i = (int)(rnd(&s) % NENTRIES);

		path_of(i, path, sizeof(path));
		assert_int_equal(cairn_lstat_path(c, NULL, path, &a), 0);
		assert_int_equal(a.ino, ents[i].ino);
		if (S_ISDIR(ents[i].mode)) {
			strcat(path, "/./../");
			strcat(path, ents[i].name);
			strcat(path, "/");
			assert_int_equal(cairn_stat_path(c, NULL, path, &a), 0);
			assert_int_equal(a.ino, ents[i].ino);
		} else if (S_ISREG(ents[i].mode)) {
			strcat(path, "/");
			assert_int_equal(cairn_stat_path(c, NULL, path, &a), -ENOTDIR);
		}
	}
}

/* ---- cookies ---- */

static uint64_t mkdir_in(uint64_t parent, const char *name)
{
	struct cairn_attr a;

	assert_int_equal(cairn_mkdir(c, NULL, parent, name, 0755, &a), 0);
	return a.ino;
}

static void mknod_in(uint64_t parent, const char *name)
{
	int rc = cairn_mknod(c, NULL, parent, name, S_IFREG | 0644, 0, NULL);

	if (rc)
		fail_msg("mknod %s: %s", name, cairn_strerror(rc));
}

static void test_cookies_resume(void **state)
{
	struct listing full = {0};
	uint64_t dir = mkdir_in(CAIRN_ROOT_INO, "cookies");
	char name[32];

	(void)state;
	for (int i = 0; i < 700; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		mknod_in(dir, name);
	}
	assert_int_equal(list_dir(dir, 0, 0, false, &full), 0);
	assert_int_equal(full.n, 702);
	for (size_t k = 0; k < full.n; k += 41) {
		struct listing rest = {0};

		assert_int_equal(list_dir(dir, full.v[k].cookie, 13, k % 2, &rest), 0);
		assert_int_equal(rest.n, full.n - k - 1);
		for (size_t j = 0; j < rest.n; j++) {
			assert_string_equal(rest.v[j].name, full.v[k + 1 + j].name);
			assert_int_equal(rest.v[j].cookie, full.v[k + 1 + j].cookie);
		}
		free(rest.v);
	}
	free(full.v);
}

/* A listing in pieces, with entries added and removed between the pieces. */
static void test_cookies_concurrent(void **state)
{
	uint64_t dir = mkdir_in(CAIRN_ROOT_INO, "churn");
	struct listing l = {0};
	bool removed[500] = {false};
	int seen[500] = {0}, added = 0;
	unsigned s = seed ^ 0xc001;
	uint64_t cookie = 0;
	char name[32];

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "c%03d", i);
		mknod_in(dir, name);
	}
	for (bool eof = false; !eof;) {
		struct cairn_readdir_args a = {
		    .cookie = cookie, .batch = 16, .fn = collect, .arg = &l};

		l.stop_after = l.n + 16;
		assert_int_equal(cairn_readdir(c, NULL, dir, &a), 0);
		eof = a.eof;
		if (l.n)
			cookie = l.v[l.n - 1].cookie;
		for (int k = 0; k < 4; k++) { /* remove some, listed or not; add some */
			int victim = (int)(rnd(&s) % 500);

			snprintf(name, sizeof(name), "c%03d", victim);
			if (!removed[victim])
				assert_int_equal(cairn_unlink(c, NULL, dir, name), 0);
			removed[victim] = true;
			snprintf(name, sizeof(name), "n%04d", added++);
			mknod_in(dir, name);
		}
	}
	for (size_t j = 0; j < l.n; j++) {
		for (size_t k = j + 1; k < l.n; k++)
			if (strcmp(l.v[j].name, l.v[k].name) == 0)
				fail_msg("%s listed twice", l.v[j].name);
		if (l.v[j].name[0] == 'c')
			seen[atoi(l.v[j].name + 1)]++;
	}
	for (int i = 0; i < 500; i++)
		if (!removed[i] && seen[i] != 1)
			fail_msg("c%03d existed throughout but was listed %d times", i, seen[i]);
	free(l.v);
}

/* ---- concurrent creators in one directory ---- */

#define DISJOINT 500
#define RACING 300
#define RACING_DIRS 60

static uint64_t race_dir;
static pthread_barrier_t race_start;
static atomic_int race_wins[RACING + RACING_DIRS];
static atomic_int race_other_err;

static void *creator(void *arg)
{
	long t = (long)arg;
	struct cairn_open_info oi;
	char name[32];
	int rc;

	pthread_barrier_wait(&race_start);
	for (int i = 0; i < DISJOINT; i++) {
		snprintf(name, sizeof(name), "t%ld-%03d", t, i);
		rc = cairn_create(c, NULL, race_dir, name, 0644, O_RDWR | O_EXCL, &oi);
		if (!rc)
			rc = cairn_close_meta(c, NULL, oi.attr.ino, oi.fh, NULL, NULL);
		if (rc)
			atomic_store(&race_other_err, rc);
		if (i < RACING + RACING_DIRS) { /* the same names in every thread */
			bool dir = i >= RACING;

			snprintf(name, sizeof(name), dir ? "rd%03d" : "r%03d", i);
			rc = dir ? cairn_mkdir(c, NULL, race_dir, name, 0755, NULL)
				 : cairn_mknod(c, NULL, race_dir, name, S_IFREG | 0600, 0, NULL);
			if (rc == 0)
				atomic_fetch_add(&race_wins[i], 1);
			else if (rc != -EEXIST)
				atomic_store(&race_other_err, rc);
		}
	}
	return NULL;
}

static void test_concurrent_creators(void **state)
{
	pthread_t tid[NTHREADS];
	struct listing l = {0};
	struct cairn_attr a;

	(void)state;
	race_dir = mkdir_in(CAIRN_ROOT_INO, "race");
	pthread_barrier_init(&race_start, NULL, NTHREADS);
	for (long t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&tid[t], NULL, creator, (void *)t), 0);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(tid[t], NULL);
	pthread_barrier_destroy(&race_start);
	if (atomic_load(&race_other_err))
		fail_msg("unexpected error: %s", cairn_strerror(atomic_load(&race_other_err)));
	for (int i = 0; i < RACING + RACING_DIRS; i++)
		if (atomic_load(&race_wins[i]) != 1)
			fail_msg("racing name %d had %d winners", i, atomic_load(&race_wins[i]));
	assert_int_equal(list_dir(race_dir, 0, 100, true, &l), 0);
	assert_int_equal(l.n, 2 + NTHREADS * DISJOINT + RACING + RACING_DIRS);
	qsort(l.v + 2, l.n - 2, sizeof(*l.v), by_name);
	for (size_t j = 3; j < l.n; j++)
		if (strcmp(l.v[j - 1].name, l.v[j].name) == 0)
			fail_msg("%s listed twice", l.v[j].name);
	assert_int_equal(cairn_getattr(c, NULL, race_dir, &a), 0);
	assert_int_equal(a.size, NTHREADS * DISJOINT + RACING + RACING_DIRS);
	assert_int_equal(a.nlink, 2 + RACING_DIRS);
	free(l.v);
}

/* ---- cross-shard renames ---- */

/* Two directories pa and pb<i> under the root, on different shards. */
static void two_shards(char p, uint64_t *a, uint64_t *b)
{
	char name[32];

	snprintf(name, sizeof(name), "%ca", p);
	*a = mkdir_in(CAIRN_ROOT_INO, name);
	for (int i = 0;; i++) {
		assert_true(i < 64);
		snprintf(name, sizeof(name), "%cb%d", p, i);
		*b = mkdir_in(CAIRN_ROOT_INO, name);
		if (cairn_ino_shard(*b) != cairn_ino_shard(*a))
			return;
	}
}

static uint64_t file_in(uint64_t dir, const char *name)
{
	struct cairn_attr a;

	assert_int_equal(cairn_mknod(c, NULL, dir, name, S_IFREG | 0644, 0, &a), 0);
	return a.ino;
}

static uint64_t ino_at(uint64_t dir, const char *name)
{
	struct cairn_attr a;
	int rc = cairn_lookup(c, NULL, dir, name, &a);

	return rc ? 0 : a.ino;
}

static uint32_t nlink_of(uint64_t ino)
{
	struct cairn_attr a;

	assert_int_equal(cairn_getattr(c, NULL, ino, &a), 0);
	return a.nlink;
}

static void test_rename_files(void **state)
{
	uint64_t a, b, f1, f2, g2, f4, g4;

	(void)state;
	two_shards('x', &a, &b);
	printf("rename between shards %u and %u\n", cairn_ino_shard(a), cairn_ino_shard(b));
	f1 = file_in(a, "f1");
	assert_int_equal(cairn_rename(c, NULL, a, "f1", b, "g1", 0), 0);
	assert_int_equal(ino_at(b, "g1"), f1);
	assert_int_equal(ino_at(a, "f1"), 0);
	assert_int_equal(nlink_of(f1), 1);
	/* replacing a file on the other shard frees it */
	f2 = file_in(a, "f2");
	g2 = file_in(b, "g2");
	assert_int_equal(cairn_rename(c, NULL, a, "f2", b, "g2", 0), 0);
	assert_int_equal(ino_at(b, "g2"), f2);
	assert_int_equal(cairn_getattr(c, NULL, g2, &(struct cairn_attr){0}), -ENOENT);
	/* NOREPLACE and EXCHANGE */
	file_in(a, "f3");
	file_in(b, "g3");
	assert_int_equal(cairn_rename(c, NULL, a, "f3", b, "g3", CAIRN_RENAME_NOREPLACE), -EEXIST);
	assert_int_not_equal(ino_at(a, "f3"), 0);
	f4 = file_in(a, "f4");
	g4 = file_in(b, "g4");
	assert_int_equal(cairn_rename(c, NULL, a, "f4", b, "g4", CAIRN_RENAME_EXCHANGE), 0);
	assert_int_equal(ino_at(a, "f4"), g4);
	assert_int_equal(ino_at(b, "g4"), f4);
	assert_int_equal(cairn_rename(c, NULL, a, "nope", b, "g5", 0), -ENOENT);
	/* a hard link across shards, then the first name goes */
	assert_int_equal(cairn_link(c, NULL, f1, a, "hard", NULL), 0);
	assert_int_equal(nlink_of(f1), 2);
	assert_int_equal(cairn_unlink(c, NULL, b, "g1"), 0);
	assert_int_equal(nlink_of(f1), 1);
	assert_int_equal(ino_at(a, "hard"), f1);
	assert_int_equal(cairn_rename_path(c, NULL, "/xa/hard", "/xa/hard2", 0), 0);
	assert_int_equal(ino_at(a, "hard2"), f1);
}

static void test_rename_dirs(void **state)
{
	uint64_t a, b, sub, deep, full, empty, b_nlink, a_nlink;
	struct listing l = {0};
	char name[32];

	(void)state;
	two_shards('y', &a, &b);
	sub = mkdir_in(a, "sub");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		file_in(sub, name);
	}
	a_nlink = nlink_of(a);
	b_nlink = nlink_of(b);
	assert_int_equal(cairn_rename(c, NULL, a, "sub", b, "sub2", 0), 0);
	assert_int_equal(ino_at(b, "sub2"), sub);
	assert_int_equal(ino_at(sub, ".."), b);
	assert_int_equal(nlink_of(a), a_nlink - 1);
	assert_int_equal(nlink_of(b), b_nlink + 1);
	assert_int_equal(list_dir(sub, 0, 0, true, &l), 0);
	assert_int_equal(l.n, 22);
	free(l.v);
	/* not into its own subtree */
	deep = mkdir_in(sub, "deep");
	assert_int_equal(cairn_rename(c, NULL, b, "sub2", deep, "x", 0), -EINVAL);
	/* not over a non-empty directory; over an empty one, which goes */
	full = mkdir_in(a, "full");
	file_in(full, "x");
	assert_int_equal(cairn_rename(c, NULL, b, "sub2", a, "full", 0), -ENOTEMPTY);
	empty = mkdir_in(a, "empty");
	assert_int_equal(cairn_rename(c, NULL, b, "sub2", a, "empty", 0), 0);
	assert_int_equal(ino_at(a, "empty"), sub);
	assert_int_equal(cairn_getattr(c, NULL, empty, &(struct cairn_attr){0}), -ENOENT);
	assert_int_equal(ino_at(sub, ".."), a);
	/* types must match */
	file_in(b, "plain");
	assert_int_equal(cairn_rename(c, NULL, a, "empty", b, "plain", 0), -ENOTDIR);
	assert_int_equal(cairn_rename(c, NULL, b, "plain", a, "full", 0), -EISDIR);
	/* rmdir of a directory living on another shard than its entry */
	assert_int_equal(cairn_rmdir(c, NULL, a, "empty"), -ENOTEMPTY);
	assert_int_equal(cairn_unlink(c, NULL, deep, "nothing"), -ENOENT);
	assert_int_equal(cairn_rmdir(c, NULL, sub, "deep"), 0);
}

/* ---- attributes, xattrs, open files, credentials ---- */

static void test_attributes(void **state)
{
	struct cairn_setattr sa = {.valid = CAIRN_SET_MODE | CAIRN_SET_MTIME,
				   .mode = 0600,
				   .mtime = {.tv_sec = 1000, .tv_nsec = 5}};
	struct cairn_publish pub = {.valid = CAIRN_PUB_SIZE, .size = 12345};
	struct cairn_open_info oi;
	struct cairn_statfs sf;
	struct cairn_attr a;
	char buf[64];
	size_t len;
	uint64_t dir = mkdir_in(CAIRN_ROOT_INO, "attrs");

	(void)state;
	assert_int_equal(cairn_create(c, NULL, dir, "f", 0644, O_RDWR | O_EXCL, &oi), 0);
	assert_true(oi.attr.has_layout);
	assert_int_equal(cairn_close_meta(c, NULL, oi.attr.ino, oi.fh, &pub, &a), 0);
	assert_int_equal(a.size, 12345);
	assert_int_equal(cairn_setattr(c, NULL, oi.attr.ino, &sa, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0600);
	assert_int_equal(a.mtime.tv_sec, 1000);
	assert_int_equal(a.mtime.tv_nsec, 5);
	/* xattrs */
	assert_int_equal(cairn_setxattr(c, NULL, dir, "user.k", "value", 5, CAIRN_XATTR_CREATE), 0);
	assert_int_equal(cairn_setxattr(c, NULL, dir, "user.k", "v", 1, CAIRN_XATTR_CREATE),
			 -EEXIST);
	assert_int_equal(cairn_setxattr(c, NULL, dir, "user.z", "v", 1, CAIRN_XATTR_REPLACE),
			 -ENODATA);
	assert_int_equal(cairn_getxattr(c, NULL, dir, "user.k", NULL, 0, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(cairn_getxattr(c, NULL, dir, "user.k", buf, 2, &len), -ERANGE);
	assert_int_equal(cairn_getxattr(c, NULL, dir, "user.k", buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "value", 5);
	assert_int_equal(cairn_listxattr(c, NULL, dir, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "user.k", 7);
	assert_int_equal(cairn_removexattr(c, NULL, dir, "user.k"), 0);
	assert_int_equal(cairn_getxattr(c, NULL, dir, "user.k", buf, sizeof(buf), &len), -ENODATA);
	/* a symlink and its target */
	assert_int_equal(cairn_symlink_path(c, NULL, "f", "/attrs/ln"), 0);
	assert_int_equal(cairn_readlink_path(c, NULL, "/attrs/ln", buf, sizeof(buf), &len), 0);
	assert_string_equal(buf, "f");
	assert_int_equal(cairn_stat_path(c, NULL, "/attrs/ln", &a), 0);
	assert_int_equal(a.ino, oi.attr.ino);
	/* unlinked while open: gone at the last close */
	assert_int_equal(cairn_open_meta(c, NULL, oi.attr.ino, O_RDONLY, &oi), 0);
	assert_int_equal(cairn_unlink(c, NULL, dir, "f"), 0);
	assert_int_equal(cairn_getattr(c, NULL, oi.attr.ino, &a), 0);
	assert_int_equal(cairn_close_meta(c, NULL, oi.attr.ino, oi.fh, NULL, NULL), 0);
	assert_int_equal(cairn_getattr(c, NULL, oi.attr.ino, &a), -ENOENT);
	assert_int_equal(cairn_statfs(c, NULL, &sf), 0);
	assert_true(sf.files > sf.ffree);
	assert_int_equal(sf.namemax, CAIRN_NAME_MAX);
}

static void test_credentials(void **state)
{
	uint32_t groups[1] = {4242};
	struct cairn_cred user = {.uid = 1000, .gid = 1000};
	struct cairn_cred member = {.uid = 1001, .gid = 1001, .ngroups = 1, .groups = groups};
	struct cairn_setattr sa = {
	    .valid = CAIRN_SET_GID | CAIRN_SET_MODE, .gid = 4242, .mode = 0770};
	uint64_t dir = mkdir_in(CAIRN_ROOT_INO, "creds");
	struct cairn_attr a;

	(void)state;
	/* root-owned 0755: others may look but not create */
	assert_int_equal(cairn_mknod(c, &user, dir, "x", S_IFREG | 0644, 0, NULL), -EACCES);
	assert_int_equal(cairn_lookup(c, &user, dir, "x", &a), -ENOENT);
	/* group 4242, 0770: a member of it may create, a stranger may not even look */
	assert_int_equal(cairn_setattr(c, NULL, dir, &sa, NULL), 0);
	assert_int_equal(cairn_mknod(c, &member, dir, "y", S_IFREG | 0644, 0, &a), 0);
	assert_int_equal(a.uid, 1001);
	assert_int_equal(cairn_lookup(c, &user, dir, "y", &a), -EACCES);
	assert_int_equal(cairn_lookup(c, &member, dir, "y", &a), 0);
	/* chown is root's */
	sa = (struct cairn_setattr){.valid = CAIRN_SET_UID, .uid = 1000};
	assert_int_equal(cairn_setattr(c, &member, a.ino, &sa, NULL), -EPERM);
}

/* Runs argv to completion; returns its exit status, or -1. */
static int run(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_fsck_clean(void **state)
{
	char *argv[] = {(char *)cairnctl, "-c", mc.conf, "fsck", "--no-progress", NULL};

	(void)state;
	if (access(cairnctl, X_OK))
		fail_msg("cairnctl not found at %s", cairnctl);
	assert_int_equal(run(argv), 0);
}

static const struct mh_conf pools = {
    .top = "pools = ( { name = \"default\"; scheme = \"ec:4+2\"; } );",
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_build),	       cmocka_unit_test(test_tree_verify),
	    cmocka_unit_test(test_tree_paths),	       cmocka_unit_test(test_cookies_resume),
	    cmocka_unit_test(test_cookies_concurrent), cmocka_unit_test(test_concurrent_creators),
	    cmocka_unit_test(test_rename_files),       cmocka_unit_test(test_rename_dirs),
	    cmocka_unit_test(test_attributes),	       cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_fsck_clean),
	};
	const char *env = getenv("CAIRN_TEST_SEED");
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CAIRN_MDS CAIRNCTL\n", argv[0]);
		return 2;
	}
	if (access(argv[1], X_OK)) {
		printf("SKIP: cairn-mds not found at %s (build the daemon first)\n", argv[1]);
		return 77;
	}
	cairnctl = argv[2];
	seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
	printf("seed %u (CAIRN_TEST_SEED to replay)\n", seed);
	mh_cluster_init(&mc, argv[1], NSHARDS, &pools);
	for (int i = 0; i < NSHARDS; i++)
		mh_shard_up(&mc, i);
	rc = cairn_open_conf(mc.conf, &c);
	if (rc)
		mh_fail("cairn_open_conf %s: %s", mc.conf, cairn_strerror(rc));
	failures = cmocka_run_group_tests(tests, NULL, NULL);
	cairn_close(c);
	for (int i = 0; i < NSHARDS; i++)
		if (mh_shard_stop(&mc, i, SIGTERM) != 0)
			mh_fail("shard %d did not stop cleanly", i);
	return failures ? 1 : 0;
}
