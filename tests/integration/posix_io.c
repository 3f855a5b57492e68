/*
 * posix_io.c - posix_check's checks of data, locks and consistency across
 * mounts: O_APPEND from two processes, pread/pwrite (holes, far offsets),
 * truncate and ftruncate of an open file, fsync/fdatasync, fallocate,
 * SEEK_DATA/SEEK_HOLE, copy_file_range, mmap (read-only, MAP_PRIVATE,
 * MAP_SHARED writable with msync), flock and fcntl byte-range locks between
 * two processes (and across two mounts), and close-to-open consistency
 * between two mounts.  Each check follows the contract of posix_check.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include "posix_check.h"

#define REC 64
#define NREC 1000

static void make_rec(unsigned char *r, int id, int i)
{
	snprintf((char *)r, REC, "%c%04d:", 'A' + id, i);
	pc_fill(r + 6, REC - 7, (uint32_t)(id * 100000 + i));
	r[REC - 1] = '\n';
}

static int kid_append(void *arg)
{
	int id = *(int *)arg, fd;
	unsigned char r[REC];

	OK(fd = open(P("log"), O_WRONLY | O_APPEND));
	DO(pc_child_recv());
	for (int i = 0; i < NREC; i++) {
		make_rec(r, id, i);
		ssize_t n = write(fd, r, REC);

		if (n != REC)
			return pc_fail("appending record %d: %s", i,
				       n < 0 ? pc_ename(errno) : "short write");
	}
	OK(close(fd));
	return 0;
}

static int ck_o_append(void)
{
	int id[2] = {0, 1}, next[2] = {0, 0}, fd;
	unsigned char exp[REC];
	struct pc_kid *k[2];
	ssize_t n;

	OK(fd = open(P("log"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	close(fd);
	for (int i = 0; i < 2; i++)
		if (!(k[i] = pc_kid_start(kid_append, &id[i], false)))
			return -1;
	DO(pc_kid_send(k[0]));
	DO(pc_kid_send(k[1]));
	DO(pc_kid_wait(k[0]));
	DO(pc_kid_wait(k[1]));
	OK(fd = open(P("log"), O_RDWR | O_APPEND));
	n = pc_pread_full(fd, pc_c, 2 * NREC * REC + 1, 0);
	DO(n);
	EQ(n, 2 * NREC * REC);
	for (int r = 0; r < 2 * NREC; r++) {
		const unsigned char *rec = pc_c + r * REC;
		int who = rec[0] - 'A';

		TRUE(who == 0 || who == 1, "record %d at offset %d: bad first byte 0x%02x", r,
		     r * REC, rec[0]);
		make_rec(exp, who, next[who]);
		TRUE(memcmp(rec, exp, REC) == 0,
		     "record %d at offset %d: expected writer %c's record %d intact, got '%.5s'", r,
		     r * REC, 'A' + who, next[who], (const char *)rec);
		next[who]++;
	}
	OK(lseek(fd, 0, SEEK_SET));
	EQ(write(fd, "0123456789", 10), 10);
	EQ(lseek(fd, 0, SEEK_CUR), 2 * NREC * REC + 10);
	close(fd);
	return 0;
}

/* ---- data ---- */

static int ck_read_write(void)
{
	const size_t n = PC_BUF_SIZE - 1;
	const off_t off = 12345, far = 5LL << 30;
	struct stat st;
	int fd;

	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	pc_fill(pc_a, n, 9);
	DO(pc_pwrite_all(fd, pc_a, n, off));
	OK(fstat(fd, &st));
	EQ(st.st_size, off + (off_t)n);
	EQ(pc_pread_full(fd, pc_c, n, off), (ssize_t)n);
	DO(pc_cmp("data read back", pc_c, pc_a, n));
	EQ(pc_pread_full(fd, pc_c, (size_t)off, 0), off);
	DO(pc_check_zero(pc_c, (size_t)off, "the hole before the data"));
	EQ(pread(fd, pc_c, 100, off + (off_t)n), 0);
	EQ(pread(fd, pc_c, 1000, off + (off_t)n - 10), 10);
	DO(pc_pwrite_all(fd, pc_a, 100, far));
	OK(fstat(fd, &st));
	EQ(st.st_size, far + 100);
	EQ(pc_pread_full(fd, pc_c, 4096, 3LL << 30), 4096);
	DO(pc_check_zero(pc_c, 4096, "the hole at 3 GiB"));
	EQ(pc_pread_full(fd, pc_c, 200, far), 100);
	DO(pc_cmp("data at 5 GiB", pc_c, pc_a, 100));
	EQ(lseek(fd, 0, SEEK_END), far + 100);
	OK(close(fd));
	return 0;
}

