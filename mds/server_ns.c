/*
 * server_ns.c - namespace operations on names and directories (lookup,
 * create, mknod, mkdir, unlink, rmdir, rename, link, symlink, readdir) for
 * the shard's RPC handler (server.c, server_int.h).
 *
 * Routing: these requests go to the shard of the (old or new) parent;
 * a parent of another shard is answered -EREMOTE.  When ns answers
 * -EREMOTE after its local checks (having changed nothing), the change
 * spans shards and the coordinator of mds/xshard.h does it, on a worker
 * thread: on an I/O thread the operation returns SRV_DEFER first.
 *
 * Layout of a new regular file: the parent directory's, or, where the
 * directory has none, the cluster's default pool (mds_map_pool_layout).
 * Whether a directory has a layout is remembered per worker thread for
 * SRV_DIRCACHE_MS (directories' layouts change only by an administrator's
 * hand, and a file created meanwhile with the default pool is still a
 * valid file), which spares a read of the parent per create.
 *
 * Threads: RPC worker threads; per-thread state in struct srv_tls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "mds/mds.h"
#include "mds/map.h"
#include "mds/server_int.h"
#include "mds/xshard.h"

/* ---- layouts of new files ---- */

/* Whether directory dir has a layout: 1 yes, 0 no, or -errno. */
static int srv_dir_has_layout(struct srv_ctx *c, uint64_t dir)
{
	unsigned slot = (unsigned)((dir * UINT64_C(0x9e3779b97f4a7c15)) >> 58) % SRV_DIRCACHE;
	int64_t now = srv_now_ms();
	struct ns_attr a;
	int rc;

	if (c->t->dirs[slot].ino == dir && c->t->dirs[slot].expires_ms > now)
		return c->t->dirs[slot].has_layout;
	rc = ns_getattr(c->m->ns, dir, &a);
	if (rc)
		return rc;
	c->t->dirs[slot].ino = dir;
	c->t->dirs[slot].expires_ms = now + SRV_DIRCACHE_MS;
	c->t->dirs[slot].has_layout = a.layout.pool_id != 0;
	return c->t->dirs[slot].has_layout;
}

/*
 * The layout to pass to ns_create: *use NULL for the parent's, else the
 * default pool's in *l.  Returns 0, -ENOSPC (no pool exists), SRV_DEFER
 * (shard 0 must be asked), or the error of reaching shard 0.  Errors about the parent itself are
 * left to ns_create, which reports them precisely.
 */
static int srv_new_layout(struct srv_ctx *c, uint64_t parent, struct ns_layout *l,
			  const struct ns_layout **use)
{
	struct proto_layout pl;
	int rc = srv_dir_has_layout(c, parent);

	*use = NULL;
	if (rc != 0)
		return 0;
	rc = mds_map_pool_layout(c->m, 0, c->may_block, &pl);
	if (rc == -EWOULDBLOCK)
		return SRV_DEFER;
	if (rc == -ENOENT) {
		log_warn("server: no pool exists: cannot create files (cairnctl pool create)");
		return -ENOSPC;
	}
	if (rc)
		return rc;
	*l = (struct ns_layout){
	    .pool_id = pl.pool_id, .chunk_size = pl.chunk_size, .k = pl.k, .m = pl.m};
	*use = l;
	return 0;
}

/* ---- lookup ---- */

int srv_op_lookup(struct srv_ctx *c)
{
	struct proto_mds_lookup_req q;
	struct ns_cred cred;
	struct ns_attr a;
	int rc;

	if (proto_mds_lookup_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_lookup(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, &a);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE)
		rc = mds_xshard_getattr(c->m, a.ino, &a);
	return rc ? rc : srv_reply_entry(c, &a);
}

/* ---- create, mknod, mkdir, symlink ---- */

/*
 * O_CREAT without O_EXCL on an existing name: opens what is there, as
 * open(2) would.  An entry pointing to another shard is answered -EEXIST:
 * the client then looks it up and opens it at its home shard.
 */
static int srv_open_existing(struct srv_ctx *c, const struct ns_cred *cred,
			     const struct proto_mds_create_req *q, struct ns_attr *a)
{
	int rc = ns_lookup(c->m->ns, cred, q->parent, q->name.ptr, q->name.len, a);

	if (rc == -EREMOTE)
		return -EEXIST;
	if (rc)
		return rc;
	if (S_ISDIR(a->mode))
		return -EISDIR;
	return ns_open(c->m->ns, cred, a->ino, srv_open_flags(q->flags), srv_sync_flags(q->flags),
		       a);
}

