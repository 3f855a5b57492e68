/*
 * test_fsck.c - consistency check message codecs (proto/fsck.h): a round
 * trip of every message, every truncation and a trailing byte rejected (via
 * check_codec), each out-of-range value rejected, and the page limits of
 * the scan replies.
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
#include "proto/fsck.h"
#include "codec_check.h"

CODEC(proto_fsck_, scan_req);
CODEC(proto_fsck_, scan_inodes_rep);
CODEC(proto_fsck_, scan_dentries_req);
CODEC(proto_fsck_, scan_dentries_rep);
CODEC(proto_fsck_, scan_intents_rep);
CODEC(proto_fsck_, dentry_req);
CODEC(proto_fsck_, nlink_req);
CODEC(proto_fsck_, parent_req);
CODEC(proto_fsck_, op_req);

static struct proto_fsck_inode inodes[PROTO_FSCK_SCAN_MAX + 1], inodes_out[PROTO_FSCK_SCAN_MAX + 1];
static struct proto_fsck_dentry dentries[PROTO_FSCK_SCAN_MAX + 1],
    dentries_out[PROTO_FSCK_SCAN_MAX + 1];
static struct proto_fsck_intent intents[PROTO_FSCK_SCAN_MAX + 1],
    intents_out[PROTO_FSCK_SCAN_MAX + 1];
static char names[PROTO_FSCK_SCAN_MAX + 1][16];

static void fill_inodes(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		bool dir = i % 3 == 0;

		inodes[i] = (struct proto_fsck_inode){
		    .ino = 0x0001000000000010ull + 2 * i,
		    .mode = (dir ? PROTO_S_IFDIR : PROTO_S_IFREG) | 0644,
		    .nlink = dir ? 2 + i : 1,
		    .parent = dir ? 1 : 0,
		    .size = i * 4096ull,
		    .state = i % 5 == 1 ? PROTO_FSCK_OPEN | PROTO_FSCK_ORPHAN : 0,
		    .rm_op = dir && i % 7 == 0 ? 0x0001000000000100ull + i : 0,
		};
	}
}

static void test_scan_req(void **state)
{
	struct proto_fsck_scan_req m = {.after = 0x0002000000000033ull, .max = 100}, out, bad;

	(void)state;
	check_codec(&codec_scan_req, &m, NULL, &out);
	assert_true(out.after == m.after && out.max == 100);
	bad = m;
	bad.max = 0;
	expect_reject(&codec_scan_req, &bad, NULL);
	bad.max = PROTO_FSCK_SCAN_MAX + 1;
	expect_reject(&codec_scan_req, &bad, NULL);
	bad.max = PROTO_FSCK_SCAN_MAX;
	bad.after = 0;
	expect_accept(&codec_scan_req, &bad, NULL);
}

static void test_scan_inodes_rep(void **state)
{
	struct proto_fsck_scan_inodes_rep m = {.count = 40, .items = inodes}, out,
					  tmpl = {.cap = PROTO_FSCK_SCAN_MAX + 1,
						  .items = inodes_out};

	(void)state;
	fill_inodes(PROTO_FSCK_SCAN_MAX + 1);
	check_codec(&codec_scan_inodes_rep, &m, &tmpl, &out);
	assert_int_equal(out.count, 40);
	for (uint32_t i = 0; i < 40; i++) {
		assert_true(out.items[i].ino == inodes[i].ino && out.items[i].mode == inodes[i].mode);
		assert_true(out.items[i].nlink == inodes[i].nlink &&
			    out.items[i].parent == inodes[i].parent);
		assert_true(out.items[i].size == inodes[i].size &&
			    out.items[i].state == inodes[i].state &&
			    out.items[i].rm_op == inodes[i].rm_op);
	}
	/* The page limit and the caller's cap. */
	m.count = PROTO_FSCK_SCAN_MAX;
	m.flags = PROTO_FSCK_EOF;
	expect_accept(&codec_scan_inodes_rep, &m, &tmpl);
	m.count = PROTO_FSCK_SCAN_MAX + 1;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	m.count = 10;
	tmpl.cap = 9;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	tmpl.cap = PROTO_FSCK_SCAN_MAX + 1;
	/* Empty only at the end. */
	m.count = 0;
	m.flags = 0;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	m.flags = PROTO_FSCK_EOF;
	expect_accept(&codec_scan_inodes_rep, &m, &tmpl);
	m.flags = 2;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	/* Bad items: out of order, file with parent, dir without, rm_op on a
	 * file, unknown state or mode. */
	m = (struct proto_fsck_scan_inodes_rep){.count = 3, .items = inodes};
	inodes[2].ino = inodes[1].ino;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[1].parent = 5;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[0].parent = 0;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[1].rm_op = 9;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[2].state = 4;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[2].mode = 0644;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
	fill_inodes(3);
	inodes[2].ino = 0;
	expect_reject(&codec_scan_inodes_rep, &m, &tmpl);
}

