/*
 * Parity: the shim and `zrtpshim verify` put each boundary datagram of
 * the demux (tests/unit/test_demux.c's cases) in the same class, each
 * through its own code path.
 *
 * Verify's path: the datagram goes into a capture (after a SIP INVITE
 * whose SDP announces the ports, so its flow is a stream), verify_run
 * reads it, and the class is the per-class count that moved in the
 * report. The shim's path: the real media layer (shim/media*.c, cache.c,
 * timer.c), with the
 * stand-ins below for the rest of the shim, and one stream in the
 * negotiating phase (shim_media_describe with a peer address); the class
 * is read from what the shim DOES, never from demux_classify:
 *   incoming  DROP and rx_zrtp moved        ZRTP (to the engine)
 *             DROP and rx_early moved       RTP or RTCP (held: no keys yet)
 *             PASS, no counter moved        STUN, DTLS, SIP or OTHER
 *   outgoing  DROP and tx_held moved        RTP or RTCP
 *             PASS                          anything else (ZRTP included)
 * So the shim's behaviour tells three groups apart, not seven classes:
 * ZRTP; media (RTP, RTCP: both held, the difference shows only once
 * keys exist); pass (STUN, DTLS, SIP, OTHER: all untouched). Verify's
 * class is checked exactly against the table, the shim's by group.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "common/demux.h"
#include "shim/events.h"
#include "shim/keylog.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/real.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "tests/shim/stubs.h"
#include "tools/verify.h"
#include "zrtp/packet.h"

/* ---- test-only stand-ins for the rest of the shim (as media_test.c) ----- */

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	if (lvl <= SHIM_LOG_ERROR || getenv("PARITY_VERBOSE")) {
		char line[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line, sizeof line, fmt, ap);
		va_end(ap);
		dprintf(2, "  [shim %d] %s\n", (int)lvl, line);
	}
	errno = saved;
}

void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas)
{
	(void)stream_name, (void)ev, (void)sas;
}

void shim_events_emit_altered(const char *stream_name, bool altered,
			      const char *sas, const char *detail)
{
	(void)stream_name, (void)altered, (void)sas, (void)detail;
}

void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	(void)kind, (void)stream_name, (void)label, (void)sas, (void)peer_zid;
	(void)reason;
}

void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys)
{
	(void)stream_name, (void)local_rtp_port, (void)local_rtcp_port;
	(void)peer_rtp, (void)peer_rtcp, (void)keys;
}

/* ---- the boundary datagrams ---------------------------------------------- */

enum group { G_ZRTP, G_MEDIA, G_PASS, G_UNKNOWN };
static const char *const group_names[] = { "zrtp", "media", "pass", "?" };

static enum group group_of(enum demux_class c)
{
	switch (c) {
	case DEMUX_ZRTP: return G_ZRTP;
	case DEMUX_RTP:
	case DEMUX_RTCP: return G_MEDIA;
	default: return G_PASS;
	}
}

enum build { B_V2, B_HELLOACK, B_STUN, B_BYTES, B_TEXT };

struct tcase {
	const char *name;
	int rtcp_port;             /* 1: the stream's non-mux RTCP port */
	enum demux_class want;     /* the class RFC-wise (test_demux.c) */
	enum build b;
	size_t len;
	int arg;                   /* V2: byte 1; HELLOACK: mutation; BYTES: byte0 */
	const char *text;
};

/* HELLOACK mutations */
#define H_VALID 0
#define H_CRC_BIT 1
#define H_0X11 2                  /* first byte 0x11, CRC made for it */
#define H_0X11_STALE 3            /* first byte 0x11, 0x10's CRC */

