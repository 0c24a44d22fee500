/*
 * Unit tests for SIP parsing, offer/answer classification and TCP framing
 * (sdp/sip.c, sdp/framer.c).
 *
 * The torture messages follow the spirit of RFC 4475 (SIP torture tests)
 * and are written here; each test says which RFC 3261 rule it pins. The
 * framing corpus is built-in realistic traffic (baresip, linphone and
 * sipp style) plus every .sip capture in tests/data/sip/ that is a complete
 * TCP message, found through $ZS_SRCDIR or this file's own path.
 *
 * Inputs are copied into heap buffers of exactly their length, so under
 * ASan a read past the end of a message is a crash, not luck.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "tests/unit/suites.h"

/* --- helpers ------------------------------------------------------------- */

/* A heap copy of exactly len bytes (1 byte for len 0, never read). */
static uint8_t *dup_exact(const void *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(d);
	if (len)
		memcpy(d, p, len);
	return d;
}

static int parse_n(const void *p, size_t len, bool stream, struct sip_msg *m)
{
	uint8_t *d = dup_exact(p, len);
	int rc = sip_msg_parse(d, len, stream, m);

	/* Slices into d must not be used after this; tests that need them
	 * call sip_msg_parse on their own buffer. */
	free(d);
	return rc;
}

static int parse_s(const char *s, bool stream)
{
	static struct sip_msg m;

	return parse_n(s, strlen(s), stream, &m);
}

static bool slice_is(struct sip_slice s, const char *lit)
{
	return s.p != NULL && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

#define ck_slice(s, lit) \
	ck_assert_msg(slice_is((s), (lit)), "slice \"%.*s\" != \"%s\"", \
		      (int)(s).len, (s).p ? (s).p : "", (lit))

/* head (start line + headers, each ending CRLF, no Content-Length) +
 * "Content-Length: N" + blank line + body, into a static buffer. */
static char msgbuf[4][4096];

static const char *mk(int slot, const char *head, const char *body)
{
	snprintf(msgbuf[slot], sizeof(msgbuf[slot]),
		 "%sContent-Length: %zu\r\n\r\n%s", head, strlen(body), body);
	return msgbuf[slot];
}

/* --- realistic traffic --------------------------------------------------- */

static const char sdp_baresip[] =
	"v=0\r\n"
	"o=- 1920443377 1593744061 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 10020 RTP/AVP 96 0 8 101\r\n"
	"b=AS:128\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n"
	"a=rtcp-mux\r\n";

static const char sdp_answer[] =
	"v=0\r\n"
	"o=bob 3212 3213 IN IP4 198.51.100.7\r\n"
	"s=Talk\r\n"
	"c=IN IP4 198.51.100.7\r\n"
	"t=0 0\r\n"
	"m=audio 7078 RTP/AVP 96 101\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=rtcp:7079\r\n"
	"a=zrtp-hash:1.10 6f0e6b1b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7\r\n"
	"m=video 9078 RTP/AVPF 102\r\n"
	"a=rtpmap:102 VP8/90000\r\n"
	"a=rtcp-fb:102 nack pli\r\n";

static const char head_invite[] =
	"INVITE sip:bob@198.51.100.7;transport=tcp SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK7c3f1a9e2b;rport;alias\r\n"
	"Contact: <sip:alice-0x55d1@192.0.2.10:43211;transport=tcp>\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.org>\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"CSeq: 31337 INVITE\r\n"
	"User-Agent: baresip v3.10.1 (x86_64/linux)\r\n"
	"Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,REFER,UPDATE\r\n"
	"Supported: replaces,norefersub,100rel\r\n"
	"Content-Type: application/sdp\r\n";

static const char head_trying[] =
	"SIP/2.0 100 Trying\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK7c3f1a9e2b;rport=43211;alias;received=192.0.2.10\r\n"
	"To: <sip:bob@example.org>\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"CSeq: 31337 INVITE\r\n";

static const char head_ringing[] =
	"SIP/2.0 180 Ringing\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK7c3f1a9e2b;rport=43211;alias;received=192.0.2.10\r\n"
	"Record-Route: <sip:198.51.100.1;transport=tcp;lr>\r\n"
	"To: <sip:bob@example.org>;tag=a6c85cf\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"CSeq: 31337 INVITE\r\n"
	"Contact: <sip:bob@198.51.100.7:5060;transport=tcp>\r\n"
	"User-Agent: Linphone Desktop/5.2.4 (Debian GNU/Linux 12) LinphoneSDK/5.3.0\r\n";

static const char head_ok_invite[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK7c3f1a9e2b;rport=43211;alias;received=192.0.2.10\r\n"
	"Record-Route: <sip:198.51.100.1;transport=tcp;lr>\r\n"
	"To: <sip:bob@example.org>;tag=a6c85cf\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"CSeq: 31337 INVITE\r\n"
	"Contact: <sip:bob@198.51.100.7:5060;transport=tcp>\r\n"
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, PRACK, UPDATE\r\n"
	"Supported: replaces, outbound, gruu\r\n"
	"Content-Type: application/sdp\r\n";

static const char head_ack[] =
	"ACK sip:bob@198.51.100.7:5060;transport=tcp SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK55e0a3c1d7;rport;alias\r\n"
	"Route: <sip:198.51.100.1;transport=tcp;lr>\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.org>;tag=a6c85cf\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"CSeq: 31337 ACK\r\n";

static const char head_bye[] =
	"BYE sip:alice-0x55d1@192.0.2.10:43211;transport=tcp SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bK.Xq9aQ3mbn;rport\r\n"
	"From: <sip:bob@example.org>;tag=a6c85cf\r\n"
	"To: \"Alice\" <sip:alice@example.org>;tag=8d1c2b0a77e4f3aa\r\n"
	"CSeq: 21 BYE\r\n"
	"Call-ID: 5a0f7d2c9e41b6c8\r\n"
	"Max-Forwards: 70\r\n"
	"User-Agent: Linphone Desktop/5.2.4 (Debian GNU/Linux 12) LinphoneSDK/5.3.0\r\n";

/* sipp's default uac scenario style, compact forms and lower case */
static const char head_sipp_options[] =
	"OPTIONS sip:service@203.0.113.5:5060 SIP/2.0\r\n"
	"v: SIP/2.0/TCP 203.0.113.9:5061;branch=z9hG4bK-2871-1-0\r\n"
	"f: sipp <sip:sipp@203.0.113.9:5061>;tag=2871SIPpTag001\r\n"
	"t: sut <sip:service@203.0.113.5:5060>\r\n"
	"i: 1-2871@203.0.113.9\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"m: sip:sipp@203.0.113.9:5061;transport=TCP\r\n"
	"max-forwards: 70\r\n"
	"s: Performance Test\r\n";

static const char head_register_401[] =
	"SIP/2.0 401 Unauthorized\r\n"
	"Via: SIP/2.0/TCP 192.0.2.10:43211;branch=z9hG4bK0a1b2c3d;rport=43211;received=192.0.2.10\r\n"
	"From: <sip:alice@example.org>;tag=71ab22d0\r\n"
	"To: <sip:alice@example.org>;tag=as5f3e1a2b\r\n"
	"Call-ID: 6b2e9f0d3a8c41d7\r\n"
	"CSeq: 1 REGISTER\r\n"
	"WWW-Authenticate: Digest algorithm=MD5, realm=\"example.org\",\r\n"
	"   nonce=\"6d1c0f4a9b7e\", qop=\"auth\"\r\n"
	"Server: Asterisk PBX 20.5.0\r\n";

static const char head_notify[] =
	"NOTIFY sip:alice@192.0.2.10:43211;transport=tcp SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK77f1c0\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@example.org>;tag=n0t1fy\r\n"
	"To: <sip:alice@example.org>;tag=71ab22d0\r\n"
	"Call-ID: 9d8e7f6a5b4c\r\n"
	"CSeq: 102 NOTIFY\r\n"
	"Event: message-summary\r\n"
	"Subscription-State: active;expires=3600\r\n"
	"Content-Type: application/simple-message-summary\r\n";

static const char body_mwi[] =
	"Messages-Waiting: yes\r\n"
	"Message-Account: sip:alice@example.org\r\n"
	"Voice-Message: 2/8 (0/2)\r\n";

/* --- parsing ------------------------------------------------------------- */

START_TEST(test_parse_invite_rfc3261_7_1)
{
	const char *s = mk(0, head_invite, sdp_baresip);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);
	struct sip_msg m;

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_int_eq(m.kind, SIP_REQUEST);
	ck_slice(m.method, "INVITE");
	ck_slice(m.uri, "sip:bob@198.51.100.7;transport=tcp");
	ck_slice(m.call_id, "5a0f7d2c9e41b6c8");
	ck_assert_uint_eq(m.cseq, 31337);
	ck_slice(m.cseq_method, "INVITE");
	ck_slice(m.content_type, "application/sdp");
	ck_assert(m.has_content_length);
	ck_assert_uint_eq(m.content_length, strlen(sdp_baresip));
	ck_assert_uint_eq(m.header_len, len - strlen(sdp_baresip));
	ck_assert_ptr_eq(m.body.p, (const char *)d + m.header_len);
	ck_assert_ptr_eq(m.sdp.p, m.body.p);
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_baresip));
	ck_assert_uint_eq(m.n_headers, 12);
	ck_slice(m.headers[0].name, "Via");
	ck_slice(m.headers[11].name, "Content-Length");
	ck_assert_int_eq(m.status, 0);
	/* UDP reads it the same way */
	ck_assert_int_eq(sip_msg_parse(d, len, false, &m), 0);
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_baresip));

	const struct sip_header *h = sip_msg_header(&m, "user-agent");

	ck_assert_ptr_nonnull(h);
	ck_slice(h->value, "baresip v3.10.1 (x86_64/linux)");
	ck_assert_ptr_eq(sip_msg_header(&m, "i"), sip_msg_header(&m, "Call-ID"));
	ck_assert_ptr_eq(sip_msg_header(&m, "l"), &m.headers[11]);
	ck_assert_ptr_null(sip_msg_header(&m, "Subject"));
	ck_assert_ptr_null(sip_msg_header(&m, "Call"));
	free(d);
}
END_TEST

