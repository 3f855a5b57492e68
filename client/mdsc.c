/*
 * mdsc.c - the metadata client: one rpc_client per MDS shard on a shared
 * engine, single calls with retries of idempotent reads, and fan-out of
 * several calls at once (mdsc_call_many).  The cluster map is in
 * mdsc_map.c.
 *
 * Threads: the callers' threads submit and wait; completion callbacks of
 * fan-outs run on the engine's I/O threads and only store results and wake
 * the waiter.  The client table is written in mdsc_new() and read-only until
 * mdsc_free().
 */
#include "client/mdsc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mdsc_int.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rpc.h"

static const char *const transport_names[] = {
    [CFG_TRANSPORT_AUTO] = "auto",
    [CFG_TRANSPORT_TCP] = "tcp",
    [CFG_TRANSPORT_RDMA] = "rdma",
};

static void format_addr(const struct cfg_addr *a, char *buf, size_t len)
{
	if (strchr(a->host, ':'))
		snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, a->port);
}

static int rpc_opts_from_cfg(const struct mdsc *m, const struct auth_key *key, struct rpc_opts *ro)
{
	const struct cfg_rpc *r = &m->cfg->rpc;

	*ro = rpc_opts_default();
	ro->max_frame = r->max_frame > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : (uint32_t)r->max_frame;
	ro->timeout_ms = m->timeout_ms;
	ro->connect_timeout_ms = (int)r->connect_timeout_ms;
	ro->reconnect_min_ms = (int)r->reconnect_min_ms;
	ro->reconnect_max_ms = (int)r->reconnect_max_ms;
	ro->socket_buffer = (int)r->socket_buffer;
	ro->key = key;
	ro->engine = m->eng;
	if ((unsigned)m->cfg->cluster.transport >= sizeof(transport_names) / sizeof(char *))
		return -EINVAL;
	ro->net = net_select(transport_names[m->cfg->cluster.transport]);
	return ro->net ? 0 : -EINVAL;
}

static int connect_shards(struct mdsc *m, const struct auth_key *key)
{
	struct rpc_opts ro;
	int rc;

	rc = rpc_opts_from_cfg(m, key, &ro);
	if (rc)
		return rc;
	for (uint16_t i = 0; i < m->nshards; i++) {
		format_addr(&m->cfg->mds.shards[i].addr, m->addr[i], sizeof(m->addr[i]));
		rc = rpc_client_new(m->addr[i], &ro, &m->cli[i]);
		if (rc) {
			log_error("mds shard %u at %s: %s", i, m->addr[i], error_str(rc));
			return rc;
		}
	}
	return 0;
}

int mdsc_new(const struct cfg *cfg, const struct auth_key *key, const struct mdsc_opts *o,
	     struct mdsc **out)
{
	struct mdsc *m;
	int rc;

