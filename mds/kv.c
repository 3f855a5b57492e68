/*
 * kv.c - RocksDB behind the kv.h interface.  The only file that includes
 * <rocksdb/c.h>: every RocksDB error string is logged here once and mapped
 * to a negative errno.
 *
 * Threads: the kv_db handle is immutable after kv_open (column family
 * handles, shared read/write options), so any thread may use it; RocksDB
 * does its own locking.  Batches and iterators are owned by their caller.
 */
#include "mds/kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "common/log.h"

#define KV_DEFAULT_CACHE (32u << 20)
#define KV_DEFAULT_WBUF (64u << 20)
#define KV_MIN_CF_WBUF (256u << 10)
#define KV_BLOOM_BITS 10.0

struct kv_db {
	rocksdb_t *db;
	rocksdb_cache_t *cache;
	rocksdb_options_t *dbopt;
	rocksdb_options_t *cfopt_plain;
	rocksdb_options_t *cfopt_bloom;
	rocksdb_readoptions_t *ropt;
	rocksdb_writeoptions_t *wopt_sync;
	rocksdb_writeoptions_t *wopt_async;
	unsigned ncfs;				  /* the caller's column families */
	unsigned nhandles;			  /* ncfs plus unknown ones found on disk */
	rocksdb_column_family_handle_t **handles; /* [nhandles] */
};

struct kv_batch {
	struct kv_db *db;
	rocksdb_writebatch_t *wb;
	unsigned count;
	bool bad_cf;
};

struct kv_iter {
	rocksdb_iterator_t *it;
	rocksdb_readoptions_t *ropt;
	size_t plen;
	uint8_t *prefix; /* plen bytes, then the upper bound (plen bytes) */
};

/*
 * Maps a RocksDB status string ("IO error: ...", "Corruption: ...") to an
 * errno, logs it with what was being done, and frees it.
 */
static int kv_error(char *err, const char *what)
{
	int rc = -EIO;

	if (strncmp(err, "NotFound", 8) == 0)
		rc = -ENOENT;
	else if (strstr(err, "does not exist") != NULL)
		rc = -ENOENT;
	else if (strstr(err, "No space left") != NULL)
		rc = -ENOSPC;
	else if (strstr(err, "lock") != NULL && strstr(err, "IO error") != NULL)
		rc = -EBUSY;
	else if (strncmp(err, "Invalid argument", 16) == 0)
		rc = -EINVAL;
	else if (strncmp(err, "Not implemented", 15) == 0)
		rc = -EOPNOTSUPP;
	else if (strncmp(err, "Resource busy", 13) == 0)
		rc = -EBUSY;
	log_error("kv: %s: %s", what, err);
	rocksdb_free(err);
	return rc;
}

static rocksdb_options_t *kv_cf_options(rocksdb_cache_t *cache, bool bloom, size_t cf_wbuf)
{
	rocksdb_options_t *o = rocksdb_options_create();
	rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();

	if (!o || !t) {
		if (o)
			rocksdb_options_destroy(o);
		if (t)
			rocksdb_block_based_options_destroy(t);
		return NULL;
	}
	rocksdb_block_based_options_set_block_cache(t, cache);
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 1);
	rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(t, 1);
	if (bloom) {
		/* The table options take ownership of the policy. */
		rocksdb_block_based_options_set_filter_policy(
		    t, rocksdb_filterpolicy_create_bloom_full(KV_BLOOM_BITS));
		rocksdb_block_based_options_set_whole_key_filtering(t, 1);
	}
	rocksdb_options_set_block_based_table_factory(o, t);
	rocksdb_block_based_options_destroy(t);
	rocksdb_options_set_write_buffer_size(o, cf_wbuf);
	rocksdb_options_set_max_write_buffer_number(o, 3);
	rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
	return o;
}

