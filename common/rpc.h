/*
 * rpc.h - request/response messaging between Cairn processes.
 *
 * NAME
 *	rpc - authenticated, pipelined RPC over a pluggable transport (net.h)
 *
 * DESCRIPTION
 *	A client (struct rpc_client) talks to one server address over one
 *	persistent connection shared by all threads; any number of requests
 *	are in flight at once, matched to responses by request id.  A server
 *	(struct rpc_server) accepts connections and hands each request to a
 *	handler, which replies exactly once, possibly later and from another
 *	thread.  Frames follow proto/proto.h: a header, a small body (copied),
 *	and optional bulk data that is sent from and received into separate
 *	buffers without passing through a frame buffer.
 *
 *	Every connection starts with a mutual HMAC handshake over the cluster
 *	key (proto/conn.h, common/auth.h).  Nothing else is accepted before it
 *	completes; a peer that fails it, sends a malformed frame, exceeds the
 *	negotiated limits, or stalls the handshake past connect_timeout_ms is
 *	logged and disconnected, without disturbing other connections.
 *
 * THREADS
 *	I/O runs on an engine (struct rpc_engine): a fixed set of event-loop
 *	threads, each with an epoll set and an eventfd for wake-ups.  Server
 *	connections are spread over the engine's threads; a client lives on one
 *	of them.  A client or server without an explicit engine gets a private
 *	one (a client then uses a single I/O thread).
 *
 *	Sending: the thread that submits a call or a reply writes it to the
 *	socket itself when the connection's send queue is idle (gathering
 *	header, body and the caller's data iovecs into one sendmsg); frames
 *	queued behind a full socket are written by the I/O thread.  Frames
 *	submitted by several threads at once are gathered into one system call.
 *
 *	Receiving: on the connection's I/O thread, which reads headers and
 *	bodies in 64 KiB chunks and bulk data straight into its destination.
 *	One exception: a thread blocked in rpc_call_sync() reads the client's
 *	connection itself when no other thread is reading it, until its answer
 *	is in (the I/O thread stops watching the socket meanwhile), so a
 *	blocking call costs one thread wake-up instead of two.  At most one
 *	thread reads a connection at a time; the reading caller completes the
 *	blocking calls whose answers it reads and hands every other answer to
 *	the I/O thread.  Server handlers run on the I/O thread when
 *	opts.workers is 0 (no thread hop; a handler must then not block), else
 *	on a pool of worker threads.  Client completion callbacks always run on
 *	the client's I/O thread, never inside rpc_call_async() and never on a
 *	thread blocked in rpc_call_sync().  No internal lock is held while a
 *	handler or callback runs: they may submit calls and reply freely, but
 *	must not call rpc_call_sync() (it returns -EDEADLK there),
 *	rpc_client_free() or rpc_server_stop() (these wait for the I/O thread
 *	they would be running on, and abort if called from it).
 *
 *	Timeouts, reconnection and limits: each call has a deadline; a call
 *	waiting for a connection or for a free slot (the server's max_inflight,
 *	learnt in the handshake) waits until then.  A response arriving after
 *	its call timed out is dropped, but the server still holds the request,
 *	so it keeps its slot until then.  A lost connection fails the calls in
 *	flight with -ECONNRESET (they may have run: requests are not assumed
 *	idempotent) and the client reconnects in the background with
 *	exponential back-off and jitter.
 *
 * OWNERSHIP
 *	rpc_call_async(): the call's body is copied; its data iovecs (the array
 *	and the bytes) and rx_buf are borrowed until done() is called.  done() is
 *	called exactly once if and only if rpc_call_async() returned 0, and it
 *	receives ownership of the response (free with rpc_msg_free).
 *
 *	Handlers own the struct rpc_req they are given until they pass it to
 *	rpc_reply(), which consumes it whatever happens.  The request message is
 *	borrowed from the rpc_req unless taken with rpc_req_take_msg().  Reply
 *	data is borrowed until release(release_arg), called exactly once when it
 *	has been sent or can no longer be; with no release function the data is
 *	only borrowed for the duration of rpc_reply().
 *
 * ERRORS
 *	Status codes are 0 or negative errno / -CAIRN_E* values (error.h), the
 *	same on the wire and in this API.
 */
