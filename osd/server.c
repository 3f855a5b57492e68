/*
 * server.c - the OSD's RPC handler (osd.h): decodes each request, checks it
 * against the map, and serves the chunk operations on the local store.
 *
 * Threads: handlers run on the RPC server's worker threads (cfg
 * osd.workers), so disk I/O goes through those threads' rings.  Chunk
 * operations are answered before the handler returns; STRIPE_WRITE and
 * SCRUB are handed over with the request (the primary's and the scrubber's
 * threads reply), so that a worker never waits for another OSD.  That is
 * what keeps OSDs that forward writes to each other from deadlocking: a
 * CHUNK_* request only ever waits for the local disk.
 *
 * Map checks: a request carries the sender's map epoch.  When it is newer
 * than ours we wait briefly for our watch to catch up.  A chunk request for
 * a position we do not hold gets -CAIRN_ESTALEMAP when the sender's map is
 * older than ours, -EAGAIN when it is newer (we are behind), else
 * -CAIRN_ENOTPRIMARY.  Reads, deletes, trims and listings of chunks we do
 * hold are served whatever the map says (recovery reads from old holders).
 *
 * Ownership: a CHUNK_READ reply's data buffer comes from the buffer pool
 * (buf.h) and goes back to it from the RPC layer's release callback once
 * sent.
 */
#include "osd/osd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "osd/buf.h"
#include "osd/chunk.h"
#include "osd/osdmap.h"
#include "osd/primary.h"
#include "osd/scrub.h"
#include "osd/store.h"
#include "proto/osd.h"

#define MAP_WAIT_MS 2000 /* for a map as new as a request's */

int osd_media_parse(const char *name, uint8_t *out)
{
	if (strcmp(name, "hdd") == 0)
		*out = PROTO_MEDIA_HDD;
	else if (strcmp(name, "ssd") == 0)
		*out = PROTO_MEDIA_SSD;
	else if (strcmp(name, "nvme") == 0)
		*out = PROTO_MEDIA_NVME;
	else
		return -EINVAL;
	return 0;
}

/* Where a request's chunk lives by our map. */
struct place {
	struct osd_map_snap *snap; /* reference */
	const struct proto_map_pool *pool;
	uint32_t pg;
	struct osd_acting act;
	int pos; /* our position, -1 if none */
};

static void place_put(struct place *pl)
{
	osd_map_put(pl->snap);
	pl->snap = NULL;
}

/*
 * Finds pool, PG and acting set of (ino, stripe) with a map at least as new
 * as epoch if one comes within MAP_WAIT_MS.  Returns 0 (pl->snap held), or
 * -EAGAIN (no map yet, or a pool we do not know while the sender's map is
 * newer), -ENOENT (no such pool), -ENOMEM.
 */
static int locate(struct osd *o, uint64_t epoch, uint32_t pool_id, uint64_t ino, uint64_t stripe,
		  struct place *pl)
{
	int ret;

	pl->snap = osd_map_get(o->map);
	if (!pl->snap || osd_map_snap_epoch(pl->snap) < epoch) {
		osd_map_put(pl->snap);
		pl->snap = osd_map_wait(o->map, epoch, MAP_WAIT_MS);
	}
	if (!pl->snap)
		return -EAGAIN;
	pl->pool = osd_map_pool(pl->snap, pool_id);
	if (!pl->pool) {
		ret = epoch > osd_map_snap_epoch(pl->snap) ? -EAGAIN : -ENOENT;
		place_put(pl);
		return ret;
	}
	pl->pg = placement_pg(ino, stripe, pl->pool->pg_count);
	ret = osd_map_acting(pl->snap, pl->pool, pl->pg, &pl->act);
	if (ret) {
		place_put(pl);
		return ret;
	}
	pl->pos = osd_acting_pos(&pl->act, o->id);
	return 0;
}

/* The answer to a request for a position that is not ours. */
static int not_ours(const struct place *pl, uint64_t epoch)
{
	uint64_t ours = osd_map_snap_epoch(pl->snap);

	if (epoch < ours)
		return -CAIRN_ESTALEMAP;
	if (epoch > ours)
		return -EAGAIN;
	return -CAIRN_ENOTPRIMARY;
}