static int kv_make_options(struct kv_db *db, const struct kv_options *opt)
{
	size_t cache_bytes = opt->block_cache_bytes ? opt->block_cache_bytes : KV_DEFAULT_CACHE;
	size_t wbuf = opt->write_buffer_bytes ? opt->write_buffer_bytes : KV_DEFAULT_WBUF;
	size_t cf_wbuf = wbuf / 4 > KV_MIN_CF_WBUF ? wbuf / 4 : KV_MIN_CF_WBUF;

	db->cache = rocksdb_cache_create_lru(cache_bytes);
	db->dbopt = rocksdb_options_create();
	db->ropt = rocksdb_readoptions_create();
	db->wopt_sync = rocksdb_writeoptions_create();
	db->wopt_async = rocksdb_writeoptions_create();
	if (!db->cache || !db->dbopt || !db->ropt || !db->wopt_sync || !db->wopt_async)
		return -ENOMEM;
	db->cfopt_plain = kv_cf_options(db->cache, false, cf_wbuf);
	db->cfopt_bloom = kv_cf_options(db->cache, true, cf_wbuf);
	if (!db->cfopt_plain || !db->cfopt_bloom)
		return -ENOMEM;

	rocksdb_options_set_create_if_missing(db->dbopt, opt->create_if_missing);
	rocksdb_options_set_create_missing_column_families(db->dbopt, opt->create_if_missing);
	rocksdb_options_set_db_write_buffer_size(db->dbopt, wbuf);
	rocksdb_options_set_max_background_jobs(db->dbopt, 2);
	rocksdb_options_set_keep_log_file_num(db->dbopt, 4);
	rocksdb_options_set_max_log_file_size(db->dbopt, 8u << 20);
	rocksdb_options_set_wal_bytes_per_sync(db->dbopt, 0);
	rocksdb_writeoptions_set_sync(db->wopt_sync, 1);
	rocksdb_writeoptions_set_sync(db->wopt_async, 0);
	return 0;
}

static void kv_free_handles(struct kv_db *db)
{
	for (unsigned i = 0; i < db->nhandles; i++)
		if (db->handles && db->handles[i])
			rocksdb_column_family_handle_destroy(db->handles[i]);
	free(db->handles);
	db->handles = NULL;
	db->nhandles = 0;
}

static void kv_free(struct kv_db *db)
{
	kv_free_handles(db);
	if (db->db)
		rocksdb_close(db->db);
	if (db->cfopt_plain)
		rocksdb_options_destroy(db->cfopt_plain);
	if (db->cfopt_bloom)
		rocksdb_options_destroy(db->cfopt_bloom);
	if (db->dbopt)
		rocksdb_options_destroy(db->dbopt);
	if (db->ropt)
		rocksdb_readoptions_destroy(db->ropt);
	if (db->wopt_sync)
		rocksdb_writeoptions_destroy(db->wopt_sync);
	if (db->wopt_async)
		rocksdb_writeoptions_destroy(db->wopt_async);
	if (db->cache)
		rocksdb_cache_destroy(db->cache);
	free(db);
}

static bool kv_name_listed(const struct kv_cf_desc *cfs, unsigned ncfs, const char *name)
{
	for (unsigned i = 0; i < ncfs; i++)
		if (strcmp(cfs[i].name, name) == 0)
			return true;
	return false;
}

/*
 * Fills names/opts with the caller's column families, then "default" if
 * not listed, then any others already in the database.  Returns the count.
 */
static unsigned kv_collect_cfs(struct kv_db *db, const char *path, const struct kv_cf_desc *cfs,
			       unsigned ncfs, const char **names, const rocksdb_options_t **opts,
			       char ***disk, size_t *ndisk)
{
	unsigned n = 0;
	char *err = NULL;

	for (unsigned i = 0; i < ncfs; i++) {
		names[n] = cfs[i].name;
		opts[n++] = cfs[i].bloom ? db->cfopt_bloom : db->cfopt_plain;
	}
	if (!kv_name_listed(cfs, ncfs, "default")) {
		names[n] = "default";
		opts[n++] = db->cfopt_plain;
	}
	*disk = rocksdb_list_column_families(db->dbopt, path, ndisk, &err);
	if (err) {
		/* No database yet: nothing more to open.  The (empty) list is
		 * still allocated and freed by the caller. */
		rocksdb_free(err);
		*ndisk = 0;
	}
	for (size_t i = 0; i < *ndisk && n < 2 * KV_MAX_CFS; i++) {
		bool known = false;

		for (unsigned j = 0; j < n; j++)
			known = known || strcmp(names[j], (*disk)[i]) == 0;
		if (known)
			continue;
		log_info("kv: %s: opening unknown column family '%s'", path, (*disk)[i]);
		names[n] = (*disk)[i];
		opts[n++] = db->cfopt_plain;
	}
	return n;
}

