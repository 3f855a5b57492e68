/*
 * ns.c - the namespace engine's core: opening a shard's database (format
 * stamp, root directory, counters, stale orphans), transactions over the
 * striped inode locks, inode number and generation allocation, and the
 * attribute and open/close operations.  Entry operations are in
 * ns_entry.c, readdir and rename in ns_dir.c, xattrs in ns_xattr.c, the
 * cross-shard primitives in ns_xshard.c.
 *
 * Threads: see ns.h.  struct ns fields are set at open and then read-only,
 * except those documented with their lock in ns_int.h.
 */
#include "mds/ns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "mds/ns_int.h"
#include "proto/wire.h"

/* ---- small helpers ---- */

void ns_now(struct ns_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
}

uint16_t ns_shard(const struct ns *ns)
{
	return ns->shard;
}

uint64_t ns_name_hash(uint64_t id, const char *name, size_t nlen)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a, then a final mix */

	for (int i = 0; i < 8; i++) {
		h ^= (uint8_t)(id >> (8 * i));
		h *= UINT64_C(0x100000001b3);
	}
	for (size_t i = 0; i < nlen; i++) {
		h ^= (uint8_t)name[i];
		h *= UINT64_C(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

uint16_t ns_dir_shard(uint64_t parent, const char *name, size_t nlen, uint16_t nshards)
{
	return nshards ? (uint16_t)(ns_name_hash(parent, name, nlen) % nshards) : 0;
}

uint64_t ns_new_generation(struct ns *ns)
{
	uint32_t lo = atomic_fetch_add_explicit(&ns->gen_next, 1, memory_order_relaxed);

	return ((uint64_t)ns->boot << 32) | lo;
}

/* ---- transactions and striped locks ---- */

int ns_txn_begin(struct ns *ns, struct ns_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->ns = ns;
	ns_now(&t->now);
	t->b = kv_batch_new(ns->db);
	return t->b ? 0 : -ENOMEM;
}

static void ns_stripes_lock(struct ns_txn *t)
{
	for (unsigned i = 0; i < t->nlocks; i++)
		pthread_mutex_lock(&t->ns->stripes[t->locks[i]].lock);
}

void ns_txn_unlock(struct ns_txn *t)
{
	for (unsigned i = t->nlocks; i > 0; i--)
		pthread_mutex_unlock(&t->ns->stripes[t->locks[i - 1]].lock);
	t->nlocks = 0;
}

/* Inserts stripe s into the sorted set; returns false if it was there. */
static bool ns_lockset_add(struct ns_txn *t, uint16_t s)
{
	unsigned i = 0;

	while (i < t->nlocks && t->locks[i] < s)
		i++;
	if (i < t->nlocks && t->locks[i] == s)
		return false;
	memmove(&t->locks[i + 1], &t->locks[i], (t->nlocks - i) * sizeof(t->locks[0]));
	t->locks[i] = s;
	t->nlocks++;
	return true;
}

void ns_txn_lock(struct ns_txn *t, const uint64_t *inos, unsigned n)
{
	ns_txn_unlock(t);
	for (unsigned i = 0; i < n; i++)
		if (inos[i] && t->nlocks < NS_TXN_MAXLOCK)
			ns_lockset_add(t, (uint16_t)ns_stripe_of(inos[i]));
	ns_stripes_lock(t);
}

bool ns_txn_holds(const struct ns_txn *t, uint64_t ino)
{
	unsigned s = ns_stripe_of(ino);

	for (unsigned i = 0; i < t->nlocks; i++)
		if (t->locks[i] == s)
			return true;
	return false;
}

bool ns_txn_lock_add(struct ns_txn *t, const uint64_t *inos, unsigned n)
{
	uint16_t want[NS_TXN_MAXLOCK];
	unsigned nwant = 0;

	for (unsigned i = 0; i < n && nwant < NS_TXN_MAXLOCK; i++) {
		uint16_t s = (uint16_t)ns_stripe_of(inos[i]);
		unsigned j = nwant;

		if (!inos[i] || ns_txn_holds(t, inos[i]))
			continue;
		while (j > 0 && want[j - 1] > s) /* insertion sort, no duplicates */
			j--;
		if (j > 0 && want[j - 1] == s)
			continue;
		memmove(&want[j + 1], &want[j], (nwant - j) * sizeof(want[0]));
		want[j] = s;
		nwant++;
	}
	if (nwant == 0)
		return true;
	if (t->nlocks + nwant <= NS_TXN_MAXLOCK &&
	    (t->nlocks == 0 || want[0] > t->locks[t->nlocks - 1])) {
		/* All above what we hold: take them in order, keep the rest. */
		for (unsigned i = 0; i < nwant; i++) {
			pthread_mutex_lock(&t->ns->stripes[want[i]].lock);
			t->locks[t->nlocks++] = want[i];
		}
		return true;
	}
	/* Out of order: release everything, take exactly these in order. */
	ns_txn_lock(t, inos, n);
	return false;
}

int ns_txn_commit(struct ns_txn *t, bool sync)
{
	struct ns_stripe *st = NULL;
	uint8_t key[KEYS_META_STRIPE_LEN], val[16];
	int rc;

	if ((t->d_inodes || t->d_bytes) && t->nlocks) {
		/* Any held stripe may carry the change: its lock is ours. */
		st = &t->ns->stripes[t->locks[0]];
		atomic_fetch_add_explicit(&st->inodes, t->d_inodes, memory_order_relaxed);
		atomic_fetch_add_explicit(&st->bytes, t->d_bytes, memory_order_relaxed);
		keys_meta_stripe(key, t->locks[0]);
		wire_put_le64(val, (uint64_t)atomic_load(&st->inodes));
		wire_put_le64(val + 8, (uint64_t)atomic_load(&st->bytes));
		kv_batch_put(t->b, KEYS_CF_META, key, sizeof(key), val, sizeof(val));
	}
	rc = kv_write(t->ns->db, t->b, sync);
	if (rc && st) {
		atomic_fetch_sub_explicit(&st->inodes, t->d_inodes, memory_order_relaxed);
		atomic_fetch_sub_explicit(&st->bytes, t->d_bytes, memory_order_relaxed);
	}
	if (!rc && t->purge_queued)
		t->purge_notify = true;
	t->purge_queued = false;
	t->d_inodes = 0;
	t->d_bytes = 0;
	return rc;
}

void ns_txn_end(struct ns_txn *t)
{
	if (t->nlocks)
		ns_txn_unlock(t);
	if (t->rename_locked) {
		pthread_mutex_unlock(&t->ns->rename_lock);
		t->rename_locked = false;
	}
	kv_batch_free(t->b);
	t->b = NULL;
	/* Locks released: the callback may take its own. */
	if (t->purge_notify && t->ns->purge_queued)
		t->ns->purge_queued(t->ns->cb_arg);
	t->purge_notify = false;
}

/* ---- persisted counters: inode numbers, op ids ---- */

static int ns_meta_get_u64(struct ns *ns, const char *name, uint64_t *v)
{
	uint8_t buf[8];
	size_t len;
	int rc = kv_get(ns->db, KEYS_CF_META, name, strlen(name), buf, sizeof(buf), &len);

	if (rc)
		return rc;
	if (len != 8) {
		log_error("ns: meta key '%s': bad length %zu", name, len);
		return -EIO;
	}
	*v = wire_get_le64(buf);
	return 0;
}

static int ns_meta_put_u64(struct ns *ns, const char *name, uint64_t v, bool sync)
{
	struct kv_batch *b = kv_batch_new(ns->db);
	uint8_t buf[8];
	int rc;

	if (!b)
		return -ENOMEM;
	wire_put_le64(buf, v);
	kv_batch_put(b, KEYS_CF_META, name, strlen(name), buf, sizeof(buf));
	rc = kv_write(ns->db, b, sync);
	kv_batch_free(b);
	return rc;
}

/*
 * Hands out *next++ from a block whose end (*hwm) is persisted, synced,
 * before any number of it is used, so a crash never reuses one.
 */
static int ns_counter_next(struct ns *ns, const char *name, uint64_t *next, uint64_t *hwm,
			   uint64_t block, uint64_t *out)
{
	int rc = 0;

	pthread_mutex_lock(&ns->alloc_lock);
	if (*next >= *hwm) {
		uint64_t nh = *hwm + block;

		if (nh > NS_INO_MASK + 1) {
			rc = -ENOSPC;
			goto out;
		}
		rc = ns_meta_put_u64(ns, name, nh, true);
		if (rc)
			goto out;
		*hwm = nh;
	}
	*out = (*next)++;
out:
	pthread_mutex_unlock(&ns->alloc_lock);
	return rc;
}

int ns_alloc_ino(struct ns *ns, uint64_t *ino)
{
	uint64_t n = 0;
	int rc =
	    ns_counter_next(ns, KEYS_META_INO_HWM, &ns->ino_next, &ns->ino_hwm, NS_INO_BLOCK, &n);

	if (rc == -ENOSPC)
		log_error("ns: shard %u: inode numbers exhausted", ns->shard);
	*ino = ns_ino_make(ns->shard, n);
	return rc;
}

int ns_op_id_new(struct ns *ns, uint64_t *op_id)
{
	uint64_t n = 0;
	int rc = ns_counter_next(ns, KEYS_META_OP_HWM, &ns->op_next, &ns->op_hwm, NS_OP_BLOCK, &n);

	*op_id = ns_ino_make(ns->shard, n);
	return rc;
}

/* ---- open counts (under the ino's stripe lock) ---- */

static struct ns_open_ent **ns_open_find(struct ns *ns, uint64_t ino)
{
	struct ns_open_ent **pp = &ns->stripes[ns_stripe_of(ino)].open;

	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

uint32_t ns_open_count(struct ns *ns, uint64_t ino)
{
	struct ns_open_ent *e = *ns_open_find(ns, ino);

	return e ? e->count : 0;
}

static int ns_open_inc(struct ns *ns, uint64_t ino)
{
	struct ns_open_ent **pp = ns_open_find(ns, ino);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
		(*pp)->ino = ino;
	}
	(*pp)->count++;
	return 0;
}

/* Returns the count left, or -EBADF if ino was not open. */
static int ns_open_dec(struct ns *ns, uint64_t ino)
{
	struct ns_open_ent **pp = ns_open_find(ns, ino), *e = *pp;

	if (!e)
		return -EBADF;
	if (--e->count > 0)
		return (int)(e->count > INT32_MAX ? INT32_MAX : e->count);
	*pp = e->next;
	free(e);
	return 0;
}

/* ---- opening and closing a shard ---- */

static int ns_init_db(struct ns *ns)
{
	uint8_t fmt[3] = {NS_FORMAT, (uint8_t)ns->shard, (uint8_t)(ns->shard >> 8)};
	uint8_t v[8];
	struct ns_txn t;
	struct ns_inode root;
	uint64_t root_ino = NS_ROOT_INO;
	int rc;

	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	kv_batch_put(t.b, KEYS_CF_META, KEYS_META_FORMAT, strlen(KEYS_META_FORMAT), fmt,
		     sizeof(fmt));
	wire_put_le64(v, NS_INO_FIRST);
	kv_batch_put(t.b, KEYS_CF_META, KEYS_META_INO_HWM, strlen(KEYS_META_INO_HWM), v, 8);
	wire_put_le64(v, 1);
	kv_batch_put(t.b, KEYS_CF_META, KEYS_META_OP_HWM, strlen(KEYS_META_OP_HWM), v, 8);
	wire_put_le64(v, 0);
	kv_batch_put(t.b, KEYS_CF_META, KEYS_META_BOOT, strlen(KEYS_META_BOOT), v, 8);
	if (ns->shard == 0) {
		memset(&root, 0, sizeof(root));
		root.a.ino = NS_ROOT_INO;
		root.a.mode = S_IFDIR | 0755;
		root.a.nlink = 2;
		root.a.atime = root.a.mtime = root.a.ctime = t.now;
		root.a.parent = NS_ROOT_INO;
		root.next_seq = 3;
		ns_txn_lock(&t, &root_ino, 1);
		ns_inode_put(&t, &root);
		t.d_inodes = 1;
	}
	rc = ns_txn_commit(&t, true);
	if (rc == 0)
		log_info("ns: initialized shard %u database", ns->shard);
out:
	ns_txn_end(&t);
	return rc;
}

/* Checks the format stamp, initializing a new database. */
static int ns_check_format(struct ns *ns, bool create)
{
	uint8_t fmt[3];
	size_t len;
	int rc;

	rc = kv_get(ns->db, KEYS_CF_META, KEYS_META_FORMAT, strlen(KEYS_META_FORMAT), fmt,
		    sizeof(fmt), &len);
	if (rc == -ENOENT) {
		if (!create) {
			log_error("ns: database has no format stamp");
			return -EINVAL;
		}
		return ns_init_db(ns);
	}
	if (rc)
		return rc;
	if (len != sizeof(fmt) || fmt[0] != NS_FORMAT) {
		log_error("ns: unknown database format %u", len ? fmt[0] : 0);
		return -EINVAL;
	}
	if ((uint16_t)(fmt[1] | fmt[2] << 8) != ns->shard) {
		log_error("ns: database belongs to shard %u, not %u", fmt[1] | fmt[2] << 8,
			  ns->shard);
		return -EINVAL;
	}
	return 0;
}

/* Loads counters; starts numbering after the persisted high-water marks. */
static int ns_load_counters(struct ns *ns)
{
	uint64_t boot = 0;
	struct kv_iter *it;
	int rc;

	rc = ns_meta_get_u64(ns, KEYS_META_INO_HWM, &ns->ino_hwm);
	if (!rc)
		rc = ns_meta_get_u64(ns, KEYS_META_OP_HWM, &ns->op_hwm);
	if (!rc)
		rc = ns_meta_get_u64(ns, KEYS_META_BOOT, &boot);
	if (!rc)
		rc = ns_meta_put_u64(ns, KEYS_META_BOOT, boot + 1, true);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
	ns->ino_next = ns->ino_hwm;
	ns->op_next = ns->op_hwm;
	ns->boot = (uint32_t)(boot + 1);

	it = kv_iter_new(ns->db, KEYS_CF_META, "S", 1);
	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const uint8_t *v = kv_iter_value(it, &vlen);
		uint16_t s;

		if (keys_meta_stripe_decode(k, klen, &s) || s >= NS_STRIPES || vlen != 16) {
			log_error("ns: bad usage counter record");
			continue;
		}
		atomic_store(&ns->stripes[s].inodes, (int64_t)wire_get_le64(v));
		atomic_store(&ns->stripes[s].bytes, (int64_t)wire_get_le64(v + 8));
	}
	rc = kv_iter_status(it);
	kv_iter_free(it);
	return rc;
}

/* Deletes one orphan left by the previous run. */
static int ns_reap_one(struct ns *ns, uint64_t ino, const struct ns_options *opt)
{
	struct ns_txn t;
	struct ns_inode in;
	struct ns_drop d;
	uint8_t key[KEYS_U64_LEN];
	int rc;

	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	rc = ns_inode_get(ns, ino, &in);
	if (rc == -ENOENT || rc == -EREMOTE) {
		log_warn("ns: orphan %#llx has no inode here", (unsigned long long)ino);
		keys_u64(key, ino);
		kv_batch_del(t.b, KEYS_CF_ORPHAN, key, sizeof(key));
		rc = ns_txn_commit(&t, false);
		goto out;
	}
	if (rc)
		goto out;
	in.iflags |= NS_IF_ORPHAN;
	rc = ns_inode_delete(&t, &in);
	if (!rc)
		rc = ns_txn_commit(&t, false);
	if (!rc) {
		ns_drop_fill(&d, &in, false, true);
		log_info("ns: freed orphan %#llx (%llu bytes)", (unsigned long long)ino,
			 (unsigned long long)in.a.size);
		if (opt->orphan_freed)
			opt->orphan_freed(opt->cb_arg, &d);
	}
out:
	ns_txn_end(&t);
	return rc;
}

static int ns_reap_orphans(struct ns *ns, const struct ns_options *opt)
{
	struct kv_iter *it = kv_iter_new(ns->db, KEYS_CF_ORPHAN, NULL, 0);
	int rc = 0;

	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it) && !rc; kv_iter_next(it)) {
		size_t klen;
		const void *k = kv_iter_key(it, &klen);
		uint64_t ino;

		if (keys_u64_decode(k, klen, &ino)) {
			log_error("ns: bad orphan key");
			continue;
		}
		rc = ns_reap_one(ns, ino, opt);
	}
	if (!rc)
		rc = kv_iter_status(it);
	kv_iter_free(it);
	if (!rc)
		rc = kv_sync_wal(ns->db);
	return rc;
}

