/*
 * Unit tests for the ZRTP packet codec and CRC-32C (zrtp/packet.c,
 * zrtp/crc32c.c). Vectors are named after their source:
 *  - RFC 3720 §B.4 (CRC-32C examples, iSCSI uses the same CRC);
 *  - Linphone bzrtp test/bzrtpParserTest.c: packets captured on the wire
 *    from bzrtp and from GNU ZRTP (libzrtpcpp), used here as data to prove
 *    that we read and write the same bytes, CRC placement included;
 *  - bzrtp test/bzrtpCryptoTest.cc: a CRC pattern made with GNU ZRTP.
 * Everything else is built here with distinctive field values.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/suites.h"
#include "zrtp/packet.h"

#define MSG_OFF ZRTP_PKT_HDR_LEN
#define BUF_LEN 2048

/* --- captured packets (bzrtp test/bzrtpParserTest.c) --------------------- */

/* Hello, seq 0x09f1, SSRC 0x12345678 (bzrtp, captured) */
static const uint8_t bz_hello[136] = {
	0x10, 0x00, 0x09, 0xf1, 0x5a, 0x52, 0x54, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x50, 0x5a, 0x00, 0x1e, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x20, 0x20,
	0x31, 0x2e, 0x31, 0x30, 0x4c, 0x49, 0x4e, 0x50, 0x48, 0x4f, 0x4e, 0x45,
	0x2d, 0x5a, 0x52, 0x54, 0x50, 0x43, 0x50, 0x50, 0xe8, 0xd5, 0x26, 0xc1,
	0x3a, 0x0c, 0x4c, 0x6a, 0xce, 0x18, 0xaa, 0xc7, 0xc4, 0xa4, 0x07, 0x0e,
	0x65, 0x7a, 0x4d, 0xca, 0x78, 0xf2, 0xcc, 0xcd, 0x20, 0x50, 0x38, 0x73,
	0xe9, 0x7e, 0x08, 0x29, 0x7e, 0xb0, 0x04, 0x97, 0xc0, 0xfe, 0xb2, 0xc9,
	0x24, 0x31, 0x49, 0x7f, 0x00, 0x01, 0x12, 0x31, 0x53, 0x32, 0x35, 0x36,
	0x41, 0x45, 0x53, 0x31, 0x48, 0x53, 0x33, 0x32, 0x48, 0x53, 0x38, 0x30,
	0x44, 0x48, 0x33, 0x6b, 0x44, 0x48, 0x32, 0x6b, 0x4d, 0x75, 0x6c, 0x74,
	0x42, 0x33, 0x32, 0x20, 0xa0, 0xfd, 0x0f, 0xad, 0xeb, 0xe0, 0x86, 0x56,
	0xe3, 0x65, 0x81, 0x02,
};

/* HelloACK, seq 0x09f2, SSRC 0x12345678 */
static const uint8_t bz_helloack[28] = {
	0x10, 0x00, 0x09, 0xf2, 0x5a, 0x52, 0x54, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x50, 0x5a, 0x00, 0x03, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x41, 0x43, 0x4b,
	0x77, 0x0e, 0x44, 0x07,
};

/* Commit (DH3k), seq 0x02d0, SSRC 0x87654321 */
static const uint8_t bz_commit[132] = {
	0x10, 0x00, 0x02, 0xd0, 0x5a, 0x52, 0x54, 0x50, 0x87, 0x65, 0x43, 0x21,
	0x50, 0x5a, 0x00, 0x1d, 0x43, 0x6f, 0x6d, 0x6d, 0x69, 0x74, 0x20, 0x20,
	0xd9, 0xff, 0x14, 0x8b, 0x34, 0xaa, 0x69, 0xe9, 0x33, 0xc1, 0x62, 0xe6,
	0x6b, 0xe8, 0xcd, 0x9d, 0xe3, 0x0f, 0xb7, 0x6a, 0xe8, 0x6a, 0x62, 0x2b,
	0xcb, 0xe4, 0x6b, 0x91, 0x05, 0xc7, 0xc8, 0x7e, 0x92, 0x42, 0xc2, 0xcf,
	0x44, 0xee, 0x9c, 0x65, 0xca, 0x58, 0x78, 0xf1, 0x53, 0x32, 0x35, 0x36,
	0x41, 0x45, 0x53, 0x31, 0x48, 0x53, 0x33, 0x32, 0x44, 0x48, 0x33, 0x6b,
	0x42, 0x33, 0x32, 0x20, 0x1e, 0xc0, 0xfe, 0x2e, 0x72, 0x06, 0x4d, 0xfb,
	0xfc, 0x92, 0x02, 0x8c, 0x03, 0x0f, 0xb8, 0xf8, 0x91, 0xb4, 0xe7, 0x96,
	0xac, 0x25, 0xfd, 0xf9, 0x68, 0xc6, 0xe9, 0x67, 0xa9, 0x42, 0xb1, 0x5b,
	0xbb, 0x6d, 0x9c, 0xd2, 0x4b, 0x13, 0xa9, 0xae, 0x25, 0x5c, 0xa9, 0xc1,
};

/* DHPart1 (DH3k, 384-byte pv), seq 0x09f5, SSRC 0x12345678 */
static const uint8_t bz_dhpart1[484] = {
	0x10, 0x00, 0x09, 0xf5, 0x5a, 0x52, 0x54, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x50, 0x5a, 0x00, 0x75, 0x44, 0x48, 0x50, 0x61, 0x72, 0x74, 0x31, 0x20,
	0x28, 0x7c, 0x28, 0xe4, 0xd7, 0x3d, 0x14, 0x39, 0xb5, 0x6d, 0x1c, 0x47,
	0x9d, 0x59, 0x0a, 0xf2, 0x10, 0x33, 0xde, 0x6b, 0xd5, 0x2b, 0xfb, 0x26,
	0xa5, 0x87, 0x4d, 0xe9, 0x20, 0x6b, 0x9f, 0xdd, 0xab, 0xbc, 0xc6, 0x8d,
	0xbd, 0x5d, 0xe6, 0x67, 0x00, 0x69, 0x44, 0xb1, 0x84, 0x2c, 0x27, 0x10,
	0x8c, 0x4e, 0x58, 0x8a, 0xed, 0x7e, 0x8b, 0x44, 0x2c, 0x3a, 0x13, 0x02,
	0xdf, 0x58, 0xb6, 0xda, 0x80, 0x55, 0xec, 0xb0, 0x20, 0xc7, 0x76, 0x50,
	0xc4, 0x1b, 0xa8, 0x26, 0x11, 0x5c, 0xf5, 0x71, 0x7e, 0xb4, 0x86, 0x22,
	0x17, 0xde, 0x14, 0x08, 0x46, 0x5c, 0xac, 0x88, 0x8c, 0x41, 0x6b, 0x95,
	0x22, 0xba, 0xf8, 0x3e, 0x67, 0x20, 0x94, 0xa0, 0x84, 0xa3, 0x93, 0x41,
	0x9a, 0x1a, 0x7c, 0x2f, 0x04, 0xf4, 0x14, 0x3f, 0x11, 0x54, 0x02, 0xba,
	0xee, 0xc2, 0x20, 0xfa, 0x38, 0xf7, 0xba, 0xa4, 0xbf, 0x4a, 0x70, 0x02,
	0x68, 0xdc, 0xb2, 0xe9, 0x1a, 0x8a, 0x87, 0xa5, 0xe4, 0x9c, 0x42, 0x07,
	0x82, 0x26, 0xb4, 0xda, 0xe3, 0x1b, 0xdc, 0x78, 0xc7, 0xd8, 0xa8, 0x00,
	0x5c, 0x00, 0x14, 0xe4, 0x00, 0xfe, 0x6c, 0x2d, 0xce, 0x62, 0xc9, 0x71,
	0x5d, 0xed, 0x4e, 0x66, 0x9f, 0xf5, 0x30, 0xc0, 0x04, 0x53, 0xf6, 0x15,
	0x2f, 0xe1, 0x85, 0x3b, 0xd9, 0x40, 0x9b, 0x50, 0x07, 0x43, 0x7c, 0x36,
	0x01, 0xa1, 0xda, 0x66, 0xc4, 0x20, 0x2f, 0x45, 0xc0, 0xcc, 0xb2, 0x64,
	0x63, 0x9c, 0x07, 0x9d, 0x23, 0x27, 0x80, 0xa1, 0x7f, 0xc2, 0xe0, 0xa0,
	0xfd, 0xc3, 0x98, 0x83, 0xa3, 0xaa, 0x6b, 0xdc, 0x9f, 0x6a, 0xc3, 0x32,
	0x94, 0xf0, 0x80, 0xa0, 0xd9, 0xf1, 0x83, 0x41, 0x48, 0xa9, 0xb5, 0xed,
	0x62, 0x50, 0x88, 0xec, 0x33, 0x32, 0xd2, 0x5f, 0xdc, 0xcc, 0xae, 0xc9,
	0x74, 0xca, 0x0a, 0xab, 0x82, 0x06, 0x01, 0x46, 0x35, 0x30, 0xcd, 0x68,
	0xec, 0x09, 0xab, 0x8c, 0xb0, 0x39, 0xe5, 0xd8, 0x5c, 0xa2, 0xe4, 0x82,
	0xfe, 0x46, 0x01, 0xbd, 0xe7, 0x7f, 0x60, 0x1b, 0x50, 0x62, 0xfb, 0x6f,
	0xee, 0x6c, 0xf1, 0xf7, 0x9b, 0xb7, 0x1c, 0x76, 0x48, 0xb5, 0xbe, 0xa5,
	0x83, 0x73, 0x07, 0xa2, 0xe2, 0x73, 0xc7, 0x68, 0x34, 0xc8, 0xef, 0x12,
	0xc4, 0x32, 0xdf, 0x37, 0x3d, 0xdc, 0x07, 0x0e, 0xa6, 0x92, 0x82, 0xbd,
	0xba, 0x20, 0xc4, 0xb4, 0x8d, 0x1f, 0x19, 0x1c, 0x15, 0x0f, 0x5f, 0x01,
	0xdf, 0x67, 0x1f, 0x59, 0xd1, 0x5e, 0x99, 0x60, 0xf6, 0xb8, 0x67, 0xe2,
	0x46, 0x62, 0x11, 0x30, 0xfb, 0x81, 0x9d, 0x0b, 0xec, 0x36, 0xe9, 0x8d,
	0x43, 0xfe, 0x55, 0xd9, 0x61, 0x98, 0x3f, 0x2e, 0x39, 0x6a, 0x26, 0x43,
	0xb0, 0x6d, 0x08, 0xec, 0x2e, 0x42, 0x7e, 0x23, 0x82, 0x6f, 0xd9, 0xbb,
	0xfd, 0x0a, 0xcd, 0x48, 0xe7, 0xd5, 0x8b, 0xa5, 0x80, 0x34, 0xca, 0x96,
	0x4f, 0x58, 0x25, 0xba, 0x43, 0x5e, 0x3d, 0x1c, 0xee, 0x72, 0xb8, 0x35,
	0x8c, 0x5d, 0xd9, 0x69, 0x24, 0x58, 0x36, 0x21, 0xb0, 0x45, 0xa4, 0xad,
	0x40, 0xda, 0x94, 0x98, 0x0f, 0xb1, 0xed, 0x6c, 0xad, 0x26, 0x03, 0x04,
	0x82, 0xff, 0x15, 0x00, 0x41, 0x87, 0x06, 0x93, 0xd4, 0x86, 0xa9, 0x7e,
	0xb8, 0xd9, 0x70, 0x34, 0x6d, 0x8e, 0x6a, 0x16, 0xe2, 0x46, 0x52, 0xb0,
	0x78, 0x54, 0x53, 0xaf,
};

