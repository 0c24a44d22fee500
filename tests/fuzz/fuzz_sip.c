/*
 * libFuzzer harness for the SIP side of sdp/: the TCP framer, the message
 * parser in both modes, the SDP view of what it finds, and the
 * a=zrtp-hash rewrite. Built with sdp/sip.c, sdp/framer.c, sdp/sdp.c and
 * sdp/rewrite.c.
 *
 * Input: three control bytes, then the bytes of a TCP stream (or one UDP
 * datagram).
 *   byte 0: bits 0-1 the framer's max_msg (SIP_MAX_MSG, 64, 300, 2048);
 *           bits 2-3 the largest piece fed at once (1, 16, 512, 65536);
 *           bits 4-5 the rewrite's output room (ample, exact-ish, tiny,
 *           none); bit 6: leave the second media's hash out.
 *   bytes 1-2: the seed of the piece sizes.
 *
 * What must hold, or the harness aborts:
 * - the framer gives back every byte exactly once, in order, never holds
 *   more than max_msg, and finds the same messages whatever the pieces;
 * - the parser returns only its documented errors, and every slice it
 *   hands back lies inside the message;
 * - the rewrite never writes past its room, succeeds only on a message
 *   whose SIP and SDP parse, and its output parses again, in the same
 *   mode, with the same number of media, a Content-Length equal to its
 *   body, and the hash in every protectable section it was given one for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

#define FUZZ_MAX_FRAMES 256

static const char fuzz_hash[] =
	"00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978";

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static bool slice_inside(struct sip_slice s, const uint8_t *buf, size_t len)
{
	if (s.len == 0)
		return true;
	const char *b = (const char *)buf;

	return s.p != NULL && s.p >= b && s.len <= len &&
	       (size_t)(s.p - b) <= len - s.len;
}

static void check_rewrite(const uint8_t *buf, size_t len, bool stream,
			  const struct sip_msg *m, bool sdp_ok,
			  const struct sdp_view *v, uint8_t flags)
{
	const char *hashes[SDP_MAX_MEDIA];

	for (size_t i = 0; i < SDP_MAX_MEDIA; i++)
		hashes[i] = (i == 1 && (flags & 0x40)) ? NULL : fuzz_hash;

	size_t cap;

	switch ((flags >> 4) & 3) {
	case 0: cap = len + 4096; break;
	case 1: cap = len + 80; break;
	case 2: cap = len / 2; break;
	default: cap = 0; break;
	}
	/* exactly cap bytes, so ASan sees a write past the room */
	uint8_t *out = malloc(cap ? cap : 1);

	FUZZ_CHECK(out != NULL);
	int r = sdp_rewrite_zrtp_hash(buf, len, stream, "1.10", hashes, out, cap);

	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOSPC);
		free(out);
		return;
	}
	FUZZ_CHECK(sdp_ok);
	FUZZ_CHECK((size_t)r <= cap);

	static struct sip_msg m2;
	struct sdp_view v2;

	FUZZ_CHECK(sip_msg_parse(out, (size_t)r, stream, &m2) == 0);
	FUZZ_CHECK(m2.content_length == m2.body.len);
	if (stream || m->header_len + m->body.len == len)
		FUZZ_CHECK(m2.header_len + m2.body.len == (size_t)r);
	if (stream)
		FUZZ_CHECK(m2.has_content_length);
	FUZZ_CHECK(m2.sdp.p != NULL);
	FUZZ_CHECK(sdp_parse((const uint8_t *)m2.sdp.p, m2.sdp.len, &v2) == 0);
	FUZZ_CHECK(v2.n_media == v->n_media);
	for (size_t i = 0; i < v2.n_media; i++) {
		if (!v->media[i].protectable || hashes[i] == NULL)
			continue;
		FUZZ_CHECK(v2.media[i].has_zrtp_hash);
		FUZZ_CHECK(v2.media[i].zrtp_hash.len == 64 &&
			   memcmp(v2.media[i].zrtp_hash.p, fuzz_hash, 64) == 0);
	}
	free(out);
}

