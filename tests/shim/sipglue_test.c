/*
 * shim/sipglue.c against the real SIP corpus (tests/data/sip/), with a
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
#include "shim/log.h"
#include "shim/media.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "shim/sipglue.h"
#include "shim/status.h"

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

void shim_status_refresh(void)
{
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
	for (int i = 0; i < 300; i++) {
		snprintf(cid, sizeof cid, "flood-%d", i);
		in_m("INVITE sip:a@127.0.0.1 SIP/2.0", cid, 1, "INVITE", true,
		     (unsigned)(8000 + 2 * i));
	}
	/* 300 calls, 64 slots: 236 evicted, each ended. */
	ck_assert_uint_eq(n_ended, 300 - 64);
	/* The newest is still known: answering it describes the peer. */
	n_described = 0;
	ck_assert_uint_gt(out_m("SIP/2.0 200 OK", "flood-299", 1, "INVITE",
				true, 9000), 0);
	ck_assert_uint_eq(n_described, 1);
	ck_assert_uint_eq(port_of(&described[0].d.peer_rtp), 8000 + 2 * 299);
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

int main(void)
{
	Suite *s = suite_create("sipglue");
	TCase *tc = tcase_create("sipglue");
	tcase_add_test(tc, looks);
	tcase_add_test(tc, baresip_uac_call);
	tcase_add_test(tc, sipp_uas_call);
	tcase_add_test(tc, peer_zrtp_hash);
	tcase_add_test(tc, rewrite_enospc_sends_original);
	tcase_add_test(tc, call_ends);
	tcase_add_test(tc, peer_media_addresses);
	tcase_add_test(tc, late_offer);
	tcase_add_test(tc, answer_in_18x_then_2xx);
	tcase_add_test(tc, bounded_table);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, profile_avp);
	tcase_add_test(tc, profile_avpf);
	tcase_add_test(tc, profile_savp);
	tcase_add_test(tc, profile_savpf);
	tcase_add_test(tc, profile_dtls_savp);
	tcase_add_test(tc, profile_dtls_savpf);
	tcase_add_test(tc, profile_unprotectable);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
