/*
 * ZRTP packet codec (RFC 6189 §5). See packet.h for the contract.
 *
 * Parsing order matters: the cheap header test first, then the CRC before
 * any field inside the message is believed (§5: a packet failing the CRC
 * is discarded), then the message header, then the per-type layout.
 * Every read goes through struct rd, which refuses to step past the bytes
 * actually present, even where an earlier size check already made the read
 * safe: the checks and the reads must not be able to drift apart.
 *
 * Nothing here allocates; variable parts come back as slices of the
 * caller's buffer.
 */
#include <errno.h>
#include <string.h>

#include "zrtp/packet.h"

/* Fixed body sizes (after the 12-byte message header), RFC 6189 §5.x. */
#define HELLO_FIXED_LEN (4 + 16 + 32 + 12 + 4 + ZRTP_MAC_LEN)   /* §5.2 */
#define COMMIT_PREFIX_LEN (32 + 12 + 5 * 4)                    /* §5.4 */
#define COMMIT_HVI_LEN 32
#define COMMIT_MULT_LEN 16
#define COMMIT_PRSH_LEN (16 + 8)
#define DHPART_FIXED_LEN (32 + 4 * 8 + ZRTP_MAC_LEN)           /* §5.5 */
#define CONFIRM_FIXED_LEN (ZRTP_MAC_LEN + 16)                  /* §5.7 */
#define ERROR_LEN 4                                            /* §5.9 */
#define GOCLEAR_LEN ZRTP_MAC_LEN                               /* §5.11 */
#define PING_LEN (4 + 8)                                       /* §5.15 */
#define PINGACK_LEN (4 + 8 + 8 + 4)                            /* §5.16 */

/* Hello flag bits in the first byte of its flags word (§5.2 figure). */
#define HELLO_FLAG_S 0x40u
#define HELLO_FLAG_M 0x20u
#define HELLO_FLAG_P 0x10u

/* Confirm flags byte (§5.7 figure: 0 0 0 0 E V A D). */
#define CONFIRM_FLAG_E 0x08u
#define CONFIRM_FLAG_V 0x04u
#define CONFIRM_FLAG_A 0x02u
#define CONFIRM_FLAG_D 0x01u
#define CONFIRM_SIG_LEN_MAX 0x1ffu   /* a 9-bit field */

/*
 * The byte 0 values we take as ZRTP. RFC 6189 §5 fixes 0x10. Linphone's
 * bzrtp sends 0x11 for a fragment of a message too large for one datagram
 * (a different header follows the SSRC); the demux must still route those
 * to the engine and never to the client.
 */
#define ZRTP_BYTE0 0x10u
#define ZRTP_BYTE0_FRAGMENT 0x11u

static const struct {
	enum zrtp_msg_type type;
	char block[8];      /* the 8-byte type block, space padded, no NUL */
	const char *name;   /* for logs */
} msg_types[] = {
	{ ZRTP_MSG_HELLO,    { 'H','e','l','l','o',' ',' ',' ' }, "Hello" },
	{ ZRTP_MSG_HELLOACK, { 'H','e','l','l','o','A','C','K' }, "HelloACK" },
	{ ZRTP_MSG_COMMIT,   { 'C','o','m','m','i','t',' ',' ' }, "Commit" },
	{ ZRTP_MSG_DHPART1,  { 'D','H','P','a','r','t','1',' ' }, "DHPart1" },
	{ ZRTP_MSG_DHPART2,  { 'D','H','P','a','r','t','2',' ' }, "DHPart2" },
	{ ZRTP_MSG_CONFIRM1, { 'C','o','n','f','i','r','m','1' }, "Confirm1" },
	{ ZRTP_MSG_CONFIRM2, { 'C','o','n','f','i','r','m','2' }, "Confirm2" },
	{ ZRTP_MSG_CONF2ACK, { 'C','o','n','f','2','A','C','K' }, "Conf2ACK" },
	{ ZRTP_MSG_ERROR,    { 'E','r','r','o','r',' ',' ',' ' }, "Error" },
	{ ZRTP_MSG_ERRORACK, { 'E','r','r','o','r','A','C','K' }, "ErrorACK" },
	{ ZRTP_MSG_GOCLEAR,  { 'G','o','C','l','e','a','r',' ' }, "GoClear" },
	{ ZRTP_MSG_CLEARACK, { 'C','l','e','a','r','A','C','K' }, "ClearACK" },
	{ ZRTP_MSG_SASRELAY, { 'S','A','S','r','e','l','a','y' }, "SASrelay" },
	{ ZRTP_MSG_RELAYACK, { 'R','e','l','a','y','A','C','K' }, "RelayACK" },
	{ ZRTP_MSG_PING,     { 'P','i','n','g',' ',' ',' ',' ' }, "Ping" },
	{ ZRTP_MSG_PINGACK,  { 'P','i','n','g','A','C','K',' ' }, "PingACK" },
};
#define N_MSG_TYPES (sizeof(msg_types) / sizeof(msg_types[0]))

