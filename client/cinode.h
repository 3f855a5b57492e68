/*
 * cinode.h - libcairn internal: what one client knows of each regular file
 * it has open, shared by every handle of the file in this client.
 *
 *   - the size and mtime its writes and truncates gave the file, which
 *     this client's attribute calls report until they are published (so a
 *     stat through a mount sees its own writes before close);
 *   - the write buffer: writes smaller than a stripe gather here into
 *     whole stripes and go to the OSDs when the buffer fills, when a write
 *     cannot join it, before a read of its range, and on fsync and close;
 *   - a cache of stripe versions that a read has verified (see data.h):
 *     a later read of such a stripe asks only for the data it needs.
 *
 * A struct cinode lives from the first open of the file in this client to
 * its last close.
 *
 * Threads: any.  c->lock (the table) guards lookups and reference counts;
 * ci->lock guards the size, the buffer's extent and the version cache
 * (never held during I/O); ci->wlock serialises use of the buffer and is
 * held while it is written out.  Order: wlock before lock.
 */
#ifndef CAIRN_CLIENT_CINODE_H
#define CAIRN_CLIENT_CINODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "client/cairn.h"

struct cinode_table;

struct cinode {
	struct cinode *next; /* hash chain, under the table's lock */
	uint64_t ino;
	unsigned refs;

	pthread_mutex_t lock;
	uint64_t size;		 /* what this client knows the size to be */
	bool dirty;		 /* size/mtime not published yet */
	struct timespec mtime;	 /* of our last change, when dirty */
	struct timespec seen_mtime; /* the MDS's, when the versions were cached */
	uint64_t seen_size;
	int werr;		 /* a failed flush not yet reported */
	uint64_t boff;		 /* the buffer's extent, published for readers */
	size_t blen;

	/* stripe -> version verified by a read or written by us */
	uint64_t vc_epoch;
	uint64_t *vc_key; /* UINT64_MAX: empty */
	uint64_t *vc_ver;
	uint32_t vc_cap, vc_used;

	pthread_mutex_t wlock;
	uint8_t *wbuf;
	size_t wcap;
};

/* The client's table of open inodes.  Returns NULL when out of memory. */
struct cinode_table *cinode_table_new(void);
void cinode_table_free(struct cinode_table *t);

/*
 * The cinode of attr's inode, created or referenced, and revalidated with
 * the attributes an open just returned: unless this client has changes to
 * publish, the size is the MDS's, and versions cached before someone else
 * changed the file (mtime or size differ) are dropped.  Returns NULL when
 * out of memory.
 */
struct cinode *cinode_get(struct cinode_table *t, const struct cairn_attr *attr);

/* Drops a reference; the last one frees ci (its buffer must be empty). */
void cinode_put(struct cinode_table *t, struct cinode *ci);

/*
 * Overlays the size and mtime of an open inode with unpublished changes
 * on attributes just fetched from the MDS.
 */
void cinode_overlay(struct cinode_table *t, struct cairn_attr *a);

/*
 * utimes(2) of an inode open here: unpublished changes carry mtime (NULL:
 * now) from here on, so that publishing them at close does not undo the
 * time set (tar sets it before it closes).
 */
void cinode_mtime_set(struct cinode_table *t, uint64_t ino, const struct timespec *mtime);

/*
 * Buffer memory: takes n bytes of the client-wide allowance (false: over
 * it, write through) or gives them back.
 */
bool cinode_mem_take(struct cinode_table *t, size_t n);
void cinode_mem_give(struct cinode_table *t, size_t n);

/*
 * The version cache, under ci->lock taken inside.  A cached version only
 * lets a read return the bytes of a chunk that holds exactly that version
 * now (versions are never reused), so an entry that became old makes reads
 * take the full path, never return old bytes -- except from a member that
 * missed writes while it was down, and every such change of the map
 * (a new epoch) drops the cache.
 *
 * cinode_vget() gives the cached version of stripe (0 for a hole) in map
 * epoch, dropping a cache of another epoch first.  cinode_vset() stores
 * what a read verified; cinode_vset_max() what a write made, unless a
 * newer one is known.
 */
bool cinode_vget(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t *version);
void cinode_vset(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t version);
void cinode_vset_max(struct cinode *ci, uint64_t epoch, uint64_t stripe, uint64_t version);
void cinode_vclear(struct cinode *ci);

#endif
