/*
 * The shim's one log function (STYLE habit 10, from libfaketime and
 * torsocks): format into a fixed stack buffer, one line, one write(2)
 * through shim_real.write, errno preserved. No malloc, no stdio, so it is
 * safe on the packet path and from any thread.
 *
 * The destination is stderr, or the file named by ZRTPSHIM_LOG_FILE,
 * opened once (lazily, by the first line) with O_APPEND|O_CLOEXEC. If the
 * client closes that fd (close, close_range, dup2 over it; the hooks tell
 * us through shim_log_fd_closed) we forget it and reopen on the next line,
 * so a log line never lands in a file or socket that reused the number.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/log.h"
#include "shim/real.h"

#define LOG_LINE_MAX 1024

/* -1: not opened yet (or forgotten); -2: opening on some thread;
 * otherwise the fd of ZRTPSHIM_LOG_FILE. */
static atomic_int log_file_fd = -1;
static int log_level = SHIM_LOG_INFO;
static char log_file[4096];

static const char *const level_names[] = {
	[SHIM_LOG_ERROR] = "ERROR", [SHIM_LOG_WARN] = "WARN",
	[SHIM_LOG_INFO] = "INFO", [SHIM_LOG_DEBUG] = "DEBUG",
};

static int log_fd(void)
{
	int fd = atomic_load_explicit(&log_file_fd, memory_order_acquire);
	int expect = -1;

	if (log_file[0] == '\0')
		return STDERR_FILENO;
	if (fd >= 0)
		return fd;
	if (fd == -2 || !atomic_compare_exchange_strong(&log_file_fd, &expect,
							  -2))
		return STDERR_FILENO;   /* another thread is opening it */
	fd = open(log_file,
		  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	atomic_store_explicit(&log_file_fd, fd >= 0 ? fd : -3,
			      memory_order_release);
	if (fd < 0) {
		/* -3: failed once; keep using stderr rather than retrying
		 * an open() on every line. */
		static const char m[] =
			"zrtpshim: cannot open ZRTPSHIM_LOG_FILE; logging to stderr\n";
		if (shim_real.write)
			(void)shim_real.write(STDERR_FILENO, m, sizeof(m) - 1);
		return STDERR_FILENO;
	}
	return fd;
}

void shim_log_configure(enum shim_log_level level, const char *file)
{
	log_level = (int)level;
	snprintf(log_file, sizeof log_file, "%s", file ? file : "");
}

void shim_log_fd_closed(unsigned int lo, unsigned int hi)
{
	int fd = atomic_load_explicit(&log_file_fd, memory_order_acquire);

	if (fd >= 0 && (unsigned int)fd >= lo && (unsigned int)fd <= hi)
		atomic_compare_exchange_strong(&log_file_fd, &fd, -1);
}

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	int n, m;

	if ((int)lvl > log_level || shim_real.write == NULL) {
		errno = saved;
		return;
	}
	n = snprintf(line, sizeof(line), "zrtpshim[%ld]: %s ", (long)getpid(),
		     level_names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 1)
		n = sizeof(line) - 1;   /* truncated: keep room for '\n' */
	/* One line per event: embedded newlines would let a peer's SIP
	 * header forge log lines. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)shim_real.write(log_fd(), line, (size_t)n);
	errno = saved;
}