/* Confirm1, seq 0x09f6, SSRC 0x12345678 */
static const uint8_t bz_confirm1[92] = {
	0x10, 0x00, 0x09, 0xf6, 0x5a, 0x52, 0x54, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x50, 0x5a, 0x00, 0x13, 0x43, 0x6f, 0x6e, 0x66, 0x69, 0x72, 0x6d, 0x31,
	0xb1, 0x21, 0xee, 0xe2, 0x67, 0xa4, 0xfd, 0xa6, 0x94, 0x24, 0x9a, 0x60,
	0xf0, 0x2e, 0x5e, 0xd9, 0x33, 0xe1, 0xd8, 0x41, 0x54, 0xa3, 0x7c, 0xea,
	0xe9, 0x61, 0xae, 0xf9, 0x19, 0x0d, 0xb3, 0x68, 0x68, 0x9e, 0xf8, 0x1a,
	0x18, 0x91, 0x87, 0xc5, 0x6e, 0x5e, 0x2d, 0x5e, 0x32, 0xa2, 0xb2, 0x66,
	0x31, 0xb8, 0xe5, 0x59, 0xc9, 0x10, 0xbb, 0xa0, 0x00, 0x6c, 0xee, 0x0c,
	0x6d, 0xfb, 0xeb, 0x32, 0x85, 0xb6, 0x6e, 0x93,
};

/* Conf2ACK, seq 0x09f7, SSRC 0x12345678 */
static const uint8_t bz_conf2ack[28] = {
	0x10, 0x00, 0x09, 0xf7, 0x5a, 0x52, 0x54, 0x50, 0x12, 0x34, 0x56, 0x78,
	0x50, 0x5a, 0x00, 0x03, 0x43, 0x6f, 0x6e, 0x66, 0x32, 0x41, 0x43, 0x4b,
	0x23, 0xc1, 0x1b, 0x45,
};

/* Hello from GNU ZRTP ("PJS ZRTP 3.0.0"), bzrtp's HelloPacketZrtpHash */
static const uint8_t gnu_hello[168] = {
	0x10, 0x00, 0x00, 0x01, 0x5a, 0x52, 0x54, 0x50, 0x76, 0xdc, 0xa7, 0xbd,
	0x50, 0x5a, 0x00, 0x26, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x20, 0x20,
	0x31, 0x2e, 0x31, 0x30, 0x50, 0x4a, 0x53, 0x20, 0x5a, 0x52, 0x54, 0x50,
	0x20, 0x33, 0x2e, 0x30, 0x2e, 0x30, 0x20, 0x20, 0xe4, 0xba, 0x78, 0xba,
	0xa0, 0x2a, 0xd4, 0x36, 0x1a, 0xb8, 0xd2, 0xdd, 0x57, 0x8a, 0x68, 0x16,
	0xbb, 0xe4, 0x05, 0xb8, 0x69, 0xb7, 0xaf, 0x06, 0x4d, 0x1c, 0x09, 0x53,
	0x1c, 0xeb, 0xc6, 0x29, 0x20, 0x12, 0xa2, 0xf0, 0x6c, 0xfd, 0x0f, 0xfb,
	0x88, 0xd8, 0xe6, 0x52, 0x00, 0x02, 0x44, 0x51, 0x53, 0x33, 0x38, 0x34,
	0x53, 0x32, 0x35, 0x36, 0x32, 0x46, 0x53, 0x33, 0x41, 0x45, 0x53, 0x33,
	0x32, 0x46, 0x53, 0x31, 0x41, 0x45, 0x53, 0x31, 0x53, 0x4b, 0x33, 0x32,
	0x53, 0x4b, 0x36, 0x34, 0x48, 0x53, 0x33, 0x32, 0x48, 0x53, 0x38, 0x30,
	0x45, 0x43, 0x32, 0x35, 0x44, 0x48, 0x33, 0x6b, 0x45, 0x43, 0x33, 0x38,
	0x44, 0x48, 0x32, 0x6b, 0x4d, 0x75, 0x6c, 0x74, 0x42, 0x33, 0x32, 0x20,
	0x05, 0xc9, 0xf1, 0x87, 0x2b, 0x41, 0xa9, 0x9a, 0x0a, 0x1d, 0xcd, 0x3c,
};

/* --- helpers ------------------------------------------------------------- */

/* The CRC trailer, least significant byte first (see packet.c crc_put). */
static void pkt_fix_crc(uint8_t *pkt, size_t len)
{
	uint32_t c = zrtp_crc32c(pkt, len - ZRTP_CRC_LEN);
	pkt[len - 4] = (uint8_t)c;
	pkt[len - 3] = (uint8_t)(c >> 8);
	pkt[len - 2] = (uint8_t)(c >> 16);
	pkt[len - 1] = (uint8_t)(c >> 24);
}

/*
 * Make a packet of len bytes self-consistent again after surgery: length
 * word and CRC both right, so the parser has to judge the message itself.
 */
