/*
 * The send and receive paths of tracked fds (io.c): what a hook does with
 * an fd the registry knows. The rules are at the top of io.c.
 */
#ifndef SHIM_IO_H
#define SHIM_IO_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct shim_fd;

/*
 * A send of any family (sendto, send, sendmsg, write, writev; sendmmsg
 * calls it per message). msg->msg_name may be NULL (connected socket).
 * Returns exactly what the real call would: bytes "sent" (the full length
 * when the shim held a packet), or -1 with errno.
 */
ssize_t shim_io_send(struct shim_fd *f, const struct msghdr *msg, int flags);

/*
 * A receive of any family (recvfrom, recv, recvmsg, read, readv; recvmmsg
 * calls it per message). Performs the real receive(s): packets the shim
 * consumes (ZRTP, SRTP failing authentication, cleartext on a secure
 * stream) are never shown; a blocking socket keeps waiting, a non-blocking
 * one gets EAGAIN; MSG_PEEK never consumes a packet the client would
 * read. Returns the length the client sees (MSG_TRUNC semantics as libc),
 * or -1 with errno.
 */
ssize_t shim_io_recv(struct shim_fd *f, struct msghdr *msg, int flags);

/*
 * Before a readiness wait (select, poll, ...) reports f readable: take the
 * datagrams at the head of its queue that the shim would consume (ZRTP,
 * SRTP failing authentication, cleartext while negotiating) and process
 * them, never blocking. True if a datagram the client will receive is now
 * at the head (or the fd is no UDP media fd, or the queue reports an
 * error the client's receive will see); false if the shim consumed all
 * that was queued, so a receive would block where the kernel promised it
 * would not.
 */
bool shim_io_ready(struct shim_fd *f);

/* The registry's released callback: the entry's media and stream go. */
void shim_io_released(struct shim_fd *f);

/* close() of tracked fd f is about to happen: SIP the client wrote and
 * the shim still holds goes out first. */
void shim_io_closing(struct shim_fd *f);

/* bind() succeeded on tracked fd f (its local address is recorded): it
 * carries media if an SDP already named its port. */
void shim_io_bound(struct shim_fd *f);

#endif
