/*
 * `zrtpshim verify --audio-dir`: G.711 to linear (ITU-T G.711 tables,
 * written as the usual bit expansions) and the WAV writer, one 8 kHz mono
 * file per direction and SSRC.
 */
#include "tools/verify_int.h"

#include <arpa/inet.h>
#include <errno.h>

int16_t verify_ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

int16_t verify_alaw_decode(uint8_t a)
{
	a ^= 0x55;
	int t = (a & 0x0f) << 4;
	int seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

bool verify_is_g711(const struct ptmap *m, bool *alaw)
{
	if (m == NULL || m->rate != 8000)
		return false;
	if (strcmp(m->name, "PCMU") == 0 || strcmp(m->name, "pcmu") == 0) {
		*alaw = false;
		return true;
	}
	if (strcmp(m->name, "PCMA") == 0 || strcmp(m->name, "pcma") == 0) {
		*alaw = true;
		return true;
	}
	return false;
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wav_header(uint8_t h[44], uint64_t samples)
{
	uint32_t data = samples > 0x7ffffff0u / 2 ? 0x7ffffff0u : (uint32_t)(samples * 2);
	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);        /* PCM */
	put_le(h + 22, 1, 2);        /* mono */
	put_le(h + 24, 8000, 4);
	put_le(h + 28, 16000, 4);
	put_le(h + 32, 2, 2);
	put_le(h + 34, 16, 2);
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data, 4);
}

int verify_audio_probe(const char *dir, char *why, size_t why_len)
{
	char probe[512];
	snprintf(probe, sizeof(probe), "%s/.zrtpshim-verify-probe", dir);
	FILE *pf = fopen(probe, "wb");
	if (pf == NULL) {
		int r = -errno;
		snprintf(why, why_len, "audio directory %s: %s", dir,
			 strerror(errno));
		return r;
	}
	fclose(pf);
	remove(probe);
	return 0;
}

void verify_wav_write(struct ctx *c, struct fdir *fd, const struct pr_datagram *d,
		      uint32_t ssrc, bool alaw, const uint8_t *pl, size_t n)
{
	struct wav *w = &fd->wav;
	if (w->failed || n == 0)
		return;
	if (w->f == NULL) {
		char s[INET6_ADDRSTRLEN + 8], t[INET6_ADDRSTRLEN + 8];
		pr_addr_str(&d->src, s, sizeof(s));
		pr_addr_str(&d->dst, t, sizeof(t));
		for (char *q = s; *q; q++)
			if (*q == ':' || *q == '[' || *q == ']')
				*q = '_';
		for (char *q = t; *q; q++)
			if (*q == ':' || *q == '[' || *q == ']')
				*q = '_';
		snprintf(w->path, sizeof(w->path), "%s/%s-to-%s-%08x.wav",
			 c->opt->audio_dir, s, t, ssrc);
		w->f = fopen(w->path, "wb");
		if (w->f == NULL) {
			w->failed = true;
			return;
		}
		uint8_t h[44];
		wav_header(h, 0);
		if (fwrite(h, 1, 44, w->f) != 44)
			w->failed = true;
		w->ssrc = ssrc;
	}
	if (ssrc != w->ssrc)
		return;
	uint8_t out[2 * 1500];
	while (n > 0) {
		size_t k = n > 1500 ? 1500 : n;
		for (size_t i = 0; i < k; i++) {
			int16_t v = alaw ? verify_alaw_decode(pl[i]) : verify_ulaw_decode(pl[i]);
			put_le(out + 2 * i, (uint16_t)v, 2);
		}
		if (fwrite(out, 2, k, w->f) != k)
			w->failed = true;
		w->samples += k;
		pl += k;
		n -= k;
	}
}

void verify_wav_close(struct wav *w)
{
	if (w->f == NULL)
		return;
	uint8_t h[44];
	wav_header(h, w->samples);
	if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, 44, w->f) != 44)
		w->failed = true;
	if (fclose(w->f) != 0)
		w->failed = true;
	w->f = NULL;
}
