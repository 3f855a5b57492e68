/*
 * admin.c - codecs of the cluster map and administration messages
 * (admin.h).  Decoders end with wire_dec_finish() so trailing bytes fail.
 * Stateless; thread-safe.
 */
#include "proto/admin.h"

#include "common/error.h"

int proto_admin_map_get_req_encode(const struct proto_admin_map_get_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->known_epoch);
	return proto_enc_status(e);
}

int proto_admin_map_get_req_decode(struct wire_dec *d, struct proto_admin_map_get_req *m)
{
	m->known_epoch = wire_dec_u64(d);
	return wire_dec_finish(d);
}

int proto_admin_map_get_rep_encode(const struct proto_admin_map_get_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->epoch);
	proto_blob_encode(&m->map, e);
	return proto_enc_status(e);
}

int proto_admin_map_get_rep_decode(struct wire_dec *d, struct proto_admin_map_get_rep *m)
{
	m->epoch = wire_dec_u64(d);
	proto_blob_decode(d, &m->map, PROTO_MAP_BLOB_MAX);
	if (m->epoch == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_admin_epoch_rep_encode(const struct proto_admin_epoch_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->epoch);
	return proto_enc_status(e);
}

int proto_admin_epoch_rep_decode(struct wire_dec *d, struct proto_admin_epoch_rep *m)
{
	m->epoch = wire_dec_u64(d);
	if (m->epoch == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_admin_osd_register_req_encode(const struct proto_admin_osd_register_req *m,
					struct wire_enc *e)
{
	wire_enc_u32(e, m->id);
	proto_str_encode(&m->addr, e);
	proto_str_encode(&m->host, e);
	wire_enc_u8(e, m->media);
	wire_enc_u64(e, m->capacity);
	return proto_enc_status(e);
}

int proto_admin_osd_register_req_decode(struct wire_dec *d, struct proto_admin_osd_register_req *m)
{
	m->id = wire_dec_u32(d);
	proto_map_addr_decode(d, &m->addr);
	proto_map_host_decode(d, &m->host);
	m->media = wire_dec_u8(d);
	m->capacity = wire_dec_u64(d);
	if (!proto_map_media_valid(m->media))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

bool proto_admin_scrub_counts_valid(const struct proto_admin_scrub_counts *c)
{
	return c->bad <= c->scrubbed && c->repaired <= c->bad &&
	       c->unrepairable <= c->bad - c->repaired;
}

static void scrub_counts_enc(const struct proto_admin_scrub_counts *c, struct wire_enc *e)
{
	wire_enc_u64(e, c->scrubbed);
	wire_enc_u64(e, c->bad);
	wire_enc_u64(e, c->repaired);
	wire_enc_u64(e, c->unrepairable);
}

static void scrub_counts_dec(struct wire_dec *d, struct proto_admin_scrub_counts *c)
{
	c->scrubbed = wire_dec_u64(d);
	c->bad = wire_dec_u64(d);
	c->repaired = wire_dec_u64(d);
	c->unrepairable = wire_dec_u64(d);
	if (!proto_admin_scrub_counts_valid(c))
		wire_dec_fail(d);
}

/* The three u64s of a pool's usage (the pool id is written by the caller). */
static void usage_enc(const struct proto_admin_pool_usage *u, struct wire_enc *e)
{
	wire_enc_u64(e, u->chunks);
	wire_enc_u64(e, u->logical);
	wire_enc_u64(e, u->stored);
}

static void usage_dec(struct wire_dec *d, struct proto_admin_pool_usage *u)
{
	u->chunks = wire_dec_u64(d);
	u->logical = wire_dec_u64(d);
	u->stored = wire_dec_u64(d);
}

/* Reads a list count bounded by cap and max; 0 after a failure. */
static uint32_t count_dec(struct wire_dec *d, uint32_t cap, uint32_t max)
{
	uint32_t n = wire_dec_u32(d);

	if (d->err || n > cap || n > max) {
		wire_dec_fail(d);
		return 0;
	}
	return n;
}

int proto_admin_osd_heartbeat_req_encode(const struct proto_admin_osd_heartbeat_req *m,
					 struct wire_enc *e)
{
	wire_enc_u32(e, m->id);
	wire_enc_u64(e, m->epoch);
	wire_enc_u64(e, m->used);
	scrub_counts_enc(&m->scrub, e);
	wire_enc_u32(e, m->npools);
	for (uint32_t i = 0; i < m->npools && !e->overflow; i++) {
		wire_enc_u32(e, m->pools[i].pool_id);
		usage_enc(&m->pools[i], e);
	}
	return proto_enc_status(e);
}

int proto_admin_osd_heartbeat_req_decode(struct wire_dec *d,
					 struct proto_admin_osd_heartbeat_req *m)
{
	m->id = wire_dec_u32(d);
	m->epoch = wire_dec_u64(d);
	m->used = wire_dec_u64(d);
	scrub_counts_dec(d, &m->scrub);
	m->npools = count_dec(d, m->cap, PROTO_ADMIN_HB_POOLS_MAX);
	for (uint32_t i = 0; i < m->npools && !d->err; i++) {
		struct proto_admin_pool_usage *u = &m->pools[i];

		u->pool_id = wire_dec_u32(d);
		usage_dec(d, u);
		if (u->pool_id == 0 || (i > 0 && u->pool_id <= m->pools[i - 1].pool_id))
			wire_dec_fail(d);
	}
	if (d->err)
		m->npools = 0;
	return wire_dec_finish(d);
}

int proto_admin_pool_create_req_encode(const struct proto_admin_pool_create_req *m,
				       struct wire_enc *e)
{
	proto_map_pool_encode(&m->pool, e);
	return proto_enc_status(e);
}

int proto_admin_pool_create_req_decode(struct wire_dec *d, struct proto_admin_pool_create_req *m)
{
	proto_map_pool_decode(d, &m->pool, true);
	return wire_dec_finish(d);
}

int proto_admin_pool_create_rep_encode(const struct proto_admin_pool_create_rep *m,
				       struct wire_enc *e)
{
	wire_enc_u32(e, m->pool_id);
	wire_enc_u64(e, m->epoch);
	return proto_enc_status(e);
}

int proto_admin_pool_create_rep_decode(struct wire_dec *d, struct proto_admin_pool_create_rep *m)
{
	m->pool_id = wire_dec_u32(d);
	m->epoch = wire_dec_u64(d);
	if (m->pool_id == 0 || m->epoch == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_admin_pool_list_rep_encode(const struct proto_admin_pool_list_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++) {
		proto_map_pool_encode(&m->pools[i], e);
		usage_enc(&m->usage[i], e);
	}
	return proto_enc_status(e);
}

int proto_admin_pool_list_rep_decode(struct wire_dec *d, struct proto_admin_pool_list_rep *m)
{
	m->count = count_dec(d, m->cap, PROTO_MAP_POOLS_MAX);
	for (uint32_t i = 0; i < m->count && !d->err; i++) {
		proto_map_pool_decode(d, &m->pools[i], false);
		usage_dec(d, &m->usage[i]);
		m->usage[i].pool_id = m->pools[i].id;
		if (!d->err && !proto_map_pool_follows(m->pools, i))
			wire_dec_fail(d);
	}
	if (d->err)
		m->count = 0;
	return wire_dec_finish(d);
}

int proto_admin_status_rep_encode(const struct proto_admin_status_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->epoch);
	wire_enc_u32(e, m->nshards);
	wire_enc_u32(e, m->nosds);
	wire_enc_u32(e, m->osds_up);
	wire_enc_u32(e, m->osds_in);
	wire_enc_u32(e, m->npools);
	wire_enc_u64(e, m->capacity);
	wire_enc_u64(e, m->used);
	wire_enc_u8(e, m->health);
	wire_enc_u32(e, m->osds_unrepairable);
	scrub_counts_enc(&m->scrub, e);
	return proto_enc_status(e);
}

int proto_admin_status_rep_decode(struct wire_dec *d, struct proto_admin_status_rep *m)
{
	m->epoch = wire_dec_u64(d);
	m->nshards = wire_dec_u32(d);
	m->nosds = wire_dec_u32(d);
	m->osds_up = wire_dec_u32(d);
	m->osds_in = wire_dec_u32(d);
	m->npools = wire_dec_u32(d);
	m->capacity = wire_dec_u64(d);
	m->used = wire_dec_u64(d);
	m->health = wire_dec_u8(d);
	m->osds_unrepairable = wire_dec_u32(d);
	scrub_counts_dec(d, &m->scrub);
	if (m->epoch == 0 || m->nosds > PROTO_MAP_OSDS_MAX || m->osds_up > m->nosds ||
	    m->osds_in > m->nosds || m->osds_unrepairable > m->nosds || m->nshards == 0 ||
	    m->nshards > PROTO_MAP_SHARDS_MAX || m->npools > PROTO_MAP_POOLS_MAX ||
	    m->health > PROTO_HEALTH_ERR)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_admin_osd_set_in_req_encode(const struct proto_admin_osd_set_in_req *m,
				      struct wire_enc *e)
{
	wire_enc_u32(e, m->id);
	wire_enc_u8(e, m->in);
	return proto_enc_status(e);
}

int proto_admin_osd_set_in_req_decode(struct wire_dec *d, struct proto_admin_osd_set_in_req *m)
{
	m->id = wire_dec_u32(d);
	m->in = proto_bool_decode(d);
	return wire_dec_finish(d);
}

int proto_admin_osd_stats_rep_encode(const struct proto_admin_osd_stats_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++) {
		wire_enc_u32(e, m->osds[i].id);
		scrub_counts_enc(&m->osds[i].scrub, e);
	}
	return proto_enc_status(e);
}

int proto_admin_osd_stats_rep_decode(struct wire_dec *d, struct proto_admin_osd_stats_rep *m)
{
	m->count = count_dec(d, m->cap, PROTO_MAP_OSDS_MAX);
	for (uint32_t i = 0; i < m->count && !d->err; i++) {
		m->osds[i].id = wire_dec_u32(d);
		scrub_counts_dec(d, &m->osds[i].scrub);
		if (i > 0 && m->osds[i].id <= m->osds[i - 1].id)
			wire_dec_fail(d);
	}
	if (d->err)
		m->count = 0;
	return wire_dec_finish(d);
}
