/*
 * SIP message framing and the SDP view (RFC 3261, RFC 8866, RFC 3605,
 * RFC 5761, RFC 6189 §8.1). Pure: buffers in, slices and buffers out; no
 * I/O, no globals, no allocation except the framer's own buffer.
 *
 * Parsing never copies: every string is a slice (pointer + length) into
 * the caller's buffer, which must outlive the parsed structs. A message
 * the parser does not fully understand is reported as such, and the
 * rewrite then refuses it so the caller passes it through byte for byte.
 */
#ifndef SDP_SDP_H
#define SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sip_slice {
	const char *p;
	size_t len;
};

#define SIP_MAX_HEADERS 128
#define SDP_MAX_MEDIA 16
#define SIP_MAX_MSG (64 * 1024)   /* larger messages are not parsed */

/* ------------------------------------------------------------------ */
/* SIP messages                                                        */

enum sip_kind { SIP_REQUEST, SIP_RESPONSE };

struct sip_header {
	struct sip_slice name;     /* as written (may be compact, any case) */
	struct sip_slice value;    /* trimmed; folded lines left in place */
};

struct sip_msg {
	enum sip_kind kind;
	struct sip_slice method;   /* request method, or CSeq's method */
	struct sip_slice uri;      /* request-URI */
	int status;                /* responses: 100..699 */
	struct sip_slice call_id;
	uint32_t cseq;
	struct sip_slice cseq_method;
	struct sip_slice content_type;   /* media type only, params cut */
	bool has_content_length;
	size_t content_length;
	size_t header_len;         /* bytes up to and including the blank line */
	struct sip_slice body;     /* Content-Length bytes (or rest on UDP) */
	struct sip_slice sdp;      /* the application/sdp body or multipart part */
	size_t n_headers;
	struct sip_header headers[SIP_MAX_HEADERS];
};

/*
 * Parse one complete SIP message. stream: true for TCP (Content-Length
 * required; the message must be exactly header_len + Content-Length
 * bytes), false for UDP (absent Content-Length means the rest of the
 * datagram; a Content-Length larger than what is there is an error, a
 * smaller one truncates the body per RFC 3261 §18.3).
 * Returns 0, -EINVAL (not SIP / malformed start line or headers),
 * -EBADMSG (Content-Length missing on TCP, duplicated and different,
 * negative, overflowing, or disagreeing with the body), -E2BIG.
 */
int sip_msg_parse(const uint8_t *buf, size_t len, bool stream,
		  struct sip_msg *out) __attribute__((warn_unused_result));

/* Find a header by name, long or compact form, case-insensitively. */
const struct sip_header *sip_msg_header(const struct sip_msg *m,
					const char *name);

/*
 * The party a From, To or P-Asserted-Identity value names (sdp/ident.c):
 * uri gets the sip:/sips: URI normalised to scheme, user and host[:port]
 * (scheme and host lower-case; password, parameters and headers
 * dropped), name the display name unquoted ("" if none). 0, -EINVAL
 * (malformed, or not a sip:/sips: URI; both buffers then ""), -ENOSPC
 * (the URI does not fit uri_cap). A long name is cut to fit name_cap.
 */
int sip_identity_parse(struct sip_slice value, char *uri, size_t uri_cap,
		       char *name, size_t name_cap);

/* ------------------------------------------------------------------ */
/* TCP framing                                                         */

/*
 * An incremental framer for a SIP-over-TCP byte stream (RFC 3261 §18.3,
 * RFC 5626 §3.5.1 keep-alives). Feed it bytes in any pieces; it yields
 * complete messages and, separately, bytes it passes through untouched
 * (keep-alive CRLFs, and anything that is not SIP). It never drops a byte:
 * every byte fed comes out exactly once, in order, as part of a message
 * or as pass-through.
 */
struct sip_framer;

enum sip_frame_kind { SIP_FRAME_MESSAGE, SIP_FRAME_PASSTHROUGH };

typedef void (*sip_frame_fn)(void *arg, enum sip_frame_kind kind,
			     const uint8_t *p, size_t len);

struct sip_framer *sip_framer_new(size_t max_msg);
void sip_framer_free(struct sip_framer *f);
/* Returns 0 or -ENOMEM. Calls fn for every frame completed by this data. */
int sip_framer_feed(struct sip_framer *f, const uint8_t *p, size_t len,
		    sip_frame_fn fn, void *arg);
/* Bytes held waiting for the rest of a message. */
size_t sip_framer_pending(const struct sip_framer *f);
/* The stream ends (or is given up): the held bytes come out as one
 * SIP_FRAME_PASSTHROUGH, and the framer starts again at a boundary. */