START_TEST(test_parse_response_rfc3261_7_2)
{
	const char *s = mk(0, head_ok_invite, sdp_answer);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);
	struct sip_msg m;

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_int_eq(m.kind, SIP_RESPONSE);
	ck_assert_int_eq(m.status, 200);
	ck_slice(m.method, "INVITE");
	ck_slice(m.cseq_method, "INVITE");
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_answer));
	free(d);

	/* reason phrases: empty (with and without its SP), UTF-8, HTAB */
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 200 \r\nCall-ID: a\r\nCSeq: 1 BYE\r\n", ""), true), 0);
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 200\r\nCall-ID: a\r\nCSeq: 1 BYE\r\n", ""), true), 0);
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 486 Besch\xc3\xa4" "ftigt\tjetzt\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n", ""), true), 0);
}
END_TEST

/* §7.1/§7.2 and RFC 4475 §3.1.2: start lines that are not SIP */
START_TEST(test_parse_start_line_rfc3261_7)
{
	static const char *const bad[] = {
		"SIP/3.0 200 OK\r\n",                  /* unknown version */
		"SIP/2.0 099 Low\r\n",
		"SIP/2.0 700 High\r\n",
		"SIP/2.0 2000 OK\r\n",
		"SIP/2.0 20 OK\r\n",
		"SIP/2.0 200OK\r\n",
		"SIP/2.0  200 OK\r\n",
		"SIP/2.0 2a0 OK\r\n",
		"SIP/2.0 200 O\x01K\r\n",               /* control in reason */
		"INV ITE sip:a@b SIP/2.0\r\n",
		"INVITE  sip:a@b SIP/2.0\r\n",          /* two SPs */
		"INVITE sip:a@b  SIP/2.0\r\n",
		"INVITE sip:a@b SIP/2.0 \r\n",
		"INVITE sip:a@b SIP/2.1\r\n",
		"INVITE sip:a@b SIP/2.0x\r\n",
		"INVITE sip:a@b\r\n",
		"INVITE SIP/2.0\r\n",
		"INVITE bob SIP/2.0\r\n",               /* not an absolute URI */
		"INVITE :bob SIP/2.0\r\n",
		"INVITE 1sip:bob SIP/2.0\r\n",
		"INV\"ITE sip:a@b SIP/2.0\r\n",
		"GET / HTTP/1.1\r\n",
		"HTTP/1.1 200 OK\r\n",
		" INVITE sip:a@b SIP/2.0\r\n",
		"INVITE sip:a@b SIP/2.0\rX\n",
	};
	char head[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(head, sizeof(head), "%sCall-ID: a\r\nCSeq: 1 INVITE\r\n", bad[i]);
		ck_assert_msg(parse_s(mk(0, head, ""), false) == -EINVAL, "accepted %s", bad[i]);
	}
	/* RFC 3261 §25: literal strings are case-insensitive */
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:a@b sip/2.0\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n", ""), false), 0);
	ck_assert_int_eq(parse_s(mk(0, "sip/2.0 180 Ringing\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n", ""), false), 0);
	/* extension method, tel: and urn: URIs */
	ck_assert_int_eq(parse_s(mk(0, "NEWMETHOD tel:+1-201-555-0123 SIP/2.0\r\nCall-ID: a\r\nCSeq: 7 NEWMETHOD\r\n", ""), false), 0);
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 699 Weird\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n", ""), false), 0);
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 100 Trying\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n", ""), false), 0);
}
END_TEST

/* §7.3.3 compact forms, §7.3.1 case and white space around the colon */
START_TEST(test_parse_compact_rfc3261_7_3_3)
{
	static const char head[] =
		"INVITE sip:bob@example.org SIP/2.0\r\n"
		"v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKc0mp4ct\r\n"
		"f: <sip:alice@example.org>;tag=1\r\n"
		"t: <sip:bob@example.org>\r\n"
		"i  :   c0mp4ct@192.0.2.10   \r\n"
		"cseq:\t8 INVITE\r\n"
		"m: <sip:alice@192.0.2.10>\r\n"
		"k: 100rel\r\n"
		"s: compact\r\n"
		"C: Application/SDP ; charset=utf-8\r\n";
	char s[2048];

	snprintf(s, sizeof(s), "%sl: %zu\r\n\r\n%s", head, strlen(sdp_baresip), sdp_baresip);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);
	struct sip_msg m;

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_slice(m.call_id, "c0mp4ct@192.0.2.10");
	ck_assert_uint_eq(m.cseq, 8);
	ck_slice(m.content_type, "Application/SDP");
	ck_assert_uint_eq(m.content_length, strlen(sdp_baresip));
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_baresip));
	ck_slice(sip_msg_header(&m, "Via")->name, "v");
	ck_slice(sip_msg_header(&m, "FROM")->name, "f");
	ck_slice(sip_msg_header(&m, "to")->name, "t");
	ck_slice(sip_msg_header(&m, "Contact")->name, "m");
	ck_slice(sip_msg_header(&m, "Supported")->value, "100rel");
	ck_slice(sip_msg_header(&m, "Subject")->value, "compact");
	ck_slice(sip_msg_header(&m, "content-type")->name, "C");
	ck_slice(sip_msg_header(&m, "Content-Length")->name, "l");
	ck_slice(sip_msg_header(&m, "CSeq")->value, "8 INVITE");
	ck_assert_ptr_null(sip_msg_header(&m, "e"));
	ck_assert_ptr_null(sip_msg_header(&m, ""));
	free(d);
}
END_TEST

/* §7.3.1 folding; RFC 4475 §3.1.1.1's kind of white space */
START_TEST(test_parse_folded_rfc3261_7_3_1)
{
	static const char head[] =
		"INVITE sip:bob@example.org SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKf01d\r\n"
		"Subject: I know you're there,\r\n"
		"     pull up the chair\r\n"
		"Call-ID:\r\n"
		"\tf0ld3d@192.0.2.10\r\n"
		"CSeq: 9\r\n"
		" INVITE\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length:\r\n";
	char s[2048];

	snprintf(s, sizeof(s), "%s   %zu   \r\n\r\n%s", head, strlen(sdp_baresip), sdp_baresip);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);
	struct sip_msg m;

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_uint_eq(m.n_headers, 6);
	ck_slice(sip_msg_header(&m, "Subject")->value,
		 "I know you're there,\r\n     pull up the chair");
	ck_slice(m.call_id, "f0ld3d@192.0.2.10");
	ck_assert_uint_eq(m.cseq, 9);
	ck_slice(m.cseq_method, "INVITE");
	ck_assert_uint_eq(m.content_length, strlen(sdp_baresip));
	free(d);

	/* a continuation with nothing to continue */
	ck_assert_int_eq(parse_s(mk(0, "OPTIONS sip:a@b SIP/2.0\r\n Call-ID: a\r\nCSeq: 1 OPTIONS\r\n", ""), false), -EINVAL);
	/* a header line without a colon, or without a name */
	ck_assert_int_eq(parse_s(mk(0, "OPTIONS sip:a@b SIP/2.0\r\nCall-ID a\r\nCSeq: 1 OPTIONS\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "OPTIONS sip:a@b SIP/2.0\r\n: a\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "OPTIONS sip:a@b SIP/2.0\r\nCall ID: a\r\nCSeq: 1 OPTIONS\r\n", ""), false), -EINVAL);
	/* a CR that does not end a line */
	ck_assert_int_eq(parse_s(mk(0, "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: a\rb\r\nCSeq: 1 OPTIONS\r\n", ""), false), -EINVAL);
}
END_TEST

START_TEST(test_parse_bare_lf)
{
	char s[2048];

	snprintf(s, sizeof(s),
		 "INVITE sip:bob@example.org SIP/2.0\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKlf\n"
		 "Call-ID: lf@192.0.2.10\n"
		 "CSeq: 2 INVITE\n"
		 "Content-Type: application/sdp\n"
		 "Content-Length: %zu\n\n%s", strlen(sdp_baresip), sdp_baresip);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);
	struct sip_msg m;

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_uint_eq(m.n_headers, 5);
	ck_slice(m.call_id, "lf@192.0.2.10");
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_baresip));
	ck_assert_uint_eq(m.header_len, len - strlen(sdp_baresip));
	free(d);
}
END_TEST

/* §7.5: CRLFs before the start line are not part of the message */
START_TEST(test_parse_leading_crlf_rfc3261_7_5)
{
	char s[8192];

	snprintf(s, sizeof(s), "\r\n\r\n%s", mk(0, head_bye, ""));
	struct sip_msg m;
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_slice(m.method, "BYE");
	ck_assert_uint_eq(m.header_len, len);
	free(d);
	ck_assert_int_eq(parse_s("\r\n\r\n", false), -EINVAL);
	ck_assert_int_eq(parse_s("", false), -EINVAL);
}
END_TEST

/* §18.3: Content-Length and the body, UDP and TCP */
START_TEST(test_parse_content_length_rfc3261_18_3)
{
	char s[4096];
	struct sip_msg m;
	size_t len;
	uint8_t *d;

	/* absent: UDP takes the rest of the datagram, TCP refuses */
	snprintf(s, sizeof(s), "%s\r\n%s", head_invite, sdp_baresip);
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, false, &m), 0);
	ck_assert(!m.has_content_length);
	ck_assert_uint_eq(m.body.len, strlen(sdp_baresip));
	ck_assert_uint_eq(m.sdp.len, strlen(sdp_baresip));
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), -EBADMSG);
	free(d);

	/* smaller: UDP truncates the body (extra bytes are not the message),
	 * TCP refuses (the framer never hands over extra bytes) */
	snprintf(s, sizeof(s), "%sContent-Length: 40\r\n\r\n%s", head_invite, sdp_baresip);
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, false, &m), 0);
	ck_assert_uint_eq(m.body.len, 40);
	ck_assert_uint_eq(m.sdp.len, 40);
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), -EBADMSG);
	free(d);

	/* larger than what is there: both refuse */
	snprintf(s, sizeof(s), "%sContent-Length: %zu\r\n\r\n%s", head_invite,
		 strlen(sdp_baresip) + 1, sdp_baresip);
	ck_assert_int_eq(parse_s(s, false), -EBADMSG);
	ck_assert_int_eq(parse_s(s, true), -EBADMSG);

	/* zero, with a body after it on UDP: the body is empty */
	snprintf(s, sizeof(s), "%sContent-Length: 0\r\n\r\n%s", head_invite, sdp_baresip);
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, false, &m), 0);
	ck_assert_uint_eq(m.body.len, 0);
	ck_assert_ptr_null(m.sdp.p);
	free(d);
}
END_TEST

