/*
 * What the three hooks_*.c files share: the export attribute and glibc's
 * socket-address argument types. Each exported hook is a thin wrapper in
 * the torsocks shape: initialise, ask the registry, forward to libc for an
 * untracked fd (one table load), or call io.c under the re-entry guard.
 */
#ifndef SHIM_HOOKS_H
#define SHIM_HOOKS_H

/* Fortified inline wrappers (read, recv, recvfrom) would clash with our
 * definitions of the same names; the hooks are built without them. */
#undef _FORTIFY_SOURCE

#include <sys/socket.h>

#include "common/demux.h"
#include "shim/init.h"
#include "shim/io.h"
#include "shim/log.h"
#include "shim/real.h"
#include "shim/registry.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* glibc declares the sockaddr arguments of bind, connect, sendto and
 * recvfrom as transparent unions under _GNU_SOURCE; our definitions must
 * use the same types. */
#if defined(__GLIBC__) && defined(__USE_GNU) && !defined(__cplusplus)
#define SHIM_SA_ARG __SOCKADDR_ARG
#define SHIM_CSA_ARG __CONST_SOCKADDR_ARG
#define SHIM_SA(a) ((a).__sockaddr__)
#else
#define SHIM_SA_ARG struct sockaddr *
#define SHIM_CSA_ARG const struct sockaddr *
#define SHIM_SA(a) (a)
#endif

/* shim_init's fast path, inline: one acquire load once initialised. */
static inline void hook_init(void)
{
	if (__builtin_expect(atomic_load_explicit(&shim_init_state,
						  memory_order_acquire) !=
			     SHIM_INIT_DONE, 0))
		shim_init();
}

/* The entry a hook must handle, or NULL: an untracked fd costs one table
 * load and never touches the thread-local guard (the hot path: write on
 * files and pipes); a tracked fd used from inside the shim goes to libc. */
static inline struct shim_fd *hook_fd(int fd)
{
	struct shim_fd *f = shim_fd_get(fd);

	if (__builtin_expect(f != NULL, 0) && shim_in_shim) {
		shim_fd_put(f);
		return NULL;
	}
	return f;
}

/*
 * A send the shim has nothing to do with, decided without a reference or
 * the guard (the hot path of an unrelated UDP socket): a UDP socket whose
 * local address io.c has already learned, carrying a datagram whose first
 * byte cannot begin ZRTP, RTP, RTCP or SIP (common/demux.h's
 * demux_byte0_passes). io.c would hand exactly such a send to libc
 * unchanged, media fd or not (STUN, DTLS and other packets pass there).
 */
static inline bool hook_plain_udp(int fd, const void *buf, size_t len)
{
	const struct shim_fd *f;

	if (len == 0 || buf == NULL ||
	    !demux_byte0_passes(*(const uint8_t *)buf))
		return false;
	f = shim_fd_peek(fd);
	return f != NULL &&
	       __atomic_load_n(&f->kind, __ATOMIC_RELAXED) == SHIM_FD_UDP &&
	       __atomic_load_n(&f->local.ss_family, __ATOMIC_RELAXED) != 0;
}

#endif
