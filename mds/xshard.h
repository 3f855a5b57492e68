/*
 * xshard.h - operations that span metadata shards.
 *
 * The shard that receives a client request whose change spans shards is the
 * coordinator: it drives the protocol of mds/ns.h ("Cross-shard
 * protocols"), writing an intent record atomically with its own local step,
 * calling the idempotent prepared steps on the peer shards (internal
 * opcodes handled by mds_xshard_handle), and deleting the intent at the
 * end.  Pending intents are replayed at start-up and retried in the
 * background until the peers answer, so a SIGKILL of any shard at any
 * point leaves no half-applied operation once the shards are up again.
 *
 * Threads: the coordinator functions run on the RPC worker thread of the
 * client's request and call peers synchronously; the replay runs on a
 * thread of its own.  Everything here may be called concurrently.
 */
#ifndef CAIRN_MDS_XSHARD_H
#define CAIRN_MDS_XSHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mds;
struct ns_attr;
struct ns_cred;
struct ns_drop;
struct rpc_req;

/*
 * Connects the peer clients (m->peers) and starts the replay of pending
 * intents.  Returns 0, -ENOMEM, or -errno.
 */
int mds_xshard_start(struct mds *m);

/* Stops the replay thread; pending intents stay for the next start. */
void mds_xshard_stop(struct mds *m);

/*
 * Serves an internal shard-to-shard request (opcodes 0x0180..0x01bf), and
 * passes fsck requests (0x01c0..0x01df) to mds_fsck_handle (mds/fsck.h).
 */
void mds_xshard_handle(struct mds *m, struct rpc_req *req);

/* Attributes of an inode of another shard, from its home shard. */
int mds_xshard_getattr(struct mds *m, uint64_t ino, struct ns_attr *out);

/*
 * Coordinators, called when the local ns_* call returned -EREMOTE (rename
 * and link also when their two sides live on different shards).  Each
 * returns 0 or the -errno the client must see, as the matching ns_* call
 * documents, plus -EIO/-ETIMEDOUT/-EHOSTUNREACH when a peer shard could not
 * be reached (the intent then stays and the replay finishes the operation
 * later: the client sees an error but no half-applied state).
 *
 * In this implementation (mds/xshard*.c):
 *  - A peer that cannot be reached gives -EIO, never -ETIMEDOUT or
 *    -EHOSTUNREACH.  If this happens before the operation's commit point
 *    the replay decides the outcome (done or undone, never half); after
 *    the commit point (the entry change on the coordinator, or for rename
 *    the link on the new parent's shard) the client gets 0 and the replay
 *    only completes the remote bookkeeping.
 *  - Every step is written synchronously whatever sync says: the order of
 *    steps across shards must survive a machine crash, not only a SIGKILL.
 *  - mkdir: dir is what ns_mkdir returned with -EREMOTE.  *out gets the new
 *    directory's attributes.
 *  - rmdir: dir_ino is drop->ino of ns_rmdir's -EREMOTE.
 *  - unlink: target is the drop of ns_unlink's -EREMOTE (ino, mode).
 *  - link: *out gets the inode's attributes after the link.  -EPERM for a
 *    directory, as link(2).
 *  - rename: flags are NS_RENAME_NOREPLACE / NS_RENAME_EXCHANGE.  It may be
 *    called for any rename whose old parent is on this shard: it also
 *    handles both parents here (a walk that left the shard, inodes of
 *    other shards).  A directory that changes parent is moved under the
 *    cluster-wide rename lock of shard 0 (-EBUSY if it stays held by
 *    another rename for XS_LOCK_WAIT_MS); moving one into its own subtree
 *    gives -EINVAL.  Other callers should route every rename that moves a
 *    directory to another parent through here when there are several
 *    shards, so that all such renames serialize on that lock.
 */
int mds_xshard_mkdir(struct mds *m, const struct ns_cred *cred, uint64_t parent, const char *name,
		     size_t nlen, const struct ns_attr *dir, uint16_t target_shard, bool sync,
		     struct ns_attr *out);
int mds_xshard_rmdir(struct mds *m, const struct ns_cred *cred, uint64_t parent, const char *name,
		     size_t nlen, uint64_t dir_ino, bool sync);
int mds_xshard_unlink(struct mds *m, const struct ns_cred *cred, uint64_t parent,
		      const char *name, size_t nlen, const struct ns_drop *target, bool sync);
int mds_xshard_link(struct mds *m, const struct ns_cred *cred, uint64_t ino, uint64_t newparent,
		    const char *name, size_t nlen, bool sync, struct ns_attr *out);
int mds_xshard_rename(struct mds *m, const struct ns_cred *cred, uint64_t oldparent,
		      const char *oldname, size_t olen, uint64_t newparent, const char *newname,
		      size_t nnlen, uint32_t flags, bool sync);

/* ---- for fsck (mds/fsck.c) ---- */

/*
 * Reads what fsck shows of an intent record of this shard: the operation
 * kind and phase (xshard_int.h) and when it started (CLOCK_REALTIME
 * seconds).  Returns 0, or -EINVAL for a record it cannot read.
 */
int mds_xshard_intent_info(const void *rec, size_t len, uint8_t *kind, uint8_t *phase,
			   int64_t *start_sec);

/*
 * Drives pending operation op_id (an intent of this shard) now, finishing
 * or undoing it from its recorded phase.  Returns 0 (done: the intent is
 * gone), -ENOENT (no such intent), -EBUSY (being driven right now),
 * -EAGAIN (a peer could not be reached: still pending, the replay retries),
 * -EINVAL (unreadable record), or -EIO.
 */
int mds_xshard_rerun(struct mds *m, uint64_t op_id);

/*
 * Deletes intent op_id without doing anything else (for a record that
 * cannot be read or replayed; fsck then finds what it left).  Returns 0,
 * -ENOENT, -EBUSY (being driven), -EIO.
 */
int mds_xshard_drop(struct mds *m, uint64_t op_id);

#endif
