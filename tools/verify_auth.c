/*
 * `zrtpshim verify --keylog`: key-log authentication with libsrtp2. Each
 * SRTP/SRTCP packet is tried against the records that match its SSRC and
 * addresses, most specific first, each record with its own lazily made
 * session (the profile table is common/suite.h).
 */
#include "tools/verify_int.h"

#include <errno.h>
#include <stdlib.h>

#include "common/suite.h"

#define MAX_CAND 8

struct candidate {
	size_t entry;
	int score;
};

static void to_keylog_addr(const struct pr_addr *a, struct keylog_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->ip, a->ip, ip_len(a->family));
	k->port = a->port;
}

static bool srtp_inited;

static int session_new(const struct keylog_entry *e, srtp_t *out)
{
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	if (suite_policy(e->profile, &pol) < 0)
		return -EINVAL;
	uint8_t key[KEYLOG_MAX_KEY_LEN + KEYLOG_SALT_LEN];
	memcpy(key, e->key, e->key_len);
	memcpy(key + e->key_len, e->salt, KEYLOG_SALT_LEN);
	pol.key = key;
	/* ssrc=*: a template libsrtp clones per SSRC on its first
	 * authenticated packet (a failed try creates nothing) */
	pol.ssrc.type = e->any_ssrc ? ssrc_any_inbound : ssrc_specific;
	pol.ssrc.value = e->any_ssrc ? 0 : e->ssrc;
	/* The largest replay window libsrtp takes: captures reorder. */
	pol.window_size = 0x7fff;
	pol.allow_repeat_tx = 1;
	srtp_err_status_t st = srtp_create(out, &pol);
	explicit_bzero(key, sizeof(key));
	return st == srtp_err_status_ok ? 0 : -EINVAL;
}

/*
 * Authenticate (and decrypt, into buf) with one record. A packet the
 * replay window already saw - a duplicate in the capture - is retried in
 * a scratch session carrying the stream's rollover counter.
 */
static bool try_unprotect(struct ctx *c, size_t ei, bool rtcp, uint32_t ssrc,
			  uint8_t *buf, int *len, const uint8_t *orig,
			  size_t orig_len)
{
	if (c->session_bad[ei])
		return false;
	const struct keylog_entry *e = &c->kl.entries[ei];
	if (c->sessions[ei] == NULL && session_new(e, &c->sessions[ei]) < 0) {
		c->session_bad[ei] = true;
		return false;
	}
	memcpy(buf, orig, orig_len);
	*len = (int)orig_len;
	srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(c->sessions[ei], buf, len)
				    : srtp_unprotect(c->sessions[ei], buf, len);
	if (st == srtp_err_status_ok)
		return true;
	if (st != srtp_err_status_replay_fail && st != srtp_err_status_replay_old)
		return false;
	srtp_t scratch;
	if (session_new(e, &scratch) < 0)
		return false;
	uint32_t roc = 0;
	/* (an ssrc=* scratch session has no stream yet to carry it: ROC 0) */
	if (!rtcp && srtp_get_stream_roc(c->sessions[ei], ssrc, &roc) ==
			     srtp_err_status_ok)
		(void)srtp_set_stream_roc(scratch, ssrc, roc);
	memcpy(buf, orig, orig_len);
	*len = (int)orig_len;
	st = rtcp ? srtp_unprotect_rtcp(scratch, buf, len)
		  : srtp_unprotect(scratch, buf, len);
	srtp_dealloc(scratch);
	return st == srtp_err_status_ok;
}

int verify_keylog_open(struct ctx *c, const char *path, char *why,
		       size_t why_len)
{
	char kwhy[256];
	int r = keylog_load(&c->kl, path, kwhy, sizeof(kwhy));
	if (r < 0) {
		snprintf(why, why_len, "key log %s", kwhy);
		return r;
	}
	if (!srtp_inited) {
		/* srtp_init fails when the process already initialised
		 * libsrtp (a test, a host program): probe instead */
		struct keylog_entry probe = { .profile = SUITE_AES_CM_128_HMAC_SHA1_80,
					      .key_len = 16 };
		srtp_t ps = NULL;
		if (srtp_init() != srtp_err_status_ok &&
		    session_new(&probe, &ps) < 0) {
			snprintf(why, why_len, "libsrtp2 failed to initialise");
			return -EIO;
		}
		if (ps != NULL)
			srtp_dealloc(ps);
		srtp_inited = true;
	}
	c->sessions = calloc(c->kl.n + 1, sizeof(*c->sessions));
	c->session_bad = calloc(c->kl.n + 1, sizeof(*c->session_bad));
	if (c->sessions == NULL || c->session_bad == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void verify_keylog_close(struct ctx *c)
{
	if (c->sessions != NULL)
		for (size_t i = 0; i < c->kl.n; i++)
			if (c->sessions[i] != NULL)
				srtp_dealloc(c->sessions[i]);
	free(c->sessions);
	free(c->session_bad);
	keylog_free(&c->kl);
}

enum rec_auth verify_authenticate(struct ctx *c, const struct pr_datagram *d,
				  uint32_t ssrc, bool rtcp, uint8_t *buf,
				  int *out_len)
{
	struct keylog_addr src, dst;
	to_keylog_addr(&d->src, &src);
	to_keylog_addr(&d->dst, &dst);
	/* The stream the SDP in force says the packet belongs to: its
	 * records (stream=) go first, and are tried even when their
	 * addresses do not name the packet's (a re-INVITE moved the media;
	 * the shim keeps the stream's keys). With ports reused call after
	 * call, every call's records name the same addresses. */
	char name[KEYLOG_STREAM_MAX];
	bool named = verify_stream_name_at(c, &d->src, &d->dst, rtcp, d->ts_usec,
					   name, sizeof(name));
	struct candidate cand[MAX_CAND];
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!rtcp)
				break;
			/* key log addresses are RTP addresses: SRTCP from
			 * the RTCP ports (SDP a=rtcp, else port + 1) maps
			 * back to them */
			struct pr_addr a = verify_rtp_of_rtcp(c, &d->src),
				       b = verify_rtp_of_rtcp(c, &d->dst);
			to_keylog_addr(&a, &src);
			to_keylog_addr(&b, &dst);
		}
		for (size_t i = 0; i < c->kl.n; i++) {
			const struct keylog_entry *e = &c->kl.entries[i];
			bool mine = named && strcmp(e->stream, name) == 0;
			int s = keylog_entry_match(e, ssrc, &src, &dst);
			if (s < 0 && mine && (e->any_ssrc || e->ssrc == ssrc))
				s = 0;
			if (s < 0)
				continue;
			if (mine)
				s += 8;  /* above any address score (0..6) */
			/* keep the MAX_CAND best, best first */
			size_t k;
			if (n < MAX_CAND)
				k = n++;
			else if (cand[MAX_CAND - 1].score >= s)
				continue;
			else
				k = MAX_CAND - 1;
			cand[k].entry = i;
			cand[k].score = s;
			while (k > 0 && cand[k - 1].score < cand[k].score) {
				struct candidate t = cand[k];
				cand[k] = cand[k - 1];
				cand[k - 1] = t;
				k--;
			}
		}
		if (n > 0)
			break;
	}
	if (n == 0)
		return AUTH_NO_KEY;
	if (d->len > 65536)
		return AUTH_FAIL;
	for (size_t i = 0; i < n; i++)
		if (try_unprotect(c, cand[i].entry, rtcp, ssrc, buf, out_len,
				  d->data, d->len))
			return AUTH_OK;
	return AUTH_FAIL;
}
