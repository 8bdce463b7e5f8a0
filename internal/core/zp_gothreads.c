/*
 * zp_gothreads.c — keeping Go hooks off the Go runtime's own threads, and giving the Go
 * runtime the bounds of the hook stack a callback runs on.
 *
 * Why C: these are link-time wrappers (-Wl,--wrap) of libc functions that runtime/cgo
 * calls from C: pthread_create (every thread of the Go runtime is made there) and
 * pthread_getattr_np (what a Go callback asks when it runs on a stack it has not seen);
 * and zp_go_signal_table_fix, which must run before the Go runtime starts.
 *
 * Context: ordinary libc context (never the hook path itself): may call libc.
 *
 * Marking a runtime thread happens twice, because glibc's thread start makes system
 * calls (rseq, set_robust_list, rt_sigprocmask) before the start routine runs:
 *  - the clone path gives the child block no_go when the parent is inside this wrapper
 *    (zp_clone copies making_go_thread), so those first calls already bypass Go;
 *  - the start routine wrapper marks the thread again, which covers threads made before
 *    the process was rewritten (their clone did not go through the loader).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zp_core.h"

int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			  void *arg);
int __real_pthread_getattr_np(pthread_t th, pthread_attr_t *attr);

struct zp_go_start {
	void *(*start)(void *);
	void *arg;
};


static void *zp_go_thread_start(void *p)
{
	struct zp_go_start s = *(struct zp_go_start *)p;
	free(p);
	/*
	 * A thread inherits its creator's %gs base. If its clone did not go through the
	 * loader (made before the site was rewritten, while the loader starts), the block
	 * it sees is its creator's: sharing it would let two threads use one hook stack.
	 */
	struct zp_block *b = zp_self();
	if (!b || b->owner != (uint64_t)syscall(SYS_gettid)) {
		b = zp_block_new();
		if (b)
			zp_block_install(b);
	}
	if (b)
		b->no_go = ZP_BYPASS_GO_RUNTIME;
	return s.start(s.arg);
}

/*
 * The Go runtime's threads start with every asynchronous signal blocked: a signal sent
 * to the process (a timer's SIGALRM, SIGINT, SIGCHLD) must reach one of the program's
 * threads, which have the program's signal stacks and masks, never a runtime thread.
 * The Go runtime keeps the mask its threads were created with (initSigmask) for every
 * signal it does not handle itself. Synchronous signals, and SIGURG and SIGPROF that the
 * runtime sends to its own threads, stay unblocked.
 */
static void zp_runtime_thread_mask(sigset_t *set)
{
	sigfillset(set);
	static const int keep[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGURG, SIGPROF};
	for (unsigned i = 0; i < sizeof keep / sizeof keep[0]; i++)
		sigdelset(set, keep[i]);
}

