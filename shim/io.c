/*
 * The send and receive paths of tracked fds (io.h).
 *
 * What the client must never notice (DESIGN "Rules that hold everywhere"):
 * same return values, same errno, same blocking behaviour as the libc call.
 * Hence the shape of both paths:
 *
 * send, UDP   a SIP-looking datagram goes to sipglue for a rewrite (sent
 *             instead of the original; the client is told its own length);
 *             on an fd with media, the media layer decides PASS / DROP
 *             (the client is told everything was sent) / REPLACE (SRTP
 *             sent in its place); an fd without media whose send is RTP
 *             or RTCP (common/demux.h) to a possible media port is adopted
 *             as media first, and one the shim once held stays held
 *             (untracked_media_send). Anything else: the client's msghdr
 *             goes to the real sendmsg untouched, control data included.
 * send, TCP   every write of a SIP connection goes through its stream
 *             (stream.h): messages split across writes, several in one,
 *             and rewrites that change the length leave as one consistent
 *             byte stream; the start of a message not complete yet is
 *             held (the client is told it went) and goes with the rest,
 *             or as it is at close. A TCP connection whose first bytes
 *             either way are not SIP (nor CRLF keep-alives) is forgotten:
 *             from then on it costs one table load.
 * recv, UDP   without media: straight into the client's buffers (exact
 *             libc semantics for free); a SIP-looking datagram is shown to
 *             sipglue afterwards (read-only). With media: into this
 *             thread's buffer, so a packet the shim consumes never touches
 *             the client's memory, then copied out with the kernel's
 *             MSG_TRUNC / msg_flags / msg_namelen rules.
 * recv, TCP   straight into the client's buffers; what the client consumes
 *             is framed by the same stream and each complete message is
 *             shown to sipglue, however the reads split it.
 *
 * Receive loop: a packet the shim consumes (ZRTP, SRTP failing auth, ...)
 * makes the real receive run again: a blocking socket keeps waiting, a
 * non-blocking one (or MSG_DONTWAIT) gets the kernel's own EAGAIN when
 * nothing else is queued, and SO_RCVTIMEO counts from the client's call,
 * not from each real receive: before receiving again after a consumed
 * packet, a blocking socket with a timeout waits (poll) only for what is
 * left of it, and gets EAGAIN when nothing came in time, as the kernel
 * would have said.
 * MSG_PEEK never consumes a packet the client would get: the head packet
 * is peeked; if the shim would consume it, it is received for real (the
 * same flags minus PEEK, plus DONTWAIT) and processed, and we peek again.
 *
 * Buffers: per thread, mapped once on the first packet that needs one and
 * unmapped when the thread exits; no allocation per packet (STYLE 5).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "common/demux.h"
#include "shim/addr.h"
#include "shim/io.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/sipglue.h"
#include "shim/stream.h"

/* Largest UDP payload (IPv6 without jumbograms: 65535 - 8) fits. */
#define IO_RX_CAP 65536
/* A rewritten SIP message: the original plus a=zrtp-hash lines. */
#define IO_OUT_CAP (65536 + 8192)
/* How much of a packet the cheap tests look at. */
#define IO_PREFIX 64

/* TCP connections: what the first bytes said (kept in sniff_count, which
 * io.c owns; UDP uses it for the adoption bits, SNIFF_RTP and SNIFF_RTCP). */
enum { TCP_UNDECIDED = 0, TCP_SIP = 1 };

struct io_bufs {
	uint8_t rx[IO_RX_CAP];      /* receive (media fds), flattened sends */
	uint8_t out[IO_OUT_CAP];    /* SIP rewrites */
};

static _Thread_local struct io_bufs *io_tls;
static pthread_key_t io_key;
static pthread_once_t io_key_once = PTHREAD_ONCE_INIT;
static bool io_key_ok;

static void io_bufs_free(void *p)
{
	if (p != NULL)
		munmap(p, sizeof(struct io_bufs));
}

static void io_key_make(void)
{
	io_key_ok = pthread_key_create(&io_key, io_bufs_free) == 0;
}

static struct io_bufs *io_bufs(void)
{
	void *p;

	if (io_tls != NULL)
		return io_tls;
	pthread_once(&io_key_once, io_key_make);
	p = mmap(NULL, sizeof(struct io_bufs), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (io_key_ok)
		(void)pthread_setspecific(io_key, p);
	io_tls = p;
	return p;
}

/* Total iovec length, or SIZE_MAX if the kernel would refuse the vector
 * (too many entries, or a sum beyond SSIZE_MAX): those go to libc as they
 * are, so the error is the kernel's own. */
static size_t iov_total(const struct msghdr *msg)
{
	size_t t = 0;

	if (msg->msg_iovlen > IOV_MAX || (msg->msg_iovlen > 0 &&
					  msg->msg_iov == NULL))
		return SIZE_MAX;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		if (msg->msg_iov[i].iov_len > (size_t)SSIZE_MAX - t)
			return SIZE_MAX;
		t += msg->msg_iov[i].iov_len;
	}
	return t;
}