/* RFC 4475 §3.1.2.x in spirit: Content-Length values that lie */
START_TEST(test_parse_content_length_bad)
{
	static const char *const bad[] = {
		"-1", "-0", "+5", "abc", "5a", "5 5", "0x10", "", "5,5",
		"99999999999999999999", "18446744073709551616", "4294967296",
		"2147483648",
	};
	char head[1024], s[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s),
			 "MESSAGE sip:bob@example.org SIP/2.0\r\nCall-ID: x\r\n"
			 "CSeq: 1 MESSAGE\r\nContent-Length: %s\r\n\r\nhello", bad[i]);
		ck_assert_msg(parse_s(s, false) == -EBADMSG, "UDP accepted %s", bad[i]);
		ck_assert_msg(parse_s(s, true) == -EBADMSG, "TCP accepted %s", bad[i]);
	}
	/* duplicated: equal is fine, different is not, compact counts */
	snprintf(head, sizeof(head),
		 "MESSAGE sip:bob@example.org SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\n");
	snprintf(s, sizeof(s), "%sContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, true), 0);
	snprintf(s, sizeof(s), "%sContent-Length: 5\r\nl: 005\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, true), 0);
	snprintf(s, sizeof(s), "%sContent-Length: 5\r\ncontent-length: 4\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, true), -EBADMSG);
	ck_assert_int_eq(parse_s(s, false), -EBADMSG);
	snprintf(s, sizeof(s), "%sl: 4\r\nContent-Length: 5\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, false), -EBADMSG);
	snprintf(s, sizeof(s), "%sContent-Length: 5\r\nl: -5\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, false), -EBADMSG);
	/* leading zeros are digits */
	snprintf(s, sizeof(s), "%sContent-Length: 00005\r\n\r\nhello", head);
	ck_assert_int_eq(parse_s(s, true), 0);
}
END_TEST

/* Call-ID and CSeq must be there, once, well formed (§8.1.1) */
START_TEST(test_parse_required_headers_rfc3261_8_1_1)
{
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCSeq: 1 BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 bye\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE x\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 4294967296 BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 4294967295 BYE\r\n", ""), false), 0);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x y\r\nCSeq: 1 BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID:\r\nCSeq: 1 BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\ni: y\r\nCSeq: 1 BYE\r\n", ""), false), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\ni: x\r\nCSeq: 1 BYE\r\n", ""), false), 0);
	ck_assert_int_eq(parse_s(mk(0, "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nCSeq: 2 BYE\r\n", ""), false), -EINVAL);
	/* a response's CSeq method may be anything */
	ck_assert_int_eq(parse_s(mk(0, "SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n", ""), false), 0);
}
END_TEST

/* NUL bytes: refused where they would be misread, allowed in binary parts */
START_TEST(test_parse_nul)
{
	char s[8192];
	size_t len;
	struct sip_msg m;

	snprintf(s, sizeof(s), "%s", mk(0, head_invite, sdp_baresip));
	len = strlen(s);
	/* at every byte of the start line and headers, and of the SDP */
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\r' || c == '\n')
			continue;
		s[i] = '\0';
		int rc = parse_n(s, len, false, &m);

		ck_assert_msg(rc == -EINVAL, "NUL at %zu: %d", i, rc);
		s[i] = c;
	}
	ck_assert_int_eq(parse_n(s, len, false, &m), 0);
}
END_TEST

/* SIP_MAX_HEADERS lines parse; one more is a clean -E2BIG */
START_TEST(test_parse_many_headers)
{
	static char s[32 * 1024];
	size_t off;
	struct sip_msg m;

	off = (size_t)snprintf(s, sizeof(s),
			       "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: many\r\nCSeq: 1 OPTIONS\r\n");
	for (int i = 0; i < SIP_MAX_HEADERS - 3; i++)
		off += (size_t)snprintf(s + off, sizeof(s) - off, "X-Filler-%d: %d\r\n", i, i);
	off += (size_t)snprintf(s + off, sizeof(s) - off, "Content-Length: 0\r\n\r\n");
	uint8_t *d = dup_exact(s, off);

	ck_assert_int_eq(sip_msg_parse(d, off, true, &m), 0);
	ck_assert_uint_eq(m.n_headers, SIP_MAX_HEADERS);
	free(d);

	off -= 2;   /* one more header before the blank line */
	off += (size_t)snprintf(s + off, sizeof(s) - off, "X-One-Too-Many: 1\r\n\r\n");
	d = dup_exact(s, off);
	ck_assert_int_eq(sip_msg_parse(d, off, true, &m), -E2BIG);
	ck_assert_int_eq(sip_msg_parse(d, off, false, &m), -E2BIG);
	free(d);
}
END_TEST

/* a 60 KiB SDP parses; anything over SIP_MAX_MSG is refused */
START_TEST(test_parse_huge)
{
	size_t cap = SIP_MAX_MSG + 4096;
	char *body = malloc(cap);
	char *s = malloc(cap + 2048);
	size_t off = 0;
	struct sip_msg m;

	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(s);
	off += (size_t)snprintf(body, cap, "%s", sdp_baresip);
	for (int i = 0; off < 60 * 1024; i++)
		off += (size_t)snprintf(body + off, cap - off,
					"a=candidate:%d 1 UDP 2130706431 192.0.2.10 %d typ host\r\n",
					i, 10000 + i);
	int n = snprintf(s, cap + 2048, "%sContent-Length: %zu\r\n\r\n%s", head_invite, off, body);

	ck_assert_int_le(n, SIP_MAX_MSG);
	uint8_t *d = dup_exact(s, (size_t)n);

	ck_assert_int_eq(sip_msg_parse(d, (size_t)n, true, &m), 0);
	ck_assert_uint_eq(m.sdp.len, off);
	free(d);

	while (off < SIP_MAX_MSG)
		off += (size_t)snprintf(body + off, cap - off, "a=x-pad:0123456789abcdef\r\n");
	n = snprintf(s, cap + 2048, "%sContent-Length: %zu\r\n\r\n%s", head_invite, off, body);
	ck_assert_int_eq(parse_n(s, (size_t)n, true, &m), -E2BIG);
	ck_assert_int_eq(parse_n(s, (size_t)n, false, &m), -E2BIG);
	free(body);
	free(s);
}
END_TEST

/* §7: the blank line must be there even without a body */
START_TEST(test_parse_missing_final_crlf)
{
	ck_assert_int_eq(parse_s("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n", false), -EINVAL);
	ck_assert_int_eq(parse_s("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n", true), -EINVAL);
	ck_assert_int_eq(parse_s("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0", false), -EINVAL);
	ck_assert_int_eq(parse_s("BYE sip:a@b SIP/2.0", false), -EINVAL);
	ck_assert_int_eq(parse_s("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", true), 0);
	/* a body that lacks its own final CRLF is fine: it is octets */
	ck_assert_int_eq(parse_s("MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi", true), 0);
}
END_TEST

/* every prefix of a valid INVITE: an error, never a crash or overread */
START_TEST(test_parse_truncated_every_length)
{
	const char *s = mk(0, head_invite, sdp_baresip);
	size_t len = strlen(s);
	size_t hlen = len - strlen(sdp_baresip);
	struct sip_msg m;

	for (size_t k = 0; k < len; k++) {
		int udp = parse_n(s, k, false, &m);
		int tcp = parse_n(s, k, true, &m);

		ck_assert_msg(tcp < 0, "TCP prefix %zu accepted", k);
		ck_assert_msg(udp < 0, "UDP prefix %zu accepted", k);
		if (k >= hlen) {
			ck_assert_int_eq(udp, -EBADMSG);
			ck_assert_int_eq(tcp, -EBADMSG);
		} else {
			ck_assert_msg(udp == -EINVAL, "prefix %zu: %d", k, udp);
		}
	}
	ck_assert_int_eq(parse_n(s, len, true, &m), 0);
	/* and every prefix of one without Content-Length, over UDP */
	char t[4096];

	snprintf(t, sizeof(t), "%s\r\n%s", head_invite, sdp_baresip);
	len = strlen(t);
	hlen = strlen(head_invite) + 2;
	for (size_t k = 0; k <= len; k++) {
		int rc = parse_n(t, k, false, &m);

		if (k < hlen) {
			ck_assert_int_eq(rc, -EINVAL);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(m.body.len, k - hlen);
		}
	}
}
END_TEST

/* application/sdp as one part of multipart/mixed (RFC 2046 §5.1.1) */
START_TEST(test_parse_multipart_rfc2046_5_1_1)
{
	/* SIP-T style (RFC 3372): a binary ISUP part, NULs and all, first */
	static const char pre[] =
		"This is a preamble.\r\n"
		"--unique-boundary-1\r\n"
		"Content-Type: application/ISUP;version=itu-t92+\r\n"
		"Content-Disposition: signal;handling=optional\r\n"
		"\r\n";
	static const uint8_t isup[] = {
		0x01, 0x00, 0x49, 0x00, 0x00, 0x03, 0x02, 0x00, 0x07, 0x04, 0x10, 0x00,
		'\r', '\n',
	};
	static const char mid[] =
		"--unique-boundary-1 \t\r\n"
		"content-type:  Application/Sdp\r\n"
		"\r\n";
	static const char post[] = "\r\n--unique-boundary-1--\r\nepilogue\r\n";
	static char body[4096];
	char head[1024];
	struct sip_msg m;
	size_t body_len = 0;

	memcpy(body, pre, strlen(pre));
	body_len += strlen(pre);
	memcpy(body + body_len, isup, sizeof(isup));
	body_len += sizeof(isup);
	memcpy(body + body_len, mid, strlen(mid));
	body_len += strlen(mid);
	memcpy(body + body_len, sdp_baresip, strlen(sdp_baresip));
	body_len += strlen(sdp_baresip);
	memcpy(body + body_len, post, strlen(post));
	body_len += strlen(post);

	static const char *const ctypes[] = {
		"multipart/mixed;boundary=unique-boundary-1",
		"Multipart/Mixed ; charset=x; Boundary = \"unique-boundary-1\"",
		"multipart/related; type=\"application/sdp;x=y\"; boundary=unique-boundary-1",
	};

	for (size_t i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		static char s[8192];
		int n = snprintf(head, sizeof(head),
				 "INVITE sip:bob@example.org SIP/2.0\r\nCall-ID: mp\r\n"
				 "CSeq: 1 INVITE\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
				 ctypes[i], body_len);

		memcpy(s, head, (size_t)n);
		memcpy(s + n, body, body_len);
		uint8_t *d = dup_exact(s, (size_t)n + body_len);

		ck_assert_int_eq(sip_msg_parse(d, (size_t)n + body_len, true, &m), 0);
		ck_assert_msg(m.sdp.len == strlen(sdp_baresip) &&
			      memcmp(m.sdp.p, sdp_baresip, m.sdp.len) == 0,
			      "ctype %zu: sdp \"%.*s\"", i, (int)m.sdp.len, m.sdp.p);
		ck_assert_ptr_eq(m.body.p, (const char *)d + n);
		ck_assert_uint_eq(m.body.len, body_len);
		free(d);
	}

	/* no boundary parameter, or an empty or too long one */
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
				    "Content-Type: multipart/mixed\r\n", "--x\r\n\r\nv=0\r\n--x--\r\n"), true), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
				    "Content-Type: multipart/mixed;boundary=\"\"\r\n", "--x\r\n\r\nv=0\r\n--x--\r\n"), true), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
				    "Content-Type: multipart/mixed;boundary=01234567890123456789012345678901234567890123456789012345678901234567890\r\n",
				    "--x\r\n\r\nv=0\r\n--x--\r\n"), true), -EINVAL);
	/* no delimiter in the body, or a part that never ends */
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
				    "Content-Type: multipart/mixed;boundary=x\r\n", "v=0\r\n"), true), -EINVAL);
	ck_assert_int_eq(parse_s(mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
				    "Content-Type: multipart/mixed;boundary=x\r\n",
				    "--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"), true), -EINVAL);
	/* a multipart without SDP: fine, no sdp; LF line ends; first part wins */
	const char *s = mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
			   "Content-Type: multipart/mixed;boundary=b1\r\n",
			   "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--");
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_ptr_null(m.sdp.p);
	ck_assert_uint_eq(m.sdp.len, 0);
	free(d);
	s = mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
	       "Content-Type: multipart/mixed;boundary=b1\r\n",
	       "--b1\n\nno headers\n--b1\nContent-Type: application/sdp\n\nv=0\no=first\n"
	       "--b1\nContent-Type: application/sdp\n\nv=0\no=second\n--b1--\n");
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_slice(m.sdp, "v=0\no=first");
	free(d);
	/* every prefix of a multipart datagram (no Content-Length): the
	 * delimiter search must stop at the end of the bytes */
	s = "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
	    "Content-Type: multipart/mixed;boundary=b1\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
	    "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1--";
	len = strlen(s);
	for (size_t k = 0; k <= len; k++) {
		d = dup_exact(s, k);
		int rc = sip_msg_parse(d, k, false, &m);

		ck_assert_msg(rc == 0 || rc == -EINVAL, "prefix %zu: %d", k, rc);
		/* the SDP part is found only once its delimiter is there */
		if (rc == 0 && m.sdp.p != NULL)
			ck_slice(m.sdp, "v=0");
		if (k == len || k == len - 2)
			ck_assert_msg(rc == 0 && m.sdp.p != NULL, "prefix %zu: %d", k, rc);
		if (k == len - 1 || k == len - 3)
			ck_assert_int_eq(rc, -EINVAL);
		free(d);
	}
	/* a boundary that only prefixes a line inside a part is no delimiter */
	s = mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: mp\r\nCSeq: 1 INVITE\r\n"
	       "Content-Type: multipart/mixed;boundary=b1\r\n",
	       "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1x\r\n--b1--\r\n");
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_slice(m.sdp, "v=0\r\n--b1x");
	free(d);
}
END_TEST

