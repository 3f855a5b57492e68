/*
 * fsck.c - serves the fsck opcodes (mds/fsck.h, proto/fsck.h): a page of
 * this shard's inodes, entries or pending intents, and the repairs, each
 * a thin wrapper over one ns_fsck_* or mds_xshard_* call that checks the
 * record still is what the checker saw.
 *
 * Threads: any RPC worker; no state of its own.  Reply buffers are
 * allocated per request (a page is at most PROTO_FSCK_REPLY_BYTES).
 */
#include "mds/fsck.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/mds.h"
#include "mds/ns.h"
#include "mds/xshard.h"
#include "proto/fsck.h"

#define FSCK_INODE_BYTES 48
#define FSCK_DENTRY_BYTES 30 /* plus the name */
#define FSCK_INTENT_BYTES 18
#define FSCK_HEAD_BYTES 8

/* Encodes a reply with enc and sends it; frees nothing. */
static void fsck_reply(struct rpc_req *req, int rc, int (*enc)(const void *m, struct wire_enc *e),
		       const void *msg)
{
	struct wire_enc e;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (rc == 0 && enc) {
		buf = malloc(PROTO_FSCK_REPLY_BYTES + 512);
		if (!buf) {
			rc = -ENOMEM;
		} else {
			wire_enc_init(&e, buf, PROTO_FSCK_REPLY_BYTES + 512);
			if (enc(msg, &e) || wire_enc_finish(&e, &len))
				rc = -EIO;
		}
	}
	if (rc)
		len = 0;
	rpc_reply(req, rc, buf, (uint32_t)len, NULL, 0, NULL, NULL);
	free(buf);
}

static int enc_inodes(const void *m, struct wire_enc *e)
{
	return proto_fsck_scan_inodes_rep_encode(m, e);
}

static int enc_dentries(const void *m, struct wire_enc *e)
{
	return proto_fsck_scan_dentries_rep_encode(m, e);
}

static int enc_intents(const void *m, struct wire_enc *e)
{
	return proto_fsck_scan_intents_rep_encode(m, e);
}

/* ---- scans ---- */

struct fsck_page {
	uint32_t max;
	size_t bytes;
	struct proto_fsck_scan_inodes_rep ino;
	struct proto_fsck_scan_dentries_rep den;
	struct proto_fsck_scan_intents_rep itn;
	char *names; /* dentry names, NS_NAME_MAX bytes per record */
	uint64_t after;
	int64_t now;
};

/* Room for a record of n bytes?  The first always fits. */
static bool fsck_room(struct fsck_page *p, uint32_t count, size_t n)
{
	if (count >= p->max || (count && p->bytes + n > PROTO_FSCK_REPLY_BYTES))
		return false;
	p->bytes += n;
	return true;
}

static int fsck_take_inode(void *arg, const struct ns_scan_inode *in)
{
	struct fsck_page *p = arg;
	struct proto_fsck_inode *o;

	if (!fsck_room(p, p->ino.count, FSCK_INODE_BYTES))
		return 1;
	o = &p->ino.items[p->ino.count++];
	o->ino = in->ino;
	o->mode = in->mode;
	o->nlink = in->nlink;
	o->parent = in->parent;
	o->size = in->size;
	o->state = ((in->state & NS_SCAN_OPEN) ? PROTO_FSCK_OPEN : 0) |
		   ((in->state & NS_SCAN_ORPHAN) ? PROTO_FSCK_ORPHAN : 0);
	o->rm_op = in->rm_op;
	return 0;
}

static int fsck_take_dentry(void *arg, const struct ns_scan_dentry *de)
{
	struct fsck_page *p = arg;
	struct proto_fsck_dentry *o;
	char *name;

	if (!fsck_room(p, p->den.count, FSCK_DENTRY_BYTES + de->nlen))
		return 1;
	name = p->names + (size_t)p->den.count * NS_NAME_MAX;
	memcpy(name, de->name, de->nlen);
	o = &p->den.items[p->den.count++];
	o->parent = de->parent;
	o->name = (struct proto_str){.ptr = name, .len = (uint16_t)de->nlen};
	o->ino = de->ino;
	o->type = de->type;
	o->pin = de->pin;
	return 0;
}

