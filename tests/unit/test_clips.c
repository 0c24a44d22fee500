/*
 * The clips suite: shim/clips.c on the packs this build rendered (found in
 * ZS_PROMPTS, set by AM_TESTS_ENVIRONMENT to the build's data/prompts) and
 * on small hand-made packs, valid and broken.
 *
 * What a clip is, is judged independently of clips.c: the test reads the
 * index (clips-RATE.idx) and data/prompts.txt (ZS_SRCDIR) itself, so "the
 * clip for t" means "the samples the index lists for the id whose text is
 * tango". clips_load works once per process; Check's fork mode gives each
 * test (and each loop iteration) its own process.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "shim/clips.h"
#include "shim/log.h"
#include "shim/real.h"

/* Stand-ins for the shim's log and libc pointers (clips.c falls back to
 * libc when shim_real has none): every line is kept for the checks. */
struct shim_real shim_real;
static char log_last[1024];
static int log_errors, log_lines;

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(log_last, sizeof log_last, fmt, ap);
	va_end(ap);
	log_lines++;
	if (lvl == SHIM_LOG_ERROR)
		log_errors++;
}

static const char *prompts_dir(void)
{
	const char *d = getenv("ZS_PROMPTS");
	ck_assert_msg(d && *d, "ZS_PROMPTS is not set (make check sets it)");
	return d;
}

/* --- the test's own reading of the index and of prompts.txt ------------- */

struct idx_ent {
	char id[32];
	long off, n;
};

static struct idx_ent idx[1024];
static int idx_n;

static void idx_read(unsigned rate)
{
	char path[4200], line[256];
	snprintf(path, sizeof path, "%s/clips-%u.idx", prompts_dir(), rate);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fgets(line, sizeof line, f) != NULL);
	idx_n = 0;
	while (idx_n < 1024 && fgets(line, sizeof line, f)) {
		struct idx_ent *e = &idx[idx_n++];
		ck_assert(sscanf(line, "%31s %ld %ld", e->id, &e->off, &e->n) == 3);
	}
	fclose(f);
}

static const struct idx_ent *idx_find(const char *id)
{
	for (int i = 0; i < idx_n; i++)
		if (strcmp(idx[i].id, id) == 0)
			return &idx[i];
	return NULL;
}

/* The id whose text in data/prompts.txt is text (case-insensitive). */
static const char *id_of_text(const char *text)
{
	static char id[64];
	char path[4200], line[512];
	const char *src = getenv("ZS_SRCDIR");
	snprintf(path, sizeof path, "%s/data/prompts.txt", src ? src : "..");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t');
		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		tab[strcspn(tab + 1, "\t\n") + 1] = '\0'; /* text; a rate may follow */
		if (strcasecmp(tab + 1, text) == 0) {
			snprintf(id, sizeof id, "%s", line);
			fclose(f);
			return id;
		}
	}
	fclose(f);
	ck_abort_msg("no clip says '%s' in %s", text, path);
	return NULL;
}

/* Part i of q is the clip id: its start relative to part 0 (whose id is
 * known) and its length are the index's. */
static void ck_part(const struct clip_seq *q, unsigned i, const char *id0,
		    const char *id)
{
	const struct idx_ent *e0 = idx_find(id0), *e = idx_find(id);
	ck_assert_msg(e0 && e, "%s or %s not in the index", id0, id);
	ck_assert_uint_lt(i, q->n_parts);
	ck_assert_msg(q->part[i].pcm != NULL, "part %u is a silence", i);
	ck_assert_msg(q->part[i].pcm - q->part[0].pcm == e->off - e0->off &&
		      (long)q->part[i].n == e->n,
		      "part %u is not clip %s", i, id);
}

/* --- B32 ------------------------------------------------------------------ */

static const char zbase32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

/* Each z-base-32 character and what is said for it. */
static const struct {
	char c;
	const char *said;
} spoken[] = {
	{ 'a', "alpha" }, { 'b', "bravo" }, { 'c', "charlie" },
	{ 'd', "delta" }, { 'e', "echo" }, { 'f', "foxtrot" }, { 'g', "golf" },
	{ 'h', "hotel" }, { 'i', "india" }, { 'j', "juliet" }, { 'k', "kilo" },
	{ 'm', "mike" }, { 'n', "november" }, { 'o', "oscar" }, { 'p', "papa" },
	{ 'q', "quebec" }, { 'r', "romeo" }, { 's', "sierra" },
	{ 't', "tango" }, { 'u', "uniform" }, { 'w', "whiskey" },
	{ 'x', "x ray" }, { 'y', "yankee" }, { 'z', "zulu" }, { '1', "one" },
	{ '3', "three" }, { '4', "four" }, { '5', "five" }, { '6', "six" },
	{ '7', "seven" }, { '8', "eight" }, { '9', "nine" },
};

