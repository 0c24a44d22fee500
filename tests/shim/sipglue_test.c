/*
 * shim/sipglue.c, and the byte streams that feed it (stream.c: TCP; tls.c:
 * TLS plaintext), against the real SIP corpus (tests/data/sip/), with a
 * stub media layer that records what sipglue tells it. Its own check
 * program (not a suite of the unit runner): it links sipglue.c and sdp/
 * only.
 *
 * Judged: which m= lines reach shim_media_describe and with what (local
 * ports, peer address, the peer's a=zrtp-hash), what the outgoing rewrite
 * puts on the wire, which messages end a call, that a failed rewrite sends
 * the original, and that the table stays bounded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/demux.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "shim/sipglue.h"
#include "shim/status.h"
#include "shim/stream.h"
#include "shim/tls.h"

/* --- the stub media layer -------------------------------------------------- */

#define MAX_REC 512

struct rec_describe {
	char call_id[256];
	struct shim_media_desc d;
};

static struct rec_describe described[MAX_REC];
static size_t n_described;
static char ended[MAX_REC][256];
static size_t n_ended;
static int describe_result;
static size_t n_logs, n_warn, n_not_protected_logs;

int shim_media_describe(const struct shim_media_desc *d, char hash_out[65])
{
	if (n_described < MAX_REC) {
		struct rec_describe *r = &described[n_described++];
		snprintf(r->call_id, sizeof r->call_id, "%.*s",
			 (int)d->call_id_len, d->call_id);
		r->d = *d;
		r->d.call_id = r->call_id;
	}
	if (describe_result < 0)
		return describe_result;
	/* A hash that names the line: 64 hex digits. */
	snprintf(hash_out, 65, "%062x%02x", 0xabcdefu, d->m_index);
	return 0;
}

void shim_media_call_ended(const char *call_id, size_t len)
{
	if (n_ended < MAX_REC)
		snprintf(ended[n_ended++], 256, "%.*s", (int)len, call_id);
}

/* Keys from the client's SIP INFO (the keypad). */
static char keys[MAX_REC];
static char key_call[MAX_REC][64];
static size_t n_keys;

void shim_media_keypad_key(const char *call_id, size_t len, char key)
{
	if (n_keys < MAX_REC) {
		snprintf(key_call[n_keys], sizeof key_call[0], "%.*s", (int)len,
			 call_id);
		keys[n_keys++] = key;
	}
}

void shim_status_refresh(void)
{
}

void shim_status_call_ending(const char *call_id, size_t len)
{
	(void)call_id;
	(void)len;
}

/* The "limit" events of a full table. */
static size_t n_limit;
static char limit_stream[300];
void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	(void)sas, (void)peer_zid, (void)reason;
	if (kind == SHIM_EVENT_LIMIT && strcmp(label, "limit") == 0) {
		n_limit++;
		snprintf(limit_stream, sizeof limit_stream, "%s", stream_name);
	}
}

struct rec_unprot {
	char name[128];
	bool whole;
	char why[200];
};
static struct rec_unprot unprot[MAX_REC];
static size_t n_unprot;

void shim_status_note_unprotected(const char *stream_name, bool whole,
				  const char *why)
{
	if (n_unprot < MAX_REC) {
		struct rec_unprot *u = &unprot[n_unprot++];
		snprintf(u->name, sizeof u->name, "%s", stream_name);
		u->whole = whole;
		snprintf(u->why, sizeof u->why, "%s", why);
	}
}

void shim_state_dir_ensure(void)
{
}

struct shim_fd *shim_fd_find_port(uint16_t port)
{
	return NULL;
}