static int ck_truncate(void)
{
	struct stat st;
	int fd, rfd;

	pc_fill(pc_a, 10000, 10);
	DO(pc_put_file(P("f"), pc_a, 10000));
	OK(fd = open(P("f"), O_RDWR));
	OK(truncate(P("f"), 3000));
	OK(fstat(fd, &st));
	EQ(st.st_size, 3000);
	DO(pc_check_fd(fd, pc_a, 3000, "after truncate down"));
	OK(ftruncate(fd, 20000));
	OK(stat(P("f"), &st));
	EQ(st.st_size, 20000);
	memset(pc_a + 3000, 0, 17000);
	DO(pc_check_fd(fd, pc_a, 20000, "after ftruncate up"));
	pc_fill(pc_b, 1000, 11);
	DO(pc_pwrite_all(fd, pc_b, 1000, 5000));
	OK(ftruncate(fd, 4000));
	OK(ftruncate(fd, 8000));
	DO(pc_check_fd(fd, pc_a, 8000,
		       "after down to 4000 and up to 8000 (old bytes must not return)"));
	OK(ftruncate(fd, 8000));
	DO(pc_check_fd(fd, pc_a, 8000, "after a truncate to the same size"));
	OK(ftruncate(fd, 64 << 20));
	EQ(pc_pread_full(fd, pc_c, 4096, (64 << 20) - 4096), 4096);
	DO(pc_check_zero(pc_c, 4096, "the end of a 64 MiB sparse file"));
	OK(ftruncate(fd, 0));
	OK(fstat(fd, &st));
	EQ(st.st_size, 0);
	EQ(pread(fd, pc_c, 10, 0), 0);
	ERR(truncate(pc_base, 0), EISDIR);
	ERR(ftruncate(fd, -1), EINVAL);
	OK(rfd = open(P("f"), O_RDONLY));
	ERR2(ftruncate(rfd, 0), EINVAL, EBADF);
	close(rfd);
	close(fd);
	return 0;
}

static int ck_fsync(void)
{
	int fd, rfd, dfd;

	pc_fill(pc_a, 100000, 13);
	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	DO(pc_pwrite_all(fd, pc_a, 100000, 0));
	OK(fsync(fd));
	DO(pc_pwrite_all(fd, pc_a, 1000, 100000));
	memcpy(pc_a + 100000, pc_a, 1000);
	OK(fdatasync(fd));
	OK(rfd = open(P("f"), O_RDONLY));
	OK(fsync(rfd));
	DO(pc_check_fd(rfd, pc_a, 101000, "after fsync"));
	close(rfd);
	close(fd);
	OK(dfd = open(pc_base, O_RDONLY | O_DIRECTORY));
	OK(fsync(dfd));
	close(dfd);
	return 0;
}

static int ck_fallocate(void)
{
	struct stat st;
	int fd, rfd;

	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	OK(fallocate(fd, 0, 0, 1 << 20));
	OK(fstat(fd, &st));
	EQ(st.st_size, 1 << 20);
	memset(pc_a, 0, 2u << 20);
	DO(pc_check_fd(fd, pc_a, 1 << 20, "after fallocate"));
	pc_fill(pc_a + 100, 4096, 14);
	DO(pc_pwrite_all(fd, pc_a + 100, 4096, 100));
	OK(fallocate(fd, 0, 0, 8192));
	OK(fstat(fd, &st));
	EQ(st.st_size, 1 << 20);
	OK(fallocate(fd, 0, 2 << 20, 4096));
	OK(fstat(fd, &st));
	EQ(st.st_size, (2 << 20) + 4096);
	EQ(pc_pread_full(fd, pc_c, (2 << 20) + 4097, 0), (2 << 20) + 4096);
	DO(pc_cmp("after fallocate past EOF", pc_c, pc_a, 2u << 20));
	DO(pc_check_zero(pc_c + (2 << 20), 4096, "the allocated tail"));
	ERR(fallocate(fd, 0, 0, 0), EINVAL);
	OK(rfd = open(P("f"), O_RDONLY));
	ERR(fallocate(rfd, 0, 0, 4096), EBADF);
	close(rfd);
	close(fd);
	return 0;
}