static struct ns *ns_alloc(uint16_t shard)
{
	struct ns *ns;

	if (posix_memalign((void **)&ns, 64, sizeof(*ns)))
		return NULL;
	memset(ns, 0, sizeof(*ns));
	ns->shard = shard;
	pthread_mutex_init(&ns->alloc_lock, NULL);
	pthread_mutex_init(&ns->rename_lock, NULL);
	for (unsigned i = 0; i < NS_STRIPES; i++)
		pthread_mutex_init(&ns->stripes[i].lock, NULL);
	return ns;
}

int ns_db_open(const char *path, const struct ns_options *opt, struct ns **out)
{
	struct kv_options ko = {0};
	struct ns *ns;
	int rc;

	*out = NULL;
	if (!path || !opt)
		return -EINVAL;
	ns = ns_alloc(opt->shard);
	if (!ns)
		return -ENOMEM;
	ns->purge_queued = opt->purge_queued;
	ns->cb_arg = opt->cb_arg;
	ko.create_if_missing = opt->create_if_missing;
	ko.block_cache_bytes = opt->block_cache_bytes;
	ko.write_buffer_bytes = opt->write_buffer_bytes;
	rc = kv_open(path, &ko, keys_cfs, KEYS_CF_COUNT, &ns->db);
	if (rc)
		goto fail;
	rc = ns_check_format(ns, opt->create_if_missing);
	if (!rc)
		rc = ns_load_counters(ns);
	if (!rc)
		rc = ns_reap_orphans(ns, opt);
	if (rc)
		goto fail;
	*out = ns;
	return 0;
fail:
	log_error("ns: cannot open shard %u at %s: %s", opt->shard, path, strerror(-rc));
	ns_db_close(ns);
	return rc;
}

