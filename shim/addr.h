/* Socket-address helpers for IPv4 and IPv6 (addr.c). */
#ifndef SHIM_ADDR_H
#define SHIM_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The port (host order), or 0 for another family. */
uint16_t shim_addr_port(const struct sockaddr_storage *ss);
void shim_addr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* sizeof the family's sockaddr, or 0 for another family. */
socklen_t shim_addr_len(const struct sockaddr_storage *ss);
/* A peer address we can send to: not the unspecified address, not port 0. */
bool shim_addr_usable(const struct sockaddr_storage *ss);
/* Copy an AF_INET / AF_INET6 address of at least its family's size into
 * dst (zeroed first): true, or false (dst untouched) for anything else. */
bool shim_addr_copy(struct sockaddr_storage *dst, const struct sockaddr *src,
		    socklen_t len);
/* The same host (IP address, ports ignored): IPv4 also matches its
 * v4-mapped IPv6 form. False for anything that is not AF_INET(6). */
bool shim_addr_same_host(const struct sockaddr_storage *a,
			 const struct sockaddr *b, socklen_t blen);

#endif
