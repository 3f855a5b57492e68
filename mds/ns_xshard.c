/*
 * ns_xshard.c - this shard's half of the cross-shard protocols (ns.h):
 * intent records of the coordinator, "done" records that make each remote
 * step idempotent, and the steps themselves (prepared inode create and
 * abort, link count adjust, remote entry link/unlink, entry pins, remote
 * rmdir prepare/commit/abort, parent update).
 *
 * A step runs under the stripe locks of what it changes (for
 * ns_inode_create_prepared, of its op id), reads its done record there,
 * and writes its effect, its done record and the caller's intent action in
 * one batch, so a repeated step finds the record and repeats the answer.
 *
 * Threads: as every ns_* call; see ns_int.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"
#include "proto/wire.h"

#define NS_DONE_VER 1
#define NS_DONE_REC 44
#define NS_INTENT_MAX (1u << 20)

#define NS_DONE_REMOTE 1
#define NS_DONE_ORPHANED 2
#define NS_DONE_FREED 4

/* ---- done records ---- */

int ns_done_get(struct ns *ns, uint64_t op_id, uint8_t step, uint64_t disc, struct ns_drop *drop)
{
	uint8_t key[KEYS_DONE_LEN], v[NS_DONE_REC];
	size_t vlen;
	int rc;

	rc = kv_get(ns->db, KEYS_CF_DONE, key, keys_done(key, op_id, step, disc), v, sizeof(v),
		    &vlen);
	if (rc)
		return rc;
	if (vlen != NS_DONE_REC || v[0] != NS_DONE_VER) {
		log_error("ns: op %#llx: corrupt done record", (unsigned long long)op_id);
		return -EIO;
	}
	if (drop) {
		memset(drop, 0, sizeof(*drop));
		drop->ino = wire_get_le64(v + 9);
		drop->mode = wire_get_le32(v + 17);
		drop->nlink = wire_get_le32(v + 21);
		drop->remote = v[25] & NS_DONE_REMOTE;
		drop->orphaned = v[25] & NS_DONE_ORPHANED;
		drop->freed = v[25] & NS_DONE_FREED;
		drop->size = wire_get_le64(v + 26);
		drop->layout.pool_id = wire_get_le32(v + 34);
		drop->layout.chunk_size = wire_get_le32(v + 38);
		drop->layout.k = v[42];
		drop->layout.m = v[43];
	}
	return 0;
}

void ns_done_put(struct ns_txn *t, uint64_t op_id, uint8_t step, uint64_t disc,
		 const struct ns_drop *drop)
{
	static const struct ns_drop none;
	uint8_t key[KEYS_DONE_LEN], v[NS_DONE_REC];

	if (!drop)
		drop = &none;
	v[0] = NS_DONE_VER;
	wire_put_le64(v + 1, (uint64_t)t->now.sec);
	wire_put_le64(v + 9, drop->ino);
	wire_put_le32(v + 17, drop->mode);
	wire_put_le32(v + 21, drop->nlink);
	v[25] =
	    (uint8_t)((drop->remote ? NS_DONE_REMOTE : 0) |
		      (drop->orphaned ? NS_DONE_ORPHANED : 0) | (drop->freed ? NS_DONE_FREED : 0));
	wire_put_le64(v + 26, drop->size);
	wire_put_le32(v + 34, drop->layout.pool_id);
	wire_put_le32(v + 38, drop->layout.chunk_size);
	v[42] = drop->layout.k;
	v[43] = drop->layout.m;
	kv_batch_put(t->b, KEYS_CF_DONE, key, keys_done(key, op_id, step, disc), v, sizeof(v));
}

int ns_xop_check(const struct ns_xop *x)
{
	if (!x || x->op_id == 0 || x->intent > NS_INTENT_DEL)
		return -EINVAL;
	if (x->intent == NS_INTENT_PUT &&
	    ((!x->intent_data && x->intent_len) || x->intent_len > NS_INTENT_MAX))
		return -EINVAL;
	return 0;
}

void ns_xop_intent(struct ns_txn *t, const struct ns_xop *x)
{
	uint8_t key[KEYS_U64_LEN];

	keys_u64(key, x->op_id);
	if (x->intent == NS_INTENT_PUT)
		kv_batch_put(t->b, KEYS_CF_INTENT, key, sizeof(key),
			     x->intent_len ? x->intent_data : "", x->intent_len);
	else if (x->intent == NS_INTENT_DEL)
		kv_batch_del(t->b, KEYS_CF_INTENT, key, sizeof(key));
}

