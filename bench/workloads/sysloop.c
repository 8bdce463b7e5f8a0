/*
 * sysloop.c — timed system-call loops for zpbench (build/bench/sysloop).
 *
 * Usage:
 *   sysloop check            print "page0=<0|1> getppid=<n> pid=<n> fn:wrap=<address>
 *                            fn:inline:NR=<address>..." and exit
 *   sysloop OP@N [OP@N ...]  run each loop: N/10 untimed warm-up calls, then N timed calls
 *                            in chunks of C = min(1000, N/20) calls; print one line per
 *                            loop: "OP N <total ns> <last result> <median chunk ns/call>"
 *
 * The median over chunks is what zpbench reports by default: a chunk during which another
 * process ran on the CPU is an outlier, and the median ignores it, while the mean over the
 * whole loop (total/N) counts it.
 *
 * Loops (OP):
 *   inline:NR     an inline `mov $NR,%eax; syscall` (the 7-byte shape the loader rewrites
 *                 into a jump stub); NR is one of 0 3 39 110 177 236 423 511
 *   wrap:NR       glibc's syscall(NR, ...) wrapper, whose `syscall` takes the number from a
 *                 register (the loader rewrites it into `callq *%rax` through page 0)
 *   libc:getpid   glibc's getpid() wrapper (mov $39,%eax; syscall inside libc)
 *   libc:getppid  glibc's getppid() wrapper
 *
 * Every call gets the arguments (-1, buf, 0): read(-1) and close(-1) fail with EBADF,
 * getpid/getppid ignore them, and unassigned numbers fail with ENOSYS. The result is the
 * raw kernel convention (-errno); for wrap: and libc: it is rebuilt from errno.
 * Time is CLOCK_MONOTONIC (vDSO, no system call). "page0" says whether something is
 * mapped at address 0, i.e. whether the loader's trampoline is present; the fn: words
 * are the addresses of glibc's syscall() and of each inline loop, so that zpbench can
 * find, in the loader's ZPOLINE_DEBUG report, how the `syscall` inside each was rewritten.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char sysloop_buf[1];

/* One loop over n calls; returns the last call's result. */
typedef long (*sysloop_fn)(long n);

/*
 * SYSLOOP_INLINE(NR) defines sysloop_inline_NR, a loop around the exact instruction pair
 * `mov $NR,%eax; syscall` (b8 imm32 0f 05), with rdi/rsi/rdx set by the constraints.
 */
#define SYSLOOP_INLINE(NR)                                                                 \
	static long sysloop_inline_##NR(long n)                                            \
	{                                                                                  \
		long ret = 0;                                                              \
		for (long i = 0; i < n; i++) {                                             \
			__asm__ volatile("mov %[nr], %%eax\n\tsyscall"                      \
					 : "=a"(ret)                                       \
					 : [nr] "i"(NR), "D"(-1L), "S"(sysloop_buf), "d"(0L) \
					 : "rcx", "r11", "memory");                        \
		}                                                                          \
		return ret;                                                                \
	}

SYSLOOP_INLINE(0)
SYSLOOP_INLINE(3)
SYSLOOP_INLINE(39)
SYSLOOP_INLINE(110)
SYSLOOP_INLINE(177)
SYSLOOP_INLINE(236)
SYSLOOP_INLINE(423)
SYSLOOP_INLINE(511)

/* The inline loops by number. */
static const struct {
	long nr;
	sysloop_fn fn;
} sysloop_inline[] = {
	{0, sysloop_inline_0},     {3, sysloop_inline_3},     {39, sysloop_inline_39},
	{110, sysloop_inline_110}, {177, sysloop_inline_177}, {236, sysloop_inline_236},
	{423, sysloop_inline_423}, {511, sysloop_inline_511},
};

/* The number used by the current wrap: loop (a global, so the compiler cannot fold it). */
static volatile long sysloop_wrap_nr;

