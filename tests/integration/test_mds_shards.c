/*
 * test_mds_shards.c - four cairn-mds shards on loopback, driven through
 * the RPC client and the proto codecs, each request routed as libcairn
 * does (by the parent's or the inode's shard, ino >> 48).
 *
 * Covers: directories spread over the shards; files created on shards
 * other than 0 (their default layout comes from shard 0, which answers
 * even while shard 0 is down once fetched); lookups of entries whose inode
 * lives elsewhere (full attributes); readdir of a directory with remote
 * entries; cross-shard file and directory renames, the subtree check,
 * hard links across shards and their unlink, rmdir of a remote directory;
 * STATFS summed over the shards; -EREMOTE for a request sent to the wrong
 * shard; a SIGKILL of a shard followed by its restart.
 *
 * Usage: test_mds_shards PATH-TO-cairn-mds.  Exit 77 (skip) without
 * loopback TCP.  Deterministic: names are numbered.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "mds_harness.h"
#include "proto/mds.h"

#define SHARDS 4
#define DIRS 24
#define FILES 4
#define ROOT 1ull

static struct mh_cluster C;
static const struct proto_cred root_cred = {0};

static int shard_of(uint64_t ino)
{
	return (int)(ino >> 48);
}

static struct proto_str S(const char *s) {
	return (struct proto_str){s, (uint16_t)strlen(s)};
}

/* One call to shard; decodes a non-empty reply with dec into out. */
static int
call(int shard, uint16_t op, const uint8_t *body, size_t len, int (*dec)(struct wire_dec *, void *),
     void *out)
{
	struct rpc_msg *r;
	int rc = mh_call(mh_client(&C, shard), op, body, len, &r);

	if (rc == 0 && dec) {
		struct wire_dec d;

		wire_dec_init(&d, r->body, r->body_len);
		if (dec(&d, out))
			mh_fail("opcode %#x: reply of shard %d does not decode", op, shard);
	} else if (rc == 0 && r->body_len) {
		mh_fail("opcode %#x: unexpected reply body", op);
	}
	rpc_msg_free(r);
	return rc;
}

#define ENCODE(fn, m, buf)                                                                         \
	({                                                                                         \
		struct wire_enc e_;                                                                \
		wire_enc_init(&e_, (buf), sizeof(buf));                                            \
		MH_CHECK((fn)((m), &e_) == 0);                                                     \
		e_.len;                                                                            \
	})

#define DECODER(fn) ((int (*)(struct wire_dec *, void *))(fn))

static int lookup(uint64_t parent, const char *name, struct proto_mds_entry *out)
{
	struct proto_mds_lookup_req q = {.cred = root_cred, .parent = parent, .name = S(name)};
	uint8_t b[512];

	return call(shard_of(parent), PROTO_OP_MDS_LOOKUP, b,
		    ENCODE(proto_mds_lookup_req_encode, &q, b), DECODER(proto_mds_entry_decode),
		    out);
}

static int mkdir_(uint64_t parent, const char *name, struct proto_mds_entry *out)
{
	struct proto_mds_mkdir_req q = {
	    .cred = root_cred, .parent = parent, .name = S(name), .mode = 0755};
	uint8_t b[512];

	return call(shard_of(parent), PROTO_OP_MDS_MKDIR, b,
		    ENCODE(proto_mds_mkdir_req_encode, &q, b), DECODER(proto_mds_entry_decode),
		    out);
}

