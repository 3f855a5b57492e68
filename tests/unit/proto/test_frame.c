/* test_frame.c - frame header codec and validation (proto/frame.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <cmocka.h>

#include "common/csum.h"
#include "common/error.h"
#include "proto/frame.h"
#include "proto/wire.h"

#define MAX_FRAME (1u << 20)

static const uint8_t body[] = "a body of some bytes";

static struct proto_hdr good_hdr(void)
{
	return (struct proto_hdr){
	    .version = PROTO_VERSION,
	    .opcode = PROTO_OP_PING,
	    .flags = PROTO_F_DATA_CRC,
	    .status = 0,
	    .req_id = 0x0102030405060708ull,
	    .body_len = sizeof(body),
	    .data_len = 4096,
	    .data_crc = 0xcafef00d,
	};
}

/* Encodes h with body and returns what decoding gives. */
static int decode_of(struct proto_hdr h, uint32_t max_frame)
{
	uint8_t raw[PROTO_HDR_SIZE];
	struct proto_hdr out;

	proto_hdr_encode(&h, body, raw);
	return proto_hdr_decode(raw, max_frame, &out);
}

static void test_round_trip(void **state)
{
	struct proto_hdr h = good_hdr(), out;
	uint8_t raw[PROTO_HDR_SIZE];

	(void)state;
	proto_hdr_encode(&h, body, raw);
	assert_int_equal(wire_get_le32(raw), PROTO_MAGIC);
	assert_memory_equal(raw, "CARN", 4);
	assert_int_equal(wire_get_le16(raw + 6), PROTO_OP_PING);
	assert_int_equal(wire_get_le64(raw + 16), h.req_id);
	assert_int_equal(wire_get_le32(raw + 36), h.hdr_crc);
	assert_int_equal(proto_hdr_decode(raw, MAX_FRAME, &out), 0);
	assert_int_equal(out.version, h.version);
	assert_int_equal(out.opcode, h.opcode);
	assert_int_equal(out.flags, h.flags);
	assert_int_equal(out.status, 0);
	assert_int_equal(out.req_id, h.req_id);
	assert_int_equal(out.body_len, h.body_len);
	assert_int_equal(out.data_len, h.data_len);
	assert_int_equal(out.data_crc, h.data_crc);
	assert_int_equal(out.hdr_crc, h.hdr_crc);
	assert_int_equal(proto_frame_check(raw, &out, body), 0);

	/* A response with a negative status and no body. */
	h = good_hdr();
	h.flags = PROTO_F_RESPONSE;
	h.status = -CAIRN_ESTALEMAP;
	h.body_len = 0;
	h.data_len = 0;
	h.data_crc = 0;
	proto_hdr_encode(&h, NULL, raw);
	assert_int_equal(proto_hdr_decode(raw, MAX_FRAME, &out), 0);
	assert_int_equal(out.status, -CAIRN_ESTALEMAP);
	assert_int_equal(proto_frame_check(raw, &out, NULL), 0);
}

static void test_bad_magic(void **state)
{
	struct proto_hdr h = good_hdr(), out;
	uint8_t raw[PROTO_HDR_SIZE];

	(void)state;
	proto_hdr_encode(&h, body, raw);
	for (int i = 0; i < 4; i++) {
		raw[i] ^= 0x20;
		assert_int_equal(proto_hdr_decode(raw, MAX_FRAME, &out), -CAIRN_EBADFRAME);
		raw[i] ^= 0x20;
	}
}

static void test_version_range(void **state)
{
	struct proto_hdr h = good_hdr();

	(void)state;
	h.version = PROTO_VERSION + 1;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EPROTOVER);
	h.version = 0xffff;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EPROTOVER);
	h.version = PROTO_VERSION_MIN - 1;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EPROTOVER);
	h.version = PROTO_VERSION_MIN;
	assert_int_equal(decode_of(h, MAX_FRAME), 0);
}

/*
 * Handshake frames carry PROTO_HANDSHAKE_VERSION whatever the sender's own
 * version, so a peer always understands a newer peer's HELLO; any other
 * version on a handshake opcode is refused.
 */
static void test_handshake_version(void **state)
{
	struct proto_hdr h = good_hdr();

	(void)state;
	for (uint16_t op = PROTO_OP_HELLO; op <= PROTO_OP_AUTH_OK; op++) {
		h.opcode = op;
		h.version = PROTO_HANDSHAKE_VERSION;
		assert_int_equal(decode_of(h, MAX_FRAME), 0);
		h.version = PROTO_HANDSHAKE_VERSION + 1;
		assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EPROTOVER);
	}
}

