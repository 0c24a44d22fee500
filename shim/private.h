/*
 * Declarations shared only by the interposition layer's own files (real.c,
 * init.c, log.c, registry.c, io.c, hooks_*.c). Nothing here is part of the
 * contract in shim.h: media.c, sipglue.c and timer.c never need it.
 */
#ifndef SHIM_PRIVATE_H
#define SHIM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "shim/shim.h"

/* registry.c: the table, sized from RLIMIT_NOFILE; called once by
 * shim_init before any hook can track an fd. */
void shim_registry_init(void);
/* fork: the registry mutex is held across fork so the child never
 * inherits it locked halfway through an insert. */
void shim_registry_atfork_prepare(void);
void shim_registry_atfork_parent(void);
/* close_range: forget every tracked fd in [lo, hi]. */
void shim_fd_remove_range(unsigned int lo, unsigned int hi);

/* Record a tracked fd's local (bind, or the kernel's choice read back
 * with getsockname) or peer (connect; AF_UNSPEC or NULL clears it)
 * address, under the registry mutex. */
void shim_fd_set_local(struct shim_fd *f, const struct sockaddr *sa,
		       socklen_t len);
void shim_fd_set_peer(struct shim_fd *f, const struct sockaddr *sa,
		      socklen_t len);

/* log.c: the client closed (or dup2'd over) fds in [lo, hi]; if the log
 * file's fd is among them, forget it so no line is ever written into
 * whatever file or socket reuses the number. Reopened on the next line. */
void shim_log_fd_closed(unsigned int lo, unsigned int hi);

/* init.c: 2 once shim_init has finished on some thread; hooks.h's
 * hook_init reads it inline so a hook after start-up makes no call. */
#include <stdatomic.h>
extern atomic_int shim_init_state;
#define SHIM_INIT_DONE 2

#endif
