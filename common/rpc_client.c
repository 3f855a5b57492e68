/*
 * rpc_client.c - the RPC client: one persistent, authenticated connection
 * to one server address, shared by every thread, with many requests in
 * flight matched by request id.
 *
 * A request (struct cli_req) is, under cli->lock, in exactly one of:
 *   WAITING    in waitq: not connected yet, or the server's max_inflight
 *              is reached; sent later by cli_pump()
 *   PENDING    in the id table, sent or being sent on req->conn
 *   TOMBSTONE  timed out and completed, but still in the id table: the
 *              server holds it in flight until it answers, so it still
 *              counts against max_inflight; its late answer is dropped
 *   RECEIVING  its response is arriving (the loop thread owns it)
 * and its done() is called by whoever takes it out of WAITING, PENDING or
 * RECEIVING, always without any lock held.  Live (WAITING, PENDING)
 * requests are also in the deadline list, sorted, which the client's timerfd
 * follows lazily: it is re-armed only when it fires or a request is due
 * before it.
 *
 * Threads: submitters (any thread) write their frame directly when they
 * can; the client's loop thread connects, reads responses, runs callbacks,
 * handles timeouts and reconnects with exponential back-off and jitter.
 * A request is refcounted: the tracking state owns one reference, and a
 * thread about to send it holds another.
 *
 * Blocking calls read their own answer when they can: a thread in
 * rpc_call_sync() takes the connection's receive role if nobody reads
 * (rpc_conn_rx_acquire), so one wake-up per call instead of two (the loop's,
 * then the caller's).  It completes the blocking calls whose answers it
 * reads, and passes the others to the loop thread (cli->cq), where every
 * rpc_call_async() callback runs.  Blocking callers that find the role
 * taken sleep until their call is done, by the reader or by the loop, which
 * reads whenever no caller does.  rpc_client_free() waits for every
 * blocking caller to leave.
 */
#include "common/rpc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "proto/frame.h"

#define CLI_BUCKETS 1024 /* power of two; ids are sequential */

enum cli_state { CLI_IDLE, CLI_CONNECTING, CLI_READY, CLI_CLOSING };
enum req_state { REQ_WAITING, REQ_PENDING, REQ_TOMBSTONE, REQ_RECEIVING, REQ_DONE };

struct cli_req {
	struct rpc_list node;	   /* waitq or an id bucket (cli->lock) */
	struct rpc_list dl_node;   /* deadline list while live (cli->lock) */
	struct rpc_list send_node; /* a sender's local batch */
	struct rpc_list done_node; /* a completer's local list, or cli->cq */
	struct rpc_msg *resp;	   /* its response while in cli->cq */
	atomic_int refs;
	enum req_state state;	   /* cli->lock */
	struct rpc_conn *conn;	   /* set once when PENDING (cli->lock); ref held */
	uint64_t id;		   /* immutable */
	int64_t deadline;	   /* immutable */
	rpc_done_fn done;	   /* immutable */
	void *arg;
	void *rx_buf;
	uint32_t rx_cap;
	struct proto_hdr hdr;	   /* all but version and CRC, set at submission */
	const uint8_t *body;	   /* points into hb */
	uint8_t *hb;		   /* header + body bytes */
	struct rpc_out out;
	struct iovec iov[];	   /* [0] header + body, then the data */
};

struct rpc_client {
	char addr[NET_ADDR_MAX]; /* immutable, numeric */
	struct rpc_opts opts;	 /* immutable copy */
	const struct net_ops *net;
	struct rpc_engine *eng;
	bool private_eng;
	struct rpc_loop *loop;
	int tfd;
	struct rpc_watch timer_watch;

	pthread_mutex_t lock;
	enum cli_state state;		/* lock */
	struct rpc_conn *conn;		/* lock; our reference while set */
	uint32_t peer_max_frame;	/* lock; valid when READY */
	uint32_t peer_max_inflight;	/* lock; valid when READY */
	uint32_t inflight;		/* lock: PENDING + TOMBSTONE */
	uint32_t tombstones;		/* lock */
	struct rpc_list waitq;		/* lock */
	struct rpc_list deadlines;	/* lock: live requests by deadline */
	struct rpc_list buckets[CLI_BUCKETS]; /* lock: PENDING and TOMBSTONE by id */
	uint64_t next_id;		/* lock */
	int64_t timer_at;		/* lock: tfd armed for this time, 0 = not */
	int64_t retry_at;		/* lock: next connection attempt, 0 = none */
	int backoff_ms;			/* lock */
	int refuse_err;			/* lock: last handshake's EAUTH/EPROTOVER */
	bool down_logged;		/* lock */
	uint64_t rng;			/* lock */

