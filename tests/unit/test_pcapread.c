/*
 * The capture reader (tools/pcapread.c): every link type it claims, IPv4
 * with options and fragments, IPv6 with extension headers and fragments,
 * TCP reassembly (order, retransmission, gaps, no SYN), and broken input —
 * every truncation of a valid file, wrong magic, snaplen cuts, lying
 * length fields, empty/missing/directory paths.
 *
 * Captures are written here, per test, into a fresh temporary directory:
 * libpcap's own dumper for pcap, hand-laid bytes for pcapng.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "tools/pcapread.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* ---- temporary directory ------------------------------------------------ */

static char tmpdir[64];

static void dir_setup(void)
{
	strcpy(tmpdir, "/tmp/zs-pcap-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void dir_teardown(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static const char *tpath(const char *name)
{
	static char p[2][128];
	static int k;
	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static uint8_t *read_whole(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long sz = ftell(f);
	ck_assert_int_ge(sz, 0);
	rewind(f);
	uint8_t *b = malloc((size_t)sz + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

/* ---- packet builders ---------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t udp(uint8_t *b, unsigned sp, unsigned dp, const void *pl, size_t n)
{
	put16(b, sp);
	put16(b + 2, dp);
	put16(b + 4, (unsigned)(8 + n));
	put16(b + 6, 0);
	memcpy(b + 8, pl, n);
	return 8 + n;
}

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

static size_t tcp(uint8_t *b, unsigned sp, unsigned dp, uint32_t seq,
		  uint32_t ack, uint8_t flags, const void *pl, size_t n)
{
	memset(b, 0, 20);
	put16(b, sp);
	put16(b + 2, dp);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	if (n)
		memcpy(b + 20, pl, n);
	return 20 + n;
}

static void addr4(uint8_t *p, const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, p), 1);
}

static void addr6(uint8_t *p, const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, p), 1);
}

/* IPv4 header (with opt_len bytes of options) + l4. frag: flags|offset/8. */
static size_t ipv4(uint8_t *b, const char *src, const char *dst, uint8_t proto,
		   uint16_t id, uint16_t frag, size_t opt_len, const void *l4,
		   size_t n)
{
	size_t hl = 20 + opt_len;
	b[0] = (uint8_t)(0x40 | hl / 4);
	b[1] = 0;
	put16(b + 2, (unsigned)(hl + n));
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	put16(b + 10, 0);
	addr4(b + 12, src);
	addr4(b + 16, dst);
	memset(b + 20, 1, opt_len);       /* NOPs */
	memcpy(b + hl, l4, n);
	return hl + n;
}

/* IPv6 header, then ext (already chained, its first type is nh), then l4. */
static size_t ipv6(uint8_t *b, const char *src, const char *dst, uint8_t nh,
		   const void *ext, size_t ext_len, const void *l4, size_t n)
{
	memset(b, 0, 8);
	b[0] = 0x60;
	put16(b + 4, (unsigned)(ext_len + n));
	b[6] = nh;
	b[7] = 64;
	addr6(b + 8, src);
	addr6(b + 24, dst);
	if (ext_len)
		memcpy(b + 40, ext, ext_len);
	memcpy(b + 40 + ext_len, l4, n);
	return 40 + ext_len + n;
}

/* Ethernet with ntags VLAN tags (TPIDs given), padded to 60 bytes. */
static size_t eth(uint8_t *b, const uint16_t *tpid, int ntags, uint16_t type,
		  const void *pl, size_t n)
{
	memset(b, 0xaa, 6);
	memset(b + 6, 0xbb, 6);
	size_t off = 12;
	for (int i = 0; i < ntags; i++) {
		put16(b + off, tpid[i]);
		put16(b + off + 2, (unsigned)(100 + i));
		off += 4;
	}
	put16(b + off, type);
	off += 2;
	memcpy(b + off, pl, n);
	off += n;
	if (off < 60) {
		memset(b + off, 0, 60 - off);
		off = 60;
	}
	return off;
}

static size_t eth4(uint8_t *b, const void *ip, size_t n)
{
	return eth(b, NULL, 0, 0x0800, ip, n);
}

/* A whole Ethernet/IPv4/UDP frame. */
static size_t eth_udp4(uint8_t *b, const char *src, unsigned sp,
		       const char *dst, unsigned dp, const void *pl, size_t n)
{
	uint8_t l4[2048], ip[2100];
	size_t l = udp(l4, sp, dp, pl, n);
	l = ipv4(ip, src, dst, 17, 1, 0, 0, l4, l);
	return eth4(b, ip, l);
}

static size_t eth_tcp4(uint8_t *b, const char *src, unsigned sp,
		       const char *dst, unsigned dp, uint32_t seq, uint32_t ack,
		       uint8_t flags, const void *pl, size_t n)
{
	uint8_t l4[2048], ip[2100];
	size_t l = tcp(l4, sp, dp, seq, ack, flags, pl, n);
	l = ipv4(ip, src, dst, 6, 1, 0x4000, 0, l4, l);
	return eth4(b, ip, l);
}

/* ---- capture writer ------------------------------------------------------ */

struct cap {
	pcap_t *pd;
	pcap_dumper_t *dp;
	uint64_t usec;
};

static void cap_open(struct cap *c, const char *path, int dlt)
{
	c->pd = pcap_open_dead(dlt, 262144);
	ck_assert_ptr_nonnull(c->pd);
	c->dp = pcap_dump_open(c->pd, path);
	ck_assert_msg(c->dp != NULL, "%s", pcap_geterr(c->pd));
	c->usec = 1700000000ull * 1000000ull;
}

static void cap_add_cut(struct cap *c, const void *f, size_t caplen, size_t len)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(c->usec / 1000000);
	h.ts.tv_usec = (suseconds_t)(c->usec % 1000000);
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)c->dp, &h, f);
	c->usec += 20000;
}

static void cap_add(struct cap *c, const void *f, size_t len)
{
	cap_add_cut(c, f, len, len);
}

static void cap_close(struct cap *c)
{
	pcap_dump_close(c->dp);
	pcap_close(c->pd);
}

/* ---- reading everything back ------------------------------------------- */

#define GOT_MAX 6000

struct item {
	enum pr_proto proto;
	struct pr_addr src, dst;
	uint64_t index, ts;
	size_t len;
	bool resync;
	uint8_t data[256];      /* the first bytes; len says how many there were */
};

struct got {
	int rc;                 /* pr_next's last return */
	int n;
	struct pr_stats st;
	int dlt;
	struct item it[GOT_MAX];
};

static struct got *got_new(void)
{
	struct got *g = calloc(1, sizeof(*g));
	ck_assert_ptr_nonnull(g);
	return g;
}

/* Read a capture to the end; returns pr_open's result. */
static int read_all(const char *path, struct got *g)
{
	struct pr_reader *r;
	char why[256];
	struct pr_datagram d;
	int rc = pr_open(path, &r, why, sizeof(why));
	if (rc < 0)
		return rc;
	g->dlt = pr_linktype(r);
	g->n = 0;
	while ((rc = pr_next(r, &d)) == 1) {
		if (g->n < GOT_MAX) {
			struct item *it = &g->it[g->n];
			it->proto = d.proto;
			it->src = d.src;
			it->dst = d.dst;
			it->index = d.index;
			it->ts = d.ts_usec;
			it->len = d.len;
			it->resync = d.resync;
			memcpy(it->data, d.data, d.len < 256 ? d.len : 256);
		}
		g->n++;
	}
	g->rc = rc;
	/* The end is sticky. */
	ck_assert_int_eq(pr_next(r, &d), rc);
	g->st = *pr_stats(r);
	pr_close(r);
	return 0;
}

static void read_ok(const char *path, struct got *g)
{
	int rc = read_all(path, g);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(g->rc, 0);
	ck_assert(!g->st.file_truncated);
}

/* The TCP bytes delivered from source port sp, in delivery order. */
static size_t stream(const struct got *g, unsigned sp, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < g->n && i < GOT_MAX; i++) {
		const struct item *it = &g->it[i];
		if (it->proto != PR_TCP || it->src.port != sp)
			continue;
		ck_assert_uint_le(it->len, 256);
		ck_assert_uint_le(n + it->len, cap);
		memcpy(out + n, it->data, it->len);
		n += it->len;
	}
	return n;
}

static void assert_udp(const struct item *it, int family, const char *src,
		       unsigned sp, const char *dst, unsigned dp,
		       const void *pl, size_t n)
{
	uint8_t a[16] = { 0 };
	ck_assert_int_eq(it->proto, PR_UDP);
	ck_assert_int_eq(it->src.family, family);
	ck_assert_int_eq(it->dst.family, family);
	if (family == 4)
		addr4(a, src);
	else
		addr6(a, src);
	ck_assert_mem_eq(it->src.ip, a, 16);
	memset(a, 0, sizeof(a));
	if (family == 4)
		addr4(a, dst);
	else
		addr6(a, dst);
	ck_assert_mem_eq(it->dst.ip, a, 16);
	ck_assert_uint_eq(it->src.port, sp);
	ck_assert_uint_eq(it->dst.port, dp);
	ck_assert_uint_eq(it->len, n);
	ck_assert_mem_eq(it->data, pl, n);
	ck_assert(!it->resync);
}

static const char RTP[] = "\x80\x00\x00\x01rtp-payload-bytes";
#define RTP_LEN (sizeof(RTP) - 1)

/* ---- link types ----------------------------------------------------------- */

START_TEST(test_ethernet_udp4)
{
	uint8_t f[2048];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("eth.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t n = eth_udp4(f, "10.0.0.1", 4000, "10.0.0.2", 5000, "hi", 2);
	ck_assert_uint_eq(n, 60);   /* padded: the payload must not grow */
	cap_add(&c, f, n);
	n = eth_udp4(f, "10.0.0.2", 5000, "10.0.0.1", 4000, RTP, RTP_LEN);
	cap_add(&c, f, n);
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->dlt, DLT_EN10MB);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "10.0.0.1", 4000, "10.0.0.2", 5000, "hi", 2);
	assert_udp(&g->it[1], 4, "10.0.0.2", 5000, "10.0.0.1", 4000, RTP, RTP_LEN);
	ck_assert_uint_eq(g->it[0].index, 1);
	ck_assert_uint_eq(g->it[1].index, 2);
	ck_assert_uint_eq(g->it[0].ts, 1700000000ull * 1000000ull);
	ck_assert_uint_eq(g->it[1].ts, 1700000000ull * 1000000ull + 20000);
	ck_assert_uint_eq(g->st.frames, 2);
	ck_assert_uint_eq(g->st.udp, 2);
	ck_assert_uint_eq(g->st.not_ip + g->st.truncated + g->st.bad_header, 0);
	free(g);
}
END_TEST

