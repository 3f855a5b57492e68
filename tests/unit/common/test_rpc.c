/*
 * test_rpc.c - the RPC layer end to end on loopback: a real server and real
 * clients with authentication, plus raw sockets that play a misbehaving
 * peer (garbage, frames before AUTH, oversize frames, too many requests, a
 * stalled handshake, an impostor server).
 *
 * The test server's handler understands:
 *   ECHO   body and data back; odd request ids reply zero-copy from the
 *          request message with a release callback, even ones in
 *          convenience mode (data copied if it cannot be sent at once)
 *   DEFER  the same, but replied from another thread after the delay in
 *          ms given in the first 4 body bytes, with a release callback
 *   HOLD   kept unanswered until the test releases it
 *   other  -EOPNOTSUPP
 * Random data comes from a seeded generator; the seed is printed and can be
 * forced with TEST_RPC_SEED.  The test_sync_fast_* cases aim at blocking
 * calls that read their own answers (and others') off the connection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/auth.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "proto/conn.h"
#include "proto/frame.h"
#include "proto/wire.h"

#define OP_DEFER (PROTO_OP_MDS_FIRST + 1)
#define OP_HOLD (PROTO_OP_MDS_FIRST + 2)
#define OP_UNKNOWN (PROTO_OP_MDS_FIRST + 3)

static char dir[64];
static struct auth_key *key_a, *key_b;
static uint64_t seed;

/* ---- helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_random(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd(s) >> 24);
}

static struct rpc_opts test_opts(const struct auth_key *key)
{
	struct rpc_opts o = rpc_opts_default();

	o.key = key;
	o.timeout_ms = 20000;
	o.connect_timeout_ms = 2000;
	o.reconnect_min_ms = 10;
	o.reconnect_max_ms = 100;
	return o;
}

/* ---- the test server ---- */

struct held {
	struct rpc_req *reqs[256];
	int n;
};

struct deferred {
	struct deferred *next;
	struct rpc_req *req;
	int64_t due;
};

struct tsrv {
	struct rpc_server *srv;
	int port;
	atomic_int releases;	 /* release callbacks run */
	atomic_int zero_copy;	 /* replies sent with a release callback */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct held held;	 /* lock */
	struct deferred *defer;	 /* lock */
	bool stop;		 /* lock */
	pthread_t defer_thread;
};

struct release_arg {
	struct tsrv *ts;
	struct rpc_msg *msg;
};

static void release_msg(void *arg)
{
	struct release_arg *ra = arg;

	atomic_fetch_add(&ra->ts->releases, 1);
	rpc_msg_free(ra->msg);
	free(ra);
}

/* Replies with the request's own body and data, zero-copy. */
static void reply_echo_zero_copy(struct tsrv *ts, struct rpc_req *req)
{
	struct release_arg *ra = malloc(sizeof(*ra));
	struct rpc_msg *msg = rpc_req_take_msg(req);
	struct iovec iov = {msg->data, msg->data_len};

	assert_non_null(ra);
	ra->ts = ts;
	ra->msg = msg;
	atomic_fetch_add(&ts->zero_copy, 1);
	rpc_reply(req, 0, msg->body, msg->body_len, &iov, msg->data_len ? 1 : 0, release_msg, ra);
}

static void *defer_main(void *arg)
{
	struct tsrv *ts = arg;

	pthread_mutex_lock(&ts->lock);
	while (!ts->stop || ts->defer) {
		struct deferred *d = ts->defer, **pp;
		int64_t now = now_ms();

		if (!d) {
			pthread_cond_wait(&ts->cond, &ts->lock);
			continue;
		}
		for (pp = &ts->defer; *pp && (*pp)->due > now; pp = &(*pp)->next)
			;
		if (!*pp) {
			pthread_mutex_unlock(&ts->lock);
			sleep_ms(2);
			pthread_mutex_lock(&ts->lock);
			continue;
		}
		d = *pp;
		*pp = d->next;
		pthread_mutex_unlock(&ts->lock);
		reply_echo_zero_copy(ts, d->req);
		free(d);
		pthread_mutex_lock(&ts->lock);
	}
	pthread_mutex_unlock(&ts->lock);
	return NULL;
}

static void handler(void *arg, struct rpc_req *req)
{
	struct tsrv *ts = arg;
	const struct rpc_msg *msg = rpc_req_msg(req);
	struct deferred *d;

	switch (msg->hdr.opcode) {
	case PROTO_OP_ECHO:
		if (msg->hdr.req_id & 1) {
			reply_echo_zero_copy(ts, req);
		} else {
			struct iovec iov = {msg->data, msg->data_len};

			rpc_reply(req, 0, msg->body, msg->body_len, &iov, 1, NULL, NULL);
		}
		return;
	case OP_DEFER:
		d = calloc(1, sizeof(*d));
		assert_non_null(d);
		d->req = req;
		d->due = now_ms() + (msg->body_len >= 4 ? wire_get_le32(msg->body) : 0);
		pthread_mutex_lock(&ts->lock);
		d->next = ts->defer;
		ts->defer = d;
		pthread_cond_signal(&ts->cond);
		pthread_mutex_unlock(&ts->lock);
		return;
	case OP_HOLD:
		pthread_mutex_lock(&ts->lock);
		assert_true(ts->held.n < 256);
		ts->held.reqs[ts->held.n++] = req;
		pthread_mutex_unlock(&ts->lock);
		return;
	default:
		rpc_reply(req, -EOPNOTSUPP, NULL, 0, NULL, 0, NULL, NULL);
	}
}

static int held_count(struct tsrv *ts)
{
	int n;

	pthread_mutex_lock(&ts->lock);
	n = ts->held.n;
	pthread_mutex_unlock(&ts->lock);
	return n;
}

static void wait_held(struct tsrv *ts, int n)
{
	int64_t end = now_ms() + 5000;

	while (held_count(ts) < n && now_ms() < end)
		sleep_ms(1);
	assert_int_equal(held_count(ts), n);
}

/* Answers every held request zero-copy; returns how many. */
static int release_held(struct tsrv *ts)
{
	struct held h;

	pthread_mutex_lock(&ts->lock);
	h = ts->held;
	ts->held.n = 0;
	pthread_mutex_unlock(&ts->lock);
	for (int i = 0; i < h.n; i++)
		reply_echo_zero_copy(ts, h.reqs[i]);
	return h.n;
}

static struct tsrv *tsrv_start_opts(const char *addr, const struct rpc_opts *o)
{
	struct tsrv *ts = calloc(1, sizeof(*ts));

	assert_non_null(ts);
	pthread_mutex_init(&ts->lock, NULL);
	pthread_cond_init(&ts->cond, NULL);
	assert_int_equal(pthread_create(&ts->defer_thread, NULL, defer_main, ts), 0);
	assert_int_equal(rpc_server_start(addr, o, handler, ts, &ts->srv), 0);
	ts->port = rpc_server_port(ts->srv);
	assert_true(ts->port > 0);
	return ts;
}

static struct tsrv *tsrv_start(void)
{
	struct rpc_opts o = test_opts(key_a);

	return tsrv_start_opts("127.0.0.1:0", &o);
}