static int fsck_take_intent(void *arg, uint64_t op_id, const void *data, size_t len)
{
	struct fsck_page *p = arg;
	struct proto_fsck_intent *o;
	int64_t start = p->now;
	uint8_t kind = 0, phase = 0;

	if (op_id <= p->after)
		return 0;
	if (!fsck_room(p, p->itn.count, FSCK_INTENT_BYTES))
		return 1;
	if (mds_xshard_intent_info(data, len, &kind, &phase, &start))
		kind = phase = 0;
	o = &p->itn.items[p->itn.count++];
	o->op_id = op_id;
	o->kind = kind;
	o->phase = phase;
	o->age_sec = p->now > start ? (uint64_t)(p->now - start) : 0;
	return 0;
}

static void fsck_scan_inodes(struct mds *m, struct rpc_req *req, const struct proto_fsck_scan_req *q)
{
	struct fsck_page p = {.max = q->max, .bytes = FSCK_HEAD_BYTES};
	bool eof = false;
	int rc;

	p.ino.items = calloc(q->max, sizeof(*p.ino.items));
	if (!p.ino.items) {
		fsck_reply(req, -ENOMEM, NULL, NULL);
		return;
	}
	rc = ns_scan_inodes(m->ns, q->after, 0, fsck_take_inode, &p, &eof);
	p.ino.flags = eof ? PROTO_FSCK_EOF : 0;
	fsck_reply(req, rc, enc_inodes, &p.ino);
	free(p.ino.items);
}

static void fsck_scan_dentries(struct mds *m, struct rpc_req *req,
			       const struct proto_fsck_scan_dentries_req *q)
{
	struct fsck_page p = {.max = q->max, .bytes = FSCK_HEAD_BYTES};
	bool eof = false;
	int rc = -ENOMEM;

	p.den.items = calloc(q->max, sizeof(*p.den.items));
	p.names = malloc((size_t)q->max * NS_NAME_MAX);
	if (p.den.items && p.names)
		rc = ns_scan_dentries(m->ns, q->after_parent, q->after_name.ptr,
				      q->after_name.len, 0, fsck_take_dentry, &p, &eof);
	p.den.flags = eof ? PROTO_FSCK_EOF : 0;
	fsck_reply(req, rc, enc_dentries, &p.den);
	free(p.names);
	free(p.den.items);
}

static void fsck_scan_intents(struct mds *m, struct rpc_req *req, const struct proto_fsck_scan_req *q)
{
	struct fsck_page p = {.max = q->max, .bytes = FSCK_HEAD_BYTES, .after = q->after};
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	p.now = ts.tv_sec;
	p.itn.items = calloc(q->max, sizeof(*p.itn.items));
	if (!p.itn.items) {
		fsck_reply(req, -ENOMEM, NULL, NULL);
		return;
	}
	rc = ns_intent_list(m->ns, fsck_take_intent, &p);
	if (rc == 1) /* stopped: the page is full */
		rc = 0;
	else if (rc == 0)
		p.itn.flags = PROTO_FSCK_EOF;
	fsck_reply(req, rc, enc_intents, &p.itn);
	free(p.itn.items);
}

/* ---- repairs ---- */

static int fsck_unpin(struct mds *m, const struct proto_fsck_dentry_req *q)
{
	struct ns_xop x = {.op_id = q->ino, .intent = NS_INTENT_KEEP, .sync = true};

	log_warn("fsck: clearing pin of op %#llx on %#llx/%.*s", (unsigned long long)q->ino,
		 (unsigned long long)q->parent, (int)q->name.len, q->name.ptr);
	return ns_dentry_unpin(m->ns, &x, q->parent, q->name.ptr, q->name.len);
}

static int fsck_unmark(struct mds *m, const struct proto_fsck_parent_req *q)
{
	struct ns_xop x = {.op_id = q->expected, .intent = NS_INTENT_KEEP, .sync = true};

	if (!q->expected || q->parent)
		return -EINVAL;
	log_warn("fsck: clearing removal mark of op %#llx on %#llx",
		 (unsigned long long)q->expected, (unsigned long long)q->ino);
	return ns_dir_abort_remove(m->ns, &x, q->ino);
}

union fsck_req {
	struct proto_fsck_scan_req scan;
	struct proto_fsck_scan_dentries_req dscan;
	struct proto_fsck_dentry_req dentry;
	struct proto_fsck_nlink_req nlink;
	struct proto_fsck_parent_req parent;
	struct proto_fsck_op_req op;
};

