/*
 * rpc_server.c - the RPC server: a listener, the connections it accepts
 * (spread over the engine's loops), and the dispatch of requests to the
 * handler, inline on the I/O thread or through a pool of worker threads.
 *
 * Threads and ownership:
 *   - The listener lives on one loop; each accepted connection is adopted
 *     by a loop (round robin) and listed in that loop's srv_loop.conns,
 *     which only that loop's thread touches.
 *   - A struct rpc_req is owned by the handler from dispatch until
 *     rpc_reply(), which may run on any thread.  It holds a reference on
 *     its connection, so a reply to a closed connection is harmless.
 *   - A reply (struct srv_out) belongs to the connection's send queue once
 *     queued; its sent() callback runs the caller's release and frees it.
 *   - srv->outstanding counts unreplied requests plus one for the running
 *     server; rpc_server_stop() drops that one and waits on a semaphore
 *     posted by whoever brings the count to zero.
 */
#include "common/rpc_int.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "proto/frame.h"

#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100	 /* when out of descriptors or memory */
#define REPLY_COPY_MAX (64u * 1024) /* convenience replies up to this are copied at once */

struct srv_loop {
	struct rpc_list conns; /* that loop's thread only */
};

struct rpc_server {
	struct rpc_opts opts; /* immutable copy */
	const struct net_ops *net;
	rpc_handler_fn fn;
	void *arg;
	struct rpc_engine *eng;
	bool private_eng;
	struct srv_loop *loops; /* one per engine loop */

	/* Listener: its loop's thread only. */
	struct rpc_loop *lloop;
	struct net_listener *lis;
	int lis_fd;
	int port; /* immutable */
	int pause_tfd;
	struct rpc_watch lis_watch;
	struct rpc_watch pause_watch;

	atomic_bool stopping;
	atomic_uint outstanding; /* unreplied requests + 1 while running */
	sem_t drained;

	/* Worker pool (workers > 0). */
	pthread_t *workers;
	int nworkers;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	struct rpc_list wq; /* wlock */
	bool wstop;	    /* wlock */
};

struct rpc_req {
	struct rpc_list node; /* srv->wq */
	struct rpc_server *srv;
	struct rpc_conn *conn; /* reference held */
	struct rpc_msg *msg;   /* owned unless taken */
	uint64_t id;
	uint16_t opcode;
	bool oneway;
	char peer[NET_ADDR_MAX];
};

struct srv_out {
	struct rpc_out out;
	void (*release)(void *arg);
	void *release_arg;
	struct iovec iov[]; /* [0] header + body (+ copied data), then data */
};

struct adopt {
	struct rpc_task task;
	struct rpc_server *srv;
	struct rpc_loop *loop;
	struct net_conn *nc;
};

/* ---- requests and replies ---- */

static void srv_req_finish(struct rpc_req *req)
{
	struct rpc_server *srv = req->srv;

	rpc_conn_unref(req->conn);
	rpc_msg_free(req->msg);
	free(req);
	if (atomic_fetch_sub(&srv->outstanding, 1) == 1)
		sem_post(&srv->drained);
}

const struct rpc_msg *rpc_req_msg(const struct rpc_req *req)
{
	return req->msg;
}

struct rpc_msg *rpc_req_take_msg(struct rpc_req *req)
{
	struct rpc_msg *msg = req->msg;

	req->msg = NULL;
	return msg;
}

const char *rpc_req_peer(const struct rpc_req *req)
{
	return req->peer;
}

static void srv_out_sent(struct rpc_out *o, int err)
{
	struct srv_out *so = rpc_container_of(o, struct srv_out, out);

	(void)err;
	if (so->release)
		so->release(so->release_arg);
	free(o->copy);
	free(so);
}

static int reply_check(const void *body, uint32_t body_len, const struct iovec *data, int cnt,
		       uint64_t *data_len)
{
	uint64_t total = 0;

	if ((body_len && !body) || cnt < 0 || cnt > RPC_DATA_IOV_MAX || (cnt && !data))
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		if (data[i].iov_len && !data[i].iov_base)
			return -EINVAL;
		total += data[i].iov_len;
	}
	*data_len = total;
	return 0;
}