int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			  void *arg)
{
	struct zp_go_start *s = malloc(sizeof *s);
	if (!s)
		return 11; /* EAGAIN */
	s->start = start;
	s->arg = arg;
	struct zp_block *b = zp_self();
	if (b)
		b->making_go_thread = 1;
	sigset_t block, old;
	zp_runtime_thread_mask(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int r = __real_pthread_create(th, attr, zp_go_thread_start, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (b)
		b->making_go_thread = 0;
	if (r != 0)
		free(s);
	return r;
}

/*
 * A Go callback on a hook stack asks for the thread's stack bounds: report the hook
 * stack, so the runtime records it once instead of asking on every callback.
 */
int __wrap_pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	struct zp_block *b = zp_self();
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	if (b && pthread_equal(th, pthread_self()) && sp >= b->map_base + 4096 && sp < (uint64_t)b) {
		/* Not the real one: for the main thread it reads /proc/self/maps (~27 us). */
		pthread_attr_init(attr);
		pthread_attr_setstack(attr, (void *)(b->map_base + 4096), ZP_HOOK_STACK_SIZE);
		return 0;
	}
	return __real_pthread_getattr_np(th, attr);
}

/*
 * The Go runtime unblocks, on every thread where Go runs, the signals its table marks
 * _SigUnblock (runtime.minitSignalMask). Two of them are asynchronous: SIGCHLD and
 * SIGSTKFLT. A SIGCHLD sent to the process would then be delivered to a runtime thread
 * whenever the program's own threads block it: bash blocks SIGCHLD around fork and
 * reaps in its handler, so on a runtime thread the handler took the child and the main
 * thread's wait4 found ECHILD (`(exit 3); echo $?` printed 0 in ~5% of runs).
 *
 * No Go API changes that table, so zp_go_signal_table_fix clears the flag for those two
 * in this image's copy (runtime.sigtable) before the runtime starts: the runtime's
 * threads then keep them blocked from creation (zp_runtime_thread_mask), and a Go hook
 * callback leaves the program thread's mask as the program set it. The table is found
 * by content, not by symbol, so a stripped loader (-ldflags=-s) is fixed too: a run of
 * 24-byte entries {int32 flags; string name} in this image's writable segment whose
 * names are Go's signal descriptions, checked before anything is written.
 */
struct zp_go_sigtab {
	int32_t flags;
	int32_t pad;
	const char *name;
	int64_t len;
};

#define ZP_GO_SIG_UNBLOCK 0x80 /* runtime._SigUnblock */
#define ZP_GO_SIGTAB_MIN 18    /* entries up to SIGCHLD */

static uint64_t zp_image_lo, zp_image_hi;

static int zp_go_sigtab_name(const struct zp_go_sigtab *e, const char *prefix)
{
	uint64_t n = strlen(prefix), p = (uint64_t)e->name;
	if (p < zp_image_lo || p >= zp_image_hi || n > zp_image_hi - p)
		return 0;
	return e->len >= (int64_t)n && e->len < 256 && memcmp(e->name, prefix, n) == 0;
}

static int zp_go_sigtab_is(const struct zp_go_sigtab *t)
{
	return zp_go_sigtab_name(&t[0], "SIGNONE:") && zp_go_sigtab_name(&t[1], "SIGHUP:") &&
	       zp_go_sigtab_name(&t[2], "SIGINT:") && zp_go_sigtab_name(&t[16], "SIGSTKFLT:") &&
	       zp_go_sigtab_name(&t[17], "SIGCHLD:");
}

int zp_go_signal_table_fix(void)
{
	Dl_info info;
	struct link_map *lm;
	if (!dladdr1((void *)zp_go_signal_table_fix, &info, (void **)&lm, RTLD_DL_LINKMAP))
		return -1;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)info.dli_fbase;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	/* The image's bounds (a name must point into it), and the end of its RELRO part:
	   the table is written by the runtime, so it lies after it. */
	uint64_t relro_end = 0;
	zp_image_lo = UINT64_MAX;
	zp_image_hi = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		uint64_t lo = lm->l_addr + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
		if (ph[i].p_type == PT_GNU_RELRO)
			relro_end = hi;
		if (ph[i].p_type != PT_LOAD)
			continue;
		zp_image_lo = lo < zp_image_lo ? lo : zp_image_lo;
		zp_image_hi = hi > zp_image_hi ? hi : zp_image_hi;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W))
			continue;
		uint64_t lo = lm->l_addr + ph[i].p_vaddr;
		uint64_t hi = lo + ph[i].p_filesz; /* initialised data */
		lo = ((lo > relro_end ? lo : relro_end) + 7) & ~7ull;
		for (uint64_t p = lo; p + ZP_GO_SIGTAB_MIN * sizeof(struct zp_go_sigtab) <= hi; p += 8) {
			struct zp_go_sigtab *t = (struct zp_go_sigtab *)p;
			/* Cheap tests first: SIGNONE's name is 16 bytes, SIGCHLD's flags are
			   _SigNotify|_SigUnblock|_SigIgn. */
			if (t[0].flags != 0 || t[0].len != 16 || t[17].flags != 0x181 || !zp_go_sigtab_is(t))
				continue;
			t[16].flags &= ~ZP_GO_SIG_UNBLOCK;
			t[17].flags &= ~ZP_GO_SIG_UNBLOCK;
			return 0;
		}
	}
	return -1;
}
