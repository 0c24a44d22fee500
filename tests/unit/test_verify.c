/*
 * The verify suite: the key log format, the keyless classifier, and the
 * whole analysis on captures of real clients (tests/data/pcap/verify-*,
 * made by tests/data/pcap/verify-capture.sh) and on SRTP captures this
 * file generates with libsrtp2 together with their key log.
 *
 * The exact packet counts asserted on the real captures were counted
 * independently with tshark (-d udp.port==PORT,rtp / rtcp); the commands
 * are next to each number.
 */
#include <dirent.h>
#include <errno.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "common/keylog.h"
#include "tools/verify.h"
#include "zrtp/crypto.h"
#include "zrtp/packet.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static const char *fixture_dir(void)
{
	static char dir[1024];
	const char *src = getenv("ZS_SRCDIR");
	struct stat st;
	if (src != NULL) {
		snprintf(dir, sizeof(dir), "%s/tests/data/pcap", src);
		if (stat(dir, &st) == 0)
			return dir;
	}
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *t = strstr(dir, "tests/unit/test_verify.c");
	if (t != NULL) {
		snprintf(t, sizeof(dir) - (size_t)(t - dir), "tests/data/pcap");
		if (stat(dir, &st) == 0)
			return dir;
	}
	return NULL;
}

static void fixture(char *out, size_t cap, const char *name)
{
	const char *d = fixture_dir();
	ck_assert_msg(d != NULL, "tests/data/pcap not found: set ZS_SRCDIR");
	snprintf(out, cap, "%s/%s", d, name);
}

static struct verify_report *run(const char *path, const char *keylog,
				 const char *audio)
{
	struct verify_options o = { keylog, audio };
	struct verify_report *r = NULL;
	char why[512] = "";
	int rc = verify_run(path, &o, &r, why, sizeof(why));
	ck_assert_msg(rc == 0, "verify_run(%s): %d %s", path, rc, why);
	ck_assert_ptr_nonnull(r);
	return r;
}

struct totals {
	uint64_t srtp, clear, unknown, srtcp, rtcp_clear, rtcp_unknown, zrtp,
		stun, auth_ok, auth_fail;
};

static struct totals totals_of(const struct verify_stream *s)
{
	struct totals t = { 0 };
	for (int k = 0; k < 2; k++) {
		const struct verify_counts *n = &s->dir[k].n;
		t.srtp += n->srtp;
		t.clear += n->rtp_clear;
		t.unknown += n->rtp_unknown;
		t.srtcp += n->srtcp;
		t.rtcp_clear += n->rtcp_clear;
		t.rtcp_unknown += n->rtcp_unknown;
		t.zrtp += n->zrtp;
		t.stun += n->stun;
		t.auth_ok += n->auth_ok;
		t.auth_fail += n->auth_fail;
	}
	return t;
}

static const struct verify_dir *dir_from_port(const struct verify_stream *s,
					      uint16_t port)
{
	for (int k = 0; k < 2; k++)
		if (s->dir[k].src.port == port)
			return &s->dir[k];
	ck_abort_msg("no direction from port %u", port);
	return NULL;
}

static char tmpdir[256];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zs-test-verify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	DIR *d = opendir(tmpdir);
	if (d != NULL) {
		struct dirent *e;
		char p[600];
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

/* ------------------------------------------------------------------ */
/* A small pcap writer (Ethernet, IPv4, UDP) for generated captures    */

struct pw {
	FILE *f;
	uint64_t frames;
};

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void pw_open(struct pw *w, const char *path)
{
	w->f = fopen(path, "wb");
	ck_assert_ptr_nonnull(w->f);
	w->frames = 0;
	uint8_t h[24] = { 0 };
	le32(h, 0xa1b2c3d4);
	h[4] = 2;
	h[6] = 4;
	le32(h + 16, 65535);
	le32(h + 20, 1);           /* DLT_EN10MB */
	ck_assert_uint_eq(fwrite(h, 1, 24, w->f), 24);
}

/* One UDP datagram 127.0.0.1:sport -> 127.0.0.1:dport; caplen_cut > 0
 * records only that many bytes of the frame (a snaplen cut). */
static void pw_udp_cut(struct pw *w, uint64_t usec, uint16_t sport,
		       uint16_t dport, const uint8_t *p, size_t len,
		       size_t caplen_cut)
{
	uint8_t fr[14 + 20 + 8 + 2048];
	ck_assert_uint_le(len, 2048);
	memset(fr, 0, 14);
	fr[12] = 0x08;              /* IPv4 */
	uint8_t *ip = fr + 14;
	memset(ip, 0, 20);
	size_t iplen = 20 + 8 + len;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 127, ip[15] = 1;
	ip[16] = 127, ip[19] = 1;
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	uint8_t *u = ip + 20;
	u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + len) >> 8), u[5] = (uint8_t)(8 + len);
	u[6] = u[7] = 0;
	memcpy(u + 8, p, len);
	size_t flen = 14 + iplen;
	size_t cap = caplen_cut > 0 && caplen_cut < flen ? caplen_cut : flen;
	uint8_t rh[16];
	le32(rh, (uint32_t)(usec / 1000000));
	le32(rh + 4, (uint32_t)(usec % 1000000));
	le32(rh + 8, (uint32_t)cap);
	le32(rh + 12, (uint32_t)flen);
	ck_assert_uint_eq(fwrite(rh, 1, 16, w->f), 16);
	ck_assert_uint_eq(fwrite(fr, 1, cap, w->f), cap);
	w->frames++;
}

static void pw_udp(struct pw *w, uint64_t usec, uint16_t sport, uint16_t dport,
		   const uint8_t *p, size_t len)
{
	pw_udp_cut(w, usec, sport, dport, p, len, 0);
}

static void pw_close(struct pw *w)
{
	ck_assert_int_eq(fclose(w->f), 0);
}

/* ------------------------------------------------------------------ */
/* The generated SRTP call: SIP offer/answer, G.711 both ways in SRTP  */

#define GEN_PKTS 100
#define GEN_A 20000
#define GEN_B 20100

static uint32_t rng_state = 12345;

static uint8_t rng8(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (uint8_t)(rng_state >> 16);
}

/* u-law of a 440 Hz-ish triangle, the same for every run */
static uint8_t gen_sample(unsigned i, int which)
{
	int v = (int)(i * (which ? 7u : 11u) % 200u) - 100;
	v = v < 0 ? -v : v;
	v = (v - 50) * 120;
	/* G.711 u-law encode (for generating, not under test) */
	int sign = v < 0 ? 0x80 : 0;
	int mag = v < 0 ? -v : v;
	if (mag > 32635)
		mag = 32635;
	mag += 0x84;
	int seg = 7;
	for (int m = 0x4000; (mag & m) == 0 && seg > 0; m >>= 1)
		seg--;
	int mant = (mag >> (seg + 3)) & 0x0f;
	return (uint8_t)~(sign | seg << 4 | mant);
}

static void sip_msg(struct pw *w, uint64_t usec, uint16_t sport, uint16_t dport,
		    const char *first, uint16_t media_port, const char *cseq)
{
	char sdp[512], msg[1500];
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
		 "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
		 media_port);
	int n = snprintf(msg, sizeof(msg),
			 "%s\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK1\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
			 "Call-ID: gen-srtp-call\r\nCSeq: %s\r\n"
			 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
			 first, sport, cseq, strlen(sdp), sdp);
	pw_udp(w, usec, sport, dport, (const uint8_t *)msg, (size_t)n);
}

struct gen_opts {
	bool flip;                 /* flip one bit in one SRTP packet */
	bool duplicate;            /* a retransmitted duplicate packet */
	bool same_ssrc;            /* both sides use SSRC 0xCA110000 (sipp) */
	bool wildcard;             /* the key log gives no addresses */
	bool any_ssrc;             /* ... and ssrc=* with RTCP lines, as the shim */
	bool clear_b;              /* side B sends cleartext instead */
	bool noise_b;              /* ... random bytes (like u-law white noise) */
	uint8_t pt_b;              /* side B's payload type */
	uint64_t flipped_frame;    /* out: frame number of the flipped packet */
};

