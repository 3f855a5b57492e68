/*
 * xshard_ops.c - coordinators of the cross-shard mkdir, rmdir, unlink and
 * link (protocols in mds/ns.h), each split into a start (checks, op id,
 * the first intent write) and a run that continues from the recorded
 * phase, shared with the replay.
 *
 * Phases (xshard_int.h) and what the replay does from each:
 *   mkdir   INTENT: create the inode (again: same one), link, or undo if
 *           the inode was aborted;  UNDO: abort the inode, delete.
 *   rmdir   INTENT: prepare, unlink the entry (-> COMMIT), or undo;
 *           COMMIT: remove the directory, delete;  UNDO: unmark, delete.
 *   unlink  UNLINKED: drop the inode's link, delete.
 *   link    INTENT: raise the link count (once), link, or undo;
 *           UNDO: lower it with the second op id (aux_op), delete.
 * Errors: a step that cannot reach its shard leaves the op pending
 * (o->pending) and the client gets XS_ECLIENT before the commit point, 0
 * after it (xshard.h).
 *
 * Threads: run on the caller's thread (RPC worker or replay).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fault.h"
#include "common/log.h"
#include "mds/mds.h"
#include "mds/xshard_int.h"

/* Client's view of a pending op: before the commit point, an I/O error. */
static int xs_pending(struct xs_op *o, int client_rc)
{
	o->pending = true;
	return client_rc;
}

static bool xs_name_ok(const char *name, size_t nlen)
{
	if (!name || nlen == 0 || nlen > NS_NAME_MAX)
		return false;
	if (memchr(name, '/', nlen) || memchr(name, '\0', nlen))
		return false;
	return !(name[0] == '.' && (nlen == 1 || (nlen == 2 && name[1] == '.')));
}

static void xs_rec_name(struct xs_rec *r, uint64_t parent, const char *name, size_t nlen)
{
	r->parent = parent;
	r->nlen = (uint16_t)nlen;
	memcpy(r->name, name, nlen);
}

static struct proto_str xs_str(const char *p, uint16_t n)
{
	return (struct proto_str){.ptr = p, .len = n};
}

/* ---- mkdir ---- */

static int xs_mkdir_undo(struct xs_op *o, int why)
{
	struct proto_peer_ino_req q = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC};
	int rc;

	if (o->rec.phase != XS_PH_UNDO) {
		if (xs_put_phase(o, XS_PH_UNDO))
			return xs_pending(o, why);
		fault_point("xshard_mkdir_after_undo_mark");
	}
	if (o->rec.ino) {
		q.ino = o->rec.ino;
		rc = xs_step(o, o->rec.target_shard, PROTO_OP_MDS_PEER_ABORT_PREPARED, &q, NULL,
			     NULL);
		if (rc == XS_EUNREACH)
			return xs_pending(o, why);
		if (rc)
			log_error("xshard: mkdir op %#llx: abort of %#llx: %s; fsck will see it",
				  (unsigned long long)o->op_id, (unsigned long long)o->rec.ino,
				  strerror(-rc));
		fault_point("xshard_mkdir_after_abort");
	}
	if (xs_del_intent(o))
		return xs_pending(o, why);
	return why;
}

int xs_mkdir_run(struct xs_op *o, struct ns_attr *out)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_create_req cq = {.op_id = o->op_id,
					   .flags = PROTO_PEER_F_SYNC,
					   .mode = r->mode,
					   .uid = r->uid,
					   .gid = r->gid,
					   .parent = r->parent,
					   .layout = {r->layout.pool_id, r->layout.chunk_size,
						      r->layout.k, r->layout.m}};
	struct proto_peer_link_req lq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC};
	struct proto_peer_attr_rep ar;
	struct xs_intent del = {.action = NS_INTENT_DEL};
	int rc;

	if (r->phase == XS_PH_UNDO)
		return xs_mkdir_undo(o, XS_ECLIENT);
	rc = xs_step(o, r->target_shard, PROTO_OP_MDS_PEER_CREATE_PREPARED, &cq, &ar, NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc) /* -ECANCELED: aborted before a crash; else nothing was made */
		return xs_mkdir_undo(o, rc == -ECANCELED ? XS_ECLIENT : rc);
	r->ino = ar.attr.ino;
	fault_point("xshard_mkdir_after_prepare");
	lq.parent = r->parent;
	lq.name = xs_str(r->name, r->nlen);
	lq.ino = r->ino;
	lq.type = S_IFDIR;
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_LINK, &lq, NULL, &del);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc)
		return xs_mkdir_undo(o, rc);
	o->done = true;
	fault_point("xshard_mkdir_after_link");
	if (out)
		xs_attr_from_peer(&ar.attr, out);
	return 0;
}

