/*
 * test_peer.c - shard-to-shard step message codecs (proto/peer.h): a round
 * trip of every message with non-trivial values, every truncation and a
 * trailing byte rejected (via check_codec), and each out-of-range value
 * rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/peer.h"
#include "codec_check.h"

CODEC(proto_peer_, create_req);
CODEC(proto_peer_, ino_req);
CODEC(proto_peer_, nlink_req);
CODEC(proto_peer_, link_req);
CODEC(proto_peer_, unlink_req);
CODEC(proto_peer_, pin_req);
CODEC(proto_peer_, unpin_req);
CODEC(proto_peer_, set_parent_req);
CODEC(proto_peer_, walk_req);
CODEC(proto_peer_, walk_rep);
CODEC(proto_peer_, op_req);
CODEC(proto_peer_, lock_req);
CODEC(proto_peer_, lookup_req);
CODEC(proto_peer_, lookup_rep);
CODEC(proto_peer_, attr_rep);
CODEC(proto_peer_, drop_rep);

#define OP 0x0003000000000102ull

static struct proto_cred cred(void)
{
	struct proto_cred c = {.uid = 1000, .gid = 1001, .ngroups = 2};

	c.groups[0] = 27;
	c.groups[1] = 0xfffffffe;
	return c;
}

static struct proto_peer_layout layout(void)
{
	return (struct proto_peer_layout){.pool_id = 7, .chunk_size = 1u << 20, .k = 4, .m = 2};
}

static struct proto_peer_attr attr(uint32_t mode)
{
	return (struct proto_peer_attr){
	    .ino = 0x0002000000000abcull,
	    .gen = 0x1122334455667788ull,
	    .mode = mode,
	    .uid = 1000,
	    .gid = 100,
	    .nlink = 3,
	    .size = 0x123456789ull,
	    .atime = {.sec = 1700000000, .nsec = 999999999},
	    .mtime = {.sec = -86400, .nsec = 1},
	    .ctime = {.sec = INT64_MAX, .nsec = 500},
	    .flags = 0,
	    .layout = layout(),
	    .parent = (mode & PROTO_S_IFMT) == PROTO_S_IFDIR ? 0x1234 : 0,
	};
}

static void assert_layout_same(const struct proto_peer_layout *a, const struct proto_peer_layout *b)
{
	assert_int_equal(a->pool_id, b->pool_id);
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_int_equal(a->k, b->k);
	assert_int_equal(a->m, b->m);
}

static void assert_peer_attr_eq(const struct proto_peer_attr *a, const struct proto_peer_attr *b)
{
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->nlink, b->nlink);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->rdev, b->rdev);
	assert_time_eq(&a->atime, &b->atime);
	assert_time_eq(&a->mtime, &b->mtime);
	assert_time_eq(&a->ctime, &b->ctime);
	assert_int_equal(a->flags, b->flags);
	assert_layout_same(&a->layout, &b->layout);
	assert_int_equal(a->parent, b->parent);
}

/* ---- requests ---- */

static void test_create_req(void **state)
{
	struct proto_peer_create_req m = {.op_id = OP,
					  .flags = PROTO_PEER_F_SYNC,
					  .mode = PROTO_S_IFDIR | 02750,
					  .uid = 5,
					  .gid = 6,
					  .parent = 1,
					  .layout = layout()},
				     out, bad;

	(void)state;
	check_codec(&codec_create_req, &m, NULL, &out);
	assert_int_equal(out.op_id, OP);
	assert_int_equal(out.flags, PROTO_PEER_F_SYNC);
	assert_int_equal(out.mode, PROTO_S_IFDIR | 02750);
	assert_int_equal(out.uid, 5);
	assert_int_equal(out.gid, 6);
	assert_int_equal(out.parent, 1);
	assert_layout_same(&out.layout, &m.layout);
	/* A device carries rdev. */
	bad = m;
	bad.mode = PROTO_S_IFCHR | 0600;
	bad.rdev = 0x0801;
	expect_accept(&codec_create_req, &bad, NULL);
	/* Out of range: rdev on a non-device, symlinks, unknown type or mode
	 * bits, the CRED flag, unknown flags, parent 0. */
	bad = m;
	bad.rdev = 1;
	expect_reject(&codec_create_req, &bad, NULL);
	bad = m;
	bad.mode = PROTO_S_IFLNK | 0777;
	expect_reject(&codec_create_req, &bad, NULL);
	bad.mode = 0170000 | 0755;
	expect_reject(&codec_create_req, &bad, NULL);
	bad.mode = PROTO_S_IFREG | 0644 | (1u << 16);
	expect_reject(&codec_create_req, &bad, NULL);
	bad = m;
	bad.flags = PROTO_PEER_F_CRED;
	expect_reject(&codec_create_req, &bad, NULL);
	bad.flags = 1u << 5;
	expect_reject(&codec_create_req, &bad, NULL);
	bad = m;
	bad.parent = 0;
	expect_reject(&codec_create_req, &bad, NULL);
}

