/*
 * net.h - the transport interface under the RPC layer.
 *
 * A transport is a table of functions (struct net_ops) over two opaque
 * handles: a listener and a connection.  The model is a non-blocking,
 * byte-stream socket with a pollable file descriptor, so the RPC event loop
 * drives every transport the same way; TCP implements it with sockets, RDMA
 * will implement it with verbs behind an event channel.
 *
 * Handles are owned by whoever created them and are closed with the same
 * table; a connection is used by one thread at a time for receiving and one
 * for sending (the RPC layer serializes senders), and a handle is never
 * passed to another transport's table.
 *
 * Addresses are strings "host:port" or "[v6addr]:port".  Host names are
 * resolved with the system resolver, which may block: long-lived users
 * resolve once with net_addr_resolve() and keep the numeric form.
 */
#ifndef CAIRN_COMMON_NET_H
#define CAIRN_COMMON_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Room for any numeric address string: "[v6addr%scope]:port" and a NUL. */
#define NET_ADDR_MAX 80

struct net_listener;
struct net_conn;

struct net_ops {
	const char *name; /* "tcp", "rdma" */

	/*
	 * Binds and listens on addr; port 0 picks a free port (see
	 * listener_port).  socket_buffer > 0 sets the send and receive buffer
	 * size of accepted connections (0 keeps the system's auto-tuning).
	 * Returns 0, -EINVAL (bad address), -ENOENT (unknown host),
	 * -EADDRINUSE, or another -errno.
	 */
	int (*listen)(const char *addr, int socket_buffer, struct net_listener **out);
	/* Readable when accept may succeed. */
	int (*listener_fd)(const struct net_listener *l);
	/* The bound port (useful after listening on port 0). */
	int (*listener_port)(const struct net_listener *l);
	/*
	 * Accepts one connection, non-blocking.  Returns 0, -EAGAIN when none
	 * is pending, -EMFILE/-ENFILE/-ENOBUFS/-ENOMEM when out of resources
	 * (retry later), or another -errno for that one connection.
	 */
	int (*accept)(struct net_listener *l, struct net_conn **out);
	void (*listener_close)(struct net_listener *l);

	/*
	 * Starts connecting to addr without blocking (except for resolving a
	 * host name).  The connection's fd becomes writable once connect_done
	 * can tell the outcome.  Returns 0, -EINVAL, -ENOENT, or -errno
	 * (-ECONNREFUSED may come at once for a local address).
	 */
	int (*connect)(const char *addr, int socket_buffer, struct net_conn **out);
	/* 0 when established, -EAGAIN while in progress, else the failure. */
	int (*connect_done)(struct net_conn *c);

	/*
	 * Sends from up to cnt pieces, gathering them in one call.  Returns
	 * the number of bytes taken (possibly fewer than offered), -EAGAIN if
	 * none could be, or -errno (-EPIPE, -ECONNRESET, ...).
	 */
	ssize_t (*sendv)(struct net_conn *c, const struct iovec *iov, int cnt);
	/* Returns bytes read, 0 at end of stream, -EAGAIN, or -errno. */
	ssize_t (*recv)(struct net_conn *c, void *buf, size_t len);
	/* Pollable: readable when recv may make progress, writable for sendv. */
	int (*fd)(const struct net_conn *c);
	/* Copies the peer's numeric address ("1.2.3.4:5678") into buf. */
	void (*peer_name)(const struct net_conn *c, char *buf, size_t len);
	void (*close)(struct net_conn *c);
};

extern const struct net_ops net_tcp_ops;

/*
 * Picks a transport by name: "tcp", "rdma" or "auto" (NULL means "auto").
 * "auto" and "rdma" pick RDMA only when a device exists and the RDMA
 * transport is built; otherwise they return TCP and log one line saying
 * why.  Returns NULL for an unknown name.
 */
const struct net_ops *net_select(const char *transport);

/* True if an RDMA device is present (always false when RDMA is not built). */
bool net_rdma_available(void);

/*
 * Blocking connect with a timeout, for tools and tests: ops->connect, then
 * waits up to timeout_ms (< 0: forever) for the outcome.  Returns 0,
 * -ETIMEDOUT, or what ops->connect / ops->connect_done return.
 */
int net_connect(const struct net_ops *ops, const char *addr, int timeout_ms, int socket_buffer,
		struct net_conn **out);

/*
 * Splits "host:port" / "[v6]:port" into host (without brackets) and port.
 * Returns 0 or -EINVAL (missing or bad port, unbalanced brackets, bare IPv6
 * address, host too long for host_len).
 */
int net_addr_parse(const char *addr, char *host, size_t host_len, int *port);

/*
 * Resolves addr to its first numeric form, e.g. "localhost:7000" ->
 * "127.0.0.1:7000".  Returns 0, -EINVAL, -ENOENT (unknown host), -EAGAIN
 * (resolver temporarily failed) or -ENOMEM.
 */
int net_addr_resolve(const char *addr, char *out, size_t out_len);

#endif
