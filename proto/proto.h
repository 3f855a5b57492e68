/*
 * proto.h - the Cairn wire protocol: frame header, opcodes, flags.
 *
 * Changelog
 *   version 1: first protocol: connection, MDS (LOOKUP..FSYNC), MDS
 *              shard-to-shard steps (MDS_PEER_*), fsck (MDS_FSCK_*), OSD
 *              (CHUNK_WRITE..SCRUB) and admin (MAP_GET..OSD_STATS)
 *              opcodes as listed below.  (Before the first release, the
 *              OSD bodies gained read versions, write preconditions and
 *              W_REPLACE, and CHUNK_TRIM and SCRUB were added; OSD_HEARTBEAT
 *              gained per-pool usage and scrub counts, POOL_LIST and STATUS
 *              the sums of them, and OSD_STATS was added; the file lock
 *              opcodes LOCK_GET..LOCK_SESSION were added.)
 *
 * A frame is a 40-byte header, a body of body_len bytes (the message,
 * encoded by the codecs in proto/), then data_len bytes of bulk data (file
 * or chunk contents), kept apart from the body so it can be sent from and
 * received into the caller's buffers without a copy.  All integers are
 * little-endian.
 *
 *   off size field
 *     0    4 magic      PROTO_MAGIC
 *     4    2 version    PROTO_VERSION of the sender
 *     6    2 opcode     enum proto_op
 *     8    4 flags      enum proto_flag; unknown bits are an error
 *    12    4 status     responses: 0 or -errno / -CAIRN_E*; requests: 0
 *    16    8 req_id     chosen by the requester, echoed in the response
 *    24    4 body_len   <= the receiver's max frame size
 *    28    4 data_len   body_len + data_len <= the receiver's max frame size
 *    32    4 data_crc   CRC32C of the bulk data if PROTO_F_DATA_CRC, else 0
 *    36    4 hdr_crc    CRC32C of bytes 0..35 followed by the body
 *
 * Versioning: see proto/README.md.  In short, the connection handshake
 * settles on the lower of the two peers' versions; a sender only uses
 * opcodes and body fields that exist in the settled version; a receiver
 * answers an opcode it does not know with status -EOPNOTSUPP and keeps the
 * connection; a frame with a bad magic, version, flag, length or CRC closes
 * the connection.
 */
#ifndef CAIRN_PROTO_PROTO_H
#define CAIRN_PROTO_PROTO_H

#include <stdint.h>

#define PROTO_MAGIC 0x4e524143u /* "CARN" on the wire */
#define PROTO_VERSION 1
#define PROTO_VERSION_MIN 1
/*
 * The handshake (HELLO, AUTH, AUTH_OK) always travels with this version in
 * the header and its bodies never change, so peers of any two versions can
 * always meet and settle on a common one (or fail with -CAIRN_EPROTOVER).
 */
#define PROTO_HANDSHAKE_VERSION 1
#define PROTO_HDR_SIZE 40

/* Hard ceiling whatever cairn.conf says: lengths are 32-bit on the wire. */
#define PROTO_FRAME_MAX (1u << 30)

enum proto_flag {
	PROTO_F_RESPONSE = 1u << 0, /* a response to req_id */
	PROTO_F_DATA_CRC = 1u << 1, /* data_crc is valid and must be checked */
	PROTO_F_ONEWAY = 1u << 2,   /* request that expects no response */
};
#define PROTO_F_KNOWN (PROTO_F_RESPONSE | PROTO_F_DATA_CRC | PROTO_F_ONEWAY)

/*
 * Opcodes, grouped by service.  Numbers are never reused; a retired opcode
 * stays reserved.
 */
enum proto_op {
	/* Connection: 0x00xx */
	PROTO_OP_HELLO = 0x0001,   /* server -> client: challenge, limits */
	PROTO_OP_AUTH = 0x0002,	   /* client -> server: proof and counter-challenge */
	PROTO_OP_AUTH_OK = 0x0003, /* server -> client: server's proof */
	PROTO_OP_PING = 0x0004,
	PROTO_OP_ECHO = 0x0005, /* body and data sent back unchanged */