/* Copy up to cap bytes of the vector into dst; returns bytes copied. */
static size_t iov_gather(const struct iovec *iov, size_t iovlen, size_t len,
			 uint8_t *dst, size_t cap)
{
	size_t n = 0;

	if (len > cap)
		len = cap;
	for (size_t i = 0; i < iovlen && n < len; i++) {
		size_t l = iov[i].iov_len;
		if (l > len - n)
			l = len - n;
		memcpy(dst + n, iov[i].iov_base, l);
		n += l;
	}
	return n;
}

static size_t iov_scatter(const struct iovec *iov, size_t iovlen,
			  const uint8_t *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < iovlen && n < len; i++) {
		size_t l = iov[i].iov_len;
		if (l > len - n)
			l = len - n;
		if (l > 0)
			memcpy(iov[i].iov_base, src + n, l);
		n += l;
	}
	return n;
}

/*
 * The first len bytes of the vector as one contiguous span: the first
 * iovec itself if it holds them, else a copy in buf (cap bytes). Returns
 * NULL if they do not fit.
 */
static const uint8_t *iov_flat(const struct iovec *iov, size_t iovlen,
			       size_t len, uint8_t *buf, size_t cap)
{
	if (len == 0)
		return buf;
	if (iovlen >= 1 && iov[0].iov_len >= len)
		return iov[0].iov_base;
	if (buf == NULL || len > cap)
		return NULL;
	(void)iov_gather(iov, iovlen, len, buf, cap);
	return buf;
}

/* Where a datagram goes: its own address, else the connected peer. */
static const struct sockaddr *send_dest(const struct shim_fd *f,
					const struct msghdr *msg,
					socklen_t *len)
{
	if (msg->msg_name != NULL && msg->msg_namelen > 0) {
		*len = msg->msg_namelen;
		return msg->msg_name;
	}
	*len = shim_addr_len(&f->peer);
	return *len ? (const struct sockaddr *)&f->peer : NULL;
}

/* An auto-bound socket (sendto or connect without bind) gets its port from
 * the kernel; read it back once so shim_fd_find_port can find it when SDP
 * announces that port. */
static void learn_local(struct shim_fd *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (f->local.ss_family != 0)
		return;
	if (getsockname(f->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		shim_fd_set_local(f, (struct sockaddr *)&ss, len);
}

static bool crlf_only(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* The first bytes of a TCP connection could begin SIP: CRLF keep-alives,
 * a SIP start line, or fewer than 8 bytes of upper-case letters (a start
 * line written in pieces). */
static bool tcp_may_be_sip(const uint8_t *p, size_t n)
{
	if (crlf_only(p, n) || demux_sip_looks(p, n))
		return true;
	if (n >= 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(p[i] >= 'A' && p[i] <= 'Z') && p[i] != '/')
			return false;
	return true;
}

/*
 * Could this destination be an RTP peer? RTP runs on unprivileged ports;
 * a few unprivileged ports belong to services whose datagrams may start
 * like RTP (mDNS, LLMNR, SSDP, NAT-T, QUIC on 8443) and are never media.
 */
static bool media_port(const struct sockaddr *to)
{
	static const uint16_t never[] = { 1900, 4500, 5353, 5355, 8443 };
	uint16_t port;

	if (to == NULL)
		return false;
	if (to->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)to)->sin_port);
	else if (to->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)to)->sin6_port);
	else
		return false;
	if (port < 1024)
		return false;
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
		if (port == never[i])
			return false;
	return true;
}

/* The client's own send, unchanged. One buffer and no control data (every
 * sendto/send/write): sendto(2), which the kernel serves with less work
 * than sendmsg(2) (no msghdr or iovec to import) and the same result. */
static ssize_t send_client(int fd, const struct msghdr *msg, int flags)
{
	if (msg->msg_iovlen == 1 && msg->msg_controllen == 0)
		return shim_real.sendto(fd, msg->msg_iov[0].iov_base,
					msg->msg_iov[0].iov_len, flags,
					msg->msg_name, msg->msg_namelen);
	return shim_real.sendmsg(fd, msg, flags);
}

/* The client's msghdr with one span of our own bytes in place of its
 * data; name, control data and flags are the client's. The same system
 * call send_client would make for that msghdr (sendto for every
 * sendto/send/write), so a replaced packet (SRTP, a rewritten SIP
 * message) meets the kernel's checks exactly as the client's own would,
 * and the per-packet SRTP path saves sendmsg's msghdr and iovec import. */
