/*
 * ns_entry.c - operations that add or remove one directory entry on this
 * shard: create, mknod, mkdir, symlink, link, unlink, rmdir (and
 * readlink, the symlink reader).
 *
 * Errors follow Linux's order of checks: the parent's type and search
 * permission, the entry's existence, then write permission, the sticky
 * rule and the entry's type.  "." and ".." as a new name give -EEXIST
 * (as mkdir(2)); unlink gives -EISDIR for them, rmdir -EINVAL for "." and
 * -ENOTEMPTY for "..".
 *
 * Threads: each operation locks the parent's stripe (and the child's once
 * known) in a struct ns_txn; see ns_int.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"

/* What to create. */
struct ns_newent {
	uint32_t mode; /* type and permission bits */
	uint64_t rdev;
	const struct ns_layout *layout;
	const char *target; /* symlink target */
	size_t tlen;
	uint16_t target_shard; /* directories */
};

/* Parent checks before the entry is looked at: type and search. */
static int ns_parent_search(const struct ns_cred *cred, const struct ns_inode *dir)
{
	if (!S_ISDIR(dir->a.mode))
		return -ENOTDIR;
	return ns_perm(cred, &dir->a, NS_MAY_EXEC);
}

static void ns_child_init(struct ns *ns, const struct ns_cred *cred, const struct ns_txn *t,
			  const struct ns_inode *dir, const struct ns_newent *ne, uint64_t ino,
			  struct ns_inode *in)
{
	uint32_t mode = ne->mode;

	memset(in, 0, sizeof(*in));
	ns_perm_init_owner(cred, dir, &mode, &in->a.uid, &in->a.gid);
	in->a.ino = ino;
	in->a.mode = mode;
	in->a.generation = ns_new_generation(ns);
	in->a.atime = in->a.mtime = in->a.ctime = t->now;
	if (S_ISDIR(mode)) {
		in->a.nlink = 2;
		in->a.parent = dir->a.ino;
		in->next_seq = 3;
	} else {
		in->a.nlink = 1;
	}
	if (S_ISREG(mode) || S_ISDIR(mode))
		in->a.layout = ne->layout ? *ne->layout : dir->a.layout;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		in->a.rdev = ne->rdev;
	if (S_ISLNK(mode))
		in->a.size = ne->tlen;
}

/* Checks done under the parent's lock; 0 when the name may be created. */
static int ns_make_check(struct ns *ns, const struct ns_cred *cred, const struct ns_inode *dir,
			 const char *name, size_t nlen, const struct ns_newent *ne)
{
	struct ns_dentry de;
	int rc;

	rc = ns_parent_search(cred, dir);
	if (rc)
		return rc;
	rc = ns_dentry_get(ns, dir->a.ino, name, nlen, &de);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	rc = ns_dir_check_modify(cred, dir);
	if (rc)
		return rc;
	if (S_ISDIR(ne->mode) && dir->a.nlink >= NS_LINK_MAX)
		return -EMLINK;
	if (S_ISDIR(ne->mode) && ne->target_shard != ns->shard)
		return -EREMOTE; /* every check passed: cross-shard mkdir */
	return 0;
}

