/*
 * posix_ns.c - posix_check's checks of names and attributes: lookup,
 * mkdir, rmdir, unlink, rename (over files and directories, across 16
 * directories, RENAME_NOREPLACE and RENAME_EXCHANGE), hard links (within
 * and across 16 directories), unlink of an open file, O_EXCL (with a race
 * of two processes) and O_CREAT|O_TRUNC, symlinks, FIFOs, chmod, chown,
 * utimensat, permission denial to uid 65534, access(2), user xattrs,
 * statfs and NAME_MAX, and readdir (1000 entries, telldir/seekdir, unlinks
 * during a listing).  Each check follows the contract of posix_check.h.
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

/* ---- namespace checks ---- */

static int ck_lookup(void)
{
	struct stat st;

	ERR(stat(P("nope"), &st), ENOENT);
	ERR(lstat(P("nope"), &st), ENOENT);
	ERR(open(P("nope"), O_RDONLY), ENOENT);
	ERR(stat(P("nope/x"), &st), ENOENT);
	ERR(mkdir(P("nope/x"), 0755), ENOENT);
	ERR(unlink(P("nope")), ENOENT);
	ERR(chmod(P("nope"), 0644), ENOENT);
	ERR(truncate(P("nope"), 0), ENOENT);
	ERR(rename(P("nope"), P("other")), ENOENT);
	DO(pc_put_file(P("f"), "abc", 3));
	OK(stat(P("f"), &st));
	TRUE(S_ISREG(st.st_mode), "f is not a regular file (mode 0%o)", st.st_mode);
	EQ(st.st_size, 3);
	EQ(st.st_nlink, 1);
	ERR(stat(P("f/x"), &st), ENOTDIR);
	ERR(open(P("f/"), O_RDONLY), ENOTDIR);
	ERR(open(P("f"), O_RDONLY | O_DIRECTORY), ENOTDIR);
	ERR(open(pc_base, O_WRONLY), EISDIR);
	ERR(open(pc_base, O_RDWR), EISDIR);
	return 0;
}

static int ck_mkdir(void)
{
	struct stat st;

	OK(mkdir(P("d"), 0750));
	OK(stat(P("d"), &st));
	TRUE(S_ISDIR(st.st_mode), "d is not a directory (mode 0%o)", st.st_mode);
	EQ(st.st_mode & 07777, 0750);
	EQ(st.st_uid, geteuid());
	EQ(pc_count_entries(P("d")), 2);
	ERR(mkdir(P("d"), 0755), EEXIST);
	DO(pc_put_file(P("f"), "x", 1));
	ERR(mkdir(P("f"), 0755), EEXIST);
	OK(symlink("nope", P("s")));
	ERR(mkdir(P("s"), 0755), EEXIST);
	ERR(mkdir(P("f/sub"), 0755), ENOTDIR);
	OK(mkdir(P("d/e"), 0755));
	OK(mkdir(P("d/e/f"), 0700));
	OK(stat(P("d/e/f"), &st));
	EQ(st.st_mode & 07777, 0700);
	EQ(pc_count_entries(P("d")), 3);
	return 0;
}

static int ck_rmdir(void)
{
	struct stat st;

	OK(mkdir(P("d"), 0755));
	DO(pc_put_file(P("d/f"), "x", 1));
	ERR2(rmdir(P("d")), ENOTEMPTY, EEXIST);
	ERR(rmdir(P("d/f")), ENOTDIR);
	ERR(rmdir(P("nope")), ENOENT);
	ERR(rmdir(P("d/.")), EINVAL);
	OK(symlink("d", P("s")));
	ERR(rmdir(P("s")), ENOTDIR);
	OK(unlink(P("d/f")));
	OK(mkdir(P("d/sub"), 0755));
	ERR2(rmdir(P("d")), ENOTEMPTY, EEXIST);
	OK(rmdir(P("d/sub")));
	OK(rmdir(P("d")));
	ERR(stat(P("d"), &st), ENOENT);
	EQ(pc_count_entries(pc_base), 3);
	return 0;
}

static int ck_unlink(void)
{
	struct stat st;

	OK(mkdir(P("d"), 0755));
	ERR2(unlink(P("d")), EISDIR, EPERM);
	DO(pc_put_file(P("f"), "x", 1));
	OK(unlink(P("f")));
	ERR(stat(P("f"), &st), ENOENT);
	ERR(unlink(P("f")), ENOENT);
	DO(pc_put_file(P("t"), "t", 1));
	OK(symlink("t", P("s")));
	OK(unlink(P("s")));
	ERR(lstat(P("s"), &st), ENOENT);
	DO(pc_check_file(P("t"), "t", 1));
	ERR(unlink(P("t/x")), ENOTDIR);
	return 0;
}

static int ck_rename(void)
{
	struct stat st, sa;
	int fd;

	pc_fill(pc_a, 5000, 1);
	pc_fill(pc_b, 7000, 2);
	DO(pc_put_file(P("a"), pc_a, 5000));
	DO(pc_put_file(P("b"), pc_b, 7000));
	OK(stat(P("a"), &sa));
	OK(fd = open(P("b"), O_RDONLY));
	OK(rename(P("a"), P("b")));
	ERR(stat(P("a"), &st), ENOENT);
	OK(stat(P("b"), &st));
	EQ(st.st_ino, sa.st_ino);
	DO(pc_check_file(P("b"), pc_a, 5000));
	DO(pc_check_fd(fd, pc_b, 7000, "the replaced file through an fd opened before"));
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 0);
	close(fd);
	OK(rename(P("b"), P("b")));
	OK(link(P("b"), P("c")));
	OK(rename(P("b"), P("c"))); /* two links to one file: does nothing */
	OK(stat(P("b"), &st));
	EQ(st.st_nlink, 2);
	OK(mkdir(P("d"), 0755));
	ERR(rename(P("c"), P("d")), EISDIR);
	OK(mkdir(P("e"), 0755));
	ERR(rename(P("e"), P("c")), ENOTDIR);
	OK(rename(P("c"), P("d/c")));
	DO(pc_check_file(P("d/c"), pc_a, 5000));
	return 0;
}

