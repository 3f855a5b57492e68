/*
 * ns.h - the POSIX namespace of one metadata shard: inodes, directory
 * entries, extended attributes and open-file bookkeeping in one RocksDB
 * database, with POSIX permission checks.  The cairn-mds daemon wraps it in
 * the RPC server and drives the cross-shard protocols described below.
 *
 * Model
 *   An inode number's high 16 bits name its home shard (ns_ino_shard); the
 *   root directory is NS_ROOT_INO on shard 0.  A directory's entries live on
 *   the directory's own home shard; files, symlinks and special files are
 *   created on their parent's shard; a new directory goes to the shard the
 *   caller picks (ns_dir_shard: hash of parent and name).  An entry may
 *   point to an inode of another shard (a remote directory, a cross-shard
 *   hard link or rename): such entries are "remote".
 *
 *   Every mutation is one atomic RocksDB write batch; "sync" asks for it to
 *   be durable before return (fsync-class calls), otherwise it is
 *   group-committed by the next synced write or ns_sync().
 *
 *   Directories: nlink = 2 + number of subdirectories; size = number of
 *   entries (without "." and ".."); parent = the parent's ino (root: itself).
 *   readdir cookies: "." is 1, ".." is 2, entries carry a per-directory
 *   sequence number >= 3 given at insertion, so a listing resumed from a
 *   cookie never skips nor repeats an entry that exists throughout.
 *
 * Errors common to every call taking an ino or a name:
 *   -ENOENT        no such inode or entry (or the directory is being removed)
 *   -ENOTDIR       a parent that is not a directory
 *   -EREMOTE       the inode lives on another shard (ns_ino_shard(ino)):
 *                  the call must be sent there, or (for an entry of this
 *                  shard pointing to a remote inode) the cross-shard form
 *                  below must be used; outputs say which inode
 *   -EINVAL        empty name, name with '/' or NUL, other bad arguments
 *   -ENAMETOOLONG  name longer than NS_NAME_MAX bytes
 *   -EACCES        permission bits deny the access
 *   -EPERM         an ownership rule denies it (chown, sticky directory, ...)
 *   -EIO           storage error or a corrupt record (logged)
 *   -ENOMEM        out of memory
 *   -ENOSPC        inode numbers exhausted or the disk is full
 * Each function lists any further codes.
 *
 * Threads: every function may be called from many threads at once.  Writers
 * lock the inodes they change through a fixed array of striped mutexes,
 * always in stripe order (rename: up to four inodes, plus one mutex that
 * serializes renames of directories between parents); readers (lookup,
 * getattr, readdir, getxattr, ...) take no lock.  ns_db_close() runs after
 * every other call has returned.
 *
 * Cross-shard protocols (driven by the daemon; "C" is the coordinator, the
 * shard that holds the intent record).  Every step is idempotent by op id
 * (struct ns_xop), so replaying a pending intent after a crash repeats the
 * steps from the phase its record names (the record is opaque here: the
 * daemon writes the phase into it as the steps below advance it);
 * ns_done_forget(op) on every shard touched once the intent is deleted.
 * A step that is the coordinator's local half writes, replaces or deletes
 * the intent record atomically with its change; a repeated step that finds
 * its change already made leaves the intent alone (except ns_dentry_unpin,
 * which always applies it).
 *
 *   mkdir P/name on remote shard S (C = shard of P):
 *     1. C: ns_mkdir(..., target_shard = S) returns -EREMOTE once every
 *        local check passed, with the attributes the directory gets
 *        (setgid inheritance applied).  C: ns_intent_put(op, record).
 *     2. S: ns_inode_create_prepared(op, those mode/uid/gid/layout,
 *        parent P) -> ino
 *     3. C: ns_dentry_link_remote(op + intent DEL, P, name, ino, 0)
 *        on error (-EEXIST, ...): S: ns_inode_abort_prepared(op, ino),
 *        C: ns_intent_del(op), report the error.
 *     Replay: from 2; ns_inode_create_prepared answers -ECANCELED if the op
 *     was aborted (then delete the intent).
 *
 *   rmdir P/name whose inode D is on shard S (C = shard of P):
 *     1. C: ns_rmdir() returns -EREMOTE, drop->ino = D, after the checks on P.
 *        Get D's uid from S (getattr).  C: ns_intent_put(op, record).
 *     2. S: ns_dir_prepare_remove(op, D)   (-ENOTEMPTY: go to 5)
 *     3. C: ns_dentry_unlink_remote(op + intent PUT "commit", P, name, D,
 *           uid, NS_UNLINK_DIR)            (error: go to 5)
 *     4. S: ns_dir_commit_remove(op, D); C: ns_intent_del(op).  Done.
 *     5. S: ns_dir_abort_remove(op, D); C: ns_intent_del(op); report.
 *
 *   unlink P/name of a file whose inode F is on shard H (C = shard of P):
 *     1. C: ns_unlink() returns -EREMOTE, drop->ino = F.  Get F's uid from H.
 *     2. C: ns_dentry_unlink_remote(op + intent PUT, P, name, F, uid, 0)
 *     3. H: ns_inode_nlink_adjust(op, F, -1); C: ns_intent_del(op).
 *
 *   link F (on shard H) as P/name (C = shard of P):
 *     1. C: ns_intent_put(op);  H: ns_inode_nlink_adjust(op, F, +1)
 *     2. C: ns_dentry_link_remote(op + intent DEL, P, name, F, 0)
 *        on error: H: ns_inode_nlink_adjust(op2, F, -1) (a second op id,
 *        or the same op after ns_done_forget), C: ns_intent_del(op).
 *
 *   rename OP/on (shard A) -> NP/nn (shard B), moved inode X, replaced T;
 *   also used on one shard when ns_rename() returns -EREMOTE (X or T lives
 *   elsewhere or the ancestry walk left the shard).  C = A.
 *     1. Directory X moving to another parent: check that NP is not X nor
 *        below X with ns_walk_parents() on each shard along the way
 *        (-EINVAL), under a cluster-wide rename lock held to the end.
 *     2. A: ns_dentry_pin(op + intent PUT, OP, on, X, X's uid): checks the
 *        permissions to remove OP/on and pins it: until the op ends, other
 *        changes of that entry fail with -EBUSY.
 *     3. If T is a directory on a shard other than B:
 *        T's shard: ns_dir_prepare_remove(op, T)  (error: undo, see 7).
 *     4. B: ns_dentry_link_remote(op, NP, nn, X, NS_LINK_REPLACE
 *        [| NS_LINK_NOREPLACE]) -> drop: the replaced entry; a replaced
 *        inode of shard B was handled there (drop->remote false).
 *        (error: undo, see 7)
 *     5. A: ns_dentry_unlink_remote(op + intent PUT "finish", OP, on, X, uid,
 *        NS_UNLINK_PINNED [| NS_UNLINK_DIR]).
 *        X's shard: ns_dir_set_parent(op, X, NP) if X is a directory whose
 *        parent changed.
 *     6. If drop->remote: T's shard: ns_dir_commit_remove(op, T) for a
 *        directory, else ns_inode_nlink_adjust(op, T, -1).
 *        A: ns_intent_del(op).  Done.
 *     7. Undo before step 5: T's shard ns_dir_abort_remove(op, T) if step 3
 *        ran; A: ns_dentry_unpin(op + intent DEL, OP, on).
 *   RENAME_EXCHANGE: pin both entries (2, on A and on B), then
 *     B: ns_dentry_link_remote(op, NP, nn, X, NS_LINK_EXCHANGE) (unpins),
 *     ns_dir_set_parent for each directory whose parent changes, and
 *     A: ns_dentry_link_remote(op + intent DEL, OP, on, Y, NS_LINK_EXCHANGE).
 */
