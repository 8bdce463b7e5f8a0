/*
 * nullcall.c — probe for DESIGN.md §3 "NULL calls": a call through a NULL function pointer
 * lands in the loader's NOP sled at address 0. The loader must see that the return address
 * is not a rewritten site and fail loudly (one line on stderr naming zpoline, then death by
 * a signal), never run a system call and return.
 *
 * Usage: nullcall MODE, where MODE is
 *   nullcall      ((void (*)(void))0)() as C code would do it (pointer laundered so the
 *                 compiler cannot turn the call into ud2);
 *   nullcall-rax  `call *%rax` with rax = 0: byte-for-byte the same as a rewritten site
 *                 (ff d0), with rdi = -1 so a loader that takes it for read(0...) gets EBADF
 *                 and survives instead of blocking;
 *   nullcall-rdx  `call *%rdx` with rdx = 0 and rax = 39 (getpid), so a loader that only
 *                 looks at rax would perform getpid and survive.
 * The process must not print "survived". Natively each mode dies by SIGSEGV. The Go test
 * checks the signal and, under the loader, the "zpoline" line on stderr.
 */
#include "probe.h"

static void mode_c(void)
{
	void (*volatile fnp)(void) = 0;
	void (*f)(void) = fnp;
	__asm__ volatile("" : "+r"(f));
	f();
}

static void mode_rax(void)
{
	long rax = 0, rdi = -1;
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "call *%%rax\n\t"
			 "add $128, %%rsp"
			 : "+a"(rax), "+D"(rdi)
			 :
			 : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void mode_rdx(void)
{
	long rax = 39, rdx = 0;
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "call *%%rdx\n\t"
			 "add $128, %%rsp"
			 : "+a"(rax), "+d"(rdx)
			 :
			 : "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
}

int main(int argc, char **argv)
{
	probe_init("nullcall", argc, argv);
	if (argc != 2) {
		fprintf(stderr, "usage: nullcall nullcall|nullcall-rax|nullcall-rdx\n");
		return 2;
	}
	if (strcmp(argv[1], "nullcall") == 0)
		mode_c();
	else if (strcmp(argv[1], "nullcall-rax") == 0)
		mode_rax();
	else if (strcmp(argv[1], "nullcall-rdx") == 0)
		mode_rdx();
	else {
		fprintf(stderr, "nullcall: unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("nullcall: survived a call through a NULL pointer (%s)\n", argv[1]);
	return 0;
}
