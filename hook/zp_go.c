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
