/*
 * newcode.c — probe for DESIGN.md §3 "coverage": code that becomes executable after the
 * loader's start-up is rewritten before it runs (issue 6).
 *
 * System call 499 is unknown to the kernel (-ENOSYS natively); the test hook
 * (tests/hooks/testhook_rs.c) answers it with a per-process counter 1, 2, 3, ... So a
 * hooked run proves each call reached the hook exactly once: the probe reads the counter
 * from its own (start-up rewritten) text, makes n calls through the new code, and each
 * must return the next value; native runs must see -ENOSYS every time.
 *
 * Cases (argv[1]):
 *  jit            mmap RW, write `mov $499,%eax; syscall; ret` plus data bytes that look
 *                 like syscall/sysenter behind a movabs, mprotect RX, call; the data must
 *                 be unchanged.
 *  mprotect       the same code written into a page of the probe's own .data (a file
 *                 mapping without executable sections), then mprotect RX.
 *  dlopen LIB     dlopen LIB after start-up and call its nc_count; its non-sites (an
 *                 immediate `mov $0x50f,%eax` and data bytes in .text) must be unchanged.
 *  clone          a thread made by a raw clone(CLONE_VM|...) with a new stack and no
 *                 CLONE_SETTLS makes a JIT page with inline mmap/mprotect and calls it.
 *  mremap LIB     code moved by mremap after it was rewritten: a JIT page (call shape)
 *                 and the page of LIB's text holding nc_count (jump shape), each called
 *                 at its new address; the library's page is then moved back and called.
 *  fork LIB LIB2  the parent opens and closes LIB; a fork child (Go cannot run there)
 *                 opens LIB again: its sites come from the loader's file table, applied in
 *                 C. It then opens LIB2, never seen before: left unrewritten (counted in
 *                 ZPOLINE_STATS); with PROBE_SUD_NET=1 the SUD net serves its calls (each
 *                 reaches the hook once), else they reach the kernel (-ENOSYS).
 */
#include "probe.h"

#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

static int hooked;

