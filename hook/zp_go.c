/*
 * zp_go.c — the C address of the exported Go dispatcher, for the loader's core.
 *
 * Why C: only C can take the address of a function that cgo exports. It is in its own
 * .c file because C definitions in the preamble of a Go file with //export are compiled
 * twice.
 */
#include "_cgo_export.h"

void *zp_go_dispatch_addr(void)
{
	return (void *)zpolineGoDispatch;
}

/* Its presence tells the loader's warm start (internal/core/zp_warm.c) that this loader
   may run Go hooks, which are installed by the Go start-up. */
const int zp_go_sdk_linked = 1;