static void test_ino_req(void **state)
{
	struct proto_peer_ino_req m = {.op_id = OP, .flags = PROTO_PEER_F_SYNC, .ino = 99}, out,
				  bad;

	(void)state;
	check_codec(&codec_ino_req, &m, NULL, &out);
	assert_true(out.op_id == OP && out.flags == PROTO_PEER_F_SYNC && out.ino == 99);
	/* op 0 is how a GETATTR outside an operation is sent. */
	bad = m;
	bad.op_id = 0;
	expect_accept(&codec_ino_req, &bad, NULL);
	bad = m;
	bad.ino = 0;
	expect_reject(&codec_ino_req, &bad, NULL);
	bad = m;
	bad.flags = PROTO_PEER_F_CRED;
	expect_reject(&codec_ino_req, &bad, NULL);
}

static void test_nlink_req(void **state)
{
	struct proto_peer_nlink_req m = {.op_id = OP, .ino = 42, .delta = -1}, out, bad;

	(void)state;
	check_codec(&codec_nlink_req, &m, NULL, &out);
	assert_int_equal(out.delta, -1);
	assert_int_equal(out.ino, 42);
	m.delta = INT32_MAX;
	check_codec(&codec_nlink_req, &m, NULL, &out);
	assert_int_equal(out.delta, INT32_MAX);
	bad = m;
	bad.delta = 0;
	expect_reject(&codec_nlink_req, &bad, NULL);
	bad = m;
	bad.ino = 0;
	expect_reject(&codec_nlink_req, &bad, NULL);
}

static void test_link_req(void **state)
{
	struct proto_peer_link_req m = {.op_id = OP,
					.flags = PROTO_PEER_F_SYNC | PROTO_PEER_F_CRED,
					.cred = cred(),
					.parent = 7,
					.name = str_of("target"),
					.ino = 0x0001000000000010ull,
					.type = PROTO_S_IFDIR,
					.link_flags = PROTO_PEER_LINK_REPLACE | PROTO_PEER_LINK_NOREPLACE},
				    out, bad;
	size_t with, without;

	(void)state;
	with = check_codec(&codec_link_req, &m, NULL, &out);
	assert_cred_eq(&out.cred, &m.cred);
	assert_str_eq(&out.name, &m.name);
	assert_true(out.parent == 7 && out.ino == m.ino && out.type == PROTO_S_IFDIR);
	assert_int_equal(out.link_flags, m.link_flags);
	/* Without CRED no credentials travel. */
	m.flags = 0;
	without = check_codec(&codec_link_req, &m, NULL, &out);
	assert_int_equal(with - without, PROTO_CRED_SIZE(2));
	assert_int_equal(out.cred.uid, 0);
	m.link_flags = PROTO_PEER_LINK_EXCHANGE;
	expect_accept(&codec_link_req, &m, NULL);
	/* Bad: flag combinations, type with permission bits or unknown, dot
	 * names, zero inodes, unknown request flags. */
	bad = m;
	bad.link_flags = PROTO_PEER_LINK_NOREPLACE;
	expect_reject(&codec_link_req, &bad, NULL);
	bad.link_flags = PROTO_PEER_LINK_EXCHANGE | PROTO_PEER_LINK_REPLACE;
	expect_reject(&codec_link_req, &bad, NULL);
	bad.link_flags = 1u << 3;
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.type = PROTO_S_IFREG | 0644;
	expect_reject(&codec_link_req, &bad, NULL);
	bad.type = 0;
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.name = str_of("..");
	expect_reject(&codec_link_req, &bad, NULL);
	bad.name = str_of("a/b");
	expect_reject(&codec_link_req, &bad, NULL);
	bad.name = str_of("");
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.parent = 0;
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.ino = 0;
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.flags = 1u << 2;
	expect_reject(&codec_link_req, &bad, NULL);
	bad = m;
	bad.flags = PROTO_PEER_F_CRED;
	bad.cred.ngroups = PROTO_CRED_GROUPS_MAX + 1;
	expect_reject(&codec_link_req, &bad, NULL);
}

