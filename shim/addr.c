/* Socket-address helpers (addr.h). */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "shim/addr.h"

uint16_t shim_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

void shim_addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

socklen_t shim_addr_len(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (ss->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

bool shim_addr_usable(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (shim_addr_port(ss) == 0)
		return false;
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr !=
		       htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr,
			      &any6, sizeof any6) != 0;
	return false;
}

bool shim_addr_copy(struct sockaddr_storage *dst, const struct sockaddr *src,
		    socklen_t len)
{
	if (!src || len < sizeof(sa_family_t))
		return false;
	if (src->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memset(dst, 0, sizeof *dst);
		memcpy(dst, src, sizeof(struct sockaddr_in));
		return true;
	}
	if (src->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		memset(dst, 0, sizeof *dst);
		memcpy(dst, src, sizeof(struct sockaddr_in6));
		return true;
	}
	return false;
}

/* The IPv4 address of ss (AF_INET, or v4-mapped AF_INET6) into *v4. */
static bool addr_v4(const struct sockaddr_storage *ss, struct in_addr *v4)
{
	if (ss->ss_family == AF_INET) {
		*v4 = ((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(v4, &a->s6_addr[12], 4);
			return true;
		}
	}
	return false;
}

bool shim_addr_same_host(const struct sockaddr_storage *a,
			 const struct sockaddr *b, socklen_t blen)
{
	struct sockaddr_storage bs;
	struct in_addr x, y;

	if (!shim_addr_copy(&bs, b, blen))
		return false;
	if (addr_v4(a, &x) && addr_v4(&bs, &y))
		return x.s_addr == y.s_addr;
	return a->ss_family == AF_INET6 && bs.ss_family == AF_INET6 &&
	       memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)&bs)->sin6_addr, 16) == 0;
}
