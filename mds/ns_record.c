/*
 * ns_record.c - encoding of inode and dentry records (formats in
 * ns_int.h), and the helpers that read or queue one record: inode get/put,
 * dentry get/put/delete, deleting an inode with its satellites.
 *
 * Threads: stateless; callers hold the stripe locks of what they change.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"
#include "proto/wire.h"

#define NS_INODE_VER 1
#define NS_DENTRY_VER 1

static void enc_time(struct wire_enc *e, const struct ns_time *t)
{
	wire_enc_u64(e, (uint64_t)t->sec);
	wire_enc_u32(e, t->nsec);
}

static void dec_time(struct wire_dec *d, struct ns_time *t)
{
	t->sec = (int64_t)wire_dec_u64(d);
	t->nsec = wire_dec_u32(d);
	if (t->nsec >= 1000000000u)
		wire_dec_fail(d);
}

size_t ns_inode_encode(const struct ns_inode *in, uint8_t *buf, size_t cap)
{
	const struct ns_attr *a = &in->a;
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, buf, cap);
	wire_enc_u8(&e, NS_INODE_VER);
	wire_enc_u32(&e, a->mode);
	wire_enc_u32(&e, a->uid);
	wire_enc_u32(&e, a->gid);
	wire_enc_u32(&e, a->nlink);
	wire_enc_u64(&e, a->size);
	wire_enc_u64(&e, a->rdev);
	enc_time(&e, &a->atime);
	enc_time(&e, &a->mtime);
	enc_time(&e, &a->ctime);
	wire_enc_u64(&e, a->generation);
	wire_enc_u32(&e, a->flags);
	wire_enc_u32(&e, in->iflags);
	wire_enc_u32(&e, a->layout.pool_id);
	wire_enc_u32(&e, a->layout.chunk_size);
	wire_enc_u8(&e, a->layout.k);
	wire_enc_u8(&e, a->layout.m);
	if (S_ISDIR(a->mode)) {
		wire_enc_u64(&e, a->parent);
		wire_enc_u64(&e, in->next_seq);
		wire_enc_u64(&e, in->rm_op);
	}
	if (wire_enc_finish(&e, &len) != 0)
		return 0;
	return len;
}

int ns_inode_decode(uint64_t ino, const void *buf, size_t len, struct ns_inode *in)
{
	struct ns_attr *a = &in->a;
	struct wire_dec d;

	memset(in, 0, sizeof(*in));
	wire_dec_init(&d, buf, len);
	if (wire_dec_u8(&d) != NS_INODE_VER)
		wire_dec_fail(&d);
	a->ino = ino;
	a->mode = wire_dec_u32(&d);
	a->uid = wire_dec_u32(&d);
	a->gid = wire_dec_u32(&d);
	a->nlink = wire_dec_u32(&d);
	a->size = wire_dec_u64(&d);
	a->rdev = wire_dec_u64(&d);
	dec_time(&d, &a->atime);
	dec_time(&d, &a->mtime);
	dec_time(&d, &a->ctime);
	a->generation = wire_dec_u64(&d);
	a->flags = wire_dec_u32(&d);
	in->iflags = wire_dec_u32(&d);
	a->layout.pool_id = wire_dec_u32(&d);
	a->layout.chunk_size = wire_dec_u32(&d);
	a->layout.k = wire_dec_u8(&d);
	a->layout.m = wire_dec_u8(&d);
	if (S_ISDIR(a->mode)) {
		a->parent = wire_dec_u64(&d);
		in->next_seq = wire_dec_u64(&d);
		in->rm_op = wire_dec_u64(&d);
	}
	if (wire_dec_finish(&d) != 0) {
		log_error("ns: inode %#llx: corrupt record (%zu bytes)", (unsigned long long)ino,
			  len);
		return -EIO;
	}
	return 0;
}

int ns_inode_get(struct ns *ns, uint64_t ino, struct ns_inode *in)
{
	uint8_t key[KEYS_U64_LEN], val[NS_REC_MAX];
	size_t vlen;
	int rc;

	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	keys_u64(key, ino);
	rc = kv_get(ns->db, KEYS_CF_INODE, key, sizeof(key), val, sizeof(val), &vlen);
	if (rc)
		return rc;
	if (vlen > sizeof(val)) {
		log_error("ns: inode %#llx: record too long (%zu bytes)", (unsigned long long)ino,
			  vlen);
		return -EIO;
	}
	return ns_inode_decode(ino, val, vlen, in);
}

void ns_inode_put(struct ns_txn *t, const struct ns_inode *in)
{
	uint8_t key[KEYS_U64_LEN], val[NS_REC_MAX];
	size_t vlen = ns_inode_encode(in, val, sizeof(val));

	keys_u64(key, in->a.ino);
	kv_batch_put(t->b, KEYS_CF_INODE, key, sizeof(key), val, vlen);
}

/* Queues deletes of every extended attribute of ino. */
static int ns_xattrs_delete(struct ns_txn *t, uint64_t ino)
{
	uint8_t prefix[KEYS_U64_LEN];
	struct kv_iter *it;
	int rc;

	keys_u64(prefix, ino);
	it = kv_iter_new(t->ns->db, KEYS_CF_XATTR, prefix, sizeof(prefix));
	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen;
		const void *k = kv_iter_key(it, &klen);

		kv_batch_del(t->b, KEYS_CF_XATTR, k, klen);
	}
	rc = kv_iter_status(it);
	kv_iter_free(it);
	return rc;
}

