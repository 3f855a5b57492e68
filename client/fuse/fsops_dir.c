/*
 * fsops_dir.c - cairn-fuse: directories.  opendir takes an MDS open handle
 * (which checks read permission, as open(2) of a directory does) and keeps
 * it in fi->fh; readdir and readdirplus list from the kernel's offset,
 * which is the cookie of the last entry it took (cookies are stable, so a
 * listing resumed from one neither repeats nor skips an entry).
 *
 * Threads: libfuse's workers; a listing's buffer belongs to its request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/fuse/fsops.h"

void cfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cfs *fs = cfs_of(req);
	struct cairn_open_info info;
	struct cfs_cred cc;
	const struct cairn_cred *cred = cfs_cred(req, true, &cc);
	int rc;

	rc = cairn_open_meta(fs->c, cred, ino, O_RDONLY, &info);
	if (rc) {
		cfs_reply_err(req, rc, "opendir");
		return;
	}
	if (!S_ISDIR(info.attr.mode)) {
		cairn_close_meta(fs->c, cred, ino, info.fh, NULL, NULL);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = info.fh;
	if (fuse_reply_open(req, fi) == -ENOENT) /* interrupted: no releasedir will come */
		cairn_close_meta(fs->c, cred, ino, info.fh, NULL, NULL);
}

/* A listing in progress: the reply buffer being filled. */
struct dir_fill {
	fuse_req_t req;
	const struct cfs *fs;
	char *buf;
	size_t size;
	size_t pos;
	bool plus;
};

/* Adds one entry; 1 (not taken) when the buffer is full. */
static int dir_add(void *arg, const struct cairn_dirent *d)
{
	struct dir_fill *df = arg;
	size_t room = df->size - df->pos, n;

	if (df->plus) {
		struct fuse_entry_param e;
		struct cairn_attr a;

		if (d->attr) {
			a = *d->attr;
			cfs_entry(df->fs, &a, &e);
		} else { /* no attributes: ino 0 tells the kernel to look it up */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = d->ino;
			e.attr.st_mode = (mode_t)d->type << 12;
		}
		n = fuse_add_direntry_plus(df->req, df->buf + df->pos, room, d->name, &e,
					   (off_t)d->cookie);
	} else {
		struct stat st = {.st_ino = d->ino, .st_mode = (mode_t)d->type << 12};

		n = fuse_add_direntry(df->req, df->buf + df->pos, room, d->name, &st,
				      (off_t)d->cookie);
	}
	if (n > room)
		return 1;
	df->pos += n;
	return 0;
}

static void dir_list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi, bool plus)
{
	struct dir_fill df = {.req = req, .fs = cfs_of(req), .size = size, .plus = plus};
	/* About what fits: an entry takes 32 bytes and more, 152 with attributes. */
	struct cairn_readdir_args a = {.fh = fi->fh,
				       .cookie = (uint64_t)off,
				       .flags = plus ? CAIRN_READDIR_PLUS : 0,
				       .batch = (uint32_t)(size / (plus ? 152 : 32) + 1),
				       .fn = dir_add,
				       .arg = &df};
	struct cfs_cred cc;
	int rc;

	df.buf = malloc(size ? size : 1);
	if (!df.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = cairn_readdir(df.fs->c, cfs_cred(req, false, &cc), ino, &a);
	/* Entries taken before an error are returned; the next call meets it. */
	if (rc && df.pos == 0)
		cfs_reply_err(req, rc, plus ? "readdirplus" : "readdir");
	else
		fuse_reply_buf(req, df.buf, df.pos);
	free(df.buf);
}

void cfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	dir_list(req, ino, size, off, fi, false);
}

void cfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	dir_list(req, ino, size, off, fi, true);
}

void cfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cfs_cred cc;
	int rc;

	rc = cairn_close_meta(cfs_of(req)->c, cfs_cred(req, false, &cc), ino, fi->fh, NULL, NULL);
	fuse_reply_err(req, rc ? cfs_errno(rc, "releasedir") : 0);
}

/* The directory's entries live on its shard: syncing that shard makes them durable. */
void cfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct cfs_cred cc;
	int rc;

	rc = cairn_fsync_meta(cfs_of(req)->c, cfs_cred(req, false, &cc), ino, fi->fh, NULL,
			      datasync != 0, NULL);
	fuse_reply_err(req, rc ? cfs_errno(rc, "fsyncdir") : 0);
}
