/*
 * test_admin.c - cluster map codec (proto/map.h) and administration message
 * codecs (proto/admin.h): a round trip of every message with non-trivial
 * values, every truncation and a trailing byte rejected (via check_codec),
 * each out-of-range value rejected, and the map's size bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/admin.h"
#include "proto/map.h"
#include "codec_check.h"

CODEC(proto_admin_, map_get_req);
CODEC(proto_admin_, map_get_rep);
CODEC(proto_admin_, epoch_rep);
CODEC(proto_admin_, osd_register_req);
CODEC(proto_admin_, osd_heartbeat_req);
CODEC(proto_admin_, pool_create_req);
CODEC(proto_admin_, pool_create_rep);
CODEC(proto_admin_, pool_list_rep);
CODEC(proto_admin_, status_rep);
CODEC(proto_admin_, osd_set_in_req);
CODEC(proto_admin_, osd_stats_rep);

static int map_enc_w(const void *m, struct wire_enc *e)
{
	return proto_map_encode(m, e);
}

static int map_dec_w(struct wire_dec *d, void *m)
{
	return proto_map_decode(d, m);
}

static void map_release_w(void *m)
{
	proto_map_free(m);
}

static const struct codec codec_map = {"map", map_enc_w, map_dec_w, map_release_w,
				       sizeof(struct proto_map)};

static char long_text[512];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(long_text); i++)
		long_text[i] = (char)('a' + i % 26);
	return 0;
}

/* ---- fixtures ---- */

static struct proto_map_pool pool(uint32_t id, const char *name)
{
	return (struct proto_map_pool){
	    .id = id,
	    .name = str_of(name),
	    .scheme = PROTO_SCHEME_EC,
	    .k = 8,
	    .m = 3,
	    .media = PROTO_MEDIA_NVME,
	    .compression = PROTO_COMPRESS_ZSTD,
	    .chunk_size = 4u << 20,
	    .pg_count = 1024,
	};
}

static struct proto_map_osd osd(uint32_t id, const char *addr, const char *host)
{
	return (struct proto_map_osd){
	    .id = id,
	    .addr = str_of(addr),
	    .host = str_of(host),
	    .media = PROTO_MEDIA_HDD,
	    .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN,
	    .weight = 0x10000,
	    .capacity = 16ull << 40,
	    .used = 3ull << 40,
	};
}

static struct proto_str shards[2];
static struct proto_map_osd osds[3];
static struct proto_map_pool pools[2];

static struct proto_map sample_map(void)
{
	shards[0] = str_of("10.0.0.1:7400");
	shards[1] = str_of("[fd00::2]:7400");
	osds[0] = osd(0, "10.0.1.1:7500", "rack1-node1");
	osds[1] = osd(7, "10.0.1.2:7500", "rack1-node2");
	osds[2] = osd(0xfffffff0u, "osd-host.example:7501", "rack2_node-3.local");
	osds[2].flags = 0; /* down and out */
	osds[2].media = PROTO_MEDIA_SSD;
	pools[0] = pool(1, "train");
	pools[1] = pool(9, "ckpt.rep-3");
	pools[1].scheme = PROTO_SCHEME_REP;
	pools[1].k = 1;
	pools[1].m = 2;
	pools[1].compression = PROTO_COMPRESS_NONE;
	pools[1].media = PROTO_MEDIA_HDD;
	return (struct proto_map){
	    .epoch = 0x100000001ull,
	    .nshards = 2,
	    .shards = shards,
	    .nosds = 3,
	    .osds = osds,
	    .npools = 2,
	    .pools = pools,
	};
}

static void assert_pool_eq(const struct proto_map_pool *a, const struct proto_map_pool *b)
{
	assert_int_equal(a->id, b->id);
	assert_str_eq(&a->name, &b->name);
	assert_int_equal(a->scheme, b->scheme);
	assert_int_equal(a->k, b->k);
	assert_int_equal(a->m, b->m);
	assert_int_equal(a->media, b->media);
	assert_int_equal(a->compression, b->compression);
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_int_equal(a->pg_count, b->pg_count);
}

