/*
 * probe.h — shared helpers for the probe programs in tests/probes/.
 *
 * Each probe proves one hazard of DESIGN.md §3. It prints a few deterministic lines
 * ("<probe>: <what> ok") that are the same natively and under the loader, exits 0 on
 * success, and exits non-zero with one line "<probe>: FAIL: <reason>" on stderr otherwise.
 *
 * PROBE_HOOKED=1 says the probe runs under the loader with one of the test hooks
 * (tests/hooks), which emulate getppid and return 4242 without entering the kernel. Without
 * it the probe runs natively and getppid must return the real parent pid, which the probe
 * reads from /proc/self/status (an open/read, which no test hook emulates).
 *
 * Two shapes of inline system call are used on purpose, because the loader rewrites them
 * differently (DESIGN.md §3 "red zone"):
 *  - imm  : `mov $nr,%eax; syscall` (b8 imm32 0f 05), rewritten to a jump that pushes nothing;
 *  - reg  : `mov %reg,%rax; syscall`, rewritten to `callq *%rax`, which writes the return
 *           address at -8(%rsp). The reg helpers step over the 128-byte red zone first so
 *           that only tests/probes/redzone.c measures that (accepted) difference.
 */
#ifndef PROBE_H
#define PROBE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the test hooks make getppid return: 4242, or PROBE_PPID (the Go example: 424242). */
#define HOOKED_PPID hooked_ppid()
static inline long hooked_ppid(void)
{
	const char *e = getenv("PROBE_PPID");
	return e ? strtol(e, NULL, 10) : 4242L;
}

/* Not every probe uses every helper. */
#define PROBE_HELPER static __attribute__((unused))

static const char *probe_name = "probe";

/* Writes all of buf with raw write(2) calls; usable anywhere (fork children, handlers). */
static inline void probe_write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* One line "<probe>: FAIL: <reason>" on stderr, then _exit(1) (no atexit, no stdio flush). */
__attribute__((noreturn, format(printf, 1, 2))) PROBE_HELPER void fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "%s: FAIL: ", probe_name);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	probe_write_all(2, buf, (size_t)n);
	_exit(1);
}

/* One deterministic line "<probe>: <what> ok" on stdout. */
PROBE_HELPER void ok(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof buf, "%s: %s ok\n", probe_name, what);
	probe_write_all(1, buf, (size_t)n);
}

/* A diagnostic that may differ between runs or between native and hooked: stderr. */
__attribute__((format(printf, 1, 2))) PROBE_HELPER void note(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "%s: note: ", probe_name);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	probe_write_all(2, buf, (size_t)n);
}

PROBE_HELPER int probe_hooked(void)
{
	const char *e = getenv("PROBE_HOOKED");
	return e != NULL && strcmp(e, "1") == 0;
}

/* Copies the value of "key:" in /proc/self/status (without leading blanks) into out. */
PROBE_HELPER int proc_status(const char *key, char *out, size_t outsz)
{
	char buf[8192];
	size_t len = 0, klen = strlen(key);
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[len] = 0;
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;
			size_t i = 0;
			while (*v == ' ' || *v == '\t')
				v++;
			while (v[i] && v[i] != '\n' && i + 1 < outsz) {
				out[i] = v[i];
				i++;
			}
			out[i] = 0;
			return 0;
		}
	}
	return -1;
}

/* The real parent pid, from /proc/self/status (never from getppid, which the hook emulates). */
PROBE_HELPER long status_ppid(void)
{
	char v[32];
	if (proc_status("PPid", v, sizeof v) < 0)
		fail("cannot read PPid from /proc/self/status");
	return strtol(v, NULL, 10);
}

/* What getppid must return in this process: 4242 when hooked, the real parent otherwise. */
PROBE_HELPER long expected_ppid(void)
{
	return probe_hooked() ? HOOKED_PPID : status_ppid();
}

/* getppid as `mov $110,%eax; syscall` (the push-free jump shape). */
static inline __attribute__((always_inline)) long sc_getppid_imm(void)
{
	long r;
	__asm__ volatile("mov $110, %%eax\n\t"
			 "syscall"
			 : "=a"(r)
			 :
			 : "rcx", "r11", "memory");
	return r;
}

/* getppid as `mov %reg,%rax; syscall` (the callq shape), off the red zone. */
static inline __attribute__((always_inline)) long sc_getppid_reg(void)
{
	long r, nr = SYS_getppid;
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "mov %1, %%rax\n\t"
			 "syscall\n\t"
			 "add $128, %%rsp"
			 : "=&a"(r)
			 : "r"(nr)
			 : "rcx", "r11", "memory", "cc");
	return r;
}

/* Any system call in the callq shape, off the red zone; returns the raw result (-errno). */
static inline long sc_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long r;
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "mov %1, %%rax\n\t"
			 "syscall\n\t"
			 "add $128, %%rsp"
			 : "=&a"(r)
			 : "r"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory", "cc");
	return r;
}

/*
 * Calls getppid through all four paths (inline imm, inline reg, libc getppid(), libc
 * syscall()) and compares each with want. Returns 0, or 1..4 naming the first path that
 * disagreed, with the value it saw in *got. Async-signal-safe.
 */
static inline int check_ppid_paths(long want, long *got)
{
	long v;

	if ((v = sc_getppid_imm()) != want)
		return *got = v, 1;
	if ((v = sc_getppid_reg()) != want)
		return *got = v, 2;
	if ((v = getppid()) != want)
		return *got = v, 3;
	if ((v = syscall(SYS_getppid)) != want)
		return *got = v, 4;
	return 0;
}

PROBE_HELPER const char *ppid_path_name(int which)
{
	switch (which) {
	case 1: return "inline `mov $110,%eax; syscall`";
	case 2: return "inline `mov %reg,%rax; syscall`";
	case 3: return "libc getppid()";
	case 4: return "libc syscall(SYS_getppid)";
	default: return "?";
	}
}

/* Checks every getppid path against want; fails with a reason naming the path. */
PROBE_HELPER void require_ppid(const char *where, long want)
{
	long got = 0;
	int which = check_ppid_paths(want, &got);
	if (which)
		fail("%s: %s returned %ld, want %ld%s", where, ppid_path_name(which), got, want,
		     probe_hooked() ? " (the hook's emulated value)" : " (the real parent pid)");
}

/*
 * Probes re-execute themselves as `<probe> check-ppid`: the new image verifies that it is
 * hooked too (PROBE_HOOKED is inherited) and exits 0, or 1 with a reason.
 */
PROBE_HELPER void probe_child_modes(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check-ppid") == 0) {
		require_ppid("exec'd image", expected_ppid());
		_exit(0);
	}
}

PROBE_HELPER void probe_init(const char *name, int argc, char **argv)
{
	probe_name = name;
	setvbuf(stdout, NULL, _IONBF, 0);
	probe_child_modes(argc, argv);
}

/* Path of this probe's own executable, for re-execution. */
PROBE_HELPER const char *self_exe(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n <= 0)
		fail("readlink /proc/self/exe: %s", strerror(errno));
	path[n] = 0;
	return path;
}

/* Describes a wait status in one phrase. */
PROBE_HELPER const char *wait_status_str(int status)
{
	static char buf[64];
	if (WIFEXITED(status))
		snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof buf, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, sizeof buf, "wait status 0x%x", status);
	return buf;
}

#endif /* PROBE_H */
