/*
 * map_place.c - placement input from a decoded cluster map (map_place.h).
 * Stateless; the only allocation is a scratch array freed before return.
 */
#include "proto/map_place.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct proto_map_pool *proto_map_pool_find(const struct proto_map *m, uint32_t pool_id)
{
	if (!m)
		return NULL;
	for (uint32_t i = 0; i < m->npools; i++)
		if (m->pools[i].id == pool_id)
			return &m->pools[i];
	return NULL;
}

const struct proto_map_osd *proto_map_osd_find(const struct proto_map *m, uint32_t osd_id)
{
	uint32_t lo = 0, hi;

	if (!m)
		return NULL;
	hi = m->nosds;
	while (lo < hi) { /* ids are strictly increasing in a valid map */
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->osds[mid].id == osd_id)
			return &m->osds[mid];
		if (m->osds[mid].id < osd_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct host_ref {
	const struct proto_str *name;
	uint32_t idx;
};

static int host_cmp(const void *a, const void *b)
{
	const struct host_ref *x = a, *y = b;
	size_t n = x->name->len < y->name->len ? x->name->len : y->name->len;
	int c = memcmp(x->name->ptr, y->name->ptr, n);

	if (c)
		return c;
	if (x->name->len != y->name->len)
		return x->name->len < y->name->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* hosts[i] = the smallest map index of the OSDs on OSD i's host. */
static int host_numbers(const struct proto_map *m, uint32_t *hosts)
{
	struct host_ref *refs = malloc((m->nosds ? m->nosds : 1) * sizeof(*refs));
	uint32_t i = 0;

	if (!refs)
		return -ENOMEM;
	for (i = 0; i < m->nosds; i++)
		refs[i] = (struct host_ref){&m->osds[i].host, i};
	qsort(refs, m->nosds, sizeof(*refs), host_cmp);
	for (i = 0; i < m->nosds; i++) {
		/* Sorted by (name, index): a group's first entry has its smallest index. */
		bool first = i == 0 || refs[i].name->len != refs[i - 1].name->len ||
			     memcmp(refs[i].name->ptr, refs[i - 1].name->ptr, refs[i].name->len) != 0;

		hosts[refs[i].idx] = first ? refs[i].idx : hosts[refs[i - 1].idx];
	}
	free(refs);
	return 0;
}

int proto_map_place_osds(const struct proto_map *m, const struct proto_map_pool *pool,
			 struct placement_osd *out, size_t *n)
{
	uint32_t *hosts;
	size_t cnt = 0;
	int ret;

	if (!m || !pool || !out || !n)
		return -EINVAL;
	hosts = malloc((m->nosds ? m->nosds : 1) * sizeof(*hosts));
	if (!hosts)
		return -ENOMEM;
	ret = host_numbers(m, hosts);
	for (uint32_t i = 0; ret == 0 && i < m->nosds; i++) {
		const struct proto_map_osd *o = &m->osds[i];

		if (o->media != pool->media)
			continue;
		out[cnt++] = (struct placement_osd){
			.id = o->id,
			.host = hosts[i],
			.weight = (o->flags & PROTO_MAP_OSD_IN) ? o->weight : 0,
			.up = (o->flags & PROTO_MAP_OSD_UP) != 0,
		};
	}
	free(hosts);
	*n = cnt;
	return ret;
}

int proto_map_acting(const struct proto_map *m, const struct proto_map_pool *pool, uint32_t pg,
		     uint32_t *ids, bool *up)
{
	struct placement_osd *osds;
	size_t n = 0;
	int ret;

	if (!m || !pool || !ids || pg >= pool->pg_count)
		return -EINVAL;
	osds = malloc((m->nosds ? m->nosds : 1) * sizeof(*osds));
	if (!osds)
		return -ENOMEM;
	ret = proto_map_place_osds(m, pool, osds, &n);
	if (ret == 0)
		ret = placement_acting_up(pool->id, pg, osds, n, (unsigned)pool->k + pool->m, ids,
					  up);
	free(osds);
	return ret;
}

int proto_map_primary(const uint32_t *ids, const bool *up, unsigned width)
{
	for (unsigned i = 0; ids && up && i < width; i++)
		if (ids[i] != PLACEMENT_NONE && up[i])
			return (int)i;
	return -1;
}
