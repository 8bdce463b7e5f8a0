/*
 * driver.c - test driver for libzpoline_hook_impl.so (run by hooks/impl's Go test).
 *
 * What it does: loads the library the way the loader does (dlmopen(LM_ID_NEWLM)), calls
 * zpoline_hook_attach with a fake API table whose syscall function performs the real
 * system call, then calls the hook directly for a fixed list of system calls. The hook
 * writes its lines to stderr or $ZPOLINE_LOG; this program writes what the Go test needs
 * to predict those lines (pids, addresses, results) to stdout as "key=value" lines, and
 * "FAIL: ..." lines for anything it can check itself (return values, descriptor flags).
 * Exit status 0 means every self-check passed.
 *
 * Modes (argv[2]):
 *   basic     attach + init, then getpid, failing openat, close(-1), numbers 600 and
 *             0x40000027, mmap/munmap, a failing execve, fork children that call the hook
 *             (getpid, exit_group, a successful execve of argv[3]).
 *   noattach  init without attach: the hook's inline-syscall fallback, which refuses the
 *             clone family that would share memory with a child.
 *   stress    4 threads (ids 0..3) and a forked child (id 100) each call the hook for
 *             lseek(-1, id, i), i = 0..9999, while a SIGALRM handler (ITIMER_REAL, every
 *             200 us) calls it for getppid, nested inside running hook calls.
 *
 * Why C: it must call the C ABI exactly as a loader does. It is an ordinary program (libc,
 * stdio, pthreads); only the code of the fake API and the fork children avoids libc,
 * because those run where the hook library runs: after a raw fork and inside the hook.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zpoline.h"

static int failures;

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("FAIL: %s:%d: ", __FILE__, __LINE__);                      \
			printf(__VA_ARGS__);                                              \
			printf("\n");                                                     \
			failures++;                                                       \
		}                                                                         \
	} while (0)

/* ---- the fake loader API: a real, raw system call ---- */

static long raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static volatile long api_calls; /* incremented only by the main thread's calls */
static volatile int counting = 1;

static int64_t fake_syscall(struct zpoline_regs *r)
{
	if (counting)
		api_calls++;
	return raw6(r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
}

static long fake_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return raw6(nr, a1, a2, a3, a4, a5, a6);
}

static const struct zpoline_api fake_api = {
	.abi_version = ZPOLINE_ABI_VERSION,
	.size = sizeof(struct zpoline_api),
	.syscall = fake_syscall,
	.syscall6 = fake_syscall6,
};

/* ---- the library ---- */

static zpoline_hook_fn hook;

static int64_t call(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	struct zpoline_regs r = {
		.rax = nr, .rdi = a1, .rsi = a2, .rdx = a3, .r10 = a4, .r8 = a5, .r9 = a6,
	};
	return hook(&r);
}

static void *load(const char *path, int attach)
{
	void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
	zpoline_hook_attach_fn attach_fn;
	zpoline_hook_fn (*init_fn)(void);
	zpoline_hook_fn function;

	if (h == NULL) {
		printf("FAIL: dlmopen %s: %s\n", path, dlerror());
		exit(1);
	}
	attach_fn = (zpoline_hook_attach_fn)dlsym(h, "zpoline_hook_attach");
	init_fn = (zpoline_hook_fn(*)(void))dlsym(h, "zpoline_hook_init");
	function = (zpoline_hook_fn)dlsym(h, "zpoline_hook_function");
	if (attach_fn == NULL || init_fn == NULL || function == NULL) {
		printf("FAIL: missing export: attach %p init %p function %p\n", (void *)attach_fn,
		       (void *)init_fn, (void *)function);
		exit(1);
	}
	if (attach) {
		struct zpoline_hook_desc desc = {.size = sizeof desc};
		struct zpoline_api bad = fake_api;

		bad.syscall = NULL;
		CHECK(attach_fn(&bad, &desc) == -EINVAL, "attach accepted an API without syscall");
		CHECK(attach_fn(NULL, &desc) == -EINVAL, "attach accepted a NULL API");
		CHECK(desc.flags == 0, "a refused attach changed the descriptor");
		CHECK(attach_fn(&fake_api, &desc) == 0, "attach failed");
		CHECK(desc.flags == (ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE),
		      "desc.flags = %#x", desc.flags);
		CHECK(desc.on_fork_child != NULL, "no on_fork_child");
		CHECK(desc.on_thread_start == NULL && desc.on_exit == NULL,
		      "unexpected notifications");
		if (desc.on_fork_child != NULL)
			desc.on_fork_child(); /* must be harmless anywhere */
	}
	hook = init_fn();
	CHECK(hook == function, "init returned %p, zpoline_hook_function is %p", (void *)hook,
	      (void *)function);
	CHECK(init_fn() == hook, "second init returned another hook");
	return h;
}

