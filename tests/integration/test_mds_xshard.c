/*
 * test_mds_xshard.c - operations across metadata shards on four real
 * cairn-mds-faulty processes over loopback, driven with the client
 * messages of proto/mds.h, and a SIGKILL of the coordinating shard at
 * every crash point of mds/xshard*.c.
 *
 * Usage: test_mds_xshard PATH-TO-cairn-mds-faulty GROUP [SOURCE-ROOT]
 *   basic     cross-shard mkdir, rmdir, link, unlink, rename of files and
 *             directories, replace, NOREPLACE, EXCHANGE, into-own-subtree
 *             (EINVAL) across shards; fsck clean after each step
 *   mkdir, rmdir, link, rename, rename2
 *             one scenario per crash point of that group: the coordinator
 *             is restarted with CAIRN_FAULT=<point>, the operation is
 *             issued, the coordinator must die there (SIGKILL), it is
 *             restarted without the fault, its replay must end, and then
 *             the namespace must hold the operation fully done (a crash on
 *             the way forward) or fully undone (a crash while undoing),
 *             and fsck must report no problem at all.  Points on an undo
 *             path the client cannot reach directly are reached during a
 *             replay: crash after the remote step, stop the peer, restart
 *             the coordinator with the undo point armed, take the name
 *             meanwhile, bring the peer back.
 *   coverage  every fault_point("xshard_...") in SOURCE-ROOT/mds/xshard*.c
 *             has a scenario here, and every scenario names a real point
 * Exit 77 (skip) when the binary is missing or loopback TCP is unavailable.
 * Daemons are stopped by pid only (the harness: SIGTERM, SIGKILL after a
 * timeout, also at exit and on failure).  Deterministic: names are
 * numbered, no randomness.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/fsck.h"
#include "common/error.h"
#include "mds/ns.h"
#include "mds_harness.h"
#include "proto/fsck.h"
#include "proto/mds.h"

#define NSH 4
#define ROOT 1ull
#define DEATH_MS 30000
#define REPLAY_MS 30000

static struct mh_cluster C;
static const struct proto_cred root_cred = {0};
static unsigned seq; /* numbers every name this run makes */

static struct proto_str S(const char *s)
{
	return (struct proto_str){s, (uint16_t)strlen(s)};
}

static int shard_of(uint64_t ino)
{
	return (int)(ino >> 48);
}

/* ---- one request ---- */

typedef int (*enc_fn)(const void *m, struct wire_enc *e);
typedef int (*dec_fn)(struct wire_dec *d, void *m);

static int call(int shard, uint16_t op, enc_fn enc, const void *q, dec_fn dec, void *out)
{
	uint8_t b[4096];
	struct wire_enc e;
	struct wire_dec d;
	struct rpc_msg *r = NULL;
	size_t len;
	int rc;

	wire_enc_init(&e, b, sizeof(b));
	MH_CHECK(enc(q, &e) == 0 && wire_enc_finish(&e, &len) == 0);
	rc = mh_call(mh_client(&C, shard), op, b, len, &r);
	if (rc == 0 && dec) {
		wire_dec_init(&d, r->body, r->body_len);
		if (dec(&d, out))
			mh_fail("reply to %#x from shard %d does not decode", op, shard);
	}
	rpc_msg_free(r);
	return rc;
}

#define WRAP(T)                                                                                    \
	static int T##_enc(const void *m, struct wire_enc *e)                                      \
	{                                                                                          \
		return proto_mds_##T##_encode(m, e);                                               \
	}
#define WRAPD(T)                                                                                   \
	static int T##_dec(struct wire_dec *d, void *m)                                            \
	{                                                                                          \
		return proto_mds_##T##_decode(d, m);                                               \
	}
WRAP(lookup_req)
WRAP(getattr_req)
WRAP(mkdir_req)
WRAP(mknod_req)
WRAP(unlink_req)
WRAP(rename_req)
WRAP(link_req)
WRAPD(entry)
WRAPD(attr_rep)

static int fsck_scan_enc(const void *m, struct wire_enc *e)
{
	return proto_fsck_scan_req_encode(m, e);
}

