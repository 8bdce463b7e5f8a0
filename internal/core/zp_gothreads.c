/*
 * zp_gothreads.c — keeping Go hooks off the Go runtime's own threads, and giving the Go
 * runtime the bounds of the hook stack a callback runs on.
 *
 * Why C: these are link-time wrappers (-Wl,--wrap) of libc functions that runtime/cgo
 * calls from C: pthread_create (every thread of the Go runtime is made there) and
 * pthread_getattr_np (what a Go callback asks when it runs on a stack it has not seen).
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
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
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