	/* Blocking calls (see the top comment). */
	struct rpc_list cq;		/* lock: answered async requests for the loop */
	struct rpc_task cq_task;	/* completes cq on the loop thread */
	atomic_int sync_active;		/* threads inside rpc_call_sync() */
	pthread_cond_t sync_gone;	/* lock: broadcast when closing and none left */
};

static const struct rpc_conn_ops cli_conn_ops;

/* ---- requests ---- */

static void req_unref(struct cli_req *req)
{
	if (atomic_fetch_sub_explicit(&req->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (req->conn)
		rpc_conn_unref(req->conn);
	free(req);
}

/* Calls done() once the queue no longer reads the caller's data; no lock held. */
static void req_complete(struct cli_req *req, int status, struct rpc_msg *resp)
{
	if (req->conn && !rpc_out_settled(&req->out))
		rpc_out_detach(req->conn, &req->out);
	req->done(req->arg, status, resp);
	req_unref(req);
}

static void complete_list(struct rpc_list *list, int status)
{
	while (!rpc_list_empty(list)) {
		struct cli_req *req = rpc_container_of(list->next, struct cli_req, done_node);

		rpc_list_del(&req->done_node);
		req_complete(req, status, NULL);
	}
}

static int call_check(const struct rpc_call *call, uint32_t *data_len)
{
	uint64_t total = 0;

	if (call->opcode == PROTO_OP_HELLO || call->opcode == PROTO_OP_AUTH ||
	    call->opcode == PROTO_OP_AUTH_OK || call->timeout_ms < 0)
		return -EINVAL;
	if ((call->body_len && !call->body) || call->data_cnt < 0 ||
	    call->data_cnt > RPC_DATA_IOV_MAX || (call->data_cnt && !call->data) ||
	    (call->rx_cap && !call->rx_buf))
		return -EINVAL;
	for (int i = 0; i < call->data_cnt; i++) {
		if (call->data[i].iov_len && !call->data[i].iov_base)
			return -EINVAL;
		total += call->data[i].iov_len;
	}
	if (total + call->body_len > PROTO_FRAME_MAX)
		return -EMSGSIZE;
	*data_len = (uint32_t)total;
	return 0;
}

static struct cli_req *req_new(struct rpc_client *cli, const struct rpc_call *call,
			       uint32_t data_len, rpc_done_fn done, void *arg)
{
	size_t iov_bytes = (size_t)(1 + call->data_cnt) * sizeof(struct iovec);
	struct cli_req *req = malloc(sizeof(*req) + iov_bytes + PROTO_HDR_SIZE + call->body_len);

	if (!req)
		return NULL;
	memset(req, 0, sizeof(*req));
	atomic_init(&req->refs, 1);
	atomic_init(&req->out.state, OUT_IDLE);
	req->done = done;
	req->arg = arg;
	req->rx_buf = call->rx_buf;
	req->rx_cap = call->rx_cap;
	req->hb = (uint8_t *)req->iov + iov_bytes;
	req->body = req->hb + PROTO_HDR_SIZE;
	if (call->body_len)
		memcpy(req->hb + PROTO_HDR_SIZE, call->body, call->body_len);
	req->hdr.opcode = call->opcode;
	req->hdr.body_len = call->body_len;
	req->hdr.data_len = data_len;
	if (cli->opts.data_crc && data_len) {
		req->hdr.flags |= PROTO_F_DATA_CRC;
		req->hdr.data_crc = proto_data_crc(call->data, call->data_cnt);
	}
	req->iov[0].iov_base = req->hb;
	req->iov[0].iov_len = PROTO_HDR_SIZE + call->body_len;
	for (int i = 0; i < call->data_cnt; i++)
		req->iov[1 + i] = call->data[i];
	req->out.iov = req->iov;
	req->out.iovcnt = 1 + call->data_cnt;
	req->out.total = req->out.left = PROTO_HDR_SIZE + (size_t)call->body_len + data_len;
	return req;
}

/* ---- id table, deadlines, timer (all under cli->lock) ---- */

static struct rpc_list *bucket(struct rpc_client *cli, uint64_t id)
{
	return &cli->buckets[id & (CLI_BUCKETS - 1)];
}

static struct cli_req *table_find(struct rpc_client *cli, uint64_t id)
{
	struct rpc_list *b = bucket(cli, id);

	for (struct rpc_list *p = b->next; p != b; p = p->next) {
		struct cli_req *req = rpc_container_of(p, struct cli_req, node);

		if (req->id == id)
			return req;
	}
	return NULL;
}

static void deadline_insert(struct rpc_client *cli, struct cli_req *req)
{
	struct rpc_list *pos = cli->deadlines.prev;

	while (pos != &cli->deadlines &&
	       rpc_container_of(pos, struct cli_req, dl_node)->deadline > req->deadline)
		pos = pos->prev;
	rpc_list_add_after(pos, &req->dl_node);
}

/* Makes sure the timer fires no later than at (lazy: never re-armed later). */
static void timer_need(struct rpc_client *cli, int64_t at)
{
	if (at <= 0 || (cli->timer_at && cli->timer_at <= at))
		return;
	cli->timer_at = at;
	rpc_timerfd_set(cli->tfd, at);
}

/* Re-arms the timer for the earliest of the next deadline and retry. */
static void timer_rearm(struct rpc_client *cli)
{
	int64_t at = cli->retry_at;

	if (!rpc_list_empty(&cli->deadlines)) {
		int64_t d = rpc_container_of(cli->deadlines.next, struct cli_req, dl_node)->deadline;

		if (!at || d < at)
			at = d;
	}
	cli->timer_at = at;
	rpc_timerfd_set(cli->tfd, at);
}

static uint32_t rng_next(struct rpc_client *cli)
{
	cli->rng ^= cli->rng << 13;
	cli->rng ^= cli->rng >> 7;
	cli->rng ^= cli->rng << 17;
	return (uint32_t)(cli->rng >> 32);
}

/* Schedules the next connection attempt after a failure, with jitter. */
static void schedule_retry(struct rpc_client *cli)
{
	int b = cli->backoff_ms;
	int delay = b / 2 + (int)(rng_next(cli) % (uint32_t)(b - b / 2 + 1));

	cli->retry_at = rpc_now_ms() + delay;
	cli->backoff_ms = b > cli->opts.reconnect_max_ms / 2 ? cli->opts.reconnect_max_ms : 2 * b;
	timer_need(cli, cli->retry_at);
}

/* ---- sending ---- */

static void req_send(struct rpc_conn *conn, struct cli_req *req)
{
	rpc_frame_encode(conn, &req->hdr, req->body, req->hb);
	/* -ECONNRESET: closed() fails it; -ECANCELED: it already timed out. */
	(void)rpc_conn_send(conn, &req->out, 0);
}

/*
 * Under lock: WAITING or new -> PENDING on cli->conn.  Takes a reference
 * for the caller, who sends the request and drops it; req->conn keeps the
 * connection alive for as long as the request exists.
 */
static void make_pending(struct rpc_client *cli, struct cli_req *req)
{
	req->state = REQ_PENDING;
	req->conn = cli->conn;
	rpc_conn_ref(cli->conn);
	rpc_list_add_tail(bucket(cli, req->id), &req->node);
	cli->inflight++;
	atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
}

/* Sends waiting requests while the server's max_inflight allows. */
static void cli_pump(struct rpc_client *cli)
{
	struct rpc_list batch, too_big;

	rpc_list_init(&batch);
	rpc_list_init(&too_big);
	pthread_mutex_lock(&cli->lock);
	while (cli->state == CLI_READY && !rpc_list_empty(&cli->waitq) &&
	       cli->inflight < cli->peer_max_inflight) {
		struct cli_req *req = rpc_container_of(cli->waitq.next, struct cli_req, node);

		rpc_list_del(&req->node);
		if ((uint64_t)req->hdr.body_len + req->hdr.data_len > cli->peer_max_frame) {
			rpc_list_del(&req->dl_node);
			req->state = REQ_DONE;
			rpc_list_add_tail(&too_big, &req->done_node);
			continue;
		}
		make_pending(cli, req);
		rpc_list_add_tail(&batch, &req->send_node);
	}
	pthread_mutex_unlock(&cli->lock);
	while (!rpc_list_empty(&batch)) {
		struct cli_req *req = rpc_container_of(batch.next, struct cli_req, send_node);

		rpc_list_del(&req->send_node);
		req_send(req->conn, req);
		req_unref(req);
	}
	complete_list(&too_big, -EMSGSIZE);
}

int rpc_call_async(struct rpc_client *cli, const struct rpc_call *call, rpc_done_fn done,
		   void *arg)
{
	struct cli_req *req;
	uint32_t data_len = 0;
	bool send = false;
	int ret;

	if (!cli || !call || !done)
		return -EINVAL;
	ret = call_check(call, &data_len);
	if (ret)
		return ret;
	req = req_new(cli, call, data_len, done, arg);
	if (!req)
		return -ENOMEM;
	pthread_mutex_lock(&cli->lock);
	if (cli->state == CLI_CLOSING)
		ret = -ESHUTDOWN;
	else if (cli->refuse_err)
		ret = cli->refuse_err;
	else if (cli->state == CLI_READY &&
		 (uint64_t)call->body_len + data_len > cli->peer_max_frame)
		ret = -EMSGSIZE;
	if (ret) {
		pthread_mutex_unlock(&cli->lock);
		free(req);
		return ret;
	}
	req->id = req->hdr.req_id = ++cli->next_id;
	req->deadline = rpc_now_ms() + (call->timeout_ms ? call->timeout_ms : cli->opts.timeout_ms);
	deadline_insert(cli, req);
	timer_need(cli, req->deadline);
	if (cli->state == CLI_READY && rpc_list_empty(&cli->waitq) &&
	    cli->inflight < cli->peer_max_inflight) {
		make_pending(cli, req);
		send = true;
	} else {
		req->state = REQ_WAITING;
		rpc_list_add_tail(&cli->waitq, &req->node);
	}
	pthread_mutex_unlock(&cli->lock);
	if (send) {
		req_send(req->conn, req);
		req_unref(req);
	}
	return 0;
}

/* One blocking call; its fields are under cli->lock. */
struct sync_wait {
	pthread_cond_t cond;	/* waited on with cli->lock */
	struct rpc_client *cli;
	atomic_bool done;	/* set under cli->lock, polled by a reader */
	int status;
	struct rpc_msg *resp;
};

static void sync_done(void *arg, int status, struct rpc_msg *resp)
{
	struct sync_wait *w = arg;
	struct rpc_client *cli = w->cli;

	pthread_mutex_lock(&cli->lock);
	w->status = status;
	w->resp = resp;
	atomic_store_explicit(&w->done, true, memory_order_release);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&cli->lock);
}

/* Under cli->lock: takes the receive role of the connection, with a reference. */
static struct rpc_conn *sync_take_reader(struct rpc_client *cli)
{
	struct rpc_conn *conn = cli->conn;

	if (cli->state != CLI_READY || !conn || !rpc_conn_rx_acquire(conn))
		return NULL;
	rpc_conn_ref(conn);
	return conn;
}

/*
 * Reads the connection until w is done (another thread may have finished it
 * meanwhile), the deadline passes, or the connection must not be read.
 * Returns false if this thread should not try reading again.
 */
static bool sync_read(struct rpc_conn *conn, struct sync_wait *w, int64_t deadline)
{
	while (!atomic_load_explicit(&w->done, memory_order_acquire)) {
		int64_t left = deadline - rpc_now_ms();
		int ret;

		if (left <= 0)
			return false; /* the loop's timer completes the call */
		ret = rpc_conn_rx_poll(conn, left > 60000 ? 60000 : (int)left);
		if (ret && ret != -ETIMEDOUT)
			return false;
	}
	return true;
}

/*
 * Waits for w: reads the answer itself when it can, else sleeps.  conn is
 * the connection whose receive role the caller took before sending, or NULL.
 */
static void sync_wait(struct rpc_client *cli, struct sync_wait *w, int64_t deadline,
		      struct rpc_conn *conn)
{
	bool may_read = true;

	pthread_mutex_lock(&cli->lock);
	while (!atomic_load_explicit(&w->done, memory_order_relaxed)) {
		if (!conn && may_read)
			conn = sync_take_reader(cli);
		if (conn) {
			pthread_mutex_unlock(&cli->lock);
			may_read = sync_read(conn, w, deadline);
			pthread_mutex_lock(&cli->lock);
			rpc_conn_rx_release(conn);
			rpc_conn_unref(conn);
			conn = NULL;
			continue;
		}
		pthread_cond_wait(&w->cond, &cli->lock);
	}
	pthread_mutex_unlock(&cli->lock);
	if (conn) { /* done before we got to read */
		rpc_conn_rx_release(conn);
		rpc_conn_unref(conn);
	}
}

int rpc_call_sync(struct rpc_client *cli, const struct rpc_call *call, struct rpc_msg **resp)
{
	struct sync_wait w = {.cli = cli};
	struct rpc_conn *conn;
	int64_t deadline;
	int ret;

	*resp = NULL;
	if (!cli)
		return -EINVAL;
	if (rpc_engine_on_thread(cli->eng))
		return -EDEADLK;
	pthread_cond_init(&w.cond, NULL);
	atomic_init(&w.done, false);
	/* Not after the call's own deadline, which the loop's timer enforces. */
	deadline = rpc_now_ms() +
		   (call && call->timeout_ms > 0 ? call->timeout_ms : cli->opts.timeout_ms);
	atomic_fetch_add(&cli->sync_active, 1);
	/* Take the receive role first, so the loop is not woken by the answer. */
	pthread_mutex_lock(&cli->lock);
	conn = sync_take_reader(cli);
	pthread_mutex_unlock(&cli->lock);
	ret = rpc_call_async(cli, call, sync_done, &w);
	if (!ret) {
		sync_wait(cli, &w, deadline, conn);
		ret = w.status;
		*resp = w.resp;
	} else if (conn) {
		rpc_conn_rx_release(conn);
		rpc_conn_unref(conn);
	}
	pthread_mutex_lock(&cli->lock);
	if (atomic_fetch_sub(&cli->sync_active, 1) == 1 && cli->state == CLI_CLOSING)
		pthread_cond_broadcast(&cli->sync_gone);
	pthread_mutex_unlock(&cli->lock);
	pthread_cond_destroy(&w.cond);
	return ret;
}

/* Loop thread: completes the async requests whose answers a caller read. */
static void cli_cq_run(void *arg)
{
	struct rpc_client *cli = arg;
	struct rpc_list list;

	rpc_list_init(&list);
	pthread_mutex_lock(&cli->lock);
	rpc_list_splice_tail(&list, &cli->cq);
	pthread_mutex_unlock(&cli->lock);
	while (!rpc_list_empty(&list)) {
		struct cli_req *req = rpc_container_of(list.next, struct cli_req, done_node);

		rpc_list_del(&req->done_node);
		req_complete(req, req->resp->hdr.status, req->resp);
	}
}

static void cli_cq_task(struct rpc_task *t)
{
	cli_cq_run(rpc_container_of(t, struct rpc_client, cq_task));
}

/* ---- connection callbacks (loop thread) ---- */

static int cli_rx_begin(struct rpc_conn *c, struct rpc_rx *rx)
{
	struct rpc_client *cli = c->owner;
	const struct proto_hdr *h = &rx->msg->hdr;
	struct cli_req *req;
	bool freed = false;

	if (!(h->flags & PROTO_F_RESPONSE))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "request frame (opcode %#x) from a server",
				     h->opcode);
	pthread_mutex_lock(&cli->lock);
	req = table_find(cli, h->req_id);
	if (req) {
		rpc_list_del(&req->node);
		cli->inflight--;
		if (req->state == REQ_TOMBSTONE) {
			cli->tombstones--;
			req->state = REQ_DONE;
			freed = true;
		} else {
			rpc_list_del(&req->dl_node);
			req->state = REQ_RECEIVING;
		}
	}
	pthread_mutex_unlock(&cli->lock);
	if (!req || freed) {
		/* A late answer to a timed-out request, or an unknown id. */
		if (!req)
			log_debug("rpc: %s answered unknown request %llu", c->peer,
				  (unsigned long long)h->req_id);
		else
			req_unref(req);
		rx->discard = true;
	} else {
		if (req->rx_buf && h->data_len <= req->rx_cap)
			rx->dest = req->rx_buf;
		rx->ctx = req;
	}
	cli_pump(cli);
	return 0;
}

