/*
 * cairn.h - libcairn, the client library of a Cairn cluster: the public C API.
 *
 * NAME
 *	libcairn - talk to a Cairn cluster: namespace operations on the metadata
 *	shards, the cluster map, and file data on the OSDs
 *
 * DESCRIPTION
 *	A struct cairn is one connection to one cluster, opened from its
 *	cairn.conf.  It holds one RPC connection per metadata shard and a copy
 *	of the cluster map that a background thread keeps current.  Every
 *	namespace call names inodes by number, as the FUSE low-level interface
 *	does (CAIRN_ROOT_INO is the root, FUSE node id 1), and carries the
 *	caller's credentials: the MDS checks permissions for that user.  The
 *	path conveniences at the end walk a path with lookups, for tools and
 *	programs that do not go through a mount.
 *
 *	File contents are read and written through struct cairn_file
 *	(cairn_file_open(), cairn_pread(), cairn_pwrite(), ...), straight
 *	to and from the OSDs.  File locks (fcntl and flock) are kept by the
 *	metadata shards and hold across every client of the cluster.
 *
 * THREADS
 *	Every function may be called from any number of threads at once on the
 *	same struct cairn, except cairn_close(), which must come after every
 *	other call has returned.  Calls block until the shard answers or the
 *	request times out (rpc.timeout_ms of cairn.conf, or the timeout given
 *	to cairn_open()).  No callback runs on a library thread: readdir
 *	callbacks run on the calling thread.
 *
 * OWNERSHIP
 *	Every pointer argument is borrowed for the duration of the call only.
 *	Strings in results (directory entry names) are valid during the
 *	callback that receives them.  Arrays returned by the list functions of
 *	cairn_admin.h are allocated and freed with free(3).
 *
 * ERRORS
 *	Every function that can fail returns 0 or a negative error number: a
 *	Linux errno (-ENOENT, -EACCES, ...) with its POSIX meaning, or one of
 *	Cairn's own codes, all <= -CAIRN_ERR_BASE (authentication failure,
 *	corrupt frame, configuration error, ...); cairn_strerror() names both.
 *	Errors every call can return besides those it lists:
 *	  -EINVAL      a bad argument (NULL handle, inode 0, unknown flag bits,
 *	               more than CAIRN_GROUPS_MAX groups in a credential)
 *	  -ESTALE      an inode number that names no shard of this cluster
 *	  -ETIMEDOUT   the shard did not answer in time (it may be down)
 *	  -ECONNRESET  the connection broke while a request that changes the
 *	               namespace was in flight: it may or may not have been done
 *	               (reads are retried and never return this)
 *	  -ENOMEM      out of memory
 *	  -EIO         the shard had a storage error, or sent a reply that does
 *	               not decode
 *	  -CAIRN_EAUTH (<= -CAIRN_ERR_BASE) the shard refused the cluster key
 */
#ifndef CAIRN_CLIENT_CAIRN_H
#define CAIRN_CLIENT_CAIRN_H

#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cairn;

#define CAIRN_ROOT_INO UINT64_C(1)
#define CAIRN_NAME_MAX 255	   /* bytes of one name */
#define CAIRN_SYMLINK_MAX 4095	   /* bytes of a symlink target */
#define CAIRN_XATTR_NAME_MAX 255   /* bytes of an extended attribute name */
#define CAIRN_XATTR_SIZE_MAX 65536 /* bytes of a value or of a name list */
#define CAIRN_GROUPS_MAX 64	   /* supplementary groups in a credential */
#define CAIRN_ERR_BASE 1000	   /* Cairn's own error codes are >= this */
#define CAIRN_DEFAULT_CONF "/etc/cairn/cairn.conf"
#define CAIRN_CONF_ENV "CAIRN_CONF"

/* ---- Opening a cluster ---- */

enum cairn_open_flag {
	CAIRN_OPEN_NO_MAP_WATCH = 1u << 0, /* no background map thread (tools) */
};

struct cairn_open_opts {
	const char *conf_path; /* NULL: $CAIRN_CONF, else CAIRN_DEFAULT_CONF */
	int timeout_ms;	       /* per request; 0: rpc.timeout_ms of the file */
	uint32_t flags;	       /* enum cairn_open_flag */
	char *errbuf;	       /* optional: a one-line reason on failure */
	size_t errlen;
};

