/*
 * rpc_conn.c - one RPC connection, shared by the client and the server:
 * the send queue, the frame receiver, and the authentication handshake.
 *
 * Sending (any thread): frames are appended to the send queue under
 * sq.lock.  If nobody is writing, the appending thread becomes the flusher:
 * it gathers the queued frames into one sendmsg() and writes with the lock
 * released, so other threads keep appending and their frames leave in the
 * flusher's next call.  When the socket is full, EPOLLOUT is armed and the
 * loop thread flushes.  While the loop thread is in a read batch the queue
 * is corked, so the replies of a batch of requests leave in one call.
 *
 * Receiving (loop thread): reads go to a 64 KiB buffer parsed into frames;
 * large bodies and data are read straight into their destination.  Frames
 * before the handshake completes are limited to a few hundred bytes.  On a
 * ready client connection a thread blocked on a call may take the receive
 * role instead (rpc_conn_rx_acquire): EPOLLIN is disarmed, the thread polls
 * and reads with the same code, and failures it meets are handed to the
 * loop as a kill request, since only the loop thread closes a connection.
 *
 * The handshake is in rpc_handshake.c.
 *
 * Life: the loop's epoll registration owns a reference; rpc_conn_kill()
 * (loop thread) unregisters, closes the transport, fails what is queued and
 * drops that reference once the event batch is over.
 */
#include "common/rpc_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/csum.h"
#include "common/error.h"
#include "common/log.h"
#include "proto/frame.h"

#define RBUF_SIZE (64u * 1024)
#define DIRECT_MIN (16u * 1024)	  /* read straight into place from this size */
#define READ_BUDGET (4u << 20)	  /* bytes per event before other connections' turn */
#define FLUSH_IOV 64		  /* pieces gathered per sendmsg() */
#define HANDSHAKE_FRAME_MAX 256	  /* largest frame accepted before authentication */

/* The rest of an abandoned entry, copied. */
struct copy_out {
	struct rpc_out out;
	struct iovec iov;
	uint8_t bytes[];
};

/*
 * Kills from the receive path: at once on the loop thread; from a caller
 * holding the receive role, stops its reading and asks the loop.
 */
static void conn_kill_any(struct rpc_conn *c, int err)
{
	if (rpc_loop_on_thread(c->loop)) {
		rpc_conn_kill(c, err);
		return;
	}
	if (!c->rx_err)
		c->rx_err = err ? err : -ECONNRESET;
	rpc_conn_kill_async(c, err);
}

int rpc_conn_fail(struct rpc_conn *c, int err, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* rx_err is the reading caller's; dead is the loop's (and stable for a reader). */
	if (rpc_loop_on_thread(c->loop) ? !c->dead : !c->rx_err)
		log_warn("rpc: closing connection %s %s: %s", c->is_server ? "from" : "to", c->peer,
			 why);
	conn_kill_any(c, err);
	return err;
}

static void free_out(struct rpc_out *o, int err)
{
	(void)err;
	free(o); /* first member of copy_out */
}

void rpc_frame_encode(const struct rpc_conn *c, struct proto_hdr *h, const void *body,
		      uint8_t out[PROTO_HDR_SIZE])
{
	if (h->opcode >= PROTO_OP_HELLO && h->opcode <= PROTO_OP_AUTH_OK)
		h->version = PROTO_HANDSHAKE_VERSION;
	else
		h->version = c->version;
	proto_hdr_encode(h, body, out);
}

/* ---- send queue ---- */

/* Consumes n written bytes from the head of the queue. */
static void sq_advance(struct rpc_conn *c, size_t n, struct rpc_list *done)
{
	while (n > 0) {
		struct rpc_out *o = rpc_container_of(c->sq.queue.next, struct rpc_out, node);

		if (n >= o->left) {
			n -= o->left;
			o->left = 0;
			rpc_list_del(&o->node);
			atomic_store_explicit(&o->state, OUT_DONE, memory_order_release);
			if (o->sent)
				rpc_list_add_tail(done, &o->node);
			continue;
		}
		o->left -= n;
		while (o->iovcnt && o->iov[0].iov_len <= n) {
			n -= o->iov[0].iov_len;
			o->iov++;
			o->iovcnt--;
		}
		o->iov[0].iov_base = (uint8_t *)o->iov[0].iov_base + n;
		o->iov[0].iov_len -= n;
		n = 0;
	}
}

