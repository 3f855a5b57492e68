/* test_wire.c - byte helpers and the bounds-checked cursors of proto/wire.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/wire.h"

static void test_put_get(void **state)
{
	uint8_t b[8];

	(void)state;
	wire_put_le16(b, 0x1234);
	assert_int_equal(b[0], 0x34);
	assert_int_equal(b[1], 0x12);
	assert_int_equal(wire_get_le16(b), 0x1234);

	wire_put_le32(b, 0x89abcdefu);
	assert_int_equal(b[0], 0xef);
	assert_int_equal(b[3], 0x89);
	assert_int_equal(wire_get_le32(b), 0x89abcdefu);

	wire_put_le64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x08);
	assert_int_equal(b[7], 0x01);
	assert_int_equal(wire_get_le64(b), 0x0102030405060708ull);

	wire_put_be64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[7], 0x08);
	assert_int_equal(wire_get_be64(b), 0x0102030405060708ull);

	/* High bits survive (no sign extension). */
	wire_put_le64(b, UINT64_MAX - 1);
	assert_int_equal(wire_get_le64(b), UINT64_MAX - 1);
	wire_put_le32(b, 0xffffff80u);
	assert_int_equal(wire_get_le32(b), 0xffffff80u);
	wire_put_le16(b, 0xff80);
	assert_int_equal(wire_get_le16(b), 0xff80);
}

/* Big-endian keys sort like the numbers. */
static void test_be64_sorts(void **state)
{
	uint8_t a[8], b[8];

	(void)state;
	wire_put_be64(a, 0x00000000000000ffull);
	wire_put_be64(b, 0x0000000000000100ull);
	assert_true(memcmp(a, b, 8) < 0);
}

static void test_enc_dec_all(void **state)
{
	static const char text[] = "hello";
	static const uint8_t raw[3] = {9, 8, 7};
	uint8_t buf[64], out[3];
	struct wire_enc e;
	struct wire_dec d;
	const uint8_t *blob;
	const char *str;
	uint32_t blen;
	uint16_t slen;
	size_t len = 0;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	assert_int_equal(e.version, PROTO_VERSION);
	wire_enc_u8(&e, 0xa5);
	wire_enc_u16(&e, 0xbeef);
	wire_enc_u32(&e, 0xdeadbeefu);
	wire_enc_u64(&e, 0x1122334455667788ull);
	wire_enc_bytes(&e, raw, sizeof(raw));
	wire_enc_blob(&e, raw, 2);
	wire_enc_str(&e, text, 5);
	wire_enc_str(&e, NULL, 0);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	assert_int_equal(len, 1 + 2 + 4 + 8 + 3 + (4 + 2) + (2 + 5) + 2);
	/* Little-endian and unpadded. */
	assert_int_equal(buf[1], 0xef);
	assert_int_equal(buf[2], 0xbe);

	wire_dec_init(&d, buf, len);
	assert_int_equal(d.version, PROTO_VERSION);
	assert_int_equal(wire_dec_u8(&d), 0xa5);
	assert_int_equal(wire_dec_u16(&d), 0xbeef);
	assert_int_equal(wire_dec_u32(&d), 0xdeadbeefu);
	assert_int_equal(wire_dec_u64(&d), 0x1122334455667788ull);
	wire_dec_bytes(&d, out, sizeof(out));
	assert_memory_equal(out, raw, sizeof(raw));
	blob = wire_dec_blob(&d, 2, &blen);
	assert_int_equal(blen, 2);
	assert_ptr_equal(blob, buf + 22); /* zero copy */
	assert_memory_equal(blob, raw, 2);
	str = wire_dec_str(&d, 5, &slen);
	assert_int_equal(slen, 5);
	assert_memory_equal(str, text, 5);
	str = wire_dec_str(&d, 5, &slen);
	assert_int_equal(slen, 0);
	assert_int_equal(wire_dec_remaining(&d), 0);
	assert_int_equal(wire_dec_finish(&d), 0);
}

static void test_enc_overflow_sticky(void **state)
{
	uint8_t buf[6];
	struct wire_enc e;
	size_t len = 123;

	(void)state;
	memset(buf, 0xcc, sizeof(buf));
	wire_enc_init(&e, buf, 5);
	wire_enc_u32(&e, 0x01020304);
	wire_enc_u16(&e, 0xffff); /* does not fit: nothing written */
	assert_true(e.overflow);
	assert_int_equal(buf[4], 0xcc);
	wire_enc_u8(&e, 0x55); /* would fit, but the error is sticky */
	assert_int_equal(buf[4], 0xcc);
	assert_null(wire_enc_reserve(&e, 0));
	assert_int_equal(wire_enc_finish(&e, &len), -ENOSPC);
	assert_int_equal(len, 123);

	/* Exactly full is fine. */
	wire_enc_init(&e, buf, 4);
	wire_enc_u32(&e, 1);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	assert_int_equal(len, 4);

	/* Each put overflows a too-small buffer. */
	wire_enc_init(&e, buf, 0);
	wire_enc_u8(&e, 1);
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 1);
	wire_enc_u16(&e, 1);
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 3);
	wire_enc_u32(&e, 1);
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 6);
	wire_enc_u64(&e, 1);
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 6);
	wire_enc_blob(&e, buf, 3); /* 4 + 3 */
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 6);
	wire_enc_str(&e, "abcde", 5); /* 2 + 5 */
	assert_true(e.overflow);
	wire_enc_init(&e, buf, 2);
	wire_enc_bytes(&e, "abc", 3);
	assert_true(e.overflow);
}

