/*
 * The media path (shim/media*.c, cache.c, timer.c) between two processes over
 * real UDP on 127.0.0.1, without LD_PRELOAD and without a real client.
 *
 * Each scenario forks two "sides". A shimmed side links the real media
 * layer and timer.c with test-only stand-ins (stubs.c: a small fd
 * registry, the real libc pointers; below: a log that counts what it
 * says) and plays both the client and io.c: its "client" builds RTP and
 * RTCP packets whose bytes are a function of (side, sequence number), and
 * sends and receives them through shim_media_outgoing /
 * shim_media_incoming exactly as io.c would.
 * A plain side is a client with no shim at all (a peer without ZRTP).
 *
 *        side A  <-->  relay (the parent: the wire)  <-->  side B
 *
 * The parent is the only path between them: it forwards every datagram,
 * classifies it (ZRTP, STUN, other RTP-shaped), and looks for the
 * clients' cleartext marker in every byte that crosses. It can also
 * tamper with, replay and inject packets, or corrupt every SRTP packet
 * for a while (a transcoder: the "altered" event). Verdicts are judged
 * from what the wire carried and from what each client was handed.
 *
 * A client may run SRTP of its own (SDES, or keyed by DTLS, which it then
 * sends records of): its packets are protected with its own libsrtp
 * context before the shim sees them, and unprotected with the peer
 * client's key after the shim delivers them. The relay tries the clients'
 * own keys on everything that crosses: a packet that authenticates with
 * one is the client's SRTP bare on the wire, not wrapped in ours.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <srtp2/srtp.h>

#include "shim/events.h"
#include "shim/keylog.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "tests/shim/stubs.h"
#include "zrtp/cache.h"
#include "zrtp/packet.h"
#include "zrtp/zrtp.h"

/* ---- test-only stand-ins for the rest of the shim ------------------------ */

static char side_name = '?';
static int log_verbose;
static atomic_int log_clear_warnings, log_failed, log_corrupt, log_other_slot,
	log_attack;

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved = errno;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (strstr(line, "IN CLEAR"))
		atomic_fetch_add(&log_clear_warnings, 1);
	if (strstr(line, "ZRTP FAILED"))
		atomic_fetch_add(&log_failed, 1);
	if (strstr(line, "CORRUPT"))
		atomic_fetch_add(&log_corrupt, 1);
	if (strstr(line, "its own ZID"))
		atomic_fetch_add(&log_other_slot, 1);
	if (strstr(line, "POSSIBLE ATTACK"))
		atomic_fetch_add(&log_attack, 1);
	if (log_verbose || lvl <= SHIM_LOG_WARN)
		dprintf(2, "  [%c %d] %s\n", side_name, (int)lvl, line);
	errno = saved;
}

static int n_secure_events, n_failed_events, n_keylog, n_rs1_match;
static int n_altered, n_altered_end;
static uint64_t altered_at_ms, altered_end_ms;
static char event_sas[32];
static uint64_t now_ms(void);

void shim_events_emit_altered(const char *stream_name, bool altered,
			      const char *sas, const char *detail)
{
	if (altered) {
		if (!n_altered++)
			altered_at_ms = now_ms();
	} else if (!n_altered_end++) {
		altered_end_ms = now_ms();
	}
	if (log_verbose)
		dprintf(2, "  [%c] altered=%d %s sas=%s %s\n", side_name,
			altered, stream_name, sas, detail);
}

void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas)
{
	if (ev->type == ZRTP_EV_SECURE) {
		n_secure_events++;
		n_rs1_match += ev->rs1_match;
		snprintf(event_sas, sizeof event_sas, "%s", sas);
	} else if (ev->type == ZRTP_EV_FAILED) {
		n_failed_events++;
	}
}

static int n_pin_alarms;
static char pin_alarm_reason[512];

void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	if (kind == SHIM_EVENT_PIN_ALARM) {
		n_pin_alarms++;
		snprintf(pin_alarm_reason, sizeof pin_alarm_reason, "%s", reason);
	}
	if (log_verbose)
		dprintf(2, "  [%c] %s %s %s\n", side_name, label, stream_name,
			reason);
}

void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys)
{
	n_keylog++;
}

/* ---- packets the clients send -------------------------------------------- */

#define MARKER "CLEARTEXT-"
#define INJECT_MARKER "INJECTED-"
#define RTP_PAYLOAD 160

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define MAX_LINES 2

/* RTP, PT 0, its payload a function of (side, line, seq). */
static size_t make_rtp(uint8_t *p, char side, int line, uint16_t seq)
{
	uint32_t ssrc = 0xCA110000u + (uint32_t)side + 0x100u * (uint32_t)line;
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	uint32_t ts = (uint32_t)seq * 160u;
	p[4] = (uint8_t)(ts >> 24); p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8); p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24); p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8); p[11] = (uint8_t)ssrc;
	int n = snprintf((char *)p + 12, RTP_PAYLOAD, MARKER "%c%d-%05u-",
			 side, line, (unsigned)seq);
	for (int i = n; i < RTP_PAYLOAD; i++)
		p[12 + i] = (uint8_t)(side + seq + i + line);
	return 12 + RTP_PAYLOAD;
}

/* RTCP APP (PT 204) carrying the marker: 8-byte header, name, data. */
static size_t make_rtcp(uint8_t *p, char side, int line, uint16_t n)
{
	uint32_t ssrc = 0xCA110000u + (uint32_t)side + 0x100u * (uint32_t)line;
	size_t len = 8 + 4 + 32;
	p[0] = 0x80;
	p[1] = 204;
	p[2] = 0;
	p[3] = (uint8_t)(len / 4 - 1);
	p[4] = (uint8_t)(ssrc >> 24); p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8); p[7] = (uint8_t)ssrc;
	memcpy(p + 8, "ZSHT", 4);
	memset(p + 12, '.', 32);
	char tmp[33];
	snprintf(tmp, sizeof tmp, MARKER "RTCP-%c%d-%05u", side, line,
		 (unsigned)n);
	memcpy(p + 12, tmp, strlen(tmp));
	return len;
}

static bool has_marker(const uint8_t *p, size_t len, const char *m)
{
	size_t ml = strlen(m);
	for (size_t i = 0; i + ml <= len; i++)
		if (memcmp(p + i, m, ml) == 0)
			return true;
	return false;
}

/* ---- one side ------------------------------------------------------------- */

struct side_cfg {
	char name;                  /* 'A' or 'B' */
	bool shim;                  /* false: a plain client, no ZRTP */
	bool mux;
	bool peek;                  /* receive with MSG_PEEK first */
	bool reads;                 /* false: never reads its sockets */
	bool never_take;            /* the shim never reads for it (endless
				     * reader delay) */
	enum shim_policy policy;
	bool peer_signals_zrtp;     /* what the peer's SDP says */
	bool spoil_peer_hash;       /* an a=zrtp-hash the Hello will not match */
	bool client_srtp;           /* the client's own SRTP, and DTLS records */
	uint32_t altered_ms;        /* ZRTPSHIM_ALTERED_MS (0: the default) */
	const char *peer_id;        /* the peer's SIP identity (sipglue's) */
	int run_ms;
	int nlines;                 /* m= lines of the call */
	int rtp_fd[MAX_LINES], rtcp_fd[MAX_LINES];   /* bound by the parent */
	struct sockaddr_in peer_rtp[MAX_LINES], peer_rtcp[MAX_LINES];
				    /* the relay's sockets */
	int hash_out, hash_in;      /* pipes to the other side (-1: none) */
	int result_fd;
	char dir[256];
};