static int sq_gather(struct rpc_conn *c, struct iovec *iov)
{
	struct rpc_list *pos;
	int n = 0;

	for (pos = c->sq.queue.next; pos != &c->sq.queue && n < FLUSH_IOV; pos = pos->next) {
		struct rpc_out *o = rpc_container_of(pos, struct rpc_out, node);

		for (int i = 0; i < o->iovcnt && n < FLUSH_IOV; i++)
			if (o->iov[i].iov_len)
				iov[n++] = o->iov[i];
	}
	return n;
}

/* Registers the fd for what the send queue and the receive role need. */
static void conn_arm_locked(struct rpc_conn *c)
{
	uint32_t ev = (c->rx_caller ? 0 : EPOLLIN) | (c->sq.want_out ? EPOLLOUT : 0);

	if (ev == c->armed || c->sq.dead)
		return;
	c->armed = ev;
	rpc_loop_mod(c->loop, c->fd, ev, &c->io_watch);
}

static void sq_set_want_out(struct rpc_conn *c, bool on)
{
	if (c->sq.want_out == on)
		return;
	c->sq.want_out = on;
	conn_arm_locked(c);
}

/*
 * Writes the queue until it is empty, the socket is full, or another thread
 * waits for the queue.  Called and returns with sq.lock held; the lock is
 * released around each write.  Entries that left the queue and have a sent()
 * callback are moved to done, for the caller to complete without the lock.
 */
static void sq_flush_locked(struct rpc_conn *c, struct rpc_list *done)
{
	struct iovec iov[FLUSH_IOV];
	bool failed = false;

	c->sq.flushing = true;
	while (!c->sq.dead && !rpc_list_empty(&c->sq.queue) && !c->sq.waiters) {
		int cnt = sq_gather(c, iov);
		ssize_t n;

		pthread_mutex_unlock(&c->sq.lock);
		n = c->net->sendv(c->nc, iov, cnt);
		pthread_mutex_lock(&c->sq.lock);
		if (n > 0) {
			sq_advance(c, (size_t)n, done);
		} else if (n == -EAGAIN) {
			sq_set_want_out(c, true);
			break;
		} else {
			c->sq.err = n ? (int)n : -EIO;
			c->sq.dead = true;
			failed = true;
		}
	}
	if (rpc_list_empty(&c->sq.queue) && c->sq.want_out && !c->sq.dead)
		sq_set_want_out(c, false);
	c->sq.flushing = false;
	if (c->sq.waiters)
		pthread_cond_broadcast(&c->sq.idle);
	if (failed)
		rpc_conn_kill_async(c, c->sq.err);
}

static void sq_complete(struct rpc_list *done, int err)
{
	while (!rpc_list_empty(done)) {
		struct rpc_out *o = rpc_container_of(done->next, struct rpc_out, node);

		rpc_list_del(&o->node);
		o->sent(o, err);
	}
}

/* Flushes if the queue has work and nobody else will do it. */
static void sq_kick_locked(struct rpc_conn *c, bool ignore_cork, struct rpc_list *done)
{
	if (c->sq.dead || c->sq.flushing || c->sq.want_out || rpc_list_empty(&c->sq.queue))
		return;
	if (c->sq.cork && !ignore_cork)
		return;
	sq_flush_locked(c, done);
}

static void sq_wait_idle_locked(struct rpc_conn *c)
{
	while (c->sq.flushing) {
		c->sq.waiters++;
		pthread_cond_wait(&c->sq.idle, &c->sq.lock);
		c->sq.waiters--;
	}
}

/* Copies what is left of o into one buffer. */
static void *out_copy_rest(const struct rpc_out *o, void *buf)
{
	uint8_t *p = buf;

	for (int i = 0; i < o->iovcnt; i++) {
		memcpy(p, o->iov[i].iov_base, o->iov[i].iov_len);
		p += o->iov[i].iov_len;
	}
	return buf;
}

