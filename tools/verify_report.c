/*
 * `zrtpshim verify`: the report, as the readable summary and as the JSON
 * document (format in README.md, "zrtpshim verify"), and its release.
 */
#include "tools/verify_int.h"

#include <stdlib.h>

void verify_report_free(struct verify_report *r)
{
	if (r == NULL)
		return;
	free(r->streams);
	free(r);
}

static const char *hash_check_str(enum verify_hash_check h)
{
	switch (h) {
	case VERIFY_HASH_NO_HELLO: return "no-hello";
	case VERIFY_HASH_NO_SDP: return "no-sdp";
	case VERIFY_HASH_NOT_IN_SDP: return "no-zrtp-hash";
	case VERIFY_HASH_MATCH: return "match";
	case VERIFY_HASH_MISMATCH: return "mismatch";
	}
	return "?";
}

static const char *ev_name(uint8_t t)
{
	return zrtp_msg_type_name((enum zrtp_msg_type)t);
}

void verify_report_print(FILE *f, const struct verify_report *r)
{
	fprintf(f, "capture: %s\n", r->capture);
	fprintf(f, "  frames %llu (udp %llu, tcp segments %llu), SIP messages %llu",
		(unsigned long long)r->stats.frames, (unsigned long long)r->stats.udp,
		(unsigned long long)r->stats.tcp_segments,
		(unsigned long long)r->sip_messages);
	if (r->sip_bad)
		fprintf(f, " (+%llu unparsable)", (unsigned long long)r->sip_bad);
	fprintf(f, ", calls with SDP %llu\n", (unsigned long long)r->calls);
	const struct pr_stats *st = &r->stats;
	if (st->not_ip || st->not_udp_tcp || r->udp_other)
		fprintf(f, "  not IP %llu, not UDP/TCP %llu, other UDP %llu\n",
			(unsigned long long)st->not_ip, (unsigned long long)st->not_udp_tcp,
			(unsigned long long)r->udp_other);
	if (r->partial)
		fprintf(f, "  PARTIAL: %s\n", r->partial_why);
	if (r->keylog_used)
		fprintf(f, "  key log: %zu records\n", r->keylog_records);
	for (size_t i = 0; i < r->n_streams; i++) {
		const struct verify_stream *s = &r->streams[i];
		char a[64], b[64];
		pr_addr_str(&s->dir[0].src, a, sizeof(a));
		pr_addr_str(&s->dir[0].dst, b, sizeof(b));
		fprintf(f, "\nstream %u: %s <-> %s%s%s%s\n", s->id, a, b,
			s->announced ? "" : " (not announced in SDP)",
			s->call_id[0] ? ", Call-ID " : "", s->call_id);
		if (s->has_rtcp_flow) {
			pr_addr_str(&s->rtcp[0], a, sizeof(a));
			pr_addr_str(&s->rtcp[1], b, sizeof(b));
			fprintf(f, "  RTCP: %s <-> %s\n", a, b);
		} else if (s->rtcp_mux) {
			fprintf(f, "  RTCP: multiplexed (rtcp-mux)\n");
		}
		if (s->n_ev > 0) {
			fprintf(f, "  ZRTP:");
			for (size_t k = 0; k < s->n_ev; k++) {
				fprintf(f, " %s%s", ev_name(s->ev[k].type),
					s->ev[k].dir == 0 ? ">" : "<");
				if (s->ev[k].count > 1)
					fprintf(f, "x%u", s->ev[k].count);
			}
			fprintf(f, "%s\n", s->ev_overflow ? " ..." : "");
			fprintf(f, "  handshake: %s", s->hs_complete ? "complete" : "INCOMPLETE");
			if (!s->hs_complete)
				fprintf(f, " (missing: %s)", s->hs_missing);
			if (s->have_algos)
				fprintf(f, ", %s %s %s %s %s", s->ka, s->hash, s->cipher,
					s->auth, s->sas);
			fprintf(f, "\n");
			if (s->hs_complete && s->has_media)
				fprintf(f, "  first media %+.3f s after the handshake ended%s\n",
					(double)s->first_media_rel_usec / 1e6,
					s->media_before_secure ? " (MEDIA BEFORE SECURE)" : "");
		} else {
			fprintf(f, "  ZRTP: none\n");
		}
		for (int k = 0; k < 2; k++) {
			const struct verify_dir *d = &s->dir[k];
			const struct verify_counts *n = &d->n;
			pr_addr_str(&d->src, a, sizeof(a));
			fprintf(f, "  %s %s:", k == 0 ? ">" : "<", a);
			if (d->n_ssrc > 0) {
				fprintf(f, " ssrc");
				for (size_t j = 0; j < d->n_ssrc; j++)
					fprintf(f, "%s%08x", j ? "," : " ", d->ssrc[j]);
			}
			if (d->codec[0])
				fprintf(f, " %s", d->codec);
			if (d->sent_hello)
				fprintf(f, " client \"%s\", zrtp-hash %s", d->client_id,
					hash_check_str(d->hash_check));
			fprintf(f, "\n    zrtp %llu", (unsigned long long)n->zrtp);
			if (n->zrtp_bad)
				fprintf(f, " (+%llu bad)", (unsigned long long)n->zrtp_bad);
			fprintf(f, ", srtp %llu, CLEAR RTP %llu, unknown %llu, srtcp %llu, rtcp clear %llu",
				(unsigned long long)n->srtp, (unsigned long long)n->rtp_clear,
				(unsigned long long)n->rtp_unknown, (unsigned long long)n->srtcp,
				(unsigned long long)n->rtcp_clear);
			if (n->rtcp_unknown)
				fprintf(f, " (+%llu unknown)", (unsigned long long)n->rtcp_unknown);
			fprintf(f, ", stun %llu, dtls %llu, other %llu\n",
				(unsigned long long)n->stun, (unsigned long long)n->dtls,
				(unsigned long long)n->other);
			if (r->keylog_used)
				fprintf(f, "    authenticated %llu, FAILED %llu, no key %llu\n",
					(unsigned long long)n->auth_ok,
					(unsigned long long)n->auth_fail,
					(unsigned long long)n->no_key);
			if (d->payload_bytes > 0)
				fprintf(f, "    payload entropy %.2f bits/byte, %u samples/packet\n",
					d->payload_entropy, d->samples_per_pkt);
			if (d->wav_path[0])
				fprintf(f, "    audio: %s (%.2f s)\n", d->wav_path,
					(double)d->wav_samples / 8000.0);
		}
		if (s->n_failed_frames > 0) {
			fprintf(f, "  failed authentication in frames:");
			for (size_t k = 0; k < s->n_failed_frames; k++)
				fprintf(f, " %llu", (unsigned long long)s->failed_frames[k]);
			fprintf(f, "\n");
		}
		if (s->later_epoch)
			fprintf(f, "  a later call on these ports, with its own handshake\n");
		if (s->continues != 0 && !s->hs_complete)
			fprintf(f, "  continues stream %u: the same call and m= line, moved "
				"(re-INVITE), the same SSRCs, no ZRTP of its own\n", s->continues);
		fprintf(f, "  secured: %s\n",
			s->secured ? (s->hs_complete ? "yes (ZRTP handshake)"
				      : s->keylog_secured ? "yes (key log)"
				      : "yes (the handshake of the stream it continues)")
				   : (s->has_media ? "NO" : "no media"));
	}
	fprintf(f, "\nverdict: %s: %s\n", r->verdict == VERIFY_PASS ? "PASS" : "FAIL",
		r->reasons);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_addr(FILE *f, const struct pr_addr *a)
{
	char b[64];
	json_str(f, pr_addr_str(a, b, sizeof(b)));
}

static void json_counts(FILE *f, const struct verify_counts *n)
{
	fprintf(f, "{\"zrtp\":%llu,\"zrtp_bad\":%llu,\"srtp\":%llu,\"rtp_clear\":%llu,"
		"\"rtp_unknown\":%llu,\"srtcp\":%llu,\"rtcp_clear\":%llu,"
		"\"rtcp_unknown\":%llu,\"stun\":%llu,\"dtls\":%llu,\"other\":%llu,"
		"\"auth_ok\":%llu,\"auth_fail\":%llu,\"no_key\":%llu}",
		(unsigned long long)n->zrtp, (unsigned long long)n->zrtp_bad,
		(unsigned long long)n->srtp, (unsigned long long)n->rtp_clear,
		(unsigned long long)n->rtp_unknown, (unsigned long long)n->srtcp,
		(unsigned long long)n->rtcp_clear, (unsigned long long)n->rtcp_unknown,
		(unsigned long long)n->stun, (unsigned long long)n->dtls,
		(unsigned long long)n->other, (unsigned long long)n->auth_ok, (unsigned long long)n->auth_fail,
		(unsigned long long)n->no_key);
}

void verify_report_json(FILE *f, const struct verify_report *r)
{
	const struct pr_stats *st = &r->stats;
	fprintf(f, "{\"version\":1,\"capture\":");
	json_str(f, r->capture);
	fprintf(f, ",\"verdict\":\"%s\",\"exit\":%d,\"reasons\":",
		r->verdict == VERIFY_PASS ? "pass" : "fail", (int)r->verdict);
	json_str(f, r->reasons);
	fprintf(f, ",\"partial\":%s,\"partial_why\":", r->partial ? "true" : "false");
	json_str(f, r->partial_why);
	fprintf(f, ",\"stats\":{\"frames\":%llu,\"udp\":%llu,\"tcp_segments\":%llu,"
		"\"not_ip\":%llu,\"not_udp_tcp\":%llu,\"truncated\":%llu,"
		"\"bad_header\":%llu,\"frag_incomplete\":%llu,\"tcp_gaps\":%llu,"
		"\"file_truncated\":%s,\"sip_messages\":%llu,\"sip_bad\":%llu,"
		"\"calls\":%llu,\"udp_other\":%llu}",
		(unsigned long long)st->frames, (unsigned long long)st->udp,
		(unsigned long long)st->tcp_segments, (unsigned long long)st->not_ip,
		(unsigned long long)st->not_udp_tcp, (unsigned long long)st->truncated,
		(unsigned long long)st->bad_header, (unsigned long long)st->frag_incomplete,
		(unsigned long long)st->tcp_gaps, st->file_truncated ? "true" : "false",
		(unsigned long long)r->sip_messages, (unsigned long long)r->sip_bad,
		(unsigned long long)r->calls, (unsigned long long)r->udp_other);
	if (r->keylog_used)
		fprintf(f, ",\"keylog_records\":%zu", r->keylog_records);
	else
		fprintf(f, ",\"keylog_records\":null");
	fprintf(f, ",\"streams\":[");
	for (size_t i = 0; i < r->n_streams; i++) {
		const struct verify_stream *s = &r->streams[i];
		fprintf(f, "%s{\"id\":%u,\"call_id\":", i ? "," : "", s->id);
		json_str(f, s->call_id);
		fprintf(f, ",\"announced\":%s,\"rtcp_mux\":%s,\"rtcp\":",
			s->announced ? "true" : "false", s->rtcp_mux ? "true" : "false");
		if (s->has_rtcp_flow) {
			fputc('[', f);
			json_addr(f, &s->rtcp[0]);
			fputc(',', f);
			json_addr(f, &s->rtcp[1]);
			fputc(']', f);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ",\"zrtp\":{\"messages\":[");
		for (size_t k = 0; k < s->n_ev; k++)
			fprintf(f, "%s{\"type\":\"%s\",\"from\":%u,\"count\":%u}", k ? "," : "",
				ev_name(s->ev[k].type), s->ev[k].dir, s->ev[k].count);
		fprintf(f, "],\"truncated\":%s,\"complete\":%s,\"missing\":",
			s->ev_overflow ? "true" : "false", s->hs_complete ? "true" : "false");
		json_str(f, s->hs_missing);
		fprintf(f, ",\"initiator\":%d,\"algorithms\":", s->initiator);
		if (s->have_algos) {
			fprintf(f, "{\"ka\":");
			json_str(f, s->ka);
			fprintf(f, ",\"hash\":");
			json_str(f, s->hash);
			fprintf(f, ",\"cipher\":");
			json_str(f, s->cipher);
			fprintf(f, ",\"auth\":");
			json_str(f, s->auth);
			fprintf(f, ",\"sas\":");
			json_str(f, s->sas);
			fputc('}', f);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, "},\"has_media\":%s,\"first_media_after_handshake_ms\":",
			s->has_media ? "true" : "false");
		if (s->hs_complete && s->has_media)
			fprintf(f, "%.3f", (double)s->first_media_rel_usec / 1000.0);
		else
			fprintf(f, "null");
		fprintf(f, ",\"keylog_secured\":%s,\"secured\":%s,\"continues\":",
			s->keylog_secured ? "true" : "false", s->secured ? "true" : "false");
		if (s->continues != 0)
			fprintf(f, "%u", s->continues);
		else
			fprintf(f, "null");
		fprintf(f, ",\"later_epoch\":%s,\"failed_frames\":[",
			s->later_epoch ? "true" : "false");
		for (size_t k = 0; k < s->n_failed_frames; k++)
			fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)s->failed_frames[k]);
		fprintf(f, "],\"directions\":[");
		for (int k = 0; k < 2; k++) {
			const struct verify_dir *d = &s->dir[k];
			fprintf(f, "%s{\"src\":", k ? "," : "");
			json_addr(f, &d->src);
			fprintf(f, ",\"dst\":");
			json_addr(f, &d->dst);
			fprintf(f, ",\"announced\":%s,\"ssrc\":[", d->announced ? "true" : "false");
			for (size_t j = 0; j < d->n_ssrc; j++)
				fprintf(f, "%s\"%08x\"", j ? "," : "", d->ssrc[j]);
			fprintf(f, "],\"payload_type\":%d,\"codec\":", d->payload_type);
			json_str(f, d->codec);
			fprintf(f, ",\"samples_per_packet\":%u,\"payload_entropy\":%.3f,"
				"\"hello\":%s,\"client_id\":",
				d->samples_per_pkt, d->payload_entropy,
				d->sent_hello ? "true" : "false");
			json_str(f, d->client_id);
			fprintf(f, ",\"zrtp_hash\":\"%s\",\"counts\":", hash_check_str(d->hash_check));
			json_counts(f, &d->n);
			fprintf(f, ",\"wav\":");
			if (d->wav_path[0])
				json_str(f, d->wav_path);
			else
				fprintf(f, "null");
			fputc('}', f);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
}
