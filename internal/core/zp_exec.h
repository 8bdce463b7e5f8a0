/*
 * zp_exec.h — execve and execveat on the hook path (zp_exec.c), called by zp_dispatch.
 */
#ifndef ZP_EXEC_H
#define ZP_EXEC_H

#include <stdint.h>

#include "zp_core.h"

/* Performs an execve/execveat through the hook h (zp_call_hook at level 0): names the
   program first when it will not be hooked, and passes the kernel an environment with
   the loader's variables put back (unless ZPOLINE_KEEP_ENV=0). Defined in zp_exec.c. */
int64_t zp_exec(const struct zp_hook *h, struct zp_block *b, struct zp_frame *f);

#endif
