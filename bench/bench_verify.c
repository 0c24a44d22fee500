/*
 * Benchmark for `zrtpshim verify`: a one-hour call, two directions of
 * 50 packets/s each (20 ms frames) for 3600 s = 360,000 RTP-sized UDP
 * datagrams (172-byte payloads) on Ethernet, written to a pcap in /tmp,
 * then read back.
 *
 * One function per measurement; each prints wall and CPU time, packets/s
 * and MB/s of capture file. Not a test: nothing here asserts a speed.
 *
 *   bench_verify [CAPTURE]   measure CAPTURE instead of a generated call
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ftw.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/pcapread.h"
#include "tools/verify.h"

#define CALL_SECONDS 3600
#define PPS_PER_DIR 50
#define RTP_PAYLOAD 172         /* UDP payload: 12-byte RTP header + 160 */

struct clocks {
	struct timespec wall, cpu;
};

static void clocks_now(struct clocks *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c->cpu);
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void report(const char *what, const struct clocks *t0,
		   const struct clocks *t1, uint64_t packets, uint64_t bytes)
{
	double wall = ts_diff(&t0->wall, &t1->wall);
	double cpu = ts_diff(&t0->cpu, &t1->cpu);
	printf("%-24s %9llu packets  wall %7.3f s  cpu %7.3f s  "
	       "%8.2f Mpkt/s  %8.1f MB/s\n", what, (unsigned long long)packets,
	       wall, cpu, wall > 0 ? (double)packets / wall / 1e6 : 0.0,
	       wall > 0 ? (double)bytes / wall / 1e6 : 0.0);
}

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

/* Ethernet/IPv4/UDP/RTP frame for direction dir (0: A→B, 1: B→A). */
static size_t call_frame(uint8_t *f, int dir, uint16_t seq, uint32_t ts)
{
	static const uint8_t ip_a[4] = { 192, 0, 2, 10 }, ip_b[4] = { 198, 51, 100, 20 };
	uint8_t *ip = f + 14, *udp = ip + 20, *rtp = udp + 8;
	size_t ulen = 8 + RTP_PAYLOAD;

	memset(f, 0x02, 12);
	f[5] = (uint8_t)dir;
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(20 + ulen));
	put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, dir ? ip_b : ip_a, 4);
	memcpy(ip + 16, dir ? ip_a : ip_b, 4);
	put16(udp, dir ? 7078 : 4000);
	put16(udp + 2, dir ? 4000 : 7078);
	put16(udp + 4, (unsigned)ulen);
	put16(udp + 6, 0);
	rtp[0] = 0x80;
	rtp[1] = 0;                     /* PCMU */
	put16(rtp + 2, seq);
	put32(rtp + 4, ts);
	put32(rtp + 8, dir ? 0x5eed0002u : 0x5eed0001u);
	for (size_t i = 12; i < RTP_PAYLOAD; i++)
		rtp[i] = (uint8_t)(seq * 31u + i);
	return 14 + 20 + ulen;
}

/* Write the one-hour call; returns the number of packets. */
static uint64_t gen_call(const char *path)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *dp = pd ? pcap_dump_open(pd, path) : NULL;
	uint8_t f[256];
	uint64_t n = 0;
	if (!dp) {
		fprintf(stderr, "bench_verify: cannot write %s: %s\n", path,
			pd ? pcap_geterr(pd) : "pcap_open_dead failed");
		exit(1);
	}
	const uint64_t t0 = 1700000000ull * 1000000ull;
	const unsigned frames = CALL_SECONDS * PPS_PER_DIR;
	for (unsigned i = 0; i < frames; i++) {
		for (int dir = 0; dir < 2; dir++) {
			uint64_t t = t0 + (uint64_t)i * 20000u + (uint64_t)dir * 7000u;
			struct pcap_pkthdr h;
			memset(&h, 0, sizeof(h));
			h.ts.tv_sec = (time_t)(t / 1000000u);
			h.ts.tv_usec = (suseconds_t)(t % 1000000u);
			h.caplen = h.len = (bpf_u_int32)call_frame(
				f, dir, (uint16_t)i, i * 160u);
			pcap_dump((u_char *)dp, &h, f);
			n++;
		}
	}
	pcap_dump_close(dp);
	pcap_close(pd);
	return n;
}

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* The capture reader alone: pr_open, pr_next to the end. */
static void measure_read(const char *path)
{
	struct pr_reader *r;
	struct pr_datagram d;
	char why[256];
	struct clocks t0, t1;
	uint64_t n = 0, sum = 0;
	int rc;

	clocks_now(&t0);
	if (pr_open(path, &r, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench_verify: %s\n", why);
		exit(1);
	}
	while ((rc = pr_next(r, &d)) == 1) {
		n++;
		sum += d.len + (d.len ? d.data[d.len - 1] : 0);
	}
	pr_close(r);
	clocks_now(&t1);
	if (rc != 0)
		fprintf(stderr, "bench_verify: %s: read error %d\n", path, rc);
	report("read (pcapread)", &t0, &t1, n, file_size(path));
	if (sum == 42)  /* keep the loop's reads observable */
		putchar(' ');
}

/*
 * The whole analysis of `zrtpshim verify` (verify_run: reader, SIP/SDP,
 * flow table, per-packet records, classification, verdict), added by
 * the verify owner. Prints the verdict line so a wrong result is seen.
 */
static void measure_verify(const char *path)
{
	struct verify_options opt = { NULL, NULL };
	struct verify_report *rep;
	char why[512];
	struct clocks t0, t1;

	clocks_now(&t0);
	if (verify_run(path, &opt, &rep, why, sizeof(why)) != 0) {
		fprintf(stderr, "bench_verify: %s\n", why);
		exit(1);
	}
	clocks_now(&t1);
	report("verify (full analysis)", &t0, &t1, rep->stats.frames,
	       file_size(path));
	uint64_t clear = 0;
	for (size_t i = 0; i < rep->n_streams; i++)
		clear += rep->streams[i].dir[0].n.rtp_clear +
			 rep->streams[i].dir[1].n.rtp_clear;
	printf("  %zu streams, %llu cleartext RTP, verdict %d\n", rep->n_streams,
	       (unsigned long long)clear, (int)rep->verdict);
	verify_report_free(rep);
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/zs-bench-verify-XXXXXX";
	char path[sizeof(dir) + 16];

	if (argc > 1) {
		measure_read(argv[1]);
		measure_verify(argv[1]);
		return 0;
	}
	if (!mkdtemp(dir)) {
		perror("bench_verify: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/call.pcap", dir);

	struct clocks t0, t1;
	clocks_now(&t0);
	uint64_t n = gen_call(path);
	clocks_now(&t1);
	report("generate", &t0, &t1, n, file_size(path));

	measure_read(path);     /* cold-ish: first read after writing */
	measure_read(path);
	measure_verify(path);

	nftw(dir, rm_one, 4, FTW_DEPTH | FTW_PHYS);
	return 0;
}