START_TEST(test_ethernet_vlan)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("vlan.pcap");
	const uint16_t q[] = { 0x8100 };
	const uint16_t qinq[] = { 0x88a8, 0x8100 };
	const uint16_t five[] = { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 };

	cap_open(&c, p, DLT_EN10MB);
	size_t l = udp(l4, 1111, 2222, RTP, RTP_LEN);
	size_t il = ipv4(ip, "192.0.2.1", "192.0.2.2", 17, 7, 0, 0, l4, l);
	cap_add(&c, f, eth(f, q, 1, 0x0800, ip, il));
	il = ipv6(ip, "2001:db8::1", "2001:db8::2", 17, NULL, 0, l4, l);
	cap_add(&c, f, eth(f, qinq, 2, 0x86dd, ip, il));
	il = ipv4(ip, "192.0.2.1", "192.0.2.2", 17, 7, 0, 0, l4, l);
	cap_add(&c, f, eth(f, five, 5, 0x0800, ip, il));   /* too deep */
	cap_add(&c, f, eth(f, NULL, 0, 0x0806, "arp", 3));
	cap_add(&c, f, eth(f, q, 1, 0x0806, "arp", 3));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "192.0.2.1", 1111, "192.0.2.2", 2222, RTP, RTP_LEN);
	assert_udp(&g->it[1], 6, "2001:db8::1", 1111, "2001:db8::2", 2222, RTP,
		   RTP_LEN);
	ck_assert_uint_eq(g->st.not_ip, 3);
	ck_assert_uint_eq(g->st.frames, 5);
	free(g);
}
END_TEST

START_TEST(test_linux_sll)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("sll.pcap");

	cap_open(&c, p, DLT_LINUX_SLL);
	size_t l = udp(l4, 5060, 5062, "SIP/2.0", 7);
	size_t il = ipv4(ip, "127.0.0.1", "127.0.0.2", 17, 1, 0, 0, l4, l);
	memset(f, 0, 16);
	put16(f, 4);            /* sent by us */
	put16(f + 2, 772);      /* ARPHRD_LOOPBACK */
	put16(f + 4, 6);
	put16(f + 14, 0x0800);
	memcpy(f + 16, ip, il);
	cap_add(&c, f, 16 + il);
	il = ipv6(ip, "::1", "::1", 17, NULL, 0, l4, l);
	put16(f + 14, 0x86dd);
	memcpy(f + 16, ip, il);
	cap_add(&c, f, 16 + il);
	put16(f + 14, 0x0806);
	cap_add(&c, f, 16 + 28);
	cap_add(&c, f, 10);     /* shorter than the header, not cut */
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->dlt, DLT_LINUX_SLL);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "127.0.0.1", 5060, "127.0.0.2", 5062, "SIP/2.0", 7);
	assert_udp(&g->it[1], 6, "::1", 5060, "::1", 5062, "SIP/2.0", 7);
	ck_assert_uint_eq(g->st.not_ip, 1);
	ck_assert_uint_eq(g->st.bad_header, 1);
	free(g);
}
END_TEST

START_TEST(test_linux_sll2)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("sll2.pcap");

	cap_open(&c, p, DLT_LINUX_SLL2);
	size_t l = udp(l4, 40000, 40002, RTP, RTP_LEN);
	size_t il = ipv4(ip, "10.1.1.1", "10.1.1.2", 17, 1, 0, 0, l4, l);
	memset(f, 0, 20);
	put16(f, 0x0800);
	put32(f + 4, 2);        /* ifindex */
	put16(f + 8, 1);        /* ARPHRD_ETHER */
	f[11] = 6;
	memcpy(f + 20, ip, il);
	cap_add(&c, f, 20 + il);
	il = ipv6(ip, "fe80::1", "fe80::2", 17, NULL, 0, l4, l);
	put16(f, 0x86dd);
	memcpy(f + 20, ip, il);
	cap_add(&c, f, 20 + il);
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->dlt, DLT_LINUX_SLL2);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "10.1.1.1", 40000, "10.1.1.2", 40002, RTP, RTP_LEN);
	assert_udp(&g->it[1], 6, "fe80::1", 40000, "fe80::2", 40002, RTP, RTP_LEN);
	free(g);
}
END_TEST

/* The 4-byte address family header, in either byte order. */
static size_t null_frame(uint8_t *f, uint32_t af, bool big_endian,
			 const uint8_t *ip, size_t il)
{
	if (big_endian) {
		put32(f, af);
	} else {
		f[0] = (uint8_t)af;
		f[1] = (uint8_t)(af >> 8);
		f[2] = (uint8_t)(af >> 16);
		f[3] = (uint8_t)(af >> 24);
	}
	memcpy(f + 4, ip, il);
	return 4 + il;
}