/* RFC 6189 §5.1.6: every character of the alphabet, in every position of a
 * B32 SAS, is read as its own ICAO word or digit. */
START_TEST(test_b32_every_character)
{
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	ck_assert_int_eq(log_errors, 0);
	idx_read(8000);
	ck_assert_uint_eq(sizeof spoken / sizeof spoken[0], strlen(zbase32));
	for (size_t k = 0; k < strlen(zbase32); k++) {
		char c = zbase32[k], sas[5];
		const char *said = NULL;
		for (size_t j = 0; j < sizeof spoken / sizeof spoken[0]; j++)
			if (spoken[j].c == c)
				said = spoken[j].said;
		ck_assert_msg(said, "%c has no word", c);
		char id[64];
		snprintf(id, sizeof id, "%s", id_of_text(said));
		for (int pos = 0; pos < 4; pos++) {
			/* c at pos among other characters */
			for (int j = 0; j < 4; j++)
				sas[j] = zbase32[(k + 7 * (size_t)(j + 1)) % 32];
			sas[pos] = c;
			sas[4] = '\0';
			struct clip_seq q;
			ck_assert_int_eq(clips_compose(PROMPT_SECURE, sas, 8000, &q), 0);
			/* phrase, then gap + character four times */
			ck_assert_uint_eq(q.n_parts, 9);
			ck_part(&q, 0, "phrase_secure", "phrase_secure");
			ck_part(&q, 2 + 2 * (unsigned)pos, "phrase_secure", id);
			for (unsigned g = 1; g < 9; g += 2)
				ck_assert(q.part[g].pcm == NULL && q.part[g].n > 0);
		}
	}
}
END_TEST

