/*
 * mds.h - message bodies of the metadata service (opcodes 0x01xx).
 *
 * One struct per body, with an encode/decode pair over wire.h cursors:
 *   int proto_mds_X_encode(const struct proto_mds_X *m, struct wire_enc *e);
 *     appends the body; returns 0 or -ENOSPC (buffer too small).  It does
 *     not validate: the receiver's decoder does.
 *   int proto_mds_X_decode(struct wire_dec *d, struct proto_mds_X *m);
 *     reads a whole body; returns 0 or -CAIRN_EBADFRAME for a truncated
 *     body, trailing bytes, or any value out of range (listed per message).
 * Names and blobs decode zero-copy into the input buffer (see types.h for
 * their lifetime).  Every request carries the caller's credentials.  The
 * body layout is the field order of each struct, without padding; optional
 * parts are present only when their flag says so.
 *
 * Opcode -> request body -> response body:
 *   LOOKUP      lookup_req      entry
 *   GETATTR     getattr_req     attr_rep
 *   SETATTR     setattr_req     attr_rep
 *   CREATE      create_req      open_rep
 *   MKNOD       mknod_req       entry
 *   MKDIR       mkdir_req       entry
 *   UNLINK      unlink_req      (empty)
 *   RMDIR       unlink_req      (empty)
 *   RENAME      rename_req      (empty)
 *   LINK        link_req        entry
 *   SYMLINK     symlink_req     entry
 *   READLINK    ino_req         readlink_rep
 *   READDIR     readdir_req     readdir_rep
 *   STATFS      ino_req         statfs_rep
 *   GETXATTR    getxattr_req    getxattr_rep
 *   SETXATTR    setxattr_req    (empty)
 *   LISTXATTR   listxattr_req   listxattr_rep
 *   REMOVEXATTR removexattr_req (empty)
 *   OPEN        open_req        open_rep
 *   CLOSE       publish_req     attr_rep
 *   FSYNC       publish_req     attr_rep
 *   LOCK_GET     lock_req          lock_rep
 *   LOCK_SET     lock_req          (empty; a WAIT request may be answered late)
 *   FLOCK        flock_req         (empty; likewise)
 *   LOCK_CANCEL  lock_cancel_req   (empty)
 *   LOCK_RELEASE lock_release_req  (empty)
 *   LOCK_SESSION lock_session_req  lock_session_rep
 * An empty body is checked by the RPC layer (body_len == 0).  The lock
 * requests CANCEL, RELEASE and SESSION carry no credentials: they only
 * act on the locks of the session that sends them.
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_MDS_H
#define CAIRN_PROTO_MDS_H

#include <stdint.h>

#include "proto/types.h"
#include "proto/wire.h"

#define PROTO_MDS_READDIR_MAX 1024 /* entries per READDIR reply */

/* Open flags (OPEN, CREATE): the client maps O_* onto these. */
enum proto_mds_open_flag {
	PROTO_MDS_O_RDONLY = 0,
	PROTO_MDS_O_WRONLY = 1,
	PROTO_MDS_O_RDWR = 2,
	PROTO_MDS_O_ACCMODE = 3, /* mask; the value 3 is invalid */
	PROTO_MDS_O_TRUNC = 1u << 2,
	PROTO_MDS_O_APPEND = 1u << 3,
	PROTO_MDS_O_EXCL = 1u << 4, /* CREATE only */
	PROTO_MDS_O_DIRECT = 1u << 5,
	PROTO_MDS_O_SYNC = 1u << 6,
	PROTO_MDS_O_DSYNC = 1u << 7,
	PROTO_MDS_O_NOATIME = 1u << 8,
};
#define PROTO_MDS_O_KNOWN                                                                          \
	(PROTO_MDS_O_ACCMODE | PROTO_MDS_O_TRUNC | PROTO_MDS_O_APPEND | PROTO_MDS_O_EXCL |         \
	 PROTO_MDS_O_DIRECT | PROTO_MDS_O_SYNC | PROTO_MDS_O_DSYNC | PROTO_MDS_O_NOATIME)