/* On the loop thread, or on a blocking caller holding the receive role. */
static void cli_rx_done(struct rpc_conn *c, struct rpc_msg *msg, void *ctx)
{
	struct rpc_client *cli = c->owner;
	struct cli_req *req = ctx;

	if (req->done == sync_done || rpc_loop_on_thread(c->loop)) {
		req_complete(req, msg->hdr.status, msg);
		return;
	}
	req->resp = msg; /* an async call's done() runs on the loop thread */
	pthread_mutex_lock(&cli->lock);
	rpc_list_add_tail(&cli->cq, &req->done_node);
	pthread_mutex_unlock(&cli->lock);
	rpc_loop_post(cli->loop, &cli->cq_task);
}

static void cli_rx_abort(struct rpc_conn *c, void *ctx, int err)
{
	(void)c;
	if (err != -ECANCELED && err != -CAIRN_ECHECKSUM)
		err = -ECONNRESET;
	req_complete(ctx, err, NULL);
}

static void cli_ready(struct rpc_conn *c)
{
	struct rpc_client *cli = c->owner;

	pthread_mutex_lock(&cli->lock);
	if (cli->state == CLI_CLOSING) {
		pthread_mutex_unlock(&cli->lock);
		return;
	}
	if (cli->down_logged)
		log_info("rpc: connected to %s", cli->addr);
	cli->state = CLI_READY;
	cli->peer_max_frame = c->peer_max_frame;
	cli->peer_max_inflight = c->peer_max_inflight;
	cli->backoff_ms = cli->opts.reconnect_min_ms;
	cli->refuse_err = 0;
	cli->down_logged = false;
	pthread_mutex_unlock(&cli->lock);
	cli_pump(cli);
}

