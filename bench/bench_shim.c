/*
 * bench_shim: what the shim costs a client, as two ratios measured in one
 * run (issue item 8).
 *
 * 8a, the shim's per-packet send path (goal: at most 1.10). The same loop
 * in three processes: update the RTP header (sequence number, timestamp)
 * of a 172-byte PCMU packet (12-byte header, 160-byte payload), then
 *   direct     memcpy into a buffer, srtp_protect (libsrtp2,
 *              AES_CM_128_HMAC_SHA1_80, our own srtp_t) and sendto,
 *              without the shim;
 *   direct-mt  the same in a process with a second, sleeping thread, as
 *              the shim's process has (its timer) and every softphone
 *              has: see role_srtp_base;
 *   shim       sendto of the plain packet on a socket the shim holds as a
 *              SECURE media stream: the shim copies, protects and sends.
 * The shim's socket becomes SECURE the honest way: a second process under
 * the shim (the peer) and the sender exchange RTP with no SIP, the shim
 * adopts both sockets on their first RTP packet and runs ZRTP between
 * them (as tests/shim/unannounced.sh does, without the relay); the sender
 * waits until both shims' logs say "event: secure" (ZRTPSHIM_ALGOS pins
 * AES1 + HS80, so both sides use the same SRTP profile). All receivers
 * are UDP sockets on 127.0.0.1 with a 4 KiB receive buffer that nobody
 * reads while the clock runs (the peer stops reading once it is secure),
 * so the kernel drops what overflows and sendto still succeeds. The goal
 * is judged on shim / direct; shim / direct-mt is printed too.
 *
 * 8b, sendto on an unrelated UDP socket (goal: at most 1.03): sendto() of
 * a 172-byte non-RTP, non-SIP datagram on an ordinary UDP socket to a
 * discard receiver, and, for the "untracked fd" path, write() of the same
 * bytes to /dev/null, each in a child without and with the preload.
 *
 * 8c, the same send path with cold caches, as a real client meets it: its
 * packets come 20 ms apart, with the kernel, the client and everything
 * else on the machine running in between, so the shim's code and data,
 * libsrtp2's and libcrypto's are out of the caches and TLBs at each
 * packet (8a keeps them hot). Before each timed send the child sleeps
 * COLD_GAP_US, a packet time, then times that one send (wall clock); per
 * round the median of COLD_SENDS sends. (Writing 64 MiB instead of the
 * sleep left the send warmer than a real client's: the shim added a
 * third of what it adds after a sleep.) Two sides: plain, the same RTP
 * packet sent with sendto and no SRTP at all (an unshimmed client), and the
 * shim's sendto on its SECURE stream (8a's child). It prints both and the
 * difference: what the shim adds to each packet a client sends. Not a
 * goal of its own; it says where a real client's whole-call ratio
 * (bench_clients.sh) comes from.
 *
 * Rounds are interleaved (ROUNDS of each, rotating which side goes first
 * in 8a) so drift in machine load hits all sides alike; medians are
 * reported. 8a times the sending thread's CPU (CLOCK_THREAD_CPUTIME_ID:
 * the shim's timer thread is not counted, it sleeps while the clock runs)
 * and wall time; 8b wall time, as before. Not a test: it prints and exits
 * 0; it exits 1 only if a side could not be set up (no handshake).
 *
 *   bench_shim /path/to/libzrtpshim.so [sendto-calls [srtp-packets]]
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#define ROUNDS 7
#define RTP_LEN (12 + 160)
#define RCVBUF_SMALL 4096
#define WARMUP 2000
#define HANDSHAKE_SECS 30
#define COLD_SENDS 200
#define COLD_GAP_US 20000
/* AES_CM_128_HMAC_SHA1_80 on both sides of 8a. */
#define SHIM_ALGOS "cipher=AES1;auth=HS80"

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A UDP socket bound to 127.0.0.1:port (0: the kernel's choice, written
 * back to *bound), or -1. */
