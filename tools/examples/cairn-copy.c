/*
 * cairn-copy.c - example program of libcairn's data API: copies a local
 * file into a Cairn cluster (`put`) or out of it (`get`), in 4 MiB pieces
 * through cairn_pwrite() / cairn_pread().
 *
 * Usage: cairn-copy [-c CONF] put LOCAL-FILE CAIRN-PATH
 *        cairn-copy [-c CONF] get CAIRN-PATH LOCAL-FILE
 * CAIRN-PATH names a file in an existing directory of the cluster; put
 * creates it (or truncates it).  Exits 0, or 1 with a message.
 *
 * Threads: one.  Everything it opens is closed before it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cairn.h"

#define PIECE (4u << 20)

/* Opens the cluster file path: created (or truncated) for put. */
static int open_path(struct cairn *c, const char *path, bool put, struct cairn_file **f)
{
	struct cairn_attr a;
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int rc = cairn_stat_path(c, NULL, path, &a);

	if (rc == 0)
		return cairn_file_open(c, NULL, a.ino, put ? O_WRONLY | O_TRUNC : O_RDONLY, f);
	if (rc != -ENOENT || !put)
		return rc;
	if (!slash) {
		a.ino = CAIRN_ROOT_INO;
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		rc = cairn_stat_path(c, NULL, dir[0] ? dir : "/", &a);
		if (rc)
			return rc;
	}
	return cairn_file_create(c, NULL, a.ino, slash ? slash + 1 : path, 0644, O_WRONLY, f);
}

static int copy(struct cairn_file *f, int fd, bool put, char *buf)
{
	uint64_t off = 0;

	for (;;) {
		ssize_t n = put ? read(fd, buf, PIECE) : cairn_pread(f, buf, PIECE, off);

		if (n < 0)
			return put ? -errno : (int)n;
		if (n == 0)
			return put ? cairn_fsync(f, false) : 0;
		if (put) {
			ssize_t w = cairn_pwrite(f, buf, (size_t)n, off);

			if (w < 0)
				return (int)w;
		} else if (write(fd, buf, (size_t)n) != n) {
			return -errno;
		}
		off += (uint64_t)n;
	}
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *local, *remote;
	struct cairn_file *f = NULL;
	struct cairn *c = NULL;
	char *buf = NULL;
	bool put;
	int fd = -1, rc;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		conf = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 4 || (strcmp(argv[1], "put") && strcmp(argv[1], "get"))) {
		fprintf(stderr, "usage: cairn-copy [-c CONF] put|get SOURCE DEST\n");
		return 1;
	}
	put = strcmp(argv[1], "put") == 0;
	local = put ? argv[2] : argv[3];
	remote = put ? argv[3] : argv[2];
	fd = put ? open(local, O_RDONLY) : open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "cairn-copy: %s: %s\n", local, strerror(errno));
		return 1;
	}
	buf = malloc(PIECE);
	rc = buf ? cairn_open_conf(conf, &c) : -ENOMEM;
	if (rc == 0)
		rc = open_path(c, remote, put, &f);
	if (rc == 0)
		rc = copy(f, fd, put, buf);
	if (f && cairn_file_close(f) && rc == 0)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "cairn-copy: %s: %s\n", remote, cairn_strerror(rc));
	cairn_close(c);
	free(buf);
	close(fd);
	return rc ? 1 : 0;
}
