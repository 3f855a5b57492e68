/*
 * map.c - cluster map codec (map.h).  Decoding copies the input once, so the
 * decoded map is self-contained; all counts are bounded and checked against
 * the bytes left before anything is allocated.  No shared state.
 */
#include "proto/map.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Smallest encodings, to refuse counts the input cannot hold. */
#define SHARD_MIN_SIZE (2 + 1)
#define OSD_MIN_SIZE (4 + 3 + 3 + 1 + 1 + 4 + 8 + 8)
#define POOL_MIN_SIZE (4 + 3 + 5 + 4 + 4)

bool proto_map_media_valid(uint8_t media)
{
	return media >= PROTO_MEDIA_HDD && media <= PROTO_MEDIA_NVME;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool all_name_chars(const struct proto_str *s)
{
	for (uint16_t i = 0; i < s->len; i++)
		if (!is_name_char(s->ptr[i]))
			return false;
	return true;
}

void proto_map_addr_decode(struct wire_dec *d, struct proto_str *s)
{
	s->ptr = wire_dec_str(d, PROTO_ADDR_MAX, &s->len);
	if (d->err)
		return;
	if (s->len == 0)
		wire_dec_fail(d);
	for (uint16_t i = 0; i < s->len; i++)
		if (s->ptr[i] <= ' ' || s->ptr[i] > '~')
			wire_dec_fail(d);
}

void proto_map_host_decode(struct wire_dec *d, struct proto_str *s)
{
	s->ptr = wire_dec_str(d, PROTO_HOST_MAX, &s->len);
	if (!d->err && (s->len == 0 || !all_name_chars(s)))
		wire_dec_fail(d);
}

void proto_map_pool_encode(const struct proto_map_pool *p, struct wire_enc *e)
{
	wire_enc_u32(e, p->id);
	proto_str_encode(&p->name, e);
	wire_enc_u8(e, p->scheme);
	wire_enc_u8(e, p->k);
	wire_enc_u8(e, p->m);
	wire_enc_u8(e, p->media);
	wire_enc_u8(e, p->compression);
	wire_enc_u32(e, p->chunk_size);
	wire_enc_u32(e, p->pg_count);
}

void proto_map_pool_decode(struct wire_dec *d, struct proto_map_pool *p, bool new_pool)
{
	p->id = wire_dec_u32(d);
	p->name.ptr = wire_dec_str(d, PROTO_POOL_NAME_MAX, &p->name.len);
	p->scheme = wire_dec_u8(d);
	p->k = wire_dec_u8(d);
	p->m = wire_dec_u8(d);
	p->media = wire_dec_u8(d);
	p->compression = wire_dec_u8(d);
	p->chunk_size = wire_dec_u32(d);
	p->pg_count = wire_dec_u32(d);
	if (d->err)
		return;
	if ((new_pool ? p->id != 0 : p->id == 0) || p->name.len == 0 || !all_name_chars(&p->name) ||
	    !proto_layout_valid(p->scheme, p->k, p->m, p->chunk_size) ||
	    !proto_map_media_valid(p->media) || p->compression > PROTO_COMPRESS_ZSTD ||
	    p->pg_count == 0 || p->pg_count > PROTO_PG_MAX)
		wire_dec_fail(d);
}

static void osd_enc(const struct proto_map_osd *o, struct wire_enc *e)
{
	wire_enc_u32(e, o->id);
	proto_str_encode(&o->addr, e);
	proto_str_encode(&o->host, e);
	wire_enc_u8(e, o->media);
	wire_enc_u8(e, o->flags);
	wire_enc_u32(e, o->weight);
	wire_enc_u64(e, o->capacity);
	wire_enc_u64(e, o->used);
}

static void osd_dec(struct wire_dec *d, struct proto_map_osd *o)
{
	o->id = wire_dec_u32(d);
	proto_map_addr_decode(d, &o->addr);
	proto_map_host_decode(d, &o->host);
	o->media = wire_dec_u8(d);
	o->flags = wire_dec_u8(d);
	o->weight = wire_dec_u32(d);
	o->capacity = wire_dec_u64(d);
	o->used = wire_dec_u64(d);
	if (!proto_map_media_valid(o->media) || (o->flags & ~(uint8_t)PROTO_MAP_OSD_KNOWN))
		wire_dec_fail(d);
}

int proto_map_encode(const struct proto_map *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->epoch);
	wire_enc_u32(e, m->nshards);
	for (uint32_t i = 0; i < m->nshards && !e->overflow; i++)
		proto_str_encode(&m->shards[i], e);
	wire_enc_u32(e, m->nosds);
	for (uint32_t i = 0; i < m->nosds && !e->overflow; i++)
		osd_enc(&m->osds[i], e);
	wire_enc_u32(e, m->npools);
	for (uint32_t i = 0; i < m->npools && !e->overflow; i++)
		proto_map_pool_encode(&m->pools[i], e);
	return proto_enc_status(e);
}