/* --- byte order ---------------------------------------------------------- */

static uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The CRC trailer is the one field ZRTP does not carry big-endian. §5
 * takes its CRC-32c from SCTP (RFC 3309, now RFC 4960 Appendix B), and
 * SCTP transmits the CRC-32C value least significant byte first, as iSCSI
 * does (RFC 3720 §B.4 prints "aa 36 91 8a" for 0x8a9136aa). bzrtp does the
 * same (src/cryptoUtils.cc bzrtp_CRC32 byte-swaps the value, and
 * src/packetParser.c then writes it most significant byte first), and its
 * captured HelloACK (test/bzrtpParserTest.c) ends 77 0e 44 07 for a
 * CRC-32C of 0x07440e77: tests/unit/test_packet.c checks exactly that.
 */
static uint32_t crc_get(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void crc_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* --- a bounded reader and writer ----------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
};

/* The next n bytes, or NULL (and nothing consumed) if fewer are there. */
static const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (n > r->left)
		return NULL;
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static bool rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (p == NULL)
		return false;
	memcpy(dst, p, n);
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *p = rd_take(r, 4);
	if (p == NULL)
		return false;
	*v = be32_get(p);
	return true;
}

/*
 * The writer: encode computes the exact size first and checks it against
 * the capacity, so these never run out; the pointer just advances.
 */
static uint8_t *wr_bytes(uint8_t *w, const void *src, size_t n)
{
	memmove(w, src, n);   /* slices may point into the output buffer */
	return w + n;
}

static uint8_t *wr_u32(uint8_t *w, uint32_t v)
{
	be32_put(w, v);
	return w + 4;
}

/* --- type names ---------------------------------------------------------- */

static enum zrtp_msg_type msg_type_from_block(const uint8_t *block)
{
	for (size_t i = 0; i < N_MSG_TYPES; i++)
		if (memcmp(block, msg_types[i].block, 8) == 0)
			return msg_types[i].type;
	return ZRTP_MSG_NONE;
}

static const char *msg_type_block(enum zrtp_msg_type t)
{
	for (size_t i = 0; i < N_MSG_TYPES; i++)
		if (msg_types[i].type == t)
			return msg_types[i].block;
	return NULL;
}

const char *zrtp_msg_type_name(enum zrtp_msg_type t)
{
	for (size_t i = 0; i < N_MSG_TYPES; i++)
		if (msg_types[i].type == t)
			return msg_types[i].name;
	return t == ZRTP_MSG_NONE ? "none" : "unknown";
}

const char *zrtp_parse_err_str(int err)
{
	/* take err either sign; long long so that -INT_MIN cannot overflow */
	long long e = err < 0 ? -(long long)err : err;

	switch (e) {
	case 0:
		return "ok";
	case ZRTP_PERR_SHORT:
		return "packet too short for a ZRTP message";
	case ZRTP_PERR_NOT_ZRTP:
		return "not a ZRTP packet (first byte or magic cookie)";
	case ZRTP_PERR_CRC:
		return "CRC-32C mismatch";
	case ZRTP_PERR_PREAMBLE:
		return "bad message preamble (fragmented packets unsupported)";
	case ZRTP_PERR_LENGTH:
		return "message length field disagrees with packet length";
	case ZRTP_PERR_TYPE:
		return "unknown message type";
	case ZRTP_PERR_MSG_SIZE:
		return "wrong size for this message type";
	case ZRTP_PERR_ALGO_COUNT:
		return "Hello algorithm count above 7";
	case ZRTP_PERR_TOO_LONG:
		return "packet longer than the largest message accepted";
	default:
		return "unknown parse error";
	}
}

