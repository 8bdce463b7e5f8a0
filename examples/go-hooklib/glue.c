/*
 * glue.c — the C ABI side of a Go hook library loaded with ZPOLINE_HOOK.
 *
 * Why C: the loader calls zpoline_hook_attach and zpoline_hook_function as C functions,
 * and pthread_getattr_np is wrapped at link time (-Wl,--wrap) so that this library's Go
 * runtime, which checks the stack of every callback, is told the loader's hook stack
 * instead of reading /proc/self/maps on each call.
 *
 * Context: zpoline_hook_function runs on the loader's hook stack, in any program thread.
 * The loader never calls it in fork or vfork children, TLS-sharing clones or nested
 * signal handlers (ZPOLINE_HOOK_RUNTIME), where this library's Go runtime cannot run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>

#include "../../include/zpoline.h"
#include "_cgo_export.h"

static const struct zpoline_api *zp_api;

__attribute__((visibility("default"))) int
zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc)
{
	if (api->abi_version < 1 || api->size < sizeof(struct zpoline_api))
		return -1; /* needs hook_stack */
	zp_api = api;
	desc->flags = ZPOLINE_HOOK_RUNTIME; /* Go clobbers vectors: let the loader save them */
	/* Calling into Go waits until this library's Go runtime has started (it starts in a
	   thread of its own, which calls into the shared ld.so: hooked calls made before it
	   is ready would wait for it forever). */
	goReady();
	return 0;
}

__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	return goHook(regs);
}

int __real_pthread_getattr_np(pthread_t th, pthread_attr_t *attr);

int __wrap_pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	uint64_t lo = 0, hi = 0;
	if (zp_api && pthread_equal(th, pthread_self()))
		zp_api->hook_stack(&lo, &hi);
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	if (lo && sp >= lo && sp < hi) {
		pthread_attr_init(attr);
		pthread_attr_setstack(attr, (void *)lo, hi - lo);
		return 0;
	}
	return __real_pthread_getattr_np(th, attr);
}