int ns_xop_commit(struct ns_txn *t, const struct ns_xop *x, uint8_t step, uint64_t disc,
		  const struct ns_drop *drop)
{
	if (step)
		ns_done_put(t, x->op_id, step, disc, drop);
	ns_xop_intent(t, x);
	return ns_txn_commit(t, x->sync);
}

/* ---- intents ---- */

static int ns_single_write(struct ns *ns, unsigned cf, const void *key, size_t klen,
			   const void *val, size_t vlen, bool del, bool sync)
{
	struct kv_batch *b = kv_batch_new(ns->db);
	int rc;

	if (!b)
		return -ENOMEM;
	if (del)
		kv_batch_del(b, cf, key, klen);
	else
		kv_batch_put(b, cf, key, klen, val, vlen);
	rc = kv_write(ns->db, b, sync);
	kv_batch_free(b);
	return rc;
}

int ns_intent_put(struct ns *ns, uint64_t op_id, const void *data, size_t len, bool sync)
{
	uint8_t key[KEYS_U64_LEN];

	if (op_id == 0 || len > NS_INTENT_MAX || (!data && len))
		return -EINVAL;
	keys_u64(key, op_id);
	return ns_single_write(ns, KEYS_CF_INTENT, key, sizeof(key), len ? data : "", len, false,
			       sync);
}

int ns_intent_del(struct ns *ns, uint64_t op_id, bool sync)
{
	uint8_t key[KEYS_U64_LEN];

	keys_u64(key, op_id);
	return ns_single_write(ns, KEYS_CF_INTENT, key, sizeof(key), NULL, 0, true, sync);
}

int ns_intent_get(struct ns *ns, uint64_t op_id, void *buf, size_t cap, size_t *len)
{
	uint8_t key[KEYS_U64_LEN];

	keys_u64(key, op_id);
	return kv_get(ns->db, KEYS_CF_INTENT, key, sizeof(key), buf, cap, len);
}

int ns_intent_list(struct ns *ns, ns_intent_fn fn, void *arg)
{
	struct kv_iter *it = kv_iter_new(ns->db, KEYS_CF_INTENT, NULL, 0);
	int rc = 0;

	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it) && rc == 0; kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const void *v = kv_iter_value(it, &vlen);
		uint64_t op;

		if (keys_u64_decode(k, klen, &op)) {
			log_error("ns: bad intent key");
			continue;
		}
		rc = fn(arg, op, v, vlen);
	}
	if (rc == 0)
		rc = kv_iter_status(it);
	kv_iter_free(it);
	return rc;
}

/* Deletes the done records of op (prefix != NULL) or those written at or
 * before cutoff. */
static int ns_done_sweep(struct ns *ns, const uint8_t *prefix, int64_t cutoff, uint64_t *removed)
{
	struct kv_batch *b = kv_batch_new(ns->db);
	struct kv_iter *it = kv_iter_new(ns->db, KEYS_CF_DONE, prefix, prefix ? KEYS_U64_LEN : 0);
	uint64_t n = 0;
	int rc;

	if (!b || !it) {
		rc = -ENOMEM;
		goto out;
	}
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const uint8_t *v = kv_iter_value(it, &vlen);

		if (!prefix && vlen == NS_DONE_REC && (int64_t)wire_get_le64(v + 1) > cutoff)
			continue;
		kv_batch_del(b, KEYS_CF_DONE, k, klen);
		n++;
	}
	rc = kv_iter_status(it);
	if (!rc)
		rc = kv_write(ns->db, b, false);
	if (!rc && removed)
		*removed = n;
out:
	kv_iter_free(it);
	kv_batch_free(b);
	return rc;
}

int ns_done_forget(struct ns *ns, uint64_t op_id)
{
	uint8_t prefix[KEYS_U64_LEN];

	keys_u64(prefix, op_id);
	return ns_done_sweep(ns, prefix, 0, NULL);
}

int ns_done_gc(struct ns *ns, uint64_t max_age_sec, uint64_t *removed)
{
	struct ns_time now;

	ns_now(&now);
	if (max_age_sec > (uint64_t)INT64_MAX)
		max_age_sec = (uint64_t)INT64_MAX;
	return ns_done_sweep(ns, NULL, now.sec - (int64_t)max_age_sec, removed);
}

/* ---- prepared inodes ---- */