/* Locates and checks that we hold position index.  0 (pl->snap held) or -errno. */
static int own_position(struct osd *o, uint64_t epoch, uint32_t pool_id,
			const struct proto_osd_chunk_id *id, struct place *pl)
{
	int ret = locate(o, epoch, pool_id, id->ino, id->stripe, pl);

	if (ret)
		return ret;
	if (id->index >= pl->act.width) {
		place_put(pl);
		return -EINVAL;
	}
	if (pl->pos != id->index) {
		ret = not_ours(pl, epoch);
		place_put(pl);
	}
	return ret;
}

static struct osd_chunk_id store_id(const struct place *pl, uint32_t pool_id,
				    const struct proto_osd_chunk_id *id)
{
	struct osd_chunk_id sid = {.pool = pool_id, .pg = pl->pg, .ino = id->ino,
				   .stripe = id->stripe, .idx = id->index};

	return sid;
}

static void reply_status(struct rpc_req *req, int status)
{
	rpc_reply(req, status, NULL, 0, NULL, 0, NULL, NULL);
}

static void reply_version(struct rpc_req *req, int status, uint64_t version)
{
	struct proto_osd_write_rep rep = {.version = version};
	uint8_t body[16];
	struct wire_enc e;
	size_t len = 0;

	if (status) {
		reply_status(req, status);
		return;
	}
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_write_rep_encode(&rep, &e);
	wire_enc_finish(&e, &len);
	rpc_reply(req, 0, body, (uint32_t)len, NULL, 0, NULL, NULL);
}

static void dec_begin(const struct rpc_msg *msg, struct wire_dec *d)
{
	wire_dec_init(d, msg->body, msg->body_len);
	wire_dec_set_version(d, msg->hdr.version);
}

static void handle_write(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_write_req q;
	struct osd_chunk_id id;
	struct wire_dec d;
	struct place pl;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_write_req_decode(&d, &q) != 0 || msg->data_len != q.length) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = own_position(o, q.map_epoch, q.pool_id, &q.id, &pl);
	if (ret) {
		reply_status(req, ret);
		return;
	}
	id = store_id(&pl, q.pool_id, &q.id);
	if ((uint64_t)q.offset + q.length > pl.pool->chunk_size)
		ret = -EINVAL; /* past the pool's chunk size */
	else
		ret = osd_chunk_write(o->st, &id, q.version, q.base_version, q.offset, msg->data,
				      q.length, q.flags, pl.pool->compression == PROTO_COMPRESS_ZSTD);
	place_put(&pl);
	atomic_fetch_add(&o->counters.chunk_writes, 1);
	reply_version(req, ret, q.version);
}

static void handle_truncate(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_truncate_req q;
	struct osd_chunk_id id;
	struct wire_dec d;
	struct place pl;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_truncate_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = own_position(o, q.map_epoch, q.pool_id, &q.id, &pl);
	if (ret) {
		reply_status(req, ret);
		return;
	}
	id = store_id(&pl, q.pool_id, &q.id);
	if (q.size > pl.pool->chunk_size)
		ret = -EINVAL;
	else
		ret = osd_chunk_truncate(o->st, &id, q.version, q.base_version, q.size, q.flags,
					 pl.pool->compression == PROTO_COMPRESS_ZSTD);
	place_put(&pl);
	reply_version(req, ret, q.version);
}

/* Reads for a CHUNK_READ into a pooled buffer *out (NULL on error). */
static int read_chunk(struct osd *o, const struct proto_osd_chunk_read_req *q,
		      struct osd_read_result *res, struct osd_buf **out)
{
	struct osd_chunk_id id;
	struct place pl;
	int ret = locate(o, q->map_epoch, q->pool_id, q->id.ino, q->id.stripe, &pl);

	*out = NULL;
	if (ret)
		return ret;
	*out = osd_buf_get(q->length);
	if (!*out) {
		place_put(&pl);
		return -ENOMEM;
	}
	id = store_id(&pl, q->pool_id, &q->id);
	ret = osd_store_read(o->st, &id, q->version, q->offset, (*out)->data, q->length, res);
	if (ret == -ENOENT && pl.pos != q->id.index)
		ret = not_ours(&pl, q->map_epoch);
	if (ret == -CAIRN_ECHECKSUM)
		atomic_fetch_add(&o->counters.checksum_errors, 1);
	place_put(&pl);
	if (ret) {
		osd_buf_put(*out);
		*out = NULL;
	}
	return ret;
}