struct side_result {
	bool ran;
	char sas[MAX_LINES][32];
	struct shim_media_stats st;         /* line 0 */
	struct shim_media_stats st1;        /* line 1 */
	bool have_stats, have_stats1;
	int delivered_line[MAX_LINES];
	int secure_events, failed_events, keylogs;
	int sent_rtp, sent_rtcp;
	int delivered_rtp, delivered_rtcp, bad_payload, injected_delivered;
	int stun_delivered, stun_bad;
	int peek_mismatch, peeks;
	int first_pass_seq;         /* first RTP the shim let out in clear */
	int held_after_pass;        /* held again after clear started */
	int log_clear, log_failed, log_corrupt, log_other_slot, log_attack;
	int rs1_match;
	int altered, altered_end;
	uint64_t altered_at_ms, altered_end_ms;
	int dtls_delivered, dtls_bad, client_unprotect_fail;
	int pin_alarms;
	char pin_reason[512];
	char err[200];
};

/* ---- the clients' own SRTP (SDES) and DTLS records ------------------------ */

static void client_key(char side, uint8_t key[30])
{
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)(side * 7 + i * 13);
}

static srtp_t client_ctx(char side, bool outbound)
{
	srtp_policy_t p;
	uint8_t key[30];
	srtp_t ctx = NULL;
	memset(&p, 0, sizeof p);
	client_key(side, key);
	srtp_crypto_policy_set_rtp_default(&p.rtp);
	srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = key;
	p.window_size = 1024;
	/* libsrtp is initialised once per process (a second srtp_init
	 * fails): by the shim's media_init in a side (before its first call
	 * here), by the relay after the sides are forked, shut down again
	 * before the next scenario forks. */
	if (srtp_create(&ctx, &p) != srtp_err_status_ok)
		abort();
	return ctx;
}

static srtp_t cli_tx, cli_rx;   /* in each side process */

/* A DTLS 1.2 handshake record header and a body naming (side, n). */
static size_t make_dtls(uint8_t *p, char side, int n)
{
	static const uint8_t head[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 24 };
	memcpy(p, head, sizeof head);
	p[10] = (uint8_t)n;
	snprintf((char *)p + sizeof head, 25, "DTLS-RECORD-%c-%02d.......",
		 side, n);
	return sizeof head + 24;
}

static void check_rtp(struct side_cfg *c, struct side_result *r, int line,
		      const uint8_t *p, size_t len)
{
	uint8_t want[SHIM_PKT_MAX];
	char peer = c->name == 'A' ? 'B' : 'A';
	if (has_marker(p, len, INJECT_MARKER)) {
		r->injected_delivered++;
		return;
	}
	if (len >= 8 && p[1] == 204) {
		uint16_t n = 0;
		/* the counter after "RTCP-Xl-" */
		for (size_t i = 0; i + 13 < len; i++)
			if (memcmp(p + i, "RTCP-", 5) == 0) {
				n = (uint16_t)atoi((const char *)p + i + 8);
				break;
			}
		size_t wl = make_rtcp(want, peer, line, n);
		if (wl == len && memcmp(want, p, len) == 0)
			r->delivered_rtcp++;
		else
			r->bad_payload++;
		return;
	}
	if (len < 12) {
		r->bad_payload++;
		return;
	}
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	size_t wl = make_rtp(want, peer, line, seq);
	if (wl == len && memcmp(want, p, len) == 0) {
		r->delivered_rtp++;
		r->delivered_line[line]++;
	} else
		r->bad_payload++;
}

static const uint8_t stun_req[20] = {
	0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
	'S', 'T', 'U', 'N', 't', 'e', 's', 't', 'x', 'i', 'd', '1',
};