/* System call 499 from the probe's own text. */
static long count_here(void)
{
	long r;
	__asm__ volatile("mov $499, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

/* Calls fn n times: hooked, each must reach the hook exactly once; native, -ENOSYS. */
static void check_count(const char *what, long (*fn)(void), int n, int want_hooked)
{
	if (!want_hooked) {
		for (int i = 0; i < n; i++) {
			long r = fn();
			if (r != -ENOSYS)
				fail("%s: call %d returned %ld, want -ENOSYS (not rewritten)", what, i, r);
		}
		return;
	}
	long base = count_here();
	for (int i = 0; i < n; i++) {
		long r = fn();
		if (r != base + 1 + i)
			fail("%s: call %d returned %ld, want %ld (the hook must see each call exactly once)",
			     what, i, r, base + 1 + i);
	}
	long after = count_here();
	if (after != base + n + 1)
		fail("%s: the counter is %ld after %d calls from %ld", what, after, n, base);
}

/* mov $499,%eax; syscall; ret; then data: ret; movabs $<0f 05 0f 34 0f 05 90 90>,%rax; ret */
static const unsigned char jit_code[] = {0xb8, 0xf3, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xc3};
static const unsigned char jit_data[] = {0xc3, 0x48, 0xb8, 0x0f, 0x05, 0x0f, 0x34,
					 0x0f, 0x05, 0x90, 0x90, 0xc3};

static void fill(unsigned char *page)
{
	memcpy(page, jit_code, sizeof jit_code);
	memcpy(page + sizeof jit_code, jit_data, sizeof jit_data);
}

static void check_data(const char *what, const unsigned char *at, const unsigned char *want, size_t n)
{
	if (memcmp(at, want, n) != 0)
		fail("%s: bytes that only look like syscall/sysenter were changed", what);
}

static void case_jit(void)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("jit: mmap: %s", strerror(errno));
	fill(p);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		fail("jit: mprotect: %s", strerror(errno));
	check_count("jit", (long (*)(void))p, 100, hooked);
	check_data("jit", p + sizeof jit_code, jit_data, sizeof jit_data);
	munmap(p, 4096);
	ok("jit");
}

static unsigned char data_page[4096] __attribute__((aligned(4096))) = {1};

static void case_mprotect(void)
{
	fill(data_page);
	if (mprotect(data_page, 4096, PROT_READ | PROT_EXEC) != 0)
		fail("mprotect: %s", strerror(errno));
	check_count("mprotect", (long (*)(void))data_page, 100, hooked);
	check_data("mprotect", data_page + sizeof jit_code, jit_data, sizeof jit_data);
	ok("mprotect");
}

static void *open_lib(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail("dlopen %s: %s", path, dlerror());
	return h;
}

static void *sym(void *h, const char *name)
{
	void *s = dlsym(h, name);
	if (!s)
		fail("dlsym %s: %s", name, dlerror());
	return s;
}

static void check_lib_nonsites(const char *what, void *h)
{
	static const unsigned char imm[] = {0xb8, 0x0f, 0x05, 0x00, 0x00};
	const unsigned char *f = sym(h, "nc_imm");
	if (!memmem(f, 32, imm, sizeof imm))
		fail("%s: nc_imm's `mov $0x50f,%%eax` was changed", what);
	if (((long (*)(void))f)() != 0x50f)
		fail("%s: nc_imm does not return 0x50f", what);
	check_data(what, sym(h, "nc_data"), jit_data, sizeof jit_data);
}

static void case_dlopen(const char *lib)
{
	void *h = open_lib(lib);
	check_count("dlopen", (long (*)(void))sym(h, "nc_count"), 100, hooked);
	check_lib_nonsites("dlopen", h);
	ok("dlopen");
}

/* ---- raw clone ---- */

static long raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static volatile int clone_result = -1; /* 0 ok, else a code; the child writes it */
static volatile int clone_done;
static char clone_msg[200];

/* The child of a raw clone: no libc that touches TLS (it shares the parent's %fs). */
static int clone_child(void *arg)
{
	(void)arg;
	long p = raw6(__NR_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int res = 0;
	if (p < 0 && p > -4096) {
		res = 1;
	} else {
		unsigned char *c = (unsigned char *)p;
		for (size_t i = 0; i < sizeof jit_code; i++)
			c[i] = jit_code[i];
		if (raw6(__NR_mprotect, p, 4096, PROT_READ | PROT_EXEC, 0, 0, 0) != 0) {
			res = 2;
		} else {
			long base = count_here();
			for (int i = 0; i < 100 && !res; i++) {
				long r = ((long (*)(void))c)();
				long want = hooked ? base + 1 + i : -ENOSYS;
				if (r != want) {
					res = 3;
					snprintf(clone_msg, sizeof clone_msg, "call %d returned %ld, want %ld", i, r, want);
				}
			}
		}
	}
	clone_result = res;
	__atomic_store_n(&clone_done, 1, __ATOMIC_RELEASE);
	raw6(__NR_futex, (long)&clone_done, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
	raw6(__NR_exit, 0, 0, 0, 0, 0, 0);
	return 0;
}

static void case_clone(void)
{
	size_t sz = 256 * 1024;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		fail("clone: mmap: %s", strerror(errno));
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	if (clone(clone_child, stack + sz, flags, NULL) < 0)
		fail("clone: %s", strerror(errno));
	for (int i = 0; i < 3000 && !__atomic_load_n(&clone_done, __ATOMIC_ACQUIRE); i++) {
		struct timespec ts = {0, 10000000};
		raw6(__NR_futex, (long)&clone_done, 0 /* FUTEX_WAIT */, 0, (long)&ts, 0, 0);
	}
	if (!clone_done)
		fail("clone: the child did not finish within 30 s");
	if (clone_result != 0)
		fail("clone: child failed with code %d %s", clone_result, clone_msg);
	ok("clone");
}

/* ---- mremap ---- */

/* Moves the page at p to a fresh address with mremap; returns the new address. */
static unsigned char *move_page(void *p)
{
	void *to = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		fail("mremap: mmap: %s", strerror(errno));
	void *r = mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (r == MAP_FAILED)
		fail("mremap: %s", strerror(errno));
	return r;
}

static void case_mremap(const char *lib)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mremap: mmap: %s", strerror(errno));
	fill(p);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		fail("mremap: mprotect: %s", strerror(errno));
	check_count("mremap: JIT page before the move", (long (*)(void))p, 10, hooked);
	unsigned char *q = move_page(p);
	check_count("mremap: JIT page after the move", (long (*)(void))q, 100, hooked);
	check_data("mremap", q + sizeof jit_code, jit_data, sizeof jit_data);

	void *h = open_lib(lib);
	unsigned char *f = sym(h, "nc_count");
	check_count("mremap: library before the move", (long (*)(void))f, 10, hooked);
	unsigned char *page = (unsigned char *)((uintptr_t)f & ~(uintptr_t)4095);
	unsigned char *moved = move_page(page);
	check_count("mremap: library text after the move", (long (*)(void))(moved + (f - page)), 100, hooked);
	/* Back where it was (the library's other code, its destructors, lives in that page). */
	if (mremap(moved, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, page) != page)
		fail("mremap back: %s", strerror(errno));
	check_count("mremap: library text moved back", (long (*)(void))f, 10, hooked);
	ok("mremap");
}

/* ---- fork ---- */

static void case_fork(const char *lib, const char *lib2)
{
	void *h = open_lib(lib);
	check_count("fork parent", (long (*)(void))sym(h, "nc_count"), 10, hooked);
	dlclose(h);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		void *h2 = open_lib(lib); /* mapped again: the C path, from the file table */
		check_count("fork child, known library", (long (*)(void))sym(h2, "nc_count"), 100, hooked);
		check_lib_nonsites("fork child", h2);
		void *h3 = open_lib(lib2); /* never scanned: unrewritten where Go cannot run */
		check_count("fork child, new library", (long (*)(void))sym(h3, "nc_count"), 3,
			    hooked && getenv("PROBE_SUD_NET"));
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		fail("fork: waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("fork: child %s", wait_status_str(st));
	ok("fork");
}

int main(int argc, char **argv)
{
	probe_name = "newcode";
	hooked = getenv("PROBE_HOOKED") != NULL;
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "jit"))
		case_jit();
	else if (!strcmp(c, "mprotect"))
		case_mprotect();
	else if (!strcmp(c, "dlopen") && argc > 2)
		case_dlopen(argv[2]);
	else if (!strcmp(c, "clone"))
		case_clone();
	else if (!strcmp(c, "mremap") && argc > 2)
		case_mremap(argv[2]);
	else if (!strcmp(c, "fork") && argc > 3)
		case_fork(argv[2], argv[3]);
	else
		fail("usage: newcode jit|mprotect|clone|dlopen LIB|mremap LIB|fork LIB LIB2");
	return 0;
}