/*
 * Reads the configuration and the cluster key it names and starts
 * connecting to every metadata shard in the background (no request is
 * made here, so a cluster that is down is only noticed by the first call).
 * Unless CAIRN_OPEN_NO_MAP_WATCH, a thread fetches the cluster map from
 * shard 0 and keeps watching it.  Returns 0 and *out, or
 *   -ENOENT, -EACCES, ...  the configuration or key file cannot be read
 *   -CAIRN_ECONFIG         the configuration is invalid (errbuf says where)
 *   -EPERM                 the key file is readable by group or others
 *   -EINVAL                bad options, or a key file with bad content
 *   -ENOMEM, or -errno from starting the network threads.
 */
int cairn_open(const struct cairn_open_opts *opts, struct cairn **out);

/* cairn_open() with conf_path and the defaults otherwise. */
int cairn_open_conf(const char *conf_path, struct cairn **out);

/*
 * Stops the map thread, closes the connections and frees c.  Every other
 * call on c must have returned.  NULL is allowed.
 */
void cairn_close(struct cairn *c);

/* Number of metadata shards. */
unsigned cairn_shard_count(const struct cairn *c);

/* The epoch of the newest cluster map this client has, 0 if none yet. */
uint64_t cairn_map_epoch(const struct cairn *c);

/*
 * Fetches the cluster map from shard 0 now.  Returns 0 and *epoch (may be
 * NULL), or the common errors.
 */
int cairn_map_refresh(struct cairn *c, uint64_t *epoch);

/* Text for an error number of this API (errno or Cairn code, either sign). */
const char *cairn_strerror(int err);

/* ---- Credentials and attributes ---- */

/*
 * Who performs a call.  NULL wherever a credential is taken means the
 * process's effective uid and gid and its supplementary groups (the first
 * CAIRN_GROUPS_MAX of them).  groups: ngroups ids, borrowed for the call.
 */
struct cairn_cred {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups; /* <= CAIRN_GROUPS_MAX */
	const uint32_t *groups;
};

enum cairn_scheme {
	CAIRN_SCHEME_EC = 1,  /* k data + m parity chunks per stripe */
	CAIRN_SCHEME_REP = 2, /* k == 1 and m extra copies */
};

/* Where a regular file's data lives; stripe s holds bytes [s*k*chunk, (s+1)*k*chunk). */
struct cairn_layout {
	uint32_t pool_id;
	uint8_t scheme; /* enum cairn_scheme */
	uint8_t k;
	uint8_t m;
	uint32_t chunk_size;
};

enum cairn_attr_flag {
	CAIRN_ATTR_IMMUTABLE = 1u << 0,
	CAIRN_ATTR_APPEND = 1u << 1,
};

/*
 * An inode's attributes: what stat(2) shows, plus the generation (FUSE:
 * (ino, gen) never names two inodes), how long the caller may cache them,
 * and the layout of a regular file when the reply carried it (lookup,
 * create, open, and the path functions that end in a lookup).
 */
struct cairn_attr {
	uint64_t ino;
	uint64_t gen;
	uint32_t mode; /* S_IFMT type | permission bits */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t rdev;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
	uint32_t flags;		 /* enum cairn_attr_flag */
	uint32_t entry_valid_ms; /* name -> inode may be cached this long */
	uint32_t attr_valid_ms;	 /* attributes may be cached this long */
	bool has_layout;
	struct cairn_layout layout;
};

/* Fills a struct stat (st_blksize is 4096; st_dev 0). */
void cairn_attr_to_stat(const struct cairn_attr *a, struct stat *st);

/* The home shard of an inode: its number's high 16 bits. */
static inline unsigned cairn_ino_shard(uint64_t ino)
{
	return (unsigned)(ino >> 48);
}

/* ---- Namespace, by inode number ---- */

/*
 * Looks name up in directory parent; "." and ".." are allowed.
 * Returns 0 and *out, or -ENOENT, -ENOTDIR (parent), -EACCES (no search
 * permission), -ENAMETOOLONG, -EINVAL (empty name, or one with '/').
 */