START_TEST(test_b32_bad_character)
{
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	static const char *bad[] = {
		"t45l", "t45v", "t450", "t452", "T45B", "t45", "t45bb", "",
		"t4 b", "t4\xc3\xa9",
	};
	struct clip_seq q;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(clips_compose(PROMPT_SECURE, bad[i], 8000, &q) ==
			      -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_int_eq(clips_compose(PROMPT_CODE, NULL, 8000, &q), -EINVAL);
	ck_assert_int_eq(clips_compose(PROMPT_MISMATCH, "t45l", 16000, &q),
			 -EINVAL);
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", 8000, &q), 0);
}
END_TEST

/* --- B256 ----------------------------------------------------------------- */

START_TEST(test_b256_words)
{
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	idx_read(16000);
	static const char *sas[] = { "Aztec:Yucatan", "aztec:yucatan",
				     "AZTEC:yUcAtAn" };
	struct clip_seq q;
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(clips_compose(PROMPT_CODE, sas[i], 16000, &q), 0);
		ck_assert_uint_eq(q.n_parts, 5);
		ck_part(&q, 0, "phrase_code", "phrase_code");
		ck_part(&q, 2, "phrase_code", id_of_text("Aztec"));
		ck_part(&q, 4, "phrase_code", id_of_text("Yucatan"));
	}
	/* the first and the last word of each list */
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "aardvark:adroitness",
				       16000, &q), 0);
	ck_part(&q, 2, "phrase_secure", id_of_text("aardvark"));
	ck_part(&q, 4, "phrase_secure", id_of_text("adroitness"));
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "Zulu:Yucatan", 16000, &q), 0);
	ck_part(&q, 2, "phrase_secure", "word_zulu");
	/* a word the lists do not have: no clip */
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "aztec:foobar", 16000, &q),
			 -ENOENT);
	static const char *bad[] = { "aztec:", ":yucatan", ":", "az tec:yucatan",
				     "aztec:yuca1an", "aztec_:yucatan" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(clips_compose(PROMPT_SECURE, bad[i], 16000, &q) ==
			      -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

/* --- kinds, rates ---------------------------------------------------------- */

START_TEST(test_each_kind_has_its_phrase)
{
	static const char *phrase[PROMPT_KIND_COUNT] = {
		[PROMPT_SECURE] = "phrase_secure",
		[PROMPT_SECURE_VERIFIED] = "phrase_secure_verified",
		[PROMPT_SECURE_CUE] = "phrase_secure_cue",
		[PROMPT_CODE] = "phrase_code",
		[PROMPT_VERIFIED] = "phrase_verified",
		[PROMPT_UNVERIFIED] = "phrase_unverified",
		[PROMPT_MISMATCH] = "phrase_mismatch",
		[PROMPT_CLEAR] = "phrase_clear",
		[PROMPT_CANNOT_ENCRYPT] = "phrase_cannot_encrypt",
		[PROMPT_ALTERED] = "phrase_altered",
		[PROMPT_PIN_ALARM] = "phrase_pin_alarm",
	};
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	idx_read(48000);
	const int16_t *first[PROMPT_KIND_COUNT];
	for (int k = 0; k < PROMPT_KIND_COUNT; k++) {
		struct clip_seq q;
		ck_assert_int_eq(clips_compose(k, "t45b", 48000, &q), 0);
		ck_assert_uint_eq(q.rate, 48000);
		const struct idx_ent *e = idx_find(phrase[k]);
		ck_assert_msg(e && q.part[0].pcm && (long)q.part[0].n == e->n,
			      "kind %d does not start with %s", k, phrase[k]);
		first[k] = q.part[0].pcm;
		for (int j = 0; j < k; j++)
			ck_assert_msg(first[j] != first[k], "kinds %d and %d say "
				      "the same", j, k);
		bool code = k == PROMPT_SECURE || k == PROMPT_CODE ||
			    k == PROMPT_MISMATCH;
		ck_assert_uint_eq(q.n_parts, !code ? 1 :
				  k == PROMPT_MISMATCH ? 11 : 9);
		if (k == PROMPT_MISMATCH)
			ck_part(&q, 2, phrase[k], "phrase_code");
		if (code)
			ck_part(&q, q.n_parts - 1, phrase[k], id_of_text("bravo"));
		size_t sum = 0;
		for (unsigned i = 0; i < q.n_parts; i++)
			sum += q.part[i].n;
		ck_assert_uint_eq(clips_seq_len(&q), sum);
		/* kinds without a code take no SAS at all */
		if (!code)
			ck_assert_int_eq(clips_compose(k, NULL, 48000, &q), 0);
	}
	struct clip_seq q;
	ck_assert_int_eq(clips_compose(PROMPT_KIND_COUNT, "t45b", 8000, &q),
			 -EINVAL);
	ck_assert_int_eq(clips_compose((enum prompt_kind)-1, "t45b", 8000, &q),
			 -EINVAL);
}
END_TEST

/* Two SASes never give the same sequence (the code is all that differs). */
START_TEST(test_sequences_differ_per_sas)
{
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	srand(13);
	for (int t = 0; t < 2000; t++) {
		char a[5], b[5];
		for (int i = 0; i < 4; i++) {
			a[i] = zbase32[rand() % 32];
			b[i] = zbase32[rand() % 32];
		}
		a[4] = b[4] = '\0';
		struct clip_seq qa, qb;
		ck_assert_int_eq(clips_compose(PROMPT_SECURE, a, 8000, &qa), 0);
		ck_assert_int_eq(clips_compose(PROMPT_SECURE, b, 8000, &qb), 0);
		bool same = qa.n_parts == qb.n_parts;
		for (unsigned i = 0; same && i < qa.n_parts; i++)
			same = qa.part[i].pcm == qb.part[i].pcm &&
			       qa.part[i].n == qb.part[i].n;
		ck_assert_msg(same == (strcmp(a, b) == 0), "%s and %s", a, b);
	}
	struct clip_seq qa, qb;
	ck_assert_int_eq(clips_compose(PROMPT_CODE, "Aztec:Yucatan", 8000, &qa), 0);
	ck_assert_int_eq(clips_compose(PROMPT_CODE, "Aztec:Wyoming", 8000, &qb), 0);
	ck_assert(qa.part[4].pcm != qb.part[4].pcm);
	ck_assert(qa.part[2].pcm == qb.part[2].pcm);
}
END_TEST

START_TEST(test_rates)
{
	ck_assert_int_eq(clips_load(prompts_dir()), 0);
	struct clip_seq q8, q;
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", 8000, &q8), 0);
	size_t n8 = clips_seq_len(&q8);
	ck_assert_uint_gt(n8, 8000);    /* more than a second */
	static const unsigned bad[] = { 0, 7999, 8001, 11025, 22050, 32000,
					44100, 96000, 16000 * 65536u };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", bad[i], &q),
				 -EINVAL);
	for (unsigned r = 0; r < CLIPS_N_RATES; r++) {
		unsigned rate = clips_rates[r];
		ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", rate, &q), 0);
		ck_assert_uint_eq(q.rate, rate);
		/* the same prompt at each rate: as long, within a few ms */
		double ms8 = 1000.0 * n8 / 8000, ms = 1000.0 * clips_seq_len(&q) / rate;
		ck_assert_msg(ms > ms8 - 10 && ms < ms8 + 10, "%u Hz: %.1f ms, "
			      "8000 Hz: %.1f ms", rate, ms, ms8);
	}
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", 8000, NULL), -EINVAL);
}
END_TEST

START_TEST(test_not_loaded)
{
	struct clip_seq q;
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", 8000, &q), -ENOENT);
	ck_assert_int_eq(clips_compose(PROMPT_CLEAR, "", 16000, &q), -ENOENT);
}
END_TEST

/* --- hand-made packs --------------------------------------------------------- */

static char tmpdir[64];

static void put(const char *name, const void *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	ck_assert(f != NULL);
	ck_assert(fwrite(p, 1, n, f) == n);
	fclose(f);
}

/* A valid pack of three clips (phrase_clear, phrase_code, letter_t) at
 * each rate; total samples = 3 * rate / 100. */
static void make_pack(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/zs-clips.XXXXXX");
	ck_assert(mkdtemp(tmpdir) != NULL);
	for (unsigned r = 0; r < CLIPS_N_RATES; r++) {
		unsigned rate = clips_rates[r], n = rate / 100;
		char name[64], text[512];
		int16_t *pcm = calloc(3 * n, sizeof *pcm);
		for (unsigned i = 0; i < 3 * n; i++)
			pcm[i] = (int16_t)(i % 100);
		snprintf(name, sizeof name, "clips-%u.pcm", rate);
		put(name, pcm, 3 * n * sizeof *pcm);
		free(pcm);
		int len = snprintf(text, sizeof text,
				   "zrtpshim-clips 1 %u 3 %u\n"
				   "phrase_clear 0 %u\nphrase_code %u %u\n"
				   "letter_t %u %u\n", rate, 3 * n, n, n, n,
				   2 * n, n);
		snprintf(name, sizeof name, "clips-%u.idx", rate);
		put(name, text, (size_t)len);
	}
}

static void rm_pack(void)
{
	char path[256];
	for (unsigned r = 0; r < CLIPS_N_RATES; r++) {
		snprintf(path, sizeof path, "%s/clips-%u.pcm", tmpdir,
			 clips_rates[r]);
		unlink(path);
		snprintf(path, sizeof path, "%s/clips-%u.idx", tmpdir,
			 clips_rates[r]);
		unlink(path);
	}
	rmdir(tmpdir);
}

START_TEST(test_handmade_pack_loads)
{
	make_pack();
	ck_assert_int_eq(clips_load(tmpdir), 0);
	ck_assert_int_eq(log_errors, 0);
	struct clip_seq q;
	ck_assert_int_eq(clips_compose(PROMPT_CLEAR, "", 16000, &q), 0);
	ck_assert_uint_eq(q.n_parts, 1);
	ck_assert_uint_eq(q.part[0].n, 160);
	ck_assert_int_eq(q.part[0].pcm[99], 99);
	ck_assert_int_eq(clips_compose(PROMPT_CODE, "tttt", 8000, &q), 0);
	ck_assert_uint_eq(q.n_parts, 9);
	ck_assert_int_eq(q.part[2].pcm - q.part[0].pcm, 80);
	/* clips the pack lacks */
	ck_assert_int_eq(clips_compose(PROMPT_CODE, "ttta", 8000, &q), -ENOENT);
	ck_assert_int_eq(clips_compose(PROMPT_ALTERED, "", 8000, &q), -ENOENT);
	/* later loads give the first result, whatever dir */
	ck_assert_int_eq(clips_load("/nonexistent"), 0);
	ck_assert_int_eq(log_errors, 0);
	rm_pack();
}
END_TEST

/* Each breaks the 8000 Hz pack of make_pack one way; what the ERROR line
 * must say. */
static const struct {
	const char *idx;        /* NULL: keep the valid index */
	long pcm_bytes;         /* -1: keep the valid pcm (480 bytes) */
	const char *says;
} broken[] = {
	{ NULL, 478, "480" },                           /* pcm one sample short */
	{ NULL, 482, "480" },                           /* pcm too long */
	{ NULL, 0, "clips-8000.pcm" },                  /* pcm empty */
	{ "", -1, "not a zrtpshim-clips index" },       /* empty index */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n",
	  -1, "truncated" },                            /* a line missing */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 160 80", -1, "no newline" },        /* last newline missing */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 160 8", -1, "no newline" },         /* cut mid-number */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 160 80\nletter_a 0 1\n", -1, "more lines" },
	{ "zrtpshim-clips 2 8000 3 240\n", -1, "header" },
	{ "zrtpshim-clips 1 16000 3 240\n", -1, "rate 16000" },
	{ "zrtpshim-clips 1 8000 0 240\n", -1, "0 clips" },
	{ "zrtpshim-clips 1 8000 99999999999 240\n", -1, "header" },
	{ "zrtpshim-clips 1 8000 3 0\n", -1, "0 samples" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 161 80\n", -1, "outside" },         /* past the end */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 4294967295 80\n", -1, "outside" },  /* offset overflow */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 80\n"
	  "letter_t 160 0\n", -1, "outside" },          /* empty clip */
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_clear 80 80\n"
	  "letter_t 160 80\n", -1, "twice" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nPhrase_code 80 80\n"
	  "letter_t 160 80\n", -1, "line 3: malformed" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code 80 -80\n"
	  "letter_t 160 80\n", -1, "line 3: malformed" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\nphrase_code  80 80\n"
	  "letter_t 160 80\n", -1, "line 3: malformed" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\n"
	  "a_very_long_clip_identifier_of_40_chars 80 80\nletter_t 160 80\n",
	  -1, "longer" },
	{ "zrtpshim-clips 1 8000 3 240\nphrase_clear 0 80\0\nphrase_code 80 80\n"
	  "letter_t 160 80\n", -1, "NUL" },
};

