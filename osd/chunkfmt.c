/*
 * chunkfmt.c - encode and check chunk headers, chunk names and the store
 * superblock (formats described in chunkfmt.h).
 *
 * Everything read from disk is untrusted: each field is range-checked and
 * every inconsistency is reported as -CAIRN_ECHECKSUM (the chunk is damaged)
 * rather than trusted, so a flipped bit can never make the store read past a
 * buffer.  No state, no locks.
 */
#include "osd/chunkfmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/csum.h"
#include "common/error.h"
#include "proto/wire.h"

static const uint8_t chunk_magic[8] = {'C', 'A', 'I', 'R', 'N', 'C', 'H', 'K'};
static const uint8_t sb_magic[8] = {'C', 'A', 'I', 'R', 'N', 'O', 'S', 'D'};

#define HDR_CRC_OFF 76u

/* CRC of a header with its CRC field taken as zero. */
static uint32_t hdr_crc(const uint8_t *buf, size_t hdr_len)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = csum_crc32c(0, buf, HDR_CRC_OFF);
	crc = csum_crc32c(crc, zero, sizeof(zero));
	return csum_crc32c(crc, buf + HDR_CRC_OFF + 4, hdr_len - HDR_CRC_OFF - 4);
}

void osd_chunkfmt_encode(uint8_t *buf, const struct osd_chunkfmt_hdr *h, const uint8_t *data)
{
	size_t hdr_len = osd_chunkfmt_hdr_len(h->stored);
	uint32_t nblocks = osd_chunkfmt_nblocks(h->stored);

	memset(buf, 0, hdr_len);
	memcpy(buf, chunk_magic, sizeof(chunk_magic));
	wire_put_le16(buf + 8, OSD_CHUNKFMT_VERSION);
	wire_put_le16(buf + 10, h->flags);
	wire_put_le32(buf + 12, (uint32_t)hdr_len);
	wire_put_le32(buf + 16, h->pool);
	wire_put_le32(buf + 20, h->pg);
	wire_put_le64(buf + 24, h->ino);
	wire_put_le64(buf + 32, h->stripe);
	wire_put_le16(buf + 40, h->idx);
	wire_put_le32(buf + 44, nblocks);
	wire_put_le64(buf + 48, h->version);
	wire_put_le64(buf + 56, h->length);
	wire_put_le64(buf + 64, h->stored);
	for (uint32_t b = 0; b < nblocks; b++) {
		uint64_t start = (uint64_t)b * OSD_CHUNKFMT_BLOCK;
		uint64_t n = h->stored - start;

		if (n > OSD_CHUNKFMT_BLOCK)
			n = OSD_CHUNKFMT_BLOCK;
		wire_put_le32(buf + OSD_CHUNKFMT_FIXED + 4u * b,
			      csum_crc32c(0, data + start, (size_t)n));
	}
	wire_put_le32(buf + HDR_CRC_OFF, hdr_crc(buf, hdr_len));
}

/* Checks the relations between the fixed fields; 0 or -CAIRN_ECHECKSUM. */
static int hdr_check_fields(const uint8_t *buf, const struct osd_chunkfmt_hdr *h)
{
	if (memcmp(buf, chunk_magic, sizeof(chunk_magic)) != 0 ||
	    wire_get_le16(buf + 8) != OSD_CHUNKFMT_VERSION)
		return -CAIRN_ECHECKSUM;
	if ((h->flags & ~OSD_CHUNKFMT_FLAG_ZSTD) != 0 || wire_get_le16(buf + 42) != 0 ||
	    wire_get_le32(buf + 72) != 0)
		return -CAIRN_ECHECKSUM;
	if (h->length > OSD_CHUNKFMT_MAX_LEN || h->stored > OSD_CHUNKFMT_MAX_LEN ||
	    h->idx > OSD_CHUNKFMT_MAX_IDX)
		return -CAIRN_ECHECKSUM;
	if (wire_get_le32(buf + 44) != osd_chunkfmt_nblocks(h->stored) ||
	    wire_get_le32(buf + 12) != osd_chunkfmt_hdr_len(h->stored))
		return -CAIRN_ECHECKSUM;
	if (h->flags & OSD_CHUNKFMT_FLAG_ZSTD) {
		if (h->stored == 0 || h->stored >= h->length)
			return -CAIRN_ECHECKSUM;
	} else if (h->stored != h->length) {
		return -CAIRN_ECHECKSUM;
	}
	return 0;
}

int osd_chunkfmt_peek(const uint8_t *buf, size_t len, struct osd_chunkfmt_hdr *h)
{
	if (len < OSD_CHUNKFMT_FIXED)
		return -CAIRN_ECHECKSUM;
	h->flags = wire_get_le16(buf + 10);
	h->pool = wire_get_le32(buf + 16);
	h->pg = wire_get_le32(buf + 20);
	h->ino = wire_get_le64(buf + 24);
	h->stripe = wire_get_le64(buf + 32);
	h->idx = wire_get_le16(buf + 40);
	h->version = wire_get_le64(buf + 48);
	h->length = wire_get_le64(buf + 56);
	h->stored = wire_get_le64(buf + 64);
	return hdr_check_fields(buf, h);
}