static ssize_t send_bytes(int fd, const struct msghdr *msg, const void *p,
			  size_t n, int flags)
{
	struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
	struct msghdr m = *msg;

	if (msg->msg_iovlen == 1 && msg->msg_controllen == 0)
		return shim_real.sendto(fd, p, n, flags, msg->msg_name,
					msg->msg_namelen);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	return shim_real.sendmsg(fd, &m, flags);
}

/* The SIP stream of a TCP connection (stream.h), made on first use. */
static struct shim_stream *tcp_stream(struct shim_fd *f)
{
	struct shim_stream *s = atomic_load_explicit(&f->stream,
						     memory_order_acquire);
	struct shim_stream *expect = NULL;

	if (s != NULL)
		return s;
	s = shim_stream_new();
	if (s == NULL) {
		shim_log(SHIM_LOG_ERROR, "fd %d: out of memory: its SIP over "
			 "TCP passes unread", f->fd);
		return NULL;
	}
	if (!atomic_compare_exchange_strong(&f->stream, &expect, s)) {
		shim_stream_free(s);     /* another thread made it first */
		return expect;
	}
	return s;
}

/* How long a send of the stream's output may wait for a full socket
 * buffer before the rest is left for the next write (or the close). */
#define STREAM_SEND_WAIT_MS 2000

/*
 * Send the stream's output (stream lock held). Partial sends, EINTR and a
 * full buffer (poll, up to STREAM_SEND_WAIT_MS) are handled here, so the
 * byte stream the peer reads stays whole. 0 once everything went (or the
 * wait ran out: the rest stays queued, said once in the log), -1 with
 * errno on a hard error (the connection is broken: the client sees the
 * kernel's error).
 */
