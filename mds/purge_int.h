/*
 * purge_int.h - what the two halves of the purger share: purge.c (life
 * cycle, the thread, passes over the entries, the cluster map and its
 * watch) and purge_file.c (one turn of one entry: the window of
 * CHUNK_DELETE calls, acting sets, RPC clients to the OSDs, progress).
 * Internal to those two files.
 *
 * Locking: the fields marked "lock" are guarded by mds_purge.lock, which
 * RPC completions take to record their results; every other field belongs
 * to the purger thread (and to start/stop/free, which run when the thread
 * does not).  Nothing calls out of the module with the lock held.
 */
#ifndef CAIRN_MDS_PURGE_INT_H
#define CAIRN_MDS_PURGE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/placement.h"
#include "common/rpc.h"
#include "mds/ns.h"
#include "mds/purge.h"
#include "proto/map.h"

#define PURGE_SLOTS 64 /* stripes in flight, at most */

_Static_assert(PURGE_INFLIGHT >= PLACEMENT_MAX_WIDTH, "a whole stripe fits in the window");

/* An RPC client to one OSD, at the address the map gives it. */
struct purge_osd {
	uint32_t id;
	char addr[PROTO_ADDR_MAX + 1];
	struct rpc_client *cli;
};

/* One stripe in flight: the ring slot stripe % PURGE_SLOTS. */
struct purge_slot {
	unsigned left;	  /* lock: calls not answered yet */
	unsigned deleted; /* lock: chunks the OSDs removed */
	int err;	  /* lock: the first failure, 0 if none */
	uint32_t err_osd; /* lock: where it happened */
};

/* The argument of one CHUNK_DELETE's completion. */
struct purge_call {
	struct mds_purge *p;
	uint16_t slot;
	uint32_t osd;
};

struct mds_purge {
	struct mds *m;
	struct rpc_opts opts; /* for every client: cairn.conf, the key, the engine */
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* wakes the purger thread */
	bool stop;	     /* lock */
	bool kicked;	     /* lock: new entries, or a new map on shard 0 */
	unsigned inflight;   /* lock: CHUNK_DELETEs not answered */
	struct purge_slot slots[PURGE_SLOTS];
	bool watch_busy;	    /* lock: a MAP_GET is out */
	bool watch_done;	    /* lock: its answer is in watch_status/resp */
	int watch_status;	    /* lock */
	struct rpc_msg *watch_resp; /* lock */

	/* The purger thread's. */
	struct purge_call calls[PURGE_SLOTS][PLACEMENT_MAX_WIDTH];
	struct rpc_client *mds0; /* shards other than 0: for the map watch */
	int64_t watch_next_ms;	 /* no MAP_GET before */
	int64_t watch_sent_ms;
	bool watch_failing;   /* logged once until it works again */
	struct proto_map map; /* the newest known; epoch 0: none yet */
	struct purge_osd *osds;
	size_t nosds, osd_cap;
	struct {
		uint32_t pool_id; /* 0: no cache */
		uint32_t pg_count;
		unsigned width;
		uint32_t *ids; /* pg_count * width */
		bool *up;
		uint8_t *have; /* pg_count */
		uint32_t tmp_ids[PLACEMENT_MAX_WIDTH];
		bool tmp_up[PLACEMENT_MAX_WIDTH];
	} pgs;
	uint64_t *failed; /* sorted inos that failed since the last full pass */
	size_t nfailed, failed_cap;
	int64_t retry_at_ms; /* failed files are tried again then; 0: none */
	int backoff_ms;
	bool full_due; /* the next pass tries failed files too */
	bool more;     /* a file's turn ended before its end: go on */
	/* The last failure, for the log. */
	uint64_t fail_ino;
	uint32_t fail_osd;
	int fail_err;
};

static inline int64_t purge_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True once stop was asked. */
bool purge_stopping(struct mds_purge *p);

/* ---- purge_file.c ---- */

enum purge_turn {
	PURGE_TURN_DONE,   /* every chunk deleted, the entry removed */
	PURGE_TURN_MORE,   /* PURGE_SLICE stripes done (or stopping): go on later */
	PURGE_TURN_FAILED, /* some chunk could not be deleted: retry later */
};

/*
 * One turn of entry e: up to PURGE_SLICE stripes from e->next_stripe,
 * progress saved, the entry removed when done.  p->map must be set.
 */
enum purge_turn purge_file_turn(struct mds_purge *p, const struct ns_purge *e);

/* After a new map (nothing in flight): drops clients of moved or gone OSDs. */
void purge_osds_sync(struct mds_purge *p);
/* Frees every OSD client (their calls in flight complete -ECANCELED). */
void purge_osds_free(struct mds_purge *p);
/* Forgets the cached acting sets (a new map). */
void purge_pgs_reset(struct mds_purge *p);

#endif
