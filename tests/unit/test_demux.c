/*
 * The demux suite: the one datagram classifier (common/demux.h) that the
 * shim and `zrtpshim verify` share, on the boundary of every class. Each
 * test is named after the RFC section its boundary comes from.
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/suites.h"
#include "common/demux.h"
#include "zrtp/packet.h"

#define P_RTP DEMUX_PORT_RTP
#define P_RTCP DEMUX_PORT_RTCP

static enum demux_class cls(const uint8_t *p, size_t len, enum demux_port port)
{
	return demux_classify(p, len, port);
}

#define ck_class(p, len, port, want)                                           \
	do {                                                                   \
		enum demux_class got_ = cls((p), (len), (port));               \
		ck_assert_msg(got_ == (want), "%s:%d: %zu bytes, byte0 %#x, "  \
			      "byte1 %u, port %d: %s, want %s", __FILE__,      \
			      __LINE__, (size_t)(len), (p)[0], (len) > 1 ? (p)[1] : 0, \
			      (int)(port), demux_class_name(got_),             \
			      demux_class_name(want));                         \
	} while (0)

/* A version-2 header of len bytes (zeros after it) with this second byte. */
static void v2(uint8_t *p, size_t len, uint8_t b1)
{
	memset(p, 0, len);
	p[0] = 0x80;
	if (len > 1)
		p[1] = b1;
}

/* RFC 6189 §5.3: HelloACK, a header-only message, through the codec. */
static size_t helloack(uint8_t *pkt, size_t cap)
{
	struct zrtp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_HELLOACK;
	uint8_t msg[64];
	int ml = zrtp_msg_encode(msg, sizeof(msg), &m);
	ck_assert_int_gt(ml, 0);
	int pl = zrtp_packet_wrap(pkt, cap, 0x1234, 0xcafe0001u, msg, (size_t)ml);
	ck_assert_int_eq(pl, 28);
	return (size_t)pl;
}

