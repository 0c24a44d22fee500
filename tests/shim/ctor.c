/*
 * Preloaded next to libzrtpshim by run-semantics.sh: its constructor runs
 * before the program's main and calls the hooks before anything else has
 * initialised the shim (the libfaketime habit). zs_ctor_result is 1 if
 * every step behaved like libc, else minus the failing step.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((visibility("default"))) int zs_ctor_result;

__attribute__((constructor)) static void zs_ctor(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	char in[16];
	int pfd[2], fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	zs_ctor_result = -1;
	if (pipe(pfd) != 0 || write(pfd[1], "ctor", 4) != 4 ||
	    read(pfd[0], in, sizeof(in)) != 4 || memcmp(in, "ctor", 4) != 0)
		return;
	zs_ctor_result = -2;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0)
		return;
	zs_ctor_result = -3;
	if (sendto(fd, "\x01self", 5, 0, (struct sockaddr *)&a, sizeof(a)) != 5 ||
	    recv(fd, in, sizeof(in), 0) != 5 || memcmp(in, "\x01self", 5) != 0)
		return;
	zs_ctor_result = -4;
	errno = 0;
	if (recv(fd, in, sizeof(in), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		return;
	zs_ctor_result = -5;
	if (close(fd) != 0 || close(fd) != -1 || errno != EBADF ||
	    fcntl(pfd[0], F_GETFD) < 0 || close(pfd[0]) || close(pfd[1]))
		return;
	zs_ctor_result = 1;
}
