/*
 * `zrtpshim verify`: proof from a packet capture that a call's media was
 * ZRTP-secured and that no cleartext RTP crossed the wire.
 *
 * The analysis reads a capture (tools/pcapread.h), follows SIP over UDP
 * and TCP to learn the media addresses each side announced in SDP (RTP
 * port, RTCP port or rtcp-mux, a=zrtp-hash), and groups every UDP
 * datagram into media streams: one stream per pair of transport
 * addresses (both directions). Ports no SDP announced become streams too
 * when they carry ZRTP or RTP-shaped traffic.
 *
 * Per packet, by the shim's own classifier (common/demux.h): ZRTP
 * (valid CRC; codec-validated), STUN, DTLS, RTP, RTCP, other. RTP and
 * RTCP are then told apart as SRTP/SRTCP or cleartext, without keys, by
 * the method described in README.md ("zrtpshim verify") and zrtpshim-verify(1): the auth
 * tag in the length (G.711: payload bytes = timestamp step), the byte
 * distribution of the payload (chi-square against uniform), and the ZRTP
 * context of the 5-tuple; what cannot be told is "unknown", never a
 * guess. With a key log (tools/keylog.h) every SRTP/SRTCP packet is
 * authenticated with libsrtp2.
 *
 * Calls that reuse an address pair are told apart: a Hello from a side
 * that already sent another one, while another call's SDP is in force
 * for its address, starts a new stream of that pair. A stream with no
 * ZRTP of its own that the same call's SDP announced for the same m=
 * line as a secured stream, carrying its SSRCs, continues that stream (a
 * re-INVITE moved the media; the keys stay).
 *
 * The verdict (VERIFY_PASS) needs: a complete capture, at least one media
 * stream, every stream that carried media ZRTP-secured (handshake complete
 * on its 5-tuple, or on the stream it continues, or every SRTP packet
 * authenticated by the key log), no
 * cleartext RTP/RTCP, no packet of unknown class, no authentication
 * failure, no Hello that disagrees with its side's a=zrtp-hash.
 */
#ifndef TOOLS_VERIFY_H
#define TOOLS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/pcapread.h"

struct verify_options {
	const char *keylog_path;   /* NULL: no key log */
	const char *audio_dir;     /* NULL: no WAV output */
};

enum verify_verdict {
	VERIFY_PASS = 0,           /* proven: all media ZRTP-secured, none clear */
	VERIFY_FAIL = 1,           /* cleartext, unproven or attacked media */
	VERIFY_UNUSABLE = 2,       /* input the analysis cannot use */
};

/* How a stream's side compares with the a=zrtp-hash of its own SDP. */
enum verify_hash_check {
	VERIFY_HASH_NO_HELLO,      /* this side sent no Hello */
	VERIFY_HASH_NO_SDP,        /* no SDP announced this side's address */
	VERIFY_HASH_NOT_IN_SDP,    /* its SDP carried no a=zrtp-hash */
	VERIFY_HASH_MATCH,
	VERIFY_HASH_MISMATCH,      /* attack signal (RFC 6189 §8.1.1) */
};

/* Packet counts of one direction of a stream (RTP and RTCP ports). */
struct verify_counts {
	uint64_t zrtp;             /* valid ZRTP packets */
	uint64_t zrtp_bad;         /* ZRTP-shaped, failed the codec (CRC, ...) */
	uint64_t srtp;             /* RTP judged (or authenticated as) SRTP */
	uint64_t rtp_clear;        /* cleartext RTP */
	uint64_t rtp_unknown;      /* RTP that could not be told either way */
	uint64_t srtcp;
	uint64_t rtcp_clear;
	uint64_t rtcp_unknown;
	uint64_t stun;             /* magic cookie 0x2112A442 */
	uint64_t dtls;             /* first byte 20..63 (RFC 7983 §7) */
	uint64_t other;
	uint64_t auth_ok;          /* with a key log: SRTP+SRTCP authenticated */
	uint64_t auth_fail;        /* with a key log: a matching key, bad tag */
	uint64_t no_key;           /* with a key log: no record for the SSRC */
};

#define VERIFY_MAX_SSRC 8
#define VERIFY_MAX_ZRTP_EVENTS 48
#define VERIFY_MAX_FAILED_REPORT 16