/* Under lock: takes every PENDING request out (failing) and frees tombstones. */
static void take_table(struct rpc_client *cli, struct rpc_list *fail, struct rpc_list *drop)
{
	for (int i = 0; i < CLI_BUCKETS; i++) {
		struct rpc_list *b = &cli->buckets[i];

		while (!rpc_list_empty(b)) {
			struct cli_req *req = rpc_container_of(b->next, struct cli_req, node);

			rpc_list_del(&req->node);
			if (req->state == REQ_PENDING) {
				rpc_list_del(&req->dl_node);
				rpc_list_add_tail(fail, &req->done_node);
			} else {
				rpc_list_add_tail(drop, &req->done_node);
			}
			req->state = REQ_DONE;
		}
	}
	cli->inflight = cli->tombstones = 0;
}

static void take_waitq(struct rpc_client *cli, struct rpc_list *fail)
{
	while (!rpc_list_empty(&cli->waitq)) {
		struct cli_req *req = rpc_container_of(cli->waitq.next, struct cli_req, node);

		rpc_list_del(&req->node);
		rpc_list_del(&req->dl_node);
		req->state = REQ_DONE;
		rpc_list_add_tail(fail, &req->done_node);
	}
}

/* Under lock: the connection attempt or connection is over; plan the next. */
static void note_down(struct rpc_client *cli, int err, bool was_ready, struct rpc_list *fail)
{
	if (cli->state == CLI_CLOSING)
		return;
	cli->state = CLI_IDLE;
	if (err == -CAIRN_EAUTH || err == -CAIRN_EPROTOVER) {
		cli->refuse_err = err;
		take_waitq(cli, fail);
	}
	if (was_ready) {
		log_warn("rpc: lost connection to %s (%s); reconnecting", cli->addr,
			 error_str(err));
		cli->down_logged = true;
	} else if (!cli->down_logged) {
		log_warn("rpc: cannot connect to %s: %s; retrying", cli->addr, error_str(err));
		cli->down_logged = true;
	}
	schedule_retry(cli);
}

