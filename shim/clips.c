/*
 * The prompt clips (clips.h): the packs rendered at build time by
 * scripts/render-prompts.sh from data/prompts.txt, loaded once.
 *
 * The packs. For each rate R of clips_rates, a directory holds two files:
 *
 *   clips-R.pcm  every clip's samples, mono s16 little-endian, back to
 *                back, nothing else (mapped read-only, never copied);
 *   clips-R.idx  the text index: a header line, then one line per clip,
 *                each ended by '\n':
 *
 *       zrtpshim-clips 1 R N TOTAL
 *       ID OFFSET SAMPLES        (N such lines)
 *
 *   1 is the format's version; N the number of clips (1..CLIPS_MAX); TOTAL
 *   the samples in clips-R.pcm, whose size must be exactly 2 * TOTAL
 *   bytes. ID is 1 to 31 of [a-z0-9_], unique; SAMPLES > 0 and OFFSET +
 *   SAMPLES <= TOTAL (clips may share samples; the renderer never does).
 *   Decimal numbers, single spaces.
 *
 * The ids (data/prompts.txt): phrase_* per prompt kind (kind_phrase
 * below), letter_X and digit_N for the z-base-32 characters of a B32 SAS
 * (X a letter, spoken in the ICAO alphabet; N a digit), word_W for each
 * PGP word W of a B256 SAS, in lower case.
 *
 * Anything else in a pack (wrong header, a line that does not parse, fewer
 * or more lines than N, a missing last newline, a clip out of bounds, a
 * .pcm of another size) fails the load with one ERROR line naming the
 * file and line; then every prompt is unavailable. Loading happens once,
 * before any stream asks for a prompt, and the tables are read-only after
 * (clips_compose takes no lock).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/clips.h"
#include "shim/log.h"
#include "shim/real.h"

#ifndef ZS_PROMPTS_DIR
#error "ZS_PROMPTS_DIR (the installed packs, $(pkgdatadir)/prompts) must be defined"
#endif

#define CLIPS_MAX 4096          /* clips per pack */
#define CLIPS_ID_MAX 32         /* id bytes with its NUL */
#define CLIPS_IDX_MAX (1 << 20) /* index file bytes */
#define CLIPS_PCM_MAX (1u << 30) /* pack bytes */

/* Silences between the parts of a prompt, in ms. */
#define GAP_PHRASE_MS 400
#define GAP_CHAR_MS 300
#define GAP_WORD_MS 350

const unsigned clips_rates[CLIPS_N_RATES] = { 8000, 16000, 48000 };

struct clip_ent {
	char id[CLIPS_ID_MAX];
	uint32_t off, n;
};

struct clips_pack {
	const int16_t *pcm;
	size_t map_len;
	struct clip_ent *ent;   /* sorted by id */
	unsigned n;
};

static pthread_mutex_t clips_mu = PTHREAD_MUTEX_INITIALIZER;
static bool clips_tried;
static int clips_result;
static _Atomic bool clips_ready;        /* set last, once the packs are whole */
static struct clips_pack packs[CLIPS_N_RATES];

/* Each kind's phrase and whether the code follows it. */
static const struct {
	const char *id;
	bool code;
} kind_phrase[PROMPT_KIND_COUNT] = {
	[PROMPT_SECURE] = { "phrase_secure", true },
	[PROMPT_SECURE_VERIFIED] = { "phrase_secure_verified", false },
	[PROMPT_SECURE_CUE] = { "phrase_secure_cue", false },
	[PROMPT_CODE] = { "phrase_code", true },
	[PROMPT_VERIFIED] = { "phrase_verified", false },
	[PROMPT_UNVERIFIED] = { "phrase_unverified", false },
	/* Followed by phrase_code, then the code. */
	[PROMPT_MISMATCH] = { "phrase_mismatch", true },
	[PROMPT_CLEAR] = { "phrase_clear", false },
	[PROMPT_CANNOT_ENCRYPT] = { "phrase_cannot_encrypt", false },
	[PROMPT_ALTERED] = { "phrase_altered", false },
	[PROMPT_PIN_ALARM] = { "phrase_pin_alarm", false },
};