static int fsck_intents_dec(struct wire_dec *d, void *m)
{
	return proto_fsck_scan_intents_rep_decode(d, m);
}

/* ---- namespace operations, each sent where the client would send it ---- */

static int lookup(uint64_t parent, const char *name, struct proto_attr *out)
{
	struct proto_mds_lookup_req q = {.cred = root_cred, .parent = parent, .name = S(name)};
	struct proto_mds_entry e;
	int rc = call(shard_of(parent), PROTO_OP_MDS_LOOKUP, lookup_req_enc, &q, entry_dec, &e);

	if (!rc && out)
		*out = e.attr;
	return rc;
}

/* The inode parent/name points to, or 0. */
static uint64_t ino_of(uint64_t parent, const char *name)
{
	struct proto_attr a;

	return lookup(parent, name, &a) == 0 ? a.ino : 0;
}

static int getattr(uint64_t ino, struct proto_attr *out)
{
	struct proto_mds_getattr_req q = {.cred = root_cred, .ino = ino};
	struct proto_mds_attr_rep r;
	int rc = call(shard_of(ino), PROTO_OP_MDS_GETATTR, getattr_req_enc, &q, attr_rep_dec, &r);

	if (!rc && out)
		*out = r.attr;
	return rc;
}

static struct proto_attr attr(uint64_t ino)
{
	struct proto_attr a;

	MH_CHECK_RC(getattr(ino, &a), 0);
	return a;
}

static int mkdir_(uint64_t parent, const char *name, uint64_t *ino)
{
	struct proto_mds_mkdir_req q = {.cred = root_cred, .parent = parent, .name = S(name),
					.mode = 0755};
	struct proto_mds_entry e;
	int rc = call(shard_of(parent), PROTO_OP_MDS_MKDIR, mkdir_req_enc, &q, entry_dec, &e);

	if (!rc && ino)
		*ino = e.attr.ino;
	return rc;
}

static int mknod_(uint64_t parent, const char *name, uint64_t *ino)
{
	struct proto_mds_mknod_req q = {.cred = root_cred, .parent = parent, .name = S(name),
					.mode = PROTO_S_IFREG | 0644};
	struct proto_mds_entry e;
	int rc = call(shard_of(parent), PROTO_OP_MDS_MKNOD, mknod_req_enc, &q, entry_dec, &e);

	if (!rc && ino)
		*ino = e.attr.ino;
	return rc;
}

static int remove_(uint16_t op, uint64_t parent, const char *name)
{
	struct proto_mds_unlink_req q = {.cred = root_cred, .parent = parent, .name = S(name)};

	return call(shard_of(parent), op, unlink_req_enc, &q, NULL, NULL);
}

static int rename_(uint64_t p, const char *n, uint64_t np, const char *nn, uint32_t flags)
{
	struct proto_mds_rename_req q = {.cred = root_cred, .parent = p, .name = S(n),
					 .new_parent = np, .new_name = S(nn), .flags = flags};

	return call(shard_of(p), PROTO_OP_MDS_RENAME, rename_req_enc, &q, NULL, NULL);
}

static int link_(uint64_t ino, uint64_t np, const char *nn)
{
	struct proto_mds_link_req q = {.cred = root_cred, .ino = ino, .new_parent = np,
				       .new_name = S(nn)};
	struct proto_mds_entry e;

	return call(shard_of(np), PROTO_OP_MDS_LINK, link_req_enc, &q, entry_dec, &e);
}

/* A fresh name in parent whose new directory would go to shard want. */
static void name_for(uint64_t parent, int want, const char *base, char *out, size_t len)
{
	for (int i = 0; i < 100000; i++) {
		snprintf(out, len, "%s%u_%d", base, seq, i);
		if (ns_dir_shard(parent, out, strlen(out), NSH) == want)
			break;
	}
	seq++;
}

/* A new directory on shard want, in parent; its name goes to name. */
static uint64_t dir_on(uint64_t parent, int want, char *name, size_t len)
{
	uint64_t ino = 0;

	name_for(parent, want, "d", name, len);
	MH_CHECK_RC(mkdir_(parent, name, &ino), 0);
	MH_CHECK(shard_of(ino) == want);
	return ino;
}

