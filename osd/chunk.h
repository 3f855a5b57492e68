/*
 * chunk.h - what the chunk messages of proto/osd.h mean on the local store:
 * CHUNK_WRITE and CHUNK_TRUNCATE with their base-version precondition and
 * W_REPLACE, CHUNK_READ of a version, CHUNK_TRIM.  The server applies them
 * for requests; the primary applies them to its own chunk, so that its
 * chunk and the ones it forwards follow exactly the same rules.
 *
 * The base-version check and the write are two steps: the primary
 * serializes the writes of a stripe, so nothing else changes a chunk
 * between them (a repair rewrites a version, it does not add one).
 *
 * Threads: any thread (store calls use the calling thread's ring).
 */
#ifndef CAIRN_OSD_CHUNK_H
#define CAIRN_OSD_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osd/store.h"

/*
 * CHUNK_WRITE: len bytes at off as version, with flags of enum
 * proto_osd_write_flag; base as in proto/osd.h (0: none); compress for a
 * zstd pool.  Returns 0 or the errors of osd_store_write(), plus -ESTALE
 * when base is set and the chunk's newest version is not base (or the
 * chunk does not exist).
 */
int osd_chunk_write(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		    uint64_t base, uint64_t off, const void *buf, size_t len, uint32_t flags,
		    bool compress);

/*
 * CHUNK_TRUNCATE to size as version (flags, base, compress as above).
 * Returns 0 or the errors of osd_store_truncate() (-ENOENT without
 * W_REPLACE when the chunk does not exist), plus -ESTALE as above.
 */
int osd_chunk_truncate(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		       uint64_t base, uint64_t size, uint32_t flags, bool compress);

/* The newest version of a chunk and its length.  0 or -ENOENT, -EINVAL. */
int osd_chunk_newest(struct osd_store *st, const struct osd_chunk_id *id,
		     struct osd_chunk_version *out);

#endif
