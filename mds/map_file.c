/*
 * map_file.c - the cluster map's encoding and its file in the data
 * directory of shard 0 (map_int.h).
 *
 * File format (little-endian):
 *   off size
 *     0    8  magic "CAIRNMAP"
 *     8    4  format version (1)
 *    12    4  CRC32C of the map bytes
 *    16    8  length of the map bytes
 *    24    -  the map, encoded by proto_map_encode()
 * The file is replaced atomically (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves the old map or the new one.  Anything
 * else on load (short file, bad magic, checksum or content) is reported as
 * corruption and never silently replaced.
 *
 * Called with mds_map.lock held; no state of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/csum.h"
#include "common/log.h"
#include "mds/map_int.h"
#include "proto/wire.h"

#define MAP_FILE_MAGIC "CAIRNMAP"
#define MAP_FILE_VERSION 1u
#define MAP_FILE_HDR 24
#define MAP_FILE_MAX (MAP_FILE_HDR + (64u << 20))

/* Upper bound of the encoded size, from the limits of each field. */
static size_t map_size_bound(const struct mds_map *mp)
{
	size_t osd = 4 + 2 + PROTO_ADDR_MAX + 2 + PROTO_HOST_MAX + 1 + 1 + 4 + 8 + 8;
	size_t pool = 4 + 2 + PROTO_POOL_NAME_MAX + 5 + 4 + 4;

	return 8 + 12 + mp->nshards * (2 + PROTO_ADDR_MAX) + mp->nosds * osd + mp->npools * pool;
}

static void map_fill_proto(const struct mds_map *mp, struct proto_map *pm)
{
	pm->epoch = mp->epoch;
	pm->nshards = mp->nshards;
	for (uint32_t i = 0; i < mp->nshards; i++)
		pm->shards[i] = (struct proto_str){mp->shards[i], (uint16_t)strlen(mp->shards[i])};
	pm->nosds = mp->nosds;
	for (uint32_t i = 0; i < mp->nosds; i++) {
		const struct map_osd *o = &mp->osds[i];

		pm->osds[i] = (struct proto_map_osd){
		    .id = o->id,
		    .addr = {o->addr, (uint16_t)strlen(o->addr)},
		    .host = {o->host, (uint16_t)strlen(o->host)},
		    .media = o->media,
		    .flags = o->flags,
		    .weight = o->weight,
		    .capacity = o->capacity,
		    .used = o->used,
		};
	}
	pm->npools = mp->npools;
	for (uint32_t i = 0; i < mp->npools; i++) {
		const struct map_pool *p = &mp->pools[i];

		pm->pools[i] = (struct proto_map_pool){
		    .id = p->id,
		    .name = {p->name, (uint16_t)strlen(p->name)},
		    .scheme = p->scheme,
		    .k = p->k,
		    .m = p->m,
		    .media = p->media,
		    .compression = p->compression,
		    .chunk_size = p->chunk_size,
		    .pg_count = p->pg_count,
		};
	}
}

