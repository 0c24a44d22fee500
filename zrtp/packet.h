/*
 * ZRTP packet codec (RFC 6189 §5): the packet header, the CRC-32C trailer
 * and every message type. Pure: parses bytes into structs and encodes
 * structs into bytes; no crypto beyond the CRC, no state.
 *
 * Parsing never trusts a length from the wire: every field is checked
 * against the bytes actually present. Variable-length fields (DH public
 * values, Confirm's encrypted part) are returned as slices into the
 * caller's buffer, which must outlive the parsed struct.
 */
#ifndef ZRTP_PACKET_H
#define ZRTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 4-character algorithm or version name as a big-endian word. */
#define ZRTP_NAME(a, b, c, d)                                                  \
	(((uint32_t)(uint8_t)(a) << 24) | ((uint32_t)(uint8_t)(b) << 16) |     \
	 ((uint32_t)(uint8_t)(c) << 8) | (uint32_t)(uint8_t)(d))

#define ZRTP_MAGIC 0x5a525450u       /* 'ZRTP' */
#define ZRTP_PREAMBLE 0x505au        /* 'PZ' */
#define ZRTP_PKT_HDR_LEN 12          /* flags+seq, magic, SSRC */
#define ZRTP_CRC_LEN 4
#define ZRTP_MSG_HDR_LEN 12          /* preamble, length, 8-byte type */
#define ZRTP_MAC_LEN 8               /* truncated MACs in messages */
#define ZRTP_MAX_ALGOS 7             /* §5.2: each count is at most 7 */
#define ZRTP_MAX_PV_LEN 384          /* DH3k */
#define ZRTP_MAX_MSG_LEN 1024        /* > the largest message we accept */
#define ZRTP_MAX_PKT_LEN (ZRTP_PKT_HDR_LEN + ZRTP_MAX_MSG_LEN + ZRTP_CRC_LEN)

enum zrtp_msg_type {
	ZRTP_MSG_NONE = 0,
	ZRTP_MSG_HELLO,
	ZRTP_MSG_HELLOACK,
	ZRTP_MSG_COMMIT,
	ZRTP_MSG_DHPART1,
	ZRTP_MSG_DHPART2,
	ZRTP_MSG_CONFIRM1,
	ZRTP_MSG_CONFIRM2,
	ZRTP_MSG_CONF2ACK,
	ZRTP_MSG_ERROR,
	ZRTP_MSG_ERRORACK,
	ZRTP_MSG_GOCLEAR,
	ZRTP_MSG_CLEARACK,
	ZRTP_MSG_SASRELAY,
	ZRTP_MSG_RELAYACK,
	ZRTP_MSG_PING,
	ZRTP_MSG_PINGACK,
	ZRTP_MSG_TYPE_COUNT
};

/* Why a packet was rejected by zrtp_packet_parse (returned negated). */
enum zrtp_parse_err {
	ZRTP_PERR_SHORT = 1,      /* fewer bytes than header+message header+CRC */
	ZRTP_PERR_NOT_ZRTP,       /* first byte or magic cookie wrong */
	ZRTP_PERR_CRC,            /* CRC-32C mismatch */
	ZRTP_PERR_PREAMBLE,       /* message preamble is not 0x505a */
	ZRTP_PERR_LENGTH,         /* length field disagrees with the packet */
	ZRTP_PERR_TYPE,           /* unknown message type block */
	ZRTP_PERR_MSG_SIZE,       /* wrong size for this message type */
	ZRTP_PERR_ALGO_COUNT,     /* Hello algorithm count above 7 */
	ZRTP_PERR_TOO_LONG,       /* larger than ZRTP_MAX_PKT_LEN */
};

struct zrtp_hello {
	uint32_t version;             /* e.g. ZRTP_NAME('1','.','1','0') */
	uint8_t client_id[16];
	uint8_t h3[32];
	uint8_t zid[12];
	bool sig_capable, mitm, passive;  /* S, M, P flags */
	uint8_t n_hash, n_cipher, n_auth, n_ka, n_sas;
	uint32_t hash[ZRTP_MAX_ALGOS];
	uint32_t cipher[ZRTP_MAX_ALGOS];
	uint32_t auth[ZRTP_MAX_ALGOS];
	uint32_t ka[ZRTP_MAX_ALGOS];
	uint32_t sas[ZRTP_MAX_ALGOS];
	uint8_t mac[ZRTP_MAC_LEN];
};

/*
 * Commit (§5.4). The variant follows the key agreement: "Mult" carries a
 * 16-byte nonce, "Prsh" a nonce and an 8-byte key ID, every DH type hvi.
 */
struct zrtp_commit {
	uint8_t h2[32];
	uint8_t zid[12];
	uint32_t hash, cipher, auth, ka, sas;
	uint8_t hvi[32];
	uint8_t nonce[16];
	uint8_t key_id[8];
	uint8_t mac[ZRTP_MAC_LEN];
};

