/*
 * The two programs of tests/shim/unannounced.sh, one binary:
 *
 *   rtp_peer peer LOCAL_PORT RELAY_PORT SECONDS [FORK_AT]
 *       Runs under LD_PRELOAD. Sends RTP with a recognisable cleartext
 *       payload every 20 ms to 127.0.0.1:RELAY_PORT, with no SIP at all,
 *       and counts the RTP it receives whose payload is that cleartext
 *       (what the shim hands back after SRTP). Prints "received N".
 *       With FORK_AT, forks after that many seconds; the child sends 50
 *       packets of SSRC 0xc41d0000 on the same socket and exits.
 *
 *   rtp_peer relay PORT_A PORT_B SECONDS
 *       Runs without the shim: the wire. Forwards datagrams between the
 *       two peers (whoever sends to PORT_A is side A) and counts what
 *       crosses: ZRTP, packets carrying the cleartext marker, others, and
 *       RTP/SRTP of the forked child's SSRC.
 *       Prints "zrtp Z clear C other O child K".
 *
 * And the two of tests/shim/adopted_rtcp.sh (whole adopted streams):
 *
 *   rtp_peer rtcp-peer MODE LOCAL_PORT RELAY_PORT SECONDS
 *       Runs under LD_PRELOAD. Sends RTP from LOCAL_PORT to RELAY_PORT as
 *       "peer" does, and every 100 ms an RTCP SR + SDES whose CNAME is the
 *       cleartext marker (a softphone puts its SIP URI there). MODE says
 *       from where and to where the RTCP goes:
 *         plus1  from LOCAL_PORT+1 to RELAY_PORT+1 (RFC 3550 §11)
 *         mux    from the RTP socket to RELAY_PORT (RFC 5761)
 *         dest   from LOCAL_PORT+10, an unrelated port, to RELAY_PORT+1
 *       and with the prefix "first-" the RTCP starts 600 ms before the
 *       RTP. Counts the RTCP handed back to it that carries the peer's
 *       marker. Prints "received N rtcp M".
 *
 *   rtp_peer rtcp-relay PORT_A PORT_B SECONDS
 *       Runs without the shim: the wire, with an RTCP leg beside each RTP
 *       leg (PORT_A+1, PORT_B+1). Prints "zrtp Z clear C srtp S
 *       clear_rtcp R srtcp T other O": clear counts datagrams with the
 *       marker, srtcp RTCP-shaped ones without it and longer by an SRTCP
 *       trailer (E flag and index, 4 bytes, and a 10- or 4-byte tag;
 *       RFC 3711 §3.4).
 *
 * And the two of tests/shim/rcvtimeo.sh:
 *
 *   rtp_peer rcvtimeo LOCAL_PORT ECHO_PORT TIMEOUT_MS
 *       Runs under LD_PRELOAD. Sends 3 RTP packets to ECHO_PORT (the shim
 *       adopts the socket as media and starts ZRTP), sets SO_RCVTIMEO, and
 *       makes one blocking recv. Prints "rc R errno E ms T".
 *
 *   rtp_peer zrtp-echo PORT SECONDS
 *       Runs without the shim. Sends every ZRTP packet it receives back to
 *       its sender every 50 ms until SECONDS are up: a stream of packets the
 *       shim consumes and never hands to its client.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char marker[] = "CLEARTEXT-RTP-MARKER";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int udp_bound(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		exit(2);
	}
	return fd;
}

#define CHILD_SSRC 0xc41d0000u

static void rtp_fill(uint8_t pkt[12 + 160], uint16_t seq, uint32_t ts,
		     uint32_t ssrc)
{
	pkt[0] = 0x80;
	pkt[1] = 0;   /* PCMU */
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(ssrc >> 24);
	pkt[9] = (uint8_t)(ssrc >> 16);
	pkt[10] = (uint8_t)(ssrc >> 8);
	pkt[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < 160; i++)
		pkt[12 + i] = (uint8_t)marker[i % (sizeof marker - 1)];
}