static void gen_capture(const char *pcap, const char *keylog, struct gen_opts *g)
{
	struct pw w;
	pw_open(&w, pcap);
	uint64_t t = 1700000000ull * 1000000;
	sip_msg(&w, t, 5060, 5062, "INVITE sip:b@127.0.0.1:5062 SIP/2.0", GEN_A,
		"1 INVITE");
	sip_msg(&w, t + 1000, 5062, 5060, "SIP/2.0 200 OK", GEN_B, "1 INVITE");

	uint32_t ssrc[2] = { g->same_ssrc ? 0xca110000u : 0x11111111u,
			     g->same_ssrc ? 0xca110000u : 0x22222222u };
	uint8_t keysalt[2][30];
	srtp_t sess[2];
	FILE *kf = fopen(keylog, "w");
	ck_assert_ptr_nonnull(kf);
	fprintf(kf, "# generated by test_verify.c\n");
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < 30; i++)
			keysalt[s][i] = rng8();
		srtp_policy_t pol;
		memset(&pol, 0, sizeof(pol));
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
		pol.key = keysalt[s];
		pol.ssrc.type = ssrc_specific;
		pol.ssrc.value = ssrc[s];
		pol.allow_repeat_tx = 1;
		ck_assert_int_eq(srtp_create(&sess[s], &pol), srtp_err_status_ok);
		struct keylog_entry e;
		memset(&e, 0, sizeof(e));
		e.ssrc = ssrc[s];
		e.profile = SUITE_AES_CM_128_HMAC_SHA1_80;
		e.key_len = 16;
		memcpy(e.key, keysalt[s], 16);
		memcpy(e.salt, keysalt[s] + 16, 14);
		char ip[] = "127.0.0.1";
		if (g->wildcard) {
			e.src.any_ip = e.src.any_port = true;
			e.dst.any_ip = e.dst.any_port = true;
		} else {
			ck_assert_int_eq(keylog_addr_parse(ip, 9, &e.src), -EINVAL);
			char a[32], b[32];
			snprintf(a, sizeof(a), "127.0.0.1:%u", s ? GEN_B : GEN_A);
			snprintf(b, sizeof(b), "127.0.0.1:%u", s ? GEN_A : GEN_B);
			ck_assert_int_eq(keylog_addr_parse(a, strlen(a), &e.src), 0);
			ck_assert_int_eq(keylog_addr_parse(b, strlen(b), &e.dst), 0);
		}
		char line[KEYLOG_LINE_MAX];
		if (g->any_ssrc) {
			/* the shim's lines: "*:PORT" for its own side, the
			 * peer's address, one line per RTP and RTCP direction */
			e.any_ssrc = true;
			char a[32], b[32];
			for (int rtcp = 0; rtcp < 2; rtcp++) {
				snprintf(a, sizeof(a), "*:%u", (s ? GEN_B : GEN_A) + rtcp);
				snprintf(b, sizeof(b), "127.0.0.1:%u", (s ? GEN_A : GEN_B) + rtcp);
				ck_assert_int_eq(keylog_addr_parse(a, strlen(a), &e.src), 0);
				ck_assert_int_eq(keylog_addr_parse(b, strlen(b), &e.dst), 0);
				ck_assert_int_gt(keylog_format(line, sizeof(line), &e), 0);
				fputs(line, kf);
			}
			continue;
		}
		ck_assert_int_gt(keylog_format(line, sizeof(line), &e), 0);
		fputs(line, kf);
	}
	ck_assert_int_eq(fclose(kf), 0);

	uint8_t dup[256];
	size_t dup_len = 0;
	for (unsigned i = 0; i < GEN_PKTS; i++) {
		for (int s = 0; s < 2; s++) {
			uint8_t p[256 + SRTP_MAX_TRAILER_LEN];
			p[0] = 0x80;
			p[1] = s == 1 ? g->pt_b : 0;
			p[2] = (uint8_t)((i + 1000) >> 8);
			p[3] = (uint8_t)(i + 1000);
			uint32_t ts = 5000 + 160 * i;
			p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16);
			p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
			p[8] = (uint8_t)(ssrc[s] >> 24), p[9] = (uint8_t)(ssrc[s] >> 16);
			p[10] = (uint8_t)(ssrc[s] >> 8), p[11] = (uint8_t)ssrc[s];
			for (unsigned k = 0; k < 160; k++)
				p[12 + k] = s == 1 && g->noise_b ? rng8()
								  : gen_sample(i * 160 + k, s);
			int len = 172;
			if (!(s == 1 && g->clear_b))
				ck_assert_int_eq(srtp_protect(sess[s], p, &len),
						 srtp_err_status_ok);
			if (g->flip && s == 0 && i == 50) {
				p[40] ^= 0x04;
				g->flipped_frame = w.frames + 1;
			}
			uint64_t at = t + 100000 + i * 20000 + (unsigned)s * 500;
			pw_udp(&w, at, s ? GEN_B : GEN_A, s ? GEN_A : GEN_B, p, (size_t)len);
			if (s == 0 && i == 10) {
				memcpy(dup, p, (size_t)len);
				dup_len = (size_t)len;
			}
			if (g->duplicate && s == 0 && i == 12)
				pw_udp(&w, at + 100, GEN_A, GEN_B, dup, dup_len);
		}
		if (i % 50 == 25) {
			/* an SRTCP sender report from A */
			uint8_t r[64 + SRTP_MAX_TRAILER_LEN] = { 0x80, 200, 0, 6 };
			r[4] = (uint8_t)(ssrc[0] >> 24), r[5] = (uint8_t)(ssrc[0] >> 16);
			r[6] = (uint8_t)(ssrc[0] >> 8), r[7] = (uint8_t)ssrc[0];
			for (int k = 8; k < 28; k++)
				r[k] = (uint8_t)k;
			int rl = 28;
			ck_assert_int_eq(srtp_protect_rtcp(sess[0], r, &rl), srtp_err_status_ok);
			pw_udp(&w, t + 100000 + i * 20000 + 700, GEN_A + 1, GEN_B + 1, r,
			       (size_t)rl);
		}
	}
	srtp_dealloc(sess[0]);
	srtp_dealloc(sess[1]);
	explicit_bzero(keysalt, sizeof(keysalt));
	pw_close(&w);
}

static void srtp_once(void)
{
	static bool done;
	if (!done) {
		ck_assert_int_eq(srtp_init(), srtp_err_status_ok);
		done = true;
	}
}

/* ------------------------------------------------------------------ */
/* Key log                                                             */

START_TEST(keylog_parse_good)
{
	const char *l = "SRTP ssrc=ca110000 src=127.0.0.1:16000 dst=127.0.0.1:16100 "
			"profile=AES_CM_128_HMAC_SHA1_80 key=000102030405060708090a0b0c0d0e0f "
			"salt=101112131415161718191a1b1c1d time=123 future=x";
	struct keylog_entry e;
	char why[128];
	ck_assert_int_eq(keylog_parse_line(l, strlen(l), &e, why, sizeof(why)), 1);
	ck_assert_uint_eq(e.ssrc, 0xca110000u);
	ck_assert_uint_eq(e.key_len, 16);
	ck_assert_uint_eq(e.key[15], 0x0f);
	ck_assert_uint_eq(e.salt[13], 0x1d);
	ck_assert_uint_eq(e.src.port, 16000);
	ck_assert(!e.src.any_ip);
	ck_assert_uint_eq(e.dst.port, 16100);

	/* round trip through the formatter */
	char out[KEYLOG_LINE_MAX];
	int n = keylog_format(out, sizeof(out), &e);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "SRTP ssrc=ca110000 src=127.0.0.1:16000 dst=127.0.0.1:16100 "
			      "profile=AES_CM_128_HMAC_SHA1_80 key=000102030405060708090a0b0c0d0e0f "
			      "salt=101112131415161718191a1b1c1d\n");
	struct keylog_entry e2;
	ck_assert_int_eq(keylog_parse_line(out, (size_t)n - 1, &e2, why, sizeof(why)), 1);
	ck_assert_mem_eq(e.key, e2.key, 16);
	ck_assert_uint_eq(e2.ssrc, e.ssrc);

	/* every profile formats into a bounded line; 256-bit keys are 64 hex */
	for (int p = 0; p < 4; p++) {
		e.profile = (enum suite)p;
		e.key_len = suite_key_len(e.profile);
		e.src.family = 6;
		e.src.any_ip = false;
		memset(e.src.ip, 0xff, 16);
		n = keylog_format(out, sizeof(out), &e);
		ck_assert_int_gt(n, 0);
		ck_assert_int_lt(n, KEYLOG_LINE_MAX);
		ck_assert_int_eq(keylog_parse_line(out, (size_t)n - 1, &e2, why, sizeof(why)), 1);
		ck_assert_int_eq(e2.profile, p);
		ck_assert_uint_eq(e2.key_len, e.key_len);
		ck_assert_int_eq(e2.src.family, 6);
		ck_assert_mem_eq(e2.src.ip, e.src.ip, 16);
		ck_assert_int_eq(keylog_format(out, (size_t)n, &e), -ENOSPC);
	}
	e.key_len = 7;
	ck_assert_int_eq(keylog_format(out, sizeof(out), &e), -EINVAL);

	/* optional addresses, wildcards, 0x prefix, CRLF */
	const char *w = "SRTP ssrc=0x1 src=* dst=*:9 profile=AES_CM_256_HMAC_SHA1_32 "
			"key=0000000000000000000000000000000000000000000000000000000000000000 "
			"salt=0000000000000000000000000000\r";
	ck_assert_int_eq(keylog_parse_line(w, strlen(w), &e, why, sizeof(why)), 1);
	ck_assert_uint_eq(e.ssrc, 1);
	ck_assert(e.src.any_ip && e.src.any_port);
	ck_assert(e.dst.any_ip && !e.dst.any_port);
	ck_assert_uint_eq(e.key_len, 32);
	ck_assert_uint_eq(suite_rtp_tag_len(e.profile), 4);
	const char *z = "SRTP ssrc=2 src=0.0.0.0:7078 profile=AES_CM_128_HMAC_SHA1_32 "
			"key=00000000000000000000000000000000 salt=0000000000000000000000000000";
	ck_assert_int_eq(keylog_parse_line(z, strlen(z), &e, why, sizeof(why)), 1);
	ck_assert(e.src.any_ip && !e.src.any_port);
	ck_assert_uint_eq(e.src.port, 7078);
	ck_assert(!e.any_ssrc);

	/* the shim's line: any SSRC, its own side as *:PORT, extra fields */
	const char *sh = "SRTP ssrc=* src=*:7078 dst=127.0.0.1:7178 profile=AES_CM_128_HMAC_SHA1_80 "
			 "key=00000000000000000000000000000000 salt=0000000000000000000000000000 "
			 "stream=call1.audio";
	ck_assert_int_eq(keylog_parse_line(sh, strlen(sh), &e, why, sizeof(why)), 1);
	ck_assert(e.any_ssrc);
	n = keylog_format(out, sizeof(out), &e);
	ck_assert_int_gt(n, 0);
	ck_assert(strncmp(out, "SRTP ssrc=* src=*:7078 dst=127.0.0.1:7178 ", 42) == 0);
	struct keylog_addr pa, pb;
	ck_assert_int_eq(keylog_addr_parse("127.0.0.1:7078", 14, &pa), 0);
	ck_assert_int_eq(keylog_addr_parse("127.0.0.1:7178", 14, &pb), 0);
	ck_assert_int_eq(keylog_entry_match(&e, 0x12345678u, &pa, &pb), 3);
	ck_assert_int_eq(keylog_entry_match(&e, 0x12345678u, &pb, &pa), -1);
}
END_TEST

