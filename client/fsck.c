/*
 * fsck.c - the namespace check of `cairnctl fsck` (client/fsck.h).
 *
 * A pass reads, from every shard, the pending intents, then every inode
 * (into a hash table keyed by ino), then every entry (counted against the
 * table as it streams by), and derives the problems; with repair it fixes
 * them and checks again, until a pass finds nothing or repairs stop making
 * progress (at most FK_PASSES passes).  Repairs, most urgent first: stale
 * intents are re-run by their coordinator, and nothing else is touched in
 * that pass (the replay changes what the rest would see); otherwise stale
 * pins and marks, dangling entries, orphans, link counts and parents.
 *
 * Threads: the caller's; requests are issued one at a time with
 * rpc_call_sync.  Memory: about 64 bytes per inode of the cluster, plus
 * the problems found.
 */
#include "client/fsck.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/rpc.h"
#include "proto/fsck.h"
#include "proto/proto.h"

#define FK_PASSES 8
#define FK_PAGE PROTO_FSCK_SCAN_MAX
#define FK_ROOT UINT64_C(1)
#define FK_STALE_DEFAULT 60

struct fk_inode {
	uint64_t ino; /* 0: free slot */
	uint64_t parent;
	uint64_t rm_op;
	uint64_t entry_parent; /* directories: where an entry points to it */
	uint32_t mode;
	uint32_t nlink;
	uint32_t links; /* entries pointing to it */
	uint32_t subdirs; /* directory entries in it */
	uint32_t state;
	uint16_t shard;
};

struct fk_intent {
	uint64_t op_id;
	uint64_t age_sec;
	uint16_t shard;
	uint8_t kind, phase;
};

struct fk_problem {
	struct cairn_fsck_problem p;
	char name[256];
	uint32_t stored; /* NLINK/ORPHAN: the count the repair expects */
};

struct fk {
	struct rpc_client *const *cli;
	unsigned n;
	struct cairn_fsck_opts o;
	struct cairn_fsck_report *rep;
	unsigned pass;
	/* inode table, open addressing, cap a power of two */
	struct fk_inode *tab;
	size_t cap, count;
	struct fk_intent *intents;
	size_t nintents, cap_intents;
	struct fk_problem *probs;
	size_t nprobs, cap_probs;
	uint64_t counts[CAIRN_FSCK_KINDS];
	uint64_t seen_inodes, seen_dentries;
	uint64_t young; /* intents in progress this pass */
};

const char *cairn_fsck_kind_name(enum cairn_fsck_kind kind)
{
	static const char *const names[CAIRN_FSCK_KINDS] = {
	    "dangling", "orphan", "nlink", "parent", "stale-intent", "stale-pin"};

	return (unsigned)kind < CAIRN_FSCK_KINDS ? names[kind] : "unknown";
}

uint64_t cairn_fsck_remaining(const struct cairn_fsck_report *r)
{
	uint64_t n = 0;

	for (int k = 0; k < CAIRN_FSCK_KINDS; k++)
		n += r->remaining[k];
	return n;
}

/* ---- requests ---- */

typedef int (*fk_enc_fn)(const void *m, struct wire_enc *e);
typedef int (*fk_dec_fn)(struct wire_dec *d, void *m);

/* Untyped wrappers of the codecs, so requests go through one function. */
#define FK_ENC(T)                                                                                  \
	static int fk_##T##_enc(const void *m, struct wire_enc *e)                                 \
	{                                                                                          \
		return proto_fsck_##T##_encode(m, e);                                              \
	}
#define FK_DEC(T)                                                                                  \
	static int fk_##T##_dec(struct wire_dec *d, void *m)                                       \
	{                                                                                          \
		return proto_fsck_##T##_decode(d, m);                                              \
	}

FK_ENC(scan_req)
FK_ENC(scan_dentries_req)
FK_ENC(dentry_req)
FK_ENC(nlink_req)
FK_ENC(parent_req)
FK_ENC(op_req)
FK_DEC(scan_inodes_rep)
FK_DEC(scan_dentries_rep)
FK_DEC(scan_intents_rep)

/* One request to shard s; *resp (when wanted and the status is 0) must be freed. */
static int fk_call(struct fk *f, unsigned s, uint16_t opcode, fk_enc_fn enc, const void *req,
		   struct rpc_msg **resp)
{
	uint8_t body[512];
	struct rpc_call call = {.opcode = opcode, .body = body, .timeout_ms = f->o.timeout_ms};
	struct rpc_msg *r = NULL;
	struct wire_enc e;
	size_t len;
	int rc;

