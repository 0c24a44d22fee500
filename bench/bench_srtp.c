/*
 * SRTP protect and unprotect per packet: libsrtp2 with the shim's AES-ICM
 * and HMAC-SHA1 on libcrypto (shim/srtp_evp.c) against libsrtp2's own
 * (Debian's, on NSS), side by side in one process. For each profile and
 * packet size, each round times both implementations in turn (the order
 * alternating between rounds), so drift in machine load hits both alike;
 * it prints the medians over the rounds, in CPU ns per packet of this
 * thread (CLOCK_THREAD_CPUTIME_ID), and ours/stock.
 *
 *   bench_srtp [PACKETS-PER-ROUND [ROUNDS]]      (defaults 40000, 7)
 *
 * One packet: copy the plain RTP packet (12-byte header, the rest
 * payload) into a buffer, set its sequence number, srtp_protect; later,
 * srtp_unprotect of each protected packet, in order, by a receiving
 * session of the same implementation. Packets go in batches of 256, so
 * the buffers stay in the cache.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "shim/srtp_evp.h"

extern const srtp_cipher_type_t srtp_aes_icm_128;
extern const srtp_cipher_type_t srtp_aes_icm_256;
extern const srtp_auth_type_t srtp_hmac;

#define BATCH 256
#define MAXLEN 1212
#define ROUNDS_MAX 51

enum impl { STOCK, OURS };
static const char *const impl_names[] = { "stock", "ours" };

struct profile {
	const char *name;
	void (*set)(srtp_crypto_policy_t *p);
	int key_len;
};
static const struct profile profiles[] = {
	{ "AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default, 30 },
	{ "AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, 30 },
	{ "AES_CM_256_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46 },
	{ "AES_CM_256_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32, 46 },
};
#define NPROF (sizeof profiles / sizeof profiles[0])
static const int sizes[] = { 172, 1212 };
#define NSIZE (sizeof sizes / sizeof sizes[0])

static int kernel_use(enum impl w)
{
	if (srtp_replace_cipher_type(w == OURS ? &srtp_evp_aes_icm_128 :
				     &srtp_aes_icm_128, SRTP_AES_ICM_128) ||
	    srtp_replace_cipher_type(w == OURS ? &srtp_evp_aes_icm_256 :
				     &srtp_aes_icm_256, SRTP_AES_ICM_256) ||
	    srtp_replace_auth_type(w == OURS ? &srtp_evp_hmac_sha1 :
				   &srtp_hmac, SRTP_HMAC_SHA1))
		return -1;
	return 0;
}

static srtp_t session(enum impl w, const struct profile *pr,
		      const uint8_t *key, uint32_t ssrc)
{
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	pr->set(&p.rtp);
	pr->set(&p.rtcp);
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = ssrc;
	p.key = (unsigned char *)key;
	p.window_size = 128;
	srtp_t s = NULL;
	if (kernel_use(w) < 0 || srtp_create(&s, &p) != srtp_err_status_ok) {
		fprintf(stderr, "bench_srtp: %s session for %s failed\n",
			impl_names[w], pr->name);
		exit(1);
	}
	return s;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct side {
	srtp_t tx, rx;
	uint16_t seq;
};

static uint8_t plain[MAXLEN];
static uint8_t bufs[BATCH][MAXLEN + SRTP_MAX_TRAILER_LEN];
static int lens[BATCH];

/* n packets of len octets through s: adds the CPU ns of protect and of
 * unprotect to *prot and *unprot. */