static void test_dec_overrun_sticky(void **state)
{
	static const uint8_t buf[5] = {1, 2, 3, 4, 5};
	uint8_t out[4] = {7, 7, 7, 7};
	struct wire_dec d;

	(void)state;
	wire_dec_init(&d, buf, 3);
	assert_int_equal(wire_dec_u16(&d), 0x0201);
	assert_int_equal(wire_dec_u16(&d), 0); /* one byte left */
	assert_int_equal(d.err, -CAIRN_EBADFRAME);
	assert_int_equal(wire_dec_u8(&d), 0); /* would fit, but sticky */
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	wire_dec_init(&d, buf, 3);
	assert_int_equal(wire_dec_u32(&d), 0);
	assert_int_equal(d.err, -CAIRN_EBADFRAME);
	wire_dec_init(&d, buf, 5);
	assert_int_equal(wire_dec_u64(&d), 0);
	assert_int_equal(d.err, -CAIRN_EBADFRAME);
	wire_dec_init(&d, buf, 0);
	assert_int_equal(wire_dec_u8(&d), 0);
	assert_int_equal(d.err, -CAIRN_EBADFRAME);

	wire_dec_init(&d, buf, 3);
	wire_dec_bytes(&d, out, 4);
	assert_int_equal(d.err, -CAIRN_EBADFRAME);
	assert_int_equal(out[0], 0); /* zero-filled */
	assert_int_equal(out[3], 0);

	wire_dec_init(&d, buf, 5);
	wire_dec_fail(&d);
	assert_int_equal(wire_dec_u8(&d), 0);
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);
}

static void test_blob_bounds(void **state)
{
	uint8_t buf[16];
	struct wire_enc e;
	struct wire_dec d;
	uint32_t n = 99;
	size_t len;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	wire_enc_blob(&e, "abcdef", 6);
	assert_int_equal(wire_enc_finish(&e, &len), 0);

	/* Over the caller's maximum. */
	wire_dec_init(&d, buf, len);
	assert_null(wire_dec_blob(&d, 5, &n));
	assert_int_equal(n, 0);
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	/* At the maximum. */
	wire_dec_init(&d, buf, len);
	assert_non_null(wire_dec_blob(&d, 6, &n));
	assert_int_equal(n, 6);
	assert_int_equal(wire_dec_finish(&d), 0);

	/* Length beyond the input. */
	wire_dec_init(&d, buf, len - 1);
	assert_null(wire_dec_blob(&d, 100, &n));
	assert_int_equal(n, 0);
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	/* A huge length must not wrap any bound check. */
	wire_put_le32(buf, UINT32_MAX);
	wire_dec_init(&d, buf, len);
	assert_null(wire_dec_blob(&d, UINT32_MAX, &n));
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	/* Truncated length prefix. */
	wire_dec_init(&d, buf, 3);
	assert_null(wire_dec_blob(&d, 100, &n));
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);
}

static void test_str_bounds(void **state)
{
	uint8_t buf[16];
	struct wire_enc e;
	struct wire_dec d;
	uint16_t n = 99;
	size_t len;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	wire_enc_str(&e, "name", 4);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	assert_int_equal(len, 6);

	wire_dec_init(&d, buf, len);
	assert_null(wire_dec_str(&d, 3, &n));
	assert_int_equal(n, 0);
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	wire_dec_init(&d, buf, len);
	assert_non_null(wire_dec_str(&d, 4, &n));
	assert_int_equal(n, 4);
	assert_int_equal(wire_dec_finish(&d), 0);

	wire_dec_init(&d, buf, len - 1);
	assert_null(wire_dec_str(&d, 100, &n));
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	wire_put_le16(buf, UINT16_MAX);
	wire_dec_init(&d, buf, len);
	assert_null(wire_dec_str(&d, UINT16_MAX, &n));
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);

	wire_dec_init(&d, buf, 1);
	assert_null(wire_dec_str(&d, 100, &n));
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);
}

static void test_trailing_bytes(void **state)
{
	static const uint8_t buf[5] = {1, 0, 0, 0, 9};
	struct wire_dec d;

	(void)state;
	wire_dec_init(&d, buf, sizeof(buf));
	assert_int_equal(wire_dec_u32(&d), 1);
	assert_int_equal(wire_dec_remaining(&d), 1);
	assert_int_equal(wire_dec_finish(&d), -CAIRN_EBADFRAME);
	assert_int_equal(wire_dec_u8(&d), 9);
	assert_int_equal(wire_dec_finish(&d), 0);

	/* An empty body is complete at once. */
	wire_dec_init(&d, NULL, 0);
	assert_int_equal(wire_dec_finish(&d), 0);
}

static void test_version(void **state)
{
	uint8_t buf[4];
	struct wire_enc e;
	struct wire_dec d;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	wire_dec_init(&d, buf, sizeof(buf));
	assert_int_equal(e.version, PROTO_VERSION);
	assert_int_equal(d.version, PROTO_VERSION);
	wire_enc_set_version(&e, PROTO_VERSION_MIN);
	wire_dec_set_version(&d, PROTO_VERSION_MIN);
	assert_int_equal(e.version, PROTO_VERSION_MIN);
	assert_int_equal(d.version, PROTO_VERSION_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get),
	    cmocka_unit_test(test_be64_sorts),
	    cmocka_unit_test(test_enc_dec_all),
	    cmocka_unit_test(test_enc_overflow_sticky),
	    cmocka_unit_test(test_dec_overrun_sticky),
	    cmocka_unit_test(test_blob_bounds),
	    cmocka_unit_test(test_str_bounds),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