static void pkt_fix_length(uint8_t *pkt, size_t len)
{
	size_t words = (len - ZRTP_PKT_HDR_LEN - ZRTP_CRC_LEN) / 4;
	pkt[MSG_OFF + 2] = (uint8_t)(words >> 8);
	pkt[MSG_OFF + 3] = (uint8_t)words;
	pkt_fix_crc(pkt, len);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static size_t pkt_build(uint8_t *pkt, const struct zrtp_msg *m,
			uint16_t seq, uint32_t ssrc)
{
	uint8_t msg[BUF_LEN];
	int n = zrtp_msg_encode(msg, sizeof(msg), m);
	ck_assert_msg(n > 0, "encode %s: %d", zrtp_msg_type_name(m->type), n);
	ck_assert_int_eq(n % 4, 0);
	int p = zrtp_packet_wrap(pkt, BUF_LEN, seq, ssrc, msg, (size_t)n);
	ck_assert_int_eq(p, n + ZRTP_PKT_HDR_LEN + ZRTP_CRC_LEN);
	return (size_t)p;
}

static void parse_ok(const uint8_t *pkt, size_t len, struct zrtp_msg *out)
{
	int rc = zrtp_packet_parse(pkt, len, out);
	ck_assert_msg(rc == 0, "parse of %zu bytes: %s", len,
		      zrtp_parse_err_str(rc));
}

static void parse_err(const uint8_t *pkt, size_t len, int err,
		      const char *what)
{
	struct zrtp_msg m;
	int rc = zrtp_packet_parse(pkt, len, &m);
	ck_assert_msg(rc == -err, "%s (%zu bytes): got %d (%s), want %d (%s)",
		      what, len, rc, zrtp_parse_err_str(rc), -err,
		      zrtp_parse_err_str(err));
}

/* --- sample messages with distinctive field values ----------------------- */

static void hello_sample(struct zrtp_msg *m, const uint8_t n[5])
{
	memset(m, 0, sizeof(*m));
	m->type = ZRTP_MSG_HELLO;
	struct zrtp_hello *h = &m->u.hello;
	h->version = ZRTP_NAME('1', '.', '1', '0');
	memcpy(h->client_id, "zrtpshim-test-01", 16);
	fill(h->h3, sizeof(h->h3), 0x30);
	fill(h->zid, sizeof(h->zid), 0xa0);
	h->sig_capable = true;
	h->mitm = false;
	h->passive = true;
	h->n_hash = n[0];
	h->n_cipher = n[1];
	h->n_auth = n[2];
	h->n_ka = n[3];
	h->n_sas = n[4];
	for (int i = 0; i < n[0]; i++)
		h->hash[i] = ZRTP_NAME('H', 'A', 'S', '0' + i);
	for (int i = 0; i < n[1]; i++)
		h->cipher[i] = ZRTP_NAME('C', 'I', 'P', '0' + i);
	for (int i = 0; i < n[2]; i++)
		h->auth[i] = ZRTP_NAME('A', 'U', 'T', '0' + i);
	for (int i = 0; i < n[3]; i++)
		h->ka[i] = ZRTP_NAME('K', 'A', 'G', '0' + i);
	for (int i = 0; i < n[4]; i++)
		h->sas[i] = ZRTP_NAME('S', 'A', 'S', '0' + i);
	fill(h->mac, sizeof(h->mac), 0xe0);
}

static void hello_assert_eq(const struct zrtp_hello *a,
			    const struct zrtp_hello *b)
{
	ck_assert_uint_eq(a->version, b->version);
	ck_assert_mem_eq(a->client_id, b->client_id, sizeof(a->client_id));
	ck_assert_mem_eq(a->h3, b->h3, sizeof(a->h3));
	ck_assert_mem_eq(a->zid, b->zid, sizeof(a->zid));
	ck_assert(a->sig_capable == b->sig_capable);
	ck_assert(a->mitm == b->mitm);
	ck_assert(a->passive == b->passive);
	ck_assert_uint_eq(a->n_hash, b->n_hash);
	ck_assert_uint_eq(a->n_cipher, b->n_cipher);
	ck_assert_uint_eq(a->n_auth, b->n_auth);
	ck_assert_uint_eq(a->n_ka, b->n_ka);
	ck_assert_uint_eq(a->n_sas, b->n_sas);
	for (int i = 0; i < a->n_hash; i++)
		ck_assert_uint_eq(a->hash[i], b->hash[i]);
	for (int i = 0; i < a->n_cipher; i++)
		ck_assert_uint_eq(a->cipher[i], b->cipher[i]);
	for (int i = 0; i < a->n_auth; i++)
		ck_assert_uint_eq(a->auth[i], b->auth[i]);
	for (int i = 0; i < a->n_ka; i++)
		ck_assert_uint_eq(a->ka[i], b->ka[i]);
	for (int i = 0; i < a->n_sas; i++)
		ck_assert_uint_eq(a->sas[i], b->sas[i]);
	ck_assert_mem_eq(a->mac, b->mac, ZRTP_MAC_LEN);
}

static void commit_sample(struct zrtp_msg *m, uint32_t ka)
{
	memset(m, 0, sizeof(*m));
	m->type = ZRTP_MSG_COMMIT;
	struct zrtp_commit *c = &m->u.commit;
	fill(c->h2, sizeof(c->h2), 0x11);
	fill(c->zid, sizeof(c->zid), 0x22);
	c->hash = ZRTP_NAME('S', '3', '8', '4');
	c->cipher = ZRTP_NAME('A', 'E', 'S', '3');
	c->auth = ZRTP_NAME('H', 'S', '8', '0');
	c->ka = ka;
	c->sas = ZRTP_NAME('B', '2', '5', '6');
	fill(c->hvi, sizeof(c->hvi), 0x33);
	fill(c->nonce, sizeof(c->nonce), 0x44);
	fill(c->key_id, sizeof(c->key_id), 0x55);
	fill(c->mac, sizeof(c->mac), 0x66);
}

static uint8_t sample_pv[ZRTP_MAX_PV_LEN];

static void dhpart_sample(struct zrtp_msg *m, enum zrtp_msg_type t,
			  size_t pv_len)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	struct zrtp_dhpart *d = &m->u.dhpart;
	fill(d->h1, sizeof(d->h1), 0x71);
	fill(d->rs1_id, 8, 0x81);
	fill(d->rs2_id, 8, 0x91);
	fill(d->aux_id, 8, 0xa1);
	fill(d->pbx_id, 8, 0xb1);
	fill(sample_pv, sizeof(sample_pv), 0xc1);
	d->pv = sample_pv;
	d->pv_len = pv_len;
	fill(d->mac, sizeof(d->mac), 0xd1);
}

static uint8_t sample_enc[ZRTP_MAX_MSG_LEN];

static void confirm_sample(struct zrtp_msg *m, enum zrtp_msg_type t,
			   size_t enc_len)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	struct zrtp_confirm *c = &m->u.confirm;
	fill(c->mac, sizeof(c->mac), 0x13);
	fill(c->iv, sizeof(c->iv), 0x24);
	fill(sample_enc, sizeof(sample_enc), 0x35);
	c->enc = sample_enc;
	c->enc_len = enc_len;
}

/* --- CRC-32C ------------------------------------------------------------- */

/*
 * RFC 3720 §B.4 prints each CRC as the bytes iSCSI sends, least
 * significant first: "aa 36 91 8a" is the value 0x8a9136aa.
 */
START_TEST(test_crc32c_rfc3720_b4_zeros)
{
	uint8_t b[32];
	memset(b, 0x00, sizeof(b));
	ck_assert_uint_eq(zrtp_crc32c(b, sizeof(b)), 0x8a9136aau);
}
END_TEST

START_TEST(test_crc32c_rfc3720_b4_ones)
{
	uint8_t b[32];
	memset(b, 0xff, sizeof(b));
	ck_assert_uint_eq(zrtp_crc32c(b, sizeof(b)), 0x62a8ab43u);
}
END_TEST

START_TEST(test_crc32c_rfc3720_b4_incrementing)
{
	uint8_t b[32];
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	ck_assert_uint_eq(zrtp_crc32c(b, sizeof(b)), 0x46dd794eu);
}
END_TEST

START_TEST(test_crc32c_rfc3720_b4_decrementing)
{
	uint8_t b[32];
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	ck_assert_uint_eq(zrtp_crc32c(b, sizeof(b)), 0x113fdb5cu);
}
END_TEST

/* The "check" value of CRC-32/ISCSI in the CRC catalogues. */
START_TEST(test_crc32c_catalogue_check_123456789)
{
	ck_assert_uint_eq(zrtp_crc32c((const uint8_t *)"123456789", 9),
			  0xe3069283u);
	ck_assert_uint_eq(zrtp_crc32c(NULL, 0), 0);
}
END_TEST

/*
 * bzrtp test/bzrtpCryptoTest.cc patternCRCinput[1] (made with GNU ZRTP):
 * a HelloACK packet without its CRC. bzrtp_CRC32 returns the value byte
 * swapped (0x9c9edccd) because it then stores it most significant byte
 * first; the CRC-32C itself is 0xcddc9e9c.
 */
START_TEST(test_crc32c_bzrtp_cryptotest_pattern1)
{
	static const uint8_t in[24] = {
		0x10, 0x00, 0x18, 0xcd, 0x5a, 0x52, 0x54, 0x50,
		0x63, 0x67, 0x4b, 0xfb, 0x50, 0x5a, 0x00, 0x03,
		0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x41, 0x43, 0x4b,
	};
	ck_assert_uint_eq(zrtp_crc32c(in, sizeof(in)), 0xcddc9e9cu);
}
END_TEST

/* --- wire compatibility with captured packets ---------------------------- */

/*
 * Parse a captured packet, then encode and wrap what was parsed with the
 * same sequence number and SSRC: the bytes must come back identical,
 * which pins down every field offset, the length word and the CRC
 * placement in both directions.
 */
static void wire_roundtrip(const uint8_t *pkt, size_t len,
			   enum zrtp_msg_type type, uint16_t seq,
			   uint32_t ssrc, struct zrtp_msg *m)
{
	parse_ok(pkt, len, m);
	ck_assert_int_eq(m->type, type);
	ck_assert_uint_eq(m->seq, seq);
	ck_assert_uint_eq(m->ssrc, ssrc);
	ck_assert_ptr_eq(m->msg, pkt + MSG_OFF);
	ck_assert_uint_eq(m->msg_len, len - ZRTP_PKT_HDR_LEN - ZRTP_CRC_LEN);

	/* the trailer is the CRC-32C, least significant byte first */
	uint32_t crc = zrtp_crc32c(pkt, len - 4);
	ck_assert_uint_eq(pkt[len - 4], crc & 0xff);
	ck_assert_uint_eq(pkt[len - 1], crc >> 24);

	uint8_t out[BUF_LEN];
	size_t n = pkt_build(out, m, seq, ssrc);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(out, pkt, len);
}

START_TEST(test_bzrtp_parsertest_helloack)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_helloack, sizeof(bz_helloack), ZRTP_MSG_HELLOACK,
		       0x09f2, 0x12345678, &m);
	/* the CRC-32C is 0x07440e77 and the wire says 77 0e 44 07 */
	ck_assert_uint_eq(zrtp_crc32c(bz_helloack, 24), 0x07440e77u);
}
END_TEST

START_TEST(test_bzrtp_parsertest_conf2ack)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_conf2ack, sizeof(bz_conf2ack), ZRTP_MSG_CONF2ACK,
		       0x09f7, 0x12345678, &m);
}
END_TEST