static void cli_closed(struct rpc_conn *c, int err)
{
	struct rpc_client *cli = c->owner;
	struct rpc_list fail, drop, waitfail;
	bool was_ready, closing;

	rpc_list_init(&fail);
	rpc_list_init(&drop);
	rpc_list_init(&waitfail);
	pthread_mutex_lock(&cli->lock);
	was_ready = cli->state == CLI_READY;
	closing = cli->state == CLI_CLOSING;
	cli->conn = NULL;
	take_table(cli, &fail, &drop);
	if (closing)
		take_waitq(cli, &waitfail);
	else
		note_down(cli, err, was_ready, &waitfail);
	timer_rearm(cli);
	pthread_mutex_unlock(&cli->lock);
	complete_list(&fail, err == -ECANCELED ? -ECANCELED : -ECONNRESET);
	complete_list(&waitfail, closing ? -ECANCELED : err);
	while (!rpc_list_empty(&drop)) {
		struct cli_req *req = rpc_container_of(drop.next, struct cli_req, done_node);

		rpc_list_del(&req->done_node);
		req_unref(req);
	}
	rpc_conn_unref(c);
}

static const struct rpc_conn_ops cli_conn_ops = {
	.rx_begin = cli_rx_begin,
	.rx_done = cli_rx_done,
	.rx_abort = cli_rx_abort,
	.ready = cli_ready,
	.closed = cli_closed,
};