static const struct tcase cases[] = {
	/* RFC 5761 §4 on the RTP port, RFC 3550 §5.1 */
	{ "pt191", 0, DEMUX_RTP, B_V2, 12, 191, NULL },
	{ "pt192", 0, DEMUX_RTCP, B_V2, 12, 192, NULL },
	{ "pt223", 0, DEMUX_RTCP, B_V2, 12, 223, NULL },
	{ "pt224", 0, DEMUX_RTP, B_V2, 12, 224, NULL },
	{ "rtp12", 0, DEMUX_RTP, B_V2, 12, 0, NULL },
	{ "rtp-cc15", 0, DEMUX_RTP, B_V2, 12, -15, NULL },
	/* ... and on a non-mux RTCP port: all RTCP */
	{ "rtcpport-pt191", 1, DEMUX_RTCP, B_V2, 12, 191, NULL },
	{ "rtcpport-pt192", 1, DEMUX_RTCP, B_V2, 12, 192, NULL },
	{ "rtcpport-pt223", 1, DEMUX_RTCP, B_V2, 12, 223, NULL },
	{ "rtcpport-pt224", 1, DEMUX_RTCP, B_V2, 12, 224, NULL },
	/* RFC 3550 §6.4.2: short version-2 datagrams */
	{ "v2-1byte", 0, DEMUX_OTHER, B_V2, 1, 0, NULL },
	{ "v2-7-pt200", 0, DEMUX_OTHER, B_V2, 7, 200, NULL },
	{ "v2-8-pt200", 0, DEMUX_RTCP, B_V2, 8, 200, NULL },
	{ "v2-11-pt200", 0, DEMUX_RTCP, B_V2, 11, 200, NULL },
	{ "v2-11-pt0", 0, DEMUX_OTHER, B_V2, 11, 0, NULL },
	{ "rtcpport-v2-1byte", 1, DEMUX_OTHER, B_V2, 1, 0, NULL },
	{ "rtcpport-v2-8-pt0", 1, DEMUX_RTCP, B_V2, 8, 0, NULL },
	/* RFC 6189 §5 */
	{ "zrtp-helloack", 0, DEMUX_ZRTP, B_HELLOACK, 0, H_VALID, NULL },
	{ "zrtp-crc-bit", 0, DEMUX_OTHER, B_HELLOACK, 0, H_CRC_BIT, NULL },
	{ "zrtp-0x11", 0, DEMUX_ZRTP, B_HELLOACK, 0, H_0X11, NULL },
	{ "zrtp-0x11-stale-crc", 0, DEMUX_OTHER, B_HELLOACK, 0,
	  H_0X11_STALE, NULL },
	{ "rtcpport-zrtp-helloack", 1, DEMUX_ZRTP, B_HELLOACK, 0,
	  H_VALID, NULL },
	/* RFC 5389 §6 */
	{ "stun", 0, DEMUX_STUN, B_STUN, 20, 0, NULL },
	{ "stun-19", 0, DEMUX_OTHER, B_STUN, 19, 0, NULL },
	{ "stun-bad-cookie", 0, DEMUX_OTHER, B_STUN, 20, 1, NULL },
	/* RFC 7983 §7 */
	{ "byte0-19", 0, DEMUX_OTHER, B_BYTES, 32, 19, NULL },
	{ "dtls-20", 0, DEMUX_DTLS, B_BYTES, 32, 20, NULL },
	{ "dtls-63", 0, DEMUX_DTLS, B_BYTES, 32, 63, NULL },
	{ "byte0-64", 0, DEMUX_OTHER, B_BYTES, 32, 64, NULL },
	/* RFC 3261 §7.1 */
	{ "sip-request", 0, DEMUX_SIP, B_TEXT, 0, 0,
	  "INVITE sip:bob@example.com SIP/2.0\r\n\r\n" },
	{ "sip-response", 0, DEMUX_SIP, B_TEXT, 0, 0, "SIP/2.0 200 OK\r\n\r\n" },
	{ "sip-near-miss", 0, DEMUX_OTHER, B_TEXT, 0, 0,
	  "INVITE sip:bob@example.com SIP/3.0\r\n\r\n" },
};