/* --- parsing ------------------------------------------------------------- */

bool zrtp_packet_looks_zrtp(const uint8_t *pkt, size_t len)
{
	if (len < ZRTP_PKT_HDR_LEN)
		return false;
	if (pkt[0] != ZRTP_BYTE0 && pkt[0] != ZRTP_BYTE0_FRAGMENT)
		return false;
	return be32_get(pkt + 4) == ZRTP_MAGIC;
}

/* §5.2. The counts are checked before the length they determine. */
static int hello_parse(struct rd *r, struct zrtp_hello *h)
{
	const uint8_t *flags;

	if (r->left < HELLO_FIXED_LEN)
		return -ZRTP_PERR_MSG_SIZE;
	if (!rd_u32(r, &h->version) ||
	    !rd_copy(r, h->client_id, sizeof(h->client_id)) ||
	    !rd_copy(r, h->h3, sizeof(h->h3)) ||
	    !rd_copy(r, h->zid, sizeof(h->zid)) ||
	    (flags = rd_take(r, 4)) == NULL)
		return -ZRTP_PERR_MSG_SIZE;

	/* |0|S|M|P|unused(8)| hc | cc | ac | kc | sc |, one nibble each */
	h->sig_capable = (flags[0] & HELLO_FLAG_S) != 0;
	h->mitm = (flags[0] & HELLO_FLAG_M) != 0;
	h->passive = (flags[0] & HELLO_FLAG_P) != 0;
	h->n_hash = flags[1] & 0x0f;
	h->n_cipher = flags[2] >> 4;
	h->n_auth = flags[2] & 0x0f;
	h->n_ka = flags[3] >> 4;
	h->n_sas = flags[3] & 0x0f;
	if (h->n_hash > ZRTP_MAX_ALGOS || h->n_cipher > ZRTP_MAX_ALGOS ||
	    h->n_auth > ZRTP_MAX_ALGOS || h->n_ka > ZRTP_MAX_ALGOS ||
	    h->n_sas > ZRTP_MAX_ALGOS)
		return -ZRTP_PERR_ALGO_COUNT;

	size_t n = (size_t)h->n_hash + h->n_cipher + h->n_auth + h->n_ka +
		   h->n_sas;
	if (r->left != 4 * n + ZRTP_MAC_LEN)
		return -ZRTP_PERR_MSG_SIZE;

	const struct {
		uint32_t *dst;
		uint8_t n;
	} lists[] = {
		{ h->hash, h->n_hash }, { h->cipher, h->n_cipher },
		{ h->auth, h->n_auth }, { h->ka, h->n_ka },
		{ h->sas, h->n_sas },
	};
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (size_t i = 0; i < lists[l].n; i++)
			if (!rd_u32(r, &lists[l].dst[i]))
				return -ZRTP_PERR_MSG_SIZE;
	if (!rd_copy(r, h->mac, ZRTP_MAC_LEN))
		return -ZRTP_PERR_MSG_SIZE;
	return 0;
}

/* §5.4: what follows the SAS type depends on the key agreement type. */
static size_t commit_variable_len(uint32_t ka)
{
	if (ka == ZRTP_NAME('M', 'u', 'l', 't'))
		return COMMIT_MULT_LEN;
	if (ka == ZRTP_NAME('P', 'r', 's', 'h'))
		return COMMIT_PRSH_LEN;
	return COMMIT_HVI_LEN;
}

