/*
 * data.h - libcairn internal: the data path.  Byte ranges of a file mapped
 * onto stripes and chunks of its layout, read with CHUNK_READ straight from
 * the OSDs of each stripe's acting set (proto/map_place.h), written with
 * STRIPE_WRITE to each stripe's PG primary, and chunks past a new end of
 * file deleted.
 *
 * Reads ask, per stripe, for the byte ranges of the needed data chunks plus
 * one-byte probes of other chunks, max(k, m + 1) chunks in all: when they
 * all answer with one version (absent chunks count as version 0, a hole)
 * no other version can be held by k chunks, and the bytes are returned.
 * Otherwise (an OSD down, timed out, a checksum error, versions that
 * disagree) the stripe takes the slow path: the same range of every up
 * chunk is read, the newest version held by at least k chunks is chosen,
 * chunks at another version are read again at that version, and missing
 * data chunks are rebuilt with erasure_decode() over the range.  -EIO only
 * when fewer than k chunks hold it.  Many stripes are in flight at once.
 * With a version cache (data_file.ci), a stripe whose version a read or a
 * write of this client has seen is read from the needed data chunks only,
 * and takes the paths above when one of them holds another version.
 *
 * Threads: every function may be called from any thread; RPC completions
 * run on the mdsc engine's threads and only store results and signal.
 * Ownership: buffers are the caller's and only used during the call.
 */
#ifndef CAIRN_CLIENT_DATA_H
#define CAIRN_CLIENT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "client/cairn.h"

struct cinode;
struct erasure;
struct mdsc;

/* What the data path needs of an open file. */
struct data_file {
	struct mdsc *mdsc;
	uint64_t ino;
	struct cairn_layout layout;
	struct erasure *ec; /* erasure_new(k, m), owned by the caller */
	struct cinode *ci;  /* its stripe version cache, or NULL */
};

/* Stripes in flight per batch of a read or write. */
#define DATA_BATCH_STRIPES 32u

/*
 * Reads [off, off + len) of the file into buf (the caller clamps to the
 * size).  Holes read as zeros.  Returns 0, -EIO (more than m chunks of a
 * stripe unavailable, or a malformed reply), -ENOMEM, or the map's errors.
 */
int data_read(const struct data_file *f, void *buf, size_t len, uint64_t off);

/*
 * Writes buf to [off, off + len): one STRIPE_WRITE per stripe touched, in
 * parallel, retried after a map refresh when the primary moved or a member
 * did not answer.  Returns 0 once every stripe is durable, or -EIO, -ENOSPC,
 * -EFBIG (past the largest stripe number), -ETIMEDOUT, -ENOMEM.
 */
int data_write(const struct data_file *f, const void *buf, size_t len, uint64_t off);

/*
 * Makes bytes [size, old_size) read as zeros: zeros written over the rest
 * of the stripe holding size, the chunks of the later stripes (up to the
 * one holding old_size - 1) deleted on every up member.  Returns 0 or the
 * errors of data_write().
 */
int data_truncate(const struct data_file *f, uint64_t size, uint64_t old_size);

#endif
