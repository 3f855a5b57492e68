/*
 * store_open.c - the store's life cycle: format a data directory, open it
 * (superblock checks, exclusive lock, O_DIRECT probe, start-up scan that
 * removes temporary files and indexes every chunk), close it, and the small
 * queries (info, statfs, fault injection).
 *
 * Threads: format and open run on the caller's thread before the store is
 * shared; close runs when no other call is in flight.  The scan reads each
 * chunk header once with plain pread (start-up only).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/error.h"
#include "common/log.h"
#include "osd/store_int.h"

#define SB_NAME "superblock"
#define SB_TMP_NAME "superblock.tmp"
#define CHUNKS_NAME "chunks"
#define PROBE_NAME ".tmp.direct-probe"

void *store_abuf(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, STORE_BLOCK, (size_t)store_round_up(len ? len : 1)) != 0)
		return NULL;
	return p;
}

/* ---- format ----------------------------------------------------------- */

static int write_superblock(int dfd, uint32_t osd_id)
{
	struct osd_chunkfmt_sb sb = {.format = OSD_STORE_FORMAT, .osd_id = osd_id};
	uint8_t buf[OSD_CHUNKFMT_SB_LEN];
	ssize_t n;
	int fd, ret = 0;

	if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != (ssize_t)sizeof(sb.uuid))
		return -EIO;
	sb.uuid[6] = (uint8_t)((sb.uuid[6] & 0x0f) | 0x40); /* version 4 */
	sb.uuid[8] = (uint8_t)((sb.uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	sb.created = (uint64_t)time(NULL);
	osd_chunkfmt_sb_encode(buf, &sb);
	fd = openat(dfd, SB_TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf))
		ret = n < 0 ? -errno : -EIO;
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	close(fd);
	if (ret == 0 && renameat2(dfd, SB_TMP_NAME, dfd, SB_NAME, RENAME_NOREPLACE) != 0)
		ret = -errno;
	if (ret == 0 && fsync(dfd) != 0)
		ret = -errno;
	if (ret)
		unlinkat(dfd, SB_TMP_NAME, 0);
	return ret;
}

int osd_store_format(const char *dir, uint32_t osd_id)
{
	int dfd, ret;

	if (!dir)
		return -EINVAL;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		ret = -errno;
		log_error("osd store: cannot create %s: %s", dir, error_str(ret));
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		log_error("osd store: cannot open %s: %s", dir, error_str(ret));
		return ret;
	}
	if (faccessat(dfd, SB_NAME, F_OK, 0) == 0) {
		log_error("osd store: %s is already formatted (it has a superblock)", dir);
		ret = -EEXIST;
		goto out;
	}
	if (mkdirat(dfd, CHUNKS_NAME, 0750) != 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	ret = write_superblock(dfd, osd_id);
	if (ret)
		goto fail;
	log_info("osd store: formatted %s for osd %" PRIu32, dir, osd_id);
	goto out;
fail:
	log_error("osd store: formatting %s failed: %s", dir, error_str(ret));
out:
	close(dfd);
	return ret;
}

/* ---- open --------------------------------------------------------------- */