START_TEST(test_broken_pack)
{
	make_pack();
	if (broken[_i].idx) {
		const char *t = broken[_i].idx;
		size_t len = strlen(t);
		if (strstr(broken[_i].says, "NUL"))     /* the text past the NUL */
			len += 1 + strlen(t + len + 1);
		put("clips-8000.idx", broken[_i].idx, len);
	}
	if (broken[_i].pcm_bytes >= 0) {
		char *z = calloc(1, 1024);
		put("clips-8000.pcm", z, (size_t)broken[_i].pcm_bytes);
		free(z);
	}
	int r = clips_load(tmpdir);
	ck_assert_msg(r < 0, "case %d loaded", _i);
	ck_assert_int_eq(log_errors, 1);
	ck_assert_msg(strstr(log_last, broken[_i].says) &&
		      strstr(log_last, "clips-8000"),
		      "case %d: '%s' does not say '%s'", _i, log_last,
		      broken[_i].says);
	struct clip_seq q;
	for (unsigned i = 0; i < CLIPS_N_RATES; i++)
		ck_assert_int_eq(clips_compose(PROMPT_CLEAR, "", clips_rates[i], &q),
				 -ENOENT);
	ck_assert_int_eq(clips_load(prompts_dir()), r);
	rm_pack();
}
END_TEST