START_TEST(test_bzrtp_parsertest_hello)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_hello, sizeof(bz_hello), ZRTP_MSG_HELLO, 0x09f1,
		       0x12345678, &m);
	const struct zrtp_hello *h = &m.u.hello;
	ck_assert_uint_eq(h->version, ZRTP_NAME('1', '.', '1', '0'));
	ck_assert_mem_eq(h->client_id, "LINPHONE-ZRTPCPP", 16);
	ck_assert_uint_eq(h->h3[0], 0xe8);
	ck_assert_uint_eq(h->zid[0], 0x7e);
	ck_assert(!h->sig_capable && !h->mitm && !h->passive);
	/* flags word 00 01 12 31: hc=1 cc=1 ac=2 kc=3 sc=1 */
	ck_assert_uint_eq(h->n_hash, 1);
	ck_assert_uint_eq(h->n_cipher, 1);
	ck_assert_uint_eq(h->n_auth, 2);
	ck_assert_uint_eq(h->n_ka, 3);
	ck_assert_uint_eq(h->n_sas, 1);
	ck_assert_uint_eq(h->hash[0], ZRTP_NAME('S', '2', '5', '6'));
	ck_assert_uint_eq(h->cipher[0], ZRTP_NAME('A', 'E', 'S', '1'));
	ck_assert_uint_eq(h->auth[0], ZRTP_NAME('H', 'S', '3', '2'));
	ck_assert_uint_eq(h->auth[1], ZRTP_NAME('H', 'S', '8', '0'));
	ck_assert_uint_eq(h->ka[0], ZRTP_NAME('D', 'H', '3', 'k'));
	ck_assert_uint_eq(h->ka[1], ZRTP_NAME('D', 'H', '2', 'k'));
	ck_assert_uint_eq(h->ka[2], ZRTP_NAME('M', 'u', 'l', 't'));
	ck_assert_uint_eq(h->sas[0], ZRTP_NAME('B', '3', '2', ' '));
	ck_assert_uint_eq(h->mac[0], 0xa0);
	ck_assert_uint_eq(h->mac[7], 0x56);
}
END_TEST

START_TEST(test_gnuzrtp_hello_from_bzrtp_parsertest)
{
	struct zrtp_msg m;
	wire_roundtrip(gnu_hello, sizeof(gnu_hello), ZRTP_MSG_HELLO, 0x0001,
		       0x76dca7bd, &m);
	const struct zrtp_hello *h = &m.u.hello;
	ck_assert_mem_eq(h->client_id, "PJS ZRTP 3.0.0  ", 16);
	/* flags word 00 02 44 51: hc=2 cc=4 ac=4 kc=5 sc=1 */
	ck_assert_uint_eq(h->n_hash, 2);
	ck_assert_uint_eq(h->n_cipher, 4);
	ck_assert_uint_eq(h->n_auth, 4);
	ck_assert_uint_eq(h->n_ka, 5);
	ck_assert_uint_eq(h->n_sas, 1);
	ck_assert_uint_eq(h->hash[0], ZRTP_NAME('S', '3', '8', '4'));
	ck_assert_uint_eq(h->cipher[0], ZRTP_NAME('2', 'F', 'S', '3'));
	ck_assert_uint_eq(h->auth[0], ZRTP_NAME('S', 'K', '3', '2'));
	ck_assert_uint_eq(h->ka[0], ZRTP_NAME('E', 'C', '2', '5'));
	ck_assert_uint_eq(h->ka[4], ZRTP_NAME('M', 'u', 'l', 't'));
	ck_assert_uint_eq(h->sas[0], ZRTP_NAME('B', '3', '2', ' '));
}
END_TEST

START_TEST(test_bzrtp_parsertest_commit)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_commit, sizeof(bz_commit), ZRTP_MSG_COMMIT, 0x02d0,
		       0x87654321, &m);
	const struct zrtp_commit *c = &m.u.commit;
	ck_assert_uint_eq(c->h2[0], 0xd9);
	ck_assert_uint_eq(c->zid[0], 0x92);
	ck_assert_uint_eq(c->hash, ZRTP_NAME('S', '2', '5', '6'));
	ck_assert_uint_eq(c->cipher, ZRTP_NAME('A', 'E', 'S', '1'));
	ck_assert_uint_eq(c->auth, ZRTP_NAME('H', 'S', '3', '2'));
	ck_assert_uint_eq(c->ka, ZRTP_NAME('D', 'H', '3', 'k'));
	ck_assert_uint_eq(c->sas, ZRTP_NAME('B', '3', '2', ' '));
	ck_assert_uint_eq(c->hvi[0], 0x1e);
	ck_assert_uint_eq(c->hvi[31], 0x5b);
	ck_assert_uint_eq(c->mac[0], 0xbb);
}
END_TEST

START_TEST(test_bzrtp_parsertest_dhpart1)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_dhpart1, sizeof(bz_dhpart1), ZRTP_MSG_DHPART1,
		       0x09f5, 0x12345678, &m);
	const struct zrtp_dhpart *d = &m.u.dhpart;
	ck_assert_uint_eq(d->h1[0], 0x28);
	ck_assert_uint_eq(d->rs1_id[0], 0xab);
	ck_assert_uint_eq(d->rs2_id[1], 0x69);
	ck_assert_uint_eq(d->aux_id[0], 0x8c);
	ck_assert_uint_eq(d->pbx_id[0], 0x2c);
	ck_assert_uint_eq(d->pv_len, 384);
	ck_assert_ptr_eq(d->pv, bz_dhpart1 + MSG_OFF + ZRTP_MSG_HDR_LEN + 64);
}
END_TEST

START_TEST(test_bzrtp_parsertest_confirm1)
{
	struct zrtp_msg m;
	wire_roundtrip(bz_confirm1, sizeof(bz_confirm1), ZRTP_MSG_CONFIRM1,
		       0x09f6, 0x12345678, &m);
	const struct zrtp_confirm *c = &m.u.confirm;
	ck_assert_uint_eq(c->mac[0], 0xb1);
	ck_assert_uint_eq(c->iv[0], 0x94);
	ck_assert_uint_eq(c->enc_len, ZRTP_CONFIRM_BODY_LEN);
	ck_assert_ptr_eq(c->enc, bz_confirm1 + MSG_OFF + ZRTP_CONFIRM_ENC_OFF);
}
END_TEST

/* --- encode, wrap, parse ------------------------------------------------- */

/* Loop i = 0..7: every kind gets count i, the others 7 - i (and i+1 etc.) */
START_TEST(test_roundtrip_hello_counts)
{
	for (int kind = 0; kind < 5; kind++) {
		uint8_t n[5];
		for (int k = 0; k < 5; k++)
			n[k] = (uint8_t)(k == kind ? _i : (7 - _i + k) % 8);
		struct zrtp_msg m, p;
		hello_sample(&m, n);
		uint8_t pkt[BUF_LEN];
		size_t len = pkt_build(pkt, &m, (uint16_t)(0xfff0 + _i),
				       0xdeadbeef);
		size_t sum = (size_t)n[0] + n[1] + n[2] + n[3] + n[4];
		ck_assert_uint_eq(len, 16 + 88 + 4 * sum);
		parse_ok(pkt, len, &p);
		ck_assert_int_eq(p.type, ZRTP_MSG_HELLO);
		ck_assert_uint_eq(p.seq, 0xfff0 + _i);
		ck_assert_uint_eq(p.ssrc, 0xdeadbeef);
		hello_assert_eq(&p.u.hello, &m.u.hello);
	}
}
END_TEST

/* Each flag lands on its own bit (§5.2: |0|S|M|P|...). */
START_TEST(test_roundtrip_hello_flags)
{
	static const uint8_t n[5] = { 1, 1, 1, 1, 1 };
	for (int f = 0; f < 8; f++) {
		struct zrtp_msg m, p;
		hello_sample(&m, n);
		m.u.hello.sig_capable = f & 4;
		m.u.hello.mitm = f & 2;
		m.u.hello.passive = f & 1;
		uint8_t pkt[BUF_LEN];
		size_t len = pkt_build(pkt, &m, 1, 2);
		/* flags word is at body offset 64 */
		ck_assert_uint_eq(pkt[MSG_OFF + 12 + 64], (f & 7) << 4);
		ck_assert_uint_eq(pkt[MSG_OFF + 12 + 65], 0x01);
		ck_assert_uint_eq(pkt[MSG_OFF + 12 + 66], 0x11);
		ck_assert_uint_eq(pkt[MSG_OFF + 12 + 67], 0x11);
		parse_ok(pkt, len, &p);
		hello_assert_eq(&p.u.hello, &m.u.hello);
	}
}
END_TEST

static void commit_roundtrip(uint32_t ka, size_t want_msg_len)
{
	struct zrtp_msg m, p;
	commit_sample(&m, ka);
	uint8_t pkt[BUF_LEN];
	size_t len = pkt_build(pkt, &m, 0x1234, 0x55667788);
	ck_assert_uint_eq(len, want_msg_len + 16);
	parse_ok(pkt, len, &p);
	ck_assert_int_eq(p.type, ZRTP_MSG_COMMIT);
	const struct zrtp_commit *a = &p.u.commit, *b = &m.u.commit;
	ck_assert_mem_eq(a->h2, b->h2, 32);
	ck_assert_mem_eq(a->zid, b->zid, 12);
	ck_assert_uint_eq(a->hash, b->hash);
	ck_assert_uint_eq(a->cipher, b->cipher);
	ck_assert_uint_eq(a->auth, b->auth);
	ck_assert_uint_eq(a->ka, b->ka);
	ck_assert_uint_eq(a->sas, b->sas);
	ck_assert_mem_eq(a->mac, b->mac, ZRTP_MAC_LEN);
	if (ka == ZRTP_NAME('M', 'u', 'l', 't') ||
	    ka == ZRTP_NAME('P', 'r', 's', 'h'))
		ck_assert_mem_eq(a->nonce, b->nonce, 16);
	else
		ck_assert_mem_eq(a->hvi, b->hvi, 32);
	if (ka == ZRTP_NAME('P', 'r', 's', 'h'))
		ck_assert_mem_eq(a->key_id, b->key_id, 8);
}