void ns_db_close(struct ns *ns)
{
	if (!ns)
		return;
	kv_close(ns->db);
	for (unsigned i = 0; i < NS_STRIPES; i++) {
		struct ns_open_ent *e = ns->stripes[i].open, *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
		pthread_mutex_destroy(&ns->stripes[i].lock);
	}
	pthread_mutex_destroy(&ns->alloc_lock);
	pthread_mutex_destroy(&ns->rename_lock);
	free(ns);
}

int ns_sync(struct ns *ns)
{
	return kv_sync_wal(ns->db);
}

void ns_statfs(struct ns *ns, struct ns_statfs *out)
{
	int64_t inodes = 0, bytes = 0;

	for (unsigned i = 0; i < NS_STRIPES; i++) {
		inodes += atomic_load_explicit(&ns->stripes[i].inodes, memory_order_relaxed);
		bytes += atomic_load_explicit(&ns->stripes[i].bytes, memory_order_relaxed);
	}
	out->inodes = inodes > 0 ? (uint64_t)inodes : 0;
	out->bytes = bytes > 0 ? (uint64_t)bytes : 0;
}

/* ---- attributes ---- */

int ns_getattr(struct ns *ns, uint64_t ino, struct ns_attr *out)
{
	struct ns_inode in;
	int rc = ns_inode_get(ns, ino, &in);

	if (rc == 0)
		*out = in.a;
	return rc;
}

