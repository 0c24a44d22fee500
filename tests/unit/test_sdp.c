/*
 * The SDP view (RFC 8866, RFC 3605, RFC 5761, RFC 6189 §8.1) and the
 * a=zrtp-hash rewrite.
 *
 * - parse: one case per feature, the refusals documented at the top of
 *   sdp/sdp.c, and every truncation of a valid body (exact-size heap
 *   copies, so ASan sees any read past the end);
 * - rewrite: exact expected outputs for the layouts the shim meets
 *   (insert, replace, compact Content-Length, UDP without it, LF-only,
 *   multipart, no final line end), the refusals, and -ENOSPC at every cap;
 * - corpus: every tests/data/sip/NAME.sip against NAME.expect, then a
 *   round trip through the rewrite judged line by line. The same round
 *   trip runs on the messages written in this file, so it is exercised
 *   even where the corpus is absent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdp/sdp.h"
#include "tests/unit/suites.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HA "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static int parse_str(const char *s, struct sdp_view *v)
{
	return sdp_parse((const uint8_t *)s, strlen(s), v);
}

static bool sl_is(struct sip_slice s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

#define ck_slice(s, lit) \
	ck_assert_msg(sl_is((s), (lit)), "%s is \"%.*s\", want \"%s\"", #s, \
		      (int)(s).len, (s).p ? (s).p : "", (lit))

/* ---------------------------------------------------------------- */
/* Parse                                                             */

static const char sdp_baresip[] =
	"v=0\r\n"
	"o=- 1734 2398 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 10000 RTP/AVP 96 0 8 101\r\n"
	"b=AS:128\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"a=sendrecv\r\n"
	"a=label:1\r\n"
	"a=ssrc:1929304592 cname:3f1b2c\r\n";

/* RFC 8866 §5.14 (formats) and §6.6 (a=rtpmap); RFC 3551 §6 (static
 * payload types); RFC 7587 §7 (opus/48000/2); RFC 4733 §7.1.1. */
START_TEST(parse_rtpmap)
{
	static const char sdp[] =
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		"c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 96 9 0 8 101 foo 200\r\n"
		"a=rtpmap:96 opus/48000/2\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:97\r\n"                  /* no encoding: ignored */
		"a=rtpmap:98 x/0\r\n"              /* zero rate: ignored */
		"a=rtpmap:99 /8000\r\n"            /* no name: ignored */
		"a=rtpmap:128 PCMU/8000\r\n"       /* pt > 127: ignored */
		"a=rtpmap:100 L16/16000/0\r\n"     /* zero channels: ignored */
		"m=video 4002 RTP/AVP 102\r\n"
		"a=rtpmap:102 VP8/90000\r\n";
	struct sdp_view v;
	struct sdp_rtpmap r;
	ck_assert_int_eq(parse_str(sdp, &v), 0);
	const struct sdp_media *m = &v.media[0];
	/* the numeric formats in order; "foo" and 200 are not payload types */
	ck_assert_uint_eq(m->n_fmt, 5);
	ck_assert_uint_eq(m->fmt[0], 96);
	ck_assert_uint_eq(m->fmt[4], 101);
	ck_assert_uint_eq(m->n_rtpmap, 3);
	ck_assert(sdp_media_codec(m, 96, &r));
	ck_slice(r.enc, "opus");
	ck_assert_uint_eq(r.rate, 48000);
	ck_assert_uint_eq(r.channels, 2);
	ck_assert(sdp_media_codec(m, 101, &r));
	ck_slice(r.enc, "telephone-event");
	ck_assert_uint_eq(r.channels, 1);
	/* static types without an rtpmap */
	ck_assert(sdp_media_codec(m, 0, &r));
	ck_slice(r.enc, "PCMU");
	ck_assert_uint_eq(r.rate, 8000);
	ck_assert(sdp_media_codec(m, 8, &r));
	ck_slice(r.enc, "PCMA");
	ck_assert(sdp_media_codec(m, 9, &r));
	ck_slice(r.enc, "G722");
	ck_assert(!sdp_media_codec(m, 97, &r));
	ck_assert(!sdp_media_codec(m, 100, &r));
	ck_assert(sdp_media_codec(&v.media[1], 102, &r));
	ck_slice(r.enc, "VP8");
	ck_assert_uint_eq(r.rate, 90000);
	/* an rtpmap of another m= line does not leak into this one */
	ck_assert(!sdp_media_codec(&v.media[1], 96, &r));
}
END_TEST

START_TEST(parse_basic)
{
	struct sdp_view v;
	ck_assert_int_eq(parse_str(sdp_baresip, &v), 0);
	ck_assert(v.crlf);
	ck_slice(v.session_addr, "192.0.2.10");
	ck_assert_int_eq(v.session_family, 4);
	ck_assert_int_eq(v.session_dir, SDP_SENDRECV);
	ck_assert_uint_eq(v.n_media, 1);
	const struct sdp_media *m = &v.media[0];
	ck_slice(m->type, "audio");
	ck_slice(m->proto, "RTP/AVP");
	ck_assert_uint_eq(m->port, 10000);
	ck_assert_uint_eq(m->n_ports, 1);
	ck_assert(m->protectable);
	ck_slice(m->addr, "192.0.2.10");
	ck_assert_int_eq(m->addr_family, 4);
	ck_assert_uint_eq(m->rtcp_port, 10001);
	ck_assert_uint_eq(m->rtcp_addr.len, 0);
	ck_assert(!m->rtcp_mux);
	ck_assert_int_eq(m->dir, SDP_SENDRECV);
	ck_assert(!m->has_zrtp_hash);
	ck_assert_uint_eq(m->start, strstr(sdp_baresip, "m=audio") - sdp_baresip);
	ck_assert_uint_eq(m->end, strlen(sdp_baresip));
}
END_TEST

/* RFC 8866 §5.7: a media-level c= overrides the session's; IPv6. */
START_TEST(parse_conn_override_ipv6)
{
	static const char s[] =
		"v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\n"
		"c=IN IP6 2001:db8::1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"m=video 4002 RTP/AVP 31\r\nc=IN IP4 198.51.100.7/127\r\n"
		"m=audio 4004 RTP/AVP 0\r\nc=IN IP6 2001:db8::2\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert_uint_eq(v.n_media, 3);
	ck_slice(v.session_addr, "2001:db8::1");
	ck_assert_int_eq(v.session_family, 6);
	ck_slice(v.media[0].addr, "2001:db8::1");
	ck_assert_int_eq(v.media[0].addr_family, 6);
	ck_slice(v.media[1].addr, "198.51.100.7");   /* TTL cut */
	ck_assert_int_eq(v.media[1].addr_family, 4);
	ck_slice(v.media[2].addr, "2001:db8::2");
	ck_assert_int_eq(v.media[2].addr_family, 6);
}
END_TEST

START_TEST(parse_no_conn)
{
	struct sdp_view v;
	ck_assert_int_eq(parse_str("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", &v), 0);
	ck_assert_int_eq(v.media[0].addr_family, 0);
	ck_assert_uint_eq(v.media[0].addr.len, 0);
	ck_assert_int_eq(v.session_family, 0);
}
END_TEST

/* RFC 3605 §2.1 examples, RFC 5761 §5.1.1 rtcp-mux. */
START_TEST(parse_rtcp)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 49170 RTP/AVP 0\r\na=rtcp:53020\r\n"
		"m=audio 49172 RTP/AVP 0\r\na=rtcp:53020 IN IP4 126.16.64.4\r\n"
		"m=audio 49174 RTP/AVP 0\r\na=rtcp:53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD\r\n"
		"m=audio 49176 RTP/AVPF 0\r\na=rtcp-mux\r\na=rtcp:49176\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert_uint_eq(v.n_media, 4);
	ck_assert_uint_eq(v.media[0].rtcp_port, 53020);
	ck_assert_uint_eq(v.media[0].rtcp_addr.len, 0);
	ck_assert(!v.media[0].rtcp_mux);
	ck_assert_uint_eq(v.media[1].rtcp_port, 53020);
	ck_slice(v.media[1].rtcp_addr, "126.16.64.4");
	ck_slice(v.media[2].rtcp_addr, "2001:2345:6789:ABCD:EF01:2345:6789:ABCD");
	ck_assert(v.media[3].rtcp_mux);
	ck_assert_uint_eq(v.media[3].rtcp_port, 49176);
	ck_assert(v.media[3].protectable);
}
END_TEST

