/*
 * loadcall: a small SIP/RTP load client for measuring the shim with many
 * concurrent calls in one process (bench/bench_calls.sh,
 * tests/e2e/calls100.sh). It knows nothing of the shim: run it plain or
 * under LD_PRELOAD=libzrtpshim.so.
 *
 *   loadcall caller|callee --sip-port P --peer-sip-port Q --rtp-base B
 *            --calls N [--rtp-max M] [--duration S] [--ptime MS] [--rate CPS]
 *            [--timeout S] [--quiet]
 *
 * One UDP SIP socket per process carries every call (one Call-ID each),
 * as a softphone or a B2BUA would; each call has its own UDP RTP socket on
 * 127.0.0.1, the next even port from B on (the odd port above is left
 * for RTCP, which loadcall does not send; a port another process holds is
 * skipped, up to M, default B + 2N - 1). The caller places N calls at CPS calls
 * per second (INVITE with SDP m=audio PORT RTP/AVP 0, retransmitted Timer
 * A style until a response), the callee answers each at once (100, 180,
 * 200 with SDP, the 200 retransmitted until the ACK). Both send PCMU every
 * ptime ms from the answer on: a tone (caller 400 Hz, callee 500 Hz) with
 * an SSRC derived from the Call-ID and the role. After S seconds the
 * caller sends BYE (X-Last-Seq: its last RTP sequence number), the callee
 * answers 200 (X-Last-Seq: its own), so each side knows how many packets
 * the other sent.
 *
 * A received packet counts only if it is valid RTP (version 2, PT 0, the
 * length of ptime), carries the peer's SSRC for that call and the exact
 * tone samples its timestamp says: a packet of another call, a garbled or
 * an undecrypted one is counted as bad. Per call it prints: packets sent,
 * received, bad; "held": packets the peer sent before the first one that
 * arrived (the ZRTP handshake, under the shim); frac: received over what
 * the peer sent from the first arrived packet to its last; the longest
 * gap in reception (to the end of the call included), and cut=1 when
 * that gap exceeds 1 s or nothing arrived. A summary line follows with the
 * process's CPU time and max RSS (getrusage), and a "steady" line: CPU per
 * packet and RSS while every call is up (2 s after the last call started
 * to the first BYE).
 *
 * SIGTERM or SIGINT ends the run as the timeout does: the report is
 * printed with what was counted so far.
 *
 * Exit status: 0 when every call was set up and ended with BYE/200, 1
 * otherwise (timeout, refused call), 2 on usage or system errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum role { CALLER, CALLEE };
enum state { C_IDLE, C_INVITING, C_ANSWERED, C_MEDIA, C_BYE_SENT, C_ENDED,
	     C_FAILED };

struct call {
	int used;
	enum state st;
	char callid[48];
	char ltag[20], rtag[20];   /* our tag, the peer's tag */
	char branch[40];           /* the INVITE's Via branch */
	int fd;
	uint16_t lport;
	struct sockaddr_in peer;   /* the peer's RTP address (SDP) */
	uint32_t ssrc, peer_ssrc;
	uint32_t seq;              /* next sequence number (extended) */
	int64_t next_send, setup, end, bye_due, linger_until;
	int64_t rtx_at, rtx_iv;
	int rtx_n;
	uint64_t sent, rcvd, bad;
	int have_rx;
	uint32_t first_ext, max_ext;
	int64_t first_rx, last_rx, max_gap;
	long peer_last;            /* the peer's last sequence number, or -1 */
	int acked;
};

static enum role role;
static int sip_port, peer_sip_port, rtp_base, rtp_max, ncalls;
static int duration = 10, ptime = 20, rate = 100, timeout_s = 60, quiet;
static int samples;
static struct call *calls;
static int *htab;
static int hsize;
static int sipfd, ep;
static struct sockaddr_in peer_sip;
static unsigned run_id;
static volatile sig_atomic_t stop_sig;   /* SIGTERM/SIGINT: report and exit */
static int answered;          /* callee: calls taken so far */
static int placed;            /* caller: calls placed so far */
static uint8_t tone_caller[40], tone_callee[40];
static uint64_t tot_pkts;     /* packets sent + valid received */
static int n_media;           /* calls whose media started */
static int n_stopped;         /* calls whose media stopped */
static int64_t last_start;    /* when the last call's media started */
/* steady state: from 2 s after the last call started to the first BYE */
static struct { int taken; double cpu; uint64_t pkts; int64_t t; long rss; }
	snap_a, snap_b;