/* The CRC-32C trailer (RFC 6189 §5), little-endian as the engine writes. */
static void crc_fix(uint8_t *p, size_t len)
{
	uint32_t c = zrtp_crc32c(p, len - ZRTP_CRC_LEN);
	for (int i = 0; i < 4; i++)
		p[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

/* ------------------------------------------------------------------ */
/* RTP and RTCP                                                        */

START_TEST(rfc5761_s4_pt_byte_on_muxed_port)
{
	uint8_t p[12];
	static const struct { uint8_t b1; enum demux_class want; } v[] = {
		{ 191, DEMUX_RTP }, { 192, DEMUX_RTCP },
		{ 223, DEMUX_RTCP }, { 224, DEMUX_RTP },
		{ 0, DEMUX_RTP }, { 200, DEMUX_RTCP }, { 255, DEMUX_RTP },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		v2(p, sizeof(p), v[i].b1);
		ck_class(p, sizeof(p), P_RTP, v[i].want);
	}
}
END_TEST

START_TEST(rfc5761_s4_pt_byte_on_rtcp_port)
{
	/* RFC 5761 §4 applies to a muxed port only: on the RTCP port of a
	 * stream without mux, every version-2 datagram is RTCP. */
	uint8_t p[12];
	static const uint8_t b1[] = { 191, 192, 223, 224, 0, 96, 255 };
	for (size_t i = 0; i < sizeof(b1); i++) {
		v2(p, sizeof(p), b1[i]);
		ck_class(p, sizeof(p), P_RTCP, DEMUX_RTCP);
	}
}
END_TEST

START_TEST(rfc3550_s6_4_2_rtcp_needs_header_and_ssrc)
{
	uint8_t p[16];
	/* 1 byte: nothing of a header */
	v2(p, 1, 0);
	ck_class(p, 1, P_RTP, DEMUX_OTHER);
	ck_class(p, 1, P_RTCP, DEMUX_OTHER);
	/* 7 bytes: no SSRC yet, whatever the type */
	v2(p, 7, 200);
	ck_class(p, 7, P_RTP, DEMUX_OTHER);
	ck_class(p, 7, P_RTCP, DEMUX_OTHER);
	for (size_t len = 8; len <= 11; len++) {
		v2(p, len, 200);
		ck_class(p, len, P_RTP, DEMUX_RTCP);
		ck_class(p, len, P_RTCP, DEMUX_RTCP);
		/* too short for RTP (RFC 3550 §5.1), so not RTP either */
		v2(p, len, 0);
		ck_class(p, len, P_RTP, DEMUX_OTHER);
		ck_class(p, len, P_RTCP, DEMUX_RTCP);
	}
}
END_TEST

START_TEST(rfc3550_s5_1_rtp_fixed_header)
{
	uint8_t p[12];
	v2(p, 12, 0);
	ck_class(p, 11, P_RTP, DEMUX_OTHER);
	ck_class(p, 12, P_RTP, DEMUX_RTP);
	/* version 2 is the top two bits; P, X, CC do not matter */
	for (unsigned b0 = 0x80; b0 <= 0xbf; b0++) {
		p[0] = (uint8_t)b0;
		ck_class(p, 12, P_RTP, DEMUX_RTP);
	}
	/* versions 1 and 3 are not RTP */
	p[0] = 0x40;
	ck_class(p, 12, P_RTP, DEMUX_OTHER);
	p[0] = 0xc0;
	ck_class(p, 12, P_RTP, DEMUX_OTHER);
	ck_class(p, 12, P_RTCP, DEMUX_OTHER);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ZRTP                                                                */

START_TEST(rfc6189_s5_valid_helloack)
{
	uint8_t p[64];
	size_t len = helloack(p, sizeof(p));
	ck_class(p, len, P_RTP, DEMUX_ZRTP);
	ck_class(p, len, P_RTCP, DEMUX_ZRTP);
	/* the same bytes plus one: the CRC is no longer the last word */
	p[len] = 0;
	ck_class(p, len + 1, P_RTP, DEMUX_OTHER);
}
END_TEST

START_TEST(rfc6189_s5_crc_bit_flipped)
{
	uint8_t p[64], q[64];
	size_t len = helloack(p, sizeof(p));
	/* every bit of the packet, CRC included: the shim passes it */
	for (size_t bit = 0; bit < 8 * len; bit++) {
		memcpy(q, p, len);
		q[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		enum demux_class c = cls(q, len, P_RTP);
		ck_assert_msg(c != DEMUX_ZRTP, "bit %zu flipped: still zrtp", bit);
		if (bit >= 8 * (len - ZRTP_CRC_LEN))
			ck_assert_msg(c == DEMUX_OTHER, "CRC bit %zu: %s", bit,
				      demux_class_name(c));
	}
}
END_TEST

START_TEST(rfc6189_s5_first_byte)
{
	uint8_t p[64];
	size_t len = helloack(p, sizeof(p));
	ck_assert_uint_eq(p[0], 0x10);
	/* 0x11 (bzrtp's fragments) is ZRTP with its own valid CRC ... */
	p[0] = 0x11;
	ck_class(p, len, P_RTP, DEMUX_OTHER);     /* the CRC was 0x10's */
	crc_fix(p, len);
	ck_class(p, len, P_RTP, DEMUX_ZRTP);
	/* ... no other first byte is, even with the magic and a good CRC */
	static const uint8_t other[] = { 0x00, 0x0f, 0x12, 0x13, 0x20, 0x90 };
	for (size_t i = 0; i < sizeof(other); i++) {
		p[0] = other[i];
		crc_fix(p, len);
		enum demux_class c = cls(p, len, P_RTP);
		ck_assert_msg(c != DEMUX_ZRTP, "byte0 %#x: zrtp", other[i]);
	}
}
END_TEST

START_TEST(rfc6189_s5_magic_and_length)
{
	uint8_t p[64];
	size_t len = helloack(p, sizeof(p));
	p[7] ^= 0x20;                     /* "ZRTp" */
	crc_fix(p, len);
	ck_class(p, len, P_RTP, DEMUX_OTHER);
	/* shorter than header + message header + CRC, CRC valid */
	len = helloack(p, sizeof(p));
	crc_fix(p, len - 1);
	ck_class(p, len - 1, P_RTP, DEMUX_OTHER);
}
END_TEST

/* ------------------------------------------------------------------ */
/* STUN, DTLS                                                          */

static const uint8_t stun_binding[20] = {
	0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

START_TEST(rfc5389_s6_magic_cookie)
{
	uint8_t p[20];
	memcpy(p, stun_binding, 20);
	ck_class(p, 20, P_RTP, DEMUX_STUN);
	ck_class(p, 20, P_RTCP, DEMUX_STUN);
	for (int i = 4; i < 8; i++) {
		memcpy(p, stun_binding, 20);
		p[i] ^= 0x01;
		ck_class(p, 20, P_RTP, DEMUX_OTHER);
	}
	/* RFC 7983 §7: STUN's first byte is 0..3 */
	memcpy(p, stun_binding, 20);
	for (unsigned b0 = 0; b0 <= 3; b0++) {
		p[0] = (uint8_t)b0;
		ck_class(p, 20, P_RTP, DEMUX_STUN);
	}
	p[0] = 4;
	ck_class(p, 20, P_RTP, DEMUX_OTHER);
}
END_TEST

START_TEST(rfc5389_s6_header_is_20_bytes)
{
	ck_class(stun_binding, 19, P_RTP, DEMUX_OTHER);
	ck_class(stun_binding, 20, P_RTP, DEMUX_STUN);
}
END_TEST

START_TEST(rfc7983_s7_dtls_first_byte)
{
	uint8_t p[32];
	memset(p, 0, sizeof(p));
	static const struct { uint8_t b0; enum demux_class want; } v[] = {
		{ 19, DEMUX_OTHER }, { 20, DEMUX_DTLS }, { 22, DEMUX_DTLS },
		{ 63, DEMUX_DTLS }, { 64, DEMUX_OTHER },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p[0] = v[i].b0;
		ck_class(p, sizeof(p), P_RTP, v[i].want);
		ck_class(p, 1, P_RTCP, v[i].want);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* SIP                                                                 */

static enum demux_class cls_str(const char *s)
{
	return cls((const uint8_t *)s, strlen(s), P_RTP);
}

START_TEST(rfc3261_s7_1_request_and_response)
{
	static const char *const yes[] = {
		"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n\r\n",
		"ACK sips:bob@example.com;transport=tls SIP/2.0\r\n",
		"REGISTER sip:example.com SIP/2.0\n",
		"OPTIONS tel:+15551234 SIP/2.0\r\n",
		"SIP/2.0 200 OK\r\n",
		"SIP/2.0 100 Trying\r\n",
		"INVITE si",                   /* a prefix: plausible */
		"INVITE sip:bob@example.com",  /* no line end yet */
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		ck_assert_msg(cls_str(yes[i]) == DEMUX_SIP, "%s", yes[i]);
		ck_assert(demux_sip_looks((const uint8_t *)yes[i], strlen(yes[i])));
	}
}
END_TEST

START_TEST(rfc3261_s7_1_near_misses)
{
	static const char *const no[] = {
		"SIP/2.0",                      /* 7 bytes */
		"SIP/2.0\r\n",                  /* no space after the version */
		"SIP/1.0 200 OK\r\n",
		"INVITE sip:bob@example.com SIP/3.0\r\n",
		"INVITE sip:bob@example.com\r\n",
		"invite sip:bob@example.com SIP/2.0\r\n",
		"IN sip:bob@example.com SIP/2.0\r\n",       /* method < 3 */
		"ABCDEFGHIJKLMNOPQ sip:x SIP/2.0\r\n",      /* method > 16 */
		"INVITEsip:bob@example.com SIP/2.0\r\n",
		"INVITE 12345 SIP/2.0\r\n",                 /* no scheme */
		"INVITE sip@bob SIP/2.0\r\n",               /* no ':' */
		"INVITE  sip:bob SIP/2.0\r\n",
		"HTTP/1.1 200 OK\r\n",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ck_assert_msg(cls_str(no[i]) == DEMUX_OTHER, "%s: %s", no[i],
			      demux_class_name(cls_str(no[i])));
		ck_assert(!demux_sip_looks((const uint8_t *)no[i], strlen(no[i])));
	}
	ck_assert(!demux_sip_looks(NULL, 20));
}
END_TEST

/* ------------------------------------------------------------------ */
/* RFC 7983 §7: the first byte alone lets a hook pass a datagram       */

static bool byte0_in_core(unsigned b0)
{
	return b0 == 0x10 || b0 == 0x11 || (b0 >= 0x80 && b0 <= 0xbf) ||
	       (b0 >= 'A' && b0 <= 'Z');
}

START_TEST(rfc7983_s7_byte0_passes_exhaustive)
{
	static const size_t lens[] = { 1, 7, 8, 11, 12, 19, 20, 27, 28, 40, 200 };
	uint8_t p[256];
	for (unsigned b0 = 0; b0 < 256; b0++) {
		ck_assert_msg(demux_byte0_passes((uint8_t)b0) == !byte0_in_core(b0),
			      "byte0 %#x", b0);
		if (!demux_byte0_passes((uint8_t)b0))
			continue;
		for (int fill = 0; fill < 6; fill++) {
			for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
				size_t len = lens[li];
				memset(p, fill == 1 ? 0xff : 0, sizeof(p));
				if (fill == 2)              /* STUN cookie */
					memcpy(p + 4, stun_binding + 4, 4);
				if (fill == 3 && len >= 28) {   /* ZRTP magic + CRC */
					memcpy(p + 4, "ZRTP", 4);
					crc_fix(p, len);
				}
				if (fill == 4)              /* an RTCP type */
					p[1] = 200;
				if (fill == 5)              /* SIP text after b0 */
					memcpy(p + 1, "NVITE sip:a SIP/2.0\r\n",
					       len > 22 ? 21 : len - 1);
				p[0] = (uint8_t)b0;
				for (int port = 0; port < 2; port++) {
					enum demux_class c = cls(p, len, port ? P_RTCP : P_RTP);
					ck_assert_msg(c != DEMUX_ZRTP && c != DEMUX_RTP &&
						      c != DEMUX_RTCP && c != DEMUX_SIP,
						      "byte0 %#x fill %d len %zu port %d: %s",
						      b0, fill, len, port,
						      demux_class_name(c));
				}
			}
		}
	}
}
END_TEST

START_TEST(demux_edges_and_names)
{
	uint8_t p[1] = { 0x80 };
	ck_assert_int_eq(demux_classify(NULL, 12, P_RTP), DEMUX_OTHER);
	ck_assert_int_eq(demux_classify(p, 0, P_RTP), DEMUX_OTHER);
	ck_assert_str_eq(demux_class_name(DEMUX_ZRTP), "zrtp");
	ck_assert_str_eq(demux_class_name(DEMUX_STUN), "stun");
	ck_assert_str_eq(demux_class_name(DEMUX_DTLS), "dtls");
	ck_assert_str_eq(demux_class_name(DEMUX_RTCP), "rtcp");
	ck_assert_str_eq(demux_class_name(DEMUX_RTP), "rtp");
	ck_assert_str_eq(demux_class_name(DEMUX_SIP), "sip");
	ck_assert_str_eq(demux_class_name(DEMUX_OTHER), "other");
	ck_assert_str_eq(demux_class_name((enum demux_class)99), "?");
}
END_TEST

Suite *demux_suite(void)
{
	Suite *s = suite_create("demux");
	TCase *t = tcase_create("rtp_rtcp");
	tcase_add_test(t, rfc5761_s4_pt_byte_on_muxed_port);
	tcase_add_test(t, rfc5761_s4_pt_byte_on_rtcp_port);
	tcase_add_test(t, rfc3550_s6_4_2_rtcp_needs_header_and_ssrc);
	tcase_add_test(t, rfc3550_s5_1_rtp_fixed_header);
	suite_add_tcase(s, t);

	t = tcase_create("zrtp");
	tcase_add_test(t, rfc6189_s5_valid_helloack);
	tcase_add_test(t, rfc6189_s5_crc_bit_flipped);
	tcase_add_test(t, rfc6189_s5_first_byte);
	tcase_add_test(t, rfc6189_s5_magic_and_length);
	suite_add_tcase(s, t);

	t = tcase_create("stun_dtls");
	tcase_add_test(t, rfc5389_s6_magic_cookie);
	tcase_add_test(t, rfc5389_s6_header_is_20_bytes);
	tcase_add_test(t, rfc7983_s7_dtls_first_byte);
	suite_add_tcase(s, t);

	t = tcase_create("sip");
	tcase_add_test(t, rfc3261_s7_1_request_and_response);
	tcase_add_test(t, rfc3261_s7_1_near_misses);
	suite_add_tcase(s, t);

	t = tcase_create("byte0");
	tcase_add_test(t, rfc7983_s7_byte0_passes_exhaustive);
	tcase_add_test(t, demux_edges_and_names);
	suite_add_tcase(s, t);
	return s;
}