static int udp_bound(uint16_t port, struct sockaddr_in *bound)
{
	struct sockaddr_in a = loopback(port);
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		perror("bench_shim: udp socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (bound != NULL)
		*bound = a;
	return fd;
}

/* ------------------------------------------------------------------ */
/* 8a: the RTP sending loop                                            */

static void rtp_init(uint8_t pkt[RTP_LEN], uint32_t ssrc)
{
	memset(pkt, 0xff, RTP_LEN);     /* PCMU silence */
	pkt[0] = 0x80;
	pkt[1] = 0;                     /* PT 0: PCMU */
	pkt[8] = (uint8_t)(ssrc >> 24);
	pkt[9] = (uint8_t)(ssrc >> 16);
	pkt[10] = (uint8_t)(ssrc >> 8);
	pkt[11] = (uint8_t)ssrc;
}

/* The next packet of the stream: seq + 1, 20 ms of 8 kHz later. */
static void rtp_next(uint8_t pkt[RTP_LEN], uint32_t *seq)
{
	uint32_t ts;

	++*seq;
	ts = *seq * 160;
	pkt[2] = (uint8_t)(*seq >> 8);
	pkt[3] = (uint8_t)*seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
}

struct rtp_sender {
	int fd;
	struct sockaddr_in to;
	uint8_t pkt[RTP_LEN];
	uint32_t seq;
	srtp_t srtp;    /* baseline: protect here; NULL: the shim does */
	uint8_t buf[RTP_LEN + SRTP_MAX_TRAILER_LEN];
};

static int rtp_send_one(struct rtp_sender *s)
{
	int n = RTP_LEN;

	rtp_next(s->pkt, &s->seq);
	if (s->srtp == NULL)
		return sendto(s->fd, s->pkt, RTP_LEN, 0,
			      (struct sockaddr *)&s->to, sizeof(s->to)) ==
		       RTP_LEN ? 0 : -1;
	memcpy(s->buf, s->pkt, RTP_LEN);
	if (srtp_protect(s->srtp, s->buf, &n) != srtp_err_status_ok)
		return -1;
	return sendto(s->fd, s->buf, (size_t)n, 0, (struct sockaddr *)&s->to,
		      sizeof(s->to)) == n ? 0 : -1;
}

/* 8c: COLD_SENDS sends, each a packet time after the last (the caches
 * then hold little of the send path), each timed alone; answers their
 * median, wall ns. */
static int rtp_cold(struct rtp_sender *s)
{
	double t[COLD_SENDS];

	for (int i = 0; i < COLD_SENDS; i++) {
		usleep(COLD_GAP_US);
		double t0 = now_ns();

		if (rtp_send_one(s) != 0) {
			perror("bench_shim: cold send");
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	printf("%.2f\n", median(t, COLD_SENDS));
	fflush(stdout);
	return 0;
}

/* Warm up, say "ready <note>", then time `iters` sends for every "go"
 * line on stdin and answer "cpu_ns wall_ns" per packet, or do 8c's cold
 * sends for a "cold" line; EOF ends it. */
static int rtp_serve(struct rtp_sender *s, long iters, const char *note)
{
	char line[64];

	for (int i = 0; i < WARMUP; i++)
		if (rtp_send_one(s) != 0) {
			perror("bench_shim: warm-up send");
			return 1;
		}
	printf("ready %s\n", note);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "cold", 4) == 0) {
			if (rtp_cold(s) != 0)
				return 1;
			continue;
		}
		double c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns();
		double c1, w1;

		for (long i = 0; i < iters; i++)
			if (rtp_send_one(s) != 0) {
				perror("bench_shim: send");
				return 1;
			}
		c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		w1 = now_ns();
		printf("%.2f %.2f\n", (c1 - c0) / (double)iters,
		       (w1 - w0) / (double)iters);
		fflush(stdout);
	}
	return 0;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * Baseline child (no preload): libsrtp2 and sendto, done directly. With
 * `threaded`, the process first starts a thread that only sleeps: the
 * shim's process always has one (its timer thread), as every softphone
 * has several, and glibc's malloc takes a cheaper path in a process that
 * has never had a second thread; libsrtp2 built on NSS (Debian's, which
 * the shim links statically) allocates and frees several times per
 * packet. Without `protect` (8c's plain side) it sends the RTP packet as
 * it is, as a client without the shim does.
 */
static int role_srtp_base(long iters, bool threaded, bool protect)
{
	pthread_t idle;

	if (threaded && pthread_create(&idle, NULL, idle_thread, NULL) != 0) {
		fprintf(stderr, "bench_shim: pthread_create failed\n");
		return 1;
	}
	struct rtp_sender s = { .srtp = NULL };
	srtp_policy_t p;
	uint8_t master[SRTP_AES_ICM_128_KEY_LEN_WSALT];
	int rx, small = RCVBUF_SMALL;

	rx = udp_bound(0, &s.to);
	s.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || s.fd < 0)
		return 1;
	(void)setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	rtp_init(s.pkt, 0x5a5a0001u);
	if (!protect)
		return rtp_serve(&s, iters, "plain RTP");
	for (size_t i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)(i * 37 + 11);
	memset(&p, 0, sizeof(p));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	p.key = master;
	p.ssrc.type = ssrc_any_outbound;
	p.window_size = 1024;           /* as the shim's own contexts */
	p.allow_repeat_tx = 0;
	if (srtp_init() != srtp_err_status_ok ||
	    srtp_create(&s.srtp, &p) != srtp_err_status_ok) {
		fprintf(stderr, "bench_shim: libsrtp2 setup failed\n");
		return 1;
	}
	return rtp_serve(&s, iters, "libsrtp2 AES_CM_128_HMAC_SHA1_80");
}

/* Has this shim log file said "event: secure"? Copies the SECURE line's
 * cipher/auth into note if asked. */
static bool log_secure(const char *path, char *note, size_t cap)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	bool secure;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	secure = strstr(buf, "event: secure") != NULL;
	if (secure && note != NULL) {
		const char *c = strstr(buf, "cipher=");
		size_t l = 0;

		if (c != NULL) {
			while (c[l] != '\0' && c[l] != '\n' &&
			       strncmp(c + l, " hash=", 6) != 0)
				l++;
		}
		snprintf(note, cap, "shim %.*s", (int)l, c ? c : "");
	}
	return secure;
}