int ns_inode_delete(struct ns_txn *t, const struct ns_inode *in)
{
	uint8_t key[KEYS_U64_LEN];
	int rc = 0;

	keys_u64(key, in->a.ino);
	kv_batch_del(t->b, KEYS_CF_INODE, key, sizeof(key));
	if (S_ISLNK(in->a.mode))
		kv_batch_del(t->b, KEYS_CF_SYMLINK, key, sizeof(key));
	if (in->iflags & NS_IF_ORPHAN)
		kv_batch_del(t->b, KEYS_CF_ORPHAN, key, sizeof(key));
	if (in->iflags & NS_IF_XATTR)
		rc = ns_xattrs_delete(t, in->a.ino);
	t->d_inodes--;
	if (S_ISREG(in->a.mode)) {
		t->d_bytes -= (int64_t)in->a.size;
		ns_purge_queue(t, in);
	}
	return rc;
}

void ns_drop_fill(struct ns_drop *d, const struct ns_inode *in, bool orphaned, bool freed)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	d->ino = in->a.ino;
	d->mode = in->a.mode;
	d->nlink = in->a.nlink;
	d->orphaned = orphaned;
	d->freed = freed;
	d->size = in->a.size;
	d->layout = in->a.layout;
}

int ns_inode_release(struct ns_txn *t, struct ns_inode *in, struct ns_drop *drop)
{
	uint8_t key[KEYS_U64_LEN];
	int rc;

	in->a.ctime = t->now;
	if (in->a.nlink > 0) {
		ns_inode_put(t, in);
		ns_drop_fill(drop, in, false, false);
		return 0;
	}
	if (ns_open_count(t->ns, in->a.ino) > 0) {
		in->iflags |= NS_IF_ORPHAN;
		keys_u64(key, in->a.ino);
		kv_batch_put(t->b, KEYS_CF_ORPHAN, key, sizeof(key), "", 0);
		ns_inode_put(t, in);
		ns_drop_fill(drop, in, true, false);
		return 0;
	}
	rc = ns_inode_delete(t, in);
	ns_drop_fill(drop, in, false, true);
	return rc;
}

size_t ns_dentry_encode(const struct ns_dentry *de, uint8_t *buf)
{
	buf[0] = NS_DENTRY_VER;
	wire_put_le64(buf + 1, de->ino);
	buf[9] = (uint8_t)(de->type >> 12);
	wire_put_le64(buf + 10, de->seq);
	wire_put_le64(buf + 18, de->pin);
	return NS_DENTRY_REC;
}

int ns_dentry_decode(const void *buf, size_t len, struct ns_dentry *de)
{
	const uint8_t *p = buf;

	if (len != NS_DENTRY_REC || p[0] != NS_DENTRY_VER) {
		log_error("ns: corrupt dentry record (%zu bytes)", len);
		return -EIO;
	}
	de->ino = wire_get_le64(p + 1);
	de->type = (uint32_t)p[9] << 12;
	de->seq = wire_get_le64(p + 10);
	de->pin = wire_get_le64(p + 18);
	return 0;
}

int ns_dentry_get(struct ns *ns, uint64_t parent, const char *name, size_t nlen,
		  struct ns_dentry *de)
{
	uint8_t key[KEYS_NAMED_MAX], val[NS_DENTRY_REC];
	size_t klen = keys_named(key, parent, name, nlen), vlen;
	int rc;

	rc = kv_get(ns->db, KEYS_CF_DENTRY, key, klen, val, sizeof(val), &vlen);
	if (rc)
		return rc;
	return ns_dentry_decode(val, vlen, de);
}

void ns_dentry_put(struct ns_txn *t, uint64_t parent, const char *name, size_t nlen,
		   const struct ns_dentry *de)
{
	uint8_t key[KEYS_NAMED_MAX], val[9 + NS_NAME_MAX], rec[NS_DENTRY_REC];
	size_t klen = keys_named(key, parent, name, nlen);

	ns_dentry_encode(de, rec);
	kv_batch_put(t->b, KEYS_CF_DENTRY, key, klen, rec, sizeof(rec));
	klen = keys_dirseq(key, parent, de->seq);
	wire_put_le64(val, de->ino);
	val[8] = (uint8_t)(de->type >> 12);
	memcpy(val + 9, name, nlen);
	kv_batch_put(t->b, KEYS_CF_DIRSEQ, key, klen, val, 9 + nlen);
}

void ns_dentry_del(struct ns_txn *t, uint64_t parent, const char *name, size_t nlen,
		   const struct ns_dentry *de)
{
	uint8_t key[KEYS_NAMED_MAX];
	size_t klen = keys_named(key, parent, name, nlen);

	kv_batch_del(t->b, KEYS_CF_DENTRY, key, klen);
	klen = keys_dirseq(key, parent, de->seq);
	kv_batch_del(t->b, KEYS_CF_DIRSEQ, key, klen);
}

int ns_name_check(const char *name, size_t nlen)
{
	if (nlen == 0 || !name)
		return -EINVAL;
	if (nlen > NS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', nlen) || memchr(name, '\0', nlen))
		return -EINVAL;
	if (name[0] == '.' && (nlen == 1 || (nlen == 2 && name[1] == '.')))
		return (int)nlen;
	return 0;
}

int ns_dir_check_modify(const struct ns_cred *cred, const struct ns_inode *dir)
{
	if (!S_ISDIR(dir->a.mode))
		return -ENOTDIR;
	if (dir->a.nlink == 0 || dir->rm_op != 0)
		return -ENOENT;
	if (cred)
		return ns_perm(cred, &dir->a, NS_MAY_WRITE | NS_MAY_EXEC);
	return 0;
}

void ns_dir_touch(struct ns_txn *t, struct ns_inode *dir, int d_entries)
{
	dir->a.mtime = t->now;
	dir->a.ctime = t->now;
	dir->a.size = (uint64_t)((int64_t)dir->a.size + d_entries);
}