static void run(struct side *s, int len, long n, double *prot, double *unprot)
{
	for (long done = 0; done < n; done += BATCH) {
		double t0 = now_ns();
		for (int i = 0; i < BATCH; i++) {
			memcpy(bufs[i], plain, (size_t)len);
			bufs[i][2] = (uint8_t)(s->seq >> 8);
			bufs[i][3] = (uint8_t)s->seq;
			s->seq++;
			lens[i] = len;
			if (srtp_protect(s->tx, bufs[i], &lens[i])) {
				fprintf(stderr, "bench_srtp: protect failed\n");
				exit(1);
			}
		}
		double t1 = now_ns();
		for (int i = 0; i < BATCH; i++)
			if (srtp_unprotect(s->rx, bufs[i], &lens[i]) ||
			    lens[i] != len) {
				fprintf(stderr, "bench_srtp: unprotect failed\n");
				exit(1);
			}
		double t2 = now_ns();
		*prot += t1 - t0;
		*unprot += t2 - t1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 40000;
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	if (n < BATCH || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: bench_srtp [PACKETS>=%d [ROUNDS<=%d]]\n",
			BATCH, ROUNDS_MAX);
		return 2;
	}
	n = (n + BATCH - 1) / BATCH * BATCH;
	if (srtp_init() != srtp_err_status_ok || srtp_evp_install()) {
		fprintf(stderr, "bench_srtp: libsrtp2 set-up failed\n");
		return 1;
	}
	uint8_t key[46];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	uint32_t ssrc = 0x5eed1234;
	for (int i = 0; i < MAXLEN; i++)
		plain[i] = (uint8_t)(i * 7);
	plain[0] = 0x80;
	plain[1] = 0;
	uint32_t be = htonl(ssrc);
	memcpy(plain + 8, &be, 4);

	static struct side sides[NPROF][2];
	for (size_t p = 0; p < NPROF; p++)
		for (int w = 0; w < 2; w++) {
			sides[p][w].tx = session((enum impl)w, &profiles[p], key, ssrc);
			sides[p][w].rx = session((enum impl)w, &profiles[p], key, ssrc);
			sides[p][w].seq = 65000;   /* wraps early: the ROC moves */
		}
	/* warm-up */
	for (size_t p = 0; p < NPROF; p++)
		for (int w = 0; w < 2; w++) {
			double a = 0, b = 0;
			run(&sides[p][w], 172, 2048, &a, &b);
		}

	static double res[NPROF][NSIZE][2][2][ROUNDS_MAX]; /* [..][impl][prot/unprot][round] */
	for (int r = 0; r < rounds; r++)
		for (size_t p = 0; p < NPROF; p++)
			for (size_t z = 0; z < NSIZE; z++)
				for (int k = 0; k < 2; k++) {
					int w = (k + r) % 2;
					double a = 0, b = 0;
					run(&sides[p][w], sizes[z], n, &a, &b);
					res[p][z][w][0][r] = a / n;
					res[p][z][w][1][r] = b / n;
				}

	printf("bench_srtp: %ld packets x %d rounds per cell, median CPU ns "
	       "per packet (thread CPU time)\n", n, rounds);
	printf("%-24s %5s %10s %10s %7s %7s   %10s %10s %7s %7s\n", "profile",
	       "bytes", "prot-stock", "prot-ours", "ratio", "x", "unp-stock",
	       "unp-ours", "ratio", "x");
	for (size_t p = 0; p < NPROF; p++)
		for (size_t z = 0; z < NSIZE; z++) {
			double m[2][2];
			for (int w = 0; w < 2; w++)
				for (int d = 0; d < 2; d++)
					m[w][d] = median(res[p][z][w][d], rounds);
			printf("%-24s %5d %10.0f %10.0f %7.3f %7.2f   %10.0f %10.0f %7.3f %7.2f\n",
			       profiles[p].name, sizes[z], m[STOCK][0], m[OURS][0],
			       m[OURS][0] / m[STOCK][0], m[STOCK][0] / m[OURS][0],
			       m[STOCK][1], m[OURS][1], m[OURS][1] / m[STOCK][1],
			       m[STOCK][1] / m[OURS][1]);
		}
	printf("ratio = ours/stock (lower is better); x = stock/ours "
	       "(speed-up)\n");
	for (size_t p = 0; p < NPROF; p++)
		for (int w = 0; w < 2; w++) {
			srtp_dealloc(sides[p][w].tx);
			srtp_dealloc(sides[p][w].rx);
		}
	return 0;
}