/* SEND_COPY_REST: make a queued, queue-owned o independent of its data. */
static int sq_copy_rest_locked(struct rpc_conn *c, struct rpc_out *o)
{
	void *buf;

	/*
	 * No waiting for another flusher: since o was queued this thread has
	 * either held the lock or been the flusher itself, so no write in
	 * progress has gathered o's pieces.  Waiting here would let a dying
	 * connection drain and free o under us.
	 */
	if (atomic_load(&o->state) != OUT_QUEUED)
		return 0;
	buf = malloc(o->left);
	if (!buf) {
		rpc_list_del(&o->node);
		atomic_store(&o->state, OUT_DONE);
		c->sq.dead = true;
		rpc_conn_kill_async(c, -ENOMEM);
		return -ENOMEM;
	}
	out_copy_rest(o, buf);
	o->copy = buf;
	o->iov[0].iov_base = buf;
	o->iov[0].iov_len = o->left;
	o->iovcnt = 1;
	return 0;
}

int rpc_conn_send(struct rpc_conn *c, struct rpc_out *o, unsigned flags)
{
	struct rpc_list done;
	int ret = 0;

	rpc_list_init(&done);
	pthread_mutex_lock(&c->sq.lock);
	if (c->sq.dead) {
		ret = -ECONNRESET;
	} else if (atomic_load(&o->state) == OUT_ABANDONED) {
		ret = -ECANCELED;
	} else {
		atomic_store(&o->state, OUT_QUEUED);
		rpc_list_add_tail(&c->sq.queue, &o->node);
		sq_kick_locked(c, flags & (SEND_NOW | SEND_COPY_REST), &done);
		if (flags & SEND_COPY_REST)
			ret = sq_copy_rest_locked(c, o);
	}
	pthread_mutex_unlock(&c->sq.lock);
	sq_complete(&done, 0);
	return ret;
}

void rpc_out_detach(struct rpc_conn *c, struct rpc_out *o)
{
	struct copy_out *cp;
	struct rpc_list done;

	rpc_list_init(&done);
	pthread_mutex_lock(&c->sq.lock);
	sq_wait_idle_locked(c);
	switch (atomic_load(&o->state)) {
	case OUT_IDLE:
		atomic_store(&o->state, OUT_ABANDONED);
		break;
	case OUT_QUEUED:
		if (o->left == o->total) {
			rpc_list_del(&o->node);
			atomic_store(&o->state, OUT_ABANDONED);
			break;
		}
		/* Partly written: the stream needs the rest, from a copy. */
		cp = malloc(sizeof(*cp) + o->left);
		if (!cp) {
			rpc_list_del(&o->node);
			c->sq.dead = true;
			rpc_conn_kill_async(c, -ENOMEM);
		} else {
			memset(cp, 0, sizeof(*cp));
			cp->iov.iov_base = out_copy_rest(o, cp->bytes);
			cp->iov.iov_len = o->left;
			cp->out.iov = &cp->iov;
			cp->out.iovcnt = 1;
			cp->out.left = o->left;
			cp->out.total = o->total;
			cp->out.sent = free_out;
			atomic_init(&cp->out.state, OUT_QUEUED);
			rpc_list_add_after(&o->node, &cp->out.node);
			rpc_list_del(&o->node);
		}
		atomic_store(&o->state, OUT_ABANDONED);
		break;
	default:
		break;
	}
	sq_kick_locked(c, false, &done);
	pthread_mutex_unlock(&c->sq.lock);
	sq_complete(&done, 0);
}

static void conn_on_writable(struct rpc_conn *c)
{
	struct rpc_list done;

	rpc_list_init(&done);
	pthread_mutex_lock(&c->sq.lock);
	if (!c->sq.flushing && !c->sq.dead) {
		if (rpc_list_empty(&c->sq.queue))
			sq_set_want_out(c, false);
		else
			sq_flush_locked(c, &done);
	}
	pthread_mutex_unlock(&c->sq.lock);
	sq_complete(&done, 0);
}

/* ---- life ---- */

