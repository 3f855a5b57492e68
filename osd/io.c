/*
 * io.c - per-thread io_uring for the store's synchronous I/O (see io.h).
 *
 * Threads and ownership: the ring lives in thread-local storage and is only
 * ever touched by its thread (so it is created with SINGLE_ISSUER where the
 * kernel has it).  A pthread key whose value points at the thread's ring runs
 * io_uring_queue_exit() when the thread exits; the main thread's ring goes
 * with the process.  Each call submits its requests, then waits until every
 * one of them has completed before returning, so no request outlives the
 * caller's buffers and the ring is empty between calls.
 *
 * When the ring cannot be created, or a submission fails outright, the
 * thread falls back to plain syscalls for good (logged once per process).
 */
#include "osd/io.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

#define RING_ENTRIES 8u
#define TAG_SYNC ((uint64_t)1 << 32)

struct ring_tls {
	struct io_uring ring;
	int state; /* 0 not yet created, 1 ready, -1 unusable: use syscalls */
};

static _Thread_local struct ring_tls tls_ring;
static pthread_key_t ring_key;
static pthread_once_t ring_once = PTHREAD_ONCE_INIT;
static int ring_key_err;
static atomic_bool ring_warned;

/* ---- fault injection ---------------------------------------------------- */

int osd_io_fault_parse(const char *spec, enum osd_io_fault_op *op, long *nth,
		       enum osd_io_fault_kind *kind)
{
	char opname[8], kname[8];
	char *end;
	const char *p;
	size_t oplen;

	if (!spec || !*spec || strcmp(spec, "none") == 0) {
		*op = OSD_IO_FAULT_NONE;
		*nth = 0;
		*kind = OSD_IO_FAULT_EIO;
		return 0;
	}
	p = strchr(spec, ':');
	oplen = p ? (size_t)(p - spec) : 0;
	if (!p || oplen == 0 || oplen >= sizeof(opname))
		return -EINVAL;
	memcpy(opname, spec, oplen);
	opname[oplen] = '\0';
	errno = 0;
	*nth = strtol(p + 1, &end, 10);
	if (errno || end == p + 1 || *end != ':' || *nth < 1 || strlen(end + 1) >= sizeof(kname))
		return -EINVAL;
	strcpy(kname, end + 1);
	if (strcmp(opname, "write") == 0)
		*op = OSD_IO_FAULT_WRITE;
	else if (strcmp(opname, "sync") == 0)
		*op = OSD_IO_FAULT_SYNC;
	else if (strcmp(opname, "read") == 0)
		*op = OSD_IO_FAULT_READ;
	else
		return -EINVAL;
	if (strcmp(kname, "eio") == 0)
		*kind = OSD_IO_FAULT_EIO;
	else if (strcmp(kname, "enospc") == 0 && *op != OSD_IO_FAULT_READ)
		*kind = OSD_IO_FAULT_ENOSPC;
	else if (strcmp(kname, "short") == 0 && *op == OSD_IO_FAULT_WRITE)
		*kind = OSD_IO_FAULT_SHORT;
	else
		return -EINVAL;
	return 0;
}

void osd_io_fault_arm(struct osd_io_fault *f, enum osd_io_fault_op op, long nth,
		      enum osd_io_fault_kind kind)
{
	atomic_store(&f->op, OSD_IO_FAULT_NONE);
	atomic_store(&f->kind, (int)kind);
	atomic_store(&f->left, nth);
	atomic_store(&f->op, (int)op);
}

long osd_io_fault_fired(struct osd_io_fault *f)
{
	return atomic_load(&f->fired);
}

/* The fault kind to inject into this operation, or -1 for none. */
static int fault_take(struct osd_io_fault *f, enum osd_io_fault_op op)
{
	if (!f || atomic_load(&f->op) != (int)op)
		return -1;
	if (atomic_fetch_sub(&f->left, 1) != 1)
		return -1;
	atomic_fetch_add(&f->fired, 1);
	log_warn("osd io: injecting a fault into this %s",
		 op == OSD_IO_FAULT_WRITE ? "write" : op == OSD_IO_FAULT_SYNC ? "sync" : "read");
	return atomic_load(&f->kind);
}

/* ---- the thread's ring -------------------------------------------------- */

static void ring_destroy(void *p)
{
	struct ring_tls *r = p;

	if (r && r->state == 1)
		io_uring_queue_exit(&r->ring);
	if (r)
		r->state = 0;
}

static void ring_key_init(void)
{
	ring_key_err = pthread_key_create(&ring_key, ring_destroy);
}

static void ring_give_up(int err, const char *what)
{
	if (!atomic_exchange(&ring_warned, true))
		log_warn("osd io: io_uring %s failed (%s); this thread uses plain syscalls", what,
			 error_str(err));
	tls_ring.state = -1;
}

/* The calling thread's ring, or NULL when it must use syscalls. */
static struct io_uring *ring_get(void)
{
	int ret;