static void assert_map_eq(const struct proto_map *a, const struct proto_map *b)
{
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->nshards, b->nshards);
	for (uint32_t i = 0; i < a->nshards; i++)
		assert_str_eq(&a->shards[i], &b->shards[i]);
	assert_int_equal(a->nosds, b->nosds);
	for (uint32_t i = 0; i < a->nosds; i++) {
		const struct proto_map_osd *x = &a->osds[i], *y = &b->osds[i];

		assert_int_equal(x->id, y->id);
		assert_str_eq(&x->addr, &y->addr);
		assert_str_eq(&x->host, &y->host);
		assert_int_equal(x->media, y->media);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->weight, y->weight);
		assert_int_equal(x->capacity, y->capacity);
		assert_int_equal(x->used, y->used);
	}
	assert_int_equal(a->npools, b->npools);
	for (uint32_t i = 0; i < a->npools; i++)
		assert_pool_eq(&a->pools[i], &b->pools[i]);
}

/* ---- field checks (the field is restored after) ---- */

static void check_addr_field(const struct codec *c, void *msg, struct proto_str *f)
{
	const struct proto_str saved = *f;

	*f = (struct proto_str){long_text, PROTO_ADDR_MAX};
	expect_accept(c, msg, NULL);
	*f = (struct proto_str){long_text, PROTO_ADDR_MAX + 1};
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){"", 0};
	expect_reject(c, msg, NULL);
	*f = str_of("10.0.0.1 :7400");
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){"a\0b", 3};
	expect_reject(c, msg, NULL);
	*f = str_of("host\n:1");
	expect_reject(c, msg, NULL);
	*f = str_of("h\x80:1");
	expect_reject(c, msg, NULL);
	*f = saved;
}

static void check_host_field(const struct codec *c, void *msg, struct proto_str *f)
{
	const struct proto_str saved = *f;

	*f = (struct proto_str){long_text, PROTO_HOST_MAX};
	expect_accept(c, msg, NULL);
	*f = (struct proto_str){long_text, PROTO_HOST_MAX + 1};
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){"", 0};
	expect_reject(c, msg, NULL);
	*f = str_of("rack/1");
	expect_reject(c, msg, NULL);
	*f = str_of("node 1");
	expect_reject(c, msg, NULL);
	*f = str_of("node:1");
	expect_reject(c, msg, NULL);
	*f = saved;
}

/* A pool's checks through any message holding one. */
static void check_pool_field(const struct codec *c, void *msg, const void *tmpl,
			     struct proto_map_pool *f)
{
	const struct proto_map_pool saved = *f;

	f->name = (struct proto_str){long_text, PROTO_POOL_NAME_MAX};
	expect_accept(c, msg, tmpl);
	f->name.len = PROTO_POOL_NAME_MAX + 1;
	expect_reject(c, msg, tmpl);
	f->name = (struct proto_str){"", 0};
	expect_reject(c, msg, tmpl);
	f->name = str_of("a/b");
	expect_reject(c, msg, tmpl);
	f->name = str_of("a b");
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->k = 0;
	expect_reject(c, msg, tmpl);
	f->k = PROTO_LAYOUT_K_MAX + 1;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->m = PROTO_LAYOUT_M_MAX + 1;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->scheme = 7;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->chunk_size = 3000;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->media = 0;
	expect_reject(c, msg, tmpl);
	f->media = PROTO_MEDIA_NVME + 1;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->compression = PROTO_COMPRESS_ZSTD + 1;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->pg_count = 0;
	expect_reject(c, msg, tmpl);
	f->pg_count = PROTO_PG_MAX + 1;
	expect_reject(c, msg, tmpl);
	f->pg_count = PROTO_PG_MAX;
	expect_accept(c, msg, tmpl);
	*f = saved;
}

/* ---- the map ---- */