static int per_caller = 20, per_callee = 16;   /* samples per period */

static int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadcall: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* G.711 mu-law of a 16-bit linear sample */
static uint8_t ulaw(int s)
{
	int sign = 0, exp = 7;
	if (s < 0) {
		s = -s;
		sign = 0x80;
	}
	if (s > 32635)
		s = 32635;
	s += 0x84;
	for (int m = 0x4000; (s & m) == 0 && exp > 0; m >>= 1)
		exp--;
	int mant = (s >> (exp + 3)) & 0x0f;
	return (uint8_t)~(sign | (exp << 4) | mant);
}

static void make_tone(uint8_t *t, int period)
{
	for (int i = 0; i < period; i++)
		t[i] = ulaw((int)lrint(9000.0 * sin(2 * M_PI * i / period)));
}

static uint32_t fnv(const char *s, uint32_t salt)
{
	uint32_t h = 2166136261u ^ salt;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h ? h : 1;
}

static uint32_t ssrc_of(const char *callid, enum role r)
{
	return fnv(callid, r == CALLER ? 0x11111111u : 0x22222222u);
}

/* --- Call-ID table ------------------------------------------------------- */

static int hfind(const char *id, size_t len)
{
	char tmp[48];
	if (len >= sizeof tmp)
		return -1;
	memcpy(tmp, id, len);
	tmp[len] = 0;
	for (uint32_t h = fnv(tmp, 0) % hsize;; h = (h + 1) % hsize) {
		if (htab[h] < 0)
			return -1;
		if (strcmp(calls[htab[h]].callid, tmp) == 0)
			return htab[h];
	}
}

static void hadd(int i)
{
	uint32_t h = fnv(calls[i].callid, 0) % hsize;
	while (htab[h] >= 0)
		h = (h + 1) % hsize;
	htab[h] = i;
}

/* --- SIP ----------------------------------------------------------------- */

static void sip_send(const char *msg, int len)
{
	if (sendto(sipfd, msg, len, 0, (struct sockaddr *)&peer_sip,
		   sizeof peer_sip) < 0 && errno != EAGAIN)
		fprintf(stderr, "loadcall: SIP sendto: %s\n", strerror(errno));
}

static int sdp(char *b, size_t n, struct call *c)
{
	return snprintf(b, n,
		"v=0\r\no=- %u 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\na=ptime:%d\r\na=sendrecv\r\n",
		fnv(c->callid, 7), c->lport, ptime);
}

/* the caller's Via, From, To (with the callee's tag once known) */
static int dialog_hdrs(char *b, size_t n, struct call *c, const char *branch,
		       int to_tag)
{
	const char *ftag = role == CALLER ? c->ltag : c->rtag;
	const char *ttag = role == CALLER ? c->rtag : c->ltag;
	int fport = role == CALLER ? sip_port : peer_sip_port;
	int tport = role == CALLER ? peer_sip_port : sip_port;
	return snprintf(b, n,
		"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
		"From: <sip:caller@127.0.0.1:%d>;tag=%s\r\n"
		"To: <sip:callee@127.0.0.1:%d>%s%s\r\n"
		"Call-ID: %s\r\n",
		role == CALLER ? sip_port : peer_sip_port, branch, fport, ftag,
		tport, to_tag && ttag[0] ? ";tag=" : "", to_tag ? ttag : "",
		c->callid);
}

static void send_request(struct call *c, const char *method, int cseq,
			 int with_sdp, const char *extra)
{
	char body[512] = "", h[768], msg[2048];
	char branch[40];
	int blen = with_sdp ? sdp(body, sizeof body, c) : 0;
	if (strcmp(method, "INVITE") == 0)
		snprintf(branch, sizeof branch, "%s", c->branch);
	else
		snprintf(branch, sizeof branch, "z9hG4bK-%s-%s",
			 method, c->ltag);
	dialog_hdrs(h, sizeof h, c, branch, strcmp(method, "INVITE") != 0);
	int n = snprintf(msg, sizeof msg,
		"%s sip:callee@127.0.0.1:%d SIP/2.0\r\n%sMax-Forwards: 70\r\n"
		"CSeq: %d %s\r\nContact: <sip:caller@127.0.0.1:%d>\r\n%s"
		"%sContent-Length: %d\r\n\r\n%s",
		method, peer_sip_port, h, cseq, method, sip_port,
		extra ? extra : "",
		with_sdp ? "Content-Type: application/sdp\r\n" : "", blen, body);
	sip_send(msg, n);
}