START_TEST(test_roundtrip_commit_dh)
{
	commit_roundtrip(ZRTP_NAME('D', 'H', '3', 'k'), 116);
	commit_roundtrip(ZRTP_NAME('X', '2', '5', '5'), 116);
	commit_roundtrip(ZRTP_NAME('E', '2', '5', '5'), 116);
}
END_TEST

START_TEST(test_roundtrip_commit_mult)
{
	commit_roundtrip(ZRTP_NAME('M', 'u', 'l', 't'), 100);
}
END_TEST

START_TEST(test_roundtrip_commit_prsh)
{
	commit_roundtrip(ZRTP_NAME('P', 'r', 's', 'h'), 108);
}
END_TEST

START_TEST(test_roundtrip_dhpart)
{
	static const size_t pv_lens[] = { 4, 32, 64, 96, 132, 256, 384 };
	static const enum zrtp_msg_type types[] = { ZRTP_MSG_DHPART1,
						    ZRTP_MSG_DHPART2 };
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof(pv_lens) / sizeof(*pv_lens); i++) {
			struct zrtp_msg m, p;
			dhpart_sample(&m, types[t], pv_lens[i]);
			uint8_t pkt[BUF_LEN];
			size_t len = pkt_build(pkt, &m, 7, 8);
			ck_assert_uint_eq(len, 16 + 84 + pv_lens[i]);
			parse_ok(pkt, len, &p);
			ck_assert_int_eq(p.type, types[t]);
			const struct zrtp_dhpart *a = &p.u.dhpart;
			const struct zrtp_dhpart *b = &m.u.dhpart;
			ck_assert_mem_eq(a->h1, b->h1, 32);
			ck_assert_mem_eq(a->rs1_id, b->rs1_id, 8);
			ck_assert_mem_eq(a->rs2_id, b->rs2_id, 8);
			ck_assert_mem_eq(a->aux_id, b->aux_id, 8);
			ck_assert_mem_eq(a->pbx_id, b->pbx_id, 8);
			ck_assert_uint_eq(a->pv_len, b->pv_len);
			ck_assert_ptr_eq(a->pv, pkt + MSG_OFF + 12 + 64);
			ck_assert_mem_eq(a->pv, b->pv, b->pv_len);
			ck_assert_mem_eq(a->mac, b->mac, ZRTP_MAC_LEN);
		}
	}
}
END_TEST

START_TEST(test_roundtrip_confirm)
{
	static const enum zrtp_msg_type types[] = {
		ZRTP_MSG_CONFIRM1, ZRTP_MSG_CONFIRM2, ZRTP_MSG_SASRELAY
	};
	static const size_t enc_lens[] = { 40, 44, 40 + 4 * 20 };
	for (size_t t = 0; t < 3; t++) {
		for (size_t i = 0; i < 3; i++) {
			struct zrtp_msg m, p;
			confirm_sample(&m, types[t], enc_lens[i]);
			uint8_t pkt[BUF_LEN];
			size_t len = pkt_build(pkt, &m, 9, 10);
			ck_assert_uint_eq(len, 16 + 36 + enc_lens[i]);
			parse_ok(pkt, len, &p);
			ck_assert_int_eq(p.type, types[t]);
			ck_assert_mem_eq(p.u.confirm.mac, m.u.confirm.mac, 8);
			ck_assert_mem_eq(p.u.confirm.iv, m.u.confirm.iv, 16);
			ck_assert_uint_eq(p.u.confirm.enc_len, enc_lens[i]);
			ck_assert_ptr_eq(p.u.confirm.enc,
					 pkt + MSG_OFF + ZRTP_CONFIRM_ENC_OFF);
			ck_assert_mem_eq(p.u.confirm.enc, sample_enc,
					 enc_lens[i]);
			/* the MAC offsets packet.h gives callers */
			ck_assert_mem_eq(pkt + MSG_OFF + ZRTP_CONFIRM_MAC_OFF,
					 m.u.confirm.mac, 8);
			ck_assert_mem_eq(pkt + MSG_OFF + ZRTP_CONFIRM_IV_OFF,
					 m.u.confirm.iv, 16);
		}
	}
}
END_TEST

START_TEST(test_roundtrip_header_only)
{
	static const enum zrtp_msg_type types[] = {
		ZRTP_MSG_HELLOACK, ZRTP_MSG_CONF2ACK, ZRTP_MSG_ERRORACK,
		ZRTP_MSG_CLEARACK, ZRTP_MSG_RELAYACK,
	};
	for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++) {
		struct zrtp_msg m, p;
		memset(&m, 0, sizeof(m));
		m.type = types[t];
		uint8_t pkt[BUF_LEN];
		size_t len = pkt_build(pkt, &m, (uint16_t)t, 0xa5a5a5a5);
		ck_assert_uint_eq(len, 28);
		ck_assert_uint_eq(pkt[MSG_OFF + 3], 3);
		parse_ok(pkt, len, &p);
		ck_assert_int_eq(p.type, types[t]);
		ck_assert_uint_eq(p.seq, t);
	}
}
END_TEST

START_TEST(test_roundtrip_error_goclear_ping_pingack)
{
	struct zrtp_msg m, p;
	uint8_t pkt[BUF_LEN];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_ERROR;
	m.u.error_code = 0x00000061;   /* §5.9: DH error, bad pvr */
	len = pkt_build(pkt, &m, 1, 1);
	ck_assert_uint_eq(len, 16 + 16);
	parse_ok(pkt, len, &p);
	ck_assert_int_eq(p.type, ZRTP_MSG_ERROR);
	ck_assert_uint_eq(p.u.error_code, 0x61);

	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_GOCLEAR;
	fill(m.u.clear_mac, 8, 0x5c);
	len = pkt_build(pkt, &m, 2, 2);
	ck_assert_uint_eq(len, 16 + 20);
	parse_ok(pkt, len, &p);
	ck_assert_int_eq(p.type, ZRTP_MSG_GOCLEAR);
	ck_assert_mem_eq(p.u.clear_mac, m.u.clear_mac, 8);

	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_PING;
	m.u.ping.version = ZRTP_NAME('1', '.', '1', '0');
	fill(m.u.ping.endpoint_hash, 8, 0x6d);
	len = pkt_build(pkt, &m, 3, 3);
	ck_assert_uint_eq(len, 16 + 24);
	parse_ok(pkt, len, &p);
	ck_assert_int_eq(p.type, ZRTP_MSG_PING);
	ck_assert_uint_eq(p.u.ping.version, m.u.ping.version);
	ck_assert_mem_eq(p.u.ping.endpoint_hash, m.u.ping.endpoint_hash, 8);

	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_PINGACK;
	m.u.pingack.version = ZRTP_NAME('1', '.', '1', '0');
	fill(m.u.pingack.sender_hash, 8, 0x7e);
	fill(m.u.pingack.received_hash, 8, 0x8f);
	m.u.pingack.ssrc = 0xcafef00d;
	len = pkt_build(pkt, &m, 4, 4);
	ck_assert_uint_eq(len, 16 + 36);
	parse_ok(pkt, len, &p);
	ck_assert_int_eq(p.type, ZRTP_MSG_PINGACK);
	ck_assert_uint_eq(p.u.pingack.version, m.u.pingack.version);
	ck_assert_mem_eq(p.u.pingack.sender_hash, m.u.pingack.sender_hash, 8);
	ck_assert_mem_eq(p.u.pingack.received_hash,
			 m.u.pingack.received_hash, 8);
	ck_assert_uint_eq(p.u.pingack.ssrc, 0xcafef00d);
}
END_TEST

START_TEST(test_wrap_header_layout)
{
	struct zrtp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_HELLOACK;
	uint8_t pkt[BUF_LEN];
	size_t len = pkt_build(pkt, &m, 0xbeef, 0x01020304);
	static const uint8_t want[24] = {
		0x10, 0x00, 0xbe, 0xef, 'Z', 'R', 'T', 'P',
		0x01, 0x02, 0x03, 0x04, 0x50, 0x5a, 0x00, 0x03,
		'H', 'e', 'l', 'l', 'o', 'A', 'C', 'K',
	};
	ck_assert_uint_eq(len, 28);
	ck_assert_mem_eq(pkt, want, sizeof(want));
}
END_TEST

/* The engine encodes straight into the packet buffer and wraps in place. */
START_TEST(test_encode_wrap_in_place)
{
	struct zrtp_msg m, p;
	dhpart_sample(&m, ZRTP_MSG_DHPART2, 64);
	uint8_t pkt[BUF_LEN];
	int n = zrtp_msg_encode(pkt + MSG_OFF, sizeof(pkt) - MSG_OFF, &m);
	ck_assert_int_eq(n, 84 + 64);
	int len = zrtp_packet_wrap(pkt, sizeof(pkt), 5, 6, pkt + MSG_OFF,
				   (size_t)n);
	ck_assert_int_eq(len, n + 16);
	parse_ok(pkt, (size_t)len, &p);
	ck_assert_mem_eq(p.u.dhpart.pv, sample_pv, 64);

	/* Confirm whose ciphertext already sits at its final place */
	confirm_sample(&m, ZRTP_MSG_CONFIRM2, 48);
	uint8_t *msg = pkt + MSG_OFF;
	memcpy(msg + ZRTP_CONFIRM_ENC_OFF, sample_enc, 48);
	m.u.confirm.enc = msg + ZRTP_CONFIRM_ENC_OFF;
	n = zrtp_msg_encode(msg, sizeof(pkt) - MSG_OFF, &m);
	ck_assert_int_eq(n, 36 + 48);
	len = zrtp_packet_wrap(pkt, sizeof(pkt), 7, 8, msg, (size_t)n);
	parse_ok(pkt, (size_t)len, &p);
	ck_assert_mem_eq(p.u.confirm.enc, sample_enc, 48);
}
END_TEST