static void test_map_round_trip(void **state)
{
	struct proto_map m = sample_map(), out;
	size_t len;

	(void)state;
	len = check_codec(&codec_map, &m, NULL, &out);
	assert_map_eq(&m, &out);

	/* The decoded map does not point into the input. */
	memset(check_body, 0xa5, len);
	assert_map_eq(&m, &out);
	proto_map_free(&out);
	assert_null(out.osds);
	assert_int_equal(out.nosds, 0);
	proto_map_free(&out); /* safe on an empty map */

	/* A map with no OSDs and no pools yet. */
	m.nosds = 0;
	m.npools = 0;
	check_codec(&codec_map, &m, NULL, &out);
	assert_map_eq(&m, &out);
	proto_map_free(&out);
}

static void test_map_fields(void **state)
{
	struct proto_map m = sample_map();

	(void)state;
	m.epoch = 0;
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	m.nshards = 0;
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	check_addr_field(&codec_map, &m, &shards[1]);
	check_addr_field(&codec_map, &m, &osds[1].addr);
	check_host_field(&codec_map, &m, &osds[2].host);
	check_pool_field(&codec_map, &m, NULL, &pools[1]);

	osds[1].media = 0;
	expect_reject(&codec_map, &m, NULL);
	osds[1].media = PROTO_MEDIA_NVME + 1;
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	osds[0].flags = 0x04;
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	osds[1].id = osds[0].id; /* duplicate */
	expect_reject(&codec_map, &m, NULL);
	osds[1].id = osds[2].id; /* out of order */
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	pools[0].id = 0;
	expect_reject(&codec_map, &m, NULL);
	pools[0].id = pools[1].id;
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	pools[1].name = pools[0].name; /* duplicate name */
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	pools[1].k = 2; /* replication has k == 1 */
	expect_reject(&codec_map, &m, NULL);
	m = sample_map();
	expect_accept(&codec_map, &m, NULL);
}

/* Fills a map of n shards, OSDs, pools (each capped at its own limit + 1). */
static struct proto_map big_map(uint32_t nshards, uint32_t nosds, uint32_t npools,
				struct proto_map_osd *o, struct proto_map_pool *p,
				struct proto_str *s, char (*names)[8])
{
	for (uint32_t i = 0; i < nshards; i++)
		s[i] = str_of("127.0.0.1:7400");
	for (uint32_t i = 0; i < nosds; i++)
		o[i] = osd(i * 3 + 1, "127.0.0.1:7500", "h");
	for (uint32_t i = 0; i < npools; i++) {
		snprintf(names[i], sizeof(names[i]), "p%u", i);
		p[i] = pool(i + 1, names[i]);
	}
	return (struct proto_map){.epoch = 1,
				  .nshards = nshards,
				  .shards = s,
				  .nosds = nosds,
				  .osds = o,
				  .npools = npools,
				  .pools = p};
}

static void test_map_limits(void **state)
{
	struct proto_map_osd *o = calloc(PROTO_MAP_OSDS_MAX + 1, sizeof(*o));
	struct proto_map_pool *p = calloc(PROTO_MAP_POOLS_MAX + 1, sizeof(*p));
	struct proto_str *s = calloc(PROTO_MAP_SHARDS_MAX + 1, sizeof(*s));
	char(*names)[8] = calloc(PROTO_MAP_POOLS_MAX + 1, sizeof(*names));
	struct proto_map m;

	(void)state;
	assert_non_null(o);
	assert_non_null(p);
	assert_non_null(s);
	assert_non_null(names);
	m = big_map(PROTO_MAP_SHARDS_MAX, PROTO_MAP_OSDS_MAX, PROTO_MAP_POOLS_MAX, o, p, s, names);
	expect_accept(&codec_map, &m, NULL);
	m = big_map(PROTO_MAP_SHARDS_MAX + 1, 1, 1, o, p, s, names);
	expect_reject(&codec_map, &m, NULL);
	m = big_map(1, PROTO_MAP_OSDS_MAX + 1, 1, o, p, s, names);
	expect_reject(&codec_map, &m, NULL);
	m = big_map(1, 1, PROTO_MAP_POOLS_MAX + 1, o, p, s, names);
	expect_reject(&codec_map, &m, NULL);
	free(names);
	free(s);
	free(p);
	free(o);
}