static uint64_t file_in(uint64_t parent, char *name, size_t len)
{
	uint64_t ino = 0;

	snprintf(name, len, "f%u", seq++);
	MH_CHECK_RC(mknod_(parent, name, &ino), 0);
	return ino;
}

/* ---- cluster-wide checks ---- */

static int intents_on(int shard)
{
	struct proto_fsck_intent items[64];
	struct proto_fsck_scan_req q = {.max = 64};
	struct proto_fsck_scan_intents_rep r = {.cap = 64, .items = items};
	int rc = call(shard, PROTO_OP_MDS_FSCK_SCAN_INTENTS, fsck_scan_enc, &q, fsck_intents_dec,
		      &r);

	return rc ? rc : (int)r.count;
}

static void wait_no_intents(int shard)
{
	int64_t end = mh_now_ms() + REPLAY_MS;
	int n;

	while ((n = intents_on(shard)) != 0) {
		if (mh_now_ms() > end)
			mh_fail("shard %d still has %d pending intent(s) (%s)", shard, n,
				mh_err(n < 0 ? n : 0));
		usleep(20000);
	}
}

static void print_problem(void *arg, const struct cairn_fsck_problem *p)
{
	(void)arg;
	fprintf(stderr, "fsck: pass %u shard %u %s ino %#llx parent %#llx name %.*s "
			"expected %llu found %llu op %#llx\n",
		p->pass, p->shard, cairn_fsck_kind_name(p->kind), (unsigned long long)p->ino,
		(unsigned long long)p->parent, (int)p->nlen, p->name ? p->name : "",
		(unsigned long long)p->expected, (unsigned long long)p->found,
		(unsigned long long)p->op_id);
}

/* No intent anywhere and fsck finds nothing at all. */
static void assert_clean(const char *when)
{
	struct rpc_client *cli[NSH];
	struct cairn_fsck_opts o = {.problem = print_problem, .timeout_ms = 8000};
	struct cairn_fsck_report r;

	for (int i = 0; i < NSH; i++) {
		wait_no_intents(i);
		cli[i] = mh_client(&C, i);
	}
	MH_CHECK_RC(cairn_fsck_run(cli, NSH, &o, &r), 0);
	if (cairn_fsck_remaining(&r) || r.in_progress)
		mh_fail("%s: fsck found %llu problem(s), %llu in progress", when,
			(unsigned long long)cairn_fsck_remaining(&r),
			(unsigned long long)r.in_progress);
}

/* ---- crashes ---- */

static char fault_env[128];

static void restart(int shard, const char *fault)
{
	char *env[] = {fault_env, NULL};
	int rc;

	if (C.pid[shard] > 0)
		MH_CHECK_RC(mh_shard_stop(&C, shard, SIGTERM), 0); /* orderly, no leak */
	snprintf(fault_env, sizeof(fault_env), "CAIRN_FAULT=%s", fault ? fault : "");
	rc = mh_shard_start(&C, shard, env);
	if (rc)
		mh_fail("shard %d exited at start (status %#x)", shard, rc);
}

