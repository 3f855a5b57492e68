/*
 * chunk.c - the chunk messages applied to the local store (chunk.h).
 * Stateless; thread-safe.
 */
#include "osd/chunk.h"

#include <errno.h>
#include <stdlib.h>

#include "proto/osd.h"

/* The newest of more than a handful of versions. */
static int newest_of_many(struct osd_store *st, const struct osd_chunk_id *id, size_t n,
			  struct osd_chunk_version *out)
{
	struct osd_chunk_version *all = malloc(n * sizeof(*all));
	size_t m = 0;
	int ret;

	if (!all)
		return -ENOMEM;
	ret = osd_store_versions(st, id, all, n, &m);
	if (ret == 0 && m > 0 && m <= n)
		*out = all[m - 1];
	else if (ret == 0)
		ret = -EAGAIN; /* versions appeared meanwhile */
	free(all);
	return ret;
}

int osd_chunk_newest(struct osd_store *st, const struct osd_chunk_id *id,
		     struct osd_chunk_version *out)
{
	struct osd_chunk_version v[8];
	size_t n = 0;
	int ret = osd_store_versions(st, id, v, 8, &n);

	if (ret)
		return ret;
	if (n == 0)
		return -ENOENT;
	if (n > 8)
		return newest_of_many(st, id, n, out);
	*out = v[n - 1];
	return 0;
}

/* The precondition of an update based on the newest version. */
static int check_base(struct osd_store *st, const struct osd_chunk_id *id, uint64_t base)
{
	struct osd_chunk_version v;
	int ret;

	if (base == 0)
		return 0;
	ret = osd_chunk_newest(st, id, &v);
	if (ret == -ENOENT)
		return -ESTALE;
	if (ret)
		return ret;
	return v.version == base ? 0 : -ESTALE;
}

int osd_chunk_write(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		    uint64_t base, uint64_t off, const void *buf, size_t len, uint32_t flags,
		    bool compress)
{
	uint32_t sflags = compress ? OSD_STORE_COMPRESS : 0;
	int ret;

	if (flags & PROTO_OSD_W_REPLACE) {
		sflags |= OSD_STORE_REPLACE;
	} else {
		ret = check_base(st, id, base);
		if (ret)
			return ret;
	}
	return osd_store_write(st, id, version, off, buf, len, sflags);
}

int osd_chunk_truncate(struct osd_store *st, const struct osd_chunk_id *id, uint64_t version,
		       uint64_t base, uint64_t size, uint32_t flags, bool compress)
{
	uint32_t sflags = compress ? OSD_STORE_COMPRESS : 0;
	int ret;

	if (flags & PROTO_OSD_W_REPLACE)
		return osd_store_write(st, id, version, size, NULL, 0, sflags | OSD_STORE_REPLACE);
	ret = check_base(st, id, base);
	if (ret)
		return ret;
	return osd_store_truncate(st, id, version, size, sflags);
}