/* A count the remaining bytes cannot hold fails before any allocation. */
static void test_map_counts_vs_bytes(void **state)
{
	uint8_t buf[64];
	struct wire_enc e;
	struct wire_dec d;
	struct proto_map m;
	size_t len;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	wire_enc_u64(&e, 5);
	wire_enc_u32(&e, PROTO_MAP_SHARDS_MAX); /* allowed count, no bytes */
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	wire_dec_init(&d, buf, len);
	assert_int_equal(proto_map_decode(&d, &m), -CAIRN_EBADFRAME);
	assert_null(m.shards);
	assert_null(m.mem);

	/* An already failed cursor. */
	wire_dec_init(&d, buf, len);
	wire_dec_fail(&d);
	assert_int_equal(proto_map_decode(&d, &m), -CAIRN_EBADFRAME);

	/* Empty input. */
	wire_dec_init(&d, buf, 0);
	assert_int_equal(proto_map_decode(&d, &m), -CAIRN_EBADFRAME);
	assert_int_equal(d.err, -CAIRN_EBADFRAME);
}

/* ---- admin messages ---- */

static void test_map_get(void **state)
{
	struct proto_admin_map_get_req req = {.known_epoch = 41}, req_out;
	struct proto_map map = sample_map(), map_out;
	static uint8_t blob[4096];
	struct proto_admin_map_get_rep rep = {.epoch = 42}, rep_out;
	struct wire_dec d;

	(void)state;
	assert_int_equal(check_codec(&codec_map_get_req, &req, NULL, &req_out), 8);
	assert_int_equal(req_out.known_epoch, 41);
	req.known_epoch = 0; /* no map yet */
	expect_accept(&codec_map_get_req, &req, NULL);

	rep.map.len = (uint32_t)codec_encode(&codec_map, &map, blob, sizeof(blob));
	rep.map.ptr = blob;
	check_codec(&codec_map_get_rep, &rep, NULL, &rep_out);
	assert_int_equal(rep_out.epoch, 42);
	assert_blob_eq(&rep.map, &rep_out.map);
	wire_dec_init(&d, rep_out.map.ptr, rep_out.map.len);
	assert_int_equal(proto_map_decode(&d, &map_out), 0);
	assert_map_eq(&map, &map_out);
	proto_map_free(&map_out);

	rep.map.len = 0; /* "your map is current" */
	expect_accept(&codec_map_get_rep, &rep, NULL);
	rep.epoch = 0;
	expect_reject(&codec_map_get_rep, &rep, NULL);
}

/* The blob limit, with real bytes behind the length. */
static void test_map_get_blob_limit(void **state)
{
	size_t cap = 8 + 4 + PROTO_MAP_BLOB_MAX + 1;
	uint8_t *buf = calloc(1, cap);
	struct proto_admin_map_get_rep out;
	struct wire_dec d;

	(void)state;
	assert_non_null(buf);
	wire_put_le64(buf, 3);
	wire_put_le32(buf + 8, PROTO_MAP_BLOB_MAX);
	wire_dec_init(&d, buf, cap - 1);
	assert_int_equal(proto_admin_map_get_rep_decode(&d, &out), 0);
	assert_int_equal(out.map.len, PROTO_MAP_BLOB_MAX);
	wire_put_le32(buf + 8, PROTO_MAP_BLOB_MAX + 1);
	wire_dec_init(&d, buf, cap);
	assert_int_equal(proto_admin_map_get_rep_decode(&d, &out), -CAIRN_EBADFRAME);
	free(buf);
}

static void test_epoch_rep(void **state)
{
	struct proto_admin_epoch_rep m = {.epoch = 0xdeadbeef01ull}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_epoch_rep, &m, NULL, &out), 8);
	assert_int_equal(out.epoch, m.epoch);
	m.epoch = 0;
	expect_reject(&codec_epoch_rep, &m, NULL);
}

