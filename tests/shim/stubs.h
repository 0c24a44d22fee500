/*
 * Test-only stand-ins for the parts of the shim the media layer calls
 * below it (stubs.c): the libc pointers (libc itself), the settings, and a
 * small fd registry. The media tests (media_test.c, demux_parity.c) link
 * them with the real shim/media*.c; each test keeps its own log and
 * events stand-ins, which count what it judges.
 */
#ifndef TESTS_SHIM_STUBS_H
#define TESTS_SHIM_STUBS_H

#include "shim/registry.h"

/* shim_real_init (real.h) points shim_real at libc. */

/* Track fd (a bound UDP socket on 127.0.0.1) in the stand-in registry, so
 * shim_fd_get and shim_fd_find_port see it. */
struct shim_fd *stub_track(int fd);
/* The tracked entry of fd (no reference taken), or NULL. */
struct shim_fd *stub_fd(int fd);

#endif