static size_t build(const struct tcase *t, uint8_t *p, size_t cap)
{
	memset(p, 0, cap);
	switch (t->b) {
	case B_V2:
		p[0] = 0x80;
		if (t->arg < 0)            /* CSRC count past the end */
			p[0] |= (uint8_t)-t->arg;
		else if (t->len > 1)
			p[1] = (uint8_t)t->arg;
		for (size_t i = 4; i < t->len; i++)
			p[i] = (uint8_t)(0x30 + i);
		return t->len;
	case B_HELLOACK: {
		struct zrtp_msg m;
		memset(&m, 0, sizeof m);
		m.type = ZRTP_MSG_HELLOACK;
		uint8_t msg[64];
		int ml = zrtp_msg_encode(msg, sizeof msg, &m);
		int pl = ml > 0 ? zrtp_packet_wrap(p, cap, 7, 0x5eed0001u, msg,
						   (size_t)ml) : -1;
		if (pl <= 0) {
			fprintf(stderr, "demux_parity: cannot build a HelloACK\n");
			exit(2);
		}
		size_t len = (size_t)pl;
		if (t->arg == H_CRC_BIT)
			p[len - 1] ^= 0x01;
		if (t->arg == H_0X11 || t->arg == H_0X11_STALE)
			p[0] = 0x11;
		if (t->arg == H_0X11) {
			uint32_t c = zrtp_crc32c(p, len - ZRTP_CRC_LEN);
			for (int i = 0; i < 4; i++)
				p[len - 4 + i] = (uint8_t)(c >> (8 * i));
		}
		return len;
	}
	case B_STUN: {
		static const uint8_t req[20] = {
			0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
			'p', 'a', 'r', 'i', 't', 'y', 't', 'e', 's', 't', 'x', '1',
		};
		memcpy(p, req, sizeof req);
		if (t->arg)
			p[7] ^= 0x01;
		return t->len;
	}
	case B_BYTES:
		p[0] = (uint8_t)t->arg;
		for (size_t i = 1; i < t->len; i++)
			p[i] = (uint8_t)(i * 7);
		return t->len;
	case B_TEXT:
		memcpy(p, t->text, strlen(t->text));
		return strlen(t->text);
	}
	return 0;
}

/* ---- verify's path -------------------------------------------------------- */

#define V_A_RTP 20000             /* announced; RTCP on 20001 (no mux) */
#define V_B_RTP 30000

static void put_udp(pcap_dumper_t *d, unsigned usec, uint16_t sport,
		    uint16_t dport, const uint8_t *p, size_t len)
{
	uint8_t fr[14 + 20 + 8 + 2048];
	size_t iplen = 20 + 8 + len;
	memset(fr, 0, 14 + 20 + 8);
	fr[12] = 0x08;                       /* Ethernet, IPv4 */
	uint8_t *ip = fr + 14, *u = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen;
	ip[8] = 64, ip[9] = 17;
	ip[12] = 127, ip[15] = 1;
	ip[16] = 127, ip[19] = 2;
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8), ip[11] = (uint8_t)~sum;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + len) >> 8), u[5] = (uint8_t)(8 + len);
	memcpy(u + 8, p, len);
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.ts.tv_sec = 1000;
	h.ts.tv_usec = (suseconds_t)usec;
	h.caplen = h.len = (bpf_u_int32)(14 + iplen);
	pcap_dump((u_char *)d, &h, fr);
}

