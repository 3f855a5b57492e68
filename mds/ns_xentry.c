/*
 * ns_xentry.c - the entry steps of the cross-shard protocols (ns.h):
 * linking an entry to an inode that may live elsewhere (mkdir, link,
 * rename target, exchange), removing such an entry without touching its
 * inode, and pinning an entry for the duration of an operation.
 *
 * Link and unlink are idempotent through done records keyed by the op id
 * and a hash of (parent, name); pin and unpin through the pin itself.
 *
 * Threads: each step locks the parent's stripe (and a local replaced
 * inode's); see ns_int.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"

/* State of one ns_dentry_link_remote. */
struct ns_xl {
	uint64_t parent;
	const char *name;
	size_t nlen;
	uint64_t ino;
	uint32_t type;
	unsigned flags;
	struct ns_inode dir;
	bool have_old;
	struct ns_dentry old;
	bool old_local;
	struct ns_inode oldin;
};

static bool ns_valid_type(uint32_t type)
{
	return type == S_IFREG || type == S_IFDIR || type == S_IFLNK || type == S_IFIFO ||
	       type == S_IFSOCK || type == S_IFCHR || type == S_IFBLK;
}

/* Checks of the parent and the existing entry, under the parent's lock. */
static int ns_xl_check(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
		       struct ns_xl *xl)
{
	int rc = ns_inode_get(ns, xl->parent, &xl->dir);

	if (rc)
		return rc;
	if (!S_ISDIR(xl->dir.a.mode))
		return -ENOTDIR;
	if (cred && (rc = ns_perm(cred, &xl->dir.a, NS_MAY_EXEC)))
		return rc;
	rc = ns_dentry_get(ns, xl->parent, xl->name, xl->nlen, &xl->old);
	if (rc && rc != -ENOENT)
		return rc;
	xl->have_old = rc == 0;
	if (!xl->have_old && (xl->flags & NS_LINK_EXCHANGE))
		return -ENOENT;
	if (xl->have_old && (!(xl->flags & (NS_LINK_REPLACE | NS_LINK_EXCHANGE)) ||
			     (xl->flags & NS_LINK_NOREPLACE)))
		return -EEXIST;
	rc = ns_dir_check_modify(cred, &xl->dir);
	if (rc || !xl->have_old)
		return rc;
	if (xl->old.pin && xl->old.pin != x->op_id)
		return -EBUSY;
	if (!(xl->flags & NS_LINK_REPLACE) || xl->old.ino == xl->ino)
		return 0;
	if (S_ISDIR(xl->type) && !S_ISDIR(xl->old.type))
		return -ENOTDIR;
	if (!S_ISDIR(xl->type) && S_ISDIR(xl->old.type))
		return -EISDIR;
	return 0;
}

/* Locks parent (and a local replaced inode) and reads everything. */
static int ns_xl_read(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
		      struct ns_txn *t, struct ns_xl *xl)
{
	uint64_t need[2] = {xl->parent, 0};
	int rc;

	ns_txn_lock(t, need, 1);
	for (;;) {
		rc = ns_xl_check(ns, cred, x, xl);
		if (rc)
			return rc;
		xl->old_local = xl->have_old && xl->old.ino != xl->ino &&
				ns_ino_shard(xl->old.ino) == ns->shard;
		if (!xl->old_local)
			return 0;
		need[1] = xl->old.ino;
		if (ns_txn_lock_add(t, need, 2))
			break;
	}
	rc = ns_inode_get(ns, xl->old.ino, &xl->oldin);
	if (rc == -ENOENT) {
		log_error("ns: entry in %#llx points to missing inode %#llx",
			  (unsigned long long)xl->parent, (unsigned long long)xl->old.ino);
		return -EIO;
	}
	if (rc || !(xl->flags & NS_LINK_REPLACE))
		return rc;
	if (cred && (rc = ns_perm_sticky(cred, &xl->dir.a, xl->oldin.a.uid)))
		return rc;
	if (S_ISDIR(xl->oldin.a.mode) && (xl->oldin.a.size > 0 || xl->oldin.rm_op))
		return -ENOTEMPTY;
	return 0;
}

