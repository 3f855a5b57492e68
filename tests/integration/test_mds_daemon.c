/*
 * test_mds_daemon.c - cairn-mds as a process: one shard on loopback, driven
 * through the RPC client and the proto codecs directly.
 *
 * Covers every client opcode's happy path; errno cases through the wire
 * (ENOENT, EEXIST, ENOTEMPTY, EACCES for a non-root caller, ENAMETOOLONG,
 * EINVAL for a name with '/', EREMOTE for an inode of another shard,
 * EOPNOTSUPP); a malformed body answered -CAIRN_EBADFRAME on a connection
 * that keeps working; concurrent creators in one directory; the cluster
 * map: pools from cairn.conf, POOL_CREATE/LIST, STATUS, OSD register,
 * heartbeat, in/out, down after osd_down_ms, MAP_GET watches woken by a
 * change or timing out; persistence of the map and the namespace across a
 * SIGTERM and a SIGKILL restart; a corrupt map file refused at start;
 * the command line's exit codes.
 *
 * Usage: test_mds_daemon PATH-TO-cairn-mds.  Exit 77 (skip) without
 * loopback TCP.  Deterministic: no randomness (names are numbered).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "mds_harness.h"
#include "proto/admin.h"
#include "proto/map.h"
#include "proto/mds.h"

#define ROOT 1ull
#define OSD_DOWN_MS 400
#define WATCH_MS 2000 /* rpc.timeout_ms / 2 in the generated cairn.conf */

static struct mh_cluster C;
static const struct proto_cred root_cred = {0};
static const struct proto_cred user_cred = {.uid = 1000, .gid = 1000};

static struct proto_str S(const char *s) {
	return (struct proto_str){s, (uint16_t)strlen(s)};
}

static struct rpc_client *
cli(void)
{
	return mh_client(&C, 0);
}

/* Encodes m with fn into a fresh buffer of the caller's stack. */
#define ENC(fn, m, buf)                                                                            \
	({                                                                                         \
		struct wire_enc e_;                                                                \
		wire_enc_init(&e_, (buf), sizeof(buf));                                            \
		MH_CHECK((fn)((m), &e_) == 0);                                                     \
		e_.len;                                                                            \
	})

static void dec_ok(int rc, const char *what, int line)
{
	if (rc)
		mh_fail("line %d: %s: reply does not decode (%s)", line, what, mh_err(rc));
}

