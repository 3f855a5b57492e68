/*
 * ns_dir.c - directory listing (readdir with stable cookies) and rename
 * within one shard, plus the ancestry walk both rename protocols use.
 *
 * readdir iterates the dirseq index (parent + sequence number): an entry's
 * number is given at insertion and only grows, so resuming after cookie c
 * continues with the entries inserted before the listing that were not
 * yet returned, whatever was inserted or deleted meanwhile.
 *
 * rename locks up to four stripes (both parents, source and target
 * inodes); renames between two directories also take ns->rename_lock
 * first, so the ancestry check (no directory moves into its own subtree)
 * cannot race another such rename, as Linux's s_vfs_rename_mutex does.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"
#include "proto/wire.h"

#define NS_WALK_MAX 65536

/* ---- readdir ---- */

struct ns_rd {
	const struct ns_readdir_args *a;
	uint32_t count;
	uint64_t bytes;
};

/* Returns 0 to go on, 1 to stop (budget or callback), or -errno. */
static int ns_rd_emit(struct ns_rd *rd, const struct ns_dirent *e)
{
	uint64_t cost = (rd->a->plus ? NS_DIRENT_PLUS_COST : NS_DIRENT_COST) + e->nlen;
	int rc;

	if (rd->a->max_entries && rd->count >= rd->a->max_entries)
		return 1;
	/* The budget never refuses the first entry: the caller must progress. */
	if (rd->a->max_bytes && rd->count && rd->bytes + cost > rd->a->max_bytes)
		return 1;
	rc = rd->a->fn(rd->a->arg, e);
	if (rc)
		return rc < 0 ? rc : 1;
	rd->count++;
	rd->bytes += cost;
	return 0;
}

static int ns_rd_dots(struct ns *ns, struct ns_rd *rd, const struct ns_inode *dir)
{
	struct ns_attr pattr;
	struct ns_dirent e = {.ino = dir->a.ino, .cookie = 1, .type = S_IFDIR, .name = ".."};
	int rc;

	if (rd->a->cookie < 1) {
		e.nlen = 1;
		e.attr = rd->a->plus ? &dir->a : NULL;
		rc = ns_rd_emit(rd, &e);
		if (rc)
			return rc;
	}
	if (rd->a->cookie < 2) {
		e.ino = dir->a.parent;
		e.cookie = 2;
		e.nlen = 2;
		e.attr = NULL;
		if (rd->a->plus && ns_ino_shard(e.ino) == ns->shard &&
		    ns_getattr(ns, e.ino, &pattr) == 0)
			e.attr = &pattr;
		return ns_rd_emit(rd, &e);
	}
	return 0;
}

/* One dirseq record to an entry; 1 to skip it (inode gone), -EIO. */
static int ns_rd_entry(struct ns *ns, struct ns_rd *rd, const void *k, size_t klen,
		       const uint8_t *v, size_t vlen, struct ns_dirent *e, struct ns_inode *in)
{
	uint64_t parent;
	int rc;

	if (keys_dirseq_decode(k, klen, &parent, &e->cookie) || vlen < 10 ||
	    vlen > 9 + NS_NAME_MAX) {
		log_error("ns: corrupt readdir index record");
		return -EIO;
	}
	e->ino = wire_get_le64(v);
	e->type = (uint32_t)v[8] << 12;
	e->name = (const char *)v + 9;
	e->nlen = (uint32_t)(vlen - 9);
	e->attr = NULL;
	if (!rd->a->plus || ns_ino_shard(e->ino) != ns->shard)
		return 0;
	rc = ns_inode_get(ns, e->ino, in);
	if (rc == -ENOENT)
		return 1; /* unlinked since the iterator's snapshot */
	if (rc)
		return rc;
	e->attr = &in->a;
	return 0;
}