static void test_unlink_pin_unpin(void **state)
{
	struct proto_peer_unlink_req u = {.op_id = OP,
					  .flags = PROTO_PEER_F_CRED,
					  .cred = cred(),
					  .parent = 3,
					  .name = str_of("victim"),
					  .ino = 77,
					  .victim_uid = 1234,
					  .unlink_flags = PROTO_PEER_UNLINK_DIR | PROTO_PEER_UNLINK_PINNED},
				     uo, ub;
	struct proto_peer_pin_req p = {.op_id = OP,
				       .flags = PROTO_PEER_F_SYNC,
				       .parent = 3,
				       .name = str_of("victim"),
				       .ino = 77,
				       .victim_uid = 4321},
				  po, pb;
	struct proto_peer_unpin_req n = {.op_id = OP, .parent = 3, .name = str_of("victim")}, no, nb;

	(void)state;
	check_codec(&codec_unlink_req, &u, NULL, &uo);
	assert_true(uo.victim_uid == 1234 && uo.unlink_flags == u.unlink_flags && uo.ino == 77);
	assert_cred_eq(&uo.cred, &u.cred);
	ub = u;
	ub.unlink_flags = 1u << 2;
	expect_reject(&codec_unlink_req, &ub, NULL);
	ub = u;
	ub.name = str_of(".");
	expect_reject(&codec_unlink_req, &ub, NULL);

	check_codec(&codec_pin_req, &p, NULL, &po);
	assert_true(po.victim_uid == 4321 && po.flags == PROTO_PEER_F_SYNC && po.ino == 77);
	assert_str_eq(&po.name, &p.name);
	pb = p;
	pb.ino = 0;
	expect_reject(&codec_pin_req, &pb, NULL);

	check_codec(&codec_unpin_req, &n, NULL, &no);
	assert_true(no.parent == 3 && no.op_id == OP);
	assert_str_eq(&no.name, &n.name);
	nb = n;
	nb.flags = PROTO_PEER_F_CRED;
	expect_reject(&codec_unpin_req, &nb, NULL);
	nb = n;
	nb.parent = 0;
	expect_reject(&codec_unpin_req, &nb, NULL);
}

static void test_set_parent_walk(void **state)
{
	struct proto_peer_set_parent_req s = {.op_id = OP, .ino = 10, .parent = 11}, so, sb;
	struct proto_peer_walk_req w = {.op_id = OP, .ino = 20, .target = 21}, wo, wb;
	struct proto_peer_walk_rep r = {.result = PROTO_PEER_WALK_REMOTE, .stop = 22}, ro, rb;

	(void)state;
	check_codec(&codec_set_parent_req, &s, NULL, &so);
	assert_true(so.ino == 10 && so.parent == 11);
	sb = s;
	sb.parent = 0;
	expect_reject(&codec_set_parent_req, &sb, NULL);

	check_codec(&codec_walk_req, &w, NULL, &wo);
	assert_true(wo.ino == 20 && wo.target == 21 && wo.op_id == OP);
	wb = w;
	wb.target = 0;
	expect_reject(&codec_walk_req, &wb, NULL);

	check_codec(&codec_walk_rep, &r, NULL, &ro);
	assert_true(ro.result == PROTO_PEER_WALK_REMOTE && ro.stop == 22);
	rb = (struct proto_peer_walk_rep){.result = PROTO_PEER_WALK_FOUND};
	expect_accept(&codec_walk_rep, &rb, NULL);
	rb.stop = 5; /* a stop only with REMOTE */
	expect_reject(&codec_walk_rep, &rb, NULL);
	rb = (struct proto_peer_walk_rep){.result = PROTO_PEER_WALK_REMOTE};
	expect_reject(&codec_walk_rep, &rb, NULL);
	rb.result = 3;
	rb.stop = 0;
	expect_reject(&codec_walk_rep, &rb, NULL);
}