static int ck_rename_dir(void)
{
	struct stat st, sp;

	OK(mkdir(P("a"), 0755));
	DO(pc_put_file(P("a/f"), "af", 2));
	OK(mkdir(P("a/sub"), 0755));
	OK(mkdir(P("empty"), 0755));
	OK(rename(P("a"), P("empty")));
	ERR(stat(P("a"), &st), ENOENT);
	DO(pc_check_file(P("empty/f"), "af", 2));
	OK(stat(P("empty/sub"), &st));
	OK(mkdir(P("x"), 0755));
	DO(pc_put_file(P("x/g"), "g", 1));
	OK(mkdir(P("y"), 0755));
	DO(pc_put_file(P("y/h"), "h", 1));
	ERR2(rename(P("x"), P("y")), ENOTEMPTY, EEXIST);
	DO(pc_check_file(P("x/g"), "g", 1));
	DO(pc_check_file(P("y/h"), "h", 1));
	OK(mkdir(P("x/s1"), 0755));
	ERR(rename(P("x"), P("x/inner")), EINVAL);
	ERR(rename(P("x"), P("x/s1/inner")), EINVAL);
	ERR(rename(P("x/s1"), P("x/s1/inner")), EINVAL);
	OK(mkdir(P("p1"), 0755));
	OK(mkdir(P("p2"), 0755));
	OK(mkdir(P("p1/m"), 0755));
	DO(pc_put_file(P("p1/m/f"), "mf", 2));
	OK(rename(P("p1/m"), P("p2/m")));
	OK(stat(P("p2"), &sp));
	OK(stat(P("p2/m/.."), &st));
	EQ(st.st_ino, sp.st_ino);
	DO(pc_check_file(P("p2/m/f"), "mf", 2));
	ERR(stat(P("p1/m"), &st), ENOENT);
	EQ(pc_count_entries(P("p1")), 2);
	return 0;
}

/* A file and a directory moved through 16 directories (several shards). */
static int ck_rename_xdir(void)
{
	char from[16], to[16], dir[16];
	struct stat st, sf, sm, sd;

	DO(pc_mk_dirs(16));
	pc_fill(pc_a, 20000, 3);
	DO(pc_put_file(P("d00/f"), pc_a, 20000));
	OK(mkdir(P("d00/m"), 0755));
	DO(pc_put_file(P("d00/m/x"), "mx", 2));
	OK(stat(P("d00/f"), &sf));
	OK(stat(P("d00/m"), &sm));
	for (int i = 1; i < 16; i++) {
		snprintf(pc_ctx, sizeof(pc_ctx), "into d%02d", i);
		snprintf(from, sizeof(from), "d%02d/f", i - 1);
		snprintf(to, sizeof(to), "d%02d/f", i);
		OK(rename(P(from), P(to)));
		ERR(stat(P(from), &st), ENOENT);
		OK(stat(P(to), &st));
		EQ(st.st_ino, sf.st_ino);
		DO(pc_check_file(P(to), pc_a, 20000));
		snprintf(from, sizeof(from), "d%02d/m", i - 1);
		snprintf(to, sizeof(to), "d%02d/m", i);
		snprintf(dir, sizeof(dir), "d%02d", i);
		OK(rename(P(from), P(to)));
		OK(stat(P(to), &st));
		EQ(st.st_ino, sm.st_ino);
		OK(stat(P(dir), &sd));
		snprintf(to, sizeof(to), "d%02d/m/..", i);
		OK(stat(P(to), &st));
		EQ(st.st_ino, sd.st_ino);
		snprintf(to, sizeof(to), "d%02d/m/x", i);
		DO(pc_check_file(P(to), "mx", 2));
	}
	return 0;
}

static int ck_rename_noreplace(void)
{
	struct stat st;

	DO(pc_put_file(P("a"), "aaa", 3));
	DO(pc_put_file(P("b"), "bb", 2));
	ERR(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("b"), RENAME_NOREPLACE), EEXIST);
	DO(pc_check_file(P("a"), "aaa", 3));
	DO(pc_check_file(P("b"), "bb", 2));
	OK(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("c"), RENAME_NOREPLACE));
	ERR(stat(P("a"), &st), ENOENT);
	DO(pc_check_file(P("c"), "aaa", 3));
	OK(mkdir(P("d"), 0755));
	OK(mkdir(P("e"), 0755));
	ERR(renameat2(AT_FDCWD, P("d"), AT_FDCWD, P("e"), RENAME_NOREPLACE), EEXIST);
	OK(stat(P("d"), &st));
	return 0;
}

static int ck_rename_exchange(void)
{
	struct stat sa, sb, st;

	DO(pc_put_file(P("a"), "aaa", 3));
	DO(pc_put_file(P("b"), "bb", 2));
	OK(stat(P("a"), &sa));
	OK(stat(P("b"), &sb));
	OK(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("b"), RENAME_EXCHANGE));
	DO(pc_check_file(P("a"), "bb", 2));
	DO(pc_check_file(P("b"), "aaa", 3));
	OK(stat(P("a"), &st));
	EQ(st.st_ino, sb.st_ino);
	OK(mkdir(P("d"), 0755));
	DO(pc_put_file(P("d/x"), "x", 1));
	OK(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("d"), RENAME_EXCHANGE));
	DO(pc_check_file(P("a/x"), "x", 1));
	DO(pc_check_file(P("d"), "bb", 2));
	ERR(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("nope"), RENAME_EXCHANGE), ENOENT);
	OK(mkdir(P("p"), 0755));
	DO(pc_put_file(P("p/f"), "pf", 2));
	OK(renameat2(AT_FDCWD, P("p/f"), AT_FDCWD, P("b"), RENAME_EXCHANGE));
	DO(pc_check_file(P("p/f"), "aaa", 3));
	DO(pc_check_file(P("b"), "pf", 2));
	return 0;
}

