/*
 * test_kv.c - the RocksDB wrapper on a real database in a scratch
 * directory: column families, point reads with short buffers, atomic
 * batches, prefix iterators (bounds, seeks, snapshots), WAL sync, reopen,
 * unknown column families, and the errno mapping of RocksDB errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mds/kv.h"
#include "mds_test.h"

static const struct kv_cf_desc cfs[] = {
    {"alpha", false},
    {"beta", true},
    {"gamma", false},
};

struct fx {
	char *dir;
	struct kv_db *db;
};

static int kv_test_open(const char *dir, const struct kv_cf_desc *c, unsigned n, struct kv_db **db)
{
	struct kv_options o = {
	    .create_if_missing = true, .block_cache_bytes = 1 << 20, .write_buffer_bytes = 4 << 20};

	return kv_open(dir, &o, c, n, db);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = mt_tmpdir();
	assert_non_null(f->dir);
	assert_int_equal(kv_test_open(f->dir, cfs, 3, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kv_close(f->db);
	assert_int_equal(mt_rmtree(f->dir), 0);
	free(f->dir);
	free(f);
	return 0;
}

static void put1(struct kv_db *db, unsigned cf, const char *k, const char *v)
{
	struct kv_batch *b = kv_batch_new(db);

	assert_non_null(b);
	kv_batch_put(b, cf, k, strlen(k), v, strlen(v));
	assert_int_equal(kv_write(db, b, false), 0);
	kv_batch_free(b);
}

static void expect(struct kv_db *db, unsigned cf, const char *k, const char *v)
{
	char buf[64];
	size_t n = 0;

	assert_int_equal(kv_get(db, cf, k, strlen(k), buf, sizeof(buf), &n), 0);
	assert_int_equal(n, strlen(v));
	assert_memory_equal(buf, v, n);
}

static void test_open_errors(void **state)
{
	struct kv_options o = {.create_if_missing = false};
	struct kv_cf_desc many[KV_MAX_CFS + 1];
	struct kv_cf_desc bad[] = {{"", false}};
	struct fx *f = *state;
	struct kv_db *db = (struct kv_db *)1;
	char path[512];

	snprintf(path, sizeof(path), "%s/none", f->dir);
	assert_int_equal(kv_open(path, &o, cfs, 3, &db), -ENOENT);
	assert_null(db);
	for (unsigned i = 0; i < KV_MAX_CFS + 1; i++)
		many[i] = cfs[0];
	assert_int_equal(kv_test_open(path, many, KV_MAX_CFS + 1, &db), -EINVAL);
	assert_int_equal(kv_test_open(path, bad, 1, &db), -EINVAL);
	assert_int_equal(kv_open(NULL, &o, cfs, 3, &db), -EINVAL);
	/* The open database is locked against a second opener. */
	assert_int_equal(kv_test_open(f->dir, cfs, 3, &db), -EBUSY);
}

