/*
 * test_mds.c - metadata message codecs (proto/mds.h, file locks included)
 * and the shared sub-structures (proto/types.h): a round trip of every
 * message with non-trivial values, every truncation and a trailing byte
 * rejected (via check_codec), and each out-of-range value rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "proto/mds.h"
#include "codec_check.h"

CODEC(proto_mds_, entry);
CODEC(proto_mds_, attr_rep);
CODEC(proto_mds_, open_rep);
CODEC(proto_mds_, lookup_req);
CODEC(proto_mds_, getattr_req);
CODEC(proto_mds_, setattr_req);
CODEC(proto_mds_, create_req);
CODEC(proto_mds_, mknod_req);
CODEC(proto_mds_, mkdir_req);
CODEC(proto_mds_, unlink_req);
CODEC(proto_mds_, rename_req);
CODEC(proto_mds_, link_req);
CODEC(proto_mds_, symlink_req);
CODEC(proto_mds_, ino_req);
CODEC(proto_mds_, readlink_rep);
CODEC(proto_mds_, readdir_req);
CODEC(proto_mds_, readdir_rep);
CODEC(proto_mds_, statfs_rep);
CODEC(proto_mds_, getxattr_req);
CODEC(proto_mds_, getxattr_rep);
CODEC(proto_mds_, setxattr_req);
CODEC(proto_mds_, listxattr_req);
CODEC(proto_mds_, listxattr_rep);
CODEC(proto_mds_, removexattr_req);
CODEC(proto_mds_, open_req);
CODEC(proto_mds_, publish_req);
CODEC(proto_mds_, lock_req);
CODEC(proto_mds_, lock_rep);
CODEC(proto_mds_, flock_req);
CODEC(proto_mds_, lock_cancel_req);
CODEC(proto_mds_, lock_release_req);
CODEC(proto_mds_, lock_session_req);
CODEC(proto_mds_, lock_session_rep);

/* ---- fixtures ---- */

static struct proto_cred cred(void)
{
	struct proto_cred c = {.uid = 1000, .gid = 1001, .ngroups = 3};

	c.groups[0] = 4;
	c.groups[1] = 27;
	c.groups[2] = 0xfffffffe;
	return c;
}

static struct proto_attr attr(uint32_t mode)
{
	return (struct proto_attr){
	    .ino = 0x0001000000000abcull,
	    .gen = 0x1122334455667788ull,
	    .mode = mode,
	    .nlink = 2,
	    .uid = 1000,
	    .gid = 100,
	    .rdev = 0,
	    .size = 0x123456789ull,
	    .blocks = 0x91a2b3ull,
	    .atime = {.sec = 1700000000, .nsec = 999999999},
	    .mtime = {.sec = -86400, .nsec = 1}, /* before 1970 */
	    .ctime = {.sec = INT64_MAX, .nsec = 500},
	    .flags = PROTO_ATTR_APPEND,
	};
}

static struct proto_layout layout(void)
{
	return (struct proto_layout){
	    .pool_id = 7, .scheme = PROTO_SCHEME_EC, .k = 4, .m = 2, .chunk_size = 1u << 20};
}

static struct proto_mds_entry file_entry(void)
{
	return (struct proto_mds_entry){
	    .attr = attr(PROTO_S_IFREG | 0644),
	    .entry_valid_ms = 1500,
	    .attr_valid_ms = 700,
	    .flags = PROTO_MDS_ENTRY_LAYOUT,
	    .layout = layout(),
	};
}

static char long_text[PROTO_SYMLINK_MAX + 2];
static uint8_t big_value[PROTO_XATTR_VALUE_MAX + 1];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(long_text); i++)
		long_text[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(big_value); i++)
		big_value[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

/* ---- generic out-of-range checks on a field of msg (restored after) ---- */

static void check_name_field(const struct codec *c, void *msg, struct proto_str *f,
			     enum proto_name_rule rule)
{
	const struct proto_str saved = *f;

	*f = (struct proto_str){long_text, PROTO_NAME_MAX + 1};
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){long_text, PROTO_NAME_MAX};
	expect_accept(c, msg, NULL);
	*f = (struct proto_str){"", 0};
	expect_reject(c, msg, NULL);
	*f = str_of("a/b");
	expect_reject(c, msg, NULL);
	*f = str_of("/");
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){"a\0b", 3};
	expect_reject(c, msg, NULL);
	*f = str_of("...");
	expect_accept(c, msg, NULL);
	*f = str_of(".hidden");
	expect_accept(c, msg, NULL);
	*f = str_of(".");
	assert_int_equal(codec_decode_of(c, msg, NULL),
			 rule == PROTO_NAME_NEW ? -CAIRN_EBADFRAME : 0);
	*f = str_of("..");
	assert_int_equal(codec_decode_of(c, msg, NULL),
			 rule == PROTO_NAME_NEW ? -CAIRN_EBADFRAME : 0);
	*f = saved;
	expect_accept(c, msg, NULL);
}

static void check_xattr_name_field(const struct codec *c, void *msg, struct proto_str *f)
{
	const struct proto_str saved = *f;

	*f = (struct proto_str){long_text, PROTO_XATTR_NAME_MAX + 1};
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){long_text, PROTO_XATTR_NAME_MAX};
	expect_accept(c, msg, NULL);
	*f = (struct proto_str){"", 0};
	expect_reject(c, msg, NULL);
	*f = (struct proto_str){"user.a\0b", 8};
	expect_reject(c, msg, NULL);
	*f = saved;
}

static void check_cred_field(const struct codec *c, void *msg, struct proto_cred *f)
{
	const struct proto_cred saved = *f;

	f->ngroups = PROTO_CRED_GROUPS_MAX;
	for (uint32_t i = 0; i < f->ngroups; i++)
		f->groups[i] = 5000 + i;
	expect_accept(c, msg, NULL);
	f->ngroups = PROTO_CRED_GROUPS_MAX + 1;
	expect_reject(c, msg, NULL);
	f->ngroups = UINT32_MAX;
	expect_reject(c, msg, NULL);
	f->ngroups = 0;
	expect_accept(c, msg, NULL);
	*f = saved;
}

static void check_ino_field(const struct codec *c, void *msg, uint64_t *f)
{
	const uint64_t saved = *f;

	*f = 0;
	expect_reject(c, msg, NULL);
	*f = UINT64_MAX;
	expect_accept(c, msg, NULL);
	*f = saved;
}

/* Each bit outside known, alone, is rejected. */
static void check_flag_bits(const struct codec *c, void *msg, const void *tmpl, uint32_t *f,
			    uint32_t known)
{
	const uint32_t saved = *f;

	for (int bit = 0; bit < 32; bit++) {
		if (known & (1u << bit))
			continue;
		*f = saved | (1u << bit);
		expect_reject(c, msg, tmpl);
	}
	*f = saved;
}

static void check_time_field(const struct codec *c, void *msg, struct proto_time *f)
{
	const struct proto_time saved = *f;

	f->nsec = PROTO_NSEC_PER_SEC;
	expect_reject(c, msg, NULL);
	f->nsec = UINT32_MAX;
	expect_reject(c, msg, NULL);
	*f = saved;
}

/* The attr checks through any message holding one (tmpl for arrays). */
static void check_attr_field(const struct codec *c, void *msg, const void *tmpl,
			     struct proto_attr *f)
{
	const struct proto_attr saved = *f;
	const uint32_t type = f->mode & PROTO_S_IFMT;

