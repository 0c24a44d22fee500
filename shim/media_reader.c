/*
 * The timer thread's work (media.h's shim_media_timer_run): tick every
 * engine that is due, and read ZRTP from media sockets the client does
 * not read (sipp's rtp_stream, send-only clients), never taking a packet
 * the client would have read.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/demux.h"
#include "shim/media_int.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "zrtp/packet.h"
#include "zrtp/zrtp.h"

#define READER_DELAY_MS 300        /* pending this long on an unread fd */
#define READER_POLL_MS 100
#define READER_ZRTP_POLL_MS 10     /* while negotiating: ZRTP waits for us */
#define READER_SECURE_POLL_MS 500  /* secure: ZRTP is rare (a peer's repeat
				    * of Confirm2 waits up to 1.2 s), and each
				    * wake-up costs the client's CPU */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * The identity of one ZRTP datagram for reader_peek_past: its CRC-32C
 * trailer and its length. A retransmission has a new sequence number and
 * so another CRC; only the very same datagram (or a byte-exact duplicate,
 * which the engine would treat as one anyway) has the same id.
 */
static uint32_t zrtp_copy_id(const uint8_t *p, size_t len)
{
	return be32(p + len - ZRTP_CRC_LEN) ^ (uint32_t)len * 2654435761u;
}

static bool peeked_find(const struct shim_media *s, uint32_t id, unsigned *at)
{
	for (unsigned i = 0; i < s->n_peeked; i++)
		if (s->peeked[i] == id) {
			*at = i;
			return true;
		}
	return false;
}

static void peeked_remove(struct shim_media *s, unsigned at)
{
	memmove(&s->peeked[at], &s->peeked[at + 1],
		(s->n_peeked - at - 1) * sizeof s->peeked[0]);
	s->n_peeked--;
}

static void peeked_add(struct shim_media *s, uint32_t id)
{
	if (s->n_peeked == PEEKED_MAX)   /* forgotten: read again, a duplicate */
		peeked_remove(s, 0);
	s->peeked[s->n_peeked++] = id;
}

bool media_peeked_consume(struct shim_media *s, const uint8_t *p, size_t len)
{
	unsigned at;

	if (s->n_peeked == 0 || !peeked_find(s, zrtp_copy_id(p, len), &at))
		return false;
	peeked_remove(s, at);
	return true;
}

/* --- the timer's work ----------------------------------------------------- */

/* Timer thread only. */
static uint8_t reader_buf[SHIM_PKT_MAX];

/* One datagram of fd into reader_buf, never blocking (flags: MSG_PEEK or
 * 0), its sender in *from. */
static ssize_t reader_recv(int fd, int flags, struct sockaddr_storage *from,
			   socklen_t *fl)
{
	*fl = sizeof *from;
	return shim_real.recvfrom(fd, reader_buf, sizeof reader_buf,
				  flags | MSG_DONTWAIT,
				  (struct sockaddr *)from, fl);
}

/*
 * Take ZRTP packets from the head of an unread fd's queue at once: the
 * client never gets ZRTP whoever reads first, so this takes nothing from
 * it, and a client that never reads (sipp's rtp_stream) then completes its
 * handshake at network speed instead of at the pace of the 300 ms rule.
 * Stops at the first packet that is not ZRTP. Returns how many it took.
 */
static int reader_take_zrtp(struct shim_media *s, struct shim_fd *f, int fd)
{
	int taken = 0;
	for (int i = 0; i < 64 && !atomic_load(&f->client_reads); i++) {
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, MSG_PEEK, &from, &fl);
		if (n < 0 || demux_classify(reader_buf, (size_t)n, DEMUX_PORT_RTP) != DEMUX_ZRTP)
			break;
		n = reader_recv(fd, 0, &from, &fl);
		if (n < 0)
			break;
		bool kick = false;
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		media_incoming_locked(s, f, fd, reader_buf, (size_t)n, &nl,
				(struct sockaddr *)&from, fl, &kick);
		pthread_mutex_unlock(s->mu);
		taken++;
	}
	return taken;
}

/*
 * ZRTP queued behind a packet that is not ZRTP, on an fd the client never
 * reads: linphonec sends a STUN request just before its Hello. The head
 * may be taken only after READER_DELAY_MS (the client might read it), and
 * the handshake would wait that long. Where the kernel lets UDP peek at an
 * offset (SO_PEEK_OFF), look past the head and give the engine a copy of
 * each ZRTP packet, leaving the queue as it was; the copy's id is kept so
 * that the packet, when read from the queue later (by the duty below or by
 * the client), is not given twice. The offset is set back to -1 (plain
 * peeks) at once; only an fd the client has not read yet is touched. (A
 * client whose very first read is a MSG_PEEK made during those few
 * microseconds would peek past the head; a plain read is not affected,
 * the kernel moves the offset back. Accepted.) Without SO_PEEK_OFF
 * (ENOPROTOOPT, EOPNOTSUPP) it does nothing.
 */
static atomic_bool peek_off_unsupported;

/* How long data may wait at the head of an fd the client does not read
 * before the shim reads it. A variable only so that a test can make it
 * endless and see that ZRTP behind the head is still found. */
uint32_t shim_media_reader_delay_ms = READER_DELAY_MS;