/* The forked child: 50 packets of its own SSRC on the inherited socket.
 * It must never send them with its parent's keys and indexes. */
static void child_sends(int fd, const struct sockaddr_in *to)
{
	uint8_t pkt[12 + 160];
	for (uint16_t i = 0; i < 50; i++) {
		rtp_fill(pkt, (uint16_t)(1000 + i), 160u * i, CHILD_SSRC);
		sendto(fd, pkt, sizeof pkt, 0, (const struct sockaddr *)to,
		       sizeof *to);
		usleep(20000);
	}
	_exit(0);
}

static int run_peer(int local, int relay, double secs, double fork_at)
{
	int fd = udp_bound(local);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)relay) };
	uint8_t pkt[12 + 160], in[2048];
	uint16_t seq = 1;
	uint32_t ts = 0, ssrc = 0x5a000000u | (uint32_t)local;
	long received = 0;
	double end = now_s() + secs, next = now_s();

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	double start = now_s();
	pid_t kid = -1;
	while (now_s() < end) {
		if (fork_at > 0 && kid < 0 && now_s() - start >= fork_at) {
			kid = fork();
			if (kid == 0)
				child_sends(fd, &to);
		}
		if (now_s() >= next) {
			rtp_fill(pkt, seq, ts, ssrc);
			if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to,
				   sizeof to) != (ssize_t)sizeof pkt) {
				perror("sendto");
				return 2;
			}
			seq++;
			ts += 160;
			next += 0.020;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5) > 0) {
			ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
			if (n == (ssize_t)sizeof pkt && in[0] == 0x80 &&
			    memcmp(in + 12, marker, sizeof marker - 1) == 0)
				received++;
		}
	}
	if (kid > 0)
		waitpid(kid, NULL, 0);
	printf("received %ld\n", received);
	return 0;
}

/* RTCP SR (RFC 3550 §6.4.1) + SDES with the marker as CNAME (§6.5). */
#define RTCP_LEN (28 + 8 + 2 + 20 + 2)
static size_t rtcp_fill(uint8_t *p, uint32_t ssrc, uint32_t npkts)
{
	memset(p, 0, RTCP_LEN);
	p[0] = 0x80;
	p[1] = 200;
	p[3] = 6;                                /* 7 words */
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
		p[20 + i] = (uint8_t)(npkts >> (24 - 8 * i));
	}
	uint8_t *d = p + 28;
	d[0] = 0x81;
	d[1] = 202;
	d[3] = (RTCP_LEN - 28) / 4 - 1;
	memcpy(d + 4, p + 4, 4);
	d[8] = 1;                                /* CNAME */
	d[9] = 20;
	memcpy(d + 10, marker, 20);
	return RTCP_LEN;
}