/* Parse one message and everything downstream of it. */
static void check_msg(const uint8_t *buf, size_t len, bool stream, uint8_t flags)
{
	static struct sip_msg m;
	int rc = sip_msg_parse(buf, len, stream, &m);

	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -EBADMSG || rc == -E2BIG);
		check_rewrite(buf, len, stream, &m, false, NULL, flags);
		return;
	}
	FUZZ_CHECK(m.header_len <= len);
	FUZZ_CHECK(m.n_headers <= SIP_MAX_HEADERS);
	FUZZ_CHECK(m.content_length == m.body.len);
	FUZZ_CHECK(slice_inside(m.body, buf, len));
	FUZZ_CHECK(m.body.len == 0 || m.body.p == (const char *)buf + m.header_len);
	FUZZ_CHECK(!stream || m.header_len + m.body.len == len);
	FUZZ_CHECK(slice_inside(m.sdp, m.body.p ? (const uint8_t *)m.body.p : buf,
				m.body.len));
	FUZZ_CHECK(slice_inside(m.method, buf, m.header_len));
	FUZZ_CHECK(slice_inside(m.uri, buf, m.header_len));
	FUZZ_CHECK(slice_inside(m.call_id, buf, m.header_len) && m.call_id.len > 0);
	FUZZ_CHECK(slice_inside(m.cseq_method, buf, m.header_len));
	FUZZ_CHECK(slice_inside(m.content_type, buf, m.header_len));
	FUZZ_CHECK(m.kind == SIP_REQUEST ? m.status == 0
					 : (m.status >= 100 && m.status <= 699));
	for (size_t i = 0; i < m.n_headers; i++) {
		FUZZ_CHECK(m.headers[i].name.len > 0);
		FUZZ_CHECK(slice_inside(m.headers[i].name, buf, m.header_len));
		FUZZ_CHECK(slice_inside(m.headers[i].value, buf, m.header_len));
	}
	FUZZ_CHECK(m.sdp.len == 0 || memchr(m.sdp.p, '\0', m.sdp.len) == NULL);

	static const char *const names[] = {
		"Call-ID", "i", "Content-Length", "l", "v", "Contact", "X-Nope",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct sip_header *h = sip_msg_header(&m, names[i]);

		FUZZ_CHECK(h == NULL || (h >= m.headers && h < m.headers + m.n_headers));
	}

	struct sip_dialog_info di;

	for (int pending = 0; pending < 2; pending++) {
		sip_dialog_classify(&m, pending, &di);
		FUZZ_CHECK(di.status == (m.kind == SIP_REQUEST ? 0 : m.status));
		FUZZ_CHECK(di.cseq == m.cseq);
		FUZZ_CHECK(di.sdp_role == SIP_SDP_NONE || !di.ends_media);
	}

	struct sdp_view v;
	bool sdp_ok = false;

	if (m.sdp.p != NULL) {
		rc = sdp_parse((const uint8_t *)m.sdp.p, m.sdp.len, &v);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG);
		if (rc == 0)
			FUZZ_CHECK(v.n_media <= SDP_MAX_MEDIA);
		sdp_ok = rc == 0;
	}
	check_rewrite(buf, len, stream, &m, sdp_ok, &v, flags);
}

struct frames {
	const uint8_t *in;
	size_t in_len;
	size_t out;           /* bytes given back so far */
	size_t n_msgs;
	size_t off[FUZZ_MAX_FRAMES], len[FUZZ_MAX_FRAMES];
	bool parse;
	uint8_t flags;
};

static void on_frame(void *arg, enum sip_frame_kind kind, const uint8_t *p,
		     size_t len)
{
	struct frames *f = arg;

	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(len <= f->in_len - f->out);
	FUZZ_CHECK(memcmp(f->in + f->out, p, len) == 0);
	if (kind == SIP_FRAME_MESSAGE) {
		if (f->n_msgs < FUZZ_MAX_FRAMES) {
			f->off[f->n_msgs] = f->out;
			f->len[f->n_msgs] = len;
		}
		f->n_msgs++;
		if (f->parse)
			check_msg(p, len, true, f->flags);
	} else {
		FUZZ_CHECK(kind == SIP_FRAME_PASSTHROUGH);
	}
	f->out += len;
}

static size_t max_msg_of(uint8_t flags)
{
	static const size_t sizes[] = { SIP_MAX_MSG, 64, 300, 2048 };

	return sizes[flags & 3];
}

static void run_framer(const uint8_t *p, size_t len, uint8_t flags,
		       uint16_t seed, bool pieces, struct frames *f)
{
	static const size_t piece_max[] = { 1, 16, 512, 65536 };
	size_t max_msg = max_msg_of(flags);
	struct sip_framer *fr = sip_framer_new(max_msg);
	uint32_t x = 0x9e3779b9u ^ seed;

	FUZZ_CHECK(fr != NULL);
	memset(f, 0, sizeof(*f));
	f->in = p;
	f->in_len = len;
	f->parse = pieces;
	f->flags = flags;
	for (size_t at = 0; at < len;) {
		size_t n = len - at;

		if (pieces) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			size_t want = 1 + x % piece_max[(flags >> 2) & 3];

			if (want < n)
				n = want;
		}
		FUZZ_CHECK(sip_framer_feed(fr, p + at, n, on_frame, f) == 0);
		at += n;
		FUZZ_CHECK(sip_framer_pending(fr) <= max_msg);
		FUZZ_CHECK(f->out + sip_framer_pending(fr) == at);
	}
	sip_framer_free(fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > 3 + 2 * SIP_MAX_MSG)
		return 0;
	uint8_t flags = data[0];
	uint16_t seed = (uint16_t)(data[1] | data[2] << 8);
	size_t len = size - 3;
	/* an exact copy, so that a read past the end is seen */
	uint8_t *p = malloc(len ? len : 1);

	FUZZ_CHECK(p != NULL);
	memcpy(p, data + 3, len);

	static struct frames whole, split;

	run_framer(p, len, flags, seed, false, &whole);
	run_framer(p, len, flags, seed, true, &split);
	FUZZ_CHECK(whole.n_msgs == split.n_msgs);
	for (size_t i = 0; i < whole.n_msgs && i < FUZZ_MAX_FRAMES; i++)
		FUZZ_CHECK(whole.off[i] == split.off[i] && whole.len[i] == split.len[i]);

	check_msg(p, len, false, flags);
	check_msg(p, len, true, flags);
	free(p);
	return 0;
}