void shim_fd_put(struct shim_fd *f)
{
}

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	n_logs++;
	if (lvl <= SHIM_LOG_WARN)
		n_warn++;
	if (lvl == SHIM_LOG_WARN && strstr(fmt, "NOT PROTECTED"))
		n_not_protected_logs++;
	if (getenv("SIPGLUE_TEST_LOG")) {
		va_list ap;
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* --- fixtures ---------------------------------------------------------------- */

static uint8_t *load(const char *name, size_t *len)
{
	const char *src = getenv("ZS_SRCDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/data/sip/%s", src ? src : ".",
		 name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static uint8_t bufs[16][70000];
	static int next;
	uint8_t *b = bufs[next++ % 16];
	*len = fread(b, 1, 70000, f);
	fclose(f);
	return b;
}

static uint8_t out[70000];

/* Send fixture NAME as the client; returns the rewritten length or 0. */
static size_t send_msg(const char *name)
{
	size_t len;
	uint8_t *m = load(name, &len);
	uint8_t copy[70000];
	memcpy(copy, m, len);
	size_t n = shim_sip_outgoing(NULL, m, len, false, NULL, out,
				     sizeof out);
	ck_assert_msg(memcmp(copy, m, len) == 0, "%s: input modified", name);
	return n;
}

static void recv_msg(const char *name)
{
	size_t len;
	uint8_t *m = load(name, &len);
	uint8_t copy[70000];
	memcpy(copy, m, len);
	shim_sip_incoming(NULL, m, len, false, NULL);
	ck_assert_msg(memcmp(copy, m, len) == 0, "%s: incoming modified", name);
}

static void reset(void)
{
	n_described = n_ended = n_logs = n_warn = n_unprot = 0;
	n_not_protected_logs = 0;
	describe_result = 0;
	n_keys = 0;
	n_limit = 0;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return 0;
}

static size_t count_str(const uint8_t *p, size_t n, const char *s)
{
	size_t k = 0, sl = strlen(s);
	for (size_t i = 0; i + sl <= n; i++)
		if (memcmp(p + i, s, sl) == 0)
			k++;
	return k;
}

/* --- demux_sip_looks ------------------------------------------------------- */

START_TEST(looks)
{
	const char *yes[] = {
		"INVITE sip:bob@127.0.0.1:5073 SIP/2.0\r\n",
		"SIP/2.0 200 OK\r\n",
		"ACK sip:x@y SIP/2.0\r\nVia: x",
		"OPTIONS sip:a",   /* a prefix: plausible */
		"BYE tel:+123 SIP/2.0\r\n",
	};
	const char *no[] = {
		"\x80\x00\x00\x01\x00\x00\x00\x00\xca\x11\x00\x00",
		"GET / HTTP/1.1\r\n",
		"INVITE sip:bob@x HTTP/1.1\r\n",
		"invite sip:bob@x SIP/2.0\r\n",
		"SIP/2.0",
		"\r\n\r\n",
		"HELLO world SIP/2.0\r\n",
	};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		ck_assert_msg(demux_sip_looks((const uint8_t *)yes[i],
					     strlen(yes[i])), "%s", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert_msg(!demux_sip_looks((const uint8_t *)no[i],
					      strlen(no[i])), "%s", no[i]);
	ck_assert(!demux_sip_looks(NULL, 0));
}
END_TEST

/* --- baresip as the caller: offer out, answer in, hold, BYE ----------------- */

START_TEST(baresip_uac_call)
{
	reset();
	size_t n = send_msg("baresip-hold-01-invite.sip");
	ck_assert_uint_gt(n, 0);
	/* Exactly one a=zrtp-hash with the stub's hash for line 0. */
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	char want[96];
	snprintf(want, sizeof want, "a=zrtp-hash:1.10 %062x%02x", 0xabcdefu, 0);
	ck_assert_uint_eq(count_str(out, n, want), 1);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_str_eq(described[0].call_id, "fdfeff2a4a801306");
	ck_assert_uint_eq(described[0].d.m_index, 0);
	ck_assert_uint_eq(described[0].d.local_rtp_port, 10112);
	ck_assert_uint_eq(described[0].d.local_rtcp_port, 10113);
	ck_assert(!described[0].d.local_mux);
	ck_assert(!described[0].d.have_peer);

	/* The answer: the peer's side reaches the media path. */
	recv_msg("baresip-hold-02-180-invite.sip");
	ck_assert_uint_eq(n_described, 1);
	recv_msg("baresip-hold-03-200-invite.sip");
	ck_assert_uint_eq(n_described, 2);
	const struct shim_media_desc *d = &described[1].d;
	ck_assert(d->have_peer);
	ck_assert_uint_eq(d->local_rtp_port, 10112);
	ck_assert_uint_eq(port_of(&d->peer_rtp), 10216);
	ck_assert_uint_eq(port_of(&d->peer_rtcp), 10217);
	ck_assert(!d->peer_signals_zrtp);
	ck_assert(!d->have_peer_hash);

	/* A retransmitted 200 repeats the answer; it offers nothing. */
	recv_msg("baresip-hold-03-200-invite.sip");
	ck_assert_uint_eq(n_described, 3);
	ck_assert(described[2].d.have_peer);
	ck_assert_uint_eq(send_msg("baresip-hold-04-ack.sip"), 0);

	/* Hold: our re-INVITE is an offer again, rewritten, and the peer's
	 * address of the session still holds. */
	n = send_msg("baresip-hold-05-invite.sip");
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	ck_assert(described[n_described - 1].d.have_peer);
	recv_msg("baresip-hold-06-200-invite.sip");
	ck_assert_uint_eq(n_ended, 0);

	/* BYE ends it, once; a retransmitted BYE changes nothing. */
	send_msg("baresip-hold-11-bye.sip");
	ck_assert_uint_eq(n_ended, 1);
	ck_assert_str_eq(ended[0], "fdfeff2a4a801306");
	send_msg("baresip-hold-11-bye.sip");
	recv_msg("baresip-hold-12-200-bye.sip");
	ck_assert_uint_eq(n_ended, 1);
}
END_TEST

/* --- sipp as the callee: offer in, answer out (the peer's side first) ------ */

START_TEST(sipp_uas_call)
{
	reset();
	recv_msg("sipp-basic-01-invite.sip");
	ck_assert_uint_eq(n_described, 0);   /* our side is not known yet */
	ck_assert_uint_eq(send_msg("sipp-basic-02-100-invite.sip"), 0);
	ck_assert_uint_eq(send_msg("sipp-basic-03-180-invite.sip"), 0);
	size_t n = send_msg("sipp-basic-04-200-invite.sip");
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	ck_assert_uint_eq(n_described, 1);
	const struct shim_media_desc *d = &described[0].d;
	ck_assert(d->have_peer);
	ck_assert_uint_eq(d->local_rtp_port, 16300);
	ck_assert_uint_eq(port_of(&d->peer_rtp), 16200);
	/* Content-Length still tells the truth. */
	char *cl = strstr((char *)out, "Content-Length: ");
	ck_assert_ptr_nonnull(cl);
	char *body = strstr((char *)out, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq((size_t)atoi(cl + 16), n - (size_t)(body + 4 - (char *)out));

	/* A retransmitted 200 (sipp retrans="500") is the same answer. */
	size_t n2 = send_msg("sipp-basic-04-200-invite.sip");
	ck_assert_uint_eq(n2, n);
	recv_msg("sipp-basic-05-ack.sip");
	recv_msg("sipp-basic-06-bye.sip");
	ck_assert_uint_eq(n_ended, 1);
	send_msg("sipp-basic-07-200-bye.sip");
	ck_assert_uint_eq(n_ended, 1);
}
END_TEST

/* --- linphonec's a=zrtp-hash reaches the media path ------------------------ */

START_TEST(peer_zrtp_hash)
{
	reset();
	/* We play alice: linphonec-zrtphold-01 is alice's INVITE. */
	size_t n = send_msg("linphonec-zrtphold-01-invite.sip");
	/* Its own a=zrtp-hash is replaced by ours, never duplicated. */
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:"), 1);
	recv_msg("linphonec-zrtphold-04-200-invite.sip");
	const struct shim_media_desc *d = &described[n_described - 1].d;
	ck_assert(d->have_peer);
	ck_assert(d->peer_signals_zrtp);
	ck_assert(d->have_peer_hash);
	ck_assert_str_eq(d->peer_hash,
		"a18c5f87219065379ce096f3dd99fa0702fa8d0fd4f1ef357c206e5218b42a0e");
	ck_assert_uint_eq(port_of(&d->peer_rtp), 7278);
}
END_TEST

/* --- the rewrite fails: the original goes out, and the log says why -------- */

START_TEST(rewrite_enospc_sends_original)
{
	reset();
	size_t len;
	uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	uint8_t small[64];
	size_t n = shim_sip_outgoing(NULL, m, len, false, NULL, small,
				     sizeof small);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_ge(n_warn, 1);
	/* The media path refusing a line: no hash, original sent. */
	reset();
	describe_result = -E2BIG;
	n = send_msg("sipp-basic-01-invite.sip");
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_ge(n_warn, 1);
}
END_TEST

/* --- call ends: final errors, auth challenges, CANCEL, re-INVITE failure --- */

static size_t mk_msg(char *buf, size_t cap, const char *first,
		     const char *callid, unsigned cseq, const char *method,
		     bool sdp, unsigned port)
{
	char body[512] = "";
	if (sdp)
		snprintf(body, sizeof body,
			 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
			 "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port);
	return (size_t)snprintf(buf, cap,
		"%s\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK%u\r\n"
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
		"Call-ID: %s\r\nCSeq: %u %s\r\n%s"
		"Content-Length: %zu\r\n\r\n%s",
		first, cseq, callid, cseq, method,
		sdp ? "Content-Type: application/sdp\r\n" : "",
		strlen(body), body);
}

static size_t out_m(const char *first, const char *cid, unsigned cseq,
		    const char *meth, bool sdp, unsigned port)
{
	char b[2048];
	size_t l = mk_msg(b, sizeof b, first, cid, cseq, meth, sdp, port);
	return shim_sip_outgoing(NULL, (uint8_t *)b, l, false, NULL, out,
				 sizeof out);
}

static void in_m(const char *first, const char *cid, unsigned cseq,
		 const char *meth, bool sdp, unsigned port)
{
	char b[2048];
	size_t l = mk_msg(b, sizeof b, first, cid, cseq, meth, sdp, port);
	shim_sip_incoming(NULL, (uint8_t *)b, l, false, NULL);
}

static bool peer_addr(const char *ip, unsigned port, bool mapped)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (!mapped) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &a->sin_addr);
	} else {
		char m[64];
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		snprintf(m, sizeof m, "::ffff:%s", ip);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, m, &a->sin6_addr);
	}
	return shim_sip_peer_media_addr((struct sockaddr *)&ss);
}

/* The peer's announced RTP and RTCP addresses are known from its offer on
 * (io.c holds early RTP/RTCP to them), and forgotten when the call ends. */
START_TEST(peer_media_addresses)
{
	reset();
	ck_assert(!peer_addr("127.0.0.1", 4600, false));
	in_m("INVITE sip:b@127.0.0.1 SIP/2.0", "pm1", 1, "INVITE", true, 4600);
	ck_assert(peer_addr("127.0.0.1", 4600, false));
	ck_assert(peer_addr("127.0.0.1", 4601, false));   /* RTCP: port+1 */
	ck_assert(peer_addr("127.0.0.1", 4600, true));    /* v4-mapped */
	ck_assert(!peer_addr("127.0.0.1", 4602, false));
	ck_assert(!peer_addr("127.0.0.2", 4600, false));
	in_m("BYE sip:b@127.0.0.1 SIP/2.0", "pm1", 2, "BYE", false, 0);
	ck_assert(!peer_addr("127.0.0.1", 4600, false));
	ck_assert(!shim_sip_peer_media_addr(NULL));
}
END_TEST

START_TEST(call_ends)
{
	reset();
	/* 407 then a retried INVITE: nothing ends; 486 ends it. */
	ck_assert_uint_gt(out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "c1", 1,
				"INVITE", true, 4000), 0);
	in_m("SIP/2.0 407 Proxy Authentication Required", "c1", 1, "INVITE",
	     false, 0);
	ck_assert_uint_eq(n_ended, 0);
	ck_assert_uint_gt(out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "c1", 2,
				"INVITE", true, 4000), 0);
	in_m("SIP/2.0 486 Busy Here", "c1", 2, "INVITE", false, 0);
	ck_assert_uint_eq(n_ended, 1);
	ck_assert_str_eq(ended[0], "c1");

	/* CANCEL before the answer ends it. */
	out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "c2", 1, "INVITE", true, 4002);
	out_m("CANCEL sip:b@127.0.0.1 SIP/2.0", "c2", 1, "CANCEL", false, 0);
	ck_assert_uint_eq(n_ended, 2);

	/* An established call: a failed re-INVITE leaves it, and SDP in
	 * the next message is an offer again (the failed offer withdrawn). */
	out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "c3", 1, "INVITE", true, 4004);
	in_m("SIP/2.0 200 OK", "c3", 1, "INVITE", true, 5004);
	ck_assert(described[n_described - 1].d.have_peer);
	out_m("ACK sip:b@127.0.0.1 SIP/2.0", "c3", 1, "ACK", false, 0);
	in_m("INVITE sip:a@127.0.0.1 SIP/2.0", "c3", 7, "INVITE", true, 5006);
	out_m("SIP/2.0 488 Not Acceptable Here", "c3", 7, "INVITE", false, 0);
	ck_assert_uint_eq(n_ended, 2);
	size_t before = n_described;
	/* Our own re-offer now: rewritten, and the peer's answer moves it. */
	ck_assert_uint_gt(out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "c3", 2,
				"INVITE", true, 4004), 0);
	in_m("SIP/2.0 200 OK", "c3", 2, "INVITE", true, 5008);
	ck_assert_uint_gt(n_described, before);
	ck_assert_uint_eq(port_of(&described[n_described - 1].d.peer_rtp), 5008);
	/* The peer hangs up. */
	in_m("BYE sip:a@127.0.0.1 SIP/2.0", "c3", 8, "BYE", false, 0);
	ck_assert_uint_eq(n_ended, 3);
	ck_assert_str_eq(ended[2], "c3");
}
END_TEST