static void test_osd_register_req(void **state)
{
	struct proto_admin_osd_register_req m = {
	    .id = 12,
	    .addr = str_of("192.168.10.12:7500"),
	    .host = str_of("gpu-node-12"),
	    .media = PROTO_MEDIA_NVME,
	    .capacity = 7681501126656ull,
	};
	struct proto_admin_osd_register_req out;

	(void)state;
	check_codec(&codec_osd_register_req, &m, NULL, &out);
	assert_int_equal(out.id, 12);
	assert_str_eq(&m.addr, &out.addr);
	assert_str_eq(&m.host, &out.host);
	assert_int_equal(out.media, PROTO_MEDIA_NVME);
	assert_int_equal(out.capacity, m.capacity);
	check_addr_field(&codec_osd_register_req, &m, &m.addr);
	check_host_field(&codec_osd_register_req, &m, &m.host);
	m.media = 0;
	expect_reject(&codec_osd_register_req, &m, NULL);
	m.media = 200;
	expect_reject(&codec_osd_register_req, &m, NULL);
}

static const struct proto_admin_scrub_counts scrub_sample = {
    .scrubbed = 1000, .bad = 7, .repaired = 5, .unrepairable = 2};

static void assert_scrub_eq(const struct proto_admin_scrub_counts *a,
			    const struct proto_admin_scrub_counts *b)
{
	assert_int_equal(a->scrubbed, b->scrubbed);
	assert_int_equal(a->bad, b->bad);
	assert_int_equal(a->repaired, b->repaired);
	assert_int_equal(a->unrepairable, b->unrepairable);
}

/* Each way a scrub count can break repaired + unrepairable <= bad <= scrubbed. */
static void check_scrub_field(const struct codec *c, const void *msg, const void *tmpl,
			      struct proto_admin_scrub_counts *f)
{
	const struct proto_admin_scrub_counts good = *f;

	f->bad = f->scrubbed + 1;
	expect_reject(c, msg, tmpl);
	*f = good;
	f->repaired = f->bad + 1;
	expect_reject(c, msg, tmpl);
	*f = good;
	f->unrepairable = f->bad - f->repaired + 1;
	expect_reject(c, msg, tmpl);
	*f = good;
	f->repaired = UINT64_MAX; /* the sum must not wrap to something small */
	f->unrepairable = 2;
	f->bad = f->scrubbed = UINT64_MAX;
	expect_reject(c, msg, tmpl);
	f->repaired = UINT64_MAX - 2;
	expect_accept(c, msg, tmpl);
	*f = good;
	expect_accept(c, msg, tmpl);
}

static void test_osd_heartbeat_req(void **state)
{
	struct proto_admin_pool_usage hb[3] = {
	    {.pool_id = 1, .chunks = 10, .logical = 655360, .stored = 131072},
	    {.pool_id = 2, .chunks = 0, .logical = 0, .stored = 0},
	    {.pool_id = 900, .chunks = 1ull << 40, .logical = 1ull << 62, .stored = 1ull << 61}};
	struct proto_admin_pool_usage got[3];
	struct proto_admin_osd_heartbeat_req m = {.id = 4,
						  .epoch = 17,
						  .used = 1ull << 41,
						  .scrub = scrub_sample,
						  .npools = 3,
						  .pools = hb};
	struct proto_admin_osd_heartbeat_req tmpl = {.cap = 3, .pools = got}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_osd_heartbeat_req, &m, &tmpl, &out),
			 4 + 8 + 8 + 32 + 4 + 3 * 28);
	assert_int_equal(out.id, 4);
	assert_int_equal(out.epoch, 17);
	assert_int_equal(out.used, 1ull << 41);
	assert_scrub_eq(&out.scrub, &scrub_sample);
	assert_int_equal(out.npools, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(got[i].pool_id, hb[i].pool_id);
		assert_int_equal(got[i].chunks, hb[i].chunks);
		assert_int_equal(got[i].logical, hb[i].logical);
		assert_int_equal(got[i].stored, hb[i].stored);
	}
	check_scrub_field(&codec_osd_heartbeat_req, &m, &tmpl, &m.scrub);

	/* No pools (an OSD with an empty store). */
	m.npools = 0;
	assert_int_equal(check_codec(&codec_osd_heartbeat_req, &m, NULL, &out), 4 + 8 + 8 + 32 + 4);
	m.npools = 3;
	/* More than the caller's room, pool id 0, ids out of order or repeated. */
	tmpl.cap = 2;
	expect_reject(&codec_osd_heartbeat_req, &m, &tmpl);
	tmpl.cap = 3;
	hb[0].pool_id = 0;
	expect_reject(&codec_osd_heartbeat_req, &m, &tmpl);
	hb[0].pool_id = 2;
	expect_reject(&codec_osd_heartbeat_req, &m, &tmpl);
	hb[0].pool_id = 3;
	expect_reject(&codec_osd_heartbeat_req, &m, &tmpl);
	hb[0].pool_id = 1;
	expect_accept(&codec_osd_heartbeat_req, &m, &tmpl);
}