START_TEST(test_encode_enospc)
{
	struct zrtp_msg m;
	static const uint8_t n[5] = { 7, 7, 7, 7, 7 };
	hello_sample(&m, n);
	uint8_t buf[BUF_LEN];
	int full = zrtp_msg_encode(buf, sizeof(buf), &m);
	ck_assert_int_eq(full, 88 + 4 * 35);
	for (size_t cap = 0; cap < (size_t)full; cap++)
		ck_assert_int_eq(zrtp_msg_encode(buf, cap, &m), -ENOSPC);
	ck_assert_int_eq(zrtp_msg_encode(buf, (size_t)full, &m), full);

	uint8_t pkt[BUF_LEN];
	size_t want = (size_t)full + 16;
	for (size_t cap = 0; cap < want; cap++)
		ck_assert_int_eq(zrtp_packet_wrap(pkt, cap, 1, 2, buf,
						  (size_t)full), -ENOSPC);
	ck_assert_int_eq(zrtp_packet_wrap(pkt, want, 1, 2, buf, (size_t)full),
			 (int)want);
	/* messages parse would call too long are not wrapped */
	ck_assert_int_eq(zrtp_packet_wrap(pkt, sizeof(pkt), 1, 2, buf,
					  ZRTP_MAX_MSG_LEN + 4), -ENOSPC);
}
END_TEST

START_TEST(test_encode_einval)
{
	struct zrtp_msg m;
	uint8_t buf[BUF_LEN];

	memset(&m, 0, sizeof(m));
	m.type = ZRTP_MSG_NONE;
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	m.type = ZRTP_MSG_TYPE_COUNT;
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);

	static const uint8_t n[5] = { 1, 1, 1, 1, 1 };
	for (int k = 0; k < 5; k++) {
		hello_sample(&m, n);
		uint8_t *cnt[5] = { &m.u.hello.n_hash, &m.u.hello.n_cipher,
				    &m.u.hello.n_auth, &m.u.hello.n_ka,
				    &m.u.hello.n_sas };
		*cnt[k] = 8;
		ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m),
				 -EINVAL);
	}

	dhpart_sample(&m, ZRTP_MSG_DHPART1, 0);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	dhpart_sample(&m, ZRTP_MSG_DHPART1, ZRTP_MAX_PV_LEN + 4);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	dhpart_sample(&m, ZRTP_MSG_DHPART1, 30);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	dhpart_sample(&m, ZRTP_MSG_DHPART1, 32);
	m.u.dhpart.pv = NULL;
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);

	confirm_sample(&m, ZRTP_MSG_CONFIRM1, 36);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	confirm_sample(&m, ZRTP_MSG_CONFIRM1, 42);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);
	confirm_sample(&m, ZRTP_MSG_CONFIRM1, ZRTP_MAX_MSG_LEN);
	ck_assert_int_eq(zrtp_msg_encode(buf, sizeof(buf), &m), -EINVAL);

	/* a message must be whole words */
	uint8_t pkt[BUF_LEN];
	memset(buf, 0, 16);
	ck_assert_int_eq(zrtp_packet_wrap(pkt, sizeof(pkt), 1, 2, buf, 14),
			 -EINVAL);
	ck_assert_int_eq(zrtp_packet_wrap(pkt, sizeof(pkt), 1, 2, buf, 8),
			 -EINVAL);
}
END_TEST

/* --- rejection ----------------------------------------------------------- */

/* The messages whose every truncation must fail. */
static size_t sample_packet(uint8_t *pkt, int which)
{
	static const uint8_t n[5] = { 2, 3, 1, 4, 2 };
	struct zrtp_msg m;
	switch (which) {
	case 0:
		hello_sample(&m, n);
		break;
	case 1:
		commit_sample(&m, ZRTP_NAME('D', 'H', '3', 'k'));
		break;
	case 2:
		commit_sample(&m, ZRTP_NAME('M', 'u', 'l', 't'));
		break;
	case 3:
		commit_sample(&m, ZRTP_NAME('P', 'r', 's', 'h'));
		break;
	case 4:
		dhpart_sample(&m, ZRTP_MSG_DHPART1, 384);
		break;
	case 5:
		dhpart_sample(&m, ZRTP_MSG_DHPART2, 32);
		break;
	case 6:
		confirm_sample(&m, ZRTP_MSG_CONFIRM1, 40);
		break;
	default:
		confirm_sample(&m, ZRTP_MSG_CONFIRM2, 40);
		break;
	}
	return pkt_build(pkt, &m, 0x4242, 0x13579bdf);
}
#define N_SAMPLES 8

/*
 * A datagram cut short anywhere: below the minimum it is SHORT; otherwise
 * its last four bytes are not the CRC of the rest.
 */
START_TEST(test_reject_truncated_raw)
{
	uint8_t pkt[BUF_LEN];
	size_t len = sample_packet(pkt, _i);
	struct zrtp_msg ok;
	parse_ok(pkt, len, &ok);
	for (size_t l = 0; l < len; l++)
		parse_err(pkt, l, l < 28 ? ZRTP_PERR_SHORT : ZRTP_PERR_CRC,
			  "raw truncation");
}
END_TEST

/*
 * A message cut at every word boundary, with the length word and CRC made
 * consistent again: only the per-type size check can catch it. DHPart's pv
 * is variable, so a shorter pv is still a well-formed DHPart (the session
 * checks pv against the negotiated key agreement); the cut is rejected once
 * it leaves no pv at all.
 */
START_TEST(test_reject_truncated_fixed_up)
{
	uint8_t orig[BUF_LEN];
	size_t len = sample_packet(orig, _i);
	bool dhpart = (_i == 4 || _i == 5);

	for (size_t l = 28; l < len; l += 4) {
		uint8_t pkt[BUF_LEN];
		memcpy(pkt, orig, l);
		pkt_fix_length(pkt, l);
		size_t body = l - 16 - ZRTP_MSG_HDR_LEN;
		if (dhpart && body > 72) {
			struct zrtp_msg p;
			parse_ok(pkt, l, &p);
			ck_assert_uint_eq(p.u.dhpart.pv_len, body - 72);
		} else {
			parse_err(pkt, l, ZRTP_PERR_MSG_SIZE,
				  "truncation, length and CRC fixed");
		}
	}
}
END_TEST

/* Lengths that are not whole words, CRC fixed: the length word can't match. */
START_TEST(test_reject_unaligned_length)
{
	uint8_t orig[BUF_LEN];
	size_t len = sample_packet(orig, _i);
	for (size_t l = 28; l < len + 4; l++) {
		if (l % 4 == 0)
			continue;
		uint8_t pkt[BUF_LEN];
		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, orig, l < len ? l : len);
		pkt_fix_length(pkt, l);
		parse_err(pkt, l, ZRTP_PERR_LENGTH, "unaligned length");
	}
}
END_TEST

/* Extra words after a fixed-size message, length word and CRC fixed. */
START_TEST(test_reject_overlong)
{
	static const uint8_t n[5] = { 1, 2, 3, 4, 5 };
	struct zrtp_msg ms[16];
	size_t nm = 0;

	hello_sample(&ms[nm++], n);
	commit_sample(&ms[nm++], ZRTP_NAME('D', 'H', '3', 'k'));
	commit_sample(&ms[nm++], ZRTP_NAME('M', 'u', 'l', 't'));
	commit_sample(&ms[nm++], ZRTP_NAME('P', 'r', 's', 'h'));
	dhpart_sample(&ms[nm++], ZRTP_MSG_DHPART1, ZRTP_MAX_PV_LEN);
	static const enum zrtp_msg_type fixed[] = {
		ZRTP_MSG_HELLOACK, ZRTP_MSG_CONF2ACK, ZRTP_MSG_ERRORACK,
		ZRTP_MSG_CLEARACK, ZRTP_MSG_RELAYACK, ZRTP_MSG_ERROR,
		ZRTP_MSG_GOCLEAR, ZRTP_MSG_PING, ZRTP_MSG_PINGACK,
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
		memset(&ms[nm], 0, sizeof(ms[nm]));
		ms[nm++].type = fixed[i];
	}

	for (size_t i = 0; i < nm; i++) {
		for (size_t extra = 4; extra <= 16; extra += 4) {
			uint8_t pkt[BUF_LEN];
			size_t len = pkt_build(pkt, &ms[i], 1, 2);
			/* move the CRC out, insert extra words before it */
			memset(pkt + len - 4, 0xee, extra + 4);
			pkt_fix_length(pkt, len + extra);
			char what[64];
			snprintf(what, sizeof(what), "%s + %zu bytes",
				 zrtp_msg_type_name(ms[i].type), extra);
			parse_err(pkt, len + extra, ZRTP_PERR_MSG_SIZE, what);
		}
	}
}
END_TEST

/* Any single flipped bit after the first byte and the magic is a bad CRC. */
START_TEST(test_reject_bad_crc)
{
	uint8_t pkt[BUF_LEN];
	size_t len = sample_packet(pkt, _i);
	for (size_t byte = 1; byte < len; byte++) {
		if (byte >= 4 && byte < 8)
			continue;   /* the magic: NOT_ZRTP, tested below */
		for (int bit = 0; bit < 8; bit++) {
			pkt[byte] ^= (uint8_t)(1u << bit);
			parse_err(pkt, len, ZRTP_PERR_CRC, "flipped bit");
			pkt[byte] ^= (uint8_t)(1u << bit);
		}
	}
	struct zrtp_msg ok;
	parse_ok(pkt, len, &ok);
}
END_TEST