static int stream_flush(struct shim_fd *f, struct shim_stream *st,
			const struct msghdr *msg, int flags)
{
	struct msghdr m = *msg;
	int waited = 0;

	for (;;) {
		size_t n;
		const uint8_t *p = shim_stream_out(st, &n);
		if (n == 0)
			return 0;
		ssize_t r = send_bytes(f->fd, &m, p, n, flags | MSG_DONTWAIT);
		if (r >= 0) {
			shim_stream_out_consume(st, (size_t)r);
			m.msg_control = NULL;   /* ancillary data goes once */
			m.msg_controllen = 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (waited >= STREAM_SEND_WAIT_MS) {
			if (!__atomic_exchange_n(&f->held_logged, 1,
						 __ATOMIC_RELAXED))
				shim_log(SHIM_LOG_WARN, "fd %d: the peer reads "
					 "no SIP: %zu bytes wait for the next "
					 "write", f->fd, n);
			return 0;
		}
		struct pollfd pfd = { .fd = f->fd, .events = POLLOUT };
		(void)shim_real.poll(&pfd, 1, 100);
		waited += 100;
	}
}

/*
 * TCP: a connection whose first bytes (either way) are not SIP nor CRLF
 * keep-alives is forgotten. On a SIP connection every write goes through
 * its stream: complete messages (rewritten where they carry our SDP) and
 * bytes that cannot be SIP go out; the start of a message not complete
 * yet is held. The client is told its whole write went, as the kernel
 * would say for a socket with room.
 */
static ssize_t io_send_tcp(struct shim_fd *f, const struct msghdr *msg,
			   int flags, size_t len)
{
	uint8_t head[IO_PREFIX];
	size_t hn = iov_gather(msg->msg_iov, msg->msg_iovlen, len, head,
			       sizeof(head));
	uint8_t state = __atomic_load_n(&f->sniff_count, __ATOMIC_RELAXED);
	struct shim_stream *st;
	int saved = errno, r = 0;

	if (hn == 0)
		return send_client(f->fd, msg, flags);
	if (state == TCP_UNDECIDED) {
		if (!tcp_may_be_sip(head, hn)) {
			shim_fd_remove(f->fd);  /* not SIP: forget it */
			return send_client(f->fd, msg, flags);
		}
		__atomic_store_n(&f->sniff_count, TCP_SIP, __ATOMIC_RELAXED);
	}
	if ((st = tcp_stream(f)) == NULL)
		return send_client(f->fd, msg, flags);
	shim_stream_lock(st);
	/* What an earlier write left queued goes first. */
	if (stream_flush(f, st, msg, flags) < 0) {
		shim_stream_unlock(st);
		return -1;
	}
	for (size_t i = 0; i < msg->msg_iovlen && r == 0; i++)
		r = shim_stream_write(st, msg->msg_iov[i].iov_base,
				      msg->msg_iov[i].iov_len);
	if (r < 0) {
		shim_stream_unlock(st);
		errno = ENOBUFS;
		return -1;
	}
	r = stream_flush(f, st, msg, flags);
	shim_stream_unlock(st);
	if (r < 0)
		return -1;
	errno = saved;
	return (ssize_t)len;
}

static ssize_t io_send_media(struct shim_fd *f, const struct msghdr *msg,
			     int flags, const uint8_t *p, size_t len)
{
	const struct sockaddr *to;
	socklen_t tolen;
	const uint8_t *out = NULL;
	size_t out_len = 0;
	enum shim_verdict v;
	ssize_t r;
	int saved = errno;

	to = send_dest(f, msg, &tolen);
	v = shim_media_outgoing(f, p, len, to, tolen, &out, &out_len);
	errno = saved;
	switch (v) {
	case SHIM_DROP:
		r = (ssize_t)len;   /* held: the client is told it was sent */
		break;
	case SHIM_REPLACE:
		r = send_bytes(f->fd, msg, out, out_len, flags);
		if (r >= 0)
			r = (ssize_t)len;
		break;
	case SHIM_PASS:
	default:
		r = send_client(f->fd, msg, flags);
		break;
	}
	saved = errno;
	shim_media_send_done(f);
	errno = saved;
	return r;
}

/*
 * An RTP- or RTCP-shaped send (k) on a UDP fd no stream owns yet. True:
 * held (the caller reports it sent); false: f now has media (the media
 * path decides) or the bytes may go out as they are.
 *
 * - To the peer's announced media address before our own SDP named this
 *   socket (a callee's media before its answer): held, and the hold is
 *   sticky (f->held): the call ending must not let the socket's RTCP BYE
 *   and SDES out in clear afterwards.
 * - RTP to a possible media port: the fd is adopted as media (once), so
 *   its very first packet is held like every other.
 * - RTCP to a possible media port: it joins the adopted stream it belongs
 *   to, or starts one that waits for its RTP (shim_media_adopt_rtcp).
 *   RTCP carries the SSRC, the CNAME (often the SIP URI) and the
 *   reception reports of its RTP session (RFC 3550 §6): it is never sent
 *   in clear where its RTP would not be.
 * - A held fd, or one whose adoption the media layer refused (no room):
 *   held, never in clear.
 * Each kind of adoption is tried once per fd (sniff_count bits), so a
 * socket that keeps sending costs this look-up once, not per packet.
 */
#define SNIFF_RTP 1u
#define SNIFF_RTCP 2u

static bool untracked_media_send(struct shim_fd *f, enum demux_class k,
				 const struct sockaddr *to, socklen_t tolen)
{
	int saved = errno;
	bool held = false;

	/* Held is sticky until a stream owns the fd (registry.h): no need to
	 * ask sipglue again (a scan of every call's lines) per packet. */
	if (atomic_load(&f->held))
		return true;
	if (shim_sip_peer_media_addr(to)) {
		atomic_store(&f->held, true);
		if (!__atomic_exchange_n(&f->held_logged, 1, __ATOMIC_RELAXED))
			shim_log(SHIM_LOG_INFO, "fd %d: RTP/RTCP to the peer's "
				 "media address before our SDP named this "
				 "socket: held", f->fd);
		errno = saved;
		return true;
	}
	uint8_t bit = k == DEMUX_RTP ? SNIFF_RTP : SNIFF_RTCP;
	if (media_port(to) &&
	    !(__atomic_fetch_or(&f->sniff_count, bit, __ATOMIC_RELAXED) & bit)) {
		learn_local(f);
		if (k == DEMUX_RTP)
			shim_media_adopt(f, to, tolen);
		else
			shim_media_adopt_rtcp(f, to, tolen);
		if (atomic_load_explicit(&f->media, memory_order_acquire) != NULL) {
			errno = saved;
			return false;
		}
		atomic_store(&f->held, true);   /* refused: never in clear */
	}
	held = atomic_load(&f->held);
	errno = saved;
	return held;
}

ssize_t shim_io_send(struct shim_fd *f, const struct msghdr *msg, int flags)
{
	size_t len = iov_total(msg);
	uint8_t head[IO_PREFIX];
	const uint8_t *hp = head;
	size_t hn;
	struct io_bufs *b;
	const uint8_t *p;
	const struct sockaddr *to;
	socklen_t tolen;
	ssize_t r;
	int saved;

	if (len == SIZE_MAX || (flags & MSG_OOB))
		return send_client(f->fd, msg, flags);
	if (f->kind == SHIM_FD_TCP)
		return io_send_tcp(f, msg, flags, len);

	/* The first bytes, for the cheap tests: in place when the first
	 * iovec holds them (every sendto/send/write), else gathered. */
	hn = len < sizeof(head) ? len : sizeof(head);
	if (msg->msg_iovlen >= 1 && msg->msg_iov[0].iov_len >= hn)
		hp = msg->msg_iov[0].iov_base;
	else
		hn = iov_gather(msg->msg_iov, msg->msg_iovlen, len, head,
				sizeof(head));
	if (hn > 0 && demux_sip_looks(hp, hn)) {
		size_t n;

		b = io_bufs();
		p = b ? iov_flat(msg->msg_iov, msg->msg_iovlen, len, b->rx,
				 sizeof(b->rx)) : NULL;
		if (p == NULL)
			return send_client(f->fd, msg, flags);
		to = send_dest(f, msg, &tolen);
		saved = errno;
		n = shim_sip_outgoing(f, p, len, false, to, b->out,
				      sizeof(b->out));
		errno = saved;
		if (n == 0 || n > sizeof(b->out))
			return send_client(f->fd, msg, flags);
		r = send_bytes(f->fd, msg, b->out, n, flags);
		if (r < 0 && errno == EMSGSIZE) {
			/* The rewrite no longer fits one datagram: the call
			 * goes on unprotected rather than failing. */
			shim_log(SHIM_LOG_WARN, "fd %d: SIP message with "
				 "a=zrtp-hash is too large for UDP (%zu bytes): "
				 "sent without it", f->fd, n);
			return send_client(f->fd, msg, flags);
		}
		learn_local(f);
		return r < 0 ? -1 : (ssize_t)len;
	}

	if (atomic_load_explicit(&f->media, memory_order_acquire) == NULL) {
		enum demux_class k = demux_classify(hp, hn, DEMUX_PORT_RTP);
		if (k != DEMUX_RTP && k != DEMUX_RTCP) {
			r = send_client(f->fd, msg, flags);
			if (r >= 0 && f->local.ss_family == 0) {
				saved = errno;
				learn_local(f);
				errno = saved;
			}
			return r;
		}
		to = send_dest(f, msg, &tolen);
		if (untracked_media_send(f, k, to, tolen))
			return (ssize_t)len;   /* held: reported sent */
		if (atomic_load_explicit(&f->media, memory_order_acquire) ==
		    NULL) {
			r = send_client(f->fd, msg, flags);
			if (r >= 0 && f->local.ss_family == 0) {
				saved = errno;
				learn_local(f);
				errno = saved;
			}
			return r;
		}
	}

	/* Media. REPLACE output never aliases the input: the media layer
	 * writes it into the stream's own buffer. */
	b = (msg->msg_iovlen >= 1 && msg->msg_iov[0].iov_len >= len) ? NULL :
	    io_bufs();
	p = iov_flat(msg->msg_iov, msg->msg_iovlen, len, b ? b->rx : NULL,
		     b ? sizeof(b->rx) : 0);
	if (p == NULL) {
		/* No buffer to flatten into (mmap failed): never let media
		 * out in clear by accident; fail like a full socket buffer. */
		errno = ENOBUFS;
		return -1;
	}
	return io_send_media(f, msg, flags, p, len);
}

/* ------------------------------------------------------------------ */
/* receive                                                             */

/* The kernel's move_addr_to_user: copy what fits, report the full length. */
static void name_out(struct msghdr *msg, const struct sockaddr_storage *ss,
		     socklen_t klen)
{
	if (msg->msg_name == NULL)
		return;     /* the kernel leaves msg_namelen alone too */
	if (klen > sizeof(*ss))
		klen = sizeof(*ss);
	if (msg->msg_namelen > 0)
		memcpy(msg->msg_name, ss,
		       msg->msg_namelen < klen ? msg->msg_namelen : klen);
	msg->msg_namelen = klen;
}

static void mark_client_reads(struct shim_fd *f)
{
	if (!atomic_load_explicit(&f->client_reads, memory_order_relaxed))
		atomic_store_explicit(&f->client_reads, true,
				      memory_order_release);
}

/* A UDP fd without media: the client's own buffers, its own semantics.
 * Only the source address goes through our storage (so SIP learning has
 * it whole even when the client's is short or absent). */
static ssize_t io_recv_plain(struct shim_fd *f, struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	struct msghdr m = *msg;
	uint8_t head[IO_PREFIX];
	size_t avail, hn, tot;
	ssize_t r;
	int saved;

	m.msg_name = &ss;
	m.msg_namelen = sizeof(ss);
	r = shim_real.recvmsg(f->fd, &m, flags);
	if (r < 0)
		return r;
	msg->msg_controllen = m.msg_controllen;
	msg->msg_flags = m.msg_flags;
	name_out(msg, &ss, m.msg_namelen);
	if ((flags & MSG_PEEK) || r == 0)
		return r;

	tot = iov_total(msg);
	avail = (size_t)r < tot ? (size_t)r : tot;
	hn = iov_gather(msg->msg_iov, msg->msg_iovlen, avail, head,
			sizeof(head));
	if (hn > 0 && demux_sip_looks(head, hn)) {
		struct io_bufs *b = io_bufs();
		const uint8_t *p = iov_flat(msg->msg_iov, msg->msg_iovlen,
					    avail, b ? b->rx : NULL,
					    b ? sizeof(b->rx) : 0);
		if (p != NULL) {
			saved = errno;
			shim_sip_incoming(f, p, avail, false,
					  (struct sockaddr *)&ss);
			errno = saved;
		}
	}
	return r;
}

static ssize_t io_recv_tcp(struct shim_fd *f, struct msghdr *msg, int flags)
{
	uint8_t head[IO_PREFIX];
	ssize_t r = shim_real.recvmsg(f->fd, msg, flags);
	size_t avail, hn, tot;
	struct shim_stream *st;
	int saved;

	if (r <= 0 || (flags & (MSG_PEEK | MSG_TRUNC)))
		return r;
	saved = errno;
	tot = iov_total(msg);
	avail = (size_t)r < tot ? (size_t)r : tot;
	hn = iov_gather(msg->msg_iov, msg->msg_iovlen, avail, head,
			sizeof(head));
	if (__atomic_load_n(&f->sniff_count, __ATOMIC_RELAXED) ==
	    TCP_UNDECIDED) {
		if (!tcp_may_be_sip(head, hn)) {
			shim_fd_remove(f->fd);
			errno = saved;
			return r;
		}
		__atomic_store_n(&f->sniff_count, TCP_SIP, __ATOMIC_RELAXED);
	}
	if ((st = tcp_stream(f)) != NULL) {
		shim_stream_lock(st);
		for (size_t i = 0, left = avail; i < msg->msg_iovlen && left;
		     i++) {
			size_t l = msg->msg_iov[i].iov_len < left
					   ? msg->msg_iov[i].iov_len : left;
			shim_stream_read(st, msg->msg_iov[i].iov_base, l);
			left -= l;
		}
		shim_stream_unlock(st);
	}
	errno = saved;
	return r;
}

/* Hand one received datagram (len bytes in buf) to the client the way the
 * kernel would have: truncated to its buffers with MSG_TRUNC in msg_flags,
 * the full length returned if it asked with MSG_TRUNC. */
static ssize_t deliver(struct msghdr *msg, int flags, const uint8_t *buf,
		       size_t len, int kflags)
{
	size_t cap = iov_total(msg);
	size_t n = iov_scatter(msg->msg_iov, msg->msg_iovlen, buf,
			       len < cap ? len : cap);

	msg->msg_flags = (kflags & ~MSG_TRUNC) | (len > n ? MSG_TRUNC : 0);
	return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)n;
}