/* proto_mds_open_rep.open_flags: how the client may cache the file. */
enum proto_mds_open_rep_flag {
	PROTO_MDS_OPEN_KEEP_CACHE = 1u << 0, /* unchanged since last open */
	PROTO_MDS_OPEN_DIRECT_IO = 1u << 1,
};
#define PROTO_MDS_OPEN_KNOWN (PROTO_MDS_OPEN_KEEP_CACHE | PROTO_MDS_OPEN_DIRECT_IO)

/* proto_mds_setattr_req.valid */
enum proto_mds_set_flag {
	PROTO_MDS_SET_MODE = 1u << 0,
	PROTO_MDS_SET_UID = 1u << 1,
	PROTO_MDS_SET_GID = 1u << 2,
	PROTO_MDS_SET_SIZE = 1u << 3,
	PROTO_MDS_SET_ATIME = 1u << 4,
	PROTO_MDS_SET_MTIME = 1u << 5,
	PROTO_MDS_SET_CTIME = 1u << 6,
	PROTO_MDS_SET_ATIME_NOW = 1u << 7, /* with SET_ATIME: the server's clock */
	PROTO_MDS_SET_MTIME_NOW = 1u << 8, /* with SET_MTIME: the server's clock */
};
#define PROTO_MDS_SET_KNOWN 0x1ffu

enum proto_mds_rename_flag {
	PROTO_MDS_RENAME_NOREPLACE = 1u << 0, /* RENAME_NOREPLACE */
	PROTO_MDS_RENAME_EXCHANGE = 1u << 1,  /* RENAME_EXCHANGE; not with NOREPLACE */
};

enum proto_mds_xattr_flag {
	PROTO_MDS_XATTR_CREATE = 1u << 0,  /* XATTR_CREATE */
	PROTO_MDS_XATTR_REPLACE = 1u << 1, /* XATTR_REPLACE; not with CREATE */
};

enum proto_mds_readdir_flag {
	PROTO_MDS_READDIR_PLUS = 1u << 0, /* request: attributes with each entry */
};

enum proto_mds_readdir_rep_flag {
	PROTO_MDS_READDIR_EOF = 1u << 0, /* no entries after these */
};

enum proto_mds_dirent_flag {
	PROTO_MDS_DIRENT_ATTR = 1u << 0, /* attr follows */
};

enum proto_mds_entry_flag {
	PROTO_MDS_ENTRY_LAYOUT = 1u << 0, /* layout follows; exactly for regular files */
};

enum proto_mds_publish_flag {
	PROTO_MDS_PUB_SIZE = 1u << 0,	  /* size is the file's new size */
	PROTO_MDS_PUB_MTIME = 1u << 1,	  /* mtime is the file's new mtime */
	PROTO_MDS_PUB_DATASYNC = 1u << 2, /* FSYNC only: fdatasync semantics */
	PROTO_MDS_PUB_NOSYNC = 1u << 3,	  /* FSYNC only: publish, group-committed */
};
#define PROTO_MDS_PUB_KNOWN                                                                        \
	(PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME | PROTO_MDS_PUB_DATASYNC | PROTO_MDS_PUB_NOSYNC)

/* Byte-range locks: offsets as off_t, a range never ends past this. */
#define PROTO_MDS_LOCK_OFFSET_MAX ((uint64_t)INT64_MAX)

enum proto_mds_lock_type {
	PROTO_MDS_LOCK_RD = 1, /* shared: F_RDLCK, LOCK_SH */
	PROTO_MDS_LOCK_WR = 2, /* exclusive: F_WRLCK, LOCK_EX */
	PROTO_MDS_LOCK_UN = 3, /* release: F_UNLCK, LOCK_UN; lock_rep: no conflict */
};

enum proto_mds_lock_flag {
	PROTO_MDS_LOCK_WAIT = 1u << 0, /* F_SETLKW, flock without LOCK_NB: queue */
};

