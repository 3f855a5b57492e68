/*
 * server.c - the RPC handler of a metadata shard (mds_server_handle in
 * mds.h): dispatch by opcode range, the namespace operations on inodes
 * (getattr, setattr, readlink, statfs, xattrs, open, close, fsync), and
 * the helpers server_ns.c shares (server_int.h).
 *
 * Each client request (0x0101..0x0115) is decoded with proto/mds.h, its
 * credentials and attributes converted to the ns_* types, run against the
 * shard's namespace (mds/ns.h), handed to the cross-shard coordinator
 * (mds/xshard.h) when ns answers -EREMOTE for a change that spans shards,
 * and answered exactly once.  A body that does not decode is answered
 * -CAIRN_EBADFRAME, or the POSIX errno when a name is at fault
 * (server_errno.c), and the connection stays; an unknown opcode
 * -EOPNOTSUPP; an inode or parent that lives on another shard -EREMOTE
 * (the client's view of the shards is stale: it must route by ino >> 48).
 *
 * Durability: FSYNC, and CREATE/OPEN with O_SYNC or O_DSYNC, are synced
 * before the reply; every other change is group-committed (mds/commit.h)
 * within a few milliseconds.
 *
 * File handles: the shard counts opens per inode (ns_open/ns_close); fh is
 * a number the client passes back and is not checked.  The cluster key
 * authenticates the client, which is trusted with the caller's credentials
 * as FUSE gives them.
 *
 * Threads (server.h): a request starts on the RPC I/O thread that
 * received it; what may block (fsync, peers, shard 0, the map file) is
 * queued (srv_defer) to the shard's workers (cfg mds.workers), which run
 * it from the start; any number of requests at once.  Each thread has
 * its own struct srv_tls (reply buffer, readdir scratch, a small cache of
 * directory layouts), allocated at its first request and freed when the
 * thread exits: no allocation per request on the fast path.  The worker
 * queue and the RPC server are process-wide (one server per process).
 */
#include "mds/mds.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mds/commit.h"
#include "mds/daemon.h"
#include "mds/map.h"
#include "mds/server.h"
#include "mds/server_int.h"
#include "mds/server_lock.h"
#include "mds/xshard.h"

#define SRV_STATFS_BSIZE (1u << 20) /* preferred I/O size */
#define SRV_STATFS_FRSIZE 4096u	    /* unit of the block counts */

static __thread struct srv_tls *srv_tls_cur;
static pthread_key_t srv_tls_key;
static pthread_once_t srv_tls_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t srv_fh_next = 1;

static int srv_tls_key_rc;

static void srv_tls_init(void)
{
	srv_tls_key_rc = pthread_key_create(&srv_tls_key, free);
	if (srv_tls_key_rc)
		log_error("server: no thread-specific key left: %s", strerror(srv_tls_key_rc));
}

/* The calling thread's buffers, or NULL (no memory: answered -ENOMEM). */
static struct srv_tls *srv_tls_get(void)
{
	struct srv_tls *t = srv_tls_cur;

	if (t)
		return t;
	pthread_once(&srv_tls_once, srv_tls_init);
	if (srv_tls_key_rc)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (pthread_setspecific(srv_tls_key, t)) {
		free(t);
		return NULL;
	}
	srv_tls_cur = t;
	return t;
}

/* ---- helpers shared with server_ns.c ---- */

int64_t srv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int srv_home(const struct srv_ctx *c, uint64_t ino)
{
	return ns_ino_shard(ino) == c->m->shard ? 0 : -EREMOTE;
}

void srv_cred(const struct proto_cred *p, struct ns_cred *out)
{
	out->uid = p->uid;
	out->gid = p->gid;
	out->ngroups = p->ngroups;
	out->groups = p->groups;
}

