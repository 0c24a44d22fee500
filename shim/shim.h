/*
 * The shim's internal interfaces. libzrtpshim.so is loaded with LD_PRELOAD
 * into an unmodified softphone; nothing here is exported except the libc
 * names in shim/exports.map.
 *
 * The flow (DESIGN.md "The house"):
 *
 *   hook (hooks_*.c)  ─ exported libc name; initialise once, then ask the
 *        │              registry what the fd is
 *        ├─ not tracked: real_*() straight away (one table load, no lock)
 *        └─ tracked:     shim_io_send / shim_io_recv (io.c)
 *                          ├─ SIP (by content):  sipglue.c + sdp/
 *                          └─ media (learned from SDP, or RTP-shaped):
 *                                media.c: ZRTP engine, hold, SRTP
 *
 * Layers (STYLE.md, from torsocks): real.c holds the libc pointers,
 * resolved once with dlsym(RTLD_NEXT) and checked not to be our own hooks;
 * hooks_*.c are thin exported wrappers; io.c, sipglue.c and media.c hold
 * the logic and call only real_*. A thread-local guard makes every hook
 * called from inside the shim (libsrtp, libsodium, OpenSSL, the log) go
 * straight to libc.
 *
 * Locking: the registry is an array of atomic pointers indexed by fd; the
 * hot path loads one pointer. Entries are reference-counted so a thread
 * blocked in recv on an fd another thread closed never touches freed
 * memory. Each media stream has its own mutex; the registry has one mutex
 * for inserting and removing entries. The timer thread (timer.c) takes a
 * stream's mutex to tick its engine and, for sockets the client does not
 * read, to read ZRTP itself.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* ------------------------------------------------------------------ */
/* real.c: the libc functions we wrap                                  */

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
	pid_t (*fork)(void);
};

extern struct shim_real shim_real;

/* Resolve every pointer once (idempotent, thread-safe); aborts with a
 * message if dlsym(RTLD_NEXT) returns one of our own hooks. */
void shim_real_init(void);

/* The thread-local guard: true while the shim itself runs on this thread. */
extern _Thread_local int shim_in_shim;

/* ------------------------------------------------------------------ */
/* init.c: one-time setup from the environment                         */

enum shim_policy { SHIM_POLICY_REQUIRE, SHIM_POLICY_OPPORTUNISTIC };

struct shim_config {
	enum shim_policy policy;
	char dir[4096];            /* ZRTPSHIM_DIR: cache, control socket */
	int log_level;             /* ZRTPSHIM_LOG */
	char log_file[4096];       /* ZRTPSHIM_LOG_FILE ("" = stderr) */
	char keylog[4096];         /* ZRTPSHIM_KEYLOG ("" = off) */
	char algos[512];           /* ZRTPSHIM_ALGOS */
	char on_event[4096];       /* ZRTPSHIM_ON_EVENT */
};

extern struct shim_config shim_config;

/* Run-once: real pointers, config (bad values are logged and replaced by
 * defaults, never fatal), the log. Safe to call from every hook. */
void shim_init(void);

/* ------------------------------------------------------------------ */
/* log.c: one line per event, formatted into a fixed buffer, write(2)  */

enum shim_log_level { SHIM_LOG_ERROR, SHIM_LOG_WARN, SHIM_LOG_INFO,
		      SHIM_LOG_DEBUG };

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ */
/* registry.c: what an fd is                                           */

enum shim_fd_kind { SHIM_FD_UDP, SHIM_FD_TCP };

struct shim_media;   /* media.c */
struct shim_tcp_sip; /* sipglue.c: a TCP connection's SIP framers */

struct shim_fd {
	atomic_int refs;           /* registry's reference + callers' */
	int fd;
	enum shim_fd_kind kind;
	int family;                /* AF_INET or AF_INET6 */
	bool nonblock_hint;        /* from socket()/fcntl: O_NONBLOCK seen */
	atomic_bool client_reads;  /* the client has called recv on it */
	struct sockaddr_storage local;  /* from bind(); zero if unbound */
	struct sockaddr_storage peer;   /* from connect(); zero if none */
	_Atomic(struct shim_media *) media;  /* set once media is learned */
	struct shim_tcp_sip *tcp;  /* TCP only */
	/* io.c's sniffing state: UDP, whether RTP adoption was tried; TCP,
	 * what the first bytes said. */
	uint8_t sniff_count;
	uint8_t held_logged;       /* io.c: logged one early RTP/RTCP hold */
};

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
 * last reference; its media (if any) is detached. */
