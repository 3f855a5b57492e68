/*
 * test_xshard.c - the cross-shard layer (mds/xshard*.c) and the fsck
 * checker (client/fsck.c) on four real shards in one process: each shard
 * is a real database, a real RPC server on loopback whose handler is the
 * one cairn-mds uses for opcodes 0x0180..0x01df (mds_xshard_handle), and
 * real peer clients.  The coordinators are called the way the daemon's
 * server calls them after ns_* answered -EREMOTE.
 *
 * Covered: remote mkdir and rmdir (ENOTEMPTY undo), cross-shard link
 * (EEXIST undo, EPERM on a directory) and unlink, rename of files and
 * directories between shards with replacement of local and remote targets,
 * NOREPLACE, EXCHANGE, into-own-subtree (EINVAL), the rename lock, an
 * operation left pending by an unreachable shard and finished by the
 * replay once it is back, and fsck finding and repairing each kind of
 * problem.  Crashes at each fault point are in the integration test
 * (tests/integration/test_mds_xshard.c), which needs the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "client/fsck.h"
#include "common/auth.h"
#include "common/cfg.h"
#include "common/rpc.h"
#include "mds/mds.h"
#include "mds/xshard_int.h"
#include "ns_test.h"

#define NSH 4

struct shard {
	struct mds m;
	char path[512];
	int port;
};

struct fx {
	char *dir;
	struct auth_key *key;
	struct rpc_engine *eng;
	struct shard s[NSH];
	struct rpc_client *fsck[NSH];
};

static void handler(void *arg, struct rpc_req *req)
{
	struct mds *m = arg;
	uint16_t op = rpc_req_msg(req)->hdr.opcode;

	if (op >= PROTO_OP_MDS_PEER_FIRST && op <= PROTO_OP_MDS_FSCK_LAST)
		mds_xshard_handle(m, req);
	else
		rpc_reply(req, -EOPNOTSUPP, NULL, 0, NULL, 0, NULL, NULL);
}

static struct rpc_opts opts(struct fx *f)
{
	struct rpc_opts o = rpc_opts_default();

	o.key = f->key;
	o.engine = f->eng;
	o.workers = 2;
	o.timeout_ms = 3000;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 100;
	return o;
}

static int serve(struct fx *f, int i)
{
	struct rpc_opts o = opts(f);
	char addr[64];
	int rc;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->s[i].port);
	rc = rpc_server_start(addr, &o, handler, &f->s[i].m, &f->s[i].m.server);
	if (!rc)
		f->s[i].port = rpc_server_port(f->s[i].m.server);
	return rc;
}

static int client(struct fx *f, int i, struct rpc_client **out)
{
	struct rpc_opts o = opts(f);
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->s[i].port);
	return rpc_client_new(addr, &o, out);
}

/* Only rpc.timeout_ms is read (peer clients are made here): short steps. */
static struct cfg test_cfg;