/* Starts a connection attempt (loop thread). */
static void cli_connect(struct rpc_client *cli)
{
	struct rpc_conn_args a = {
		.loop = cli->loop,
		.net = cli->net,
		.ops = &cli_conn_ops,
		.owner = cli,
		.opts = &cli->opts,
		.connecting = true,
		.caller_rx = true,
	};
	struct rpc_list fail;
	struct rpc_conn *conn;
	int ret;

	ret = cli->net->connect(cli->addr, cli->opts.socket_buffer, &a.nc);
	if (!ret)
		ret = rpc_conn_start(&a, &conn);
	pthread_mutex_lock(&cli->lock);
	if (!ret) {
		cli->conn = conn; /* rpc_conn_start's reference */
		pthread_mutex_unlock(&cli->lock);
		return;
	}
	rpc_list_init(&fail);
	note_down(cli, ret, false, &fail);
	pthread_mutex_unlock(&cli->lock);
	complete_list(&fail, ret);
}

/* Under lock: moves expired requests to expired; live ones become tombstones. */
static void expire(struct rpc_client *cli, int64_t now, struct rpc_list *expired)
{
	while (!rpc_list_empty(&cli->deadlines)) {
		struct cli_req *req = rpc_container_of(cli->deadlines.next, struct cli_req, dl_node);

		if (req->deadline > now)
			break;
		rpc_list_del(&req->dl_node);
		if (req->state == REQ_WAITING) {
			rpc_list_del(&req->node);
			req->state = REQ_DONE;
		} else {
			req->state = REQ_TOMBSTONE;
			cli->tombstones++;
			atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
		}
		rpc_list_add_tail(expired, &req->done_node);
	}
}