/* Stops the server and checks every zero-copy reply was released once. */
static void tsrv_stop(struct tsrv *ts)
{
	pthread_mutex_lock(&ts->lock);
	ts->stop = true;
	pthread_cond_signal(&ts->cond);
	pthread_mutex_unlock(&ts->lock);
	pthread_join(ts->defer_thread, NULL);
	release_held(ts);
	rpc_server_stop(ts->srv);
	assert_int_equal(atomic_load(&ts->releases), atomic_load(&ts->zero_copy));
	pthread_cond_destroy(&ts->cond);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

static struct rpc_client *client_for(int port, const struct auth_key *key)
{
	struct rpc_opts o = test_opts(key);
	struct rpc_client *cli;
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(rpc_client_new(addr, &o, &cli), 0);
	return cli;
}

static int ping(struct rpc_client *cli)
{
	struct rpc_call call = {.opcode = PROTO_OP_PING};
	struct rpc_msg *resp;
	int ret = rpc_call_sync(cli, &call, &resp);

	rpc_msg_free(resp);
	return ret;
}

/* ---- stress: many threads, many requests in flight, verified ---- */

struct pending_call {
	uint8_t body[256];
	uint32_t body_len;
	uint8_t *data;
	uint32_t data_len;
	uint8_t *rx_buf;
	uint32_t rx_cap;
	int status;
	struct rpc_msg *resp;
	atomic_int calls; /* done() invocations */
};

struct stress_thread {
	pthread_t thread;
	struct rpc_client *cli;
	uint64_t seed;
	int count;
	uint32_t max_data;
	struct pending_call *calls;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int outstanding;
	int failures;
};

static void stress_done(void *arg, int status, struct rpc_msg *resp)
{
	struct pending_call *pc = arg;
	struct stress_thread *st = *(struct stress_thread **)(pc + 1);

	pc->status = status;
	pc->resp = resp;
	atomic_fetch_add(&pc->calls, 1);
	pthread_mutex_lock(&st->lock);
	if (--st->outstanding == 0)
		pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

/* Checks a response against its request; returns false on any difference. */
static bool stress_verify(const struct pending_call *pc)
{
	const struct rpc_msg *r = pc->resp;

	if (atomic_load(&pc->calls) != 1 || pc->status != 0 || !r)
		return false;
	if (r->body_len != pc->body_len || memcmp(r->body, pc->body, pc->body_len) != 0)
		return false;
	if (r->data_len != pc->data_len || (pc->data_len && memcmp(r->data, pc->data,
								     pc->data_len) != 0))
		return false;
	/* Data that fits a given rx_buf must land in it. */
	if (pc->rx_buf && pc->data_len && pc->data_len <= pc->rx_cap && r->data != pc->rx_buf)
		return false;
	if (pc->rx_buf && pc->data_len > pc->rx_cap && r->data == pc->rx_buf)
		return false;
	return true;
}

static void stress_submit(struct stress_thread *st, struct pending_call *pc, uint16_t opcode)
{
	uint64_t *s = &st->seed;
	struct iovec iov[3];
	struct rpc_call call = {.opcode = opcode};
	uint32_t cut1, cut2;

	pc->body_len = (uint32_t)(rnd(s) % 257 % sizeof(pc->body));
	fill_random(s, pc->body, pc->body_len);
	pc->data_len = (uint32_t)(rnd(s) % (st->max_data + 1));
	pc->data = malloc(pc->data_len + 1);
	assert_non_null(pc->data);
	fill_random(s, pc->data, pc->data_len);
	/* Up to three pieces, some empty. */
	cut1 = pc->data_len ? (uint32_t)(rnd(s) % (pc->data_len + 1)) : 0;
	cut2 = cut1 + (pc->data_len - cut1 ? (uint32_t)(rnd(s) % (pc->data_len - cut1 + 1)) : 0);
	iov[0] = (struct iovec){pc->data, cut1};
	iov[1] = (struct iovec){pc->data + cut1, cut2 - cut1};
	iov[2] = (struct iovec){pc->data + cut2, pc->data_len - cut2};
	if (rnd(s) % 4 == 0) {
		/* A receive buffer that fits about half the time. */
		pc->rx_cap = (uint32_t)(rnd(s) % (2 * (uint64_t)pc->data_len + 2));
		pc->rx_buf = malloc(pc->rx_cap + 1);
		assert_non_null(pc->rx_buf);
		call.rx_buf = pc->rx_buf;
		call.rx_cap = pc->rx_cap;
	}
	call.body = pc->body;
	call.body_len = pc->body_len;
	call.data = iov;
	call.data_cnt = 3;
	if (opcode == OP_DEFER) {
		/* Short random delays (the first 4 body bytes), so replies reorder. */
		if (pc->body_len < 4)
			pc->body_len = 4;
		wire_put_le32(pc->body, (uint32_t)(rnd(s) % 20));
		call.body_len = pc->body_len;
	}
	pthread_mutex_lock(&st->lock);
	st->outstanding++;
	pthread_mutex_unlock(&st->lock);
	assert_int_equal(rpc_call_async(st->cli, &call, stress_done, pc), 0);
}

static void *stress_main(void *arg)
{
	struct stress_thread *st = arg;
	size_t slot = sizeof(struct pending_call) + sizeof(struct stress_thread *);
	uint8_t *mem = calloc((size_t)st->count, slot);

	assert_non_null(mem);
	for (int i = 0; i < st->count; i++) {
		struct pending_call *pc = (struct pending_call *)(mem + (size_t)i * slot);

		*(struct stress_thread **)(pc + 1) = st;
		stress_submit(st, pc, (i % 8 == 7) ? OP_DEFER : PROTO_OP_ECHO);
	}
	pthread_mutex_lock(&st->lock);
	while (st->outstanding)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
	for (int i = 0; i < st->count; i++) {
		struct pending_call *pc = (struct pending_call *)(mem + (size_t)i * slot);

		if (!stress_verify(pc)) {
			fprintf(stderr, "call %d: status %d calls %d body %u/%u data %u/%u\n", i,
				pc->status, atomic_load(&pc->calls), pc->body_len,
				pc->resp ? pc->resp->body_len : 0, pc->data_len,
				pc->resp ? pc->resp->data_len : 0);
			st->failures++;
		}
		rpc_msg_free(pc->resp);
		free(pc->data);
		free(pc->rx_buf);
	}
	free(mem);
	return NULL;
}

static void run_stress(struct tsrv *ts, int threads, int per_thread, uint32_t max_data)
{
	struct stress_thread st[8];
	struct rpc_client *cli[2];
	int failures = 0;

	assert_true(threads <= 8);
	cli[0] = client_for(ts->port, key_a);
	cli[1] = client_for(ts->port, key_a);
	for (int t = 0; t < threads; t++) {
		st[t] = (struct stress_thread){.cli = cli[t % 2], .seed = seed + 977 * (uint64_t)t + 1,
					       .count = per_thread, .max_data = max_data};
		pthread_mutex_init(&st[t].lock, NULL);
		pthread_cond_init(&st[t].cond, NULL);
		assert_int_equal(pthread_create(&st[t].thread, NULL, stress_main, &st[t]), 0);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(st[t].thread, NULL);
		failures += st[t].failures;
		pthread_cond_destroy(&st[t].cond);
		pthread_mutex_destroy(&st[t].lock);
	}
	rpc_client_free(cli[0]);
	rpc_client_free(cli[1]);
	assert_int_equal(failures, 0);
}

static void test_stress_inline(void **state)
{
	struct tsrv *ts = tsrv_start();

	(void)state;
	run_stress(ts, 8, 125, 256 * 1024);
	tsrv_stop(ts);
}

static void test_stress_workers(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct tsrv *ts;

	(void)state;
	o.workers = 3;
	o.io_threads = 2;
	o.data_crc = false;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	run_stress(ts, 4, 100, 64 * 1024);
	tsrv_stop(ts);
}

/* ---- sync calls, receive buffers, status codes ---- */

static void test_sync_and_rx_buf(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	uint8_t data[100000], rx[100000], small[10];
	struct iovec iov = {data, sizeof(data)};
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = "hello", .body_len = 5,
				.data = &iov, .data_cnt = 1};
	struct rpc_msg *resp;
	uint64_t s = seed;

	(void)state;
	fill_random(&s, data, sizeof(data));
	assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
	assert_int_equal(resp->hdr.status, 0);
	assert_int_equal(resp->body_len, 5);
	assert_memory_equal(resp->body, "hello", 5);
	assert_int_equal(resp->data_len, sizeof(data));
	assert_memory_equal(resp->data, data, sizeof(data));
	assert_true(resp->data != (void *)rx);
	rpc_msg_free(resp);

	/* The response's data goes straight into rx_buf when it fits... */
	call.rx_buf = rx;
	call.rx_cap = sizeof(rx);
	assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
	assert_ptr_equal(resp->data, rx);
	assert_memory_equal(rx, data, sizeof(data));
	rpc_msg_free(resp); /* must not free rx */
	/* ...and into a buffer of its own when it does not. */
	call.rx_buf = small;
	call.rx_cap = sizeof(small);
	assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
	assert_true(resp->data != (void *)small);
	assert_memory_equal(resp->data, data, sizeof(data));
	rpc_msg_free(resp);

	assert_int_equal(ping(cli), 0);
	call = (struct rpc_call){.opcode = OP_UNKNOWN};
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -EOPNOTSUPP);
	assert_non_null(resp);
	assert_int_equal(resp->hdr.status, -EOPNOTSUPP);
	rpc_msg_free(resp);

	/* Bad calls are refused at once. */
	call = (struct rpc_call){.opcode = PROTO_OP_AUTH};
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -EINVAL);
	assert_null(resp);
	call = (struct rpc_call){.opcode = PROTO_OP_ECHO, .data_cnt = 1};
	assert_int_equal(rpc_call_async(cli, &call, NULL, NULL), -EINVAL);
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -EINVAL);
	call = (struct rpc_call){.opcode = PROTO_OP_ECHO, .timeout_ms = -1};
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -EINVAL);
	rpc_client_free(cli);
	tsrv_stop(ts);
}

