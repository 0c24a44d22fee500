/*
 * Hooks for the life of an fd: socket, bind, connect, accept, accept4,
 * close, close_range, dup, dup2, dup3, fcntl (and glibc 2.28's fcntl64),
 * fork.
 *
 * They keep the registry true to the kernel's fd table: a number the
 * kernel hands out again (socket, dup*) never inherits a stale entry, and
 * an fd that goes away (close, close_range, dup2 over it) is forgotten
 * before libc closes it, so a concurrent socket() that reuses the number
 * cannot lose its fresh entry.
 */
#include "config.h"

#include "shim/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <unistd.h>


#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct shim_fd *f;
	int fd, saved;

	hook_init();
	fd = shim_real.socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	saved = errno;
	if (!shim_in_shim && (domain == AF_INET || domain == AF_INET6) &&
	    ((base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) ||
	     (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)))) {
		f = shim_fd_add(fd, base == SOCK_DGRAM ? SHIM_FD_UDP :
				SHIM_FD_TCP, domain);
		if (f != NULL)
			f->nonblock_hint = (type & SOCK_NONBLOCK) != 0;
	} else {
		/* The number was closed behind our back (a libc-internal
		 * close); whatever we knew about it is stale. */
		shim_fd_remove(fd);
	}
	errno = saved;
	return fd;
}