#ifndef CAIRN_MDS_NS_H
#define CAIRN_MDS_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ns;

#define NS_SHARD_SHIFT 48
#define NS_INO_MASK ((UINT64_C(1) << NS_SHARD_SHIFT) - 1)
#define NS_ROOT_INO UINT64_C(1) /* (shard 0 << 48) | 1 */
#define NS_NAME_MAX 255
#define NS_SYMLINK_MAX 4095
#define NS_XATTR_NAME_MAX 255
#define NS_XATTR_SIZE_MAX 65536
#define NS_LINK_MAX 65000

static inline uint16_t ns_ino_shard(uint64_t ino)
{
	return (uint16_t)(ino >> NS_SHARD_SHIFT);
}

static inline uint64_t ns_ino_make(uint16_t shard, uint64_t counter)
{
	return ((uint64_t)shard << NS_SHARD_SHIFT) | (counter & NS_INO_MASK);
}

/*
 * Shard for a new directory named name in parent: a stable hash of both,
 * modulo nshards (0 is treated as 1).
 */
uint16_t ns_dir_shard(uint64_t parent, const char *name, size_t nlen, uint16_t nshards);

/* Who asks.  groups: ngroups supplementary group ids, owned by the caller. */
struct ns_cred {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups;
	const uint32_t *groups;
};

struct ns_time {
	int64_t sec;
	uint32_t nsec;
};

/*
 * Where a file's data goes.  Given at create (stored, returned by lookup
 * and getattr); a directory's layout is the default for files created in
 * it when create passes none.
 */
struct ns_layout {
	uint32_t pool_id;
	uint32_t chunk_size; /* bytes per data chunk */
	uint8_t k;	     /* data chunks per stripe */
	uint8_t m;	     /* parity chunks (replication: k = 1, m = copies - 1) */
};

struct ns_attr {
	uint64_t ino;
	uint64_t generation; /* for FUSE: (ino, generation) never repeats */
	uint32_t mode;	     /* S_IFMT type | permission bits */
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size; /* file bytes; directory: entries; symlink: target length */
	uint64_t rdev;
	struct ns_time atime;
	struct ns_time mtime;
	struct ns_time ctime;
	uint32_t flags; /* reserved, 0 */
	struct ns_layout layout;
	uint64_t parent; /* directories: parent ino (root: itself); else 0 */
};

