/*
 * rpc-bench.c - RPC layer against plain sockets on loopback, in one run.
 *
 *   (a) baseline: blocking TCP ping-pong of 64-byte messages between two
 *       threads, one in flight, round trips/s
 *   (b) RPC round trips/s for 64-byte requests and responses, N in flight,
 *       through a real authenticated server; then blocking calls from one
 *       thread, and from 4 threads sharing the client
 *   (c) baseline: blocking TCP streaming of 1 MiB buffers, GB/s
 *   (d) RPC 1 MiB request payloads, N in flight, small responses, GB/s
 *       (with and without the data CRC)
 *
 * Usage: rpc-bench [--seconds N] [--inflight N] [--rounds R] [--only abcd]
 *   --seconds  time per test (default 5), split into R rounds (default 5)
 *              that interleave the tests; the median round is reported, so
 *              a noisy neighbour hurts baseline and RPC alike
 *   --only     run a subset, e.g. "d" alone for profiling
 * Threads: the baselines use two threads; the RPC runs use the server's and
 * the client's I/O threads, with completions resubmitting from the client's
 * I/O thread so N calls stay in flight; the sync runs add their callers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"

#define SMALL 64
#define BULK (1u << 20)
#define OP_SMALL PROTO_OP_ECHO
#define OP_BULK (PROTO_OP_OSD_FIRST + 1)

static int seconds = 5;
static int inflight = 8;
static int rounds = 5;
static double round_s; /* seconds / rounds */
static const char *only = "abcd";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err) __attribute__((noreturn));

static void die(const char *what, int err)
{
	fprintf(stderr, "rpc-bench: %s: %s\n", what, error_str(err));
	exit(1);
}

/* ---- plain sockets ---- */

