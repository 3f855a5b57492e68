/*
 * xshard_int.h - internals shared by the files of the cross-shard layer:
 * xshard.c (start/stop, peer calls, the step server, the rename lock),
 * xshard_rec.c (intent records), xshard_ops.c (mkdir, rmdir, unlink,
 * link), xshard_rename.c (rename and exchange), xshard_replay.c (replay
 * of pending intents).  Not for use outside mds/xshard*.c.
 *
 * An operation in flight is a struct xs_op on the stack of the thread
 * driving it (an RPC worker, or the replay thread); its op id is in the
 * active set of struct mds_xshard while it runs, so the replay never
 * drives an operation a worker is driving, and vice versa.
 */
#ifndef CAIRN_MDS_XSHARD_INT_H
#define CAIRN_MDS_XSHARD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mds/ns.h"
#include "mds/xshard.h"
#include "proto/peer.h"

/* What the client sees when a peer could not be reached (see xshard.h). */
#define XS_ECLIENT (-EIO)
/* Internal: the step could not reach its shard (or it failed to answer
 * coherently); the operation stays pending.  Never returned to a client. */
#define XS_EUNREACH (-EHOSTDOWN)
/* Internal: rename lost a race with a concurrent change; try again. */
#define XS_ERETRY (-EAGAIN)

#define XS_LEASE_MS 30000u	 /* rename lock lease */
#define XS_LOCK_WAIT_MS 20000	 /* how long a client's rename waits for it */
#define XS_PEER_TIMEOUT_MS 10000 /* one step; less than a client's timeout */
#define XS_WALK_MAX 4096	 /* shard hops of one ancestry walk */

/* Intent record: operation kinds and phases (persisted: never renumber). */
enum xs_kind {
	XS_MKDIR = 1,
	XS_RMDIR = 2,
	XS_UNLINK = 3,
	XS_LINK = 4,
	XS_RENAME = 5,
	XS_EXCHANGE = 6,
};

enum xs_phase {
	XS_PH_INTENT = 1,   /* mkdir, rmdir, link: recorded, nothing decided */
	XS_PH_COMMIT = 2,   /* rmdir: entry removed; remove the directory */
	XS_PH_UNLINKED = 3, /* unlink: entry removed; drop the link */
	XS_PH_PINNED = 4,   /* rename: source entry pinned */
	XS_PH_LINKING = 5,  /* rename: target side prepared; link (maybe done) */
	XS_PH_FINISH = 6,   /* rename: source entry removed; clean up */
	XS_PH_UNDO = 7,	    /* any: undoing, whatever happens next */
};

/* xs_rec.flags */
#define XS_RF_LOCK 1u	     /* rename: holds the cluster rename lock */
#define XS_RF_DROP_REMOTE 2u /* rename FINISH: drop_ino lives on another shard */

/*
 * Everything needed to finish or undo an operation.  Field use per kind:
 *   MKDIR    parent/name, mode uid gid layout (the new dir), target_shard
 *   RMDIR    parent/name, ino (the dir) and uid (its owner)
 *   UNLINK   parent/name, ino mode uid (the file)
 *   LINK     parent/name (the new entry), ino mode (the file), aux_op (undo)
 *   RENAME / EXCHANGE  parent/name (old), parent2/name2 (new), rflags,
 *            ino mode uid (the moved X), ino2 mode2 uid2 (the target T or
 *            exchanged Y, ino2 0 when none), drop_ino drop_mode (FINISH)
 */
struct xs_rec {
	uint8_t kind;
	uint8_t phase;
	uint8_t flags;
	int64_t start_sec; /* CLOCK_REALTIME seconds when the op began */
	uint32_t cred_uid, cred_gid, ngroups;
	uint32_t groups[PROTO_CRED_GROUPS_MAX];
	uint64_t parent;
	uint16_t nlen;
	char name[NS_NAME_MAX];
	uint64_t parent2;
	uint16_t nlen2;
	char name2[NS_NAME_MAX];
	uint64_t ino;
	uint32_t mode, uid, gid;
	uint64_t ino2;
	uint32_t mode2, uid2;
	uint32_t rflags;
	uint16_t target_shard;
	struct ns_layout layout;
	uint64_t aux_op;
	uint64_t drop_ino;
	uint32_t drop_mode;
};

#define XS_REC_MAX 1024 /* encoded size bound */

/* xshard_rec.c: returns the length (0 if it does not fit). */
size_t xs_rec_encode(const struct xs_rec *r, uint8_t *buf, size_t cap);
/* Returns 0 or -EINVAL for a malformed record. */
int xs_rec_decode(const void *buf, size_t len, struct xs_rec *r);
void xs_rec_set_cred(struct xs_rec *r, const struct ns_cred *cred);
/* The record's credentials (groups point into r). */
struct ns_cred xs_rec_cred(const struct xs_rec *r);

