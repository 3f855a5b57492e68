/*
 * xshard_rename.c - coordinator of rename and RENAME_EXCHANGE across
 * shards (mds/ns.h): OP/on on this shard (A) -> NP/nn on shard B, moved
 * inode X, replaced target T (or exchanged Y), either possibly on a third
 * shard.
 *
 * Sequence (phases in capitals, crash points in xshard.c):
 *   checks: lookups of both entries, types, write permission on a moving
 *     directory; a directory changing parent takes the cluster rename lock
 *     (shard 0) and walks the new parent's ancestry shard by shard
 *   PINNED   A pins OP/on, writing the intent (one batch)
 *            B pins NP/nn when it exists (so the target cannot change
 *            under us: ns.h's link would replace whatever is there)
 *            T's shard marks T when it is a directory of a shard other
 *            than B (ns_dir_prepare_remove)
 *   LINKING  recorded; B links NP/nn -> X (replacing or exchanging)
 *            -- the commit point: from here on the op is finished --
 *   rename:   FINISH  A removes OP/on (with the record); X's shard sets
 *             X's parent; T's shard drops T (commit_remove or nlink -1);
 *             the intent is deleted
 *   exchange: parents of the exchanged directories set; A links OP/on ->
 *             Y deleting the intent
 *   UNDO     (a step before the commit point failed) T unmarked, B
 *            unpinned, A unpinned deleting the intent
 * The replay continues from the recorded phase; at PINNED it retakes the
 * lock and walks again, at LINKING it repeats B's link (done records make
 * it answer the same).
 *
 * Threads: the caller's (RPC worker or replay).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fault.h"
#include "common/log.h"
#include "mds/mds.h"
#include "mds/xshard_int.h"

#define XS_RENAME_TRIES 3

struct xs_rn {
	const struct ns_cred *cred;
	uint64_t op, np;
	const char *on, *nn;
	size_t ol, nl;
	uint32_t flags;
	struct ns_attr x, t;
	bool have_t;
	bool xmove, tmove; /* directories changing parent */
};

static struct proto_str xs_str(const char *p, size_t n)
{
	return (struct proto_str){.ptr = p, .len = (uint16_t)n};
}

static int xs_pending(struct xs_op *o, int client_rc)
{
	o->pending = true;
	return client_rc;
}

static bool xs_rn_name_ok(const char *name, size_t nlen)
{
	if (!name || nlen == 0 || nlen > NS_NAME_MAX)
		return false;
	if (memchr(name, '/', nlen) || memchr(name, '\0', nlen))
		return false;
	return !(name[0] == '.' && (nlen == 1 || (nlen == 2 && name[1] == '.')));
}

/* ---- undo and finish ---- */

static int xs_rename_undo(struct xs_op *o, int why)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_ino_req aq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					.ino = r->ino2};
	struct proto_peer_unpin_req uq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC};
	struct xs_intent del = {.action = NS_INTENT_DEL};
	int rc;

	if (r->phase != XS_PH_UNDO) {
		if (xs_put_phase(o, XS_PH_UNDO))
			return xs_pending(o, why);
		fault_point("xshard_rename_after_undo_mark");
	}
	if (r->kind == XS_RENAME && r->ino2 && S_ISDIR(r->mode2) &&
	    ns_ino_shard(r->ino2) != ns_ino_shard(r->parent2)) {
		rc = xs_step(o, ns_ino_shard(r->ino2), PROTO_OP_MDS_PEER_DIR_ABORT_REMOVE, &aq,
			     NULL, NULL);
		if (rc == XS_EUNREACH)
			return xs_pending(o, why);
	}
	if (r->ino2) {
		uq.parent = r->parent2;
		uq.name = xs_str(r->name2, r->nlen2);
		rc = xs_step(o, ns_ino_shard(r->parent2), PROTO_OP_MDS_PEER_DENTRY_UNPIN, &uq,
			     NULL, NULL);
		if (rc == XS_EUNREACH)
			return xs_pending(o, why);
	}
	fault_point("xshard_rename_after_undo");
	uq.parent = r->parent;
	uq.name = xs_str(r->name, r->nlen);
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_UNPIN, &uq, NULL, &del);
	if (rc)
		return xs_pending(o, why);
	o->done = true;
	return why;
}