/* bodies that are not readable SDP */
START_TEST(test_parse_not_sdp)
{
	struct sip_msg m;
	const char *s = mk(0, head_notify, body_mwi);
	size_t len = strlen(s);
	uint8_t *d = dup_exact(s, len);

	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_slice(m.content_type, "application/simple-message-summary");
	ck_assert_uint_eq(m.body.len, strlen(body_mwi));
	ck_assert_ptr_null(m.sdp.p);
	free(d);

	/* SDP with Content-Encoding gzip: not read, but still an offer */
	s = mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: gz\r\nCSeq: 1 INVITE\r\n"
	       "Content-Type: application/sdp\r\ne: gzip\r\n", "\x1f\x8b\x08 not really");
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_ptr_null(m.sdp.p);
	struct sip_dialog_info di;

	sip_dialog_classify(&m, false, &di);
	ck_assert_int_eq(di.sdp_role, SIP_SDP_OFFER);
	free(d);

	/* Content-Type: application/sdp with an empty body: no SDP */
	s = mk(0, "INVITE sip:b@c SIP/2.0\r\nCall-ID: e\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n", "");
	len = strlen(s);
	d = dup_exact(s, len);
	ck_assert_int_eq(sip_msg_parse(d, len, true, &m), 0);
	ck_assert_ptr_null(m.sdp.p);
	sip_dialog_classify(&m, false, &di);
	ck_assert_int_eq(di.sdp_role, SIP_SDP_NONE);
	free(d);
}
END_TEST

/* --- offer/answer ------------------------------------------------------- */

struct classified {
	int rc;
	struct sip_dialog_info di;
};

static struct classified classify(const char *head, const char *body, bool pending)
{
	char h[2048];

	snprintf(h, sizeof(h), "%s%s", head, body[0] ? "Content-Type: application/sdp\r\n" : "");
	const char *s = mk(1, h, body);
	struct sip_msg m;
	struct classified c;

	memset(&c, 0, sizeof(c));
	c.rc = sip_msg_parse((const uint8_t *)s, strlen(s), true, &m);
	if (c.rc == 0)
		sip_dialog_classify(&m, pending, &c.di);
	return c;
}

static char headbuf[2048];

/* a response head with the given status line and CSeq */
static const char *resp(const char *status, const char *cseq)
{
	snprintf(headbuf, sizeof(headbuf),
		 "SIP/2.0 %s\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr\r\n"
		 "From: <sip:a@example.org>;tag=1\r\nTo: <sip:b@example.org>;tag=2\r\n"
		 "Call-ID: oa-1\r\nCSeq: %s\r\n", status, cseq);
	return headbuf;
}

static const char *req(const char *method, unsigned seq)
{
	snprintf(headbuf, sizeof(headbuf),
		 "%s sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKq\r\n"
		 "From: <sip:a@example.org>;tag=1\r\nTo: <sip:b@example.org>\r\n"
		 "Call-ID: oa-1\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n",
		 method, seq, method);
	return headbuf;
}

#define ck_role(c, role) do { \
	struct classified c_ = (c); \
	ck_assert_int_eq(c_.rc, 0); \
	ck_assert_int_eq(c_.di.sdp_role, (role)); \
	ck_assert(!c_.di.ends_media); \
} while (0)

/* §13.2.1: offer in the INVITE, answer in the 2xx */
START_TEST(test_oa_invite_offer_rfc3261_13_2_1)
{
	struct classified c = classify(req("INVITE", 10), sdp_baresip, false);

	ck_role(c, SIP_SDP_OFFER);
	ck_slice(c.di.call_id, "oa-1");
	ck_assert_uint_eq(c.di.cseq, 10);
	ck_slice(c.di.method, "INVITE");
	ck_assert_int_eq(c.di.status, 0);

	c = classify(resp("200 OK", "10 INVITE"), sdp_answer, true);
	ck_role(c, SIP_SDP_ANSWER);
	ck_assert_int_eq(c.di.status, 200);
	ck_slice(c.di.method, "INVITE");
	ck_role(classify(req("ACK", 10), "", false), SIP_SDP_NONE);
	/* SDP in an ACK with no offer outstanding is not an answer */
	ck_role(classify(req("ACK", 10), sdp_answer, false), SIP_SDP_NONE);
	/* 100 Trying and a 180 without SDP */
	ck_role(classify(resp("100 Trying", "10 INVITE"), "", true), SIP_SDP_NONE);
	ck_role(classify(resp("180 Ringing", "10 INVITE"), "", true), SIP_SDP_NONE);
	/* re-INVITE: same rules */
	ck_role(classify(req("INVITE", 11), sdp_baresip, false), SIP_SDP_OFFER);
}
END_TEST

/* §13.2.1: INVITE without SDP: the 2xx offers, the ACK answers */
START_TEST(test_oa_invite_no_sdp_rfc3261_13_2_1)
{
	ck_role(classify(req("INVITE", 20), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("200 OK", "20 INVITE"), sdp_answer, false), SIP_SDP_OFFER);
	ck_role(classify(req("ACK", 20), sdp_baresip, true), SIP_SDP_ANSWER);
}
END_TEST

