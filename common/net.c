/*
 * net.c - transport selection and the transport-independent address
 * helpers of net.h.  Stateless and thread-safe.
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/net_int.h"

const struct net_ops *net_select(const char *transport)
{
	bool want_rdma;

	if (!transport)
		transport = "auto";
	if (strcmp(transport, "tcp") == 0)
		return &net_tcp_ops;
	if (strcmp(transport, "auto") != 0 && strcmp(transport, "rdma") != 0)
		return NULL;
	want_rdma = strcmp(transport, "rdma") == 0;
	/*
	 * The RDMA transport proper is not implemented yet: with or without a
	 * device, TCP carries the traffic, and the log says why.
	 */
	if (!net_rdma_available())
		log_write(want_rdma ? LOG_LVL_WARN : LOG_LVL_INFO, "no RDMA device found; using TCP");
	else
		log_write(want_rdma ? LOG_LVL_WARN : LOG_LVL_INFO,
			  "RDMA device found but the RDMA transport is not implemented yet; "
			  "using TCP");
	return &net_tcp_ops;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_connect(const struct net_ops *ops, const char *addr, int timeout_ms, int socket_buffer,
		struct net_conn **out)
{
	long long deadline = now_ms() + timeout_ms;
	struct net_conn *c;
	int ret;

	ret = ops->connect(addr, socket_buffer, &c);
	if (ret)
		return ret;
	while ((ret = ops->connect_done(c)) == -EAGAIN) {
		struct pollfd p = {.fd = ops->fd(c), .events = POLLOUT};
		int wait = -1;

		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0) {
				ret = -ETIMEDOUT;
				break;
			}
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	if (ret) {
		ops->close(c);
		return ret;
	}
	*out = c;
	return 0;
}

int net_addr_parse(const char *addr, char *host, size_t host_len, int *port)
{
	const char *colon, *hs = addr;
	size_t hn;
	char *end;
	long p;

	if (!addr)
		return -EINVAL;
	colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return -EINVAL;
	hn = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hn < 3 || addr[hn - 1] != ']')
			return -EINVAL;
		hs = addr + 1;
		hn -= 2;
	} else if (memchr(addr, ':', hn) || memchr(addr, ']', hn)) {
		return -EINVAL; /* IPv6 addresses need brackets */
	}
	if (hn == 0 || hn >= host_len || memchr(hs, '[', hn) || memchr(hs, ']', hn))
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || p < 0 || p > 65535)
		return -EINVAL;
	memcpy(host, hs, hn);
	host[hn] = '\0';
	*port = (int)p;
	return 0;
}

static int gai_to_errno(int gai)
{
	switch (gai) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return -EINVAL;
	}
}

int net_lookup(const char *addr, bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	char host[NET_ADDR_MAX], port_str[8];
	int port, ret;

	ret = net_addr_parse(addr, host, sizeof(host), &port);
	if (ret)
		return ret;
	snprintf(port_str, sizeof(port_str), "%d", port);
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST | (passive ? AI_PASSIVE : 0);
	ret = getaddrinfo(host, port_str, &hints, res);
	if (ret == EAI_NONAME) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		ret = getaddrinfo(host, port_str, &hints, res);
	}
	return ret ? gai_to_errno(ret) : 0;
}

void net_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "?");
	}
}

int net_addr_resolve(const char *addr, char *out, size_t out_len)
{
	struct addrinfo *res;
	int ret;

	ret = net_lookup(addr, false, &res);
	if (ret)
		return ret;
	net_sockaddr_format(res->ai_addr, out, out_len);
	freeaddrinfo(res);
	return 0;
}
