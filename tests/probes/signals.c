/*
 * signals.c — probe for DESIGN.md §3 "rt_sigreturn", "signal re-entry" and "hook stack":
 * signal handlers that make system calls, delivered while the main thread is inside or
 * between hooked system calls, on the normal stack and on a sigaltstack.
 *
 * Asserts:
 *  0. timer-user: SIGALRM at 1 kHz while the main thread runs user code only (no system
 *     call in flight): 100 handler invocations, each seeing the hooked getppid;
 *  1. timer-normal: setitimer(ITIMER_REAL) at 1 kHz for 0.5 s, SIGALRM handler with
 *     SA_RESTART on the normal stack; the handler calls getppid (all four paths) and write()s
 *     one byte to a pipe; the main thread loops getppid + a blocking read() on that pipe:
 *     the read must never fail with EINTR (SA_RESTART), every value must be the expected one,
 *     and the handler must have run at least 50 times;
 *  2. timer-altstack: the same with SA_ONSTACK; the handler must run on the sigaltstack;
 *  3. sync-altstack: 1000 x kill(self, SIGUSR2) from inline asm in both shapes, handler
 *     with SA_ONSTACK: the signal is delivered on return from the hooked kill, the handler
 *     makes hooked calls, rt_sigreturn resumes after the site; exact count checked;
 *  4. sync-nested: the same without SA_ONSTACK: the handler runs on whatever stack the
 *     loader was using when the signal arrived and re-enters the hook path from there.
 * In 1-4 most handler invocations interrupt a hooked call (the blocking read, the kill):
 * their calls are nested entries, which must still reach the loaded C hook (DESIGN.md §2:
 * only Go hooks are bypassed there), so they too must see 4242.
 * A watchdog thread (all signals blocked) ends the probe with a reason after 40 s.
 */
#include "probe.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static long want;
static int pipe_r, pipe_w;
static char *alt_lo, *alt_hi;

static volatile int phase; /* index into the counters below */
static volatile long h_calls[6], h_bad[6], h_bad_val[6], h_offstack[6];
static volatile int h_require_onstack[6];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	int p = phase;
	long got;
	char here;

	(void)sig, (void)si, (void)uc;
	if (check_ppid_paths(want, &got)) {
		h_bad[p]++;
		h_bad_val[p] = got;
	}
	if (h_require_onstack[p] && !(&here >= alt_lo && &here < alt_hi))
		h_offstack[p]++;
	if (pipe_w > 0 && write(pipe_w, "x", 1) < 0 && errno != EAGAIN)
		h_bad[p]++;
	h_calls[p]++;
	errno = saved;
}

static void install(int sig, int extra_flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | extra_flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		fail("sigaction: %s", strerror(errno));
}

static void set_timer(long usec)
{
	struct itimerval it = {{0, usec}, {0, usec}};
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		fail("setitimer: %s", strerror(errno));
}

static void check_handler(int p, const char *what, long min_calls)
{
	if (h_calls[p] < min_calls)
		fail("%s: handler ran %ld times, want >= %ld", what, h_calls[p], min_calls);
	if (h_bad[p])
		fail("%s: %ld of %ld handler invocations saw a wrong getppid (last %ld, want %ld) or a "
		     "failed write%s",
		     what, h_bad[p], h_calls[p], h_bad_val[p], want,
		     probe_hooked() ? "; calls from a handler that interrupted a hooked call must "
				      "still reach the loaded C hook (DESIGN.md §2: Go is bypassed "
				      "there, a C hook is not)"
				    : "");
	if (h_offstack[p])
		fail("%s: %ld handler invocations did not run on the sigaltstack", what, h_offstack[p]);
}

