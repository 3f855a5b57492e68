/*
 * osd.h - message bodies of the object storage daemons (opcodes 0x02xx).
 *
 * Codec conventions as in mds.h: encode returns 0 or -ENOSPC and does not
 * validate; decode reads a whole body and returns 0 or -CAIRN_EBADFRAME for
 * truncation, trailing bytes or any value out of range.  File contents never
 * travel in the body: they are the frame's bulk data, whose length the RPC
 * layer checks against the length field named below.
 *
 * A chunk is named by (pool, ino, stripe, index): index < k + m of the pool,
 * data chunks first.  Every request carries the sender's cluster map epoch.
 * An OSD that does not hold the chunk's position in the PG's acting set
 * (or, for STRIPE_WRITE, is not the PG's primary) answers -CAIRN_ESTALEMAP
 * when its map is newer than the sender's, else -CAIRN_ENOTPRIMARY.  The
 * primary of a PG is the first OSD of its acting set that is up in the
 * map (position 0 unless that OSD is down); see proto/map_place.h.
 *
 * Versions: every stripe write gives all chunks of the stripe one new
 * version number, chosen by the primary.  A reader resolves chunks whose
 * versions disagree to the newest version held by at least k chunks; older
 * versions stay readable (CHUNK_READ with a version) until the primary
 * trims them with CHUNK_TRIM once the new one is durable on every member;
 * a write that fails on some member is rolled back on the others
 * (CHUNK_TRIM with TRIM_ROLLBACK), so it leaves the stripe as it was unless
 * the primary dies first (then the version is readable if k chunks hold it).
 * A chunk's logical length is its own (data past it reads as zeros); the
 * parity chunks are as long as the longest data chunk.
 *
 * Opcode -> request body -> response body:
 *   CHUNK_WRITE    chunk_write_req (data: length bytes)  write_rep
 *   CHUNK_READ     chunk_read_req                        chunk_read_rep (data)
 *   STRIPE_WRITE   stripe_write_req (data: length bytes) write_rep
 *   CHUNK_DELETE   chunk_delete_req                      (empty)
 *   CHUNK_TRUNCATE chunk_truncate_req                    write_rep
 *   CHUNK_LIST     chunk_list_req                        chunk_list_rep
 *   CHUNK_TRIM     chunk_trim_req                        (empty)
 *   SCRUB          scrub_req                             scrub_rep
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_OSD_H
#define CAIRN_PROTO_OSD_H

#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

#define PROTO_OSD_LIST_MAX 1024 /* chunks per CHUNK_LIST reply */

enum proto_osd_write_flag {
	PROTO_OSD_W_SYNC = 1u << 0,    /* durable (fdatasync) before the reply */
	PROTO_OSD_W_REPLACE = 1u << 1, /* the new version is exactly the bytes sent
					* (zeros before offset), not based on an
					* older version; creates a missing chunk */
};
#define PROTO_OSD_W_KNOWN (PROTO_OSD_W_SYNC | PROTO_OSD_W_REPLACE)

enum proto_osd_scrub_flag {
	PROTO_OSD_SCRUB_REPAIR = 1u << 0, /* rewrite bad chunks from their stripe */
};

enum proto_osd_list_flag {
	PROTO_OSD_LIST_END = 1u << 0, /* no chunks after these in the PG */
};

/* Checks: ino != 0, index < PROTO_CHUNKS_MAX. */
struct proto_osd_chunk_id {
	uint64_t ino;
	uint64_t stripe;
	uint8_t index;
};
#define PROTO_OSD_CHUNK_ID_SIZE (8 + 8 + 1)

/*
 * CHUNK_WRITE: write length bytes at offset of a chunk, as version: the
 * newest version with that range replaced (its length grows to offset +
 * length if shorter), or with W_REPLACE exactly the bytes sent.  Sent by a
 * PG primary to the other members, by repair, or by a client on the
 * single-writer path.  base_version, when not 0, is a precondition: the
 * write applies only if the chunk's newest version is base_version (else
 * -ESTALE).  Checks: length >= 1; offset + length <= PROTO_CHUNK_SIZE_MAX;
 * flags known; base_version 0 with W_REPLACE, else below version.
 */
struct proto_osd_chunk_write_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	struct proto_osd_chunk_id id;
	uint64_t version;
	uint32_t offset;
	uint32_t length;
	uint32_t flags; /* enum proto_osd_write_flag */
	uint64_t base_version;
};