#define DEC(fn, resp, out)                                                                         \
	do {                                                                                       \
		struct wire_dec d_;                                                                \
		wire_dec_init(&d_, (resp)->body, (resp)->body_len);                                \
		dec_ok((fn)(&d_, (out)), #fn, __LINE__);                                           \
	} while (0)

/* Sends a request encoded by fn; decodes the reply with dfn into out. */
#define RPC(op, fn, m, dfn, out)                                                                   \
	({                                                                                         \
		uint8_t b_[80 * 1024];                                                             \
		struct rpc_msg *r_;                                                                \
		int s_ = mh_call(cli(), (op), b_, ENC(fn, (m), b_), &r_);                          \
		if (s_ == 0)                                                                       \
			DEC(dfn, r_, (out));                                                       \
		rpc_msg_free(r_);                                                                  \
		s_;                                                                                \
	})

/* The same for a reply with an empty body. */
#define RPC0(op, fn, m)                                                                            \
	({                                                                                         \
		uint8_t b_[80 * 1024];                                                             \
		struct rpc_msg *r_;                                                                \
		int s_ = mh_call(cli(), (op), b_, ENC(fn, (m), b_), &r_);                          \
		if (s_ == 0 && r_->body_len != 0)                                                  \
			mh_fail("line %d: non-empty reply", __LINE__);                             \
		rpc_msg_free(r_);                                                                  \
		s_;                                                                                \
	})

/* ---- namespace wrappers ---- */

static int lookup(uint64_t parent, const char *name, const struct proto_cred *cr,
		  struct proto_mds_entry *out)
{
	struct proto_mds_lookup_req q = {.cred = *cr, .parent = parent, .name = S(name)};

	return RPC(PROTO_OP_MDS_LOOKUP, proto_mds_lookup_req_encode, &q, proto_mds_entry_decode,
		   out);
}

static int getattr(uint64_t ino, struct proto_attr *out)
{
	struct proto_mds_getattr_req q = {.cred = root_cred, .ino = ino};
	struct proto_mds_attr_rep rep;
	int rc = RPC(PROTO_OP_MDS_GETATTR, proto_mds_getattr_req_encode, &q,
		     proto_mds_attr_rep_decode, &rep);

	if (!rc && out)
		*out = rep.attr;
	return rc;
}

static int mkdir_(uint64_t parent, const char *name, uint32_t mode, const struct proto_cred *cr,
		  struct proto_mds_entry *out)
{
	struct proto_mds_mkdir_req q = {
	    .cred = *cr, .parent = parent, .name = S(name), .mode = mode};

	return RPC(PROTO_OP_MDS_MKDIR, proto_mds_mkdir_req_encode, &q, proto_mds_entry_decode, out);
}

static int create_(uint64_t parent, const char *name, uint32_t mode, uint32_t flags,
		   const struct proto_cred *cr, struct proto_mds_open_rep *out)
{
	struct proto_mds_create_req q = {.cred = *cr,
					 .parent = parent,
					 .name = S(name),
					 .mode = mode,
					 .umask = 022,
					 .flags = flags};

	return RPC(PROTO_OP_MDS_CREATE, proto_mds_create_req_encode, &q, proto_mds_open_rep_decode,
		   out);
}

static int remove_(uint16_t op, uint64_t parent, const char *name, const struct proto_cred *cr)
{
	struct proto_mds_unlink_req q = {.cred = *cr, .parent = parent, .name = S(name)};

	return RPC0(op, proto_mds_unlink_req_encode, &q);
}

static int rename_(uint64_t p, const char *n, uint64_t np, const char *nn, uint32_t flags)
{
	struct proto_mds_rename_req q = {.cred = root_cred,
					 .parent = p,
					 .name = S(n),
					 .new_parent = np,
					 .new_name = S(nn),
					 .flags = flags};

	return RPC0(PROTO_OP_MDS_RENAME, proto_mds_rename_req_encode, &q);
}

static int publish(uint16_t op, uint64_t ino, uint64_t fh, uint32_t flags, uint64_t size,
		   int64_t mtime, struct proto_attr *out)
{
	struct proto_mds_publish_req q = {.cred = root_cred, .ino = ino, .fh = fh, .flags = flags};
	struct proto_mds_attr_rep rep;
	int rc;

	if (flags & PROTO_MDS_PUB_SIZE)
		q.size = size;
	if (flags & PROTO_MDS_PUB_MTIME)
		q.mtime.sec = mtime;
	rc = RPC(op, proto_mds_publish_req_encode, &q, proto_mds_attr_rep_decode, &rep);
	if (!rc && out)
		*out = rep.attr;
	return rc;
}

static int open_(uint64_t ino, uint32_t flags, const struct proto_cred *cr,
		 struct proto_mds_open_rep *out)
{
	struct proto_mds_open_req q = {.cred = *cr, .ino = ino, .flags = flags};

	return RPC(PROTO_OP_MDS_OPEN, proto_mds_open_req_encode, &q, proto_mds_open_rep_decode,
		   out);
}

/* Lists dir, max entries per call, into names (joined by '/'); returns count. */
static int list_dir(uint64_t dir, uint32_t max, bool plus, char *names, size_t cap)
{
	static struct proto_mds_dirent ents[PROTO_MDS_READDIR_MAX];
	struct proto_mds_readdir_req q = {.cred = root_cred,
					  .ino = dir,
					  .max_entries = max,
					  .flags = plus ? PROTO_MDS_READDIR_PLUS : 0};
	int total = 0;

	names[0] = '\0';
	for (;;) {
		struct proto_mds_readdir_rep rep = {.cap = PROTO_MDS_READDIR_MAX, .entries = ents};
		uint8_t b[256];
		struct rpc_msg *r;
		int rc = mh_call(cli(), PROTO_OP_MDS_READDIR, b,
				 ENC(proto_mds_readdir_req_encode, &q, b), &r);

		MH_CHECK_RC(rc, 0);
		DEC(proto_mds_readdir_rep_decode, r, &rep);
		MH_CHECK(rep.count <= max);
		for (uint32_t i = 0; i < rep.count; i++) {
			struct proto_mds_dirent *e = &ents[i];
			size_t l = strlen(names);

			MH_CHECK(e->cookie > q.cookie || i > 0);
			/* Plus: every entry of this shard carries its attributes. */
			MH_CHECK(!plus || (e->flags & PROTO_MDS_DIRENT_ATTR));
			MH_CHECK(l + e->name.len + 2 < cap);
			memcpy(names + l, e->name.ptr, e->name.len);
			names[l + e->name.len] = '/';
			names[l + e->name.len + 1] = '\0';
			q.cookie = e->cookie;
			total++;
		}
		rpc_msg_free(r);
		if (rep.flags & PROTO_MDS_READDIR_EOF)
			return total;
	}
}

/* ---- the namespace ---- */

static uint64_t test_files(uint64_t d)
{
	struct proto_mds_open_rep o;
	struct proto_mds_entry e;
	struct proto_attr a;

	MH_CHECK_RC(create_(d, "f", 0666, PROTO_MDS_O_RDWR, &root_cred, &o), 0);
	MH_CHECK((o.entry.attr.mode & PROTO_S_IFMT) == PROTO_S_IFREG);
	MH_CHECK((o.entry.attr.mode & 0777) == 0644); /* umask 022 */
	MH_CHECK(o.fh != 0);
	/* No directory names a layout: the first pool of cairn.conf. */
	MH_CHECK(o.entry.flags & PROTO_MDS_ENTRY_LAYOUT);
	MH_CHECK(o.entry.layout.pool_id == 1 && o.entry.layout.scheme == PROTO_SCHEME_EC);
	MH_CHECK(o.entry.layout.k == 4 && o.entry.layout.m == 2);
	MH_CHECK(o.entry.layout.chunk_size == 1u << 20);
	MH_CHECK_RC(publish(PROTO_OP_MDS_CLOSE, o.entry.attr.ino, o.fh,
			    PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME, 5000, 1700000000, &a),
		    0);
	MH_CHECK(a.size == 5000 && a.mtime.sec == 1700000000);
	MH_CHECK_RC(getattr(o.entry.attr.ino, &a), 0);
	MH_CHECK(a.size == 5000 && a.nlink == 1);

	/* Open, fsync publishing a larger size, close. */
	MH_CHECK_RC(open_(o.entry.attr.ino, PROTO_MDS_O_WRONLY, &root_cred, &o), 0);
	MH_CHECK(o.entry.attr.size == 5000);
	MH_CHECK_RC(
	    publish(PROTO_OP_MDS_FSYNC, o.entry.attr.ino, o.fh, PROTO_MDS_PUB_SIZE, 6000, 0, &a),
	    0);
	MH_CHECK(a.size == 6000);
	MH_CHECK_RC(publish(PROTO_OP_MDS_CLOSE, o.entry.attr.ino, o.fh, 0, 0, 0, &a), 0);
	MH_CHECK(a.size == 6000);
	/* Without O_EXCL, CREATE of an existing file opens it (O_TRUNC too). */
	MH_CHECK_RC(create_(d, "f", 0600, PROTO_MDS_O_RDWR | PROTO_MDS_O_TRUNC, &root_cred, &o), 0);
	MH_CHECK(o.entry.attr.size == 0);
	MH_CHECK_RC(publish(PROTO_OP_MDS_CLOSE, o.entry.attr.ino, o.fh, 0, 0, 0, NULL), 0);
	MH_CHECK_RC(create_(d, "f", 0600, PROTO_MDS_O_RDWR | PROTO_MDS_O_EXCL, &root_cred, &o),
		    -EEXIST);
	/* O_SYNC: durable before the reply (run on a worker thread). */
	MH_CHECK_RC(create_(d, "g", 0600, PROTO_MDS_O_WRONLY | PROTO_MDS_O_SYNC, &root_cred, &o),
		    0);
	MH_CHECK_RC(publish(PROTO_OP_MDS_CLOSE, o.entry.attr.ino, o.fh, 0, 0, 0, NULL), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, d, "g", &root_cred), 0);
	MH_CHECK_RC(lookup(d, "f", &root_cred, &e), 0);
	return e.attr.ino;
}