	f->ino = 0;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->mode = (f->mode & PROTO_S_PERM) | 0030000; /* no such type */
	expect_reject(c, msg, tmpl);
	f->mode = saved.mode & PROTO_S_PERM; /* no type at all */
	expect_reject(c, msg, tmpl);
	f->mode = saved.mode | 0200000; /* bit above S_IFMT */
	expect_reject(c, msg, tmpl);
	*f = saved;
	if (type != PROTO_S_IFCHR && type != PROTO_S_IFBLK) {
		f->rdev = 0x0801;
		expect_reject(c, msg, tmpl);
		*f = saved;
	}
	f->atime.nsec = PROTO_NSEC_PER_SEC;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->mtime.nsec = PROTO_NSEC_PER_SEC + 5;
	expect_reject(c, msg, tmpl);
	*f = saved;
	f->ctime.nsec = UINT32_MAX;
	expect_reject(c, msg, tmpl);
	*f = saved;
	check_flag_bits(c, msg, tmpl, &f->flags, PROTO_ATTR_KNOWN);
	expect_accept(c, msg, tmpl);
}

static void check_layout_field(const struct codec *c, void *msg, struct proto_layout *f)
{
	const struct proto_layout saved = *f;

	f->k = 0;
	expect_reject(c, msg, NULL);
	f->k = PROTO_LAYOUT_K_MAX + 1;
	expect_reject(c, msg, NULL);
	f->k = PROTO_LAYOUT_K_MAX;
	f->m = PROTO_LAYOUT_M_MAX;
	expect_accept(c, msg, NULL);
	f->m = PROTO_LAYOUT_M_MAX + 1;
	expect_reject(c, msg, NULL);
	*f = saved;
	f->scheme = 0;
	expect_reject(c, msg, NULL);
	f->scheme = 3;
	expect_reject(c, msg, NULL);
	f->scheme = PROTO_SCHEME_REP; /* replication has k == 1 */
	expect_reject(c, msg, NULL);
	f->k = 1;
	f->m = 2;
	expect_accept(c, msg, NULL);
	*f = saved;
	f->chunk_size = PROTO_CHUNK_SIZE_MIN / 2;
	expect_reject(c, msg, NULL);
	f->chunk_size = PROTO_CHUNK_SIZE_MAX * 2;
	expect_reject(c, msg, NULL);
	f->chunk_size = (1u << 20) + 4096; /* not a power of two */
	expect_reject(c, msg, NULL);
	f->chunk_size = PROTO_CHUNK_SIZE_MIN;
	expect_accept(c, msg, NULL);
	f->chunk_size = PROTO_CHUNK_SIZE_MAX;
	expect_accept(c, msg, NULL);
	*f = saved;
}

/* ---- shared sub-structures ---- */

static void test_types(void **state)
{
	struct proto_attr a = attr(PROTO_S_IFREG | 0644);
	struct proto_layout l = layout();
	struct proto_cred cr = cred();
	uint8_t buf[PROTO_ATTR_SIZE + PROTO_LAYOUT_SIZE + PROTO_CRED_SIZE(3)];
	struct wire_enc e;
	size_t len;

	(void)state;
	wire_enc_init(&e, buf, sizeof(buf));
	proto_attr_encode(&a, &e);
	assert_int_equal(e.len, PROTO_ATTR_SIZE);
	proto_layout_encode(&l, &e);
	assert_int_equal(e.len, PROTO_ATTR_SIZE + PROTO_LAYOUT_SIZE);
	proto_cred_encode(&cr, &e);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	assert_int_equal(len, sizeof(buf));

	assert_int_equal(proto_dtype_of_mode(PROTO_S_IFDIR | 0755), PROTO_DT_DIR);
	assert_int_equal(proto_dtype_of_mode(PROTO_S_IFLNK), PROTO_DT_LNK);
	assert_int_equal(proto_dtype_of_mode(PROTO_S_IFSOCK), PROTO_DT_SOCK);
	assert_int_equal(proto_dtype_of_mode(0030000), 0);
	assert_true(proto_dtype_valid(PROTO_DT_FIFO));
	assert_false(proto_dtype_valid(0));
	assert_false(proto_dtype_valid(3));
	assert_false(proto_dtype_valid(14));
}

/* A LOOKUP whose cred claims n groups and really carries n of them. */
static int lookup_with_groups(uint32_t n)
{
	static uint8_t buf[1024];
	struct proto_mds_lookup_req out;
	struct wire_enc e;
	struct wire_dec d;
	size_t len;

	wire_enc_init(&e, buf, sizeof(buf));
	wire_enc_u32(&e, 1);
	wire_enc_u32(&e, 2);
	wire_enc_u32(&e, n);
	for (uint32_t i = 0; i < n; i++)
		wire_enc_u32(&e, 100 + i);
	wire_enc_u64(&e, 1);
	wire_enc_str(&e, "x", 1);
	assert_int_equal(wire_enc_finish(&e, &len), 0);
	wire_dec_init(&d, buf, len);
	return proto_mds_lookup_req_decode(&d, &out);
}

static void test_cred_groups(void **state)
{
	(void)state;
	assert_int_equal(lookup_with_groups(0), 0);
	assert_int_equal(lookup_with_groups(PROTO_CRED_GROUPS_MAX), 0);
	assert_int_equal(lookup_with_groups(PROTO_CRED_GROUPS_MAX + 1), -CAIRN_EBADFRAME);
	assert_int_equal(lookup_with_groups(200), -CAIRN_EBADFRAME);
}

/* ---- shared replies ---- */

static void assert_entry_eq(const struct proto_mds_entry *a, const struct proto_mds_entry *b)
{
	assert_attr_eq(&a->attr, &b->attr);
	assert_int_equal(a->entry_valid_ms, b->entry_valid_ms);
	assert_int_equal(a->attr_valid_ms, b->attr_valid_ms);
	assert_int_equal(a->flags, b->flags);
	assert_layout_eq(&a->layout, &b->layout);
}

static void test_entry(void **state)
{
	struct proto_mds_entry m = file_entry(), out;

	(void)state;
	check_codec(&codec_entry, &m, NULL, &out);
	assert_entry_eq(&m, &out);
	check_attr_field(&codec_entry, &m, NULL, &m.attr);
	check_layout_field(&codec_entry, &m, &m.layout);
	check_flag_bits(&codec_entry, &m, NULL, &m.flags, PROTO_MDS_ENTRY_LAYOUT);

	/* A regular file needs its layout; nothing else has one. */
	m.flags = 0;
	m.layout = (struct proto_layout){0};
	expect_reject(&codec_entry, &m, NULL);
	m.attr.mode = PROTO_S_IFDIR | 0755;
	check_codec(&codec_entry, &m, NULL, &out);
	assert_entry_eq(&m, &out);
	m.flags = PROTO_MDS_ENTRY_LAYOUT;
	m.layout = layout();
	expect_reject(&codec_entry, &m, NULL);

	/* A device carries rdev. */
	m = file_entry();
	m.flags = 0;
	m.attr.mode = PROTO_S_IFCHR | 0600;
	m.attr.rdev = 0x0103;
	check_codec(&codec_entry, &m, NULL, &out);
	assert_int_equal(out.attr.rdev, 0x0103);
}

