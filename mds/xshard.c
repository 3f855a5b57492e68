/*
 * xshard.c - the cross-shard layer of cairn-mds (mds/xshard.h): the peer
 * clients, one function that runs a protocol step here or on a peer, the
 * server side of the steps (mds_xshard_handle), the cluster-wide rename
 * lock kept by shard 0, and start/stop.  The protocols of mds/ns.h are
 * driven by xshard_ops.c (mkdir, rmdir, unlink, link) and xshard_rename.c
 * (rename, exchange); pending intents are replayed by xshard_replay.c.
 *
 * Crash points (common/fault.h; CAIRN_FAULT=<name> kills the coordinator
 * there).  Each sits between two steps of one protocol; the steps after
 * it are what the replay must finish or undo:
 *   xshard_mkdir_after_intent       intent written, nothing else
 *   xshard_mkdir_after_prepare      directory inode prepared on its shard
 *   xshard_mkdir_after_link         entry linked, intent deleted
 *   xshard_mkdir_after_undo_mark    link failed, phase UNDO written
 *   xshard_mkdir_after_abort        prepared inode aborted
 *   xshard_rmdir_after_intent       intent written
 *   xshard_rmdir_after_prepare      directory marked on its shard
 *   xshard_rmdir_after_unlink       entry removed, phase COMMIT
 *   xshard_rmdir_after_commit       directory deleted on its shard
 *   xshard_rmdir_after_del          intent deleted
 *   xshard_rmdir_after_undo_mark    a step failed, phase UNDO written
 *   xshard_rmdir_after_abort        mark removed
 *   xshard_unlink_after_unlink      entry removed with the intent
 *   xshard_unlink_after_adjust      link count dropped on the inode's shard
 *   xshard_unlink_after_del         intent deleted
 *   xshard_link_after_intent        intent written
 *   xshard_link_after_adjust        link count raised
 *   xshard_link_after_link          entry linked, intent deleted
 *   xshard_link_after_undo_mark     link failed, phase UNDO written
 *   xshard_link_after_undo          link count lowered again
 *   xshard_rename_after_pin         source entry pinned with the intent
 *   xshard_rename_after_pin_target  target entry pinned
 *   xshard_rename_after_prepare     replaced remote directory marked
 *   xshard_rename_before_link       phase LINKING written
 *   xshard_rename_after_link        new entry linked on the new parent's shard
 *   xshard_rename_after_unlink      source entry removed, phase FINISH
 *   xshard_rename_after_set_parent  moved directory's parent updated
 *   xshard_rename_after_drop        replaced inode dropped on its shard
 *   xshard_rename_after_del         intent deleted
 *   xshard_rename_after_undo_mark   a step failed, phase UNDO written
 *   xshard_rename_after_undo        target side undone (before the unpin)
 *   xshard_exchange_after_set_parent  parents of exchanged directories set
 *   xshard_exchange_after_link      both entries swapped, intent deleted
 * (RENAME_EXCHANGE shares the rename points up to after_link.)
 *
 * Threads: coordinators run on the RPC worker of the client's request and
 * call peers with rpc_call_sync (so handlers must run on worker threads,
 * cfg mds.workers >= 1); the step server runs on any worker; the replay
 * has its own thread.  struct mds_xshard's locks are listed in
 * xshard_int.h; m->peers is written only by mds_xshard_start/stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/fsck.h"
#include "mds/mds.h"
#include "mds/xshard_int.h"

_Static_assert(NS_LINK_REPLACE == PROTO_PEER_LINK_REPLACE &&
		   NS_LINK_NOREPLACE == PROTO_PEER_LINK_NOREPLACE &&
		   NS_LINK_EXCHANGE == PROTO_PEER_LINK_EXCHANGE,
	       "link flags travel as they are");
_Static_assert(NS_UNLINK_DIR == PROTO_PEER_UNLINK_DIR &&
		   NS_UNLINK_PINNED == PROTO_PEER_UNLINK_PINNED,
	       "unlink flags travel as they are");

#define XS_BODY_MAX 2048

uint64_t xs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- conversions ---- */

void xs_attr_from_peer(const struct proto_peer_attr *p, struct ns_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = p->ino;
	a->generation = p->gen;
	a->mode = p->mode;
	a->uid = p->uid;
	a->gid = p->gid;
	a->nlink = p->nlink;
	a->size = p->size;
	a->rdev = p->rdev;
	a->atime = (struct ns_time){p->atime.sec, p->atime.nsec};
	a->mtime = (struct ns_time){p->mtime.sec, p->mtime.nsec};
	a->ctime = (struct ns_time){p->ctime.sec, p->ctime.nsec};
	a->flags = p->flags;
	a->layout = (struct ns_layout){p->layout.pool_id, p->layout.chunk_size, p->layout.k,
				       p->layout.m};
	a->parent = p->parent;
}