	wire_enc_init(&e, body, sizeof(body));
	if (enc(req, &e) || wire_enc_finish(&e, &len))
		return -EINVAL;
	call.body_len = (uint32_t)len;
	rc = rpc_call_sync(f->cli[s], &call, &r);
	if (rc == 0 && resp)
		*resp = r;
	else
		rpc_msg_free(r);
	return rc;
}

static int fk_decode(const struct rpc_msg *r, fk_dec_fn dec, void *m)
{
	struct wire_dec d;

	wire_dec_init(&d, r->body, r->body_len);
	wire_dec_set_version(&d, r->hdr.version);
	return dec(&d, m) ? -EPROTO : 0;
}

static void fk_progress(struct fk *f, const char *stage, unsigned s, uint64_t done)
{
	struct cairn_fsck_progress p = {.stage = stage, .pass = f->pass, .shard = (uint16_t)s,
					.done = done};

	if (f->o.progress)
		f->o.progress(f->o.arg, &p);
}

/* ---- the inode table ---- */

static size_t fk_slot(const struct fk *f, uint64_t ino)
{
	uint64_t h = ino * UINT64_C(0x9E3779B97F4A7C15);
	size_t i = (size_t)(h >> 17) & (f->cap - 1);

	while (f->tab[i].ino && f->tab[i].ino != ino)
		i = (i + 1) & (f->cap - 1);
	return i;
}

static struct fk_inode *fk_find(const struct fk *f, uint64_t ino)
{
	size_t i;

	if (!f->cap || !ino)
		return NULL;
	i = fk_slot(f, ino);
	return f->tab[i].ino ? &f->tab[i] : NULL;
}

static int fk_grow(struct fk *f)
{
	struct fk_inode *old = f->tab;
	size_t oldcap = f->cap;

	f->cap = oldcap ? oldcap * 2 : 4096;
	f->tab = calloc(f->cap, sizeof(*f->tab));
	if (!f->tab) {
		f->tab = old;
		f->cap = oldcap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].ino)
			f->tab[fk_slot(f, old[i].ino)] = old[i];
	free(old);
	return 0;
}

static int fk_add_inode(struct fk *f, unsigned s, const struct proto_fsck_inode *in)
{
	struct fk_inode *e;

	if ((f->count + 1) * 2 > f->cap && fk_grow(f))
		return -ENOMEM;
	e = &f->tab[fk_slot(f, in->ino)];
	if (e->ino)
		return -EPROTO; /* two shards claim one inode */
	*e = (struct fk_inode){.ino = in->ino,
			       .parent = in->parent,
			       .rm_op = in->rm_op,
			       .mode = in->mode,
			       .nlink = in->nlink,
			       .state = in->state,
			       .shard = (uint16_t)s};
	f->count++;
	return 0;
}

/* ---- problems ---- */

static struct fk_problem *fk_problem(struct fk *f, enum cairn_fsck_kind kind, unsigned shard)
{
	struct fk_problem *p;

	if (f->nprobs == f->cap_probs) {
		size_t cap = f->cap_probs ? 2 * f->cap_probs : 64;
		struct fk_problem *a = realloc(f->probs, cap * sizeof(*a));

		if (!a)
			return NULL;
		f->probs = a;
		f->cap_probs = cap;
	}
	p = &f->probs[f->nprobs++];
	memset(p, 0, sizeof(*p));
	p->p.kind = kind;
	p->p.pass = f->pass;
	p->p.shard = (uint16_t)shard;
	f->counts[kind]++;
	return p;
}

static bool fk_intent_exists(const struct fk *f, uint64_t op_id)
{
	for (size_t i = 0; i < f->nintents; i++)
		if (f->intents[i].op_id == op_id)
			return true;
	return false;
}

/* ---- scans ---- */