static void test_op_and_lock(void **state)
{
	struct proto_peer_op_req o = {.op_id = OP}, oo;
	struct proto_peer_lock_req l = {.op_id = OP, .lease_ms = 30000}, lo, lb;

	(void)state;
	check_codec(&codec_op_req, &o, NULL, &oo);
	assert_int_equal(oo.op_id, OP);
	o.op_id = 0;
	expect_reject(&codec_op_req, &o, NULL);

	check_codec(&codec_lock_req, &l, NULL, &lo);
	assert_int_equal(lo.lease_ms, 30000);
	lb = l;
	lb.lease_ms = PROTO_PEER_LEASE_MAX_MS;
	expect_accept(&codec_lock_req, &lb, NULL);
	lb.lease_ms = PROTO_PEER_LEASE_MAX_MS + 1;
	expect_reject(&codec_lock_req, &lb, NULL);
	lb.lease_ms = 0;
	expect_reject(&codec_lock_req, &lb, NULL);
	lb = l;
	lb.op_id = 0;
	expect_reject(&codec_lock_req, &lb, NULL);
}

static void test_lookup(void **state)
{
	struct proto_peer_lookup_req q = {.op_id = OP, .cred = cred(), .parent = 1, .name = str_of("x")},
				     qo, qb;
	struct proto_peer_lookup_rep local = {.attr = attr(PROTO_S_IFREG | 0644)}, lo;
	struct proto_peer_lookup_rep remote = {.flags = PROTO_PEER_LOOKUP_REMOTE,
					       .ino = 0x0003000000000001ull,
					       .mode = PROTO_S_IFDIR},
				     ro, bad;

	(void)state;
	check_codec(&codec_lookup_req, &q, NULL, &qo);
	assert_cred_eq(&qo.cred, &q.cred);
	assert_str_eq(&qo.name, &q.name);
	qb = q;
	qb.name = str_of("..");
	expect_reject(&codec_lookup_req, &qb, NULL);

	check_codec(&codec_lookup_rep, &local, NULL, &lo);
	assert_int_equal(lo.flags, 0);
	assert_peer_attr_eq(&lo.attr, &local.attr);
	check_codec(&codec_lookup_rep, &remote, NULL, &ro);
	assert_true(ro.ino == remote.ino && ro.mode == PROTO_S_IFDIR && ro.attr.ino == 0);
	bad = remote;
	bad.mode = PROTO_S_IFDIR | 0755;
	expect_reject(&codec_lookup_rep, &bad, NULL);
	bad = remote;
	bad.ino = 0;
	expect_reject(&codec_lookup_rep, &bad, NULL);
	bad = remote;
	bad.flags = 2;
	expect_reject(&codec_lookup_rep, &bad, NULL);
	bad = local;
	bad.attr.ino = 0;
	expect_reject(&codec_lookup_rep, &bad, NULL);
}

/* ---- replies ---- */

static void test_attr_rep(void **state)
{
	struct proto_peer_attr_rep m = {.attr = attr(PROTO_S_IFDIR | 01777)}, out, bad;

	(void)state;
	check_codec(&codec_attr_rep, &m, NULL, &out);
	assert_peer_attr_eq(&out.attr, &m.attr);
	m.attr = attr(PROTO_S_IFBLK | 0600);
	m.attr.rdev = 0x0803;
	check_codec(&codec_attr_rep, &m, NULL, &out);
	assert_peer_attr_eq(&out.attr, &m.attr);
	/* A directory without a parent, a file with one, rdev on a file, a bad
	 * time, an unknown type. */
	bad.attr = attr(PROTO_S_IFDIR | 0755);
	bad.attr.parent = 0;
	expect_reject(&codec_attr_rep, &bad, NULL);
	bad.attr = attr(PROTO_S_IFREG | 0644);
	bad.attr.parent = 1;
	expect_reject(&codec_attr_rep, &bad, NULL);
	bad.attr = attr(PROTO_S_IFREG | 0644);
	bad.attr.rdev = 1;
	expect_reject(&codec_attr_rep, &bad, NULL);
	bad.attr = attr(PROTO_S_IFREG | 0644);
	bad.attr.mtime.nsec = PROTO_NSEC_PER_SEC;
	expect_reject(&codec_attr_rep, &bad, NULL);
	bad.attr = attr(0644);
	expect_reject(&codec_attr_rep, &bad, NULL);
	bad.attr = attr(PROTO_S_IFREG | 0644);
	bad.attr.ino = 0;
	expect_reject(&codec_attr_rep, &bad, NULL);
}

