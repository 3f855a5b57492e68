/*
 * ns_purge.c - purge entries (ns.h, "purges"): the record that the write
 * batch deleting a regular file adds (ns_purge_queue, called by
 * ns_inode_delete), its codec (format in ns_int.h), and the listing,
 * progress and removal used by the daemon's purger (mds/purge.h).
 *
 * Threads: any thread.  Entries are created only inside the batch that
 * deletes their inode (under that inode's stripe lock) and changed or
 * removed only by the purger, one thread per shard, so no lock is needed:
 * an inode number is never reused, hence never queued twice.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mds/ns_int.h"
#include "proto/wire.h"

#define NS_PURGE_VER 1
#define NS_PURGE_WIDTH_MAX 255 /* chunk indices are 8 bits on the wire */

uint64_t ns_purge_stripes(const struct ns_purge *p)
{
	uint64_t ssize = (uint64_t)p->layout.k * p->layout.chunk_size;

	if (ssize == 0)
		return 0;
	return p->size / ssize + (p->size % ssize != 0);
}

size_t ns_purge_encode(const struct ns_purge *p, uint8_t *buf)
{
	buf[0] = NS_PURGE_VER;
	wire_put_le64(buf + 1, p->size);
	wire_put_le32(buf + 9, p->layout.pool_id);
	wire_put_le32(buf + 13, p->layout.chunk_size);
	buf[17] = p->layout.k;
	buf[18] = p->layout.m;
	wire_put_le64(buf + 19, p->next_stripe);
	return NS_PURGE_REC;
}

int ns_purge_decode(uint64_t ino, const void *buf, size_t len, struct ns_purge *p)
{
	const uint8_t *b = buf;

	memset(p, 0, sizeof(*p));
	if (len != NS_PURGE_REC || b[0] != NS_PURGE_VER)
		return -EIO;
	p->ino = ino;
	p->size = wire_get_le64(b + 1);
	p->layout.pool_id = wire_get_le32(b + 9);
	p->layout.chunk_size = wire_get_le32(b + 13);
	p->layout.k = b[17];
	p->layout.m = b[18];
	p->next_stripe = wire_get_le64(b + 19);
	if (ino == 0 || p->layout.k == 0 || p->layout.chunk_size == 0 ||
	    (unsigned)p->layout.k + p->layout.m > NS_PURGE_WIDTH_MAX ||
	    p->next_stripe > ns_purge_stripes(p))
		return -EIO;
	return 0;
}

void ns_purge_queue(struct ns_txn *t, const struct ns_inode *in)
{
	const struct ns_attr *a = &in->a;
	struct ns_purge p = {.ino = a->ino, .size = a->size, .layout = a->layout};
	uint8_t key[KEYS_U64_LEN], val[NS_PURGE_REC];

	if (!S_ISREG(a->mode) || a->size == 0 || a->layout.pool_id == 0 || a->layout.k == 0 ||
	    a->layout.chunk_size == 0)
		return;
	keys_u64(key, a->ino);
	kv_batch_put(t->b, KEYS_CF_PURGE, key, sizeof(key), val, ns_purge_encode(&p, val));
	t->purge_queued = true;
}

int ns_purge_list(struct ns *ns, uint64_t after, struct ns_purge *out, uint32_t max, uint32_t *n)
{
	uint8_t start[KEYS_U64_LEN];
	struct kv_iter *it;
	int rc;

	*n = 0;
	if (max == 0)
		return -EINVAL;
	if (after == UINT64_MAX)
		return 0;
	it = kv_iter_new(ns->db, KEYS_CF_PURGE, NULL, 0);
	if (!it)
		return -ENOMEM;
	kv_iter_seek(it, start, keys_u64(start, after + 1));
	for (; kv_iter_valid(it) && *n < max; kv_iter_next(it)) {
		size_t klen, vlen;
		const void *k = kv_iter_key(it, &klen);
		const void *v = kv_iter_value(it, &vlen);
		uint64_t ino;

		if (keys_u64_decode(k, klen, &ino) || ns_purge_decode(ino, v, vlen, &out[*n])) {
			log_error(
			    "ns: corrupt purge entry (key %zu bytes, value %zu bytes): skipped",
			    klen, vlen);
			continue;
		}
		(*n)++;
	}
	rc = kv_iter_status(it);
	kv_iter_free(it);
	return rc;
}

int ns_purge_get(struct ns *ns, uint64_t ino, struct ns_purge *out)
{
	uint8_t key[KEYS_U64_LEN], val[NS_PURGE_REC + 1];
	size_t vlen;
	int rc;

	keys_u64(key, ino);
	rc = kv_get(ns->db, KEYS_CF_PURGE, key, sizeof(key), val, sizeof(val), &vlen);
	if (rc)
		return rc;
	if (vlen > sizeof(val) || ns_purge_decode(ino, val, vlen, out)) {
		log_error("ns: purge entry %#llx: corrupt record (%zu bytes)",
			  (unsigned long long)ino, vlen);
		return -EIO;
	}
	return 0;
}

/* One put or delete of the purge column family, not synced. */
static int ns_purge_write(struct ns *ns, uint64_t ino, const struct ns_purge *p)
{
	struct kv_batch *b = kv_batch_new(ns->db);
	uint8_t key[KEYS_U64_LEN], val[NS_PURGE_REC];
	int rc;

	if (!b)
		return -ENOMEM;
	keys_u64(key, ino);
	if (p)
		kv_batch_put(b, KEYS_CF_PURGE, key, sizeof(key), val, ns_purge_encode(p, val));
	else
		kv_batch_del(b, KEYS_CF_PURGE, key, sizeof(key));
	rc = kv_write(ns->db, b, false);
	kv_batch_free(b);
	return rc;
}

int ns_purge_progress(struct ns *ns, const struct ns_purge *p)
{
	struct ns_purge cur;
	int rc;

	rc = ns_purge_get(ns, p->ino, &cur);
	if (rc)
		return rc;
	if (p->next_stripe > ns_purge_stripes(&cur))
		return -EINVAL;
	cur.next_stripe = p->next_stripe;
	return ns_purge_write(ns, p->ino, &cur);
}

int ns_purge_done(struct ns *ns, uint64_t ino)
{
	return ns_purge_write(ns, ino, NULL);
}