static int ns_make(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
		   size_t nlen, const struct ns_newent *ne, bool sync, struct ns_attr *out)
{
	struct ns_txn t;
	struct ns_inode dir, in;
	struct ns_dentry de;
	uint8_t key[KEYS_U64_LEN];
	uint64_t ino;
	int rc = ns_name_check(name, nlen);

	if (rc)
		return rc < 0 ? rc : -EEXIST;
	if (ns_ino_shard(parent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &parent, 1);
	rc = ns_inode_get(ns, parent, &dir);
	if (!rc)
		rc = ns_make_check(ns, cred, &dir, name, nlen, ne);
	if (rc == -EREMOTE && out) {
		/* What the directory will be, for ns_inode_create_prepared. */
		ns_child_init(ns, cred, &t, &dir, ne, 0, &in);
		*out = in.a;
	}
	if (!rc)
		rc = ns_alloc_ino(ns, &ino);
	if (rc)
		goto out;
	ns_child_init(ns, cred, &t, &dir, ne, ino, &in);
	de.ino = ino;
	de.type = in.a.mode & S_IFMT;
	de.seq = dir.next_seq++;
	de.pin = 0;
	ns_dentry_put(&t, parent, name, nlen, &de);
	ns_dir_touch(&t, &dir, 1);
	if (S_ISDIR(in.a.mode))
		dir.a.nlink++;
	ns_inode_put(&t, &dir);
	ns_inode_put(&t, &in);
	if (S_ISLNK(in.a.mode)) {
		keys_u64(key, ino);
		kv_batch_put(t.b, KEYS_CF_SYMLINK, key, sizeof(key), ne->target, ne->tlen);
	}
	t.d_inodes++;
	rc = ns_txn_commit(&t, sync);
	if (!rc && out)
		*out = in.a;
out:
	ns_txn_end(&t);
	return rc;
}

int ns_create(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, uint32_t mode, const struct ns_layout *layout, bool sync,
	      struct ns_attr *out)
{
	struct ns_newent ne = {.mode = S_IFREG | (mode & 07777), .layout = layout};

	return ns_make(ns, cred, parent, name, nlen, &ne, sync, out);
}

int ns_mknod(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, uint32_t mode, uint64_t rdev, bool sync, struct ns_attr *out)
{
	struct ns_newent ne = {.mode = mode, .rdev = rdev};
	uint32_t type = mode & S_IFMT;

	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK)
		return -EINVAL;
	if ((type == S_IFCHR || type == S_IFBLK) && cred->uid != 0)
		return -EPERM;
	ne.mode = type | (mode & 07777);
	return ns_make(ns, cred, parent, name, nlen, &ne, sync, out);
}

int ns_mkdir(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, uint32_t mode, uint16_t target_shard, bool sync, struct ns_attr *out)
{
	struct ns_newent ne = {.mode = S_IFDIR | (mode & 07777), .target_shard = target_shard};

	return ns_make(ns, cred, parent, name, nlen, &ne, sync, out);
}