static int zero_range(int fd, off_t from, off_t to)
{
	while (from < to) {
		size_t n = (size_t)(to - from) < PC_BUF_SIZE ? (size_t)(to - from) : PC_BUF_SIZE;

		TRUE(pc_pread_full(fd, pc_c, n, from) == (ssize_t)n, "short read at %lld",
		     (long long)from);
		for (size_t i = 0; i < n; i++)
			TRUE(!pc_c[i], "byte %lld reported in a hole is 0x%02x (expected 0)",
			     (long long)from + (long long)i, pc_c[i]);
		from += (off_t)n;
	}
	return 0;
}

/* Walks the file by SEEK_DATA/SEEK_HOLE: every hole reads as zeros. */
static int seek_walk(int fd, off_t size)
{
	off_t pos = 0, d, h;

	for (int guard = 0; pos < size && guard < 100000; guard++) {
		d = lseek(fd, pos, SEEK_DATA);
		if (d < 0 && errno != ENXIO)
			return pc_fail("SEEK_DATA from %lld: %s", (long long)pos, pc_ename(errno));
		if (d < 0)
			d = size;
		TRUE(d >= pos && d <= size,
		     "SEEK_DATA from %lld gave %lld (expected in [%lld, %lld])", (long long)pos,
		     (long long)d, (long long)pos, (long long)size);
		DO(zero_range(fd, pos, d));
		if (d == size)
			break;
		OK(h = lseek(fd, d, SEEK_HOLE));
		TRUE(h > d && h <= size, "SEEK_HOLE from %lld gave %lld (expected in (%lld, %lld])",
		     (long long)d, (long long)h, (long long)d, (long long)size);
		EQ(lseek(fd, 0, SEEK_CUR), h);
		pos = h;
	}
	return 0;
}

static int ck_seek_data_hole(void)
{
	const off_t mib = 1 << 20, size = mib + 4096;
	off_t r;
	int fd;

	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	ERR(lseek(fd, 0, SEEK_HOLE), ENXIO);
	pc_fill(pc_a, 4096, 15);
	DO(pc_pwrite_all(fd, pc_a, 4096, 0));
	DO(pc_pwrite_all(fd, pc_a, 4096, mib));
	OK(fsync(fd));
	EQ(lseek(fd, 0, SEEK_DATA), 0);
	OK(r = lseek(fd, 0, SEEK_HOLE));
	TRUE(r >= 4096 && r <= size, "SEEK_HOLE from 0 gave %lld (expected in [4096, %lld])",
	     (long long)r, (long long)size);
	OK(r = lseek(fd, 8192, SEEK_DATA));
	TRUE(r >= 8192 && r <= mib, "SEEK_DATA from 8192 gave %lld (expected in [8192, %lld])",
	     (long long)r, (long long)mib);
	EQ(lseek(fd, mib, SEEK_HOLE), size);
	ERR(lseek(fd, size, SEEK_DATA), ENXIO);
	ERR(lseek(fd, size + 100, SEEK_DATA), ENXIO);
	ERR(lseek(fd, size, SEEK_HOLE), ENXIO);
	DO(seek_walk(fd, size));
	OK(ftruncate(fd, 3 * mib));
	DO(seek_walk(fd, 3 * mib));
	close(fd);
	return 0;
}

static int ck_copy_file_range(void)
{
	loff_t oin = 1000, oout = 5000;
	size_t left = 200000;
	ssize_t r;
	int in, out;

	pc_fill(pc_a, 300000, 16);
	DO(pc_put_file(P("src"), pc_a, 300000));
	OK(in = open(P("src"), O_RDONLY));
	OK(out = open(P("dst"), O_CREAT | O_RDWR, 0644));
	while (left > 0 && (r = copy_file_range(in, &oin, out, &oout, left, 0)) > 0)
		left -= (size_t)r;
	TRUE(left == 0, "copy_file_range stopped with %zu bytes left: %s", left, pc_ename(errno));
	EQ(oin, 201000);
	EQ(oout, 205000);
	EQ(lseek(in, 0, SEEK_CUR), 0);
	memset(pc_b, 0, 5000);
	memcpy(pc_b + 5000, pc_a + 1000, 200000);
	DO(pc_check_fd(out, pc_b, 205000, "the copy"));
	OK(lseek(in, 250000, SEEK_SET));
	OK(lseek(out, 0, SEEK_END));
	left = 0;
	while ((r = copy_file_range(in, NULL, out, NULL, 100000, 0)) > 0)
		left += (size_t)r;
	OK(r);
	EQ(left, 50000);
	memcpy(pc_b + 205000, pc_a + 250000, 50000);
	DO(pc_check_fd(out, pc_b, 255000, "the copy with file offsets"));
	oin = 400000;
	EQ(copy_file_range(in, &oin, out, NULL, 100, 0), 0);
	ERR(copy_file_range(out, NULL, in, NULL, 100, 0), EBADF);
	close(in);
	close(out);
	return 0;
}