void srv_attr(const struct ns_attr *a, struct proto_attr *out)
{
	out->ino = a->ino;
	out->gen = a->generation;
	out->mode = a->mode;
	out->nlink = a->nlink;
	out->uid = a->uid;
	out->gid = a->gid;
	out->rdev = (S_ISCHR(a->mode) || S_ISBLK(a->mode)) ? a->rdev : 0;
	out->size = a->size;
	out->blocks = S_ISREG(a->mode) ? (a->size + 511) / 512 : 0;
	out->atime = (struct proto_time){a->atime.sec, a->atime.nsec};
	out->mtime = (struct proto_time){a->mtime.sec, a->mtime.nsec};
	out->ctime = (struct proto_time){a->ctime.sec, a->ctime.nsec};
	out->flags = 0;
}

/*
 * A stored layout as the wire's.  Pools with one data chunk are
 * replication (the map stores "ec:1+M" as "rep:M+1", the same
 * protection), so k says the scheme.
 */
static int srv_layout(const struct ns_layout *l, struct proto_layout *out)
{
	*out = (struct proto_layout){.pool_id = l->pool_id,
				     .scheme = l->k == 1 ? PROTO_SCHEME_REP : PROTO_SCHEME_EC,
				     .k = l->k,
				     .m = l->m,
				     .chunk_size = l->chunk_size};
	if (l->pool_id == 0 || !proto_layout_valid(out->scheme, l->k, l->m, l->chunk_size)) {
		log_error("server: a regular file has no valid layout (pool %u)", l->pool_id);
		return -EIO;
	}
	return 0;
}

int srv_entry(struct srv_ctx *c, const struct ns_attr *a, struct proto_mds_entry *out)
{
	const struct cfg *cfg = c->m->cfg;

	srv_attr(a, &out->attr);
	out->entry_valid_ms = cfg->client.entry_timeout_ms;
	out->attr_valid_ms = cfg->client.attr_timeout_ms;
	out->flags = 0;
	memset(&out->layout, 0, sizeof(out->layout));
	if (!S_ISREG(a->mode))
		return 0;
	out->flags = PROTO_MDS_ENTRY_LAYOUT;
	return srv_layout(&a->layout, &out->layout);
}

int srv_enc_done(struct srv_ctx *c, int rc)
{
	(void)c;
	if (rc == -ENOSPC) {
		log_error("server: a reply overflowed its buffer");
		return -EIO;
	}
	return rc;
}

int srv_reply_entry(struct srv_ctx *c, const struct ns_attr *a)
{
	struct proto_mds_entry ent;
	int rc = srv_entry(c, a, &ent);

	if (rc)
		return rc;
	return srv_enc_done(c, proto_mds_entry_encode(&ent, &c->e));
}

int srv_reply_open(struct srv_ctx *c, const struct ns_attr *a)
{
	struct proto_mds_open_rep rep = {.open_flags = 0};
	int rc = srv_entry(c, a, &rep.entry);

	if (rc)
		return rc;
	rep.fh = atomic_fetch_add_explicit(&srv_fh_next, 1, memory_order_relaxed);
	return srv_enc_done(c, proto_mds_open_rep_encode(&rep, &c->e));
}

int srv_open_flags(uint32_t flags)
{
	int f;

	switch (flags & PROTO_MDS_O_ACCMODE) {
	case PROTO_MDS_O_WRONLY:
		f = O_WRONLY;
		break;
	case PROTO_MDS_O_RDWR:
		f = O_RDWR;
		break;
	default:
		f = O_RDONLY;
		break;
	}
	if (flags & PROTO_MDS_O_TRUNC)
		f |= O_TRUNC;
	return f;
}

bool srv_sync_flags(uint32_t flags)
{
	return (flags & (PROTO_MDS_O_SYNC | PROTO_MDS_O_DSYNC)) != 0;
}

void srv_data_freed(const struct ns_drop *d)
{
	/*
	 * The chunks of a freed file live on the OSDs.  The batch that
	 * deleted the inode also wrote its purge entry, and the purger
	 * (mds/purge.h), woken by that commit, deletes them.
	 */
	if (d->freed && S_ISREG(d->mode))
		log_debug("server: ino %#llx freed: %llu bytes in pool %u queued for purge",
			  (unsigned long long)d->ino, (unsigned long long)d->size,
			  d->layout.pool_id);
}

/* ---- operations on inodes ---- */