static int commit_parse(struct rd *r, struct zrtp_commit *c)
{
	if (!rd_copy(r, c->h2, sizeof(c->h2)) ||
	    !rd_copy(r, c->zid, sizeof(c->zid)) ||
	    !rd_u32(r, &c->hash) || !rd_u32(r, &c->cipher) ||
	    !rd_u32(r, &c->auth) || !rd_u32(r, &c->ka) ||
	    !rd_u32(r, &c->sas))
		return -ZRTP_PERR_MSG_SIZE;
	if (r->left != commit_variable_len(c->ka) + ZRTP_MAC_LEN)
		return -ZRTP_PERR_MSG_SIZE;

	bool ok;
	if (c->ka == ZRTP_NAME('M', 'u', 'l', 't'))
		ok = rd_copy(r, c->nonce, sizeof(c->nonce));
	else if (c->ka == ZRTP_NAME('P', 'r', 's', 'h'))
		ok = rd_copy(r, c->nonce, sizeof(c->nonce)) &&
		     rd_copy(r, c->key_id, sizeof(c->key_id));
	else
		ok = rd_copy(r, c->hvi, sizeof(c->hvi));
	if (!ok || !rd_copy(r, c->mac, ZRTP_MAC_LEN))
		return -ZRTP_PERR_MSG_SIZE;
	return 0;
}

/*
 * §5.5/§5.6. The pv length depends on the key agreement chosen in the
 * Commit, which this stateless codec does not know: it only bounds it
 * (non-empty, whole words, no larger than DH3k's); the session checks it
 * against the negotiated type.
 */
static int dhpart_parse(struct rd *r, struct zrtp_dhpart *d)
{
	if (r->left < DHPART_FIXED_LEN)
		return -ZRTP_PERR_MSG_SIZE;
	size_t pv_len = r->left - DHPART_FIXED_LEN;
	if (pv_len == 0 || pv_len % 4 != 0 || pv_len > ZRTP_MAX_PV_LEN)
		return -ZRTP_PERR_MSG_SIZE;

	if (!rd_copy(r, d->h1, sizeof(d->h1)) ||
	    !rd_copy(r, d->rs1_id, sizeof(d->rs1_id)) ||
	    !rd_copy(r, d->rs2_id, sizeof(d->rs2_id)) ||
	    !rd_copy(r, d->aux_id, sizeof(d->aux_id)) ||
	    !rd_copy(r, d->pbx_id, sizeof(d->pbx_id)) ||
	    (d->pv = rd_take(r, pv_len)) == NULL ||
	    !rd_copy(r, d->mac, ZRTP_MAC_LEN))
		return -ZRTP_PERR_MSG_SIZE;
	d->pv_len = pv_len;
	return 0;
}

/*
 * §5.7 and §5.13: confirm_mac, CFB IV, then ciphertext. Its plaintext is at
 * least ZRTP_CONFIRM_BODY_LEN bytes for Confirm, and the SASrelay plaintext
 * (flags word, rendered SAS, trusted MiTM hash) has the same 40-byte
 * minimum; a signature makes either longer.
 */
static int confirm_parse(struct rd *r, struct zrtp_confirm *c)
{
	if (r->left < CONFIRM_FIXED_LEN + ZRTP_CONFIRM_BODY_LEN)
		return -ZRTP_PERR_MSG_SIZE;
	if (!rd_copy(r, c->mac, ZRTP_MAC_LEN) ||
	    !rd_copy(r, c->iv, sizeof(c->iv)))
		return -ZRTP_PERR_MSG_SIZE;
	c->enc_len = r->left;
	c->enc = rd_take(r, c->enc_len);
	return 0;
}

/* Messages with nothing variable: the body must be exactly n bytes. */
static int fixed_parse(struct rd *r, void *dst, size_t n)
{
	if (r->left != n || (n > 0 && !rd_copy(r, dst, n)))
		return -ZRTP_PERR_MSG_SIZE;
	return 0;
}