/* Creates and closes a file; returns its entry in *out. */
static int create_(uint64_t parent, const char *name, struct proto_mds_entry *out)
{
	struct proto_mds_create_req q = {.cred = root_cred,
					 .parent = parent,
					 .name = S(name),
					 .mode = 0644,
					 .flags = PROTO_MDS_O_EXCL};
	struct proto_mds_publish_req c = {.cred = root_cred};
	struct proto_mds_open_rep o;
	struct proto_mds_attr_rep a;
	uint8_t b[512];
	int rc = call(shard_of(parent), PROTO_OP_MDS_CREATE, b,
		      ENCODE(proto_mds_create_req_encode, &q, b),
		      DECODER(proto_mds_open_rep_decode), &o);

	if (rc)
		return rc;
	*out = o.entry;
	c.ino = o.entry.attr.ino;
	c.fh = o.fh;
	return call(shard_of(c.ino), PROTO_OP_MDS_CLOSE, b,
		    ENCODE(proto_mds_publish_req_encode, &c, b), DECODER(proto_mds_attr_rep_decode),
		    &a);
}

static int getattr_on(int shard, uint64_t ino, struct proto_attr *out)
{
	struct proto_mds_getattr_req q = {.cred = root_cred, .ino = ino};
	struct proto_mds_attr_rep rep;
	uint8_t b[512];
	int rc = call(shard, PROTO_OP_MDS_GETATTR, b, ENCODE(proto_mds_getattr_req_encode, &q, b),
		      DECODER(proto_mds_attr_rep_decode), &rep);

	if (!rc && out)
		*out = rep.attr;
	return rc;
}

static int rename_(uint64_t p, const char *n, uint64_t np, const char *nn)
{
	struct proto_mds_rename_req q = {
	    .cred = root_cred, .parent = p, .name = S(n), .new_parent = np, .new_name = S(nn)};
	uint8_t b[1024];

	return call(shard_of(p), PROTO_OP_MDS_RENAME, b, ENCODE(proto_mds_rename_req_encode, &q, b),
		    NULL, NULL);
}

static int remove_(uint16_t op, uint64_t parent, const char *name)
{
	struct proto_mds_unlink_req q = {.cred = root_cred, .parent = parent, .name = S(name)};
	uint8_t b[512];

	return call(shard_of(parent), op, b, ENCODE(proto_mds_unlink_req_encode, &q, b), NULL,
		    NULL);
}

static int link_(uint64_t ino, uint64_t np, const char *name, struct proto_mds_entry *out)
{
	struct proto_mds_link_req q = {
	    .cred = root_cred, .ino = ino, .new_parent = np, .new_name = S(name)};
	uint8_t b[512];

	return call(shard_of(np), PROTO_OP_MDS_LINK, b, ENCODE(proto_mds_link_req_encode, &q, b),
		    DECODER(proto_mds_entry_decode), out);
}

/* Entries of dir (all pages); *with_attr counts those carrying attributes. */
static int count_entries(uint64_t dir, int *with_attr)
{
	static struct proto_mds_dirent ents[PROTO_MDS_READDIR_MAX];
	struct proto_mds_readdir_req q = {
	    .cred = root_cred, .ino = dir, .max_entries = 7, .flags = PROTO_MDS_READDIR_PLUS};
	int n = 0;

	*with_attr = 0;
	for (;;) {
		struct proto_mds_readdir_rep rep = {.cap = PROTO_MDS_READDIR_MAX, .entries = ents};
		uint8_t b[512];

		MH_CHECK_RC(call(shard_of(dir), PROTO_OP_MDS_READDIR, b,
				 ENCODE(proto_mds_readdir_req_encode, &q, b),
				 DECODER(proto_mds_readdir_rep_decode), &rep),
			    0);
		for (uint32_t i = 0; i < rep.count; i++) {
			n++;
			*with_attr += (ents[i].flags & PROTO_MDS_DIRENT_ATTR) != 0;
			q.cookie = ents[i].cookie;
		}
		if (rep.flags & PROTO_MDS_READDIR_EOF)
			return n;
	}
}

static uint64_t dirs[DIRS];
static int gone = -1; /* index of the directory test_cross() removes */

