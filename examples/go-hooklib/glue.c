/*
 * glue.c — the C ABI side of a Go hook library loaded with ZPOLINE_HOOK.
 *
 * Why C: the loader calls zpoline_hook_attach and zpoline_hook_function as C functions,
 * and libc functions that this library's Go runtime (runtime/cgo) calls are wrapped at
 * link time (-Wl,--wrap, see main.go), because this library has a libc of its own (its
 * link-map namespace's) while it runs on the program's threads, whose thread descriptor
 * (%fs) is the program libc's:
 *  - pthread_getattr_np: told the loader's hook stack, so the runtime does not read
 *    /proc/self/maps on each callback;
 *  - pthread_key_create, pthread_setspecific, pthread_getspecific: the loader's
 *    thread-specific data (api->key_create...). cgo binds an M to every program thread
 *    that calls into Go and keeps it in a pthread key whose destructor gives the M back
 *    when the thread ends. The namespace libc's key would share its slot in the
 *    program's thread descriptor with the program libc's key of the same number (the
 *    loader's own Go runtime has key 0 there too): the wrong destructor would run and
 *    the next call into this runtime on that thread would hang. The loader keeps the
 *    value in its per-thread block and calls the destructor on the hook stack when the
 *    thread calls exit.
 *
 * Context: zpoline_hook_function runs on the loader's hook stack, in any program thread.
 * The loader never calls it in fork or vfork children, TLS-sharing clones or nested
 * signal handlers (ZPOLINE_HOOK_RUNTIME), where this library's Go runtime cannot run.
 * The wrappers run where runtime/cgo calls them: hook path, start-up, runtime threads.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "../../include/zpoline.h"
#include "_cgo_export.h"

static const struct zpoline_api *zp_api;

__attribute__((visibility("default"))) int
zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc)
{
	/* Needs hook_stack and the thread-specific data: without them threads would hang. */
	if (api->abi_version < 1 ||
	    api->size < offsetof(struct zpoline_api, getspecific) + sizeof api->getspecific)
		return -ENOSYS;
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

int __real_pthread_key_create(pthread_key_t *key, void (*destructor)(void *));
int __real_pthread_setspecific(pthread_key_t key, const void *value);
void *__real_pthread_getspecific(pthread_key_t key);

/* Before zpoline_hook_attach (never, when loaded by zpoline) the namespace libc's. */
int __wrap_pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
	if (!zp_api)
		return __real_pthread_key_create(key, destructor);
	return zp_api->key_create(key, destructor);
}

int __wrap_pthread_setspecific(pthread_key_t key, const void *value)
{
	if (!zp_api)
		return __real_pthread_setspecific(key, value);
	return zp_api->setspecific(key, value);
}

void *__wrap_pthread_getspecific(pthread_key_t key)
{
	if (!zp_api)
		return __real_pthread_getspecific(key);
	return zp_api->getspecific(key);
}