/* ---- mmap ---- */

static int ck_mmap_read(void)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 3 * pg + 1234;
	unsigned char *p;
	int fd, wfd;

	pc_fill(pc_a, n, 17);
	DO(pc_put_file(P("f"), pc_a, n));
	OK(fd = open(P("f"), O_RDONLY));
	p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	TRUE(p != MAP_FAILED, "mmap: %s", pc_ename(errno));
	DO(pc_check_fd(fd, pc_a, n, "read()"));
	DO(pc_cmp("the read-only mapping against read()", p, pc_c, n));
	DO(pc_check_zero(p + n, 4 * pg - n, "the mapping past EOF"));
	OK(wfd = open(P("f"), O_RDWR));
	DO(pc_pwrite_all(wfd, "XYZ", 3, 100));
	TRUE(memcmp(p + 100, "XYZ", 3) == 0, "a MAP_SHARED mapping does not see a write()");
	close(wfd);
	munmap(p, n);
	memcpy(pc_a + 100, "XYZ", 3);
	p = mmap(NULL, n - pg, PROT_READ, MAP_PRIVATE, fd, (off_t)pg);
	TRUE(p != MAP_FAILED, "mmap MAP_PRIVATE at offset %zu: %s", pg, pc_ename(errno));
	DO(pc_cmp("the MAP_PRIVATE mapping", p, pc_a + pg, n - pg));
	munmap(p, n - pg);
	close(fd);
	return 0;
}

static int ck_mmap_write(void)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 5 * pg + 100;
	struct stat st;
	unsigned char *p;
	int fd, fd2;

	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	OK(ftruncate(fd, (off_t)n));
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TRUE(p != MAP_FAILED, "mmap: %s", pc_ename(errno));
	pc_fill(pc_a, n, 18);
	memcpy(p, pc_a, n);
	OK(msync(p, n, MS_SYNC));
	OK(fd2 = open(P("f"), O_RDONLY));
	DO(pc_check_fd(fd2, pc_a, n, "a fresh fd after msync"));
	pc_fill(pc_a + 5000, 300, 19);
	memcpy(p + 5000, pc_a + 5000, 300);
	OK(msync(p, n, MS_SYNC));
	DO(pc_check_fd(fd2, pc_a, n, "the fd after a second msync"));
	munmap(p, n);
	OK(close(fd));
	OK(close(fd2));
	DO(pc_check_file(P("f"), pc_a, n));
	OK(stat(P("f"), &st));
	EQ(st.st_size, n);
	return 0;
}

/* ---- locks ---- */

