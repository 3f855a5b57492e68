/*
 * walk.h - libcairn internal: path resolution over a lookup function.
 *
 * walk_path() turns a path into an inode the way the kernel's namei does:
 * one lookup per component from the root, "." and ".." looked up like any
 * name (the MDS answers them), symlinks expanded in place (relative ones
 * from the directory holding them, absolute ones from the root) up to
 * WALK_SYMLINK_MAX times, a trailing '/' requiring a directory.  It knows
 * nothing of the network: lookup and readlink are callbacks, so the same
 * code serves the path API of cairn.h and is tested on its own.
 *
 * Pure: no state, no allocation; any thread.
 */
#ifndef CAIRN_CLIENT_WALK_H
#define CAIRN_CLIENT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WALK_PATH_MAX 4095  /* bytes of a path, as PATH_MAX - 1 */
#define WALK_NAME_MAX 255   /* bytes of a component */
#define WALK_SYMLINK_MAX 40 /* symlinks expanded per walk */

struct walk_ops {
	/*
	 * Looks name (NUL-terminated, 1..WALK_NAME_MAX bytes) up in directory
	 * dir: 0 and *ino, *mode (S_IFMT | permission bits), or -errno.
	 */
	int (*lookup)(void *arg, uint64_t dir, const char *name, uint64_t *ino, uint32_t *mode);
	/*
	 * A symlink's target into buf (cap bytes, NUL-terminated): 0 and *len,
	 * or -errno (-ERANGE when it does not fit).
	 */
	int (*readlink)(void *arg, uint64_t ino, char *buf, size_t cap, size_t *len);
};

enum walk_flag {
	WALK_FOLLOW = 1u << 0, /* follow a final symlink (stat, not lstat) */
	WALK_PARENT = 1u << 1, /* stop before the last component: its parent and name */
};

struct walk_result {
	uint64_t ino;		      /* the inode, or with WALK_PARENT its parent directory */
	uint32_t mode;		      /* its mode; S_IFDIR for the root reached without lookup */
	bool looked_up;		      /* ino came from the last lookup call (not the start) */
	bool trailing;		      /* the path ended in '/' */
	char name[WALK_NAME_MAX + 1]; /* WALK_PARENT: the last component ("" for the root) */
};

/*
 * Resolves path from directory root.  Returns 0 and *out, or -ENOENT (empty
 * path), -ENAMETOOLONG (a component over WALK_NAME_MAX, a path or an
 * expansion over WALK_PATH_MAX), -ENOTDIR (a non-directory used as one, or
 * before a trailing '/'), -ELOOP (too many symlinks), -EINVAL (NULL
 * arguments), or what the callbacks return.
 */
int walk_path(const struct walk_ops *ops, void *arg, uint64_t root, const char *path,
	      unsigned flags, struct walk_result *out);

#endif
