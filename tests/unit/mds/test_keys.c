/*
 * test_keys.c - the shard's key schema: encoders and decoders round-trip,
 * reject malformed keys, and sort so that a directory's entries, its
 * readdir index and an inode's xattrs are contiguous and in order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mds/keys.h"

/* memcmp order of two byte strings, shorter first on a common prefix. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static void test_u64(void **state)
{
	uint8_t k[KEYS_U64_LEN], k2[KEYS_U64_LEN];
	uint64_t v;

	(void)state;
	assert_int_equal(keys_u64(k, 0x0102030405060708ull), 8);
	assert_memory_equal(k, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(keys_u64_decode(k, 8, &v), 0);
	assert_true(v == 0x0102030405060708ull);
	assert_int_equal(keys_u64_decode(k, 7, &v), -EINVAL);
	assert_int_equal(keys_u64_decode(k, 9, &v), -EINVAL);
	/* Numeric order is byte order. */
	keys_u64(k, 255);
	keys_u64(k2, 256);
	assert_true(memcmp(k, k2, 8) < 0);
	keys_u64(k, 1ull << 48);
	keys_u64(k2, (1ull << 48) - 1);
	assert_true(memcmp(k, k2, 8) > 0);
}

static void test_named(void **state)
{
	uint8_t k[KEYS_NAMED_MAX];
	char name[KEYS_NAME_MAX + 10];
	const char *n;
	size_t klen, nlen;
	uint64_t id;

	(void)state;
	klen = keys_named(k, 42, "hello", 5);
	assert_int_equal(klen, 13);
	assert_int_equal(keys_named_decode(k, klen, &id, &n, &nlen), 0);
	assert_true(id == 42);
	assert_int_equal(nlen, 5);
	assert_memory_equal(n, "hello", 5);
	/* Empty name is the bare prefix. */
	assert_int_equal(keys_named(k, 7, "", 0), 8);
	assert_int_equal(keys_named_decode(k, 8, &id, &n, &nlen), 0);
	assert_int_equal(nlen, 0);
	/* Too long names are cut, never overflow; decoders reject them. */
	memset(name, 'x', sizeof(name));
	assert_int_equal(keys_named(k, 1, name, sizeof(name)), KEYS_NAMED_MAX);
	assert_int_equal(keys_named_decode(k, 7, &id, &n, &nlen), -EINVAL);
	assert_int_equal(keys_named_decode(k, KEYS_NAMED_MAX + 1, &id, &n, &nlen), -EINVAL);
}

static void test_named_order(void **state)
{
	uint8_t a[KEYS_NAMED_MAX], b[KEYS_NAMED_MAX], c[KEYS_NAMED_MAX];
	size_t al, bl, cl;

	(void)state;
	/* Every entry of directory 5 sorts between directory 4's and 6's. */
	al = keys_named(a, 4, "\xff\xff\xff", 3);
	bl = keys_named(b, 5, "", 0);
	cl = keys_named(c, 5, "zzz", 3);
	assert_true(key_cmp(a, al, b, bl) < 0);
	assert_true(key_cmp(b, bl, c, cl) < 0);
	al = keys_named(a, 6, "", 0);
	assert_true(key_cmp(c, cl, a, al) < 0);
	/* Within a directory, names sort bytewise, a prefix first. */
	al = keys_named(a, 5, "ab", 2);
	bl = keys_named(b, 5, "abc", 3);
	cl = keys_named(c, 5, "b", 1);
	assert_true(key_cmp(a, al, b, bl) < 0);
	assert_true(key_cmp(b, bl, c, cl) < 0);
}

static void test_dirseq(void **state)
{
	uint8_t a[KEYS_DIRSEQ_LEN], b[KEYS_DIRSEQ_LEN];
	uint64_t p, s;

	(void)state;
	assert_int_equal(keys_dirseq(a, 9, 300), 16);
	assert_int_equal(keys_dirseq_decode(a, 16, &p, &s), 0);
	assert_true(p == 9 && s == 300);
	assert_int_equal(keys_dirseq_decode(a, 15, &p, &s), -EINVAL);
	/* Sequence order within a directory, directories apart. */
	keys_dirseq(a, 9, 255);
	keys_dirseq(b, 9, 256);
	assert_true(memcmp(a, b, 16) < 0);
	keys_dirseq(a, 9, UINT64_MAX);
	keys_dirseq(b, 10, 0);
	assert_true(memcmp(a, b, 16) < 0);
}

static void test_done(void **state)
{
	uint8_t a[KEYS_DONE_LEN], b[KEYS_DONE_LEN];
	uint64_t op, disc;
	uint8_t step;

	(void)state;
	assert_int_equal(keys_done(a, 77, 3, 99), KEYS_DONE_LEN);
	assert_int_equal(keys_done_decode(a, KEYS_DONE_LEN, &op, &step, &disc), 0);
	assert_true(op == 77 && step == 3 && disc == 99);
	assert_int_equal(keys_done_decode(a, 9, &op, &step, &disc), -EINVAL);
	/* All steps of one op share its 8-byte prefix. */
	keys_done(b, 77, 200, UINT64_MAX);
	assert_memory_equal(a, b, 8);
	keys_done(b, 78, 0, 0);
	assert_true(memcmp(a, b, KEYS_DONE_LEN) < 0);
}

static void test_meta_stripe(void **state)
{
	uint8_t k[KEYS_META_STRIPE_LEN];
	uint16_t s;

	(void)state;
	assert_int_equal(keys_meta_stripe(k, 1023), 3);
	assert_int_equal(keys_meta_stripe_decode(k, 3, &s), 0);
	assert_int_equal(s, 1023);
	assert_int_equal(keys_meta_stripe_decode(k, 2, &s), -EINVAL);
	assert_int_equal(keys_meta_stripe_decode("boot", 4, &s), -EINVAL);
	assert_int_equal(keys_meta_stripe_decode("Xab", 3, &s), -EINVAL);
}

static void test_cf_table(void **state)
{
	(void)state;
	for (int i = 0; i < KEYS_CF_COUNT; i++) {
		assert_non_null(keys_cfs[i].name);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(keys_cfs[i].name, keys_cfs[j].name);
	}
	assert_true(keys_cfs[KEYS_CF_DENTRY].bloom);
	assert_string_equal(keys_cfs[KEYS_CF_INTENT].name, "intent");
	assert_true(KEYS_CF_COUNT <= KV_MAX_CFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64),		cmocka_unit_test(test_named),
	    cmocka_unit_test(test_named_order), cmocka_unit_test(test_dirseq),
	    cmocka_unit_test(test_done),	cmocka_unit_test(test_meta_stripe),
	    cmocka_unit_test(test_cf_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
