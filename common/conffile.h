/*
 * The config file (conffile.c): where it is, reading it, and walking its
 * lines. The shim's settings (shim/settings.c) and the zrtpshim command
 * (the state directory, common/statedir.c) both read it through here, so
 * they agree on the file, its syntax and its sections.
 *
 *   ZRTPSHIM_CONFIG=PATH, else $XDG_CONFIG_HOME/zrtpshim/config, else
 *   $HOME/.config/zrtpshim/config, else <home directory in the password
 *   database>/.config/zrtpshim/config; ZRTPSHIM_CONFIG=none: no file. None either in a
 *   set-user-ID (AT_SECURE) process, whose environment is not read.
 *
 * Syntax, one item a line: "key = value"; "# comment" (only where the
 * line starts with '#', after blanks: values such as "*1#" keep theirs);
 * blank lines; "[glob]" opens a section whose lines apply only to a
 * program whose name (glibc's program_invocation_short_name, the base
 * name of argv[0]) matches the glob (fnmatch(3)). Lines before the first
 * section apply to every program. Blanks around keys and values are
 * dropped; a value is the rest of the line, no quoting.
 *
 * No logging here: problems come back as codes and texts for the caller
 * to report its own way (the shim's log, the command's stderr).
 */
#ifndef COMMON_CONFFILE_H
#define COMMON_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

/* The largest file read: a config file is a few lines. */
#define CONFFILE_MAX 65536

/*
 * The file's path into buf: 1 = a file to read, 0 = none
 * (ZRTPSHIM_CONFIG=none, or no home to look in), -ENAMETOOLONG.
 */
int conffile_path(char *buf, size_t cap);

/*
 * Read path into buf (cap >= CONFFILE_MAX + 1; NUL-terminated, *len set).
 * 0, -ENOENT when there is no file (no warning due), or another negative
 * errno with *why a short reason for the caller's one warning ("is a
 * directory", "is larger than 65536 bytes", "holds NUL bytes (binary?)",
 * or strerror's text).
 */
int conffile_read(const char *path, char *buf, size_t cap, size_t *len,
		  const char **why);

enum conffile_item {
	CONFFILE_SET,        /* key = value, applying to this program */
	CONFFILE_SET_OTHER,  /* key = value, in a section for another one */
	CONFFILE_MALFORMED,  /* neither an assignment, a comment nor a
			      * section header; key holds the line */
};

/* One item: key and value point into the text (not NUL-terminated). */
typedef void conffile_fn(void *ctx, enum conffile_item item, unsigned line,
			 const char *key, size_t klen, const char *val,
			 size_t vlen);

/* Walk text (len bytes) in order for the program named prog (NULL: only
 * the lines before the first section apply). */
void conffile_walk(const char *text, size_t len, const char *prog,
		   conffile_fn *fn, void *ctx);

/*
 * The last value of key that applies to prog in the config file (found
 * with conffile_path and read with conffile_read) into out: 1 found,
 * 0 not (no file, unreadable, no such line, or too long for out).
 * For the zrtpshim command, which reports no config problems itself.
 */
int conffile_lookup(const char *key, const char *prog, char *out,
		    size_t cap);

#endif