static void loopback_case(int dlt)
{
	uint8_t f[2048], l4[256], ip4[512], ip6[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("null.pcap");

	cap_open(&c, p, dlt);
	size_t l = udp(l4, 7078, 7080, RTP, RTP_LEN);
	size_t l4n = ipv4(ip4, "127.0.0.1", "127.0.0.1", 17, 1, 0, 0, l4, l);
	size_t l6n = ipv6(ip6, "::1", "::1", 17, NULL, 0, l4, l);
	cap_add(&c, f, null_frame(f, 2, false, ip4, l4n));
	cap_add(&c, f, null_frame(f, 2, true, ip4, l4n));
	cap_add(&c, f, null_frame(f, 24, false, ip6, l6n));  /* NetBSD/OpenBSD */
	cap_add(&c, f, null_frame(f, 28, true, ip6, l6n));   /* FreeBSD */
	cap_add(&c, f, null_frame(f, 30, false, ip6, l6n));  /* macOS */
	cap_add(&c, f, null_frame(f, 7, false, ip4, l4n));   /* not IP */
	cap_add(&c, f, null_frame(f, 0x1000000, true, ip4, l4n));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->dlt, dlt);
	ck_assert_int_eq(g->n, 5);
	for (int i = 0; i < 2; i++)
		assert_udp(&g->it[i], 4, "127.0.0.1", 7078, "127.0.0.1", 7080,
			   RTP, RTP_LEN);
	for (int i = 2; i < 5; i++)
		assert_udp(&g->it[i], 6, "::1", 7078, "::1", 7080, RTP, RTP_LEN);
	ck_assert_uint_eq(g->st.not_ip, 2);
	free(g);
}

START_TEST(test_null)
{
	loopback_case(DLT_NULL);
}
END_TEST

START_TEST(test_loop)
{
	loopback_case(DLT_LOOP);
}
END_TEST

START_TEST(test_raw_ip)
{
	static const int dlts[] = { DLT_RAW, DLT_IPV4, DLT_IPV6 };
	uint8_t l4[256], ip4[512], ip6[512];
	struct got *g = got_new();

	size_t l = udp(l4, 1000, 2000, RTP, RTP_LEN);
	size_t l4n = ipv4(ip4, "10.9.9.9", "10.8.8.8", 17, 1, 0, 0, l4, l);
	size_t l6n = ipv6(ip6, "2001:db8::9", "2001:db8::8", 17, NULL, 0, l4, l);
	for (size_t k = 0; k < 3; k++) {
		struct cap c;
		const char *p = tpath("raw.pcap");
		cap_open(&c, p, dlts[k]);
		cap_add(&c, ip4, l4n);
		cap_add(&c, ip6, l6n);
		uint8_t junk[40] = { 0x50 };
		cap_add(&c, junk, sizeof(junk));
		cap_close(&c);

		read_ok(p, g);
		ck_assert_int_eq(g->dlt, dlts[k]);
		if (dlts[k] == DLT_RAW) {
			ck_assert_int_eq(g->n, 2);
			assert_udp(&g->it[0], 4, "10.9.9.9", 1000, "10.8.8.8",
				   2000, RTP, RTP_LEN);
			assert_udp(&g->it[1], 6, "2001:db8::9", 1000,
				   "2001:db8::8", 2000, RTP, RTP_LEN);
			ck_assert_uint_eq(g->st.not_ip, 1);
		} else {
			/* The link type says which IP: the other one and
			 * the junk have the wrong version. */
			ck_assert_int_eq(g->n, 1);
			ck_assert_int_eq(g->it[0].src.family,
					 dlts[k] == DLT_IPV4 ? 4 : 6);
			ck_assert_uint_eq(g->st.bad_header, 2);
		}
	}
	free(g);
}
END_TEST

START_TEST(test_unsupported_linktype)
{
	struct cap c;
	struct pr_reader *r = NULL;
	char why[256];
	char want[256];
	const char *p = tpath("wifi.pcap");
	uint8_t f[64] = { 0 };

	cap_open(&c, p, DLT_IEEE802_11);
	cap_add(&c, f, sizeof(f));
	cap_close(&c);
	ck_assert_int_eq(pr_open(p, &r, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof(want), "%s: unsupported link type 105 (IEEE802_11)", p);
	ck_assert_str_eq(why, want);
}
END_TEST

/* A little-endian pcapng file: SHB, IDB (Ethernet), one EPB per frame. */
static size_t pcapng_le(uint8_t *out, const uint8_t *const *frames,
			const size_t *lens, int n)
{
	static const uint8_t shb[28] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		28, 0, 0, 0,
	};
	static const uint8_t idb[20] = {
		1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0,
	};
	size_t o = 0;
	memcpy(out, shb, sizeof(shb));
	o += sizeof(shb);
	memcpy(out + o, idb, sizeof(idb));
	o += sizeof(idb);
	for (int i = 0; i < n; i++) {
		size_t pad = (4 - lens[i] % 4) % 4;
		uint32_t bl = (uint32_t)(32 + lens[i] + pad);
		uint32_t w[7] = { 6, bl, 0, 0x0005f0a1, (uint32_t)(1000 * i),
				  (uint32_t)lens[i], (uint32_t)lens[i] };
		memcpy(out + o, w, sizeof(w));   /* host = little endian here */
		o += sizeof(w);
		memcpy(out + o, frames[i], lens[i]);
		memset(out + o + lens[i], 0, pad);
		o += lens[i] + pad;
		memcpy(out + o, &bl, 4);
		o += 4;
	}
	return o;
}

START_TEST(test_pcapng)
{
	uint8_t f1[256], f2[256], file[1024];
	struct got *g = got_new();
	const char *p = tpath("a.pcapng");
	uint16_t one = 1;
	uint8_t le;
	memcpy(&le, &one, 1);
	if (!le) {  /* the hand-laid words assume a little-endian host */
		free(g);
		return;
	}

	size_t n1 = eth_udp4(f1, "10.0.0.1", 4000, "10.0.0.2", 5000, RTP, RTP_LEN);
	size_t n2 = eth_udp4(f2, "10.0.0.2", 5000, "10.0.0.1", 4000, "x", 1);
	const uint8_t *fr[] = { f1, f2 };
	size_t ln[] = { n1, n2 };
	size_t n = pcapng_le(file, fr, ln, 2);
	write_file(p, file, n);

	read_ok(p, g);
	ck_assert_int_eq(g->dlt, DLT_EN10MB);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "10.0.0.1", 4000, "10.0.0.2", 5000, RTP, RTP_LEN);
	assert_udp(&g->it[1], 4, "10.0.0.2", 5000, "10.0.0.1", 4000, "x", 1);
	free(g);
}
END_TEST

START_TEST(test_not_udp_tcp)
{
	uint8_t f[2048], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("icmp.pcap");
	const uint8_t icmp[8] = { 8, 0 };

	cap_open(&c, p, DLT_EN10MB);
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 1, 1, 0, 0, icmp, 8);
	cap_add(&c, f, eth4(f, ip, il));
	il = ipv6(ip, "::1", "::2", 58, NULL, 0, icmp, 8);
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 0);
	ck_assert_uint_eq(g->st.not_udp_tcp, 2);
	free(g);
}
END_TEST

/* ---- IPv4 ---------------------------------------------------------------- */

START_TEST(test_ipv4_options)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("opts.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t l = udp(l4, 9, 10, RTP, RTP_LEN);
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 12, l4, l);
	cap_add(&c, f, eth4(f, ip, il));
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 40, l4, l);   /* IHL 15 */
	cap_add(&c, f, eth4(f, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "10.0.0.1", 9, "10.0.0.2", 10, RTP, RTP_LEN);
	assert_udp(&g->it[1], 4, "10.0.0.1", 9, "10.0.0.2", 10, RTP, RTP_LEN);
	free(g);
}
END_TEST

/* The UDP datagram the fragment tests cut up: 8 + 100 bytes. */
static uint8_t frag_dgram[108];
static uint8_t frag_payload[100];

static void frag_init(void)
{
	for (size_t i = 0; i < sizeof(frag_payload); i++)
		frag_payload[i] = (uint8_t)(i * 7 + 3);
	udp(frag_dgram, 6000, 6002, frag_payload, sizeof(frag_payload));
}

