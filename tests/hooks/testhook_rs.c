/*
 * testhook_rs.c — test hook library in the zpoline-rs ABI (build/tests/testhook_rs.so).
 *
 * Loaded by the loader with dlmopen(LM_ID_NEWLM) when ZPOLINE_HOOK names it. Exports
 * zpoline_hook_init() (returns the hook) and zpoline_hook_function(struct zpoline_regs *),
 * exactly the two symbols a zpoline-rs hook library exports; it does not export
 * zpoline_hook_attach, so the loader treats it as a plain zpoline-rs library: not
 * clone-safe (the loader runs the clone family itself) and not vector-free.
 *
 * What it proves, with tests/probes/ (DESIGN.md §3):
 *  - the hook sees the program's system calls: getppid (110) is emulated and returns 4242
 *    without entering the kernel; the probes check that value (PROBE_HOOKED=1);
 *  - "vector state": every call destroys xmm0-15 and, where the CPU has them, ymm0-15,
 *    zmm0-31 and k0-7 (clobber.h); the loader must restore them;
 *  - a hook may perform the real call with its OWN inline `syscall` instruction, like
 *    zpoline-rs's raw_syscall (it does not use api->syscall): this instruction lives in the
 *    hook's namespace, which the loader must not rewrite.
 *
 * Context: hook path — any thread, signal handlers, fork and vfork children. No libc, no
 * stdio, no malloc, no TLS: inline system calls only.
 */
#include <stdint.h>

#include "../../include/zpoline.h"
#include "clobber.h"

#define TESTHOOK_NR_GETPPID 110
#define TESTHOOK_NR_COUNT 499
static long testhook_count;
#ifndef TESTHOOK_PPID
#define TESTHOOK_PPID 4242
#endif

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


/*
 * rt_sigreturn must never reach a hook (DESIGN.md §3): it runs on the signal frame's
 * stack pointer. If the loader ever shows it to us, fail loudly: one line and SIGABRT.
 */
static void testhook_no_sigreturn(long nr)
{
	if (nr != 15)
		return;
	static const char msg[] = "testhook: the loader showed rt_sigreturn to the hook\n";
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"(1L), "D"(2L), "S"(msg), "d"(sizeof msg - 1)
			 : "rcx", "r11", "memory");
	__asm__ volatile("syscall" : "=a"(r) : "0"(62L /* kill */), "D"(0L), "S"(6L /* SIGABRT */)
			 : "rcx", "r11", "memory");
}

__attribute__((visibility("default"))) int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	testhook_no_sigreturn(regs->rax);
	zptest_clobber_vectors();
	if (regs->rax == TESTHOOK_NR_GETPPID)
		return TESTHOOK_PPID;
	/* tests/probes/newcode.c: a number the kernel does not know, counted, so that a
	   probe sees every call reach the hook exactly once (1, 2, 3, ... per process). */
	if (regs->rax == TESTHOOK_NR_COUNT)
		return __atomic_add_fetch(&testhook_count, 1, __ATOMIC_RELAXED);
	return testhook_raw_syscall(regs);
}

__attribute__((visibility("default"))) zpoline_hook_fn zpoline_hook_init(void)
{
	(void)zptest_vec_level_cached(); /* run cpuid now, not on the first hooked call */
	return zpoline_hook_function;
}