static void test_setattr(uint64_t ino)
{
	struct proto_mds_setattr_req q = {.cred = root_cred,
					  .ino = ino,
					  .valid = PROTO_MDS_SET_MODE | PROTO_MDS_SET_SIZE |
						   PROTO_MDS_SET_UID | PROTO_MDS_SET_MTIME,
					  .mode = 0640,
					  .uid = 1000,
					  .size = 1234,
					  .mtime = {1600000000, 5}};
	struct proto_mds_attr_rep rep;

	MH_CHECK_RC(RPC(PROTO_OP_MDS_SETATTR, proto_mds_setattr_req_encode, &q,
			proto_mds_attr_rep_decode, &rep),
		    0);
	MH_CHECK((rep.attr.mode & 07777) == 0640 && rep.attr.uid == 1000);
	MH_CHECK(rep.attr.size == 1234 && rep.attr.mtime.sec == 1600000000);
	MH_CHECK(rep.attr.mtime.nsec == 5);
	/* chown by a non-root caller: EPERM. */
	q.cred = user_cred;
	q.valid = PROTO_MDS_SET_UID;
	q.mode = q.size = 0;
	q.mtime = (struct proto_time){0, 0};
	q.uid = 0;
	MH_CHECK_RC(RPC(PROTO_OP_MDS_SETATTR, proto_mds_setattr_req_encode, &q,
			proto_mds_attr_rep_decode, &rep),
		    -EPERM);
}

static void test_special(uint64_t d, uint64_t file)
{
	struct proto_mds_mknod_req mk = {
	    .cred = root_cred, .parent = d, .name = S("fifo"), .mode = PROTO_S_IFIFO | 0644};
	struct proto_mds_symlink_req sl = {
	    .cred = root_cred, .parent = d, .name = S("sym"), .target = S("some/where/else")};
	struct proto_mds_link_req ln = {
	    .cred = root_cred, .ino = file, .new_parent = d, .new_name = S("hard")};
	struct proto_mds_ino_req rl = {.cred = root_cred};
	struct proto_mds_readlink_rep rr;
	struct proto_mds_entry e;

	MH_CHECK_RC(
	    RPC(PROTO_OP_MDS_MKNOD, proto_mds_mknod_req_encode, &mk, proto_mds_entry_decode, &e),
	    0);
	MH_CHECK((e.attr.mode & PROTO_S_IFMT) == PROTO_S_IFIFO && !e.flags);
	mk.name = S("plain");
	mk.mode = PROTO_S_IFREG | 0600;
	MH_CHECK_RC(
	    RPC(PROTO_OP_MDS_MKNOD, proto_mds_mknod_req_encode, &mk, proto_mds_entry_decode, &e),
	    0);
	MH_CHECK((e.flags & PROTO_MDS_ENTRY_LAYOUT) && e.layout.pool_id == 1);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_SYMLINK, proto_mds_symlink_req_encode, &sl,
			proto_mds_entry_decode, &e),
		    0);
	MH_CHECK((e.attr.mode & PROTO_S_IFMT) == PROTO_S_IFLNK && e.attr.size == 15);
	rl.ino = e.attr.ino;
	MH_CHECK_RC(RPC(PROTO_OP_MDS_READLINK, proto_mds_ino_req_encode, &rl,
			proto_mds_readlink_rep_decode, &rr),
		    0);
	MH_CHECK(rr.target.len == 15 && memcmp(rr.target.ptr, "some/where/else", 15) == 0);
	MH_CHECK_RC(
	    RPC(PROTO_OP_MDS_LINK, proto_mds_link_req_encode, &ln, proto_mds_entry_decode, &e), 0);
	MH_CHECK(e.attr.ino == file && e.attr.nlink == 2);
}

static void test_rename(uint64_t d)
{
	struct proto_mds_entry a, b;

	MH_CHECK_RC(rename_(d, "hard", d, "hard2", 0), 0);
	MH_CHECK_RC(lookup(d, "hard", &root_cred, &a), -ENOENT);
	MH_CHECK_RC(lookup(d, "hard2", &root_cred, &a), 0);
	MH_CHECK_RC(rename_(d, "hard2", d, "sym", PROTO_MDS_RENAME_NOREPLACE), -EEXIST);
	MH_CHECK_RC(rename_(d, "hard2", d, "sym", PROTO_MDS_RENAME_EXCHANGE), 0);
	MH_CHECK_RC(lookup(d, "sym", &root_cred, &b), 0);
	MH_CHECK(b.attr.ino == a.attr.ino);
	MH_CHECK_RC(lookup(d, "hard2", &root_cred, &b), 0);
	MH_CHECK((b.attr.mode & PROTO_S_IFMT) == PROTO_S_IFLNK);
	/* Directory into its own subtree. */
	MH_CHECK_RC(mkdir_(d, "sub", 0755, &root_cred, &a), 0);
	MH_CHECK_RC(rename_(ROOT, "d", a.attr.ino, "x", 0), -EINVAL);
}

static void test_xattr(uint64_t ino)
{
	struct proto_mds_setxattr_req s = {.cred = root_cred,
					   .ino = ino,
					   .name = S("user.k"),
					   .value = {(const uint8_t *)"value", 5},
					   .flags = PROTO_MDS_XATTR_CREATE};
	struct proto_mds_getxattr_req g = {.cred = root_cred, .ino = ino, .name = S("user.k")};
	struct proto_mds_listxattr_req l = {.cred = root_cred, .ino = ino, .size = 1024};
	struct proto_mds_removexattr_req r = {.cred = root_cred, .ino = ino, .name = S("user.k")};
	struct proto_mds_getxattr_rep gr;
	struct proto_mds_listxattr_rep lr;

	MH_CHECK_RC(RPC0(PROTO_OP_MDS_SETXATTR, proto_mds_setxattr_req_encode, &s), 0);
	MH_CHECK_RC(RPC0(PROTO_OP_MDS_SETXATTR, proto_mds_setxattr_req_encode, &s), -EEXIST);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_GETXATTR, proto_mds_getxattr_req_encode, &g,
			proto_mds_getxattr_rep_decode, &gr),
		    0);
	MH_CHECK(gr.size == 5 && gr.value.len == 0);
	g.size = 64;
	MH_CHECK_RC(RPC(PROTO_OP_MDS_GETXATTR, proto_mds_getxattr_req_encode, &g,
			proto_mds_getxattr_rep_decode, &gr),
		    0);
	MH_CHECK(gr.value.len == 5 && memcmp(gr.value.ptr, "value", 5) == 0);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_LISTXATTR, proto_mds_listxattr_req_encode, &l,
			proto_mds_listxattr_rep_decode, &lr),
		    0);
	MH_CHECK(lr.size == 7 && memcmp(lr.list.ptr, "user.k", 7) == 0);
	MH_CHECK_RC(RPC0(PROTO_OP_MDS_REMOVEXATTR, proto_mds_removexattr_req_encode, &r), 0);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_GETXATTR, proto_mds_getxattr_req_encode, &g,
			proto_mds_getxattr_rep_decode, &gr),
		    -ENODATA);
	/* A 300-byte xattr name: ERANGE, as ns answers. */
	char big[301];
	memset(big, 'x', 300);
	memcpy(big, "user.", 5);
	big[300] = '\0';
	g.name = S(big);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_GETXATTR, proto_mds_getxattr_req_encode, &g,
			proto_mds_getxattr_rep_decode, &gr),
		    -ERANGE);
}