START_TEST(test_missing_pack)
{
	make_pack();
	char path[256];
	snprintf(path, sizeof path, "%s/clips-48000.pcm", tmpdir);
	unlink(path);
	ck_assert_int_eq(clips_load(tmpdir), -ENOENT);
	ck_assert_int_eq(log_errors, 1);
	ck_assert_msg(strstr(log_last, "clips-48000.pcm"), "%s", log_last);
	rm_pack();
}
END_TEST

START_TEST(test_missing_dir)
{
	ck_assert_int_eq(clips_load("/nonexistent/zrtpshim-prompts"), -ENOENT);
	ck_assert_int_eq(log_errors, 1);
	ck_assert_msg(strstr(log_last, "/nonexistent/zrtpshim-prompts/clips-8000.idx"),
		      "%s", log_last);
	struct clip_seq q;
	ck_assert_int_eq(clips_compose(PROMPT_SECURE, "t45b", 8000, &q), -ENOENT);
}
END_TEST

Suite *clips_suite(void)
{
	Suite *s = suite_create("clips");
	TCase *tc = tcase_create("compose");
	tcase_add_test(tc, test_b32_every_character);
	tcase_add_test(tc, test_b32_bad_character);
	tcase_add_test(tc, test_b256_words);
	tcase_add_test(tc, test_each_kind_has_its_phrase);
	tcase_add_test(tc, test_sequences_differ_per_sas);
	tcase_add_test(tc, test_rates);
	tcase_add_test(tc, test_not_loaded);
	suite_add_tcase(s, tc);
	tc = tcase_create("load");
	tcase_add_test(tc, test_handmade_pack_loads);
	tcase_add_loop_test(tc, test_broken_pack, 0,
			    (int)(sizeof broken / sizeof broken[0]));
	tcase_add_test(tc, test_missing_pack);
	tcase_add_test(tc, test_missing_dir);
	suite_add_tcase(s, tc);
	return s;
}