/* DHPart1 and DHPart2 (§5.5, §5.6). pv points into the parsed buffer. */
struct zrtp_dhpart {
	uint8_t h1[32];
	uint8_t rs1_id[8], rs2_id[8], aux_id[8], pbx_id[8];
	const uint8_t *pv;
	size_t pv_len;
	uint8_t mac[ZRTP_MAC_LEN];
};

/*
 * Confirm1/Confirm2 (§5.7) and SASrelay (§5.13) share a shape: a MAC and
 * a CFB IV, then an encrypted part (a slice into the parsed buffer).
 */
struct zrtp_confirm {
	uint8_t mac[ZRTP_MAC_LEN];
	uint8_t iv[16];
	const uint8_t *enc;
	size_t enc_len;
};

/* The plaintext of Confirm's encrypted part (§5.7). */
struct zrtp_confirm_body {
	uint8_t h0[32];
	uint16_t sig_len;         /* in words; signature itself is ignored */
	bool e, v, a, d;          /* enrollment, SAS verified, allow clear, disclosure */
	uint32_t cache_expiry;    /* seconds; 0xffffffff: forever */
};
#define ZRTP_CONFIRM_BODY_LEN 40  /* without a signature */

struct zrtp_ping {
	uint32_t version;
	uint8_t endpoint_hash[8];
};

struct zrtp_pingack {
	uint32_t version;
	uint8_t sender_hash[8];
	uint8_t received_hash[8];
	uint32_t ssrc;
};

struct zrtp_msg {
	enum zrtp_msg_type type;
	uint16_t seq;             /* from the packet header */
	uint32_t ssrc;            /* from the packet header */
	const uint8_t *msg;       /* the message, preamble to last word, no CRC */
	size_t msg_len;
	union {
		struct zrtp_hello hello;
		struct zrtp_commit commit;
		struct zrtp_dhpart dhpart;
		struct zrtp_confirm confirm;   /* Confirm1/2, SASrelay */
		uint32_t error_code;
		uint8_t clear_mac[ZRTP_MAC_LEN]; /* GoClear */
		struct zrtp_ping ping;
		struct zrtp_pingack pingack;
	} u;
};

/* CRC-32C (Castagnoli, RFC 3309 / RFC 3720 §B.4) as ZRTP uses it. */
uint32_t zrtp_crc32c(const uint8_t *buf, size_t len);

/*
 * Cheap demultiplexing test (RFC 6189 §5, DESIGN.md): first byte 0x10 or
 * 0x11 and the magic cookie. Does not check the CRC.
 */
bool zrtp_packet_looks_zrtp(const uint8_t *pkt, size_t len);

/*
 * Parse and validate a whole packet: header, CRC, preamble, length word,
 * type, the per-type size and field constraints. Returns 0 or
 * -enum zrtp_parse_err. On error *out is unspecified.
 */
int zrtp_packet_parse(const uint8_t *pkt, size_t len, struct zrtp_msg *out)
	__attribute__((warn_unused_result));

/*
 * Encode a message (preamble, length, type block, body) from m->type and
 * m->u into buf. MAC fields are copied from the struct as given: callers
 * compute MACs over the encoded bytes and patch them. Returns the message
 * length (a multiple of 4) or -ENOSPC / -EINVAL.
 */
int zrtp_msg_encode(uint8_t *buf, size_t cap, const struct zrtp_msg *m)
	__attribute__((warn_unused_result));

/*
 * Wrap an encoded message into a packet: header (seq, SSRC), message,
 * CRC. Returns the packet length or -ENOSPC.
 */
int zrtp_packet_wrap(uint8_t *pkt, size_t cap, uint16_t seq, uint32_t ssrc,
		     const uint8_t *msg, size_t msg_len)
	__attribute__((warn_unused_result));

/* The confirm plaintext codec; parse returns 0 or -EINVAL. */
int zrtp_confirm_body_encode(uint8_t *buf, size_t cap,
			     const struct zrtp_confirm_body *b);
int zrtp_confirm_body_parse(const uint8_t *buf, size_t len,
			    struct zrtp_confirm_body *b);

/* Offsets inside an encoded message, for MAC computation. */
#define ZRTP_CONFIRM_MAC_OFF ZRTP_MSG_HDR_LEN
#define ZRTP_CONFIRM_IV_OFF (ZRTP_MSG_HDR_LEN + ZRTP_MAC_LEN)
#define ZRTP_CONFIRM_ENC_OFF (ZRTP_CONFIRM_IV_OFF + 16)

const char *zrtp_msg_type_name(enum zrtp_msg_type t);
const char *zrtp_parse_err_str(int err);

#endif