int mds_xshard_mkdir(struct mds *m, const struct ns_cred *cred, uint64_t parent, const char *name,
		     size_t nlen, const struct ns_attr *dir, uint16_t target_shard, bool sync,
		     struct ns_attr *out)
{
	struct xs_op o;
	int rc;

	(void)sync;
	if (!xs_name_ok(name, nlen) || !dir || !S_ISDIR(dir->mode))
		return -EINVAL;
	if (ns_ino_shard(parent) != m->shard || target_shard >= m->nshards)
		return -EINVAL;
	rc = xs_op_begin(m, &o, XS_MKDIR, cred);
	if (rc)
		return rc;
	xs_rec_name(&o.rec, parent, name, nlen);
	o.rec.mode = dir->mode;
	o.rec.uid = dir->uid;
	o.rec.gid = dir->gid;
	o.rec.layout = dir->layout;
	o.rec.target_shard = target_shard;
	rc = xs_put_phase(&o, XS_PH_INTENT);
	if (rc) {
		rc = XS_ECLIENT;
		goto out;
	}
	fault_point("xshard_mkdir_after_intent");
	rc = xs_mkdir_run(&o, out);
out:
	xs_op_end(&o);
	return rc;
}

/* ---- rmdir ---- */

static int xs_rmdir_undo(struct xs_op *o, int why)
{
	struct proto_peer_ino_req q = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
				       .ino = o->rec.ino};
	int rc;

	if (o->rec.phase != XS_PH_UNDO) {
		if (xs_put_phase(o, XS_PH_UNDO))
			return xs_pending(o, why);
		fault_point("xshard_rmdir_after_undo_mark");
	}
	rc = xs_step(o, ns_ino_shard(o->rec.ino), PROTO_OP_MDS_PEER_DIR_ABORT_REMOVE, &q, NULL,
		     NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, why);
	fault_point("xshard_rmdir_after_abort");
	if (xs_del_intent(o))
		return xs_pending(o, why);
	return why;
}

/* COMMIT: the entry is gone; delete the directory on its shard. */
static int xs_rmdir_commit(struct xs_op *o)
{
	struct proto_peer_ino_req q = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
				       .ino = o->rec.ino};
	int rc = xs_step(o, ns_ino_shard(o->rec.ino), PROTO_OP_MDS_PEER_DIR_COMMIT_REMOVE, &q,
			 NULL, NULL);

	if (rc == XS_EUNREACH)
		return xs_pending(o, 0);
	if (rc)
		log_error("xshard: rmdir op %#llx: commit of %#llx: %s; fsck will see it",
			  (unsigned long long)o->op_id, (unsigned long long)o->rec.ino,
			  strerror(-rc));
	fault_point("xshard_rmdir_after_commit");
	if (xs_del_intent(o))
		return xs_pending(o, 0);
	fault_point("xshard_rmdir_after_del");
	return 0;
}

int xs_rmdir_run(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_ino_req pq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					.ino = r->ino};
	struct proto_peer_unlink_req uq = {.op_id = o->op_id,
					   .flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED,
					   .parent = r->parent,
					   .name = xs_str(r->name, r->nlen),
					   .ino = r->ino,
					   .victim_uid = r->uid,
					   .unlink_flags = PROTO_PEER_UNLINK_DIR};
	struct ns_cred cred = xs_rec_cred(r);
	struct xs_rec next = *r;
	struct xs_intent commit = {.action = NS_INTENT_PUT, .rec = &next};
	int rc;

	if (r->phase == XS_PH_UNDO)
		return xs_rmdir_undo(o, XS_ECLIENT);
	if (r->phase == XS_PH_COMMIT)
		return xs_rmdir_commit(o);
	rc = xs_step(o, ns_ino_shard(r->ino), PROTO_OP_MDS_PEER_DIR_PREPARE_REMOVE, &pq, NULL,
		     NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc)
		return xs_rmdir_undo(o, rc);
	fault_point("xshard_rmdir_after_prepare");
	xs_cred_to_peer(&cred, &uq.cred);
	next.phase = XS_PH_COMMIT;
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_UNLINK, &uq, NULL, &commit);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc)
		return xs_rmdir_undo(o, rc);
	r->phase = XS_PH_COMMIT;
	fault_point("xshard_rmdir_after_unlink");
	return xs_rmdir_commit(o);
}

