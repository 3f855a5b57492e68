/*
 * proto.h - the Cairn wire protocol: frame header, opcodes, flags.
 *
 * Changelog
 *   version 1: first protocol.
 *
 * A frame is a 40-byte header, a body of body_len bytes (the message,
 * encoded by the codecs in proto/), then data_len bytes of bulk data (file
 * or chunk contents), kept apart from the body so it can be sent from and
 * received into the caller's buffers without a copy.  All integers are
 * little-endian.
 *
 *   off size field
 *     0    4 magic      PROTO_MAGIC
 *     4    2 version    PROTO_VERSION of the sender
 *     6    2 opcode     enum proto_op
 *     8    4 flags      enum proto_flag; unknown bits are an error
 *    12    4 status     responses: 0 or -errno / -CAIRN_E*; requests: 0
 *    16    8 req_id     chosen by the requester, echoed in the response
 *    24    4 body_len   <= the receiver's max frame size
 *    28    4 data_len   body_len + data_len <= the receiver's max frame size
 *    32    4 data_crc   CRC32C of the bulk data if PROTO_F_DATA_CRC, else 0
 *    36    4 hdr_crc    CRC32C of bytes 0..35 followed by the body
 *
 * Versioning: see proto/README.md.  In short, the connection handshake
 * settles on the lower of the two peers' versions; a sender only uses
 * opcodes and body fields that exist in the settled version; a receiver
 * answers an opcode it does not know with status -EOPNOTSUPP and keeps the
 * connection; a frame with a bad magic, version, flag, length or CRC closes
 * the connection.
 */
#ifndef CAIRN_PROTO_PROTO_H
#define CAIRN_PROTO_PROTO_H

#include <stdint.h>

#define PROTO_MAGIC 0x4e524143u /* "CARN" on the wire */
#define PROTO_VERSION 1
#define PROTO_VERSION_MIN 1
#define PROTO_HDR_SIZE 40

/* Hard ceiling whatever cairn.conf says: lengths are 32-bit on the wire. */
#define PROTO_FRAME_MAX (1u << 30)

enum proto_flag {
	PROTO_F_RESPONSE = 1u << 0, /* a response to req_id */
	PROTO_F_DATA_CRC = 1u << 1, /* data_crc is valid and must be checked */
	PROTO_F_ONEWAY = 1u << 2,   /* request that expects no response */
};
#define PROTO_F_KNOWN (PROTO_F_RESPONSE | PROTO_F_DATA_CRC | PROTO_F_ONEWAY)

/*
 * Opcodes, grouped by service.  Numbers are never reused; a retired opcode
 * stays reserved.
 */
enum proto_op {
	/* Connection: 0x00xx */
	PROTO_OP_HELLO = 0x0001, /* server -> client: challenge, limits */
	PROTO_OP_AUTH = 0x0002,	 /* client -> server: proof and counter-challenge */
	PROTO_OP_AUTH_OK = 0x0003, /* server -> client: server's proof */
	PROTO_OP_PING = 0x0004,
	PROTO_OP_ECHO = 0x0005, /* body and data sent back unchanged */

	/* Metadata service: 0x01xx */
	PROTO_OP_MDS_FIRST = 0x0100,
	PROTO_OP_MDS_LAST = 0x01ff,

	/* Object storage daemon: 0x02xx */
	PROTO_OP_OSD_FIRST = 0x0200,
	PROTO_OP_OSD_LAST = 0x02ff,

	/* Cluster map and administration: 0x03xx */
	PROTO_OP_ADMIN_FIRST = 0x0300,
	PROTO_OP_ADMIN_LAST = 0x03ff,
};

struct proto_hdr {
	uint16_t version;
	uint16_t opcode;
	uint32_t flags;
	int32_t status;
	uint64_t req_id;
	uint32_t body_len;
	uint32_t data_len;
	uint32_t data_crc;
	uint32_t hdr_crc;
};

#endif