enum proto_mds_session_flag {
	PROTO_MDS_SESSION_END = 1u << 0, /* the client closes: drop its locks now */
};

enum proto_mds_session_rep_flag {
	PROTO_MDS_SESSION_NEW = 1u << 0, /* the shard did not know the session */
};

/* ---- Replies shared by several opcodes ---- */

/*
 * An inode reached by name (LOOKUP, MKDIR, MKNOD, SYMLINK, LINK, and inside
 * open_rep).  The FUSE generation is attr.gen.  Validity times tell the
 * client how long it may cache the name and the attributes.
 * Checks: attr valid; flags known; layout present iff attr is a regular file,
 * and then valid.
 */
struct proto_mds_entry {
	struct proto_attr attr;
	uint32_t entry_valid_ms;
	uint32_t attr_valid_ms;
	uint32_t flags;		    /* enum proto_mds_entry_flag */
	struct proto_layout layout; /* if PROTO_MDS_ENTRY_LAYOUT */
};

/* GETATTR, SETATTR, CLOSE, FSYNC.  Checks: attr valid. */
struct proto_mds_attr_rep {
	struct proto_attr attr;
	uint32_t attr_valid_ms;
};

/*
 * CREATE, OPEN.  fh names the open file on the server until CLOSE.
 * Checks: entry; fh != 0; open_flags known.
 */
struct proto_mds_open_rep {
	struct proto_mds_entry entry;
	uint64_t fh;
	uint32_t open_flags; /* enum proto_mds_open_rep_flag */
};

/* ---- Requests ---- */

/* Checks everywhere: ino, parent != 0; names per proto_name_decode(). */

/* LOOKUP: name may be "." or "..". */
struct proto_mds_lookup_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
};

/* GETATTR: fh is 0 or an open handle (fgetattr). */
struct proto_mds_getattr_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t fh;
};

/*
 * SETATTR.  Checks: valid non-zero and known; mode only PROTO_S_PERM bits; a
 * *_NOW bit only with its SET bit; every field whose bit is clear, and a
 * time set to "now", is zero; times valid.
 */
struct proto_mds_setattr_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t fh;	/* 0 or the handle of an open file (ftruncate) */
	uint32_t valid; /* enum proto_mds_set_flag */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct proto_time atime;
	struct proto_time mtime;
	struct proto_time ctime;
};

/*
 * CREATE a regular file and open it.  Checks: new name; mode and umask
 * only PROTO_S_PERM bits; flags known, access mode not 3.
 */
struct proto_mds_create_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
	uint32_t mode;
	uint32_t umask;
	uint32_t flags; /* enum proto_mds_open_flag */
};

/*
 * MKNOD.  Checks: new name; mode is a regular file, device, FIFO or socket
 * plus PROTO_S_PERM bits; rdev non-zero only for devices; umask PERM bits.
 */
struct proto_mds_mknod_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
	uint32_t mode;
	uint32_t umask;
	uint64_t rdev;
};

/* MKDIR.  Checks: new name; mode and umask only PROTO_S_PERM bits. */
struct proto_mds_mkdir_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
	uint32_t mode;
	uint32_t umask;
};

/* UNLINK and RMDIR.  Checks: name is not "." or "..". */
struct proto_mds_unlink_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
};

/* RENAME.  Checks: neither name is "." or ".."; flags known, not both. */
struct proto_mds_rename_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
	uint64_t new_parent;
	struct proto_str new_name;
	uint32_t flags; /* enum proto_mds_rename_flag */
};

/* LINK ino as new_parent/new_name.  Checks: new name. */
struct proto_mds_link_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t new_parent;
	struct proto_str new_name;
};

/* SYMLINK.  Checks: new name; target 1..PROTO_SYMLINK_MAX bytes, no NUL. */
struct proto_mds_symlink_req {
	struct proto_cred cred;
	uint64_t parent;
	struct proto_str name;
	struct proto_str target;
};