/* Queues the new entry and the parent's changes. */
static int ns_xl_apply(struct ns_txn *t, struct ns_xl *xl, struct ns_drop *d)
{
	struct ns_dentry de = {.ino = xl->ino, .type = xl->type};
	bool newdir = S_ISDIR(xl->type);
	bool olddir = xl->have_old && S_ISDIR(xl->old.type);

	memset(d, 0, sizeof(*d));
	if (newdir && !olddir && xl->dir.a.nlink >= NS_LINK_MAX)
		return -EMLINK;
	de.seq = xl->have_old ? xl->old.seq : xl->dir.next_seq++;
	ns_dentry_put(t, xl->parent, xl->name, xl->nlen, &de);
	ns_dir_touch(t, &xl->dir, xl->have_old ? 0 : 1);
	if (newdir && !olddir)
		xl->dir.a.nlink++;
	if (!newdir && olddir)
		xl->dir.a.nlink--;
	ns_inode_put(t, &xl->dir);
	if (!xl->have_old)
		return 0;
	d->ino = xl->old.ino;
	d->mode = xl->old.type;
	d->remote = ns_ino_shard(xl->old.ino) != t->ns->shard;
	if ((xl->flags & NS_LINK_EXCHANGE) || !xl->old_local)
		return 0;
	xl->oldin.a.nlink = S_ISDIR(xl->oldin.a.mode) ? 0 : xl->oldin.a.nlink - 1;
	return ns_inode_release(t, &xl->oldin, d);
}