/* The shard reached the point and killed itself: reap it. */
static void wait_death(int shard, const char *point)
{
	char line[160];
	int64_t end = mh_now_ms() + DEATH_MS;
	int status;

	snprintf(line, sizeof(line), "fault point '%s' reached", point);
	while (!mh_log_has(&C, shard, line)) {
		if (mh_now_ms() > end)
			mh_fail("shard %d never reached %s", shard, point);
		usleep(10000);
	}
	/* It raises SIGKILL right after the log line; ours changes nothing. */
	status = mh_shard_stop(&C, shard, SIGKILL);
	MH_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* ---- scenarios: one per crash point ---- */

struct sc {
	const char *point;
	const char *group;
	void (*prepare)(struct sc *s);
	int (*op)(struct sc *s);
	void (*check)(struct sc *s);	/* after the replay */
	const char *first;		/* undo trick: crash here first ... */
	int (*conflict)(struct sc *s);	/* ... take the name while peer is down */
	/* fixture, set by prepare */
	int coord, peer;
	uint64_t p, q, x, t, y;
	char pn[64], qn[64], xn[64], tn[64], yn[64];
	uint32_t p_nlink, q_nlink;
};

/* mkdir P/xn with the directory on another shard. */
static void prep_mkdir(struct sc *s)
{
	s->p = dir_on(ROOT, 1, s->pn, sizeof(s->pn));
	s->coord = 1;
	s->peer = 3;
	name_for(s->p, s->peer, "m", s->xn, sizeof(s->xn));
	s->p_nlink = attr(s->p).nlink;
}

static int op_mkdir(struct sc *s)
{
	return mkdir_(s->p, s->xn, NULL);
}

static void check_mkdir_done(struct sc *s)
{
	struct proto_attr a;

	MH_CHECK_RC(lookup(s->p, s->xn, &a), 0);
	MH_CHECK((a.mode & PROTO_S_IFMT) == PROTO_S_IFDIR && shard_of(a.ino) == s->peer);
	MH_CHECK(attr(s->p).nlink == s->p_nlink + 1);
	MH_CHECK_RC(mkdir_(a.ino, "inside", NULL), 0);
}

static int conflict_file(struct sc *s)
{
	return mknod_(s->p, s->xn, NULL);
}

static void check_mkdir_undone(struct sc *s)
{
	struct proto_attr a;

	MH_CHECK_RC(lookup(s->p, s->xn, &a), 0);
	MH_CHECK((a.mode & PROTO_S_IFMT) == PROTO_S_IFREG);
	MH_CHECK(attr(s->p).nlink == s->p_nlink);
}

/* rmdir P/xn of a directory on another shard (empty, or not for undo). */
static void prep_rmdir(struct sc *s)
{
	s->p = dir_on(ROOT, 2, s->pn, sizeof(s->pn));
	s->coord = 2;
	s->x = dir_on(s->p, 0, s->xn, sizeof(s->xn));
	s->p_nlink = attr(s->p).nlink;
}

static void prep_rmdir_full(struct sc *s)
{
	char n[32];

	prep_rmdir(s);
	file_in(s->x, n, sizeof(n));
}

static int op_rmdir(struct sc *s)
{
	return remove_(PROTO_OP_MDS_RMDIR, s->p, s->xn);
}

static void check_rmdir_done(struct sc *s)
{
	MH_CHECK_RC(lookup(s->p, s->xn, NULL), -ENOENT);
	MH_CHECK_RC(getattr(s->x, NULL), -ENOENT);
	MH_CHECK(attr(s->p).nlink == s->p_nlink - 1);
}

static void check_rmdir_undone(struct sc *s)
{
	MH_CHECK(ino_of(s->p, s->xn) == s->x);
	MH_CHECK(attr(s->p).nlink == s->p_nlink);
	MH_CHECK_RC(mknod_(s->x, "still-usable", NULL), 0); /* no removal mark left */
	MH_CHECK_RC(rename_(s->p, s->xn, s->p, "renamed", 0), 0); /* no pin left */
	MH_CHECK_RC(rename_(s->p, "renamed", s->p, s->xn, 0), 0);
}

/* unlink P/yn, a link to a file of another shard. */
static void prep_unlink(struct sc *s)
{
	s->p = dir_on(ROOT, 3, s->pn, sizeof(s->pn));
	s->coord = 3;
	s->q = dir_on(ROOT, 0, s->qn, sizeof(s->qn));
	s->x = file_in(s->q, s->xn, sizeof(s->xn));
	snprintf(s->yn, sizeof(s->yn), "l%u", seq++);
	MH_CHECK_RC(link_(s->x, s->p, s->yn), 0);
	MH_CHECK(attr(s->x).nlink == 2);
}

static int op_unlink(struct sc *s)
{
	return remove_(PROTO_OP_MDS_UNLINK, s->p, s->yn);
}

static void check_unlink_done(struct sc *s)
{
	MH_CHECK_RC(lookup(s->p, s->yn, NULL), -ENOENT);
	MH_CHECK(attr(s->x).nlink == 1);
}

/* link a file of shard 2 as P/yn on shard 3 (not 0: creating needs its map). */
static void prep_link(struct sc *s)
{
	s->p = dir_on(ROOT, 3, s->pn, sizeof(s->pn));
	s->coord = 3;
	s->peer = 2;
	s->q = dir_on(ROOT, 2, s->qn, sizeof(s->qn));
	s->x = file_in(s->q, s->xn, sizeof(s->xn));
	snprintf(s->yn, sizeof(s->yn), "l%u", seq++);
}

static int op_link(struct sc *s)
{
	return link_(s->x, s->p, s->yn);
}

static void check_link_done(struct sc *s)
{
	MH_CHECK(ino_of(s->p, s->yn) == s->x);
	MH_CHECK(attr(s->x).nlink == 2);
}

static int conflict_link(struct sc *s)
{
	return mknod_(s->p, s->yn, NULL);
}

static void check_link_undone(struct sc *s)
{
	uint64_t other = ino_of(s->p, s->yn);

	MH_CHECK(other && other != s->x);
	MH_CHECK(attr(s->x).nlink == 1);
}

/* rename P/xn (file, shard 1) -> Q/yn (shard 2). */
static void prep_rename(struct sc *s)
{
	s->p = dir_on(ROOT, 1, s->pn, sizeof(s->pn));
	s->coord = 1;
	s->q = dir_on(ROOT, 2, s->qn, sizeof(s->qn));
	s->x = file_in(s->p, s->xn, sizeof(s->xn));
	snprintf(s->yn, sizeof(s->yn), "r%u", seq++);
}

/* ... over Q/yn, a link to a file of shard 3 (dropped there). */
static void prep_rename_over_remote_file(struct sc *s)
{
	char n[32];
	uint64_t z;

	prep_rename(s);
	z = dir_on(ROOT, 3, n, sizeof(n));
	s->t = file_in(z, s->tn, sizeof(s->tn));
	MH_CHECK_RC(link_(s->t, s->q, s->yn), 0);
	MH_CHECK(attr(s->t).nlink == 2);
}

static int op_rename(struct sc *s)
{
	return rename_(s->p, s->xn, s->q, s->yn, 0);
}

static void check_rename_done(struct sc *s)
{
	MH_CHECK(ino_of(s->q, s->yn) == s->x);
	MH_CHECK_RC(lookup(s->p, s->xn, NULL), -ENOENT);
	MH_CHECK(attr(s->x).nlink == 1);
	if (s->t)
		MH_CHECK(attr(s->t).nlink == 1);
}

/* rename of directory P/xn (shard 3) over Q/yn, a directory of shard 0. */
static void prep_rename_dir(struct sc *s)
{
	s->p = dir_on(ROOT, 1, s->pn, sizeof(s->pn));
	s->coord = 1;
	s->q = dir_on(ROOT, 2, s->qn, sizeof(s->qn));
	s->x = dir_on(s->p, 3, s->xn, sizeof(s->xn));
	s->t = dir_on(s->q, 0, s->yn, sizeof(s->yn));
	s->p_nlink = attr(s->p).nlink;
	s->q_nlink = attr(s->q).nlink;
}

static void prep_rename_dir_full(struct sc *s)
{
	char n[32];

	prep_rename_dir(s);
	file_in(s->t, n, sizeof(n));
}

static void check_rename_dir_done(struct sc *s)
{
	MH_CHECK(ino_of(s->q, s->yn) == s->x);
	MH_CHECK_RC(lookup(s->p, s->xn, NULL), -ENOENT);
	MH_CHECK_RC(getattr(s->t, NULL), -ENOENT);
	MH_CHECK(attr(s->p).nlink == s->p_nlink - 1);
	MH_CHECK(attr(s->q).nlink == s->q_nlink);
	MH_CHECK_RC(lookup(s->x, "..", NULL), 0);
	MH_CHECK(ino_of(s->x, "..") == s->q);
}

static void check_rename_dir_undone(struct sc *s)
{
	MH_CHECK(ino_of(s->p, s->xn) == s->x && ino_of(s->q, s->yn) == s->t);
	MH_CHECK(ino_of(s->x, "..") == s->p);
	MH_CHECK(attr(s->p).nlink == s->p_nlink && attr(s->q).nlink == s->q_nlink);
	/* Neither entry stays pinned, the target is not marked. */
	MH_CHECK_RC(rename_(s->p, s->xn, s->p, "moved", 0), 0);
	MH_CHECK_RC(rename_(s->q, s->yn, s->q, "moved", 0), 0);
	MH_CHECK_RC(mknod_(s->t, "still-usable", NULL), 0);
}

/* exchange directories P/xn (shard 3) and Q/yn (shard 0). */
static int op_exchange(struct sc *s)
{
	return rename_(s->p, s->xn, s->q, s->yn, PROTO_MDS_RENAME_EXCHANGE);
}

static void check_exchange_done(struct sc *s)
{
	MH_CHECK(ino_of(s->p, s->xn) == s->t && ino_of(s->q, s->yn) == s->x);
	MH_CHECK(ino_of(s->x, "..") == s->q && ino_of(s->t, "..") == s->p);
	MH_CHECK(attr(s->p).nlink == s->p_nlink && attr(s->q).nlink == s->q_nlink);
}

#define FWD(pt, grp, prep, opf, chk) {.point = pt, .group = grp, .prepare = prep, .op = opf, \
				       .check = chk}