/*
 * The handshake side of both shim children: RTP every 20 ms to the other,
 * reading what comes (so the client reads its socket, as a softphone
 * does), until the logs in `wait_for` (NULL-terminated) all say secure.
 * Returns 0, or -1 on timeout.
 */
static int rtp_until_secure(struct rtp_sender *s, const char *const *wait_for,
			    char *note, size_t cap)
{
	double end = now_ns() + HANDSHAKE_SECS * 1e9, next = 0;
	uint8_t in[2048];

	while (now_ns() < end) {
		bool all = true;
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

		if (now_ns() >= next) {
			(void)rtp_send_one(s);
			next = now_ns() + 20e6;
		}
		if (poll(&pfd, 1, 5) > 0)
			(void)recv(s->fd, in, sizeof(in), MSG_DONTWAIT);
		for (int i = 0; wait_for[i] != NULL; i++)
			if (!log_secure(wait_for[i], i == 0 ? note : NULL, cap))
				all = false;
		if (all)
			return 0;
	}
	return -1;
}

/* Shim sender child (preloaded): handshake, then the timed loop. */
static int role_shim_send(long iters)
{
	struct rtp_sender s = { .srtp = NULL };
	const char *logs[3] = { getenv("ZS_LOG_SELF"), getenv("ZS_LOG_PEER"),
				NULL };
	char note[160] = "";

	s.fd = udp_bound((uint16_t)atoi(getenv("ZS_PORT_SELF")), NULL);
	s.to = loopback((uint16_t)atoi(getenv("ZS_PORT_PEER")));
	if (s.fd < 0 || logs[0] == NULL || logs[1] == NULL)
		return 1;
	rtp_init(s.pkt, 0x5a5a0002u);
	if (rtp_until_secure(&s, logs, note, sizeof(note)) != 0) {
		fprintf(stderr, "bench_shim: no ZRTP handshake within %d s "
			"(logs: %s, %s)\n", HANDSHAKE_SECS, logs[0], logs[1]);
		return 1;
	}
	return rtp_serve(&s, iters, note);
}

/* Shim peer child (preloaded): handshake, then neither reads nor sends:
 * its socket is the sender's discard receiver. Waits for EOF on stdin. */