/* RFC 6337 §2.1, RFC 3262: SDP in 18x */
START_TEST(test_oa_18x_rfc6337_2_1)
{
	ck_role(classify(resp("183 Session Progress", "30 INVITE"), sdp_answer, true), SIP_SDP_ANSWER);
	ck_role(classify(resp("180 Ringing", "30 INVITE"), sdp_answer, true), SIP_SDP_ANSWER);
	/* reliable 183 offering to an offerless INVITE */
	ck_role(classify(resp("183 Session Progress", "31 INVITE"), sdp_answer, false), SIP_SDP_OFFER);
}
END_TEST

/* RFC 3311 §5: UPDATE offers, its 2xx answers; failure ends nothing */
START_TEST(test_oa_update_rfc3311_5)
{
	ck_role(classify(req("UPDATE", 40), sdp_baresip, false), SIP_SDP_OFFER);
	ck_role(classify(resp("200 OK", "40 UPDATE"), sdp_answer, true), SIP_SDP_ANSWER);
	ck_role(classify(req("UPDATE", 41), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("491 Request Pending", "41 UPDATE"), "", true), SIP_SDP_NONE);
	ck_role(classify(resp("488 Not Acceptable Here", "41 UPDATE"), sdp_answer, true), SIP_SDP_NONE);
	ck_role(classify(resp("183 Session Progress", "41 UPDATE"), sdp_answer, true), SIP_SDP_NONE);
}
END_TEST

/* RFC 3262 §5: PRACK answers an offer in a reliable 1xx, or offers */
START_TEST(test_oa_prack_rfc3262_5)
{
	ck_role(classify(req("PRACK", 50), sdp_baresip, true), SIP_SDP_ANSWER);
	ck_role(classify(req("PRACK", 51), sdp_baresip, false), SIP_SDP_OFFER);
	ck_role(classify(resp("200 OK", "51 PRACK"), sdp_answer, true), SIP_SDP_ANSWER);
	ck_role(classify(req("PRACK", 52), "", true), SIP_SDP_NONE);
}
END_TEST

/* BYE, CANCEL, and a final failure of an INVITE end the media */
START_TEST(test_oa_ends_media)
{
	struct classified c = classify(req("BYE", 60), "", false);

	ck_assert_int_eq(c.rc, 0);
	ck_assert(c.di.ends_media);
	ck_slice(c.di.method, "BYE");
	c = classify(req("CANCEL", 10), "", false);
	ck_assert(c.di.ends_media);

	static const char *const fails[] = {
		"300 Multiple Choices", "404 Not Found", "486 Busy Here",
		"487 Request Terminated", "488 Not Acceptable Here",
		"500 Server Internal Error", "503 Service Unavailable",
		"603 Decline", "699 Whatever",
	};
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		c = classify(resp(fails[i], "10 INVITE"), i % 2 ? sdp_answer : "", true);
		ck_assert_int_eq(c.rc, 0);
		ck_assert_msg(c.di.ends_media, "%s", fails[i]);
		ck_assert_int_eq(c.di.sdp_role, SIP_SDP_NONE);
		ck_assert_int_eq(c.di.status, atoi(fails[i]));
	}
	/* ...and nothing else does */
	ck_role(classify(resp("200 OK", "60 BYE"), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("481 Call/Transaction Does Not Exist", "60 BYE"), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("200 OK", "10 CANCEL"), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("488 Not Acceptable Here", "40 UPDATE"), "", false), SIP_SDP_NONE);
	ck_role(classify(resp("180 Ringing", "10 INVITE"), "", false), SIP_SDP_NONE);
	ck_role(classify(req("OPTIONS", 3), "", false), SIP_SDP_NONE);
	/* SDP in OPTIONS or its 200 is capabilities, not offer/answer */
	ck_role(classify(req("OPTIONS", 3), sdp_baresip, false), SIP_SDP_NONE);
	ck_role(classify(resp("200 OK", "3 OPTIONS"), sdp_answer, true), SIP_SDP_NONE);
	/* methods are case-sensitive: "bye" is an extension method */
	c = classify("bye sip:b@c SIP/2.0\r\nCall-ID: z\r\nCSeq: 1 bye\r\n", "", false);
	ck_assert_int_eq(c.rc, 0);
	ck_assert(!c.di.ends_media);
}
END_TEST

/* --- TCP framing -------------------------------------------------------- */

#define MAX_FRAMES 256

struct collect {
	uint8_t *out;          /* concatenation of every frame */
	size_t out_len, out_cap;
	size_t n_msgs;
	size_t msg_off[MAX_FRAMES], msg_len[MAX_FRAMES];
	size_t n_pass_calls;
	bool overflow;
};

static void collect_init(struct collect *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->out = malloc(cap ? cap : 1);
	c->out_cap = cap;
	ck_assert_ptr_nonnull(c->out);
}

static void collect_fn(void *arg, enum sip_frame_kind kind, const uint8_t *p, size_t len)
{
	struct collect *c = arg;

	if (len == 0 || c->out_len + len > c->out_cap) {
		c->overflow = true;   /* an empty frame is a bug too */
		return;
	}
	if (kind == SIP_FRAME_MESSAGE) {
		if (c->n_msgs == MAX_FRAMES) {
			c->overflow = true;
			return;
		}
		c->msg_off[c->n_msgs] = c->out_len;
		c->msg_len[c->n_msgs] = len;
		c->n_msgs++;
	} else {
		c->n_pass_calls++;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
}

struct corpus {
	uint8_t *data;
	size_t len;
	size_t n_msgs;
	size_t msg_off[MAX_FRAMES], msg_len[MAX_FRAMES];
};

static void corpus_add(struct corpus *c, const void *p, size_t len, bool msg)
{
	c->data = realloc(c->data, c->len + len);
	ck_assert_ptr_nonnull(c->data);
	if (msg) {
		ck_assert_uint_lt(c->n_msgs, MAX_FRAMES);
		c->msg_off[c->n_msgs] = c->len;
		c->msg_len[c->n_msgs] = len;
		c->n_msgs++;
	}
	memcpy(c->data + c->len, p, len);
	c->len += len;
}

/* The directory of the captured fixtures, or NULL. */
static DIR *fixtures_open(char *dir, size_t cap)
{
	const char *src = getenv("ZS_SRCDIR");
	DIR *d;

	if (src != NULL) {
		snprintf(dir, cap, "%s/tests/data/sip", src);
		if ((d = opendir(dir)) != NULL)
			return d;
	}
	/* this file's own path, when built from the source tree or VPATH */
	snprintf(dir, cap, "%s", __FILE__);
	char *t = strstr(dir, "tests/unit/test_sip.c");

	if (t != NULL) {
		snprintf(t, cap - (size_t)(t - dir), "tests/data/sip");
		if ((d = opendir(dir)) != NULL)
			return d;
	}
	return NULL;
}

static uint8_t *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > 4 * SIP_MAX_MSG)
				break;
			p = realloc(p, cap);
			ck_assert_ptr_nonnull(p);
		}
		size_t r = fread(p + n, 1, cap - n, f);

		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return p;
}

static const char *const keepalives[] = { "\r\n", "\r\n\r\n", "", "\r\n\r\n\r\n\r\n", "\n" };

/* Built-in traffic, then each fixture that is one whole TCP message. */
static void corpus_build(struct corpus *c, bool fixtures)
{
	const char *msgs[9];
	int k = 0;

	memset(c, 0, sizeof(*c));
	msgs[k++] = mk(0, head_invite, sdp_baresip);
	msgs[k++] = mk(1, head_trying, "");
	msgs[k++] = mk(2, head_ringing, "");
	msgs[k++] = mk(3, head_ok_invite, sdp_answer);
	for (int i = 0; i < k; i++) {
		corpus_add(c, msgs[i], strlen(msgs[i]), true);
		corpus_add(c, keepalives[i % 5], strlen(keepalives[i % 5]), false);
	}
	k = 0;
	msgs[k++] = mk(0, head_ack, "");
	msgs[k++] = mk(1, head_sipp_options, "");
	msgs[k++] = mk(2, head_register_401, "");
	msgs[k++] = mk(3, head_notify, body_mwi);
	for (int i = 0; i < k; i++) {
		corpus_add(c, msgs[i], strlen(msgs[i]), true);
		corpus_add(c, keepalives[(i + 4) % 5], strlen(keepalives[(i + 4) % 5]), false);
	}
	/* a body without a final CRLF, right before the next message */
	const char *m = mk(0, "MESSAGE sip:bob@example.org SIP/2.0\r\nCall-ID: im\r\nCSeq: 5 MESSAGE\r\n"
			   "Content-Type: text/plain\r\n", "no newline at the end");

	corpus_add(c, m, strlen(m), true);
	m = mk(0, head_bye, "");
	corpus_add(c, m, strlen(m), true);
	corpus_add(c, "\r\n\r\n", 4, false);

	if (!fixtures)
		return;
	char dir[4096];
	DIR *d = fixtures_open(dir, sizeof(dir));
	struct dirent *e;
	size_t builtin = c->n_msgs;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && c->n_msgs < MAX_FRAMES - 1) {
		size_t nl = strlen(e->d_name);
		char path[8192];
		size_t len = 0;
		struct sip_msg sm;

		if (nl < 5 || strcmp(e->d_name + nl - 4, ".sip") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		uint8_t *p = file_read(path, &len);

		if (p == NULL)
			continue;
		/* only whole TCP messages: their framing is known */
		if (len > 0 && len <= SIP_MAX_MSG && p[0] != '\r' && p[0] != '\n' &&
		    parse_n(p, len, true, &sm) == 0) {
			corpus_add(c, p, len, true);
			corpus_add(c, "\r\n", 2, false);
		}
		free(p);
	}
	closedir(d);
	/* the captures hold at least ten messages with Content-Length */
	ck_assert_uint_ge(c->n_msgs, builtin + 10);
}

static void corpus_free(struct corpus *c)
{
	free(c->data);
}