#define UNDO(pt, grp, prep, opf, chk, first_, confl)                                          \
	{.point = pt, .group = grp, .prepare = prep, .op = opf, .check = chk, .first = first_, \
	 .conflict = confl}

static struct sc scenarios[] = {
    FWD("xshard_mkdir_after_intent", "mkdir", prep_mkdir, op_mkdir, check_mkdir_done),
    FWD("xshard_mkdir_after_prepare", "mkdir", prep_mkdir, op_mkdir, check_mkdir_done),
    FWD("xshard_mkdir_after_link", "mkdir", prep_mkdir, op_mkdir, check_mkdir_done),
    UNDO("xshard_mkdir_after_undo_mark", "mkdir", prep_mkdir, op_mkdir, check_mkdir_undone,
	 "xshard_mkdir_after_prepare", conflict_file),
    UNDO("xshard_mkdir_after_abort", "mkdir", prep_mkdir, op_mkdir, check_mkdir_undone,
	 "xshard_mkdir_after_prepare", conflict_file),
    FWD("xshard_rmdir_after_intent", "rmdir", prep_rmdir, op_rmdir, check_rmdir_done),
    FWD("xshard_rmdir_after_prepare", "rmdir", prep_rmdir, op_rmdir, check_rmdir_done),
    FWD("xshard_rmdir_after_unlink", "rmdir", prep_rmdir, op_rmdir, check_rmdir_done),
    FWD("xshard_rmdir_after_commit", "rmdir", prep_rmdir, op_rmdir, check_rmdir_done),
    FWD("xshard_rmdir_after_del", "rmdir", prep_rmdir, op_rmdir, check_rmdir_done),
    FWD("xshard_rmdir_after_undo_mark", "rmdir", prep_rmdir_full, op_rmdir,
	check_rmdir_undone),
    FWD("xshard_rmdir_after_abort", "rmdir", prep_rmdir_full, op_rmdir, check_rmdir_undone),
    FWD("xshard_unlink_after_unlink", "link", prep_unlink, op_unlink, check_unlink_done),
    FWD("xshard_unlink_after_adjust", "link", prep_unlink, op_unlink, check_unlink_done),
    FWD("xshard_unlink_after_del", "link", prep_unlink, op_unlink, check_unlink_done),
    FWD("xshard_link_after_intent", "link", prep_link, op_link, check_link_done),
    FWD("xshard_link_after_adjust", "link", prep_link, op_link, check_link_done),
    FWD("xshard_link_after_link", "link", prep_link, op_link, check_link_done),
    UNDO("xshard_link_after_undo_mark", "link", prep_link, op_link, check_link_undone,
	 "xshard_link_after_adjust", conflict_link),
    UNDO("xshard_link_after_undo", "link", prep_link, op_link, check_link_undone,
	 "xshard_link_after_adjust", conflict_link),
    FWD("xshard_rename_after_pin", "rename", prep_rename, op_rename, check_rename_done),
    FWD("xshard_rename_before_link", "rename", prep_rename, op_rename, check_rename_done),
    FWD("xshard_rename_after_link", "rename", prep_rename, op_rename, check_rename_done),
    FWD("xshard_rename_after_unlink", "rename", prep_rename, op_rename, check_rename_done),
    FWD("xshard_rename_after_del", "rename", prep_rename, op_rename, check_rename_done),
    FWD("xshard_rename_after_pin_target", "rename", prep_rename_over_remote_file, op_rename,
	check_rename_done),
    FWD("xshard_rename_after_drop", "rename", prep_rename_over_remote_file, op_rename,
	check_rename_done),
    FWD("xshard_rename_after_prepare", "rename2", prep_rename_dir, op_rename,
	check_rename_dir_done),
    FWD("xshard_rename_after_set_parent", "rename2", prep_rename_dir, op_rename,
	check_rename_dir_done),
    FWD("xshard_rename_after_undo_mark", "rename2", prep_rename_dir_full, op_rename,
	check_rename_dir_undone),
    FWD("xshard_rename_after_undo", "rename2", prep_rename_dir_full, op_rename,
	check_rename_dir_undone),
    FWD("xshard_exchange_after_set_parent", "rename2", prep_rename_dir, op_exchange,
	check_exchange_done),
    FWD("xshard_exchange_after_link", "rename2", prep_rename_dir, op_exchange,
	check_exchange_done),
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static void run_scenario(struct sc *s)
{
	int64_t t0 = mh_now_ms();
	int rc;

	s->prepare(s);
	if (!s->first) {
		restart(s->coord, s->point);
		rc = s->op(s);
		MH_CHECK(rc != 0); /* the coordinator died before answering */
		wait_death(s->coord, s->point);
	} else {
		restart(s->coord, s->first);
		rc = s->op(s);
		MH_CHECK(rc != 0);
		wait_death(s->coord, s->first);
		MH_CHECK_RC(mh_shard_stop(&C, s->peer, SIGTERM), 0);
		restart(s->coord, s->point); /* its replay waits for the peer */
		MH_CHECK_RC(s->conflict(s), 0);
		mh_shard_up(&C, s->peer);
		wait_death(s->coord, s->point);
	}
	restart(s->coord, NULL);
	wait_no_intents(s->coord);
	s->check(s);
	assert_clean(s->point);
	printf("ok %s (%lld ms)\n", s->point, (long long)(mh_now_ms() - t0));
	fflush(stdout);
}

/* ---- without crashes ---- */

static void test_basic(void)
{
	char pn[64], qn[64], xn[64], yn[64], zn[64], n[64];
	uint64_t p, q, x, y, z, f, g;

	p = dir_on(ROOT, 1, pn, sizeof(pn));
	q = dir_on(ROOT, 2, qn, sizeof(qn));
	x = dir_on(p, 3, xn, sizeof(xn));
	y = dir_on(x, 0, yn, sizeof(yn));
	z = dir_on(y, 2, zn, sizeof(zn));
	assert_clean("tree");
	/* Into its own subtree, over shards 1, 3, 0 and 2. */
	MH_CHECK_RC(rename_(p, xn, z, "loop", 0), -EINVAL);
	MH_CHECK_RC(rename_(ROOT, pn, y, "loop", 0), -EINVAL);
	MH_CHECK_RC(rename_(p, xn, x, "self", 0), -EINVAL);
	/* Files between shards: move, replace, noreplace, exchange. */
	f = file_in(p, n, sizeof(n));
	MH_CHECK_RC(rename_(p, n, q, "moved", 0), 0);
	MH_CHECK(ino_of(q, "moved") == f && ino_of(p, n) == 0);
	g = file_in(z, n, sizeof(n));
	MH_CHECK_RC(rename_(q, "moved", z, n, PROTO_MDS_RENAME_NOREPLACE), -EEXIST);
	MH_CHECK_RC(rename_(q, "moved", z, n, PROTO_MDS_RENAME_EXCHANGE), 0);
	MH_CHECK(ino_of(z, n) == f && ino_of(q, "moved") == g);
	MH_CHECK_RC(rename_(q, "moved", z, n, 0), 0);
	MH_CHECK(ino_of(z, n) == g && getattr(f, NULL) == -ENOENT);
	/* Links across shards; unlink through either name. */
	MH_CHECK_RC(link_(g, p, "hard"), 0);
	MH_CHECK(attr(g).nlink == 2);
	MH_CHECK_RC(link_(g, p, "hard"), -EEXIST);
	MH_CHECK_RC(link_(x, q, "dirlink"), -EPERM);
	MH_CHECK(attr(g).nlink == 2);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, p, "hard"), 0);
	MH_CHECK(attr(g).nlink == 1);
	assert_clean("files");
	/* Directories between shards. */
	MH_CHECK_RC(rename_(p, xn, q, "xmoved", 0), 0);
	MH_CHECK(ino_of(x, "..") == q && ino_of(q, "xmoved") == x);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, q, "xmoved"), -ENOTEMPTY);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, z, n), -ENOTDIR);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_UNLINK, z, n), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, y, zn), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, x, yn), 0);
	MH_CHECK_RC(remove_(PROTO_OP_MDS_RMDIR, q, "xmoved"), 0);
	MH_CHECK_RC(getattr(x, NULL), -ENOENT);
	MH_CHECK(attr(q).nlink == 2 && attr(p).nlink == 2);
	assert_clean("directories");
	printf("ok basic\n");
}