/* What became of an inode that lost a link (unlink, rename, close). */
struct ns_drop {
	uint64_t ino;  /* 0: no inode lost a link */
	uint32_t mode; /* its type (and permission bits when known) */
	uint32_t nlink;
	bool remote;   /* lives on another shard: the caller adjusts it there */
	bool orphaned; /* no link left but open: freed by its last ns_close */
	bool freed;    /* deleted: the caller frees its data (size, layout) */
	uint64_t size;
	struct ns_layout layout;
};

struct ns_options {
	uint16_t shard;		   /* this shard's number */
	bool create_if_missing;	   /* create the database (and root on shard 0) */
	size_t block_cache_bytes;  /* 0: default (kv.h) */
	size_t write_buffer_bytes; /* 0: default (kv.h) */
	/*
	 * Called during ns_db_open for every orphan left by the previous run
	 * (unlinked while open, never closed): the inode is deleted, the
	 * callee frees its data.  May be NULL.
	 */
	void (*orphan_freed)(void *arg, const struct ns_drop *d);
	/*
	 * Called after a write that queued a purge (see "purges" below) is
	 * committed, on the thread that made it, with no lock of the engine
	 * held; also during ns_db_open.  Must be quick.  May be NULL.
	 */
	void (*purge_queued)(void *arg);
	void *cb_arg; /* of both callbacks */
};

/*
 * Opens the shard's database at path.  A new database is stamped with
 * opt->shard; shard 0 gets the root directory (0755 root:root).
 * Returns 0 and *out, or -EINVAL (database of another shard, unknown
 * format), -ENOENT (missing and !create_if_missing), -EBUSY (in use), -EIO,
 * -ENOSPC, -ENOMEM.
 */
int ns_db_open(const char *path, const struct ns_options *opt, struct ns **out);

/* Closes the database; open counts are forgotten (orphans stay). */
void ns_db_close(struct ns *ns);

/* Makes every completed mutation durable (group commit).  0, -EIO. */
int ns_sync(struct ns *ns);

uint16_t ns_shard(const struct ns *ns);

/*
 * Reads an inode's attributes.  No permission check (as for stat(2)).
 * Returns 0, -ENOENT, -EREMOTE, -EIO.
 */
int ns_getattr(struct ns *ns, uint64_t ino, struct ns_attr *out);

/*
 * Looks name up in directory parent (search permission needed).  "." and
 * ".." are answered from the directory itself.  An entry pointing to an
 * inode of another shard gives -EREMOTE with out->ino and the type bits
 * of out->mode set.
 * Returns 0, -ENOENT, -ENOTDIR, -EACCES, -EREMOTE, -EINVAL, -ENAMETOOLONG.
 */
int ns_lookup(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, struct ns_attr *out);

/*
 * access(2): mask of R_OK, W_OK, X_OK (0 = F_OK).
 * Returns 0, -EACCES, -ENOENT, -EREMOTE, -EINVAL (bad mask).
 */
int ns_access(struct ns *ns, const struct ns_cred *cred, uint64_t ino, int mask);

/* setattr fields (struct ns_setattr.valid) */
#define NS_SET_MODE (1u << 0)
#define NS_SET_UID (1u << 1)
#define NS_SET_GID (1u << 2)
#define NS_SET_SIZE (1u << 3)
#define NS_SET_ATIME (1u << 4)	   /* to .atime */
#define NS_SET_MTIME (1u << 5)	   /* to .mtime */
#define NS_SET_ATIME_NOW (1u << 6) /* to the current time */
#define NS_SET_MTIME_NOW (1u << 7)
#define NS_SET_CTIME (1u << 8)	 /* to .ctime (same rule as explicit times) */
#define NS_SET_HANDLE (1u << 9)	 /* size change through a handle open for write */
#define NS_SET_LAYOUT (1u << 10) /* to .layout */

struct ns_setattr {
	uint32_t valid;
	uint32_t mode; /* permission bits (07777); the type cannot change */
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct ns_time atime;
	struct ns_time mtime;
	struct ns_time ctime;
	struct ns_layout layout;
};

/*
 * Changes attributes, POSIX rules: chmod by owner or root (S_ISGID dropped
 * when a non-root owner is not in the file's group); chown by root only,
 * chgrp by the owner to one of their groups; chown/chgrp of a non-directory
 * clears S_ISUID, and S_ISGID when group-executable; explicit times by owner
 * or root, "now" also with write permission; size needs write permission
 * (unless NS_SET_HANDLE), updates mtime, and clears S_ISUID/S_ISGID (as
 * above) when done by non-root.  The layout (owner or root) of a
 * directory is the default of new files in it; a regular file's only
 * changes while it is empty.  ctime always becomes now.
 * Returns 0 (out filled if not NULL), -EPERM, -EACCES, -EISDIR (size of a
 * directory), -EINVAL (size of a non-regular file, layout of neither file
 * nor directory, bad mode or valid bits), -EBUSY (layout of a file with
 * data), -EFBIG (size beyond 2^63), -ENOENT, -EREMOTE, -EIO.
 */
int ns_setattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const struct ns_setattr *sa,
	       bool sync, struct ns_attr *out);