	if (!cfg || !key || !o || !out || o->timeout_ms < 0 || cfg->mds.shard_count < 1 ||
	    cfg->mds.shard_count > CFG_MAX_SHARDS)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	m->key = key;
	pthread_mutex_init(&m->osd_lock, NULL);
	m->nshards = (uint16_t)cfg->mds.shard_count;
	m->timeout_ms = o->timeout_ms ? o->timeout_ms : (int)cfg->rpc.timeout_ms;
	pthread_mutex_init(&m->map_lock, NULL);
	pthread_mutex_init(&m->watch_lock, NULL);
	pthread_cond_init(&m->watch_cond, NULL);
	atomic_init(&m->epoch, 0);
	rc = rpc_engine_new(cfg->rpc.io_threads ? (int)cfg->rpc.io_threads : 1, &m->eng);
	if (rc)
		goto fail;
	rc = connect_shards(m, key);
	if (rc)
		goto fail;
	if (o->watch_map) {
		rc = mdsc_watch_start(m);
		if (rc)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	mdsc_free(m);
	return rc;
}

void mdsc_free(struct mdsc *m)
{
	if (!m)
		return;
	mdsc_watch_stop(m);
	for (uint16_t i = 0; i < m->nshards; i++)
		rpc_client_free(m->cli[i]);
	for (size_t i = 0; i < m->nosds; i++)
		rpc_client_free(m->osds[i].cli);
	free(m->osds);
	pthread_mutex_destroy(&m->osd_lock);
	mdsc_map_cleanup(m);
	rpc_engine_free(m->eng);
	pthread_cond_destroy(&m->watch_cond);
	pthread_mutex_destroy(&m->watch_lock);
	pthread_mutex_destroy(&m->map_lock);
	free(m);
}

uint16_t mdsc_nshards(const struct mdsc *m)
{
	return m->nshards;
}

const char *mdsc_shard_addr(const struct mdsc *m, uint16_t shard)
{
	return shard < m->nshards ? m->addr[shard] : NULL;
}

struct rpc_client *mdsc_client(const struct mdsc *m, uint16_t shard)
{
	return shard < m->nshards ? m->cli[shard] : NULL;
}

int mdsc_ino_shard(const struct mdsc *m, uint64_t ino, uint16_t *shard)
{
	uint64_t s = ino >> 48;

	if (ino == 0)
		return -EINVAL;
	if (s >= m->nshards)
		return -ESTALE;
	*shard = (uint16_t)s;
	return 0;
}

bool mdsc_op_idempotent(uint16_t opcode)
{
	switch (opcode) {
	case PROTO_OP_PING:
	case PROTO_OP_MDS_LOOKUP:
	case PROTO_OP_MDS_GETATTR:
	case PROTO_OP_MDS_READLINK:
	case PROTO_OP_MDS_READDIR:
	case PROTO_OP_MDS_STATFS:
	case PROTO_OP_MDS_GETXATTR:
	case PROTO_OP_MDS_LISTXATTR:
	case PROTO_OP_ADMIN_MAP_GET:
	case PROTO_OP_ADMIN_POOL_LIST:
	case PROTO_OP_ADMIN_STATUS:
	case PROTO_OP_ADMIN_OSD_STATS:
		return true;
	default:
		return false;
	}
}

/*
 * A namespace request answered -EREMOTE went to the wrong shard: the
 * client's routing and the server disagree, which the caller cannot act
 * on (-EIO).  A body the shard could not decode is a bad argument.
 */
static int status_fixup(uint16_t shard, uint16_t opcode, int status)
{
	if (status == -EREMOTE && opcode >= PROTO_OP_MDS_FIRST && opcode <= PROTO_OP_MDS_LAST) {
		log_error("mds shard %u answered opcode %#x with EREMOTE: routing mismatch", shard,
			  opcode);
		return -EIO;
	}
	if (status == -CAIRN_EBADFRAME) {
		/* The shard could not decode our body: an argument it refuses. */
		log_warn("mds shard %u refused the body of opcode %#x", shard, opcode);
		return -EINVAL;
	}
	return status;
}

int mdsc_call(struct mdsc *m, uint16_t shard, uint16_t opcode, const void *body, size_t len,
	      int timeout_ms, struct rpc_msg **resp)
{
	struct rpc_call call = {
	    .opcode = opcode, .body = body, .body_len = (uint32_t)len, .timeout_ms = timeout_ms};
	int rc;

	*resp = NULL;
	if (shard >= m->nshards || len > UINT32_MAX)
		return -EINVAL;
	for (int attempt = 0;; attempt++) {
		rc = rpc_call_sync(m->cli[shard], &call, resp);
		if (rc != -ECONNRESET || !mdsc_op_idempotent(opcode) || attempt >= MDSC_RETRIES)
			break;
		log_debug("mds shard %u: connection reset, resending opcode %#x", shard, opcode);
	}
	if (rc) {
		rpc_msg_free(*resp);
		*resp = NULL;
	}
	return status_fixup(shard, opcode, rc);
}

/* A fan-out in progress: pending counts the calls not answered yet. */
struct many_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t pending;
};

struct many_slot {
	struct many_wait *w;
	struct mdsc_req *r;
};