/* Fills *out for an entry whose inode lives on another shard. */
static int ns_remote_entry(uint64_t ino, uint32_t type, struct ns_attr *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = ino;
	out->mode = type;
	return -EREMOTE;
}

int ns_lookup(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, struct ns_attr *out)
{
	struct ns_inode dir, in;
	struct ns_dentry de;
	int dots = ns_name_check(name, nlen);
	int rc;

	if (dots < 0)
		return dots;
	rc = ns_inode_get(ns, parent, &dir);
	if (rc)
		return rc;
	if (!S_ISDIR(dir.a.mode))
		return -ENOTDIR;
	rc = ns_perm(cred, &dir.a, NS_MAY_EXEC);
	if (rc)
		return rc;
	if (dots == 1) {
		*out = dir.a;
		return 0;
	}
	if (dots == 2) {
		if (ns_ino_shard(dir.a.parent) != ns->shard)
			return ns_remote_entry(dir.a.parent, S_IFDIR, out);
		return ns_getattr(ns, dir.a.parent, out);
	}
	rc = ns_dentry_get(ns, parent, name, nlen, &de);
	if (rc)
		return rc;
	if (ns_ino_shard(de.ino) != ns->shard)
		return ns_remote_entry(de.ino, de.type, out);
	/* -ENOENT here: unlinked after we read the entry. */
	rc = ns_inode_get(ns, de.ino, &in);
	if (rc == 0)
		*out = in.a;
	return rc;
}