int srv_op_create(struct srv_ctx *c)
{
	static const struct ns_cred root = {0, 0, 0, NULL};
	struct proto_mds_create_req q;
	const struct ns_layout *use;
	struct ns_layout l;
	struct ns_cred cred;
	struct ns_attr a;
	uint32_t mode;
	int rc;

	if (proto_mds_create_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	if (srv_sync_flags(q.flags) && !c->may_block)
		return SRV_DEFER;
	rc = srv_home(c, q.parent);
	if (!rc)
		rc = srv_new_layout(c, q.parent, &l, &use);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	mode = q.mode & ~q.umask & PROTO_S_PERM;
	rc = ns_create(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, mode, use,
		       srv_sync_flags(q.flags), &a);
	if (rc == -EEXIST && !(q.flags & PROTO_MDS_O_EXCL))
		rc = srv_open_existing(c, &cred, &q, &a);
	else if (rc == 0)
		/* The creator may open what it created whatever its mode says. */
		rc = ns_open(c->m->ns, &root, a.ino, O_RDONLY, false, NULL);
	if (rc)
		return rc;
	rc = srv_reply_open(c, &a);
	if (rc)
		ns_close(c->m->ns, a.ino, false, 0, NULL, false, NULL);
	return rc;
}

int srv_op_mknod(struct srv_ctx *c)
{
	struct proto_mds_mknod_req q;
	const struct ns_layout *use;
	struct ns_layout l;
	struct ns_cred cred;
	struct ns_attr a;
	uint32_t perm;
	int rc;

	if (proto_mds_mknod_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	perm = q.mode & ~q.umask & PROTO_S_PERM;
	if ((q.mode & PROTO_S_IFMT) == PROTO_S_IFREG) {
		/* A regular file gets a layout like any other. */
		rc = srv_new_layout(c, q.parent, &l, &use);
		if (!rc)
			rc = ns_create(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, perm, use,
				       false, &a);
	} else {
		rc = ns_mknod(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len,
			      (q.mode & PROTO_S_IFMT) | perm, q.rdev, false, &a);
	}
	return rc ? rc : srv_reply_entry(c, &a);
}

int srv_op_mkdir(struct srv_ctx *c)
{
	struct proto_mds_mkdir_req q;
	struct ns_cred cred;
	struct ns_attr a, out;
	uint16_t target;
	int rc;

	if (proto_mds_mkdir_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	target = ns_dir_shard(q.parent, q.name.ptr, q.name.len, c->m->nshards);
	rc = ns_mkdir(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len,
		      q.mode & ~q.umask & PROTO_S_PERM, target, false, &a);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE) {
		rc = mds_xshard_mkdir(c->m, &cred, q.parent, q.name.ptr, q.name.len, &a, target,
				      false, &out);
		a = out;
	}
	return rc ? rc : srv_reply_entry(c, &a);
}

int srv_op_symlink(struct srv_ctx *c)
{
	struct proto_mds_symlink_req q;
	struct ns_cred cred;
	struct ns_attr a;
	int rc;

	if (proto_mds_symlink_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_symlink(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, q.target.ptr,
			q.target.len, false, &a);
	return rc ? rc : srv_reply_entry(c, &a);
}

/* ---- unlink, rmdir, rename, link ---- */

int srv_op_unlink(struct srv_ctx *c)
{
	struct proto_mds_unlink_req q;
	struct ns_cred cred;
	struct ns_drop drop;
	int rc;

	if (proto_mds_unlink_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_unlink(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, false, &drop);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE)
		return mds_xshard_unlink(c->m, &cred, q.parent, q.name.ptr, q.name.len, &drop,
					 false);
	if (!rc)
		srv_data_freed(&drop);
	return rc;
}

int srv_op_rmdir(struct srv_ctx *c)
{
	struct proto_mds_unlink_req q;
	struct ns_cred cred;
	struct ns_drop drop;
	int rc;

	if (proto_mds_unlink_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_rmdir(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, false, &drop);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE)
		rc = mds_xshard_rmdir(c->m, &cred, q.parent, q.name.ptr, q.name.len, drop.ino,
				      false);
	return rc;
}

int srv_op_rename(struct srv_ctx *c)
{
	struct proto_mds_rename_req q;
	struct ns_cred cred;
	struct ns_drop drop;
	unsigned flags = 0;
	int rc;

	if (proto_mds_rename_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	if (q.flags & PROTO_MDS_RENAME_NOREPLACE)
		flags |= NS_RENAME_NOREPLACE;
	if (q.flags & PROTO_MDS_RENAME_EXCHANGE)
		flags |= NS_RENAME_EXCHANGE;
	/*
	 * The coordinator takes renames to another shard, and, when there are
	 * several shards, every rename between two directories: a directory
	 * moved to another parent must hold the cluster-wide rename lock so no
	 * two moves make a cycle (mds/xshard.h).
	 */
	rc = -EREMOTE;
	if (srv_home(c, q.new_parent) == 0 && (c->m->nshards == 1 || q.parent == q.new_parent))
		rc = ns_rename(c->m->ns, &cred, q.parent, q.name.ptr, q.name.len, q.new_parent,
			       q.new_name.ptr, q.new_name.len, flags, false, &drop);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE)
		return mds_xshard_rename(c->m, &cred, q.parent, q.name.ptr, q.name.len,
					 q.new_parent, q.new_name.ptr, q.new_name.len, flags,
					 false);
	if (!rc)
		srv_data_freed(&drop);
	return rc;
}

int srv_op_link(struct srv_ctx *c)
{
	struct proto_mds_link_req q;
	struct ns_cred cred;
	struct ns_attr a;
	int rc;

	if (proto_mds_link_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.new_parent);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = -EREMOTE;
	if (srv_home(c, q.ino) == 0)
		rc = ns_link(c->m->ns, &cred, q.ino, q.new_parent, q.new_name.ptr, q.new_name.len,
			     false, &a);
	if (rc == -EREMOTE && !c->may_block)
		return SRV_DEFER;
	if (rc == -EREMOTE)
		rc = mds_xshard_link(c->m, &cred, q.ino, q.new_parent, q.new_name.ptr,
				     q.new_name.len, false, &a);
	return rc ? rc : srv_reply_entry(c, &a);
}

/* ---- readdir ---- */

struct srv_rd {
	struct srv_ctx *c;
	uint32_t n;
	size_t names;  /* bytes of c->t->scratch used */
	size_t bytes;  /* encoded size of the entries so far */
	size_t budget; /* most bytes of entries in this reply */
};

static int srv_rd_take(void *arg, const struct ns_dirent *e)
{
	struct srv_rd *rd = arg;
	struct proto_mds_dirent *d = &rd->c->t->ents[rd->n];
	size_t need = 2 + e->nlen + 8 + 8 + 1 + 1 + (e->attr ? PROTO_ATTR_SIZE : 0);
	uint8_t dtype = proto_dtype_of_mode(e->type);

	if (rd->n >= PROTO_MDS_READDIR_MAX || rd->bytes + need > rd->budget ||
	    e->nlen > PROTO_NAME_MAX)
		return 1;
	if (dtype == 0) {
		log_error("server: entry of type %#o in a directory", e->type);
		return -EIO;
	}
	memcpy(rd->c->t->scratch + rd->names, e->name, e->nlen);
	d->name = (struct proto_str){rd->c->t->scratch + rd->names, (uint16_t)e->nlen};
	d->cookie = e->cookie;
	d->ino = e->ino;
	d->dtype = dtype;
	d->flags = e->attr ? PROTO_MDS_DIRENT_ATTR : 0;
	if (e->attr)
		srv_attr(e->attr, &d->attr);
	rd->names += e->nlen;
	rd->bytes += need;
	rd->n++;
	return 0;
}

int srv_op_readdir(struct srv_ctx *c)
{
	const struct cfg *cfg = c->m->cfg;
	struct proto_mds_readdir_req q;
	struct proto_mds_readdir_rep rep = {0};
	struct srv_rd rd = {.c = c};
	struct ns_readdir_args a = {0};
	bool eof = false;
	uint64_t frame;
	int rc;

	if (proto_mds_readdir_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	/* Entries fit the reply buffer and the frame size of cairn.conf. */
	frame = cfg->rpc.max_frame > 1024 ? cfg->rpc.max_frame - 1024 : 0;
	rd.budget = sizeof(c->t->rep) - 64;
	if (rd.budget > frame)
		rd.budget = frame;
	a.cookie = q.cookie;
	a.max_entries = q.max_entries;
	a.plus = (q.flags & PROTO_MDS_READDIR_PLUS) != 0;
	a.fn = srv_rd_take;
	a.arg = &rd;
	rc = ns_readdir(c->m->ns, q.ino, &a, &eof);
	if (rc)
		return rc;
	if (rd.n == 0 && !eof)
		return -EOVERFLOW; /* not even one entry fits: frame size far too small */
	rep.flags = eof ? PROTO_MDS_READDIR_EOF : 0;
	rep.entry_valid_ms = cfg->client.entry_timeout_ms;
	rep.attr_valid_ms = cfg->client.attr_timeout_ms;
	rep.count = rd.n;
	rep.entries = c->t->ents;
	return srv_enc_done(c, proto_mds_readdir_rep_encode(&rep, &c->e));
}