/* The CRC written most significant byte first is wrong on the wire. */
START_TEST(test_reject_crc_big_endian)
{
	uint8_t pkt[BUF_LEN];
	size_t len = sample_packet(pkt, _i);
	uint32_t c = zrtp_crc32c(pkt, len - 4);
	ck_assert_uint_ne(c, __builtin_bswap32(c));
	pkt[len - 4] = (uint8_t)(c >> 24);
	pkt[len - 3] = (uint8_t)(c >> 16);
	pkt[len - 2] = (uint8_t)(c >> 8);
	pkt[len - 1] = (uint8_t)c;
	parse_err(pkt, len, ZRTP_PERR_CRC, "big-endian CRC");
}
END_TEST

START_TEST(test_reject_not_zrtp)
{
	uint8_t orig[BUF_LEN];
	size_t len = sample_packet(orig, 0);
	uint8_t pkt[BUF_LEN];

	for (size_t byte = 4; byte < 8; byte++) {
		memcpy(pkt, orig, len);
		pkt[byte] ^= 0x20;
		pkt_fix_crc(pkt, len);
		parse_err(pkt, len, ZRTP_PERR_NOT_ZRTP, "bad magic");
		ck_assert(!zrtp_packet_looks_zrtp(pkt, len));
	}
	static const uint8_t bad0[] = { 0x00, 0x01, 0x12, 0x20, 0x80, 0x90 };
	for (size_t i = 0; i < sizeof(bad0); i++) {
		memcpy(pkt, orig, len);
		pkt[0] = bad0[i];
		pkt_fix_crc(pkt, len);
		parse_err(pkt, len, ZRTP_PERR_NOT_ZRTP, "bad first byte");
	}
}
END_TEST

/*
 * 0x11 is bzrtp's fragment marker: it is ZRTP (the demux keeps it away
 * from the client) but what follows the SSRC is a fragment header, not a
 * message, and we do not reassemble.
 */
START_TEST(test_reject_fragment_marker)
{
	uint8_t pkt[BUF_LEN];
	size_t len = sample_packet(pkt, 0);
	pkt[0] = 0x11;
	pkt_fix_crc(pkt, len);
	ck_assert(zrtp_packet_looks_zrtp(pkt, len));
	parse_err(pkt, len, ZRTP_PERR_PREAMBLE, "fragment");
}
END_TEST

START_TEST(test_reject_bad_preamble)
{
	static const uint16_t bad[] = { 0x505b, 0x5a50, 0x0000, 0xd05a };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint8_t pkt[BUF_LEN];
		size_t len = sample_packet(pkt, 1);
		pkt[MSG_OFF] = (uint8_t)(bad[i] >> 8);
		pkt[MSG_OFF + 1] = (uint8_t)bad[i];
		pkt_fix_crc(pkt, len);
		parse_err(pkt, len, ZRTP_PERR_PREAMBLE, "bad preamble");
	}
}
END_TEST

START_TEST(test_reject_unknown_type)
{
	static const char *bad[] = {
		"Hellx   ", "hello   ", "HELLO   ", "Hello\0\0\0", "DHPart3 ",
		"Commit\0\0", " Hello  ", "PingAck ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint8_t pkt[BUF_LEN];
		size_t len = sample_packet(pkt, 0);
		memcpy(pkt + MSG_OFF + 4, bad[i], 8);
		pkt_fix_crc(pkt, len);
		parse_err(pkt, len, ZRTP_PERR_TYPE, bad[i]);
	}
}
END_TEST

START_TEST(test_reject_length_mismatch)
{
	uint8_t pkt[BUF_LEN];
	size_t len = sample_packet(pkt, _i);
	unsigned words = (unsigned)(len - 16) / 4;
	const unsigned bad[] = { words - 1, words + 1, 0, 3, 0xffff,
				 words + 0x100 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		pkt[MSG_OFF + 2] = (uint8_t)(bad[i] >> 8);
		pkt[MSG_OFF + 3] = (uint8_t)bad[i];
		pkt_fix_crc(pkt, len);
		parse_err(pkt, len, ZRTP_PERR_LENGTH, "length word");
	}
}
END_TEST

/*
 * Counts 8..15 in each nibble (_i = 8..15). The length stays that of the
 * valid message and the CRC is fixed, so it is the count that is refused.
 */
START_TEST(test_reject_hello_count_over_7)
{
	static const uint8_t n[5] = { 3, 3, 3, 3, 3 };
	for (int kind = 0; kind < 5; kind++) {
		struct zrtp_msg m;
		hello_sample(&m, n);
		uint8_t pkt[BUF_LEN];
		size_t len = pkt_build(pkt, &m, 1, 2);
		uint8_t *w = pkt + MSG_OFF + 12 + 64;   /* the flags word */
		switch (kind) {
		case 0: w[1] = (uint8_t)((w[1] & 0xf0) | _i); break;
		case 1: w[2] = (uint8_t)((w[2] & 0x0f) | (_i << 4)); break;
		case 2: w[2] = (uint8_t)((w[2] & 0xf0) | _i); break;
		case 3: w[3] = (uint8_t)((w[3] & 0x0f) | (_i << 4)); break;
		default: w[3] = (uint8_t)((w[3] & 0xf0) | _i); break;
		}
		pkt_fix_crc(pkt, len);
		char what[48];
		snprintf(what, sizeof(what), "count %d in kind %d", _i, kind);
		parse_err(pkt, len, ZRTP_PERR_ALGO_COUNT, what);
	}
}
END_TEST

/* Counts that add up to a different size than the message has. */
START_TEST(test_reject_hello_count_size_mismatch)
{
	static const uint8_t n[5] = { 3, 3, 3, 3, 3 };
	struct zrtp_msg m;
	hello_sample(&m, n);
	uint8_t pkt[BUF_LEN];
	size_t len = pkt_build(pkt, &m, 1, 2);
	uint8_t *w = pkt + MSG_OFF + 12 + 64;
	w[1] = 4;
	pkt_fix_crc(pkt, len);
	parse_err(pkt, len, ZRTP_PERR_MSG_SIZE, "hc one too many");
	w[1] = 2;
	pkt_fix_crc(pkt, len);
	parse_err(pkt, len, ZRTP_PERR_MSG_SIZE, "hc one too few");
}
END_TEST

START_TEST(test_reject_dhpart_empty_pv)
{
	struct zrtp_msg m;
	dhpart_sample(&m, ZRTP_MSG_DHPART2, 32);
	uint8_t pkt[BUF_LEN];
	size_t len = pkt_build(pkt, &m, 1, 2);
	/* drop the pv: move the MAC up over it */
	uint8_t *body = pkt + MSG_OFF + 12;
	memmove(body + 64, body + 64 + 32, 8);
	len -= 32;
	pkt_fix_length(pkt, len);
	ck_assert_uint_eq(len, 16 + 84);
	parse_err(pkt, len, ZRTP_PERR_MSG_SIZE, "DHPart without pv");
}
END_TEST

START_TEST(test_reject_oversized)
{
	/* the largest packet we take: a Confirm filling ZRTP_MAX_MSG_LEN */
	struct zrtp_msg m, p;
	confirm_sample(&m, ZRTP_MSG_CONFIRM1, ZRTP_MAX_MSG_LEN - 36);
	uint8_t pkt[BUF_LEN];
	memset(pkt, 0, sizeof(pkt));   /* the 2 KB case CRCs all of it */
	size_t len = pkt_build(pkt, &m, 1, 2);
	ck_assert_uint_eq(len, ZRTP_MAX_PKT_LEN);
	parse_ok(pkt, len, &p);

	/* one word more, everything else consistent */
	memset(pkt + len - 4, 0x3c, 8);
	pkt_fix_length(pkt, len + 4);
	parse_err(pkt, len + 4, ZRTP_PERR_TOO_LONG, "one word too long");
	pkt_fix_length(pkt, sizeof(pkt));
	parse_err(pkt, sizeof(pkt), ZRTP_PERR_TOO_LONG, "2 KB");
}
END_TEST

START_TEST(test_reject_short)
{
	for (size_t l = 0; l < 28; l++)
		parse_err(bz_helloack, l, ZRTP_PERR_SHORT, "short");
	struct zrtp_msg m;
	parse_ok(bz_helloack, 28, &m);
}
END_TEST

START_TEST(test_reject_confirm_too_short)
{
	struct zrtp_msg m;
	confirm_sample(&m, ZRTP_MSG_SASRELAY, 40);
	uint8_t pkt[BUF_LEN];
	size_t len = pkt_build(pkt, &m, 1, 2);
	for (size_t cut = 4; cut <= 24 + 40; cut += 4) {
		pkt_fix_length(pkt, len - cut);
		parse_err(pkt, len - cut, ZRTP_PERR_MSG_SIZE, "short SASrelay");
	}
}
END_TEST

/* --- demux test ---------------------------------------------------------- */

