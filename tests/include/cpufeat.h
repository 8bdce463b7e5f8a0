/*
 * cpufeat.h — which vector register files the CPU and the kernel enable, for the test hooks
 * (tests/hooks) and the vector probe (tests/probes/vector.c).
 *
 * Hazard (DESIGN.md §3 "vector state"): the kernel preserves xmm/ymm/zmm and the opmask
 * registers across a system call. The test hooks clobber every register file this reports
 * and the vector probe checks every register file this reports, so the two always agree.
 *
 * Context: plain C, no libc, no system calls; safe on the hook path, in signal handlers and
 * in fork/vfork children. cpuid is slow under a hypervisor: callers cache the result.
 */
#ifndef ZPTEST_CPUFEAT_H
#define ZPTEST_CPUFEAT_H

#include <stdint.h>

enum zptest_vec_level {
	ZPTEST_VEC_SSE = 1,    /* xmm0-15 */
	ZPTEST_VEC_AVX = 2,    /* + upper halves of ymm0-15 */
	ZPTEST_VEC_AVX512 = 3, /* + upper halves of zmm0-15, zmm16-31, k0-7 */
};

static inline void zptest_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline int zptest_vec_level_detect(void)
{
	uint32_t r[4];
	uint32_t lo, hi;
	uint64_t xcr0;

	zptest_cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	zptest_cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28))) /* OSXSAVE, AVX */
		return ZPTEST_VEC_SSE;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xcr0 = ((uint64_t)hi << 32) | lo;
	if ((xcr0 & 0x6) != 0x6) /* SSE and AVX state enabled by the OS */
		return ZPTEST_VEC_SSE;
	if (max_leaf < 7)
		return ZPTEST_VEC_AVX;
	zptest_cpuid(7, 0, r);
	if ((r[1] & (1u << 16)) && (xcr0 & 0xe6) == 0xe6) /* AVX512F, opmask+ZMM_Hi256+Hi16_ZMM */
		return ZPTEST_VEC_AVX512;
	return ZPTEST_VEC_AVX;
}

#endif /* ZPTEST_CPUFEAT_H */
