/*
 * cairn_dir.c - libcairn: directory listing (readdir and readdirplus by
 * cookie) and statfs summed over every shard.
 *
 * Readdirplus: the directory's shard sends attributes for the entries whose
 * inodes it holds and may leave them out for inodes of other shards (a
 * subdirectory placed elsewhere, a cross-shard link); those are fetched
 * here from their home shards, all of a batch at once.
 *
 * Threads: any; a listing's buffers belong to its call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/cinode.h"
#include "client/mdsc.h"
#include "common/rpc.h"
#include "proto/mds.h"

/* One listing in progress. */
struct listing {
	struct cairn *c;
	struct proto_cred cred;
	uint64_t ino;
	uint16_t shard;
	struct cairn_readdir_args *a;
	uint32_t batch;
	struct proto_mds_dirent *ents; /* [batch] */
	struct cairn_attr *attrs;      /* [batch], with PLUS */
	bool *skip;		       /* [batch]: vanished while listing */
};

static int fetch(struct listing *l, struct proto_mds_readdir_rep *rep, struct rpc_msg **resp)
{
	struct proto_mds_readdir_req m = {.cred = l->cred,
					  .ino = l->ino,
					  .fh = l->a->fh,
					  .cookie = l->a->cookie,
					  .max_entries = l->batch};
	uint8_t buf[CAIRN_REQ_MAX];
	struct wire_enc e;
	struct wire_dec d;
	int rc;

	if (l->a->flags & CAIRN_READDIR_PLUS)
		m.flags |= PROTO_MDS_READDIR_PLUS;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_readdir_req_encode(&m, &e);
	rc = cairn_send(l->c, l->shard, PROTO_OP_MDS_READDIR, &e, resp);
	if (rc)
		return rc;
	rep->cap = l->batch;
	rep->entries = l->ents;
	mdsc_dec_init(&d, *resp);
	return mdsc_dec_check(proto_mds_readdir_rep_decode(&d, rep), PROTO_OP_MDS_READDIR);
}

/* Attributes of the entries the shard sent without, from their home shards. */
static int fill_remote(struct listing *l, const struct proto_mds_readdir_rep *rep,
		       const uint32_t *idx, uint32_t n)
{
	struct proto_mds_getattr_req m = {.cred = l->cred};
	struct mdsc *mc = cairn_mdsc(l->c);
	struct mdsc_req *reqs;
	uint8_t *bufs;
	int rc = 0;

	reqs = calloc(n, sizeof(*reqs));
	bufs = malloc((size_t)n * 512);
	if (!reqs || !bufs) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t j = 0; j < n && !rc; j++) {
		struct wire_enc e;
		size_t len = 0;

		m.ino = rep->entries[idx[j]].ino;
		rc = mdsc_ino_shard(mc, m.ino, &reqs[j].shard);
		wire_enc_init(&e, bufs + (size_t)j * 512, 512);
		proto_mds_getattr_req_encode(&m, &e);
		if (!rc)
			rc = wire_enc_finish(&e, &len) ? -ENOMEM : 0;
		reqs[j].opcode = PROTO_OP_MDS_GETATTR;
		reqs[j].body = e.buf;
		reqs[j].len = (uint32_t)len;
	}
	if (rc)
		goto out;
	mdsc_call_many(mc, reqs, n);
	for (uint32_t j = 0; j < n; j++) {
		struct proto_mds_attr_rep ar;
		struct wire_dec d;
		int st = reqs[j].status;

		if (st == 0) {
			mdsc_dec_init(&d, reqs[j].resp);
			st = mdsc_dec_check(proto_mds_attr_rep_decode(&d, &ar),
					    PROTO_OP_MDS_GETATTR);
		}
		if (st == 0)
			cairn_attr_from_proto(&ar.attr, ar.attr_valid_ms, &l->attrs[idx[j]]);
		else if (st == -ENOENT)
			l->skip[idx[j]] = true;
		else if (!rc)
			rc = st;
		rpc_msg_free(reqs[j].resp);
	}
out:
	free(bufs);
	free(reqs);
	return rc;
}

static int fill_attrs(struct listing *l, const struct proto_mds_readdir_rep *rep)
{
	uint32_t *idx, n = 0;
	int rc;

	memset(l->skip, 0, sizeof(bool) * l->batch);
	if (!(l->a->flags & CAIRN_READDIR_PLUS))
		return 0;
	idx = malloc(sizeof(*idx) * (rep->count + 1));
	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < rep->count; i++) {
		const struct proto_mds_dirent *de = &rep->entries[i];

		if (de->flags & PROTO_MDS_DIRENT_ATTR) {
			cairn_attr_from_proto(&de->attr, rep->attr_valid_ms, &l->attrs[i]);
			l->attrs[i].entry_valid_ms = rep->entry_valid_ms;
		} else {
			idx[n++] = i;
		}
	}
	rc = n ? fill_remote(l, rep, idx, n) : 0;
	for (uint32_t j = 0; j < n; j++)
		l->attrs[idx[j]].entry_valid_ms = rep->entry_valid_ms;
	free(idx);
	return rc;
}