static void test_readdir(uint64_t d)
{
	static char names[65536];
	struct proto_mds_ino_req q = {.cred = root_cred, .ino = ROOT};
	struct proto_mds_statfs_rep st;
	int n = list_dir(d, 1000, true, names, sizeof(names));

	/* . .. f fifo plain sym hard2 sub */
	MH_CHECK(n == 8);
	MH_CHECK(strncmp(names, "./../", 5) == 0);
	MH_CHECK(strstr(names, "/fifo/") && strstr(names, "/hard2/") && strstr(names, "/sub/"));
	/* Page by page, without attributes: the same entries in the same order. */
	{
		static char paged[65536];

		MH_CHECK(list_dir(d, 3, false, paged, sizeof(paged)) == 8);
		MH_CHECK(strcmp(paged, names) == 0);
	}
	MH_CHECK_RC(RPC(PROTO_OP_MDS_STATFS, proto_mds_ino_req_encode, &q,
			proto_mds_statfs_rep_decode, &st),
		    0);
	/* Inodes: the root, d, f (and its link hard2), fifo, plain, sym, sub. */
	MH_CHECK(st.files - st.ffree == 7 && st.namemax == 255 && st.frsize == 4096);
}

static void test_remove(uint64_t d)
{
	struct proto_mds_entry e;

	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, "d", &root_cred), -ENOTEMPTY);
	for (const char *const *n =
		 (const char *const[]){"f", "fifo", "plain", "sym", "hard2", NULL};
	     *n; n++)
		MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, d, *n, &root_cred), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, d, "sub", &root_cred), -EISDIR);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, d, "sub", &root_cred), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, "d", &root_cred), 0);
	MH_CHECK_RC(lookup(ROOT, "d", &root_cred, &e), -ENOENT);
}

static void test_namespace(void)
{
	struct proto_mds_entry root, d, again;
	uint64_t file;

	MH_CHECK_RC(lookup(ROOT, ".", &root_cred, &root), 0);
	MH_CHECK(root.attr.ino == ROOT && (root.attr.mode & PROTO_S_IFMT) == PROTO_S_IFDIR);
	MH_CHECK_RC(mkdir_(ROOT, "d", 0777, &root_cred, &d), 0);
	MH_CHECK((d.attr.mode & 07777) == 0777 && d.attr.nlink == 2 && !d.flags);
	MH_CHECK_RC(lookup(ROOT, "d", &root_cred, &again), 0);
	MH_CHECK(again.attr.ino == d.attr.ino && again.attr.gen == d.attr.gen);
	file = test_files(d.attr.ino);
	test_setattr(file);
	test_special(d.attr.ino, file);
	test_rename(d.attr.ino);
	test_xattr(file);
	test_readdir(d.attr.ino);
	test_remove(d.attr.ino);
	printf("ok - namespace: every client opcode\n");
}

/* ---- errors ---- */

static void test_errors(void)
{
	char longname[300];
	struct proto_mds_entry e;
	struct proto_mds_open_rep o;
	struct proto_attr a;

	memset(longname, 'n', 256);
	longname[256] = '\0';
	MH_CHECK_RC(lookup(ROOT, "missing", &root_cred, &e), -ENOENT);
	MH_CHECK_RC(mkdir_(ROOT, "e", 0755, &root_cred, &e), 0);
	MH_CHECK_RC(mkdir_(ROOT, "e", 0755, &root_cred, &e), -EEXIST);
	MH_CHECK_RC(create_(ROOT, "nope", 0644, 0, &user_cred, &o), -EACCES);
	MH_CHECK_RC(mkdir_(ROOT, longname, 0755, &root_cred, &e), -ENAMETOOLONG);
	MH_CHECK_RC(lookup(ROOT, longname, &root_cred, &e), -ENAMETOOLONG);
	MH_CHECK_RC(create_(ROOT, "a/b", 0644, 0, &root_cred, &o), -EINVAL);
	MH_CHECK_RC(mkdir_(ROOT, "..", 0755, &root_cred, &e), -EEXIST);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, ".", &root_cred), -EINVAL);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, ROOT, "e", &root_cred), -EISDIR);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, "e", &user_cred), -EACCES);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, "e", &root_cred), 0);
	/* An inode of shard 3 asked of shard 0: the client's view is stale. */
	MH_CHECK_RC(getattr((3ull << 48) | 5, &a), -EREMOTE);
	MH_CHECK_RC(getattr(987654, &a), -ENOENT);
	printf("ok - errors through the wire\n");
}

/* A request with a raw body; returns the status. */
static int raw(uint16_t op, const void *body, size_t len)
{
	struct rpc_msg *r;
	int rc = mh_call(cli(), op, body, len, &r);

	rpc_msg_free(r);
	return rc;
}

static void test_malformed(void)
{
	uint8_t junk[3] = {1, 2, 3};
	struct proto_attr a;

	MH_CHECK_RC(raw(PROTO_OP_MDS_GETATTR, junk, sizeof(junk)), -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(PROTO_OP_MDS_STATFS, NULL, 0), -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(PROTO_OP_MDS_CREATE, junk, sizeof(junk)), -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(PROTO_OP_ADMIN_OSD_REGISTER, junk, sizeof(junk)), -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(PROTO_OP_ADMIN_STATUS, junk, sizeof(junk)), -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(0x017f, NULL, 0), -EOPNOTSUPP);
	MH_CHECK_RC(raw(0x0250, NULL, 0), -EOPNOTSUPP);
	/* The same connection still serves. */
	MH_CHECK_RC(getattr(ROOT, &a), 0);
	printf("ok - malformed bodies answered, connection kept\n");
}

/* ---- concurrency ---- */

#define CONC_THREADS 4
#define CONC_FILES 150

struct conc {
	uint64_t dir;
	int id;
	int failed;
};

