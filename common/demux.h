/*
 * The one datagram classifier: what a UDP datagram on a media (or any)
 * port is. The shim decides from it what to hold, protect, hand to the
 * engine or pass untouched; `zrtpshim verify` decides from it what it
 * counts. Both call this function, so the auditor's tool and the shim
 * agree by construction. Pure: bytes in, a class out.
 *
 * The classes and their tests, in the order they are tried (RFC 7983 §7
 * gives the first-byte ranges; none of the tests overlaps another):
 *   ZRTP  first byte 0x10 or 0x11, the magic cookie "ZRTP" at offset 4,
 *         room for a message header, and a CRC-32C that checks out
 *         (RFC 6189 §5). A ZRTP-shaped datagram with a bad CRC is OTHER:
 *         the engine would refuse it, the shim passes it untouched.
 *   STUN  at least 20 bytes, top two bits 00, magic cookie 0x2112A442
 *         (RFC 5389 §6). A wrong cookie is OTHER.
 *   DTLS  first byte 20..63 (RFC 7983 §7).
 *   RTCP  version 2 and at least 8 bytes (header and SSRC, RFC 3550
 *         §6.4.2) with a packet type 192..223 (RFC 5761 §4), or any
 *         version-2 datagram of 8 bytes or more on an RTCP port without
 *         rtcp-mux (DEMUX_PORT_RTCP).
 *   RTP   version 2, at least the 12-byte fixed header (RFC 3550 §5.1),
 *         second byte outside 192..223.
 *   SIP   a first line that starts like a SIP request or response
 *         (RFC 3261 §7.1); only the first line is read, so a prefix of
 *         the datagram is enough.
 *   OTHER everything else (too short, unknown first byte, ...).
 */
#ifndef COMMON_DEMUX_H
#define COMMON_DEMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum demux_class {
	DEMUX_OTHER,
	DEMUX_ZRTP,
	DEMUX_STUN,
	DEMUX_DTLS,
	DEMUX_RTCP,
	DEMUX_RTP,
	DEMUX_SIP,
};

/* What the port the datagram came from or goes to is known to be. */
enum demux_port {
	DEMUX_PORT_RTP,     /* RTP, RTP+RTCP muxed, or unknown */
	DEMUX_PORT_RTCP,    /* the RTCP port of a stream without rtcp-mux */
};

enum demux_class demux_classify(const uint8_t *p, size_t len,
				enum demux_port port);

/* "zrtp", "stun", "dtls", "rtcp", "rtp", "sip", "other". */
const char *demux_class_name(enum demux_class c);

/* The SIP test alone (the SIP class above): a TCP stream's first bytes. */
bool demux_sip_looks(const uint8_t *p, size_t len);

/*
 * The hot path of a hook: true when no datagram starting with byte b0 can
 * be ZRTP, RTP, RTCP or SIP, so demux_classify would say STUN, DTLS or
 * OTHER, all of which pass untouched. (tests/unit/test_demux.c checks
 * this against demux_classify for every byte.)
 */
static inline bool demux_byte0_passes(uint8_t b0)
{
	return !(b0 == 0x10 || b0 == 0x11 || (b0 >> 6) == 2 ||
		 (b0 >= 'A' && b0 <= 'Z'));
}

#endif
