/*
 * Send hooks: sendto, send, sendmsg, sendmmsg, write, writev. Each builds
 * a msghdr and hands a tracked fd to shim_io_send; anything else costs one
 * table load on its way to libc (write on files and pipes included).
 */
#include "config.h"

#include "shim/hooks.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>


/* io.c under the guard, errno as libc would leave it: the real call's on
 * failure, the caller's own on success. */
static ssize_t hook_send(struct shim_fd *f, const struct msghdr *m, int flags)
{
	int saved = errno;
	ssize_t r;

	shim_in_shim++;
	r = shim_io_send(f, m, flags);
	shim_in_shim--;
	if (r >= 0)
		errno = saved;
	return r;
}

/* write/writev on a number we track that is no socket any more (closed
 * behind our back by a libc-internal close, then reused for a file): the
 * entry is stale; forget it and let libc write. */
static bool hook_stale(struct shim_fd *f, ssize_t r, int saved)
{
	if (r >= 0 || errno != ENOTSOCK)
		return false;
	shim_fd_remove(f->fd);
	shim_fd_put(f);
	errno = saved;
	return true;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   SHIM_CSA_ARG addr, socklen_t alen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	if (hook_plain_udp(fd, buf, len) || (f = hook_fd(fd)) == NULL)
		return shim_real.sendto(fd, buf, len, flags, SHIM_SA(addr), alen);
	if (SHIM_SA(addr) != NULL) {
		m.msg_name = (void *)SHIM_SA(addr);
		m.msg_namelen = alen;
	}
	r = hook_send(f, &m, flags);
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	if (hook_plain_udp(fd, buf, len) || (f = hook_fd(fd)) == NULL)
		return shim_real.send(fd, buf, len, flags);
	r = hook_send(f, &m, flags);
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct shim_fd *f;
	ssize_t r;

	hook_init();
	if (msg == NULL ||
	    (msg->msg_iovlen >= 1 && msg->msg_iov != NULL &&
	     hook_plain_udp(fd, msg->msg_iov[0].iov_base,
			    msg->msg_iov[0].iov_len)) ||
	    (f = hook_fd(fd)) == NULL)
		return shim_real.sendmsg(fd, msg, flags);
	r = hook_send(f, msg, flags);
	shim_fd_put(f);
	return r;
}

/* The kernel's rules: at most UIO_MAXIOV messages; an error on the first
 * message is the call's error, a later one ends the batch and the count
 * so far is returned. */
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
			 int flags)
{
	struct shim_fd *f;
	unsigned int i;
	int saved = errno;

	hook_init();
	if (vec == NULL || (f = hook_fd(fd)) == NULL)
		return shim_real.sendmmsg(fd, vec, vlen, flags);
	if (vlen > IOV_MAX)
		vlen = IOV_MAX;
	for (i = 0; i < vlen; i++) {
		ssize_t r = hook_send(f, &vec[i].msg_hdr, flags);
		if (r < 0)
			break;
		vec[i].msg_len = (unsigned int)r;
	}
	shim_fd_put(f);
	if (i == 0 && vlen > 0)
		return -1;
	errno = saved;
	return (int)i;
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct shim_fd *f;
	ssize_t r;
	int saved;

	hook_init();
	if (hook_plain_udp(fd, buf, len) || (f = hook_fd(fd)) == NULL)
		return shim_real.write(fd, buf, len);
	saved = errno;
	r = hook_send(f, &m, 0);
	if (hook_stale(f, r, saved))
		return shim_real.write(fd, buf, len);
	shim_fd_put(f);
	return r;
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov };
	struct shim_fd *f;
	ssize_t r;
	int saved;

	hook_init();
	/* writev's own EINVAL for a bad count, not sendmsg's EMSGSIZE. */
	if (cnt < 0 || cnt > IOV_MAX || (f = hook_fd(fd)) == NULL)
		return shim_real.writev(fd, iov, cnt);
	m.msg_iovlen = (size_t)cnt;
	saved = errno;
	r = hook_send(f, &m, 0);
	if (hook_stale(f, r, saved))
		return shim_real.writev(fd, iov, cnt);
	shim_fd_put(f);
	return r;
}