/*
 * Creates a regular file (O_CREAT | O_EXCL semantics).  mode: permission
 * bits, umask already applied.  layout NULL: the parent's.  S_ISGID is
 * dropped when the caller is not in the resulting group (non-root); the
 * group is the parent's if it has S_ISGID, else cred->gid.
 * Returns 0 and *out, -EEXIST (name taken, also "." and ".."), -EACCES
 * (no write+search on parent), -ENOENT, -ENOTDIR, -EINVAL, -ENAMETOOLONG,
 * -EREMOTE (parent on another shard), -ENOSPC, -EIO.
 */
int ns_create(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, uint32_t mode, const struct ns_layout *layout, bool sync,
	      struct ns_attr *out);

/*
 * mknod(2): mode's type is S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK
 * (0 means S_IFREG); rdev for devices.  As ns_create, plus -EPERM (device
 * node by non-root), -EINVAL (other types: use ns_mkdir / ns_symlink).
 */
int ns_mknod(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, uint32_t mode, uint64_t rdev, bool sync, struct ns_attr *out);

/*
 * mkdir(2) in parent; the new directory inherits the parent's layout and,
 * if the parent has S_ISGID, its group and S_ISGID.  target_shard: where
 * the new directory goes (ns_dir_shard).  If it is not this shard, every
 * check is made and -EREMOTE returned with *out describing the directory
 * to prepare there (mode, uid, gid, layout, parent; ino 0): run the
 * cross-shard mkdir.
 * Returns 0 and *out, -EREMOTE, -EMLINK (parent has NS_LINK_MAX links),
 * and the errors of ns_create.
 */
int ns_mkdir(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, uint32_t mode, uint16_t target_shard, bool sync, struct ns_attr *out);

/*
 * symlink(2): target of 1..NS_SYMLINK_MAX bytes (no NUL).
 * Returns 0 and *out, -ENOENT (empty target), -ENAMETOOLONG (target or
 * name too long), -EINVAL (NUL in target) and the errors of ns_create.
 */
int ns_symlink(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	       size_t nlen, const char *target, size_t tlen, bool sync, struct ns_attr *out);

/*
 * Reads a symlink's target into buf (not terminated) and sets *len.
 * Returns 0, -EINVAL (not a symlink), -ERANGE (cap too small; *len is the
 * length needed), -ENOENT, -EREMOTE, -EIO.
 */
int ns_readlink(struct ns *ns, uint64_t ino, char *buf, size_t cap, size_t *len);

/*
 * link(2): new name newparent/name for inode ino (both on this shard).
 * Returns 0 and *out (the inode, nlink updated), -EPERM (ino is a
 * directory), -EMLINK (NS_LINK_MAX links), -EEXIST, -EACCES, -ENOENT (ino
 * has no link left), -EREMOTE (ino on another shard: cross-shard link), and
 * the name errors.
 */
int ns_link(struct ns *ns, const struct ns_cred *cred, uint64_t ino, uint64_t newparent,
	    const char *name, size_t nlen, bool sync, struct ns_attr *out);

/*
 * unlink(2).  drop (may be NULL) says what became of the inode: freed
 * (caller frees its data), orphaned (still open) or links left.
 * Returns 0, -EISDIR (a directory, or "." / ".."), -EBUSY (entry pinned by a
 * cross-shard operation), -EPERM (sticky directory), -EACCES, -ENOENT,
 * -ENOTDIR, -EREMOTE (entry points to an inode of another shard; nothing
 * changed, drop->ino and drop->mode say which: cross-shard unlink).
 */
int ns_unlink(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	      size_t nlen, bool sync, struct ns_drop *drop);

/*
 * rmdir(2).  Returns 0, -ENOTEMPTY (also ".."), -EINVAL ("."), -ENOTDIR
 * (not a directory), -EBUSY (the root, or pinned), -EPERM (sticky), -EACCES,
 * -ENOENT, -EREMOTE (directory on another shard; drop->ino says which:
 * cross-shard rmdir).  drop may be NULL.
 */
int ns_rmdir(struct ns *ns, const struct ns_cred *cred, uint64_t parent, const char *name,
	     size_t nlen, bool sync, struct ns_drop *drop);

/* rename flags (renameat2); NS_RENAME_ANCESTRY_CHECKED is for the daemon */
#define NS_RENAME_NOREPLACE (1u << 0)
#define NS_RENAME_EXCHANGE (1u << 1)
#define NS_RENAME_ANCESTRY_CHECKED (1u << 8) /* caller did the subtree walk */

/*
 * rename(2) / renameat2 with both parents on this shard.  A replaced target
 * is reported in drop (may be NULL) as by ns_unlink.  Renaming an entry
 * onto a name that already points to the same inode does nothing.
 * Returns 0, -EEXIST (NOREPLACE and target exists), -ENOENT (source, or
 * target with EXCHANGE), -EISDIR (file over directory), -ENOTDIR
 * (directory over file), -ENOTEMPTY (over a non-empty directory), -EINVAL
 * (directory into its own subtree, both flags), -EBUSY ("." or "..", the
 * root, a pinned entry), -EMLINK, -EPERM (sticky), -EACCES, -EREMOTE (an
 * inode involved lives on another shard, or the subtree walk left this
 * shard: nothing changed; run the cross-shard rename, or walk the
 * ancestry elsewhere and retry with NS_RENAME_ANCESTRY_CHECKED).
 */