int cairn_lookup(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 struct cairn_attr *out);

/* Attributes of ino (no permission needed).  Returns 0 and *out, or -ENOENT. */
int cairn_getattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  struct cairn_attr *out);

enum cairn_set_flag {
	CAIRN_SET_MODE = 1u << 0,
	CAIRN_SET_UID = 1u << 1,
	CAIRN_SET_GID = 1u << 2,
	CAIRN_SET_SIZE = 1u << 3,
	CAIRN_SET_ATIME = 1u << 4,
	CAIRN_SET_MTIME = 1u << 5,
	CAIRN_SET_CTIME = 1u << 6,
	CAIRN_SET_ATIME_NOW = 1u << 7, /* with CAIRN_SET_ATIME: the MDS's clock */
	CAIRN_SET_MTIME_NOW = 1u << 8, /* with CAIRN_SET_MTIME: the MDS's clock */
};

/* What cairn_setattr() changes: the fields whose bit is in valid. */
struct cairn_setattr {
	uint32_t valid; /* enum cairn_set_flag */
	uint32_t mode;	/* permission bits only (07777) */
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
	uint64_t fh; /* 0, or an open handle (ftruncate through it) */
};

/*
 * chmod, chown, truncate, utimes with the POSIX rules (see the MDS).
 * Returns 0 and *out (may be NULL), or -EPERM, -EACCES, -EISDIR (size of a
 * directory), -EINVAL (size of a non-regular file, no valid bit, a *_NOW
 * bit without its field's bit, mode beyond 07777, nsec >= 10^9), -EFBIG,
 * -ENOENT, -EBADF (fh not open).
 */
int cairn_setattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  const struct cairn_setattr *sa, struct cairn_attr *out);

enum cairn_open_info_flag {
	CAIRN_OPEN_KEEP_CACHE = 1u << 0, /* unchanged since the last open */
	CAIRN_OPEN_DIRECT_IO = 1u << 1,
};

/* An open handle on the MDS and the file it names. */
struct cairn_open_info {
	uint64_t fh;	/* pass to cairn_close_meta(), never 0 */
	uint32_t flags; /* enum cairn_open_info_flag */
	struct cairn_attr attr;
};

/*
 * Creates regular file parent/name and opens it.  mode: permission bits,
 * the caller's umask already applied.  flags: open(2) flags; O_ACCMODE,
 * O_TRUNC, O_APPEND, O_EXCL, O_DIRECT, O_SYNC, O_DSYNC and O_NOATIME are
 * passed on, others ignored.  The new file gets the parent directory's
 * layout.  Returns 0 and *out, or -EEXIST, -EACCES, -ENOENT, -ENOTDIR,
 * -ENAMETOOLONG, -EINVAL (bad name, or O_ACCMODE == 3), -ENOSPC.
 */
int cairn_create(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 uint32_t mode, int flags, struct cairn_open_info *out);

/*
 * mknod(2): mode's type is S_IFREG (also 0), S_IFIFO, S_IFSOCK, S_IFCHR or
 * S_IFBLK; rdev is used for devices only.  Returns 0 and *out (may be NULL),
 * -EINVAL (another type), -EPERM (device by non-root), and the errors of
 * cairn_create().
 */
int cairn_mknod(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		uint32_t mode, uint64_t rdev, struct cairn_attr *out);

/*
 * mkdir(2).  The directory may be placed on any shard (by hash of parent
 * and name).  Returns 0 and *out (may be NULL), -EMLINK, and the errors of
 * cairn_create().
 */
int cairn_mkdir(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		uint32_t mode, struct cairn_attr *out);

/*
 * unlink(2) of a non-directory.  Returns 0, -ENOENT, -EISDIR, -EPERM
 * (sticky directory), -EACCES, -ENOTDIR, -EBUSY (the entry is in the middle
 * of a cross-shard operation), -EINVAL, -ENAMETOOLONG.
 */
int cairn_unlink(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name);

