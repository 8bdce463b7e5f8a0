/*
 * zp_ctor.c — the loader's start-up constructors.
 *
 * Why C: a shared library starts through its .init_array. Constructors with a priority
 * run first, in priority order; then the default-priority entries, the Go runtime's own
 * (_rt0_amd64_linux_lib) first. zp_loader_warm (priority 110, after internal/core's
 * constructors 101 and 102) tries the warm start (internal/core/zp_warm.c: everything
 * from the site cache, in C, before the Go runtime's thread exists). zp_loader_ctor
 * (default priority, after the Go runtime's entry) finishes it, or calls the exported Go
 * start-up, which blocks until the runtime is ready and then runs on the main thread.
 *
 * It is in its own .c file: a constructor in the cgo preamble of a file with //export
 * would be compiled into two objects and run twice.
 */
#include "_cgo_export.h"

int zp_warm_start(void *newcode_fn); /* internal/core/zp_warm.c */
void zp_warm_finish(int go_finishes);

static int zp_loader_warm_state; /* zp_warm_start: 0 not warm, 1 done, 2 the hook is Go's */

__attribute__((constructor(110))) static void zp_loader_warm(void)
{
	zp_loader_warm_state = zp_warm_start((void *)zpolineNewCode);
}

__attribute__((constructor)) static void zp_loader_ctor(void)
{
	switch (zp_loader_warm_state) {
	case 1:
		zp_warm_finish(0);
		break;
	case 2:
		zp_warm_finish(1);
		zpolineFinishWarm();
		break;
	default:
		zpolineStart();
	}
}

/* The address of the exported new-code scanner, for internal/core (zp_newcode.c). */
void *zp_loader_newcode_fn(void)
{
	return (void *)zpolineNewCode;
}