void rpc_conn_ref(struct rpc_conn *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void conn_free(struct rpc_conn *c)
{
	if (c->nc)
		c->net->close(c->nc);
	if (c->timerfd >= 0)
		close(c->timerfd);
	if (c->rx_wakefd >= 0)
		close(c->rx_wakefd);
	rpc_msg_free(c->rx.msg);
	free(c->rbuf);
	pthread_cond_destroy(&c->rx_idle);
	pthread_cond_destroy(&c->sq.idle);
	pthread_mutex_destroy(&c->sq.lock);
	free(c);
}

void rpc_conn_unref(struct rpc_conn *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		conn_free(c);
}

static void conn_release_task(struct rpc_task *t)
{
	rpc_conn_unref(rpc_container_of(t, struct rpc_conn, release_task));
}

static void conn_kill_task(struct rpc_task *t)
{
	struct rpc_conn *c = rpc_container_of(t, struct rpc_conn, kill_task);
	int err = atomic_load(&c->kill_err);

	if (!c->dead)
		log_info("rpc: closing connection %s %s: %s", c->is_server ? "from" : "to",
			 c->peer, error_str(err));
	rpc_conn_kill(c, err);
	rpc_conn_unref(c);
}

void rpc_conn_kill_async(struct rpc_conn *c, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&c->kill_err, &zero, err);
	if (atomic_exchange(&c->kill_posted, 1))
		return;
	rpc_conn_ref(c);
	rpc_loop_post(c->loop, &c->kill_task);
}

/* Stops callers from reading c and waits for the one reading, if any. */
static void rx_stop_callers(struct rpc_conn *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&c->sq.lock);
	c->rx_shared = false;
	if (c->rx_caller)
		(void)!write(c->rx_wakefd, &one, sizeof(one));
	while (c->rx_caller) {
		c->rx_kill_waiting++;
		pthread_cond_wait(&c->rx_idle, &c->sq.lock);
		c->rx_kill_waiting--;
	}
	pthread_mutex_unlock(&c->sq.lock);
}

/* Takes every queued frame out; returns those the queue owned. */
static void sq_drain(struct rpc_conn *c, struct rpc_list *owned)
{
	pthread_mutex_lock(&c->sq.lock);
	c->sq.dead = true;
	sq_wait_idle_locked(c);
	while (!rpc_list_empty(&c->sq.queue)) {
		struct rpc_out *o = rpc_container_of(c->sq.queue.next, struct rpc_out, node);

		rpc_list_del(&o->node);
		atomic_store_explicit(&o->state, OUT_DONE, memory_order_release);
		if (o->sent)
			rpc_list_add_tail(owned, &o->node);
	}
	pthread_mutex_unlock(&c->sq.lock);
}

void rpc_conn_kill(struct rpc_conn *c, int err)
{
	struct rpc_list owned;

	if (c->dead)
		return;
	rx_stop_callers(c);
	c->dead = true;
	rpc_list_init(&owned);
	sq_drain(c, &owned);
	rpc_loop_del(c->loop, c->fd);
	if (c->timerfd >= 0) {
		rpc_loop_del(c->loop, c->timerfd);
		close(c->timerfd);
		c->timerfd = -1;
	}
	c->net->close(c->nc);
	c->nc = NULL;
	sq_complete(&owned, err ? err : -ECONNRESET);
	if (c->rx_claimed) {
		c->rx_claimed = false;
		c->ops->rx_abort(c, c->rx.ctx, err);
	}
	rpc_msg_free(c->rx.msg);
	c->rx.msg = NULL;
	c->ops->closed(c, err);
	rpc_loop_defer(c->loop, &c->release_task);
}

/* ---- receiving ---- */

/* The receiver must stop: the connection is dead or a caller's read failed. */
static bool rx_stopped(const struct rpc_conn *c)
{
	return c->dead || c->rx_err;
}

/* Frees the current frame and resets the receiver for the next header. */
static void rx_reset(struct rpc_conn *c)
{
	c->rx_state = RX_HDR;
	c->rx.msg = NULL;
	c->rx.ctx = NULL;
	c->rx.dest = NULL;
	c->rx.discard = false;
	c->rx_claimed = false;
	c->rdata = NULL;
	c->rgot = 0;
}