/*
 * rmdir(2).  Returns 0, -ENOTEMPTY (also for ".."), -EINVAL ("."),
 * -ENOTDIR, -EBUSY (the root, or an entry in a cross-shard operation),
 * -EPERM, -EACCES, -ENOENT, -ENAMETOOLONG.
 */
int cairn_rmdir(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name);

enum cairn_rename_flag {
	CAIRN_RENAME_NOREPLACE = 1u << 0, /* same value as RENAME_NOREPLACE */
	CAIRN_RENAME_EXCHANGE = 1u << 1,  /* same value as RENAME_EXCHANGE */
};

/*
 * rename(2) / renameat2(2), within one shard or across shards (never
 * -EXDEV).  Returns 0, -EEXIST (NOREPLACE), -ENOENT, -EISDIR, -ENOTDIR,
 * -ENOTEMPTY, -EINVAL (a directory into its own subtree, both flags),
 * -EBUSY ("." or "..", the root, an entry in another cross-shard
 * operation), -EMLINK, -EPERM, -EACCES, -ENAMETOOLONG.
 */
int cairn_rename(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, uint32_t flags);

/*
 * link(2): a new name newparent/newname for ino.  Returns 0 and *out (may be
 * NULL; nlink updated), -EPERM (ino is a directory), -EMLINK, -EEXIST,
 * -EACCES, -ENOENT, -ENAMETOOLONG, -EINVAL.
 */
int cairn_link(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t newparent,
	       const char *newname, struct cairn_attr *out);

/*
 * symlink(2): parent/name -> target (1..CAIRN_SYMLINK_MAX bytes).  Returns
 * 0 and *out (may be NULL), -ENOENT (empty target), -ENAMETOOLONG, and the
 * errors of cairn_create().
 */
int cairn_symlink(struct cairn *c, const struct cairn_cred *cred, uint64_t parent, const char *name,
		  const char *target, struct cairn_attr *out);

/*
 * Copies a symlink's target, NUL-terminated, into buf and sets *len to its
 * length (without the NUL).  Returns 0, -EINVAL (not a symlink), -ERANGE
 * (cap < *len + 1; *len is set), -ENOENT.
 */
int cairn_readlink(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, char *buf,
		   size_t cap, size_t *len);

/* One directory entry handed to a cairn_readdir() callback. */
struct cairn_dirent {
	const char *name; /* NUL-terminated, valid during the callback */
	uint32_t nlen;
	uint64_t ino;
	uint64_t cookie;	       /* resume after this entry (FUSE: the offset) */
	uint8_t type;		       /* DT_* of <dirent.h> */
	const struct cairn_attr *attr; /* CAIRN_READDIR_PLUS, else NULL */
};

/*
 * Takes one entry: returns 0 for the next one, 1 to stop without taking
 * this one (a full buffer), or a negative error number to abort.
 */
typedef int (*cairn_dirent_fn)(void *arg, const struct cairn_dirent *d);

enum cairn_readdir_flag {
	CAIRN_READDIR_PLUS = 1u << 0, /* attributes with each entry */
};

struct cairn_readdir_args {
	uint64_t fh;	 /* 0, or the handle of cairn_open_meta() on the directory */
	uint64_t cookie; /* 0: from the start; else a cookie seen before */
	uint32_t flags;	 /* enum cairn_readdir_flag */
	uint32_t batch;	 /* entries fetched per request; 0: the most (1024) */
	cairn_dirent_fn fn;
	void *arg;
	bool eof; /* out: the listing reached its end */
};

/*
 * Lists directory ino from a->cookie ("." and ".." first), calling a->fn
 * for each entry until it stops or the directory ends.  Cookies are
 * stable: a listing resumed from one neither repeats nor skips an entry
 * that exists throughout, whatever else is added or removed meanwhile.
 * An entry removed while its attributes were being fetched is left out.
 * Returns 0 (a->eof says whether the end was reached), -ENOTDIR, -ENOENT,
 * or the callback's negative value.
 */
int cairn_readdir(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  struct cairn_readdir_args *a);

/* File system totals, summed over every metadata shard. */
struct cairn_statfs {
	uint64_t blocks; /* in frsize units */
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;
	uint64_t ffree;
	uint32_t bsize;
	uint32_t frsize;
	uint32_t namemax;
};

