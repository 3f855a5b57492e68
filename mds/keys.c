/*
 * keys.c - key encoders and decoders of keys.h.  Stateless.
 */
#include "mds/keys.h"

#include <errno.h>
#include <string.h>

#include "proto/wire.h"

/*
 * Bloom filters where point lookups often miss: a create probes a dentry
 * that usually does not exist, and the kernel asks for xattrs (such as
 * security.capability) that usually do not exist.
 */
const struct kv_cf_desc keys_cfs[KEYS_CF_COUNT] = {
    [KEYS_CF_META] = {.name = "meta"},
    [KEYS_CF_INODE] = {.name = "inode"},
    [KEYS_CF_DENTRY] = {.name = "dentry", .bloom = true},
    [KEYS_CF_DIRSEQ] = {.name = "dirseq"},
    [KEYS_CF_XATTR] = {.name = "xattr", .bloom = true},
    [KEYS_CF_SYMLINK] = {.name = "symlink"},
    [KEYS_CF_ORPHAN] = {.name = "orphan"},
    [KEYS_CF_INTENT] = {.name = "intent"},
    [KEYS_CF_DONE] = {.name = "done"},
    [KEYS_CF_PURGE] = {.name = "purge"},
};

size_t keys_u64(uint8_t out[KEYS_U64_LEN], uint64_t v)
{
	wire_put_be64(out, v);
	return KEYS_U64_LEN;
}

int keys_u64_decode(const void *key, size_t klen, uint64_t *v)
{
	if (klen != KEYS_U64_LEN)
		return -EINVAL;
	*v = wire_get_be64(key);
	return 0;
}

size_t keys_named(uint8_t out[KEYS_NAMED_MAX], uint64_t id, const char *name, size_t nlen)
{
	if (nlen > KEYS_NAME_MAX)
		nlen = KEYS_NAME_MAX;
	wire_put_be64(out, id);
	if (nlen)
		memcpy(out + 8, name, nlen);
	return 8 + nlen;
}

int keys_named_decode(const void *key, size_t klen, uint64_t *id, const char **name, size_t *nlen)
{
	if (klen < 8 || klen > KEYS_NAMED_MAX)
		return -EINVAL;
	*id = wire_get_be64(key);
	*name = (const char *)key + 8;
	*nlen = klen - 8;
	return 0;
}

size_t keys_dirseq(uint8_t out[KEYS_DIRSEQ_LEN], uint64_t parent, uint64_t seq)
{
	wire_put_be64(out, parent);
	wire_put_be64(out + 8, seq);
	return KEYS_DIRSEQ_LEN;
}

int keys_dirseq_decode(const void *key, size_t klen, uint64_t *parent, uint64_t *seq)
{
	if (klen != KEYS_DIRSEQ_LEN)
		return -EINVAL;
	*parent = wire_get_be64(key);
	*seq = wire_get_be64((const uint8_t *)key + 8);
	return 0;
}

size_t keys_done(uint8_t out[KEYS_DONE_LEN], uint64_t op_id, uint8_t step, uint64_t disc)
{
	wire_put_be64(out, op_id);
	out[8] = step;
	wire_put_be64(out + 9, disc);
	return KEYS_DONE_LEN;
}

int keys_done_decode(const void *key, size_t klen, uint64_t *op_id, uint8_t *step, uint64_t *disc)
{
	const uint8_t *k = key;

	if (klen != KEYS_DONE_LEN)
		return -EINVAL;
	*op_id = wire_get_be64(k);
	*step = k[8];
	*disc = wire_get_be64(k + 9);
	return 0;
}

size_t keys_meta_stripe(uint8_t out[KEYS_META_STRIPE_LEN], uint16_t stripe)
{
	out[0] = 'S';
	out[1] = (uint8_t)(stripe >> 8);
	out[2] = (uint8_t)stripe;
	return KEYS_META_STRIPE_LEN;
}

int keys_meta_stripe_decode(const void *key, size_t klen, uint16_t *stripe)
{
	const uint8_t *k = key;

	if (klen != KEYS_META_STRIPE_LEN || k[0] != 'S')
		return -EINVAL;
	*stripe = (uint16_t)(k[1] << 8 | k[2]);
	return 0;
}