static void handle_read(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_read_req q;
	struct proto_osd_chunk_read_rep rep;
	struct osd_read_result res;
	struct osd_buf *buf;
	struct iovec iov;
	uint8_t body[16];
	struct wire_enc e;
	struct wire_dec d;
	size_t len = 0;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_read_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = read_chunk(o, &q, &res, &buf);
	atomic_fetch_add(&o->counters.chunk_reads, 1);
	if (ret) {
		reply_status(req, ret);
		return;
	}
	rep = (struct proto_osd_chunk_read_rep){.version = res.version,
						.length = (uint32_t)res.bytes};
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_read_rep_encode(&rep, &e);
	wire_enc_finish(&e, &len);
	iov = (struct iovec){buf->data, res.bytes};
	rpc_reply(req, 0, body, (uint32_t)len, &iov, res.bytes ? 1 : 0, osd_buf_release, buf);
}

static void handle_delete(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_delete_req q;
	struct osd_chunk_id id;
	struct wire_dec d;
	struct place pl;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_delete_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = locate(o, q.map_epoch, q.pool_id, q.id.ino, q.id.stripe, &pl);
	if (ret == 0) {
		id = store_id(&pl, q.pool_id, &q.id);
		ret = osd_store_delete(o->st, &id);
		/*
		 * "No such chunk" is the goal of a delete, but only the word of
		 * a member of the acting set of a current map: a sender with an
		 * older map may have asked the wrong OSD (the purger of a shard
		 * whose map lags), and must not take it for done.
		 */
		if (ret == -ENOENT && q.map_epoch < osd_map_snap_epoch(pl.snap))
			ret = -CAIRN_ESTALEMAP;
		place_put(&pl);
	}
	reply_status(req, ret);
}

static void handle_trim(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_trim_req q;
	struct osd_chunk_id id;
	struct wire_dec d;
	struct place pl;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_trim_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = locate(o, q.map_epoch, q.pool_id, q.id.ino, q.id.stripe, &pl);
	if (ret == 0) {
		id = store_id(&pl, q.pool_id, &q.id);
		if (q.flags & PROTO_OSD_TRIM_ROLLBACK)
			ret = osd_store_drop(o->st, &id, q.version);
		else
			ret = osd_store_trim(o->st, &id, q.version);
		place_put(&pl);
	}
	reply_status(req, ret);
}

struct list_fill {
	struct proto_osd_chunk_info *ents;
	uint32_t n;
};

static int list_one(const struct osd_chunk_info *info, void *arg)
{
	struct list_fill *lf = arg;
	const struct osd_chunk_version *v = &info->versions[info->nversions - 1];

	if (info->id.idx >= PROTO_CHUNKS_MAX || info->id.ino == 0 ||
	    v->length > PROTO_CHUNK_SIZE_MAX)
		return 0; /* cannot be named on the wire; never written by us */
	lf->ents[lf->n++] = (struct proto_osd_chunk_info){
		.id = {info->id.ino, info->id.stripe, (uint8_t)info->id.idx},
		.version = v->version,
		.size = (uint32_t)v->length,
	};
	return 0;
}

/* Lists and encodes a CHUNK_LIST reply into a new buffer *out (*out_len). */
static int list_pg(struct osd *o, const struct proto_osd_chunk_list_req *q, uint8_t **out,
		   size_t *out_len)
{
	struct osd_store_cursor cur = OSD_STORE_CURSOR_INIT;
	struct proto_osd_chunk_list_rep rep = {0};
	struct list_fill lf = {.ents = calloc(q->max, sizeof(*lf.ents))};
	size_t cap = 64 + (size_t)q->max * (PROTO_OSD_CHUNK_ID_SIZE + 12);
	struct wire_enc e;
	int ret;

	*out = malloc(cap);
	if (!lf.ents || !*out) {
		free(lf.ents);
		return -ENOMEM;
	}
	if (q->cursor.ino || q->cursor.stripe || q->cursor.index)
		cur = (struct osd_store_cursor){q->cursor.ino, q->cursor.stripe, q->cursor.index, 1};
	ret = osd_store_list_pg(o->st, q->pool_id, q->pg, &cur, q->max, list_one, &lf);
	if (ret == 0) {
		rep.count = lf.n;
		rep.entries = lf.ents;
		if (osd_store_cursor_done(&cur))
			rep.flags = PROTO_OSD_LIST_END;
		else
			rep.next = (struct proto_osd_chunk_id){cur.ino, cur.stripe, (uint8_t)cur.idx};
		wire_enc_init(&e, *out, cap);
		ret = proto_osd_chunk_list_rep_encode(&rep, &e);
		if (ret == 0)
			ret = wire_enc_finish(&e, out_len);
	}
	free(lf.ents);
	return ret;
}