/* The kernel's choice for port 0 (or an auto-bind) read back. */
static void hook_learn_local(struct shim_fd *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(f->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		shim_fd_set_local(f, (struct sockaddr *)&ss, len);
}

SHIM_EXPORT int bind(int fd, SHIM_CSA_ARG addr, socklen_t len)
{
	struct shim_fd *f;
	int r, saved;

	hook_init();
	r = shim_real.bind(fd, SHIM_SA(addr), len);
	if (r != 0 || (f = hook_fd(fd)) == NULL)
		return r;
	saved = errno;
	shim_in_shim++;
	/* Always the kernel's view: it has the port even for port 0. */
	hook_learn_local(f);
	if (f->kind == SHIM_FD_UDP)
		shim_io_bound(f);
	shim_in_shim--;
	shim_fd_put(f);
	errno = saved;
	return r;
}

SHIM_EXPORT int connect(int fd, SHIM_CSA_ARG addr, socklen_t len)
{
	const struct sockaddr *sa = SHIM_SA(addr);
	struct shim_fd *f;
	int r, saved;

	hook_init();
	r = shim_real.connect(fd, sa, len);
	if ((r != 0 && errno != EINPROGRESS) || (f = hook_fd(fd)) == NULL)
		return r;
	saved = errno;
	shim_in_shim++;
	shim_fd_set_peer(f, sa, len);   /* AF_UNSPEC dissolves it */
	if (f->local.ss_family == 0)
		hook_learn_local(f);
	shim_in_shim--;
	shim_fd_put(f);
	errno = saved;
	return r;
}

/* A connection accepted on a tracked TCP listener is tracked too, with
 * both ends read back from the kernel (addr may be NULL or short): SIP
 * over TCP on the server side. Anything else accepted is not ours, and
 * whatever the number meant before is forgotten, as in socket(). */
static void hook_accepted(int lfd, int fd, int flags)
{
	struct shim_fd *l = hook_fd(lfd), *f;   /* NULL inside the shim */
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (l != NULL && l->kind == SHIM_FD_TCP) {
		shim_in_shim++;
		f = shim_fd_add(fd, SHIM_FD_TCP, l->family);
		if (f != NULL) {
			f->nonblock_hint = (flags & SOCK_NONBLOCK) != 0;
			if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
				shim_fd_set_peer(f, (struct sockaddr *)&ss, len);
			hook_learn_local(f);
		}
		shim_in_shim--;
	} else {
		shim_fd_remove(fd);
	}
	if (l != NULL)
		shim_fd_put(l);
}

SHIM_EXPORT int accept(int fd, SHIM_SA_ARG addr, socklen_t *len)
{
	int r, saved;

	hook_init();
	r = shim_real.accept(fd, SHIM_SA(addr), len);
	if (r < 0)
		return r;
	saved = errno;
	hook_accepted(fd, r, 0);
	errno = saved;
	return r;
}

SHIM_EXPORT int accept4(int fd, SHIM_SA_ARG addr, socklen_t *len, int flags)
{
	int r, saved;

	hook_init();
	r = shim_real.accept4(fd, SHIM_SA(addr), len, flags);
	if (r < 0)
		return r;
	saved = errno;
	hook_accepted(fd, r, flags);
	errno = saved;
	return r;
}

SHIM_EXPORT int close(int fd)
{
	int saved = errno;
	struct shim_fd *f;

	hook_init();
	if ((f = hook_fd(fd)) != NULL) {
		shim_in_shim++;
		shim_io_closing(f);
		shim_in_shim--;
		shim_fd_put(f);
	}
	shim_fd_remove(fd);
	shim_log_fd_closed((unsigned int)fd, (unsigned int)fd);
	errno = saved;
	return shim_real.close(fd);
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int saved = errno;

	hook_init();
	if (shim_real.close_range == NULL) {
		errno = ENOSYS;     /* what glibc's syscall gives on old kernels */
		return -1;
	}
	/* Invalid arguments close nothing: let the kernel say EINVAL. */
	if (first <= last &&
	    !((unsigned int)flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	    !((unsigned int)flags & CLOSE_RANGE_CLOEXEC)) {
		shim_fd_remove_range(first, last);
		shim_log_fd_closed(first, last);
		errno = saved;
	}
	return shim_real.close_range(first, last, flags);
}

SHIM_EXPORT int dup(int oldfd)
{
	int r, saved;

	hook_init();
	r = shim_real.dup(oldfd);
	if (r >= 0) {
		saved = errno;
		shim_fd_dup(oldfd, r);
		errno = saved;
	}
	return r;
}

static void hook_dup_over(int oldfd, int newfd)
{
	int saved = errno;

	shim_fd_dup(oldfd, newfd);
	shim_log_fd_closed((unsigned int)newfd, (unsigned int)newfd);
	errno = saved;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int r;

	hook_init();
	r = shim_real.dup2(oldfd, newfd);
	if (r >= 0 && oldfd != newfd)
		hook_dup_over(oldfd, newfd);
	return r;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r;

	hook_init();
	r = shim_real.dup3(oldfd, newfd, flags);
	if (r >= 0)
		hook_dup_over(oldfd, newfd);
	return r;
}

/* fcntl's third argument by command class (fcntl(2)): none, int, or a
 * pointer (struct flock, f_owner_ex, rw hints). Unknown commands are
 * forwarded as a pointer-sized value, which is how glibc itself reads the
 * argument for every command. */
static int fcntl_arg_class(int cmd)
{
	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN:
#ifdef F_GETSIG
	case F_GETSIG:
#endif
#ifdef F_GETLEASE
	case F_GETLEASE:
#endif
#ifdef F_GETPIPE_SZ
	case F_GETPIPE_SZ:
#endif
#ifdef F_GET_SEALS
	case F_GET_SEALS:
#endif
		return 0;
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETFD: case F_SETFL:
	case F_SETOWN:
#ifdef F_SETSIG
	case F_SETSIG:
#endif
#ifdef F_SETLEASE
	case F_SETLEASE:
#endif
#ifdef F_NOTIFY
	case F_NOTIFY:
#endif
#ifdef F_SETPIPE_SZ
	case F_SETPIPE_SZ:
#endif
#ifdef F_ADD_SEALS
	case F_ADD_SEALS:
#endif
		return 1;
	default:
		return 2;
	}
}

static int hook_fcntl(int fd, int cmd, va_list ap)
{
	int r, iarg = 0, saved;
	void *parg = NULL;

	switch (fcntl_arg_class(cmd)) {
	case 0:
		r = shim_real.fcntl(fd, cmd);
		break;
	case 1:
		iarg = va_arg(ap, int);
		r = shim_real.fcntl(fd, cmd, iarg);
		break;
	default:
		parg = va_arg(ap, void *);
		r = shim_real.fcntl(fd, cmd, parg);
		break;
	}
	if (r < 0)
		return r;
	saved = errno;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		shim_fd_dup(fd, r);
	} else if (cmd == F_SETFL) {
		struct shim_fd *f = shim_fd_get(fd);
		if (f != NULL) {
			f->nonblock_hint = (iarg & O_NONBLOCK) != 0;
			shim_fd_put(f);
		}
	}
	errno = saved;
	return r;
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	hook_init();
	va_start(ap, cmd);
	r = hook_fcntl(fd, cmd, ap);
	va_end(ap);
	return r;
}

/* glibc >= 2.28 redirects fcntl to fcntl64 under _FILE_OFFSET_BITS=64.
 * On LP64 both take the same struct flock, so both go to libc's fcntl. */
_Static_assert(sizeof(long) == 8, "fcntl64 is forwarded to fcntl: LP64 only");
int fcntl64(int fd, int cmd, ...);
SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	hook_init();
	va_start(ap, cmd);
	r = hook_fcntl(fd, cmd, ap);
	va_end(ap);
	return r;
}

/* The child's cleanup (registry, streams, timer) runs from the
 * pthread_atfork handler shim_init registered, which also covers forks
 * that never come through here (daemon(3)). This hook makes sure that
 * handler exists before a client's very first fork. */
SHIM_EXPORT pid_t fork(void)
{
	hook_init();
	return shim_real.fork();
}