static int body_parse(struct rd *r, struct zrtp_msg *out)
{
	int rc;

	switch (out->type) {
	case ZRTP_MSG_HELLO:
		rc = hello_parse(r, &out->u.hello);
		break;
	case ZRTP_MSG_COMMIT:
		rc = commit_parse(r, &out->u.commit);
		break;
	case ZRTP_MSG_DHPART1:
	case ZRTP_MSG_DHPART2:
		rc = dhpart_parse(r, &out->u.dhpart);
		break;
	case ZRTP_MSG_CONFIRM1:
	case ZRTP_MSG_CONFIRM2:
	case ZRTP_MSG_SASRELAY:
		rc = confirm_parse(r, &out->u.confirm);
		break;
	case ZRTP_MSG_HELLOACK:
	case ZRTP_MSG_CONF2ACK:
	case ZRTP_MSG_ERRORACK:
	case ZRTP_MSG_CLEARACK:
	case ZRTP_MSG_RELAYACK:
		rc = fixed_parse(r, NULL, 0);
		break;
	case ZRTP_MSG_ERROR: {
		uint8_t code[ERROR_LEN];
		rc = fixed_parse(r, code, sizeof(code));
		if (rc == 0)
			out->u.error_code = be32_get(code);
		break;
	}
	case ZRTP_MSG_GOCLEAR:
		rc = fixed_parse(r, out->u.clear_mac, GOCLEAR_LEN);
		break;
	case ZRTP_MSG_PING: {
		if (r->left != PING_LEN)
			return -ZRTP_PERR_MSG_SIZE;
		struct zrtp_ping *p = &out->u.ping;
		if (!rd_u32(r, &p->version) ||
		    !rd_copy(r, p->endpoint_hash, sizeof(p->endpoint_hash)))
			return -ZRTP_PERR_MSG_SIZE;
		rc = 0;
		break;
	}
	case ZRTP_MSG_PINGACK: {
		if (r->left != PINGACK_LEN)
			return -ZRTP_PERR_MSG_SIZE;
		struct zrtp_pingack *p = &out->u.pingack;
		if (!rd_u32(r, &p->version) ||
		    !rd_copy(r, p->sender_hash, sizeof(p->sender_hash)) ||
		    !rd_copy(r, p->received_hash, sizeof(p->received_hash)) ||
		    !rd_u32(r, &p->ssrc))
			return -ZRTP_PERR_MSG_SIZE;
		rc = 0;
		break;
	}
	default:
		return -ZRTP_PERR_TYPE;
	}
	if (rc == 0 && r->left != 0)
		return -ZRTP_PERR_MSG_SIZE;   /* every parser must consume all */
	return rc;
}

int zrtp_packet_parse(const uint8_t *pkt, size_t len, struct zrtp_msg *out)
{
	memset(out, 0, sizeof(*out));

	if (len < ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + ZRTP_CRC_LEN)
		return -ZRTP_PERR_SHORT;
	if (!zrtp_packet_looks_zrtp(pkt, len))
		return -ZRTP_PERR_NOT_ZRTP;
	if (len > ZRTP_MAX_PKT_LEN)
		return -ZRTP_PERR_TOO_LONG;

	/* §5: the CRC covers the header and the message, not itself. */
	size_t crc_off = len - ZRTP_CRC_LEN;
	if (zrtp_crc32c(pkt, crc_off) != crc_get(pkt + crc_off))
		return -ZRTP_PERR_CRC;

	/*
	 * A bzrtp fragment (0x11) has a message id where the preamble would
	 * be; reassembly is not supported (we never offer the post-quantum
	 * key agreements whose messages need it), so it stops here.
	 */
	const uint8_t *msg = pkt + ZRTP_PKT_HDR_LEN;
	if (pkt[0] == ZRTP_BYTE0_FRAGMENT || be16_get(msg) != ZRTP_PREAMBLE)
		return -ZRTP_PERR_PREAMBLE;

	/* §5: length in words counts the whole message, header included. */
	size_t msg_len = (size_t)be16_get(msg + 2) * 4;
	if (msg_len != crc_off - ZRTP_PKT_HDR_LEN)
		return -ZRTP_PERR_LENGTH;

	out->type = msg_type_from_block(msg + 4);
	if (out->type == ZRTP_MSG_NONE)
		return -ZRTP_PERR_TYPE;
	out->seq = be16_get(pkt + 2);
	out->ssrc = be32_get(pkt + 8);
	out->msg = msg;
	out->msg_len = msg_len;

	struct rd r = { msg + ZRTP_MSG_HDR_LEN, msg_len - ZRTP_MSG_HDR_LEN };
	return body_parse(&r, out);
}

/* --- encoding ------------------------------------------------------------ */