static void cli_timer_fn(struct rpc_watch *w, uint32_t events)
{
	struct rpc_client *cli = rpc_container_of(w, struct rpc_client, timer_watch);
	struct rpc_conn *stuck = NULL;
	struct rpc_list expired;
	bool connect = false;
	int64_t now = rpc_now_ms();
	uint64_t ticks;

	(void)events;
	(void)!read(cli->tfd, &ticks, sizeof(ticks));
	rpc_list_init(&expired);
	pthread_mutex_lock(&cli->lock);
	expire(cli, now, &expired);
	if (cli->state == CLI_READY && cli->tombstones >= cli->peer_max_inflight) {
		/* Every slot is held by a request the server never answered. */
		stuck = cli->conn;
		rpc_conn_ref(stuck);
	}
	if (cli->state == CLI_IDLE && cli->retry_at && cli->retry_at <= now) {
		cli->retry_at = 0;
		cli->state = CLI_CONNECTING;
		connect = true;
	}
	timer_rearm(cli);
	pthread_mutex_unlock(&cli->lock);
	complete_list(&expired, -ETIMEDOUT);
	if (stuck) {
		rpc_conn_fail(stuck, -ETIMEDOUT, "every request slot timed out; reconnecting");
		rpc_conn_unref(stuck);
	}
	if (connect)
		cli_connect(cli);
}