/* FINISH: X's parent, the replaced inode, the intent. */
static int xs_rename_finish(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_set_parent_req sq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					       .ino = r->ino, .parent = r->parent2};
	struct proto_peer_ino_req cq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					.ino = r->drop_ino};
	struct proto_peer_nlink_req nq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					  .ino = r->drop_ino, .delta = -1};
	uint16_t ds = ns_ino_shard(r->drop_ino);
	int rc;

	if (S_ISDIR(r->mode) && r->parent != r->parent2) {
		rc = xs_step(o, ns_ino_shard(r->ino), PROTO_OP_MDS_PEER_DIR_SET_PARENT, &sq, NULL,
			     NULL);
		if (rc == XS_EUNREACH)
			return xs_pending(o, 0);
		if (rc)
			log_error("xshard: rename op %#llx: parent of %#llx: %s",
				  (unsigned long long)o->op_id, (unsigned long long)r->ino,
				  strerror(-rc));
		fault_point("xshard_rename_after_set_parent");
	}
	if (r->drop_ino && (r->flags & XS_RF_DROP_REMOTE)) {
		if (S_ISDIR(r->drop_mode))
			rc = xs_step(o, ds, PROTO_OP_MDS_PEER_DIR_COMMIT_REMOVE, &cq, NULL, NULL);
		else
			rc = xs_step(o, ds, PROTO_OP_MDS_PEER_NLINK_ADJUST, &nq, NULL, NULL);
		if (rc == XS_EUNREACH)
			return xs_pending(o, 0);
		if (rc)
			log_error("xshard: rename op %#llx: replaced %#llx: %s",
				  (unsigned long long)o->op_id, (unsigned long long)r->drop_ino,
				  strerror(-rc));
		fault_point("xshard_rename_after_drop");
	}
	if (xs_del_intent(o))
		return xs_pending(o, 0);
	fault_point("xshard_rename_after_del");
	return 0;
}

/* After B swapped its entry: the parents, then A's entry (deleting the intent). */
static int xs_exchange_finish(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	struct proto_peer_set_parent_req sq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC};
	struct proto_peer_link_req lq = {.op_id = o->op_id,
					 .flags = PROTO_PEER_F_SYNC,
					 .parent = r->parent,
					 .name = xs_str(r->name, r->nlen),
					 .ino = r->ino2,
					 .type = r->mode2 & S_IFMT,
					 .link_flags = PROTO_PEER_LINK_EXCHANGE};
	struct xs_intent del = {.action = NS_INTENT_DEL};
	int rc = 0;

	if (r->parent != r->parent2) {
		for (int i = 0; i < 2 && rc == 0; i++) {
			sq.ino = i ? r->ino2 : r->ino;
			sq.parent = i ? r->parent : r->parent2;
			if (S_ISDIR(i ? r->mode2 : r->mode))
				rc = xs_step(o, ns_ino_shard(sq.ino),
					     PROTO_OP_MDS_PEER_DIR_SET_PARENT, &sq, NULL, NULL);
		}
		if (rc == XS_EUNREACH)
			return xs_pending(o, 0);
		if (rc)
			log_error("xshard: exchange op %#llx: parent: %s",
				  (unsigned long long)o->op_id, strerror(-rc));
		fault_point("xshard_exchange_after_set_parent");
	}
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_LINK, &lq, NULL, &del);
	if (rc) {
		if (rc != XS_EUNREACH)
			log_error("xshard: exchange op %#llx: source side: %s; left pending",
				  (unsigned long long)o->op_id, strerror(-rc));
		return xs_pending(o, 0);
	}
	o->done = true;
	fault_point("xshard_exchange_after_link");
	return 0;
}

/* ---- the steps up to the commit point ---- */

/* The lock and, when replaying, the ancestry check again. */
static int xs_rename_relock(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	int rc;

	if (!(r->flags & XS_RF_LOCK))
		return 0;
	if (o->locked && xs_now_ms() - o->lock_renewed_ms < XS_LEASE_MS / 3)
		return 0;
	rc = xs_lock_take(o, o->replay ? -1 : (o->locked ? 0 : XS_LOCK_WAIT_MS));
	if (rc == -EBUSY && o->locked) {
		log_warn("xshard: rename op %#llx lost the rename lock", (unsigned long long)o->op_id);
		rc = 0;
	}
	if (rc || !o->replay || r->phase != XS_PH_PINNED)
		return rc;
	if (S_ISDIR(r->mode) && r->parent != r->parent2)
		rc = xs_walk_check(o, r->parent2, r->ino);
	if (rc == 0 && r->kind == XS_EXCHANGE && S_ISDIR(r->mode2) && r->parent != r->parent2)
		rc = xs_walk_check(o, r->parent, r->ino2);
	return rc == 1 ? -EINVAL : rc;
}