static void send_response(struct call *c, int code, const char *reason,
			  const char *branch, int cseq, const char *method,
			  int with_sdp, const char *extra)
{
	char body[512] = "", h[768], msg[2048];
	int blen = with_sdp ? sdp(body, sizeof body, c) : 0;
	dialog_hdrs(h, sizeof h, c, branch, code > 100);
	int n = snprintf(msg, sizeof msg,
		"SIP/2.0 %d %s\r\n%sCSeq: %d %s\r\n"
		"Contact: <sip:callee@127.0.0.1:%d>\r\n%s%sContent-Length: %d\r\n\r\n%s",
		code, reason, h, cseq, method, sip_port, extra ? extra : "",
		with_sdp ? "Content-Type: application/sdp\r\n" : "", blen, body);
	sip_send(msg, n);
}

/* header value (first occurrence, name case-insensitive) into out */
static int hdr(const char *msg, const char *end, const char *name, char *out,
	       size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = msg; p < end;) {
		const char *eol = memchr(p, '\n', end - p);
		if (!eol)
			eol = end;
		if (eol - p <= 2)
			break;   /* the blank line: end of headers */
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = eol;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			size_t l = (size_t)(e - v);
			if (l >= n)
				l = n - 1;
			memcpy(out, v, l);
			out[l] = 0;
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static void param(const char *v, const char *name, char *out, size_t n)
{
	out[0] = 0;
	const char *p = strstr(v, name);
	if (!p)
		return;
	p += strlen(name);
	size_t l = strcspn(p, ";> \r\n,");
	if (l >= n)
		l = n - 1;
	memcpy(out, p, l);
	out[l] = 0;
}

/* the SDP's audio port (m=audio) and address (c=IN IP4), 0 if none */
static int sdp_peer(const char *msg, const char *end, struct sockaddr_in *a)
{
	const char *body = memmem(msg, end - msg, "\r\n\r\n", 4);
	if (!body)
		return 0;
	char tmp[4096];
	size_t l = (size_t)(end - body);
	if (l >= sizeof tmp)
		l = sizeof tmp - 1;
	memcpy(tmp, body, l);
	tmp[l] = 0;
	char *m = strstr(tmp, "\nm=audio "), *cl = strstr(tmp, "\nc=IN IP4 ");
	if (!m || !cl)
		return 0;
	int port = atoi(m + 9);
	char ip[32];
	size_t il = strcspn(cl + 10, "\r\n /");
	if (il >= sizeof ip || port <= 0 || port > 65535)
		return 0;
	memcpy(ip, cl + 10, il);
	ip[il] = 0;
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &a->sin_addr) == 1;
}

/*
 * The call's RTP socket: the next even port from rtp_base on that is free;
 * one another process holds (an ephemeral port of someone's socket) is
 * skipped, up to rtp_max. Port + 1 is RTCP's in the SDP sense; loadcall
 * never binds nor sends to it.
 */
static int next_port;

static int open_rtp(struct call *c, int idx)
{
	if (!next_port)
		next_port = rtp_base;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s (raise ulimit -n)", strerror(errno));
	for (;; next_port += 2) {
		if (next_port > rtp_max)
			die("no free RTP port left in %d-%d for call %d",
			    rtp_base, rtp_max, idx);
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)next_port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(c->fd, (struct sockaddr *)&a, sizeof a) == 0)
			break;
		if (errno != EADDRINUSE)
			die("bind 127.0.0.1:%d: %s", next_port, strerror(errno));
		fprintf(stderr, "loadcall: port %d taken, skipped\n", next_port);
	}
	c->lport = (uint16_t)next_port;
	next_port += 2;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	return 0;
}

static void start_media(struct call *c, int64_t t)
{
	c->st = C_MEDIA;
	c->setup = t;
	n_media++;
	last_start = t;
	c->next_send = t;
	if (role == CALLER)
		c->bye_due = t + (int64_t)duration * 1000000;
}

static void stop_media(struct call *c, int64_t t)
{
	c->end = t;
	n_stopped++;
	c->linger_until = t + 300000;   /* the peer's packets still in flight */
}