struct verify_dir {
	struct pr_addr src, dst;   /* RTP addresses of this direction */
	struct verify_counts n;
	uint32_t ssrc[VERIFY_MAX_SSRC];
	size_t n_ssrc;
	bool ssrc_overflow;
	bool announced;            /* src was announced in an SDP */
	bool sent_hello;
	char client_id[17];        /* from its Hello, printable */
	enum verify_hash_check hash_check;
	double payload_entropy;    /* bits/byte over all RTP payload bytes */
	uint64_t payload_bytes;
	int payload_type;          /* most frequent RTP PT, -1 if none */
	char codec[24];            /* from SDP rtpmap or static PT, or "" */
	unsigned samples_per_pkt;  /* most frequent timestamp step, 0 unknown */
	char wav_path[256];        /* with --audio-dir, "" if none written */
	uint64_t wav_samples;
};

struct verify_zrtp_event {
	uint8_t type;              /* enum zrtp_msg_type */
	uint8_t dir;               /* 0: dir[0] sent it, 1: dir[1] */
	uint32_t count;            /* consecutive repeats (retransmissions) */
	uint64_t first_usec;
};

struct verify_stream {
	unsigned id;               /* 1-based, in order of first packet */
	char call_id[96];          /* SIP Call-ID that announced it, or "" */
	bool announced;            /* either side announced in SDP */
	bool rtcp_mux;
	bool has_rtcp_flow;        /* RTCP seen on a separate port pair */
	struct pr_addr rtcp[2];    /* the RTCP port pair when has_rtcp_flow */
	struct verify_dir dir[2];  /* dir[0]: the side that sent first */

	struct verify_zrtp_event ev[VERIFY_MAX_ZRTP_EVENTS];
	size_t n_ev;
	bool ev_overflow;
	bool hs_complete;          /* Hello both ways .. Confirm2 + Conf2ACK */
	char hs_missing[96];       /* what is missing when not complete */
	bool have_algos;           /* from the winning Commit */
	char ka[5], hash[5], cipher[5], auth[5], sas[5];
	int initiator;             /* dir index of the Commit winner, -1 */
	uint64_t hs_end_usec;      /* Conf2ACK (or Confirm2) time, 0 if none */

	bool has_media;            /* any RTP or RTCP packet */
	uint64_t first_media_usec;
	bool media_before_secure;
	int64_t first_media_rel_usec; /* first media - handshake end */
	bool keylog_secured;       /* every SRTP/SRTCP packet authenticated */
	/* id of the stream whose handshake this one's media carries on
	 * from (same Call-ID and m= line, same SSRCs, no ZRTP of its own:
	 * a re-INVITE moved the media), 0 if none */
	unsigned continues;
	/* an earlier stream had this address pair: a later call's own
	 * handshake on reused ports, judged apart from the earlier call */
	bool later_epoch;
	bool secured;              /* hs_complete || keylog_secured || continues */

	uint64_t failed_frames[VERIFY_MAX_FAILED_REPORT]; /* auth failures */
	size_t n_failed_frames;
};

struct verify_report {
	char capture[256];
	struct pr_stats stats;
	int linktype;
	bool partial;              /* read error / truncated / skipped frames */
	char partial_why[256];

	uint64_t sip_messages, sip_bad;
	uint64_t calls;            /* distinct Call-IDs with SDP */
	uint64_t udp_other;        /* UDP belonging to no stream and not SIP */
	bool keylog_used;
	size_t keylog_records;

	struct verify_stream *streams;
	size_t n_streams;

	enum verify_verdict verdict;
	char reasons[1024];        /* why the verdict, "; "-separated */
};

/*
 * Run the whole analysis. Returns 0 with *out set (its verdict is PASS
 * or FAIL), or -errno with a one-line reason in why for input it cannot
 * use (missing/unreadable capture, not a capture, unsupported link type,
 * unreadable key log, audio directory not writable): exit status 2.
 */
int verify_run(const char *capture, const struct verify_options *opt,
	       struct verify_report **out, char *why, size_t why_len)
	__attribute__((warn_unused_result));

void verify_report_free(struct verify_report *r);

/* The readable summary and the JSON document (format in README.md ("zrtpshim verify")). */
void verify_report_print(FILE *f, const struct verify_report *r);
void verify_report_json(FILE *f, const struct verify_report *r);

/*
 * The keyless content test on an RTP/RTCP payload: the chi-square
 * statistic of its byte histogram against uniform, as a z-score
 * ((X² - 255) / sd under uniformity). Ciphertext stays near 0; audio
 * codecs' bytes are far above VERIFY_Z_STRUCTURED. Exposed for tests.
 */
double verify_payload_z(const uint8_t *p, size_t len);
#define VERIFY_Z_STRUCTURED 8.0
#define VERIFY_MIN_CONTENT_BYTES 32

/* G.711 to 16-bit linear (ITU-T G.711), exposed for tests. */
int16_t verify_ulaw_decode(uint8_t u);
int16_t verify_alaw_decode(uint8_t a);

#endif