/* Builds the reply frame; data is copied into it when `copy`. */
static struct srv_out *reply_build(struct rpc_req *req, int status, const void *body,
				   uint32_t body_len, const struct iovec *data, int cnt,
				   uint32_t data_len, bool copy)
{
	size_t iov_bytes = (size_t)(1 + (copy ? 0 : cnt)) * sizeof(struct iovec);
	size_t bytes = PROTO_HDR_SIZE + (size_t)body_len + (copy ? data_len : 0);
	struct srv_out *so = malloc(sizeof(*so) + iov_bytes + bytes);
	struct proto_hdr h = {
		.opcode = req->opcode,
		.flags = PROTO_F_RESPONSE,
		.status = status,
		.req_id = req->id,
		.body_len = body_len,
		.data_len = data_len,
	};
	uint8_t *hb, *p;

	if (!so)
		return NULL;
	memset(so, 0, sizeof(*so));
	hb = (uint8_t *)so->iov + iov_bytes;
	if (data_len && req->conn->send_crc) {
		h.flags |= PROTO_F_DATA_CRC;
		h.data_crc = proto_data_crc(data, cnt);
	}
	if (body_len)
		memcpy(hb + PROTO_HDR_SIZE, body, body_len);
	rpc_frame_encode(req->conn, &h, hb + PROTO_HDR_SIZE, hb);
	so->iov[0].iov_base = hb;
	so->iov[0].iov_len = bytes;
	p = hb + PROTO_HDR_SIZE + body_len;
	for (int i = 0; i < cnt; i++) {
		if (copy) {
			if (data[i].iov_len) /* an empty piece may have no base */
				memcpy(p, data[i].iov_base, data[i].iov_len);
			p += data[i].iov_len;
		} else {
			so->iov[1 + i] = data[i];
		}
	}
	so->out.iov = so->iov;
	so->out.iovcnt = 1 + (copy ? 0 : cnt);
	so->out.total = so->out.left = PROTO_HDR_SIZE + (size_t)body_len + data_len;
	so->out.sent = srv_out_sent;
	atomic_init(&so->out.state, OUT_IDLE);
	return so;
}

/* Sends the reply; returns 0 or -errno with release not yet called. */
static int reply_send(struct rpc_req *req, int status, const void *body, uint32_t body_len,
		      const struct iovec *data, int cnt, uint32_t data_len,
		      void (*release)(void *), void *release_arg)
{
	bool copy = !release && data_len <= REPLY_COPY_MAX;
	struct srv_out *so;
	int ret;

	so = reply_build(req, status, body, body_len, data, cnt, data_len, copy);
	if (!so) {
		rpc_conn_kill_async(req->conn, -ENOMEM);
		return -ENOMEM;
	}
	so->release = release;
	so->release_arg = release_arg;
	ret = rpc_conn_send(req->conn, &so->out, release || copy ? 0 : SEND_COPY_REST);
	if (ret) {
		free(so->out.copy);
		free(so);
	}
	return ret;
}

int rpc_reply(struct rpc_req *req, int status, const void *body, uint32_t body_len,
	      const struct iovec *data, int data_cnt, void (*release)(void *), void *release_arg)
{
	uint64_t data_len = 0;
	int ret;

	if (!req)
		return -EINVAL;
	/*
	 * The slot is free before the reply leaves: a client may send its next
	 * request as soon as it sees this one answered.
	 */
	atomic_fetch_sub(&req->conn->inflight, 1);
	if (req->oneway) {
		ret = 0;
		goto out_release;
	}
	ret = reply_check(body, body_len, data, data_cnt, &data_len);
	if (!ret && data_len + body_len > req->conn->peer_max_frame) {
		log_warn("rpc: reply to %s (opcode %#x) of %llu bytes exceeds its max_frame %u",
			 req->peer, req->opcode, (unsigned long long)(data_len + body_len),
			 req->conn->peer_max_frame);
		ret = -EMSGSIZE;
	}
	if (ret) {
		/* Tell the client what went wrong instead of the reply. */
		status = ret;
		(void)reply_send(req, status, NULL, 0, NULL, 0, 0, NULL, NULL);
		goto out_release;
	}
	ret = reply_send(req, status, body, body_len, data, data_cnt, (uint32_t)data_len,
			 release, release_arg);
	if (ret)
		goto out_release;
	srv_req_finish(req);
	return 0;
out_release:
	if (release)
		release(release_arg);
	srv_req_finish(req);
	return ret;
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct rpc_server *srv = arg;

	pthread_setname_np(pthread_self(), "cairn-rpc-work");
	pthread_mutex_lock(&srv->wlock);
	for (;;) {
		struct rpc_req *req;

		while (rpc_list_empty(&srv->wq) && !srv->wstop)
			pthread_cond_wait(&srv->wcond, &srv->wlock);
		if (rpc_list_empty(&srv->wq))
			break;
		req = rpc_container_of(srv->wq.next, struct rpc_req, node);
		rpc_list_del(&req->node);
		pthread_mutex_unlock(&srv->wlock);
		srv->fn(srv->arg, req);
		pthread_mutex_lock(&srv->wlock);
	}
	pthread_mutex_unlock(&srv->wlock);
	return NULL;
}