/* A header arrived: validate it and prepare for the body.  0 or killed. */
static int rx_header(struct rpc_conn *c, const uint8_t *raw)
{
	struct proto_hdr *h = &c->rhdr;
	struct rpc_msg *msg;
	int ret;

	memcpy(c->rhdr_raw, raw, PROTO_HDR_SIZE);
	ret = proto_hdr_decode(raw, PROTO_FRAME_MAX, h);
	if (ret)
		return rpc_conn_fail(c, ret, "bad frame header (%s)", error_str(ret));
	if (h->body_len + h->data_len > c->rx_limit)
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "frame of %u bytes exceeds the limit of %u%s",
				 h->body_len + h->data_len, c->rx_limit,
				 c->stage == STAGE_READY ? "" : " before authentication");
	msg = malloc(sizeof(*msg) + h->body_len);
	if (!msg)
		return rpc_conn_fail(c, -ENOMEM, "out of memory for a %u-byte body", h->body_len);
	*msg = (struct rpc_msg){.hdr = *h, .body = msg + 1, .body_len = h->body_len};
	c->rx.msg = msg;
	c->rx_state = RX_BODY;
	c->rgot = 0;
	return 0;
}

/* Header and body in: check, hand to the handshake or the owner. */
static int rx_body_done(struct rpc_conn *c)
{
	struct rpc_msg *msg = c->rx.msg;
	int ret;

	if (proto_frame_check(c->rhdr_raw, &c->rhdr, msg->body))
		return rpc_conn_fail(c, -CAIRN_ECHECKSUM, "header checksum mismatch");
	if (c->stage != STAGE_READY) {
		ret = rpc_conn_handshake_frame(c, msg);
		if (ret)
			return ret; /* killed; the kill freed msg */
		rpc_msg_free(msg);
		rx_reset(c);
		return 0;
	}
	ret = c->ops->rx_begin(c, &c->rx);
	if (ret)
		return ret; /* rx_begin logged why; see rpc_conn_ops */
	c->rx_claimed = !c->rx.discard;
	c->rx_state = RX_DATA;
	c->rgot = 0;
	if (c->rx.discard || !msg->hdr.data_len)
		return 0;
	if (c->rx.dest) {
		c->rdata = c->rx.dest;
	} else {
		c->rdata = rpc_buf_alloc(msg->hdr.data_len);
		if (!c->rdata)
			return rpc_conn_fail(c, -ENOMEM, "out of memory for %u bytes of data",
					 msg->hdr.data_len);
		msg->priv = 1;
	}
	msg->data = c->rdata;
	msg->data_len = msg->hdr.data_len;
	return 0;
}

/* The whole frame is in: deliver it. */
static int rx_frame_done(struct rpc_conn *c)
{
	struct rpc_msg *msg = c->rx.msg;
	void *ctx = c->rx.ctx;

	if (c->rx.discard) {
		rpc_msg_free(msg);
		rx_reset(c);
		return 0;
	}
	if ((msg->hdr.flags & PROTO_F_DATA_CRC) &&
	    csum_crc32c(0, msg->data, msg->data_len) != msg->hdr.data_crc)
		return rpc_conn_fail(c, -CAIRN_ECHECKSUM, "data checksum mismatch");
	rx_reset(c);
	c->ops->rx_done(c, msg, ctx);
	return rx_stopped(c) ? -ECONNRESET : 0;
}

/* Parses what the read buffer holds; stops at a partial frame or death. */
static void rx_parse(struct rpc_conn *c)
{
	while (!rx_stopped(c)) {
		uint32_t avail = c->rend - c->rpos, n;
		const struct proto_hdr *h = &c->rhdr;

		if (c->rx_state == RX_HDR) {
			if (avail < PROTO_HDR_SIZE)
				break;
			if (rx_header(c, c->rbuf + c->rpos))
				return;
			c->rpos += PROTO_HDR_SIZE;
		} else if (c->rx_state == RX_BODY) {
			n = h->body_len - c->rgot < avail ? h->body_len - c->rgot : avail;
			memcpy((uint8_t *)c->rx.msg->body + c->rgot, c->rbuf + c->rpos, n);
			c->rpos += n;
			c->rgot += n;
			if (c->rgot < h->body_len)
				break;
			if (rx_body_done(c))
				return;
		} else {
			n = h->data_len - c->rgot < avail ? h->data_len - c->rgot : avail;
			if (c->rdata)
				memcpy(c->rdata + c->rgot, c->rbuf + c->rpos, n);
			c->rpos += n;
			c->rgot += n;
			if (c->rgot < h->data_len)
				break;
			if (rx_frame_done(c))
				return;
		}
	}
	if (c->rpos == c->rend)
		c->rpos = c->rend = 0;
}