int ns_readdir(struct ns *ns, uint64_t dir, const struct ns_readdir_args *a, bool *eof)
{
	struct ns_rd rd = {.a = a};
	struct ns_inode d, in;
	struct ns_dirent e;
	struct kv_iter *it;
	uint8_t key[KEYS_DIRSEQ_LEN];
	int rc;

	*eof = false;
	if (!a->fn)
		return -EINVAL;
	rc = ns_inode_get(ns, dir, &d);
	if (rc)
		return rc;
	if (!S_ISDIR(d.a.mode))
		return -ENOTDIR;
	rc = ns_rd_dots(ns, &rd, &d);
	if (rc)
		return rc < 0 ? rc : 0;
	it = kv_iter_new(ns->db, KEYS_CF_DIRSEQ, key, keys_u64(key, dir));
	if (!it)
		return -ENOMEM;
	kv_iter_seek(it, key, keys_dirseq(key, dir, a->cookie < 2 ? 3 : a->cookie + 1));
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const uint8_t *v = kv_iter_value(it, &vlen);

		rc = ns_rd_entry(ns, &rd, k, klen, v, vlen, &e, &in);
		if (rc == 1)
			continue;
		if (rc == 0)
			rc = ns_rd_emit(&rd, &e);
		if (rc)
			break;
	}
	if (rc == 0) {
		rc = kv_iter_status(it);
		*eof = rc == 0;
	}
	kv_iter_free(it);
	return rc < 0 ? rc : 0;
}

/* ---- ancestry ---- */

int ns_walk_parents(struct ns *ns, uint64_t ino, uint64_t target, uint64_t *stop)
{
	struct ns_inode in;
	uint64_t cur = ino;
	int rc;

	for (unsigned depth = 0; depth < NS_WALK_MAX; depth++) {
		if (cur == target)
			return 1;
		if (ns_ino_shard(cur) != ns->shard) {
			if (stop)
				*stop = cur;
			return -EREMOTE;
		}
		rc = ns_inode_get(ns, cur, &in);
		if (rc)
			return rc;
		if (!S_ISDIR(in.a.mode))
			return -ENOTDIR;
		if (cur == NS_ROOT_INO || in.a.parent == cur)
			return 0;
		cur = in.a.parent;
	}
	log_error("ns: parent chain of %#llx does not end", (unsigned long long)ino);
	return -ELOOP;
}

/* ---- rename ---- */

struct ns_rn {
	uint64_t op, np;
	const char *on, *nn;
	size_t ol, nl;
	unsigned flags;
	struct ns_inode pd[2];
	struct ns_inode *odir, *ndir; /* ndir == odir for one parent */
	struct ns_dentry sde, dde;
	bool have_dst;
	struct ns_inode src, dst;
};

