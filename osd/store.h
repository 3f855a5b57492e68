/*
 * store.h - the OSD's chunk store: versioned, checksummed chunks of
 * placement groups in a local data directory.
 *
 * A chunk is named by (pool, ino, stripe, index); the caller also passes
 * the chunk's placement group (computed elsewhere from (ino, stripe)), and
 * must always pass the same one.  Every write creates a new, immutable
 * version of the chunk, numbered by the caller (the PG primary): the newest
 * version with a byte range replaced.  Old versions stay readable until
 * osd_store_trim().  Stored bytes carry a CRC32C per 4 KiB block, checked on
 * every read; damaged data is reported as -CAIRN_ECHECKSUM, never returned.
 *
 * Layout of the data directory:
 *   DIR/superblock                    format version, store uuid, OSD id
 *   DIR/chunks/<pool>/<pg>/<ino hex>.<stripe>.<idx>.v<version>
 *   DIR/chunks/<pool>/<pg>/.tmp.*     files being written (removed at open)
 *
 * Threads: every function may be called from any number of threads at once
 * on one store, except osd_store_close() (no other call may be running).
 * Disk I/O uses a ring per calling thread (osd/io.h), so the calling threads
 * are where the work happens; the store starts no threads of its own.
 * Writes to one chunk are serialized inside the store (a striped lock on the
 * chunk id); reads never wait for writes.
 *
 * Ownership: buffers passed in belong to the caller and are used only during
 * the call.  A write of a whole chunk hands the caller's buffer to the
 * kernel without a copy (with O_DIRECT only when it is 4 KiB-aligned).
 *
 * Sizes: a chunk's logical length is at most OSD_STORE_CHUNK_MAX.  Chunk
 * indices run from 0 to OSD_STORE_IDX_MAX; version 0 is not a version (it
 * means "newest" where a version is read).
 */
#ifndef CAIRN_OSD_STORE_H
#define CAIRN_OSD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSD_STORE_FORMAT 1u		/* on-disk format this build writes */
#define OSD_STORE_CHUNK_MAX (64u << 20) /* largest logical chunk length */
#define OSD_STORE_IDX_MAX 255u		/* largest chunk index */

struct osd_store;

struct osd_chunk_id {
	uint32_t pool;
	uint32_t pg; /* placement group of (ino, stripe) in pool */
	uint64_t ino;
	uint64_t stripe;
	uint16_t idx; /* chunk index within the stripe */
};

/* Flags of a stored version. */
#define OSD_CHUNK_ZSTD 0x1u    /* stored as one zstd frame */
#define OSD_CHUNK_DAMAGED 0x2u /* header unreadable when the store opened */

struct osd_chunk_version {
	uint64_t version;
	uint64_t length; /* logical bytes */
	uint64_t stored; /* bytes stored after the header (compressed or raw) */
	uint32_t flags;	 /* OSD_CHUNK_* */
};

struct osd_store_opts {
	bool direct_io;	    /* O_DIRECT where the file system allows it */
	int compress_level; /* zstd level for OSD_STORE_COMPRESS; 0 = default */
	/*
	 * Fault injection (tests): "OP:N:KIND" as in osd_store_set_fault(), or
	 * NULL to take the CAIRN_OSD_FAULT environment variable (if set).
	 */
	const char *fault;
};

/*
 * Formats dir (created if missing; its parent must exist) as an empty store
 * for OSD osd_id with a fresh random uuid.
 * Returns 0, or:
 *   -EEXIST  dir already holds a superblock;
 *   -EINVAL  NULL dir;
 *   -errno   creating the directory or writing the superblock failed
 *            (-EACCES, -ENOSPC, -EIO, ...).
 */
int osd_store_format(const char *dir, uint32_t osd_id);

/*
 * Opens the store in dir for OSD osd_id: checks the superblock, takes an
 * exclusive lock on it, removes temporary files left by a crash and indexes
 * every chunk (reading each chunk header once).  opts may be NULL.
 * Returns 0 with *out set, or (each with a log line naming the problem):
 *   -ENOENT            no superblock: dir is not formatted;
 *   -EUCLEAN           the superblock is not a Cairn OSD superblock;
 *   -CAIRN_ECHECKSUM   the superblock is damaged;
 *   -ENOTSUP           formatted with an unknown format version;
 *   -EINVAL            formatted for another OSD id, or bad opts (compress
 *                      level, fault spec) or NULL arguments;
 *   -EBUSY             another process has the store open;
 *   -ENOMEM, -EIO, other -errno from the file system.
 */
int osd_store_open(const char *dir, uint32_t osd_id, const struct osd_store_opts *opts,
		   struct osd_store **out);

/* Closes the store (no other call on it may be running).  NULL is a no-op. */
void osd_store_close(struct osd_store *st);

struct osd_store_info {
	uint32_t osd_id;
	uint32_t format;
	uint8_t uuid[16];
	char uuid_str[37];
	bool direct_io; /* O_DIRECT in use (false when asked but refused) */
};