/* Ethernet frame with bytes [off, off+n) of frag_dgram, id, MF. */
static size_t frag4(uint8_t *f, uint16_t id, size_t off, size_t n, bool mf)
{
	uint8_t ip[256];
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, id,
			 (uint16_t)((mf ? 0x2000 : 0) | off / 8), 0,
			 frag_dgram + off, n);
	return eth4(f, ip, il);
}

static void frag_expect_one(const struct got *g, uint64_t index)
{
	ck_assert_int_eq(g->n, 1);
	assert_udp(&g->it[0], 4, "10.0.0.1", 6000, "10.0.0.2", 6002,
		   frag_payload, sizeof(frag_payload));
	ck_assert_uint_eq(g->it[0].index, index);
}

/* pieces: {off, len, mf} in capture order */
static void frag_run(const size_t (*pc)[3], int n, struct got *g)
{
	uint8_t f[512];
	struct cap c;
	const char *p = tpath("frag.pcap");
	frag_init();
	cap_open(&c, p, DLT_EN10MB);
	for (int i = 0; i < n; i++)
		cap_add(&c, f, frag4(f, 77, pc[i][0], pc[i][1], pc[i][2]));
	cap_close(&c);
	read_ok(p, g);
}

START_TEST(test_frag_in_order)
{
	static const size_t pc[][3] = { { 0, 48, 1 }, { 48, 48, 1 }, { 96, 12, 0 } };
	struct got *g = got_new();
	frag_run(pc, 3, g);
	frag_expect_one(g, 3);
	ck_assert_uint_eq(g->st.frag_incomplete, 0);
	ck_assert_uint_eq(g->st.udp, 1);
	ck_assert_uint_eq(g->st.frames, 3);
	free(g);
}
END_TEST

START_TEST(test_frag_out_of_order)
{
	static const size_t pc[][3] = { { 96, 12, 0 }, { 48, 48, 1 }, { 0, 48, 1 } };
	struct got *g = got_new();
	frag_run(pc, 3, g);
	frag_expect_one(g, 3);
	ck_assert_uint_eq(g->st.frag_incomplete, 0);
	free(g);
}
END_TEST

START_TEST(test_frag_duplicate)
{
	static const size_t pc[][3] = {
		{ 0, 48, 1 }, { 0, 48, 1 }, { 48, 48, 1 }, { 48, 48, 1 },
		{ 96, 12, 0 },
		{ 96, 12, 0 },  /* after completion: a new datagram, never done */
	};
	struct got *g = got_new();
	frag_run(pc, 6, g);
	frag_expect_one(g, 5);
	ck_assert_uint_eq(g->st.frag_incomplete, 1);
	free(g);
}
END_TEST

START_TEST(test_frag_overlap)
{
	static const size_t pc[][3] = {
		{ 0, 64, 1 }, { 32, 64, 1 }, { 8, 16, 1 }, { 88, 20, 0 },
	};
	struct got *g = got_new();
	frag_run(pc, 4, g);
	frag_expect_one(g, 4);
	ck_assert_uint_eq(g->st.frag_incomplete, 0);
	free(g);
}
END_TEST

START_TEST(test_frag_missing_last)
{
	static const size_t pc[][3] = { { 0, 48, 1 }, { 48, 48, 1 } };
	struct got *g = got_new();
	frag_run(pc, 2, g);
	ck_assert_int_eq(g->n, 0);
	ck_assert_uint_eq(g->st.frag_incomplete, 1);
	ck_assert_uint_eq(g->st.udp, 0);
	free(g);
}
END_TEST

START_TEST(test_frag_missing_middle)
{
	static const size_t pc[][3] = { { 0, 48, 1 }, { 96, 12, 0 } };
	struct got *g = got_new();
	frag_run(pc, 2, g);
	ck_assert_int_eq(g->n, 0);
	ck_assert_uint_eq(g->st.frag_incomplete, 1);
	free(g);
}
END_TEST

START_TEST(test_frag_bogus)
{
	uint8_t f[512], ip[256], big[64] = { 0 };
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("fragbad.pcap");
	frag_init();

	cap_open(&c, p, DLT_EN10MB);
	/* A middle fragment whose length is not a multiple of 8. */
	cap_add(&c, f, frag4(f, 1, 0, 50, true));
	/* Offset + length beyond 64 KiB (the teardrop family). */
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 2, 8190, 0, big, 64);
	cap_add(&c, f, eth4(f, ip, il));
	/* Two different ends for one datagram. */
	cap_add(&c, f, frag4(f, 3, 96, 12, false));
	cap_add(&c, f, frag4(f, 3, 48, 8, false));
	/* Data beyond an end already known. */
	cap_add(&c, f, frag4(f, 4, 48, 8, false));
	cap_add(&c, f, frag4(f, 4, 48, 48, true));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 0);
	ck_assert_uint_eq(g->st.bad_header, 4);
	ck_assert_uint_eq(g->st.frag_incomplete, 0);
	free(g);
}
END_TEST

START_TEST(test_frag_table_bounded)
{
	uint8_t f[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("fragmany.pcap");
	frag_init();

	cap_open(&c, p, DLT_EN10MB);
	for (uint16_t id = 1; id <= 40; id++)
		cap_add(&c, f, frag4(f, id, 0, 48, true));
	/* The newest ones are still there and complete. */
	cap_add(&c, f, frag4(f, 40, 48, 48, true));
	cap_add(&c, f, frag4(f, 40, 96, 12, false));
	cap_close(&c);

	read_ok(p, g);
	frag_expect_one(g, 42);
	ck_assert_uint_eq(g->st.frag_incomplete, 39);
	free(g);
}
END_TEST

START_TEST(test_frag_tcp)
{
	uint8_t f[512], seg[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("fragtcp.pcap");
	uint8_t pl[64], out[256];
	memset(pl, 'T', sizeof(pl));

	cap_open(&c, p, DLT_EN10MB);
	size_t sl = tcp(seg, 5060, 5060, 100, 0, ACK | PSH, pl, sizeof(pl));
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 6, 9, 0x2000, 0, seg, 40);
	cap_add(&c, f, eth4(f, ip, il));
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 6, 9, 5, 0, seg + 40, sl - 40);
	cap_add(&c, f, eth4(f, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 1);
	ck_assert_uint_eq(stream(g, 5060, out, sizeof(out)), sizeof(pl));
	ck_assert_mem_eq(out, pl, sizeof(pl));
	free(g);
}
END_TEST

/* ---- IPv6 ---------------------------------------------------------------- */

START_TEST(test_ipv6_extension_headers)
{
	uint8_t f[2048], l4[256], ip[512], ext[64];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("v6ext.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t l = udp(l4, 3478, 3479, RTP, RTP_LEN);
	memset(ext, 0, sizeof(ext));
	ext[0] = 43;            /* hop-by-hop → routing */
	ext[1] = 0;             /* 8 bytes */
	ext[8] = 60;            /* routing → destination options */
	ext[9] = 1;             /* 16 bytes */
	ext[24] = 17;           /* destination options → UDP */
	ext[25] = 0;
	size_t il = ipv6(ip, "2001:db8::a", "2001:db8::b", 0, ext, 32, l4, l);
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));

	/* An extension header that claims more than the payload holds. */
	ext[25] = 200;
	il = ipv6(ip, "2001:db8::a", "2001:db8::b", 0, ext, 32, l4, l);
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));

	/* A chain longer than any real packet's: 12 destination options. */
	uint8_t longext[96];
	memset(longext, 0, sizeof(longext));
	for (int i = 0; i < 12; i++)
		longext[i * 8] = i == 11 ? 17 : 60;
	il = ipv6(ip, "2001:db8::a", "2001:db8::b", 60, longext, 96, l4, l);
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 1);
	assert_udp(&g->it[0], 6, "2001:db8::a", 3478, "2001:db8::b", 3479, RTP,
		   RTP_LEN);
	ck_assert_uint_eq(g->st.bad_header, 2);
	free(g);
}
END_TEST

