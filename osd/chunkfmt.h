/*
 * chunkfmt.h - the OSD's on-disk formats: chunk file header, chunk file
 * names and the store superblock.  Pure encode/decode functions, no I/O.
 *
 * A chunk file holds one version of one chunk:
 *
 *   [0, hdr_len)                header, hdr_len a multiple of 4 KiB
 *   [hdr_len, hdr_len + stored) stored bytes (raw chunk or one zstd frame)
 *   (zero padding up to a 4 KiB multiple when written with O_DIRECT)
 *
 * Header (little-endian):
 *    0 u64 magic "CAIRNCHK"      44 u32 nblocks = ceil(stored / 4096)
 *    8 u16 format version (1)    48 u64 chunk version
 *   10 u16 flags (ZSTD)          56 u64 logical length of the chunk
 *   12 u32 hdr_len               64 u64 stored length
 *   16 u32 pool, 20 u32 pg       72 u32 reserved (0)
 *   24 u64 ino, 32 u64 stripe    76 u32 CRC32C of [0, hdr_len), this field 0
 *   40 u16 chunk index, 42 u16 reserved (0)
 *   80 u32 CRC32C of each 4 KiB block of the stored bytes (the last block
 *      may be short: its CRC covers only its bytes), then zeros to hdr_len.
 *
 * The header CRC covers the whole header including the padding, so any bit
 * flipped anywhere in [0, hdr_len) is detected.
 *
 * File names: "<ino as 16 hex digits>.<stripe>.<index>.v<version>" (decimal
 * stripe, index, version) in DIR/chunks/<pool>/<pg>/; temporary files being
 * written start with ".tmp.".
 *
 * Threads: none; every function works on caller-owned buffers.
 */
#ifndef CAIRN_OSD_CHUNKFMT_H
#define CAIRN_OSD_CHUNKFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSD_CHUNKFMT_BLOCK 4096u
#define OSD_CHUNKFMT_VERSION 1u
#define OSD_CHUNKFMT_FIXED 80u		   /* header bytes before the CRC table */
#define OSD_CHUNKFMT_MAX_LEN (64u << 20)   /* largest logical or stored length */
#define OSD_CHUNKFMT_MAX_IDX 255u	   /* largest chunk index in a stripe */
#define OSD_CHUNKFMT_FLAG_ZSTD 0x0001u	   /* stored bytes are one zstd frame */
#define OSD_CHUNKFMT_NAME_MAX 64u	   /* buffer size for any chunk name */
#define OSD_CHUNKFMT_TMP_PREFIX ".tmp."

/* Decoded header fields (the CRC table stays in the header buffer). */
struct osd_chunkfmt_hdr {
	uint32_t pool;
	uint32_t pg;
	uint64_t ino;
	uint64_t stripe;
	uint16_t idx;
	uint16_t flags;
	uint64_t version;
	uint64_t length; /* logical bytes of the chunk */
	uint64_t stored; /* bytes after the header */
};

/* Number of 4 KiB blocks covering stored bytes. */
static inline uint32_t osd_chunkfmt_nblocks(uint64_t stored)
{
	return (uint32_t)((stored + OSD_CHUNKFMT_BLOCK - 1) / OSD_CHUNKFMT_BLOCK);
}

/* Header length for stored bytes: a multiple of 4 KiB. */
static inline size_t osd_chunkfmt_hdr_len(uint64_t stored)
{
	size_t raw = OSD_CHUNKFMT_FIXED + 4u * (size_t)osd_chunkfmt_nblocks(stored);

	return (raw + OSD_CHUNKFMT_BLOCK - 1) / OSD_CHUNKFMT_BLOCK * OSD_CHUNKFMT_BLOCK;
}

/*
 * Writes the header for h into buf[0..hdr_len(h->stored)), computing the CRC
 * of each block of data[0..h->stored).  The caller checked h (lengths within
 * OSD_CHUNKFMT_MAX_LEN, idx within OSD_CHUNKFMT_MAX_IDX).
 */
void osd_chunkfmt_encode(uint8_t *buf, const struct osd_chunkfmt_hdr *h, const uint8_t *data);

/*
 * Decodes the first OSD_CHUNKFMT_FIXED bytes of a header without checking
 * its CRC, to learn hdr_len.  Returns 0, or -CAIRN_ECHECKSUM when the fixed
 * part is inconsistent (bad magic, unknown format version or flags, lengths
 * out of range or disagreeing, nonzero reserved fields) or len is too short.
 */
int osd_chunkfmt_peek(const uint8_t *buf, size_t len, struct osd_chunkfmt_hdr *h);

/*
 * Decodes and checks a whole header in buf[0..len): everything peek checks,
 * plus len >= hdr_len and the header CRC.  Returns 0 or -CAIRN_ECHECKSUM.
 */
int osd_chunkfmt_decode(const uint8_t *buf, size_t len, struct osd_chunkfmt_hdr *h);

/*
 * Checks blocks [first, first + count) of the stored bytes in data (which
 * starts at block first and holds every byte of those blocks) against the
 * CRCs of a header that osd_chunkfmt_decode() accepted.  Returns 0, or
 * -CAIRN_ECHECKSUM with the first bad block in *bad_block.
 */
int osd_chunkfmt_verify(const uint8_t *hdr_buf, const struct osd_chunkfmt_hdr *h, uint32_t first,
			uint32_t count, const uint8_t *data, uint32_t *bad_block);

/*
 * Formats the name of a chunk version into buf[0..cap).  Returns 0, or
 * -ENAMETOOLONG when cap is too small (OSD_CHUNKFMT_NAME_MAX always fits).
 */
int osd_chunkfmt_name(char *buf, size_t cap, uint64_t ino, uint64_t stripe, uint16_t idx,
		      uint64_t version);

/*
 * Parses a chunk file name; only the exact form osd_chunkfmt_name() writes
 * is accepted (no leading zeros, signs or spaces, idx within
 * OSD_CHUNKFMT_MAX_IDX).  Returns 0 or -EINVAL.
 */
int osd_chunkfmt_parse_name(const char *name, uint64_t *ino, uint64_t *stripe, uint16_t *idx,
			    uint64_t *version);

/* True for names of temporary files (left over by a crash if seen at start). */
bool osd_chunkfmt_is_tmp(const char *name);

/*
 * Store superblock (DIR/superblock), 48 bytes little-endian:
 *   0 "CAIRNOSD", 8 u32 format version, 12 u32 OSD id, 16 uuid[16],
 *   32 u64 creation time (s), 40 u32 reserved (0), 44 u32 CRC32C of [0, 44).
 */
#define OSD_CHUNKFMT_SB_LEN 48u

struct osd_chunkfmt_sb {
	uint32_t format;
	uint32_t osd_id;
	uint8_t uuid[16];
	uint64_t created;
};

void osd_chunkfmt_sb_encode(uint8_t *buf, const struct osd_chunkfmt_sb *sb);

/*
 * Decodes a superblock from buf[0..len).  Returns 0, or:
 *   -EUCLEAN           wrong length or magic: not a Cairn OSD superblock;
 *   -CAIRN_ECHECKSUM   CRC mismatch (or nonzero reserved field);
 *   -ENOTSUP           a format version this build does not know (sb->format
 *                      is set).
 */
int osd_chunkfmt_sb_decode(const uint8_t *buf, size_t len, struct osd_chunkfmt_sb *sb);

/* Formats a uuid as 36 characters plus NUL into out[37]. */
void osd_chunkfmt_uuid_str(const uint8_t uuid[16], char out[37]);

#endif