/* The body size encode will write for m, or 0 if m cannot be encoded. */
static size_t body_len(const struct zrtp_msg *m)
{
	switch (m->type) {
	case ZRTP_MSG_HELLO: {
		const struct zrtp_hello *h = &m->u.hello;
		if (h->n_hash > ZRTP_MAX_ALGOS || h->n_cipher > ZRTP_MAX_ALGOS ||
		    h->n_auth > ZRTP_MAX_ALGOS || h->n_ka > ZRTP_MAX_ALGOS ||
		    h->n_sas > ZRTP_MAX_ALGOS)
			return 0;
		return HELLO_FIXED_LEN +
		       4 * ((size_t)h->n_hash + h->n_cipher + h->n_auth +
			    h->n_ka + h->n_sas);
	}
	case ZRTP_MSG_COMMIT:
		return COMMIT_PREFIX_LEN + commit_variable_len(m->u.commit.ka) +
		       ZRTP_MAC_LEN;
	case ZRTP_MSG_DHPART1:
	case ZRTP_MSG_DHPART2: {
		const struct zrtp_dhpart *d = &m->u.dhpart;
		if (d->pv == NULL || d->pv_len == 0 || d->pv_len % 4 != 0 ||
		    d->pv_len > ZRTP_MAX_PV_LEN)
			return 0;
		return DHPART_FIXED_LEN + d->pv_len;
	}
	case ZRTP_MSG_CONFIRM1:
	case ZRTP_MSG_CONFIRM2:
	case ZRTP_MSG_SASRELAY: {
		const struct zrtp_confirm *c = &m->u.confirm;
		/* CFB needs no padding, but the length field counts words */
		if (c->enc == NULL || c->enc_len < ZRTP_CONFIRM_BODY_LEN ||
		    c->enc_len % 4 != 0 ||
		    c->enc_len > ZRTP_MAX_MSG_LEN)
			return 0;
		return CONFIRM_FIXED_LEN + c->enc_len;
	}
	case ZRTP_MSG_HELLOACK:
	case ZRTP_MSG_CONF2ACK:
	case ZRTP_MSG_ERRORACK:
	case ZRTP_MSG_CLEARACK:
	case ZRTP_MSG_RELAYACK:
		return 0;   /* valid, and caught by the type check in encode */
	case ZRTP_MSG_ERROR:
		return ERROR_LEN;
	case ZRTP_MSG_GOCLEAR:
		return GOCLEAR_LEN;
	case ZRTP_MSG_PING:
		return PING_LEN;
	case ZRTP_MSG_PINGACK:
		return PINGACK_LEN;
	default:
		return 0;
	}
}

static bool msg_type_header_only(enum zrtp_msg_type t)
{
	return t == ZRTP_MSG_HELLOACK || t == ZRTP_MSG_CONF2ACK ||
	       t == ZRTP_MSG_ERRORACK || t == ZRTP_MSG_CLEARACK ||
	       t == ZRTP_MSG_RELAYACK;
}

