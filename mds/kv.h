/*
 * kv.h - the metadata shard's key-value store: a thin wrapper over RocksDB
 * and the only module that includes <rocksdb/c.h>.
 *
 * It converts RocksDB's "char **errptr" convention into 0 / -errno (with a log
 * line naming the operation and RocksDB's message) and hides RocksDB's types
 * behind opaque handles.  Column families are named at open and addressed by
 * their index in the array given to kv_open().
 *
 * Threads: a struct kv_db is shared by every thread; kv_get, kv_write and
 * iterators may be used concurrently (RocksDB is thread-safe; a read sees
 * every batch whose kv_write returned).  A struct kv_batch or struct kv_iter
 * belongs to one thread at a time.  kv_close() runs after every other call
 * on the handle has returned.
 */
#ifndef CAIRN_MDS_KV_H
#define CAIRN_MDS_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_db;
struct kv_batch;
struct kv_iter;

/* Most column families one database may declare. */
#define KV_MAX_CFS 16

/* One column family to open (created if missing when create_if_missing). */
struct kv_cf_desc {
	const char *name;
	bool bloom; /* whole-key bloom filter: cheap negative point lookups */
};

struct kv_options {
	bool create_if_missing;
	/* LRU block cache shared by every column family; 0 = 32 MiB. */
	size_t block_cache_bytes;
	/*
	 * Bound on all memtables together (RocksDB's db_write_buffer_size);
	 * each column family's memtable is at most a quarter of it.
	 * 0 = 64 MiB.
	 */
	size_t write_buffer_bytes;
};

/*
 * Opens (or creates) the database in directory path with ncfs column
 * families; cfs[i] is addressed as cf index i afterwards.  Column families
 * present in the database but not listed are opened too (RocksDB requires
 * it) and left alone.  "default" may be listed or not.
 * Returns 0 and *out, or -EINVAL (bad arguments, too many column families),
 * -ENOENT (no database and !create_if_missing), -EBUSY (locked by another
 * process), -ENOSPC, -EIO (I/O error or corruption), -ENOMEM.
 */
int kv_open(const char *path, const struct kv_options *opt, const struct kv_cf_desc *cfs,
	    unsigned ncfs, struct kv_db **out);

/* Closes the database and frees db; NULL is ignored. */
void kv_close(struct kv_db *db);

/*
 * Point lookup.  Copies at most cap bytes of the value into buf and sets
 * *vlen to the value's full length (so *vlen > cap means it was cut short;
 * cap 0 with buf NULL asks for the length only).
 * Returns 0, -ENOENT (no such key), -EINVAL (bad cf), -EIO.
 */
int kv_get(struct kv_db *db, unsigned cf, const void *key, size_t klen, void *buf, size_t cap,
	   size_t *vlen);

/*
 * A write batch for db (its column families), applied atomically by
 * kv_write().  NULL on no memory.
 */
struct kv_batch *kv_batch_new(struct kv_db *db);
void kv_batch_free(struct kv_batch *b);
void kv_batch_clear(struct kv_batch *b);
/* Number of puts and deletes queued. */
unsigned kv_batch_count(const struct kv_batch *b);
/* Queue operations; a bad cf index is remembered and fails kv_write. */
void kv_batch_put(struct kv_batch *b, unsigned cf, const void *key, size_t klen, const void *val,
		  size_t vlen);
void kv_batch_del(struct kv_batch *b, unsigned cf, const void *key, size_t klen);

/*
 * Applies the batch atomically.  sync: the WAL is fsync'ed before return
 * (concurrent synced writers share one fsync); otherwise the batch reaches
 * the OS and becomes durable at the next synced write or kv_sync_wal().
 * The batch is left as it was (clear it to reuse).
 * Returns 0, -EINVAL (a queued operation named a bad cf), -ENOSPC, -EIO.
 */
int kv_write(struct kv_db *db, struct kv_batch *b, bool sync);

/*
 * Makes every write that returned so far durable (fsync of the WAL): the
 * group-commit point for writes made with sync = false.
 * Returns 0 or -EIO / -ENOSPC.
 */
int kv_sync_wal(struct kv_db *db);

/*
 * Iterator over the keys of column family cf that start with prefix
 * (plen 0: every key), in byte order, positioned at the first such key.
 * The prefix is copied.  Returns NULL on no memory or a bad cf (logged).
 * Reads see a consistent snapshot taken at creation.
 */
struct kv_iter *kv_iter_new(struct kv_db *db, unsigned cf, const void *prefix, size_t plen);
void kv_iter_free(struct kv_iter *it);
/* Positions at the first key >= key that still has the prefix. */
void kv_iter_seek(struct kv_iter *it, const void *key, size_t klen);
bool kv_iter_valid(const struct kv_iter *it);
void kv_iter_next(struct kv_iter *it);
/* Current key and value; valid until the next move.  Only when valid. */
const void *kv_iter_key(const struct kv_iter *it, size_t *klen);
const void *kv_iter_value(const struct kv_iter *it, size_t *vlen);
/* After the iterator became invalid: 0 (end reached) or -EIO. */
int kv_iter_status(const struct kv_iter *it);

#endif
