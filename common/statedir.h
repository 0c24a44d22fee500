/*
 * Where zrtpshim keeps its state (retained-secret caches and their locks,
 * status files): the one rule the shim and every `zrtpshim` subcommand
 * use, so `zrtpshim status` and `zrtpshim cache` look where the shim
 * wrote.
 *
 *   $ZRTPSHIM_DIR, else `dir` in the config file (common/conffile.h;
 *   the shim: the lines for its program; the command: the lines before
 *   any section), else $XDG_STATE_HOME/zrtpshim, else
 *   $HOME/.local/state/zrtpshim, else <home directory of the user in the
 *   password database>/.local/state/zrtpshim.
 *
 * XDG_STATE_HOME and HOME count only when absolute (the XDG Base
 * Directory spec says relative values are invalid). Values are read with
 * secure_getenv.
 */
#ifndef COMMON_STATEDIR_H
#define COMMON_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The state directory into buf (NUL-terminated): 0, -ENOENT when none of
 * the above gives one, -ENAMETOOLONG when it does not fit cap. A
 * ZRTPSHIM_DIR that does not fit is skipped (the default applies) and
 * *dir_ignored set, for the caller to warn about; dir_ignored may be NULL.
 */
int statedir_path(char *buf, size_t cap, bool *dir_ignored);

/* The rule from its second step on, given the ZRTPSHIM_DIR / `dir`
 * setting already chosen (NULL or "" for none): the shim's settings have
 * read the environment and the file themselves. Same returns. */
int statedir_from(char *buf, size_t cap, const char *dir);

/*
 * Cache slots: each process under the shim takes one (an flock on the
 * slot's lock file, held for its life) so two clients on one host get
 * two ZIDs. Slot 0 is DIR/cache, slot N is DIR/cache-N; the lock file is
 * the cache's path with ".lock" appended.
 */
#define STATEDIR_CACHE_SLOTS 16
/* The cache file of slot (0..STATEDIR_CACHE_SLOTS-1) in dir: 0, -EINVAL,
 * or -ENAMETOOLONG. */
int statedir_cache_path(char *buf, size_t cap, const char *dir, int slot);

#endif
