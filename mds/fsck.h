/*
 * fsck.h - the metadata shard's side of `cairnctl fsck`: paged scans of
 * its inodes, entries and pending intents, and the guarded repairs
 * (opcodes 0x01c1..0x01df, bodies in proto/fsck.h).  The cluster-wide
 * check itself is client/fsck.c.
 *
 * Threads: requests run on RPC worker threads (a rerun of an intent calls
 * peer shards synchronously).
 */
#ifndef CAIRN_MDS_FSCK_H
#define CAIRN_MDS_FSCK_H

struct mds;
struct rpc_req;

/*
 * Serves one fsck request and replies to it.  Statuses: 0, -CAIRN_EBADFRAME
 * (malformed body), -EOPNOTSUPP (unknown opcode), -ENOMEM, and those of the
 * ns_* / mds_xshard_* call behind each repair (ns.h, xshard.h): -ESTALE
 * when the record is no longer what the checker saw.
 */
void mds_fsck_handle(struct mds *m, struct rpc_req *req);

#endif
