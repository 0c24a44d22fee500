/*
 * Readiness hooks: select, pselect, poll, ppoll, and the _FORTIFY_SOURCE
 * entry points __poll_chk and __ppoll_chk (libc's versions call the real
 * poll internally, past any hook on poll).
 *
 * The kernel's promise: a UDP socket reported readable has a datagram
 * queued, so the receive that follows returns at once, blocking socket or
 * not. ccRTP (Twinkle) builds on it: select with a timeout up to its next
 * send, then FIONREAD, a 1-byte MSG_PEEK recvfrom for the sender, and a
 * recvfrom, on a blocking socket, all on the one thread that also sends.
 * On a media fd the shim consumes some datagrams (ZRTP, SRTP failing
 * authentication, cleartext while negotiating). Were one of those the only
 * datagram queued, the receive would wait for the next packet: with the
 * peer doing the same (Twinkle and Twinkle) neither ever sends RTP, and a
 * thread stuck there cannot be joined when the call ends.
 *
 * So before a media fd is reported readable, what the shim would consume
 * at the head of its queue is taken off and processed (shim_io_ready, never
 * blocking); an fd left with nothing for the client is not reported, and
 * when nothing is left to report the wait goes on for what remains of the
 * timeout. Sets with no media fd cost one table load per fd on top of the
 * real call. epoll is not covered: its events name the client's data, not
 * the fd; the clients seen using it (baresip) read non-blocking and take
 * the EAGAIN the receive gives after the shim consumed everything.
 *
 * What a wait does tell: the client reads that fd. An fd it adds to an
 * epoll set for EPOLLIN, or polls or selects for reading, is marked
 * client_reads (registry.h) before its first receive, so the timer
 * thread's reader (media_reader.c), which takes what waits on an fd the
 * client never reads (sipp's rtp_stream), leaves it alone even when the
 * client is slow to get to it (an event loop busy with 1,000 calls let
 * the reader drop the first 300 ms of new calls' RTP).
 */
#include "config.h"

#include "shim/hooks.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

/* glibc's fortify failure: prints "buffer overflow detected" and aborts. */
extern void __chk_fail(void) __attribute__((noreturn));
int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		const sigset_t *mask, size_t fdslen);

/* The client waits for fd to be readable: it reads it. */
static void note_client_reads(int fd)
{
	struct shim_fd *f = shim_fd_peek(fd);

	if (f != NULL &&
	    __atomic_load_n(&f->kind, __ATOMIC_RELAXED) == SHIM_FD_UDP &&
	    !atomic_load_explicit(&f->client_reads, memory_order_relaxed))
		atomic_store_explicit(&f->client_reads, true,
				      memory_order_release);
}

static bool fd_has_media(int fd)
{
	struct shim_fd *f = shim_fd_peek(fd);

	return f != NULL &&
	       __atomic_load_n(&f->kind, __ATOMIC_RELAXED) == SHIM_FD_UDP &&
	       atomic_load_explicit(&f->media, memory_order_acquire) != NULL;
}

/* Whether a media fd the kernel reported readable still has a datagram
 * the client will get, once the shim took what it consumes. */
static bool fd_ready(int fd)
{
	struct shim_fd *f = hook_fd(fd);
	bool r;

	if (f == NULL)
		return true;
	shim_in_shim++;
	r = shim_io_ready(f);
	shim_in_shim--;
	shim_fd_put(f);
	return r;
}

/* ------------------------------------------------------------------ */
/* time left of a timeout                                              */

static struct timespec ts_add(struct timespec a, const struct timespec *b)
{
	a.tv_sec += b->tv_sec;
	a.tv_nsec += b->tv_nsec;
	if (a.tv_nsec >= 1000000000L) {
		a.tv_sec++;
		a.tv_nsec -= 1000000000L;
	}
	return a;
}

/* What is left until end, never negative. */
static struct timespec ts_left(const struct timespec *end)
{
	struct timespec now, d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d.tv_sec = end->tv_sec - now.tv_sec;
	d.tv_nsec = end->tv_nsec - now.tv_nsec;
	if (d.tv_nsec < 0) {
		d.tv_sec--;
		d.tv_nsec += 1000000000L;
	}
	if (d.tv_sec < 0)
		d.tv_sec = d.tv_nsec = 0;
	return d;
}