/* Reply to the writes: the chunk's or stripe's version now stored. */
struct proto_osd_write_rep {
	uint64_t version;
};

/*
 * CHUNK_READ length bytes at offset of version (0: the newest).  Checks:
 * length >= 1; offset + length <= PROTO_CHUNK_SIZE_MAX.
 */
struct proto_osd_chunk_read_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	struct proto_osd_chunk_id id;
	uint32_t offset;
	uint32_t length;
	uint64_t version;
};

/*
 * Reply to CHUNK_READ: the chunk's version and the bytes returned as bulk
 * data (fewer than asked at the chunk's end).
 * Checks: length <= PROTO_CHUNK_SIZE_MAX.
 */
struct proto_osd_chunk_read_rep {
	uint64_t version;
	uint32_t length;
};

/*
 * STRIPE_WRITE to the PG's primary: write length bytes at offset within
 * the stripe; the primary assigns the version, encodes parity and forwards
 * CHUNK_WRITEs.  It answers (write_rep: the stripe's new version) once
 * every up member of the acting set holds the new version durably, and at
 * least k members are up.  Errors: -EINVAL (past k * chunk_size), -ENOENT
 * (no such pool), -EIO (fewer than k members up, or the stripe cannot be
 * read back for a partial write), -ENOSPC (a member's disk is full),
 * -EAGAIN (a member did not answer; retry), -CAIRN_ESTALEMAP /
 * -CAIRN_ENOTPRIMARY (refetch the map and retry), -ESHUTDOWN.  A failed
 * write is undone on the members that had it.  Checks: ino != 0; length
 * >= 1; offset + length <= PROTO_STRIPE_SIZE_MAX; flags known.
 */
struct proto_osd_stripe_write_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	uint64_t ino;
	uint64_t stripe;
	uint32_t offset;
	uint32_t length;
	uint32_t flags; /* enum proto_osd_write_flag */
};

/* CHUNK_DELETE: remove a chunk (file removed or truncated). */
struct proto_osd_chunk_delete_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	struct proto_osd_chunk_id id;
};

/*
 * CHUNK_TRUNCATE a chunk to size bytes, as version: the newest version cut
 * short or extended with zeros (-ENOENT when the chunk does not exist), or
 * with W_REPLACE size zero bytes (creating the chunk if missing).
 * base_version as in CHUNK_WRITE.  Checks: size <= PROTO_CHUNK_SIZE_MAX;
 * flags known; base_version 0 with W_REPLACE, else below version.
 */
struct proto_osd_chunk_truncate_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	struct proto_osd_chunk_id id;
	uint64_t version;
	uint32_t size;
	uint32_t flags; /* enum proto_osd_write_flag */
	uint64_t base_version;
};

/*
 * CHUNK_LIST: the chunks an OSD holds in one PG, in (ino, stripe, index)
 * order, starting after cursor (all zero to start).  Checks: pg <
 * PROTO_PG_MAX; max 1..PROTO_OSD_LIST_MAX; cursor index <
 * PROTO_CHUNKS_MAX (its ino may be 0).
 */
struct proto_osd_chunk_list_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	uint32_t pg;
	struct proto_osd_chunk_id cursor;
	uint32_t max;
};

/* One listed chunk.  Checks: id; size <= PROTO_CHUNK_SIZE_MAX. */
struct proto_osd_chunk_info {
	struct proto_osd_chunk_id id;
	uint64_t version;
	uint32_t size;
};

/*
 * Reply to CHUNK_LIST.  next is the cursor of the following request; the
 * OSD may stop early (even with no entries) to bound its work.  Encoding
 * writes entries[0..count).  Decoding fills the caller's array: set entries
 * to room for cap entries before decoding; more than cap is rejected.
 * Checks: flags known; count <= cap and <= PROTO_OSD_LIST_MAX; entries
 * valid and strictly increasing; with END, next is all zero; without END,
 * next.ino != 0 and next is not before the last entry.
 */
struct proto_osd_chunk_list_rep {
	uint32_t flags; /* enum proto_osd_list_flag */
	struct proto_osd_chunk_id next;
	uint32_t count;
	uint32_t cap;			      /* not on the wire */
	struct proto_osd_chunk_info *entries; /* not owned */
};

enum proto_osd_trim_flag {
	PROTO_OSD_TRIM_ROLLBACK = 1u << 0, /* remove `version` itself: a write that
					    * failed on other members */
};

