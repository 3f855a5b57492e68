/*
 * test_osd_io.c - stripes written through the primary, read back chunk by
 * chunk, on one cairn-mds shard and 6 cairn-osd processes in 3 fake hosts.
 *
 * Covers: full and partial stripe writes on a 4+2 pool (data chunks equal
 * the written bytes, parity equals an ISA-L encode done here, every member
 * at the version the primary acknowledged, chunk lengths as documented in
 * proto/osd.h), older versions trimmed once the new one is durable, a
 * replicated pool, a zstd pool, two writers hammering different parts of
 * one stripe at once (nothing lost), CHUNK_LIST, CHUNK_DELETE, and the
 * errors: not the primary, a stale map, malformed bodies, a range past the
 * stripe, an unknown pool or opcode.
 *
 * Usage: test_osd_io CAIRN-MDS CAIRN-OSD [SEED]; exits 77 if a binary is
 * missing.  Deterministic for a seed (printed).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "osdcheck.h"
#include "common/error.h"
#include "common/placement.h"
#include "proto/osd.h"

#define CS (64u * 1024) /* chunk size of the test pools */
#define K 4
#define M 2
#define W (K + M)
#define STRIPE (K * CS)

static struct tc_cluster cl;
static uint64_t seed;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t write_ok(const struct proto_map_pool *p, uint64_t ino, uint64_t stripe,
			 struct model *md, uint32_t off, const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;
	int ret = tc_stripe_write(&cl, p, ino, stripe, off, data, len, &v);

	TC_CHECK(ret == 0, "STRIPE_WRITE %" PRIx64 ".%" PRIu64 " [%u, +%u): %s", ino, stripe, off,
		 len, error_str(ret));
	model_write(md, off, data, len);
	return v;
}

/* Older versions disappear from every member once the new one is durable. */
static void check_trimmed(const struct proto_map_pool *p, uint64_t ino, uint64_t stripe,
			  uint64_t old)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	int64_t end = tc_now_ms() + 5000;
	uint8_t b;

	tc_acting(&cl, p, ino, stripe, ids, up);
	for (unsigned i = 0; i < (unsigned)p->k + p->m; i++) {
		int ret;

		while ((ret = tc_chunk_read(&cl, ids[i], p, ino, stripe, i, 0, 1, old, &b, NULL,
					    NULL)) == 0 &&
		       tc_now_ms() < end)
			usleep(20000);
		TC_CHECK(ret == -ENOENT, "v%" PRIx64 " of chunk %u still readable: %s", old, i,
			 error_str(ret));
	}
}

static void test_full_and_partial(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");
	uint8_t *data = malloc(STRIPE);
	struct model a, b;
	uint64_t v1, v2, s = seed;

	printf("full and partial stripes\n");
	model_init(&a, K, M, CS);
	tc_fill(seed + 1, data, STRIPE);
	v1 = write_ok(&p, 0x10001, 0, &a, 0, data, STRIPE);
	check_stripe(&cl, &p, 0x10001, 0, &a, v1);
	/* Partial writes over it: incremental parity, lengths unchanged. */
	tc_fill(seed + 2, data, 5000);
	v2 = write_ok(&p, 0x10001, 0, &a, 70000, data, 5000);
	TC_CHECK(v2 > v1, "versions must grow");
	check_stripe(&cl, &p, 0x10001, 0, &a, v2);
	check_trimmed(&p, 0x10001, 0, v1);
	for (int i = 0; i < 8; i++) {
		uint32_t off = (uint32_t)(rnd(&s) % STRIPE);
		uint32_t len = 1 + (uint32_t)(rnd(&s) % (STRIPE - off < 150000 ? STRIPE - off : 150000));

		tc_fill(seed + 10 + (uint64_t)i, data, len);
		v2 = write_ok(&p, 0x10001, 0, &a, off, data, len);
	}
	check_stripe(&cl, &p, 0x10001, 0, &a, v2);

	/* A new stripe written partially: chunks as long as their bytes, parity the longest. */
	model_init(&b, K, M, CS);
	tc_fill(seed + 3, data, 50000);
	v1 = write_ok(&p, 0x10001, 7, &b, 100000, data, 50000);
	check_stripe(&cl, &p, 0x10001, 7, &b, v1);
	tc_fill(seed + 4, data, 3000);
	v1 = write_ok(&p, 0x10001, 7, &b, 10, data, 3000);
	check_stripe(&cl, &p, 0x10001, 7, &b, v1);
	tc_fill(seed + 5, data, STRIPE);
	v1 = write_ok(&p, 0x10001, 7, &b, 0, data, STRIPE);
	check_stripe(&cl, &p, 0x10001, 7, &b, v1);
	model_free(&a);
	model_free(&b);
	free(data);
}

