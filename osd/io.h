/*
 * io.h - synchronous file I/O for the OSD's worker threads through a
 * per-thread io_uring, with built-in fault injection.
 *
 * Each thread that calls osd_io_write() or osd_io_read() lazily gets its own
 * small ring (no locks, no sharing); it is freed when the thread exits, or by
 * osd_io_thread_cleanup().  A write and its fdatasync are submitted together
 * as a linked pair and waited for; reads of several ranges are submitted
 * together and waited for.  Where io_uring is not available (old kernel,
 * seccomp) the same calls fall back to pwritev/fdatasync/pread, with one log
 * line.
 *
 * Fault injection: a struct osd_io_fault, armed by the owner (the store),
 * makes the N-th operation of one kind fail: a write with EIO (nothing
 * written), with ENOSPC (half the bytes written, then the error, as a full
 * disk does) or short (half the bytes written, reported as a short write
 * that the caller must complete); a data sync with EIO or ENOSPC; a read with
 * EIO.  It fires once per arming and is safe to use from many threads.
 *
 * Ownership: buffers and file descriptors belong to the caller and are only
 * used during the call.
 */
#ifndef CAIRN_OSD_IO_H
#define CAIRN_OSD_IO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define OSD_IO_IOV_MAX 4u  /* iovecs per write */
#define OSD_IO_READ_MAX 4u /* ranges per osd_io_read() */

enum osd_io_fault_op {
	OSD_IO_FAULT_NONE = 0,
	OSD_IO_FAULT_WRITE,
	OSD_IO_FAULT_SYNC,
	OSD_IO_FAULT_READ,
};

enum osd_io_fault_kind {
	OSD_IO_FAULT_EIO = 0,
	OSD_IO_FAULT_ENOSPC,
	OSD_IO_FAULT_SHORT,
};

/* Zero-initialized = disarmed.  Fields are private to io.c. */
struct osd_io_fault {
	atomic_int op;	    /* enum osd_io_fault_op */
	atomic_int kind;    /* enum osd_io_fault_kind */
	atomic_long left;   /* operations of that kind until the faulty one */
	atomic_long fired;  /* faults injected so far */
};

/*
 * Parses "OP:N:KIND": OP is write, sync or read; N >= 1 counts operations
 * of that kind from arming; KIND is eio, enospc or short (write only; sync
 * takes eio or enospc, read only eio).  "none" or "" parse to OSD_IO_FAULT_NONE.
 * Returns 0 or -EINVAL.
 */
int osd_io_fault_parse(const char *spec, enum osd_io_fault_op *op, long *nth,
		       enum osd_io_fault_kind *kind);

/* Arms (or with OSD_IO_FAULT_NONE disarms) f; safe while others use f. */
void osd_io_fault_arm(struct osd_io_fault *f, enum osd_io_fault_op op, long nth,
		      enum osd_io_fault_kind kind);

/* Number of faults f has injected since it was zeroed. */
long osd_io_fault_fired(struct osd_io_fault *f);

/*
 * Writes iov[0..iovcnt) (iovcnt <= OSD_IO_IOV_MAX) at offset off of fd,
 * completing short writes, then fdatasync()s fd when datasync is set.
 * fault may be NULL.  Returns 0, or -errno of the failed write or sync
 * (-ENOSPC, -EDQUOT, -EIO, ...), or -EINVAL for a bad iovcnt.
 */
int osd_io_write(int fd, const struct iovec *iov, unsigned iovcnt, uint64_t off, bool datasync,
		 struct osd_io_fault *fault);

/* One range to read: res gets the bytes read (less than len only at EOF) or -errno. */
struct osd_io_rd {
	int fd;
	void *buf;
	size_t len;
	uint64_t off;
	ssize_t res;
};

/*
 * Reads the n ranges (n <= OSD_IO_READ_MAX) at once.  Returns 0 when every
 * range was read (each res >= 0), else the first -errno (-EIO, -EINVAL
 * for an O_DIRECT misalignment or a bad n, ...).
 */
int osd_io_read(struct osd_io_rd *rd, unsigned n, struct osd_io_fault *fault);

/* Frees the calling thread's ring now (it is recreated on next use). */
void osd_io_thread_cleanup(void);

/* True when the calling thread's I/O goes through io_uring (creates the ring). */
bool osd_io_uring_active(void);

#endif