/* An INVITE without SDP: the 2xx offers, the ACK answers (RFC 3261 §13.2.1). */
START_TEST(late_offer)
{
	reset();
	ck_assert_uint_eq(out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "lo", 1,
				"INVITE", false, 0), 0);
	in_m("SIP/2.0 200 OK", "lo", 1, "INVITE", true, 6000);
	ck_assert_uint_eq(n_described, 0);
	size_t n = out_m("ACK sip:b@127.0.0.1 SIP/2.0", "lo", 1, "ACK", true,
			 6100);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n_described, 1);
	ck_assert(described[0].d.have_peer);
	ck_assert_uint_eq(described[0].d.local_rtp_port, 6100);
	ck_assert_uint_eq(port_of(&described[0].d.peer_rtp), 6000);
}
END_TEST

/* An answer in a 183 and the same answer in the 200 (RFC 6337 §3.1). */
START_TEST(answer_in_18x_then_2xx)
{
	reset();
	out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "e1", 1, "INVITE", true, 7000);
	in_m("SIP/2.0 183 Session Progress", "e1", 1, "INVITE", true, 7100);
	ck_assert(described[n_described - 1].d.have_peer);
	in_m("SIP/2.0 200 OK", "e1", 1, "INVITE", true, 7100);
	ck_assert(described[n_described - 1].d.have_peer);
	/* Had the 200 been taken for an offer, our ACK-less next INVITE
	 * would be an answer; it must be an offer with a rewrite. */
	out_m("ACK sip:b@127.0.0.1 SIP/2.0", "e1", 1, "ACK", false, 0);
	size_t before = n_described;
	ck_assert_uint_gt(out_m("INVITE sip:b@127.0.0.1 SIP/2.0", "e1", 2,
				"INVITE", true, 7000), 0);
	ck_assert_uint_eq(n_described, before + 1);
}
END_TEST

/* Bounded: a flood of calls never grows the table past its cap, and what
 * is evicted has its media ended. */
START_TEST(bounded_table)
{
	reset();
	char cid[32];
	/* More than the old fixed 64 calls, all answered: none is evicted. */
	for (int i = 0; i < 300; i++) {
		snprintf(cid, sizeof cid, "many-%d", i);
		in_m("INVITE sip:a@127.0.0.1 SIP/2.0", cid, 1, "INVITE", true,
		     (unsigned)(8000 + 2 * i));
		ck_assert_uint_gt(out_m("SIP/2.0 200 OK", cid, 1, "INVITE",
					true, 20000 + 2 * i), 0);
	}
	ck_assert_uint_eq(n_ended, 0);
	ck_assert_uint_eq(n_limit, 0);
	/* The first is still known: its BYE ends it. */
	in_m("BYE sip:a@127.0.0.1 SIP/2.0", "many-0", 2, "BYE", false, 0);
	ck_assert_uint_eq(n_ended, 1);
	ck_assert_str_eq(ended[0], "many-0");
}
END_TEST

/* At its ceiling the table reclaims never-answered calls first. */
START_TEST(bounded_table_unanswered)
{
	reset();
	shim_sip_test_set_max_calls(64);
	char cid[32];
	for (int i = 0; i < 300; i++) {
		snprintf(cid, sizeof cid, "flood-%d", i);
		in_m("INVITE sip:a@127.0.0.1 SIP/2.0", cid, 1, "INVITE", true,
		     (unsigned)(8000 + 2 * i));
	}
	/* 300 calls, 64 slots: 236 never-answered ones reclaimed, each
	 * ended; none refused. */
	ck_assert_uint_eq(n_ended, 300 - 64);
	ck_assert_uint_eq(n_limit, 0);
	/* The newest is still known: answering it describes the peer. */
	n_described = 0;
	ck_assert_uint_gt(out_m("SIP/2.0 200 OK", "flood-299", 1, "INVITE",
				true, 9000), 0);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_uint_eq(port_of(&described[0].d.peer_rtp), 8000 + 2 * 299);
}
END_TEST

