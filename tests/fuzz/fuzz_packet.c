/*
 * libFuzzer target: the packet codec (RFC 6189 §5) must be canonical.
 *
 * Whatever zrtp_packet_parse accepts, zrtp_msg_encode and zrtp_packet_wrap
 * must turn back into the same bytes, and parse again to the same message.
 * The codec drops exactly these bits, which are compared after zeroing:
 *   - packet header byte 1: the low 8 of the 12 "not used" bits (§5); byte
 *     0 must be 0x10 to parse (0x11, a bzrtp fragment, is refused);
 *   - Hello flags (§5.2): the leading 0 bit, the 4 bits after P, the 4
 *     bits before the hash count; only S, M, P and the counts are kept.
 * When one of those bits was set the CRC differs too, so it is compared
 * only when nothing was normalised.
 *
 * The same input, taken as the plaintext of a Confirm (§5.7), must survive
 * zrtp_confirm_body_parse/encode the same way (only sig_len 0 encodes);
 * there the unused 15 bits and the 4 bits before E are dropped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zrtp/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_packet: violated: %s (line %d)\n", \
				#cond, __LINE__);                              \
			__builtin_trap();                                      \
		}                                                              \
	} while (0)

/* Offset of the Hello flags word in a packet: version, client id, H3, ZID. */
#define HELLO_FLAGS_OFF (ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + 4 + 16 + 32 + 12)

/* The fields of a parsed message, pointers aside. */
static bool msg_same(const struct zrtp_msg *a, const struct zrtp_msg *b)
{
	if (a->type != b->type || a->seq != b->seq || a->ssrc != b->ssrc ||
	    a->msg_len != b->msg_len)
		return false;
	switch (a->type) {
	case ZRTP_MSG_HELLO:
		return memcmp(&a->u.hello, &b->u.hello, sizeof a->u.hello) == 0;
	case ZRTP_MSG_COMMIT:
		return memcmp(&a->u.commit, &b->u.commit,
			      sizeof a->u.commit) == 0;
	case ZRTP_MSG_DHPART1:
	case ZRTP_MSG_DHPART2: {
		const struct zrtp_dhpart *x = &a->u.dhpart, *y = &b->u.dhpart;
		return memcmp(x->h1, y->h1, 32) == 0 &&
		       memcmp(x->rs1_id, y->rs1_id, 8) == 0 &&
		       memcmp(x->rs2_id, y->rs2_id, 8) == 0 &&
		       memcmp(x->aux_id, y->aux_id, 8) == 0 &&
		       memcmp(x->pbx_id, y->pbx_id, 8) == 0 &&
		       x->pv_len == y->pv_len &&
		       memcmp(x->pv, y->pv, x->pv_len) == 0 &&
		       memcmp(x->mac, y->mac, 8) == 0;
	}
	case ZRTP_MSG_CONFIRM1:
	case ZRTP_MSG_CONFIRM2:
	case ZRTP_MSG_SASRELAY: {
		const struct zrtp_confirm *x = &a->u.confirm, *y = &b->u.confirm;
		return memcmp(x->mac, y->mac, 8) == 0 &&
		       memcmp(x->iv, y->iv, 16) == 0 && x->enc_len == y->enc_len &&
		       memcmp(x->enc, y->enc, x->enc_len) == 0;
	}
	case ZRTP_MSG_ERROR:
		return a->u.error_code == b->u.error_code;
	case ZRTP_MSG_GOCLEAR:
		return memcmp(a->u.clear_mac, b->u.clear_mac, 8) == 0;
	case ZRTP_MSG_PING:
		return memcmp(&a->u.ping, &b->u.ping, sizeof a->u.ping) == 0;
	case ZRTP_MSG_PINGACK:
		return memcmp(&a->u.pingack, &b->u.pingack,
			      sizeof a->u.pingack) == 0;
	default:
		return true;   /* header-only messages */
	}
}