static int role_shim_peer(void)
{
	struct rtp_sender s = { .srtp = NULL };
	const char *logs[2] = { getenv("ZS_LOG_SELF"), NULL };
	int small = RCVBUF_SMALL;
	char c;

	s.fd = udp_bound((uint16_t)atoi(getenv("ZS_PORT_SELF")), NULL);
	s.to = loopback((uint16_t)atoi(getenv("ZS_PORT_PEER")));
	if (s.fd < 0 || logs[0] == NULL)
		return 1;
	(void)setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	rtp_init(s.pkt, 0x5a5a0003u);
	if (rtp_until_secure(&s, logs, NULL, 0) != 0)
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

/* ------------------------------------------------------------------ */
/* 8b: sendto on an unrelated socket                                   */

/* The child: measure, print "sendto_ns write_ns". */
static int role_sendto(long iters)
{
	struct sockaddr_in dst;
	unsigned char pkt[172];
	int rx, tx, null_fd, small = RCVBUF_SMALL;
	double t0, t_sendto, t_write;

	memset(pkt, 0x2a, sizeof(pkt));     /* '*': not RTP, not SIP */
	rx = udp_bound(0, &dst);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (rx < 0 || tx < 0 || null_fd < 0) {
		perror("bench_shim: setup");
		return 1;
	}
	(void)setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* warm-up: page faults, lazy binding, the shim's first-use setup */
	for (int i = 0; i < WARMUP; i++)
		(void)sendto(tx, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst,
			     sizeof(dst));
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (sendto(tx, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst,
			   sizeof(dst)) != (ssize_t)sizeof(pkt)) {
			perror("bench_shim: sendto");
			return 1;
		}
	}
	t_sendto = (now_ns() - t0) / (double)iters;
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		if (write(null_fd, pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
			return 1;
	t_write = (now_ns() - t0) / (double)iters;
	printf("%.2f %.2f\n", t_sendto, t_write);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the parent                                                          */

struct child {
	pid_t pid;
	FILE *in;       /* its stdin, or NULL */
	FILE *out;      /* its stdout */
};

/* Start ourselves as a child in `role`, with the preload if shim != NULL
 * and the extra environment (NAME=VALUE, NULL-terminated). */
static int child_start(struct child *c, const char *self, const char *role,
		       const char *shim, long iters, char *const *env)
{
	int to[2], from[2];

	/* Close-on-exec: no child may hold another's stdin open. */
	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		char it[32];

		snprintf(it, sizeof(it), "%ld", iters);
		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		if (shim)
			setenv("LD_PRELOAD", shim, 1);
		else
			unsetenv("LD_PRELOAD");
		setenv("ZS_BENCH_ROLE", role, 1);
		setenv("ZS_BENCH_ITERS", it, 1);
		setenv("ZRTPSHIM_LOG", "error", 1);
		for (int i = 0; env != NULL && env[i] != NULL; i++)
			putenv(env[i]);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = fdopen(to[1], "w");
	c->out = fdopen(from[0], "r");
	return c->in && c->out ? 0 : -1;
}

/* Close its stdin (EOF: it ends), collect it. 0 if it exited 0. */
static int child_end(struct child *c)
{
	int status;

	if (c->pid <= 0)
		return -1;
	if (c->in)
		fclose(c->in);
	if (c->out)
		fclose(c->out);
	c->in = c->out = NULL;
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	c->pid = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One line from the child, waiting at most secs; NULL on EOF or timeout. */
static char *child_line(struct child *c, char *buf, size_t cap, int secs)
{
	struct pollfd pfd = { .fd = fileno(c->out), .events = POLLIN };

	if (poll(&pfd, 1, secs * 1000) <= 0)
		return NULL;
	return fgets(buf, (int)cap, c->out);
}

static int child_round(struct child *c, double *cpu, double *wall)
{
	char line[128];

	if (fputs("go\n", c->in) == EOF || fflush(c->in) != 0 ||
	    child_line(c, line, sizeof(line), 600) == NULL)
		return -1;
	return sscanf(line, "%lf %lf", cpu, wall) == 2 ? 0 : -1;
}

/* A UDP port on 127.0.0.1 nobody uses right now (the kernel's choice). */
static uint16_t free_port(void)
{
	struct sockaddr_in a;
	int fd = udp_bound(0, &a);

	if (fd < 0)
		return 0;
	close(fd);
	return ntohs(a.sin_port);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* 8a's sides, in the order they are reported. */
enum { SIDE_DIRECT, SIDE_DIRECT_MT, SIDE_SHIM, SIDES };

/* 8a: ROUNDS interleaved rounds of each side; medians into cpu[], wall[]. */
static int bench_srtp(const char *self, const char *shim, long iters,
		      double cpu[SIDES], double wall[SIDES], double cold[2])
{
	char dir[] = "/tmp/zs-bench-shim.XXXXXX";
	char e_dir[4200], e_algos[64], e_level[32];
	char e_file[4200], e_log_s[4200], e_log_p[4200], e_port_s[48],
	     e_port_p[48];
	char e_file_p[4200], e_logp_s[4200], e_pport_s[48], e_pport_p[48];
	char line[256], note_base[256] = "", note_shim[256] = "";
	double c[SIDES][ROUNDS], w[SIDES][ROUNDS];
	struct child side[SIDES] = { { 0 } }, peer = { 0 }, plain = { 0 };
	double cold_r[2][ROUNDS];
	uint16_t ps = free_port(), pp = free_port();
	int rc = -1;

	if (mkdtemp(dir) == NULL || ps == 0 || pp == 0 || ps == pp) {
		fprintf(stderr, "bench_shim: no temporary directory or ports\n");
		return -1;
	}
	snprintf(e_dir, sizeof(e_dir), "ZRTPSHIM_DIR=%s/state", dir);
	snprintf(e_algos, sizeof(e_algos), "ZRTPSHIM_ALGOS=%s", SHIM_ALGOS);
	snprintf(e_level, sizeof(e_level), "ZRTPSHIM_LOG=info");
	/* The sender's view. */
	snprintf(e_file, sizeof(e_file), "ZRTPSHIM_LOG_FILE=%s/send.log", dir);
	snprintf(e_log_s, sizeof(e_log_s), "ZS_LOG_SELF=%s/send.log", dir);
	snprintf(e_log_p, sizeof(e_log_p), "ZS_LOG_PEER=%s/peer.log", dir);
	snprintf(e_port_s, sizeof(e_port_s), "ZS_PORT_SELF=%u", ps);
	snprintf(e_port_p, sizeof(e_port_p), "ZS_PORT_PEER=%u", pp);
	char *env_send[] = { e_dir, e_algos, e_level, e_file, e_log_s, e_log_p,
			     e_port_s, e_port_p, NULL };
	/* The peer's. */
	snprintf(e_file_p, sizeof(e_file_p), "ZRTPSHIM_LOG_FILE=%s/peer.log",
		 dir);
	snprintf(e_logp_s, sizeof(e_logp_s), "ZS_LOG_SELF=%s/peer.log", dir);
	snprintf(e_pport_s, sizeof(e_pport_s), "ZS_PORT_SELF=%u", pp);
	snprintf(e_pport_p, sizeof(e_pport_p), "ZS_PORT_PEER=%u", ps);
	char *env_peer[] = { e_dir, e_algos, e_level, e_file_p, e_logp_s,
			     e_pport_s, e_pport_p, NULL };

	if (child_start(&peer, self, "shim-peer", shim, iters, env_peer) != 0 ||
	    child_start(&side[SIDE_SHIM], self, "shim-send", shim, iters,
			env_send) != 0 ||
	    child_start(&side[SIDE_DIRECT], self, "srtp-base", NULL, iters,
			NULL) != 0 ||
	    child_start(&side[SIDE_DIRECT_MT], self, "srtp-base-mt", NULL,
			iters, NULL) != 0 ||
	    child_start(&plain, self, "plain-base", NULL, iters, NULL) != 0) {
		fprintf(stderr, "bench_shim: cannot start the children\n");
		goto out;
	}
	for (int k = SIDE_DIRECT; k <= SIDE_DIRECT_MT; k++)
		if (child_line(&side[k], line, sizeof(line), 60) == NULL ||
		    strncmp(line, "ready ", 6) != 0) {
			fprintf(stderr, "bench_shim: the baseline did not "
				"start\n");
			goto out;
		}
	snprintf(note_base, sizeof(note_base), "%s", line + 6);
	if (child_line(&plain, line, sizeof(line), 60) == NULL ||
	    strncmp(line, "ready ", 6) != 0) {
		fprintf(stderr, "bench_shim: the plain sender did not start\n");
		goto out;
	}
	if (child_line(&side[SIDE_SHIM], line, sizeof(line),
		       HANDSHAKE_SECS + 30) == NULL ||
	    strncmp(line, "ready ", 6) != 0) {
		fprintf(stderr, "bench_shim: the shim's stream did not become "
			"secure (logs kept in %s)\n", dir);
		dir[0] = '\0';
		goto out;
	}
	snprintf(note_shim, sizeof(note_shim), "%s", line + 6);
	note_base[strcspn(note_base, "\n")] = '\0';
	note_shim[strcspn(note_shim, "\n")] = '\0';
	for (int r = 0; r < ROUNDS; r++) {
		/* Rotate who goes first: no side always runs on a cache or
		 * CPU frequency another has just warmed. */
		for (int k = 0; k < SIDES; k++) {
			int i = (r + k) % SIDES;

			if (child_round(&side[i], &c[i][r], &w[i][r]) != 0) {
				fprintf(stderr, "bench_shim: a timed round "
					"failed\n");
				goto out;
			}
		}
	}
	for (int i = 0; i < SIDES; i++) {
		cpu[i] = median(c[i], ROUNDS);
		wall[i] = median(w[i], ROUNDS);
	}
	/* 8c: plain and shim, cold, alternating who goes first. */
	for (int r = 0; r < ROUNDS; r++)
		for (int k = 0; k < 2; k++) {
			int i = (r + k) % 2;
			struct child *ch = i == 0 ? &plain : &side[SIDE_SHIM];

			if (fputs("cold\n", ch->in) == EOF ||
			    fflush(ch->in) != 0 ||
			    child_line(ch, line, sizeof(line), 600) == NULL ||
			    sscanf(line, "%lf", &cold_r[i][r]) != 1) {
				fprintf(stderr, "bench_shim: a cold round "
					"failed\n");
				goto out;
			}
		}
	cold[0] = median(cold_r[0], ROUNDS);
	cold[1] = median(cold_r[1], ROUNDS);
	printf("  setup: direct %s; %s\n", note_base, note_shim);
	rc = 0;
out:
	/* On failure a child may still be in its handshake loop, which
	 * would not see our EOF until its own time limit: end it now. */
	if (rc != 0) {
		for (int i = 0; i < SIDES; i++)
			if (side[i].pid > 0)
				kill(side[i].pid, SIGTERM);
		if (peer.pid > 0)
			kill(peer.pid, SIGTERM);
		if (plain.pid > 0)
			kill(plain.pid, SIGTERM);
	}
	for (int i = 0; i < SIDES; i++)
		if (child_end(&side[i]) != 0 && rc == 0)
			rc = -1;
	if (child_end(&plain) != 0 && rc == 0)
		rc = -1;
	(void)child_end(&peer);
	if (dir[0] != '\0')
		(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* 8b: one child run without (shim == NULL) or with the preload. */
static int run_sendto(const char *self, const char *shim, long iters,
		      double *t_sendto, double *t_write)
{
	struct child c = { 0 };
	char line[128];
	int ok;

	if (child_start(&c, self, "sendto", shim, iters, NULL) != 0)
		return -1;
	ok = child_line(&c, line, sizeof(line), 600) != NULL &&
	     sscanf(line, "%lf %lf", t_sendto, t_write) == 2;
	return child_end(&c) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *role = getenv("ZS_BENCH_ROLE");
	double base_s[ROUNDS], shim_s[ROUNDS], base_w[ROUNDS], shim_w[ROUNDS];
	double cpu[SIDES], wall[SIDES], cold[2] = { 0, 0 }, ratio, rs;
	char self[4096];
	ssize_t sl;
	long iters = 300000, srtp_iters = 200000;

	if (role != NULL) {
		long n = strtol(getenv("ZS_BENCH_ITERS") ?
				getenv("ZS_BENCH_ITERS") : "1", NULL, 10);

		if (strcmp(role, "sendto") == 0)
			return role_sendto(n);
		if (strcmp(role, "srtp-base") == 0)
			return role_srtp_base(n, false, true);
		if (strcmp(role, "srtp-base-mt") == 0)
			return role_srtp_base(n, true, true);
		if (strcmp(role, "plain-base") == 0)
			return role_srtp_base(n, false, false);
		if (strcmp(role, "shim-send") == 0)
			return role_shim_send(n);
		if (strcmp(role, "shim-peer") == 0)
			return role_shim_peer();
		return 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s /path/to/libzrtpshim.so "
			"[sendto-calls [srtp-packets]]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		iters = strtol(argv[2], NULL, 10);
	if (argc > 3)
		srtp_iters = strtol(argv[3], NULL, 10);
	if (iters <= 0 || srtp_iters <= 0 || access(argv[1], R_OK) != 0) {
		fprintf(stderr, "bench_shim: bad arguments\n");
		return 2;
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return 1;
	self[sl] = '\0';
	/* Our children's stdin pipes: a child that died must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	printf("bench_shim: %d interleaved rounds each, medians\n", ROUNDS);
	fflush(stdout);
	if (bench_srtp(self, argv[1], srtp_iters, cpu, wall, cold) != 0) {
		fprintf(stderr, "bench_shim: the send-path comparison failed\n");
		return 1;
	}
	rs = cpu[SIDE_SHIM] / cpu[SIDE_DIRECT];
	printf("  8a RTP send path, %ld packets of %d bytes per round, ns/packet:\n",
	       srtp_iters, RTP_LEN);
	printf("     direct: libsrtp2 protect + sendto        cpu %8.1f  wall %8.1f\n",
	       cpu[SIDE_DIRECT], wall[SIDE_DIRECT]);
	printf("     the same, with an idle second thread     cpu %8.1f  wall %8.1f\n",
	       cpu[SIDE_DIRECT_MT], wall[SIDE_DIRECT_MT]);
	printf("     shim: sendto on a SECURE stream          cpu %8.1f  wall %8.1f\n",
	       cpu[SIDE_SHIM], wall[SIDE_SHIM]);
	printf("     ratio shim/direct                        cpu %8.3f  wall %8.3f  (goal <= 1.10: %s)\n",
	       rs, wall[SIDE_SHIM] / wall[SIDE_DIRECT],
	       rs <= 1.10 ? "met" : "NOT met");
	printf("     ratio shim/direct with a second thread   cpu %8.3f  wall %8.3f\n",
	       cpu[SIDE_SHIM] / cpu[SIDE_DIRECT_MT],
	       wall[SIDE_SHIM] / wall[SIDE_DIRECT_MT]);
	printf("  8c the same send with cold caches (%d sends per round, each "
	       "%d ms after the last), wall ns/packet, median:\n",
	       COLD_SENDS, COLD_GAP_US / 1000);
	printf("     plain: the RTP packet, sendto, no SRTP        %8.1f\n", cold[0]);
	printf("     shim: sendto on a SECURE stream               %8.1f\n", cold[1]);
	printf("     the shim adds per packet sent                 %8.1f  (ratio %.3f)\n",
	       cold[1] - cold[0], cold[1] / cold[0]);
	fflush(stdout);

	for (int r = 0; r < ROUNDS; r++) {
		if (run_sendto(self, NULL, iters, &base_s[r], &base_w[r]) != 0 ||
		    run_sendto(self, argv[1], iters, &shim_s[r], &shim_w[r]) != 0) {
			fprintf(stderr, "bench_shim: a child run failed\n");
			return 1;
		}
	}
	ratio = median(shim_s, ROUNDS) / median(base_s, ROUNDS);
	printf("  8b unrelated UDP socket, %ld calls per round, wall ns/call:\n",
	       iters);
	printf("     sendto 127.0.0.1 (tracked fd)   libc %8.1f  shim %8.1f  ratio %.3f (goal <= 1.03: %s)\n",
	       median(base_s, ROUNDS), median(shim_s, ROUNDS), ratio,
	       ratio <= 1.03 ? "met" : "NOT met");
	printf("     write /dev/null (untracked fd)  libc %8.1f  shim %8.1f  ratio %.3f\n",
	       median(base_w, ROUNDS), median(shim_w, ROUNDS),
	       median(shim_w, ROUNDS) / median(base_w, ROUNDS));
	return 0;
}
