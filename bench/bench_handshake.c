/*
 * Handshake cost, ours against libbzrtp: for each key agreement, the CPU
 * time (CLOCK_PROCESS_CPUTIME_ID) of N complete DH-mode handshakes between
 * two of our engines and between two bzrtp contexts, measured in the same
 * run, per handshake, and the ratio ours/bzrtp.
 *
 * A handshake here is everything a call pays: creating both endpoints,
 * Hello to Conf2ACK over the in-memory network of tests/interop (zero
 * latency, nothing lost), and freeing both. Both sides start active, so
 * either engine may see Commit contention, as in a real call.
 *
 * Not a test: it asserts nothing about time. It exits non-zero only if a
 * handshake fails. Usage: bench_handshake [SCALE] (SCALE multiplies N,
 * default 1; a few seconds in all at 1).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/interop/bzrtp_peer.h"
#include "zrtp/zrtp.h"

/* --- two of our engines ----------------------------------------------------- */

struct ours {
	struct zrtp_session *sess;
	struct zrtp_stream *st;
	struct pkt_queue out;
	unsigned secure;
};

static int ours_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
	return 0;
}

static int ours_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct ours *o = arg;
	return pkt_queue_push(&o->out, pkt, len);
}

static void ours_event(void *arg, const struct zrtp_event *ev)
{
	struct ours *o = arg;
	if (ev->type == ZRTP_EV_SECURE)
		o->secure++;
}

static int ours_input(void *arg, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct ours *o = arg;
	return zrtp_stream_input(o->st, pkt, len, now, NULL);
}

static void ours_tick(void *arg, uint64_t now)
{
	struct ours *o = arg;
	uint64_t d = zrtp_stream_deadline(o->st);
	if (d != ZRTP_NO_DEADLINE && now >= d)
		zrtp_stream_tick(o->st, now);
}

static bool ours_finished(void *arg)
{
	struct ours *o = arg;
	enum zrtp_state s = zrtp_stream_state(o->st);
	return s == ZRTP_ST_SECURE || s == ZRTP_ST_FAILED;
}

static int ours_new(struct ours *o, const char *prefs, uint32_t ssrc,
		    const char *name, struct interop_party *p)
{
	static const struct zrtp_callbacks cb = {
		.random = ours_random,
		.send = ours_send,
		.event = ours_event,
	};
	struct zrtp_config cfg;
	uint8_t zid[12];

	memset(o, 0, sizeof(*o));
	pkt_queue_init(&o->out);
	randombytes_buf(zid, sizeof(zid));
	zrtp_config_default(&cfg, zid);
	if (zrtp_algo_prefs_parse(&cfg.prefs, prefs) != 0)
		return -EINVAL;
	o->sess = zrtp_session_new(&cfg, &cb, o);
	if (!o->sess)
		return -ENOMEM;
	o->st = zrtp_stream_new(o->sess, ssrc, o);
	if (!o->st) {
		zrtp_session_free(o->sess);
		return -ENOMEM;
	}
	p->name = name;
	p->arg = o;
	p->out = &o->out;
	p->input = ours_input;
	p->tick = ours_tick;
	p->finished = ours_finished;
	return 0;
}

static void ours_free(struct ours *o)
{
	zrtp_stream_free(o->st);
	zrtp_session_free(o->sess);
}

static int handshake_ours(const char *ka)
{
	char prefs[96];
	struct ours a, b;
	struct interop_party pa, pb;
	struct interop_run run;
	int rc;

	snprintf(prefs, sizeof(prefs),
		 "hash=S256;cipher=AES1;auth=HS80;ka=%s;sas=B32", ka);
	if ((rc = ours_new(&a, prefs, 0x1111, "ours-a", &pa)) != 0)
		return rc;
	if ((rc = ours_new(&b, prefs, 0x2222, "ours-b", &pb)) != 0) {
		ours_free(&a);
		return rc;
	}
	interop_run_init(&run);
	rc = zrtp_stream_start(a.st, run.now);
	if (rc == 0)
		rc = zrtp_stream_start(b.st, run.now);
	if (rc == 0)
		rc = interop_exchange(&run, &pa, &pb);
	if (rc == 0 && (zrtp_stream_state(a.st) != ZRTP_ST_SECURE ||
			zrtp_stream_state(b.st) != ZRTP_ST_SECURE ||
			strcmp(zrtp_stream_sas(a.st), zrtp_stream_sas(b.st)) != 0))
		rc = -EPROTO;
	if (rc != 0)
		fprintf(stderr, "ours-vs-ours %s: %s / %s (%s / %s)\n", ka,
			zrtp_state_str(zrtp_stream_state(a.st)),
			zrtp_state_str(zrtp_stream_state(b.st)),
			zrtp_fail_str(zrtp_stream_failure(a.st)),
			zrtp_fail_str(zrtp_stream_failure(b.st)));
	ours_free(&a);
	ours_free(&b);
	return rc;
}

/* --- two bzrtp contexts ------------------------------------------------------ */