static void *conc_main(void *arg)
{
	struct conc *w = arg;

	for (int i = 0; i < CONC_FILES; i++) {
		char name[32];
		struct proto_mds_create_req q = {
		    .cred = root_cred, .parent = w->dir, .mode = 0644, .flags = PROTO_MDS_O_EXCL};
		struct rpc_msg *r;
		uint8_t b[512];
		struct wire_enc e;

		/* Every thread tries every name: exactly one wins each. */
		snprintf(name, sizeof(name), "n%d", (i + w->id * 37) % CONC_FILES);
		q.name = S(name);
		wire_enc_init(&e, b, sizeof(b));
		proto_mds_create_req_encode(&q, &e);
		int rc = mh_call(cli(), PROTO_OP_MDS_CREATE, b, e.len, &r);

		if (rc != 0 && rc != -EEXIST)
			w->failed = rc;
		rpc_msg_free(r);
	}
	return NULL;
}

static void test_concurrent(void)
{
	static char names[65536];
	struct conc w[CONC_THREADS];
	pthread_t t[CONC_THREADS];
	struct proto_mds_entry d;

	MH_CHECK_RC(mkdir_(ROOT, "conc", 0755, &root_cred, &d), 0);
	for (int i = 0; i < CONC_THREADS; i++) {
		w[i] = (struct conc){.dir = d.attr.ino, .id = i};
		MH_CHECK(pthread_create(&t[i], NULL, conc_main, &w[i]) == 0);
	}
	for (int i = 0; i < CONC_THREADS; i++) {
		pthread_join(t[i], NULL);
		MH_CHECK_RC(w[i].failed, 0);
	}
	MH_CHECK(list_dir(d.attr.ino, 100, false, names, sizeof(names)) == CONC_FILES + 2);
	for (int i = 0; i < CONC_FILES; i++) {
		char needle[32];

		snprintf(needle, sizeof(needle), "/n%d/", i);
		MH_CHECK(strstr(names, needle));
		MH_CHECK(strstr(strstr(names, needle) + 1, needle) == NULL);
	}
	MH_CHECK_RC(getattr(d.attr.ino, &d.attr), 0);
	MH_CHECK(d.attr.size == CONC_FILES);
	printf("ok - %d concurrent creators in one directory\n", CONC_THREADS);
}

/* ---- cluster map ---- */

/* MAP_GET on client c; *pm gets the map if the reply carries one (else empty). */
static int map_get_on(struct rpc_client *c, uint64_t known, uint64_t *epoch, struct proto_map *pm)
{
	struct proto_admin_map_get_req q = {.known_epoch = known};
	struct proto_admin_map_get_rep rep;
	struct rpc_msg *r;
	uint8_t b[16];
	int rc =
	    mh_call(c, PROTO_OP_ADMIN_MAP_GET, b, ENC(proto_admin_map_get_req_encode, &q, b), &r);

	memset(pm, 0, sizeof(*pm));
	if (rc == 0) {
		struct wire_dec d;

		DEC(proto_admin_map_get_rep_decode, r, &rep);
		*epoch = rep.epoch;
		if (rep.map.len) {
			wire_dec_init(&d, rep.map.ptr, rep.map.len);
			MH_CHECK_RC(proto_map_decode(&d, pm), 0);
			MH_CHECK(pm->epoch == rep.epoch);
		}
	}
	rpc_msg_free(r);
	return rc;
}

static int map_get(uint64_t known, uint64_t *epoch, struct proto_map *pm)
{
	return map_get_on(cli(), known, epoch, pm);
}

static uint64_t map_epoch(void)
{
	struct proto_map pm;
	uint64_t epoch = 0;

	MH_CHECK_RC(map_get(0, &epoch, &pm), 0);
	proto_map_free(&pm);
	return epoch;
}

static int status(struct proto_admin_status_rep *out)
{
	struct rpc_msg *r;
	int rc = mh_call(cli(), PROTO_OP_ADMIN_STATUS, NULL, 0, &r);

	if (rc == 0)
		DEC(proto_admin_status_rep_decode, r, out);
	rpc_msg_free(r);
	return rc;
}

static int osd_register(uint32_t id, const char *host, uint64_t cap, uint64_t *epoch)
{
	char addr[32];
	struct proto_admin_osd_register_req q = {
	    .id = id, .host = S(host), .media = PROTO_MEDIA_NVME, .capacity = cap};
	struct proto_admin_epoch_rep rep = {0};
	int rc;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", 7000 + id);
	q.addr = S(addr);
	rc = RPC(PROTO_OP_ADMIN_OSD_REGISTER, proto_admin_osd_register_req_encode, &q,
		 proto_admin_epoch_rep_decode, &rep);
	*epoch = rep.epoch;
	return rc;
}

static int heartbeat(uint32_t id, uint64_t used, uint64_t *epoch)
{
	struct proto_admin_osd_heartbeat_req q = {.id = id, .used = used};
	struct proto_admin_epoch_rep rep = {0};
	int rc = RPC(PROTO_OP_ADMIN_OSD_HEARTBEAT, proto_admin_osd_heartbeat_req_encode, &q,
		     proto_admin_epoch_rep_decode, &rep);

	*epoch = rep.epoch;
	return rc;
}

static int set_in(uint32_t id, bool in, uint64_t *epoch)
{
	struct proto_admin_osd_set_in_req q = {.id = id, .in = in};
	struct proto_admin_epoch_rep rep = {0};
	int rc = RPC(PROTO_OP_ADMIN_OSD_SET_IN, proto_admin_osd_set_in_req_encode, &q,
		     proto_admin_epoch_rep_decode, &rep);

	*epoch = rep.epoch;
	return rc;
}

static int pool_create(const char *name, uint8_t scheme, uint8_t k, uint8_t m, uint32_t chunk,
		       uint32_t *id)
{
	struct proto_admin_pool_create_req q = {.pool = {.name = S(name),
							 .scheme = scheme,
							 .k = k,
							 .m = m,
							 .media = PROTO_MEDIA_SSD,
							 .chunk_size = chunk,
							 .pg_count = 32}};
	struct proto_admin_pool_create_rep rep = {0};
	int rc = RPC(PROTO_OP_ADMIN_POOL_CREATE, proto_admin_pool_create_req_encode, &q,
		     proto_admin_pool_create_rep_decode, &rep);

	*id = rep.pool_id;
	return rc;
}

static struct proto_admin_pool_usage pool_usage[PROTO_MAP_POOLS_MAX];

/* POOL_LIST into pools[0..cap); their usage into pool_usage. */
static int pool_list(struct proto_map_pool *pools, uint32_t cap)
{
	struct proto_admin_pool_list_rep rep = {.cap = cap, .pools = pools, .usage = pool_usage};
	struct rpc_msg *r;
	int rc = mh_call(cli(), PROTO_OP_ADMIN_POOL_LIST, NULL, 0, &r);

	MH_CHECK_RC(rc, 0);
	DEC(proto_admin_pool_list_rep_decode, r, &rep);
	rpc_msg_free(r); /* names point into r: callers only compare ids and shapes */
	return (int)rep.count;
}