static void never_called(void *arg, int status, struct rpc_msg *resp)
{
	(void)arg;
	(void)resp;
	fail_msg("done() called with %d for a refused call", status);
}

/* The server's max_frame: bigger calls fail with -EMSGSIZE, others pass. */
static void test_msgsize(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct tsrv *ts;
	struct rpc_client *cli;
	static uint8_t data[200000];
	struct iovec iov = {data, sizeof(data)};
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .data = &iov, .data_cnt = 1};
	struct rpc_msg *resp;

	(void)state;
	o.max_frame = 128 * 1024;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	cli = client_for(ts->port, key_a);
	/* Before the connection is up the limit is unknown: failed via done(). */
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -EMSGSIZE);
	assert_null(resp);
	assert_int_equal(ping(cli), 0);
	/* Now it is known: refused at submission. */
	assert_int_equal(rpc_call_async(cli, &call, never_called, NULL), -EMSGSIZE);
	iov.iov_len = 128 * 1024;
	assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
	assert_int_equal(resp->data_len, 128 * 1024);
	rpc_msg_free(resp);
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* ---- authentication ---- */

static void test_wrong_key(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *good = client_for(ts->port, key_a);
	struct rpc_client *bad = client_for(ts->port, key_b);
	int64_t t0;

	(void)state;
	assert_int_equal(ping(good), 0);
	assert_int_equal(ping(bad), -CAIRN_EAUTH);
	/* Refused at once from now on, without waiting for a timeout. */
	t0 = now_ms();
	assert_int_equal(ping(bad), -CAIRN_EAUTH);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(ping(good), 0);
	rpc_client_free(bad);
	rpc_client_free(good);
	tsrv_stop(ts);
}

/* ---- raw peers ---- */

static int raw_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void raw_write(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void raw_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (uint8_t *)buf + got, len - got, 0);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static void raw_send_frame(int fd, uint16_t opcode, uint32_t flags, uint64_t id,
			   const void *body, uint32_t body_len)
{
	struct proto_hdr h = {.version = PROTO_VERSION, .opcode = opcode, .flags = flags,
			      .req_id = id, .body_len = body_len};
	uint8_t raw[PROTO_HDR_SIZE];

	proto_hdr_encode(&h, body, raw);
	raw_write(fd, raw, sizeof(raw));
	if (body_len)
		raw_write(fd, body, body_len);
}

/* Reads one frame with a small body. */
static void raw_read_frame(int fd, struct proto_hdr *h, uint8_t *body, uint32_t cap)
{
	uint8_t raw[PROTO_HDR_SIZE];

	raw_read(fd, raw, sizeof(raw));
	assert_int_equal(proto_hdr_decode(raw, 1u << 20, h), 0);
	assert_true(h->body_len <= cap && h->data_len == 0);
	raw_read(fd, body, h->body_len);
	assert_int_equal(proto_frame_check(raw, h, body), 0);
}

/* The server must close the connection: EOF or a reset, not a timeout. */
static void expect_closed(int fd)
{
	uint8_t buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0)
			continue; /* e.g. an AUTH_OK refusal before the close */
		if (n == 0 || errno == ECONNRESET)
			break;
		fail_msg("connection not closed by the server: %s", strerror(errno));
	}
	close(fd);
}

/* Runs the client side of the handshake by hand; returns AUTH_OK's status. */
static int raw_handshake(int fd, const struct auth_key *key)
{
	struct proto_hdr h;
	struct proto_hello hello;
	struct proto_auth auth = {.version = 1, .max_frame = 1u << 20, .max_inflight = 64};
	uint8_t body[128];
	size_t len;

	raw_read_frame(fd, &h, body, sizeof(body));
	assert_int_equal(h.opcode, PROTO_OP_HELLO);
	assert_int_equal(proto_hello_decode(body, h.body_len, &hello), 0);
	assert_int_equal(auth_nonce(auth.nonce), 0);
	assert_int_equal(auth_proof_client(key, hello.nonce, auth.nonce, auth.proof), 0);
	proto_auth_encode(&auth, body, sizeof(body), &len);
	raw_send_frame(fd, PROTO_OP_AUTH, 0, 0, body, (uint32_t)len);
	raw_read_frame(fd, &h, body, sizeof(body));
	assert_int_equal(h.opcode, PROTO_OP_AUTH_OK);
	return h.status;
}

static int raw_authenticated(int port, const struct auth_key *key)
{
	int fd = raw_connect(port);

	assert_int_equal(raw_handshake(fd, key), 0);
	return fd;
}

struct background {
	pthread_t thread;
	struct rpc_client *cli;
	atomic_bool stop;
	int ok, failed;
};

static void *background_main(void *arg)
{
	struct background *bg = arg;
	uint8_t data[5000];
	struct iovec iov = {data, sizeof(data)};
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .data = &iov, .data_cnt = 1};

	memset(data, 0x3c, sizeof(data));
	while (!atomic_load(&bg->stop)) {
		struct rpc_msg *resp;
		int ret = rpc_call_sync(bg->cli, &call, &resp);

		if (ret == 0 && resp->data_len == sizeof(data) &&
		    memcmp(resp->data, data, sizeof(data)) == 0)
			bg->ok++;
		else
			bg->failed++;
		rpc_msg_free(resp);
	}
	return NULL;
}

static void background_start(struct background *bg, int port)
{
	memset(bg, 0, sizeof(*bg));
	bg->cli = client_for(port, key_a);
	assert_int_equal(pthread_create(&bg->thread, NULL, background_main, bg), 0);
}

static void background_stop(struct background *bg)
{
	atomic_store(&bg->stop, true);
	pthread_join(bg->thread, NULL);
	rpc_client_free(bg->cli);
	assert_int_equal(bg->failed, 0);
	assert_true(bg->ok > 0);
}

