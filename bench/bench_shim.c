/*
 * bench_shim: what the shim costs a client on traffic it does not care
 * about (issue item 8b; goal: at most 3% on sendto).
 *
 * The measured loop: sendto() of a 172-byte non-RTP, non-SIP datagram on
 * an ordinary UDP socket to a discard receiver on 127.0.0.1 (bound, never
 * read: the kernel drops what overflows, sendto still succeeds), and, for
 * the "untracked fd" path, write() of the same bytes to /dev/null.
 *
 * One run measures both sides: the program re-executes itself as a child
 * without LD_PRELOAD and with LD_PRELOAD=libzrtpshim.so, interleaved for
 * ROUNDS rounds (so drift in machine load hits both alike), and reports
 * the median ns per call of each and their ratio.
 *
 *   bench_shim /path/to/libzrtpshim.so [iterations]
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The child: measure, print "sendto_ns write_ns". */
static int bench_child(long iters)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	socklen_t dl = sizeof(dst);
	unsigned char pkt[172];
	int rx, tx, null_fd, small = 4096;
	double t0, t_sendto, t_write;

	memset(pkt, 0x2a, sizeof(pkt));     /* '*': not RTP, not SIP */
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (rx < 0 || tx < 0 || null_fd < 0 ||
	    bind(rx, (struct sockaddr *)&dst, sizeof(dst)) != 0 ||
	    getsockname(rx, (struct sockaddr *)&dst, &dl) != 0) {
		perror("bench_shim: setup");
		return 1;
	}
	(void)setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* warm-up: page faults, lazy binding, the shim's first-use setup */
	for (int i = 0; i < 2000; i++)
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

/* Run ourselves as a child with (shim != NULL) or without the preload. */
static int run_child(const char *self, const char *shim, long iters,
		     double *t_sendto, double *t_write)
{
	int pfd[2], status;
	char out[128] = "";
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pfd) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char it[32];
		snprintf(it, sizeof(it), "%ld", iters);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		if (shim)
			setenv("LD_PRELOAD", shim, 1);
		else
			unsetenv("LD_PRELOAD");
		setenv("ZS_BENCH_CHILD", it, 1);
		setenv("ZRTPSHIM_LOG", "error", 1);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	out[got] = '\0';
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return sscanf(out, "%lf %lf", t_sendto, t_write) == 2 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *child = getenv("ZS_BENCH_CHILD");
	double base_s[ROUNDS], shim_s[ROUNDS], base_w[ROUNDS], shim_w[ROUNDS];
	char self[4096];
	ssize_t sl;
	long iters = 300000;
	double ratio;

	if (child != NULL)
		return bench_child(strtol(child, NULL, 10));
	if (argc < 2) {
		fprintf(stderr, "usage: %s /path/to/libzrtpshim.so [iterations]\n",
			argv[0]);
		return 2;
	}
	if (argc > 2)
		iters = strtol(argv[2], NULL, 10);
	if (iters <= 0 || access(argv[1], R_OK) != 0) {
		fprintf(stderr, "bench_shim: bad arguments\n");
		return 2;
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return 1;
	self[sl] = '\0';

	for (int r = 0; r < ROUNDS; r++) {
		if (run_child(self, NULL, iters, &base_s[r], &base_w[r]) != 0 ||
		    run_child(self, argv[1], iters, &shim_s[r], &shim_w[r]) != 0) {
			fprintf(stderr, "bench_shim: a child run failed\n");
			return 1;
		}
	}
	qsort(base_s, ROUNDS, sizeof(double), cmp_double);
	qsort(shim_s, ROUNDS, sizeof(double), cmp_double);
	qsort(base_w, ROUNDS, sizeof(double), cmp_double);
	qsort(shim_w, ROUNDS, sizeof(double), cmp_double);
	ratio = shim_s[ROUNDS / 2] / base_s[ROUNDS / 2];
	printf("bench_shim: %ld calls x %d interleaved rounds, median ns/call\n",
	       iters, ROUNDS);
	printf("  sendto UDP 127.0.0.1 (tracked, unrelated): libc %8.1f  shim %8.1f  ratio %.3f (goal <= 1.03: %s)\n",
	       base_s[ROUNDS / 2], shim_s[ROUNDS / 2], ratio,
	       ratio <= 1.03 ? "met" : "NOT met");
	printf("  write /dev/null (untracked fd):            libc %8.1f  shim %8.1f  ratio %.3f\n",
	       base_w[ROUNDS / 2], shim_w[ROUNDS / 2],
	       shim_w[ROUNDS / 2] / base_w[ROUNDS / 2]);
	return 0;
}
