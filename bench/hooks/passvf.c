/*
 * passvf.c — a pass-through hook library that declares itself vector-free
 * (build/bench/hooks/passvf.so, built by zpbench).
 *
 * It is the cheapest C hook library the loader can have: zpoline_hook_attach declares
 * ZPOLINE_HOOK_VECTOR_FREE (so the loader skips its save of the vector state; the file is
 * compiled with -mgeneral-regs-only, which makes the declaration true) and
 * ZPOLINE_HOOK_CLONE_SAFE (so the clone family is shown to the hook too), and every
 * system call is performed with the loader's api->syscall. zpbench compares it with
 * builtin:pass (no hook library at all) and with pass.c (the same work, but
 * undeclared, so the loader saves the vector state around it).
 *
 * No libc (linked with -nostdlib -Wl,-z,defs), no stdio, no TLS.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../include/zpoline.h"

#define PASSVF_EXPORT __attribute__((visibility("default")))

/* The loader's API table, stored by zpoline_hook_attach before any hook call. */
static const struct zpoline_api *passvf_api;

/* zpoline_hook_attach: keep the API table and declare vector-free and clone-safe. */
PASSVF_EXPORT int zpoline_hook_attach(const struct zpoline_api *api,
				      struct zpoline_hook_desc *desc)
{
	if (api == NULL || desc == NULL || api->syscall == NULL)
		return -22; /* -EINVAL */
	passvf_api = api;
	desc->flags = ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE;
	return 0;
}

/* zpoline_hook_function: perform the call unchanged through the loader. */
PASSVF_EXPORT int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	return passvf_api->syscall(regs);
}