static void test_get_put_del(void **state)
{
	struct fx *f = *state;
	struct kv_batch *b;
	char buf[4];
	size_t n = 0;

	put1(f->db, 0, "k", "in-alpha");
	put1(f->db, 1, "k", "in-beta");
	expect(f->db, 0, "k", "in-alpha");
	expect(f->db, 1, "k", "in-beta");
	assert_int_equal(kv_get(f->db, 2, "k", 1, buf, sizeof(buf), &n), -ENOENT);
	/* A short buffer gets a prefix and the full length. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(kv_get(f->db, 0, "k", 1, buf, 2, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "in\0\0", 4);
	assert_int_equal(kv_get(f->db, 0, "k", 1, NULL, 0, &n), 0);
	assert_int_equal(n, 8);
	/* Empty values exist. */
	put1(f->db, 2, "empty", "");
	assert_int_equal(kv_get(f->db, 2, "empty", 5, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(kv_get(f->db, 3, "k", 1, buf, sizeof(buf), &n), -EINVAL);

	b = kv_batch_new(f->db);
	assert_non_null(b);
	kv_batch_del(b, 0, "k", 1);
	assert_int_equal(kv_batch_count(b), 1);
	assert_int_equal(kv_write(f->db, b, true), 0);
	kv_batch_free(b);
	assert_int_equal(kv_get(f->db, 0, "k", 1, buf, sizeof(buf), &n), -ENOENT);
	expect(f->db, 1, "k", "in-beta");
}

static void test_batch_atomic(void **state)
{
	struct fx *f = *state;
	struct kv_batch *b = kv_batch_new(f->db);
	struct kv_db *other = NULL;
	char path[512];
	size_t n;

	assert_non_null(b);
	/* A bad column family fails the whole batch: nothing is applied. */
	kv_batch_put(b, 0, "x", 1, "1", 1);
	kv_batch_put(b, 7, "y", 1, "2", 1);
	assert_int_equal(kv_batch_count(b), 1);
	assert_int_equal(kv_write(f->db, b, false), -EINVAL);
	assert_int_equal(kv_get(f->db, 0, "x", 1, NULL, 0, &n), -ENOENT);
	kv_batch_clear(b);
	assert_int_equal(kv_batch_count(b), 0);
	/* An empty batch is fine. */
	assert_int_equal(kv_write(f->db, b, true), 0);
	kv_batch_put(b, 0, "x", 1, "1", 1);
	kv_batch_put(b, 1, "y", 1, "2", 1);
	kv_batch_del(b, 0, "x", 1); /* later operations win */
	kv_batch_put(b, 0, "x", 1, "3", 1);
	assert_int_equal(kv_write(f->db, b, false), 0);
	expect(f->db, 0, "x", "3");
	expect(f->db, 1, "y", "2");
	/* A batch belongs to its database. */
	snprintf(path, sizeof(path), "%s/other", f->dir);
	assert_int_equal(kv_test_open(path, cfs, 3, &other), 0);
	assert_int_equal(kv_write(other, b, false), -EINVAL);
	kv_close(other);
	kv_batch_free(b);
}

/* Collects the keys an iterator yields, joined by ','. */
static void collect(struct kv_iter *it, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t kl, vl;
		const char *k = kv_iter_key(it, &kl);

		(void)kv_iter_value(it, &vl);
		for (size_t i = 0; i < kl && o + 3 < cap; i++)
			out[o++] = (k[i] >= 0x20 && k[i] < 0x7f) ? k[i] : '#';
		out[o++] = ',';
		out[o] = '\0';
	}
	assert_int_equal(kv_iter_status(it), 0);
}

static void test_iter_prefix(void **state)
{
	static const char *keys[] = {"aa", "ab", "ab\x01", "abz", "ab\xff", "ac", "b"};
	struct fx *f = *state;
	struct kv_batch *b = kv_batch_new(f->db);
	struct kv_iter *it;
	char got[256];

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		kv_batch_put(b, 2, keys[i], strlen(keys[i]), "v", 1);
	kv_batch_put(b, 2, "\xff\xff", 2, "v", 1);
	kv_batch_put(b, 2, "\xff\xff\x01", 3, "v", 1);
	kv_batch_put(b, 2, "\xff\xfe", 2, "v", 1);
	assert_int_equal(kv_write(f->db, b, false), 0);
	kv_batch_free(b);

	it = kv_iter_new(f->db, 2, "ab", 2);
	assert_non_null(it);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "ab,ab#,abz,ab#,");
	/* Seek inside, before and after the prefix. */
	kv_iter_seek(it, "ab\x02", 3);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "abz,ab#,");
	kv_iter_seek(it, "a", 1);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "ab,ab#,abz,ab#,");
	kv_iter_seek(it, "ac", 2);
	assert_false(kv_iter_valid(it));
	kv_iter_free(it);

	/* A prefix of 0xff bytes has no upper bound key: still exact. */
	it = kv_iter_new(f->db, 2, "\xff\xff", 2);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "##,###,");
	kv_iter_free(it);

	/* No prefix: everything, in byte order. */
	it = kv_iter_new(f->db, 2, NULL, 0);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "aa,ab,ab#,abz,ab#,ac,b,##,##,###,");
	kv_iter_free(it);

	assert_null(kv_iter_new(f->db, 9, "a", 1));
}

static void test_iter_snapshot(void **state)
{
	struct fx *f = *state;
	struct kv_iter *it;
	char got[128];

	put1(f->db, 0, "p1", "v");
	it = kv_iter_new(f->db, 0, "p", 1);
	put1(f->db, 0, "p2", "v"); /* after creation: not seen */
	collect(it, got, sizeof(got));
	assert_string_equal(got, "p1,");
	kv_iter_free(it);
	it = kv_iter_new(f->db, 0, "p", 1);
	collect(it, got, sizeof(got));
	assert_string_equal(got, "p1,p2,");
	kv_iter_free(it);
}

static void test_reopen(void **state)
{
	static const struct kv_cf_desc more[] = {
	    {"alpha", false}, {"beta", true}, {"gamma", false}, {"delta", false}};
	struct fx *f = *state;

	/* A new column family, created on open. */
	kv_close(f->db);
	assert_int_equal(kv_test_open(f->dir, more, 4, &f->db), 0);
	put1(f->db, 3, "d", "delta-value");
	put1(f->db, 0, "a", "synced");
	assert_int_equal(kv_sync_wal(f->db), 0);
	put1(f->db, 1, "b", "not-synced-but-closed-cleanly");
	kv_close(f->db);

	/* Opening without "delta" still works; its data is kept. */
	assert_int_equal(kv_test_open(f->dir, cfs, 3, &f->db), 0);
	expect(f->db, 0, "a", "synced");
	expect(f->db, 1, "b", "not-synced-but-closed-cleanly");
	kv_close(f->db);
	assert_int_equal(kv_test_open(f->dir, more, 4, &f->db), 0);
	expect(f->db, 3, "d", "delta-value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_put_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iter_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iter_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