static void test_garbage_peers(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct background bg;
	struct tsrv *ts;
	uint8_t buf[4096], raw[PROTO_HDR_SIZE];
	struct proto_hdr h;
	uint64_t s = seed;
	int fd;

	(void)state;
	o.connect_timeout_ms = 300;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	background_start(&bg, ts->port);

	/* Random bytes after the HELLO. */
	for (int round = 0; round < 5; round++) {
		fd = raw_connect(ts->port);
		raw_read_frame(fd, &h, buf, sizeof(buf));
		fill_random(&s, buf, sizeof(buf));
		raw_write(fd, buf, sizeof(buf));
		expect_closed(fd);
	}
	/* Random bytes without waiting for anything. */
	fd = raw_connect(ts->port);
	raw_write(fd, buf, 100);
	expect_closed(fd);
	/* A well-formed request before AUTH. */
	fd = raw_connect(ts->port);
	raw_send_frame(fd, PROTO_OP_ECHO, 0, 1, "x", 1);
	expect_closed(fd);
	/* A well-formed AUTH with a wrong proof: AUTH_OK carries -EAUTH. */
	fd = raw_connect(ts->port);
	assert_int_equal(raw_handshake(fd, key_b), -CAIRN_EAUTH);
	expect_closed(fd);
	/* After authentication: a header with a bad CRC, then bad flags. */
	fd = raw_authenticated(ts->port, key_a);
	h = (struct proto_hdr){.version = 1, .opcode = PROTO_OP_ECHO, .req_id = 5};
	proto_hdr_encode(&h, NULL, raw);
	raw[36] ^= 1;
	raw_write(fd, raw, sizeof(raw));
	expect_closed(fd);
	fd = raw_authenticated(ts->port, key_a);
	h = (struct proto_hdr){.version = 1, .opcode = PROTO_OP_ECHO, .req_id = 5,
			       .flags = 1u << 7};
	proto_hdr_encode(&h, NULL, raw);
	raw_write(fd, raw, sizeof(raw));
	expect_closed(fd);
	/* A silent peer is dropped once connect_timeout_ms passes. */
	fd = raw_connect(ts->port);
	raw_read_frame(fd, &h, buf, sizeof(buf));
	expect_closed(fd);

	background_stop(&bg);
	tsrv_stop(ts);
}

/* ---- batches of async calls ---- */

#define BATCH_MAX 256

struct batch_slot {
	struct batch *b;
	int status;
	struct rpc_msg *resp;
	atomic_int calls;
};

struct batch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n;
	int outstanding; /* lock */
	struct batch_slot slot[BATCH_MAX];
};

static void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
}

static void batch_done(void *arg, int status, struct rpc_msg *resp)
{
	struct batch_slot *s = arg;
	struct batch *b = s->b;

	s->status = status;
	s->resp = resp;
	atomic_fetch_add(&s->calls, 1);
	pthread_mutex_lock(&b->lock);
	b->outstanding--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int batch_submit(struct batch *b, struct rpc_client *cli, const struct rpc_call *call)
{
	struct batch_slot *s;

	assert_true(b->n < BATCH_MAX);
	s = &b->slot[b->n];
	s->b = b;
	pthread_mutex_lock(&b->lock);
	b->outstanding++;
	pthread_mutex_unlock(&b->lock);
	assert_int_equal(rpc_call_async(cli, call, batch_done, s), 0);
	return b->n++;
}

/* Waits until every call completed; fails after timeout_ms. */
static void batch_wait(struct batch *b, int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&b->lock);
	while (b->outstanding > 0)
		if (pthread_cond_timedwait(&b->cond, &b->lock, &ts))
			break;
	pthread_mutex_unlock(&b->lock);
	assert_int_equal(b->outstanding, 0);
}

