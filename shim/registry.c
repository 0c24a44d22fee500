/*
 * The fd registry: what the shim knows about each tracked socket.
 *
 * Locking note (STYLE habit 2, after torsocks):
 *
 * - The table is an array of atomic pointers indexed by fd, sized once
 *   from RLIMIT_NOFILE's hard limit (capped at REG_CAP) and mmap'ed at
 *   init: untouched pages cost nothing. fds beyond it are simply not
 *   tracked. The hot path for an fd the shim does not care about is one
 *   bounds check and one acquire load: no lock, no allocation.
 * - One mutex (reg_lock) serialises inserting and removing entries and the
 *   free list. Readers never take it.
 * - Entries are reference-counted: the table holds one reference, every
 *   shim_fd_get another. The last shim_fd_put detaches the media, wipes
 *   the entry and returns it to the free list. A thread blocked in recv on
 *   an fd another thread closed keeps a valid entry until it returns.
 * - The race between shim_fd_get and a concurrent remove is closed by
 *   type-stable memory: entries are never given back to malloc, only to
 *   the free list, so a reader holding a stale pointer may still read its
 *   refs. shim_fd_get takes its reference with a CAS that refuses refs == 0
 *   (an entry being freed), then checks the table still holds the same
 *   entry for that fd; if not (removed, or recycled for another fd) it
 *   drops the reference again and reports "untracked". A recycled entry is
 *   re-initialised before its refs go from 0 to 1 (release), and a CAS on
 *   refs > 0 synchronises with that store.
 * - shim_fd_find_port (asked per SDP line) finds the fd bound to a port
 *   through a port index kept under reg_lock (how many entries in the
 *   table have that local port, and the fd when there is one), not by a
 *   scan of the table; only a port shared by several fds (dup, reuse) is
 *   scanned for.
 * - Lock order: reg_lock is never held while calling the layer above
 *   (the ops callbacks; the media layer may hold a stream mutex and call
 *   shim_fd_find_port).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "shim/addr.h"
#include "shim/log.h"
#include "shim/registry.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define REG_CAP (1u << 20)
#define REG_MIN 1024u

struct reg_entry {
	struct shim_fd fd;          /* first: shim_fd * == reg_entry * */
	struct reg_entry *next_free;
};

static _Atomic(struct shim_fd *) *reg_table;
static size_t reg_len;              /* 0 until shim_registry_init */
static atomic_size_t reg_high;      /* 1 + highest fd ever tracked */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg_free;  /* under reg_lock */
/* The port index (under reg_lock): per local port, how many table
 * entries have it, and 1 + the fd of the last one indexed. NULL: no
 * memory, find_port scans. */
struct reg_port {
	uint32_t n;
	int fd1;
};
static struct reg_port *reg_ports;
static const struct shim_registry_ops *reg_ops;

void shim_registry_init(const struct shim_registry_ops *ops)
{
	struct rlimit rl;
	size_t n = REG_CAP;
	void *p;

	reg_ops = ops;
	/* The hard limit: a client may raise its soft limit later. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < REG_CAP)
		n = rl.rlim_max < REG_MIN ? REG_MIN : (size_t)rl.rlim_max;
	p = mmap(NULL, n * sizeof(*reg_table), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		shim_log(SHIM_LOG_ERROR, "cannot map the fd table (%zu fds): "
			 "no socket will be tracked, no call protected", n);
		return;
	}
	reg_table = p;
	reg_len = n;
	/* Pages of it are touched only for ports in use. */
	p = mmap(NULL, 65536 * sizeof(*reg_ports), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	reg_ports = p == MAP_FAILED ? NULL : p;
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer does not scan mmap'ed memory; entries live here. */
	__lsan_register_root_region(reg_table, n * sizeof(*reg_table));
#endif
}

/* reg_lock held. f enters (+1) or leaves (-1) the table, or its local
 * address does (set_local). */
static void port_index(const struct shim_fd *f, int delta)
{
	uint16_t port = shim_addr_port(&f->local);
	if (!reg_ports || port == 0)
		return;
	struct reg_port *r = &reg_ports[port];
	if (delta > 0) {
		r->n++;
		r->fd1 = f->fd + 1;
	} else if (r->n > 0) {
		r->n--;
		if (r->fd1 == f->fd + 1)
			r->fd1 = 0;
	}
}

/* reg_lock held. Is f the table's entry for its fd? */
static bool in_table(const struct shim_fd *f)
{
	return (unsigned int)f->fd < reg_len &&
	       atomic_load_explicit(&reg_table[f->fd], memory_order_relaxed) == f;
}

/* Everything except refs, which stale readers may be reading. */
static void entry_wipe(struct shim_fd *f)
{
	memset((char *)f + offsetof(struct shim_fd, fd), 0,
	       sizeof(*f) - offsetof(struct shim_fd, fd));
}

static struct shim_fd *entry_alloc(int fd, enum shim_fd_kind kind, int family)
{
	struct reg_entry *e;

	pthread_mutex_lock(&reg_lock);
	e = reg_free;
	if (e != NULL)
		reg_free = e->next_free;
	pthread_mutex_unlock(&reg_lock);
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			shim_log(SHIM_LOG_WARN, "out of memory: fd %d not "
				 "tracked", fd);
			return NULL;
		}
	}
	e->next_free = NULL;
	entry_wipe(&e->fd);
	e->fd.fd = fd;
	e->fd.kind = kind;
	e->fd.family = family;
	return &e->fd;
}

