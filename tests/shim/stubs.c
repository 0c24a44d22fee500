/* Stand-ins for the shim below the media layer (stubs.h). */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "shim/real.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "tests/shim/stubs.h"

struct shim_real shim_real;
_Thread_local int shim_in_shim;
struct shim_config shim_config = {
	.altered_ms = SHIM_ALTERED_MS_DEFAULT,
};

void shim_real_init(void)
{
	shim_real.socket = socket;
	shim_real.bind = bind;
	shim_real.close = close;
	shim_real.sendto = sendto;
	shim_real.send = send;
	shim_real.sendmsg = sendmsg;
	shim_real.recvfrom = recvfrom;
	shim_real.recv = recv;
	shim_real.recvmsg = recvmsg;
	shim_real.read = read;
	shim_real.write = write;
	shim_real.poll = poll;
	shim_real.ppoll = ppoll;
	shim_real.select = select;
	shim_real.pselect = pselect;
}

#define MAX_FDS 1024
static struct shim_fd *fds[MAX_FDS];

struct shim_fd *shim_fd_get(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !fds[fd])
		return NULL;
	atomic_fetch_add(&fds[fd]->refs, 1);
	return fds[fd];
}

void shim_fd_put(struct shim_fd *f)
{
	if (f)
		atomic_fetch_sub(&f->refs, 1);
}

struct shim_fd *shim_fd_find_port(uint16_t port)
{
	for (int i = 0; i < MAX_FDS; i++)
		if (fds[i] && ntohs(((struct sockaddr_in *)&fds[i]->local)
					    ->sin_port) == port)
			return shim_fd_get(i);
	return NULL;
}

struct shim_fd *stub_track(int fd)
{
	struct shim_fd *f = calloc(1, sizeof *f);
	socklen_t l = sizeof f->local;

	if (f == NULL || fd < 0 || fd >= MAX_FDS)
		abort();
	atomic_init(&f->refs, 1);
	f->fd = fd;
	f->kind = SHIM_FD_UDP;
	f->family = AF_INET;
	getsockname(fd, (struct sockaddr *)&f->local, &l);
	fds[fd] = f;
	return f;
}

struct shim_fd *stub_fd(int fd)
{
	return fd >= 0 && fd < MAX_FDS ? fds[fd] : NULL;
}
