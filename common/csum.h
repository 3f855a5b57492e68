/*
 * csum.h - CRC32C (Castagnoli), the checksum of frames and stored blocks,
 * computed by ISA-L with the CPU's CRC instructions where present.
 */
#ifndef CAIRN_COMMON_CSUM_H
#define CAIRN_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Standard CRC32C (RFC 3720): csum_crc32c(0, "123456789", 9) == 0xE3069283.
 * Chains: csum_crc32c(csum_crc32c(0, a, n), b, m) is the CRC of a then b.
 */
uint32_t csum_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
