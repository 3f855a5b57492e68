/*
 * ns_int.h - internals shared by the files of the namespace engine (ns.c,
 * ns_record.c, ns_perm.c, ns_entry.c, ns_dir.c, ns_xattr.c, ns_xshard.c,
 * ns_xentry.c, ns_fsck.c, ns_purge.c).  Not for use outside mds/ns*.c.
 *
 * Records (little-endian, proto/wire.h cursors, a leading format version):
 *   inode   ver u8, mode u32, uid u32, gid u32, nlink u32, size u64,
 *           rdev u64, atime/mtime/ctime (sec u64, nsec u32), generation u64,
 *           flags u32, iflags u32, layout (pool u32, chunk u32, k u8, m u8);
 *           directories add parent u64, next_seq u64, rm_op u64
 *   dentry  ver u8, ino u64, type u8 (mode >> 12), seq u64, pin u64
 *   dirseq  ino u64, type u8, name (the rest)
 *   done    ver u8, time u64, ino u64, mode u32, nlink u32, bits u8,
 *           size u64, layout
 *   purge   ver u8, size u64, layout (pool u32, chunk u32, k u8, m u8),
 *           next_stripe u64
 *
 * Locking: a mutation is a struct ns_txn: it locks the stripes of the
 * inodes it reads and changes (ns_txn_lock / ns_txn_lock_add, always in
 * ascending stripe order), queues puts and deletes in one batch, and writes
 * it with ns_txn_commit.  Counters of stripe s change only under s's lock.
 */
#ifndef CAIRN_MDS_NS_INT_H
#define CAIRN_MDS_NS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mds/keys.h"
#include "mds/kv.h"
#include "mds/ns.h"

#define NS_FORMAT 1
#define NS_STRIPES 1024 /* part of the format: usage counters are per stripe */
#define NS_TXN_MAXLOCK 8
#define NS_INO_FIRST 16 /* counters start here; 1..15 reserved (root = 1) */
#define NS_INO_BLOCK 4096
#define NS_OP_BLOCK 1024
#define NS_REC_MAX 160 /* an encoded inode record fits */
#define NS_DENTRY_REC 26
#define NS_PURGE_REC 27

/* ns_inode.iflags: internal, never shown in ns_attr.flags */
#define NS_IF_XATTR (1u << 0)  /* may have extended attributes */
#define NS_IF_ORPHAN (1u << 1) /* has an orphan key */

/* Access mask bits, as R_OK / W_OK / X_OK. */
#define NS_MAY_READ 4
#define NS_MAY_WRITE 2
#define NS_MAY_EXEC 1

struct ns_inode {
	struct ns_attr a;
	uint32_t iflags;
	uint64_t next_seq; /* directories: next readdir sequence number */
	uint64_t rm_op;	   /* directories: op of a pending cross-shard rmdir */
};

struct ns_dentry {
	uint64_t ino;
	uint32_t type; /* S_IFMT bits */
	uint64_t seq;
	uint64_t pin; /* op id of a cross-shard operation holding it, or 0 */
};

struct ns_open_ent {
	uint64_t ino;
	uint32_t count;
	struct ns_open_ent *next;
};

struct ns_stripe {
	pthread_mutex_t lock;
	struct ns_open_ent *open; /* lock */
	/* Written under lock (and persisted with it), read by statfs. */
	_Atomic int64_t inodes;
	_Atomic int64_t bytes;
} __attribute__((aligned(64)));

struct ns {
	struct kv_db *db;
	uint16_t shard;
	uint32_t boot;		   /* incremented at every open */
	_Atomic uint32_t gen_next; /* low half of generations of this boot */
	pthread_mutex_t alloc_lock;
	uint64_t ino_next, ino_hwm;	 /* alloc_lock; hwm is persisted */
	uint64_t op_next, op_hwm;	 /* alloc_lock; hwm is persisted */
	pthread_mutex_t rename_lock;	 /* renames between two directories */
	void (*purge_queued)(void *arg); /* ns_options, set at open */
	void *cb_arg;
	struct ns_stripe stripes[NS_STRIPES];
};

