/*
 * compress.c - zstd helpers (the only includer of <zstd.h>).
 *
 * Contexts: each thread owns one struct zctx holding a ZSTD_CCtx and a
 * ZSTD_DCtx, each created on first use.  A _Thread_local pointer finds it
 * fast; the same pointer is registered under a pthread key whose destructor
 * frees it when the thread exits.  Key destructors do not run for the
 * thread that calls exit(), so an atexit handler frees that thread's
 * contexts; compress_thread_cleanup() does the same on demand.  No context is
 * ever shared between threads, so nothing here takes a lock.
 *
 * Untrusted input: a frame is checked before zstd decodes it (zstd magic, a
 * content checksum, declared content size within capacity, exactly one frame
 * filling the input), and zstd itself bounds every write by dst_cap.
 */
#include "common/compress.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "common/error.h"
#include "common/log.h"

/* Frame header descriptor (RFC 8878 3.1.1.1.1): content checksum flag. */
#define ZFRAME_FHD_OFFSET 4
#define ZFRAME_FHD_CHECKSUM 0x04u

struct zctx {
	ZSTD_CCtx *cctx; /* created on first compression */
	ZSTD_DCtx *dctx; /* created on first decompression */
};

static _Thread_local struct zctx *tls_ctx;
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static int ctx_key_err;

static void zctx_destroy(void *p)
{
	struct zctx *z = p;

	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z);
	if (tls_ctx == z)
		tls_ctx = NULL;
}

void compress_thread_cleanup(void)
{
	struct zctx *z = tls_ctx;

	if (!z)
		return;
	pthread_setspecific(ctx_key, NULL);
	zctx_destroy(z);
}

static void zctx_key_init(void)
{
	ctx_key_err = pthread_key_create(&ctx_key, zctx_destroy);
	if (ctx_key_err == 0 && atexit(compress_thread_cleanup) != 0)
		log_warn("compress: atexit failed; main thread's zstd contexts live until exit");
}

/* The calling thread's contexts, or NULL when out of memory. */
static struct zctx *zctx_get(void)
{
	struct zctx *z = tls_ctx;

	if (z)
		return z;
	pthread_once(&ctx_once, zctx_key_init);
	if (ctx_key_err)
		return NULL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	if (pthread_setspecific(ctx_key, z) != 0) {
		free(z);
		return NULL;
	}
	tls_ctx = z;
	return z;
}

static ZSTD_CCtx *zctx_cctx(void)
{
	struct zctx *z = zctx_get();

	if (z && !z->cctx)
		z->cctx = ZSTD_createCCtx();
	return z ? z->cctx : NULL;
}

static ZSTD_DCtx *zctx_dctx(void)
{
	struct zctx *z = zctx_get();

	if (z && !z->dctx)
		z->dctx = ZSTD_createDCtx();
	return z ? z->dctx : NULL;
}

size_t compress_bound(size_t len)
{
	size_t r = ZSTD_compressBound(len);

	return ZSTD_isError(r) ? 0 : r;
}

int compress_level_min(void)
{
	return ZSTD_minCLevel();
}

int compress_level_max(void)
{
	return ZSTD_maxCLevel();
}

/* Level, content size and checksum on a context reset to defaults. */
static int zctx_set_params(ZSTD_CCtx *cctx, int level, size_t len)
{
	if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, len)))
		return -EINVAL;
	return 0;
}

static int zstd_cerr(size_t r, size_t len)
{
	switch (ZSTD_getErrorCode(r)) {
	case ZSTD_error_dstSize_tooSmall:
		return -ENOSPC;
	case ZSTD_error_memory_allocation:
		return -ENOMEM;
	default:
		log_error("compress: zstd compression of %zu bytes failed: %s", len,
			  ZSTD_getErrorName(r));
		return -EIO;
	}
}

/*
 * Streaming calls rather than ZSTD_compress2(): with a destination smaller
 * than the bound, ZSTD_compress2() fails on frames that would have fit by a
 * few bytes, while the stream fills dst exactly.  With room for the bound,
 * zstd compresses straight into dst in one call.
 */
