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

/* Serves an internal shard-to-shard request (opcodes 0x0180..0x01bf). */
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

#endif
