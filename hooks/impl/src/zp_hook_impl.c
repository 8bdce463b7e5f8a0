/*
 * zp_hook_impl.c - libzpoline_hook_impl.so, zpoline-go's default hook library.
 *
 * What it does: for every system call the loader shows it, performs the real call and
 * writes one line to stderr, or to the file named by $ZPOLINE_LOG:
 *
 *     [pid 1234] openat(0xffffff9c, 0x7ffd1c0a3f10, 0x80000, 0x0) = 3
 *     [pid 1234] close(0xffffffffffffffff) = -1 EBADF
 *     [pid 1234] syscall_600(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS
 *     [pid 1234] exit_group(0x0) = ?
 *     [pid 1234] execve(0x55d0c2a0b2a0, 0x7ffd1c0a4030, 0x7ffd1c0a4050) <unfinished ...>
 *     [pid 1234] <... execve resumed> = -1 ENOENT
 *
 * Format: the pid (a raw getpid after the call, so it is right in fork children), the name
 * from the generated table zp_systab.h (internal/systab; "syscall_<n>" in decimal for
 * numbers it does not know), as many arguments as the call has (all six for unknown
 * numbers), each the raw 64-bit register in hex, nothing decoded (the Go tracer decodes).
 * Results: -4095..-1 print as "-1 <ERRNO>" ("errno_<n>" if unnamed); 0..0xffffffff in
 * decimal; anything else (addresses) in hex. Calls that do not return when they succeed
 * print before they are performed: exit and exit_group as "= ?", execve and execveat as
 * "<unfinished ...>" followed, if the call fails and returns, by a "<... resumed>" line.
 *
 * Why C and not Go: it is loaded with dlmopen(LM_ID_NEWLM) into its own namespace and
 * runs on the per-syscall path of every thread, in signal handlers and in fork and vfork
 * children, where a second Go runtime cannot run. It is linked without libc (-nostdlib),
 * so dlmopen maps no second libc at all.
 *
 * Context: zp_ctor runs inside dlmopen; zpoline_hook_attach and zpoline_hook_init run
 * once, from the loader, before the hook is installed. zpoline_hook_function (the hook)
 * runs in any thread of the host, on the loader's per-thread hook stack, possibly nested
 * in a signal handler that interrupted another hook call, and in fork and vfork children.
 *
 * What it may call: raw system calls only (inline `syscall`) and the loader's
 * api->syscall. No libc (none is linked), no stdio, no malloc, no locks, no errno, no TLS.
 * The hook reads globals written before it was installed and writes only to its stack
 * (a frame of about 650 bytes; -Wframe-larger-than=1024 bounds it), so it is reentrant and
 * async-signal-safe. Every line is formatted into a stack buffer and written with one
 * write(2); with O_APPEND, lines of concurrent threads and processes never mix.
 * It is compiled with -mgeneral-regs-only: no SSE/AVX/x87 register is touched, which is
 * what makes the ZPOLINE_HOOK_VECTOR_FREE declaration true (the test checks objdump).
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/resource.h> /* RLIMIT_NOFILE */
#include <linux/fcntl.h>  /* O_*, AT_FDCWD, F_DUPFD_CLOEXEC */
#include <linux/sched.h>  /* CLONE_VM */

#include "zp_systab.h"
#include "zpoline.h"

#define ZP_EXPORT __attribute__((visibility("default")))

/* Exports (zpoline-rs ABI plus zpoline-go's optional attach; see include/zpoline.h). */
ZP_EXPORT zpoline_hook_fn zpoline_hook_init(void);
ZP_EXPORT int64_t zpoline_hook_function(struct zpoline_regs *regs);
ZP_EXPORT int zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc);

#define ZP_X32_SYSCALL_BIT 0x40000000u
#define ZP_MAX_ERRNO 4095
#define ZP_LINE_MAX 512	    /* longest line is about 300 bytes; PIPE_BUF is 4096 */
#define ZP_PATH_MAX 4096    /* PATH_MAX */
#define ZP_LOG_FD_TOP 1024  /* the log fd is moved just below min(RLIMIT_NOFILE, this) */
#define ZP_LOG_FD_SPAN 64

/* ---- global state: written before the hook is installed, read-only afterwards ---- */

/* The loader's clone-safe real system call; NULL until zpoline_hook_attach. */
static int64_t (*zp_api_syscall)(struct zpoline_regs *regs);
/* The loader's API table, kept for future use (abi_version, syscall6). */
static const struct zpoline_api *zp_api;
/* Where lines go: 2 (stderr) unless $ZPOLINE_LOG was opened by zpoline_hook_init. */
static int zp_log_fd = 2;
/* $ZPOLINE_LOG as found by the constructor; "" when unset or empty. */
static char zp_log_path[ZP_PATH_MAX];
static int zp_log_path_too_long;
static int zp_initialized;

