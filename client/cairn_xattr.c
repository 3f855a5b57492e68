/*
 * cairn_xattr.c - libcairn: extended attributes (get, set, list, remove),
 * served by the inode's home shard.
 *
 * Threads: any.  SETXATTR bodies are allocated per call (a value may be
 * 64 KiB); the others are encoded on the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/mdsc.h"
#include "common/rpc.h"
#include "proto/mds.h"

/* Routes to ino's shard, fills the credential and checks the name. */
static int xattr_begin(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		       const char *name, uint16_t *shard, struct proto_cred *pc,
		       struct proto_str *pname)
{
	size_t len;
	int rc;

	if (!c)
		return -EINVAL;
	rc = cairn_ino_arg(c, ino, shard);
	if (rc)
		return rc;
	if (pname) {
		if (!name)
			return -EINVAL;
		len = strnlen(name, CAIRN_XATTR_NAME_MAX + 1);
		if (len == 0 || len > CAIRN_XATTR_NAME_MAX)
			return -ERANGE;
		*pname = (struct proto_str){.ptr = name, .len = (uint16_t)len};
	}
	return cairn_cred_get(cred, pc);
}

/* Copies a (size, blob) reply: size only when cap is 0, else -ERANGE or the bytes. */
static int copy_value(uint32_t size, const struct proto_blob *v, void *buf, size_t cap, size_t *len)
{
	*len = size;
	if (cap == 0)
		return 0;
	if (cap < size || v->len != size)
		return -ERANGE;
	if (size)
		memcpy(buf, v->ptr, size);
	return 0;
}

int cairn_getxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, const char *name,
		   void *buf, size_t cap, size_t *len)
{
	struct proto_mds_getxattr_req m = {.ino = ino};
	struct proto_mds_getxattr_rep rep;
	uint8_t body[CAIRN_REQ_MAX];
	struct rpc_msg *resp;
	struct wire_enc e;
	struct wire_dec d;
	uint16_t shard;
	int rc;

	if (!len || (cap && !buf))
		return -EINVAL;
	rc = xattr_begin(c, cred, ino, name, &shard, &m.cred, &m.name);
	if (rc)
		return rc;
	m.size = cap > CAIRN_XATTR_SIZE_MAX ? CAIRN_XATTR_SIZE_MAX : (uint32_t)cap;
	wire_enc_init(&e, body, sizeof(body));
	proto_mds_getxattr_req_encode(&m, &e);
	rc = cairn_send(c, shard, PROTO_OP_MDS_GETXATTR, &e, &resp);
	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_getxattr_rep_decode(&d, &rep), PROTO_OP_MDS_GETXATTR);
	if (!rc)
		rc = copy_value(rep.size, &rep.value, buf, cap, len);
	rpc_msg_free(resp);
	return rc;
}

int cairn_setxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, const char *name,
		   const void *value, size_t len, int flags)
{
	struct proto_mds_setxattr_req m = {.ino = ino};
	size_t cap = CAIRN_REQ_MAX + len;
	struct wire_enc e;
	uint16_t shard;
	uint8_t *body;
	int rc;

	if ((flags & ~(CAIRN_XATTR_CREATE | CAIRN_XATTR_REPLACE)) ||
	    flags == (CAIRN_XATTR_CREATE | CAIRN_XATTR_REPLACE) || (len && !value))
		return -EINVAL;
	rc = xattr_begin(c, cred, ino, name, &shard, &m.cred, &m.name);
	if (rc)
		return rc;
	if (len > CAIRN_XATTR_SIZE_MAX)
		return -E2BIG;
	m.value = (struct proto_blob){.ptr = value, .len = (uint32_t)len};
	m.flags = (flags & CAIRN_XATTR_CREATE ? PROTO_MDS_XATTR_CREATE : 0) |
		  (flags & CAIRN_XATTR_REPLACE ? PROTO_MDS_XATTR_REPLACE : 0);
	body = malloc(cap);
	if (!body)
		return -ENOMEM;
	wire_enc_init(&e, body, cap);
	proto_mds_setxattr_req_encode(&m, &e);
	rc = cairn_send_empty(c, shard, PROTO_OP_MDS_SETXATTR, &e);
	free(body);
	return rc;
}

int cairn_listxattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino, char *buf,
		    size_t cap, size_t *len)
{
	struct proto_mds_listxattr_req m = {.ino = ino};
	struct proto_mds_listxattr_rep rep;
	uint8_t body[CAIRN_REQ_MAX];
	struct rpc_msg *resp;
	struct wire_enc e;
	struct wire_dec d;
	uint16_t shard;
	int rc;

	if (!len || (cap && !buf))
		return -EINVAL;
	rc = xattr_begin(c, cred, ino, NULL, &shard, &m.cred, NULL);
	if (rc)
		return rc;
	m.size = cap > CAIRN_XATTR_SIZE_MAX ? CAIRN_XATTR_SIZE_MAX : (uint32_t)cap;
	wire_enc_init(&e, body, sizeof(body));
	proto_mds_listxattr_req_encode(&m, &e);
	rc = cairn_send(c, shard, PROTO_OP_MDS_LISTXATTR, &e, &resp);
	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_listxattr_rep_decode(&d, &rep), PROTO_OP_MDS_LISTXATTR);
	if (!rc)
		rc = copy_value(rep.size, &rep.list, buf, cap, len);
	rpc_msg_free(resp);
	return rc;
}

int cairn_removexattr(struct cairn *c, const struct cairn_cred *cred, uint64_t ino,
		      const char *name)
{
	struct proto_mds_removexattr_req m = {.ino = ino};
	uint8_t body[CAIRN_REQ_MAX];
	struct wire_enc e;
	uint16_t shard;
	int rc;

	rc = xattr_begin(c, cred, ino, name, &shard, &m.cred, &m.name);
	if (rc)
		return rc;
	wire_enc_init(&e, body, sizeof(body));
	proto_mds_removexattr_req_encode(&m, &e);
	return cairn_send_empty(c, shard, PROTO_OP_MDS_REMOVEXATTR, &e);
}
