/*
 * The libc functions the shim wraps, resolved once with dlsym(RTLD_NEXT).
 *
 * Two habits from libfaketime and proxychains-ng: resolution happens once
 * under pthread_once, and a pointer that comes back NULL (for a required
 * symbol) or that lands inside this very library (another copy of the shim
 * preloaded twice, or an RTLD_NEXT chain that loops back to us) aborts with
 * a message. Calling through either would recurse forever or jump to 0.
 *
 * The check for "our own hook" asks whether the resolved address lies in
 * one of the loaded segments of the object holding this file, instead of
 * comparing against &socket etc.: inside a dlopen'ed (not preloaded) copy,
 * &socket would be libc's own address and the naive check would abort
 * wrongly. The segments are found once (dl_iterate_phdr); dladdr on each
 * resolved address would search libc's symbol table every time, a
 * measurable part of a client's start.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/real.h"

struct shim_real shim_real;

_Thread_local int shim_in_shim;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* The abort message goes out with a raw syscall: shim_real.write is what
 * we are failing to resolve, and libc's write is our own hook. */
static void real_die(const char *name, const char *why)
{
	static const char pre[] = "zrtpshim: fatal: cannot resolve libc's ";
	char line[256];
	size_t n = 0;
	const char *parts[] = { pre, name, ": ", why, "\n" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t l = strlen(parts[i]);
		if (l > sizeof(line) - n)
			l = sizeof(line) - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	(void)syscall(SYS_write, 2, line, n);
	abort();
}

/* This library's loaded segments (PT_LOAD), found once by real_resolve. */
#define SELF_SEGS_MAX 8
static struct { uintptr_t lo, hi; } self_seg[SELF_SEGS_MAX];
static int n_self_seg;

/* dl_iterate_phdr's callback: if the object holds address data, record
 * its segments and stop. */
static int self_find(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t me = (uintptr_t)data;
	bool mine = false;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum && !mine; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		mine = ph->p_type == PT_LOAD && me >= lo &&
		       me - lo < ph->p_memsz;
	}
	if (!mine)
		return 0;
	for (int i = 0; i < info->dlpi_phnum && n_self_seg < SELF_SEGS_MAX;
	     i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		self_seg[n_self_seg].lo = info->dlpi_addr + ph->p_vaddr;
		self_seg[n_self_seg].hi = self_seg[n_self_seg].lo + ph->p_memsz;
		n_self_seg++;
	}
	return 1;
}

static bool is_self(const void *p)
{
	for (int i = 0; i < n_self_seg; i++)
		if ((uintptr_t)p >= self_seg[i].lo &&
		    (uintptr_t)p < self_seg[i].hi)
			return true;
	return false;
}

static void *real_lookup(const char *name, bool required)
{
	void *p;

	dlerror();
	p = dlsym(RTLD_NEXT, name);
	if (p == NULL) {
		if (required)
			real_die(name, "dlsym(RTLD_NEXT) returned NULL");
		return NULL;
	}
	if (is_self(p))
		real_die(name, "dlsym(RTLD_NEXT) returned the shim's own hook "
			       "(is libzrtpshim preloaded twice?)");
	return p;
}

static void real_resolve(void)
{
	dl_iterate_phdr(self_find, (void *)(uintptr_t)shim_real_init);
	/* The casts go through void * on purpose: POSIX guarantees dlsym's
	 * object pointer converts to a function pointer. */
#define REAL(member, req) \
	*(void **)&shim_real.member = real_lookup(#member, req)
	REAL(socket, true);
	REAL(bind, true);
	REAL(connect, true);
	REAL(accept, true);
	REAL(accept4, true);
	REAL(close, true);
	REAL(close_range, false);   /* glibc < 2.34: the hook says ENOSYS */
	REAL(dup, true);
	REAL(dup2, true);
	REAL(dup3, true);
	REAL(fcntl, true);
	REAL(sendto, true);
	REAL(send, true);
	REAL(sendmsg, true);
	REAL(sendmmsg, true);
	REAL(write, true);
	REAL(writev, true);
	REAL(recvfrom, true);
	REAL(recv, true);
	REAL(recvmsg, true);
	REAL(recvmmsg, true);
	REAL(read, true);
	REAL(readv, true);
	REAL(select, true);
	REAL(pselect, true);
	REAL(poll, true);
	REAL(ppoll, true);
	REAL(epoll_ctl, true);
	REAL(fork, true);
#undef REAL
}

void shim_real_init(void)
{
	(void)pthread_once(&real_once, real_resolve);
}

bool shim_real_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = shim_real.write ? shim_real.write(fd, c, n)
					    : write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}
