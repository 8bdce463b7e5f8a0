/*
 * testhook_plain.c — a plain zpoline-rs hook library as people write them: it exports
 * only zpoline_hook_function, declares nothing (no zpoline_hook_attach, so no
 * ZPOLINE_HOOK_VECTOR_FREE), answers getppid with 4242 and performs every other call
 * with its own inline `syscall`. Its code touches no vector register, which the loader
 * proves by decoding it (internal/vectorfree) and then skips the vector save
 * (tests/hookload_test.go TestHookVectorFreeProven).
 */
#include <stdint.h>
#include <sys/syscall.h>

#include "../../include/zpoline.h"

__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *r)
{
	if (r->rax == SYS_getppid)
		return 4242;
	register int64_t r10 __asm__("r10") = r->r10;
	register int64_t r8 __asm__("r8") = r->r8;
	register int64_t r9 __asm__("r9") = r->r9;
	int64_t ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(r->rax), "D"(r->rdi), "S"(r->rsi), "d"(r->rdx), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
