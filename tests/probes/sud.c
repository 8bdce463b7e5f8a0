/*
 * sud.c — probe for the Syscall User Dispatch safety net (issue 6, part 2): system calls
 * in code the rewriter cannot vouch for still reach the hook, exactly once per call, and
 * the program cannot tell the net is there.
 *
 * System call 499 is unknown to the kernel (-ENOSYS natively); the test hook
 * (tests/hooks/testhook_rs.c) answers it with a per-process counter 1, 2, 3, ...
 * PROBE_SUD=1 says the net is expected to be armed when the case's code runs: each call
 * must then return the next counter value; without it (native, or ZPOLINE_SUD=off) the
 * hidden calls must reach the kernel (-ENOSYS), which proves the net is what serves them.
 *
 * The hidden code (no decoder can vouch for its `syscall`):
 *   0:  b8 f3 01 00 00        mov $499, %eax
 *   5:  48 8d 0d 03 00 00 00  lea 3(%rip), %rcx     -> 15
 *   12: ff e1                 jmp *%rcx             (computed jump)
 *   14: b9 0f 05 c3 00        mov $0xc3050f, %ecx   (a linear sweep sees this ...)
 *       15: 0f 05 syscall; 17: c3 ret               (... the CPU runs this)
 *   19: 89 c8 c3              mov %ecx, %eax; ret   (the linear path's own exit)
 * Entering at 14 runs the `mov $0xc3050f,%ecx` the sweep sees: it must still return
 * 0xc3050f (the syscall bytes inside it were not rewritten).
 *
 * Cases (argv[1]):
 *  hidden   JIT page (mmap RW, write, mprotect RX): the hidden call, 100 times.
 *  wx       a writable+executable page (what arms the net in auto mode): a plain
 *           `mov $499,%eax; syscall; ret` written after the mmap (the scan at mmap time
 *           saw zeros; its first call traps and the site is rewritten), then the hidden
 *           call, 100 times each.
 *  wxgone   a writable+executable page with the hidden code, called 10 times, then
 *           unmapped; then the hidden call from a page mapped RX (as in hidden), 10
 *           times: with PROBE_SUD_STAYS=1 the net serves it (always), else it must
 *           reach the kernel (auto: the net went with the last W+X mapping).
 *  sigsys   the program's own SIGSYS handler gets kill(getpid(), SIGSYS) and a raw
 *           tgkill with their siginfo; sigaction reads its handler back; a SIGSYS sent
 *           while it blocks SIGSYS waits until it unblocks; sigprocmask reports SIGSYS
 *           blocked as the program set it.
 *  onstack  an SA_ONSTACK handler on the program's own sigaltstack makes the hidden call.
 *  fork     a fork child and a thread make the hidden call.
 */
#include "probe.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

static int want_hook; /* the net serves the hidden calls */