/*
 * After the shim consumed a packet, before the real receive runs again:
 * if that receive would block under SO_RCVTIMEO (no MSG_DONTWAIT, no
 * O_NONBLOCK, a timeout set), wait only for what is left of the timeout
 * counted from t0, the client's call. 0: receive again (data came, or
 * nothing to bound); -1 with errno EAGAIN (time is up) or EINTR (a signal:
 * with a timeout set the kernel does not restart the call either, see
 * signal(7)). Costs syscalls only on this path, never per packet.
 */
static int rcvtimeo_left(int fd, int flags, const struct timespec *t0)
{
	struct timeval tv;
	socklen_t tl = sizeof(tv);
	struct timespec now;
	int64_t left_us;
	int fl;

	if (flags & MSG_DONTWAIT)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl) != 0 ||
	    (tv.tv_sec == 0 && tv.tv_usec == 0))
		return 0;
	fl = shim_real.fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec -
		  ((int64_t)(now.tv_sec - t0->tv_sec) * 1000000 +
		   (now.tv_nsec - t0->tv_nsec) / 1000);
	if (left_us > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t ms = (left_us + 999) / 1000;
		int r = shim_real.poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
		if (r > 0)
			return 0;
		if (r < 0)
			return -1;   /* errno from poll: EINTR */
	}
	errno = EAGAIN;
	return -1;
}