void proto_map_free(struct proto_map *m)
{
	free(m->shards);
	free(m->osds);
	free(m->pools);
	free(m->mem);
	memset(m, 0, sizeof(*m));
}

/* Reads a count bounded by max and by what the input can still hold. */
static uint32_t dec_count(struct wire_dec *d, uint32_t max, size_t min_size)
{
	uint32_t n = wire_dec_u32(d);

	if (d->err || n > max || n > wire_dec_remaining(d) / min_size) {
		wire_dec_fail(d);
		return 0;
	}
	return n;
}

static int map_dec_shards(struct wire_dec *d, struct proto_map *m)
{
	uint32_t n = dec_count(d, PROTO_MAP_SHARDS_MAX, SHARD_MIN_SIZE);

	m->shards = calloc(n ? n : 1, sizeof(*m->shards));
	if (!m->shards)
		return -ENOMEM;
	m->nshards = n;
	for (uint32_t i = 0; i < n; i++)
		proto_map_addr_decode(d, &m->shards[i]);
	if (n == 0)
		wire_dec_fail(d);
	return 0;
}

static int map_dec_osds(struct wire_dec *d, struct proto_map *m)
{
	uint32_t n = dec_count(d, PROTO_MAP_OSDS_MAX, OSD_MIN_SIZE);

	m->osds = calloc(n ? n : 1, sizeof(*m->osds));
	if (!m->osds)
		return -ENOMEM;
	m->nosds = n;
	for (uint32_t i = 0; i < n && !d->err; i++) {
		osd_dec(d, &m->osds[i]);
		if (i > 0 && m->osds[i].id <= m->osds[i - 1].id)
			wire_dec_fail(d);
	}
	return 0;
}

bool proto_map_pool_follows(const struct proto_map_pool *pools, uint32_t i)
{
	const struct proto_str *a = &pools[i].name;

	if (i == 0)
		return true;
	if (pools[i].id <= pools[i - 1].id)
		return false;
	for (uint32_t j = 0; j < i; j++) {
		const struct proto_str *b = &pools[j].name;

		if (a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0)
			return false;
	}
	return true;
}

static int map_dec_pools(struct wire_dec *d, struct proto_map *m)
{
	uint32_t n = dec_count(d, PROTO_MAP_POOLS_MAX, POOL_MIN_SIZE);

	m->pools = calloc(n ? n : 1, sizeof(*m->pools));
	if (!m->pools)
		return -ENOMEM;
	m->npools = n;
	for (uint32_t i = 0; i < n && !d->err; i++) {
		proto_map_pool_decode(d, &m->pools[i], false);
		if (!d->err && !proto_map_pool_follows(m->pools, i))
			wire_dec_fail(d);
	}
	return 0;
}

/* Returns 0, -CAIRN_EBADFRAME or -ENOMEM. */
static int map_dec_body(struct wire_dec *d, struct proto_map *m)
{
	int err;

	m->epoch = wire_dec_u64(d);
	if (m->epoch == 0)
		wire_dec_fail(d);
	err = map_dec_shards(d, m);
	if (!err)
		err = map_dec_osds(d, m);
	if (!err)
		err = map_dec_pools(d, m);
	return err ? err : wire_dec_finish(d);
}

int proto_map_decode(struct wire_dec *d, struct proto_map *m)
{
	size_t len = wire_dec_remaining(d);
	struct wire_dec copy;
	int err;

	memset(m, 0, sizeof(*m));
	if (d->err)
		return d->err;
	m->mem = malloc(len ? len : 1);
	if (!m->mem)
		return -ENOMEM;
	if (len)
		memcpy(m->mem, d->buf + d->off, len);
	wire_dec_init(&copy, m->mem, len);
	wire_dec_set_version(&copy, d->version);
	err = map_dec_body(&copy, m);
	if (err) {
		proto_map_free(m);
		if (err == -CAIRN_EBADFRAME)
			wire_dec_fail(d);
		return err;
	}
	d->off = d->len;
	return 0;
}
