/*
 * net_tcp.c - the TCP transport (struct net_ops in net.h): non-blocking
 * sockets, IPv4 and IPv6, TCP_NODELAY, optional fixed socket buffers,
 * keep-alive probes, and sendmsg() gathering for scatter-gather sends so
 * bulk data goes from the caller's buffers straight to the kernel.
 *
 * Stateless apart from the handles, which belong to their creator.
 */
#include "common/net.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net_int.h"

#define TCP_BACKLOG 1024
#define TCP_KEEPIDLE_S 30
#define TCP_KEEPINTVL_S 10
#define TCP_KEEPCNT_N 3

struct net_listener {
	int fd;
	int port;
	int socket_buffer;
};

struct net_conn {
	int fd;
	bool connecting;
	char peer[NET_ADDR_MAX];
};

static void set_int_opt(int fd, int level, int name, int value)
{
	/* Best effort: a refused tuning option does not break the connection. */
	(void)setsockopt(fd, level, name, &value, sizeof(value));
}

static void tune_socket(int fd, int socket_buffer)
{
	set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, TCP_KEEPIDLE_S);
	set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, TCP_KEEPINTVL_S);
	set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, TCP_KEEPCNT_N);
	if (socket_buffer > 0) {
		set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, socket_buffer);
		set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, socket_buffer);
	}
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int tcp_listen(const char *addr, int socket_buffer, struct net_listener **out)
{
	struct net_listener *l;
	struct addrinfo *res;
	int fd, ret;

	ret = net_lookup(addr, true, &res);
	if (ret)
		return ret;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (socket_buffer > 0)
		set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, socket_buffer);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, TCP_BACKLOG) < 0) {
		ret = -errno;
		goto out_close;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		ret = -ENOMEM;
		goto out_close;
	}
	l->fd = fd;
	l->port = bound_port(fd);
	l->socket_buffer = socket_buffer;
	*out = l;
	freeaddrinfo(res);
	return 0;
out_close:
	close(fd);
out_free:
	freeaddrinfo(res);
	return ret;
}

static int tcp_listener_fd(const struct net_listener *l)
{
	return l->fd;
}

static int tcp_listener_port(const struct net_listener *l)
{
	return l->port;
}

static int tcp_accept(struct net_listener *l, struct net_conn **out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct net_conn *c;
	int fd;

	do
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	tune_socket(fd, l->socket_buffer);
	c->fd = fd;
	net_sockaddr_format((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	*out = c;
	return 0;
}

static void tcp_listener_close(struct net_listener *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}

static int tcp_connect(const char *addr, int socket_buffer, struct net_conn **out)
{
	struct net_conn *c;
	struct addrinfo *res;
	int fd, ret;

	ret = net_lookup(addr, false, &res);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out_free;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out_conn;
	}
	tune_socket(fd, socket_buffer);
	net_sockaddr_format(res->ai_addr, c->peer, sizeof(c->peer));
	c->fd = fd;
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			close(fd);
			goto out_conn;
		}
		c->connecting = true;
	}
	*out = c;
	freeaddrinfo(res);
	return 0;
out_conn:
	free(c);
out_free:
	freeaddrinfo(res);
	return ret;
}

static int tcp_connect_done(struct net_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (!c->connecting)
		return 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	if (err)
		return -err;
	len = sizeof(ss);
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return errno == ENOTCONN ? -EAGAIN : -errno;
	c->connecting = false;
	return 0;
}

static ssize_t tcp_sendv(struct net_conn *c, const struct iovec *iov, int cnt)
{
	struct msghdr mh = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = (size_t)(cnt > IOV_MAX ? IOV_MAX : cnt),
	};
	ssize_t n;

	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t tcp_recv(struct net_conn *c, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static int tcp_fd(const struct net_conn *c)
{
	return c->fd;
}

static void tcp_peer_name(const struct net_conn *c, char *buf, size_t len)
{
	if (len == 0)
		return;
	strncpy(buf, c->peer, len - 1);
	buf[len - 1] = '\0';
}

static void tcp_close(struct net_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

const struct net_ops net_tcp_ops = {
	.name = "tcp",
	.listen = tcp_listen,
	.listener_fd = tcp_listener_fd,
	.listener_port = tcp_listener_port,
	.accept = tcp_accept,
	.listener_close = tcp_listener_close,
	.connect = tcp_connect,
	.connect_done = tcp_connect_done,
	.sendv = tcp_sendv,
	.recv = tcp_recv,
	.fd = tcp_fd,
	.peer_name = tcp_peer_name,
	.close = tcp_close,
};