/* PINNED: the target side.  0, XS_EUNREACH, or the error to undo with. */
static int xs_rename_target(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	struct ns_cred cred = xs_rec_cred(r);
	struct proto_peer_pin_req pq = {.op_id = o->op_id,
					.flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED,
					.parent = r->parent2,
					.name = xs_str(r->name2, r->nlen2),
					.ino = r->ino2,
					.victim_uid = r->uid2};
	struct proto_peer_ino_req mq = {.op_id = o->op_id, .flags = PROTO_PEER_F_SYNC,
					.ino = r->ino2};
	int rc;

	if (!r->ino2)
		return 0;
	xs_cred_to_peer(&cred, &pq.cred);
	rc = xs_step(o, ns_ino_shard(r->parent2), PROTO_OP_MDS_PEER_DENTRY_PIN, &pq, NULL, NULL);
	if (rc == -ENOENT && !o->replay)
		rc = XS_ERETRY; /* the target changed since we looked */
	if (rc)
		return rc;
	fault_point("xshard_rename_after_pin_target");
	if (r->kind != XS_RENAME || !S_ISDIR(r->mode2) ||
	    ns_ino_shard(r->ino2) == ns_ino_shard(r->parent2))
		return 0;
	rc = xs_step(o, ns_ino_shard(r->ino2), PROTO_OP_MDS_PEER_DIR_PREPARE_REMOVE, &mq, NULL,
		     NULL);
	if (rc == 0)
		fault_point("xshard_rename_after_prepare");
	return rc;
}

/* LINKING: B links the new name (the commit point), then A's side. */
static int xs_rename_link(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	struct ns_cred cred = xs_rec_cred(r);
	struct proto_peer_link_req lq = {.op_id = o->op_id,
					 .flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED,
					 .parent = r->parent2,
					 .name = xs_str(r->name2, r->nlen2),
					 .ino = r->ino,
					 .type = r->mode & S_IFMT};
	struct proto_peer_unlink_req uq = {.op_id = o->op_id,
					   .flags = PROTO_PEER_F_SYNC,
					   .parent = r->parent,
					   .name = xs_str(r->name, r->nlen),
					   .ino = r->ino,
					   .victim_uid = r->uid};
	struct proto_peer_drop_rep dr;
	struct xs_rec next;
	struct xs_intent fin = {.action = NS_INTENT_PUT, .rec = &next};
	int rc;

	if (r->kind == XS_EXCHANGE)
		lq.link_flags = PROTO_PEER_LINK_EXCHANGE;
	else if (r->ino2)
		lq.link_flags = PROTO_PEER_LINK_REPLACE;
	else
		lq.link_flags = PROTO_PEER_LINK_REPLACE | PROTO_PEER_LINK_NOREPLACE;
	xs_cred_to_peer(&cred, &lq.cred);
	(void)xs_rename_relock(o);
	rc = xs_step(o, ns_ino_shard(r->parent2), PROTO_OP_MDS_PEER_DENTRY_LINK, &lq, &dr, NULL);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc == -EEXIST && !r->ino2 && !(r->rflags & NS_RENAME_NOREPLACE) && !o->replay)
		rc = XS_ERETRY; /* the name was taken since we looked */
	if (rc)
		return xs_rename_undo(o, rc);
	fault_point("xshard_rename_after_link");
	if (r->kind == XS_EXCHANGE)
		return xs_exchange_finish(o);
	next = *r;
	next.phase = XS_PH_FINISH;
	next.drop_ino = dr.drop.ino;
	next.drop_mode = dr.drop.mode;
	if (dr.drop.flags & PROTO_PEER_DROP_REMOTE)
		next.flags |= XS_RF_DROP_REMOTE;
	uq.unlink_flags = PROTO_PEER_UNLINK_PINNED | (S_ISDIR(r->mode) ? PROTO_PEER_UNLINK_DIR : 0);
	rc = xs_step(o, o->m->shard, PROTO_OP_MDS_PEER_DENTRY_UNLINK, &uq, NULL, &fin);
	if (rc) {
		if (rc != XS_EUNREACH)
			log_error("xshard: rename op %#llx: source entry: %s; left pending",
				  (unsigned long long)o->op_id, strerror(-rc));
		return xs_pending(o, 0);
	}
	*r = next;
	fault_point("xshard_rename_after_unlink");
	return xs_rename_finish(o);
}