START_TEST(keylog_bad_lines)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "SRTP", "missing ssrc" },
		{ "SRTP ssrc=1", "missing profile" },
		{ "SRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_80", "missing key" },
		{ "SRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_80 key=00000000000000000000000000000000",
		  "missing salt" },
		{ "SRTP ssrc=123456789 profile=x", "ssrc must be" },
		{ "SRTP ssrc=xyz", "ssrc must be" },
		{ "SRTP ssrc=1 ssrc=2", "given twice" },
		{ "SRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_81", "unknown profile" },
		{ "SRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_80 key=00 salt=0000000000000000000000000000",
		  "key must be 32 hex" },
		{ "SRTP ssrc=1 profile=AES_CM_256_HMAC_SHA1_80 key=00000000000000000000000000000000 "
		  "salt=0000000000000000000000000000", "key must be 64 hex" },
		{ "SRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_80 key=0000000000000000000000000000000g "
		  "salt=0000000000000000000000000000", "key must be" },
		{ "SRTP ssrc=1 salt=00", "salt must be 28" },
		{ "SRTP ssrc=1 src=127.0.0.1", "bad src" },
		{ "SRTP ssrc=1 dst=127.0.0.1:70000", "bad dst" },
		{ "SRTP ssrc=1 dst=[::1:5", "bad dst" },
		{ "SRTP ssrc=1 dst=300.0.0.1:5", "bad dst" },
		{ "SRTP ssrc=1 junk", "not key=value" },
		{ "srtp ssrc=1", "not a key log record" },
		{ "CLIENT_RANDOM 0011 2233", NULL },   /* another label: ignored */
		{ "   # comment", NULL },
		{ "", NULL },
	};
	char why[160];
	struct keylog_entry e;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		int r = keylog_parse_line(bad[i].line, strlen(bad[i].line), &e, why,
					  sizeof(why));
		if (bad[i].why == NULL) {
			ck_assert_msg(r == 0, "line %zu: %d", i, r);
		} else {
			ck_assert_msg(r == -EINVAL, "line %zu (%s): %d", i, bad[i].line, r);
			ck_assert_msg(strstr(why, bad[i].why) != NULL, "line %zu: \"%s\"", i, why);
		}
	}

	/* a whole log: the error names the line */
	const char *log = "# keys\n\nSRTP ssrc=1 profile=AES_CM_128_HMAC_SHA1_80 "
			  "key=00000000000000000000000000000000 salt=0000000000000000000000000000\n"
			  "NEWTHING a b\n"
			  "SRTP ssrc=2 profile=AES_CM_128_HMAC_SHA1_80 key=00\n";
	struct keylog kl = { 0 };
	ck_assert_int_eq(keylog_parse_buf(&kl, log, strlen(log), why, sizeof(why)), -EINVAL);
	ck_assert_msg(strncmp(why, "line 5: ", 8) == 0, "%s", why);
	ck_assert_uint_eq(kl.n, 1);
	ck_assert_uint_eq(kl.entries[0].line, 3);
	ck_assert_uint_eq(kl.ignored, 1);
	keylog_free(&kl);

	/* an over-long line, a NUL inside, a missing file */
	char longl[KEYLOG_LINE_MAX + 10];
	memset(longl, 'A', sizeof(longl));
	ck_assert_int_eq(keylog_parse_buf(&kl, longl, sizeof(longl), why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "line 1: longer") != NULL, "%s", why);
	keylog_free(&kl);
	const char nul[] = "SRTP ssrc=1\0 x";
	ck_assert_int_eq(keylog_parse_buf(&kl, nul, sizeof(nul) - 1, why, sizeof(why)), -EINVAL);
	keylog_free(&kl);
	ck_assert_int_eq(keylog_load(&kl, "/nonexistent/keys.log", why, sizeof(why)), -ENOENT);
	ck_assert_msg(strstr(why, "/nonexistent/keys.log") != NULL, "%s", why);
	keylog_free(&kl);
}
END_TEST

/* Random and mutated lines: never a crash, never a read past the line. */
START_TEST(keylog_garbage)
{
	const char *good = "SRTP ssrc=ca110000 src=[::1]:16000 dst=127.0.0.1:16100 "
			   "profile=AES_CM_128_HMAC_SHA1_80 key=000102030405060708090a0b0c0d0e0f "
			   "salt=101112131415161718191a1b1c1d";
	size_t gl = strlen(good);
	struct keylog_entry e;
	char why[160];
	rng_state = 99;
	for (int it = 0; it < 20000; it++) {
		size_t len = rng8() % (gl + 1);
		char *buf = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
		memcpy(buf, good, len);
		int muts = rng8() % 4;
		for (int m = 0; m < muts && len > 0; m++)
			buf[rng8() % len] = (char)rng8();
		int r = keylog_parse_line(buf, len, &e, why, sizeof(why));
		ck_assert(r == 1 || r == 0 || r == -EINVAL);
		free(buf);
	}
}
END_TEST

START_TEST(keylog_matching)
{
	/* two sipp instances: the same SSRC, told apart by addresses */
	const char *log =
		"SRTP ssrc=ca110000 src=127.0.0.1:16000 dst=127.0.0.1:16100 profile=AES_CM_128_HMAC_SHA1_80 "
		"key=11111111111111111111111111111111 salt=0000000000000000000000000000\n"
		"SRTP ssrc=ca110000 src=*:16100 dst=* profile=AES_CM_128_HMAC_SHA1_80 "
		"key=22222222222222222222222222222222 salt=0000000000000000000000000000\n"
		"SRTP ssrc=ca110000 profile=AES_CM_128_HMAC_SHA1_80 "
		"key=33333333333333333333333333333333 salt=0000000000000000000000000000\n";
	struct keylog kl = { 0 };
	char why[128];
	ck_assert_int_eq(keylog_parse_buf(&kl, log, strlen(log), why, sizeof(why)), 0);
	ck_assert_uint_eq(kl.n, 3);
	struct keylog_addr a, b, c;
	ck_assert_int_eq(keylog_addr_parse("127.0.0.1:16000", 15, &a), 0);
	ck_assert_int_eq(keylog_addr_parse("127.0.0.1:16100", 15, &b), 0);
	ck_assert_int_eq(keylog_addr_parse("127.0.0.2:16000", 15, &c), 0);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[0], 0xca110000u, &a, &b), 6);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[0], 0xca110000u, &b, &a), -1);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[0], 0xca110000u, &c, &b), -1);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[0], 0xca110001u, &a, &b), -1);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[1], 0xca110000u, &b, &a), 3);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[1], 0xca110000u, &a, &b), -1);
	ck_assert_int_eq(keylog_entry_match(&kl.entries[2], 0xca110000u, &c, &b), 2);
	keylog_free(&kl);
	ck_assert_ptr_null(kl.entries);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The keyless pieces                                                  */

START_TEST(g711_tables)
{
	/* ITU-T G.711 Table 2a/2b end points and zero */
	ck_assert_int_eq(verify_ulaw_decode(0xff), 0);
	ck_assert_int_eq(verify_ulaw_decode(0x7f), 0);
	ck_assert_int_eq(verify_ulaw_decode(0x80), 32124);
	ck_assert_int_eq(verify_ulaw_decode(0x00), -32124);
	ck_assert_int_eq(verify_ulaw_decode(0xfe), 8);
	ck_assert_int_eq(verify_alaw_decode(0xd5), 8);
	ck_assert_int_eq(verify_alaw_decode(0x55), -8);
	ck_assert_int_eq(verify_alaw_decode(0xaa), 32256);
	ck_assert_int_eq(verify_alaw_decode(0x2a), -32256);
	/* monotonic within a sign: u-law codes 0x80..0xff decrease */
	for (int i = 0x80; i < 0xff; i++)
		ck_assert_int_gt(verify_ulaw_decode((uint8_t)i),
				 verify_ulaw_decode((uint8_t)(i + 1)));
	/* round trip with the generator's encoder on a ramp */
	for (int i = 0; i < 200; i++) {
		uint8_t u = gen_sample((unsigned)i, 0);
		int v = verify_ulaw_decode(u);
		ck_assert_int_le(v, 6100);
		ck_assert_int_ge(v, -6100);
	}
}
END_TEST