static void test_other_pools(void)
{
	struct proto_map_pool rep = tc_pool(&cl, "rep"), z = tc_pool(&cl, "ecz");
	uint8_t *data = malloc(4 * 16384);
	struct model r, mz;
	uint64_t v = 0;

	printf("replicated and zstd pools\n");
	model_init(&r, 1, 2, 16384);
	tc_fill(seed + 20, data, 16384);
	v = write_ok(&rep, 0x20002, 3, &r, 0, data, 16384);
	check_stripe(&cl, &rep, 0x20002, 3, &r, v);
	tc_fill(seed + 21, data, 100);
	v = write_ok(&rep, 0x20002, 3, &r, 5000, data, 100);
	check_stripe(&cl, &rep, 0x20002, 3, &r, v);
	model_free(&r);
	model_init(&r, 1, 2, 16384);
	v = write_ok(&rep, 0x20002, 4, &r, 16000, data, 100); /* new stripe, partial */
	check_stripe(&cl, &rep, 0x20002, 4, &r, v);

	model_init(&mz, 4, 2, 16384);
	for (uint32_t i = 0; i < 4 * 16384; i++) /* compressible */
		data[i] = (uint8_t)("cairn stores chunks "[i % 20] + (i / 4096));
	v = write_ok(&z, 0x30003, 1, &mz, 0, data, 4 * 16384);
	check_stripe(&cl, &z, 0x30003, 1, &mz, v);
	v = write_ok(&z, 0x30003, 1, &mz, 20000, data + 7, 30000);
	check_stripe(&cl, &z, 0x30003, 1, &mz, v);
	model_free(&r);
	model_free(&mz);
	free(data);
}

/* ---- two writers on one stripe -------------------------------------------------------- */

struct writer {
	const struct proto_map_pool *p;
	uint64_t ino, stripe;
	int id;	       /* 0 or 1 */
	bool blocks;   /* interleaved 4 KiB blocks, else halves */
	struct model md;
	int errors;
	int writes;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	uint64_t s = seed * 31 + (uint64_t)wr->id + (wr->blocks ? 100 : 0);
	uint8_t *data = malloc(STRIPE / 2);

	for (int n = 0; n < wr->writes; n++) {
		uint32_t off, len;

		if (wr->blocks) {
			off = (uint32_t)((rnd(&s) % (STRIPE / 8192)) * 8192 + (uint32_t)wr->id * 4096);
			len = 4096;
		} else {
			off = (uint32_t)(rnd(&s) % (STRIPE / 2));
			len = 1 + (uint32_t)(rnd(&s) % (STRIPE / 2 - off));
			len = len > 40000 ? 40000 : len;
			off += (uint32_t)wr->id * (STRIPE / 2);
		}
		tc_fill(s, data, len);
		if (tc_stripe_write(&cl, wr->p, wr->ino, wr->stripe, off, data, len, NULL) == 0)
			model_write(&wr->md, off, data, len);
		else
			wr->errors++;
	}
	free(data);
	return NULL;
}

