/*
 * cairn.c - libcairn: opening and closing a cluster handle, and the helpers
 * the API files share (credentials, argument checks, attribute conversion,
 * request plumbing).  The namespace calls are in cairn_ns.c, cairn_dir.c,
 * cairn_xattr.c and cairn_path.c; administration in cairn_admin.c.
 *
 * Threads: cairn_open() and cairn_close() run alone; everything else is
 * safe from any thread (see cairn.h).
 */
#include "client/cairn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cairn_int.h"
#include "client/cinode.h"
#include "client/mdsc.h"
#include "common/auth.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/rpc.h"

static void set_err(const struct cairn_open_opts *o, const char *fmt, const char *a, const char *b)
{
	if (o->errbuf && o->errlen)
		snprintf(o->errbuf, o->errlen, fmt, a, b);
}

static const char *conf_path_of(const struct cairn_open_opts *o)
{
	const char *env;

	if (o->conf_path)
		return o->conf_path;
	env = getenv(CAIRN_CONF_ENV);
	return env && *env ? env : CAIRN_DEFAULT_CONF;
}

/* Loads the configuration and the key into c; errbuf says what failed. */
static int load_conf(struct cairn *c, const struct cairn_open_opts *o)
{
	const char *path = conf_path_of(o);
	char msg[512];
	int rc;

	c->cfg = malloc(sizeof(*c->cfg));
	if (!c->cfg)
		return -ENOMEM;
	rc = cfg_load(path, c->cfg, msg, sizeof(msg));
	if (rc) {
		if (rc == -CAIRN_ECONFIG)
			set_err(o, "%s%s", msg, "");
		else
			set_err(o, "cannot read configuration %s: %s", path, error_str(rc));
		return rc;
	}
	rc = auth_key_load(c->cfg->cluster.key_file, &c->key);
	if (rc)
		set_err(o, "cannot load cluster key %s: %s", c->cfg->cluster.key_file,
			rc == -EPERM	? "readable by group or others (chmod 600 it)"
			: rc == -EINVAL ? "not a regular file of 32..128 hex digits"
					: error_str(rc));
	return rc;
}

int cairn_open(const struct cairn_open_opts *o, struct cairn **out)
{
	struct mdsc_opts mo = {0};
	struct cairn *c;
	int rc;

	if (!o || !out || o->timeout_ms < 0 || (o->flags & ~CAIRN_OPEN_NO_MAP_WATCH))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = load_conf(c, o);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	c->inodes = cinode_table_new();
	if (!c->inodes)
		goto fail;
	mo.timeout_ms = o->timeout_ms;
	mo.watch_map = !(o->flags & CAIRN_OPEN_NO_MAP_WATCH);
	rc = mdsc_new(c->cfg, c->key, &mo, &c->mdsc);
	if (rc) {
		set_err(o, "cannot set up the metadata connections: %s%s", error_str(rc), "");
		goto fail;
	}
	rc = cairn_lock_init(c);
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	cairn_close(c);
	return rc;
}

int cairn_open_conf(const char *conf_path, struct cairn **out)
{
	struct cairn_open_opts o = {.conf_path = conf_path};

	return cairn_open(&o, out);
}

void cairn_close(struct cairn *c)
{
	if (!c)
		return;
	cairn_lock_fini(c); /* releases this handle's locks on the shards */
	mdsc_free(c->mdsc);
	cinode_table_free(c->inodes);
	auth_key_free(c->key);
	free(c->cfg);
	free(c);
}

unsigned cairn_shard_count(const struct cairn *c)
{
	return c ? mdsc_nshards(c->mdsc) : 0;
}

uint64_t cairn_map_epoch(const struct cairn *c)
{
	return c ? mdsc_map_epoch(c->mdsc) : 0;
}

int cairn_map_refresh(struct cairn *c, uint64_t *epoch)
{
	if (!c)
		return -EINVAL;
	return mdsc_map_refresh(c->mdsc, epoch);
}

const char *cairn_strerror(int err)
{
	return error_str(err);
}

struct mdsc *cairn_mdsc(const struct cairn *c)
{
	return c->mdsc;
}

