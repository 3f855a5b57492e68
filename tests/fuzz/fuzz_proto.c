/*
 * fuzz_proto.c - libFuzzer target for every decoder of proto/.
 *
 * Each input goes to the frame header decoder and frame check (the whole
 * input as header + body), and to one body decoder picked by its first byte
 * (the rest is the body).  Whatever decodes must re-encode to exactly the
 * same bytes (the encoding is canonical), and that encoding must decode
 * again; the encoder must also report -ENOSPC for a buffer one byte short.
 * Any violation calls abort() so libFuzzer reports it.
 *
 * The seeds in tests/fuzz/corpus/proto/ start with a selector byte, so the
 * order of the table below is part of the corpus: only append to it.
 *
 * Single-threaded (libFuzzer); the caller arrays are static.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/admin.h"
#include "proto/frame.h"
#include "proto/fsck.h"
#include "proto/map.h"
#include "proto/mds.h"
#include "proto/osd.h"
#include "proto/peer.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_codec {
	int (*dec)(struct wire_dec *d, void *m);
	int (*enc)(const void *m, struct wire_enc *e);
	void (*prepare)(void *m); /* gives a decode its caller arrays */
	void (*release)(void *m); /* frees what a decode allocated */
	size_t size;
};

#define FUZZ_CODEC(prefix, T)                                                                      \
	static int T##_dec(struct wire_dec *d, void *m)                                            \
	{                                                                                          \
		return prefix##T##_decode(d, m);                                                   \
	}                                                                                          \
	static int T##_enc(const void *m, struct wire_enc *e)                                      \
	{                                                                                          \
		return prefix##T##_encode(m, e);                                                   \
	}

/* The same with the prefix in the names, where two modules share a T. */
#define FUZZ_CODEC_P(prefix, T)                                                                    \
	static int prefix##T##_dec(struct wire_dec *d, void *m)                                    \
	{                                                                                          \
		return prefix##T##_decode(d, m);                                                   \
	}                                                                                          \
	static int prefix##T##_enc(const void *m, struct wire_enc *e)                              \
	{                                                                                          \
		return prefix##T##_encode(m, e);                                                   \
	}

#define ENTRY_P(prefix, T)                                                                         \
	{                                                                                          \
		prefix##T##_dec, prefix##T##_enc, NULL, NULL, sizeof(struct prefix##T)             \
	}
