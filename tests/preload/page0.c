/*
 * page0.c — preload helper (build/tests/preload/page0.so) for DESIGN.md §3 "environment":
 * page 0 is already taken when the loader starts.
 *
 * Its constructor maps one read-only page at virtual address 0 before the loader's
 * constructor runs. Order: glibc runs the constructors of LD_PRELOAD objects in REVERSE
 * list order, so the test lists this library AFTER libzpoline.so:
 *     LD_PRELOAD=build/libzpoline.so:build/tests/preload/page0.so
 * The loader must then refuse to run the program (exit 127) with one line naming the
 * cause, or run it unhooked with ZPOLINE_ALLOW_UNHOOKED=1.
 * If page 0 is already mapped when this constructor runs (the loader ran first), it maps
 * nothing (MAP_FIXED would replace the trampoline and crash the program) and prints
 * "page0-preload: page 0 already mapped"; if the mmap fails (vm.mmap_min_addr) it prints
 * "page0-preload: mmap failed: <errno>"; both on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__attribute__((constructor)) static void page0_preload_ctor(void)
{
	/* msync fails with ENOMEM when nothing is mapped at the address. */
	if (msync((void *)0, 4096, MS_ASYNC) == 0) {
		fprintf(stderr, "page0-preload: page 0 already mapped (the loader's constructor "
				"ran first?); not mapping it\n");
		return;
	}
	void *p = mmap((void *)0, 4096, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fprintf(stderr, "page0-preload: mmap failed: %s\n", strerror(errno));
	else if (p != (void *)0)
		fprintf(stderr, "page0-preload: mmap returned %p, not 0\n", p);
}
