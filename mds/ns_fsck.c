/*
 * ns_fsck.c - what `cairnctl fsck` needs from one shard (ns.h): ordered
 * scans of its inodes and directory entries, and the guarded repairs
 * (remove an entry, set a link count or a parent, delete an inode).  The
 * cluster-wide reasoning (which inode is an orphan, what its link count
 * should be) is the checker's (client/fsck.c); these functions only change
 * one record when it still is what the checker saw.
 *
 * Threads: as every ns_* call.  Scans read an iterator snapshot and take no
 * lock, except a stripe lock for an inode's open count; repairs lock the
 * stripe of what they change (ns_int.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"

/* ---- scans ---- */

static void ns_scan_fill(struct ns *ns, const struct ns_inode *in, struct ns_scan_inode *out)
{
	pthread_mutex_t *lock = &ns->stripes[ns_stripe_of(in->a.ino)].lock;

	memset(out, 0, sizeof(*out));
	out->ino = in->a.ino;
	out->mode = in->a.mode;
	out->nlink = in->a.nlink;
	out->parent = S_ISDIR(in->a.mode) ? in->a.parent : 0;
	out->size = in->a.size;
	out->rm_op = S_ISDIR(in->a.mode) ? in->rm_op : 0;
	if (in->iflags & NS_IF_ORPHAN)
		out->state |= NS_SCAN_ORPHAN;
	pthread_mutex_lock(lock);
	if (ns_open_count(ns, in->a.ino) > 0)
		out->state |= NS_SCAN_OPEN;
	pthread_mutex_unlock(lock);
}

int ns_scan_inodes(struct ns *ns, uint64_t after, uint32_t max, ns_scan_inode_fn fn, void *arg,
		   bool *eof)
{
	uint8_t key[KEYS_U64_LEN];
	struct ns_scan_inode si;
	struct ns_inode in;
	struct kv_iter *it;
	uint32_t n = 0;
	int rc = 0;

	*eof = false;
	if (after == UINT64_MAX) {
		*eof = true;
		return 0;
	}
	it = kv_iter_new(ns->db, KEYS_CF_INODE, NULL, 0);
	if (!it)
		return -ENOMEM;
	kv_iter_seek(it, key, keys_u64(key, after + 1));
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const void *v = kv_iter_value(it, &vlen);
		uint64_t ino;

		if (max && n >= max)
			goto out;
		if (keys_u64_decode(k, klen, &ino)) {
			log_error("ns: fsck: bad inode key (%zu bytes)", klen);
			rc = -EIO;
			goto out;
		}
		rc = ns_inode_decode(ino, v, vlen, &in);
		if (rc)
			goto out;
		ns_scan_fill(ns, &in, &si);
		rc = fn(arg, &si);
		if (rc)
			goto out;
		n++;
	}
	rc = kv_iter_status(it);
	*eof = rc == 0;
out:
	kv_iter_free(it);
	return rc < 0 ? rc : 0;
}

/* Positions it after (parent, name); returns 0 or -EINVAL. */
static int ns_scan_seek_after(struct kv_iter *it, uint64_t parent, const char *name, size_t nlen)
{
	uint8_t key[KEYS_NAMED_MAX];
	size_t klen, curlen;
	const void *cur;

	if (nlen > NS_NAME_MAX)
		return -EINVAL;
	klen = keys_named(key, parent, name, nlen);
	kv_iter_seek(it, key, klen);
	if (!kv_iter_valid(it))
		return 0;
	cur = kv_iter_key(it, &curlen);
	if (curlen == klen && memcmp(cur, key, klen) == 0)
		kv_iter_next(it);
	return 0;
}

/* One dentry record to a scan record; -EIO when corrupt. */
static int ns_scan_dentry_of(const void *k, size_t klen, const void *v, size_t vlen,
			     struct ns_scan_dentry *sd)
{
	struct ns_dentry de;

	if (keys_named_decode(k, klen, &sd->parent, &sd->name, &sd->nlen) || sd->nlen == 0) {
		log_error("ns: fsck: bad dentry key (%zu bytes)", klen);
		return -EIO;
	}
	if (ns_dentry_decode(v, vlen, &de))
		return -EIO;
	sd->ino = de.ino;
	sd->type = de.type;
	sd->pin = de.pin;
	return 0;
}

int ns_scan_dentries(struct ns *ns, uint64_t after_parent, const char *after_name, size_t alen,
		     uint32_t max, ns_scan_dentry_fn fn, void *arg, bool *eof)
{
	struct ns_scan_dentry sd;
	struct kv_iter *it;
	uint32_t n = 0;
	int rc;

	*eof = false;
	it = kv_iter_new(ns->db, KEYS_CF_DENTRY, NULL, 0);
	if (!it)
		return -ENOMEM;
	rc = ns_scan_seek_after(it, after_parent, after_name, alen);
	if (rc)
		goto out;
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const void *v = kv_iter_value(it, &vlen);

		if (max && n >= max)
			goto out;
		rc = ns_scan_dentry_of(k, klen, v, vlen, &sd);
		if (!rc)
			rc = fn(arg, &sd);
		if (rc)
			goto out;
		n++;
	}
	rc = kv_iter_status(it);
	*eof = rc == 0;
out:
	kv_iter_free(it);
	return rc < 0 ? rc : 0;
}

/* ---- repairs ---- */