/* ---- coverage: every crash point of the sources has a scenario ---- */

static bool scenario_of(const char *point)
{
	for (size_t i = 0; i < NSCEN; i++)
		if (strcmp(scenarios[i].point, point) == 0)
			return true;
	return false;
}

/* Adds the fault_point("...") names of one file to names (newline-separated). */
static void points_in(const char *path, char *names, size_t cap)
{
	static const char pat[] = "fault_point(\"";
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		mh_fail("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, pat), *end;

		if (!p)
			continue;
		p += sizeof(pat) - 1;
		end = strchr(p, '"');
		if (!end)
			continue;
		*end = '\0';
		MH_CHECK(strlen(names) + strlen(p) + 2 < cap);
		strcat(names, p);
		strcat(names, "\n");
	}
	fclose(f);
}

static void test_coverage(const char *root)
{
	char dir[512], path[1024], names[16384] = "";
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "%s/mds", root);
	d = opendir(dir);
	if (!d)
		mh_fail("cannot list %s", dir);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "xshard", 6) || !strstr(de->d_name, ".c"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		points_in(path, names, sizeof(names));
	}
	closedir(d);
	for (char *p = names, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		if (!scenario_of(p))
			mh_fail("crash point %s has no scenario", p);
		found++;
	}
	MH_CHECK(found == (int)NSCEN);
	printf("ok coverage: %d crash points, %zu scenarios\n", found, NSCEN);
}