static const char zbase32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

/* The shim's own fds go through the real close and read (STYLE habit 3); a
 * program without the shim's hooks (the unit tests) has no pointers and
 * uses libc's. */
static void clips_close(int fd)
{
	if (shim_real.close)
		shim_real.close(fd);
	else
		close(fd);
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct clip_ent *)a)->id,
		      ((const struct clip_ent *)b)->id);
}

static void pack_free(struct clips_pack *p)
{
	if (p->pcm)
		munmap((void *)p->pcm, p->map_len);
	free(p->ent);
	memset(p, 0, sizeof *p);
}

/* The whole of a small file, NUL-terminated, in a malloc'd buffer. */
static int read_small(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CLIPS_IDX_MAX) {
		clips_close(fd);
		return -EFBIG;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		clips_close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = shim_real.read ?
			shim_real.read(fd, b + got, (size_t)st.st_size - got) :
			read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	clips_close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* A decimal number of at most 10 digits, followed by a space, a newline
 * or the end of the text; *s is moved past it. */
static bool parse_u32(const char **s, uint32_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 11) {
		x = x * 10 + (uint64_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 10 || x > UINT32_MAX ||
	    (*p != ' ' && *p != '\n' && *p != '\0'))
		return false;
	*v = (uint32_t)x;
	*s = p;
	return true;
}

#define LOAD_FAIL(err, ...) do { \
		shim_log(SHIM_LOG_ERROR, "prompts: " __VA_ARGS__); \
		r = (err); \
		goto out; \
	} while (0)

