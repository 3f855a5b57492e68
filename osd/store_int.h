/*
 * store_int.h - what store.c (chunk I/O) and store_open.c (format, open,
 * start-up scan) share; not for other modules.
 *
 * Threads and ownership of struct osd_store:
 *   - set at open, read-only afterwards: dir, dir_fd, chunks_fd, sb_fd, sb,
 *     direct, level, ix (internally locked), fault (atomics);
 *   - locks[]: a write, truncate, trim or delete of a chunk holds the
 *     mutex its id hashes to for the whole operation, so operations on one
 *     chunk are serialized while different chunks proceed in parallel;
 *     readers take no chunk lock (version files are immutable);
 *   - pgdirs[] under pgdir_lock; each struct pgdir's fields under its own
 *     lock (the directory-sync group commit).
 */
#ifndef CAIRN_OSD_STORE_INT_H
#define CAIRN_OSD_STORE_INT_H

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "osd/chunkfmt.h"
#include "osd/index.h"
#include "osd/io.h"
#include "osd/store.h"

#define STORE_LOCKS 1024u
#define STORE_PGDIRS 1024u
#define STORE_BLOCK OSD_CHUNKFMT_BLOCK

/* A PG directory: created once, then its syncs are batched. */
struct pgdir {
	struct pgdir *next; /* under st->pgdir_lock */
	uint32_t pool;
	uint32_t pg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;	    /* the directory exists durably; under lock */
	bool syncing;	    /* a thread is in fsync(); under lock */
	uint64_t requested; /* syncs asked for; under lock */
	uint64_t done;	    /* requests covered by a finished fsync; under lock */
};

struct osd_store {
	char *dir;
	int dir_fd;
	int chunks_fd;
	int sb_fd; /* holds the flock */
	struct osd_chunkfmt_sb sb;
	bool direct;
	int level;
	struct osd_io_fault fault;
	struct osd_index *ix;
	atomic_ulong tmp_seq;
	pthread_mutex_t locks[STORE_LOCKS];
	pthread_mutex_t pgdir_lock;
	struct pgdir *pgdirs[STORE_PGDIRS];
};

#define CHUNK_FMT "chunk %" PRIu32 "/%" PRIu32 "/%016" PRIx64 ".%" PRIu64 ".%u"
#define CHUNK_ARGS(id) (id)->pool, (id)->pg, (id)->ino, (id)->stripe, (unsigned)(id)->idx

/* The PG directory record, created on first use; NULL without memory. */
struct pgdir *store_pgdir_get(struct osd_store *st, uint32_t pool, uint32_t pg);

/* Frees every PG directory record (close). */
void store_pgdirs_free(struct osd_store *st);

/* Indexes every chunk under DIR/chunks and removes temporary files. */
int store_scan(struct osd_store *st);

/* 4 KiB-aligned allocation of len rounded up to 4 KiB; NULL without memory. */
void *store_abuf(size_t len);

static inline uint64_t store_round_up(uint64_t n)
{
	return (n + STORE_BLOCK - 1) / STORE_BLOCK * STORE_BLOCK;
}

#endif
