/*
 * cairn_int.h - libcairn internal: the struct cairn behind the public
 * handle, and the helpers its API files share: credentials, argument
 * checks that give the POSIX errno before anything reaches the wire (a
 * body the MDS cannot decode would close the connection), attribute
 * conversion, and request/reply plumbing over mdsc.
 *
 * Everything here is stateless or read-only after cairn_open(), so any
 * thread may use it.
 */
#ifndef CAIRN_CLIENT_CAIRN_INT_H
#define CAIRN_CLIENT_CAIRN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/cairn.h"
#include "proto/mds.h"
#include "proto/wire.h"

struct auth_key;
struct cairn_locks;
struct cfg;
struct cinode_table;
struct mdsc;
struct rpc_msg;

struct cairn {
	struct cfg *cfg; /* owned, read-only */
	struct auth_key *key;
	struct mdsc *mdsc;
	struct cinode_table *inodes; /* open regular files (cinode.h) */
	struct cairn_locks *locks; /* the lock session (cairn_lock.c) */
};

/* Room for any request body but SETXATTR's value. */
#define CAIRN_REQ_MAX 8192

/*
 * Credentials for the wire: *in, or the process's own when in is NULL.
 * Returns 0, or -EINVAL (more than CAIRN_GROUPS_MAX groups, NULL groups),
 * -ENOMEM.
 */
int cairn_cred_get(const struct cairn_cred *in, struct proto_cred *out);

/*
 * Checks a name for a request: NULL or empty -EINVAL, over CAIRN_NAME_MAX
 * bytes -ENAMETOOLONG, a '/' -EINVAL; "." and ".." give dot_err unless it
 * is 0 (allowed).  Returns 0 and the string form for the wire.
 */
int cairn_name_arg(const char *name, int dot_err, struct proto_str *out);

/* The home shard of ino (-EINVAL for 0, -ESTALE for no such shard). */
int cairn_ino_arg(const struct cairn *c, uint64_t ino, uint16_t *shard);

/* open(2) flags to the wire's.  Returns 0 or -EINVAL (O_ACCMODE == 3). */
int cairn_open_flags(int flags, bool create, uint32_t *out);

void cairn_attr_from_proto(const struct proto_attr *p, uint32_t attr_valid_ms,
			   struct cairn_attr *a);
void cairn_attr_from_entry(const struct proto_mds_entry *e, struct cairn_attr *a);

/*
 * Sends the body encoded in e (-ENOMEM if it overflowed) and returns the
 * reply (0 and *resp) or the status, as mdsc_call().
 */
int cairn_send(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
	       struct rpc_msg **resp);

/* cairn_send() and decode of the reply kinds; out may be NULL. */
int cairn_send_empty(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e);
int cairn_send_entry(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		     struct cairn_attr *out);
int cairn_send_attr(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		    struct cairn_attr *out);
int cairn_send_open(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		    struct cairn_open_info *out);

/*
 * The lock session of c (cairn_lock.c): made by cairn_open() once c->mdsc
 * exists (0, -ENOMEM), ended by cairn_close() before the mdsc goes.
 */
int cairn_lock_init(struct cairn *c);
void cairn_lock_fini(struct cairn *c);

/* The metadata client of c (for the admin and future data modules). */
struct mdsc *cairn_mdsc(const struct cairn *c);

#endif