/* Put f (refs still 0, fully built) into slot fd; the entry it replaces,
 * if any (a stale entry for a number the kernel handed out again), loses
 * the table's reference. */
static void entry_publish(int fd, struct shim_fd *f)
{
	struct shim_fd *old;
	size_t high;

	atomic_store_explicit(&f->refs, 1, memory_order_release);
	pthread_mutex_lock(&reg_lock);
	old = atomic_exchange_explicit(&reg_table[fd], f, memory_order_acq_rel);
	if (old != NULL)
		port_index(old, -1);
	port_index(f, +1);
	high = atomic_load_explicit(&reg_high, memory_order_relaxed);
	if ((size_t)fd + 1 > high)
		atomic_store_explicit(&reg_high, (size_t)fd + 1,
				      memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
	if (old != NULL)
		shim_fd_put(old);
}

/*
 * The entry for fd without taking a reference, for hook_plain_udp only.
 * Entries are type-stable (never returned to malloc), so reading fields
 * with atomics is safe even while the entry is removed or recycled; the
 * answer can be stale only through a close racing with this call, as the
 * fd number itself can.
 */
struct shim_fd *shim_fd_peek(int fd)
{
	if ((unsigned int)fd >= reg_len)
		return NULL;
	return atomic_load_explicit(&reg_table[fd], memory_order_acquire);
}

struct shim_fd *shim_fd_get(int fd)
{
	struct shim_fd *f;
	int r;

	if ((unsigned int)fd >= reg_len)
		return NULL;
	f = atomic_load_explicit(&reg_table[fd], memory_order_acquire);
	if (f == NULL)
		return NULL;
	r = atomic_load_explicit(&f->refs, memory_order_relaxed);
	do {
		if (r <= 0)
			return NULL;    /* being freed: already removed */
	} while (!atomic_compare_exchange_weak_explicit(
			&f->refs, &r, r + 1, memory_order_acquire,
			memory_order_relaxed));
	if (atomic_load_explicit(&reg_table[fd], memory_order_acquire) != f) {
		shim_fd_put(f);         /* removed or recycled meanwhile */
		return NULL;
	}
	return f;
}

void shim_fd_put(struct shim_fd *f)
{
	struct reg_entry *e = (struct reg_entry *)f;

	if (f == NULL ||
	    atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Last reference: nobody can find it any more (the table's own
	 * reference was the first to go). */
	if (reg_ops && reg_ops->released)
		reg_ops->released(f);
	entry_wipe(f);
	pthread_mutex_lock(&reg_lock);
	e->next_free = reg_free;
	reg_free = e;
	pthread_mutex_unlock(&reg_lock);
}

struct shim_fd *shim_fd_add(int fd, enum shim_fd_kind kind, int family)
{
	struct shim_fd *f;

	if ((unsigned int)fd >= reg_len)
		return NULL;
	f = entry_alloc(fd, kind, family);
	if (f == NULL) {
		shim_fd_remove(fd);     /* never leave a stale entry behind */
		return NULL;
	}
	entry_publish(fd, f);
	return f;   /* borrowed: valid while fd stays open */
}

void shim_fd_remove(int fd)
{
	struct shim_fd *old;

	if ((unsigned int)fd >= reg_len ||
	    atomic_load_explicit(&reg_table[fd], memory_order_relaxed) == NULL)
		return;     /* close() of an untracked fd: no lock */
	pthread_mutex_lock(&reg_lock);
	old = atomic_exchange_explicit(&reg_table[fd], NULL,
				       memory_order_acq_rel);
	if (old != NULL)
		port_index(old, -1);
	pthread_mutex_unlock(&reg_lock);
	if (old != NULL)
		shim_fd_put(old);
}

void shim_fd_remove_range(unsigned int lo, unsigned int hi)
{
	size_t high = atomic_load_explicit(&reg_high, memory_order_relaxed);

	if (high == 0)
		return;
	if (hi > high - 1)
		hi = (unsigned int)(high - 1);
	for (unsigned int fd = lo; fd <= hi && fd >= lo; fd++) {
		shim_fd_remove((int)fd);
		if (fd == hi)
			break;
	}
}

/*
 * newfd becomes what oldfd is: same kind, family, addresses. Its media is
 * not copied; the layer above attaches it the same way it attaches a
 * freshly bound socket (ops->duplicated), so a stream never learns of an
 * fd behind its back. An untracked oldfd leaves newfd untracked (and forgets what
 * newfd was: dup2 closed it).
 */
void shim_fd_dup(int oldfd, int newfd)
{
	struct shim_fd *src, *f;
	bool bound;

	if (oldfd == newfd)
		return;
	src = shim_fd_get(oldfd);
	if (src == NULL || (unsigned int)newfd >= reg_len) {
		shim_fd_remove(newfd);
		shim_fd_put(src);
		return;
	}
	f = entry_alloc(newfd, src->kind, src->family);
	if (f == NULL) {
		shim_fd_remove(newfd);
		shim_fd_put(src);
		return;
	}
	f->nonblock_hint = src->nonblock_hint;
	f->local = src->local;
	f->peer = src->peer;
	atomic_store(&f->held, atomic_load(&src->held));
	bound = src->kind == SHIM_FD_UDP && shim_addr_port(&src->local) != 0;
	shim_fd_put(src);
	entry_publish(newfd, f);
	if (bound && reg_ops && reg_ops->duplicated &&
	    (f = shim_fd_get(newfd)) != NULL) {
		reg_ops->duplicated(f);
		shim_fd_put(f);
	}
}

struct shim_fd *shim_fd_find_port(uint16_t port)
{
	size_t high = atomic_load_explicit(&reg_high, memory_order_relaxed);
	struct shim_fd *found = NULL;

	if (port == 0)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	if (reg_ports && reg_ports[port].n == 0) {
		pthread_mutex_unlock(&reg_lock);
		return NULL;
	}
	if (reg_ports && reg_ports[port].n == 1) {
		/* The one indexed, when the index still names it. */
		int fd1 = reg_ports[port].fd1;
		struct shim_fd *f = fd1 > 0 && (size_t)fd1 <= reg_len ?
			atomic_load_explicit(&reg_table[fd1 - 1],
					     memory_order_acquire) : NULL;
		if (f != NULL && shim_addr_port(&f->local) == port) {
			if (f->kind == SHIM_FD_UDP) {
				atomic_fetch_add_explicit(&f->refs, 1,
							  memory_order_relaxed);
				found = f;
			}
			pthread_mutex_unlock(&reg_lock);
			return found;
		}
	}
	/* Several fds share the port, or the index lost track of the one
	 * (a port shared, then left by the fd it named): scan. */
	for (size_t fd = 0; fd < high && found == NULL; fd++) {
		struct shim_fd *f = atomic_load_explicit(&reg_table[fd],
							  memory_order_acquire);
		if (f == NULL || f->kind != SHIM_FD_UDP ||
		    shim_addr_port(&f->local) != port)
			continue;
		/* Under reg_lock no entry leaves the table, so the table's
		 * reference keeps refs > 0 here. */
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
		found = f;
	}
	if (found && reg_ports && reg_ports[port].n == 1)
		reg_ports[port].fd1 = found->fd + 1;
	pthread_mutex_unlock(&reg_lock);
	return found;
}

void shim_registry_atfork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

void shim_registry_atfork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

/* In the child only the forking thread exists; it holds reg_lock (taken
 * in prepare). Entries referenced by the parent's other threads keep
 * those references forever: a small leak, never a use-after-free. */
void shim_registry_atfork_child(void)
{
	pthread_mutex_init(&reg_lock, NULL);
}

/* bind/connect/getsockname record addresses under reg_lock so
 * shim_fd_find_port never reads a half-written address. */
void shim_fd_set_local(struct shim_fd *f, const struct sockaddr *sa,
		       socklen_t len)
{
	if (len > sizeof(f->local))
		len = sizeof(f->local);
	pthread_mutex_lock(&reg_lock);
	bool listed = in_table(f);
	if (listed)
		port_index(f, -1);
	memset(&f->local, 0, sizeof(f->local));
	if (sa != NULL)
		memcpy(&f->local, sa, len);
	if (listed)
		port_index(f, +1);
	pthread_mutex_unlock(&reg_lock);
}

void shim_fd_set_peer(struct shim_fd *f, const struct sockaddr *sa,
		      socklen_t len)
{
	if (len > sizeof(f->peer))
		len = sizeof(f->peer);
	pthread_mutex_lock(&reg_lock);
	memset(&f->peer, 0, sizeof(f->peer));
	if (sa != NULL && len >= sizeof(sa_family_t) &&
	    sa->sa_family != AF_UNSPEC)
		memcpy(&f->peer, sa, len);
	pthread_mutex_unlock(&reg_lock);
}