/* statfs(2) of the cluster.  Returns 0 and *out, or the common errors. */
int cairn_statfs(struct cairn *c, const struct cairn_cred *cred, struct cairn_statfs *out);

/* ---- Extended attributes ---- */

enum cairn_xattr_flag {
	CAIRN_XATTR_CREATE = 1,	 /* same value as XATTR_CREATE */
	CAIRN_XATTR_REPLACE = 2, /* same value as XATTR_REPLACE */
};

/*
 * getxattr(2): copies the value into buf and sets *len; cap 0 asks only the
 * size.  Returns 0, -ENODATA, -ERANGE (cap too small, or a name of 0 or more
 * than CAIRN_XATTR_NAME_MAX bytes), -EOPNOTSUPP (namespace other than user.,
 * trusted., security.), -EPERM, -EACCES, -ENOENT.
 */
int cairn_getxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, const char *name,
		   void *buf, size_t cap, size_t *len);

/*
 * setxattr(2).  Returns 0, -EEXIST (CREATE), -ENODATA (REPLACE), -ERANGE
 * (bad name length), -E2BIG (value over CAIRN_XATTR_SIZE_MAX), -EOPNOTSUPP,
 * -EPERM, -EACCES, -EINVAL (both flags), -ENOENT.
 */
int cairn_setxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, const char *name,
		   const void *value, size_t len, int flags);

/*
 * listxattr(2): the names visible to the caller, each NUL-terminated, into
 * buf; cap 0 asks only the size.  Returns 0 and *len, -ERANGE, -ENOENT.
 */
int cairn_listxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, char *buf,
		    size_t cap, size_t *len);

/* removexattr(2).  Returns 0 or the errors of cairn_setxattr(). */
int cairn_removexattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		      const char *name);

/* ---- Open-file bookkeeping (the data path builds on these) ---- */

/*
 * open(2) of an existing inode: checks access for flags (open(2) flags as
 * for cairn_create(); O_CREAT and O_EXCL are ignored), truncates on O_TRUNC, counts the
 * open so an unlinked file stays until its last close, and returns a
 * handle with the current attributes and layout.  Returns 0 and *out, or
 * -EACCES, -EISDIR (directory for writing), -ELOOP (symlink), -ENOENT,
 * -EINVAL.
 */
int cairn_open_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, int flags,
		    struct cairn_open_info *out);

enum cairn_publish_flag {
	CAIRN_PUB_SIZE = 1u << 0,  /* size is the file's new size */
	CAIRN_PUB_MTIME = 1u << 1, /* mtime is the file's new mtime */
};

/* What the writer learnt through its handle (close-to-open consistency). */
struct cairn_publish {
	uint32_t valid; /* enum cairn_publish_flag */
	uint64_t size;
	struct timespec mtime;
};

/*
 * Releases a handle, publishing size and mtime (pub may be NULL: nothing
 * written).  The last close of an unlinked file deletes it.  Returns 0 and
 * *out (may be NULL), -EBADF (fh not open), -ENOENT, -EINVAL.
 */
int cairn_close_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		     const struct cairn_publish *pub, struct cairn_attr *out);

/*
 * fsync(2) / fdatasync(2) of the metadata: publishes like close and makes
 * the change durable before returning.  Returns as cairn_close_meta().
 */
int cairn_fsync_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		     const struct cairn_publish *pub, bool datasync, struct cairn_attr *out);

/*
 * Publishes like cairn_close_meta() without releasing the handle (the
 * change is group-committed, not synced).  Returns as cairn_close_meta().
 */
int cairn_publish_meta(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t fh,
		       const struct cairn_publish *pub, struct cairn_attr *out);

