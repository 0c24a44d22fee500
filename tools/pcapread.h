/*
 * The capture reader behind `zrtpshim verify`: libpcap opens the file
 * (pcap or pcapng); this module decodes the link layer (Ethernet with
 * VLAN tags, Linux cooked SLL and SLL2, BSD loopback/null, raw IP), IPv4
 * (fragments reassembled) and IPv6, and hands out UDP datagrams and, per
 * TCP flow, the payload bytes in sequence order.
 *
 * It never trusts a length in the capture: snaplen-cut packets, bogus
 * header lengths and truncated files are counted in the stats and
 * skipped, never read past. Every skip has a reason the report can show.
 */
#ifndef TOOLS_PCAPREAD_H
#define TOOLS_PCAPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pr_addr {
	int family;                /* 4 or 6 */
	uint8_t ip[16];            /* IPv4 in the first 4 bytes */
	uint16_t port;
};

enum pr_proto { PR_UDP, PR_TCP };

struct pr_datagram {
	enum pr_proto proto;
	uint64_t ts_usec;          /* capture time, microseconds since epoch */
	uint64_t index;            /* 1-based frame number in the capture */
	struct pr_addr src, dst;
	const uint8_t *data;       /* UDP payload, or in-order TCP bytes */
	size_t len;
	/* TCP: these bytes do not continue the ones last delivered for this
	 * src->dst: the flow's first chunk, bytes lost just before it
	 * (counted in tcp_gaps), or a new connection on the same 4-tuple.
	 * A stream parser (SIP framing) starts afresh. Always false for UDP. */
	bool resync;
};

/* Why packets were skipped; the report prints every non-zero count. */
struct pr_stats {
	uint64_t frames;           /* frames read */
	uint64_t udp, tcp_segments;
	uint64_t not_ip;           /* ARP, unknown ethertype, ... */
	uint64_t not_udp_tcp;      /* ICMP, ... */
	uint64_t truncated;        /* caplen shorter than the headers say */
	uint64_t bad_header;       /* impossible IP/UDP/TCP header lengths */
	uint64_t frag_incomplete;  /* IPv4 fragments never completed */
	uint64_t tcp_gaps;         /* TCP bytes missing from the capture */
	bool file_truncated;       /* the file ended inside a record */
};

struct pr_reader;

/*
 * Open a capture. Returns 0, or -errno / -EINVAL with a one-line reason
 * in why: missing, empty, not a capture, unsupported link type.
 */
int pr_open(const char *path, struct pr_reader **out, char *why, size_t why_len)
	__attribute__((warn_unused_result));

/*
 * The next UDP datagram or TCP payload chunk. Returns 1 with *d filled
 * (valid until the next call), 0 at the end, or -EIO on a read error
 * (the stats say what was read so far; the caller reports a partial
 * verdict).
 */
int pr_next(struct pr_reader *r, struct pr_datagram *d);

const struct pr_stats *pr_stats(const struct pr_reader *r);
int pr_linktype(const struct pr_reader *r);   /* DLT_* */
void pr_close(struct pr_reader *r);

/* "127.0.0.1:5060" or "[::1]:5060" */
const char *pr_addr_str(const struct pr_addr *a, char *buf, size_t cap);

#endif