/* ---- raw system calls: no libc, no errno; the kernel clobbers rcx and r11 ---- */

static inline long zp_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
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

static inline long zp_raw3(long nr, long a1, long a2, long a3)
{
	return zp_raw6(nr, a1, a2, a3, 0, 0, 0);
}

static inline long zp_raw0(long nr)
{
	return zp_raw6(nr, 0, 0, 0, 0, 0, 0);
}

/* ---- line formatting into a bounded stack buffer ---- */

struct zp_line {
	char *p;   /* next free byte */
	char *end; /* one byte is always left for the final '\n' */
};

static void zp_line_init(struct zp_line *l, char *buf, size_t size)
{
	l->p = buf;
	l->end = buf + size - 1;
}

static void zp_put_char(struct zp_line *l, char c)
{
	if (l->p < l->end)
		*l->p++ = c;
}

static void zp_put_str(struct zp_line *l, const char *s)
{
	while (*s != '\0' && l->p < l->end)
		*l->p++ = *s++;
}

static void zp_put_hex(struct zp_line *l, uint64_t v)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v != 0);
	zp_put_str(l, "0x");
	while (n > 0)
		zp_put_char(l, tmp[--n]);
}

static void zp_put_dec(struct zp_line *l, int64_t v)
{
	char tmp[20];
	int n = 0;
	/* Negate in unsigned arithmetic: -INT64_MIN overflows int64_t. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	if (v < 0)
		zp_put_char(l, '-');
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		zp_put_char(l, tmp[--n]);
}

/* Terminates the line with '\n' (the reserved byte) and returns its length. */
static size_t zp_line_end(struct zp_line *l, char *buf)
{
	*l->p++ = '\n';
	return (size_t)(l->p - buf);
}

/* "[pid N] " with the pid of the calling process, fetched now (correct after fork). */
static void zp_put_pid(struct zp_line *l)
{
	zp_put_str(l, "[pid ");
	zp_put_dec(l, zp_raw0(ZP_NR_getpid));
	zp_put_str(l, "] ");
}

/* "name(a1, a2, ...)" */
static void zp_put_call(struct zp_line *l, int64_t nr, const uint64_t args[6])
{
	int nargs = 6;

	if (nr >= 0 && nr < ZP_SYSCALL_COUNT && zp_syscall_names[nr] != NULL) {
		zp_put_str(l, zp_syscall_names[nr]);
		nargs = zp_syscall_nargs[nr];
	} else {
		zp_put_str(l, "syscall_");
		zp_put_dec(l, nr);
	}
	zp_put_char(l, '(');
	for (int i = 0; i < nargs; i++) {
		if (i > 0)
			zp_put_str(l, ", ");
		zp_put_hex(l, args[i]);
	}
	zp_put_char(l, ')');
}

/* " = result" */
static void zp_put_result(struct zp_line *l, int64_t ret)
{
	zp_put_str(l, " = ");
	if (ret < 0 && ret >= -ZP_MAX_ERRNO) {
		int64_t e = -ret;

		zp_put_str(l, "-1 ");
		if (e < ZP_ERRNO_COUNT && zp_errno_names[e] != NULL) {
			zp_put_str(l, zp_errno_names[e]);
		} else {
			zp_put_str(l, "errno_");
			zp_put_dec(l, e);
		}
	} else if (ret >= 0 && ret <= 0xffffffffll) {
		zp_put_dec(l, ret);
	} else {
		zp_put_hex(l, (uint64_t)ret);
	}
}

/*
 * Writes one finished line with one write(2). A write interrupted before it wrote
 * anything (EINTR) is repeated; any other failure (EAGAIN on a non-blocking stderr, EBADF
 * after the program closed the descriptor, EPIPE) drops the line: tracing must never
 * change what the program sees beyond the write itself.
 */
static void zp_emit(const char *buf, size_t len)
{
	int fd = __atomic_load_n(&zp_log_fd, __ATOMIC_RELAXED);
	long r;

	do
		r = zp_raw3(ZP_NR_write, fd, (long)buf, (long)len);
	while (r == -ZP_EINTR);
}

/* ---- performing the real call ---- */

/*
 * Without the loader's api->syscall (zpoline_hook_attach never called, e.g. under a loader
 * that only knows the zpoline-rs ABI), the call runs as an inline `syscall` here, on the
 * hook's stack. That is wrong for a child that shares this memory: a thread on a new stack
 * would return into this function with no frame, and a vfork child would return through
 * it and overwrite the frames the suspended parent comes back to. Those calls are refused
 * with -ENOSYS (glibc then falls back from clone3 to clone, and reports the error for the
 * rest) rather than corrupting the process; loaders are not supposed to show them to a
 * hook that did not declare ZPOLINE_HOOK_CLONE_SAFE. The kernel looks at eax only, so
 * the checks do too.
 */
static int64_t zp_fallback_syscall(struct zpoline_regs *r)
{
	switch ((uint32_t)r->rax & ~ZP_X32_SYSCALL_BIT) {
	case ZP_NR_clone:
		if (((uint64_t)r->rdi & CLONE_VM) != 0 || r->rsi != 0)
			return -ZP_ENOSYS;
		break;
	case ZP_NR_clone3:
	case ZP_NR_vfork:
		return -ZP_ENOSYS;
	}
	return zp_raw6(r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
}

static int64_t zp_perform(struct zpoline_regs *regs)
{
	int64_t (*fn)(struct zpoline_regs *) = __atomic_load_n(&zp_api_syscall, __ATOMIC_ACQUIRE);

	if (fn != NULL)
		return fn(regs);
	return zp_fallback_syscall(regs);
}

/* ---- the hook ---- */

/*
 * The hook (zpoline-rs ABI): performs the call described by regs, writes its line and
 * returns the call's result (or -errno), unchanged.
 */
ZP_EXPORT int64_t zpoline_hook_function(struct zpoline_regs *regs)
{
	char buf[ZP_LINE_MAX];
	struct zp_line l;
	/* Arguments are captured before the call: the loader's syscall may reuse regs. */
	const int64_t nr = regs->rax;
	const uint64_t args[6] = {
		(uint64_t)regs->rdi, (uint64_t)regs->rsi, (uint64_t)regs->rdx,
		(uint64_t)regs->r10, (uint64_t)regs->r8,  (uint64_t)regs->r9,
	};
	int64_t ret;

	switch ((uint32_t)nr & ~ZP_X32_SYSCALL_BIT) {
	case ZP_NR_exit:
	case ZP_NR_exit_group:
		/* Does not return: the line goes out first. */
		zp_line_init(&l, buf, sizeof buf);
		zp_put_pid(&l);
		zp_put_call(&l, nr, args);
		zp_put_str(&l, " = ?");
		zp_emit(buf, zp_line_end(&l, buf));
		return zp_perform(regs);
	case ZP_NR_execve:
	case ZP_NR_execveat:
		/* Returns only when it fails. */
		zp_line_init(&l, buf, sizeof buf);
		zp_put_pid(&l);
		zp_put_call(&l, nr, args);
		zp_put_str(&l, " <unfinished ...>");
		zp_emit(buf, zp_line_end(&l, buf));
		ret = zp_perform(regs);
		zp_line_init(&l, buf, sizeof buf);
		zp_put_pid(&l);
		zp_put_str(&l, "<... ");
		zp_put_str(&l, zp_syscall_names[(uint32_t)nr & ~ZP_X32_SYSCALL_BIT]);
		zp_put_str(&l, " resumed>");
		zp_put_result(&l, ret);
		zp_emit(buf, zp_line_end(&l, buf));
		return ret;
	}

	ret = zp_perform(regs);
	zp_line_init(&l, buf, sizeof buf);
	zp_put_pid(&l);
	zp_put_call(&l, nr, args);
	zp_put_result(&l, ret);
	zp_emit(buf, zp_line_end(&l, buf));
	return ret;
}

/* ---- set-up: runs once, before the hook is installed ---- */

/*
 * Notification in a fork child. Nothing to do, on purpose: the hook holds no lock, no
 * buffer and no cached pid, and the log descriptor is shared with the parent (O_APPEND
 * keeps the lines of both whole).
 */
static void zp_on_fork_child(void)
{
}

/*
 * Attach (zpoline-go extension): keeps the loader's API and declares this library
 * vector-free (built with -mgeneral-regs-only) and clone-safe (every call goes through
 * api->syscall). Returns 0, or -EINVAL for an API table it cannot use.
 */
ZP_EXPORT int zpoline_hook_attach(const struct zpoline_api *api, struct zpoline_hook_desc *desc)
{
	if (api == NULL || desc == NULL || api->abi_version < 1 ||
	    api->size < offsetof(struct zpoline_api, syscall) + sizeof api->syscall ||
	    api->syscall == NULL)
		return -ZP_EINVAL;
	zp_api = api;
	__atomic_store_n(&zp_api_syscall, api->syscall, __ATOMIC_RELEASE);
	if (desc->size >= offsetof(struct zpoline_hook_desc, flags) + sizeof desc->flags)
		desc->flags = ZPOLINE_HOOK_VECTOR_FREE | ZPOLINE_HOOK_CLONE_SAFE;
	if (desc->size >= offsetof(struct zpoline_hook_desc, on_fork_child) + sizeof desc->on_fork_child)
		desc->on_fork_child = zp_on_fork_child;
	return 0;
}

/* Writes "libzpoline_hook_impl: <msg>[ <path>]: <ERRNO>; <tail>\n" to stderr. */
static void zp_warn(const char *msg, const char *path, long err, const char *tail)
{
	char buf[ZP_LINE_MAX];
	struct zp_line l;

	zp_line_init(&l, buf, sizeof buf);
	zp_put_str(&l, "libzpoline_hook_impl: ");
	zp_put_str(&l, msg);
	if (path != NULL) {
		zp_put_str(&l, " ");
		zp_put_str(&l, path);
	}
	if (err < 0) {
		zp_put_str(&l, ": ");
		if (-err < ZP_ERRNO_COUNT && zp_errno_names[-err] != NULL)
			zp_put_str(&l, zp_errno_names[-err]);
		else
			zp_put_dec(&l, -err);
	}
	zp_put_str(&l, "; ");
	zp_put_str(&l, tail);
	zp_raw3(ZP_NR_write, 2, (long)buf, (long)zp_line_end(&l, buf));
}

/*
 * Opens $ZPOLINE_LOG for appending. O_APPEND: every write lands at the end of the file,
 * so whole lines of all threads and processes interleave. O_CLOEXEC: a program started
 * with execve does not inherit the descriptor; its own copy of this library opens the file
 * again (the variable is inherited), so it does not leak a descriptor into the program.
 * A relative path is resolved against the working directory of each process at start-up;
 * pass an absolute path when children change directory. The descriptor is then moved
 * near the top of the descriptor limit, away from the low numbers programs use and expect
 * to be free (dup2 targets, "close all above 2" loops reaching a number the program
 * reuses). On failure lines go to stderr, after a warning.
 */
static void zp_open_log(void)
{
	struct zp_rlimit64 {
		uint64_t cur, max;
	} lim;
	long fd, hi, top;

	if (zp_log_path_too_long) {
		zp_warn("ZPOLINE_LOG is longer than PATH_MAX", NULL, 0, "logging to stderr");
		return;
	}
	if (zp_log_path[0] == '\0')
		return;
	fd = zp_raw6(ZP_NR_openat, AT_FDCWD, (long)zp_log_path,
		     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644, 0, 0);
	if (fd < 0) {
		zp_warn("cannot open ZPOLINE_LOG", zp_log_path, fd, "logging to stderr");
		return;
	}
	top = ZP_LOG_FD_TOP;
	if (zp_raw6(ZP_NR_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&lim, 0, 0) == 0 &&
	    lim.cur < (uint64_t)top)
		top = (long)lim.cur;
	if (top - ZP_LOG_FD_SPAN > fd) {
		hi = zp_raw3(ZP_NR_fcntl, fd, F_DUPFD_CLOEXEC, top - ZP_LOG_FD_SPAN);
		if (hi >= 0) {
			zp_raw3(ZP_NR_close, fd, 0, 0);
			fd = hi;
		}
	}
	__atomic_store_n(&zp_log_fd, (int)fd, __ATOMIC_RELEASE);
}

/*
 * Init (zpoline-rs ABI): opens the log once and returns the hook. Called by the loader
 * after zpoline_hook_attach; calling it again returns the same hook.
 */
ZP_EXPORT zpoline_hook_fn zpoline_hook_init(void)
{
	if (!__atomic_exchange_n(&zp_initialized, 1, __ATOMIC_ACQ_REL))
		zp_open_log();
	return zpoline_hook_function;
}

/*
 * Constructor: glibc's dynamic loader passes (argc, argv, envp) to every initialiser,
 * also in a dlmopen namespace, so the environment is read without a libc. The value is
 * copied: the program may replace its environment before zpoline_hook_init runs.
 */
__attribute__((constructor)) static void zp_ctor(int argc, char **argv, char **envp)
{
	static const char key[] = "ZPOLINE_LOG=";

	(void)argc;
	(void)argv;
	for (char **e = envp; e != NULL && *e != NULL; e++) {
		const char *s = *e;
		size_t i = 0, n = 0;

		while (key[i] != '\0' && s[i] == key[i])
			i++;
		if (key[i] != '\0')
			continue;
		s += i;
		while (s[n] != '\0' && n < sizeof zp_log_path - 1) {
			zp_log_path[n] = s[n];
			n++;
		}
		zp_log_path[n] = '\0';
		zp_log_path_too_long = s[n] != '\0';
		return;
	}
}