int xs_rename_run(struct xs_op *o)
{
	struct xs_rec *r = &o->rec;
	int rc;

	if (r->phase == XS_PH_UNDO)
		return xs_rename_undo(o, XS_ECLIENT);
	rc = xs_rename_relock(o);
	if (rc == XS_EUNREACH || (rc == -EBUSY && o->replay))
		return xs_pending(o, XS_ECLIENT);
	if (r->phase == XS_PH_FINISH)
		return xs_rename_finish(o);
	if (r->phase == XS_PH_LINKING)
		return xs_rename_link(o);
	if (!rc)
		rc = xs_rename_target(o);
	if (rc == XS_EUNREACH)
		return xs_pending(o, XS_ECLIENT);
	if (rc)
		return xs_rename_undo(o, rc);
	if (xs_put_phase(o, XS_PH_LINKING))
		return xs_pending(o, XS_ECLIENT);
	fault_point("xshard_rename_before_link");
	return xs_rename_link(o);
}

/* ---- the start: lookups and checks ---- */

/* Looks up NP/nn on its shard: 0 and rn->t, -ENOENT (no target), or an error. */
static int xs_rename_lookup_target(struct xs_op *o, struct xs_rn *rn)
{
	struct proto_peer_lookup_req q = {.op_id = o->op_id, .parent = rn->np,
					  .name = xs_str(rn->nn, rn->nl)};
	struct proto_peer_lookup_rep r;
	int rc;

	xs_cred_to_peer(rn->cred, &q.cred);
	rc = xs_step(o, ns_ino_shard(rn->np), PROTO_OP_MDS_PEER_LOOKUP, &q, &r, NULL);
	if (rc)
		return rc;
	rn->have_t = true;
	if (!(r.flags & PROTO_PEER_LOOKUP_REMOTE)) {
		xs_attr_from_peer(&r.attr, &rn->t);
		return 0;
	}
	rc = xs_getattr(o, r.ino, &rn->t);
	return rc == -ENOENT ? -EIO : rc; /* an entry to a missing inode */
}

/* Both entries and every check that needs no lock. */
static int xs_rename_check(struct xs_op *o, struct xs_rn *rn)
{
	struct ns_attr a;
	int rc = ns_lookup(o->m->ns, rn->cred, rn->op, rn->on, rn->ol, &a);

	if (rc == -EREMOTE)
		rc = xs_getattr(o, a.ino, &a);
	if (rc)
		return rc;
	rn->x = a;
	rc = xs_rename_lookup_target(o, rn);
	if (rc == -ENOENT)
		rn->have_t = false;
	else if (rc)
		return rc;
	if (rn->have_t && rn->t.ino == rn->x.ino)
		return 1; /* as rename(2): same inode, nothing to do */
	if ((rn->flags & NS_RENAME_NOREPLACE) && rn->have_t)
		return -EEXIST;
	if ((rn->flags & NS_RENAME_EXCHANGE) && !rn->have_t)
		return -ENOENT;
	if (rn->have_t && !(rn->flags & NS_RENAME_EXCHANGE)) {
		if (S_ISDIR(rn->x.mode) && !S_ISDIR(rn->t.mode))
			return -ENOTDIR;
		if (!S_ISDIR(rn->x.mode) && S_ISDIR(rn->t.mode))
			return -EISDIR;
	}
	rn->xmove = S_ISDIR(rn->x.mode) && rn->op != rn->np;
	rn->tmove = (rn->flags & NS_RENAME_EXCHANGE) && S_ISDIR(rn->t.mode) && rn->op != rn->np;
	if (rn->xmove && ns_attr_access(rn->cred, &rn->x, 2))
		return -EACCES;
	if (rn->tmove && ns_attr_access(rn->cred, &rn->t, 2))
		return -EACCES;
	return 0;
}

/* Under the lock: neither moving directory may land in its own subtree. */
static int xs_rename_walks(struct xs_op *o, const struct xs_rn *rn)
{
	int rc = 0;

	if (rn->xmove)
		rc = xs_walk_check(o, rn->np, rn->x.ino);
	if (rc == 0 && rn->tmove)
		rc = xs_walk_check(o, rn->op, rn->t.ino);
	return rc == 1 ? -EINVAL : rc;
}

/* Everything on this shard: only the ancestry walk needed other shards. */
static int xs_rename_local(struct xs_op *o, const struct xs_rn *rn)
{
	int rc;

	if (!rn->xmove && !rn->tmove) {
		rc = ns_rename(o->m->ns, rn->cred, rn->op, rn->on, rn->ol, rn->np, rn->nn, rn->nl,
			       rn->flags, true, NULL);
		return rc == -EREMOTE ? XS_ERETRY : rc;
	}
	rc = xs_lock_take(o, XS_LOCK_WAIT_MS);
	if (!rc)
		rc = xs_rename_walks(o, rn);
	if (!rc)
		rc = ns_rename(o->m->ns, rn->cred, rn->op, rn->on, rn->ol, rn->np, rn->nn, rn->nl,
			       rn->flags | NS_RENAME_ANCESTRY_CHECKED, true, NULL);
	return rc == -EREMOTE ? XS_ERETRY : rc;
}