static void packet_round_trip(const uint8_t *data, size_t size)
{
	struct zrtp_msg m, m2;
	static uint8_t msg[ZRTP_MAX_MSG_LEN], out[ZRTP_MAX_PKT_LEN];
	static uint8_t want[ZRTP_MAX_PKT_LEN];

	if (zrtp_packet_parse(data, size, &m) != 0)
		return;
	CHECK(zrtp_packet_looks_zrtp(data, size));
	CHECK(size <= ZRTP_MAX_PKT_LEN);
	CHECK(m.type > ZRTP_MSG_NONE && m.type < ZRTP_MSG_TYPE_COUNT);
	CHECK(m.msg == data + ZRTP_PKT_HDR_LEN);
	CHECK(m.msg_len == size - ZRTP_PKT_HDR_LEN - ZRTP_CRC_LEN);
	CHECK(m.msg_len % 4 == 0);
	if (m.type == ZRTP_MSG_DHPART1 || m.type == ZRTP_MSG_DHPART2)
		CHECK(m.u.dhpart.pv >= data && m.u.dhpart.pv_len > 0 &&
		      m.u.dhpart.pv + m.u.dhpart.pv_len <= data + size);
	if (m.type == ZRTP_MSG_CONFIRM1 || m.type == ZRTP_MSG_CONFIRM2 ||
	    m.type == ZRTP_MSG_SASRELAY)
		CHECK(m.u.confirm.enc >= data &&
		      m.u.confirm.enc + m.u.confirm.enc_len <= data + size);

	int n = zrtp_msg_encode(msg, sizeof msg, &m);
	CHECK(n > 0 && (size_t)n == m.msg_len);
	int k = zrtp_packet_wrap(out, sizeof out, m.seq, m.ssrc, msg, (size_t)n);
	CHECK(k > 0 && (size_t)k == size);

	memcpy(want, data, size);
	want[1] = 0;
	if (m.type == ZRTP_MSG_HELLO) {
		want[HELLO_FLAGS_OFF] &= 0x70;       /* S, M, P */
		want[HELLO_FLAGS_OFF + 1] &= 0x0f;   /* hash count */
	}
	bool normalised = memcmp(want, data, size) != 0;
	size_t cmp = normalised ? size - ZRTP_CRC_LEN : size;
	CHECK(memcmp(out, want, cmp) == 0);

	/* The output is a packet in its own right, and means the same. */
	CHECK(zrtp_packet_parse(out, (size_t)k, &m2) == 0);
	CHECK(msg_same(&m, &m2));
}

static void confirm_body_round_trip(const uint8_t *data, size_t size)
{
	struct zrtp_confirm_body b, b2;
	uint8_t out[ZRTP_CONFIRM_BODY_LEN], want[ZRTP_CONFIRM_BODY_LEN];

	if (zrtp_confirm_body_parse(data, size, &b) != 0)
		return;
	CHECK(size == ZRTP_CONFIRM_BODY_LEN + 4 * (size_t)b.sig_len);
	if (b.sig_len != 0) {
		CHECK(zrtp_confirm_body_encode(out, sizeof out, &b) == -EINVAL);
		return;
	}
	CHECK(zrtp_confirm_body_encode(out, sizeof out, &b) ==
	      ZRTP_CONFIRM_BODY_LEN);
	memcpy(want, data, sizeof want);
	want[32] = 0;
	want[33] &= 0x01;   /* top bit of sig_len, which is 0 here */
	want[35] &= 0x0f;   /* E V A D */
	CHECK(memcmp(out, want, sizeof out) == 0);
	CHECK(zrtp_confirm_body_parse(out, sizeof out, &b2) == 0);
	CHECK(memcmp(&b, &b2, sizeof b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	packet_round_trip(data, size);
	confirm_body_round_trip(data, size);
	(void)zrtp_packet_looks_zrtp(data, size);
	return 0;
}
