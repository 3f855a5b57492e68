/*
 * csum.c - CRC32C through ISA-L.  ISA-L's crc32_iscsi() takes and returns the
 * raw register without the final inversion; this wrapper adds it so callers
 * see the standard value and can chain calls.
 */
#include "common/csum.h"

#include <isa-l/crc.h>

uint32_t csum_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* ISA-L takes an int length; feed huge buffers in pieces. */
	const unsigned char *p = buf;
	uint32_t reg = ~crc;

	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		reg = crc32_iscsi((unsigned char *)p, (int)n, reg);
		p += n;
		len -= n;
	}
	return ~reg;
}
