/*
 * keys.h - the metadata shard's RocksDB schema: its column families and the
 * big-endian encoders and decoders of their keys.
 *
 * Keys are big-endian so byte order is numeric order: the dentries of one
 * directory are contiguous (parent ino + name), so are its readdir index
 * entries (parent ino + sequence number, in insertion order) and an inode's
 * extended attributes (ino + name).  Pure functions, no state, any thread.
 *
 * Column families (values are described where they are encoded, ns_int.h):
 *   meta     fixed names: format version, ino and op-id high-water marks,
 *            boot counter; per-lock-stripe usage counters
 *   inode    ino -> inode record
 *   dentry   parent ino + name -> child ino, type, readdir seq, pin
 *   dirseq   parent ino + seq -> child ino, type, name (readdir order)
 *   xattr    ino + name -> value
 *   symlink  ino -> target
 *   orphan   ino -> (empty): unlinked while open, freed at last close or
 *            at the next open of the database
 *   intent   op id -> opaque record of the cross-shard coordinator
 *   done     op id + step + discriminator -> result of an idempotent
 *            cross-shard step
 *   purge    ino -> size, layout and progress of a freed regular file
 *            whose chunks are still to be deleted on the OSDs (mds/purge.h)
 */
#ifndef CAIRN_MDS_KEYS_H
#define CAIRN_MDS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "mds/kv.h"

enum keys_cf {
	KEYS_CF_META = 0,
	KEYS_CF_INODE,
	KEYS_CF_DENTRY,
	KEYS_CF_DIRSEQ,
	KEYS_CF_XATTR,
	KEYS_CF_SYMLINK,
	KEYS_CF_ORPHAN,
	KEYS_CF_INTENT,
	KEYS_CF_DONE,
	KEYS_CF_PURGE,
	KEYS_CF_COUNT
};

/* Names and options of the column families, indexed by enum keys_cf. */
extern const struct kv_cf_desc keys_cfs[KEYS_CF_COUNT];

#define KEYS_NAME_MAX 255 /* longest entry or xattr name */
#define KEYS_U64_LEN 8
#define KEYS_DIRSEQ_LEN 16
#define KEYS_DONE_LEN 17
#define KEYS_NAMED_MAX (8 + KEYS_NAME_MAX) /* dentry or xattr key */

/* Fixed keys of the meta column family. */
#define KEYS_META_FORMAT "format"
#define KEYS_META_INO_HWM "ino_hwm"
#define KEYS_META_OP_HWM "op_hwm"
#define KEYS_META_BOOT "boot"
#define KEYS_META_STRIPE_LEN 3

/* ino, orphan, intent, symlink, purge keys: 8 bytes big-endian. */
size_t keys_u64(uint8_t out[KEYS_U64_LEN], uint64_t v);
/* Returns 0 and *v, or -EINVAL if klen is not 8. */
int keys_u64_decode(const void *key, size_t klen, uint64_t *v);

/*
 * parent + name (dentry) or ino + name (xattr).  out holds KEYS_NAMED_MAX
 * bytes; nlen must be <= KEYS_NAME_MAX (checked by callers; longer names are
 * cut, never overflow).  Returns the key length.
 */
size_t keys_named(uint8_t out[KEYS_NAMED_MAX], uint64_t id, const char *name, size_t nlen);
/*
 * Splits a named key.  *name points into key (not terminated).
 * Returns 0, or -EINVAL if the key is shorter than 8 bytes or the name is
 * longer than KEYS_NAME_MAX.
 */
int keys_named_decode(const void *key, size_t klen, uint64_t *id, const char **name, size_t *nlen);

/* parent + readdir sequence number. */
size_t keys_dirseq(uint8_t out[KEYS_DIRSEQ_LEN], uint64_t parent, uint64_t seq);
/* Returns 0, or -EINVAL if klen is not 16. */
int keys_dirseq_decode(const void *key, size_t klen, uint64_t *parent, uint64_t *seq);

/*
 * op id + step + discriminator (which entry or inode the step touched, so
 * one op may take the same kind of step twice on a shard).
 */
size_t keys_done(uint8_t out[KEYS_DONE_LEN], uint64_t op_id, uint8_t step, uint64_t disc);
/* Returns 0, or -EINVAL if klen is not KEYS_DONE_LEN. */
int keys_done_decode(const void *key, size_t klen, uint64_t *op_id, uint8_t *step, uint64_t *disc);

/* Usage counters of one lock stripe: 'S' + stripe (big-endian 16 bits). */
size_t keys_meta_stripe(uint8_t out[KEYS_META_STRIPE_LEN], uint16_t stripe);
/* Returns 0, or -EINVAL if the key is not a stripe counter key. */
int keys_meta_stripe_decode(const void *key, size_t klen, uint16_t *stripe);

#endif
