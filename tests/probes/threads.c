/*
 * threads.c — probe for DESIGN.md §3 "threads" (and the basic coverage every other row
 * builds on): system calls are hooked from every place a program makes them.
 *
 * Asserts that getppid returns the expected value (4242 hooked, the real parent natively)
 *  1. from the main executable's own inline `syscall` in both rewritten shapes
 *     (`mov $110,%eax; syscall` and `mov %reg,%rax; syscall`),
 *  2. through libc's wrappers getppid() and syscall(SYS_getppid),
 *  3. from a second pthread (created with glibc's clone3 path),
 *  4. from 64 threads x 20,000 calls each, all started together on a barrier, every call
 *     seeing the expected value (no lost, crossed or corrupted per-thread hook state),
 * and that the main thread goes on working after all threads were joined.
 */
#include "probe.h"

#include <pthread.h>

#define NTHREADS 64
#define NCALLS 20000

static long want;
static pthread_barrier_t start_barrier;

struct worker {
	pthread_t tid;
	long mismatches;
	long first_bad;
	int first_path;
	long calls;
};
static struct worker workers[NTHREADS];

static void *second_thread(void *arg)
{
	(void)arg;
	require_ppid("second pthread", want);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&start_barrier);
	for (long i = 0; i < NCALLS; i++) {
		long v;
		int path = (int)(i % 4);
		switch (path) {
		case 0: v = sc_getppid_imm(); break;
		case 1: v = sc_getppid_reg(); break;
		case 2: v = getppid(); break;
		default: v = syscall(SYS_getppid); break;
		}
		w->calls++;
		if (v != want) {
			if (w->mismatches++ == 0) {
				w->first_bad = v;
				w->first_path = path + 1;
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int err;

	probe_init("threads", argc, argv);
	want = expected_ppid();

	require_ppid("main thread", want);
	ok("main executable inline syscall and libc wrappers");

	if ((err = pthread_create(&t, NULL, second_thread, NULL)) != 0)
		fail("pthread_create: %s", strerror(err));
	if ((err = pthread_join(t, NULL)) != 0)
		fail("pthread_join: %s", strerror(err));
	ok("second pthread");

	pthread_barrier_init(&start_barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		if ((err = pthread_create(&workers[i].tid, NULL, worker_main, &workers[i])) != 0)
			fail("pthread_create worker %d: %s", i, strerror(err));
	for (int i = 0; i < NTHREADS; i++)
		if ((err = pthread_join(workers[i].tid, NULL)) != 0)
			fail("pthread_join worker %d: %s", i, strerror(err));
	for (int i = 0; i < NTHREADS; i++) {
		struct worker *w = &workers[i];
		if (w->calls != NCALLS)
			fail("worker %d made %ld calls, want %d", i, w->calls, NCALLS);
		if (w->mismatches)
			fail("worker %d: %ld of %d getppid calls returned a wrong value (first: %ld "
			     "via %s, want %ld)",
			     i, w->mismatches, NCALLS, w->first_bad, ppid_path_name(w->first_path), want);
	}
	ok("64 threads x 20000 getppid");

	require_ppid("main thread after join", want);
	ok("main thread lives on");
	return 0;
}