static long sysloop_wrap(long n)
{
	long nr = sysloop_wrap_nr, ret = 0;
	for (long i = 0; i < n; i++)
		ret = syscall(nr, -1L, sysloop_buf, 0L);
	return ret < 0 ? -errno : ret;
}

static long sysloop_libc_getpid(long n)
{
	long ret = 0;
	for (long i = 0; i < n; i++)
		ret = getpid();
	return ret;
}

static long sysloop_libc_getppid(long n)
{
	long ret = 0;
	for (long i = 0; i < n; i++)
		ret = getppid();
	return ret;
}

/* sysloop_lookup returns the loop for op, or NULL. */
static sysloop_fn sysloop_lookup(const char *op)
{
	char *end;

	if (strcmp(op, "libc:getpid") == 0)
		return sysloop_libc_getpid;
	if (strcmp(op, "libc:getppid") == 0)
		return sysloop_libc_getppid;
	if (strncmp(op, "inline:", 7) == 0) {
		long nr = strtol(op + 7, &end, 10);
		for (size_t i = 0; *end == '\0' && i < sizeof sysloop_inline / sizeof sysloop_inline[0]; i++)
			if (sysloop_inline[i].nr == nr)
				return sysloop_inline[i].fn;
		return NULL;
	}
	if (strncmp(op, "wrap:", 5) == 0) {
		long nr = strtol(op + 5, &end, 10);
		if (*end != '\0' || end == op + 5)
			return NULL;
		sysloop_wrap_nr = nr;
		return sysloop_wrap;
	}
	return NULL;
}

static int sysloop_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static long long sysloop_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* sysloop_page0 reports whether /proc/self/maps has a mapping starting at address 0. */
static int sysloop_page0(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "00000000-", 9) == 0)
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0) {
		long (*wrap)(long, ...) = syscall;
		printf("page0=%d getppid=%ld pid=%ld fn:wrap=%p", sysloop_page0(), (long)getppid(),
		       (long)getpid(), (void *)wrap);
		for (size_t i = 0; i < sizeof sysloop_inline / sizeof sysloop_inline[0]; i++)
			printf(" fn:inline:%ld=%p", sysloop_inline[i].nr, (void *)sysloop_inline[i].fn);
		printf("\n");
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: sysloop check | sysloop OP@N...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char op[64];
		const char *at = strchr(argv[i], '@');
		long n = at ? atol(at + 1) : 0;
		size_t len = at ? (size_t)(at - argv[i]) : 0;
		sysloop_fn fn;

		if (at == NULL || n <= 0 || len >= sizeof op) {
			fprintf(stderr, "sysloop: bad loop %s (want OP@N)\n", argv[i]);
			return 2;
		}
		memcpy(op, argv[i], len);
		op[len] = '\0';
		fn = sysloop_lookup(op);
		if (fn == NULL) {
			fprintf(stderr, "sysloop: unknown loop %s\n", op);
			return 2;
		}
		fn(n / 10 > 100 ? n / 10 : 100);
		long chunk = n / 20 < 1000 ? n / 20 : 1000;
		if (chunk < 1)
			chunk = 1;
		long nchunks = n / chunk;
		long long *per = malloc(nchunks * sizeof *per);
		if (per == NULL) {
			fprintf(stderr, "sysloop: out of memory\n");
			return 1;
		}
		long ret = 0;
		long long t0 = sysloop_now_ns(), prev = t0;
		for (long c = 0; c < nchunks; c++) {
			ret = fn(chunk);
			long long now = sysloop_now_ns();
			per[c] = now - prev;
			prev = now;
		}
		long long t1 = sysloop_now_ns();
		qsort(per, nchunks, sizeof *per, sysloop_cmp);
		double med = nchunks % 2 ? (double)per[nchunks / 2]
					 : ((double)per[nchunks / 2 - 1] + per[nchunks / 2]) / 2;
		printf("%s %ld %lld %ld %.3f\n", op, nchunks * chunk, t1 - t0, ret, med / chunk);
		free(per);
	}
	return 0;
}
