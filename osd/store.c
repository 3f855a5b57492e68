/*
 * store.c - chunk I/O of the OSD store: versioned copy-on-write writes,
 * checked reads, trim, delete, listing and usage (see store.h).
 *
 * Write path (one chunk version): build the new content (the caller's
 * buffer as is for a whole-chunk write, else the newest version read back
 * with the range replaced), compress it when asked and worth it, compute the
 * block CRCs into the header, then in the PG directory: create
 * ".tmp.<n>.<name>", write header + data and fdatasync as one linked
 * io_uring submission, rename to the final name (RENAME_NOREPLACE), fsync
 * the directory (group commit: one fsync covers every rename that came
 * before it), and only then publish the version in the index.  Version files
 * are never modified after the rename, so a reader holding one sees one
 * complete version whatever writers do.
 *
 * Read path: look up the version in the index, open its file, read the
 * header and the needed blocks in one submission, check the header (CRC,
 * identity, lengths) and each block's CRC, then copy out (or read straight
 * into the caller's buffer when the range is block-aligned).  A compressed
 * version is read whole, checked, decompressed.
 *
 * Threads and locks: see store_int.h.  Chunk operations that change files
 * hold the chunk's striped mutex; readers hold none and retry once when the
 * version they picked is trimmed before they open it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/error.h"
#include "common/log.h"
#include "osd/store_int.h"

#define READ_RETRIES 4

/* What an update asks for: a range write or a new length. */
struct update {
	uint64_t off;
	const uint8_t *buf;
	size_t len;
	uint32_t flags;
	bool set_length;
	uint64_t length; /* with set_length */
};

/* The new version being built. */
struct plan {
	uint64_t length;	/* logical length */
	const uint8_t *logical; /* full logical content (length bytes) */
	uint8_t *base;		/* owned logical buffer, or NULL */
	uint8_t *zbuf;		/* owned compressed frame, or NULL */
	const uint8_t *data;	/* stored bytes: logical or zbuf */
	uint64_t stored;
	bool owned;   /* data is ours: 4 KiB-aligned, zero-padded */
	uint16_t fmt; /* OSD_CHUNKFMT_FLAG_* */
};

static bool id_ok(const struct osd_chunk_id *id)
{
	return id && id->idx <= OSD_STORE_IDX_MAX;
}

static pthread_mutex_t *chunk_lock(struct osd_store *st, const struct osd_chunk_id *id)
{
	uint64_t h = id->ino * 0x9e3779b97f4a7c15ull;

	h ^= (id->stripe + ((uint64_t)id->pool << 40) + ((uint64_t)id->idx << 24)) *
	     0xbf58476d1ce4e5b9ull;
	return &st->locks[(h ^ (h >> 29)) % STORE_LOCKS];
}

