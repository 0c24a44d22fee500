/*
 * The datagram classifier (demux.h). Each test reads only bytes it has
 * checked are there.
 */
#include "config.h"

#include <string.h>

#include "common/demux.h"
#include "zrtp/packet.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 6189 §5: first byte, magic cookie, and the CRC-32C trailer (stored
 * little-endian, as the engine writes it). */
static bool is_zrtp(const uint8_t *p, size_t len)
{
	if (len < ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + ZRTP_CRC_LEN ||
	    !zrtp_packet_looks_zrtp(p, len))
		return false;
	const uint8_t *c = p + len - ZRTP_CRC_LEN;
	uint32_t crc = (uint32_t)c[0] | (uint32_t)c[1] << 8 |
		       (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
	return zrtp_crc32c(p, len - ZRTP_CRC_LEN) == crc;
}

/* RFC 5389 §6. */
static bool is_stun(const uint8_t *p, size_t len)
{
	return len >= 20 && (p[0] & 0xc0) == 0 && be32(p + 4) == 0x2112A442u;
}

/*
 * RFC 3261 §7.1: "SIP/2.0 " (a response), or a method token, a space and
 * a request-URI whose line ends in "SIP/2.0". Only the first line is read,
 * and only as far as len allows: a prefix is judged plausible.
 */
bool demux_sip_looks(const uint8_t *p, size_t len)
{
	if (!p || len < 8)
		return false;
	if (memcmp(p, "SIP/2.0 ", 8) == 0)
		return true;
	size_t i = 0;
	while (i < len && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i < 3 || i > 16 || i >= len || p[i] != ' ')
		return false;
	/* The request-URI: a scheme then ':' (sip:, sips:, tel:, ...). */
	size_t u = i + 1;
	size_t k = u;
	while (k < len && ((p[k] >= 'a' && p[k] <= 'z') ||
			   (p[k] >= 'A' && p[k] <= 'Z')))
		k++;
	if (k == len)
		return k > u;   /* prefix ends inside the scheme: plausible */
	if (k == u || p[k] != ':')
		return false;
	/* If the whole first line is here, it must end in SIP/2.0. */
	for (size_t e = k; e < len; e++) {
		if (p[e] == '\r' || p[e] == '\n')
			return e >= 8 + u && memcmp(p + e - 8, " SIP/2.0", 8) == 0;
	}
	return true;
}

enum demux_class demux_classify(const uint8_t *p, size_t len,
				enum demux_port port)
{
	if (p == NULL || len == 0)
		return DEMUX_OTHER;
	uint8_t b0 = p[0];

	if (b0 <= 3)
		return is_stun(p, len) ? DEMUX_STUN : DEMUX_OTHER;
	if (b0 == 0x10 || b0 == 0x11)
		return is_zrtp(p, len) ? DEMUX_ZRTP : DEMUX_OTHER;
	if (b0 >= 20 && b0 <= 63)
		return DEMUX_DTLS;
	if ((b0 >> 6) == 2) {
		if (len < 8)
			return DEMUX_OTHER;
		if (port == DEMUX_PORT_RTCP || (p[1] >= 192 && p[1] <= 223))
			return DEMUX_RTCP;
		return len >= 12 ? DEMUX_RTP : DEMUX_OTHER;
	}
	if (b0 >= 'A' && b0 <= 'Z' && demux_sip_looks(p, len))
		return DEMUX_SIP;
	return DEMUX_OTHER;
}

const char *demux_class_name(enum demux_class c)
{
	static const char *const names[] = {
		[DEMUX_OTHER] = "other", [DEMUX_ZRTP] = "zrtp",
		[DEMUX_STUN] = "stun",   [DEMUX_DTLS] = "dtls",
		[DEMUX_RTCP] = "rtcp",   [DEMUX_RTP] = "rtp",
		[DEMUX_SIP] = "sip",
	};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}