static int kv_open_db(struct kv_db *db, const char *path, const struct kv_cf_desc *cfs,
		      unsigned ncfs)
{
	const char *names[2 * KV_MAX_CFS + 1];
	const rocksdb_options_t *opts[2 * KV_MAX_CFS + 1];
	char **disk = NULL;
	size_t ndisk = 0;
	char *err = NULL;
	unsigned n;
	int rc = 0;

	n = kv_collect_cfs(db, path, cfs, ncfs, names, opts, &disk, &ndisk);
	db->handles = calloc(n, sizeof(*db->handles));
	if (!db->handles) {
		rc = -ENOMEM;
		goto out_list;
	}
	db->db =
	    rocksdb_open_column_families(db->dbopt, path, (int)n, names, opts, db->handles, &err);
	if (err) {
		free(db->handles);
		db->handles = NULL;
		rc = kv_error(err, "open");
		goto out_list;
	}
	db->nhandles = n;
out_list:
	if (disk)
		rocksdb_list_column_families_destroy(disk, ndisk);
	return rc;
}

int kv_open(const char *path, const struct kv_options *opt, const struct kv_cf_desc *cfs,
	    unsigned ncfs, struct kv_db **out)
{
	struct kv_db *db;
	int rc;

	*out = NULL;
	if (!path || !opt || (!cfs && ncfs) || ncfs > KV_MAX_CFS)
		return -EINVAL;
	for (unsigned i = 0; i < ncfs; i++)
		if (!cfs[i].name || !cfs[i].name[0])
			return -EINVAL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->ncfs = ncfs;
	rc = kv_make_options(db, opt);
	if (rc)
		goto fail;
	rc = kv_open_db(db, path, cfs, ncfs);
	if (rc)
		goto fail;
	*out = db;
	return 0;
fail:
	kv_free(db);
	return rc;
}

void kv_close(struct kv_db *db)
{
	if (db)
		kv_free(db);
}

int kv_get(struct kv_db *db, unsigned cf, const void *key, size_t klen, void *buf, size_t cap,
	   size_t *vlen)
{
	rocksdb_pinnableslice_t *ps;
	const char *v;
	char *err = NULL;
	size_t n;

	if (cf >= db->ncfs)
		return -EINVAL;
	ps = rocksdb_get_pinned_cf(db->db, db->ropt, db->handles[cf], key, klen, &err);
	if (err)
		return kv_error(err, "get");
	if (!ps)
		return -ENOENT;
	v = rocksdb_pinnableslice_value(ps, &n);
	if (buf && cap)
		memcpy(buf, v, n < cap ? n : cap);
	*vlen = n;
	rocksdb_pinnableslice_destroy(ps);
	return 0;
}

struct kv_batch *kv_batch_new(struct kv_db *db)
{
	struct kv_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->wb = rocksdb_writebatch_create();
	if (!b->wb) {
		free(b);
		return NULL;
	}
	b->db = db;
	return b;
}

void kv_batch_free(struct kv_batch *b)
{
	if (!b)
		return;
	rocksdb_writebatch_destroy(b->wb);
	free(b);
}

void kv_batch_clear(struct kv_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
	b->count = 0;
	b->bad_cf = false;
}

unsigned kv_batch_count(const struct kv_batch *b)
{
	return b->count;
}

void kv_batch_put(struct kv_batch *b, unsigned cf, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	if (cf >= b->db->ncfs) {
		b->bad_cf = true;
		return;
	}
	rocksdb_writebatch_put_cf(b->wb, b->db->handles[cf], key, klen, val, vlen);
	b->count++;
}

void kv_batch_del(struct kv_batch *b, unsigned cf, const void *key, size_t klen)
{
	if (cf >= b->db->ncfs) {
		b->bad_cf = true;
		return;
	}
	rocksdb_writebatch_delete_cf(b->wb, b->db->handles[cf], key, klen);
	b->count++;
}