int ns_symlink(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	       size_t nlen, const char *target, size_t tlen, bool sync, struct ns_attr *out)
{
	struct ns_newent ne = {.mode = S_IFLNK | 0777, .target = target, .tlen = tlen};

	if (tlen == 0 || !target)
		return -ENOENT;
	if (tlen > NS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	if (memchr(target, '\0', tlen))
		return -EINVAL;
	return ns_make(ns, cred, parent, name, nlen, &ne, sync, out);
}

int ns_readlink(struct ns *ns, uint64_t ino, char *buf, size_t cap, size_t *len)
{
	struct ns_inode in;
	uint8_t key[KEYS_U64_LEN];
	int rc = ns_inode_get(ns, ino, &in);

	if (rc)
		return rc;
	if (!S_ISLNK(in.a.mode))
		return -EINVAL;
	keys_u64(key, ino);
	rc = kv_get(ns->db, KEYS_CF_SYMLINK, key, sizeof(key), buf, cap, len);
	if (rc == -ENOENT) {
		log_error("ns: symlink %#llx has no target", (unsigned long long)ino);
		return -EIO;
	}
	if (rc == 0 && *len > cap)
		return -ERANGE;
	return rc;
}

/* Under the locks of newparent and ino: checks and queues the link. */
static int ns_link_locked(struct ns *ns, const struct ns_cred *cred, struct ns_txn *t, uint64_t ino,
			  uint64_t newparent, const char *name, size_t nlen, struct ns_inode *in)
{
	struct ns_inode dir;
	struct ns_dentry de;
	int rc;

	rc = ns_inode_get(ns, newparent, &dir);
	if (!rc)
		rc =
		    ns_make_check(ns, cred, &dir, name, nlen, &(struct ns_newent){.mode = S_IFREG});
	if (!rc)
		rc = ns_inode_get(ns, ino, in);
	if (rc)
		return rc;
	if (S_ISDIR(in->a.mode))
		return -EPERM;
	if (in->a.nlink == 0)
		return -ENOENT;
	if (in->a.nlink >= NS_LINK_MAX)
		return -EMLINK;
	de.ino = ino;
	de.type = in->a.mode & S_IFMT;
	de.seq = dir.next_seq++;
	de.pin = 0;
	ns_dentry_put(t, newparent, name, nlen, &de);
	ns_dir_touch(t, &dir, 1);
	ns_inode_put(t, &dir);
	in->a.nlink++;
	in->a.ctime = t->now;
	ns_inode_put(t, in);
	return 0;
}

int ns_link(struct ns *ns, const struct ns_cred *cred, uint64_t ino, uint64_t newparent,
	    const char *name, size_t nlen, bool sync, struct ns_attr *out)
{
	struct ns_txn t;
	struct ns_inode in;
	uint64_t both[2] = {newparent, ino};
	int rc = ns_name_check(name, nlen);

	if (rc)
		return rc < 0 ? rc : -EEXIST;
	if (ns_ino_shard(ino) != ns->shard || ns_ino_shard(newparent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, both, 2);
	rc = ns_link_locked(ns, cred, &t, ino, newparent, name, nlen, &in);
	if (!rc)
		rc = ns_txn_commit(&t, sync);
	if (!rc && out)
		*out = in.a;
out:
	ns_txn_end(&t);
	return rc;
}

/* Entry checks of unlink/rmdir up to the victim's type. */
static int ns_remove_check(const struct ns_cred *cred, const struct ns_inode *dir,
			   const struct ns_dentry *de, bool want_dir)
{
	int rc = ns_dir_check_modify(cred, dir);

	if (rc)
		return rc;
	if (want_dir && !S_ISDIR(de->type))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(de->type))
		return -EISDIR;
	if (de->pin)
		return -EBUSY;
	return 0;
}

/* Reads the parent, the entry and the victim under the needed locks. */
static int ns_remove_lookup(struct ns *ns, const struct ns_cred *cred, struct ns_txn *t,
			    uint64_t parent, const char *name, size_t nlen, bool want_dir,
			    struct ns_inode *dir, struct ns_dentry *de, struct ns_inode *in,
			    struct ns_drop *drop)
{
	uint64_t need[2] = {parent, 0};
	int rc;

	ns_txn_lock(t, need, 1);
	for (;;) {
		rc = ns_inode_get(ns, parent, dir);
		if (!rc)
			rc = ns_parent_search(cred, dir);
		if (!rc)
			rc = ns_dentry_get(ns, parent, name, nlen, de);
		if (!rc)
			rc = ns_remove_check(cred, dir, de, want_dir);
		if (rc)
			return rc;
		if (ns_ino_shard(de->ino) != ns->shard) {
			if (drop) {
				drop->ino = de->ino;
				drop->mode = de->type;
				drop->remote = true;
			}
			return -EREMOTE;
		}
		need[1] = de->ino;
		if (ns_txn_lock_add(t, need, 2))
			break;
	}
	rc = ns_inode_get(ns, de->ino, in);
	if (rc == -ENOENT) {
		log_error("ns: entry in %#llx points to missing inode %#llx",
			  (unsigned long long)parent, (unsigned long long)de->ino);
		return -EIO;
	}
	if (rc)
		return rc;
	return ns_perm_sticky(cred, &dir->a, in->a.uid);
}

static int ns_remove(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
		     size_t nlen, bool want_dir, bool sync, struct ns_drop *drop)
{
	struct ns_txn t;
	struct ns_inode dir, in;
	struct ns_dentry de;
	int rc;

	if (drop)
		memset(drop, 0, sizeof(*drop));
	if (ns_ino_shard(parent) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	rc = ns_remove_lookup(ns, cred, &t, parent, name, nlen, want_dir, &dir, &de, &in, drop);
	if (rc)
		goto out;
	if (want_dir && in.a.ino == NS_ROOT_INO) {
		rc = -EBUSY;
		goto out;
	}
	if (want_dir && (in.a.size > 0 || in.rm_op)) {
		rc = in.rm_op ? -EBUSY : -ENOTEMPTY;
		goto out;
	}
	ns_dentry_del(&t, parent, name, nlen, &de);
	ns_dir_touch(&t, &dir, -1);
	if (want_dir)
		dir.a.nlink--;
	ns_inode_put(&t, &dir);
	in.a.nlink = want_dir ? 0 : in.a.nlink - 1;
	rc = ns_inode_release(&t, &in, drop);
	if (!rc)
		rc = ns_txn_commit(&t, sync);
	if (rc && drop)
		memset(drop, 0, sizeof(*drop));
out:
	ns_txn_end(&t);
	return rc;
}

int ns_unlink(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, bool sync, struct ns_drop *drop)
{
	int rc = ns_name_check(name, nlen);

	if (rc)
		return rc < 0 ? rc : -EISDIR;
	return ns_remove(ns, cred, parent, name, nlen, false, sync, drop);
}

int ns_rmdir(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, bool sync, struct ns_drop *drop)
{
	int rc = ns_name_check(name, nlen);

	if (rc)
		return rc < 0 ? rc : (rc == 1 ? -EINVAL : -ENOTEMPTY);
	return ns_remove(ns, cred, parent, name, nlen, true, sync, drop);
}
