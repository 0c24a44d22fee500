/*
 * Receive hooks: recvfrom, recv, recvmsg, recvmmsg, read, readv, and the
 * _FORTIFY_SOURCE entry points (__recv_chk, __recvfrom_chk, __read_chk)
 * that a client built with fortification calls instead of recv/recvfrom/
 * read whenever its buffer size is known at compile time: libc's versions
 * call the real receive internally, past any hook on recv.
 *
 * Each builds a msghdr and hands a tracked fd to shim_io_recv, which
 * performs the real receive(s); an untracked fd costs one table load.
 */
#include "config.h"

#include "shim/hooks.h"

#include <errno.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>


#ifndef MSG_WAITFORONE
#define MSG_WAITFORONE 0x10000
#endif

/* glibc's fortify failure: prints "buffer overflow detected" and aborts. */
extern void __chk_fail(void) __attribute__((noreturn));

static ssize_t hook_recv(struct shim_fd *f, struct msghdr *m, int flags)
{
	int saved = errno;
	ssize_t r;

	shim_in_shim++;
	r = shim_io_recv(f, m, flags);
	shim_in_shim--;
	if (r >= 0)
		errno = saved;
	return r;
}

static bool hook_stale(struct shim_fd *f, ssize_t r, int saved)
{
	if (r >= 0 || errno != ENOTSOCK)
		return false;
	shim_fd_remove(f->fd);
	shim_fd_put(f);
	errno = saved;
	return true;
}

static ssize_t hook_recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *sa, socklen_t *alen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	/* An address without a length: the kernel's own EFAULT. */
	if ((sa != NULL && alen == NULL) || (f = hook_fd(fd)) == NULL)
		return shim_real.recvfrom(fd, buf, len, flags, sa, alen);
	if (sa != NULL) {
		m.msg_name = sa;
		m.msg_namelen = *alen;
	}
	r = hook_recv(f, &m, flags);
	if (r >= 0 && sa != NULL)
		*alen = m.msg_namelen;
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			     SHIM_SA_ARG addr, socklen_t *alen)
{
	return hook_recvfrom(fd, buf, len, flags, SHIM_SA(addr), alen);
}

static ssize_t hook_recv_plain(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	if ((f = hook_fd(fd)) == NULL)
		return shim_real.recv(fd, buf, len, flags);
	r = hook_recv(f, &m, flags);
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return hook_recv_plain(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	if (msg == NULL || (f = hook_fd(fd)) == NULL)
		return shim_real.recvmsg(fd, msg, flags);
	r = hook_recv(f, msg, flags);
	shim_fd_put(f);
	return r;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/*
 * recvmmsg as the kernel does it (net/socket.c do_recvmmsg): at most
 * UIO_MAXIOV messages; MSG_WAITFORONE turns on MSG_DONTWAIT after the
 * first; the timeout is only looked at after each datagram and the time
 * left is written back; an error on the first message is the call's error,
 * a later one ends the batch. Only packets the client receives count:
 * shim_io_recv never returns one the shim consumed.
 */
SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
			 int flags, struct timespec *timeout)
{
	struct timespec now;
	int64_t end = 0;
	struct shim_fd *f;
	unsigned int i;
	int saved = errno;
	const bool wait_one = (flags & MSG_WAITFORONE) != 0;

	hook_init();
	if (vec == NULL || (f = hook_fd(fd)) == NULL)
		return shim_real.recvmmsg(fd, vec, vlen, flags, timeout);
	if (timeout != NULL) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000) {
			shim_fd_put(f);
			errno = EINVAL;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		end = ts_ns(&now) + ts_ns(timeout);
	}
	if (vlen > IOV_MAX)
		vlen = IOV_MAX;
	flags &= ~MSG_WAITFORONE;
	for (i = 0; i < vlen; i++) {
		ssize_t r = hook_recv(f, &vec[i].msg_hdr, flags);
		if (r < 0)
			break;
		vec[i].msg_len = (unsigned int)r;
		if (wait_one)
			flags |= MSG_DONTWAIT;
		if (timeout != NULL) {
			int64_t left;
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = end - ts_ns(&now);
			if (left <= 0) {
				timeout->tv_sec = 0;
				timeout->tv_nsec = 0;
				i++;
				break;
			}
			timeout->tv_sec = (time_t)(left / 1000000000);
			timeout->tv_nsec = (long)(left % 1000000000);
		}
		if (vec[i].msg_hdr.msg_flags & MSG_OOB) {
			i++;
			break;
		}
	}
	shim_fd_put(f);
	if (i == 0 && vlen > 0)
		return -1;
	errno = saved;
	return (int)i;
}

static ssize_t hook_read(int fd, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;
	int saved;

	hook_init();
	/* read(2) of 0 bytes on a socket returns 0 at once and consumes
	 * nothing (sock_read_iter), unlike recv(2): leave it to libc. */
	if (len == 0 || (f = hook_fd(fd)) == NULL)
		return shim_real.read(fd, buf, len);
	saved = errno;
	r = hook_recv(f, &m, 0);
	if (hook_stale(f, r, saved))
		return shim_real.read(fd, buf, len);
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	return hook_read(fd, buf, len);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov };
	struct shim_fd *f;
	size_t total = 0;
	ssize_t r;
	int saved;

	hook_init();
	if (cnt < 0 || cnt > IOV_MAX || (f = hook_fd(fd)) == NULL)
		return shim_real.readv(fd, iov, cnt);
	for (int i = 0; i < cnt && total == 0; i++)
		total = iov[i].iov_len;
	if (total == 0) {
		shim_fd_put(f);     /* as read(2) of 0 bytes */
		return shim_real.readv(fd, iov, cnt);
	}
	m.msg_iovlen = (size_t)cnt;
	saved = errno;
	r = hook_recv(f, &m, 0);
	if (hook_stale(f, r, saved))
		return shim_real.readv(fd, iov, cnt);
	shim_fd_put(f);
	return r;
}

/* Fortified entry points: libc's check, then our hook. */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			       int flags)
{
	if (len > buflen)
		__chk_fail();
	return hook_recv_plain(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				   size_t buflen, int flags,
				   struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		__chk_fail();
	return hook_recvfrom(fd, buf, len, flags, addr, alen);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return hook_read(fd, buf, len);
}