static int ck_link(void)
{
	struct stat st, sf;
	int fd;

	DO(pc_put_file(P("f"), "hello", 5));
	OK(link(P("f"), P("g")));
	OK(stat(P("f"), &sf));
	OK(stat(P("g"), &st));
	EQ(st.st_ino, sf.st_ino);
	EQ(sf.st_nlink, 2);
	EQ(st.st_nlink, 2);
	OK(fd = open(P("g"), O_WRONLY | O_APPEND));
	EQ(write(fd, " world", 6), 6);
	close(fd);
	DO(pc_check_file(P("f"), "hello world", 11));
	OK(mkdir(P("d"), 0755));
	ERR(link(P("d"), P("d2")), EPERM);
	DO(pc_put_file(P("h"), "h", 1));
	ERR(link(P("f"), P("h")), EEXIST);
	ERR(link(P("nope"), P("x")), ENOENT);
	OK(link(P("f"), P("d/f3")));
	OK(stat(P("g"), &st));
	EQ(st.st_nlink, 3);
	OK(unlink(P("f")));
	OK(stat(P("g"), &st));
	EQ(st.st_nlink, 2);
	OK(unlink(P("d/f3")));
	OK(stat(P("g"), &st));
	EQ(st.st_nlink, 1);
	DO(pc_check_file(P("g"), "hello world", 11));
	return 0;
}

/* One file linked into 16 directories; names removed one by one. */
static int ck_link_shards(void)
{
	char name[16];
	struct stat st, s0;
	int fd, i;

	DO(pc_mk_dirs(16));
	pc_fill(pc_a, 100000, 4);
	DO(pc_put_file(P("d00/f"), pc_a, 100000));
	OK(stat(P("d00/f"), &s0));
	for (i = 1; i < 16; i++) {
		snprintf(name, sizeof(name), "d%02d/l", i);
		OK(link(P("d00/f"), P(name)));
	}
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), i ? "d%02d/l" : "d%02d/f", i);
		snprintf(pc_ctx, sizeof(pc_ctx), "%s", name);
		OK(stat(P(name), &st));
		EQ(st.st_ino, s0.st_ino);
		EQ(st.st_nlink, 16);
		DO(pc_check_file(P(name), pc_a, 100000));
	}
	pc_fill(pc_a + 5000, 3000, 5);
	OK(fd = open(P("d07/l"), O_WRONLY));
	DO(pc_pwrite_all(fd, pc_a + 5000, 3000, 5000));
	close(fd);
	DO(pc_check_file(P("d13/l"), pc_a, 100000));
	OK(fd = open(P("d00/f"), O_RDONLY));
	for (i = 15; i >= 0; i--) {
		snprintf(name, sizeof(name), i ? "d%02d/l" : "d%02d/f", i);
		snprintf(pc_ctx, sizeof(pc_ctx), "unlinking %s", name);
		OK(unlink(P(name)));
		ERR(stat(P(name), &st), ENOENT);
		if (i > 0) {
			OK(stat(P("d00/f"), &st));
			EQ(st.st_nlink, i);
		}
	}
	pc_ctx[0] = 0;
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 0);
	DO(pc_check_fd(fd, pc_a, 100000, "the file after its last name went"));
	close(fd);
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "d%02d", i);
		OK(rmdir(P(name)));
	}
	return 0;
}

static int ck_unlink_open(void)
{
	struct stat st;
	int fd, fd2;

	pc_fill(pc_a, 50000, 6);
	DO(pc_put_file(P("f"), pc_a, 50000));
	OK(fd = open(P("f"), O_RDWR));
	OK(fd2 = open(P("f"), O_RDONLY));
	OK(unlink(P("f")));
	ERR(stat(P("f"), &st), ENOENT);
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 0);
	EQ(st.st_size, 50000);
	DO(pc_check_fd(fd2, pc_a, 50000, "the unlinked file"));
	memset(pc_a + 50000, 0, 10000);
	pc_fill(pc_a + 60000, 4096, 7);
	DO(pc_pwrite_all(fd, pc_a + 60000, 4096, 60000));
	DO(pc_check_fd(fd2, pc_a, 64096, "the unlinked file after a write"));
	DO(pc_put_file(P("f"), "new", 3));
	DO(pc_check_fd(fd2, pc_a, 64096, "the unlinked file after its name was reused"));
	DO(pc_check_file(P("f"), "new", 3));
	OK(ftruncate(fd, 1000));
	OK(fstat(fd2, &st));
	EQ(st.st_size, 1000);
	DO(pc_check_fd(fd2, pc_a, 1000, "the unlinked file after ftruncate"));
	OK(close(fd));
	DO(pc_check_fd(fd2, pc_a, 1000, "the unlinked file after one fd closed"));
	OK(close(fd2));
	return 0;
}

/* ---- open flags ---- */

static int kid_excl(void *arg)
{
	char name[16], c = (char)('A' + *(int *)arg);
	int fd;

	DO(pc_child_recv());
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "r%02d", i);
		fd = open(P(name), O_CREAT | O_EXCL | O_WRONLY | O_APPEND, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		OK(fd);
		EQ(write(fd, &c, 1), 1);
		close(fd);
	}
	return 0;
}