static void place_call(int i, int64_t t)
{
	struct call *c = &calls[i];
	c->used = 1;
	snprintf(c->callid, sizeof c->callid, "lc%08x-%d", run_id, i);
	snprintf(c->ltag, sizeof c->ltag, "a%x", fnv(c->callid, 1));
	snprintf(c->branch, sizeof c->branch, "z9hG4bK-%x-%d", run_id, i);
	c->ssrc = ssrc_of(c->callid, CALLER);
	c->peer_ssrc = ssrc_of(c->callid, CALLEE);
	c->peer_last = -1;
	open_rtp(c, i);
	hadd(i);
	c->st = C_INVITING;
	send_request(c, "INVITE", 1, 1, NULL);
	c->rtx_iv = 500000;
	c->rtx_at = t + c->rtx_iv;
	c->rtx_n = 0;
}

static void on_request(const char *msg, const char *end, int64_t t)
{
	char method[16], callid[64], cseqv[32], via[256], from[256];
	sscanf(msg, "%15s", method);
	if (!hdr(msg, end, "Call-ID", callid, sizeof callid) ||
	    !hdr(msg, end, "CSeq", cseqv, sizeof cseqv) ||
	    !hdr(msg, end, "Via", via, sizeof via) ||
	    !hdr(msg, end, "From", from, sizeof from))
		return;
	char branch[40];
	param(via, "branch=", branch, sizeof branch);
	int cseq = atoi(cseqv);
	int i = hfind(callid, strlen(callid));
	if (strcmp(method, "INVITE") == 0 && role == CALLEE) {
		struct call *c;
		if (i < 0) {
			if (answered >= ncalls) {
				fprintf(stderr, "loadcall: INVITE beyond --calls %d "
					"refused\n", ncalls);
				return;
			}
			i = answered++;
			c = &calls[i];
			c->used = 1;
			snprintf(c->callid, sizeof c->callid, "%s", callid);
			param(from, "tag=", c->rtag, sizeof c->rtag);
			snprintf(c->ltag, sizeof c->ltag, "b%x",
				 fnv(c->callid, 2));
			snprintf(c->branch, sizeof c->branch, "%s", branch);
			c->ssrc = ssrc_of(c->callid, CALLEE);
			c->peer_ssrc = ssrc_of(c->callid, CALLER);
			c->peer_last = -1;
			if (!sdp_peer(msg, end, &c->peer)) {
				fprintf(stderr, "loadcall: INVITE %s without a "
					"usable SDP\n", callid);
				c->st = C_FAILED;
				hadd(i);
				return;
			}
			open_rtp(c, i);
			hadd(i);
			send_response(c, 100, "Trying", branch, cseq, "INVITE", 0, NULL);
			send_response(c, 180, "Ringing", branch, cseq, "INVITE", 0, NULL);
			send_response(c, 200, "OK", branch, cseq, "INVITE", 1, NULL);
			c->st = C_ANSWERED;
			c->rtx_iv = 500000;
			c->rtx_at = t + c->rtx_iv;
			c->rtx_n = 0;
			start_media(c, t);
		} else {
			c = &calls[i];
			if (c->st != C_FAILED && !c->acked)
				send_response(c, 200, "OK", c->branch, cseq,
					      "INVITE", 1, NULL);
		}
		return;
	}
	if (i < 0)
		return;
	struct call *c = &calls[i];
	if (strcmp(method, "ACK") == 0) {
		c->acked = 1;
		c->rtx_at = 0;
		return;
	}
	if (strcmp(method, "BYE") == 0) {
		char last[32], extra[64];
		if (hdr(msg, end, "X-Last-Seq", last, sizeof last))
			c->peer_last = atol(last);
		if (c->st == C_MEDIA || c->st == C_ANSWERED) {
			c->acked = 1;
			c->rtx_at = 0;
			stop_media(c, t);
			c->st = C_ENDED;
		}
		snprintf(extra, sizeof extra, "X-Last-Seq: %ld\r\n",
			 c->sent ? (long)c->seq - 1 : -1L);
		send_response(c, 200, "OK", branch, cseq, "BYE", 0, extra);
	}
}