struct mds_xshard {
	struct mds *m;
	bool own_peer[64]; /* clients created by mds_xshard_start */
	int timeout_ms;	   /* per step */

	/* Cluster rename lock (shard 0 only). */
	pthread_mutex_t lock_mu;
	uint64_t lock_holder;	/* op id, 0 = free */
	uint64_t lock_until_ms; /* CLOCK_MONOTONIC */

	/* Ops being driven, and the replay queue; mu guards both. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	uint64_t *active;
	size_t nactive, cap_active;
	struct xs_pending *queue;
	size_t nqueue, cap_queue;
	bool stopping;
	bool thread_started;
	pthread_t thread;
};

/* One queued intent of the replay. */
struct xs_pending {
	uint64_t op_id;
	uint64_t next_ms;  /* CLOCK_MONOTONIC time of the next attempt */
	uint32_t delay_ms; /* back-off */
};

/* An operation being driven. */
struct xs_op {
	struct mds *m;
	struct mds_xshard *xs;
	uint64_t op_id;
	struct xs_rec rec;
	bool replay;  /* driven by the replay (no client waiting) */
	bool done;    /* the intent is deleted: forget the steps */
	bool pending; /* left for the replay */
	bool locked;  /* we hold the cluster rename lock */
	uint64_t lock_renewed_ms;
};

uint64_t xs_now_ms(void);

/* ---- xshard.c: steps, on this shard or a peer ---- */

/* Intent action of a local step (NULL: keep). */
struct xs_intent {
	enum ns_intent_op action;
	const struct xs_rec *rec; /* NS_INTENT_PUT: written (encoded here) */
};

/*
 * Runs one step (opcode PROTO_OP_MDS_PEER_*, req/rep the matching
 * proto_peer structs, rep NULL for empty replies) on shard: here with ns
 * (with the intent action, which only a local step may have), else over
 * RPC.  Returns the step's status, or XS_EUNREACH.
 */
int xs_step(struct xs_op *o, uint16_t shard, uint16_t opcode, const void *req, void *rep,
	    const struct xs_intent *intent);

/* Writes the record with its current phase (sync).  0, XS_EUNREACH (a
 * storage error: the op stays pending in memory) . */
int xs_put_phase(struct xs_op *o, uint8_t phase);
/* Deletes the intent (sync): the op is done. */
int xs_del_intent(struct xs_op *o);

/* Step wrappers used by the protocols. */
int xs_getattr(struct xs_op *o, uint64_t ino, struct ns_attr *out);
int xs_walk_check(struct xs_op *o, uint64_t start, uint64_t target);
int xs_lock_take(struct xs_op *o, int wait_ms);
void xs_lock_release(struct xs_op *o);

void xs_attr_from_peer(const struct proto_peer_attr *p, struct ns_attr *a);
void xs_drop_from_peer(const struct proto_peer_drop *p, struct ns_drop *d);
void xs_cred_to_peer(const struct ns_cred *c, struct proto_cred *p);

/* Active set: returns false if op_id is already being driven. */
bool xs_active_add(struct mds_xshard *xs, uint64_t op_id);
void xs_active_del(struct mds_xshard *xs, uint64_t op_id);

/* ---- protocols (xshard_ops.c, xshard_rename.c) ---- */

/*
 * Continue op o from its record's phase.  Return the client's errno (0,
 * the op's own error, XS_ECLIENT); set o->done when the intent is gone,
 * o->pending when it is left for the replay.
 */
int xs_mkdir_run(struct xs_op *o, struct ns_attr *out);
int xs_rmdir_run(struct xs_op *o);
int xs_unlink_run(struct xs_op *o);
int xs_link_run(struct xs_op *o, struct ns_attr *out);
int xs_rename_run(struct xs_op *o);

/* Starts an op of this shard: op id, active set, record basics. */
int xs_op_begin(struct mds *m, struct xs_op *o, uint8_t kind, const struct ns_cred *cred);
/* Ends it: forgets the steps (done) or queues it for the replay (pending). */
void xs_op_end(struct xs_op *o);

/* ---- xshard_replay.c ---- */

int xs_replay_start(struct mds_xshard *xs);
void xs_replay_stop(struct mds_xshard *xs);
/* Queues op_id for the replay thread (now). */
void xs_replay_queue(struct mds_xshard *xs, uint64_t op_id);
/* Drives a recorded op once from its phase (the replay's step). */
int xs_replay_one(struct mds *m, uint64_t op_id, bool *pending);
/* Shards whose steps of the op must be forgotten (bit i: shard i). */
uint64_t xs_rec_shards(const struct xs_rec *r, uint16_t self);

#endif