static void workers_stop(struct rpc_server *srv)
{
	pthread_mutex_lock(&srv->wlock);
	srv->wstop = true;
	pthread_cond_broadcast(&srv->wcond);
	pthread_mutex_unlock(&srv->wlock);
	for (int i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

static int workers_start(struct rpc_server *srv, int n)
{
	int ret = 0;

	srv->workers = calloc((size_t)n, sizeof(*srv->workers));
	if (!srv->workers)
		return -ENOMEM;
	for (; srv->nworkers < n; srv->nworkers++) {
		ret = -pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv);
		if (ret)
			break;
	}
	if (ret)
		workers_stop(srv);
	return ret;
}

/* ---- connection callbacks (loop thread) ---- */

static int srv_rx_begin(struct rpc_conn *c, struct rpc_rx *rx)
{
	const struct proto_hdr *h = &rx->msg->hdr;

	if (h->flags & PROTO_F_RESPONSE)
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "response frame from a client");
	if (h->opcode == PROTO_OP_HELLO || h->opcode == PROTO_OP_AUTH ||
	    h->opcode == PROTO_OP_AUTH_OK)
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "handshake opcode %#x after the handshake",
				     h->opcode);
	if (atomic_load(&c->inflight) >= c->max_inflight)
		return rpc_conn_fail(c, -EBUSY, "more than max_inflight (%u) requests in flight",
				     c->max_inflight);
	return 0;
}

static void srv_rx_done(struct rpc_conn *c, struct rpc_msg *msg, void *ctx)
{
	struct rpc_server *srv = c->owner;
	struct rpc_req *req = malloc(sizeof(*req));

	(void)ctx;
	if (!req) {
		rpc_msg_free(msg);
		(void)rpc_conn_fail(c, -ENOMEM, "out of memory for a request");
		return;
	}
	req->srv = srv;
	req->conn = c;
	req->msg = msg;
	req->id = msg->hdr.req_id;
	req->opcode = msg->hdr.opcode;
	req->oneway = msg->hdr.flags & PROTO_F_ONEWAY;
	memcpy(req->peer, c->peer, sizeof(req->peer));
	rpc_conn_ref(c);
	atomic_fetch_add(&c->inflight, 1);
	atomic_fetch_add(&srv->outstanding, 1);
	if (req->opcode == PROTO_OP_PING) {
		(void)rpc_reply(req, 0, NULL, 0, NULL, 0, NULL, NULL);
	} else if (srv->nworkers) {
		pthread_mutex_lock(&srv->wlock);
		rpc_list_add_tail(&srv->wq, &req->node);
		pthread_cond_signal(&srv->wcond);
		pthread_mutex_unlock(&srv->wlock);
	} else {
		srv->fn(srv->arg, req);
	}
}

static void srv_rx_abort(struct rpc_conn *c, void *ctx, int err)
{
	(void)c;
	(void)ctx;
	(void)err;
}

static void srv_ready(struct rpc_conn *c)
{
	log_debug("rpc: %s authenticated", c->peer);
}

static void srv_closed(struct rpc_conn *c, int err)
{
	log_debug("rpc: connection from %s closed: %s", c->peer, error_str(err));
	rpc_list_del(&c->owner_node);
}

