/*
 * rpc_handshake.c - the mutual HMAC handshake that opens every RPC
 * connection (proto/conn.h): the server sends HELLO with its nonce and
 * limits, the client answers with AUTH (its proof and limits), the server
 * checks it and answers with AUTH_OK (its own proof), and both sides settle
 * the protocol version.  A failure closes the connection.
 *
 * Threads: everything here runs on the connection's loop thread, which owns
 * the handshake state in struct rpc_conn; frames are sent through the send
 * queue (rpc_conn.c), which owns them until written.
 */
#include "common/rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/error.h"
#include "common/log.h"
#include "proto/frame.h"

/* A frame built here (handshake), owned by the queue. */
struct ctl_out {
	struct rpc_out out;
	struct iovec iov;
	uint8_t buf[PROTO_HDR_SIZE + PROTO_AUTH_SIZE];
};

static void free_ctl(struct rpc_out *o, int err)
{
	(void)err;
	free(o); /* first member of ctl_out */
}

/* Sends a handshake frame (written at once: the queue is empty then). */
static int conn_send_ctl(struct rpc_conn *c, uint16_t opcode, uint32_t flags, int status,
			 const void *body, uint32_t body_len)
{
	struct ctl_out *o = calloc(1, sizeof(*o));
	struct proto_hdr h = {.opcode = opcode, .flags = flags, .status = status,
			      .body_len = body_len};
	int ret;

	if (!o)
		return -ENOMEM;
	rpc_frame_encode(c, &h, body, o->buf);
	if (body_len)
		memcpy(o->buf + PROTO_HDR_SIZE, body, body_len);
	o->iov.iov_base = o->buf;
	o->iov.iov_len = PROTO_HDR_SIZE + body_len;
	o->out.iov = &o->iov;
	o->out.iovcnt = 1;
	o->out.left = o->out.total = o->iov.iov_len;
	o->out.sent = free_ctl;
	ret = rpc_conn_send(c, &o->out, SEND_NOW);
	if (ret)
		free(o);
	return ret;
}

static void conn_ready(struct rpc_conn *c)
{
	c->stage = STAGE_READY;
	c->rx_limit = c->max_frame;
	rpc_loop_del(c->loop, c->timerfd);
	close(c->timerfd);
	c->timerfd = -1;
	if (c->rx_wakefd >= 0) {
		pthread_mutex_lock(&c->sq.lock);
		c->rx_shared = true;
		pthread_mutex_unlock(&c->sq.lock);
	}
	c->ops->ready(c);
}

int rpc_conn_send_hello(struct rpc_conn *c)
{
	struct proto_hello m = {.version = PROTO_VERSION, .max_frame = c->max_frame,
				.max_inflight = c->max_inflight};
	uint8_t body[PROTO_HELLO_SIZE];
	size_t len;
	int ret;

	ret = auth_nonce(c->nonce);
	if (ret)
		return ret;
	memcpy(m.nonce, c->nonce, PROTO_NONCE_SIZE);
	proto_hello_encode(&m, body, sizeof(body), &len);
	return conn_send_ctl(c, PROTO_OP_HELLO, 0, 0, body, (uint32_t)len);
}

/* Client: HELLO received; answer with AUTH. */
static int conn_on_hello(struct rpc_conn *c, const struct rpc_msg *msg)
{
	struct proto_hello hello;
	struct proto_auth m = {.max_frame = c->max_frame, .max_inflight = c->max_inflight};
	uint8_t body[PROTO_AUTH_SIZE];
	size_t len;

	if (msg->hdr.opcode != PROTO_OP_HELLO || (msg->hdr.flags & PROTO_F_RESPONSE))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "expected HELLO, got opcode %#x",
				 msg->hdr.opcode);
	if (proto_hello_decode(msg->body, msg->body_len, &hello))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "malformed HELLO");
	if (hello.version < PROTO_VERSION_MIN)
		return rpc_conn_fail(c, -CAIRN_EPROTOVER, "server speaks protocol %u, we need >= %u",
				 hello.version, PROTO_VERSION_MIN);
	c->version = hello.version < PROTO_VERSION ? hello.version : PROTO_VERSION;
	c->peer_max_frame = hello.max_frame;
	c->peer_max_inflight = hello.max_inflight;
	memcpy(c->peer_nonce, hello.nonce, PROTO_NONCE_SIZE);
	m.version = c->version;
	if (auth_nonce(c->nonce) || auth_proof_client(c->key, c->peer_nonce, c->nonce, m.proof))
		return rpc_conn_fail(c, -EIO, "cannot compute the authentication proof");
	memcpy(m.nonce, c->nonce, PROTO_NONCE_SIZE);
	proto_auth_encode(&m, body, sizeof(body), &len);
	if (conn_send_ctl(c, PROTO_OP_AUTH, 0, 0, body, (uint32_t)len))
		return rpc_conn_fail(c, -ECONNRESET, "cannot send AUTH");
	c->stage = STAGE_WAIT_AUTH_OK;
	return 0;
}