void osd_store_info(const struct osd_store *st, struct osd_store_info *out);

/* Flags of osd_store_write() and osd_store_truncate(). */
#define OSD_STORE_COMPRESS 0x1u /* store zstd-compressed when it saves >= 1/8 */
#define OSD_STORE_REPLACE 0x2u	/* the new version is only the written range
				 * (zeros before off), not based on the old one */
#define OSD_STORE_REPAIR 0x4u	/* rewrite existing version `version` in place
				 * with REPLACE content (scrub repair) */

/*
 * Writes version `version` of chunk id: the newest existing version with
 * [off, off + len) replaced by buf (zeros where neither has bytes), logical
 * length max(old length, off + len); with OSD_STORE_REPLACE, zeros up to off
 * then buf, length off + len.  The new version is durable when this returns
 * 0 (data and directory synced) and readers see it entirely or not at all.
 *
 * Versions: version must be greater than every version of the chunk on
 * disk.  Re-writing the newest version is idempotent (a retry after a crash
 * or a lost reply): if that version already holds exactly buf at off (and,
 * with OSD_STORE_REPLACE, ends at off + len), the call makes sure it is
 * durable and returns 0 without writing; otherwise it is -ESTALE.
 *
 * Returns 0, or:
 *   -ESTALE            version is older than the newest version, or is the
 *                      newest version with different content;
 *   -EINVAL            version 0, NULL arguments, idx > OSD_STORE_IDX_MAX,
 *                      unknown flags;
 *   -EFBIG             off + len > OSD_STORE_CHUNK_MAX;
 *   -ENOSPC            the disk (or a quota) is full; nothing was changed;
 *   -CAIRN_ECHECKSUM   a partial write needs the old version, which is damaged;
 *   -ENOMEM, -EIO, other -errno from the file system (nothing changed, except
 *                      when syncing the directory failed after the rename:
 *                      then the version exists but may not be durable).
 *
 * Repair: with OSD_STORE_REPAIR (which implies OSD_STORE_REPLACE), version
 * must be an existing version of the chunk, newest or not; its file is
 * replaced atomically (write a new file, rename over the old one) by the
 * given content, whatever the old file holds.  A reader sees the old file
 * or the new one.  Used to rewrite a damaged version with the same content
 * rebuilt from its stripe.  -ENOENT when that version does not exist; the
 * other errors as above (never -ESTALE).
 */
int osd_store_write(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		    uint64_t off, const void *buf, size_t len, uint32_t flags);

/*
 * Writes version `version` of chunk id with logical length `length`: the
 * newest version cut short, or extended with zeros.  flags: OSD_STORE_COMPRESS.
 * Returns 0 or the errors of osd_store_write(), plus -ENOENT when the chunk
 * does not exist.  Re-writing the newest version with the same length is
 * idempotent.
 */
int osd_store_truncate(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		       uint64_t length, uint32_t flags);

struct osd_read_result {
	uint64_t version; /* version read */
	uint64_t length;  /* its logical length */
	size_t bytes;	  /* bytes stored in buf: min(len, length - off), 0 past the end */
};

/*
 * Reads [off, off + len) of version `version` of chunk id (0: the newest)
 * into buf.  Only blocks whose CRC matches are returned; on any error buf
 * holds no chunk bytes.  res may be NULL.
 * Returns 0, or:
 *   -ENOENT            no such chunk or version;
 *   -CAIRN_ECHECKSUM   the header or a needed block is damaged (logged with
 *                      the chunk, version and block);
 *   -EINVAL            NULL arguments or idx > OSD_STORE_IDX_MAX;
 *   -ENOMEM, -EIO, other -errno from the file system.
 */
int osd_store_read(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		   uint64_t off, void *buf, size_t len, struct osd_read_result *res);

/*
 * Reads a whole version (0: newest) and checks every block (and, when
 * compressed, the zstd frame), for the scrubber.
 * Returns 0, -ENOENT, -CAIRN_ECHECKSUM, -EINVAL, -ENOMEM or -EIO.
 */
int osd_store_verify(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version);

/*
 * Versions of chunk id, oldest first, into out[0..max); *n gets how many
 * exist (may exceed max).  Returns 0, -ENOENT or -EINVAL.
 */
int osd_store_versions(struct osd_store *st, const struct osd_chunk_id *id,
		       struct osd_chunk_version *out, size_t max, size_t *n);

/*
 * Removes the versions of chunk id older than keep_version; the newest
 * version is always kept.  The removal is not synced to disk: after a crash
 * a trimmed version may come back, and the next trim removes it again.
 * Returns 0 (also when nothing was older), -ENOENT when the chunk does not
 * exist, -EINVAL, or -errno of unlink.
 */
int osd_store_trim(struct osd_store *st, const struct osd_chunk_id *id, uint64_t keep_version);

