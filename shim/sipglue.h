/*
 * SIP on any tracked socket (sipglue.c): the offer/answer state of each
 * call, what it says about the call's media, and the a=zrtp-hash rewrite.
 */
#ifndef SHIM_SIPGLUE_H
#define SHIM_SIPGLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct shim_fd;

/*
 * An outgoing SIP message (a UDP datagram, or a complete message framed
 * from a TCP stream). Learns the call's media (local ports → which fds
 * carry media, the peer's addresses from earlier answers), and rewrites
 * offers and answers with a=zrtp-hash into out. Returns the length to send
 * (out holds it), or 0 to send the original bytes unchanged.
 */
size_t shim_sip_outgoing(struct shim_fd *f, const uint8_t *msg, size_t len,
			 bool stream, const struct sockaddr *peer,
			 uint8_t *out, size_t cap);

/* An incoming SIP message (never modified): learns the peer's media
 * addresses and a=zrtp-hash, and call ends (BYE, CANCEL, errors). */
void shim_sip_incoming(struct shim_fd *f, const uint8_t *msg, size_t len,
		       bool stream, const struct sockaddr *from);

/*
 * Is this the RTP or RTCP address a peer announced in the SDP of a call in
 * progress? io.c holds RTP/RTCP-shaped sends to such an address from an fd
 * not yet attached to a stream (a client may send RTCP before its own
 * answer has named the socket).
 */
bool shim_sip_peer_media_addr(const struct sockaddr *to);

/* Tests only: the ceiling on tracked calls (0: the built-in one). */
void shim_sip_test_set_max_calls(size_t max);

#endif
