/*
 * fsck.h - the namespace consistency check behind `cairnctl fsck`.
 *
 * cairn_fsck_run() pages through every shard's inodes, directory entries
 * and pending cross-shard intents (proto/fsck.h), counts the links of each
 * inode across all shards, and reports:
 *   DANGLING      an entry whose inode does not exist on its home shard, or
 *                 whose directory does not exist
 *   ORPHAN        an inode no entry points to (the root, and files unlinked
 *                 while open, are exempt)
 *   NLINK         a link count that differs from the entries found (a file:
 *                 its entries on every shard; a directory: 2 + its
 *                 subdirectories)
 *   PARENT        a directory whose ".." is not the directory holding its
 *                 entry
 *   STALE_INTENT  a cross-shard operation pending longer than stale_sec
 *   STALE_PIN     an entry pinned, or a directory marked for removal, by an
 *                 operation that has no intent any more
 * With repair it fixes them, most urgent first, then checks again until
 * nothing is left (at most a few passes): stale intents are re-run by their
 * coordinator (finished or undone), stale pins and marks are cleared,
 * dangling entries removed, orphans deleted (not moved to a lost+found:
 * the data of an orphan is unreachable by name anyway), link counts and
 * parents set to what was counted.  Each repair names the value it expects
 * to replace, so a record that changed meanwhile is left alone (counted in
 * failed).  Run it on a quiet cluster: operations in flight look like
 * problems until they end (intents younger than stale_sec are counted as
 * in_progress, not as problems, and while there are any, only stale
 * intents are repaired).
 *
 * Threads: one call runs on the caller's thread and issues one request at
 * a time; the clients may be shared with other threads meanwhile.  The
 * callbacks run on the caller's thread.
 */
#ifndef CAIRN_CLIENT_FSCK_H
#define CAIRN_CLIENT_FSCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rpc_client;

enum cairn_fsck_kind {
	CAIRN_FSCK_DANGLING = 0,
	CAIRN_FSCK_ORPHAN,
	CAIRN_FSCK_NLINK,
	CAIRN_FSCK_PARENT,
	CAIRN_FSCK_STALE_INTENT,
	CAIRN_FSCK_STALE_PIN,
	CAIRN_FSCK_KINDS
};

/* One problem, handed to the problem callback (valid during the call). */
struct cairn_fsck_problem {
	enum cairn_fsck_kind kind;
	unsigned pass;	/* 0: the first check; later passes verify repairs */
	uint16_t shard; /* the shard holding the record at fault */
	uint64_t ino;	/* the inode; DANGLING: the missing target */
	uint64_t parent; /* DANGLING, STALE_PIN of an entry: its directory */
	const char *name; /* DANGLING, STALE_PIN of an entry: its name (not */
	size_t nlen;	  /*   terminated), else NULL and 0 */
	uint64_t expected; /* NLINK: links counted; PARENT: the entry's directory */
	uint64_t found;	   /* NLINK: stored count; PARENT: stored parent */
	uint64_t op_id;	   /* STALE_INTENT, STALE_PIN: the operation */
	uint64_t age_sec;  /* STALE_INTENT */
	uint8_t op_kind;   /* STALE_INTENT: coordinator's op kind (mds/xshard.c) */
	uint8_t op_phase;
	bool repaired;	   /* repair asked and done */
	int repair_error;  /* repair asked and failed: -errno; else 0 */
};

/* Where a run is, for progress bars. */
struct cairn_fsck_progress {
	const char *stage; /* "intents", "inodes", "entries", "repair" */
	unsigned pass;
	uint16_t shard;
	uint64_t done; /* records of this stage so far, over all shards */
};

struct cairn_fsck_opts {
	bool repair;
	uint32_t stale_sec; /* intents older than this are stale; 0: 60 */
	int timeout_ms;	    /* per request; 0: the client's default */
	void (*progress)(void *arg, const struct cairn_fsck_progress *p); /* may be NULL */
	void (*problem)(void *arg, const struct cairn_fsck_problem *p);	  /* may be NULL */
	void *arg;
};

struct cairn_fsck_report {
	uint64_t inodes;   /* scanned in the first pass, all shards */
	uint64_t dentries;
	uint64_t intents;
	uint64_t in_progress; /* intents younger than stale_sec (first pass) */
	uint64_t found[CAIRN_FSCK_KINDS];     /* first pass */
	uint64_t repaired[CAIRN_FSCK_KINDS];
	uint64_t failed[CAIRN_FSCK_KINDS];    /* repairs refused or failed */
	uint64_t remaining[CAIRN_FSCK_KINDS]; /* found by the last pass */
	unsigned passes;
};

/*
 * Checks (and with opts->repair fixes) the namespace of the nshards shards
 * reached through shards[0..nshards) (shards[i] talks to shard i; none may
 * be NULL).  opts may be NULL (check only, defaults).  *out is filled even
 * on error, with what was seen so far.
 * Returns 0 when every shard was scanned (problems are in *out, not in
 * the return value), or -EINVAL (no shards, more than 64, NULL client),
 * -ENOMEM, -EPROTO (a shard sent an inconsistent reply), or the error of a
 * request that failed (-ETIMEDOUT, -ECONNRESET, -CAIRN_EAUTH, -EIO, ...).
 */
int cairn_fsck_run(struct rpc_client *const *shards, unsigned nshards,
		   const struct cairn_fsck_opts *opts, struct cairn_fsck_report *out);

/* "dangling", "orphan", "nlink", "parent", "stale-intent", "stale-pin". */
const char *cairn_fsck_kind_name(enum cairn_fsck_kind kind);

/* Problems in the last pass (sum of remaining[]). */
uint64_t cairn_fsck_remaining(const struct cairn_fsck_report *r);

#endif