int mds_xshard_rmdir(struct mds *m, const struct ns_cred *cred, uint64_t parent, const char *name,
		     size_t nlen, uint64_t dir_ino, bool sync)
{
	struct ns_attr a;
	struct xs_op o;
	int rc;

	(void)sync;
	if (!xs_name_ok(name, nlen) || !dir_ino || ns_ino_shard(parent) != m->shard)
		return -EINVAL;
	rc = xs_op_begin(m, &o, XS_RMDIR, cred);
	if (rc)
		return rc;
	xs_rec_name(&o.rec, parent, name, nlen);
	o.rec.ino = dir_ino;
	rc = xs_getattr(&o, dir_ino, &a);
	if (rc == -ENOENT) {
		log_error("xshard: entry %#llx/%.*s points to missing directory %#llx",
			  (unsigned long long)parent, (int)nlen, name, (unsigned long long)dir_ino);
		rc = -EIO;
	}
	if (!rc && !S_ISDIR(a.mode))
		rc = -ENOTDIR;
	if (rc)
		goto out;
	o.rec.uid = a.uid;
	o.rec.mode = a.mode;
	if (xs_put_phase(&o, XS_PH_INTENT)) {
		rc = XS_ECLIENT;
		goto out;
	}
	fault_point("xshard_rmdir_after_intent");
	rc = xs_rmdir_run(&o);
out:
	xs_op_end(&o);
	return rc == XS_EUNREACH ? XS_ECLIENT : rc;
}

/* ---- unlink ---- */

int xs_unlink_run(struct xs_op *o)
{
	struct proto_peer_nlink_req q = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					 .ino = o->rec.ino, .delta = -1};
	int rc = xs_step(o, ns_ino_shard(o->rec.ino), PROTO_OP_MDS_PEER_NLINK_ADJUST, &q, NULL,
			 NULL);

	if (rc == XS_EUNREACH)
		return xs_pending(o, 0);
	if (rc) /* -ENOENT: gone already; else a count fsck will correct */
		log_warn("xshard: unlink op %#llx: link count of %#llx: %s",
			 (unsigned long long)o->op_id, (unsigned long long)o->rec.ino,
			 strerror(-rc));
	fault_point("xshard_unlink_after_adjust");
	if (xs_del_intent(o))
		return xs_pending(o, 0);
	fault_point("xshard_unlink_after_del");
	return 0;
}

int mds_xshard_unlink(struct mds *m, const struct ns_cred *cred, uint64_t parent,
		      const char *name, size_t nlen, const struct ns_drop *target, bool sync)
{
	struct proto_peer_unlink_req uq = {.flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED};
	struct xs_intent put = {.action = NS_INTENT_PUT};
	struct ns_attr a;
	struct xs_op o;
	int rc;

	(void)sync;
	if (!xs_name_ok(name, nlen) || !target || !target->ino || ns_ino_shard(parent) != m->shard)
		return -EINVAL;
	if (S_ISDIR(target->mode))
		return -EISDIR;
	rc = xs_op_begin(m, &o, XS_UNLINK, cred);
	if (rc)
		return rc;
	xs_rec_name(&o.rec, parent, name, nlen);
	o.rec.ino = target->ino;
	rc = xs_getattr(&o, target->ino, &a);
	if (rc == -ENOENT) {
		log_error("xshard: entry %#llx/%.*s points to missing inode %#llx",
			  (unsigned long long)parent, (int)nlen, name,
			  (unsigned long long)target->ino);
		rc = -EIO;
	}
	if (rc)
		goto out;
	o.rec.mode = a.mode;
	o.rec.uid = a.uid;
	o.rec.phase = XS_PH_UNLINKED;
	put.rec = &o.rec;
	uq.op_id = o.op_id;
	xs_cred_to_peer(cred, &uq.cred);
	uq.parent = parent;
	uq.name = xs_str(name, (uint16_t)nlen);
	uq.ino = target->ino;
	uq.victim_uid = a.uid;
	rc = xs_step(&o, m->shard, PROTO_OP_MDS_PEER_DENTRY_UNLINK, &uq, NULL, &put);
	if (rc)
		goto out; /* nothing changed, no intent */
	fault_point("xshard_unlink_after_unlink");
	rc = xs_unlink_run(&o);
out:
	xs_op_end(&o);
	return rc == XS_EUNREACH ? XS_ECLIENT : rc;
}

