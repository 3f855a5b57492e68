/*
 * peer.h - message bodies of the shard-to-shard steps of cross-shard
 * metadata operations (opcodes PROTO_OP_MDS_PEER_*, 0x0181..0x01bf).
 *
 * Only metadata shards send these: the coordinator of a cross-shard
 * operation (mds/xshard.c) asks a peer shard to run one idempotent step of
 * the protocols described in mds/ns.h.  Every step request carries the op
 * id of the operation it belongs to, so a repeated request (a retry, or the
 * replay after a crash) takes effect once.  The intent record of the
 * coordinator never travels: peers only run steps.
 *
 * Opcode -> request body -> response body (a failed step answers its
 * -errno in the header status with an empty body):
 *   CREATE_PREPARED     create_req      attr_rep
 *   ABORT_PREPARED      ino_req         (empty)
 *   NLINK_ADJUST        nlink_req       drop_rep
 *   DENTRY_LINK         link_req        drop_rep
 *   DENTRY_UNLINK       unlink_req      (empty)
 *   DENTRY_PIN          pin_req         (empty)
 *   DENTRY_UNPIN        unpin_req       (empty)
 *   DIR_PREPARE_REMOVE  ino_req         (empty)
 *   DIR_COMMIT_REMOVE   ino_req         (empty)
 *   DIR_ABORT_REMOVE    ino_req         (empty)
 *   DIR_SET_PARENT      set_parent_req  (empty)
 *   WALK_PARENTS        walk_req        walk_rep
 *   DONE_FORGET         op_req          (empty)
 *   RENAME_LOCK         lock_req        (empty)   shard 0 only
 *   RENAME_UNLOCK       op_req          (empty)   shard 0 only
 *   GETATTR             ino_req         attr_rep
 *   LOOKUP              lookup_req      lookup_rep
 *
 * Codecs follow proto/README.md: int proto_peer_X_encode(const struct
 * proto_peer_X *, struct wire_enc *) returns 0 or -ENOSPC and does not
 * validate; int proto_peer_X_decode(struct wire_dec *, struct proto_peer_X
 * *) reads a whole body and returns 0 or -CAIRN_EBADFRAME (truncation,
 * trailing bytes, any value out of range as listed per message).  Names
 * decode zero-copy (types.h).  Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_PEER_H
#define CAIRN_PROTO_PEER_H

#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

/* Request flags (the flags field of the step requests). */
enum proto_peer_flag {
	PROTO_PEER_F_SYNC = 1u << 0, /* make the step durable before answering */
	PROTO_PEER_F_CRED = 1u << 1, /* cred follows: check the caller's permissions */
};
#define PROTO_PEER_F_KNOWN (PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED)

/* DENTRY_LINK link_flags (mds/ns.h NS_LINK_*). */
enum proto_peer_link_flag {
	PROTO_PEER_LINK_REPLACE = 1u << 0,
	PROTO_PEER_LINK_NOREPLACE = 1u << 1, /* only with REPLACE */
	PROTO_PEER_LINK_EXCHANGE = 1u << 2,  /* not with REPLACE */
};

/* DENTRY_UNLINK unlink_flags (mds/ns.h NS_UNLINK_*). */
enum proto_peer_unlink_flag {
	PROTO_PEER_UNLINK_DIR = 1u << 0,
	PROTO_PEER_UNLINK_PINNED = 1u << 1,
};
#define PROTO_PEER_UNLINK_KNOWN (PROTO_PEER_UNLINK_DIR | PROTO_PEER_UNLINK_PINNED)

/* proto_peer_drop.flags */
enum proto_peer_drop_flag {
	PROTO_PEER_DROP_REMOTE = 1u << 0,   /* lives on another shard than the answer's */
	PROTO_PEER_DROP_ORPHANED = 1u << 1, /* no link left, still open */
	PROTO_PEER_DROP_FREED = 1u << 2,    /* deleted */
};
#define PROTO_PEER_DROP_KNOWN                                                                      \
	(PROTO_PEER_DROP_REMOTE | PROTO_PEER_DROP_ORPHANED | PROTO_PEER_DROP_FREED)

/* walk_rep.result */
enum proto_peer_walk_result {
	PROTO_PEER_WALK_ROOT = 0,   /* reached the root without meeting target */
	PROTO_PEER_WALK_FOUND = 1,  /* target is ino or one of its ancestors */
	PROTO_PEER_WALK_REMOTE = 2, /* continue at stop, on its own shard */
};

/* lookup_rep.flags */
enum proto_peer_lookup_flag {
	PROTO_PEER_LOOKUP_REMOTE = 1u << 0, /* the inode lives on another shard */
};

#define PROTO_PEER_LEASE_MAX_MS 600000u /* longest rename lock lease */

