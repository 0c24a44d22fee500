/*
 * Writes the seed corpora of fuzz_engine and fuzz_packet from simulated
 * handshakes. Built with the harnesses (configure --enable-fuzz); run by
 * `make fuzz FUZZ_REGEN=1`:
 *
 *   gen_corpus <corpus dir>     (tests/fuzz/corpus)
 *
 * fuzz_engine seeds are, per scenario, the selector bytes and the packets
 * the genuine peer sends once the scenario's setup is released: the
 * messages the driven stream expects next, so a seed replays the rest of
 * a real handshake and the fuzzer mutates from there. fuzz_packet seeds
 * are those packets as they are, plus the messages a handshake never
 * sends, built with the codec.
 */
#include "tests/fuzz/fuzz_engine.c"

#include <sys/stat.h>

static int write_file(const char *dir, const char *name, const uint8_t *buf,
		      size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The message without the packet header, seq or CRC. */
static bool same_msg(const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen)
{
	return alen == blen && alen > ZRTP_PKT_HDR_LEN + ZRTP_CRC_LEN &&
	       memcmp(a + ZRTP_PKT_HDR_LEN, b + ZRTP_PKT_HDR_LEN,
		      alen - ZRTP_PKT_HDR_LEN - ZRTP_CRC_LEN) == 0;
}

/* fuzz_packet: one file per distinct message type seen. */
static bool packet_seen[ZRTP_MSG_TYPE_COUNT];
static int n_packet_seeds;

static int packet_seed(const char *dir, const uint8_t *pkt, size_t len,
		       const char *tag)
{
	enum zrtp_msg_type t = sim_pkt_type(pkt, len);
	char name[64];
	if (t == ZRTP_MSG_NONE || (packet_seen[t] && tag == NULL))
		return 0;
	packet_seen[t] = true;
	snprintf(name, sizeof name, "%s%s%s", zrtp_msg_type_name(t),
		 tag ? "-" : "", tag ? tag : "");
	n_packet_seeds++;
	return write_file(dir, name, pkt, len);
}

/* Messages no simulated handshake sends, built with the codec. */
static const uint8_t zero_enc[64];
static const struct {
	const char *tag;
	struct zrtp_msg m;
} synthetic[] = {
	{ "0x62", { .type = ZRTP_MSG_ERROR, .u.error_code = 0x62 } },
	{ NULL, { .type = ZRTP_MSG_PING,
		  .u.ping = { .version = ZRTP_VERSION_110,
			      .endpoint_hash = { 9, 8, 7, 6, 5, 4, 3, 2 } } } },
	{ NULL, { .type = ZRTP_MSG_GOCLEAR,
		  .u.clear_mac = { 1, 2, 3, 4, 5, 6, 7, 8 } } },
	{ NULL, { .type = ZRTP_MSG_SASRELAY,
		  .u.confirm = { .enc = zero_enc, .enc_len = 40 } } },
	{ NULL, { .type = ZRTP_MSG_CLEARACK } },
	{ NULL, { .type = ZRTP_MSG_RELAYACK } },
	{ NULL, { .type = ZRTP_MSG_PINGACK,
		  .u.pingack = { .version = ZRTP_VERSION_110,
				 .sender_hash = { 1 }, .received_hash = { 2 },
				 .ssrc = 0x1234 } } },
	{ "Mult", { .type = ZRTP_MSG_COMMIT,
		    .u.commit = { .hash = ZRTP_HASH_S256,
				  .cipher = ZRTP_CIPHER_AES1,
				  .auth = ZRTP_AUTH_HS32, .ka = ZRTP_KA_MULT,
				  .sas = ZRTP_SAS_B32 } } },
	{ "Prsh", { .type = ZRTP_MSG_COMMIT,
		    .u.commit = { .hash = ZRTP_HASH_S256,
				  .cipher = ZRTP_CIPHER_AES1,
				  .auth = ZRTP_AUTH_HS32, .ka = ZRTP_KA_PRSH,
				  .sas = ZRTP_SAS_B32 } } },
};
#define N_SYNTHETIC (sizeof synthetic / sizeof synthetic[0])
#define N_SECURE_EXTRAS 4   /* the first four: what a secure stream gets */

static int synthetic_packet(size_t i, uint8_t pkt[ZRTP_MAX_PKT_LEN])
{
	uint8_t msg[ZRTP_MAX_MSG_LEN];
	int ml = zrtp_msg_encode(msg, sizeof msg, &synthetic[i].m);
	if (ml < 0)
		return ml;
	return zrtp_packet_wrap(pkt, ZRTP_MAX_PKT_LEN, 7, 0xdecafbad, msg,
				(size_t)ml);
}

static int synthetic_packets(const char *dir)
{
	uint8_t pkt[ZRTP_MAX_PKT_LEN];
	for (size_t i = 0; i < N_SYNTHETIC; i++) {
		int pl = synthetic_packet(i, pkt);
		if (pl < 0 ||
		    packet_seed(dir, pkt, (size_t)pl, synthetic[i].tag) < 0)
			return -1;
	}
	return 0;
}

static int engine_seed(const char *dir, const char *pdir, unsigned sci,
		       uint8_t alg)
{
	static struct capture cap;
	struct reference ref;
	static uint8_t seed[2 + (16 + N_SECURE_EXTRAS + 1) * (2 + ZRTP_MAX_PKT_LEN)];
	size_t n = 0;
	bool any_released = false;
	char name[96];

	memset(&cap, 0, sizeof cap);
	reference_run(sci, alg, &ref, &cap);
	for (int i = 0; i < cap.n; i++)
		any_released |= cap.released[i];
	seed[n++] = (uint8_t)sci;
	seed[n++] = alg;
	for (int i = 0; i < cap.n; i++) {
		bool dup = false;
		if (any_released && !cap.released[i])
			continue;
		for (int j = 0; j < i; j++)
			if ((!any_released || cap.released[j]) &&
			    same_msg(cap.pkt[i], cap.len[i], cap.pkt[j],
				     cap.len[j]))
				dup = true;
		if (dup)
			continue;
		seed[n++] = (uint8_t)((REC_REWRAP | cap.len[i]) >> 8);
		seed[n++] = (uint8_t)cap.len[i];
		memcpy(seed + n, cap.pkt[i], cap.len[i]);
		n += cap.len[i];
		if (pdir && packet_seed(pdir, cap.pkt[i], cap.len[i], NULL) < 0)
			return -1;
	}
	/* A secure stream: what may still come, and the implicit Conf2ACK
	 * record (length 0). */
	if (scenarios[sci].state == ZRTP_ST_SECURE) {
		for (size_t i = 0; i < N_SECURE_EXTRAS; i++) {
			int pl = synthetic_packet(i, seed + n + 2);
			if (pl < 0)
				return -1;
			seed[n++] = (uint8_t)((REC_REWRAP | (unsigned)pl) >> 8);
			seed[n++] = (uint8_t)pl;
			n += (size_t)pl;
		}
		seed[n++] = 0;
		seed[n++] = 0;
	}
	snprintf(name, sizeof name, "%s-%02x", scenarios[sci].name, alg);
	printf("%-28s %zu bytes, %d packets captured, reference %s\n", name, n,
	       cap.n, ref.secure ? ref.sas : "not secure");
	return write_file(dir, name, seed, n);
}

int main(int argc, char **argv)
{
	char edir[400], pdir[400];
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	snprintf(edir, sizeof edir, "%s/fuzz_engine", argv[1]);
	snprintf(pdir, sizeof pdir, "%s/fuzz_packet", argv[1]);
	mkdir(edir, 0755);
	mkdir(pdir, 0755);

	/* Every scenario with X255/S256/AES1/HS32/B32; a few with the other
	 * choices; one DH3k. fuzz_packet gets the packets the first time
	 * each type shows up. */
	for (unsigned i = 0; i < N_SCENARIOS; i++)
		if (engine_seed(edir, pdir, i, 0x00) < 0)
			return 1;
	static const struct { const char *name; uint8_t alg; } extra[] = {
		{ "r_discovery", 0xe1 }, { "r_wait_dhpart2", 0x1f },
	};
	for (size_t e = 0; e < sizeof extra / sizeof extra[0]; e++)
		for (unsigned i = 0; i < N_SCENARIOS; i++)
			if (strcmp(scenarios[i].name, extra[e].name) == 0 &&
			    engine_seed(edir, NULL, i, extra[e].alg) < 0)
				return 1;

	/* fuzz_packet: the DH parts of the other key agreements too. */
	memset(packet_seen, 0, sizeof packet_seen);
	for (unsigned i = 0; i < N_SCENARIOS; i++) {
		if (strcmp(scenarios[i].name, "r_discovery") != 0)
			continue;
		static struct capture cap;
		struct reference ref;
		static const uint8_t algs[] = { 0x01, 0x1f };
		for (size_t a = 0; a < sizeof algs; a++) {
			char tag[16];
			memset(&cap, 0, sizeof cap);
			reference_run(i, algs[a], &ref, &cap);
			snprintf(tag, sizeof tag, "%02x", algs[a]);
			for (int k = 0; k < cap.n; k++)
				if (sim_pkt_type(cap.pkt[k], cap.len[k]) ==
					    ZRTP_MSG_DHPART2 &&
				    packet_seed(pdir, cap.pkt[k], cap.len[k],
						tag) < 0)
					return 1;
		}
	}
	if (synthetic_packets(pdir) < 0)
		return 1;
	printf("fuzz_packet: %d seeds\n", n_packet_seeds);
	return 0;
}
