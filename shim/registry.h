/*
 * The fd registry (registry.c): what the shim knows about each tracked
 * socket. The locking note is at the top of registry.c.
 *
 * The registry depends on nothing above it: what must happen when an
 * entry dies or an fd is duplicated (the media layer detaching or
 * attaching a stream) it is told through the callbacks given to
 * shim_registry_init.
 */
#ifndef SHIM_REGISTRY_H
#define SHIM_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum shim_fd_kind { SHIM_FD_UDP, SHIM_FD_TCP };

struct shim_media;   /* media.h: the stream an fd carries */
struct shim_stream;  /* stream.h: the SIP byte stream of a TCP fd */

struct shim_fd {
	atomic_int refs;           /* registry's reference + callers' */
	int fd;
	enum shim_fd_kind kind;
	int family;                /* AF_INET or AF_INET6 */
	bool nonblock_hint;        /* from socket()/fcntl: O_NONBLOCK seen */
	atomic_bool client_reads;  /* the client has called recv on it, or
				    * waits for it to be readable (epoll_ctl
				    * EPOLLIN, poll, select: hooks_poll.c) */
	struct sockaddr_storage local;  /* from bind(); zero if unbound */
	struct sockaddr_storage peer;   /* from connect(); zero if none */
	_Atomic(struct shim_media *) media;  /* set once media is learned */
	_Atomic(struct shim_stream *) stream; /* TCP carrying SIP (io.c) */
	/* io.c's sniffing state: UDP, whether RTP adoption was tried; TCP,
	 * what the first bytes said. */
	uint8_t sniff_count;
	uint8_t held_logged;       /* io.c: logged one early RTP/RTCP hold */
	/* io.c: the shim held an RTP/RTCP send on this fd before any stream
	 * owned it. Sticky: its RTP/RTCP stays held until media is attached
	 * (an offer/answer names it, or it is adopted) or the fd is closed;
	 * the end of the call that caused the hold never clears it. A dup
	 * inherits it. */
	atomic_bool held;
};

/* What the registry tells the layer above it. */
struct shim_registry_ops {
	/* The last reference to an entry went away: let go of its media and
	 * stream, if any. */
	void (*released)(struct shim_fd *f);
	/* A dup/dup2/dup3/F_DUPFD made f a copy of a bound UDP fd: f may
	 * carry the same media (called with a reference on f). */
	void (*duplicated)(struct shim_fd *f);
};

/* The table, sized from RLIMIT_NOFILE; called once by shim_init before
 * any hook can track an fd. ops is kept (static storage). */
void shim_registry_init(const struct shim_registry_ops *ops);

/* The hot path: the entry for fd with a reference taken, or NULL for an
 * fd the shim does not track. Release with shim_fd_put. */
struct shim_fd *shim_fd_get(int fd);
void shim_fd_put(struct shim_fd *f);
/* The entry without a reference: only for reading fields with atomics
 * (hooks.h, hook_plain_udp). */
struct shim_fd *shim_fd_peek(int fd);

/* Track a new socket (from socket(), accept, dup of a tracked fd). */
struct shim_fd *shim_fd_add(int fd, enum shim_fd_kind kind, int family);
/* Forget fd (close, dup2 over it, close_range): the entry dies with its
 * last reference (ops->released then runs). */
void shim_fd_remove(int fd);
/* close_range: forget every tracked fd in [lo, hi]. */
void shim_fd_remove_range(unsigned int lo, unsigned int hi);
/* dup/dup2/dup3/F_DUPFD: newfd shares what oldfd is. */
void shim_fd_dup(int oldfd, int newfd);

/* The tracked UDP fd bound to a local port (reference taken), or NULL. */
struct shim_fd *shim_fd_find_port(uint16_t port);

/* Record a tracked fd's local (bind, or the kernel's choice read back
 * with getsockname) or peer (connect; AF_UNSPEC or NULL clears it)
 * address, under the registry mutex. */
void shim_fd_set_local(struct shim_fd *f, const struct sockaddr *sa,
		       socklen_t len);
void shim_fd_set_peer(struct shim_fd *f, const struct sockaddr *sa,
		      socklen_t len);

/* fork: the registry mutex is held across fork so the child never
 * inherits it locked halfway through an insert. */
void shim_registry_atfork_prepare(void);
void shim_registry_atfork_parent(void);
void shim_registry_atfork_child(void);

#endif