/* ---- link ---- */

static int xs_link_undo(struct xs_op *o, int why)
{
	struct proto_peer_nlink_req q = {.op_id = o->rec.aux_op, .flags = PROTO_PEER_F_SYNC,
					 .ino = o->rec.ino, .delta = -1};
	int rc;

	if (o->rec.phase != XS_PH_UNDO) {
		if (xs_put_phase(o, XS_PH_UNDO))
			return xs_pending(o, why);
		fault_point("xshard_link_after_undo_mark");
	}
	rc = xs_step(o, ns_ino_shard(o->rec.ino), PROTO_OP_MDS_PEER_NLINK_ADJUST, &q, NULL, NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, why);
	if (rc)
		log_warn("xshard: link op %#llx: undo on %#llx: %s", (unsigned long long)o->op_id,
			 (unsigned long long)o->rec.ino, strerror(-rc));
	fault_point("xshard_link_after_undo");
	if (xs_del_intent(o))
		return xs_pending(o, why);
	return why;
}

int xs_link_run(struct xs_op *o, struct ns_attr *out)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_nlink_req nq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					  .ino = r->ino, .delta = 1};
	struct proto_peer_link_req lq = {.op_id = o->op_id,
					 .flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED,
					 .parent = r->parent,
					 .name = xs_str(r->name, r->nlen),
					 .ino = r->ino,
					 .type = r->mode & S_IFMT};
	struct proto_peer_drop_rep dr;
	struct xs_intent del = {.action = NS_INTENT_DEL};
	struct ns_cred cred = xs_rec_cred(r);
	int rc;

	if (r->phase == XS_PH_UNDO)
		return xs_link_undo(o, XS_ECLIENT);
	rc = xs_step(o, ns_ino_shard(r->ino), PROTO_OP_MDS_PEER_NLINK_ADJUST, &nq, &dr, NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc) { /* nothing changed: -ENOENT, -EMLINK, -EISDIR */
		if (xs_del_intent(o))
			return xs_pending(o, rc);
		return rc == -EISDIR ? -EPERM : rc;
	}
	fault_point("xshard_link_after_adjust");
	xs_cred_to_peer(&cred, &lq.cred);
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_LINK, &lq, NULL, &del);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc)
		return xs_link_undo(o, rc);
	o->done = true;
	fault_point("xshard_link_after_link");
	if (out && xs_getattr(o, r->ino, out) != 0) {
		memset(out, 0, sizeof(*out));
		out->ino = r->ino;
		out->mode = r->mode;
		out->nlink = dr.drop.nlink;
	}
	return 0;
}

int mds_xshard_link(struct mds *m, const struct ns_cred *cred, uint64_t ino, uint64_t newparent,
		    const char *name, size_t nlen, bool sync, struct ns_attr *out)
{
	struct ns_attr a;
	struct xs_op o;
	int rc;

	(void)sync;
	if (!xs_name_ok(name, nlen) || !ino || ns_ino_shard(newparent) != m->shard)
		return -EINVAL;
	if (ns_ino_shard(ino) == m->shard)
		return ns_link(m->ns, cred, ino, newparent, name, nlen, true, out);
	rc = xs_op_begin(m, &o, XS_LINK, cred);
	if (rc)
		return rc;
	xs_rec_name(&o.rec, newparent, name, nlen);
	o.rec.ino = ino;
	rc = xs_getattr(&o, ino, &a);
	if (!rc && S_ISDIR(a.mode))
		rc = -EPERM;
	if (rc)
		goto out;
	o.rec.mode = a.mode;
	o.rec.uid = a.uid;
	if (ns_op_id_new(m->ns, &o.rec.aux_op) || xs_put_phase(&o, XS_PH_INTENT)) {
		rc = XS_ECLIENT;
		goto out;
	}
	fault_point("xshard_link_after_intent");
	rc = xs_link_run(&o, out);
out:
	xs_op_end(&o);
	return rc == XS_EUNREACH ? XS_ECLIENT : rc;
}