static size_t frag6(uint8_t *f, uint32_t id, size_t off, size_t n, bool mf)
{
	uint8_t ip[512], fh[8];
	fh[0] = 17;
	fh[1] = 0;
	put16(fh + 2, (unsigned)(off | (mf ? 1 : 0)));
	put32(fh + 4, id);
	size_t il = ipv6(ip, "2001:db8::1", "2001:db8::2", 44, fh, 8,
			 frag_dgram + off, n);
	return eth(f, NULL, 0, 0x86dd, ip, il);
}

START_TEST(test_ipv6_fragments)
{
	uint8_t f[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("v6frag.pcap");
	frag_init();

	cap_open(&c, p, DLT_EN10MB);
	cap_add(&c, f, frag6(f, 0x01020304, 56, 52, false));
	cap_add(&c, f, frag6(f, 0x01020304, 0, 56, true));
	cap_add(&c, f, frag6(f, 0x99, 0, 56, true));   /* never completed */
	cap_add(&c, f, frag6(f, 0x77, 0, 108, false)); /* atomic fragment */
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 2);
	for (int i = 0; i < 2; i++)
		assert_udp(&g->it[i], 6, "2001:db8::1", 6000, "2001:db8::2", 6002,
			   frag_payload, sizeof(frag_payload));
	ck_assert_uint_eq(g->it[0].index, 2);
	ck_assert_uint_eq(g->st.frag_incomplete, 1);
	free(g);
}
END_TEST

/* ---- lying lengths and cut frames ------------------------------------------ */

START_TEST(test_udp_bogus_length)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("udplen.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t l = udp(l4, 1, 2, RTP, RTP_LEN);
	put16(l4 + 4, 200);     /* more than the IP payload */
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 0, l4, l);
	cap_add(&c, f, eth4(f, ip, il));
	put16(l4 + 4, 4);       /* less than its own header */
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 0, l4, l);
	cap_add(&c, f, eth4(f, ip, il));
	put16(l4 + 4, 8 + 4);   /* shorter than the IP payload: use it */
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 0, l4, l);
	cap_add(&c, f, eth4(f, ip, il));
	/* An IP payload too short for a UDP header. */
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 0, l4, 6);
	cap_add(&c, f, eth4(f, ip, il));
	/* ... and for a TCP header, and a TCP data offset past the end. */
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 6, 1, 0, 0, l4, 12);
	cap_add(&c, f, eth4(f, ip, il));
	tcp(l4, 1, 2, 0, 0, ACK, NULL, 0);
	l4[12] = 15 << 4;
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 6, 1, 0, 0, l4, 40);
	cap_add(&c, f, eth4(f, ip, il));
	l4[12] = 4 << 4;
	il = ipv4(ip, "10.0.0.1", "10.0.0.2", 6, 1, 0, 0, l4, 40);
	cap_add(&c, f, eth4(f, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 1);
	assert_udp(&g->it[0], 4, "10.0.0.1", 1, "10.0.0.2", 2, RTP, 4);
	ck_assert_uint_eq(g->st.bad_header, 6);
	ck_assert_uint_eq(g->st.truncated, 0);
	ck_assert_uint_eq(g->st.tcp_segments, 0);
	free(g);
}
END_TEST

START_TEST(test_ip_bogus_length)
{
	uint8_t f[2048], l4[256], ip[512];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("iplen.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t l = udp(l4, 1, 2, RTP, RTP_LEN);
	size_t il = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 1, 0, 0, l4, l);
	put16(ip + 2, 1000);    /* total length beyond the frame */
	cap_add(&c, f, eth4(f, ip, il));
	put16(ip + 2, 12);      /* total length below the header */
	cap_add(&c, f, eth4(f, ip, il));
	put16(ip + 2, (unsigned)il);
	ip[0] = 0x43;           /* IHL 3 */
	cap_add(&c, f, eth4(f, ip, il));
	ip[0] = 0x6f;           /* version 6 under ethertype IPv4 */
	cap_add(&c, f, eth4(f, ip, il));
	il = ipv6(ip, "::1", "::2", 17, NULL, 0, l4, l);
	put16(ip + 4, 900);     /* payload length beyond the frame */
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));
	put16(ip + 4, 0);       /* jumbogram */
	cap_add(&c, f, eth(f, NULL, 0, 0x86dd, ip, il));
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 0);
	ck_assert_uint_eq(g->st.bad_header, 6);
	ck_assert_uint_eq(g->st.truncated, 0);
	free(g);
}
END_TEST

START_TEST(test_snaplen_cut)
{
	uint8_t f[2048];
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("snap.pcap");

	cap_open(&c, p, DLT_EN10MB);
	size_t n = eth_udp4(f, "10.0.0.1", 4000, "10.0.0.2", 5000, RTP, RTP_LEN);
	cap_add_cut(&c, f, n - 1, n);       /* one payload byte missing */
	cap_add_cut(&c, f, 40, n);          /* inside the UDP header */
	cap_add_cut(&c, f, 20, n);          /* inside the IP header */
	cap_add_cut(&c, f, 10, n);          /* inside the Ethernet header */
	cap_add(&c, f, n);
	/* Cut only in the Ethernet padding: the datagram is whole. */
	n = eth_udp4(f, "10.0.0.1", 4000, "10.0.0.2", 5000, "hi", 2);
	cap_add_cut(&c, f, 14 + 20 + 8 + 2, n);
	cap_close(&c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 2);
	assert_udp(&g->it[0], 4, "10.0.0.1", 4000, "10.0.0.2", 5000, RTP, RTP_LEN);
	ck_assert_uint_eq(g->it[0].index, 5);
	assert_udp(&g->it[1], 4, "10.0.0.1", 4000, "10.0.0.2", 5000, "hi", 2);
	ck_assert_uint_eq(g->st.truncated, 4);
	ck_assert_uint_eq(g->st.bad_header, 0);
	ck_assert_uint_eq(g->st.frames, 6);
	free(g);
}
END_TEST

/* ---- TCP ----------------------------------------------------------------- */

#define A "10.0.0.1"
#define B "10.0.0.2"
static const char SIP1[] = "INVITE sip:bob@example.com SIP/2.0\r\n";
static const char SIP2[] = "Via: SIP/2.0/TCP 10.0.0.1:5060\r\n";
static const char SIP3[] = "Content-Length: 0\r\n\r\n";
#define L1 ((uint32_t)(sizeof(SIP1) - 1))
#define L2 ((uint32_t)(sizeof(SIP2) - 1))
#define L3 ((uint32_t)(sizeof(SIP3) - 1))

struct tcpcap {
	struct cap c;
	uint8_t f[2048];
};

static void tseg(struct tcpcap *t, bool a_to_b, uint32_t seq, uint32_t ack,
		 uint8_t flags, const void *pl, size_t n)
{
	size_t fl = a_to_b ? eth_tcp4(t->f, A, 5060, B, 5070, seq, ack, flags, pl, n)
			   : eth_tcp4(t->f, B, 5070, A, 5060, seq, ack, flags, pl, n);
	cap_add(&t->c, t->f, fl);
}

/* A's stream as delivered. */
static void expect_stream(const struct got *g, const void *want, size_t n)
{
	uint8_t out[8192];
	size_t got = stream(g, 5060, out, sizeof(out));
	ck_assert_uint_eq(got, n);
	ck_assert_mem_eq(out, want, n);
}

static const char *cat3(void)
{
	static char s[256];
	snprintf(s, sizeof(s), "%s%s%s", SIP1, SIP2, SIP3);
	return s;
}

static const uint32_t ISN = 1000, ISN_B = 5000;

static void handshake(struct tcpcap *t)
{
	tseg(t, true, ISN, 0, SYN, NULL, 0);
	tseg(t, false, ISN_B, ISN + 1, SYN | ACK, NULL, 0);
	tseg(t, true, ISN + 1, ISN_B + 1, ACK, NULL, 0);
}

