/*
 * server_lock.h - the file lock service of a metadata shard: the opcodes
 * LOCK_GET, LOCK_SET, FLOCK, LOCK_CANCEL, LOCK_RELEASE and LOCK_SESSION
 * (proto/mds.h) over the shard's lock table (mds/locks.h).
 *
 * Locks live in memory on the inode's home shard and are not persisted: a
 * restart of the shard drops them all (clients learn it from LOCK_SESSION,
 * whose reply then says the session is new).  A client session is a
 * random id of one libcairn handle; it stays alive while the client sends
 * LOCK_SESSION (or any lock request) at least every MDS_LOCK_LEASE_MS, so
 * a client whose connection breaks and comes back within the lease keeps
 * its locks, and one that dies loses them (waiters woken) at most a lease
 * after its last sign of life.  A client that closes its handle ends its
 * session at once (LOCK_SESSION with END).
 *
 * Blocking requests (F_SETLKW, flock without LOCK_NB) hold no thread: the
 * RPC request is kept in the table's queue and answered when granted,
 * cancelled (LOCK_CANCEL: -EINTR), taken over by the same wait id (after
 * a reconnection: -EALREADY to the old one), or ended with the session.
 *
 * Threads: handlers run on the RPC I/O threads and never block (one mutex
 * around the table, held for in-memory work only); one expirer thread ends
 * silent sessions every MDS_LOCK_TICK_MS.  Replies to woken waiters are
 * sent after the mutex is released, from whichever thread woke them.
 */
#ifndef CAIRN_MDS_SERVER_LOCK_H
#define CAIRN_MDS_SERVER_LOCK_H

struct mds;
struct rpc_req;

/* How long a silent session keeps its locks, told to clients. */
#define MDS_LOCK_LEASE_MS 5000
#define MDS_LOCK_TICK_MS 250

/*
 * Creates the lock table of m (m->locks) and starts the expirer.  Returns
 * 0, -ENOMEM, or -errno from pthread_create.
 */
int mds_lock_start(struct mds *m);

/*
 * Answers every queued request -ESHUTDOWN and refuses new waits the same
 * way, so that the RPC server can stop (it waits for every request).
 */
void mds_lock_quiesce(struct mds *m);

/* Stops the expirer and frees the table (after the server stopped). */
void mds_lock_stop(struct mds *m);

/*
 * The handler of the lock opcodes (server.c dispatches them here); on the
 * I/O thread, never blocks.  Answers req now, or later when it waits.
 */
void mds_lock_handle(struct mds *m, struct rpc_req *req);

#endif
