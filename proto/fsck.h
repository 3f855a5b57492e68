/*
 * fsck.h - message bodies of the namespace consistency check (opcodes
 * PROTO_OP_MDS_FSCK_*, 0x01c1..0x01df), sent by `cairnctl fsck`
 * (client/fsck.c) to every metadata shard (mds/fsck.c).
 *
 * Scans page through one shard's records in key order: each request names
 * the last record of the previous page (a cursor) and the page size; the
 * reply has up to that many records (fewer when they would exceed
 * PROTO_FSCK_REPLY_BYTES, but at least one) and the EOF flag once nothing
 * follows.
 * Repairs change one record and carry what the checker saw (the expected
 * current value), so a record changed meanwhile is refused with -ESTALE
 * instead of being "repaired" wrongly.
 *
 * Opcode -> request body -> response body:
 *   SCAN_INODES     scan_req          scan_inodes_rep
 *   SCAN_DENTRIES   scan_dentries_req scan_dentries_rep
 *   SCAN_INTENTS    scan_req          scan_intents_rep
 *   REMOVE_DENTRY   dentry_req        (empty)
 *   SET_NLINK       nlink_req         (empty)
 *   DELETE_INODE    nlink_req         (empty)   nlink = the expected count
 *   SET_PARENT      parent_req        (empty)
 *   UNPIN           dentry_req        (empty)   ino = the pinning op id
 *   UNMARK          parent_req        (empty)   parent = the marking op id
 *   INTENT_RERUN    op_req            (empty)
 *   INTENT_DROP     op_req            (empty)
 *
 * Codecs as in proto/README.md: encoders return 0 or -ENOSPC and do not
 * validate; decoders read a whole body and return 0 or -CAIRN_EBADFRAME.
 * Reply arrays are the caller's: set items and cap before decoding; a reply
 * with more than cap items is rejected.  Pure functions, thread-safe.
 */
#ifndef CAIRN_PROTO_FSCK_H
#define CAIRN_PROTO_FSCK_H

#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

#define PROTO_FSCK_SCAN_MAX 1024	   /* records per scan reply */
#define PROTO_FSCK_REPLY_BYTES 60000 /* a reply body stays below this (and 64 KiB) */

/* Scan reply flags. */
enum proto_fsck_scan_flag {
	PROTO_FSCK_EOF = 1u << 0, /* no records after these */
};

/* proto_fsck_inode.state */
enum proto_fsck_inode_state {
	PROTO_FSCK_OPEN = 1u << 0,   /* open on the shard right now */
	PROTO_FSCK_ORPHAN = 1u << 1, /* unlinked while open: freed at last close */
};
#define PROTO_FSCK_STATE_KNOWN (PROTO_FSCK_OPEN | PROTO_FSCK_ORPHAN)

/* SCAN_INODES, SCAN_INTENTS: records after `after` (0: from the start).
 * Checks: max 1..PROTO_FSCK_SCAN_MAX. */
struct proto_fsck_scan_req {
	uint64_t after;
	uint32_t max;
};

/*
 * One inode.  Checks: ino != 0; a known file type and only permission bits
 * besides it; parent != 0 exactly for directories; state known; rm_op only
 * on directories.
 */
struct proto_fsck_inode {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint64_t parent; /* directories: their parent (root: itself) */
	uint64_t size;
	uint32_t state;	 /* enum proto_fsck_inode_state */
	uint64_t rm_op;	 /* directories: op of a pending cross-shard rmdir, or 0 */
};

/* Reply to SCAN_INODES.  Checks: flags known; count <= cap and
 * <= PROTO_FSCK_SCAN_MAX; count 0 only with EOF; inos increasing; items. */
struct proto_fsck_scan_inodes_rep {
	uint32_t flags; /* enum proto_fsck_scan_flag */
	uint32_t count;
	uint32_t cap;			 /* not on the wire */
	struct proto_fsck_inode *items; /* not owned */
};

/*
 * SCAN_DENTRIES: entries after (after_parent, after_name) in key order;
 * (0, "") starts at the beginning.  Checks: after_name 0..PROTO_NAME_MAX
 * bytes without '/' or NUL, empty when after_parent is 0; max as above.
 */
struct proto_fsck_scan_dentries_req {
	uint64_t after_parent;
	struct proto_str after_name;
	uint32_t max;
};