START_TEST(test_tcp_in_order)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcp.pcap");
	const uint32_t s = ISN + 1;

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK | PSH, SIP1, L1);
	tseg(&t, true, s + L1, ISN_B + 1, ACK | PSH, SIP2, L2);
	tseg(&t, false, ISN_B + 1, s + L1 + L2, ACK | PSH, "SIP/2.0 100", 11);
	tseg(&t, true, s + L1 + L2, ISN_B + 12, ACK | PSH, SIP3, L3);
	tseg(&t, true, s + L1 + L2 + L3, ISN_B + 12, ACK | FIN, NULL, 0);
	tseg(&t, false, ISN_B + 12, s + L1 + L2 + L3 + 1, ACK, NULL, 0);
	cap_close(&t.c);

	read_ok(p, g);
	ck_assert_int_eq(g->n, 4);
	expect_stream(g, cat3(), L1 + L2 + L3);
	ck_assert_int_eq(g->it[0].proto, PR_TCP);
	ck_assert_uint_eq(g->it[0].index, 4);
	ck_assert_uint_eq(g->it[0].len, L1);
	ck_assert_uint_eq(g->it[2].src.port, 5070);
	ck_assert_uint_eq(g->it[2].len, 11);
	ck_assert_mem_eq(g->it[2].data, "SIP/2.0 100", 11);
	/* Each direction's first chunk starts its stream; the rest follow. */
	ck_assert(g->it[0].resync);
	ck_assert(!g->it[1].resync);
	ck_assert(g->it[2].resync);
	ck_assert(!g->it[3].resync);
	ck_assert_uint_eq(g->st.tcp_segments, 9);
	ck_assert_uint_eq(g->st.tcp_gaps, 0);
	free(g);
}
END_TEST

START_TEST(test_tcp_out_of_order)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpooo.pcap");
	const uint32_t s = ISN + 1;

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s + L1 + L2, ISN_B + 1, ACK | PSH, SIP3, L3);
	tseg(&t, true, s + L1, ISN_B + 1, ACK | PSH, SIP2, L2);
	tseg(&t, true, s, ISN_B + 1, ACK | PSH, SIP1, L1);
	cap_close(&t.c);

	read_ok(p, g);
	expect_stream(g, cat3(), L1 + L2 + L3);
	ck_assert_int_eq(g->n, 2);      /* SIP1, then 2+3 from the buffer */
	ck_assert_uint_eq(g->it[0].index, 6);
	ck_assert_uint_eq(g->it[1].index, 6);
	ck_assert(g->it[0].resync);
	ck_assert(!g->it[1].resync);
	ck_assert_uint_eq(g->st.tcp_gaps, 0);
	free(g);
}
END_TEST

START_TEST(test_tcp_retransmission)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpre.pcap");
	const uint32_t s = ISN + 1;
	const char *all = cat3();

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);            /* again */
	tseg(&t, true, s + 10, ISN_B + 1, ACK, all + 10, L1 + L2 - 10);
	tseg(&t, true, s + L1 + L2 + 5, ISN_B + 1, ACK, all + L1 + L2 + 5, L3 - 5);
	tseg(&t, true, s, ISN_B + 1, ACK, all, L1 + L2 + 5);    /* fills */
	tseg(&t, true, s, ISN_B + 1, ACK, all, L1 + L2 + L3);   /* all again */
	tseg(&t, true, ISN, 0, SYN, NULL, 0);                   /* SYN again */
	cap_close(&t.c);

	read_ok(p, g);
	expect_stream(g, all, L1 + L2 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, 0);
	free(g);
}
END_TEST

START_TEST(test_tcp_gap_acked)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpgap.pcap");
	const uint32_t s = ISN + 1;
	char want[256];

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);
	/* SIP2 never reached the capture */
	tseg(&t, true, s + L1 + L2, ISN_B + 1, ACK, SIP3, L3);
	tseg(&t, false, ISN_B + 1, s + L1 + L2 + L3, ACK, NULL, 0);
	size_t n = eth_udp4(t.f, A, 4000, B, 5000, RTP, RTP_LEN);
	cap_add(&t.c, t.f, n);
	cap_close(&t.c);

	read_ok(p, g);
	snprintf(want, sizeof(want), "%s%s", SIP1, SIP3);
	expect_stream(g, want, L1 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, L2);
	/* Delivered when the ACK showed the gap, before what follows. */
	ck_assert_int_eq(g->n, 3);
	ck_assert_uint_eq(g->it[1].index, 6);
	ck_assert(g->it[1].resync);     /* the framer must drop SIP1's tail */
	ck_assert_int_eq(g->it[2].proto, PR_UDP);
	free(g);
}
END_TEST

START_TEST(test_tcp_gap_at_end)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpgapend.pcap");
	const uint32_t s = ISN + 1;
	char want[256];

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);
	tseg(&t, true, s + L1 + L2, ISN_B + 1, ACK, SIP3, L3);
	size_t n = eth_udp4(t.f, A, 4000, B, 5000, RTP, RTP_LEN);
	cap_add(&t.c, t.f, n);
	cap_close(&t.c);

	read_ok(p, g);
	snprintf(want, sizeof(want), "%s%s", SIP1, SIP3);
	expect_stream(g, want, L1 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, L2);
	ck_assert_int_eq(g->n, 3);
	ck_assert_int_eq(g->it[1].proto, PR_UDP);   /* SIP3 waited to the end */
	free(g);
}
END_TEST

START_TEST(test_tcp_no_syn)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpnosyn.pcap");
	const uint32_t s = 0x7fff0000, sb = 0xfffffff0;  /* B wraps */
	uint8_t out[256];

	cap_open(&t.c, p, DLT_EN10MB);
	tseg(&t, true, s - 50, sb, ACK, NULL, 0);        /* no data: no start */
	tseg(&t, true, s, sb, ACK | PSH, SIP1, L1);
	tseg(&t, false, sb, s + L1, ACK | PSH, SIP2, L2);
	tseg(&t, true, s + L1, sb + L2, ACK | PSH, SIP2, L2);
	tseg(&t, false, sb + L2, s + L1 + L2, ACK | PSH, SIP3, L3);
	cap_close(&t.c);

	read_ok(p, g);
	char want[256];
	snprintf(want, sizeof(want), "%s%s", SIP1, SIP2);
	expect_stream(g, want, L1 + L2);
	snprintf(want, sizeof(want), "%s%s", SIP2, SIP3);
	ck_assert_uint_eq(stream(g, 5070, out, sizeof(out)), L2 + L3);
	ck_assert_mem_eq(out, want, L2 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, 0);
	free(g);
}
END_TEST

START_TEST(test_tcp_beyond_window)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpwin.pcap");
	const uint32_t s = ISN + 1;
	char want[256];

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);
	tseg(&t, true, s + L1 + 200, ISN_B + 1, ACK, SIP2, L2);
	tseg(&t, true, s + L1 + 200000, ISN_B + 1, ACK, SIP3, L3);
	size_t n = eth_udp4(t.f, A, 4000, B, 5000, RTP, RTP_LEN);
	cap_add(&t.c, t.f, n);
	cap_close(&t.c);

	read_ok(p, g);
	snprintf(want, sizeof(want), "%s%s%s", SIP1, SIP2, SIP3);
	expect_stream(g, want, L1 + L2 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, 200000 - L2);
	/* Declared when SIP3 could not wait: all before the UDP datagram. */
	ck_assert_int_eq(g->it[g->n - 1].proto, PR_UDP);
	free(g);
}
END_TEST

START_TEST(test_tcp_many_holes)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpholes.pcap");
	const uint32_t s = ISN + 1;
	char want[256];
	size_t wn = 0;

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	/* 12 two-byte pieces, 3 bytes lost before each: more holes than
	 * ranges are kept, so the oldest gaps are declared to make room. */
	for (int i = 0; i < 12; i++) {
		char pc[2] = { (char)('a' + i), (char)('A' + i) };
		tseg(&t, true, s + 3 + (uint32_t)i * 5, ISN_B + 1, ACK, pc, 2);
	}
	cap_close(&t.c);
	for (int i = 0; i < 12; i++) {
		want[wn++] = (char)('a' + i);
		want[wn++] = (char)('A' + i);
	}

	read_ok(p, g);
	expect_stream(g, want, wn);
	ck_assert_uint_eq(g->st.tcp_gaps, 12 * 3);
	free(g);
}
END_TEST