static bool ns_prepared_type_ok(uint32_t mode)
{
	uint32_t type = mode & S_IFMT;

	if (mode & ~(uint32_t)(S_IFMT | 07777))
		return false;
	return type == S_IFDIR || type == S_IFREG || type == S_IFIFO || type == S_IFSOCK ||
	       type == S_IFCHR || type == S_IFBLK;
}

/* A repeated create_prepared: the inode it made, or why not. */
static int ns_prepared_again(struct ns *ns, const struct ns_xop *x, const struct ns_drop *done,
			     struct ns_attr *out)
{
	int rc = ns_done_get(ns, x->op_id, NS_STEP_ABORT_CREATE, 0, NULL);

	if (rc == 0)
		return -ECANCELED;
	if (rc != -ENOENT)
		return rc;
	rc = ns_getattr(ns, done->ino, out);
	return rc == -ENOENT ? -ECANCELED : rc;
}

int ns_inode_create_prepared(struct ns *ns, const struct ns_xop *x, uint32_t mode, uint32_t uid,
			     uint32_t gid, uint64_t rdev, uint64_t parent,
			     const struct ns_layout *layout, struct ns_attr *out)
{
	struct ns_inode in;
	struct ns_drop d;
	struct ns_txn t;
	int rc = ns_xop_check(x);

	if (rc || !ns_prepared_type_ok(mode) || !parent)
		return rc ? rc : -EINVAL;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &x->op_id, 1);
	rc = ns_done_get(ns, x->op_id, NS_STEP_CREATE, 0, &d);
	if (rc == 0) {
		rc = ns_prepared_again(ns, x, &d, out);
		goto out;
	}
	if (rc == -ENOENT)
		rc = ns_done_get(ns, x->op_id, NS_STEP_ABORT_CREATE, 0, NULL);
	if (rc == 0)
		rc = -ECANCELED;
	if (rc != -ENOENT)
		goto out;
	memset(&in, 0, sizeof(in));
	rc = ns_alloc_ino(ns, &in.a.ino);
	if (rc)
		goto out;
	in.a.mode = mode;
	in.a.uid = uid;
	in.a.gid = gid;
	in.a.generation = ns_new_generation(ns);
	in.a.atime = in.a.mtime = in.a.ctime = t.now;
	in.a.nlink = S_ISDIR(mode) ? 2 : 1;
	in.a.rdev = (S_ISCHR(mode) || S_ISBLK(mode)) ? rdev : 0;
	if (layout)
		in.a.layout = *layout;
	if (S_ISDIR(mode)) {
		in.a.parent = parent;
		in.next_seq = 3;
	}
	ns_inode_put(&t, &in);
	t.d_inodes++;
	ns_drop_fill(&d, &in, false, false);
	rc = ns_xop_commit(&t, x, NS_STEP_CREATE, 0, &d);
	if (!rc)
		*out = in.a;
out:
	ns_txn_end(&t);
	return rc;
}

/* Under the locks: deletes the prepared inode if still as created. */
static int ns_abort_locked(struct ns *ns, struct ns_txn *t, uint64_t ino)
{
	struct ns_inode in;
	int rc = ns_inode_get(ns, ino, &in);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (S_ISDIR(in.a.mode) ? (in.a.size != 0 || in.a.nlink != 2) : in.a.nlink != 1)
		return -EBUSY;
	in.a.nlink = 0;
	return ns_inode_release(t, &in, NULL);
}