/* Decodes the body of opcode into q; 0, -CAIRN_EBADFRAME, -EOPNOTSUPP. */
static int fsck_decode(uint16_t opcode, struct wire_dec *d, union fsck_req *q)
{
	switch (opcode) {
	case PROTO_OP_MDS_FSCK_SCAN_INODES:
	case PROTO_OP_MDS_FSCK_SCAN_INTENTS:
		return proto_fsck_scan_req_decode(d, &q->scan);
	case PROTO_OP_MDS_FSCK_SCAN_DENTRIES:
		return proto_fsck_scan_dentries_req_decode(d, &q->dscan);
	case PROTO_OP_MDS_FSCK_REMOVE_DENTRY:
	case PROTO_OP_MDS_FSCK_UNPIN:
		return proto_fsck_dentry_req_decode(d, &q->dentry);
	case PROTO_OP_MDS_FSCK_SET_NLINK:
	case PROTO_OP_MDS_FSCK_DELETE_INODE:
		return proto_fsck_nlink_req_decode(d, &q->nlink);
	case PROTO_OP_MDS_FSCK_SET_PARENT:
	case PROTO_OP_MDS_FSCK_UNMARK:
		return proto_fsck_parent_req_decode(d, &q->parent);
	case PROTO_OP_MDS_FSCK_INTENT_RERUN:
	case PROTO_OP_MDS_FSCK_INTENT_DROP:
		return proto_fsck_op_req_decode(d, &q->op);
	default:
		return -EOPNOTSUPP;
	}
}

/* The repairs: one call each. */
static int fsck_repair(struct mds *m, uint16_t opcode, const union fsck_req *q)
{
	switch (opcode) {
	case PROTO_OP_MDS_FSCK_REMOVE_DENTRY:
		return ns_fsck_remove_dentry(m->ns, q->dentry.parent, q->dentry.name.ptr,
					     q->dentry.name.len, q->dentry.ino);
	case PROTO_OP_MDS_FSCK_UNPIN:
		return fsck_unpin(m, &q->dentry);
	case PROTO_OP_MDS_FSCK_SET_NLINK:
		return ns_fsck_set_nlink(m->ns, q->nlink.ino, q->nlink.expected, q->nlink.nlink);
	case PROTO_OP_MDS_FSCK_DELETE_INODE:
		return q->nlink.nlink ? -EINVAL
				      : ns_fsck_delete_inode(m->ns, q->nlink.ino,
							     q->nlink.expected, NULL);
	case PROTO_OP_MDS_FSCK_SET_PARENT:
		return ns_fsck_set_parent(m->ns, q->parent.ino, q->parent.expected,
					  q->parent.parent);
	case PROTO_OP_MDS_FSCK_UNMARK:
		return fsck_unmark(m, &q->parent);
	case PROTO_OP_MDS_FSCK_INTENT_RERUN:
		return mds_xshard_rerun(m, q->op.op_id);
	default:
		return mds_xshard_drop(m, q->op.op_id);
	}
}

void mds_fsck_handle(struct mds *m, struct rpc_req *req)
{
	const struct rpc_msg *msg = rpc_req_msg(req);
	uint16_t opcode = msg->hdr.opcode;
	union fsck_req q;
	struct wire_dec d;
	int rc;

	memset(&q, 0, sizeof(q));
	wire_dec_init(&d, msg->body, msg->body_len);
	wire_dec_set_version(&d, msg->hdr.version);
	rc = fsck_decode(opcode, &d, &q);
	if (rc) {
		if (rc != -EOPNOTSUPP)
			log_warn("fsck: malformed request %#x from %s", opcode, rpc_req_peer(req));
		fsck_reply(req, rc, NULL, NULL);
		return;
	}
	switch (opcode) {
	case PROTO_OP_MDS_FSCK_SCAN_INODES:
		fsck_scan_inodes(m, req, &q.scan);
		return;
	case PROTO_OP_MDS_FSCK_SCAN_DENTRIES:
		fsck_scan_dentries(m, req, &q.dscan);
		return;
	case PROTO_OP_MDS_FSCK_SCAN_INTENTS:
		fsck_scan_intents(m, req, &q.scan);
		return;
	}
	fsck_reply(req, fsck_repair(m, opcode, &q), NULL, NULL);
}
