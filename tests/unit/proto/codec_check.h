/*
 * codec_check.h - checks shared by the message codec tests (test_mds.c,
 * test_osd.c, test_admin.c).  Include after <cmocka.h>.
 *
 * check_codec() runs the properties every codec must have on one message:
 * the encoder reports -ENOSPC for every buffer too small, the body decodes
 * back and re-encodes to the same bytes, every truncation and any trailing
 * byte is rejected with -CAIRN_EBADFRAME.  expect_reject() encodes a message
 * holding one bad value and checks the decoder refuses it.
 */
#ifndef CAIRN_TESTS_CODEC_CHECK_H
#define CAIRN_TESTS_CODEC_CHECK_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/types.h"
#include "proto/wire.h"

#define CHECK_BUF_MAX (256u << 10)

/* The body check_codec() decoded last: its strings point here. */
static uint8_t check_body[CHECK_BUF_MAX + 1];

/* A codec seen through untyped wrappers (see CODEC()). */
struct codec {
	const char *name;
	int (*enc)(const void *m, struct wire_enc *e);
	int (*dec)(struct wire_dec *d, void *m);
	void (*release)(void *m); /* frees what a successful decode allocated */
	size_t size;		  /* sizeof the message struct */
};

/* Defines codec_T for the functions PREFIX##T##_encode / _decode. */
#define CODEC(prefix, T)                                                                           \
	static int T##_enc_w(const void *m, struct wire_enc *e)                                    \
	{                                                                                          \
		return prefix##T##_encode(m, e);                                                   \
	}                                                                                          \
	static int T##_dec_w(struct wire_dec *d, void *m)                                          \
	{                                                                                          \
		return prefix##T##_decode(d, m);                                                   \
	}                                                                                          \
	static const struct codec codec_##T = {#T, T##_enc_w, T##_dec_w, NULL,                     \
					       sizeof(struct prefix##T)}

static inline size_t codec_encode(const struct codec *c, const void *m, uint8_t *buf, size_t cap)
{
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, buf, cap);
	assert_int_equal(c->enc(m, &e), 0);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	return len;
}

/* Decodes buf[0..len) into a fresh copy of tmpl; releases it on success. */
static inline int codec_try_decode(const struct codec *c, const void *tmpl, const uint8_t *buf,
				   size_t len)
{
	void *m = malloc(c->size);
	struct wire_dec d;
	int rc;

	assert_non_null(m);
	memcpy(m, tmpl, c->size);
	wire_dec_init(&d, buf, len);
	rc = c->dec(&d, m);
	if (rc == 0 && c->release)
		c->release(m);
	free(m);
	return rc;
}

static inline void check_enc_overflow(const struct codec *c, const void *msg, size_t len)
{
	uint8_t *small = malloc(len ? len : 1);
	struct wire_enc e;
	size_t got;

	assert_non_null(small);
	for (size_t cap = 0; cap < len; cap++) {
		/* Every capacity for small bodies, a sample for large ones. */
		if (len > 2048 && cap > 64 && cap != len / 2 && cap != len - 1)
			continue;
		wire_enc_init(&e, small, cap);
		assert_int_equal(c->enc(msg, &e), -ENOSPC);
		assert_int_equal(wire_enc_finish(&e, &got), -ENOSPC);
	}
	free(small);
}

/*
 * The codec properties on msg.  out receives the decoded message (its
 * strings point into check_body, valid until the next call); tmpl is what a
 * decode starts from (caller arrays and their cap), NULL for zeros.
 * Returns the encoded length.
 */
static inline size_t check_codec(const struct codec *c, const void *msg, const void *tmpl,
				 void *out)
{
	uint8_t *buf = check_body, *buf2 = malloc(CHECK_BUF_MAX);
	void *zero = calloc(1, c->size);
	struct wire_dec d;
	size_t len, len2;

	assert_non_null(buf2);
	assert_non_null(zero);
	if (!tmpl)
		tmpl = zero;
	len = codec_encode(c, msg, buf, CHECK_BUF_MAX);
	check_enc_overflow(c, msg, len);

	memcpy(out, tmpl, c->size);
	wire_dec_init(&d, buf, len);
	if (c->dec(&d, out) != 0)
		fail_msg("%s: decoding its own encoding failed", c->name);
	len2 = codec_encode(c, out, buf2, CHECK_BUF_MAX);
	assert_int_equal(len2, len);
	assert_memory_equal(buf, buf2, len);

	for (size_t t = 0; t < len; t++)
		if (codec_try_decode(c, tmpl, buf, t) != -CAIRN_EBADFRAME)
			fail_msg("%s: truncation to %zu of %zu bytes accepted", c->name, t, len);
	buf[len] = 0;
	assert_int_equal(codec_try_decode(c, tmpl, buf, len + 1), -CAIRN_EBADFRAME);
	buf[len] = 0xff;
	assert_int_equal(codec_try_decode(c, tmpl, buf, len + 1), -CAIRN_EBADFRAME);
	free(zero);
	free(buf2);
	return len;
}

/* Encodes msg (valid or not) and returns what decoding it gives. */
static inline int codec_decode_of(const struct codec *c, const void *msg, const void *tmpl)
{
	uint8_t *buf = malloc(CHECK_BUF_MAX);
	void *zero = calloc(1, c->size);
	size_t len;
	int rc;

	assert_non_null(buf);
	assert_non_null(zero);
	len = codec_encode(c, msg, buf, CHECK_BUF_MAX);
	rc = codec_try_decode(c, tmpl ? tmpl : zero, buf, len);
	free(zero);
	free(buf);
	return rc;
}

#define expect_accept(c, msg, tmpl) assert_int_equal(codec_decode_of(c, msg, tmpl), 0)
#define expect_reject(c, msg, tmpl)                                                                \
	assert_int_equal(codec_decode_of(c, msg, tmpl), -CAIRN_EBADFRAME)

/* ---- field comparisons ---- */

static inline struct proto_str str_of(const char *s)
{
	return (struct proto_str){.ptr = s, .len = (uint16_t)strlen(s)};
}

static inline void assert_str_eq(const struct proto_str *a, const struct proto_str *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->ptr, b->ptr, a->len);
}

static inline void assert_blob_eq(const struct proto_blob *a, const struct proto_blob *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->ptr, b->ptr, a->len);
}

static inline void assert_time_eq(const struct proto_time *a, const struct proto_time *b)
{
	assert_int_equal(a->sec, b->sec);
	assert_int_equal(a->nsec, b->nsec);
}

static inline void assert_cred_eq(const struct proto_cred *a, const struct proto_cred *b)
{
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->ngroups, b->ngroups);
	for (uint32_t i = 0; i < a->ngroups; i++)
		assert_int_equal(a->groups[i], b->groups[i]);
}

static inline void assert_attr_eq(const struct proto_attr *a, const struct proto_attr *b)
{
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->nlink, b->nlink);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->rdev, b->rdev);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->blocks, b->blocks);
	assert_time_eq(&a->atime, &b->atime);
	assert_time_eq(&a->mtime, &b->mtime);
	assert_time_eq(&a->ctime, &b->ctime);
	assert_int_equal(a->flags, b->flags);
}

static inline void assert_layout_eq(const struct proto_layout *a, const struct proto_layout *b)
{
	assert_int_equal(a->pool_id, b->pool_id);
	assert_int_equal(a->scheme, b->scheme);
	assert_int_equal(a->k, b->k);
	assert_int_equal(a->m, b->m);
	assert_int_equal(a->chunk_size, b->chunk_size);
}

#endif
