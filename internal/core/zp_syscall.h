/*
 * zp_syscall.h — raw system calls for code on the hook path.
 *
 * Why not libc: the hook path runs in fork and vfork children, in signal handlers and
 * while libc's locks may be held; it must not set errno or take a lock. These inline
 * `syscall` instructions live in the loader's own text, which is never rewritten, so
 * they go straight to the kernel. They return the kernel's value: >= 0 or -errno.
 */
#ifndef ZP_SYSCALL_H
#define ZP_SYSCALL_H

static inline long zp_sys6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define zp_sys0(nr) zp_sys6((nr), 0, 0, 0, 0, 0, 0)
#define zp_sys1(nr, a) zp_sys6((nr), (long)(a), 0, 0, 0, 0, 0)
#define zp_sys2(nr, a, b) zp_sys6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define zp_sys3(nr, a, b, c) zp_sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define zp_sys4(nr, a, b, c, d) zp_sys6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#endif