/* READLINK, STATFS: a request naming one inode. */
struct proto_mds_ino_req {
	struct proto_cred cred;
	uint64_t ino;
};

/* Reply to READLINK.  Checks: target as for SYMLINK. */
struct proto_mds_readlink_rep {
	struct proto_str target;
};

/*
 * READDIR: up to max_entries entries after cookie (0 = from the start).
 * Checks: max_entries 1..PROTO_MDS_READDIR_MAX; flags known.
 */
struct proto_mds_readdir_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t fh; /* 0 or the handle from OPEN of the directory */
	uint64_t cookie;
	uint32_t max_entries;
	uint32_t flags; /* enum proto_mds_readdir_flag */
};

/*
 * One directory entry.  cookie resumes the listing after this entry.
 * Checks: name (may be "." or ".."); cookie != 0; ino != 0; dtype valid;
 * flags known; with PROTO_MDS_DIRENT_ATTR, attr valid, attr.ino == ino and
 * attr's type matches dtype.
 */
struct proto_mds_dirent {
	struct proto_str name;
	uint64_t cookie;
	uint64_t ino;
	uint8_t dtype;		/* enum proto_dtype */
	uint8_t flags;		/* enum proto_mds_dirent_flag */
	struct proto_attr attr; /* if PROTO_MDS_DIRENT_ATTR */
};

/*
 * Reply to READDIR.  Encoding writes entries[0..count).  Decoding fills the
 * caller's array: set entries to room for cap entries before decoding; a
 * reply of more than cap entries is rejected.  Checks: count <= cap and
 * <= PROTO_MDS_READDIR_MAX; flags known; count == 0 only with EOF; each entry.
 */
struct proto_mds_readdir_rep {
	uint32_t flags; /* enum proto_mds_readdir_rep_flag */
	uint32_t entry_valid_ms;
	uint32_t attr_valid_ms;
	uint32_t count;
	uint32_t cap;			  /* not on the wire */
	struct proto_mds_dirent *entries; /* not owned */
};

/*
 * Reply to STATFS.  Checks: bfree <= blocks, bavail <= bfree, ffree <= files,
 * bsize and frsize non-zero, namemax 1..PROTO_NAME_MAX.
 */
struct proto_mds_statfs_rep {
	uint64_t blocks; /* in frsize units */
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;
	uint64_t ffree;
	uint32_t bsize;
	uint32_t frsize;
	uint32_t namemax;
};

/*
 * GETXATTR: size is the most the caller accepts, 0 to ask only the size.
 * Checks: xattr name; size <= PROTO_XATTR_VALUE_MAX.
 */
struct proto_mds_getxattr_req {
	struct proto_cred cred;
	uint64_t ino;
	struct proto_str name;
	uint32_t size;
};

/*
 * Reply to GETXATTR: the value's size, and the value unless the request
 * asked only the size.  Checks: size <= PROTO_XATTR_VALUE_MAX; value empty
 * or exactly size bytes.
 */
struct proto_mds_getxattr_rep {
	uint32_t size;
	struct proto_blob value;
};

/*
 * SETXATTR.  Checks: xattr name; value <= PROTO_XATTR_VALUE_MAX bytes;
 * flags known, not both.
 */
struct proto_mds_setxattr_req {
	struct proto_cred cred;
	uint64_t ino;
	struct proto_str name;
	struct proto_blob value;
	uint32_t flags; /* enum proto_mds_xattr_flag */
};

/* LISTXATTR; size as for GETXATTR.  Checks: size <= PROTO_XATTR_LIST_MAX. */
struct proto_mds_listxattr_req {
	struct proto_cred cred;
	uint64_t ino;
	uint32_t size;
};

/*
 * Reply to LISTXATTR: names, each followed by a NUL (listxattr(2) format).
 * Checks: size <= PROTO_XATTR_LIST_MAX; list empty or exactly size bytes;
 * a non-empty list is a sequence of 1..PROTO_XATTR_NAME_MAX byte names,
 * each NUL-terminated.
 */