	/* Metadata service: 0x01xx (bodies in proto/mds.h) */
	PROTO_OP_MDS_FIRST = 0x0100,
	PROTO_OP_MDS_LOOKUP = 0x0101,	   /* parent + name -> entry */
	PROTO_OP_MDS_GETATTR = 0x0102,	   /* ino -> attributes */
	PROTO_OP_MDS_SETATTR = 0x0103,	   /* chmod, chown, truncate, utimes */
	PROTO_OP_MDS_CREATE = 0x0104,	   /* create and open a regular file */
	PROTO_OP_MDS_MKNOD = 0x0105,	   /* device, FIFO, socket or empty file */
	PROTO_OP_MDS_MKDIR = 0x0106,	   /* new directory */
	PROTO_OP_MDS_UNLINK = 0x0107,	   /* remove a non-directory name */
	PROTO_OP_MDS_RMDIR = 0x0108,	   /* remove an empty directory */
	PROTO_OP_MDS_RENAME = 0x0109,	   /* rename, noreplace or exchange */
	PROTO_OP_MDS_LINK = 0x010a,	   /* new hard link */
	PROTO_OP_MDS_SYMLINK = 0x010b,	   /* new symbolic link */
	PROTO_OP_MDS_READLINK = 0x010c,	   /* symbolic link target */
	PROTO_OP_MDS_READDIR = 0x010d,	   /* directory entries, optionally with attrs */
	PROTO_OP_MDS_STATFS = 0x010e,	   /* file system space and inode counts */
	PROTO_OP_MDS_GETXATTR = 0x010f,	   /* one extended attribute's value */
	PROTO_OP_MDS_SETXATTR = 0x0110,	   /* set an extended attribute */
	PROTO_OP_MDS_LISTXATTR = 0x0111,   /* names of the extended attributes */
	PROTO_OP_MDS_REMOVEXATTR = 0x0112, /* remove an extended attribute */
	PROTO_OP_MDS_OPEN = 0x0113,	   /* open: revalidate, get layout and handle */
	PROTO_OP_MDS_CLOSE = 0x0114,	   /* release a handle, publish size and mtime */
	PROTO_OP_MDS_FSYNC = 0x0115,	   /* publish size and mtime durably */

	/* File locks, kept in memory by the inode's home shard. */
	PROTO_OP_MDS_LOCK_GET = 0x0116,	    /* F_GETLK: the first conflicting lock */
	PROTO_OP_MDS_LOCK_SET = 0x0117,	    /* F_SETLK/F_SETLKW: set or release a range */
	PROTO_OP_MDS_FLOCK = 0x0118,	    /* flock(2): whole-file lock */
	PROTO_OP_MDS_LOCK_CANCEL = 0x0119,  /* end a blocked LOCK_SET or FLOCK */
	PROTO_OP_MDS_LOCK_RELEASE = 0x011a, /* drop an owner's locks on an inode */
	PROTO_OP_MDS_LOCK_SESSION = 0x011b, /* renew or end a client's lock session */

	/*
	 * Shard-to-shard steps of the cross-shard operations (bodies in
	 * proto/peer.h; internal: only MDS shards send them).
	 */
	PROTO_OP_MDS_PEER_FIRST = 0x0180,
	PROTO_OP_MDS_PEER_CREATE_PREPARED = 0x0181, /* inode without an entry here */
	PROTO_OP_MDS_PEER_ABORT_PREPARED = 0x0182,  /* undo CREATE_PREPARED */
	PROTO_OP_MDS_PEER_NLINK_ADJUST = 0x0183,    /* link count +/- delta, once */
	PROTO_OP_MDS_PEER_DENTRY_LINK = 0x0184,	    /* entry to an inode of any shard */
	PROTO_OP_MDS_PEER_DENTRY_UNLINK = 0x0185,   /* remove an entry, not its inode */
	PROTO_OP_MDS_PEER_DENTRY_PIN = 0x0186,	    /* freeze an entry for an op */
	PROTO_OP_MDS_PEER_DENTRY_UNPIN = 0x0187,
	PROTO_OP_MDS_PEER_DIR_PREPARE_REMOVE = 0x0188, /* rmdir of a remote dir: mark */
	PROTO_OP_MDS_PEER_DIR_COMMIT_REMOVE = 0x0189,  /* delete the marked dir */
	PROTO_OP_MDS_PEER_DIR_ABORT_REMOVE = 0x018a,   /* unmark */
	PROTO_OP_MDS_PEER_DIR_SET_PARENT = 0x018b,     /* ".." of a moved directory */
	PROTO_OP_MDS_PEER_WALK_PARENTS = 0x018c,       /* ancestry walk on one shard */
	PROTO_OP_MDS_PEER_DONE_FORGET = 0x018d,	       /* drop an op's step results */
	PROTO_OP_MDS_PEER_RENAME_LOCK = 0x018e,	       /* shard 0: cluster rename lock */
	PROTO_OP_MDS_PEER_RENAME_UNLOCK = 0x018f,
	PROTO_OP_MDS_PEER_GETATTR = 0x0190, /* full attributes of an inode */
	PROTO_OP_MDS_PEER_LOOKUP = 0x0191,  /* an entry and where its inode lives */
	PROTO_OP_MDS_PEER_LAST = 0x01bf,