static void test_attr_rep(void **state)
{
	struct proto_mds_attr_rep m = {.attr = attr(PROTO_S_IFLNK | 0777), .attr_valid_ms = 42},
				  out;

	(void)state;
	assert_int_equal(check_codec(&codec_attr_rep, &m, NULL, &out), PROTO_ATTR_SIZE + 4);
	assert_attr_eq(&m.attr, &out.attr);
	assert_int_equal(out.attr_valid_ms, 42);
	check_attr_field(&codec_attr_rep, &m, NULL, &m.attr);
}

static void test_open_rep(void **state)
{
	struct proto_mds_open_rep m = {
	    .entry = file_entry(),
	    .fh = 0xfedcba9876543210ull,
	    .open_flags = PROTO_MDS_OPEN_KEEP_CACHE,
	};
	struct proto_mds_open_rep out;

	(void)state;
	check_codec(&codec_open_rep, &m, NULL, &out);
	assert_entry_eq(&m.entry, &out.entry);
	assert_int_equal(out.fh, m.fh);
	assert_int_equal(out.open_flags, m.open_flags);
	check_attr_field(&codec_open_rep, &m, NULL, &m.entry.attr);
	check_layout_field(&codec_open_rep, &m, &m.entry.layout);
	check_flag_bits(&codec_open_rep, &m, NULL, &m.open_flags, PROTO_MDS_OPEN_KNOWN);
	m.fh = 0;
	expect_reject(&codec_open_rep, &m, NULL);
	m.fh = 1;
	m.entry.flags = 0;
	expect_reject(&codec_open_rep, &m, NULL);
}

/* ---- name operations ---- */

static void test_lookup_req(void **state)
{
	struct proto_mds_lookup_req m = {.cred = cred(), .parent = 1, .name = str_of("model.pt")},
				    out;

	(void)state;
	check_codec(&codec_lookup_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 1);
	assert_str_eq(&m.name, &out.name);
	check_cred_field(&codec_lookup_req, &m, &m.cred);
	check_ino_field(&codec_lookup_req, &m, &m.parent);
	check_name_field(&codec_lookup_req, &m, &m.name, PROTO_NAME_EXISTING);
}

static void test_create_req(void **state)
{
	struct proto_mds_create_req m = {
	    .cred = cred(),
	    .parent = 0x0002000000000001ull,
	    .name = str_of("ckpt-0001.bin"),
	    .mode = 04751,
	    .umask = 022,
	    .flags = PROTO_MDS_O_RDWR | PROTO_MDS_O_EXCL | PROTO_MDS_O_TRUNC,
	};
	struct proto_mds_create_req out;

	(void)state;
	check_codec(&codec_create_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, m.parent);
	assert_str_eq(&m.name, &out.name);
	assert_int_equal(out.mode, 04751);
	assert_int_equal(out.umask, 022);
	assert_int_equal(out.flags, m.flags);
	check_cred_field(&codec_create_req, &m, &m.cred);
	check_ino_field(&codec_create_req, &m, &m.parent);
	check_name_field(&codec_create_req, &m, &m.name, PROTO_NAME_NEW);
	check_flag_bits(&codec_create_req, &m, NULL, &m.flags, PROTO_MDS_O_KNOWN);

	m.flags = PROTO_MDS_O_ACCMODE; /* access mode 3 */
	expect_reject(&codec_create_req, &m, NULL);
	m.flags = PROTO_MDS_O_WRONLY;
	m.mode = PROTO_S_IFREG | 0644; /* the type is implied */
	expect_reject(&codec_create_req, &m, NULL);
	m.mode = 0644;
	m.umask = 0100000;
	expect_reject(&codec_create_req, &m, NULL);
}