static int verify_class(const char *dir, const struct tcase *t,
			const uint8_t *p, size_t len, enum demux_class *out)
{
	char path[512], why[512] = "";
	snprintf(path, sizeof path, "%s/%s.pcap", dir, t->name);
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pd ? pcap_dump_open(pd, path) : NULL;
	if (d == NULL) {
		fprintf(stderr, "demux_parity: cannot write %s\n", path);
		return -1;
	}
	char sdp[256], msg[1024];
	snprintf(sdp, sizeof sdp,
		 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
		 "t=0 0\r\nm=audio %u RTP/AVP 0\r\n", V_A_RTP);
	int n = snprintf(msg, sizeof msg,
			 "INVITE sip:b@127.0.0.2 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.2>\r\n"
			 "Call-ID: parity\r\nCSeq: 1 INVITE\r\n"
			 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(sdp), sdp);
	put_udp(d, 0, 5060, 5060, (const uint8_t *)msg, (size_t)n);
	put_udp(d, 1000, (uint16_t)(V_A_RTP + t->rtcp_port),
		(uint16_t)(V_B_RTP + t->rtcp_port), p, len);
	pcap_dump_close(d);
	pcap_close(pd);

	struct verify_options o = { NULL, NULL };
	struct verify_report *r = NULL;
	if (verify_run(path, &o, &r, why, sizeof why) != 0) {
		fprintf(stderr, "demux_parity: verify_run: %s\n", why);
		return -1;
	}
	unlink(path);
	struct verify_counts c;
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < r->n_streams; i++)
		for (int k = 0; k < 2; k++) {
			const struct verify_counts *x = &r->streams[i].dir[k].n;
			c.zrtp += x->zrtp + x->zrtp_bad;
			c.srtp += x->srtp + x->rtp_clear + x->rtp_unknown;
			c.srtcp += x->srtcp + x->rtcp_clear + x->rtcp_unknown;
			c.stun += x->stun;
			c.dtls += x->dtls;
			c.other += x->other;
		}
	/* SIP on a media port: parsed as SIP, or counted bad then "other" */
	uint64_t sip = r->sip_messages - 1 + r->sip_bad;
	if (sip > 0 && c.other > 0)
		c.other--;
	uint64_t total = c.zrtp + c.srtp + c.srtcp + c.stun + c.dtls + c.other +
			 sip + r->udp_other;
	bool invite_seen = r->sip_messages >= 1;
	verify_report_free(r);
	if (!invite_seen || total != 1) {
		fprintf(stderr, "demux_parity: %s: verify counted %llu packets\n",
			t->name, (unsigned long long)total);
		return -1;
	}
	*out = c.zrtp ? DEMUX_ZRTP : c.srtp ? DEMUX_RTP : c.srtcp ? DEMUX_RTCP
	     : c.stun ? DEMUX_STUN : c.dtls ? DEMUX_DTLS : sip ? DEMUX_SIP
	     : DEMUX_OTHER;
	return 0;
}

/* ---- the shim's path ------------------------------------------------------ */

static int rtp_fd = -1, rtcp_fd = -1;
static struct sockaddr_in peer_rtp, peer_rtcp;

static int udp_bound(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof *a;
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) != 0 ||
	    getsockname(fd, (struct sockaddr *)a, &l) != 0) {
		perror("demux_parity: socket");
		exit(2);
	}
	return fd;
}

static int shim_setup(const char *dir)
{
	shim_real_init();
	shim_config.policy = SHIM_POLICY_REQUIRE;
	snprintf(shim_config.dir, sizeof shim_config.dir, "%s", dir);
	struct sockaddr_in a, b;
	rtp_fd = udp_bound(&a);
	rtcp_fd = udp_bound(&b);
	/* the peer's ports: ours too, never read (the engine's Hellos) */
	(void)udp_bound(&peer_rtp);
	(void)udp_bound(&peer_rtcp);
	stub_track(rtp_fd);
	stub_track(rtcp_fd);
	struct shim_media_desc d;
	memset(&d, 0, sizeof d);
	d.call_id = "parity@test";
	d.call_id_len = strlen(d.call_id);
	d.local_rtp_port = ntohs(a.sin_port);
	d.local_rtcp_port = ntohs(b.sin_port);    /* as a=rtcp, no mux */
	d.have_peer = true;
	memcpy(&d.peer_rtp, &peer_rtp, sizeof peer_rtp);
	memcpy(&d.peer_rtcp, &peer_rtcp, sizeof peer_rtcp);
	d.peer_signals_zrtp = true;
	char hash[65];
	int e = shim_media_describe(&d, hash);
	if (e < 0) {
		fprintf(stderr, "demux_parity: shim_media_describe: %d\n", e);
		return -1;
	}
	return 0;
}

