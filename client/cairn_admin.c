/*
 * cairn_admin.c - libcairn: cluster administration (cairn_admin.h): shard
 * pings, the health summary, OSDs and pools, all served by shard 0 except
 * the pings.
 *
 * Threads: any.
 */
#include "client/cairn_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cairn_int.h"
#include "client/mdsc.h"
#include "common/cfg.h"
#include "common/rpc.h"
#include "proto/admin.h"

static const char *const media_names[] = {
    [CAIRN_MEDIA_HDD] = "hdd",
    [CAIRN_MEDIA_SSD] = "ssd",
    [CAIRN_MEDIA_NVME] = "nvme",
};

_Static_assert((int)CAIRN_MEDIA_HDD == (int)PROTO_MEDIA_HDD &&
		   (int)CAIRN_MEDIA_NVME == (int)PROTO_MEDIA_NVME &&
		   (int)CAIRN_COMPRESS_ZSTD == (int)PROTO_COMPRESS_ZSTD &&
		   (int)CAIRN_SCHEME_REP == (int)PROTO_SCHEME_REP &&
		   (int)CAIRN_HEALTH_ERR == (int)PROTO_HEALTH_ERR,
	       "admin enums are the wire's");

const char *cairn_media_name(int media)
{
	if (media < CAIRN_MEDIA_HDD || media > CAIRN_MEDIA_NVME)
		return "?";
	return media_names[media];
}

int cairn_media_parse(const char *s, int *media)
{
	for (int i = CAIRN_MEDIA_HDD; s && i <= CAIRN_MEDIA_NVME; i++) {
		if (strcmp(s, media_names[i]) == 0) {
			*media = i;
			return 0;
		}
	}
	return -EINVAL;
}

int cairn_shard_ping(struct cairn *c, int timeout_ms, int *status)
{
	struct mdsc_req reqs[64];
	unsigned n;
	int rc = 0;

	if (!c || !status || timeout_ms < 0)
		return -EINVAL;
	n = cairn_shard_count(c);
	for (unsigned i = 0; i < n; i++)
		reqs[i] = (struct mdsc_req){
		    .shard = (uint16_t)i, .opcode = PROTO_OP_PING, .timeout_ms = timeout_ms};
	mdsc_call_many(cairn_mdsc(c), reqs, n);
	for (unsigned i = 0; i < n; i++) {
		status[i] = reqs[i].status;
		if (status[i] == -ENOMEM && !rc)
			rc = -ENOMEM;
		else if (status[i] && !rc)
			rc = -EHOSTUNREACH;
		rpc_msg_free(reqs[i].resp);
	}
	return rc;
}

const char *cairn_cluster_name(const struct cairn *c)
{
	return c ? c->cfg->cluster.name : NULL;
}

const char *cairn_shard_addr(const struct cairn *c, unsigned shard)
{
	if (!c || shard >= cairn_shard_count(c))
		return NULL;
	return mdsc_shard_addr(cairn_mdsc(c), (uint16_t)shard);
}

/* A request to shard 0 whose reply is decoded by the caller. */
static int admin_call(struct cairn *c, uint16_t opcode, const struct wire_enc *e,
		      struct rpc_msg **resp, struct wire_dec *d)
{
	size_t len = 0;
	int rc;

	if (e && wire_enc_finish(e, &len))
		return -ENOMEM;
	rc = mdsc_call(cairn_mdsc(c), 0, opcode, e ? e->buf : NULL, len, 0, resp);
	if (!rc)
		mdsc_dec_init(d, *resp);
	return rc;
}

static void scrub_from_proto(const struct proto_admin_scrub_counts *s,
			     struct cairn_scrub_counts *out)
{
	*out = (struct cairn_scrub_counts){.scrubbed = s->scrubbed,
					   .bad = s->bad,
					   .repaired = s->repaired,
					   .unrepairable = s->unrepairable};
}

int cairn_admin_status(struct cairn *c, struct cairn_status *out)
{
	struct proto_admin_status_rep rep;
	struct rpc_msg *resp;
	struct wire_dec d;
	int rc;

	if (!c || !out)
		return -EINVAL;
	rc = admin_call(c, PROTO_OP_ADMIN_STATUS, NULL, &resp, &d);
	if (rc)
		return rc;
	rc = mdsc_dec_check(proto_admin_status_rep_decode(&d, &rep), PROTO_OP_ADMIN_STATUS);
	if (!rc) {
		*out = (struct cairn_status){.epoch = rep.epoch,
					     .nshards = rep.nshards,
					     .nosds = rep.nosds,
					     .osds_up = rep.osds_up,
					     .osds_in = rep.osds_in,
					     .npools = rep.npools,
					     .capacity = rep.capacity,
					     .used = rep.used,
					     .health = rep.health,
					     .osds_unrepairable = rep.osds_unrepairable};
		scrub_from_proto(&rep.scrub, &out->scrub);
	}
	rpc_msg_free(resp);
	return rc;
}