static int handshake_bzrtp(uint32_t ka)
{
	struct bzrtp_peer_config cfg;
	struct pkt_queue qa, qb;
	struct interop_party pa, pb;
	struct interop_run run;
	int rc = -ENOMEM;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hash[0] = ZRTP_HASH_S256;
	cfg.n_hash = 1;
	cfg.cipher[0] = ZRTP_CIPHER_AES1;
	cfg.n_cipher = 1;
	cfg.auth[0] = ZRTP_AUTH_HS80;
	cfg.n_auth = 1;
	cfg.ka[0] = ka;
	cfg.n_ka = 1;
	cfg.sas[0] = ZRTP_SAS_B32;
	cfg.n_sas = 1;
	pkt_queue_init(&qa);
	pkt_queue_init(&qb);
	struct bzrtp_peer *a = bzrtp_peer_new(&cfg, 0x1111, &qa);
	struct bzrtp_peer *b = bzrtp_peer_new(&cfg, 0x2222, &qb);
	if (!a || !b)
		goto out;
	bzrtp_peer_party(a, "bzrtp-a", &pa);
	bzrtp_peer_party(b, "bzrtp-b", &pb);
	interop_run_init(&run);
	rc = bzrtp_peer_start(a);
	if (rc == 0)
		rc = bzrtp_peer_start(b);
	if (rc == 0)
		rc = interop_exchange(&run, &pa, &pb);
	if (rc == 0 && strcmp(bzrtp_peer_result(a)->sas,
			      bzrtp_peer_result(b)->sas) != 0)
		rc = -EPROTO;
	if (rc != 0)
		fprintf(stderr, "bzrtp-vs-bzrtp: handshake failed (%d)\n", rc);
out:
	bzrtp_peer_free(a);
	bzrtp_peer_free(b);
	return rc;
}

/* The key agreements this libbzrtp offers, for the record. */
static const char *bzrtp_kas(void)
{
	static const char *const names[] = {"DH2k", "X255", "EC25", "X448",
					    "DH3k", "EC38", "EC52"};
	static char buf[64];
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];
		uint32_t w = ZRTP_NAME(n[0], n[1], n[2], n[3]);
		if (bzrtp_peer_supports("ka", w)) {
			strcat(buf, " ");
			strcat(buf, n);
		}
	}
	return buf;
}

/* --- measuring ----------------------------------------------------------------- */

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct ka_case {
	const char *name;
	uint32_t wire;
	unsigned n;                     /* handshakes per engine at SCALE 1 */
};

int main(int argc, char **argv)
{
	static const struct ka_case cases[] = {
		{"DH3k", ZRTP_KA_DH3K, 150},
		{"X255", ZRTP_KA_X255, 1500},
		{"EC25", ZRTP_KA_EC25, 1500},
	};
	unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
	int status = EXIT_SUCCESS;

	if (scale == 0)
		scale = 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_handshake: sodium_init failed\n");
		return EXIT_FAILURE;
	}
	printf("Full DH-mode handshakes (S256, AES1, HS80, B32), CPU time per "
	       "handshake, both endpoints in this process.\n");
	printf("%-5s %6s %12s %12s %12s\n", "ka", "N", "ours ms", "bzrtp ms",
	       "ours/bzrtp");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ka_case *c = &cases[i];
		unsigned n = c->n * scale;
		bool have_ours = zrtp_algo_supported(ZRTP_KIND_KA, c->wire);
		bool have_bz = bzrtp_peer_supports("ka", c->wire);
		double ours = -1, bz = -1;

		if (have_ours) {
			double t0 = cpu_ms();
			for (unsigned k = 0; k < n; k++)
				if (handshake_ours(c->name) != 0) {
					status = EXIT_FAILURE;
					have_ours = false;
					break;
				}
			if (have_ours)
				ours = (cpu_ms() - t0) / n;
		}
		if (have_bz) {
			double t0 = cpu_ms();
			for (unsigned k = 0; k < n; k++)
				if (handshake_bzrtp(c->wire) != 0) {
					status = EXIT_FAILURE;
					have_bz = false;
					break;
				}
			if (have_bz)
				bz = (cpu_ms() - t0) / n;
		}

		char so[16] = "n/a", sb[16] = "n/a", sr[16] = "n/a";
		if (ours >= 0)
			snprintf(so, sizeof(so), "%.3f", ours);
		if (bz >= 0)
			snprintf(sb, sizeof(sb), "%.3f", bz);
		if (ours >= 0 && bz > 0)
			snprintf(sr, sizeof(sr), "%.2f", ours / bz);
		printf("%-5s %6u %12s %12s %12s\n", c->name, n, so, sb, sr);
		if (!zrtp_algo_supported(ZRTP_KIND_KA, c->wire))
			printf("      (%s: not implemented by our engine)\n",
			       c->name);
		if (!bzrtp_peer_supports("ka", c->wire))
			printf("      (%s: not offered by this libbzrtp, which "
			       "has:%s)\n", c->name, bzrtp_kas());
	}
	return status;
}
