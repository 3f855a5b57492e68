/*
 * frame.h - encoding and validation of the 40-byte frame header (proto.h).
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_FRAME_H
#define CAIRN_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proto/proto.h"

/*
 * Writes h into out, with magic, and hdr_crc computed over the header and
 * body[0..h->body_len).  h->hdr_crc is ignored and set to the computed value.
 * If h->flags has PROTO_F_DATA_CRC, h->data_crc must already be set.
 */
void proto_hdr_encode(struct proto_hdr *h, const void *body, uint8_t out[PROTO_HDR_SIZE]);

/*
 * Decodes and validates a header: magic, version in [PROTO_VERSION_MIN,
 * PROTO_VERSION], known flags, status only on responses, a zero data_crc when
 * PROTO_F_DATA_CRC is clear, body_len + data_len <= max_frame.  Does not
 * check hdr_crc (the body has not arrived yet): see proto_frame_check().
 * Returns 0, -CAIRN_EPROTOVER for a version outside the range, or
 * -CAIRN_EBADFRAME for anything else.
 */
int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], uint32_t max_frame,
		     struct proto_hdr *h);

/*
 * Checks hdr_crc against the raw header bytes and the body.  Returns 0 or
 * -CAIRN_ECHECKSUM.
 */
int proto_frame_check(const uint8_t raw[PROTO_HDR_SIZE], const struct proto_hdr *h,
		      const void *body);

/* CRC32C of bulk data given as pieces, for PROTO_F_DATA_CRC. */
uint32_t proto_data_crc(const struct iovec *iov, int iovcnt);

#endif