static void copy_str(char *dst, size_t cap, const struct proto_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	memcpy(dst, s->ptr, n);
	dst[n] = '\0';
}

/*
 * Merges the scrub counts of OSD_STATS into v[0..n) (both in id order).
 * Returns 0 or the error of the call.
 */
static int osd_stats_merge(struct cairn *c, struct cairn_osd_info *v, size_t n)
{
	struct proto_admin_osd_stats_rep rep = {.cap = PROTO_MAP_OSDS_MAX};
	struct rpc_msg *resp = NULL;
	struct wire_dec d;
	size_t j = 0;
	int rc;

	rep.osds = calloc(PROTO_MAP_OSDS_MAX, sizeof(*rep.osds));
	if (!rep.osds)
		return -ENOMEM;
	rc = admin_call(c, PROTO_OP_ADMIN_OSD_STATS, NULL, &resp, &d);
	if (!rc)
		rc = mdsc_dec_check(proto_admin_osd_stats_rep_decode(&d, &rep),
				    PROTO_OP_ADMIN_OSD_STATS);
	for (uint32_t i = 0; !rc && i < rep.count; i++) {
		while (j < n && v[j].id < rep.osds[i].id)
			j++;
		if (j < n && v[j].id == rep.osds[i].id)
			scrub_from_proto(&rep.osds[i].scrub, &v[j].scrub);
	}
	rpc_msg_free(resp);
	free(rep.osds);
	return rc;
}