#define ENTRY_ARRAY_P(prefix, T)                                                                   \
	{                                                                                          \
		prefix##T##_dec, prefix##T##_enc, prefix##T##_prepare, NULL,                       \
		    sizeof(struct prefix##T)                                                       \
	}

#define ENTRY(prefix, T)                                                                           \
	{                                                                                          \
		T##_dec, T##_enc, NULL, NULL, sizeof(struct prefix##T)                             \
	}
#define ENTRY_ARRAY(prefix, T)                                                                     \
	{                                                                                          \
		T##_dec, T##_enc, T##_prepare, NULL, sizeof(struct prefix##T)                      \
	}

FUZZ_CODEC(proto_mds_, entry)
FUZZ_CODEC(proto_mds_, attr_rep)
FUZZ_CODEC(proto_mds_, open_rep)
FUZZ_CODEC(proto_mds_, lookup_req)
FUZZ_CODEC(proto_mds_, getattr_req)
FUZZ_CODEC(proto_mds_, setattr_req)
FUZZ_CODEC(proto_mds_, create_req)
FUZZ_CODEC(proto_mds_, mknod_req)
FUZZ_CODEC(proto_mds_, mkdir_req)
FUZZ_CODEC(proto_mds_, unlink_req)
FUZZ_CODEC(proto_mds_, rename_req)
FUZZ_CODEC(proto_mds_, link_req)
FUZZ_CODEC(proto_mds_, symlink_req)
FUZZ_CODEC(proto_mds_, ino_req)
FUZZ_CODEC(proto_mds_, readlink_rep)
FUZZ_CODEC(proto_mds_, readdir_req)
FUZZ_CODEC(proto_mds_, readdir_rep)
FUZZ_CODEC(proto_mds_, statfs_rep)
FUZZ_CODEC(proto_mds_, getxattr_req)
FUZZ_CODEC(proto_mds_, getxattr_rep)
FUZZ_CODEC(proto_mds_, setxattr_req)
FUZZ_CODEC(proto_mds_, listxattr_req)
FUZZ_CODEC(proto_mds_, listxattr_rep)
FUZZ_CODEC(proto_mds_, removexattr_req)
FUZZ_CODEC(proto_mds_, open_req)
FUZZ_CODEC(proto_mds_, publish_req)
FUZZ_CODEC(proto_mds_, lock_req)
FUZZ_CODEC(proto_mds_, lock_rep)
FUZZ_CODEC(proto_mds_, flock_req)
FUZZ_CODEC(proto_mds_, lock_cancel_req)
FUZZ_CODEC(proto_mds_, lock_release_req)
FUZZ_CODEC(proto_mds_, lock_session_req)
FUZZ_CODEC(proto_mds_, lock_session_rep)
FUZZ_CODEC(proto_osd_, chunk_write_req)
FUZZ_CODEC(proto_osd_, write_rep)
FUZZ_CODEC(proto_osd_, chunk_read_req)
FUZZ_CODEC(proto_osd_, chunk_read_rep)
FUZZ_CODEC(proto_osd_, stripe_write_req)
FUZZ_CODEC(proto_osd_, chunk_delete_req)
FUZZ_CODEC(proto_osd_, chunk_truncate_req)
FUZZ_CODEC(proto_osd_, chunk_list_req)
FUZZ_CODEC(proto_osd_, chunk_list_rep)
FUZZ_CODEC(proto_osd_, chunk_trim_req)
FUZZ_CODEC(proto_osd_, scrub_req)
FUZZ_CODEC(proto_osd_, scrub_rep)
FUZZ_CODEC(proto_admin_, map_get_req)
FUZZ_CODEC(proto_admin_, map_get_rep)
FUZZ_CODEC(proto_admin_, epoch_rep)
FUZZ_CODEC(proto_admin_, osd_register_req)
FUZZ_CODEC(proto_admin_, osd_heartbeat_req)
FUZZ_CODEC(proto_admin_, pool_create_req)
FUZZ_CODEC(proto_admin_, pool_create_rep)
FUZZ_CODEC(proto_admin_, pool_list_rep)
FUZZ_CODEC(proto_admin_, status_rep)
FUZZ_CODEC(proto_admin_, osd_set_in_req)
FUZZ_CODEC(proto_admin_, osd_stats_rep)
FUZZ_CODEC_P(proto_peer_, create_req)
FUZZ_CODEC_P(proto_peer_, ino_req)
FUZZ_CODEC_P(proto_peer_, nlink_req)
FUZZ_CODEC_P(proto_peer_, link_req)
FUZZ_CODEC_P(proto_peer_, unlink_req)
FUZZ_CODEC_P(proto_peer_, pin_req)
FUZZ_CODEC_P(proto_peer_, unpin_req)
FUZZ_CODEC_P(proto_peer_, set_parent_req)
FUZZ_CODEC_P(proto_peer_, walk_req)
FUZZ_CODEC_P(proto_peer_, walk_rep)
FUZZ_CODEC_P(proto_peer_, op_req)
FUZZ_CODEC_P(proto_peer_, lock_req)
FUZZ_CODEC_P(proto_peer_, lookup_req)
FUZZ_CODEC_P(proto_peer_, lookup_rep)
FUZZ_CODEC_P(proto_peer_, attr_rep)
FUZZ_CODEC_P(proto_peer_, drop_rep)
FUZZ_CODEC_P(proto_fsck_, scan_req)
FUZZ_CODEC_P(proto_fsck_, scan_inodes_rep)
FUZZ_CODEC_P(proto_fsck_, scan_dentries_req)
FUZZ_CODEC_P(proto_fsck_, scan_dentries_rep)
FUZZ_CODEC_P(proto_fsck_, scan_intents_rep)
FUZZ_CODEC_P(proto_fsck_, dentry_req)
FUZZ_CODEC_P(proto_fsck_, nlink_req)
FUZZ_CODEC_P(proto_fsck_, parent_req)
FUZZ_CODEC_P(proto_fsck_, op_req)

static struct proto_mds_dirent dirents[PROTO_MDS_READDIR_MAX + 1];
static struct proto_osd_chunk_info chunks[PROTO_OSD_LIST_MAX + 1];
static struct proto_map_pool pools[PROTO_MAP_POOLS_MAX + 1];
static struct proto_admin_pool_usage usages[PROTO_MAP_POOLS_MAX + 1];
static struct proto_admin_pool_usage hb_pools[PROTO_ADMIN_HB_POOLS_MAX + 1];
static struct proto_admin_osd_stats osd_stats[PROTO_MAP_OSDS_MAX + 1];
static struct proto_fsck_inode fsck_inodes[PROTO_FSCK_SCAN_MAX + 1];
static struct proto_fsck_dentry fsck_dentries[PROTO_FSCK_SCAN_MAX + 1];
static struct proto_fsck_intent fsck_intents[PROTO_FSCK_SCAN_MAX + 1];

/* Room for one more than allowed, so the limit itself is what rejects. */
static void readdir_rep_prepare(void *p)
{
	struct proto_mds_readdir_rep *m = p;

	m->entries = dirents;
	m->cap = PROTO_MDS_READDIR_MAX + 1;
}

static void chunk_list_rep_prepare(void *p)
{
	struct proto_osd_chunk_list_rep *m = p;

	m->entries = chunks;
	m->cap = PROTO_OSD_LIST_MAX + 1;
}

static void pool_list_rep_prepare(void *p)
{
	struct proto_admin_pool_list_rep *m = p;

	m->pools = pools;
	m->usage = usages;
	m->cap = PROTO_MAP_POOLS_MAX + 1;
}

static void osd_heartbeat_req_prepare(void *p)
{
	struct proto_admin_osd_heartbeat_req *m = p;

	m->pools = hb_pools;
	m->cap = PROTO_ADMIN_HB_POOLS_MAX + 1;
}

static void osd_stats_rep_prepare(void *p)
{
	struct proto_admin_osd_stats_rep *m = p;

	m->osds = osd_stats;
	m->cap = PROTO_MAP_OSDS_MAX + 1;
}

static void proto_fsck_scan_inodes_rep_prepare(void *p)
{
	struct proto_fsck_scan_inodes_rep *m = p;

	m->items = fsck_inodes;
	m->cap = PROTO_FSCK_SCAN_MAX + 1;
}

static void proto_fsck_scan_dentries_rep_prepare(void *p)
{
	struct proto_fsck_scan_dentries_rep *m = p;

	m->items = fsck_dentries;
	m->cap = PROTO_FSCK_SCAN_MAX + 1;
}

static void proto_fsck_scan_intents_rep_prepare(void *p)
{
	struct proto_fsck_scan_intents_rep *m = p;

	m->items = fsck_intents;
	m->cap = PROTO_FSCK_SCAN_MAX + 1;
}

static int map_dec(struct wire_dec *d, void *m)
{
	return proto_map_decode(d, m);
}

static int map_enc(const void *m, struct wire_enc *e)
{
	return proto_map_encode(m, e);
}

static void map_release(void *m)
{
	proto_map_free(m);
}

/* Append only: the corpus's selector bytes index this table. */
static const struct fuzz_codec codecs[] = {
    ENTRY(proto_mds_, entry),
    ENTRY(proto_mds_, attr_rep),
    ENTRY(proto_mds_, open_rep),
    ENTRY(proto_mds_, lookup_req),
    ENTRY(proto_mds_, getattr_req),
    ENTRY(proto_mds_, setattr_req),
    ENTRY(proto_mds_, create_req),
    ENTRY(proto_mds_, mknod_req),
    ENTRY(proto_mds_, mkdir_req),
    ENTRY(proto_mds_, unlink_req),
    ENTRY(proto_mds_, rename_req),
    ENTRY(proto_mds_, link_req),
    ENTRY(proto_mds_, symlink_req),
    ENTRY(proto_mds_, ino_req),
    ENTRY(proto_mds_, readlink_rep),
    ENTRY(proto_mds_, readdir_req),
    ENTRY_ARRAY(proto_mds_, readdir_rep),
    ENTRY(proto_mds_, statfs_rep),
    ENTRY(proto_mds_, getxattr_req),
    ENTRY(proto_mds_, getxattr_rep),
    ENTRY(proto_mds_, setxattr_req),
    ENTRY(proto_mds_, listxattr_req),
    ENTRY(proto_mds_, listxattr_rep),
    ENTRY(proto_mds_, removexattr_req),
    ENTRY(proto_mds_, open_req),
    ENTRY(proto_mds_, publish_req),
    ENTRY(proto_osd_, chunk_write_req),
    ENTRY(proto_osd_, write_rep),
    ENTRY(proto_osd_, chunk_read_req),
    ENTRY(proto_osd_, chunk_read_rep),
    ENTRY(proto_osd_, stripe_write_req),
    ENTRY(proto_osd_, chunk_delete_req),
    ENTRY(proto_osd_, chunk_truncate_req),
    ENTRY(proto_osd_, chunk_list_req),
    ENTRY_ARRAY(proto_osd_, chunk_list_rep),
    ENTRY(proto_admin_, map_get_req),
    ENTRY(proto_admin_, map_get_rep),
    ENTRY(proto_admin_, epoch_rep),
    ENTRY(proto_admin_, osd_register_req),
    ENTRY_ARRAY(proto_admin_, osd_heartbeat_req),
    ENTRY(proto_admin_, pool_create_req),
    ENTRY(proto_admin_, pool_create_rep),
    ENTRY_ARRAY(proto_admin_, pool_list_rep),
    ENTRY(proto_admin_, status_rep),
    ENTRY(proto_admin_, osd_set_in_req),
    {map_dec, map_enc, NULL, map_release, sizeof(struct proto_map)},
    ENTRY_P(proto_peer_, create_req),
    ENTRY_P(proto_peer_, ino_req),
    ENTRY_P(proto_peer_, nlink_req),
    ENTRY_P(proto_peer_, link_req),
    ENTRY_P(proto_peer_, unlink_req),
    ENTRY_P(proto_peer_, pin_req),
    ENTRY_P(proto_peer_, unpin_req),
    ENTRY_P(proto_peer_, set_parent_req),
    ENTRY_P(proto_peer_, walk_req),
    ENTRY_P(proto_peer_, walk_rep),
    ENTRY_P(proto_peer_, op_req),
    ENTRY_P(proto_peer_, lock_req),
    ENTRY_P(proto_peer_, lookup_req),
    ENTRY_P(proto_peer_, lookup_rep),
    ENTRY_P(proto_peer_, attr_rep),
    ENTRY_P(proto_peer_, drop_rep),
    ENTRY_P(proto_fsck_, scan_req),
    ENTRY_ARRAY_P(proto_fsck_, scan_inodes_rep),
    ENTRY_P(proto_fsck_, scan_dentries_req),
    ENTRY_ARRAY_P(proto_fsck_, scan_dentries_rep),
    ENTRY_ARRAY_P(proto_fsck_, scan_intents_rep),
    ENTRY_P(proto_fsck_, dentry_req),
    ENTRY_P(proto_fsck_, nlink_req),
    ENTRY_P(proto_fsck_, parent_req),
    ENTRY_P(proto_fsck_, op_req),
    ENTRY(proto_osd_, chunk_trim_req),
    ENTRY(proto_osd_, scrub_req),
    ENTRY(proto_osd_, scrub_rep),
    ENTRY_ARRAY(proto_admin_, osd_stats_rep),
    ENTRY(proto_mds_, lock_req),
    ENTRY(proto_mds_, lock_rep),
    ENTRY(proto_mds_, flock_req),
    ENTRY(proto_mds_, lock_cancel_req),
    ENTRY(proto_mds_, lock_release_req),
    ENTRY(proto_mds_, lock_session_req),
    ENTRY(proto_mds_, lock_session_rep),
};
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

/* Decodes buf[0..len) into m (prepared); returns the decoder's result. */
static int decode(const struct fuzz_codec *c, void *m, const uint8_t *buf, size_t len)
{
	struct wire_dec d;

	memset(m, 0, c->size);
	if (c->prepare)
		c->prepare(m);
	wire_dec_init(&d, buf, len);
	return c->dec(&d, m);
}

/* Encodes m into out[0..cap); returns the length, or aborts on -ENOSPC. */
static size_t encode(const struct fuzz_codec *c, const void *m, uint8_t *out, size_t cap)
{
	struct wire_enc e;
	size_t len;

	wire_enc_init(&e, out, cap);
	if (c->enc(m, &e) != 0 || wire_enc_finish(&e, &len) != 0)
		abort();
	return len;
}

static void fuzz_body(const struct fuzz_codec *c, const uint8_t *body, size_t len)
{
	/* Two messages; room for the largest struct (checked below). */
	static _Alignas(max_align_t) uint8_t m1[8192];
	static _Alignas(max_align_t) uint8_t m2[sizeof(m1)];
	uint8_t *out = malloc(len + 1), *out2 = malloc(len + 1);
	struct wire_enc e;

	if (!out || !out2 || c->size > sizeof(m1))
		abort();
	if (decode(c, m1, body, len) != 0)
		goto out_free;
	/* Canonical: the decoded values encode to the very same bytes. */
	if (encode(c, m1, out, len + 1) != len || (len && memcmp(out, body, len) != 0))
		abort();
	if (len > 0) {
		wire_enc_init(&e, out2, len - 1);
		if (c->enc(m1, &e) != -ENOSPC)
			abort();
	}
	if (c->release)
		c->release(m1);
	/* And that encoding decodes to the same values again. */
	if (decode(c, m2, out, len) != 0)
		abort();
	if (encode(c, m2, out2, len + 1) != len || (len && memcmp(out2, body, len) != 0))
		abort();
	if (c->release)
		c->release(m2);
out_free:
	free(out2);
	free(out);
}

static void fuzz_frame(const uint8_t *data, size_t size)
{
	uint8_t raw[PROTO_HDR_SIZE];
	struct proto_hdr h, h2;
	const uint8_t *body = data + PROTO_HDR_SIZE;
	bool crc_ok;

	if (size < PROTO_HDR_SIZE)
		return;
	(void)proto_hdr_decode(data, (uint32_t)(size - PROTO_HDR_SIZE), &h);
	if (proto_hdr_decode(data, UINT32_MAX, &h) != 0)
		return;
	if (h.body_len > size - PROTO_HDR_SIZE)
		return;
	crc_ok = proto_frame_check(data, &h, body) == 0;
	/* Re-encoding gives the same header, with the CRC of what arrived. */
	h2 = h;
	proto_hdr_encode(&h2, body, raw);
	if (memcmp(raw, data, PROTO_HDR_SIZE - 4) != 0)
		abort();
	if (crc_ok != (memcmp(raw, data, PROTO_HDR_SIZE) == 0))
		abort();
	if (proto_hdr_decode(raw, UINT32_MAX, &h2) != 0 || proto_frame_check(raw, &h2, body) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frame(data, size);
	if (size >= 1)
		fuzz_body(&codecs[data[0] % NCODECS], data + 1, size - 1);
	return 0;
}