int ns_rename(struct ns *ns, const struct ns_cred *cred, uint64_t oldparent, const char *oldname,
	      size_t oldlen, uint64_t newparent, const char *newname, size_t newlen, unsigned flags,
	      bool sync, struct ns_drop *drop);

/* One directory entry handed to a readdir callback. */
struct ns_dirent {
	uint64_t ino;
	uint64_t cookie; /* pass back to resume after this entry */
	uint32_t type;	 /* S_IFMT bits */
	const char *name;
	uint32_t nlen;
	const struct ns_attr *attr; /* plus and inode on this shard, else NULL */
};

/*
 * Takes one entry: returns 0 to continue, 1 to stop without taking this
 * entry (e.g. the reply buffer is full), or -errno to abort the listing.
 */
typedef int (*ns_dirent_fn)(void *arg, const struct ns_dirent *e);

/* Bytes each entry counts against max_bytes: a fixed part and its name. */
#define NS_DIRENT_COST 32
#define NS_DIRENT_PLUS_COST 160

struct ns_readdir_args {
	uint64_t cookie;      /* 0: from the start */
	uint32_t max_entries; /* 0: no limit */
	uint32_t max_bytes;   /* 0: no limit; see NS_DIRENT_*COST */
	bool plus;	      /* with attributes */
	ns_dirent_fn fn;
	void *arg;
};

/*
 * Lists directory dir from a cookie ("." and ".." first).  Permission is
 * checked when the directory is opened (ns_open).  *eof tells whether the
 * end was reached.  Returns 0, -ENOTDIR, -ENOENT, -EREMOTE, -EIO, or the
 * callback's negative value.
 */
int ns_readdir(struct ns *ns, uint64_t dir, const struct ns_readdir_args *a, bool *eof);

struct ns_statfs {
	uint64_t inodes; /* inodes on this shard */
	uint64_t bytes;	 /* sum of regular file sizes on this shard */
};

void ns_statfs(struct ns *ns, struct ns_statfs *out);

/*
 * open(2) bookkeeping: checks access for flags (O_ACCMODE, O_TRUNC) and
 * counts the open, so an unlinked open file stays until its last
 * ns_close.  O_TRUNC truncates a regular file in the same write.  Returns
 * 0 and *out (may be NULL), -EACCES, -EISDIR (directory opened for
 * writing), -ELOOP (symlink), -ENOENT, -EREMOTE, -ENOMEM, -EIO.
 */
int ns_open(struct ns *ns, const struct ns_cred *cred, uint64_t ino, int flags, bool sync,
	    struct ns_attr *out);

/*
 * Last step of a handle opened by ns_open.  written: publish size (the
 * larger of the stored and given size) and mtime (ctime becomes now).
 * If this was the last open of an unlinked inode it is deleted and drop
 * (may be NULL) says freed.  Returns 0, -EBADF (not open), -ENOENT,
 * -EREMOTE, -EIO.
 */
int ns_close(struct ns *ns, uint64_t ino, bool written, uint64_t size, const struct ns_time *mtime,
	     bool sync, struct ns_drop *drop);

/* setxattr flags */
#define NS_XATTR_CREATE 1  /* fail with -EEXIST if present */
#define NS_XATTR_REPLACE 2 /* fail with -ENODATA if absent */

/*
 * Extended attributes, names "user.*" (regular files and directories,
 * permission bits; sticky directories by owner only), "trusted.*" (root
 * only, invisible to others), "security.*" (anyone reads, root writes).
 * Names 1..NS_XATTR_NAME_MAX, values up to NS_XATTR_SIZE_MAX bytes.
 *
 * ns_setxattr returns 0, -EEXIST, -ENODATA, -ERANGE (bad name length),
 * -E2BIG (value too large), -EOPNOTSUPP (other namespaces), -EPERM,
 * -EACCES, -EINVAL (both flags), -ENOENT, -EREMOTE, -EIO.
 */
int ns_setxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		size_t nlen, const void *value, size_t vlen, int flags, bool sync);

/*
 * Copies the value into buf and sets *vlen; cap 0 asks for the size only.
 * Returns 0, -ENODATA (absent), -ERANGE (cap too small, or bad name
 * length), -EOPNOTSUPP, -EPERM, -EACCES, -ENOENT, -EREMOTE, -EIO.
 */
int ns_getxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		size_t nlen, void *buf, size_t cap, size_t *vlen);

/*
 * Names visible to the caller, each followed by NUL, into buf; cap 0 asks
 * for the size.  Returns 0 and *len, -ERANGE (cap too small), -ENOENT,
 * -EREMOTE, -EIO.
 */
int ns_listxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, char *buf, size_t cap,
		 size_t *len);

/* Returns 0, -ENODATA, -ERANGE, -EOPNOTSUPP, -EPERM, -EACCES, -ENOENT,
 * -EREMOTE, -EIO. */
int ns_removexattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		   size_t nlen, bool sync);

/* ---- cross-shard primitives (see the protocols at the top) ---- */

enum ns_intent_op {
	NS_INTENT_KEEP = 0, /* leave the intent record alone */
	NS_INTENT_PUT,	    /* write (or replace) it with intent_data */
	NS_INTENT_DEL,	    /* delete it */
};