static const struct rpc_conn_ops srv_conn_ops = {
	.rx_begin = srv_rx_begin,
	.rx_done = srv_rx_done,
	.rx_abort = srv_rx_abort,
	.ready = srv_ready,
	.closed = srv_closed,
};

/* ---- listener ---- */

static void adopt_task(struct rpc_task *t)
{
	struct adopt *a = rpc_container_of(t, struct adopt, task);
	struct rpc_server *srv = a->srv;
	struct rpc_conn_args args = {
		.loop = a->loop,
		.net = srv->net,
		.nc = a->nc,
		.ops = &srv_conn_ops,
		.owner = srv,
		.opts = &srv->opts,
		.is_server = true,
	};
	struct rpc_conn *c;
	int ret;

	if (atomic_load(&srv->stopping)) {
		srv->net->close(a->nc);
		free(a);
		return;
	}
	ret = rpc_conn_start(&args, &c);
	if (ret) {
		log_warn("rpc: cannot set up a connection: %s", error_str(ret));
	} else {
		rpc_list_add_tail(&srv->loops[a->loop - srv->eng->loops].conns, &c->owner_node);
		rpc_conn_unref(c); /* the loop registration keeps it */
	}
	free(a);
}

static void listener_pause(struct rpc_server *srv, int err)
{
	log_warn("rpc: cannot accept connections on port %d: %s; pausing %d ms", srv->port,
		 error_str(err), ACCEPT_PAUSE_MS);
	rpc_loop_mod(srv->lloop, srv->lis_fd, 0, &srv->lis_watch);
	rpc_timerfd_set(srv->pause_tfd, rpc_now_ms() + ACCEPT_PAUSE_MS);
}

static void pause_fn(struct rpc_watch *w, uint32_t events)
{
	struct rpc_server *srv = rpc_container_of(w, struct rpc_server, pause_watch);
	uint64_t ticks;

	(void)events;
	(void)!read(srv->pause_tfd, &ticks, sizeof(ticks));
	if (srv->lis)
		rpc_loop_mod(srv->lloop, srv->lis_fd, EPOLLIN, &srv->lis_watch);
}

static void accept_fn(struct rpc_watch *w, uint32_t events)
{
	struct rpc_server *srv = rpc_container_of(w, struct rpc_server, lis_watch);

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH && srv->lis; i++) {
		struct net_conn *nc;
		struct adopt *a;
		int ret = srv->net->accept(srv->lis, &nc);

		if (ret == -EAGAIN)
			return;
		if (ret == -EMFILE || ret == -ENFILE || ret == -ENOBUFS || ret == -ENOMEM)
			return listener_pause(srv, ret);
		if (ret) {
			log_debug("rpc: accept on port %d: %s", srv->port, error_str(ret));
			continue;
		}
		a = calloc(1, sizeof(*a));
		if (!a) {
			srv->net->close(nc);
			return listener_pause(srv, -ENOMEM);
		}
		a->task.fn = adopt_task;
		a->srv = srv;
		a->nc = nc;
		a->loop = rpc_engine_pick(srv->eng);
		rpc_loop_post(a->loop, &a->task);
	}
}

static void close_listener(void *arg)
{
	struct rpc_server *srv = arg;

	rpc_loop_del(srv->lloop, srv->lis_fd);
	rpc_loop_del(srv->lloop, srv->pause_tfd);
	srv->net->listener_close(srv->lis);
	srv->lis = NULL;
}

/* ---- life ---- */

static int srv_alloc(const struct rpc_opts *opts, rpc_handler_fn fn, void *arg,
		     struct rpc_server **out)
{
	struct rpc_server *srv = calloc(1, sizeof(*srv));
	int ret;