/* An fd with media: receive into this thread's buffer, let the media
 * layer judge, loop over what it consumes. */
static ssize_t io_recv_media(struct shim_fd *f, struct msghdr *msg, int flags,
			     struct io_bufs *b)
{
	const bool peek = (flags & MSG_PEEK) != 0;
	const int kflags_in = flags & ~MSG_TRUNC;
	const size_t ctl_cap = msg->msg_controllen;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (;;) {
		struct sockaddr_storage ss;
		struct iovec iov = { .iov_base = b->rx, .iov_len = sizeof(b->rx) };
		struct msghdr m = {
			.msg_name = &ss, .msg_namelen = sizeof(ss),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = msg->msg_control,
			.msg_controllen = ctl_cap,
		};
		enum shim_verdict v = SHIM_PASS;
		size_t n, new_len = 0;
		ssize_t r;
		int saved;

		r = shim_real.recvmsg(f->fd, &m, kflags_in);
		if (r < 0)
			return r;
		n = (size_t)r;
		saved = errno;
		if (n > 0 && demux_sip_looks(b->rx, n)) {
			if (!peek)
				shim_sip_incoming(f, b->rx, n, false,
						  (struct sockaddr *)&ss);
		} else if (n <= SHIM_PKT_MAX) {
			v = shim_media_incoming(f, b->rx, n, &new_len,
						(struct sockaddr *)&ss,
						m.msg_namelen, peek);
		}
		/* Over-sized datagrams are no RTP: untouched (DESIGN). */
		errno = saved;

		if (v == SHIM_DROP) {
			if (!peek) {
				if (rcvtimeo_left(f->fd, kflags_in, &t0) < 0)
					return -1;
				continue;
			}
			/* The head packet is one the shim consumes: take it
			 * off the queue for real, then peek at the next. */
			m.msg_name = &ss;
			m.msg_namelen = sizeof(ss);
			m.msg_control = NULL;
			m.msg_controllen = 0;
			m.msg_flags = 0;
			r = shim_real.recvmsg(f->fd, &m, (kflags_in & ~MSG_PEEK) |
					      MSG_DONTWAIT);
			if (r >= 0 && (size_t)r <= SHIM_PKT_MAX &&
			    !demux_sip_looks(b->rx, (size_t)r)) {
				v = shim_media_incoming(
					f, b->rx, (size_t)r, &new_len,
					(struct sockaddr *)&ss, m.msg_namelen,
					false);
				if (v != SHIM_DROP)
					shim_log(SHIM_LOG_WARN, "fd %d: another "
						 "reader took the peeked packet; "
						 "one packet lost", f->fd);
			}
			errno = saved;
			if (rcvtimeo_left(f->fd, kflags_in, &t0) < 0)
				return -1;
			continue;
		}
		if (v == SHIM_REPLACE) {
			if (new_len > SHIM_PKT_MAX)
				new_len = SHIM_PKT_MAX;
			n = new_len;
		}
		msg->msg_controllen = m.msg_controllen;
		name_out(msg, &ss, m.msg_namelen);
		return deliver(msg, flags, b->rx, n, m.msg_flags);
	}
}