START_TEST(test_tcp_fin_rst)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpfin.pcap");
	const uint32_t s = ISN + 1;
	char want[256];

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s, ISN_B + 1, ACK, SIP1, L1);
	tseg(&t, true, s + L1, ISN_B + 1, ACK | FIN, NULL, 0);
	/* The FIN's own sequence number is acknowledged: no gap. */
	tseg(&t, false, ISN_B + 1, s + L1 + 1, ACK | FIN, NULL, 0);
	/* The same 4-tuple again, a new connection; SIP2 is lost, SIP3
	 * waits, the RST ends it. */
	tseg(&t, true, 90000, 0, SYN, NULL, 0);
	tseg(&t, true, 90001 + L2, 0, ACK, SIP3, L3);
	tseg(&t, true, 90001 + L2 + L3, 0, RST, NULL, 0);
	/* After the RST a flow without SYN starts at its first data. */
	tseg(&t, true, 777, 0, ACK, SIP2, L2);
	cap_close(&t.c);

	read_ok(p, g);
	snprintf(want, sizeof(want), "%s%s%s", SIP1, SIP3, SIP2);
	expect_stream(g, want, L1 + L3 + L2);
	ck_assert_int_eq(g->n, 3);
	for (int i = 0; i < 3; i++)
		ck_assert(g->it[i].resync);
	ck_assert_uint_eq(g->st.tcp_gaps, L2);
	free(g);
}
END_TEST

START_TEST(test_tcp_new_syn_flushes)
{
	struct tcpcap t;
	struct got *g = got_new();
	const char *p = tpath("tcpsyn2.pcap");
	const uint32_t s = ISN + 1;
	char want[256];

	cap_open(&t.c, p, DLT_EN10MB);
	handshake(&t);
	tseg(&t, true, s + L1, ISN_B + 1, ACK, SIP2, L2);   /* SIP1 lost */
	tseg(&t, true, 50000, 0, SYN, NULL, 0);
	tseg(&t, true, 50001, 0, ACK, SIP3, L3);
	cap_close(&t.c);

	read_ok(p, g);
	snprintf(want, sizeof(want), "%s%s", SIP2, SIP3);
	expect_stream(g, want, L2 + L3);
	ck_assert_uint_eq(g->st.tcp_gaps, L1);
	free(g);
}
END_TEST

/* One data segment on A:port -> B:5060. */
static void flowseg(struct cap *c, unsigned port, uint32_t seq, const char *ch)
{
	uint8_t f[256];
	size_t n = eth_tcp4(f, A, port, B, 5060, seq, 0, ACK, ch, 1);
	cap_add(c, f, n);
}

static size_t port_stream(const struct got *g, unsigned port, char *out)
{
	return stream(g, port, (uint8_t *)out, 16);
}

START_TEST(test_tcp_flow_eviction)
{
	struct cap c;
	struct got *g = got_new();
	char out[16];

	for (int extra = 0; extra < 2; extra++) {
		const char *p = tpath("flows.pcap");
		cap_open(&c, p, DLT_EN10MB);
		/* Port 1 holds "z" while it waits for "y"... */
		flowseg(&c, 1, 100, "x");
		flowseg(&c, 1, 102, "z");
		/* ...then 4095 (fits) or 4096 (one too many) other flows. */
		for (unsigned i = 0; i < 4095u + (unsigned)extra; i++)
			flowseg(&c, 10000 + i, 7, "o");
		flowseg(&c, 1, 101, "y");
		cap_close(&c);

		read_ok(p, g);
		ck_assert_uint_eq(g->st.tcp_segments, 4098 + extra);
		out[port_stream(g, 1, out)] = '\0';
		if (!extra) {
			ck_assert_str_eq(out, "xyz");
			ck_assert_uint_eq(g->st.tcp_gaps, 0);
		} else {
			/* Evicted: "y" (missing) and "z" (held) are lost; the
			 * flow starts again at "y". */
			ck_assert_str_eq(out, "xy");
			ck_assert_uint_eq(g->st.tcp_gaps, 2);
		}
	}
	free(g);
}
END_TEST

START_TEST(test_tcp_ring_pool)
{
	struct cap c;
	struct got *g = got_new();
	const char *p = tpath("rings.pcap");
	char out[16];
	const unsigned nf = 70;

	cap_open(&c, p, DLT_EN10MB);
	for (unsigned i = 0; i < nf; i++) {
		flowseg(&c, 20000 + i, 100, "x");
		flowseg(&c, 20000 + i, 102, "z");
	}
	for (unsigned i = 0; i < nf; i++)
		flowseg(&c, 20000 + i, 101, "y");
	cap_close(&c);

	read_ok(p, g);
	/* 64 flows can hold bytes; the others declare the gap at once and
	 * then take "y" for a retransmission. */
	for (unsigned i = 0; i < nf; i++) {
		out[port_stream(g, 20000 + i, out)] = '\0';
		ck_assert_str_eq(out, i < 64 ? "xyz" : "xz");
	}
	ck_assert_uint_eq(g->st.tcp_gaps, nf - 64);
	ck_assert_int_eq(g->n, (int)(nf + 64 * 2 + (nf - 64)));
	free(g);
}
END_TEST

/* ---- broken files ---------------------------------------------------------- */

/* A small capture: UDP, TCP with out-of-order data, and fragments. */
static size_t build_small(const char *path, size_t *bounds, int *nb)
{
	struct cap c;
	uint8_t f[512];
	size_t off = 24;
	int k = 0;
	frag_init();
	cap_open(&c, path, DLT_EN10MB);
	bounds[k++] = off;
#define ADD(n)                                                                \
	do {                                                                  \
		size_t n_ = (n);                                              \
		cap_add(&c, f, n_);                                           \
		off += 16 + n_;                                               \
		bounds[k++] = off;                                            \
	} while (0)
	ADD(eth_udp4(f, A, 4000, B, 5000, RTP, RTP_LEN));
	ADD(eth_tcp4(f, A, 5060, B, 5070, 99, 0, SYN, NULL, 0));
	ADD(eth_tcp4(f, A, 5060, B, 5070, 100 + L1, 0, ACK, SIP2, L2));
	ADD(frag4(f, 5, 48, 60, false));
	ADD(eth_tcp4(f, A, 5060, B, 5070, 100, 0, ACK, SIP1, L1));
	ADD(frag4(f, 5, 0, 48, true));
	ADD(eth_udp4(f, B, 5000, A, 4000, RTP, RTP_LEN));
#undef ADD
	cap_close(&c);
	*nb = k;
	return off;
}

START_TEST(test_truncated_everywhere)
{
	size_t bounds[16];
	char stream_want[256];
	int nb;
	size_t size;
	struct got *g = got_new();
	const char *whole = tpath("whole.pcap");
	build_small(whole, bounds, &nb);
	uint8_t *b = read_whole(whole, &size);
	ck_assert_uint_eq(size, bounds[nb - 1]);
	const char *cut = tpath("cut.pcap");
	/* What each whole prefix yields. A file that ends (cleanly or not)
	 * with SIP2 held still delivers it, after the gap. */
	static const int yield[] = { 0, 1, 1, 2, 2, 3, 4, 5 };
	snprintf(stream_want, sizeof(stream_want), "%s%s", SIP1, SIP2);

	for (size_t n = 0; n <= size; n++) {
		char why[256];
		struct pr_reader *r = NULL;
		write_file(cut, b, n);
		if (n < 24) {
			int rc = pr_open(cut, &r, why, sizeof(why));
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_ptr_null(r);
			if (n == 0)
				ck_assert_ptr_nonnull(strstr(why, "is empty"));
			else
				ck_assert_msg(strstr(why, "truncated") != NULL,
					      "%zu: %s", n, why);
			continue;
		}
		ck_assert_int_eq(read_all(cut, g), 0);
		int j = 0;
		while (j + 1 < nb && bounds[j + 1] <= n)
			j++;
		if (bounds[j] == n) {
			ck_assert_int_eq(g->rc, 0);
			ck_assert(!g->st.file_truncated);
		} else {
			ck_assert_msg(g->rc == -EIO, "cut at %zu: rc %d", n, g->rc);
			ck_assert(g->st.file_truncated);
		}
		ck_assert_uint_eq(g->st.frames, (uint64_t)j);
		ck_assert_int_eq(g->n, yield[j]);
		if (j >= 5)
			expect_stream(g, stream_want, L1 + L2);
		if (j == 3 || j == 4) {
			expect_stream(g, SIP2, L2);
			ck_assert_uint_eq(g->st.tcp_gaps, L1);
		} else {
			ck_assert_uint_eq(g->st.tcp_gaps, 0);
		}
		ck_assert_uint_eq(g->st.frag_incomplete, (j == 4 || j == 5) ? 1 : 0);
	}
	free(b);
	free(g);
}
END_TEST