int osd_chunkfmt_decode(const uint8_t *buf, size_t len, struct osd_chunkfmt_hdr *h)
{
	size_t hdr_len;
	int ret;

	ret = osd_chunkfmt_peek(buf, len, h);
	if (ret)
		return ret;
	hdr_len = osd_chunkfmt_hdr_len(h->stored);
	if (len < hdr_len)
		return -CAIRN_ECHECKSUM;
	if (hdr_crc(buf, hdr_len) != wire_get_le32(buf + HDR_CRC_OFF))
		return -CAIRN_ECHECKSUM;
	return 0;
}

int osd_chunkfmt_verify(const uint8_t *hdr_buf, const struct osd_chunkfmt_hdr *h, uint32_t first,
			uint32_t count, const uint8_t *data, uint32_t *bad_block)
{
	uint32_t nblocks = osd_chunkfmt_nblocks(h->stored);

	if (first > nblocks || count > nblocks - first) {
		*bad_block = first;
		return -CAIRN_ECHECKSUM;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t b = first + i;
		uint64_t n = h->stored - (uint64_t)b * OSD_CHUNKFMT_BLOCK;
		uint32_t want = wire_get_le32(hdr_buf + OSD_CHUNKFMT_FIXED + 4u * b);

		if (n > OSD_CHUNKFMT_BLOCK)
			n = OSD_CHUNKFMT_BLOCK;
		if (csum_crc32c(0, data + (size_t)i * OSD_CHUNKFMT_BLOCK, (size_t)n) != want) {
			*bad_block = b;
			return -CAIRN_ECHECKSUM;
		}
	}
	return 0;
}

int osd_chunkfmt_name(char *buf, size_t cap, uint64_t ino, uint64_t stripe, uint16_t idx,
		      uint64_t version)
{
	int n = snprintf(buf, cap, "%016" PRIx64 ".%" PRIu64 ".%u.v%" PRIu64, ino, stripe,
			 (unsigned)idx, version);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* Parses a decimal or hex number ending at a '.' or NUL; 0 or -EINVAL. */
static int parse_num(const char **p, int base, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	for (;; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -EINVAL;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (digits == 0)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

int osd_chunkfmt_parse_name(const char *name, uint64_t *ino, uint64_t *stripe, uint16_t *idx,
			    uint64_t *version)
{
	char canon[OSD_CHUNKFMT_NAME_MAX];
	const char *p = name;
	uint64_t i, s, x, v;

	if (parse_num(&p, 16, &i) || *p++ != '.' || parse_num(&p, 10, &s) || *p++ != '.' ||
	    parse_num(&p, 10, &x) || *p++ != '.' || *p++ != 'v' || parse_num(&p, 10, &v) ||
	    *p != '\0' || x > OSD_CHUNKFMT_MAX_IDX)
		return -EINVAL;
	/* Only the canonical spelling names a chunk (no leading zeros etc.). */
	if (osd_chunkfmt_name(canon, sizeof(canon), i, s, (uint16_t)x, v) != 0 ||
	    strcmp(canon, name) != 0)
		return -EINVAL;
	*ino = i;
	*stripe = s;
	*idx = (uint16_t)x;
	*version = v;
	return 0;
}

bool osd_chunkfmt_is_tmp(const char *name)
{
	return strncmp(name, OSD_CHUNKFMT_TMP_PREFIX, strlen(OSD_CHUNKFMT_TMP_PREFIX)) == 0;
}

void osd_chunkfmt_sb_encode(uint8_t *buf, const struct osd_chunkfmt_sb *sb)
{
	memset(buf, 0, OSD_CHUNKFMT_SB_LEN);
	memcpy(buf, sb_magic, sizeof(sb_magic));
	wire_put_le32(buf + 8, sb->format);
	wire_put_le32(buf + 12, sb->osd_id);
	memcpy(buf + 16, sb->uuid, sizeof(sb->uuid));
	wire_put_le64(buf + 32, sb->created);
	wire_put_le32(buf + 44, csum_crc32c(0, buf, 44));
}

int osd_chunkfmt_sb_decode(const uint8_t *buf, size_t len, struct osd_chunkfmt_sb *sb)
{
	if (len != OSD_CHUNKFMT_SB_LEN || memcmp(buf, sb_magic, sizeof(sb_magic)) != 0)
		return -EUCLEAN;
	if (csum_crc32c(0, buf, 44) != wire_get_le32(buf + 44) || wire_get_le32(buf + 40) != 0)
		return -CAIRN_ECHECKSUM;
	sb->format = wire_get_le32(buf + 8);
	sb->osd_id = wire_get_le32(buf + 12);
	memcpy(sb->uuid, buf + 16, sizeof(sb->uuid));
	sb->created = wire_get_le64(buf + 32);
	if (sb->format != OSD_CHUNKFMT_VERSION)
		return -ENOTSUP;
	return 0;
}

void osd_chunkfmt_uuid_str(const uint8_t uuid[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
}