static int fk_scan_intents(struct fk *f, unsigned s)
{
	struct proto_fsck_intent items[FK_PAGE];
	struct proto_fsck_scan_req q = {.after = 0, .max = FK_PAGE};
	struct proto_fsck_scan_intents_rep r;
	struct rpc_msg *resp;
	int rc;

	do {
		r = (struct proto_fsck_scan_intents_rep){.cap = FK_PAGE, .items = items};
		rc = fk_call(f, s, PROTO_OP_MDS_FSCK_SCAN_INTENTS,
			     fk_scan_req_enc, &q, &resp);
		if (rc)
			return rc;
		rc = fk_decode(resp, fk_scan_intents_rep_dec, &r);
		rpc_msg_free(resp);
		for (uint32_t i = 0; i < r.count && !rc; i++) {
			if (f->nintents == f->cap_intents) {
				size_t cap = f->cap_intents ? 2 * f->cap_intents : 16;
				struct fk_intent *a = realloc(f->intents, cap * sizeof(*a));

				if (!a)
					return -ENOMEM;
				f->intents = a;
				f->cap_intents = cap;
			}
			f->intents[f->nintents++] = (struct fk_intent){
			    items[i].op_id, items[i].age_sec, (uint16_t)s, items[i].kind,
			    items[i].phase};
			q.after = items[i].op_id;
		}
		fk_progress(f, "intents", s, f->nintents);
	} while (!rc && !(r.flags & PROTO_FSCK_EOF));
	return rc;
}

static int fk_scan_inodes(struct fk *f, unsigned s)
{
	struct proto_fsck_inode *items = calloc(FK_PAGE, sizeof(*items));
	struct proto_fsck_scan_req q = {.after = 0, .max = FK_PAGE};
	struct proto_fsck_scan_inodes_rep r;
	struct rpc_msg *resp;
	int rc;

	if (!items)
		return -ENOMEM;
	do {
		r = (struct proto_fsck_scan_inodes_rep){.cap = FK_PAGE, .items = items};
		rc = fk_call(f, s, PROTO_OP_MDS_FSCK_SCAN_INODES, fk_scan_req_enc, &q, &resp);
		if (rc)
			break;
		rc = fk_decode(resp, fk_scan_inodes_rep_dec, &r);
		rpc_msg_free(resp);
		for (uint32_t i = 0; i < r.count && !rc; i++) {
			if ((items[i].ino >> 48) != s || items[i].ino <= q.after)
				rc = -EPROTO;
			else
				rc = fk_add_inode(f, s, &items[i]);
			q.after = items[i].ino;
		}
		f->seen_inodes += r.count;
		fk_progress(f, "inodes", s, f->seen_inodes);
	} while (!rc && !(r.flags & PROTO_FSCK_EOF));
	free(items);
	return rc;
}

/* One entry: links, subdirectories, dangling, pins. */
static int fk_entry(struct fk *f, unsigned s, const struct proto_fsck_dentry *d)
{
	struct fk_inode *t = fk_find(f, d->ino), *p = fk_find(f, d->parent);
	struct fk_problem *pr = NULL;

	if (p && S_ISDIR(d->type))
		p->subdirs++;
	if (t) {
		t->links++;
		if (S_ISDIR(t->mode))
			t->entry_parent = d->parent;
	}
	if (!t || !p || !S_ISDIR(p->mode)) {
		pr = fk_problem(f, CAIRN_FSCK_DANGLING, s);
		if (pr)
			pr->p.ino = d->ino;
	} else if (d->pin && !fk_intent_exists(f, d->pin)) {
		pr = fk_problem(f, CAIRN_FSCK_STALE_PIN, s);
		if (pr)
			pr->p.op_id = d->pin;
	} else {
		return 0;
	}
	if (!pr)
		return -ENOMEM;
	pr->p.parent = d->parent;
	memcpy(pr->name, d->name.ptr, d->name.len);
	pr->p.nlen = d->name.len;
	return 0;
}

static int fk_scan_dentries(struct fk *f, unsigned s)
{
	struct proto_fsck_dentry *items = calloc(FK_PAGE, sizeof(*items));
	struct proto_fsck_scan_dentries_req q = {.max = FK_PAGE};
	struct proto_fsck_scan_dentries_rep r;
	char cursor[PROTO_NAME_MAX];
	struct rpc_msg *resp;
	int rc;

	if (!items)
		return -ENOMEM;
	do {
		r = (struct proto_fsck_scan_dentries_rep){.cap = FK_PAGE, .items = items};
		rc = fk_call(f, s, PROTO_OP_MDS_FSCK_SCAN_DENTRIES, fk_scan_dentries_req_enc, &q,
			     &resp);
		if (rc)
			break;
		rc = fk_decode(resp, fk_scan_dentries_rep_dec, &r);
		for (uint32_t i = 0; i < r.count && !rc; i++)
			rc = (items[i].parent >> 48) != s ? -EPROTO : fk_entry(f, s, &items[i]);
		if (!rc && r.count) {
			const struct proto_fsck_dentry *last = &items[r.count - 1];

			memcpy(cursor, last->name.ptr, last->name.len);
			q.after_parent = last->parent;
			q.after_name = (struct proto_str){.ptr = cursor, .len = last->name.len};
		}
		rpc_msg_free(resp);
		f->seen_dentries += r.count;
		fk_progress(f, "entries", s, f->seen_dentries);
	} while (!rc && !(r.flags & PROTO_FSCK_EOF));
	free(items);
	return rc;
}