struct proto_mds_listxattr_rep {
	uint32_t size;
	struct proto_blob list;
};

/* REMOVEXATTR.  Checks: xattr name. */
struct proto_mds_removexattr_req {
	struct proto_cred cred;
	uint64_t ino;
	struct proto_str name;
};

/* OPEN an existing file.  Checks: flags known, no EXCL, access mode not 3. */
struct proto_mds_open_req {
	struct proto_cred cred;
	uint64_t ino;
	uint32_t flags; /* enum proto_mds_open_flag */
};

/*
 * CLOSE and FSYNC: publish the size and mtime written through fh (close-to-
 * open consistency); FSYNC also makes the metadata durable before replying.
 * Checks: fh != 0; flags known; size and mtime zero unless their flag is set;
 * mtime valid.
 */
struct proto_mds_publish_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t fh;
	uint32_t flags; /* enum proto_mds_publish_flag */
	uint64_t size;
	struct proto_time mtime;
};

/* ---- File locks (kept by the inode's home shard, in memory) ---- */

/*
 * A lock owner is (session, owner): session is the client's random id for
 * its handle on the cluster (kept across reconnections), owner the id the
 * client gives the lock's holder (a process for POSIX locks, an open file
 * description for flock).  A blocking request names itself with wait_id,
 * unique within the session: sending the same wait_id again (after a lost
 * connection) takes over the queued request instead of queueing a second.
 */

/*
 * LOCK_GET and LOCK_SET: the byte range [start, start + len), len 0 meaning
 * to the end of the file however it grows.  LOCK_GET asks for the first
 * lock of another owner that conflicts with type (RD or WR; flags 0).
 * Checks: session != 0; type known; flags known; WAIT only with RD or WR
 * and exactly then wait_id != 0; start <= PROTO_MDS_LOCK_OFFSET_MAX and
 * start + len - 1 too.
 */
struct proto_mds_lock_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t session;
	uint64_t owner;
	uint64_t start;
	uint64_t len;
	uint32_t pid;	  /* the locking process, reported to LOCK_GET */
	uint8_t type;	  /* enum proto_mds_lock_type */
	uint32_t flags;	  /* enum proto_mds_lock_flag; LOCK_SET only */
	uint64_t wait_id; /* with PROTO_MDS_LOCK_WAIT, else 0 */
};

/*
 * Reply to LOCK_GET: the conflicting lock, or type UN and zeros.  Checks:
 * type known; with UN start, len and pid zero; range as in lock_req.
 */
struct proto_mds_lock_rep {
	uint8_t type; /* enum proto_mds_lock_type */
	uint64_t start;
	uint64_t len; /* 0: to the end of the file */
	uint32_t pid;
};

/* FLOCK: a whole-file lock of (session, owner).  Checks as for lock_req. */
struct proto_mds_flock_req {
	struct proto_cred cred;
	uint64_t ino;
	uint64_t session;
	uint64_t owner;
	uint8_t type;	  /* enum proto_mds_lock_type */
	uint32_t flags;	  /* enum proto_mds_lock_flag */
	uint64_t wait_id; /* with PROTO_MDS_LOCK_WAIT, else 0 */
};

/*
 * LOCK_CANCEL: the blocked request wait_id of session on ino is answered
 * -EINTR and this one 0; -ENOENT if it is not waiting (granted, or never
 * seen).  Checks: session and wait_id != 0.
 */
struct proto_mds_lock_cancel_req {
	uint64_t ino;
	uint64_t session;
	uint64_t wait_id;
};

/*
 * LOCK_RELEASE: drops every lock (POSIX and flock) of (session, owner) on
 * ino and answers its blocked requests there -EBADF (close, flush).
 * Checks: session != 0.
 */
struct proto_mds_lock_release_req {
	uint64_t ino;
	uint64_t session;
	uint64_t owner;
};

/*
 * LOCK_SESSION: the session is alive (renewal), or with SESSION_END gone.
 * Checks: session != 0; flags known.
 */