static void xs_attr_to_peer(const struct ns_attr *a, struct proto_peer_attr *p)
{
	memset(p, 0, sizeof(*p));
	p->ino = a->ino;
	p->gen = a->generation;
	p->mode = a->mode;
	p->uid = a->uid;
	p->gid = a->gid;
	p->nlink = a->nlink;
	p->size = a->size;
	p->rdev = a->rdev;
	p->atime = (struct proto_time){a->atime.sec, a->atime.nsec};
	p->mtime = (struct proto_time){a->mtime.sec, a->mtime.nsec};
	p->ctime = (struct proto_time){a->ctime.sec, a->ctime.nsec};
	p->flags = a->flags;
	p->layout = (struct proto_peer_layout){a->layout.pool_id, a->layout.chunk_size, a->layout.k,
					       a->layout.m};
	p->parent = S_ISDIR(a->mode) ? a->parent : 0;
}

void xs_drop_from_peer(const struct proto_peer_drop *p, struct ns_drop *d)
{
	memset(d, 0, sizeof(*d));
	d->ino = p->ino;
	d->mode = p->mode;
	d->nlink = p->nlink;
	d->remote = p->flags & PROTO_PEER_DROP_REMOTE;
	d->orphaned = p->flags & PROTO_PEER_DROP_ORPHANED;
	d->freed = p->flags & PROTO_PEER_DROP_FREED;
	d->size = p->size;
	d->layout = (struct ns_layout){p->layout.pool_id, p->layout.chunk_size, p->layout.k,
				       p->layout.m};
}

static void xs_drop_to_peer(const struct ns_drop *d, struct proto_peer_drop *p)
{
	memset(p, 0, sizeof(*p));
	if (!d->ino)
		return;
	p->ino = d->ino;
	p->mode = d->mode;
	p->nlink = d->nlink;
	p->flags = (d->remote ? PROTO_PEER_DROP_REMOTE : 0) |
		   (d->orphaned ? PROTO_PEER_DROP_ORPHANED : 0) |
		   (d->freed ? PROTO_PEER_DROP_FREED : 0);
	p->size = d->size;
	p->layout = (struct proto_peer_layout){d->layout.pool_id, d->layout.chunk_size,
					       d->layout.k, d->layout.m};
}

void xs_cred_to_peer(const struct ns_cred *c, struct proto_cred *p)
{
	uint32_t n = c->ngroups > PROTO_CRED_GROUPS_MAX ? PROTO_CRED_GROUPS_MAX : c->ngroups;

	memset(p, 0, sizeof(*p));
	p->uid = c->uid;
	p->gid = c->gid;
	p->ngroups = c->groups ? n : 0;
	for (uint32_t i = 0; i < p->ngroups; i++)
		p->groups[i] = c->groups[i];
}

static const struct ns_cred *xs_cred_of(uint32_t flags, const struct proto_cred *p,
					struct ns_cred *c)
{
	if (!(flags & PROTO_PEER_F_CRED))
		return NULL;
	*c = (struct ns_cred){p->uid, p->gid, p->ngroups, p->groups};
	return c;
}

/* ---- the rename lock (shard 0) ---- */

static int xs_lock_acquire(struct mds_xshard *xs, uint64_t holder, uint32_t lease_ms)
{
	uint64_t now = xs_now_ms();
	int rc = 0;

	pthread_mutex_lock(&xs->lock_mu);
	if (xs->lock_holder == 0 || xs->lock_holder == holder || now >= xs->lock_until_ms) {
		if (xs->lock_holder && xs->lock_holder != holder)
			log_warn("xshard: rename lock of op %#llx expired; now op %#llx",
				 (unsigned long long)xs->lock_holder, (unsigned long long)holder);
		xs->lock_holder = holder;
		xs->lock_until_ms = now + lease_ms;
	} else {
		rc = -EBUSY;
	}
	pthread_mutex_unlock(&xs->lock_mu);
	return rc;
}

static void xs_lock_drop(struct mds_xshard *xs, uint64_t holder)
{
	pthread_mutex_lock(&xs->lock_mu);
	if (xs->lock_holder == holder)
		xs->lock_holder = 0;
	pthread_mutex_unlock(&xs->lock_mu);
}

/* ---- executing a step on this shard ---- */

union xs_req {
	struct proto_peer_create_req create;
	struct proto_peer_ino_req ino;
	struct proto_peer_nlink_req nlink;
	struct proto_peer_link_req link;
	struct proto_peer_unlink_req unlink;
	struct proto_peer_pin_req pin;
	struct proto_peer_unpin_req unpin;
	struct proto_peer_set_parent_req set_parent;
	struct proto_peer_walk_req walk;
	struct proto_peer_op_req op;
	struct proto_peer_lock_req lock;
	struct proto_peer_lookup_req lookup;
};

