/*
 * frame.c - frame header codec (see frame.h and the layout in proto.h).
 */
#include "proto/frame.h"

#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

#include "common/csum.h"
#include "common/error.h"
#include "proto/wire.h"

_Static_assert(PROTO_HDR_SIZE == 40, "frame header layout is fixed at 40 bytes");
_Static_assert(PROTO_FRAME_MAX <= UINT32_MAX, "frame lengths are 32-bit on the wire");

#define HDR_CRC_OFF 36

static bool proto_hdr_version_ok(const struct proto_hdr *h)
{
	if (h->opcode >= PROTO_OP_HELLO && h->opcode <= PROTO_OP_AUTH_OK)
		return h->version == PROTO_HANDSHAKE_VERSION;
	return h->version >= PROTO_VERSION_MIN && h->version <= PROTO_VERSION;
}

void proto_hdr_encode(struct proto_hdr *h, const void *body, uint8_t out[PROTO_HDR_SIZE])
{
	uint32_t crc;

	wire_put_le32(out + 0, PROTO_MAGIC);
	wire_put_le16(out + 4, h->version);
	wire_put_le16(out + 6, h->opcode);
	wire_put_le32(out + 8, h->flags);
	wire_put_le32(out + 12, (uint32_t)h->status);
	wire_put_le64(out + 16, h->req_id);
	wire_put_le32(out + 24, h->body_len);
	wire_put_le32(out + 28, h->data_len);
	wire_put_le32(out + 32, h->data_crc);
	crc = csum_crc32c(0, out, HDR_CRC_OFF);
	if (h->body_len)
		crc = csum_crc32c(crc, body, h->body_len);
	h->hdr_crc = crc;
	wire_put_le32(out + HDR_CRC_OFF, crc);
}

int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], uint32_t max_frame,
		     struct proto_hdr *h)
{
	if (wire_get_le32(in) != PROTO_MAGIC)
		return -CAIRN_EBADFRAME;
	h->version = wire_get_le16(in + 4);
	h->opcode = wire_get_le16(in + 6);
	h->flags = wire_get_le32(in + 8);
	h->status = (int32_t)wire_get_le32(in + 12);
	h->req_id = wire_get_le64(in + 16);
	h->body_len = wire_get_le32(in + 24);
	h->data_len = wire_get_le32(in + 28);
	h->data_crc = wire_get_le32(in + 32);
	h->hdr_crc = wire_get_le32(in + HDR_CRC_OFF);

	if (!proto_hdr_version_ok(h))
		return -CAIRN_EPROTOVER;
	if (h->flags & ~(uint32_t)PROTO_F_KNOWN)
		return -CAIRN_EBADFRAME;
	if (!(h->flags & PROTO_F_RESPONSE) && h->status != 0)
		return -CAIRN_EBADFRAME;
	if ((h->flags & PROTO_F_RESPONSE) && (h->flags & PROTO_F_ONEWAY))
		return -CAIRN_EBADFRAME;
	if (!(h->flags & PROTO_F_DATA_CRC) && h->data_crc != 0)
		return -CAIRN_EBADFRAME;
	if (max_frame > PROTO_FRAME_MAX)
		max_frame = PROTO_FRAME_MAX;
	if (h->body_len > max_frame || h->data_len > max_frame - h->body_len)
		return -CAIRN_EBADFRAME;
	return 0;
}

int proto_frame_check(const uint8_t raw[PROTO_HDR_SIZE], const struct proto_hdr *h,
		      const void *body)
{
	uint32_t crc = csum_crc32c(0, raw, HDR_CRC_OFF);

	if (h->body_len)
		crc = csum_crc32c(crc, body, h->body_len);
	return crc == h->hdr_crc ? 0 : -CAIRN_ECHECKSUM;
}

uint32_t proto_data_crc(const struct iovec *iov, int iovcnt)
{
	uint32_t crc = 0;

	for (int i = 0; i < iovcnt; i++)
		crc = csum_crc32c(crc, iov[i].iov_base, iov[i].iov_len);
	return crc;
}