static void test_osd_heartbeat_req_max(void **state)
{
	const uint32_t n = PROTO_ADMIN_HB_POOLS_MAX + 1;
	struct proto_admin_pool_usage *hb = calloc(n, sizeof(*hb));
	struct proto_admin_pool_usage *got = calloc(n, sizeof(*got));
	struct proto_admin_osd_heartbeat_req m = {.id = 1, .npools = n - 1, .pools = hb};
	struct proto_admin_osd_heartbeat_req tmpl = {.cap = n, .pools = got};

	(void)state;
	assert_non_null(hb);
	assert_non_null(got);
	for (uint32_t i = 0; i < n; i++)
		hb[i] = (struct proto_admin_pool_usage){.pool_id = i + 1, .chunks = i};
	expect_accept(&codec_osd_heartbeat_req, &m, &tmpl);
	m.npools = n; /* one above the limit, though the caller has room */
	expect_reject(&codec_osd_heartbeat_req, &m, &tmpl);
	free(got);
	free(hb);
}

static void test_pool_create_req(void **state)
{
	struct proto_admin_pool_create_req m = {.pool = pool(0, "datasets")}, out;

	(void)state;
	check_codec(&codec_pool_create_req, &m, NULL, &out);
	assert_pool_eq(&m.pool, &out.pool);
	check_pool_field(&codec_pool_create_req, &m, NULL, &m.pool);
	m.pool.id = 1; /* the MDS picks the id */
	expect_reject(&codec_pool_create_req, &m, NULL);
}

static void test_pool_create_rep(void **state)
{
	struct proto_admin_pool_create_rep m = {.pool_id = 3, .epoch = 8}, out;

	(void)state;
	check_codec(&codec_pool_create_rep, &m, NULL, &out);
	assert_int_equal(out.pool_id, 3);
	assert_int_equal(out.epoch, 8);
	m.pool_id = 0;
	expect_reject(&codec_pool_create_rep, &m, NULL);
	m.pool_id = 3;
	m.epoch = 0;
	expect_reject(&codec_pool_create_rep, &m, NULL);
}

static void test_pool_list_rep(void **state)
{
	struct proto_map_pool list[3] = {pool(1, "a"), pool(2, "b-2"), pool(300, "c.3")};
	struct proto_admin_pool_usage usage[3] = {
	    {.chunks = 6, .logical = 393216, .stored = 100000},
	    {0},
	    {.chunks = 1ull << 33, .logical = UINT64_MAX, .stored = 1}};
	struct proto_map_pool got[3];
	struct proto_admin_pool_usage got_usage[3];
	struct proto_admin_pool_list_rep m = {.count = 3, .pools = list, .usage = usage};
	struct proto_admin_pool_list_rep tmpl = {.cap = 3, .pools = got, .usage = got_usage}, out;
	size_t len0, len;

	(void)state;
	len = check_codec(&codec_pool_list_rep, &m, &tmpl, &out);
	assert_int_equal(out.count, 3);
	for (int i = 0; i < 3; i++) {
		assert_pool_eq(&list[i], &got[i]);
		assert_int_equal(got_usage[i].pool_id, list[i].id);
		assert_int_equal(got_usage[i].chunks, usage[i].chunks);
		assert_int_equal(got_usage[i].logical, usage[i].logical);
		assert_int_equal(got_usage[i].stored, usage[i].stored);
	}
	check_pool_field(&codec_pool_list_rep, &m, &tmpl, &list[1]);

	m.count = 0;
	len0 = check_codec(&codec_pool_list_rep, &m, &tmpl, &out);
	assert_int_equal(len0, 4);
	m.count = 1;
	/* Each pool carries 24 bytes of usage after its description. */
	assert_int_equal(check_codec(&codec_pool_list_rep, &m, &tmpl, &out),
			 4 + 4 + 2 + 1 + 5 + 4 + 4 + 24);
	assert_true(len > 3 * 24);
	m.count = 3;
	tmpl.cap = 2;
	expect_reject(&codec_pool_list_rep, &m, &tmpl);
	tmpl.cap = 3;
	list[2].id = 2; /* duplicate id */
	expect_reject(&codec_pool_list_rep, &m, &tmpl);
	list[2].id = 300;
	list[2].name = str_of("a"); /* duplicate name */
	expect_reject(&codec_pool_list_rep, &m, &tmpl);
	list[2].name = str_of("c");
	list[0].id = 0;
	expect_reject(&codec_pool_list_rep, &m, &tmpl);
}