static int run_rtcp_peer(const char *mode, int local, int relay, double secs)
{
	bool first = strncmp(mode, "first-", 6) == 0;
	const char *m = first ? mode + 6 : mode;
	bool mux = strcmp(m, "mux") == 0, dest = strcmp(m, "dest") == 0;
	if (!mux && !dest && strcmp(m, "plus1") != 0) {
		fprintf(stderr, "rtcp-peer: unknown mode %s\n", mode);
		return 2;
	}
	int fd = udp_bound(local);
	int cfd = mux ? fd : udp_bound(dest ? local + 10 : local + 1);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)relay) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in cto = to;
	if (!mux)
		cto.sin_port = htons((uint16_t)(relay + 1));
	uint8_t pkt[12 + 160], in[2048];
	uint16_t seq = 1;
	uint32_t ts = 0, ssrc = 0x5a000000u | (uint32_t)local, sent = 0;
	long received = 0, rtcp = 0;
	double start = now_s(), end = start + secs;
	double next = start + (first ? 0.6 : 0), next_c = start + (first ? 0 : 0.05);

	while (now_s() < end) {
		double t = now_s();
		if (t >= next) {
			rtp_fill(pkt, seq++, ts, ssrc);
			ts += 160;
			next += 0.020;
			if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to,
				   sizeof to) == (ssize_t)sizeof pkt)
				sent++;
		}
		if (t >= next_c) {
			uint8_t c[RTCP_LEN];
			size_t n = rtcp_fill(c, ssrc, sent);
			sendto(cfd, c, n, 0, (struct sockaddr *)&cto, sizeof cto);
			next_c += 0.100;
		}
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = cfd, .events = POLLIN } };
		if (poll(p, mux ? 1 : 2, 5) <= 0)
			continue;
		for (int i = 0; i < (mux ? 1 : 2); i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			ssize_t n = recv(p[i].fd, in, sizeof in, MSG_DONTWAIT);
			if (n == (ssize_t)sizeof pkt && in[0] == 0x80 &&
			    memcmp(in + 12, marker, sizeof marker - 1) == 0)
				received++;
			else if (n == RTCP_LEN && in[1] == 200 &&
				 memcmp(in + 38, marker, 20) == 0)
				rtcp++;
		}
	}
	printf("received %ld rtcp %ld\n", received, rtcp);
	return 0;
}

/* The wire for run_rtcp_peer: legs 0 and 1 are A's RTP and RTCP, 2 and 3
 * B's; whatever arrives on A's leg k leaves from B's leg k to B, and back. */
