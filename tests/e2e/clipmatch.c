/*
 * clipmatch: is a prompt's clip sequence in a recording, and where.
 * For the G.711 end-to-end tests, where the recogniser's 16 kHz model
 * cannot hear narrowband speech: the expected sequence comes from
 * clips_compose (shim/clips.c, the same code as the shim's), so the test
 * checks what the shim plays, clip by clip.
 *
 *   clipmatch find [-t MIN] [-s SLOP_MS] [-n HZ,HZ..] REC.wav PACKDIR KIND SAS
 *       REC.wav: mono s16 PCM at 8000, 16000 or 48000 Hz (e.g. baresip's
 *       decoded dump of a G.711 call). Prints "found KIND SAS at MS ms
 *       (scores ...)" and exits 0 if every clip of the sequence is found in
 *       order, else prints the best attempt and exits 1; 2 on bad input.
 *   clipmatch say PACKDIR RATE KIND SAS OUT.wav
 *       Writes the prompt as the shim composes it (mono s16 WAV at RATE).
 *   clipmatch len PACKDIR RATE KIND SAS
 *       Prints its length in ms.
 *
 * KIND: secure, secure_verified, secure_cue, code, verified, unverified, mismatch,
 * clear, cannot_encrypt, altered, pin_alarm. SAS as the engine renders it
 * ("t45b", "Aztec:Yucatan"; "" for kinds without a code).
 *
 * How: the recording and the composed prompt both go through the same
 * filters: a 200 Hz high-pass and a notch (Q 3) at each HZ (default 440
 * and 660, the test peers' steady tones, which a call mixes under the
 * prompt). The first clip is searched everywhere by normalised
 * cross-correlation (through an FFT); each later clip only where the
 * composed sequence puts it, within SLOP_MS (default 30) of the previous
 * clip's found place. Every clip must score at least MIN (default 0.6).
 * Measured (tests/e2e/clipmatch_synth.sh, 8 seeds, 176 cases, mu-law and
 * A-law, tone at -20 and -8 dBFS): the right clip scores 0.997 or more,
 * another SAS's clip at its place at most 0.367, another kind's phrase
 * anywhere at most 0.221.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/clips.h"
#include "shim/log.h"
#include "shim/real.h"

struct shim_real shim_real;     /* none: clips.c uses libc's */

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	if (lvl > SHIM_LOG_WARN)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("clipmatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char *const kind_name[PROMPT_KIND_COUNT] = {
	[PROMPT_SECURE] = "secure",
	[PROMPT_SECURE_VERIFIED] = "secure_verified",
	[PROMPT_SECURE_CUE] = "secure_cue",
	[PROMPT_CODE] = "code",
	[PROMPT_VERIFIED] = "verified",
	[PROMPT_UNVERIFIED] = "unverified",
	[PROMPT_MISMATCH] = "mismatch",
	[PROMPT_CLEAR] = "clear",
	[PROMPT_CANNOT_ENCRYPT] = "cannot_encrypt",
	[PROMPT_ALTERED] = "altered",
	[PROMPT_PIN_ALARM] = "pin_alarm",
};

static int kind_parse(const char *s)
{
	for (int k = 0; k < PROMPT_KIND_COUNT; k++)
		if (strcmp(s, kind_name[k]) == 0)
			return k;
	return -1;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("clipmatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* --- WAV ------------------------------------------------------------------ */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Mono s16 PCM only; *rate set from the file. */
static double *wav_read(const char *path, unsigned *rate, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	unsigned char h[12], ch[8], fmt[16];
	if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) ||
	    memcmp(h + 8, "WAVE", 4))
		die("%s: not a RIFF WAVE file", path);
	bool have_fmt = false;
	for (;;) {
		if (fread(ch, 1, 8, f) != 8)
			die("%s: no data chunk", path);
		uint32_t len = le32(ch + 4);
		if (memcmp(ch, "fmt ", 4) == 0) {
			if (len < 16 || fread(fmt, 1, 16, f) != 16)
				die("%s: short fmt chunk", path);
			unsigned tag = fmt[0] | fmt[1] << 8;
			unsigned chans = fmt[2] | fmt[3] << 8;
			unsigned bits = fmt[14] | fmt[15] << 8;
			if ((tag != 1 && tag != 0xfffe) || chans != 1 || bits != 16)
				die("%s: want mono 16-bit PCM (format %u, %u "
				    "channels, %u bits)", path, tag, chans, bits);
			*rate = le32(fmt + 4);
			have_fmt = true;
			if (fseek(f, (long)(len - 16 + (len & 1)), SEEK_CUR) != 0)
				die("%s: truncated", path);
		} else if (memcmp(ch, "data", 4) == 0) {
			if (!have_fmt)
				die("%s: data before fmt", path);
			break;
		} else if (fseek(f, (long)(len + (len & 1)), SEEK_CUR) != 0) {
			die("%s: truncated", path);
		}
	}
	/* The data chunk's length is often wrong in streamed dumps: read to
	 * the end of the file. */
	size_t cap = 1 << 16, got = 0;
	int16_t *s = malloc(cap * sizeof *s);
	for (;;) {
		if (got == cap) {
			cap *= 2;
			s = realloc(s, cap * sizeof *s);
		}
		size_t r = fread(s + got, sizeof *s, cap - got, f);
		if (r == 0)
			break;
		got += r;
	}
	fclose(f);
	double *x = malloc((got ? got : 1) * sizeof *x);
	for (size_t i = 0; i < got; i++) {
		unsigned char *b = (unsigned char *)&s[i];
		x[i] = (int16_t)(b[0] | b[1] << 8);
	}
	free(s);
	*n = got;
	return x;
}

