/*
 * libFuzzer target: the capture reader (tools/pcapread.c) must survive any
 * file, reading it to the end without touching a byte it was not given.
 *
 * Input modes, by the first byte:
 *   'F' L rec...  a pcap built here with link type LINKS[L % N]; each rec
 *                 is a 2-byte big-endian length then that many frame bytes
 *                 (the last one takes what is left). Length bit 15 set: the
 *                 record claims 10 more bytes on the wire than captured,
 *                 i.e. a snaplen cut. This reaches reassembly (fragments,
 *                 TCP) without the fuzzer having to learn the file format.
 *   'A' frame     the one frame under every supported link type.
 *   anything else the input is the capture file itself (pcap, pcapng or
 *                 garbage), as libpcap sees it.
 * The file is handed to pr_open by path through a memfd.
 *
 * Checked: every delivered datagram is readable to its length (ASan sees
 * the reads), lengths fit an IP datagram, the stats agree with what was
 * delivered, and the end is sticky.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/pcapread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_pcap: violated: %s (line %d)\n", \
				#cond, __LINE__);                              \
			__builtin_trap();                                      \
		}                                                              \
	} while (0)

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* As libpcap writes them in a file (LINKTYPE_*). */
static const uint32_t LINKS[] = {
	1,      /* EN10MB */
	113,    /* LINUX_SLL */
	276,    /* LINUX_SLL2 */
	0,      /* NULL */
	108,    /* LOOP */
	101,    /* RAW */
	228,    /* IPV4 */
	229,    /* IPV6 */
};
#define NLINKS (sizeof(LINKS) / sizeof(LINKS[0]))

static int memfd = -1;
static char mpath[64];
static uint8_t *build;          /* the pcap assembled in 'F'/'A' modes */
static size_t build_cap;

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t pcap_header(uint8_t *p, uint32_t linktype)
{
	le32(p, 0xa1b2c3d4);
	p[4] = 2;
	p[5] = 0;
	p[6] = 4;
	p[7] = 0;
	le32(p + 8, 0);
	le32(p + 12, 0);
	le32(p + 16, 262144);
	le32(p + 20, linktype);
	return 24;
}

static size_t pcap_record(uint8_t *p, uint32_t i, const uint8_t *f,
			  size_t caplen, size_t len)
{
	le32(p, 1700000000u + i);
	le32(p + 4, i * 20000u % 1000000u);
	le32(p + 8, (uint32_t)caplen);
	le32(p + 12, (uint32_t)len);
	memcpy(p + 16, f, caplen);
	return 16 + caplen;
}

static void put_file(const uint8_t *b, size_t n)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz_pcap", 0);
		CHECK(memfd >= 0);
		snprintf(mpath, sizeof(mpath), "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0);
	size_t o = 0;
	while (o < n) {
		ssize_t w = pwrite(memfd, b + o, n - o, (off_t)o);
		CHECK(w > 0);
		o += (size_t)w;
	}
}

static void read_to_end(void)
{
	struct pr_reader *r;
	struct pr_datagram d;
	char why[256];
	uint64_t n = 0, udp = 0, sink = 0;
	int rc;

	why[0] = 'x';
	if (pr_open(mpath, &r, why, sizeof(why)) != 0) {
		CHECK(why[0] != '\0' && strlen(why) < sizeof(why));
		return;
	}
	while ((rc = pr_next(r, &d)) == 1) {
		CHECK(d.len <= 65535);
		CHECK(d.src.family == 4 || d.src.family == 6);
		CHECK(d.dst.family == d.src.family);
		CHECK(d.proto == PR_TCP || !d.resync);
		CHECK(d.index >= 1 && d.index <= pr_stats(r)->frames);
		for (size_t i = 0; i < d.len; i++)
			sink += d.data[i];
		char a[64];
		CHECK(strlen(pr_addr_str(&d.src, a, sizeof(a))) < sizeof(a));
		n++;
		udp += d.proto == PR_UDP;
	}
	CHECK(rc == 0 || rc == -EIO);
	CHECK(pr_next(r, &d) == rc);
	const struct pr_stats *st = pr_stats(r);
	CHECK((rc == -EIO) == st->file_truncated);
	CHECK(st->udp == udp);
	CHECK(st->udp + st->tcp_segments <= st->frames);
	pr_close(r);
	if (sink == 1)  /* keep the reads */
		putchar(' ');
}

static bool grow(size_t need)
{
	if (need <= build_cap)
		return true;
	uint8_t *b = realloc(build, need);
	if (!b)
		return false;
	build = b;
	build_cap = need;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2 && data[0] == 'F') {
		/* records never take more room than the input plus headers */
		if (!grow(24 + size * 9 + 16))
			return 0;
		size_t o = pcap_header(build, LINKS[data[1] % NLINKS]);
		size_t i = 2;
		uint32_t k = 0;
		while (i < size) {
			size_t len = size - i;
			bool cut = false;
			if (i + 2 <= size) {
				len = (size_t)data[i] << 8 | data[i + 1];
				cut = len & 0x8000;
				len &= 0x7fff;
				i += 2;
			}
			if (len > size - i)
				len = size - i;
			o += pcap_record(build + o, k++, data + i, len,
					 len + (cut ? 10 : 0));
			i += len;
		}
		put_file(build, o);
		read_to_end();
	} else if (size >= 1 && data[0] == 'A') {
		if (!grow(24 + 16 + size))
			return 0;
		for (size_t l = 0; l < NLINKS; l++) {
			size_t o = pcap_header(build, LINKS[l]);
			o += pcap_record(build + o, 0, data + 1, size - 1, size - 1);
			put_file(build, o);
			read_to_end();
		}
	} else {
		put_file(data, size);
		read_to_end();
	}
	return 0;
}