int ns_access(struct ns *ns, const struct ns_cred *cred, uint64_t ino, int mask)
{
	struct ns_inode in;
	int rc;

	if (mask & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	rc = ns_inode_get(ns, ino, &in);
	if (rc || mask == F_OK)
		return rc;
	return ns_perm(cred, &in.a, mask);
}

static int ns_setattr_size(const struct ns_cred *cred, struct ns_txn *t, struct ns_inode *in,
			   const struct ns_setattr *sa)
{
	int rc;

	if (S_ISDIR(in->a.mode))
		return -EISDIR;
	if (!S_ISREG(in->a.mode))
		return -EINVAL;
	if (sa->size > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (!(sa->valid & NS_SET_HANDLE)) {
		rc = ns_perm(cred, &in->a, NS_MAY_WRITE);
		if (rc)
			return rc;
	}
	t->d_bytes += (int64_t)sa->size - (int64_t)in->a.size;
	in->a.size = sa->size;
	in->a.mtime = t->now;
	if (cred->uid != 0)
		ns_perm_kill_suid(in);
	return 0;
}

static int ns_setattr_times(const struct ns_cred *cred, struct ns_txn *t, struct ns_inode *in,
			    const struct ns_setattr *sa)
{
	const uint32_t expl = NS_SET_ATIME | NS_SET_MTIME | NS_SET_CTIME;
	const uint32_t now = NS_SET_ATIME_NOW | NS_SET_MTIME_NOW;

	if ((sa->valid & expl) && !ns_cred_owns(cred, &in->a))
		return -EPERM;
	if ((sa->valid & now) && !ns_cred_owns(cred, &in->a) && ns_perm(cred, &in->a, NS_MAY_WRITE))
		return -EACCES;
	if (((sa->valid & NS_SET_ATIME) && sa->atime.nsec >= 1000000000u) ||
	    ((sa->valid & NS_SET_MTIME) && sa->mtime.nsec >= 1000000000u) ||
	    ((sa->valid & NS_SET_CTIME) && sa->ctime.nsec >= 1000000000u))
		return -EINVAL;
	if (sa->valid & NS_SET_ATIME_NOW)
		in->a.atime = t->now;
	else if (sa->valid & NS_SET_ATIME)
		in->a.atime = sa->atime;
	if (sa->valid & NS_SET_MTIME_NOW)
		in->a.mtime = t->now;
	else if (sa->valid & NS_SET_MTIME)
		in->a.mtime = sa->mtime;
	in->a.ctime = (sa->valid & NS_SET_CTIME) ? sa->ctime : t->now;
	return 0;
}

static int ns_setattr_layout(const struct ns_cred *cred, struct ns_inode *in,
			     const struct ns_setattr *sa)
{
	if (!ns_cred_owns(cred, &in->a))
		return -EPERM;
	if (!S_ISREG(in->a.mode) && !S_ISDIR(in->a.mode))
		return -EINVAL;
	if (S_ISREG(in->a.mode) && in->a.size > 0)
		return -EBUSY;
	in->a.layout = sa->layout;
	return 0;
}

int ns_setattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const struct ns_setattr *sa,
	       bool sync, struct ns_attr *out)
{
	struct ns_txn t;
	struct ns_inode in;
	int rc;

	if (sa->valid & ~((NS_SET_LAYOUT << 1) - 1))
		return -EINVAL;
	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	rc = ns_inode_get(ns, ino, &in);
	if (rc)
		goto out;
	rc = ns_perm_setattr_ids(cred, &in, sa);
	if (!rc && (sa->valid & NS_SET_SIZE))
		rc = ns_setattr_size(cred, &t, &in, sa);
	if (!rc && (sa->valid & NS_SET_LAYOUT))
		rc = ns_setattr_layout(cred, &in, sa);
	if (!rc)
		rc = ns_setattr_times(cred, &t, &in, sa);
	if (rc)
		goto out;
	ns_inode_put(&t, &in);
	rc = ns_txn_commit(&t, sync);
	if (!rc && out)
		*out = in.a;
out:
	ns_txn_end(&t);
	return rc;
}

/* ---- open / close ---- */

static int ns_open_check(const struct ns_cred *cred, const struct ns_inode *in, int flags)
{
	int acc = flags & O_ACCMODE;
	int mask = 0;

	if (S_ISLNK(in->a.mode))
		return -ELOOP;
	if (acc == O_RDONLY || acc == O_RDWR)
		mask |= NS_MAY_READ;
	if (acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC))
		mask |= NS_MAY_WRITE;
	if (S_ISDIR(in->a.mode) && (mask & NS_MAY_WRITE))
		return -EISDIR;
	return ns_perm(cred, &in->a, mask);
}

