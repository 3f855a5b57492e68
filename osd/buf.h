/*
 * buf.h - reusable, page-aligned I/O buffers for chunk reads.
 *
 * A CHUNK_READ reply's data is read into a buffer that the RPC layer
 * releases once it is sent.  Allocating and freeing a fresh megabyte per
 * read costs page faults and munmap calls on every request, so released
 * buffers of 64 KiB and more are kept, by power-of-two size class, up to a
 * bounded number per class, and handed out again.
 *
 * Threads: all functions are thread-safe (one mutex per size class).
 * Ownership: osd_buf_get() hands out a buffer that osd_buf_put() takes back.
 */
#ifndef CAIRN_OSD_BUF_H
#define CAIRN_OSD_BUF_H

#include <stddef.h>

struct osd_buf {
	void *data;	    /* 4 KiB-aligned, at least the size asked for */
	size_t cap;	    /* its size */
	unsigned cls;	    /* private */
	struct osd_buf *next; /* private */
};

/* A buffer of at least len bytes (len <= 64 MiB), or NULL without memory. */
struct osd_buf *osd_buf_get(size_t len);

/* Takes a buffer back (keeps it for reuse or frees it).  NULL is a no-op. */
void osd_buf_put(struct osd_buf *b);

/* Same as osd_buf_put, with the signature of an RPC release callback. */
void osd_buf_release(void *b);

#endif