/* Where the next read goes: straight into the body or data, or the buffer. */
static uint8_t *rx_target(struct rpc_conn *c, size_t *want, bool *direct)
{
	uint32_t left = 0;
	uint8_t *dst = NULL;

	if (c->rpos == c->rend && c->rx_state == RX_BODY) {
		left = c->rhdr.body_len - c->rgot;
		dst = (uint8_t *)c->rx.msg->body + c->rgot;
	} else if (c->rpos == c->rend && c->rx_state == RX_DATA && c->rdata) {
		left = c->rhdr.data_len - c->rgot;
		dst = c->rdata + c->rgot;
	}
	*direct = dst && left >= DIRECT_MIN;
	if (*direct) {
		*want = left;
		return dst;
	}
	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rend - c->rpos);
		c->rend -= c->rpos;
		c->rpos = 0;
	}
	*want = RBUF_SIZE - c->rend;
	return c->rbuf + c->rend;
}

/* Reads what the socket has, up to a budget; the receive role's holder. */
static void rx_read_batch(struct rpc_conn *c)
{
	size_t budget = READ_BUDGET;

	while (!rx_stopped(c) && budget) {
		size_t want;
		bool direct;
		uint8_t *dst = rx_target(c, &want, &direct);
		ssize_t n = c->net->recv(c->nc, dst, want);

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			if (n == 0 && c->rx_state == RX_HDR && c->rend == 0)
				log_debug("rpc: %s closed the connection", c->peer);
			else
				log_info("rpc: connection %s %s lost: %s", c->is_server ? "from" : "to",
					 c->peer, n ? error_str((int)n) : "closed mid-frame");
			conn_kill_any(c, -ECONNRESET);
			break;
		}
		if (direct) {
			c->rgot += (uint32_t)n;
			if (c->rx_state == RX_BODY ? c->rgot == c->rhdr.body_len
						   : c->rgot == c->rhdr.data_len)
				rx_parse(c); /* completes the frame with an empty buffer */
		} else {
			c->rend += (uint32_t)n;
			rx_parse(c);
		}
		budget -= (size_t)n < budget ? (size_t)n : budget;
		if ((size_t)n < want)
			break;
	}
}

/* The loop's read batch, corked; skipped while a caller holds the role. */
static void conn_on_readable(struct rpc_conn *c)
{
	struct rpc_list done;

	pthread_mutex_lock(&c->sq.lock);
	if (c->rx_caller || c->rx_err) {
		pthread_mutex_unlock(&c->sq.lock);
		return;
	}
	c->rx_loop = true;
	c->sq.cork++;
	pthread_mutex_unlock(&c->sq.lock);
	rx_read_batch(c);
	rpc_list_init(&done);
	pthread_mutex_lock(&c->sq.lock);
	c->rx_loop = false;
	c->sq.cork--;
	sq_kick_locked(c, false, &done);
	pthread_mutex_unlock(&c->sq.lock);
	sq_complete(&done, 0);
}

bool rpc_conn_rx_acquire(struct rpc_conn *c)
{
	bool ok;

	pthread_mutex_lock(&c->sq.lock);
	ok = c->rx_shared && !c->rx_caller && !c->rx_loop && !c->sq.dead;
	if (ok) {
		c->rx_caller = true;
		conn_arm_locked(c);
	}
	pthread_mutex_unlock(&c->sq.lock);
	return ok;
}

int rpc_conn_rx_poll(struct rpc_conn *c, int timeout_ms)
{
	struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->rx_wakefd, .events = POLLIN}};
	int n;

	if (c->rx_err)
		return c->rx_err;
	n = poll(p, 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (p[1].revents)
		return -ECANCELED; /* rpc_conn_kill() waits for us */
	rx_read_batch(c);
	return c->rx_err;
}

