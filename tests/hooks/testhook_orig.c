/*
 * testhook_orig.c — test hook library in the original zpoline ABI (yasukata/zpoline)
 * (build/tests/testhook_orig.so), selected with LIBZPHOOK=<path>.
 *
 * Exports int __hook_init(long placeholder, void *sys_call_hook_ptr), which reads the
 * loader's current hook from *sys_call_hook_ptr, keeps it as next_sys_call and stores its
 * own hook_function there — line for line what apps/basic/main.c of the original does.
 * hook_function(a1..a7) receives the number in a1 and the arguments in a2..a7.
 *
 * What it proves, with tests/probes/ (DESIGN.md §2 "hooks come in three forms", §3):
 *  - an unmodified original-ABI library loads and sees the program's system calls:
 *    getppid (110) is emulated and returns 4242, everything else goes to next_sys_call
 *    (the loader's real-syscall function, which must be clone-safe: the clone family
 *    reaches it through this hook);
 *  - "vector state": every call destroys the vector registers (clobber.h).
 *
 * Context: hook path — any thread, signal handlers, fork and vfork children. No stdio, no
 * malloc (the original's sample printf()s; this one must run in fork children).
 */
#include <stddef.h>

#include "clobber.h"

#define TESTHOOK_NR_GETPPID 110
#define TESTHOOK_PPID 4242

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);

static syscall_fn_t next_sys_call = NULL;


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

static long hook_function(long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
	testhook_no_sigreturn(a1);
	zptest_clobber_vectors();
	if (a1 == TESTHOOK_NR_GETPPID)
		return TESTHOOK_PPID;
	return next_sys_call(a1, a2, a3, a4, a5, a6, a7);
}

__attribute__((visibility("default"))) int __hook_init(long placeholder __attribute__((unused)),
						       void *sys_call_hook_ptr)
{
	(void)zptest_vec_level_cached();
	next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
	*((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
	return 0;
}