/* One entry.  Checks: parent, ino != 0; a new name; type a bare known type. */
struct proto_fsck_dentry {
	uint64_t parent;
	struct proto_str name;
	uint64_t ino;
	uint32_t type; /* S_IFMT bits */
	uint64_t pin;  /* op id of a cross-shard operation holding it, or 0 */
};

/* Reply to SCAN_DENTRIES.  Checks as for scan_inodes_rep (no order check). */
struct proto_fsck_scan_dentries_rep {
	uint32_t flags;
	uint32_t count;
	uint32_t cap;
	struct proto_fsck_dentry *items;
};

/* One pending intent.  Checks: op_id != 0. */
struct proto_fsck_intent {
	uint64_t op_id;
	uint8_t kind;	  /* coordinator's operation kind, 0 if unreadable */
	uint8_t phase;	  /* step reached */
	uint64_t age_sec; /* since the operation started */
};

/* Reply to SCAN_INTENTS.  Checks as for scan_inodes_rep (op ids increasing). */
struct proto_fsck_scan_intents_rep {
	uint32_t flags;
	uint32_t count;
	uint32_t cap;
	struct proto_fsck_intent *items;
};

/* REMOVE_DENTRY (ino: what the entry must point to), UNPIN (ino: the op
 * id of the pin).  Checks: parent, ino != 0; a new name. */
struct proto_fsck_dentry_req {
	uint64_t parent;
	struct proto_str name;
	uint64_t ino;
};

/* SET_NLINK (to nlink if it is still expected), DELETE_INODE (if its link
 * count is still expected; nlink 0).  Checks: ino != 0. */
struct proto_fsck_nlink_req {
	uint64_t ino;
	uint32_t expected;
	uint32_t nlink;
};

/* SET_PARENT (to parent if it is still expected), UNMARK (expected: the op
 * id of the mark; parent 0).  Checks: ino != 0. */
struct proto_fsck_parent_req {
	uint64_t ino;
	uint64_t expected;
	uint64_t parent;
};

/* INTENT_RERUN, INTENT_DROP.  Checks: op_id != 0. */
struct proto_fsck_op_req {
	uint64_t op_id;
};

int proto_fsck_scan_req_encode(const struct proto_fsck_scan_req *m, struct wire_enc *e);
int proto_fsck_scan_req_decode(struct wire_dec *d, struct proto_fsck_scan_req *m);
int proto_fsck_scan_inodes_rep_encode(const struct proto_fsck_scan_inodes_rep *m,
				      struct wire_enc *e);
int proto_fsck_scan_inodes_rep_decode(struct wire_dec *d, struct proto_fsck_scan_inodes_rep *m);
int proto_fsck_scan_dentries_req_encode(const struct proto_fsck_scan_dentries_req *m,
					struct wire_enc *e);
int proto_fsck_scan_dentries_req_decode(struct wire_dec *d,
					struct proto_fsck_scan_dentries_req *m);
int proto_fsck_scan_dentries_rep_encode(const struct proto_fsck_scan_dentries_rep *m,
					struct wire_enc *e);
int proto_fsck_scan_dentries_rep_decode(struct wire_dec *d,
					struct proto_fsck_scan_dentries_rep *m);
int proto_fsck_scan_intents_rep_encode(const struct proto_fsck_scan_intents_rep *m,
				       struct wire_enc *e);
int proto_fsck_scan_intents_rep_decode(struct wire_dec *d, struct proto_fsck_scan_intents_rep *m);
int proto_fsck_dentry_req_encode(const struct proto_fsck_dentry_req *m, struct wire_enc *e);
int proto_fsck_dentry_req_decode(struct wire_dec *d, struct proto_fsck_dentry_req *m);
int proto_fsck_nlink_req_encode(const struct proto_fsck_nlink_req *m, struct wire_enc *e);
int proto_fsck_nlink_req_decode(struct wire_dec *d, struct proto_fsck_nlink_req *m);
int proto_fsck_parent_req_encode(const struct proto_fsck_parent_req *m, struct wire_enc *e);
int proto_fsck_parent_req_decode(struct wire_dec *d, struct proto_fsck_parent_req *m);
int proto_fsck_op_req_encode(const struct proto_fsck_op_req *m, struct wire_enc *e);
int proto_fsck_op_req_decode(struct wire_dec *d, struct proto_fsck_op_req *m);

#endif