static int ns_rename_names(const struct ns_rn *rn)
{
	int ro = ns_name_check(rn->on, rn->ol);
	int rn_ = ns_name_check(rn->nn, rn->nl);

	if (ro < 0)
		return ro;
	if (rn_ < 0)
		return rn_;
	if (ro)
		return -EBUSY;
	if (rn_)
		return (rn->flags & NS_RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	return 0;
}

/* Reads both parents and entries; 1 for "same inode: nothing to do". */
static int ns_rename_entries(struct ns *ns, const struct ns_cred *cred, struct ns_rn *rn)
{
	int rc;

	rc = ns_inode_get(ns, rn->op, rn->odir);
	if (!rc && rn->ndir != rn->odir)
		rc = ns_inode_get(ns, rn->np, rn->ndir);
	if (rc)
		return rc;
	if (!S_ISDIR(rn->odir->a.mode) || !S_ISDIR(rn->ndir->a.mode))
		return -ENOTDIR;
	rc = ns_perm(cred, &rn->odir->a, NS_MAY_EXEC);
	if (!rc)
		rc = ns_perm(cred, &rn->ndir->a, NS_MAY_EXEC);
	if (!rc)
		rc = ns_dentry_get(ns, rn->op, rn->on, rn->ol, &rn->sde);
	if (rc)
		return rc;
	rc = ns_dentry_get(ns, rn->np, rn->nn, rn->nl, &rn->dde);
	if (rc && rc != -ENOENT)
		return rc;
	rn->have_dst = rc == 0;
	if ((rn->flags & NS_RENAME_NOREPLACE) && rn->have_dst)
		return -EEXIST;
	if ((rn->flags & NS_RENAME_EXCHANGE) && !rn->have_dst)
		return -ENOENT;
	/* As Linux: renaming onto the same inode succeeds before any check. */
	if (rn->have_dst && rn->dde.ino == rn->sde.ino)
		return 1;
	rc = ns_dir_check_modify(cred, rn->odir);
	if (!rc)
		rc = ns_dir_check_modify(cred, rn->ndir);
	if (rc)
		return rc;
	if (rn->sde.pin || (rn->have_dst && rn->dde.pin))
		return -EBUSY;
	if (ns_ino_shard(rn->sde.ino) != ns->shard ||
	    (rn->have_dst && ns_ino_shard(rn->dde.ino) != ns->shard))
		return -EREMOTE;
	return 0;
}

/* Locks what is needed and reads everything; 1: nothing to do. */
static int ns_rename_read(struct ns *ns, const struct ns_cred *cred, struct ns_txn *t,
			  struct ns_rn *rn)
{
	uint64_t need[4] = {rn->op, rn->np, 0, 0};
	int rc;

	ns_txn_lock(t, need, 2);
	for (;;) {
		rc = ns_rename_entries(ns, cred, rn);
		if (rc)
			return rc;
		need[2] = rn->sde.ino;
		need[3] = rn->have_dst ? rn->dde.ino : 0;
		if (ns_txn_lock_add(t, need, 4))
			break;
	}
	rc = ns_inode_get(ns, rn->sde.ino, &rn->src);
	if (!rc && rn->have_dst)
		rc = ns_inode_get(ns, rn->dde.ino, &rn->dst);
	if (rc == -ENOENT) {
		log_error("ns: rename: entry points to a missing inode");
		rc = -EIO;
	}
	return rc;
}

/* A directory d moving from its parent to dir `to`: write permission on d
 * (its ".." changes), not into its own subtree, room for a link. */
static int ns_rename_dir_move(struct ns *ns, const struct ns_cred *cred, const struct ns_rn *rn,
			      const struct ns_inode *d, const struct ns_inode *to,
			      bool to_loses_dir)
{
	uint64_t stop = 0;
	int rc = ns_perm(cred, &d->a, NS_MAY_WRITE);

	if (rc)
		return rc;
	if (!(rn->flags & NS_RENAME_ANCESTRY_CHECKED)) {
		rc = ns_walk_parents(ns, to->a.ino, d->a.ino, &stop);
		if (rc == 1)
			return -EINVAL;
		if (rc)
			return rc;
	}
	if (!to_loses_dir && to->a.nlink >= NS_LINK_MAX)
		return -EMLINK;
	return 0;
}

static int ns_rename_check(struct ns *ns, const struct ns_cred *cred, const struct ns_rn *rn)
{
	bool sdir = S_ISDIR(rn->src.a.mode);
	bool ddir = rn->have_dst && S_ISDIR(rn->dst.a.mode);
	bool exch = rn->flags & NS_RENAME_EXCHANGE;
	int rc;

	if (rn->src.a.ino == NS_ROOT_INO || (rn->have_dst && rn->dst.a.ino == NS_ROOT_INO))
		return -EBUSY;
	rc = ns_perm_sticky(cred, &rn->odir->a, rn->src.a.uid);
	if (!rc && rn->have_dst)
		rc = ns_perm_sticky(cred, &rn->ndir->a, rn->dst.a.uid);
	if (rc)
		return rc;
	if (rn->have_dst && !exch) {
		if (sdir && !ddir)
			return -ENOTDIR;
		if (!sdir && ddir)
			return -EISDIR;
		if (ddir && (rn->dst.a.size > 0 || rn->dst.rm_op))
			return -ENOTEMPTY;
	}
	if (rn->op == rn->np)
		return 0;
	if (sdir) {
		rc = ns_rename_dir_move(ns, cred, rn, &rn->src, rn->ndir, ddir);
		if (rc)
			return rc;
	}
	if (exch && ddir)
		rc = ns_rename_dir_move(ns, cred, rn, &rn->dst, rn->odir, sdir);
	return rc;
}

static void ns_rename_exchange(struct ns_txn *t, struct ns_rn *rn)
{
	struct ns_dentry a = rn->sde, b = rn->dde;
	bool sdir = S_ISDIR(rn->src.a.mode), ddir = S_ISDIR(rn->dst.a.mode);

	a.ino = rn->dst.a.ino;
	a.type = rn->dst.a.mode & S_IFMT;
	b.ino = rn->src.a.ino;
	b.type = rn->src.a.mode & S_IFMT;
	ns_dentry_put(t, rn->op, rn->on, rn->ol, &a);
	ns_dentry_put(t, rn->np, rn->nn, rn->nl, &b);
	if (rn->op != rn->np && sdir != ddir) {
		/* A directory and a non-directory swap parents. */
		if (sdir) {
			rn->odir->a.nlink--;
			rn->ndir->a.nlink++;
		} else {
			rn->odir->a.nlink++;
			rn->ndir->a.nlink--;
		}
	}
	if (rn->op != rn->np) {
		if (sdir)
			rn->src.a.parent = rn->np;
		if (ddir)
			rn->dst.a.parent = rn->op;
	}
	rn->dst.a.ctime = t->now;
	ns_inode_put(t, &rn->dst);
}

static int ns_rename_apply(struct ns_txn *t, struct ns_rn *rn, struct ns_drop *drop)
{
	bool exch = rn->flags & NS_RENAME_EXCHANGE;
	bool sdir = S_ISDIR(rn->src.a.mode);
	bool replace = rn->have_dst && !exch;
	struct ns_dentry de = rn->sde;

	ns_dir_touch(t, rn->odir, 0);
	ns_dir_touch(t, rn->ndir, 0);
	if (exch) {
		ns_rename_exchange(t, rn);
	} else {
		ns_dentry_del(t, rn->op, rn->on, rn->ol, &rn->sde);
		/* A replaced name keeps its readdir position. */
		de.seq = rn->have_dst ? rn->dde.seq : rn->ndir->next_seq++;
		ns_dentry_put(t, rn->np, rn->nn, rn->nl, &de);
		ns_dir_touch(t, rn->odir, -1);
		ns_dir_touch(t, rn->ndir, rn->have_dst ? 0 : 1);
		if (sdir && rn->op != rn->np) {
			rn->odir->a.nlink--;
			rn->ndir->a.nlink++;
			rn->src.a.parent = rn->np;
		}
		if (replace && S_ISDIR(rn->dst.a.mode))
			rn->ndir->a.nlink--;
	}
	rn->src.a.ctime = t->now;
	ns_inode_put(t, &rn->src);
	ns_inode_put(t, rn->odir);
	if (rn->ndir != rn->odir)
		ns_inode_put(t, rn->ndir);
	if (!replace)
		return 0;
	rn->dst.a.nlink = S_ISDIR(rn->dst.a.mode) ? 0 : rn->dst.a.nlink - 1;
	return ns_inode_release(t, &rn->dst, drop);
}

int ns_rename(struct ns *ns, const struct ns_cred *cred, uint64_t oldparent, const char *oldname,
	      size_t oldlen, uint64_t newparent, const char *newname, size_t newlen, unsigned flags,
	      bool sync, struct ns_drop *drop)
{
	struct ns_rn rn = {.op = oldparent,
			   .np = newparent,
			   .on = oldname,
			   .nn = newname,
			   .ol = oldlen,
			   .nl = newlen,
			   .flags = flags};
	struct ns_txn t;
	int rc;

	if (drop)
		memset(drop, 0, sizeof(*drop));
	if ((flags & ~(NS_RENAME_NOREPLACE | NS_RENAME_EXCHANGE | NS_RENAME_ANCESTRY_CHECKED)) ||
	    ((flags & NS_RENAME_NOREPLACE) && (flags & NS_RENAME_EXCHANGE)))
		return -EINVAL;
	rc = ns_rename_names(&rn);
	if (rc)
		return rc;
	if (ns_ino_shard(oldparent) != ns->shard || ns_ino_shard(newparent) != ns->shard)
		return -EREMOTE;
	rn.odir = &rn.pd[0];
	rn.ndir = oldparent == newparent ? &rn.pd[0] : &rn.pd[1];
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	if (oldparent != newparent) {
		pthread_mutex_lock(&ns->rename_lock);
		t.rename_locked = true;
	}
	rc = ns_rename_read(ns, cred, &t, &rn);
	if (!rc)
		rc = ns_rename_check(ns, cred, &rn);
	if (!rc)
		rc = ns_rename_apply(&t, &rn, drop);
	if (!rc)
		rc = ns_txn_commit(&t, sync);
	if (rc == 1)
		rc = 0; /* same inode: POSIX says do nothing */
	if (rc && drop)
		memset(drop, 0, sizeof(*drop));
out:
	ns_txn_end(&t);
	return rc;
}