/* A connected loopback TCP pair: out[0] client side, out[1] server side. */
static void tcp_pair(int out[2])
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		die("baseline listen", -errno);
	out[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (out[0] < 0 || connect(out[0], (struct sockaddr *)&sa, sizeof(sa)))
		die("baseline connect", -errno);
	out[1] = accept(l, NULL, NULL);
	if (out[1] < 0)
		die("baseline accept", -errno);
	setsockopt(out[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(out[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static void *pong_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[SMALL];

	while (read_full(fd, buf, SMALL) == 0 && write_full(fd, buf, SMALL) == 0)
		;
	return NULL;
}

static double baseline_pingpong(void)
{
	char buf[SMALL] = {1};
	unsigned long n = 0;
	double t0, end;
	pthread_t th;
	int fds[2];

	tcp_pair(fds);
	pthread_create(&th, NULL, pong_main, &fds[1]);
	t0 = now_s();
	end = t0 + round_s;
	while (now_s() < end) {
		for (int i = 0; i < 64; i++) {
			if (write_full(fds[0], buf, SMALL) || read_full(fds[0], buf, SMALL))
				die("baseline ping-pong", -EIO);
		}
		n += 64;
	}
	end = now_s();
	shutdown(fds[0], SHUT_WR);
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
	return (double)n / (end - t0);
}

struct sink {
	int fd;
	unsigned long long bytes;
};

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	char *buf = malloc(BULK);
	ssize_t n;

	while ((n = read(s->fd, buf, BULK)) > 0)
		s->bytes += (unsigned long long)n;
	free(buf);
	return NULL;
}

static double baseline_stream(void)
{
	char *buf = malloc(BULK);
	struct sink s;
	double t0, end;
	pthread_t th;
	int fds[2];

	memset(buf, 0x5a, BULK);
	tcp_pair(fds);
	s = (struct sink){.fd = fds[1]};
	pthread_create(&th, NULL, sink_main, &s);
	t0 = now_s();
	end = t0 + round_s;
	while (now_s() < end)
		if (write_full(fds[0], buf, BULK))
			die("baseline stream", -EIO);
	shutdown(fds[0], SHUT_WR);
	pthread_join(th, NULL);
	end = now_s();
	close(fds[0]);
	close(fds[1]);
	free(buf);
	return (double)s.bytes / (end - t0) / 1e9;
}

/* ---- RPC ---- */

static void handler(void *arg, struct rpc_req *req)
{
	const struct rpc_msg *msg = rpc_req_msg(req);
	uint64_t got = msg->data_len;

	(void)arg;
	if (msg->hdr.opcode == OP_SMALL)
		rpc_reply(req, 0, msg->body, msg->body_len, NULL, 0, NULL, NULL);
	else if (msg->hdr.opcode == OP_BULK)
		rpc_reply(req, 0, &got, sizeof(got), NULL, 0, NULL, NULL);
	else
		rpc_reply(req, -EOPNOTSUPP, NULL, 0, NULL, 0, NULL, NULL);
}

struct driver {
	struct rpc_client *cli;
	struct rpc_call call;
	atomic_bool stop;
	atomic_ulong done;
	atomic_ulong errors;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int outstanding; /* lock */
};

static void driver_done(void *arg, int status, struct rpc_msg *resp)
{
	struct driver *d = arg;

	rpc_msg_free(resp);
	if (status)
		atomic_fetch_add(&d->errors, 1);
	atomic_fetch_add(&d->done, 1);
	if (!atomic_load(&d->stop) && rpc_call_async(d->cli, &d->call, driver_done, d) == 0)
		return;
	pthread_mutex_lock(&d->lock);
	d->outstanding--;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Keeps `depth` calls in flight for the run; returns completions/s. */
static double drive(struct rpc_client *cli, const struct rpc_call *call, int depth)
{
	struct driver d = {.cli = cli, .call = *call};
	unsigned long done;
	double t0, t1;
	int ret;

	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	t0 = now_s();
	for (int i = 0; i < depth; i++) {
		pthread_mutex_lock(&d.lock);
		d.outstanding++;
		pthread_mutex_unlock(&d.lock);
		ret = rpc_call_async(cli, call, driver_done, &d);
		if (ret)
			die("rpc_call_async", ret);
	}
	while (now_s() < t0 + round_s)
		usleep(10000);
	done = atomic_load(&d.done);
	t1 = now_s();
	atomic_store(&d.stop, true);
	pthread_mutex_lock(&d.lock);
	while (d.outstanding)
		pthread_cond_wait(&d.cond, &d.lock);
	pthread_mutex_unlock(&d.lock);
	if (atomic_load(&d.errors))
		die("calls failed", -EIO);
	pthread_cond_destroy(&d.cond);
	pthread_mutex_destroy(&d.lock);
	return (double)done / (t1 - t0);
}

static double rpc_sync_rate(struct rpc_client *cli, const struct rpc_call *call)
{
	unsigned long n = 0;
	double t0 = now_s(), end = t0 + round_s;

	while (now_s() < end) {
		for (int i = 0; i < 64; i++) {
			struct rpc_msg *resp;
			int ret = rpc_call_sync(cli, call, &resp);

			if (ret)
				die("rpc_call_sync", ret);
			rpc_msg_free(resp);
		}
		n += 64;
	}
	return (double)n / (now_s() - t0);
}

#define SYNC_THREADS 4

struct sync_worker {
	pthread_t th;
	struct rpc_client *cli;
	const struct rpc_call *call;
	double end;
	unsigned long n;
};

static void *sync_worker_main(void *arg)
{
	struct sync_worker *w = arg;

	while (now_s() < w->end) {
		for (int i = 0; i < 16; i++) {
			struct rpc_msg *resp;
			int ret = rpc_call_sync(w->cli, w->call, &resp);

			if (ret)
				die("rpc_call_sync", ret);
			rpc_msg_free(resp);
		}
		w->n += 16;
	}
	return NULL;
}

/* SYNC_THREADS threads making blocking calls on one client; calls/s. */
static double rpc_sync_threads_rate(struct rpc_client *cli, const struct rpc_call *call)
{
	struct sync_worker w[SYNC_THREADS];
	double t0 = now_s();
	unsigned long n = 0;

	for (int i = 0; i < SYNC_THREADS; i++) {
		w[i] = (struct sync_worker){.cli = cli, .call = call, .end = t0 + round_s};
		if (pthread_create(&w[i].th, NULL, sync_worker_main, &w[i]))
			die("pthread_create", -EAGAIN);
	}
	for (int i = 0; i < SYNC_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		n += w[i].n;
	}
	return (double)n / (now_s() - t0);
}

static struct rpc_client *connect_client(int port, struct rpc_opts *o)
{
	struct rpc_call ping = {.opcode = PROTO_OP_PING};
	struct rpc_client *cli;
	struct rpc_msg *resp;
	char addr[64];
	int ret;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ret = rpc_client_new(addr, o, &cli);
	if (ret)
		die("rpc_client_new", ret);
	ret = rpc_call_sync(cli, &ping, &resp);
	if (ret)
		die("first call", ret);
	rpc_msg_free(resp);
	return cli;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rpc-bench [--seconds N] [--inflight N] [--rounds R] [--only abcd]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"inflight", required_argument, NULL, 'i'},
		{"rounds", required_argument, NULL, 'r'},
		{"only", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:i:r:o:h", longopts, NULL)) != -1) {
		if (c == 's')
			seconds = atoi(optarg);
		else if (c == 'i')
			inflight = atoi(optarg);
		else if (c == 'r')
			rounds = atoi(optarg);
		else if (c == 'o')
			only = optarg;
		else
			usage();
	}
	if (optind != argc || seconds < 1 || inflight < 1 || inflight > 1024 || rounds < 1 ||
	    rounds > 100 || strspn(only, "abcd") != strlen(only))
		usage();
	round_s = (double)seconds / rounds;
}

enum { R_A, R_B, R_B1, R_B4, R_C, R_D, R_DN, R_COUNT };

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const char *name, double v, double base, bool rate, bool ran)
{
	char ratio[16] = "";

	if (!ran)
		return;
	if (base > 0)
		snprintf(ratio, sizeof(ratio), "%.2f", v / base);
	if (rate)
		printf("%-46s %11.0f/s %8s\n", name, v, ratio);
	else
		printf("%-46s %9.2f GB/s %8s\n", name, v, ratio);
}

int main(int argc, char **argv)
{
	uint8_t raw[32], small[SMALL];
	struct rpc_opts o = rpc_opts_default(), o_nocrc;
	struct rpc_call call_small = {.opcode = OP_SMALL, .body = small, .body_len = SMALL};
	struct rpc_call call_bulk = {.opcode = OP_BULK};
	struct rpc_client *cli, *cli_nocrc;
	double res[R_COUNT][100], med[R_COUNT] = {0};
	bool run_a, run_b, run_c, run_d;
	struct rpc_server *srv;
	struct auth_key *key;
	struct iovec iov;
	char *bulk;
	int ret;

	parse_args(argc, argv);
	run_a = strchr(only, 'a');
	run_b = strchr(only, 'b');
	run_c = strchr(only, 'c');
	run_d = strchr(only, 'd');
	log_setup("rpc-bench", LOG_LVL_WARN, false);
	if (auth_nonce(raw) || auth_key_from_bytes(raw, sizeof(raw), &key))
		die("key", -EIO);
	o.key = key;
	o_nocrc = o;
	o_nocrc.data_crc = false;
	memset(small, 7, sizeof(small));
	bulk = malloc(BULK);
	memset(bulk, 0x5a, BULK);
	iov = (struct iovec){bulk, BULK};
	call_bulk.data = &iov;
	call_bulk.data_cnt = 1;

	printf("rpc-bench: %d s per test in %d rounds, %d in flight for RPC\n", seconds, rounds,
	       inflight);
	ret = rpc_server_start("127.0.0.1:0", &o, handler, NULL, &srv);
	if (ret)
		die("rpc_server_start", ret);
	cli = connect_client(rpc_server_port(srv), &o);
	cli_nocrc = connect_client(rpc_server_port(srv), &o_nocrc);
	for (int r = 0; r < rounds; r++) {
		if (run_a)
			res[R_A][r] = baseline_pingpong();
		if (run_b) {
			res[R_B][r] = drive(cli, &call_small, inflight);
			res[R_B1][r] = rpc_sync_rate(cli, &call_small);
			res[R_B4][r] = rpc_sync_threads_rate(cli, &call_small);
		}
		if (run_c)
			res[R_C][r] = baseline_stream();
		if (run_d) {
			res[R_D][r] = drive(cli, &call_bulk, inflight) * BULK / 1e9;
			res[R_DN][r] = drive(cli_nocrc, &call_bulk, inflight) * BULK / 1e9;
		}
	}
	rpc_client_free(cli);
	rpc_client_free(cli_nocrc);
	rpc_server_stop(srv);
	for (int i = 0; i < R_COUNT; i++)
		med[i] = median(res[i], rounds);

	printf("\n%-46s %14s %8s\n", "test (median of rounds)", "result", "ratio");
	print_row("(a) TCP ping-pong 64 B, 1 in flight", med[R_A], 0, true, run_a);
	print_row("(b) RPC 64 B calls, N in flight", med[R_B], med[R_A], true, run_b);
	print_row("    RPC 64 B calls, sync, 1 in flight", med[R_B1], med[R_A], true, run_b);
	print_row("    RPC 64 B calls, sync, 4 threads", med[R_B4], med[R_A], true, run_b);
	print_row("(c) TCP stream 1 MiB writes", med[R_C], 0, false, run_c);
	print_row("(d) RPC 1 MiB requests, N in flight, data CRC", med[R_D], med[R_C], false, run_d);
	print_row("    RPC 1 MiB requests, N in flight, no CRC", med[R_DN], med[R_C], false, run_d);
	auth_key_free(key);
	free(bulk);
	return 0;
}