static long count_here(void)
{
	long r;
	__asm__ volatile("mov $499, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

static const unsigned char hidden_code[] = {
	0xb8, 0xf3, 0x01, 0x00, 0x00,             /* mov $499, %eax */
	0x48, 0x8d, 0x0d, 0x03, 0x00, 0x00, 0x00, /* lea 3(%rip), %rcx */
	0xff, 0xe1,                               /* jmp *%rcx */
	0xb9, 0x0f, 0x05, 0xc3, 0x00,             /* mov $0xc3050f, %ecx / syscall; ret */
	0x89, 0xc8, 0xc3,                         /* mov %ecx, %eax; ret */
};
#define HIDDEN_LINEAR 14

static const unsigned char plain_code[] = {0xb8, 0xf3, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xc3};

/* Calls fn n times; with the net each must reach the hook exactly once. 0 or a message. */
static const char *counted(long (*fn)(void), int n, int hooked, char *msg, size_t sz)
{
	if (!hooked) {
		for (int i = 0; i < n; i++) {
			long r = fn();
			if (r != -ENOSYS) {
				snprintf(msg, sz, "call %d returned %ld, want -ENOSYS", i, r);
				return msg;
			}
		}
		return 0;
	}
	long base = count_here();
	for (int i = 0; i < n; i++) {
		long r = fn();
		if (r != base + 1 + i) {
			snprintf(msg, sz, "call %d returned %ld, want %ld (the hook must see each call exactly once)",
				 i, r, base + 1 + i);
			return msg;
		}
	}
	long after = count_here();
	if (after != base + n + 1) {
		snprintf(msg, sz, "the counter is %ld after %d calls from %ld", after, n, base);
		return msg;
	}
	return 0;
}

static void check(const char *what, long (*fn)(void), int n, int hooked)
{
	char msg[200];
	const char *err = counted(fn, n, hooked, msg, sizeof msg);
	if (err)
		fail("%s: %s", what, err);
}

static void check_linear(const char *what, unsigned char *p)
{
	long r = ((long (*)(void))(p + HIDDEN_LINEAR))();
	if (r != 0xc3050f)
		fail("%s: the linear path returned %#lx, want 0xc3050f (bytes inside an instruction were changed)",
		     what, r);
	if (memcmp(p, hidden_code, sizeof hidden_code) != 0)
		fail("%s: the hidden code's bytes were changed", what);
}

static unsigned char *jit_page(int prot_final)
{
	int wx = prot_final & PROT_WRITE;
	unsigned char *p = mmap(NULL, 4096, wx ? prot_final : PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memcpy(p, hidden_code, sizeof hidden_code);
	if (!wx && mprotect(p, 4096, prot_final) != 0)
		fail("mprotect: %s", strerror(errno));
	return p;
}

static unsigned char *hidden_page;
static long hidden(void) { return ((long (*)(void))hidden_page)(); }

static void case_hidden(void)
{
	hidden_page = jit_page(PROT_READ | PROT_EXEC);
	check("hidden", hidden, 100, want_hook);
	check_linear("hidden", hidden_page);
	ok("hidden");
}

static void case_wx(void)
{
	hidden_page = jit_page(PROT_READ | PROT_WRITE | PROT_EXEC);
	unsigned char *plain = hidden_page + 64;
	memcpy(plain, plain_code, sizeof plain_code); /* after the mmap: never scanned */
	check("wx plain", (long (*)(void))plain, 100, want_hook);
	check("wx hidden", hidden, 100, want_hook);
	check_linear("wx hidden", hidden_page);
	ok("wx");
}

static void case_wxgone(void)
{
	hidden_page = jit_page(PROT_READ | PROT_WRITE | PROT_EXEC);
	check("wxgone: W+X", hidden, 10, want_hook);
	munmap(hidden_page, 4096);
	hidden_page = jit_page(PROT_READ | PROT_EXEC);
	check("wxgone: after the W+X page", hidden, 10, want_hook && getenv("PROBE_SUD_STAYS"));
	check_linear("wxgone", hidden_page);
	ok("wxgone");
}

/* ---- the program's own SIGSYS handler ---- */

static volatile int sys_count;
static volatile int sys_code, sys_pid, sys_signo;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sys_signo = sig == SIGSYS ? si->si_signo : -1;
	sys_code = si->si_code;
	sys_pid = si->si_pid;
	sys_count++;
}

static void case_sigsys(void)
{
	struct sigaction sa = {0}, back;
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		fail("sigsys: sigaction: %s", strerror(errno));
	if (sigaction(SIGSYS, NULL, &back) != 0 || back.sa_sigaction != on_sigsys || !(back.sa_flags & SA_SIGINFO))
		fail("sigsys: sigaction does not read back the program's handler");
	pid_t pid = getpid();
	kill(pid, SIGSYS);
	if (sys_count != 1 || sys_signo != SIGSYS || sys_code != SI_USER || sys_pid != pid)
		fail("sigsys: kill: count %d signo %d code %d pid %d, want 1 %d %d %d", sys_count, sys_signo,
		     sys_code, sys_pid, SIGSYS, SI_USER, pid);
	sc_raw6(__NR_tgkill, pid, sc_raw6(__NR_gettid, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0);
	if (sys_count != 2 || sys_code != SI_TKILL || sys_pid != pid)
		fail("sigsys: tgkill: count %d code %d pid %d, want 2 %d %d", sys_count, sys_code, sys_pid,
		     SI_TKILL, pid);
	/* Blocked: it waits; the mask reads back with SIGSYS; unblocked: it arrives. */
	sigset_t set, old, now;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_BLOCK, &set, &old) != 0 || sigismember(&old, SIGSYS))
		fail("sigsys: SIG_BLOCK");
	if (sigprocmask(SIG_BLOCK, NULL, &now) != 0 || !sigismember(&now, SIGSYS))
		fail("sigsys: the mask does not show SIGSYS blocked");
	kill(pid, SIGSYS);
	if (sys_count != 2)
		fail("sigsys: a SIGSYS arrived while the program blocked it");
	if (sigprocmask(SIG_UNBLOCK, &set, &old) != 0 || !sigismember(&old, SIGSYS))
		fail("sigsys: SIG_UNBLOCK's old set lacks SIGSYS");
	if (sys_count != 3 || sys_code != SI_USER || sys_pid != pid)
		fail("sigsys: after unblocking: count %d code %d pid %d, want 3 %d %d", sys_count, sys_code,
		     sys_pid, SI_USER, pid);
	/* The hidden calls still work with the program's handler installed. */
	hidden_page = jit_page(PROT_READ | PROT_EXEC);
	check("sigsys hidden", hidden, 20, want_hook);
	if (sys_count != 3)
		fail("sigsys: the program's handler saw the net's traps");
	ok("sigsys");
}

/* ---- SA_ONSTACK on the program's own sigaltstack ---- */

static char altstack[64 * 1024];
static volatile int onstack_runs;
static volatile const char *onstack_err;
static char onstack_msg[200];

static void on_usr1(int sig)
{
	(void)sig;
	char here;
	if (&here < altstack || &here >= altstack + sizeof altstack)
		onstack_err = "the handler did not run on the program's sigaltstack";
	else if (!onstack_err)
		onstack_err = counted(hidden, 10, want_hook, onstack_msg, sizeof onstack_msg);
	onstack_runs++;
}

static void case_onstack(void)
{
	hidden_page = jit_page(PROT_READ | PROT_EXEC);
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	if (sigaltstack(&ss, NULL) != 0)
		fail("onstack: sigaltstack: %s", strerror(errno));
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 5; i++)
		raise(SIGUSR1);
	if (onstack_runs != 5 || onstack_err)
		fail("onstack: %d runs: %s", onstack_runs, onstack_err ? (const char *)onstack_err : "-");
	check("onstack after", hidden, 10, want_hook);
	ok("onstack");
}