START_TEST(payload_statistic)
{
	/* random bytes stay below the threshold in 20000 packets of 160 */
	rng_state = 7;
	uint8_t p[160];
	double worst = -1e9;
	for (int it = 0; it < 20000; it++) {
		for (int i = 0; i < 160; i++)
			p[i] = rng8();
		double z = verify_payload_z(p, sizeof(p));
		if (z > worst)
			worst = z;
	}
	ck_assert_msg(worst < VERIFY_Z_STRUCTURED, "random z up to %.2f", worst);
	/* a u-law ramp that sweeps 100 levels is above it */
	for (int i = 0; i < 160; i++)
		p[i] = gen_sample((unsigned)i, 0);
	ck_assert_double_gt(verify_payload_z(p, sizeof(p)), VERIFY_Z_STRUCTURED);
	/* silence: one value */
	memset(p, 0xff, sizeof(p));
	ck_assert_double_gt(verify_payload_z(p, sizeof(p)), 100.0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Real clients                                                        */

/*
 * sipp UAC (PCMU) and UAS (PCMA), both SSRC 0xCA110000, no RTCP.
 * tshark -r verify-sipp-clear.pcap -d udp.port==17000,rtp -d udp.port==17100,rtp
 *   -Y rtp -T fields -e udp.srcport | sort | uniq -c   ->  150 17000, 150 17100
 */
START_TEST(real_sipp_clear)
{
	char path[1200];
	fixture(path, sizeof(path), "verify-sipp-clear.pcap");
	struct verify_report *r = run(path, NULL, NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(!r->partial);
	ck_assert_uint_eq(r->n_streams, 1);
	const struct verify_stream *s = &r->streams[0];
	ck_assert(s->announced);
	ck_assert(!s->secured);
	ck_assert_uint_eq(s->n_ev, 0);
	const struct verify_dir *uac = dir_from_port(s, 17000), *uas = dir_from_port(s, 17100);
	ck_assert_uint_eq(uac->n.rtp_clear, 150);
	ck_assert_uint_eq(uas->n.rtp_clear, 150);
	ck_assert_uint_eq(uac->n.srtp + uas->n.srtp, 0);
	ck_assert_uint_eq(uac->n.rtp_unknown + uas->n.rtp_unknown, 0);
	ck_assert_uint_eq(uac->ssrc[0], 0xca110000u);
	ck_assert_uint_eq(uas->ssrc[0], 0xca110000u);
	ck_assert_str_eq(uac->codec, "PCMU/8000");
	ck_assert_str_eq(uas->codec, "PCMA/8000");
	ck_assert_uint_eq(uac->samples_per_pkt, 160);
	ck_assert(strstr(r->reasons, "300 cleartext RTP") != NULL);
	verify_report_free(r);
}
END_TEST

/*
 * baresip <-> baresip, PCMU, RTCP on port+1.
 * tshark ... -d udp.port==11000,rtp -d udp.port==11012,rtp -Y rtp   -> 151 from 11000, 150 from 11012
 * tshark ... -d udp.port==11001,rtcp -d udp.port==11013,rtcp -Y rtcp -> 2 from 11001, 2 from 11013
 */
START_TEST(real_baresip_clear)
{
	char path[1200];
	fixture(path, sizeof(path), "verify-baresip-clear.pcap");
	char *audio = tmpdir;
	struct verify_report *r = run(path, NULL, audio);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert_uint_eq(r->n_streams, 1);
	const struct verify_stream *s = &r->streams[0];
	ck_assert(s->has_rtcp_flow);
	const struct verify_dir *a = dir_from_port(s, 11000), *b = dir_from_port(s, 11012);
	ck_assert_uint_eq(a->n.rtp_clear, 151);
	ck_assert_uint_eq(b->n.rtp_clear, 150);
	ck_assert_uint_eq(a->n.rtcp_clear, 2);
	ck_assert_uint_eq(b->n.rtcp_clear, 2);
	ck_assert_uint_eq(a->n.srtp + b->n.srtp + a->n.rtp_unknown + b->n.rtp_unknown, 0);
	/* the cleartext audio, decoded: 160 samples per packet */
	ck_assert(a->wav_path[0] != '\0');
	ck_assert_uint_eq(a->wav_samples, 151 * 160);
	struct stat st;
	ck_assert_int_eq(stat(a->wav_path, &st), 0);
	ck_assert_int_eq(st.st_size, 44 + 2 * 151 * 160);
	verify_report_free(r);
}
END_TEST

/*
 * linphonec <-> linphonec, media_encryption=zrtp: DH3k handshake, and the
 * RTP each side sends in clear before it completes.
 * tshark -r verify-linphone-zrtp.pcap -d udp.port==7178,rtp -d udp.port==7278,rtp
 *   -Y 'rtp && udp.length==180' -T fields -e udp.srcport | sort | uniq -c
 * (180 = 8 + 12 + 160 bytes: no auth tag; SRTP packets are 190)
 */
static void linphone_check(const char *name, unsigned clear_a, unsigned clear_b,
			   unsigned srtp_a, unsigned srtp_b, unsigned srtcp)
{
	char path[1200];
	fixture(path, sizeof(path), name);
	struct verify_report *r = run(path, NULL, NULL);
	ck_assert_uint_eq(r->n_streams, 1);
	const struct verify_stream *s = &r->streams[0];
	ck_assert(s->hs_complete);
	ck_assert(s->secured);
	ck_assert(s->have_algos);
	ck_assert_str_eq(s->ka, "DH3k");
	ck_assert_str_eq(s->hash, "S256");
	ck_assert_str_eq(s->cipher, "AES1");
	ck_assert_str_eq(s->auth, "HS80");
	ck_assert_str_eq(s->sas, "B32");
	const struct verify_dir *a = dir_from_port(s, 7178), *b = dir_from_port(s, 7278);
	ck_assert_str_eq(a->client_id, "BZRTPv1.1");
	ck_assert_int_eq(a->hash_check, VERIFY_HASH_MATCH);
	ck_assert_int_eq(b->hash_check, VERIFY_HASH_MATCH);
	ck_assert_uint_eq(a->n.rtp_clear, clear_a);
	ck_assert_uint_eq(b->n.rtp_clear, clear_b);
	ck_assert_uint_eq(a->n.srtp, srtp_a);
	ck_assert_uint_eq(b->n.srtp, srtp_b);
	ck_assert_uint_eq(a->n.srtcp + b->n.srtcp, srtcp);
	ck_assert_uint_eq(a->n.rtcp_clear + b->n.rtcp_clear, 0);
	ck_assert_uint_eq(a->n.rtp_unknown + b->n.rtp_unknown, 0);
	ck_assert(s->media_before_secure);
	ck_assert(s->first_media_rel_usec < 0);
	/* the verdict fails on exactly those packets */
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	char want[64];
	snprintf(want, sizeof(want), "%u cleartext RTP", clear_a + clear_b);
	ck_assert_msg(strstr(r->reasons, want) != NULL, "%s", r->reasons);
	verify_report_free(r);
}

/* 4 s call, 4 clear from 7178, 5 from 7278, then 191 SRTP each (190-byte) */
START_TEST(real_linphone_zrtp)
{
	linphone_check("verify-linphone-zrtp.pcap", 4, 5, 191, 191, 0);
}
END_TEST

/*
 * The same setup with a WAV shorter than the call (first 700 frames):
 * when the file ends, each linphonec starts a second RTP stream (new
 * SSRC, new ZRTP Hellos that never complete) in clear on the same ports,
 * next to the SRTP one. tshark, 180-byte RTP from 7178: 3 + 56, from
 * 7278: 4 + 58; 190-byte: 254 each; one 142-byte SRTCP each way.
 */
START_TEST(real_linphone_fileend)
{
	linphone_check("verify-linphone-fileend.pcap", 59, 62, 254, 254, 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Broken input                                                        */

static uint8_t *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	uint8_t *b = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void file_write(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	if (n > 0)
		ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * The first 8 frames (SIP and RTP) of the sipp capture cut at every offset: exit 2
 * before a whole file header, otherwise a verdict that is PASS never,
 * and partial exactly when the cut is inside a record.
 */
START_TEST(truncated_everywhere)
{
	char path[1200], cut[600];
	fixture(path, sizeof(path), "verify-sipp-clear.pcap");
	size_t len;
	uint8_t *all = file_read(path, &len);
	/* record boundaries of the first 8 frames */
	size_t bounds[64], nb = 0, pos = 24;
	bounds[nb++] = 24;
	while (nb < 9 && pos + 16 <= len) {
		uint32_t caplen = (uint32_t)all[pos + 8] | (uint32_t)all[pos + 9] << 8 |
				  (uint32_t)all[pos + 10] << 16 | (uint32_t)all[pos + 11] << 24;
		pos += 16 + caplen;
		bounds[nb++] = pos;
	}
	size_t end = bounds[nb - 1];
	snprintf(cut, sizeof(cut), "%s/cut.pcap", tmpdir);
	size_t b = 0;
	for (size_t off = 0; off <= end; off++) {
		file_write(cut, all, off);
		struct verify_options o = { NULL, NULL };
		struct verify_report *r = NULL;
		char why[512] = "";
		int rc = verify_run(cut, &o, &r, why, sizeof(why));
		while (b + 1 < nb && bounds[b + 1] <= off)
			b++;
		bool at_boundary = off >= 24 && bounds[b] == off;
		if (off < 24) {
			ck_assert_msg(rc < 0, "offset %zu: accepted a partial header", off);
			ck_assert_msg(why[0] != '\0', "offset %zu: no reason", off);
			ck_assert_ptr_null(r);
			continue;
		}
		ck_assert_msg(rc == 0, "offset %zu: %d %s", off, rc, why);
		ck_assert_int_ne(r->verdict, VERIFY_PASS);
		ck_assert_msg(r->partial == !at_boundary, "offset %zu: partial %d (%s)", off,
			      r->partial, r->partial_why);
		if (!at_boundary)
			ck_assert_msg(strstr(r->reasons, "partial capture") != NULL, "%s",
				      r->reasons);
		verify_report_free(r);
	}
	free(all);
}
END_TEST

START_TEST(unusable_input)
{
	char p[600], why[512];
	struct verify_options o = { NULL, NULL };
	struct verify_report *r = NULL;

	snprintf(p, sizeof(p), "%s/missing.pcap", tmpdir);
	ck_assert_int_lt(verify_run(p, &o, &r, why, sizeof(why)), 0);
	ck_assert_ptr_null(r);
	ck_assert(strstr(why, "missing.pcap") != NULL);

	snprintf(p, sizeof(p), "%s/empty.pcap", tmpdir);
	file_write(p, NULL, 0);
	ck_assert_int_lt(verify_run(p, &o, &r, why, sizeof(why)), 0);

	static const uint8_t text[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
				      "this is a text file, not a capture\r\n";
	snprintf(p, sizeof(p), "%s/text.pcap", tmpdir);
	file_write(p, text, sizeof(text) - 1);
	why[0] = '\0';
	ck_assert_int_lt(verify_run(p, &o, &r, why, sizeof(why)), 0);
	ck_assert(why[0] != '\0');

	/* unsupported link type: 147 (DLT_USER0) */
	uint8_t h[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	le32(h + 16, 65535);
	le32(h + 20, 147);
	snprintf(p, sizeof(p), "%s/user0.pcap", tmpdir);
	file_write(p, h, sizeof(h));
	why[0] = '\0';
	ck_assert_int_lt(verify_run(p, &o, &r, why, sizeof(why)), 0);
	ck_assert(why[0] != '\0');

	/* a bad key log and an unwritable audio directory are exit 2 too */
	char cap[600], kl[600];
	snprintf(cap, sizeof(cap), "%s/ok.pcap", tmpdir);
	struct pw w;
	pw_open(&w, cap);
	pw_close(&w);
	snprintf(kl, sizeof(kl), "%s/bad.keys", tmpdir);
	file_write(kl, (const uint8_t *)"SRTP ssrc=zz\n", 13);
	o.keylog_path = kl;
	ck_assert_int_lt(verify_run(cap, &o, &r, why, sizeof(why)), 0);
	ck_assert_msg(strstr(why, "line 1") != NULL, "%s", why);
	o.keylog_path = NULL;
	o.audio_dir = "/nonexistent/dir";
	ck_assert_int_lt(verify_run(cap, &o, &r, why, sizeof(why)), 0);
	ck_assert(strstr(why, "/nonexistent/dir") != NULL);

	/* a valid but empty capture: usable, nothing to prove */
	o.audio_dir = NULL;
	ck_assert_int_eq(verify_run(cap, &o, &r, why, sizeof(why)), 0);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(strstr(r->reasons, "no media") != NULL);
	verify_report_free(r);
}
END_TEST

/* Snaplen-cut media and bogus record lengths: partial, never PASS. */
START_TEST(cut_and_bogus_records)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/gen.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/gen.keys", tmpdir);
	struct gen_opts g = { 0 };
	srtp_once();
	gen_capture(pcap, keys, &g);
	/* the same call plus one SRTP-sized packet cut by the snaplen */
	FILE *f = fopen(pcap, "ab");
	ck_assert_ptr_nonnull(f);
	struct pw w = { f, 0 };
	uint8_t p[182] = { 0x80, 0, 0, 1 };
	pw_udp_cut(&w, 1700000009ull * 1000000, GEN_A, GEN_B, p, sizeof(p), 60);
	pw_close(&w);
	struct verify_report *r = run(pcap, keys, NULL);
	ck_assert(r->partial);
	ck_assert_uint_eq(r->stats.truncated, 1);
	ck_assert(strstr(r->partial_why, "cut short") != NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	verify_report_free(r);

	/* a record header claiming 2^31 bytes */
	size_t len;
	uint8_t *all = file_read(pcap, &len);
	uint8_t *bog = malloc(len + 16);
	memcpy(bog, all, len);
	uint8_t rh[16] = { 0 };
	le32(rh + 8, 0x80000000u);
	le32(rh + 12, 0x80000000u);
	memcpy(bog + len, rh, 16);
	file_write(pcap, bog, len + 16);
	struct verify_options o = { NULL, NULL };
	char why[512] = "";
	r = NULL;
	int rc = verify_run(pcap, &o, &r, why, sizeof(why));
	ck_assert_msg(rc < 0 || (r != NULL && r->partial && r->verdict == VERIFY_FAIL),
		      "rc %d", rc);
	verify_report_free(r);
	/* caplen larger than len in the first record */
	memcpy(bog, all, len);
	le32(bog + 24 + 8, 0xffff);
	file_write(pcap, bog, len);
	r = NULL;
	rc = verify_run(pcap, &o, &r, why, sizeof(why));
	ck_assert_msg(rc < 0 || (r != NULL && r->verdict == VERIFY_FAIL && r->partial),
		      "rc %d", rc);
	verify_report_free(r);
	free(all);
	free(bog);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The key log path                                                    */

START_TEST(keylog_authenticates)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/srtp.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/srtp.keys", tmpdir);
	struct gen_opts g = { .duplicate = true };
	srtp_once();
	gen_capture(pcap, keys, &g);

	struct verify_report *r = run(pcap, keys, tmpdir);
	ck_assert_uint_eq(r->n_streams, 1);
	const struct verify_stream *s = &r->streams[0];
	struct totals t = totals_of(s);
	/* 2 x 100 RTP + 1 duplicate, 2 SRTCP */
	ck_assert_uint_eq(t.srtp, 2 * GEN_PKTS + 1);
	ck_assert_uint_eq(t.srtcp, 2);
	ck_assert_msg(t.auth_ok == 2 * GEN_PKTS + 1 + 2 && t.auth_fail == 0,
		      "auth ok %llu fail %llu, srtp %llu srtcp %llu",
		      (unsigned long long)t.auth_ok, (unsigned long long)t.auth_fail,
		      (unsigned long long)t.srtp, (unsigned long long)t.srtcp);
	ck_assert_uint_eq(t.clear + t.unknown + t.rtcp_clear + t.rtcp_unknown, 0);
	ck_assert(s->has_rtcp_flow);
	ck_assert(!s->hs_complete);
	ck_assert(s->keylog_secured);
	ck_assert_msg(r->verdict == VERIFY_PASS, "%s", r->reasons);

	/* the decrypted audio is the generated audio */
	const struct verify_dir *a = dir_from_port(s, GEN_A);
	ck_assert_uint_eq(a->wav_samples, (GEN_PKTS + 1) * 160);
	size_t len;
	uint8_t *wav = file_read(a->wav_path, &len);
	ck_assert_uint_eq(len, 44 + 2 * (GEN_PKTS + 1) * 160);
	ck_assert_mem_eq(wav, "RIFF", 4);
	for (unsigned k = 0; k < 160 * 10; k++) {
		int16_t v = (int16_t)(wav[44 + 2 * k] | wav[45 + 2 * k] << 8);
		ck_assert_int_eq(v, verify_ulaw_decode(gen_sample(k, 0)));
	}
	free(wav);
	verify_report_free(r);

	/* without keys: SRTP by shape, but nothing proves the keys were ZRTP's */
	r = run(pcap, NULL, NULL);
	t = totals_of(&r->streams[0]);
	ck_assert_uint_eq(t.srtp, 2 * GEN_PKTS + 1);
	ck_assert_uint_eq(t.srtcp, 2);
	ck_assert_uint_eq(t.clear + t.unknown, 0);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(strstr(r->reasons, "without a completed ZRTP handshake") != NULL);
	verify_report_free(r);
}
END_TEST

START_TEST(keylog_flipped_bit)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/flip.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/flip.keys", tmpdir);
	struct gen_opts g = { .flip = true };
	srtp_once();
	gen_capture(pcap, keys, &g);
	struct verify_report *r = run(pcap, keys, NULL);
	const struct verify_stream *s = &r->streams[0];
	struct totals t = totals_of(s);
	ck_assert_uint_eq(t.auth_fail, 1);
	ck_assert_uint_eq(t.auth_ok, 2 * GEN_PKTS - 1 + 2);
	ck_assert_uint_eq(s->n_failed_frames, 1);
	ck_assert_uint_eq(s->failed_frames[0], g.flipped_frame);
	ck_assert(!s->secured);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(strstr(r->reasons, "1 packets failed SRTP authentication") != NULL);
	verify_report_free(r);
}
END_TEST

/* sipp's shared SSRC with wildcard records: each side still authenticates;
 * and a cleartext side is counted as cleartext, not as a failure alone. */
START_TEST(keylog_same_ssrc_and_clear)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/same.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/same.keys", tmpdir);
	struct gen_opts g = { .same_ssrc = true, .wildcard = true };
	srtp_once();
	gen_capture(pcap, keys, &g);
	struct verify_report *r = run(pcap, keys, NULL);
	struct totals t = totals_of(&r->streams[0]);
	ck_assert_uint_eq(t.auth_ok, 2 * GEN_PKTS + 2);
	ck_assert_uint_eq(t.auth_fail, 0);
	ck_assert_int_eq(r->verdict, VERIFY_PASS);
	verify_report_free(r);

	/* the shim's own key log shape: ssrc=*, our side as *:PORT */
	struct gen_opts g1 = { .any_ssrc = true, .duplicate = true };
	gen_capture(pcap, keys, &g1);
	r = run(pcap, keys, NULL);
	t = totals_of(&r->streams[0]);
	ck_assert_uint_eq(t.auth_ok, 2 * GEN_PKTS + 1 + 2);
	ck_assert_uint_eq(t.auth_fail, 0);
	ck_assert_int_eq(r->verdict, VERIFY_PASS);
	verify_report_free(r);

	struct gen_opts g2 = { .clear_b = true };
	gen_capture(pcap, keys, &g2);
	r = run(pcap, keys, NULL);
	const struct verify_dir *b = dir_from_port(&r->streams[0], GEN_B);
	ck_assert_uint_eq(b->n.rtp_clear, GEN_PKTS);
	ck_assert_uint_eq(b->n.auth_fail, GEN_PKTS);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(strstr(r->reasons, "100 cleartext RTP") != NULL);
	verify_report_free(r);
	/* keyless, the cleartext side is still found */
	r = run(pcap, NULL, NULL);
	b = dir_from_port(&r->streams[0], GEN_B);
	ck_assert_uint_eq(b->n.rtp_clear, GEN_PKTS);
	verify_report_free(r);
}
END_TEST

/*
 * The keyless table on payloads whose bytes look random: cleartext G.711
 * of loud white noise is near-uniform (z < 8 in ~80% of packets, see
 * README.md ("zrtpshim verify")), so its length (no room for a tag) must decide; with a
 * payload type that is not G.711 nothing can, and the answer is unknown.
 */
START_TEST(keyless_random_payloads)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/noise.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/noise.keys", tmpdir);
	srtp_once();
	struct gen_opts g = { .clear_b = true, .noise_b = true };
	gen_capture(pcap, keys, &g);
	struct verify_report *r = run(pcap, NULL, NULL);
	const struct verify_dir *a = dir_from_port(&r->streams[0], GEN_A);
	const struct verify_dir *b = dir_from_port(&r->streams[0], GEN_B);
	ck_assert_uint_eq(b->n.rtp_clear, GEN_PKTS);
	ck_assert_uint_eq(b->n.rtp_unknown + b->n.srtp, 0);
	ck_assert_uint_eq(a->n.srtp, GEN_PKTS);
	ck_assert_double_gt(b->payload_entropy, 7.9);
	verify_report_free(r);

	struct gen_opts g2 = { .clear_b = true, .noise_b = true, .pt_b = 96 };
	gen_capture(pcap, keys, &g2);
	r = run(pcap, NULL, NULL);
	b = dir_from_port(&r->streams[0], GEN_B);
	ck_assert_uint_eq(b->n.rtp_unknown, GEN_PKTS);
	ck_assert_uint_eq(b->n.rtp_clear + b->n.srtp, 0);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(strstr(r->reasons, "100 media packets of unknown class") != NULL);
	verify_report_free(r);
	/* the key log settles it: B's packets fail authentication */
	r = run(pcap, keys, NULL);
	b = dir_from_port(&r->streams[0], GEN_B);
	ck_assert_uint_eq(b->n.auth_fail, GEN_PKTS);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	verify_report_free(r);
}
END_TEST

/* The JSON document is one line of balanced braces with the stable keys. */
START_TEST(json_document)
{
	char path[1200], out[600];
	fixture(path, sizeof(path), "verify-sipp-clear.pcap");
	struct verify_report *r = run(path, NULL, NULL);
	snprintf(out, sizeof(out), "%s/out.json", tmpdir);
	FILE *f = fopen(out, "w");
	ck_assert_ptr_nonnull(f);
	verify_report_json(f, r);
	fclose(f);
	verify_report_free(r);
	size_t len;
	uint8_t *j = file_read(out, &len);
	j[len] = '\0';
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = (char)j[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	ck_assert(strstr((char *)j, "\"verdict\":\"fail\"") != NULL);
	ck_assert(strstr((char *)j, "\"rtp_clear\":150") != NULL);
	ck_assert(strstr((char *)j, "\"version\":1") != NULL);
	free(j);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Real flows: a re-INVITE that moves the media, calls one after the   */
/* other on reused ports, calls sharing one media address              */

/*
 * A generated call between A (the caller, port pa) and B (pb): INVITE
 * and 200 with SDP carrying each side's a=zrtp-hash, a ZRTP handshake
 * (structurally valid messages, no real DH: verify does not check MACs),
 * G.711 SRTP both ways made with libsrtp2 (keys logged as the shim logs
 * them: ssrc=*, our side *:PORT, stream=CALL-ID/0), BYE.
 */
struct fcall {
	const char *call_id;
	uint16_t pa, pb;
	uint32_t ssrc_a, ssrc_b;
	uint8_t seed;              /* makes each call's Hellos its own */
	bool no_zrtp;              /* no handshake (a moved stream) */
	bool bad_hash_b;           /* B's SDP hash is not its Hello's */
	bool clear_a;              /* A's media in clear */
	bool sdp_only;             /* just the SDP (a call sharing ports) */
	bool keys_unnamed;         /* key log lines without stream= */
	const char *hash_a, *hash_b; /* announce these hashes instead */
	unsigned pkts;
};

struct fgen {
	struct pw w;
	FILE *keys;
	uint64_t t;
	srtp_t tx[2];              /* A's and B's send contexts */
	uint8_t keysalt[2][30];
	uint16_t seq[2];
	uint32_t ts[2];
	char hello_hex[2][65];     /* of the last call's Hellos */
};

static int zmsg(uint8_t *pkt, enum zrtp_msg_type type, int side, uint8_t seed,
		uint16_t seq, uint8_t hash_out[32])
{
	struct zrtp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	static const uint8_t pv[32] = { 9 }, enc[40] = { 7 };
	switch (type) {
	case ZRTP_MSG_HELLO:
		m.u.hello.version = ZRTP_VERSION_110;
		memcpy(m.u.hello.client_id, "test_verify     ", 16);
		memset(m.u.hello.h3, seed, 32);
		m.u.hello.h3[0] = (uint8_t)side;
		memset(m.u.hello.zid, 0x40 + side, 12);
		break;
	case ZRTP_MSG_COMMIT:
		memset(m.u.commit.zid, 0x40 + side, 12);
		m.u.commit.hash = ZRTP_HASH_S256;
		m.u.commit.cipher = ZRTP_CIPHER_AES1;
		m.u.commit.auth = ZRTP_AUTH_HS80;
		m.u.commit.ka = ZRTP_KA_X255;
		m.u.commit.sas = ZRTP_SAS_B32;
		break;
	case ZRTP_MSG_DHPART1:
	case ZRTP_MSG_DHPART2:
		m.u.dhpart.pv = pv;
		m.u.dhpart.pv_len = sizeof(pv);
		break;
	case ZRTP_MSG_CONFIRM1:
	case ZRTP_MSG_CONFIRM2:
		m.u.confirm.enc = enc;
		m.u.confirm.enc_len = sizeof(enc);
		break;
	default:
		break;
	}
	uint8_t msg[512];
	int ml = zrtp_msg_encode(msg, sizeof(msg), &m);
	ck_assert_int_gt(ml, 0);
	if (hash_out != NULL) {
		struct zrtp_iov v = { msg, (size_t)ml };
		ck_assert_int_eq(zrtp_hash(ZRTP_HASH_S256, &v, 1, hash_out), 0);
	}
	int n = zrtp_packet_wrap(pkt, 600, seq, 0x5a000000u + (uint32_t)side, msg,
				 (size_t)ml);
	ck_assert_int_gt(n, 0);
	return n;
}

static void hexof(char out[65], const uint8_t h[32])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void fsip(struct fgen *g, uint16_t sport, uint16_t dport, const char *first,
		 const char *call_id, const char *cseq, uint16_t media_port,
		 const char *hash)
{
	char sdp[600] = "", msg[1500];
	if (media_port != 0)
		snprintf(sdp, sizeof(sdp),
			 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
			 "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
			 "a=zrtp-hash:1.10 %s\r\n", media_port, hash);
	int n = snprintf(msg, sizeof(msg),
			 "%s\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n"
			 "Call-ID: %s\r\nCSeq: %s\r\n%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 first, sport, cseq, call_id, cseq,
			 sdp[0] ? "Content-Type: application/sdp\r\n" : "",
			 strlen(sdp), sdp);
	pw_udp(&g->w, g->t, sport, dport, (const uint8_t *)msg, (size_t)n);
	g->t += 1000;
}

static void fgen_open(struct fgen *g, const char *pcap, const char *keys)
{
	memset(g, 0, sizeof(*g));
	srtp_once();
	pw_open(&g->w, pcap);
	g->keys = fopen(keys, "w");
	ck_assert_ptr_nonnull(g->keys);
	g->t = 1700000000ull * 1000000;
}

static void fgen_close(struct fgen *g)
{
	for (int k = 0; k < 2; k++)
		if (g->tx[k] != NULL)
			srtp_dealloc(g->tx[k]);
	explicit_bzero(g->keysalt, sizeof(g->keysalt));
	pw_close(&g->w);
	ck_assert_int_eq(fclose(g->keys), 0);
}

/* New SRTP keys for a call, logged the way the shim logs them. */
static void fgen_keys(struct fgen *g, const struct fcall *fc)
{
	for (int k = 0; k < 2; k++) {
		if (g->tx[k] != NULL)
			srtp_dealloc(g->tx[k]);
		for (int i = 0; i < 30; i++)
			g->keysalt[k][i] = rng8();
		srtp_policy_t pol;
		memset(&pol, 0, sizeof(pol));
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
		pol.key = g->keysalt[k];
		pol.ssrc.type = ssrc_any_outbound;
		ck_assert_int_eq(srtp_create(&g->tx[k], &pol), srtp_err_status_ok);
		struct keylog_entry e;
		memset(&e, 0, sizeof(e));
		e.any_ssrc = true;
		e.profile = SUITE_AES_CM_128_HMAC_SHA1_80;
		e.key_len = 16;
		memcpy(e.key, g->keysalt[k], 16);
		memcpy(e.salt, g->keysalt[k] + 16, 14);
		char a[32], b[32], name[128], line[KEYLOG_LINE_MAX];
		snprintf(a, sizeof(a), "*:%u", k ? fc->pb : fc->pa);
		snprintf(b, sizeof(b), "127.0.0.1:%u", k ? fc->pa : fc->pb);
		ck_assert_int_eq(keylog_addr_parse(a, strlen(a), &e.src), 0);
		ck_assert_int_eq(keylog_addr_parse(b, strlen(b), &e.dst), 0);
		snprintf(name, sizeof(name), "%s/0", fc->call_id);
		ck_assert_int_gt(keylog_format_named(line, sizeof(line), &e,
						     fc->keys_unnamed ? NULL : name), 0);
		fputs(line, g->keys);
		explicit_bzero(&e, sizeof(e));
	}
}

static void fgen_media(struct fgen *g, const struct fcall *fc)
{
	for (unsigned i = 0; i < fc->pkts; i++) {
		for (int k = 0; k < 2; k++) {
			uint8_t p[256 + SRTP_MAX_TRAILER_LEN];
			uint32_t ssrc = k ? fc->ssrc_b : fc->ssrc_a;
			p[0] = 0x80;
			p[1] = 0;
			p[2] = (uint8_t)(g->seq[k] >> 8), p[3] = (uint8_t)g->seq[k];
			p[4] = (uint8_t)(g->ts[k] >> 24), p[5] = (uint8_t)(g->ts[k] >> 16);
			p[6] = (uint8_t)(g->ts[k] >> 8), p[7] = (uint8_t)g->ts[k];
			p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16);
			p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
			g->seq[k]++;
			g->ts[k] += 160;
			for (unsigned b = 0; b < 160; b++)
				p[12 + b] = gen_sample(i * 160 + b, k);
			int len = 172;
			if (!(k == 0 && fc->clear_a))
				ck_assert_int_eq(srtp_protect(g->tx[k], p, &len),
						 srtp_err_status_ok);
			pw_udp(&g->w, g->t + (unsigned)k * 300, k ? fc->pb : fc->pa,
			       k ? fc->pa : fc->pb, p, (size_t)len);
		}
		g->t += 20000;
	}
}

/* The handshake from message `from` on (the callee's Hello first). */
static void fgen_handshake(struct fgen *g, const struct fcall *fc, size_t from)
{
	static const struct { enum zrtp_msg_type t; int from; } hs[] = {
		{ ZRTP_MSG_HELLO, 1 }, { ZRTP_MSG_HELLO, 0 }, { ZRTP_MSG_HELLOACK, 1 },
		{ ZRTP_MSG_HELLOACK, 0 }, { ZRTP_MSG_COMMIT, 0 },
		{ ZRTP_MSG_DHPART1, 1 }, { ZRTP_MSG_DHPART2, 0 },
		{ ZRTP_MSG_CONFIRM1, 1 }, { ZRTP_MSG_CONFIRM2, 0 },
		{ ZRTP_MSG_CONF2ACK, 1 },
	};
	for (size_t i = from; i < sizeof(hs) / sizeof(hs[0]); i++) {
		uint8_t pkt[600];
		int n = zmsg(pkt, hs[i].t, hs[i].from, fc->seed, (uint16_t)i, NULL);
		pw_udp(&g->w, g->t, hs[i].from ? fc->pb : fc->pa,
		       hs[i].from ? fc->pa : fc->pb, pkt, (size_t)n);
		g->t += 2000;
	}
}

static void fgen_handshake_one(struct fgen *g, const struct fcall *fc)
{
	uint8_t pkt[600];
	int n = zmsg(pkt, ZRTP_MSG_HELLO, 1, fc->seed, 0, NULL);
	pw_udp(&g->w, g->t, fc->pb, fc->pa, pkt, (size_t)n);
	g->t += 2000;
}

/* One whole call (or its SDP only); the Hello hashes it announced are
 * left in g->hello_hex. */
static void fgen_call(struct fgen *g, const struct fcall *fc)
{
	uint8_t ha[32], hb[32], pkt[600];
	(void)zmsg(pkt, ZRTP_MSG_HELLO, 0, fc->seed, 0, ha);
	(void)zmsg(pkt, ZRTP_MSG_HELLO, 1, fc->seed, 0, hb);
	hexof(g->hello_hex[0], ha);
	hexof(g->hello_hex[1], hb);
	char hb_sdp[65];
	snprintf(hb_sdp, sizeof(hb_sdp), "%s", fc->hash_b ? fc->hash_b : g->hello_hex[1]);
	if (fc->bad_hash_b)
		hb_sdp[10] = hb_sdp[10] == '0' ? '1' : '0';
	fsip(g, 5060, 5062, "INVITE sip:b@127.0.0.1:5062 SIP/2.0", fc->call_id,
	     "1 INVITE", fc->pa, fc->hash_a ? fc->hash_a : g->hello_hex[0]);
	/* the callee's shim starts on the offer: its Hello precedes its
	 * answer, while the SDP in force for its own port is the last call's */
	bool zrtp = !fc->no_zrtp && !fc->sdp_only;
	if (zrtp)
		fgen_handshake_one(g, fc);
	fsip(g, 5062, 5060, "SIP/2.0 200 OK", fc->call_id, "1 INVITE", fc->pb, hb_sdp);
	if (fc->sdp_only)
		return;
	fgen_keys(g, fc);
	if (zrtp)
		fgen_handshake(g, fc, 1);
	fgen_media(g, fc);
	fsip(g, 5060, 5062, "BYE sip:b@127.0.0.1:5062 SIP/2.0", fc->call_id, "2 BYE", 0, "");
	fsip(g, 5062, 5060, "SIP/2.0 200 OK", fc->call_id, "2 BYE", 0, "");
}

static bool reason_has(const struct verify_report *r, const char *s)
{
	return strstr(r->reasons, s) != NULL;
}

/*
 * A re-INVITE moves B's media to pb + 2 (sipp -rtp_echo answering with
 * [media_port+2]; tests/e2e/verify_flows.sh makes the real one): the
 * same call, SSRCs and keys, no second handshake. The moved pair
 * continues the secured stream; the key log's records, which name the
 * old pair, authenticate it through their stream= name.
 */
static void gen_moved(const char *pcap, const char *keys, bool new_ssrc,
		      const char *moved_call_id, bool clear, bool unnamed)
{
	struct fgen g;
	fgen_open(&g, pcap, keys);
	struct fcall c1 = { .call_id = "moved-call", .pa = 12600, .pb = 12700,
			    .ssrc_a = 0xca110000u, .ssrc_b = 0xca110000u, .seed = 1,
			    .pkts = 50, .keys_unnamed = unnamed };
	uint8_t ha[32], hb[32], pkt[600];
	(void)zmsg(pkt, ZRTP_MSG_HELLO, 0, 1, 0, ha);
	(void)zmsg(pkt, ZRTP_MSG_HELLO, 1, 1, 0, hb);
	hexof(g.hello_hex[0], ha);
	hexof(g.hello_hex[1], hb);
	fsip(&g, 5060, 5062, "INVITE sip:b@127.0.0.1:5062 SIP/2.0", c1.call_id,
	     "1 INVITE", c1.pa, g.hello_hex[0]);
	fsip(&g, 5062, 5060, "SIP/2.0 200 OK", c1.call_id, "1 INVITE", c1.pb,
	     g.hello_hex[1]);
	fgen_keys(&g, &c1);
	fgen_handshake(&g, &c1, 0);
	fgen_media(&g, &c1);
	/* the re-INVITE: the same offer; the answer moves B */
	fsip(&g, 5060, 5062, "INVITE sip:b@127.0.0.1:5062 SIP/2.0", moved_call_id,
	     "2 INVITE", c1.pa, g.hello_hex[0]);
	fsip(&g, 5062, 5060, "SIP/2.0 200 OK", moved_call_id, "2 INVITE",
	     (uint16_t)(c1.pb + 2), g.hello_hex[1]);
	struct fcall c2 = c1;
	c2.pb = (uint16_t)(c1.pb + 2);
	c2.clear_a = clear;
	if (new_ssrc)
		c2.ssrc_a = 0x12345678u;
	fgen_media(&g, &c2);    /* the same SRTP contexts go on */
	fsip(&g, 5060, 5062, "BYE sip:b@127.0.0.1:5062 SIP/2.0", c1.call_id, "3 BYE", 0, "");
	fgen_close(&g);
}

START_TEST(reinvite_moved_media)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/moved.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/moved.keys", tmpdir);
	gen_moved(pcap, keys, false, "moved-call", false, false);

	struct verify_report *r = run(pcap, NULL, NULL);
	ck_assert_uint_eq(r->n_streams, 2);
	ck_assert(r->streams[0].hs_complete);
	const struct verify_stream *m = &r->streams[1];
	ck_assert(!m->hs_complete);
	ck_assert_uint_eq(m->continues, 1);
	ck_assert(m->secured);
	ck_assert_str_eq(m->call_id, "moved-call");
	ck_assert_uint_eq(totals_of(m).srtp, 100);
	ck_assert_msg(r->verdict == VERIFY_PASS, "%s", r->reasons);
	verify_report_free(r);

	/* with the key log: every moved packet authenticates (stream=) */
	r = run(pcap, keys, NULL);
	struct totals t = totals_of(&r->streams[1]);
	ck_assert_uint_eq(t.auth_ok, 100);
	ck_assert_uint_eq(t.auth_fail, 0);
	ck_assert_uint_eq(r->streams[1].dir[0].n.no_key + r->streams[1].dir[1].n.no_key, 0);
	ck_assert(r->streams[1].keylog_secured);
	ck_assert_msg(r->verdict == VERIFY_PASS, "%s", r->reasons);
	verify_report_free(r);

	/* records without stream= name only the old pair: no key */
	gen_moved(pcap, keys, false, "moved-call", false, true);
	r = run(pcap, keys, NULL);
	t = totals_of(&r->streams[1]);
	ck_assert_uint_eq(t.auth_ok, 0);
	ck_assert_uint_eq(r->streams[1].dir[0].n.no_key + r->streams[1].dir[1].n.no_key, 100);
	verify_report_free(r);

	/* another SSRC on the moved pair is not the same stream */
	gen_moved(pcap, keys, true, "moved-call", false, false);
	r = run(pcap, NULL, NULL);
	ck_assert_uint_eq(r->streams[1].continues, 0);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(reason_has(r, "stream 2: media without a completed ZRTP handshake"));
	verify_report_free(r);

	/* announced by another call: not this call's stream */
	gen_moved(pcap, keys, false, "other-call", false, false);
	r = run(pcap, NULL, NULL);
	ck_assert_uint_eq(r->streams[1].continues, 0);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	verify_report_free(r);

	/* the moved pair leaks: still caught */
	gen_moved(pcap, keys, false, "moved-call", true, false);
	r = run(pcap, NULL, NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert_msg(reason_has(r, "stream 2: 50 cleartext RTP"), "%s", r->reasons);
	verify_report_free(r);
}
END_TEST

/*
 * 20 calls one after the other on one port pair (sipp -m 20 -l 1, both
 * under the shim): each call its own handshake, its own Hellos and SSRC
 * (sipp: 0xCA110000 + call number), its own keys. Each is judged as its
 * own stream against its own SDP; one that leaks, or whose Hello does not
 * match its SDP, is still caught, and only that one.
 */
static void gen_reused(const char *pcap, const char *keys, unsigned bad_hash,
		       unsigned leak)
{
	struct fgen g;
	fgen_open(&g, pcap, keys);
	for (unsigned i = 1; i <= 20; i++) {
		char id[32];
		snprintf(id, sizeof(id), "reused-%u", i);
		struct fcall c = { .call_id = id, .pa = 12610, .pb = 12710,
				   .ssrc_a = 0xca110000u + i, .ssrc_b = 0xca110000u + i,
				   .seed = (uint8_t)(10 + i), .pkts = 10,
				   .bad_hash_b = i == bad_hash, .clear_a = i == leak };
		fgen_call(&g, &c);
		g.t += 200000;
	}
	fgen_close(&g);
}

START_TEST(reused_ports_calls)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/reused.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/reused.keys", tmpdir);
	gen_reused(pcap, keys, 0, 0);
	for (int kl = 0; kl < 2; kl++) {
		struct verify_report *r = run(pcap, kl ? keys : NULL, NULL);
		ck_assert_uint_eq(r->n_streams, 20);
		for (unsigned i = 0; i < 20; i++) {
			const struct verify_stream *s = &r->streams[i];
			char id[32];
			snprintf(id, sizeof(id), "reused-%u", i + 1);
			ck_assert_str_eq(s->call_id, id);
			ck_assert(s->hs_complete);
			ck_assert(s->later_epoch == (i > 0));
			ck_assert_int_eq(s->dir[0].hash_check, VERIFY_HASH_MATCH);
			ck_assert_int_eq(s->dir[1].hash_check, VERIFY_HASH_MATCH);
			ck_assert_uint_eq(s->dir[0].n_ssrc, 1);
			ck_assert_uint_eq(s->dir[0].ssrc[0], 0xca110001u + i);
			struct totals t = totals_of(s);
			ck_assert_uint_eq(t.srtp, 20);
			if (kl)
				ck_assert_uint_eq(t.auth_ok, 20);
		}
		ck_assert_msg(r->verdict == VERIFY_PASS, "%s", r->reasons);
		verify_report_free(r);
	}

	gen_reused(pcap, keys, 7, 0);
	struct verify_report *r = run(pcap, NULL, NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert_msg(strcmp(r->reasons, "stream 7: a Hello does not match its SDP "
				      "a=zrtp-hash") == 0, "%s", r->reasons);
	verify_report_free(r);

	gen_reused(pcap, keys, 0, 13);
	r = run(pcap, keys, NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert_msg(reason_has(r, "stream 13: 10 cleartext RTP") &&
		      !reason_has(r, "stream 12") && !reason_has(r, "stream 14"),
		      "%s", r->reasons);
	verify_report_free(r);
}
END_TEST

/*
 * Ten calls on one media address both ways (sipp -m 10 -l 10: one
 * socket per side for every call), as the shim handles them: the first
 * call's stream owns the socket, the later calls ride on it and announce
 * its Hello hash. One handshake, every SDP matching it: secured, no
 * alarm. A Hello that matches none of them is still the alarm.
 */
static void gen_shared(const char *pcap, const char *keys, bool wrong_hash)
{
	struct fgen g;
	fgen_open(&g, pcap, keys);
	struct fcall c1 = { .call_id = "shared-1", .pa = 12620, .pb = 12720,
			    .ssrc_a = 0xca110001u, .ssrc_b = 0xca110001u, .seed = 40,
			    .pkts = 20, .sdp_only = true };
	fgen_call(&g, &c1);
	char ha[65], hb[65];
	memcpy(ha, g.hello_hex[0], 65);
	memcpy(hb, g.hello_hex[1], 65);
	for (unsigned i = 2; i <= 10; i++) {
		char id[32];
		snprintf(id, sizeof(id), "shared-%u", i);
		struct fcall c = c1;
		c.call_id = id;
		c.hash_a = ha;
		c.hash_b = hb;
		c.bad_hash_b = wrong_hash && i == 10;
		fgen_call(&g, &c);
	}
	c1.sdp_only = false;
	fgen_keys(&g, &c1);
	fgen_handshake(&g, &c1, 0);
	fgen_media(&g, &c1);
	fgen_close(&g);
}

START_TEST(shared_media_address)
{
	char pcap[600], keys[600];
	snprintf(pcap, sizeof(pcap), "%s/shared.pcap", tmpdir);
	snprintf(keys, sizeof(keys), "%s/shared.keys", tmpdir);
	gen_shared(pcap, keys, false);
	struct verify_report *r = run(pcap, keys, NULL);
	ck_assert_uint_eq(r->calls, 10);
	ck_assert_uint_eq(r->n_streams, 1);
	const struct verify_stream *s = &r->streams[0];
	ck_assert(s->hs_complete);
	ck_assert_int_eq(s->dir[0].hash_check, VERIFY_HASH_MATCH);
	ck_assert_int_eq(s->dir[1].hash_check, VERIFY_HASH_MATCH);
	ck_assert_uint_eq(totals_of(s).auth_ok, 40);
	ck_assert_msg(r->verdict == VERIFY_PASS, "%s", r->reasons);
	verify_report_free(r);

	/* the SDP in force for B carries a hash no Hello has */
	gen_shared(pcap, keys, true);
	r = run(pcap, keys, NULL);
	ck_assert_int_eq(r->verdict, VERIFY_FAIL);
	ck_assert(reason_has(r, "a Hello does not match its SDP a=zrtp-hash"));
	verify_report_free(r);
}
END_TEST

Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *t = tcase_create("keylog");
	tcase_add_test(t, keylog_parse_good);
	tcase_add_test(t, keylog_bad_lines);
	tcase_add_test(t, keylog_garbage);
	tcase_add_test(t, keylog_matching);
	suite_add_tcase(s, t);

	t = tcase_create("keyless");
	tcase_add_test(t, g711_tables);
	tcase_add_test(t, payload_statistic);
	suite_add_tcase(s, t);

	t = tcase_create("real");
	tcase_add_checked_fixture(t, tmp_setup, tmp_teardown);
	tcase_add_test(t, real_sipp_clear);
	tcase_add_test(t, real_baresip_clear);
	tcase_add_test(t, real_linphone_zrtp);
	tcase_add_test(t, real_linphone_fileend);
	tcase_add_test(t, json_document);
	suite_add_tcase(s, t);

	t = tcase_create("broken");
	tcase_add_checked_fixture(t, tmp_setup, tmp_teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, truncated_everywhere);
	tcase_add_test(t, unusable_input);
	tcase_add_test(t, cut_and_bogus_records);
	suite_add_tcase(s, t);

	t = tcase_create("srtp");
	tcase_add_checked_fixture(t, tmp_setup, tmp_teardown);
	tcase_add_test(t, keylog_authenticates);
	tcase_add_test(t, keylog_flipped_bit);
	tcase_add_test(t, keylog_same_ssrc_and_clear);
	tcase_add_test(t, keyless_random_payloads);
	suite_add_tcase(s, t);

	t = tcase_create("flows");
	tcase_add_checked_fixture(t, tmp_setup, tmp_teardown);
	tcase_add_test(t, reinvite_moved_media);
	tcase_add_test(t, reused_ports_calls);
	tcase_add_test(t, shared_media_address);
	suite_add_tcase(s, t);
	return s;
}