static int run_rtcp_relay(int port_a, int port_b, double secs)
{
	int fds[4] = { udp_bound(port_a), udp_bound(port_a + 1),
		       udp_bound(port_b), udp_bound(port_b + 1) };
	struct sockaddr_in peer[4];
	int known[4] = { 0, 0, 0, 0 };
	long zrtp = 0, clear = 0, srtp = 0, clear_rtcp = 0, srtcp = 0, other = 0;
	uint8_t buf[2048];
	double end = now_s() + secs;

	while (now_s() < end) {
		struct pollfd p[4];
		for (int i = 0; i < 4; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(p, 4, 50) <= 0)
			continue;
		for (int i = 0; i < 4; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(fds[i], buf, sizeof buf, 0,
					     (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			peer[i] = from;
			known[i] = 1;
			bool v2 = n >= 8 && (buf[0] >> 6) == 2;
			bool is_rtcp = v2 && buf[1] >= 192 && buf[1] <= 223;
			bool mark = memmem(buf, (size_t)n, marker, 8) != NULL;
			if (n >= 16 && buf[0] == 0x10 && memcmp(buf + 4, "ZRTP", 4) == 0)
				zrtp++;
			else if (mark && is_rtcp)
				clear_rtcp++;
			else if (mark)
				clear++;
			else if (is_rtcp && (n == RTCP_LEN + 14 || n == RTCP_LEN + 8))
				srtcp++;
			else if (v2 && !is_rtcp)
				srtp++;
			else
				other++;
			int o = (i + 2) % 4;
			if (known[o])
				sendto(fds[o], buf, (size_t)n, 0,
				       (struct sockaddr *)&peer[o], sizeof peer[o]);
		}
	}
	printf("zrtp %ld clear %ld srtp %ld clear_rtcp %ld srtcp %ld other %ld\n",
	       zrtp, clear, srtp, clear_rtcp, srtcp, other);
	return 0;
}

static int run_relay(int port_a, int port_b, double secs)
{
	int fa = udp_bound(port_a), fb = udp_bound(port_b);
	struct sockaddr_in peer[2];
	int known[2] = { 0, 0 };
	long zrtp = 0, clear = 0, other = 0, child = 0;
	uint8_t buf[2048];
	double end = now_s() + secs;

	while (now_s() < end) {
		struct pollfd p[2] = { { .fd = fa, .events = POLLIN },
				       { .fd = fb, .events = POLLIN } };
		if (poll(p, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(p[i].fd, buf, sizeof buf, 0,
					     (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			peer[i] = from;
			known[i] = 1;
			/* SRTP keeps the RTP header in clear: the SSRC shows. */
			if (n >= 12 && (buf[0] >> 6) == 2 &&
			    ((uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
			     (uint32_t)buf[10] << 8 | buf[11]) == CHILD_SSRC)
				child++;
			if (n >= 16 && buf[0] == 0x10 && memcmp(buf + 4, "ZRTP", 4) == 0)
				zrtp++;
			else if (memmem(buf, (size_t)n, marker, 8) != NULL)
				clear++;
			else
				other++;
			/* A's packets go out of B's socket to B, and back. */
			int o = 1 - i;
			if (known[o])
				sendto(p[o].fd, buf, (size_t)n, 0,
				       (struct sockaddr *)&peer[o], sizeof peer[o]);
		}
	}
	printf("zrtp %ld clear %ld other %ld child %ld\n", zrtp, clear, other,
	       child);
	return 0;
}

static int run_rcvtimeo(int local, int echo, int timeout_ms)
{
	int fd = udp_bound(local);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)echo) };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	uint8_t pkt[12 + 160], in[2048];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (uint16_t i = 0; i < 3; i++) {
		rtp_fill(pkt, (uint16_t)(100 + i), 160u * i, 0x5a00beefu);
		sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
		usleep(20000);
	}
	/* let the echo start: the shim's Hello goes out and comes back */
	usleep(300000);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		perror("setsockopt");
		return 2;
	}
	double t = now_s();
	ssize_t n = recv(fd, in, sizeof in, 0);
	int e = n < 0 ? errno : 0;
	printf("rc %zd errno %d ms %.0f\n", n, e, (now_s() - t) * 1000);
	return 0;
}

static int run_zrtp_echo(int port, double secs)
{
	int fd = udp_bound(port);
	struct sockaddr_in peer;
	uint8_t buf[2048], last[2048];
	size_t last_len = 0;
	long echoed = 0;
	double end = now_s() + secs, next = 0;

	while (now_s() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) > 0) {
			socklen_t fl = sizeof peer;
			ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
					     (struct sockaddr *)&peer, &fl);
			if (n >= 16 && buf[0] == 0x10 &&
			    memcmp(buf + 4, "ZRTP", 4) == 0) {
				memcpy(last, buf, (size_t)n);
				last_len = (size_t)n;
			}
		}
		if (last_len && now_s() >= next) {
			sendto(fd, last, last_len, 0, (struct sockaddr *)&peer,
			       sizeof peer);
			echoed++;
			next = now_s() + 0.050;
		}
	}
	printf("echoed %ld\n", echoed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "rcvtimeo") == 0)
		return run_rcvtimeo(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "zrtp-echo") == 0)
		return run_zrtp_echo(atoi(argv[2]), atof(argv[3]));
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "peer") == 0)
		return run_peer(atoi(argv[2]), atoi(argv[3]), atof(argv[4]),
				argc == 6 ? atof(argv[5]) : 0);
	if (argc == 6 && strcmp(argv[1], "rtcp-peer") == 0)
		return run_rtcp_peer(argv[2], atoi(argv[3]), atoi(argv[4]),
				     atof(argv[5]));
	if (argc == 5 && strcmp(argv[1], "rtcp-relay") == 0)
		return run_rtcp_relay(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	if (argc == 5 && strcmp(argv[1], "relay") == 0)
		return run_relay(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: rtp_peer peer LOCAL RELAY SECS [FORK_AT] | "
		"relay A B SECS | rcvtimeo LOCAL ECHO MS | zrtp-echo PORT SECS | "
		"rtcp-peer MODE LOCAL RELAY SECS | rtcp-relay A B SECS\n");
	return 2;
}
