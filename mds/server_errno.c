/*
 * server_errno.c - the status of a namespace request whose body does not
 * decode (server_int.h: srv_decode_errno).
 *
 * The decoders of proto/mds.h reject names that POSIX calls invalid (too
 * long, with '/' or NUL, "." or ".." as a new name) like any other
 * malformed body.  Applications must see the POSIX errno for those, so a
 * request that failed to decode is read again leniently up to its names:
 * when the fixed fields before a name are well formed and the name itself
 * is at fault, the answer is what ns_* would have said for that name;
 * anything else stays -CAIRN_EBADFRAME.  Only on the failure path; pure.
 */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/rpc.h"
#include "mds/server_int.h"

/* The errno of a bad entry name for op; 0 if the name is fine. */
static int name_errno(uint16_t op, const char *s, uint16_t len, bool is_new)
{
	bool dot = len == 1 && s[0] == '.';
	bool dotdot = len == 2 && s[0] == '.' && s[1] == '.';

	if (len > PROTO_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || memchr(s, '/', len) || memchr(s, '\0', len))
		return -EINVAL;
	if (!is_new || (!dot && !dotdot))
		return 0;
	switch (op) {
	case PROTO_OP_MDS_UNLINK:
		return -EISDIR;
	case PROTO_OP_MDS_RMDIR:
		return dot ? -EINVAL : -ENOTEMPTY;
	case PROTO_OP_MDS_RENAME:
		return -EBUSY;
	default: /* CREATE, MKNOD, MKDIR, SYMLINK, LINK: the name exists */
		return -EEXIST;
	}
}

static int target_errno(const char *s, uint16_t len)
{
	if (len > PROTO_SYMLINK_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT;
	return memchr(s, '\0', len) ? -EINVAL : 0;
}

/* xattr requests: cred, ino, name [, value blob]. */
static int xattr_errno(uint16_t op, struct wire_dec *d)
{
	uint16_t len;
	uint32_t vlen;
	const char *s;

	(void)wire_dec_u64(d);
	s = wire_dec_str(d, UINT16_MAX, &len);
	if (d->err)
		return -CAIRN_EBADFRAME;
	if (len == 0 || len > PROTO_XATTR_NAME_MAX || memchr(s, '\0', len))
		return -ERANGE;
	if (op != PROTO_OP_MDS_SETXATTR)
		return -CAIRN_EBADFRAME;
	(void)wire_dec_blob(d, UINT32_MAX, &vlen);
	if (!d->err && vlen > PROTO_XATTR_VALUE_MAX)
		return -E2BIG;
	return -CAIRN_EBADFRAME;
}

/* Requests with names: cred, u64 [, u64 for LINK], name, then per op. */
static int names_errno(uint16_t op, struct wire_dec *d)
{
	bool is_new = op != PROTO_OP_MDS_LOOKUP;
	uint16_t len;
	const char *s;
	int rc;

	(void)wire_dec_u64(d);
	if (op == PROTO_OP_MDS_LINK)
		(void)wire_dec_u64(d);
	s = wire_dec_str(d, UINT16_MAX, &len);
	if (d->err)
		return -CAIRN_EBADFRAME;
	rc = name_errno(op, s, len, is_new);
	if (rc)
		return rc;
	if (op == PROTO_OP_MDS_RENAME) {
		(void)wire_dec_u64(d);
		s = wire_dec_str(d, UINT16_MAX, &len);
		if (!d->err && (rc = name_errno(op, s, len, true)))
			return rc;
	} else if (op == PROTO_OP_MDS_SYMLINK) {
		s = wire_dec_str(d, UINT16_MAX, &len);
		if (!d->err && (rc = target_errno(s, len)))
			return rc;
	}
	return -CAIRN_EBADFRAME;
}

int srv_decode_errno(const struct rpc_msg *msg)
{
	uint16_t op = msg->hdr.opcode;
	struct proto_cred cred;
	struct wire_dec d;

	wire_dec_init(&d, msg->body, msg->body_len);
	wire_dec_set_version(&d, msg->hdr.version);
	proto_cred_decode(&d, &cred);
	if (d.err)
		return -CAIRN_EBADFRAME;
	switch (op) {
	case PROTO_OP_MDS_LOOKUP:
	case PROTO_OP_MDS_CREATE:
	case PROTO_OP_MDS_MKNOD:
	case PROTO_OP_MDS_MKDIR:
	case PROTO_OP_MDS_UNLINK:
	case PROTO_OP_MDS_RMDIR:
	case PROTO_OP_MDS_RENAME:
	case PROTO_OP_MDS_LINK:
	case PROTO_OP_MDS_SYMLINK:
		return names_errno(op, &d);
	case PROTO_OP_MDS_GETXATTR:
	case PROTO_OP_MDS_SETXATTR:
	case PROTO_OP_MDS_REMOVEXATTR:
		return xattr_errno(op, &d);
	default:
		return -CAIRN_EBADFRAME;
	}
}
