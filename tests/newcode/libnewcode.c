/*
 * libnewcode.c — a library that tests/probes/newcode.c opens with dlopen after start-up
 * (build/tests/libnewcode.so, and libnewcode_b.so built with -DNC_B: a second file that
 * the loader has never scanned). Its system calls are inline `syscall` instructions in
 * its own text, so only a rewrite of this library routes them to the hook.
 *
 *  nc_count   system call 499, unknown to the kernel (-ENOSYS natively); the test hook
 *             counts it, so a caller sees each call reach the hook exactly once;
 *  nc_imm     holds `mov $0x50f,%eax` (b8 0f 05 00 00): a syscall byte pair inside an
 *             immediate, which must never be rewritten;
 *  nc_data    bytes in .text that look like syscall/sysenter, behind a movabs prefix.
 */
long nc_count(void)
{
	long r;
	__asm__ volatile("mov $499, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

long nc_imm(void)
{
	long r;
	__asm__ volatile("mov $0x50f, %%eax" : "=a"(r));
	return r;
}

#ifdef NC_B
long nc_which(void) { return 'b'; }
#else
long nc_which(void) { return 'a'; }
#endif

__asm__(".text\n"
	".globl nc_data\n"
	".type nc_data, @object\n"
	"nc_data: .byte 0xc3, 0x48, 0xb8, 0x0f, 0x05, 0x0f, 0x34, 0x0f, 0x05, 0x90, 0x90, 0xc3\n"
	".size nc_data, 12\n");