/* ---- File data ----
 *
 * A struct cairn_file is an open regular file: its handle on the MDS and
 * its layout.  Reads go straight to the OSDs holding the data chunks of the
 * range asked for (several stripes at once); a chunk whose OSD is down, does
 * not answer, or reports a checksum error is rebuilt from parity, and chunk
 * versions that disagree (a write interrupted by a crash) resolve to the
 * newest version held by k chunks.  Writes go stripe by stripe to each
 * stripe's primary OSD, in parallel; the parts of a write that do not fill
 * whole stripes are buffered per file (shared by the handles of the file
 * in this client) until they do, until a read of their range, or until
 * cairn_fsync() or cairn_file_close(), the durability points (O_SYNC,
 * O_DSYNC and O_DIRECT handles write through).  Holes (never written) read
 * as zeros and store nothing.  The size this client's writes and truncates
 * gave the file is published on the MDS by cairn_fsync() and
 * cairn_file_close(), after the data is durable, so other clients see it
 * after those (close-to-open consistency); until then this client's
 * cairn_getattr(), cairn_lookup() and readdirplus report it.  Reads end at
 * the size this client knows.  Handles may be used by several threads at
 * once; the caller orders writes that overlap; O_APPEND writes are atomic
 * among the handles of one client.  Offsets are 64-bit; sizes up to 2^63.
 */
struct cairn_file;

/*
 * Opens regular file ino (flags: open(2) flags as for cairn_open_meta();
 * O_TRUNC with write access frees the chunks and sets the size to 0).
 * Returns 0 and *out, the errors of cairn_open_meta(), -EISDIR, -EINVAL
 * (not a regular file, or no layout), and those of cairn_ftruncate().
 */
int cairn_file_open(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, int flags,
		    struct cairn_file **out);

/* Creates parent/name and opens it.  Returns 0 and *out, or cairn_create()'s errors. */
int cairn_file_create(struct cairn *c, const struct cairn_cred *cred, uint64_t parent,
		      const char *name, uint32_t mode, int flags, struct cairn_file **out);

/*
 * pread(2): up to len bytes at off, fewer at the end of file.  Returns the
 * count (0 at or past the end), -EBADF (opened write-only), -EINVAL, -EIO
 * (more than m chunks of a stripe unavailable, or no version held by k
 * chunks), -ENOMEM, -ETIMEDOUT (the cluster map could not be fetched).
 */
ssize_t cairn_pread(struct cairn_file *f, void *buf, size_t len, uint64_t off);

/*
 * pwrite(2): len bytes at off (never short); with O_APPEND at the end of
 * the file as this client knows it, whatever off is.  Durable when it
 * returns for O_SYNC, O_DSYNC and O_DIRECT handles, else at the next
 * cairn_fsync() or cairn_file_close().  Returns len, -EBADF (opened
 * read-only), -EFBIG (past 2^63), -EINVAL, -EIO (fewer than k members of a
 * stripe up, or retries exhausted), -ENOSPC (an OSD's disk is full),
 * -ENOMEM; an error of writing out buffered bytes of this file may show
 * here.  After an error some stripes of the range may hold the new bytes
 * and others the old ones.
 */
ssize_t cairn_pwrite(struct cairn_file *f, const void *buf, size_t len, uint64_t off);

/*
 * ftruncate(2): down frees the chunks past the new end (and zeros the rest
 * of its stripe), up only changes the size (a hole).  Returns 0, -EBADF
 * (read-only), -EFBIG, and the errors of cairn_pwrite() and cairn_setattr().
 */
int cairn_ftruncate(struct cairn_file *f, uint64_t size);

/*
 * fsync(2) / fdatasync(2): writes out the file's buffered bytes, then
 * publishes the size and mtime on the MDS durably.  Returns 0, an error of
 * writing out buffered bytes not reported before (once, like fsync(2)), or
 * cairn_fsync_meta()'s errors.
 */
int cairn_fsync(struct cairn_file *f, bool datasync);

/*
 * flush(2) of close(2) on a mount, without releasing the handle: writes
 * out the buffered bytes and publishes the size and mtime (not synced), so
 * that an open elsewhere sees the whole file.  Returns as cairn_fsync().
 */
int cairn_file_flush(struct cairn_file *f);

/*
 * Writes out and publishes like cairn_fsync() (the metadata not synced)
 * and releases the handle, which is freed whatever the result.  Returns 0,
 * a write-out error as cairn_fsync(), or cairn_close_meta()'s errors.
 * NULL is allowed.
 */
int cairn_file_close(struct cairn_file *f);

