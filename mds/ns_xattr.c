/*
 * ns_xattr.c - extended attributes: one key per (ino, name) in the xattr
 * column family.  Namespace rules follow Linux: "user." on regular files
 * and directories under the permission bits (a sticky directory's only by
 * its owner), "trusted." for root only (hidden from others), "security."
 * readable by all and written by root; anything else is -EOPNOTSUPP.
 *
 * Threads: readers take no lock; setxattr/removexattr lock the inode's
 * stripe (ns_int.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "mds/ns_int.h"

enum ns_xns {
	NS_XNS_USER,
	NS_XNS_TRUSTED,
	NS_XNS_SECURITY,
};

static const struct {
	const char *prefix;
	size_t len;
	enum ns_xns xns;
} ns_xns_table[] = {
    {"user.", 5, NS_XNS_USER},
    {"trusted.", 8, NS_XNS_TRUSTED},
    {"security.", 9, NS_XNS_SECURITY},
};

/* Returns 0 and the namespace, -ERANGE, -EINVAL, -EOPNOTSUPP. */
static int ns_xattr_name(const char *name, size_t nlen, enum ns_xns *xns)
{
	if (!name || nlen == 0 || nlen > NS_XATTR_NAME_MAX)
		return -ERANGE;
	if (memchr(name, '\0', nlen))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(ns_xns_table) / sizeof(ns_xns_table[0]); i++) {
		size_t pl = ns_xns_table[i].len;

		if (nlen >= pl && memcmp(name, ns_xns_table[i].prefix, pl) == 0) {
			if (nlen == pl)
				return -EINVAL;
			*xns = ns_xns_table[i].xns;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

static int ns_xattr_perm(const struct ns_cred *cred, const struct ns_inode *in, enum ns_xns xns,
			 bool write)
{
	switch (xns) {
	case NS_XNS_TRUSTED:
		if (cred->uid != 0)
			return write ? -EPERM : -ENODATA;
		return 0;
	case NS_XNS_SECURITY:
		return (write && cred->uid != 0) ? -EPERM : 0;
	case NS_XNS_USER:
		break;
	}
	if (!S_ISREG(in->a.mode) && !S_ISDIR(in->a.mode))
		return write ? -EPERM : -ENODATA;
	if (write && S_ISDIR(in->a.mode) && (in->a.mode & S_ISVTX) && !ns_cred_owns(cred, &in->a))
		return -EPERM;
	return ns_perm(cred, &in->a, write ? NS_MAY_WRITE : NS_MAY_READ);
}

/* setxattr and removexattr: value NULL with remove. */
static int ns_xattr_change(struct ns *ns, const struct ns_cred *cred, uint64_t ino,
			   const char *name, size_t nlen, const void *value, size_t vlen, int flags,
			   bool remove, bool sync)
{
	uint8_t key[KEYS_NAMED_MAX];
	size_t klen, cur;
	struct ns_inode in;
	struct ns_txn t;
	enum ns_xns xns;
	int rc;

	rc = ns_xattr_name(name, nlen, &xns);
	if (rc)
		return rc;
	if (ns_ino_shard(ino) != ns->shard)
		return -EREMOTE;
	rc = ns_txn_begin(ns, &t);
	if (rc)
		goto out;
	ns_txn_lock(&t, &ino, 1);
	rc = ns_inode_get(ns, ino, &in);
	if (!rc)
		rc = ns_xattr_perm(cred, &in, xns, true);
	if (rc)
		goto out;
	klen = keys_named(key, ino, name, nlen);
	rc = kv_get(ns->db, KEYS_CF_XATTR, key, klen, NULL, 0, &cur);
	if (rc && rc != -ENOENT)
		goto out;
	if (rc == 0 && (flags & NS_XATTR_CREATE)) {
		rc = -EEXIST;
		goto out;
	}
	if (rc == -ENOENT && (remove || (flags & NS_XATTR_REPLACE))) {
		rc = -ENODATA;
		goto out;
	}
	if (remove)
		kv_batch_del(t.b, KEYS_CF_XATTR, key, klen);
	else
		kv_batch_put(t.b, KEYS_CF_XATTR, key, klen, value, vlen);
	in.iflags |= NS_IF_XATTR;
	in.a.ctime = t.now;
	ns_inode_put(&t, &in);
	rc = ns_txn_commit(&t, sync);
out:
	ns_txn_end(&t);
	return rc;
}

int ns_setxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		size_t nlen, const void *value, size_t vlen, int flags, bool sync)
{
	if (flags & ~(NS_XATTR_CREATE | NS_XATTR_REPLACE) ||
	    flags == (NS_XATTR_CREATE | NS_XATTR_REPLACE))
		return -EINVAL;
	if (vlen > NS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (vlen && !value)
		return -EINVAL;
	return ns_xattr_change(ns, cred, ino, name, nlen, value, vlen, flags, false, sync);
}

int ns_removexattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		   size_t nlen, bool sync)
{
	return ns_xattr_change(ns, cred, ino, name, nlen, NULL, 0, 0, true, sync);
}

int ns_getxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, const char *name,
		size_t nlen, void *buf, size_t cap, size_t *vlen)
{
	uint8_t key[KEYS_NAMED_MAX];
	struct ns_inode in;
	enum ns_xns xns;
	int rc;

	rc = ns_xattr_name(name, nlen, &xns);
	if (!rc)
		rc = ns_inode_get(ns, ino, &in);
	if (!rc)
		rc = ns_xattr_perm(cred, &in, xns, false);
	if (rc)
		return rc;
	if (!(in.iflags & NS_IF_XATTR))
		return -ENODATA;
	rc = kv_get(ns->db, KEYS_CF_XATTR, key, keys_named(key, ino, name, nlen), buf, cap, vlen);
	if (rc == -ENOENT)
		return -ENODATA;
	if (rc == 0 && cap && *vlen > cap)
		return -ERANGE;
	return rc;
}

int ns_listxattr(struct ns *ns, const struct ns_cred *cred, uint64_t ino, char *buf, size_t cap,
		 size_t *len)
{
	uint8_t prefix[KEYS_U64_LEN];
	struct ns_inode in;
	struct kv_iter *it;
	size_t n = 0;
	int rc;

	*len = 0;
	rc = ns_inode_get(ns, ino, &in);
	if (rc || !(in.iflags & NS_IF_XATTR))
		return rc;
	it = kv_iter_new(ns->db, KEYS_CF_XATTR, prefix, keys_u64(prefix, ino));
	if (!it)
		return -ENOMEM;
	for (; kv_iter_valid(it); kv_iter_next(it)) {
		size_t klen, nlen;
		const void *k = kv_iter_key(it, &klen);
		const char *name;
		uint64_t id;

		if (keys_named_decode(k, klen, &id, &name, &nlen))
			continue;
		if (cred->uid != 0 && nlen >= 8 && memcmp(name, "trusted.", 8) == 0)
			continue;
		if (cap && n + nlen + 1 <= cap) {
			memcpy(buf + n, name, nlen);
			buf[n + nlen] = '\0';
		}
		n += nlen + 1;
	}
	rc = kv_iter_status(it);
	kv_iter_free(it);
	*len = n;
	if (!rc && cap && n > cap)
		rc = -ERANGE;
	return rc;
}