static void handle_list(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_chunk_list_req q;
	struct wire_dec d;
	uint8_t *body = NULL;
	size_t len = 0;
	int ret;

	dec_begin(msg, &d);
	if (proto_osd_chunk_list_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	ret = list_pg(o, &q, &body, &len);
	rpc_reply(req, ret, ret ? NULL : body, ret ? 0 : (uint32_t)len, NULL, 0, NULL, NULL);
	free(body);
}

static void handle_stripe_write(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_stripe_write_req q;
	struct wire_dec d;

	dec_begin(msg, &d);
	if (proto_osd_stripe_write_req_decode(&d, &q) != 0 || msg->data_len != q.length) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	osd_primary_submit(o->primary, req, &q);
}

static void handle_scrub(struct osd *o, struct rpc_req *req, const struct rpc_msg *msg)
{
	struct proto_osd_scrub_req q;
	struct wire_dec d;

	dec_begin(msg, &d);
	if (proto_osd_scrub_req_decode(&d, &q) != 0 || msg->data_len != 0) {
		reply_status(req, -CAIRN_EBADFRAME);
		return;
	}
	osd_scrub_request(o->scrub, req, &q);
}

void osd_server_handle(void *arg, struct rpc_req *req)
{
	struct osd *o = arg;
	const struct rpc_msg *msg = rpc_req_msg(req);

	switch (msg->hdr.opcode) {
	case PROTO_OP_OSD_CHUNK_WRITE:
		handle_write(o, req, msg);
		break;
	case PROTO_OP_OSD_CHUNK_READ:
		handle_read(o, req, msg);
		break;
	case PROTO_OP_OSD_STRIPE_WRITE:
		handle_stripe_write(o, req, msg);
		break;
	case PROTO_OP_OSD_CHUNK_DELETE:
		handle_delete(o, req, msg);
		break;
	case PROTO_OP_OSD_CHUNK_TRUNCATE:
		handle_truncate(o, req, msg);
		break;
	case PROTO_OP_OSD_CHUNK_LIST:
		handle_list(o, req, msg);
		break;
	case PROTO_OP_OSD_CHUNK_TRIM:
		handle_trim(o, req, msg);
		break;
	case PROTO_OP_OSD_SCRUB:
		handle_scrub(o, req, msg);
		break;
	default:
		reply_status(req, -EOPNOTSUPP);
		break;
	}
}

/* The address peers reach us at: the listen host, or ours for a wildcard. */
static int public_addr(const char *listen, int port, char *out, size_t cap)
{
	char host[CFG_HOST_MAX], name[256], resolved[NET_ADDR_MAX];
	int lport, ret;

	ret = net_addr_parse(listen, host, sizeof(host), &lport);
	if (ret)
		return ret;
	if (strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0) {
		snprintf(out, cap, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
		return 0;
	}
	if (gethostname(name, sizeof(name) - 8) != 0)
		return -errno;
	name[sizeof(name) - 8] = '\0';
	snprintf(name + strlen(name), 8, ":%d", port);
	ret = net_addr_resolve(name, resolved, sizeof(resolved));
	if (ret)
		return ret;
	snprintf(out, cap, "%s", resolved);
	return 0;
}

int osd_server_start(struct osd *o, const char *listen)
{
	int ret = rpc_server_start(listen, &o->rpc, osd_server_handle, o, &o->server);

	if (ret)
		return ret;
	ret = public_addr(listen, rpc_server_port(o->server), o->addr, sizeof(o->addr));
	if (ret) {
		rpc_server_stop(o->server);
		o->server = NULL;
	}
	return ret;
}