START_TEST(parse_directions)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"m=audio 4002 RTP/AVP 0\r\na=recvonly\r\n"
		"m=audio 4004 RTP/AVP 0\r\na=inactive\r\n"
		"m=audio 4006 RTP/AVP 0\r\na=sendrecv\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert_int_eq(v.session_dir, SDP_SENDONLY);
	ck_assert_int_eq(v.media[0].dir, SDP_SENDONLY);
	ck_assert_int_eq(v.media[1].dir, SDP_RECVONLY);
	ck_assert_int_eq(v.media[2].dir, SDP_INACTIVE);
	ck_assert_int_eq(v.media[3].dir, SDP_SENDRECV);
}
END_TEST

START_TEST(parse_protos_and_ports)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 0 RTP/AVP 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n"
		"m=audio 4002 RTP/SAVPF 0\r\n"
		"m=audio 4004 UDP/TLS/RTP/SAVPF 111\r\n"
		"m=video 4006 RTP/AVPF 96\r\n"
		"m=audio 49170/2 RTP/AVP 0\r\n"
		"m=application 5000 UDP/BFCP *\r\n"
		"m=audio 65535 RTP/AVP 0\r\n"
		"m=audio 4008 UDP/TLS/RTP/SAVP 0\r\n"
		"m=audio 4010 TCP/RTP/AVP 0\r\n"
		"m=audio 4012 TCP/DTLS/RTP/SAVPF 111\r\n"
		"m=audio 4014 RTP/AVP/TCP 0\r\n"
		"m=audio 0 RTP/SAVP 0\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert_uint_eq(v.n_media, 13);
	ck_assert_uint_eq(v.media[0].port, 0);
	ck_assert(!v.media[0].protectable);
	ck_assert_int_eq(v.media[0].profile, SDP_PROFILE_AVP);
	ck_assert_uint_eq(v.media[0].rtcp_port, 0);   /* rejected: no RTCP */
	/* SDES-SRTP and DTLS-SRTP: the client's SRTP is wrapped in ours */
	ck_assert(v.media[1].protectable);
	ck_assert_int_eq(v.media[1].profile, SDP_PROFILE_SAVP);
	ck_assert(v.media[2].protectable);
	ck_assert_int_eq(v.media[2].profile, SDP_PROFILE_SAVP);
	ck_assert(v.media[3].protectable);
	ck_assert_int_eq(v.media[3].profile, SDP_PROFILE_DTLS);
	ck_slice(v.media[3].proto, "UDP/TLS/RTP/SAVPF");
	ck_assert(v.media[4].protectable);
	ck_assert_int_eq(v.media[4].profile, SDP_PROFILE_AVP);
	ck_slice(v.media[4].type, "video");
	ck_assert_uint_eq(v.media[5].port, 49170);
	ck_assert_uint_eq(v.media[5].n_ports, 2);
	ck_assert(v.media[5].protectable);
	ck_assert(!v.media[6].protectable);
	ck_assert_int_eq(v.media[6].profile, SDP_PROFILE_OTHER);
	ck_assert_uint_eq(v.media[7].port, 65535);
	ck_assert_uint_eq(v.media[7].rtcp_port, 0);
	ck_assert(v.media[8].protectable);
	ck_assert_int_eq(v.media[8].profile, SDP_PROFILE_DTLS);
	/* RTP over TCP, in every spelling: not protectable */
	for (size_t i = 9; i <= 11; i++) {
		ck_assert(!v.media[i].protectable);
		ck_assert_int_eq(v.media[i].profile, SDP_PROFILE_TCP);
	}
	ck_assert(!v.media[12].protectable);          /* rejected SAVP */
	ck_assert_int_eq(v.media[12].profile, SDP_PROFILE_SAVP);
}
END_TEST

/* a=candidate with transport TCP (RFC 6544) marks its section; UDP ones,
 * lines too short to have a transport and session-level ones do not. */
START_TEST(parse_tcp_candidates)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"a=candidate:1 1 TCP 1 192.0.2.1 9 typ host tcptype active\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"a=candidate:1 1 UDP 2130706431 192.0.2.1 4000 typ host\r\n"
		"m=audio 4002 UDP/TLS/RTP/SAVPF 0\r\n"
		"a=candidate:1 1 UDP 2130706431 192.0.2.1 4002 typ host\r\n"
		"a=candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active\r\n"
		"m=audio 4004 RTP/AVP 0\r\n"
		"a=candidate:1 1\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert(!v.media[0].tcp_candidates);
	ck_assert(v.media[1].tcp_candidates);
	ck_assert(v.media[1].protectable);
	ck_assert(!v.media[2].tcp_candidates);
}
END_TEST

/* RFC 6189 §8.1 */
START_TEST(parse_zrtp_hash)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 192.0.2.1\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " HA "\r\n"
		"a=sendrecv\r\n"
		"m=audio 4002 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1;
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	const struct sdp_media *m = &v.media[0];
	ck_assert(m->has_zrtp_hash);
	ck_slice(m->zrtp_version, "1.10");
	ck_slice(m->zrtp_hash, HA);
	const char *ls = strstr(s, "a=zrtp-hash");
	ck_assert_uint_eq(m->zrtp_line_start, ls - s);
	ck_assert_uint_eq(m->zrtp_line_end, strstr(s, "a=sendrecv") - s);
	m = &v.media[1];
	ck_assert(m->has_zrtp_hash);
	ck_slice(m->zrtp_hash, H1);
	ck_assert_uint_eq(m->zrtp_line_end, strlen(s));
	ck_assert_uint_eq(m->zrtp_line_start, strrchr(s, '\n') + 1 - s);
}
END_TEST

/* Several zrtp-hash lines (one per version): the first is the view's. */
START_TEST(parse_zrtp_hash_two)
{
	static const char s[] =
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"a=zrtp-hash:1.20 " H2 "\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_slice(v.media[0].zrtp_hash, H1);
	ck_slice(v.media[0].zrtp_version, "1.10");
}
END_TEST

/* linphonec 5.1 answers "a=zrtp-hash:" with an empty value when ZRTP is
 * not among its encryptions: no hash, but the rest of the SDP is read. */
START_TEST(parse_zrtp_hash_empty)
{
	static const char s[] =
		"v=0\r\nc=IN IP4 127.0.0.1\r\n"
		"m=audio 8178 RTP/AVP 0 101\r\n"
		"a=rtcp:8179\r\n"
		"a=zrtp-hash:\r\n"
		"a=sendrecv\r\n"
		"m=audio 8278 RTP/AVP 0\r\n"
		"a=zrtp-hash: \r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert_uint_eq(v.n_media, 2);
	ck_assert_uint_eq(v.media[0].port, 8178);
	ck_assert_uint_eq(v.media[0].rtcp_port, 8179);
	ck_assert_int_eq(v.media[0].dir, SDP_SENDRECV);
	ck_assert(!v.media[0].has_zrtp_hash);
	/* an empty line before a real one: the real one is the view's */
	ck_assert(v.media[1].has_zrtp_hash);
	ck_slice(v.media[1].zrtp_hash, H1);
	ck_assert_uint_eq(v.media[1].zrtp_line_start, strstr(s, "a=zrtp-hash:1.10") - s);
}
END_TEST

START_TEST(parse_lf_only)
{
	static const char s[] =
		"v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n"
		"m=audio 7078 RTP/AVP 0\na=rtcp:7079\na=zrtp-hash:1.10 " H1 "\n"
		"m=video 9078 RTP/AVP 96\n";
	struct sdp_view v;
	ck_assert_int_eq(parse_str(s, &v), 0);
	ck_assert(!v.crlf);
	ck_assert_uint_eq(v.n_media, 2);
	ck_slice(v.media[0].zrtp_hash, H1);
	ck_assert_uint_eq(v.media[0].zrtp_line_end,
			  strstr(s, "m=video") - s);
	ck_assert_uint_eq(v.media[0].end, v.media[1].start);
}
END_TEST

START_TEST(parse_tolerated)
{
	struct sdp_view v;
	/* no final line end, trailing blanks, extra spaces, empty lines,
	 * unknown attributes and other known type letters */
	ck_assert_int_eq(parse_str("v=0\r\nm=audio  4000   RTP/AVP 0 \r\n"
				   "\r\na=foo:bar\r\nb=AS:64\r\nk=prompt\r\n"
				   "a=sendonly \r\n\r\n", &v), 0);
	ck_assert_uint_eq(v.media[0].port, 4000);
	ck_assert_int_eq(v.media[0].dir, SDP_SENDONLY);
	ck_assert_int_eq(parse_str("v=0\r\nm=audio 4000 RTP/AVP 0", &v), 0);
	ck_assert_uint_eq(v.n_media, 1);
	/* no line end at all: CRLF is what RFC 8866 asks for */
	ck_assert_int_eq(parse_str("v=0", &v), 0);
	ck_assert(v.crlf);
	ck_assert_uint_eq(v.n_media, 0);
	/* session-level rtcp/zrtp-hash are not media attributes */
	ck_assert_int_eq(parse_str("v=0\r\na=rtcp:9\r\na=zrtp-hash:x y\r\n"
				   "m=audio 4000 RTP/AVP 0\r\n", &v), 0);
	ck_assert_uint_eq(v.media[0].rtcp_port, 4001);
	ck_assert(!v.media[0].has_zrtp_hash);
}
END_TEST