/* At its ceiling with every call live: the new call is refused with a
 * "limit" event; no live call is evicted. An ended call makes room. */
START_TEST(full_table_refuses)
{
	reset();
	shim_sip_test_set_max_calls(4);
	char cid[32];
	for (int i = 0; i < 4; i++) {
		snprintf(cid, sizeof cid, "live-%d", i);
		in_m("INVITE sip:a@127.0.0.1 SIP/2.0", cid, 1, "INVITE", true,
		     (unsigned)(8000 + 2 * i));
		ck_assert_uint_gt(out_m("SIP/2.0 200 OK", cid, 1, "INVITE",
					true, 9000 + 2 * i), 0);
	}
	size_t described_before = n_described;
	in_m("INVITE sip:a@127.0.0.1 SIP/2.0", "extra", 1, "INVITE", true,
	     8100);
	ck_assert_uint_eq(n_limit, 1);
	ck_assert_str_eq(limit_stream, "extra/*");
	ck_assert_uint_eq(n_ended, 0);
	ck_assert_uint_eq(n_described, described_before);
	/* Its answer is sent untouched (no a=zrtp-hash added). */
	ck_assert_uint_eq(out_m("SIP/2.0 200 OK", "extra", 1, "INVITE", true,
				9100), 0);
	/* Every live call is still tracked: each one's BYE ends it. */
	in_m("BYE sip:a@127.0.0.1 SIP/2.0", "live-3", 2, "BYE", false, 0);
	ck_assert_uint_eq(n_ended, 1);
	/* The ended call's slot is reclaimed for a new one. */
	n_limit = 0;
	in_m("INVITE sip:a@127.0.0.1 SIP/2.0", "after", 1, "INVITE", true,
	     8200);
	ck_assert_uint_eq(n_limit, 0);
	for (int i = 0; i < 3; i++) {
		snprintf(cid, sizeof cid, "live-%d", i);
		in_m("BYE sip:a@127.0.0.1 SIP/2.0", cid, 2, "BYE", false, 0);
	}
	ck_assert_uint_eq(n_ended, 4);
}
END_TEST

/* Garbage never reaches the media path and never ends anything. */
START_TEST(garbage)
{
	reset();
	const char *g[] = {
		"INVITE sip:x SIP/2.0\r\n\r\n",
		"SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: banana\r\n\r\n",
		"INVITE sip:b@h SIP/2.0\r\nCall-ID: g\r\nCSeq: 1 INVITE\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 9999\r\n\r\nv=0\r\n",
	};
	for (size_t i = 0; i < sizeof g / sizeof *g; i++) {
		ck_assert_uint_eq(shim_sip_outgoing(NULL, (const uint8_t *)g[i],
						    strlen(g[i]), false, NULL,
						    out, sizeof out), 0);
		shim_sip_incoming(NULL, (const uint8_t *)g[i], strlen(g[i]),
				  false, NULL);
	}
	ck_assert_uint_eq(n_described, 0);
	ck_assert_uint_eq(n_ended, 0);
}
END_TEST

/* --- shim/stream.c: SIP over a byte stream (TCP, TLS plaintext) ------------- */

/* Feed the message in pieces cut at the given offsets (ascending, 0
 * terminated) and return what the stream let out, with *held_after_first
 * the bytes held after the first piece. */
static size_t stream_feed(struct shim_stream *st, const uint8_t *m, size_t len,
			  const size_t *cuts, uint8_t *dst, size_t cap,
			  size_t *held_after_first)
{
	size_t pos = 0, got = 0;
	for (int i = 0;; i++) {
		size_t end = cuts[i] && cuts[i] < len ? cuts[i] : len;
		ck_assert_int_eq(shim_stream_write(st, m + pos, end - pos), 0);
		if (i == 0 && held_after_first)
			*held_after_first = shim_stream_held(st);
		size_t n;
		const uint8_t *o = shim_stream_out(st, &n);
		ck_assert_uint_le(got + n, cap);
		if (n)
			memcpy(dst + got, o, n);
		got += n;
		shim_stream_out_consume(st, n);
		pos = end;
		if (end == len)
			break;
	}
	return got;
}

static uint8_t sout[3][140000];

/* RFC 3261 §18.3: however the client's writes cut a message, the peer
 * gets the same (rewritten) message, and nothing of it before it is whole */