static void reader_peek_past(struct shim_media *s, struct shim_fd *f, int fd)
{
	int off = 0;
	if (atomic_load(&peek_off_unsupported))
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off) < 0) {
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
			atomic_store(&peek_off_unsupported, true);
		return;
	}
	for (int i = 0; i < 64 && !atomic_load(&f->client_reads); i++) {
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, MSG_PEEK, &from, &fl);
		if (n < 0)
			break;
		if (demux_classify(reader_buf, (size_t)n, DEMUX_PORT_RTP) != DEMUX_ZRTP)
			continue;
		uint32_t id = zrtp_copy_id(reader_buf, (size_t)n);
		unsigned at;
		bool kick = false;
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		if (!peeked_find(s, id, &at)) {
			media_incoming_locked(s, f, fd, reader_buf, (size_t)n, &nl,
					(struct sockaddr *)&from, fl, &kick);
			peeked_add(s, id);
			s->st.rx_zrtp_peeked++;
		}
		pthread_mutex_unlock(s->mu);
	}
	off = -1;
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
}

/*
 * Reader duty for one fd of s the client never reads: once data has been
 * pending for READER_DELAY_MS, read it (MSG_DONTWAIT) and give ZRTP to the
 * engine; everything else is counted as dropped (the client would never
 * have read it). Returns when to look again.
 */
static uint64_t reader_duty(struct shim_media *s, int role, uint64_t now)
{
	int fd = atomic_load(role == 0 ? &s->rtp_fd : &s->rtcp_fd);
	if (fd < 0 || (role == 1 && fd == atomic_load(&s->rtp_fd)))
		return UINT64_MAX;
	struct shim_fd *f = shim_fd_get(fd);
	if (!f)
		return UINT64_MAX;
	uint64_t next = UINT64_MAX;
	if (atomic_load(&f->media) != s || atomic_load(&f->client_reads))
		goto out;
	pthread_mutex_lock(s->mu);
	bool negotiating = s->phase == PH_NEGOTIATING;
	uint64_t poll_ms = negotiating ? READER_ZRTP_POLL_MS
		: s->phase == PH_SECURE ? READER_SECURE_POLL_MS : READER_POLL_MS;
	pthread_mutex_unlock(s->mu);
	next = now + poll_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (shim_real.poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
		s->pending_since[role] = 0;
		goto out;
	}
	if (reader_take_zrtp(s, f, fd) > 0 &&
	    (shim_real.poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))) {
		s->pending_since[role] = 0;
		goto out;
	}
	if (negotiating && role == 0)
		reader_peek_past(s, f, fd);
	/* while negotiating, keep looking past the head every
	 * READER_ZRTP_POLL_MS (next as set above) */
	if (!s->pending_since[role]) {
		s->pending_since[role] = now;
		if (!negotiating)
			next = now + shim_media_reader_delay_ms;
		goto out;
	}
	if (now - s->pending_since[role] < shim_media_reader_delay_ms) {
		if (!negotiating)
			next = s->pending_since[role] + shim_media_reader_delay_ms;
		goto out;
	}
	s->pending_since[role] = 0;
	/* On a secure stream, the first packet that is not ZRTP goes through
	 * the media path (SRTP authenticated, counted; the altered-media
	 * alarm and the rollover counter kept current, this being done at
	 * least every READER_DELAY_MS + READER_SECURE_POLL_MS), the others
	 * are only counted: nobody will read them, and authenticating each
	 * cost the client more CPU than anything else the reader does. */
	bool sampled = false;
	for (int i = 0; i < 256; i++) {
		if (atomic_load(&f->client_reads))
			break;
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, 0, &from, &fl);
		if (n < 0)
			break;
		bool kick = false, zrtp = demux_classify(reader_buf, (size_t)n,
						   DEMUX_PORT_RTP) == DEMUX_ZRTP;
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		if (zrtp || !sampled || s->phase != PH_SECURE) {
			media_incoming_locked(s, f, fd, reader_buf, (size_t)n,
					      &nl, (struct sockaddr *)&from, fl,
					      &kick);
			sampled = sampled || !zrtp;
		}
		if (!zrtp)
			s->st.rx_not_reading++;
		pthread_mutex_unlock(s->mu);
	}
	next = now + poll_ms;
out:
	shim_fd_put(f);
	return next;
}

uint64_t shim_media_timer_run(uint64_t now)
{
	/* The timer's own list, grown with the table (never shrinks). */
	static __thread struct shim_media **list;
	static __thread size_t list_cap;
	size_t n = 0;
	uint64_t next = UINT64_MAX;

	pthread_mutex_lock(&media_mu);
	size_t need = media_calls_cap * MEDIA_MAX_LINES;
	if (need > list_cap) {
		struct shim_media **t = realloc(list, need * sizeof *t);
		if (t) {
			list = t;
			list_cap = need;
		}
	}
	for (size_t i = 0; i < media_calls_cap; i++)
		for (int j = 0; media_calls[i] && j < MEDIA_MAX_LINES &&
				n < list_cap; j++)
			if (media_calls[i]->lines[j]) {
				media_calls[i]->lines[j]->refs++;
				list[n++] = media_calls[i]->lines[j];
			}
	pthread_mutex_unlock(&media_mu);

	next = media_drain_run(now);
	for (size_t k = 0; k < n; k++) {
		struct shim_media *s = list[k];
		pthread_mutex_lock(s->mu);
		if (s->zs && s->started && s->phase != PH_ENDED) {
			if (zrtp_stream_deadline(s->zs) <= now)
				zrtp_stream_tick(s->zs, now);
			uint64_t d = s->zs ? zrtp_stream_deadline(s->zs)
					   : ZRTP_NO_DEADLINE;
			if (d < next)
				next = d;
		}
		uint64_t a = media_altered_check_locked(s, now);
		if (a < next)
			next = a;
		bool duty = s->phase != PH_ENDED;
		pthread_mutex_unlock(s->mu);
		if (duty)
			for (int role = 0; role < 2; role++) {
				uint64_t d = reader_duty(s, role, now);
				if (d < next)
					next = d;
			}
		media_stream_put(s);
	}
	return next;
}