void sip_framer_flush(struct sip_framer *f, sip_frame_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* SDP                                                                 */

enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

/*
 * What the m= line's transport is, as far as protecting it goes. The shim
 * protects every RTP-over-UDP profile the same way: the client's own SRTP
 * (SDES, or keyed by DTLS) is wrapped in ours like plain RTP, and DTLS
 * records pass untouched like STUN. Anything else it cannot protect.
 */
enum sdp_profile {
	SDP_PROFILE_OTHER,     /* unknown or not RTP (UDP/BFCP, ...) */
	SDP_PROFILE_AVP,       /* RTP/AVP, RTP/AVPF (RFC 3551, RFC 4585) */
	SDP_PROFILE_SAVP,      /* RTP/SAVP, RTP/SAVPF (RFC 3711, RFC 5124) */
	SDP_PROFILE_DTLS,      /* UDP/TLS/RTP/SAVP, UDP/TLS/RTP/SAVPF
				* (RFC 5764 §8) */
	SDP_PROFILE_TCP,       /* any proto with a TCP part: TCP/RTP/AVP
				* (RFC 4571), TCP/TLS/RTP/SAVP, TCP/DTLS/...
				* (RFC 7850), ... */
};

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>] (RFC 8866 §6.6) */
struct sdp_rtpmap {
	uint8_t pt;
	struct sip_slice enc;      /* as written: PCMU, opus, telephone-event */
	uint32_t rate;
	uint8_t channels;          /* 1 when not given */
};

#define SDP_MAX_FMT 16

struct sdp_media {
	struct sip_slice type;     /* audio, video, ... */
	uint16_t port;             /* 0: rejected / disabled stream */
	uint16_t n_ports;          /* m=audio 49170/2 -> 2; default 1 */
	struct sip_slice proto;    /* RTP/AVP, RTP/AVPF, RTP/SAVP, ... */
	enum sdp_profile profile;  /* what proto is */
	bool protectable;          /* AVP, SAVP or DTLS, and port != 0 */
	bool tcp_candidates;       /* an a=candidate with transport TCP
				    * (RFC 6544): media may go where the
				    * shim cannot protect it */
	struct sip_slice addr;     /* effective c= address (media or session) */
	int addr_family;           /* 4, 6, or 0 when none */
	uint16_t rtcp_port;        /* a=rtcp, else port + 1; 0 when port is 0 */
	struct sip_slice rtcp_addr;/* a=rtcp address if given */
	bool rtcp_mux;
	enum sdp_dir dir;
	bool has_zrtp_hash;
	struct sip_slice zrtp_version;  /* "1.10" */
	struct sip_slice zrtp_hash;     /* 64 hex digits */
	size_t start, end;         /* byte range of this m= section in the body */
	size_t zrtp_line_start, zrtp_line_end;  /* a=zrtp-hash line incl. EOL */
	/* On RTP profiles: the payload types of the m= line in its order (the
	 * first SDP_MAX_FMT numeric ones) and the a=rtpmap lines read (an
	 * rtpmap that does not parse is ignored, like an unknown attribute) */
	uint8_t fmt[SDP_MAX_FMT];
	size_t n_fmt;
	struct sdp_rtpmap rtpmap[SDP_MAX_FMT];
	size_t n_rtpmap;
};

/*
 * The encoding of payload type pt on m: its a=rtpmap, else the static
 * assignment of RFC 3551 §6 for the audio types a softphone may use
 * (0 PCMU, 3 GSM, 8 PCMA, 9 G722, 18 G729). false if neither.
 */
bool sdp_media_codec(const struct sdp_media *m, uint8_t pt,
		     struct sdp_rtpmap *out);

struct sdp_view {
	struct sip_slice session_addr;
	int session_family;
	enum sdp_dir session_dir;
	size_t n_media;
	struct sdp_media media[SDP_MAX_MEDIA];
	bool crlf;                 /* line ends seen: CRLF (else bare LF) */
};

/* Parse an SDP body. 0, -EINVAL (not SDP), -E2BIG (too many m= lines). */
int sdp_parse(const uint8_t *body, size_t len, struct sdp_view *out)
	__attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* The dialog view                                                     */

enum sip_sdp_role { SIP_SDP_NONE, SIP_SDP_OFFER, SIP_SDP_ANSWER };

struct sip_dialog_info {
	struct sip_slice call_id;
	uint32_t cseq;
	struct sip_slice method;   /* of the request or of the CSeq */
	int status;                /* 0 for requests */
	enum sip_sdp_role sdp_role;/* what the SDP in this message is */
	bool ends_media;           /* BYE, CANCEL, a final error to INVITE */
};

/*
 * Classify a parsed message: offer/answer per RFC 3261 §13.2.1 and RFC
 * 6337 (INVITE/200/ACK, re-INVITE, UPDATE, PRACK, SDP in 18x).
 * offer_pending: whether this dialog has an offer outstanding in the
 * message's direction pair (the caller's dialog state); an INVITE without
 * SDP makes the 2xx the offer and the ACK the answer.
 */
void sip_dialog_classify(const struct sip_msg *m, bool offer_pending,
			 struct sip_dialog_info *out);

/* ------------------------------------------------------------------ */
/* The rewrite                                                         */

/*
 * Copy msg into out with "a=zrtp-hash:<version> <hash>" in every
 * protectable m= section (hashes[i] for media i; NULL skips it),
 * replacing a zrtp-hash line already there, every other byte unchanged,
 * and Content-Length fixed (added when absent and stream is true).
 * version is "1.10"; each hash is 64 lowercase hex digits.
 * Returns the output length, -ENOSPC if out is too small, -EINVAL if the
 * message did not parse completely (the caller passes it through).
 */
int sdp_rewrite_zrtp_hash(const uint8_t *msg, size_t len, bool stream,
			  const char *version,
			  const char *const hashes[SDP_MAX_MEDIA],
			  uint8_t *out, size_t cap)
	__attribute__((warn_unused_result));

#endif