static int zstd_compress_frame(ZSTD_CCtx *cctx, ZSTD_outBuffer *out, ZSTD_inBuffer *in)
{
	size_t left;

	do {
		size_t out_pos = out->pos, in_pos = in->pos;

		left = ZSTD_compressStream2(cctx, out, in, ZSTD_e_end);
		if (ZSTD_isError(left))
			return zstd_cerr(left, in->size);
		if (left > 0 && out->pos == out->size)
			return -ENOSPC;
		if (left > 0 && out->pos == out_pos && in->pos == in_pos) {
			log_error("compress: zstd made no progress on %zu bytes", in->size);
			return -EIO;
		}
	} while (left > 0);
	return 0;
}

int compress_zstd(void *dst, size_t dst_cap, const void *src, size_t len, int level,
		  size_t *out_len)
{
	static const char empty;
	uint8_t spare;
	ZSTD_CCtx *cctx;
	ZSTD_outBuffer out;
	ZSTD_inBuffer in;
	int ret;

	if (!out_len || (!src && len > 0) || (!dst && dst_cap > 0))
		return -EINVAL;
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel() || compress_bound(len) == 0)
		return -EINVAL;
	cctx = zctx_cctx();
	if (!cctx)
		return -ENOMEM;
	ret = zctx_set_params(cctx, level, len);
	if (ret < 0)
		return ret;

	/* zstd wants real pointers even for empty buffers. */
	out = (ZSTD_outBuffer){.dst = dst ? dst : &spare, .size = dst_cap, .pos = 0};
	in = (ZSTD_inBuffer){.src = src ? src : &empty, .size = len, .pos = 0};
	ret = zstd_compress_frame(cctx, &out, &in);
	if (ret == 0)
		*out_len = out.pos;
	return ret;
}

/*
 * Checks the frame's outer shape: zstd magic, complete header, content
 * checksum present, declared size within dst_cap, and one frame spanning
 * exactly len bytes.  Returns 0, -EFBIG or -CAIRN_EBADFRAME.
 */
static int zframe_check(const uint8_t *src, size_t len, size_t dst_cap)
{
	unsigned long long content;
	size_t frame_len;

	if (len < ZFRAME_FHD_OFFSET + 1)
		return -CAIRN_EBADFRAME;
	if (((uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16 |
	     (uint32_t)src[3] << 24) != ZSTD_MAGICNUMBER)
		return -CAIRN_EBADFRAME;
	if (!(src[ZFRAME_FHD_OFFSET] & ZFRAME_FHD_CHECKSUM))
		return -CAIRN_EBADFRAME;
	content = ZSTD_getFrameContentSize(src, len);
	if (content == ZSTD_CONTENTSIZE_ERROR)
		return -CAIRN_EBADFRAME;
	if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > dst_cap)
		return -EFBIG;
	frame_len = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(frame_len) || frame_len != len)
		return -CAIRN_EBADFRAME;
	return 0;
}

int decompress_zstd(void *dst, size_t dst_cap, const void *src, size_t len, size_t *out_len)
{
	unsigned long long content;
	uint8_t spare;
	ZSTD_DCtx *dctx;
	size_t r;
	int ret;

	if (!out_len || (!src && len > 0) || (!dst && dst_cap > 0))
		return -EINVAL;
	ret = zframe_check(src, len, dst_cap);
	if (ret < 0)
		return ret;
	dctx = zctx_dctx();
	if (!dctx)
		return -ENOMEM;

	r = ZSTD_decompressDCtx(dctx, dst ? dst : &spare, dst_cap, src, len);
	if (ZSTD_isError(r)) {
		switch (ZSTD_getErrorCode(r)) {
		case ZSTD_error_dstSize_tooSmall:
			return -EFBIG;
		case ZSTD_error_memory_allocation:
			return -ENOMEM;
		default:
			return -CAIRN_EBADFRAME;
		}
	}
	/* zstd checks this itself; a mismatch must never pass silently. */
	content = ZSTD_getFrameContentSize(src, len);
	if (r > dst_cap || (content != ZSTD_CONTENTSIZE_UNKNOWN && content != r))
		return -CAIRN_EBADFRAME;
	*out_len = r;
	return 0;
}
