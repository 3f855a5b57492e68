/*
 * wire.c - cursor operations of wire.h.  Stateless apart from the cursors,
 * which belong to their caller.
 */
#include "proto/wire.h"

#include <errno.h>

#include "common/error.h"

void wire_enc_u8(struct wire_enc *e, uint8_t v)
{
	uint8_t *p = wire_enc_reserve(e, 1);

	if (p)
		*p = v;
}

void wire_enc_u16(struct wire_enc *e, uint16_t v)
{
	uint8_t *p = wire_enc_reserve(e, 2);

	if (p)
		wire_put_le16(p, v);
}

void wire_enc_u32(struct wire_enc *e, uint32_t v)
{
	uint8_t *p = wire_enc_reserve(e, 4);

	if (p)
		wire_put_le32(p, v);
}

void wire_enc_u64(struct wire_enc *e, uint64_t v)
{
	uint8_t *p = wire_enc_reserve(e, 8);

	if (p)
		wire_put_le64(p, v);
}

void wire_enc_bytes(struct wire_enc *e, const void *src, size_t n)
{
	uint8_t *p = wire_enc_reserve(e, n);

	if (p && n)
		memcpy(p, src, n);
}

void wire_enc_blob(struct wire_enc *e, const void *src, uint32_t n)
{
	wire_enc_u32(e, n);
	wire_enc_bytes(e, src, n);
}

void wire_enc_str(struct wire_enc *e, const char *s, uint16_t n)
{
	wire_enc_u16(e, n);
	wire_enc_bytes(e, s, n);
}

int wire_enc_finish(const struct wire_enc *e, size_t *len)
{
	if (e->overflow)
		return -ENOSPC;
	*len = e->len;
	return 0;
}

void wire_dec_fail(struct wire_dec *d)
{
	d->err = -CAIRN_EBADFRAME;
}

/* Returns a pointer to the next n bytes and advances, or NULL on error. */
static const uint8_t *dec_take(struct wire_dec *d, size_t n)
{
	const uint8_t *p;

	if (d->err || n > d->len - d->off) {
		d->err = -CAIRN_EBADFRAME;
		return NULL;
	}
	p = d->buf + d->off;
	d->off += n;
	return p;
}

uint8_t wire_dec_u8(struct wire_dec *d)
{
	const uint8_t *p = dec_take(d, 1);

	return p ? *p : 0;
}

uint16_t wire_dec_u16(struct wire_dec *d)
{
	const uint8_t *p = dec_take(d, 2);

	return p ? wire_get_le16(p) : 0;
}

uint32_t wire_dec_u32(struct wire_dec *d)
{
	const uint8_t *p = dec_take(d, 4);

	return p ? wire_get_le32(p) : 0;
}

uint64_t wire_dec_u64(struct wire_dec *d)
{
	const uint8_t *p = dec_take(d, 8);

	return p ? wire_get_le64(p) : 0;
}

void wire_dec_bytes(struct wire_dec *d, void *out, size_t n)
{
	const uint8_t *p = dec_take(d, n);

	if (p)
		memcpy(out, p, n);
	else if (n)
		memset(out, 0, n);
}

const uint8_t *wire_dec_blob(struct wire_dec *d, uint32_t max, uint32_t *n)
{
	uint32_t len = wire_dec_u32(d);
	const uint8_t *p;

	if (len > max) {
		wire_dec_fail(d);
		*n = 0;
		return NULL;
	}
	p = dec_take(d, len);
	*n = p ? len : 0;
	return p;
}

const char *wire_dec_str(struct wire_dec *d, uint16_t max, uint16_t *n)
{
	uint16_t len = wire_dec_u16(d);
	const uint8_t *p;

	if (len > max) {
		wire_dec_fail(d);
		*n = 0;
		return NULL;
	}
	p = dec_take(d, len);
	*n = p ? len : 0;
	return (const char *)p;
}

int wire_dec_finish(const struct wire_dec *d)
{
	if (d->err)
		return d->err;
	if (d->off != d->len)
		return -CAIRN_EBADFRAME;
	return 0;
}
