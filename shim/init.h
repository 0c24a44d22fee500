/*
 * Run-once set-up (init.c): the libc pointers, the settings, the fd
 * registry, and the wiring of the modules' callbacks (the registry's
 * release and dup, the events' listener, the fork handlers). The only
 * module that knows every other; the hooks call it.
 */
#ifndef SHIM_INIT_H
#define SHIM_INIT_H

#include <stdatomic.h>

/* Safe to call from every hook: returns at once when done. */
void shim_init(void);

/* SHIM_INIT_DONE once shim_init has finished on some thread; hooks.h's
 * hook_init reads it inline so a hook after start-up makes no call. */
extern atomic_int shim_init_state;
#define SHIM_INIT_DONE 2

#endif