static bool ts_valid(const struct timespec *t)
{
	return t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

static bool ts_zero(const struct timespec *t)
{
	return t->tv_sec == 0 && t->tv_nsec == 0;
}

/* ------------------------------------------------------------------ */
/* poll, ppoll                                                         */

/* r fds have events; drop POLLIN from the media fds with nothing left
 * for the client. Returns how many still have events. */
static int poll_filter(struct pollfd *fds, nfds_t n, int r)
{
	for (nfds_t i = 0; i < n; i++) {
		if (!(fds[i].revents & (POLLIN | POLLRDNORM)) ||
		    !fd_has_media(fds[i].fd) || fd_ready(fds[i].fd))
			continue;
		fds[i].revents &= (short)~(POLLIN | POLLRDNORM);
		if (fds[i].revents == 0)
			r--;
	}
	return r;
}

/* tmo NULL: wait for ever (ppoll's convention). */
static int hook_ppoll(struct pollfd *fds, nfds_t n,
		      const struct timespec *tmo, const sigset_t *mask)
{
	struct timespec end, left;
	bool media = false;
	int r;

	hook_init();
	if (shim_in_shim)
		return shim_real.ppoll(fds, n, tmo, mask);
	for (nfds_t i = 0; i < n; i++)
		if ((fds[i].events & (POLLIN | POLLRDNORM)) &&
		    fd_has_media(fds[i].fd)) {
			note_client_reads(fds[i].fd);
			media = true;
		}
	if (!media)
		return shim_real.ppoll(fds, n, tmo, mask);
	if (tmo != NULL) {
		if (!ts_valid(tmo))
			return shim_real.ppoll(fds, n, tmo, mask);  /* EINVAL */
		clock_gettime(CLOCK_MONOTONIC, &end);
		end = ts_add(end, tmo);
		left = *tmo;
	}
	for (;;) {
		r = shim_real.ppoll(fds, n, tmo != NULL ? &left : NULL, mask);
		if (r <= 0)
			return r;
		int saved = errno;
		r = poll_filter(fds, n, r);
		errno = saved;
		if (r > 0)
			return r;
		if (tmo != NULL) {
			if (ts_zero(&left))
				return 0;
			left = ts_left(&end);
		}
	}
}

static int hook_poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec t = { .tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L };

	return hook_ppoll(fds, n, ms < 0 ? NULL : &t, NULL);
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	return hook_poll(fds, n, ms);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n,
		      const struct timespec *tmo, const sigset_t *mask)
{
	return hook_ppoll(fds, n, tmo, mask);
}

SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int ms,
			   size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return hook_poll(fds, n, ms);
}

SHIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
			    const struct timespec *tmo, const sigset_t *mask,
			    size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return hook_ppoll(fds, n, tmo, mask);
}

/* ------------------------------------------------------------------ */
/* select, pselect                                                     */

/* r bits are set over the three sets; clear the media fds with nothing
 * left for the client from rd. Returns how many bits are still set. */
static int select_filter(int nfds, fd_set *rd, int r)
{
	for (int fd = 0; fd < nfds; fd++)
		if (FD_ISSET(fd, rd) && fd_has_media(fd) && !fd_ready(fd)) {
			FD_CLR(fd, rd);
			r--;
		}
	return r;
}

static bool select_has_media(int nfds, const fd_set *rd)
{
	if (shim_in_shim || rd == NULL || nfds <= 0 || nfds > FD_SETSIZE)
		return false;
	bool media = false;
	for (int fd = 0; fd < nfds; fd++)
		if (FD_ISSET(fd, rd) && fd_has_media(fd)) {
			note_client_reads(fd);
			media = true;
		}
	return media;
}

/*
 * A select over at least one media fd (select_has_media). tmo NULL: for
 * ever; tmo is valid. left, if not NULL, gets the time not waited (what
 * Linux's select writes back into its timeout). The sets are fd_set sized:
 * a larger nfds (a client's own bigger bitmaps) never comes here.
 */
static int select_media(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
			const struct timespec *tmo, const sigset_t *mask,
			struct timespec *left)
{
	fd_set rd0 = *rd, wr0, ex0;
	struct timespec end, l;
	int r, saved;

	if (wr != NULL)
		wr0 = *wr;
	if (ex != NULL)
		ex0 = *ex;
	if (tmo != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end = ts_add(end, tmo);
		l = *tmo;
	}
	for (;;) {
		r = shim_real.pselect(nfds, rd, wr, ex, tmo != NULL ? &l : NULL,
				      mask);
		saved = errno;
		if (r > 0)
			r = select_filter(nfds, rd, r);
		if (tmo != NULL)
			l = ts_left(&end);
		errno = saved;
		if (r != 0 || (tmo != NULL && ts_zero(&l)))
			break;
		/* Only what the shim consumed was ready: wait again. */
		*rd = rd0;
		if (wr != NULL)
			*wr = wr0;
		if (ex != NULL)
			*ex = ex0;
	}
	if (left != NULL && tmo != NULL)
		*left = l;
	return r;
}

SHIM_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
			const struct timespec *tmo, const sigset_t *mask)
{
	hook_init();
	if ((tmo != NULL && !ts_valid(tmo)) || !select_has_media(nfds, rd))
		return shim_real.pselect(nfds, rd, wr, ex, tmo, mask);
	return select_media(nfds, rd, wr, ex, tmo, mask, NULL);
}

SHIM_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		       struct timeval *tv)
{
	struct timespec t, left;
	int r;

	hook_init();
	if ((tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0)) ||
	    !select_has_media(nfds, rd))
		return shim_real.select(nfds, rd, wr, ex, tv);
	if (tv == NULL)
		return select_media(nfds, rd, wr, ex, NULL, NULL, NULL);
	/* select normalises tv_usec >= 1000000 itself; so do we. */
	t.tv_sec = tv->tv_sec + tv->tv_usec / 1000000;
	t.tv_nsec = (long)(tv->tv_usec % 1000000) * 1000L;
	r = select_media(nfds, rd, wr, ex, &t, NULL, &left);
	/* Linux writes back the time not slept (select(2) NOTES). */
	tv->tv_sec = left.tv_sec;
	tv->tv_usec = left.tv_nsec / 1000;
	return r;
}

/* ------------------------------------------------------------------ */
/* epoll_ctl                                                           */

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	hook_init();
	if (!shim_in_shim && ev != NULL &&
	    (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) &&
	    (ev->events & EPOLLIN))
		note_client_reads(fd);
	return shim_real.epoll_ctl(epfd, op, fd, ev);
}
