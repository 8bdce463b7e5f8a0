/*
 * clone.c — probe for DESIGN.md §3 "fork child", "vfork, CLONE_VM with stack 0", "threads",
 * "clone3" and "per-thread state" (raw CLONE_VM without CLONE_SETTLS).
 *
 * Every case checks that the child ran, saw the expected getppid value (4242 hooked; the
 * real parent natively), that the parent lives on afterwards with its stack intact, and that
 * waits are bounded. Cases, in order:
 *  fork            child checks all getppid paths, exits 0; parent checks the status.
 *  fork-mt         20 forks while 4 threads hammer getppid; each child also starts a thread.
 *  vfork           glibc vfork() + execve(/bin/true), and + execve(self check-ppid).
 *  posix_spawn     of self check-ppid (glibc: clone3 CLONE_VM|CLONE_VFORK on a new stack).
 *  go-vfork        clone(CLONE_VM|CLONE_VFORK|SIGCHLD, stack 0) from a routine that pops its
 *                  return address into a register first, as Go's rawVforkSyscall does; the
 *                  child returns into C on the parent's stack, calls libc, then execs or
 *                  exits (Go's os/exec, Python's subprocess). Callq-shaped site.
 *  asm-vfork       the same with `mov $56,%eax; syscall` (push-free shape), child in asm:
 *                  its rsp must equal the parent's, it reads getppid and exit_groups.
 *  clone3-process  clone3(CLONE_VM|SIGCHLD) on a new stack; child in asm loops getppid.
 *  clone3-thread   clone3(CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM) on a new stack.
 *  clone-nosettls  clone(CLONE_VM|THREAD|SIGHAND|FS|FILES) WITHOUT CLONE_SETTLS: the child
 *                  shares the parent's %fs (and any %fs-based hook state) while both make
 *                  200,000 hooked calls concurrently.
 * In the asm children, rsp at the first instruction must be exactly the stack the kernel
 * was given (the loader returns the child "straight to the caller").
 */
#include "probe.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/futex.h>

extern char **environ;

static long want;      /* getppid in this process */
static long want_kid;  /* getppid in a child process of this one */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* waitpid with a bound: polls with WNOHANG, fails after timeout_s. */
static int wait_child(pid_t pid, const char *what, double timeout_s)
{
	double deadline = now_s() + timeout_s;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG | __WALL);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			fail("%s: waitpid: %s", what, strerror(errno));
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			fail("%s: child %d did not finish within %.0f s", what, (int)pid, timeout_s);
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL); /* polling interval of a bounded wait, not synchronisation */
	}
}

static void require_exit0(pid_t pid, const char *what)
{
	int st = wait_child(pid, what, 30);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s: child %s", what, wait_status_str(st));
}

/* ---------------------------------------------------------------- fork */

static int child_check_code(long w)
{
	long got;
	int which = check_ppid_paths(w, &got);
	return which ? 10 + which : 0;
}

static void case_fork(void)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_check_code(want_kid));
	int st = wait_child(pid, "fork", 30);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("fork: child %s (11..14: getppid path %d disagreed, want %ld)",
		     wait_status_str(st), WIFEXITED(st) ? WEXITSTATUS(st) - 10 : 0, want_kid);
	require_ppid("fork: parent after the child", want);
	ok("fork");
}

static volatile int hammer_stop;
static long hammer_bad;