static void many_done(void *arg, int status, struct rpc_msg *resp)
{
	struct many_slot *s = arg;
	struct many_wait *w = s->w;

	s->r->status = status;
	if (status) {
		rpc_msg_free(resp);
		resp = NULL;
	}
	s->r->resp = resp;
	pthread_mutex_lock(&w->lock);
	if (--w->pending == 0)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Marks a request still to send: no status from anywhere has this value. */
#define TO_SEND INT_MIN

/* Submits the requests marked TO_SEND and waits for them. */
static void many_round(struct mdsc *m, struct mdsc_req *reqs, size_t n, struct many_slot *slots)
{
	struct many_wait w = {.pending = 1};

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (size_t i = 0; i < n; i++) {
		struct mdsc_req *r = &reqs[i];
		struct rpc_call call = {.opcode = r->opcode,
					.body = r->body,
					.body_len = r->len,
					.timeout_ms = r->timeout_ms};
		int rc;

		if (r->status != TO_SEND)
			continue;
		slots[i] = (struct many_slot){.w = &w, .r = r};
		pthread_mutex_lock(&w.lock);
		w.pending++;
		pthread_mutex_unlock(&w.lock);
		/* done() may run before rpc_call_async() returns: r->status is
		 * only written here when it will not be called. */
		rc = r->shard < m->nshards
			 ? rpc_call_async(m->cli[r->shard], &call, many_done, &slots[i])
			 : -EINVAL;
		if (rc) {
			r->status = rc;
			pthread_mutex_lock(&w.lock);
			w.pending--;
			pthread_mutex_unlock(&w.lock);
		}
	}
	pthread_mutex_lock(&w.lock);
	w.pending--; /* the submitter's own count */
	while (w.pending)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
}

void mdsc_call_many(struct mdsc *m, struct mdsc_req *reqs, size_t n)
{
	struct many_slot *slots;
	bool again;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		reqs[i].status = TO_SEND;
		reqs[i].resp = NULL;
	}
	slots = calloc(n, sizeof(*slots));
	if (!slots) {
		for (size_t i = 0; i < n; i++)
			reqs[i].status = -ENOMEM;
		return;
	}
	for (int attempt = 0;; attempt++) {
		many_round(m, reqs, n, slots);
		again = false;
		for (size_t i = 0; i < n; i++) {
			if (reqs[i].status == -ECONNRESET && mdsc_op_idempotent(reqs[i].opcode) &&
			    attempt < MDSC_RETRIES) {
				reqs[i].status = TO_SEND;
				again = true;
			}
		}
		if (!again)
			break;
	}
	for (size_t i = 0; i < n; i++)
		reqs[i].status = status_fixup(reqs[i].shard, reqs[i].opcode, reqs[i].status);
	free(slots);
}

void mdsc_dec_init(struct wire_dec *d, const struct rpc_msg *resp)
{
	wire_dec_init(d, resp->body, resp->body_len);
	wire_dec_set_version(d, resp->hdr.version);
}

int mdsc_dec_check(int rc, uint16_t opcode)
{
	if (rc == -CAIRN_EBADFRAME) {
		log_error("malformed reply to opcode %#x from the mds", opcode);
		return -EIO;
	}
	return rc;
}

/* Adds a client for addr to m->osds; under osd_lock. */
static int osd_client_add(struct mdsc *m, const char *addr, struct rpc_client **out)
{
	struct mdsc_osd *n;
	struct rpc_opts ro;
	int rc;

	if (m->nosds == MDSC_OSDS_MAX)
		return -ENOMEM;
	if (m->nosds == m->osd_cap) {
		size_t cap = m->osd_cap ? m->osd_cap * 2 : 16;

		n = realloc(m->osds, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->osds = n;
		m->osd_cap = cap;
	}
	rc = rpc_opts_from_cfg(m, m->key, &ro);
	if (rc)
		return rc;
	n = &m->osds[m->nosds];
	snprintf(n->addr, sizeof(n->addr), "%s", addr);
	rc = rpc_client_new(n->addr, &ro, &n->cli);
	if (rc) {
		log_error("osd at %s: %s", addr, error_str(rc));
		return rc;
	}
	m->nosds++;
	*out = n->cli;
	return 0;
}

int mdsc_osd_client(struct mdsc *m, const char *addr, size_t alen, struct rpc_client **out)
{
	char a[MDSC_ADDR_MAX];
	int rc = 0;

	if (!m || !addr || !out || alen == 0 || alen >= sizeof(a))
		return -EINVAL;
	memcpy(a, addr, alen);
	a[alen] = '\0';
	pthread_mutex_lock(&m->osd_lock);
	for (size_t i = 0; i < m->nosds; i++) {
		if (strcmp(m->osds[i].addr, a) == 0) {
			*out = m->osds[i].cli;
			goto out;
		}
	}
	rc = osd_client_add(m, a, out);
out:
	pthread_mutex_unlock(&m->osd_lock);
	return rc;
}