static bool stats(struct shim_media_stats *st)
{
	if (shim_media_stats_get(0, st) != 0) {
		fprintf(stderr, "demux_parity: no stream\n");
		return false;
	}
	if (strcmp(st->phase, "negotiating") != 0) {
		fprintf(stderr, "demux_parity: stream is %s, not negotiating\n",
			st->phase);
		return false;
	}
	return true;
}

/* The group the shim's behaviour shows, incoming and outgoing. */
static int shim_groups(const struct tcase *t, const uint8_t *pkt, size_t len,
		       enum group *in, enum group *out)
{
	struct shim_media_stats s0, s1, s2;
	uint8_t buf[SHIM_PKT_MAX];
	int fd = t->rtcp_port ? rtcp_fd : rtp_fd;
	const struct sockaddr_in *from = t->rtcp_port ? &peer_rtcp : &peer_rtp;

	if (!stats(&s0))
		return -1;
	memcpy(buf, pkt, len);
	size_t nl = len;
	enum shim_verdict v = shim_media_incoming(stub_fd(fd), buf, len, &nl,
						  (const struct sockaddr *)from,
						  sizeof *from, false);
	if (!stats(&s1))
		return -1;
	bool zrtp = s1.rx_zrtp != s0.rx_zrtp, early = s1.rx_early != s0.rx_early;
	if (v == SHIM_DROP && zrtp && !early)
		*in = G_ZRTP;
	else if (v == SHIM_DROP && early && !zrtp)
		*in = G_MEDIA;
	else if (v == SHIM_PASS && !zrtp && !early && nl == len &&
		 memcmp(buf, pkt, len) == 0)
		*in = G_PASS;
	else
		*in = G_UNKNOWN;

	const uint8_t *o = NULL;
	size_t ol = 0;
	v = shim_media_outgoing(stub_fd(fd), pkt, len, (const struct sockaddr *)from,
				sizeof *from, &o, &ol);
	shim_media_send_done(stub_fd(fd));
	if (!stats(&s2))
		return -1;
	bool held = s2.tx_held != s1.tx_held;
	if (v == SHIM_DROP && held)
		*out = G_MEDIA;
	else if (v == SHIM_PASS && !held)
		*out = G_PASS;      /* or ZRTP: the client's own passes too */
	else
		*out = G_UNKNOWN;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/zs-demux-parity.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("demux_parity: mkdtemp");
		return 2;
	}
	if (shim_setup(dir) < 0)
		return 2;
	int failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		uint8_t p[256];
		size_t len = build(t, p, sizeof p);
		enum demux_class vc;
		enum group in, out;
		if (verify_class(dir, t, p, len, &vc) < 0 ||
		    shim_groups(t, p, len, &in, &out) < 0) {
			failed++;
			break;
		}
		enum group want = group_of(t->want);
		bool verify_ok = vc == t->want;
		enum group want_out = want == G_MEDIA ? G_MEDIA : G_PASS;
		bool shim_ok = in == want && out == want_out;
		bool parity = in == group_of(vc);
		bool ok = verify_ok && shim_ok && parity;
		printf("%-24s %s: verify %s (%s), shim in %s out %s, want %s\n",
		       t->name, ok ? "ok" : "FAIL", demux_class_name(vc),
		       group_names[group_of(vc)], group_names[in],
		       group_names[out], demux_class_name(t->want));
		if (!ok)
			failed++;
	}
	char cache[600];
	snprintf(cache, sizeof cache, "rm -rf '%s'", dir);
	if (system(cache) != 0)
		fprintf(stderr, "demux_parity: could not remove %s\n", dir);
	printf("demux_parity: %d of %zu failed\n", failed,
	       sizeof cases / sizeof cases[0]);
	/* exit(), not return: the timer thread may still be sleeping */
	exit(failed ? 1 : 0);
}