static void test_pool_list_rep_max(void **state)
{
	const uint32_t n = PROTO_MAP_POOLS_MAX + 1;
	struct proto_map_pool *list = calloc(n, sizeof(*list));
	struct proto_map_pool *got = calloc(n, sizeof(*got));
	struct proto_admin_pool_usage *usage = calloc(n, sizeof(*usage));
	struct proto_admin_pool_usage *got_usage = calloc(n, sizeof(*got_usage));
	char(*names)[8] = calloc(n, sizeof(*names));
	struct proto_admin_pool_list_rep m = {.count = n - 1, .pools = list, .usage = usage};
	struct proto_admin_pool_list_rep tmpl = {.cap = n, .pools = got, .usage = got_usage};

	(void)state;
	assert_non_null(list);
	assert_non_null(got);
	assert_non_null(usage);
	assert_non_null(got_usage);
	assert_non_null(names);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "q%u", i);
		list[i] = pool(i + 1, names[i]);
		usage[i].stored = i;
	}
	expect_accept(&codec_pool_list_rep, &m, &tmpl);
	m.count = n;
	expect_reject(&codec_pool_list_rep, &m, &tmpl);
	free(names);
	free(got_usage);
	free(usage);
	free(got);
	free(list);
}

static void test_status_rep(void **state)
{
	struct proto_admin_status_rep m = {
	    .epoch = 55,
	    .nshards = 2,
	    .nosds = 6,
	    .osds_up = 5,
	    .osds_in = 6,
	    .npools = 1,
	    .capacity = 96ull << 40,
	    .used = 12ull << 40,
	    .health = PROTO_HEALTH_WARN,
	    .osds_unrepairable = 1,
	    .scrub = scrub_sample,
	};
	struct proto_admin_status_rep out, bad;

	(void)state;
	assert_int_equal(check_codec(&codec_status_rep, &m, NULL, &out),
			 8 + 5 * 4 + 8 + 8 + 1 + 4 + 32);
	assert_int_equal(out.osds_unrepairable, 1);
	assert_scrub_eq(&out.scrub, &scrub_sample);
	assert_int_equal(out.epoch, 55);
	assert_int_equal(out.nshards, 2);
	assert_int_equal(out.nosds, 6);
	assert_int_equal(out.osds_up, 5);
	assert_int_equal(out.osds_in, 6);
	assert_int_equal(out.npools, 1);
	assert_int_equal(out.capacity, m.capacity);
	assert_int_equal(out.used, m.used);
	assert_int_equal(out.health, PROTO_HEALTH_WARN);

	bad = m;
	bad.epoch = 0;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.osds_up = 7;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.osds_in = 7;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.nosds = bad.osds_up = bad.osds_in = PROTO_MAP_OSDS_MAX + 1;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.nshards = 0;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad.nshards = PROTO_MAP_SHARDS_MAX + 1;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.npools = PROTO_MAP_POOLS_MAX + 1;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.health = PROTO_HEALTH_ERR + 1;
	expect_reject(&codec_status_rep, &bad, NULL);
	bad.health = PROTO_HEALTH_ERR;
	expect_accept(&codec_status_rep, &bad, NULL);
	bad = m;
	bad.osds_unrepairable = 7; /* more than nosds */
	expect_reject(&codec_status_rep, &bad, NULL);
	bad.osds_unrepairable = 6;
	expect_accept(&codec_status_rep, &bad, NULL);
	bad = m;
	check_scrub_field(&codec_status_rep, &bad, NULL, &bad.scrub);
}