static void timer_phase(int p, const char *what, int onstack)
{
	char buf[4096];
	long main_bad = 0, main_bad_val = 0, reads = 0;

	phase = p;
	h_require_onstack[p] = onstack;
	install(SIGALRM, onstack ? SA_ONSTACK : 0);
	double start = now_s();
	set_timer(1000);
	for (;;) {
		double el = now_s() - start;
		if (el >= 0.5 && h_calls[p] >= 50)
			break;
		if (el > 30)
			fail("%s: only %ld timer signals in 30 s", what, h_calls[p]);
		for (int k = 0; k < 20; k++) {
			long got;
			if (check_ppid_paths(want, &got)) {
				main_bad++;
				main_bad_val = got;
			}
		}
		ssize_t n = read(pipe_r, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			fail("%s: read() on the pipe failed with EINTR although the handler has "
			     "SA_RESTART",
			     what);
		if (n <= 0)
			fail("%s: read() on the pipe returned %zd: %s", what, n, strerror(errno));
		reads++;
	}
	set_timer(0);
	if (main_bad)
		fail("%s: %ld getppid calls in the main thread returned a wrong value (last %ld, want "
		     "%ld)",
		     what, main_bad, main_bad_val, want);
	check_handler(p, what, 50);
	if (reads == 0)
		fail("%s: no read completed", what);
	ok(what);
}

/* The handler interrupts user code only (no system call in flight): never a nested entry. */
static void user_phase(int p, const char *what)
{
	phase = p;
	h_require_onstack[p] = 0;
	install(SIGALRM, 0);
	double start = now_s();
	set_timer(1000);
	while (h_calls[p] < 100) {
		for (volatile int i = 0; i < 1000; i++)
			;
		if (now_s() - start > 30) /* clock_gettime: vDSO, no system call */
			fail("%s: only %ld timer signals in 30 s", what, h_calls[p]);
	}
	set_timer(0);
	check_handler(p, what, 100);
	ok(what);
}

static inline long kill_imm(long pid, long sig)
{
	long r;
	__asm__ volatile("mov $62, %%eax\n\t"
			 "syscall"
			 : "=a"(r)
			 : "D"(pid), "S"(sig)
			 : "rcx", "r11", "memory");
	return r;
}

static void sync_phase(int p, const char *what, int onstack)
{
	long pid = getpid();
	phase = p;
	h_require_onstack[p] = onstack;
	install(SIGUSR2, onstack ? SA_ONSTACK : 0);
	for (int i = 0; i < 1000; i++) {
		long r = (i & 1) ? kill_imm(pid, SIGUSR2) : sc_raw6(SYS_kill, pid, SIGUSR2, 0, 0, 0, 0);
		if (r != 0)
			fail("%s: kill returned %ld", what, r);
		if (h_calls[p] != i + 1)
			fail("%s: after %d kill(self) calls the handler ran %ld times", what, i + 1,
			     h_calls[p]);
	}
	require_ppid(what, want);
	check_handler(p, what, 1000);
	ok(what);
}

static void *watchdog(void *arg)
{
	(void)arg;
	struct timespec ts = {40, 0};
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	fail("watchdog: the probe did not finish within 40 s (phase %d, handler calls %ld)", phase,
	     h_calls[phase]);
}

int main(int argc, char **argv)
{
	int fds[2];
	sigset_t all, old;
	pthread_t wd;

	probe_init("signals", argc, argv);
	want = expected_ppid();

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&wd, NULL, watchdog, NULL) != 0)
		fail("pthread_create watchdog");
	pthread_detach(wd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (pipe(fds) != 0)
		fail("pipe: %s", strerror(errno));
	pipe_r = fds[0];
	pipe_w = fds[1];
	if (fcntl(pipe_w, F_SETFL, O_NONBLOCK) != 0)
		fail("fcntl: %s", strerror(errno));

	size_t altsz = 256 * 1024;
	alt_lo = aligned_alloc(4096, altsz);
	alt_hi = alt_lo + altsz;
	stack_t ss = {.ss_sp = alt_lo, .ss_size = altsz, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0)
		fail("sigaltstack: %s", strerror(errno));

	user_phase(5, "SIGALRM 1 kHz interrupting user code");
	timer_phase(1, "SIGALRM 1 kHz with SA_RESTART, normal stack", 0);
	timer_phase(2, "SIGALRM 1 kHz with SA_RESTART, SA_ONSTACK", 1);
	pipe_w = -1; /* the synchronous phases do not read */
	sync_phase(3, "kill(self) from inline syscall, SA_ONSTACK", 1);
	sync_phase(4, "kill(self) from inline syscall, nested on the current stack", 0);

	require_ppid("main thread at the end", want);
	ok("main thread lives on");
	return 0;
}