/* ---- children ---- */

static void *thread_main(void *arg)
{
	(void)arg;
	char msg[200];
	const char *err = counted(hidden, 50, want_hook, msg, sizeof msg);
	return err ? strdup(err) : NULL;
}

static void case_fork(void)
{
	hidden_page = jit_page(PROT_READ | PROT_EXEC);
	check("fork parent", hidden, 10, want_hook);
	pid_t c = fork();
	if (c == 0) {
		char msg[200];
		const char *err = counted(hidden, 50, want_hook, msg, sizeof msg);
		if (err) {
			fprintf(stderr, "sud: FAIL: fork child: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("fork: the child failed");
	pthread_t th;
	void *res;
	if (pthread_create(&th, NULL, thread_main, NULL) != 0 || pthread_join(th, &res) != 0)
		fail("fork: pthread");
	if (res)
		fail("fork: thread: %s", (char *)res);
	check("fork parent after", hidden, 10, want_hook);
	ok("fork");
}

int main(int argc, char **argv)
{
	probe_name = "sud";
	const char *e = getenv("PROBE_SUD");
	want_hook = probe_hooked() && e && strcmp(e, "1") == 0;
	if (argc < 2)
		fail("usage: sud hidden|wx|sigsys|onstack|fork");
	const char *c = argv[1];
	if (!strcmp(c, "hidden"))
		case_hidden();
	else if (!strcmp(c, "wx"))
		case_wx();
	else if (!strcmp(c, "wxgone"))
		case_wxgone();
	else if (!strcmp(c, "sigsys"))
		case_sigsys();
	else if (!strcmp(c, "onstack"))
		case_onstack();
	else if (!strcmp(c, "fork"))
		case_fork();
	else
		fail("unknown case %s", c);
	return 0;
}