START_TEST(parse_refused)
{
	static const char *const bad[] = {
		"",
		"\r\n",
		"o=- 1 1 IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", /* no v= */
		"v=1\r\n",
		"\r\nv=0\r\n",
		"v=0\r\nthis is not sdp\r\n",               /* no '=' */
		"v=0\r\nx=1\r\n",                           /* unknown type */
		"v=0\r\nA=1\r\n",
		"v=0\r\n=1\r\n",
		"v=0\r\nv=0\r\n",                           /* second description */
		"v=0\r\nm=audio 65536 RTP/AVP 0\r\n",
		"v=0\r\nm=audio 99999999999999999999 RTP/AVP 0\r\n",
		"v=0\r\nm=audio -1 RTP/AVP 0\r\n",
		"v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n",
		"v=0\r\nm=audio 4000/ RTP/AVP 0\r\n",
		"v=0\r\nm=audio 4000\r\n",
		"v=0\r\nm=audio\r\n",
		"v=0\r\nm=\r\n",
		"v=0\r\nc=IN IP4\r\n",
		"v=0\r\nc=IN IP5 1.2.3.4\r\n",
		"v=0\r\nc=ATM NSAP 47.0091\r\n",
		"v=0\r\nc=IN IP4 /127\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:70000\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:abc\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash:1.10\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash:1.10 abc\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash:1.10 "
			"g111111111111111111111111111111111111111111111111111111111111111\r\n",
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash:1.10 " H1 " x\r\n",
		"v=0\r\na=x\rb\r\n",                        /* stray CR */
	};
	struct sdp_view v;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_str(bad[i], &v) == -EINVAL,
			      "case %zu \"%s\" accepted", i, bad[i]);
	ck_assert_int_eq(sdp_parse(NULL, 0, &v), -EINVAL);
}
END_TEST