static void test_drop_rep(void **state)
{
	struct proto_peer_drop_rep m = {.drop = {.ino = 55,
						 .mode = PROTO_S_IFREG | 0600,
						 .nlink = 0,
						 .flags = PROTO_PEER_DROP_FREED | PROTO_PEER_DROP_REMOTE,
						 .size = 1u << 30,
						 .layout = layout()}},
				   out, bad;

	(void)state;
	check_codec(&codec_drop_rep, &m, NULL, &out);
	assert_true(out.drop.ino == 55 && out.drop.flags == m.drop.flags &&
		    out.drop.size == m.drop.size && out.drop.mode == m.drop.mode);
	assert_layout_same(&out.drop.layout, &m.drop.layout);
	/* Nothing dropped: all zero. */
	memset(&bad, 0, sizeof(bad));
	check_codec(&codec_drop_rep, &bad, NULL, &out);
	assert_int_equal(out.drop.ino, 0);
	bad.drop.size = 1;
	expect_reject(&codec_drop_rep, &bad, NULL);
	bad = m;
	bad.drop.flags = PROTO_PEER_DROP_FREED | PROTO_PEER_DROP_ORPHANED;
	expect_reject(&codec_drop_rep, &bad, NULL);
	bad = m;
	bad.drop.flags = 1u << 3;
	expect_reject(&codec_drop_rep, &bad, NULL);
	bad = m;
	bad.drop.mode = 0;
	expect_reject(&codec_drop_rep, &bad, NULL);
}

/* Garbage of every length never decodes into a message that misbehaves. */
static void test_garbage(void **state)
{
	static const struct codec *all[] = {
	    &codec_create_req, &codec_ino_req,	 &codec_nlink_req,	&codec_link_req,
	    &codec_unlink_req, &codec_pin_req,	 &codec_unpin_req,	&codec_set_parent_req,
	    &codec_walk_req,   &codec_walk_rep,	 &codec_op_req,		&codec_lock_req,
	    &codec_lookup_req, &codec_lookup_rep, &codec_attr_rep,	&codec_drop_rep,
	};
	uint8_t buf[512], out[1024];
	uint32_t seed = 20240611;

	(void)state;
	print_message("seed %u\n", seed);
	for (unsigned round = 0; round < 2000; round++) {
		size_t len = round % sizeof(buf);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		for (size_t c = 0; c < sizeof(all) / sizeof(all[0]); c++) {
			_Alignas(max_align_t) uint8_t m[1024];
			struct wire_dec d;
			struct wire_enc e;
			size_t n;

			memset(m, 0, sizeof(m));
			wire_dec_init(&d, buf, len);
			if (all[c]->dec(&d, m) != 0)
				continue;
			/* Whatever decodes re-encodes to the same bytes. */
			wire_enc_init(&e, out, sizeof(out));
			assert_int_equal(all[c]->enc(m, &e), 0);
			assert_int_equal(wire_enc_finish(&e, &n), 0);
			assert_int_equal(n, len);
			assert_memory_equal(out, buf, len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_req),	     cmocka_unit_test(test_ino_req),
	    cmocka_unit_test(test_nlink_req),	     cmocka_unit_test(test_link_req),
	    cmocka_unit_test(test_unlink_pin_unpin), cmocka_unit_test(test_set_parent_walk),
	    cmocka_unit_test(test_op_and_lock),	     cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_attr_rep),	     cmocka_unit_test(test_drop_rep),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