static void test_pools(void)
{
	struct proto_map_pool pools[PROTO_MAP_POOLS_MAX];
	struct proto_admin_status_rep st;
	struct proto_map pm;
	uint64_t epoch, e2;
	uint32_t id;

	epoch = map_epoch();
	MH_CHECK(pool_list(pools, PROTO_MAP_POOLS_MAX) == 2);
	MH_CHECK(pools[0].id == 1 && pools[0].scheme == PROTO_SCHEME_EC && pools[0].k == 4);
	MH_CHECK(pools[1].id == 2 && pools[1].scheme == PROTO_SCHEME_REP && pools[1].k == 1);
	MH_CHECK(pools[1].m == 2 && pools[1].chunk_size == 65536);
	MH_CHECK_RC(pool_create("extra", PROTO_SCHEME_EC, 2, 1, 1u << 16, &id), 0);
	MH_CHECK(id == 3);
	MH_CHECK((e2 = map_epoch()) == epoch + 1);
	MH_CHECK_RC(pool_create("extra", PROTO_SCHEME_EC, 2, 1, 1u << 16, &id), -EEXIST);
	/* 8 MiB chunks do not fit the 4 MiB frames of this cairn.conf. */
	MH_CHECK_RC(pool_create("big", PROTO_SCHEME_EC, 2, 1, 8u << 20, &id), -EINVAL);
	MH_CHECK_RC(pool_create("zero", PROTO_SCHEME_EC, 0, 1, 1u << 16, &id), -CAIRN_EBADFRAME);
	MH_CHECK(map_epoch() == e2);
	MH_CHECK(pool_list(pools, PROTO_MAP_POOLS_MAX) == 3);
	MH_CHECK_RC(map_get(0, &epoch, &pm), 0);
	MH_CHECK(pm.nshards == 1 && pm.npools == 3 && pm.nosds == 0);
	MH_CHECK(pm.pools[2].name.len == 5 && memcmp(pm.pools[2].name.ptr, "extra", 5) == 0);
	proto_map_free(&pm);
	MH_CHECK_RC(status(&st), 0);
	MH_CHECK(st.nshards == 1 && st.nosds == 0 && st.npools == 3 && st.epoch == e2);
	MH_CHECK(st.health == PROTO_HEALTH_ERR); /* pools but no OSD to hold data */
	printf("ok - pools from cairn.conf, POOL_CREATE, POOL_LIST, STATUS\n");
}

struct watch {
	struct rpc_client *cli; /* NULL: the harness's */
	uint64_t known, epoch;
	int rc;
	int64_t ms;
	uint32_t nosds;
};

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	int64_t t0 = mh_now_ms();
	struct proto_map pm;

	w->rc = map_get_on(w->cli ? w->cli : cli(), w->known, &w->epoch, &pm);
	w->ms = mh_now_ms() - t0;
	w->nosds = pm.nosds;
	proto_map_free(&pm);
	return NULL;
}

static void test_watch(void)
{
	struct watch w = {.known = map_epoch()};
	struct proto_map pm;
	pthread_t t;
	uint64_t epoch = w.known;

	/* Times out without a change (no OSD yet to go down): same epoch, no map. */
	watch_main(&w);
	MH_CHECK_RC(w.rc, 0);
	MH_CHECK(w.epoch == epoch && w.nosds == 0);
	MH_CHECK(w.ms >= WATCH_MS - 100 && w.ms < WATCH_MS + 1500);
	/* Woken by a change. */
	w = (struct watch){.known = epoch};
	MH_CHECK(pthread_create(&t, NULL, watch_main, &w) == 0);
	usleep(300 * 1000);
	MH_CHECK_RC(osd_register(1, "hosta", 10ull << 30, &epoch), 0);
	pthread_join(t, NULL);
	MH_CHECK_RC(w.rc, 0);
	MH_CHECK(epoch == w.known + 1 && w.epoch == epoch && w.nosds == 1);
	MH_CHECK(w.ms >= 250 && w.ms < WATCH_MS);
	/* An old epoch gets the map at once. */
	MH_CHECK_RC(map_get(epoch - 1, &epoch, &pm), 0);
	MH_CHECK(pm.nosds == 1 && pm.osds[0].id == 1);
	MH_CHECK((pm.osds[0].flags & PROTO_MAP_OSD_IN) && pm.osds[0].weight == 10);
	MH_CHECK(pm.osds[0].capacity == 10ull << 30 && pm.osds[0].host.len == 5);
	proto_map_free(&pm);
	printf("ok - MAP_GET watch: timeout, woken by a change, stale epoch\n");
}

static void test_osds(void)
{
	struct proto_admin_status_rep st;
	struct proto_mds_statfs_rep sf;
	struct proto_mds_ino_req q = {.cred = root_cred, .ino = ROOT};
	uint64_t epoch, e, e2;
	int64_t t0;

	MH_CHECK_RC(heartbeat(1, 0, &e), 0); /* up, whatever the timer did */
	epoch = map_epoch();
	/* Registering again unchanged, or heartbeats: no new epoch. */
	MH_CHECK_RC(osd_register(1, "hosta", 10ull << 30, &e), 0);
	MH_CHECK(e == epoch);
	for (int i = 0; i < 12; i++) { /* 600 ms > osd_down_ms: stays up */
		MH_CHECK_RC(heartbeat(1, 1ull << 30, &e), 0);
		MH_CHECK(e == epoch);
		usleep(50 * 1000);
	}
	MH_CHECK_RC(heartbeat(99, 0, &e), -ENOENT);
	MH_CHECK_RC(status(&st), 0);
	MH_CHECK(st.nosds == 1 && st.osds_up == 1 && st.osds_in == 1);
	MH_CHECK(st.capacity == 10ull << 30 && st.used == 1ull << 30);
	MH_CHECK_RC(RPC(PROTO_OP_MDS_STATFS, proto_mds_ino_req_encode, &q,
			proto_mds_statfs_rep_decode, &sf),
		    0);
	MH_CHECK(sf.blocks == (10ull << 30) / 4096 && sf.bfree == (9ull << 30) / 4096);
	/* Silence: down after osd_down_ms, in one new epoch. */
	t0 = mh_now_ms();
	do {
		usleep(20 * 1000);
		MH_CHECK_RC(status(&st), 0);
	} while (st.osds_up == 1 && mh_now_ms() - t0 < 5000);
	MH_CHECK(st.osds_up == 0 && mh_now_ms() - t0 >= OSD_DOWN_MS - 100);
	MH_CHECK(st.epoch == epoch + 1 && st.health == PROTO_HEALTH_ERR);
	/* A heartbeat brings it back up. */
	MH_CHECK_RC(heartbeat(1, 1ull << 30, &e), 0);
	MH_CHECK(e == epoch + 2);
	MH_CHECK_RC(set_in(1, false, &e2), 0);
	MH_CHECK(e2 == e + 1);
	MH_CHECK_RC(set_in(1, false, &e2), 0);
	MH_CHECK(e2 == e + 1);
	MH_CHECK_RC(set_in(42, true, &e2), -ENOENT);
	MH_CHECK_RC(status(&st), 0);
	MH_CHECK(st.osds_in == 0 && st.capacity == 0);
	printf("ok - OSD register, heartbeat, down after %d ms, up, out\n", OSD_DOWN_MS);
}