void cairn_attr_to_stat(const struct cairn_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = 4096;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

/* ---- helpers of cairn_int.h ---- */

/* The process's supplementary groups, at most CAIRN_GROUPS_MAX of them. */
static int own_groups(struct proto_cred *out)
{
	gid_t small[CAIRN_GROUPS_MAX], *all;
	int n = getgroups(CAIRN_GROUPS_MAX, small);

	if (n >= 0) {
		for (int i = 0; i < n; i++)
			out->groups[i] = small[i];
		out->ngroups = (uint32_t)n;
		return 0;
	}
	n = getgroups(0, NULL); /* more than fit: keep the first ones */
	if (n < 0)
		return -errno;
	all = malloc(sizeof(gid_t) * (size_t)(n + 1));
	if (!all)
		return -ENOMEM;
	n = getgroups(n + 1, all);
	for (int i = 0; i < n && i < CAIRN_GROUPS_MAX; i++)
		out->groups[i] = all[i];
	out->ngroups = n < 0 ? 0 : (uint32_t)(n < CAIRN_GROUPS_MAX ? n : CAIRN_GROUPS_MAX);
	free(all);
	return 0;
}

int cairn_cred_get(const struct cairn_cred *in, struct proto_cred *out)
{
	if (!in) {
		out->uid = geteuid();
		out->gid = getegid();
		return own_groups(out);
	}
	if (in->ngroups > CAIRN_GROUPS_MAX || (in->ngroups && !in->groups))
		return -EINVAL;
	out->uid = in->uid;
	out->gid = in->gid;
	out->ngroups = in->ngroups;
	if (in->ngroups)
		memcpy(out->groups, in->groups, sizeof(uint32_t) * in->ngroups);
	return 0;
}

int cairn_name_arg(const char *name, int dot_err, struct proto_str *out)
{
	size_t len;

	if (!name || !*name)
		return -EINVAL;
	len = strnlen(name, CAIRN_NAME_MAX + 1);
	if (len > CAIRN_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len))
		return -EINVAL;
	if (dot_err && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return dot_err;
	out->ptr = name;
	out->len = (uint16_t)len;
	return 0;
}

int cairn_ino_arg(const struct cairn *c, uint64_t ino, uint16_t *shard)
{
	return mdsc_ino_shard(c->mdsc, ino, shard);
}

int cairn_open_flags(int flags, bool create, uint32_t *out)
{
	int acc = flags & O_ACCMODE;
	uint32_t v;

	if (acc == O_WRONLY)
		v = PROTO_MDS_O_WRONLY;
	else if (acc == O_RDWR)
		v = PROTO_MDS_O_RDWR;
	else if (acc == O_RDONLY)
		v = PROTO_MDS_O_RDONLY;
	else
		return -EINVAL;
	if (flags & O_TRUNC)
		v |= PROTO_MDS_O_TRUNC;
	if (flags & O_APPEND)
		v |= PROTO_MDS_O_APPEND;
	if (create && (flags & O_EXCL))
		v |= PROTO_MDS_O_EXCL;
	if (flags & O_DIRECT)
		v |= PROTO_MDS_O_DIRECT;
	if ((flags & O_SYNC) == O_SYNC)
		v |= PROTO_MDS_O_SYNC;
	else if (flags & O_DSYNC)
		v |= PROTO_MDS_O_DSYNC;
	if (flags & O_NOATIME)
		v |= PROTO_MDS_O_NOATIME;
	*out = v;
	return 0;
}

static struct timespec ts_of(const struct proto_time *t)
{
	return (struct timespec){.tv_sec = (time_t)t->sec, .tv_nsec = (long)t->nsec};
}

void cairn_attr_from_proto(const struct proto_attr *p, uint32_t attr_valid_ms, struct cairn_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = p->ino;
	a->gen = p->gen;
	a->mode = p->mode;
	a->nlink = p->nlink;
	a->uid = p->uid;
	a->gid = p->gid;
	a->rdev = p->rdev;
	a->size = p->size;
	a->blocks = p->blocks;
	a->atime = ts_of(&p->atime);
	a->mtime = ts_of(&p->mtime);
	a->ctime = ts_of(&p->ctime);
	a->flags = p->flags;
	a->attr_valid_ms = attr_valid_ms;
}

void cairn_attr_from_entry(const struct proto_mds_entry *e, struct cairn_attr *a)
{
	cairn_attr_from_proto(&e->attr, e->attr_valid_ms, a);
	a->entry_valid_ms = e->entry_valid_ms;
	if (e->flags & PROTO_MDS_ENTRY_LAYOUT) {
		a->has_layout = true;
		a->layout = (struct cairn_layout){.pool_id = e->layout.pool_id,
						  .scheme = e->layout.scheme,
						  .k = e->layout.k,
						  .m = e->layout.m,
						  .chunk_size = e->layout.chunk_size};
	}
}

int cairn_send(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
	       struct rpc_msg **resp)
{
	size_t len;

	*resp = NULL;
	if (wire_enc_finish(e, &len))
		return -ENOMEM; /* cannot happen: arguments are checked first */
	return mdsc_call(c->mdsc, shard, opcode, e->buf, len, 0, resp);
}

int cairn_send_empty(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e)
{
	struct rpc_msg *resp;
	int rc = cairn_send(c, shard, opcode, e, &resp);

	if (!rc && resp->body_len != 0)
		rc = mdsc_dec_check(-CAIRN_EBADFRAME, opcode);
	rpc_msg_free(resp);
	return rc;
}

int cairn_send_entry(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		     struct cairn_attr *out)
{
	struct proto_mds_entry ent;
	struct rpc_msg *resp;
	struct wire_dec d;
	int rc = cairn_send(c, shard, opcode, e, &resp);

	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_entry_decode(&d, &ent), opcode);
	if (!rc && out) {
		cairn_attr_from_entry(&ent, out);
		cinode_overlay(c->inodes, out);
	}
	rpc_msg_free(resp);
	return rc;
}

int cairn_send_attr(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		    struct cairn_attr *out)
{
	struct proto_mds_attr_rep rep;
	struct rpc_msg *resp;
	struct wire_dec d;
	int rc = cairn_send(c, shard, opcode, e, &resp);

	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_attr_rep_decode(&d, &rep), opcode);
	if (!rc && out) {
		cairn_attr_from_proto(&rep.attr, rep.attr_valid_ms, out);
		cinode_overlay(c->inodes, out);
	}
	rpc_msg_free(resp);
	return rc;
}

int cairn_send_open(struct cairn *c, uint16_t shard, uint16_t opcode, const struct wire_enc *e,
		    struct cairn_open_info *out)
{
	struct proto_mds_open_rep rep;
	struct rpc_msg *resp;
	struct wire_dec d;
	int rc = cairn_send(c, shard, opcode, e, &resp);

	if (rc)
		return rc;
	mdsc_dec_init(&d, resp);
	rc = mdsc_dec_check(proto_mds_open_rep_decode(&d, &rep), opcode);
	if (!rc) {
		out->fh = rep.fh;
		out->flags = rep.open_flags;
		cairn_attr_from_entry(&rep.entry, &out->attr);
	}
	rpc_msg_free(resp);
	return rc;
}