int ns_dentry_link_remote(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
			  uint64_t parent, const char *name, size_t nlen, uint64_t ino,
			  uint32_t type, unsigned flags, struct ns_drop *drop)
{
	struct ns_xl xl = {
	    .parent = parent, .name = name, .nlen = nlen, .ino = ino, .type = type, .flags = flags};
	uint64_t disc = ns_name_hash(parent, name, nlen);
	struct ns_drop d = {0};
	struct ns_txn t = {0};
	int rc = ns_xop_check(x);

	if (rc || !ino || !ns_valid_type(type) ||
	    (flags & ~(NS_LINK_REPLACE | NS_LINK_NOREPLACE | NS_LINK_EXCHANGE)) ||
	    ((flags & NS_LINK_NOREPLACE) && !(flags & NS_LINK_REPLACE)) ||
	    ((flags & NS_LINK_EXCHANGE) && (flags & NS_LINK_REPLACE)))
		return rc ? rc : -EINVAL;
	rc = ns_name_check(name, nlen);
	if (rc)
		return rc < 0 ? rc : -EEXIST;
	if (ns_ino_shard(parent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &parent, 1);
	rc = ns_done_get(ns, x->op_id, NS_STEP_LINK, disc, &d);
	if (rc != -ENOENT)
		goto out; /* 0: a repeat, d is the first answer */
	rc = ns_xl_read(ns, cred, x, &t, &xl);
	if (!rc && xl.have_old && xl.old.ino == ino)
		rc = ns_xop_commit(&t, x, NS_STEP_LINK, disc, &d); /* already there */
	else if (!rc && !(rc = ns_xl_apply(&t, &xl, &d)))
		rc = ns_xop_commit(&t, x, NS_STEP_LINK, disc, &d);
out:
	if (drop)
		*drop = rc ? (struct ns_drop){0} : d;
	ns_txn_end(&t);
	return rc;
}

/* Reads the parent and the entry for unlink and pin: -ENOENT unless it
 * points to ino; -EBUSY if pinned by another op. */
static int ns_xentry_read(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
			  uint64_t parent, const char *name, size_t nlen, uint64_t ino,
			  uint32_t victim_uid, struct ns_inode *dir, struct ns_dentry *de)
{
	int rc = ns_inode_get(ns, parent, dir);

	if (rc)
		return rc;
	if (!S_ISDIR(dir->a.mode))
		return -ENOTDIR;
	if (cred && (rc = ns_perm(cred, &dir->a, NS_MAY_EXEC)))
		return rc;
	rc = ns_dentry_get(ns, parent, name, nlen, de);
	if (rc)
		return rc;
	if (de->ino != ino)
		return -ENOENT;
	rc = ns_dir_check_modify(cred, dir);
	if (rc)
		return rc;
	if (cred && (rc = ns_perm_sticky(cred, &dir->a, victim_uid)))
		return rc;
	if (de->pin && de->pin != x->op_id)
		return -EBUSY;
	return 0;
}

/* Common start of the entry steps: validation, name, lock of parent. */
static int ns_xentry_begin(struct ns *ns, const struct ns_xop *x, struct ns_txn *t, uint64_t parent,
			   const char *name, size_t nlen)
{
	int rc = ns_xop_check(x);

	if (rc)
		return rc;
	rc = ns_name_check(name, nlen);
	if (rc)
		return rc < 0 ? rc : -EINVAL;
	if (ns_ino_shard(parent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, t);
	if (!rc)
		ns_txn_lock(t, &parent, 1);
	return rc;
}

int ns_dentry_unlink_remote(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
			    uint64_t parent, const char *name, size_t nlen, uint64_t ino,
			    uint32_t victim_uid, unsigned flags)
{
	uint64_t disc = ns_name_hash(parent, name, nlen);
	struct ns_inode dir;
	struct ns_dentry de;
	struct ns_txn t = {0};
	int rc;

	if (flags & ~(NS_UNLINK_DIR | NS_UNLINK_PINNED))
		return -EINVAL;
	rc = ns_xentry_begin(ns, x, &t, parent, name, nlen);
	if (rc)
		goto out;
	rc = ns_done_get(ns, x->op_id, NS_STEP_UNLINK, disc, NULL);
	if (rc != -ENOENT)
		goto out;
	rc = ns_xentry_read(ns, cred, x, parent, name, nlen, ino, victim_uid, &dir, &de);
	if (!rc && (flags & NS_UNLINK_DIR) && !S_ISDIR(de.type))
		rc = -ENOTDIR;
	if (!rc && !(flags & NS_UNLINK_DIR) && S_ISDIR(de.type))
		rc = -EISDIR;
	if (!rc && (flags & NS_UNLINK_PINNED) && de.pin != x->op_id)
		rc = -EINVAL;
	if (rc)
		goto out;
	ns_dentry_del(&t, parent, name, nlen, &de);
	ns_dir_touch(&t, &dir, -1);
	if (S_ISDIR(de.type))
		dir.a.nlink--;
	ns_inode_put(&t, &dir);
	rc = ns_xop_commit(&t, x, NS_STEP_UNLINK, disc, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_dentry_pin(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
		  uint64_t parent, const char *name, size_t nlen, uint64_t ino, uint32_t victim_uid)
{
	struct ns_inode dir;
	struct ns_dentry de;
	struct ns_txn t = {0};
	int rc = ns_xentry_begin(ns, x, &t, parent, name, nlen);

	if (!rc)
		rc = ns_xentry_read(ns, cred, x, parent, name, nlen, ino, victim_uid, &dir, &de);
	if (rc || de.pin == x->op_id)
		goto out; /* pinned already: a repeat */
	de.pin = x->op_id;
	ns_dentry_put(&t, parent, name, nlen, &de);
	rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_dentry_unpin(struct ns *ns, const struct ns_xop *x, uint64_t parent, const char *name,
		    size_t nlen)
{
	struct ns_dentry de;
	struct ns_txn t = {0};
	int rc = ns_xentry_begin(ns, x, &t, parent, name, nlen);

	if (rc)
		goto out;
	rc = ns_dentry_get(ns, parent, name, nlen, &de);
	if (rc && rc != -ENOENT)
		goto out;
	if (rc == 0 && de.pin == x->op_id) {
		de.pin = 0;
		ns_dentry_put(&t, parent, name, nlen, &de);
	}
	/* The intent action is applied even when there was nothing to unpin. */
	rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}