static int heartbeat_stats(uint32_t id, const struct proto_admin_scrub_counts *scrub,
			   struct proto_admin_pool_usage *pools, uint32_t npools, uint64_t *epoch)
{
	struct proto_admin_osd_heartbeat_req q = {
	    .id = id, .used = 1ull << 20, .scrub = *scrub, .npools = npools, .pools = pools};
	struct proto_admin_epoch_rep rep = {0};
	int rc = RPC(PROTO_OP_ADMIN_OSD_HEARTBEAT, proto_admin_osd_heartbeat_req_encode, &q,
		     proto_admin_epoch_rep_decode, &rep);

	*epoch = rep.epoch;
	return rc;
}

static int osd_stats(struct proto_admin_osd_stats *osds, uint32_t cap)
{
	struct proto_admin_osd_stats_rep rep = {.cap = cap, .osds = osds};
	struct rpc_msg *r;
	int rc = mh_call(cli(), PROTO_OP_ADMIN_OSD_STATS, NULL, 0, &r);

	MH_CHECK_RC(rc, 0);
	DEC(proto_admin_osd_stats_rep_decode, r, &rep);
	rpc_msg_free(r);
	return (int)rep.count;
}

/* Heartbeat statistics: summed per pool, kept per OSD, no epoch. */
static void test_osd_report(void)
{
	struct proto_admin_pool_usage a[3] = {
	    {.pool_id = 1, .chunks = 6, .logical = 600, .stored = 200},
	    {.pool_id = 3, .chunks = 1, .logical = 10, .stored = 10},
	    {.pool_id = 77, .chunks = 5, .logical = 5, .stored = 5}};
	struct proto_admin_pool_usage b[1] = {
	    {.pool_id = 1, .chunks = 4, .logical = 400, .stored = 100}};
	const struct proto_admin_scrub_counts sa = {
	    .scrubbed = 50, .bad = 3, .repaired = 2, .unrepairable = 1};
	const struct proto_admin_scrub_counts sb = {.scrubbed = 20, .bad = 1, .repaired = 1};
	struct proto_admin_osd_stats osds[8];
	struct proto_map_pool pools[PROTO_MAP_POOLS_MAX];
	struct proto_admin_status_rep st;
	uint64_t epoch, e;
	int n;

	MH_CHECK_RC(osd_register(2, "hostb", 1ull << 30, &e), 0);
	MH_CHECK_RC(osd_register(3, "hostc", 1ull << 30, &epoch), 0);
	MH_CHECK_RC(heartbeat_stats(2, &sa, a, 3, &e), 0);
	MH_CHECK(e == epoch);
	MH_CHECK_RC(heartbeat_stats(3, &sb, b, 1, &e), 0);
	MH_CHECK(e == epoch);
	n = pool_list(pools, PROTO_MAP_POOLS_MAX);
	MH_CHECK(n == 3 && pools[0].id == 1 && pools[2].id == 3);
	MH_CHECK(pool_usage[0].pool_id == 1 && pool_usage[0].chunks == 10 &&
		 pool_usage[0].logical == 1000 && pool_usage[0].stored == 300);
	MH_CHECK(pool_usage[1].chunks == 0 && pool_usage[1].logical == 0 &&
		 pool_usage[1].stored == 0);
	MH_CHECK(pool_usage[2].chunks == 1 && pool_usage[2].stored == 10);
	n = osd_stats(osds, 8);
	MH_CHECK(n == 3 && osds[0].id == 1 && osds[1].id == 2 && osds[2].id == 3);
	MH_CHECK(osds[0].scrub.scrubbed == 0 && osds[1].scrub.bad == 3 &&
		 osds[1].scrub.unrepairable == 1 && osds[2].scrub.repaired == 1);
	MH_CHECK_RC(status(&st), 0);
	MH_CHECK(st.osds_unrepairable == 1 && st.scrub.scrubbed == 70 && st.scrub.bad == 4 &&
		 st.scrub.repaired == 3 && st.scrub.unrepairable == 1);
	MH_CHECK(st.health != PROTO_HEALTH_OK);
	/* The latest heartbeat replaces the previous one. */
	MH_CHECK_RC(heartbeat_stats(2, &sb, b, 1, &e), 0);
	n = pool_list(pools, PROTO_MAP_POOLS_MAX);
	MH_CHECK(pool_usage[0].chunks == 8 && pool_usage[0].logical == 800 &&
		 pool_usage[2].chunks == 0);
	MH_CHECK_RC(status(&st), 0);
	MH_CHECK(st.osds_unrepairable == 0 && st.scrub.unrepairable == 0 && st.epoch == epoch);
	/* Pools out of order, or impossible scrub counts: refused. */
	a[0].pool_id = 4;
	MH_CHECK_RC(heartbeat_stats(2, &sa, a, 2, &e), -CAIRN_EBADFRAME);
	MH_CHECK_RC(heartbeat_stats(2, &(struct proto_admin_scrub_counts){.bad = 1}, b, 1, &e),
		    -CAIRN_EBADFRAME);
	MH_CHECK_RC(raw(PROTO_OP_ADMIN_OSD_STATS, "x", 1), -CAIRN_EBADFRAME);
	printf("ok - heartbeat pool usage and scrub counts: POOL_LIST, OSD_STATS, STATUS\n");
}

/* ---- restarts ---- */

static struct rpc_client *own_client(void)
{
	struct rpc_opts o = rpc_opts_default();
	struct rpc_client *c;
	char addr[64];

	o.key = C.auth;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", C.port[0]);
	MH_CHECK_RC(rpc_client_new(addr, &o, &c), 0);
	return c;
}