static void test_scan_dentries(void **state)
{
	struct proto_fsck_scan_dentries_req q = {.after_parent = 7, .after_name = str_of("abc"),
						 .max = 5},
					    qo, qb;
	struct proto_fsck_scan_dentries_rep m = {.flags = PROTO_FSCK_EOF, .count = 50,
						 .items = dentries},
					    out, tmpl = {.cap = 64, .items = dentries_out};

	(void)state;
	check_codec(&codec_scan_dentries_req, &q, NULL, &qo);
	assert_true(qo.after_parent == 7 && qo.max == 5);
	assert_str_eq(&qo.after_name, &q.after_name);
	qb = (struct proto_fsck_scan_dentries_req){.max = 1};
	check_codec(&codec_scan_dentries_req, &qb, NULL, &qo);
	assert_true(qo.after_parent == 0 && qo.after_name.len == 0);
	qb.after_name = str_of("x"); /* a name needs a parent */
	expect_reject(&codec_scan_dentries_req, &qb, NULL);
	qb = q;
	qb.after_name = str_of("a/b");
	expect_reject(&codec_scan_dentries_req, &qb, NULL);
	qb = q;
	qb.max = 0;
	expect_reject(&codec_scan_dentries_req, &qb, NULL);

	for (uint32_t i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "n%u", i);
		dentries[i] = (struct proto_fsck_dentry){.parent = 1 + i / 10,
							 .name = str_of(names[i]),
							 .ino = 100 + i,
							 .type = i % 2 ? PROTO_S_IFDIR : PROTO_S_IFLNK,
							 .pin = i % 9 == 0 ? 1000 + i : 0};
	}
	check_codec(&codec_scan_dentries_rep, &m, &tmpl, &out);
	assert_int_equal(out.count, 50);
	for (uint32_t i = 0; i < 50; i++) {
		assert_true(out.items[i].parent == dentries[i].parent &&
			    out.items[i].ino == dentries[i].ino);
		assert_true(out.items[i].type == dentries[i].type &&
			    out.items[i].pin == dentries[i].pin);
		assert_str_eq(&out.items[i].name, &dentries[i].name);
	}
	m.count = 2;
	dentries[1].type = PROTO_S_IFREG | 0600;
	expect_reject(&codec_scan_dentries_rep, &m, &tmpl);
	dentries[1].type = PROTO_S_IFREG;
	dentries[1].name = str_of("..");
	expect_reject(&codec_scan_dentries_rep, &m, &tmpl);
	dentries[1].name = str_of("ok");
	dentries[1].ino = 0;
	expect_reject(&codec_scan_dentries_rep, &m, &tmpl);
	dentries[1].ino = 1;
	expect_accept(&codec_scan_dentries_rep, &m, &tmpl);
	m.count = 65;
	expect_reject(&codec_scan_dentries_rep, &m, &tmpl);
}

static void test_scan_intents_rep(void **state)
{
	struct proto_fsck_scan_intents_rep m = {.count = 3, .items = intents}, out,
					   tmpl = {.cap = 8, .items = intents_out};

	(void)state;
	for (uint32_t i = 0; i < 3; i++)
		intents[i] = (struct proto_fsck_intent){
		    .op_id = 0x0002000000000001ull + i, .kind = (uint8_t)(i + 1), .phase = 2,
		    .age_sec = 61 * i};
	check_codec(&codec_scan_intents_rep, &m, &tmpl, &out);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(out.items[i].op_id == intents[i].op_id &&
			    out.items[i].kind == intents[i].kind && out.items[i].phase == 2 &&
			    out.items[i].age_sec == intents[i].age_sec);
	intents[1].op_id = intents[0].op_id;
	expect_reject(&codec_scan_intents_rep, &m, &tmpl);
	intents[0].op_id = 0;
	expect_reject(&codec_scan_intents_rep, &m, &tmpl);
}

static void test_repairs(void **state)
{
	struct proto_fsck_dentry_req d = {.parent = 3, .name = str_of("gone"), .ino = 9}, dout, dbad;
	struct proto_fsck_nlink_req n = {.ino = 5, .expected = 3, .nlink = 1}, nout, nbad;
	struct proto_fsck_parent_req p = {.ino = 6, .expected = 7, .parent = 8}, pout, pbad;
	struct proto_fsck_op_req o = {.op_id = 77}, oout;

	(void)state;
	check_codec(&codec_dentry_req, &d, NULL, &dout);
	assert_true(dout.parent == 3 && dout.ino == 9);
	assert_str_eq(&dout.name, &d.name);
	dbad = d;
	dbad.ino = 0;
	expect_reject(&codec_dentry_req, &dbad, NULL);
	dbad = d;
	dbad.name = str_of(".");
	expect_reject(&codec_dentry_req, &dbad, NULL);

	check_codec(&codec_nlink_req, &n, NULL, &nout);
	assert_true(nout.ino == 5 && nout.expected == 3 && nout.nlink == 1);
	nbad = n;
	nbad.ino = 0;
	expect_reject(&codec_nlink_req, &nbad, NULL);

	check_codec(&codec_parent_req, &p, NULL, &pout);
	assert_true(pout.ino == 6 && pout.expected == 7 && pout.parent == 8);
	pbad = p;
	pbad.ino = 0;
	expect_reject(&codec_parent_req, &pbad, NULL);

	check_codec(&codec_op_req, &o, NULL, &oout);
	assert_int_equal(oout.op_id, 77);
	o.op_id = 0;
	expect_reject(&codec_op_req, &o, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_req),	     cmocka_unit_test(test_scan_inodes_rep),
	    cmocka_unit_test(test_scan_dentries),    cmocka_unit_test(test_scan_intents_rep),
	    cmocka_unit_test(test_repairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