	/* Consistency check and repair (bodies in proto/fsck.h; cairnctl fsck). */
	PROTO_OP_MDS_FSCK_FIRST = 0x01c0,
	PROTO_OP_MDS_FSCK_SCAN_INODES = 0x01c1,	  /* a page of the shard's inodes */
	PROTO_OP_MDS_FSCK_SCAN_DENTRIES = 0x01c2, /* a page of its entries */
	PROTO_OP_MDS_FSCK_SCAN_INTENTS = 0x01c3,  /* a page of its pending intents */
	PROTO_OP_MDS_FSCK_REMOVE_DENTRY = 0x01c4, /* drop an entry (dangling) */
	PROTO_OP_MDS_FSCK_SET_NLINK = 0x01c5,	  /* correct a link count */
	PROTO_OP_MDS_FSCK_DELETE_INODE = 0x01c6,  /* free an orphan inode */
	PROTO_OP_MDS_FSCK_SET_PARENT = 0x01c7,	  /* correct a directory's parent */
	PROTO_OP_MDS_FSCK_UNPIN = 0x01c8,	  /* clear an entry pin of a dead op */
	PROTO_OP_MDS_FSCK_UNMARK = 0x01c9,	  /* clear a removal mark of a dead op */
	PROTO_OP_MDS_FSCK_INTENT_RERUN = 0x01ca,  /* finish or undo a pending op now */
	PROTO_OP_MDS_FSCK_INTENT_DROP = 0x01cb,	  /* forget an intent record */
	PROTO_OP_MDS_FSCK_LAST = 0x01df,
	PROTO_OP_MDS_LAST = 0x01ff,

	/* Object storage daemon: 0x02xx (bodies in proto/osd.h) */
	PROTO_OP_OSD_FIRST = 0x0200,
	PROTO_OP_OSD_CHUNK_WRITE = 0x0201,    /* write a byte range of one chunk */
	PROTO_OP_OSD_CHUNK_READ = 0x0202,     /* read a byte range of one chunk */
	PROTO_OP_OSD_STRIPE_WRITE = 0x0203,   /* to the PG primary: write within a stripe */
	PROTO_OP_OSD_CHUNK_DELETE = 0x0204,   /* remove a chunk */
	PROTO_OP_OSD_CHUNK_TRUNCATE = 0x0205, /* cut a chunk to a size */
	PROTO_OP_OSD_CHUNK_LIST = 0x0206,     /* chunks held in a PG, by cursor */
	PROTO_OP_OSD_CHUNK_TRIM = 0x0207,     /* drop versions older than one */
	PROTO_OP_OSD_SCRUB = 0x0208,	      /* verify (and repair) stored chunks now */
	PROTO_OP_OSD_LAST = 0x02ff,

	/* Cluster map and administration: 0x03xx (bodies in proto/admin.h) */
	PROTO_OP_ADMIN_FIRST = 0x0300,
	PROTO_OP_ADMIN_MAP_GET = 0x0301,       /* cluster map newer than an epoch */
	PROTO_OP_ADMIN_OSD_REGISTER = 0x0302,  /* an OSD starts and announces itself */
	PROTO_OP_ADMIN_OSD_HEARTBEAT = 0x0303, /* an OSD is alive; space used */
	PROTO_OP_ADMIN_POOL_CREATE = 0x0304,   /* new pool */
	PROTO_OP_ADMIN_POOL_LIST = 0x0305,     /* all pools */
	PROTO_OP_ADMIN_STATUS = 0x0306,	       /* cluster health summary */
	PROTO_OP_ADMIN_OSD_SET_IN = 0x0307,    /* mark an OSD in or out */
	PROTO_OP_ADMIN_OSD_STATS = 0x0308,     /* per-OSD scrub counts of the last heartbeats */
	PROTO_OP_ADMIN_LAST = 0x03ff,
};

struct proto_hdr {
	uint16_t version;
	uint16_t opcode;
	uint32_t flags;
	int32_t status;
	uint64_t req_id;
	uint32_t body_len;
	uint32_t data_len;
	uint32_t data_crc;
	uint32_t hdr_crc;
};

#endif