/*
 * The OSD registered earlier stops heartbeating here, so the timer may
 * mark it down (a new epoch) at any moment: epochs are checked not to go
 * back, and the map's contents exactly.
 */
static void test_restart(void)
{
	struct proto_mds_open_rep o;
	struct proto_mds_entry e;
	struct proto_map pm;
	uint64_t epoch = map_epoch(), e2;
	uint32_t id;

	/*
	 * SIGTERM: orderly stop, exit 0, everything back.  A MAP_GET waiting
	 * for a new epoch (on a client of its own) is answered at once.
	 */
	MH_CHECK_RC(mkdir_(ROOT, "kept", 0755, &root_cred, &e), 0);
	struct watch w = {.cli = own_client(), .known = epoch};
	pthread_t t;
	int64_t t0;

	MH_CHECK(pthread_create(&t, NULL, watch_main, &w) == 0);
	usleep(200 * 1000);
	t0 = mh_now_ms();
	MH_CHECK_RC(mh_shard_stop(&C, 0, SIGTERM), 0);
	MH_CHECK(mh_now_ms() - t0 < WATCH_MS / 2);
	pthread_join(t, NULL);
	rpc_client_free(w.cli);
	MH_CHECK_RC(w.rc, 0);
	MH_CHECK(w.epoch == epoch && w.ms < 200 + WATCH_MS / 2);
	mh_shard_up(&C, 0);
	MH_CHECK_RC(map_get(0, &e2, &pm), 0);
	/* OSD 1 (out) and OSDs 2 and 3 of test_osd_report. */
	MH_CHECK(e2 >= epoch && pm.npools == 3 && pm.nosds == 3 && pm.nshards == 1);
	MH_CHECK(pm.osds[0].id == 1 && !(pm.osds[0].flags & PROTO_MAP_OSD_IN)); /* still out */
	MH_CHECK(pm.pools[2].id == 3 && pm.pools[2].k == 2 && pm.pools[2].m == 1);
	proto_map_free(&pm);
	MH_CHECK_RC(lookup(ROOT, "kept", &root_cred, &e), 0);

	/* SIGKILL right after acknowledged changes: nothing lost. */
	epoch = e2;
	MH_CHECK_RC(pool_create("late", PROTO_SCHEME_REP, 1, 1, 1u << 16, &id), 0);
	MH_CHECK(id == 4);
	MH_CHECK_RC(create_(e.attr.ino, "file", 0644, PROTO_MDS_O_WRONLY, &root_cred, &o), 0);
	MH_CHECK(WIFSIGNALED(mh_shard_stop(&C, 0, SIGKILL)));
	mh_shard_up(&C, 0);
	MH_CHECK_RC(map_get(0, &e2, &pm), 0);
	MH_CHECK(e2 > epoch && pm.npools == 4 && pm.pools[3].id == 4);
	MH_CHECK(pm.pools[3].scheme == PROTO_SCHEME_REP && pm.pools[3].m == 1);
	proto_map_free(&pm);
	MH_CHECK_RC(lookup(e.attr.ino, "file", &root_cred, &e), 0);
	/* The open count died with the process; CLOSE still publishes. */
	MH_CHECK_RC(publish(PROTO_OP_MDS_CLOSE, o.entry.attr.ino, o.fh, PROTO_MDS_PUB_SIZE, 77, 0,
			    &o.entry.attr),
		    0);
	MH_CHECK(o.entry.attr.size == 77);
	printf("ok - map and namespace survive SIGTERM and SIGKILL restarts\n");
}

static void test_corrupt_map(void)
{
	char path[400];
	FILE *f;
	int c;

	MH_CHECK_RC(mh_shard_stop(&C, 0, SIGTERM), 0);
	snprintf(path, sizeof(path), "%s/mds0/clustermap", C.dir);
	f = fopen(path, "r+");
	MH_CHECK(f != NULL);
	fseek(f, 40, SEEK_SET);
	c = fgetc(f);
	fseek(f, 40, SEEK_SET);
	fputc(c ^ 0x20, f);
	fclose(f);
	MH_CHECK_RC(mh_shard_start(&C, 0, NULL), 2);
	MH_CHECK(mh_log_has(&C, 0, "checksum mismatch"));
	/* Put the byte back: the shard starts again with its map. */
	f = fopen(path, "r+");
	fseek(f, 40, SEEK_SET);
	fputc(c, f);
	fclose(f);
	mh_shard_up(&C, 0);
	MH_CHECK(map_epoch() >= 1);
	printf("ok - a corrupt map file is refused, not replaced\n");
}

static int run_status(const char *binary, const char *a1, const char *a2, const char *a3,
		      const char *a4)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(binary, binary, a1, a2, a3, a4, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_command_line(const char *binary)
{
	MH_CHECK(run_status(binary, "--help", NULL, NULL, NULL) == 0);
	MH_CHECK(run_status(binary, "--version", NULL, NULL, NULL) == 0);
	MH_CHECK(run_status(binary, "-c", C.conf, NULL, NULL) == 1);
	MH_CHECK(run_status(binary, "-c", C.conf, "--shard", "5") == 1);
	MH_CHECK(run_status(binary, "-c", "/nonexistent/cairn.conf", "--shard", "0") == 1);
	MH_CHECK(run_status(binary, "--bogus", NULL, NULL, NULL) == 1);
	MH_CHECK(chmod(C.key, 0644) == 0);
	MH_CHECK(run_status(binary, "-c", C.conf, "--shard", "0") == 1);
	MH_CHECK(chmod(C.key, 0600) == 0);
	printf("ok - command line and exit codes\n");
}

int main(int argc, char **argv)
{
	static const struct mh_conf conf = {
	    .rpc = "  max_frame = \"4M\";",
	    .mds = "  heartbeat_ms = 50;\n  osd_down_ms = 400;",
	    .top = "pools = ( { name = \"default\"; scheme = \"ec:4+2\"; },\n"
		   "          { name = \"fast\"; scheme = \"rep:3\"; chunk_size = \"64K\";\n"
		   "            media = \"ssd\"; } );",
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-cairn-mds\n", argv[0]);
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(100); /* the harness kills its daemons on SIGALRM */
	mh_cluster_init(&C, argv[1], 1, &conf);
	test_command_line(argv[1]);
	mh_shard_up(&C, 0);
	test_namespace();
	test_errors();
	test_malformed();
	test_concurrent();
	test_pools();
	test_watch();
	test_osds();
	test_osd_report();
	test_restart();
	test_corrupt_map();
	MH_CHECK_RC(mh_shard_stop(&C, 0, SIGTERM), 0);
	printf("ok - all\n");
	return 0;
}