int cairn_osd_list(struct cairn *c, struct cairn_osd_info **osds, size_t *n, uint64_t *epoch)
{
	struct cairn_osd_info *v = NULL;
	struct mdsc_map *mm;
	size_t count;
	int rc;

	if (!c || !osds || !n)
		return -EINVAL;
	rc = mdsc_map_refresh(cairn_mdsc(c), NULL);
	if (!rc)
		rc = mdsc_map_get(cairn_mdsc(c), &mm);
	if (rc)
		return rc;
	count = mm->map.nosds;
	if (count) {
		v = calloc(count, sizeof(*v));
		if (!v) {
			mdsc_map_put(mm);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		const struct proto_map_osd *o = &mm->map.osds[i];

		v[i] = (struct cairn_osd_info){.id = o->id,
					       .media = o->media,
					       .up = o->flags & PROTO_MAP_OSD_UP,
					       .in = o->flags & PROTO_MAP_OSD_IN,
					       .weight = o->weight,
					       .capacity = o->capacity,
					       .used = o->used};
		copy_str(v[i].addr, sizeof(v[i].addr), &o->addr);
		copy_str(v[i].host, sizeof(v[i].host), &o->host);
	}
	if (epoch)
		*epoch = mm->map.epoch;
	mdsc_map_put(mm);
	rc = count ? osd_stats_merge(c, v, count) : 0;
	if (rc) {
		free(v);
		return rc;
	}
	*osds = v;
	*n = count;
	return 0;
}

/* Sends a body to shard 0 and reads the epoch_rep it answers. */
static int epoch_call(struct cairn *c, uint16_t opcode, const struct wire_enc *e, uint64_t *epoch)
{
	struct proto_admin_epoch_rep rep;
	struct rpc_msg *resp;
	struct wire_dec d;
	int rc = admin_call(c, opcode, e, &resp, &d);

	if (rc)
		return rc;
	rc = mdsc_dec_check(proto_admin_epoch_rep_decode(&d, &rep), opcode);
	if (!rc && epoch)
		*epoch = rep.epoch;
	rpc_msg_free(resp);
	return rc;
}

int cairn_osd_set_in(struct cairn *c, uint32_t id, bool in, uint64_t *epoch)
{
	struct proto_admin_osd_set_in_req m = {.id = id, .in = in};
	uint8_t buf[64];
	struct wire_enc e;

	if (!c)
		return -EINVAL;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_osd_set_in_req_encode(&m, &e);
	return epoch_call(c, PROTO_OP_ADMIN_OSD_SET_IN, &e, epoch);
}

static void pool_from_proto(const struct proto_map_pool *p, const struct proto_admin_pool_usage *u,
			    struct cairn_pool_info *out)
{
	*out = (struct cairn_pool_info){.id = p->id,
					.scheme = p->scheme,
					.k = p->k,
					.m = p->m,
					.media = p->media,
					.compression = p->compression,
					.chunk_size = p->chunk_size,
					.pg_count = p->pg_count,
					.chunks = u->chunks,
					.logical_bytes = u->logical,
					.stored_bytes = u->stored};
	copy_str(out->name, sizeof(out->name), &p->name);
}

int cairn_pool_ratio(const struct cairn_pool_info *p, double *ratio)
{
	if (!p || !ratio)
		return -EINVAL;
	if (p->stored_bytes == 0)
		return -ENODATA;
	*ratio = (double)p->logical_bytes / (double)p->stored_bytes;
	return 0;
}

int cairn_pool_list(struct cairn *c, struct cairn_pool_info **pools, size_t *n)
{
	struct proto_admin_pool_list_rep rep = {.cap = PROTO_MAP_POOLS_MAX};
	struct cairn_pool_info *v = NULL;
	struct rpc_msg *resp = NULL;
	struct wire_dec d;
	int rc;

	if (!c || !pools || !n)
		return -EINVAL;
	rep.pools = calloc(PROTO_MAP_POOLS_MAX, sizeof(*rep.pools));
	rep.usage = calloc(PROTO_MAP_POOLS_MAX, sizeof(*rep.usage));
	if (!rep.pools || !rep.usage) {
		free(rep.pools);
		free(rep.usage);
		return -ENOMEM;
	}
	rc = admin_call(c, PROTO_OP_ADMIN_POOL_LIST, NULL, &resp, &d);
	if (!rc)
		rc = mdsc_dec_check(proto_admin_pool_list_rep_decode(&d, &rep),
				    PROTO_OP_ADMIN_POOL_LIST);
	if (!rc && rep.count) {
		v = calloc(rep.count, sizeof(*v));
		rc = v ? 0 : -ENOMEM;
	}
	for (uint32_t i = 0; !rc && i < rep.count; i++)
		pool_from_proto(&rep.pools[i], &rep.usage[i], &v[i]);
	if (!rc) {
		*pools = v;
		*n = rep.count;
	}
	rpc_msg_free(resp);
	free(rep.pools);
	free(rep.usage);
	return rc;
}

static bool pool_name_valid(const char *s)
{
	size_t n = strnlen(s, CAIRN_POOL_NAME_MAX + 1);

	if (n == 0 || n > CAIRN_POOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

int cairn_pool_create(struct cairn *c, const struct cairn_pool_info *p, uint32_t *id,
		      uint64_t *epoch)
{
	struct proto_admin_pool_create_req m;
	struct proto_admin_pool_create_rep rep;
	struct rpc_msg *resp;
	uint8_t buf[256];
	struct wire_enc e;
	struct wire_dec d;
	int rc;

	if (!c || !p || !pool_name_valid(p->name) ||
	    !proto_layout_valid((uint8_t)p->scheme, p->k, p->m, p->chunk_size) ||
	    !proto_map_media_valid((uint8_t)p->media) ||
	    (p->compression != CAIRN_COMPRESS_NONE && p->compression != CAIRN_COMPRESS_ZSTD) ||
	    p->pg_count < 1 || p->pg_count > PROTO_PG_MAX)
		return -EINVAL;
	m.pool = (struct proto_map_pool){.name = {.ptr = p->name, .len = (uint16_t)strlen(p->name)},
					 .scheme = (uint8_t)p->scheme,
					 .k = p->k,
					 .m = p->m,
					 .media = (uint8_t)p->media,
					 .compression = (uint8_t)p->compression,
					 .chunk_size = p->chunk_size,
					 .pg_count = p->pg_count};
	wire_enc_init(&e, buf, sizeof(buf));
	proto_admin_pool_create_req_encode(&m, &e);
	rc = admin_call(c, PROTO_OP_ADMIN_POOL_CREATE, &e, &resp, &d);
	if (rc)
		return rc;
	rc = mdsc_dec_check(proto_admin_pool_create_rep_decode(&d, &rep),
			    PROTO_OP_ADMIN_POOL_CREATE);
	if (!rc && id)
		*id = rep.pool_id;
	if (!rc && epoch)
		*epoch = rep.epoch;
	rpc_msg_free(resp);
	return rc;
}