void shim_fd_remove(int fd);
/* dup/dup2/dup3/F_DUPFD: newfd shares what oldfd is. */
void shim_fd_dup(int oldfd, int newfd);
/* After fork, in the child: every stream forgets its keys and indexes. */
void shim_registry_atfork_child(void);

/* ------------------------------------------------------------------ */
/* io.c: the send and receive paths of tracked fds                      */

/*
 * A send of any family (sendto, send, sendmsg, write, writev; sendmmsg
 * calls it per message). msg->msg_name may be NULL (connected socket).
 * Returns exactly what the real call would: bytes "sent" (the full length
 * when the shim held a packet), or -1 with errno.
 */
ssize_t shim_io_send(struct shim_fd *f, const struct msghdr *msg, int flags);

/*
 * A receive of any family (recvfrom, recv, recvmsg, read, readv; recvmmsg
 * calls it per message). Performs the real receive(s): packets the shim
 * consumes (ZRTP, SRTP failing authentication, cleartext on a secure
 * stream) are never shown; a blocking socket keeps waiting, a non-blocking
 * one gets EAGAIN; MSG_PEEK never consumes a packet the client would
 * read. Returns the length the client sees (MSG_TRUNC semantics as libc),
 * or -1 with errno.
 */
ssize_t shim_io_recv(struct shim_fd *f, struct msghdr *msg, int flags);

/* ------------------------------------------------------------------ */
/* sipglue.c: SIP on any tracked socket                                */

/* Cheap test: could this be the start of a SIP message? */
bool shim_sip_looks(const uint8_t *p, size_t len);

/*
 * An outgoing SIP message (a UDP datagram, or a complete message framed
 * from a TCP stream). Learns the call's media (local ports → which fds
 * carry media, the peer's addresses from earlier answers), and rewrites
 * offers and answers with a=zrtp-hash into out. Returns the length to send
 * (out holds it), or 0 to send the original bytes unchanged.
 */
size_t shim_sip_outgoing(struct shim_fd *f, const uint8_t *msg, size_t len,
			 bool stream, const struct sockaddr *peer,
			 uint8_t *out, size_t cap);

/*
 * Is this the RTP or RTCP address a peer announced in the SDP of a call in
 * progress? io.c holds RTP/RTCP-shaped sends to such an address from an fd
 * not yet attached to a stream (a client may send RTCP before its own
 * answer has named the socket).
 */
bool shim_sip_peer_media_addr(const struct sockaddr *to);

/* An incoming SIP message (never modified): learns the peer's media
 * addresses and a=zrtp-hash, and call ends (BYE, CANCEL, errors). */
void shim_sip_incoming(struct shim_fd *f, const uint8_t *msg, size_t len,
		       bool stream, const struct sockaddr *from);

/* ------------------------------------------------------------------ */
/* media.c: one stream per media line (RTP and its RTCP socket)         */

enum shim_verdict {
	SHIM_PASS,      /* send / deliver the original bytes */
	SHIM_DROP,      /* held or consumed: nothing sent / delivered */
	SHIM_REPLACE,   /* send / deliver the bytes the media path produced */
};

#define SHIM_PKT_MAX 2048   /* MTU-sized RTP + SRTP_MAX_TRAILER_LEN, rounded */

/*
 * An outgoing datagram on an fd with media. For REPLACE, *out and *out_len
 * give the protected packet (in the stream's own buffer, valid until the
 * stream's next send; the caller sends it under the stream's send lock,
 * which media.c takes and io.c releases with shim_media_send_done).
 * send_done may be called after any verdict: it releases only what a
 * REPLACE on this thread took (PASS and DROP return with nothing held).
 */
enum shim_verdict shim_media_outgoing(struct shim_fd *f, const uint8_t *pkt,
				      size_t len, const struct sockaddr *to,
				      socklen_t tolen, const uint8_t **out,
				      size_t *out_len);
void shim_media_send_done(struct shim_fd *f);

/*
 * An incoming datagram on an fd with media, in a shim buffer of
 * SHIM_PKT_MAX bytes. REPLACE: buf now holds *new_len bytes of plain RTP
 * or RTCP for the client. DROP: consumed. peek: the packet stays queued
 * (MSG_PEEK): authenticate without advancing replay state.
 */
enum shim_verdict shim_media_incoming(struct shim_fd *f, uint8_t *buf,
				      size_t len, size_t *new_len,
				      const struct sockaddr *from,
				      socklen_t fromlen, bool peek);

/* An RTP-shaped send on a UDP fd no SDP announced: make it media. */
void shim_media_adopt(struct shim_fd *f, const struct sockaddr *to,
		      socklen_t tolen);