static int open_superblock(struct osd_store *st, uint32_t osd_id)
{
	uint8_t buf[256];
	ssize_t n;
	int ret;

	st->sb_fd = openat(st->dir_fd, SB_NAME, O_RDWR | O_CLOEXEC);
	if (st->sb_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_error("osd store: %s is not formatted (no superblock)", st->dir);
		else
			log_error("osd store: cannot open %s/%s: %s", st->dir, SB_NAME,
				  error_str(ret));
		return ret;
	}
	if (flock(st->sb_fd, LOCK_EX | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("osd store: %s is in use by another process", st->dir);
		return ret;
	}
	n = pread(st->sb_fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	ret = osd_chunkfmt_sb_decode(buf, (size_t)n, &st->sb);
	if (ret == -EUCLEAN)
		log_error("osd store: %s/%s is not a Cairn OSD superblock", st->dir, SB_NAME);
	else if (ret == -CAIRN_ECHECKSUM)
		log_error("osd store: superblock of %s is damaged (checksum mismatch)", st->dir);
	else if (ret == -ENOTSUP)
		log_error("osd store: %s has format version %" PRIu32 "; this build knows %u",
			  st->dir, st->sb.format, OSD_STORE_FORMAT);
	if (ret)
		return ret;
	if (st->sb.osd_id != osd_id) {
		log_error("osd store: %s was formatted for osd %" PRIu32 ", not osd %" PRIu32,
			  st->dir, st->sb.osd_id, osd_id);
		return -EINVAL;
	}
	return 0;
}

/*
 * Tries an O_DIRECT write and read of one block; a file system that refuses
 * (tmpfs on older kernels: EINVAL at open) makes the store use buffered I/O.
 */
static void probe_direct(struct osd_store *st)
{
	uint8_t *b = store_abuf(STORE_BLOCK);
	int fd, err = 0;

	if (!b) {
		st->direct = false;
		return;
	}
	memset(b, 0, STORE_BLOCK);
	fd = openat(st->dir_fd, PROBE_NAME, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC,
		    0640);
	if (fd < 0)
		err = errno;
	else if (pwrite(fd, b, STORE_BLOCK, 0) != STORE_BLOCK ||
		 pread(fd, b, STORE_BLOCK, 0) != STORE_BLOCK)
		err = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	unlinkat(st->dir_fd, PROBE_NAME, 0);
	free(b);
	if (err) {
		log_warn("osd store: %s refuses O_DIRECT (%s); using buffered I/O", st->dir,
			 error_str(err));
		st->direct = false;
	}
}

static int apply_opts(struct osd_store *st, const struct osd_store_opts *opts)
{
	const char *spec = opts ? opts->fault : NULL;
	int ret;

	st->level = opts ? opts->compress_level : 0;
	if (st->level < compress_level_min() || st->level > compress_level_max()) {
		log_error("osd store: zstd level %d out of range [%d, %d]", st->level,
			  compress_level_min(), compress_level_max());
		return -EINVAL;
	}
	if (!spec)
		spec = getenv("CAIRN_OSD_FAULT");
	ret = osd_store_set_fault(st, spec);
	if (ret) {
		log_error("osd store: bad fault injection spec '%s'", spec);
		return ret;
	}
	st->direct = opts && opts->direct_io;
	if (st->direct)
		probe_direct(st);
	return 0;
}

static struct osd_store *store_alloc(const char *dir)
{
	struct osd_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->dir_fd = st->chunks_fd = st->sb_fd = -1;
	st->dir = strdup(dir);
	st->ix = osd_index_new();
	if (!st->dir || !st->ix) {
		free(st->dir);
		osd_index_free(st->ix);
		free(st);
		return NULL;
	}
	for (size_t i = 0; i < STORE_LOCKS; i++)
		pthread_mutex_init(&st->locks[i], NULL);
	pthread_mutex_init(&st->pgdir_lock, NULL);
	return st;
}

int osd_store_open(const char *dir, uint32_t osd_id, const struct osd_store_opts *opts,
		   struct osd_store **out)
{
	struct osd_store *st;
	int ret;

	if (!dir || !out)
		return -EINVAL;
	*out = NULL;
	st = store_alloc(dir);
	if (!st)
		return -ENOMEM;
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0) {
		ret = -errno;
		log_error("osd store: cannot open data directory %s: %s", dir, error_str(ret));
		goto fail;
	}
	ret = open_superblock(st, osd_id);
	if (ret)
		goto fail;
	st->chunks_fd = openat(st->dir_fd, CHUNKS_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->chunks_fd < 0) {
		ret = -errno;
		log_error("osd store: cannot open %s/%s: %s", dir, CHUNKS_NAME, error_str(ret));
		goto fail;
	}
	ret = apply_opts(st, opts);
	if (ret)
		goto fail;
	ret = store_scan(st);
	if (ret)
		goto fail;
	*out = st;
	return 0;
fail:
	osd_store_close(st);
	return ret;
}

void osd_store_close(struct osd_store *st)
{
	if (!st)
		return;
	store_pgdirs_free(st);
	for (size_t i = 0; i < STORE_LOCKS; i++)
		pthread_mutex_destroy(&st->locks[i]);
	pthread_mutex_destroy(&st->pgdir_lock);
	osd_index_free(st->ix);
	if (st->chunks_fd >= 0)
		close(st->chunks_fd);
	if (st->sb_fd >= 0)
		close(st->sb_fd); /* drops the flock */
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	free(st->dir);
	free(st);
}

/* ---- PG directory records ----------------------------------------------- */

static size_t pgdir_slot(uint32_t pool, uint32_t pg)
{
	return (size_t)((((uint64_t)pool << 32) | pg) * 0x9e3779b97f4a7c15ull >> 54) %
	       STORE_PGDIRS;
}

struct pgdir *store_pgdir_get(struct osd_store *st, uint32_t pool, uint32_t pg)
{
	size_t slot = pgdir_slot(pool, pg);
	struct pgdir *pd;

	pthread_mutex_lock(&st->pgdir_lock);
	for (pd = st->pgdirs[slot]; pd; pd = pd->next)
		if (pd->pool == pool && pd->pg == pg)
			goto out;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		goto out;
	pd->pool = pool;
	pd->pg = pg;
	pthread_mutex_init(&pd->lock, NULL);
	pthread_cond_init(&pd->cond, NULL);
	pd->next = st->pgdirs[slot];
	st->pgdirs[slot] = pd;
out:
	pthread_mutex_unlock(&st->pgdir_lock);
	return pd;
}

void store_pgdirs_free(struct osd_store *st)
{
	for (size_t s = 0; s < STORE_PGDIRS; s++) {
		while (st->pgdirs[s]) {
			struct pgdir *pd = st->pgdirs[s];

			st->pgdirs[s] = pd->next;
			pthread_mutex_destroy(&pd->lock);
			pthread_cond_destroy(&pd->cond);
			free(pd);
		}
	}
}

/* ---- start-up scan -------------------------------------------------------- */

/* Parses a canonical decimal uint32 directory name. */
static bool parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* Reads and checks the header of one chunk file; 0 or -CAIRN_ECHECKSUM/-errno. */
static int scan_header(int fd, const struct osd_chunk_id *id, uint64_t version,
		       struct osd_chunk_version *v)
{
	uint8_t first[STORE_BLOCK];
	struct osd_chunkfmt_hdr h;
	uint8_t *full = NULL;
	size_t hdr_len;
	struct stat sb;
	ssize_t n;
	int ret;

	n = pread(fd, first, sizeof(first), 0);
	if (n < 0 || fstat(fd, &sb) != 0)
		return -errno;
	ret = osd_chunkfmt_peek(first, (size_t)n, &h);
	if (ret)
		return ret;
	hdr_len = osd_chunkfmt_hdr_len(h.stored);
	if (hdr_len > sizeof(first)) {
		full = malloc(hdr_len);
		if (!full)
			return -ENOMEM;
		n = pread(fd, full, hdr_len, 0);
	}
	ret = osd_chunkfmt_decode(full ? full : first, n < 0 ? 0 : (size_t)n, &h);
	free(full);
	if (ret)
		return ret;
	if (h.pool != id->pool || h.pg != id->pg || h.ino != id->ino || h.stripe != id->stripe ||
	    h.idx != id->idx || h.version != version ||
	    (uint64_t)sb.st_size < hdr_len + h.stored)
		return -CAIRN_ECHECKSUM;
	*v = (struct osd_chunk_version){version, h.length, h.stored,
					(h.flags & OSD_CHUNKFMT_FLAG_ZSTD) ? OSD_CHUNK_ZSTD : 0};
	return 0;
}

static int scan_chunk(struct osd_store *st, int dfd, const char *name, uint32_t pool, uint32_t pg)
{
	struct osd_chunk_id id = {.pool = pool, .pg = pg};
	struct osd_chunk_version v;
	uint64_t version;
	int fd, ret;

	if (osd_chunkfmt_parse_name(name, &id.ino, &id.stripe, &id.idx, &version) != 0 ||
	    version == 0) {
		log_warn("osd store: ignoring unexpected file chunks/%u/%u/%s", pool, pg, name);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = scan_header(fd, &id, version, &v);
	close(fd);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		/* Keep it listed so scrub and recovery see it; reads fail. */
		log_error("osd store: " CHUNK_FMT " v%" PRIu64 " has a damaged header (%s)",
			  CHUNK_ARGS(&id), version, error_str(ret));
		v = (struct osd_chunk_version){version, 0, 0, OSD_CHUNK_DAMAGED};
	}
	return osd_index_add(st->ix, &id, &v);
}

static int scan_pg(struct osd_store *st, int pool_fd, const char *pgname, uint32_t pool,
		   uint32_t pg)
{
	struct dirent *de;
	unsigned removed = 0;
	struct pgdir *pd;
	int dfd, ret = 0;
	DIR *d;

	dfd = openat(pool_fd, pgname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOTDIR ? 0 : -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (osd_chunkfmt_is_tmp(de->d_name)) {
			if (unlinkat(dfd, de->d_name, 0) == 0)
				removed++;
			continue;
		}
		ret = scan_chunk(st, dfd, de->d_name, pool, pg);
	}
	if (ret == 0 && removed) {
		log_info("osd store: removed %u temporary files in chunks/%u/%u", removed, pool,
			 pg);
		if (fsync(dfd) != 0)
			ret = -errno;
	}
	closedir(d);
	pd = store_pgdir_get(st, pool, pg);
	if (!pd)
		return -ENOMEM;
	pd->ready = true;
	return ret;
}

static int scan_pool(struct osd_store *st, const char *poolname, uint32_t pool)
{
	struct dirent *de;
	int dfd, ret = 0;
	uint32_t pg;
	DIR *d;

	dfd = openat(st->chunks_fd, poolname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOTDIR ? 0 : -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!parse_u32(de->d_name, &pg)) {
			log_warn("osd store: ignoring chunks/%s/%s", poolname, de->d_name);
			continue;
		}
		ret = scan_pg(st, dfd, de->d_name, pool, pg);
	}
	closedir(d);
	return ret;
}

