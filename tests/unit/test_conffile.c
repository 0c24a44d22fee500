/*
 * The conffile suite: the config file's syntax (common/conffile.h) as the
 * shim and the zrtpshim command both read it: assignments, comments,
 * sections matched by program name, malformed lines, line numbers, and
 * the refusals of conffile_read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "common/conffile.h"

/* Each item as "S3:key=value" (set), "O3:key=value" (another program's
 * section), "M3:line" (malformed), joined by '|'. */
static void record(void *ctx, enum conffile_item item, unsigned line,
		   const char *key, size_t klen, const char *val, size_t vlen)
{
	char *out = ctx;
	size_t n = strlen(out);
	char kind = item == CONFFILE_SET ? 'S' :
		    item == CONFFILE_SET_OTHER ? 'O' : 'M';

	if (item == CONFFILE_MALFORMED)
		snprintf(out + n, 1024 - n, "%s%c%u:%.*s", n ? "|" : "", kind,
			 line, (int)klen, key);
	else
		snprintf(out + n, 1024 - n, "%s%c%u:%.*s=%.*s", n ? "|" : "",
			 kind, line, (int)klen, key, (int)vlen, val);
}

static const char *walk(const char *text, const char *prog)
{
	static char out[1024];

	out[0] = '\0';
	conffile_walk(text, strlen(text), prog, record, out);
	return out;
}

START_TEST(assignments_and_comments)
{
	ck_assert_str_eq(walk("a = 1\n# c = 2\n\n  b=two words  \n"
			      "\tkey_confirm = *1#\nlast=x", "p"),
			 "S1:a=1|S4:b=two words|S5:key_confirm=*1#|S6:last=x");
	/* CRLF, an empty value, a '=' inside the value. */
	ck_assert_str_eq(walk("a = 1\r\nb =\r\nalgos = ka=X255;c=AES1\r\n", "p"),
			 "S1:a=1|S2:b=|S3:algos=ka=X255;c=AES1");
}
END_TEST

START_TEST(sections_by_program_name)
{
	const char *f = "g = 0\n[baresip]\nb = 1\n[linphone*]\nl = 2\n"
			"[ * ]\nall = 3\n[s?]\ns = 4\n";

	ck_assert_str_eq(walk(f, "baresip"),
			 "S1:g=0|S3:b=1|O5:l=2|S7:all=3|O9:s=4");
	ck_assert_str_eq(walk(f, "linphonec"),
			 "S1:g=0|O3:b=1|S5:l=2|S7:all=3|O9:s=4");
	ck_assert_str_eq(walk(f, "sh"),
			 "S1:g=0|O3:b=1|O5:l=2|S7:all=3|S9:s=4");
	/* The command (no program): only the lines before any section. */
	ck_assert_str_eq(walk(f, NULL),
			 "S1:g=0|O3:b=1|O5:l=2|O7:all=3|O9:s=4");
}
END_TEST

START_TEST(malformed_lines)
{
	ck_assert_str_eq(walk("no equals\n= v\nbad key = 1\nk.y = 2\nok = 3\n",
			      "p"),
			 "M1:no equals|M2:= v|M3:bad key = 1|M4:k.y = 2|S5:ok=3");
	/* A broken header: reported, and what follows applies to no one
	 * until the next header. */
	ck_assert_str_eq(walk("[p\na = 1\n[]\nb = 2\n[p] x\nc = 3\n[p]\nd = 4\n",
			      "p"),
			 "M1:[p|O2:a=1|M3:[]|O4:b=2|M5:[p] x|O6:c=3|S8:d=4");
}
END_TEST

static int read_text(const char *text, size_t len, const char **why)
{
	char path[] = "/tmp/zs-conffile.XXXXXX";
	int fd = mkstemp(path);
	static char buf[CONFFILE_MAX + 1];
	size_t got;
	int r;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	r = conffile_read(path, buf, sizeof buf, &got, why);
	unlink(path);
	if (r == 0)
		ck_assert_uint_eq(got, len);
	return r;
}

START_TEST(read_refusals)
{
	const char *why;
	static char big[CONFFILE_MAX + 1];
	char buf[CONFFILE_MAX + 1];
	size_t len;

	ck_assert_int_eq(read_text("a = 1\n", 6, &why), 0);
	ck_assert_int_eq(read_text("a = 1\n\0", 7, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "NUL"));
	memset(big, '#', sizeof big);
	ck_assert_int_eq(read_text(big, CONFFILE_MAX, &why), 0);
	ck_assert_int_eq(read_text(big, CONFFILE_MAX + 1, &why), -EFBIG);
	ck_assert_int_eq(conffile_read("/", buf, sizeof buf, &len, &why),
			 -EISDIR);
	ck_assert_int_eq(conffile_read("/nonexistent/zrtpshim/config", buf,
				       sizeof buf, &len, &why), -ENOENT);
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(path_rule)
{
	char p[256];

	setenv("ZRTPSHIM_CONFIG", "none", 1);
	ck_assert_int_eq(conffile_path(p, sizeof p), 0);
	setenv("ZRTPSHIM_CONFIG", "/x/y", 1);
	ck_assert_int_eq(conffile_path(p, sizeof p), 1);
	ck_assert_str_eq(p, "/x/y");
	unsetenv("ZRTPSHIM_CONFIG");
	setenv("XDG_CONFIG_HOME", "/cfg", 1);
	setenv("HOME", "/home/u", 1);
	ck_assert_int_eq(conffile_path(p, sizeof p), 1);
	ck_assert_str_eq(p, "/cfg/zrtpshim/config");
	/* A relative XDG_CONFIG_HOME is invalid (XDG Base Directory). */
	setenv("XDG_CONFIG_HOME", "rel", 1);
	ck_assert_int_eq(conffile_path(p, sizeof p), 1);
	ck_assert_str_eq(p, "/home/u/.config/zrtpshim/config");
	ck_assert_int_eq(conffile_path(p, 8), -ENAMETOOLONG);
}
END_TEST

Suite *conffile_suite(void)
{
	Suite *s = suite_create("conffile");
	TCase *tc = tcase_create("conffile");

	tcase_add_test(tc, assignments_and_comments);
	tcase_add_test(tc, sections_by_program_name);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, read_refusals);
	tcase_add_test(tc, path_rule);
	suite_add_tcase(s, tc);
	return s;
}
