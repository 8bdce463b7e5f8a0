/*
 * zp_ctor.c — the loader's start-up constructor.
 *
 * Why C: a shared library starts through its .init_array. Go's own entry
 * (_rt0_amd64_linux_lib) comes first in that array and starts the Go runtime; this
 * default-priority constructor comes after it. It first tries the warm start
 * (internal/core/zp_warm.c: everything from the site cache, in C, without waiting for
 * the Go runtime); otherwise it calls the exported Go start-up, which blocks until the
 * runtime is ready and then runs on the main thread.
 * (The constructor(101) that must run before the Go runtime is in internal/core.)
 *
 * It is in its own .c file: a constructor in the cgo preamble of a file with //export
 * would be compiled into two objects and run twice.
 */
#include "_cgo_export.h"

int zp_warm_start(void *newcode_fn); /* internal/core/zp_warm.c */

__attribute__((constructor)) static void zp_loader_ctor(void)
{
	/* Everything cached: rewritten from C while the Go runtime starts on its own thread
	   (zp_warm.c waits for loader.go's init before returning). */
	if (zp_warm_start((void *)zpolineNewCode))
		return;
	zpolineStart();
}

/* The address of the exported new-code scanner, for internal/core (zp_newcode.c). */
void *zp_loader_newcode_fn(void)
{
	return (void *)zpolineNewCode;
}