/* ---- analysis ---- */

static int fk_check_inode(struct fk *f, const struct fk_inode *e)
{
	bool dir = S_ISDIR(e->mode), root = e->ino == FK_ROOT;
	uint32_t want = dir ? 2 + e->subdirs : e->links;
	struct fk_problem *p = NULL;

	if (dir && e->rm_op && !fk_intent_exists(f, e->rm_op)) {
		p = fk_problem(f, CAIRN_FSCK_STALE_PIN, e->shard);
		if (!p)
			return -ENOMEM;
		p->p.ino = e->ino;
		p->p.op_id = e->rm_op;
	}
	if (!root && e->links == 0) {
		if (!dir && (e->state & PROTO_FSCK_ORPHAN))
			return 0; /* unlinked while open: freed at its last close */
		if (dir && e->rm_op && fk_intent_exists(f, e->rm_op))
			return 0; /* being removed */
		p = fk_problem(f, CAIRN_FSCK_ORPHAN, e->shard);
		if (!p)
			return -ENOMEM;
		p->p.ino = e->ino;
		p->stored = e->nlink;
		return 0;
	}
	if (e->nlink != want) {
		p = fk_problem(f, CAIRN_FSCK_NLINK, e->shard);
		if (!p)
			return -ENOMEM;
		p->p.ino = e->ino;
		p->p.expected = want;
		p->p.found = e->nlink;
		p->stored = e->nlink;
	}
	if (dir && !root && e->links == 1 && e->parent != e->entry_parent) {
		p = fk_problem(f, CAIRN_FSCK_PARENT, e->shard);
		if (!p)
			return -ENOMEM;
		p->p.ino = e->ino;
		p->p.expected = e->entry_parent;
		p->p.found = e->parent;
	}
	return 0;
}

static int fk_analyze(struct fk *f, uint32_t stale_sec)
{
	uint64_t young = 0;
	int rc = 0;

	for (size_t i = 0; i < f->nintents; i++) {
		const struct fk_intent *it = &f->intents[i];
		struct fk_problem *p;

		if (it->age_sec < stale_sec && it->kind != 0) {
			young++;
			continue;
		}
		p = fk_problem(f, CAIRN_FSCK_STALE_INTENT, it->shard);
		if (!p)
			return -ENOMEM;
		p->p.op_id = it->op_id;
		p->p.age_sec = it->age_sec;
		p->p.op_kind = it->kind;
		p->p.op_phase = it->phase;
	}
	f->young = young;
	if (f->pass == 0)
		f->rep->in_progress = young;
	for (size_t i = 0; i < f->cap && !rc; i++)
		if (f->tab[i].ino)
			rc = fk_check_inode(f, &f->tab[i]);
	return rc;
}

/* ---- repairs ---- */

static int fk_repair_one(struct fk *f, const struct fk_problem *p)
{
	const struct cairn_fsck_problem *q = &p->p;
	struct proto_fsck_dentry_req dq = {.parent = q->parent,
					   .name = {.ptr = p->name, .len = (uint16_t)q->nlen},
					   .ino = q->ino};
	struct proto_fsck_nlink_req nq = {.ino = q->ino, .expected = p->stored};
	struct proto_fsck_parent_req pq = {.ino = q->ino, .expected = q->found,
					   .parent = q->expected};
	struct proto_fsck_op_req oq = {.op_id = q->op_id};

	switch (q->kind) {
	case CAIRN_FSCK_STALE_INTENT:
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_INTENT_RERUN,
			       fk_op_req_enc, &oq, NULL);
	case CAIRN_FSCK_STALE_PIN:
		if (q->nlen) {
			dq.ino = q->op_id;
			return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_UNPIN,
				       fk_dentry_req_enc, &dq, NULL);
		}
		pq = (struct proto_fsck_parent_req){.ino = q->ino, .expected = q->op_id};
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_UNMARK,
			       fk_parent_req_enc, &pq, NULL);
	case CAIRN_FSCK_DANGLING:
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_REMOVE_DENTRY,
			       fk_dentry_req_enc, &dq, NULL);
	case CAIRN_FSCK_ORPHAN:
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_DELETE_INODE,
			       fk_nlink_req_enc, &nq, NULL);
	case CAIRN_FSCK_NLINK:
		nq.nlink = (uint32_t)q->expected;
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_SET_NLINK,
			       fk_nlink_req_enc, &nq, NULL);
	default:
		return fk_call(f, q->shard, PROTO_OP_MDS_FSCK_SET_PARENT,
			       fk_parent_req_enc, &pq, NULL);
	}
}