static void xs_rename_rec(struct xs_op *o, const struct xs_rn *rn)
{
	struct xs_rec *r = &o->rec;

	r->parent = rn->op;
	r->nlen = (uint16_t)rn->ol;
	memcpy(r->name, rn->on, rn->ol);
	r->parent2 = rn->np;
	r->nlen2 = (uint16_t)rn->nl;
	memcpy(r->name2, rn->nn, rn->nl);
	r->rflags = rn->flags;
	r->ino = rn->x.ino;
	r->mode = rn->x.mode;
	r->uid = rn->x.uid;
	if (rn->have_t) {
		r->ino2 = rn->t.ino;
		r->mode2 = rn->t.mode;
		r->uid2 = rn->t.uid;
	}
	if (rn->xmove || rn->tmove)
		r->flags |= XS_RF_LOCK;
}

static bool xs_rename_all_here(const struct xs_op *o, const struct xs_rn *rn)
{
	uint16_t s = o->m->shard;

	return ns_ino_shard(rn->np) == s && ns_ino_shard(rn->x.ino) == s &&
	       (!rn->have_t || ns_ino_shard(rn->t.ino) == s);
}

/* One attempt; XS_ERETRY when it lost a race with another change. */
static int xs_rename_once(struct mds *m, struct xs_rn *rn)
{
	struct proto_peer_pin_req pq = {.flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED};
	struct xs_intent put = {.action = NS_INTENT_PUT};
	struct xs_op o;
	int rc = xs_op_begin(m, &o, (rn->flags & NS_RENAME_EXCHANGE) ? XS_EXCHANGE : XS_RENAME,
			     rn->cred);

	if (rc)
		return rc;
	rc = xs_rename_check(&o, rn);
	if (rc)
		goto out;
	if (xs_rename_all_here(&o, rn)) {
		rc = xs_rename_local(&o, rn);
		goto out;
	}
	xs_rename_rec(&o, rn);
	if (o.rec.flags & XS_RF_LOCK) {
		rc = xs_lock_take(&o, XS_LOCK_WAIT_MS);
		if (!rc)
			rc = xs_rename_walks(&o, rn);
		if (rc)
			goto out;
	}
	o.rec.phase = XS_PH_PINNED;
	put.rec = &o.rec;
	pq.op_id = o.op_id;
	xs_cred_to_peer(rn->cred, &pq.cred);
	pq.parent = rn->op;
	pq.name = xs_str(rn->on, rn->ol);
	pq.ino = rn->x.ino;
	pq.victim_uid = rn->x.uid;
	rc = xs_step(&o, m->shard, PROTO_OP_MDS_PEER_DENTRY_PIN, &pq, NULL, &put);
	if (rc == -ENOENT)
		rc = XS_ERETRY; /* the source changed since we looked */
	if (rc)
		goto out;
	fault_point("xshard_rename_after_pin");
	rc = xs_rename_run(&o);
out:
	xs_op_end(&o);
	return rc == 1 ? 0 : rc;
}

int mds_xshard_rename(struct mds *m, const struct ns_cred *cred, uint64_t oldparent,
		      const char *oldname, size_t olen, uint64_t newparent, const char *newname,
		      size_t nnlen, uint32_t flags, bool sync)
{
	struct xs_rn rn = {.cred = cred,
			   .op = oldparent,
			   .np = newparent,
			   .on = oldname,
			   .nn = newname,
			   .ol = olen,
			   .nl = nnlen,
			   .flags = flags};
	int rc = XS_ERETRY;

	(void)sync;
	if (!xs_rn_name_ok(oldname, olen) || !xs_rn_name_ok(newname, nnlen) || !newparent ||
	    ns_ino_shard(oldparent) != m->shard || ns_ino_shard(newparent) >= m->nshards)
		return -EINVAL;
	if ((flags & ~(uint32_t)(NS_RENAME_NOREPLACE | NS_RENAME_EXCHANGE)) ||
	    ((flags & NS_RENAME_NOREPLACE) && (flags & NS_RENAME_EXCHANGE)))
		return -EINVAL;
	for (int i = 0; i < XS_RENAME_TRIES && rc == XS_ERETRY; i++)
		rc = xs_rename_once(m, &rn);
	if (rc == XS_ERETRY)
		rc = -EBUSY;
	return rc == XS_EUNREACH ? XS_ECLIENT : rc;
}