static void test_flags(void **state)
{
	struct proto_hdr h = good_hdr();

	(void)state;
	for (int bit = 0; bit < 32; bit++) {
		h = good_hdr();
		h.flags |= 1u << bit;
		if (PROTO_F_KNOWN & (1u << bit))
			continue;
		assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EBADFRAME);
	}

	/* Status on a request. */
	h = good_hdr();
	h.status = -ENOENT;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EBADFRAME);

	/* Response and oneway together. */
	h = good_hdr();
	h.flags |= PROTO_F_RESPONSE | PROTO_F_ONEWAY;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EBADFRAME);
	h.flags &= ~(uint32_t)PROTO_F_RESPONSE;
	assert_int_equal(decode_of(h, MAX_FRAME), 0);

	/* data_crc without its flag. */
	h = good_hdr();
	h.flags &= ~(uint32_t)PROTO_F_DATA_CRC;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EBADFRAME);
	h.data_crc = 0;
	assert_int_equal(decode_of(h, MAX_FRAME), 0);
}

static void test_lengths(void **state)
{
	struct proto_hdr h = good_hdr();
	uint8_t raw[PROTO_HDR_SIZE];
	struct proto_hdr out;

	(void)state;
	/* body + data exactly at the limit, then one over. */
	h.data_len = MAX_FRAME - h.body_len;
	assert_int_equal(decode_of(h, MAX_FRAME), 0);
	h.data_len++;
	assert_int_equal(decode_of(h, MAX_FRAME), -CAIRN_EBADFRAME);

	/* A body alone over the limit (encoded by hand: no such body exists). */
	h = good_hdr();
	h.body_len = 0;
	proto_hdr_encode(&h, NULL, raw);
	wire_put_le32(raw + 24, MAX_FRAME + 1);
	assert_int_equal(proto_hdr_decode(raw, MAX_FRAME, &out), -CAIRN_EBADFRAME);

	/* Sums that would wrap 32 bits. */
	wire_put_le32(raw + 24, 16);
	wire_put_le32(raw + 28, UINT32_MAX - 8);
	assert_int_equal(proto_hdr_decode(raw, UINT32_MAX, &out), -CAIRN_EBADFRAME);

	/* The hard ceiling applies whatever the caller's limit. */
	wire_put_le32(raw + 24, 0);
	wire_put_le32(raw + 28, PROTO_FRAME_MAX + 1);
	assert_int_equal(proto_hdr_decode(raw, UINT32_MAX, &out), -CAIRN_EBADFRAME);
	wire_put_le32(raw + 28, PROTO_FRAME_MAX);
	assert_int_equal(proto_hdr_decode(raw, UINT32_MAX, &out), 0);
}

/* Room for any body_len a corrupted header can claim and still decode. */
static uint8_t rx_body[MAX_FRAME];

static void test_corruption(void **state)
{
	struct proto_hdr h = good_hdr(), out;
	uint8_t raw[PROTO_HDR_SIZE], bad_body[sizeof(body)];
	int checked = 0;

	(void)state;
	memcpy(rx_body, body, sizeof(body));
	proto_hdr_encode(&h, body, raw);

	/* Any bit flipped in the CRC-covered header bytes. */
	for (int i = 0; i < PROTO_HDR_SIZE; i++) {
		for (int bit = 0; bit < 8; bit++) {
			raw[i] ^= (uint8_t)(1u << bit);
			if (proto_hdr_decode(raw, MAX_FRAME, &out) == 0) {
				assert_int_equal(proto_frame_check(raw, &out, rx_body),
						 -CAIRN_ECHECKSUM);
				checked++;
			}
			raw[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* At least req_id, opcode, data_crc and hdr_crc flips got that far. */
	assert_true(checked >= 4 * 8 + 8 * 8);

	/* Any bit flipped in the body. */
	assert_int_equal(proto_hdr_decode(raw, MAX_FRAME, &out), 0);
	for (size_t i = 0; i < sizeof(body); i++) {
		memcpy(bad_body, body, sizeof(body));
		bad_body[i] ^= 0x01;
		assert_int_equal(proto_frame_check(raw, &out, bad_body), -CAIRN_ECHECKSUM);
	}

	/* A truncated body: the CRC covers fewer bytes than were sent. */
	out.body_len--;
	assert_int_equal(proto_frame_check(raw, &out, body), -CAIRN_ECHECKSUM);
}

static void test_data_crc(void **state)
{
	static const char a[] = "first piece", b[] = "second";
	struct iovec iov[2] = {
	    {.iov_base = (void *)a, .iov_len = sizeof(a)},
	    {.iov_base = (void *)b, .iov_len = sizeof(b)},
	};
	uint32_t whole;

	(void)state;
	whole = csum_crc32c(csum_crc32c(0, a, sizeof(a)), b, sizeof(b));
	assert_int_equal(proto_data_crc(iov, 2), whole);
	assert_int_equal(proto_data_crc(iov, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_bad_magic),
	    cmocka_unit_test(test_version_range),
	    cmocka_unit_test(test_handshake_version), cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_lengths),	  cmocka_unit_test(test_corruption),
	    cmocka_unit_test(test_data_crc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