int main(int argc, char **argv)
{
	static const struct mh_conf conf = {
	    .top = "pools = ( { name = \"default\"; scheme = \"rep:1\"; } );"};
	const char *group = argc > 2 ? argv[2] : "basic";
	size_t ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(group, "coverage") == 0) {
		if (argc < 4)
			mh_fail("coverage needs the source root");
		test_coverage(argv[3]);
		return 0;
	}
	if (argc < 2 || access(argv[1], X_OK)) {
		printf("SKIP: no cairn-mds-faulty binary (%s)\n", argc < 2 ? "none given" : argv[1]);
		return 77;
	}
	alarm(110); /* the harness stops its daemons on SIGALRM */
	mh_cluster_init(&C, argv[1], NSH, &conf);
	for (int i = 0; i < NSH; i++)
		mh_shard_up(&C, i);
	if (strcmp(group, "basic") == 0) {
		test_basic();
		ran = 1;
	}
	for (size_t i = 0; i < NSCEN; i++) {
		if (strcmp(scenarios[i].group, group) == 0) {
			run_scenario(&scenarios[i]);
			ran++;
		}
	}
	if (!ran)
		mh_fail("no scenario in group %s", group);
	/* An orderly stop of every shard, which also frees the clients. */
	for (int i = 0; i < NSH; i++)
		MH_CHECK_RC(mh_shard_stop(&C, i, SIGTERM), 0);
	return 0;
}