/* Feed c in the given pieces; check the messages and the byte stream. */
static void feed_check(const struct corpus *c, const size_t *cuts, size_t n_cuts,
		       size_t max_msg, const char *what)
{
	struct sip_framer *f = sip_framer_new(max_msg);
	struct collect col;
	size_t prev = 0;

	ck_assert_ptr_nonnull(f);
	collect_init(&col, c->len);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : c->len;
		/* each piece in its own exact-size allocation */
		uint8_t *piece = dup_exact(c->data + prev, end - prev);

		ck_assert_int_eq(sip_framer_feed(f, piece, end - prev, collect_fn, &col), 0);
		free(piece);
		ck_assert_uint_le(sip_framer_pending(f), max_msg);
		prev = end;
	}
	ck_assert_msg(!col.overflow, "%s: more bytes out than in, or an empty frame", what);
	ck_assert_msg(sip_framer_pending(f) == 0, "%s: %zu bytes held at the end", what,
		      sip_framer_pending(f));
	ck_assert_msg(col.out_len == c->len && memcmp(col.out, c->data, c->len) == 0,
		      "%s: output is not the input", what);
	ck_assert_msg(col.n_msgs == c->n_msgs, "%s: %zu messages, expected %zu", what,
		      col.n_msgs, c->n_msgs);
	for (size_t i = 0; i < c->n_msgs; i++)
		ck_assert_msg(col.msg_off[i] == c->msg_off[i] && col.msg_len[i] == c->msg_len[i],
			      "%s: message %zu at %zu+%zu, expected %zu+%zu", what, i,
			      col.msg_off[i], col.msg_len[i], c->msg_off[i], c->msg_len[i]);
	free(col.out);
	sip_framer_free(f);
}

START_TEST(test_framer_whole_rfc3261_18_3)
{
	struct corpus c;

	corpus_build(&c, true);
	ck_assert_uint_ge(c.n_msgs, 10);
	feed_check(&c, NULL, 0, SIP_MAX_MSG, "one piece");
	/* every message also parses as a whole TCP message */
	for (size_t i = 0; i < c.n_msgs; i++) {
		struct sip_msg m;

		ck_assert_int_eq(parse_n(c.data + c.msg_off[i], c.msg_len[i], true, &m), 0);
	}
	corpus_free(&c);
}
END_TEST

START_TEST(test_framer_every_split)
{
	struct corpus c;

	corpus_build(&c, true);
	for (size_t k = 0; k <= c.len; k++) {
		char what[64];

		snprintf(what, sizeof(what), "split at %zu", k);
		feed_check(&c, &k, 1, SIP_MAX_MSG, what);
	}
	corpus_free(&c);
}
END_TEST

START_TEST(test_framer_one_byte_pieces)
{
	struct corpus c;

	corpus_build(&c, true);
	size_t *cuts = malloc(c.len * sizeof(*cuts));

	ck_assert_ptr_nonnull(cuts);
	for (size_t i = 0; i < c.len; i++)
		cuts[i] = i + 1;
	feed_check(&c, cuts, c.len - 1, SIP_MAX_MSG, "1-byte pieces");
	/* and random pieces, repeatably */
	uint32_t x = 0x2545f491u;

	for (int round = 0; round < 50; round++) {
		size_t n = 0, at = 0;

		for (;;) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			at += 1 + x % 700;
			if (at >= c.len)
				break;
			cuts[n++] = at;
		}
		feed_check(&c, cuts, n, SIP_MAX_MSG, "random pieces");
	}
	free(cuts);
	corpus_free(&c);
}
END_TEST

/* what a framer made of some bytes, fed in one piece and byte by byte */
static void frame_bytes(const void *p, size_t len, size_t max_msg, struct collect *col)
{
	struct collect one;

	for (int pass = 0; pass < 2; pass++) {
		struct collect *c = pass == 0 ? col : &one;
		struct sip_framer *f = sip_framer_new(max_msg);

		ck_assert_ptr_nonnull(f);
		collect_init(c, len);
		if (pass == 0) {
			uint8_t *d = dup_exact(p, len);

			ck_assert_int_eq(sip_framer_feed(f, d, len, collect_fn, c), 0);
			free(d);
		} else {
			for (size_t i = 0; i < len; i++)
				ck_assert_int_eq(sip_framer_feed(f, (const uint8_t *)p + i, 1,
								 collect_fn, c), 0);
		}
		ck_assert(!c->overflow);
		ck_assert_uint_eq(c->out_len + sip_framer_pending(f), len);
		ck_assert(memcmp(c->out, p, c->out_len) == 0);
		sip_framer_free(f);
	}
	ck_assert_uint_eq(one.n_msgs, col->n_msgs);
	ck_assert_uint_eq(one.out_len, col->out_len);
	for (size_t i = 0; i < col->n_msgs; i++) {
		ck_assert_uint_eq(one.msg_off[i], col->msg_off[i]);
		ck_assert_uint_eq(one.msg_len[i], col->msg_len[i]);
	}
	free(one.out);
}

/* RFC 5626 §3.5.1 keep-alives pass at once, never held */
START_TEST(test_framer_keepalive_rfc5626_3_5_1)
{
	struct sip_framer *f = sip_framer_new(SIP_MAX_MSG);
	struct collect col;

	collect_init(&col, 64);
	ck_assert_int_eq(sip_framer_feed(f, (const uint8_t *)"\r\n\r\n", 4, collect_fn, &col), 0);
	ck_assert_uint_eq(sip_framer_pending(f), 0);
	ck_assert_uint_eq(col.out_len, 4);
	ck_assert_int_eq(sip_framer_feed(f, (const uint8_t *)"\r", 1, collect_fn, &col), 0);
	ck_assert_uint_eq(sip_framer_pending(f), 0);
	ck_assert_int_eq(sip_framer_feed(f, (const uint8_t *)"\n", 1, collect_fn, &col), 0);
	ck_assert_uint_eq(sip_framer_pending(f), 0);
	ck_assert_uint_eq(col.out_len, 6);
	ck_assert_uint_eq(col.n_msgs, 0);
	/* the start of a message is held */
	ck_assert_int_eq(sip_framer_feed(f, (const uint8_t *)"INVITE sip:", 11, collect_fn, &col), 0);
	ck_assert_uint_eq(sip_framer_pending(f), 11);
	ck_assert_uint_eq(col.out_len, 6);
	free(col.out);
	sip_framer_free(f);
}
END_TEST

/* bytes that cannot be SIP pass through, and are not held */
START_TEST(test_framer_not_sip)
{
	static const uint8_t tls_hello[] = {
		0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00,
		'I', 'N', 'V', 'I', 'T', 'E', ' ', 's', 'i', 'p', ':', 'x', 0x00,
	};
	static const char *const texts[] = {
		"GET / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}\n",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"EHLO mail.example.org\r\n",
		"INVITE sip:a@b SIP/2.1\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 99 x\r\nContent-Length: 0\r\n\r\n",
		"INVITE bob SIP/2.0\r\nContent-Length: 0\r\n\r\n",
		"  indented\r\n",
		"x\ty\r\n",
	};
	struct collect col;

	frame_bytes(tls_hello, sizeof(tls_hello), SIP_MAX_MSG, &col);
	ck_assert_uint_eq(col.n_msgs, 0);
	ck_assert_uint_eq(col.out_len, sizeof(tls_hello));
	free(col.out);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		frame_bytes(texts[i], strlen(texts[i]), SIP_MAX_MSG, &col);
		ck_assert_msg(col.n_msgs == 0, "framed %s", texts[i]);
		ck_assert_msg(col.out_len == strlen(texts[i]), "held part of %s", texts[i]);
		free(col.out);
	}
	/* after the junk line, a message is found again */
	char s[8192];

	snprintf(s, sizeof(s), "GET / HTTP/1.1\r\n%s", mk(0, head_bye, ""));
	frame_bytes(s, strlen(s), SIP_MAX_MSG, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_off[0], 16);
	free(col.out);
	/* a binary blob that is not held piece by piece either */
	struct sip_framer *f = sip_framer_new(SIP_MAX_MSG);
	struct collect c2;

	collect_init(&c2, sizeof(tls_hello));
	for (size_t i = 0; i < sizeof(tls_hello); i++) {
		ck_assert_int_eq(sip_framer_feed(f, tls_hello + i, 1, collect_fn, &c2), 0);
		ck_assert_uint_eq(sip_framer_pending(f), 0);
	}
	free(c2.out);
	sip_framer_free(f);
}
END_TEST

/* no usable Content-Length on TCP: the header block goes through */
START_TEST(test_framer_no_content_length)
{
	static const char *const cls[] = { NULL, "abc", "-1", "99999999999999999999", "5\r\nl: 6" };
	char s[4096];

	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		struct collect col;
		int n;

		if (cls[i] == NULL)
			n = snprintf(s, sizeof(s), "%s\r\n", head_bye);
		else
			n = snprintf(s, sizeof(s), "%sContent-Length: %s\r\n\r\n", head_bye, cls[i]);
		size_t hdr = (size_t)n;

		snprintf(s + n, sizeof(s) - (size_t)n, "%s", mk(0, head_ack, ""));
		frame_bytes(s, strlen(s), SIP_MAX_MSG, &col);
		ck_assert_msg(col.n_msgs == 1, "cl %zu: %zu messages", i, col.n_msgs);
		ck_assert_uint_eq(col.msg_off[0], hdr);
		ck_assert_uint_eq(col.msg_len[0], strlen(s) - hdr);
		ck_assert_uint_eq(col.out_len, strlen(s));
		free(col.out);
	}
}
END_TEST