/* ---- life ---- */

int rpc_client_new(const char *addr, const struct rpc_opts *opts, struct rpc_client **out)
{
	struct rpc_client *cli;
	int ret;

	if (!addr || !opts || !out)
		return -EINVAL;
	ret = rpc_opts_check(opts, addr);
	if (ret)
		return ret;
	cli = calloc(1, sizeof(*cli));
	if (!cli)
		return -ENOMEM;
	ret = net_addr_resolve(addr, cli->addr, sizeof(cli->addr));
	if (ret) {
		log_error("rpc: cannot resolve %s: %s", addr, error_str(ret));
		goto out_free;
	}
	cli->opts = *opts;
	cli->net = opts->net ? opts->net : &net_tcp_ops;
	cli->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cli->tfd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = rpc_engine_attach(opts, 1, &cli->eng, &cli->private_eng);
	if (ret)
		goto out_tfd;
	cli->loop = rpc_engine_pick(cli->eng);
	pthread_mutex_init(&cli->lock, NULL);
	pthread_cond_init(&cli->sync_gone, NULL);
	rpc_list_init(&cli->cq);
	cli->cq_task.fn = cli_cq_task;
	rpc_list_init(&cli->waitq);
	rpc_list_init(&cli->deadlines);
	for (int i = 0; i < CLI_BUCKETS; i++)
		rpc_list_init(&cli->buckets[i]);
	cli->backoff_ms = opts->reconnect_min_ms;
	cli->rng = (uint64_t)rpc_now_ms() * 0x9e3779b97f4a7c15ull ^ (uintptr_t)cli;
	cli->rng |= 1;
	cli->state = CLI_IDLE;
	cli->timer_watch.fn = cli_timer_fn;
	cli->retry_at = rpc_now_ms(); /* connect at once */
	cli->timer_at = cli->retry_at;
	rpc_timerfd_set(cli->tfd, cli->retry_at);
	ret = rpc_loop_add(cli->loop, cli->tfd, EPOLLIN, &cli->timer_watch);
	if (ret)
		goto out_engine;
	*out = cli;
	return 0;
out_engine:
	pthread_cond_destroy(&cli->sync_gone);
	pthread_mutex_destroy(&cli->lock);
	rpc_engine_detach(cli->eng, cli->private_eng);
out_tfd:
	close(cli->tfd);
out_free:
	free(cli);
	return ret;
}

/* On the loop thread: close the connection, cancel everything. */
static void cli_shutdown(void *arg)
{
	struct rpc_client *cli = arg;
	struct rpc_conn *conn;
	struct rpc_list fail;

	rpc_list_init(&fail);
	pthread_mutex_lock(&cli->lock);
	conn = cli->conn;
	if (conn)
		rpc_conn_ref(conn);
	else
		take_waitq(cli, &fail);
	pthread_mutex_unlock(&cli->lock);
	if (conn) {
		rpc_conn_kill(conn, -ECANCELED); /* cli_closed() fails everything */
		rpc_conn_unref(conn);
	}
	complete_list(&fail, -ECANCELED);
	rpc_loop_del(cli->loop, cli->tfd);
}

void rpc_client_free(struct rpc_client *cli)
{
	if (!cli)
		return;
	if (rpc_engine_on_thread(cli->eng)) {
		log_error("rpc: rpc_client_free() called from an I/O thread of its engine");
		abort();
	}
	pthread_mutex_lock(&cli->lock);
	cli->state = CLI_CLOSING;
	pthread_mutex_unlock(&cli->lock);
	rpc_loop_run_sync(cli->loop, cli_shutdown, cli);
	/* No caller reads any more; what one passed on is posted before this. */
	rpc_loop_run_sync(cli->loop, cli_cq_run, cli);
	pthread_mutex_lock(&cli->lock);
	while (atomic_load(&cli->sync_active))
		pthread_cond_wait(&cli->sync_gone, &cli->lock);
	pthread_mutex_unlock(&cli->lock);
	close(cli->tfd);
	pthread_cond_destroy(&cli->sync_gone);
	pthread_mutex_destroy(&cli->lock);
	rpc_engine_detach(cli->eng, cli->private_eng);
	free(cli);
}