static void batch_fini(struct batch *b)
{
	/* Give a wrongly repeated callback a chance to show. */
	sleep_ms(20);
	for (int i = 0; i < b->n; i++) {
		assert_int_equal(atomic_load(&b->slot[i].calls), 1);
		rpc_msg_free(b->slot[i].resp);
	}
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

static struct rpc_call defer_call(uint8_t body[4], uint32_t delay_ms)
{
	wire_put_le32(body, delay_ms);
	return (struct rpc_call){.opcode = OP_DEFER, .body = body, .body_len = 4};
}

static void test_oversize_and_inflight(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct background bg;
	struct rpc_client *cli;
	struct tsrv *ts;
	struct proto_hdr h;
	uint8_t raw[PROTO_HDR_SIZE], body[4];
	struct rpc_call call;
	struct batch b;
	int fd;

	(void)state;
	o.max_frame = 64 * 1024;
	o.max_inflight = 4;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	background_start(&bg, ts->port);

	/* A frame above max_frame: the header alone is enough to refuse it. */
	fd = raw_authenticated(ts->port, key_a);
	h = (struct proto_hdr){.version = 1, .opcode = PROTO_OP_ECHO, .req_id = 1,
			       .data_len = 64 * 1024 + 1};
	proto_hdr_encode(&h, NULL, raw);
	raw_write(fd, raw, sizeof(raw));
	expect_closed(fd);

	/* max_inflight unanswered requests are fine; one more is not. */
	fd = raw_authenticated(ts->port, key_a);
	for (uint64_t id = 1; id <= 3; id++)
		raw_send_frame(fd, OP_HOLD, 0, id, NULL, 0);
	wait_held(ts, 3);
	raw_send_frame(fd, OP_HOLD, 0, 4, NULL, 0);
	raw_send_frame(fd, OP_HOLD, 0, 5, NULL, 0);
	expect_closed(fd);
	wait_held(ts, 4);
	/* Replies to the dead connection just release their data. */
	assert_int_equal(release_held(ts), 4);

	/* A real client never exceeds the server's max_inflight: it queues. */
	cli = client_for(ts->port, key_a);
	batch_init(&b);
	call = defer_call(body, 5);
	for (int i = 0; i < 60; i++)
		batch_submit(&b, cli, &call);
	batch_wait(&b, 10000);
	for (int i = 0; i < b.n; i++)
		assert_int_equal(b.slot[i].status, 0);
	batch_fini(&b);
	rpc_client_free(cli);
	background_stop(&bg);
	tsrv_stop(ts);
}

/* A server that does not know the key cannot pass for the real one. */
static void *impostor_main(void *arg)
{
	int lfd = *(int *)arg, fd;
	struct proto_hello hello = {.version = 1, .max_frame = 1u << 20, .max_inflight = 8};
	struct proto_auth_ok ok;
	struct proto_hdr h;
	uint8_t body[128];
	size_t len;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	auth_nonce(hello.nonce);
	proto_hello_encode(&hello, body, sizeof(body), &len);
	raw_send_frame(fd, PROTO_OP_HELLO, 0, 0, body, (uint32_t)len);
	raw_read_frame(fd, &h, body, sizeof(body));
	/* Accept whatever the client proves, answer with a made-up proof. */
	auth_nonce(ok.proof);
	proto_auth_ok_encode(&ok, body, sizeof(body), &len);
	raw_send_frame(fd, PROTO_OP_AUTH_OK, PROTO_F_RESPONSE, 0, body, (uint32_t)len);
	expect_closed(fd);
	return NULL;
}

static void test_impostor_server(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct rpc_client *cli;
	pthread_t th;
	int lfd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(pthread_create(&th, NULL, impostor_main, &lfd), 0);
	cli = client_for(ntohs(sa.sin_port), key_a);
	assert_int_equal(ping(cli), -CAIRN_EAUTH);
	rpc_client_free(cli);
	pthread_join(th, NULL);
	close(lfd);
}

/* ---- timeouts ---- */

static void test_timeout(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	uint8_t body[4], data[3000], rx[3000], pattern[3000];
	struct iovec iov = {data, sizeof(data)};
	struct rpc_call call = defer_call(body, 400);
	struct rpc_msg *resp;
	int64_t t0, took;

	(void)state;
	assert_int_equal(ping(cli), 0);
	memset(data, 0x11, sizeof(data));
	memset(rx, 0x77, sizeof(rx));
	memset(pattern, 0x77, sizeof(pattern));
	call.data = &iov;
	call.data_cnt = 1;
	call.rx_buf = rx;
	call.rx_cap = sizeof(rx);
	call.timeout_ms = 100;
	t0 = now_ms();
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -ETIMEDOUT);
	took = now_ms() - t0;
	assert_null(resp);
	assert_true(took >= 100 && took < 390);
	/* Meanwhile and after the late reply, the connection serves others. */
	assert_int_equal(ping(cli), 0);
	sleep_ms(500);
	assert_int_equal(ping(cli), 0);
	/* The late reply was dropped: it never touched the caller's rx_buf. */
	assert_memory_equal(rx, pattern, sizeof(rx));

	/* A call to nowhere waits for its own timeout. */
	{
		struct rpc_client *lost = client_for(1, key_a);
		struct rpc_call p = {.opcode = PROTO_OP_PING, .timeout_ms = 150};

		t0 = now_ms();
		assert_int_equal(rpc_call_sync(lost, &p, &resp), -ETIMEDOUT);
		assert_true(now_ms() - t0 >= 150);
		rpc_client_free(lost);
	}
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* Plays the server side of the handshake by hand on an accepted socket. */
static int raw_server_accept(int lfd, const struct auth_key *key)
{
	struct proto_hello hello = {.version = 1, .max_frame = 64u << 20, .max_inflight = 64};
	struct timeval tv = {10, 0};
	struct proto_auth_ok ok;
	struct proto_auth auth;
	struct proto_hdr h;
	uint8_t body[128];
	size_t len;
	int fd = accept(lfd, NULL, NULL);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(auth_nonce(hello.nonce), 0);
	proto_hello_encode(&hello, body, sizeof(body), &len);
	raw_send_frame(fd, PROTO_OP_HELLO, 0, 0, body, (uint32_t)len);
	raw_read_frame(fd, &h, body, sizeof(body));
	assert_int_equal(proto_auth_decode(body, h.body_len, &auth), 0);
	assert_int_equal(auth_proof_server(key, auth.nonce, hello.nonce, ok.proof), 0);
	proto_auth_ok_encode(&ok, body, sizeof(body), &len);
	raw_send_frame(fd, PROTO_OP_AUTH_OK, PROTO_F_RESPONSE, 0, body, (uint32_t)len);
	return fd;
}

static int raw_listen(int rcvbuf, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	if (rcvbuf)
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return lfd;
}

/*
 * A request times out while partly written to a peer that stopped reading.
 * The caller frees its buffer at once; the rest of the frame must still
 * reach the peer intact (copied by the queue), with no use after free.
 */
static void test_timeout_partial_send(void **state)
{
	const uint32_t len = 8u << 20;
	struct rpc_opts o = test_opts(key_a);
	struct rpc_client *cli;
	uint8_t *data = malloc(len), *expect = malloc(len), *got = malloc(len);
	uint8_t raw[PROTO_HDR_SIZE], body[16];
	struct iovec iov = {data, len};
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = "partial!", .body_len = 8,
				.data = &iov, .data_cnt = 1, .timeout_ms = 200};
	struct proto_hdr h;
	char addr[64];
	struct batch b;
	uint64_t s = seed;
	int lfd, fd, port;

	(void)state;
	assert_non_null(data);
	assert_non_null(expect);
	assert_non_null(got);
	fill_random(&s, expect, len);
	memcpy(data, expect, len);
	lfd = raw_listen(64 * 1024, &port);
	o.socket_buffer = 64 * 1024;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(rpc_client_new(addr, &o, &cli), 0);
	fd = raw_server_accept(lfd, key_a);
	{
		/* Nobody answers; this only waits for the connection to be up. */
		struct rpc_call p = {.opcode = PROTO_OP_PING, .timeout_ms = 100};
		struct rpc_msg *resp;

		assert_int_equal(rpc_call_sync(cli, &p, &resp), -ETIMEDOUT);
	}

	batch_init(&b);
	batch_submit(&b, cli, &call);
	batch_wait(&b, 5000);
	assert_int_equal(b.slot[0].status, -ETIMEDOUT);
	memset(data, 0, len);
	free(data);

	/* Skip the PING frame (if it was sent), then the ECHO frame arrives whole. */
	do {
		raw_read(fd, raw, sizeof(raw));
		assert_int_equal(proto_hdr_decode(raw, 1u << 30, &h), 0);
	} while (h.opcode == PROTO_OP_PING);
	assert_int_equal(h.opcode, PROTO_OP_ECHO);
	assert_int_equal(h.body_len, 8);
	assert_int_equal(h.data_len, len);
	raw_read(fd, body, 8);
	assert_int_equal(proto_frame_check(raw, &h, body), 0);
	raw_read(fd, got, len);
	assert_memory_equal(got, expect, len);
	batch_fini(&b);
	rpc_client_free(cli);
	close(fd);
	close(lfd);
	free(expect);
	free(got);
}