struct proto_mds_lock_session_req {
	uint64_t session;
	uint32_t flags; /* enum proto_mds_session_flag */
};

/*
 * Reply to LOCK_SESSION: the lease (a session not heard from for lease_ms
 * loses its locks), whether the shard had forgotten the session (restart,
 * or the lease ran out), and what the session holds there now.  Checks:
 * lease_ms != 0; flags known.
 */
struct proto_mds_lock_session_rep {
	uint32_t lease_ms;
	uint32_t flags; /* enum proto_mds_session_rep_flag */
	uint32_t locks;
	uint32_t waiters;
};

/* Codecs: return values as described at the top of this file. */
int proto_mds_entry_encode(const struct proto_mds_entry *m, struct wire_enc *e);
int proto_mds_entry_decode(struct wire_dec *d, struct proto_mds_entry *m);
int proto_mds_attr_rep_encode(const struct proto_mds_attr_rep *m, struct wire_enc *e);
int proto_mds_attr_rep_decode(struct wire_dec *d, struct proto_mds_attr_rep *m);
int proto_mds_open_rep_encode(const struct proto_mds_open_rep *m, struct wire_enc *e);
int proto_mds_open_rep_decode(struct wire_dec *d, struct proto_mds_open_rep *m);
int proto_mds_lookup_req_encode(const struct proto_mds_lookup_req *m, struct wire_enc *e);
int proto_mds_lookup_req_decode(struct wire_dec *d, struct proto_mds_lookup_req *m);
int proto_mds_getattr_req_encode(const struct proto_mds_getattr_req *m, struct wire_enc *e);
int proto_mds_getattr_req_decode(struct wire_dec *d, struct proto_mds_getattr_req *m);
int proto_mds_setattr_req_encode(const struct proto_mds_setattr_req *m, struct wire_enc *e);
int proto_mds_setattr_req_decode(struct wire_dec *d, struct proto_mds_setattr_req *m);
int proto_mds_create_req_encode(const struct proto_mds_create_req *m, struct wire_enc *e);
int proto_mds_create_req_decode(struct wire_dec *d, struct proto_mds_create_req *m);
int proto_mds_mknod_req_encode(const struct proto_mds_mknod_req *m, struct wire_enc *e);
int proto_mds_mknod_req_decode(struct wire_dec *d, struct proto_mds_mknod_req *m);
int proto_mds_mkdir_req_encode(const struct proto_mds_mkdir_req *m, struct wire_enc *e);
int proto_mds_mkdir_req_decode(struct wire_dec *d, struct proto_mds_mkdir_req *m);
int proto_mds_unlink_req_encode(const struct proto_mds_unlink_req *m, struct wire_enc *e);
int proto_mds_unlink_req_decode(struct wire_dec *d, struct proto_mds_unlink_req *m);
int proto_mds_rename_req_encode(const struct proto_mds_rename_req *m, struct wire_enc *e);
int proto_mds_rename_req_decode(struct wire_dec *d, struct proto_mds_rename_req *m);
int proto_mds_link_req_encode(const struct proto_mds_link_req *m, struct wire_enc *e);
int proto_mds_link_req_decode(struct wire_dec *d, struct proto_mds_link_req *m);
int proto_mds_symlink_req_encode(const struct proto_mds_symlink_req *m, struct wire_enc *e);
int proto_mds_symlink_req_decode(struct wire_dec *d, struct proto_mds_symlink_req *m);
int proto_mds_ino_req_encode(const struct proto_mds_ino_req *m, struct wire_enc *e);
int proto_mds_ino_req_decode(struct wire_dec *d, struct proto_mds_ino_req *m);
int proto_mds_readlink_rep_encode(const struct proto_mds_readlink_rep *m, struct wire_enc *e);
int proto_mds_readlink_rep_decode(struct wire_dec *d, struct proto_mds_readlink_rep *m);
int proto_mds_readdir_req_encode(const struct proto_mds_readdir_req *m, struct wire_enc *e);
int proto_mds_readdir_req_decode(struct wire_dec *d, struct proto_mds_readdir_req *m);
int proto_mds_readdir_rep_encode(const struct proto_mds_readdir_rep *m, struct wire_enc *e);
int proto_mds_readdir_rep_decode(struct wire_dec *d, struct proto_mds_readdir_rep *m);
int proto_mds_statfs_rep_encode(const struct proto_mds_statfs_rep *m, struct wire_enc *e);
int proto_mds_statfs_rep_decode(struct wire_dec *d, struct proto_mds_statfs_rep *m);
int proto_mds_getxattr_req_encode(const struct proto_mds_getxattr_req *m, struct wire_enc *e);
int proto_mds_getxattr_req_decode(struct wire_dec *d, struct proto_mds_getxattr_req *m);
int proto_mds_getxattr_rep_encode(const struct proto_mds_getxattr_rep *m, struct wire_enc *e);
int proto_mds_getxattr_rep_decode(struct wire_dec *d, struct proto_mds_getxattr_rep *m);
int proto_mds_setxattr_req_encode(const struct proto_mds_setxattr_req *m, struct wire_enc *e);
int proto_mds_setxattr_req_decode(struct wire_dec *d, struct proto_mds_setxattr_req *m);
int proto_mds_listxattr_req_encode(const struct proto_mds_listxattr_req *m, struct wire_enc *e);
int proto_mds_listxattr_req_decode(struct wire_dec *d, struct proto_mds_listxattr_req *m);
int proto_mds_listxattr_rep_encode(const struct proto_mds_listxattr_rep *m, struct wire_enc *e);
int proto_mds_listxattr_rep_decode(struct wire_dec *d, struct proto_mds_listxattr_rep *m);
int proto_mds_removexattr_req_encode(const struct proto_mds_removexattr_req *m, struct wire_enc *e);
int proto_mds_removexattr_req_decode(struct wire_dec *d, struct proto_mds_removexattr_req *m);
int proto_mds_open_req_encode(const struct proto_mds_open_req *m, struct wire_enc *e);
int proto_mds_open_req_decode(struct wire_dec *d, struct proto_mds_open_req *m);
int proto_mds_publish_req_encode(const struct proto_mds_publish_req *m, struct wire_enc *e);
int proto_mds_publish_req_decode(struct wire_dec *d, struct proto_mds_publish_req *m);
int proto_mds_lock_req_encode(const struct proto_mds_lock_req *m, struct wire_enc *e);
int proto_mds_lock_req_decode(struct wire_dec *d, struct proto_mds_lock_req *m);
int proto_mds_lock_rep_encode(const struct proto_mds_lock_rep *m, struct wire_enc *e);
int proto_mds_lock_rep_decode(struct wire_dec *d, struct proto_mds_lock_rep *m);
int proto_mds_flock_req_encode(const struct proto_mds_flock_req *m, struct wire_enc *e);
int proto_mds_flock_req_decode(struct wire_dec *d, struct proto_mds_flock_req *m);
int proto_mds_lock_cancel_req_encode(const struct proto_mds_lock_cancel_req *m, struct wire_enc *e);
int proto_mds_lock_cancel_req_decode(struct wire_dec *d, struct proto_mds_lock_cancel_req *m);
int proto_mds_lock_release_req_encode(const struct proto_mds_lock_release_req *m,
				      struct wire_enc *e);
int proto_mds_lock_release_req_decode(struct wire_dec *d, struct proto_mds_lock_release_req *m);
int proto_mds_lock_session_req_encode(const struct proto_mds_lock_session_req *m,
				      struct wire_enc *e);
int proto_mds_lock_session_req_decode(struct wire_dec *d, struct proto_mds_lock_session_req *m);
int proto_mds_lock_session_rep_encode(const struct proto_mds_lock_session_rep *m,
				      struct wire_enc *e);
int proto_mds_lock_session_rep_decode(struct wire_dec *d, struct proto_mds_lock_session_rep *m);

#endif
