/*
 * test_net.c - the TCP transport on loopback (listen on port 0, connect,
 * accept, gathered sends, non-blocking receive, end of stream), IPv6 when
 * the host has it, address parsing, and transport selection.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/net.h"

static const struct net_ops *tcp = &net_tcp_ops;

static void wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	assert_int_equal(poll(&p, 1, 5000), 1);
}

static struct net_conn *accept_one(struct net_listener *l)
{
	struct net_conn *c = NULL;
	int ret;

	while ((ret = tcp->accept(l, &c)) == -EAGAIN)
		wait_fd(tcp->listener_fd(l), POLLIN);
	assert_int_equal(ret, 0);
	return c;
}

/* Sends all of buf through sendv in uneven pieces, polling on EAGAIN. */
static void send_all(struct net_conn *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct iovec iov[3];
		size_t left = len - off, a = left / 3, b = left / 5;
		ssize_t n;

		iov[0] = (struct iovec){(void *)(buf + off), a};
		iov[1] = (struct iovec){(void *)(buf + off + a), b};
		iov[2] = (struct iovec){(void *)(buf + off + a + b), left - a - b};
		n = tcp->sendv(c, iov, 3);
		if (n == -EAGAIN) {
			wait_fd(tcp->fd(c), POLLOUT);
			continue;
		}
		assert_true(n > 0);
		off += (size_t)n;
	}
}

static void recv_all(struct net_conn *c, uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = tcp->recv(c, buf + off, len - off);

		if (n == -EAGAIN) {
			wait_fd(tcp->fd(c), POLLIN);
			continue;
		}
		assert_true(n > 0);
		off += (size_t)n;
	}
}

/* Listens on addr port 0, connects, and moves 8 MiB each way. */
static void exchange(const char *listen_addr, const char *host_fmt)
{
	const size_t len = 8u << 20;
	struct net_listener *l;
	struct net_conn *cli, *srv;
	uint8_t *out = malloc(len), *in = malloc(len), small;
	char addr[NET_ADDR_MAX], peer[NET_ADDR_MAX];
	int port;

	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 2654435761u >> 13);
	assert_int_equal(tcp->listen(listen_addr, 0, &l), 0);
	port = tcp->listener_port(l);
	assert_true(port > 0 && port < 65536);
	snprintf(addr, sizeof(addr), host_fmt, port);
	assert_int_equal(net_connect(tcp, addr, 5000, 256 * 1024, &cli), 0);
	srv = accept_one(l);
	tcp->peer_name(cli, peer, sizeof(peer));
	assert_string_equal(peer, addr);
	/* Nothing to read yet: EAGAIN, not a block. */
	assert_int_equal(tcp->recv(srv, &small, 1), -EAGAIN);

	send_all(cli, out, 4096);
	recv_all(srv, in, 4096);
	assert_memory_equal(in, out, 4096);
	/* Large transfers must interleave: the sender fills the buffers. */
	for (size_t off = 0; off < len; off += 1u << 20) {
		send_all(srv, out + off, 1u << 20);
		recv_all(cli, in + off, 1u << 20);
	}
	assert_memory_equal(in, out, len);

	/* End of stream after close; a send to a closed peer fails. */
	tcp->close(cli);
	wait_fd(tcp->fd(srv), POLLIN);
	assert_int_equal(tcp->recv(srv, &small, 1), 0);
	tcp->close(srv);
	tcp->listener_close(l);
	free(out);
	free(in);
}

static void test_tcp_ipv4(void **state)
{
	(void)state;
	exchange("127.0.0.1:0", "127.0.0.1:%d");
}

static void test_tcp_ipv6(void **state)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int ok;

	(void)state;
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		print_message("no IPv6 loopback here; skipping\n");
		skip();
	}
	exchange("[::1]:0", "[::1]:%d");
}

static void test_connect_refused(void **state)
{
	struct net_listener *l;
	struct net_conn *c;
	char addr[NET_ADDR_MAX];

	(void)state;
	/* A port that was just free: listen, note it, close. */
	assert_int_equal(tcp->listen("127.0.0.1:0", 0, &l), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tcp->listener_port(l));
	tcp->listener_close(l);
	assert_int_equal(net_connect(tcp, addr, 2000, 0, &c), -ECONNREFUSED);
}

static void test_listen_errors(void **state)
{
	struct net_listener *l, *l2;
	char addr[NET_ADDR_MAX];

	(void)state;
	assert_int_equal(tcp->listen("127.0.0.1:0", 0, &l), 0);
	assert_int_equal(tcp->accept(l, &(struct net_conn *){NULL}), -EAGAIN);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tcp->listener_port(l));
	assert_int_equal(tcp->listen(addr, 0, &l2), -EADDRINUSE);
	tcp->listener_close(l);
	assert_int_equal(tcp->listen("127.0.0.1", 0, &l), -EINVAL);
	assert_int_equal(tcp->listen("no-such-host.invalid:1", 0, &l), -ENOENT);
}

static void test_addr_parse(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(net_addr_parse("10.1.2.3:7000", host, sizeof(host), &port), 0);
	assert_string_equal(host, "10.1.2.3");
	assert_int_equal(port, 7000);
	assert_int_equal(net_addr_parse("[fe80::1]:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 0);
	assert_int_equal(net_addr_parse("node-7.cluster:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "node-7.cluster");

	static const char *const bad[] = {
		"", ":80", "host", "host:", "host:-1", "host:65536", "host:80x", "host: 80",
		"::1:80", "[::1]80", "[::1:80", "[]:80", "::1]:80", "a[b]:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad address '%s'\n", bad[i]);
		assert_int_equal(net_addr_parse(bad[i], host, sizeof(host), &port), -EINVAL);
	}
	assert_int_equal(net_addr_parse("longhostname:1", host, 5, &port), -EINVAL);
	assert_int_equal(net_addr_parse(NULL, host, sizeof(host), &port), -EINVAL);
}

static void test_addr_resolve(void **state)
{
	char out[NET_ADDR_MAX];

	(void)state;
	assert_int_equal(net_addr_resolve("127.0.0.1:99", out, sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1:99");
	assert_int_equal(net_addr_resolve("localhost:5", out, sizeof(out)), 0);
	assert_true(strcmp(out, "127.0.0.1:5") == 0 || strcmp(out, "[::1]:5") == 0);
	assert_int_equal(net_addr_resolve("[::1]:7", out, sizeof(out)), 0);
	assert_string_equal(out, "[::1]:7");
	assert_int_equal(net_addr_resolve("bad", out, sizeof(out)), -EINVAL);
}

static void test_select(void **state)
{
	(void)state;
	assert_ptr_equal(net_select("tcp"), &net_tcp_ops);
	assert_string_equal(net_select("tcp")->name, "tcp");
	/* No RDMA device on this machine, and no RDMA transport yet: TCP. */
	assert_false(net_rdma_available());
	assert_ptr_equal(net_select("rdma"), &net_tcp_ops);
	assert_ptr_equal(net_select("auto"), &net_tcp_ops);
	assert_ptr_equal(net_select(NULL), &net_tcp_ops);
	assert_null(net_select("bogus"));
	assert_null(net_select(""));
	assert_null(net_select("TCP "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_ipv4),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_resolve),
		cmocka_unit_test(test_select),
	};

	log_setup("test_net", LOG_LVL_INFO, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
