/*
 * compress.h - zstd compression of chunk data into and out of caller-owned,
 * bounded buffers.
 *
 * A compressed chunk is one zstd frame that declares its content size and
 * carries zstd's content checksum, so damage to a stored frame is detected
 * when it is decompressed rather than returned as data.  Decompression never
 * writes past the destination's capacity whatever the input says.
 *
 * Threads: any thread may call these functions at any time.  Each thread
 * lazily gets its own reusable zstd contexts, freed when the thread exits;
 * the contexts of the thread that calls exit() are freed by an atexit
 * handler.  compress_thread_cleanup() frees the calling thread's contexts
 * earlier.  The contexts keep their memory between calls: a few MiB per
 * thread for 1 MiB chunks at low levels, about 20 MiB at levels 9 and up.
 *
 * Ownership: every buffer belongs to the caller and is used only during the
 * call.
 */
#ifndef CAIRN_COMMON_COMPRESS_H
#define CAIRN_COMMON_COMPRESS_H

#include <stddef.h>

/*
 * Largest possible compressed size of len bytes: a destination of that
 * capacity never gets -ENOSPC.  Returns 0 when len is beyond what zstd can
 * compress.
 */
size_t compress_bound(size_t len);

/*
 * Accepted levels run from compress_level_min() (negative: faster, less
 * compression) to compress_level_max() (22); 0 means zstd's default (3).
 */
int compress_level_min(void);
int compress_level_max(void);

/*
 * Compresses src[0..len) into dst[0..dst_cap) as one frame and stores its
 * size in *out_len.  len 0 is allowed (a frame of empty content).
 * Returns 0, or:
 *   -ENOSPC  the frame would not fit in dst_cap (store the data raw instead);
 *   -EINVAL  level out of range, NULL out_len, NULL src with len > 0, NULL
 *            dst with dst_cap > 0, or len too large for zstd;
 *   -ENOMEM  no memory for the thread's compression context;
 *   -EIO     any other failure inside zstd (logged).
 */
int compress_zstd(void *dst, size_t dst_cap, const void *src, size_t len, int level,
		  size_t *out_len);

/*
 * Decompresses the single frame src[0..len) into dst[0..dst_cap) and stores
 * the content size in *out_len.  Never writes beyond dst_cap.
 * Returns 0, or:
 *   -EFBIG             the frame declares or produces more than dst_cap bytes;
 *   -CAIRN_EBADFRAME   not a zstd frame, a skippable frame, a frame without
 *                      content checksum, truncated or corrupt data, checksum
 *                      mismatch, or bytes after the end of the frame;
 *   -EINVAL            NULL out_len, NULL src with len > 0, NULL dst with
 *                      dst_cap > 0;
 *   -ENOMEM            no memory for the thread's decompression context.
 */
int decompress_zstd(void *dst, size_t dst_cap, const void *src, size_t len, size_t *out_len);

/*
 * Frees the calling thread's zstd contexts now (they are recreated if the
 * thread compresses again).  Optional: thread exit and process exit free
 * them too.
 */
void compress_thread_cleanup(void);

#endif