static uint8_t *body_encode(uint8_t *w, const struct zrtp_msg *m)
{
	switch (m->type) {
	case ZRTP_MSG_HELLO: {
		const struct zrtp_hello *h = &m->u.hello;
		w = wr_u32(w, h->version);
		w = wr_bytes(w, h->client_id, sizeof(h->client_id));
		w = wr_bytes(w, h->h3, sizeof(h->h3));
		w = wr_bytes(w, h->zid, sizeof(h->zid));
		w[0] = (uint8_t)((h->sig_capable ? HELLO_FLAG_S : 0) |
				 (h->mitm ? HELLO_FLAG_M : 0) |
				 (h->passive ? HELLO_FLAG_P : 0));
		w[1] = h->n_hash;
		w[2] = (uint8_t)((h->n_cipher << 4) | h->n_auth);
		w[3] = (uint8_t)((h->n_ka << 4) | h->n_sas);
		w += 4;
		for (size_t i = 0; i < h->n_hash; i++)
			w = wr_u32(w, h->hash[i]);
		for (size_t i = 0; i < h->n_cipher; i++)
			w = wr_u32(w, h->cipher[i]);
		for (size_t i = 0; i < h->n_auth; i++)
			w = wr_u32(w, h->auth[i]);
		for (size_t i = 0; i < h->n_ka; i++)
			w = wr_u32(w, h->ka[i]);
		for (size_t i = 0; i < h->n_sas; i++)
			w = wr_u32(w, h->sas[i]);
		return wr_bytes(w, h->mac, ZRTP_MAC_LEN);
	}
	case ZRTP_MSG_COMMIT: {
		const struct zrtp_commit *c = &m->u.commit;
		w = wr_bytes(w, c->h2, sizeof(c->h2));
		w = wr_bytes(w, c->zid, sizeof(c->zid));
		w = wr_u32(w, c->hash);
		w = wr_u32(w, c->cipher);
		w = wr_u32(w, c->auth);
		w = wr_u32(w, c->ka);
		w = wr_u32(w, c->sas);
		if (c->ka == ZRTP_NAME('M', 'u', 'l', 't')) {
			w = wr_bytes(w, c->nonce, sizeof(c->nonce));
		} else if (c->ka == ZRTP_NAME('P', 'r', 's', 'h')) {
			w = wr_bytes(w, c->nonce, sizeof(c->nonce));
			w = wr_bytes(w, c->key_id, sizeof(c->key_id));
		} else {
			w = wr_bytes(w, c->hvi, sizeof(c->hvi));
		}
		return wr_bytes(w, c->mac, ZRTP_MAC_LEN);
	}
	case ZRTP_MSG_DHPART1:
	case ZRTP_MSG_DHPART2: {
		const struct zrtp_dhpart *d = &m->u.dhpart;
		w = wr_bytes(w, d->h1, sizeof(d->h1));
		w = wr_bytes(w, d->rs1_id, sizeof(d->rs1_id));
		w = wr_bytes(w, d->rs2_id, sizeof(d->rs2_id));
		w = wr_bytes(w, d->aux_id, sizeof(d->aux_id));
		w = wr_bytes(w, d->pbx_id, sizeof(d->pbx_id));
		w = wr_bytes(w, d->pv, d->pv_len);
		return wr_bytes(w, d->mac, ZRTP_MAC_LEN);
	}
	case ZRTP_MSG_CONFIRM1:
	case ZRTP_MSG_CONFIRM2:
	case ZRTP_MSG_SASRELAY: {
		const struct zrtp_confirm *c = &m->u.confirm;
		/*
		 * The IV goes first: if the caller encrypted straight into
		 * this buffer at ZRTP_CONFIRM_ENC_OFF, enc already sits where
		 * it is written and the memmove is a no-op.
		 */
		w = wr_bytes(w, c->mac, ZRTP_MAC_LEN);
		w = wr_bytes(w, c->iv, sizeof(c->iv));
		return wr_bytes(w, c->enc, c->enc_len);
	}
	case ZRTP_MSG_ERROR:
		return wr_u32(w, m->u.error_code);
	case ZRTP_MSG_GOCLEAR:
		return wr_bytes(w, m->u.clear_mac, GOCLEAR_LEN);
	case ZRTP_MSG_PING:
		w = wr_u32(w, m->u.ping.version);
		return wr_bytes(w, m->u.ping.endpoint_hash, 8);
	case ZRTP_MSG_PINGACK:
		w = wr_u32(w, m->u.pingack.version);
		w = wr_bytes(w, m->u.pingack.sender_hash, 8);
		w = wr_bytes(w, m->u.pingack.received_hash, 8);
		return wr_u32(w, m->u.pingack.ssrc);
	default:
		return w;   /* header-only messages */
	}
}

int zrtp_msg_encode(uint8_t *buf, size_t cap, const struct zrtp_msg *m)
{
	const char *block = msg_type_block(m->type);
	if (block == NULL)
		return -EINVAL;

	size_t blen = body_len(m);
	if (blen == 0 && !msg_type_header_only(m->type))
		return -EINVAL;
	size_t len = ZRTP_MSG_HDR_LEN + blen;
	/* never produce what zrtp_packet_parse would refuse as too long */
	if (len > ZRTP_MAX_MSG_LEN)
		return -EINVAL;
	if (len > cap)
		return -ENOSPC;

	/* body first: a slice (pv, enc) may live in buf past the header */
	uint8_t *end = body_encode(buf + ZRTP_MSG_HDR_LEN, m);
	if ((size_t)(end - buf) != len)
		return -EINVAL;   /* unreachable unless body_len and encode drift */

	be16_put(buf, ZRTP_PREAMBLE);
	be16_put(buf + 2, (uint16_t)(len / 4));
	memcpy(buf + 4, block, 8);
	return (int)len;
}