/*
 * Where a file's data goes, as the namespace stores it (mds/ns.h struct
 * ns_layout).  All zero means "none"; the values are not interpreted here.
 */
struct proto_peer_layout {
	uint32_t pool_id;
	uint32_t chunk_size;
	uint8_t k;
	uint8_t m;
};
#define PROTO_PEER_LAYOUT_SIZE (4 + 4 + 1 + 1)

/*
 * Every attribute of an inode (mds/ns.h struct ns_attr).  Checks: ino != 0;
 * a known file type and only permission bits besides it; rdev only for
 * devices; valid times; parent != 0 exactly for directories.
 */
struct proto_peer_attr {
	uint64_t ino;
	uint64_t gen;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size;
	uint64_t rdev;
	struct proto_time atime;
	struct proto_time mtime;
	struct proto_time ctime;
	uint32_t flags;
	struct proto_peer_layout layout;
	uint64_t parent;
};

/*
 * What became of an inode that lost a link (mds/ns.h struct ns_drop).
 * Checks: flags known, ORPHANED and FREED not both; with ino 0 (nothing
 * dropped) every other field is 0; else mode has a known file type.
 */
struct proto_peer_drop {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint32_t flags; /* enum proto_peer_drop_flag */
	uint64_t size;
	struct proto_peer_layout layout;
};

/* ---- requests ---- */

/*
 * CREATE_PREPARED.  Checks: flags known without CRED; mode is a directory,
 * regular file, FIFO, socket or device plus permission bits; rdev only for
 * devices; parent != 0.
 */
struct proto_peer_create_req {
	uint64_t op_id;
	uint32_t flags;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t rdev;
	uint64_t parent;
	struct proto_peer_layout layout;
};

/*
 * ABORT_PREPARED, DIR_*_REMOVE, GETATTR: one inode.  Checks: flags known
 * without CRED; ino != 0.  (op_id is 0 only for a GETATTR outside an op.)
 */
struct proto_peer_ino_req {
	uint64_t op_id;
	uint32_t flags;
	uint64_t ino;
};

/* NLINK_ADJUST.  Checks: flags known without CRED; ino != 0; delta != 0. */
struct proto_peer_nlink_req {
	uint64_t op_id;
	uint32_t flags;
	uint64_t ino;
	int32_t delta;
};

/*
 * DENTRY_LINK.  Checks: flags known; cred present iff F_CRED; parent, ino
 * != 0; a new name; type is a bare known file type; link_flags known and
 * combined as enum proto_peer_link_flag says.
 */
struct proto_peer_link_req {
	uint64_t op_id;
	uint32_t flags;
	struct proto_cred cred; /* if PROTO_PEER_F_CRED */
	uint64_t parent;
	struct proto_str name;
	uint64_t ino;
	uint32_t type; /* S_IFMT bits of the inode */
	uint32_t link_flags;
};

/* DENTRY_UNLINK.  Checks: as link_req for the common fields; unlink_flags known. */
struct proto_peer_unlink_req {
	uint64_t op_id;
	uint32_t flags;
	struct proto_cred cred; /* if PROTO_PEER_F_CRED */
	uint64_t parent;
	struct proto_str name;
	uint64_t ino;
	uint32_t victim_uid;
	uint32_t unlink_flags;
};

/* DENTRY_PIN.  Checks: as link_req for the common fields. */
struct proto_peer_pin_req {
	uint64_t op_id;
	uint32_t flags;
	struct proto_cred cred; /* if PROTO_PEER_F_CRED */
	uint64_t parent;
	struct proto_str name;
	uint64_t ino;
	uint32_t victim_uid;
};

/* DENTRY_UNPIN.  Checks: flags known without CRED; parent != 0; a new name. */
struct proto_peer_unpin_req {
	uint64_t op_id;
	uint32_t flags;
	uint64_t parent;
	struct proto_str name;
};

/* DIR_SET_PARENT.  Checks: flags known without CRED; ino, parent != 0. */
struct proto_peer_set_parent_req {
	uint64_t op_id;
	uint32_t flags;
	uint64_t ino;
	uint64_t parent;
};

/* WALK_PARENTS from ino upwards, looking for target.  Checks: ino, target != 0. */
struct proto_peer_walk_req {
	uint64_t op_id;
	uint64_t ino;
	uint64_t target;
};

/* Reply to WALK_PARENTS.  Checks: result known; stop != 0 iff REMOTE. */
struct proto_peer_walk_rep {
	uint8_t result; /* enum proto_peer_walk_result */
	uint64_t stop;
};

/* DONE_FORGET, RENAME_UNLOCK.  Checks: op_id != 0. */
struct proto_peer_op_req {
	uint64_t op_id;
};