bool shim_io_ready(struct shim_fd *f)
{
	struct io_bufs *b;
	int saved = errno;

	if (f->kind != SHIM_FD_UDP ||
	    atomic_load_explicit(&f->media, memory_order_acquire) == NULL ||
	    (b = io_bufs()) == NULL)
		return true;
	/* A client that waits for readability reads this fd itself: the
	 * media reader must not race it for the packets drained here. */
	mark_client_reads(f);
	for (;;) {
		struct sockaddr_storage ss;
		struct iovec iov = { .iov_base = b->rx, .iov_len = sizeof(b->rx) };
		struct msghdr m = {
			.msg_name = &ss, .msg_namelen = sizeof(ss),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		enum shim_verdict v;
		size_t new_len;
		ssize_t r;

		r = shim_real.recvmsg(f->fd, &m, MSG_PEEK | MSG_DONTWAIT);
		if (r < 0) {
			bool empty = errno == EAGAIN || errno == EWOULDBLOCK;
			errno = saved;
			return !empty;
		}
		if ((size_t)r > SHIM_PKT_MAX || r == 0 ||
		    demux_sip_looks(b->rx, (size_t)r))
			break;
		v = shim_media_incoming(f, b->rx, (size_t)r, &new_len,
					(struct sockaddr *)&ss, m.msg_namelen,
					true);
		if (v != SHIM_DROP)
			break;
		/* Consumed by the shim: off the queue, processed for real
		 * (the peek slot makes this the same verdict). */
		m.msg_name = &ss;
		m.msg_namelen = sizeof(ss);
		m.msg_flags = 0;
		r = shim_real.recvmsg(f->fd, &m, MSG_DONTWAIT);
		if (r < 0)
			continue;  /* another reader took it: judge what is next */
		if ((size_t)r <= SHIM_PKT_MAX &&
		    !demux_sip_looks(b->rx, (size_t)r) &&
		    shim_media_incoming(f, b->rx, (size_t)r, &new_len,
					(struct sockaddr *)&ss, m.msg_namelen,
					false) != SHIM_DROP)
			shim_log(SHIM_LOG_WARN, "fd %d: another reader took the "
				 "peeked packet; one packet lost", f->fd);
	}
	errno = saved;
	return true;
}

/*
 * The socket became media while io_recv_plain was blocked in its receive
 * (an SDP named its port meanwhile): the datagram it returned, already in
 * the client's buffers, never met the media path. Judge it now as that
 * path would have: what the shim consumes (ZRTP, SRTP failing
 * authentication, anything before keys) is taken back and the receive
 * runs again, SRTP is handed over decrypted, the rest stays. A peek left
 * the datagram queued: look again through the media path.
 */
static ssize_t io_recv_late_media(struct shim_fd *f, struct msghdr *msg,
				  int flags, ssize_t r)
{
	struct io_bufs *b = io_bufs();
	size_t tot = iov_total(msg);
	size_t avail = (size_t)r < tot ? (size_t)r : tot;
	size_t new_len = 0;
	enum shim_verdict v;
	int saved = errno;

	if (b == NULL)
		return r;
	if (flags & MSG_PEEK)
		return io_recv_media(f, msg, flags, b);
	(void)iov_gather(msg->msg_iov, msg->msg_iovlen, avail, b->rx,
			 sizeof(b->rx));
	if (demux_sip_looks(b->rx, avail) || (size_t)r > SHIM_PKT_MAX)
		return r;            /* SIP, or over-sized: no media (DESIGN) */
	if ((size_t)r > avail) {
		/* Truncated for the client: only a prefix to judge by. One
		 * that could be ZRTP, RTP or RTCP is consumed. */
		if (demux_byte0_passes(b->rx[0]))
			return r;
		errno = saved;
		return shim_io_recv(f, msg, flags);
	}
	v = shim_media_incoming(f, b->rx, avail, &new_len,
				msg->msg_name != NULL &&
					msg->msg_namelen >= sizeof(sa_family_t)
					? msg->msg_name : NULL,
				msg->msg_name != NULL ? msg->msg_namelen : 0,
				false);
	errno = saved;
	switch (v) {
	case SHIM_DROP:
		return shim_io_recv(f, msg, flags);
	case SHIM_REPLACE:
		return deliver(msg, flags, b->rx,
			       new_len > SHIM_PKT_MAX ? SHIM_PKT_MAX : new_len,
			       msg->msg_flags);
	case SHIM_PASS:
	default:
		return r;
	}
}

ssize_t shim_io_recv(struct shim_fd *f, struct msghdr *msg, int flags)
{
	struct io_bufs *b;

	mark_client_reads(f);
	if ((flags & (MSG_ERRQUEUE | MSG_OOB)) || iov_total(msg) == SIZE_MAX)
		return shim_real.recvmsg(f->fd, msg, flags);
	if (f->kind == SHIM_FD_TCP)
		return io_recv_tcp(f, msg, flags);
	if (atomic_load_explicit(&f->media, memory_order_acquire) == NULL) {
		ssize_t r = io_recv_plain(f, msg, flags);
		if (r > 0 &&
		    atomic_load_explicit(&f->media, memory_order_acquire) != NULL)
			return io_recv_late_media(f, msg, flags, r);
		return r;
	}
	b = io_bufs();
	if (b == NULL) {
		/* Without a buffer the media path cannot run; SRTP reaches the
		 * client as is (it fails to decode: no cleartext leak). */
		shim_log(SHIM_LOG_ERROR, "fd %d: no receive buffer: media "
			 "passed through undecrypted", f->fd);
		return io_recv_plain(f, msg, flags);
	}
	return io_recv_media(f, msg, flags, b);
}

void shim_io_bound(struct shim_fd *f)
{
	shim_media_on_bind(f);
}

void shim_io_released(struct shim_fd *f)
{
	struct shim_stream *st = atomic_exchange(&f->stream, NULL);

	if (atomic_load_explicit(&f->media, memory_order_acquire) != NULL)
		shim_media_detach(f);
	shim_stream_free(st);
}

void shim_io_closing(struct shim_fd *f)
{
	struct shim_stream *st = atomic_load_explicit(&f->stream,
						      memory_order_acquire);
	struct msghdr m = { 0 };
	size_t n;
	int saved = errno;

	if (st == NULL)
		return;
	shim_stream_lock(st);
	if (shim_stream_held(st) > 0) {
		/* The start of a message the client never finished: the
		 * client believes it was sent, so it goes, as it is. */
		shim_stream_release_held(st);
	}
	(void)shim_stream_out(st, &n);
	if (n > 0 && stream_flush(f, st, &m, MSG_NOSIGNAL) < 0)
		shim_log(SHIM_LOG_WARN, "fd %d: closed with %zu bytes of SIP "
			 "not sent: %s", f->fd, n, strerror(errno));
	shim_stream_unlock(st);
	errno = saved;
}