/* Server: refuses the handshake with status, then closes. */
static int conn_refuse(struct rpc_conn *c, int status, const char *why)
{
	log_warn("rpc: authentication failed for %s: %s", c->peer, why);
	(void)conn_send_ctl(c, PROTO_OP_AUTH_OK, PROTO_F_RESPONSE, status, NULL, 0);
	rpc_conn_kill(c, status);
	return status;
}

/* Server: AUTH received; check the proof and answer with ours. */
static int conn_on_auth(struct rpc_conn *c, const struct rpc_msg *msg)
{
	struct proto_auth m;
	struct proto_auth_ok ok;
	uint8_t expect[PROTO_PROOF_SIZE];
	uint8_t body[PROTO_AUTH_OK_SIZE];
	size_t len;

	if (msg->hdr.opcode != PROTO_OP_AUTH || (msg->hdr.flags & PROTO_F_RESPONSE))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "opcode %#x before authentication",
				 msg->hdr.opcode);
	if (proto_auth_decode(msg->body, msg->body_len, &m))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "malformed AUTH");
	if (m.version < PROTO_VERSION_MIN || m.version > PROTO_VERSION)
		return conn_refuse(c, -CAIRN_EPROTOVER, "unsupported protocol version");
	if (auth_proof_client(c->key, c->nonce, m.nonce, expect))
		return rpc_conn_fail(c, -EIO, "cannot compute the authentication proof");
	if (!auth_proof_equal(expect, m.proof))
		return conn_refuse(c, -CAIRN_EAUTH, "wrong key (bad proof)");
	if (auth_proof_server(c->key, m.nonce, c->nonce, ok.proof))
		return rpc_conn_fail(c, -EIO, "cannot compute the authentication proof");
	c->version = m.version;
	c->peer_max_frame = m.max_frame;
	c->peer_max_inflight = m.max_inflight;
	proto_auth_ok_encode(&ok, body, sizeof(body), &len);
	if (conn_send_ctl(c, PROTO_OP_AUTH_OK, PROTO_F_RESPONSE, 0, body, (uint32_t)len))
		return rpc_conn_fail(c, -ECONNRESET, "cannot send AUTH_OK");
	conn_ready(c);
	return 0;
}

/* Client: AUTH_OK received; check the server's proof. */
static int conn_on_auth_ok(struct rpc_conn *c, const struct rpc_msg *msg)
{
	struct proto_auth_ok ok;
	uint8_t expect[PROTO_PROOF_SIZE];

	if (msg->hdr.opcode != PROTO_OP_AUTH_OK || !(msg->hdr.flags & PROTO_F_RESPONSE))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "expected AUTH_OK, got opcode %#x",
				 msg->hdr.opcode);
	if (msg->hdr.status == -CAIRN_EPROTOVER)
		return rpc_conn_fail(c, -CAIRN_EPROTOVER, "server refused protocol version %u",
				 c->version);
	if (msg->hdr.status)
		return rpc_conn_fail(c, -CAIRN_EAUTH, "server refused our key (%s)",
				 error_str(msg->hdr.status));
	if (proto_auth_ok_decode(msg->body, msg->body_len, &ok))
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "malformed AUTH_OK");
	if (auth_proof_server(c->key, c->nonce, c->peer_nonce, expect))
		return rpc_conn_fail(c, -EIO, "cannot compute the authentication proof");
	if (!auth_proof_equal(expect, ok.proof))
		return rpc_conn_fail(c, -CAIRN_EAUTH, "server failed to prove the cluster key");
	conn_ready(c);
	return 0;
}

int rpc_conn_handshake_frame(struct rpc_conn *c, const struct rpc_msg *msg)
{
	if (msg->hdr.data_len || msg->hdr.req_id)
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "unexpected frame during the handshake");
	switch (c->stage) {
	case STAGE_WAIT_HELLO:
		return conn_on_hello(c, msg);
	case STAGE_WAIT_AUTH:
		return conn_on_auth(c, msg);
	case STAGE_WAIT_AUTH_OK:
		return conn_on_auth_ok(c, msg);
	default:
		return rpc_conn_fail(c, -CAIRN_EBADFRAME, "frame in an unexpected state");
	}
}

void rpc_conn_handshake_timeout(struct rpc_watch *w, uint32_t events)
{
	struct rpc_conn *c = rpc_container_of(w, struct rpc_conn, timer_watch);

	(void)events;
	if (!c->dead && c->stage != STAGE_READY)
		(void)rpc_conn_fail(c, -ETIMEDOUT, "handshake not finished in time");
}