/* One step of a cross-shard operation. */
struct ns_xop {
	uint64_t op_id; /* nonzero, cluster-unique (ns_op_id_new) */
	enum ns_intent_op intent;
	const void *intent_data; /* NS_INTENT_PUT: the record, copied */
	uint32_t intent_len;
	bool sync;
};

/*
 * A new cluster-unique op id: this shard in the high 16 bits, a persisted
 * counter below (never reused).  Returns 0, -ENOSPC, -EIO.
 */
int ns_op_id_new(struct ns *ns, uint64_t *op_id);

/*
 * Intent records of this shard (the coordinator's), keyed by op id, at
 * most 1 MiB each.  put returns 0, -EINVAL (op id 0, too long), -ENOMEM,
 * -EIO.
 */
int ns_intent_put(struct ns *ns, uint64_t op_id, const void *data, size_t len, bool sync);
/* Returns 0 (absent is fine), -ENOMEM, -EIO. */
int ns_intent_del(struct ns *ns, uint64_t op_id, bool sync);
/* Copies up to cap bytes, sets *len.  Returns 0, -ENOENT, -EIO. */
int ns_intent_get(struct ns *ns, uint64_t op_id, void *buf, size_t cap, size_t *len);

typedef int (*ns_intent_fn)(void *arg, uint64_t op_id, const void *data, size_t len);
/* Calls fn for every intent in op id order; stops at a nonzero return,
 * which is returned.  Returns 0, that value, or -EIO. */
int ns_intent_list(struct ns *ns, ns_intent_fn fn, void *arg);

/* Forgets the results this shard kept for op_id's steps.  Returns 0,
 * -ENOMEM, -EIO. */
int ns_done_forget(struct ns *ns, uint64_t op_id);
/* Forgets results at least max_age_sec old (0: all); *removed (may be
 * NULL) counts them.  Returns 0, -ENOMEM, -EIO. */
int ns_done_gc(struct ns *ns, uint64_t max_age_sec, uint64_t *removed);

/*
 * Creates an inode of this shard with no entry here (its entry is on the
 * parent's shard): nlink 2 for a directory, 1 otherwise.  Ownership and
 * mode are taken as given (the coordinator applied setgid inheritance);
 * parent is the directory that will hold the entry.  A second call with
 * the same op id returns the same inode.
 * Returns 0 and *out, -ECANCELED (op was aborted, or its inode is gone),
 * -EINVAL (bad type, parent 0, bad xop), -ENOSPC, -EIO.
 */
int ns_inode_create_prepared(struct ns *ns, const struct ns_xop *x, uint32_t mode, uint32_t uid,
			     uint32_t gid, uint64_t rdev, uint64_t parent,
			     const struct ns_layout *layout, struct ns_attr *out);

/*
 * Undoes ns_inode_create_prepared (its entry could not be made): deletes
 * the inode if it is still as created.  Idempotent; later create_prepared
 * calls for op answer -ECANCELED.  Returns 0, -EBUSY (no longer as
 * created: it has entries or links), -EREMOTE, -EIO.
 */
int ns_inode_abort_prepared(struct ns *ns, const struct ns_xop *x, uint64_t ino);

/*
 * Adds delta to the link count of non-directory ino, once per op id.  At
 * 0 the inode is deleted (drop->freed) or, while open, kept as an orphan.
 * Returns 0 and *drop (may be NULL), -EISDIR, -EMLINK (over NS_LINK_MAX),
 * -ENOENT, -EREMOTE, -EINVAL (delta would go below 0, op id 0), -EIO.
 */
int ns_inode_nlink_adjust(struct ns *ns, const struct ns_xop *x, uint64_t ino, int32_t delta,
			  struct ns_drop *drop);

/* ns_dentry_link_remote flags */
#define NS_LINK_REPLACE (1u << 0)   /* rename target: replace an entry */
#define NS_LINK_NOREPLACE (1u << 1) /* with REPLACE: fail with -EEXIST */
#define NS_LINK_EXCHANGE (1u << 2)  /* swap: the old target is not dropped */

/*
 * Makes entry parent/name point to ino (an inode of any shard, of type
 * type = S_IFMT bits), once per op id; a directory bumps parent's nlink.
 * Without flags the name must be free (-EEXIST).  NS_LINK_REPLACE replaces
 * an existing entry by rename(2) rules (-EISDIR, -ENOTDIR, -ENOTEMPTY for
 * a local directory; a remote directory must have been prepared with
 * ns_dir_prepare_remove) and reports it in drop (may be NULL): a replaced
 * inode of this shard is unlinked here (sticky rule checked here), a
 * remote one has drop->remote set (its sticky rule is the caller's).
 * NS_LINK_EXCHANGE requires the entry (-ENOENT), which may be pinned by
 * this op, and reports the old target in drop without dropping it.
 * cred may be NULL when permissions were checked in an earlier step.
 * Returns 0, the errors above, -EBUSY (pinned by another op), -EMLINK,
 * -EACCES, -EPERM, -ENOENT (parent missing or being removed), -ENOTDIR,
 * -EINVAL, -ENAMETOOLONG, -EREMOTE (parent on another shard), -EIO.
 */
