/*
 * fsops.c - cairn-fuse: the operations table, the session's init (what is
 * asked of the kernel), and the helpers every operation shares:
 * credentials, error mapping, attribute replies.  The operations
 * themselves are in fsops_ns.c, fsops_dir.c and fsops_file.c.
 *
 * Threads: libfuse's workers; nothing here keeps state.
 */
#include "client/fuse/fsops.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "client/fuse/fnode.h"
#include "common/log.h"

_Static_assert(CAIRN_ROOT_INO == FUSE_ROOT_ID, "the root is node id 1 in both");

#define CFS_MAX_WRITE (1u << 20)

const struct cairn_cred *cfs_cred(fuse_req_t req, bool with_groups, struct cfs_cred *out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t g[CAIRN_GROUPS_MAX];
	int n;

	out->cred = (struct cairn_cred){.uid = ctx->uid, .gid = ctx->gid, .groups = out->groups};
	if (!with_groups || ctx->uid == 0)
		return &out->cred;
	/* The count of all groups; only the first CAIRN_GROUPS_MAX are filled. */
	n = fuse_req_getgroups(req, CAIRN_GROUPS_MAX, g);
	if (n > CAIRN_GROUPS_MAX)
		n = CAIRN_GROUPS_MAX;
	for (int i = 0; i < n; i++)
		out->groups[i] = (uint32_t)g[i];
	out->cred.ngroups = n > 0 ? (uint32_t)n : 0;
	return &out->cred;
}

int cfs_errno(int rc, const char *op)
{
	if (rc <= -CAIRN_ERR_BASE) {
		log_warn("fuse: %s: %s (answered EIO)", op, cairn_strerror(rc));
		return EIO;
	}
	if (rc >= 0) {
		log_warn("fuse: %s: unexpected result %d (answered EIO)", op, rc);
		return EIO;
	}
	if (rc == -EIO)
		log_warn("fuse: %s: %s", op, cairn_strerror(rc));
	else
		log_debug("fuse: %s: %s", op, cairn_strerror(rc));
	return -rc;
}

void cfs_reply_err(fuse_req_t req, int rc, const char *op)
{
	fuse_reply_err(req, cfs_errno(rc, op));
}

void cfs_entry(const struct cfs *fs, struct cairn_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = a->gen;
	cairn_attr_to_stat(a, &e->attr);
	e->attr_timeout = fs->attr_timeout;
	e->entry_timeout = fs->entry_timeout;
}

void cfs_reply_attr(fuse_req_t req, const struct cfs *fs, struct cairn_attr *a)
{
	struct stat st;

	cairn_attr_to_stat(a, &st);
	fuse_reply_attr(req, &st, fs->attr_timeout);
}

static void want_if_capable(struct fuse_conn_info *conn, unsigned cap, bool on)
{
	if (on && (conn->capable & cap))
		conn->want |= cap;
	else
		conn->want &= ~cap;
}

static void cfs_init(void *userdata, struct fuse_conn_info *conn)
{
	const struct cfs *fs = userdata;
	const unsigned splice = FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;

	want_if_capable(conn, FUSE_CAP_ATOMIC_O_TRUNC, true);
	want_if_capable(conn, FUSE_CAP_ASYNC_READ, true);
	want_if_capable(conn, FUSE_CAP_ASYNC_DIO, true);
	want_if_capable(conn, FUSE_CAP_READDIRPLUS, true);
	want_if_capable(conn, FUSE_CAP_READDIRPLUS_AUTO, true);
	want_if_capable(conn, FUSE_CAP_PARALLEL_DIROPS, true);
	want_if_capable(conn, FUSE_CAP_AUTO_INVAL_DATA, true);
	/* The kernel's page cache stays write-through: a write reaches
	 * libcairn before write(2) returns, and mmap still works. */
	want_if_capable(conn, FUSE_CAP_WRITEBACK_CACHE, false);
	want_if_capable(conn, FUSE_CAP_SPLICE_READ, fs->splice);
	want_if_capable(conn, FUSE_CAP_SPLICE_WRITE, fs->splice);
	want_if_capable(conn, FUSE_CAP_SPLICE_MOVE, fs->splice);
	/* The kernel keeps the smaller of this and its device's read_ahead_kb,
	 * which main.c raised before this INIT. */
	if (fs->readahead)
		conn->max_readahead = fs->readahead;
	conn->max_write = CFS_MAX_WRITE;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	conn->time_gran = 1;
	log_info("fuse: kernel protocol %u.%u, max_write %u, max_readahead %u, splice %s",
		 conn->proto_major, conn->proto_minor, conn->max_write, conn->max_readahead,
		 (conn->want & splice) ? "on" : "off");
}

const struct fuse_lowlevel_ops cfs_ops = {
    .init = cfs_init,
    .lookup = cfs_lookup,
    .forget = cfs_forget,
    .forget_multi = cfs_forget_multi,
    .getattr = cfs_getattr,
    .setattr = cfs_setattr,
    .readlink = cfs_readlink,
    .mknod = cfs_mknod,
    .mkdir = cfs_mkdir,
    .unlink = cfs_unlink,
    .rmdir = cfs_rmdir,
    .symlink = cfs_symlink,
    .rename = cfs_rename,
    .link = cfs_link,
    .open = cfs_open,
    .read = cfs_read,
    .write_buf = cfs_write_buf,
    .flush = cfs_flush,
    .release = cfs_release,
    .fsync = cfs_fsync,
    .getlk = cfs_getlk,
    .setlk = cfs_setlk,
    .flock = cfs_flock,
    .opendir = cfs_opendir,
    .readdir = cfs_readdir,
    .readdirplus = cfs_readdirplus,
    .releasedir = cfs_releasedir,
    .fsyncdir = cfs_fsyncdir,
    .statfs = cfs_statfs,
    .setxattr = cfs_setxattr,
    .getxattr = cfs_getxattr,
    .listxattr = cfs_listxattr,
    .removexattr = cfs_removexattr,
    .access = cfs_access,
    .create = cfs_create,
    .fallocate = cfs_fallocate,
    .lseek = cfs_lseek,
    .copy_file_range = cfs_copy_file_range,
};