static void on_response(const char *msg, const char *end, int64_t t)
{
	int code = atoi(msg + 8);
	char callid[64], cseqv[32], to[256], method[16] = "";
	if (!hdr(msg, end, "Call-ID", callid, sizeof callid) ||
	    !hdr(msg, end, "CSeq", cseqv, sizeof cseqv) ||
	    !hdr(msg, end, "To", to, sizeof to))
		return;
	sscanf(cseqv, "%*d %15s", method);
	int i = hfind(callid, strlen(callid));
	if (i < 0 || role != CALLER)
		return;
	struct call *c = &calls[i];
	if (strcmp(method, "INVITE") == 0) {
		if (c->st == C_INVITING && code < 200)
			c->rtx_at = 0;   /* provisional: stop Timer A */
		if (code >= 300 && c->st == C_INVITING) {
			fprintf(stderr, "loadcall: %s refused: %d\n", callid, code);
			c->st = C_FAILED;
			c->rtx_at = 0;
			return;
		}
		if (code >= 200 && code < 300) {
			param(to, "tag=", c->rtag, sizeof c->rtag);
			if (c->st == C_INVITING) {
				if (!sdp_peer(msg, end, &c->peer)) {
					fprintf(stderr, "loadcall: 200 for %s "
						"without a usable SDP\n", callid);
					c->st = C_FAILED;
					c->rtx_at = 0;
					return;
				}
				c->rtx_at = 0;
				start_media(c, t);
			}
			send_request(c, "ACK", 1, 0, NULL);   /* each 200 */
		}
	} else if (strcmp(method, "BYE") == 0 && c->st == C_BYE_SENT) {
		char last[32];
		if (hdr(msg, end, "X-Last-Seq", last, sizeof last))
			c->peer_last = atol(last);
		c->st = C_ENDED;
		c->rtx_at = 0;
	}
}

static void sip_read(int64_t t)
{
	char buf[4096];
	for (int k = 0; k < 64 && !stop_sig; k++) {
		ssize_t n = recv(sipfd, buf, sizeof buf - 1, 0);
		if (n <= 0)
			return;
		buf[n] = 0;
		if (n > 8 && memcmp(buf, "SIP/2.0 ", 8) == 0)
			on_response(buf, buf + n, t);
		else
			on_request(buf, buf + n, t);
	}
}

/* --- RTP ----------------------------------------------------------------- */

static void rtp_send(struct call *c)
{
	uint8_t p[12 + 8 * 160];
	uint32_t ts = c->seq * (uint32_t)samples;
	uint16_t seq = (uint16_t)c->seq;
	p[0] = 0x80;
	p[1] = 0;
	p[2] = seq >> 8;
	p[3] = seq & 0xff;
	p[4] = ts >> 24;
	p[5] = ts >> 16;
	p[6] = ts >> 8;
	p[7] = ts & 0xff;
	p[8] = c->ssrc >> 24;
	p[9] = c->ssrc >> 16;
	p[10] = c->ssrc >> 8;
	p[11] = c->ssrc & 0xff;
	const uint8_t *tone = role == CALLER ? tone_caller : tone_callee;
	int per = role == CALLER ? per_caller : per_callee;
	for (int k = 0; k < samples; k++)
		p[12 + k] = tone[(ts + (uint32_t)k) % (uint32_t)per];
	if (sendto(c->fd, p, 12 + samples, 0, (struct sockaddr *)&c->peer,
		   sizeof c->peer) == 12 + samples) {
		c->sent++;
		tot_pkts++;
	}
	c->seq++;
}

static int rtp_valid(struct call *c, const uint8_t *p, ssize_t n)
{
	if (n != 12 + samples || (p[0] & 0xc0) != 0x80 || (p[0] & 0x3f) ||
	    (p[1] & 0x7f) != 0)
		return 0;
	uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
			(uint32_t)p[10] << 8 | p[11];
	if (ssrc != c->peer_ssrc)
		return 0;
	uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		      (uint32_t)p[6] << 8 | p[7];
	const uint8_t *tone = role == CALLER ? tone_callee : tone_caller;
	uint32_t per = role == CALLER ? per_callee : per_caller;
	for (int k = 0; k < samples; k++)
		if (p[12 + k] != tone[(ts + (uint32_t)k) % per])
			return 0;
	return 1;
}