#ifndef CAIRN_COMMON_RPC_H
#define CAIRN_COMMON_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proto/proto.h"

struct auth_key;
struct net_ops;
struct rpc_engine;
struct rpc_client;
struct rpc_server;
struct rpc_req;

struct rpc_opts {
	uint32_t max_frame;	 /* largest body + data received (default 64 MiB) */
	uint32_t max_inflight;	 /* server: unanswered requests per connection (1024) */
	int timeout_ms;		 /* client: default per-request timeout (30000) */
	int connect_timeout_ms;	 /* connect + handshake, both sides (5000) */
	int reconnect_min_ms;	 /* client: first back-off after a failure (100) */
	int reconnect_max_ms;	 /* client: back-off ceiling (5000) */
	int socket_buffer;	 /* SO_SNDBUF/SO_RCVBUF bytes; 0 = kernel auto-tuning */
	int io_threads;		 /* private engine of a server: its loops (1);
				  * a client uses one loop */
	int workers;		 /* server handler threads; 0 = on the I/O thread (0) */
	bool data_crc;		 /* send a CRC32C of bulk data (true); always checked */
	const struct net_ops *net;	/* transport; NULL = TCP */
	const struct auth_key *key;	/* cluster key; required, borrowed for the lifetime */
	struct rpc_engine *engine;	/* shared I/O threads; NULL = a private engine */
};

/* The defaults shown above; key must still be set. */
struct rpc_opts rpc_opts_default(void);

/*
 * A received frame.  body and data are separate buffers; data is page
 * aligned when at least a page long, or points into the rx_buf given with
 * the call (check data == rx_buf).  Free with rpc_msg_free().
 */
struct rpc_msg {
	struct proto_hdr hdr;
	void *body;
	uint32_t body_len;
	void *data;
	uint32_t data_len;
	uint32_t priv; /* internal: who owns data */
};

void rpc_msg_free(struct rpc_msg *msg);

/*
 * I/O threads that several clients and servers can share.  Returns 0,
 * -EINVAL (threads < 1 or > 256), -ENOMEM, or -errno from epoll, eventfd or
 * pthread_create.
 */
int rpc_engine_new(int threads, struct rpc_engine **out);
/* Stops the threads.  Every client and server using it must be gone. */
void rpc_engine_free(struct rpc_engine *eng);

/* ---- client ---- */

/*
 * done() gets the response's status (0 or a negative code from the server,
 * with resp) or a local failure with resp == NULL:
 *   -ETIMEDOUT    no response within the call's timeout
 *   -ECONNRESET   the connection was lost with the request in flight (it
 *                 may or may not have been executed)
 *   -ECANCELED    rpc_client_free() while pending
 *   -CAIRN_EAUTH  the server refused our key, or failed to prove its own
 *   -CAIRN_EPROTOVER  no protocol version in common
 *   -EMSGSIZE     the frame exceeds the server's max_frame
 *   -CAIRN_EBADFRAME / -CAIRN_ECHECKSUM  the response was corrupt
 */
typedef void (*rpc_done_fn)(void *arg, int status, struct rpc_msg *resp);

struct rpc_call {
	uint16_t opcode;
	const void *body; /* copied at submission */
	uint32_t body_len;
	const struct iovec *data; /* request bulk data, borrowed until done() */
	int data_cnt;		  /* <= RPC_DATA_IOV_MAX */
	void *rx_buf;		  /* optional: response data lands here if it fits */
	uint32_t rx_cap;
	int timeout_ms; /* 0 = opts.timeout_ms */
};

#define RPC_DATA_IOV_MAX 64