/*
 * RENAME_LOCK: take or renew the cluster-wide lock for directory renames
 * between shards, for lease_ms.  Answers -EBUSY while another op holds it.
 * Checks: op_id != 0; lease_ms 1..PROTO_PEER_LEASE_MAX_MS.
 */
struct proto_peer_lock_req {
	uint64_t op_id;
	uint32_t lease_ms;
};

/* LOOKUP parent/name with the caller's search permission.  Checks: parent != 0; a new name. */
struct proto_peer_lookup_req {
	uint64_t op_id;
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
};

/*
 * Reply to LOOKUP: the inode's attributes when it lives on the answering
 * shard, else (LOOKUP_REMOTE) only its number and file type.  Checks:
 * flags known; with REMOTE ino != 0 and mode a bare known type; else attr.
 */
struct proto_peer_lookup_rep {
	uint32_t flags; /* enum proto_peer_lookup_flag */
	uint64_t ino;	/* if REMOTE */
	uint32_t mode;	/* if REMOTE */
	struct proto_peer_attr attr; /* unless REMOTE */
};

/* Replies carrying attributes (CREATE_PREPARED, GETATTR).  Checks: attr. */
struct proto_peer_attr_rep {
	struct proto_peer_attr attr;
};

/* Replies carrying a drop (NLINK_ADJUST, DENTRY_LINK).  Checks: drop. */
struct proto_peer_drop_rep {
	struct proto_peer_drop drop;
};

int proto_peer_create_req_encode(const struct proto_peer_create_req *m, struct wire_enc *e);
int proto_peer_create_req_decode(struct wire_dec *d, struct proto_peer_create_req *m);
int proto_peer_ino_req_encode(const struct proto_peer_ino_req *m, struct wire_enc *e);
int proto_peer_ino_req_decode(struct wire_dec *d, struct proto_peer_ino_req *m);
int proto_peer_nlink_req_encode(const struct proto_peer_nlink_req *m, struct wire_enc *e);
int proto_peer_nlink_req_decode(struct wire_dec *d, struct proto_peer_nlink_req *m);
int proto_peer_link_req_encode(const struct proto_peer_link_req *m, struct wire_enc *e);
int proto_peer_link_req_decode(struct wire_dec *d, struct proto_peer_link_req *m);
int proto_peer_unlink_req_encode(const struct proto_peer_unlink_req *m, struct wire_enc *e);
int proto_peer_unlink_req_decode(struct wire_dec *d, struct proto_peer_unlink_req *m);
int proto_peer_pin_req_encode(const struct proto_peer_pin_req *m, struct wire_enc *e);
int proto_peer_pin_req_decode(struct wire_dec *d, struct proto_peer_pin_req *m);
int proto_peer_unpin_req_encode(const struct proto_peer_unpin_req *m, struct wire_enc *e);
int proto_peer_unpin_req_decode(struct wire_dec *d, struct proto_peer_unpin_req *m);
int proto_peer_set_parent_req_encode(const struct proto_peer_set_parent_req *m,
				     struct wire_enc *e);
int proto_peer_set_parent_req_decode(struct wire_dec *d, struct proto_peer_set_parent_req *m);
int proto_peer_walk_req_encode(const struct proto_peer_walk_req *m, struct wire_enc *e);
int proto_peer_walk_req_decode(struct wire_dec *d, struct proto_peer_walk_req *m);
int proto_peer_walk_rep_encode(const struct proto_peer_walk_rep *m, struct wire_enc *e);
int proto_peer_walk_rep_decode(struct wire_dec *d, struct proto_peer_walk_rep *m);
int proto_peer_op_req_encode(const struct proto_peer_op_req *m, struct wire_enc *e);
int proto_peer_op_req_decode(struct wire_dec *d, struct proto_peer_op_req *m);
int proto_peer_lock_req_encode(const struct proto_peer_lock_req *m, struct wire_enc *e);
int proto_peer_lock_req_decode(struct wire_dec *d, struct proto_peer_lock_req *m);
int proto_peer_lookup_req_encode(const struct proto_peer_lookup_req *m, struct wire_enc *e);
int proto_peer_lookup_req_decode(struct wire_dec *d, struct proto_peer_lookup_req *m);
int proto_peer_lookup_rep_encode(const struct proto_peer_lookup_rep *m, struct wire_enc *e);
int proto_peer_lookup_rep_decode(struct wire_dec *d, struct proto_peer_lookup_rep *m);
int proto_peer_attr_rep_encode(const struct proto_peer_attr_rep *m, struct wire_enc *e);
int proto_peer_attr_rep_decode(struct wire_dec *d, struct proto_peer_attr_rep *m);
int proto_peer_drop_rep_encode(const struct proto_peer_drop_rep *m, struct wire_enc *e);
int proto_peer_drop_rep_decode(struct wire_dec *d, struct proto_peer_drop_rep *m);

#endif