union xs_rep {
	struct proto_peer_attr_rep attr;
	struct proto_peer_drop_rep drop;
	struct proto_peer_walk_rep walk;
	struct proto_peer_lookup_rep lookup;
};

static int xs_apply_walk(struct ns *ns, const struct proto_peer_walk_req *q,
			 struct proto_peer_walk_rep *r)
{
	uint64_t stop = 0;
	int rc = ns_walk_parents(ns, q->ino, q->target, &stop);

	memset(r, 0, sizeof(*r));
	if (rc == 1)
		r->result = PROTO_PEER_WALK_FOUND;
	else if (rc == 0)
		r->result = PROTO_PEER_WALK_ROOT;
	else if (rc == -EREMOTE && stop && ns_ino_shard(stop) != ns_shard(ns))
		r->result = PROTO_PEER_WALK_REMOTE, r->stop = stop;
	else
		return rc == -EREMOTE ? -EIO : rc;
	return 0;
}

static int xs_apply_lookup(struct ns *ns, const struct proto_peer_lookup_req *q,
			   struct proto_peer_lookup_rep *r)
{
	struct ns_cred c = {q->cred.uid, q->cred.gid, q->cred.ngroups, q->cred.groups};
	struct ns_attr a;
	int rc = ns_lookup(ns, &c, q->parent, q->name.ptr, q->name.len, &a);

	memset(r, 0, sizeof(*r));
	if (rc == -EREMOTE) {
		r->flags = PROTO_PEER_LOOKUP_REMOTE;
		r->ino = a.ino;
		r->mode = a.mode & S_IFMT;
		return 0;
	}
	if (rc == 0)
		xs_attr_to_peer(&a, &r->attr);
	return rc;
}

/* The entry steps: link, unlink, pin, unpin. */
static int xs_apply_entry(struct ns *ns, uint16_t opcode, const union xs_req *q,
			  const struct ns_xop *x, union xs_rep *r)
{
	struct ns_cred c;
	struct ns_drop d;
	int rc;

	switch (opcode) {
	case PROTO_OP_MDS_PEER_DENTRY_LINK:
		rc = ns_dentry_link_remote(ns, xs_cred_of(q->link.flags, &q->link.cred, &c), x,
					   q->link.parent, q->link.name.ptr, q->link.name.len,
					   q->link.ino, q->link.type, q->link.link_flags, &d);
		if (!rc)
			xs_drop_to_peer(&d, &r->drop.drop);
		return rc;
	case PROTO_OP_MDS_PEER_DENTRY_UNLINK:
		return ns_dentry_unlink_remote(
		    ns, xs_cred_of(q->unlink.flags, &q->unlink.cred, &c), x, q->unlink.parent,
		    q->unlink.name.ptr, q->unlink.name.len, q->unlink.ino, q->unlink.victim_uid,
		    q->unlink.unlink_flags);
	case PROTO_OP_MDS_PEER_DENTRY_PIN:
		return ns_dentry_pin(ns, xs_cred_of(q->pin.flags, &q->pin.cred, &c), x,
				     q->pin.parent, q->pin.name.ptr, q->pin.name.len, q->pin.ino,
				     q->pin.victim_uid);
	default:
		return ns_dentry_unpin(ns, x, q->unpin.parent, q->unpin.name.ptr,
				       q->unpin.name.len);
	}
}

/* The op id and flags every step request starts with. */
static void xs_req_head(uint16_t opcode, const union xs_req *q, uint64_t *op, uint32_t *flags)
{
	switch (opcode) {
	case PROTO_OP_MDS_PEER_CREATE_PREPARED:
		*op = q->create.op_id, *flags = q->create.flags;
		break;
	case PROTO_OP_MDS_PEER_NLINK_ADJUST:
		*op = q->nlink.op_id, *flags = q->nlink.flags;
		break;
	case PROTO_OP_MDS_PEER_DENTRY_LINK:
		*op = q->link.op_id, *flags = q->link.flags;
		break;
	case PROTO_OP_MDS_PEER_DENTRY_UNLINK:
		*op = q->unlink.op_id, *flags = q->unlink.flags;
		break;
	case PROTO_OP_MDS_PEER_DENTRY_PIN:
		*op = q->pin.op_id, *flags = q->pin.flags;
		break;
	case PROTO_OP_MDS_PEER_DENTRY_UNPIN:
		*op = q->unpin.op_id, *flags = q->unpin.flags;
		break;
	case PROTO_OP_MDS_PEER_DIR_SET_PARENT:
		*op = q->set_parent.op_id, *flags = q->set_parent.flags;
		break;
	default: /* ino_req */
		*op = q->ino.op_id, *flags = q->ino.flags;
		break;
	}
}

