/*
 * wire.h - little-endian byte access and bounds-checked cursors, the only
 * way message bodies are read and written.
 *
 * An encoder (struct wire_enc) writes into a caller-owned buffer; once a write
 * would overflow, it sets a sticky error and writes nothing more, so a codec
 * can emit all fields and check once at the end.  A decoder (struct wire_dec)
 * works the same way over received bytes: every read past the end, every
 * length that does not fit, sets a sticky error and yields zeros.  No read
 * ever touches memory outside [buf, buf + len).
 *
 * Both cursors carry the protocol version settled by the connection
 * handshake (proto/README.md): init sets PROTO_VERSION, the RPC layer lowers
 * it with wire_*_set_version() for an older peer, and a message codec writes
 * or reads a field added in version N only when the cursor's version is >= N.
 */
#ifndef CAIRN_PROTO_WIRE_H
#define CAIRN_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/proto.h"

static inline void wire_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wire_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wire_put_le64(uint8_t *p, uint64_t v)
{
	wire_put_le32(p, (uint32_t)v);
	wire_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t wire_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t wire_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t wire_get_le64(const uint8_t *p)
{
	return (uint64_t)wire_get_le32(p) | ((uint64_t)wire_get_le32(p + 4) << 32);
}

/* Big-endian, for keys that must sort (RocksDB). */
static inline void wire_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t wire_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

struct wire_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
	uint16_t version; /* settled protocol version */
};

struct wire_dec {
	const uint8_t *buf;
	size_t len;
	size_t off;
	int err;	  /* 0 or -CAIRN_EBADFRAME, sticky */
	uint16_t version; /* settled protocol version */
};

static inline void wire_enc_init(struct wire_enc *e, void *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->overflow = false;
	e->version = PROTO_VERSION;
}

/* For a connection that settled on an older version (see above). */
static inline void wire_enc_set_version(struct wire_enc *e, uint16_t version)
{
	e->version = version;
}

/* Reserves n bytes; returns where to write them, or NULL after overflow. */
static inline uint8_t *wire_enc_reserve(struct wire_enc *e, size_t n)
{
	uint8_t *p;

	if (e->overflow || n > e->cap - e->len) {
		e->overflow = true;
		return NULL;
	}
	p = e->buf + e->len;
	e->len += n;
	return p;
}

void wire_enc_u8(struct wire_enc *e, uint8_t v);
void wire_enc_u16(struct wire_enc *e, uint16_t v);
void wire_enc_u32(struct wire_enc *e, uint32_t v);
void wire_enc_u64(struct wire_enc *e, uint64_t v);
void wire_enc_bytes(struct wire_enc *e, const void *p, size_t n);
/* u32 length, then the bytes. */
void wire_enc_blob(struct wire_enc *e, const void *p, uint32_t n);
/* u16 length, then the bytes, no terminator. */
void wire_enc_str(struct wire_enc *e, const char *s, uint16_t n);

/* Returns the encoded length, or -ENOSPC if the buffer was too small. */
int wire_enc_finish(const struct wire_enc *e, size_t *len);

static inline void wire_dec_init(struct wire_dec *d, const void *buf, size_t len)
{
	d->buf = buf;
	d->len = len;
	d->off = 0;
	d->err = 0;
	d->version = PROTO_VERSION;
}

static inline void wire_dec_set_version(struct wire_dec *d, uint16_t version)
{
	d->version = version;
}

/* Bytes not yet consumed. */
static inline size_t wire_dec_remaining(const struct wire_dec *d)
{
	return d->len - d->off;
}

uint8_t wire_dec_u8(struct wire_dec *d);
uint16_t wire_dec_u16(struct wire_dec *d);
uint32_t wire_dec_u32(struct wire_dec *d);
uint64_t wire_dec_u64(struct wire_dec *d);
/* Copies n bytes into out (zero-filled on error). */
void wire_dec_bytes(struct wire_dec *d, void *out, size_t n);
/*
 * Length-prefixed forms: return a pointer into the buffer (not terminated)
 * and its length; fail if the length exceeds max or the remaining bytes.
 */
const uint8_t *wire_dec_blob(struct wire_dec *d, uint32_t max, uint32_t *n);
const char *wire_dec_str(struct wire_dec *d, uint16_t max, uint16_t *n);
/* Marks the input invalid (for out-of-range values found by a codec). */
void wire_dec_fail(struct wire_dec *d);

/*
 * Ends decoding: returns 0 only if no error occurred and every byte was
 * consumed (trailing bytes are an inconsistency), else -CAIRN_EBADFRAME.
 */
int wire_dec_finish(const struct wire_dec *d);

#endif