/* messages over max_msg pass through unparsed; framing resumes after */
START_TEST(test_framer_oversize)
{
	static char s[16384];
	struct collect col;
	const char *big = mk(0, head_invite, sdp_baresip);
	size_t big_len = strlen(big);
	const char *next = mk(1, head_bye, "");

	/* body over the limit: skipped by its Content-Length */
	snprintf(s, sizeof(s), "%s%s", big, next);
	frame_bytes(s, strlen(s), 700, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_off[0], big_len);
	free(col.out);

	/* header block over the limit: the INVITE's, then the BYE's too */
	ck_assert_uint_gt(strlen(head_invite), strlen(next) + 10);
	frame_bytes(s, strlen(s), strlen(next) + 10, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_off[0], big_len);
	free(col.out);
	frame_bytes(s, strlen(s), strlen(next) - 10, &col);
	ck_assert_uint_eq(col.out_len, strlen(s));
	ck_assert_uint_eq(col.n_msgs, 0);
	free(col.out);

	/* a start line longer than max_msg */
	size_t n = (size_t)snprintf(s, sizeof(s), "INVITE sip:");
	while (n < 1000)
		s[n++] = 'a';
	snprintf(s + n, sizeof(s) - n, "@b SIP/2.0\r\nCall-ID: x\r\n\r\n%s", next);
	frame_bytes(s, strlen(s), 500, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_len[0], strlen(next));
	free(col.out);

	/* a skipped body that does not end its line: the next message
	 * starts right after its last byte */
	const char *im = mk(2, "MESSAGE sip:bob@example.org SIP/2.0\r\nCall-ID: im\r\n"
			    "CSeq: 5 MESSAGE\r\nContent-Type: text/plain\r\n",
			    "a long text with no line end at its end, a long text with no line "
			    "end at its end, a long text with no line end at its end.");
	const char *ack = "ACK sip:b@c SIP/2.0\r\nCall-ID: k\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";

	snprintf(s, sizeof(s), "%s%s", im, ack);
	ck_assert_uint_gt(strlen(im), 200);
	ck_assert_uint_lt(strstr(im, "\r\n\r\n") - im, 200);
	frame_bytes(s, strlen(s), 200, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_off[0], strlen(im));
	ck_assert_uint_eq(col.msg_len[0], strlen(ack));
	free(col.out);

	/* a header block cut at max_msg just where a header's value looks
	 * like a start line: the rest of that line is not a message */
	n = (size_t)snprintf(s, sizeof(s), "OPTIONS sip:a@b SIP/2.0\r\nSubject: ");
	while (n < 200)
		s[n++] = 'x';
	snprintf(s + n, sizeof(s) - n,
		 "BYE sip:x@y SIP/2.0\r\nCall-ID: y\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
	frame_bytes(s, strlen(s), 200, &col);
	ck_assert_uint_eq(col.n_msgs, 0);
	ck_assert_uint_eq(col.out_len, strlen(s));
	free(col.out);

	/* a body bigger than max_msg, fed in pieces: never held over it */
	struct corpus c;

	memset(&c, 0, sizeof(c));
	corpus_add(&c, big, big_len, false);
	corpus_add(&c, next, strlen(next), true);
	size_t cuts[2];

	for (size_t k = 1; k < c.len; k += 7) {
		cuts[0] = k;
		feed_check(&c, cuts, 1, 700, "oversize split");
	}
	corpus_free(&c);
}
END_TEST

/* a NUL or odd bytes in a framed message: framed, the parser refuses */
START_TEST(test_framer_binary_body)
{
	static const uint8_t body[] = { 0x00, 0x01, '\r', '\n', 'I', 'N', 'V', 0x00, '\n' };
	char head[1024];
	uint8_t s[2048];
	int n = snprintf(head, sizeof(head),
			 "MESSAGE sip:a@b SIP/2.0\r\nCall-ID: b\r\nCSeq: 1 MESSAGE\r\n"
			 "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
			 sizeof(body));
	struct collect col;

	memcpy(s, head, (size_t)n);
	memcpy(s + n, body, sizeof(body));
	memcpy(s + n + sizeof(body), "\r\n", 2);
	frame_bytes(s, (size_t)n + sizeof(body) + 2, SIP_MAX_MSG, &col);
	ck_assert_uint_eq(col.n_msgs, 1);
	ck_assert_uint_eq(col.msg_len[0], (size_t)n + sizeof(body));
	free(col.out);
}
END_TEST

/* --- the captured corpus (tests/data/sip) ------------------------------ */

/* Read dir/name into a heap buffer of exactly its size. */
static uint8_t *fixture_read(const char *dir, const char *name, size_t *len)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	uint8_t *p = file_read(path, len);

	if (p == NULL)
		return NULL;
	uint8_t *d = dup_exact(p, *len);

	free(p);
	return d;
}

static bool slice_eq_str(struct sip_slice s, const char *v, size_t vlen)
{
	return s.p != NULL && s.len == vlen && memcmp(s.p, v, vlen) == 0;
}

/* Check one parsed message against its .expect (fields up to "sdp"). */
static void expect_check(const char *name, const struct sip_msg *m,
			 const char *exp, size_t exp_len)
{
	const char *p = exp, *end = exp + exp_len;
	int checked = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(le - p));

		if (sp != NULL) {
			size_t kl = (size_t)(sp - p);
			const char *v = sp + 1;
			size_t vl = (size_t)(le - v);
			char num[32];

			snprintf(num, sizeof(num), "%.*s", (int)(vl < 31 ? vl : 31), v);
			if (kl == 4 && memcmp(p, "kind", 4) == 0) {
				ck_assert_msg((m->kind == SIP_REQUEST) == (vl == 7 && memcmp(v, "request", 7) == 0),
					      "%s: kind", name);
				checked++;
			} else if (kl == 6 && memcmp(p, "method", 6) == 0) {
				ck_assert_msg(slice_eq_str(m->method, v, vl), "%s: method %.*s", name,
					      (int)m->method.len, m->method.p);
				checked++;
			} else if (kl == 6 && memcmp(p, "status", 6) == 0) {
				ck_assert_msg(m->status == atoi(num), "%s: status %d", name, m->status);
				checked++;
			} else if (kl == 7 && memcmp(p, "call-id", 7) == 0) {
				ck_assert_msg(slice_eq_str(m->call_id, v, vl), "%s: call-id", name);
				checked++;
			} else if (kl == 4 && memcmp(p, "cseq", 4) == 0) {
				ck_assert_msg(m->cseq == strtoul(num, NULL, 10), "%s: cseq", name);
				checked++;
			} else if (kl == 14 && memcmp(p, "content-length", 14) == 0) {
				if (vl == 4 && memcmp(v, "none", 4) == 0)
					ck_assert_msg(!m->has_content_length, "%s: has CL", name);
				else
					ck_assert_msg(m->has_content_length &&
						      m->content_length == strtoul(num, NULL, 10),
						      "%s: content-length %zu", name, m->content_length);
				checked++;
			} else if (kl == 3 && memcmp(p, "sdp", 3) == 0) {
				bool yes = vl == 3 && memcmp(v, "yes", 3) == 0;

				ck_assert_msg((m->sdp.p != NULL) == yes, "%s: sdp", name);
				if (yes)
					ck_assert_msg(m->sdp.p == m->body.p && m->sdp.len == m->body.len,
						      "%s: sdp is not the body", name);
				checked++;
			}
		}
		p = le + 1;
	}
	ck_assert_msg(checked >= 6, "%s: .expect has only %d known lines", name, checked);
}

/* every .sip parses (UDP) as its .expect says; prefixes never crash */
START_TEST(test_fixtures_expect)
{
	char dir[4096];
	DIR *d = fixtures_open(dir, sizeof(dir));
	struct dirent *e;
	int n = 0;

	if (d == NULL) {
		fprintf(stderr, "sip fixtures: SKIPPED, no tests/data/sip (set ZS_SRCDIR)\n");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		size_t len = 0, elen = 0;
		char ename[1024];
		struct sip_msg m;

		if (nl < 5 || nl > 1000 || strcmp(e->d_name + nl - 4, ".sip") != 0)
			continue;
		uint8_t *p = fixture_read(dir, e->d_name, &len);

		ck_assert_ptr_nonnull(p);
		snprintf(ename, sizeof(ename), "%.*s.expect", (int)(nl - 4), e->d_name);
		uint8_t *x = fixture_read(dir, ename, &elen);

		int rc = sip_msg_parse(p, len, false, &m);

		ck_assert_msg(rc == 0, "%s: %d", e->d_name, rc);
		if (x != NULL) {
			expect_check(e->d_name, &m, (const char *)x, elen);
			n++;
		}
		/* a message with Content-Length is a whole TCP message too */
		if (m.has_content_length)
			ck_assert_msg(sip_msg_parse(p, len, true, &m) == 0, "%s: TCP", e->d_name);
		else
			ck_assert_int_eq(sip_msg_parse(p, len, true, &m), -EBADMSG);
		struct sip_dialog_info di;

		sip_dialog_classify(&m, false, &di);
		sip_dialog_classify(&m, true, &di);
		for (size_t k = 0; k < len; k += 3) {
			struct sip_msg t;

			(void)parse_n(p, k, false, &t);
		}
		free(x);
		free(p);
	}
	closedir(d);
	ck_assert_msg(n >= 10, "only %d .expect files", n);
}
END_TEST

/* Frames of a tcp/NAME.frames file: the message offsets and lengths. */
static void frames_load(const char *txt, size_t len, struct corpus *c)
{
	const char *p = txt, *end = txt + len;
	size_t covered = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char line[512];
		size_t off = 0, n = 0;

		snprintf(line, sizeof(line), "%.*s", (int)(le - p < 511 ? le - p : 511), p);
		if (sscanf(line, "message %zu %zu", &off, &n) == 2) {
			ck_assert_uint_lt(c->n_msgs, MAX_FRAMES);
			c->msg_off[c->n_msgs] = off;
			c->msg_len[c->n_msgs] = n;
			c->n_msgs++;
		} else if (sscanf(line, "passthrough %zu %zu", &off, &n) != 2) {
			ck_assert_msg(line[0] == '\0', "bad .frames line %s", line);
			p = le + 1;
			continue;
		}
		ck_assert_uint_eq(off, covered);
		covered += n;
		p = le + 1;
	}
	ck_assert_uint_eq(covered, c->len);
}