void rpc_conn_rx_release(struct rpc_conn *c)
{
	pthread_mutex_lock(&c->sq.lock);
	c->rx_caller = false;
	if (c->rx_err)
		c->rx_shared = false; /* the kill is posted; nobody reads any more */
	else
		conn_arm_locked(c);
	if (c->rx_kill_waiting)
		pthread_cond_broadcast(&c->rx_idle);
	pthread_mutex_unlock(&c->sq.lock);
}

static void conn_connected(struct rpc_conn *c)
{
	int ret = c->net->connect_done(c->nc);

	if (ret == -EAGAIN)
		return;
	if (ret) {
		log_debug("rpc: connect to %s: %s", c->peer, error_str(ret));
		rpc_conn_kill(c, ret);
		return;
	}
	c->stage = STAGE_WAIT_HELLO;
	pthread_mutex_lock(&c->sq.lock);
	c->armed = 0; /* EPOLLOUT until now */
	conn_arm_locked(c);
	pthread_mutex_unlock(&c->sq.lock);
}

static void conn_io_fn(struct rpc_watch *w, uint32_t events)
{
	struct rpc_conn *c = rpc_container_of(w, struct rpc_conn, io_watch);

	if (c->dead)
		return;
	if (c->stage == STAGE_CONNECTING)
		return conn_connected(c);
	if (events & EPOLLOUT)
		conn_on_writable(c);
	if (!c->dead && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_on_readable(c);
}

/* ---- creation ---- */

static struct rpc_conn *conn_alloc(const struct rpc_conn_args *a)
{
	struct rpc_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rbuf = malloc(RBUF_SIZE);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	atomic_init(&c->refs, 2); /* the caller's and the loop registration's */
	c->loop = a->loop;
	c->net = a->net;
	c->nc = a->nc;
	c->fd = a->net->fd(a->nc);
	c->ops = a->ops;
	c->owner = a->owner;
	c->key = a->opts->key;
	c->is_server = a->is_server;
	c->send_crc = a->opts->data_crc;
	c->max_frame = a->opts->max_frame;
	c->max_inflight = a->opts->max_inflight;
	a->net->peer_name(a->nc, c->peer, sizeof(c->peer));
	c->version = PROTO_VERSION;
	c->rx_limit = HANDSHAKE_FRAME_MAX;
	c->timerfd = -1;
	c->rx_wakefd = -1;
	c->armed = a->connecting ? EPOLLOUT : EPOLLIN;
	c->io_watch.fn = conn_io_fn;
	c->timer_watch.fn = rpc_conn_handshake_timeout;
	c->kill_task.fn = conn_kill_task;
	c->release_task.fn = conn_release_task;
	rpc_list_init(&c->owner_node);
	rpc_list_init(&c->sq.queue);
	pthread_mutex_init(&c->sq.lock, NULL);
	pthread_cond_init(&c->sq.idle, NULL);
	pthread_cond_init(&c->rx_idle, NULL);
	rx_reset(c);
	return c;
}

int rpc_conn_start(const struct rpc_conn_args *a, struct rpc_conn **out)
{
	struct rpc_conn *c = conn_alloc(a);
	int ret;

	if (!c) {
		a->net->close(a->nc);
		return -ENOMEM;
	}
	c->stage = a->connecting ? STAGE_CONNECTING
				 : (a->is_server ? STAGE_WAIT_AUTH : STAGE_WAIT_HELLO);
	c->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timerfd < 0) {
		ret = -errno;
		goto fail;
	}
	if (a->caller_rx) {
		c->rx_wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (c->rx_wakefd < 0) {
			ret = -errno;
			goto fail;
		}
	}
	rpc_timerfd_set(c->timerfd, rpc_now_ms() + a->opts->connect_timeout_ms);
	ret = rpc_loop_add(c->loop, c->timerfd, EPOLLIN, &c->timer_watch);
	if (ret)
		goto fail;
	ret = rpc_loop_add(c->loop, c->fd, a->connecting ? EPOLLOUT : EPOLLIN, &c->io_watch);
	if (ret) {
		rpc_loop_del(c->loop, c->timerfd);
		goto fail;
	}
	if (a->is_server) {
		ret = rpc_conn_send_hello(c);
		if (ret) {
			rpc_loop_del(c->loop, c->timerfd);
			rpc_loop_del(c->loop, c->fd);
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	conn_free(c);
	return ret;
}
