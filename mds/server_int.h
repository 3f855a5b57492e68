/*
 * server_int.h - what the two halves of the namespace server share:
 * server.c (dispatch, per-thread buffers, conversions, inode operations)
 * and server_ns.c (operations on names and directories).  Internal.
 *
 * A request is handled on one RPC worker thread from start to reply, with
 * a struct srv_ctx on its stack: the decoder over the request body
 * (zero-copy: names point into it until the reply), and an encoder over
 * the thread's reply buffer.  An operation returns 0 with the reply body
 * in c->e, the status to send (-errno, -CAIRN_EBADFRAME for a body that
 * does not decode), or SRV_DEFER.
 */
#ifndef CAIRN_MDS_SERVER_INT_H
#define CAIRN_MDS_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "mds/ns.h"
#include "proto/mds.h"
#include "proto/wire.h"

struct mds;

/* Reply buffer: any reply but READDIR fits in 64 KiB plus a little. */
#define SRV_REP_FIXED (64u * 1024 + 256)
/* Largest encoded directory entry (name, cookie, ino, type, flags, attr). */
#define SRV_DIRENT_MAX (2 + PROTO_NAME_MAX + 8 + 8 + 1 + 1 + PROTO_ATTR_SIZE)
#define SRV_REP_SIZE (SRV_REP_FIXED + PROTO_MDS_READDIR_MAX * SRV_DIRENT_MAX)
/* Scratch: readdir names, xattr values and lists, symlink targets. */
#define SRV_SCRATCH_SIZE (PROTO_MDS_READDIR_MAX * PROTO_NAME_MAX)
#define SRV_DIRCACHE 64 /* directories whose layout a thread remembers */
#define SRV_DIRCACHE_MS 1000

_Static_assert(SRV_SCRATCH_SIZE >= PROTO_XATTR_VALUE_MAX, "scratch holds an xattr value");
_Static_assert(SRV_SCRATCH_SIZE >= PROTO_XATTR_LIST_MAX, "scratch holds an xattr list");

/* Per worker thread, allocated at its first request. */
struct srv_tls {
	struct {
		uint64_t ino;
		int64_t expires_ms;
		bool has_layout;
	} dirs[SRV_DIRCACHE];
	struct proto_mds_dirent ents[PROTO_MDS_READDIR_MAX];
	char scratch[SRV_SCRATCH_SIZE];
	uint8_t rep[SRV_REP_SIZE];
};

struct srv_ctx {
	struct mds *m;
	struct srv_tls *t;
	bool may_block; /* on a worker thread: fsync, peers, shard 0 allowed */
	struct wire_dec d;
	struct wire_enc e;
};

/*
 * Returned by an operation on an I/O thread (!may_block) that must block
 * to go on: nothing was changed, and the request is run again from the
 * start on a worker thread.
 */
#define SRV_DEFER 1

typedef int (*srv_op_fn)(struct srv_ctx *c);

/* ---- server.c ---- */

/* -EREMOTE unless ino lives on this shard (a client with a stale view). */
int srv_home(const struct srv_ctx *c, uint64_t ino);
void srv_cred(const struct proto_cred *p, struct ns_cred *out);
void srv_attr(const struct ns_attr *a, struct proto_attr *out);
/* Encodes an entry reply (MKDIR, LOOKUP, ...).  0, -EIO, -ENOSPC. */
int srv_reply_entry(struct srv_ctx *c, const struct ns_attr *a);
/* Fills an entry: attributes, cache times, the layout of a regular file. */
int srv_entry(struct srv_ctx *c, const struct ns_attr *a, struct proto_mds_entry *out);
/* Encodes an open reply for an inode just opened.  0, -EIO, -ENOSPC. */
int srv_reply_open(struct srv_ctx *c, const struct ns_attr *a);
/* Maps PROTO_MDS_O_* to the open(2) flags ns_open() understands. */
int srv_open_flags(uint32_t flags);
bool srv_sync_flags(uint32_t flags);
/* A file's data was freed (unlink, rename, close): logged; the purger deletes it. */
void srv_data_freed(const struct ns_drop *d);
int64_t srv_now_ms(void);
/* Turns an encoder's status into the operation's result. */
int srv_enc_done(struct srv_ctx *c, int rc);

/* ---- server_errno.c ---- */

struct rpc_msg;

/*
 * The status for a client request whose body did not decode: the POSIX
 * errno when a name, symlink target or xattr name/value is at fault
 * (-ENAMETOOLONG, -EINVAL, -EEXIST, -EISDIR, -ENOTEMPTY, -EBUSY, -ENOENT,
 * -ERANGE, -E2BIG, as ns_* would answer), else -CAIRN_EBADFRAME.
 */
int srv_decode_errno(const struct rpc_msg *msg);

/* ---- server_ns.c ---- */

int srv_op_lookup(struct srv_ctx *c);
int srv_op_create(struct srv_ctx *c);
int srv_op_mknod(struct srv_ctx *c);
int srv_op_mkdir(struct srv_ctx *c);
int srv_op_unlink(struct srv_ctx *c);
int srv_op_rmdir(struct srv_ctx *c);
int srv_op_rename(struct srv_ctx *c);
int srv_op_link(struct srv_ctx *c);
int srv_op_symlink(struct srv_ctx *c);
int srv_op_readdir(struct srv_ctx *c);

#endif