START_TEST(parse_nul)
{
	static const char s[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=x\0y\r\n";
	struct sdp_view v;
	ck_assert_int_eq(sdp_parse((const uint8_t *)s, sizeof(s) - 1, &v),
			 -EINVAL);
	ck_assert_int_eq(sdp_parse((const uint8_t *)s, sizeof(s), &v), -EINVAL);
}
END_TEST

static size_t many_media(char *buf, size_t cap, int n)
{
	size_t off = (size_t)snprintf(buf, cap, "v=0\r\nc=IN IP4 10.0.0.1\r\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off,
					"m=audio %d RTP/AVP 0\r\na=sendrecv\r\n",
					4000 + 2 * i);
	return off;
}

START_TEST(parse_many_media)
{
	char buf[4096];
	struct sdp_view v;
	size_t n = many_media(buf, sizeof(buf), SDP_MAX_MEDIA);
	ck_assert_int_eq(sdp_parse((const uint8_t *)buf, n, &v), 0);
	ck_assert_uint_eq(v.n_media, SDP_MAX_MEDIA);
	for (size_t i = 0; i < SDP_MAX_MEDIA; i++) {
		ck_assert_uint_eq(v.media[i].port, 4000 + 2 * i);
		ck_assert(memcmp(buf + v.media[i].start, "m=", 2) == 0);
		if (i + 1 < SDP_MAX_MEDIA)
			ck_assert_uint_eq(v.media[i].end, v.media[i + 1].start);
	}
	ck_assert_uint_eq(v.media[SDP_MAX_MEDIA - 1].end, n);
	n = many_media(buf, sizeof(buf), SDP_MAX_MEDIA + 1);
	ck_assert_int_eq(sdp_parse((const uint8_t *)buf, n, &v), -E2BIG);
	n = many_media(buf, sizeof(buf), 60);
	ck_assert_int_eq(sdp_parse((const uint8_t *)buf, n, &v), -E2BIG);
}
END_TEST

static void check_view_inside(const struct sdp_view *v, const uint8_t *b,
			      size_t len)
{
	const char *lo = (const char *)b, *hi = lo + len;
#define IN_BUF(s) ck_assert((s).len == 0 || ((s).p >= lo && (s).p + (s).len <= hi))
	IN_BUF(v->session_addr);
	ck_assert_uint_le(v->n_media, SDP_MAX_MEDIA);
	for (size_t i = 0; i < v->n_media; i++) {
		const struct sdp_media *m = &v->media[i];
		IN_BUF(m->type);
		IN_BUF(m->proto);
		IN_BUF(m->addr);
		IN_BUF(m->rtcp_addr);
		IN_BUF(m->zrtp_version);
		IN_BUF(m->zrtp_hash);
		ck_assert_uint_le(m->start, m->end);
		ck_assert_uint_le(m->end, len);
		if (m->has_zrtp_hash) {
			ck_assert_uint_le(m->start, m->zrtp_line_start);
			ck_assert_uint_lt(m->zrtp_line_start, m->zrtp_line_end);
			ck_assert_uint_le(m->zrtp_line_end, m->end);
		}
	}
#undef IN_BUF
}

/* Every prefix of valid bodies, in a heap block of exactly that size. */
START_TEST(parse_every_truncation)
{
	static const char *const bodies[] = {
		sdp_baresip,
		"v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000/2 RTP/AVP 0\r\n"
		"a=rtcp:53020 IN IP4 126.16.64.4\r\na=rtcp-mux\r\n"
		"a=zrtp-hash:1.10 " HA "\r\na=inactive\r\n"
		"m=video 0 RTP/SAVP 31\r\nc=IN IP4 1.2.3.4/5/6\r\n",
		"v=0\nm=audio 65535 RTP/AVPF 0\na=zrtp-hash:1.10 " H1 "\n",
	};
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		size_t n = strlen(bodies[k]);
		for (size_t len = 0; len <= n; len++) {
			uint8_t *b = malloc(len ? len : 1);
			ck_assert_ptr_nonnull(b);
			memcpy(b, bodies[k], len);
			struct sdp_view v;
			int rc = sdp_parse(b, len, &v);
			ck_assert_msg(rc == 0 || rc == -EINVAL,
				      "body %zu len %zu rc %d", k, len, rc);
			if (rc == 0)
				check_view_inside(&v, b, len);
			free(b);
		}
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* Rewrite                                                           */

/* Replace every "@@" in a template by the length of the body after the
 * first empty line. */
static size_t fill_cl(const char *tmpl, char *out, size_t cap)
{
	const char *blank = strstr(tmpl, "\r\n\r\n");
	const char *blank_lf = strstr(tmpl, "\n\n");
	size_t body_len, n = 0;
	if (blank && (!blank_lf || blank < blank_lf))
		body_len = strlen(blank + 4);
	else
		body_len = blank_lf ? strlen(blank_lf + 2) : 0;
	for (const char *p = tmpl; *p; ) {
		int k;
		if (p[0] == '@' && p[1] == '@') {
			k = snprintf(out + n, cap - n, "%zu", body_len);
			p += 2;
		} else {
			k = snprintf(out + n, cap - n, "%c", *p++);
		}
		ck_assert(k > 0 && (size_t)k < cap - n);
		n += (size_t)k;
	}
	return n;
}

static const char *const hashes_12[SDP_MAX_MEDIA] = { H1, H2, H1, H2 };

/* Rewrite tmpl and compare with the expected template, both with "@@". */
static void rewrite_expect(const char *tmpl, bool stream,
			   const char *const hashes[SDP_MAX_MEDIA],
			   const char *want_tmpl)
{
	static char in[8192], want[8192];
	static uint8_t out[8192];
	size_t n = fill_cl(tmpl, in, sizeof(in));
	size_t wn = fill_cl(want_tmpl, want, sizeof(want));
	int rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, n, stream, "1.10",
				       hashes, out, sizeof(out));
	ck_assert_msg(rc >= 0, "rewrite failed: %d", rc);
	ck_assert_msg((size_t)rc == wn && memcmp(out, want, wn) == 0,
		      "got\n%.*s\n---- want\n%s", rc, (const char *)out, want);
}

#define INVITE_HEAD \
	"INVITE sip:bob@192.0.2.20 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK5e2c8b71;rport\r\n" \
	"Max-Forwards: 70\r\n" \
	"To: <sip:bob@192.0.2.20>\r\n" \
	"From: \"alice\" <sip:alice@192.0.2.10>;tag=3f1b2c7d\r\n" \
	"Call-ID: 9f2d1b5c6a7e4f30\r\n" \
	"CSeq: 21463 INVITE\r\n" \
	"Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n" \
	"User-Agent: baresip v3.10.1 (x86_64/linux)\r\n" \
	"Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\n" \
	"Content-Type: application/sdp\r\n"

static const char invite_baresip[] =
	INVITE_HEAD "Content-Length: @@\r\n\r\n"
	"v=0\r\n"
	"o=- 1734 2398 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 10000 RTP/AVP 96 0 101\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=sendrecv\r\n"
	"m=video 10002 RTP/AVPF 97\r\n"
	"a=rtpmap:97 H264/90000\r\n"
	"a=rtcp-fb:97 nack pli\r\n";

START_TEST(rewrite_insert)
{
	rewrite_expect(invite_baresip, false, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\n"
		"o=- 1734 2398 IN IP4 192.0.2.10\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.10\r\n"
		"t=0 0\r\n"
		"m=audio 10000 RTP/AVP 96 0 101\r\n"
		"a=rtpmap:96 opus/48000/2\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=sendrecv\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"m=video 10002 RTP/AVPF 97\r\n"
		"a=rtpmap:97 H264/90000\r\n"
		"a=rtcp-fb:97 nack pli\r\n"
		"a=zrtp-hash:1.10 " H2 "\r\n");
	/* same on TCP, where the length must match exactly */
	rewrite_expect(invite_baresip, true, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\n"
		"o=- 1734 2398 IN IP4 192.0.2.10\r\n"
		"s=-\r\n"
		"c=IN IP4 192.0.2.10\r\n"
		"t=0 0\r\n"
		"m=audio 10000 RTP/AVP 96 0 101\r\n"
		"a=rtpmap:96 opus/48000/2\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=sendrecv\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"m=video 10002 RTP/AVPF 97\r\n"
		"a=rtpmap:97 H264/90000\r\n"
		"a=rtcp-fb:97 nack pli\r\n"
		"a=zrtp-hash:1.10 " H2 "\r\n");
}
END_TEST

/* hashes[i] == NULL, RTP over TCP, an unknown proto and port 0 are left
 * exactly as they were. */
START_TEST(rewrite_skips)
{
	static const char *const only_second[SDP_MAX_MEDIA] =
		{ NULL, H2, H1, H1, H1 };
	static const char body[] =
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/AVP 0\r\na=sendrecv\r\n"
		"m=audio 10002 RTP/AVP 0\r\na=sendrecv\r\n"
		"m=audio 10004 TCP/RTP/AVP 0\r\na=setup:active\r\n"
		"m=application 10006 UDP/BFCP *\r\n"
		"m=video 0 RTP/AVP 31\r\n";
	char tmpl[4096], want[4096];
	snprintf(tmpl, sizeof(tmpl), "%sContent-Length: @@\r\n\r\n%s",
		 INVITE_HEAD, body);
	snprintf(want, sizeof(want), "%sContent-Length: @@\r\n\r\n%s",
		 INVITE_HEAD,
		 "v=0\r\nc=IN IP4 192.0.2.10\r\n"
		 "m=audio 10000 RTP/AVP 0\r\na=sendrecv\r\n"
		 "m=audio 10002 RTP/AVP 0\r\na=sendrecv\r\na=zrtp-hash:1.10 " H2 "\r\n"
		 "m=audio 10004 TCP/RTP/AVP 0\r\na=setup:active\r\n"
		 "m=application 10006 UDP/BFCP *\r\n"
		 "m=video 0 RTP/AVP 31\r\n");
	rewrite_expect(tmpl, false, only_second, want);
}
END_TEST

/* Every RTP-over-UDP profile gets its a=zrtp-hash alike: SDES-SRTP (its
 * a=crypto left as it is: the client's SRTP travels inside ours) and
 * DTLS-SRTP (its fingerprint and setup untouched). */
START_TEST(rewrite_every_profile)
{
	static const char *const four[SDP_MAX_MEDIA] = { H1, H2, HA, H1 };
	rewrite_expect(
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
		"m=audio 10002 RTP/SAVPF 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:y\r\n"
		"m=audio 10004 UDP/TLS/RTP/SAVP 0\r\n"
		"a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"
		"m=video 10006 UDP/TLS/RTP/SAVPF 96\r\n"
		"a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n",
		false, four,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"m=audio 10002 RTP/SAVPF 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:y\r\n"
		"a=zrtp-hash:1.10 " H2 "\r\n"
		"m=audio 10004 UDP/TLS/RTP/SAVP 0\r\n"
		"a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"
		"a=zrtp-hash:1.10 " HA "\r\n"
		"m=video 10006 UDP/TLS/RTP/SAVPF 96\r\n"
		"a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n");
}
END_TEST

/* An existing zrtp-hash is replaced where it stands; a second one (another
 * version) is dropped, so the section ends with exactly one. */
START_TEST(rewrite_replace)
{
	rewrite_expect(
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " HA "\r\n"
		"a=sendrecv\r\n"
		"a=zrtp-hash:1.20 " HA "\r\n"
		"a=ptime:20\r\n",
		false, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"a=sendrecv\r\n"
		"a=ptime:20\r\n");
}
END_TEST

/* An empty "a=zrtp-hash:" (linphonec 5.1) is dropped like any other
 * zrtp-hash line and replaced by ours: one line, with the hash. */
START_TEST(rewrite_replace_empty)
{
	rewrite_expect(
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/AVP 0\r\n"
		"a=zrtp-hash:\r\n"
		"a=sendrecv\r\n",
		false, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\n"
		"m=audio 10000 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n"
		"a=sendrecv\r\n");
}
END_TEST

/* Compact "l:" keeps its spelling; LF-only message keeps bare LF; the
 * last line has no line end, the empty lines after attributes stay after
 * the inserted line. */
START_TEST(rewrite_compact_lf)
{
	rewrite_expect(
		"INVITE sip:bob@10.0.0.2 SIP/2.0\n"
		"v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n"
		"f: <sip:a@10.0.0.1>;tag=1\nt: <sip:bob@10.0.0.2>\n"
		"i: abc@10.0.0.1\nCSeq: 1 INVITE\nc: application/sdp\n"
		"l:   @@\n\n"
		"v=0\nc=IN IP4 10.0.0.1\nm=audio 7078 RTP/AVP 0\na=rtcp:7079\n\n",
		false, hashes_12,
		"INVITE sip:bob@10.0.0.2 SIP/2.0\n"
		"v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n"
		"f: <sip:a@10.0.0.1>;tag=1\nt: <sip:bob@10.0.0.2>\n"
		"i: abc@10.0.0.1\nCSeq: 1 INVITE\nc: application/sdp\n"
		"l:   @@\n\n"
		"v=0\nc=IN IP4 10.0.0.1\nm=audio 7078 RTP/AVP 0\na=rtcp:7079\n"
		"a=zrtp-hash:1.10 " H1 "\n\n");
	rewrite_expect(
		INVITE_HEAD "content-length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\na=rtcp:7079",
		false, hashes_12,
		INVITE_HEAD "content-length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\na=rtcp:7079"
		"\r\na=zrtp-hash:1.10 " H1);
}
END_TEST

/* A repeated Content-Length (allowed when equal, RFC 3261 §20.14 does not
 * forbid it and the parser takes it) is rewritten everywhere. */
START_TEST(rewrite_duplicate_length)
{
	static const char in[] = INVITE_HEAD "Content-Length: @@\r\nl:@@\r\n\r\n"
		"v=0\r\nm=audio 7078 RTP/AVP 0\r\n";
	static char buf[4096];
	static struct sip_msg m;
	size_t n = fill_cl(in, buf, sizeof(buf));
	if (sip_msg_parse((const uint8_t *)buf, n, false, &m) < 0)
		return;   /* refused by the parser: nothing to rewrite */
	rewrite_expect(in, false, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\nl:@@\r\n\r\n"
		"v=0\r\nm=audio 7078 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n");
}
END_TEST

/* UDP without Content-Length: the body is the rest of the datagram, and
 * stays without one. */
START_TEST(rewrite_udp_no_length)
{
	rewrite_expect(
		INVITE_HEAD "\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\n",
		false, hashes_12,
		INVITE_HEAD "\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n");
}
END_TEST

/* TCP without Content-Length: the parser must refuse it (RFC 3261 §18.3);
 * if it ever accepts one, the rewrite must add the header. */
START_TEST(rewrite_tcp_no_length)
{
	static const char in[] = INVITE_HEAD "\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\n";
	static struct sip_msg m;
	uint8_t out[4096];
	int prc = sip_msg_parse((const uint8_t *)in, strlen(in), true, &m);
	int rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, strlen(in), true,
				       "1.10", hashes_12, out, sizeof(out));
	if (prc < 0) {
		ck_assert_int_eq(rc, -EINVAL);
		return;
	}
	rewrite_expect(in, true, hashes_12,
		INVITE_HEAD "Content-Length: @@\r\n\r\n"
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\n"
		"a=zrtp-hash:1.10 " H1 "\r\n");
}
END_TEST