static void put32(FILE *f, uint32_t v)
{
	unsigned char b[4] = { v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24 };
	fwrite(b, 1, 4, f);
}

static void put16(FILE *f, unsigned v)
{
	unsigned char b[2] = { v & 0xff, v >> 8 & 0xff };
	fwrite(b, 1, 2, f);
}

static void wav_write(const char *path, unsigned rate, const int16_t *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fwrite("RIFF", 1, 4, f);
	put32(f, (uint32_t)(36 + 2 * n));
	fwrite("WAVEfmt ", 1, 8, f);
	put32(f, 16);
	put16(f, 1);
	put16(f, 1);
	put32(f, rate);
	put32(f, rate * 2);
	put16(f, 2);
	put16(f, 16);
	fwrite("data", 1, 4, f);
	put32(f, (uint32_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		put16(f, (uint16_t)s[i]);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* --- the composed prompt -------------------------------------------------- */

static void compose(const char *dir, int kind, const char *sas, unsigned rate,
		    struct clip_seq *q)
{
	if (clips_load(dir) < 0)
		die("cannot load the packs in %s", dir);
	int r = clips_compose(kind, sas, rate, q);
	if (r < 0)
		die("no %s prompt for SAS '%s' at %u Hz: %s", kind_name[kind], sas,
		    rate, strerror(-r));
}

static int16_t *flatten(const struct clip_seq *q, size_t *n)
{
	*n = clips_seq_len(q);
	int16_t *s = calloc(*n ? *n : 1, sizeof *s);
	size_t at = 0;
	for (unsigned i = 0; i < q->n_parts; i++) {
		if (q->part[i].pcm)
			memcpy(s + at, q->part[i].pcm, q->part[i].n * sizeof *s);
		at += q->part[i].n;
	}
	return s;
}

/* --- filters and correlation ------------------------------------------------ */

struct biquad {
	double b0, b1, b2, a1, a2;
};

/* RBJ audio EQ cookbook: notch at f, and a second-order high-pass. */
static struct biquad notch(double f, double fs, double q)
{
	double w = 2 * M_PI * f / fs, al = sin(w) / (2 * q), a0 = 1 + al;
	return (struct biquad){ 1 / a0, -2 * cos(w) / a0, 1 / a0,
				-2 * cos(w) / a0, (1 - al) / a0 };
}

static struct biquad highpass(double f, double fs)
{
	double w = 2 * M_PI * f / fs, al = sin(w) / (2 * M_SQRT1_2), a0 = 1 + al;
	double c = cos(w);
	return (struct biquad){ (1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0,
				-2 * c / a0, (1 - al) / a0 };
}

static void filter(double *x, size_t n, struct biquad f)
{
	double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
	for (size_t i = 0; i < n; i++) {
		double y = f.b0 * x[i] + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
		x2 = x1;
		x1 = x[i];
		y2 = y1;
		y1 = y;
		x[i] = y;
	}
}

static double notch_hz[8] = { 440, 660 };
static int n_notch = 2;

static void condition(double *x, size_t n, unsigned rate)
{
	filter(x, n, highpass(200, rate));
	for (int i = 0; i < n_notch; i++)
		if (notch_hz[i] > 0 && notch_hz[i] < rate / 2.0)
			filter(x, n, notch(notch_hz[i], rate, 3));
}

/* In-place iterative radix-2 FFT (inverse when inv; unscaled). */
static void fft(double *re, double *im, size_t n, bool inv)
{
	for (size_t i = 1, j = 0; i < n; i++) {
		size_t bit = n >> 1;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
		if (i < j) {
			double t = re[i]; re[i] = re[j]; re[j] = t;
			t = im[i]; im[i] = im[j]; im[j] = t;
		}
	}
	for (size_t len = 2; len <= n; len <<= 1) {
		double ang = 2 * M_PI / (double)len * (inv ? 1 : -1);
		double wr = cos(ang), wi = sin(ang);
		for (size_t i = 0; i < n; i += len) {
			double cr = 1, ci = 0;
			for (size_t k = 0; k < len / 2; k++) {
				size_t a = i + k, b = i + k + len / 2;
				double tr = re[b] * cr - im[b] * ci;
				double ti = re[b] * ci + im[b] * cr;
				re[b] = re[a] - tr;
				im[b] = im[a] - ti;
				re[a] += tr;
				im[a] += ti;
				double t = cr * wr - ci * wi;
				ci = cr * wi + ci * wr;
				cr = t;
			}
		}
	}
}

/* Prefix sums of x^2, for each window's energy. */
static double *energy_prefix(const double *x, size_t n)
{
	double *e = malloc((n + 1) * sizeof *e);
	e[0] = 0;
	for (size_t i = 0; i < n; i++)
		e[i + 1] = e[i] + x[i] * x[i];
	return e;
}

static double ncc_norm(const double *ep, size_t lag, size_t m, double tt)
{
	double w = ep[lag + m] - ep[lag];
	return w > 0 && tt > 0 ? sqrt(w * tt) : INFINITY;
}

/* NCC of template t (m samples) at every lag of x (n samples). */
static double *ncc_all(const double *x, size_t n, const double *ep,
		       const double *t, size_t m)
{
	size_t len = 1;
	while (len < n + m)
		len <<= 1;
	double *ar = calloc(len, sizeof *ar), *ai = calloc(len, sizeof *ai);
	double *br = calloc(len, sizeof *br), *bi = calloc(len, sizeof *bi);
	memcpy(ar, x, n * sizeof *x);
	memcpy(br, t, m * sizeof *t);
	fft(ar, ai, len, false);
	fft(br, bi, len, false);
	for (size_t i = 0; i < len; i++) {     /* A * conj(B) */
		double r = ar[i] * br[i] + ai[i] * bi[i];
		double im = ai[i] * br[i] - ar[i] * bi[i];
		ar[i] = r;
		ai[i] = im;
	}
	fft(ar, ai, len, true);
	double tt = 0;
	for (size_t i = 0; i < m; i++)
		tt += t[i] * t[i];
	size_t lags = n - m + 1;
	double *c = malloc(lags * sizeof *c);
	for (size_t l = 0; l < lags; l++)
		c[l] = ar[l] / (double)len / ncc_norm(ep, l, m, tt);
	free(ar);
	free(ai);
	free(br);
	free(bi);
	return c;
}

static double ncc_at(const double *x, const double *ep, size_t lag,
		     const double *t, size_t m)
{
	double s = 0, tt = 0;
	for (size_t i = 0; i < m; i++) {
		s += x[lag + i] * t[i];
		tt += t[i] * t[i];
	}
	return s / ncc_norm(ep, lag, m, tt);
}

/* --- find ------------------------------------------------------------------- */

struct part_at {
	size_t off, n;          /* in the composed prompt */
};

static int cmd_find(int argc, char **argv)
{
	double min = 0.6, slop_ms = 30;
	int o = 0;
	while (o + 1 < argc && argv[o][0] == '-') {
		if (strcmp(argv[o], "-t") == 0) {
			min = atof(argv[o + 1]);
		} else if (strcmp(argv[o], "-s") == 0) {
			slop_ms = atof(argv[o + 1]);
		} else if (strcmp(argv[o], "-n") == 0) {
			n_notch = 0;
			for (char *s = argv[o + 1]; *s && n_notch < 8;) {
				notch_hz[n_notch++] = strtod(s, &s);
				if (*s == ',')
					s++;
				else if (*s)
					die("-n: want HZ,HZ,...");
			}
		} else {
			die("unknown option %s", argv[o]);
		}
		o += 2;
	}
	if (argc - o != 4)
		die("usage: clipmatch find [-t MIN] [-s SLOP_MS] [-n HZ,HZ] "
		    "REC.wav PACKDIR KIND SAS");
	const char *rec = argv[o], *dir = argv[o + 1], *sas = argv[o + 3];
	int kind = kind_parse(argv[o + 2]);
	if (kind < 0)
		die("unknown kind %s", argv[o + 2]);

	unsigned rate = 0;
	size_t n = 0;
	double *x = wav_read(rec, &rate, &n);
	struct clip_seq q;
	compose(dir, kind, sas, rate, &q);
	size_t pn;
	int16_t *p16 = flatten(&q, &pn);
	double *p = malloc(pn * sizeof *p);
	for (size_t i = 0; i < pn; i++)
		p[i] = p16[i];
	free(p16);
	condition(x, n, rate);
	condition(p, pn, rate);
	if (n < pn)
		die("%s: %.0f ms, shorter than the %.0f ms prompt", rec,
		    1000.0 * n / rate, 1000.0 * pn / rate);

	struct part_at parts[CLIPS_SEQ_MAX];
	unsigned np = 0;
	size_t at = 0;
	for (unsigned i = 0; i < q.n_parts; i++) {
		if (q.part[i].pcm)
			parts[np++] = (struct part_at){ at, q.part[i].n };
		at += q.part[i].n;
	}
	double *ep = energy_prefix(x, n);
	double *c0 = ncc_all(x, n, ep, p + parts[0].off, parts[0].n);
	size_t lags = n - parts[0].n + 1;
	long slop = (long)(slop_ms * rate / 1000);

	/* Each local maximum of the first clip's score above min (at least a
	 * clip's length from a better one) is a candidate start. */
	double best_total = -1, best_sc[CLIPS_SEQ_MAX] = { 0 };
	size_t best_start = 0;
	unsigned best_reached = 0;
	for (size_t l = 0; l < lags; l++) {
		if (!(c0[l] >= min))
			continue;
		size_t lo = l > parts[0].n ? l - parts[0].n : 0;
		size_t hi = l + parts[0].n < lags ? l + parts[0].n : lags - 1;
		bool peak = true;
		for (size_t k = lo; k <= hi && peak; k++)
			if (c0[k] > c0[l] || (c0[k] == c0[l] && k < l))
				peak = false;
		if (!peak)
			continue;
		double sc[CLIPS_SEQ_MAX];
		sc[0] = c0[l];
		long drift = 0;
		unsigned reached = 1;
		double total = sc[0];
		for (unsigned k = 1; k < np; k++) {
			long e = (long)l + (long)parts[k].off + drift;
			double bs = -2;
			long bl = e;
			for (long g = e - slop; g <= e + slop; g++) {
				if (g < 0 || (size_t)g + parts[k].n > n)
					continue;
				double v = ncc_at(x, ep, (size_t)g, p + parts[k].off,
						  parts[k].n);
				if (v > bs) {
					bs = v;
					bl = g;
				}
			}
			sc[k] = bs;
			total += bs;
			if (bs < min)
				break;
			reached++;
			drift = bl - ((long)l + (long)parts[k].off);
		}
		if (reached > best_reached ||
		    (reached == best_reached && total > best_total)) {
			best_reached = reached;
			best_total = total;
			best_start = l;
			memcpy(best_sc, sc, sizeof sc);
		}
		if (reached == np)
			break;
	}
	bool found = best_reached == np;
	printf("%s %s %s at %.1f ms (scores", found ? "found" : "not found:",
	       kind_name[kind], sas, 1000.0 * best_start / rate);
	for (unsigned k = 0; k < np && k <= best_reached && k < np; k++)
		printf(" %.3f", best_sc[k]);
	if (!found) {
		if (best_reached == 0) {
			double m = -2;
			size_t ml = 0;
			for (size_t l = 0; l < lags; l++)
				if (c0[l] > m) {
					m = c0[l];
					ml = l;
				}
			printf("; first clip best %.3f at %.1f ms", m,
			       1000.0 * ml / rate);
		} else {
			printf("; clip %u of %u below %.2f", best_reached + 1, np,
			       min);
		}
	}
	printf(")\n");
	free(c0);
	free(ep);
	free(p);
	free(x);
	return found ? 0 : 1;
}

static int cmd_say(int argc, char **argv)
{
	if (argc != 5)
		die("usage: clipmatch say PACKDIR RATE KIND SAS OUT.wav");
	int kind = kind_parse(argv[2]);
	if (kind < 0)
		die("unknown kind %s", argv[2]);
	struct clip_seq q;
	compose(argv[0], kind, argv[3], (unsigned)atoi(argv[1]), &q);
	size_t n;
	int16_t *s = flatten(&q, &n);
	wav_write(argv[4], q.rate, s, n);
	free(s);
	return 0;
}

/* The composed prompt's length in ms (for measuring what lies under it). */
static int cmd_len(int argc, char **argv)
{
	if (argc != 4)
		die("usage: clipmatch len PACKDIR RATE KIND SAS");
	int kind = kind_parse(argv[2]);
	if (kind < 0)
		die("unknown kind %s", argv[2]);
	struct clip_seq q;
	compose(argv[0], kind, argv[3], (unsigned)atoi(argv[1]), &q);
	printf("%zu\n", clips_seq_len(&q) * 1000 / q.rate);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "len") == 0)
		return cmd_len(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "find") == 0)
		return cmd_find(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "say") == 0)
		return cmd_say(argc - 2, argv + 2);
	die("usage: clipmatch find [-t MIN] [-s SLOP_MS] [-n HZ,HZ] REC.wav "
	    "PACKDIR KIND SAS\n       clipmatch say PACKDIR RATE KIND SAS OUT.wav"
	    "\n       clipmatch len PACKDIR RATE KIND SAS");
	return 2;
}
