/*
 * mdsc.h - libcairn internal: the metadata client.  One RPC connection per
 * MDS shard over a shared engine, request routing helpers, retries of
 * idempotent reads, parallel fan-out, and the cluster map (fetched from
 * shard 0 and watched by a background thread).
 *
 * Routing (which shard serves an opcode) is the caller's choice of the
 * shard argument; mdsc_ino_shard() gives an inode's home shard.  The rules:
 * LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, UNLINK, RMDIR, READDIR go to the
 * parent directory's shard; GETATTR, SETATTR, OPEN, CLOSE, FSYNC, READLINK
 * and the xattr opcodes to the inode's; LINK to the new parent's; RENAME to
 * the old parent's; STATFS to every shard; the cluster map opcodes to 0.
 *
 * Threads: every function except mdsc_free() may be called from any thread
 * at once.  The map thread (if started) long-polls MAP_GET on shard 0 and
 * swaps in each newer map under map_lock; readers take a reference.
 *
 * Ownership: the mdsc borrows the cfg and the key given to mdsc_new() for
 * its whole life.  Responses returned by the call functions belong to the
 * caller (rpc_msg_free).
 */
#ifndef CAIRN_CLIENT_MDSC_H
#define CAIRN_CLIENT_MDSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/map.h"
#include "proto/wire.h"

struct auth_key;
struct cfg;
struct mdsc;
struct rpc_client;
struct rpc_msg;

struct mdsc_opts {
	int timeout_ms; /* per request; 0: cfg rpc.timeout_ms */
	bool watch_map; /* start the map thread */
};

/*
 * Creates the engine and one client per shard of cfg (connecting in the
 * background) and, with watch_map, the map thread.  Returns 0 and *out,
 * -EINVAL (bad transport or address), -ENOMEM, or -errno from the RPC layer.
 */
int mdsc_new(const struct cfg *cfg, const struct auth_key *key, const struct mdsc_opts *o,
	     struct mdsc **out);

/* Stops the map thread, closes every connection.  NULL is allowed. */
void mdsc_free(struct mdsc *m);

uint16_t mdsc_nshards(const struct mdsc *m);

/* The address of a shard ("host:port"), or NULL for no such shard. */
const char *mdsc_shard_addr(const struct mdsc *m, uint16_t shard);

/*
 * The RPC client of a shard (NULL for no such shard), for modules that
 * speak their own opcodes to the shards (fsck).  Owned by the mdsc.
 */
struct rpc_client *mdsc_client(const struct mdsc *m, uint16_t shard);

/*
 * The RPC client of the OSD at addr (alen bytes, not NUL-terminated), on
 * the mdsc's engine; created on first use and kept until mdsc_free().
 * Returns 0 and *out, -EINVAL (bad address), -ENOMEM, or -errno of the RPC
 * layer.
 */
int mdsc_osd_client(struct mdsc *m, const char *addr, size_t alen, struct rpc_client **out);

/* An inode's home shard.  Returns 0, -EINVAL (ino 0), -ESTALE (no such shard). */
int mdsc_ino_shard(const struct mdsc *m, uint64_t ino, uint16_t *shard);

/* True for the opcodes that only read, which are retried after -ECONNRESET. */
bool mdsc_op_idempotent(uint16_t opcode);

/*
 * One request to one shard, waiting for its answer.  Returns 0 with *resp
 * (the caller frees it), or the status: the server's -errno, or a local
 * failure (rpc.h), *resp NULL.  Idempotent opcodes are resent up to
 * MDSC_RETRIES times after -ECONNRESET.  timeout_ms 0: the default.
 */
int mdsc_call(struct mdsc *m, uint16_t shard, uint16_t opcode, const void *body, size_t len,
	      int timeout_ms, struct rpc_msg **resp);

#define MDSC_RETRIES 3

/* One request of a fan-out. */
struct mdsc_req {
	uint16_t shard;
	uint16_t opcode;
	const void *body; /* copied when sent */
	uint32_t len;
	int timeout_ms;	      /* 0: the default */
	int status;	      /* out: as mdsc_call() returns */
	struct rpc_msg *resp; /* out: on status 0; the caller frees it */
};

/*
 * Sends every request at once and waits for all answers (retrying the
 * idempotent ones as mdsc_call() does).  Results are per request.
 */
void mdsc_call_many(struct mdsc *m, struct mdsc_req *reqs, size_t n);

/*
 * Reply decoding: mdsc_dec_init() points d at resp's body (with the
 * connection's protocol version); mdsc_dec_check() passes a codec's result
 * through, turning a malformed body (-CAIRN_EBADFRAME) into -EIO, logged
 * with the opcode.
 */
void mdsc_dec_init(struct wire_dec *d, const struct rpc_msg *resp);
int mdsc_dec_check(int rc, uint16_t opcode);

/* ---- the cluster map ---- */

/* A map snapshot shared by its readers. */
struct mdsc_map {
	struct proto_map map;
	atomic_int refs; /* private */
};

/* The newest known epoch, 0 before the first map arrived. */
uint64_t mdsc_map_epoch(const struct mdsc *m);

/*
 * Fetches the whole map from shard 0 and installs it if it is newer.
 * Returns 0 and *epoch (the client's epoch afterwards; may be NULL), or
 * the errors of mdsc_call() and -EIO (malformed map).
 */
int mdsc_map_refresh(struct mdsc *m, uint64_t *epoch);

/*
 * A reference to the newest map (release with mdsc_map_put), fetching one
 * first if the client has none.  Returns 0 or mdsc_map_refresh()'s errors.
 */
int mdsc_map_get(struct mdsc *m, struct mdsc_map **out);
void mdsc_map_put(struct mdsc_map *mm);

#endif