/*
 * CHUNK_TRIM: remove the versions of a chunk older than `version` (the
 * newest is always kept), sent by the primary once `version` is durable on
 * every member; or, with TRIM_ROLLBACK, remove exactly `version`, sent by
 * the primary to undo a stripe write that failed elsewhere.
 * Checks: version >= 1; flags known.
 */
struct proto_osd_chunk_trim_req {
	uint64_t map_epoch;
	uint32_t pool_id;
	struct proto_osd_chunk_id id;
	uint64_t version;
	uint32_t flags; /* enum proto_osd_trim_flag */
};

/*
 * SCRUB: verify every stored chunk version of one pool (pool_id 0: of all
 * pools) now, at full speed; the reply comes when the pass is over.
 * Checks: flags known.
 */
struct proto_osd_scrub_req {
	uint32_t pool_id;
	uint32_t flags; /* enum proto_osd_scrub_flag */
};

/*
 * Reply to SCRUB: what the pass found.  versions: chunk versions checked;
 * bytes: their stored bytes; bad: versions that failed their checksums;
 * repaired: bad versions rewritten from their stripe.
 * Checks: repaired <= bad <= versions.
 */
struct proto_osd_scrub_rep {
	uint64_t versions;
	uint64_t bytes;
	uint64_t bad;
	uint64_t repaired;
};

/* Codecs: return values as described at the top of this file. */
int proto_osd_chunk_write_req_encode(const struct proto_osd_chunk_write_req *m, struct wire_enc *e);
int proto_osd_chunk_write_req_decode(struct wire_dec *d, struct proto_osd_chunk_write_req *m);
int proto_osd_write_rep_encode(const struct proto_osd_write_rep *m, struct wire_enc *e);
int proto_osd_write_rep_decode(struct wire_dec *d, struct proto_osd_write_rep *m);
int proto_osd_chunk_read_req_encode(const struct proto_osd_chunk_read_req *m, struct wire_enc *e);
int proto_osd_chunk_read_req_decode(struct wire_dec *d, struct proto_osd_chunk_read_req *m);
int proto_osd_chunk_read_rep_encode(const struct proto_osd_chunk_read_rep *m, struct wire_enc *e);
int proto_osd_chunk_read_rep_decode(struct wire_dec *d, struct proto_osd_chunk_read_rep *m);
int proto_osd_stripe_write_req_encode(const struct proto_osd_stripe_write_req *m,
				      struct wire_enc *e);
int proto_osd_stripe_write_req_decode(struct wire_dec *d, struct proto_osd_stripe_write_req *m);
int proto_osd_chunk_delete_req_encode(const struct proto_osd_chunk_delete_req *m,
				      struct wire_enc *e);
int proto_osd_chunk_delete_req_decode(struct wire_dec *d, struct proto_osd_chunk_delete_req *m);
int proto_osd_chunk_truncate_req_encode(const struct proto_osd_chunk_truncate_req *m,
					struct wire_enc *e);
int proto_osd_chunk_truncate_req_decode(struct wire_dec *d, struct proto_osd_chunk_truncate_req *m);
int proto_osd_chunk_list_req_encode(const struct proto_osd_chunk_list_req *m, struct wire_enc *e);
int proto_osd_chunk_list_req_decode(struct wire_dec *d, struct proto_osd_chunk_list_req *m);
int proto_osd_chunk_list_rep_encode(const struct proto_osd_chunk_list_rep *m, struct wire_enc *e);
int proto_osd_chunk_list_rep_decode(struct wire_dec *d, struct proto_osd_chunk_list_rep *m);
int proto_osd_chunk_trim_req_encode(const struct proto_osd_chunk_trim_req *m, struct wire_enc *e);
int proto_osd_chunk_trim_req_decode(struct wire_dec *d, struct proto_osd_chunk_trim_req *m);
int proto_osd_scrub_req_encode(const struct proto_osd_scrub_req *m, struct wire_enc *e);
int proto_osd_scrub_req_decode(struct wire_dec *d, struct proto_osd_scrub_req *m);
int proto_osd_scrub_rep_encode(const struct proto_osd_scrub_rep *m, struct wire_enc *e);
int proto_osd_scrub_rep_decode(struct wire_dec *d, struct proto_osd_scrub_rep *m);

/* Order of chunk ids (ino, stripe, index): <0, 0 or >0. */
int proto_osd_chunk_id_cmp(const struct proto_osd_chunk_id *a, const struct proto_osd_chunk_id *b);

#endif