START_TEST(test_looks_zrtp)
{
	uint8_t pkt[BUF_LEN];
	memcpy(pkt, bz_helloack, sizeof(bz_helloack));
	ck_assert(zrtp_packet_looks_zrtp(pkt, sizeof(bz_helloack)));
	ck_assert(zrtp_packet_looks_zrtp(pkt, ZRTP_PKT_HDR_LEN));
	ck_assert(!zrtp_packet_looks_zrtp(pkt, ZRTP_PKT_HDR_LEN - 1));
	ck_assert(!zrtp_packet_looks_zrtp(pkt, 0));
	pkt[0] = 0x11;
	ck_assert(zrtp_packet_looks_zrtp(pkt, sizeof(bz_helloack)));
	pkt[0] = 0x80;   /* RTP version 2 */
	ck_assert(!zrtp_packet_looks_zrtp(pkt, sizeof(bz_helloack)));

	/* a STUN binding request: first bits 00, cookie 0x2112a442 */
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00,
					  0x21, 0x12, 0xa4, 0x42 };
	ck_assert(!zrtp_packet_looks_zrtp(stun, sizeof(stun)));
}
END_TEST

/* --- Confirm plaintext --------------------------------------------------- */

START_TEST(test_confirm_body_roundtrip_flags)
{
	for (int f = 0; f < 16; f++) {
		struct zrtp_confirm_body b, p;
		memset(&b, 0, sizeof(b));
		fill(b.h0, 32, (uint8_t)(0x40 + f));
		b.e = f & 8;
		b.v = f & 4;
		b.a = f & 2;
		b.d = f & 1;
		b.cache_expiry = f == 15 ? 0xffffffffu : 86400u * (uint32_t)f;
		uint8_t buf[64];
		memset(buf, 0xaa, sizeof(buf));
		ck_assert_int_eq(zrtp_confirm_body_encode(buf, sizeof(buf), &b),
				 ZRTP_CONFIRM_BODY_LEN);
		/* §5.7: |unused(15)|sig len(9)|0 0 0 0 E V A D| */
		ck_assert_uint_eq(buf[32], 0);
		ck_assert_uint_eq(buf[33], 0);
		ck_assert_uint_eq(buf[34], 0);
		ck_assert_uint_eq(buf[35], f);
		ck_assert_uint_eq(buf[36], b.cache_expiry >> 24);
		ck_assert_uint_eq(buf[39], b.cache_expiry & 0xff);
		ck_assert_uint_eq(buf[40], 0xaa);   /* nothing past the body */
		ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40, &p), 0);
		ck_assert_mem_eq(p.h0, b.h0, 32);
		ck_assert_uint_eq(p.sig_len, 0);
		ck_assert(p.e == b.e && p.v == b.v && p.a == b.a && p.d == b.d);
		ck_assert_uint_eq(p.cache_expiry, b.cache_expiry);
	}
}
END_TEST

START_TEST(test_confirm_body_signature)
{
	static uint8_t buf[40 + 4 * 0x1ff + 4];
	struct zrtp_confirm_body p;

	memset(buf, 0, sizeof(buf));
	buf[34] = 3;   /* sig_len 3 words */
	buf[35] = 0x04;
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40 + 12, &p), 0);
	ck_assert_uint_eq(p.sig_len, 3);
	ck_assert(p.v && !p.e && !p.a && !p.d);
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40 + 8, &p), -EINVAL);
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40, &p), -EINVAL);
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40 + 16, &p), -EINVAL);

	/* the ninth bit of sig_len is the low bit of byte 33 */
	buf[33] = 0x01;
	buf[34] = 0xff;
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40 + 4 * 0x1ff, &p), 0);
	ck_assert_uint_eq(p.sig_len, 0x1ff);
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40 + 4 * 0x1fe, &p),
			 -EINVAL);

	/* the 15 unused bits do not leak into sig_len */
	buf[32] = 0xff;
	buf[33] = 0xfe;
	buf[34] = 0x00;
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 40, &p), 0);
	ck_assert_uint_eq(p.sig_len, 0);
}
END_TEST

START_TEST(test_confirm_body_errors)
{
	struct zrtp_confirm_body b, p;
	uint8_t buf[64];
	memset(&b, 0, sizeof(b));
	memset(buf, 0, sizeof(buf));
	for (size_t l = 0; l < ZRTP_CONFIRM_BODY_LEN; l++)
		ck_assert_int_eq(zrtp_confirm_body_parse(buf, l, &p), -EINVAL);
	ck_assert_int_eq(zrtp_confirm_body_parse(buf, 44, &p), -EINVAL);
	for (size_t cap = 0; cap < ZRTP_CONFIRM_BODY_LEN; cap++)
		ck_assert_int_eq(zrtp_confirm_body_encode(buf, cap, &b),
				 -ENOSPC);
	b.sig_len = 1;   /* we have no signature to put there */
	ck_assert_int_eq(zrtp_confirm_body_encode(buf, sizeof(buf), &b),
			 -EINVAL);
}
END_TEST

/* --- names --------------------------------------------------------------- */

START_TEST(test_names)
{
	for (int t = ZRTP_MSG_HELLO; t < ZRTP_MSG_TYPE_COUNT; t++) {
		const char *a = zrtp_msg_type_name((enum zrtp_msg_type)t);
		ck_assert_ptr_nonnull(a);
		ck_assert_str_ne(a, "unknown");
		for (int u = ZRTP_MSG_HELLO; u < t; u++)
			ck_assert_str_ne(a, zrtp_msg_type_name(
						    (enum zrtp_msg_type)u));
	}
	ck_assert_str_eq(zrtp_msg_type_name(ZRTP_MSG_DHPART2), "DHPart2");
	ck_assert_str_eq(zrtp_msg_type_name(ZRTP_MSG_TYPE_COUNT), "unknown");

	for (int e = ZRTP_PERR_SHORT; e <= ZRTP_PERR_TOO_LONG; e++) {
		ck_assert_str_ne(zrtp_parse_err_str(-e), "unknown parse error");
		ck_assert_str_eq(zrtp_parse_err_str(-e), zrtp_parse_err_str(e));
	}
	ck_assert_str_eq(zrtp_parse_err_str(-1000), "unknown parse error");
	ck_assert_str_eq(zrtp_parse_err_str(-2147483647 - 1),
			 "unknown parse error");
}
END_TEST

Suite *packet_suite(void)
{
	Suite *s = suite_create("packet");
	TCase *tc;

	tc = tcase_create("crc32c");
	tcase_add_test(tc, test_crc32c_rfc3720_b4_zeros);
	tcase_add_test(tc, test_crc32c_rfc3720_b4_ones);
	tcase_add_test(tc, test_crc32c_rfc3720_b4_incrementing);
	tcase_add_test(tc, test_crc32c_rfc3720_b4_decrementing);
	tcase_add_test(tc, test_crc32c_catalogue_check_123456789);
	tcase_add_test(tc, test_crc32c_bzrtp_cryptotest_pattern1);
	suite_add_tcase(s, tc);

	tc = tcase_create("wire");
	tcase_add_test(tc, test_bzrtp_parsertest_helloack);
	tcase_add_test(tc, test_bzrtp_parsertest_conf2ack);
	tcase_add_test(tc, test_bzrtp_parsertest_hello);
	tcase_add_test(tc, test_gnuzrtp_hello_from_bzrtp_parsertest);
	tcase_add_test(tc, test_bzrtp_parsertest_commit);
	tcase_add_test(tc, test_bzrtp_parsertest_dhpart1);
	tcase_add_test(tc, test_bzrtp_parsertest_confirm1);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_loop_test(tc, test_roundtrip_hello_counts, 0, 8);
	tcase_add_test(tc, test_roundtrip_hello_flags);
	tcase_add_test(tc, test_roundtrip_commit_dh);
	tcase_add_test(tc, test_roundtrip_commit_mult);
	tcase_add_test(tc, test_roundtrip_commit_prsh);
	tcase_add_test(tc, test_roundtrip_dhpart);
	tcase_add_test(tc, test_roundtrip_confirm);
	tcase_add_test(tc, test_roundtrip_header_only);
	tcase_add_test(tc, test_roundtrip_error_goclear_ping_pingack);
	tcase_add_test(tc, test_wrap_header_layout);
	tcase_add_test(tc, test_encode_wrap_in_place);
	tcase_add_test(tc, test_encode_enospc);
	tcase_add_test(tc, test_encode_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("reject");
	tcase_add_loop_test(tc, test_reject_truncated_raw, 0, N_SAMPLES);
	tcase_add_loop_test(tc, test_reject_truncated_fixed_up, 0, N_SAMPLES);
	tcase_add_loop_test(tc, test_reject_unaligned_length, 0, N_SAMPLES);
	tcase_add_test(tc, test_reject_overlong);
	tcase_add_loop_test(tc, test_reject_bad_crc, 0, N_SAMPLES);
	tcase_add_loop_test(tc, test_reject_crc_big_endian, 0, N_SAMPLES);
	tcase_add_test(tc, test_reject_not_zrtp);
	tcase_add_test(tc, test_reject_fragment_marker);
	tcase_add_test(tc, test_reject_bad_preamble);
	tcase_add_test(tc, test_reject_unknown_type);
	tcase_add_loop_test(tc, test_reject_length_mismatch, 0, N_SAMPLES);
	tcase_add_loop_test(tc, test_reject_hello_count_over_7, 8, 16);
	tcase_add_test(tc, test_reject_hello_count_size_mismatch);
	tcase_add_test(tc, test_reject_dhpart_empty_pv);
	tcase_add_test(tc, test_reject_oversized);
	tcase_add_test(tc, test_reject_short);
	tcase_add_test(tc, test_reject_confirm_too_short);
	tcase_add_test(tc, test_looks_zrtp);
	suite_add_tcase(s, tc);

	tc = tcase_create("confirm_body");
	tcase_add_test(tc, test_confirm_body_roundtrip_flags);
	tcase_add_test(tc, test_confirm_body_signature);
	tcase_add_test(tc, test_confirm_body_errors);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	return s;
}
