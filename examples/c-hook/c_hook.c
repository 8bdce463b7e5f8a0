/*
 * c_hook.c — an example hook library in C for the zpoline-rs ABI (include/zpoline.h).
 *
 * What it does: counts every system call by number, makes getppid return 31337 without
 * entering the kernel, performs every other call unchanged with the loader's clone-safe
 * api->syscall, and at exit_group writes one line to stderr:
 *
 *	c-hook: 93 calls; most frequent: nr 257 x24, nr 3 x17, nr 0 x12
 *
 * Build (what `make` does) and run:
 *
 *	gcc -O2 -fPIC -shared -Wall -Wextra -Werror -mgeneral-regs-only -ffreestanding \
 *	    -fno-stack-protector -fvisibility=hidden -nostdlib -Wl,-z,defs -Iinclude \
 *	    -o build/examples/libzpoline_c_hook.so examples/c-hook/c_hook.c
 *	ZPOLINE_HOOK=$PWD/build/examples/libzpoline_c_hook.so \
 *	    LD_PRELOAD=$PWD/build/libzpoline.so python3 -c 'import os; print(os.getppid())'
 *	31337
 *	c-hook: ... calls; ...
 *
 * Why C, and the context it runs in: this is hook code. It runs on the loader's per-thread
 * hook stack, in every thread of the program at once, in signal handlers (one level
 * nested), in fork children (where only the forking thread exists) and in vfork children
 * (which share the parent's memory). So it uses no libc at all (-nostdlib -Wl,-z,defs
 * turn any libc call into a link error): no stdio, no malloc, no locks, no errno; the
 * counters are atomics; the summary is formatted into a stack buffer and written with
 * one raw write(2) through api->syscall6.
 *
 * It declares ZPOLINE_HOOK_VECTOR_FREE (the loader then skips saving the vector state
 * around it, ≈60 ns on AVX-512 machines): -mgeneral-regs-only makes GCC refuse any
 * floating-point or SIMD code, -ffreestanding keeps it from calling memset/strlen,
 * and `objdump -d` of the library shows no %xmm/%ymm/%zmm or x87 instruction
 * (tests/examples_test.go checks that). It declares ZPOLINE_HOOK_CLONE_SAFE because it
 * performs every call, the clone family included, with api->syscall.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "zpoline.h"

#define MARKER_PPID 31337
#define NUMBERS 512 /* system call numbers counted one by one; the rest share one slot */
#define TOP 3       /* numbers named in the summary */

static const struct zpoline_api *api;
static uint64_t counts[NUMBERS + 1]; /* counts[NUMBERS]: numbers < 0 or >= NUMBERS */

static int64_t c_hook(struct zpoline_regs *r)
{
	uint64_t slot = (uint64_t)r->rax < NUMBERS ? (uint64_t)r->rax : NUMBERS;
	__atomic_fetch_add(&counts[slot], 1, __ATOMIC_RELAXED);
	if (r->rax == SYS_getppid)
		return MARKER_PPID; /* emulated: the kernel never sees the call */
	return api->syscall(r); /* the real call; clone-safe */
}

/* Appends s to p. */
static char *put(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* Appends v in decimal to p. */
static char *put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* At exit_group, in the exiting process (possibly a fork or vfork child): the summary. */
static void c_hook_exit(int status)
{
	(void)status;
	uint64_t snap[NUMBERS + 1], total = 0;
	for (int i = 0; i <= NUMBERS; i++) {
		snap[i] = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
		total += snap[i];
	}
	char buf[160], *p = buf;
	p = put(p, "c-hook: ");
	p = put_u(p, total);
	p = put(p, " calls; most frequent:");
	for (int k = 0; k < TOP; k++) {
		int best = -1;
		for (int i = 0; i < NUMBERS; i++)
			if (snap[i] && (best < 0 || snap[i] > snap[best]))
				best = i;
		if (best < 0)
			break;
		p = put(p, k ? ", nr " : " nr ");
		p = put_u(p, (uint64_t)best);
		p = put(p, " x");
		p = put_u(p, snap[best]);
		snap[best] = 0;
	}
	*p++ = '\n';
	api->syscall6(SYS_write, 2, (long)buf, p - buf, 0, 0, 0);
}

__attribute__((visibility("default"))) int zpoline_hook_attach(const struct zpoline_api *a,
							       struct zpoline_hook_desc *d)
{
	if (a->abi_version < 1 || a->size < sizeof *a ||
	    d->size < offsetof(struct zpoline_hook_desc, on_exit) + sizeof d->on_exit)
		return -EINVAL; /* refuse: the loader falls back to its next stage */
	api = a;
	d->flags = ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE;
	d->on_exit = c_hook_exit;
	return 0;
}

__attribute__((visibility("default"))) zpoline_hook_fn zpoline_hook_init(void)
{
	return c_hook;
}