/* Steps that take an ns_xop. */
static int xs_apply_xop(struct mds *m, uint16_t opcode, const union xs_req *q,
			const struct ns_xop *x, union xs_rep *r)
{
	struct ns *ns = m->ns;
	struct ns_attr a;
	struct ns_drop d;
	int rc;

	switch (opcode) {
	case PROTO_OP_MDS_PEER_CREATE_PREPARED: {
		struct ns_layout l = {q->create.layout.pool_id, q->create.layout.chunk_size,
				      q->create.layout.k, q->create.layout.m};

		rc = ns_inode_create_prepared(ns, x, q->create.mode, q->create.uid, q->create.gid,
					      q->create.rdev, q->create.parent, &l, &a);
		if (!rc)
			xs_attr_to_peer(&a, &r->attr.attr);
		return rc;
	}
	case PROTO_OP_MDS_PEER_ABORT_PREPARED:
		return ns_inode_abort_prepared(ns, x, q->ino.ino);
	case PROTO_OP_MDS_PEER_NLINK_ADJUST:
		rc = ns_inode_nlink_adjust(ns, x, q->nlink.ino, q->nlink.delta, &d);
		if (!rc)
			xs_drop_to_peer(&d, &r->drop.drop);
		return rc;
	case PROTO_OP_MDS_PEER_DIR_PREPARE_REMOVE:
		return ns_dir_prepare_remove(ns, x, q->ino.ino);
	case PROTO_OP_MDS_PEER_DIR_COMMIT_REMOVE:
		return ns_dir_commit_remove(ns, x, q->ino.ino);
	case PROTO_OP_MDS_PEER_DIR_ABORT_REMOVE:
		return ns_dir_abort_remove(ns, x, q->ino.ino);
	case PROTO_OP_MDS_PEER_DIR_SET_PARENT:
		return ns_dir_set_parent(ns, x, q->set_parent.ino, q->set_parent.parent);
	default:
		return xs_apply_entry(ns, opcode, q, x, r);
	}
}

/*
 * Runs step opcode on this shard.  in: the intent action of a local step
 * of the coordinator (NULL for a step asked by a peer).
 */
static int xs_apply(struct mds *m, uint16_t opcode, const union xs_req *q, union xs_rep *r,
		    const struct xs_intent *in)
{
	uint8_t rec[XS_REC_MAX];
	struct ns_attr a;
	struct ns_xop x = {0};
	uint32_t flags = 0;
	int rc;

	switch (opcode) {
	case PROTO_OP_MDS_PEER_WALK_PARENTS:
		return xs_apply_walk(m->ns, &q->walk, &r->walk);
	case PROTO_OP_MDS_PEER_DONE_FORGET:
		return ns_done_forget(m->ns, q->op.op_id);
	case PROTO_OP_MDS_PEER_RENAME_LOCK:
		return m->shard ? -EINVAL : xs_lock_acquire(m->xs, q->lock.op_id, q->lock.lease_ms);
	case PROTO_OP_MDS_PEER_RENAME_UNLOCK:
		if (m->shard)
			return -EINVAL;
		xs_lock_drop(m->xs, q->op.op_id);
		return 0;
	case PROTO_OP_MDS_PEER_GETATTR:
		rc = ns_getattr(m->ns, q->ino.ino, &a);
		if (!rc)
			xs_attr_to_peer(&a, &r->attr.attr);
		return rc;
	case PROTO_OP_MDS_PEER_LOOKUP:
		return xs_apply_lookup(m->ns, &q->lookup, &r->lookup);
	}
	xs_req_head(opcode, q, &x.op_id, &flags);
	x.sync = flags & PROTO_PEER_F_SYNC;
	if (in && in->action != NS_INTENT_KEEP) {
		x.intent = in->action;
		if (in->action == NS_INTENT_PUT) {
			x.intent_len = (uint32_t)xs_rec_encode(in->rec, rec, sizeof(rec));
			x.intent_data = rec;
			if (!x.intent_len)
				return -EINVAL;
		}
	}
	return xs_apply_xop(m, opcode, q, &x, r);
}

/* ---- wire: request and reply codecs by opcode ---- */

struct xs_codec {
	uint16_t opcode;
	int (*req_enc)(const union xs_req *q, struct wire_enc *e);
	int (*req_dec)(struct wire_dec *d, union xs_req *q);
	int (*rep_enc)(const union xs_rep *r, struct wire_enc *e); /* NULL: empty reply */
	int (*rep_dec)(struct wire_dec *d, union xs_rep *r);
};

#define XS_REQ(T, F)                                                                               \
	static int xs_##F##_enc(const union xs_req *q, struct wire_enc *e)                         \
	{                                                                                          \
		return proto_peer_##T##_encode(&q->F, e);                                          \
	}                                                                                          \
	static int xs_##F##_dec(struct wire_dec *d, union xs_req *q)                               \
	{                                                                                          \
		return proto_peer_##T##_decode(d, &q->F);                                          \
	}