	if (tls_ring.state == 1)
		return &tls_ring.ring;
	if (tls_ring.state < 0)
		return NULL;
	pthread_once(&ring_once, ring_key_init);
	ret = io_uring_queue_init(RING_ENTRIES, &tls_ring.ring,
				  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN);
	if (ret == -EINVAL)
		ret = io_uring_queue_init(RING_ENTRIES, &tls_ring.ring, 0);
	if (ret < 0) {
		ring_give_up(ret, "setup");
		return NULL;
	}
	tls_ring.state = 1;
	if (ring_key_err == 0)
		pthread_setspecific(ring_key, &tls_ring);
	return &tls_ring.ring;
}

void osd_io_thread_cleanup(void)
{
	if (tls_ring.state == 1 && ring_key_err == 0)
		pthread_setspecific(ring_key, NULL);
	ring_destroy(&tls_ring);
}

bool osd_io_uring_active(void)
{
	return ring_get() != NULL;
}

/*
 * Submits what is queued.  Returns how many requests went in, or -errno when
 * none did: then the queued entries are dropped with the ring and the thread
 * switches to syscalls.
 */
static int ring_submit(struct io_uring *r)
{
	int ret;

	do
		ret = io_uring_submit(r);
	while (ret == -EINTR);
	if (ret < 0) {
		io_uring_queue_exit(r);
		ring_give_up(ret, "submit");
	}
	return ret;
}

/* After reaping what a partial submission let in: the ring is unusable. */
static int ring_partial(struct io_uring *r, int submitted, unsigned n)
{
	log_error("osd io: io_uring took %d of %u requests", submitted, n);
	io_uring_queue_exit(r);
	ring_give_up(-EIO, "partial submit");
	return -EIO;
}

/* Waits for one completion; stores its tag and result. */
static int ring_reap(struct io_uring *r, uint64_t *tag, int *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	do
		ret = io_uring_wait_cqe(r, &cqe);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	*tag = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(r, cqe);
	return 0;
}

/* ---- writes ------------------------------------------------------------- */

static size_t iov_total(const struct iovec *v, unsigned cnt)
{
	size_t n = 0;

	for (unsigned i = 0; i < cnt; i++)
		n += v[i].iov_len;
	return n;
}

/* Drops the first n bytes of v[0..*cnt). */
static void iov_advance(struct iovec *v, unsigned *cnt, size_t n)
{
	unsigned i = 0, j;

	while (i < *cnt && n >= v[i].iov_len)
		n -= v[i++].iov_len;
	if (i < *cnt) {
		v[i].iov_base = (uint8_t *)v[i].iov_base + n;
		v[i].iov_len -= n;
	}
	for (j = 0; i < *cnt; i++, j++)
		v[j] = v[i];
	*cnt = j;
}

/* The first want bytes of v into part; returns the number of iovecs. */
static unsigned iov_head(const struct iovec *v, unsigned cnt, size_t want, struct iovec *part)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cnt && want > 0; i++, n++) {
		part[n] = v[i];
		if (part[n].iov_len > want)
			part[n].iov_len = want;
		want -= part[n].iov_len;
	}
	return n;
}

/* One write of part (if cnt > 0) and, when sync, a linked fdatasync. */
static int submit_write(int fd, const struct iovec *part, unsigned cnt, uint64_t off, bool sync,
			ssize_t *wres, int *sres)
{
	struct io_uring *r = ring_get();
	unsigned n = 0;
	int ret = 0;

	*wres = 0;
	*sres = 0;
	if (!r) {
		if (cnt > 0)
			*wres = pwritev(fd, part, (int)cnt, (off_t)off);
		if (*wres < 0)
			*wres = -errno;
		else if (sync && fdatasync(fd) != 0)
			*sres = -errno;
		return 0;
	}
	if (cnt > 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(r);

		io_uring_prep_writev(sqe, fd, part, cnt, off);
		io_uring_sqe_set_data64(sqe, 0);
		if (sync)
			sqe->flags |= IOSQE_IO_LINK;
		n++;
	}
	if (sync) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(r);

		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data64(sqe, TAG_SYNC);
		n++;
	}
	ret = ring_submit(r);
	if (ret < 0)
		return submit_write(fd, part, cnt, off, sync, wres, sres); /* via syscalls */
	for (int i = 0; i < ret; i++) {
		uint64_t tag;
		int res;
		int err = ring_reap(r, &tag, &res);

		if (err)
			return err;
		if (tag == TAG_SYNC)
			*sres = res;
		else
			*wres = res;
	}
	return (unsigned)ret < n ? ring_partial(r, ret, n) : 0;
}

/*
 * Writes want bytes of v, advancing v and off; with sync, fdatasync()s once
 * the last byte is written (linked to the last write).
 */
static int write_loop(int fd, struct iovec *v, unsigned *cnt, uint64_t *off, size_t want,
		      bool sync)
{
	struct iovec part[OSD_IO_IOV_MAX];

	for (;;) {
		unsigned pc = iov_head(v, *cnt, want, part);
		ssize_t wres;
		int sres;
		int ret = submit_write(fd, part, pc, *off, sync, &wres, &sres);

		if (ret)
			return ret;
		if (wres < 0)
			return (int)wres;
		if (pc > 0 && wres == 0)
			return -EIO; /* no progress: never spin */
		iov_advance(v, cnt, (size_t)wres);
		*off += (uint64_t)wres;
		want -= (size_t)wres;
		if (want == 0)
			return sync ? sres : 0;
		/* Short write: the linked sync was cancelled; go on. */
	}
}

