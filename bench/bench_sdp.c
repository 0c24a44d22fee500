/*
 * How long the SIP/SDP path costs per outgoing offer: a typical baresip
 * INVITE (audio + video) parsed (sip_msg_parse + sdp_parse), rewritten
 * (sdp_rewrite_zrtp_hash, which parses again on its own), and both in a
 * row, as the shim does it. The goal is a few microseconds per message.
 *
 * usage: bench_sdp [ITERATIONS]   (default 200000)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdp/sdp.h"

#define SDP_BODY \
	"v=0\r\n" \
	"o=- 1734 2398 IN IP4 192.0.2.10\r\n" \
	"s=-\r\n" \
	"c=IN IP4 192.0.2.10\r\n" \
	"t=0 0\r\n" \
	"m=audio 10000 RTP/AVP 96 0 8 101\r\n" \
	"b=AS:128\r\n" \
	"a=rtpmap:96 opus/48000/2\r\n" \
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n" \
	"a=rtpmap:0 PCMU/8000\r\n" \
	"a=rtpmap:8 PCMA/8000\r\n" \
	"a=rtpmap:101 telephone-event/8000\r\n" \
	"a=fmtp:101 0-15\r\n" \
	"a=rtcp:10001\r\n" \
	"a=sendrecv\r\n" \
	"a=label:1\r\n" \
	"a=ssrc:1929304592 cname:3f1b2c7d-8e9a\r\n" \
	"m=video 10002 RTP/AVPF 97 98\r\n" \
	"b=AS:1024\r\n" \
	"a=rtpmap:97 H264/90000\r\n" \
	"a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n" \
	"a=rtpmap:98 VP8/90000\r\n" \
	"a=rtcp-fb:* nack pli\r\n" \
	"a=rtcp-fb:* ccm fir\r\n" \
	"a=rtcp-mux\r\n" \
	"a=sendrecv\r\n" \
	"a=label:2\r\n"

static const char body[] = SDP_BODY;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	static char msg[4096];
	static uint8_t out[8192];
	static struct sip_msg m;
	static struct sdp_view v;
	static const char *const hashes[SDP_MAX_MEDIA] = {
		"9b0d2c1e7f30a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	volatile size_t sink = 0;

	if (n <= 0) {
		fprintf(stderr, "usage: %s [ITERATIONS]\n", argv[0]);
		return 2;
	}
	int len = snprintf(msg, sizeof(msg),
		"INVITE sip:bob@192.0.2.20 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK5e2c8b71;rport\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@192.0.2.20>\r\n"
		"From: \"alice\" <sip:alice@192.0.2.10>;tag=3f1b2c7d\r\n"
		"Call-ID: 9f2d1b5c6a7e4f30\r\n"
		"CSeq: 21463 INVITE\r\n"
		"Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n"
		"User-Agent: baresip v3.10.1 (x86_64/linux)\r\n"
		"Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\n"
		"Supported: replaces,norefersub\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: %zu\r\n"
		"\r\n%s", strlen(body), body);
	const uint8_t *p = (const uint8_t *)msg;
	size_t mlen = (size_t)len;

	/* check once that the message is what the benchmark claims */
	if (sip_msg_parse(p, mlen, false, &m) != 0 ||
	    sdp_parse((const uint8_t *)m.sdp.p, m.sdp.len, &v) != 0 ||
	    v.n_media != 2 ||
	    sdp_rewrite_zrtp_hash(p, mlen, false, "1.10", hashes, out,
				  sizeof(out)) <= 0) {
		fprintf(stderr, "bench_sdp: the benchmark message does not "
			"parse or rewrite; is sdp/sip.c complete?\n");
		return 1;
	}

	double t0 = now_us();
	for (long i = 0; i < n; i++) {
		if (sip_msg_parse(p, mlen, false, &m) == 0 &&
		    sdp_parse((const uint8_t *)m.sdp.p, m.sdp.len, &v) == 0)
			sink += v.n_media;
	}
	double t1 = now_us();
	for (long i = 0; i < n; i++)
		sink += (size_t)sdp_rewrite_zrtp_hash(p, mlen, false, "1.10",
						      hashes, out, sizeof(out));
	double t2 = now_us();
	for (long i = 0; i < n; i++) {
		if (sip_msg_parse(p, mlen, false, &m) == 0 &&
		    sdp_parse((const uint8_t *)m.sdp.p, m.sdp.len, &v) == 0)
			sink += (size_t)sdp_rewrite_zrtp_hash(p, mlen, false,
				"1.10", hashes, out, sizeof(out));
	}
	double t3 = now_us();

	printf("bench_sdp: %zu-byte INVITE, %zu media, %ld iterations\n",
	       mlen, v.n_media, n);
	printf("  parse   (sip_msg_parse + sdp_parse)  %7.3f us/op\n",
	       (t1 - t0) / (double)n);
	printf("  rewrite (sdp_rewrite_zrtp_hash)       %7.3f us/op\n",
	       (t2 - t1) / (double)n);
	printf("  both    (parse, then rewrite)         %7.3f us/op\n",
	       (t3 - t2) / (double)n);
	return sink == 0;
}