int ns_dentry_link_remote(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
			  uint64_t parent, const char *name, size_t nlen, uint64_t ino,
			  uint32_t type, unsigned flags, struct ns_drop *drop);

/* ns_dentry_unlink_remote flags */
#define NS_UNLINK_DIR (1u << 0)	   /* rmdir: the entry must be a directory */
#define NS_UNLINK_PINNED (1u << 1) /* the entry is pinned by this op */

/*
 * Removes entry parent/name if it points to ino, without touching the
 * inode (it is remote, or the caller adjusts it in another step); once per
 * op id.  victim_uid: the inode's owner, for the sticky-directory rule.
 * cred may be NULL when permissions were checked in an earlier step.
 * Returns 0, -ENOENT (no such entry, or it points elsewhere), -EISDIR /
 * -ENOTDIR (type does not match NS_UNLINK_DIR), -EBUSY (pinned by another
 * op), -EPERM, -EACCES, -EREMOTE (parent on another shard), -EIO.
 */
int ns_dentry_unlink_remote(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
			    uint64_t parent, const char *name, size_t nlen, uint64_t ino,
			    uint32_t victim_uid, unsigned flags);

/*
 * Pins entry parent/name (pointing to ino) for op: checks the permission
 * to remove it (victim_uid for the sticky rule; cred NULL skips checks) and
 * makes other changes of the entry fail with -EBUSY until the op removes,
 * replaces or unpins it.  Idempotent.  Returns 0, -EBUSY (pinned by
 * another op), -ENOENT (missing, or points elsewhere), -EPERM, -EACCES,
 * -EREMOTE, -EIO.
 */
int ns_dentry_pin(struct ns *ns, const struct ns_cred *cred, const struct ns_xop *x,
		  uint64_t parent, const char *name, size_t nlen, uint64_t ino,
		  uint32_t victim_uid);

/* Releases the pin of op (absent entry or pin: 0).  Returns 0, -EREMOTE,
 * -EIO. */
int ns_dentry_unpin(struct ns *ns, const struct ns_xop *x, uint64_t parent, const char *name,
		    size_t nlen);

/*
 * Cross-shard rmdir of directory ino of this shard.  prepare: checks it
 * is empty and marks it, so creating entries in it fails with -ENOENT;
 * commit: deletes it; abort: unmarks it.  Each is idempotent.
 * prepare returns 0, -ENOTEMPTY, -ENOTDIR, -EBUSY (root, or marked by
 * another op), -ENOENT, -EREMOTE, -EIO.  commit returns 0 (also when
 * already gone), -EINVAL (not marked by this op), -EIO.  abort returns 0
 * (also when not marked), -EIO.
 */
int ns_dir_prepare_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino);
int ns_dir_commit_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino);
int ns_dir_abort_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino);

/*
 * Sets the parent of directory ino (cross-shard rename), ctime now;
 * idempotent.  Returns 0, -ENOTDIR, -ENOENT, -EBUSY (the root), -EINVAL
 * (parent 0, bad xop), -EREMOTE, -EIO.
 */
int ns_dir_set_parent(struct ns *ns, const struct ns_xop *x, uint64_t ino, uint64_t parent);

/*
 * Walks up the parents of directory ino while they live on this shard.
 * Returns 1 if target is ino or one of its ancestors, 0 if the root was
 * reached without meeting it, -EREMOTE with *stop = the first ancestor of
 * another shard (continue the walk there), -ENOENT, -ENOTDIR, -ELOOP (a
 * cycle: corruption), -EIO.
 */
int ns_walk_parents(struct ns *ns, uint64_t ino, uint64_t target, uint64_t *stop);

/*
 * access(2)-style check of mask (NS_MAY_* bits: 4 read, 2 write, 1 search)
 * against attributes the caller already has, e.g. from another shard.
 * Returns 0 or -EACCES.
 */
int ns_attr_access(const struct ns_cred *cred, const struct ns_attr *a, int mask);

/* ---- purges: the chunks of freed files, still to delete on the OSDs ---- */

/*
 * Whenever a regular file of size > 0 with a pool in its layout is deleted
 * (last unlink without an open handle, last close of an unlinked file, an
 * orphan reaped at open, a cross-shard link drop, fsck), the write batch
 * that deletes its inode also records a purge entry: its ino, size and
 * layout.  So a crash never loses a purge, and never leaves one for a file
 * that still exists (inode numbers are never reused).  The daemon's purger
 * (mds/purge.h) deletes the chunks and then the entry, recording its
 * progress on the way; it is the only one to change or remove entries
 * (one thread), which is what makes the functions below safe without a
 * lock.
 */
struct ns_purge {
	uint64_t ino;
	uint64_t size;		 /* the file's size when it was freed */
	struct ns_layout layout; /* k + m chunks of chunk_size per stripe */
	uint64_t next_stripe;	 /* progress: every stripe below is deleted */
};

/*
 * Lists up to max purge entries with ino above after, in ino order, into
 * out[0..*n).  *n < max means the end was reached.  Corrupt records are
 * logged and skipped.  Returns 0, -EINVAL (max 0), -ENOMEM, -EIO.
 */