static void test_spread(void)
{
	int per_shard[SHARDS] = {0}, used = 0, with_attr;
	char name[32];

	for (int i = 0; i < DIRS; i++) {
		struct proto_mds_entry e, l;

		snprintf(name, sizeof(name), "dir%02d", i);
		MH_CHECK_RC(mkdir_(ROOT, name, &e), 0);
		MH_CHECK((e.attr.mode & PROTO_S_IFMT) == PROTO_S_IFDIR && e.attr.nlink == 2);
		dirs[i] = e.attr.ino;
		per_shard[shard_of(e.attr.ino)]++;
		/* Looked up from the root's shard: full attributes, wherever it lives. */
		MH_CHECK_RC(lookup(ROOT, name, &l), 0);
		MH_CHECK(l.attr.ino == e.attr.ino && l.attr.gen == e.attr.gen);
		MH_CHECK((l.attr.mode & PROTO_S_IFMT) == PROTO_S_IFDIR);
	}
	for (int s = 0; s < SHARDS; s++)
		used += per_shard[s] > 0;
	MH_CHECK(used >= 3);
	MH_CHECK(count_entries(ROOT, &with_attr) == DIRS + 2);
	for (int i = 0; i < DIRS; i++) {
		for (int f = 0; f < FILES; f++) {
			struct proto_mds_entry e;

			snprintf(name, sizeof(name), "f%d", f);
			MH_CHECK_RC(create_(dirs[i], name, &e), 0);
			/* Files live on their directory's shard, in the default pool. */
			MH_CHECK(shard_of(e.attr.ino) == shard_of(dirs[i]));
			MH_CHECK((e.flags & PROTO_MDS_ENTRY_LAYOUT) && e.layout.pool_id == 1);
			MH_CHECK(e.layout.k == 4 && e.layout.m == 2);
		}
		MH_CHECK(count_entries(dirs[i], &with_attr) == FILES + 2);
		MH_CHECK(with_attr >= FILES + 1); /* "." and the files at least */
	}
	printf("ok - %d directories over %d shards, %d files each\n", DIRS, used, FILES);
}

/* Index >= 2 of a directory on a shard other than s, not index skip. */
static int dir_not_on(int s, int skip)
{
	for (int i = 2; i < DIRS; i++)
		if (shard_of(dirs[i]) != s && i != skip)
			return i;
	mh_fail("every directory is on shard %d", s);
}

static void test_cross(void)
{
	int a = dir_not_on(0, -1), b = dir_not_on(shard_of(dirs[a]), a);
	struct proto_mds_entry e, l;
	struct proto_attr at;
	char name[16];

	/* A file from a directory of one shard to one of another. */
	MH_CHECK_RC(lookup(dirs[a], "f0", &e), 0);
	MH_CHECK_RC(rename_(dirs[a], "f0", dirs[b], "moved"), 0);
	MH_CHECK_RC(lookup(dirs[a], "f0", &l), -ENOENT);
	MH_CHECK_RC(lookup(dirs[b], "moved", &l), 0);
	MH_CHECK(l.attr.ino == e.attr.ino && shard_of(l.attr.ino) == shard_of(dirs[a]));
	/* A hard link in a directory of another shard, then its removal. */
	MH_CHECK_RC(link_(e.attr.ino, dirs[b], "hard", &l), 0);
	MH_CHECK(l.attr.nlink == 2);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, dirs[b], "hard"), 0);
	MH_CHECK_RC(getattr_on(shard_of(e.attr.ino), e.attr.ino, &at), 0);
	MH_CHECK(at.nlink == 1);
	/* A directory under another and back; never into its own subtree. */
	MH_CHECK_RC(rename_(ROOT, "dir00", dirs[b], "sub"), 0);
	MH_CHECK_RC(lookup(dirs[b], "sub", &l), 0);
	MH_CHECK(l.attr.ino == dirs[0]);
	MH_CHECK_RC(lookup(ROOT, "dir00", &l), -ENOENT);
	MH_CHECK_RC(rename_(dirs[b], "sub", ROOT, "dir00"), 0);
	MH_CHECK_RC(rename_(ROOT, "dir00", dirs[0], "self"), -EINVAL);
	snprintf(name, sizeof(name), "dir%02d", b);
	MH_CHECK_RC(rename_(ROOT, "dir00", dirs[b], "sub"), 0);
	MH_CHECK_RC(rename_(ROOT, name, dirs[0], "loop"), -EINVAL);
	MH_CHECK_RC(rename_(dirs[b], "sub", ROOT, "dir00"), 0);
	/* rmdir of a directory of another shard, once empty. */
	snprintf(name, sizeof(name), "dir%02d", a);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, name), -ENOTEMPTY);
	for (int f = 1; f < FILES; f++) {
		char fname[8];

		snprintf(fname, sizeof(fname), "f%d", f);
		MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, dirs[a], fname), 0);
	}
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, ROOT, name), 0);
	gone = a;
	MH_CHECK_RC(lookup(ROOT, name, &l), -ENOENT);
	MH_CHECK_RC(getattr_on(shard_of(dirs[a]), dirs[a], &at), -ENOENT);
	printf("ok - cross-shard rename, link, unlink, rmdir\n");
}