static void hammer(const struct proto_map_pool *p, uint64_t ino, uint64_t stripe, bool blocks)
{
	struct writer wr[2];
	pthread_t th[2];
	struct model all;
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint64_t v;
	uint8_t b;

	for (int i = 0; i < 2; i++) {
		wr[i] = (struct writer){.p = p, .ino = ino, .stripe = stripe, .id = i,
					.blocks = blocks, .writes = 60};
		model_init(&wr[i].md, K, M, CS);
		pthread_create(&th[i], NULL, writer_main, &wr[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	TC_CHECK(wr[0].errors == 0 && wr[1].errors == 0, "writes failed: %d and %d",
		 wr[0].errors, wr[1].errors);
	/* Each writer owns its part: the stripe is the union of the two models. */
	model_init(&all, K, M, CS);
	for (uint32_t x = 0; x < STRIPE; x++) {
		int owner = blocks ? (int)((x / 4096) % 2) : (x >= STRIPE / 2);

		all.bytes[x] = wr[owner].md.bytes[x];
	}
	for (unsigned j = 0; j < K; j++)
		all.lens[j] = wr[0].md.lens[j] > wr[1].md.lens[j] ? wr[0].md.lens[j]
								  : wr[1].md.lens[j];
	tc_acting(&cl, p, ino, stripe, ids, up);
	TC_CHECK(tc_chunk_read(&cl, ids[0], p, ino, stripe, 0, 0, 1, 0, &b, NULL, &v) == 0 ||
		 all.lens[0] == 0, "no chunk 0");
	if (all.lens[0] == 0) /* chunk 0 empty: take the version from parity */
		TC_CHECK(tc_chunk_read(&cl, ids[K], p, ino, stripe, K, 0, 1, 0, &b, NULL, &v) == 0,
			 "no parity chunk");
	check_stripe(&cl, p, ino, stripe, &all, v);
	model_free(&all);
	model_free(&wr[0].md);
	model_free(&wr[1].md);
}

static void test_concurrent_writers(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");

	printf("two writers on one stripe: halves, then interleaved blocks\n");
	hammer(&p, 0x40004, 2, false);
	hammer(&p, 0x40004, 3, true);
}

/* ---- listing, deletion, errors ------------------------------------------------------ */

static int raw_call(uint32_t osd, uint16_t op, const void *body, uint32_t len, const void *data,
		    uint32_t dlen, struct rpc_msg **resp)
{
	struct iovec iov = {(void *)data, dlen};

	return tc_osd_call(&cl, osd,
			   &(struct rpc_call){.opcode = op, .body = body, .body_len = len,
					      .data = dlen ? &iov : NULL, .data_cnt = dlen ? 1 : 0},
			   resp);
}

static int encode_stripe_write(const struct proto_osd_stripe_write_req *q, uint8_t *body,
			       size_t cap)
{
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, cap);
	proto_osd_stripe_write_req_encode(q, &e);
	wire_enc_finish(&e, &len);
	return (int)len;
}

static void expect_status(uint32_t osd, uint16_t op, const void *body, uint32_t len,
			  const void *data, uint32_t dlen, int want, const char *what)
{
	struct rpc_msg *resp = NULL;
	int ret = raw_call(osd, op, body, len, data, dlen, &resp);

	rpc_msg_free(resp);
	TC_CHECK(ret == want, "%s: got %s, expected %s", what, error_str(ret), error_str(want));
}

static void test_errors(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	uint8_t body[128], data[4096] = {1};
	struct proto_osd_stripe_write_req q = {.map_epoch = cl.map.epoch, .pool_id = p.id,
					       .ino = 0x50005, .stripe = 1, .offset = 0,
					       .length = sizeof(data)};
	int prim = tc_acting(&cl, &p, q.ino, q.stripe, ids, up), len;
	uint32_t other = ids[(prim + 1) % W];

	printf("errors\n");
	len = encode_stripe_write(&q, body, sizeof(body));
	expect_status(other, PROTO_OP_OSD_STRIPE_WRITE, body, (uint32_t)len, data, sizeof(data),
		      -CAIRN_ENOTPRIMARY, "STRIPE_WRITE to a non-primary");
	q.map_epoch = 1;
	len = encode_stripe_write(&q, body, sizeof(body));
	expect_status(other, PROTO_OP_OSD_STRIPE_WRITE, body, (uint32_t)len, data, sizeof(data),
		      -CAIRN_ESTALEMAP, "STRIPE_WRITE with an old map to a non-primary");
	q.map_epoch = cl.map.epoch;
	expect_status(ids[prim], PROTO_OP_OSD_STRIPE_WRITE, body, 3, NULL, 0, -CAIRN_EBADFRAME,
		      "truncated STRIPE_WRITE body");
	len = encode_stripe_write(&q, body, sizeof(body));
	expect_status(ids[prim], PROTO_OP_OSD_STRIPE_WRITE, body, (uint32_t)len, data, 100,
		      -CAIRN_EBADFRAME, "STRIPE_WRITE data shorter than its length");
	q.offset = STRIPE - 10;
	len = encode_stripe_write(&q, body, sizeof(body));
	expect_status(ids[prim], PROTO_OP_OSD_STRIPE_WRITE, body, (uint32_t)len, data,
		      sizeof(data), -EINVAL, "STRIPE_WRITE past the stripe");
	q.offset = 0;
	q.pool_id = 999;
	len = encode_stripe_write(&q, body, sizeof(body));
	expect_status(ids[prim], PROTO_OP_OSD_STRIPE_WRITE, body, (uint32_t)len, data,
		      sizeof(data), -ENOENT, "STRIPE_WRITE to an unknown pool");
	expect_status(ids[prim], PROTO_OP_OSD_LAST, NULL, 0, NULL, 0, -EOPNOTSUPP,
		      "unknown opcode");
	{
		struct proto_osd_chunk_write_req cw = {.map_epoch = cl.map.epoch, .pool_id = p.id,
						       .id = {0x50005, 1, (uint8_t)prim},
						       .version = 5, .offset = 0, .length = 4096};
		struct wire_enc e;
		size_t n = 0;

		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_write_req_encode(&cw, &e);
		wire_enc_finish(&e, &n);
		expect_status(other, PROTO_OP_OSD_CHUNK_WRITE, body, (uint32_t)n, data, 4096,
			      -CAIRN_ENOTPRIMARY, "CHUNK_WRITE of another position");
		cw.offset = CS - 100; /* past the pool's chunk size */
		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_write_req_encode(&cw, &e);
		wire_enc_finish(&e, &n);
		expect_status(ids[prim], PROTO_OP_OSD_CHUNK_WRITE, body, (uint32_t)n, data, 4096,
			      -EINVAL, "CHUNK_WRITE past the chunk size");
		cw.offset = 0;
		cw.base_version = 3; /* the chunk does not exist: the base cannot hold */
		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_write_req_encode(&cw, &e);
		wire_enc_finish(&e, &n);
		expect_status(ids[prim], PROTO_OP_OSD_CHUNK_WRITE, body, (uint32_t)n, data, 4096,
			      -ESTALE, "CHUNK_WRITE on a missing base version");
	}
	TC_CHECK(tc_chunk_read(&cl, ids[prim], &p, 0x50005, 1, (unsigned)prim, 0, 10, 0, data,
			       NULL, NULL) == -ENOENT,
		 "a chunk never written is ENOENT");
}

static void test_list_delete(void)
{
	struct proto_map_pool p = tc_pool(&cl, "ec");
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	struct proto_osd_chunk_info ents[PROTO_OSD_LIST_MAX];
	struct proto_osd_chunk_list_rep rep = {.cap = PROTO_OSD_LIST_MAX, .entries = ents};
	uint32_t pg = placement_pg(0x10001, 0, p.pg_count);
	struct proto_osd_chunk_list_req lq = {.map_epoch = cl.map.epoch, .pool_id = p.id,
					      .pg = pg, .max = PROTO_OSD_LIST_MAX};
	struct proto_osd_chunk_delete_req dq = {.map_epoch = cl.map.epoch, .pool_id = p.id,
						.id = {0x10001, 0, 0}};
	struct rpc_msg *resp = NULL;
	uint8_t body[128], b;
	struct wire_enc e;
	struct wire_dec d;
	size_t n = 0;
	bool found = false;
	int ret;

	printf("listing and deleting\n");
	tc_acting(&cl, &p, 0x10001, 0, ids, up);
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_list_req_encode(&lq, &e);
	wire_enc_finish(&e, &n);
	ret = raw_call(ids[0], PROTO_OP_OSD_CHUNK_LIST, body, (uint32_t)n, NULL, 0, &resp);
	TC_CHECK(ret == 0, "CHUNK_LIST: %s", error_str(ret));
	wire_dec_init(&d, resp->body, resp->body_len);
	TC_CHECK(proto_osd_chunk_list_rep_decode(&d, &rep) == 0, "CHUNK_LIST reply undecodable");
	TC_CHECK(rep.flags & PROTO_OSD_LIST_END, "one page lists the whole PG");
	for (uint32_t i = 0; i < rep.count; i++) {
		TC_CHECK(placement_pg(ents[i].id.ino, ents[i].id.stripe, p.pg_count) == pg,
			 "a chunk of another PG was listed");
		if (ents[i].id.ino == 0x10001 && ents[i].id.stripe == 0 && ents[i].id.index == 0)
			found = ents[i].size == CS;
	}
	TC_CHECK(found, "chunk 0 of stripe 0 not listed on its OSD");
	rpc_msg_free(resp);
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_delete_req_encode(&dq, &e);
	wire_enc_finish(&e, &n);
	expect_status(ids[0], PROTO_OP_OSD_CHUNK_DELETE, body, (uint32_t)n, NULL, 0, 0,
		      "CHUNK_DELETE");
	TC_CHECK(tc_chunk_read(&cl, ids[0], &p, 0x10001, 0, 0, 0, 1, 0, &b, NULL, NULL) == -ENOENT,
		 "a deleted chunk is gone");
	expect_status(ids[0], PROTO_OP_OSD_CHUNK_DELETE, body, (uint32_t)n, NULL, 0, -ENOENT,
		      "CHUNK_DELETE again");
	/* An older map's "nothing here" is not a deletion: the sender may ask the wrong OSD. */
	TC_CHECK(cl.map.epoch > 1, "map epoch %llu", (unsigned long long)cl.map.epoch);
	dq.map_epoch = cl.map.epoch - 1;
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_delete_req_encode(&dq, &e);
	wire_enc_finish(&e, &n);
	expect_status(ids[0], PROTO_OP_OSD_CHUNK_DELETE, body, (uint32_t)n, NULL, 0,
		      -CAIRN_ESTALEMAP, "CHUNK_DELETE of a missing chunk with an older map");
}

int main(int argc, char **argv)
{
	struct tc_opts o = {
		.osds = 6,
		.hosts = 3,
		.tmpfs_osd = -1,
		.osd_cfg = "scrub_rate = \"0\"; workers = 2;",
		.pools = "{ name = \"ec\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
			 "  pg_count = 16; compression = \"none\"; },"
			 "{ name = \"rep\"; scheme = \"rep:3\"; chunk_size = \"16K\"; media = \"nvme\";"
			 "  pg_count = 8; compression = \"none\"; },"
			 "{ name = \"ecz\"; scheme = \"ec:4+2\"; chunk_size = \"16K\"; media = \"nvme\";"
			 "  pg_count = 8; compression = \"zstd\"; }",
	};

	seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	test_full_and_partial();
	test_other_pools();
	test_concurrent_writers();
	test_errors();
	test_list_delete();
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
