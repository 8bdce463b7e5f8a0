/*
 * clobber.h — destroy every vector register the CPU has, from inside a test hook.
 *
 * Hazard (DESIGN.md §3 "vector state"): the kernel preserves xmm/ymm/zmm/opmask state across
 * a system call, but hook code (Go: X15, SIMD memmove; C: -O2 auto-vectorisation) clobbers
 * it. The loader must save and restore the extended state around any hook that does not
 * declare itself vector-free, and the MXCSR and x87 control word a hook may change (the
 * ABI lets a function change the MXCSR status flags; a system call changes nothing).
 * The test hooks call zptest_clobber_vectors() on every call,
 * so a loader that forgets the save fails tests/probes/vector.c (and, in practice, any
 * program that keeps a value in a vector register across an inline syscall).
 *
 * Context: hook path (any thread, signal handlers, fork/vfork children); no libc, no
 * system calls, no stack use beyond the caller's frame.
 */
#ifndef ZPTEST_CLOBBER_H
#define ZPTEST_CLOBBER_H

#include "../include/cpufeat.h"

static int zptest_vec_level; /* 0 = not yet detected; benign race: every writer stores the same */

static inline int zptest_vec_level_cached(void)
{
	int l = __atomic_load_n(&zptest_vec_level, __ATOMIC_RELAXED);
	if (l == 0) {
		l = zptest_vec_level_detect();
		__atomic_store_n(&zptest_vec_level, l, __ATOMIC_RELAXED);
	}
	return l;
}

/* Sets every bit of every vector register (and of k0-7) to 1, and changes the MXCSR
   (rounding toward zero, the inexact flag) and the x87 control word (rounding up). */
static inline __attribute__((always_inline)) void zptest_clobber_vectors(void)
{
	int l = zptest_vec_level_cached();
	static const unsigned mxcsr = 0x1f80 | 0x6000 | 0x20;
	static const unsigned short fcw = 0x037f | 0x0800;
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" ::"m"(mxcsr), "m"(fcw));

	if (l >= ZPTEST_VEC_AVX512) {
		/* EVEX writes all 512 bits; vpternlogd $0xff = all ones whatever the inputs. */
		__asm__ volatile(
			".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
			"vpternlogd $0xff, %%zmm\\r, %%zmm\\r, %%zmm\\r\n\t"
			".endr\n\t"
			".irp k,0,1,2,3,4,5,6,7\n\t"
			"kxnorw %%k\\k, %%k\\k, %%k\\k\n\t"
			".endr\n\t"
			::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	} else if (l >= ZPTEST_VEC_AVX) {
		/* VEX.256: all 256 bits of ymmN become ones. */
		__asm__ volatile(
			".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			"vpcmpeqb %%ymm\\r, %%ymm\\r, %%ymm\\r\n\t"
			".endr\n\t"
			::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	} else {
		__asm__ volatile(
			".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			"pcmpeqb %%xmm\\r, %%xmm\\r\n\t"
			".endr\n\t"
			::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	}
}

#endif /* ZPTEST_CLOBBER_H */