static void test_mknod_req(void **state)
{
	struct proto_mds_mknod_req m = {
	    .cred = cred(),
	    .parent = 99,
	    .name = str_of("null"),
	    .mode = PROTO_S_IFCHR | 0666,
	    .umask = 077,
	    .rdev = 0x0103,
	};
	struct proto_mds_mknod_req out;

	(void)state;
	check_codec(&codec_mknod_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 99);
	assert_str_eq(&m.name, &out.name);
	assert_int_equal(out.mode, m.mode);
	assert_int_equal(out.umask, 077);
	assert_int_equal(out.rdev, 0x0103);
	check_cred_field(&codec_mknod_req, &m, &m.cred);
	check_ino_field(&codec_mknod_req, &m, &m.parent);
	check_name_field(&codec_mknod_req, &m, &m.name, PROTO_NAME_NEW);

	m.mode = PROTO_S_IFBLK | 0600;
	expect_accept(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFIFO | 0600; /* rdev only on devices */
	expect_reject(&codec_mknod_req, &m, NULL);
	m.rdev = 0;
	expect_accept(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFSOCK | 0600;
	expect_accept(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFREG | 0600;
	expect_accept(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFDIR | 0700; /* MKDIR's job */
	expect_reject(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFLNK | 0777; /* SYMLINK's job */
	expect_reject(&codec_mknod_req, &m, NULL);
	m.mode = 0600; /* no type */
	expect_reject(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFIFO | 0200000 | 0600;
	expect_reject(&codec_mknod_req, &m, NULL);
	m.mode = PROTO_S_IFIFO | 0600;
	m.umask = PROTO_S_IFREG;
	expect_reject(&codec_mknod_req, &m, NULL);
}

static void test_mkdir_req(void **state)
{
	struct proto_mds_mkdir_req m = {
	    .cred = cred(), .parent = 5, .name = str_of("epoch-3"), .mode = 01777, .umask = 02};
	struct proto_mds_mkdir_req out;

	(void)state;
	check_codec(&codec_mkdir_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 5);
	assert_str_eq(&m.name, &out.name);
	assert_int_equal(out.mode, 01777);
	assert_int_equal(out.umask, 02);
	check_cred_field(&codec_mkdir_req, &m, &m.cred);
	check_ino_field(&codec_mkdir_req, &m, &m.parent);
	check_name_field(&codec_mkdir_req, &m, &m.name, PROTO_NAME_NEW);
	m.mode = PROTO_S_IFDIR | 0755;
	expect_reject(&codec_mkdir_req, &m, NULL);
	m.mode = 0755;
	m.umask = 010000;
	expect_reject(&codec_mkdir_req, &m, NULL);
}

static void test_unlink_req(void **state)
{
	struct proto_mds_unlink_req m = {.cred = cred(), .parent = 77, .name = str_of("old")}, out;

	(void)state;
	check_codec(&codec_unlink_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 77);
	assert_str_eq(&m.name, &out.name);
	check_cred_field(&codec_unlink_req, &m, &m.cred);
	check_ino_field(&codec_unlink_req, &m, &m.parent);
	check_name_field(&codec_unlink_req, &m, &m.name, PROTO_NAME_NEW);
}

static void test_rename_req(void **state)
{
	struct proto_mds_rename_req m = {
	    .cred = cred(),
	    .parent = 10,
	    .name = str_of("a.tmp"),
	    .new_parent = 0x0003000000000010ull,
	    .new_name = str_of("a"),
	    .flags = PROTO_MDS_RENAME_NOREPLACE,
	};
	struct proto_mds_rename_req out;

	(void)state;
	check_codec(&codec_rename_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 10);
	assert_str_eq(&m.name, &out.name);
	assert_int_equal(out.new_parent, m.new_parent);
	assert_str_eq(&m.new_name, &out.new_name);
	assert_int_equal(out.flags, PROTO_MDS_RENAME_NOREPLACE);
	check_cred_field(&codec_rename_req, &m, &m.cred);
	check_ino_field(&codec_rename_req, &m, &m.parent);
	check_ino_field(&codec_rename_req, &m, &m.new_parent);
	check_name_field(&codec_rename_req, &m, &m.name, PROTO_NAME_NEW);
	check_name_field(&codec_rename_req, &m, &m.new_name, PROTO_NAME_NEW);
	check_flag_bits(&codec_rename_req, &m, NULL, &m.flags,
			PROTO_MDS_RENAME_NOREPLACE | PROTO_MDS_RENAME_EXCHANGE);
	m.flags = PROTO_MDS_RENAME_EXCHANGE;
	expect_accept(&codec_rename_req, &m, NULL);
	m.flags = PROTO_MDS_RENAME_EXCHANGE | PROTO_MDS_RENAME_NOREPLACE;
	expect_reject(&codec_rename_req, &m, NULL);
}

static void test_link_req(void **state)
{
	struct proto_mds_link_req m = {
	    .cred = cred(), .ino = 1234, .new_parent = 1, .new_name = str_of("hard")};
	struct proto_mds_link_req out;

	(void)state;
	check_codec(&codec_link_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 1234);
	assert_int_equal(out.new_parent, 1);
	assert_str_eq(&m.new_name, &out.new_name);
	check_cred_field(&codec_link_req, &m, &m.cred);
	check_ino_field(&codec_link_req, &m, &m.ino);
	check_ino_field(&codec_link_req, &m, &m.new_parent);
	check_name_field(&codec_link_req, &m, &m.new_name, PROTO_NAME_NEW);
}

static void test_symlink_req(void **state)
{
	struct proto_mds_symlink_req m = {
	    .cred = cred(),
	    .parent = 3,
	    .name = str_of("latest"),
	    .target = {long_text, PROTO_SYMLINK_MAX},
	};
	struct proto_mds_symlink_req out;

	(void)state;
	check_codec(&codec_symlink_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.parent, 3);
	assert_str_eq(&m.name, &out.name);
	assert_str_eq(&m.target, &out.target);
	check_cred_field(&codec_symlink_req, &m, &m.cred);
	check_ino_field(&codec_symlink_req, &m, &m.parent);
	check_name_field(&codec_symlink_req, &m, &m.name, PROTO_NAME_NEW);

	m.target.len = PROTO_SYMLINK_MAX + 1;
	expect_reject(&codec_symlink_req, &m, NULL);
	m.target = (struct proto_str){"", 0};
	expect_reject(&codec_symlink_req, &m, NULL);
	m.target = (struct proto_str){"../x\0y", 6};
	expect_reject(&codec_symlink_req, &m, NULL);
	m.target = str_of("../../a/./b//c"); /* any path is a valid target */
	expect_accept(&codec_symlink_req, &m, NULL);
}

/* ---- inode operations ---- */

static void test_ino_req(void **state)
{
	struct proto_mds_ino_req m = {.cred = cred(), .ino = 0xabcdef}, out;

	(void)state;
	check_codec(&codec_ino_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 0xabcdef);
	check_cred_field(&codec_ino_req, &m, &m.cred);
	check_ino_field(&codec_ino_req, &m, &m.ino);
}

static void test_getattr_req(void **state)
{
	struct proto_mds_getattr_req m = {.cred = cred(), .ino = 17, .fh = 0x5555}, out;

	(void)state;
	check_codec(&codec_getattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 17);
	assert_int_equal(out.fh, 0x5555);
	check_cred_field(&codec_getattr_req, &m, &m.cred);
	check_ino_field(&codec_getattr_req, &m, &m.ino);
	m.fh = 0; /* no handle */
	expect_accept(&codec_getattr_req, &m, NULL);
}

static struct proto_mds_setattr_req full_setattr(void)
{
	return (struct proto_mds_setattr_req){
	    .cred = cred(),
	    .ino = 21,
	    .fh = 8,
	    .valid = PROTO_MDS_SET_MODE | PROTO_MDS_SET_UID | PROTO_MDS_SET_GID |
		     PROTO_MDS_SET_SIZE | PROTO_MDS_SET_ATIME | PROTO_MDS_SET_MTIME |
		     PROTO_MDS_SET_CTIME,
	    .mode = 02755,
	    .uid = 65534,
	    .gid = 65533,
	    .size = 1ull << 40,
	    .atime = {1, 2},
	    .mtime = {-3, 4},
	    .ctime = {5, 999999999},
	};
}

static void test_setattr_req(void **state)
{
	struct proto_mds_setattr_req m = full_setattr(), out;

	(void)state;
	check_codec(&codec_setattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 21);
	assert_int_equal(out.fh, 8);
	assert_int_equal(out.valid, m.valid);
	assert_int_equal(out.mode, 02755);
	assert_int_equal(out.uid, 65534);
	assert_int_equal(out.gid, 65533);
	assert_int_equal(out.size, 1ull << 40);
	assert_time_eq(&m.atime, &out.atime);
	assert_time_eq(&m.mtime, &out.mtime);
	assert_time_eq(&m.ctime, &out.ctime);
	check_cred_field(&codec_setattr_req, &m, &m.cred);
	check_ino_field(&codec_setattr_req, &m, &m.ino);
	check_flag_bits(&codec_setattr_req, &m, NULL, &m.valid, PROTO_MDS_SET_KNOWN);
	check_time_field(&codec_setattr_req, &m, &m.atime);
	check_time_field(&codec_setattr_req, &m, &m.mtime);
	check_time_field(&codec_setattr_req, &m, &m.ctime);

	m.mode = PROTO_S_IFREG | 0644; /* permission bits only */
	expect_reject(&codec_setattr_req, &m, NULL);

	/* A field given without its bit. */
	m = full_setattr();
	m.valid &= ~(uint32_t)PROTO_MDS_SET_UID;
	expect_reject(&codec_setattr_req, &m, NULL);
	m.uid = 0;
	expect_accept(&codec_setattr_req, &m, NULL);
	m.valid &= ~(uint32_t)PROTO_MDS_SET_SIZE;
	expect_reject(&codec_setattr_req, &m, NULL);
	m.valid &= ~(uint32_t)(PROTO_MDS_SET_CTIME);
	m.size = 0;
	expect_reject(&codec_setattr_req, &m, NULL);

	/* Nothing to set. */
	m = (struct proto_mds_setattr_req){.cred = cred(), .ino = 1};
	expect_reject(&codec_setattr_req, &m, NULL);

	/* "now": with its SET bit, and no time given. */
	m.valid = PROTO_MDS_SET_ATIME | PROTO_MDS_SET_ATIME_NOW | PROTO_MDS_SET_MTIME |
		  PROTO_MDS_SET_MTIME_NOW;
	check_codec(&codec_setattr_req, &m, NULL, &out);
	assert_int_equal(out.valid, m.valid);
	m.atime.sec = 7;
	expect_reject(&codec_setattr_req, &m, NULL);
	m.atime.sec = 0;
	m.mtime.nsec = 7;
	expect_reject(&codec_setattr_req, &m, NULL);
	m.mtime.nsec = 0;
	m.valid = PROTO_MDS_SET_ATIME_NOW;
	expect_reject(&codec_setattr_req, &m, NULL);
	m.valid = PROTO_MDS_SET_MTIME_NOW | PROTO_MDS_SET_ATIME;
	expect_reject(&codec_setattr_req, &m, NULL);
}

static void test_readlink_rep(void **state)
{
	struct proto_mds_readlink_rep m = {.target = str_of("/data/shard-00017.tar")}, out;

	(void)state;
	check_codec(&codec_readlink_rep, &m, NULL, &out);
	assert_str_eq(&m.target, &out.target);
	m.target = (struct proto_str){long_text, PROTO_SYMLINK_MAX + 1};
	expect_reject(&codec_readlink_rep, &m, NULL);
	m.target = (struct proto_str){"", 0};
	expect_reject(&codec_readlink_rep, &m, NULL);
	m.target = (struct proto_str){"a\0", 2};
	expect_reject(&codec_readlink_rep, &m, NULL);
}

static void test_statfs_rep(void **state)
{
	struct proto_mds_statfs_rep m = {
	    .blocks = 1ull << 40,
	    .bfree = 1ull << 39,
	    .bavail = (1ull << 39) - 5,
	    .files = 1ull << 33,
	    .ffree = 12345,
	    .bsize = 1u << 20,
	    .frsize = 4096,
	    .namemax = 255,
	};
	struct proto_mds_statfs_rep out, bad;

	(void)state;
	assert_int_equal(check_codec(&codec_statfs_rep, &m, NULL, &out), 5 * 8 + 3 * 4);
	assert_int_equal(out.blocks, m.blocks);
	assert_int_equal(out.bfree, m.bfree);
	assert_int_equal(out.bavail, m.bavail);
	assert_int_equal(out.files, m.files);
	assert_int_equal(out.ffree, m.ffree);
	assert_int_equal(out.bsize, m.bsize);
	assert_int_equal(out.frsize, m.frsize);
	assert_int_equal(out.namemax, m.namemax);
	bad = m;
	bad.bfree = m.blocks + 1;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad = m;
	bad.bavail = m.bfree + 1;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad = m;
	bad.ffree = m.files + 1;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad = m;
	bad.bsize = 0;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad = m;
	bad.frsize = 0;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad = m;
	bad.namemax = 0;
	expect_reject(&codec_statfs_rep, &bad, NULL);
	bad.namemax = 256;
	expect_reject(&codec_statfs_rep, &bad, NULL);
}

/* ---- directories ---- */

static void test_readdir_req(void **state)
{
	struct proto_mds_readdir_req m = {
	    .cred = cred(),
	    .ino = 1,
	    .fh = 31,
	    .cookie = 0x7fffffffffffffffull,
	    .max_entries = 128,
	    .flags = PROTO_MDS_READDIR_PLUS,
	};
	struct proto_mds_readdir_req out;

	(void)state;
	check_codec(&codec_readdir_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 1);
	assert_int_equal(out.fh, 31);
	assert_int_equal(out.cookie, m.cookie);
	assert_int_equal(out.max_entries, 128);
	assert_int_equal(out.flags, PROTO_MDS_READDIR_PLUS);
	check_cred_field(&codec_readdir_req, &m, &m.cred);
	check_ino_field(&codec_readdir_req, &m, &m.ino);
	check_flag_bits(&codec_readdir_req, &m, NULL, &m.flags, PROTO_MDS_READDIR_PLUS);
	m.max_entries = 0;
	expect_reject(&codec_readdir_req, &m, NULL);
	m.max_entries = PROTO_MDS_READDIR_MAX + 1;
	expect_reject(&codec_readdir_req, &m, NULL);
	m.max_entries = PROTO_MDS_READDIR_MAX;
	expect_accept(&codec_readdir_req, &m, NULL);
}

#define DIRENTS 4

static void make_dirents(struct proto_mds_dirent *ents)
{
	ents[0] = (struct proto_mds_dirent){
	    .name = str_of("."), .cookie = 1, .ino = 9, .dtype = PROTO_DT_DIR};
	ents[1] = (struct proto_mds_dirent){
	    .name = str_of(".."), .cookie = 2, .ino = 1, .dtype = PROTO_DT_DIR};
	ents[2] = (struct proto_mds_dirent){
	    .name = str_of("train-000.tar"),
	    .cookie = 0x8000000000000001ull,
	    .ino = 0x0001000000000abcull,
	    .dtype = PROTO_DT_REG,
	    .flags = PROTO_MDS_DIRENT_ATTR,
	    .attr = attr(PROTO_S_IFREG | 0640),
	};
	ents[3] = (struct proto_mds_dirent){
	    .name = str_of("lnk"), .cookie = UINT64_MAX, .ino = 4, .dtype = PROTO_DT_LNK};
}

static void test_readdir_rep(void **state)
{
	struct proto_mds_dirent ents[DIRENTS], got[DIRENTS];
	struct proto_mds_readdir_rep m = {
	    .flags = PROTO_MDS_READDIR_EOF,
	    .entry_valid_ms = 1000,
	    .attr_valid_ms = 2000,
	    .count = DIRENTS,
	    .entries = ents,
	};
	struct proto_mds_readdir_rep tmpl = {.cap = DIRENTS, .entries = got}, out;

	(void)state;
	make_dirents(ents);
	check_codec(&codec_readdir_rep, &m, &tmpl, &out);
	assert_int_equal(out.flags, PROTO_MDS_READDIR_EOF);
	assert_int_equal(out.entry_valid_ms, 1000);
	assert_int_equal(out.attr_valid_ms, 2000);
	assert_int_equal(out.count, DIRENTS);
	assert_ptr_equal(out.entries, got);
	for (int i = 0; i < DIRENTS; i++) {
		assert_str_eq(&ents[i].name, &got[i].name);
		assert_int_equal(got[i].cookie, ents[i].cookie);
		assert_int_equal(got[i].ino, ents[i].ino);
		assert_int_equal(got[i].dtype, ents[i].dtype);
		assert_int_equal(got[i].flags, ents[i].flags);
		if (ents[i].flags & PROTO_MDS_DIRENT_ATTR)
			assert_attr_eq(&ents[i].attr, &got[i].attr);
	}
	check_flag_bits(&codec_readdir_rep, &m, &tmpl, &m.flags, PROTO_MDS_READDIR_EOF);
	check_attr_field(&codec_readdir_rep, &m, &tmpl, &ents[2].attr);

	/* More entries than the caller has room for. */
	tmpl.cap = DIRENTS - 1;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	tmpl.cap = DIRENTS;

	/* An empty reply must be the end. */
	m.count = 0;
	expect_accept(&codec_readdir_rep, &m, &tmpl);
	m.flags = 0;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	m.count = DIRENTS;
	expect_accept(&codec_readdir_rep, &m, &tmpl);
}

static void test_readdir_rep_entries(void **state)
{
	struct proto_mds_dirent ents[DIRENTS], got[DIRENTS];
	struct proto_mds_readdir_rep m = {.count = DIRENTS, .entries = ents};
	struct proto_mds_readdir_rep tmpl = {.cap = DIRENTS, .entries = got};
	const struct proto_mds_dirent *e2 = &ents[2];

	(void)state;
	make_dirents(ents);
	expect_accept(&codec_readdir_rep, &m, &tmpl);
	ents[1].cookie = 0;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	ents[3].ino = 0;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	for (int t = 0; t < 256; t++) {
		ents[3].dtype = (uint8_t)t;
		assert_int_equal(codec_decode_of(&codec_readdir_rep, &m, &tmpl),
				 proto_dtype_valid((uint8_t)t) ? 0 : -CAIRN_EBADFRAME);
	}
	make_dirents(ents);
	ents[0].flags = 0x80;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	ents[0].name = str_of("a/b");
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	ents[0].name = (struct proto_str){long_text, PROTO_NAME_MAX + 1};
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	ents[2].attr.ino++; /* attributes of another inode */
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	ents[2].dtype = PROTO_DT_DIR; /* type disagrees with the attributes */
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	make_dirents(ents);
	assert_true(e2->flags & PROTO_MDS_DIRENT_ATTR);
	expect_accept(&codec_readdir_rep, &m, &tmpl);
}

/* The largest reply passes; one more entry, even with room, does not. */
static void test_readdir_rep_max(void **state)
{
	const uint32_t n = PROTO_MDS_READDIR_MAX + 1;
	struct proto_mds_dirent *ents = calloc(n, sizeof(*ents));
	struct proto_mds_dirent *got = calloc(n, sizeof(*got));
	struct proto_mds_readdir_rep m = {.count = n - 1, .entries = ents};
	struct proto_mds_readdir_rep tmpl = {.cap = n, .entries = got};

	(void)state;
	assert_non_null(ents);
	assert_non_null(got);
	for (uint32_t i = 0; i < n; i++)
		ents[i] = (struct proto_mds_dirent){
		    .name = str_of("f"), .cookie = i + 1, .ino = i + 100, .dtype = PROTO_DT_REG};
	expect_accept(&codec_readdir_rep, &m, &tmpl);
	m.count = n;
	expect_reject(&codec_readdir_rep, &m, &tmpl);
	free(got);
	free(ents);
}

/* ---- extended attributes ---- */

static void test_getxattr_req(void **state)
{
	struct proto_mds_getxattr_req m = {
	    .cred = cred(), .ino = 12, .name = str_of("user.checksum"), .size = 4096};
	struct proto_mds_getxattr_req out;

	(void)state;
	check_codec(&codec_getxattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 12);
	assert_str_eq(&m.name, &out.name);
	assert_int_equal(out.size, 4096);
	check_cred_field(&codec_getxattr_req, &m, &m.cred);
	check_ino_field(&codec_getxattr_req, &m, &m.ino);
	check_xattr_name_field(&codec_getxattr_req, &m, &m.name);
	m.size = PROTO_XATTR_VALUE_MAX;
	expect_accept(&codec_getxattr_req, &m, NULL);
	m.size = PROTO_XATTR_VALUE_MAX + 1;
	expect_reject(&codec_getxattr_req, &m, NULL);
	m.size = 0; /* asks the size */
	expect_accept(&codec_getxattr_req, &m, NULL);
}

static void test_getxattr_rep(void **state)
{
	struct proto_mds_getxattr_rep m = {
	    .size = PROTO_XATTR_VALUE_MAX,
	    .value = {big_value, PROTO_XATTR_VALUE_MAX},
	};
	struct proto_mds_getxattr_rep out;

	(void)state;
	check_codec(&codec_getxattr_rep, &m, NULL, &out);
	assert_int_equal(out.size, PROTO_XATTR_VALUE_MAX);
	assert_blob_eq(&m.value, &out.value);

	/* The answer to a size query. */
	m = (struct proto_mds_getxattr_rep){.size = 300};
	check_codec(&codec_getxattr_rep, &m, NULL, &out);
	assert_int_equal(out.size, 300);
	assert_int_equal(out.value.len, 0);

	m.value = (struct proto_blob){big_value, 299}; /* size disagrees */
	expect_reject(&codec_getxattr_rep, &m, NULL);
	m.size = PROTO_XATTR_VALUE_MAX + 1;
	m.value.len = 0;
	expect_reject(&codec_getxattr_rep, &m, NULL);
	m.value.len = PROTO_XATTR_VALUE_MAX + 1;
	expect_reject(&codec_getxattr_rep, &m, NULL);
}

static void test_setxattr_req(void **state)
{
	struct proto_mds_setxattr_req m = {
	    .cred = cred(),
	    .ino = 0x0004000000000001ull,
	    .name = str_of("trusted.cairn.tier"),
	    .value = {big_value, 1000},
	    .flags = PROTO_MDS_XATTR_CREATE,
	};
	struct proto_mds_setxattr_req out;

	(void)state;
	check_codec(&codec_setxattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, m.ino);
	assert_str_eq(&m.name, &out.name);
	assert_blob_eq(&m.value, &out.value);
	assert_int_equal(out.flags, PROTO_MDS_XATTR_CREATE);
	check_cred_field(&codec_setxattr_req, &m, &m.cred);
	check_ino_field(&codec_setxattr_req, &m, &m.ino);
	check_xattr_name_field(&codec_setxattr_req, &m, &m.name);
	check_flag_bits(&codec_setxattr_req, &m, NULL, &m.flags,
			PROTO_MDS_XATTR_CREATE | PROTO_MDS_XATTR_REPLACE);
	m.flags = PROTO_MDS_XATTR_REPLACE;
	expect_accept(&codec_setxattr_req, &m, NULL);
	m.flags = PROTO_MDS_XATTR_REPLACE | PROTO_MDS_XATTR_CREATE;
	expect_reject(&codec_setxattr_req, &m, NULL);
	m.flags = 0;
	m.value.len = PROTO_XATTR_VALUE_MAX;
	check_codec(&codec_setxattr_req, &m, NULL, &out);
	assert_blob_eq(&m.value, &out.value);
	m.value.len = PROTO_XATTR_VALUE_MAX + 1;
	expect_reject(&codec_setxattr_req, &m, NULL);
	m.value.len = 0; /* an empty value is a value */
	expect_accept(&codec_setxattr_req, &m, NULL);
}

static void test_listxattr_req(void **state)
{
	struct proto_mds_listxattr_req m = {.cred = cred(), .ino = 3, .size = 777}, out;

	(void)state;
	check_codec(&codec_listxattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 3);
	assert_int_equal(out.size, 777);
	check_cred_field(&codec_listxattr_req, &m, &m.cred);
	check_ino_field(&codec_listxattr_req, &m, &m.ino);
	m.size = PROTO_XATTR_LIST_MAX + 1;
	expect_reject(&codec_listxattr_req, &m, NULL);
}

static void test_listxattr_rep(void **state)
{
	static const char list[] = "user.a\0user.bb\0security.selinux";
	struct proto_mds_listxattr_rep m = {
	    .size = sizeof(list),
	    .list = {(const uint8_t *)list, sizeof(list)},
	};
	struct proto_mds_listxattr_rep out;
	char name_list[PROTO_XATTR_NAME_MAX + 2];

	(void)state;
	check_codec(&codec_listxattr_rep, &m, NULL, &out);
	assert_int_equal(out.size, sizeof(list));
	assert_blob_eq(&m.list, &out.list);

	m.list.len = sizeof(list) - 1; /* last name not terminated */
	m.size = m.list.len;
	expect_reject(&codec_listxattr_rep, &m, NULL);
	m.list = (struct proto_blob){(const uint8_t *)"\0", 1}; /* empty name */
	m.size = 1;
	expect_reject(&codec_listxattr_rep, &m, NULL);
	m.list = (struct proto_blob){(const uint8_t *)"a\0\0", 3};
	m.size = 3;
	expect_reject(&codec_listxattr_rep, &m, NULL);

	memset(name_list, 'n', sizeof(name_list));
	name_list[PROTO_XATTR_NAME_MAX] = '\0';
	m.list = (struct proto_blob){(const uint8_t *)name_list, PROTO_XATTR_NAME_MAX + 1};
	m.size = m.list.len;
	expect_accept(&codec_listxattr_rep, &m, NULL);
	name_list[PROTO_XATTR_NAME_MAX] = 'n';
	name_list[PROTO_XATTR_NAME_MAX + 1] = '\0';
	m.list.len = m.size = PROTO_XATTR_NAME_MAX + 2; /* a 256-byte name */
	expect_reject(&codec_listxattr_rep, &m, NULL);

	/* Size query answers, and disagreeing sizes. */
	m = (struct proto_mds_listxattr_rep){.size = 1234};
	expect_accept(&codec_listxattr_rep, &m, NULL);
	m.list = (struct proto_blob){(const uint8_t *)list, 7};
	expect_reject(&codec_listxattr_rep, &m, NULL);
	m = (struct proto_mds_listxattr_rep){.size = PROTO_XATTR_LIST_MAX + 1};
	expect_reject(&codec_listxattr_rep, &m, NULL);
}

static void test_removexattr_req(void **state)
{
	struct proto_mds_removexattr_req m = {.cred = cred(), .ino = 8, .name = str_of("user.x")},
					 out;

	(void)state;
	check_codec(&codec_removexattr_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 8);
	assert_str_eq(&m.name, &out.name);
	check_cred_field(&codec_removexattr_req, &m, &m.cred);
	check_ino_field(&codec_removexattr_req, &m, &m.ino);
	check_xattr_name_field(&codec_removexattr_req, &m, &m.name);
}

/* ---- open files ---- */

static void test_open_req(void **state)
{
	struct proto_mds_open_req m = {
	    .cred = cred(),
	    .ino = 0x0001000000000002ull,
	    .flags = PROTO_MDS_O_RDONLY | PROTO_MDS_O_NOATIME | PROTO_MDS_O_DIRECT,
	};
	struct proto_mds_open_req out;

	(void)state;
	check_codec(&codec_open_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, m.ino);
	assert_int_equal(out.flags, m.flags);
	check_cred_field(&codec_open_req, &m, &m.cred);
	check_ino_field(&codec_open_req, &m, &m.ino);
	check_flag_bits(&codec_open_req, &m, NULL, &m.flags, PROTO_MDS_O_KNOWN);
	m.flags = PROTO_MDS_O_WRONLY | PROTO_MDS_O_EXCL; /* CREATE only */
	expect_reject(&codec_open_req, &m, NULL);
	m.flags = PROTO_MDS_O_ACCMODE;
	expect_reject(&codec_open_req, &m, NULL);
	m.flags = PROTO_MDS_O_RDWR | PROTO_MDS_O_APPEND | PROTO_MDS_O_SYNC | PROTO_MDS_O_DSYNC;
	expect_accept(&codec_open_req, &m, NULL);
}

static void test_publish_req(void **state)
{
	struct proto_mds_publish_req m = {
	    .cred = cred(),
	    .ino = 44,
	    .fh = 45,
	    .flags = PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME | PROTO_MDS_PUB_DATASYNC,
	    .size = 0xfffffffffull,
	    .mtime = {1700000001, 123},
	};
	struct proto_mds_publish_req out;

	(void)state;
	check_codec(&codec_publish_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_int_equal(out.ino, 44);
	assert_int_equal(out.fh, 45);
	assert_int_equal(out.flags, m.flags);
	assert_int_equal(out.size, m.size);
	assert_time_eq(&m.mtime, &out.mtime);
	check_cred_field(&codec_publish_req, &m, &m.cred);
	check_ino_field(&codec_publish_req, &m, &m.ino);
	check_flag_bits(&codec_publish_req, &m, NULL, &m.flags, PROTO_MDS_PUB_KNOWN);
	check_time_field(&codec_publish_req, &m, &m.mtime);
	m.fh = 0;
	expect_reject(&codec_publish_req, &m, NULL);
	m.fh = 45;
	m.flags = PROTO_MDS_PUB_MTIME; /* size without its flag */
	expect_reject(&codec_publish_req, &m, NULL);
	m.flags = PROTO_MDS_PUB_SIZE; /* mtime without its flag */
	expect_reject(&codec_publish_req, &m, NULL);
	m = (struct proto_mds_publish_req){.cred = cred(), .ino = 1, .fh = 2};
	expect_accept(&codec_publish_req, &m, NULL); /* close with nothing written */
}

/* ---- file locks ---- */

/* type (a u8) accepts exactly RD, WR and UN. */
static void check_lock_type(const struct codec *c, void *msg, uint8_t *f)
{
	const uint8_t saved = *f;

	for (int v = 0; v < 256; v++) {
		*f = (uint8_t)v;
		if (v >= PROTO_MDS_LOCK_RD && v <= PROTO_MDS_LOCK_WR)
			expect_accept(c, msg, NULL);
		else if (v != PROTO_MDS_LOCK_UN)
			expect_reject(c, msg, NULL);
	}
	*f = saved;
}

/* start and len: nothing past PROTO_MDS_LOCK_OFFSET_MAX. */
static void check_lock_range(const struct codec *c, void *msg, uint64_t *start, uint64_t *len)
{
	const uint64_t s0 = *start, l0 = *len;
	const uint64_t max = PROTO_MDS_LOCK_OFFSET_MAX;

	*start = max;
	*len = 0;
	expect_accept(c, msg, NULL);
	*len = 1;
	expect_accept(c, msg, NULL);
	*len = 2;
	expect_reject(c, msg, NULL);
	*start = max + 1;
	*len = 0;
	expect_reject(c, msg, NULL);
	*start = UINT64_MAX;
	expect_reject(c, msg, NULL);
	*start = 10;
	*len = max - 9; /* ends at max */
	expect_accept(c, msg, NULL);
	*len = max - 8;
	expect_reject(c, msg, NULL);
	*len = UINT64_MAX; /* would wrap */
	expect_reject(c, msg, NULL);
	*start = s0;
	*len = l0;
}

static void test_lock_req(void **state)
{
	struct proto_mds_lock_req m = {.cred = cred(),
				       .ino = 0x0001000000000042ull,
				       .session = 0x1122334455667788ull,
				       .owner = 0x99aabbccddeeff00ull,
				       .start = 4096,
				       .len = 8192,
				       .pid = 31337,
				       .type = PROTO_MDS_LOCK_WR,
				       .flags = PROTO_MDS_LOCK_WAIT,
				       .wait_id = 17};
	struct proto_mds_lock_req out;

	(void)state;
	check_codec(&codec_lock_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_true(out.ino == m.ino && out.session == m.session && out.owner == m.owner);
	assert_true(out.start == 4096 && out.len == 8192 && out.pid == 31337);
	assert_int_equal(out.type, PROTO_MDS_LOCK_WR);
	assert_int_equal(out.flags, PROTO_MDS_LOCK_WAIT);
	assert_int_equal(out.wait_id, 17);
	check_cred_field(&codec_lock_req, &m, &m.cred);
	check_ino_field(&codec_lock_req, &m, &m.ino);
	check_flag_bits(&codec_lock_req, &m, NULL, &m.flags, PROTO_MDS_LOCK_WAIT);
	check_lock_type(&codec_lock_req, &m, &m.type);
	check_lock_range(&codec_lock_req, &m, &m.start, &m.len);
	m.session = 0;
	expect_reject(&codec_lock_req, &m, NULL);
	m.session = 1;
	m.wait_id = 0; /* WAIT without an id */
	expect_reject(&codec_lock_req, &m, NULL);
	m.flags = 0; /* an id without WAIT */
	m.wait_id = 5;
	expect_reject(&codec_lock_req, &m, NULL);
	m.wait_id = 0;
	m.type = PROTO_MDS_LOCK_UN;
	expect_accept(&codec_lock_req, &m, NULL);
	m.flags = PROTO_MDS_LOCK_WAIT; /* waiting to unlock makes no sense */
	m.wait_id = 5;
	expect_reject(&codec_lock_req, &m, NULL);
}

static void test_lock_rep(void **state)
{
	struct proto_mds_lock_rep m = {
	    .type = PROTO_MDS_LOCK_RD, .start = 77, .len = 0, .pid = 4242};
	struct proto_mds_lock_rep out;

	(void)state;
	check_codec(&codec_lock_rep, &m, NULL, &out);
	assert_int_equal(out.type, PROTO_MDS_LOCK_RD);
	assert_int_equal(out.start, 77);
	assert_int_equal(out.len, 0);
	assert_int_equal(out.pid, 4242);
	check_lock_range(&codec_lock_rep, &m, &m.start, &m.len);
	m.type = 0;
	expect_reject(&codec_lock_rep, &m, NULL);
	m.type = 4;
	expect_reject(&codec_lock_rep, &m, NULL);
	m.type = PROTO_MDS_LOCK_UN; /* no conflict: everything else zero */
	expect_reject(&codec_lock_rep, &m, NULL);
	m = (struct proto_mds_lock_rep){.type = PROTO_MDS_LOCK_UN};
	check_codec(&codec_lock_rep, &m, NULL, &out);
	m.pid = 1;
	expect_reject(&codec_lock_rep, &m, NULL);
	m.pid = 0;
	m.len = 1;
	expect_reject(&codec_lock_rep, &m, NULL);
}

static void test_flock_req(void **state)
{
	struct proto_mds_flock_req m = {.cred = cred(),
					.ino = 9,
					.session = 3,
					.owner = 0,
					.type = PROTO_MDS_LOCK_RD,
					.flags = PROTO_MDS_LOCK_WAIT,
					.wait_id = UINT64_MAX};
	struct proto_mds_flock_req out;

	(void)state;
	check_codec(&codec_flock_req, &m, NULL, &out);
	assert_cred_eq(&m.cred, &out.cred);
	assert_true(out.ino == 9 && out.session == 3 && out.owner == 0);
	assert_int_equal(out.type, PROTO_MDS_LOCK_RD);
	assert_true(out.wait_id == UINT64_MAX);
	check_cred_field(&codec_flock_req, &m, &m.cred);
	check_ino_field(&codec_flock_req, &m, &m.ino);
	check_flag_bits(&codec_flock_req, &m, NULL, &m.flags, PROTO_MDS_LOCK_WAIT);
	check_lock_type(&codec_flock_req, &m, &m.type);
	m.session = 0;
	expect_reject(&codec_flock_req, &m, NULL);
	m.session = 3;
	m.wait_id = 0;
	expect_reject(&codec_flock_req, &m, NULL);
	m.flags = 0;
	expect_accept(&codec_flock_req, &m, NULL);
	m.wait_id = 1;
	expect_reject(&codec_flock_req, &m, NULL);
}

static void test_lock_small_reqs(void **state)
{
	struct proto_mds_lock_cancel_req c = {.ino = 5, .session = 6, .wait_id = 7}, co;
	struct proto_mds_lock_release_req r = {.ino = 5, .session = 6, .owner = 0}, ro;
	struct proto_mds_lock_session_req s = {.session = 6, .flags = PROTO_MDS_SESSION_END}, so;

	(void)state;
	assert_int_equal(check_codec(&codec_lock_cancel_req, &c, NULL, &co), 24);
	assert_true(co.ino == 5 && co.session == 6 && co.wait_id == 7);
	check_ino_field(&codec_lock_cancel_req, &c, &c.ino);
	c.wait_id = 0;
	expect_reject(&codec_lock_cancel_req, &c, NULL);
	c.wait_id = 7;
	c.session = 0;
	expect_reject(&codec_lock_cancel_req, &c, NULL);

	assert_int_equal(check_codec(&codec_lock_release_req, &r, NULL, &ro), 24);
	assert_true(ro.ino == 5 && ro.session == 6 && ro.owner == 0);
	check_ino_field(&codec_lock_release_req, &r, &r.ino);
	r.session = 0;
	expect_reject(&codec_lock_release_req, &r, NULL);

	assert_int_equal(check_codec(&codec_lock_session_req, &s, NULL, &so), 12);
	assert_true(so.session == 6 && so.flags == PROTO_MDS_SESSION_END);
	check_flag_bits(&codec_lock_session_req, &s, NULL, &s.flags, PROTO_MDS_SESSION_END);
	s.session = 0;
	expect_reject(&codec_lock_session_req, &s, NULL);
}

static void test_lock_session_rep(void **state)
{
	struct proto_mds_lock_session_rep m = {
	    .lease_ms = 5000, .flags = PROTO_MDS_SESSION_NEW, .locks = 3, .waiters = 1};
	struct proto_mds_lock_session_rep out;

	(void)state;
	assert_int_equal(check_codec(&codec_lock_session_rep, &m, NULL, &out), 16);
	assert_true(out.lease_ms == 5000 && out.flags == PROTO_MDS_SESSION_NEW);
	assert_true(out.locks == 3 && out.waiters == 1);
	check_flag_bits(&codec_lock_session_rep, &m, NULL, &m.flags, PROTO_MDS_SESSION_NEW);
	m.lease_ms = 0;
	expect_reject(&codec_lock_session_rep, &m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_cred_groups),
	    cmocka_unit_test(test_entry),
	    cmocka_unit_test(test_attr_rep),
	    cmocka_unit_test(test_open_rep),
	    cmocka_unit_test(test_lookup_req),
	    cmocka_unit_test(test_create_req),
	    cmocka_unit_test(test_mknod_req),
	    cmocka_unit_test(test_mkdir_req),
	    cmocka_unit_test(test_unlink_req),
	    cmocka_unit_test(test_rename_req),
	    cmocka_unit_test(test_link_req),
	    cmocka_unit_test(test_symlink_req),
	    cmocka_unit_test(test_ino_req),
	    cmocka_unit_test(test_getattr_req),
	    cmocka_unit_test(test_setattr_req),
	    cmocka_unit_test(test_readlink_rep),
	    cmocka_unit_test(test_statfs_rep),
	    cmocka_unit_test(test_readdir_req),
	    cmocka_unit_test(test_readdir_rep),
	    cmocka_unit_test(test_readdir_rep_entries),
	    cmocka_unit_test(test_readdir_rep_max),
	    cmocka_unit_test(test_getxattr_req),
	    cmocka_unit_test(test_getxattr_rep),
	    cmocka_unit_test(test_setxattr_req),
	    cmocka_unit_test(test_listxattr_req),
	    cmocka_unit_test(test_listxattr_rep),
	    cmocka_unit_test(test_removexattr_req),
	    cmocka_unit_test(test_open_req),
	    cmocka_unit_test(test_publish_req),
	    cmocka_unit_test(test_lock_req),
	    cmocka_unit_test(test_lock_rep),
	    cmocka_unit_test(test_flock_req),
	    cmocka_unit_test(test_lock_small_reqs),
	    cmocka_unit_test(test_lock_session_rep),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