/*
 * Creates a client for addr ("host:port"; the name is resolved once, here)
 * and starts connecting in the background.  opts is copied; opts->key and
 * opts->engine are borrowed.  Returns 0, -EINVAL (bad option or address, no
 * key), -ENOENT (unknown host), -ENOMEM, or -errno.
 */
int rpc_client_new(const char *addr, const struct rpc_opts *opts, struct rpc_client **out);

/*
 * Closes the connection and completes every pending call with -ECANCELED
 * (on the I/O thread) before returning.  Must not race with calls being
 * submitted on cli; threads already blocked in rpc_call_sync() on cli
 * return -ECANCELED, and rpc_client_free() waits until they have left it.
 * NULL is allowed.
 */
void rpc_client_free(struct rpc_client *cli);

/*
 * Submits a call.  Returns 0 and calls done(arg, status, resp) exactly once
 * later (never from within this call), or returns one of these and never
 * calls done:
 *   -EINVAL       bad arguments or a reserved connection opcode
 *   -EMSGSIZE     body + data exceed PROTO_FRAME_MAX or the server's
 *                 max_frame (when already known)
 *   -CAIRN_EAUTH / -CAIRN_EPROTOVER  the last handshake failed that way
 *   -ESHUTDOWN    the client is being freed
 *   -ENOMEM
 * A call made while disconnected waits for the connection until its timeout.
 */
int rpc_call_async(struct rpc_client *cli, const struct rpc_call *call, rpc_done_fn done,
		   void *arg);

/*
 * Blocking form: returns what done() would get as status, or what
 * rpc_call_async() returned; *resp is the response (free it) or NULL.
 * -EDEADLK if called on one of the client's I/O threads.
 */
int rpc_call_sync(struct rpc_client *cli, const struct rpc_call *call, struct rpc_msg **resp);

/* ---- server ---- */

/* Called once per request; see OWNERSHIP.  PING is answered internally. */
typedef void (*rpc_handler_fn)(void *arg, struct rpc_req *req);

/*
 * Listens on addr (port 0: any free port) and serves requests with fn.
 * opts is copied; opts->key and opts->engine are borrowed.  Returns 0,
 * -EINVAL, -EADDRINUSE, -ENOMEM, or -errno.
 */
int rpc_server_start(const char *addr, const struct rpc_opts *opts, rpc_handler_fn fn, void *arg,
		     struct rpc_server **out);

/* The port the server listens on. */
int rpc_server_port(const struct rpc_server *srv);

/*
 * Stops accepting, closes every connection, waits until every handler has
 * replied (replies to closed connections only release their data), joins
 * the threads and frees the server.  NULL is allowed.
 */
void rpc_server_stop(struct rpc_server *srv);

/* The request (header, body, data); valid until rpc_reply() unless taken. */
const struct rpc_msg *rpc_req_msg(const struct rpc_req *req);

/* Takes ownership of the request message (free with rpc_msg_free). */
struct rpc_msg *rpc_req_take_msg(struct rpc_req *req);

/* The client's address, "host:port". */
const char *rpc_req_peer(const struct rpc_req *req);

/*
 * Replies to req and consumes it.  body is copied; data is sent straight
 * from the iovecs (data_cnt <= RPC_DATA_IOV_MAX).  With release, the data
 * must stay valid until release(release_arg) is called, exactly once,
 * possibly before rpc_reply() returns; without, the data is copied if it
 * cannot be sent at once.  Returns 0 when the reply was sent or queued,
 * or (req still consumed, release still called):
 *   -ECONNRESET  the connection is gone; nothing was sent
 *   -EMSGSIZE    the reply exceeds the client's max_frame; status
 *                -EMSGSIZE was sent instead
 *   -EINVAL      bad arguments; status -EINVAL was sent instead
 *   -ENOMEM      no memory; the connection is closed
 */
int rpc_reply(struct rpc_req *req, int status, const void *body, uint32_t body_len,
	      const struct iovec *data, int data_cnt, void (*release)(void *), void *release_arg);

#endif
