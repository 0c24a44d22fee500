/*
 * `zrtpshim verify`, inside: the analysis state (flows, what SDP
 * announced, the per-packet records) and the functions the files of the
 * analysis share. Private to tools/verify*.c; the interface is verify.h.
 *
 *   verify.c         the two passes: flows, per-packet handling, roles,
 *                    classification, the verdict; verify_run
 *   verify_sdp.c     SIP/SDP learning (UDP and TCP) and what it announced
 *   verify_auth.c    key-log authentication with libsrtp2
 *   verify_stats.c   the keyless content statistics
 *   verify_audio.c   G.711 and the WAV writer (--audio-dir)
 *   verify_report.c  the text and JSON reports
 */
#ifndef TOOLS_VERIFY_INT_H
#define TOOLS_VERIFY_INT_H

#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/keylog.h"
#include "sdp/sdp.h"
#include "tools/verify.h"
#include "zrtp/packet.h"

#define MAX_HASHES 4
#define MAX_PT 16
#define FLOW_BUCKETS 4096
#define STEP_SLOTS 8

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

static inline size_t ip_len(int family)
{
	return family == 6 ? 16 : 4;
}

static inline bool ip_eq(const struct pr_addr *a, const struct pr_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

static inline bool addr_eq(const struct pr_addr *a, const struct pr_addr *b)
{
	return ip_eq(a, b) && a->port == b->port;
}

/* ------------------------------------------------------------------ */
/* What SDP announced                                                  */

struct ptmap {
	uint8_t pt;
	char name[16];
	unsigned rate;
};

/* One per (address, Call-ID): the same ports announced by another call
 * (a client that reuses them call after call, or sends every call from
 * one socket) is another announcement, told apart by time. */
struct announce {
	struct pr_addr rtp;        /* ip all-zero + any_ip: c= was 0.0.0.0 */
	bool any_ip;
	uint64_t first_usec;       /* the first SDP of this call naming it */
	unsigned m_index;          /* position of its m= line */
	uint16_t rtcp_port;
	bool rtcp_mux;
	char call_id[96];
	char hashes[MAX_HASHES][65];
	size_t n_hash;
	struct ptmap pts[MAX_PT];
	size_t n_pt;
};

/* ------------------------------------------------------------------ */
/* Flows: one per unordered pair of UDP transport addresses            */

enum rec_kind { REC_RTP, REC_RTCP };
enum rtcp_shape { RTCP_SHAPE_CLEAR, RTCP_SHAPE_SRTCP, RTCP_SHAPE_UNKNOWN };
enum rec_auth { AUTH_NONE, AUTH_OK, AUTH_FAIL, AUTH_NO_KEY };

/* One RTP or RTCP packet, reduced for the second pass. */
struct rec {
	uint64_t usec, frame;
	uint32_t ssrc, ts;
	uint16_t seq, plen;        /* payload bytes after the RTP header */
	uint8_t pt, kind, shape, auth;
	bool bad_header;           /* RTP: CSRCs/extension past the end */
	float z;
};

struct step_slot {
	uint32_t step;
	uint32_t count;
};

struct wav {
	FILE *f;
	uint32_t ssrc;
	uint64_t samples;
	char path[256];
	bool failed;
};

struct fdir {
	struct rec *recs;
	size_t n_recs, cap_recs;
	struct verify_counts n;     /* zrtp, stun, other counted in pass 1 */
	uint32_t ssrc[VERIFY_MAX_SSRC];
	uint32_t ssrc_count[VERIFY_MAX_SSRC];
	size_t n_ssrc;
	bool ssrc_overflow;
	uint64_t hist[256];         /* RTP payload bytes */
	uint64_t pt_count[128];
	struct step_slot steps[STEP_SLOTS];
	bool have_last;
	uint32_t last_ssrc, last_ts;
	uint16_t last_seq;

	bool hello;
	uint64_t hello_usec;        /* the first Hello, for its call */
	uint8_t hello_hash[32];
	char client_id[17];
	bool commit;
	struct zrtp_commit commit_msg;
	struct wav wav;
};

struct flow {
	struct flow *next;          /* hash chain */
	struct flow *order_next;    /* in order of first packet */
	struct pr_addr a, b;        /* a: sender of the first packet */
	uint64_t first_usec;
	struct fdir d[2];
	/* ZRTP, in the flow's own terms (dir index of the sender) */
	struct verify_zrtp_event ev[VERIFY_MAX_ZRTP_EVENTS];
	size_t n_ev;
	bool ev_overflow;
	int dhpart1_from, dhpart2_from, confirm1_from, confirm2_from,
	    conf2ack_from;
	uint64_t confirm2_usec, conf2ack_usec;
	/* another flow of the same address pair came before this one: a
	 * later call's handshake on ports an earlier call used */
	bool later_epoch;
	/* second pass */
	int role;                   /* 0 undecided, 1 RTP, 2 RTCP, 3 other */
	struct flow *rtp_flow;      /* for RTCP flows */
	bool swapped;               /* RTCP flow: d[0] is the stream's dir 1 */
	size_t stream;              /* index in the report, for RTP flows */
	/* a flow of the same call and m= line, secured earlier, whose media
	 * this one carries on (a re-INVITE moved it): NULL if none */
	const struct flow *cont;
};

struct tcpdir {
	struct tcpdir *next;
	struct pr_addr src, dst;
	struct sip_framer *framer;
};

struct ctx {
	const struct verify_options *opt;
	struct verify_report *rep;
	struct flow *buckets[FLOW_BUCKETS];
	struct flow *first, *last;
	size_t n_flows;
	struct tcpdir *tcp;
	struct announce *ann;
	size_t n_ann, cap_ann;
	char (*call_ids)[96];
	size_t n_call_ids, cap_call_ids;
	struct keylog kl;
	srtp_t *sessions;           /* per key log record, lazily */
	bool *session_bad;
	int err;                    /* -ENOMEM seen */
	const struct pr_datagram *cur;
};

/* verify_sdp.c */
/* Printable ASCII of p[0..len) into dst (cap > 0), '?' for the rest. */
void verify_slice_copy(char *dst, size_t cap, const char *p, size_t len);
/* One SIP message (stream: it came through the TCP framer): counted in
 * the report; its SDP's media lines become announcements. */
void verify_sip_handle(struct ctx *c, const uint8_t *buf, size_t len,
		       bool stream);
/* One TCP segment, through the framer of its direction. */
void verify_sip_tcp(struct ctx *c, const struct pr_datagram *d);
/* The latest announcement of a (an RTP address; rtcp: a non-mux RTCP
 * address), or NULL. */
const struct announce *verify_announced(const struct ctx *c,
					const struct pr_addr *a, bool rtcp);
/* The announcement of a that was in force at time t: the latest one
 * made at or before t, else (SDP captured late) the first one after. */
const struct announce *verify_announced_at(const struct ctx *c,
					   const struct pr_addr *a, bool rtcp,
					   uint64_t t);
struct pr_addr verify_rtp_of_rtcp(const struct ctx *c, const struct pr_addr *a);
/* The shim's name (CALL-ID/M-INDEX, the key log's stream=) of the stream
 * a packet from src to dst at time t belongs to by the SDP then in force
 * (the receiver's announcement, else the sender's): false if none. */
bool verify_stream_name_at(const struct ctx *c, const struct pr_addr *src,
			   const struct pr_addr *dst, bool rtcp, uint64_t t,
			   char *out, size_t cap);
/* The payload type's codec from the SDP of src, or RFC 3551's; NULL. */
const struct ptmap *verify_codec_of(struct ctx *c, const struct pr_addr *src,
				    uint8_t pt);

/* verify_auth.c */
/* Load the key log into c and make libsrtp2 ready: 0, or -errno with why. */
int verify_keylog_open(struct ctx *c, const char *path, char *why,
		       size_t why_len);
/* The libsrtp2 sessions and the key log (wiped). */
void verify_keylog_close(struct ctx *c);
/* With the key log: is d SRTP (rtcp: SRTCP) of a record? buf gets the
 * plaintext (65536 + 64 bytes), *out_len its length, on AUTH_OK. */
enum rec_auth verify_authenticate(struct ctx *c, const struct pr_datagram *d,
				  uint32_t ssrc, bool rtcp, uint8_t *buf,
				  int *out_len);

/* verify_stats.c */
/* Shannon entropy of a byte histogram, in bits per byte. */
double verify_entropy(const uint64_t hist[256], uint64_t total);

/* verify_audio.c */
/* Is the codec G.711 at 8 kHz (*alaw: A-law rather than mu-law)? */
bool verify_is_g711(const struct ptmap *m, bool *alaw);
/* Can WAV files be written into dir: 0, or -errno with why. */
int verify_audio_probe(const char *dir, char *why, size_t why_len);
/* Append n G.711 bytes of ssrc to the direction's WAV file (opened on
 * the first call, under c->opt->audio_dir). */
void verify_wav_write(struct ctx *c, struct fdir *fd, const struct pr_datagram *d,
		      uint32_t ssrc, bool alaw, const uint8_t *pl, size_t n);
void verify_wav_close(struct wav *w);

#endif