START_TEST(stream_split_writes)
{
	reset();
	size_t len;
	const uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	struct shim_stream *st = shim_stream_new();
	ck_assert_ptr_nonnull(st);
	static const size_t whole[] = { 0 };
	size_t n0 = stream_feed(st, m, len, whole, sout[0], sizeof sout[0], NULL);
	/* the rewrite changed the length */
	ck_assert_uint_gt(n0, len);
	ck_assert_uint_eq(count_str(sout[0], n0, "a=zrtp-hash:1.10 "), 1);
	ck_assert_uint_eq(shim_stream_held(st), 0);

	const char *body = strstr((const char *)m, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	size_t hdr_end = (size_t)(body - (const char *)m) + 4;
	size_t cutsets[][4] = {
		{ 1, 0 }, { 7, 30, 0 }, { hdr_end - 1, 0 }, { hdr_end, 0 },
		{ hdr_end + 10, len - 1, 0 },
	};
	for (size_t k = 0; k < sizeof cutsets / sizeof cutsets[0]; k++) {
		size_t held = 0;
		size_t n = stream_feed(st, m, len, cutsets[k], sout[1],
				       sizeof sout[1], &held);
		ck_assert_msg(n == n0 && memcmp(sout[1], sout[0], n0) == 0,
			      "cut set %zu: the stream differs", k);
		ck_assert_uint_eq(held, cutsets[k][0]);
	}
	size_t got = 0;
	for (size_t i = 0; i < len; i++) {
		ck_assert_int_eq(shim_stream_write(st, m + i, 1), 0);
		size_t n;
		const uint8_t *o = shim_stream_out(st, &n);
		if (i + 1 < len)
			ck_assert_uint_eq(n, 0);
		if (n)
			memcpy(sout[1] + got, o, n);
		got += n;
		shim_stream_out_consume(st, n);
	}
	ck_assert_uint_eq(got, n0);
	ck_assert_mem_eq(sout[1], sout[0], n0);
	shim_stream_free(st);
}
END_TEST

START_TEST(stream_several_per_write)
{
	reset();
	size_t li, lb;
	const uint8_t *inv = load("baresip-hold-01-invite.sip", &li);
	const uint8_t *bye = load("baresip-hold-11-bye.sip", &lb);
	struct shim_stream *st = shim_stream_new();
	static const size_t whole[] = { 0 };
	size_t n0 = stream_feed(st, inv, li, whole, sout[0], sizeof sout[0], NULL);
	/* INVITE, a CRLFCRLF keep-alive (RFC 5626 §3.5.1), BYE in one
	 * write; then the same split across the boundaries */
	static uint8_t buf[140000];
	memcpy(buf, inv, li);
	memcpy(buf + li, "\r\n\r\n", 4);
	memcpy(buf + li + 4, bye, lb);
	size_t total = li + 4 + lb;
	size_t n = stream_feed(st, buf, total, whole, sout[1], sizeof sout[1], NULL);
	ck_assert_uint_eq(n, n0 + 4 + lb);
	ck_assert_mem_eq(sout[1], sout[0], n0);
	ck_assert_mem_eq(sout[1] + n0, "\r\n\r\n", 4);
	ck_assert_mem_eq(sout[1] + n0 + 4, bye, lb);
	size_t cuts[] = { li - 3, li + 2, li + 4 + lb / 2, 0 };
	n = stream_feed(st, buf, total, cuts, sout[2], sizeof sout[2], NULL);
	ck_assert_uint_eq(n, n0 + 4 + lb);
	ck_assert_mem_eq(sout[2], sout[1], n);
	shim_stream_free(st);
}
END_TEST

START_TEST(stream_not_sip_passes_at_once)
{
	struct shim_stream *st = shim_stream_new();
	/* a TLS record header and binary: never held */
	static const uint8_t rec[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
	ck_assert_int_eq(shim_stream_write(st, rec, sizeof rec), 0);
	size_t n;
	const uint8_t *o = shim_stream_out(st, &n);
	ck_assert_uint_eq(n, sizeof rec);
	ck_assert_mem_eq(o, rec, sizeof rec);
	ck_assert_uint_eq(shim_stream_held(st), 0);
	shim_stream_out_consume(st, n);
	/* text that is not SIP, and output consumed in two parts (a partial
	 * send) */
	static const char text[] = "hello, this is not SIP at all\r\n";
	ck_assert_int_eq(shim_stream_write(st, (const uint8_t *)text,
					   sizeof text - 1), 0);
	o = shim_stream_out(st, &n);
	ck_assert_uint_eq(n, sizeof text - 1);
	shim_stream_out_consume(st, 5);
	o = shim_stream_out(st, &n);
	ck_assert_uint_eq(n, sizeof text - 6);
	ck_assert_mem_eq(o, text + 5, n);
	shim_stream_out_consume(st, n);
	shim_stream_free(st);
}
END_TEST

START_TEST(stream_held_released_as_is)
{
	reset();
	size_t len;
	const uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	struct shim_stream *st = shim_stream_new();
	ck_assert_int_eq(shim_stream_write(st, m, len / 2), 0);
	size_t n;
	(void)shim_stream_out(st, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(shim_stream_held(st), len / 2);
	shim_stream_release_held(st);
	const uint8_t *o = shim_stream_out(st, &n);
	ck_assert_uint_eq(n, len / 2);
	ck_assert_mem_eq(o, m, len / 2);
	ck_assert_uint_eq(shim_stream_held(st), 0);
	shim_stream_free(st);
}
END_TEST

START_TEST(stream_reads_split)
{
	reset();
	ck_assert_uint_gt(send_msg("baresip-hold-01-invite.sip"), 0);
	size_t before = n_described, len;
	const uint8_t *m = load("baresip-hold-03-200-invite.sip", &len);
	struct shim_stream *st = shim_stream_new();
	shim_stream_read(st, m, len - 40);
	ck_assert_uint_eq(n_described, before);   /* not complete yet */
	shim_stream_read(st, m + len - 40, 40);
	ck_assert_uint_eq(n_described, before + 1);
	ck_assert(described[n_described - 1].d.have_peer);
	shim_stream_free(st);
}
END_TEST

/* --- shim/tls.c: the plaintext of TLS sessions ----------------------------- */

/* A fake TLS library write: takes at most fake_chunk bytes a call, and
 * says "want write" (-1) on every fake_want-th call. */
static uint8_t fake_wire[140000];
static size_t fake_len, fake_chunk, fake_calls;
static unsigned fake_want;
static const uint8_t *fake_last_p;

static long fake_write(void *sess, const uint8_t *p, size_t n)
{
	(void)sess;
	fake_calls++;
	fake_last_p = p;
	if (fake_want && fake_calls % fake_want == 0)
		return -1;
	size_t k = fake_chunk && n > fake_chunk ? fake_chunk : n;
	ck_assert_uint_le(fake_len + k, sizeof fake_wire);
	memcpy(fake_wire + fake_len, p, k);
	fake_len += k;
	return (long)k;
}

static void fake_reset(size_t chunk, unsigned want)
{
	fake_len = fake_calls = 0;
	fake_chunk = chunk;
	fake_want = want;
}

/* The client's loop: retry the same write while the library wants. */
static void client_write(void *sess, const uint8_t *p, size_t n)
{
	long r;
	int tries = 0;
	do {
		r = shim_tls_write(sess, p, n, fake_write, NULL);
		ck_assert_int_lt(++tries, 1000);
	} while (r == -1);
	ck_assert_int_eq(r, (long)n);
}

START_TEST(tls_split_records_partial_writes_retries)
{
	reset();
	size_t len, lb;
	const uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	const uint8_t *bye = load("baresip-hold-11-bye.sip", &lb);
	static int sess_a, sess_b;
	/* the reference: one record, a library that takes everything */
	fake_reset(0, 0);
	client_write(&sess_a, m, len);
	size_t n0 = fake_len;
	ck_assert_uint_gt(n0, len);      /* rewritten: a=zrtp-hash added */
	ck_assert_uint_eq(count_str(fake_wire, n0, "a=zrtp-hash:1.10 "), 1);
	memcpy(sout[0], fake_wire, n0);
	/* three records, a library taking 100 bytes at a time and wanting a
	 * retry every third call; then a BYE and a keep-alive in one record */
	fake_reset(100, 3);
	client_write(&sess_b, m, 30);
	ck_assert_uint_eq(fake_len, 0);  /* the start of a message: held */
	client_write(&sess_b, m + 30, len / 2);
	client_write(&sess_b, m + 30 + len / 2, len - 30 - len / 2);
	ck_assert_uint_eq(fake_len, n0);
	ck_assert_mem_eq(fake_wire, sout[0], n0);
	static uint8_t two[4000];
	memcpy(two, bye, lb);
	memcpy(two + lb, "\r\n\r\n", 4);
	client_write(&sess_b, two, lb + 4);
	ck_assert_uint_eq(fake_len, n0 + lb + 4);
	ck_assert_mem_eq(fake_wire + n0, two, lb + 4);
	shim_tls_forget(&sess_a);
	shim_tls_forget(&sess_b);
}
END_TEST

/* A retry (same length after "want") goes on from the same buffer and
 * never frames the client's bytes twice. */
START_TEST(tls_retry_same_buffer)
{
	reset();
	size_t len;
	const uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	static int sess;
	fake_reset(0, 1);                /* every call wants a retry */
	ck_assert_int_eq(shim_tls_write(&sess, m, len, fake_write, NULL), -1);
	const uint8_t *first = fake_last_p;
	ck_assert_int_eq(shim_tls_write(&sess, m, len, fake_write, NULL), -1);
	ck_assert_ptr_eq(fake_last_p, first);
	fake_want = 0;
	ck_assert_int_eq(shim_tls_write(&sess, m, len, fake_write, NULL),
			 (long)len);
	ck_assert_uint_gt(fake_len, len);
	ck_assert_uint_eq(count_str(fake_wire, fake_len, "INVITE sip:"), 1);
	shim_tls_forget(&sess);
}
END_TEST

START_TEST(tls_not_sip_untouched)
{
	static int sess;
	static const uint8_t bin[] = { 0x00, 0x01, 0xff, 'x', 'y', 0, 7, 8, 9, 10 };
	fake_reset(4, 0);
	/* not SIP: the library's own answer, from the client's own buffer */
	ck_assert_int_eq(shim_tls_write(&sess, bin, sizeof bin, fake_write,
					NULL), 4);
	ck_assert_ptr_eq(fake_last_p, bin);
	ck_assert_int_eq(shim_tls_write(&sess, bin + 4, 6, fake_write, NULL), 4);
	ck_assert_mem_eq(fake_wire, bin, 8);
	/* a freed session's address may carry SIP next time */
	shim_tls_forget(&sess);
	size_t len;
	const uint8_t *m = load("baresip-hold-01-invite.sip", &len);
	reset();
	fake_reset(0, 0);
	client_write(&sess, m, len);
	ck_assert_uint_eq(count_str(fake_wire, fake_len, "a=zrtp-hash:1.10 "), 1);
	shim_tls_forget(&sess);
}
END_TEST

START_TEST(tls_reads_split_records)
{
	reset();
	static int sess;
	size_t len;
	const uint8_t *inv = load("baresip-hold-01-invite.sip", &len);
	fake_reset(0, 0);
	client_write(&sess, inv, len);
	size_t before = n_described;
	const uint8_t *m = load("baresip-hold-03-200-invite.sip", &len);
	shim_tls_read(&sess, m, 100);
	shim_tls_read(&sess, m + 100, len - 140);
	ck_assert_uint_eq(n_described, before);
	shim_tls_read(&sess, m + len - 40, 40);
	ck_assert_uint_eq(n_described, before + 1);
	ck_assert(described[n_described - 1].d.have_peer);
	shim_tls_forget(&sess);
}
END_TEST

/* --- every media profile ------------------------------------------------------ */

/* An INVITE (ours or the peer's) or a 200 with the given m= sections. */
static size_t mk_sdp_msg(char *buf, size_t cap, const char *first,
			 const char *cid, const char *media)
{
	char body[2048];
	snprintf(body, sizeof body,
		 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\n%s", media);
	return (size_t)snprintf(buf, cap,
		"%s\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp\r\n"
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
		"Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: %zu\r\n\r\n%s", first, cid, strlen(body), body);
}

static size_t offer_out(const char *cid, const char *media)
{
	char b[4096];
	size_t l = mk_sdp_msg(b, sizeof b, "INVITE sip:b@127.0.0.1 SIP/2.0",
			      cid, media);
	return shim_sip_outgoing(NULL, (uint8_t *)b, l, false, NULL, out,
				 sizeof out);
}

static void answer_in(const char *cid, const char *media)
{
	char b[4096];
	size_t l = mk_sdp_msg(b, sizeof b, "SIP/2.0 200 OK", cid, media);
	shim_sip_incoming(NULL, (uint8_t *)b, l, false, NULL);
}

/*
 * One protectable profile: our offer carries a=zrtp-hash, the line
 * reaches the media path with its ports, the peer's answer in the same
 * profile completes it, and nothing is reported unprotected.
 */
static void profile_protected(const char *cid, const char *offer,
			      const char *answer)
{
	reset();
	size_t n = offer_out(cid, offer);
	ck_assert_msg(n > 0, "%s: offer not rewritten", cid);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	/* the client's own keying stays as it wrote it */
	if (strstr(offer, "a=crypto:"))
		ck_assert_uint_eq(count_str(out, n, "a=crypto:1 "), 1);
	if (strstr(offer, "a=fingerprint:"))
		ck_assert_uint_eq(count_str(out, n, "a=fingerprint:"), 1);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_uint_eq(described[0].d.local_rtp_port, 4100);
	ck_assert(!described[0].d.have_peer);
	answer_in(cid, answer);
	ck_assert_uint_eq(n_described, 2);
	ck_assert(described[1].d.have_peer);
	ck_assert_uint_eq(port_of(&described[1].d.peer_rtp), 4200);
	ck_assert_uint_eq(n_unprot, 0);
	ck_assert_uint_eq(n_not_protected_logs, 0);
	/* Answering the peer's offer in that profile is rewritten too. */
	reset();
	char cid2[64];
	snprintf(cid2, sizeof cid2, "%s-uas", cid);
	char b[4096];
	size_t l = mk_sdp_msg(b, sizeof b, "INVITE sip:a@127.0.0.1 SIP/2.0",
			      cid2, answer);
	shim_sip_incoming(NULL, (uint8_t *)b, l, false, NULL);
	l = mk_sdp_msg(b, sizeof b, "SIP/2.0 200 OK", cid2, offer);
	n = shim_sip_outgoing(NULL, (uint8_t *)b, l, false, NULL, out,
			      sizeof out);
	ck_assert_msg(n > 0, "%s: answer not rewritten", cid2);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	ck_assert_uint_eq(n_described, 1);
	ck_assert(described[0].d.have_peer);
}

START_TEST(profile_avp)
{
	profile_protected("p-avp", "m=audio 4100 RTP/AVP 0\r\n",
			  "m=audio 4200 RTP/AVP 0\r\n");
}
END_TEST

START_TEST(profile_avpf)
{
	profile_protected("p-avpf", "m=video 4100 RTP/AVPF 96\r\n",
			  "m=video 4200 RTP/AVPF 96\r\n");
}
END_TEST

/* baresip mediaenc=srtp-mand behind an SBC that offers SDES. */
START_TEST(profile_savp)
{
	profile_protected("p-savp",
		"m=audio 4100 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
		"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n",
		"m=audio 4200 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n");
}
END_TEST

START_TEST(profile_savpf)
{
	profile_protected("p-savpf",
		"m=audio 4100 RTP/SAVPF 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"
		"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n",
		"m=audio 4200 RTP/SAVPF 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n");
}
END_TEST

START_TEST(profile_dtls_savp)
{
	profile_protected("p-dtls",
		"m=audio 4100 UDP/TLS/RTP/SAVP 0\r\n"
		"a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n",
		"m=audio 4200 UDP/TLS/RTP/SAVP 0\r\n"
		"a=fingerprint:sha-256 CC:DD\r\na=setup:active\r\n");
}
END_TEST

START_TEST(profile_dtls_savpf)
{
	profile_protected("p-dtlsf",
		"m=audio 4100 UDP/TLS/RTP/SAVPF 0\r\na=rtcp-mux\r\n"
		"a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n",
		"m=audio 4200 UDP/TLS/RTP/SAVPF 0\r\na=rtcp-mux\r\n"
		"a=fingerprint:sha-256 CC:DD\r\na=setup:active\r\n");
}
END_TEST

/*
 * What the shim cannot protect is left alone entirely (no a=zrtp-hash,
 * nothing described, so nothing held half-way) and said so: one WARN per
 * call however many messages repeat it, one status entry per line.
 */
START_TEST(profile_unprotectable)
{
	reset();
	static const char media[] =
		"m=audio 4100 RTP/AVP 0\r\n"
		"m=audio 4102 TCP/RTP/AVP 0\r\na=setup:active\r\n"
		"m=application 4104 UDP/BFCP *\r\n"
		"m=video 0 TCP/RTP/AVP 96\r\n";
	size_t n = offer_out("p-tcp", media);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(count_str(out, n, "a=zrtp-hash:1.10 "), 1);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_uint_eq(described[0].d.m_index, 0);
	ck_assert_uint_eq(n_not_protected_logs, 1);
	ck_assert_uint_eq(n_unprot, 2);
	ck_assert_str_eq(unprot[0].name, "p-tcp/1");
	ck_assert(unprot[0].whole);
	ck_assert_ptr_nonnull(strstr(unprot[0].why, "TCP/RTP/AVP"));
	ck_assert_str_eq(unprot[1].name, "p-tcp/2");
	ck_assert(unprot[1].whole);
	ck_assert_ptr_nonnull(strstr(unprot[1].why, "UDP/BFCP"));
	/* the answer says the same: no second warning, no new entries */
	answer_in("p-tcp", "m=audio 4200 RTP/AVP 0\r\n"
		  "m=audio 4202 TCP/RTP/AVP 0\r\na=setup:passive\r\n"
		  "m=application 4204 UDP/BFCP *\r\nm=video 0 TCP/RTP/AVP 96\r\n");
	ck_assert_uint_eq(n_described, 2);
	ck_assert_uint_eq(described[1].d.m_index, 0);
	ck_assert_uint_eq(n_not_protected_logs, 1);
	ck_assert_uint_eq(n_unprot, 2);

	/* Only unprotectable lines: the message goes out as it was. */
	reset();
	ck_assert_uint_eq(offer_out("p-tcp-only",
				    "m=audio 4100 TCP/RTP/AVP 0\r\n"), 0);
	ck_assert_uint_eq(n_described, 0);
	ck_assert_uint_eq(n_not_protected_logs, 1);
	ck_assert_uint_eq(n_unprot, 1);

	/* ICE-TCP candidates on a line we protect: protected, and noted. */
	reset();
	n = offer_out("p-ice-tcp", "m=audio 4100 UDP/TLS/RTP/SAVPF 0\r\n"
		      "a=candidate:1 1 udp 2130706431 127.0.0.1 4100 typ host\r\n"
		      "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host "
		      "tcptype active\r\n");
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_uint_eq(n_unprot, 1);
	ck_assert(!unprot[0].whole);
	ck_assert_uint_eq(n_not_protected_logs, 1);
}
END_TEST

/* --- who the peer is: From, To, P-Asserted-Identity --------------------------- */

/* The fixtures' calls: the peer is To of the INVITE we send, From of the
 * one we receive, and every line described carries it. */
START_TEST(identity_from_to)
{
	reset();
	send_msg("baresip-hold-01-invite.sip");
	recv_msg("baresip-hold-03-200-invite.sip");
	ck_assert_uint_eq(n_described, 2);
	for (size_t i = 0; i < n_described; i++) {
		ck_assert_str_eq(described[i].d.peer_sip_id,
				 "sip:bob@127.0.0.1:5373");
		ck_assert_str_eq(described[i].d.peer_display, "");
	}
	send_msg("baresip-hold-11-bye.sip");

	reset();
	recv_msg("sipp-basic-01-invite.sip");
	send_msg("sipp-basic-04-200-invite.sip");
	ck_assert_uint_eq(n_described, 1);
	ck_assert_str_eq(described[0].d.peer_sip_id, "sip:sipp@127.0.0.1:5391");
	ck_assert_str_eq(described[0].d.peer_display, "sipp");
	recv_msg("sipp-basic-06-bye.sip");
}
END_TEST

static const char id_sdp[] =
	"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\nm=audio 41990 RTP/AVP 0\r\n";

/* A request or response with the headers given, and an SDP body. */
static size_t id_msg(char *buf, size_t cap, const char *start,
		     const char *call_id, const char *cseq, const char *hdrs)
{
	int n = snprintf(buf, cap, "%s\r\nVia: SIP/2.0/UDP 127.0.0.1:41991;"
			 "branch=z9hG4bK1\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
			 "Content-Type: application/sdp\r\nContent-Length: "
			 "%zu\r\n\r\n%s", start, call_id, cseq, hdrs,
			 strlen(id_sdp), id_sdp);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_lt((size_t)n, cap);
	return (size_t)n;
}

START_TEST(identity_pai_compact_malformed)
{
	char m[2048];
	size_t n;

	/* An INVITE we receive in compact form (f:, t:), with a display
	 * name of quoted-pairs, and a P-Asserted-Identity whose first value
	 * is a tel: URI (skipped) and whose second is sip: (taken). */
	reset();
	n = id_msg(m, sizeof m, "INVITE sip:me@127.0.0.1:41991 SIP/2.0",
		   "id-1@x", "1 INVITE",
		   "f: \"Mallory \\\"M\\\" Jones\" <sip:Mallory@Evil.Example>;tag=a\r\n"
		   "t: <sip:me@127.0.0.1:41991>\r\n"
		   "P-Asserted-Identity: <tel:+15551234>\r\n");
	shim_sip_incoming(NULL, (const uint8_t *)m, n, false, NULL);
	n = id_msg(m, sizeof m, "SIP/2.0 200 OK", "id-1@x", "1 INVITE",
		   "f: \"Mallory \\\"M\\\" Jones\" <sip:Mallory@Evil.Example>;tag=a\r\n"
		   "t: <sip:me@127.0.0.1:41991>;tag=b\r\n");
	shim_sip_outgoing(NULL, (const uint8_t *)m, n, false, NULL, out,
			  sizeof out);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_str_eq(described[0].d.peer_sip_id, "sip:Mallory@evil.example");
	ck_assert_str_eq(described[0].d.peer_display, "Mallory \"M\" Jones");

	/* A call we place: the peer's answer asserts who it is; that wins
	 * over To, and later messages without it keep it. */
	reset();
	n = id_msg(m, sizeof m, "INVITE sip:bob@127.0.0.1:41992 SIP/2.0",
		   "id-2@x", "1 INVITE",
		   "From: <sip:me@127.0.0.1:41991>;tag=a\r\n"
		   "To: \"Bob\" <sip:bob@127.0.0.1:41992>\r\n"
		   "P-Asserted-Identity: \"Me\" <sip:me@pbx.example>\r\n");
	shim_sip_outgoing(NULL, (const uint8_t *)m, n, false, NULL, out,
			  sizeof out);
	ck_assert_uint_eq(n_described, 1);
	/* Our own PAI names us, not the peer. */
	ck_assert_str_eq(described[0].d.peer_sip_id, "sip:bob@127.0.0.1:41992");
	ck_assert_str_eq(described[0].d.peer_display, "Bob");
	n = id_msg(m, sizeof m, "SIP/2.0 200 OK", "id-2@x", "1 INVITE",
		   "From: <sip:me@127.0.0.1:41991>;tag=a\r\n"
		   "To: \"Bob\" <sip:bob@127.0.0.1:41992>;tag=b\r\n"
		   "P-Asserted-Identity: garbage <<<\r\n"
		   "P-Asserted-Identity: \"Robert B\" <sips:robert@Corp.Example;user=phone>\r\n");
	shim_sip_incoming(NULL, (const uint8_t *)m, n, false, NULL);
	ck_assert_uint_eq(n_described, 2);
	ck_assert_str_eq(described[1].d.peer_sip_id, "sips:robert@corp.example");
	ck_assert_str_eq(described[1].d.peer_display, "Robert B");
	n = id_msg(m, sizeof m, "SIP/2.0 200 OK", "id-2@x", "1 INVITE",
		   "From: <sip:me@127.0.0.1:41991>;tag=a\r\n"
		   "To: \"Bob\" <sip:bob@127.0.0.1:41992>;tag=b\r\n");
	shim_sip_incoming(NULL, (const uint8_t *)m, n, false, NULL);
	ck_assert_uint_eq(n_described, 3);
	ck_assert_str_eq(described[2].d.peer_sip_id, "sips:robert@corp.example");

	/* Malformed From and To are ignored: nothing learned, nothing
	 * invented, the call still described. */
	reset();
	n = id_msg(m, sizeof m, "INVITE sip:me@127.0.0.1:41991 SIP/2.0",
		   "id-3@x", "1 INVITE",
		   "From: \"Unclosed <sip:x@h>;tag=a\r\n"
		   "To: <sip:me@127.0.0.1:41991>\r\n");
	shim_sip_incoming(NULL, (const uint8_t *)m, n, false, NULL);
	n = id_msg(m, sizeof m, "SIP/2.0 200 OK", "id-3@x", "1 INVITE",
		   "From: \"Unclosed <sip:x@h>;tag=a\r\n"
		   "To: <sip:me@127.0.0.1:41991>;tag=b\r\n");
	shim_sip_outgoing(NULL, (const uint8_t *)m, n, false, NULL, out,
			  sizeof out);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_str_eq(described[0].d.peer_sip_id, "");
	ck_assert_str_eq(described[0].d.peer_display, "");
}
END_TEST


/* One INFO our client sends (or, from, the peer sends): what the wire
 * gets (nothing rewritten: 0). */
static size_t info(bool ours, const char *cid, const char *ctype,
		   const char *body)
{
	char b[2048];
	int l = snprintf(b, sizeof b,
			 "INFO sip:bob@127.0.0.1:5070 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-kp1\r\n"
			 "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
			 "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 3 INFO\r\n"
			 "%s%s%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 cid, ctype ? "Content-Type: " : "", ctype ? ctype : "",
			 ctype ? "\r\n" : "", strlen(body), body);
	uint8_t wire[4096];
	if (!ours) {
		shim_sip_incoming(NULL, (uint8_t *)b, (size_t)l, false, NULL);
		return 0;
	}
	return shim_sip_outgoing(NULL, (uint8_t *)b, (size_t)l, false, NULL,
				 wire, sizeof wire);
}

/* The keypad's SIP INFO: both body types give their key to the call;
 * malformed bodies, other types and the peer's INFO give none; the INFO
 * itself is never rewritten. */
START_TEST(info_dtmf_keys)
{
	reset();
	ck_assert_uint_eq(info(true, "kp-1", "application/dtmf-relay",
			       "Signal=5\r\nDuration=160\r\n"), 0);
	ck_assert_uint_eq(info(true, "kp-1", "application/dtmf-relay",
			       "Signal= *\r\nDuration=160"), 0);
	ck_assert_uint_eq(info(true, "kp-1", "Application/DTMF-Relay; x=1",
			       "Duration=100\nSignal=#\n"), 0);
	ck_assert_uint_eq(info(true, "kp-2", "application/dtmf", "7"), 0);
	ck_assert_uint_eq(info(true, "kp-2", "application/dtmf", " b\r\n"),
			  0);
	ck_assert_uint_eq(info(true, "kp-2", "application/dtmf-relay",
			       "Signal=11\r\nDuration=160"), 0);
	ck_assert_uint_eq(n_keys, 6);
	ck_assert_str_eq(key_call[0], "kp-1");
	ck_assert_int_eq(keys[0], '5');
	ck_assert_int_eq(keys[1], '*');
	ck_assert_int_eq(keys[2], '#');
	ck_assert_str_eq(key_call[3], "kp-2");
	ck_assert_int_eq(keys[3], '7');
	ck_assert_int_eq(keys[4], 'B');
	ck_assert_int_eq(keys[5], '#');

	/* malformed or not DTMF: no key */
	reset();
	info(true, "kp-3", "application/dtmf-relay", "Signal=\r\nDuration=1");
	info(true, "kp-3", "application/dtmf-relay", "Signal=55\r\n");
	info(true, "kp-3", "application/dtmf-relay", "Signal 5\r\n");
	info(true, "kp-3", "application/dtmf-relay", "Duration=160\r\n");
	info(true, "kp-3", "application/dtmf-relay", "Signalx=5\r\n");
	info(true, "kp-3", "application/dtmf", "");
	info(true, "kp-3", "application/dtmf", "E");
	info(true, "kp-3", "application/dtmf", "12");
	info(true, "kp-3", "text/plain", "5");
	info(true, "kp-3", NULL, "Signal=5");
	info(false, "kp-3", "application/dtmf-relay", "Signal=5\r\n");
	ck_assert_uint_eq(n_keys, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sipglue");
	TCase *tc = tcase_create("sipglue");
	tcase_add_test(tc, looks);
	tcase_add_test(tc, baresip_uac_call);
	tcase_add_test(tc, sipp_uas_call);
	tcase_add_test(tc, identity_from_to);
	tcase_add_test(tc, identity_pai_compact_malformed);
	tcase_add_test(tc, peer_zrtp_hash);
	tcase_add_test(tc, rewrite_enospc_sends_original);
	tcase_add_test(tc, call_ends);
	tcase_add_test(tc, peer_media_addresses);
	tcase_add_test(tc, late_offer);
	tcase_add_test(tc, answer_in_18x_then_2xx);
	tcase_add_test(tc, bounded_table);
	tcase_add_test(tc, bounded_table_unanswered);
	tcase_add_test(tc, full_table_refuses);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, stream_split_writes);
	tcase_add_test(tc, stream_several_per_write);
	tcase_add_test(tc, stream_not_sip_passes_at_once);
	tcase_add_test(tc, stream_held_released_as_is);
	tcase_add_test(tc, stream_reads_split);
	tcase_add_test(tc, tls_split_records_partial_writes_retries);
	tcase_add_test(tc, tls_retry_same_buffer);
	tcase_add_test(tc, tls_not_sip_untouched);
	tcase_add_test(tc, tls_reads_split_records);
	tcase_add_test(tc, profile_avp);
	tcase_add_test(tc, profile_avpf);
	tcase_add_test(tc, profile_savp);
	tcase_add_test(tc, profile_savpf);
	tcase_add_test(tc, profile_dtls_savp);
	tcase_add_test(tc, profile_dtls_savpf);
	tcase_add_test(tc, profile_unprotectable);
	tcase_add_test(tc, info_dtmf_keys);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
