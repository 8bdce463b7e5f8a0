/*
 * pass.c — an unmodified pass-through hook library (build/bench/hooks/pass.so, built by
 * zpbench).
 *
 * It is what a plain zpoline-rs hook library looks like: it exports only
 * zpoline_hook_function and performs the call with its own inline `syscall`
 * instruction (like zpoline-rs's raw_syscall). It exports no zpoline_hook_attach and
 * declares nothing: the loader proves by decoding it that it never touches a vector
 * register (internal/vectorfree) and skips the vector save, as for passvf.c; passsse.c
 * is the same hook with one SSE instruction, which the loader must save around. It is compiled without -mgeneral-regs-only and links libc like an ordinary
 * shared library, so its start-up cost includes a second libc in the hook namespace.
 */
#include <stdint.h>

#include "../../include/zpoline.h"

/* zpoline_hook_function: perform the call with an inline syscall instruction. */
__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *r)
{
	register int64_t r10 __asm__("r10") = r->r10;
	register int64_t r8 __asm__("r8") = r->r8;
	register int64_t r9 __asm__("r9") = r->r9;
	int64_t ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(r->rax), "D"(r->rdi), "S"(r->rsi), "d"(r->rdx), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
