/*
 * passsse.c — the pass-through hook of pass.c plus one SSE instruction per call
 * (build/bench/hooks/passsse.so, built by zpbench): a hook that really touches a vector
 * register, so the loader cannot prove it vector-free (internal/vectorfree) and saves and
 * restores the vector state around every call. The difference between this library and
 * pass.so is the price of that save.
 */
#include <stdint.h>

#include "../../include/zpoline.h"

/* zpoline_hook_function: clear xmm15, then perform the call with an inline syscall. */
__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *r)
{
	register int64_t r10 __asm__("r10") = r->r10;
	register int64_t r8 __asm__("r8") = r->r8;
	register int64_t r9 __asm__("r9") = r->r9;
	int64_t ret;

	__asm__ volatile("pxor %%xmm15, %%xmm15" : : : "xmm15");
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(r->rax), "D"(r->rdi), "S"(r->rsi), "d"(r->rdx), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