/* tcp/NAME.stream: real SIP-over-TCP byte streams, in every split */
START_TEST(test_fixtures_tcp_streams)
{
	char dir[4096], tdir[4200];
	DIR *d = fixtures_open(dir, sizeof(dir));
	struct dirent *e;
	int n = 0;

	if (d == NULL) {
		fprintf(stderr, "sip tcp fixtures: SKIPPED, no tests/data/sip (set ZS_SRCDIR)\n");
		return;
	}
	closedir(d);
	snprintf(tdir, sizeof(tdir), "%s/tcp", dir);
	d = opendir(tdir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		char fname[1024];
		size_t flen = 0;
		struct corpus c;

		if (nl < 8 || nl > 1000 || strcmp(e->d_name + nl - 7, ".stream") != 0)
			continue;
		memset(&c, 0, sizeof(c));
		c.data = fixture_read(tdir, e->d_name, &c.len);
		ck_assert_ptr_nonnull(c.data);
		snprintf(fname, sizeof(fname), "%.*s.frames", (int)(nl - 7), e->d_name);
		uint8_t *fr = fixture_read(tdir, fname, &flen);

		ck_assert_msg(fr != NULL, "%s has no .frames", e->d_name);
		frames_load((const char *)fr, flen, &c);
		free(fr);
		feed_check(&c, NULL, 0, SIP_MAX_MSG, e->d_name);
		for (size_t k = 0; k <= c.len; k++)
			feed_check(&c, &k, 1, SIP_MAX_MSG, e->d_name);
		size_t *cuts = malloc(c.len * sizeof(*cuts));

		ck_assert_ptr_nonnull(cuts);
		for (size_t i = 0; i + 1 < c.len; i++)
			cuts[i] = i + 1;
		feed_check(&c, cuts, c.len - 1, SIP_MAX_MSG, e->d_name);
		free(cuts);
		for (size_t i = 0; i < c.n_msgs; i++) {
			struct sip_msg m;

			ck_assert_int_eq(parse_n(c.data + c.msg_off[i], c.msg_len[i], true, &m), 0);
		}
		corpus_free(&c);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 1);
}
END_TEST

/* --- identities: From, To, P-Asserted-Identity (RFC 3261 §20.10, RFC 3325) */

static int ident(const char *v, char uri[128], char name[64])
{
	struct sip_slice sl = { v, strlen(v) };
	return sip_identity_parse(sl, uri, 128, name, 64);
}

START_TEST(identity_forms)
{
	static const struct {
		const char *in, *uri, *name;
	} ok[] = {
		{ "<sip:alice@127.0.0.1:5371>;tag=75132af434db2c22",
		  "sip:alice@127.0.0.1:5371", "" },
		{ "sipp <sip:sipp@127.0.0.1:5391>;tag=11015SIPpTag001",
		  "sip:sipp@127.0.0.1:5391", "sipp" },
		{ "\"Bob\" <sips:bob@Example.COM>", "sips:bob@example.com", "Bob" },
		/* RFC 3261 §25.1 quoted-pairs, and a '<' inside the quotes. */
		{ "\"Bob \\\"the\\\" <Builder> \\\\ Jr\" <sip:bob@h>",
		  "sip:bob@h", "Bob \"the\" <Builder> \\ Jr" },
		{ "\"\" <sip:anon@h>", "sip:anon@h", "" },
		/* Token display names, white space and a folded line. */
		{ "  Carol   Ann\r\n\tSmith <sip:carol@h:5060;transport=tcp>",
		  "sip:carol@h:5060", "Carol Ann Smith" },
		/* addr-spec: ;tag belongs to the header, not the URI. */
		{ "sip:dave@10.0.0.1;tag=xyz", "sip:dave@10.0.0.1", "" },
		/* Scheme case, password, URI params and headers go. */
		{ "<SIP:Eve:secret@HOST.example:5062;user=phone?Subject=x>",
		  "sip:Eve@host.example:5062", "" },
		{ "<sip:[2001:DB8::1]:5070>", "sip:[2001:db8::1]:5070", "" },
		{ "<sip:frank@[::1]>", "sip:frank@[::1]", "" },
		{ "<sip:example.org>", "sip:example.org", "" },
		/* UTF-8 in a quoted name stays. */
		{ "\"Zo\xc3\xab\" <sip:zoe@h>", "sip:zoe@h", "Zo\xc3\xab" },
	};
	static const char *bad[] = {
		"<tel:+15551234>",           /* not sip: */
		"\"Bob <sip:bob@h>",          /* unterminated quote */
		"\"Bob\" sip:bob@h",          /* quoted name without <> */
		"<sip:bob@h",                 /* no '>' */
		"<sip:bob@>",                 /* no host */
		"<sip:@h>",                   /* empty user */
		"<sip:bob@h:0>", "<sip:bob@h:70000>", "<sip:bob@h:>",
		"<sip:bob@h x>", "<sip:bob@[::1>", "<sip:bob@[zz]>",
		"<sip:b\x01ob@h>",
		"Bob\" <sip:bob@h>",          /* quote in a token name */
		"\"a\\\r\n\" <sip:x@h>",      /* quoted CR */
		"", "   ", "<>", "mailto:x@h",
	};
	char uri[128], name[64];

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		ck_assert_msg(ident(ok[i].in, uri, name) == 0, "%s", ok[i].in);
		ck_assert_str_eq(uri, ok[i].uri);
		ck_assert_str_eq(name, ok[i].name);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		strcpy(uri, "junk");
		strcpy(name, "junk");
		ck_assert_msg(ident(bad[i], uri, name) < 0, "%s", bad[i]);
		ck_assert_str_eq(uri, "");
		ck_assert_str_eq(name, "");
	}
}
END_TEST

START_TEST(identity_bounds)
{
	char big[400], uri[128], name[64], small[8];
	struct sip_slice sl;

	/* A URI longer than the buffer: refused, not cut. */
	memset(big, 'u', sizeof big);
	memcpy(big, "<sip:", 5);
	strcpy(big + 300, "@h>");
	ck_assert_int_eq(ident(big, uri, name), -ENOSPC);
	/* A long name is cut, at a character boundary. */
	memset(big, 0, sizeof big);
	big[0] = '"';
	for (int i = 0; i < 40; i++)
		memcpy(big + 1 + 2 * i, "\xc3\xa9", 2);
	strcat(big, "\" <sip:x@h>");
	ck_assert_int_eq(ident(big, uri, name), 0);
	ck_assert_uint_eq(strlen(name), 62);
	ck_assert_int_eq((unsigned char)name[61], 0xa9);
	sl.p = "\"abc\xc3\xa9\" <sip:x@h>";
	sl.len = strlen(sl.p);
	ck_assert_int_eq(sip_identity_parse(sl, uri, 128, small, 5), 0);
	ck_assert_str_eq(small, "abc");
	ck_assert_int_eq(sip_identity_parse(sl, uri, 7, small, 8), -ENOSPC);
	ck_assert_int_eq(sip_identity_parse(sl, uri, 8, small, 8), 0);
	/* Only the slice is read: no NUL needed after it. */
	sl.p = "<sip:bob@h>XXXX";
	sl.len = 11;
	ck_assert_int_eq(sip_identity_parse(sl, uri, 128, name, 64), 0);
	ck_assert_str_eq(uri, "sip:bob@h");
	sl.len = 10;
	ck_assert_int_lt(sip_identity_parse(sl, uri, 128, name, 64), 0);
}
END_TEST

Suite *sip_suite(void)
{
	Suite *s = suite_create("sip");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_invite_rfc3261_7_1);
	tcase_add_test(tc, test_parse_response_rfc3261_7_2);
	tcase_add_test(tc, test_parse_start_line_rfc3261_7);
	tcase_add_test(tc, test_parse_compact_rfc3261_7_3_3);
	tcase_add_test(tc, test_parse_folded_rfc3261_7_3_1);
	tcase_add_test(tc, test_parse_bare_lf);
	tcase_add_test(tc, test_parse_leading_crlf_rfc3261_7_5);
	tcase_add_test(tc, test_parse_content_length_rfc3261_18_3);
	tcase_add_test(tc, test_parse_content_length_bad);
	tcase_add_test(tc, test_parse_required_headers_rfc3261_8_1_1);
	tcase_add_test(tc, test_parse_nul);
	tcase_add_test(tc, test_parse_many_headers);
	tcase_add_test(tc, test_parse_huge);
	tcase_add_test(tc, test_parse_missing_final_crlf);
	tcase_add_test(tc, test_parse_truncated_every_length);
	tcase_add_test(tc, test_parse_multipart_rfc2046_5_1_1);
	tcase_add_test(tc, test_parse_not_sdp);
	suite_add_tcase(s, tc);

	tc = tcase_create("offer_answer");
	tcase_add_test(tc, test_oa_invite_offer_rfc3261_13_2_1);
	tcase_add_test(tc, test_oa_invite_no_sdp_rfc3261_13_2_1);
	tcase_add_test(tc, test_oa_18x_rfc6337_2_1);
	tcase_add_test(tc, test_oa_update_rfc3311_5);
	tcase_add_test(tc, test_oa_prack_rfc3262_5);
	tcase_add_test(tc, test_oa_ends_media);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_test(tc, identity_forms);
	tcase_add_test(tc, identity_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("framer");
	/* every split of the corpus under ASan takes a while */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_framer_whole_rfc3261_18_3);
	tcase_add_test(tc, test_framer_every_split);
	tcase_add_test(tc, test_framer_one_byte_pieces);
	tcase_add_test(tc, test_framer_keepalive_rfc5626_3_5_1);
	tcase_add_test(tc, test_framer_not_sip);
	tcase_add_test(tc, test_framer_no_content_length);
	tcase_add_test(tc, test_framer_oversize);
	tcase_add_test(tc, test_framer_binary_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("captured");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fixtures_expect);
	tcase_add_test(tc, test_fixtures_tcp_streams);
	suite_add_tcase(s, tc);
	return s;
}
