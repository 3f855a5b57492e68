/*
 * index.h - the store's in-memory index of chunk versions, per placement
 * group, with per-pool usage counters.
 *
 * The index mirrors the chunk files of the data directory: the store adds a
 * version once its file is in place and removes it before unlinking the
 * file.  It answers "which versions of this chunk exist, how long are they"
 * without touching the disk, lists a PG in key order, and counts usage.
 *
 * Threads: all functions are thread-safe.  A rwlock guards the table of PGs
 * and pools (written only when a PG or pool first appears); each PG has a
 * mutex over its chunks; pool counters are atomics.  Callbacks run with no
 * index lock held, on a snapshot.
 *
 * Memory: roughly 100 bytes per chunk plus 32 per version.
 */
#ifndef CAIRN_OSD_INDEX_H
#define CAIRN_OSD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "osd/store.h"

struct osd_index;

/* Returns a new empty index, or NULL without memory. */
struct osd_index *osd_index_new(void);
void osd_index_free(struct osd_index *ix);

/*
 * Adds version v of chunk id (an existing entry with the same version is
 * replaced) and counts it in the pool's usage.  Returns 0 or -ENOMEM.
 */
int osd_index_add(struct osd_index *ix, const struct osd_chunk_id *id,
		  const struct osd_chunk_version *v);

/* Removes one version (and the chunk with its last one).  0 or -ENOENT. */
int osd_index_remove(struct osd_index *ix, const struct osd_chunk_id *id, uint64_t version);

/* Finds a version of chunk id (0: the newest) into *out.  0 or -ENOENT. */
int osd_index_find(struct osd_index *ix, const struct osd_chunk_id *id, uint64_t version,
		   struct osd_chunk_version *out);

/*
 * Copies the versions of chunk id, oldest first, into out[0..max); *n gets
 * how many exist.  Returns 0 or -ENOENT.
 */
int osd_index_versions(struct osd_index *ix, const struct osd_chunk_id *id,
		       struct osd_chunk_version *out, size_t max, size_t *n);

/* Lists a PG: the contract of osd_store_list_pg(). */
int osd_index_list_pg(struct osd_index *ix, uint32_t pool, uint32_t pg,
		      struct osd_store_cursor *cur, size_t max, osd_store_list_fn fn, void *arg);

/* Every non-empty PG: the contract of osd_store_foreach_pg(). */
int osd_index_foreach_pg(struct osd_index *ix, osd_store_pg_fn fn, void *arg);

/*
 * The ids of the chunks of ino in pool with stripe >= first_stripe, in a
 * malloc'd array the caller frees (*out NULL when *n is 0).  0 or -ENOMEM.
 */
int osd_index_find_ino(struct osd_index *ix, uint32_t pool, uint64_t ino, uint64_t first_stripe,
		       struct osd_chunk_id **out, size_t *n);

/* Usage of one pool (zeros when unknown). */
void osd_index_pool_usage(struct osd_index *ix, uint32_t pool, struct osd_pool_usage *out);

/*
 * Usage of every pool holding at least one version, by pool id, into
 * out[0..max); returns how many such pools exist.
 */
size_t osd_index_pools(struct osd_index *ix, struct osd_pool_usage *out, size_t max);

#endif