/*
 * Removes version `version` of chunk id, newest or not, durably: undoes a
 * write that failed on other chunks of its stripe (the chunk disappears
 * with its last version).  Returns 0, -ENOENT (no such version), -EINVAL,
 * or -errno of unlink or of syncing the directory.
 */
int osd_store_drop(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version);

/*
 * Removes every version of chunk id (durably).  Returns 0, -ENOENT, -EINVAL
 * or -errno of unlink or of syncing the directory.
 */
int osd_store_delete(struct osd_store *st, const struct osd_chunk_id *id);

/*
 * Removes every chunk of ino in pool whose stripe is >= first_stripe (file
 * truncation); *deleted (may be NULL) gets the number of chunks removed.
 * Returns 0, -EINVAL, -ENOMEM or the first -errno of osd_store_delete().
 */
int osd_store_delete_from(struct osd_store *st, uint32_t pool, uint64_t ino,
			  uint64_t first_stripe, size_t *deleted);

/* One chunk as listed: its versions, oldest first, valid during the callback. */
struct osd_chunk_info {
	struct osd_chunk_id id;
	uint32_t nversions;
	const struct osd_chunk_version *versions;
};

/* Position in a PG listing; start from OSD_STORE_CURSOR_INIT. */
struct osd_store_cursor {
	uint64_t ino;
	uint64_t stripe;
	uint32_t idx;
	uint32_t state; /* private */
};

#define OSD_STORE_CURSOR_INIT {0, 0, 0, 0}

/* True once a listing has delivered the PG's last chunk. */
bool osd_store_cursor_done(const struct osd_store_cursor *cur);

/* Returns 0 to go on; anything else stops the listing and is returned. */
typedef int (*osd_store_list_fn)(const struct osd_chunk_info *info, void *arg);

/*
 * Lists up to max (0: no limit) chunks of PG (pool, pg) after *cur, in
 * (ino, stripe, idx) order, calling fn for each without any store lock held
 * (fn may call the store).  *cur moves past each chunk fn accepted; once the
 * last chunk is delivered osd_store_cursor_done(cur) is true.  Chunks
 * created or removed during a listing may or may not be seen.
 * Returns 0, fn's nonzero value, -EINVAL or -ENOMEM.
 */
int osd_store_list_pg(struct osd_store *st, uint32_t pool, uint32_t pg,
		      struct osd_store_cursor *cur, size_t max, osd_store_list_fn fn, void *arg);

/* Returns 0 to go on; anything else stops and is returned. */
typedef int (*osd_store_pg_fn)(uint32_t pool, uint32_t pg, uint64_t nchunks, void *arg);

/*
 * Calls fn for every PG holding at least one chunk, in (pool, pg) order,
 * without any store lock held.  Returns 0, fn's nonzero value, -EINVAL or
 * -ENOMEM.
 */
int osd_store_foreach_pg(struct osd_store *st, osd_store_pg_fn fn, void *arg);

struct osd_pool_usage {
	uint32_t pool;
	uint64_t chunks;	/* distinct chunks */
	uint64_t versions;	/* chunk versions (files) */
	uint64_t logical_bytes; /* sum of the versions' logical lengths */
	uint64_t stored_bytes;	/* sum of their stored bytes (after compression) */
};

/*
 * Usage of one pool, counted over every version on disk (logical over
 * stored bytes is the pool's compression ratio).  Returns 0 (all zeros for a
 * pool with no chunks here) or -EINVAL.
 */
int osd_store_pool_usage(struct osd_store *st, uint32_t pool, struct osd_pool_usage *out);

/*
 * Usage of every pool with chunks here, by pool id, into out[0..max); *n
 * gets how many pools there are (may exceed max).  Returns 0 or -EINVAL.
 */
int osd_store_pools(struct osd_store *st, struct osd_pool_usage *out, size_t max, size_t *n);

struct osd_store_statfs {
	uint64_t capacity;  /* bytes of the file system holding the store */
	uint64_t used;	    /* bytes in use on it (by anything) */
	uint64_t available; /* bytes the OSD can still write */
};

/* statvfs of the data directory.  Returns 0, -EINVAL or -errno of statvfs. */
int osd_store_statfs(struct osd_store *st, struct osd_store_statfs *out);

/*
 * Arms fault injection: "OP:N:KIND" makes the N-th following operation OP
 * fail, once: OP write (chunk data writes) with KIND eio, enospc (half
 * written, then ENOSPC) or short (half written, reported short: the store
 * must finish it); OP sync (chunk fdatasync) with eio or enospc; OP read
 * with eio.  "none" disarms.  Returns 0 or -EINVAL.
 */
int osd_store_set_fault(struct osd_store *st, const char *spec);

/* Number of faults injected so far. */
long osd_store_faults_fired(struct osd_store *st);

/* Frees the calling thread's I/O ring now (e.g. before a worker exits). */
void osd_store_thread_cleanup(void);

#endif