int osd_io_write(int fd, const struct iovec *iov, unsigned iovcnt, uint64_t off, bool datasync,
		 struct osd_io_fault *fault)
{
	struct iovec v[OSD_IO_IOV_MAX];
	size_t left;
	int kind, sync_kind = -1;
	int ret;

	if (iovcnt > OSD_IO_IOV_MAX || (iovcnt > 0 && !iov))
		return -EINVAL;
	if (iovcnt)
		memcpy(v, iov, iovcnt * sizeof(*v));
	left = iov_total(v, iovcnt);
	kind = fault_take(fault, OSD_IO_FAULT_WRITE);
	if (kind == OSD_IO_FAULT_EIO)
		return -EIO;
	if (kind >= 0) {
		/* Half the bytes, kept 4 KiB-aligned for O_DIRECT. */
		size_t part = left / 2 / 4096 * 4096;

		ret = write_loop(fd, v, &iovcnt, &off, part, false);
		if (ret || kind == OSD_IO_FAULT_ENOSPC)
			return ret ? ret : -ENOSPC;
	}
	if (datasync)
		sync_kind = fault_take(fault, OSD_IO_FAULT_SYNC);
	ret = write_loop(fd, v, &iovcnt, &off, iov_total(v, iovcnt), datasync && sync_kind < 0);
	if (ret)
		return ret;
	if (sync_kind >= 0)
		return sync_kind == OSD_IO_FAULT_ENOSPC ? -ENOSPC : -EIO;
	return 0;
}

/* ---- reads -------------------------------------------------------------- */

/* Records a read result; returns true when the range is finished. */
static bool read_account(struct osd_io_rd *rd, size_t *done, int res)
{
	if (res < 0) {
		rd->res = res;
		return true;
	}
	*done += (size_t)res;
	rd->res = (ssize_t)*done;
	/*
	 * Zero bytes is EOF.  A short read that ends off a 4 KiB boundary is
	 * EOF too (continuing there could be misaligned for O_DIRECT).
	 */
	return res == 0 || *done == rd->len || (*done % 4096) != 0;
}

static int read_syscalls(struct osd_io_rd *rd, unsigned n, size_t *done, bool *busy)
{
	for (unsigned i = 0; i < n; i++) {
		while (busy[i]) {
			ssize_t r = pread(rd[i].fd, (uint8_t *)rd[i].buf + done[i],
					  rd[i].len - done[i], (off_t)(rd[i].off + done[i]));

			if (r < 0 && errno == EINTR)
				continue;
			busy[i] = !read_account(&rd[i], &done[i], r < 0 ? -errno : (int)r);
		}
	}
	return 0;
}

/* One round: submits every unfinished range, reaps them all. */
static int read_round(struct io_uring *r, struct osd_io_rd *rd, unsigned n, size_t *done,
		      bool *busy)
{
	unsigned queued = 0;
	int ret;

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;

		if (!busy[i])
			continue;
		sqe = io_uring_get_sqe(r);
		io_uring_prep_read(sqe, rd[i].fd, (uint8_t *)rd[i].buf + done[i],
				   (unsigned)(rd[i].len - done[i]), rd[i].off + done[i]);
		io_uring_sqe_set_data64(sqe, i);
		queued++;
	}
	ret = ring_submit(r);
	if (ret < 0)
		return read_syscalls(rd, n, done, busy);
	for (int k = 0; k < ret; k++) {
		uint64_t tag;
		int res;
		int err = ring_reap(r, &tag, &res);

		if (err)
			return err;
		busy[tag] = !read_account(&rd[tag], &done[tag], res);
	}
	return (unsigned)ret < queued ? ring_partial(r, ret, queued) : 0;
}

int osd_io_read(struct osd_io_rd *rd, unsigned n, struct osd_io_fault *fault)
{
	size_t done[OSD_IO_READ_MAX] = {0};
	bool busy[OSD_IO_READ_MAX] = {false};
	bool any = false;
	struct io_uring *r;
	int ret = 0;

	if (n == 0 || n > OSD_IO_READ_MAX || !rd)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (rd[i].len > INT32_MAX)
			return -EINVAL;
		rd[i].res = 0;
		busy[i] = rd[i].len > 0;
		any |= busy[i];
	}
	if (fault_take(fault, OSD_IO_FAULT_READ) >= 0) {
		for (unsigned i = 0; i < n; i++)
			rd[i].res = -EIO;
		return -EIO;
	}
	while (any && ret == 0) {
		r = ring_get();
		ret = r ? read_round(r, rd, n, done, busy) : read_syscalls(rd, n, done, busy);
		any = false;
		for (unsigned i = 0; i < n; i++)
			any |= busy[i];
	}
	for (unsigned i = 0; i < n && ret == 0; i++)
		if (rd[i].res < 0)
			ret = (int)rd[i].res;
	return ret;
}
