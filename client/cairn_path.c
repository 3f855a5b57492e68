/*
 * cairn_path.c - libcairn: the path conveniences of cairn.h.  Each resolves
 * its path(s) with walk_path() over cairn_lookup()/cairn_readlink() and
 * then makes the one inode-based call that does the work.
 *
 * Threads: any; the walk state lives on the caller's stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "client/cairn.h"
#include "client/walk.h"

/* A walk on behalf of one call: the last lookup's full attributes. */
struct pwalk {
	struct cairn *c;
	const struct cairn_cred *cred;
	struct cairn_attr last;
	struct walk_result res;
};

static int pw_lookup(void *arg, uint64_t dir, const char *name, uint64_t *ino, uint32_t *mode)
{
	struct pwalk *p = arg;
	int rc = cairn_lookup(p->c, p->cred, dir, name, &p->last);

	if (!rc) {
		*ino = p->last.ino;
		*mode = p->last.mode;
	}
	return rc;
}

static int pw_readlink(void *arg, uint64_t ino, char *buf, size_t cap, size_t *len)
{
	struct pwalk *p = arg;

	return cairn_readlink(p->c, p->cred, ino, buf, cap, len);
}

static const struct walk_ops pw_ops = {.lookup = pw_lookup, .readlink = pw_readlink};

static int pw_run(struct pwalk *p, struct cairn *c, const struct cairn_cred *cred, const char *path,
		  unsigned flags)
{
	p->c = c;
	p->cred = cred;
	if (!c)
		return -EINVAL;
	return walk_path(&pw_ops, p, CAIRN_ROOT_INO, path, flags, &p->res);
}

/* The inode path names, with its attributes. */
static int resolve(struct cairn *c, const struct cairn_cred *cred, const char *path, unsigned flags,
		   struct cairn_attr *out)
{
	struct pwalk p;
	int rc = pw_run(&p, c, cred, path, flags);

	if (rc)
		return rc;
	if (!p.res.looked_up)
		return cairn_getattr(c, cred, p.res.ino, out);
	*out = p.last;
	return 0;
}

int cairn_stat_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		    struct cairn_attr *out)
{
	if (!out)
		return -EINVAL;
	return resolve(c, cred, path, WALK_FOLLOW, out);
}

int cairn_lstat_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		     struct cairn_attr *out)
{
	if (!out)
		return -EINVAL;
	return resolve(c, cred, path, 0, out);
}

/*
 * The parent directory of path's last component, and that name.  A path
 * naming the root itself gives root_err; a trailing '/' gives slash_err
 * unless it is 0.
 */
static int parent_of(struct pwalk *p, struct cairn *c, const struct cairn_cred *cred,
		     const char *path, int root_err, int slash_err)
{
	int rc = pw_run(p, c, cred, path, WALK_PARENT);

	if (rc)
		return rc;
	if (p->res.name[0] == '\0')
		return root_err;
	if (p->res.trailing && slash_err)
		return slash_err;
	return 0;
}

int cairn_mkdir_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		     uint32_t mode, struct cairn_attr *out)
{
	struct pwalk p;
	int rc = parent_of(&p, c, cred, path, -EEXIST, 0);

	return rc ? rc : cairn_mkdir(c, cred, p.res.ino, p.res.name, mode, out);
}

int cairn_create_path(struct cairn *c, const struct cairn_cred *cred, const char *path,
		      uint32_t mode, struct cairn_attr *out)
{
	struct cairn_open_info oi;
	struct pwalk p;
	int rc = parent_of(&p, c, cred, path, -EEXIST, -EISDIR);

	if (!rc)
		rc = cairn_create(c, cred, p.res.ino, p.res.name, mode, O_WRONLY | O_CREAT | O_EXCL,
				  &oi);
	if (rc)
		return rc;
	if (out)
		*out = oi.attr;
	return cairn_close_meta(c, cred, oi.attr.ino, oi.fh, NULL, NULL);
}

/* A trailing '/' on a name to remove: -EISDIR for a directory, else -ENOTDIR. */
static int slash_verdict(struct pwalk *p)
{
	struct cairn_attr a;
	int rc = cairn_lookup(p->c, p->cred, p->res.ino, p->res.name, &a);

	if (rc)
		return rc;
	return S_ISDIR(a.mode) ? 0 : -ENOTDIR;
}

int cairn_unlink_path(struct cairn *c, const struct cairn_cred *cred, const char *path)
{
	struct pwalk p;
	int rc = parent_of(&p, c, cred, path, -EISDIR, 0);

	if (!rc && p.res.trailing) {
		rc = slash_verdict(&p);
		if (!rc)
			rc = -EISDIR;
	}
	return rc ? rc : cairn_unlink(c, cred, p.res.ino, p.res.name);
}

int cairn_rmdir_path(struct cairn *c, const struct cairn_cred *cred, const char *path)
{
	struct pwalk p;
	int rc = parent_of(&p, c, cred, path, -EBUSY, 0);

	return rc ? rc : cairn_rmdir(c, cred, p.res.ino, p.res.name);
}

int cairn_rename_path(struct cairn *c, const struct cairn_cred *cred, const char *oldpath,
		      const char *newpath, uint32_t flags)
{
	struct pwalk op, np;
	int rc = parent_of(&op, c, cred, oldpath, -EBUSY, 0);

	if (!rc && op.res.trailing)
		rc = slash_verdict(&op);
	if (!rc)
		rc = parent_of(&np, c, cred, newpath, -EBUSY, 0);
	if (rc)
		return rc;
	return cairn_rename(c, cred, op.res.ino, op.res.name, np.res.ino, np.res.name, flags);
}

int cairn_link_path(struct cairn *c, const struct cairn_cred *cred, const char *oldpath,
		    const char *newpath)
{
	struct cairn_attr a;
	struct pwalk np;
	int rc = resolve(c, cred, oldpath, 0, &a);

	if (!rc)
		rc = parent_of(&np, c, cred, newpath, -EEXIST, -ENOENT);
	return rc ? rc : cairn_link(c, cred, a.ino, np.res.ino, np.res.name, NULL);
}

int cairn_symlink_path(struct cairn *c, const struct cairn_cred *cred, const char *target,
		       const char *linkpath)
{
	struct pwalk p;
	int rc = parent_of(&p, c, cred, linkpath, -EEXIST, -ENOENT);

	return rc ? rc : cairn_symlink(c, cred, p.res.ino, p.res.name, target, NULL);
}

int cairn_readlink_path(struct cairn *c, const struct cairn_cred *cred, const char *path, char *buf,
			size_t cap, size_t *len)
{
	struct cairn_attr a;
	int rc = resolve(c, cred, path, 0, &a);

	if (rc)
		return rc;
	if (!S_ISLNK(a.mode))
		return -EINVAL;
	return cairn_readlink(c, cred, a.ino, buf, cap, len);
}
