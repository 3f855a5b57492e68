/*
 * test_conn.c - handshake body codecs: round trips, exact sizes, and every
 * class of malformed input (truncated at every length, trailing bytes,
 * inconsistent values) rejected with -CAIRN_EBADFRAME.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/conn.h"
#include "proto/proto.h"
#include "proto/wire.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static struct proto_hello sample_hello(void)
{
	struct proto_hello m = {.version = 1, .max_frame = 64u << 20, .max_inflight = 1024};

	fill(m.nonce, sizeof(m.nonce), 3);
	return m;
}

static struct proto_auth sample_auth(void)
{
	struct proto_auth m = {.version = 1, .max_frame = PROTO_FRAME_MIN, .max_inflight = 1};

	fill(m.nonce, sizeof(m.nonce), 5);
	fill(m.proof, sizeof(m.proof), 9);
	return m;
}

static void test_hello_round_trip(void **state)
{
	struct proto_hello m = sample_hello(), d;
	uint8_t buf[128];
	size_t len;

	(void)state;
	assert_int_equal(proto_hello_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PROTO_HELLO_SIZE);
	/* Little-endian layout: version, nonce, max_frame, max_inflight. */
	assert_int_equal(wire_get_le16(buf), 1);
	assert_memory_equal(buf + 2, m.nonce, PROTO_NONCE_SIZE);
	assert_int_equal(wire_get_le32(buf + 34), 64u << 20);
	assert_int_equal(wire_get_le32(buf + 38), 1024);
	memset(&d, 0, sizeof(d));
	assert_int_equal(proto_hello_decode(buf, len, &d), 0);
	assert_int_equal(d.version, m.version);
	assert_memory_equal(d.nonce, m.nonce, PROTO_NONCE_SIZE);
	assert_int_equal(d.max_frame, m.max_frame);
	assert_int_equal(d.max_inflight, m.max_inflight);
}

static void test_auth_round_trip(void **state)
{
	struct proto_auth m = sample_auth(), d;
	uint8_t buf[128];
	size_t len;

	(void)state;
	assert_int_equal(proto_auth_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PROTO_AUTH_SIZE);
	assert_memory_equal(buf + 2 + PROTO_NONCE_SIZE, m.proof, PROTO_PROOF_SIZE);
	memset(&d, 0, sizeof(d));
	assert_int_equal(proto_auth_decode(buf, len, &d), 0);
	assert_int_equal(d.version, 1);
	assert_memory_equal(d.nonce, m.nonce, PROTO_NONCE_SIZE);
	assert_memory_equal(d.proof, m.proof, PROTO_PROOF_SIZE);
	assert_int_equal(d.max_frame, PROTO_FRAME_MIN);
	assert_int_equal(d.max_inflight, 1);
}

static void test_auth_ok_round_trip(void **state)
{
	struct proto_auth_ok m, d;
	uint8_t buf[64];
	size_t len;

	(void)state;
	fill(m.proof, sizeof(m.proof), 11);
	assert_int_equal(proto_auth_ok_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PROTO_AUTH_OK_SIZE);
	assert_int_equal(proto_auth_ok_decode(buf, len, &d), 0);
	assert_memory_equal(d.proof, m.proof, PROTO_PROOF_SIZE);
}

static void test_encode_no_room(void **state)
{
	struct proto_hello h = sample_hello();
	struct proto_auth a = sample_auth();
	struct proto_auth_ok ok = {{0}};
	uint8_t buf[128];
	size_t len;

	(void)state;
	assert_int_equal(proto_hello_encode(&h, buf, PROTO_HELLO_SIZE - 1, &len), -ENOSPC);
	assert_int_equal(proto_auth_encode(&a, buf, PROTO_AUTH_SIZE - 1, &len), -ENOSPC);
	assert_int_equal(proto_auth_ok_encode(&ok, buf, 0, &len), -ENOSPC);
}

/* Every truncation and one trailing byte must fail, for each message. */
static void test_truncated_and_trailing(void **state)
{
	uint8_t buf[128];
	struct proto_hello h = sample_hello(), hd;
	struct proto_auth a = sample_auth(), ad;
	struct proto_auth_ok ok = {{1}}, okd;
	size_t len;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	proto_hello_encode(&h, buf, sizeof(buf), &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(proto_hello_decode(buf, n, &hd), -CAIRN_EBADFRAME);
	assert_int_equal(proto_hello_decode(buf, len + 1, &hd), -CAIRN_EBADFRAME);

	proto_auth_encode(&a, buf, sizeof(buf), &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(proto_auth_decode(buf, n, &ad), -CAIRN_EBADFRAME);
	assert_int_equal(proto_auth_decode(buf, len + 1, &ad), -CAIRN_EBADFRAME);

	proto_auth_ok_encode(&ok, buf, sizeof(buf), &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(proto_auth_ok_decode(buf, n, &okd), -CAIRN_EBADFRAME);
	assert_int_equal(proto_auth_ok_decode(buf, len + 1, &okd), -CAIRN_EBADFRAME);
}

/* Encodes h with one field changed and checks the decoder's verdict. */
static int hello_with(uint16_t version, uint32_t max_frame, uint32_t max_inflight)
{
	struct proto_hello h = sample_hello(), d;
	uint8_t buf[64];
	size_t len;

	h.version = version;
	h.max_frame = max_frame;
	h.max_inflight = max_inflight;
	proto_hello_encode(&h, buf, sizeof(buf), &len);
	return proto_hello_decode(buf, len, &d);
}

static int auth_with(uint16_t version, uint32_t max_frame, uint32_t max_inflight)
{
	struct proto_auth a = sample_auth(), d;
	uint8_t buf[128];
	size_t len;

	a.version = version;
	a.max_frame = max_frame;
	a.max_inflight = max_inflight;
	proto_auth_encode(&a, buf, sizeof(buf), &len);
	return proto_auth_decode(buf, len, &d);
}

static void test_inconsistent_values(void **state)
{
	(void)state;
	assert_int_equal(hello_with(1, PROTO_FRAME_MIN, 1), 0);
	assert_int_equal(hello_with(1, PROTO_FRAME_MAX, UINT32_MAX), 0);
	assert_int_equal(hello_with(0, 1u << 20, 16), -CAIRN_EBADFRAME);
	assert_int_equal(hello_with(1, PROTO_FRAME_MIN - 1, 16), -CAIRN_EBADFRAME);
	assert_int_equal(hello_with(1, PROTO_FRAME_MAX + 1, 16), -CAIRN_EBADFRAME);
	assert_int_equal(hello_with(1, 1u << 20, 0), -CAIRN_EBADFRAME);
	/* A future version is not malformed: negotiation handles it. */
	assert_int_equal(hello_with(7, 1u << 20, 16), 0);

	assert_int_equal(auth_with(0, 1u << 20, 16), -CAIRN_EBADFRAME);
	assert_int_equal(auth_with(1, 0, 16), -CAIRN_EBADFRAME);
	assert_int_equal(auth_with(1, UINT32_MAX, 16), -CAIRN_EBADFRAME);
	assert_int_equal(auth_with(1, 1u << 20, 0), -CAIRN_EBADFRAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_auth_round_trip),
		cmocka_unit_test(test_auth_ok_round_trip),
		cmocka_unit_test(test_encode_no_room),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_inconsistent_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