START_TEST(test_truncated_pcapng_everywhere)
{
	uint8_t f1[256], f2[256], file[1024];
	struct got *g = got_new();
	const char *p = tpath("cut.pcapng");
	uint16_t one = 1;
	uint8_t le;
	memcpy(&le, &one, 1);
	if (!le) {
		free(g);
		return;
	}
	size_t n1 = eth_udp4(f1, A, 4000, B, 5000, RTP, RTP_LEN);
	size_t n2 = eth_udp4(f2, B, 5000, A, 4000, "x", 1);
	const uint8_t *fr[] = { f1, f2 };
	size_t ln[] = { n1, n2 };
	size_t size = pcapng_le(file, fr, ln, 2);
	size_t e1 = 48 + 32 + n1 + (4 - n1 % 4) % 4;

	for (size_t n = 0; n <= size; n++) {
		char why[256];
		struct pr_reader *r = NULL;
		write_file(p, file, n);
		if (n < 48) {   /* the SHB and the IDB are read at open */
			ck_assert_int_eq(pr_open(p, &r, why, sizeof(why)), -EINVAL);
			ck_assert_ptr_null(r);
			continue;
		}
		ck_assert_int_eq(read_all(p, g), 0);
		if (n == 48 || n == e1 || n == size) {
			ck_assert_int_eq(g->rc, 0);
			ck_assert_int_eq(g->n, n == 48 ? 0 : n == e1 ? 1 : 2);
		} else {
			ck_assert_int_eq(g->rc, -EIO);
			ck_assert(g->st.file_truncated);
			ck_assert_int_eq(g->n, n < e1 ? 0 : 1);
		}
	}
	free(g);
}
END_TEST

static void expect_open_error(const char *path, int err, const char *msg)
{
	struct pr_reader *r = (struct pr_reader *)1;
	char why[512];
	ck_assert_int_eq(pr_open(path, &r, why, sizeof(why)), err);
	ck_assert_ptr_null(r);
	ck_assert_msg(strcmp(why, msg) == 0, "got \"%s\", want \"%s\"", why, msg);
}

START_TEST(test_open_errors)
{
	char want[512];
	const char *p;

	p = tpath("nonexistent.pcap");
	snprintf(want, sizeof(want), "cannot open %s: No such file or directory", p);
	expect_open_error(p, -ENOENT, want);

	snprintf(want, sizeof(want), "cannot open %s: Is a directory", tmpdir);
	expect_open_error(tmpdir, -EISDIR, want);

	p = tpath("empty.pcap");
	write_file(p, "", 0);
	snprintf(want, sizeof(want), "%s is empty", p);
	expect_open_error(p, -EINVAL, want);

	p = tpath("magic.pcap");
	uint8_t junk[64];
	memset(junk, 0, sizeof(junk));
	memcpy(junk, "\xd4\xc3\xb2\xa0", 4);    /* one bit off */
	write_file(p, junk, sizeof(junk));
	snprintf(want, sizeof(want), "%s is not a pcap or pcapng capture", p);
	expect_open_error(p, -EINVAL, want);

	p = tpath("text.pcap");
	write_file(p, "INVITE sip:bob@example.com SIP/2.0\r\n", 36);
	snprintf(want, sizeof(want), "%s is not a pcap or pcapng capture", p);
	expect_open_error(p, -EINVAL, want);

	p = tpath("short.pcap");
	write_file(p, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8);
	snprintf(want, sizeof(want), "%s: capture header is truncated", p);
	expect_open_error(p, -EINVAL, want);
}
END_TEST

START_TEST(test_addr_str)
{
	struct pr_addr a = { .family = 4, .port = 5060 };
	char buf[64];
	addr4(a.ip, "127.0.0.1");
	ck_assert_str_eq(pr_addr_str(&a, buf, sizeof(buf)), "127.0.0.1:5060");
	a.family = 6;
	memset(a.ip, 0, 16);
	addr6(a.ip, "::1");
	ck_assert_str_eq(pr_addr_str(&a, buf, sizeof(buf)), "[::1]:5060");
	addr6(a.ip, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	a.port = 65535;
	ck_assert_str_eq(pr_addr_str(&a, buf, sizeof(buf)),
			 "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	memset(buf, 'Z', sizeof(buf));
	ck_assert_str_eq(pr_addr_str(&a, buf, 8), "[2001:d");
	ck_assert_int_eq(buf[8], 'Z');
	a.family = 0;
	ck_assert_str_eq(pr_addr_str(&a, buf, sizeof(buf)), "?:65535");
}
END_TEST

Suite *pcapread_suite(void)
{
	Suite *s = suite_create("pcapread");
	TCase *tc;

	tc = tcase_create("link");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_ethernet_udp4);
	tcase_add_test(tc, test_ethernet_vlan);
	tcase_add_test(tc, test_linux_sll);
	tcase_add_test(tc, test_linux_sll2);
	tcase_add_test(tc, test_null);
	tcase_add_test(tc, test_loop);
	tcase_add_test(tc, test_raw_ip);
	tcase_add_test(tc, test_unsupported_linktype);
	tcase_add_test(tc, test_pcapng);
	tcase_add_test(tc, test_not_udp_tcp);
	suite_add_tcase(s, tc);

	tc = tcase_create("ip");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_ipv4_options);
	tcase_add_test(tc, test_frag_in_order);
	tcase_add_test(tc, test_frag_out_of_order);
	tcase_add_test(tc, test_frag_duplicate);
	tcase_add_test(tc, test_frag_overlap);
	tcase_add_test(tc, test_frag_missing_last);
	tcase_add_test(tc, test_frag_missing_middle);
	tcase_add_test(tc, test_frag_bogus);
	tcase_add_test(tc, test_frag_table_bounded);
	tcase_add_test(tc, test_frag_tcp);
	tcase_add_test(tc, test_ipv6_extension_headers);
	tcase_add_test(tc, test_ipv6_fragments);
	tcase_add_test(tc, test_udp_bogus_length);
	tcase_add_test(tc, test_ip_bogus_length);
	tcase_add_test(tc, test_snaplen_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_tcp_in_order);
	tcase_add_test(tc, test_tcp_out_of_order);
	tcase_add_test(tc, test_tcp_retransmission);
	tcase_add_test(tc, test_tcp_gap_acked);
	tcase_add_test(tc, test_tcp_gap_at_end);
	tcase_add_test(tc, test_tcp_no_syn);
	tcase_add_test(tc, test_tcp_beyond_window);
	tcase_add_test(tc, test_tcp_many_holes);
	tcase_add_test(tc, test_tcp_fin_rst);
	tcase_add_test(tc, test_tcp_new_syn_flushes);
	tcase_add_test(tc, test_tcp_flow_eviction);
	tcase_add_test(tc, test_tcp_ring_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("broken");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_truncated_everywhere);
	tcase_add_test(tc, test_truncated_pcapng_everywhere);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_addr_str);
	suite_add_tcase(s, tc);

	return s;
}
