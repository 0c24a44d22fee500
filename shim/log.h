/*
 * The shim's one log function (log.c, STYLE habit 10): one line per call,
 * formatted into a fixed buffer and written with one write(2), errno
 * preserved; no malloc, no stdio, so it is safe on the packet path.
 */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

enum shim_log_level { SHIM_LOG_ERROR, SHIM_LOG_WARN, SHIM_LOG_INFO,
		      SHIM_LOG_DEBUG };

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lines above level are dropped; file "" (or NULL) means stderr, else the
 * file is opened (O_APPEND) by the first line. settings.c calls it as soon
 * as ZRTPSHIM_LOG and ZRTPSHIM_LOG_FILE are read. */
void shim_log_configure(enum shim_log_level level, const char *file);

/* The client closed (or dup2'd over) fds in [lo, hi]; if the log file's
 * fd is among them, forget it so no line is ever written into whatever
 * file or socket reuses the number. Reopened on the next line. */
void shim_log_fd_closed(unsigned int lo, unsigned int hi);

#endif