static void *hammer(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&hammer_stop, __ATOMIC_RELAXED)) {
		if (sc_getppid_imm() != want || sc_getppid_reg() != want || getppid() != want)
			__atomic_fetch_add(&hammer_bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static long kid_want_for_thread;
static void *kid_thread(void *arg)
{
	long got;
	(void)arg;
	return (void *)(intptr_t)check_ppid_paths(kid_want_for_thread, &got);
}

static void case_fork_mt(void)
{
	pthread_t t[4];
	int err;

	for (int i = 0; i < 4; i++)
		if ((err = pthread_create(&t[i], NULL, hammer, NULL)) != 0)
			fail("fork-mt: pthread_create: %s", strerror(err));
	for (int k = 0; k < 20; k++) {
		kid_want_for_thread = want_kid;
		pid_t pid = fork();
		if (pid < 0)
			fail("fork-mt: fork: %s", strerror(errno));
		if (pid == 0) {
			pthread_t kt;
			void *res;
			int code = child_check_code(want_kid);
			if (code)
				_exit(code);
			if (pthread_create(&kt, NULL, kid_thread, NULL) != 0)
				_exit(20);
			if (pthread_join(kt, &res) != 0)
				_exit(21);
			_exit(res ? 30 + (int)(intptr_t)res : 0);
		}
		int st = wait_child(pid, "fork-mt", 30);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail("fork-mt: child %d %s (1x: getppid path x disagreed in the child, 2x: "
			     "pthread_create failed in the child, 3x: path x disagreed in the child's "
			     "thread; want %ld)",
			     k, wait_status_str(st), want_kid);
	}
	__atomic_store_n(&hammer_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	if (hammer_bad)
		fail("fork-mt: %ld getppid calls in the parent's threads returned a wrong value",
		     hammer_bad);
	require_ppid("fork-mt: parent after the children", want);
	ok("fork with threads running");
}

/* ---------------------------------------------------------------- vfork, posix_spawn */

static void case_vfork(void)
{
	char *true_argv[] = {"true", NULL};
	char *self_argv[] = {"clone", "check-ppid", NULL};
	const char *self = self_exe();
	volatile unsigned long canary[16];

	for (int i = 0; i < 16; i++)
		canary[i] = 0x766f726b00000000ul + (unsigned long)i;

	pid_t pid = vfork();
	if (pid == 0) {
		execve("/bin/true", true_argv, environ);
		_exit(127);
	}
	if (pid < 0)
		fail("vfork: %s", strerror(errno));
	require_exit0(pid, "vfork+execve(/bin/true)");

	pid = vfork();
	if (pid == 0) {
		execve(self, self_argv, environ);
		_exit(127);
	}
	if (pid < 0)
		fail("vfork: %s", strerror(errno));
	require_exit0(pid, "vfork+execve(self check-ppid)");

	for (int i = 0; i < 16; i++)
		if (canary[i] != 0x766f726b00000000ul + (unsigned long)i)
			fail("vfork: parent's stack word %d changed", i);
	require_ppid("vfork: parent after the children", want);
	ok("vfork+execve");
}

static void case_posix_spawn(void)
{
	char *argv[] = {"clone", "check-ppid", NULL};
	pid_t pid;
	int err = posix_spawn(&pid, self_exe(), NULL, NULL, argv, environ);

	if (err != 0)
		fail("posix_spawn: %s", strerror(err));
	require_exit0(pid, "posix_spawn(self check-ppid)");
	require_ppid("posix_spawn: parent after the child", want);
	ok("posix_spawn");
}

/* ---------------------------------------------------------------- Go-style raw vfork */

/*
 * long probe_go_vfork(long flags): clone(flags, stack 0, 0, 0, 0).
 * Like Go's syscall.rawVforkSyscall: the return address is popped into a register before
 * the system call and pushed back after it, so the child, which shares this stack, can
 * overwrite the stack freely. The site `pop %r9; syscall` is callq-shaped.
 * In: rdi = flags. Out: rax. Clobbers: rsi, rdx, r8, r9, r10, rcx, r11.
 */
__asm__(".text\n"
	".globl probe_go_vfork\n"
	".hidden probe_go_vfork\n"
	".type probe_go_vfork,@function\n"
	"probe_go_vfork:\n"
	"	.cfi_startproc\n"
	"	xor %esi, %esi\n"
	"	xor %edx, %edx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	mov $56, %eax\n"
	"	pop %r9\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_register rip, r9\n"
	"	syscall\n"
	"	push %r9\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset rip, 0\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size probe_go_vfork, .-probe_go_vfork\n");
extern long probe_go_vfork(long flags) __attribute__((returns_twice));

static volatile long gv_ppid_libc, gv_ppid_reg, gv_ppid_imm;

static __attribute__((noinline)) void go_vfork_one(const char *what, const char *path,
						    char *const argv[])
{
	volatile unsigned long canary[16];

	for (int i = 0; i < 16; i++)
		canary[i] = 0x676f766600000000ul + (unsigned long)i;
	gv_ppid_libc = gv_ppid_reg = gv_ppid_imm = 0;

	long pid = probe_go_vfork(CLONE_VM | CLONE_VFORK | SIGCHLD);
	if (pid == 0) {
		/* Child: on the parent's stack, parent suspended. libc calls and raw calls. */
		gv_ppid_libc = syscall(SYS_getppid);
		gv_ppid_reg = sc_getppid_reg();
		gv_ppid_imm = sc_getppid_imm();
		if (path)
			syscall(SYS_execve, path, argv, environ);
		syscall(SYS_exit_group, path ? 127 : 0);
		__builtin_unreachable();
	}
	if (pid < 0)
		fail("go-vfork: clone: %s", strerror((int)-pid));
	require_exit0((pid_t)pid, what);
	if (gv_ppid_libc != want_kid || gv_ppid_reg != want_kid || gv_ppid_imm != want_kid)
		fail("%s: child saw getppid libc=%ld reg=%ld imm=%ld, want %ld", what, gv_ppid_libc,
		     gv_ppid_reg, gv_ppid_imm, want_kid);
	for (int i = 0; i < 16; i++)
		if (canary[i] != 0x676f766600000000ul + (unsigned long)i)
			fail("%s: parent's stack word %d changed", what, i);
}

static void case_go_vfork(void)
{
	char *true_argv[] = {"true", NULL};
	char *self_argv[] = {"clone", "check-ppid", NULL};

	go_vfork_one("go-vfork+_exit", NULL, NULL);
	go_vfork_one("go-vfork+execve(/bin/true)", "/bin/true", true_argv);
	go_vfork_one("go-vfork+execve(self check-ppid)", self_exe(), self_argv);
	require_ppid("go-vfork: parent after the children", want);
	ok("clone(CLONE_VM|CLONE_VFORK, stack 0) Go-style");
}

/* ---------------------------------------------------------------- asm vfork */

static volatile long av_parent_rsp, av_child_rsp, av_child_ppid;

static __attribute__((noinline)) long asm_vfork_one(void)
{
	long ret;
	__asm__ volatile("mov %%rsp, %[prsp]\n\t"
			 "mov $56, %%eax\n\t"
			 "syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 /* child: shares the parent's stack; stores nothing below rsp */
			 "mov %%rsp, %[crsp]\n\t"
			 "mov $110, %%eax\n\t"
			 "syscall\n\t"
			 "mov %%rax, %[cppid]\n\t"
			 "mov $231, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret), [prsp] "=m"(av_parent_rsp), [crsp] "=m"(av_child_rsp),
			   [cppid] "=m"(av_child_ppid)
			 : "D"((long)(CLONE_VM | CLONE_VFORK | SIGCHLD)), "S"(0L), "d"(0L)
			 : "rcx", "r11", "r10", "r8", "memory", "cc");
	return ret;
}

static void case_asm_vfork(void)
{
	for (int k = 0; k < 3; k++) {
		av_parent_rsp = av_child_rsp = av_child_ppid = 0;
		long pid = asm_vfork_one();
		if (pid < 0)
			fail("asm-vfork: clone: %s", strerror((int)-pid));
		require_exit0((pid_t)pid, "asm-vfork");
		if (av_child_rsp != av_parent_rsp)
			fail("asm-vfork: child started with rsp %#lx, parent's rsp was %#lx",
			     av_child_rsp, av_parent_rsp);
		if (av_child_ppid != want_kid)
			fail("asm-vfork: child saw getppid %ld, want %ld", av_child_ppid, want_kid);
	}
	require_ppid("asm-vfork: parent after the children", want);
	ok("clone(CLONE_VM|CLONE_VFORK, stack 0) push-free shape");
}

/* ---------------------------------------------------------------- asm children on own stacks */

/* Shared with the asm child body; offsets are used in the asm below. */
struct child_res {
	long mismatches; /* 0 */
	long calls;      /* 8 */
	long first_bad;  /* 16 */
	long start_rsp;  /* 24 */
	long started;    /* 32 */
	long want;       /* 40 */
	long iters;      /* 48: loop iterations, 2 getppid calls each */
};
_Static_assert(__builtin_offsetof(struct child_res, iters) == 48, "asm offsets");

/*
 * probe_child_body: entered by jump in a clone child, r12 = struct child_res *.
 * Records rsp, sets started, makes 2*iters getppid calls in both shapes, counts calls and
 * mismatches against want, then exit(0) (this task only). Uses only its own stack.
 */
__asm__(".text\n"
	".globl probe_child_body\n"
	".hidden probe_child_body\n"
	".type probe_child_body,@function\n"
	"probe_child_body:\n"
	"	mov %rsp, 24(%r12)\n"
	"	movq $1, 32(%r12)\n"
	"	mov 48(%r12), %r13\n"
	"	mov 40(%r12), %r14\n"
	"	mov $110, %r15\n"
	"1:	mov $110, %eax\n"
	"	syscall\n"
	"	incq 8(%r12)\n"
	"	cmp %r14, %rax\n"
	"	je 2f\n"
	"	cmpq $0, 0(%r12)\n"
	"	jne 3f\n"
	"	mov %rax, 16(%r12)\n"
	"3:	incq 0(%r12)\n"
	"2:	mov %r15, %rax\n"
	"	syscall\n"
	"	incq 8(%r12)\n"
	"	cmp %r14, %rax\n"
	"	je 4f\n"
	"	cmpq $0, 0(%r12)\n"
	"	jne 5f\n"
	"	mov %rax, 16(%r12)\n"
	"5:	incq 0(%r12)\n"
	"4:	dec %r13\n"
	"	jnz 1b\n"
	"	mov $60, %eax\n"
	"	xor %edi, %edi\n"
	"	syscall\n"
	"	ud2\n"
	".size probe_child_body, .-probe_child_body\n");

static long do_clone(unsigned long flags, void *stack_top, int *ptid, int *ctid,
		     struct child_res *res)
{
	register long r10 __asm__("r10") = (long)ctid;
	register long r8 __asm__("r8") = 0; /* no CLONE_SETTLS */
	register long r12 __asm__("r12") = (long)res;
	long ret;
	__asm__ volatile("mov $56, %%eax\n\t"
			 "syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jz probe_child_body"
			 : "=a"(ret)
			 : "D"(flags), "S"(stack_top), "d"(ptid), "r"(r10), "r"(r8), "r"(r12)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long do_clone3(struct clone_args_v0 *args, struct child_res *res)
{
	register long r12 __asm__("r12") = (long)res;
	long ret;
	__asm__ volatile("mov $435, %%eax\n\t"
			 "syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jz probe_child_body"
			 : "=a"(ret)
			 : "D"(args), "S"(sizeof *args), "r"(r12)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

#define CHILD_STACK (256 * 1024)
#define CHILD_ITERS 100000

static char *map_stack(void)
{
	void *p = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap child stack: %s", strerror(errno));
	return p;
}

static void wait_started(struct child_res *res, const char *what)
{
	double deadline = now_s() + 20;
	while (!__atomic_load_n(&res->started, __ATOMIC_ACQUIRE)) {
		if (now_s() > deadline)
			fail("%s: child did not start within 20 s", what);
		__builtin_ia32_pause();
	}
}

/* Waits until the kernel cleared *ctid (CLONE_CHILD_CLEARTID): the thread has exited. */
static void wait_tid_cleared(volatile int *ctid, const char *what)
{
	double deadline = now_s() + 30;
	int v;
	while ((v = __atomic_load_n(ctid, __ATOMIC_ACQUIRE)) != 0) {
		if (now_s() > deadline)
			fail("%s: thread %d did not exit within 30 s", what, v);
		struct timespec ts = {0, 100 * 1000000};
		syscall(SYS_futex, ctid, FUTEX_WAIT, v, &ts, NULL, 0);
	}
}

/* The parent's own loop, run while the child runs its loop. */
static void parent_loop(const char *what)
{
	long bad = 0, first = 0;
	for (int i = 0; i < CHILD_ITERS; i++) {
		long a = sc_getppid_imm(), b = sc_getppid_reg();
		if (a != want || b != want) {
			if (bad++ == 0)
				first = a != want ? a : b;
		}
	}
	if (bad)
		fail("%s: %ld parent getppid calls returned a wrong value (first %ld, want %ld)", what,
		     bad, first, want);
}

static void check_child_res(struct child_res *res, char *stack, const char *what)
{
	if (res->start_rsp != (long)(stack + CHILD_STACK))
		fail("%s: child started with rsp %#lx, want the new stack's top %#lx", what,
		     res->start_rsp, (long)(stack + CHILD_STACK));
	if (res->calls != 2 * CHILD_ITERS)
		fail("%s: child made %ld calls, want %d", what, res->calls, 2 * CHILD_ITERS);
	if (res->mismatches)
		fail("%s: %ld of the child's getppid calls returned a wrong value (first %ld, want %ld)",
		     what, res->mismatches, res->first_bad, res->want);
}

static void case_clone3_process(void)
{
	const char *what = "clone3(CLONE_VM|SIGCHLD)";
	char *stack = map_stack();
	static struct child_res res;
	struct clone_args_v0 args = {
		.flags = CLONE_VM,
		.exit_signal = SIGCHLD,
		.stack = (uint64_t)stack,
		.stack_size = CHILD_STACK,
	};

	memset(&res, 0, sizeof res);
	res.want = want_kid;
	res.iters = CHILD_ITERS;
	long pid = do_clone3(&args, &res);
	if (pid < 0)
		fail("%s: %s", what, strerror((int)-pid));
	parent_loop(what);
	require_exit0((pid_t)pid, what);
	check_child_res(&res, stack, what);
	munmap(stack, CHILD_STACK);
	require_ppid("clone3-process: parent after the child", want);
	ok("clone3 CLONE_VM process on its own stack");
}

static void case_clone3_thread(void)
{
	const char *what = "clone3(CLONE_VM|CLONE_THREAD|...)";
	char *stack = map_stack();
	static struct child_res res;
	static volatile int tid_word;
	struct clone_args_v0 args = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
		.child_tid = (uint64_t)&tid_word,
		.parent_tid = (uint64_t)&tid_word,
		.stack = (uint64_t)stack,
		.stack_size = CHILD_STACK,
	};

	memset(&res, 0, sizeof res);
	res.want = want; /* a thread's parent is the process's parent */
	res.iters = CHILD_ITERS;
	long tid = do_clone3(&args, &res);
	if (tid < 0)
		fail("%s: %s", what, strerror((int)-tid));
	wait_started(&res, what);
	parent_loop(what);
	wait_tid_cleared(&tid_word, what);
	check_child_res(&res, stack, what);
	munmap(stack, CHILD_STACK);
	require_ppid("clone3-thread: parent after the thread", want);
	ok("clone3 thread on its own stack");
}

static void case_clone_nosettls(void)
{
	const char *what = "clone(CLONE_VM|CLONE_THREAD|..., no CLONE_SETTLS)";
	char *stack = map_stack();
	static struct child_res res;
	static volatile int tid_word;

	for (int round = 0; round < 3; round++) {
		memset(&res, 0, sizeof res);
		res.want = want;
		res.iters = CHILD_ITERS;
		long tid = do_clone(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES |
					    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
				    stack + CHILD_STACK, (int *)&tid_word, (int *)&tid_word, &res);
		if (tid < 0)
			fail("%s: %s", what, strerror((int)-tid));
		wait_started(&res, what);
		parent_loop(what); /* both tasks now make hooked calls with the same %fs */
		wait_tid_cleared(&tid_word, what);
		check_child_res(&res, stack, what);
	}
	munmap(stack, CHILD_STACK);
	require_ppid("clone-nosettls: parent after the threads", want);
	ok("raw clone thread sharing %fs (no CLONE_SETTLS)");
}

int main(int argc, char **argv)
{
	probe_init("clone", argc, argv);
	want = expected_ppid();
	want_kid = probe_hooked() ? HOOKED_PPID : (long)getpid();

	case_fork();
	case_fork_mt();
	case_vfork();
	case_posix_spawn();
	case_go_vfork();
	case_asm_vfork();
	case_clone3_process();
	case_clone3_thread();
	case_clone_nosettls();
	require_ppid("end", want);
	ok("parent lives on");
	return 0;
}