/* Detach an fd's media when the fd goes away; the stream ends with its
 * last socket or with the call (sipglue). */
void shim_media_detach(struct shim_fd *f);

/* bind() on a tracked UDP fd: attach it if SDP already named its port. */
void shim_media_on_bind(struct shim_fd *f);

/* What the SDP of a call says about one of its media lines (sipglue). */
struct shim_media_desc {
	const char *call_id;
	size_t call_id_len;
	unsigned m_index;              /* position of the m= line */
	uint16_t local_rtp_port;       /* from our own SDP */
	uint16_t local_rtcp_port;      /* a=rtcp or port+1 */
	bool local_mux;
	bool have_peer;                /* from the peer's SDP */
	struct sockaddr_storage peer_rtp, peer_rtcp;
	bool peer_mux;
	bool have_peer_hash;
	char peer_hash[65];            /* the peer's a=zrtp-hash hex */
	bool peer_signals_zrtp;        /* the peer's SDP had a=zrtp-hash */
};

/*
 * Create or update the stream of (call, m_index) and attach the fds bound
 * to its local ports. Writes our Hello's hash (64 hex + NUL) for
 * a=zrtp-hash into hash_out. Starts ZRTP once the peer's address is known.
 * 0 or -errno.
 */
int shim_media_describe(const struct shim_media_desc *d, char hash_out[65]);

/* BYE, CANCEL or a final error: the call's streams end (keys wiped). */
void shim_media_call_ended(const char *call_id, size_t len);

/* registry.c: the tracked UDP fd bound to a local port (reference taken),
 * or NULL. */
struct shim_fd *shim_fd_find_port(uint16_t port);

/* After fork, in the child (idempotent; media.c also registers it with
 * pthread_atfork): every stream forgets its SRTP keys and replay state and
 * drops its media from then on, the locks are re-initialised, and the
 * child gives up the parent's cache lock (so it takes its own ZID). */
void shim_media_atfork_child(void);

/* Counters and state of one stream, for status and tests. */
struct shim_media_stats {
	char name[128];                /* "call-id/m-index" */
	const char *phase;             /* "waiting", "negotiating", "secure",
					* "clear", "failed", "ended" */
	int zrtp_state;                /* enum zrtp_state, -1 if no engine */
	char sas[32];
	uint64_t tx_srtp, tx_held, tx_clear, tx_dropped, tx_err;
	uint64_t rx_srtp, rx_zrtp, rx_zrtp_bad, rx_auth_fail, rx_replay,
		 rx_early, rx_clear, rx_not_reading, rx_err;
	uint64_t rx_zrtp_peeked;       /* ZRTP copied from behind the head of
					* an fd the client does not read */
};
/* Reader duty: how long data may wait on an fd the client does not read
 * before the shim reads it (300 ms; tests may change it before any call). */
extern uint32_t shim_media_reader_delay_ms;

/* The i-th live stream (0 <= i): 0, or -ENOENT past the last. */
int shim_media_stats_get(size_t i, struct shim_media_stats *out);

/* events.c (events/keylog owner). One stream event, after media.c has
 * logged it; sas is "" except on SECURE. Called on the thread that fed the
 * engine, with the stream's lock held: must not block for long and must
 * not call into media.c. media.c carries a weak no-op until events.c lands. */
struct zrtp_event;
void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas);

/* On SECURE, only when shim_config.keylog is set: one stream's SRTP master
 * keys and salts (SRTCP uses the same; its tag is always 80 bits, RFC 4568
 * / libsrtp's rule, even with HS32) with the ports that identify it in a
 * capture. Same calling context as shim_events_emit; weak no-op until it
 * lands. */
struct zrtp_srtp_keys;
void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys);

/* ------------------------------------------------------------------ */
/* timer.c: the one shim thread                                         */

/* Start the timer thread if it is not running (lazily, and again in a
 * forked child). It sleeps until the earliest engine deadline, ticks
 * engines, and reads ZRTP from media sockets the client does not read. */
void shim_timer_kick(void);
/* In a forked child (from shim_media_atfork_child): the parent's thread is
 * gone; forget it and re-initialise the timer's lock. */
void shim_timer_atfork_child(void);

/* media.c, for the timer thread only: tick every engine due at now (ms,
 * CLOCK_MONOTONIC), do the reader duty for media fds the client does not
 * read, and return when to run again (ms, or UINT64_MAX: nothing to do). */
uint64_t shim_media_timer_run(uint64_t now);

#endif