struct ns_txn {
	struct ns *ns;
	struct kv_batch *b;
	unsigned nlocks;
	uint16_t locks[NS_TXN_MAXLOCK]; /* held stripes, ascending */
	bool rename_locked;
	struct ns_time now;
	int64_t d_inodes; /* counter changes, applied at commit */
	int64_t d_bytes;
	bool purge_queued; /* the batch records a purge entry */
	bool purge_notify; /* committed one: call ns->purge_queued at the end */
};

/* ---- ns.c: transactions, locks, allocation ---- */

static inline unsigned ns_stripe_of(uint64_t ino)
{
	return (unsigned)((ino * UINT64_C(0x9E3779B97F4A7C15)) >> 54); /* 10 bits */
}

void ns_now(struct ns_time *t);
/* Returns 0 or -ENOMEM. */
int ns_txn_begin(struct ns *ns, struct ns_txn *t);
/* Locks the stripes of n inodes (0 entries are skipped); holds nothing before. */
void ns_txn_lock(struct ns_txn *t, const uint64_t *inos, unsigned n);
/*
 * Makes sure the stripes of inos (every inode the caller needs, n <= 4)
 * are held.  Returns true if no lock was released on the way, false if all
 * were released and exactly these retaken in order: whatever was read
 * under the locks must be read again.
 */
bool ns_txn_lock_add(struct ns_txn *t, const uint64_t *inos, unsigned n);
bool ns_txn_holds(const struct ns_txn *t, uint64_t ino);
void ns_txn_unlock(struct ns_txn *t);
/* Writes the batch (and counter changes).  Returns 0, -EIO, -ENOSPC. */
int ns_txn_commit(struct ns_txn *t, bool sync);
/* Unlocks and frees; safe after a failed begin. */
void ns_txn_end(struct ns_txn *t);

int ns_alloc_ino(struct ns *ns, uint64_t *ino);
uint64_t ns_new_generation(struct ns *ns);
/* Stable 64-bit hash of (id, name). */
uint64_t ns_name_hash(uint64_t id, const char *name, size_t nlen);

/* Open counts, under the ino's stripe lock. */
uint32_t ns_open_count(struct ns *ns, uint64_t ino);

/* ---- ns_record.c: record codecs and single-record access ---- */

size_t ns_inode_encode(const struct ns_inode *in, uint8_t *buf, size_t cap);
/* Returns 0 or -EIO (logged) for a malformed record. */
int ns_inode_decode(uint64_t ino, const void *buf, size_t len, struct ns_inode *in);
/* Returns 0, -ENOENT, -EREMOTE (other shard), -EIO. */
int ns_inode_get(struct ns *ns, uint64_t ino, struct ns_inode *in);
void ns_inode_put(struct ns_txn *t, const struct ns_inode *in);
/* Queues the deletion of the inode and everything hanging off it. */
int ns_inode_delete(struct ns_txn *t, const struct ns_inode *in);
/*
 * After in->a.nlink dropped: orphans the inode if open, deletes it if no
 * link is left, else writes it.  Fills drop (may be NULL).
 */
int ns_inode_release(struct ns_txn *t, struct ns_inode *in, struct ns_drop *drop);
void ns_drop_fill(struct ns_drop *d, const struct ns_inode *in, bool orphaned, bool freed);

size_t ns_dentry_encode(const struct ns_dentry *de, uint8_t *buf);
int ns_dentry_decode(const void *buf, size_t len, struct ns_dentry *de);
/* Returns 0, -ENOENT, -EIO. */
int ns_dentry_get(struct ns *ns, uint64_t parent, const char *name, size_t nlen,
		  struct ns_dentry *de);
/* Puts the entry and its readdir index record. */
void ns_dentry_put(struct ns_txn *t, uint64_t parent, const char *name, size_t nlen,
		   const struct ns_dentry *de);