/* When every slot is held by a timed-out request, the client reconnects. */
static void test_stuck_slots(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct rpc_call call = {.opcode = OP_HOLD, .timeout_ms = 100};
	struct rpc_client *cli;
	struct tsrv *ts;
	struct batch b;

	(void)state;
	o.max_inflight = 2;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	cli = client_for(ts->port, key_a);
	assert_int_equal(ping(cli), 0);
	batch_init(&b);
	batch_submit(&b, cli, &call);
	batch_submit(&b, cli, &call);
	batch_wait(&b, 5000);
	assert_int_equal(b.slot[0].status, -ETIMEDOUT);
	assert_int_equal(b.slot[1].status, -ETIMEDOUT);
	batch_fini(&b);
	/* Both slots are taken by the server; a new connection frees them. */
	assert_int_equal(ping(cli), 0);
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* ---- a shared engine ---- */

struct nested {
	struct rpc_client *cli;
	atomic_int result;
};

/* A handler on the engine's thread must not block on a call. */
static void nested_handler(void *arg, struct rpc_req *req)
{
	struct nested *n = arg;
	struct rpc_call call = {.opcode = PROTO_OP_PING};
	struct rpc_msg *resp;

	atomic_store(&n->result, rpc_call_sync(n->cli, &call, &resp));
	rpc_reply(req, 0, NULL, 0, NULL, 0, NULL, NULL);
}

static void test_shared_engine(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct rpc_client *c1, *c2;
	struct rpc_server *srv;
	struct rpc_engine *eng;
	struct nested n = {.result = 1};
	struct rpc_call call = {.opcode = OP_UNKNOWN};
	struct rpc_msg *resp;
	char addr[64];

	(void)state;
	assert_int_equal(rpc_engine_new(0, &eng), -EINVAL);
	assert_int_equal(rpc_engine_new(2, &eng), 0);
	o.engine = eng;
	assert_int_equal(rpc_server_start("127.0.0.1:0", &o, nested_handler, &n, &srv), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", rpc_server_port(srv));
	assert_int_equal(rpc_client_new(addr, &o, &c1), 0);
	assert_int_equal(rpc_client_new(addr, &o, &c2), 0);
	n.cli = c2;
	assert_int_equal(ping(c1), 0);
	assert_int_equal(ping(c2), 0);
	assert_int_equal(rpc_call_sync(c1, &call, &resp), 0);
	rpc_msg_free(resp);
	assert_int_equal(atomic_load(&n.result), -EDEADLK);
	rpc_client_free(c1);
	rpc_client_free(c2);
	rpc_server_stop(srv);
	rpc_engine_free(eng);
}

/* Options are checked before anything starts. */
static void test_bad_options(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct rpc_client *cli;
	struct rpc_server *srv;

	(void)state;
	o.key = NULL;
	assert_int_equal(rpc_client_new("127.0.0.1:1", &o, &cli), -EINVAL);
	o = test_opts(key_a);
	o.max_frame = 100;
	assert_int_equal(rpc_server_start("127.0.0.1:0", &o, handler, NULL, &srv), -EINVAL);
	o = test_opts(key_a);
	o.reconnect_max_ms = 1;
	assert_int_equal(rpc_client_new("127.0.0.1:1", &o, &cli), -EINVAL);
	o = test_opts(key_a);
	assert_int_equal(rpc_client_new("127.0.0.1", &o, &cli), -EINVAL);
	assert_int_equal(rpc_client_new("no-such-host.invalid:1", &o, &cli), -ENOENT);
	assert_int_equal(rpc_server_start("127.0.0.1:x", &o, handler, NULL, &srv), -EINVAL);
	rpc_client_free(NULL);
	rpc_server_stop(NULL);
}

/* ---- server restart, client reconnect ---- */

static void test_restart(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	struct rpc_opts o = test_opts(key_a);
	struct rpc_call call = {.opcode = PROTO_OP_PING, .timeout_ms = 10000};
	char addr[64];
	struct batch b;
	int port = ts->port;

	(void)state;
	assert_int_equal(ping(cli), 0);
	tsrv_stop(ts);
	/*
	 * A call racing with the loss may still be written to the dying
	 * connection (-ECONNRESET); once one fails, the client knows.
	 */
	for (;;) {
		struct rpc_call p = {.opcode = PROTO_OP_PING, .timeout_ms = 50};
		struct rpc_msg *resp;
		int ret = rpc_call_sync(cli, &p, &resp);

		assert_true(ret == -ECONNRESET || ret == -ETIMEDOUT);
		if (ret == -ETIMEDOUT)
			break;
	}
	/* Submitted while the server is down: waits for the reconnection. */
	batch_init(&b);
	batch_submit(&b, cli, &call);
	sleep_ms(150);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ts = tsrv_start_opts(addr, &o);
	batch_wait(&b, 10000);
	assert_int_equal(b.slot[0].status, 0);
	batch_fini(&b);
	assert_int_equal(ping(cli), 0);

	/* Requests in flight when the server goes: -ECONNRESET, then recovery. */
	batch_init(&b);
	call.opcode = OP_HOLD;
	for (int i = 0; i < 5; i++)
		batch_submit(&b, cli, &call);
	wait_held(ts, 5);
	tsrv_stop(ts); /* answers the held requests first, to a closed connection */
	batch_wait(&b, 5000);
	for (int i = 0; i < b.n; i++)
		assert_true(b.slot[i].status == -ECONNRESET || b.slot[i].status == 0);
	batch_fini(&b);
	ts = tsrv_start_opts(addr, &o);
	call = (struct rpc_call){.opcode = PROTO_OP_PING, .timeout_ms = 10000};
	{
		struct rpc_msg *resp;

		assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
		rpc_msg_free(resp);
	}
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* ---- freeing a client with calls pending ---- */

static void test_free_pending(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct tsrv *ts;
	struct rpc_client *cli;
	struct rpc_call call = {.opcode = OP_HOLD};
	uint8_t data[10000];
	struct iovec iov = {data, sizeof(data)};
	struct batch b;

	(void)state;
	o.max_inflight = 8;
	ts = tsrv_start_opts("127.0.0.1:0", &o);
	cli = client_for(ts->port, key_a);
	memset(data, 0x42, sizeof(data));
	call.data = &iov;
	call.data_cnt = 1;
	batch_init(&b);
	/* 8 reach the server and are held; 12 wait in the client's queue. */
	for (int i = 0; i < 20; i++)
		batch_submit(&b, cli, &call);
	wait_held(ts, 8);
	rpc_client_free(cli);
	/* Every callback ran before rpc_client_free returned, exactly once. */
	assert_int_equal(b.outstanding, 0);
	for (int i = 0; i < b.n; i++) {
		assert_int_equal(b.slot[i].status, -ECANCELED);
		assert_null(b.slot[i].resp);
	}
	batch_fini(&b);
	/* The server's replies go nowhere but still release. */
	assert_int_equal(release_held(ts), 8);
	tsrv_stop(ts);
}

/* ---- replies from other threads, release exactly once ---- */

struct counted {
	atomic_int *count;
	uint8_t *buf;
};

static atomic_int release_slots[128];

static void release_counted(void *arg)
{
	struct counted *c = arg;

	atomic_fetch_add(c->count, 1);
	free(c->buf);
	free(c);
}

struct async_ctx {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rpc_req *reqs[128];
	int n;
	bool done;
};

static void async_handler(void *arg, struct rpc_req *req)
{
	struct async_ctx *ac = arg;

	pthread_mutex_lock(&ac->lock);
	ac->reqs[ac->n++] = req;
	pthread_cond_signal(&ac->cond);
	pthread_mutex_unlock(&ac->lock);
}

/* Replies from this thread, with its own buffers and release callbacks. */
static void *async_replier(void *arg)
{
	struct async_ctx *ac = arg;
	int next = 0;

	pthread_mutex_lock(&ac->lock);
	while (!ac->done || next < ac->n) {
		struct rpc_req *req;
		struct counted *c;
		struct iovec iov[2];
		const struct rpc_msg *msg;
		uint32_t idx, len;

		if (next == ac->n) {
			pthread_cond_wait(&ac->cond, &ac->lock);
			continue;
		}
		req = ac->reqs[next++];
		pthread_mutex_unlock(&ac->lock);
		msg = rpc_req_msg(req);
		idx = wire_get_le32(msg->body);
		len = 1000 + idx * 3000; /* up to ~380 KiB: some replies queue */
		c = malloc(sizeof(*c));
		assert_non_null(c);
		c->count = &release_slots[idx];
		c->buf = malloc(len);
		assert_non_null(c->buf);
		memset(c->buf, (int)idx, len);
		iov[0] = (struct iovec){c->buf, len / 2};
		iov[1] = (struct iovec){c->buf + len / 2, len - len / 2};
		rpc_reply(req, (int)idx, msg->body, 4, iov, 2, release_counted, c);
		pthread_mutex_lock(&ac->lock);
	}
	pthread_mutex_unlock(&ac->lock);
	return NULL;
}

static void test_async_release(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct async_ctx ac = {.n = 0};
	struct rpc_server *srv;
	struct rpc_client *cli;
	uint8_t bodies[128][4];
	char addr[64];
	pthread_t th;
	struct batch b;

	(void)state;
	pthread_mutex_init(&ac.lock, NULL);
	pthread_cond_init(&ac.cond, NULL);
	assert_int_equal(pthread_create(&th, NULL, async_replier, &ac), 0);
	assert_int_equal(rpc_server_start("127.0.0.1:0", &o, async_handler, &ac, &srv), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", rpc_server_port(srv));
	assert_int_equal(rpc_client_new(addr, &o, &cli), 0);
	batch_init(&b);
	for (uint32_t i = 0; i < 128; i++) {
		struct rpc_call call = {.opcode = OP_UNKNOWN, .body = bodies[i], .body_len = 4};

		wire_put_le32(bodies[i], i);
		batch_submit(&b, cli, &call);
	}
	batch_wait(&b, 20000);
	for (int i = 0; i < b.n; i++) {
		struct rpc_msg *r = b.slot[i].resp;
		uint32_t len = 1000 + (uint32_t)i * 3000;

		assert_int_equal(b.slot[i].status, i);
		assert_non_null(r);
		assert_int_equal(r->data_len, len);
		for (uint32_t k = 0; k < len; k++)
			if (((uint8_t *)r->data)[k] != (uint8_t)i)
				fail_msg("reply %d byte %u differs", i, k);
	}
	batch_fini(&b);
	rpc_client_free(cli);
	pthread_mutex_lock(&ac.lock);
	ac.done = true;
	pthread_cond_signal(&ac.cond);
	pthread_mutex_unlock(&ac.lock);
	pthread_join(th, NULL);
	rpc_server_stop(srv);
	for (int i = 0; i < 128; i++)
		assert_int_equal(atomic_load(&release_slots[i]), 1);
	pthread_cond_destroy(&ac.cond);
	pthread_mutex_destroy(&ac.lock);
}

/* ---- blocking calls that read their own answers ---- */

static __thread bool on_caller_thread;

struct mixed_async {
	uint8_t body[64];
	uint32_t body_len;
	atomic_int calls;
	atomic_int bad; /* wrong status or body, or run on a caller thread */
};

struct mixed_thread {
	pthread_t thread;
	struct rpc_client *cli;
	uint64_t seed;
	int iterations;
	int failures;
	struct mixed_async async[64];
	int nasync;
	atomic_int async_left;
};

static void mixed_async_done(void *arg, int status, struct rpc_msg *resp)
{
	struct mixed_async *a = arg;

	if (on_caller_thread || status || !resp || resp->body_len != a->body_len ||
	    memcmp(resp->body, a->body, a->body_len))
		atomic_fetch_add(&a->bad, 1);
	rpc_msg_free(resp);
	atomic_fetch_add(&a->calls, 1);
}

/* One blocking call with random body, data and delay; 0 if echoed intact. */
static int mixed_sync_one(struct mixed_thread *mt, uint8_t *data, uint8_t *rx)
{
	uint8_t body[128];
	uint32_t data_len = (uint32_t)(rnd(&mt->seed) % 40000);
	struct iovec iov = {data, data_len};
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = body, .data = &iov,
				.data_cnt = 1};
	struct rpc_msg *resp;
	int ret;

	fill_random(&mt->seed, body, sizeof(body));
	fill_random(&mt->seed, data, data_len);
	call.body_len = 4 + (uint32_t)(rnd(&mt->seed) % 100);
	if (rnd(&mt->seed) % 3 == 0) {
		/* Answered later from the server's defer thread, out of order. */
		wire_put_le32(body, (uint32_t)(rnd(&mt->seed) % 3));
		call.opcode = OP_DEFER;
	}
	if (rnd(&mt->seed) & 1) {
		call.rx_buf = rx;
		call.rx_cap = 40000;
	}
	ret = rpc_call_sync(mt->cli, &call, &resp);
	if (ret)
		return ret;
	if (resp->body_len != call.body_len || memcmp(resp->body, body, call.body_len) ||
	    resp->data_len != data_len || (data_len && memcmp(resp->data, data, data_len)) ||
	    (call.rx_buf && data_len && resp->data != rx))
		ret = -EBADMSG;
	rpc_msg_free(resp);
	return ret;
}

static void *mixed_main(void *arg)
{
	struct mixed_thread *mt = arg;
	uint8_t *data = malloc(40000), *rx = malloc(40000);

	on_caller_thread = true;
	for (int i = 0; i < mt->iterations && data && rx; i++) {
		if (rnd(&mt->seed) % 5 == 0 && mt->nasync < 64) {
			struct mixed_async *a = &mt->async[mt->nasync];
			struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = a->body};

			a->body_len = 1 + (uint32_t)(rnd(&mt->seed) % sizeof(a->body));
			fill_random(&mt->seed, a->body, a->body_len);
			call.body_len = a->body_len;
			if (rpc_call_async(mt->cli, &call, mixed_async_done, a))
				mt->failures++;
			else
				mt->nasync++;
			continue;
		}
		if (mixed_sync_one(mt, data, rx))
			mt->failures++;
	}
	free(data);
	free(rx);
	return NULL;
}

/* Many threads' blocking calls mixed with async calls on one client. */
static void test_sync_fast_mixed(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	struct mixed_thread *mt = calloc(6, sizeof(*mt));
	int64_t end;

	(void)state;
	assert_non_null(mt);
	assert_int_equal(ping(cli), 0);
	for (int t = 0; t < 6; t++) {
		mt[t].cli = cli;
		mt[t].seed = seed + 7919 * (uint64_t)(t + 1);
		mt[t].iterations = 300;
		assert_int_equal(pthread_create(&mt[t].thread, NULL, mixed_main, &mt[t]), 0);
	}
	for (int t = 0; t < 6; t++)
		pthread_join(mt[t].thread, NULL);
	end = now_ms() + 10000;
	for (int t = 0; t < 6; t++) {
		assert_int_equal(mt[t].failures, 0);
		for (int i = 0; i < mt[t].nasync; i++) {
			while (!atomic_load(&mt[t].async[i].calls) && now_ms() < end)
				sleep_ms(1);
			assert_int_equal(atomic_load(&mt[t].async[i].bad), 0);
		}
	}
	sleep_ms(20); /* a repeated callback would show */
	for (int t = 0; t < 6; t++)
		for (int i = 0; i < mt[t].nasync; i++)
			assert_int_equal(atomic_load(&mt[t].async[i].calls), 1);
	rpc_client_free(cli);
	tsrv_stop(ts);
	free(mt);
}

struct sync_bg {
	pthread_t thread;
	struct rpc_client *cli;
	struct rpc_call call;
	uint8_t body[4];
	int ret;
	int64_t took;
	atomic_bool finished;
};

static void *sync_bg_main(void *arg)
{
	struct sync_bg *sb = arg;
	struct rpc_msg *resp;
	int64_t t0 = now_ms();

	sb->ret = rpc_call_sync(sb->cli, &sb->call, &resp);
	sb->took = now_ms() - t0;
	if (!sb->ret && (!resp || resp->hdr.status))
		sb->ret = -EBADMSG;
	rpc_msg_free(resp);
	atomic_store(&sb->finished, true);
	return NULL;
}

static void sync_bg_start(struct sync_bg *sb, struct rpc_client *cli, uint16_t opcode,
			  uint32_t delay_ms, int timeout_ms)
{
	memset(sb, 0, sizeof(*sb));
	sb->cli = cli;
	wire_put_le32(sb->body, delay_ms);
	sb->call = (struct rpc_call){.opcode = opcode, .body = sb->body, .body_len = 4,
				     .timeout_ms = timeout_ms};
	assert_int_equal(pthread_create(&sb->thread, NULL, sync_bg_main, sb), 0);
}

static int sync_bg_join(struct sync_bg *sb)
{
	pthread_join(sb->thread, NULL);
	return sb->ret;
}

/*
 * While one blocking caller reads (its call held by the server), others
 * time out on their own deadline, get answers it reads for them, and are
 * still answered after it gave up reading.
 */
static void test_sync_fast_timeouts(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	struct sync_bg reader, late, sleeper;
	int64_t t0;

	(void)state;
	assert_int_equal(ping(cli), 0);
	sync_bg_start(&reader, cli, OP_HOLD, 0, 10000);
	wait_held(ts, 1);
	/* Times out while the reader holds the connection's receive side. */
	sync_bg_start(&late, cli, OP_DEFER, 600, 100);
	assert_int_equal(sync_bg_join(&late), -ETIMEDOUT);
	assert_true(late.took >= 100 && late.took < 550);
	/* Answered through the reader, promptly. */
	t0 = now_ms();
	assert_int_equal(ping(cli), 0);
	assert_true(now_ms() - t0 < 1000);
	assert_false(atomic_load(&reader.finished));
	assert_int_equal(release_held(ts), 1);
	assert_int_equal(sync_bg_join(&reader), 0);

	/* The reader times out and leaves; a sleeping caller still gets its answer. */
	sync_bg_start(&reader, cli, OP_HOLD, 0, 200);
	wait_held(ts, 1);
	sync_bg_start(&sleeper, cli, OP_DEFER, 400, 5000);
	assert_int_equal(sync_bg_join(&reader), -ETIMEDOUT);
	assert_true(reader.took >= 200 && reader.took < 2000);
	assert_int_equal(sync_bg_join(&sleeper), 0);
	assert_true(sleeper.took >= 400 && sleeper.took < 3000);
	assert_int_equal(release_held(ts), 1); /* its late answer is dropped */
	assert_int_equal(ping(cli), 0);
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* Answers one request with a frame cut in the middle of its data, then closes. */
static void *cut_server_main(void *arg)
{
	int lfd = *(int *)arg;
	uint8_t raw[PROTO_HDR_SIZE], body[256], data[3000] = {0};
	struct proto_hdr h;
	int fd = raw_server_accept(lfd, key_a);

	raw_read_frame(fd, &h, body, sizeof(body));
	h = (struct proto_hdr){.version = PROTO_VERSION, .opcode = h.opcode,
			       .flags = PROTO_F_RESPONSE, .req_id = h.req_id, .body_len = 4,
			       .data_len = 10000};
	proto_hdr_encode(&h, "cut!", raw);
	raw_write(fd, raw, sizeof(raw));
	raw_write(fd, "cut!", 4);
	raw_write(fd, data, sizeof(data));
	sleep_ms(50);
	close(fd);
	/* The client reconnects; answer its next request properly. */
	fd = raw_server_accept(lfd, key_a);
	raw_read_frame(fd, &h, body, sizeof(body));
	raw_send_frame(fd, h.opcode, PROTO_F_RESPONSE, h.req_id, "ok", 2);
	expect_closed(fd);
	return NULL;
}

static void *restart_caller_main(void *arg)
{
	struct mixed_thread *mt = arg;
	static const uint8_t data[20000];
	struct iovec iov = {(void *)data, 0};
	/* ECHO, not DEFER: tsrv_stop() stops the defer thread before the server. */
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = "r", .body_len = 1,
				.data = &iov, .data_cnt = 1, .timeout_ms = 300};

	on_caller_thread = true;
	for (int i = 0; i < mt->iterations; i++) {
		struct rpc_msg *resp;
		int ret;

		iov.iov_len = rnd(&mt->seed) % sizeof(data);
		ret = rpc_call_sync(mt->cli, &call, &resp);
		if (ret && ret != -ECONNRESET && ret != -ETIMEDOUT)
			mt->failures++;
		rpc_msg_free(resp);
	}
	return NULL;
}

/* Connections lost under blocking callers: mid-frame, and in a busy restart. */
static void test_sync_fast_conn_loss(void **state)
{
	struct rpc_opts o = test_opts(key_a);
	struct rpc_call call = {.opcode = PROTO_OP_ECHO, .body = "x", .body_len = 1};
	struct mixed_thread mt[3];
	struct rpc_client *cli;
	struct rpc_msg *resp;
	struct tsrv *ts;
	pthread_t th;
	char addr[64];
	int lfd, port, ret;

	(void)state;
	lfd = raw_listen(0, &port);
	assert_int_equal(pthread_create(&th, NULL, cut_server_main, &lfd), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(rpc_client_new(addr, &o, &cli), 0);
	assert_int_equal(rpc_call_sync(cli, &call, &resp), -ECONNRESET);
	assert_null(resp);
	/* The next call may still race onto the dying connection (see test_restart). */
	for (int i = 0; i < 3 && (ret = rpc_call_sync(cli, &call, &resp)) == -ECONNRESET; i++)
		;
	assert_int_equal(ret, 0);
	assert_int_equal(resp->body_len, 2);
	rpc_msg_free(resp);
	rpc_client_free(cli);
	pthread_join(th, NULL);
	close(lfd);

	/* Blocking callers keep going while the server restarts twice. */
	ts = tsrv_start();
	port = ts->port;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	cli = client_for(port, key_a);
	assert_int_equal(ping(cli), 0);
	for (int t = 0; t < 3; t++) {
		mt[t] = (struct mixed_thread){.cli = cli, .seed = seed + (uint64_t)t * 31,
					      .iterations = 3000};
		assert_int_equal(pthread_create(&mt[t].thread, NULL, restart_caller_main, &mt[t]),
				 0);
	}
	for (int r = 0; r < 2; r++) {
		sleep_ms(100);
		tsrv_stop(ts);
		sleep_ms(30);
		ts = tsrv_start_opts(addr, &o);
	}
	for (int t = 0; t < 3; t++) {
		pthread_join(mt[t].thread, NULL);
		assert_int_equal(mt[t].failures, 0);
	}
	call.timeout_ms = 10000;
	assert_int_equal(rpc_call_sync(cli, &call, &resp), 0);
	rpc_msg_free(resp);
	rpc_client_free(cli);
	tsrv_stop(ts);
}

/* rpc_client_free() with threads blocked in rpc_call_sync(): -ECANCELED. */
static void test_sync_fast_free(void **state)
{
	struct tsrv *ts = tsrv_start();
	struct rpc_client *cli = client_for(ts->port, key_a);
	struct sync_bg sb[4];
	struct batch b;
	struct rpc_call hold = {.opcode = OP_HOLD};

	(void)state;
	assert_int_equal(ping(cli), 0);
	for (int i = 0; i < 4; i++) {
		sync_bg_start(&sb[i], cli, OP_HOLD, 0, 10000);
		wait_held(ts, i + 1);
	}
	batch_init(&b);
	batch_submit(&b, cli, &hold);
	wait_held(ts, 5);
	rpc_client_free(cli);
	assert_int_equal(b.outstanding, 0);
	assert_int_equal(b.slot[0].status, -ECANCELED);
	for (int i = 0; i < 4; i++) {
		/*
		 * Out of rpc_call_sync() when rpc_client_free() returned; the
		 * thread marks itself finished just after, so allow it a moment
		 * on a loaded machine.
		 */
		for (int t = 0; t < 500 && !atomic_load(&sb[i].finished); t++)
			usleep(10000);
		assert_true(atomic_load(&sb[i].finished));
		assert_int_equal(sync_bg_join(&sb[i]), -ECANCELED);
	}
	batch_fini(&b);
	assert_int_equal(release_held(ts), 5);
	tsrv_stop(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_and_rx_buf),
		cmocka_unit_test(test_msgsize),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_garbage_peers),
		cmocka_unit_test(test_oversize_and_inflight),
		cmocka_unit_test(test_impostor_server),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_partial_send),
		cmocka_unit_test(test_stuck_slots),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_free_pending),
		cmocka_unit_test(test_async_release),
		cmocka_unit_test(test_shared_engine),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_stress_inline),
		cmocka_unit_test(test_stress_workers),
		cmocka_unit_test(test_sync_fast_mixed),
		cmocka_unit_test(test_sync_fast_timeouts),
		cmocka_unit_test(test_sync_fast_conn_loss),
		cmocka_unit_test(test_sync_fast_free),
	};
	const char *env = getenv("TEST_RPC_SEED");
	char path[128];
	int ret;

	log_setup("test_rpc", LOG_LVL_WARN, false);
	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	seed |= 1;
	printf("TEST_RPC_SEED=%llu\n", (unsigned long long)seed);
	snprintf(dir, sizeof(dir), "/tmp/cairn-test-rpc-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/a.key", dir);
	if (auth_key_generate(path) || auth_key_load(path, &key_a))
		return 1;
	snprintf(path, sizeof(path), "%s/b.key", dir);
	if (auth_key_generate(path) || auth_key_load(path, &key_b))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	auth_key_free(key_a);
	auth_key_free(key_b);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		ret = 1;
	return ret;
}