static int setup(void **state)
{
	static const uint8_t kb[32] = "0123456789abcdef0123456789abcdef";
	struct fx *f = calloc(1, sizeof(*f));

	cfg_defaults(&test_cfg);
	test_cfg.rpc.timeout_ms = 1000;

	if (!f || !(f->dir = mt_tmpdir()) || auth_key_from_bytes(kb, sizeof(kb), &f->key) ||
	    rpc_engine_new(2, &f->eng))
		return -1;
	for (int i = 0; i < NSH; i++) {
		struct mds *m = &f->s[i].m;

		snprintf(f->s[i].path, sizeof(f->s[i].path), "%s/shard%d", f->dir, i);
		m->cfg = &test_cfg;
		m->shard = (uint16_t)i;
		m->nshards = NSH;
		m->key = f->key;
		m->engine = f->eng;
		if (nt_open(f->s[i].path, (uint16_t)i, &m->ns) || serve(f, i))
			return -1;
	}
	for (int i = 0; i < NSH; i++) {
		for (int j = 0; j < NSH; j++)
			if (j != i && client(f, j, &f->s[i].m.peers[j]))
				return -1;
		if (client(f, i, &f->fsck[i]) || mds_xshard_start(&f->s[i].m))
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < NSH; i++) {
		rpc_server_stop(f->s[i].m.server);
		rpc_client_free(f->fsck[i]);
	}
	for (int i = 0; i < NSH; i++) {
		mds_xshard_stop(&f->s[i].m);
		for (int j = 0; j < NSH; j++)
			rpc_client_free(f->s[i].m.peers[j]);
		ns_db_close(f->s[i].m.ns);
	}
	rpc_engine_free(f->eng);
	auth_key_free(f->key);
	if (mt_rmtree(f->dir))
		return -1;
	free(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static struct ns *NS(struct fx *f, uint64_t ino)
{
	return f->s[ns_ino_shard(ino)].m.ns;
}

static struct mds *M(struct fx *f, uint64_t ino)
{
	return &f->s[ns_ino_shard(ino)].m;
}

/* A name in parent whose new directory goes to shard want. */
static void name_for(uint64_t parent, uint16_t want, const char *base, char *out)
{
	for (int i = 0; i < 10000; i++) {
		sprintf(out, "%s%d", base, i);
		if (ns_dir_shard(parent, out, strlen(out), NSH) == want)
			return;
	}
	fail_msg("no name for shard %u", want);
}

/* mkdir parent/name through the coordinator, as the server does. */
static int xmkdir(struct fx *f, uint64_t parent, const char *name, uint64_t *ino)
{
	uint16_t target = ns_dir_shard(parent, name, strlen(name), NSH);
	struct ns_attr a;
	int rc = ns_mkdir(NS(f, parent), &nt_root, parent, N(name), 0755, target, false, &a);

	if (rc == -EREMOTE)
		rc = mds_xshard_mkdir(M(f, parent), &nt_root, parent, N(name), &a, target, false,
				      &a);
	if (!rc && ino)
		*ino = a.ino;
	return rc;
}

/* A directory named base* on shard want, in parent. */
static uint64_t dir_on(struct fx *f, uint64_t parent, uint16_t want, const char *base)
{
	char name[64];
	uint64_t ino = 0;

	name_for(parent, want, base, name);
	assert_int_equal(xmkdir(f, parent, name, &ino), 0);
	assert_int_equal(ns_ino_shard(ino), want);
	return ino;
}

static int xrmdir(struct fx *f, uint64_t parent, const char *name)
{
	struct ns_drop d;
	int rc = ns_rmdir(NS(f, parent), &nt_root, parent, N(name), false, &d);

	if (rc == -EREMOTE)
		rc = mds_xshard_rmdir(M(f, parent), &nt_root, parent, N(name), d.ino, false);
	return rc;
}

static int xunlink(struct fx *f, uint64_t parent, const char *name)
{
	struct ns_drop d;
	int rc = ns_unlink(NS(f, parent), &nt_root, parent, N(name), false, &d);

	if (rc == -EREMOTE)
		rc = mds_xshard_unlink(M(f, parent), &nt_root, parent, N(name), &d, false);
	return rc;
}

static int xlink(struct fx *f, uint64_t ino, uint64_t parent, const char *name, uint32_t *nlink)
{
	struct ns_attr a;
	int rc = -EREMOTE;

	if (ns_ino_shard(ino) == ns_ino_shard(parent))
		rc = ns_link(NS(f, parent), &nt_root, ino, parent, N(name), false, &a);
	if (rc == -EREMOTE)
		rc = mds_xshard_link(M(f, parent), &nt_root, ino, parent, N(name), false, &a);
	if (!rc && nlink)
		*nlink = a.nlink;
	return rc;
}

static int xrename(struct fx *f, uint64_t op, const char *on, uint64_t np, const char *nn,
		   unsigned flags)
{
	int rc = -EREMOTE;

	if (ns_ino_shard(op) == ns_ino_shard(np))
		rc = ns_rename(NS(f, op), &nt_root, op, N(on), np, N(nn), flags, false, NULL);
	if (rc == -EREMOTE)
		rc = mds_xshard_rename(M(f, op), &nt_root, op, N(on), np, N(nn), flags, false);
	return rc;
}

/* The inode parent/name points to (0: none), wherever it lives. */
static uint64_t lookup(struct fx *f, uint64_t parent, const char *name)
{
	uint64_t ino = 0;
	int rc = nt_lookup(NS(f, parent), parent, name, &ino);

	return (rc == 0 || rc == -EREMOTE) ? ino : 0;
}

static struct ns_attr attr(struct fx *f, uint64_t ino)
{
	return nt_get(NS(f, ino), ino);
}

static int count_intent(void *arg, uint64_t op, const void *d, size_t l)
{
	(void)op, (void)d, (void)l;
	(*(int *)arg)++;
	return 0;
}

static int intents(struct fx *f)
{
	int n = 0;

	for (int i = 0; i < NSH; i++)
		assert_int_equal(ns_intent_list(f->s[i].m.ns, count_intent, &n), 0);
	return n;
}

/* fsck reports nothing, no intent is left, and no step result lingers. */
static void assert_clean(struct fx *f)
{
	struct cairn_fsck_report r;
	uint64_t removed;

	assert_int_equal(intents(f), 0);
	assert_int_equal(cairn_fsck_run(f->fsck, NSH, NULL, &r), 0);
	if (cairn_fsck_remaining(&r)) {
		for (int k = 0; k < CAIRN_FSCK_KINDS; k++)
			if (r.remaining[k])
				print_message("fsck: %llu %s\n", (unsigned long long)r.remaining[k],
					      cairn_fsck_kind_name(k));
		fail_msg("fsck found problems");
	}
	for (int i = 0; i < NSH; i++) {
		assert_int_equal(ns_done_gc(f->s[i].m.ns, 0, &removed), 0);
		assert_int_equal(removed, 0); /* done records were forgotten */
	}
}

/* ---- tests ---- */

static void test_mkdir_rmdir(void **state)
{
	struct fx *f = *state;
	uint64_t d, e, file;
	char name[64];

	d = dir_on(f, NS_ROOT_INO, 2, "d");
	assert_int_equal(attr(f, d).parent, NS_ROOT_INO);
	assert_int_equal(attr(f, d).nlink, 2);
	assert_int_equal(attr(f, NS_ROOT_INO).nlink, 3);
	e = dir_on(f, d, 3, "e");
	assert_int_equal(attr(f, e).parent, d);
	assert_int_equal(attr(f, d).nlink, 3);
	name_for(NS_ROOT_INO, 2, "d", name);
	assert_int_equal(xmkdir(f, NS_ROOT_INO, name, NULL), -EEXIST);
	assert_clean(f);

	/* Not empty: refused and undone (the directory takes entries again). */
	file = nt_create(NS(f, e), &nt_root, e, "f", 0644);
	assert_int_equal(xrmdir(f, NS_ROOT_INO, name), -ENOTEMPTY);
	name_for(d, 3, "e", name);
	assert_int_equal(xrmdir(f, d, name), -ENOTEMPTY);
	assert_int_equal(ns_unlink(NS(f, e), &nt_root, e, N("f"), false, NULL), 0);
	assert_int_equal(ns_getattr(NS(f, file), file, &(struct ns_attr){0}), -ENOENT);
	assert_int_equal(xrmdir(f, d, name), 0);
	assert_int_equal(ns_getattr(NS(f, e), e, &(struct ns_attr){0}), -ENOENT);
	assert_int_equal(attr(f, d).nlink, 2);
	assert_int_equal(attr(f, d).size, 0);
	assert_int_equal(xrmdir(f, d, name), -ENOENT);
	assert_clean(f);
}

static void test_link_unlink(void **state)
{
	struct fx *f = *state;
	uint64_t d, file;
	uint32_t nlink = 0;

	d = dir_on(f, NS_ROOT_INO, 1, "d");
	file = nt_create(NS(f, NS_ROOT_INO), &nt_root, NS_ROOT_INO, "f", 0644);
	assert_int_equal(xlink(f, file, d, "l1", &nlink), 0);
	assert_int_equal(nlink, 2);
	assert_int_equal(attr(f, file).nlink, 2);
	assert_true(lookup(f, d, "l1") == file);
	/* Name taken: the link count is raised, then lowered again. */
	nt_create(NS(f, d), &nt_root, d, "taken", 0600);
	assert_int_equal(xlink(f, file, d, "taken", NULL), -EEXIST);
	assert_int_equal(attr(f, file).nlink, 2);
	assert_int_equal(xlink(f, d, dir_on(f, NS_ROOT_INO, 3, "x"), "dl", NULL), -EPERM);
	assert_clean(f);
	/* Unlink the remote entry, then the local one: the file is freed. */
	assert_int_equal(xunlink(f, d, "l1"), 0);
	assert_int_equal(attr(f, file).nlink, 1);
	assert_int_equal(xunlink(f, d, "l1"), -ENOENT);
	assert_int_equal(xunlink(f, NS_ROOT_INO, "f"), 0);
	assert_int_equal(ns_getattr(NS(f, file), file, &(struct ns_attr){0}), -ENOENT);
	assert_clean(f);
}

static void test_rename_files(void **state)
{
	struct fx *f = *state;
	struct ns *ns0 = NS(f, NS_ROOT_INO);
	uint64_t d, a, b, t, r;
	char dn[64];

	name_for(NS_ROOT_INO, 2, "d", dn);
	assert_int_equal(xmkdir(f, NS_ROOT_INO, dn, &d), 0);
	a = nt_create(ns0, &nt_root, NS_ROOT_INO, "a", 0644);
	/* To another shard, new name. */
	assert_int_equal(xrename(f, NS_ROOT_INO, "a", d, "a2", 0), 0);
	assert_true(lookup(f, d, "a2") == a && lookup(f, NS_ROOT_INO, "a") == 0);
	assert_int_equal(attr(f, a).nlink, 1);
	/* Back, replacing a local file of the target shard (freed there). */
	t = nt_create(ns0, &nt_root, NS_ROOT_INO, "t", 0644);
	assert_int_equal(xrename(f, d, "a2", NS_ROOT_INO, "t", 0), 0);
	assert_true(lookup(f, NS_ROOT_INO, "t") == a);
	assert_int_equal(ns_getattr(ns0, t, &(struct ns_attr){0}), -ENOENT);
	/* Replacing a remote file (a link of a file of shard 0, in d). */
	b = nt_create(ns0, &nt_root, NS_ROOT_INO, "b", 0644);
	assert_int_equal(xlink(f, b, d, "bl", NULL), 0);
	r = nt_create(NS(f, d), &nt_root, d, "r", 0644);
	assert_int_equal(xrename(f, d, "r", d, "bl", 0), 0);
	assert_true(lookup(f, d, "bl") == r);
	assert_int_equal(attr(f, b).nlink, 1);
	/* NOREPLACE, EXCHANGE, errors. */
	nt_create(NS(f, d), &nt_root, d, "c", 0644);
	assert_int_equal(xrename(f, NS_ROOT_INO, "t", d, "c", NS_RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(xrename(f, NS_ROOT_INO, "t", d, "none", NS_RENAME_EXCHANGE), -ENOENT);
	assert_int_equal(xrename(f, NS_ROOT_INO, "none", d, "c", 0), -ENOENT);
	assert_int_equal(xrename(f, NS_ROOT_INO, "t", d, "c", NS_RENAME_EXCHANGE), 0);
	assert_true(lookup(f, d, "c") == a && lookup(f, NS_ROOT_INO, "t") != a);
	assert_int_equal(xrename(f, NS_ROOT_INO, dn, d, "c", 0), -ENOTDIR);
	assert_int_equal(xrename(f, d, "c", NS_ROOT_INO, dn, 0), -EISDIR);
	/* Renaming onto another link of the same inode does nothing. */
	assert_int_equal(xlink(f, a, NS_ROOT_INO, "same", NULL), 0);
	assert_int_equal(xrename(f, d, "c", NS_ROOT_INO, "same", 0), 0);
	assert_true(lookup(f, d, "c") == a && lookup(f, NS_ROOT_INO, "same") == a);
	assert_int_equal(attr(f, a).nlink, 2);
	assert_clean(f);
}

static void test_rename_dirs(void **state)
{
	struct fx *f = *state;
	uint64_t p, q, x, sub, deep, t, u;
	char pn[64], xn[64], tn[64], un[64];

	name_for(NS_ROOT_INO, 1, "p", pn);
	assert_int_equal(xmkdir(f, NS_ROOT_INO, pn, &p), 0);
	q = dir_on(f, NS_ROOT_INO, 2, "q");
	name_for(p, 3, "x", xn);
	assert_int_equal(xmkdir(f, p, xn, &x), 0);
	sub = dir_on(f, x, 0, "sub");
	deep = dir_on(f, sub, 2, "deep");
	/* Into its own subtree, walked over three and four shards. */
	assert_int_equal(xrename(f, p, xn, deep, "loop", 0), -EINVAL);
	assert_int_equal(xrename(f, p, xn, x, "self", 0), -EINVAL);
	assert_int_equal(xrename(f, NS_ROOT_INO, pn, deep, "loop", 0), -EINVAL);
	assert_true(lookup(f, p, xn) == x && lookup(f, NS_ROOT_INO, pn) == p);
	/* A valid move: parents and link counts follow. */
	assert_int_equal(xrename(f, p, xn, q, "moved", 0), 0);
	assert_true(lookup(f, q, "moved") == x && lookup(f, p, xn) == 0);
	assert_true(attr(f, x).parent == q);
	assert_int_equal(attr(f, p).nlink, 2);
	assert_int_equal(attr(f, q).nlink, 3);
	/* Over an empty remote directory: it is removed. */
	name_for(p, 0, "t", tn);
	assert_int_equal(xmkdir(f, p, tn, &t), 0);
	assert_int_equal(xrename(f, q, "moved", p, tn, 0), 0);
	assert_int_equal(ns_getattr(NS(f, t), t, &(struct ns_attr){0}), -ENOENT);
	assert_true(lookup(f, p, tn) == x && attr(f, x).parent == p);
	assert_int_equal(attr(f, p).nlink, 3);
	assert_int_equal(attr(f, q).nlink, 2);
	/* Over a non-empty one: refused, everything as before. */
	name_for(q, 3, "u", un);
	assert_int_equal(xmkdir(f, q, un, &u), 0);
	nt_create(NS(f, u), &nt_root, u, "keep", 0644);
	assert_int_equal(xrename(f, p, tn, q, un, 0), -ENOTEMPTY);
	assert_true(lookup(f, q, un) == u && lookup(f, p, tn) == x);
	assert_int_equal(ns_create(NS(f, u), &nt_root, u, N("more"), 0644, NULL, false, NULL), 0);
	/* Exchange of two directories between shards. */
	assert_int_equal(xrename(f, p, tn, q, un, NS_RENAME_EXCHANGE), 0);
	assert_true(lookup(f, q, un) == x && lookup(f, p, tn) == u);
	assert_true(attr(f, x).parent == q && attr(f, u).parent == p);
	/* A directory moved between two parents of one shard, over shards. */
	assert_int_equal(xrename(f, q, un, deep, "x-again", 0), -EINVAL);
	assert_clean(f);
}

/* A shard is down: the op is left pending and the replay finishes it. */
static void test_replay_after_outage(void **state)
{
	struct fx *f = *state;
	char name[64];
	uint64_t d;
	int rc;

	name_for(NS_ROOT_INO, 2, "late", name);
	rpc_server_stop(f->s[2].m.server);
	f->s[2].m.server = NULL;
	{
		uint16_t target = ns_dir_shard(NS_ROOT_INO, name, strlen(name), NSH);
		struct ns_attr a;

		assert_int_equal(ns_mkdir(NS(f, NS_ROOT_INO), &nt_root, NS_ROOT_INO, N(name), 0755,
					  target, false, &a),
				 -EREMOTE);
		rc = mds_xshard_mkdir(&f->s[0].m, &nt_root, NS_ROOT_INO, N(name), &a, target,
				      false, &a);
	}
	assert_int_equal(rc, -EIO);
	assert_int_equal(intents(f), 1);
	assert_int_equal(lookup(f, NS_ROOT_INO, name), 0);
	/* fsck cannot finish without shard 2, and says why. */
	{
		struct cairn_fsck_opts o = {.timeout_ms = 300};
		struct cairn_fsck_report r;

		rc = cairn_fsck_run(f->fsck, NSH, &o, &r);
		assert_true(rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -ECONNRESET);
		assert_int_equal(r.intents, 1); /* shards 0 and 1 were read */
	}
	assert_int_equal(serve(f, 2), 0);
	for (int i = 0; i < 200 && intents(f); i++)
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	assert_int_equal(intents(f), 0);
	d = lookup(f, NS_ROOT_INO, name);
	assert_int_equal(ns_ino_shard(d), 2);
	assert_true(attr(f, d).parent == NS_ROOT_INO);
	assert_clean(f);
}

static void count_problem(void *arg, const struct cairn_fsck_problem *p)
{
	unsigned *n = arg;

	if (p->pass == 0)
		n[p->kind]++;
}

/* Each kind of problem, made by hand, found and repaired. */
static void test_fsck(void **state)
{
	struct fx *f = *state;
	struct ns *ns0 = NS(f, NS_ROOT_INO);
	struct ns_xop x = {.op_id = ns_ino_make(3, 777), .intent = NS_INTENT_KEEP};
	struct cairn_fsck_opts o = {.problem = count_problem};
	struct cairn_fsck_report r;
	struct xs_rec rec = {.kind = XS_MKDIR, .phase = XS_PH_INTENT, .nlen = 5, .name = "stale"};
	uint8_t buf[XS_REC_MAX];
	unsigned seen[CAIRN_FSCK_KINDS] = {0};
	struct ns_attr a;
	uint64_t d, file;
	size_t len;

	d = dir_on(f, NS_ROOT_INO, 2, "d");
	file = nt_create(ns0, &nt_root, NS_ROOT_INO, "f", 0644);
	assert_int_equal(xlink(f, file, d, "fl", NULL), 0);
	assert_clean(f);
	/* dangling: an entry to an inode shard 3 never had */
	assert_int_equal(ns_dentry_link_remote(ns0, NULL, &x, NS_ROOT_INO, N("ghost"),
					       ns_ino_make(3, 4242), S_IFREG, 0, NULL),
			 0);
	/* orphan: a prepared inode never linked */
	x.op_id++;
	assert_int_equal(ns_inode_create_prepared(f->s[1].m.ns, &x, S_IFREG | 0600, 0, 0, 0,
						  NS_ROOT_INO, NULL, &a),
			 0);
	/* nlink, parent */
	assert_int_equal(ns_fsck_set_nlink(ns0, file, 2, 5), 0);
	assert_int_equal(ns_fsck_set_parent(NS(f, d), d, NS_ROOT_INO, file), 0);
	/* a stale pin (no such intent) */
	x.op_id = ns_ino_make(0, 999999);
	assert_int_equal(ns_dentry_pin(ns0, NULL, &x, NS_ROOT_INO, N("f"), file, 0), 0);
	/* a stale intent: a mkdir recorded an hour ago, never driven */
	rec.parent = NS_ROOT_INO;
	rec.mode = S_IFDIR | 0700;
	rec.target_shard = 3;
	rec.start_sec = time(NULL) - 3600;
	len = xs_rec_encode(&rec, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(ns_op_id_new(ns0, &x.op_id), 0);
	assert_int_equal(ns_intent_put(ns0, x.op_id, buf, len, true), 0);

	o.arg = seen;
	assert_int_equal(cairn_fsck_run(f->fsck, NSH, &o, &r), 0);
	assert_int_equal(r.found[CAIRN_FSCK_DANGLING], 1);
	assert_int_equal(r.found[CAIRN_FSCK_ORPHAN], 1);
	assert_int_equal(r.found[CAIRN_FSCK_NLINK], 1);
	assert_int_equal(r.found[CAIRN_FSCK_PARENT], 1);
	assert_int_equal(r.found[CAIRN_FSCK_STALE_PIN], 1);
	assert_int_equal(r.found[CAIRN_FSCK_STALE_INTENT], 1);
	assert_int_equal(seen[CAIRN_FSCK_DANGLING] + seen[CAIRN_FSCK_ORPHAN], 2);
	assert_int_equal(cairn_fsck_remaining(&r), 6);
	assert_int_equal(r.passes, 1);
	/* A young intent is in progress, not a problem. */
	o.stale_sec = 7200;
	assert_int_equal(cairn_fsck_run(f->fsck, NSH, &o, &r), 0);
	assert_int_equal(r.in_progress, 1);
	assert_int_equal(r.found[CAIRN_FSCK_STALE_INTENT], 0);
	/* ... and while one is, repair touches nothing. */
	o.repair = true;
	assert_int_equal(cairn_fsck_run(f->fsck, NSH, &o, &r), 0);
	assert_int_equal(cairn_fsck_remaining(&r), 5);
	for (int k = 0; k < CAIRN_FSCK_KINDS; k++)
		assert_int_equal(r.repaired[k] + r.failed[k], 0);

	o.stale_sec = 0;
	o.repair = true;
	assert_int_equal(cairn_fsck_run(f->fsck, NSH, &o, &r), 0);
	assert_int_equal(cairn_fsck_remaining(&r), 0);
	assert_true(r.passes >= 3); /* intents; the rest; a clean check */
	assert_int_equal(r.repaired[CAIRN_FSCK_STALE_INTENT], 1);
	assert_int_equal(r.repaired[CAIRN_FSCK_DANGLING], 1);
	assert_int_equal(r.repaired[CAIRN_FSCK_ORPHAN], 1);
	assert_true(ns_ino_shard(lookup(f, NS_ROOT_INO, "stale")) == 3);
	assert_int_equal(attr(f, file).nlink, 2);
	assert_true(attr(f, d).parent == NS_ROOT_INO);
	assert_int_equal(ns_unlink(ns0, &nt_root, NS_ROOT_INO, N("f"), false, NULL), 0);
	assert_int_equal(lookup(f, NS_ROOT_INO, "ghost"), 0);
	/* The steps made by hand above left their results: forget them. */
	assert_int_equal(ns_done_forget(ns0, ns_ino_make(3, 777)), 0);
	assert_int_equal(ns_done_forget(f->s[1].m.ns, ns_ino_make(3, 778)), 0);
	assert_clean(f);
	assert_int_equal(cairn_fsck_run(f->fsck, 0, NULL, &r), -EINVAL);
}

/* ---- concurrency ---- */

#define CONC_THREADS 4
#define CONC_OPS 60
#define CONC_DIRS 6

struct conc {
	struct fx *f;
	uint64_t dirs[CONC_DIRS];
	uint32_t seed;
	int id;
	int bad;      /* an errno no caller should see, or 0 */
	unsigned done; /* operations that succeeded */
};

static uint32_t conc_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Errors a racing caller may see; anything else is a failure. */
static bool conc_ok(int rc)
{
	return rc == 0 || rc == -ENOENT || rc == -EEXIST || rc == -ENOTEMPTY || rc == -EBUSY ||
	       rc == -EINVAL || rc == -ENOTDIR || rc == -EISDIR;
}

static void *conc_main(void *arg)
{
	struct conc *c = arg;
	char a[32], b[32];

	for (int i = 0; i < CONC_OPS && !c->bad; i++) {
		uint32_t r = conc_rand(&c->seed);
		uint64_t p = c->dirs[r % CONC_DIRS], q = c->dirs[(r >> 4) % CONC_DIRS];
		int rc;

		snprintf(a, sizeof(a), "n%u", (r >> 8) % 5);
		snprintf(b, sizeof(b), "n%u", (r >> 12) % 5);
		switch ((r >> 16) % 5) {
		case 0:
			rc = xmkdir(c->f, p, a, NULL);
			break;
		case 1:
			rc = xrmdir(c->f, p, a);
			break;
		case 2:
			rc = ns_create(NS(c->f, p), &nt_root, p, N(a), 0644, NULL, false, NULL);
			if (rc == 0 || rc == -EEXIST)
				rc = xlink(c->f, lookup(c->f, p, a) ?: 1, q, b, NULL);
			if (rc == -EPERM) /* it was a directory */
				rc = 0;
			break;
		case 3:
			rc = xunlink(c->f, p, a);
			break;
		default:
			rc = xrename(c->f, p, a, q, b, 0);
			break;
		}
		if (!conc_ok(rc))
			c->bad = rc;
		c->done += rc == 0;
	}
	return NULL;
}

/* Threads racing cross-shard operations on a few directories. */
static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct conc c[CONC_THREADS];
	pthread_t th[CONC_THREADS];
	uint32_t seed = 4242;
	uint64_t dirs[CONC_DIRS];
	unsigned done = 0;

	print_message("seed %u\n", seed);
	for (int i = 0; i < CONC_DIRS; i++) {
		char base[8];

		snprintf(base, sizeof(base), "c%d_", i);
		dirs[i] = dir_on(f, NS_ROOT_INO, (uint16_t)(i % NSH), base);
	}
	for (int t = 0; t < CONC_THREADS; t++) {
		c[t] = (struct conc){.f = f, .seed = seed + (uint32_t)t, .id = t};
		memcpy(c[t].dirs, dirs, sizeof(dirs));
		assert_int_equal(pthread_create(&th[t], NULL, conc_main, &c[t]), 0);
	}
	for (int t = 0; t < CONC_THREADS; t++) {
		pthread_join(th[t], NULL);
		if (c[t].bad)
			fail_msg("thread %d saw %s", t, strerror(-c[t].bad));
		done += c[t].done;
	}
	print_message("%u of %d operations succeeded\n", done, CONC_THREADS * CONC_OPS);
	assert_true(done >= CONC_OPS); /* the mix does make changes */
	assert_clean(f);
}

/* The intent record: round trip, every truncation and bad value refused. */
static void test_intent_record(void **state)
{
	struct xs_rec r = {.kind = XS_RENAME,
			   .phase = XS_PH_FINISH,
			   .flags = XS_RF_LOCK | XS_RF_DROP_REMOTE,
			   .start_sec = 1700000000,
			   .cred_uid = 1000,
			   .cred_gid = 100,
			   .ngroups = 2,
			   .groups = {4, 27},
			   .parent = 1,
			   .nlen = 3,
			   .name = "old",
			   .parent2 = ns_ino_make(2, 77),
			   .nlen2 = 3,
			   .name2 = "new",
			   .ino = ns_ino_make(3, 5),
			   .mode = S_IFDIR | 0755,
			   .ino2 = ns_ino_make(1, 9),
			   .mode2 = S_IFDIR | 0700,
			   .uid2 = 7,
			   .drop_ino = ns_ino_make(1, 9),
			   .drop_mode = S_IFDIR},
		      back;
	uint8_t buf[XS_REC_MAX], bad[XS_REC_MAX + 1];
	uint8_t kind, phase;
	int64_t start;
	size_t len;

	(void)state;
	len = xs_rec_encode(&r, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(xs_rec_decode(buf, len, &back), 0);
	assert_int_equal(xs_rec_encode(&back, bad, sizeof(bad)), len);
	assert_memory_equal(bad, buf, len);
	assert_true(back.ino2 == r.ino2 && back.groups[1] == 27 && back.nlen2 == 3);
	assert_memory_equal(back.name2, "new", 3);
	assert_int_equal(mds_xshard_intent_info(buf, len, &kind, &phase, &start), 0);
	assert_true(kind == XS_RENAME && phase == XS_PH_FINISH && start == 1700000000);
	for (size_t t = 0; t < len; t++)
		assert_int_equal(xs_rec_decode(buf, t, &back), -EINVAL);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(xs_rec_decode(bad, len + 1, &back), -EINVAL);
	bad[0] = 2; /* unknown format */
	assert_int_equal(xs_rec_decode(bad, len, &back), -EINVAL);
	r.kind = 9;
	assert_int_equal(xs_rec_decode(buf, xs_rec_encode(&r, buf, sizeof(buf)), &back), -EINVAL);
	r.kind = XS_RENAME;
	r.phase = 0;
	assert_int_equal(xs_rec_decode(buf, xs_rec_encode(&r, buf, sizeof(buf)), &back), -EINVAL);
	r.phase = XS_PH_FINISH;
	r.nlen2 = 0;
	assert_int_equal(xs_rec_decode(buf, xs_rec_encode(&r, buf, sizeof(buf)), &back), -EINVAL);
	r.nlen2 = 3;
	r.kind = XS_LINK; /* a link needs its undo op id */
	assert_int_equal(xs_rec_decode(buf, xs_rec_encode(&r, buf, sizeof(buf)), &back), -EINVAL);
	assert_int_equal(mds_xshard_intent_info("x", 1, &kind, &phase, &start), -EINVAL);
	assert_int_equal(xs_rec_encode(&r, buf, 10), 0); /* does not fit */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_mkdir_rmdir),  T(test_link_unlink),	       T(test_rename_files),
	    T(test_rename_dirs),  T(test_replay_after_outage), T(test_fsck),
	    T(test_concurrent),	  cmocka_unit_test(test_intent_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
