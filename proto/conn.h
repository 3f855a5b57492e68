/*
 * conn.h - bodies of the connection handshake frames (PROTO_OP_HELLO,
 * PROTO_OP_AUTH, PROTO_OP_AUTH_OK), encoded with the wire.h cursors.
 *
 * The handshake, on every connection before any request:
 *   server -> client  HELLO    highest version, server nonce, server limits
 *   client -> server  AUTH     chosen version, client nonce, client proof,
 *                              client limits
 *   server -> client  AUTH_OK  server proof (status 0), or an empty body with
 *                              status -CAIRN_EAUTH / -CAIRN_EPROTOVER, after
 *                              which the server closes the connection
 * Proofs are HMAC-SHA256 over the two nonces with the cluster key (see
 * common/auth.h), so each side proves it knows the key without sending it.
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_CONN_H
#define CAIRN_PROTO_CONN_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_NONCE_SIZE 32
#define PROTO_PROOF_SIZE 32

/* Smallest max_frame a peer may announce: room for any handshake body. */
#define PROTO_FRAME_MIN 4096u

/* Encoded sizes: the bodies have no optional or variable fields. */
#define PROTO_HELLO_SIZE (2 + PROTO_NONCE_SIZE + 4 + 4)
#define PROTO_AUTH_SIZE (2 + PROTO_NONCE_SIZE + PROTO_PROOF_SIZE + 4 + 4)
#define PROTO_AUTH_OK_SIZE PROTO_PROOF_SIZE

struct proto_hello {
	uint16_t version; /* highest protocol version the server speaks */
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint32_t max_frame;    /* largest body + data the server accepts */
	uint32_t max_inflight; /* unanswered requests allowed per connection */
};

struct proto_auth {
	uint16_t version; /* min(server's, client's highest) */
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint8_t proof[PROTO_PROOF_SIZE];
	uint32_t max_frame;    /* largest response body + data the client accepts */
	uint32_t max_inflight; /* reserved for server-initiated requests */
};

struct proto_auth_ok {
	uint8_t proof[PROTO_PROOF_SIZE];
};

/*
 * Encoders write the body into buf[0..cap) and set *len.  Return 0, or
 * -ENOSPC if cap is too small.
 */
int proto_hello_encode(const struct proto_hello *m, void *buf, size_t cap, size_t *len);
int proto_auth_encode(const struct proto_auth *m, void *buf, size_t cap, size_t *len);
int proto_auth_ok_encode(const struct proto_auth_ok *m, void *buf, size_t cap, size_t *len);

/*
 * Decoders fill *m from buf[0..len).  Return 0, or -CAIRN_EBADFRAME if the
 * body is truncated, has trailing bytes, or holds an inconsistent value:
 * version 0, max_frame outside [PROTO_FRAME_MIN, PROTO_FRAME_MAX], or
 * max_inflight 0.  Version ranges are the caller's business (EPROTOVER).
 */
int proto_hello_decode(const void *buf, size_t len, struct proto_hello *m);
int proto_auth_decode(const void *buf, size_t len, struct proto_auth *m);
int proto_auth_ok_decode(const void *buf, size_t len, struct proto_auth_ok *m);

#endif
