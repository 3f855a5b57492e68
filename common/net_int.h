/*
 * net_int.h - helpers shared by net.c and the transports; not for users of
 * net.h.  All are stateless and thread-safe.
 */
#ifndef CAIRN_COMMON_NET_INT_H
#define CAIRN_COMMON_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

/*
 * getaddrinfo() for an address string, numeric first, then through the
 * resolver.  passive: for bind().  Returns 0 and *res (freeaddrinfo), or
 * -EINVAL, -ENOENT, -EAGAIN, -ENOMEM.
 */
int net_lookup(const char *addr, bool passive, struct addrinfo **res);

/* Formats "1.2.3.4:5678" or "[::1]:5678". */
void net_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