#define XS_REP(T, F)                                                                               \
	static int xs_rep_##F##_enc(const union xs_rep *r, struct wire_enc *e)                     \
	{                                                                                          \
		return proto_peer_##T##_encode(&r->F, e);                                          \
	}                                                                                          \
	static int xs_rep_##F##_dec(struct wire_dec *d, union xs_rep *r)                           \
	{                                                                                          \
		return proto_peer_##T##_decode(d, &r->F);                                          \
	}

XS_REQ(create_req, create)
XS_REQ(ino_req, ino)
XS_REQ(nlink_req, nlink)
XS_REQ(link_req, link)
XS_REQ(unlink_req, unlink)
XS_REQ(pin_req, pin)
XS_REQ(unpin_req, unpin)
XS_REQ(set_parent_req, set_parent)
XS_REQ(walk_req, walk)
XS_REQ(op_req, op)
XS_REQ(lock_req, lock)
XS_REQ(lookup_req, lookup)
XS_REP(attr_rep, attr)
XS_REP(drop_rep, drop)
XS_REP(walk_rep, walk)
XS_REP(lookup_rep, lookup)

#define XS_C(OP, Q) {PROTO_OP_MDS_PEER_##OP, xs_##Q##_enc, xs_##Q##_dec, NULL, NULL}
#define XS_CR(OP, Q, R)                                                                            \
	{PROTO_OP_MDS_PEER_##OP, xs_##Q##_enc, xs_##Q##_dec, xs_rep_##R##_enc, xs_rep_##R##_dec}

static const struct xs_codec xs_codecs[] = {
    XS_CR(CREATE_PREPARED, create, attr),
    XS_C(ABORT_PREPARED, ino),
    XS_CR(NLINK_ADJUST, nlink, drop),
    XS_CR(DENTRY_LINK, link, drop),
    XS_C(DENTRY_UNLINK, unlink),
    XS_C(DENTRY_PIN, pin),
    XS_C(DENTRY_UNPIN, unpin),
    XS_C(DIR_PREPARE_REMOVE, ino),
    XS_C(DIR_COMMIT_REMOVE, ino),
    XS_C(DIR_ABORT_REMOVE, ino),
    XS_C(DIR_SET_PARENT, set_parent),
    XS_CR(WALK_PARENTS, walk, walk),
    XS_C(DONE_FORGET, op),
    XS_C(RENAME_LOCK, lock),
    XS_C(RENAME_UNLOCK, op),
    XS_CR(GETATTR, ino, attr),
    XS_CR(LOOKUP, lookup, lookup),
};

static const struct xs_codec *xs_codec_of(uint16_t opcode)
{
	for (size_t i = 0; i < sizeof(xs_codecs) / sizeof(xs_codecs[0]); i++)
		if (xs_codecs[i].opcode == opcode)
			return &xs_codecs[i];
	return NULL;
}

/* ---- the step server ---- */

void mds_xshard_handle(struct mds *m, struct rpc_req *req)
{
	const struct rpc_msg *msg = rpc_req_msg(req);
	const struct xs_codec *c = xs_codec_of(msg->hdr.opcode);
	uint8_t body[XS_BODY_MAX];
	union xs_req q;
	union xs_rep r;
	struct wire_dec d;
	struct wire_enc e;
	size_t len = 0;
	int rc;

	if (msg->hdr.opcode >= PROTO_OP_MDS_FSCK_FIRST && msg->hdr.opcode <= PROTO_OP_MDS_FSCK_LAST) {
		mds_fsck_handle(m, req);
		return;
	}
	if (!c || !m->xs) {
		rpc_reply(req, -EOPNOTSUPP, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	memset(&q, 0, sizeof(q));
	wire_dec_init(&d, msg->body, msg->body_len);
	wire_dec_set_version(&d, msg->hdr.version);
	if (c->req_dec(&d, &q)) {
		log_warn("xshard: malformed step %#x from %s", msg->hdr.opcode, rpc_req_peer(req));
		rpc_reply(req, -CAIRN_EBADFRAME, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	memset(&r, 0, sizeof(r));
	rc = xs_apply(m, msg->hdr.opcode, &q, &r, NULL);
	if (rc == 0 && c->rep_enc) {
		wire_enc_init(&e, body, sizeof(body));
		wire_enc_set_version(&e, msg->hdr.version);
		if (c->rep_enc(&r, &e) || wire_enc_finish(&e, &len))
			rc = -EIO;
	}
	if (rc)
		len = 0;
	rpc_reply(req, rc, body, (uint32_t)len, NULL, 0, NULL, NULL);
}

/* ---- running a step here or on a peer ---- */

/* A status that means "try again later" rather than an answer. */
static bool xs_transient(int rc)
{
	return rc == -EIO || rc == -ENOMEM || rc == XS_EUNREACH;
}

static int xs_call(struct xs_op *o, uint16_t shard, const struct xs_codec *c,
		   const union xs_req *q, union xs_rep *r)
{
	struct rpc_client *cli = shard < 64 ? o->m->peers[shard] : NULL;
	uint8_t body[XS_BODY_MAX];
	struct rpc_msg *resp = NULL;
	struct rpc_call call = {0};
	struct wire_enc e;
	struct wire_dec d;
	size_t len;
	int rc;

	if (!cli) {
		log_error("xshard: no client for shard %u", shard);
		return XS_EUNREACH;
	}
	wire_enc_init(&e, body, sizeof(body));
	if (c->req_enc(q, &e) || wire_enc_finish(&e, &len))
		return -EINVAL;
	call.opcode = c->opcode;
	call.body = body;
	call.body_len = (uint32_t)len;
	call.timeout_ms = o->xs->timeout_ms;
	rc = rpc_call_sync(cli, &call, &resp);
	if (!resp) {
		log_debug("xshard: op %#llx: step %#x to shard %u: %s",
			  (unsigned long long)o->op_id, c->opcode, shard, error_str(rc));
		return XS_EUNREACH;
	}
	if (rc == -EOPNOTSUPP || rc == -CAIRN_EBADFRAME) {
		log_error("xshard: shard %u refused step %#x: %s", shard, c->opcode,
			  error_str(rc));
		rc = XS_EUNREACH;
	} else if (rc == 0 && c->rep_dec) {
		wire_dec_init(&d, resp->body, resp->body_len);
		wire_dec_set_version(&d, resp->hdr.version);
		if (c->rep_dec(&d, r)) {
			log_error("xshard: malformed reply to step %#x from shard %u", c->opcode,
				  shard);
			rc = XS_EUNREACH;
		}
	}
	rpc_msg_free(resp);
	return rc;
}

int xs_step(struct xs_op *o, uint16_t shard, uint16_t opcode, const void *req, void *rep,
	    const struct xs_intent *intent)
{
	const struct xs_codec *c = xs_codec_of(opcode);
	union xs_rep r;
	size_t rsz = 0;
	int rc;

	if (!c || shard >= o->m->nshards)
		return -EINVAL;
	if (intent && intent->action != NS_INTENT_KEEP && shard != o->m->shard)
		return -EINVAL; /* only the coordinator's own steps carry the intent */
	switch (opcode) {
	case PROTO_OP_MDS_PEER_CREATE_PREPARED:
	case PROTO_OP_MDS_PEER_GETATTR:
		rsz = sizeof(struct proto_peer_attr_rep);
		break;
	case PROTO_OP_MDS_PEER_NLINK_ADJUST:
	case PROTO_OP_MDS_PEER_DENTRY_LINK:
		rsz = sizeof(struct proto_peer_drop_rep);
		break;
	case PROTO_OP_MDS_PEER_WALK_PARENTS:
		rsz = sizeof(struct proto_peer_walk_rep);
		break;
	case PROTO_OP_MDS_PEER_LOOKUP:
		rsz = sizeof(struct proto_peer_lookup_rep);
		break;
	}
	memset(&r, 0, sizeof(r));
	if (shard == o->m->shard)
		rc = xs_apply(o->m, opcode, req, &r, intent);
	else
		rc = xs_call(o, shard, c, req, &r);
	if (rc == 0 && rep && rsz)
		memcpy(rep, &r, rsz);
	if (rc && xs_transient(rc)) {
		log_warn("xshard: op %#llx: step %#x on shard %u: %s; left for replay",
			 (unsigned long long)o->op_id, opcode, shard, error_str(rc));
		rc = XS_EUNREACH;
	}
	return rc;
}

/* ---- intent phases ---- */

int xs_put_phase(struct xs_op *o, uint8_t phase)
{
	uint8_t buf[XS_REC_MAX];
	size_t len;
	int rc;

	o->rec.phase = phase;
	len = xs_rec_encode(&o->rec, buf, sizeof(buf));
	if (!len)
		return -EINVAL;
	rc = ns_intent_put(o->m->ns, o->op_id, buf, len, true);
	if (rc) {
		log_error("xshard: op %#llx: cannot record phase %u: %s",
			  (unsigned long long)o->op_id, phase, error_str(rc));
		return XS_EUNREACH;
	}
	return 0;
}

int xs_del_intent(struct xs_op *o)
{
	int rc = ns_intent_del(o->m->ns, o->op_id, true);

	if (rc) {
		log_error("xshard: op %#llx: cannot delete its intent: %s",
			  (unsigned long long)o->op_id, error_str(rc));
		return XS_EUNREACH;
	}
	o->done = true;
	return 0;
}

/* ---- step helpers ---- */

int xs_getattr(struct xs_op *o, uint64_t ino, struct ns_attr *out)
{
	struct proto_peer_ino_req q = {.op_id = o->op_id, .ino = ino};
	struct proto_peer_attr_rep r;
	int rc = xs_step(o, ns_ino_shard(ino), PROTO_OP_MDS_PEER_GETATTR, &q, &r, NULL);

	if (!rc)
		xs_attr_from_peer(&r.attr, out);
	return rc;
}

int xs_walk_check(struct xs_op *o, uint64_t start, uint64_t target)
{
	struct proto_peer_walk_req q = {.op_id = o->op_id, .ino = start, .target = target};
	struct proto_peer_walk_rep r;
	int rc;

	for (unsigned hop = 0; hop < XS_WALK_MAX; hop++) {
		rc = xs_step(o, ns_ino_shard(q.ino), PROTO_OP_MDS_PEER_WALK_PARENTS, &q, &r, NULL);
		if (rc)
			return rc;
		if (r.result != PROTO_PEER_WALK_REMOTE)
			return r.result == PROTO_PEER_WALK_FOUND;
		if (ns_ino_shard(r.stop) == ns_ino_shard(q.ino))
			break;
		q.ino = r.stop;
	}
	log_error("xshard: ancestry walk from %#llx does not end", (unsigned long long)start);
	return -EIO;
}

int xs_lock_take(struct xs_op *o, int wait_ms)
{
	struct proto_peer_lock_req q = {.op_id = o->op_id, .lease_ms = XS_LEASE_MS};
	uint64_t start = xs_now_ms();
	unsigned delay = 10;
	int rc;

	for (;;) {
		rc = xs_step(o, 0, PROTO_OP_MDS_PEER_RENAME_LOCK, &q, NULL, NULL);
		if (rc != -EBUSY)
			break;
		if (o->xs->stopping || (wait_ms >= 0 && xs_now_ms() - start >= (uint64_t)wait_ms))
			break;
		nanosleep(&(struct timespec){0, (long)delay * 1000000L}, NULL);
		delay = delay < 200 ? delay * 2 : 200;
	}
	if (rc == 0) {
		o->locked = true;
		o->lock_renewed_ms = xs_now_ms();
	}
	return rc;
}

void xs_lock_release(struct xs_op *o)
{
	struct proto_peer_op_req q = {.op_id = o->op_id};

	/* A replayed op may hold it from before the crash without knowing. */
	if (!o->locked && !(o->done && (o->rec.flags & XS_RF_LOCK)))
		return;
	if (xs_step(o, 0, PROTO_OP_MDS_PEER_RENAME_UNLOCK, &q, NULL, NULL))
		log_warn("xshard: op %#llx: rename lock not released (lease will expire)",
			 (unsigned long long)o->op_id);
	o->locked = false;
}

/* ---- active operations ---- */

bool xs_active_add(struct mds_xshard *xs, uint64_t op_id)
{
	bool ok = true;

	pthread_mutex_lock(&xs->mu);
	for (size_t i = 0; i < xs->nactive; i++)
		if (xs->active[i] == op_id)
			ok = false;
	if (ok && xs->nactive == xs->cap_active) {
		size_t cap = xs->cap_active ? 2 * xs->cap_active : 16;
		uint64_t *a = realloc(xs->active, cap * sizeof(*a));

		if (a) {
			xs->active = a;
			xs->cap_active = cap;
		} else {
			ok = false;
		}
	}
	if (ok)
		xs->active[xs->nactive++] = op_id;
	pthread_mutex_unlock(&xs->mu);
	return ok;
}

void xs_active_del(struct mds_xshard *xs, uint64_t op_id)
{
	pthread_mutex_lock(&xs->mu);
	for (size_t i = 0; i < xs->nactive; i++) {
		if (xs->active[i] == op_id) {
			xs->active[i] = xs->active[--xs->nactive];
			break;
		}
	}
	pthread_mutex_unlock(&xs->mu);
}

/* ---- operations ---- */

int xs_op_begin(struct mds *m, struct xs_op *o, uint8_t kind, const struct ns_cred *cred)
{
	struct timespec ts;
	int rc;

	memset(o, 0, sizeof(*o));
	o->m = m;
	o->xs = m->xs;
	if (!o->xs)
		return -EIO;
	rc = ns_op_id_new(m->ns, &o->op_id);
	if (rc)
		return rc == -ENOSPC ? -ENOSPC : -EIO;
	if (!xs_active_add(o->xs, o->op_id))
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	o->rec.kind = kind;
	o->rec.start_sec = ts.tv_sec;
	xs_rec_set_cred(&o->rec, cred);
	return 0;
}

/*
 * Forgets the step results of op_id on shard.  A failure leaves them for
 * ns_done_gc: the op is over, nothing repeats its steps any more.
 */
static void xs_forget(struct xs_op *o, uint16_t shard, uint64_t op_id)
{
	struct proto_peer_op_req q = {.op_id = op_id};

	if (xs_step(o, shard, PROTO_OP_MDS_PEER_DONE_FORGET, &q, NULL, NULL))
		log_debug("xshard: op %#llx: step results left on shard %u",
			  (unsigned long long)op_id, shard);
}

void xs_op_end(struct xs_op *o)
{
	uint64_t shards;

	if (!o->pending)
		xs_lock_release(o);
	if (o->done) {
		shards = xs_rec_shards(&o->rec, o->m->shard);
		for (uint16_t s = 0; s < o->m->nshards && s < 64; s++)
			if ((shards >> s) & 1)
				xs_forget(o, s, o->op_id);
		if (o->rec.kind == XS_LINK && o->rec.aux_op)
			xs_forget(o, ns_ino_shard(o->rec.ino), o->rec.aux_op);
	}
	xs_active_del(o->xs, o->op_id);
	if (o->pending && !o->done && !o->replay)
		xs_replay_queue(o->xs, o->op_id);
}

int mds_xshard_getattr(struct mds *m, uint64_t ino, struct ns_attr *out)
{
	struct xs_op o = {.m = m, .xs = m->xs};
	int rc;

	if (ns_ino_shard(ino) == m->shard)
		return ns_getattr(m->ns, ino, out);
	if (!m->xs)
		return -EIO;
	rc = xs_getattr(&o, ino, out);
	return rc == XS_EUNREACH ? XS_ECLIENT : rc;
}

/* ---- start and stop ---- */

static void xs_peer_opts(const struct mds *m, struct rpc_opts *o)
{
	const struct cfg *c = m->cfg;

	*o = rpc_opts_default();
	o->key = m->key;
	o->engine = m->engine;
	if (!c)
		return;
	o->max_frame = (uint32_t)(c->rpc.max_frame > PROTO_FRAME_MAX ? PROTO_FRAME_MAX
								      : c->rpc.max_frame);
	o->timeout_ms = (int)c->rpc.timeout_ms;
	o->connect_timeout_ms = (int)c->rpc.connect_timeout_ms;
	o->reconnect_min_ms = (int)c->rpc.reconnect_min_ms;
	o->reconnect_max_ms = (int)c->rpc.reconnect_max_ms;
	o->socket_buffer = (int)c->rpc.socket_buffer;
}

static int xs_peers_connect(struct mds *m)
{
	struct rpc_opts opts;
	char addr[CFG_HOST_MAX + 16];
	int rc;

	if (!m->cfg)
		return 0; /* clients were given, or there are no peers */
	xs_peer_opts(m, &opts);
	for (uint16_t s = 0; s < m->nshards && s < 64; s++) {
		const struct cfg_addr *a = &m->cfg->mds.shards[s].addr;

		if (s == m->shard || m->peers[s])
			continue;
		snprintf(addr, sizeof(addr), strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host,
			 a->port);
		rc = rpc_client_new(addr, &opts, &m->peers[s]);
		if (rc) {
			log_error("xshard: client for shard %u at %s: %s", s, addr, error_str(rc));
			return rc;
		}
		m->xs->own_peer[s] = true;
	}
	return 0;
}

static void xs_free(struct mds *m)
{
	struct mds_xshard *xs = m->xs;

	for (uint16_t s = 0; s < 64; s++) {
		if (xs->own_peer[s]) {
			rpc_client_free(m->peers[s]);
			m->peers[s] = NULL;
		}
	}
	free(xs->active);
	free(xs->queue);
	pthread_cond_destroy(&xs->cond);
	pthread_mutex_destroy(&xs->mu);
	pthread_mutex_destroy(&xs->lock_mu);
	free(xs);
	m->xs = NULL;
}

int mds_xshard_start(struct mds *m)
{
	pthread_condattr_t ca;
	struct mds_xshard *xs;
	int rc;

	if (!m || !m->ns || m->nshards == 0 || m->nshards > 64 || m->shard >= m->nshards)
		return -EINVAL;
	xs = calloc(1, sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	xs->m = m;
	xs->timeout_ms = XS_PEER_TIMEOUT_MS;
	if (m->cfg && m->cfg->rpc.timeout_ms && m->cfg->rpc.timeout_ms < XS_PEER_TIMEOUT_MS)
		xs->timeout_ms = (int)m->cfg->rpc.timeout_ms;
	pthread_mutex_init(&xs->lock_mu, NULL);
	pthread_mutex_init(&xs->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&xs->cond, &ca);
	pthread_condattr_destroy(&ca);
	m->xs = xs;
	rc = xs_peers_connect(m);
	if (!rc)
		rc = xs_replay_start(xs);
	if (rc)
		xs_free(m);
	return rc;
}

void mds_xshard_stop(struct mds *m)
{
	if (!m || !m->xs)
		return;
	xs_replay_stop(m->xs);
	xs_free(m);
}
