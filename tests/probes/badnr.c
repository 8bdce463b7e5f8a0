/*
 * badnr.c — probe for DESIGN.md §3 "bad numbers": system call numbers that are not system
 * calls must behave exactly as the kernel makes them behave. The original zpoline jumps off
 * the trampoline page for numbers >= 512 or < 0 and crashes.
 *
 * Prints one line per case (the Go test compares native and hooked output line by line) and
 * asserts -1/ENOSYS (or -ENOSYS raw) for the numbers no kernel implements: -1, 512 (x32
 * range without the x32 bit), 600, 1000, 0x7fffffff. Prints without asserting:
 *  - 0x40000000|39 (the x32 bit: ENOSYS unless the kernel runs x32 binaries);
 *  - 0x1_0000_0027 and 0xffffffff_00000027: the kernel reads the number as a 32-bit int
 *    (do_syscall_64(regs, int nr)), so natively these ARE getpid;
 *  - rax = 0xffffffff (mov $-1,%eax): the int -1.
 * Both rewritten shapes are used: `mov $imm32,%eax; syscall` and `mov %reg,%rax; syscall`.
 */
#include "probe.h"

static long mypid;

static void describe(char *buf, size_t n, long r, int via_libc, int err)
{
	if (via_libc && r == -1)
		snprintf(buf, n, "-1 errno=%s", strerrorname_np(err) ? strerrorname_np(err) : "?");
	else if (!via_libc && r < 0 && r > -4096)
		snprintf(buf, n, "-%s", strerrorname_np((int)-r) ? strerrorname_np((int)-r) : "?");
	else if (r == mypid)
		snprintf(buf, n, "getpid");
	else
		snprintf(buf, n, "%ld", r);
}

static void show(const char *what, long r, int via_libc, int err, int must_enosys)
{
	char res[64];
	describe(res, sizeof res, r, via_libc, err);
	printf("badnr: %s = %s\n", what, res);
	if (must_enosys && !(via_libc ? (r == -1 && err == ENOSYS) : r == -ENOSYS))
		fail("%s = %s, want ENOSYS", what, res);
}

/* Names the case on stderr before trying it, so a crash shows which number caused it. */
static void trying(const char *what)
{
	char buf[128];
	int n = snprintf(buf, sizeof buf, "badnr: trying %s\n", what);
	probe_write_all(2, buf, (size_t)n);
}

static void libc_case(const char *what, long nr, int must)
{
	trying(what);
	errno = 0;
	long r = syscall(nr, 0, 0, 0, 0, 0, 0);
	show(what, r, 1, errno, must);
}

static void raw_case(const char *what, long nr, int must)
{
	trying(what);
	show(what, sc_raw6(nr, -1, 0, 0, 0, 0, 0), 0, 0, must);
}

#define IMM_CASE(nrimm, must)                                                                  \
	do {                                                                                   \
		long r;                                                                        \
		trying("imm(mov $" #nrimm ",%eax)");                                           \
		__asm__ volatile("mov $" #nrimm ", %%eax\n\tsyscall"                           \
				 : "=a"(r)                                                     \
				 : "D"(-1L)                                                    \
				 : "rcx", "r11", "memory");                                    \
		show("imm(mov $" #nrimm ",%eax)", r, 0, 0, must);                              \
	} while (0)

int main(int argc, char **argv)
{
	probe_init("badnr", argc, argv);
	mypid = getpid();

	libc_case("syscall(-1)", -1, 1);
	libc_case("syscall(512)", 512, 1);
	libc_case("syscall(600)", 600, 1);
	libc_case("syscall(1000)", 1000, 1);
	libc_case("syscall(0x7fffffff)", 0x7fffffff, 1);
	libc_case("syscall(0x40000000|SYS_getpid)", 0x40000000 | SYS_getpid, 0);
	libc_case("syscall(0x100000000|SYS_getpid)", 0x100000000L | SYS_getpid, 0);

	raw_case("raw(-1)", -1, 1);
	raw_case("raw(512)", 512, 1);
	raw_case("raw(600)", 600, 1);
	raw_case("raw(1000)", 1000, 1);
	raw_case("raw(0x7fffffff)", 0x7fffffff, 1);
	raw_case("raw(0x40000000|39)", 0x40000000 | 39, 0);
	raw_case("raw(0x100000027)", 0x100000027L, 0);
	raw_case("raw(0xffffffff00000027)", (long)0xffffffff00000027ul, 0);
	raw_case("raw(0xffffffff)", 0xffffffffL, 0);

	IMM_CASE(512, 1);
	IMM_CASE(600, 1);
	IMM_CASE(0x7fffffff, 1);
	IMM_CASE(0x40000027, 0);
	IMM_CASE(-1, 0);

	if (getpid() != mypid)
		fail("getpid changed");
	require_ppid("after the bad numbers", expected_ppid());
	ok("process lives on");
	return 0;
}
