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

#endif