/*
 * The attributes the open or create of f returned, with this client's
 * unpublished size and mtime, and the open's enum cairn_open_info_flag
 * bits (open_flags may be NULL).  Returns 0, or -EINVAL for NULL.
 */
int cairn_file_attr(struct cairn_file *f, struct cairn_attr *out, uint32_t *open_flags);

/* The handle's inode, the size it knows, and its layout (0 / -EINVAL for NULL). */
uint64_t cairn_file_ino(const struct cairn_file *f);
uint64_t cairn_file_size(struct cairn_file *f);
int cairn_file_layout(const struct cairn_file *f, struct cairn_layout *out);

/* ---- File locks ----
 *
 * POSIX byte-range locks (fcntl(2) F_GETLK, F_SETLK, F_SETLKW) and flock(2)
 * locks, kept in memory by the inode's home metadata shard, so they hold
 * across every client of the cluster: two mounts of it exclude each other
 * as two processes of one machine do.  A lock belongs to (this handle,
 * owner), owner being the caller's choice: FUSE's lock_owner of the
 * process for POSIX locks, a distinct value per open file description for
 * flock.  An owner's locks never conflict with each other; POSIX locks and
 * flock locks never see each other.  POSIX semantics: setting a range
 * replaces the owner's locks there (split, merged, converted), F_UNLCK
 * cuts, len 0 runs to the end of the file however it grows.  flock: one
 * lock per owner; a conversion first drops the old lock, as on Linux.
 *
 * Lifetime: each handle has a session (a random 64-bit id made by
 * cairn_open()) that a background thread renews on every shard it has
 * locked on.  Locks survive a connection that breaks and comes back within
 * the shard's lease (a few seconds).  They are released by
 * cairn_lock_release_owner() (FUSE flush and release), by cairn_close(),
 * and when the client dies (a lease after its last renewal); locks are not
 * persisted, so a restart of a shard drops those on its inodes (the handle
 * logs a warning when it notices).  A deadlock between POSIX owners on one
 * shard is detected (-EDEADLK); one through inodes of several shards is
 * not.
 *
 * Blocking calls occupy the calling thread but no thread of the shard,
 * which answers when the lock is granted.  To stop one from another thread
 * (a FUSE interrupt, a timeout of your own), pass a struct cairn_lock_wait
 * and call cairn_lock_wait_cancel() on it.
 */

/* A byte range lock: fcntl's struct flock with 64-bit unsigned fields. */
struct cairn_lock {
	uint64_t start; /* <= INT64_MAX */
	uint64_t len;	/* 0: to the end of the file; start + len - 1 <= INT64_MAX */
	uint32_t type;	/* F_RDLCK, F_WRLCK or F_UNLCK */
	uint32_t pid;	/* the locking process, as cairn_getlk() reports it to others */
};

/* A cancellation token for blocking lock calls. */
struct cairn_lock_wait;

/* A new token, not cancelled.  Returns 0 and *out, -EINVAL, -ENOMEM. */
int cairn_lock_wait_new(struct cairn_lock_wait **out);

/*
 * Makes the blocking call that uses w return -EINTR soon, unless its lock
 * was granted first (it then returns 0 and holds it).  Sticky: a call that
 * starts with w already cancelled returns -EINTR at once.  Any thread, any
 * number of times, never blocks.  NULL is allowed.
 */
void cairn_lock_wait_cancel(struct cairn_lock_wait *w);

/* Frees w; no call may be using it.  NULL is allowed. */
void cairn_lock_wait_free(struct cairn_lock_wait *w);

/*
 * F_GETLK: lk->type (F_RDLCK or F_WRLCK), start and len describe a lock
 * owner would like.  If a lock of another owner (of any client) conflicts,
 * *lk becomes the first such lock (lowest start): its type, range and pid;
 * else only lk->type changes, to F_UNLCK.  Returns 0, -EINVAL (type, or a
 * range past INT64_MAX), -ENOENT (no such inode).
 */
int cairn_getlk(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		struct cairn_lock *lk);