static int ck_o_excl(void)
{
	struct pc_kid *k[2];
	int id[2] = {0, 1}, fd, i;
	char name[16];
	struct stat st;

	DO(pc_put_file(P("f"), "f", 1));
	ERR(open(P("f"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	OK(fd = open(P("g"), O_CREAT | O_EXCL | O_RDWR, 0640));
	OK(fstat(fd, &st));
	EQ(st.st_mode & 07777, 0640);
	EQ(st.st_size, 0);
	close(fd);
	OK(symlink("nope", P("s")));
	ERR(open(P("s"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	ERR(stat(P("nope"), &st), ENOENT);
	OK(mkdir(P("d"), 0755));
	ERR(open(P("d"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	/* two processes race for 50 names: each is created exactly once */
	for (i = 0; i < 2; i++)
		if (!(k[i] = pc_kid_start(kid_excl, &id[i], false)))
			return -1;
	DO(pc_kid_send(k[0]));
	DO(pc_kid_send(k[1]));
	DO(pc_kid_wait(k[0]));
	DO(pc_kid_wait(k[1]));
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "r%02d", i);
		snprintf(pc_ctx, sizeof(pc_ctx), "%s", name);
		/*
		 * Opened, not just stat()ed: the children's writes are seen
		 * from the next open (close-to-open), while a stat may be
		 * answered from attributes cached before they were done.
		 */
		OK(fd = open(P(name), O_RDONLY));
		OK(fstat(fd, &st));
		close(fd);
		EQ(st.st_size, 1); /* 2: both creators got the file */
	}
	return 0;
}

static int ck_o_creat_trunc(void)
{
	struct stat st;
	int fd;

	pc_fill(pc_a, 10000, 8);
	DO(pc_put_file(P("f"), pc_a, 10000));
	OK(chmod(P("f"), 0640));
	OK(fd = open(P("f"), O_CREAT | O_TRUNC | O_WRONLY, 0600));
	OK(fstat(fd, &st));
	EQ(st.st_size, 0);
	EQ(st.st_mode & 07777, 0640); /* O_CREAT of an existing file keeps its mode */
	EQ(write(fd, "new", 3), 3);
	close(fd);
	DO(pc_check_file(P("f"), "new", 3));
	OK(fd = open(P("f"), O_CREAT | O_RDWR, 0600));
	OK(fstat(fd, &st));
	EQ(st.st_size, 3);
	close(fd);
	OK(fd = open(P("g"), O_CREAT | O_TRUNC | O_WRONLY, 0604));
	OK(fstat(fd, &st));
	EQ(st.st_mode & 07777, 0604);
	EQ(st.st_size, 0);
	close(fd);
	return 0;
}

static int ck_symlink(void)
{
	char buf[2048], name[8], prev[8];
	struct stat st, t;

	DO(pc_put_file(P("t"), "T", 1));
	OK(stat(P("t"), &t));
	OK(symlink("t", P("s")));
	EQ(readlink(P("s"), buf, sizeof(buf)), 1);
	TRUE(buf[0] == 't', "readlink s (expected 't', got '%c')", buf[0]);
	OK(lstat(P("s"), &st));
	TRUE(S_ISLNK(st.st_mode), "lstat s: not a symlink (mode 0%o)", st.st_mode);
	EQ(st.st_size, 1);
	OK(stat(P("s"), &st));
	EQ(st.st_ino, t.st_ino);
	memset(buf, 'x', 1000);
	buf[1000] = 0;
	OK(symlink(buf, P("long")));
	EQ(readlink(P("long"), buf + 1024, 1024), 1000);
	TRUE(memcmp(buf, buf + 1024, 1000) == 0, "readlink of a 1000-byte target differs");
	EQ(readlink(P("long"), buf, 4), 4);
	ERR(readlink(P("t"), buf, sizeof(buf)), EINVAL);
	ERR(symlink("x", P("t")), EEXIST);
	OK(symlink("nope", P("dangling")));
	ERR(stat(P("dangling"), &st), ENOENT);
	OK(lstat(P("dangling"), &st));
	OK(symlink("l2", P("l1")));
	OK(symlink("l1", P("l2")));
	ERR(open(P("l1"), O_RDONLY), ELOOP);
	ERR(stat(P("l1"), &st), ELOOP);
	OK(symlink("self", P("self")));
	ERR(open(P("self"), O_RDONLY), ELOOP);
	ERR(open(P("s"), O_RDONLY | O_NOFOLLOW), ELOOP);
	snprintf(prev, sizeof(prev), "t");
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		OK(symlink(prev, P(name)));
		memcpy(prev, name, sizeof(prev));
	}
	DO(pc_check_file(P("c7"), "T", 1));
	OK(mkdir(P("d"), 0755));
	DO(pc_put_file(P("d/x"), "dx", 2));
	OK(symlink("d", P("ds")));
	DO(pc_check_file(P("ds/x"), "dx", 2));
	OK(symlink(P("t"), P("abs")));
	DO(pc_check_file(P("abs"), "T", 1));
	return 0;
}

static int ck_mknod_fifo(void)
{
	struct stat st;
	char buf[8];
	int rfd, wfd;

	OK(mknod(P("p"), S_IFIFO | 0644, 0));
	OK(lstat(P("p"), &st));
	TRUE(S_ISFIFO(st.st_mode), "p is not a FIFO (mode 0%o)", st.st_mode);
	EQ(st.st_mode & 07777, 0644);
	ERR(mknod(P("p"), S_IFIFO | 0644, 0), EEXIST);
	OK(mkfifo(P("q"), 0600));
	OK(lstat(P("q"), &st));
	TRUE(S_ISFIFO(st.st_mode), "q is not a FIFO (mode 0%o)", st.st_mode);
	OK(rfd = open(P("p"), O_RDONLY | O_NONBLOCK));
	OK(wfd = open(P("p"), O_WRONLY | O_NONBLOCK));
	EQ(write(wfd, "hello", 5), 5);
	EQ(read(rfd, buf, sizeof(buf)), 5);
	TRUE(memcmp(buf, "hello", 5) == 0, "the FIFO returned other bytes");
	close(wfd);
	close(rfd);
	OK(mknod(P("r"), S_IFREG | 0600, 0));
	OK(stat(P("r"), &st));
	TRUE(S_ISREG(st.st_mode), "mknod S_IFREG made mode 0%o", st.st_mode);
	EQ(st.st_size, 0);
	return 0;
}

/* ---- attributes ---- */

static int ck_chmod(void)
{
	struct stat st;
	int fd;

	DO(pc_put_file(P("f"), "x", 1));
	OK(chmod(P("f"), 0600));
	OK(stat(P("f"), &st));
	EQ(st.st_mode, S_IFREG | 0600);
	OK(fd = open(P("f"), O_RDONLY));
	OK(fchmod(fd, 0755));
	OK(fstat(fd, &st));
	EQ(st.st_mode, S_IFREG | 0755);
	close(fd);
	OK(chmod(P("f"), 06711));
	OK(stat(P("f"), &st));
	EQ(st.st_mode & 07777, 06711);
	OK(mkdir(P("d"), 0755));
	OK(chmod(P("d"), 01777));
	OK(stat(P("d"), &st));
	EQ(st.st_mode, S_IFDIR | 01777);
	OK(symlink("f", P("s")));
	OK(chmod(P("s"), 0640));
	OK(stat(P("f"), &st));
	EQ(st.st_mode & 07777, 0640);
	OK(lstat(P("s"), &st));
	TRUE(S_ISLNK(st.st_mode), "chmod through a symlink changed the link");
	return 0;
}

static int ck_chown(void)
{
	struct stat st;
	int fd;

	DO(pc_put_file(P("f"), "x", 1));
	OK(chown(P("f"), 1000, 2000));
	OK(stat(P("f"), &st));
	EQ(st.st_uid, 1000);
	EQ(st.st_gid, 2000);
	OK(chown(P("f"), (uid_t)-1, 3000));
	OK(stat(P("f"), &st));
	EQ(st.st_uid, 1000);
	EQ(st.st_gid, 3000);
	OK(fd = open(P("f"), O_RDONLY));
	OK(fchown(fd, 4000, (gid_t)-1));
	OK(fstat(fd, &st));
	EQ(st.st_uid, 4000);
	EQ(st.st_gid, 3000);
	close(fd);
	OK(symlink("f", P("s")));
	OK(lchown(P("s"), 5000, 5000));
	OK(lstat(P("s"), &st));
	EQ(st.st_uid, 5000);
	OK(stat(P("f"), &st));
	EQ(st.st_uid, 4000);
	OK(mkdir(P("d"), 0755));
	OK(chown(P("d"), 6000, 6000));
	OK(stat(P("d"), &st));
	EQ(st.st_gid, 6000);
	return 0;
}

/* got is (s, ns), or truncated to the file system's granularity (POSIX). */
static int ts_is(const char *what, struct timespec got, time_t s, long ns)
{
	if (got.tv_sec == s && got.tv_nsec <= ns)
		return 0;
	return pc_fail("%s (expected %lld.%09ld, got %lld.%09ld)", what, (long long)s, ns,
		       (long long)got.tv_sec, got.tv_nsec);
}

/* got is within a second of [lo, hi] (wall clock seconds). */
static int ts_now(const char *what, struct timespec got, time_t lo, time_t hi)
{
	if (got.tv_sec >= lo - 1 && got.tv_sec <= hi + 1)
		return 0;
	return pc_fail("%s (expected about now, %lld, got %lld)", what, (long long)lo,
		       (long long)got.tv_sec);
}

static int ck_utimens(void)
{
	struct timespec ts[2] = {{1000000000, 123456000}, {1200000000, 654321000}};
	struct stat st;
	time_t lo, hi;
	int fd;

	DO(pc_put_file(P("f"), "x", 1));
	OK(utimensat(AT_FDCWD, P("f"), ts, 0));
	OK(stat(P("f"), &st));
	DO(ts_is("atime", st.st_atim, 1000000000, 123456000));
	DO(ts_is("mtime", st.st_mtim, 1200000000, 654321000));
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){1300000000, 0};
	OK(utimensat(AT_FDCWD, P("f"), ts, 0));
	OK(stat(P("f"), &st));
	DO(ts_is("atime after UTIME_OMIT", st.st_atim, 1000000000, 123456000));
	DO(ts_is("mtime", st.st_mtim, 1300000000, 0));
	ts[1].tv_nsec = UTIME_NOW;
	lo = time(NULL);
	OK(utimensat(AT_FDCWD, P("f"), ts, 0));
	hi = time(NULL);
	OK(stat(P("f"), &st));
	DO(ts_is("atime after UTIME_OMIT", st.st_atim, 1000000000, 123456000));
	DO(ts_now("mtime after UTIME_NOW", st.st_mtim, lo, hi));
	DO(ts_now("ctime after utimensat", st.st_ctim, lo, hi));
	OK(fd = open(P("f"), O_RDWR));
	ts[0] = (struct timespec){1100000000, 5000};
	ts[1] = (struct timespec){1100000001, 6000};
	OK(futimens(fd, ts));
	OK(fstat(fd, &st));
	DO(ts_is("mtime after futimens", st.st_mtim, 1100000001, 6000));
	lo = time(NULL);
	EQ(pwrite(fd, "y", 1, 0), 1);
	OK(close(fd));
	hi = time(NULL);
	OK(stat(P("f"), &st));
	DO(ts_now("mtime after a write", st.st_mtim, lo, hi));
	OK(symlink("f", P("s")));
	ts[1] = (struct timespec){1000, 0};
	OK(utimensat(AT_FDCWD, P("s"), ts, AT_SYMLINK_NOFOLLOW));
	OK(lstat(P("s"), &st));
	DO(ts_is("symlink mtime with AT_SYMLINK_NOFOLLOW", st.st_mtim, 1000, 0));
	OK(stat(P("f"), &st));
	DO(ts_now("target mtime untouched", st.st_mtim, lo, hi));
	return 0;
}

/* ---- permissions (children run as uid 65534 in pc_base) ---- */

static int kid_perm_open(void *arg)
{
	char buf[8];
	struct stat st;
	int fd;

	(void)arg;
	ERR(open("secret", O_RDONLY), EACCES);
	ERR(open("pub", O_WRONLY), EACCES);
	ERR(open("pub", O_RDWR), EACCES);
	ERR(truncate("pub", 0), EACCES);
	OK(fd = open("pub", O_RDONLY));
	EQ(read(fd, buf, sizeof(buf)), 3);
	close(fd);
	ERR(stat("priv/x", &st), EACCES);
	ERR(open("priv/x", O_RDONLY), EACCES);
	ERR(open("priv", O_RDONLY | O_DIRECTORY), EACCES);
	return 0;
}

static int ck_perm_open(void)
{
	DO(pc_put_file(P("secret"), "sec", 3));
	OK(chmod(P("secret"), 0600));
	DO(pc_put_file(P("pub"), "pub", 3));
	OK(mkdir(P("priv"), 0700));
	DO(pc_put_file(P("priv/x"), "x", 1));
	return pc_as_nobody(kid_perm_open, NULL);
}

static int kid_perm_create(void *arg)
{
	struct stat st;
	int fd;

	(void)arg;
	ERR(open("ro/new", O_CREAT | O_WRONLY, 0644), EACCES);
	ERR(mkdir("ro/d", 0755), EACCES);
	ERR(unlink("ro/f"), EACCES);
	ERR(rename("ro/f", "ro/g"), EACCES);
	ERR(symlink("x", "ro/s"), EACCES);
	ERR(mknod("ro/p", S_IFIFO | 0644, 0), EACCES);
	OK(fd = open("ro/f", O_WRONLY)); /* the file itself is 0666 */
	close(fd);
	OK(fd = open("rw/new", O_CREAT | O_WRONLY, 0644));
	OK(fstat(fd, &st));
	EQ(st.st_uid, PC_NOBODY);
	EQ(st.st_gid, PC_NOBODY);
	close(fd);
	OK(mkdir("rw/d", 0755));
	OK(unlink("rw/new"));
	return 0;
}

static int ck_perm_create(void)
{
	struct stat st;

	OK(mkdir(P("ro"), 0755));
	DO(pc_put_file(P("ro/f"), "f", 1));
	OK(chmod(P("ro/f"), 0666));
	OK(mkdir(P("rw"), 0777));
	DO(pc_as_nobody(kid_perm_create, NULL));
	OK(stat(P("rw/d"), &st));
	EQ(st.st_uid, PC_NOBODY);
	EQ(pc_count_entries(P("ro")), 3);
	return 0;
}

static int kid_perm_sticky(void *arg)
{
	int fd;

	(void)arg;
	ERR(unlink("t/rootf"), EPERM);
	ERR(rename("t/rootf", "t/x"), EPERM);
	OK(fd = open("t/rootf", O_WRONLY));
	close(fd);
	OK(fd = open("t/mine", O_CREAT | O_EXCL | O_WRONLY, 0644));
	close(fd);
	OK(rename("t/mine", "t/mine2"));
	OK(unlink("t/mine2"));
	OK(unlink("w/rootf")); /* no sticky bit: allowed */
	return 0;
}

static int ck_perm_sticky(void)
{
	struct stat st;

	OK(mkdir(P("t"), 0777));
	OK(chmod(P("t"), 01777));
	OK(mkdir(P("w"), 0777));
	DO(pc_put_file(P("t/rootf"), "r", 1));
	OK(chmod(P("t/rootf"), 0666));
	DO(pc_put_file(P("w/rootf"), "r", 1));
	DO(pc_as_nobody(kid_perm_sticky, NULL));
	OK(stat(P("t/rootf"), &st));
	ERR(stat(P("w/rootf"), &st), ENOENT);
	return 0;
}

static int kid_perm_owner(void *arg)
{
	struct timespec ts[2] = {{1000, 0}, {1000, 0}};
	int fd;

	(void)arg;
	ERR(chmod("f", 0777), EPERM);
	ERR(chown("f", PC_NOBODY, PC_NOBODY), EPERM);
	ERR(utimensat(AT_FDCWD, "f", ts, 0), EPERM);
	OK(utimensat(AT_FDCWD, "f", NULL, 0)); /* write permission is enough */
	ERR(utimensat(AT_FDCWD, "g", NULL, 0), EACCES);
	OK(fd = open("w/own", O_CREAT | O_EXCL | O_WRONLY, 0644));
	close(fd);
	OK(chmod("w/own", 0600));
	OK(utimensat(AT_FDCWD, "w/own", ts, 0));
	ERR(chown("w/own", 0, (gid_t)-1), EPERM);
	return 0;
}

static int ck_perm_owner(void)
{
	struct stat st;

	DO(pc_put_file(P("f"), "f", 1));
	OK(chmod(P("f"), 0666));
	DO(pc_put_file(P("g"), "g", 1));
	OK(mkdir(P("w"), 0777));
	DO(pc_as_nobody(kid_perm_owner, NULL));
	OK(stat(P("f"), &st));
	EQ(st.st_mode & 07777, 0666);
	EQ(st.st_uid, 0);
	OK(stat(P("w/own"), &st));
	EQ(st.st_mode & 07777, 0600);
	return 0;
}

static int kid_access(void *arg)
{
	(void)arg;
	OK(access("f", R_OK));
	ERR(access("f", W_OK), EACCES);
	ERR(access("f", X_OK), EACCES);
	ERR(access("n", R_OK), EACCES);
	OK(access("x", R_OK | X_OK));
	ERR(access("nope", F_OK), ENOENT);
	return 0;
}

static int ck_access(void)
{
	DO(pc_put_file(P("f"), "f", 1));
	DO(pc_put_file(P("x"), "x", 1));
	OK(chmod(P("x"), 0755));
	DO(pc_put_file(P("n"), "n", 1));
	OK(chmod(P("n"), 0));
	OK(access(P("f"), F_OK));
	OK(access(P("f"), R_OK | W_OK));
	OK(access(P("n"), R_OK | W_OK));   /* root */
	ERR(access(P("n"), X_OK), EACCES); /* root needs some x bit */
	OK(access(P("x"), X_OK));
	ERR(access(P("nope"), F_OK), ENOENT);
	return pc_as_nobody(kid_access, NULL);
}

/* ---- xattrs ---- */

static int xattr_count(const char *list, ssize_t n, const char *name)
{
	int c = 0;

	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		c += strcmp(list + i, name) == 0;
	return c;
}

static int ck_xattr(void)
{
	char buf[4096], list[1024];
	ssize_t n;
	int fd;

	DO(pc_put_file(P("f"), "f", 1));
	OK(setxattr(P("f"), "user.a", "alpha", 5, 0));
	EQ(getxattr(P("f"), "user.a", NULL, 0), 5);
	EQ(getxattr(P("f"), "user.a", buf, sizeof(buf)), 5);
	TRUE(memcmp(buf, "alpha", 5) == 0, "user.a (expected 'alpha', got '%.5s')", buf);
	ERR(getxattr(P("f"), "user.a", buf, 2), ERANGE);
	ERR(setxattr(P("f"), "user.a", "x", 1, XATTR_CREATE), EEXIST);
	ERR(setxattr(P("f"), "user.b", "x", 1, XATTR_REPLACE), ENODATA);
	OK(setxattr(P("f"), "user.a", "beta", 4, XATTR_REPLACE));
	EQ(getxattr(P("f"), "user.a", buf, sizeof(buf)), 4);
	TRUE(memcmp(buf, "beta", 4) == 0, "user.a (expected 'beta', got '%.4s')", buf);
	pc_fill(pc_a, 2000, 12);
	pc_a[10] = pc_a[1999] = 0;
	OK(setxattr(P("f"), "user.bin", pc_a, 2000, XATTR_CREATE));
	OK(setxattr(P("f"), "user.empty", "", 0, 0));
	EQ(getxattr(P("f"), "user.empty", buf, sizeof(buf)), 0);
	ERR(getxattr(P("f"), "user.nope", buf, sizeof(buf)), ENODATA);
	ERR(getxattr(P("nope"), "user.a", buf, sizeof(buf)), ENOENT);
	OK(n = listxattr(P("f"), NULL, 0));
	EQ(listxattr(P("f"), list, sizeof(list)), n);
	EQ(xattr_count(list, n, "user.a"), 1);
	EQ(xattr_count(list, n, "user.bin"), 1);
	EQ(xattr_count(list, n, "user.empty"), 1);
	ERR(listxattr(P("f"), list, 1), ERANGE);
	OK(removexattr(P("f"), "user.a"));
	ERR(getxattr(P("f"), "user.a", buf, sizeof(buf)), ENODATA);
	ERR(removexattr(P("f"), "user.a"), ENODATA);
	OK(n = listxattr(P("f"), list, sizeof(list)));
	EQ(xattr_count(list, n, "user.a"), 0);
	OK(rename(P("f"), P("g")));
	OK(fd = open(P("g"), O_RDONLY));
	EQ(fgetxattr(fd, "user.bin", buf, sizeof(buf)), 2000);
	DO(pc_cmp("user.bin after a rename", (unsigned char *)buf, pc_a, 2000));
	OK(fsetxattr(fd, "user.fd", "fd", 2, 0));
	close(fd);
	EQ(getxattr(P("g"), "user.fd", buf, sizeof(buf)), 2);
	OK(mkdir(P("d"), 0755));
	OK(setxattr(P("d"), "user.dir", "dir", 3, 0));
	EQ(getxattr(P("d"), "user.dir", buf, sizeof(buf)), 3);
	return 0;
}

/* ---- file system ---- */

static int ck_statfs(void)
{
	struct statvfs a, b;
	int fd;

	OK(statvfs(pc_base, &a));
	TRUE(a.f_bsize > 0 && a.f_frsize > 0, "f_bsize %lu, f_frsize %lu (expected > 0)", a.f_bsize,
	     a.f_frsize);
	TRUE(a.f_blocks > 0, "f_blocks is 0");
	TRUE(a.f_bfree <= a.f_blocks, "f_bfree %llu > f_blocks %llu", (unsigned long long)a.f_bfree,
	     (unsigned long long)a.f_blocks);
	TRUE(a.f_bavail <= a.f_bfree, "f_bavail %llu > f_bfree %llu",
	     (unsigned long long)a.f_bavail, (unsigned long long)a.f_bfree);
	TRUE(a.f_files == 0 || a.f_ffree <= a.f_files, "f_ffree %llu > f_files %llu",
	     (unsigned long long)a.f_ffree, (unsigned long long)a.f_files);
	TRUE(a.f_namemax >= 14, "f_namemax %lu (expected >= _POSIX_NAME_MAX)", a.f_namemax);
	DO(pc_put_file(P("f"), "f", 1));
	OK(fd = open(P("f"), O_RDONLY));
	OK(fstatvfs(fd, &b));
	close(fd);
	EQ(b.f_fsid, a.f_fsid);
	EQ(b.f_blocks, a.f_blocks);
	EQ(b.f_namemax, a.f_namemax);
	ERR(statvfs(P("nope"), &b), ENOENT);
	return 0;
}

/* A name of f_namemax bytes works; one byte more is ENAMETOOLONG. */
static int ck_name_max(void)
{
	char name[NAME_MAX + 2];
	struct statvfs sv;
	size_t max;

	OK(statvfs(pc_base, &sv));
	max = sv.f_namemax;
	if (max > NAME_MAX)
		max = NAME_MAX;
	memset(name, 'n', max);
	name[max] = 0;
	DO(pc_put_file(P(name), "n", 1));
	DO(pc_check_file(P(name), "n", 1));
	OK(unlink(P(name)));
	if (sv.f_namemax <= NAME_MAX) {
		name[max] = 'n';
		name[max + 1] = 0;
		ERR(open(P(name), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
		ERR(mkdir(P(name), 0755), ENAMETOOLONG);
	}
	return 0;
}

#define NDIRENT 1000

/* Index of "eNNNN" (0..NDIRENT-1), NDIRENT for ".", NDIRENT+1 for "..". */
static int dirent_code(const char *name)
{
	char *end;
	long i;

	if (strcmp(name, ".") == 0)
		return NDIRENT;
	if (strcmp(name, "..") == 0)
		return NDIRENT + 1;
	if (name[0] != 'e' || strlen(name) != 5)
		return -1;
	i = strtol(name + 1, &end, 10);
	return *end || i < 0 || i >= NDIRENT ? -1 : (int)i;
}

/* One pass over d: every entry known and seen exactly once, d_ino right. */
static int readdir_all(DIR *d, int *codes, long *tells)
{
	static unsigned char seen[NDIRENT + 2];
	struct dirent *e;
	struct stat st;
	int n = 0, c;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		if (tells && n < NDIRENT + 2)
			tells[n] = telldir(d);
		if (!(e = readdir(d)))
			break;
		c = dirent_code(e->d_name);
		TRUE(c >= 0, "readdir returned an unknown name '%s'", e->d_name);
		TRUE(!seen[c]++, "readdir returned '%s' twice", e->d_name);
		TRUE(n < NDIRENT + 2, "readdir returned more than %d entries", NDIRENT + 2);
		codes[n++] = c;
		if (c >= NDIRENT)
			continue;
		OK(lstat(P(e->d_name), &st));
		EQ(e->d_ino, st.st_ino);
		TRUE(e->d_type == DT_UNKNOWN || e->d_type == DT_REG,
		     "d_type of %s is %d (expected DT_REG)", e->d_name, e->d_type);
	}
	EQ(n, NDIRENT + 2);
	return 0;
}

static int ck_readdir(void)
{
	static int codes[NDIRENT + 2], again[NDIRENT + 2];
	static long tells[NDIRENT + 2];
	char name[16];
	struct dirent *e;
	DIR *d;
	int fd, i, k;

	for (i = 0; i < NDIRENT; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		OK(fd = open(P(name), O_CREAT | O_EXCL | O_WRONLY, 0644));
		close(fd);
	}
	TRUE(d = opendir(pc_base), "opendir: %s", pc_ename(errno));
	if (readdir_all(d, codes, tells) < 0 || (rewinddir(d), readdir_all(d, again, NULL)) < 0)
		goto fail_closedir;
	/* resume from telldir() positions: the same entries in the same order */
	for (k = 0; k < 40; k++) {
		i = (k * 397) % (NDIRENT + 2);
		seekdir(d, tells[i]);
		e = readdir(d);
		if (!e || dirent_code(e->d_name) != codes[i]) {
			pc_fail("after seekdir to entry %d's telldir: expected entry %d, got %s", i,
				codes[i], e ? e->d_name : "end of directory");
			goto fail_closedir;
		}
	}
	seekdir(d, tells[300]);
	for (i = 300; (e = readdir(d)); i++)
		if (i >= NDIRENT + 2 || dirent_code(e->d_name) != codes[i])
			break;
	closedir(d);
	EQ(i, NDIRENT + 2);
	return 0;
fail_closedir:
	closedir(d);
	return -1;
}

/* Removing entries during a listing: the others are still seen once. */
static int ck_readdir_unlink(void)
{
	static unsigned char seen[2000];
	char name[64];
	struct dirent *e;
	int fd, i, n = 0;
	DIR *d;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%04d_%034d", i, 0);
		OK(fd = open(P(name), O_CREAT | O_EXCL | O_WRONLY, 0644));
		close(fd);
	}
	TRUE(d = opendir(pc_base), "opendir: %s", pc_ename(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		i = atoi(e->d_name + 1);
		if (i < 0 || i >= 2000 || seen[i]++) {
			closedir(d);
			return pc_fail("readdir returned '%s' twice or unknown", e->d_name);
		}
		if (++n != 500)
			continue;
		for (int j = 0; j < 2000; j += 5) {
			snprintf(name, sizeof(name), "n%04d_%034d", j, 0);
			if (unlink(P(name)) < 0) {
				closedir(d);
				return pc_fail("unlink %s during readdir: %s", name,
					       pc_ename(errno));
			}
		}
	}
	closedir(d);
	for (i = 0; i < 2000; i++)
		TRUE(i % 5 == 0 || seen[i] == 1, "entry n%04d not listed (expected once)", i);
	return 0;
}

const struct pc_check pc_ns_checks[] = {
    {"lookup", ck_lookup, false},
    {"mkdir", ck_mkdir, false},
    {"rmdir", ck_rmdir, false},
    {"unlink", ck_unlink, false},
    {"rename", ck_rename, false},
    {"rename_dir", ck_rename_dir, false},
    {"rename_xdir", ck_rename_xdir, false},
    {"rename_noreplace", ck_rename_noreplace, false},
    {"rename_exchange", ck_rename_exchange, false},
    {"link", ck_link, false},
    {"link_shards", ck_link_shards, false},
    {"unlink_open", ck_unlink_open, false},
    {"o_excl", ck_o_excl, false},
    {"o_creat_trunc", ck_o_creat_trunc, false},
    {"symlink", ck_symlink, false},
    {"mknod_fifo", ck_mknod_fifo, false},
    {"chmod", ck_chmod, false},
    {"chown", ck_chown, false},
    {"utimens", ck_utimens, false},
    {"perm_open", ck_perm_open, false},
    {"perm_create", ck_perm_create, false},
    {"perm_sticky", ck_perm_sticky, false},
    {"perm_owner", ck_perm_owner, false},
    {"access", ck_access, false},
    {"xattr", ck_xattr, false},
    {"statfs", ck_statfs, false},
    {"name_max", ck_name_max, false},
    {"readdir", ck_readdir, false},
    {"readdir_unlink", ck_readdir_unlink, false},
};
const size_t pc_ns_nchecks = sizeof(pc_ns_checks) / sizeof(pc_ns_checks[0]);