int ns_inode_abort_prepared(struct ns *ns, const struct ns_xop *x, uint64_t ino)
{
	uint64_t need[2] = {x ? x->op_id : 0, ino};
	struct ns_drop made;
	struct ns_txn t;
	int rc = ns_xop_check(x);

	if (rc)
		return rc;
	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, need, 2);
	rc = ns_done_get(ns, x->op_id, NS_STEP_ABORT_CREATE, 0, NULL);
	if (rc != -ENOENT)
		goto out; /* 0: already aborted */
	rc = ns_done_get(ns, x->op_id, NS_STEP_CREATE, 0, &made);
	if (rc == 0 && made.ino != ino)
		rc = -EINVAL;
	else if (rc == 0)
		rc = ns_abort_locked(ns, &t, ino);
	else if (rc == -ENOENT)
		rc = 0; /* never created: remember, so a late create gives up */
	if (!rc)
		rc = ns_xop_commit(&t, x, NS_STEP_ABORT_CREATE, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_inode_nlink_adjust(struct ns *ns, const struct ns_xop *x, uint64_t ino, int32_t delta,
			  struct ns_drop *drop)
{
	struct ns_inode in;
	struct ns_drop d;
	struct ns_txn t;
	int64_t n;
	int rc = ns_xop_check(x);

	if (rc)
		return rc;
	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	rc = ns_done_get(ns, x->op_id, NS_STEP_NLINK, ino, &d);
	if (rc != -ENOENT)
		goto out_drop;
	rc = ns_inode_get(ns, ino, &in);
	if (rc)
		goto out;
	n = (int64_t)in.a.nlink + delta;
	if (S_ISDIR(in.a.mode))
		rc = -EISDIR;
	else if (n < 0)
		rc = -EINVAL;
	else if (n > NS_LINK_MAX)
		rc = -EMLINK;
	else if (in.a.nlink == 0 && delta > 0)
		rc = -ENOENT; /* unlinked while open: cannot come back */
	if (rc)
		goto out;
	in.a.nlink = (uint32_t)n;
	rc = ns_inode_release(&t, &in, &d);
	if (!rc)
		rc = ns_xop_commit(&t, x, NS_STEP_NLINK, ino, &d);
out_drop:
	if (!rc && drop)
		*drop = d;
out:
	ns_txn_end(&t);
	return rc;
}

/* ---- remote directory removal ---- */

/* Locks and reads directory ino for a remove step. */
static int ns_rmdir_begin(struct ns *ns, struct ns_txn *t, uint64_t ino, struct ns_inode *in)
{
	int rc;

	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, t);
	if (rc)
		return rc;
	ns_txn_lock(t, &ino, 1);
	rc = ns_inode_get(ns, ino, in);
	if (!rc && !S_ISDIR(in->a.mode))
		rc = -ENOTDIR;
	return rc;
}

int ns_dir_prepare_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc = ns_xop_check(x);

	if (!rc)
		rc = ns_rmdir_begin(ns, &t, ino, &in);
	if (rc)
		goto out;
	if (in.rm_op == x->op_id)
		goto out; /* already prepared */
	if (ino == NS_ROOT_INO || in.rm_op)
		rc = -EBUSY;
	else if (in.a.nlink == 0)
		rc = -ENOENT;
	else if (in.a.size > 0)
		rc = -ENOTEMPTY;
	if (rc)
		goto out;
	in.rm_op = x->op_id;
	ns_inode_put(&t, &in);
	rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_dir_commit_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc = ns_xop_check(x);

	if (!rc)
		rc = ns_rmdir_begin(ns, &t, ino, &in);
	if (rc == -ENOENT && t.b) {
		rc = 0; /* already gone: a repeat */
		goto out;
	}
	if (rc)
		goto out;
	if (in.rm_op != x->op_id) {
		rc = -EINVAL;
		goto out;
	}
	if (in.a.nlink == 0)
		goto out; /* committed before, kept while open */
	in.a.nlink = 0;
	rc = ns_inode_release(&t, &in, NULL);
	if (!rc)
		rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_dir_abort_remove(struct ns *ns, const struct ns_xop *x, uint64_t ino)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc = ns_xop_check(x);

	if (!rc)
		rc = ns_rmdir_begin(ns, &t, ino, &in);
	if (rc == -ENOENT && t.b) {
		rc = 0; /* gone: nothing to undo */
		goto out;
	}
	if (rc || in.rm_op != x->op_id || in.a.nlink == 0)
		goto out;
	in.rm_op = 0;
	ns_inode_put(&t, &in);
	rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_dir_set_parent(struct ns *ns, const struct ns_xop *x, uint64_t ino, uint64_t parent)
{
	struct ns_inode in;
	struct ns_txn t = {0};
	int rc = ns_xop_check(x);

	if (rc || !parent)
		return rc ? rc : -EINVAL;
	/* Parent links change only under the rename lock (ancestry walks). */
	pthread_mutex_lock(&ns->rename_lock);
	rc = ns_rmdir_begin(ns, &t, ino, &in);
	t.rename_locked = t.b != NULL;
	if (!t.rename_locked)
		pthread_mutex_unlock(&ns->rename_lock);
	if (rc)
		goto out;
	if (ino == NS_ROOT_INO) {
		rc = -EBUSY;
		goto out;
	}
	in.a.parent = parent;
	in.a.ctime = t.now;
	ns_inode_put(&t, &in);
	rc = ns_xop_commit(&t, x, 0, 0, NULL);
out:
	ns_txn_end(&t);
	return rc;
}