/* Deletes the entry and its readdir index record. */
void ns_dentry_del(struct ns_txn *t, uint64_t parent, const char *name, size_t nlen,
		   const struct ns_dentry *de);

/*
 * Validates a name: -EINVAL (empty, '/' or NUL), -ENAMETOOLONG.  Returns 1
 * for "." or "..", (2 for ".."), 0 for an ordinary name.
 */
int ns_name_check(const char *name, size_t nlen);

/*
 * Common checks on a directory that entries are added to or removed from:
 * -ENOTDIR, -ENOENT (deleted or being removed), -EACCES (write+search).
 * cred NULL skips the permission check.
 */
int ns_dir_check_modify(const struct ns_cred *cred, const struct ns_inode *dir);
/* Directory mtime and ctime become now; size changes by d_entries. */
void ns_dir_touch(struct ns_txn *t, struct ns_inode *dir, int d_entries);

/* ---- ns_purge.c: purge entries ---- */

/* Encodes p (not its ino, the key) into buf[NS_PURGE_REC]; returns the length. */
size_t ns_purge_encode(const struct ns_purge *p, uint8_t *buf);
/*
 * Decodes the record of ino.  Returns 0, or -EIO for a malformed record
 * (bad length or version, k of 0, more than 255 chunks per stripe, chunk
 * size of 0, next_stripe past the end); not logged.
 */
int ns_purge_decode(uint64_t ino, const void *buf, size_t len, struct ns_purge *p);
/*
 * Queues the purge entry of regular file in (being deleted in the same
 * batch) if it may have chunks: size > 0 and a pool in its layout.
 */
void ns_purge_queue(struct ns_txn *t, const struct ns_inode *in);

/* ---- ns_perm.c: POSIX permission checks ---- */

bool ns_cred_in_group(const struct ns_cred *c, uint32_t gid);
bool ns_cred_owns(const struct ns_cred *c, const struct ns_attr *a);
/* mask of NS_MAY_*.  Returns 0 or -EACCES. */
int ns_perm(const struct ns_cred *c, const struct ns_attr *a, int mask);
/* Sticky directory rule for removing/replacing an entry owned by uid: -EPERM. */
int ns_perm_sticky(const struct ns_cred *c, const struct ns_attr *dir, uint32_t victim_uid);
/* Sets the owner and mode of a new inode (setgid inheritance). */
void ns_perm_init_owner(const struct ns_cred *c, const struct ns_inode *dir, uint32_t *mode,
			uint32_t *uid, uint32_t *gid);
/* Validates and applies the mode/uid/gid part of a setattr to in. */
int ns_perm_setattr_ids(const struct ns_cred *c, struct ns_inode *in, const struct ns_setattr *sa);
/* Clears S_ISUID, and S_ISGID if group-executable (kill privileges). */
void ns_perm_kill_suid(struct ns_inode *in);

/* ---- ns_xshard.c: done records of idempotent steps ---- */

enum ns_step {
	NS_STEP_CREATE = 1,
	NS_STEP_ABORT_CREATE,
	NS_STEP_NLINK,
	NS_STEP_LINK,
	NS_STEP_UNLINK,
};

/*
 * Returns 0 and *drop (may be NULL) if step (op, step, disc) was done,
 * -ENOENT if not, -EIO.
 */
int ns_done_get(struct ns *ns, uint64_t op_id, uint8_t step, uint64_t disc, struct ns_drop *drop);
void ns_done_put(struct ns_txn *t, uint64_t op_id, uint8_t step, uint64_t disc,
		 const struct ns_drop *drop);
/* Validates an xop: -EINVAL. */
int ns_xop_check(const struct ns_xop *x);
/* Finishes a step: its done record (step 0: none), the intent action, the write. */
int ns_xop_commit(struct ns_txn *t, const struct ns_xop *x, uint8_t step, uint64_t disc,
		  const struct ns_drop *drop);
/* Applies x's intent action to the batch. */
void ns_xop_intent(struct ns_txn *t, const struct ns_xop *x);

#endif