/* Prints the log descriptor's number and flags, found through /proc/self/fd. */
static void report_log_fd(void)
{
	const char *log = getenv("ZPOLINE_LOG");
	char want[PATH_MAX], link[300], got[PATH_MAX];
	DIR *d;
	struct dirent *e;

	if (log == NULL || realpath(log, want) == NULL)
		return;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		ssize_t n;
		int fd = atoi(e->d_name);

		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		n = readlink(link, got, sizeof got - 1);
		if (n < 0)
			continue;
		got[n] = '\0';
		if (strcmp(got, want) == 0 && fd != dirfd(d))
			printf("logfd=%d cloexec=%d append=%d\n", fd,
			       (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
			       (fcntl(fd, F_GETFL) & O_APPEND) != 0);
	}
	closedir(d);
}

/* ---- basic ---- */

static const char missing_path[] = "/nonexistent/zpoline-hook-impl-test";

static int run_basic(const char *true_path)
{
	long pid = getpid(), r, c1, c2;
	void *m;
	int st;
	char *exec_argv[] = {(char *)true_path, NULL};
	char *exec_envp[] = {NULL};

	printf("pid=%ld\n", pid);
	printf("path=%p\n", (void *)missing_path);
	report_log_fd();

	r = call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	CHECK(r == pid, "getpid = %ld", r);
	r = call(SYS_openat, AT_FDCWD, (long)missing_path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	CHECK(r == -ENOENT, "openat = %ld", r);
	r = call(SYS_close, -1, 0, 0, 0, 0, 0);
	CHECK(r == -EBADF, "close(-1) = %ld", r);
	r = call(600, 1, 2, 3, 4, 5, 6);
	CHECK(r == -ENOSYS, "syscall 600 = %ld", r);
	r = call(0x40000027, 0, 0, 0, 0, 0, 0); /* x32 getpid: -ENOSYS unless x32 is on */
	CHECK(r == -ENOSYS || r == pid, "syscall 0x40000027 = %ld", r);
	printf("x32=%ld\n", r);

	m = (void *)call(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK((unsigned long)m < -4095UL, "mmap = %ld", (long)m);
	printf("mmap=%p\n", m);
	r = call(SYS_munmap, (long)m, 4096, 0, 0, 0, 0);
	CHECK(r == 0, "munmap = %ld", r);

	printf("argv=%p envp=%p\n", (void *)exec_argv, (void *)exec_envp);
	r = call(SYS_execve, (long)missing_path, (long)exec_argv, (long)exec_envp, 0, 0, 0);
	CHECK(r == -ENOENT, "execve = %ld", r);

	CHECK(api_calls == 8, "fake api->syscall ran %ld times, want 8", api_calls);
	fflush(stdout);

	/* A raw fork through the hook: the child returns inside the hook, prints its own pid,
	 * and ends with exit_group through the hook (printed before it happens). */
	c1 = call(SYS_fork, 0, 0, 0, 0, 0, 0);
	if (c1 == 0) {
		call(SYS_getpid, 0, 0, 0, 0, 0, 0);
		call(SYS_exit_group, 7, 0, 0, 0, 0, 0);
		raw6(SYS_exit_group, 99, 0, 0, 0, 0, 0); /* not reached */
	}
	CHECK(c1 > 0, "fork = %ld", c1);
	CHECK(waitpid(c1, &st, 0) == c1 && WIFEXITED(st) && WEXITSTATUS(st) == 7,
	      "child 1 status %#x", st);
	printf("child1=%ld\n", c1);

	/* A successful execve: only the "<unfinished ...>" line, never a result. */
	c2 = call(SYS_fork, 0, 0, 0, 0, 0, 0);
	if (c2 == 0) {
		call(SYS_execve, (long)true_path, (long)exec_argv, (long)exec_envp, 0, 0, 0);
		raw6(SYS_exit_group, 98, 0, 0, 0, 0, 0);
	}
	CHECK(c2 > 0, "fork = %ld", c2);
	CHECK(waitpid(c2, &st, 0) == c2 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child 2 status %#x", st);
	printf("child2=%ld\n", c2);
	printf("true=%p\n", (void *)true_path);
	return failures == 0 ? 0 : 1;
}

/* ---- noattach ---- */

static int run_noattach(void)
{
	long pid = getpid(), r;
	struct {
		unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack,
			stack_size, tls;
	} args = {.exit_signal = SIGCHLD};

	printf("pid=%ld\n", pid);
	r = call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	CHECK(r == pid, "getpid = %ld", r);
	r = call(SYS_vfork, 0, 0, 0, 0, 0, 0);
	CHECK(r == -ENOSYS, "vfork = %ld, want -ENOSYS", r);
	r = call(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0, 0);
	CHECK(r == -ENOSYS, "clone(CLONE_VM) = %ld, want -ENOSYS", r);
	r = call(SYS_clone3, (long)&args, sizeof args, 0, 0, 0, 0);
	CHECK(r == -ENOSYS, "clone3 = %ld, want -ENOSYS", r);
	CHECK(api_calls == 0, "fake api used without attach");
	return failures == 0 ? 0 : 1;
}

/* ---- stress ---- */

#define STRESS_THREADS 4
#define STRESS_CALLS 10000

static volatile long signal_calls;

static void on_alarm(int sig)
{
	(void)sig;
	call(SYS_getppid, 0, 0, 0, 0, 0, 0);
	signal_calls++;
}

static void *stress_thread(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < STRESS_CALLS; i++)
		call(SYS_lseek, -1, id, i, 0, 0, 0); /* -EBADF; the line names thread and i */
	return NULL;
}

static int run_stress(void)
{
	pthread_t th[STRESS_THREADS];
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 200}, {0, 200}};
	long child;
	int st;

	counting = 0;
	sigaction(SIGALRM, &sa, NULL);
	child = fork(); /* a second process appending to the same log */
	if (child == 0) {
		for (int i = 0; i < STRESS_CALLS; i++)
			call(SYS_lseek, -1, 100, i, 0, 0, 0);
		_exit(0);
	}
	setitimer(ITIMER_REAL, &it, NULL);
	for (long i = 0; i < STRESS_THREADS; i++)
		pthread_create(&th[i], NULL, stress_thread, (void *)i);
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(th[i], NULL);
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "stress child status %#x", st);
	printf("pid=%ld child=%ld calls=%d signal_calls=%ld\n", (long)getpid(), child,
	       STRESS_THREADS * STRESS_CALLS + STRESS_CALLS, signal_calls);
	return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: %s LIB basic TRUE-PROGRAM | noattach | stress\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[2], "basic") == 0 && argc == 4) {
		load(argv[1], 1);
		rc = run_basic(argv[3]);
	} else if (strcmp(argv[2], "noattach") == 0) {
		load(argv[1], 0);
		rc = run_noattach();
	} else if (strcmp(argv[2], "stress") == 0) {
		load(argv[1], 1);
		rc = run_stress();
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[2]);
		return 2;
	}
	printf("done rc=%d\n", rc);
	return rc;
}