int ns_fsck_remove_dentry(struct ns *ns, uint64_t parent, const char *name, size_t nlen,
			  uint64_t ino)
{
	struct ns_inode dir;
	struct ns_dentry de;
	struct ns_txn t;
	int rc = ns_name_check(name, nlen);

	if (rc)
		return rc < 0 ? rc : -EINVAL;
	if (ns_ino_shard(parent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &parent, 1);
	rc = ns_dentry_get(ns, parent, name, nlen, &de);
	if (!rc && de.ino != ino)
		rc = -ESTALE;
	if (rc)
		goto out;
	ns_dentry_del(&t, parent, name, nlen, &de);
	rc = ns_inode_get(ns, parent, &dir);
	if (rc == 0 && S_ISDIR(dir.a.mode)) {
		ns_dir_touch(&t, &dir, -1);
		if (S_ISDIR(de.type) && dir.a.nlink > 2)
			dir.a.nlink--;
		ns_inode_put(&t, &dir);
	} else if (rc && rc != -ENOENT) {
		goto out;
	}
	rc = ns_txn_commit(&t, true);
	if (!rc)
		log_warn("ns: fsck: removed entry %#llx/%.*s -> %#llx", (unsigned long long)parent,
			 (int)nlen, name, (unsigned long long)ino);
out:
	ns_txn_end(&t);
	return rc;
}

/* Locks ino and reads it, checking it is this shard's. */
static int ns_fsck_begin(struct ns *ns, struct ns_txn *t, uint64_t ino, struct ns_inode *in)
{
	int rc;

	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, t);
	if (rc)
		return rc;
	ns_txn_lock(t, &ino, 1);
	return ns_inode_get(ns, ino, in);
}

int ns_fsck_set_nlink(struct ns *ns, uint64_t ino, uint32_t expected, uint32_t nlink)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc = ns_fsck_begin(ns, &t, ino, &in);

	if (rc)
		goto out;
	if (in.a.nlink != expected) {
		rc = -ESTALE;
		goto out;
	}
	if (nlink == 0 || nlink > NS_LINK_MAX || (S_ISDIR(in.a.mode) && nlink < 2)) {
		rc = -EINVAL;
		goto out;
	}
	in.a.nlink = nlink;
	in.a.ctime = t.now;
	ns_inode_put(&t, &in);
	rc = ns_txn_commit(&t, true);
	if (!rc)
		log_warn("ns: fsck: link count of %#llx %u -> %u", (unsigned long long)ino, expected,
			 nlink);
out:
	ns_txn_end(&t);
	return rc;
}

/* Queues the deletion of every entry of directory dir (and its index). */
static int ns_fsck_empty_dir(struct ns_txn *t, uint64_t dir, uint64_t *count)
{
	uint8_t prefix[KEYS_U64_LEN];
	struct ns_scan_dentry sd;
	struct ns_dentry de;
	struct kv_iter *it;
	int rc = 0;

	*count = 0;
	keys_u64(prefix, dir);
	it = kv_iter_new(t->ns->db, KEYS_CF_DENTRY, prefix, sizeof(prefix));
	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it) && !rc; kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const void *v = kv_iter_value(it, &vlen);

		if (keys_named_decode(k, klen, &sd.parent, &sd.name, &sd.nlen) ||
		    ns_dentry_decode(v, vlen, &de)) {
			log_error("ns: fsck: corrupt entry in %#llx", (unsigned long long)dir);
			rc = -EIO;
			break;
		}
		ns_dentry_del(t, dir, sd.name, sd.nlen, &de);
		(*count)++;
	}
	if (!rc)
		rc = kv_iter_status(it);
	kv_iter_free(it);
	return rc;
}

int ns_fsck_delete_inode(struct ns *ns, uint64_t ino, uint32_t expected, struct ns_drop *drop)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	uint64_t entries = 0;
	int rc;

	if (drop)
		memset(drop, 0, sizeof(*drop));
	rc = ns_fsck_begin(ns, &t, ino, &in);
	if (rc)
		goto out;
	if (in.a.nlink != expected)
		rc = -ESTALE;
	else if (ino == NS_ROOT_INO || ns_open_count(ns, ino) > 0)
		rc = -EBUSY;
	else if (S_ISDIR(in.a.mode))
		rc = ns_fsck_empty_dir(&t, ino, &entries);
	if (!rc)
		rc = ns_inode_delete(&t, &in);
	if (!rc)
		rc = ns_txn_commit(&t, true);
	if (rc)
		goto out;
	ns_drop_fill(drop, &in, false, true);
	log_warn("ns: fsck: deleted inode %#llx (mode %o, %u links, %llu entries)",
		 (unsigned long long)ino, in.a.mode, expected, (unsigned long long)entries);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_fsck_set_parent(struct ns *ns, uint64_t ino, uint64_t expected, uint64_t parent)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc;

	if (!parent)
		return -EINVAL;
	/* Parent links change only under the rename lock (ancestry walks). */
	pthread_mutex_lock(&ns->rename_lock);
	rc = ns_fsck_begin(ns, &t, ino, &in);
	t.rename_locked = t.b != NULL;
	if (!t.rename_locked)
		pthread_mutex_unlock(&ns->rename_lock);
	if (rc)
		goto out;
	if (!S_ISDIR(in.a.mode))
		rc = -ENOTDIR;
	else if (ino == NS_ROOT_INO)
		rc = -EBUSY;
	else if (in.a.parent != expected)
		rc = -ESTALE;
	if (rc)
		goto out;
	in.a.parent = parent;
	in.a.ctime = t.now;
	ns_inode_put(&t, &in);
	rc = ns_txn_commit(&t, true);
	if (!rc)
		log_warn("ns: fsck: parent of %#llx %#llx -> %#llx", (unsigned long long)ino,
			 (unsigned long long)expected, (unsigned long long)parent);
out:
	ns_txn_end(&t);
	return rc;
}