/* Hands a batch to the callback.  Returns 0 (go on), 1 (stopped) or < 0. */
static int deliver(struct listing *l, const struct proto_mds_readdir_rep *rep)
{
	char name[CAIRN_NAME_MAX + 1];

	for (uint32_t i = 0; i < rep->count; i++) {
		const struct proto_mds_dirent *de = &rep->entries[i];
		struct cairn_dirent d = {.name = name,
					 .nlen = de->name.len,
					 .ino = de->ino,
					 .cookie = de->cookie,
					 .type = de->dtype};
		int rc;

		if (!l->skip[i]) {
			memcpy(name, de->name.ptr, de->name.len);
			name[de->name.len] = '\0';
			if (l->a->flags & CAIRN_READDIR_PLUS) {
				d.attr = &l->attrs[i];
				cinode_overlay(l->c->inodes, &l->attrs[i]);
			}
			rc = l->a->fn(l->a->arg, &d);
			if (rc)
				return rc < 0 ? rc : 1;
		}
		l->a->cookie = de->cookie;
	}
	return 0;
}

static int list(struct listing *l)
{
	struct proto_mds_readdir_rep rep;
	struct rpc_msg *resp;
	int rc;

	for (;;) {
		rc = fetch(l, &rep, &resp);
		if (!rc)
			rc = fill_attrs(l, &rep);
		if (!rc)
			rc = deliver(l, &rep);
		rpc_msg_free(resp);
		if (rc)
			return rc < 0 ? rc : 0;
		if (rep.flags & PROTO_MDS_READDIR_EOF) {
			l->a->eof = true;
			return 0;
		}
	}
}

int cairn_readdir(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		  struct cairn_readdir_args *a)
{
	struct listing l = {.c = c, .ino = ino, .a = a};
	int rc;

	if (!c || !a || !a->fn || (a->flags & ~(uint32_t)CAIRN_READDIR_PLUS))
		return -EINVAL;
	a->eof = false;
	l.batch = a->batch && a->batch < PROTO_MDS_READDIR_MAX ? a->batch : PROTO_MDS_READDIR_MAX;
	rc = cairn_ino_arg(c, ino, &l.shard);
	if (!rc)
		rc = cairn_cred_get(cred, &l.cred);
	if (rc)
		return rc;
	l.ents = malloc(sizeof(*l.ents) * l.batch);
	l.skip = malloc(sizeof(bool) * l.batch);
	l.attrs = (a->flags & CAIRN_READDIR_PLUS) ? malloc(sizeof(*l.attrs) * l.batch) : NULL;
	if (!l.ents || !l.skip || ((a->flags & CAIRN_READDIR_PLUS) && !l.attrs))
		rc = -ENOMEM;
	else
		rc = list(&l);
	free(l.attrs);
	free(l.skip);
	free(l.ents);
	return rc;
}

/* Adds one shard's figures, blocks converted to the first shard's frsize. */
static void statfs_add(struct cairn_statfs *t, const struct proto_mds_statfs_rep *s, bool first)
{
	if (first) {
		t->bsize = s->bsize;
		t->frsize = s->frsize;
		t->namemax = s->namemax;
	}
	t->blocks += (uint64_t)((unsigned __int128)s->blocks * s->frsize / t->frsize);
	t->bfree += (uint64_t)((unsigned __int128)s->bfree * s->frsize / t->frsize);
	t->bavail += (uint64_t)((unsigned __int128)s->bavail * s->frsize / t->frsize);
	t->files += s->files;
	t->ffree += s->ffree;
	if (s->namemax < t->namemax)
		t->namemax = s->namemax;
}

int cairn_statfs(struct cairn *c, const struct cairn_cred *cred, struct cairn_statfs *out)
{
	struct proto_mds_ino_req m = {.ino = CAIRN_ROOT_INO};
	struct mdsc_req reqs[64];
	uint8_t buf[CAIRN_REQ_MAX];
	struct wire_enc e;
	size_t len;
	unsigned n;
	int rc;

	if (!c || !out)
		return -EINVAL;
	rc = cairn_cred_get(cred, &m.cred);
	if (rc)
		return rc;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_mds_ino_req_encode(&m, &e);
	if (wire_enc_finish(&e, &len))
		return -ENOMEM;
	n = cairn_shard_count(c);
	for (unsigned i = 0; i < n; i++)
		reqs[i] = (struct mdsc_req){.shard = (uint16_t)i,
					    .opcode = PROTO_OP_MDS_STATFS,
					    .body = buf,
					    .len = (uint32_t)len};
	mdsc_call_many(cairn_mdsc(c), reqs, n);
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		struct proto_mds_statfs_rep s;
		struct wire_dec d;

		if (!rc && reqs[i].status)
			rc = reqs[i].status;
		if (!rc) {
			mdsc_dec_init(&d, reqs[i].resp);
			rc = mdsc_dec_check(proto_mds_statfs_rep_decode(&d, &s),
					    PROTO_OP_MDS_STATFS);
		}
		if (!rc)
			statfs_add(out, &s, i == 0);
		rpc_msg_free(reqs[i].resp);
	}
	return rc;
}