static int kid_flock(void *arg)
{
	const char *path = arg;
	int fd, fd2;

	OK(fd = open(path, O_RDWR));
	OK(fd2 = open(path, O_RDWR));
	ERR(flock(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	ERR(flock(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent holds LOCK_SH */
	OK(flock(fd, LOCK_SH | LOCK_NB));
	ERR(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	OK(flock(fd, LOCK_UN));
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent unlocked */
	OK(flock(fd, LOCK_EX | LOCK_NB));
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent is about to block */
	usleep(300000);
	OK(flock(fd, LOCK_UN));
	close(fd2);
	close(fd);
	return 0;
}

/* flock between this process (path mine) and a child (path theirs). */
static int flock_pair(const char *mine, const char *theirs)
{
	struct pc_kid *k;
	double t0;
	int fd;

	OK(fd = open(mine, O_CREAT | O_RDWR, 0644));
	OK(flock(fd, LOCK_EX));
	if (!(k = pc_kid_start(kid_flock, (void *)theirs, false)))
		return -1;
	DO(pc_kid_recv(k));
	OK(flock(fd, LOCK_UN));
	OK(flock(fd, LOCK_SH));
	DO(pc_kid_send(k));
	DO(pc_kid_recv(k));
	OK(flock(fd, LOCK_UN));
	DO(pc_kid_send(k));
	DO(pc_kid_recv(k));
	ERR(flock(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	t0 = pc_now();
	DO(pc_kid_send(k));
	OK(flock(fd, LOCK_EX));
	TRUE(pc_now() - t0 >= 0.2, "LOCK_EX returned after %.3f s (expected to wait >= 0.2 s)",
	     pc_now() - t0);
	OK(flock(fd, LOCK_UN));
	DO(pc_kid_wait(k));
	close(fd);
	return 0;
}

static int ck_flock(void)
{
	return flock_pair(P("f"), P("f"));
}

static int ck_flock_xmount(void)
{
	return flock_pair(P("f"), P2("f"));
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, cmd, &fl);
}

/* F_GETLK for (type, start, len) reports want (F_UNLCK: no conflict). */
static int getlk_is(int fd, short type, off_t start, off_t len, short want, pid_t pid, off_t wstart,
		    off_t wlen)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	OK(fcntl(fd, F_GETLK, &fl));
	EQ(fl.l_type, want);
	if (want == F_UNLCK)
		return 0;
	EQ(fl.l_pid, pid);
	EQ(fl.l_start, wstart);
	EQ(fl.l_len, wlen);
	return 0;
}

struct lock_arg {
	const char *path;
	pid_t holder;
};

static int kid_fcntl(void *arg)
{
	struct lock_arg *a = arg;
	double t0;
	int fd;

	OK(fd = open(a->path, O_RDWR));
	ERR2(setlk(fd, F_SETLK, F_WRLCK, 50, 10), EAGAIN, EACCES);
	ERR2(setlk(fd, F_SETLK, F_RDLCK, 0, 10), EAGAIN, EACCES);
	DO(getlk_is(fd, F_WRLCK, 50, 10, F_WRLCK, a->holder, 0, 100));
	DO(getlk_is(fd, F_WRLCK, 200, 10, F_UNLCK, 0, 0, 0));
	OK(setlk(fd, F_SETLK, F_WRLCK, 100, 100));
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent holds F_RDLCK on [0, 100) */
	OK(setlk(fd, F_SETLK, F_RDLCK, 0, 50));
	ERR2(setlk(fd, F_SETLK, F_WRLCK, 0, 50), EAGAIN, EACCES);
	OK(setlk(fd, F_SETLK, F_UNLCK, 0, 50));
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent holds F_WRLCK on [0, 100) */
	t0 = pc_now();
	DO(pc_child_send());
	OK(setlk(fd, F_SETLKW, F_WRLCK, 10, 10));
	TRUE(pc_now() - t0 >= 0.2, "F_SETLKW returned after %.3f s (expected to wait >= 0.2 s)",
	     pc_now() - t0);
	DO(pc_child_send());
	DO(pc_child_recv());
	close(fd);
	return 0;
}

/* fcntl byte-range locks between this process and a child. */
static int fcntl_pair(const char *mine, const char *theirs)
{
	struct lock_arg a = {theirs, getpid()};
	struct pc_kid *k;
	int fd;

	OK(fd = open(mine, O_CREAT | O_RDWR, 0644));
	OK(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	if (!(k = pc_kid_start(kid_fcntl, &a, false)))
		return -1;
	DO(pc_kid_recv(k));
	ERR2(setlk(fd, F_SETLK, F_WRLCK, 150, 10), EAGAIN, EACCES);
	DO(getlk_is(fd, F_RDLCK, 120, 5, F_WRLCK, pc_kid_pid(k), 100, 100));
	OK(setlk(fd, F_SETLK, F_RDLCK, 0, 100));
	DO(pc_kid_send(k));
	DO(pc_kid_recv(k));
	OK(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	DO(pc_kid_send(k));
	DO(pc_kid_recv(k)); /* the child is about to block */
	usleep(300000);
	TRUE(!pc_kid_moved(k), "the child's F_SETLKW returned while the lock was held");
	OK(setlk(fd, F_SETLK, F_UNLCK, 0, 100));
	DO(pc_kid_recv(k));
	DO(getlk_is(fd, F_WRLCK, 10, 10, F_WRLCK, pc_kid_pid(k), 10, 10));
	DO(pc_kid_send(k));
	DO(pc_kid_wait(k));
	close(fd);
	return 0;
}

static int ck_fcntl_lock(void)
{
	return fcntl_pair(P("f"), P("f"));
}

static int ck_fcntl_lock_xmount(void)
{
	return fcntl_pair(P("f"), P2("f"));
}

static int kid_fcntl_close(void *arg)
{
	int fd;

	OK(fd = open(arg, O_RDWR));
	ERR2(setlk(fd, F_SETLK, F_WRLCK, 0, 0), EAGAIN, EACCES);
	DO(pc_child_send());
	DO(pc_child_recv()); /* the parent closed another fd of the file */
	OK(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	DO(pc_child_send());
	DO(pc_child_recv());
	return 0; /* exits holding the lock */
}

/* Closing any fd of a file drops the process's locks; so does exit. */
static int ck_fcntl_close(void)
{
	struct pc_kid *k;
	int fd, fd2;

	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0644));
	OK(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	if (!(k = pc_kid_start(kid_fcntl_close, (void *)P("f"), false)))
		return -1;
	DO(pc_kid_recv(k));
	OK(fd2 = open(P("f"), O_RDONLY));
	OK(close(fd2));
	DO(pc_kid_send(k));
	DO(pc_kid_recv(k));
	ERR2(setlk(fd, F_SETLK, F_WRLCK, 0, 0), EAGAIN, EACCES);
	DO(pc_kid_send(k));
	DO(pc_kid_wait(k));
	OK(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	close(fd);
	return 0;
}

/* ---- across mounts ---- */

static int ck_close_to_open(void)
{
	const size_t n = (1 << 20) + 12345, m = 3 * 4096 + 7;
	struct stat s1, s2;
	unsigned char *p;
	int fd;

	pc_fill(pc_a, n, 20);
	DO(pc_put_file(P("f"), pc_a, n));
	OK(stat(P("f"), &s1));
	OK(stat(P2("f"), &s2));
	EQ(s2.st_ino, s1.st_ino);
	EQ(s2.st_size, n);
	DO(pc_check_file(P2("f"), pc_a, n));
	/* back the other way, over pages the first mount has cached */
	OK(fd = open(P2("f"), O_RDWR));
	pc_fill(pc_a + 1000, 5000, 21);
	DO(pc_pwrite_all(fd, pc_a + 1000, 5000, 1000));
	pc_fill(pc_a + n, 4096, 22);
	DO(pc_pwrite_all(fd, pc_a + n, 4096, (off_t)n));
	OK(close(fd));
	DO(pc_check_file(P("f"), pc_a, n + 4096));
	OK(fd = open(P("f"), O_RDWR));
	OK(ftruncate(fd, 777));
	OK(close(fd));
	DO(pc_check_file(P2("f"), pc_a, 777));
	/* a shared writable mapping on one mount, read on the other */
	OK(fd = open(P("m"), O_CREAT | O_RDWR, 0644));
	OK(ftruncate(fd, (off_t)m));
	p = mmap(NULL, m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TRUE(p != MAP_FAILED, "mmap: %s", pc_ename(errno));
	pc_fill(pc_b, m, 23);
	memcpy(p, pc_b, m);
	OK(msync(p, m, MS_SYNC));
	munmap(p, m);
	OK(close(fd));
	DO(pc_check_file(P2("m"), pc_b, m));
	EQ(pc_count_entries(pc_base2), 4);
	return 0;
}

const struct pc_check pc_io_checks[] = {
    {"o_append", ck_o_append, false},
    {"read_write", ck_read_write, false},
    {"truncate", ck_truncate, false},
    {"fsync", ck_fsync, false},
    {"fallocate", ck_fallocate, false},
    {"seek_data_hole", ck_seek_data_hole, false},
    {"copy_file_range", ck_copy_file_range, false},
    {"mmap_read", ck_mmap_read, false},
    {"mmap_write", ck_mmap_write, false},
    {"flock", ck_flock, false},
    {"fcntl_lock", ck_fcntl_lock, false},
    {"fcntl_close", ck_fcntl_close, false},
    {"flock_xmount", ck_flock_xmount, true},
    {"fcntl_lock_xmount", ck_fcntl_lock_xmount, true},
    {"close_to_open", ck_close_to_open, true},
};
const size_t pc_io_nchecks = sizeof(pc_io_checks) / sizeof(pc_io_checks[0]);