/* UDP with a Content-Length shorter than the datagram: the body is cut
 * there (RFC 3261 §18.3); the extra bytes are carried along untouched. */
START_TEST(rewrite_udp_trailing)
{
	static const char sdp[] =
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\n";
	char in[4096], want[4096];
	snprintf(in, sizeof(in), INVITE_HEAD "Content-Length: %zu\r\n\r\n%sJUNK",
		 strlen(sdp), sdp);
	snprintf(want, sizeof(want), INVITE_HEAD "Content-Length: %zu\r\n\r\n%s"
		 "a=zrtp-hash:1.10 " H1 "\r\nJUNK",
		 strlen(sdp) + strlen("a=zrtp-hash:1.10 " H1 "\r\n"), sdp);
	uint8_t out[4096];
	int rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, strlen(in), false,
				       "1.10", hashes_12, out, sizeof(out));
	ck_assert_int_eq(rc, (int)strlen(want));
	ck_assert(memcmp(out, want, strlen(want)) == 0);
	/* on TCP the same bytes are a length mismatch */
	rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, strlen(in), true,
				   "1.10", hashes_12, out, sizeof(out));
	ck_assert_int_eq(rc, -EINVAL);
}
END_TEST

static void round_trip(const char *name, const uint8_t *msg, size_t len,
		       bool stream, unsigned seed);

/* Content-Length cutting a CRLF in two: the body ends in a lone CR, which
 * the inserted line must complete rather than leave stray. */
START_TEST(rewrite_cut_crlf)
{
	static const char sdp[] =
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7078 RTP/AVP 0\r\na=sendrecv\r";
	static const char add[] = "\na=zrtp-hash:1.10 " H1;
	char in[4096], want[4096];
	snprintf(in, sizeof(in), INVITE_HEAD "Content-Length: %zu\r\n\r\n%s\n",
		 strlen(sdp), sdp);
	snprintf(want, sizeof(want), INVITE_HEAD "Content-Length: %zu\r\n\r\n%s%s\n",
		 strlen(sdp) + strlen(add), sdp, add);
	uint8_t out[4096];
	int rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, strlen(in), false,
				       "1.10", hashes_12, out, sizeof(out));
	ck_assert_int_eq(rc, (int)strlen(want));
	ck_assert_msg(memcmp(out, want, strlen(want)) == 0, "got\n%.*s", rc, out);
	round_trip("cut CRLF", (const uint8_t *)in, strlen(in), false, 7);
}
END_TEST

#define MP_HEAD \
	"INVITE sip:bob@192.0.2.20 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK77\r\n" \
	"To: <sip:bob@192.0.2.20>\r\nFrom: <sip:alice@192.0.2.10>;tag=9\r\n" \
	"Call-ID: mp1@192.0.2.10\r\nCSeq: 2 INVITE\r\nMax-Forwards: 70\r\n" \
	"Contact: <sip:alice@192.0.2.10>\r\n" \
	"Content-Type: multipart/mixed;boundary=unique-boundary-1\r\n" \
	"Content-Length: @@\r\n\r\n"

#define MP_PART2 \
	"\r\n--unique-boundary-1\r\n" \
	"Content-Type: application/resource-lists+xml\r\n" \
	"Content-Disposition: recipient-list\r\n\r\n" \
	"<?xml version=\"1.0\"?>\r\n<resource-lists/>\r\n" \
	"--unique-boundary-1--\r\n"

START_TEST(rewrite_multipart)
{
	rewrite_expect(
		MP_HEAD
		"--unique-boundary-1\r\n"
		"Content-Type: application/sdp\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv"
		MP_PART2,
		false, hashes_12,
		MP_HEAD
		"--unique-boundary-1\r\n"
		"Content-Type: application/sdp\r\n\r\n"
		"v=0\r\nc=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv"
		"\r\na=zrtp-hash:1.10 " H1
		MP_PART2);
}
END_TEST

START_TEST(rewrite_refused)
{
	static const char *const bad_hash1[SDP_MAX_MEDIA] = {
		"1111111111111111111111111111111111111111111111111111111111111111\r\n" };
	static const char *const bad_hash2[SDP_MAX_MEDIA] = {
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789" };
	static const char *const bad_hash3[SDP_MAX_MEDIA] = { "1111" };
	char in[4096];
	uint8_t out[4096];
	size_t n = fill_cl(invite_baresip, in, sizeof(in));
	const uint8_t *m = (const uint8_t *)in;

	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, "1.10", bad_hash1,
					       out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, "1.10", bad_hash2,
					       out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, "1.10", bad_hash3,
					       out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, "1.10\r\na=x",
					       hashes_12, out, sizeof(out)),
			 -EINVAL);
	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, "", hashes_12,
					       out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sdp_rewrite_zrtp_hash(m, n, false, NULL, hashes_12,
					       out, sizeof(out)), -EINVAL);
	/* a bad hash for a media it would not touch does not matter */
	static const char *const bad_for_tcp[SDP_MAX_MEDIA] = { H1, "x" };
	snprintf(in, sizeof(in), INVITE_HEAD "Content-Length: @@\r\n\r\n"
		 "v=0\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 TCP/RTP/AVP 0\r\n");
	char full[4096];
	n = fill_cl(in, full, sizeof(full));
	ck_assert_int_gt(sdp_rewrite_zrtp_hash((const uint8_t *)full, n, false,
					       "1.10", bad_for_tcp, out,
					       sizeof(out)), 0);

	/* no SDP, SDP that does not parse, Content-Length mismatches */
	static const char *const msgs[] = {
		"BYE sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK2\r\n"
		"To: <sip:bob@192.0.2.20>;tag=2\r\nFrom: <sip:a@192.0.2.10>;tag=1\r\n"
		"Call-ID: x1\r\nCSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
		INVITE_HEAD "Content-Length: 30\r\n\r\nv=0\r\nm=audio 70000 RTP/AVP 0\r\n",
		INVITE_HEAD "Content-Length: 25\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 0\r\n",
		INVITE_HEAD "Content-Length: 500\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"not sip at all\r\n\r\nv=0\r\n",
		"",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		ck_assert_msg(sdp_rewrite_zrtp_hash((const uint8_t *)msgs[i],
						    strlen(msgs[i]), true, "1.10",
						    hashes_12, out, sizeof(out))
			      == -EINVAL, "tcp case %zu accepted", i);
		if (i != 2)
			ck_assert_msg(sdp_rewrite_zrtp_hash(
					(const uint8_t *)msgs[i], strlen(msgs[i]),
					false, "1.10", hashes_12, out,
					sizeof(out)) == -EINVAL,
				      "udp case %zu accepted", i);
	}
}
END_TEST

/* Every cap below the output size: -ENOSPC and nothing past cap touched. */
START_TEST(rewrite_enospc)
{
	char in[4096];
	size_t n = fill_cl(invite_baresip, in, sizeof(in));
	static uint8_t out[4096 + 64];
	int full = sdp_rewrite_zrtp_hash((const uint8_t *)in, n, false, "1.10",
					 hashes_12, out, 4096);
	ck_assert_int_gt(full, (int)n);
	for (size_t cap = 0; cap < (size_t)full; cap++) {
		memset(out, 0xA5, sizeof(out));
		int rc = sdp_rewrite_zrtp_hash((const uint8_t *)in, n, false,
					       "1.10", hashes_12, out, cap);
		ck_assert_int_eq(rc, -ENOSPC);
		size_t k = cap;
		while (k < sizeof(out) && out[k] == 0xA5)
			k++;
		ck_assert_msg(k == sizeof(out), "cap %zu: byte %zu written",
			      cap, k);
	}
	ck_assert_int_eq(sdp_rewrite_zrtp_hash((const uint8_t *)in, n, false,
					       "1.10", hashes_12, out,
					       (size_t)full), full);
}
END_TEST

/* Every prefix of a message, heap-exact: refused or rewritten, never a
 * read outside the buffer. */