int kv_write(struct kv_db *db, struct kv_batch *b, bool sync)
{
	char *err = NULL;

	if (b->bad_cf || b->db != db) {
		log_error("kv: write: batch names a bad column family or another database");
		return -EINVAL;
	}
	if (b->count == 0)
		return 0;
	rocksdb_write(db->db, sync ? db->wopt_sync : db->wopt_async, b->wb, &err);
	if (err)
		return kv_error(err, "write");
	return 0;
}

int kv_sync_wal(struct kv_db *db)
{
	char *err = NULL;

	rocksdb_flush_wal(db->db, 1, &err);
	if (err)
		return kv_error(err, "sync WAL");
	return 0;
}

/* Smallest key greater than every key starting with p: p + 1 at its last
 * byte that is not 0xff, shorter.  Returns its length, 0 if none exists. */
static size_t kv_prefix_successor(uint8_t *p, size_t n)
{
	while (n > 0) {
		if (p[n - 1] != 0xff) {
			p[n - 1]++;
			return n;
		}
		n--;
	}
	return 0;
}

struct kv_iter *kv_iter_new(struct kv_db *db, unsigned cf, const void *prefix, size_t plen)
{
	struct kv_iter *it;
	size_t blen;

	if (cf >= db->ncfs) {
		log_error("kv: iterator on bad column family %u", cf);
		return NULL;
	}
	it = calloc(1, sizeof(*it) + 2 * plen + 1);
	if (!it)
		return NULL;
	it->prefix = (uint8_t *)(it + 1);
	it->plen = plen;
	it->ropt = rocksdb_readoptions_create();
	if (!it->ropt) {
		free(it);
		return NULL;
	}
	if (plen) {
		memcpy(it->prefix, prefix, plen);
		memcpy(it->prefix + plen, prefix, plen);
		blen = kv_prefix_successor(it->prefix + plen, plen);
		/* The bound is not copied by RocksDB: it lives in *it. */
		if (blen)
			rocksdb_readoptions_set_iterate_upper_bound(
			    it->ropt, (const char *)it->prefix + plen, blen);
	}
	it->it = rocksdb_create_iterator_cf(db->db, it->ropt, db->handles[cf]);
	if (!it->it) {
		rocksdb_readoptions_destroy(it->ropt);
		free(it);
		return NULL;
	}
	if (plen)
		rocksdb_iter_seek(it->it, (const char *)it->prefix, plen);
	else
		rocksdb_iter_seek_to_first(it->it);
	return it;
}

void kv_iter_free(struct kv_iter *it)
{
	if (!it)
		return;
	rocksdb_iter_destroy(it->it);
	rocksdb_readoptions_destroy(it->ropt);
	free(it);
}

void kv_iter_seek(struct kv_iter *it, const void *key, size_t klen)
{
	size_t n = klen < it->plen ? klen : it->plen;
	int c = n ? memcmp(key, it->prefix, n) : 0;

	/* Never before the prefix: keys below it are not ours. */
	if (c < 0 || (c == 0 && klen < it->plen))
		rocksdb_iter_seek(it->it, (const char *)it->prefix, it->plen);
	else
		rocksdb_iter_seek(it->it, key, klen);
}

bool kv_iter_valid(const struct kv_iter *it)
{
	size_t klen;
	const char *k;

	if (!rocksdb_iter_valid(it->it))
		return false;
	/* The upper bound already stops us; this covers an all-0xff prefix. */
	k = rocksdb_iter_key(it->it, &klen);
	return klen >= it->plen && memcmp(k, it->prefix, it->plen) == 0;
}

void kv_iter_next(struct kv_iter *it)
{
	rocksdb_iter_next(it->it);
}

const void *kv_iter_key(const struct kv_iter *it, size_t *klen)
{
	return rocksdb_iter_key(it->it, klen);
}

const void *kv_iter_value(const struct kv_iter *it, size_t *vlen)
{
	return rocksdb_iter_value(it->it, vlen);
}

int kv_iter_status(const struct kv_iter *it)
{
	char *err = NULL;

	rocksdb_iter_get_error(it->it, &err);
	if (err)
		return kv_error(err, "iterate");
	return 0;
}