static void test_osd_stats_rep(void **state)
{
	struct proto_admin_osd_stats st[3] = {
	    {.id = 0, .scrub = {0}},
	    {.id = 5, .scrub = scrub_sample},
	    {.id = 4095, .scrub = {.scrubbed = UINT64_MAX, .bad = 1, .repaired = 1}}};
	struct proto_admin_osd_stats got[3];
	struct proto_admin_osd_stats_rep m = {.count = 3, .osds = st};
	struct proto_admin_osd_stats_rep tmpl = {.cap = 3, .osds = got}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_osd_stats_rep, &m, &tmpl, &out), 4 + 3 * 36);
	assert_int_equal(out.count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(got[i].id, st[i].id);
		assert_scrub_eq(&got[i].scrub, &st[i].scrub);
	}
	check_scrub_field(&codec_osd_stats_rep, &m, &tmpl, &st[1].scrub);
	m.count = 0;
	assert_int_equal(check_codec(&codec_osd_stats_rep, &m, &tmpl, &out), 4);
	m.count = 3;
	tmpl.cap = 2;
	expect_reject(&codec_osd_stats_rep, &m, &tmpl);
	tmpl.cap = 3;
	st[2].id = 5; /* repeated id */
	expect_reject(&codec_osd_stats_rep, &m, &tmpl);
	st[2].id = 4;
	expect_reject(&codec_osd_stats_rep, &m, &tmpl);
	st[2].id = 6;
	expect_accept(&codec_osd_stats_rep, &m, &tmpl);
}

static void test_osd_stats_rep_max(void **state)
{
	const uint32_t n = PROTO_MAP_OSDS_MAX + 1;
	struct proto_admin_osd_stats *st = calloc(n, sizeof(*st));
	struct proto_admin_osd_stats *got = calloc(n, sizeof(*got));
	struct proto_admin_osd_stats_rep m = {.count = n - 1, .osds = st};
	struct proto_admin_osd_stats_rep tmpl = {.cap = n, .osds = got};

	(void)state;
	assert_non_null(st);
	assert_non_null(got);
	for (uint32_t i = 0; i < n; i++)
		st[i].id = i;
	expect_accept(&codec_osd_stats_rep, &m, &tmpl);
	m.count = n;
	expect_reject(&codec_osd_stats_rep, &m, &tmpl);
	free(got);
	free(st);
}

static void test_osd_set_in_req(void **state)
{
	struct proto_admin_osd_set_in_req m = {.id = 0x01020304, .in = 1}, out;

	(void)state;
	assert_int_equal(check_codec(&codec_osd_set_in_req, &m, NULL, &out), 5);
	assert_int_equal(out.id, 0x01020304);
	assert_int_equal(out.in, 1);
	m.in = 0;
	expect_accept(&codec_osd_set_in_req, &m, NULL);
	m.in = 2;
	expect_reject(&codec_osd_set_in_req, &m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_round_trip),    cmocka_unit_test(test_map_fields),
	    cmocka_unit_test(test_map_limits),	      cmocka_unit_test(test_map_counts_vs_bytes),
	    cmocka_unit_test(test_map_get),	      cmocka_unit_test(test_map_get_blob_limit),
	    cmocka_unit_test(test_epoch_rep),	      cmocka_unit_test(test_osd_register_req),
	    cmocka_unit_test(test_osd_heartbeat_req), cmocka_unit_test(test_pool_create_req),
	    cmocka_unit_test(test_pool_create_rep),   cmocka_unit_test(test_pool_list_rep),
	    cmocka_unit_test(test_pool_list_rep_max), cmocka_unit_test(test_status_rep),
	    cmocka_unit_test(test_osd_set_in_req),    cmocka_unit_test(test_osd_heartbeat_req_max),
	    cmocka_unit_test(test_osd_stats_rep),     cmocka_unit_test(test_osd_stats_rep_max),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