/* What io.c does for one received datagram on a shimmed fd. */
static void client_receive(struct side_cfg *c, struct side_result *r,
			   int line, int fd)
{
	uint8_t buf[SHIM_PKT_MAX], pbuf[SHIM_PKT_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	size_t plen = 0, nl = 0;
	enum shim_verdict pv = SHIM_PASS;
	bool peeked = false;

	if (c->shim)
		atomic_store(&stub_fd(fd)->client_reads, true);
	if (c->shim && c->peek) {
		/* Two peeks, then the read: all three must agree. */
		for (int k = 0; k < 2; k++) {
			fl = sizeof from;
			ssize_t n = recvfrom(fd, pbuf, sizeof pbuf, MSG_PEEK,
					     (struct sockaddr *)&from, &fl);
			if (n < 0)
				return;
			size_t l2;
			enum shim_verdict v = shim_media_incoming(
				stub_fd(fd), pbuf, (size_t)n, &l2,
				(struct sockaddr *)&from, fl, true);
			if (k == 0) {
				pv = v;
				plen = l2;
				memcpy(buf, pbuf, l2);
			} else if (v != pv || (v == SHIM_REPLACE &&
					       (l2 != plen ||
						memcmp(buf, pbuf, l2) != 0))) {
				r->peek_mismatch++;
			}
		}
		peeked = true;
		r->peeks++;
	}
	fl = sizeof from;
	ssize_t n = recvfrom(fd, pbuf, sizeof pbuf, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
	if (n < 0)
		return;
	enum shim_verdict v = SHIM_PASS;
	nl = (size_t)n;
	if (c->shim)
		v = shim_media_incoming(stub_fd(fd), pbuf, (size_t)n, &nl,
					(struct sockaddr *)&from, fl, false);
	if (peeked && (v != pv || (v == SHIM_REPLACE &&
				   (nl != plen || memcmp(buf, pbuf, nl) != 0))))
		r->peek_mismatch++;
	if (v == SHIM_DROP)
		return;
	if ((size_t)n == sizeof stun_req && pbuf[0] == 0 && pbuf[1] == 1) {
		if (memcmp(pbuf, stun_req, sizeof stun_req) == 0)
			r->stun_delivered++;
		else
			r->stun_bad++;
		return;
	}
	if (!c->shim && (pbuf[0] >> 6) != 2)
		return;            /* a plain client ignores ZRTP */
	if (pbuf[0] >= 20 && pbuf[0] <= 63) {
		uint8_t want[64];
		int k = nl > 10 ? pbuf[10] : -1;
		size_t wl = make_dtls(want, c->name == 'A' ? 'B' : 'A', k);
		if (wl == nl && memcmp(want, pbuf, nl) == 0)
			r->dtls_delivered++;
		else
			r->dtls_bad++;
		return;
	}
	if (c->client_srtp) {
		int m = (int)nl;
		srtp_err_status_t e = nl >= 8 && pbuf[1] >= 192 && pbuf[1] <= 223
			? srtp_unprotect_rtcp(cli_rx, pbuf, &m)
			: srtp_unprotect(cli_rx, pbuf, &m);
		if (e != srtp_err_status_ok) {
			r->client_unprotect_fail++;
			return;
		}
		nl = (size_t)m;
	}
	check_rtp(c, r, line, pbuf, nl);
}

/* What io.c does for one send on a shimmed fd. */
static int client_send(struct side_cfg *c, int fd, const uint8_t *p,
		       size_t len, const struct sockaddr_in *to)
{
	if (!c->shim)
		return (int)sendto(fd, p, len, 0, (const struct sockaddr *)to,
				   sizeof *to);
	const uint8_t *out = NULL;
	size_t out_len = 0;
	enum shim_verdict v = shim_media_outgoing(stub_fd(fd), p, len,
						  (const struct sockaddr *)to,
						  sizeof *to, &out, &out_len);
	if (v == SHIM_PASS)
		sendto(fd, p, len, 0, (const struct sockaddr *)to, sizeof *to);
	else if (v == SHIM_REPLACE)
		sendto(fd, out, out_len, 0, (const struct sockaddr *)to,
		       sizeof *to);
	shim_media_send_done(stub_fd(fd));
	return (int)v;
}

static void side_run(struct side_cfg *c)
{
	struct side_result r;
	memset(&r, 0, sizeof r);
	r.first_pass_seq = -1;
	side_name = c->name;
	shim_real_init();

	if (c->shim) {
		char ours[MAX_LINES][65], theirs[MAX_LINES][65];
		struct shim_media_desc d[MAX_LINES];
		shim_config.policy = c->policy;
		if (c->altered_ms)
			shim_config.altered_ms = c->altered_ms;
		if (c->never_take)
			shim_media_reader_delay_ms = UINT32_MAX;
		snprintf(shim_config.dir, sizeof shim_config.dir, "%s", c->dir);
		memset(theirs, 0, sizeof theirs);
		for (int l = 0; l < c->nlines; l++) {
			stub_track(c->rtp_fd[l]);
			if (c->rtcp_fd[l] >= 0)
				stub_track(c->rtcp_fd[l]);
			struct sockaddr_in me;
			socklen_t ml = sizeof me;
			getsockname(c->rtp_fd[l], (struct sockaddr *)&me, &ml);
			memset(&d[l], 0, sizeof d[l]);
			d[l].call_id = "call-1@test";
			d[l].call_id_len = strlen(d[l].call_id);
			d[l].m_index = (unsigned)l;
			d[l].local_rtp_port = ntohs(me.sin_port);
			d[l].local_rtcp_port = c->mux ? d[l].local_rtp_port
					: (uint16_t)(d[l].local_rtp_port + 1);
			d[l].local_mux = c->mux;
			if (c->peer_id)
				snprintf(d[l].peer_sip_id, sizeof d[l].peer_sip_id,
					 "%s", c->peer_id);
			/* Our offer first (no peer yet), as sipglue does. */
			int e = shim_media_describe(&d[l], ours[l]);
			if (e < 0 || strlen(ours[l]) != 64) {
				snprintf(r.err, sizeof r.err, "describe: %d", e);
				goto out;
			}
		}
		size_t hl = (size_t)c->nlines * 65;
		if (c->hash_out >= 0 && write(c->hash_out, ours, hl) != (ssize_t)hl)
			snprintf(r.err, sizeof r.err, "hash pipe");
		if (c->hash_in >= 0 && read(c->hash_in, theirs, hl) != (ssize_t)hl)
			memset(theirs, 0, sizeof theirs);
		for (int l = 0; l < c->nlines; l++) {
			if (strnlen(theirs[l], 65) == 64) {
				d[l].have_peer_hash = true;
				memcpy(d[l].peer_hash, theirs[l], 65);
				if (c->spoil_peer_hash)
					d[l].peer_hash[10] =
						d[l].peer_hash[10] == '0' ? '1' : '0';
			}
			d[l].have_peer = true;
			memcpy(&d[l].peer_rtp, &c->peer_rtp[l], sizeof c->peer_rtp[l]);
			memcpy(&d[l].peer_rtcp,
			       c->mux ? &c->peer_rtp[l] : &c->peer_rtcp[l],
			       sizeof c->peer_rtcp[l]);
			d[l].peer_mux = c->mux;
			d[l].peer_signals_zrtp = c->peer_signals_zrtp;
			int e = shim_media_describe(&d[l], ours[l]);
			if (e < 0) {
				snprintf(r.err, sizeof r.err, "describe 2: %d", e);
				goto out;
			}
		}
	}

	if (c->client_srtp) {
		cli_tx = client_ctx(c->name, true);
		cli_rx = client_ctx(c->name == 'A' ? 'B' : 'A', false);
	}
	int dtls_sent = 0;
	uint64_t start = now_ms(), end = start + (uint64_t)c->run_ms;
	uint64_t next_rtp = start, next_rtcp = start + 50;
	uint16_t seq = 1000, rtcp_n = 0;
	bool sent_stun = false;
	while (now_ms() < end) {
		uint64_t t = now_ms();
		uint8_t pkt[SHIM_PKT_MAX];
		if (t >= next_rtp) {
			for (int l = 0; l < c->nlines; l++) {
				size_t len = make_rtp(pkt, c->name, l, seq);
				if (c->client_srtp) {
					int m = (int)len;
					if (srtp_protect(cli_tx, pkt, &m) !=
					    srtp_err_status_ok)
						abort();
					len = (size_t)m;
				}
				int v = client_send(c, c->rtp_fd[l], pkt, len,
						    &c->peer_rtp[l]);
				if (l == 0 && v == SHIM_PASS && c->shim &&
				    r.first_pass_seq < 0)
					r.first_pass_seq = seq;
				if (l == 0 && v == SHIM_DROP && r.first_pass_seq >= 0)
					r.held_after_pass++;
				r.sent_rtp++;
			}
			seq++;
			next_rtp += 20;
		}
		if (t >= next_rtcp) {
			for (int l = 0; l < c->nlines; l++) {
				size_t len = make_rtcp(pkt, c->name, l, rtcp_n);
				if (c->client_srtp) {
					int m = (int)len;
					if (srtp_protect_rtcp(cli_tx, pkt, &m) !=
					    srtp_err_status_ok)
						abort();
					len = (size_t)m;
				}
				client_send(c, c->mux ? c->rtp_fd[l] : c->rtcp_fd[l],
					    pkt, len, c->mux ? &c->peer_rtp[l]
							     : &c->peer_rtcp[l]);
				r.sent_rtcp++;
			}
			rtcp_n++;
			next_rtcp += 100;
		}
		/* DTLS records before and well after the handshake */
		if (c->client_srtp && dtls_sent < 2 &&
		    t >= start + (dtls_sent ? 2000 : 100)) {
			size_t len = make_dtls(pkt, c->name, dtls_sent++);
			client_send(c, c->rtp_fd[0], pkt, len, &c->peer_rtp[0]);
		}
		if (!sent_stun && t >= start + 200) {
			/* STUN out: must leave untouched. */
			client_send(c, c->rtp_fd[0], stun_req, sizeof stun_req,
				    &c->peer_rtp[0]);
			sent_stun = true;
		}
		struct pollfd p[2 * MAX_LINES];
		int line_of[2 * MAX_LINES], np = 0;
		for (int l = 0; l < c->nlines; l++) {
			p[np] = (struct pollfd){ .fd = c->rtp_fd[l], .events = POLLIN };
			line_of[np++] = l;
			if (!c->mux) {
				p[np] = (struct pollfd){ .fd = c->rtcp_fd[l],
							 .events = POLLIN };
				line_of[np++] = l;
			}
		}
		uint64_t wake = next_rtp < next_rtcp ? next_rtp : next_rtcp;
		t = now_ms();
		int to = wake > t ? (int)(wake - t) : 0;
		if (!c->reads) {
			usleep((useconds_t)to * 1000u);
			continue;
		}
		if (poll(p, (nfds_t)np, to) <= 0)
			continue;
		for (int i = 0; i < np; i++)
			if (p[i].revents & POLLIN)
				client_receive(c, &r, line_of[i], p[i].fd);
	}
	if (c->shim) {
		r.have_stats = shim_media_stats_get(0, &r.st) == 0;
		r.have_stats1 = c->nlines > 1 &&
				shim_media_stats_get(1, &r.st1) == 0;
		snprintf(r.sas[0], sizeof r.sas[0], "%s", r.st.sas);
		snprintf(r.sas[1], sizeof r.sas[1], "%s", r.st1.sas);
	}
out:
	r.ran = true;
	r.secure_events = n_secure_events;
	r.pin_alarms = n_pin_alarms;
	snprintf(r.pin_reason, sizeof r.pin_reason, "%s", pin_alarm_reason);
	r.failed_events = n_failed_events;
	r.keylogs = n_keylog;
	r.log_clear = atomic_load(&log_clear_warnings);
	r.log_failed = atomic_load(&log_failed);
	r.log_corrupt = atomic_load(&log_corrupt);
	r.log_other_slot = atomic_load(&log_other_slot);
	r.log_attack = atomic_load(&log_attack);
	r.rs1_match = n_rs1_match;
	r.altered = n_altered;
	r.altered_end = n_altered_end;
	r.altered_at_ms = altered_at_ms;
	r.altered_end_ms = altered_end_ms;
	if (write(c->result_fd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(3);
	_exit(0);
}

/* ---- the wire ------------------------------------------------------------- */

struct relay_cfg {
	bool tamper;        /* A→B: flip a byte in 3 SRTP packets, replay one,
			     * inject cleartext RTP and a STUN request to B */
};

struct wire_stats {
	int zrtp, stun, rtp, other;
	int leaks;          /* datagrams carrying a client's cleartext marker */
	int min_clear_seq;  /* lowest RTP seq seen in clear, -1 none */
	int tampered, replayed, injected;
	int dtls, dtls_intact;      /* DTLS records, and those as sent */
	int client_srtp_bare;       /* a client's own SRTP, not wrapped */
	int corrupted;              /* SRTP packets corrupted (altered) */
	uint64_t corrupt_first_ms;  /* when the first corrupted one left */
};

/* The relay's copies of the clients' own receive keys. */
static srtp_t wire_ctx[2];

static int udp_bound(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	socklen_t l = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A pair of consecutive ports (RTP, RTCP at +1). */
static int udp_pair(int *rtcp_fd, uint16_t *port)
{
	for (int tries = 0; tries < 200; tries++) {
		uint16_t p;
		int fd = udp_bound(&p);
		if (fd < 0)
			return -1;
		int fd2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)(p + 1)) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (p < 65535 && bind(fd2, (struct sockaddr *)&a, sizeof a) == 0) {
			*rtcp_fd = fd2;
			*port = p;
			return fd;
		}
		close(fd);
		close(fd2);
	}
	return -1;
}

static struct sockaddr_in loop_addr(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void classify(struct wire_stats *w, const uint8_t *p, size_t len)
{
	if (zrtp_packet_looks_zrtp(p, len))
		w->zrtp++;
	else if (len >= 20 && (p[0] & 0xc0) == 0 &&
		 p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 && p[7] == 0x42)
		w->stun++;
	else if (len >= 12 && (p[0] >> 6) == 2)
		w->rtp++;
	else if (len >= 1 && p[0] >= 20 && p[0] <= 63) {
		uint8_t want[64];
		bool intact = false;
		w->dtls++;
		for (char sd = 'A'; sd <= 'B' && !intact; sd++)
			intact = make_dtls(want, sd, len > 10 ? p[10] : 0) == len &&
				 memcmp(want, p, len) == 0;
		w->dtls_intact += intact;
	} else
		w->other++;
	for (int k = 0; k < 2 && wire_ctx[k] && len >= 12 && (p[0] >> 6) == 2 &&
	     len <= SHIM_PKT_MAX; k++) {
		uint8_t copy[SHIM_PKT_MAX];
		int m = (int)len;
		memcpy(copy, p, len);
		if ((p[1] >= 192 && p[1] <= 223
		     ? srtp_unprotect_rtcp(wire_ctx[k], copy, &m)
		     : srtp_unprotect(wire_ctx[k], copy, &m)) == srtp_err_status_ok)
			w->client_srtp_bare++;
	}
	if (has_marker(p, len, MARKER)) {
		w->leaks++;
		if (len >= 12 && p[1] < 128) {
			int seq = p[2] << 8 | p[3];
			if (w->min_clear_seq < 0 || seq < w->min_clear_seq)
				w->min_clear_seq = seq;
		}
	}
}

struct scenario {
	const char *name;
	int nlines;
	bool mux;
	bool b_shim, b_peek, b_reads, a_peek;
	bool stun_first;            /* a STUN request waits at the head of B's
				     * RTP queue from the start (B never reads) */
	bool b_never_take;          /* the shim never reads for B */
	enum shim_policy policy;
	bool a_peer_signals;        /* B's SDP carries a=zrtp-hash */
	bool tamper;
	bool corrupt_cache;
	bool spoil_hash;            /* B is told a wrong a=zrtp-hash for A */
	bool twice;                 /* run again on the same cache directory */
	bool client_srtp;           /* both clients run SRTP of their own */
	bool pinned;                /* A's cache pins B's identity */
	uint32_t altered_ms;        /* both sides' ZRTPSHIM_ALTERED_MS */
	int corrupt_ms;             /* A→B: from the 25th SRTP packet on,
				     * corrupt every one for this long */
	int corrupt_every_ms;       /* and forward only one corrupted packet
				     * per leg this often (0: all) */
	int run_ms;
};

struct outcome {
	struct side_result a, b;
	struct wire_stats ab, ba;   /* A→B, B→A */
	char dir[256];
};

static void run_scenario(const struct scenario *sc, struct outcome *o)
{
	int nl = sc->nlines ? sc->nlines : 1;
	memset(o, 0, sizeof *o);
	o->ab.min_clear_seq = o->ba.min_clear_seq = -1;
	snprintf(o->dir, sizeof o->dir, "/tmp/zs-media-test-%d-%s",
		 (int)getpid(), sc->name);
	mkdir(o->dir, 0700);   /* may exist: a second run keeps the cache */
	if (sc->pinned) {
		/* A's cache (slot "cache": B has no shim) knows B's identity
		 * from an earlier ZRTP call. */
		static const uint8_t own[12] = "media-test-A", zb[12] = "peer-B-zid!";
		char p[300];
		struct zrtp_cache *c = zrtp_cache_new(own);
		struct zrtp_cache_entry e;
		memset(&e, 0, sizeof e);
		memcpy(e.zid, zb, 12);
		e.expiry = ZRTP_CACHE_NEVER;
		snprintf(p, sizeof p, "%s/cache", o->dir);
		if (!c || zrtp_cache_put(c, &e) < 0 ||
		    zrtp_cache_pin(c, "sip:bob@media.test", zb) < 0 ||
		    zrtp_cache_save(c, p) < 0) {
			fprintf(stderr, "cannot write the pinned cache\n");
			exit(99);
		}
		zrtp_cache_free(c);
	}
	if (sc->corrupt_cache) {
		char p[300];
		snprintf(p, sizeof p, "%s/cache", o->dir);
		FILE *f = fopen(p, "w");
		if (f) {
			fputs("this is not a cache file\n", f);
			fclose(f);
		}
	}

	/* Per line: A's, B's and the relay's two pairs (RTP, RTCP at +1).
	 * Leg 2l is line l's RTP, leg 2l+1 its RTCP. */
	int nlegs = 2 * nl;
	int afd[2 * MAX_LINES], bfd[2 * MAX_LINES];
	int rafd[2 * MAX_LINES], rbfd[2 * MAX_LINES];
	uint16_t pa[MAX_LINES], pb[MAX_LINES], pra[MAX_LINES], prb[MAX_LINES];
	for (int l = 0; l < nl; l++) {
		afd[2 * l] = udp_pair(&afd[2 * l + 1], &pa[l]);
		bfd[2 * l] = udp_pair(&bfd[2 * l + 1], &pb[l]);
		rafd[2 * l] = udp_pair(&rafd[2 * l + 1], &pra[l]);
		rbfd[2 * l] = udp_pair(&rbfd[2 * l + 1], &prb[l]);
		if (afd[2 * l] < 0 || bfd[2 * l] < 0 || rafd[2 * l] < 0 ||
		    rbfd[2 * l] < 0) {
			fprintf(stderr, "cannot bind sockets\n");
			exit(99);
		}
	}
	int hab[2], hba[2], ra[2], rb[2];
	if (pipe(hab) || pipe(hba) || pipe(ra) || pipe(rb))
		exit(99);

	struct side_cfg ca = {
		.name = 'A', .shim = true, .mux = sc->mux, .peek = sc->a_peek,
		.reads = true, .policy = sc->policy,
		.peer_signals_zrtp = sc->a_peer_signals, .run_ms = sc->run_ms,
		.nlines = nl,
		.hash_out = sc->b_shim ? hab[1] : -1,
		.hash_in = sc->b_shim ? hba[0] : -1, .result_fd = ra[1],
	};
	ca.client_srtp = sc->client_srtp;
	ca.altered_ms = sc->altered_ms;
	ca.peer_id = "sip:bob@media.test";
	struct side_cfg cb = ca;
	cb.name = 'B';
	cb.shim = sc->b_shim;
	cb.peek = sc->b_peek;
	cb.reads = sc->b_reads;
	cb.never_take = sc->b_never_take;
	cb.peer_signals_zrtp = true;
	cb.hash_out = sc->b_shim ? hba[1] : -1;
	cb.hash_in = sc->b_shim ? hab[0] : -1;
	cb.result_fd = rb[1];
	cb.spoil_peer_hash = sc->spoil_hash;
	for (int l = 0; l < nl; l++) {
		ca.rtp_fd[l] = afd[2 * l];
		ca.rtcp_fd[l] = sc->mux ? -1 : afd[2 * l + 1];
		ca.peer_rtp[l] = loop_addr(pra[l]);
		ca.peer_rtcp[l] = loop_addr((uint16_t)(pra[l] + 1));
		cb.rtp_fd[l] = bfd[2 * l];
		cb.rtcp_fd[l] = sc->mux ? -1 : bfd[2 * l + 1];
		cb.peer_rtp[l] = loop_addr(prb[l]);
		cb.peer_rtcp[l] = loop_addr((uint16_t)(prb[l] + 1));
	}
	snprintf(ca.dir, sizeof ca.dir, "%s", o->dir);
	snprintf(cb.dir, sizeof cb.dir, "%s", o->dir);

	if (sc->stun_first) {
		struct sockaddr_in to = loop_addr(pb[0]);
		if (sendto(rbfd[0], stun_req, sizeof stun_req, 0,
			   (struct sockaddr *)&to, sizeof to) < 0)
			exit(99);
	}
	pid_t kid_a = fork();
	if (kid_a == 0)
		side_run(&ca);
	pid_t kid_b = fork();
	if (kid_b == 0)
		side_run(&cb);
	if (sc->client_srtp) {
		if (srtp_init() != srtp_err_status_ok)
			abort();
		wire_ctx[0] = client_ctx('A', false);
		wire_ctx[1] = client_ctx('B', false);
	}

	/* The relay: rafd[leg] is where A sends, rbfd[leg] where B sends. */
	struct sockaddr_in a_addr[2 * MAX_LINES], b_addr[2 * MAX_LINES];
	for (int l = 0; l < nl; l++)
		for (int k = 0; k < 2; k++) {
			a_addr[2 * l + k] = loop_addr((uint16_t)(pa[l] + k));
			b_addr[2 * l + k] = loop_addr((uint16_t)(pb[l] + k));
		}
	uint64_t deadline = now_ms() + (uint64_t)sc->run_ms + 5000;
	int srtp_ab = 0, alive = 2;
	uint64_t corrupt_until = 0, corrupt_fwd[2 * MAX_LINES] = { 0 };
	while (alive > 0 && now_ms() < deadline) {
		struct pollfd p[4 * MAX_LINES];
		for (int i = 0; i < nlegs; i++) {
			p[i] = (struct pollfd){ .fd = rafd[i], .events = POLLIN };
			p[nlegs + i] = (struct pollfd){ .fd = rbfd[i],
							.events = POLLIN };
		}
		if (poll(p, (nfds_t)(2 * nlegs), 20) > 0)
			for (int i = 0; i < 2 * nlegs; i++) {
				if (!(p[i].revents & POLLIN))
					continue;
				uint8_t buf[4096];
				ssize_t n = recv(p[i].fd, buf, sizeof buf, 0);
				if (n <= 0)
					continue;
				bool from_a = i < nlegs;
				int leg = i % nlegs;
				/* A→B leaves from rbfd, B→A from rafd. */
				int out_fd = from_a ? rbfd[leg] : rafd[leg];
				struct sockaddr_in *to = from_a ? &b_addr[leg]
								: &a_addr[leg];
				struct wire_stats *w = from_a ? &o->ab : &o->ba;
				classify(w, buf, (size_t)n);
				bool rtp = n >= 12 && (buf[0] >> 6) == 2 &&
					   buf[1] < 128 && leg == 0;
				/* A transcoder: from A's 25th SRTP packet on,
				 * every SRTP and SRTCP packet to B is altered
				 * for corrupt_ms; optionally only one per
				 * corrupt_every_ms goes on. */
				bool v2 = n >= 12 && (buf[0] >> 6) == 2;
				if (from_a && sc->corrupt_ms && v2) {
					uint64_t t = now_ms();
					if (!corrupt_until && rtp && ++srtp_ab >= 25)
						corrupt_until = t + (uint64_t)sc->corrupt_ms;
					if (corrupt_until && t < corrupt_until) {
						if (sc->corrupt_every_ms &&
						    corrupt_fwd[leg] && t - corrupt_fwd[leg] <
							(uint64_t)sc->corrupt_every_ms)
							continue;
						corrupt_fwd[leg] = t;
						buf[n > 20 ? 20 : n - 1] ^= 0x5a;
						if (!w->corrupted++)
							w->corrupt_first_ms = t;
					}
				}
				if (from_a && sc->tamper && rtp && sc->b_shim &&
				    w->leaks == 0) {
					srtp_ab++;
					if (srtp_ab >= 20 && srtp_ab < 23) {
						buf[20] ^= 0x01;
						w->tampered++;
					}
					if (srtp_ab == 25) {
						sendto(out_fd, buf, (size_t)n, 0,
						       (struct sockaddr *)to, sizeof *to);
						w->replayed++;
					}
					if (srtp_ab == 27) {
						uint8_t inj[SHIM_PKT_MAX];
						uint16_t s0 = (uint16_t)(buf[2] << 8 | buf[3]);
						for (int k = 0; k < 3; k++) {
							size_t l = make_rtp(inj, 'A', 0,
								(uint16_t)(s0 + 1 + k));
							memcpy(inj + 12, INJECT_MARKER,
							       strlen(INJECT_MARKER));
							sendto(out_fd, inj, l, 0,
							       (struct sockaddr *)to, sizeof *to);
							w->injected++;
						}
						sendto(out_fd, stun_req, sizeof stun_req, 0,
						       (struct sockaddr *)to, sizeof *to);
					}
				}
				sendto(out_fd, buf, (size_t)n, 0,
				       (struct sockaddr *)to, sizeof *to);
			}
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == kid_a || w == kid_b)
				alive--;
	}
	for (int k = 0; k < 2; k++)
		if (wire_ctx[k]) {
			srtp_dealloc(wire_ctx[k]);
			wire_ctx[k] = NULL;
		}
	/* the next scenario's sides must be the first to initialise it */
	if (sc->client_srtp)
		srtp_shutdown();
	if (alive > 0) {
		kill(kid_a, SIGKILL);
		kill(kid_b, SIGKILL);
		waitpid(kid_a, NULL, 0);
		waitpid(kid_b, NULL, 0);
	}
	if (read(ra[0], &o->a, sizeof o->a) != (ssize_t)sizeof o->a)
		o->a.ran = false;
	if (read(rb[0], &o->b, sizeof o->b) != (ssize_t)sizeof o->b)
		o->b.ran = false;
	for (int i = 0; i < nlegs; i++) {
		close(afd[i]);
		close(bfd[i]);
		close(rafd[i]);
		close(rbfd[i]);
	}
	int pipes[] = { hab[0], hab[1], hba[0], hba[1], ra[0], ra[1], rb[0],
			rb[1] };
	for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++)
		close(pipes[i]);
}

/* ---- judging -------------------------------------------------------------- */

static int failures, checks;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static void show(const char *who, const struct side_result *r)
{
	const struct shim_media_stats *s = &r->st;
	printf("  %s: %s sas=%s tx srtp=%llu held=%llu clear=%llu dropped=%llu "
	       "| rx srtp=%llu zrtp=%llu auth_fail=%llu replay=%llu early=%llu "
	       "clear=%llu not_reading=%llu | delivered rtp=%d rtcp=%d bad=%d "
	       "stun=%d peeks=%d%s%s\n", who, r->have_stats ? s->phase : "-",
	       r->sas[0], (unsigned long long)s->tx_srtp,
	       (unsigned long long)s->tx_held, (unsigned long long)s->tx_clear,
	       (unsigned long long)s->tx_dropped, (unsigned long long)s->rx_srtp,
	       (unsigned long long)s->rx_zrtp,
	       (unsigned long long)s->rx_auth_fail,
	       (unsigned long long)s->rx_replay, (unsigned long long)s->rx_early,
	       (unsigned long long)s->rx_clear,
	       (unsigned long long)s->rx_not_reading, r->delivered_rtp,
	       r->delivered_rtcp, r->bad_payload, r->stun_delivered, r->peeks,
	       r->err[0] ? " err=" : "", r->err);
}

static void show_wire(const char *dir, const struct wire_stats *w)
{
	printf("  wire %s: zrtp=%d stun=%d rtp-shaped=%d other=%d leaks=%d "
	       "tampered=%d replayed=%d injected=%d\n", dir, w->zrtp, w->stun,
	       w->rtp, w->other, w->leaks, w->tampered, w->replayed, w->injected);
}

static bool dir_has(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found = true;
	if (d)
		closedir(d);
	return found;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Both shimmed: handshake, SRTP both ways, nothing in clear on the wire. */
static void judge_secure(const struct scenario *sc, const struct outcome *o)
{
	const struct side_result *a = &o->a, *b = &o->b;
	CHECK(a->ran && b->ran && !a->err[0] && !b->err[0], "sides ran");
	CHECK(a->have_stats && strcmp(a->st.phase, "secure") == 0,
	      "A secure (%s)", a->have_stats ? a->st.phase : "-");
	CHECK(b->have_stats && strcmp(b->st.phase, "secure") == 0,
	      "B secure (%s)", b->have_stats ? b->st.phase : "-");
	CHECK(a->sas[0][0] && strcmp(a->sas[0], b->sas[0]) == 0,
	      "same SAS %s/%s", a->sas[0], b->sas[0]);
	int nl = sc->nlines ? sc->nlines : 1;
	CHECK(a->secure_events == nl && b->secure_events == nl,
	      "one SECURE event per stream (%d, %d)", a->secure_events,
	      b->secure_events);
	if (nl > 1) {
		/* The second line went Multistream over the same session:
		 * secure, the same SAS, media through it both ways. */
		CHECK(a->have_stats1 && strcmp(a->st1.phase, "secure") == 0 &&
		      b->have_stats1 && strcmp(b->st1.phase, "secure") == 0,
		      "line 1 secure (%s, %s)", a->st1.phase, b->st1.phase);
		CHECK(strcmp(a->sas[1], a->sas[0]) == 0 &&
		      strcmp(b->sas[1], a->sas[0]) == 0, "line 1 SAS %s/%s",
		      a->sas[1], b->sas[1]);
		CHECK(a->delivered_line[1] > 50 && b->delivered_line[1] > 50,
		      "line 1 RTP both ways (%d, %d)", a->delivered_line[1],
		      b->delivered_line[1]);
		CHECK(a->st1.tx_srtp > 50 && b->st1.tx_srtp > 50,
		      "line 1 protected");
	}
	/* Nothing but ZRTP, STUN and SRTP crossed the wire. */
	CHECK(o->ab.leaks == 0 && o->ba.leaks == 0,
	      "no cleartext on the wire (%d, %d)", o->ab.leaks, o->ba.leaks);
	CHECK(o->ab.other == 0 && o->ba.other == 0, "nothing unclassified");
	CHECK(o->ab.zrtp > 0 && o->ba.zrtp > 0, "ZRTP both ways");
	CHECK(o->ab.rtp > 50 && o->ba.rtp > 50, "SRTP both ways");
	CHECK(o->ab.stun >= 1 && o->ba.stun >= 1, "STUN left untouched");
	/* The clients start sending at once: the shim held their packets. */
	CHECK(a->st.tx_held > 0 && b->st.tx_held > 0, "held while negotiating");
	CHECK(a->st.tx_srtp > 50 && b->st.tx_srtp > 50, "protected");
	/* Identical RTP and RTCP out of the other end. */
	if (sc->b_reads) {
		CHECK(b->delivered_rtp > 50, "B got A's RTP (%d)", b->delivered_rtp);
		CHECK(b->delivered_rtcp > 5, "B got A's RTCP (%d)",
		      b->delivered_rtcp);
	} else if (sc->stun_first) {
		/* The handshake found ZRTP behind the STUN request ... */
		CHECK(b->st.rx_zrtp_peeked > 0, "ZRTP copied from behind the "
		      "head for B (%llu)",
		      (unsigned long long)b->st.rx_zrtp_peeked);
		if (sc->b_never_take)   /* ... which stayed there for B */
			CHECK(b->st.rx_not_reading == 0, "the shim took "
			      "nothing from B (%llu)",
			      (unsigned long long)b->st.rx_not_reading);
		else    /* ... and each copy, read later, was not given twice */
			CHECK(b->st.rx_not_reading > 0 &&
			      b->st.rx_zrtp == (unsigned long long)o->ab.zrtp,
			      "the shim read for B; it counted each of the %d "
			      "ZRTP packets A sent once (%llu)", o->ab.zrtp,
			      (unsigned long long)b->st.rx_zrtp);
		CHECK(b->delivered_rtp == 0, "B never reads");
	} else {
		CHECK(b->st.rx_not_reading > 0, "the shim read for B (%llu)",
		      (unsigned long long)b->st.rx_not_reading);
		CHECK(b->delivered_rtp == 0, "B never reads");
	}
	CHECK(a->delivered_rtp > 50, "A got B's RTP (%d)", a->delivered_rtp);
	CHECK(a->delivered_rtcp > 5, "A got B's RTCP (%d)", a->delivered_rtcp);
	CHECK(a->bad_payload == 0 && b->bad_payload == 0,
	      "every delivered packet identical to what was sent (%d, %d)",
	      a->bad_payload, b->bad_payload);
	CHECK(a->st.rx_auth_fail == 0 || sc->tamper, "A: no auth failures");
	if (!sc->corrupt_ms)
		CHECK(a->altered == 0 && b->altered == 0 &&
		      a->st.altered_episodes == 0 && b->st.altered_episodes == 0,
		      "no altered event (%d, %d)", a->altered, b->altered);
	CHECK(a->peek_mismatch == 0 && b->peek_mismatch == 0,
	      "peek and read agree (%d, %d)", a->peek_mismatch, b->peek_mismatch);
	if (sc->a_peek)
		CHECK(a->peeks > 50, "A peeked");
	if (sc->b_peek)
		CHECK(b->peeks > 50, "B peeked");
	/* Two processes, one cache directory: two ZIDs (else the handshake
	 * would have failed with equal ZIDs), two cache files. */
	CHECK(a->log_other_slot + b->log_other_slot == 1,
	      "exactly one side took a second cache slot");
	char p[300];
	snprintf(p, sizeof p, "%s", o->dir);
	CHECK(dir_has(p, "cache-1") && dir_has(p, "cache.lock"),
	      "cache and cache-1 in %s", p);
}

/* B was told a wrong a=zrtp-hash: the handshake must not complete and
 * nothing may flow. */
static void judge_spoiled(const struct outcome *o)
{
	const struct side_result *a = &o->a, *b = &o->b;
	CHECK(a->ran && b->ran, "sides ran");
	CHECK(b->log_attack >= 1, "B reported the mismatch as an attack (%d)",
	      b->log_attack);
	CHECK(b->have_stats && strcmp(b->st.phase, "failed") == 0,
	      "B failed (%s)", b->st.phase);
	CHECK(a->have_stats && strcmp(a->st.phase, "secure") != 0,
	      "A not secure (%s)", a->st.phase);
	CHECK(a->secure_events == 0 && b->secure_events == 0, "no SECURE");
	CHECK(o->ab.leaks == 0 && o->ba.leaks == 0, "nothing in clear");
	CHECK(o->ab.rtp == 0 && o->ba.rtp == 0, "no media at all (%d, %d)",
	      o->ab.rtp, o->ba.rtp);
	CHECK(a->delivered_rtp == 0 && b->delivered_rtp == 0, "none delivered");
}

/* The clients' own SRTP went inside ours and came out as they sent it;
 * their DTLS records passed untouched. */
static void judge_client_srtp(const struct outcome *o)
{
	const struct side_result *a = &o->a, *b = &o->b;
	CHECK(o->ab.client_srtp_bare == 0 && o->ba.client_srtp_bare == 0,
	      "no client SRTP bare on the wire (%d, %d)",
	      o->ab.client_srtp_bare, o->ba.client_srtp_bare);
	CHECK(a->client_unprotect_fail == 0 && b->client_unprotect_fail == 0,
	      "each client got the other's SRTP intact (%d, %d failed)",
	      a->client_unprotect_fail, b->client_unprotect_fail);
	CHECK(o->ab.dtls == 2 && o->ba.dtls == 2 && o->ab.dtls_intact == 2 &&
	      o->ba.dtls_intact == 2, "DTLS records on the wire as sent "
	      "(%d/%d, %d/%d)", o->ab.dtls_intact, o->ab.dtls,
	      o->ba.dtls_intact, o->ba.dtls);
	CHECK(a->dtls_delivered == 2 && b->dtls_delivered == 2 &&
	      a->dtls_bad == 0 && b->dtls_bad == 0,
	      "DTLS records delivered untouched (%d, %d; bad %d, %d)",
	      a->dtls_delivered, b->dtls_delivered, a->dtls_bad, b->dtls_bad);
}

/*
 * A→B altered from the 25th SRTP packet on for corrupt_ms: B raises
 * "altered" once, not before altered_ms after the first corrupted packet
 * and not much later, delivers none of it (judge_secure: every delivered
 * packet is one A sent), and says once that it ended when the corruption
 * stops. A, whose media is intact, raises nothing.
 */
static void judge_altered(const struct scenario *sc, const struct outcome *o)
{
	const struct side_result *a = &o->a, *b = &o->b;
	long dt = (long)(b->altered_at_ms - o->ab.corrupt_first_ms);
	printf("  B: altered %ld ms after the first altered packet (%d "
	       "altered), end %d\n", dt, o->ab.corrupted, b->altered_end);
	CHECK(o->ab.corrupted > 0, "the relay altered A's media (%d)",
	      o->ab.corrupted);
	CHECK(b->altered == 1 && b->st.altered_episodes == 1,
	      "B: one altered event (%d, episodes %llu)", b->altered,
	      (unsigned long long)b->st.altered_episodes);
	CHECK(b->altered == 1 && dt >= (long)sc->altered_ms &&
	      dt <= (long)sc->altered_ms + 250,
	      "B: altered %ld ms after the first altered packet (window %u)",
	      dt, sc->altered_ms);
	CHECK(a->altered == 0, "A: no altered event (%d)", a->altered);
	CHECK(b->altered_end == 1 && b->altered_end_ms >=
	      o->ab.corrupt_first_ms + (uint64_t)sc->corrupt_ms,
	      "B: the end said once, after the corruption stopped (%d)",
	      b->altered_end);
	CHECK(b->have_stats && !b->st.altered &&
	      strcmp(b->st.phase, "secure") == 0,
	      "B: secure and re-armed at the end (%s)",
	      b->have_stats ? b->st.phase : "-");
	CHECK(b->st.rx_auth_fail >= (uint64_t)o->ab.corrupted,
	      "B dropped every altered packet (%llu of %d)",
	      (unsigned long long)b->st.rx_auth_fail, o->ab.corrupted);
	CHECK(b->bad_payload == 0 && o->ab.leaks == 0 && o->ba.leaks == 0,
	      "nothing altered delivered, nothing in clear");
}

/*
 * The same with a B that never reads its socket: the shim's reader takes
 * A's packets for it and authenticates one of each batch it drains
 * (shim/media_reader.c), so the alarm still comes, within the reader's
 * rhythm (a drain every READER_DELAY_MS + READER_SECURE_POLL_MS, 800 ms)
 * on top of altered_ms, once, and ends once the corruption stops.
 */
static void judge_altered_unread(const struct scenario *sc,
				 const struct outcome *o)
{
	const struct side_result *a = &o->a, *b = &o->b;
	long dt = (long)(b->altered_at_ms - o->ab.corrupt_first_ms);
	printf("  B (never reads): altered %ld ms after the first altered "
	       "packet (%d altered), end %d\n", dt, o->ab.corrupted,
	       b->altered_end);
	CHECK(o->ab.corrupted > 0, "the relay altered A's media (%d)",
	      o->ab.corrupted);
	CHECK(b->altered == 1 && dt >= (long)sc->altered_ms &&
	      dt <= (long)sc->altered_ms + 800 + 400,
	      "B: one altered event, %ld ms after the first altered packet "
	      "(%d events; window %u + the reader's 800 ms)", dt, b->altered,
	      sc->altered_ms);
	CHECK(a->altered == 0, "A: no altered event (%d)", a->altered);
	CHECK(b->altered_end == 1, "B: the end said once (%d)",
	      b->altered_end);
	CHECK(b->st.rx_not_reading > 0 && b->st.rx_auth_fail > 0 &&
	      b->st.rx_auth_fail < (uint64_t)o->ab.corrupted,
	      "B: the reader took A's packets (%llu) and authenticated a "
	      "sample of them (%llu failed of %d altered)",
	      (unsigned long long)b->st.rx_not_reading,
	      (unsigned long long)b->st.rx_auth_fail, o->ab.corrupted);
	CHECK(b->delivered_rtp == 0 && o->ab.leaks == 0 && o->ba.leaks == 0,
	      "nothing delivered to B, nothing in clear");
}

static void judge_tamper(const struct outcome *o)
{
	const struct side_result *b = &o->b;
	CHECK(o->ab.tampered == 3 && o->ab.replayed == 1 && o->ab.injected == 3,
	      "relay did its mischief");
	/* 3 tampered + 3 injected cleartext fail authentication. */
	CHECK(b->st.rx_auth_fail >= 6, "B dropped forged and cleartext (%llu)",
	      (unsigned long long)b->st.rx_auth_fail);
	CHECK(b->st.rx_replay >= 1, "B dropped the replay (%llu)",
	      (unsigned long long)b->st.rx_replay);
	CHECK(b->injected_delivered == 0, "no injected cleartext delivered");
	CHECK(b->stun_delivered == 1 + 1, "B got both STUN requests untouched "
	      "(%d, bad %d)", b->stun_delivered, b->stun_bad);
}

static void judge_no_peer(const struct scenario *sc, const struct outcome *o,
			  bool expect_clear)
{
	const struct side_result *a = &o->a, *b = &o->b;
	CHECK(a->ran && b->ran && !a->err[0], "sides ran");
	CHECK(o->ab.zrtp > 5, "A sent Hellos (%d)", o->ab.zrtp);
	CHECK(a->st.tx_held > 0, "A held its RTP while trying");
	if (expect_clear) {
		CHECK(a->have_stats && strcmp(a->st.phase, "clear") == 0,
		      "A fell back to clear (%s)", a->st.phase);
		CHECK(a->log_clear == 1, "one IN CLEAR warning (%d)",
		      a->log_clear);
		CHECK(a->first_pass_seq >= 0 && o->ab.min_clear_seq ==
						       a->first_pass_seq,
		      "nothing in clear before the fallback (wire %d, first "
		      "pass %d)", o->ab.min_clear_seq, a->first_pass_seq);
		CHECK(a->held_after_pass == 0, "no hold after the fallback");
		CHECK(o->ab.leaks > 0, "clear RTP after the fallback");
		CHECK(b->delivered_rtp > 0, "B got A's RTP in clear");
		CHECK(a->delivered_rtp > 0, "A gets B's RTP after the fallback");
		CHECK(a->st.rx_early > 0, "A dropped B's RTP while trying");
	} else {
		CHECK(a->have_stats && strcmp(a->st.phase, "failed") == 0,
		      "A failed (%s)", a->st.phase);
		CHECK(a->log_failed == 1, "reason logged once (%d)",
		      a->log_failed);
		CHECK(a->failed_events == 1, "one FAILED event");
		CHECK(o->ab.leaks == 0, "nothing of A's in clear (%d)",
		      o->ab.leaks);
		CHECK(a->first_pass_seq < 0, "no RTP passed");
		CHECK(b->delivered_rtp == 0 && b->delivered_rtcp == 0,
		      "B got nothing from A");
		CHECK(a->delivered_rtp == 0, "A refused B's cleartext");
		CHECK(a->st.rx_early > 0 && a->st.tx_dropped > 0,
		      "counted (%llu, %llu)", (unsigned long long)a->st.rx_early,
		      (unsigned long long)a->st.tx_dropped);
	}
	(void)sc;
}

int main(void)
{
	static const struct scenario scs[] = {
		{ .name = "rtcp-port+1", .b_shim = true, .b_peek = true,
		  .b_reads = true, .policy = SHIM_POLICY_REQUIRE,
		  .a_peer_signals = true, .tamper = true, .run_ms = 3000 },
		{ .name = "rtcp-mux", .mux = true, .b_shim = true, .a_peek = true,
		  .b_reads = true, .policy = SHIM_POLICY_REQUIRE,
		  .a_peer_signals = true, .corrupt_cache = true, .run_ms = 3000 },
		{ .name = "two-lines-multistream", .nlines = 2, .b_shim = true,
		  .b_reads = true, .policy = SHIM_POLICY_REQUIRE,
		  .a_peer_signals = true, .run_ms = 3000 },
		{ .name = "client-srtp-and-dtls", .b_shim = true,
		  .b_reads = true, .policy = SHIM_POLICY_REQUIRE,
		  .a_peer_signals = true, .client_srtp = true, .run_ms = 3000 },
		{ .name = "altered", .b_shim = true, .b_reads = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .altered_ms = 800, .corrupt_ms = 1800, .run_ms = 3600 },
		/* one altered packet per 700 ms: only the timer is on time */
		{ .name = "altered-sparse", .b_shim = true, .b_reads = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .altered_ms = 1000, .corrupt_ms = 2200,
		  .corrupt_every_ms = 700, .run_ms = 4200 },
		{ .name = "cache-continuity", .b_shim = true, .b_reads = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .twice = true, .run_ms = 1500 },
		{ .name = "hello-hash-mismatch", .b_shim = true, .b_reads = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .spoil_hash = true, .run_ms = 2500 },
		{ .name = "altered-b-never-reads", .b_shim = true,
		  .b_reads = false, .policy = SHIM_POLICY_REQUIRE,
		  .a_peer_signals = true, .altered_ms = 800,
		  .corrupt_ms = 2400, .run_ms = 5000 },
		{ .name = "b-never-reads", .b_shim = true, .b_reads = false,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .run_ms = 4000 },
		{ .name = "b-never-reads-stun-first", .b_shim = true,
		  .b_reads = false, .stun_first = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .run_ms = 3000 },
		{ .name = "b-never-reads-stun-stays", .b_shim = true,
		  .b_reads = false, .stun_first = true, .b_never_take = true,
		  .policy = SHIM_POLICY_REQUIRE, .a_peer_signals = true,
		  .run_ms = 2000 },
		{ .name = "opportunistic-plain-peer", .b_shim = false,
		  .b_reads = true, .policy = SHIM_POLICY_OPPORTUNISTIC,
		  .run_ms = 5500 },
		{ .name = "require-plain-peer", .b_shim = false, .b_reads = true,
		  .policy = SHIM_POLICY_REQUIRE, .run_ms = 5000 },
		{ .name = "opportunistic-peer-signals-zrtp", .b_shim = false,
		  .b_reads = true, .policy = SHIM_POLICY_OPPORTUNISTIC,
		  .a_peer_signals = true, .run_ms = 5000 },
		/* B's identity completed ZRTP before: opportunistic must not
		 * go clear with it, and says so once. */
		{ .name = "opportunistic-pinned-plain-peer", .b_shim = false,
		  .b_reads = true, .policy = SHIM_POLICY_OPPORTUNISTIC,
		  .pinned = true, .run_ms = 5500 },
	};
	const char *only = getenv("MEDIA_TEST_ONLY");
	log_verbose = getenv("MEDIA_TEST_VERBOSE") != NULL;
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++) {
		const struct scenario *sc = &scs[i];
		if (only && strcmp(only, sc->name) != 0)
			continue;
		struct outcome o;
		int before = failures;
		printf("scenario %s\n", sc->name);
		fflush(stdout);
		run_scenario(sc, &o);
		if (sc->twice) {
			/* The first call saved rs1 for each other; the second
			 * (same directory: two cache files, slots in either
			 * order) must find it. */
			CHECK(o.a.rs1_match == 0 && o.b.rs1_match == 0,
			      "first call: no cached secret");
			CHECK(strcmp(o.a.st.phase, "secure") == 0,
			      "first call secure");
			run_scenario(sc, &o);
			CHECK(o.a.rs1_match == 1 && o.b.rs1_match == 1,
			      "second call: the cached secret matched (%d, %d)",
			      o.a.rs1_match, o.b.rs1_match);
		}
		show("A", &o.a);
		show("B", &o.b);
		show_wire("A->B", &o.ab);
		show_wire("B->A", &o.ba);
		if (sc->spoil_hash) {
			judge_spoiled(&o);
		} else if (sc->b_shim) {
			judge_secure(sc, &o);
			if (sc->tamper)
				judge_tamper(&o);
			if (sc->client_srtp)
				judge_client_srtp(&o);
			if (sc->corrupt_ms && sc->b_reads)
				judge_altered(sc, &o);
			else if (sc->corrupt_ms)
				judge_altered_unread(sc, &o);
			if (sc->corrupt_cache) {
				CHECK(dir_has(o.dir, "cache.corrupt-"),
				      "corrupt cache moved aside");
				CHECK(o.a.log_corrupt + o.b.log_corrupt == 1,
				      "corruption logged once");
			}
		} else {
			judge_no_peer(sc, &o, sc->policy ==
						   SHIM_POLICY_OPPORTUNISTIC &&
					       !sc->a_peer_signals && !sc->pinned);
			if (sc->pinned)
				CHECK(o.a.pin_alarms == 1 &&
				      strstr(o.a.pin_reason, "sip:bob@media.test"),
				      "one pin alarm naming B's identity (%d: %s)",
				      o.a.pin_alarms, o.a.pin_reason);
			else
				CHECK(o.a.pin_alarms == 0, "no pin alarm (%d)",
				      o.a.pin_alarms);
		}
		printf("%s %s\n", failures == before ? "ok" : "FAILED", sc->name);
		fflush(stdout);
		rm_dir(o.dir);
	}
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
