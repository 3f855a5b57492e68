/*
 * erasure.h - erasure coding of a stripe's chunks: k data chunks protected by
 * m parity chunks, any k of the k + m enough to rebuild the others.
 *
 * k > 1 is Reed-Solomon over GF(2^8) with a Cauchy generator matrix, for
 * which every choice of k surviving chunks can be decoded.  k == 1 is r-way
 * replication with r = m + 1: parity chunks are plain copies of the data
 * chunk.  m == 0 stores data alone and tolerates no loss.
 *
 * Chunks are arrays of bytes of equal length, listed data first, then
 * parity (chunk i < k is data chunk i, chunk k + j is parity chunk j).
 *
 * Byte ranges: the code works on each byte offset independently (byte x of
 * every parity chunk depends only on byte x of the data chunks).  So every
 * function below also works on any sub-range [off, off + len) of all chunks
 * at once: pass pointers advanced by off, and len.  A partial chunk write
 * updates parity for the bytes it changed only, and a read of a range can be
 * rebuilt from the same range of the survivors.
 *
 * Threads: an erasure handle is immutable after erasure_new(); any number of
 * threads may use one handle at the same time.  Calls keep their scratch
 * space to themselves and share nothing else.
 *
 * Ownership: the handle belongs to its creator, who frees it with
 * erasure_free() once no call is using it.  Chunk buffers always belong to
 * the caller; the functions only read or write them during the call.
 */
#ifndef CAIRN_COMMON_ERASURE_H
#define CAIRN_COMMON_ERASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERASURE_MAX_K 32u      /* data chunks per stripe */
#define ERASURE_MAX_M 16u      /* parity chunks per stripe */
#define ERASURE_MAX_CHUNKS 48u /* k + m */

struct erasure;

/*
 * A code with k data and m parity chunks: 1 <= k <= ERASURE_MAX_K,
 * 0 <= m <= ERASURE_MAX_M, k + m <= ERASURE_MAX_CHUNKS.  Returns NULL on
 * bad arguments or when out of memory.
 */
struct erasure *erasure_new(unsigned k, unsigned m);

/* Frees the handle; NULL is a no-op. */
void erasure_free(struct erasure *ec);

unsigned erasure_k(const struct erasure *ec);
unsigned erasure_m(const struct erasure *ec);

/*
 * Computes the m parity chunks parity[0..m-1] from the k data chunks
 * data[0..k-1], each len bytes (len 0 is allowed).  parity may be NULL when
 * m == 0.  Parity buffers must not overlap data buffers.
 * Returns 0, or -EINVAL for a NULL handle, array or chunk pointer.
 */
int erasure_encode(const struct erasure *ec, const uint8_t *const *data, uint8_t *const *parity,
		   size_t len);

/*
 * Rebuilds in place every chunk i with present[i] false, data or parity,
 * from the chunks marked present (chunks[0..k+m-1], data then parity, each
 * len bytes).  Present chunks are only read.  Every chunks[i] must point to
 * a buffer of len bytes, whether present or not.
 * Returns 0 (also when nothing is missing), -EIO if fewer than k chunks are
 * present (nothing is written then), -EINVAL for a NULL handle, array or
 * chunk pointer, -ENOMEM.
 */
int erasure_decode(const struct erasure *ec, uint8_t *const *chunks, const bool *present,
		   size_t len);

/*
 * Updates parity[0..m-1] in place for data chunk `index` changing from
 * old_data to new_data (len bytes each), without reading the other data
 * chunks: afterwards parity equals what erasure_encode() would compute from
 * the new data.  parity must hold the parity of the old data (for the same
 * byte range).  With k == 1 the parity chunks simply become copies of
 * new_data.  old_data may equal new_data; parity may be NULL when m == 0.
 * Returns 0, -EINVAL for index >= k or a NULL handle or pointer, -ENOMEM.
 */
int erasure_update(const struct erasure *ec, unsigned index, const uint8_t *old_data,
		   const uint8_t *new_data, uint8_t *const *parity, size_t len);

#endif