int store_scan(struct osd_store *st)
{
	struct dirent *de;
	uint32_t pool;
	int dfd, ret = 0;
	DIR *d;

	dfd = openat(st->chunks_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!parse_u32(de->d_name, &pool)) {
			log_warn("osd store: ignoring chunks/%s", de->d_name);
			continue;
		}
		ret = scan_pool(st, de->d_name, pool);
	}
	closedir(d);
	if (ret)
		log_error("osd store: scanning %s failed: %s", st->dir, error_str(ret));
	return ret;
}

/* ---- queries -------------------------------------------------------------- */

void osd_store_info(const struct osd_store *st, struct osd_store_info *out)
{
	memset(out, 0, sizeof(*out));
	out->osd_id = st->sb.osd_id;
	out->format = st->sb.format;
	memcpy(out->uuid, st->sb.uuid, sizeof(out->uuid));
	osd_chunkfmt_uuid_str(st->sb.uuid, out->uuid_str);
	out->direct_io = st->direct;
}

int osd_store_statfs(struct osd_store *st, struct osd_store_statfs *out)
{
	struct statvfs vfs;

	if (!st || !out)
		return -EINVAL;
	if (fstatvfs(st->dir_fd, &vfs) != 0)
		return -errno;
	out->capacity = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	out->used = (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
	out->available = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return 0;
}

int osd_store_set_fault(struct osd_store *st, const char *spec)
{
	enum osd_io_fault_kind kind;
	enum osd_io_fault_op op;
	long nth;
	int ret;

	if (!st)
		return -EINVAL;
	ret = osd_io_fault_parse(spec, &op, &nth, &kind);
	if (ret)
		return ret;
	osd_io_fault_arm(&st->fault, op, nth, kind);
	return 0;
}

long osd_store_faults_fired(struct osd_store *st)
{
	return osd_io_fault_fired(&st->fault);
}

void osd_store_thread_cleanup(void)
{
	osd_io_thread_cleanup();
}