static void test_routing(void)
{
	struct proto_mds_ino_req q = {.cred = root_cred, .ino = ROOT};
	uint64_t inodes = 0, blocks = 0;
	struct proto_attr at;
	uint8_t b[512];
	int other = dir_not_on(0, gone);

	MH_CHECK_RC(getattr_on((shard_of(dirs[other]) + 1) % SHARDS, dirs[other], &at), -EREMOTE);
	MH_CHECK_RC(call(1, PROTO_OP_ADMIN_STATUS, NULL, 0, NULL, NULL), -EREMOTE);
	for (int s = 0; s < SHARDS; s++) {
		struct proto_mds_statfs_rep st;

		MH_CHECK_RC(call(s, PROTO_OP_MDS_STATFS, b, ENCODE(proto_mds_ino_req_encode, &q, b),
				 DECODER(proto_mds_statfs_rep_decode), &st),
			    0);
		inodes += st.files - st.ffree;
		blocks += st.blocks;
	}
	/* The root, the directories and files, less one directory and 3 files. */
	MH_CHECK(inodes == 1 + DIRS + DIRS * FILES - 1 - (FILES - 1));
	MH_CHECK(blocks == 0); /* no OSD yet */
	printf("ok - EREMOTE for the wrong shard, STATFS over %d shards\n", SHARDS);
}

static void test_restart(void)
{
	int k = dir_not_on(0, gone), s = shard_of(dirs[k]);
	struct proto_mds_entry e;

	/* Shard 0 down: other shards still create files (default pool known). */
	MH_CHECK(mh_shard_stop(&C, 0, SIGTERM) == 0);
	MH_CHECK_RC(create_(dirs[k], "while0down", &e), 0);
	mh_shard_up(&C, 0);
	/* SIGKILL of a shard: its files are there after the restart. */
	MH_CHECK(WIFSIGNALED(mh_shard_stop(&C, s, SIGKILL)));
	mh_shard_up(&C, s);
	MH_CHECK_RC(lookup(dirs[k], "while0down", &e), 0);
	MH_CHECK_RC(create_(dirs[k], "after", &e), 0);
	MH_CHECK(e.layout.pool_id == 1);
	printf("ok - shard restarts\n");
}

int main(int argc, char **argv)
{
	static const struct mh_conf conf = {
	    .top = "pools = ( { name = \"default\"; scheme = \"ec:4+2\"; } );",
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-cairn-mds\n", argv[0]);
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(100);
	mh_cluster_init(&C, argv[1], SHARDS, &conf);
	/* Shard 0 last: the others must come up without it. */
	for (int s = SHARDS - 1; s >= 0; s--)
		mh_shard_up(&C, s);
	test_spread();
	test_cross();
	test_routing();
	test_restart();
	for (int s = 0; s < SHARDS; s++)
		MH_CHECK(mh_shard_stop(&C, s, SIGTERM) == 0);
	printf("ok - all\n");
	return 0;
}
