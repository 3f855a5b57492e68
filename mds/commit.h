/*
 * commit.h - group commit of a metadata shard's writes.
 *
 * Namespace writes that the client did not ask to be durable (everything
 * but FSYNC and opens/creates with O_SYNC or O_DSYNC) are written to
 * RocksDB without an fsync: they survive a crash of the process at once
 * (the WAL is in the kernel's page cache) and a crash of the machine once
 * a group commit has run.  A committer thread makes them durable with one
 * ns_sync() every interval_ms while there were such writes, so hundreds of
 * operations share each fsync.
 *
 * Threads: mds_commit_note() is called by any thread after a write (a
 * relaxed atomic flag, no lock, no system call); the committer thread is
 * the only one that syncs.  One committer per process.
 */
#ifndef CAIRN_MDS_COMMIT_H
#define CAIRN_MDS_COMMIT_H

struct ns;

/* Default period of the group commit. */
#define MDS_COMMIT_INTERVAL_MS 5

/*
 * Starts the committer over ns (borrowed until mds_commit_stop()).
 * Returns 0, -EBUSY (already running), -EINVAL (interval_ms 0), or -errno
 * from pthread_create.
 */
int mds_commit_start(struct ns *ns, unsigned interval_ms);

/*
 * Stops the committer after a last sync of whatever was noted.  Returns 0,
 * or the -errno of that last ns_sync() (-EIO).  Safe when not running.
 */
int mds_commit_stop(void);

/* Notes that a write was made without sync. */
void mds_commit_note(void);

#endif