static int srv_reply_attr(struct srv_ctx *c, const struct ns_attr *a)
{
	struct proto_mds_attr_rep rep = {.attr_valid_ms = c->m->cfg->client.attr_timeout_ms};

	srv_attr(a, &rep.attr);
	return srv_enc_done(c, proto_mds_attr_rep_encode(&rep, &c->e));
}

static int srv_op_getattr(struct srv_ctx *c)
{
	struct proto_mds_getattr_req q;
	struct ns_attr a;
	int rc;

	if (proto_mds_getattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (!rc)
		rc = ns_getattr(c->m->ns, q.ino, &a);
	return rc ? rc : srv_reply_attr(c, &a);
}

static void srv_setattr_of(const struct proto_mds_setattr_req *q, struct ns_setattr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->mode = q->mode;
	sa->uid = q->uid;
	sa->gid = q->gid;
	sa->size = q->size;
	sa->atime = (struct ns_time){q->atime.sec, q->atime.nsec};
	sa->mtime = (struct ns_time){q->mtime.sec, q->mtime.nsec};
	sa->ctime = (struct ns_time){q->ctime.sec, q->ctime.nsec};
	if (q->valid & PROTO_MDS_SET_MODE)
		sa->valid |= NS_SET_MODE;
	if (q->valid & PROTO_MDS_SET_UID)
		sa->valid |= NS_SET_UID;
	if (q->valid & PROTO_MDS_SET_GID)
		sa->valid |= NS_SET_GID;
	if (q->valid & PROTO_MDS_SET_SIZE)
		sa->valid |= NS_SET_SIZE | (q->fh ? NS_SET_HANDLE : 0);
	if (q->valid & PROTO_MDS_SET_ATIME)
		sa->valid |= (q->valid & PROTO_MDS_SET_ATIME_NOW) ? NS_SET_ATIME_NOW : NS_SET_ATIME;
	if (q->valid & PROTO_MDS_SET_MTIME)
		sa->valid |= (q->valid & PROTO_MDS_SET_MTIME_NOW) ? NS_SET_MTIME_NOW : NS_SET_MTIME;
	if (q->valid & PROTO_MDS_SET_CTIME)
		sa->valid |= NS_SET_CTIME;
}

static int srv_op_setattr(struct srv_ctx *c)
{
	struct proto_mds_setattr_req q;
	struct ns_setattr sa;
	struct ns_cred cred;
	struct ns_attr a;
	int rc;

	if (proto_mds_setattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	srv_setattr_of(&q, &sa);
	rc = ns_setattr(c->m->ns, &cred, q.ino, &sa, false, &a);
	return rc ? rc : srv_reply_attr(c, &a);
}

static int srv_op_readlink(struct srv_ctx *c)
{
	struct proto_mds_ino_req q;
	struct proto_mds_readlink_rep rep;
	size_t len;
	int rc;

	if (proto_mds_ino_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (!rc)
		rc = ns_readlink(c->m->ns, q.ino, c->t->scratch, PROTO_SYMLINK_MAX, &len);
	if (rc == -ERANGE) {
		log_error("server: symlink %#llx is longer than %u bytes",
			  (unsigned long long)q.ino, PROTO_SYMLINK_MAX);
		rc = -EIO;
	}
	if (rc)
		return rc;
	rep.target = (struct proto_str){c->t->scratch, (uint16_t)len};
	return srv_enc_done(c, proto_mds_readlink_rep_encode(&rep, &c->e));
}

/*
 * Each shard reports its own inodes; the space of the OSDs (from the map)
 * is reported by shard 0 only, so the client's sum over the shards counts
 * it once.
 */
static int srv_op_statfs(struct srv_ctx *c)
{
	struct proto_mds_statfs_rep rep = {
	    .bsize = SRV_STATFS_BSIZE, .frsize = SRV_STATFS_FRSIZE, .namemax = PROTO_NAME_MAX};
	struct proto_mds_ino_req q;
	struct ns_statfs st;
	uint64_t cap = 0, used = 0;

	if (proto_mds_ino_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	ns_statfs(c->m->ns, &st);
	mds_map_space(c->m, &cap, &used);
	rep.blocks = cap / SRV_STATFS_FRSIZE;
	rep.bfree = used < cap ? (cap - used) / SRV_STATFS_FRSIZE : 0;
	rep.bavail = rep.bfree;
	/* Total: the shard's inode numbers; free: those not in use. */
	rep.files = NS_INO_MASK;
	rep.ffree = st.inodes < NS_INO_MASK ? NS_INO_MASK - st.inodes : 0;
	return srv_enc_done(c, proto_mds_statfs_rep_encode(&rep, &c->e));
}

static int srv_op_getxattr(struct srv_ctx *c)
{
	struct proto_mds_getxattr_req q;
	struct proto_mds_getxattr_rep rep = {0};
	struct ns_cred cred;
	size_t vlen = 0;
	int rc;

	if (proto_mds_getxattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_getxattr(c->m->ns, &cred, q.ino, q.name.ptr, q.name.len,
			 q.size ? c->t->scratch : NULL, q.size, &vlen);
	if (rc)
		return rc;
	rep.size = (uint32_t)vlen;
	if (q.size)
		rep.value = (struct proto_blob){(const uint8_t *)c->t->scratch, (uint32_t)vlen};
	return srv_enc_done(c, proto_mds_getxattr_rep_encode(&rep, &c->e));
}

static int srv_op_setxattr(struct srv_ctx *c)
{
	struct proto_mds_setxattr_req q;
	struct ns_cred cred;
	int flags = 0, rc;

	if (proto_mds_setxattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	if (q.flags & PROTO_MDS_XATTR_CREATE)
		flags |= NS_XATTR_CREATE;
	if (q.flags & PROTO_MDS_XATTR_REPLACE)
		flags |= NS_XATTR_REPLACE;
	return ns_setxattr(c->m->ns, &cred, q.ino, q.name.ptr, q.name.len, q.value.ptr, q.value.len,
			   flags, false);
}

static int srv_op_listxattr(struct srv_ctx *c)
{
	struct proto_mds_listxattr_req q;
	struct proto_mds_listxattr_rep rep = {0};
	struct ns_cred cred;
	size_t len = 0;
	int rc;

	if (proto_mds_listxattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_listxattr(c->m->ns, &cred, q.ino, q.size ? c->t->scratch : NULL, q.size, &len);
	if (rc)
		return rc;
	if (len > PROTO_XATTR_LIST_MAX)
		return -E2BIG; /* as listxattr(2) for a list no buffer can hold */
	rep.size = (uint32_t)len;
	if (q.size)
		rep.list = (struct proto_blob){(const uint8_t *)c->t->scratch, (uint32_t)len};
	return srv_enc_done(c, proto_mds_listxattr_rep_encode(&rep, &c->e));
}

static int srv_op_removexattr(struct srv_ctx *c)
{
	struct proto_mds_removexattr_req q;
	struct ns_cred cred;
	int rc;

	if (proto_mds_removexattr_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	return ns_removexattr(c->m->ns, &cred, q.ino, q.name.ptr, q.name.len, false);
}

static int srv_op_open(struct srv_ctx *c)
{
	struct proto_mds_open_req q;
	struct ns_cred cred;
	struct ns_attr a;
	int rc;

	if (proto_mds_open_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	if (srv_sync_flags(q.flags) && !c->may_block)
		return SRV_DEFER;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	srv_cred(&q.cred, &cred);
	rc = ns_open(c->m->ns, &cred, q.ino, srv_open_flags(q.flags), srv_sync_flags(q.flags), &a);
	if (rc)
		return rc;
	rc = srv_reply_open(c, &a);
	if (rc)
		ns_close(c->m->ns, q.ino, false, 0, NULL, false, NULL);
	return rc;
}

/*
 * Publishes size and mtime of q without releasing the client's handle:
 * an open and a close of our own around the close's publication rule
 * (size only grows, mtime as given).  Also how CLOSE publishes when the
 * shard restarted since the open and forgot its count (-EBADF).
 */
static int srv_publish(struct srv_ctx *c, const struct proto_mds_publish_req *q,
		       struct ns_drop *drop)
{
	static const struct ns_cred root = {0, 0, 0, NULL};
	struct ns_time mt = {q->mtime.sec, q->mtime.nsec};
	bool written = (q->flags & (PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME)) != 0;
	int rc;

	rc = ns_open(c->m->ns, &root, q->ino, O_RDONLY, false, NULL);
	if (rc)
		return rc;
	return ns_close(c->m->ns, q->ino, written, q->size,
			(q->flags & PROTO_MDS_PUB_MTIME) ? &mt : NULL, false, drop);
}

/* Attributes after a close; a file freed by it is described by drop. */
static int srv_reply_closed(struct srv_ctx *c, uint64_t ino, const struct ns_drop *drop)
{
	struct ns_attr a;
	int rc = ns_getattr(c->m->ns, ino, &a);

	if (rc == -ENOENT && drop->freed && drop->ino == ino) {
		memset(&a, 0, sizeof(a));
		a.ino = ino;
		a.mode = drop->mode;
		a.size = drop->size;
		rc = 0;
	}
	return rc ? rc : srv_reply_attr(c, &a);
}

static int srv_op_close(struct srv_ctx *c)
{
	struct proto_mds_publish_req q;
	struct ns_drop drop;
	struct ns_time mt;
	bool written;
	int rc;

	if (proto_mds_publish_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	mt = (struct ns_time){q.mtime.sec, q.mtime.nsec};
	written = (q.flags & (PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME)) != 0;
	rc = ns_close(c->m->ns, q.ino, written, q.size,
		      (q.flags & PROTO_MDS_PUB_MTIME) ? &mt : NULL, false, &drop);
	if (rc == -EBADF) {
		log_debug("server: close of %#llx not counted open (shard restarted?)",
			  (unsigned long long)q.ino);
		rc = srv_publish(c, &q, &drop);
	}
	if (rc)
		return rc;
	srv_data_freed(&drop);
	return srv_reply_closed(c, q.ino, &drop);
}

static int srv_op_fsync(struct srv_ctx *c)
{
	struct proto_mds_publish_req q;
	struct ns_drop drop = {0};
	int rc;

	if (proto_mds_publish_req_decode(&c->d, &q))
		return -CAIRN_EBADFRAME;
	if (!c->may_block && !(q.flags & PROTO_MDS_PUB_NOSYNC))
		return SRV_DEFER;
	rc = srv_home(c, q.ino);
	if (rc)
		return rc;
	if (q.flags & (PROTO_MDS_PUB_SIZE | PROTO_MDS_PUB_MTIME))
		rc = srv_publish(c, &q, &drop);
	if (!rc && (q.flags & PROTO_MDS_PUB_NOSYNC))
		mds_commit_note(); /* a flush: durable with the next group commit */
	else if (!rc)
		rc = ns_sync(c->m->ns);
	if (rc)
		return rc;
	srv_data_freed(&drop);
	return srv_reply_closed(c, q.ino, &drop);
}

/* ---- dispatch ---- */

struct srv_op {
	srv_op_fn fn;
	bool writes; /* may change the namespace: group commit */
};

#define OP(code) [(code)-PROTO_OP_MDS_LOOKUP]
static const struct srv_op srv_ops[] = {
    OP(PROTO_OP_MDS_LOOKUP) = {srv_op_lookup, false},
    OP(PROTO_OP_MDS_GETATTR) = {srv_op_getattr, false},
    OP(PROTO_OP_MDS_SETATTR) = {srv_op_setattr, true},
    OP(PROTO_OP_MDS_CREATE) = {srv_op_create, true},
    OP(PROTO_OP_MDS_MKNOD) = {srv_op_mknod, true},
    OP(PROTO_OP_MDS_MKDIR) = {srv_op_mkdir, true},
    OP(PROTO_OP_MDS_UNLINK) = {srv_op_unlink, true},
    OP(PROTO_OP_MDS_RMDIR) = {srv_op_rmdir, true},
    OP(PROTO_OP_MDS_RENAME) = {srv_op_rename, true},
    OP(PROTO_OP_MDS_LINK) = {srv_op_link, true},
    OP(PROTO_OP_MDS_SYMLINK) = {srv_op_symlink, true},
    OP(PROTO_OP_MDS_READLINK) = {srv_op_readlink, false},
    OP(PROTO_OP_MDS_READDIR) = {srv_op_readdir, false},
    OP(PROTO_OP_MDS_STATFS) = {srv_op_statfs, false},
    OP(PROTO_OP_MDS_GETXATTR) = {srv_op_getxattr, false},
    OP(PROTO_OP_MDS_SETXATTR) = {srv_op_setxattr, true},
    OP(PROTO_OP_MDS_LISTXATTR) = {srv_op_listxattr, false},
    OP(PROTO_OP_MDS_REMOVEXATTR) = {srv_op_removexattr, true},
    OP(PROTO_OP_MDS_OPEN) = {srv_op_open, true},
    OP(PROTO_OP_MDS_CLOSE) = {srv_op_close, true},
    OP(PROTO_OP_MDS_FSYNC) = {srv_op_fsync, false},
};
#undef OP
#define SRV_NOPS (sizeof(srv_ops) / sizeof(srv_ops[0]))

static void srv_reply(struct rpc_req *req, int status, const void *body, size_t len)
{
	int rc = rpc_reply(req, status, status ? NULL : body, status ? 0 : (uint32_t)len, NULL, 0,
			   NULL, NULL);

	if (rc && rc != -ECONNRESET)
		log_warn("server: reply failed: %s", error_str(rc));
}

/* ---- workers: requests that may block ---- */

struct srv_job {
	struct srv_job *next;
	struct rpc_req *req; /* owned until replied */
};

static struct {
	struct mds *m;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct srv_job *head; /* lock */
	struct srv_job *tail; /* lock */
	bool stop;	      /* lock */
	unsigned nthreads;
	pthread_t *threads;
	struct rpc_server *rpc;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static __thread bool srv_on_worker;

static void srv_dispatch(struct mds *m, struct rpc_req *req, bool may_block);

/* Hands req to a worker (from an I/O thread). */
static void srv_defer(struct rpc_req *req)
{
	struct srv_job *j = malloc(sizeof(*j));

	if (!j) {
		srv_reply(req, -ENOMEM, NULL, 0);
		return;
	}
	j->next = NULL;
	j->req = req;
	pthread_mutex_lock(&srv.lock);
	if (srv.tail)
		srv.tail->next = j;
	else
		srv.head = j;
	srv.tail = j;
	pthread_cond_signal(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
}

static void *srv_worker_main(void *arg)
{
	(void)arg;
	srv_on_worker = true;
	pthread_setname_np(pthread_self(), "cairn-mds-work");
	pthread_mutex_lock(&srv.lock);
	for (;;) {
		struct srv_job *j;

		while (!srv.head && !srv.stop)
			pthread_cond_wait(&srv.cond, &srv.lock);
		j = srv.head;
		if (!j)
			break; /* stopping with an empty queue */
		srv.head = j->next;
		if (!srv.head)
			srv.tail = NULL;
		pthread_mutex_unlock(&srv.lock);
		srv_dispatch(srv.m, j->req, true);
		free(j);
		pthread_mutex_lock(&srv.lock);
	}
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

static void srv_workers_stop(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.stop = true;
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	for (unsigned i = 0; i < srv.nthreads; i++)
		pthread_join(srv.threads[i], NULL);
	free(srv.threads);
	srv.threads = NULL;
	srv.nthreads = 0;
}

static int srv_workers_start(struct mds *m, unsigned n)
{
	int rc = 0;

	srv.m = m;
	srv.stop = false;
	srv.threads = calloc(n, sizeof(*srv.threads));
	if (!srv.threads)
		return -ENOMEM;
	for (; srv.nthreads < n && !rc; srv.nthreads++) {
		rc = -pthread_create(&srv.threads[srv.nthreads], NULL, srv_worker_main, NULL);
		if (rc)
			break;
	}
	if (rc)
		srv_workers_stop();
	return rc;
}

/* ---- dispatch ---- */

static void srv_client_op(struct mds *m, struct rpc_req *req, const struct rpc_msg *msg,
			  bool may_block)
{
	unsigned i = msg->hdr.opcode - PROTO_OP_MDS_LOOKUP;
	struct srv_ctx c = {.m = m, .may_block = may_block};
	int rc;

	if (i >= SRV_NOPS || !srv_ops[i].fn) {
		srv_reply(req, -EOPNOTSUPP, NULL, 0);
		return;
	}
	c.t = srv_tls_get();
	if (!c.t) {
		srv_reply(req, -ENOMEM, NULL, 0);
		return;
	}
	wire_dec_init(&c.d, msg->body, msg->body_len);
	wire_dec_set_version(&c.d, msg->hdr.version);
	wire_enc_init(&c.e, c.t->rep, sizeof(c.t->rep));
	wire_enc_set_version(&c.e, msg->hdr.version);
	rc = srv_ops[i].fn(&c);
	if (rc == SRV_DEFER) {
		assert(!may_block);
		srv_defer(req);
		return;
	}
	if (rc == -CAIRN_EBADFRAME)
		rc = srv_decode_errno(msg);
	if (srv_ops[i].writes)
		mds_commit_note();
	srv_reply(req, rc, c.t->rep, c.e.len);
}

static void srv_dispatch(struct mds *m, struct rpc_req *req, bool may_block)
{
	const struct rpc_msg *msg = rpc_req_msg(req);
	uint16_t op = msg->hdr.opcode;

	if (op >= PROTO_OP_MDS_LOCK_GET && op <= PROTO_OP_MDS_LOCK_SESSION)
		mds_lock_handle(m, req); /* never blocks; a wait is answered later */
	else if (op >= PROTO_OP_MDS_LOOKUP && op <= 0x017f)
		srv_client_op(m, req, msg, may_block);
	else if (op >= 0x0180 && op <= 0x01df && !may_block)
		srv_defer(req);
	else if (op >= 0x0180 && op <= 0x01df)
		/* Shard-to-shard steps and fsck: the cross-shard layer's. */
		mds_xshard_handle(m, req);
	else if (op == PROTO_OP_ADMIN_MAP_GET ||
		 (op > PROTO_OP_ADMIN_FIRST && op <= PROTO_OP_ADMIN_LAST && may_block))
		mds_map_handle(m, req); /* MAP_GET parks, never blocks */
	else if (op > PROTO_OP_ADMIN_FIRST && op <= PROTO_OP_ADMIN_LAST)
		srv_defer(req); /* map changes write the map file */
	else
		srv_reply(req, -EOPNOTSUPP, NULL, 0);
}

void mds_server_handle(void *arg, struct rpc_req *req)
{
	srv_dispatch(arg, req, srv_on_worker);
}

int mds_server_start(struct mds *m, char *addr, size_t addrlen)
{
	struct rpc_opts opts = mds_rpc_opts_from_cfg(m->cfg, m->key, m->engine);
	int rc;

	rc = mds_addr_format(&m->cfg->mds.shards[m->shard].addr, addr, addrlen);
	if (rc)
		return rc;
	rc = srv_workers_start(m, m->cfg->mds.workers ? m->cfg->mds.workers : 1);
	if (rc) {
		log_error("server: cannot start %u workers: %s", m->cfg->mds.workers,
			  strerror(-rc));
		return rc;
	}
	/* Handlers on the I/O threads: what may block goes to our workers. */
	opts.workers = 0;
	rc = rpc_server_start(addr, &opts, mds_server_handle, m, &srv.rpc);
	if (rc) {
		log_error("server: cannot serve on %s: %s", addr, error_str(rc));
		srv_workers_stop();
		return rc;
	}
	m->server = srv.rpc;
	return 0;
}

void mds_server_stop(struct mds *m)
{
	/* Deferred requests are answered by the workers meanwhile. */
	rpc_server_stop(srv.rpc);
	srv.rpc = NULL;
	m->server = NULL;
	srv_workers_stop();
}
