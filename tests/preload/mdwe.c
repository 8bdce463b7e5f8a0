/*
 * mdwe.c — preload helper (build/tests/preload/mdwe.so) for DESIGN.md §3 "environment":
 * PR_SET_MDWE forbids writable-and-executable memory and gaining PROT_EXEC.
 *
 * Its constructor calls prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) before the loader's
 * constructor runs, so the loader starts in a process that already refuses W+X.
 * Order: glibc runs the constructors of LD_PRELOAD objects in REVERSE list order (the last
 * one listed initialises first), so the test lists this library AFTER libzpoline.so:
 *     LD_PRELOAD=build/libzpoline.so:build/tests/preload/mdwe.so
 * On failure it prints one line "mdwe-preload: PR_SET_MDWE failed: <errno>" on stderr and
 * lets the program run (the test then knows the kernel cannot do it). With
 * MDWE_PRELOAD_VERBOSE=1 it prints "mdwe-preload: set, page 0 free" (it ran before the
 * loader mapped its trampoline) or "mdwe-preload: set, page 0 mapped" (the loader ran
 * first), so the test can check the order of constructors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

__attribute__((constructor)) static void mdwe_preload_ctor(void)
{
	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) != 0) {
		fprintf(stderr, "mdwe-preload: PR_SET_MDWE failed: %s\n", strerror(errno));
		return;
	}
	const char *v = getenv("MDWE_PRELOAD_VERBOSE");
	if (v && strcmp(v, "1") == 0) {
		/* msync fails with ENOMEM when nothing is mapped at the address. */
		int mapped = msync((void *)0, 4096, MS_ASYNC) == 0;
		fprintf(stderr, "mdwe-preload: set, page 0 %s\n", mapped ? "mapped" : "free");
	}
}