static int pack_load(const char *dir, unsigned rate, struct clips_pack *p)
{
	char path[4200], pcm_path[4200];
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, r = 0;

	snprintf(path, sizeof path, "%s/clips-%u.idx", dir, rate);
	snprintf(pcm_path, sizeof pcm_path, "%s/clips-%u.pcm", dir, rate);
	r = read_small(path, &buf, &len);
	if (r == -EFBIG)
		LOAD_FAIL(-EINVAL, "%s: not a regular file of at most %d bytes",
			  path, CLIPS_IDX_MAX);
	if (r < 0)
		LOAD_FAIL(r, "cannot read %s: %s (no spoken prompts)", path,
			  strerror(-r));
	if (strlen(buf) != len)
		LOAD_FAIL(-EINVAL, "%s: malformed (a NUL byte)", path);

	const char *s = buf;
	uint32_t version, hrate, n, total;
	if (strncmp(s, "zrtpshim-clips ", 15) != 0)
		LOAD_FAIL(-EINVAL, "%s line 1: not a zrtpshim-clips index", path);
	s += 15;
	if (!parse_u32(&s, &version) || *s++ != ' ' || version != 1 ||
	    !parse_u32(&s, &hrate) || *s++ != ' ' ||
	    !parse_u32(&s, &n) || *s++ != ' ' ||
	    !parse_u32(&s, &total) || *s++ != '\n')
		LOAD_FAIL(-EINVAL, "%s line 1: malformed header (want "
			  "'zrtpshim-clips 1 RATE N TOTAL')", path);
	if (hrate != rate)
		LOAD_FAIL(-EINVAL, "%s line 1: rate %u, the file name says %u",
			  path, hrate, rate);
	if (n == 0 || n > CLIPS_MAX)
		LOAD_FAIL(-EINVAL, "%s line 1: %u clips (1 to %d)", path, n,
			  CLIPS_MAX);
	if (total == 0 || (uint64_t)total * 2 > CLIPS_PCM_MAX)
		LOAD_FAIL(-EINVAL, "%s line 1: %u samples (1 to %u)", path,
			  total, CLIPS_PCM_MAX / 2);

	p->ent = calloc(n, sizeof *p->ent);
	if (!p->ent)
		LOAD_FAIL(-ENOMEM, "%s: out of memory", path);
	for (uint32_t i = 0; i < n; i++) {
		unsigned line = i + 2;
		struct clip_ent *e = &p->ent[i];
		if (*s == '\0')
			LOAD_FAIL(-EINVAL, "%s: truncated (%u of %u clips)", path,
				  i, n);
		size_t k = 0;
		while ((s[k] >= 'a' && s[k] <= 'z') ||
		       (s[k] >= '0' && s[k] <= '9') || s[k] == '_') {
			if (k + 1 >= CLIPS_ID_MAX)
				LOAD_FAIL(-EINVAL, "%s line %u: id longer than %d",
					  path, line, CLIPS_ID_MAX - 1);
			e->id[k] = s[k];
			k++;
		}
		s += k;
		if (k == 0 || *s++ != ' ' || !parse_u32(&s, &e->off) ||
		    *s++ != ' ' || !parse_u32(&s, &e->n))
			LOAD_FAIL(-EINVAL, "%s line %u: malformed (want 'ID OFFSET "
				  "SAMPLES')", path, line);
		if (*s != '\n')
			LOAD_FAIL(-EINVAL, "%s line %u: truncated (no newline)",
				  path, line);
		s++;
		if (e->n == 0 || (uint64_t)e->off + e->n > total)
			LOAD_FAIL(-EINVAL, "%s line %u: clip %s [%u, +%u) outside "
				  "the pack's %u samples", path, line, e->id,
				  e->off, e->n, total);
	}
	if (*s != '\0')
		LOAD_FAIL(-EINVAL, "%s line %u: more lines than the %u clips of "
			  "the header", path, n + 2, n);
	qsort(p->ent, n, sizeof *p->ent, ent_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (strcmp(p->ent[i - 1].id, p->ent[i].id) == 0)
			LOAD_FAIL(-EINVAL, "%s: clip %s listed twice", path,
				  p->ent[i].id);
	p->n = n;

	fd = open(pcm_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		LOAD_FAIL(r, "cannot open %s: %s (no spoken prompts)", pcm_path,
			  strerror(-r));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		LOAD_FAIL(-EINVAL, "%s: not a regular file", pcm_path);
	if ((uint64_t)st.st_size != (uint64_t)total * 2)
		LOAD_FAIL(-EINVAL, "%s: %lld bytes, its index says %llu "
			  "(truncated or from another render)", pcm_path,
			  (long long)st.st_size, (unsigned long long)total * 2);
	void *m = mmap(NULL, (size_t)total * 2, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		LOAD_FAIL(r, "cannot map %s: %s", pcm_path, strerror(-r));
	}
	p->pcm = m;
	p->map_len = (size_t)total * 2;
out:
	if (fd >= 0)
		clips_close(fd);
	free(buf);
	if (r < 0)
		pack_free(p);
	return r;
}

int clips_load(const char *dir)
{
	pthread_mutex_lock(&clips_mu);
	if (clips_tried) {
		pthread_mutex_unlock(&clips_mu);
		return clips_result;
	}
	clips_tried = true;
	if (!dir || !*dir)
		dir = ZS_PROMPTS_DIR;
	int r = 0;
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	shim_log(SHIM_LOG_ERROR, "prompts: the packs are little-endian and "
		 "this host is not (no spoken prompts)");
	r = -ENOTSUP;
#endif
	for (unsigned i = 0; r == 0 && i < CLIPS_N_RATES; i++)
		r = pack_load(dir, clips_rates[i], &packs[i]);
	if (r < 0) {
		for (unsigned i = 0; i < CLIPS_N_RATES; i++)
			pack_free(&packs[i]);
	} else {
		shim_log(SHIM_LOG_INFO, "prompts: %u clips from %s", packs[0].n,
			 dir);
		atomic_store_explicit(&clips_ready, true, memory_order_release);
	}
	clips_result = r;
	pthread_mutex_unlock(&clips_mu);
	return r;
}

static const struct clip_ent *clip_find(const struct clips_pack *p,
					const char *id)
{
	struct clip_ent key;
	size_t k = strlen(id);
	if (k >= sizeof key.id)
		return NULL;
	memcpy(key.id, id, k + 1);
	return bsearch(&key, p->ent, p->n, sizeof *p->ent, ent_cmp);
}

/* The ids of the code's clips: 4 for B32, 2 for B256; 0 for a SAS that is
 * neither. */
static unsigned sas_ids(const char *sas, char ids[4][CLIPS_ID_MAX])
{
	const char *colon = strchr(sas, ':');
	if (colon) {
		const char *w[2] = { sas, colon + 1 };
		size_t wl[2] = { (size_t)(colon - sas), strlen(colon + 1) };
		for (int i = 0; i < 2; i++) {
			if (wl[i] == 0 || wl[i] + 5 >= CLIPS_ID_MAX)
				return 0;
			memcpy(ids[i], "word_", 5);
			for (size_t k = 0; k < wl[i]; k++) {
				unsigned char c = (unsigned char)w[i][k];
				if (!isalpha(c) || c >= 0x80)
					return 0;
				ids[i][5 + k] = (char)tolower(c);
			}
			ids[i][5 + wl[i]] = '\0';
		}
		return 2;
	}
	if (strlen(sas) != 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		char c = sas[i];
		if (c == '\0' || !strchr(zbase32, c))
			return 0;
		snprintf(ids[i], CLIPS_ID_MAX, "%s_%c",
			 c >= '0' && c <= '9' ? "digit" : "letter", c);
	}
	return 4;
}

static bool seq_add(struct clip_seq *q, const struct clips_pack *p,
		    const char *id)
{
	const struct clip_ent *e = clip_find(p, id);
	if (!e || q->n_parts >= CLIPS_SEQ_MAX)
		return false;
	q->part[q->n_parts].pcm = p->pcm + e->off;
	q->part[q->n_parts].n = e->n;
	q->n_parts++;
	return true;
}

static void seq_gap(struct clip_seq *q, unsigned ms)
{
	if (q->n_parts >= CLIPS_SEQ_MAX)
		return;
	q->part[q->n_parts].pcm = NULL;
	q->part[q->n_parts].n = (size_t)q->rate * ms / 1000;
	q->n_parts++;
}

int clips_compose(enum prompt_kind kind, const char *sas, unsigned rate,
		  struct clip_seq *out)
{
	if (!out || (unsigned)kind >= PROMPT_KIND_COUNT ||
	    !kind_phrase[kind].id)
		return -EINVAL;
	unsigned ri = CLIPS_N_RATES;
	for (unsigned i = 0; i < CLIPS_N_RATES; i++)
		if (clips_rates[i] == rate)
			ri = i;
	if (ri == CLIPS_N_RATES)
		return -EINVAL;
	char ids[4][CLIPS_ID_MAX];
	unsigned n_ids = 0;
	if (kind_phrase[kind].code) {
		n_ids = sas ? sas_ids(sas, ids) : 0;
		if (n_ids == 0)
			return -EINVAL;
	}
	if (!atomic_load_explicit(&clips_ready, memory_order_acquire))
		return -ENOENT;

	const struct clips_pack *p = &packs[ri];
	out->rate = rate;
	out->n_parts = 0;
	if (!seq_add(out, p, kind_phrase[kind].id))
		return -ENOENT;
	if (kind == PROMPT_MISMATCH) {
		seq_gap(out, GAP_PHRASE_MS);
		if (!seq_add(out, p, "phrase_code"))
			return -ENOENT;
	}
	for (unsigned i = 0; i < n_ids; i++) {
		seq_gap(out, i == 0 ? GAP_PHRASE_MS :
			n_ids == 2 ? GAP_WORD_MS : GAP_CHAR_MS);
		if (!seq_add(out, p, ids[i]))
			return -ENOENT;
	}
	return 0;
}

size_t clips_seq_len(const struct clip_seq *q)
{
	size_t n = 0;
	for (unsigned i = 0; q && i < q->n_parts; i++)
		n += q->part[i].n;
	return n;
}