static void rtp_read(struct call *c, int64_t t)
{
	uint8_t p[2048];
	for (int k = 0; k < 32; k++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(c->fd, p, sizeof p, 0,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (c->st != C_MEDIA && c->st != C_BYE_SENT &&
		    !(c->st == C_ENDED && t < c->linger_until) &&
		    c->st != C_ANSWERED)
			continue;
		if (!rtp_valid(c, p, n)) {
			c->bad++;
			continue;
		}
		uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
		if (!c->have_rx) {
			c->have_rx = 1;
			c->first_ext = c->max_ext = seq;
			c->first_rx = t;
		} else {
			int16_t d = (int16_t)(seq - (uint16_t)c->max_ext);
			if (d > 0)
				c->max_ext += (uint32_t)d;
			if (t - c->last_rx > c->max_gap)
				c->max_gap = t - c->last_rx;
		}
		c->last_rx = t;
		c->rcvd++;
		tot_pkts++;
	}
}

/* --- the loop ------------------------------------------------------------ */

static int all_done(int64_t t)
{
	int n = role == CALLER ? placed : answered;
	if (n < ncalls)
		return 0;
	for (int i = 0; i < ncalls; i++) {
		struct call *c = &calls[i];
		if (c->st == C_FAILED)
			continue;
		if (c->st != C_ENDED || t < c->linger_until)
			return 0;
		if (role == CALLEE && c->rtx_at)
			return 0;
	}
	return 1;
}

/* one pass over the calls; returns when something is next due */
static int64_t tick(int64_t t, int64_t t0)
{
	int64_t due = t + 100000;
#define DUE(x) do { if ((x) && (x) < due) due = (x); } while (0)
	if (role == CALLER) {
		int64_t want = rate > 0 ? (t - t0) * rate / 1000000 + 1 : ncalls;
		while (placed < ncalls && placed < want) {
			place_call(placed, t);
			placed++;
		}
		if (placed < ncalls && rate > 0)
			DUE(t0 + (int64_t)placed * 1000000 / rate);
	}
	int n = role == CALLER ? placed : answered;
	for (int i = 0; i < n; i++) {
		struct call *c = &calls[i];
		if (c->st == C_MEDIA || c->st == C_ANSWERED) {
			for (int k = 0; k < 3 && c->next_send <= t; k++) {
				rtp_send(c);
				c->next_send += (int64_t)ptime * 1000;
			}
			if (c->next_send <= t)
				c->next_send = t + (int64_t)ptime * 1000;
			DUE(c->next_send);
		}
		if (role == CALLER && c->st == C_MEDIA)
			DUE(c->bye_due);
		if (c->st == C_ENDED)
			DUE(c->linger_until);
		if (role == CALLER && c->st == C_MEDIA && t >= c->bye_due) {
			char extra[64];
			snprintf(extra, sizeof extra, "X-Last-Seq: %ld\r\n",
				 c->sent ? (long)c->seq - 1 : -1L);
			stop_media(c, t);
			c->st = C_BYE_SENT;
			send_request(c, "BYE", 2, 0, extra);
			c->rtx_iv = 500000;
			c->rtx_at = t + c->rtx_iv;
			c->rtx_n = 0;
		}
		if (c->rtx_at && t >= c->rtx_at) {
			if (++c->rtx_n > 6) {
				c->rtx_at = 0;
				if (c->st == C_INVITING)
					c->st = C_FAILED;
				else if (c->st == C_BYE_SENT) {
					fprintf(stderr, "loadcall: %s: no 200 "
						"for BYE\n", c->callid);
					c->st = C_FAILED;
				}
				continue;
			}
			if (c->st == C_INVITING)
				send_request(c, "INVITE", 1, 1, NULL);
			else if (c->st == C_BYE_SENT) {
				char extra[64];
				snprintf(extra, sizeof extra, "X-Last-Seq: %ld\r\n",
					 c->sent ? (long)c->seq - 1 : -1L);
				send_request(c, "BYE", 2, 0, extra);
			} else if (role == CALLEE && !c->acked)
				send_response(c, 200, "OK", c->branch, 1,
					      "INVITE", 1, NULL);
			c->rtx_iv = c->rtx_iv * 2 > 4000000 ? 4000000 : c->rtx_iv * 2;
			c->rtx_at = t + c->rtx_iv;
		}
		DUE(c->rtx_at);
	}
	return due;
#undef DUE
}

static double cpu_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long rss_now(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void snapshots(int64_t t)
{
	if (!snap_a.taken && ncalls && n_media == ncalls && n_stopped == 0 &&
	    t >= last_start + 2000000) {
		snap_a.taken = 1;
		snap_a.cpu = cpu_now();
		snap_a.pkts = tot_pkts;
		snap_a.t = t;
		snap_a.rss = rss_now();
	}
	if (snap_a.taken && !snap_b.taken && n_stopped > 0) {
		snap_b.taken = 1;
		snap_b.cpu = cpu_now();
		snap_b.pkts = tot_pkts;
		snap_b.t = t;
		snap_b.rss = rss_now();
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int report(int timed_out)
{
	int setup = 0, ended = 0, cut = 0, failed = 0, n = 0;
	uint64_t sent = 0, rcvd = 0, bad = 0;
	double *fr = calloc((size_t)ncalls + 1, sizeof *fr);
	double *first = calloc((size_t)ncalls + 1, sizeof *first);
	int nf = 0;
	for (int i = 0; i < ncalls; i++) {
		struct call *c = &calls[i];
		if (!c->used)
			continue;
		n++;
		if (c->setup)
			setup++;
		if (c->st == C_ENDED)
			ended++;
		if (c->st == C_FAILED)
			failed++;
		sent += c->sent;
		rcvd += c->rcvd;
		bad += c->bad;
		int64_t end = c->end ? c->end : now_us();
		long held = -1;
		double frac = 0;
		int64_t gap = c->max_gap;
		if (c->have_rx) {
			long last = c->peer_last >= 0 ? c->peer_last : (long)c->max_ext;
			long exp = last - (long)c->first_ext + 1;
			held = (long)c->first_ext;
			frac = exp > 0 ? (double)c->rcvd / (double)exp : 0;
			if (frac > 1)
				frac = 1;
			if (end - c->last_rx > gap)
				gap = end - c->last_rx;
			first[nf++] = (double)(c->first_rx - c->setup) / 1000.0;
		}
		int is_cut = !c->have_rx || gap > 1000000;
		cut += is_cut;
		fr[i] = frac;
		if (!quiet)
			printf("call %d callid=%s state=%d sent=%llu rcvd=%llu "
			       "bad=%llu held=%ld peer_last=%ld frac=%.4f "
			       "first_ms=%.0f maxgap_ms=%.0f cut=%d\n", i,
			       c->callid, (int)c->st,
			       (unsigned long long)c->sent,
			       (unsigned long long)c->rcvd,
			       (unsigned long long)c->bad, held, c->peer_last,
			       frac, c->have_rx ?
			       (double)(c->first_rx - c->setup) / 1000.0 : -1.0,
			       (double)gap / 1000.0, is_cut);
	}
	for (int i = n; i < ncalls; i++)
		fr[i] = 0;
	qsort(fr, (size_t)ncalls, sizeof *fr, cmp_d);
	qsort(first, (size_t)nf, sizeof *first, cmp_d);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("summary role=%s calls=%d placed=%d setup=%d ended=%d failed=%d "
	       "cut=%d sent=%llu rcvd=%llu bad=%llu frac_min=%.4f "
	       "frac_median=%.4f first_ms_median=%.0f first_ms_max=%.0f "
	       "cpu_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kb=%ld timed_out=%d\n",
	       role == CALLER ? "caller" : "callee", ncalls, n, setup, ended,
	       failed, cut, (unsigned long long)sent, (unsigned long long)rcvd,
	       (unsigned long long)bad, ncalls ? fr[0] : 1.0,
	       ncalls ? fr[ncalls / 2] : 1.0, nf ? first[nf / 2] : -1.0,
	       nf ? first[nf - 1] : -1.0, cpu,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
	       timed_out);
	if (snap_b.taken && snap_b.pkts > snap_a.pkts)
		printf("steady role=%s calls=%d secs=%.3f cpu_s=%.4f pkts=%llu "
		       "us_per_pkt=%.3f pps=%.0f rss_kb=%ld rss_end_kb=%ld\n",
		       role == CALLER ? "caller" : "callee", ncalls,
		       (double)(snap_b.t - snap_a.t) / 1e6,
		       snap_b.cpu - snap_a.cpu,
		       (unsigned long long)(snap_b.pkts - snap_a.pkts),
		       (snap_b.cpu - snap_a.cpu) * 1e6 /
		       (double)(snap_b.pkts - snap_a.pkts),
		       (double)(snap_b.pkts - snap_a.pkts) * 1e6 /
		       (double)(snap_b.t - snap_a.t), snap_a.rss, snap_b.rss);
	else
		printf("steady role=%s calls=%d none (calls shorter than their "
		       "setup + 2 s, or a call ended early)\n",
		       role == CALLER ? "caller" : "callee", ncalls);
	fflush(stdout);
	free(fr);
	free(first);
	return (!timed_out && ended == ncalls) ? 0 : 1;
}

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadcall caller|callee --sip-port P "
		"--peer-sip-port Q --rtp-base B --calls N [--rtp-max M] [--duration S] "
		"[--ptime MS] [--rate CPS] [--timeout S] [--quiet]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "caller") == 0)
		role = CALLER;
	else if (strcmp(argv[1], "callee") == 0)
		role = CALLEE;
	else
		usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quiet") == 0) {
			quiet = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		char *e;
		long v = strtol(argv[++i], &e, 10);
		if (*e || v < 0 || v > 1000000)
			die("bad value for %s: %s", a, argv[i]);
		if (strcmp(a, "--sip-port") == 0) sip_port = (int)v;
		else if (strcmp(a, "--peer-sip-port") == 0) peer_sip_port = (int)v;
		else if (strcmp(a, "--rtp-base") == 0) rtp_base = (int)v;
		else if (strcmp(a, "--rtp-max") == 0) rtp_max = (int)v;
		else if (strcmp(a, "--calls") == 0) ncalls = (int)v;
		else if (strcmp(a, "--duration") == 0) duration = (int)v;
		else if (strcmp(a, "--ptime") == 0) ptime = (int)v;
		else if (strcmp(a, "--rate") == 0) rate = (int)v;
		else if (strcmp(a, "--timeout") == 0) timeout_s = (int)v;
		else usage();
	}
	if (!sip_port || !peer_sip_port || sip_port > 65535 ||
	    peer_sip_port > 65535 || (ncalls && !rtp_base) ||
	    rtp_base + 2 * ncalls > 65535 || ptime < 10 || ptime > 160 ||
	    ptime % 10)
		usage();
	if (!rtp_max)
		rtp_max = rtp_base + 2 * ncalls - 1;
	if (rtp_max > 65535 || (ncalls && rtp_max < rtp_base + 2 * (ncalls - 1)))
		die("--rtp-max %d leaves no room for %d calls from %d", rtp_max,
		    ncalls, rtp_base);
	samples = 8 * ptime;
	make_tone(tone_caller, per_caller);
	make_tone(tone_callee, per_callee);
	run_id = (unsigned)getpid() ^ (unsigned)now_us();

	calls = calloc((size_t)ncalls + 1, sizeof *calls);
	hsize = 2 * ncalls + 1;
	htab = malloc((size_t)hsize * sizeof *htab);
	if (!calls || !htab)
		die("out of memory");
	for (int i = 0; i < hsize; i++)
		htab[i] = -1;
	for (int i = 0; i < ncalls; i++)
		calls[i].fd = -1;

	ep = epoll_create1(EPOLL_CLOEXEC);
	sipfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ep < 0 || sipfd < 0)
		die("socket: %s", strerror(errno));
	int big = 4 << 20;
	setsockopt(sipfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(sipfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)sip_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(sipfd, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind SIP 127.0.0.1:%d: %s", sip_port, strerror(errno));
	peer_sip = a;
	peer_sip.sin_port = htons((uint16_t)peer_sip_port);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sipfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));

	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int64_t t0 = now_us(), deadline = t0 + (int64_t)timeout_s * 1000000;
	int64_t next_tick = t0;
	struct epoll_event evs[256];
	int timed_out = 0;
	for (;;) {
		int64_t t = now_us();
		if (t >= next_tick) {
			int64_t due = tick(t, t0);
			snapshots(t);
			/* at most one pass a millisecond; the steady-state snapshot
			 * is looked for at least every 100 ms */
			next_tick = due > t + 1000 ? due : t + 1000;
			if (all_done(t))
				break;
			if (t >= deadline || stop_sig) {
				timed_out = 1;
				if (stop_sig)
					fprintf(stderr, "loadcall: signal %d\n",
						(int)stop_sig);
				else
					fprintf(stderr, "loadcall: timeout after "
						"%d s\n", timeout_s);
				break;
			}
		}
		int wait = (int)((next_tick - t + 999) / 1000);
		int n = epoll_wait(ep, evs, 256, wait < 0 ? 0 : wait);
		t = now_us();
		for (int k = 0; k < n; k++) {
			uint32_t idx = evs[k].data.u32;
			if (stop_sig)
				break;
			if (idx == UINT32_MAX)
				sip_read(t);
			else
				rtp_read(&calls[idx], t);
		}
	}
	return report(timed_out);
}