int map_encode(const struct mds_map *mp, uint8_t **buf, size_t *len)
{
	struct proto_map pm = {0};
	size_t cap = map_size_bound(mp);
	struct wire_enc e;
	int rc = -ENOMEM;

	*buf = malloc(cap);
	pm.shards = calloc(mp->nshards + 1, sizeof(*pm.shards));
	pm.osds = calloc(mp->nosds + 1, sizeof(*pm.osds));
	pm.pools = calloc(mp->npools + 1, sizeof(*pm.pools));
	if (!*buf || !pm.shards || !pm.osds || !pm.pools)
		goto out;
	map_fill_proto(mp, &pm);
	wire_enc_init(&e, *buf, cap);
	rc = proto_map_encode(&pm, &e);
	if (rc) {
		/* The bound is computed from the field limits: a bug. */
		log_error("map: encoding overflowed its %zu byte bound", cap);
		rc = -EIO;
	}
	*len = e.len;
out:
	free(pm.shards);
	free(pm.osds);
	free(pm.pools);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static int map_write_tmp(const char *tmp, const uint8_t *map, size_t len)
{
	uint8_t hdr[MAP_FILE_HDR];
	int fd, rc;

	memcpy(hdr, MAP_FILE_MAGIC, 8);
	wire_put_le32(hdr + 8, MAP_FILE_VERSION);
	wire_put_le32(hdr + 12, csum_crc32c(0, map, len));
	wire_put_le64(hdr + 16, len);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, hdr, sizeof(hdr));
	if (!rc)
		rc = write_all(fd, map, len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int map_file_save(const struct mds_map *mp, const uint8_t *map, size_t len)
{
	char tmp[PATH_MAX + 8];
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", mp->path);
	rc = map_write_tmp(tmp, map, len);
	if (!rc && rename(tmp, mp->path))
		rc = -errno;
	if (!rc)
		rc = fsync_dir_of(mp->path);
	if (rc) {
		log_error("map: cannot write %s: %s", mp->path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

/* Reads the whole file (at most MAP_FILE_MAX bytes).  0, -ENOENT, -EIO, -ENOMEM. */
static int map_read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EIO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAP_FILE_MAX) {
		log_error("map: %s: not a regular file of at most %u bytes", path, MAP_FILE_MAX);
		close(fd);
		return -EIO;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	if (rc) {
		log_error("map: cannot read %s", path);
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* Checks the header; returns the map bytes' offset or 0 on corruption. */
static size_t map_check_header(const char *path, const uint8_t *buf, size_t len)
{
	uint64_t mlen;

	if (len < MAP_FILE_HDR || memcmp(buf, MAP_FILE_MAGIC, 8) != 0) {
		log_error("map: %s: not a cluster map file (bad magic or too short)", path);
		return 0;
	}
	if (wire_get_le32(buf + 8) != MAP_FILE_VERSION) {
		log_error("map: %s: unknown format version %u", path, wire_get_le32(buf + 8));
		return 0;
	}
	mlen = wire_get_le64(buf + 16);
	if (mlen != len - MAP_FILE_HDR) {
		log_error("map: %s: truncated or padded (%zu map bytes, header says %llu)", path,
			  len - MAP_FILE_HDR, (unsigned long long)mlen);
		return 0;
	}
	if (csum_crc32c(0, buf + MAP_FILE_HDR, mlen) != wire_get_le32(buf + 12)) {
		log_error("map: %s: checksum mismatch", path);
		return 0;
	}
	return MAP_FILE_HDR;
}

static void copy_str(char *dst, size_t cap, const struct proto_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	memcpy(dst, s->ptr, n);
	dst[n] = '\0';
}

/* Copies a decoded map into mp.  Returns 0 or -ENOMEM. */
static int map_take(struct mds_map *mp, const struct proto_map *pm)
{
	mp->osds = calloc(pm->nosds + 1, sizeof(*mp->osds));
	if (!mp->osds)
		return -ENOMEM;
	mp->osd_cap = pm->nosds + 1;
	mp->epoch = pm->epoch;
	mp->nshards = pm->nshards < CFG_MAX_SHARDS ? pm->nshards : CFG_MAX_SHARDS;
	for (uint32_t i = 0; i < mp->nshards; i++)
		copy_str(mp->shards[i], sizeof(mp->shards[i]), &pm->shards[i]);
	mp->nosds = pm->nosds;
	for (uint32_t i = 0; i < pm->nosds; i++) {
		const struct proto_map_osd *s = &pm->osds[i];
		struct map_osd *o = &mp->osds[i];

		o->id = s->id;
		o->media = s->media;
		o->flags = s->flags;
		o->weight = s->weight;
		o->capacity = s->capacity;
		o->used = s->used;
		copy_str(o->addr, sizeof(o->addr), &s->addr);
		copy_str(o->host, sizeof(o->host), &s->host);
	}
	mp->npools = pm->npools;
	for (uint32_t i = 0; i < pm->npools; i++) {
		const struct proto_map_pool *s = &pm->pools[i];
		struct map_pool *p = &mp->pools[i];

		*p = (struct map_pool){.id = s->id,
				       .scheme = s->scheme,
				       .k = s->k,
				       .m = s->m,
				       .media = s->media,
				       .compression = s->compression,
				       .chunk_size = s->chunk_size,
				       .pg_count = s->pg_count};
		copy_str(p->name, sizeof(p->name), &s->name);
	}
	return 0;
}

int map_file_load(struct mds_map *mp)
{
	struct proto_map pm;
	struct wire_dec d;
	uint8_t *buf = NULL;
	size_t len = 0, off;
	int rc;

	rc = map_read_file(mp->path, &buf, &len);
	if (rc)
		return rc;
	off = map_check_header(mp->path, buf, len);
	if (!off) {
		free(buf);
		return -EIO;
	}
	wire_dec_init(&d, buf + off, len - off);
	rc = proto_map_decode(&d, &pm);
	free(buf);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		log_error("map: %s: the map does not decode (corrupt content)", mp->path);
		return -EIO;
	}
	if (pm.nshards > CFG_MAX_SHARDS) {
		log_error("map: %s: %u shards, more than %u", mp->path, pm.nshards, CFG_MAX_SHARDS);
		proto_map_free(&pm);
		return -EIO;
	}
	rc = map_take(mp, &pm);
	proto_map_free(&pm);
	return rc;
}
