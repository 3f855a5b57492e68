/*
 * conn.c - handshake body codecs (see conn.h).  Stateless.
 */
#include "proto/conn.h"

#include "common/error.h"
#include "proto/proto.h"
#include "proto/wire.h"

_Static_assert(PROTO_HELLO_SIZE == 42, "HELLO body layout");
_Static_assert(PROTO_AUTH_SIZE == 74, "AUTH body layout");
_Static_assert(PROTO_AUTH_OK_SIZE == 32, "AUTH_OK body layout");

/* Shared checks of the values both HELLO and AUTH carry. */
static void check_limits(struct wire_dec *d, uint16_t version, uint32_t max_frame,
			 uint32_t max_inflight)
{
	if (version == 0 || max_frame < PROTO_FRAME_MIN || max_frame > PROTO_FRAME_MAX ||
	    max_inflight == 0)
		wire_dec_fail(d);
}

int proto_hello_encode(const struct proto_hello *m, void *buf, size_t cap, size_t *len)
{
	struct wire_enc e;

	wire_enc_init(&e, buf, cap);
	wire_enc_u16(&e, m->version);
	wire_enc_bytes(&e, m->nonce, PROTO_NONCE_SIZE);
	wire_enc_u32(&e, m->max_frame);
	wire_enc_u32(&e, m->max_inflight);
	return wire_enc_finish(&e, len);
}

int proto_hello_decode(const void *buf, size_t len, struct proto_hello *m)
{
	struct wire_dec d;

	wire_dec_init(&d, buf, len);
	m->version = wire_dec_u16(&d);
	wire_dec_bytes(&d, m->nonce, PROTO_NONCE_SIZE);
	m->max_frame = wire_dec_u32(&d);
	m->max_inflight = wire_dec_u32(&d);
	check_limits(&d, m->version, m->max_frame, m->max_inflight);
	return wire_dec_finish(&d);
}

int proto_auth_encode(const struct proto_auth *m, void *buf, size_t cap, size_t *len)
{
	struct wire_enc e;

	wire_enc_init(&e, buf, cap);
	wire_enc_u16(&e, m->version);
	wire_enc_bytes(&e, m->nonce, PROTO_NONCE_SIZE);
	wire_enc_bytes(&e, m->proof, PROTO_PROOF_SIZE);
	wire_enc_u32(&e, m->max_frame);
	wire_enc_u32(&e, m->max_inflight);
	return wire_enc_finish(&e, len);
}

int proto_auth_decode(const void *buf, size_t len, struct proto_auth *m)
{
	struct wire_dec d;

	wire_dec_init(&d, buf, len);
	m->version = wire_dec_u16(&d);
	wire_dec_bytes(&d, m->nonce, PROTO_NONCE_SIZE);
	wire_dec_bytes(&d, m->proof, PROTO_PROOF_SIZE);
	m->max_frame = wire_dec_u32(&d);
	m->max_inflight = wire_dec_u32(&d);
	check_limits(&d, m->version, m->max_frame, m->max_inflight);
	return wire_dec_finish(&d);
}

int proto_auth_ok_encode(const struct proto_auth_ok *m, void *buf, size_t cap, size_t *len)
{
	struct wire_enc e;

	wire_enc_init(&e, buf, cap);
	wire_enc_bytes(&e, m->proof, PROTO_PROOF_SIZE);
	return wire_enc_finish(&e, len);
}

int proto_auth_ok_decode(const void *buf, size_t len, struct proto_auth_ok *m)
{
	struct wire_dec d;

	wire_dec_init(&d, buf, len);
	wire_dec_bytes(&d, m->proof, PROTO_PROOF_SIZE);
	return wire_dec_finish(&d);
}
