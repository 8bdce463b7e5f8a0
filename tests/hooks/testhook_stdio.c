/*
 * testhook_stdio.c — test hook library in the zpoline-rs ABI that uses stdio
 * (build/tests/testhook_stdio.so), for DESIGN.md §3 "hook library": "the namespace's
 * stdio is never flushed".
 *
 * The library is loaded with dlmopen(LM_ID_NEWLM), so it gets its own copy of libc with
 * its own stdout buffer. On every getppid (110) it printf()s one line WITHOUT fflush and
 * returns 4242; everything else is performed with an inline raw `syscall` (which lives in
 * the hook namespace, never rewritten). When stdout is a pipe the namespace's stdout is
 * fully buffered, so the lines reach the pipe only if the loader calls that namespace's
 * fflush(NULL) at exit_group — which is what tests/hookload_test.go checks.
 *
 * Context: hook path. It uses stdio, so it is only fit for single-threaded programs that
 * do not fork (the test's program); real hooks must not do this (see include/zpoline.h).
 */
#include <stdint.h>
#include <stdio.h>

#include "../../include/zpoline.h"

#define TESTHOOK_NR_GETPPID 110
#define TESTHOOK_PPID 4242

static inline int64_t testhook_raw_syscall(const struct zpoline_regs *r)
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

__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	if (regs->rax == TESTHOOK_NR_GETPPID) {
		printf("stdio-hook saw getppid\n"); /* no fflush: the loader must flush at exit */
		return TESTHOOK_PPID;
	}
	return testhook_raw_syscall(regs);
}

__attribute__((visibility("default"))) zpoline_hook_fn zpoline_hook_init(void)
{
	return zpoline_hook_function;
}