int ns_open(struct ns *ns, const struct ns_cred *cred, uint64_t ino, int flags, bool sync,
	    struct ns_attr *out)
{
	struct ns_txn t;
	struct ns_inode in;
	int rc;

	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	rc = ns_inode_get(ns, ino, &in);
	if (!rc)
		rc = ns_open_check(cred, &in, flags);
	if (rc)
		goto out;
	if ((flags & O_TRUNC) && S_ISREG(in.a.mode)) {
		t.d_bytes -= (int64_t)in.a.size;
		in.a.size = 0;
		in.a.mtime = in.a.ctime = t.now;
		if (cred->uid != 0)
			ns_perm_kill_suid(&in);
		ns_inode_put(&t, &in);
		rc = ns_txn_commit(&t, sync);
		if (rc)
			goto out;
	}
	rc = ns_open_inc(ns, ino);
	if (!rc && out)
		*out = in.a;
out:
	ns_txn_end(&t);
	return rc;
}

int ns_close(struct ns *ns, uint64_t ino, bool written, uint64_t size, const struct ns_time *mtime,
	     bool sync, struct ns_drop *drop)
{
	struct ns_txn t;
	struct ns_inode in;
	int left, rc;

	if (drop)
		memset(drop, 0, sizeof(*drop));
	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	if (ns_open_count(ns, ino) == 0) {
		rc = -EBADF;
		goto out;
	}
	rc = ns_inode_get(ns, ino, &in);
	if (rc)
		goto out;
	if (written && S_ISREG(in.a.mode)) {
		if (size > (uint64_t)INT64_MAX)
			size = (uint64_t)INT64_MAX;
		if (size > in.a.size) {
			t.d_bytes += (int64_t)(size - in.a.size);
			in.a.size = size;
		}
		in.a.mtime = mtime ? *mtime : t.now;
		in.a.ctime = t.now;
	}
	left = (int)ns_open_count(ns, ino) - 1;
	if (left == 0 && (in.iflags & NS_IF_ORPHAN)) {
		rc = ns_inode_delete(&t, &in);
		ns_drop_fill(drop, &in, false, true);
	} else if (written) {
		ns_inode_put(&t, &in);
	}
	if (!rc)
		rc = ns_txn_commit(&t, sync);
	if (!rc)
		ns_open_dec(ns, ino);
	else if (drop)
		memset(drop, 0, sizeof(*drop));
out:
	ns_txn_end(&t);
	return rc;
}