/* Reports every problem, repairing when asked; returns the repairs done. */
static uint64_t fk_report(struct fk *f, bool repair)
{
	/* Stale intents first; and while operations are in flight, what looks
	 * wrong may be theirs: touch nothing else. */
	bool intents_only = f->counts[CAIRN_FSCK_STALE_INTENT] > 0 || f->young > 0;
	uint64_t done = 0;

	for (size_t i = 0; i < f->nprobs; i++) {
		struct fk_problem *p = &f->probs[i];
		bool now = repair && (!intents_only || p->p.kind == CAIRN_FSCK_STALE_INTENT);

		if (now) {
			p->p.repair_error = fk_repair_one(f, p);
			p->p.repaired = p->p.repair_error == 0;
			if (p->p.repaired) {
				f->rep->repaired[p->p.kind]++;
				done++;
			} else {
				f->rep->failed[p->p.kind]++;
			}
		}
		p->p.name = p->p.nlen ? p->name : NULL;
		if (f->o.problem)
			f->o.problem(f->o.arg, &p->p);
	}
	if (repair && done)
		fk_progress(f, "repair", 0, done);
	return done;
}

/* ---- a pass ---- */

static void fk_reset(struct fk *f)
{
	if (f->tab)
		memset(f->tab, 0, f->cap * sizeof(*f->tab));
	f->count = 0;
	f->nintents = 0;
	f->nprobs = 0;
	f->seen_inodes = f->seen_dentries = 0;
	memset(f->counts, 0, sizeof(f->counts));
}

static int fk_pass(struct fk *f)
{
	int rc = 0;

	fk_reset(f);
	for (unsigned s = 0; s < f->n && !rc; s++)
		rc = fk_scan_intents(f, s);
	for (unsigned s = 0; s < f->n && !rc; s++)
		rc = fk_scan_inodes(f, s);
	for (unsigned s = 0; s < f->n && !rc; s++)
		rc = fk_scan_dentries(f, s);
	if (!rc && !fk_find(f, FK_ROOT))
		rc = -EPROTO; /* no root: not a Cairn namespace */
	if (!rc)
		rc = fk_analyze(f, f->o.stale_sec);
	return rc;
}

int cairn_fsck_run(struct rpc_client *const *shards, unsigned nshards,
		   const struct cairn_fsck_opts *opts, struct cairn_fsck_report *out)
{
	struct fk f = {.cli = shards, .n = nshards, .rep = out};
	uint64_t total;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!shards || nshards == 0 || nshards > 64)
		return -EINVAL;
	for (unsigned s = 0; s < nshards; s++)
		if (!shards[s])
			return -EINVAL;
	if (opts)
		f.o = *opts;
	if (!f.o.stale_sec)
		f.o.stale_sec = FK_STALE_DEFAULT;
	for (f.pass = 0; f.pass < FK_PASSES; f.pass++) {
		rc = fk_pass(&f);
		if (rc && f.pass == 0) { /* what was seen before it stopped */
			out->inodes = f.seen_inodes;
			out->dentries = f.seen_dentries;
			out->intents = f.nintents;
		}
		if (rc)
			break;
		total = 0;
		for (int k = 0; k < CAIRN_FSCK_KINDS; k++) {
			out->remaining[k] = f.counts[k];
			if (f.pass == 0)
				out->found[k] = f.counts[k];
			total += f.counts[k];
		}
		if (f.pass == 0) {
			out->inodes = f.seen_inodes;
			out->dentries = f.seen_dentries;
			out->intents = f.nintents;
		}
		out->passes = f.pass + 1;
		if (fk_report(&f, f.o.repair && f.pass + 1 < FK_PASSES) == 0 || total == 0)
			break;
	}
	free(f.tab);
	free(f.intents);
	free(f.probs);
	return rc;
}