int ns_purge_list(struct ns *ns, uint64_t after, struct ns_purge *out, uint32_t max, uint32_t *n);

/*
 * Reads the purge entry of ino.  Returns 0, -ENOENT, -EIO (corrupt).
 */
int ns_purge_get(struct ns *ns, uint64_t ino, struct ns_purge *out);

/*
 * Records progress: p->next_stripe (p as listed, with the new value).
 * Group-committed.  Returns 0, -EINVAL (no such stripe: past the file's
 * last one plus one), -ENOENT (no such entry), -ENOMEM, -EIO.
 */
int ns_purge_progress(struct ns *ns, const struct ns_purge *p);

/*
 * Deletes the purge entry of ino (every chunk is gone).  Group-committed:
 * an entry that reappears after a crash is purged again, which deletes
 * nothing.  Returns 0 (also when absent), -ENOMEM, -EIO.
 */
int ns_purge_done(struct ns *ns, uint64_t ino);

/*
 * Number of stripes that can hold data of a purge entry:
 * ceil(size / (k * chunk_size)), 0 for a bad layout.
 */
uint64_t ns_purge_stripes(const struct ns_purge *p);

/* ---- consistency check (fsck): scans and repairs of one shard ---- */

/* ns_scan_inode.state */
#define NS_SCAN_OPEN 1u	  /* open right now */
#define NS_SCAN_ORPHAN 2u /* unlinked while open: freed at its last close */

struct ns_scan_inode {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint64_t parent; /* directories (root: itself); else 0 */
	uint64_t size;
	uint32_t state;	 /* NS_SCAN_* */
	uint64_t rm_op;	 /* directories: op of a pending cross-shard rmdir, or 0 */
};

/* One record to a scan callback: 0 goes on, nonzero stops (a negative
 * value is returned by the scan). */
typedef int (*ns_scan_inode_fn)(void *arg, const struct ns_scan_inode *in);

/*
 * Calls fn for the inodes of this shard numbered above after, in order, at
 * most max of them (0: no limit).  *eof tells whether the last inode was
 * passed.  Returns 0, -EIO (storage error, corrupt record), -ENOMEM, or
 * fn's negative value.
 */
int ns_scan_inodes(struct ns *ns, uint64_t after, uint32_t max, ns_scan_inode_fn fn, void *arg,
		   bool *eof);

struct ns_scan_dentry {
	uint64_t parent;
	const char *name; /* not terminated; valid during the callback */
	size_t nlen;
	uint64_t ino;
	uint32_t type; /* S_IFMT bits */
	uint64_t pin;  /* op id holding the entry, or 0 */
};

typedef int (*ns_scan_dentry_fn)(void *arg, const struct ns_scan_dentry *de);

/*
 * Calls fn for the entries of this shard after (after_parent,
 * after_name) in key order (directory, then name bytes); (0, "", 0) starts
 * at the first.  max and *eof as for ns_scan_inodes.  Returns 0, -EINVAL
 * (after_name longer than NS_NAME_MAX), -EIO, -ENOMEM, or fn's value.
 */
int ns_scan_dentries(struct ns *ns, uint64_t after_parent, const char *after_name, size_t alen,
		     uint32_t max, ns_scan_dentry_fn fn, void *arg, bool *eof);

/*
 * Removes entry parent/name if it points to ino, without touching the
 * inode (repair of a dangling entry; pins are ignored).  The directory's
 * size (and link count for a directory entry) follow, unless the directory
 * itself is missing.  Returns 0, -ENOENT (no such entry), -ESTALE (points
 * to another inode), -EREMOTE (parent on another shard), -EINVAL (bad
 * name), -EIO.
 */
int ns_fsck_remove_dentry(struct ns *ns, uint64_t parent, const char *name, size_t nlen,
			  uint64_t ino);

/*
 * Sets the link count of ino to nlink if it is still expected.  Returns 0,
 * -ESTALE (it is not), -EINVAL (nlink 0: delete instead; below 2 for a
 * directory; above NS_LINK_MAX), -ENOENT, -EREMOTE, -EIO.
 */
int ns_fsck_set_nlink(struct ns *ns, uint64_t ino, uint32_t expected, uint32_t nlink);

/*
 * Deletes inode ino (an orphan: no entry points to it) if its link count
 * is still expected, with its satellites (xattrs, symlink target) and, for
 * a directory, its own entries (the inodes they point to are left for the
 * next check: they lose a link).  drop (may be NULL) reports the freed
 * inode.  Returns 0, -ESTALE, -EBUSY (open, or the root), -ENOENT,
 * -EREMOTE, -ENOMEM, -EIO.
 */
int ns_fsck_delete_inode(struct ns *ns, uint64_t ino, uint32_t expected, struct ns_drop *drop);

/*
 * Sets the parent of directory ino to parent if it is still expected.
 * Returns 0, -ESTALE, -ENOTDIR, -EBUSY (the root), -EINVAL (parent 0),
 * -ENOENT, -EREMOTE, -EIO.
 */
int ns_fsck_set_parent(struct ns *ns, uint64_t ino, uint64_t expected, uint64_t parent);

#endif