int zrtp_packet_wrap(uint8_t *pkt, size_t cap, uint16_t seq, uint32_t ssrc,
		     const uint8_t *msg, size_t msg_len)
{
	/* A message must be whole words (§5) and fit a packet we accept. */
	if (msg_len < ZRTP_MSG_HDR_LEN || msg_len % 4 != 0)
		return -EINVAL;
	if (msg_len > ZRTP_MAX_MSG_LEN)
		return -ENOSPC;
	size_t len = ZRTP_PKT_HDR_LEN + msg_len + ZRTP_CRC_LEN;
	if (len > cap)
		return -ENOSPC;

	/* msg may already sit at pkt + ZRTP_PKT_HDR_LEN (encoded in place) */
	memmove(pkt + ZRTP_PKT_HDR_LEN, msg, msg_len);
	pkt[0] = ZRTP_BYTE0;
	pkt[1] = 0;
	be16_put(pkt + 2, seq);
	be32_put(pkt + 4, ZRTP_MAGIC);
	be32_put(pkt + 8, ssrc);
	crc_put(pkt + len - ZRTP_CRC_LEN, zrtp_crc32c(pkt, len - ZRTP_CRC_LEN));
	return (int)len;
}

/* --- Confirm plaintext (§5.7) ------------------------------------------ */

/*
 * We sign nothing, so we encode no signature: a body that announced a
 * sig_len without carrying the signature would be malformed.
 * Returns ZRTP_CONFIRM_BODY_LEN, -ENOSPC or -EINVAL.
 */
int zrtp_confirm_body_encode(uint8_t *buf, size_t cap,
			     const struct zrtp_confirm_body *b)
{
	if (b->sig_len != 0)
		return -EINVAL;
	if (cap < ZRTP_CONFIRM_BODY_LEN)
		return -ENOSPC;

	memcpy(buf, b->h0, sizeof(b->h0));
	/* |unused(15)|sig len(9)|0 0 0 0|E|V|A|D| */
	buf[32] = 0;
	buf[33] = 0;
	buf[34] = 0;
	buf[35] = (uint8_t)((b->e ? CONFIRM_FLAG_E : 0) |
			    (b->v ? CONFIRM_FLAG_V : 0) |
			    (b->a ? CONFIRM_FLAG_A : 0) |
			    (b->d ? CONFIRM_FLAG_D : 0));
	be32_put(buf + 36, b->cache_expiry);
	return ZRTP_CONFIRM_BODY_LEN;
}

/*
 * The plaintext must be exactly the fixed part plus the signature block
 * sig_len announces; the signature itself is skipped (we verify none), but
 * its bytes must be there, so a lying sig_len cannot make anyone read past
 * the decrypted buffer.
 */
int zrtp_confirm_body_parse(const uint8_t *buf, size_t len,
			    struct zrtp_confirm_body *b)
{
	memset(b, 0, sizeof(*b));
	if (len < ZRTP_CONFIRM_BODY_LEN)
		return -EINVAL;

	memcpy(b->h0, buf, sizeof(b->h0));
	b->sig_len = (uint16_t)(be16_get(buf + 33) & CONFIRM_SIG_LEN_MAX);
	b->e = (buf[35] & CONFIRM_FLAG_E) != 0;
	b->v = (buf[35] & CONFIRM_FLAG_V) != 0;
	b->a = (buf[35] & CONFIRM_FLAG_A) != 0;
	b->d = (buf[35] & CONFIRM_FLAG_D) != 0;
	b->cache_expiry = be32_get(buf + 36);

	if (len != ZRTP_CONFIRM_BODY_LEN + 4 * (size_t)b->sig_len)
		return -EINVAL;
	return 0;
}