/*
 * F_SETLK (wait false) and F_SETLKW (wait true): sets lk->type on the range
 * for owner, or releases it (F_UNLCK).  A blocked call waits until the
 * lock is granted; w (may be NULL) lets another thread stop it.  Returns
 * 0, or
 *   -EAGAIN   a conflicting lock is held (wait false)
 *   -EDEADLK  waiting would deadlock with owners waiting for owner's locks
 *   -EINTR    cancelled through w
 *   -EBADF    owner's locks on ino were released (cairn_lock_release_owner)
 *             while it waited
 *   -ENOLCK   too many locks or waiting calls on the shard or for this
 *             handle, or the shard ended this handle's session meanwhile
 *   -EINVAL   a bad type or range
 *   -ENOENT   no such inode (not for F_UNLCK)
 * A blocked call rides out broken connections and shard restarts: it asks
 * again until it gets an answer.
 */
int cairn_setlk(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		const struct cairn_lock *lk, bool wait, struct cairn_lock_wait *w);

/*
 * flock(2): op is LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB not to wait.
 * w as for cairn_setlk().  Returns 0, -EWOULDBLOCK (== -EAGAIN; LOCK_NB),
 * -EINTR, -EBADF, -ENOLCK, -EINVAL (op), -ENOENT, as cairn_setlk().
 */
int cairn_flock(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, uint64_t owner,
		int op, struct cairn_lock_wait *w);

/*
 * Releases every lock (POSIX and flock) of owner on ino, and makes its
 * calls waiting on ino return -EBADF: for FUSE flush (POSIX locks of the
 * process that closes) and release (flock of the file description).
 * Returns 0 or the common errors.
 */
int cairn_lock_release_owner(struct cairn *c, uint64_t ino, uint64_t owner);

/* ---- Paths ----
 *
 * Paths are resolved from the root of the cluster ("/a/b" and "a/b" are the
 * same), one lookup per component, with the caller's search permission.
 * "." and ".." are followed; symlinks in the middle of a path are followed
 * (relative targets from their directory, absolute ones from the root), the
 * last one as each function says; more than 40 symlinks give -ELOOP.  A
 * path ending in '/' must name a directory.  Besides each call's errors:
 * -ENOENT (a component is missing, or the path is empty), -ENOTDIR (a
 * component is not a directory), -ENAMETOOLONG (a component over
 * CAIRN_NAME_MAX bytes, or the path over 4095), -ELOOP.
 */

/* stat(2): follows a final symlink.  Returns 0 and *out. */
int cairn_stat_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		    struct cairn_attr *out);

/* lstat(2): does not follow a final symlink.  Returns 0 and *out. */
int cairn_lstat_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		     struct cairn_attr *out);

/* mkdir(2).  Returns 0 and *out (may be NULL), errors of cairn_mkdir(). */
int cairn_mkdir_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		     uint32_t mode, struct cairn_attr *out);

/*
 * Creates an empty regular file (O_CREAT | O_EXCL, then closed).  Returns 0
 * and *out (may be NULL), the errors of cairn_create(), -EISDIR (path ends
 * in '/').
 */
int cairn_create_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		      uint32_t mode, struct cairn_attr *out);

/* unlink(2).  Returns 0 or the errors of cairn_unlink(). */
int cairn_unlink_path(struct cairn *c, const struct cairn_cred *cred, const char *path);

/* rmdir(2).  Returns 0 or the errors of cairn_rmdir(). */
int cairn_rmdir_path(struct cairn *c, const struct cairn_cred *cred, const char *path);

/* renameat2(2).  Returns 0 or the errors of cairn_rename(). */
int cairn_rename_path(struct cairn *c, const struct cairn_cred *cred, const char *oldpath,
		      const char *newpath, uint32_t flags);

/* link(2): newpath names the inode oldpath names (not followed). */
int cairn_link_path(struct cairn *c, const struct cairn_cred *cred, const char *oldpath,
		    const char *newpath);

/* symlink(2): linkpath -> target (target is stored as given). */
int cairn_symlink_path(struct cairn *c, const struct cairn_cred *cred, const char *target,
		       const char *linkpath);

/* readlink(2) of the symlink path names.  As cairn_readlink(). */
int cairn_readlink_path(struct cairn *c, const struct cairn_cred *cred, const char *path, char *buf,
			size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
