/*
 * The libc functions the shim wraps (real.c), resolved once with
 * dlsym(RTLD_NEXT), and the thread-local re-entry guard. Every shim module
 * calls libc through these pointers only (STYLE habit 3).
 */
#ifndef SHIM_REAL_H
#define SHIM_REAL_H

#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

struct shim_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			struct timespec *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	pid_t (*fork)(void);
};

extern struct shim_real shim_real;

/* Resolve every pointer once (idempotent, thread-safe); aborts with a
 * message if dlsym(RTLD_NEXT) returns one of our own hooks. */
void shim_real_init(void);

/* The thread-local guard: true while the shim itself runs on this thread. */
extern _Thread_local int shim_in_shim;

/* Write all n bytes through the real write (EINTR retried): true if they
 * all went. For the shim's own small files (status, key log). */
bool shim_real_write_all(int fd, const void *p, size_t n);

#endif