static int version_path(char *buf, size_t cap, const struct osd_chunk_id *id, uint64_t version)
{
	char name[OSD_CHUNKFMT_NAME_MAX];
	int n;

	osd_chunkfmt_name(name, sizeof(name), id->ino, id->stripe, id->idx, version);
	n = snprintf(buf, cap, "%" PRIu32 "/%" PRIu32 "/%s", id->pool, id->pg, name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- PG directories -------------------------------------------------------- */

/* mkdir that reports whether it created the directory; 0 or -errno. */
static int mkdir_new(int dfd, const char *path, bool *created)
{
	*created = false;
	if (mkdirat(dfd, path, 0750) == 0) {
		*created = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

/* Syncs the directory at path (relative to dfd); 0 or -errno. */
static int fsync_dir_at(int dfd, const char *path)
{
	int fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Creates DIR/chunks/<pool>/<pg> durably.  Caller holds pd->lock. */
static int pgdir_create(struct osd_store *st, struct pgdir *pd)
{
	char path[32];
	bool created;
	int ret;

	snprintf(path, sizeof(path), "%" PRIu32, pd->pool);
	ret = mkdir_new(st->chunks_fd, path, &created);
	if (ret == 0 && created)
		ret = fsync_dir_at(st->chunks_fd, ".");
	snprintf(path, sizeof(path), "%" PRIu32 "/%" PRIu32, pd->pool, pd->pg);
	if (ret == 0)
		ret = mkdir_new(st->chunks_fd, path, &created);
	snprintf(path, sizeof(path), "%" PRIu32, pd->pool);
	if (ret == 0 && created)
		ret = fsync_dir_at(st->chunks_fd, path);
	return ret;
}

/* Opens the chunk's PG directory, creating it first if needed. */
static int pgdir_open(struct osd_store *st, const struct osd_chunk_id *id, struct pgdir **pdp,
		      int *dfd)
{
	struct pgdir *pd = store_pgdir_get(st, id->pool, id->pg);
	char path[32];
	int ret = 0;

	if (!pd)
		return -ENOMEM;
	pthread_mutex_lock(&pd->lock);
	if (!pd->ready) {
		ret = pgdir_create(st, pd);
		pd->ready = ret == 0;
	}
	pthread_mutex_unlock(&pd->lock);
	if (ret) {
		log_error("osd store: cannot create directory chunks/%" PRIu32 "/%" PRIu32 ": %s",
			  id->pool, id->pg, error_str(ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%" PRIu32 "/%" PRIu32, id->pool, id->pg);
	*dfd = openat(st->chunks_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0)
		return -errno;
	*pdp = pd;
	return 0;
}

/*
 * Makes every rename done in the directory before this call durable.  Group
 * commit: a thread that finds an fsync running waits for it and then for
 * the next one, which covers its rename; that next fsync is run by whichever
 * waiter gets there first.
 */
static int pgdir_sync(struct pgdir *pd, int dfd)
{
	uint64_t ticket, target;
	int ret = 0;

	pthread_mutex_lock(&pd->lock);
	ticket = ++pd->requested;
	while (pd->done < ticket && ret == 0) {
		if (pd->syncing) {
			pthread_cond_wait(&pd->cond, &pd->lock);
			continue;
		}
		pd->syncing = true;
		target = pd->requested;
		pthread_mutex_unlock(&pd->lock);
		ret = fsync(dfd) == 0 ? 0 : -errno;
		pthread_mutex_lock(&pd->lock);
		pd->syncing = false;
		if (ret == 0 && pd->done < target)
			pd->done = target;
		pthread_cond_broadcast(&pd->cond);
	}
	pthread_mutex_unlock(&pd->lock);
	return ret;
}

/* ---- reading a version ---------------------------------------------------- */

struct rd {
	struct osd_store *st;
	const struct osd_chunk_id *id;
	const struct osd_chunk_version *v;
	int fd;
	uint8_t *hdr; /* hdr_len bytes, 4 KiB-aligned */
	size_t hdr_len;
};

/*
 * openat() with O_DIRECT when the store uses it; a file system that refuses
 * O_DIRECT (EINVAL) gets a buffered open instead, logged once.
 */
static int open_maybe_direct(struct osd_store *st, int dfd, const char *path, int flags)
{
	static atomic_bool warned;
	int fd;

	if (!st->direct)
		return openat(dfd, path, flags, 0640);
	fd = openat(dfd, path, flags | O_DIRECT, 0640);
	if (fd < 0 && errno == EINVAL) {
		if (!atomic_exchange(&warned, true))
			log_warn("osd store: O_DIRECT refused under %s; using buffered I/O there",
				 st->dir);
		fd = openat(dfd, path, flags, 0640);
	}
	return fd;
}

static int open_version(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version)
{
	char path[96];
	int fd;

	version_path(path, sizeof(path), id, version);
	fd = open_maybe_direct(st, st->chunks_fd, path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int damaged(const struct rd *r, const char *what, uint32_t block)
{
	if (block == UINT32_MAX)
		log_error("osd store: " CHUNK_FMT " v%" PRIu64 ": %s", CHUNK_ARGS(r->id),
			  r->v->version, what);
	else
		log_error("osd store: " CHUNK_FMT " v%" PRIu64 ": %s in block %" PRIu32,
			  CHUNK_ARGS(r->id), r->v->version, what, block);
	return -CAIRN_ECHECKSUM;
}

/* Checks the header read into r->hdr (res bytes) against what the index says. */
static int check_header(const struct rd *r, ssize_t res, struct osd_chunkfmt_hdr *h)
{
	const struct osd_chunk_id *id = r->id;
	bool zstd = (r->v->flags & OSD_CHUNK_ZSTD) != 0;

	if (res < (ssize_t)r->hdr_len)
		return damaged(r, "file shorter than its header", UINT32_MAX);
	if (osd_chunkfmt_decode(r->hdr, r->hdr_len, h) != 0)
		return damaged(r, "header checksum mismatch or bad header", UINT32_MAX);
	if (h->pool != id->pool || h->pg != id->pg || h->ino != id->ino ||
	    h->stripe != id->stripe || h->idx != id->idx || h->version != r->v->version ||
	    h->length != r->v->length || h->stored != r->v->stored ||
	    zstd != ((h->flags & OSD_CHUNKFMT_FLAG_ZSTD) != 0))
		return damaged(r, "header does not match the chunk", UINT32_MAX);
	return 0;
}

/* Reads the header and stored blocks [b0, b1) into dst (dst_len bytes). */
static int read_blocks(struct rd *r, uint32_t b0, uint32_t b1, uint8_t *dst, size_t dst_len)
{
	uint64_t start = (uint64_t)b0 * STORE_BLOCK;
	uint64_t need = r->v->stored - start;
	struct osd_io_rd io[2] = {
		{.fd = r->fd, .buf = r->hdr, .len = r->hdr_len, .off = 0},
		{.fd = r->fd, .buf = dst, .len = dst_len, .off = r->hdr_len + start},
	};
	struct osd_chunkfmt_hdr h;
	uint32_t bad;
	int ret;

	if (need > (uint64_t)(b1 - b0) * STORE_BLOCK)
		need = (uint64_t)(b1 - b0) * STORE_BLOCK;
	ret = osd_io_read(io, b1 > b0 ? 2 : 1, &r->st->fault);
	if (ret) {
		log_error("osd store: reading " CHUNK_FMT " v%" PRIu64 " failed: %s",
			  CHUNK_ARGS(r->id), r->v->version, error_str(ret));
		return ret;
	}
	ret = check_header(r, io[0].res, &h);
	if (ret)
		return ret;
	if (b1 > b0 && (uint64_t)io[1].res < need)
		return damaged(r, "file shorter than its stored length", UINT32_MAX);
	if (osd_chunkfmt_verify(r->hdr, &h, b0, b1 - b0, dst, &bad) != 0)
		return damaged(r, "checksum mismatch", bad);
	return 0;
}

/* [off, off + n) of a raw version, n > 0 and within the length. */
static int read_raw(struct rd *r, uint64_t off, uint8_t *buf, size_t n)
{
	uint32_t b0 = (uint32_t)(off / STORE_BLOCK);
	uint32_t b1 = (uint32_t)((off + n + STORE_BLOCK - 1) / STORE_BLOCK);
	size_t span = (size_t)(b1 - b0) * STORE_BLOCK;
	bool at_end = off + n == r->v->stored;
	bool into_buf;
	uint8_t *tmp = NULL;
	int ret;

	/* Straight into the caller's buffer when the range is whole blocks. */
	into_buf = off % STORE_BLOCK == 0 && (n == span || (!r->st->direct && at_end)) &&
		   (!r->st->direct || (uintptr_t)buf % STORE_BLOCK == 0);
	if (!into_buf) {
		tmp = store_abuf(span);
		if (!tmp)
			return -ENOMEM;
	}
	ret = read_blocks(r, b0, b1, into_buf ? buf : tmp, into_buf ? n : span);
	if (ret == 0 && tmp)
		memcpy(buf, tmp + (off - (uint64_t)b0 * STORE_BLOCK), n);
	free(tmp);
	return ret;
}

/* [off, off + n) of a compressed version: read, check, decompress whole. */
static int read_zstd(struct rd *r, uint64_t off, uint8_t *buf, size_t n)
{
	uint32_t nb = osd_chunkfmt_nblocks(r->v->stored);
	bool whole = off == 0 && n == r->v->length;
	uint8_t *z = store_abuf((size_t)nb * STORE_BLOCK);
	uint8_t *out = whole ? buf : malloc((size_t)r->v->length);
	size_t out_len = 0;
	int ret = -ENOMEM;

	if (!z || !out)
		goto out;
	ret = read_blocks(r, 0, nb, z, (size_t)nb * STORE_BLOCK);
	if (ret)
		goto out;
	ret = decompress_zstd(out, (size_t)r->v->length, z, (size_t)r->v->stored, &out_len);
	if (ret == -ENOMEM)
		goto out;
	if (ret || out_len != r->v->length) {
		ret = damaged(r, "zstd frame does not decode to the chunk", UINT32_MAX);
		goto out;
	}
	if (!whole)
		memcpy(buf, out + off, n);
out:
	free(z);
	if (out != buf)
		free(out);
	return ret;
}

/* Reads [off, off + n) of version v from its open file; n == 0 checks the header. */
static int read_version(struct osd_store *st, const struct osd_chunk_id *id,
			const struct osd_chunk_version *v, int fd, uint64_t off, uint8_t *buf,
			size_t n)
{
	struct rd r = {st, id, v, fd, NULL, osd_chunkfmt_hdr_len(v->stored)};
	int ret;

	r.hdr = store_abuf(r.hdr_len);
	if (!r.hdr)
		return -ENOMEM;
	if (n == 0)
		ret = read_blocks(&r, 0, 0, NULL, 0);
	else if (v->flags & OSD_CHUNK_ZSTD)
		ret = read_zstd(&r, off, buf, n);
	else
		ret = read_raw(&r, off, buf, n);
	free(r.hdr);
	return ret;
}

/*
 * Looks up and reads a version (0: newest).  A version trimmed between the
 * lookup and the open is looked up again (only when asked for the newest).
 */
static int read_chunk(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		      uint64_t off, uint8_t *buf, size_t len, struct osd_read_result *res)
{
	struct osd_chunk_version v;
	int ret = -ENOENT;

	for (int attempt = 0; attempt < READ_RETRIES; attempt++) {
		size_t n;
		int fd;

		ret = osd_index_find(st->ix, id, version, &v);
		if (ret)
			return ret;
		if (v.flags & OSD_CHUNK_DAMAGED) {
			log_error("osd store: " CHUNK_FMT " v%" PRIu64
				  ": header was damaged at start-up",
				  CHUNK_ARGS(id), v.version);
			return -CAIRN_ECHECKSUM;
		}
		n = off >= v.length ? 0 : (size_t)(v.length - off < len ? v.length - off : len);
		*res = (struct osd_read_result){v.version, v.length, n};
		if (n == 0 && buf)
			return 0;
		fd = open_version(st, id, v.version);
		if (fd < 0) {
			ret = fd;
			if (fd == -ENOENT && version == 0)
				continue; /* trimmed meanwhile: look again */
			return ret;
		}
		ret = read_version(st, id, &v, fd, off, buf, n);
		close(fd);
		if (ret && n)
			memset(buf, 0, n);
		return ret;
	}
	return ret;
}

int osd_store_read(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		   uint64_t off, void *buf, size_t len, struct osd_read_result *res)
{
	struct osd_read_result dummy;

	if (!st || !id_ok(id) || (!buf && len > 0))
		return -EINVAL;
	if (!buf)
		buf = &dummy; /* len 0: never written */
	return read_chunk(st, id, version, off, buf, len, res ? res : &dummy);
}

int osd_store_verify(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version)
{
	struct osd_chunk_version v;
	struct osd_read_result res;
	uint8_t *buf;
	int ret;

	if (!st || !id_ok(id))
		return -EINVAL;
	ret = osd_index_find(st->ix, id, version, &v);
	if (ret)
		return ret;
	buf = store_abuf((size_t)v.length);
	if (!buf)
		return -ENOMEM;
	ret = read_chunk(st, id, v.version, 0, v.length ? buf : NULL, (size_t)v.length, &res);
	free(buf);
	return ret;
}

/* ---- building a new version ------------------------------------------------ */

static void plan_free(struct plan *p)
{
	free(p->base);
	free(p->zbuf);
}

/* The new logical content: the caller's buffer, or prev with the update applied. */
static int plan_content(struct osd_store *st, const struct osd_chunk_id *id,
			const struct osd_chunk_version *prev, const struct update *u,
			struct plan *p)
{
	bool replace = (u->flags & OSD_STORE_REPLACE) != 0;
	uint64_t keep, cap;
	int ret;

	if (u->set_length)
		p->length = u->length;
	else if (replace || !prev)
		p->length = u->off + u->len;
	else
		p->length = prev->length > u->off + u->len ? prev->length : u->off + u->len;
	if (!u->set_length && u->off == 0 && p->length == u->len) {
		p->logical = u->buf; /* whole chunk: no copy */
		return 0;
	}
	keep = prev && !replace ? (prev->length < p->length ? prev->length : p->length) : 0;
	cap = store_round_up(prev && keep ? (prev->length > p->length ? prev->length : p->length)
					  : p->length);
	p->base = store_abuf((size_t)cap);
	if (!p->base)
		return -ENOMEM;
	if (keep) {
		struct osd_read_result res;

		ret = read_chunk(st, id, prev->version, 0, p->base, (size_t)prev->length, &res);
		if (ret)
			return ret;
	}
	memset(p->base + keep, 0, (size_t)(cap - keep));
	if (u->len)
		memcpy(p->base + u->off, u->buf, u->len);
	p->logical = p->base;
	p->owned = true;
	return 0;
}

/* Compresses when asked and when it saves at least 1/8; else stores raw. */
static int plan_compress(struct osd_store *st, const struct update *u, struct plan *p)
{
	size_t cap = (size_t)(p->length - p->length / 8), zlen = 0;
	int ret;

	p->data = p->logical;
	p->stored = p->length;
	if (!(u->flags & OSD_STORE_COMPRESS) || p->length == 0)
		return 0;
	p->zbuf = store_abuf(cap);
	if (!p->zbuf)
		return -ENOMEM;
	ret = compress_zstd(p->zbuf, cap, p->logical, (size_t)p->length, st->level, &zlen);
	if (ret == -ENOMEM)
		return ret;
	if (ret || zlen >= p->length) {
		if (ret && ret != -ENOSPC)
			log_warn("osd store: zstd failed (%s); storing raw", error_str(ret));
		free(p->zbuf);
		p->zbuf = NULL;
		return 0;
	}
	memset(p->zbuf + zlen, 0, (size_t)(store_round_up(zlen) - zlen));
	p->data = p->zbuf;
	p->stored = zlen;
	p->owned = true;
	p->fmt = OSD_CHUNKFMT_FLAG_ZSTD;
	return 0;
}

/* ---- writing a version file -------------------------------------------------- */

struct wbuf {
	struct iovec iov[3];
	unsigned cnt;
	uint8_t *bounce; /* owned */
};

/*
 * Header + stored bytes as iovecs.  With O_DIRECT every piece must be
 * 4 KiB-aligned and padded: the caller's buffer goes as is when aligned
 * (its last partial block through a padded copy), else through a copy.
 */
static int wbuf_build(struct osd_store *st, const struct plan *p, uint8_t *hdr, size_t hdr_len,
		      struct wbuf *w)
{
	size_t stored = (size_t)p->stored, head, tail;

	w->iov[0] = (struct iovec){hdr, hdr_len};
	w->cnt = 1;
	if (stored == 0)
		return 0;
	if (!st->direct || p->owned) {
		w->iov[w->cnt++] = (struct iovec){(void *)p->data,
						  st->direct ? store_round_up(stored) : stored};
		return 0;
	}
	head = (uintptr_t)p->data % STORE_BLOCK ? 0 : stored / STORE_BLOCK * STORE_BLOCK;
	tail = stored - head;
	if (head)
		w->iov[w->cnt++] = (struct iovec){(void *)p->data, head};
	if (tail) {
		w->bounce = store_abuf(tail);
		if (!w->bounce)
			return -ENOMEM;
		memcpy(w->bounce, p->data + head, tail);
		memset(w->bounce + tail, 0, (size_t)(store_round_up(tail) - tail));
		w->iov[w->cnt++] = (struct iovec){w->bounce, store_round_up(tail)};
	}
	return 0;
}

/* Creates the temporary file (buffered if O_DIRECT is refused: padding is harmless). */
static int create_tmp(struct osd_store *st, int dfd, const char *tmp)
{
	int fd = open_maybe_direct(st, dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Renames without replacing; where RENAME_NOREPLACE is unsupported, a plain rename. */
static int rename_new(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	return renameat(dfd, from, dfd, to) == 0 ? 0 : -errno;
}

/* Writes and syncs the temporary file; removes it on failure. */
static int write_tmp(struct osd_store *st, int dfd, const char *tmp, const struct plan *p,
		     uint8_t *hdr, size_t hdr_len)
{
	struct wbuf w = {.bounce = NULL};
	int fd, ret;

	ret = wbuf_build(st, p, hdr, hdr_len, &w);
	if (ret)
		return ret;
	fd = create_tmp(st, dfd, tmp);
	if (fd < 0) {
		free(w.bounce);
		return fd;
	}
	ret = osd_io_write(fd, w.iov, w.cnt, 0, true, &st->fault);
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret)
		unlinkat(dfd, tmp, 0);
	free(w.bounce);
	return ret;
}

/*
 * Renames the synced temporary file into place (over the old file of the
 * same version when repairing) and syncs the directory.
 */
static int publish(struct osd_store *st, const struct osd_chunk_id *id, int dfd, struct pgdir *pd,
		   const char *tmp, const char *name, const struct osd_chunk_version *v,
		   bool repair)
{
	int ret, sync_ret;

	if (repair)
		ret = renameat(dfd, tmp, dfd, name) == 0 ? 0 : -errno;
	else
		ret = rename_new(dfd, tmp, name);
	if (ret) {
		unlinkat(dfd, tmp, 0);
		if (ret == -EEXIST)
			log_error("osd store: " CHUNK_FMT " v%" PRIu64
				  " exists on disk but not in the index",
				  CHUNK_ARGS(id), v->version);
		return ret;
	}
	sync_ret = pgdir_sync(pd, dfd);
	/* The file is in place: index it even if the sync failed (a retry is idempotent). */
	ret = osd_index_add(st->ix, id, v);
	if (ret) {
		unlinkat(dfd, name, 0);
		return ret;
	}
	return sync_ret;
}

static int write_version(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
			 const struct plan *p, bool repair)
{
	struct osd_chunkfmt_hdr h = {
		.pool = id->pool,
		.pg = id->pg,
		.ino = id->ino,
		.stripe = id->stripe,
		.idx = id->idx,
		.flags = p->fmt,
		.version = version,
		.length = p->length,
		.stored = p->stored,
	};
	struct osd_chunk_version v = {version, p->length, p->stored,
				      p->fmt ? OSD_CHUNK_ZSTD : 0};
	size_t hdr_len = osd_chunkfmt_hdr_len(p->stored);
	char name[OSD_CHUNKFMT_NAME_MAX], tmp[OSD_CHUNKFMT_NAME_MAX + 32];
	uint8_t *hdr = store_abuf(hdr_len);
	struct pgdir *pd;
	int dfd = -1, ret;

	if (!hdr)
		return -ENOMEM;
	osd_chunkfmt_encode(hdr, &h, p->data);
	osd_chunkfmt_name(name, sizeof(name), id->ino, id->stripe, id->idx, version);
	snprintf(tmp, sizeof(tmp), OSD_CHUNKFMT_TMP_PREFIX "%lu.%s",
		 atomic_fetch_add(&st->tmp_seq, 1), name);
	ret = pgdir_open(st, id, &pd, &dfd);
	if (ret == 0)
		ret = write_tmp(st, dfd, tmp, p, hdr, hdr_len);
	if (ret == 0)
		ret = publish(st, id, dfd, pd, tmp, name, &v, repair);
	if (dfd >= 0)
		close(dfd);
	free(hdr);
	if (ret == -EDQUOT)
		ret = -ENOSPC;
	if (ret)
		log_error("osd store: writing " CHUNK_FMT " v%" PRIu64 " failed: %s",
			  CHUNK_ARGS(id), version, error_str(ret));
	return ret;
}

/* ---- updates ------------------------------------------------------------------ */

/*
 * The update re-sent for the newest version: accepted when that version
 * already holds what the update would produce; then its rename is made
 * durable (the first attempt may have died before the directory sync).
 */
static int update_same(struct osd_store *st, const struct osd_chunk_id *id,
		       const struct osd_chunk_version *cur, const struct update *u)
{
	bool replace = (u->flags & OSD_STORE_REPLACE) != 0;
	struct osd_read_result res;
	uint8_t *old = NULL;
	struct pgdir *pd;
	int dfd, ret = 0;

	if (u->set_length ? cur->length != u->length
			  : cur->length < u->off + u->len ||
				    (replace && cur->length != u->off + u->len))
		return -ESTALE;
	if (!u->set_length && u->len > 0) {
		old = malloc(u->len);
		if (!old)
			return -ENOMEM;
		ret = read_chunk(st, id, cur->version, u->off, old, u->len, &res);
		if (ret == 0 && memcmp(old, u->buf, u->len) != 0)
			ret = -ESTALE;
		free(old);
	}
	if (ret == 0)
		ret = pgdir_open(st, id, &pd, &dfd);
	if (ret == 0) {
		ret = pgdir_sync(pd, dfd);
		close(dfd);
	}
	return ret;
}

static int update_new(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		      const struct osd_chunk_version *prev, const struct update *u)
{
	struct plan p = {0};
	int ret;

	ret = plan_content(st, id, prev, u, &p);
	if (ret == 0)
		ret = plan_compress(st, u, &p);
	if (ret == 0)
		ret = write_version(st, id, version, &p, false);
	plan_free(&p);
	return ret;
}

/* Rewrites an existing version with new content (REPLACE semantics). */
static int update_repair(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
			 const struct update *u)
{
	struct osd_chunk_version old;
	struct plan p = {0};
	int ret;

	if (osd_index_find(st->ix, id, version, &old) != 0)
		return -ENOENT;
	ret = plan_content(st, id, NULL, u, &p);
	if (ret == 0)
		ret = plan_compress(st, u, &p);
	if (ret == 0)
		ret = write_version(st, id, version, &p, true);
	plan_free(&p);
	if (ret == 0)
		log_info("osd store: " CHUNK_FMT " v%" PRIu64 " rewritten (repair)", CHUNK_ARGS(id),
			 version);
	return ret;
}

static int update(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		  const struct update *u)
{
	pthread_mutex_t *lock = chunk_lock(st, id);
	struct osd_chunk_version newest;
	bool exists;
	int ret;

	pthread_mutex_lock(lock);
	exists = osd_index_find(st->ix, id, 0, &newest) == 0;
	if (u->flags & OSD_STORE_REPAIR)
		ret = update_repair(st, id, version, u);
	else if (u->set_length && !exists)
		ret = -ENOENT;
	else if (exists && version < newest.version)
		ret = -ESTALE;
	else if (exists && version == newest.version)
		ret = update_same(st, id, &newest, u);
	else
		ret = update_new(st, id, version, exists ? &newest : NULL, u);
	pthread_mutex_unlock(lock);
	return ret;
}

int osd_store_write(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		    uint64_t off, const void *buf, size_t len, uint32_t flags)
{
	struct update u = {off, buf, len, flags, false, 0};

	if (!st || !id_ok(id) || version == 0 || (!buf && len > 0) ||
	    (flags & ~(OSD_STORE_COMPRESS | OSD_STORE_REPLACE | OSD_STORE_REPAIR)))
		return -EINVAL;
	if (flags & OSD_STORE_REPAIR)
		u.flags |= OSD_STORE_REPLACE;
	if (off > OSD_STORE_CHUNK_MAX || len > OSD_STORE_CHUNK_MAX - off)
		return -EFBIG;
	return update(st, id, version, &u);
}

int osd_store_truncate(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		       uint64_t length, uint32_t flags)
{
	struct update u = {0, NULL, 0, flags, true, length};

	if (!st || !id_ok(id) || version == 0 || (flags & ~OSD_STORE_COMPRESS))
		return -EINVAL;
	if (length > OSD_STORE_CHUNK_MAX)
		return -EFBIG;
	return update(st, id, version, &u);
}

/* ---- trim and delete ------------------------------------------------------------ */

/* Unlinks one version after dropping it from the index. */
static int remove_version(struct osd_store *st, const struct osd_chunk_id *id,
			  const struct osd_chunk_version *v)
{
	char path[96];
	int ret;

	osd_index_remove(st->ix, id, v->version);
	version_path(path, sizeof(path), id, v->version);
	if (unlinkat(st->chunks_fd, path, 0) == 0 || errno == ENOENT)
		return 0;
	ret = -errno;
	log_error("osd store: removing " CHUNK_FMT " v%" PRIu64 " failed: %s", CHUNK_ARGS(id),
		  v->version, error_str(ret));
	osd_index_add(st->ix, id, v); /* still on disk: keep it visible */
	return ret;
}

/* The chunk's versions into a malloc'd array; caller holds the chunk lock. */
static int versions_alloc(struct osd_store *st, const struct osd_chunk_id *id,
			  struct osd_chunk_version **out, size_t *n)
{
	struct osd_chunk_version one;
	int ret;

	ret = osd_index_versions(st->ix, id, &one, 1, n);
	if (ret)
		return ret;
	*out = malloc(*n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	return osd_index_versions(st->ix, id, *out, *n, n);
}

int osd_store_trim(struct osd_store *st, const struct osd_chunk_id *id, uint64_t keep_version)
{
	pthread_mutex_t *lock;
	struct osd_chunk_version *v = NULL;
	size_t n = 0;
	int ret;

	if (!st || !id_ok(id))
		return -EINVAL;
	lock = chunk_lock(st, id);
	pthread_mutex_lock(lock);
	ret = versions_alloc(st, id, &v, &n);
	/* Old versions coming back after a crash are trimmed again: no dir sync. */
	for (size_t i = 0; ret == 0 && i + 1 < n && v[i].version < keep_version; i++)
		ret = remove_version(st, id, &v[i]);
	pthread_mutex_unlock(lock);
	free(v);
	return ret;
}

int osd_store_drop(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version)
{
	struct osd_chunk_version v;
	pthread_mutex_t *lock;
	struct pgdir *pd;
	int dfd, ret;

	if (!st || !id_ok(id) || version == 0)
		return -EINVAL;
	lock = chunk_lock(st, id);
	pthread_mutex_lock(lock);
	ret = osd_index_find(st->ix, id, version, &v);
	if (ret == 0)
		ret = remove_version(st, id, &v);
	if (ret == 0)
		ret = pgdir_open(st, id, &pd, &dfd);
	if (ret == 0) {
		ret = pgdir_sync(pd, dfd);
		close(dfd);
	}
	pthread_mutex_unlock(lock);
	return ret;
}

int osd_store_delete(struct osd_store *st, const struct osd_chunk_id *id)
{
	pthread_mutex_t *lock;
	struct osd_chunk_version *v = NULL;
	struct pgdir *pd;
	size_t n = 0;
	int dfd, ret;

	if (!st || !id_ok(id))
		return -EINVAL;
	lock = chunk_lock(st, id);
	pthread_mutex_lock(lock);
	ret = versions_alloc(st, id, &v, &n);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = remove_version(st, id, &v[n - 1 - i]); /* newest first */
	if (ret == 0)
		ret = pgdir_open(st, id, &pd, &dfd);
	if (ret == 0) {
		ret = pgdir_sync(pd, dfd);
		close(dfd);
	}
	pthread_mutex_unlock(lock);
	free(v);
	return ret;
}

int osd_store_delete_from(struct osd_store *st, uint32_t pool, uint64_t ino,
			  uint64_t first_stripe, size_t *deleted)
{
	struct osd_chunk_id *ids;
	size_t n, count = 0;
	int ret;

	if (!st)
		return -EINVAL;
	ret = osd_index_find_ino(st->ix, pool, ino, first_stripe, &ids, &n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = osd_store_delete(st, &ids[i]);
		if (ret == 0)
			count++;
		else if (ret == -ENOENT)
			ret = 0; /* removed meanwhile */
	}
	free(ids);
	if (deleted)
		*deleted = count;
	return ret;
}

/* ---- queries ---------------------------------------------------------------------- */

int osd_store_versions(struct osd_store *st, const struct osd_chunk_id *id,
		       struct osd_chunk_version *out, size_t max, size_t *n)
{
	if (!st || !id_ok(id) || !n || (!out && max > 0))
		return -EINVAL;
	return osd_index_versions(st->ix, id, out, max, n);
}

bool osd_store_cursor_done(const struct osd_store_cursor *cur)
{
	return cur->state == 2;
}

int osd_store_list_pg(struct osd_store *st, uint32_t pool, uint32_t pg,
		      struct osd_store_cursor *cur, size_t max, osd_store_list_fn fn, void *arg)
{
	if (!st || !cur || !fn || cur->state > 2)
		return -EINVAL;
	return osd_index_list_pg(st->ix, pool, pg, cur, max, fn, arg);
}

int osd_store_foreach_pg(struct osd_store *st, osd_store_pg_fn fn, void *arg)
{
	if (!st || !fn)
		return -EINVAL;
	return osd_index_foreach_pg(st->ix, fn, arg);
}

int osd_store_pool_usage(struct osd_store *st, uint32_t pool, struct osd_pool_usage *out)
{
	if (!st || !out)
		return -EINVAL;
	osd_index_pool_usage(st->ix, pool, out);
	return 0;
}

int osd_store_pools(struct osd_store *st, struct osd_pool_usage *out, size_t max, size_t *n)
{
	if (!st || !n || (!out && max > 0))
		return -EINVAL;
	*n = osd_index_pools(st->ix, out, max);
	return 0;
}