	if (!srv)
		return -ENOMEM;
	srv->opts = *opts;
	srv->net = opts->net ? opts->net : &net_tcp_ops;
	srv->fn = fn;
	srv->arg = arg;
	srv->lis_watch.fn = accept_fn;
	srv->pause_watch.fn = pause_fn;
	atomic_init(&srv->outstanding, 1);
	sem_init(&srv->drained, 0, 0);
	pthread_mutex_init(&srv->wlock, NULL);
	pthread_cond_init(&srv->wcond, NULL);
	rpc_list_init(&srv->wq);
	srv->pause_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->pause_tfd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = rpc_engine_attach(opts, opts->io_threads, &srv->eng, &srv->private_eng);
	if (ret)
		goto fail;
	srv->loops = calloc((size_t)srv->eng->nloops, sizeof(*srv->loops));
	if (!srv->loops) {
		rpc_engine_detach(srv->eng, srv->private_eng);
		ret = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < srv->eng->nloops; i++)
		rpc_list_init(&srv->loops[i].conns);
	*out = srv;
	return 0;
fail:
	if (srv->pause_tfd >= 0)
		close(srv->pause_tfd);
	sem_destroy(&srv->drained);
	pthread_cond_destroy(&srv->wcond);
	pthread_mutex_destroy(&srv->wlock);
	free(srv);
	return ret;
}

static void srv_free(struct rpc_server *srv)
{
	rpc_engine_detach(srv->eng, srv->private_eng);
	free(srv->loops);
	close(srv->pause_tfd);
	sem_destroy(&srv->drained);
	pthread_cond_destroy(&srv->wcond);
	pthread_mutex_destroy(&srv->wlock);
	free(srv);
}

int rpc_server_start(const char *addr, const struct rpc_opts *opts, rpc_handler_fn fn, void *arg,
		     struct rpc_server **out)
{
	struct rpc_server *srv = NULL;
	int ret;

	if (!addr || !opts || !fn || !out)
		return -EINVAL;
	ret = rpc_opts_check(opts, addr);
	if (ret)
		return ret;
	ret = srv_alloc(opts, fn, arg, &srv);
	if (ret)
		return ret;
	ret = srv->net->listen(addr, opts->socket_buffer, &srv->lis);
	if (ret) {
		log_error("rpc: cannot listen on %s: %s", addr, error_str(ret));
		goto fail;
	}
	srv->lis_fd = srv->net->listener_fd(srv->lis);
	srv->port = srv->net->listener_port(srv->lis);
	ret = workers_start(srv, opts->workers);
	if (ret)
		goto fail_listener;
	/* srv is complete: accept_fn may run as soon as the listener is added. */
	srv->lloop = rpc_engine_pick(srv->eng);
	ret = rpc_loop_add(srv->lloop, srv->pause_tfd, EPOLLIN, &srv->pause_watch);
	if (ret)
		goto fail_workers;
	ret = rpc_loop_add(srv->lloop, srv->lis_fd, EPOLLIN, &srv->lis_watch);
	if (ret) {
		rpc_loop_del(srv->lloop, srv->pause_tfd);
		goto fail_workers;
	}
	log_info("rpc: listening on %s (port %d, %s)", addr, srv->port, srv->net->name);
	*out = srv;
	return 0;
fail_workers:
	workers_stop(srv);
fail_listener:
	srv->net->listener_close(srv->lis);
fail:
	srv_free(srv);
	return ret;
}

int rpc_server_port(const struct rpc_server *srv)
{
	return srv->port;
}

struct kill_conns {
	struct rpc_server *srv;
	struct srv_loop *sl;
};

static void kill_conns(void *arg)
{
	struct kill_conns *k = arg;

	while (!rpc_list_empty(&k->sl->conns)) {
		struct rpc_conn *c = rpc_container_of(k->sl->conns.next, struct rpc_conn, owner_node);

		rpc_conn_kill(c, -ESHUTDOWN); /* srv_closed() unlinks it */
	}
}

void rpc_server_stop(struct rpc_server *srv)
{
	if (!srv)
		return;
	if (rpc_engine_on_thread(srv->eng)) {
		log_error("rpc: rpc_server_stop() called from an I/O thread of its engine");
		abort();
	}
	atomic_store(&srv->stopping, true);
	rpc_loop_run_sync(srv->lloop, close_listener, srv);
	for (int i = 0; i < srv->eng->nloops; i++) {
		struct kill_conns k = {.srv = srv, .sl = &srv->loops[i]};

		rpc_loop_run_sync(&srv->eng->loops[i], kill_conns, &k);
	}
	/* Handlers still owning requests reply to dead connections. */
	if (atomic_fetch_sub(&srv->outstanding, 1) != 1)
		while (sem_wait(&srv->drained) && errno == EINTR)
			;
	workers_stop(srv);
	log_info("rpc: server on port %d stopped", srv->port);
	srv_free(srv);
}
