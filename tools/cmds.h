/*
 * The zrtpshim subcommands that live outside tools/zrtpshim.c. Each takes
 * the arguments after its own name (argv[0] is the first of them) and
 * returns the process exit status.
 */
#ifndef TOOLS_CMDS_H
#define TOOLS_CMDS_H

/* zrtpshim run [--policy P] [--] CMD ARGS...: 127 CMD not found, 126 not
 * executable, 2 usage or no libzrtpshim.so; otherwise it becomes CMD. */
int zrtpshim_cmd_run(int argc, char **argv);

/* zrtpshim status [--json] [--all] [--dir D] [--watch [--interval MS]
 * [--count N]]: 0, or 2 on usage errors. */
int zrtpshim_cmd_status(int argc, char **argv);

/* zrtpshim cache list | verify ZID... | unverify ZID... | forget ZID...:
 * 0, 1 when a ZID is in no cache or a cache is in use, 2 usage. */
int zrtpshim_cmd_cache(int argc, char **argv);

/* The state directory (common/statedir.h's rule, the shim's own) into
 * buf, or a message on stderr naming cmd: 0 or -1. */
int zrtpshim_state_dir(const char *cmd, char *buf, unsigned long cap);

#endif