START_TEST(rewrite_every_truncation)
{
	char in[4096];
	size_t n = fill_cl(invite_baresip, in, sizeof(in));
	static uint8_t out[8192];
	for (size_t len = 0; len <= n; len++) {
		uint8_t *b = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(b);
		memcpy(b, in, len);
		for (int stream = 0; stream < 2; stream++) {
			int rc = sdp_rewrite_zrtp_hash(b, len, stream, "1.10",
						       hashes_12, out,
						       sizeof(out));
			ck_assert_msg(rc == -EINVAL || (len == n && rc > 0),
				      "len %zu stream %d rc %d", len, stream, rc);
		}
		free(b);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* Round trip and corpus                                             */

struct line {
	const char *p;
	size_t len;
};

static bool is_cl_name(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	return (len == 1 && (p[0] == 'l' || p[0] == 'L')) ||
	       (len == 14 && strncasecmp(p, "Content-Length", 14) == 0);
}

static bool is_zrtp_line(const char *p, size_t len)
{
	return len >= 12 && memcmp(p, "a=zrtp-hash:", 12) == 0;
}

/*
 * The message's lines without line ends, with the zrtp-hash lines of the
 * sections in `drop` removed and Content-Length values cut off. Returns
 * the count; *zrtp_count[i] counts zrtp-hash lines in section i.
 */
static size_t message_lines(const uint8_t *msg, size_t len,
			    const struct sip_msg *m, const struct sdp_view *v,
			    const bool drop[SDP_MAX_MEDIA],
			    size_t zrtp_count[SDP_MAX_MEDIA],
			    struct line *lines, size_t max)
{
	const char *b = (const char *)msg;
	size_t sdp_off = (size_t)(m->sdp.p - b), n = 0, pos = 0;

	memset(zrtp_count, 0, SDP_MAX_MEDIA * sizeof(size_t));
	while (pos < len) {
		const char *nl = memchr(b + pos, '\n', len - pos);
		size_t e = nl ? (size_t)(nl - b) : len, s = pos;
		pos = nl ? e + 1 : len;
		if (e > s && b[e - 1] == '\r')
			e--;
		struct line l = { b + s, e - s };
		if (s < m->header_len) {
			const char *colon = memchr(l.p, ':', l.len);
			if (colon && is_cl_name(l.p, (size_t)(colon - l.p)))
				l.len = (size_t)(colon - l.p) + 1;
		} else if (s >= sdp_off && s < sdp_off + m->sdp.len &&
			   is_zrtp_line(l.p, l.len)) {
			bool skip = false;
			for (size_t i = 0; i < v->n_media; i++) {
				if (s - sdp_off >= v->media[i].start &&
				    s - sdp_off < v->media[i].end) {
					zrtp_count[i]++;
					skip = drop[i];
				}
			}
			if (skip)
				continue;
		}
		ck_assert_uint_lt(n, max);
		lines[n++] = l;
	}
	return n;
}

static bool slice_same(struct sip_slice a, struct sip_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void make_hash(char out[65], unsigned seed, size_t i)
{
	uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u + 1;
	for (int k = 0; k < 64; k++) {
		x = x * 1103515245u + 12345u;
		out[k] = "0123456789abcdef"[(x >> 16) & 15];
	}
	out[64] = '\0';
}

/*
 * Rewrite with distinct hashes and judge the output: the same view, one
 * zrtp-hash per protectable section equal to the one given, a correct
 * Content-Length, and every other line unchanged.
 */
static void round_trip(const char *name, const uint8_t *msg, size_t len,
		       bool stream, unsigned seed)
{
	static struct sip_msg m1, m2;
	static struct sdp_view v1, v2;
	static uint8_t out[SIP_MAX_MSG + 8192];
	static struct line l1[4096], l2[4096];
	char hbuf[SDP_MAX_MEDIA][65];
	const char *hashes[SDP_MAX_MEDIA] = { NULL };
	bool drop[SDP_MAX_MEDIA] = { false };
	size_t z1[SDP_MAX_MEDIA], z2[SDP_MAX_MEDIA];

	ck_assert_msg(sip_msg_parse(msg, len, stream, &m1) == 0,
		      "%s: does not parse", name);
	ck_assert_msg(sdp_parse((const uint8_t *)m1.sdp.p, m1.sdp.len, &v1) == 0,
		      "%s: SDP does not parse", name);
	for (size_t i = 0; i < SDP_MAX_MEDIA; i++) {
		make_hash(hbuf[i], seed, i);
		hashes[i] = hbuf[i];
		drop[i] = i < v1.n_media && v1.media[i].protectable;
	}
	int rc = sdp_rewrite_zrtp_hash(msg, len, stream, "1.10", hashes, out,
				       sizeof(out));
	ck_assert_msg(rc > 0, "%s: rewrite failed: %d", name, rc);
	ck_assert_msg(sip_msg_parse(out, (size_t)rc, stream, &m2) == 0,
		      "%s: output does not parse:\n%.*s", name, rc, out);
	ck_assert_msg(sdp_parse((const uint8_t *)m2.sdp.p, m2.sdp.len, &v2) == 0,
		      "%s: output SDP does not parse", name);

	/* the message */
	ck_assert_int_eq(m2.kind, m1.kind);
	ck_assert_int_eq(m2.status, m1.status);
	ck_assert(slice_same(m2.method, m1.method));
	ck_assert(slice_same(m2.call_id, m1.call_id));
	ck_assert_uint_eq(m2.cseq, m1.cseq);
	ck_assert_int_eq(m2.has_content_length, m1.has_content_length);
	if (m2.has_content_length)
		ck_assert_msg(m2.content_length == m2.body.len,
			      "%s: Content-Length %zu, body %zu", name,
			      m2.content_length, m2.body.len);
	/* the headers change only in Content-Length's digits */
	ck_assert_uint_eq((size_t)rc - m2.header_len - m2.body.len,
			  len - m1.header_len - m1.body.len);

	/* the view */
	ck_assert_uint_eq(v2.n_media, v1.n_media);
	ck_assert_int_eq(v2.crlf, v1.crlf);
	ck_assert(slice_same(v2.session_addr, v1.session_addr));
	ck_assert_int_eq(v2.session_dir, v1.session_dir);
	size_t added = 0;
	for (size_t i = 0; i < v1.n_media; i++) {
		const struct sdp_media *a = &v1.media[i], *b = &v2.media[i];
		ck_assert(slice_same(a->type, b->type));
		ck_assert(slice_same(a->proto, b->proto));
		ck_assert(slice_same(a->addr, b->addr));
		ck_assert(slice_same(a->rtcp_addr, b->rtcp_addr));
		ck_assert_uint_eq(a->port, b->port);
		ck_assert_uint_eq(a->n_ports, b->n_ports);
		ck_assert_int_eq(a->addr_family, b->addr_family);
		ck_assert_uint_eq(a->rtcp_port, b->rtcp_port);
		ck_assert_int_eq(a->rtcp_mux, b->rtcp_mux);
		ck_assert_int_eq(a->dir, b->dir);
		ck_assert_int_eq(a->protectable, b->protectable);
		if (a->protectable) {
			ck_assert_msg(b->has_zrtp_hash &&
				      sl_is(b->zrtp_hash, hashes[i]) &&
				      sl_is(b->zrtp_version, "1.10"),
				      "%s: media %zu lacks its zrtp-hash", name, i);
			added++;
		} else {
			ck_assert_int_eq(a->has_zrtp_hash, b->has_zrtp_hash);
			ck_assert(slice_same(a->zrtp_hash, b->zrtp_hash));
		}
	}

	/* every other line */
	size_t n1 = message_lines(msg, len, &m1, &v1, drop, z1, l1, 4096);
	size_t n2 = message_lines(out, (size_t)rc, &m2, &v2, drop, z2, l2, 4096);
	for (size_t i = 0; i < v1.n_media; i++)
		if (drop[i])
			ck_assert_msg(z2[i] == 1, "%s: media %zu has %zu zrtp-hash",
				      name, i, z2[i]);
	ck_assert_msg(n1 == n2, "%s: %zu lines became %zu", name, n1, n2);
	for (size_t i = 0; i < n1; i++)
		ck_assert_msg(l1[i].len == l2[i].len &&
			      memcmp(l1[i].p, l2[i].p, l1[i].len) == 0,
			      "%s: line %zu \"%.*s\" became \"%.*s\"", name, i,
			      (int)l1[i].len, l1[i].p, (int)l2[i].len, l2[i].p);
	(void)added;
}

static const char linphone_200ok[] =
	"SIP/2.0 200 Ok\r\n"
	"Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK.Yq8kHl2sP;rport=5060\r\n"
	"From: <sip:alice@192.168.1.20>;tag=Ma3~vGvKk\r\n"
	"To: <sip:bob@192.168.1.30>;tag=2Pz0aC4Ql\r\n"
	"Call-ID: eJ6pD8xkQr\r\n"
	"CSeq: 20 INVITE\r\n"
	"User-Agent: Linphone Desktop/5.2.0 (Ubuntu 22.04) LinphoneCore/5.3.0\r\n"
	"Supported: replaces, outbound, gruu, path\r\n"
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, UPDATE\r\n"
	"Contact: <sip:bob@192.168.1.30;transport=udp>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: @@\r\n"
	"\r\n"
	"v=0\r\n"
	"o=bob 1422 3360 IN IP4 192.168.1.30\r\n"
	"s=Talk\r\n"
	"c=IN IP4 192.168.1.30\r\n"
	"t=0 0\r\n"
	"a=ice-pwd:7c2d1b0e6a\r\n"
	"a=ice-ufrag:a1b2c3d4\r\n"
	"a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
	"a=record:off\r\n"
	"m=audio 7078 RTP/AVP 96 0 8 101\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=fmtp:96 useinbandfec=1\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=rtcp:7079\r\n"
	"a=zrtp-hash:1.10 9b0d2c1e7f30a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1\r\n"
	"a=candidate:1 1 UDP 2130706303 192.168.1.30 7078 typ host\r\n"
	"a=rtcp-fb:* trr-int 1000\r\n"
	"a=rtcp-fb:* ccm tmmbr\r\n"
	"m=video 0 RTP/AVP 96\r\n"
	"a=inactive\r\n";

static const char sipp_invite_lf[] =
	"INVITE sip:service@127.0.0.1:5060 SIP/2.0\n"
	"Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-4711-1-0\n"
	"From: sipp <sip:sipp@127.0.1.1:5061>;tag=4711SIPpTag001\n"
	"To: service <sip:service@127.0.0.1:5060>\n"
	"Call-ID: 1-4711@127.0.1.1\n"
	"CSeq: 1 INVITE\n"
	"Contact: sip:sipp@127.0.1.1:5061\n"
	"Max-Forwards: 70\n"
	"Subject: Performance Test\n"
	"Content-Type: application/sdp\n"
	"Content-Length:   @@\n"
	"\n"
	"v=0\n"
	"o=user1 53655765 2353687637 IN IP4 127.0.1.1\n"
	"s=-\n"
	"c=IN IP4 127.0.1.1\n"
	"t=0 0\n"
	"m=audio 6000 RTP/AVP 0\n"
	"a=rtpmap:0 PCMU/8000\n";

static const char ipv6_savp_mixed[] =
	"SIP/2.0 183 Session Progress\r\n"
	"Via: SIP/2.0/TCP [2001:db8::10]:5060;branch=z9hG4bK9\r\n"
	"From: <sip:a@[2001:db8::10]>;tag=1\r\nTo: <sip:b@[2001:db8::20]>;tag=2\r\n"
	"Call-ID: v6call\r\nCSeq: 7 INVITE\r\n"
	"Contact: <sip:b@[2001:db8::20];transport=tcp>\r\n"
	"c: application/sdp\r\nl: @@\r\n\r\n"
	"v=0\r\no=- 5 5 IN IP6 2001:db8::20\r\ns=-\r\nc=IN IP6 2001:db8::20\r\n"
	"t=0 0\r\na=recvonly\r\n"
	"m=audio 5004 RTP/AVPF 0 101\r\na=rtcp:5005 IN IP6 2001:db8::21\r\n"
	"a=rtcp-mux\r\n"
	"m=audio 5006 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n"
	"m=video 5008/2 RTP/AVP 96\r\nc=IN IP4 203.0.113.9\r\na=sendonly\r\n";

START_TEST(round_trip_builtin)
{
	static const struct { const char *name, *tmpl; bool stream; } msgs[] = {
		{ "baresip INVITE", invite_baresip, false },
		{ "linphone 200", linphone_200ok, false },
		{ "sipp INVITE LF", sipp_invite_lf, false },
		{ "IPv6 183 over TCP", ipv6_savp_mixed, true },
	};
	static char buf[8192];
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		size_t n = fill_cl(msgs[i].tmpl, buf, sizeof(buf));
		round_trip(msgs[i].name, (const uint8_t *)buf, n,
			   msgs[i].stream, (unsigned)i);
	}
}
END_TEST

/* The line judge of the round trip must see a changed line. */
START_TEST(round_trip_judge_can_fail)
{
	static char a[8192], b[8192];
	static struct sip_msg ma, mb;
	static struct sdp_view v;
	static struct line la[512], lb[512];
	bool drop[SDP_MAX_MEDIA] = { true };
	size_t z[SDP_MAX_MEDIA];
	size_t n = fill_cl(linphone_200ok, a, sizeof(a));
	memcpy(b, a, n);
	strstr(b, "a=rtcp:7079")[9] = '8';
	ck_assert_int_eq(sip_msg_parse((const uint8_t *)a, n, false, &ma), 0);
	ck_assert_int_eq(sip_msg_parse((const uint8_t *)b, n, false, &mb), 0);
	ck_assert_int_eq(sdp_parse((const uint8_t *)ma.sdp.p, ma.sdp.len, &v), 0);
	size_t na = message_lines((const uint8_t *)a, n, &ma, &v, drop, z, la, 512);
	ck_assert_uint_eq(z[0], 1);
	size_t nb = message_lines((const uint8_t *)b, n, &mb, &v, drop, z, lb, 512);
	ck_assert_uint_eq(na, nb);
	size_t differ = 0;
	for (size_t i = 0; i < na; i++)
		if (la[i].len != lb[i].len || memcmp(la[i].p, lb[i].p, la[i].len))
			differ++;
	ck_assert_uint_eq(differ, 1);
}
END_TEST

/* ---- the captured corpus ---- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

static const char *dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV: return "sendrecv";
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	}
	return "?";
}

static void fmt_slice(char *out, size_t cap, struct sip_slice s,
		      const char *empty)
{
	if (s.len == 0)
		snprintf(out, cap, "%s", empty);
	else
		snprintf(out, cap, "%.*s", (int)s.len, s.p);
}

/* The .expect line our parse produces for media i. */
static void media_expect_line(char *out, size_t cap, size_t i,
			      const struct sdp_media *m)
{
	char type[64], proto[64], addr[128], hash[80];
	fmt_slice(type, sizeof(type), m->type, "-");
	fmt_slice(proto, sizeof(proto), m->proto, "-");
	fmt_slice(addr, sizeof(addr), m->addr, "-");
	if (m->has_zrtp_hash)
		fmt_slice(hash, sizeof(hash), m->zrtp_hash, "none");
	else
		snprintf(hash, sizeof(hash), "none");
	snprintf(out, cap,
		 "media %zu %s port=%u proto=%s addr=%s family=%d rtcp=%u "
		 "rtcp-mux=%d dir=%s protectable=%d zrtp-hash=%s",
		 i, type, m->port, proto, addr, m->addr_family, m->rtcp_port,
		 m->rtcp_mux ? 1 : 0, dir_name(m->dir), m->protectable ? 1 : 0,
		 hash);
}

/* Collapse runs of blanks and cut the line end, for a tolerant compare. */
static void normalize(char *s)
{
	char *w = s;
	bool blank = true;
	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') {
			if (!blank)
				*w++ = ' ';
			blank = true;
		} else {
			*w++ = *r;
			blank = false;
		}
	}
	if (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

static void check_expect(const char *name, const uint8_t *msg, size_t len,
			 char *expect, bool *stream_out)
{
	static struct sip_msg m;
	static struct sdp_view v;
	bool stream = strstr(name, "tcp") != NULL;
	size_t n_media_lines = 0;
	int sdp_rc = -EINVAL;

	/* a transport line, if the corpus has one, decides UDP or TCP */
	for (char *l = strstr(expect, "transport "); l; l = NULL)
		if (l == expect || l[-1] == '\n')
			stream = strncasecmp(l + 10, "tcp", 3) == 0 ||
				 strncasecmp(l + 10, "tls", 3) == 0;
	*stream_out = stream;

	int rc = sip_msg_parse(msg, len, stream, &m);
	ck_assert_msg(rc == 0, "%s: sip_msg_parse %d", name, rc);
	if (m.sdp.len > 0)
		sdp_rc = sdp_parse((const uint8_t *)m.sdp.p, m.sdp.len, &v);

	char *save = NULL;
	for (char *line = strtok_r(expect, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		normalize(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *val = strchr(line, ' ');
		const char *key = line;
		if (val)
			*val++ = '\0';
		else
			val = line + strlen(line);
		char got[512];
		if (strcmp(key, "kind") == 0) {
			snprintf(got, sizeof(got), "%s", m.kind == SIP_REQUEST ?
				 "request" : "response");
		} else if (strcmp(key, "method") == 0) {
			fmt_slice(got, sizeof(got), m.method, "");
		} else if (strcmp(key, "status") == 0) {
			snprintf(got, sizeof(got), "%d", m.status);
		} else if (strcmp(key, "call-id") == 0) {
			fmt_slice(got, sizeof(got), m.call_id, "");
		} else if (strcmp(key, "cseq") == 0) {
			snprintf(got, sizeof(got), "%u", m.cseq);
		} else if (strcmp(key, "content-length") == 0) {
			if (m.has_content_length)
				snprintf(got, sizeof(got), "%zu", m.content_length);
			else
				snprintf(got, sizeof(got), "none");
		} else if (strcmp(key, "sdp") == 0) {
			snprintf(got, sizeof(got), "%s",
				 m.sdp.len > 0 ? "yes" : "no");
			if (m.sdp.len > 0)
				ck_assert_msg(sdp_rc == 0, "%s: sdp_parse %d",
					      name, sdp_rc);
		} else if (strcmp(key, "media") == 0) {
			char *end;
			unsigned long i = strtoul(val, &end, 10);
			ck_assert_msg(end != val && sdp_rc == 0 && i < v.n_media,
				      "%s: media %s not in the parse", name, val);
			char want[512];
			snprintf(want, sizeof(want), "media %s", val);
			media_expect_line(got, sizeof(got), i, &v.media[i]);
			ck_assert_msg(strcmp(got, want) == 0,
				      "%s:\n got  %s\n want %s", name, got, want);
			n_media_lines++;
			continue;
		} else if (strcmp(key, "transport") == 0) {
			continue;
		} else {
			ck_abort_msg("%s: unknown .expect key \"%s\"", name, key);
		}
		ck_assert_msg(strcmp(got, val) == 0, "%s: %s is \"%s\", want \"%s\"",
			      name, key, got, val);
	}
	if (sdp_rc == 0)
		ck_assert_msg(n_media_lines == v.n_media,
			      "%s: .expect lists %zu media, parse has %zu", name,
			      n_media_lines, v.n_media);
}

static int sip_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && strcmp(d->d_name + n - 4, ".sip") == 0;
}

START_TEST(corpus)
{
	const char *src = getenv("ZS_SRCDIR");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/data/sip", src ? src : ".");
	struct dirent **ents;
	int n = scandir(dir, &ents, sip_file, alphasort);
	if (n < 0 && errno == ENOENT) {
		fprintf(stderr, "sdp corpus: SKIPPED, %s does not exist "
			"(set ZS_SRCDIR to the source tree)\n", dir);
		return;
	}
	ck_assert_msg(n >= 0, "sdp corpus: cannot read %s: %s", dir,
		      strerror(errno));
	ck_assert_msg(n > 0, "sdp corpus: %s has no .sip files", dir);
	size_t with_sdp = 0;
	for (int i = 0; i < n; i++) {
		char path[8192], epath[8192];
		size_t len, elen;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(epath, sizeof(epath), "%.*s.expect",
			 (int)strlen(path) - 4, path);
		uint8_t *msg = (uint8_t *)read_all(path, &len);
		char *expect = read_all(epath, &elen);
		ck_assert_msg(msg, "%s: unreadable", path);
		ck_assert_msg(expect, "%s: missing", epath);
		bool stream;
		check_expect(ents[i]->d_name, msg, len, expect, &stream);
		static struct sip_msg m;
		if (sip_msg_parse(msg, len, stream, &m) == 0 && m.sdp.len > 0) {
			round_trip(ents[i]->d_name, msg, len, stream,
				   (unsigned)i + 100);
			with_sdp++;
		} else {
			uint8_t out[64];
			ck_assert_msg(sdp_rewrite_zrtp_hash(msg, len, stream,
				"1.10", hashes_12, out, sizeof(out)) == -EINVAL,
				"%s: no SDP but rewritten", ents[i]->d_name);
		}
		free(msg);
		free(expect);
		free(ents[i]);
	}
	free(ents);
	fprintf(stderr, "sdp corpus: %d messages, %zu with SDP round-tripped\n",
		n, with_sdp);
}
END_TEST

/* The TCP captures: each framed message with SDP round-trips as a stream
 * message (exact Content-Length), the others are refused. */
struct stream_walk {
	const char *name;
	size_t messages, with_sdp, n;
};

static void stream_frame(void *arg, enum sip_frame_kind kind,
			 const uint8_t *p, size_t len)
{
	struct stream_walk *w = arg;
	static struct sip_msg m;
	char name[512];

	if (kind != SIP_FRAME_MESSAGE)
		return;
	w->messages++;
	snprintf(name, sizeof(name), "%s message %zu", w->name, w->messages);
	if (sip_msg_parse(p, len, true, &m) == 0 && m.sdp.len > 0) {
		round_trip(name, p, len, true, (unsigned)(w->n * 100 + w->messages));
		w->with_sdp++;
	} else {
		uint8_t out[64];
		ck_assert_msg(sdp_rewrite_zrtp_hash(p, len, true, "1.10",
				hashes_12, out, sizeof(out)) == -EINVAL,
			      "%s: no SDP but rewritten", name);
	}
}

static int stream_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 7 && strcmp(d->d_name + n - 7, ".stream") == 0;
}

START_TEST(corpus_tcp)
{
	const char *src = getenv("ZS_SRCDIR");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/data/sip/tcp", src ? src : ".");
	struct dirent **ents;
	int n = scandir(dir, &ents, stream_file, alphasort);
	if (n < 0 && errno == ENOENT) {
		fprintf(stderr, "sdp tcp corpus: SKIPPED, %s does not exist "
			"(set ZS_SRCDIR to the source tree)\n", dir);
		return;
	}
	ck_assert_msg(n > 0, "sdp tcp corpus: no .stream files in %s", dir);
	size_t total = 0, with_sdp = 0;
	for (int i = 0; i < n; i++) {
		char path[8192];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		uint8_t *data = (uint8_t *)read_all(path, &len);
		ck_assert_msg(data, "%s: unreadable", path);
		struct stream_walk w = { ents[i]->d_name, 0, 0, (size_t)i };
		struct sip_framer *f = sip_framer_new(SIP_MAX_MSG);
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(sip_framer_feed(f, data, len, stream_frame, &w), 0);
		ck_assert_msg(w.messages > 0, "%s: no message framed", path);
		total += w.messages;
		with_sdp += w.with_sdp;
		sip_framer_free(f);
		free(data);
		free(ents[i]);
	}
	free(ents);
	ck_assert_uint_gt(with_sdp, 0);
	fprintf(stderr, "sdp tcp corpus: %zu messages, %zu with SDP "
		"round-tripped\n", total, with_sdp);
}
END_TEST

Suite *sdp_suite(void)
{
	Suite *s = suite_create("sdp");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, parse_basic);
	tcase_add_test(tc, parse_rtpmap);
	tcase_add_test(tc, parse_conn_override_ipv6);
	tcase_add_test(tc, parse_no_conn);
	tcase_add_test(tc, parse_rtcp);
	tcase_add_test(tc, parse_directions);
	tcase_add_test(tc, parse_protos_and_ports);
	tcase_add_test(tc, parse_tcp_candidates);
	tcase_add_test(tc, parse_zrtp_hash);
	tcase_add_test(tc, parse_zrtp_hash_two);
	tcase_add_test(tc, parse_zrtp_hash_empty);
	tcase_add_test(tc, parse_lf_only);
	tcase_add_test(tc, parse_tolerated);
	tcase_add_test(tc, parse_refused);
	tcase_add_test(tc, parse_nul);
	tcase_add_test(tc, parse_many_media);
	tcase_add_test(tc, parse_every_truncation);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite");
	tcase_add_test(tc, rewrite_insert);
	tcase_add_test(tc, rewrite_skips);
	tcase_add_test(tc, rewrite_every_profile);
	tcase_add_test(tc, rewrite_replace);
	tcase_add_test(tc, rewrite_replace_empty);
	tcase_add_test(tc, rewrite_compact_lf);
	tcase_add_test(tc, rewrite_duplicate_length);
	tcase_add_test(tc, rewrite_udp_no_length);
	tcase_add_test(tc, rewrite_tcp_no_length);
	tcase_add_test(tc, rewrite_udp_trailing);
	tcase_add_test(tc, rewrite_cut_crlf);
	tcase_add_test(tc, rewrite_multipart);
	tcase_add_test(tc, rewrite_refused);
	tcase_add_test(tc, rewrite_enospc);
	tcase_add_test(tc, rewrite_every_truncation);
	suite_add_tcase(s, tc);

	tc = tcase_create("corpus");
	tcase_add_test(tc, round_trip_builtin);
	tcase_add_test(tc, round_trip_judge_can_fail);
	tcase_add_test(tc, corpus);
	tcase_add_test(tc, corpus_tcp);
	suite_add_tcase(s, tc);
	return s;
}
